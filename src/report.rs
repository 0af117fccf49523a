//! What a run produced, as plain typed data: the deploy stage reads it, and
//! `--output json` prints it.

use crate::config::{CommitSha, Platform};
use crate::progress::human_bytes;
use crate::registry::ecr::Repository;
use std::fmt::Write as _;

/// The images of one commit, one per platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
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
    /// The engine that built it.
    pub engine: Option<String>,
    pub build_seconds: f64,
    pub push_seconds: f64,
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
        for i in &self.images {
            let how = if i.reused {
                "reused".to_string()
            } else {
                format!(
                    "built in {:.1}s on {}, pushed in {:.1}s",
                    i.build_seconds,
                    i.engine.as_deref().unwrap_or("?"),
                    i.push_seconds
                )
            };
            let _ = writeln!(
                out,
                "{:<7} {}  {}  ({}, {how})",
                i.architecture,
                i.image_uri,
                i.deploy_uri,
                human_bytes(i.compressed_size)
            );
        }
        out
    }
}
