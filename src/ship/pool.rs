//! The build farm as pools of engines: each platform's engines that answer
//! and can build it, in the order given; the builds of every image of a run
//! spread over their slots, and a build handed to another engine when its
//! engine is lost mid-way.

use crate::config::{BuildConfig, Endpoint, Platform};
use crate::error::Error;
use crate::farm;
use crate::farm::BuildSpec;
use crate::farm::engine::{Engine, Support};
use crate::progress::Progress;
use crate::sandbox;
use futures_util::future::join_all;
use std::collections::HashMap;
use tokio::sync::Semaphore;

/// Connects once to each engine named for `platforms`, and keeps for each
/// platform the engines of its pool that answer and can build it, in the
/// order given (the builds spread over them: `Pool`). In a pool of several, an engine that cannot be reached is said once and its
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
                    // Named once a platform, by its first engine.
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

/// The farm's engines as build slots: each platform's pool, each engine of
/// it taking `per_engine` builds at once, and at most `jobs` builds in all.
pub(super) struct Pool {
    pools: HashMap<Platform, Vec<Slot>>,
    jobs: Semaphore,
}

struct Slot {
    engine: Engine,
    free: Semaphore,
}

impl Pool {
    /// `jobs` defaults to one build per engine of each platform's pool.
    pub(super) fn new(engines: HashMap<Platform, Vec<Engine>>, jobs: Option<usize>) -> Self {
        let pairs: usize = engines.values().map(Vec::len).sum::<usize>().max(1);
        let jobs = jobs.unwrap_or(pairs).max(1);
        let per_engine = jobs.div_ceil(pairs);
        let pools = engines
            .into_iter()
            .map(|(platform, engines)| {
                let slots = engines
                    .into_iter()
                    .map(|engine| Slot {
                        engine,
                        free: Semaphore::new(per_engine),
                    })
                    .collect();
                (platform, slots)
            })
            .collect();
        Pool {
            pools,
            jobs: Semaphore::new(jobs),
        }
    }

    /// Whether the platform has an engine to build on.
    pub(super) fn has(&self, platform: Platform) -> bool {
        self.pools.get(&platform).is_some_and(|p| !p.is_empty())
    }

    /// Builds on the first engine of the platform's pool that has a free
    /// slot, trying first the one that built the image last, for its local
    /// cache (`spec.tag` is the image's local name). An engine lost mid-build hands
    /// the build to another of the pool, said in one line; a lone engine
    /// that still answers builds it once more.
    pub(super) async fn build(
        &self,
        spec: &BuildSpec,
        limit: std::time::Duration,
        progress: &Progress,
    ) -> Option<(&Engine, Result<farm::BuiltImage, farm::BuildError>)> {
        let platform = spec.platform;
        let slots = self.pools.get(&platform)?;
        let mut order = preference(slots, spec).await;
        let mut lost: Option<&Engine> = None;
        let mut retried = false;
        loop {
            // An engine's slot first, then one of the run's jobs: a build
            // waiting for a busy engine never holds a job that a build on a
            // free engine could run.
            let (at, slot) = take(slots, &order).await?;
            let job = self.jobs.acquire().await.ok()?;
            let engine = &slots[at].engine;
            if let Some(before) = lost {
                progress.say(&format!(
                    "{platform}: {} was lost mid-build; building again on {}",
                    before.name, engine.name
                ));
            }
            let built = farm::build_within(engine, spec, limit, progress).await;
            drop((job, slot));
            let Err(farm::BuildError::EngineLost { .. }) = &built else {
                return Some((engine, built));
            };
            order.retain(|&i| i != at);
            if !order.is_empty() {
                lost = Some(engine);
            } else if slots.len() == 1 && !retried && engine.answers().await {
                progress.say(&format!(
                    "{platform}: the connection to {} broke mid-build and it still answers; \
                     building once more",
                    engine.name
                ));
                retried = true;
                order.push(at);
            } else {
                return Some((engine, built));
            }
        }
    }
}

/// The pool's engines in the order an image tries them: the one that built
/// its image of this platform last (it holds the layers), then the others in
/// the order given.
async fn preference(slots: &[Slot], spec: &BuildSpec) -> Vec<usize> {
    let order: Vec<usize> = (0..slots.len()).collect();
    if slots.len() < 2 {
        return order;
    }
    let name = spec
        .tag
        .rsplit_once(':')
        .map_or(spec.tag.as_str(), |(n, _)| n);
    let suffix = format!("-{}", spec.platform.lambda_arch());
    let built = join_all(slots.iter().map(|s| s.engine.last_built(name, &suffix))).await;
    // A stable sort: the newest first, those with none keep their order.
    let mut order = order;
    order.sort_by_key(|&i| std::cmp::Reverse(built[i]));
    order
}

/// The first of `order` with a free slot, else the first to free one.
async fn take<'s>(
    slots: &'s [Slot],
    order: &[usize],
) -> Option<(usize, tokio::sync::SemaphorePermit<'s>)> {
    for &i in order {
        if let Ok(permit) = slots[i].free.try_acquire() {
            return Some((i, permit));
        }
    }
    let waits = order
        .iter()
        .map(|&i| Box::pin(async move { (i, slots[i].free.acquire().await) }));
    let waits: Vec<_> = waits.collect();
    if waits.is_empty() {
        return None;
    }
    let ((i, permit), _, _) = futures_util::future::select_all(waits).await;
    permit.ok().map(|p| (i, p))
}
