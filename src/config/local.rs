//! `lambda-ship local`'s settings.

use super::parse::{parse_env, read_event};
use super::{BuildConfig, ConfigError};
use crate::ci::CiContext;
use crate::cli::{BuildArgs, TagMutabilityArg};
use std::collections::BTreeMap;

/// Everything `lambda-ship local` needs, validated.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub build: BuildConfig,
    pub event: String,
    pub settings: crate::sandbox::LocalSettings,
    pub once: bool,
    /// The first architecture's port; the next ones follow it.
    pub port: Option<u16>,
}

impl LocalConfig {
    pub fn from_args(args: crate::cli::LocalArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let event = read_event("--event", &args.event)?;
        let mut environment = BTreeMap::new();
        for pair in &args.env {
            let (k, v) = parse_env(pair)?;
            environment.insert(k, v);
        }
        // No commit is needed: images stay in their engines, under local names.
        let sha = "0".repeat(40);
        let build = BuildConfig::from_args(
            BuildArgs {
                repository: "lambda-ship-local".to_string(),
                source: args.source,
                registry: None,
                sha: Some(sha),
                allow_dirty: true,
                force_rebuild: false,
                allow_fork_code: true,
                build_timeout: 3600,
                push_timeout: 1800,
                aws_timeout: 60,
                tag_mutability: TagMutabilityArg::Immutable,
                region: None,
                output: args.output,
                progress: args.progress,
            },
            ci,
        )?;
        Ok(LocalConfig {
            build,
            event,
            settings: crate::sandbox::LocalSettings {
                // Lambda's own bounds: 128 MB to 10 GB, up to 15 minutes.
                memory_mb: args.memory.clamp(128, 10_240),
                timeout: std::time::Duration::from_secs(args.timeout.clamp(1, 900)),
                environment,
                ..crate::sandbox::LocalSettings::default()
            },
            once: args.once,
            port: args.port,
        })
    }
}
