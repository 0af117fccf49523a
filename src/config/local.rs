//! `lambda-ship local`'s settings.

use super::parse::{parse_env, read_event};
use super::{BuildConfig, ConfigError};
use crate::ci::CiContext;
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
    /// Give the function the standard chain's credentials (`--credentials`).
    pub credentials: bool,
}

impl LocalConfig {
    pub fn from_args(args: crate::cli::LocalArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let event = read_event("--event", &args.event)?;
        let mut environment = BTreeMap::new();
        for pair in &args.env {
            let (k, v) = parse_env(pair)?;
            if crate::settings::RESERVED_KEYS.contains(&k.as_str()) {
                return Err(ConfigError::ReservedKey(k));
            }
            environment.insert(k, v);
        }
        let build = BuildConfig::for_local(args.source, args.output, args.progress, ci)?;
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
            credentials: args.credentials,
        })
    }
}
