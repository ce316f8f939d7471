//! The catalog: products, options, variants, images, attributes, categories, and the storefront's
//! view of them, through the router on every backend.

use commerce_tests::api::{Api, Call, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::store::Key;

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";

struct Shop {
    id: String,
    staff: String,
    key: String,
}

async fn shop(api: &Api, handle: &str) -> Shop {
    let r = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": format!("{handle} Goods"), "handle": handle, "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana Owner", "email": format!("ana@{handle}.example.com"), "password": PASSWORD}
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let staff = r.body["access_token"].as_str().unwrap().to_owned();
    let key = api
        .send(api.post("/admin/api-keys").token(&staff).json(
            json!({"name": "Web", "scopes": ["store.read", "products.read", "categories.read"]}),
        ))
        .await;
    Shop {
        id: r.body["company"]["id"].as_str().unwrap().to_owned(),
        staff,
        key: key.body["secret"].as_str().unwrap().to_owned(),
    }
}

impl Shop {
    fn admin(&self, call: Call) -> Call {
        call.token(&self.staff)
    }
    fn store(&self, call: Call) -> Call {
        call.header("x-api-key", &self.key)
    }
}

async fn product(api: &Api, shop: &Shop, body: Value) -> Value {
    let r = api
        .send(shop.admin(api.post("/admin/products")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

fn eur(amount: i64) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

fn ids(r: &Response) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn field_errors(r: &Response) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn events_of(api: &Api, tenant: &str) -> Vec<String> {
    api.event_kinds(tenant).await
}

// Products ----------------------------------------------------------------------------------------

async fn products_are_created_validated_changed_and_deleted(api: Api) {
    let a = shop(&api, "acme").await;
    let created = product(
        &api,
        &a,
        json!({"title": "Crème Brûlée Tee", "description": "**Soft** cotton", "description_format": "markdown", "tags": ["summer", "tees"], "vendor": "Acme", "product_type": "T-Shirt"}),
    )
    .await;
    assert_eq!(
        created["handle"], "creme-brulee-tee",
        "a slug from the title"
    );
    assert_eq!(created["status"], "draft");
    assert!(created["id"].as_str().unwrap().starts_with("prod_"));
    let id = created["id"].as_str().unwrap().to_owned();

    let taken = api
        .send(
            a.admin(api.post("/admin/products"))
                .json(json!({"title": "Other", "handle": "creme-brulee-tee"})),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "handle_taken"));
    let invalid = api
        .send(a.admin(api.post("/admin/products")).json(json!({
            "title": "", "handle": "Bad Handle", "status": "published", "tags": ["x"]
        })))
        .await;
    assert_eq!(invalid.status, 422);
    let invalid = api
        .send(a.admin(api.post("/admin/products")).json(json!({
            "title": "", "handle": "Bad Handle", "category_ids": ["cat_01JSAMPLE0000000000000000"], "attributes": {"colour": "red"},
            "options": [{"name": "A", "values": ["1"]}, {"name": "B", "values": ["1"]}, {"name": "C", "values": ["1"]}, {"name": "D", "values": ["1"]}]
        })))
        .await;
    assert_eq!(invalid.status, 422);
    let fields = field_errors(&invalid);
    for f in [
        "title",
        "handle",
        "category_ids[0]",
        "attributes.colour",
        "options",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }

    let patched = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}")))
                .header("if-match", "\"1\"")
                .json(json!({"title": "Crème Tee", "handle": "creme-tee", "status": "active"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["version"], 2);
    assert_eq!(patched.header("etag"), Some("\"2\""));
    let stale = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}")))
                .header("if-match", "\"1\"")
                .json(json!({"title": "Late"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    // The old handle is free again; the new one is taken.
    product(
        &api,
        &a,
        json!({"title": "Reuse", "handle": "creme-brulee-tee"}),
    )
    .await;
    let got = api
        .send(a.admin(api.get(&format!("/admin/products/{id}"))))
        .await;
    assert_eq!(got.body["title"], "Crème Tee");

    let deleted = api
        .send(a.admin(api.delete(&format!("/admin/products/{id}"))))
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        api.send(a.admin(api.get(&format!("/admin/products/{id}"))))
            .await
            .status,
        404
    );
    product(&api, &a, json!({"title": "Again", "handle": "creme-tee"})).await;
    let events = events_of(&api, &a.id).await;
    for kind in ["product.created", "product.updated", "product.deleted"] {
        assert!(events.iter().any(|e| e == kind), "{kind} in {events:?}");
    }
}

/// A description is rendered and sanitised when it is written; the storefront serves the stored
/// result, which follows every change of the text or its format.
async fn descriptions_are_rendered_when_written(api: Api) {
    let a = shop(&api, "quill").await;
    let created = product(
        &api,
        &a,
        json!({"title": "Ink", "status": "active", "description": "**Deep** blue <script>alert(1)</script>", "description_format": "markdown"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        created["description"],
        "**Deep** blue <script>alert(1)</script>"
    );
    assert_eq!(
        created["description_html"],
        "<p><strong>Deep</strong> blue </p>\n"
    );
    let page = api.send(a.store(api.get("/store/products/ink"))).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["description_html"], created["description_html"]);

    // The same text read as HTML: no Markdown, and still no script.
    let changed = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}")))
                .json(json!({"description_format": "html"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["description_html"], "**Deep** blue ");
    let changed = api
        .send(a.admin(api.patch(&format!("/admin/products/{id}"))).json(
            json!({"description": "<p onclick=\"x()\">Dark <a href=\"javascript:x\">ink</a></p>"}),
        ))
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let page = api.send(a.store(api.get("/store/products/ink"))).await;
    assert_eq!(
        page.body["description_html"],
        "<p>Dark <a rel=\"noopener noreferrer\">ink</a></p>"
    );

    // Within the source limit, but rendering to more HTML than a product may store: refused,
    // and nothing changes.
    let swollen = "*a* ".repeat(20_000);
    assert!(swollen.len() <= 100_000);
    let refused = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}")))
                .json(json!({"description": swollen, "description_format": "markdown"})),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(field_errors(&refused), ["description"]);
    let stored = api
        .send(a.admin(api.get(&format!("/admin/products/{id}"))))
        .await;
    assert_eq!(stored.body["description_format"], "html");
    assert_eq!(
        stored.body["description_html"],
        page.body["description_html"]
    );
}

async fn options_and_variants_follow_their_rules(api: Api) {
    let a = shop(&api, "acme").await;
    let p = product(
        &api,
        &a,
        json!({"title": "Tee", "options": [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Colour", "values": ["Red", "Blue"]}]}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_owned();
    let generated = api
        .send(a.admin(api.post(&format!("/admin/products/{id}/variants/generate"))))
        .await;
    assert_eq!(generated.status, 200, "{:?}", generated.body);
    assert_eq!(generated.body["data"].as_array().unwrap().len(), 6, "3 × 2");
    let again = api
        .send(a.admin(api.post(&format!("/admin/products/{id}/variants/generate"))))
        .await;
    assert!(
        again.body["data"].as_array().unwrap().is_empty(),
        "none twice"
    );
    let listed = api
        .send(a.admin(api.get(&format!("/admin/products/{id}/variants"))))
        .await;
    let variants = listed.body["data"].as_array().unwrap().clone();
    assert_eq!(variants.len(), 6);
    let combos: std::collections::HashSet<String> =
        variants.iter().map(|v| v["options"].to_string()).collect();
    assert_eq!(combos.len(), 6, "each combination once");

    let first = variants[0]["id"].as_str().unwrap().to_owned();
    let priced = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}/variants/{first}")))
                .header("if-match", "\"1\"")
                .json(
                    json!({"sku": "TEE-S-RED", "price": eur(1999), "compare_at_price": eur(2499)}),
                ),
        )
        .await;
    assert_eq!(priced.status, 200, "{:?}", priced.body);
    assert_eq!(priced.body["sku"], "TEE-S-RED");
    let wrong_currency = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}/variants/{first}")))
                .json(json!({"price": {"amount": 100, "currency": "USD"}})),
        )
        .await;
    assert_eq!(wrong_currency.status, 422);
    assert_eq!(wrong_currency.body["errors"][0]["field"], "price.currency");
    let duplicate = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"options": {"Size": "S", "Colour": "Red"}})),
        )
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (409, "duplicate_combination")
    );
    let unknown_value = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"options": {"Size": "XXL", "Colour": "Red"}})),
        )
        .await;
    assert_eq!(unknown_value.status, 422);

    // A SKU is unique within the company, across products.
    let other = product(&api, &a, json!({"title": "Other"})).await;
    let other_id = other["id"].as_str().unwrap();
    let clash = api
        .send(
            a.admin(api.post(&format!("/admin/products/{other_id}/variants")))
                .json(json!({"sku": "tee-s-red"})),
        )
        .await;
    assert_eq!((clash.status, clash.code()), (409, "sku_taken"));

    // Options: at most three; a used value cannot go; renaming carries into variants.
    let renamed = api
        .send(
            a.admin(api.patch(&format!(
                "/admin/products/{id}/options/{}",
                p["options"][1]["id"].as_str().unwrap()
            )))
            .json(json!({"name": "Color"})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert!(renamed.body["variants"][0]["options"]
        .get("Color")
        .is_some());
    let in_use = api
        .send(
            a.admin(api.patch(&format!(
                "/admin/products/{id}/options/{}",
                p["options"][0]["id"].as_str().unwrap()
            )))
            .json(json!({"values": ["S", "M"]})),
        )
        .await;
    assert_eq!((in_use.status, in_use.code()), (409, "value_in_use"));
    let third = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/options")))
                .json(json!({"name": "Fit", "values": ["Slim", "Loose"]})),
        )
        .await;
    assert_eq!(third.status, 201);
    let fourth = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/options")))
                .json(json!({"name": "Sleeve", "values": ["Short"]})),
        )
        .await;
    assert_eq!(fourth.status, 422);
    assert!(
        fourth.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("3 options")
            || fourth.body["errors"].to_string().contains("3 options")
    );
    let regenerated = api
        .send(a.admin(api.post(&format!("/admin/products/{id}/variants/generate"))))
        .await;
    assert_eq!(
        regenerated.body["data"].as_array().unwrap().len(),
        6,
        "the Loose half"
    );

    let removed = api
        .send(a.admin(api.delete(&format!("/admin/products/{id}/variants/{first}"))))
        .await;
    assert_eq!(removed.status, 204);
    // The SKU is free again.
    let reused = api
        .send(
            a.admin(api.post(&format!("/admin/products/{other_id}/variants")))
                .json(json!({"sku": "TEE-S-RED", "price": eur(500)})),
        )
        .await;
    assert_eq!(reused.status, 201, "{:?}", reused.body);
    let events = events_of(&api, &a.id).await;
    for kind in ["variant.created", "variant.updated", "variant.deleted"] {
        assert!(events.iter().any(|e| e == kind), "{kind} in {events:?}");
    }
}

async fn concurrent_writes_keep_handles_and_skus_unique(api: Api) {
    let a = shop(&api, "acme").await;
    let api = std::sync::Arc::new(api);
    let products: Vec<String> = {
        let mut out = Vec::new();
        for i in 0..6 {
            out.push(
                product(&api, &a, json!({"title": format!("P{i}")})).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        out
    };
    let tasks = products.iter().map(|id| {
        let (api, staff, id) = (api.clone(), a.staff.clone(), id.clone());
        tokio::spawn(async move {
            api.send(
                api.post(&format!("/admin/products/{id}/variants"))
                    .token(&staff)
                    .json(json!({"sku": "ONE-SKU"})),
            )
            .await
            .status
        })
    });
    let statuses: Vec<u16> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );

    let tasks = (0..6).map(|i| {
        let (api, staff) = (api.clone(), a.staff.clone());
        tokio::spawn(async move {
            api.send(
                api.post("/admin/products")
                    .token(&staff)
                    .json(json!({"title": format!("Same {i}"), "handle": "same-handle"})),
            )
            .await
            .status
        })
    });
    let statuses: Vec<u16> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );

    // Concurrent variant additions to one product all land (they retry on the product version).
    let target = products[0].clone();
    let tasks = (0..5).map(|i| {
        let (api, staff, target) = (api.clone(), a.staff.clone(), target.clone());
        tokio::spawn(async move {
            api.send(
                api.post(&format!("/admin/products/{target}/variants"))
                    .token(&staff)
                    .json(json!({"sku": format!("PAR-{i}")})),
            )
            .await
            .status
        })
    });
    let statuses: Vec<u16> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let landed = statuses.iter().filter(|s| **s == 201).count();
    let stored = api
        .send(
            api.get(&format!("/admin/products/{target}/variants"))
                .token(&a.staff),
        )
        .await;
    // The product had the ONE-SKU variant if it won above.
    let skus: Vec<String> = stored.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["sku"].as_str().map(str::to_owned))
        .filter(|s| s.starts_with("PAR-"))
        .collect();
    assert_eq!(skus.len(), landed, "{statuses:?}");
}

/// A SKU guard left by an interrupted change (naming a variant that no longer holds the SKU) is
/// taken over by exactly one of many concurrent claims: clearing it is conditional on it still
/// naming the stale holder, so one claimant cannot delete another's fresh guard.
async fn a_stale_sku_guard_goes_to_one_claimant(api: Api) {
    let a = shop(&api, "acme").await;
    let stale = Key::new(format!("T#{}#SKU#STALE-1", a.id), "SKU");
    let mut item = serde_json::Map::new();
    for (name, value) in [
        ("pk", json!(stale.pk)),
        ("sk", json!(stale.sk)),
        ("entity", json!("sku")),
        ("version", json!(1)),
        ("product_id", json!("prod_01JGONE0000000000000000000")),
        ("variant_id", json!("var_01JGONE0000000000000000000")),
        ("sku", json!("STALE-1")),
    ] {
        item.insert(name.into(), value);
    }
    api.app.table.put(item, None).await.unwrap();
    let api = std::sync::Arc::new(api);
    let mut products = Vec::new();
    for i in 0..8 {
        products.push(
            product(&api, &a, json!({"title": format!("Claimant {i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let tasks = products.iter().enumerate().map(|(i, id)| {
        let (api, staff, id) = (api.clone(), a.staff.clone(), id.clone());
        // Mixed case: the guard is one per SKU whatever its case.
        let sku = if i % 2 == 0 { "STALE-1" } else { "stale-1" };
        tokio::spawn(async move {
            api.send(
                api.post(&format!("/admin/products/{id}/variants"))
                    .token(&staff)
                    .json(json!({"sku": sku})),
            )
            .await
            .status
        })
    });
    let statuses: Vec<u16> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let mut holders = Vec::new();
    for id in &products {
        let variants = api
            .send(a.admin(api.get(&format!("/admin/products/{id}/variants"))))
            .await;
        for v in variants.body["data"].as_array().unwrap() {
            if v["sku"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("stale-1"))
            {
                holders.push(id.clone());
            }
        }
    }
    assert_eq!(holders.len(), 1, "one product holds the SKU: {holders:?}");
    let guard = api.app.table.get(&stale).await.unwrap().unwrap();
    assert_eq!(guard["product_id"], json!(holders[0]));
}

/// Two variants of one product cannot share a SKU either, whatever the case, through any path
/// that sets SKUs.
async fn skus_are_unique_within_a_product_without_regard_to_case(api: Api) {
    let a = shop(&api, "acme").await;
    let p = product(
        &api,
        &a,
        json!({"title": "Tee", "options": [{"name": "Size", "values": ["S", "M"]}]}),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let first = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"sku": "ABC", "options": {"Size": "S"}})),
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let added = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"sku": "abc", "options": {"Size": "M"}})),
        )
        .await;
    assert_eq!((added.status, added.code()), (409, "sku_taken"));
    let second = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"sku": "XYZ", "options": {"Size": "M"}})),
        )
        .await;
    assert_eq!(second.status, 201);
    let second_id = second.body["id"].as_str().unwrap();
    let patched = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}/variants/{second_id}")))
                .json(json!({"sku": "Abc"})),
        )
        .await;
    assert_eq!((patched.status, patched.code()), (409, "sku_taken"));
    // Generating the missing combinations and changing options leave SKUs alone.
    let generated = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants/generate")))
                .json(json!({})),
        )
        .await;
    assert!(generated.status < 300, "{:?}", generated.body);
    let variants = api
        .send(a.admin(api.get(&format!("/admin/products/{id}/variants"))))
        .await;
    let skus: Vec<&str> = variants.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["sku"].as_str())
        .collect();
    assert_eq!(skus, ["ABC", "XYZ"]);
}

// Taxonomy ----------------------------------------------------------------------------------------

async fn attributes_and_categories_form_a_checked_taxonomy(api: Api) {
    let a = shop(&api, "acme").await;
    let material = api
        .send(a.admin(api.post("/admin/attributes")).json(json!({
            "key": "material", "label": "Material", "type": "select", "values": ["cotton", "wool"], "filterable": true
        })))
        .await;
    assert_eq!(material.status, 201, "{:?}", material.body);
    let dup = api
        .send(
            a.admin(api.post("/admin/attributes"))
                .json(json!({"key": "material", "label": "M", "type": "text"})),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "key_taken"));
    let bad = api
        .send(
            a.admin(api.post("/admin/attributes"))
                .json(json!({"key": "Bad Key", "label": "", "type": "select"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    let material_id = material.body["id"].as_str().unwrap().to_owned();
    let got = api
        .send(a.admin(api.get(&format!("/admin/attributes/{material_id}"))))
        .await;
    assert_eq!(got.body["key"], "material");
    let changed = api
        .send(
            a.admin(api.patch(&format!("/admin/attributes/{material_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"label": "Fabric", "values": ["cotton", "wool", "linen"]})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["label"], "Fabric");
    let stale = api
        .send(
            a.admin(api.patch(&format!("/admin/attributes/{material_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"label": "Late"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let retype = api
        .send(
            a.admin(api.patch(&format!("/admin/attributes/{material_id}")))
                .json(json!({"type": "text"})),
        )
        .await;
    assert_eq!(retype.status, 422, "the type stays");
    let temp = api
        .send(
            a.admin(api.post("/admin/attributes"))
                .json(json!({"key": "temp", "label": "Temp", "type": "number"})),
        )
        .await;
    let temp_id = temp.body["id"].as_str().unwrap();
    assert_eq!(
        api.send(a.admin(api.delete(&format!("/admin/attributes/{temp_id}"))))
            .await
            .status,
        204
    );
    let listed = api.send(a.admin(api.get("/admin/attributes"))).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    let reused = api
        .send(
            a.admin(api.post("/admin/attributes"))
                .json(json!({"key": "temp", "label": "Temp", "type": "boolean"})),
        )
        .await;
    assert_eq!(reused.status, 201, "a deleted key is free again");
    let linen = api
        .send(
            a.admin(api.post("/admin/products"))
                .json(json!({"title": "Linen", "attributes": {"material": "linen", "temp": true}})),
        )
        .await;
    assert_eq!(linen.status, 201, "{:?}", linen.body);
    let wrong = api
        .send(
            a.admin(api.post("/admin/products"))
                .json(json!({"title": "X", "attributes": {"material": "silk"}})),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.body["errors"][0]["field"], "attributes.material");

    let clothing = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Clothing"})),
        )
        .await;
    assert_eq!(clothing.status, 201);
    assert_eq!(clothing.body["handle"], "clothing");
    let clothing_id = clothing.body["id"].as_str().unwrap().to_owned();
    let tops = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Tops", "parent_id": clothing_id})),
        )
        .await;
    let tops_id = tops.body["id"].as_str().unwrap().to_owned();
    let tees = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Tees", "parent_id": tops_id})),
        )
        .await;
    let tees_id = tees.body["id"].as_str().unwrap().to_owned();
    let cycle = api
        .send(
            a.admin(api.patch(&format!("/admin/categories/{clothing_id}")))
                .json(json!({"parent_id": tees_id})),
        )
        .await;
    assert_eq!(cycle.status, 422);
    assert_eq!(cycle.body["errors"][0]["code"], "cycle");
    let self_parent = api
        .send(
            a.admin(api.patch(&format!("/admin/categories/{tops_id}")))
                .json(json!({"parent_id": tops_id})),
        )
        .await;
    assert_eq!(self_parent.status, 422);
    let taken = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Tees"})),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "handle_taken"));
    let renamed = api
        .send(
            a.admin(api.patch(&format!("/admin/categories/{tees_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"title": "T-Shirts", "handle": "t-shirts", "position": 2})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    let got = api
        .send(a.admin(api.get(&format!("/admin/categories/{tees_id}"))))
        .await;
    assert_eq!(got.body["handle"], "t-shirts");
    let freed = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Tees"})),
        )
        .await;
    assert_eq!(freed.status, 201, "the old handle is free");
    let freed_id = freed.body["id"].as_str().unwrap();
    api.send(a.admin(api.delete(&format!("/admin/categories/{freed_id}"))))
        .await;
    let listed = api.send(a.admin(api.get("/admin/categories"))).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 3);

    let tree = api.send(a.store(api.get("/store/categories"))).await;
    assert_eq!(tree.status, 200);
    assert_eq!(tree.body["data"][0]["handle"], "clothing");
    assert_eq!(
        tree.body["data"][0]["children"][0]["children"][0]["handle"],
        "t-shirts"
    );
    let page = api
        .send(a.store(api.get("/store/categories/t-shirts")))
        .await;
    assert_eq!(page.body["ancestors"].as_array().unwrap().len(), 2);

    let blocked = api
        .send(a.admin(api.delete(&format!("/admin/categories/{clothing_id}"))))
        .await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (409, "category_has_children")
    );
    let kept = api
        .send(a.admin(api.post("/admin/products")).json(
            json!({"title": "Kept", "category_ids": [tees_id], "attributes": {"temp": true}}),
        ))
        .await;
    assert_eq!(kept.status, 201, "{:?}", kept.body);
    let kept_id = kept.body["id"].as_str().unwrap().to_owned();
    let cascaded = api
        .send(a.admin(api.delete(&format!("/admin/categories/{clothing_id}?cascade=true"))))
        .await;
    assert_eq!(cascaded.status, 204);
    let tree = api.send(a.store(api.get("/store/categories"))).await;
    assert!(tree.body["data"].as_array().unwrap().is_empty());
    // A deleted category or attribute does not block unrelated edits of products that had it.
    let reused_id = reused.body["id"].as_str().unwrap();
    api.send(a.admin(api.delete(&format!("/admin/attributes/{reused_id}"))))
        .await;
    let edited = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{kept_id}")))
                .json(json!({"title": "Still here"})),
        )
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    let events = events_of(&api, &a.id).await;
    for kind in ["category.created", "category.deleted"] {
        assert!(events.iter().any(|e| e == kind), "{kind} in {events:?}");
    }
}

// Storefront ---------------------------------------------------------------------------------------

async fn the_storefront_sees_active_products_only(api: Api) {
    let a = shop(&api, "acme").await;
    let tees = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Tees"})),
        )
        .await;
    let tees_id = tees.body["id"].as_str().unwrap().to_owned();
    let clothing = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Clothing"})),
        )
        .await;
    let clothing_id = clothing.body["id"].as_str().unwrap().to_owned();
    api.send(
        a.admin(api.patch(&format!("/admin/categories/{tees_id}")))
            .json(json!({"parent_id": clothing_id})),
    )
    .await;
    api.send(a.admin(api.post("/admin/attributes")).json(json!({
        "key": "material", "label": "Material", "type": "select", "values": ["cotton", "wool"], "filterable": true, "visible": true
    })))
    .await;
    api.send(
        a.admin(api.post("/admin/attributes")).json(
            json!({"key": "internal_code", "label": "Code", "type": "text", "visible": false}),
        ),
    )
    .await;
    let live = product(
        &api,
        &a,
        json!({
            "title": "Live Tee", "status": "active", "category_ids": [tees_id], "tags": ["summer"],
            "description": "<p onclick='x()'>Hi<script>alert(1)</script></p>",
            "attributes": {"material": "cotton", "internal_code": "X-1"},
            "options": [{"name": "Size", "values": ["S", "M"]}]
        }),
    )
    .await;
    let live_id = live["id"].as_str().unwrap().to_owned();
    api.send(a.admin(api.post(&format!("/admin/products/{live_id}/variants/generate"))))
        .await;
    let variants = api
        .send(a.admin(api.get(&format!("/admin/products/{live_id}/variants"))))
        .await;
    let v0 = variants.body["data"][0]["id"].as_str().unwrap().to_owned();
    api.send(
        a.admin(api.patch(&format!("/admin/products/{live_id}/variants/{v0}")))
            .json(json!({"price": eur(1500), "cost": eur(400)})),
    )
    .await;
    let draft = product(
        &api,
        &a,
        json!({"title": "Draft Tee", "category_ids": [tees_id]}),
    )
    .await;
    let archived = product(&api, &a, json!({"title": "Old Tee", "status": "archived"})).await;
    product(
        &api,
        &a,
        json!({"title": "Wool Hat", "status": "active", "attributes": {"material": "wool"}}),
    )
    .await;

    let (page, calls) = api
        .send_counted(a.store(api.get("/store/products/live-tee")))
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    // Cold: the key lookup and its last-use write, the handle, the product, the taxonomy.
    assert!(calls <= 5, "{calls} store calls");
    let (page, calls) = api
        .send_counted(a.store(api.get("/store/products/live-tee")))
        .await;
    assert_eq!(
        calls, 2,
        "handle lookup and product, with the key and taxonomy cached"
    );
    let html = page.body["description_html"].as_str().unwrap();
    assert!(
        html.contains("Hi") && !html.contains("script") && !html.contains("onclick"),
        "{html}"
    );
    assert_eq!(page.body["attributes"]["material"]["label"], "Material");
    assert!(
        page.body["attributes"].get("internal_code").is_none(),
        "hidden attribute"
    );
    assert_eq!(page.body["categories"][0]["handle"], "tees");
    assert_eq!(page.body["variants"].as_array().unwrap().len(), 2);
    assert!(
        page.body["variants"][0].get("cost").is_none(),
        "cost is never shown"
    );
    for handle in [
        draft["handle"].as_str().unwrap(),
        archived["handle"].as_str().unwrap(),
        "nope",
    ] {
        let r = api
            .send(a.store(api.get(&format!("/store/products/{handle}"))))
            .await;
        assert_eq!(r.status, 404, "{handle}");
    }

    let (all, calls) = api.send_counted(a.store(api.get("/store/products"))).await;
    assert_eq!(calls, 1, "a listing page is one query");
    let titles: Vec<&str> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec!["Wool Hat", "Live Tee"],
        "active only, newest first"
    );
    let by_category = api
        .send(a.store(api.get("/store/products?category=clothing")))
        .await;
    assert_eq!(
        ids(&by_category),
        vec![live_id.clone()],
        "descendants included"
    );
    let by_attr = api
        .send(a.store(api.get("/store/products?attr.material=wool")))
        .await;
    assert_eq!(by_attr.body["data"][0]["title"], "Wool Hat");
    let not_filterable = api
        .send(a.store(api.get("/store/products?attr.internal_code=X-1")))
        .await;
    assert_eq!(not_filterable.status, 422);
    let by_price = api
        .send(a.store(api.get("/store/products?sort=price&price_min=1000&price_max=2000")))
        .await;
    assert_eq!(ids(&by_price), vec![live_id.clone()]);
    let by_tag = api
        .send(a.store(api.get("/store/products?tag=summer")))
        .await;
    assert_eq!(ids(&by_tag), vec![live_id.clone()]);
    assert_eq!(all.body["data"][1]["price_min"], eur(1500));

    // Archiving takes the product off the storefront.
    api.send(
        a.admin(api.patch(&format!("/admin/products/{live_id}")))
            .json(json!({"status": "archived"})),
    )
    .await;
    assert_eq!(
        api.send(a.store(api.get("/store/products/live-tee")))
            .await
            .status,
        404
    );
    let all = api.send(a.store(api.get("/store/products"))).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 1);

    // Staff list every status and filter.
    let staff_list = api
        .send(a.admin(api.get("/admin/products?status=draft")))
        .await;
    assert_eq!(
        ids(&staff_list),
        vec![draft["id"].as_str().unwrap().to_owned()]
    );
    let sorted = api
        .send(a.admin(api.get("/admin/products?sort=title")))
        .await;
    let titles: Vec<&str> = sorted.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Draft Tee", "Live Tee", "Old Tee", "Wool Hat"]);
}

async fn listing_pages_give_every_product_once(api: Api) {
    let a = shop(&api, "acme").await;
    for i in 0..45 {
        product(
            &api,
            &a,
            json!({"title": format!("Product {i:02}"), "status": "active"}),
        )
        .await;
    }
    for (path, sort) in [
        ("/store/products", "newest"),
        ("/store/products", "title"),
        ("/admin/products", "title"),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut url = format!("{path}?limit=20&sort={sort}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let call = if path.starts_with("/store") {
                a.store(api.get(&url))
            } else {
                a.admin(api.get(&url))
            };
            let r = api.send(call).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            seen.extend(ids(&r));
            pages += 1;
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 10);
        }
        let unique: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!(seen.len(), 45, "{path} {sort}");
        assert_eq!(unique.len(), 45, "{path} {sort}");
    }
    let first = api.send(a.store(api.get("/store/products?limit=20"))).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let tampered = format!("{}x", &cursor[..cursor.len() - 1]);
    let r = api
        .send(a.store(api.get(&format!("/store/products?limit=20&cursor={tampered}"))))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"));
    let other_query = api
        .send(a.store(api.get(&format!(
            "/store/products?limit=20&sort=title&cursor={cursor}"
        ))))
        .await;
    assert_eq!(other_query.status, 400, "a cursor belongs to its query");
}

async fn other_tenants_see_nothing(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let p = product(&api, &a, json!({"title": "Secret Tee", "status": "active", "options": [{"name": "Size", "values": ["S"]}]})).await;
    let id = p["id"].as_str().unwrap();
    for call in [
        api.get(&format!("/admin/products/{id}")),
        api.get(&format!("/admin/products/{id}/variants")),
        api.delete(&format!("/admin/products/{id}")),
    ] {
        assert_eq!(api.send(b.admin(call)).await.status, 404);
    }
    let patch = api
        .send(
            b.admin(api.patch(&format!("/admin/products/{id}")))
                .json(json!({"title": "Mine"})),
        )
        .await;
    assert_eq!(patch.status, 404);
    let generate = api
        .send(b.admin(api.post(&format!("/admin/products/{id}/variants/generate"))))
        .await;
    assert_eq!(generate.status, 404);
    let upload = api
        .send(
            b.admin(api.post(&format!("/admin/products/{id}/images/uploads")))
                .json(json!({"content_type": "image/png", "size": 10})),
        )
        .await;
    assert_eq!(upload.status, 404);
    let page = api
        .send(b.store(api.get("/store/products/secret-tee")))
        .await;
    assert_eq!(page.status, 404, "handles are per company");
    assert!(
        api.send(b.store(api.get("/store/products"))).await.body["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The same handle and SKU are free at another company.
    product(&api, &b, json!({"title": "Secret Tee"})).await;
    let unscoped = api
        .send(
            api.post("/admin/api-keys")
                .token(&a.staff)
                .json(json!({"name": "x", "scopes": ["store.read"]})),
        )
        .await;
    let r = api
        .send(
            api.get("/store/products")
                .header("x-api-key", unscoped.body["secret"].as_str().unwrap()),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "missing_scope"));
    let raw = api
        .app
        .table
        .get(&Key::new(
            format!("T#{}#PRODUCT_HANDLE#secret-tee", a.id),
            "HANDLE",
        ))
        .await
        .unwrap();
    assert_eq!(raw.unwrap()["product_id"], id);
}

// Images ------------------------------------------------------------------------------------------

/// A file that starts as a PNG does, then `filler`.
fn png(filler: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(filler);
    bytes
}

async fn new_upload(
    api: &Api,
    a: &Shop,
    product_id: &str,
    content_type: &str,
    size: usize,
) -> Value {
    let upload = api
        .send(
            a.admin(api.post(&format!("/admin/products/{product_id}/images/uploads")))
                .json(json!({"content_type": content_type, "size": size})),
        )
        .await;
    assert_eq!(upload.status, 201, "{:?}", upload.body);
    for key in ["upload_id", "url", "method", "headers", "expires_at"] {
        assert!(upload.body.get(key).is_some(), "{key}");
    }
    upload.body
}

/// Sends `bytes` with the upload's presigned request; answers its status.
async fn send_bytes(api: &Api, upload: &Value, bytes: &[u8]) -> u16 {
    let headers: Vec<(String, String)> = upload["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    api.blob_request(
        upload["method"].as_str().unwrap(),
        upload["url"].as_str().unwrap(),
        &headers,
        bytes.to_vec(),
    )
    .await
    .status
}

async fn attach(api: &Api, a: &Shop, product_id: &str, upload_id: &Value) -> Response {
    api.send(
        a.admin(api.post(&format!("/admin/products/{product_id}/images")))
            .json(json!({"upload_id": upload_id, "alt": "Front"})),
    )
    .await
}

/// The status and bytes a published image URL answers.
async fn fetch(api: &Api, url: &Value) -> (u16, Vec<u8>) {
    let got = api
        .blob_request("GET", url.as_str().unwrap(), &[], Vec::new())
        .await;
    (got.status, got.bytes)
}

async fn upload_and_attach(api: &Api, a: &Shop, product_id: &str, bytes: &[u8]) -> Value {
    let upload = new_upload(api, a, product_id, "image/png", bytes.len()).await;
    let sent = send_bytes(api, &upload, bytes).await;
    assert!((200..300).contains(&sent), "{sent}");
    let attached = attach(api, a, product_id, &upload["upload_id"]).await;
    assert_eq!(attached.status, 201, "{:?}", attached.body);
    let again = attach(api, a, product_id, &upload["upload_id"]).await;
    assert_eq!(again.status, 422, "an upload attaches once");
    attached.body
}

async fn images_upload_through_presigned_urls(api: Api) {
    let a = shop(&api, "acme").await;
    let p = product(&api, &a, json!({"title": "Pictured", "status": "active"})).await;
    let id = p["id"].as_str().unwrap().to_owned();
    for (body, field) in [
        (
            json!({"content_type": "application/pdf", "size": 10}),
            "content_type",
        ),
        (
            json!({"content_type": "image/png", "size": 20 * 1024 * 1024 + 1}),
            "size",
        ),
    ] {
        let r = api
            .send(
                a.admin(api.post(&format!("/admin/products/{id}/images/uploads")))
                    .json(body),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    let early = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/images/uploads")))
                .json(json!({"content_type": "image/png", "size": 4})),
        )
        .await;
    let not_yet = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/images")))
                .json(json!({"upload_id": early.body["upload_id"]})),
        )
        .await;
    assert_eq!(not_yet.status, 422, "nothing uploaded yet");

    let bytes = png(b"front-image-bytes");
    let image = upload_and_attach(&api, &a, &id, &bytes).await;
    assert_eq!(image["alt"], "Front");
    assert_eq!(fetch(&api, &image["url"]).await, (200, bytes));
    let second = upload_and_attach(&api, &a, &id, &png(b"second")).await;
    let moved = api
        .send(
            a.admin(api.patch(&format!(
                "/admin/products/{id}/images/{}",
                second["id"].as_str().unwrap()
            )))
            .json(json!({"position": 0, "alt": "Back"})),
        )
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.body["position"], 0);
    let page = api.send(a.store(api.get("/store/products/pictured"))).await;
    assert_eq!(page.body["images"][0]["alt"], "Back");
    assert_eq!(page.body["images"].as_array().unwrap().len(), 2);
    let listed = api.send(a.store(api.get("/store/products"))).await;
    assert_eq!(
        listed.body["data"][0]["image"]["alt"], "Back",
        "the first image is the thumbnail"
    );
    // The card's URL is signed on reading, like the product page's.
    let thumbnail = &listed.body["data"][0]["image"]["url"];
    assert_eq!(thumbnail, &page.body["images"][0]["url"]);
    assert_eq!(fetch(&api, thumbnail).await.0, 200);

    // A variant may point at one of its product's images only.
    let variant = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"image_id": image["id"]})),
        )
        .await;
    assert_eq!(variant.status, 201, "{:?}", variant.body);
    let foreign = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"sku": "X", "image_id": "img_01JSAMPLE0000000000000000"})),
        )
        .await;
    assert_eq!(foreign.status, 422);

    let removed = api
        .send(a.admin(api.delete(&format!(
            "/admin/products/{id}/images/{}",
            image["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(
        fetch(&api, &image["url"]).await.0,
        404,
        "the file is deleted too"
    );
    let product = api
        .send(a.admin(api.get(&format!("/admin/products/{id}"))))
        .await;
    assert!(
        product.body["variants"][0]["image_id"].is_null(),
        "the variant lets go of it"
    );

    // Drafts show no images on the storefront either.
    api.send(
        a.admin(api.patch(&format!("/admin/products/{id}")))
            .json(json!({"status": "draft"})),
    )
    .await;
    assert_eq!(
        api.send(a.store(api.get("/store/products/pictured")))
            .await
            .status,
        404
    );
}

/// An upload URL works until it expires, however often it is used: attaching checks the bytes
/// and copies them to a key no upload URL names, so nothing sent to it later reaches a shopper.
async fn uploads_are_checked_and_never_change_live_images(api: Api) {
    let a = shop(&api, "acme").await;
    let p = product(&api, &a, json!({"title": "Pictured", "status": "active"})).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let html = b"<!doctype html><script>alert(document.cookie)</script>".to_vec();
    let first = png(&[b'1'; 46]);
    let later = png(&[b'2'; 46]);
    let jpeg = [&[0xff, 0xd8, 0xff, 0xe0][..], &[b'j'; 50]].concat();
    assert!(html.len() == first.len() && first.len() == later.len() && later.len() == jpeg.len());

    let upload = new_upload(&api, &a, &id, "image/png", html.len()).await;
    let url = upload["url"].as_str().unwrap();
    assert!(
        url.contains(&format!("/uploads/t/{}/products/{id}/", a.id)),
        "uploads go under the uploads prefix: {url}"
    );
    for wrong in [&html, &jpeg] {
        assert_eq!(send_bytes(&api, &upload, wrong).await, 200);
        let refused = attach(&api, &a, &id, &upload["upload_id"]).await;
        assert_eq!(refused.status, 422, "{:?}", refused.body);
        assert_eq!(refused.code(), "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "upload_id");
        assert_eq!(refused.body["errors"][0]["code"], "content_mismatch");
    }
    let product_now = api
        .send(a.admin(api.get(&format!("/admin/products/{id}"))))
        .await;
    assert!(product_now.body["images"].as_array().unwrap().is_empty());
    assert!(!events_of(&api, &a.id)
        .await
        .contains(&"product.updated".to_owned()));

    // Another company cannot attach it, even to a product of its own.
    let b = shop(&api, "bolt").await;
    let theirs = product(&api, &b, json!({"title": "Theirs"})).await;
    let foreign = attach(
        &api,
        &b,
        theirs["id"].as_str().unwrap(),
        &upload["upload_id"],
    )
    .await;
    assert_eq!(foreign.status, 422);
    assert_eq!(foreign.body["errors"][0]["code"], "not_uploaded");

    // A refused upload is not used up: the right bytes sent to the same URL attach.
    assert_eq!(send_bytes(&api, &upload, &first).await, 200);
    let attached = attach(&api, &a, &id, &upload["upload_id"]).await;
    assert_eq!(attached.status, 201, "{:?}", attached.body);
    let image = attached.body;
    let live_key = image["object_key"].as_str().unwrap().to_owned();
    assert!(
        live_key.starts_with(&format!("t/{}/products/{id}/img_", a.id)),
        "{live_key}"
    );
    assert!(!image["url"].as_str().unwrap().contains("uploads/"));
    assert_eq!(fetch(&api, &image["url"]).await, (200, first.clone()));

    // The URL still accepts bytes; they never reach the live image.
    for again in [&later, &html] {
        assert_eq!(send_bytes(&api, &upload, again).await, 200);
        assert_eq!(fetch(&api, &image["url"]).await, (200, first.clone()));
    }
    let twice = attach(&api, &a, &id, &upload["upload_id"]).await;
    assert_eq!(twice.status, 422, "an upload attaches once");
    let stored = api.app.blobs.get(&live_key).await.unwrap().unwrap();
    assert_eq!(stored.bytes.to_vec(), first);
    assert_eq!(stored.meta.content_type.as_deref(), Some("image/png"));

    // Deleting the image deletes its file, and a later upload does not bring it back.
    let removed = api
        .send(a.admin(api.delete(&format!(
            "/admin/products/{id}/images/{}",
            image["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(fetch(&api, &image["url"]).await.0, 404);
    assert_eq!(send_bytes(&api, &upload, &later).await, 200);
    assert_eq!(fetch(&api, &image["url"]).await.0, 404);
    assert!(api.app.blobs.head(&live_key).await.unwrap().is_none());
    let page = api.send(a.store(api.get("/store/products/pictured"))).await;
    assert!(page.body["images"].as_array().unwrap().is_empty());
}

mod s3 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn images_upload_through_presigned_urls() {
        if let Some(api) = commerce_tests::api::Api::with_s3().await {
            super::images_upload_through_presigned_urls(api).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn uploads_are_checked_and_never_change_live_images() {
        if let Some(api) = commerce_tests::api::Api::with_s3().await {
            super::uploads_are_checked_and_never_change_live_images(api).await;
        }
    }
}

/// On the embedded store, presigned URLs point at a running sandbox, which serves them.
#[tokio::test]
async fn images_upload_through_the_sandbox() {
    let sandbox = commerce_tests::start_sandbox().await;
    let base = sandbox.base_url();
    let http = reqwest::Client::new();
    let r: Value = http
        .post(format!("{base}/admin/auth/register"))
        .json(&json!({
            "company": {"name": "Pics", "handle": "pics", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana", "email": "ana@pics.example.com", "password": PASSWORD}
        }))
        .send().await.unwrap().json().await.unwrap();
    let token = r["access_token"].as_str().unwrap();
    let p: Value = http
        .post(format!("{base}/admin/products"))
        .bearer_auth(token)
        .json(&json!({"title": "Pic", "status": "active"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = p["id"].as_str().unwrap();
    let bytes = b"RIFF\x0e\x00\x00\x00WEBPVP8 local";
    let upload: Value = http
        .post(format!("{base}/admin/products/{id}/images/uploads"))
        .bearer_auth(token)
        .json(&json!({"content_type": "image/webp", "size": bytes.len()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut put = http.put(upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    assert!(put
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let image: Value = http
        .post(format!("{base}/admin/products/{id}/images"))
        .bearer_auth(token)
        .json(&json!({"upload_id": upload["upload_id"], "alt": "Local"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fetched = http
        .get(image["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    let header = |name: &str| fetched.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "image/webp");
    assert_eq!(
        header("x-content-type-options"),
        "nosniff",
        "browsers must not guess another type from the bytes"
    );
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), bytes);
    sandbox.stop().await;
}

/// A change that changes nothing writes nothing: the version, the ETag, `updated_at` and the
/// events stay as they were, so a form saved twice or a retried request invalidates no other
/// client's `If-Match`. Products, variants and categories.
async fn a_change_that_changes_nothing_writes_nothing(api: Api) {
    let a = shop(&api, "same").await;
    let id = product(&api, &a, json!({"title": "Mug"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = api
        .send(
            a.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"sku": "MUG-1", "price": eur(1200)})),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let variant = added.body["id"].as_str().unwrap().to_owned();
    let created = api
        .send(a.admin(api.get(&format!("/admin/products/{id}"))))
        .await
        .body;
    let events = events_of(&api, &a.id).await.len();
    for body in [
        json!({}),
        json!({"title": "Mug"}),
        json!({"title": null, "status": null}),
        json!({"tags": []}),
    ] {
        let (r, measured) = api
            .send_measured(
                a.admin(api.patch(&format!("/admin/products/{id}")))
                    .json(body.clone()),
            )
            .await;
        assert_eq!(r.status, 200, "{body}: {:?}", r.body);
        assert_eq!(r.body["version"], created["version"], "{body}");
        assert_eq!(r.body["updated_at"], created["updated_at"], "{body}");
        assert_eq!(
            r.header("etag"),
            Some(format!("\"{}\"", created["version"]).as_str()),
            "{body}"
        );
        // Nothing written (DynamoDB Local reports write capacity; the embedded store none).
        assert_eq!(measured.write_units, 0.0, "{body}");
    }
    let v_path = format!("/admin/products/{id}/variants/{variant}");
    for body in [json!({}), json!({"sku": "MUG-1", "price": eur(1200)})] {
        let r = api
            .send(a.admin(api.patch(&v_path)).json(body.clone()))
            .await;
        assert_eq!(r.status, 200, "{body}: {:?}", r.body);
        assert_eq!(
            r.body["version"], created["variants"][0]["version"],
            "{body}"
        );
    }
    let category = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Kitchen"})),
        )
        .await;
    assert_eq!(category.status, 201, "{:?}", category.body);
    let events = events + 1;
    let c_path = format!(
        "/admin/categories/{}",
        category.body["id"].as_str().unwrap()
    );
    let r = api
        .send(
            a.admin(api.patch(&c_path))
                .json(json!({"title": "Kitchen"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["version"], category.body["version"]);
    assert_eq!(
        events_of(&api, &a.id).await.len(),
        events,
        "no event written"
    );
    assert_eq!(
        api.send(a.admin(api.get(&format!("/admin/products/{id}"))))
            .await
            .body,
        created
    );
    // A real change still counts (`If-Match: *`: whatever the current version is).
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{id}")))
                .header("if-match", "*")
                .json(json!({"title": "Big Mug"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["version"], created["version"].as_u64().unwrap() + 1);
    let r = api
        .send(
            a.admin(api.patch(&v_path))
                .json(json!({"price": eur(1300)})),
        )
        .await;
    assert_eq!(
        r.body["version"],
        created["variants"][0]["version"].as_u64().unwrap() + 1
    );
    let r = api
        .send(
            a.admin(api.patch(&c_path))
                .json(json!({"title": "Cooking"})),
        )
        .await;
    assert_eq!(
        r.body["version"],
        category.body["version"].as_u64().unwrap() + 1
    );
}

api_cases!(
    a_change_that_changes_nothing_writes_nothing,
    products_are_created_validated_changed_and_deleted,
    descriptions_are_rendered_when_written,
    options_and_variants_follow_their_rules,
    concurrent_writes_keep_handles_and_skus_unique,
    a_stale_sku_guard_goes_to_one_claimant,
    skus_are_unique_within_a_product_without_regard_to_case,
    attributes_and_categories_form_a_checked_taxonomy,
    the_storefront_sees_active_products_only,
    listing_pages_give_every_product_once,
    other_tenants_see_nothing,
    images_upload_through_presigned_urls,
    uploads_are_checked_and_never_change_live_images,
);

/// `--seed demo` fills a sandbox with a storefront that serves listings, product pages and
/// images; seeding again changes nothing.
#[tokio::test]
async fn the_demo_seed_serves_a_storefront() {
    let fixture = commerce_tests::start_sandbox().await;
    let app = fixture.sandbox.app.clone();
    let blobs = fixture.sandbox.embedded.as_ref().map(|e| e.blobs.clone());
    let seeded = sandbox::seed::demo(app.clone(), blobs.clone())
        .await
        .unwrap();
    assert!(seeded.products >= 50);
    let key = seeded.storefront_key.unwrap();
    let base = fixture.base_url();
    let http = reqwest::Client::new();
    let mut seen = 0;
    let mut url = format!("{base}/store/products?limit=20");
    loop {
        let page: Value = http
            .get(&url)
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen += page["data"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{base}/store/products?limit=20&cursor={c}"),
            None => break,
        }
    }
    assert!(
        seen >= 45 && seen <= seeded.products,
        "{seen} active products"
    );
    let first: Value = http
        .get(format!("{base}/store/products?limit=1&category=clothing"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let handle = first["data"][0]["handle"].as_str().unwrap();
    let page: Value = http
        .get(format!("{base}/store/products/{handle}"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!page["variants"].as_array().unwrap().is_empty());
    // Over HTTP, HEAD carries GET's length and no body.
    let product_url = format!("{base}/store/products/{handle}");
    let head = http
        .head(&product_url)
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let length = head.headers()["content-length"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(head.bytes().await.unwrap().is_empty());
    let full = http
        .get(&product_url)
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(length, full.len().to_string());
    let image = http
        .get(page["images"][0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
    assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // Stock at two locations: staff see levels on hand.
    assert_eq!(seeded.locations, 2);
    let login: Value = http
        .post(format!("{base}/admin/auth/login"))
        .json(&serde_json::json!({
            "company": sandbox::seed::HANDLE,
            "email": sandbox::seed::OWNER_EMAIL,
            "password": sandbox::seed::OWNER_PASSWORD
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let levels: Value = http
        .get(format!("{base}/admin/inventory?limit=100"))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stocked = levels["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["on_hand"].as_i64().unwrap() > 0)
        .count();
    assert!(stocked >= 50, "{stocked} stocked levels");
    // Three collections: two placed by hand, one the collections worker fills in the background.
    assert_eq!(seeded.collections, 3);
    let get = |path: String| {
        let (http, key) = (http.clone(), key.clone());
        async move {
            let r: Value = http
                .get(path)
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r
        }
    };
    let listed = get(format!("{base}/store/collections")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    let picks = get(format!("{base}/store/collections/staff-picks")).await;
    assert_eq!(picks["products"].as_array().unwrap().len(), 6);
    let mut cheap = Vec::new();
    for _ in 0..100 {
        let page = get(format!("{base}/store/collections/under-30?limit=100")).await;
        cheap = page["products"].as_array().unwrap().clone();
        if !cheap.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!cheap.is_empty(), "the automated collection fills");
    assert!(cheap
        .iter()
        .all(|p| p["price_min"]["amount"].as_i64().unwrap() < 3000));
    // The shop sells at once: VAT, shipping, a welcome code and the test provider.
    let send = |method: reqwest::Method, path: String, body: Value| {
        let (http, key) = (http.clone(), key.clone());
        async move {
            // Checkout asks for an Idempotency-Key; one per step.
            let step = format!(
                "demo-{method}-{}",
                path.rsplit('/').next().unwrap_or_default()
            );
            let r = http
                .request(method, path)
                .header("x-api-key", &key)
                .header("idempotency-key", step)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let variant = page["variants"][0]["id"].as_str().unwrap();
    let (status, cart) = send(
        reqwest::Method::POST,
        format!("{base}/store/carts"),
        serde_json::json!({"email": "sam@example.com", "items": [{"variant_id": variant, "quantity": 1}]}),
    )
    .await;
    assert_eq!(status, 201, "{cart}");
    let cart = format!("{base}/store/carts/{}", cart["id"].as_str().unwrap());
    let (status, priced) = send(
        reqwest::Method::PATCH,
        cart.clone(),
        serde_json::json!({"shipping_address": {
            "first_name": "Sam", "last_name": "Shopper", "line1": "Torstraße 1",
            "city": "Berlin", "postal_code": "10119", "country": "DE"
        }}),
    )
    .await;
    assert_eq!(status, 200, "{priced}");
    let unit = priced["subtotal"].as_i64().unwrap();
    // Prices include German VAT: 19/119 of them.
    assert_eq!(priced["tax_total"], (unit * 19 + 59) / 119, "{priced}");
    let options = get(format!("{cart}/shipping-options")).await;
    let names: Vec<&str> = options["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["Standard", "Express"]);
    let steps = [
        (
            "shipping-method",
            serde_json::json!({"option_id": options["data"][0]["id"]}),
        ),
        ("discount-codes", serde_json::json!({"code": "WELCOME10"})),
        ("payment-sessions", serde_json::json!({"provider": "test"})),
        (
            "complete",
            serde_json::json!({"payment_details": {"card_number": "4242424242424242"}}),
        ),
    ];
    let mut placed = Value::Null;
    for (step, body) in steps {
        let (status, answer) = send(reqwest::Method::POST, format!("{cart}/{step}"), body).await;
        assert!(matches!(status, 200 | 201), "{step}: {status} {answer}");
        placed = answer;
    }
    let order = &placed["order"];
    assert_eq!(order["payment_status"], "paid", "{placed}");
    assert_eq!(order["discount_total"], (unit + 5) / 10);
    assert_eq!(
        order["grand_total"],
        unit - (unit + 5) / 10 + 490,
        "VAT inside the prices, 4.90 shipping"
    );
    let again = sandbox::seed::demo(app, blobs).await.unwrap();
    assert!(again.storefront_key.is_none());
    fixture.stop().await;
}
