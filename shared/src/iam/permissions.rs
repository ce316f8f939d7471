//! The permission catalog: `resource.action`, each with what it allows. Routes name one of these;
//! roles grant lists of them. The wildcard `*` (the owner role) grants every permission, including
//! those added in later versions.

pub const ALL_PERMISSIONS: &str = "*";

pub static CATALOG: &[(&str, &str)] = &[
    ("company.manage", "Change the company profile and handle"),
    ("roles.read", "List and view roles"),
    ("roles.manage", "Create, change and delete custom roles"),
    ("staff.read", "List and view staff users and invites"),
    (
        "staff.manage",
        "Invite, change, disable and remove staff users",
    ),
    ("settings.read", "View company settings"),
    ("settings.general.write", "Change general settings"),
    ("settings.security.write", "Change security settings"),
    (
        "settings.payments.write",
        "Change payment settings and credentials",
    ),
    (
        "settings.notifications.write",
        "Change notification settings",
    ),
    ("settings.shipping.write", "Change shipping settings"),
    ("settings.tax.write", "Change tax settings"),
    ("settings.checkout.write", "Change checkout settings"),
    (
        "settings.inventory.write",
        "Change inventory settings (low-stock threshold, shown quantities)",
    ),
    (
        "api_keys.manage",
        "Create, rotate and revoke storefront API keys",
    ),
    ("customers.read", "List and view customers"),
    ("customers.write", "Change, disable and erase customers"),
    (
        "customers.export",
        "Export everything held about a customer (data access requests)",
    ),
    (
        "carts.read",
        "View shoppers' carts, abandoned ones included",
    ),
    ("products.read", "List and view products"),
    ("products.write", "Create, change and delete products"),
    (
        "categories.write",
        "Create, change and delete categories and collections",
    ),
    ("inventory.read", "View stock levels and history"),
    ("inventory.write", "Adjust stock"),
    ("orders.read", "List and view orders"),
    (
        "orders.write",
        "Add notes to orders, capture their payments and mark them paid",
    ),
    ("orders.fulfill", "Fulfil orders and take returns"),
    ("orders.cancel", "Cancel orders"),
    ("orders.refund", "Refund orders"),
    (
        "shipping.read",
        "View shipping zones, their methods and rates",
    ),
    (
        "shipping.write",
        "Create, change and delete shipping zones and methods",
    ),
    ("tax.read", "View tax rates"),
    ("tax.write", "Create, change and delete tax rates"),
    ("discounts.read", "List and view discounts"),
    ("discounts.write", "Create, change and delete discounts"),
    (
        "webhooks.manage",
        "Manage webhook endpoints and replay deliveries",
    ),
    ("analytics.read", "View sales analytics"),
    ("audit.read", "View the audit log"),
    ("files.manage", "Upload and delete files"),
];

pub fn exists(permission: &str) -> bool {
    CATALOG.iter().any(|(name, _)| *name == permission)
}

/// Whether a set of granted permissions includes `permission`.
pub fn grants(granted: &[String], permission: &str) -> bool {
    granted
        .iter()
        .any(|g| g == ALL_PERMISSIONS || g == permission)
}

/// Whether someone holding `granted` holds everything in `wanted` (the wildcard only covers
/// itself when held as the wildcard).
pub fn covers(granted: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| {
        if w == ALL_PERMISSIONS {
            granted.iter().any(|g| g == ALL_PERMISSIONS)
        } else {
            grants(granted, w)
        }
    })
}

/// Every permission a grant list amounts to, with the wildcard expanded.
pub fn effective(granted: &[String]) -> Vec<String> {
    if granted.iter().any(|g| g == ALL_PERMISSIONS) {
        return CATALOG.iter().map(|(name, _)| (*name).to_owned()).collect();
    }
    let mut out: Vec<String> = CATALOG
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| granted.iter().any(|g| g == name))
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

/// The system roles every company starts with: key, name, description, grants.
pub fn system_roles() -> Vec<(&'static str, &'static str, &'static str, Vec<String>)> {
    let all_but = |excluded: &[&str]| -> Vec<String> {
        CATALOG
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| !excluded.contains(name))
            .map(str::to_owned)
            .collect()
    };
    let matching = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        CATALOG
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| pred(name))
            .map(str::to_owned)
            .collect()
    };
    vec![
        (
            "owner",
            "Owner",
            "Everything, including payments and the company itself",
            vec![ALL_PERMISSIONS.to_owned()],
        ),
        (
            "admin",
            "Admin",
            "Everything except the company profile and payment settings",
            all_but(&["company.manage", "settings.payments.write"]),
        ),
        (
            "staff",
            "Staff",
            "Day-to-day work on products, inventory, orders and customers",
            matching(&|p| {
                p.ends_with(".read") && p != "audit.read"
                    || matches!(
                        p,
                        "products.write"
                            | "categories.write"
                            | "inventory.write"
                            | "orders.write"
                            | "orders.fulfill"
                            | "customers.write"
                            | "files.manage"
                    )
            }),
        ),
        (
            "read_only",
            "Read-only",
            "Views everything, changes nothing",
            matching(&|p| p.ends_with(".read")),
        ),
    ]
}

/// What the system role with this key grants under today's catalog.
pub fn system_grants(key: &str) -> Option<Vec<String>> {
    system_roles()
        .into_iter()
        .find(|(k, _, _, _)| *k == key)
        .map(|(_, _, _, grants)| grants)
}

/// The permissions a user's roles grant.
pub fn granted(roles: &[crate::iam::model::Role], role_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for role in roles.iter().filter(|r| role_ids.contains(&r.id)) {
        for p in &role.permissions {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
    }
    if out.iter().any(|p| p == ALL_PERMISSIONS) {
        return vec![ALL_PERMISSIONS.to_owned()];
    }
    out
}
