//! Who am I.

use super::*;

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: StaffUser,
    pub company: Company,
    pub roles: Vec<Role>,
    /// Every permission the user's roles grant, expanded.
    pub permissions: Vec<String>,
}

pub async fn me(app: &App, tenant: &TenantId, user_id: &str) -> Result<Me, ApiError> {
    let gone = || ApiError::unauthorized("the user no longer exists");
    let user = staff::store::get(app.table.as_ref(), tenant, user_id)
        .await?
        .ok_or_else(gone)?;
    let company = companies::store::get(app.table.as_ref(), tenant)
        .await?
        .ok_or_else(gone)?;
    let roles = iam::store::get_many(app.table.as_ref(), tenant, &user.user.role_ids).await?;
    let permissions = permissions::effective(&granted(&roles, &user.user.role_ids));
    Ok(Me {
        user: user.user,
        company,
        roles,
        permissions,
    })
}
