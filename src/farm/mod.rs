//! The build farm: its engines (`engine.rs`: reached, and able to build a
//! platform), the build context they are sent (`context.rs`,
//! `dockerignore.rs`), one single-architecture BuildKit build per platform
//! (here), one build at a time on an engine whose BuildKit needs it
//! (`turn.rs`), and the push of an image from the engine that built it
//! (`push.rs`).

pub mod container;
pub mod context;
pub mod dockerignore;
pub mod engine;
mod failure;
pub mod inputs;
pub mod push;
pub mod ssh;
pub mod stages;
pub mod turn;

use crate::model::Platform;
use crate::progress::{PlatformEvent, Progress};
use crate::registry::RegistryCredentials;
use bollard::auth::DockerCredentials;
use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use context::BuildContext;
use engine::Engine;
pub use failure::BuildError;
use failure::classify_failure;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

/// How many lines of a failing step's output the error shows.
const TAIL_LINES: usize = 20;

/// What one platform's build is told.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub platform: Platform,
    pub context: BuildContext,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The name the image gets in its engine.
    pub tag: String,
    /// Images to import cache from, by digest.
    pub cache_from: Vec<String>,
    /// The registry the cache images are read from, and its credentials.
    pub registry_auth: Option<(String, RegistryCredentials)>,
}

/// An image in its engine, checked to be of the platform asked for.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub platform: Platform,
    pub image_id: String,
    /// Uncompressed, as the engine counts it.
    pub size: u64,
    pub seconds: f64,
}

/// One BuildKit step as the build goes.
#[derive(Default)]
struct Step {
    name: String,
    announced: bool,
    error: String,
    lines: VecDeque<String>,
}

/// `build`, bounded: a build still running after `limit` fails, and dropping
/// its request stops it in the engine.
pub async fn build_within(
    engine: &Engine,
    spec: &BuildSpec,
    limit: std::time::Duration,
    progress: &Progress,
) -> Result<BuiltImage, BuildError> {
    // The wait for the engine's turn is not the build's time.
    let platform = spec.platform;
    let turn = turn::take(engine, || {
        progress.say(&format!(
            "{platform}: waiting for another build on {}: an engine older than Docker 23 \
             builds one image at a time (its BuildKit crashes on concurrent cache exports)",
            engine.name
        ));
    })
    .await
    .unwrap_or_else(|e| {
        progress.say(&format!(
            "{platform}: warning: building on {} without waiting for its other builds \
             (the turn's lock file cannot be used: {e})",
            engine.name
        ));
        None
    });
    let built = tokio::time::timeout(limit, build(engine, spec, progress)).await;
    drop(turn);
    match built {
        Ok(result) => result,
        Err(_) => {
            let err = BuildError::Engine {
                platform: spec.platform,
                engine: engine.name.clone(),
                message: format!(
                    "it did not finish within --build-timeout ({} s)",
                    limit.as_secs()
                ),
            };
            progress.platform(spec.platform, PlatformEvent::Failed);
            Err(err)
        }
    }
}

/// Builds one platform's image on `engine` with BuildKit, following its
/// steps; the image must be of the platform asked.
pub async fn build(
    engine: &Engine,
    spec: &BuildSpec,
    progress: &Progress,
) -> Result<BuiltImage, BuildError> {
    let started = Instant::now();
    let platform = spec.platform;
    progress.platform(
        platform,
        PlatformEvent::Building {
            engine: engine.name.clone(),
        },
    );
    let reference = match run(engine, spec, progress).await {
        Ok(reference) => reference,
        Err(e) => {
            progress.platform(platform, PlatformEvent::Failed);
            return Err(e);
        }
    };
    let inspect = engine.docker.inspect_image(&reference).await.map_err(|e| {
        engine_error(
            engine,
            platform,
            format!("the built image cannot be inspected: {e}"),
        )
    })?;
    let os = inspect.os.unwrap_or_default();
    let arch = inspect.architecture.unwrap_or_default();
    if os != "linux" || arch != platform.oci_arch() {
        return Err(BuildError::WrongPlatform { platform, os, arch });
    }
    let built = BuiltImage {
        platform,
        image_id: inspect.id.unwrap_or(reference),
        size: u64::try_from(inspect.size.unwrap_or(0)).unwrap_or(0),
        seconds: started.elapsed().as_secs_f64(),
    };
    progress.platform(
        platform,
        PlatformEvent::Built {
            size: built.size,
            seconds: built.seconds,
        },
    );
    Ok(built)
}

fn engine_error(engine: &Engine, platform: Platform, message: String) -> BuildError {
    BuildError::Engine {
        platform,
        engine: engine.name.clone(),
        message,
    }
}

/// The build request: the context's Dockerfile, the tag, the platform, the
/// arguments and labels, the target and the images to take cache from.
fn request(spec: &BuildSpec, session: &str) -> bollard::query_parameters::BuildImageOptions {
    let mut args: HashMap<&str, &str> = spec
        .build_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Every image carries BuildKit's inline cache metadata, so that a later
    // build on an empty engine can import its layers from the registry.
    args.entry("BUILDKIT_INLINE_CACHE").or_insert("1");
    let labels: HashMap<&str, &str> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile(spec.context.dockerfile_in_tar())
        .t(&spec.tag)
        .platform(spec.platform.docker())
        .buildargs(&args)
        .labels(&labels)
        .rm(true)
        .version(BuilderVersion::BuilderBuildKit)
        .session(session);
    if let Some(target) = &spec.target {
        options = options.target(target);
    }
    if !spec.cache_from.is_empty() {
        options = options.cachefrom(&spec.cache_from);
    }
    options.build()
}

/// Sends the build and follows its stream to the end: the image's id (or
/// its tag), or why it failed.
async fn run(engine: &Engine, spec: &BuildSpec, progress: &Progress) -> Result<String, BuildError> {
    let platform = spec.platform;
    let session = format!("lambda-ship-{}", uuid::Uuid::new_v4());
    let body = bollard::body_try_stream(spec.context.stream());
    let mut stream = engine.docker.build_image(
        request(spec, &session),
        registry_credentials(spec),
        Some(body),
    );
    let mut steps: HashMap<String, Step> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut image_id = None;
    let mut failure = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(id) = follow(&info, &mut steps, &mut order, platform, progress) {
                    image_id = Some(id);
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // An answer that breaks off after the engine named the finished image
    // (a frame cut at the very end) lost nothing: the image is there.
    let failure = failure.filter(|e| {
        image_id.is_none() || matches!(e, bollard::errors::Error::DockerStreamError { .. })
    });
    let Some(e) = failure else {
        return Ok(image_id.unwrap_or_else(|| spec.tag.clone()));
    };
    let (message, lost) = match e {
        bollard::errors::Error::DockerStreamError { error } => (error, false),
        // Not the engine's answer: the connection to it broke.
        other => (
            format!(
                "the engine's answer broke off mid-build ({other}): the engine stopped or the \
                 connection to it broke; check that it is up and reachable, then run again"
            ),
            true,
        ),
    };
    // The step that failed is the one BuildKit marked with an error.
    let failed = order
        .iter()
        .rev()
        .filter_map(|d| steps.get(d))
        .find(|s| !s.error.is_empty());
    Err(match classify_failure(platform, &message, failed) {
        Some(err) => err,
        None if lost => BuildError::EngineLost {
            platform,
            engine: engine.name.clone(),
            message,
        },
        None => engine_error(engine, platform, message),
    })
}

/// The registry credentials BuildKit asks for through the build's session,
/// to import the cache of images in a private registry.
fn registry_credentials(spec: &BuildSpec) -> Option<HashMap<String, DockerCredentials>> {
    spec.registry_auth.as_ref().map(|(host, c)| {
        HashMap::from([(
            host.clone(),
            DockerCredentials {
                username: Some(c.username.clone()),
                password: Some(c.password.expose_secret().to_string()),
                serveraddress: Some(host.clone()),
                ..Default::default()
            },
        )])
    })
}

/// Takes in one message of the build stream; returns the image id when it comes.
fn follow(
    info: &BuildInfo,
    steps: &mut HashMap<String, Step>,
    order: &mut Vec<String>,
    platform: Platform,
    progress: &Progress,
) -> Option<String> {
    if let Some(text) = &info.stream {
        // The classic builder's output, should an engine answer with it.
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            progress.platform(platform, PlatformEvent::Log(line.to_string()));
        }
    }
    match &info.aux {
        Some(BuildInfoAux::Default(image)) => image.id.clone(),
        Some(BuildInfoAux::BuildKit(status)) => {
            for v in &status.vertexes {
                if !steps.contains_key(&v.digest) {
                    order.push(v.digest.clone());
                }
                let step = steps.entry(v.digest.clone()).or_default();
                step.name.clone_from(&v.name);
                if !v.error.is_empty() {
                    step.error.clone_from(&v.error);
                }
                if v.started.is_some() && !step.announced && !v.name.starts_with("[internal]") {
                    step.announced = true;
                    let cached = if v.cached { " (cached)" } else { "" };
                    progress.platform(platform, PlatformEvent::Step(format!("{}{cached}", v.name)));
                }
            }
            for log in &status.logs {
                let step = steps.entry(log.vertex.clone()).or_default();
                for line in String::from_utf8_lossy(&log.msg).lines() {
                    let line = line.trim_end();
                    if line.is_empty() {
                        continue;
                    }
                    if step.lines.len() == TAIL_LINES {
                        step.lines.pop_front();
                    }
                    step.lines.push_back(line.to_string());
                    progress.platform(platform, PlatformEvent::Log(line.to_string()));
                }
            }
            None
        }
        None => None,
    }
}
