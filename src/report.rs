//! What a run produced, as plain typed data: the deploy stage reads it, and
//! `--output json` prints it.

use crate::model::{CommitSha, Platform};
use crate::progress::human_bytes;
use crate::registry::ecr::Repository;
use std::fmt::Write as _;

/// The images of one commit, one per platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    /// Its `[images.NAME]` in `lambda-ship.toml`, when the run has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub commit: CommitSha,
    pub repository: Repository,
    /// Where the bytes went: the repository's registry, or `--registry`.
    pub registry: String,
    pub images: Vec<ImageReport>,
}

/// One platform's image.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageReport {
    pub platform: Platform,
    /// Lambda's name for the architecture: `x86_64` or `arm64`.
    pub architecture: &'static str,
    /// `<commit-sha>-<architecture>`
    pub tag: String,
    /// `<repositoryUri>:<tag>`
    pub image_uri: String,
    pub digest: String,
    /// `<repositoryUri>@<digest>`: what Lambda is pointed at.
    pub deploy_uri: String,
    /// `<registry>/<repository>:<tag>`: where the push went.
    pub pushed_to: String,
    pub media_type: String,
    /// Config and compressed layers, as the registry holds them.
    pub compressed_size: u64,
    /// Uncompressed, as the engine counts it; absent when the image was reused.
    pub size: Option<u64>,
    /// True when the tag existed and nothing was built or pushed.
    pub reused: bool,
    /// When nothing that reaches the image changed: the earlier image, of
    /// the same inputs digest, that this commit's tag now names.
    pub unchanged_since: Option<String>,
    /// The engine that built it.
    pub engine: Option<String>,
    /// That engine's API version and architecture, for a signed provenance.
    #[serde(skip)]
    pub engine_version: Option<String>,
    /// Its inputs digest (`dev.lambda-ship.inputs`), as its config labels it.
    #[serde(skip)]
    pub inputs: Option<String>,
    /// The signature and provenance added beside it (`--sign-key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<crate::signing::Signed>,
    pub build_seconds: f64,
    pub push_seconds: f64,
    /// The image invoked locally as Lambda would, before the push.
    pub local_smoke: Option<crate::sandbox::LocalResult>,
    /// ECR's scan on push of it (deploy only).
    pub scan: Option<crate::metrics::Scan>,
}

impl BuildReport {
    pub fn image(&self, platform: Platform) -> Option<&ImageReport> {
        self.images.iter().find(|i| i.platform == platform)
    }

    /// A few lines for a person.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "commit {}\nrepository {}\n",
            self.commit, self.repository.uri
        );
        // One field a line: a digest is never cut, whatever the width.
        for i in &self.images {
            let how = if let Some(since) = &i.unchanged_since {
                format!("unchanged since {since}: tagged, nothing was built or pushed")
            } else if i.reused {
                "reused: the tag existed, nothing was built or pushed".to_string()
            } else {
                format!(
                    "built in {:.1}s on {}, pushed in {:.1}s",
                    i.build_seconds,
                    i.engine.as_deref().unwrap_or("?"),
                    i.push_seconds
                )
            };
            let _ = writeln!(out, "{} ({})", i.architecture, i.platform);
            let _ = writeln!(out, "  tag     {}", i.image_uri);
            let _ = writeln!(out, "  deploy  {}", i.deploy_uri);
            let mut size = format!("{} compressed", human_bytes(i.compressed_size));
            if let Some(bytes) = i.size {
                let _ = write!(size, ", {} uncompressed", human_bytes(bytes));
            }
            let _ = writeln!(out, "  size    {size}");
            let _ = writeln!(out, "  {how}");
        }
        out
    }
}

/// A whole `deploy` run, written on success and on failure alike.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    /// True when every stage held.
    pub ok: bool,
    pub commit: Option<CommitSha>,
    pub ci: crate::ci::CiKind,
    /// The pull or merge request.
    pub change_number: Option<u64>,
    pub build: Option<BuildReport>,
    /// With `[images]` in `lambda-ship.toml`: each image of the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<BuildReport>,
    pub functions: Vec<crate::lambda::FunctionReport>,
    /// The release rolled out step by step (`--rollout`).
    pub rollout: Option<crate::rollout::RolloutReport>,
    pub failure: Option<Failure>,
}

/// The stage that failed and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    pub stage: Stage,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Configuration,
    Identity,
    Preflight,
    Build,
    Signature,
    Deploy,
    Rollout,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Configuration => "configuration",
            Stage::Identity => "identity",
            Stage::Preflight => "preflight",
            Stage::Build => "build",
            Stage::Signature => "signature",
            Stage::Deploy => "deploy",
            Stage::Rollout => "rollout",
        })
    }
}

impl RunReport {
    /// Every image of the run: the flags' one, or each of `[images]`.
    pub fn builds(&self) -> impl Iterator<Item = &BuildReport> {
        self.build.iter().chain(&self.images)
    }

    /// The image a function runs from this run: by its digest, else (a
    /// function not deployed) the one image of its architecture.
    pub fn image_of(&self, f: &crate::lambda::FunctionReport) -> Option<&ImageReport> {
        let all = || self.builds().flat_map(|b| &b.images);
        all()
            .find(|i| {
                i.architecture == f.architecture
                    && f.image_after.as_deref() == Some(i.deploy_uri.as_str())
            })
            .or_else(|| {
                let mut same = all().filter(|i| i.architecture == f.architecture);
                let first = same.next();
                if same.next().is_some() { None } else { first }
            })
    }

    /// A few lines for a person.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for build in self.builds() {
            if let Some(name) = &build.image {
                let _ = writeln!(out, "image {name}");
            }
            out.push_str(&build.to_text());
        }
        for f in &self.functions {
            let _ = writeln!(
                out,
                "function {} ({}): {}",
                f.name, f.architecture, f.outcome
            );
            if let Some(of) = &f.preview_of {
                let _ = writeln!(out, "  preview of {of}");
            }
            if f.created {
                let _ = writeln!(out, "  created");
            }
            if let Some(image) = &f.image_after {
                let _ = writeln!(out, "  image   {image}");
            }
            for change in &f.configured {
                let _ = writeln!(out, "  config  {change}");
            }
            if let Some(alias) = &f.alias {
                let _ = writeln!(
                    out,
                    "  alias   {} → {}",
                    alias.name,
                    alias.version.as_deref().unwrap_or("(none)")
                );
            }
            let _ = writeln!(out, "  url     {}", f.url.as_deref().unwrap_or("none"));
            if let Some(s) = &f.smoke {
                let verdict = if s.passed { "passed" } else { "FAILED" };
                let _ = writeln!(
                    out,
                    "  smoke   {verdict} (status {}, {} ms)",
                    s.status, s.duration_ms
                );
            }
            if let Some(n) = f.numbers.as_ref().filter(|n| !n.is_empty()) {
                let _ = writeln!(out, "  numbers {}", n.summary());
            }
            for w in &f.warnings {
                let _ = writeln!(out, "  warning {w}");
            }
        }
        if let Some(rollout) = &self.rollout {
            let _ = writeln!(out, "rollout {}", rollout.summary());
            for e in &rollout.events {
                let _ = writeln!(out, "  {:>6.1}s {:>3}%  {}", e.seconds, e.percent, e.what);
            }
        }
        if let Some(failure) = &self.failure {
            // The message itself is the run's error, printed once on stderr.
            let _ = writeln!(out, "failed at the {} stage", failure.stage);
        }
        out
    }
}

/// What `lambda-ship cleanup` did for one pull request.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CleanupReport {
    pub pull_request: u64,
    pub previews: Vec<crate::lambda::housekeeping::PreviewRemoval>,
    /// Digests of the images deleted.
    pub deleted: Vec<String>,
    /// Images of the pull request kept, and who still runs them.
    pub kept: Vec<KeptImage>,
    /// What could not be done.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct KeptImage {
    pub digest: String,
    pub why: String,
}

impl CleanupReport {
    pub fn to_text(&self) -> String {
        let mut out = format!("cleanup of pull request #{}\n", self.pull_request);
        for p in &self.previews {
            let state = match (&p.note, p.removed) {
                (_, true) => "removed".to_string(),
                (Some(note), false) => note.clone(),
                (None, false) => "left".to_string(),
            };
            let _ = writeln!(out, "preview {} of {}: {state}", p.preview, p.function);
        }
        for d in &self.deleted {
            let _ = writeln!(out, "image {d}: deleted");
        }
        for k in &self.kept {
            let _ = writeln!(out, "image {}: kept, {}", k.digest, k.why);
        }
        for e in &self.errors {
            let _ = writeln!(out, "error: {e}");
        }
        out
    }
}
