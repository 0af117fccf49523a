//! What a build finds before it changes anything, read once: the repository
//! (as it is, or as it will be created), the registry and its token, and each
//! platform's image pushed already. The build goes on from it; `deploy
//! --dry-run` reports it.

use super::check_name_length;
use crate::config::{BuildConfig, Platform};
use crate::error::Error;
use crate::registry::ImageRef;
use crate::registry::ecr::{Ecr, Repository};
use crate::registry::session::RegistrySession;
use futures_util::future::try_join_all;
use std::collections::BTreeMap;

/// What `deploy --dry-run` says of the images: whether the repository
/// exists, its URI, and each platform's image pushed already.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Survey {
    pub repository_uri: String,
    pub repository_exists: bool,
    /// The digest of each platform's `<sha>-<arch>` image that is pushed already.
    pub pushed: BTreeMap<Platform, String>,
}

/// What a build found, and the registry session it goes on with.
pub(super) struct Look<'a> {
    /// The repository, when it exists.
    pub(super) found: Option<Repository>,
    /// The repository as it is, or as it will be created.
    pub(super) planned: Repository,
    /// ECR's registry host of the account and Region.
    pub(super) host: String,
    pub(super) session: RegistrySession<'a>,
    /// The digest of each platform's `<sha>-<arch>` image pushed already.
    pub(super) pushed: BTreeMap<Platform, String>,
}

impl Look<'_> {
    /// Where `platform`'s image of this commit goes.
    pub(super) fn target(&self, config: &BuildConfig, platform: Platform) -> ImageRef {
        ImageRef {
            registry: self.session.registry().to_string(),
            repository: self.planned.name.clone(),
            tag: config.tag(platform),
        }
    }
}

/// Reads the repository, the token (unless the run's other images already
/// did: `token`) and the images pushed already; only reads.
pub(super) async fn look<'a>(
    ecr: &'a Ecr,
    config: &BuildConfig,
    token: Option<&(String, crate::registry::RegistryCredentials)>,
) -> Result<Look<'a>, Error> {
    let found = ecr.find_repository(&config.repository).await?;
    let (host, token) = match token {
        Some(known) => known.clone(),
        None => ecr.token().await?,
    };
    let planned = found.clone().unwrap_or_else(|| Repository {
        name: config.repository.to_string(),
        uri: format!("{host}/{}", config.repository),
        mutability: config.tag_mutability,
        created: false,
    });
    let registry = config
        .registry_override
        .clone()
        .unwrap_or_else(|| host.clone());
    check_name_length(&registry, &planned.name)?;
    let session = RegistrySession::new(ecr, registry, token);
    let mut look = Look {
        found,
        planned,
        host,
        session,
        pushed: BTreeMap::new(),
    };
    // A repository that does not exist holds nothing.
    if look.found.is_some() {
        let reader = look.session.reader().await;
        let digests = try_join_all(config.platforms.iter().map(|&p| {
            let image = look.target(config, p);
            let reader = &reader;
            async move { reader.digest(&image).await.map(|d| (p, d)) }
        }))
        .await?;
        look.pushed = digests
            .into_iter()
            .filter_map(|(p, d)| d.map(|d| (p, d)))
            .collect();
    }
    Ok(look)
}

/// What a build would find, read only, for `deploy --dry-run`.
pub async fn survey(config: &BuildConfig, sdk: &aws_config::SdkConfig) -> Result<Survey, Error> {
    let ecr = Ecr::new(sdk);
    let look = look(&ecr, config, None).await?;
    Ok(Survey {
        repository_uri: look.planned.uri,
        repository_exists: look.found.is_some(),
        pushed: look.pushed,
    })
}
