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
use crate::deploy::{DeployJob, FunctionOutcome, FunctionReport, Lambda};
use crate::error::{Error, PlatformError};
use crate::identity;
use crate::local::{self, Gate, LocalCheck};
use crate::progress::{PlatformEvent, Progress};
use crate::registry::ecr::{Ecr, Repository};
use crate::registry::session::RegistrySession;
use crate::registry::{self, ImageRef, push};
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
    context.check_readable()?;
    let engines = connect_farm(config, progress).await?;

    // Only reads until something is pushed: a build that fails leaves no
    // repository behind.
    let ecr = Ecr::new(sdk);
    progress.stage(&format!("ECR repository {}", config.repository));
    let found = ecr.find_repository(&config.repository).await?;
    let (host, token) = ecr.token().await?;
    let planned = found.clone().unwrap_or_else(|| Repository {
        name: config.repository.to_string(),
        uri: format!("{host}/{}", config.repository),
        mutability: config.tag_mutability,
        created: false,
    });
    let registry = config.registry_override.clone().unwrap_or(host);
    check_name_length(&registry, &planned.name)?;
    let session = RegistrySession::new(&ecr, registry.clone(), token);
    let reader = session.reader().await;
    let target = |platform: Platform| ImageRef {
        registry: registry.clone(),
        repository: planned.name.clone(),
        tag: config.tag(platform),
    };

    // A commit pushed already is not built again.
    let existing = match &found {
        None => BTreeMap::new(),
        Some(_) => try_join_all(config.platforms.iter().map(|&p| {
            let image = target(p);
            let reader = &reader;
            async move { reader.digest(&image).await.map(|d| (p, d)) }
        }))
        .await?
        .into_iter()
        .filter_map(|(p, d)| d.map(|d| (p, d)))
        .collect(),
    };
    if config.force_rebuild
        && planned.mutability == TagMutability::Immutable
        && !existing.is_empty()
    {
        return Err(immutable_conflict(
            &planned,
            existing.keys().map(|&p| target(p)),
        ));
    }
    // Created once, by the first platform ready to push.
    let created = tokio::sync::OnceCell::new();
    let repository = Lazy {
        ecr: &ecr,
        found: found.as_ref(),
        cell: &created,
        name: &config.repository,
        mutability: config.tag_mutability,
        progress,
    };

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
            local_tag(&planned.name, &image.tag),
        );
        let (session, repository, planned) = (&session, &repository, &planned);
        async move {
            if reuse {
                reuse_image(session, planned, &image, platform, progress).await
            } else {
                ship_image(
                    engine,
                    &spec,
                    check,
                    Limits {
                        build: config.build_timeout,
                        push: config.push_timeout,
                    },
                    session,
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
        repository: created.get().cloned().unwrap_or(planned),
        registry,
        images: done,
    })
}

/// The repository, created by the first push that needs it.
struct Lazy<'a> {
    ecr: &'a Ecr,
    found: Option<&'a Repository>,
    cell: &'a tokio::sync::OnceCell<Repository>,
    name: &'a crate::config::RepositoryName,
    mutability: TagMutability,
    progress: &'a Progress,
}

impl Lazy<'_> {
    async fn get(&self) -> Result<Repository, crate::registry::ecr::EcrError> {
        if let Some(found) = self.found {
            return Ok(found.clone());
        }
        self.cell
            .get_or_try_init(|| async {
                let created = self
                    .ecr
                    .create_repository(self.name, self.mutability)
                    .await?;
                if created.created {
                    self.progress
                        .stage(&format!("created the ECR repository {}", created.uri));
                }
                Ok(created)
            })
            .await
            .cloned()
    }
}

/// Docker refuses an image name (registry host included) over 255 characters.
const DOCKER_NAME_MAX: usize = 255;

/// A repository name ECR accepts can still be too long for a Docker engine
/// to push once the registry host is in front of it: found before anything
/// is built.
fn check_name_length(registry: &str, repository: &str) -> Result<(), Error> {
    let name = format!("{registry}/{repository}");
    if name.len() > DOCKER_NAME_MAX {
        return Err(Error::Conflict(format!(
            "the image name {name} is {} characters: ECR accepts repository names of up to 256 \
             characters, but a Docker engine pushes no image name over {DOCKER_NAME_MAX}, the \
             registry host ({} characters) included. Use a repository name of at most {} \
             characters",
            name.len(),
            registry.len(),
            DOCKER_NAME_MAX.saturating_sub(registry.len() + 1)
        )));
    }
    Ok(())
}

/// The name an image gets in the engine that built it: under `lambda-ship/`
/// when that fits Docker's limit, else a short name derived from the
/// repository, so that a long repository name never stops a build.
fn local_tag(repository: &str, tag: &str) -> String {
    let name = format!("lambda-ship/{repository}");
    if name.len() <= DOCKER_NAME_MAX {
        return format!("{name}:{tag}");
    }
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(repository, &mut hasher);
    format!(
        "lambda-ship/{}-{:016x}:{tag}",
        &repository[..64.min(repository.len())].trim_end_matches(['.', '_', '-', '/']),
        std::hash::Hasher::finish(&hasher)
    )
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
    for engine in engines.values().filter(|e| e.local) {
        if let Some(swept) = local::sweep_orphans(engine).await {
            progress.stage(&swept);
        }
    }
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
    session: &RegistrySession<'_>,
    repository: &Lazy<'_>,
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
    // A function named by ARN must be of this run's account: asked only then.
    let account = if config.functions.iter().any(|f| f.name.starts_with("arn:")) {
        Some(
            identity::caller_account(&sdk)
                .await
                .map_err(|e| (Stage::Preflight, e.into()))?,
        )
    } else {
        None
    };
    let plans = try_join_all(
        config
            .functions
            .iter()
            .map(|f| lambda.preflight(f, account.as_deref())),
    )
    .await
    .map_err(|e| (Stage::Preflight, e.into()))?;
    for plan in plans.iter().filter(|p| p.arch != p.arch_before) {
        progress.stage(&format!(
            "{}: its architecture changes, {} → {}",
            plan.name,
            plan.arch_before.lambda_arch(),
            plan.arch.lambda_arch()
        ));
    }
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
            remove_sandboxes(&build_config).await;
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
            return Err((stage, Error::NotDeployed(Box::new(e))));
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
        let verdict = match f.outcome() {
            FunctionOutcome::Deployed => "deployed".to_string(),
            FunctionOutcome::UpdatedThenFailed(e) => format!("updated, then: {e}"),
            FunctionOutcome::NotUpdated(e) => format!("not updated: {e}"),
        };
        progress.stage(&format!("{} ({}): {verdict}", f.name, f.architecture));
    }
    let all_deployed = functions
        .iter()
        .all(|f| f.outcome() == FunctionOutcome::Deployed);
    let message = (!all_deployed).then(|| deploy_failure(&functions));
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
        let line = match f.outcome() {
            FunctionOutcome::Deployed => format!(
                "  {} ({}): updated to {}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            FunctionOutcome::UpdatedThenFailed(e) => format!(
                "  {} ({}): updated to {}, but {e}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            FunctionOutcome::NotUpdated(e) => format!(
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
    /// None when the build failed.
    pub image_id: Option<String>,
    pub result: local::LocalResult,
}

/// `lambda-ship local`: every platform built on its engine, then invoked
/// once as Lambda would run it. Nothing is pushed; no AWS is needed. Each
/// platform's result is returned, a failed build's too, so that one failing
/// architecture never hides the other's.
pub async fn local(
    config: &BuildConfig,
    event: &str,
    settings: &local::LocalSettings,
    progress: &Progress,
) -> Result<Vec<LocalRun>, Error> {
    let context = BuildContext::new(&config.context, &config.dockerfile)?;
    context.check_readable()?;
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
            match build::build_within(&engine, &spec, config.build_timeout, progress).await {
                Ok(built) => {
                    let result =
                        local::invoke_once(&engine, &built.image_id, platform, event, settings)
                            .await;
                    LocalRun {
                        platform,
                        engine,
                        image_id: Some(built.image_id),
                        result,
                    }
                }
                Err(e) => LocalRun {
                    platform,
                    engine,
                    image_id: None,
                    result: local::LocalResult::not_built(platform, e.to_string()),
                },
            }
        }
    });
    Ok(join_all(jobs).await)
}

/// Removes every sandbox container this process made on the local engines
/// of `config`'s farm: what a signal, or a run dropped half-way, leaves.
pub async fn remove_sandboxes(config: &BuildConfig) {
    let mut endpoints: Vec<Endpoint> = config
        .platforms
        .iter()
        .map(|&p| config.endpoint(p))
        .collect();
    endpoints.sort_by_key(ToString::to_string);
    endpoints.dedup();
    for endpoint in endpoints {
        if let Ok(engine) = Engine::connect(&endpoint).await
            && engine.local
        {
            local::remove_own(&engine).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_repository_names_get_a_local_name_docker_takes() {
        assert_eq!(local_tag("fn", "abc-x86_64"), "lambda-ship/fn:abc-x86_64");
        let long = format!("{}/{}", "a".repeat(127), "b".repeat(128));
        let tag = local_tag(&long, "abc-x86_64");
        let (name, t) = tag.rsplit_once(':').unwrap();
        assert!(name.len() <= DOCKER_NAME_MAX, "{tag}");
        assert_eq!(t, "abc-x86_64");
        assert_ne!(local_tag(&long, "t"), local_tag(&format!("{long}x"), "t"));
    }

    #[test]
    fn image_names_over_docker_s_limit_are_refused_with_the_room_left() {
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        assert!(check_name_length(host, &"a".repeat(210)).is_ok());
        let err = check_name_length(host, &"a".repeat(211))
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 210 characters"), "{err}");
    }
}
