//! The settings engine through the router on every backend.

use commerce_tests::api::{Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";

struct Company {
    id: String,
    user: String,
    token: String,
}

async fn register(api: &Api, handle: &str) -> Company {
    let r = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "Shop", "handle": handle, "country": "NL", "currency": "EUR", "timezone": "Europe/Amsterdam"},
            "owner": {"name": "Noor", "email": format!("noor@{handle}.example.com"), "password": PASSWORD}
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    Company {
        id: r.body["company"]["id"].as_str().unwrap().into(),
        user: r.body["user"]["id"].as_str().unwrap().into(),
        token: r.body["access_token"].as_str().unwrap().into(),
    }
}

async fn token_with(api: &Api, c: &Company, permissions: &[&str]) -> String {
    api.member_with(&c.token, &c.id, permissions).await
}

async fn patch(api: &Api, token: &str, group: &str, body: Value) -> Response {
    api.send(
        api.patch(&format!("/admin/settings/{group}"))
            .token(token)
            .json(body),
    )
    .await
}

async fn a_new_company_has_every_group_at_its_defaults(api: Api) {
    let c = register(&api, "shop").await;
    let all = api.send(api.get("/admin/settings").token(&c.token)).await;
    assert_eq!(all.status, 200);
    for group in [
        "general",
        "security",
        "payments",
        "notifications",
        "shipping",
        "tax",
        "checkout",
        "inventory",
    ] {
        // General starts from what the company gave at sign-up; the rest are defaults.
        let version = u64::from(group == "general");
        assert_eq!(all.body[group]["version"], version, "{group}");
        assert_eq!(all.body[group]["etag"], format!("\"{version}\""), "{group}");
    }
    assert_eq!(all.body["general"]["values"]["store_name"], "Shop");
    assert_eq!(all.body["inventory"]["values"]["low_stock_threshold"], 5);
    assert_eq!(
        all.body["inventory"]["values"]["show_stock_quantity"],
        false
    );
    assert_eq!(all.body["general"]["values"]["default_currency"], "EUR");
    assert_eq!(
        all.body["general"]["values"]["timezone"],
        "Europe/Amsterdam"
    );
    assert_eq!(all.body["security"]["values"]["password_min_length"], 12);
    assert_eq!(all.body["checkout"]["values"]["guest_checkout"], true);
    assert_eq!(all.body["tax"]["values"]["prices_include_tax"], false);
    assert_eq!(
        all.body["payments"]["values"]["stripe"]["secret_key"]["configured"],
        false
    );
    let one = api
        .send(api.get("/admin/settings/general").token(&c.token))
        .await;
    assert_eq!(one.header("etag"), Some("\"1\""));
    assert_eq!(
        api.send(api.get("/admin/settings/nonsense").token(&c.token))
            .await
            .status,
        404
    );
}

async fn every_group_round_trips(api: Api) {
    let c = register(&api, "shop").await;
    let changes = [
        (
            "general",
            json!({"store_name": "Noor's", "default_currency": "EUR", "supported_currencies": ["EUR", "USD"], "default_locale": "nl-NL", "supported_locales": ["nl-NL", "en"], "timezone": "Europe/Amsterdam", "address": {"line1": "Damrak 1", "city": "Amsterdam", "postal_code": "1012 LG", "country": "NL"}, "storefront_url": "https://noor.example.com/shop"}),
        ),
        (
            "security",
            json!({"password_min_length": 16, "access_token_ttl_seconds": 300, "allowed_origins": ["https://shop.example.com", "http://localhost:3001"]}),
        ),
        ("payments", json!({"capture_mode": "manual"})),
        (
            "notifications",
            json!({"sender_email": "hello@shop.example.com", "order_alert_recipients": ["ops@shop.example.com"]}),
        ),
        (
            "shipping",
            json!({"default_package": {"length": 40, "width": 30, "height": 20, "weight": 2}, "weight_unit": "g"}),
        ),
        (
            "tax",
            json!({"prices_include_tax": true, "registrations": [{"country": "NL", "number": "NL123456789B01"}]}),
        ),
        (
            "checkout",
            json!({"guest_checkout": false, "cart_lifetime_seconds": 86400}),
        ),
    ];
    for (group, change) in changes {
        let r = patch(&api, &c.token, group, change.clone()).await;
        assert_eq!(r.status, 200, "{group}: {:?}", r.body);
        // General was first saved at sign-up.
        let version = 1 + u64::from(group == "general");
        assert_eq!(r.body["version"], version, "{group}");
        assert_eq!(r.header("etag"), Some(format!("\"{version}\"").as_str()));
        let read = api
            .send(api.get(&format!("/admin/settings/{group}")).token(&c.token))
            .await;
        for (field, value) in change.as_object().unwrap() {
            assert_eq!(&read.body["values"][field], value, "{group}.{field}");
        }
    }
    // null resets a field to its default.
    let reset = patch(&api, &c.token, "checkout", json!({"guest_checkout": null})).await;
    assert_eq!(reset.body["values"]["guest_checkout"], true);
    assert_eq!(reset.body["version"], 2);
}

async fn invalid_values_name_their_field_and_change_nothing(api: Api) {
    let c = register(&api, "shop").await;
    let cases = [
        (
            "general",
            json!({"default_currency": "EURO"}),
            "default_currency",
        ),
        (
            "general",
            json!({"supported_currencies": ["GBP"]}),
            "supported_currencies",
        ),
        (
            "general",
            json!({"default_locale": "english", "supported_locales": ["english"]}),
            "default_locale",
        ),
        ("general", json!({"timezone": "Mars/Olympus"}), "timezone"),
        (
            "general",
            json!({"supported_currencies": ["EUR", "EUR"]}),
            "supported_currencies[1]",
        ),
        (
            "payments",
            json!({"enabled_providers": ["test", "test"]}),
            "enabled_providers[1]",
        ),
        (
            "checkout",
            json!({"required_customer_fields": ["email", "email"]}),
            "required_customer_fields[1]",
        ),
        (
            "security",
            json!({"allowed_origins": ["https://a.example", "https://A.example"]}),
            "allowed_origins[1]",
        ),
        (
            "notifications",
            json!({"order_alert_recipients": ["a@example.com", "A@Example.com"]}),
            "order_alert_recipients[1]",
        ),
        (
            "tax",
            json!({"registrations": [{"country": "DE", "number": "DE1"}, {"country": "DE", "number": "DE2"}]}),
            "registrations[1]",
        ),
        ("general", json!({"weight_unit": "stone"}), "weight_unit"),
        ("general", json!({"contact_email": "nope"}), "contact_email"),
        ("general", json!({"store_name": 7}), "store_name"),
        ("general", json!({"colour": "blue"}), ""),
        (
            "general",
            json!({"storefront_url": "http://shop.example.com"}),
            "storefront_url",
        ),
        (
            "general",
            json!({"storefront_url": "https://shop.example.com/?next=evil"}),
            "storefront_url",
        ),
        (
            "general",
            json!({"storefront_url": "https://shop.example.com/#x"}),
            "storefront_url",
        ),
        (
            "general",
            json!({"storefront_url": "javascript:alert(1)//"}),
            "storefront_url",
        ),
        (
            "general",
            json!({"storefront_url": "https://user@shop.example.com"}),
            "storefront_url",
        ),
        (
            "general",
            json!({"storefront_url": "https://shop.example.com/a b"}),
            "storefront_url",
        ),
        (
            "general",
            json!({"storefront_url": format!("https://shop.example.com/{}", "a".repeat(200))}),
            "storefront_url",
        ),
        (
            "security",
            json!({"password_min_length": 7}),
            "password_min_length",
        ),
        (
            "security",
            json!({"access_token_ttl_seconds": 3600}),
            "access_token_ttl_seconds",
        ),
        (
            "security",
            json!({"allowed_origins": ["http://evil.example.com"]}),
            "allowed_origins[0]",
        ),
        (
            "security",
            json!({"refresh_idle_ttl_seconds": 864000, "refresh_absolute_ttl_seconds": 86400}),
            "refresh_absolute_ttl_seconds",
        ),
        (
            "payments",
            json!({"capture_mode": "sometimes"}),
            "capture_mode",
        ),
        (
            "payments",
            json!({"enabled_providers": ["stripe"]}),
            "stripe.secret_key",
        ),
        (
            "payments",
            json!({"stripe": {"secret_key": {"configured": true}}}),
            "stripe.secret_key",
        ),
        (
            "shipping",
            json!({"default_package": {"length": 0, "width": 1, "height": 1, "weight": 1}}),
            "default_package.length",
        ),
        (
            "tax",
            json!({"registrations": [{"country": "XX", "number": "1"}]}),
            "registrations[0].country",
        ),
        (
            "checkout",
            json!({"reservation_window_seconds": 5}),
            "reservation_window_seconds",
        ),
        (
            "checkout",
            json!({"required_customer_fields": ["shoe_size"]}),
            "required_customer_fields[0]",
        ),
    ];
    for (group, body, field) in cases {
        let r = patch(&api, &c.token, group, body.clone()).await;
        assert_eq!(r.status, 422, "{group} {body}: {:?}", r.body);
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{group} {body}: {fields:?}"
        );
    }
    let unknown = patch(&api, &c.token, "general", json!({"colour": "blue"})).await;
    assert!(unknown.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("colour"));
    let too_many = patch(
        &api,
        &c.token,
        "tax",
        json!({"registrations": vec![json!({"country": "NL", "number": "1"}); 51]}),
    )
    .await;
    assert!(
        too_many.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "registrations" && e["code"] == "too_many"),
        "{:?}",
        too_many.body
    );
    let all = api.send(api.get("/admin/settings").token(&c.token)).await;
    for group in [
        "general", "security", "payments", "shipping", "tax", "checkout",
    ] {
        let version = u64::from(group == "general");
        assert_eq!(all.body[group]["version"], version, "{group} unchanged");
    }
    let not_object = patch(&api, &c.token, "general", json!([1, 2])).await;
    assert_eq!(not_object.status, 422);
}

async fn stale_if_match_answers_412(api: Api) {
    let c = register(&api, "shop").await;
    let first = api
        .send(
            api.patch("/admin/settings/tax")
                .token(&c.token)
                .header("if-match", "\"0\"")
                .json(json!({"tax_on_shipping": true})),
        )
        .await;
    assert_eq!(first.status, 200);
    let stale = api
        .send(
            api.patch("/admin/settings/tax")
                .token(&c.token)
                .header("if-match", "\"0\"")
                .json(json!({"prices_include_tax": true})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let read = api
        .send(api.get("/admin/settings/tax").token(&c.token))
        .await;
    assert_eq!(read.body["values"]["prices_include_tax"], false);
}

async fn concurrent_patches_lose_no_update(api: Api) {
    let c = register(&api, "shop").await;
    let api = std::sync::Arc::new(api);
    let fields = [
        json!({"store_name": "Concurrent"}),
        json!({"legal_name": "Concurrent B.V."}),
        json!({"contact_phone": "+31 20 123 4567"}),
        json!({"order_number_prefix": "NL-"}),
        json!({"contact_email": "hi@shop.example.com"}),
        json!({"dimension_unit": "mm"}),
    ];
    let tasks: Vec<_> = fields
        .iter()
        .cloned()
        .map(|body| {
            let api = api.clone();
            let token = c.token.clone();
            tokio::spawn(async move { patch(&api, &token, "general", body).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let read = api
        .send(api.get("/admin/settings/general").token(&c.token))
        .await;
    assert_eq!(
        read.body["version"],
        fields.len() + 1,
        "sign-up saved version 1"
    );
    for body in &fields {
        for (field, value) in body.as_object().unwrap() {
            assert_eq!(&read.body["values"][field], value, "{field} kept");
        }
    }
}

async fn secrets_are_masked_encrypted_and_kept(api: Api) {
    let c = register(&api, "shop").await;
    let secret = "sk_test_51Hh0123456789abcdefWXYZ";
    let set = patch(&api, &c.token, "payments", json!({"enabled_providers": ["manual", "stripe"], "stripe": {"secret_key": secret, "webhook_secret": "whsec_0123456789abcdef"}})).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let text = set.body.to_string();
    assert!(!text.contains(secret) && !text.contains("whsec_0123456789abcdef"));
    assert_eq!(
        set.body["values"]["stripe"]["secret_key"],
        json!({"configured": true, "last4": "WXYZ"})
    );

    let raw = api
        .app
        .table
        .get(&shared::store::Key::new(
            format!("T#{}#SETTINGS", c.id),
            "GROUP#payments",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored = serde_json::to_string(&raw).unwrap();
    assert!(!stored.contains(secret), "not stored in clear");
    let ciphertext = raw["secrets"]["stripe.secret_key"].as_str().unwrap();
    let tenant = c.id.as_str();
    assert_eq!(
        shared::settings::secrets::decrypt(
            &api.app,
            tenant,
            "payments",
            "stripe.secret_key",
            ciphertext
        )
        .as_deref(),
        Some(secret)
    );
    assert!(
        shared::settings::secrets::decrypt(
            &api.app,
            tenant,
            "payments",
            "stripe.webhook_secret",
            ciphertext
        )
        .is_none(),
        "bound to its field"
    );

    let kept = patch(
        &api,
        &c.token,
        "payments",
        json!({"capture_mode": "manual"}),
    )
    .await;
    assert_eq!(
        kept.body["values"]["stripe"]["secret_key"]["configured"],
        true
    );
    let history = api
        .send(api.get("/admin/settings/payments/history").token(&c.token))
        .await;
    assert!(!history.body.to_string().contains(secret));

    // A new secret that masks like the old one is still saved.
    let same_mask = patch(
        &api,
        &c.token,
        "payments",
        json!({"stripe": {"secret_key": "sk_test_other_value_WXYZ"}}),
    )
    .await;
    assert_eq!(same_mask.body["version"], 3, "saved as a change");
    let raw = api
        .app
        .table
        .get(&shared::store::Key::new(
            format!("T#{}#SETTINGS", c.id),
            "GROUP#payments",
        ))
        .await
        .unwrap()
        .unwrap();
    let ciphertext = raw["secrets"]["stripe.secret_key"].as_str().unwrap();
    assert_eq!(
        shared::settings::secrets::decrypt(
            &api.app,
            tenant,
            "payments",
            "stripe.secret_key",
            ciphertext
        )
        .as_deref(),
        Some("sk_test_other_value_WXYZ")
    );
    // Resetting the whole provider block drops its secrets too.
    let reset = patch(
        &api,
        &c.token,
        "payments",
        json!({"enabled_providers": ["manual"], "stripe": null}),
    )
    .await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    let raw = api
        .app
        .table
        .get(&shared::store::Key::new(
            format!("T#{}#SETTINGS", c.id),
            "GROUP#payments",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(raw["secrets"].as_object().unwrap().is_empty(), "{raw:?}");
    patch(
        &api,
        &c.token,
        "payments",
        json!({"stripe": {"secret_key": secret}}),
    )
    .await;
    let cleared = patch(
        &api,
        &c.token,
        "payments",
        json!({"enabled_providers": ["manual"], "stripe": {"secret_key": null}}),
    )
    .await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(
        cleared.body["values"]["stripe"]["secret_key"],
        json!({"configured": false, "last4": null})
    );
}

async fn each_group_needs_its_own_permission(api: Api) {
    let c = register(&api, "shop").await;
    let reader = token_with(&api, &c, &["settings.read"]).await;
    let general = token_with(&api, &c, &["settings.read", "settings.general.write"]).await;
    assert_eq!(
        api.send(api.get("/admin/settings").token(&reader))
            .await
            .status,
        200
    );
    let denied = patch(&api, &reader, "general", json!({"store_name": "X"})).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.code(), "missing_permission");
    assert_eq!(
        patch(&api, &general, "general", json!({"store_name": "X"}))
            .await
            .status,
        200
    );
    assert_eq!(
        patch(
            &api,
            &general,
            "payments",
            json!({"capture_mode": "manual"})
        )
        .await
        .status,
        403
    );
    let nothing = token_with(&api, &c, &[]).await;
    assert_eq!(
        api.send(api.get("/admin/settings").token(&nothing))
            .await
            .status,
        403
    );
}

async fn companies_see_only_their_own_settings(api: Api) {
    let a = register(&api, "alpha").await;
    let b = register(&api, "bravo").await;
    assert_eq!(
        patch(&api, &a.token, "general", json!({"store_name": "Alpha"}))
            .await
            .status,
        200
    );
    let theirs = api
        .send(api.get("/admin/settings/general").token(&b.token))
        .await;
    assert_eq!(theirs.body["values"]["store_name"], "Shop");
    assert_eq!(theirs.body["version"], 1);
}

async fn history_lists_changes_newest_first(api: Api) {
    let c = register(&api, "shop").await;
    patch(&api, &c.token, "checkout", json!({"guest_checkout": false})).await;
    patch(
        &api,
        &c.token,
        "checkout",
        json!({"cart_lifetime_seconds": 7200, "guest_checkout": true}),
    )
    .await;
    let page = api
        .send(
            api.get("/admin/settings/checkout/history?limit=1")
                .token(&c.token),
        )
        .await;
    assert_eq!(page.status, 200);
    let newest = &page.body["data"][0];
    assert_eq!(newest["version"], 2);
    assert_eq!(newest["changed_by"], c.user.as_str());
    let fields: Vec<&str> = newest["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["cart_lifetime_seconds", "guest_checkout"]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let older = api
        .send(
            api.get(&format!(
                "/admin/settings/checkout/history?limit=1&cursor={cursor}"
            ))
            .token(&c.token),
        )
        .await;
    assert_eq!(older.body["data"][0]["version"], 1);
    assert_eq!(
        older.body["data"][0]["changes"][0],
        json!({"field": "guest_checkout", "before": true, "after": false})
    );
    let other_group = api
        .send(
            api.get(&format!("/admin/settings/general/history?cursor={cursor}"))
                .token(&c.token),
        )
        .await;
    assert_eq!(other_group.code(), "invalid_cursor");
}

async fn security_settings_take_effect_at_once(api: Api) {
    let c = register(&api, "shop").await;
    let set = patch(
        &api,
        &c.token,
        "security",
        json!({"password_min_length": 24, "access_token_ttl_seconds": 300, "refresh_idle_ttl_seconds": 3600}),
    )
    .await;
    assert_eq!(set.status, 200);

    let short =
        api.send(api.post("/admin/me/password").token(&c.token).json(
            json!({"current_password": PASSWORD, "new_password": "lantern-meadow-copper-7"}),
        ))
        .await;
    assert_eq!(short.status, 422);
    assert_eq!(short.body["errors"][0]["code"], "too_short");
    let long = api
        .send(api.post("/admin/me/password").token(&c.token).json(json!({"current_password": PASSWORD, "new_password": "lantern-meadow-copper-fox-river-7"})))
        .await;
    assert_eq!(long.status, 204, "{:?}", long.body);

    api.clock.advance(std::time::Duration::from_secs(1));
    let login = api
        .send(api.post("/admin/auth/login").json(json!({"company": "shop", "email": "noor@shop.example.com", "password": "lantern-meadow-copper-fox-river-7"})))
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["expires_in"], 300);
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        api.send(api.get("/admin/me").token(&token)).await.status,
        200
    );
    api.clock.advance(std::time::Duration::from_secs(301));
    assert_eq!(
        api.send(api.get("/admin/me").token(&token)).await.status,
        401,
        "expired after 300 s"
    );

    api.clock.advance(std::time::Duration::from_secs(3600));
    let idle = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": login.body["refresh_token"]})),
        )
        .await;
    assert_eq!(idle.status, 401, "idle longer than an hour");
}

api_cases!(
    security_settings_take_effect_at_once,
    a_new_company_has_every_group_at_its_defaults,
    every_group_round_trips,
    invalid_values_name_their_field_and_change_nothing,
    stale_if_match_answers_412,
    concurrent_patches_lose_no_update,
    secrets_are_masked_encrypted_and_kept,
    each_group_needs_its_own_permission,
    companies_see_only_their_own_settings,
    history_lists_changes_newest_first,
);

#[tokio::test]
async fn the_openapi_document_describes_settings_and_their_permissions() {
    let api = Api::embedded().await;
    let doc = api.send(api.get("/openapi.json")).await.body;
    for schema in [
        "GroupValues",
        "General",
        "Security",
        "Payments",
        "Checkout",
        "GroupView",
        "Change",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    let patch = &doc["paths"]["/admin/settings/{group}"]["patch"];
    assert_eq!(patch["x-permission"], "settings.{group}.write");
    assert_eq!(
        patch["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/GroupValues"
    );
    assert_eq!(
        doc["paths"]["/admin/settings"]["get"]["x-permission"],
        "settings.read"
    );
}
