//! Tags of images the registry holds already: a second tag for a pushed
//! manifest (only the manifest is sent), and the removal of an image.

use super::ImageRef;
use super::manifest::{ManifestError, RegistryReader, check_manifest, registry_error};
use hyper::header::HeaderValue;
use oci_client::RegistryOperation;
use oci_client::manifest::{IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use std::time::Duration;

impl RegistryReader {
    /// Gives the image under `from` a second tag, `tag`. The registry holds
    /// its layers and config already: only the manifest is sent, as it is,
    /// so the digest stays the same.
    pub async fn retag(&self, from: &ImageRef, tag: &str) -> Result<(), ManifestError> {
        let target = ImageRef {
            tag: tag.to_string(),
            ..from.clone()
        };
        let reference = Self::reference(from);
        let fail = |e| registry_error(&target, e);
        self.client
            .auth(&reference, &self.auth, RegistryOperation::Push)
            .await
            .map_err(fail)?;
        let (raw, _) = self
            .client
            .pull_manifest_raw(
                &reference,
                &self.auth,
                &[IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE],
            )
            .await
            .map_err(fail)?;
        let media_type = check_manifest(from, &raw)?.media_type;
        let content_type =
            HeaderValue::from_str(&media_type).map_err(|e| ManifestError::Malformed {
                image: from.to_string(),
                reason: e.to_string(),
            })?;
        self.client
            .push_manifest_raw(&Self::reference(&target), raw, content_type)
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// Deletes an image by digest, every tag of it with it, where the
    /// registry allows deletes (the distribution registry's
    /// `storage.delete.enabled`). Through the registry API: for registries
    /// other than ECR, whose own API removes a single tag.
    pub async fn delete(&self, image: &ImageRef) -> Result<(), String> {
        let scheme = if self.plain_http { "http" } else { "https" };
        let url = format!(
            "{scheme}://{}/v2/{}/manifests/{}",
            image.registry, image.repository, image.tag
        );
        let mut request = reqwest::Client::new()
            .delete(url)
            .timeout(Duration::from_secs(30));
        if let RegistryAuth::Basic(user, password) = &self.auth {
            request = request.basic_auth(user, Some(password));
        }
        let response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(format!("the registry answered {}", response.status()))
        }
    }
}
