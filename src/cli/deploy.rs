//! `lambda-ship deploy`'s flags: the functions, the identity, each function's
//! configuration, the smoke test and where the results go.

use super::{BuildArgs, CommentArgs, RoleArgs};
use crate::model::defaults;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub build: BuildArgs,

    /// A function to update, NAME[:ARCH] (repeatable). NAME is a function name or
    /// ARN; ARCH (x86_64 or arm64) defaults to the function's current architecture
    /// [default: the [functions.NAME] tables of lambda-ship.toml].
    #[arg(
        long = "function",
        env = "LAMBDA_SHIP_FUNCTIONS",
        value_delimiter = ','
    )]
    pub functions: Vec<String>,

    #[command(flatten)]
    pub settings: crate::settings::Settings,

    /// Validate everything, call only read APIs and print what would change:
    /// nothing is built, pushed, created or updated.
    #[arg(long, env = "LAMBDA_SHIP_DRY_RUN")]
    pub dry_run: bool,

    #[command(flatten)]
    pub role: RoleArgs,

    /// On a pull request: deploy each function's preview instead, a function
    /// <NAME>-pr<N> of its configuration running this pull request's image,
    /// behind its own URL; the function itself is not touched.
    /// Not with --alias: a preview leaves the function's aliases alone.
    #[arg(long, env = "LAMBDA_SHIP_PREVIEW")]
    pub preview: bool,

    /// Before any function changes, require each image it will run to carry
    /// a valid signature by this AWS KMS key over its digest and a
    /// provenance, attested by the key, that names this commit.
    #[arg(long, env = "LAMBDA_SHIP_REQUIRE_SIGNATURE", value_name = "KEY")]
    pub require_signature: Option<String>,

    /// Publish a version, smoke-test it, and only then point this alias at it.
    #[arg(long, env = "LAMBDA_SHIP_ALIAS")]
    pub alias: Option<String>,

    /// Roll the release out behind --alias instead of moving it at once:
    /// canary:PCT:DURATION (PCT% of the traffic for DURATION, then all of
    /// it) or linear:PCT:INTERVAL (PCT% more every INTERVAL). PCT from 1 to
    /// 99; DURATION as 30s, 5m or 1h. Every function of the run rolls out
    /// together, and a failing gate rolls all of them back.
    #[arg(long, env = "LAMBDA_SHIP_ROLLOUT", value_name = "SPEC")]
    pub rollout: Option<String>,

    /// A CloudWatch alarm (metric or composite) that rolls the rollout back
    /// when in ALARM (repeatable); one already in ALARM stops it before any
    /// traffic moves.
    #[arg(
        long = "rollback-alarm",
        env = "LAMBDA_SHIP_ROLLBACK_ALARMS",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub rollback_alarms: Vec<String>,

    /// Roll back when the new version's own error rate (AWS/Lambda Errors /
    /// Invocations behind the alias) is above this percentage.
    #[arg(long, env = "LAMBDA_SHIP_MAX_ERROR_RATE", value_name = "PCT")]
    pub max_error_rate: Option<f64>,

    /// Below this many invocations of the new version, its error rate is
    /// not judged (and the rollout says so).
    #[arg(long, env = "LAMBDA_SHIP_MIN_INVOCATIONS", default_value_t = 1)]
    pub min_invocations: u64,

    /// Create a function that does not exist yet, running as this IAM role
    /// (arn:aws:iam::ACCOUNT:role/NAME); name its architecture, --function NAME:ARCH.
    #[arg(long, env = "LAMBDA_SHIP_EXECUTION_ROLE")]
    pub execution_role: Option<String>,

    /// Make sure each function (its alias, with --alias) has a URL of this auth
    /// type: public (auth NONE, with the two resource-policy statements a public
    /// URL needs) or iam. Without it a URL is left as it is.
    #[arg(long, env = "LAMBDA_SHIP_FUNCTION_URL", value_enum)]
    pub function_url: Option<crate::model::UrlAuth>,

    /// The smoke-test event: JSON, or @FILE.
    #[arg(long, env = "LAMBDA_SHIP_SMOKE_EVENT", default_value = "{}")]
    pub smoke_event: String,

    /// Text the smoke-test response must contain.
    #[arg(long, env = "LAMBDA_SHIP_SMOKE_EXPECT")]
    pub smoke_expect: Option<String>,

    /// Warn (in the comment and as an annotation, never failing) when the
    /// cold start grows by more than this many ms over production's.
    #[arg(long, env = "LAMBDA_SHIP_WARN_COLD_START_MS")]
    pub warn_cold_start_ms: Option<f64>,

    /// Warn when the image grows by more than this many MB over production's.
    #[arg(long, env = "LAMBDA_SHIP_WARN_SIZE_MB")]
    pub warn_size_mb: Option<f64>,

    /// How long to wait for each image's scan on push, in seconds ("scan
    /// pending" after it).
    #[arg(long, env = "LAMBDA_SHIP_SCAN_WAIT", default_value_t = 30)]
    pub scan_wait: u64,

    /// Skip the smoke-test invocation.
    #[arg(long, env = "LAMBDA_SHIP_NO_SMOKE")]
    pub no_smoke: bool,

    /// Skip the local smoke test: invoking each image as Lambda would, on the
    /// engine that built it, before anything is pushed.
    #[arg(long, env = "LAMBDA_SHIP_NO_LOCAL_SMOKE")]
    pub no_local_smoke: bool,

    /// Give the local smoke test credentials, as Lambda gives a function its
    /// execution role's: execution-role assumes each function's role for a
    /// short session [default: none].
    #[arg(long, env = "LAMBDA_SHIP_LOCAL_CREDENTIALS", value_enum)]
    pub local_credentials: Option<crate::model::LocalCredentials>,

    /// Write the whole run's report as JSON to this file, on success or failure.
    #[arg(long, env = "LAMBDA_SHIP_REPORT_JSON")]
    pub report_json: Option<PathBuf>,

    /// How long to wait for each function update to become live, in seconds.
    #[arg(long, env = "LAMBDA_SHIP_WAIT_TIMEOUT", default_value_t = defaults::WAIT_TIMEOUT_SECS)]
    pub wait_timeout: u64,

    #[command(flatten)]
    pub comment: CommentArgs,

    /// Also write the outputs to this dotenv file (GitLab `artifacts:reports:dotenv`).
    #[arg(long, env = "LAMBDA_SHIP_DOTENV")]
    pub dotenv: Option<PathBuf>,
}
