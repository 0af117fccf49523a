//! Tags an image in the engine that built it and pushes it from there.

use super::{ImageRef, RegistryCredentials};
use crate::build::engine::Engine;
use crate::config::Platform;
use crate::progress::{PlatformEvent, Progress};
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
#[error("{platform}: pushing {target} from {engine} failed: {message}")]
pub struct PushError {
    pub platform: Platform,
    pub target: String,
    pub engine: String,
    pub message: String,
}

/// Pushes `image_id` as `target`; returns how long the push took, in seconds.
pub async fn push(
    engine: &Engine,
    platform: Platform,
    image_id: &str,
    target: &ImageRef,
    credentials: &RegistryCredentials,
    progress: &Progress,
) -> Result<f64, PushError> {
    let started = Instant::now();
    let fail = |message: String| PushError {
        platform,
        target: target.to_string(),
        engine: engine.name.clone(),
        message,
    };
    engine
        .docker
        .tag_image(
            image_id,
            Some(
                TagImageOptionsBuilder::default()
                    .repo(&target.name())
                    .tag(&target.tag)
                    .build(),
            ),
        )
        .await
        .map_err(|e| fail(format!("tagging failed: {e}")))?;

    let auth = DockerCredentials {
        username: Some(credentials.username.clone()),
        password: Some(credentials.password.expose_secret().to_string()),
        serveraddress: Some(target.registry.clone()),
        ..Default::default()
    };
    let options = PushImageOptionsBuilder::default().tag(&target.tag).build();
    let mut stream = engine
        .docker
        .push_image(&target.name(), Some(options), Some(auth));

    // The engine reports bytes per layer, but bollard's PushImageInfo drops the
    // layer id: layers are told apart by their size, which is close enough for
    // a progress bar.
    let mut layers: HashMap<u64, u64> = HashMap::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| fail(push_message(e)))?;
        if info.status.as_deref() != Some("Pushing") {
            continue;
        }
        let Some(detail) = info.progress_detail else {
            continue;
        };
        let total = detail
            .total
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(0);
        let current = detail
            .current
            .and_then(|c| u64::try_from(c).ok())
            .unwrap_or(0);
        if total == 0 {
            continue;
        }
        layers.insert(total, current.min(total));
        let done = layers.values().sum();
        let total = layers.keys().sum();
        progress.platform(platform, PlatformEvent::Pushing { done, total });
    }
    Ok(started.elapsed().as_secs_f64())
}

fn push_message(e: bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerStreamError { error } => {
            if error.contains("tag invalid") || error.contains("already exists") {
                format!(
                    "{error}. The tag exists in an IMMUTABLE repository: a pushed commit \
                     cannot be pushed again; run without --force-rebuild to reuse it"
                )
            } else {
                error
            }
        }
        other => other.to_string(),
    }
}
