//! The API reference at `/docs`: Swagger UI (vendored under `sandbox/assets/swagger-ui`, served
//! by the sandbox, so it works offline) on `/openapi.json`, where requests can be sent with a
//! staff token, a storefront key and a customer token entered under "Authorize"; below it, the
//! route table as plain HTML, readable without scripts.

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
        Access::StoreShopper(scope) => format!(
            "storefront key with <code>{}</code>, and a customer token for a customer's cart",
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
<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #222; }}
.intro, .routes {{ margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; }}
.routes table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
.routes th, .routes td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
code {{ background: #f4f4f4; padding: 0 .2rem; }}
</style></head>
<body>
<div class=\"intro\">
<h1>Commerce API</h1>
<p>Try any route below: sign in with <code>POST /admin/auth/login</code> (or register a company),
then choose <b>Authorize</b> and paste the <code>access_token</code> as the staff token; paste a
storefront key (<code>pk_...</code>) for <code>/store</code> routes, and a customer token for the
signed-in shopper's routes. The machine-readable description is at
<a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1). Errors are
<code>application/problem+json</code> with a stable <code>code</code>.</p>
</div>
<div id=\"swagger-ui\"></div>
<script src=\"/docs/swagger-ui-bundle.js\"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  filter: true,
}});
</script>
<details class=\"routes\"><summary>Every route, as a plain table</summary>
{body}</details>
</body></html>
"
    )
}

/// The vendored Swagger UI files, by the name `/docs/<name>` serves.
pub fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    match name {
        "swagger-ui-bundle.js" => Some((
            "text/javascript; charset=utf-8",
            include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
        )),
        "swagger-ui.css" => Some((
            "text/css; charset=utf-8",
            include_bytes!("../assets/swagger-ui/swagger-ui.css"),
        )),
        _ => None,
    }
}
