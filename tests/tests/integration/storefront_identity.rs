//! Storefront identity: publishable API keys, customers, customer sign-in, addresses, customer
//! groups and CORS, through the router on every backend.

use commerce_tests::api::{all_at_once, newest_token, token_after, Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::http::{Access, Method};
use shared::store::{Index, Key, Query};
use std::time::Duration;

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";
const SHOPPER_PASSWORD: &str = "velvet-canyon-lantern-42";
const ALL_SCOPES: [&str; 7] = [
    "store.read",
    "products.read",
    "categories.read",
    "customers.auth",
    "customers.write",
    "carts.write",
    "checkout.write",
];

/// A company with its owner's token and a storefront key holding every scope.
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
    let id = r.body["company"]["id"].as_str().unwrap().to_owned();
    let key = create_key(api, &staff, &ALL_SCOPES).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    Shop { id, staff, key }
}

async fn create_key(api: &Api, staff: &str, scopes: &[&str]) -> Value {
    let r = api
        .send(
            api.post("/admin/api-keys")
                .token(staff)
                .json(json!({"name": "Web shop", "scopes": scopes})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

/// A shopper signed up at a shop: (customer id, access token, refresh token).
async fn shopper(api: &Api, shop: &Shop, email: &str) -> (String, String, String) {
    let r = api
        .send(
            api.post("/store/auth/register")
                .header("x-api-key", &shop.key)
                .json(json!({"email": email, "password": SHOPPER_PASSWORD, "first_name": "Sam", "last_name": "Shopper", "accepts_marketing": true})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    tokens(&r)
}

fn tokens(r: &Response) -> (String, String, String) {
    (
        r.body["customer"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        r.body["access_token"].as_str().unwrap().to_owned(),
        r.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn login(api: &Api, key: &str, email: &str, password: &str) -> Response {
    api.send(
        api.post("/store/auth/login")
            .header("x-api-key", key)
            .json(json!({"email": email, "password": password})),
    )
    .await
}

fn address(postal: &str) -> Value {
    json!({"first_name": "Sam", "last_name": "Shopper", "line1": "Invalidenstr. 1", "city": "Berlin", "postal_code": postal, "country": "DE"})
}

async fn raw(api: &Api, key: Key) -> Option<serde_json::Map<String, Value>> {
    api.app.table.get(&key).await.unwrap()
}

async fn raw_partition(api: &Api, pk: String) -> Vec<serde_json::Map<String, Value>> {
    api.app
        .table
        .query(&Query::partition(Index::Table, pk).limit(1000))
        .await
        .unwrap()
        .items
}

// API keys ------------------------------------------------------------------------------------

async fn api_keys_are_shown_once_and_stored_as_hashes(api: Api) {
    let a = shop(&api, "acme").await;
    let created = create_key(&api, &a.staff, &["store.read", "products.read"]).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("pk_") && secret.len() == 35, "{secret}");
    assert!(secret.starts_with(created["prefix"].as_str().unwrap()));
    assert!(secret.ends_with(created["last_four"].as_str().unwrap()));
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("key_"));

    let shown = api
        .send(api.get(&format!("/admin/api-keys/{id}")).token(&a.staff))
        .await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.get("secret").is_none() && shown.body.get("hash").is_none());
    assert_eq!(shown.body["scopes"], json!(["products.read", "store.read"]));
    let listed = api.send(api.get("/admin/api-keys").token(&a.staff)).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    assert!(!serde_json::to_string(&listed.body)
        .unwrap()
        .contains(secret));

    // The table holds the hash only: no stored item contains the secret.
    let mut items = raw_partition(&api, format!("T#{}#APIKEYS", a.id)).await;
    let hash = items.iter().find(|i| i["id"] == id).unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    items.push(
        raw(&api, Key::new(format!("APIKEY#{hash}"), "APIKEY"))
            .await
            .unwrap(),
    );
    let stored = serde_json::to_string(&items).unwrap();
    assert!(!stored.contains(&secret[3..]), "{stored}");
    assert_eq!(items.last().unwrap()["tenant"], a.id.as_str());

    for (body, field) in [
        (json!({"name": "", "scopes": ["store.read"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (
            json!({"name": "x", "scopes": ["orders.refund"]}),
            "scopes[0]",
        ),
    ] {
        let r = api
            .send(api.post("/admin/api-keys").token(&a.staff).json(body))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    let extra = api
        .send(
            api.post("/admin/api-keys")
                .token(&a.staff)
                .json(json!({"name": "x", "scopes": ["store.read"], "secret": "pk_mine"})),
        )
        .await;
    assert_eq!(extra.status, 422);
    let listed = api.send(api.get("/admin/api-keys").token(&a.staff)).await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        2,
        "nothing half-written"
    );

    // A retried create replays the first answer, yet the table holds no secret in clear.
    let create = || {
        api.send(
            api.post("/admin/api-keys")
                .token(&a.staff)
                .header("idempotency-key", "create-key-1")
                .json(json!({"name": "Retried", "scopes": ["store.read"]})),
        )
    };
    let first = create().await;
    let again = create().await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["secret"], first.body["secret"]);
    let secret = first.body["secret"].as_str().unwrap();
    let everything = api
        .app
        .table
        .query(&Query::partition(Index::Table, format!("T#{}#APIKEYS", a.id)).limit(1000))
        .await
        .unwrap()
        .items;
    assert!(!serde_json::to_string(&everything)
        .unwrap()
        .contains(&secret[3..]));
    let idempotency_items = scan_for(&api, &a.id, &secret[3..]).await;
    assert!(idempotency_items.is_empty(), "{idempotency_items:?}");

    // Another company sees none of it.
    let b = shop(&api, "bolt").await;
    let other = api
        .send(api.get(&format!("/admin/api-keys/{id}")).token(&b.staff))
        .await;
    assert_eq!(other.status, 404);
    let other = api
        .send(api.delete(&format!("/admin/api-keys/{id}")).token(&b.staff))
        .await;
    assert_eq!(other.status, 404);
}

async fn scopes_rotation_and_revocation_decide_access(api: Api) {
    let a = shop(&api, "acme").await;
    let info = |key: &str| api.send(api.get("/store/info").header("x-api-key", key));
    let ok = info(&a.key).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["name"], "acme Goods");
    assert_eq!(ok.body["default_currency"], "EUR");
    assert!(ok.body.get("guest_checkout").is_some());

    let missing = api.send(api.get("/store/info")).await;
    assert_eq!((missing.status, missing.code()), (401, "api_key_required"));
    for bad in [
        "pk_nothing",
        "pk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "'; DROP TABLE--",
    ] {
        let r = info(bad).await;
        assert_eq!((r.status, r.code()), (401, "invalid_api_key"), "{bad}");
    }

    let narrow = create_key(&api, &a.staff, &["products.read"]).await;
    let (id, secret) = (
        narrow["id"].as_str().unwrap().to_owned(),
        narrow["secret"].as_str().unwrap().to_owned(),
    );
    let denied = info(&secret).await;
    assert_eq!((denied.status, denied.code()), (403, "missing_scope"));

    let widened = api
        .send(
            api.patch(&format!("/admin/api-keys/{id}"))
                .token(&a.staff)
                .header("if-match", "\"1\"")
                .json(json!({"scopes": ["products.read", "store.read"]})),
        )
        .await;
    assert_eq!(widened.status, 200, "{:?}", widened.body);
    assert_eq!(info(&secret).await.status, 200);
    let stale = api
        .send(
            api.patch(&format!("/admin/api-keys/{id}"))
                .token(&a.staff)
                .header("if-match", "\"1\"")
                .json(json!({"name": "late"})),
        )
        .await;
    assert_eq!(stale.status, 412);

    let rotated = api
        .send(
            api.post(&format!("/admin/api-keys/{id}/rotate"))
                .token(&a.staff),
        )
        .await;
    assert_eq!(rotated.status, 200);
    let fresh = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    assert_eq!(info(&secret).await.status, 401, "the old secret is revoked");
    assert_eq!(info(&fresh).await.status, 200);

    let revoked = api
        .send(api.delete(&format!("/admin/api-keys/{id}")).token(&a.staff))
        .await;
    assert_eq!(revoked.status, 204);
    assert_eq!(info(&fresh).await.status, 401);
    let shown = api
        .send(api.get(&format!("/admin/api-keys/{id}")).token(&a.staff))
        .await;
    assert_eq!(shown.body["status"], "revoked");
    let again = api
        .send(
            api.post(&format!("/admin/api-keys/{id}/rotate"))
                .token(&a.staff),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "key_revoked"));
}

async fn a_key_revoked_elsewhere_stops_working_within_the_cache_bound(api: Api) {
    let a = shop(&api, "acme").await;
    let key = create_key(&api, &a.staff, &["store.read"]).await;
    let secret = key["secret"].as_str().unwrap().to_owned();
    let info = || api.send(api.get("/store/info").header("x-api-key", &secret));
    assert_eq!(info().await.status, 200);
    // Another container revokes it: this one only sees the table change.
    let hash = raw_partition(&api, format!("T#{}#APIKEYS", a.id))
        .await
        .into_iter()
        .find(|i| i["id"] == key["id"])
        .unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    api.app
        .table
        .delete(&Key::new(format!("APIKEY#{hash}"), "APIKEY"), None)
        .await
        .unwrap();
    api.clock.advance(Duration::from_secs(20));
    assert_eq!(info().await.status, 200, "still cached");
    api.clock.advance(Duration::from_secs(11));
    assert_eq!(info().await.status, 401, "gone after 30 seconds");
}

async fn last_use_is_recorded_at_most_once_a_minute(api: Api) {
    let a = shop(&api, "acme").await;
    let key = create_key(&api, &a.staff, &["store.read"]).await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    let stored = || async {
        raw(
            &api,
            Key::new(format!("T#{}#APIKEYS", a.id), format!("KEY#{id}")),
        )
        .await
        .unwrap()
    };
    assert!(stored().await["last_used_at"].is_null());
    let first = api.clock.now_epoch();
    for _ in 0..5 {
        let r = api
            .send(api.get("/store/info").header("x-api-key", secret))
            .await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(stored().await["last_used_epoch"], first);
    api.clock.advance(Duration::from_secs(30));
    api.send(api.get("/store/info").header("x-api-key", secret))
        .await;
    assert_eq!(
        stored().await["last_used_epoch"],
        first,
        "not within the minute"
    );
    api.clock.advance(Duration::from_secs(31));
    api.send(api.get("/store/info").header("x-api-key", secret))
        .await;
    assert_eq!(stored().await["last_used_epoch"], first + 61);
    let shown = api
        .send(api.get(&format!("/admin/api-keys/{id}")).token(&a.staff))
        .await;
    assert!(shown.body["last_used_at"].is_string());
}

/// Stored idempotency records of a tenant that contain `needle` in clear.
async fn scan_for(api: &Api, tenant: &str, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Idempotency records live under `T#<tenant>#IDEM#<hash>`; the embedded store can list them
    // all, DynamoDB Local needs their exact key, so read the one this test wrote.
    let staff: Vec<_> = raw_partition(api, format!("T#{tenant}#ORG"))
        .await
        .into_iter()
        .filter(|i| i["entity"] == "staff_user")
        .collect();
    for user in staff {
        use sha2::Digest;
        let digest =
            sha2::Sha256::digest(format!("{}\ncreate-key-1", user["id"].as_str().unwrap()));
        let key = Key::new(format!("T#{tenant}#IDEM#{}", hex::encode(digest)), "IDEM");
        if let Some(item) = raw(api, key).await {
            assert_eq!(item["state"], "completed");
            let text = serde_json::to_string(&item).unwrap();
            if text.contains(needle) {
                found.push(text);
            }
        } else {
            panic!("no idempotency record for the retried create");
        }
    }
    found
}

trait NowEpoch {
    fn now_epoch(&self) -> i64;
}
impl NowEpoch for shared::clock::ManualClock {
    fn now_epoch(&self) -> i64 {
        shared::clock::Clock::epoch_seconds(self)
    }
}

// Customer sign-in ------------------------------------------------------------------------------

async fn shoppers_register_log_in_refresh_and_log_out(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let (id, access, refresh) = shopper(&api, &a, "Sam@Example.com").await;
    assert!(id.starts_with("cus_"));
    let me = api
        .send(
            api.get("/store/customers/me")
                .header("x-api-key", &a.key)
                .token(&access),
        )
        .await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["email"], "sam@example.com");
    assert_eq!(me.body["email_verified"], false);
    assert!(me.body.get("note").is_none() && me.body.get("password_hash").is_none());

    let taken = api
        .send(
            api.post("/store/auth/register")
                .header("x-api-key", &a.key)
                .json(json!({"email": "sam@example.com", "password": SHOPPER_PASSWORD})),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "email_taken"));
    // The same person at another company is another customer.
    let (other, _, _) = shopper(&api, &b, "sam@example.com").await;
    assert_ne!(other, id);

    let weak = api
        .send(
            api.post("/store/auth/register")
                .header("x-api-key", &a.key)
                .json(json!({"email": "weak@example.com", "password": "password"})),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.body["errors"][0]["field"], "password");

    let wrong = login(&api, &a.key, "sam@example.com", "not-the-password-1").await;
    let unknown = login(&api, &a.key, "nobody@example.com", SHOPPER_PASSWORD).await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    assert_eq!(
        unknown.body["detail"], wrong.body["detail"],
        "no enumeration"
    );
    let signed_in = login(&api, &a.key, "SAM@example.com", SHOPPER_PASSWORD).await;
    assert_eq!(signed_in.status, 200);
    assert_eq!(signed_in.body["customer"]["id"], id.as_str());
    // Store-call counts would tell an unknown email from a wrong password.
    for r in [&wrong, &unknown, &signed_in, &taken] {
        assert!(r.header("server-timing").is_none());
    }
    if api.backend == "embedded" {
        assert!(
            me.header("server-timing").is_some(),
            "shown to a signed-in customer"
        );
    }

    let refresh_call = |token: &str, key: &str| {
        api.send(
            api.post("/store/auth/refresh")
                .header("x-api-key", key)
                .json(json!({"refresh_token": token})),
        )
    };
    assert_eq!(
        refresh_call(&refresh, &b.key).await.status,
        401,
        "other tenant's key"
    );
    let rotated = refresh_call(&refresh, &a.key).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let newer = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    let reused = refresh_call(&refresh, &a.key).await;
    assert_eq!(
        (reused.status, reused.code()),
        (401, "refresh_token_reused")
    );
    assert_eq!(
        refresh_call(&newer, &a.key).await.status,
        401,
        "the session is revoked"
    );

    let (_, access2, refresh2) = tokens(&signed_in);
    let out = api
        .send(
            api.post("/store/auth/logout")
                .header("x-api-key", &a.key)
                .token(&access2),
        )
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(refresh_call(&refresh2, &a.key).await.status, 401);
}

async fn registrations_are_throttled_per_source(api: Api) {
    let a = shop(&api, "acme").await;
    let register = |i: usize, ip: &str| {
        api.send(
            api.post("/store/auth/register")
                .header("x-api-key", &a.key)
                .from_ip(ip)
                .json(
                    json!({"email": format!("probe{i}@example.com"), "password": SHOPPER_PASSWORD}),
                ),
        )
    };
    for i in 0..20 {
        assert_eq!(register(i, "203.0.113.9").await.status, 201);
    }
    let limited = register(20, "203.0.113.9").await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        register(21, "203.0.113.10").await.status,
        201,
        "other sources are not"
    );
}

async fn customer_tokens_verify_with_their_own_published_keys(api: Api) {
    let a = shop(&api, "acme").await;
    let (_, access, _) = shopper(&api, &a, "sam@example.com").await;
    let store_keys = api.send(api.get("/store/.well-known/jwks.json")).await;
    let staff_keys = api.send(api.get("/.well-known/jwks.json")).await;
    assert_eq!(store_keys.status, 200);
    let kid = |jwks: &Response| jwks.body["keys"][0]["kid"].as_str().unwrap().to_owned();
    assert_ne!(kid(&store_keys), kid(&staff_keys), "separate signing keys");
    use base64::Engine;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(access.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid(&store_keys).as_str());
    assert_eq!(header["typ"], "at+jwt");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "store");
    assert_eq!(claims["tid"], a.id.as_str());
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 900);
}

async fn repeated_failed_logins_lock_the_account_out(api: Api) {
    let a = shop(&api, "acme").await;
    shopper(&api, &a, "sam@example.com").await;
    for _ in 0..5 {
        let r = login(&api, &a.key, "sam@example.com", "wrong-password-000").await;
        assert_eq!(r.status, 401);
    }
    let locked = login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert!(locked.header("retry-after").is_some());
    api.clock.advance(Duration::from_secs(61));
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        200
    );
}

fn count(responses: &[Response], status: u16) -> usize {
    responses.iter().filter(|r| r.status == status).count()
}

/// Every guess that gets an answer other than 429 had its password checked: parallel guesses
/// take their slots first, so at most the limit of them get that far.
async fn parallel_guesses_check_the_password_at_most_limit_times(api: Api) {
    let a = shop(&api, "acme").await;
    shopper(&api, &a, "sam@example.com").await;
    let api = std::sync::Arc::new(api);
    let _turn = commerce_tests::api::crowd().await;
    let guesses = all_at_once(&api, 200, |api, i| {
        api.post("/store/auth/login")
            .header("x-api-key", &a.key)
            .from_ip(&format!("10.2.{}.{}", i / 250, i % 250))
            .json(json!({"email": "sam@example.com", "password": format!("wrong-guess-{i}")}))
    })
    .await;
    let mut statuses: Vec<(u16, String)> = guesses
        .iter()
        .map(|r| (r.status, r.code().to_owned()))
        .collect();
    statuses.sort();
    statuses.dedup();
    // Every guess but the checked ones was refused before its password was looked at: throttled,
    // or, when the crowd's writes to the account's throttle kept colliding, told to retry.
    assert!(
        statuses.iter().all(|(status, code)| matches!(
            (*status, code.as_str()),
            (401, _) | (429, _) | (409, "concurrent_update")
        )),
        "{statuses:?}"
    );
    let checked = count(&guesses, 401);
    assert!(checked <= 5, "{checked} passwords checked");
    // Guesses after the crowd are checked until the limit is reached, then refused.
    let mut later = 0;
    loop {
        let r = login(&api, &a.key, "sam@example.com", "wrong-again-000").await;
        if r.status == 429 {
            break;
        }
        assert_eq!(r.status, 401, "{:?}", r.body);
        later += 1;
        assert!(checked + later <= 5, "more than the limit checked");
    }
    assert_eq!(checked + later, 5);
    let locked = login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD).await;
    assert_eq!(locked.status, 429, "the fifth failure locked the account");
}

async fn racing_copies_of_a_refresh_token_revoke_the_session(api: Api) {
    let a = shop(&api, "acme").await;
    let (_, _, token) = shopper(&api, &a, "sam@example.com").await;
    let api = std::sync::Arc::new(api);
    let refresh = |api: &Api, token: &str| {
        api.post("/store/auth/refresh")
            .header("x-api-key", &a.key)
            .json(json!({"refresh_token": token}))
    };
    let raced = all_at_once(&api, 20, |api, _| refresh(api, &token)).await;
    assert!(count(&raced, 200) <= 1);
    for lost in raced.iter().filter(|r| r.status != 200) {
        assert_eq!(
            (lost.status, lost.code()),
            (401, "refresh_token_reused"),
            "{:?}",
            lost.body
        );
    }
    let mut tokens = vec![token.clone()];
    tokens.extend(
        raced
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body["refresh_token"].as_str().unwrap().to_owned()),
    );
    for token in tokens {
        let again = api.send(refresh(&api, &token)).await;
        assert_eq!(again.status, 401, "{:?}", again.body);
    }
    let reuses = events_of(&api, &a.id)
        .await
        .iter()
        .filter(|kind| *kind == "customer.refresh_token_reused")
        .count();
    assert_eq!(reuses, 1, "one theft, one event");
}

/// A reset token works only against the password it was sent for.
async fn reset_tokens_die_with_any_password_change(api: Api) {
    let a = shop(&api, "acme").await;
    let (_, access, _) = shopper(&api, &a, "sam@example.com").await;
    let ask = || async {
        let asked = api
            .send(
                api.post("/store/auth/password-reset")
                    .header("x-api-key", &a.key)
                    .json(json!({"email": "sam@example.com"})),
            )
            .await;
        assert_eq!(asked.status, 202);
        let mail = api.deliver_mail(&a.id).await;
        newest_token(&mail, "reset token")
    };
    let confirm = |token: String, password: &'static str| {
        api.send(
            api.post("/store/auth/password-reset/confirm")
                .header("x-api-key", &a.key)
                .json(json!({"token": token, "new_password": password})),
        )
    };

    let before_change = ask().await;
    let changed = api
        .send(
            api.post("/store/customers/me/password")
                .header("x-api-key", &a.key)
                .token(&access)
                .json(json!({"current_password": SHOPPER_PASSWORD, "new_password": "granite-meadow-falcon-93"})),
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    let stale = confirm(before_change, "granite-meadow-falcon-94").await;
    assert_eq!(
        (stale.status, stale.code()),
        (400, "invalid_token"),
        "a token from before the change"
    );

    let first = ask().await;
    let second = ask().await;
    assert_eq!(confirm(first, "granite-meadow-falcon-95").await.status, 204);
    let other = confirm(second, "granite-meadow-falcon-96").await;
    assert_eq!(
        (other.status, other.code()),
        (400, "invalid_token"),
        "a second token after the first was used"
    );
    let signed_in = login(&api, &a.key, "sam@example.com", "granite-meadow-falcon-95").await;
    assert_eq!(signed_in.status, 200, "the completed reset holds");
}

/// Failed log-ins and reset requests make the same store calls whether or not the email belongs
/// to a customer.
async fn unknown_emails_cost_what_known_ones_do(api: Api) {
    let a = shop(&api, "acme").await;
    shopper(&api, &a, "sam@example.com").await;
    let log_in = |email: &str| {
        api.post("/store/auth/login")
            .header("x-api-key", &a.key)
            .json(json!({"email": email, "password": "not-the-password-1"}))
    };
    let (known, known_calls) = api.send_counted(log_in("sam@example.com")).await;
    let (unknown, unknown_calls) = api.send_counted(log_in("nobody@example.com")).await;
    assert_eq!((known.status, unknown.status), (401, 401));
    assert_eq!(known_calls, unknown_calls, "failed log-in");

    let reset = |email: &str| {
        api.post("/store/auth/password-reset")
            .header("x-api-key", &a.key)
            .json(json!({"email": email}))
    };
    let (known, known_calls) = api.send_counted(reset("sam@example.com")).await;
    let (unknown, unknown_calls) = api.send_counted(reset("nobody@example.com")).await;
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known_calls, unknown_calls, "reset request");
}

async fn tokens_never_cross_audiences_tenants_or_keys(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let (_, access, _) = shopper(&api, &a, "sam@example.com").await;
    let me = |key: Option<&str>, token: &str| {
        let mut call = api.get("/store/customers/me").token(token);
        if let Some(key) = key {
            call = call.header("x-api-key", key);
        }
        api.send(call)
    };
    assert_eq!(me(Some(&a.key), &access).await.status, 200);
    assert_eq!(me(None, &access).await.status, 401, "no key");
    assert_eq!(
        me(Some(&b.key), &access).await.status,
        401,
        "other tenant's key"
    );
    assert_eq!(
        me(Some(&a.key), &a.staff).await.status,
        401,
        "a staff token"
    );
    let admin = api.send(api.get("/admin/me").token(&access)).await;
    assert_eq!(admin.status, 401, "a customer token on the admin API");
    let tampered = format!("{}x", &access[..access.len() - 1]);
    assert_eq!(me(Some(&a.key), &tampered).await.status, 401);

    let narrow = create_key(&api, &a.staff, &["store.read"]).await;
    let narrow = narrow["secret"].as_str().unwrap();
    let r = me(Some(narrow), &access).await;
    assert_eq!((r.status, r.code()), (403, "missing_scope"));

    // A customer token outlives no more than 15 minutes.
    api.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(me(Some(&a.key), &access).await.status, 401, "expired");
}

async fn verification_and_password_reset_go_through_email(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let (_, _, refresh) = shopper(&api, &a, "sam@example.com").await;
    let mail = api.deliver_mail(&a.id).await;
    let welcome = mail
        .iter()
        .find(|m| m.contains("To: sam@example.com") && m.contains("Confirm your email"))
        .expect("a verification email");
    let token = token_after(welcome, "confirmation token");
    let verify = |key: &str, token: &str| {
        api.send(
            api.post("/store/auth/verify-email")
                .header("x-api-key", key)
                .json(json!({"token": token})),
        )
    };
    assert_eq!(
        verify(&b.key, &token).await.status,
        400,
        "another tenant's key"
    );
    assert_eq!(verify(&a.key, &token).await.status, 204);
    assert_eq!(verify(&a.key, &token).await.status, 400, "single use");
    let signed_in = login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD).await;
    assert_eq!(signed_in.body["customer"]["email_verified"], true);

    let ask = |email: &str| {
        api.send(
            api.post("/store/auth/password-reset")
                .header("x-api-key", &a.key)
                .json(json!({"email": email})),
        )
    };
    assert_eq!(ask("nobody@example.com").await.status, 202);
    assert_eq!(ask("sam@example.com").await.status, 202);
    let mail = api.deliver_mail(&a.id).await;
    let resets: Vec<&String> = mail
        .iter()
        .filter(|m| m.contains("Subject: Reset your password"))
        .collect();
    assert_eq!(resets.len(), 1, "only the real account gets an email");
    assert!(resets[0].contains("To: sam@example.com"));
    let token = token_after(resets[0], "reset token");

    let confirm = |token: &str, password: &str| {
        api.send(
            api.post("/store/auth/password-reset/confirm")
                .header("x-api-key", &a.key)
                .json(json!({"token": token, "new_password": password})),
        )
    };
    let weak = confirm(&token, "short").await;
    assert_eq!(weak.status, 422);
    assert_eq!(
        confirm(&format!("{token}x"), "granite-meadow-falcon-93")
            .await
            .status,
        400
    );
    assert_eq!(
        confirm(&token, "granite-meadow-falcon-93").await.status,
        204
    );
    assert_eq!(
        confirm(&token, "another-granite-meadow-94").await.status,
        400,
        "single use"
    );
    let old_session = api
        .send(
            api.post("/store/auth/refresh")
                .header("x-api-key", &a.key)
                .json(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(old_session.status, 401, "every session ended");
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        login(&api, &a.key, "sam@example.com", "granite-meadow-falcon-93")
            .await
            .status,
        200
    );

    // A reset token works for an hour only.
    assert_eq!(ask("sam@example.com").await.status, 202);
    let mail = api.deliver_mail(&a.id).await;
    let late = newest_token(&mail, "reset token");
    api.clock.advance(Duration::from_secs(3601));
    assert_eq!(confirm(&late, "granite-meadow-falcon-95").await.status, 400);
}

async fn profile_password_and_sessions(api: Api) {
    let a = shop(&api, "acme").await;
    let (_, access, refresh) = shopper(&api, &a, "sam@example.com").await;
    let second = login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD).await;
    let (_, _, second_refresh) = tokens(&second);
    let call = |c: commerce_tests::api::Call| c.header("x-api-key", &a.key).token(&access);

    let changed = api
        .send(call(api.patch("/store/customers/me")).json(
            json!({"first_name": "Samantha", "phone": "+49 30 1234567", "accepts_marketing": false}),
        ))
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["first_name"], "Samantha");
    let invalid = api
        .send(call(api.patch("/store/customers/me")).json(json!({"phone": "call me maybe"})))
        .await;
    assert_eq!(invalid.status, 422);
    let sneaky = api
        .send(
            call(api.patch("/store/customers/me")).json(json!({"note": "vip", "status": "active"})),
        )
        .await;
    assert_eq!(sneaky.status, 422, "staff-only fields are refused");

    let sessions = api
        .send(call(api.get("/store/customers/me/sessions")))
        .await;
    assert_eq!(sessions.body["data"].as_array().unwrap().len(), 2);

    let wrong = api
        .send(call(api.post("/store/customers/me/password")).json(
            json!({"current_password": "nope-nope-nope-1", "new_password": "granite-meadow-falcon-93"}),
        ))
        .await;
    assert_eq!(wrong.status, 422);
    let ok = api
        .send(call(api.post("/store/customers/me/password")).json(
            json!({"current_password": SHOPPER_PASSWORD, "new_password": "granite-meadow-falcon-93"}),
        ))
        .await;
    assert_eq!(ok.status, 204, "{:?}", ok.body);
    let refresh_with = |token: &str| {
        api.send(
            api.post("/store/auth/refresh")
                .header("x-api-key", &a.key)
                .json(json!({"refresh_token": token})),
        )
    };
    assert_eq!(
        refresh_with(&second_refresh).await.status,
        401,
        "other sessions end"
    );
    assert_eq!(
        refresh_with(&refresh).await.status,
        200,
        "the calling one survives"
    );

    let sessions = api
        .send(call(api.get("/store/customers/me/sessions")))
        .await;
    let list = sessions.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let current = list[0]["id"].as_str().unwrap();
    let gone = api
        .send(call(api.delete(
            "/store/customers/me/sessions/ses_01JSAMPLE0000000000000000",
        )))
        .await;
    assert_eq!(gone.status, 404);
    let ended = api
        .send(call(
            api.delete(&format!("/store/customers/me/sessions/{current}")),
        ))
        .await;
    assert_eq!(ended.status, 204);
}

// Email change ----------------------------------------------------------------------------------

/// The last email sent to `to` with `subject`.
fn mail_to<'a>(mail: &'a [String], to: &str, subject: &str) -> &'a String {
    mail.iter()
        .rev()
        .find(|m| m.contains(&format!("To: {to}\r\n")) && m.contains(subject))
        .unwrap_or_else(|| panic!("no `{subject}` to {to} in {mail:?}"))
}

async fn request_email_change(api: &Api, key: &str, access: &str, body: Value) -> Response {
    api.send(
        api.post("/store/customers/me/email")
            .header("x-api-key", key)
            .token(access)
            .json(body),
    )
    .await
}

async fn confirm_email_change(api: &Api, key: &str, access: &str, token: &str) -> Response {
    api.send(
        api.post("/store/customers/me/email/confirm")
            .header("x-api-key", key)
            .token(access)
            .json(json!({"token": token})),
    )
    .await
}

async fn customers_change_their_email_by_confirming_the_new_one(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let (id, access, _) = shopper(&api, &a, "sam@example.com").await;
    let (_, olga, _) = shopper(&api, &a, "olga@example.com").await;
    let request = |body: Value| request_email_change(&api, &a.key, &access, body);

    let wrong =
        request(json!({"new_email": "sam@new.example.com", "password": "not-the-password-1"}))
            .await;
    assert_eq!(wrong.status, 422, "{:?}", wrong.body);
    assert_eq!(wrong.body["errors"][0]["field"], "password");
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect");
    for (body, code) in [
        (
            json!({"new_email": "not an email", "password": SHOPPER_PASSWORD}),
            "invalid",
        ),
        (
            json!({"new_email": " SAM@example.com", "password": SHOPPER_PASSWORD}),
            "unchanged",
        ),
    ] {
        let r = request(body).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["errors"][0]["field"], "new_email");
        assert_eq!(r.body["errors"][0]["code"], code, "{:?}", r.body);
    }
    let extra = request(json!({"new_email": "sam@new.example.com", "password": SHOPPER_PASSWORD, "email_verified": true})).await;
    assert_eq!(extra.status, 422, "unknown fields are refused");
    let mail = api.deliver_mail(&a.id).await;
    assert!(
        !mail.iter().any(|m| m.contains("sam@new.example.com")),
        "nothing is sent for a refused request"
    );

    let asked =
        request(json!({"new_email": " Sam@New.Example.com ", "password": SHOPPER_PASSWORD})).await;
    assert_eq!(asked.status, 202, "{:?}", asked.body);
    let mail = api.deliver_mail(&a.id).await;
    let to_new = mail_to(
        &mail,
        "sam@new.example.com",
        "Confirm your new email address",
    );
    let token = token_after(to_new, "confirmation token");
    // Until it is confirmed the account keeps its email.
    let me = api
        .send(
            api.get("/store/customers/me")
                .header("x-api-key", &a.key)
                .token(&access),
        )
        .await;
    assert_eq!(me.body["email"], "sam@example.com");
    assert_eq!(
        login(&api, &a.key, "sam@new.example.com", SHOPPER_PASSWORD)
            .await
            .status,
        401
    );
    let export = api
        .send(
            api.get(&format!("/admin/customers/{id}/export"))
                .token(&a.staff),
        )
        .await;
    assert_eq!(export.body["pending_email"], "sam@new.example.com");

    // The token works only for the customer who asked, through their own company's key.
    let foreign = confirm_email_change(&api, &a.key, &olga, &token).await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (400, "invalid_token"),
        "another customer"
    );
    assert_eq!(
        confirm_email_change(&api, &b.key, &access, &token)
            .await
            .status,
        401,
        "another company's key"
    );
    let forged = confirm_email_change(&api, &a.key, &access, &format!("{token}x")).await;
    assert_eq!(forged.status, 400);

    let confirmed = confirm_email_change(&api, &a.key, &access, &token).await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    assert_eq!(confirmed.body["email"], "sam@new.example.com");
    assert_eq!(confirmed.body["email_verified"], true);
    let reused = confirm_email_change(&api, &a.key, &access, &token).await;
    assert_eq!((reused.status, reused.code()), (400, "invalid_token"));

    assert_eq!(
        login(&api, &a.key, "sam@new.example.com", SHOPPER_PASSWORD)
            .await
            .status,
        200
    );
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        401
    );
    let mail = api.deliver_mail(&a.id).await;
    let notice = mail_to(&mail, "sam@example.com", "Your email address was changed");
    assert!(!notice.contains(&token));
    let events = events_of(&api, &a.id).await;
    for kind in ["customer.email_change_requested", "customer.email_changed"] {
        assert_eq!(
            events.iter().filter(|e| *e == kind).count(),
            1,
            "{kind} in {events:?}"
        );
    }
    let guard = |email: &str| {
        raw(
            &api,
            Key::new(format!("T#{}#CUSTOMER_EMAIL#{email}", a.id), "EMAIL"),
        )
    };
    assert!(guard("sam@example.com").await.is_none());
    assert_eq!(
        guard("sam@new.example.com").await.unwrap()["customer_id"],
        id.as_str()
    );
    let listed = api
        .send(api.get("/admin/customers?email=sam%40new").token(&a.staff))
        .await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    // The old address is free for a new account.
    shopper(&api, &a, "sam@example.com").await;

    // The wrong password given here counted toward the same lockout as the password change's.
    let change_password = || {
        api.send(
            api.post("/store/customers/me/password")
                .header("x-api-key", &a.key)
                .token(&access)
                .json(json!({"current_password": "not-the-password-2", "new_password": "granite-meadow-falcon-93"})),
        )
    };
    for _ in 0..4 {
        assert_eq!(change_password().await.status, 422);
    }
    assert_eq!(change_password().await.status, 429);
}

async fn an_email_change_needs_a_free_address_and_a_live_token(api: Api) {
    let a = shop(&api, "acme").await;
    let (_, access, _) = shopper(&api, &a, "sam@example.com").await;
    shopper(&api, &a, "olga@example.com").await;
    let ask = |email: &str| {
        request_email_change(
            &api,
            &a.key,
            &access,
            json!({"new_email": email, "password": SHOPPER_PASSWORD}),
        )
    };
    let token_for = |mail: &[String], email: &str| {
        token_after(
            mail_to(mail, email, "Confirm your new email address"),
            "confirmation token",
        )
    };

    // Taken: the request gives nothing away; only the confirmation, from that mailbox, says so.
    assert_eq!(ask("olga@example.com").await.status, 202);
    let mail = api.deliver_mail(&a.id).await;
    let taken =
        confirm_email_change(&api, &a.key, &access, &token_for(&mail, "olga@example.com")).await;
    assert_eq!((taken.status, taken.code()), (409, "email_taken"));
    assert_eq!(
        login(&api, &a.key, "olga@example.com", SHOPPER_PASSWORD)
            .await
            .body["customer"]["email"],
        "olga@example.com"
    );
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        200,
        "unchanged"
    );

    // A new request replaces the earlier one.
    assert_eq!(ask("sam@one.example.com").await.status, 202);
    assert_eq!(ask("sam@two.example.com").await.status, 202);
    let mail = api.deliver_mail(&a.id).await;
    let first = token_for(&mail, "sam@one.example.com");
    let second = token_for(&mail, "sam@two.example.com");
    assert_eq!(
        confirm_email_change(&api, &a.key, &access, &first)
            .await
            .status,
        400
    );
    let confirmed = confirm_email_change(&api, &a.key, &access, &second).await;
    assert_eq!(confirmed.body["email"], "sam@two.example.com");

    // Every request counts, so one account cannot flood a mailbox.
    assert_eq!(ask("sam@three.example.com").await.status, 202);
    assert_eq!(ask("sam@four.example.com").await.status, 202);
    let flooded = ask("sam@five.example.com").await;
    assert_eq!(flooded.status, 429, "{:?}", flooded.body);

    // A token works for 24 hours.
    let mail = api.deliver_mail(&a.id).await;
    let late = token_for(&mail, "sam@four.example.com");
    api.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let signed_in = login(&api, &a.key, "sam@two.example.com", SHOPPER_PASSWORD).await;
    let (_, fresh, _) = tokens(&signed_in);
    let expired = confirm_email_change(&api, &a.key, &fresh, &late).await;
    assert_eq!((expired.status, expired.code()), (400, "invalid_token"));
}

/// Someone who knew the password and asked for an email change loses it when the owner resets
/// the password (or changes it): the change waiting for its confirmation dies with the old
/// password, and the export shows the sessions the reset ended as ended.
async fn a_password_reset_voids_a_pending_email_change(api: Api) {
    let a = shop(&api, "acme").await;
    let (id, _, _) = shopper(&api, &a, "sam@example.com").await;
    let (_, attacker, _) = tokens(&login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD).await);
    let asked = request_email_change(
        &api,
        &a.key,
        &attacker,
        json!({"new_email": "mallory@evil.example", "password": SHOPPER_PASSWORD}),
    )
    .await;
    assert_eq!(asked.status, 202, "{:?}", asked.body);
    let mail = api.deliver_mail(&a.id).await;
    let change = token_after(
        mail_to(
            &mail,
            "mallory@evil.example",
            "Confirm your new email address",
        ),
        "confirmation token",
    );
    // The owner resets the password.
    let r = api
        .send(
            api.post("/store/auth/password-reset")
                .header("x-api-key", &a.key)
                .json(json!({"email": "sam@example.com"})),
        )
        .await;
    assert_eq!(r.status, 202);
    let reset = newest_token(&api.deliver_mail(&a.id).await, "reset token");
    let r = api
        .send(
            api.post("/store/auth/password-reset/confirm")
                .header("x-api-key", &a.key)
                .json(json!({"token": reset, "new_password": "granite-meadow-falcon-93"})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let confirmed = confirm_email_change(&api, &a.key, &attacker, &change).await;
    assert!(
        matches!(
            (confirmed.status, confirmed.code()),
            (400, "invalid_token") | (401, "unauthenticated")
        ),
        "{:?}",
        confirmed.body
    );
    // The reset ended the attacker's session: its access token reads and changes nothing more,
    // without waiting for it to expire.
    let me = api
        .send(
            api.get("/store/customers/me")
                .header("x-api-key", &a.key)
                .token(&attacker),
        )
        .await;
    assert_eq!(
        (me.status, me.code()),
        (401, "unauthenticated"),
        "{:?}",
        me.body
    );
    let hijack = api
        .send(
            api.patch("/store/customers/me")
                .header("x-api-key", &a.key)
                .token(&attacker)
                .json(json!({"first_name": "Hijack"})),
        )
        .await;
    assert_eq!(hijack.status, 401, "{:?}", hijack.body);
    api.clock.advance(Duration::from_secs(1));
    let signed_in = login(&api, &a.key, "sam@example.com", "granite-meadow-falcon-93").await;
    assert_eq!(signed_in.status, 200, "the account is still the owner's");
    let export = api
        .send(
            api.get(&format!("/admin/customers/{id}/export"))
                .token(&a.staff),
        )
        .await;
    assert_eq!(export.status, 200, "{:?}", export.body);
    let sessions = export.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    let ended = sessions.iter().filter(|s| s["revoked"] == true).count();
    assert_eq!(
        ended, 2,
        "the two sessions from before the reset: {sessions:?}"
    );
    assert_eq!(export.body["pending_email"], Value::Null);
}

async fn one_new_email_confirmed_by_two_customers_at_once_goes_to_one(api: Api) {
    let a = shop(&api, "acme").await;
    let (sam_id, sam, _) = shopper(&api, &a, "sam@example.com").await;
    let (olga_id, olga, _) = shopper(&api, &a, "olga@example.com").await;
    let mut tokens = Vec::new();
    for access in [&sam, &olga] {
        let asked = request_email_change(
            &api,
            &a.key,
            access,
            json!({"new_email": "family@example.com", "password": SHOPPER_PASSWORD}),
        )
        .await;
        assert_eq!(asked.status, 202);
        let mail = api.deliver_mail(&a.id).await;
        tokens.push(token_after(
            mail_to(
                &mail,
                "family@example.com",
                "Confirm your new email address",
            ),
            "confirmation token",
        ));
    }
    let (by_sam, by_olga) = tokio::join!(
        confirm_email_change(&api, &a.key, &sam, &tokens[0]),
        confirm_email_change(&api, &a.key, &olga, &tokens[1]),
    );
    let mut statuses = [by_sam.status, by_olga.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{:?} {:?}", by_sam.body, by_olga.body);
    let (winner, loser_email) = if by_sam.status == 200 {
        (&sam_id, "olga@example.com")
    } else {
        (&olga_id, "sam@example.com")
    };
    let guard = raw(
        &api,
        Key::new(
            format!("T#{}#CUSTOMER_EMAIL#family@example.com", a.id),
            "EMAIL",
        ),
    )
    .await
    .unwrap();
    assert_eq!(guard["customer_id"], winner.as_str());
    let signed_in = login(&api, &a.key, "family@example.com", SHOPPER_PASSWORD).await;
    assert_eq!(signed_in.body["customer"]["id"], winner.as_str());
    let kept = login(&api, &a.key, loser_email, SHOPPER_PASSWORD).await;
    assert_eq!(kept.status, 200, "the loser keeps their email");
}

async fn customer_emails_link_to_the_storefront_once_its_url_is_set(api: Api) {
    let a = shop(&api, "acme").await;
    let set = |url: &str| {
        api.send(
            api.patch("/admin/settings/general")
                .token(&a.staff)
                .json(json!({"storefront_url": url})),
        )
    };
    assert_eq!(set("http://localhost:3000/shop").await.status, 200);
    let set = set("https://shop.example.com/").await;
    assert_eq!(set.status, 200, "{:?}", set.body);

    shopper(&api, &a, "sam@example.com").await;
    let mail = api.deliver_mail(&a.id).await;
    let welcome = mail_to(&mail, "sam@example.com", "Confirm your email address");
    let link = token_after(welcome, "Open this link");
    let token = link
        .strip_prefix("https://shop.example.com/account/verify?token=")
        .unwrap_or_else(|| panic!("{link}"));
    let verified = api
        .send(
            api.post("/store/auth/verify-email")
                .header("x-api-key", &a.key)
                .json(json!({"token": token})),
        )
        .await;
    assert_eq!(verified.status, 204, "the link's token works");

    api.send(
        api.post("/store/auth/password-reset")
            .header("x-api-key", &a.key)
            .json(json!({"email": "sam@example.com"})),
    )
    .await;
    let mail = api.deliver_mail(&a.id).await;
    let reset = token_after(
        mail_to(&mail, "sam@example.com", "Reset your password"),
        "Open this link",
    );
    assert!(
        reset.starts_with("https://shop.example.com/account/reset-password?token="),
        "{reset}"
    );

    // Without the setting, emails carry the bare token again.
    let unset = api
        .send(
            api.patch("/admin/settings/general")
                .token(&a.staff)
                .json(json!({"storefront_url": null})),
        )
        .await;
    assert_eq!(unset.status, 200);
    shopper(&api, &a, "olga@example.com").await;
    let mail = api.deliver_mail(&a.id).await;
    let welcome = mail_to(&mail, "olga@example.com", "Confirm your email address");
    assert!(!welcome.contains("https://"), "{welcome}");
    assert!(token_after(welcome, "confirmation token").starts_with(&format!("{}.", a.id)));
}

// Addresses -------------------------------------------------------------------------------------

async fn address_book_keeps_one_default_of_each_kind(api: Api) {
    let a = shop(&api, "acme").await;
    let (_, access, _) = shopper(&api, &a, "sam@example.com").await;
    let (_, other, _) = shopper(&api, &a, "olga@example.com").await;
    let as_sam = |c: commerce_tests::api::Call| c.header("x-api-key", &a.key).token(&access);

    let first = api
        .send(as_sam(api.post("/store/customers/me/addresses")).json(address("10115")))
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        first.body["is_default_shipping"], true,
        "the first becomes the default"
    );
    assert_eq!(first.body["is_default_billing"], true);
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    assert!(first_id.starts_with("addr_"));

    for (body, field, code) in [
        (address("1011"), "postal_code", "invalid"),
        (
            json!({"first_name": "S", "last_name": "S", "line1": "x", "city": "Berlin", "country": "DE"}),
            "postal_code",
            "required",
        ),
        (
            json!({"first_name": "S", "last_name": "S", "line1": "x", "city": "Berlin", "postal_code": "10115", "country": "XX"}),
            "country",
            "invalid_country",
        ),
        (
            json!({"first_name": "", "last_name": "S", "line1": "x", "city": "Berlin", "postal_code": "10115", "country": "DE"}),
            "first_name",
            "required",
        ),
    ] {
        let r = api
            .send(as_sam(api.post("/store/customers/me/addresses")).json(body))
            .await;
        assert_eq!(r.status, 422, "{field}");
        let error = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("{field} in {:?}", r.body));
        if code != "invalid_country" {
            assert_eq!(error["code"], code);
        }
    }

    let second = api
        .send(
            as_sam(api.post("/store/customers/me/addresses"))
                .json(json!({"first_name": "Sam", "last_name": "Shopper", "line1": "1 Main St", "city": "SF", "region": "CA", "postal_code": "94105", "country": "US", "default_shipping": true})),
        )
        .await;
    assert_eq!(second.status, 201);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let listed = api
        .send(as_sam(api.get("/store/customers/me/addresses")))
        .await;
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let shipping: Vec<&Value> = data
        .iter()
        .filter(|a| a["is_default_shipping"] == true)
        .collect();
    assert_eq!(shipping.len(), 1);
    assert_eq!(shipping[0]["id"], second_id.as_str());
    let billing: Vec<&Value> = data
        .iter()
        .filter(|a| a["is_default_billing"] == true)
        .collect();
    assert_eq!(billing[0]["id"], first_id.as_str());

    let patched = api
        .send(
            as_sam(api.patch(&format!("/store/customers/me/addresses/{first_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"line2": "Hinterhaus", "default_shipping": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["line2"], "Hinterhaus");
    assert_eq!(patched.body["is_default_shipping"], true);
    let stale = api
        .send(
            as_sam(api.patch(&format!("/store/customers/me/addresses/{first_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"line2": "late"})),
        )
        .await;
    assert_eq!(stale.status, 412);

    // Another customer's address is not there for this one.
    let as_olga = |c: commerce_tests::api::Call| c.header("x-api-key", &a.key).token(&other);
    let path = format!("/store/customers/me/addresses/{first_id}");
    assert_eq!(api.send(as_olga(api.get(&path))).await.status, 404);
    assert_eq!(
        api.send(as_olga(api.patch(&path)).json(json!({"city": "Hacked"})))
            .await
            .status,
        404
    );
    assert_eq!(api.send(as_olga(api.delete(&path))).await.status, 404);
    assert_eq!(
        api.send(as_sam(api.get(&path))).await.body["city"],
        "Berlin"
    );

    let deleted = api.send(as_sam(api.delete(&path))).await;
    assert_eq!(deleted.status, 204);
    let me = api.send(as_sam(api.get("/store/customers/me"))).await;
    assert!(me.body["default_shipping_address_id"].is_null());
    assert!(me.body["default_billing_address_id"].is_null());
    assert_eq!(api.send(as_sam(api.get(&path))).await.status, 404);
}

async fn concurrent_address_changes_keep_the_book_consistent(api: Api) {
    let a = shop(&api, "acme").await;
    let (id, access, _) = shopper(&api, &a, "sam@example.com").await;
    let api = std::sync::Arc::new(api);
    let creates = (0..6).map(|i| {
        let (api, key, access) = (api.clone(), a.key.clone(), access.clone());
        tokio::spawn(async move {
            api.send(
                api.post("/store/customers/me/addresses")
                    .header("x-api-key", &key)
                    .token(&access)
                    .json(json!({"first_name": "Sam", "last_name": format!("No{i}"), "line1": "x", "city": "Berlin", "postal_code": "10115", "country": "DE", "default_shipping": true})),
            )
            .await
            .status
        })
    });
    let statuses: Vec<u16> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let items = raw_partition(&api, format!("T#{}#CUSTOMER#{id}", a.id)).await;
    let addresses: Vec<&serde_json::Map<String, Value>> = items
        .iter()
        .filter(|i| i["entity"] == "customer_address")
        .collect();
    assert_eq!(addresses.len(), created, "no address lost or half-written");
    let profile = items.iter().find(|i| i["entity"] == "customer").unwrap();
    let default = profile["default_shipping_address_id"].as_str().unwrap();
    assert!(
        addresses.iter().any(|a| a["id"] == default),
        "the default exists"
    );
}

// Staff side ------------------------------------------------------------------------------------

async fn staff_find_group_and_disable_customers(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let (sam, _, sam_refresh) = shopper(&api, &a, "sam@example.com").await;
    api.clock.advance(Duration::from_secs(1));
    let (olga, _, _) = shopper(&api, &a, "olga@example.org").await;
    api.clock.advance(Duration::from_secs(1));
    shopper(&api, &b, "bea@example.com").await;
    let staff = |c: commerce_tests::api::Call| c.token(&a.staff);

    let all = api.send(staff(api.get("/admin/customers"))).await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let ids: Vec<&str> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![olga.as_str(), sam.as_str()],
        "newest first, own tenant only"
    );
    let paged = api.send(staff(api.get("/admin/customers?limit=1"))).await;
    let cursor = paged.body["next_cursor"].as_str().unwrap().to_owned();
    let next = api
        .send(staff(
            api.get(&format!("/admin/customers?limit=1&cursor={cursor}")),
        ))
        .await;
    assert_eq!(next.body["data"][0]["id"], sam.as_str());
    let replayed = api
        .send(staff(api.get(&format!(
            "/admin/customers?limit=1&email=s&cursor={cursor}"
        ))))
        .await;
    assert_eq!(replayed.status, 400, "a cursor is bound to its filters");

    let by_email = api
        .send(staff(api.get("/admin/customers?email=OLGA")))
        .await;
    assert_eq!(by_email.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_email.body["data"][0]["id"], olga.as_str());
    let by_name = api.send(staff(api.get("/admin/customers?name=shop"))).await;
    assert_eq!(by_name.body["data"].as_array().unwrap().len(), 2);
    let olga_created = all.body["data"][0]["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let sam_created = all.body["data"][1]["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let after = api
        .send(staff(api.get(&format!(
            "/admin/customers?created_after={olga_created}"
        ))))
        .await;
    assert_eq!(after.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(after.body["data"][0]["id"], olga.as_str());
    let before = api
        .send(staff(api.get(&format!(
            "/admin/customers?created_before={sam_created}"
        ))))
        .await;
    assert_eq!(before.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(before.body["data"][0]["id"], sam.as_str());
    let bad = api
        .send(staff(api.get("/admin/customers?created_after=yesterday")))
        .await;
    assert_eq!(bad.status, 422);

    let group = api
        .send(staff(api.post("/admin/customer-groups")).json(json!({"name": "VIP"})))
        .await;
    assert_eq!(group.status, 201);
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    let joined = api
        .send(
            staff(api.patch(&format!("/admin/customers/{sam}"))).json(
                json!({"group_ids": [group_id], "tags": ["wholesale"], "note": "prefers DHL"}),
            ),
        )
        .await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    let members = api
        .send(staff(
            api.get(&format!("/admin/customers?group={group_id}")),
        ))
        .await;
    assert_eq!(members.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(members.body["data"][0]["note"], "prefers DHL");
    let counted = api
        .send(staff(
            api.get(&format!("/admin/customer-groups/{group_id}")),
        ))
        .await;
    assert_eq!(counted.body["member_count"], 1);
    let in_use = api
        .send(staff(
            api.delete(&format!("/admin/customer-groups/{group_id}")),
        ))
        .await;
    assert_eq!((in_use.status, in_use.code()), (409, "group_in_use"));
    let unknown = api
        .send(
            staff(api.patch(&format!("/admin/customers/{olga}")))
                .json(json!({"group_ids": ["cgrp_01JSAMPLE0000000000000000"]})),
        )
        .await;
    assert_eq!(unknown.status, 422);
    let unchanged = api
        .send(staff(api.get(&format!("/admin/customers/{olga}"))))
        .await;
    assert_eq!(unchanged.body["version"], 1, "nothing half-written");

    // Disabled customers cannot sign in or refresh; enabled again, they can.
    let disabled = api
        .send(
            staff(api.patch(&format!("/admin/customers/{sam}")))
                .json(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        401
    );
    let refreshed = api
        .send(
            api.post("/store/auth/refresh")
                .header("x-api-key", &a.key)
                .json(json!({"refresh_token": sam_refresh})),
        )
        .await;
    assert_eq!(refreshed.status, 401);
    api.send(
        staff(api.patch(&format!("/admin/customers/{sam}"))).json(json!({"status": "active"})),
    )
    .await;
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        200
    );

    // Another company's staff find nothing; a read-only role cannot change anything.
    let foreign = api
        .send(api.get(&format!("/admin/customers/{sam}")).token(&b.staff))
        .await;
    assert_eq!(foreign.status, 404);
    let foreign = api
        .send(
            api.get(&format!("/admin/customers/{sam}/export"))
                .token(&b.staff),
        )
        .await;
    assert_eq!(foreign.status, 404);
}

async fn export_holds_everything_and_erase_removes_it(api: Api) {
    let a = shop(&api, "acme").await;
    let (id, access, _) = shopper(&api, &a, "sam@example.com").await;
    for postal in ["10115", "10117"] {
        let r = api
            .send(
                api.post("/store/customers/me/addresses")
                    .header("x-api-key", &a.key)
                    .token(&access)
                    .json(address(postal)),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let export = api
        .send(
            api.get(&format!("/admin/customers/{id}/export"))
                .token(&a.staff),
        )
        .await;
    assert_eq!(export.status, 200);
    assert_eq!(export.body["customer"]["email"], "sam@example.com");
    assert_eq!(export.body["addresses"].as_array().unwrap().len(), 2);
    assert_eq!(export.body["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(export.body["sessions"][0]["ip"], "198.51.100.7");

    let erased = api
        .send(
            api.delete(&format!("/admin/customers/{id}"))
                .token(&a.staff),
        )
        .await;
    assert_eq!(erased.status, 204);
    let items = raw_partition(&api, format!("T#{}#CUSTOMER#{id}", a.id)).await;
    assert_eq!(
        items.len(),
        1,
        "only the anonymised profile stays: {items:?}"
    );
    let text = serde_json::to_string(&items).unwrap();
    for personal in [
        "sam@example.com",
        "Shopper",
        "Invalidenstr",
        "argon2",
        "gsi1pk",
    ] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    assert_eq!(items[0]["status"], "erased");
    assert!(raw(
        &api,
        Key::new(
            format!("T#{}#CUSTOMER_EMAIL#sam@example.com", a.id),
            "EMAIL"
        )
    )
    .await
    .is_none());
    assert!(raw_partition(&api, format!("T#{}#SESSIONS#{id}", a.id))
        .await
        .is_empty());
    let me = api
        .send(
            api.get("/store/customers/me")
                .header("x-api-key", &a.key)
                .token(&access),
        )
        .await;
    assert_eq!(me.status, 401, "an erased customer's token opens nothing");
    assert_eq!(
        login(&api, &a.key, "sam@example.com", SHOPPER_PASSWORD)
            .await
            .status,
        401
    );
    let listed = api.send(api.get("/admin/customers").token(&a.staff)).await;
    assert!(listed.body["data"].as_array().unwrap().is_empty());
    let patched = api
        .send(
            api.patch(&format!("/admin/customers/{id}"))
                .token(&a.staff)
                .json(json!({"note": "x"})),
        )
        .await;
    assert_eq!((patched.status, patched.code()), (409, "customer_erased"));
    // The email is free again.
    shopper(&api, &a, "sam@example.com").await;
}

async fn events_of(api: &Api, tenant: &str) -> Vec<String> {
    api.event_kinds(tenant).await
}

async fn an_erasure_stopped_halfway_is_finished_by_erasing_again(api: Api) {
    let a = shop(&api, "acme").await;
    let (id, _, _) = shopper(&api, &a, "sam@example.com").await;
    api.send(
        api.post("/store/auth/login")
            .header("x-api-key", &a.key)
            .header("user-agent", "SamBrowser/1.0")
            .from_ip("203.0.113.9")
            .json(json!({"email": "sam@example.com", "password": SHOPPER_PASSWORD})),
    )
    .await;
    let sessions = format!("T#{}#SESSIONS#{id}", a.id);
    assert_eq!(raw_partition(&api, sessions.clone()).await.len(), 2);
    let erase = || {
        api.send(
            api.delete(&format!("/admin/customers/{id}"))
                .token(&a.staff),
        )
    };
    let get = || api.send(api.get(&format!("/admin/customers/{id}")).token(&a.staff));

    // The store fails after the erasure transaction, while session records are deleted.
    api.faults.fail_deletes("#SESSIONS#", 1);
    let failed = erase().await;
    assert_eq!(failed.status, 503, "{:?}", failed.body);
    let half = get().await;
    assert_eq!(half.body["status"], "erased");
    assert_eq!(half.body["erasure"], "pending", "{:?}", half.body);
    assert_eq!(half.body["email"], Value::Null);
    let left = serde_json::to_string(&raw_partition(&api, sessions.clone()).await).unwrap();
    assert!(
        left.contains("203.0.113.9"),
        "the failure left the records: {left}"
    );

    let retried = erase().await;
    assert_eq!(retried.status, 204, "{:?}", retried.body);
    assert_eq!(get().await.body["erasure"], "complete");
    assert!(raw_partition(&api, sessions.clone()).await.is_empty());
    let mut stored = raw_partition(&api, format!("T#{}#CUSTOMER#{id}", a.id)).await;
    stored.extend(
        raw(
            &api,
            Key::new(
                format!("T#{}#CUSTOMER_EMAIL#sam@example.com", a.id),
                "EMAIL",
            ),
        )
        .await,
    );
    let text = serde_json::to_string(&stored).unwrap();
    for personal in [
        "sam@example.com",
        "198.51.100.7",
        "203.0.113.9",
        "SamBrowser",
        "Shopper",
    ] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }

    // Erasing a finished erasure again changes nothing.
    let version = get().await.body["version"].clone();
    assert_eq!(erase().await.status, 204);
    assert_eq!(get().await.body["version"], version);
    let events = events_of(&api, &a.id).await;
    let count = |kind: &str| events.iter().filter(|e| *e == kind).count();
    assert_eq!(count("customer.erased"), 1);
    assert_eq!(count("customer.erasure_completed"), 1);
}

// CORS ------------------------------------------------------------------------------------------

async fn storefront_origins_follow_the_security_settings(api: Api) {
    let a = shop(&api, "acme").await;
    let preflight = api
        .send(
            api.call_method("OPTIONS", "/store/info")
                .header("origin", "https://shop.example.com")
                .header("access-control-request-method", "GET"),
        )
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("x-api-key"));

    let from = |origin: &str| {
        api.send(
            api.get("/store/info")
                .header("x-api-key", &a.key)
                .header("origin", origin),
        )
    };
    let open = from("https://anything.example").await;
    assert_eq!(open.status, 200, "no list: every origin");
    assert_eq!(
        open.header("access-control-allow-origin"),
        Some("https://anything.example")
    );
    let set = api
        .send(
            api.patch("/admin/settings/security")
                .token(&a.staff)
                .json(json!({"allowed_origins": ["https://shop.example.com"]})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let refused = from("https://evil.example").await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "origin_not_allowed")
    );
    assert!(refused.header("access-control-allow-origin").is_none());
    let allowed = from("https://shop.example.com").await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    assert!(allowed
        .header("access-control-expose-headers")
        .unwrap()
        .contains("etag"));
    // Servers and apps send no Origin and are not affected.
    let server = api
        .send(api.get("/store/info").header("x-api-key", &a.key))
        .await;
    assert_eq!(server.status, 200);
}

/// Answers that carry tokens are never stored for replay: the storefront's idempotency scope is
/// its publishable key, which every shopper shares.
async fn token_answers_are_never_replayed(api: Api) {
    let a = shop(&api, "acme").await;
    shopper(&api, &a, "sam@example.com").await;
    let login_with = |key: &'static str| {
        api.post("/store/auth/login")
            .header("x-api-key", &a.key)
            .header("idempotency-key", key)
            .json(json!({"email": "sam@example.com", "password": SHOPPER_PASSWORD}))
    };
    let first = api.send(login_with("login-1")).await;
    let second = api.send(login_with("login-1")).await;
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(first.body["refresh_token"], second.body["refresh_token"]);

    let refresh = || {
        api.post("/store/auth/refresh")
            .header("x-api-key", &a.key)
            .header("idempotency-key", "refresh-1")
            .json(json!({"refresh_token": first.body["refresh_token"]}))
    };
    assert_eq!(api.send(refresh()).await.status, 200);
    // The same request again is a second use of a rotated token, not a replay of new tokens.
    let again = api.send(refresh()).await;
    assert_eq!(again.status, 401);
    assert!(again.body.get("access_token").is_none());
    assert_eq!(again.header("idempotent-replayed"), None);

    let register = || {
        api.post("/store/auth/register")
            .header("x-api-key", &a.key)
            .header("idempotency-key", "register-1")
            .json(json!({"email": "kim@example.com", "password": SHOPPER_PASSWORD, "first_name": "Kim", "last_name": "Lee", "accepts_marketing": false}))
    };
    assert_eq!(api.send(register()).await.status, 201);
    let twice = api.send(register()).await;
    assert_eq!((twice.status, twice.code()), (409, "email_taken"));
}

// Every storefront route ---------------------------------------------------------------------------

async fn every_storefront_route_checks_key_scope_and_token(api: Api) {
    let a = shop(&api, "acme").await;
    let b = shop(&api, "bolt").await;
    let (_, access, _) = shopper(&api, &a, "sam@example.com").await;
    // Keys holding one scope only, so that each route meets one without its own.
    let only = |scope: &'static str| {
        let (api, staff) = (&api, a.staff.clone());
        async move {
            create_key(api, &staff, &[scope]).await["secret"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (only_carts, only_checkout) = (only("carts.write").await, only("checkout.write").await);
    let revoked = create_key(&api, &a.staff, &ALL_SCOPES).await;
    let revoked_id = revoked["id"].as_str().unwrap();
    let revoked = revoked["secret"].as_str().unwrap().to_owned();
    api.send(
        api.delete(&format!("/admin/api-keys/{revoked_id}"))
            .token(&a.staff),
    )
    .await;
    let mut checked = 0;
    for route in shared::routes::ALL {
        let (Access::StoreKey(scope) | Access::StoreCustomer(scope) | Access::StoreShopper(scope)) =
            route.access
        else {
            continue;
        };
        let unscoped = if scope == "carts.write" {
            &only_checkout
        } else {
            &only_carts
        };
        let path = route
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "x_1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let call = |key: Option<&str>, token: Option<&str>| {
            let mut call = api.call_method(route.method.as_str(), &path);
            if route.method == Method::Post || route.method == Method::Patch {
                call = call.json(json!({}));
            }
            if let Some(key) = key {
                call = call.header("x-api-key", key);
            }
            if let Some(token) = token {
                call = call.token(token);
            }
            call
        };
        let token = Some(access.as_str());
        let r = api.send(call(None, token)).await;
        assert_eq!(r.status, 401, "{route:?} without a key");
        let r = api.send(call(Some(&revoked), token)).await;
        assert_eq!(r.status, 401, "{route:?} with a revoked key");
        let r = api.send(call(Some(unscoped), token)).await;
        assert_eq!((r.status, r.code()), (403, "missing_scope"), "{route:?}");
        if let Access::StoreCustomer(_) = route.access {
            let r = api.send(call(Some(&b.key), token)).await;
            assert_eq!(r.status, 401, "{route:?} with the other tenant's key");
            let r = api.send(call(Some(&a.key), Some(&a.staff))).await;
            assert_eq!(r.status, 401, "{route:?} with a staff token");
            let r = api.send(call(Some(&a.key), None)).await;
            assert_eq!(r.status, 401, "{route:?} without a customer token");
        }
        if let Access::StoreShopper(_) = route.access {
            // A guest needs no token, but a token sent must be a customer's of the key's company.
            let r = api.send(call(Some(&a.key), Some(&a.staff))).await;
            assert_eq!(r.status, 401, "{route:?} with a staff token");
            let r = api.send(call(Some(&b.key), token)).await;
            assert_eq!(r.status, 401, "{route:?} with the other tenant's key");
        }
        checked += 1;
    }
    assert!(checked >= 18, "{checked} storefront routes");

    // Staff routes of this issue refuse a customer token, and need their permissions.
    let mut admin_checked = 0;
    for route in shared::routes::ALL {
        let Access::Staff(permission) = route.access else {
            continue;
        };
        if !(permission.starts_with("customers.") || permission == "api_keys.manage") {
            continue;
        }
        let path = route.path.replace("{id}", "x_1");
        let mut call = api
            .call_method(route.method.as_str(), &path)
            .header("x-api-key", &a.key)
            .token(&access);
        if route.method.has_body() {
            call = call.json(json!({}));
        }
        assert_eq!(api.send(call).await.status, 401, "{route:?}");
        admin_checked += 1;
    }
    assert!(admin_checked >= 16, "{admin_checked} admin routes");
}

async fn lookalike_emails_are_one_customer(api: Api) {
    let a = shop(&api, "acme").await;
    let (id, _, _) = shopper(&api, &a, "sam@example.com").await;
    for lookalike in [
        "\u{ff53}am@example.com",
        "\u{ff33}\u{ff21}\u{ff2d}@\u{ff45}\u{ff58}\u{ff41}\u{ff4d}\u{ff50}\u{ff4c}\u{ff45}\u{ff0e}\u{ff43}\u{ff4f}\u{ff4d}",
    ] {
        let again = api
            .send(
                api.post("/store/auth/register")
                    .header("x-api-key", &a.key)
                    .json(json!({"email": lookalike, "password": SHOPPER_PASSWORD})),
            )
            .await;
        assert_eq!(
            (again.status, again.code()),
            (409, "email_taken"),
            "{lookalike}"
        );
        let signed_in = login(&api, &a.key, lookalike, SHOPPER_PASSWORD).await;
        assert_eq!(signed_in.status, 200, "{lookalike}: {:?}", signed_in.body);
        assert_eq!(signed_in.body["customer"]["id"], id.as_str());
    }

    // A reset asked for in fullwidth letters goes to the account's address.
    let reset = api
        .send(
            api.post("/store/auth/password-reset")
                .header("x-api-key", &a.key)
                .json(json!({"email": "\u{ff53}am@example.com"})),
        )
        .await;
    assert_eq!(reset.status, 202);
    let mail = api.deliver_mail(&a.id).await;
    let resets: Vec<&String> = mail
        .iter()
        .filter(|m| m.contains("Subject: Reset your password"))
        .collect();
    assert_eq!(resets.len(), 1);
    assert!(resets[0].contains("To: sam@example.com\r\n"));

    // Staff search folds the same way (`ｓa`, percent-encoded).
    let found = api
        .send(api.get("/admin/customers?email=%EF%BD%93A").token(&a.staff))
        .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    assert_eq!(found.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["data"][0]["id"], id.as_str());

    // Customers may write their address in any script.
    let (cyrillic, _, _) = shopper(&api, &a, "\u{441}\u{44d}\u{43c}@example.com").await;
    assert_ne!(cyrillic, id);
}

api_cases!(
    a_password_reset_voids_a_pending_email_change,
    api_keys_are_shown_once_and_stored_as_hashes,
    scopes_rotation_and_revocation_decide_access,
    a_key_revoked_elsewhere_stops_working_within_the_cache_bound,
    last_use_is_recorded_at_most_once_a_minute,
    shoppers_register_log_in_refresh_and_log_out,
    repeated_failed_logins_lock_the_account_out,
    registrations_are_throttled_per_source,
    customer_tokens_verify_with_their_own_published_keys,
    tokens_never_cross_audiences_tenants_or_keys,
    verification_and_password_reset_go_through_email,
    profile_password_and_sessions,
    customers_change_their_email_by_confirming_the_new_one,
    an_email_change_needs_a_free_address_and_a_live_token,
    one_new_email_confirmed_by_two_customers_at_once_goes_to_one,
    customer_emails_link_to_the_storefront_once_its_url_is_set,
    address_book_keeps_one_default_of_each_kind,
    concurrent_address_changes_keep_the_book_consistent,
    staff_find_group_and_disable_customers,
    export_holds_everything_and_erase_removes_it,
    an_erasure_stopped_halfway_is_finished_by_erasing_again,
    storefront_origins_follow_the_security_settings,
    every_storefront_route_checks_key_scope_and_token,
    token_answers_are_never_replayed,
    lookalike_emails_are_one_customer,
    parallel_guesses_check_the_password_at_most_limit_times,
    racing_copies_of_a_refresh_token_revoke_the_session,
    reset_tokens_die_with_any_password_change,
    unknown_emails_cost_what_known_ones_do,
);
