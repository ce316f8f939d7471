//! The function binaries, the infra template and the sample events are derived from the route
//! table; this fails when any of them drifts from it.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn generated_files_match_the_route_table() {
    let stale = xtask::stale(root());
    assert!(
        stale.is_empty(),
        "run `cargo xtask codegen`; stale or missing: {stale:?}"
    );
}

#[test]
fn every_route_and_worker_has_a_binary_a_function_and_an_event() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("infra/template.yaml")).unwrap())
            .unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let names = shared::routes::ALL
        .iter()
        .map(|r| r.name)
        .chain(shared::workers::ALL.iter().map(|w| w.name))
        .chain([xtask::DISPATCHER]);
    for name in names {
        assert!(
            root().join(format!("functions/src/bin/{name}.rs")).exists(),
            "{name}"
        );
        assert!(
            root().join(format!("events/{name}.json")).exists(),
            "{name}"
        );
        let id = format!("{}Function", xtask::logical_id(name));
        let function = &resources[serde_yaml::Value::from(id.clone())];
        assert_eq!(function["Type"], "AWS::Serverless::Function", "{id}");
        assert_eq!(function["Metadata"]["BuildProperties"]["Binary"], name);
    }
    for route in shared::routes::ALL {
        let id = format!("{}Function", xtask::logical_id(route.name));
        let api = &resources[serde_yaml::Value::from(id)]["Properties"]["Events"]["Api"];
        assert_eq!(api["Properties"]["Path"], route.path);
        assert_eq!(
            api["Properties"]["Method"].as_str().unwrap(),
            route.method.as_str().to_ascii_lowercase()
        );
    }
}

#[test]
fn route_names_and_paths_are_unique() {
    let mut names: Vec<&str> = shared::routes::ALL.iter().map(|r| r.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate route names");
    let mut keys: Vec<String> = shared::routes::ALL
        .iter()
        .map(|r| format!("{} {}", r.method.as_str(), r.path))
        .collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    assert_eq!(before, keys.len(), "duplicate method and path");
}

/// CloudFormation allows 500 resources per stack. SAM expands each function into the function,
/// its role and, per API event, a permission; each has a log group. Fail well before the limit so
/// the split into nested stacks happens deliberately.
#[test]
fn the_stack_stays_well_under_the_resource_limit() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("infra/template.yaml")).unwrap())
            .unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut expanded = 0;
    for (_, resource) in resources {
        expanded += match resource["Type"].as_str().unwrap() {
            "AWS::Serverless::Function" => {
                2 + resource["Properties"]["Events"]
                    .as_mapping()
                    .map_or(0, |events| events.len())
            }
            "AWS::Serverless::HttpApi" => 2,
            _ => 1,
        };
    }
    assert!(
        expanded < 450,
        "{expanded} resources: split the template into nested stacks"
    );
}

/// Only the functions that issue staff tokens receive the signing seed; every function gets the
/// public keys.
#[test]
fn only_token_issuing_functions_get_the_signing_seed() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("infra/template.yaml")).unwrap())
            .unwrap();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(!globals["COMMERCE_STAFF_TOKEN_PUBLIC_KEYS"].is_null());
    assert!(globals["COMMERCE_STAFF_TOKEN_SEED"].is_null());
    let mut signing = Vec::new();
    for route in shared::routes::ALL {
        let id = format!("{}Function", xtask::logical_id(route.name));
        let seed = &template["Resources"][id.as_str()]["Properties"]["Environment"]["Variables"]
            ["COMMERCE_STAFF_TOKEN_SEED"];
        assert_eq!(
            !seed.is_null(),
            route.aws.signs_staff_tokens,
            "{}",
            route.name
        );
        if route.aws.signs_staff_tokens {
            signing.push(route.name);
        }
    }
    signing.sort_unstable();
    assert_eq!(
        signing,
        vec![
            "accept_invite",
            "login",
            "refresh_token",
            "register_company"
        ]
    );

    // Customer tokens have their own seed, given only to the storefront sign-in functions.
    assert!(!globals["COMMERCE_CUSTOMER_TOKEN_PUBLIC_KEYS"].is_null());
    assert!(globals["COMMERCE_CUSTOMER_TOKEN_SEED"].is_null());
    let mut signing = Vec::new();
    for route in shared::routes::ALL {
        let id = format!("{}Function", xtask::logical_id(route.name));
        let vars = &template["Resources"][id.as_str()]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            !vars["COMMERCE_CUSTOMER_TOKEN_SEED"].is_null(),
            route.aws.signs_customer_tokens,
            "{}",
            route.name
        );
        assert!(
            !(route.aws.signs_customer_tokens && route.aws.signs_staff_tokens),
            "{} would hold both seeds",
            route.name
        );
        if route.aws.signs_customer_tokens {
            signing.push(route.name);
        }
    }
    signing.sort_unstable();
    assert_eq!(
        signing,
        vec!["store_login", "store_refresh", "store_register"]
    );
}
