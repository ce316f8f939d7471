//! Checkout through the API, on every backend: payment sessions on carts, with the providers a
//! company enables (the test provider's card numbers decide outcomes without a network).

use super::shipping_tax::{cart, company, get, settings, variants};
use commerce_tests::api::{Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};

use super::inventory::Shop;

/// A storefront key of the company that may check out.
async fn checkout_key(api: &Api, shop: &Shop) -> String {
    let key = api
        .send(shop.admin(api.post("/admin/api-keys")).json(json!({
            "name": "Checkout",
            "scopes": ["store.read", "products.read", "carts.write", "checkout.write"]
        })))
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    key.body["secret"].as_str().unwrap().to_owned()
}

async fn open_session(api: &Api, key: &str, cart: &str, body: Value) -> Response {
    api.send(
        api.post(&format!("/store/carts/{cart}/payment-sessions"))
            .header("x-api-key", key)
            .json(body),
    )
    .await
}

async fn payment_sessions_follow_the_cart(api: Api) {
    let (a, cart_key) = company(&api, "pay-sess", "DE", "EUR").await;
    let (b, _) = company(&api, "pay-sess-b", "DE", "EUR").await;
    let key = checkout_key(&api, &a).await;
    let other_key = checkout_key(&api, &b).await;
    let v = variants(&api, &a, "EUR", &[("A", 2500, json!({}))]).await;
    let id = cart(&api, &key, &[(&v[0], 2)]).await;
    // Only enabled providers: `manual` by default.
    let r = open_session(&api, &key, &id, json!({"provider": "test"})).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "payment_provider_unavailable"),
        "{:?}",
        r.body
    );
    settings(
        &api,
        &a,
        "payments",
        json!({"enabled_providers": ["manual", "test"]}),
    )
    .await;
    let r = open_session(&api, &key, &id, json!({"provider": "paypal"})).await;
    assert_eq!((r.status, r.code()), (422, "payment_provider_unavailable"));
    let r = open_session(&api, &key, &id, json!({"provider": "test"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let payment = r.body["payment_id"].as_str().unwrap().to_owned();
    assert!(payment.starts_with("pay_"));
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["amount"], 5000);
    assert_eq!(r.body["currency"], "EUR");
    assert_eq!(r.body["client"]["cards"]["succeeds"], "4242424242424242");
    assert_eq!(
        r.body["cart"]["payment_session"]["payment_id"],
        payment.as_str()
    );
    // The session's amount follows the cart.
    let more = api
        .send(
            api.post(&format!("/store/carts/{id}/items"))
                .header("x-api-key", &key)
                .json(json!({"variant_id": v[0], "quantity": 1})),
        )
        .await;
    assert_eq!(more.status, 200, "{:?}", more.body);
    let c = get(&api, &key, &id).await;
    assert_eq!(c["payment_session"]["amount"], 7500);
    assert_eq!(c["payment_session"]["provider"], "test");
    // The manual provider, opened after: it replaces the session.
    let (manual, calls) = api
        .send_counted(
            api.post(&format!("/store/carts/{id}/payment-sessions"))
                .header("x-api-key", &key)
                .json(json!({"provider": "manual"})),
        )
        .await;
    assert_eq!(manual.status, 201, "{:?}", manual.body);
    assert_eq!(
        calls, 5,
        "the cart and its products to price it, then the change's three"
    );
    assert_ne!(manual.body["payment_id"], payment.as_str());
    assert_eq!(
        get(&api, &key, &id).await["payment_session"]["provider"],
        "manual"
    );
    // A key without checkout.write, another company's key, an empty cart, a bad body.
    let r = open_session(&api, &cart_key, &id, json!({"provider": "manual"})).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = open_session(&api, &other_key, &id, json!({"provider": "manual"})).await;
    assert_eq!(r.status, 404);
    let empty = api
        .send(
            api.post("/store/carts")
                .header("x-api-key", &key)
                .json(json!({})),
        )
        .await;
    let empty = empty.body["id"].as_str().unwrap().to_owned();
    let r = open_session(&api, &key, &empty, json!({"provider": "manual"})).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = open_session(&api, &key, &id, json!({"provider": 5})).await;
    assert!(matches!(r.status, 400 | 422), "{:?}", r.body);
    let r = open_session(&api, &key, &id, json!({"provider": "manual", "extra": 1})).await;
    assert!(matches!(r.status, 400 | 422), "{:?}", r.body);
    assert_eq!(
        get(&api, &key, &empty).await["payment_session"],
        Value::Null,
        "a refused session leaves the cart as it was"
    );
}

/// Fifty orders racing for numbers get 1 to 50, each once: no gap, no repeat.
async fn order_numbers_are_gap_free_under_a_race(api: Api) {
    let _turn = commerce_tests::api::crowd().await;
    let (a, _) = company(&api, "pay-numbers", "DE", "EUR").await;
    let tenant = a.tenant();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, tenant) = (api.app.clone(), tenant.clone());
            tokio::spawn(async move {
                shared::orders::numbers::take(&app, &tenant, &|_| Vec::new()).await
            })
        })
        .collect();
    let mut taken = Vec::new();
    for task in tasks {
        taken.push(task.await.unwrap().expect("every racer gets a number"));
    }
    taken.sort_unstable();
    assert_eq!(taken, (1..=50).collect::<Vec<i64>>());
    assert_eq!(
        shared::orders::numbers::next(&api.app, &tenant)
            .await
            .unwrap(),
        51
    );
}

api_cases!(
    payment_sessions_follow_the_cart,
    order_numbers_are_gap_free_under_a_race
);
