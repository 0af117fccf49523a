//! Signatures and attestations beside an image, in cosign's layout: an OCI
//! image manifest under `sha256-<hex>.sig` or `.att` whose layers are small
//! JSON documents, each with its annotations. Lambda never reads them; the
//! image's own tag stays a single-image manifest.

use super::ImageRef;
use super::manifest::{ManifestError, RegistryReader, registry_error};
use hyper::header::HeaderValue;
use oci_client::RegistryOperation;
use oci_client::manifest::{IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use serde_json::json;
use sha2::Digest as _;
use std::collections::BTreeMap;

/// No document of ours is near this: a larger layer is not read.
const MAX_LAYER_BYTES: u64 = 1024 * 1024;
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// The tag beside an image where cosign looks for its signatures (`sig`)
/// or attestations (`att`): `sha256-<hex>.<kind>`.
pub fn artefact_tag(digest: &str, kind: &str) -> String {
    format!("{}.{kind}", digest.replacen(':', "-", 1))
}

/// Whether a tag is a signature, attestation or SBOM beside an image, and
/// of which digest.
pub fn artefact_subject(tag: &str) -> Option<String> {
    let (name, kind) = tag.rsplit_once('.')?;
    let hex = name.strip_prefix("sha256-")?;
    let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    (valid && ["sig", "att", "sbom"].contains(&kind)).then(|| format!("sha256:{hex}"))
}

/// One layer of an artefact: a document and its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtefactLayer {
    pub media_type: String,
    pub data: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct Layer {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

impl RegistryReader {
    /// The layers under `at`, with their documents; none when the tag is not there.
    pub async fn artefact_layers(
        &self,
        at: &ImageRef,
    ) -> Result<Vec<ArtefactLayer>, ManifestError> {
        Ok(self
            .read_artefact(at)
            .await?
            .map(|(_, layers)| layers)
            .unwrap_or_default())
    }

    /// Pushes the artefact under `at` again with `new` after the layers it
    /// holds already: another signature keeps the earlier ones.
    pub async fn add_artefact_layers(
        &self,
        at: &ImageRef,
        new: &[ArtefactLayer],
    ) -> Result<(), ManifestError> {
        let reference = Self::reference(at);
        let fail = |e| registry_error(at, e);
        self.client
            .auth(&reference, &self.auth, RegistryOperation::Push)
            .await
            .map_err(fail)?;
        let mut descriptors = self
            .read_artefact(at)
            .await?
            .map(|(descriptors, _)| descriptors)
            .unwrap_or_default();
        for layer in new {
            let digest = sha256(&layer.data);
            self.client
                .push_blob(&reference, layer.data.clone(), &digest)
                .await
                .map_err(fail)?;
            descriptors.push(json!({
                "mediaType": layer.media_type,
                "digest": digest,
                "size": layer.data.len(),
                "annotations": layer.annotations,
            }));
        }
        let diff_ids: Vec<&serde_json::Value> = descriptors.iter().map(|d| &d["digest"]).collect();
        let config = json!({
            "architecture": "",
            "os": "",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        })
        .to_string()
        .into_bytes();
        let config_digest = sha256(&config);
        let config_size = config.len();
        self.client
            .push_blob(&reference, config, &config_digest)
            .await
            .map_err(fail)?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_MEDIA_TYPE,
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config_size},
            "layers": descriptors,
        })
        .to_string()
        .into_bytes();
        self.client
            .push_manifest_raw(
                &reference,
                manifest,
                HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE),
            )
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// The layers' descriptors as the registry holds them, and each layer read.
    async fn read_artefact(
        &self,
        at: &ImageRef,
    ) -> Result<Option<(Vec<serde_json::Value>, Vec<ArtefactLayer>)>, ManifestError> {
        let reference = self.authenticate(at).await?;
        let raw = match self
            .client
            .pull_manifest_raw(
                &reference,
                &self.auth,
                &[OCI_IMAGE_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE],
            )
            .await
        {
            Ok((raw, _)) => raw,
            Err(e) if super::manifest::is_not_found(&e) => return Ok(None),
            Err(e) => return Err(registry_error(at, e)),
        };
        let malformed = |reason: String| ManifestError::Malformed {
            image: at.to_string(),
            reason,
        };
        let manifest: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| malformed(e.to_string()))?;
        let descriptors = manifest["layers"].as_array().cloned().unwrap_or_default();
        let mut layers = Vec::new();
        for descriptor in &descriptors {
            let layer: Layer = serde_json::from_value(descriptor.clone())
                .map_err(|e| malformed(format!("a layer that cannot be read: {e}")))?;
            if layer.size > MAX_LAYER_BYTES {
                return Err(malformed(format!(
                    "a layer of {} bytes, more than a signature or attestation holds",
                    layer.size
                )));
            }
            let mut data = Vec::new();
            self.client
                .pull_blob(&reference, layer.digest.as_str(), &mut data)
                .await
                .map_err(|e| registry_error(at, e))?;
            if sha256(&data) != layer.digest {
                return Err(malformed(format!(
                    "the layer {} does not hash to its digest",
                    layer.digest
                )));
            }
            layers.push(ArtefactLayer {
                media_type: layer.media_type,
                data,
                annotations: layer.annotations,
            });
        }
        Ok(Some((descriptors, layers)))
    }
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{:x}", sha2::Sha256::digest(data))
}
