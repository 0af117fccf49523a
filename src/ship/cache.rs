//! Where a build imports its cache from: the images of earlier commits of
//! its own architecture, found in the registry. A fresh CI runner starts with
//! an empty engine; these images hold the layers (and, written by every
//! build, BuildKit's inline cache metadata) that let it skip the steps the
//! change did not touch.

use crate::farm::inputs::{CACHE_SOURCES_LABEL, INPUTS_LABEL, REVISION_LABEL};
use crate::model::{CacheSources, Platform};
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::manifest::{ManifestError, RegistryReader};
use crate::registry::session::RegistrySession;
use futures_util::future::join_all;

/// An image that may hold this build's cache, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Candidate {
    pub(super) image: ImageRef,
    pub(super) why: String,
}

/// The images worth importing cache from for `platform`, likeliest first:
/// what each target function runs now, the previous commit's image, then
/// `--cache-from`. `ours` is this build's own image; an image on the ECR
/// host (`ecr_host`) is read where this run pushes (`ours.registry`).
pub(super) fn candidates(
    cache: &CacheSources,
    platform: Platform,
    ours: &ImageRef,
    ecr_host: &str,
    repository_exists: bool,
) -> Vec<Candidate> {
    if !cache.enabled {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (_, name, uri) in cache.running.iter().filter(|(p, _, _)| *p == platform) {
        if let Some(mut image) = ImageRef::parse(uri) {
            if image.registry == ecr_host {
                image.registry.clone_from(&ours.registry);
            }
            found.push(Candidate {
                image,
                why: format!("the image {name} runs now"),
            });
        }
    }
    if let Some(previous) = cache.previous_sha.as_ref().filter(|_| repository_exists) {
        found.push(Candidate {
            image: ImageRef {
                tag: format!("{previous}-{}", platform.lambda_arch()),
                ..ours.clone()
            },
            why: "the previous commit's image".to_string(),
        });
    }
    found.extend(cache.extra.iter().cloned().map(|image| Candidate {
        image,
        why: "--cache-from".to_string(),
    }));
    let mut seen = std::collections::HashSet::new();
    found.retain(|c| seen.insert(c.image.to_string()));
    found
}

/// An earlier image found in the registry, of the build's platform.
#[derive(Debug, Clone)]
pub(super) struct Found {
    /// By digest.
    pub(super) image: ImageRef,
    /// As it was named, and why: `REF (the image FN runs now)`.
    pub(super) why: String,
    /// Its inputs digest, when lambda-ship built it.
    pub(super) inputs: Option<String>,
    /// The commit it was built from, by its revision label.
    pub(super) revision: Option<String>,
    /// The earlier images its own build imported cache from (digests).
    pub(super) sources: Vec<String>,
}

/// The candidates that are there and of `platform`, each once. Every other
/// one is skipped with a line that says why: a cache source never fails a
/// build.
pub(super) async fn resolve(
    candidates: Vec<Candidate>,
    platform: Platform,
    session: &RegistrySession<'_>,
    progress: &Progress,
) -> Vec<Found> {
    let checks = candidates.into_iter().map(|c| async move {
        // The session's token goes to the session's registry only.
        let reader = if c.image.registry == session.registry() {
            session.reader().await
        } else {
            RegistryReader::anonymous(&c.image.registry)
        };
        let checked = reader.verify(&c.image, platform).await;
        (c, checked)
    });
    let mut found: Vec<Found> = Vec::new();
    for (c, checked) in join_all(checks).await {
        match checked {
            Ok(image) => {
                let by_digest = c.image.at(&image.digest);
                if !found.iter().any(|f| f.image == by_digest) {
                    found.push(Found {
                        image: by_digest,
                        why: format!("{} ({})", c.image, c.why),
                        inputs: image.labels.get(INPUTS_LABEL).cloned(),
                        revision: image.labels.get(REVISION_LABEL).cloned(),
                        sources: image
                            .labels
                            .get(CACHE_SOURCES_LABEL)
                            .map(|l| l.split(',').map(str::to_string).collect())
                            .unwrap_or_default(),
                    });
                }
            }
            Err(e) => progress.say(&format!(
                "{platform}: cache source {} ({}) skipped: {}",
                c.image,
                c.why,
                skip_reason(&e)
            )),
        }
    }
    found
}

/// The images that hold the rest of the cache of those `found`. The engine
/// writes into an image's inline cache only the steps its own build ran: an
/// image built from cache holds the records of its new layers alone, and
/// the records of the layers it reused stay in the images that built them.
/// Each image names the images it imported cache from
/// (`CACHE_SOURCES_LABEL`); these are imported too.
pub(super) fn behind(found: &[Found], ours: &ImageRef) -> Vec<Candidate> {
    let mut more = Vec::new();
    for f in found.iter().filter(|f| f.image.name() == ours.name()) {
        for digest in f.sources.iter().filter(|d| d.starts_with("sha256:")) {
            let image = ours.at(digest);
            if !found.iter().any(|g| g.image == image)
                && !more.iter().any(|c: &Candidate| c.image == image)
            {
                more.push(Candidate {
                    image,
                    why: "an earlier image that holds part of its cache".to_string(),
                });
            }
        }
    }
    more
}

/// The label value naming the images a build imports cache from, in this
/// repository: the newest first, at most `MAX_SOURCES`, the oldest always
/// kept (it built the layers that change least).
pub(super) fn sources_label(found: &[Found], ours: &ImageRef) -> String {
    const MAX_SOURCES: usize = 4;
    let mut digests: Vec<&str> = Vec::new();
    for f in found.iter().filter(|f| f.image.name() == ours.name()) {
        if !digests.contains(&f.image.tag.as_str()) {
            digests.push(&f.image.tag);
        }
    }
    if digests.len() > MAX_SOURCES {
        let oldest = digests[digests.len() - 1];
        digests.truncate(MAX_SOURCES - 1);
        digests.push(oldest);
    }
    digests.join(",")
}

fn skip_reason(e: &ManifestError) -> String {
    match e {
        ManifestError::NotFound { .. } => "it is not in the registry".to_string(),
        ManifestError::WrongPlatform { os, arch, .. } => {
            format!("it is an image for {os}/{arch}")
        }
        other => format!("it cannot be read ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> ImageRef {
        ImageRef::parse("127.0.0.1:5000/fn:bbbb-x86_64").unwrap()
    }

    #[test]
    fn the_running_image_comes_first_then_the_previous_commit_then_the_flags() {
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        let cache = CacheSources {
            enabled: true,
            extra: vec![ImageRef::parse("ghcr.io/acme/base:cache").unwrap()],
            previous_sha: Some("a".repeat(40).parse().unwrap()),
            running: vec![
                (Platform::Amd64, "api".into(), format!("{ecr}/fn@sha256:1")),
                (
                    Platform::Arm64,
                    "worker".into(),
                    format!("{ecr}/fn@sha256:2"),
                ),
            ],
        };
        let found: Vec<String> = candidates(&cache, Platform::Amd64, &ours(), ecr, true)
            .into_iter()
            .map(|c| c.image.to_string())
            .collect();
        assert_eq!(
            found,
            [
                "127.0.0.1:5000/fn@sha256:1".to_string(),
                format!("127.0.0.1:5000/fn:{}-x86_64", "a".repeat(40)),
                "ghcr.io/acme/base:cache".to_string(),
            ]
        );
        // A repository that is not there yet holds no previous commit.
        assert_eq!(
            candidates(&cache, Platform::Amd64, &ours(), ecr, false).len(),
            2
        );
        let off = CacheSources {
            enabled: false,
            ..cache
        };
        assert!(candidates(&off, Platform::Amd64, &ours(), ecr, true).is_empty());
    }

    fn found(digest: &str, sources: &[&str]) -> Found {
        Found {
            image: ours().at(digest),
            why: String::new(),
            inputs: None,
            revision: None,
            sources: sources.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn an_image_built_from_cache_leads_to_the_images_that_hold_the_rest() {
        let running = found("sha256:5", &["sha256:4", "sha256:1"]);
        let behind: Vec<String> = behind(std::slice::from_ref(&running), &ours())
            .into_iter()
            .map(|c| c.image.tag)
            .collect();
        assert_eq!(behind, ["sha256:4", "sha256:1"]);
        // The label: newest first, at most four, the oldest always kept.
        let all: Vec<Found> = [
            "sha256:6", "sha256:5", "sha256:4", "sha256:3", "sha256:2", "sha256:1",
        ]
        .iter()
        .map(|d| found(d, &[]))
        .collect();
        assert_eq!(
            sources_label(&all, &ours()),
            "sha256:6,sha256:5,sha256:4,sha256:1"
        );
        // Images of other repositories are never named.
        let other = Found {
            image: ImageRef::parse("ghcr.io/acme/base@sha256:9").unwrap(),
            ..found("sha256:9", &[])
        };
        assert_eq!(sources_label(&[other], &ours()), "");
    }
}
