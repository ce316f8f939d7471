//! Carts: guests and customers fill carts through the storefront API, their stock is reserved in
//! the same transaction as every change, prices follow the catalog, and nobody else can see or
//! change a cart, on every backend.

use super::availability::product;
use super::inventory::{adjust, location, shop, stock_at, Shop};
use commerce_tests::api::{Api, Call, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use std::sync::Arc;

const SHOPPER_PASSWORD: &str = "velvet-canyon-morning-42";

/// A storefront key of the shop that may fill carts and sign customers in.
async fn cart_key(api: &Api, shop: &Shop) -> String {
    let r = api
        .send(shop.admin(api.post("/admin/api-keys")).json(json!({
            "name": "Cart web",
            "scopes": ["store.read", "products.read", "carts.write", "customers.auth", "customers.write"]
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["secret"].as_str().unwrap().to_owned()
}

fn with_key(key: &str, call: Call) -> Call {
    call.header("x-api-key", key)
}

async fn new_cart(api: &Api, key: &str, body: Value) -> Response {
    api.send(with_key(key, api.post("/store/carts")).json(body))
        .await
}

async fn add(api: &Api, key: &str, cart: &str, variant: &str, quantity: Value) -> Response {
    api.send(
        with_key(key, api.post(&format!("/store/carts/{cart}/items")))
            .json(json!({"variant_id": variant, "quantity": quantity})),
    )
    .await
}

fn line<'a>(cart: &'a Value, variant: &str) -> Option<&'a Value> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["variant_id"] == variant)
}

async fn reserved(api: &Api, shop: &Shop, variant: &str, location: &str) -> i64 {
    stock_at(api, shop, variant, location).await["reserved"]
        .as_i64()
        .unwrap()
}

/// A shop selling three variants at 12.50, 8.00 and 3.99 EUR, 5 of each in one warehouse.
async fn stocked(api: &Api, handle: &str) -> (Shop, String, String, Vec<String>) {
    let shop = shop(api, handle).await;
    let key = cart_key(api, &shop).await;
    let warehouse = location(api, &shop, "Warehouse", 1).await;
    let (_, ids) = product(
        api,
        &shop,
        &[
            ("S", json!({"price": {"amount": 1250, "currency": "EUR"}})),
            ("M", json!({"price": {"amount": 800, "currency": "EUR"}})),
            ("L", json!({"price": {"amount": 399, "currency": "EUR"}})),
        ],
    )
    .await;
    for id in &ids {
        assert_eq!(adjust(api, &shop, id, &warehouse, 5).await.status, 201);
    }
    (shop, key, warehouse, ids)
}

async fn a_guest_fills_a_cart_and_its_stock_follows(api: Api) {
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let (s, m, l) = (&ids[0], &ids[1], &ids[2]);

    let created = new_cart(&api, &key, json!({"email": "Guest@Example.com"})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let cart = created.body["id"].as_str().unwrap().to_owned();
    assert!(cart.starts_with("cart_") && cart.len() == 31, "{cart}");
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        (
            &created.body["status"],
            &created.body["currency"],
            &created.body["email"]
        ),
        (&json!("open"), &json!("EUR"), &json!("guest@example.com"))
    );
    assert_eq!(
        (&created.body["grand_total"], &created.body["item_count"]),
        (&json!(0), &json!(0))
    );

    // Three variants in; each step's totals and reservations are exact.
    let r = add(&api, &key, &cart, s, json!(2)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(
        (&r.body["subtotal"], &r.body["grand_total"]),
        (&json!(2500), &json!(2500))
    );
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 2);
    add(&api, &key, &cart, m, json!(1)).await;
    let r = add(&api, &key, &cart, l, json!(3)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        (&r.body["subtotal"], &r.body["item_count"]),
        (&json!(2500 + 800 + 3 * 399), &json!(6))
    );
    let l_line = line(&r.body, l).unwrap();
    assert_eq!(
        (&l_line["unit_price"], &l_line["subtotal"], &l_line["total"]),
        (&json!(399), &json!(1197), &json!(1197))
    );
    let (l_item, m_item) = (
        l_line["id"].as_str().unwrap().to_owned(),
        line(&r.body, m).unwrap()["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(reserved(&api, &a, l, &warehouse).await, 3);

    // The same variant again grows its line.
    let r = add(&api, &key, &cart, s, json!(1)).await;
    assert_eq!(line(&r.body, s).unwrap()["quantity"], 3);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 3);

    // A quantity change, and a removal, give the units back.
    let r = api
        .send(
            with_key(
                &key,
                api.patch(&format!("/store/carts/{cart}/items/{l_item}")),
            )
            .json(json!({"quantity": 1})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(reserved(&api, &a, l, &warehouse).await, 1);
    let r = api
        .send(with_key(
            &key,
            api.delete(&format!("/store/carts/{cart}/items/{m_item}")),
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(reserved(&api, &a, m, &warehouse).await, 0);
    assert_eq!(
        (&r.body["subtotal"], &r.body["item_count"]),
        (&json!(3 * 1250 + 399), &json!(4))
    );
    let version = r.body["version"].as_u64().unwrap();

    // More than the stock: 409 with what can be had, and the cart is as it was.
    let short = add(&api, &key, &cart, s, json!(3)).await;
    assert_eq!(
        (short.status, short.code()),
        (409, "insufficient_stock"),
        "{:?}",
        short.body
    );
    assert_eq!(short.body["available"], 5);
    let got = api
        .send(with_key(&key, api.get(&format!("/store/carts/{cart}"))))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["version"], version);
    assert_eq!(line(&got.body, s).unwrap()["quantity"], 3);
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 3);

    // If-Match: a stale version is refused, the current one goes through.
    let stale = api
        .send(
            with_key(&key, api.post(&format!("/store/carts/{cart}/items")))
                .header("if-match", &format!("\"{}\"", version - 1))
                .json(json!({"variant_id": m, "quantity": 1})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let fresh = api
        .send(
            with_key(&key, api.patch(&format!("/store/carts/{cart}")))
                .header("if-match", &format!("\"{version}\""))
                .json(json!({"note": "Leave at the door", "country": "DE"})),
        )
        .await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(
        (&fresh.body["note"], &fresh.body["country"]),
        (&json!("Leave at the door"), &json!("DE"))
    );

    // A price change shows on the next read, flagged with the old price.
    let product_id = got.body["items"][0]["product_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let repriced = api
        .send(
            a.admin(api.patch(&format!("/admin/products/{product_id}/variants/{s}")))
                .json(json!({"price": {"amount": 1100, "currency": "EUR"}})),
        )
        .await;
    assert_eq!(repriced.status, 200, "{:?}", repriced.body);
    let got = api
        .send(with_key(&key, api.get(&format!("/store/carts/{cart}"))))
        .await;
    let s_line = line(&got.body, s).unwrap();
    assert_eq!(
        (
            &s_line["unit_price"],
            &s_line["price_changed"],
            &s_line["previous_unit_price"]
        ),
        (&json!(1100), &json!(true), &json!(1250))
    );
    assert_eq!(got.body["subtotal"], 3 * 1100 + 399);

    // Another company's key sees no such cart and cannot change it.
    let (_, b_key, _, b_ids) = stocked(&api, "bolt").await;
    let r = api
        .send(with_key(&b_key, api.get(&format!("/store/carts/{cart}"))))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        add(&api, &b_key, &cart, &b_ids[0], json!(1)).await.status,
        404
    );
    // Nor can this shop add another company's variant.
    let foreign = add(&api, &key, &cart, &b_ids[0], json!(1)).await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (422, "variant_unavailable")
    );
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 3);
}

async fn hostile_input_changes_nothing(api: Api) {
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let cart = new_cart(&api, &key, json!({})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(add(&api, &key, &cart, &ids[0], json!(1)).await.status, 200);
    for quantity in [
        json!(0),
        json!(-1),
        json!(1_000_000_000_000i64),
        json!("2"),
        json!(1.5),
        json!(10_000),
    ] {
        let r = add(&api, &key, &cart, &ids[0], quantity.clone()).await;
        assert_eq!(r.status, 422, "{quantity}: {:?}", r.body);
    }
    for variant in [
        "var_nope",
        "prod_01J0000000000000000000000A",
        "var_01J0000000000000000000000A",
    ] {
        let r = add(&api, &key, &cart, variant, json!(1)).await;
        assert_eq!(r.status, 422, "{variant}: {:?}", r.body);
    }
    let unknown = add(
        &api,
        &key,
        &cart,
        "var_01J0000000000000000000000A",
        json!(1),
    )
    .await;
    assert_eq!(unknown.code(), "variant_unavailable");
    // A draft product's variant is not for sale.
    let draft = api
        .send(
            a.admin(api.post("/admin/products"))
                .json(json!({"title": "Secret", "status": "draft"})),
        )
        .await;
    let draft_variant = api
        .send(
            a.admin(api.post(&format!(
                "/admin/products/{}/variants",
                draft.body["id"].as_str().unwrap()
            )))
            .json(json!({"sku": "SECRET", "price": {"amount": 100, "currency": "EUR"}})),
        )
        .await;
    assert_eq!(draft_variant.status, 201, "{:?}", draft_variant.body);
    let r = add(
        &api,
        &key,
        &cart,
        draft_variant.body["id"].as_str().unwrap(),
        json!(1),
    )
    .await;
    assert_eq!((r.status, r.code()), (422, "variant_unavailable"));
    for (path, body) in [
        (
            format!("/store/carts/{cart}/items/item_nope"),
            json!({"quantity": 1}),
        ),
        (
            "/store/carts/cart_nope/items/x".to_owned(),
            json!({"quantity": 1}),
        ),
    ] {
        let r = api.send(with_key(&key, api.patch(&path)).json(body)).await;
        assert_eq!(r.status, 404, "{path}: {:?}", r.body);
    }
    for body in [
        json!({"currency": "GBP"}),
        json!({"currency": "XXXX"}),
        json!({"email": "not-an-email"}),
        json!({"country": "ZZ"}),
        json!({"items": [{"variant_id": ids[0], "quantity": 0}]}),
        json!({"colour": "red"}),
        json!({"items": (0..101).map(|_| json!({"variant_id": ids[0], "quantity": 1})).collect::<Vec<_>>()}),
    ] {
        let r = new_cart(&api, &key, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
    }
    let r = api
        .send(
            with_key(&key, api.patch(&format!("/store/carts/{cart}")))
                .json(json!({"locale": "xx"})),
        )
        .await;
    assert_eq!(r.status, 422);
    // A key without the cart scope may read products, not fill carts.
    let r = new_cart(&api, &a.key, json!({})).await;
    assert_eq!((r.status, r.code()), (403, "missing_scope"));
    let got = api
        .send(with_key(&key, api.get(&format!("/store/carts/{cart}"))))
        .await;
    assert_eq!(
        (&got.body["version"], &got.body["item_count"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(reserved(&api, &a, &ids[0], &warehouse).await, 1);
}

async fn a_customers_cart_is_theirs_alone(api: Api) {
    let (a, key, _, ids) = stocked(&api, "acme").await;
    let sign_up = |email: &'static str| {
        let (api, key) = (&api, key.clone());
        async move {
            let r = api
                .send(
                    with_key(&key, api.post("/store/auth/register")).json(json!({
                        "email": email, "password": SHOPPER_PASSWORD,
                        "first_name": "Sam", "last_name": "Shopper"
                    })),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            (
                r.body["customer"]["id"].as_str().unwrap().to_owned(),
                r.body["access_token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (sam, sam_token) = sign_up("sam@example.com").await;
    let (_, kim_token) = sign_up("kim@example.com").await;
    let created = api
        .send(
            with_key(&key, api.post("/store/carts"))
                .token(&sam_token)
                .json(json!({"items": [{"variant_id": ids[0], "quantity": 1}]})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["customer_id"], sam.as_str());
    let cart = created.body["id"].as_str().unwrap().to_owned();
    let get = |token: Option<&str>| {
        let mut call = with_key(&key, api.get(&format!("/store/carts/{cart}")));
        if let Some(token) = token {
            call = call.token(token);
        }
        api.send(call)
    };
    assert_eq!(get(Some(&sam_token)).await.status, 200);
    assert_eq!(get(None).await.status, 404, "the key alone is not enough");
    assert_eq!(get(Some(&kim_token)).await.status, 404, "another customer");
    assert_eq!(get(Some(&a.staff)).await.status, 401, "a staff token");
    assert_eq!(get(Some("garbage")).await.status, 401);
    let r = api
        .send(
            with_key(&key, api.post(&format!("/store/carts/{cart}/items")))
                .token(&kim_token)
                .json(json!({"variant_id": ids[1], "quantity": 1})),
        )
        .await;
    assert_eq!(r.status, 404);
    // A guest cart can be read by anyone holding its id and the key, signed in or not.
    let guest = new_cart(&api, &key, json!({})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .send(with_key(&key, api.get(&format!("/store/carts/{guest}"))).token(&kim_token))
        .await;
    assert_eq!(r.status, 200);
}

async fn concurrent_adds_never_reserve_more_than_stock(api: Api) {
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let last = ids[2].clone();
    let api = Arc::new(api);
    let mut carts = Vec::new();
    for _ in 0..50 {
        let r = new_cart(&api, &key, json!({})).await;
        carts.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let tasks: Vec<_> = carts
        .iter()
        .map(|cart| {
            let (api, key, cart, last) = (api.clone(), key.clone(), cart.clone(), last.clone());
            tokio::spawn(async move { add(&api, &key, &cart, &last, json!(1)).await })
        })
        .collect();
    let mut held = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            200 => held += 1,
            409 => assert!(
                matches!(r.code(), "insufficient_stock" | "conflict"),
                "{:?}",
                r.body
            ),
            other => panic!("{other}: {:?}", r.body),
        }
    }
    assert_eq!(held, 5);
    assert_eq!(reserved(&api, &a, &last, &warehouse).await, 5);
}

pub(crate) async fn sign_up(api: &Api, key: &str, email: &str) -> (String, String) {
    let r = api
        .send(with_key(key, api.post("/store/auth/register")).json(json!({
            "email": email, "password": SHOPPER_PASSWORD,
            "first_name": "Sam", "last_name": "Shopper"
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    (
        r.body["customer"]["id"].as_str().unwrap().to_owned(),
        r.body["access_token"].as_str().unwrap().to_owned(),
    )
}

fn held_by(listed: &Response) -> Vec<(String, i64)> {
    let mut held: Vec<(String, i64)> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["holder"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    held.sort();
    held
}

async fn signing_in_merges_the_guest_cart_into_the_customers(api: Api) {
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let (s, m) = (&ids[0], &ids[1]);
    let (sam, sam_token) = sign_up(&api, &key, "sam@example.com").await;
    let (_, kim_token) = sign_up(&api, &key, "kim@example.com").await;
    // Sam's cart from an earlier visit: S×1, M×1.
    let earlier = api
        .send(
            with_key(&key, api.post("/store/carts"))
                .token(&sam_token)
                .json(json!({
                    "items": [{"variant_id": s, "quantity": 1}, {"variant_id": m, "quantity": 1}]
                })),
        )
        .await;
    assert_eq!(earlier.status, 201, "{:?}", earlier.body);
    let earlier = earlier.body["id"].as_str().unwrap().to_owned();
    api.clock.advance(std::time::Duration::from_secs(5));
    // Today, as a guest: S×2.
    let guest = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": s, "quantity": 2}]}),
    )
    .await;
    let guest = guest.body["id"].as_str().unwrap().to_owned();
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 3);

    // Signing in: the carts merge into the newer one, reservations follow, nothing is taken twice.
    let attach = |token: Option<&str>| {
        let mut call = with_key(&key, api.post(&format!("/store/carts/{guest}/customer")));
        if let Some(token) = token {
            call = call.token(token);
        }
        api.send(call)
    };
    assert_eq!(attach(None).await.status, 401);
    let merged = attach(Some(&sam_token)).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(merged.body["id"], guest.as_str());
    assert_eq!(merged.body["customer_id"], sam.as_str());
    assert_eq!(line(&merged.body, s).unwrap()["quantity"], 3);
    assert_eq!(line(&merged.body, m).unwrap()["quantity"], 1);
    assert_eq!(merged.body["item_count"], 4);
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 3);
    assert_eq!(reserved(&api, &a, m, &warehouse).await, 1);
    let holders = |variant: &str| {
        let variant = variant.to_owned();
        let api = &api;
        let staff = a.staff.clone();
        async move {
            held_by(
                &api.send(
                    api.get(&format!(
                        "/admin/inventory/reservations?variant_id={variant}"
                    ))
                    .token(&staff),
                )
                .await,
            )
        }
    };
    assert_eq!(holders(s).await, vec![(guest.clone(), 3)]);
    assert_eq!(holders(m).await, vec![(guest.clone(), 1)]);
    let old = api
        .send(with_key(&key, api.get(&format!("/store/carts/{earlier}"))).token(&sam_token))
        .await;
    assert_eq!(old.body["status"], "merged");
    let closed = api
        .send(
            with_key(&key, api.post(&format!("/store/carts/{earlier}/items")))
                .token(&sam_token)
                .json(json!({"variant_id": s, "quantity": 1})),
        )
        .await;
    assert_eq!((closed.status, closed.code()), (409, "cart_closed"));

    // Again: the same cart, nothing moves. Another customer cannot take it.
    let again = attach(Some(&sam_token)).await;
    assert_eq!(
        (again.status, &again.body["version"]),
        (200, &merged.body["version"])
    );
    assert_eq!(attach(Some(&kim_token)).await.status, 404);
    let mine = api
        .send(with_key(&key, api.get("/store/customers/me/carts")).token(&sam_token))
        .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    let open: Vec<&str> = mine.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(open, vec![guest.as_str()]);
    let kims = api
        .send(with_key(&key, api.get("/store/customers/me/carts")).token(&kim_token))
        .await;
    assert_eq!(kims.body["data"], json!([]));

    // A signed-in customer with no open cart simply takes the guest cart.
    let other_guest = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": m, "quantity": 1}]}),
    )
    .await;
    let other_guest = other_guest.body["id"].as_str().unwrap().to_owned();
    let taken = api
        .send(
            with_key(
                &key,
                api.post(&format!("/store/carts/{other_guest}/customer")),
            )
            .token(&kim_token),
        )
        .await;
    assert_eq!(taken.status, 200, "{:?}", taken.body);
    assert_eq!(taken.body["id"], other_guest.as_str());
    assert_eq!(reserved(&api, &a, m, &warehouse).await, 2);
}

async fn staff_see_carts_and_abandoned_ones(api: Api) {
    let (a, key, _, ids) = stocked(&api, "acme").await;
    let (sam, sam_token) = sign_up(&api, &key, "sam@example.com").await;
    let quiet = new_cart(
        &api,
        &key,
        json!({"email": "left@example.com", "items": [{"variant_id": ids[0], "quantity": 1}]}),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let empty = new_cart(&api, &key, json!({"email": "empty@example.com"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sams = api
        .send(
            with_key(&key, api.post("/store/carts"))
                .token(&sam_token)
                .json(json!({"items": [{"variant_id": ids[1], "quantity": 2}]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = |query: &str| api.send(a.admin(api.get(&format!("/admin/carts?{query}"))));
    let ids_of = |r: &Response| -> Vec<String> {
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = list("").await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(ids_of(&all).len(), 3);
    assert_eq!(
        ids_of(&list(&format!("customer_id={sam}")).await),
        vec![sams.clone()]
    );
    assert_eq!(ids_of(&list("abandoned=true").await), Vec::<String>::new());
    // An hour later without a change, the cart with an email and items is abandoned (staff
    // sign in again: their access token has expired meanwhile).
    api.clock.advance(std::time::Duration::from_secs(3601));
    let login = api
        .send(api.post("/admin/auth/login").json(json!({
            "company": "acme", "email": "ana@acme.example.com", "password": "plum-orbit-quiet-harbor-7"
        })))
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let staff = login.body["access_token"].as_str().unwrap().to_owned();
    let list = |query: &str| api.send(api.get(&format!("/admin/carts?{query}")).token(&staff));
    // Sam's cart took the account's email, so it counts as abandoned too.
    let mut abandoned = ids_of(&list("abandoned=true").await);
    abandoned.sort();
    let mut expected = vec![quiet.clone(), sams.clone()];
    expected.sort();
    assert_eq!(abandoned, expected);
    assert!(!ids_of(&list("abandoned=true").await).contains(&empty));
    let one = api
        .send(api.get(&format!("/admin/carts/{sams}")).token(&staff))
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(
        (&one.body["subtotal"], &one.body["customer_id"]),
        (&json!(1600), &json!(sam))
    );
    for bad in ["status=lost", "updated_after=yesterday", "customer_id=nope"] {
        assert_eq!(list(bad).await.status, 422, "{bad}");
    }
    // Another company, or a member without the permission, sees none of it.
    let b = shop(&api, "bolt").await;
    assert_eq!(
        api.send(b.admin(api.get(&format!("/admin/carts/{sams}"))))
            .await
            .status,
        404
    );
    assert_eq!(
        ids_of(&api.send(b.admin(api.get("/admin/carts"))).await),
        Vec::<String>::new()
    );
    let reader = api.member_with(&staff, &a.id, &["products.read"]).await;
    assert_eq!(
        api.send(api.get("/admin/carts").token(&reader))
            .await
            .status,
        403
    );
    assert_eq!(
        api.send(with_key(&key, api.get("/admin/carts")))
            .await
            .status,
        401
    );
}

/// The shop's owner signed in again (after the clock moved past their access token's life).
async fn signed_in_again(api: &Api, shop: &Shop, handle: &str) -> Shop {
    let login = api
        .send(api.post("/admin/auth/login").json(json!({
            "company": handle, "email": format!("ana@{handle}.example.com"),
            "password": "plum-orbit-quiet-harbor-7"
        })))
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    Shop {
        id: shop.id.clone(),
        staff: login.body["access_token"].as_str().unwrap().to_owned(),
        key: shop.key.clone(),
    }
}

fn kinds_of(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

async fn carts_left_alone_are_reported_then_expire_once(api: Api) {
    use shared::carts::expiry::{follow, Outcome, WORKER};
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let created = new_cart(
        &api,
        &key,
        json!({"email": "left@example.com", "items": [{"variant_id": ids[0], "quantity": 2}]}),
    )
    .await;
    let cart = created.body["id"].as_str().unwrap().to_owned();
    let quiet = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": ids[1], "quantity": 1}]}),
    )
    .await;
    let quiet = quiet.body["id"].as_str().unwrap().to_owned();
    let event = api
        .event_items(&a.id)
        .await
        .into_iter()
        .filter_map(|item| shared::events::from_item(&item))
        .find(|e| e.kind == "cart.updated" && e.data["cart_id"] == cart.as_str())
        .expect("a cart.updated event");
    let body = serde_json::to_string(&event).unwrap();
    // The worker follows both: nothing is due yet.
    api.run_worker(&a.id, &WORKER).await;
    assert_eq!(kinds_of(&api.event_kinds(&a.id).await, "cart.abandoned"), 0);

    // An hour without a change: the cart with an email is reported, once.
    api.clock.advance(std::time::Duration::from_secs(3600));
    api.run_worker(&a.id, &WORKER).await;
    api.clock.advance(std::time::Duration::from_secs(900));
    api.run_worker(&a.id, &WORKER).await;
    let kinds = api.event_kinds(&a.id).await;
    assert_eq!(kinds_of(&kinds, "cart.abandoned"), 1, "{kinds:?}");
    assert_eq!(kinds_of(&kinds, "cart.expired"), 0);
    let get = |id: &str| api.send(with_key(&key, api.get(&format!("/store/carts/{id}"))));
    assert_eq!(get(&cart).await.body["status"], "open");

    // The cart lifetime (7 days by default) without a change: both expire, their stock returns.
    api.clock
        .advance(std::time::Duration::from_secs(7 * 24 * 3600));
    // The store reads a past-due cart as expired even before the worker comes.
    let late = add(&api, &key, &cart, &ids[2], json!(1)).await;
    assert_eq!((late.status, late.code()), (409, "cart_expired"));
    for _ in 0..5 {
        api.clock.advance(std::time::Duration::from_secs(900));
        api.run_worker(&a.id, &WORKER).await;
    }
    let a = signed_in_again(&api, &a, "acme").await;
    let expired = get(&cart).await;
    assert_eq!(expired.body["status"], "expired");
    assert_eq!(get(&quiet).await.body["status"], "expired");
    assert_eq!(reserved(&api, &a, &ids[0], &warehouse).await, 0);
    assert_eq!(reserved(&api, &a, &ids[1], &warehouse).await, 0);
    let kinds = api.event_kinds(&a.id).await;
    assert_eq!(kinds_of(&kinds, "cart.expired"), 2, "{kinds:?}");
    let again = add(&api, &key, &cart, &ids[2], json!(1)).await;
    assert_eq!((again.status, again.code()), (409, "cart_expired"));

    // A second delivery of the message changes nothing.
    assert_eq!(follow(&api.app, &body).await.unwrap(), Outcome::Superseded);
    assert_eq!(kinds_of(&api.event_kinds(&a.id).await, "cart.expired"), 2);
}

async fn a_change_keeps_a_cart_from_expiring(api: Api) {
    use shared::carts::expiry::WORKER;
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let cart = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": ids[0], "quantity": 1}]}),
    )
    .await;
    let cart = cart.body["id"].as_str().unwrap().to_owned();
    // Six days later the shopper comes back and changes the cart: it lives a week from then.
    api.clock
        .advance(std::time::Duration::from_secs(6 * 24 * 3600));
    assert_eq!(add(&api, &key, &cart, &ids[1], json!(1)).await.status, 200);
    api.clock
        .advance(std::time::Duration::from_secs(2 * 24 * 3600));
    for _ in 0..3 {
        api.run_worker(&a.id, &WORKER).await;
        api.clock.advance(std::time::Duration::from_secs(900));
    }
    let got = api
        .send(with_key(&key, api.get(&format!("/store/carts/{cart}"))))
        .await;
    assert_eq!(got.body["status"], "open");
    assert_eq!(kinds_of(&api.event_kinds(&a.id).await, "cart.expired"), 0);
    let a = signed_in_again(&api, &a, "acme").await;
    // Its reservation expired long ago (15 minutes): the next change holds the stock again.
    assert_eq!(reserved(&api, &a, &ids[1], &warehouse).await, 0);
    assert_eq!(add(&api, &key, &cart, &ids[1], json!(1)).await.status, 200);
    assert_eq!(reserved(&api, &a, &ids[1], &warehouse).await, 2);
}

async fn carts_take_shipping_and_billing_addresses(api: Api) {
    let (_, key, _, ids) = stocked(&api, "acme").await;
    let (_, sam_token) = sign_up(&api, &key, "sam@example.com").await;
    let (_, kim_token) = sign_up(&api, &key, "kim@example.com").await;
    let address = json!({
        "first_name": "Sam", "last_name": "Shopper", "line1": "Torstraße 1",
        "city": "Berlin", "postal_code": "10119", "country": "DE"
    });
    let guest = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": ids[0], "quantity": 1}]}),
    )
    .await;
    let guest = guest.body["id"].as_str().unwrap().to_owned();
    let patch = |cart: &str, token: Option<&str>, body: Value| {
        let mut call = with_key(&key, api.patch(&format!("/store/carts/{cart}"))).json(body);
        if let Some(token) = token {
            call = call.token(token);
        }
        api.send(call)
    };
    let r = patch(
        &guest,
        None,
        json!({"shipping_address": address, "billing_address": address}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["shipping_address"]["city"], &r.body["country"]),
        (&json!("Berlin"), &json!("DE"))
    );
    assert_eq!(r.body["billing_address"]["postal_code"], "10119");
    // Checked as the address book checks addresses, and named under the field.
    let mut bad = address.clone();
    bad["postal_code"] = json!("ABC");
    bad["city"] = json!("");
    let r = patch(&guest, None, json!({"shipping_address": bad})).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"shipping_address.city"), "{fields:?}");
    assert!(
        fields.contains(&"shipping_address.postal_code"),
        "{fields:?}"
    );
    let r = patch(
        &guest,
        None,
        json!({"shipping_address": {"address_id": "addr_x"}}),
    )
    .await;
    assert_eq!(r.status, 422, "a guest has no address book: {:?}", r.body);
    // A signed-in customer may name a saved address; another customer's is unknown.
    let saved = api
        .send(
            with_key(&key, api.post("/store/customers/me/addresses"))
                .token(&sam_token)
                .json(json!({
                    "first_name": "Sam", "last_name": "Shopper", "line1": "Rue de Rivoli 1",
                    "city": "Paris", "postal_code": "75001", "country": "FR"
                })),
        )
        .await;
    assert_eq!(saved.status, 201, "{:?}", saved.body);
    let address_id = saved.body["id"].as_str().unwrap().to_owned();
    let mine = api
        .send(
            with_key(&key, api.post("/store/carts"))
                .token(&sam_token)
                .json(json!({})),
        )
        .await;
    let mine = mine.body["id"].as_str().unwrap().to_owned();
    let r = patch(
        &mine,
        Some(&sam_token),
        json!({"shipping_address": {"address_id": address_id}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["shipping_address"]["city"], &r.body["country"]),
        (&json!("Paris"), &json!("FR"))
    );
    let kims = api
        .send(
            with_key(&key, api.post("/store/carts"))
                .token(&kim_token)
                .json(json!({})),
        )
        .await;
    let kims = kims.body["id"].as_str().unwrap().to_owned();
    let r = patch(
        &kims,
        Some(&kim_token),
        json!({"shipping_address": {"address_id": address_id}}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["code"], "unknown_address");
    // `null` clears it.
    let r = patch(&mine, Some(&sam_token), json!({"shipping_address": null})).await;
    assert_eq!(r.body["shipping_address"], Value::Null);
}

/// A product with `count` variants of `policy` (priced at 2.00 EUR); answers their ids.
async fn many_variants(api: &Api, shop: &Shop, count: usize, policy: Value) -> Vec<String> {
    let names: Vec<String> = (1..=count).map(|n| format!("N{n}")).collect();
    let created = api
        .send(shop.admin(api.post("/admin/products")).json(json!({
            "title": "Sticker Pack",
            "status": "active",
            "options": [{"name": "Number", "values": names}]
        })))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for name in &names {
        let mut body = json!({
            "options": {"Number": name},
            "price": {"amount": 200, "currency": "EUR"}
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
    ids
}

async fn a_cart_holds_a_hundred_tracked_lines(api: Api) {
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let backorder = json!({"track_inventory": true, "allow_backorder": true});
    let hundred = many_variants(&api, &a, 100, backorder).await;
    let scarce = &ids[0];
    assert_eq!(adjust(&api, &a, scarce, &warehouse, -5).await.status, 201);

    // More lines than one transaction changes are held a step at a time; a step that finds
    // stock short gives back what the steps before held, and no cart is made.
    let mut items: Vec<Value> = hundred[..30]
        .iter()
        .map(|v| json!({"variant_id": v, "quantity": 1}))
        .collect();
    items.push(json!({"variant_id": scarce, "quantity": 1}));
    let refused = new_cart(&api, &key, json!({ "items": items })).await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "insufficient_stock"),
        "{:?}",
        refused.body
    );
    for v in [&hundred[0], &hundred[24], &hundred[29]] {
        assert_eq!(reserved(&api, &a, v, &warehouse).await, 0, "{v}");
    }
    let staff_carts = api.send(a.admin(api.get("/admin/carts"))).await;
    assert_eq!(staff_carts.body["data"], json!([]));

    // Sixty lines in one request, then forty more one at a time.
    let items: Vec<Value> = hundred[..60]
        .iter()
        .map(|v| json!({"variant_id": v, "quantity": 1}))
        .collect();
    let created = new_cart(&api, &key, json!({ "items": items })).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["item_count"], 60);
    let cart = created.body["id"].as_str().unwrap().to_owned();
    for v in &hundred[60..99] {
        let r = add(&api, &key, &cart, v, json!(1)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    // Adding to a cart is two reads and the transaction, however full the cart (with plenty of
    // stock: a change that may move what the listing shows also publishes it).
    let plenty = &ids[1];
    assert_eq!(adjust(&api, &a, plenty, &warehouse, 20).await.status, 201);
    let (last, calls) = api
        .send_counted(
            with_key(&key, api.post(&format!("/store/carts/{cart}/items")))
                .json(json!({"variant_id": plenty, "quantity": 1})),
        )
        .await;
    assert_eq!(last.status, 200, "{:?}", last.body);
    assert_eq!(
        calls, 3,
        "the cart with the variant's lookup, products with levels, the transaction"
    );
    assert_eq!(last.body["items"].as_array().unwrap().len(), 100);
    for v in [
        &hundred[0],
        &hundred[59],
        &hundred[60],
        &hundred[98],
        plenty,
    ] {
        assert_eq!(reserved(&api, &a, v, &warehouse).await, 1, "{v}");
    }
    let over = add(&api, &key, &cart, &hundred[99], json!(1)).await;
    assert_eq!((over.status, over.code()), (422, "too_many_lines"));
    assert_eq!(reserved(&api, &a, &hundred[99], &warehouse).await, 0);

    // One line of the hundred changes; the others stay held.
    let first = line(&last.body, &hundred[0]).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .send(
            with_key(
                &key,
                api.patch(&format!("/store/carts/{cart}/items/{first}")),
            )
            .json(json!({"quantity": 3})),
        )
        .await;
    assert_eq!((r.status, &r.body["item_count"]), (200, &json!(102)));
    assert_eq!(reserved(&api, &a, &hundred[0], &warehouse).await, 3);
    assert_eq!(reserved(&api, &a, &hundred[1], &warehouse).await, 1);
    let (got, calls) = api
        .send_counted(with_key(&key, api.get(&format!("/store/carts/{cart}"))))
        .await;
    assert_eq!((got.status, &got.body["item_count"]), (200, &json!(102)));
    assert_eq!(calls, 2, "the cart, then its products");
    let r = api
        .send(with_key(
            &key,
            api.delete(&format!("/store/carts/{cart}/items/{first}")),
        ))
        .await;
    assert_eq!((r.status, &r.body["item_count"]), (200, &json!(99)));
    assert_eq!(reserved(&api, &a, &hundred[0], &warehouse).await, 0);
    assert_eq!(reserved(&api, &a, &hundred[98], &warehouse).await, 1);
}

/// A change renews the whole reservation without rewriting the lines it leaves alone: they stay
/// held (a shopper short of them finds none), and go only once the renewed reservation expires.
async fn a_renewed_cart_keeps_the_lines_it_left_alone(api: Api) {
    let (a, key, warehouse, ids) = stocked(&api, "acme").await;
    let (s, m) = (&ids[0], &ids[1]);
    let mine = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": s, "quantity": 5}]}),
    )
    .await;
    let mine = mine.body["id"].as_str().unwrap().to_owned();
    let minutes = |n: u64| std::time::Duration::from_secs(60 * n);
    api.clock.advance(minutes(10));
    assert_eq!(add(&api, &key, &mine, m, json!(1)).await.status, 200);

    // Twenty minutes in: the line for S was written 20 minutes ago, but the cart changed 10
    // minutes ago, so it still holds all five.
    api.clock.advance(minutes(10));
    let theirs = new_cart(&api, &key, json!({})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let short = add(&api, &key, &theirs, s, json!(1)).await;
    assert_eq!((short.status, short.code()), (409, "insufficient_stock"));
    let a = signed_in_again(&api, &a, "acme").await;
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 5);
    let held = api
        .send(a.admin(api.get(&format!("/admin/inventory/reservations?variant_id={s}"))))
        .await;
    assert_eq!(held.status, 200, "{:?}", held.body);
    let lines = held.body["data"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (&lines[0]["holder"], &lines[0]["expired"]),
        (&json!(mine), &json!(false))
    );
    let window_end = api.app.clock.epoch_seconds() + 5 * 60;
    assert_eq!(lines[0]["expires_epoch"], window_end);

    // Past the renewed reservation's end, the next shopper short of S sweeps it away.
    api.clock.advance(minutes(6));
    let r = add(&api, &key, &theirs, s, json!(1)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let a = signed_in_again(&api, &a, "acme").await;
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 1);
    // The first cart's next change starts from the reservation as it now is: four are left.
    let s_line = |cart: &Value| line(cart, s).unwrap()["id"].as_str().unwrap().to_owned();
    let got = api
        .send(with_key(&key, api.get(&format!("/store/carts/{mine}"))))
        .await;
    let item = s_line(&got.body);
    let patch = |quantity: i64| {
        api.send(
            with_key(
                &key,
                api.patch(&format!("/store/carts/{mine}/items/{item}")),
            )
            .json(json!({ "quantity": quantity })),
        )
    };
    let r = patch(5).await;
    assert_eq!((r.status, r.code()), (409, "insufficient_stock"));
    assert_eq!(r.body["available"], 4);
    let r = patch(4).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(reserved(&api, &a, s, &warehouse).await, 5);
    assert_eq!(reserved(&api, &a, m, &warehouse).await, 1);
}

/// Concurrent carts take a variant's units down through every listed status; whatever order
/// they land in, the listing ends where the stock is.
async fn racing_carts_leave_the_listing_where_the_stock_is(api: Api) {
    let a = shop(&api, "acme").await;
    let key = cart_key(&api, &a).await;
    let warehouse = location(&api, &a, "Warehouse", 1).await;
    let (_, ids) = product(&api, &a, &[("One", json!({}))]).await;
    let variant = ids[0].clone();
    assert_eq!(adjust(&api, &a, &variant, &warehouse, 12).await.status, 201);
    let api = Arc::new(api);
    let status = || {
        let (api, a, variant) = (api.clone(), &a, variant.clone());
        async move {
            let r = api
                .send(super::availability::store(a, api.get("/store/products")))
                .await;
            r.body["data"][0]["availability"][&variant]["status"].clone()
        }
    };
    assert_eq!(status().await, "in_stock");
    let mut carts = Vec::new();
    for _ in 0..12 {
        let r = new_cart(&api, &key, json!({})).await;
        carts.push(r.body["id"].as_str().unwrap().to_owned());
    }
    // 12 → 6 (more than the low-stock threshold of 5), → 2, → 0.
    for (range, expected) in [
        (0..6, "in_stock"),
        (6..10, "low_stock"),
        (10..12, "out_of_stock"),
    ] {
        let tasks: Vec<_> = carts[range]
            .iter()
            .map(|cart| {
                let (api, key, cart, variant) =
                    (api.clone(), key.clone(), cart.clone(), variant.clone());
                tokio::spawn(async move { add(&api, &key, &cart, &variant, json!(1)).await })
            })
            .collect();
        for task in tasks {
            let r = task.await.unwrap();
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        assert_eq!(status().await, expected);
    }
    // All of them give their units back at once.
    let tasks: Vec<_> = carts
        .iter()
        .map(|cart| {
            let (api, key, cart) = (api.clone(), key.clone(), cart.clone());
            tokio::spawn(async move {
                let got = api
                    .send(with_key(&key, api.get(&format!("/store/carts/{cart}"))))
                    .await;
                let item = got.body["items"][0]["id"].as_str().unwrap().to_owned();
                api.send(with_key(
                    &key,
                    api.delete(&format!("/store/carts/{cart}/items/{item}")),
                ))
                .await
            })
        })
        .collect();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    assert_eq!(status().await, "in_stock");
    assert_eq!(reserved(&api, &a, &variant, &warehouse).await, 0);
}

/// A cart pricing would refuse (a total past what an amount may hold) is never written: neither
/// created nor merged, holding no stock and breaking no listing. A merged cart given again
/// answers the cart it went into; a closed cart takes no code; a customer's new cart starts with
/// the account's email.
async fn refused_carts_write_nothing_and_closed_carts_take_nothing(api: Api) {
    let a = shop(&api, "cart-cap").await;
    let key = cart_key(&api, &a).await;
    let warehouse = location(&api, &a, "Warehouse", 1).await;
    let (_, ids) = product(
        &api,
        &a,
        &[
            (
                "Gold",
                json!({"price": {"amount": 1_000_000_000_000i64, "currency": "EUR"}}),
            ),
            ("Tin", json!({"price": {"amount": 500, "currency": "EUR"}})),
        ],
    )
    .await;
    let (gold, tin) = (&ids[0], &ids[1]);
    assert_eq!(adjust(&api, &a, gold, &warehouse, 5000).await.status, 201);
    assert_eq!(adjust(&api, &a, tin, &warehouse, 50).await.status, 201);
    let listed = || api.send(a.admin(api.get("/admin/carts")));

    // 1,001 × 10^12 is past 10^15: refused, and nothing held or listed.
    let r = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": gold, "quantity": 1001}]}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["errors"][0]["code"], "too_large");
    assert_eq!(reserved(&api, &a, gold, &warehouse).await, 0);
    let carts = listed().await;
    assert_eq!(carts.status, 200, "{:?}", carts.body);
    assert_eq!(carts.body["data"], json!([]));

    // Merging two carts whose sum is past it: refused, both as they were.
    let (_, sam) = sign_up(&api, &key, "Sam@Example.com").await;
    let guest = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": gold, "quantity": 600}]}),
    )
    .await;
    assert_eq!(guest.status, 201, "{:?}", guest.body);
    let guest = guest.body["id"].as_str().unwrap().to_owned();
    api.clock.advance(std::time::Duration::from_secs(5));
    let own = api
        .send(
            with_key(&key, api.post("/store/carts"))
                .token(&sam)
                .json(json!({"items": [{"variant_id": gold, "quantity": 600}]})),
        )
        .await;
    assert_eq!(own.status, 201, "{:?}", own.body);
    assert_eq!(own.body["email"], "sam@example.com", "the account's email");
    let own = own.body["id"].as_str().unwrap().to_owned();
    let attach = |cart: &str| {
        api.send(with_key(&key, api.post(&format!("/store/carts/{cart}/customer"))).token(&sam))
    };
    let r = attach(&guest).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{:?}",
        r.body
    );
    let get = |cart: &str, token: Option<&str>| {
        let mut call = with_key(&key, api.get(&format!("/store/carts/{cart}")));
        if let Some(token) = token {
            call = call.token(token);
        }
        api.send(call)
    };
    let seen = get(&guest, None).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    assert_eq!(seen.body["status"], "open");
    assert_eq!(seen.body["customer_id"], Value::Null);
    let seen = get(&own, Some(&sam)).await;
    assert_eq!(seen.body["status"], "open");
    assert_eq!(line(&seen.body, gold).unwrap()["quantity"], 600);
    assert_eq!(reserved(&api, &a, gold, &warehouse).await, 1200);
    assert_eq!(listed().await.status, 200);

    // A guest cart merged (it is the older one) and given again: the cart it went into.
    let small = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": tin, "quantity": 1}]}),
    )
    .await;
    let small = small.body["id"].as_str().unwrap().to_owned();
    let r = api
        .send(
            with_key(
                &key,
                api.delete(&format!(
                    "/store/carts/{own}/items/{}",
                    line(&get(&own, Some(&sam)).await.body, gold).unwrap()["id"]
                        .as_str()
                        .unwrap()
                )),
            )
            .token(&sam),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    api.clock.advance(std::time::Duration::from_secs(5));
    let r = api
        .send(
            with_key(&key, api.post(&format!("/store/carts/{own}/items")))
                .token(&sam)
                .json(json!({"variant_id": tin, "quantity": 2})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let merged = attach(&small).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(merged.body["id"], own.as_str(), "the newer cart goes on");
    assert_eq!(line(&merged.body, tin).unwrap()["quantity"], 3);
    let again = attach(&small).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["id"], own.as_str());
    assert_eq!(again.body["status"], "open");

    // A guest cart without an email given to an account with no cart takes the account's.
    let (_, hank) = sign_up(&api, &key, "hank@example.com").await;
    let bare = new_cart(
        &api,
        &key,
        json!({"items": [{"variant_id": tin, "quantity": 1}]}),
    )
    .await;
    assert_eq!(bare.body["email"], Value::Null);
    let bare = bare.body["id"].as_str().unwrap().to_owned();
    let given = api
        .send(with_key(&key, api.post(&format!("/store/carts/{bare}/customer"))).token(&hank))
        .await;
    assert_eq!(given.status, 200, "{:?}", given.body);
    assert_eq!(given.body["email"], "hank@example.com");

    // A closed cart takes no code, known or not.
    let r = api
        .send(
            with_key(
                &key,
                api.post(&format!("/store/carts/{small}/discount-codes")),
            )
            .token(&sam)
            .json(json!({"code": "NOPE"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "cart_closed"), "{:?}", r.body);
}

api_cases!(
    refused_carts_write_nothing_and_closed_carts_take_nothing,
    a_guest_fills_a_cart_and_its_stock_follows,
    hostile_input_changes_nothing,
    a_customers_cart_is_theirs_alone,
    concurrent_adds_never_reserve_more_than_stock,
    signing_in_merges_the_guest_cart_into_the_customers,
    staff_see_carts_and_abandoned_ones,
    carts_left_alone_are_reported_then_expire_once,
    a_change_keeps_a_cart_from_expiring,
    carts_take_shipping_and_billing_addresses,
    a_cart_holds_a_hundred_tracked_lines,
    a_renewed_cart_keeps_the_lines_it_left_alone,
    racing_carts_leave_the_listing_where_the_stock_is,
);
