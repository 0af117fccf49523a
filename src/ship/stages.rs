//! The builder stages of a multi-stage Dockerfile, cached in the registry.
//! The engine's BuildKit exports only the inline cache, which covers the
//! final stage's layers; so each stage the final one needs is also built on
//! its own, as `<sha>-<arch>-cache-<stage>` with its own inline cache, and a
//! later build on a fresh runner imports it from there.

use super::cache::{self, Candidate, Found};
use super::platform::{Destination, push_within};
use crate::error::PlatformError;
use crate::farm::engine::Engine;
use crate::farm::{self, BuildSpec};
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::session::RegistrySession;

/// The tag of a stage's cache image for the image tagged `tag`.
pub(super) fn stage_tag(tag: &str, stage: &str) -> String {
    let stage: String = stage
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let tag = format!("{tag}-cache-{stage}");
    tag.chars().take(128).collect()
}

/// The earlier cache images of `stages` that are there, by digest: those
/// of the commits in `found` (by their revision label) and of the previous
/// commit. The final build imports them with the final images' cache.
pub(super) async fn sources(
    stages: &[String],
    image: &ImageRef,
    found: &[Found],
    previous: Option<&str>,
    platform: crate::model::Platform,
    session: &RegistrySession<'_>,
    progress: &Progress,
) -> Vec<String> {
    let commits: Vec<&str> = found
        .iter()
        .filter(|f| f.image.repository == image.repository)
        .filter_map(|f| f.revision.as_deref())
        .chain(previous)
        .collect();
    let mut candidates = Vec::new();
    for stage in stages {
        for commit in &commits {
            candidates.push(Candidate {
                image: ImageRef {
                    tag: stage_tag(&format!("{commit}-{}", platform.lambda_arch()), stage),
                    ..image.clone()
                },
                why: format!("stage {stage} of commit {commit}"),
            });
        }
    }
    let found = cache::resolve(dedup(candidates), platform, session, progress).await;
    for f in &found {
        progress.say(&format!("{platform}: cache from {}", f.why));
    }
    found.into_iter().map(|f| f.image.to_string()).collect()
}

/// After the image is built: each stage it needs built on its own (all from
/// the engine's cache by now) and pushed as `<tag>-cache-<stage>`, the cache
/// a later build on a fresh runner imports. A failure is said, never fatal.
pub(super) async fn export(
    engine: &Engine,
    spec: &BuildSpec,
    stages: &[String],
    image: &ImageRef,
    to: Destination<'_>,
) {
    let progress = to.progress;
    let platform = spec.platform;
    for stage in stages {
        let mut stage_spec = spec.clone();
        stage_spec.target = Some(stage.clone());
        stage_spec.tag = format!("{}-cache-{stage}", spec.tag)
            .chars()
            .take(255)
            .collect();
        // A cache image is never taken for a deployable one.
        stage_spec.labels.remove(crate::farm::inputs::INPUTS_LABEL);
        let target = ImageRef {
            tag: stage_tag(&image.tag, stage),
            ..image.clone()
        };
        let exported = async {
            let built = farm::build_within(engine, &stage_spec, to.limits.build, progress).await?;
            to.repository
                .get()
                .await
                .map_err(PlatformError::Repository)?;
            push_within(engine, &built, to, &target).await
        };
        match exported.await {
            Ok(_) => progress.say(&format!("{platform}: stage {stage} cached as {target}")),
            Err(e) => progress.say(&format!(
                "{platform}: stage {stage} was not cached in the registry: {e}"
            )),
        }
    }
}

fn dedup(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.image.to_string()));
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_tags_are_valid_tags() {
        assert_eq!(
            stage_tag("abc-x86_64", "builder"),
            "abc-x86_64-cache-builder"
        );
        assert_eq!(stage_tag("t", "Build/Stage"), "t-cache-Build-Stage");
        assert_eq!(stage_tag(&"a".repeat(120), "builder").len(), 128);
    }
}
