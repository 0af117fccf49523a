//! One platform's image, from its build to the registry: built on its
//! engine, checked against Lambda's size limit, invoked locally as Lambda
//! would, held at the gate until every platform passed, pushed, and read
//! back through the registry API.

use super::Lazy;
use crate::config::{BuildConfig, Platform};
use crate::error::PlatformError;
use crate::farm::context::BuildContext;
use crate::farm::engine::Engine;
use crate::farm::push;
use crate::farm::{self, BuildSpec};
use crate::progress::{PlatformEvent, Progress};
use crate::registry::ecr::Repository;
use crate::registry::session::RegistrySession;
use crate::registry::{self, ImageRef};
use crate::report::ImageReport;
use crate::sandbox::{self, Gate, LocalCheck};
use std::collections::BTreeMap;

/// What one platform's build is told, named `tag` in its engine.
pub(crate) fn build_spec(
    config: &BuildConfig,
    context: &BuildContext,
    platform: Platform,
    tag: String,
) -> BuildSpec {
    BuildSpec {
        platform,
        context: context.clone(),
        build_args: config.build_args.clone(),
        target: config.target.clone(),
        labels: labels(config),
        tag,
    }
}

/// The OCI labels every image carries.
fn labels(config: &BuildConfig) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([(
        "org.opencontainers.image.revision".to_string(),
        config.sha.to_string(),
    )]);
    if let Some(source) = &config.source_url {
        labels.insert(
            "org.opencontainers.image.source".to_string(),
            source.clone(),
        );
    }
    labels
}

pub(super) async fn reuse_image(
    session: &RegistrySession<'_>,
    repository: &Repository,
    image: &ImageRef,
    platform: Platform,
    progress: &Progress,
) -> Result<ImageReport, PlatformError> {
    let verified = session.reader().await.verify(image, platform).await?;
    progress.platform(
        platform,
        PlatformEvent::Reused {
            digest: verified.digest.clone(),
        },
    );
    Ok(image_report(
        repository, image, platform, verified, None, true, None, 0.0, 0.0,
    ))
}

/// How long each platform's build and push may take.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub(super) build: std::time::Duration,
    pub(super) push: std::time::Duration,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn ship_image(
    engine: &Engine,
    spec: &BuildSpec,
    check: Option<(&LocalCheck, &Gate)>,
    limits: Limits,
    session: &RegistrySession<'_>,
    repository: &Lazy<'_>,
    image: &ImageRef,
    progress: &Progress,
) -> Result<ImageReport, PlatformError> {
    let platform = spec.platform;
    // An image Lambda would refuse fails here, before any platform pushes.
    let built = farm::build_within(engine, spec, limits.build, progress)
        .await
        .map_err(PlatformError::from)
        .and_then(|b| {
            registry::check_size(platform, b.size)?;
            Ok(b)
        });
    let mut local_result = None;
    if let Some((check, gate)) = check {
        if let Ok(b) = &built {
            if engine.local {
                progress.stage(&format!(
                    "{platform}: invoking the image locally, as Lambda would"
                ));
                let r = sandbox::invoke_once(
                    engine,
                    &b.image_id,
                    platform,
                    &check.event,
                    &check.settings(platform),
                )
                .await;
                progress.stage(&format!(
                    "{platform}: local smoke test {}",
                    if r.passed {
                        "passed".to_string()
                    } else {
                        format!("FAILED: {}", r.reason.as_deref().unwrap_or(""))
                    }
                ));
                local_result = Some(r);
            } else {
                progress.stage(&format!(
                    "{platform}: no local smoke test: {} is not an engine on this host",
                    engine.name
                ));
            }
        }
        let ok = built.is_ok() && local_result.as_ref().is_none_or(|r| r.passed);
        let all_ok = gate.pass(ok).await;
        if let Some(r) = local_result.as_ref().filter(|r| !r.passed) {
            return Err(PlatformError::LocalSmoke(Box::new(r.clone())));
        }
        if ok && !all_ok {
            return Err(PlatformError::Held(platform));
        }
    }
    let built = built?;
    let repository = repository.get().await.map_err(PlatformError::Repository)?;
    let pushing =
        push::push_with_retry(engine, platform, &built.image_id, image, session, progress);
    let push_seconds = tokio::time::timeout(limits.push, pushing)
        .await
        .map_err(|_| push::PushError {
            platform,
            target: image.to_string(),
            engine: engine.name.clone(),
            message: format!(
                "the push did not finish within --push-timeout ({} s)",
                limits.push.as_secs()
            ),
        })??;
    // Read back with the session's credentials as they are now: a push may
    // have renewed them.
    let verified = session.reader().await.verify(image, platform).await?;
    progress.platform(
        platform,
        PlatformEvent::Pushed {
            digest: verified.digest.clone(),
            seconds: push_seconds,
        },
    );
    let mut report = image_report(
        &repository,
        image,
        platform,
        verified,
        Some(built.size),
        false,
        Some(engine.name.clone()),
        built.seconds,
        push_seconds,
    );
    report.local_smoke = local_result;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn image_report(
    repository: &Repository,
    image: &ImageRef,
    platform: Platform,
    verified: registry::manifest::VerifiedImage,
    size: Option<u64>,
    reused: bool,
    engine: Option<String>,
    build_seconds: f64,
    push_seconds: f64,
) -> ImageReport {
    ImageReport {
        platform,
        architecture: platform.lambda_arch(),
        image_uri: format!("{}:{}", repository.uri, image.tag),
        deploy_uri: format!("{}@{}", repository.uri, verified.digest),
        pushed_to: image.to_string(),
        tag: image.tag.clone(),
        digest: verified.digest,
        media_type: verified.media_type,
        compressed_size: verified.compressed_size,
        size,
        reused,
        engine,
        build_seconds,
        push_seconds,
        local_smoke: None,
    }
}
