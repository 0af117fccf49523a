//! Runs an image as Lambda would, on the engine that built it, before anything
//! is pushed: the image's own ENTRYPOINT, CMD and WORKDIR, a read-only root
//! filesystem with a writable 512 MB tmpfs /tmp, a non-root user, the
//! function's memory as the memory limit and its timeout as the deadline,
//! Lambda's standard environment, and `AWS_LAMBDA_RUNTIME_API` pointing at
//! lambda-ship's own Runtime API server.

pub mod runtime_api;
pub mod url;

use crate::build::engine::Engine;
use crate::config::Platform;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::StreamExt;
use runtime_api::{Answer, RuntimeApi};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Lambda's user inside the sandbox is not root.
const SANDBOX_USER: &str = "993:990";
/// How much of the container's output a result keeps.
const OUTPUT_TAIL: usize = 4096;

/// The function as Lambda would configure it.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    pub function_name: String,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub region: String,
}

impl Default for LocalSettings {
    fn default() -> Self {
        LocalSettings {
            function_name: "function".to_string(),
            memory_mb: 512,
            timeout: Duration::from_secs(30),
            region: "us-east-1".to_string(),
        }
    }
}

/// The local smoke test a deploy runs between build and push.
#[derive(Debug, Clone)]
pub struct LocalCheck {
    pub event: String,
    /// Each architecture's function settings (its memory and timeout).
    pub settings: std::collections::BTreeMap<Platform, LocalSettings>,
}

impl LocalCheck {
    pub fn settings(&self, platform: Platform) -> LocalSettings {
        self.settings.get(&platform).cloned().unwrap_or_default()
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

/// Invokes `image` once with `event` in a Lambda-like sandbox on `engine`.
pub async fn invoke_once(
    engine: &Engine,
    image: &str,
    platform: Platform,
    event: &str,
    settings: &LocalSettings,
) -> LocalResult {
    let mut result = LocalResult {
        platform,
        image: String::new(),
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
    };
    result.image = image.to_string();
    let begun = Instant::now();
    let instance = match Instance::start(engine, image, platform, settings).await {
        Ok(i) => i,
        Err(e) => {
            result.failure = Some(if e.contains("exec format error") {
                FailureKind::ExecFormat
            } else {
                FailureKind::InitError
            });
            result.reason = Some(e);
            return result;
        }
    };
    let outcome = instance.invoke(event, settings.timeout).await;
    let state = instance.finish().await;
    result.output = state.output.clone();
    result.init_ms = instance.init_ms();
    match outcome {
        Invocation::Answered(answer, invoke_ms) => {
            result.invoke_ms = Some(invoke_ms);
            match answer {
                Answer::Response(body) => {
                    result.passed = true;
                    result.response = Some(String::from_utf8_lossy(&body).into_owned());
                }
                Answer::Error { error_type, body } => {
                    let parsed: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    result.error_type = parsed["errorType"]
                        .as_str()
                        .map(str::to_string)
                        .or(Some(error_type));
                    result.error_message = parsed["errorMessage"].as_str().map(str::to_string);
                    result.failure = Some(FailureKind::HandlerError);
                }
            }
        }
        Invocation::TimedOut => result.failure = Some(FailureKind::Timeout),
        Invocation::Exited(code) => {
            result.failure = Some(FailureKind::InitError);
            result.reason = Some(format!(
                "the runtime exited with code {code} before answering"
            ));
        }
    }
    if let Some((error_type, body)) = instance.api.init_error() {
        result.failure = Some(FailureKind::InitError);
        result.error_type = Some(error_type);
        result.error_message = Some(String::from_utf8_lossy(&body).into_owned());
    }
    // What the kernel and the filesystem say outranks what the runtime made of it.
    if state.oom_killed {
        result.failure = Some(FailureKind::OutOfMemory);
    } else if state.output.contains("Read-only file system") {
        result.failure = Some(FailureKind::WriteOutsideTmp);
    } else if state.output.contains("exec format error") {
        result.failure = Some(FailureKind::ExecFormat);
    }
    result.total_ms = millis(begun.elapsed());
    if result.failure.is_some() {
        result.passed = false;
        if result.reason.is_none() {
            result.reason = Some(describe(&result, settings));
        }
    }
    result
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
        Some(FailureKind::HandlerError) => format!(
            "the handler failed: {}: {}",
            r.error_type.as_deref().unwrap_or("Error"),
            r.error_message.as_deref().unwrap_or("")
        ),
        None => String::new(),
    }
}

enum Invocation {
    Answered(Answer, u64),
    TimedOut,
    Exited(i64),
}

/// What a finished container left.
struct Finished {
    oom_killed: bool,
    output: String,
}

/// A running function instance: its container and its Runtime API.
pub struct Instance {
    engine: Engine,
    container: String,
    pub api: std::sync::Arc<RuntimeApi>,
    started: Instant,
}

impl Instance {
    pub async fn start(
        engine: &Engine,
        image: &str,
        platform: Platform,
        settings: &LocalSettings,
    ) -> Result<Instance, String> {
        let arn = format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            settings.region, settings.function_name
        );
        let api = RuntimeApi::start(arn)
            .await
            .map_err(|e| format!("cannot start the Runtime API: {e}"))?;
        let inspect = engine
            .docker
            .inspect_image(image)
            .await
            .map_err(|e| format!("cannot inspect {image}: {e}"))?;
        let handler = inspect
            .config
            .as_ref()
            .and_then(|c| c.cmd.as_ref())
            .and_then(|cmd| cmd.first().cloned())
            .unwrap_or_default();
        let memory = settings.memory_mb.to_string();
        let env = [
            format!("AWS_LAMBDA_RUNTIME_API={}", api.addr),
            format!("AWS_LAMBDA_FUNCTION_NAME={}", settings.function_name),
            format!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE={memory}"),
            "AWS_LAMBDA_FUNCTION_VERSION=$LATEST".to_string(),
            format!(
                "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/{}",
                settings.function_name
            ),
            "AWS_LAMBDA_LOG_STREAM_NAME=local".to_string(),
            "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand".to_string(),
            format!("AWS_REGION={}", settings.region),
            format!("AWS_DEFAULT_REGION={}", settings.region),
            "AWS_EXECUTION_ENV=AWS_Lambda_Image".to_string(),
            "LAMBDA_TASK_ROOT=/var/task".to_string(),
            "LAMBDA_RUNTIME_DIR=/var/runtime".to_string(),
            format!("_HANDLER={handler}"),
            "TZ=:UTC".to_string(),
        ];
        let bytes = i64::try_from(settings.memory_mb.min(10_240) * 1024 * 1024).unwrap_or(i64::MAX);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            env: Some(env.to_vec()),
            user: Some(SANDBOX_USER.to_string()),
            host_config: Some(HostConfig {
                // The runtime reaches our Runtime API on this host's loopback.
                network_mode: Some("host".to_string()),
                readonly_rootfs: Some(true),
                tmpfs: Some(HashMap::from([(
                    "/tmp".to_string(),
                    "rw,size=512m,mode=1777".to_string(),
                )])),
                memory: Some(bytes),
                memory_swap: Some(bytes),
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("lambda-ship-local-{}", uuid::Uuid::new_v4().simple());
        let options = CreateContainerOptionsBuilder::default()
            .name(&name)
            .platform(platform.docker())
            .build();
        let created = engine
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| format!("cannot create the sandbox: {e}"))?;
        let instance = Instance {
            engine: engine.clone(),
            container: created.id,
            api: std::sync::Arc::new(api),
            started: Instant::now(),
        };
        // Lambda has no emulator: an entrypoint for another architecture fails
        // there with exec format error, even where this host's QEMU would run it.
        let config = inspect.config.unwrap_or_default();
        let program = config
            .entrypoint
            .as_ref()
            .filter(|e| !e.is_empty())
            .or(config.cmd.as_ref())
            .and_then(|e| e.first().cloned());
        if let Some(program) = program
            && let Some(machine) = executable_machine(engine, &instance.container, &program).await
            && machine != platform.machine()
        {
            instance.remove().await;
            return Err(format!(
                "exec format error: the entrypoint {program} is a {machine} executable, and Lambda \
                 runs a {} function on {} only",
                platform.lambda_arch(),
                platform.machine()
            ));
        }
        if let Err(e) = engine
            .docker
            .start_container(
                &instance.container,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
        {
            instance.remove().await;
            return Err(format!("the sandbox did not start: {e}"));
        }
        Ok(instance)
    }

    async fn invoke(&self, event: &str, timeout: Duration) -> Invocation {
        let queued = Instant::now();
        let (_, answer) = self.api.invoke(Bytes::from(event.to_string()), timeout);
        let exited = async {
            let mut wait = self.engine.docker.wait_container(
                &self.container,
                None::<bollard::query_parameters::WaitContainerOptions>,
            );
            match wait.next().await {
                Some(Ok(w)) => w.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                _ => -1,
            }
        };
        tokio::select! {
            answer = tokio::time::timeout(timeout, answer) => match answer {
                Ok(Ok(a)) => {
                    let since = self.api.first_next().map_or(queued, |t| t.max(queued));
                    Invocation::Answered(a, millis(since.elapsed()))
                }
                Ok(Err(_)) | Err(_) => Invocation::TimedOut,
            },
            code = exited => Invocation::Exited(code),
        }
    }

    pub fn init_ms(&self) -> Option<u64> {
        self.api
            .first_next()
            .map(|t| millis(t.duration_since(self.started)))
    }

    /// Stops the container, keeps what it printed and how it ended, removes it.
    async fn finish(&self) -> Finished {
        let _ = self
            .engine
            .docker
            .kill_container(
                &self.container,
                None::<bollard::query_parameters::KillContainerOptions>,
            )
            .await;
        let oom_killed = self
            .engine
            .docker
            .inspect_container(
                &self.container,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.oom_killed)
            .unwrap_or(false);
        let mut logs = self.engine.docker.logs(
            &self.container,
            Some(
                LogsOptionsBuilder::default()
                    .stdout(true)
                    .stderr(true)
                    .build(),
            ),
        );
        let mut output = Vec::new();
        while let Some(Ok(chunk)) = logs.next().await {
            output.extend_from_slice(&chunk.into_bytes());
        }
        self.remove().await;
        let text = String::from_utf8_lossy(&output);
        let start = text.len().saturating_sub(OUTPUT_TAIL);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        Finished {
            oom_killed,
            output: text[start..].to_string(),
        }
    }

    pub async fn remove(&self) {
        let _ = self
            .engine
            .docker
            .remove_container(
                &self.container,
                Some(RemoveContainerOptionsBuilder::default().force(true).build()),
            )
            .await;
    }
}

/// The machine an executable in a container is built for, following symlinks
/// and a script's interpreter: `x86_64`, `aarch64`, or another ELF machine.
async fn executable_machine(engine: &Engine, container: &str, program: &str) -> Option<String> {
    let mut path = program.to_string();
    for _ in 0..8 {
        if !path.starts_with('/') {
            return None;
        }
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
            .path(&path)
            .build();
        let mut stream = engine
            .docker
            .download_from_container(container, Some(options));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            archive.extend_from_slice(&chunk.ok()?);
            // A header and the first bytes of the file are enough.
            if archive.len() > 4096 {
                break;
            }
        }
        let mut tar = tar::Archive::new(archive.as_slice());
        let mut entry = tar.entries().ok()?.next()?.ok()?;
        if let Ok(Some(target)) = entry.link_name() {
            let target = target.to_string_lossy().into_owned();
            path = if target.starts_with('/') {
                target
            } else {
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                format!("{dir}/{target}")
            };
            continue;
        }
        let mut head = [0u8; 128];
        let n = std::io::Read::read(&mut entry, &mut head).ok()?;
        let head = &head[..n];
        if head.starts_with(b"\x7fELF") && head.len() >= 20 {
            let machine = u16::from_le_bytes([head[18], head[19]]);
            return Some(match machine {
                62 => "x86_64".to_string(),
                183 => "aarch64".to_string(),
                other => format!("ELF machine {other}"),
            });
        }
        if let Some(script) = head.strip_prefix(b"#!") {
            let line = String::from_utf8_lossy(script);
            path = line.split_whitespace().next()?.to_string();
            continue;
        }
        return None;
    }
    None
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
