//! Tags an image in the engine that built it and pushes it from there.

use super::engine::Engine;
use crate::model::Platform;
use crate::progress::{PlatformEvent, Progress};
use crate::registry::session::RegistrySession;
use crate::registry::{ImageRef, RegistryCredentials};
use backon::Retryable;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, thiserror::Error)]
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

/// How many times a push is tried.
const PUSH_ATTEMPTS: u32 = 3;

/// Pushes with retries, as CI networks need: a failure the registry or the
/// network may not repeat (a 5xx, a 429, a reset, a timeout) is tried again
/// after a backoff, and an authorization failure (an ECR token that expired
/// during a long run) first renews the session's token, which every later
/// call of the session then uses. Layers the registry already has are not
/// sent again: the engine asks before each.
pub async fn push_with_retry(
    engine: &Engine,
    platform: Platform,
    image_id: &str,
    target: &ImageRef,
    session: &RegistrySession<'_>,
    progress: &Progress,
) -> Result<f64, PushError> {
    let started = Instant::now();
    // An authorization failure renews the token before the next try (and
    // only then: the last failure is not followed by a renewal).
    let needs_token: std::sync::Mutex<Option<PushError>> = std::sync::Mutex::new(None);
    let try_push = || async {
        let expired = needs_token.lock().map(|mut e| e.take()).unwrap_or_default();
        if let Some(err) = expired {
            session.renew().await.map_err(|m| {
                let message = format!("{}; renewing the registry token failed: {m}", err.message);
                (Retry::No, PushError { message, ..err })
            })?;
        }
        let current = session.credentials().await;
        let err = match push(engine, platform, image_id, target, &current, progress).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let kind = classify(&err.message);
        if kind == Retry::WithNewToken
            && let Ok(mut slot) = needs_token.lock()
        {
            *slot = Some(err.clone());
        }
        Err((kind, err))
    };
    try_push
        .retry(crate::retry::tries(
            PUSH_ATTEMPTS,
            Duration::from_secs(1),
            Duration::from_secs(30),
        ))
        .when(|(kind, _)| *kind != Retry::No)
        .notify(|(_, err), pause| {
            progress.say(&format!(
                "{platform}: push failed ({}), trying again in {}s",
                err.message.lines().next().unwrap_or_default(),
                pause.as_secs()
            ));
        })
        .await
        .map(|()| started.elapsed().as_secs_f64())
        .map_err(|(_, err)| err)
}

#[derive(Debug, PartialEq, Eq)]
enum Retry {
    No,
    Yes,
    WithNewToken,
}

/// Whether a push failure is worth another try, from what the engine said.
fn classify(message: &str) -> Retry {
    let m = message.to_ascii_lowercase();
    if m.contains("already exists") || m.contains("tag invalid") || m.contains("immutable") {
        Retry::No
    } else if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("token has expired")
        || m.contains("no basic auth credentials")
    {
        Retry::WithNewToken
    } else if [
        "500",
        "502",
        "503",
        "504",
        "429",
        "toomanyrequests",
        "connection reset",
        "broken pipe",
        "eof",
        "timeout",
        "timed out",
        "connection refused",
    ]
    .iter()
    .any(|t| m.contains(t))
    {
        Retry::Yes
    } else {
        Retry::No
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_failures_are_sorted_for_retry() {
        assert_eq!(
            classify("unauthorized: authentication required"),
            Retry::WithNewToken
        );
        assert_eq!(
            classify("denied: Your authorization token has expired. Reauthenticate"),
            Retry::WithNewToken
        );
        assert_eq!(
            classify("received unexpected HTTP status: 503 Service Unavailable"),
            Retry::Yes
        );
        assert_eq!(classify("write: connection reset by peer"), Retry::Yes);
        assert_eq!(
            classify("tag invalid: The image tag already exists"),
            Retry::No
        );
        assert_eq!(classify("manifest invalid"), Retry::No);
    }
}
