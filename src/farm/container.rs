//! Containers on a node of the farm, in plain values: what the sandbox needs
//! to run an image as Lambda would (create, start, wait, read the output,
//! inspect, kill, remove, find by label, read the head of a file) without
//! touching the Docker API itself.

use super::engine::Engine;
use crate::model::Platform;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, InspectContainerOptions,
    KillContainerOptions, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StartContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use std::collections::HashMap;

/// A container to create.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub platform: Option<Platform>,
    pub env: Vec<String>,
    /// `uid:gid`
    pub user: String,
    /// On the host's network: it reaches servers on the host's loopback.
    pub host_network: bool,
    pub read_only: bool,
    /// Mount point → tmpfs options.
    pub tmpfs: HashMap<String, String>,
    /// The memory limit (and swap: none beyond it), in bytes.
    pub memory_bytes: Option<i64>,
    pub labels: HashMap<String, String>,
    /// Instead of the image's ENTRYPOINT, CMD and WORKDIR, when given.
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
}

/// What an image runs when started.
#[derive(Debug, Clone, Default)]
pub struct ImageCommand {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// How a container is, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerState {
    pub running: bool,
    pub exit_code: i64,
    pub oom_killed: bool,
}

/// The head of a file in a container, or where the link it is points.
pub enum FileHead {
    Link(String),
    Bytes(Vec<u8>),
}

impl Engine {
    /// The ENTRYPOINT and CMD of an image in this engine.
    pub async fn image_command(&self, image: &str) -> Result<ImageCommand, String> {
        let inspect = self
            .docker
            .inspect_image(image)
            .await
            .map_err(|e| format!("cannot inspect {image}: {e}"))?;
        let config = inspect.config.unwrap_or_default();
        Ok(ImageCommand {
            entrypoint: config.entrypoint.unwrap_or_default(),
            cmd: config.cmd.unwrap_or_default(),
        })
    }

    /// Creates a container; its id.
    pub async fn create_container(&self, spec: ContainerSpec) -> Result<String, String> {
        let host_config = HostConfig {
            network_mode: spec.host_network.then(|| "host".to_string()),
            readonly_rootfs: Some(spec.read_only),
            tmpfs: (!spec.tmpfs.is_empty()).then_some(spec.tmpfs),
            memory: spec.memory_bytes,
            memory_swap: spec.memory_bytes,
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image),
            env: Some(spec.env),
            user: Some(spec.user).filter(|u| !u.is_empty()),
            labels: Some(spec.labels),
            host_config: Some(host_config),
            entrypoint: spec.entrypoint,
            cmd: spec.cmd,
            working_dir: spec.working_dir,
            ..Default::default()
        };
        let mut options = CreateContainerOptionsBuilder::default().name(&spec.name);
        if let Some(platform) = spec.platform {
            options = options.platform(platform.docker());
        }
        self.docker
            .create_container(Some(options.build()), body)
            .await
            .map(|created| created.id)
            .map_err(|e| e.to_string())
    }

    pub async fn start_container(&self, id: &str) -> Result<(), String> {
        self.docker
            .start_container(id, None::<StartContainerOptions>)
            .await
            .map_err(|e| e.to_string())
    }

    /// Waits until the container exits; its exit code (-1 when unknown).
    pub async fn wait_container(&self, id: &str) -> i64 {
        let mut wait = self.docker.wait_container(id, None::<WaitContainerOptions>);
        match wait.next().await {
            Some(Ok(w)) => w.status_code,
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            _ => -1,
        }
    }

    /// How the container is; None when it is gone.
    pub async fn container_state(&self, id: &str) -> Option<ContainerState> {
        let inspect = self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .ok()?;
        let state = inspect.state.unwrap_or_default();
        Some(ContainerState {
            running: state.running == Some(true),
            exit_code: state.exit_code.unwrap_or(-1),
            oom_killed: state.oom_killed == Some(true),
        })
    }

    pub async fn kill_container(&self, id: &str) {
        let _ = self
            .docker
            .kill_container(id, None::<KillContainerOptions>)
            .await;
    }

    /// Removes the container, running or not; one already gone is no error.
    pub async fn remove_container(&self, id: &str) {
        let _ = self
            .docker
            .remove_container(
                id,
                Some(RemoveContainerOptionsBuilder::default().force(true).build()),
            )
            .await;
    }

    /// Everything the container printed so far, stdout and stderr.
    pub async fn container_output(&self, id: &str) -> Vec<u8> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut logs = self.docker.logs(id, Some(options));
        let mut output = Vec::new();
        while let Some(Ok(chunk)) = logs.next().await {
            output.extend_from_slice(&chunk.into_bytes());
        }
        output
    }

    /// Hands each line the container prints to `line`, as it prints it,
    /// until the container ends.
    pub fn follow_container_output(&self, id: &str, mut line: impl FnMut(String) + Send + 'static) {
        let docker = self.docker.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            let options = LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .follow(true)
                .build();
            let mut logs = docker.logs(&id, Some(options));
            let mut pending = String::new();
            while let Some(Ok(chunk)) = logs.next().await {
                pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                while let Some((first, rest)) = pending.split_once('\n') {
                    line(first.trim_end().to_string());
                    pending = rest.to_string();
                }
            }
            if !pending.trim().is_empty() {
                line(pending.trim_end().to_string());
            }
        });
    }

    /// The containers, running or not, that carry every label of `labels`
    /// (`key` or `key=value`): their ids and labels.
    pub async fn containers_labelled(
        &self,
        labels: Vec<String>,
    ) -> Vec<(String, HashMap<String, String>)> {
        let filters = HashMap::from([("label", labels)]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        self.docker
            .list_containers(Some(options))
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| Some((c.id?, c.labels.unwrap_or_default())))
            .collect()
    }

    /// The first bytes of the file at `path` in a container, or the target
    /// of the link it is; None when it cannot be read.
    pub async fn file_head(&self, id: &str, path: &str) -> Option<FileHead> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self.docker.download_from_container(id, Some(options));
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
            return Some(FileHead::Link(target.to_string_lossy().into_owned()));
        }
        let mut head = [0u8; 128];
        let n = std::io::Read::read(&mut entry, &mut head).ok()?;
        Some(FileHead::Bytes(head[..n].to_vec()))
    }
}
