//! Runs an image as Lambda would, on the engine that built it, before anything
//! is pushed: the image's own ENTRYPOINT, CMD and WORKDIR, a read-only root
//! filesystem with a writable 512 MB tmpfs /tmp, a non-root user, the
//! function's memory as the memory limit and its timeout as the deadline,
//! Lambda's standard environment, and `AWS_LAMBDA_RUNTIME_API` pointing at
//! lambda-ship's own Runtime API server.

mod environment;
mod event;
mod instance;
mod metadata;
mod owner;
pub mod runtime_api;
pub mod url;

pub use instance::{INIT_LIMIT, Instance, Invocation, StartError};
pub use owner::{remove_own, sweep_orphans};

use crate::farm::engine::Engine;
pub use crate::model::LocalSettings;
use crate::model::Platform;
use bytes::Bytes;
use runtime_api::Answer;
use std::time::{Duration, Instant};

/// Lambda's user inside the sandbox is not root.
pub(crate) const SANDBOX_USER: &str = "993:990";
/// How much of the container's output a result keeps.
pub(crate) const OUTPUT_TAIL: usize = 4096;

/// The local smoke test a deploy runs between build and push.
#[derive(Debug, Clone)]
pub struct LocalCheck {
    pub event: String,
    /// Each architecture's function settings (its memory and timeout).
    pub settings: std::collections::BTreeMap<Platform, LocalSettings>,
    /// Renews credentials that would end during a platform's run: the
    /// session assumed before the build may end during a long one.
    pub renew: Option<std::sync::Arc<dyn RenewCredentials>>,
}

/// Fresh credentials for a platform's local run.
pub trait RenewCredentials: Send + Sync + std::fmt::Debug {
    fn renew(
        &self,
        platform: Platform,
    ) -> futures_util::future::BoxFuture<'_, Result<crate::model::AssumedRole, String>>;
}

/// How long credentials must outlast a run's longest wait to be kept.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

impl LocalCheck {
    pub fn settings(&self, platform: Platform) -> LocalSettings {
        self.settings.get(&platform).cloned().unwrap_or_default()
    }

    /// A platform's settings for a run that starts now: credentials that
    /// would end before it could are renewed.
    pub async fn settings_now(&self, platform: Platform) -> Result<LocalSettings, String> {
        let mut settings = self.settings(platform);
        let needed = settings.timeout + INIT_LIMIT + RENEW_MARGIN;
        let ending = settings
            .credentials
            .as_ref()
            .and_then(|c| c.expiration)
            .is_some_and(|end| end < std::time::SystemTime::now() + needed);
        if ending && let Some(renew) = &self.renew {
            settings.credentials = Some(renew.renew(platform).await?);
        }
        Ok(settings)
    }
}

/// Holds every platform's push until all have passed their local smoke test:
/// one failure, and nothing is pushed.
pub struct Gate {
    barrier: tokio::sync::Barrier,
    failed: std::sync::atomic::AtomicBool,
}

impl Gate {
    pub fn new(platforms: usize) -> Self {
        Gate {
            barrier: tokio::sync::Barrier::new(platforms.max(1)),
            failed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Waits for every platform; true when all of them passed.
    pub async fn pass(&self, ok: bool) -> bool {
        if !ok {
            self.failed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.barrier.wait().await;
        !self.failed.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Why a local invocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The entrypoint is not an executable for this architecture.
    ExecFormat,
    /// The runtime reported `init/error`, or exited before asking for an event.
    InitError,
    /// No answer within the function's timeout.
    Timeout,
    /// The memory limit was exceeded.
    OutOfMemory,
    /// The function wrote outside /tmp, on the read-only filesystem.
    WriteOutsideTmp,
    /// The handler answered with an error.
    HandlerError,
    /// The image was not built: nothing could run.
    BuildFailed,
}

/// One architecture's local invocation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LocalResult {
    pub platform: Platform,
    /// The image invoked, by id.
    pub image: String,
    pub passed: bool,
    pub init_ms: Option<u64>,
    pub invoke_ms: Option<u64>,
    /// The whole local run: the sandbox created, started, invoked, stopped and removed.
    pub total_ms: u64,
    /// The response payload, when the function answered.
    pub response: Option<String>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    /// The last 4 KB of what the container printed.
    pub output: String,
    pub failure: Option<FailureKind>,
    /// The failure, in a sentence.
    pub reason: Option<String>,
}

impl LocalResult {
    /// Nothing known yet of `image`'s run.
    fn new(platform: Platform, image: &str) -> Self {
        LocalResult {
            platform,
            image: image.to_string(),
            passed: false,
            init_ms: None,
            invoke_ms: None,
            total_ms: 0,
            response: None,
            error_type: None,
            error_message: None,
            output: String::new(),
            failure: None,
            reason: None,
        }
    }

    /// An image whose sandbox could not be given what it needs to start.
    pub fn not_started(platform: Platform, image: &str, reason: String) -> Self {
        LocalResult {
            failure: Some(FailureKind::InitError),
            reason: Some(reason),
            ..LocalResult::new(platform, image)
        }
    }

    /// An architecture whose image could not be built.
    pub fn not_built(platform: Platform, reason: String) -> Self {
        LocalResult {
            failure: Some(FailureKind::BuildFailed),
            reason: Some(reason),
            ..LocalResult::new(platform, "")
        }
    }
}

/// Invokes `image` once with `event` in a Lambda-like sandbox on `engine`.
pub async fn invoke_once(
    engine: &Engine,
    image: &str,
    platform: Platform,
    event: &str,
    settings: &LocalSettings,
) -> LocalResult {
    let mut result = LocalResult::new(platform, image);
    let begun = Instant::now();
    let instance = match Instance::start(engine, image, platform, settings).await {
        Ok(i) => i,
        Err(e) => {
            result.failure = Some(match &e {
                StartError::ExecFormat { .. } => FailureKind::ExecFormat,
                // The engine's own refusal to start it, in its words.
                StartError::Sandbox(m) if m.contains("exec format error") => {
                    FailureKind::ExecFormat
                }
                StartError::Sandbox(_) => FailureKind::InitError,
            });
            result.reason = Some(e.to_string());
            return result;
        }
    };
    let outcome = instance
        .invoke(Bytes::from(event.to_string()), settings.timeout)
        .await;
    let state = instance.finish().await;
    result.output = state.output.clone();
    result.init_ms = instance.init_ms();
    match outcome {
        Invocation::Answered(answer, invoke_ms) => {
            result.invoke_ms = Some(invoke_ms);
            match answer {
                Answer::Response(body) => {
                    result.passed = true;
                    result.response = Some(instance.masker.mask(&String::from_utf8_lossy(&body)));
                }
                Answer::Error { error_type, body } => {
                    let body = instance.masker.mask(&String::from_utf8_lossy(&body));
                    let parsed: serde_json::Value =
                        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
                    result.error_type = parsed["errorType"]
                        .as_str()
                        .map(str::to_string)
                        .or(Some(instance.masker.mask(&error_type)));
                    result.error_message = parsed["errorMessage"].as_str().map(str::to_string);
                    result.failure = Some(FailureKind::HandlerError);
                }
            }
        }
        Invocation::TimedOut => result.failure = Some(FailureKind::Timeout),
        Invocation::InitTimedOut => {
            result.failure = Some(FailureKind::InitError);
            result.reason = Some(format!(
                "the runtime did not ask for the event within Lambda's init limit of {} s and \
                 the timeout of {} s",
                INIT_LIMIT.as_secs(),
                settings.timeout.as_secs()
            ));
        }
        Invocation::Exited(code) => {
            result.failure = Some(FailureKind::InitError);
            result.reason = Some(format!(
                "the runtime exited with code {code} before answering"
            ));
        }
    }
    if let Some((error_type, body)) = instance.api.init_error() {
        result.failure = Some(FailureKind::InitError);
        result.error_type = Some(instance.masker.mask(&error_type));
        result.error_message = Some(instance.masker.mask(&String::from_utf8_lossy(&body)));
    }
    result.failure = explain(result.failure, state.oom_killed, &state.output);
    result.total_ms = millis(begun.elapsed());
    if result.failure.is_some() {
        result.passed = false;
        if result.reason.is_none() {
            result.reason = Some(describe(&result, settings));
        }
    }
    result
}

/// The verdict comes from what the function did: an answer is a pass,
/// whatever it printed. Only a failure that really happened is explained by
/// what the kernel and the output say (a runtime that died writing to the
/// read-only filesystem, or that could not exec), which outranks the
/// runtime's own account of it.
fn explain(failure: Option<FailureKind>, oom_killed: bool, output: &str) -> Option<FailureKind> {
    let failure = failure?;
    Some(if oom_killed {
        FailureKind::OutOfMemory
    } else if output.contains("Read-only file system") {
        FailureKind::WriteOutsideTmp
    } else if output.contains("exec format error") {
        FailureKind::ExecFormat
    } else {
        failure
    })
}

fn describe(r: &LocalResult, settings: &LocalSettings) -> String {
    match r.failure {
        Some(FailureKind::ExecFormat) => format!(
            "exec format error: the image's entrypoint is not a {} executable",
            r.platform
        ),
        Some(FailureKind::InitError) => format!(
            "the runtime failed to start: {}",
            r.error_message.as_deref().unwrap_or("see its output")
        ),
        Some(FailureKind::Timeout) => format!(
            "no answer within the timeout of {} s",
            settings.timeout.as_secs()
        ),
        Some(FailureKind::OutOfMemory) => format!(
            "killed for using more than its {} MB of memory",
            settings.memory_mb
        ),
        Some(FailureKind::WriteOutsideTmp) => {
            "it wrote outside /tmp: Lambda's filesystem is read-only but for /tmp".to_string()
        }
        Some(FailureKind::BuildFailed) => "the image was not built".to_string(),
        Some(FailureKind::HandlerError) => format!(
            "the handler failed: {}: {}",
            r.error_type.as_deref().unwrap_or("Error"),
            r.error_message.as_deref().unwrap_or("")
        ),
        None => String::new(),
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
