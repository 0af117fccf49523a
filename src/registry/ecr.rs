//! Amazon ECR through its API: the repository, created if missing, and the
//! authorization token the push uses.

use super::RegistryCredentials;
use crate::aws::CallContext;
use crate::model::{RepositoryName, TagMutability};
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
};
use base64::Engine as _;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum EcrError {
    #[error("ECR {operation} failed: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
    #[error("ECR returned {0}")]
    Malformed(&'static str),
}

fn api<'a, E>(
    calls: &'a CallContext,
    operation: &'static str,
) -> impl FnOnce(aws_sdk_ecr::error::SdkError<E, aws_sdk_ecr::config::http::HttpResponse>) -> EcrError + 'a
where
    E: aws_sdk_ecr::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| EcrError::Api {
        operation,
        message: calls.describe(&e),
    }
}

/// The repository that receives the images.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Repository {
    pub name: String,
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`
    pub uri: String,
    pub mutability: TagMutability,
    /// Whether this run created it.
    pub created: bool,
}

impl Repository {
    /// The registry host part of the URI.
    pub fn registry(&self) -> &str {
        self.uri.split('/').next().unwrap_or(&self.uri)
    }
}

pub struct Ecr {
    pub(super) client: aws_sdk_ecr::Client,
    pub(super) calls: CallContext,
}

impl Ecr {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Ecr {
            client: crate::aws::ecr_client(sdk),
            calls: CallContext::of(sdk),
        }
    }

    /// Reads the repository; None when it does not exist yet. Changes nothing.
    pub async fn find_repository(
        &self,
        name: &RepositoryName,
    ) -> Result<Option<Repository>, EcrError> {
        let found = self
            .client
            .describe_repositories()
            .repository_names(name.as_str())
            .send()
            .await;
        match found {
            Ok(out) => {
                let repo = out
                    .repositories
                    .unwrap_or_default()
                    .into_iter()
                    .next()
                    .ok_or(EcrError::Malformed("no repository"))?;
                repository(name, repo, false).map(Some)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(api(&self.calls, "DescribeRepositories")(e)),
        }
    }

    /// Creates the repository with scan on push, AES256 encryption and the
    /// tag mutability asked for; one that another job created meanwhile is
    /// read instead.
    pub async fn create_repository(
        &self,
        name: &RepositoryName,
        mutability: TagMutability,
    ) -> Result<Repository, EcrError> {
        let encryption = EncryptionConfiguration::builder()
            .encryption_type(EncryptionType::Aes256)
            .build()
            .map_err(|e| EcrError::Api {
                operation: "CreateRepository",
                message: e.to_string(),
            })?;
        // Immutable, but for the signatures and attestations beside the
        // images (`sha256-<hex>.sig`): a second signature re-pushes its tag.
        let artefacts = aws_sdk_ecr::types::ImageTagMutabilityExclusionFilter::builder()
            .filter_type(aws_sdk_ecr::types::ImageTagMutabilityExclusionFilterType::Wildcard)
            .filter(SIGNATURE_TAGS)
            .build()
            .map_err(|e| EcrError::Api {
                operation: "CreateRepository",
                message: e.to_string(),
            })?;
        let mut create = self
            .client
            .create_repository()
            .repository_name(name.as_str());
        create = match mutability {
            TagMutability::Immutable => create
                .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
                .image_tag_mutability_exclusion_filters(artefacts),
            TagMutability::Mutable => create.image_tag_mutability(ImageTagMutability::Mutable),
        };
        let out = create
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .encryption_configuration(encryption)
            .send()
            .await;
        match out {
            Ok(out) => repository(
                name,
                out.repository.ok_or(EcrError::Malformed("no repository"))?,
                true,
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_already_exists_exception()) =>
            {
                self.find_repository(name)
                    .await?
                    .ok_or(EcrError::Malformed("no repository"))
            }
            Err(e) => Err(api(&self.calls, "CreateRepository")(e)),
        }
    }

    /// Removes one tag; an image left with no tag is deleted with it.
    pub async fn untag(&self, repository: &str, tag: &str) -> Result<(), EcrError> {
        self.client
            .batch_delete_image()
            .repository_name(repository)
            .image_ids(
                aws_sdk_ecr::types::ImageIdentifier::builder()
                    .image_tag(tag)
                    .build(),
            )
            .send()
            .await
            .map_err(api(&self.calls, "BatchDeleteImage"))?;
        Ok(())
    }

    /// A token for the registries this principal may push to.
    pub async fn credentials(&self) -> Result<RegistryCredentials, EcrError> {
        self.token().await.map(|(_, credentials)| credentials)
    }

    /// The account's registry host (`<account>.dkr.ecr.<region>.amazonaws.com`)
    /// and a token for it: known without the repository existing.
    pub async fn token(&self) -> Result<(String, RegistryCredentials), EcrError> {
        let out = self
            .client
            .get_authorization_token()
            .send()
            .await
            .map_err(api(&self.calls, "GetAuthorizationToken"))?;
        let data = out
            .authorization_data()
            .first()
            .ok_or(EcrError::Malformed("no authorization data"))?;
        let token = data
            .authorization_token()
            .ok_or(EcrError::Malformed("no authorization token"))?;
        let host = data
            .proxy_endpoint()
            .map(|e| {
                e.trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string()
            })
            .ok_or(EcrError::Malformed("no proxy endpoint"))?;
        Ok((host, decode_token(token)?))
    }
}

/// The tags of signatures and attestations, mutable in an immutable repository.
pub const SIGNATURE_TAGS: &str = "sha256-*";

fn repository(
    name: &RepositoryName,
    repo: aws_sdk_ecr::types::Repository,
    created: bool,
) -> Result<Repository, EcrError> {
    Ok(Repository {
        name: name.to_string(),
        uri: repo
            .repository_uri
            .ok_or(EcrError::Malformed("a repository without a URI"))?,
        mutability: match repo.image_tag_mutability {
            Some(ImageTagMutability::Mutable) => TagMutability::Mutable,
            _ => TagMutability::Immutable,
        },
        created,
    })
}

/// An ECR token is base64 of `user:password`.
fn decode_token(token: &str) -> Result<RegistryCredentials, EcrError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| EcrError::Malformed("an authorization token that is not base64"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| EcrError::Malformed("an authorization token that is not text"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or(EcrError::Malformed("an authorization token without a user"))?;
    Ok(RegistryCredentials {
        username: user.to_string(),
        password: SecretString::from(password.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn tokens_decode_to_user_and_password() {
        let c = decode_token("QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu").unwrap();
        assert_eq!(c.username, "AWS");
        assert_eq!(c.password.expose_secret(), "123456789012-auth-token");
        assert!(decode_token("not base64!").is_err());
    }

    #[test]
    fn registry_is_the_uri_host() {
        let r = Repository {
            name: "fn".into(),
            uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/fn".into(),
            mutability: TagMutability::Immutable,
            created: false,
        };
        assert_eq!(r.registry(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    }
}

#[cfg(test)]
#[path = "ecr_tests.rs"]
mod ecr_tests;
