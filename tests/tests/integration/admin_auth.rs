//! Companies, staff sign-in, tokens and roles, through the router on every backend.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use commerce_tests::api::{all_at_once, Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::auth::tokens::{Audience, Claims, TokenKeys};
use std::time::Duration;

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";

fn registration(handle: &str) -> Value {
    json!({
        "company": {"name": "Acme Goods", "handle": handle, "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
        "owner": {"name": "Ana Owner", "email": format!("ana@{handle}.example.com"), "password": PASSWORD}
    })
}

async fn register(api: &Api, handle: &str) -> Response {
    let response = api
        .send(api.post("/admin/auth/register").json(registration(handle)))
        .await;
    assert_eq!(response.status, 201, "{} {:?}", api.backend, response.body);
    response
}

fn access(r: &Response) -> String {
    r.body["access_token"].as_str().unwrap().to_owned()
}

fn refresh_token(r: &Response) -> String {
    r.body["refresh_token"].as_str().unwrap().to_owned()
}

async fn login(api: &Api, handle: &str, password: &str) -> Response {
    api.send(api.post("/admin/auth/login").json(json!({
        "company": handle, "email": format!("ana@{handle}.example.com"), "password": password
    })))
    .await
}

/// The access token of a new member of the owner's company holding exactly these permissions.
async fn member_with(api: &Api, owner: &Response, permissions: &[&str]) -> String {
    let tenant = owner.body["company"]["id"].as_str().unwrap();
    api.member_with(&access(owner), tenant, permissions).await
}

async fn registering_creates_company_owner_roles_and_tokens(api: Api) {
    let r = register(&api, "acme").await;
    assert_eq!(r.header("location"), Some("/admin/company"));
    assert_eq!(r.body["company"]["handle"], "acme");
    assert!(r.body["company"]["id"].as_str().unwrap().starts_with("co_"));
    assert_eq!(r.body["user"]["email"], "ana@acme.example.com");
    assert!(r.body["user"].get("password_hash").is_none());
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);

    let me = api.send(api.get("/admin/me").token(&access(&r))).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["company"]["name"], "Acme Goods");
    assert_eq!(me.body["roles"][0]["key"], "owner");
    let permissions: Vec<&str> = me.body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(permissions.contains(&"settings.payments.write"));
    assert!(permissions.contains(&"roles.manage"));

    let roles = api.send(api.get("/admin/roles").token(&access(&r))).await;
    let keys: Vec<&str> = roles.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    for key in ["owner", "admin", "staff", "read_only"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}

async fn registration_validates_every_field(api: Api) {
    let r = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "", "handle": "Bad Handle", "country": "XX", "currency": "EURO", "timezone": "Mars/Base"},
            "owner": {"name": "Ana", "email": "not-an-email", "password": "password1234"}
        })))
        .await;
    assert_eq!(r.status, 422);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "company.name",
        "company.handle",
        "company.country",
        "company.currency",
        "company.timezone",
        "owner.email",
        "owner.password",
    ] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    let reserved = api
        .send(api.post("/admin/auth/register").json(registration("admin")))
        .await;
    assert_eq!(reserved.status, 422);
    let unknown = api
        .send(
            api.post("/admin/auth/register")
                .json(json!({"company": {}, "owner": {}, "extra": 1})),
        )
        .await;
    assert_eq!(unknown.status, 422);
    // Nothing was created: the handle is still free.
    register(&api, "acme").await;
}

async fn a_taken_handle_answers_409(api: Api) {
    register(&api, "acme").await;
    let again = api
        .send(api.post("/admin/auth/register").json(registration("acme")))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "handle_taken");
}

async fn concurrent_registrations_of_one_handle_have_one_winner(api: Api) {
    let api = std::sync::Arc::new(api);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move {
                api.send(api.post("/admin/auth/register").json(registration("race")))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
}

async fn login_accepts_the_owner_and_refuses_everyone_else_alike(api: Api) {
    register(&api, "acme").await;
    let ok = login(&api, "acme", PASSWORD).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let me = api.send(api.get("/admin/me").token(&access(&ok))).await;
    assert_eq!(me.status, 200);

    let wrong = login(&api, "acme", "not-the-password-at-all").await;
    let unknown_company = login(&api, "nobody", PASSWORD).await;
    let unknown_email = api
        .send(
            api.post("/admin/auth/login")
                .json(json!({"company": "acme", "email": "eve@example.com", "password": PASSWORD})),
        )
        .await;
    for r in [&wrong, &unknown_company, &unknown_email] {
        assert_eq!(r.status, 401);
        assert_eq!(r.code(), "invalid_credentials");
        assert_eq!(r.body["detail"], wrong.body["detail"]);
    }
}

async fn repeated_failures_lock_the_account_out(api: Api) {
    register(&api, "acme").await;
    for _ in 0..5 {
        assert_eq!(
            login(&api, "acme", "wrong-password-guess").await.status,
            401
        );
    }
    let locked = login(&api, "acme", PASSWORD).await;
    assert_eq!(locked.status, 429);
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    api.clock.advance(Duration::from_secs(61));
    assert_eq!(login(&api, "acme", PASSWORD).await.status, 200);
    // Unknown accounts lock out the same way, so locking reveals nothing.
    for _ in 0..5 {
        login(&api, "ghost", "wrong-password-guess").await;
    }
    assert_eq!(login(&api, "ghost", PASSWORD).await.status, 429);
}

async fn refresh_rotates_and_reuse_revokes_the_session(api: Api) {
    let r = register(&api, "acme").await;
    let first = refresh_token(&r);
    let rotated = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": first})),
        )
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let second = refresh_token(&rotated);
    assert_ne!(first, second);
    let me = api
        .send(api.get("/admin/me").token(&access(&rotated)))
        .await;
    assert_eq!(me.status, 200);

    let reused = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": first})),
        )
        .await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.code(), "refresh_token_reused");
    let after = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": second})),
        )
        .await;
    assert_eq!(after.status, 401, "the whole session is revoked");

    for forged in [
        "",
        "garbage",
        "co_1.usr_1.ses_1.0.x",
        &second.replace(".1.", ".2."),
    ] {
        let r = api
            .send(
                api.post("/admin/auth/refresh")
                    .json(json!({"refresh_token": forged})),
            )
            .await;
        assert_eq!(r.status, 401, "{forged}");
    }
}

async fn logout_ends_refresh_and_logout_all_ends_every_session(api: Api) {
    let r = register(&api, "acme").await;
    let other = login(&api, "acme", PASSWORD).await;
    let out = api
        .send(api.post("/admin/auth/logout").token(&access(&r)))
        .await;
    assert_eq!(out.status, 204);
    let refreshed = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": refresh_token(&r)})),
        )
        .await;
    assert_eq!(refreshed.status, 401);
    // The other session still works until "log out everywhere".
    let still = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": refresh_token(&other)})),
        )
        .await;
    assert_eq!(still.status, 200);
    let all = api
        .send(api.post("/admin/auth/logout-all").token(&access(&still)))
        .await;
    assert_eq!(all.status, 204);
    let dead = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": refresh_token(&still)})),
        )
        .await;
    assert_eq!(dead.status, 401);
    // A session begun afterwards works.
    api.clock.advance(Duration::from_secs(2));
    assert_eq!(login(&api, "acme", PASSWORD).await.status, 200);
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let payload =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (header, payload, it.next().unwrap().to_owned())
}

async fn forged_and_misused_tokens_are_refused(api: Api) {
    let r = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let good = access(&r);
    let (header, payload, signature) = parts(&good);
    let mut attacks: Vec<(&str, String)> = Vec::new();

    let mut none = header.clone();
    none["alg"] = json!("none");
    attacks.push(("alg none", format!("{}.{}.", b64(&none), b64(&payload))));

    // HS256 keyed with the published public key.
    let jwks = api.send(api.get("/.well-known/jwks.json")).await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks.body["keys"][0]["n"].as_str().unwrap())
        .unwrap();
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    let signing_input = format!("{}.{}", b64(&hs), b64(&payload));
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&public).unwrap();
    mac.update(signing_input.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    attacks.push((
        "HS256 with the public key",
        format!("{signing_input}.{tag}"),
    ));

    let mut other_tenant = payload.clone();
    other_tenant["tid"] = b.body["company"]["id"].clone();
    attacks.push((
        "tid changed",
        format!("{}.{}.{signature}", b64(&header), b64(&other_tenant)),
    ));

    let mut wrong_typ = header.clone();
    wrong_typ["typ"] = json!("JWT");
    attacks.push((
        "typ changed",
        format!("{}.{}.{signature}", b64(&wrong_typ), b64(&payload)),
    ));

    let issuer = api.app.config.token_issuer();
    let (foreign_key, _) = shared::auth::tokens::generate_rsa_key();
    let foreign = TokenKeys::from_secret(Audience::Admin, issuer, foreign_key.as_bytes()).unwrap();
    let claims: Claims = serde_json::from_value(payload.clone()).unwrap();
    attacks.push(("unknown kid", foreign.issue(&claims)));

    // An EdDSA token (the customer algorithm) naming the staff key's kid.
    let ed =
        TokenKeys::from_secret(Audience::Store, issuer, hex::encode([9u8; 32]).as_bytes()).unwrap();
    let (_, ed_payload, ed_signature) = parts(&ed.issue(&claims));
    let mut ed_header = header.clone();
    ed_header["alg"] = json!("EdDSA");
    attacks.push((
        "EdDSA with the staff kid",
        format!("{}.{}.{ed_signature}", b64(&ed_header), b64(&ed_payload)),
    ));

    let mut other_issuer = claims.clone();
    other_issuer.iss = "https://elsewhere.example.com".into();
    attacks.push((
        "another issuer",
        api.app.config.staff_tokens().issue(&other_issuer),
    ));

    let mut store_claims = claims.clone();
    store_claims.aud = "store".into();
    attacks.push((
        "customer audience",
        api.app.config.staff_tokens().issue(&store_claims),
    ));

    let mut long = claims.clone();
    long.exp = long.iat + 3600;
    attacks.push((
        "lifetime over 15 minutes",
        api.app.config.staff_tokens().issue(&long),
    ));

    for (name, token) in attacks {
        let response = api.send(api.get("/admin/me").token(&token)).await;
        assert_eq!(response.status, 401, "{name}");
        assert_eq!(response.code(), "unauthenticated", "{name}");
    }
    let missing = api.send(api.get("/admin/me")).await;
    assert_eq!(missing.status, 401);
    let basic = api
        .send(api.get("/admin/me").header("authorization", "Basic YTpi"))
        .await;
    assert_eq!(basic.status, 401);

    api.clock.advance(Duration::from_secs(901));
    let expired = api.send(api.get("/admin/me").token(&good)).await;
    assert_eq!(expired.status, 401);
}

async fn routes_check_their_permission(api: Api) {
    let r = register(&api, "acme").await;
    // A session's first request, on a route that needs no permission and reads nothing itself.
    let first = api
        .send(api.get("/admin/permissions").token(&access(&r)))
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let reader = member_with(&api, &r, &["roles.read"]).await;
    let nobody = member_with(&api, &r, &[]).await;

    assert_eq!(
        api.send(api.get("/admin/roles").token(&reader))
            .await
            .status,
        200
    );
    let denied = api.send(api.get("/admin/roles").token(&nobody)).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.code(), "missing_permission");
    let create = api
        .send(
            api.post("/admin/roles")
                .token(&reader)
                .json(json!({"name": "x", "permissions": []})),
        )
        .await;
    assert_eq!(create.status, 403);
    let patch = api
        .send(
            api.patch("/admin/company")
                .token(&reader)
                .json(json!({"name": "Hijacked"})),
        )
        .await;
    assert_eq!(patch.status, 403);
    // Routes for any signed-in staff need no permission.
    assert_eq!(
        api.send(api.get("/admin/permissions").token(&nobody))
            .await
            .status,
        200
    );
    let company = api.send(api.get("/admin/company").token(&nobody)).await;
    assert_eq!(company.body["name"], "Acme Goods");
}

async fn roles_are_managed_within_their_company(api: Api) {
    let a = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let (ta, tb) = (access(&a), access(&b));

    let invalid = api
        .send(
            api.post("/admin/roles")
                .token(&ta)
                .json(json!({"name": "Packers", "permissions": ["orders.read", "orders.steal"]})),
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.body["errors"][0]["field"], "permissions[1]");
    assert_eq!(invalid.body["errors"][0]["code"], "unknown_permission");

    let created = api
        .send(api.post("/admin/roles").token(&ta).json(json!({"name": "Packers", "permissions": ["orders.write", "orders.read", "orders.read"]})))
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/admin/roles/{id}").as_str())
    );
    assert_eq!(
        created.body["permissions"],
        json!(["orders.read", "orders.write"])
    );
    assert_eq!(created.header("etag"), Some("\"1\""));

    // Another company sees nothing of it.
    let path = format!("/admin/roles/{id}");
    for call in [
        api.get(&path).token(&tb),
        api.patch(&path).token(&tb).json(json!({"name": "Mine"})),
        api.delete(&path).token(&tb),
    ] {
        let r = api.send(call).await;
        assert_eq!(r.status, 404, "{:?}", r.body);
    }

    let stale = api
        .send(
            api.patch(&path)
                .token(&ta)
                .header("if-match", "\"7\"")
                .json(json!({"name": "Pickers"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let renamed = api
        .send(
            api.patch(&path)
                .token(&ta)
                .header("if-match", "\"1\"")
                .json(json!({"name": "Pickers"})),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.body["name"], "Pickers");
    assert_eq!(renamed.body["version"], 2);

    let owner_role = api.send(api.get("/admin/me").token(&ta)).await.body["roles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let system = api
        .send(
            api.patch(&format!("/admin/roles/{owner_role}"))
                .token(&ta)
                .json(json!({"name": "Boss"})),
        )
        .await;
    assert_eq!(system.status, 409);
    assert_eq!(system.code(), "system_role");
    let system = api
        .send(api.delete(&format!("/admin/roles/{owner_role}")).token(&ta))
        .await;
    assert_eq!(system.status, 409);

    assert_eq!(api.send(api.delete(&path).token(&ta)).await.status, 204);
    assert_eq!(api.send(api.get(&path).token(&ta)).await.status, 404);
}

async fn creating_posts_honour_idempotency_keys(api: Api) {
    let a = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let create = |token: &str, name: &str| {
        api.post("/admin/roles")
            .token(token)
            .header("idempotency-key", "create-packers-1")
            .json(json!({"name": name, "permissions": ["orders.read"]}))
    };
    let first = api.send(create(&access(&a), "Packers")).await;
    let replay = api.send(create(&access(&a), "Packers")).await;
    assert_eq!(first.status, 201);
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body["id"], first.body["id"]);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.header("location"), first.header("location"));
    let roles = api.send(api.get("/admin/roles").token(&access(&a))).await;
    assert_eq!(
        roles.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == "Packers")
            .count(),
        1,
        "created once"
    );
    let reused = api.send(create(&access(&a), "Pickers")).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.code(), "idempotency_key_reused");
    // Keys belong to their company: the same key elsewhere creates anew.
    let other = api.send(create(&access(&b), "Packers")).await;
    assert_eq!(other.status, 201);
    assert_ne!(other.body["id"], first.body["id"]);
}

async fn the_company_profile_and_handle_change(api: Api) {
    let a = register(&api, "acme").await;
    register(&api, "bravo").await;
    let ta = access(&a);
    let company = api.send(api.get("/admin/company").token(&ta)).await;
    assert_eq!(company.header("etag"), Some("\"1\""));

    let taken = api
        .send(
            api.patch("/admin/company")
                .token(&ta)
                .json(json!({"handle": "bravo"})),
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.code(), "handle_taken");
    let invalid = api
        .send(
            api.patch("/admin/company")
                .token(&ta)
                .json(json!({"currency": "XXXX", "timezone": "Nowhere"})),
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.body["errors"].as_array().unwrap().len(), 2);

    let moved = api
        .send(
            api.patch("/admin/company")
                .token(&ta)
                .header("if-match", "\"1\"")
                .json(json!({"handle": "acme-goods", "name": "Acme Goods GmbH"})),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["handle"], "acme-goods");
    let stale = api
        .send(
            api.patch("/admin/company")
                .token(&ta)
                .header("if-match", "\"1\"")
                .json(json!({"name": "Old"})),
        )
        .await;
    assert_eq!(stale.status, 412);

    let old = api
        .send(api.post("/admin/auth/login").json(
            json!({"company": "acme", "email": "ana@acme.example.com", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(old.status, 401);
    let new = api
        .send(api.post("/admin/auth/login").json(
            json!({"company": "acme-goods", "email": "ana@acme.example.com", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(new.status, 200);
    // The old handle is free again.
    register(&api, "acme").await;
}

/// Staff tokens are RS256 and verifiable from the published documents alone, as API Gateway's
/// JWT authorizer verifies them: the discovery document names the tokens' issuer and the key
/// set, whose RSA key checks the signature.
async fn jwks_publishes_the_verification_key(api: Api) {
    let discovery = api.send(api.get("/.well-known/openid-configuration")).await;
    assert_eq!(discovery.status, 200);
    let issuer = discovery.body["issuer"].as_str().unwrap().to_owned();
    let jwks_uri = discovery.body["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        discovery.body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );

    let jwks = api.send(api.get("/.well-known/jwks.json")).await;
    assert_eq!(jwks.status, 200);
    let key = &jwks.body["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert!(key.get("x").is_none() && key.get("crv").is_none());
    let r = register(&api, "acme").await;
    let token = access(&r);
    let (header, payload, _) = parts(&token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(payload["iss"], issuer.as_str());

    // An independent verifier with only the published key accepts the token.
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["admin"]);
    validation.set_issuer(&[issuer.as_str()]);
    validation.validate_exp = false;
    let verified = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
    assert_eq!(verified.claims["sub"], payload["sub"]);
    let mut tampered = token.clone();
    tampered.insert(tampered.find('.').unwrap() + 2, 'x');
    assert!(jsonwebtoken::decode::<Value>(&tampered, &decoding, &validation).is_err());

    // Customer tokens keep their own EdDSA keys.
    let store_jwks = api.send(api.get("/store/.well-known/jwks.json")).await;
    assert_eq!(store_jwks.body["keys"][0]["kty"], "OKP");
    assert_ne!(store_jwks.body["keys"][0]["kid"], key["kid"]);
}

async fn auth_events_are_recorded(api: Api) {
    let r = register(&api, "acme").await;
    login(&api, "acme", PASSWORD).await;
    login(&api, "acme", "a-wrong-password-here").await;
    api.send(api.post("/admin/auth/logout").token(&access(&r)))
        .await;
    let tenant = r.body["company"]["id"].as_str().unwrap();
    let kinds = api.event_kinds(tenant).await;
    assert_eq!(
        kinds,
        vec![
            "company.created",
            "auth.logged_in",
            "auth.login_failed",
            "auth.logged_out"
        ]
    );
}

async fn event_kinds(api: &Api, tenant: &str) -> Vec<String> {
    api.event_kinds(tenant).await
}

fn count(responses: &[Response], status: u16) -> usize {
    responses.iter().filter(|r| r.status == status).count()
}

/// Each attempt takes its slot before the password is checked, so parallel guesses cannot all
/// pass a check none of them was counted in yet.
async fn parallel_guesses_check_the_password_at_most_limit_times(api: Api) {
    let r = register(&api, "acme").await;
    let tenant = r.body["company"]["id"].as_str().unwrap().to_owned();
    let api = std::sync::Arc::new(api);
    // Each guess from its own address, so only the account's limit applies.
    let _turn = commerce_tests::api::crowd().await;
    let guesses = all_at_once(&api, 200, |api, i| {
        api.post("/admin/auth/login")
            .from_ip(&format!("10.1.{}.{}", i / 250, i % 250))
            .json(json!({"company": "acme", "email": "ana@acme.example.com", "password": format!("wrong-guess-{i}")}))
    })
    .await;
    // Every guess but the checked ones was refused before its password was looked at: throttled,
    // or, when the crowd's writes to the account's throttle kept colliding, told to retry.
    assert!(
        guesses.iter().all(|r| matches!(
            (r.status, r.code()),
            (401, _) | (429, _) | (409, "concurrent_update")
        )),
        "{:?}",
        guesses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let checked = count(&guesses, 401);
    assert!(checked <= 5, "{checked} passwords checked");
    // Guesses after the crowd are checked until the limit is reached, then refused.
    let mut later = 0;
    loop {
        let status = api
            .send(api.post("/admin/auth/login").from_ip("10.9.9.9").json(
                json!({"company": "acme", "email": "ana@acme.example.com", "password": "wrong-again-000"}),
            ))
            .await
            .status;
        if status == 429 {
            break;
        }
        assert_eq!(status, 401);
        later += 1;
        assert!(checked + later <= 5, "more than the limit checked");
    }
    assert_eq!(checked + later, 5);
    let failures = event_kinds(&api, &tenant).await;
    assert_eq!(
        failures
            .iter()
            .filter(|k| *k == "auth.login_failed")
            .count(),
        5
    );
    // The fifth failure locked the account: even the right password waits.
    assert_eq!(login(&api, "acme", PASSWORD).await.status, 429);

    // One address guessing many accounts at once is held to the source's limit.
    let sprayed = all_at_once(&api, 60, |api, i| {
        api.post("/admin/auth/login")
            .from_ip("203.0.113.50")
            .json(json!({"company": "acme", "email": format!("guess{i}@acme.example.com"), "password": "wrong-guess"}))
    })
    .await;
    assert_eq!(count(&sprayed, 401), 20);
    assert_eq!(count(&sprayed, 429), 40);
}

/// Twenty copies of one refresh token at once: one may win the race, every other one is treated
/// as the reuse it is, and afterwards nothing of the session refreshes.
async fn racing_copies_of_a_refresh_token_revoke_the_session(api: Api) {
    let r = register(&api, "acme").await;
    let tenant = r.body["company"]["id"].as_str().unwrap().to_owned();
    let token = refresh_token(&r);
    let api = std::sync::Arc::new(api);
    let raced = all_at_once(&api, 20, |api, _| {
        api.post("/admin/auth/refresh")
            .json(json!({"refresh_token": token}))
    })
    .await;
    assert!(count(&raced, 200) <= 1);
    for lost in raced.iter().filter(|r| r.status != 200) {
        assert_eq!(
            (lost.status, lost.code()),
            (401, "refresh_token_reused"),
            "{:?}",
            lost.body
        );
    }
    let mut tokens = vec![token];
    tokens.extend(raced.iter().filter(|r| r.status == 200).map(refresh_token));
    for token in tokens {
        let again = api
            .send(
                api.post("/admin/auth/refresh")
                    .json(json!({"refresh_token": token})),
            )
            .await;
        assert_eq!(again.status, 401, "{:?}", again.body);
    }
    let reuses = event_kinds(&api, &tenant).await;
    assert_eq!(
        reuses
            .iter()
            .filter(|k| *k == "auth.refresh_token_reused")
            .count(),
        1,
        "one theft, one event"
    );
}

/// A failed log-in makes the same store calls whether or not the email belongs to someone.
async fn failed_log_ins_cost_the_same_for_known_and_unknown_emails(api: Api) {
    register(&api, "acme").await;
    let attempt = |email: &str| {
        api.post("/admin/auth/login")
            .json(json!({"company": "acme", "email": email, "password": "not-the-password-at-all"}))
    };
    let (known, known_calls) = api.send_counted(attempt("ana@acme.example.com")).await;
    let (unknown, unknown_calls) = api.send_counted(attempt("eve@acme.example.com")).await;
    assert_eq!((known.status, unknown.status), (401, 401));
    assert_eq!(known_calls, unknown_calls);
}

/// Every route that needs a staff token refuses a request without one (401), with a storefront
/// audience token (401), and, where it names a permission, with a token lacking it (403): checked
/// over the whole route table, so a new route cannot forget.
#[tokio::test]
async fn every_admin_route_enforces_its_access_rule() {
    use shared::http::Access;
    let api = Api::embedded().await;
    let r = register(&api, "acme").await;
    let powerless = member_with(&api, &r, &[]).await;
    let (_, payload, _) = parts(&access(&r));
    let mut store_claims: Claims = serde_json::from_value(payload).unwrap();
    store_claims.aud = "store".into();
    let customer_like = api.app.config.staff_tokens().issue(&store_claims);
    let mut checked = 0;
    for route in shared::routes::ALL {
        let path = route
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "x_1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let call = |token: Option<&str>| {
            let mut call = api.call_method(route.method.as_str(), &path);
            if route.method.has_body() {
                call = call.json(json!({}));
            }
            if let Some(token) = token {
                call = call.token(token);
            }
            call
        };
        match route.access {
            Access::Staff(_) | Access::StaffSelf => {
                assert_eq!(
                    api.send(call(None)).await.status,
                    401,
                    "{route:?} without a token"
                );
                assert_eq!(
                    api.send(call(Some(&customer_like))).await.status,
                    401,
                    "{route:?} with a store token"
                );
                if let Access::Staff(permission) = route.access {
                    let denied = api.send(call(Some(&powerless))).await;
                    assert_eq!(denied.status, 403, "{route:?} without {permission}");
                    assert_eq!(denied.code(), "missing_permission");
                }
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked >= 20, "{checked} admin routes checked");
}

/// Every permission a route names is in the catalog (a route template such as
/// `settings.{group}.write` for every value it can take), and the read-only system role reaches
/// no route that changes or exports data.
#[test]
fn route_permissions_exist_and_read_only_changes_nothing() {
    use shared::http::{Access, Method};
    use shared::iam::permissions;
    let read_only = permissions::system_roles()
        .into_iter()
        .find(|(key, ..)| *key == "read_only")
        .unwrap()
        .3;
    let groups: Vec<String> = shared::settings::groups::Group::ALL
        .iter()
        .map(|g| g.name().to_owned())
        .collect();
    let mut checked = 0;
    for route in shared::routes::ALL {
        let Access::Staff(template) = route.access else {
            continue;
        };
        let expanded: Vec<String> = if template.contains("{group}") {
            groups
                .iter()
                .map(|g| template.replace("{group}", g))
                .collect()
        } else {
            vec![template.to_owned()]
        };
        for permission in expanded {
            assert!(
                permissions::exists(&permission),
                "{route:?} names `{permission}`, which is not in the catalog"
            );
            if permissions::grants(&read_only, &permission) {
                assert_eq!(route.method, Method::Get, "read-only may call {route:?}");
                assert!(
                    !route.path.contains("export") && !permission.ends_with(".export"),
                    "read-only may export through {route:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked} permissions checked");
    // Every staff request reads the member's standing, so every staff route reads the table.
    for route in shared::routes::ALL {
        if matches!(route.access, Access::Staff(_) | Access::StaffSelf) {
            assert_ne!(
                route.aws.table,
                shared::http::TableAccess::None,
                "{route:?} cannot read the member's standing"
            );
        }
    }
}

async fn lookalike_staff_emails_are_one_account(api: Api) {
    let owner = register(&api, "acme").await;
    let owner_id = owner.body["user"]["id"].as_str().unwrap().to_owned();
    let sign_in = |email: &str, password: &str| {
        api.post("/admin/auth/login")
            .json(json!({"company": "acme", "email": email, "password": password}))
    };
    for lookalike in [
        "\u{ff41}na@acme.example.com",
        "\u{ff21}\u{ff2e}\u{ff21}@\u{ff41}\u{ff43}\u{ff4d}\u{ff45}\u{ff0e}example.com",
        " ANA@Acme.Example.Com ",
    ] {
        let r = api.send(sign_in(lookalike, PASSWORD)).await;
        assert_eq!(r.status, 200, "{lookalike}: {:?}", r.body);
        let me = api.send(api.get("/admin/me").token(&access(&r))).await;
        assert_eq!(me.body["user"]["id"], owner_id.as_str());
    }
    // A Cyrillic "а" is another address, which has no account.
    let other = api
        .send(sign_in("\u{430}na@acme.example.com", PASSWORD))
        .await;
    assert_eq!(other.status, 401);
    // Failures in every spelling count against the one account.
    for lookalike in [
        "\u{ff41}na@acme.example.com",
        "ANA@acme.example.com",
        "ana@acme.example.com",
        "\u{ff41}\u{ff4e}\u{ff41}@acme.example.com",
        " Ana@ACME.example.com",
    ] {
        assert_eq!(
            api.send(sign_in(lookalike, "wrong-guess")).await.status,
            401
        );
    }
    assert_eq!(
        api.send(sign_in("ana@acme.example.com", PASSWORD))
            .await
            .status,
        429
    );

    // Registration stores the normal form.
    let fullwidth = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "Bravo", "handle": "bravo", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana Owner", "email": "\u{ff41}na@BRAVO.example.com", "password": PASSWORD}
        })))
        .await;
    assert_eq!(fullwidth.status, 201, "{:?}", fullwidth.body);
    assert_eq!(fullwidth.body["user"]["email"], "ana@bravo.example.com");
}

async fn staff_owner_emails_keep_to_one_script(api: Api) {
    for mixed in ["\u{430}na@acme.example.com", "an\u{3b1}@acme.example.com"] {
        let mut body = registration("acme");
        body["owner"]["email"] = json!(mixed);
        let r = api.send(api.post("/admin/auth/register").json(body)).await;
        assert_eq!(r.status, 422, "{mixed}: {:?}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "owner.email");
        assert_eq!(r.body["errors"][0]["code"], "mixed_script");
    }
    let mut cyrillic = registration("acme");
    cyrillic["owner"]["email"] = json!("\u{430}\u{43d}\u{44f}@acme.example.com");
    let r = api
        .send(api.post("/admin/auth/register").json(cyrillic))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// System roles grant what their definition grants today: a permission added to the catalog after
/// a company was created reaches its admins, whatever the stored role says.
async fn system_roles_grant_today_s_catalog(api: Api) {
    let owner = register(&api, "acme").await;
    let tenant = owner.body["company"]["id"].as_str().unwrap().to_owned();
    let roles = api
        .send(api.get("/admin/roles").token(&access(&owner)))
        .await;
    let admin = roles.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // As stored for a company created before the inventory settings existed.
    api.app
        .table
        .update(
            &shared::store::Key::new(format!("T#{tenant}#ORG"), format!("ROLE#{admin}")),
            shared::store::Update::new().set("permissions", json!(["products.read"])),
            None,
        )
        .await
        .unwrap();
    let read = api
        .send(
            api.get(&format!("/admin/roles/{admin}"))
                .token(&access(&owner)),
        )
        .await;
    let granted: Vec<&str> = read.body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(granted.contains(&"settings.inventory.write"), "{granted:?}");
    assert!(!granted.contains(&"company.manage"));

    // An admin invited now may use it.
    let email = "adam@acme.example.com";
    let invite = api
        .send(
            api.post("/admin/staff/invites")
                .token(&access(&owner))
                .json(json!({"email": email, "role_ids": [admin]})),
        )
        .await;
    assert_eq!(invite.status, 201, "{:?}", invite.body);
    let mail = api.deliver_mail(&tenant).await;
    let eml = mail.iter().rev().find(|m| m.contains(email)).unwrap();
    let token = commerce_tests::api::token_after(eml, "invitation token");
    let joined = api
        .send(api.post("/admin/auth/accept-invite").json(json!({
            "token": token, "name": "Adam Admin", "password": PASSWORD
        })))
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    let changed = api
        .send(
            api.patch("/admin/settings/inventory")
                .token(&access(&joined))
                .json(json!({"low_stock_threshold": 3})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
}

api_cases!(
    system_roles_grant_today_s_catalog,
    registering_creates_company_owner_roles_and_tokens,
    registration_validates_every_field,
    a_taken_handle_answers_409,
    concurrent_registrations_of_one_handle_have_one_winner,
    login_accepts_the_owner_and_refuses_everyone_else_alike,
    repeated_failures_lock_the_account_out,
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_refresh_and_logout_all_ends_every_session,
    forged_and_misused_tokens_are_refused,
    routes_check_their_permission,
    roles_are_managed_within_their_company,
    the_company_profile_and_handle_change,
    creating_posts_honour_idempotency_keys,
    jwks_publishes_the_verification_key,
    auth_events_are_recorded,
    lookalike_staff_emails_are_one_account,
    staff_owner_emails_keep_to_one_script,
    parallel_guesses_check_the_password_at_most_limit_times,
    racing_copies_of_a_refresh_token_revoke_the_session,
    failed_log_ins_cost_the_same_for_known_and_unknown_emails,
);
