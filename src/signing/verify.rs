//! Whether an image carries a valid signature by a key over its exact
//! digest, and a provenance by the same key that names the commit: read
//! beside the image in the registry, verified here with the key's public half.

use super::SigningError;
use super::documents::{self, Claims, Envelope};
use super::kms::PublicKey;
use crate::registry::ImageRef;
use crate::registry::artefacts::ArtefactLayer;
use crate::registry::manifest::RegistryReader;

/// An image that passed: what its provenance says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attested {
    pub image: String,
    pub digest: String,
    pub commit: Option<String>,
    /// The SLSA provenance predicate, as attested.
    pub provenance: serde_json::Value,
}

/// What sits beside an image: its `.sig` and `.att` tags and their layers.
pub(super) struct Beside {
    pub(super) sig_at: ImageRef,
    pub(super) att_at: ImageRef,
    pub(super) sigs: Vec<ArtefactLayer>,
    pub(super) atts: Vec<ArtefactLayer>,
}

impl Beside {
    /// Both read at once, for the image `digest` of `image`'s repository.
    pub(super) async fn read(
        reader: &RegistryReader,
        image: &ImageRef,
        digest: &str,
    ) -> Result<Self, SigningError> {
        let at = |kind: &str| ImageRef {
            tag: documents::artefact_tag(digest, kind),
            ..image.clone()
        };
        let (sig_at, att_at) = (at("sig"), at("att"));
        let (sigs, atts) = tokio::try_join!(
            reader.artefact_layers(&sig_at),
            reader.artefact_layers(&att_at)
        )?;
        Ok(Beside {
            sig_at,
            att_at,
            sigs,
            atts,
        })
    }
}

/// The digests that the `.sig` layers signed by `key` name.
pub(super) fn signatures_by<'a>(
    key: &'a PublicKey,
    layers: &'a [ArtefactLayer],
) -> impl Iterator<Item = String> + 'a {
    layers.iter().filter_map(move |layer| {
        let signature = layer.annotations.get(documents::SIGNATURE_ANNOTATION)?;
        let signature = documents::unbase64(signature)?;
        key.verifies(&layer.data, &signature)
            .then(|| documents::signed_digest(&layer.data))?
    })
}

/// The claims of the `.att` layers whose envelope `key` signed.
pub(super) fn attestations_by<'a>(
    key: &'a PublicKey,
    layers: &'a [ArtefactLayer],
) -> impl Iterator<Item = (Claims, serde_json::Value)> + 'a {
    layers.iter().filter_map(move |layer| {
        let envelope: Envelope = serde_json::from_slice(&layer.data).ok()?;
        let statement = documents::unbase64(&envelope.payload)?;
        let signed = documents::pae(&envelope.payload_type, &statement);
        let valid = envelope.payload_type == documents::IN_TOTO
            && envelope.signatures.iter().any(|s| {
                documents::unbase64(&s.sig).is_some_and(|sig| key.verifies(&signed, &sig))
            });
        if valid {
            documents::statement_claims(&statement)
        } else {
            None
        }
    })
}

/// Checks `image` (`digest` in its repository) against `key`: a signature
/// over the exact digest, and a provenance naming `commit` when given.
pub async fn check_image(
    key: &PublicKey,
    reader: &RegistryReader,
    image: &ImageRef,
    digest: &str,
    commit: Option<&str>,
) -> Result<Attested, SigningError> {
    let refused = |reason: String| SigningError::Refused {
        image: format!("{}/{}@{digest}", image.registry, image.repository),
        reason,
    };
    let Beside {
        sig_at,
        att_at,
        sigs,
        atts,
    } = Beside::read(reader, image, digest).await?;
    if sigs.is_empty() {
        return Err(refused(format!(
            "it is not signed (no {} beside it). Build it with --sign-key {}",
            sig_at.tag, key.key
        )));
    }
    let signed: Vec<String> = signatures_by(key, &sigs).collect();
    if signed.is_empty() {
        return Err(refused(format!(
            "none of its {} signature(s) verifies with the key {}: signed by another key, or \
             altered",
            sigs.len(),
            key.key
        )));
    }
    if !signed.iter().any(|d| d == digest) {
        return Err(refused(format!(
            "its signature by {} names another image ({}), not this digest",
            key.key,
            signed.join(", ")
        )));
    }
    let attested: Vec<(Claims, serde_json::Value)> = attestations_by(key, &atts)
        .filter(|(c, _)| c.digest == digest)
        .collect();
    let Some(last) = attested.last() else {
        return Err(refused(format!(
            "it has no SLSA provenance of this digest attested by the key {} (no valid {} beside \
             it)",
            key.key, att_at.tag
        )));
    };
    let found = match commit {
        None => Some(last),
        Some(commit) => attested
            .iter()
            .find(|(c, _)| c.commit.as_deref() == Some(commit)),
    };
    let Some((claims, provenance)) = found else {
        let named: Vec<&str> = attested
            .iter()
            .filter_map(|(c, _)| c.commit.as_deref())
            .collect();
        return Err(refused(format!(
            "its provenance names the commit {}, not {}",
            named.join(", "),
            commit.unwrap_or_default()
        )));
    };
    Ok(Attested {
        image: format!("{}/{}@{digest}", image.registry, image.repository),
        digest: digest.to_string(),
        commit: claims.commit.clone(),
        provenance: provenance.clone(),
    })
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod verify_tests;
