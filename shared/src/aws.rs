//! One SDK configuration per container, with explicit timeouts and retries, from which each
//! function builds only the clients it uses.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// Per-attempt and whole-operation timeouts: a Lambda invocation should fail fast and let the
/// caller retry rather than hang until the function's own timeout.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// Standard retries with jittered exponential backoff, three attempts in all.
fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(25))
}

/// The SDK configuration from the standard AWS environment (region, credentials, and
/// `AWS_ENDPOINT_URL` or per-service endpoint variables for local emulators).
pub async fn from_env() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await
}

/// The SDK configuration for a local emulator: fixed region and dummy credentials, so nothing is
/// read from the developer's AWS profile. DynamoDB Local serves a burst of parallel requests (the
/// race tests) far more slowly than DynamoDB, so the timeouts are generous: a request is not
/// abandoned, and sent again, while it waits its turn.
pub async fn for_emulator(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ))
        .endpoint_url(endpoint)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .operation_timeout(Duration::from_secs(120))
                .build(),
        )
        .retry_config(retries())
        .load()
        .await
}

pub fn secrets_manager(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub fn sqs(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// S3 with path-style addressing when an endpoint is overridden (emulators have no DNS for
/// virtual-hosted bucket names), in code or through `AWS_ENDPOINT_URL[_S3]`.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let overridden = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    let path_style = config.endpoint_url().is_some()
        || overridden("AWS_ENDPOINT_URL_S3")
        || overridden("AWS_ENDPOINT_URL");
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .build(),
    )
}

pub fn ses(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}
