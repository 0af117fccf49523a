//! Shipping the images of a commit: the farm checked, the repository read
//! (and created only when the first push needs it), what is pushed already
//! reused, then every platform built, checked, gated and pushed concurrently,
//! each on its own engine (`job.rs` is one platform's way, `platform.rs` its
//! steps, `cache.rs` and `stages.rs` where its cache comes from).

mod cache;
mod job;
mod platform;
mod stages;
mod survey;

use crate::config::{BuildConfig, Endpoint, Platform, TagMutability};
use crate::error::Error;
use crate::farm::context::BuildContext;
use crate::farm::engine::{Engine, Support};
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::ecr::{Ecr, Repository};
use crate::registry::session::RegistrySession;
use crate::report::BuildReport;
use crate::sandbox::{self, Gate, LocalCheck};
use futures_util::future::{join_all, try_join_all};
pub(crate) use platform::build_spec;
use std::collections::{BTreeMap, HashMap};
pub use survey::{Survey, survey};

pub async fn build(
    config: &BuildConfig,
    sdk: &aws_config::SdkConfig,
    local: Option<&LocalCheck>,
    progress: &Progress,
) -> Result<BuildReport, Error> {
    // Everything that can be wrong with the input is found before anything changes.
    let context = BuildContext::new(&config.context, &config.dockerfile)?;
    context.check_readable()?;

    // Only reads until something is pushed: a build that fails leaves no
    // repository behind.
    let ecr = Ecr::new(sdk);
    progress.say(&format!("ECR repository {}", config.repository));
    let found = ecr.find_repository(&config.repository).await?;
    let (host, token) = ecr.token().await?;
    let planned = found.clone().unwrap_or_else(|| Repository {
        name: config.repository.to_string(),
        uri: format!("{host}/{}", config.repository),
        mutability: config.tag_mutability,
        created: false,
    });
    let registry = config
        .registry_override
        .clone()
        .unwrap_or_else(|| host.clone());
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
    // The farm is reached only for what is to be built: a deploy job after
    // the platforms were built elsewhere (one native runner each) needs no engine.
    let to_build: Vec<Platform> = config
        .platforms
        .iter()
        .copied()
        .filter(|p| config.force_rebuild || !existing.contains_key(p))
        .collect();
    let engines = if to_build.is_empty() {
        HashMap::new()
    } else {
        let building = BuildConfig {
            platforms: to_build.clone(),
            ..config.clone()
        };
        connect_farm(&building, progress).await?
    };
    // Created once, by the first platform ready to push.
    let created = tokio::sync::OnceCell::new();
    let repository = Lazy {
        ecr: &ecr,
        found: found.as_ref(),
        cell: &created,
        name: &config.repository,
        mutability: config.tag_mutability,
        on_ecr: config.registry_override.is_none(),
        progress,
    };

    let gate = Gate::new(to_build.len());
    // The stages the built one needs, each cached as an image of its own.
    let needed = if config.cache.enabled {
        std::fs::read_to_string(&config.dockerfile)
            .map(|text| crate::farm::stages::needed_stages(&text, config.target.as_deref()))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let check = local.map(|c| (c, &gate));
    let run = job::Run {
        config,
        session: &session,
        repository: &repository,
        planned: &planned,
        to_build: &to_build,
        stages: &needed,
        check,
        progress,
    };
    let jobs = config.platforms.iter().map(|&platform| {
        let image = target(platform);
        let spec = build_spec(
            config,
            &context,
            platform,
            local_tag(&planned.name, &image.tag),
        );
        let sources = cache::candidates(&config.cache, platform, &image, &host, found.is_some());
        let engine = engines.get(&config.endpoint(platform));
        run.platform(engine, spec, sources, image)
    });
    let results = join_all(jobs).await;
    if let (Some(days), Some(repository)) = (
        config.expire_untagged_days,
        created.get().or(found.as_ref()),
    ) {
        match ecr.expire_untagged(&repository.name, days).await {
            Ok(true) => progress.say(&format!(
                "lifecycle policy of {}: untagged images expire after {days} days",
                repository.name
            )),
            Ok(false) => {}
            Err(e) => progress.say(&format!("warning: {e}")),
        }
    }

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

/// Connects to each engine of the farm once, and checks that each can build
/// the platforms it is given.
pub(crate) async fn connect_farm(
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
        if let Some(swept) = sandbox::sweep_orphans(engine).await {
            progress.say(&swept);
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
        progress.say(&format!(
            "{platform} → {} (API {}, {}; {how})",
            engine.name, engine.api_version, engine.arch
        ));
    }
    Ok(engines)
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
        .map(|&p| config.endpoint(p))
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
