//! The AWS access code declares, and the check that it stays within it. In AWS a function's
//! IAM role grants exactly what its route declares and its binary links only those clients; on
//! embedded storage nothing would stop a handler from reaching further. So the app's ports check
//! every call made while serving a route against its declaration and refuse what it leaves out: a
//! handler that starts writing, uploading, sending or using a secret without declaring it fails
//! its first test instead of its first request in AWS.
//!
//! This module is data and a check; the checked ports are in `app::checked`.

use crate::secrets::{Secret, SecretSet};
use std::future::Future;

/// Access to the table of a route's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableAccess {
    None,
    Read,
    ReadWrite,
}

/// Access to the files bucket of a route's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobAccess {
    None,
    /// Read company objects and presign `GET` URLs for them (`s3:GetObject` on the company
    /// prefix only): pages that show images.
    Read,
    /// Read, write and delete objects, and presign uploads.
    ReadWrite,
}

/// What a route's function may do in AWS; the infra template grants exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsAccess {
    pub table: TableAccess,
    /// The files bucket (presigning needs the rights the presigned request uses).
    pub blobs: BlobAccess,
    /// Queues the function sends to directly (delayed jobs); events go through the outbox.
    pub queues: &'static [&'static str],
    /// The secrets its code uses (cursor signing, email sealing, token signing, ...): the
    /// function is given these and no others. Idempotent replay's secret is implied (see
    /// [`Route::secrets`]).
    pub secrets: &'static [Secret],
    /// Partitions (IAM `dynamodb:LeadingKeys` patterns, `*` for any text) whose items a function
    /// that only reads may still update: a storefront read records its API key's last use.
    pub updates: &'static [&'static str],
}

impl AwsAccess {
    pub const NONE: AwsAccess = AwsAccess {
        table: TableAccess::None,
        blobs: BlobAccess::None,
        queues: &[],
        secrets: &[],
        updates: &[],
    };
    pub const READ: AwsAccess = AwsAccess {
        table: TableAccess::Read,
        ..Self::NONE
    };
    pub const WRITE: AwsAccess = AwsAccess {
        table: TableAccess::ReadWrite,
        ..Self::NONE
    };
    /// Writes, and signs staff tokens (sign-up, log-in, refresh, accepting an invitation).
    pub const WRITE_SIGNING: AwsAccess = AwsAccess {
        secrets: &[Secret::StaffTokens],
        ..Self::WRITE
    };
    /// Writes, and signs customer tokens (customer sign-up, log-in, refresh).
    pub const WRITE_SIGNING_CUSTOMERS: AwsAccess = AwsAccess {
        secrets: &[Secret::CustomerTokens],
        ..Self::WRITE
    };
    /// Writes, and requests email (whose content is sealed).
    pub const WRITE_EMAIL: AwsAccess = AwsAccess {
        secrets: &[Secret::EmailContent],
        ..Self::WRITE
    };
    /// Reads, and pages lists (cursors are signed).
    pub const READ_LIST: AwsAccess = AwsAccess {
        secrets: &[Secret::Cursor],
        ..Self::READ
    };

    /// Whether the function signs staff tokens (only these receive that secret).
    pub fn signs_staff_tokens(&self) -> bool {
        self.secrets.contains(&Secret::StaffTokens)
    }

    /// Whether the function signs customer tokens (only these receive that secret).
    pub fn signs_customer_tokens(&self) -> bool {
        self.secrets.contains(&Secret::CustomerTokens)
    }
}

/// What the running code declared: the route's name, its AWS access and every secret it holds.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub name: &'static str,
    pub aws: AwsAccess,
    pub secrets: SecretSet,
}

tokio::task_local! {
    static DECLARED: Declared;
}

/// Runs `work` (authentication and handler) within the access `declared` names.
pub async fn within<F: Future>(declared: Declared, work: F) -> F::Output {
    DECLARED.scope(declared, work).await
}

/// Whether `partition` matches an IAM `dynamodb:LeadingKeys` pattern (`*` stands for any text).
pub fn partition_matches(pattern: &str, partition: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == partition,
        Some((prefix, rest)) => partition.strip_prefix(prefix).is_some_and(|tail| {
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| partition_matches(rest, &tail[i..]))
        }),
    }
}

/// What a port call needs.
pub(crate) enum Need<'a> {
    TableRead,
    /// An update of the item in this partition.
    TableUpdate(&'a str),
    TableWrite,
    /// Reading an object or presigning a `GET`.
    BlobRead,
    /// Writing or deleting an object, or presigning an upload.
    BlobWrite,
    Send(&'a str),
    Receive,
    Mail,
    /// A key derived from this secret.
    Secret(crate::secrets::Secret),
}

/// Why the running route may not make this call, if it may not. Outside a route (workers, the
/// dispatcher, set-up code) nothing is checked.
pub(crate) fn refusal(need: Need) -> Option<String> {
    let route = DECLARED.try_with(|declared| *declared).ok()?;
    let access = route.aws;
    let (allowed, what) = match need {
        Need::TableRead => (
            access.table != TableAccess::None,
            "read the table".to_owned(),
        ),
        Need::TableUpdate(partition) => (
            access.table == TableAccess::ReadWrite
                || access
                    .updates
                    .iter()
                    .any(|pattern| partition_matches(pattern, partition)),
            format!("update items in `{partition}`"),
        ),
        Need::TableWrite => (
            access.table == TableAccess::ReadWrite,
            "write to the table".to_owned(),
        ),
        Need::BlobRead => (
            access.blobs != BlobAccess::None,
            "read the files bucket".to_owned(),
        ),
        Need::BlobWrite => (
            access.blobs == BlobAccess::ReadWrite,
            "write to the files bucket".to_owned(),
        ),
        Need::Send(queue) => (
            access.queues.contains(&queue),
            format!("send to the `{queue}` queue"),
        ),
        Need::Receive => (false, "receive from a queue".to_owned()),
        Need::Mail => (false, "send email".to_owned()),
        Need::Secret(secret) => (
            route.secrets.contains(secret),
            format!("the `{}` secret", secret.name()),
        ),
    };
    if allowed {
        return None;
    }
    let reason = format!("route `{}` does not declare access to {what}", route.name);
    tracing::error!(route = route.name, "{reason}");
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::partition_matches;

    #[test]
    fn partitions_match_leading_key_patterns() {
        let pattern = "T#*#APIKEYS";
        assert!(partition_matches(pattern, "T#co_1#APIKEYS"));
        assert!(
            partition_matches(pattern, "T#co_1#X#APIKEYS"),
            "* matches any text"
        );
        assert!(!partition_matches(pattern, "T#co_1#PRODUCTS"));
        assert!(!partition_matches(pattern, "U#co_1#APIKEYS"));
        assert!(!partition_matches(pattern, "T#co_1#APIKEYS#X"));
        assert!(partition_matches("EXACT", "EXACT"));
        assert!(!partition_matches("EXACT", "EXACTLY"));
    }
}
