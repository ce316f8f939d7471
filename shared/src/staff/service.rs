//! Changing staff users: roles, status and removal, keeping every role's holder counts exact and
//! the company's last active owner in place, all within one transaction per change.

use super::model::{StaffStatus, StoredStaffUser};
use super::store;
use crate::auth::TenantId;
use crate::iam::{self, model::Role};
use crate::staff::errors::StaffError;
use crate::store::{StoreError, Table, TxOp};

/// What a user contributes to each role's counts: (assigned, active) per role id.
fn contribution(user: Option<&StoredStaffUser>) -> Vec<(String, i64, i64)> {
    user.map(|u| {
        let active = i64::from(u.user.status == StaffStatus::Active);
        u.user
            .role_ids
            .iter()
            .map(|id| (id.clone(), 1, active))
            .collect()
    })
    .unwrap_or_default()
}

/// The role counter operations that take the counts from `before` to `after` (either may be
/// absent: a new or a removed user). Unknown role ids answer 422.
pub async fn role_count_ops(
    table: &dyn Table,
    tenant: &TenantId,
    before: Option<&StoredStaffUser>,
    after: Option<&StoredStaffUser>,
) -> Result<Vec<TxOp>, StaffError> {
    let mut deltas: Vec<(String, i64, i64)> = Vec::new();
    for (sign, entries) in [(-1, contribution(before)), (1, contribution(after))] {
        for (id, assigned, active) in entries {
            match deltas.iter_mut().find(|(d, _, _)| *d == id) {
                Some(entry) => {
                    entry.1 += sign * assigned;
                    entry.2 += sign * active;
                }
                None => deltas.push((id, sign * assigned, sign * active)),
            }
        }
    }
    deltas.retain(|(_, assigned, active)| *assigned != 0 || *active != 0);
    let ids: Vec<String> = deltas.iter().map(|(id, _, _)| id.clone()).collect();
    let roles: Vec<Role> = iam::store::get_many(table, tenant, &ids).await?;
    let mut ops = Vec::with_capacity(deltas.len());
    for (i, (id, assigned, active)) in deltas.into_iter().enumerate() {
        let Some(role) = roles.iter().find(|r| r.id == id) else {
            return Err(StaffError::UnknownRole { index: i, id });
        };
        ops.push(iam::store::count_op(tenant, role, assigned, active));
    }
    Ok(ops)
}

/// Refuses (403) when the roles hold permissions the caller does not: nobody hands out, takes
/// away or disables more power than they have (an admin cannot make anyone owner, nor demote one).
pub async fn ensure_can_manage(
    table: &dyn Table,
    tenant: &TenantId,
    caller: &[String],
    role_ids: &[String],
) -> Result<(), StaffError> {
    let roles = iam::store::get_many(table, tenant, role_ids).await?;
    if roles
        .iter()
        .all(|role| iam::permissions::covers(caller, &role.permissions))
    {
        Ok(())
    } else {
        Err(StaffError::Escalation)
    }
}

/// Maps a failed staff transaction whose role counter operations start at `first_count_op`.
pub fn staff_change_error(e: StoreError, first_count_op: usize, count_ops: usize) -> StaffError {
    if (first_count_op..first_count_op + count_ops).any(|i| e.failed_at(i)) {
        return StaffError::LastOwner;
    }
    if e.failed_at(0) {
        return StaffError::Stale;
    }
    e.into()
}

/// Replaces a user (at `expected` version) together with its role counts and `extra` operations.
pub async fn save(
    table: &dyn Table,
    tenant: &TenantId,
    before: &StoredStaffUser,
    after: &StoredStaffUser,
    extra: Vec<TxOp>,
) -> Result<(), StaffError> {
    let counts = role_count_ops(table, tenant, Some(before), Some(after)).await?;
    let count_len = counts.len();
    let mut ops = vec![store::replace_op(tenant, after, before.user.version)];
    ops.extend(counts);
    ops.extend(extra);
    table
        .transact(ops)
        .await
        .map_err(|e| staff_change_error(e, 1, count_len))
}
