//! Storefront availability: the product page and the listing show each variant's stock status
//! (and the quantity when the company shows it), in step with adjustments, reservations,
//! releases, location changes and product edits, on every backend.

use super::inventory::{adjust, line, location, reserve, shop, Shop};
use commerce_tests::api::{Api, Call, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::catalog::collections::worker::WORKER;
use shared::inventory::reservations;
use std::sync::Arc;

pub(crate) fn store(shop: &Shop, call: Call) -> Call {
    call.header("x-api-key", &shop.key)
}

/// An active product with one variant per (name, policy); answers its handle and variant ids.
pub(crate) async fn product(
    api: &Api,
    shop: &Shop,
    variants: &[(&str, Value)],
) -> (String, Vec<String>) {
    let names: Vec<&str> = variants.iter().map(|(n, _)| *n).collect();
    let created = api
        .send(shop.admin(api.post("/admin/products")).json(json!({
            "title": "Field Jacket",
            "status": "active",
            "options": [{"name": "Size", "values": names}]
        })))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for (name, policy) in variants {
        let mut body = json!({
            "options": {"Size": name},
            "price": {"amount": 9900, "currency": "EUR"}
        });
        body.as_object_mut()
            .unwrap()
            .extend(policy.as_object().unwrap().clone());
        let v = api
            .send(
                shop.admin(api.post(&format!("/admin/products/{id}/variants")))
                    .json(body),
            )
            .await;
        assert_eq!(v.status, 201, "{:?}", v.body);
        ids.push(v.body["id"].as_str().unwrap().to_owned());
    }
    (created.body["handle"].as_str().unwrap().to_owned(), ids)
}

async fn page(api: &Api, shop: &Shop, handle: &str) -> Response {
    let r = api
        .send(store(shop, api.get(&format!("/store/products/{handle}"))))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r
}

/// Each variant's availability on the product page, in the order of `variants`.
pub(crate) async fn on_page(
    api: &Api,
    shop: &Shop,
    handle: &str,
    variants: &[String],
) -> Vec<Value> {
    let r = page(api, shop, handle).await;
    variants
        .iter()
        .map(|id| {
            r.body["variants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["id"] == id.as_str())
                .map(|v| v["availability"].clone())
                .expect("the variant is on the page")
        })
        .collect()
}

/// Each variant's availability in the storefront listing.
async fn listed(api: &Api, shop: &Shop, variants: &[String]) -> Vec<Value> {
    let r = api.send(store(shop, api.get("/store/products"))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let card = &r.body["data"][0];
    variants
        .iter()
        .map(|id| card["availability"][id.as_str()].clone())
        .collect()
}

fn statuses(values: &[Value]) -> Vec<&str> {
    values
        .iter()
        .map(|v| v["status"].as_str().unwrap_or("missing"))
        .collect()
}

pub(crate) async fn settings(api: &Api, shop: &Shop, body: Value) {
    let r = api
        .send(
            shop.admin(api.patch("/admin/settings/inventory"))
                .json(body),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn storefront_availability_follows_stock(api: Api) {
    let a = shop(&api, "acme").await;
    let shop_floor = location(&api, &a, "Shop floor", 10).await;
    let back_room = location(&api, &a, "Back room", 1).await;
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/locations/{back_room}")))
                .json(json!({"fulfils_online_orders": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (handle, v) = product(
        &api,
        &a,
        &[
            ("S", json!({})),
            ("M", json!({"safety_stock": 2})),
            ("L", json!({"track_inventory": false})),
            ("XL", json!({"allow_backorder": true})),
            ("XXL", json!({})),
        ],
    )
    .await;
    assert_eq!(adjust(&api, &a, &v[0], &shop_floor, 10).await.status, 201);
    // 5 on hand, 2 kept back: 3 to sell, at most the threshold of 5.
    assert_eq!(adjust(&api, &a, &v[1], &shop_floor, 5).await.status, 201);
    // Units where online orders are not fulfilled are not for sale.
    assert_eq!(adjust(&api, &a, &v[4], &back_room, 20).await.status, 201);

    let expected = [
        "in_stock",
        "low_stock",
        "in_stock",
        "backorder",
        "out_of_stock",
    ];
    let shown = on_page(&api, &a, &handle, &v).await;
    assert_eq!(statuses(&shown), expected);
    assert!(
        shown.iter().all(|s| s.get("quantity").is_none()),
        "quantities are hidden by default: {shown:?}"
    );
    assert_eq!(statuses(&listed(&api, &a, &v).await), expected);
    let full = page(&api, &a, &handle).await;
    let purchasable: Vec<bool> = full.body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["available"].as_bool().unwrap())
        .collect();
    assert_eq!(purchasable, [true, true, true, true, false]);

    // The company shows quantities: the page always, the listing while low on stock.
    settings(&api, &a, json!({"show_stock_quantity": true})).await;
    let shown = on_page(&api, &a, &handle, &v).await;
    let quantities: Vec<Value> = shown.iter().map(|s| s["quantity"].clone()).collect();
    assert_eq!(
        quantities,
        [json!(10), json!(3), Value::Null, json!(0), json!(0)]
    );
    // The listing follows once the settings change has gone through the worker.
    api.run_worker(&a.id, &WORKER).await;
    let cards = listed(&api, &a, &v).await;
    let quantities: Vec<Value> = cards.iter().map(|s| s["quantity"].clone()).collect();
    assert_eq!(
        quantities,
        [json!(10), json!(3), Value::Null, json!(0), json!(0)]
    );

    // A reservation counts at once on the page, and flips the listing to low stock.
    let tenant = a.tenant();
    reserve(&api, &a, "cart_1", &[line(&v[0], 8)], 600)
        .await
        .unwrap();
    let shown = on_page(&api, &a, &handle, &v).await;
    assert_eq!(shown[0], json!({"status": "low_stock", "quantity": 2}));
    let cards = listed(&api, &a, &v).await;
    assert_eq!(cards[0], json!({"status": "low_stock", "quantity": 2}));
    // The last units reserved: out of stock on both.
    reserve(&api, &a, "cart_2", &[line(&v[0], 2)], 600)
        .await
        .unwrap();
    assert_eq!(
        on_page(&api, &a, &handle, &v).await[0],
        json!({"status": "out_of_stock", "quantity": 0})
    );
    assert_eq!(listed(&api, &a, &v).await[0]["status"], "out_of_stock");
    reservations::release(&api.app, &tenant, "cart_1")
        .await
        .unwrap();
    reservations::release(&api.app, &tenant, "cart_2")
        .await
        .unwrap();
    assert_eq!(
        on_page(&api, &a, &handle, &v).await[0],
        json!({"status": "in_stock", "quantity": 10})
    );
    assert_eq!(
        listed(&api, &a, &v).await[0],
        json!({"status": "in_stock", "quantity": 10})
    );

    // The back room starts fulfilling online orders: its units are for sale.
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/locations/{back_room}")))
                .json(json!({"fulfils_online_orders": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(on_page(&api, &a, &handle, &v).await[4]["quantity"], 20);
    assert_eq!(
        listed(&api, &a, &v).await[4],
        json!({"status": "in_stock", "quantity": 20})
    );

    // A product edit keeps the listing's availability; a variant's policy change recomputes it.
    let product_id = full.body["id"].as_str().unwrap();
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{product_id}")))
                .json(json!({"title": "Field Jacket II"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{product_id}/variants/{}", v[4])))
                .json(json!({"safety_stock": 18})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let cards = listed(&api, &a, &v).await;
    assert_eq!(
        statuses(&cards),
        [
            "in_stock",
            "low_stock",
            "in_stock",
            "backorder",
            "low_stock"
        ]
    );
    assert_eq!(cards[4]["quantity"], 2);

    // A lower threshold applies to the page at once.
    settings(
        &api,
        &a,
        json!({"low_stock_threshold": 1, "show_stock_quantity": false}),
    )
    .await;
    assert_eq!(
        statuses(&on_page(&api, &a, &handle, &v).await),
        ["in_stock", "in_stock", "in_stock", "backorder", "in_stock"]
    );
    api.run_worker(&a.id, &WORKER).await;
    let cards = listed(&api, &a, &v).await;
    assert_eq!(
        statuses(&cards),
        ["in_stock", "in_stock", "in_stock", "backorder", "in_stock"]
    );
    assert!(
        cards.iter().all(|c| c.get("quantity").is_none()),
        "{cards:?}"
    );

    // Another company sees none of it.
    let b = shop(&api, "bolt").await;
    let r = api
        .send(store(&b, api.get(&format!("/store/products/{handle}"))))
        .await;
    assert_eq!(r.status, 404);
}

async fn the_product_page_and_the_listing_keep_their_store_calls(api: Api) {
    let a = shop(&api, "acme").await;
    let here = location(&api, &a, "Warehouse", 1).await;
    let (handle, v) = product(&api, &a, &[("S", json!({})), ("M", json!({}))]).await;
    assert_eq!(adjust(&api, &a, &v[0], &here, 4).await.status, 201);
    // Warm the caches (key, taxonomy, settings).
    page(&api, &a, &handle).await;
    api.send(store(&a, api.get("/store/products"))).await;
    let (r, calls) = api
        .send_counted(store(&a, api.get(&format!("/store/products/{handle}"))))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(calls, 2, "the handle, then the product's partition");
    let (r, calls) = api
        .send_counted(store(&a, api.get("/store/products")))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["data"][0]["availability"][&v[0]]["status"],
        "low_stock"
    );
    assert_eq!(calls, 1, "one query of the listing");
}

/// Racing reservations and releases publish concurrently; whatever order they land in, the
/// listing ends where the stock is.
async fn the_listing_settles_where_racing_reservations_leave_the_stock(api: Api) {
    let a = shop(&api, "acme").await;
    let here = location(&api, &a, "Warehouse", 1).await;
    let (handle, v) = product(&api, &a, &[("S", json!({}))]).await;
    assert_eq!(adjust(&api, &a, &v[0], &here, 12).await.status, 201);
    let api = Arc::new(api);
    let race = |release: bool| {
        (0..30)
            .map(|i| {
                let (api, tenant, variant) = (api.clone(), a.tenant(), v[0].clone());
                tokio::spawn(async move {
                    let holder = format!("cart_{i}");
                    if release {
                        reservations::release(&api.app, &tenant, &holder)
                            .await
                            .map(|_| ())
                    } else {
                        let expires = api.app.clock.epoch_seconds() + 600;
                        reservations::reserve(
                            &api.app,
                            &tenant,
                            &holder,
                            &[line(&variant, 1)],
                            expires,
                        )
                        .await
                        .map(|_| ())
                    }
                })
            })
            .collect::<Vec<_>>()
    };
    let mut held = 0;
    for task in race(false) {
        if task.await.unwrap().is_ok() {
            held += 1;
        }
    }
    assert_eq!(held, 12);
    assert_eq!(
        statuses(&on_page(&api, &a, &handle, &v).await),
        ["out_of_stock"]
    );
    assert_eq!(statuses(&listed(&api, &a, &v).await), ["out_of_stock"]);
    for task in race(true) {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        statuses(&on_page(&api, &a, &handle, &v).await),
        ["in_stock"]
    );
    assert_eq!(statuses(&listed(&api, &a, &v).await), ["in_stock"]);
}

api_cases!(
    the_listing_settles_where_racing_reservations_leave_the_stock,
    storefront_availability_follows_stock,
    the_product_page_and_the_listing_keep_their_store_calls,
);
