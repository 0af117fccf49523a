//! What a build would find, read only, for `deploy --dry-run`.

use super::check_name_length;
use crate::config::{BuildConfig, Platform};
use crate::error::Error;
use crate::registry::ImageRef;
use crate::registry::ecr::Ecr;
use crate::registry::session::RegistrySession;
use std::collections::BTreeMap;

/// Whether the
/// repository exists, its URI, and each platform's image pushed already.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Survey {
    pub repository_uri: String,
    pub repository_exists: bool,
    /// The digest of each platform's `<sha>-<arch>` image that is pushed already.
    pub pushed: BTreeMap<Platform, String>,
}

pub async fn survey(config: &BuildConfig, sdk: &aws_config::SdkConfig) -> Result<Survey, Error> {
    let ecr = Ecr::new(sdk);
    let found = ecr.find_repository(&config.repository).await?;
    let (host, token) = ecr.token().await?;
    let registry = config.registry_override.clone().unwrap_or(host.clone());
    let uri = found.as_ref().map_or_else(
        || format!("{host}/{}", config.repository),
        |r| r.uri.clone(),
    );
    check_name_length(&registry, config.repository.as_str())?;
    let mut pushed = BTreeMap::new();
    if found.is_some() {
        let session = RegistrySession::new(&ecr, registry.clone(), token);
        let reader = session.reader().await;
        for &platform in &config.platforms {
            let image = ImageRef {
                registry: registry.clone(),
                repository: config.repository.to_string(),
                tag: config.tag(platform),
            };
            if let Some(digest) = reader.digest(&image).await? {
                pushed.insert(platform, digest);
            }
        }
    }
    Ok(Survey {
        repository_uri: uri,
        repository_exists: found.is_some(),
        pushed,
    })
}
