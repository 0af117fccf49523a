//! Reads back what a registry holds under a tag, through the registry API,
//! and checks it is what Lambda accepts: one image manifest (Docker v2 schema 2
//! or OCI), never an index or a manifest list, of the right architecture.

use super::{ImageRef, RegistryCredentials};
use crate::model::Platform;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("reading {image} from the registry failed: {message}")]
    Registry { image: String, message: String },
    #[error("{image} is not in the registry")]
    NotFound { image: String },
    #[error(
        "{image} is {media_type}: Lambda accepts only a single-image manifest (Docker v2 schema 2 \
         or OCI image manifest), never an index or a manifest list. Build without provenance or \
         SBOM attestations, one platform per image"
    )]
    NotSingleImage { image: String, media_type: String },
    #[error("{image} is an image for {os}/{arch}, not {platform}")]
    WrongPlatform {
        image: String,
        os: String,
        arch: String,
        platform: Platform,
    },
    #[error("{image} has a manifest that cannot be read: {reason}")]
    Malformed { image: String, reason: String },
}

/// A pushed image as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedImage {
    pub digest: String,
    pub media_type: String,
    /// The config and the compressed layers.
    pub compressed_size: u64,
    /// The labels of its config.
    pub labels: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct Descriptor {
    digest: String,
    #[serde(default)]
    size: u64,
}

#[derive(serde::Deserialize)]
struct RawManifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<serde_json::Value>>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(serde::Deserialize)]
struct ImageConfig {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    config: Option<ContainerConfig>,
}

#[derive(serde::Deserialize)]
struct ContainerConfig {
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A client of one registry with one set of credentials; a clone shares its
/// connections.
#[derive(Clone)]
pub struct RegistryReader {
    pub(super) client: Client,
    pub(super) auth: RegistryAuth,
    pub(super) plain_http: bool,
}

impl RegistryReader {
    pub fn new(registry: &str, credentials: &RegistryCredentials) -> Self {
        Self::with_auth(
            registry,
            RegistryAuth::Basic(
                credentials.username.clone(),
                credentials.password.expose_secret().to_string(),
            ),
        )
    }

    /// A reader without credentials: for a registry that is not the
    /// session's, which must never be sent the session's token.
    pub fn anonymous(registry: &str) -> Self {
        Self::with_auth(registry, RegistryAuth::Anonymous)
    }

    fn with_auth(registry: &str, auth: RegistryAuth) -> Self {
        let plain_http = is_loopback(registry);
        let config = ClientConfig {
            // As Docker does: plain HTTP only for a registry on the loopback.
            protocol: if plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(Duration::from_secs(20)),
            read_timeout: Some(Duration::from_secs(120)),
            ..ClientConfig::default()
        };
        RegistryReader {
            client: Client::new(config),
            auth,
            plain_http,
        }
    }

    pub(super) fn reference(image: &ImageRef) -> Reference {
        let (registry, repository) = (image.registry.clone(), image.repository.clone());
        if image.is_digest() {
            Reference::with_digest(registry, repository, image.tag.clone())
        } else {
            Reference::with_tag(registry, repository, image.tag.clone())
        }
    }

    pub(super) async fn authenticate(&self, image: &ImageRef) -> Result<Reference, ManifestError> {
        let reference = Self::reference(image);
        self.client
            .auth(&reference, &self.auth, RegistryOperation::Pull)
            .await
            .map_err(|e| registry_error(image, e))?;
        Ok(reference)
    }

    /// The digest under the tag, or None when the tag is not there.
    pub async fn digest(&self, image: &ImageRef) -> Result<Option<String>, ManifestError> {
        let reference = self.authenticate(image).await?;
        match self
            .client
            .fetch_manifest_digest(&reference, &self.auth)
            .await
        {
            Ok(digest) => Ok(Some(digest)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(registry_error(image, e)),
        }
    }

    /// Reads the manifest under the tag and its config, and checks both.
    pub async fn verify(
        &self,
        image: &ImageRef,
        platform: Platform,
    ) -> Result<VerifiedImage, ManifestError> {
        let reference = self.authenticate(image).await?;
        let accepted = [
            IMAGE_MANIFEST_MEDIA_TYPE,
            OCI_IMAGE_MEDIA_TYPE,
            IMAGE_MANIFEST_LIST_MEDIA_TYPE,
            OCI_IMAGE_INDEX_MEDIA_TYPE,
        ];
        let (raw, digest) = self
            .client
            .pull_manifest_raw(&reference, &self.auth, &accepted)
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    ManifestError::NotFound {
                        image: image.to_string(),
                    }
                } else {
                    registry_error(image, e)
                }
            })?;
        let config = check_manifest(image, &raw)?;

        let mut blob = Vec::new();
        self.client
            .pull_blob(&reference, config.digest.as_str(), &mut blob)
            .await
            .map_err(|e| registry_error(image, e))?;
        let cfg: ImageConfig =
            serde_json::from_slice(&blob).map_err(|e| ManifestError::Malformed {
                image: image.to_string(),
                reason: format!("its config is not an image config: {e}"),
            })?;
        if cfg.os != "linux" || cfg.architecture != platform.oci_arch() {
            return Err(ManifestError::WrongPlatform {
                image: image.to_string(),
                os: cfg.os,
                arch: cfg.architecture,
                platform,
            });
        }
        Ok(VerifiedImage {
            digest,
            media_type: config.media_type,
            compressed_size: config.size,
            labels: cfg.config.and_then(|c| c.labels).unwrap_or_default(),
        })
    }
}

/// What `check_manifest` learns: the manifest's own type, the config's digest,
/// and the size of config and layers.
pub(super) struct Checked {
    pub(super) media_type: String,
    digest: String,
    size: u64,
}

pub(super) fn check_manifest(image: &ImageRef, raw: &[u8]) -> Result<Checked, ManifestError> {
    let malformed = |reason: String| ManifestError::Malformed {
        image: image.to_string(),
        reason,
    };
    let m: RawManifest = serde_json::from_slice(raw).map_err(|e| malformed(e.to_string()))?;
    let media_type = match (&m.media_type, &m.manifests) {
        (Some(t), _) => t.clone(),
        // OCI allows the media type to be left out: an index has `manifests`.
        (None, Some(_)) => OCI_IMAGE_INDEX_MEDIA_TYPE.to_string(),
        (None, None) => OCI_IMAGE_MEDIA_TYPE.to_string(),
    };
    if media_type != IMAGE_MANIFEST_MEDIA_TYPE && media_type != OCI_IMAGE_MEDIA_TYPE {
        return Err(ManifestError::NotSingleImage {
            image: image.to_string(),
            media_type,
        });
    }
    let config = m
        .config
        .ok_or_else(|| malformed("it has no config".into()))?;
    Ok(Checked {
        size: config.size + m.layers.iter().map(|l| l.size).sum::<u64>(),
        media_type,
        digest: config.digest,
    })
}

fn is_loopback(registry: &str) -> bool {
    // `HOST[:PORT]`, read as a URL's authority: an IPv6 host in brackets
    // with or without a port.
    let url = url::Url::parse(&format!("http://{registry}"));
    match url.as_ref().ok().and_then(url::Url::host) {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(super) fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        _ => false,
    }
}

pub(super) fn registry_error(image: &ImageRef, e: OciDistributionError) -> ManifestError {
    ManifestError::Registry {
        image: image.to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageRef {
        ImageRef {
            registry: "127.0.0.1:5000".into(),
            repository: "fn".into(),
            tag: "t".into(),
        }
    }

    #[test]
    fn indexes_and_manifest_lists_are_refused() {
        for (json, kind) in [
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
                "index",
            ),
            (r#"{"schemaVersion":2,"manifests":[]}"#, "index"),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}"#,
                "list",
            ),
        ] {
            let err = check_manifest(&image(), json.as_bytes())
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(kind) && err.contains("single-image"), "{err}");
        }
    }

    #[test]
    fn single_image_manifests_pass_with_their_size() {
        let json = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
            "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:c","size":10},
            "layers":[{"mediaType":"x","digest":"sha256:l","size":90}]}"#;
        let c = check_manifest(&image(), json.as_bytes()).ok().unwrap();
        assert_eq!((c.digest.as_str(), c.size), ("sha256:c", 100));
    }

    #[test]
    fn only_loopback_registries_are_plain_http() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:5000"));
        assert!(!is_loopback("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        assert!(
            !is_loopback("127.evil.example:5000"),
            "a name is not an address"
        );
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod manifest_tests;
