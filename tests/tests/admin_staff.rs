//! Staff management, invitations, password reset and sessions, through the router on every
//! backend, with emails read from the outbox the notifications worker writes.

use commerce_tests::api::{token_after, Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";
const NEW_PASSWORD: &str = "lantern-meadow-copper-fox-42";

struct Company {
    id: String,
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
    assert!(mail[0].contains("Subject: You are invited to join acme Ltd"));
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
    let invite_token = token_after(mail.last().unwrap(), "invitation token");
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
    let late = token_after(mail.last().unwrap(), "reset token");
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
        token_after(mail.last().unwrap(), "reset token")
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
}

api_cases!(
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
);
