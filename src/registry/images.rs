//! The images a repository holds, listed and deleted, for cleanup and
//! prune: through ECR's API, and through the registry API where the images
//! were pushed to another registry (`--registry`).

use super::ImageRef;
use super::artefacts::{artefact_subject, artefact_tag};
use super::ecr::{Ecr, EcrError};
use super::manifest::{ManifestError, RegistryReader, registry_error};
use aws_sdk_ecr::types::ImageIdentifier;
use oci_client::RegistryOperation;
use std::collections::BTreeMap;

/// One image of the repository: its digest, its tags, when it was made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredImage {
    pub digest: String,
    pub tags: Vec<String>,
    /// Nanoseconds since the epoch: pushed (ECR) or created (the image config).
    pub time: i128,
}

impl Ecr {
    /// Deletes an image by digest; false when it was not there.
    pub async fn delete_digest(&self, repository: &str, digest: &str) -> Result<bool, EcrError> {
        let out = self
            .client
            .batch_delete_image()
            .repository_name(repository)
            .image_ids(ImageIdentifier::builder().image_digest(digest).build())
            .send()
            .await;
        match out {
            Ok(out) => {
                // Only "not there" is not a failure.
                let failed = out.failures().iter().find(|f| {
                    f.failure_code() != Some(&aws_sdk_ecr::types::ImageFailureCode::ImageNotFound)
                });
                match failed {
                    Some(f) => Err(EcrError::Api {
                        operation: "BatchDeleteImage",
                        message: f
                            .failure_reason()
                            .unwrap_or("the image was not deleted")
                            .to_string(),
                    }),
                    None => Ok(!out.image_ids().is_empty()),
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(EcrError::Api {
                operation: "BatchDeleteImage",
                message: self.calls.describe(&e),
            }),
        }
    }

    /// Every image of the repository (none when it does not exist).
    pub async fn list_images(&self, repository: &str) -> Result<Vec<StoredImage>, EcrError> {
        let details: Vec<_> = match self
            .client
            .describe_images()
            .repository_name(repository)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
        {
            Ok(details) => details,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception()) =>
            {
                return Ok(Vec::new());
            }
            Err(e) => {
                return Err(EcrError::Api {
                    operation: "DescribeImages",
                    message: self.calls.describe(&e),
                });
            }
        };
        Ok(details
            .iter()
            .filter_map(|d| {
                Some(StoredImage {
                    digest: d.image_digest()?.to_string(),
                    tags: d.image_tags().to_vec(),
                    time: d.image_pushed_at().map_or(0, |t| {
                        i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos())
                    }),
                })
            })
            .collect())
    }
}

/// Deletes the image `digest` of `repository` and the signatures and
/// attestations beside it: through ECR's API, and where the images were
/// pushed to another registry (`registry_override`), through its API too.
pub async fn delete_image(
    ecr: &Ecr,
    reader: &RegistryReader,
    registry_override: Option<&str>,
    repository: &str,
    digest: &str,
) -> Result<(), String> {
    let kinds = ["sig", "att"];
    ecr.delete_digest(repository, digest)
        .await
        .map_err(|e| e.to_string())?;
    for kind in kinds {
        ecr.untag(repository, &artefact_tag(digest, kind))
            .await
            .map_err(|e| e.to_string())?;
    }
    let Some(registry) = registry_override else {
        return Ok(());
    };
    let at = |tag: String| ImageRef {
        registry: registry.to_string(),
        repository: repository.to_string(),
        tag,
    };
    for kind in kinds {
        let beside = at(artefact_tag(digest, kind));
        if let Some(d) = reader.digest(&beside).await.map_err(|e| e.to_string())? {
            reader.delete(&at(d)).await?;
        }
    }
    reader.delete(&at(digest.to_string())).await
}

impl RegistryReader {
    /// Every tagged image of `repository` on `registry`, read through the
    /// registry API: its tags, grouped by digest, and its config's creation time.
    pub async fn list_images(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Vec<StoredImage>, ManifestError> {
        let probe = ImageRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: "latest".to_string(),
        };
        let reference = Self::reference(&probe);
        self.client
            .auth(&reference, &self.auth, RegistryOperation::Pull)
            .await
            .map_err(|e| registry_error(&probe, e))?;
        let tags = match self
            .client
            .list_tags(&reference, &self.auth, None, None)
            .await
        {
            Ok(list) => list.tags,
            // A repository that was never pushed to has no images.
            Err(e) if e.to_string().contains("NAME_UNKNOWN") || e.to_string().contains("404") => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(registry_error(&probe, e)),
        };
        let mut by_digest: BTreeMap<String, StoredImage> = BTreeMap::new();
        for tag in tags {
            let image = ImageRef {
                tag: tag.clone(),
                ..probe.clone()
            };
            let reference = Self::reference(&image);
            let (_, digest, config) = match self
                .client
                .pull_manifest_and_config(&reference, &self.auth)
                .await
            {
                Ok(found) => found,
                // A tag deleted meanwhile, or an index: not an image of ours.
                Err(_) => continue,
            };
            let time = serde_json::from_str::<serde_json::Value>(&config)
                .ok()
                .and_then(|c| c["created"].as_str().map(str::to_string))
                .and_then(|t| {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map_or(0, |t| t.unix_timestamp_nanos());
            let entry = by_digest.entry(digest.clone()).or_insert(StoredImage {
                digest,
                tags: Vec::new(),
                time,
            });
            entry.tags.push(tag);
        }
        Ok(by_digest.into_values().collect())
    }
}

/// What prune does with one image, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PruneDecision {
    pub digest: String,
    pub tags: Vec<String>,
    pub keep: bool,
    pub why: String,
    /// The signatures and attestations beside it (their tags), which go with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artefacts: Vec<String>,
}

/// `<sha>[-dirty-<digest>]-<arch>[-<rest>]`: the commit, the architecture,
/// and whether it is the commit's image itself (no rest).
fn commit_tag(tag: &str) -> Option<(String, &'static str, bool)> {
    let (sha, rest) = (tag.get(..40)?, tag.get(40..)?);
    if !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let rest = rest.strip_prefix('-')?;
    let rest = match rest.strip_prefix("dirty-") {
        Some(dirty) => dirty.split_once('-')?.1,
        None => rest,
    };
    for arch in ["x86_64", "arm64"] {
        if let Some(after) = rest.strip_prefix(arch) {
            if after.is_empty() {
                return Some((tag[..tag.len() - arch.len() - 1].to_string(), arch, true));
            }
            if after.starts_with('-') {
                let base = &tag[..tag.len() - after.len() - arch.len() - 1];
                return Some((base.to_string(), arch, false));
            }
        }
    }
    None
}

/// Which images prune keeps: every one in `used` (digest → who runs it),
/// the newest `keep` commit images of each architecture, the stage caches
/// and staging tags of a kept commit, and anything that is not a
/// lambda-ship image. The rest goes.
pub fn prune_plan(
    images: &[StoredImage],
    used: &BTreeMap<String, Vec<String>>,
    keep: usize,
) -> Vec<PruneDecision> {
    // A signature or attestation is not an image: it follows the one it names.
    let is_artefact = |i: &StoredImage| {
        !i.tags.is_empty() && i.tags.iter().all(|t| artefact_subject(t).is_some())
    };
    let mut artefacts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for image in images.iter().filter(|i| is_artefact(i)) {
        for tag in &image.tags {
            if let Some(subject) = artefact_subject(tag) {
                artefacts.entry(subject).or_default().push(tag.clone());
            }
        }
    }
    let mut newest: Vec<&StoredImage> = images.iter().filter(|i| !is_artefact(i)).collect();
    newest.sort_by(|a, b| b.time.cmp(&a.time).then(a.digest.cmp(&b.digest)));
    let mut kept_commits: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for image in &newest {
        for (commit, arch, own) in image.tags.iter().filter_map(|t| commit_tag(t)) {
            let list = kept_commits.entry(arch).or_default();
            if own && list.len() < keep && !list.contains(&commit) {
                list.push(commit);
            }
        }
    }
    let decide = |image: &StoredImage| -> (bool, String) {
        if let Some(who) = used.get(&image.digest) {
            return (true, format!("in use by {}", who.join(", ")));
        }
        let tags: Vec<_> = image.tags.iter().filter_map(|t| commit_tag(t)).collect();
        if tags.is_empty() {
            return (true, "not a lambda-ship image".into());
        }
        // A tag someone else gave it (a release, `latest`) is theirs to remove.
        if let Some(other) = image.tags.iter().find(|t| commit_tag(t).is_none()) {
            return (true, format!("also tagged {other}, not by lambda-ship"));
        }
        let kept = |(commit, arch, _): &&(String, &'static str, bool)| {
            kept_commits.get(arch).is_some_and(|l| l.contains(commit))
        };
        // Its own commit tag first: a staging or cache tag only says whose it is.
        if let Some((_, arch, _)) = tags.iter().filter(|t| t.2).find(kept) {
            return (true, format!("among the newest {keep} of {arch}"));
        }
        if let Some((_, arch, _)) = tags.iter().find(kept) {
            return (true, format!("belongs to a kept image of {arch}"));
        }
        (false, "not in use, older than the newest kept".into())
    };
    newest
        .into_iter()
        .map(|image| {
            let (keep, why) = decide(image);
            PruneDecision {
                digest: image.digest.clone(),
                tags: image.tags.clone(),
                keep,
                why,
                artefacts: artefacts.get(&image.digest).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(n: i128, tags: &[&str]) -> StoredImage {
        StoredImage {
            digest: format!("sha256:{n:064}"),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            time: n,
        }
    }

    fn sha(n: u8) -> String {
        format!("{n:x}").repeat(40)
    }

    #[test]
    fn prune_keeps_what_runs_the_newest_n_and_their_caches() {
        let (a, b, c) = (sha(1), sha(2), sha(3));
        let images = vec![
            image(1, &[&format!("{a}-x86_64")]),
            image(2, &[&format!("{b}-x86_64")]),
            image(3, &[&format!("{c}-x86_64")]),
            image(4, &[&format!("{c}-x86_64-cache-builder")]),
            image(5, &[&format!("{a}-arm64")]),
            image(6, &[&format!("{b}-x86_64-cache-builder")]),
            image(7, &["latest"]),
            image(0, &[&format!("{b}-arm64"), "v1.2"]),
        ];
        let used = BTreeMap::from([(images[0].digest.clone(), vec!["orders:live".to_string()])]);
        let plan = prune_plan(&images, &used, 1);
        let kept = |n: i128| {
            plan.iter()
                .find(|d| d.digest == format!("sha256:{n:064}"))
                .unwrap()
                .clone()
        };
        assert!(
            kept(1).keep && kept(1).why.contains("orders:live"),
            "in use, whatever N"
        );
        assert!(!kept(2).keep, "older than the newest 1");
        assert!(kept(3).keep && kept(3).why.contains("newest 1 of x86_64"));
        assert!(kept(4).keep, "the cache of a kept commit");
        assert!(kept(5).keep, "the newest of arm64");
        assert!(!kept(6).keep, "the cache of a deleted commit");
        assert!(kept(7).keep, "not ours");
        assert!(
            kept(0).keep && kept(0).why.contains("v1.2"),
            "also the user's"
        );
        assert!(
            prune_plan(&images, &used, 0)
                .iter()
                .filter(|d| d.keep)
                .count()
                == 3
        );
    }
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod images_tests;
