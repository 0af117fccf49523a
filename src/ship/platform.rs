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
use crate::farm::{self, BuildSpec, BuiltImage};
use crate::progress::{PlatformEvent, Progress};
use crate::registry::ecr::Repository;
use crate::registry::session::RegistrySession;
use crate::registry::{self, ImageRef};
use crate::report::ImageReport;
use crate::sandbox::{self, Gate, LocalCheck, LocalResult};
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
        cache_from: Vec::new(),
        registry_auth: None,
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
    Ok(image_report(repository, image, platform, verified))
}

/// The inputs digest of a build (`farm::inputs`), read off the async threads.
pub(super) async fn inputs_digest(spec: &BuildSpec) -> Result<String, PlatformError> {
    let owned = spec.clone();
    let unreadable = |message: String| PlatformError::Inputs {
        platform: spec.platform,
        message,
    };
    tokio::task::spawn_blocking(move || crate::farm::inputs::digest(&owned))
        .await
        .map_err(|e| unreadable(e.to_string()))?
        .map_err(|e| unreadable(e.to_string()))
}

/// An earlier image built from the same inputs becomes this commit's image:
/// tagged, not built, once every platform of the run has passed.
pub(super) async fn reuse_unchanged(
    platform: Platform,
    same: &super::cache::Found,
    gate: Option<&Gate>,
    session: &RegistrySession<'_>,
    repository: &Repository,
    image: &ImageRef,
    progress: &Progress,
) -> Result<ImageReport, PlatformError> {
    progress.say(&format!(
        "{platform}: nothing that reaches the image changed since {}: it is tagged {}, not built",
        same.why, image.tag
    ));
    if let Some(gate) = gate
        && !gate.pass(true).await
    {
        return Err(PlatformError::Held(platform));
    }
    session
        .reader()
        .await
        .retag(&same.image, &image.tag)
        .await?;
    let mut report = reuse_image(session, repository, image, platform, progress).await?;
    report.unchanged_since = Some(same.image.to_string());
    Ok(report)
}

/// How long each platform's build and push may take.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub(super) build: std::time::Duration,
    pub(super) push: std::time::Duration,
}

/// Where a platform's images go and who hears of it: what the steps that
/// build, push and export share.
#[derive(Clone, Copy)]
pub(super) struct Destination<'a> {
    pub(super) session: &'a RegistrySession<'a>,
    pub(super) repository: &'a Lazy<'a>,
    pub(super) limits: Limits,
    pub(super) progress: &'a Progress,
}

pub(super) async fn ship_image(
    engine: &Engine,
    built: Result<farm::BuiltImage, farm::BuildError>,
    spec: &BuildSpec,
    check: Option<(&LocalCheck, &Gate)>,
    to: Destination<'_>,
    image: &ImageRef,
) -> Result<ImageReport, PlatformError> {
    let Destination {
        session,
        repository,
        progress,
        ..
    } = to;
    let platform = spec.platform;
    // An image Lambda would refuse fails here, before any platform pushes.
    let built = built.map_err(PlatformError::from).and_then(|b| {
        registry::check_size(platform, b.size)?;
        Ok(b)
    });
    let Some((check, gate)) = check else {
        let built = built?;
        let repository = repository.get().await.map_err(PlatformError::Repository)?;
        let push_seconds = push_within(engine, &built, to, image).await?;
        return published(to, &repository, image, &built, engine, push_seconds, None).await;
    };

    // While the image runs locally, its layers go up under a staging tag:
    // only its `<sha>-<arch>` tag waits for every platform to pass.
    let staging = ImageRef {
        tag: staging_tag(&image.tag),
        ..image.clone()
    };
    let (local_result, staged) = match &built {
        Ok(b) => {
            let staging_push = async {
                repository.get().await.map_err(PlatformError::Repository)?;
                push_within(engine, b, to, &staging).await
            };
            let (local, staged) = tokio::join!(local_run(engine, b, check, progress), staging_push);
            (local, Some(staged))
        }
        Err(_) => (None, None),
    };
    let ok = built.is_ok()
        && local_result.as_ref().is_none_or(|r| r.passed)
        && staged.as_ref().is_some_and(Result::is_ok);
    let all_ok = gate.pass(ok).await;
    if !(ok && all_ok) {
        if matches!(staged, Some(Ok(_))) {
            discard(session, repository, &staging, progress).await;
        }
        if let Some(r) = local_result.filter(|r| !r.passed) {
            return Err(PlatformError::LocalSmoke(Box::new(r)));
        }
        built?;
        if let Some(Err(e)) = staged {
            return Err(e);
        }
        return Err(PlatformError::Held(platform));
    }
    let (built, staged_seconds) = match (built, staged) {
        (Ok(b), Some(Ok(seconds))) => (b, seconds),
        _ => return Err(PlatformError::Held(platform)),
    };
    let started = std::time::Instant::now();
    session.reader().await.retag(&staging, &image.tag).await?;
    if repository.on_ecr {
        // The image keeps its `<sha>-<arch>` tag: only the staging tag goes.
        if let Err(e) = repository
            .ecr
            .untag(repository.name.as_str(), &staging.tag)
            .await
        {
            progress.say(&format!("{platform}: the staging tag {staging} stays: {e}"));
        }
    }
    let repository = repository.get().await.map_err(PlatformError::Repository)?;
    let push_seconds = staged_seconds + started.elapsed().as_secs_f64();
    published(
        to,
        &repository,
        image,
        &built,
        engine,
        push_seconds,
        local_result,
    )
    .await
}

/// A staging tag of this run's own: a run cancelled mid-push leaves its
/// staging tag behind, and in an IMMUTABLE repository a re-run of the same
/// commit could never push under that name again.
pub(super) fn staging_tag(tag: &str) -> String {
    let run = uuid::Uuid::new_v4().simple().to_string();
    format!("{tag}-staging-{}", &run[..8])
}

/// The image run once in a sandbox of its engine, as Lambda would run it,
/// when that engine is on this host.
async fn local_run(
    engine: &Engine,
    built: &BuiltImage,
    check: &LocalCheck,
    progress: &Progress,
) -> Option<LocalResult> {
    let platform = built.platform;
    if !engine.local {
        progress.say(&format!(
            "{platform}: no local smoke test: {} is not an engine on this host",
            engine.name
        ));
        return None;
    }
    progress.say(&format!(
        "{platform}: invoking the image locally, as Lambda would"
    ));
    let r = match check.settings_now(platform).await {
        Ok(settings) => {
            sandbox::invoke_once(engine, &built.image_id, platform, &check.event, &settings).await
        }
        Err(reason) => LocalResult::not_started(platform, &built.image_id, reason),
    };
    progress.say(&format!(
        "{platform}: local smoke test {}",
        if r.passed {
            "passed".to_string()
        } else {
            format!("FAILED: {}", r.reason.as_deref().unwrap_or(""))
        }
    ));
    Some(r)
}

/// The push of a built image as `target`, bounded by `--push-timeout`.
pub(super) async fn push_within(
    engine: &Engine,
    built: &BuiltImage,
    to: Destination<'_>,
    target: &ImageRef,
) -> Result<f64, PlatformError> {
    let (session, progress, limits) = (to.session, to.progress, to.limits);
    let platform = built.platform;
    let pushing =
        push::push_with_retry(engine, platform, &built.image_id, target, session, progress);
    let seconds = tokio::time::timeout(limits.push, pushing)
        .await
        .map_err(|_| push::PushError {
            platform,
            target: target.to_string(),
            engine: engine.name.clone(),
            message: format!(
                "the push did not finish within --push-timeout ({} s)",
                limits.push.as_secs()
            ),
        })??;
    Ok(seconds)
}

/// A staged image that is not to be published, taken out of the registry:
/// on ECR by its staging tag; elsewhere by digest, where the registry
/// allows deletes.
async fn discard(
    session: &RegistrySession<'_>,
    repository: &Lazy<'_>,
    staging: &ImageRef,
    progress: &Progress,
) {
    let removed = if repository.on_ecr {
        repository
            .ecr
            .untag(repository.name.as_str(), &staging.tag)
            .await
            .map_err(|e| e.to_string())
    } else {
        let reader = session.reader().await;
        match reader.digest(staging).await {
            Ok(Some(digest)) => reader.delete(&staging.at(&digest)).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    };
    if let Err(e) = removed {
        progress.say(&format!(
            "the staged image {staging} could not be removed ({e}); it has no <sha>-<arch> tag \
             and no function runs it"
        ));
    }
}

/// The image as the registry holds it under its tag, read back and reported.
async fn published(
    to: Destination<'_>,
    repository: &Repository,
    image: &ImageRef,
    built: &BuiltImage,
    engine: &Engine,
    push_seconds: f64,
    local_smoke: Option<LocalResult>,
) -> Result<ImageReport, PlatformError> {
    let (session, progress) = (to.session, to.progress);
    let platform = built.platform;
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
    Ok(ImageReport {
        reused: false,
        size: Some(built.size),
        engine: Some(engine.name.clone()),
        engine_version: Some(format!(
            "Docker Engine API {} on {}",
            engine.api_version, engine.arch
        )),
        build_seconds: built.seconds,
        push_seconds,
        local_smoke,
        ..image_report(repository, image, platform, verified)
    })
}
/// The report of an image the registry holds under its tag, as reused:
/// what built or pushed it sets its own fields over this.
fn image_report(
    repository: &Repository,
    image: &ImageRef,
    platform: Platform,
    verified: registry::manifest::VerifiedImage,
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
        size: None,
        reused: true,
        unchanged_since: None,
        inputs: verified
            .labels
            .get(crate::farm::inputs::INPUTS_LABEL)
            .cloned(),
        engine: None,
        engine_version: None,
        signed: None,
        build_seconds: 0.0,
        push_seconds: 0.0,
        local_smoke: None,
        scan: None,
    }
}
