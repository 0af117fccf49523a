//! The build farm as pools of engines: each platform's engines that answer
//! and can build it, in the order given, and a build handed to the next one
//! when its engine is lost mid-way.

use crate::config::{BuildConfig, Endpoint, Platform};
use crate::error::Error;
use crate::farm;
use crate::farm::BuildSpec;
use crate::farm::engine::{Engine, Support};
use crate::progress::Progress;
use crate::sandbox;
use futures_util::future::join_all;
use std::collections::HashMap;

/// Connects once to each engine named for `platforms`, and keeps for each
/// platform the engines of its pool that answer and can build it, in the
/// order given: the first builds, the next take over a build lost. In
/// a pool of several, an engine that cannot be reached is said once and its
/// builds go to the others; a platform left with none fails the run.
pub(crate) async fn connect_farm(
    config: &BuildConfig,
    platforms: &[Platform],
    progress: &Progress,
) -> Result<HashMap<Platform, Vec<Engine>>, Error> {
    let mut endpoints: Vec<Endpoint> = platforms
        .iter()
        .flat_map(|&p| config.endpoints(p))
        .collect();
    endpoints.sort_by_key(ToString::to_string);
    endpoints.dedup();
    let attempts = join_all(
        endpoints
            .into_iter()
            .map(|e| async move { (e.clone(), Engine::connect(&e).await) }),
    )
    .await;
    let mut engines: HashMap<Endpoint, Engine> = HashMap::new();
    let mut unreachable: HashMap<Endpoint, crate::farm::engine::EngineError> = HashMap::new();
    for (endpoint, attempt) in attempts {
        match attempt {
            Ok(engine) => {
                engines.insert(endpoint, engine);
            }
            Err(e) => {
                unreachable.insert(endpoint, e);
            }
        }
    }
    for engine in engines.values().filter(|e| e.local) {
        if let Some(swept) = sandbox::sweep_orphans(engine).await {
            progress.say(&swept);
        }
    }
    let mut said = std::collections::HashSet::new();
    let mut chosen: HashMap<Platform, Vec<Engine>> = HashMap::new();
    for &platform in platforms {
        let pool = config.endpoints(platform);
        let mut failure: Option<Error> = None;
        for endpoint in &pool {
            let outcome = match engines.get(endpoint) {
                Some(engine) => engine.check(platform).map(|support| (engine, support)),
                None => match unreachable.get(endpoint) {
                    Some(e) => Err(e.clone()),
                    None => continue,
                },
            };
            match outcome {
                Ok((engine, support)) => {
                    let taken = chosen.entry(platform).or_default();
                    // The first builds; the others take over a build lost.
                    if taken.is_empty() {
                        progress.say(&format!(
                            "{platform} → {} (API {}, {}; {})",
                            engine.name,
                            engine.api_version,
                            engine.arch,
                            support_words(support)
                        ));
                    }
                    taken.push(engine.clone());
                }
                Err(e) => {
                    if pool.len() > 1 && said.insert((platform, endpoint.clone())) {
                        progress.say(&format!("{}; its builds go to the others", e.short()));
                    }
                    failure = Some(e.into());
                }
            }
        }
        if !chosen.contains_key(&platform) {
            return Err(failure.unwrap_or_else(|| {
                Error::Conflict(format!("{platform} has no engine to build on"))
            }));
        }
    }
    Ok(chosen)
}

fn support_words(support: Support) -> &'static str {
    match support {
        Support::Native => "native",
        Support::Emulated => "QEMU emulation",
        Support::Unknown => "a remote engine of another architecture: needs emulation there",
        Support::No => "no support",
    }
}

/// Builds on the first engine of the platform's pool. An engine lost
/// mid-build hands the build to the next one, said in one line; a lone
/// engine that still answers builds it once more.
pub(super) async fn build_on_pool<'e>(
    engines: &'e [Engine],
    spec: &BuildSpec,
    limit: std::time::Duration,
    progress: &Progress,
) -> (&'e Engine, Result<farm::BuiltImage, farm::BuildError>) {
    let platform = spec.platform;
    let mut tries: Vec<&Engine> = engines.iter().collect();
    let mut retried = false;
    let mut at = 0;
    loop {
        let engine = tries[at];
        let built = farm::build_within(engine, spec, limit, progress).await;
        let Err(farm::BuildError::EngineLost { .. }) = &built else {
            return (engine, built);
        };
        if let Some(next) = tries.get(at + 1) {
            progress.say(&format!(
                "{platform}: {} was lost mid-build; building again on {}",
                engine.name, next.name
            ));
            at += 1;
        } else if tries.len() == 1 && !retried && engine.answers().await {
            progress.say(&format!(
                "{platform}: the connection to {} broke mid-build and it still answers; \
                 building once more",
                engine.name
            ));
            retried = true;
            tries.push(engine);
            at += 1;
        } else {
            return (engine, built);
        }
    }
}
