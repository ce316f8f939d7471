//! Discounts through the API, on every backend: the worked carts of docs/discounts.md, each to
//! the unit; codes refused with their reasons (and kept, inactive, when a change stops them
//! applying); the last use of a single-use code taken by exactly one of a hundred racing
//! redemptions; ten thousand codes generated in one request; guessing throttled; and the admin
//! routes checked, scoped and permission-guarded.

use super::shipping_tax::{
    address, cart, company, get, patch, settings, ship_to, totals, variants, zone,
};
use commerce_tests::api::{Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::discounts::model::Discount;
use shared::discounts::usage::{self, Redemption};
use std::sync::Arc;

use super::inventory::Shop;

async fn discount(api: &Api, shop: &Shop, body: Value) -> Value {
    let r = api
        .send(shop.admin(api.post("/admin/discounts")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

/// Enters a code on a cart (each cart counts as its own source address, so tests do not share
/// the per-address throttle).
async fn enter(api: &Api, key: &str, cart: &str, code: &str) -> Response {
    api.send(
        api.post(&format!("/store/carts/{cart}/discount-codes"))
            .header("x-api-key", key)
            .from_ip(cart)
            .json(json!({ "code": code })),
    )
    .await
}

fn refused(r: &Response, code: &str) {
    assert_eq!((r.status, r.code()), (422, code), "{:?}", r.body);
    assert!(
        r.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "a message a storefront can show: {:?}",
        r.body
    );
}

/// Each line's discount.
fn line_discounts(cart: &Value) -> Vec<i64> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["discount"].as_i64().unwrap())
        .collect()
}

/// The cart's codes as (code, active, reason code).
fn codes(cart: &Value) -> Vec<(String, bool, Option<String>)> {
    cart["discount_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["active"].as_bool().unwrap(),
                c["reason"]["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn code_entry(code: &str, active: bool, reason: Option<&str>) -> (String, bool, Option<String>) {
    (code.to_owned(), active, reason.map(str::to_owned))
}

/// The id of the product `variants` made with these variant names.
async fn product_titled(api: &Api, shop: &Shop, title: &str) -> String {
    let r = api
        .send(shop.admin(api.get("/admin/products?limit=100")))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == title)
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("no product {title}: {:?}", r.body))
        .to_owned()
}

// The worked carts ---------------------------------------------------------------------------

/// 15 % off a collection (automatic) and a free-shipping code: 2 × 40.00 in the collection and
/// 30.00 outside it, shipping 5.90. The collection's lines lose 12.00; shipping is free.
async fn a_collection_sale_with_a_free_shipping_code(api: Api) {
    let (a, key) = company(&api, "disc-col", "DE", "EUR").await;
    let sale = variants(&api, &a, "EUR", &[("Sale", 4000, json!({}))]).await;
    let full = variants(&api, &a, "EUR", &[("Full", 3000, json!({}))]).await;
    let sale_product = product_titled(&api, &a, "Goods Sale").await;
    let col = api
        .send(
            a.admin(api.post("/admin/collections"))
                .json(json!({"title": "Summer"})),
        )
        .await;
    assert_eq!(col.status, 201, "{:?}", col.body);
    let col = col.body["id"].as_str().unwrap().to_owned();
    let placed = api
        .send(
            a.admin(api.post(&format!("/admin/collections/{col}/products")))
                .json(json!({"product_ids": [sale_product]})),
        )
        .await;
    assert!(placed.status < 300, "{:?}", placed.body);
    discount(
        &api,
        &a,
        json!({
            "title": "Summer 15 %", "method": "automatic",
            "value": {"type": "percentage", "percentage": 15, "targets": {"collections": [col]}},
            "combines_with": {"shipping_discounts": true}
        }),
    )
    .await;
    discount(
        &api,
        &a,
        json!({
            "title": "Free shipping", "method": "code", "code": "shipfree",
            "value": {"type": "free_shipping"},
            "combines_with": {"product_discounts": true}
        }),
    )
    .await;
    let zone = zone(
        &api,
        &a,
        json!({"name": "Germany", "countries": ["DE"], "methods": [
            {"name": "Standard", "currency": "EUR", "rate": {"type": "flat", "amount": 590}}
        ]}),
    )
    .await;
    let id = cart(&api, &key, &[(&sale[0], 2), (&full[0], 1)]).await;
    ship_to(&api, &key, &id, address("DE", None, "10115")).await;
    let method = zone["methods"][0]["id"].as_str().unwrap();
    let chosen = super::shipping_tax::choose(&api, &key, &id, method).await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    let with_code = enter(&api, &key, &id, "ShipFree").await;
    assert_eq!(with_code.status, 200, "{:?}", with_code.body);
    // Warm: the cart, then its products with their collections (the discounts come from the
    // container's copy).
    let (counted, calls) = api
        .send_counted(
            api.get(&format!("/store/carts/{id}"))
                .header("x-api-key", &key),
        )
        .await;
    assert_eq!(counted.status, 200);
    assert_eq!(
        calls, 2,
        "the cart, then its products and their collections"
    );
    let c = get(&api, &key, &id).await;
    assert_eq!(line_discounts(&c), vec![1200, 0]);
    assert_eq!(c["discount_total"], 1200 + 590);
    assert_eq!(totals(&c), [11000, 0, 0, 9800]);
    assert_eq!(codes(&c), vec![code_entry("SHIPFREE", true, None)]);
    let applied: Vec<(String, i64, i64)> = c["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["title"].as_str().unwrap().to_owned(),
                d["amount"].as_i64().unwrap(),
                d["shipping_amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        applied,
        vec![
            ("Summer 15 %".to_owned(), 1200, 0),
            ("Free shipping".to_owned(), 590, 590)
        ]
    );
    assert_eq!(c["items"][0]["discounts"][0]["amount"], 1200);
}

/// Buy 2 get 1 free: three items at 30.00, 20.00 and 10.00; the 10.00 one is free.
async fn buy_two_get_the_cheapest_free(api: Api) {
    let (a, key) = company(&api, "disc-bxgy", "DE", "EUR").await;
    let v = variants(
        &api,
        &a,
        "EUR",
        &[
            ("L", 3000, json!({})),
            ("M", 2000, json!({})),
            ("S", 1000, json!({})),
        ],
    )
    .await;
    discount(
        &api,
        &a,
        json!({
            "title": "3 for 2", "method": "automatic",
            "value": {"type": "buy_x_get_y", "buy": {"quantity": 2}, "get": {"quantity": 1, "percentage": 100}}
        }),
    )
    .await;
    let id = cart(&api, &key, &[(&v[0], 1), (&v[1], 1), (&v[2], 1)]).await;
    let c = get(&api, &key, &id).await;
    assert_eq!(line_discounts(&c), vec![0, 0, 1000]);
    assert_eq!(totals(&c), [6000, 0, 0, 5000]);
    // Two of the cheapest: still one application (a second needs three more units).
    let id = cart(&api, &key, &[(&v[0], 1), (&v[2], 2)]).await;
    assert_eq!(line_discounts(&get(&api, &key, &id).await), vec![0, 1000]);
}

/// 10.00 EUR off the order over 10.00, 20.00 and 30.01: 1.67, 3.33 and 5.00 (the odd cent goes
/// to the largest dropped fraction).
async fn a_fixed_order_discount_is_shared_with_its_remainder(api: Api) {
    let (a, key) = company(&api, "disc-fixed", "DE", "EUR").await;
    let v = variants(
        &api,
        &a,
        "EUR",
        &[
            ("A", 1000, json!({})),
            ("B", 2000, json!({})),
            ("C", 3001, json!({})),
        ],
    )
    .await;
    discount(
        &api,
        &a,
        json!({
            "title": "10 off", "method": "code", "code": "TENOFF", "currency": "EUR",
            "value": {"type": "fixed_order", "amount": 1000}
        }),
    )
    .await;
    let id = cart(&api, &key, &[(&v[0], 1), (&v[1], 1), (&v[2], 1)]).await;
    let (c, calls) = api
        .send_counted(
            api.post(&format!("/store/carts/{id}/discount-codes"))
                .header("x-api-key", &key)
                .from_ip(&id)
                .json(json!({ "code": "tenoff" })),
        )
        .await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert!(
        calls <= 14,
        "throttle slots, the cart, the code, the change: {calls}"
    );
    assert_eq!(line_discounts(&c.body), vec![167, 333, 500]);
    assert_eq!(totals(&c.body), [6001, 0, 0, 5001]);
    // Entering it again changes nothing.
    let again = enter(&api, &key, &id, "TENOFF").await;
    assert_eq!(again.status, 200);
    assert_eq!(codes(&again.body), vec![code_entry("TENOFF", true, None)]);
}

/// A code with a 50.00 minimum: refused on a 40.00 cart; applied once the cart reaches it; kept
/// but inactive, with the reason, when the cart drops below it again.
async fn a_code_below_its_minimum(api: Api) {
    let (a, key) = company(&api, "disc-min", "DE", "EUR").await;
    let v = variants(&api, &a, "EUR", &[("A", 2000, json!({}))]).await;
    discount(
        &api,
        &a,
        json!({
            "title": "5 off 50", "method": "code", "code": "FIVE", "currency": "EUR",
            "value": {"type": "fixed_order", "amount": 500},
            "conditions": {"minimum_subtotal": 5000}
        }),
    )
    .await;
    let id = cart(&api, &key, &[(&v[0], 2)]).await;
    refused(
        &enter(&api, &key, &id, "five").await,
        "discount_minimum_not_met",
    );
    assert_eq!(get(&api, &key, &id).await["discount_codes"], json!([]));
    let line = get(&api, &key, &id).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/store/carts/{id}/items/{line}");
    let set = |q: i64| {
        api.send(
            api.patch(&path)
                .header("x-api-key", &key)
                .json(json!({"quantity": q})),
        )
    };
    assert_eq!(set(3).await.status, 200);
    let c = enter(&api, &key, &id, "FIVE").await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert_eq!(totals(&c.body), [6000, 0, 0, 5500]);
    let dropped = set(2).await;
    assert_eq!(dropped.status, 200);
    assert_eq!(totals(&dropped.body), [4000, 0, 0, 4000]);
    assert_eq!(
        codes(&dropped.body),
        vec![code_entry("FIVE", false, Some("discount_minimum_not_met"))]
    );
    assert!(dropped.body["discount_codes"][0]["reason"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("minimum")));
    // Back above it: the kept code applies again.
    let back = set(3).await;
    assert_eq!(totals(&back.body), [6000, 0, 0, 5500]);
    // Taken off.
    let removed = api
        .send(
            api.delete(&format!("/store/carts/{id}/discount-codes/five"))
                .header("x-api-key", &key),
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(removed.body["discount_codes"], json!([]));
    let gone = api
        .send(
            api.delete(&format!("/store/carts/{id}/discount-codes/five"))
                .header("x-api-key", &key),
        )
        .await;
    assert_eq!(gone.status, 404);
}

/// Two codes that do not combine: the second is refused, the first stays.
async fn two_codes_that_do_not_combine(api: Api) {
    let (a, key) = company(&api, "disc-two", "DE", "EUR").await;
    let v = variants(&api, &a, "EUR", &[("A", 10_000, json!({}))]).await;
    let mut ids = Vec::new();
    for (code, percentage) in [("TEN", 10), ("TWENTY", 20)] {
        let d = discount(
            &api,
            &a,
            json!({
                "title": code, "method": "code", "code": code,
                "value": {"type": "percentage", "percentage": percentage}
            }),
        )
        .await;
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    let id = cart(&api, &key, &[(&v[0], 1)]).await;
    assert_eq!(enter(&api, &key, &id, "TEN").await.status, 200);
    refused(
        &enter(&api, &key, &id, "TWENTY").await,
        "discount_not_combinable",
    );
    let c = get(&api, &key, &id).await;
    assert_eq!(codes(&c), vec![code_entry("TEN", true, None)]);
    assert_eq!(totals(&c), [10_000, 0, 0, 9_000]);
    // Staff delete the code: the cart keeps it, inactive, and stops applying it.
    let deleted = api
        .send(a.admin(api.delete(&format!("/admin/discounts/{}/codes/TEN", ids[0]))))
        .await;
    assert_eq!(deleted.status, 204);
    let c = get(&api, &key, &id).await;
    assert_eq!(
        codes(&c),
        vec![code_entry("TEN", false, Some("discount_not_found"))]
    );
    assert_eq!(totals(&c), [10_000, 0, 0, 10_000]);
    // Now the other code may join.
    assert_eq!(enter(&api, &key, &id, "TWENTY").await.status, 200);
    assert_eq!(totals(&get(&api, &key, &id).await), [10_000, 0, 0, 8_000]);
}

/// 10 % off in a shop whose prices include 19 % VAT: 119.00 becomes 107.10, of which 17.10 is
/// VAT (the tax is worked out after the discount).
async fn a_percentage_in_a_tax_inclusive_shop(api: Api) {
    let (a, key) = company(&api, "disc-vat", "DE", "EUR").await;
    settings(&api, &a, "tax", json!({"prices_include_tax": true})).await;
    super::shipping_tax::rate(
        &api,
        &a,
        json!({"name": "MwSt. 19 %", "country": "DE", "percentage": 19}),
    )
    .await;
    let v = variants(&api, &a, "EUR", &[("A", 11_900, json!({}))]).await;
    discount(
        &api,
        &a,
        json!({"title": "10 %", "method": "automatic", "value": {"type": "percentage", "percentage": 10}}),
    )
    .await;
    let id = cart(&api, &key, &[(&v[0], 1)]).await;
    let c = ship_to(&api, &key, &id, address("DE", None, "10115")).await;
    assert_eq!(line_discounts(&c), vec![1190]);
    assert_eq!(totals(&c), [11_900, 0, 1710, 10_710]);
}

/// 15 % off a yen cart of ¥1,999 and ¥999: ¥449.7 rounds to ¥450, shared ¥300 and ¥150.
async fn a_yen_discount_rounds_to_the_yen(api: Api) {
    let (a, key) = company(&api, "disc-jpy", "JP", "JPY").await;
    let v = variants(
        &api,
        &a,
        "JPY",
        &[("A", 1999, json!({})), ("B", 999, json!({}))],
    )
    .await;
    discount(
        &api,
        &a,
        json!({"title": "15 %", "method": "automatic", "value": {"type": "percentage", "percentage": 15}}),
    )
    .await;
    let id = cart(&api, &key, &[(&v[0], 1), (&v[1], 1)]).await;
    let c = get(&api, &key, &id).await;
    assert_eq!(line_discounts(&c), vec![300, 150]);
    assert_eq!(totals(&c), [2998, 0, 0, 2548]);
}

// Codes refused, uses, generation, throttling ------------------------------------------------

async fn codes_are_refused_with_their_reasons(api: Api) {
    let (a, key) = company(&api, "disc-why", "DE", "EUR").await;
    let (b, _) = company(&api, "disc-why-b", "DE", "EUR").await;
    let v = variants(&api, &a, "EUR", &[("A", 1000, json!({}))]).await;
    let only = |code: &str, extra: Value| {
        let mut body = json!({
            "title": code, "method": "code", "code": code,
            "value": {"type": "percentage", "percentage": 5}
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    discount(
        &api,
        &a,
        only("OLD", json!({"ends_at": "2001-01-01T00:00:00Z"})),
    )
    .await;
    discount(
        &api,
        &a,
        only("SOON", json!({"starts_at": "2099-01-01T00:00:00+02:00"})),
    )
    .await;
    discount(&api, &a, only("OFF", json!({"active": false}))).await;
    variants(&api, &a, "EUR", &[("Other", 1000, json!({}))]).await;
    let other = product_titled(&api, &a, "Goods Other").await;
    discount(
        &api,
        &a,
        json!({
            "title": "Other only", "method": "code", "code": "ELSEWHERE",
            "value": {"type": "percentage", "percentage": 5, "targets": {"products": [other]}}
        }),
    )
    .await;
    let once = discount(&api, &a, only("ONCE", json!({"limits": {"total": 1}}))).await;
    discount(&api, &b, only("THEIRS", json!({}))).await;
    let id = cart(&api, &key, &[(&v[0], 1)]).await;
    refused(&enter(&api, &key, &id, "nope").await, "discount_not_found");
    refused(
        &enter(&api, &key, &id, "THEIRS").await,
        "discount_not_found",
    );
    refused(&enter(&api, &key, &id, "OLD").await, "discount_expired");
    refused(
        &enter(&api, &key, &id, "SOON").await,
        "discount_not_started",
    );
    refused(&enter(&api, &key, &id, "OFF").await, "discount_not_found");
    // USD is not one of the company's currencies: the discount is refused at creation.
    let r = api
        .send(
            a.admin(api.post("/admin/discounts"))
                .json(only("USD2", json!({"currency": "USD"}))),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    refused(&enter(&api, &key, &id, "USD2").await, "discount_not_found");
    refused(
        &enter(&api, &key, &id, "ELSEWHERE").await,
        "discount_not_applicable",
    );
    // The single use, taken by an order: the code is used up.
    let once: Discount = serde_json::from_value(once).unwrap();
    usage::redeem(
        &api.app,
        &a.tenant(),
        &[Redemption {
            discount: &once,
            code: Some("ONCE"),
            buyers: &[],
        }],
    )
    .await
    .unwrap();
    refused(
        &enter(&api, &key, &id, "ONCE").await,
        "discount_usage_exhausted",
    );
    let viewed = api
        .send(a.admin(api.get(&format!("/admin/discounts/{}", once.id))))
        .await;
    assert_eq!(viewed.body["usage_count"], 1);
    // Nothing was entered.
    assert_eq!(get(&api, &key, &id).await["discount_codes"], json!([]));
}

/// A hundred redemptions race for a single-use code's last use: exactly one gets it.
async fn the_last_use_of_a_code_goes_to_exactly_one(api: Api) {
    let _turn = commerce_tests::api::crowd().await;
    let (a, _) = company(&api, "disc-race", "DE", "EUR").await;
    let body = discount(
        &api,
        &a,
        json!({
            "title": "Once", "method": "code", "code": "LAST",
            "value": {"type": "percentage", "percentage": 50},
            "limits": {"per_code": 1}
        }),
    )
    .await;
    let d: Arc<Discount> = Arc::new(serde_json::from_value(body).unwrap());
    let app = api.app.clone();
    let tenant = a.tenant();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (app, tenant, d) = (app.clone(), tenant.clone(), d.clone());
            tokio::spawn(async move {
                usage::redeem(
                    &app,
                    &tenant,
                    &[Redemption {
                        discount: &d,
                        code: Some("LAST"),
                        buyers: &[],
                    }],
                )
                .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(e) => {
                let api_error: shared::http::ApiError = e.into();
                assert_eq!(
                    api_error.code.name, "discount_usage_exhausted",
                    "a clean refusal"
                );
            }
        }
    }
    assert_eq!(won, 1);
    let listed = api
        .send(a.admin(api.get(&format!("/admin/discounts/{}/codes", d.id))))
        .await;
    assert_eq!(listed.body["data"][0]["usage_count"], 1);
    // Given back (an order canceled): usable once more.
    usage::give_back(
        &api.app,
        &tenant,
        &[Redemption {
            discount: &d,
            code: Some("LAST"),
            buyers: &[],
        }],
    )
    .await
    .unwrap();
    let listed = api
        .send(a.admin(api.get(&format!("/admin/discounts/{}/codes", d.id))))
        .await;
    assert_eq!(listed.body["data"][0]["usage_count"], 0);
}

async fn ten_thousand_codes_in_one_request(api: Api) {
    // DynamoDB Local slows down as it fills (one in-memory database for every table), so there
    // the same request makes 2,000 codes; the embedded store makes the full 10,000.
    let count: usize = if api.backend == "embedded" {
        10_000
    } else {
        2_000
    };
    let (a, key) = company(&api, "disc-gen", "DE", "EUR").await;
    let d = discount(
        &api,
        &a,
        json!({
            "title": "Mailing", "method": "code",
            "value": {"type": "percentage", "percentage": 10},
            "limits": {"per_code": 1}
        }),
    )
    .await;
    let id = d["id"].as_str().unwrap();
    let r = api
        .send(
            a.admin(api.post(&format!("/admin/discounts/{id}/codes")))
                .json(json!({"generate": {"count": count, "prefix": "XMAS-", "length": 8}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["count"], count);
    let generated: std::collections::HashSet<&str> = r.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(generated.len(), count, "distinct");
    assert!(generated
        .iter()
        .all(|c| c.starts_with("XMAS-") && c.len() == 13));
    // Any of them works on a cart, in any case.
    let v = variants(&api, &a, "EUR", &[("A", 1000, json!({}))]).await;
    let cart_id = cart(&api, &key, &[(&v[0], 1)]).await;
    let one = generated.iter().next().unwrap().to_lowercase();
    let c = enter(&api, &key, &cart_id, &one).await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert_eq!(c.body["discount_total"], 100);
    // Listed in pages, with their uses.
    let page = api
        .send(a.admin(api.get(&format!("/admin/discounts/{id}/codes?limit=100"))))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["data"].as_array().unwrap().len(), 100);
    assert!(page.body["next_cursor"].is_string());
    // A code the company has: 409; deleted with the discount.
    let taken = api
        .send(
            a.admin(api.post(&format!("/admin/discounts/{id}/codes")))
                .json(json!({ "code": one })),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "code_taken"));
    assert_eq!(
        api.send(a.admin(api.delete(&format!("/admin/discounts/{id}"))))
            .await
            .status,
        204
    );
    let other = variants(&api, &a, "EUR", &[("B", 1000, json!({}))]).await;
    let cart_id = cart(&api, &key, &[(&other[0], 1)]).await;
    refused(
        &enter(&api, &key, &cart_id, &one).await,
        "discount_not_found",
    );
}

async fn guessing_codes_is_throttled(api: Api) {
    let (a, key) = company(&api, "disc-guess", "DE", "EUR").await;
    let v = variants(&api, &a, "EUR", &[("A", 1000, json!({}))]).await;
    discount(
        &api,
        &a,
        json!({"title": "Real", "method": "code", "code": "REAL", "value": {"type": "percentage", "percentage": 5}}),
    )
    .await;
    let id = cart(&api, &key, &[(&v[0], 1)]).await;
    for n in 0..10 {
        refused(
            &enter(&api, &key, &id, &format!("GUESS{n}")).await,
            "discount_not_found",
        );
    }
    let eleventh = enter(&api, &key, &id, "REAL").await;
    assert_eq!(eleventh.status, 429, "{:?}", eleventh.body);
    assert!(eleventh.header("retry-after").is_some());
    // The same address on another cart is throttled too.
    let other = cart(&api, &key, &[(&v[0], 1)]).await;
    let r = api
        .send(
            api.post(&format!("/store/carts/{other}/discount-codes"))
                .header("x-api-key", &key)
                .from_ip(&id)
                .json(json!({"code": "REAL"})),
        )
        .await;
    assert_eq!(r.status, 429);
    // Another address on another cart is not.
    assert_eq!(enter(&api, &key, &other, "REAL").await.status, 200);
}

async fn discounts_are_checked_scoped_and_guarded(api: Api) {
    let (a, key) = company(&api, "disc-adm", "DE", "EUR").await;
    let (b, _) = company(&api, "disc-adm-b", "DE", "EUR").await;
    let bad = [
        json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": -5}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": 101}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "fixed_order", "amount": 500}}),
        json!({"title": "x", "method": "automatic", "currency": "EUR", "value": {"type": "fixed_order", "amount": 0}}),
        json!({"title": "", "method": "automatic", "value": {"type": "percentage", "percentage": 5}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": 5}, "starts_at": "tomorrow"}),
        json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": 5},
               "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}),
        json!({"title": "x", "method": "automatic", "code": "NOPE", "value": {"type": "percentage", "percentage": 5}}),
        json!({"title": "x", "method": "code", "code": "a#b", "value": {"type": "percentage", "percentage": 5}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": 5, "targets": {"products": ["nope"]}}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "buy_x_get_y", "buy": {"quantity": 0}, "get": {"quantity": 1, "percentage": 100}}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": 5}, "limits": {"total": 0}}),
        json!({"title": "x", "method": "automatic", "value": {"type": "mystery"}}),
    ];
    for body in bad {
        let r = api
            .send(a.admin(api.post("/admin/discounts")).json(body.clone()))
            .await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
    }
    let listed = api.send(a.admin(api.get("/admin/discounts"))).await;
    assert_eq!(listed.body["data"], json!([]), "nothing was half-written");
    let d = discount(
        &api,
        &a,
        json!({"title": "Spring", "method": "code", "code": "SPRING", "value": {"type": "percentage", "percentage": 5}}),
    )
    .await;
    let id = d["id"].as_str().unwrap().to_owned();
    assert_eq!(d["class"], "order");
    assert_eq!(d["status"], "live");
    assert_eq!(d["usage_count"], 0);
    // The same code again, in any case: taken.
    let again = api
        .send(a.admin(api.post("/admin/discounts")).json(
            json!({"title": "Dup", "method": "code", "code": "spring", "value": {"type": "percentage", "percentage": 5}}),
        ))
        .await;
    assert_eq!((again.status, again.code()), (409, "code_taken"));
    // Changed at its version; a stale version is refused.
    let changed = api
        .send(
            a.admin(api.patch(&format!("/admin/discounts/{id}")))
                .header("if-match", "\"1\"")
                .json(json!({"title": "Spring sale", "active": false})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["status"], "disabled");
    let stale = api
        .send(
            a.admin(api.patch(&format!("/admin/discounts/{id}")))
                .header("if-match", "\"1\"")
                .json(json!({"title": "Again"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let filtered = api
        .send(a.admin(api.get("/admin/discounts?status=disabled&method=code")))
        .await;
    assert_eq!(filtered.body["data"][0]["id"], id.as_str());
    // An automatic discount takes no codes.
    let auto = discount(
        &api,
        &a,
        json!({"title": "Auto", "method": "automatic", "value": {"type": "percentage", "percentage": 5}}),
    )
    .await;
    let r = api
        .send(
            a.admin(api.post(&format!(
                "/admin/discounts/{}/codes",
                auto["id"].as_str().unwrap()
            )))
            .json(json!({"code": "AUTO"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "not_a_code_discount"));
    // Another company sees none of it.
    for path in [
        format!("/admin/discounts/{id}"),
        format!("/admin/discounts/{id}/codes"),
    ] {
        assert_eq!(
            api.send(b.admin(api.get(&path))).await.status,
            404,
            "{path}"
        );
    }
    assert_eq!(
        api.send(
            b.admin(
                api.patch(&format!("/admin/discounts/{id}"))
                    .json(json!({"title": "x"}))
            )
        )
        .await
        .status,
        404
    );
    assert_eq!(
        api.send(b.admin(api.delete(&format!("/admin/discounts/{id}/codes/SPRING"))))
            .await
            .status,
        404
    );
    assert_eq!(
        api.send(b.admin(api.delete(&format!("/admin/discounts/{id}"))))
            .await
            .status,
        404
    );
    // Permissions: reading needs discounts.read, writing discounts.write.
    let reader = api.member_with(&a.staff, &a.id, &["discounts.read"]).await;
    let r = api.send(api.get("/admin/discounts").token(&reader)).await;
    assert_eq!(r.status, 200);
    let r = api
        .send(
            api.post("/admin/discounts")
                .token(&reader)
                .json(json!({"title": "x", "method": "automatic", "value": {"type": "percentage", "percentage": 5}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "missing_permission"));
    let nobody = api.member_with(&a.staff, &a.id, &["tax.read"]).await;
    assert_eq!(
        api.send(api.get("/admin/discounts").token(&nobody))
            .await
            .status,
        403
    );
    // A storefront key is not a staff token; no token at all is refused.
    let r = api
        .send(api.get("/admin/discounts").header("x-api-key", &key))
        .await;
    assert!(matches!(r.status, 401 | 403), "{:?}", r.body);
    assert_eq!(api.send(api.get("/admin/discounts")).await.status, 401);
    // A code deleted: gone from the list.
    let deleted = api
        .send(a.admin(api.delete(&format!("/admin/discounts/{id}/codes/spring"))))
        .await;
    assert_eq!(deleted.status, 204);
    let listed = api
        .send(a.admin(api.get(&format!("/admin/discounts/{id}/codes"))))
        .await;
    assert_eq!(listed.body["data"], json!([]));
    // A cart of another company cannot be given this company's codes, nor can a cart id that
    // does not exist.
    let r = api
        .send(
            api.post("/store/carts/cart_nope/discount-codes")
                .header("x-api-key", &key)
                .json(json!({"code": "SPRING"})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = api
        .send(
            api.post("/store/carts/cart_nope/discount-codes")
                .header("x-api-key", &key)
                .json(json!({"code": 5})),
        )
        .await;
    assert!(matches!(r.status, 400 | 422), "{:?}", r.body);
    let _ = patch;
}

api_cases!(
    a_collection_sale_with_a_free_shipping_code,
    buy_two_get_the_cheapest_free,
    a_fixed_order_discount_is_shared_with_its_remainder,
    a_code_below_its_minimum,
    two_codes_that_do_not_combine,
    a_percentage_in_a_tax_inclusive_shop,
    a_yen_discount_rounds_to_the_yen,
    codes_are_refused_with_their_reasons,
    the_last_use_of_a_code_goes_to_exactly_one,
    ten_thousand_codes_in_one_request,
    guessing_codes_is_throttled,
    discounts_are_checked_scoped_and_guarded,
);
