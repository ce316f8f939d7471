//! Sign-up.

use super::*;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub company: NewCompany,
    pub owner: NewOwner,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub company: Company,
    pub user: StaffUser,
    #[serde(flatten)]
    pub tokens: Tokens,
}

pub async fn register(
    app: &App,
    input: Registration,
    origin: &Origin,
) -> Result<Registered, ApiError> {
    let key = signing_key(app)?;
    if let Some(ip) = &origin.ip {
        // Every sign-up counts against its source, so one address cannot mint companies.
        throttle::count(app, &Subject::source("register", ip)).await?;
    }
    let email = validate::normalize_email(&input.owner.email);
    let mut errors = Errors::new();
    validate_company(&mut errors, "company.", &input.company);
    errors.check(validate::text("owner.name", &input.owner.name, 100));
    errors.check(validate::staff_email("owner.email", &email));
    errors.check(passwords::check_policy(
        &input.owner.password,
        passwords::DEFAULT_MIN_LENGTH,
        "owner.password",
        &[
            &email,
            &input.owner.name,
            &input.company.name,
            &input.company.handle,
        ],
    ));
    errors.finish()?;

    let now = rfc3339(app.clock.now());
    let tenant = TenantId::trusted(app.ids.new_id("co"));
    let company = Company {
        id: tenant.to_string(),
        name: input.company.name.trim().to_owned(),
        handle: input.company.handle.clone(),
        country: input.company.country.clone(),
        currency: input.company.currency.clone(),
        timezone: input.company.timezone.clone(),
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
    };
    let roles: Vec<Role> = permissions::system_roles()
        .into_iter()
        .map(|(key, name, description, grants)| Role {
            id: app.ids.new_id("role"),
            name: name.into(),
            description: description.into(),
            permissions: grants,
            system: true,
            key: Some(key.into()),
            assigned_users: i64::from(key == "owner"),
            active_users: i64::from(key == "owner"),
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        })
        .collect();
    let owner_role = roles[0].id.clone();
    let user = StoredStaffUser {
        user: StaffUser {
            id: app.ids.new_id("usr"),
            email: email.clone(),
            name: input.owner.name.trim().to_owned(),
            role_ids: vec![owner_role],
            status: StaffStatus::Active,
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        },
        password_hash: passwords::hash(&input.owner.password),
        sessions_valid_after_ms: 0,
    };
    let session = new_session(app, &user.user.id, origin, &Security::default());

    let mut ops = companies::store::create_ops(&company);
    for role in &roles {
        ops.push(iam::store::put_op(
            &tenant,
            role,
            crate::store::Condition::NotExists,
        ));
    }
    ops.extend(staff::store::create_ops(&tenant, &user));
    ops.extend(settings::service::seed_ops(
        app,
        &tenant,
        &company,
        &user.user.id,
    ));
    ops.push(sessions::create_op(&tenant, &session));
    ops.push(event(
        app,
        &tenant,
        crate::companies::events::CompanyEvent::Created,
        Some(&user.user.id),
        json!({"company_id": company.id, "handle": company.handle, "owner_id": user.user.id}),
    ));
    match app.table.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.failed_at(companies::store::HANDLE_OP) => {
            return Err(ApiError::new(
                CompanyCode::HandleTaken,
                "this handle is already taken",
            ))
        }
        Err(StoreError::Conflict) => {
            return Err(ApiError::new(
                CompanyCode::HandleTaken,
                "this handle is being registered",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let tokens = issue(
        app,
        &key,
        &tenant,
        &session,
        0,
        vec![permissions::ALL_PERMISSIONS.to_owned()],
        &Security::default(),
    );
    Ok(Registered {
        company,
        user: user.user,
        tokens,
    })
}
