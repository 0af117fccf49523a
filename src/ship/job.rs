//! One platform's way through a run: reused when its tag exists; else its
//! cache sources read, tagged without a build when nothing that reaches the
//! image changed, else built (with the cache of earlier images and of its
//! builder stages), run locally, gated and pushed, then its stages exported
//! for the next run's cache.

use super::cache::{self, Candidate};
use super::platform::{
    Destination, Limits, inputs_digest, reuse_image, reuse_unchanged, ship_image,
};
use super::pool::Pool;
use super::{Lazy, stages};
use crate::config::{BuildConfig, Platform};
use crate::error::PlatformError;
use crate::farm::BuildSpec;
use crate::farm::inputs::{CACHE_SOURCES_LABEL, INPUTS_LABEL};
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::ecr::Repository;
use crate::registry::session::RegistrySession;
use crate::report::ImageReport;
use crate::sandbox::{Gate, LocalCheck};

/// What every platform of one run shares.
pub(super) struct Run<'a> {
    pub(super) config: &'a BuildConfig,
    pub(super) session: &'a RegistrySession<'a>,
    pub(super) repository: &'a Lazy<'a>,
    /// The repository as it is, or as it will be created.
    pub(super) planned: &'a Repository,
    /// The platforms whose tag is not there yet (all with --force-rebuild).
    pub(super) to_build: &'a [Platform],
    /// The builder stages the image needs, cached as images of their own.
    pub(super) stages: &'a [String],
    pub(super) check: Option<(&'a LocalCheck, &'a Gate)>,
    /// The farm, shared by every image of the run.
    pub(super) pool: &'a Pool,
    pub(super) progress: &'a Progress,
}

impl Run<'_> {
    pub(super) async fn platform(
        &self,
        mut spec: BuildSpec,
        sources: Vec<Candidate>,
        image: ImageRef,
    ) -> Result<ImageReport, PlatformError> {
        let (config, session, progress) = (self.config, self.session, self.progress);
        let platform = spec.platform;
        if !(self.pool.has(platform) && self.to_build.contains(&platform)) {
            return reuse_image(session, self.planned, &image, platform, progress).await;
        }
        // The context is hashed while the registry is read.
        let (mut found, inputs) = tokio::join!(
            cache::resolve(sources, platform, session, progress),
            inputs_digest(&spec)
        );
        let inputs = match inputs {
            Ok(inputs) => inputs,
            Err(e) => return self.fail(e).await,
        };
        // An earlier image of these very inputs is this commit's image too;
        // the images behind the ones found are read only when none is.
        if !config.force_rebuild
            && let Some(same) = self.same(&found, &inputs, &image)
        {
            return self.unchanged(platform, same, &image).await;
        }
        let behind = cache::behind(&found, &image);
        found.extend(cache::resolve(behind, platform, session, progress).await);
        if !config.force_rebuild
            && let Some(same) = self.same(&found, &inputs, &image)
        {
            return self.unchanged(platform, same, &image).await;
        }
        spec.labels.insert(INPUTS_LABEL.to_string(), inputs);
        let sources_label = cache::sources_label(&found, &image);
        if !sources_label.is_empty() {
            spec.labels
                .insert(CACHE_SOURCES_LABEL.to_string(), sources_label);
        }
        for f in &found {
            progress.say(&format!("{platform}: cache from {}", f.why));
        }
        spec.cache_from = found.iter().map(|f| f.image.to_string()).collect();
        spec.registry_auth = Some((session.registry().to_string(), session.credentials().await));
        let limits = Limits {
            build: config.build_timeout,
            push: config.push_timeout,
        };
        let previous = config.cache.previous_sha.as_ref().map(|s| s.as_str());
        let stage_sources = stages::sources(
            self.stages,
            &image,
            &found,
            previous,
            platform,
            session,
            progress,
        )
        .await;
        spec.cache_from.extend(stage_sources);
        let to = Destination {
            session,
            repository: self.repository,
            limits,
            progress,
        };
        let Some((engine, built)) = self.pool.build(&spec, limits.build, progress).await else {
            return self.fail(no_engine(platform)).await;
        };
        let shipped = ship_image(engine, built, &spec, self.check, to, &image).await;
        // The stages are built on their own only after the image: built
        // first, they keep the image from its own registry cache.
        if shipped.is_ok() && !self.stages.is_empty() {
            stages::export(engine, &spec, self.stages, &image, to).await;
        }
        shipped
    }

    /// An earlier image of `inputs` in this image's repository.
    fn same<'f>(
        &self,
        found: &'f [cache::Found],
        inputs: &str,
        image: &ImageRef,
    ) -> Option<&'f cache::Found> {
        found.iter().find(|f| {
            f.inputs.as_deref() == Some(inputs)
                && f.image.registry == image.registry
                && f.image.repository == image.repository
        })
    }

    /// Tagged as that earlier image, not built.
    async fn unchanged(
        &self,
        platform: Platform,
        same: &cache::Found,
        image: &ImageRef,
    ) -> Result<ImageReport, PlatformError> {
        let gate = self.check.map(|(_, g)| g);
        reuse_unchanged(
            platform,
            same,
            gate,
            self.session,
            self.planned,
            image,
            self.progress,
        )
        .await
    }

    /// A platform that fails before it reaches the gate still says so there:
    /// the others must not wait for it.
    async fn fail(&self, e: PlatformError) -> Result<ImageReport, PlatformError> {
        if let Some((_, gate)) = self.check {
            gate.pass(false).await;
        }
        Err(e)
    }
}

fn no_engine(platform: Platform) -> PlatformError {
    PlatformError::Build(crate::farm::BuildError::Engine {
        platform,
        engine: "its pool".to_string(),
        message: "no engine of the pool is left to build on".to_string(),
    })
}
