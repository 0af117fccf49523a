//! Shipping the images of a commit: the farm checked, the repository read
//! (and created only when the first push needs it), what is pushed already
//! reused, then every platform built, checked, gated and pushed concurrently,
//! each on its own engine (`job.rs` is one platform's way, `platform.rs` its
//! steps, `cache.rs` and `stages.rs` where its cache comes from).

mod attest;
mod cache;
mod job;
mod platform;
mod pool;
mod stages;
mod survey;

use crate::config::{BuildConfig, Endpoint, Platform, TagMutability};
use crate::error::Error;
use crate::farm::engine::Engine;
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::ecr::{Ecr, Repository};
use crate::report::BuildReport;
use crate::sandbox::{self, Gate, LocalCheck};
use futures_util::future::{join_all, try_join_all};
pub(crate) use platform::build_spec;
use pool::Pool;
pub(crate) use pool::connect_farm;
use std::collections::HashMap;
pub use survey::{Survey, survey};

/// Builds, checks and pushes the images of a commit, one per platform,
/// concurrently; what is pushed already is reused.
pub async fn build(
    config: &BuildConfig,
    sdk: &aws_config::SdkConfig,
    local: Option<&LocalCheck>,
    progress: &Progress,
) -> Result<BuildReport, Error> {
    let image = ImageJob {
        name: None,
        config,
        local,
    };
    let mut built = build_images(&[image], None, sdk, progress).await?;
    built
        .pop()
        .ok_or_else(|| Error::Conflict("nothing was built".to_string()))
}

/// One image of a run: its name in `lambda-ship.toml` (none for the one
/// image of the flags), its build, and its local check.
pub struct ImageJob<'a> {
    pub name: Option<&'a str>,
    pub config: &'a BuildConfig,
    pub local: Option<&'a LocalCheck>,
}

/// Builds, checks and pushes every image of a run, each for its platforms,
/// all concurrently on one farm: at most `jobs` builds at once [default: one
/// per engine of each platform's pool]. An image that failed is named; the
/// others' pushes stand, and nothing is deployed by this stage.
pub async fn build_images(
    images: &[ImageJob<'_>],
    jobs: Option<usize>,
    sdk: &aws_config::SdkConfig,
    progress: &Progress,
) -> Result<Vec<BuildReport>, Error> {
    let named = |image: &ImageJob<'_>, e: Error| match image.name {
        Some(name) => Error::Images(vec![(name.to_string(), e)]),
        None => e,
    };
    // Everything that can be wrong with the input is found before anything changes.
    for image in images {
        image
            .config
            .build_context
            .check_readable()
            .map_err(|e| named(image, e.into()))?;
    }
    // A key that cannot sign is found before anything is built.
    let key = match images.first().and_then(|i| i.config.sign_key.as_deref()) {
        Some(key) => Some(crate::signing::SigningKey::open(sdk, key).await?),
        None => None,
    };
    // Each image's lines are named by it, when the run has several.
    let said: Vec<Progress> = images
        .iter()
        .map(|i| {
            i.name
                .map_or_else(|| progress.clone(), |n| progress.scoped(n))
        })
        .collect();
    // Only reads until something is pushed: a build that fails leaves no
    // repository behind.
    let ecr = &Ecr::new(sdk);
    // One token for the registry every image goes to.
    let token = match images {
        [_, _, ..] => Some(ecr.token().await?),
        _ => None,
    };
    let token = token.as_ref();
    let looks = try_join_all(
        images
            .iter()
            .zip(&said)
            .map(|(image, progress)| async move {
                progress.say(&format!("ECR repository {}", image.config.repository));
                survey::look(ecr, image.config, token)
                    .await
                    .map_err(|e| named(image, e))
            }),
    )
    .await?;
    let mut plans = Vec::new();
    for (image, look) in images.iter().zip(looks) {
        let config = image.config;
        if config.force_rebuild
            && look.planned.mutability == TagMutability::Immutable
            && !look.pushed.is_empty()
        {
            let tags = look.pushed.keys().map(|&p| look.target(config, p));
            return Err(named(image, immutable_conflict(&look.planned, tags)));
        }
        // A commit pushed already is not built again.
        let to_build: Vec<Platform> = config
            .platforms
            .iter()
            .copied()
            .filter(|p| config.force_rebuild || !look.pushed.contains_key(p))
            .collect();
        plans.push((image, look, to_build));
    }
    // The farm is reached only for what is to be built: a deploy job after
    // the platforms were built elsewhere (one native runner each) needs no engine.
    let mut needed: Vec<Platform> = plans.iter().flat_map(|p| p.2.clone()).collect();
    needed.sort();
    needed.dedup();
    let engines = match images.first() {
        Some(first) if !needed.is_empty() => connect_farm(first.config, &needed, progress).await?,
        _ => HashMap::new(),
    };
    let pool = Pool::new(engines, jobs);
    let results = join_all(
        plans
            .iter()
            .zip(&said)
            .map(|((image, look, to_build), progress)| {
                ship_image(image, look, to_build, ecr, (&pool, key.as_ref()), progress)
            }),
    )
    .await;
    let mut built = Vec::new();
    let mut failed = Vec::new();
    for ((image, _, _), result) in plans.iter().zip(results) {
        match (result, image.name) {
            (Ok(report), _) => built.push(report),
            (Err(e), None) => return Err(e),
            (Err(e), Some(name)) => failed.push((name.to_string(), e)),
        }
    }
    if failed.is_empty() {
        Ok(built)
    } else {
        Err(Error::Images(failed))
    }
}

/// One image's platforms built, checked and pushed.
async fn ship_image(
    image: &ImageJob<'_>,
    look: &survey::Look<'_>,
    to_build: &[Platform],
    ecr: &Ecr,
    (pool, key): (&Pool, Option<&crate::signing::SigningKey>),
    progress: &Progress,
) -> Result<BuildReport, Error> {
    let config = image.config;
    let context = &config.build_context;
    // Created once, by the first platform ready to push.
    let created = tokio::sync::OnceCell::new();
    let repository = Lazy {
        ecr,
        found: look.found.as_ref(),
        cell: &created,
        name: &config.repository,
        mutability: config.tag_mutability,
        on_ecr: config.registry_override.is_none(),
        progress,
    };
    let gate = Gate::new(to_build.len());
    let stages = needed_stages(config);
    let run = job::Run {
        config,
        session: &look.session,
        repository: &repository,
        planned: &look.planned,
        to_build,
        stages: &stages,
        check: image.local.map(|c| (c, &gate)),
        pool,
        progress,
    };
    let jobs = config.platforms.iter().map(|&platform| {
        let target = look.target(config, platform);
        let local = local_tag(&look.planned.name, &target.tag);
        let spec = build_spec(config, context, platform, local);
        let found = look.found.is_some();
        let sources = cache::candidates(&config.cache, platform, &target, &look.host, found);
        run.platform(spec, sources, target)
    });
    let results = join_all(jobs).await;
    if let Some(days) = config.expire_untagged_days
        && let Some(repository) = created.get().or(look.found.as_ref())
    {
        expire_untagged(ecr, &repository.name, days, progress).await;
    }
    let (done, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let mut done: Vec<_> = done.into_iter().filter_map(Result::ok).collect();
    let failed: Vec<_> = failed.into_iter().filter_map(Result::err).collect();
    if !failed.is_empty() {
        return Err(Error::Platforms { failed, done });
    }
    if let Some(key) = key {
        attest::sign_all(key, &look.session, config, &mut done, progress).await?;
    }
    Ok(BuildReport {
        image: image.name.map(str::to_string),
        commit: config.sha.clone(),
        repository: created
            .get()
            .cloned()
            .unwrap_or_else(|| look.planned.clone()),
        registry: look.session.registry().to_string(),
        images: done,
    })
}

/// The builder stages the built one needs, each cached as an image of its own.
fn needed_stages(config: &BuildConfig) -> Vec<String> {
    if !config.cache.enabled {
        return Vec::new();
    }
    std::fs::read_to_string(&config.dockerfile)
        .map(|text| crate::farm::stages::needed_stages(&text, config.target.as_deref()))
        .unwrap_or_default()
}

/// `--expire-untagged-days`: the lifecycle rule merged; a failure is a warning.
async fn expire_untagged(ecr: &Ecr, repository: &str, days: u32, progress: &Progress) {
    match ecr.expire_untagged(repository, days).await {
        Ok(true) => progress.say(&format!(
            "lifecycle policy of {repository}: untagged images expire after {days} days"
        )),
        Ok(false) => {}
        Err(e) => progress.say(&format!("warning: {e}")),
    }
}

/// The repository, created by the first push that needs it.
pub(super) struct Lazy<'a> {
    ecr: &'a Ecr,
    found: Option<&'a Repository>,
    cell: &'a tokio::sync::OnceCell<Repository>,
    name: &'a crate::config::RepositoryName,
    mutability: TagMutability,
    /// Whether the images go to ECR's own registry, whose API removes a tag.
    on_ecr: bool,
    progress: &'a Progress,
}

impl Lazy<'_> {
    pub(super) async fn get(&self) -> Result<Repository, crate::registry::ecr::EcrError> {
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
                        .say(&format!("created the ECR repository {}", created.uri));
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

/// Removes every sandbox container this process made on the local engines
/// of `config`'s farm: what a signal, or a run dropped half-way, leaves.
pub async fn remove_sandboxes(config: &BuildConfig) {
    let mut endpoints: Vec<Endpoint> = config
        .platforms
        .iter()
        .flat_map(|&p| config.endpoints(p))
        .collect();
    endpoints.sort_by_key(ToString::to_string);
    endpoints.dedup();
    for endpoint in endpoints {
        if let Ok(engine) = Engine::connect(&endpoint).await
            && engine.local
        {
            sandbox::remove_own(&engine).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_stages_under_a_tag_of_its_own() {
        let (a, b) = (
            platform::staging_tag("abc-x86_64"),
            platform::staging_tag("abc-x86_64"),
        );
        assert!(a.starts_with("abc-x86_64-staging-") && b.starts_with("abc-x86_64-staging-"));
        assert_ne!(a, b);
    }

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
