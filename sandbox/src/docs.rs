//! A readable API reference at `/docs`, rendered from the route table with no script or external
//! asset, so it works offline.

use shared::http::route::Route;
use shared::http::Access;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn access(access: Access) -> String {
    match access {
        Access::Public => "public".into(),
        Access::Staff(permission) => {
            format!("staff token with <code>{}</code>", escape(permission))
        }
        Access::StaffSelf => "any staff token".into(),
        Access::StoreKey(scope) => format!("storefront key with <code>{}</code>", escape(scope)),
        Access::StoreCustomer(scope) => format!(
            "storefront key with <code>{}</code> and a customer token",
            escape(scope)
        ),
    }
}

pub fn render(routes: &[&'static Route]) -> String {
    let mut tags: Vec<&str> = routes.iter().map(|r| r.tag).collect();
    tags.sort_unstable();
    tags.dedup();
    let mut body = String::new();
    for tag in tags {
        body.push_str(&format!("<h2>{}</h2>\n<table>\n<tr><th>Method</th><th>Path</th><th>What it does</th><th>Who may call it</th></tr>\n", escape(tag)));
        for route in routes.iter().filter(|r| r.tag == tag) {
            let doc = (route.doc)();
            body.push_str(&format!(
                "<tr><td><b>{}</b></td><td><code>{}</code></td><td>{}{}</td><td>{}</td></tr>\n",
                route.method.as_str(),
                escape(route.path),
                escape(route.summary),
                doc.description
                    .map(|d| format!("<br><small>{}</small>", escape(d)))
                    .unwrap_or_default(),
                access(route.access)
            ));
        }
        body.push_str("</table>\n");
    }
    format!(
        "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Commerce API</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
code {{ background: #f4f4f4; padding: 0 .2rem; }}
</style></head>
<body>
<h1>Commerce API</h1>
<p>The machine-readable description is at <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1).
Admin routes take <code>Authorization: Bearer &lt;staff token&gt;</code>; storefront routes take
<code>X-Api-Key</code>. Errors are <code>application/problem+json</code> with a stable <code>code</code>.</p>
{body}</body></html>
"
    )
}
