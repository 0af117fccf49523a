//! The build half of the pipeline, in order, and nothing else: check the
//! farm, make sure of the repository, reuse what is pushed already, then build,
//! push and verify each platform concurrently, each on its own engine.

use crate::aws;
use crate::build::context::BuildContext;
use crate::build::engine::{Engine, Support};
use crate::build::{self, BuildSpec};
use crate::cancel::Cancel;
use crate::ci::{CiContext, Env};
use crate::config::{BuildConfig, Endpoint, Platform, TagMutability};
use crate::config::{ConfigError, DeployConfig};
use crate::deploy::{DeployJob, FunctionReport, Lambda};
use crate::error::{Error, PlatformError};
use crate::identity;
use crate::local::{self, Gate, LocalCheck};
use crate::progress::{PlatformEvent, Progress};
use crate::registry::ecr::{Ecr, Repository};
use crate::registry::manifest::RegistryReader;
use crate::registry::{self, ImageRef, RegistryCredentials, push};
use crate::report::{BuildReport, ImageReport};
use crate::report::{Failure, RunReport, Stage};
use futures_util::future::{join_all, try_join_all};
use std::collections::{BTreeMap, HashMap};

pub async fn build(
    config: &BuildConfig,
    sdk: &aws_config::SdkConfig,
    local: Option<&LocalCheck>,
    progress: &Progress,
) -> Result<BuildReport, Error> {
    // Everything that can be wrong with the input is found before anything changes.
    let context = BuildContext::new(&config.context, &config.dockerfile)?;
    let engines = connect_farm(config, progress).await?;

    let ecr = Ecr::new(sdk);
    progress.stage(&format!("ECR repository {}", config.repository));
    let repository = ecr
        .ensure_repository(&config.repository, config.tag_mutability)
        .await?;
    if repository.created {
        progress.stage(&format!("created {}", repository.uri));
    }
    let credentials = tokio::sync::Mutex::new(ecr.credentials().await?);
    let registry = config
        .registry_override
        .clone()
        .unwrap_or_else(|| repository.registry().to_string());
    let reader = RegistryReader::new(&registry, &*credentials.lock().await);
    let target = |platform: Platform| ImageRef {
        registry: registry.clone(),
        repository: repository.name.clone(),
        tag: format!("{}-{}", config.sha, platform.lambda_arch()),
    };

    // A commit pushed already is not built again.
    let existing = try_join_all(config.platforms.iter().map(|&p| {
        let image = target(p);
        let reader = &reader;
        async move { reader.digest(&image).await.map(|d| (p, d)) }
    }))
    .await?;
    let existing: BTreeMap<Platform, String> = existing
        .into_iter()
        .filter_map(|(p, d)| d.map(|d| (p, d)))
        .collect();
    if config.force_rebuild
        && repository.mutability == TagMutability::Immutable
        && !existing.is_empty()
    {
        return Err(immutable_conflict(
            &repository,
            existing.keys().map(|&p| target(p)),
        ));
    }

    let shipped = config
        .platforms
        .iter()
        .filter(|p| config.force_rebuild || !existing.contains_key(p))
        .count();
    let gate = Gate::new(shipped);
    let check = local.map(|c| (c, &gate));
    let jobs = config.platforms.iter().map(|&platform| {
        let image = target(platform);
        let reuse = !config.force_rebuild && existing.contains_key(&platform);
        let engine = &engines[&config.endpoint(platform)];
        let spec = build_spec(
            config,
            &context,
            platform,
            format!("lambda-ship/{}:{}", repository.name, image.tag),
        );
        let (reader, credentials, repository, ecr) = (&reader, &credentials, &repository, &ecr);
        async move {
            if reuse {
                reuse_image(reader, repository, &image, platform, progress).await
            } else {
                ship_image(
                    engine,
                    &spec,
                    check,
                    Limits {
                        build: config.build_timeout,
                        push: config.push_timeout,
                    },
                    reader,
                    (credentials, ecr),
                    repository,
                    &image,
                    progress,
                )
                .await
            }
        }
    });
    let results = join_all(jobs).await;

    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for r in results {
        match r {
            Ok(image) => done.push(image),
            Err(e) => failed.push(e),
        }
    }
    if !failed.is_empty() {
        return Err(Error::Platforms { failed, done });
    }
    Ok(BuildReport {
        commit: config.sha.clone(),
        repository,
        registry,
        images: done,
    })
}

/// Connects to each engine of the farm once, and checks that each can build
/// the platforms it is given.
async fn connect_farm(
    config: &BuildConfig,
    progress: &Progress,
) -> Result<HashMap<Endpoint, Engine>, Error> {
    let mut endpoints: Vec<Endpoint> = config
        .platforms
        .iter()
        .map(|&p| config.endpoint(p))
        .collect();
    endpoints.dedup();
    endpoints.sort_by_key(ToString::to_string);
    endpoints.dedup();
    let connected = try_join_all(
        endpoints
            .into_iter()
            .map(|e| async move { Engine::connect(&e).await.map(|engine| (e, engine)) }),
    )
    .await?;
    let engines: HashMap<Endpoint, Engine> = connected.into_iter().collect();
    for &platform in &config.platforms {
        let engine = &engines[&config.endpoint(platform)];
        let how = match engine.check(platform)? {
            Support::Native => "native",
            Support::Emulated => "QEMU emulation",
            Support::Unknown => "a remote engine of another architecture: needs emulation there",
            Support::No => "no support",
        };
        progress.stage(&format!(
            "{platform} → {} (API {}, {}; {how})",
            engine.name, engine.api_version, engine.arch
        ));
    }
    Ok(engines)
}

/// What one platform's build is told, named `tag` in its engine.
fn build_spec(
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

fn immutable_conflict(repository: &Repository, tags: impl Iterator<Item = ImageRef>) -> Error {
    let tags: Vec<String> = tags.map(|t| t.tag).collect();
    Error::Conflict(format!(
        "--force-rebuild cannot replace {} in {}: the repository's tags are IMMUTABLE, so a \
         pushed tag can never point at another image. Drop --force-rebuild to reuse the pushed \
         images, delete the tags first (aws ecr batch-delete-image --repository-name {} \
         --image-ids imageTag={}), or make the repository's tags MUTABLE",
        tags.join(" and "),
        repository.uri,
        repository.name,
        tags.first().map_or("", String::as_str),
    ))
}

async fn reuse_image(
    reader: &RegistryReader,
    repository: &Repository,
    image: &ImageRef,
    platform: Platform,
    progress: &Progress,
) -> Result<ImageReport, PlatformError> {
    let verified = reader.verify(image, platform).await?;
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
struct Limits {
    build: std::time::Duration,
    push: std::time::Duration,
}

#[allow(clippy::too_many_arguments)]
async fn ship_image(
    engine: &Engine,
    spec: &BuildSpec,
    check: Option<(&LocalCheck, &Gate)>,
    limits: Limits,
    reader: &RegistryReader,
    (credentials, ecr): (&tokio::sync::Mutex<RegistryCredentials>, &Ecr),
    repository: &Repository,
    image: &ImageRef,
    progress: &Progress,
) -> Result<ImageReport, PlatformError> {
    let platform = spec.platform;
    // An image Lambda would refuse fails here, before any platform pushes.
    let built = build::build_within(engine, spec, limits.build, progress)
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
                let r = local::invoke_once(
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
    let refresh = || async { ecr.credentials().await.map_err(|e| e.to_string()) };
    let pushing = push::push_with_retry(
        engine,
        platform,
        &built.image_id,
        image,
        credentials,
        refresh,
        progress,
    );
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
    let verified = reader.verify(image, platform).await?;
    progress.platform(
        platform,
        PlatformEvent::Pushed {
            digest: verified.digest.clone(),
            seconds: push_seconds,
        },
    );
    let mut report = image_report(
        repository,
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

/// The whole pipeline: identity, the functions checked, the images built and
/// pushed, then every function deployed. The report is filled as far as the
/// run got, whether it succeeds or not.
pub async fn deploy(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    cancel: &Cancel,
    progress: &Progress,
) -> (RunReport, Result<(), Error>) {
    let mut report = RunReport {
        ok: false,
        commit: Some(config.build.sha.clone()),
        ci: ci.kind,
        change_number: ci.change_number,
        build: None,
        functions: Vec::new(),
        failure: None,
    };
    let result = deploy_stages(config, ci, env, cancel, progress, &mut report).await;
    match &result {
        Ok(()) => report.ok = true,
        Err((stage, e)) => {
            report.failure = Some(Failure {
                stage: *stage,
                message: e.to_string(),
            })
        }
    }
    (report, result.map_err(|(_, e)| e))
}

async fn deploy_stages(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    cancel: &Cancel,
    progress: &Progress,
    report: &mut RunReport,
) -> Result<(), (Stage, Error)> {
    let region = config.build.region.as_deref();
    let at = |stage: Stage| move |e: Error| (stage, e);

    // Identity: the CI's OIDC token for the role's credentials.
    let sdk = match &config.role {
        Some(role) => {
            let source = identity::token_source(role, ci, env)
                .map_err(|e| (Stage::Configuration, e.into()))?;
            let base = aws::sdk_config(region, config.build.aws_timeout)
                .await
                .map_err(|e| (Stage::Configuration, e.into()))?;
            progress.stage(&format!("assuming {} as {}", role.arn, role.session_name));
            let token = identity::web_identity_token(&source, &role.audience, env)
                .await
                .map_err(|e| (Stage::Identity, e.into()))?;
            let assumed = identity::assume_role(&base, role, &token)
                .await
                .map_err(|e| (Stage::Identity, e.into()))?;
            identity::mask_on_github(ci, &assumed);
            aws::sdk_config_with(region, &assumed, config.build.aws_timeout)
                .await
                .map_err(|e| (Stage::Identity, e.into()))?
        }
        None => aws::sdk_config(region, config.build.aws_timeout)
            .await
            .map_err(|e| (Stage::Configuration, e.into()))?,
    };

    // Every function is read before anything is built: a wrong name fails now.
    let lambda = Lambda::new(&sdk);
    let plans = try_join_all(config.functions.iter().map(|f| lambda.preflight(f)))
        .await
        .map_err(|e| (Stage::Preflight, e.into()))?;
    let mut build_config = config.build.clone();
    if !build_config.platforms_explicit {
        build_config.platforms = Platform::ALL
            .into_iter()
            .filter(|p| plans.iter().any(|f| f.arch == *p))
            .collect();
    }
    for plan in &plans {
        if !build_config.platforms.contains(&plan.arch) {
            let e = ConfigError::MissingPlatform {
                platform: plan.arch,
                function: plan.name.clone(),
            };
            return Err((Stage::Configuration, e.into()));
        }
    }
    let not_deployed = |why: &str| -> Vec<FunctionReport> {
        plans
            .iter()
            .map(|p| FunctionReport {
                error: Some(why.to_string()),
                ..FunctionReport::untouched(p)
            })
            .collect()
    };

    let local_check = config.local_smoke.then(|| LocalCheck {
        event: config
            .smoke
            .as_ref()
            .map_or_else(|| "{}".to_string(), |s| s.event.clone()),
        settings: plans
            .iter()
            .rev()
            .map(|p| (p.arch, p.local.clone()))
            .collect(),
    });
    // A cancelled run drops its builds and pushes: the engines stop them.
    let building = build(&build_config, &sdk, local_check.as_ref(), progress);
    let outcome = tokio::select! {
        outcome = building => outcome,
        why = cancel.cancelled() => {
            report.functions = not_deployed("not deployed: the run was cancelled");
            return Err((Stage::Build, Error::Cancelled(why.to_string())));
        }
    };
    let built = match outcome {
        Ok(built) => built,
        Err(e) => {
            report.functions = not_deployed("not deployed: the build failed");
            let stage = if e.exit_code() == 2 {
                Stage::Configuration
            } else {
                Stage::Build
            };
            return Err((stage, e));
        }
    };

    progress.stage(&format!("deploying {} function(s)", plans.len()));
    let jobs = plans.iter().map(|plan| {
        let image = built
            .image(plan.arch)
            .map(|i| i.deploy_uri.as_str())
            .unwrap_or_default();
        lambda.deploy(DeployJob {
            plan,
            image_uri: image,
            alias: config.alias.as_deref(),
            smoke: config.smoke.as_ref(),
            wait_timeout: config.wait_timeout,
            cancel,
            aws_timeout: config.build.aws_timeout,
        })
    });
    let functions = join_all(jobs).await;
    report.build = Some(built);
    for f in &functions {
        let verdict = match (&f.error, f.updated) {
            (None, _) => "deployed".to_string(),
            (Some(e), true) => format!("updated, then: {e}"),
            (Some(e), false) => format!("not updated: {e}"),
        };
        progress.stage(&format!("{} ({}): {verdict}", f.name, f.architecture));
    }
    let failed: Vec<&FunctionReport> = functions.iter().filter(|f| f.error.is_some()).collect();
    let message = (!failed.is_empty()).then(|| deploy_failure(&functions));
    report.functions = functions;
    match message {
        Some(m) => Err(at(Stage::Deploy)(Error::Deploy(m))),
        None => Ok(()),
    }
}

/// Which functions were updated and which were not, one line each.
fn deploy_failure(functions: &[FunctionReport]) -> String {
    let mut lines = vec!["the deploy did not complete:".to_string()];
    for f in functions {
        let line = match (&f.error, f.updated) {
            (None, _) => format!(
                "  {} ({}): updated to {}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            (Some(e), true) => format!(
                "  {} ({}): updated to {}, but {e}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            (Some(e), false) => format!(
                "  {} ({}): NOT updated, still on {}: {e}",
                f.name,
                f.architecture,
                f.image_before.as_deref().unwrap_or("its previous image")
            ),
        };
        lines.push(line);
    }
    lines.join("\n")
}

/// One architecture built and invoked locally, and where its image lives.
pub struct LocalRun {
    pub platform: Platform,
    pub engine: Engine,
    pub image_id: String,
    pub result: local::LocalResult,
}

/// `lambda-ship local`: every platform built on its engine, then invoked
/// once as Lambda would run it. Nothing is pushed; no AWS is needed.
pub async fn local(
    config: &BuildConfig,
    event: &str,
    settings: &local::LocalSettings,
    progress: &Progress,
) -> Result<Vec<LocalRun>, Error> {
    let context = BuildContext::new(&config.context, &config.dockerfile)?;
    let engines = connect_farm(config, progress).await?;
    for &platform in &config.platforms {
        let engine = &engines[&config.endpoint(platform)];
        if !engine.local {
            return Err(Error::Conflict(format!(
                "{platform} is built on {}, which is not an engine on this host: lambda-ship \
                 local runs each image on the engine that built it, reached on 127.0.0.1",
                engine.name
            )));
        }
    }
    let jobs = config.platforms.iter().map(|&platform| {
        let engine = engines[&config.endpoint(platform)].clone();
        let spec = build_spec(
            config,
            &context,
            platform,
            format!("lambda-ship/local:{}", platform.lambda_arch()),
        );
        async move {
            let built = build::build_within(&engine, &spec, config.build_timeout, progress).await?;
            let result =
                local::invoke_once(&engine, &built.image_id, platform, event, settings).await;
            Ok::<_, PlatformError>(LocalRun {
                platform,
                engine,
                image_id: built.image_id,
                result,
            })
        }
    });
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for r in join_all(jobs).await {
        match r {
            Ok(run) => done.push(run),
            Err(e) => failed.push(e),
        }
    }
    if !failed.is_empty() {
        return Err(Error::Platforms {
            failed,
            done: Vec::new(),
        });
    }
    Ok(done)
}
