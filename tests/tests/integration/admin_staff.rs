//! Staff management, invitations, password reset and sessions, through the router on every
//! backend, with emails read from the outbox the notifications worker writes.

use commerce_tests::api::{newest_token, token_after, Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";
const NEW_PASSWORD: &str = "lantern-meadow-copper-fox-42";

struct Company {
    id: String,
    handle: String,
    owner_id: String,
    token: String,
    refresh: String,
}

async fn register(api: &Api, handle: &str) -> Company {
    let r = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": format!("{handle} Ltd"), "handle": handle, "country": "GB", "currency": "GBP", "timezone": "Europe/London"},
            "owner": {"name": "Olive Owner", "email": format!("olive@{handle}.example.com"), "password": PASSWORD}
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    Company {
        id: r.body["company"]["id"].as_str().unwrap().into(),
        handle: handle.into(),
        owner_id: r.body["user"]["id"].as_str().unwrap().into(),
        token: r.body["access_token"].as_str().unwrap().into(),
        refresh: r.body["refresh_token"].as_str().unwrap().into(),
    }
}

async fn role_id(api: &Api, c: &Company, key: &str) -> String {
    let roles = api.send(api.get("/admin/roles").token(&c.token)).await;
    roles.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .into()
}

async fn custom_role(api: &Api, c: &Company, permissions: &[&str]) -> String {
    let r = api
        .send(
            api.post("/admin/roles")
                .token(&c.token)
                .json(json!({"name": "Custom", "permissions": permissions})),
        )
        .await;
    assert_eq!(r.status, 201);
    r.body["id"].as_str().unwrap().into()
}

/// Invites `email` with `roles`, reads the invitation email, accepts it: the new user's tokens.
async fn join(api: &Api, c: &Company, email: &str, roles: &[&str]) -> Response {
    let invite = api
        .send(
            api.post("/admin/staff/invites")
                .token(&c.token)
                .json(json!({"email": email, "role_ids": roles})),
        )
        .await;
    assert_eq!(invite.status, 201, "{:?}", invite.body);
    let mail = api.deliver_mail(&c.id).await;
    let eml = mail
        .iter()
        .rev()
        .find(|m| m.contains(&format!("To: {email}")))
        .unwrap();
    let token = token_after(eml, "invitation token");
    let joined = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": token, "name": "Colin Colleague", "password": PASSWORD})),
        )
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    joined
}

fn token(r: &Response) -> String {
    r.body["access_token"].as_str().unwrap().into()
}

async fn an_invited_colleague_joins_with_exactly_the_roles_given(api: Api) {
    let c = register(&api, "acme").await;
    let role = custom_role(&api, &c, &["products.read", "staff.read"]).await;
    let invite = api
        .send(
            api.post("/admin/staff/invites")
                .token(&c.token)
                .json(json!({"email": "Colin@Example.com", "role_ids": [role]})),
        )
        .await;
    assert_eq!(invite.status, 201);
    assert_eq!(invite.body["email"], "colin@example.com");
    let listed = api
        .send(api.get("/admin/staff/invites").token(&c.token))
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);

    let mail = api.deliver_mail(&c.id).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: colin@example.com"));
    assert!(mail[0].contains("Subject: Invitation to join \"acme Ltd\" on Commerce"));
    let invite_token = token_after(&mail[0], "invitation token");

    let weak = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": invite_token, "name": "Colin", "password": "colin"})),
        )
        .await;
    assert_eq!(weak.status, 422);
    let joined = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": invite_token, "name": "Colin", "password": PASSWORD})),
        )
        .await;
    assert_eq!(joined.status, 201);
    assert_eq!(joined.body["user"]["role_ids"], json!([role]));
    let colin = token(&joined);
    assert_eq!(
        api.send(api.get("/admin/staff").token(&colin)).await.status,
        200
    );
    let denied = api.send(api.get("/admin/roles").token(&colin)).await;
    assert_eq!(denied.status, 403);
    let me = api.send(api.get("/admin/me").token(&colin)).await;
    assert_eq!(
        me.body["permissions"],
        json!(["staff.read", "products.read"])
    );

    let again = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": invite_token, "name": "Eve", "password": PASSWORD})),
        )
        .await;
    assert_eq!(again.status, 404, "single use");
    assert_eq!(again.code(), "invalid_invite");
    assert!(api
        .send(api.get("/admin/staff/invites").token(&c.token))
        .await
        .body["data"]
        .as_array()
        .unwrap()
        .is_empty());

    // Colin can log in with the company handle.
    let login = api
        .send(
            api.post("/admin/auth/login").json(
                json!({"company": "acme", "email": "colin@example.com", "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(login.status, 200);
}

async fn invitations_are_checked(api: Api) {
    let a = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let b_role = role_id(&api, &b, "staff").await;
    let foreign = api
        .send(
            api.post("/admin/staff/invites")
                .token(&a.token)
                .json(json!({"email": "x@example.com", "role_ids": [b_role]})),
        )
        .await;
    assert_eq!(
        foreign.status, 422,
        "another company's role is unknown here"
    );
    assert_eq!(foreign.body["errors"][0]["code"], "unknown_role");
    let existing = api
        .send(api.post("/admin/staff/invites").token(&a.token).json(json!({"email": "olive@acme.example.com", "role_ids": [role_id(&api, &a, "staff").await]})))
        .await;
    assert_eq!(existing.status, 409);
    assert_eq!(existing.code(), "already_staff");
    let bad = api
        .send(
            api.post("/admin/staff/invites")
                .token(&a.token)
                .json(json!({"email": "nope", "role_ids": []})),
        )
        .await;
    assert_eq!(bad.status, 422);

    let staff_role = role_id(&api, &a, "staff").await;
    let invite = api
        .send(
            api.post("/admin/staff/invites")
                .token(&a.token)
                .json(json!({"email": "late@example.com", "role_ids": [staff_role]})),
        )
        .await;
    let id = invite.body["id"].as_str().unwrap();
    assert_eq!(
        api.send(
            api.delete(&format!("/admin/staff/invites/{id}"))
                .token(&b.token)
        )
        .await
        .status,
        404
    );
    let mail = api.deliver_mail(&a.id).await;
    let invite_token = newest_token(&mail, "invitation token");
    for forged in [
        "garbage".to_owned(),
        invite_token.replace(&a.id, &b.id),
        format!("{}x", invite_token),
    ] {
        let r = api
            .send(
                api.post("/admin/auth/accept-invite")
                    .json(json!({"token": forged, "name": "Eve", "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, 404, "{forged}");
    }
    api.clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    let expired = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": invite_token, "name": "Late", "password": PASSWORD})),
        )
        .await;
    assert_eq!(expired.status, 404);
}

async fn the_last_active_owner_stays(api: Api) {
    let c = register(&api, "acme").await;
    let owner_role = role_id(&api, &c, "owner").await;
    let staff_role = role_id(&api, &c, "staff").await;
    let me = format!("/admin/staff/{}", c.owner_id);
    for change in [
        json!({"status": "disabled"}),
        json!({"role_ids": [staff_role]}),
    ] {
        let r = api.send(api.patch(&me).token(&c.token).json(change)).await;
        assert_eq!(r.status, 409, "{:?}", r.body);
        assert_eq!(r.code(), "last_owner");
    }
    let removed = api.send(api.delete(&me).token(&c.token)).await;
    assert_eq!(removed.status, 409);

    // With a second owner, the first may step down; then the second is the last.
    let colin = join(&api, &c, "colin@example.com", &[&owner_role]).await;
    let colin_id = colin.body["user"]["id"].as_str().unwrap().to_owned();
    let demoted = api
        .send(
            api.patch(&me)
                .token(&c.token)
                .header("if-match", "\"1\"")
                .json(json!({"role_ids": [staff_role]})),
        )
        .await;
    assert_eq!(demoted.status, 200, "{:?}", demoted.body);
    assert_eq!(demoted.header("etag"), Some("\"2\""));
    let last = api
        .send(
            api.patch(&format!("/admin/staff/{colin_id}"))
                .token(&token(&colin))
                .json(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(last.code(), "last_owner");
    let stale = api
        .send(
            api.patch(&me)
                .token(&token(&colin))
                .header("if-match", "\"1\"")
                .json(json!({"name": "Olive"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let role = api
        .send(
            api.get(&format!("/admin/roles/{owner_role}"))
                .token(&token(&colin)),
        )
        .await;
    assert_eq!(role.body["assigned_users"], 1);
    assert_eq!(role.body["active_users"], 1);
}

async fn concurrent_demotions_cannot_remove_every_owner(api: Api) {
    let c = register(&api, "acme").await;
    let owner_role = role_id(&api, &c, "owner").await;
    let staff_role = role_id(&api, &c, "staff").await;
    let colin = join(&api, &c, "colin@example.com", &[&owner_role]).await;
    let colin_id = colin.body["user"]["id"].as_str().unwrap().to_owned();
    let api = std::sync::Arc::new(api);
    let mut tasks = Vec::new();
    for (user, token) in [
        (c.owner_id.clone(), c.token.clone()),
        (colin_id, token(&colin)),
    ] {
        let api = api.clone();
        let staff_role = staff_role.clone();
        tasks.push(tokio::spawn(async move {
            api.send(
                api.patch(&format!("/admin/staff/{user}"))
                    .token(&token)
                    .json(json!({"role_ids": [staff_role]})),
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert!(ok <= 1, "{ok} owners stepped down at once");
    let role = api
        .send(
            api.get(&format!("/admin/roles/{owner_role}"))
                .token(&c.token),
        )
        .await;
    assert!(role.body["active_users"].as_i64().unwrap() >= 1);
}

async fn disabling_and_removing_staff_stop_them(api: Api) {
    let c = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let staff_role = role_id(&api, &c, "staff").await;
    let colin = join(&api, &c, "colin@example.com", &[&staff_role]).await;
    let colin_id = colin.body["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/admin/staff/{colin_id}");

    assert_eq!(api.send(api.get(&path).token(&b.token)).await.status, 404);
    assert_eq!(
        api.send(
            api.patch(&path)
                .token(&b.token)
                .json(json!({"status": "disabled"}))
        )
        .await
        .status,
        404
    );
    let colin_token = token(&colin);
    let self_manage = api
        .send(
            api.patch(&path)
                .token(&colin_token)
                .json(json!({"role_ids": [role_id(&api, &c, "owner").await]})),
        )
        .await;
    assert_eq!(self_manage.status, 403, "staff cannot promote themselves");

    let in_use = api
        .send(
            api.delete(&format!("/admin/roles/{staff_role}"))
                .token(&c.token),
        )
        .await;
    assert_eq!(in_use.status, 409, "system role");
    let custom = custom_role(&api, &c, &["orders.read"]).await;
    let moved = api
        .send(
            api.patch(&path)
                .token(&c.token)
                .json(json!({"role_ids": [custom]})),
        )
        .await;
    assert_eq!(moved.status, 200);
    let in_use = api
        .send(
            api.delete(&format!("/admin/roles/{custom}"))
                .token(&c.token),
        )
        .await;
    assert_eq!(in_use.status, 409);
    assert_eq!(in_use.code(), "role_in_use");

    let disabled = api
        .send(
            api.patch(&path)
                .token(&c.token)
                .json(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disabled.status, 200);
    let refresh = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": colin.body["refresh_token"]})),
        )
        .await;
    assert_eq!(refresh.status, 401);
    let login = api
        .send(
            api.post("/admin/auth/login").json(
                json!({"company": "acme", "email": "colin@example.com", "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(login.status, 401);

    assert_eq!(
        api.send(api.delete(&path).token(&c.token)).await.status,
        204
    );
    assert_eq!(api.send(api.get(&path).token(&c.token)).await.status, 404);
    // The role is free again, and the email may be invited anew.
    assert_eq!(
        api.send(
            api.delete(&format!("/admin/roles/{custom}"))
                .token(&c.token)
        )
        .await
        .status,
        204
    );
    join(&api, &c, "colin@example.com", &[&staff_role]).await;
}

/// Disabling a member ends their sessions and reset links for good: enabling them again brings
/// none back. Role lists are bounded and named by the request's own positions; a change that
/// changes nothing writes nothing; an invitation whose role was deleted gives the rest.
async fn a_disabled_member_comes_back_with_nothing_old(api: Api) {
    let c = register(&api, "acme").await;
    let staff_role = role_id(&api, &c, "staff").await;
    let colin = join(&api, &c, "colin@example.com", &[&staff_role]).await;
    let colin_id = colin.body["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/admin/staff/{colin_id}");
    let asked = api
        .send(
            api.post("/admin/auth/password-reset")
                .json(json!({"company": c.handle, "email": "colin@example.com"})),
        )
        .await;
    assert_eq!(asked.status, 202, "{:?}", asked.body);
    let reset = newest_token(&api.deliver_mail(&c.id).await, "reset token");
    let set_status = |status: &str| {
        api.send(
            api.patch(&path)
                .token(&c.token)
                .json(json!({ "status": status })),
        )
    };
    assert_eq!(set_status("disabled").await.status, 200);
    assert_eq!(set_status("active").await.status, 200);
    let refresh = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": colin.body["refresh_token"]})),
        )
        .await;
    assert_eq!(refresh.status, 401, "{:?}", refresh.body);
    let write = api
        .send(
            api.patch(&format!("/admin/staff/{colin_id}"))
                .token(&token(&colin))
                .json(json!({"name": "Colin"})),
        )
        .await;
    assert_eq!(write.status, 401, "{:?}", write.body);
    let confirmed = api
        .send(
            api.post("/admin/auth/password-reset/confirm")
                .json(json!({"token": reset, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(confirmed.status, 400, "{:?}", confirmed.body);
    // Signing in again works.
    let login = api
        .send(
            api.post("/admin/auth/login").json(
                json!({"company": "acme", "email": "colin@example.com", "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);

    // A hundred copies of one role are one role; more than 20 roles are refused, not a 500.
    let many = vec![staff_role.clone(); 150];
    let r = api
        .send(
            api.patch(&path)
                .token(&c.token)
                .json(json!({ "role_ids": many })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["role_ids"], json!([staff_role]));
    let distinct: Vec<String> = (0..21).map(|i| format!("role_{i:026}")).collect();
    let r = api
        .send(
            api.patch(&path)
                .token(&c.token)
                .json(json!({ "role_ids": distinct })),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["code"], "too_many");
    let r = api
        .send(
            api.post("/admin/staff/invites").token(&c.token).json(
                json!({"email": "many@example.com", "role_ids": vec![staff_role.clone(); 150]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // An unknown role is named where the request put it.
    let r = api
        .send(
            api.patch(&path)
                .token(&c.token)
                .json(json!({"role_ids": [staff_role, "role_bogus"]})),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "role_ids[1]");

    // Nothing changed, nothing written.
    let before = api.send(api.get(&path).token(&c.token)).await.body;
    let r = api
        .send(api.patch(&path).token(&c.token).json(json!({})))
        .await;
    assert_eq!(r.body["version"], before["version"]);
    let company = api
        .send(api.get("/admin/company").token(&c.token))
        .await
        .body;
    let r = api
        .send(api.patch("/admin/company").token(&c.token).json(json!({})))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["version"], company["version"]);

    // A role deleted while an invitation gives it: the invitee joins with the others.
    let extra = custom_role(&api, &c, &["orders.read"]).await;
    let invited = api
        .send(
            api.post("/admin/staff/invites")
                .token(&c.token)
                .json(json!({"email": "dora@example.com", "role_ids": [staff_role, extra]})),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    let gone = api
        .send(api.delete(&format!("/admin/roles/{extra}")).token(&c.token))
        .await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    let mail = api.deliver_mail(&c.id).await;
    let eml = mail
        .iter()
        .rev()
        .find(|m| m.contains("To: dora@example.com"))
        .unwrap();
    let joined = api
        .send(api.post("/admin/auth/accept-invite").json(json!({
            "token": token_after(eml, "invitation token"), "name": "Dora", "password": PASSWORD
        })))
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(joined.body["user"]["role_ids"], json!([staff_role]));

    // A body of 20,000 unknown permissions answers the first 100 problems.
    let junk: Vec<String> = (0..20_000).map(|i| format!("junk.{i}")).collect();
    let r = api
        .send(
            api.post("/admin/roles")
                .token(&c.token)
                .json(json!({"name": "Junk", "permissions": junk})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 100);
}

async fn staff_lists_page_with_sealed_cursors(api: Api) {
    let c = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let staff_role = role_id(&api, &c, "staff").await;
    for n in 0..3 {
        join(&api, &c, &format!("p{n}@example.com"), &[&staff_role]).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/admin/staff?limit=2&cursor={c}"),
            None => "/admin/staff?limit=2".into(),
        };
        let page = api.send(api.get(&path).token(&c.token)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        for user in page.body["data"].as_array().unwrap() {
            seen.push(user["email"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "olive@acme.example.com",
            "p0@example.com",
            "p1@example.com",
            "p2@example.com"
        ]
    );

    let first = api
        .send(api.get("/admin/staff?limit=1").token(&c.token))
        .await;
    let sealed = first.body["next_cursor"].as_str().unwrap().to_owned();
    let other_tenant = api
        .send(
            api.get(&format!("/admin/staff?cursor={sealed}"))
                .token(&b.token),
        )
        .await;
    assert_eq!(other_tenant.status, 400);
    assert_eq!(other_tenant.code(), "invalid_cursor");
    let mut tampered = sealed.clone();
    tampered.insert(3, 'x');
    assert_eq!(
        api.send(
            api.get(&format!("/admin/staff?cursor={tampered}"))
                .token(&c.token)
        )
        .await
        .code(),
        "invalid_cursor"
    );
    for bad in ["limit=0", "limit=101", "limit=abc"] {
        assert_eq!(
            api.send(api.get(&format!("/admin/staff?{bad}")).token(&c.token))
                .await
                .status,
            422,
            "{bad}"
        );
    }
}

async fn password_reset_works_once_and_ends_every_session(api: Api) {
    let c = register(&api, "acme").await;
    let request = |email: &str| {
        api.post("/admin/auth/password-reset")
            .json(json!({"company": "acme", "email": email}))
    };
    let unknown = api.send(request("nobody@example.com")).await;
    assert_eq!(unknown.status, 202);
    let known = api.send(request("olive@acme.example.com")).await;
    assert_eq!(known.status, 202);
    assert_eq!(known.body, unknown.body);
    let mail = api.deliver_mail(&c.id).await;
    assert_eq!(mail.len(), 1, "only the real account gets an email");
    assert!(mail[0].contains("Subject: Reset your password"));
    let reset = token_after(&mail[0], "reset token");

    let weak = api
        .send(
            api.post("/admin/auth/password-reset/confirm")
                .json(json!({"token": reset, "new_password": "short"})),
        )
        .await;
    assert_eq!(weak.status, 422);
    let done = api
        .send(
            api.post("/admin/auth/password-reset/confirm")
                .json(json!({"token": reset, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    let reused = api
        .send(
            api.post("/admin/auth/password-reset/confirm")
                .json(json!({"token": reset, "new_password": "another-fine-passphrase-9"})),
        )
        .await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.code(), "invalid_reset_token");

    let refresh = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": c.refresh})),
        )
        .await;
    assert_eq!(refresh.status, 401, "sessions end with a reset");
    let login = |password: &str| {
        api.post("/admin/auth/login").json(
            json!({"company": "acme", "email": "olive@acme.example.com", "password": password}),
        )
    };
    assert_eq!(api.send(login(PASSWORD)).await.status, 401);
    api.clock.advance(Duration::from_secs(2));
    assert_eq!(api.send(login(NEW_PASSWORD)).await.status, 200);

    // Reset links expire after an hour.
    api.send(request("olive@acme.example.com")).await;
    let mail = api.deliver_mail(&c.id).await;
    let late = newest_token(&mail, "reset token");
    api.clock.advance(Duration::from_secs(3601));
    let expired = api
        .send(
            api.post("/admin/auth/password-reset/confirm")
                .json(json!({"token": late, "new_password": "another-fine-passphrase-9"})),
        )
        .await;
    assert_eq!(expired.status, 400);
}

async fn reset_requests_are_throttled(api: Api) {
    register(&api, "acme").await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = api
            .send(
                api.post("/admin/auth/password-reset")
                    .json(json!({"company": "acme", "email": "olive@acme.example.com"})),
            )
            .await;
        statuses.push(r.status);
    }
    assert_eq!(&statuses[..5], &[202; 5]);
    assert_eq!(statuses[6], 429, "{statuses:?}");
}

/// A reset link works only against the password it was sent for: a password change, or another
/// reset completed first, voids it.
async fn reset_links_die_with_any_password_change(api: Api) {
    let c = register(&api, "acme").await;
    let ask = || async {
        let asked = api
            .send(
                api.post("/admin/auth/password-reset")
                    .json(json!({"company": "acme", "email": "olive@acme.example.com"})),
            )
            .await;
        assert_eq!(asked.status, 202);
        let mail = api.deliver_mail(&c.id).await;
        newest_token(&mail, "reset token")
    };
    let confirm = |token: String, password: &'static str| {
        api.send(
            api.post("/admin/auth/password-reset/confirm")
                .json(json!({"token": token, "new_password": password})),
        )
    };

    let before_change = ask().await;
    let changed = api
        .send(
            api.post("/admin/me/password")
                .token(&c.token)
                .json(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    let stale = confirm(before_change, "another-fine-passphrase-9").await;
    assert_eq!(
        (stale.status, stale.code()),
        (400, "invalid_reset_token"),
        "a link from before the change"
    );

    let first = ask().await;
    let second = ask().await;
    assert_eq!(
        confirm(first, "another-fine-passphrase-9").await.status,
        204
    );
    let other = confirm(second, "yet-another-fine-passphrase-10").await;
    assert_eq!(
        (other.status, other.code()),
        (400, "invalid_reset_token"),
        "a second link after the first was used"
    );
    api.clock.advance(Duration::from_secs(2));
    let login = api
        .send(api.post("/admin/auth/login").json(json!({
            "company": "acme", "email": "olive@acme.example.com", "password": "another-fine-passphrase-9"
        })))
        .await;
    assert_eq!(login.status, 200, "the completed reset holds");
}

/// A reset request makes the same store calls whether or not the email belongs to someone
/// (within a company: handles are public).
async fn reset_requests_cost_the_same_for_known_and_unknown_emails(api: Api) {
    let c = register(&api, "acme").await;
    let request = |email: &str| {
        api.post("/admin/auth/password-reset")
            .json(json!({"company": "acme", "email": email}))
    };
    let (known, known_calls) = api.send_counted(request("olive@acme.example.com")).await;
    let (unknown, unknown_calls) = api.send_counted(request("nobody@acme.example.com")).await;
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known_calls, unknown_calls);
    assert_eq!(
        api.deliver_mail(&c.id).await.len(),
        1,
        "only the account gets an email"
    );
}

async fn changing_the_password_ends_other_sessions(api: Api) {
    let c = register(&api, "acme").await;
    let other = api
        .send(api.post("/admin/auth/login").json(
            json!({"company": "acme", "email": "olive@acme.example.com", "password": PASSWORD}),
        ))
        .await;
    let sessions = api
        .send(api.get("/admin/me/sessions").token(&c.token))
        .await;
    let listed = sessions.body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);

    let wrong = api
        .send(
            api.post("/admin/me/password")
                .token(&c.token)
                .json(json!({"current_password": "nope-nope-nope", "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.body["errors"][0]["field"], "current_password");
    let changed = api
        .send(
            api.post("/admin/me/password")
                .token(&c.token)
                .json(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    let other_refresh = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": other.body["refresh_token"]})),
        )
        .await;
    assert_eq!(other_refresh.status, 401);
    let own_refresh = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": c.refresh})),
        )
        .await;
    assert_eq!(own_refresh.status, 200, "{:?}", own_refresh.body);
}

/// Re-asking a signed-in user for their password counts wrong answers toward a lockout, and a
/// right answer does not wipe the wrong ones before it: a stolen access token gets five guesses
/// in all, not five between each success.
async fn wrong_current_passwords_lock_the_change_out(api: Api) {
    let c = register(&api, "acme").await;
    let change = |current: &str, new: &str| {
        api.send(
            api.post("/admin/me/password")
                .token(&c.token)
                .json(json!({"current_password": current, "new_password": new})),
        )
    };
    for _ in 0..4 {
        let wrong = change("nope-nope-nope-1", NEW_PASSWORD).await;
        assert_eq!(
            (wrong.status, wrong.body["errors"][0]["code"].as_str()),
            (422, Some("incorrect"))
        );
    }
    assert_eq!(change(PASSWORD, NEW_PASSWORD).await.status, 204);
    // The fifth wrong answer is the last: changes are locked out, the right password included.
    assert_eq!(change("nope-nope-nope-1", PASSWORD).await.status, 422);
    let locked = change(NEW_PASSWORD, PASSWORD).await;
    assert_eq!((locked.status, locked.code()), (429, "too_many_requests"));
    assert!(locked.header("retry-after").is_some());
}

async fn sessions_can_be_revoked_one_by_one(api: Api) {
    let c = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let other = api
        .send(api.post("/admin/auth/login").json(
            json!({"company": "acme", "email": "olive@acme.example.com", "password": PASSWORD}),
        ))
        .await;
    let sessions = api
        .send(api.get("/admin/me/sessions").token(&c.token))
        .await;
    let other_id = sessions.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/me/sessions/{other_id}");
    assert_eq!(
        api.send(api.delete(&path).token(&b.token)).await.status,
        404,
        "not theirs"
    );
    assert_eq!(
        api.send(api.delete(&path).token(&c.token)).await.status,
        204
    );
    let refresh = api
        .send(
            api.post("/admin/auth/refresh")
                .json(json!({"refresh_token": other.body["refresh_token"]})),
        )
        .await;
    assert_eq!(refresh.status, 401);
    assert_eq!(
        api.send(api.delete("/admin/me/sessions/ses_nothing").token(&c.token))
            .await
            .status,
        404
    );
    let left: Vec<Value> = api
        .send(api.get("/admin/me/sessions").token(&c.token))
        .await
        .body["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(left.len(), 1);
}

async fn nobody_grants_more_than_they_hold(api: Api) {
    let c = register(&api, "acme").await;
    let admin_role = role_id(&api, &c, "admin").await;
    let owner_role = role_id(&api, &c, "owner").await;
    let staff_role = role_id(&api, &c, "staff").await;
    let admin = join(&api, &c, "adam@example.com", &[&admin_role]).await;
    let adam = token(&admin);
    let adam_id = admin.body["user"]["id"].as_str().unwrap().to_owned();
    let payments_role = custom_role(&api, &c, &["settings.payments.write"]).await;
    let owner_invite = invite(&api, &c, "second.owner@example.com", &owner_role).await;
    assert_eq!(owner_invite.status, 201, "{:?}", owner_invite.body);
    let owner_invite = owner_invite.body["id"].as_str().unwrap().to_owned();

    let attempts = [
        api.patch(&format!("/admin/staff/{adam_id}"))
            .token(&adam)
            .json(json!({"role_ids": [owner_role]})),
        api.patch(&format!("/admin/staff/{}", c.owner_id))
            .token(&adam)
            .json(json!({"status": "disabled"})),
        api.delete(&format!("/admin/staff/{}", c.owner_id))
            .token(&adam),
        api.post("/admin/staff/invites")
            .token(&adam)
            .json(json!({"email": "mole@example.com", "role_ids": [owner_role]})),
        api.post("/admin/roles")
            .token(&adam)
            .json(json!({"name": "Payments", "permissions": ["settings.payments.write"]})),
        // Taking power away counts too: deleting a role, revoking an invitation.
        api.delete(&format!("/admin/roles/{payments_role}"))
            .token(&adam),
        api.delete(&format!("/admin/staff/invites/{owner_invite}"))
            .token(&adam),
    ];
    for attempt in attempts {
        let r = api.send(attempt).await;
        assert_eq!(r.status, 403, "{:?}", r.body);
        assert_eq!(r.code(), "permission_escalation");
    }
    // Within their own powers an admin manages staff as usual.
    let invite = api
        .send(
            api.post("/admin/staff/invites")
                .token(&adam)
                .json(json!({"email": "sam@example.com", "role_ids": [staff_role]})),
        )
        .await;
    assert_eq!(invite.status, 201);
    let me = api.send(api.get("/admin/me").token(&c.token)).await;
    assert_eq!(me.body["user"]["status"], "active");
    // What was refused is still there.
    let role = api
        .send(
            api.get(&format!("/admin/roles/{payments_role}"))
                .token(&c.token),
        )
        .await;
    assert_eq!(role.status, 200);
    assert!(pending(&api, &c)
        .await
        .contains(&"second.owner@example.com".to_owned()));
}

async fn invite(api: &Api, c: &Company, email: &str, role: &str) -> Response {
    api.send(
        api.post("/admin/staff/invites")
            .token(&c.token)
            .json(json!({"email": email, "role_ids": [role]})),
    )
    .await
}

async fn pending(api: &Api, c: &Company) -> Vec<String> {
    let listed = api
        .send(api.get("/admin/staff/invites").token(&c.token))
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends `emails` as invitations, `parallel` at a time: the status and code of each.
async fn invite_all(
    api: &std::sync::Arc<Api>,
    c: &Company,
    role: &str,
    emails: Vec<String>,
    parallel: usize,
) -> Vec<(u16, String)> {
    let mut results = Vec::new();
    for chunk in emails.chunks(parallel) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|email| {
                let (api, token, role, email) =
                    (api.clone(), c.token.clone(), role.to_owned(), email.clone());
                tokio::spawn(async move {
                    let r = api
                        .send(
                            api.post("/admin/staff/invites")
                                .token(&token)
                                .json(json!({"email": email, "role_ids": [role]})),
                        )
                        .await;
                    (r.status, r.code().to_owned())
                })
            })
            .collect();
        for task in tasks {
            results.push(task.await.unwrap());
        }
    }
    results
}

/// Invites until the company holds `target` pending invitations, moving the clock an hour
/// between rounds to stay within the hourly limit: the addresses invited.
async fn fill_invites(
    api: &std::sync::Arc<Api>,
    c: &mut Company,
    role: &str,
    prefix: &str,
    target: usize,
) -> Vec<String> {
    let mut invited = Vec::new();
    while invited.len() < target {
        let round = (target - invited.len()).min(20);
        let emails: Vec<String> = (0..round)
            .map(|n| format!("{prefix}{}@example.com", invited.len() + n))
            .collect();
        for (status, code) in invite_all(api, c, role, emails.clone(), 4).await {
            assert_eq!(status, 201, "{code}");
        }
        invited.extend(emails);
        pass(api, c, Duration::from_secs(3600)).await;
    }
    invited
}

/// Moves the clock and signs the owner in again (access tokens last 15 minutes).
async fn pass(api: &Api, c: &mut Company, by: Duration) {
    api.clock.advance(by);
    let r = api
        .send(api.post("/admin/auth/login").json(json!({
            "company": c.handle, "email": format!("olive@{}.example.com", c.handle), "password": PASSWORD
        })))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    c.token = token(&r);
}

async fn one_invitation_is_pending_per_address(api: Api) {
    let mut a = register(&api, "acme").await;
    let b = register(&api, "bravo").await;
    let role = role_id(&api, &a, "staff").await;
    let first = invite(&api, &a, "sam@example.com", &role).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    // The same address, however it is written.
    for again in [
        "sam@example.com",
        "SAM@Example.com",
        "\u{ff53}am@example.com",
    ] {
        let r = invite(&api, &a, again, &role).await;
        assert_eq!(r.status, 409, "{again}: {:?}", r.body);
        assert_eq!(r.code(), "invite_pending");
        assert!(r.body["detail"].as_str().unwrap().contains("revoke"));
    }
    // Another company's pending invitation is its own.
    let b_role = role_id(&api, &b, "staff").await;
    assert_eq!(
        invite(&api, &b, "sam@example.com", &b_role).await.status,
        201
    );
    assert_eq!(pending(&api, &a).await, vec!["sam@example.com"]);

    // Revoking frees the address.
    let id = first.body["id"].as_str().unwrap();
    let path = format!("/admin/staff/invites/{id}");
    assert_eq!(
        api.send(api.delete(&path).token(&b.token)).await.status,
        404
    );
    assert_eq!(
        api.send(api.delete(&path).token(&a.token)).await.status,
        204
    );
    assert_eq!(
        api.send(api.delete(&path).token(&a.token)).await.status,
        404
    );
    let second = invite(&api, &a, "sam@example.com", &role).await;
    assert_eq!(second.status, 201);

    // An expired invitation no longer holds the address: a new one replaces it.
    let second_id = second.body["id"].as_str().unwrap();
    let mail = api.deliver_mail(&a.id).await;
    let eml = mail.iter().find(|m| m.contains(second_id)).unwrap();
    let old_token = token_after(eml, "invitation token");
    pass(&api, &mut a, Duration::from_secs(7 * 24 * 3600 + 1)).await;
    assert!(pending(&api, &a).await.is_empty());
    let third = invite(&api, &a, "sam@example.com", &role).await;
    assert_eq!(third.status, 201, "{:?}", third.body);
    assert_eq!(pending(&api, &a).await, vec!["sam@example.com"]);
    let old = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": old_token, "name": "Sam", "password": PASSWORD})),
        )
        .await;
    assert_eq!(old.code(), "invalid_invite");
    assert_eq!(
        invite(&api, &a, "sam@example.com", &role).await.code(),
        "invite_pending"
    );
}

async fn pending_invitations_are_capped_per_company(api: Api) {
    let api = std::sync::Arc::new(api);
    let mut c = register(&api, "acme").await;
    let mut other = register(&api, "bravo").await;
    let role = role_id(&api, &c, "staff").await;
    let invited = fill_invites(&api, &mut c, &role, "p", 90).await;

    // A race for the last ten slots in a fresh hour: never more than the cap.
    let racers: Vec<String> = (0..25).map(|n| format!("race{n}@example.com")).collect();
    let results = invite_all(&api, &c, &role, racers.clone(), 25).await;
    let won = results.iter().filter(|(status, _)| *status == 201).count();
    for (status, code) in &results {
        assert!(
            *status == 201
                || (*status, code.as_str()) == (422, "too_many_invites")
                || (*status, code.as_str()) == (409, "concurrent_update"),
            "{status} {code}"
        );
    }
    assert!(won <= 10, "{won} won the last 10 slots");
    assert_eq!(pending(&api, &c).await.len(), 90 + won);
    pass(&api, &mut c, Duration::from_secs(3600)).await;
    fill_invites(&api, &mut c, &role, "q", 10 - won).await;
    assert_eq!(pending(&api, &c).await.len(), 100);
    let over = invite(&api, &c, "over@example.com", &role).await;
    assert_eq!(over.status, 422, "{:?}", over.body);
    assert_eq!(over.code(), "too_many_invites");
    // The cap is per company.
    pass(&api, &mut other, Duration::ZERO).await;
    let other_role = role_id(&api, &other, "staff").await;
    assert_eq!(
        invite(&api, &other, "over@example.com", &other_role)
            .await
            .status,
        201
    );

    // Revoking frees a slot.
    let listed = api
        .send(api.get("/admin/staff/invites").token(&c.token))
        .await;
    let id = listed.body["data"][0]["id"].as_str().unwrap().to_owned();
    let revoked_email = listed.body["data"][0]["email"].as_str().unwrap().to_owned();
    let revoked = api
        .send(
            api.delete(&format!("/admin/staff/invites/{id}"))
                .token(&c.token),
        )
        .await;
    assert_eq!(revoked.status, 204);
    assert_eq!(
        invite(&api, &c, "over@example.com", &role).await.status,
        201
    );
    assert_eq!(
        invite(&api, &c, "over2@example.com", &role).await.code(),
        "too_many_invites"
    );

    // Accepting frees a slot.
    let mail = api.deliver_mail(&c.id).await;
    let accepted = invited.iter().find(|e| **e != revoked_email).unwrap();
    let eml = mail
        .iter()
        .find(|m| m.contains(&format!("To: {accepted}\r\n")))
        .unwrap();
    let token = token_after(eml, "invitation token");
    let joined = api
        .send(
            api.post("/admin/auth/accept-invite")
                .json(json!({"token": token, "name": "Pat", "password": PASSWORD})),
        )
        .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(
        invite(&api, &c, "over2@example.com", &role).await.status,
        201
    );
    assert_eq!(
        invite(&api, &c, "over3@example.com", &role).await.code(),
        "too_many_invites"
    );

    // Expired invitations give their slots back when the cap is reached.
    pass(&api, &mut c, Duration::from_secs(7 * 24 * 3600 + 1)).await;
    assert!(pending(&api, &c).await.is_empty());
    let fresh = invite(&api, &c, "over3@example.com", &role).await;
    assert_eq!(fresh.status, 201, "{:?}", fresh.body);
    assert_eq!(pending(&api, &c).await, vec!["over3@example.com"]);
    let released = api
        .event_kinds(&c.id)
        .await
        .iter()
        .filter(|kind| *kind == "staff.invite_expired")
        .count();
    assert_eq!(released, 100);
    // Every slot is free again: a full hour's worth of invitations goes through.
    pass(&api, &mut c, Duration::from_secs(3600)).await;
    fill_invites(&api, &mut c, &role, "r", 20).await;
}

async fn invitations_are_throttled_per_company(api: Api) {
    let mut c = register(&api, "acme").await;
    let mut other = register(&api, "bravo").await;
    let role = role_id(&api, &c, "staff").await;
    let api = std::sync::Arc::new(api);
    // To the start of an hour, so that all 21 fall into one window.
    let now = shared::clock::Clock::epoch_seconds(&api.clock);
    let to_the_hour = Duration::from_secs((3600 - now.rem_euclid(3600)) as u64);
    pass(&api, &mut c, to_the_hour).await;
    pass(&api, &mut other, Duration::ZERO).await;
    let emails: Vec<String> = (0..20).map(|n| format!("t{n}@example.com")).collect();
    for (status, code) in invite_all(&api, &c, &role, emails, 5).await {
        assert_eq!(status, 201, "{code}");
    }
    let refused = invite(&api, &c, "t20@example.com", &role).await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    assert_eq!(refused.code(), "too_many_requests");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry, 3600);
    assert_eq!(
        pending(&api, &c).await.len(),
        20,
        "a refused invitation is not stored"
    );
    // The limit is per company.
    let other_role = role_id(&api, &other, "staff").await;
    assert_eq!(
        invite(&api, &other, "t20@example.com", &other_role)
            .await
            .status,
        201
    );
    pass(&api, &mut c, Duration::from_secs(retry - 1)).await;
    assert_eq!(invite(&api, &c, "t20@example.com", &role).await.status, 429);
    api.clock.advance(Duration::from_secs(1));
    assert_eq!(invite(&api, &c, "t20@example.com", &role).await.status, 201);
}

async fn hostile_company_names_are_neutralised_in_invitation_mail(api: Api) {
    let refused = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "Acme\r\nBcc: victim@example.com", "handle": "acme", "country": "GB", "currency": "GBP", "timezone": "Europe/London"},
            "owner": {"name": "Olive Owner", "email": "olive@acme.example.com", "password": PASSWORD}
        })))
        .await;
    assert_eq!(refused.status, 422);
    let c = register(&api, "acme").await;
    let role = role_id(&api, &c, "staff").await;
    let hostile = "Support \u{202E}nimda\u{202C} \u{200B}visit https://evil.example/login";
    let renamed = api
        .send(
            api.patch("/admin/company")
                .token(&c.token)
                .json(json!({"name": hostile})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(invite(&api, &c, "sam@example.com", &role).await.status, 201);
    // A name stored before names were checked may hold line breaks.
    api.app
        .table
        .update(
            &shared::store::Key::new(format!("T#{}#ORG", c.id), "COMPANY"),
            shared::store::Update::new().set(
                "name",
                "Acme\r\nBcc: victim@example.com\r\n\r\nwww.evil.example \"quoted\"",
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(invite(&api, &c, "kim@example.com", &role).await.status, 201);

    let mail = api.deliver_mail(&c.id).await;
    assert_eq!(mail.len(), 2);
    let subject = |eml: &str| {
        eml.lines()
            .find(|l| l.starts_with("Subject: "))
            .unwrap()
            .to_owned()
    };
    // The two invitations are sent by one worker run, in either order.
    let mut subjects: Vec<String> = mail.iter().map(|eml| subject(eml)).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Subject: Invitation to join \"Acme Bcc: victim@example[.]com www[.]evil[.]example 'quoted'\" on Commerce",
            "Subject: Invitation to join \"Support nimda visit https[:]//evil[.]example/login\" on Commerce",
        ]
    );
    for eml in &mail {
        for bad in [
            "\u{202E}",
            "\u{200B}",
            "https://",
            "evil.example",
            "\nBcc:",
            "\r\nBcc",
        ] {
            assert!(!eml.contains(bad), "{bad:?} in {eml}");
        }
        assert!(eml.contains("You have been invited to join \""), "{eml}");
    }
}

async fn staff_emails_are_normalised_and_kept_to_one_script(api: Api) {
    let c = register(&api, "acme").await;
    let role = role_id(&api, &c, "staff").await;
    // The owner's address in fullwidth letters is the owner.
    let owner = invite(&api, &c, "\u{ff4f}live@acme.example.com", &role).await;
    assert_eq!(owner.status, 409, "{:?}", owner.body);
    assert_eq!(owner.code(), "already_staff");
    let fullwidth = invite(&api, &c, "\u{ff53}\u{ff41}\u{ff4d}@example.com", &role).await;
    assert_eq!(fullwidth.status, 201);
    assert_eq!(fullwidth.body["email"], "sam@example.com");
    // A Latin address with a Cyrillic "а" is refused; one script of any kind is fine.
    let mixed = invite(&api, &c, "s\u{430}m@example.com", &role).await;
    assert_eq!(mixed.status, 422, "{:?}", mixed.body);
    assert_eq!(mixed.body["errors"][0]["field"], "email");
    assert_eq!(mixed.body["errors"][0]["code"], "mixed_script");
    let cyrillic = invite(&api, &c, "\u{441}\u{430}\u{448}\u{430}@example.com", &role).await;
    assert_eq!(cyrillic.status, 201, "{:?}", cyrillic.body);
}

/// One-time tokens travel to the mailer sealed: the outbox items (kept for days, and what the
/// queues and dead-letter queues carry) hold no usable invitation or reset token.
async fn one_time_tokens_rest_sealed(api: Api) {
    let c = register(&api, "acme").await;
    let staff_role = role_id(&api, &c, "staff").await;
    let invite = api
        .send(
            api.post("/admin/staff/invites")
                .token(&c.token)
                .json(json!({"email": "colin@example.com", "role_ids": [staff_role]})),
        )
        .await;
    assert_eq!(invite.status, 201);
    let reset = api
        .send(
            api.post("/admin/auth/password-reset")
                .json(json!({"company": "acme", "email": "olive@acme.example.com"})),
        )
        .await;
    assert_eq!(reset.status, 202);
    let mail = api.deliver_mail(&c.id).await;
    let invitation = token_after(
        mail.iter()
            .find(|m| m.contains("To: colin@example.com"))
            .unwrap(),
        "invitation token",
    );
    let reset_mail = mail
        .iter()
        .find(|m| m.contains("To: olive@acme.example.com"))
        .unwrap();
    let reset_token = token_after(reset_mail, "Your reset token");
    let secret = |token: &str| token.rsplit('.').next().unwrap().to_owned();
    let mut requests = 0;
    for item in &api.event_items(&c.id).await {
        let raw = serde_json::to_string(item).unwrap();
        assert!(
            !raw.contains(&secret(&invitation)),
            "invitation token at rest"
        );
        assert!(!raw.contains(&secret(&reset_token)), "reset token at rest");
        if raw.contains("notification.email_requested") {
            assert!(raw.contains("\"sealed\""), "{raw}");
            requests += 1;
        }
    }
    assert_eq!(requests, 2);
    // The tokens in the emails work.
    let joined = api
        .send(
            api.post("/admin/auth/accept-invite").json(
                json!({"token": invitation, "name": "Colin Colleague", "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(joined.status, 201);
}

/// What a stale token attempts: invite an admin, create a role, create a storefront key, change
/// settings. Each answer's status, in that order.
async fn stale_attempts(api: &Api, token: &str, admin_role: &str) -> Vec<u16> {
    let calls = [
        api.post("/admin/staff/invites")
            .token(token)
            .json(json!({"email": "mallory@example.com", "role_ids": [admin_role]})),
        api.post("/admin/roles")
            .token(token)
            .json(json!({"name": "Backdoor", "permissions": ["staff.manage"]})),
        api.post("/admin/api-keys")
            .token(token)
            .json(json!({"name": "Leak", "scopes": ["store.read"]})),
        api.patch("/admin/settings/general")
            .token(token)
            .json(json!({"store_name": "Pwned"})),
    ];
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(api.send(call).await.status);
    }
    statuses
}

/// Removing, disabling or demoting a member, or changing a password, takes effect at once for
/// every change made with a token issued before, and within seconds for reads.
async fn revoked_members_lose_access_at_once(api: Api) {
    let c = register(&api, "acme").await;
    let admin_role = role_id(&api, &c, "admin").await;
    let path_of = |r: &Response| format!("/admin/staff/{}", r.body["user"]["id"].as_str().unwrap());

    // Removed.
    let dan = join(&api, &c, "dan@example.com", &[&admin_role]).await;
    let dan_token = token(&dan);
    assert_eq!(
        api.send(api.get("/admin/staff").token(&dan_token))
            .await
            .status,
        200
    );
    let removed = api.send(api.delete(&path_of(&dan)).token(&c.token)).await;
    assert_eq!(removed.status, 204);
    assert_eq!(
        stale_attempts(&api, &dan_token, &admin_role).await,
        [401; 4]
    );

    // Disabled.
    let dora = join(&api, &c, "dora@example.com", &[&admin_role]).await;
    let dora_token = token(&dora);
    assert_eq!(
        api.send(api.get("/admin/products").token(&dora_token))
            .await
            .status,
        200
    );
    let disabled = api
        .send(
            api.patch(&path_of(&dora))
                .token(&c.token)
                .json(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(
        stale_attempts(&api, &dora_token, &admin_role).await,
        [401; 4]
    );
    // Reads may be served from a check made in the last 5 s; after that they stop too.
    api.clock.advance(Duration::from_secs(6));
    let read = api
        .send(api.get("/admin/products").token(&dora_token))
        .await;
    assert_eq!(read.status, 401);

    // Demoted to a role that may only read.
    let read_only = role_id(&api, &c, "read_only").await;
    let dave = join(&api, &c, "dave@example.com", &[&admin_role]).await;
    let dave_token = token(&dave);
    let demoted = api
        .send(
            api.patch(&path_of(&dave))
                .token(&c.token)
                .json(json!({"role_ids": [read_only]})),
        )
        .await;
    assert_eq!(demoted.status, 200);
    assert_eq!(
        stale_attempts(&api, &dave_token, &admin_role).await,
        [403; 4]
    );
    assert_eq!(
        api.send(api.get("/admin/staff").token(&dave_token))
            .await
            .status,
        200
    );

    // A custom role that loses a permission takes it from its holders at once.
    let inviter = custom_role(&api, &c, &["staff.read", "staff.manage"]).await;
    let ivy = join(&api, &c, "ivy@example.com", &[&inviter]).await;
    let ivy_token = token(&ivy);
    let invite = |email: &str| {
        api.post("/admin/staff/invites")
            .token(&ivy_token)
            .json(json!({"email": email, "role_ids": [inviter]}))
    };
    assert_eq!(api.send(invite("first@example.com")).await.status, 201);
    let narrowed = api
        .send(
            api.patch(&format!("/admin/roles/{inviter}"))
                .token(&c.token)
                .json(json!({"permissions": ["staff.read"]})),
        )
        .await;
    assert_eq!(narrowed.status, 200, "{:?}", narrowed.body);
    let refused = api.send(invite("second@example.com")).await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "missing_permission")
    );

    // A password change ends every other session at once; the changing one goes on.
    let laptop = token(
        &api.send(api.post("/admin/auth/login").json(
            json!({"company": "acme", "email": "olive@acme.example.com", "password": PASSWORD}),
        ))
        .await,
    );
    let changed = api
        .send(
            api.post("/admin/me/password")
                .token(&c.token)
                .json(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_eq!(stale_attempts(&api, &laptop, &admin_role).await, [401; 4]);
    let still = api
        .send(
            api.post("/admin/roles")
                .token(&c.token)
                .json(json!({"name": "Fine", "permissions": ["orders.read"]})),
        )
        .await;
    assert_eq!(still.status, 201);

    // None of the refused changes left anything behind.
    let invites = api
        .send(api.get("/admin/staff/invites").token(&c.token))
        .await;
    assert!(!invites.body.to_string().contains("mallory@example.com"));
    let general = api
        .send(api.get("/admin/settings/general").token(&c.token))
        .await;
    assert_ne!(general.body["values"]["store_name"], "Pwned");
}

api_cases!(
    a_disabled_member_comes_back_with_nothing_old,
    nobody_grants_more_than_they_hold,
    an_invited_colleague_joins_with_exactly_the_roles_given,
    invitations_are_checked,
    the_last_active_owner_stays,
    concurrent_demotions_cannot_remove_every_owner,
    disabling_and_removing_staff_stop_them,
    staff_lists_page_with_sealed_cursors,
    password_reset_works_once_and_ends_every_session,
    reset_requests_are_throttled,
    reset_links_die_with_any_password_change,
    reset_requests_cost_the_same_for_known_and_unknown_emails,
    changing_the_password_ends_other_sessions,
    sessions_can_be_revoked_one_by_one,
    wrong_current_passwords_lock_the_change_out,
    one_invitation_is_pending_per_address,
    pending_invitations_are_capped_per_company,
    invitations_are_throttled_per_company,
    hostile_company_names_are_neutralised_in_invitation_mail,
    staff_emails_are_normalised_and_kept_to_one_script,
    revoked_members_lose_access_at_once,
    one_time_tokens_rest_sealed,
);
