//! One function instance: its sandbox container, started as Lambda starts
//! one, and its Runtime API.

use super::environment::{self, Masker};
use super::metadata::Metadata;
use super::owner::{LABEL_HOST, LABEL_OWNER, LABEL_SANDBOX, host_id, owner_id};
use super::runtime_api::{Answer, Queued, RuntimeApi};
use super::{LocalSettings, OUTPUT_TAIL, SANDBOX_USER, millis};
use crate::farm::container::{ContainerSpec, FileHead, ImageCommand};
use crate::farm::engine::Engine;
use crate::model::Platform;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long Lambda lets a runtime initialise before the first event.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Why an instance did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The entrypoint is an executable of another architecture: Lambda has
    /// no emulator and fails it with exec format error.
    #[error(
        "exec format error: the entrypoint {program} is a {machine} executable, and Lambda runs \
         a {} function on {} only",
        .platform.lambda_arch(),
        .platform.machine()
    )]
    ExecFormat {
        program: String,
        machine: String,
        platform: Platform,
    },
    /// The Runtime API, the image or the engine failed it.
    #[error("{0}")]
    Sandbox(String),
}

/// How one invocation ended.
pub enum Invocation {
    /// The runtime answered, after this many milliseconds.
    Answered(Answer, u64),
    TimedOut,
    /// The runtime did not ask for the event within Lambda's init limit.
    InitTimedOut,
    /// The runtime exited, with this code, before answering.
    Exited(i64),
}

/// What a finished container left.
pub(super) struct Finished {
    pub(super) oom_killed: bool,
    pub(super) output: String,
}

/// A running function instance: its container and its Runtime API.
pub struct Instance {
    engine: Engine,
    container: String,
    pub api: std::sync::Arc<RuntimeApi>,
    started: Instant,
    /// Hides the credentials it was given in what it prints and answers.
    pub masker: Masker,
}

impl Instance {
    pub async fn start(
        engine: &Engine,
        image: &str,
        platform: Platform,
        settings: &LocalSettings,
    ) -> Result<Instance, StartError> {
        let arn = format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            settings.region, settings.function_name
        );
        let metadata = Metadata::new(&settings.region);
        let api = RuntimeApi::start(arn, metadata)
            .await
            .map_err(|e| StartError::Sandbox(format!("cannot start the Runtime API: {e}")))?;
        // What Lambda runs: the image's command, or the function's ImageConfig.
        let own = engine
            .image_command(image)
            .await
            .map_err(StartError::Sandbox)?;
        let overrides = &settings.image_config;
        let command = ImageCommand {
            entrypoint: overrides.entry_point.clone().unwrap_or(own.entrypoint),
            cmd: overrides.command.clone().unwrap_or(own.cmd),
        };
        let handler = command.cmd.first().cloned().unwrap_or_default();
        let runtime_api = api.addr.to_string();
        let log_stream = environment::log_stream_name();
        let env = environment::lambda_environment(
            settings,
            &environment::Sandbox {
                runtime_api: &runtime_api,
                metadata_token: api.metadata_token(),
                handler: &handler,
                log_stream: &log_stream,
            },
        );
        let bytes = i64::try_from(settings.memory_mb.min(10_240) * 1024 * 1024).unwrap_or(i64::MAX);
        let spec = ContainerSpec {
            name: format!("lambda-ship-local-{}", uuid::Uuid::new_v4().simple()),
            image: image.to_string(),
            platform: Some(platform),
            env,
            user: SANDBOX_USER.to_string(),
            // The runtime reaches our Runtime API on this host's loopback.
            host_network: true,
            read_only: true,
            tmpfs: HashMap::from([(
                "/tmp".to_string(),
                format!("rw,size={}m,mode=1777", settings.ephemeral_storage_mb),
            )]),
            memory_bytes: Some(bytes),
            labels: HashMap::from([
                (LABEL_SANDBOX.to_string(), "true".to_string()),
                (LABEL_OWNER.to_string(), owner_id()),
                (LABEL_HOST.to_string(), host_id()),
            ]),
            entrypoint: overrides.entry_point.clone(),
            cmd: overrides.command.clone(),
            working_dir: overrides.working_directory.clone(),
        };
        let container = engine
            .create_container(spec)
            .await
            .map_err(|e| StartError::Sandbox(format!("cannot create the sandbox: {e}")))?;
        let instance = Instance {
            engine: engine.clone(),
            container,
            api: std::sync::Arc::new(api),
            started: Instant::now(),
            masker: Masker::of(settings),
        };
        // Lambda has no emulator: an entrypoint for another architecture fails
        // there with exec format error, even where this host's QEMU would run it.
        let program = if command.entrypoint.is_empty() {
            command.cmd.first().cloned()
        } else {
            command.entrypoint.first().cloned()
        };
        if let Some(program) = program
            && let Some(machine) = executable_machine(engine, &instance.container, &program).await
            && machine != platform.machine()
        {
            instance.remove().await;
            return Err(StartError::ExecFormat {
                program,
                machine,
                platform,
            });
        }
        if let Err(e) = engine.start_container(&instance.container).await {
            instance.remove().await;
            return Err(StartError::Sandbox(format!(
                "the sandbox did not start: {e}"
            )));
        }
        Ok(instance)
    }

    /// Invokes it once. The timeout runs from the event's delivery, as on
    /// Lambda. A runtime that has not yet asked for an event has Lambda's
    /// init limit from its start, and then, as Lambda retries a slow init
    /// within the first invocation, the function's timeout more.
    pub async fn invoke(&self, event: Bytes, timeout: Duration) -> Invocation {
        let queued = Instant::now();
        let initialised = self.api.first_next().is_some();
        let Queued {
            delivered, answer, ..
        } = self.api.invoke(event, timeout);
        let answered = async {
            if initialised {
                // Behind another invocation: the runtime takes it when free,
                // or its container ends, which the select below sees.
                let _ = delivered.await;
            } else {
                let limit = tokio::time::Instant::from_std(self.started + INIT_LIMIT + timeout);
                if tokio::time::timeout_at(limit, delivered).await.is_err() {
                    return Invocation::InitTimedOut;
                }
            }
            match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(a)) => {
                    let since = self.api.first_next().map_or(queued, |t| t.max(queued));
                    Invocation::Answered(a, millis(since.elapsed()))
                }
                Ok(Err(_)) | Err(_) => Invocation::TimedOut,
            }
        };
        let exited = self.engine.wait_container(&self.container);
        tokio::select! {
            outcome = answered => outcome,
            code = exited => Invocation::Exited(code),
        }
    }

    /// Follows what the container prints, line by line, as it prints it.
    pub fn follow_output(&self, mut line: impl FnMut(String) + Send + 'static) {
        let masker = self.masker.clone();
        self.engine
            .follow_container_output(&self.container, move |l| line(masker.mask(&l)));
    }

    /// The container's exit code once it has exited; None while it runs. A
    /// container that is gone (removed by hand) counts as exited.
    pub async fn exit_code(&self) -> Option<i64> {
        match self.engine.container_state(&self.container).await {
            Some(state) if state.running => None,
            Some(state) => Some(state.exit_code),
            None => Some(-1),
        }
    }

    pub fn init_ms(&self) -> Option<u64> {
        self.api
            .first_next()
            .map(|t| millis(t.duration_since(self.started)))
    }

    /// Stops the container, keeps what it printed and how it ended, removes it.
    pub(super) async fn finish(&self) -> Finished {
        self.engine.kill_container(&self.container).await;
        let oom_killed = self
            .engine
            .container_state(&self.container)
            .await
            .is_some_and(|s| s.oom_killed);
        let output = self.engine.container_output(&self.container).await;
        self.remove().await;
        // Masked whole, then cut: a secret across the cut stays hidden.
        let text = self.masker.mask(&String::from_utf8_lossy(&output));
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
        self.engine.remove_container(&self.container).await;
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
        let head = match engine.file_head(container, &path).await? {
            FileHead::Link(target) => {
                path = if target.starts_with('/') {
                    target
                } else {
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    format!("{dir}/{target}")
                };
                continue;
            }
            FileHead::Bytes(head) => head,
        };
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
