//! How Lambda would configure a function, in plain values: what a local run
//! gives the image, and what a deploy compares the settings asked with.

use super::defaults;
use std::time::Duration;

/// The variables Lambda sets itself and refuses in a function's
/// environment: a deploy refuses them, a local run keeps Lambda's values.
pub const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_METADATA_API",
    "AWS_LAMBDA_METADATA_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// The function as Lambda would configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSettings {
    pub function_name: String,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub region: String,
    /// The function's environment variables.
    pub environment: std::collections::BTreeMap<String, String>,
    /// The function's `ImageConfig`: what it runs instead of the image's own
    /// ENTRYPOINT, CMD and WORKDIR.
    pub image_config: ImageOverrides,
    /// The size of its writable `/tmp`.
    pub ephemeral_storage_mb: u64,
    /// The credentials the function gets, as Lambda gives it its execution
    /// role's; none unless asked for (`local --credentials`, `deploy
    /// --local-credentials`).
    pub credentials: Option<super::AssumedRole>,
}

/// A function's `ImageConfig` overrides; None keeps the image's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOverrides {
    pub entry_point: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub working_directory: Option<String>,
}

impl Default for LocalSettings {
    fn default() -> Self {
        LocalSettings {
            function_name: "function".to_string(),
            memory_mb: defaults::LOCAL_MEMORY_MB,
            timeout: Duration::from_secs(defaults::LOCAL_TIMEOUT_SECS),
            region: "us-east-1".to_string(),
            environment: std::collections::BTreeMap::new(),
            image_config: ImageOverrides::default(),
            ephemeral_storage_mb: defaults::EPHEMERAL_STORAGE_MB,
            credentials: None,
        }
    }
}
