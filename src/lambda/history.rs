//! A function's releases, read back from what lambda-ship wrote on it: each
//! published version with its commit, image digest, date and CI run (its
//! description), the aliases that serve it and with what weight, and
//! whether it was rolled back (the function's tag). `history` prints it;
//! `rollback` chooses its target from it.

use super::StepError;
use super::client::Lambda;
use super::release::AliasState;
use crate::model::release::{self, VersionNote};
use std::fmt::Write as _;

/// One published version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReleaseEntry {
    pub version: String,
    /// None for a version lambda-ship did not publish.
    pub commit: Option<String>,
    pub digest: Option<String>,
    pub run_url: Option<String>,
    pub published: String,
    /// The aliases that send it traffic, with their share in percent.
    pub served_by: Vec<ServedBy>,
    pub rolled_back: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServedBy {
    pub alias: String,
    pub percent: f64,
}

/// A function's releases, the newest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct History {
    pub function: String,
    pub aliases: Vec<AliasState>,
    pub releases: Vec<ReleaseEntry>,
    /// On `$LATEST`: the image it ran before its current one, when recorded.
    pub previous_image: Option<String>,
}

impl History {
    /// Puts the versions, aliases and tags together.
    pub fn assemble(
        function: &str,
        versions: Vec<super::release::PublishedVersion>,
        aliases: Vec<AliasState>,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> History {
        let rolled_back =
            release::rolled_back(tags.get(release::ROLLED_BACK_TAG).map(String::as_str));
        let mut releases: Vec<ReleaseEntry> = versions
            .into_iter()
            .map(|v| {
                let note = VersionNote::parse(&v.description);
                let served_by = aliases
                    .iter()
                    .filter_map(|a| {
                        let other: f64 = a.weights.iter().map(|(_, w)| w).sum();
                        let percent = if a.version == v.version {
                            (1.0 - other) * 100.0
                        } else {
                            a.weights.iter().find(|(k, _)| *k == v.version)?.1 * 100.0
                        };
                        Some(ServedBy {
                            alias: a.name.clone(),
                            percent: (percent * 10.0).round() / 10.0,
                        })
                    })
                    .collect();
                ReleaseEntry {
                    rolled_back: rolled_back.contains(&v.version),
                    commit: note.as_ref().map(|n| n.commit.clone()),
                    digest: note.as_ref().map(|n| n.digest.clone()),
                    run_url: note.and_then(|n| n.run_url),
                    published: v.published,
                    version: v.version,
                    served_by,
                }
            })
            .collect();
        releases.sort_by_key(|r| std::cmp::Reverse(r.version.parse::<u64>().unwrap_or(0)));
        History {
            function: function.to_string(),
            aliases,
            releases,
            previous_image: tags
                .get(release::PREVIOUS_IMAGE_TAG)
                .filter(|v| !v.is_empty())
                .cloned(),
        }
    }

    /// Only what concerns one alias: the others are left out.
    pub fn for_alias(mut self, alias: &str) -> History {
        self.aliases.retain(|a| a.name == alias);
        for r in &mut self.releases {
            r.served_by.retain(|s| s.alias == alias);
        }
        self
    }

    /// A table for a person.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.function);
        for a in &self.aliases {
            let split: Vec<String> = a
                .weights
                .iter()
                .map(|(v, w)| format!("{v} at {:.0}%", w * 100.0))
                .collect();
            let served = a.served();
            let _ = writeln!(
                out,
                "  alias {} → {}{}{}",
                a.name,
                a.version,
                if split.is_empty() {
                    String::new()
                } else {
                    format!(" (and {})", split.join(", "))
                },
                if served.0.is_empty() {
                    String::new()
                } else {
                    format!("; served before: {}", served.0.join(" "))
                }
            );
        }
        if let Some(image) = &self.previous_image {
            let _ = writeln!(out, "  ran before: {image}");
        }
        let _ = writeln!(
            out,
            "  {:<8} {:<8} {:<20} {:<16} {:<12} run",
            "version", "commit", "published", "served by", "image"
        );
        for r in &self.releases {
            let served = if r.rolled_back && r.served_by.is_empty() {
                "rolled back".to_string()
            } else {
                r.served_by
                    .iter()
                    .map(|s| format!("{} {}%", s.alias, s.percent))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let short = |s: &Option<String>, n: usize| {
                s.as_deref()
                    .map_or("-".to_string(), |s| s.chars().take(n).collect())
            };
            let digest = r
                .digest
                .as_deref()
                .and_then(|d| d.strip_prefix("sha256:"))
                .map_or("-".to_string(), |d| d.chars().take(12).collect());
            let _ = writeln!(
                out,
                "  {:<8} {:<8} {:<20} {:<16} {:<12} {}",
                r.version,
                short(&r.commit, 7),
                short(&Some(r.published.clone()), 19),
                if served.is_empty() { "-" } else { &served },
                digest,
                r.run_url.as_deref().unwrap_or("-")
            );
        }
        out
    }
}

impl Lambda {
    /// Reads the function's releases.
    pub async fn history(&self, name: &str) -> Result<History, StepError> {
        let (versions, aliases, tags) = tokio::try_join!(
            self.published_versions(name),
            self.aliases(name),
            self.tags(name)
        )?;
        Ok(History::assemble(name, versions, aliases, &tags))
    }
}

#[cfg(test)]
mod tests {
    use super::super::release::PublishedVersion;
    use super::*;

    fn version(v: &str, commit: &str) -> PublishedVersion {
        PublishedVersion {
            version: v.into(),
            description: format!("lambda-ship {commit} sha256:{}", "b".repeat(64)),
            published: "2026-12-03T10:00:00.000+0000".into(),
        }
    }

    #[test]
    fn each_release_says_its_commit_who_serves_it_and_whether_it_was_rolled_back() {
        let alias = AliasState {
            revision_id: None,
            name: "live".into(),
            version: "2".into(),
            weights: vec![("3".into(), 0.2)],
            description: "lambda-ship served: 1".into(),
        };
        let tags = [(release::ROLLED_BACK_TAG.to_string(), "1".to_string())].into();
        let h = History::assemble(
            "orders",
            vec![
                version("1", "aaaaaaa"),
                version("2", "bbbbbbb"),
                version("3", "ccccccc"),
            ],
            vec![alias],
            &tags,
        );
        let order: Vec<&str> = h.releases.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(order, ["3", "2", "1"]);
        assert_eq!(h.releases[0].served_by[0].percent, 20.0);
        assert_eq!(h.releases[1].served_by[0].percent, 80.0);
        assert!(h.releases[2].served_by.is_empty() && h.releases[2].rolled_back);
        assert_eq!(h.releases[1].commit.as_deref(), Some("bbbbbbb"));
        let text = h.to_text();
        assert!(
            text.contains("alias live → 2 (and 3 at 20%); served before: 1"),
            "{text}"
        );
        assert!(text.contains("rolled back"), "{text}");
    }
}
