//! The function binaries, the infra template and the sample events are derived from the route
//! table; this fails when any of them drifts from it.

use std::collections::{BTreeMap, BTreeSet};
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

fn template(path: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("infra").join(path)).unwrap())
        .unwrap()
}

/// The root template and every nested stack's, by their path under `infra/`.
fn templates() -> Vec<(String, serde_yaml::Value)> {
    let mut all = vec![("template.yaml".to_owned(), template("template.yaml"))];
    for stack in xtask::stacks() {
        all.push((stack.location(), template(&stack.location())));
    }
    all
}

/// The template holding a route's function: its module's nested stack.
fn stack_of(route: &'static shared::http::Route) -> serde_yaml::Value {
    template(&format!("stacks/{}.yaml", xtask::module_of(route)))
}

#[test]
fn every_route_and_worker_has_a_binary_a_function_and_an_event() {
    let root_template = template("template.yaml");
    let names = shared::routes::ALL
        .iter()
        .map(|r| r.name)
        .chain(shared::routes::WORKERS.iter().map(|w| w.name))
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
    }
    for name in shared::routes::WORKERS
        .iter()
        .map(|w| w.name)
        .chain([xtask::DISPATCHER])
    {
        let id = format!("{}Function", xtask::logical_id(name));
        let function = &root_template["Resources"][id.as_str()];
        assert_eq!(function["Type"], "AWS::Serverless::Function", "{id}");
        assert_eq!(
            function["Properties"]["CodeUri"],
            format!("../target/lambda/{name}/").as_str()
        );
        assert!(function.get("Metadata").is_none(), "{id} is prebuilt");
    }
    for route in shared::routes::ALL {
        let stack = stack_of(route);
        let id = format!("{}Function", xtask::logical_id(route.name));
        let resources = &stack["Resources"];
        let function = &resources[id.as_str()];
        assert_eq!(function["Type"], "AWS::Serverless::Function", "{id}");
        // The binary scripts/deploy built with the deploy profile: SAM has nothing to rebuild
        // (a build method would have it build each function again, with its own profile).
        assert_eq!(
            function["Properties"]["CodeUri"],
            format!("../../target/lambda/{}/", route.name).as_str()
        );
        assert!(function.get("Metadata").is_none(), "{id} is prebuilt");
        let api_route = &resources[format!("{id}Route").as_str()]["Properties"];
        assert_eq!(
            api_route["RouteKey"].as_str().unwrap(),
            format!("{} {}", route.method.as_str(), route.path)
        );
        let integration = &resources[format!("{id}Integration").as_str()]["Properties"];
        assert_eq!(integration["IntegrationType"], "AWS_PROXY");
        assert_eq!(integration["PayloadFormatVersion"], "2.0");
        let permission = &resources[format!("{id}Permission").as_str()];
        assert_eq!(permission["Type"], "AWS::Lambda::Permission", "{id}");
    }
    // The root declares each nested stack and hands it the shared API.
    for stack in xtask::stacks() {
        let found = root_template["Resources"]
            .as_mapping()
            .unwrap()
            .values()
            .any(|resource| {
                resource["Type"] == "AWS::Serverless::Application"
                    && resource["Properties"]["Location"] == stack.location().as_str()
            });
        assert!(found, "{} is not nested in the root", stack.location());
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
/// its role and one resource per event source; each has a log group, and each route an
/// integration, a route and a permission. Fail well before the limit, in the root and in every
/// nested stack, so a module is split deliberately.
#[test]
fn every_stack_stays_well_under_the_resource_limit() {
    for (path, template) in templates() {
        let resources = template["Resources"].as_mapping().unwrap();
        let mut expanded = 0;
        for (_, resource) in resources {
            expanded += match resource["Type"].as_str().unwrap() {
                "AWS::Serverless::Function" => {
                    2 + resource["Properties"]["Events"]
                        .as_mapping()
                        .map_or(0, |events| events.len())
                }
                _ => 1,
            };
        }
        assert!(
            expanded < 450,
            "{path}: {expanded} resources: split it into more nested stacks"
        );
    }
}

/// The function resource of any function, wherever its template is.
fn function_resource(function: &xtask::Function) -> serde_yaml::Value {
    let id = format!("{}Function", xtask::logical_id(function.name()));
    let template = match function {
        xtask::Function::Route(route) => stack_of(route),
        _ => template("template.yaml"),
    };
    template["Resources"][id.as_str()].clone()
}

/// No template carries a secret value: a function's environment names the secrets its
/// declaration lists (`COMMERCE_SECRET_IDS`, ids only) and its role may read exactly those, so a
/// function that pages lists cannot decrypt settings or sign tokens. Token signing secrets go to
/// the token-issuing functions alone.
#[test]
fn functions_get_secret_ids_never_values_and_read_only_their_own() {
    for (path, template) in templates() {
        let text = std::fs::read_to_string(root().join("infra").join(&path)).unwrap();
        for forbidden in ["{{resolve:", "COMMERCE_SECRET:", "_SEED:", "RootSecret"] {
            assert!(!text.contains(forbidden), "{path} holds {forbidden}");
        }
        let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
        for key in [
            "COMMERCE_STAFF_TOKEN_PUBLIC_KEYS",
            "COMMERCE_CUSTOMER_TOKEN_PUBLIC_KEYS",
        ] {
            assert!(!globals[key].is_null(), "{path}: {key}");
        }
    }
    let mut staff_signing = Vec::new();
    let mut customer_signing = Vec::new();
    for function in xtask::functions() {
        let name = function.name();
        let resource = function_resource(&function);
        let vars = &resource["Properties"]["Environment"]["Variables"];
        let policies = serde_yaml::to_string(&resource["Properties"]["Policies"]).unwrap();
        let declared = function.secrets();
        if declared.is_empty() {
            assert!(vars.is_null(), "{name} has its own environment");
            assert!(!policies.contains("secretsmanager"), "{name}");
            continue;
        }
        let mapping = vars.as_mapping().expect("variables");
        assert_eq!(mapping.len(), 1, "{name}: only the secret ids of its own");
        let ids = serde_yaml::to_string(&vars[shared::config::env::SECRET_IDS]).unwrap();
        for secret in shared::secrets::Secret::ALL {
            let parameter = xtask::secret_parameter(secret);
            let listed = ids.contains(&format!("{}=${{{parameter}}}", secret.name()));
            let readable = policies.contains(&format!("{parameter}}}-??????"))
                || policies.contains(&format!("!Ref {parameter}\n"));
            assert_eq!(listed, declared.contains(secret), "{name}: {secret:?} id");
            assert_eq!(
                readable,
                declared.contains(secret),
                "{name}: {secret:?} role"
            );
        }
        assert!(
            policies.contains("secretsmanager:BatchGetSecretValue"),
            "{name}"
        );
        assert_eq!(
            ids.matches('=').count(),
            declared.iter().count(),
            "{name}: {ids}"
        );
        if declared.contains(shared::secrets::Secret::StaffTokens) {
            staff_signing.push(name);
        }
        if declared.contains(shared::secrets::Secret::CustomerTokens) {
            customer_signing.push(name);
        }
    }
    staff_signing.sort_unstable();
    assert_eq!(
        staff_signing,
        vec![
            "accept_invite",
            "login",
            "refresh_token",
            "register_company"
        ]
    );
    customer_signing.sort_unstable();
    assert_eq!(
        customer_signing,
        vec!["store_login", "store_refresh", "store_register"]
    );
}

/// Functions that do nothing secret hold nothing: health, the documents, and the reads that
/// neither page nor sign.
#[test]
fn functions_that_need_no_secret_get_none() {
    for name in [
        "health",
        "openapi",
        "get_product",
        "store_get_product",
        "jwks",
        "get_me",
    ] {
        let function = xtask::functions()
            .into_iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert!(function.secrets().is_empty(), "{name}");
    }
    let settings_readers: Vec<&str> = xtask::functions()
        .iter()
        .filter(|f| f.secrets().contains(shared::secrets::Secret::Settings))
        .map(|f| f.name())
        .collect();
    assert_eq!(settings_readers, vec!["update_settings_group"]);
}

/// Read-only storefront functions record their API key's last use: their role allows that one
/// update, on the key partitions only, and no other function gets the statement.
#[test]
fn read_only_storefront_functions_may_update_only_key_partitions() {
    let mut granted = Vec::new();
    for route in shared::routes::ALL {
        let id = format!("{}Function", xtask::logical_id(route.name));
        let policies = serde_yaml::to_string(
            &stack_of(route)["Resources"][id.as_str()]["Properties"]["Policies"],
        )
        .unwrap();
        let has_grant = policies.contains("dynamodb:LeadingKeys");
        assert_eq!(has_grant, route.records_key_use(), "{}", route.name);
        // Every storefront route authenticates with a key; one that only reads declares the
        // update that records the key's use, and nothing else does.
        let storefront = matches!(
            route.access,
            shared::http::Access::StoreKey(_)
                | shared::http::Access::StoreCustomer(_)
                | shared::http::Access::StoreShopper(_)
        );
        assert_eq!(
            route.records_key_use(),
            storefront && route.aws.table == shared::http::TableAccess::Read,
            "{}",
            route.name
        );
        if route.records_key_use() {
            assert_eq!(
                route.aws.updates,
                &[shared::api_keys::store::KEY_PARTITIONS],
                "{}",
                route.name
            );
        }
        if has_grant {
            assert!(policies.contains("DynamoDBReadPolicy"), "{}", route.name);
            assert!(!policies.contains("DynamoDBCrudPolicy"), "{}", route.name);
            assert!(
                policies.contains(shared::api_keys::store::KEY_PARTITIONS),
                "{}",
                route.name
            );
            granted.push(route.name);
        }
    }
    for expected in ["store_info", "store_list_products", "store_get_product"] {
        assert!(granted.contains(&expected), "{expected} records key use");
    }
}

/// A function that only reads the table writes nowhere: no write policy on the table (beyond the
/// key-use grant on the key partitions), no bucket write, no queue send. A function that only
/// shows images reads company objects and nothing else in the bucket.
#[test]
fn read_only_functions_write_nowhere_but_their_key_use_grant() {
    use shared::http::{BlobAccess, TableAccess};
    let mut readers = 0;
    for route in shared::routes::ALL {
        let id = format!("{}Function", xtask::logical_id(route.name));
        let policies = serde_yaml::to_string(
            &stack_of(route)["Resources"][id.as_str()]["Properties"]["Policies"],
        )
        .unwrap();
        if route.aws.blobs == BlobAccess::Read {
            assert!(!policies.contains("S3CrudPolicy"), "{}", route.name);
            assert!(policies.contains("s3:GetObject"), "{}", route.name);
            assert!(
                policies.contains(&format!(
                    "${{FilesBucket}}/{}*",
                    shared::blobs::COMPANY_OBJECTS_PREFIX
                )),
                "{}",
                route.name
            );
        }
        if route.aws.table != TableAccess::Read {
            continue;
        }
        readers += 1;
        for write in [
            "DynamoDBCrudPolicy",
            "DynamoDBWritePolicy",
            "S3CrudPolicy",
            "S3WritePolicy",
            "SQSSendMessagePolicy",
            "s3:PutObject",
            "s3:DeleteObject",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        ] {
            assert!(!policies.contains(write), "{} may {write}", route.name);
        }
        // The one update a reader may make is the key-use grant, on the key partitions only.
        assert_eq!(
            policies.matches("dynamodb:UpdateItem").count(),
            usize::from(route.records_key_use()),
            "{}",
            route.name
        );
    }
    assert!(readers >= 30, "{readers} read-only functions");
}

/// Presigned uploads are temporary: the bucket expires everything under the uploads prefix (used
/// uploads, never-attached ones, and bytes sent again to a used URL) after a day.
#[test]
fn the_bucket_expires_uploads_after_a_day() {
    let root_template = template("template.yaml");
    let rules = root_template["Resources"]["FilesBucket"]["Properties"]["LifecycleConfiguration"]
        ["Rules"]
        .as_sequence()
        .expect("lifecycle rules on the files bucket");
    let uploads: Vec<_> = rules
        .iter()
        .filter(|rule| rule["Prefix"].as_str() == Some(shared::blobs::UPLOADS_PREFIX))
        .collect();
    assert_eq!(uploads.len(), 1, "{rules:?}");
    assert_eq!(uploads[0]["Status"].as_str(), Some("Enabled"));
    assert_eq!(uploads[0]["ExpirationInDays"].as_u64(), Some(1));
}

/// API Gateway's JWT authorizer stands in front of every route that needs a staff token (and
/// its HEAD twin), so a request without a valid one is refused before any function runs; the
/// public routes (sign-in, sign-up, refresh, reset, invitation acceptance, the documents) and
/// every storefront route are left to their functions.
#[test]
fn the_gateway_checks_staff_tokens_on_every_protected_route_and_no_other() {
    let root_template = template("template.yaml");
    let authorizer = &root_template["Resources"]["AdminAuthorizer"]["Properties"];
    assert_eq!(authorizer["AuthorizerType"], "JWT");
    assert_eq!(
        authorizer["JwtConfiguration"]["Audience"],
        serde_yaml::to_value(vec!["admin"]).unwrap()
    );
    assert_eq!(
        authorizer["IdentitySource"],
        serde_yaml::to_value(vec!["$request.header.Authorization"]).unwrap()
    );
    // The authorizer's issuer is the `iss` every function puts in and expects of tokens.
    let issuer = serde_yaml::to_string(&authorizer["JwtConfiguration"]["Issuer"]).unwrap();
    for (path, template) in templates() {
        let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
        assert_eq!(
            serde_yaml::to_string(&globals[shared::config::env::TOKEN_ISSUER]).unwrap(),
            issuer,
            "{path}"
        );
    }

    let mut public_admin = Vec::new();
    for route in shared::routes::ALL {
        let protected = matches!(
            route.access,
            shared::http::Access::Staff(_) | shared::http::Access::StaffSelf
        );
        assert_eq!(xtask::gateway_checks_staff_token(route), protected);
        let stack = stack_of(route);
        let id = format!("{}Function", xtask::logical_id(route.name));
        let mut keys = vec![format!("{id}Route")];
        if route.method == shared::http::Method::Get {
            keys.push(format!("{id}HeadRoute"));
        }
        for key in keys {
            let properties = &stack["Resources"][key.as_str()]["Properties"];
            assert!(!properties.is_null(), "{key}");
            let names_it = properties["AuthorizationType"] == "JWT"
                && serde_yaml::to_string(&properties["AuthorizerId"])
                    .unwrap()
                    .contains("AdminAuthorizer");
            assert_eq!(names_it, protected, "{key}");
            if !protected {
                assert!(properties["AuthorizationType"].is_null(), "{key}");
                assert!(properties["AuthorizerId"].is_null(), "{key}");
            }
        }
        if route.path.starts_with("/admin") && !protected {
            public_admin.push(route.name);
        }
    }
    public_admin.sort_unstable();
    assert_eq!(
        public_admin,
        vec![
            "accept_invite",
            "confirm_password_reset",
            "login",
            "refresh_token",
            "register_company",
            "request_password_reset"
        ]
    );
}

/// Every path parameter a handler reads (`ctx.param("...")` in its function) is declared in its
/// route's path: a misspelt or undeclared name would read an empty string, not fail. And a
/// handler that reads `If-Match` documents the codes that header can answer.
#[test]
fn every_path_parameter_a_handler_reads_is_declared() {
    let src = root().join("shared/src");
    let mut checked = 0;
    let mut if_match_readers = 0;
    for (path, route) in shared::routes::named() {
        // `catalog::images::ATTACH_IMAGE` is declared in shared/src/catalog/images.rs.
        let mut parts: Vec<&str> = path.split("::").collect();
        let static_name = parts.pop().unwrap();
        let file = src.join(format!("{}.rs", parts.join("/")));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{file:?}"));
        let declaration = &text[text
            .find(&format!("pub static {static_name}: Route"))
            .unwrap_or_else(|| panic!("{path}"))..];
        let handler = declaration
            .lines()
            .find_map(|l| l.trim().strip_prefix("handler: "))
            .map(|h| h.trim_end_matches(','))
            .unwrap_or_else(|| panic!("{path}: handler"));
        let handler = handler.rsplit("::").next().unwrap();
        let Some(start) = text.find(&format!("fn {handler}(")) else {
            // A handler from another file (shared by several routes) is checked there.
            continue;
        };
        let body_end = text[start..]
            .find("\n}\n")
            .map(|i| start + i)
            .unwrap_or(text.len());
        let body = &text[start..body_end];
        // A handler that reads If-Match documents 412 and a malformed If-Match.
        if body.contains(".if_match()") {
            let codes = shared::http::openapi::route_codes(route);
            assert!(
                codes.iter().any(|c| c.name == "precondition_failed")
                    && codes.iter().any(|c| c.name == "invalid_if_match"),
                "{path} reads If-Match but does not document precondition_failed"
            );
            if_match_readers += 1;
        }
        let declared = route.path_params();
        for read in body.split("param(\"").skip(1) {
            let name = read.split('"').next().unwrap();
            assert!(
                declared.contains(&name),
                "{path} reads path parameter `{name}`, but its path is {}",
                route.path
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 30 && if_match_readers >= 20,
        "only {checked} reads and {if_match_readers} If-Match readers found: is the scan still right?"
    );
}

/// Every event kind a module declares is in the catalog (`routes::event_kinds`, from which
/// docs/events.md is generated) once, named `<resource>.<past-tense verb>` and described.
#[test]
fn every_event_kind_is_catalogued_once() {
    let catalog: Vec<&str> = shared::routes::event_kinds()
        .iter()
        .flat_map(|(_, kinds)| kinds.iter())
        .map(|kind| {
            assert!(!kind.description.trim().is_empty(), "{}", kind.name);
            assert!(!kind.data.trim().is_empty(), "{}", kind.name);
            let (resource, verb) = kind.name.split_once('.').expect("resource.verb");
            for part in [resource, verb] {
                assert!(
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{}",
                    kind.name
                );
            }
            kind.name
        })
        .collect();
    let mut unique = catalog.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), catalog.len(), "a kind is listed twice");

    // Every kind declared anywhere (an `event_kinds!` block) is catalogued.
    let mut declared = 0;
    let mut stack = vec![root().join("shared/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.ends_with("events/kinds.rs") {
                continue; // the macro itself, and its example
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let Some(block) = text.split("event_kinds! {").nth(1) else {
                continue;
            };
            for line in block.lines().take_while(|l| l.trim() != "}") {
                let Some((_, rest)) = line.split_once("= \"") else {
                    continue;
                };
                let name = rest.split('"').next().unwrap();
                assert!(
                    catalog.contains(&name),
                    "{name} ({path:?}) is not in routes::event_kinds"
                );
                declared += 1;
            }
        }
    }
    assert_eq!(declared, catalog.len());
}

/// Every error code is declared with one status and a meaning (one code, `insufficient_stock`,
/// is shared by two modules with their own statuses: a staff stock change answers 422, a
/// shopper's cart 409), is in the catalog
/// (`routes::error_codes`) and so in the OpenAPI document's `ErrorCode` schema, and is
/// documented on at least one route (except the router's own answers).
#[test]
fn every_error_code_is_catalogued_with_one_status_and_documented_by_a_route() {
    let catalog: Vec<shared::http::ErrorCode> = shared::routes::error_codes()
        .iter()
        .flat_map(|(_, codes)| codes.iter().copied())
        .collect();
    let mut by_name: BTreeMap<&str, u16> = BTreeMap::new();
    for code in &catalog {
        assert!(
            !code.name.is_empty()
                && code
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
            "{}",
            code.name
        );
        assert!((400..600).contains(&code.status), "{}", code.name);
        assert!(
            code.description.ends_with('.'),
            "{}: {}",
            code.name,
            code.description
        );
        by_name.entry(code.name).or_insert(code.status);
    }
    for (_, codes) in shared::routes::error_codes() {
        let mut in_module: BTreeMap<&str, u16> = BTreeMap::new();
        for code in codes {
            let status = in_module.entry(code.name).or_insert(code.status);
            assert_eq!(*status, code.status, "{} answers two statuses", code.name);
        }
    }
    let shared_names: Vec<&str> = shared::routes::error_codes()
        .iter()
        .flat_map(|(_, codes)| codes.iter())
        .filter(|c| {
            catalog
                .iter()
                .any(|o| o.name == c.name && o.status != c.status)
        })
        .map(|c| c.name)
        .collect();
    assert!(
        shared_names.iter().all(|n| *n == "insufficient_stock"),
        "{shared_names:?} answer two statuses"
    );

    let documented: BTreeSet<&str> = shared::routes::ALL
        .iter()
        .flat_map(|route| shared::http::openapi::route_codes(route))
        .map(|code| code.name)
        .collect();
    for name in by_name.keys() {
        assert!(
            documented.contains(name) || ["route_not_found", "method_not_allowed"].contains(name),
            "no route documents `{name}`"
        );
    }
    for name in &documented {
        assert!(
            by_name.contains_key(name),
            "`{name}` is not in routes::error_codes"
        );
    }

    let document = serde_json::to_value(shared::routes::openapi_document()).unwrap();
    let schema: BTreeSet<&str> = document["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(schema, by_name.keys().copied().collect::<BTreeSet<_>>());
    assert_eq!(
        document["components"]["schemas"]["Problem"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
}

/// Each operation's error responses list the codes it can answer, so a client can switch on
/// them: creating a product can answer `sku_taken`; listing products cannot.
#[test]
fn each_route_documents_the_codes_it_answers() {
    let document = serde_json::to_value(shared::routes::openapi_document()).unwrap();
    let codes = |path: &str, method: &str, status: &str| -> Vec<String> {
        let response = &document["paths"][path][method]["responses"][status];
        response["content"]["application/problem+json"]["schema"]["allOf"][1]["properties"]["code"]
            ["enum"]
            .as_array()
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let create = codes("/admin/products", "post", "409");
    for code in [
        "sku_taken",
        "handle_taken",
        "conflict",
        "request_in_progress",
    ] {
        assert!(create.contains(&code.to_owned()), "{code}: {create:?}");
    }
    assert!(codes("/admin/products", "get", "409").is_empty());
    assert_eq!(codes("/admin/products", "get", "400"), ["invalid_cursor"]);
    assert_eq!(
        codes("/store/products", "get", "401"),
        ["api_key_required", "invalid_api_key"]
    );
    assert_eq!(
        codes("/admin/auth/login", "post", "401"),
        ["invalid_credentials"]
    );
    let description = document["paths"]["/admin/products"]["post"]["responses"]["409"]
        ["description"]
        .as_str()
        .unwrap();
    assert!(description.contains("`sku_taken`: Another variant of the company has this SKU."));
}
