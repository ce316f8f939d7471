//! The shared crate's modules import in one direction: foundations, then ports and their
//! adapters, then the application, then the platform (auth, http, events), then the domain
//! modules, then the route table. This reads every `crate::<module>` reference in `shared/src`
//! (tests excluded) and fails on a reference to a higher layer, or on a cycle among modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Layers, lowest first. A module may use modules of its own layer or below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "clock",
            "ids",
            "observe",
            "sealed",
            "ttl_cache",
            "aws",
            "secrets",
            "access",
            "identity",
        ],
    ),
    ("ports and adapters", &["store", "queue", "blobs", "mail"]),
    ("application", &["tokens", "config", "app"]),
    ("platform", &["http", "validate", "auth", "events"]),
    (
        "domain",
        &[
            "api_keys",
            "catalog",
            "companies",
            "customers",
            "iam",
            "settings",
            "staff",
            "system",
            "workers",
        ],
    ),
    ("composition", &["authentication", "routes"]),
];

fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap();
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Every `crate::<module>` a module's non-test code names, by module.
fn references() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("shared/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("lib.rs") {
                continue;
            }
            let module = module_of(&src, &path);
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let targets = graph.entry(module.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                // Doc links and comments name modules too; only code counts.
                let line_start = code[..i].rfind('\n').map_or(0, |n| n + 1);
                let line = code[line_start..].lines().next().unwrap_or("").trim_start();
                if line.starts_with("//") {
                    continue;
                }
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // `crate::some_macro!` names an exported macro, not a module.
                let is_macro = code[i + 7 + name.len()..].starts_with('!');
                if !name.is_empty() && name != module && !is_macro {
                    targets.insert(name);
                }
            }
        }
    }
    graph
}

/// A module's layer; one not listed is a domain module (a new module needs no entry here).
fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
        .unwrap_or_else(|| {
            LAYERS
                .iter()
                .position(|(name, _)| *name == "domain")
                .unwrap()
        })
}

#[test]
fn modules_import_only_their_layer_and_below() {
    let graph = references();
    let mut upward = BTreeSet::new();
    for (from, targets) in &graph {
        for to in targets {
            if layer(to) > layer(from) {
                upward.insert((from.clone(), to.clone()));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "these modules import a higher layer: {upward:?} (see docs/architecture.md, Layers)"
    );

    // Nor is there a cycle (within a layer either).
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = graph
        .iter()
        .map(|(from, targets)| (from.as_str(), targets.iter().map(String::as_str).collect()))
        .collect();
    // Repeatedly remove modules nothing left depends on; what stays is in a cycle.
    loop {
        let leaves: Vec<&str> = remaining
            .keys()
            .copied()
            .filter(|m| remaining.values().all(|targets| !targets.contains(m)))
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            remaining.remove(leaf);
        }
    }
    assert!(
        remaining.is_empty(),
        "import cycle among {:?}",
        remaining.keys().collect::<Vec<_>>()
    );
}
