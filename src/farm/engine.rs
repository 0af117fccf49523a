//! One Docker engine of the build farm: how to reach it, what it is, and
//! whether it can build a platform.

use crate::model::{Endpoint, Platform};
use bollard::{API_DEFAULT_VERSION, Docker};
use std::path::Path;
use std::time::Duration;

/// How long any single request to an engine may wait for its answer to start:
/// long enough for a large context upload, short of a CI job's own limit.
const REQUEST_TIMEOUT_SECS: u64 = 3600;
/// How long reaching an engine may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the Docker engine at {endpoint}: {reason}. Start it, or fix the \
         endpoint (--builder PLATFORM=ENDPOINT, or DOCKER_HOST for the local engine)"
    )]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "the engine at {endpoint} runs on {engine_arch} and has no emulation registered for \
         {platform}. Enable QEMU on that host (Debian/Ubuntu: apt-get install qemu-user-static \
         binfmt-support; or docker run --privileged --rm tonistiigi/binfmt --install arm64,amd64), \
         or name a native builder: --builder {platform}=ssh://user@host"
    )]
    NoEmulation {
        endpoint: String,
        engine_arch: String,
        platform: Platform,
    },
}

impl EngineError {
    /// One engine of a pool, in a line: `unix:///… unreachable: …`.
    pub fn short(&self) -> String {
        match self {
            EngineError::Unreachable { endpoint, reason } => {
                format!("{endpoint} unreachable: {reason}")
            }
            EngineError::NoEmulation {
                endpoint, platform, ..
            } => format!("{endpoint} cannot build {platform}: no emulation for it"),
        }
    }
}

/// Whether an engine can build a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Native,
    /// Through a QEMU handler registered in this host's binfmt_misc.
    Emulated,
    /// A remote engine of another architecture: its emulation cannot be seen from here.
    Unknown,
    No,
}

/// An engine behind `ssh://[USER@]HOST[:PORT]`.
fn ssh_engine(endpoint: &str) -> Result<Docker, bollard::errors::Error> {
    let target =
        super::ssh::SshTarget::parse(endpoint).ok_or_else(|| bollard::errors::Error::IOError {
            err: std::io::Error::other("not an ssh://[USER@]HOST[:PORT] address"),
        })?;
    super::ssh::connect(&target, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
}

/// A connected engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub docker: Docker,
    /// What the user calls it, for messages.
    pub name: String,
    pub api_version: String,
    /// The engine's own architecture, as it reports it (`x86_64`, `aarch64`).
    pub arch: String,
    /// Whether the engine runs on this host, so that this kernel's binfmt applies.
    pub local: bool,
}

impl Engine {
    /// Whether the engine answers a ping now.
    pub async fn answers(&self) -> bool {
        self.docker.ping().await.is_ok()
    }

    /// When this engine last built an image under the local name `name`
    /// with a tag ending in `suffix` (its architecture), as the engine says
    /// (seconds since the epoch); None when it holds none, or does not say.
    pub async fn last_built(&self, name: &str, suffix: &str) -> Option<i64> {
        let filters = std::collections::HashMap::from([("reference", vec![name.to_string()])]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let images = self.docker.list_images(Some(options)).await.ok()?;
        images
            .iter()
            .filter(|i| i.repo_tags.iter().any(|t| t.ends_with(suffix)))
            .map(|i| i.created)
            .max()
    }

    pub async fn connect(endpoint: &Endpoint) -> Result<Engine, EngineError> {
        let (name, local) = match endpoint {
            Endpoint::Local => match std::env::var("DOCKER_HOST") {
                Ok(host) if !host.is_empty() => (host.clone(), host.starts_with("unix://")),
                _ => ("unix:///var/run/docker.sock".to_string(), true),
            },
            other => (other.to_string(), matches!(other, Endpoint::Unix(_))),
        };
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: name.clone(),
            reason,
        };
        let docker = match endpoint {
            Endpoint::Local if name.starts_with("ssh://") => ssh_engine(&name),
            Endpoint::Local => Docker::connect_with_defaults(),
            Endpoint::Unix(path) => Docker::connect_with_socket(
                &path.to_string_lossy(),
                REQUEST_TIMEOUT_SECS,
                API_DEFAULT_VERSION,
            ),
            Endpoint::Tcp(addr) => connect_tcp(addr),
            Endpoint::Ssh(addr) => ssh_engine(addr),
        }
        .map_err(|e| unreachable(e.to_string()))?
        .with_timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS));

        let probe = async {
            let docker = docker.negotiate_version().await?;
            let info = docker.info().await?;
            Ok::<_, bollard::errors::Error>((docker, info))
        };
        let (docker, info) = tokio::time::timeout(CONNECT_TIMEOUT, probe)
            .await
            .map_err(|_| unreachable(format!("no answer in {}s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| {
                unreachable(if name.starts_with("ssh://") {
                    // ssh has said why on stderr; hyper only saw the pipe close.
                    format!(
                        "ssh opened no session to its docker ({e}); ssh's own message is above: \
                         a key the host refuses, an unknown host key, or no docker CLI there"
                    )
                } else {
                    e.to_string()
                })
            })?;
        Ok(Engine {
            api_version: docker.client_version().to_string(),
            docker,
            name,
            arch: info.architecture.unwrap_or_default(),
            local,
        })
    }

    pub fn support(&self, platform: Platform) -> Support {
        if Platform::from_machine(&self.arch) == Some(platform) {
            Support::Native
        } else if !self.local {
            Support::Unknown
        } else if emulation_registered(Path::new("/proc/sys/fs/binfmt_misc"), platform) {
            Support::Emulated
        } else {
            Support::No
        }
    }

    /// Fails when the engine surely cannot build the platform.
    pub fn check(&self, platform: Platform) -> Result<Support, EngineError> {
        match self.support(platform) {
            Support::No => Err(EngineError::NoEmulation {
                endpoint: self.name.clone(),
                engine_arch: self.arch.clone(),
                platform,
            }),
            s => Ok(s),
        }
    }
}

/// `tcp://host:port`, with mutual TLS from DOCKER_CERT_PATH (or ~/.docker) when
/// DOCKER_TLS_VERIFY is set, as the Docker CLI does.
fn connect_tcp(addr: &str) -> Result<Docker, bollard::errors::Error> {
    let verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
    if !verify {
        return Docker::connect_with_http(addr, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION);
    }
    let certs = std::env::var("DOCKER_CERT_PATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".docker")
        });
    Docker::connect_with_ssl(
        addr,
        &certs.join("key.pem"),
        &certs.join("cert.pem"),
        &certs.join("ca.pem"),
        REQUEST_TIMEOUT_SECS,
        API_DEFAULT_VERSION,
    )
}

/// Whether `dir` (a binfmt_misc mount) has an enabled QEMU handler for the
/// platform, under the name qemu-user-static and tonistiigi/binfmt both use.
pub fn emulation_registered(dir: &Path, platform: Platform) -> bool {
    let entry = dir.join(format!("qemu-{}", platform.machine()));
    std::fs::read_to_string(entry).is_ok_and(|text| text.lines().next() == Some("enabled"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_needs_an_enabled_qemu_handler() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!emulation_registered(dir.path(), Platform::Arm64));
        std::fs::write(
            dir.path().join("qemu-aarch64"),
            "disabled\ninterpreter /x\n",
        )
        .unwrap();
        assert!(!emulation_registered(dir.path(), Platform::Arm64));
        std::fs::write(dir.path().join("qemu-aarch64"), "enabled\ninterpreter /x\n").unwrap();
        assert!(emulation_registered(dir.path(), Platform::Arm64));
        assert!(!emulation_registered(dir.path(), Platform::Amd64));
    }

    #[test]
    fn the_no_emulation_message_says_how_to_fix_it() {
        let msg = EngineError::NoEmulation {
            endpoint: "unix:///var/run/docker.sock".into(),
            engine_arch: "x86_64".into(),
            platform: Platform::Arm64,
        }
        .to_string();
        assert!(
            msg.contains("qemu-user-static") && msg.contains("--builder linux/arm64="),
            "{msg}"
        );
    }
}
