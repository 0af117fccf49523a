//! One image signed and attested, unless the key did so already: a run
//! that reuses an image signs only what it lacks.

use super::SigningError;
use super::documents::{self, Provenance};
use super::kms::SigningKey;
use super::verify::{Beside, attestations_by, signatures_by};
use crate::registry::ImageRef;
use crate::registry::artefacts::ArtefactLayer;
use crate::registry::manifest::RegistryReader;
use std::collections::BTreeMap;

/// What was added beside one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Signed {
    /// A signature by the key was pushed (false: there was one already).
    pub signature: bool,
    /// A provenance naming this commit was pushed (false: there was one).
    pub attestation: bool,
}

/// Signs the image `digest` of `repository` (any tag of it: the registry
/// and repository are read from it) with `key`, and attests its provenance.
pub async fn sign_image(
    key: &SigningKey,
    reader: &RegistryReader,
    repository: &ImageRef,
    digest: &str,
    facts: &Provenance,
) -> Result<Signed, SigningError> {
    let reference = format!("{}/{}", repository.registry, repository.repository);
    let Beside {
        sig_at,
        att_at,
        sigs,
        atts,
    } = Beside::read(reader, repository, digest).await?;
    let mut signed = Signed {
        signature: false,
        attestation: false,
    };
    if !signatures_by(&key.public, &sigs).any(|d| d == digest) {
        let payload = documents::simple_signing(&reference, digest, facts);
        let signature = key.sign(&payload).await?;
        let layer = ArtefactLayer {
            media_type: documents::SIMPLE_SIGNING.into(),
            data: payload,
            annotations: BTreeMap::from([(
                documents::SIGNATURE_ANNOTATION.to_string(),
                documents::base64(&signature),
            )]),
        };
        push(reader, &sig_at, layer).await?;
        signed.signature = true;
    }
    let named = attestations_by(&key.public, &atts)
        .any(|(c, _)| c.digest == digest && c.commit.as_deref() == Some(facts.commit.as_str()));
    if !named {
        let statement = documents::provenance_statement(&reference, digest, facts);
        let signature = key
            .sign(&documents::pae(documents::IN_TOTO, &statement))
            .await?;
        let layer = ArtefactLayer {
            media_type: documents::DSSE_ENVELOPE.into(),
            data: documents::envelope(&statement, &signature),
            annotations: BTreeMap::from([
                (documents::SIGNATURE_ANNOTATION.to_string(), String::new()),
                (
                    documents::PREDICATE_ANNOTATION.to_string(),
                    documents::SLSA_PROVENANCE_V1.to_string(),
                ),
            ]),
        };
        push(reader, &att_at, layer).await?;
        signed.attestation = true;
    }
    Ok(signed)
}

/// Adds `layer` beside the image; an IMMUTABLE repository, which refuses a
/// second push of the tag, is named with what to do.
async fn push(
    reader: &RegistryReader,
    at: &ImageRef,
    layer: ArtefactLayer,
) -> Result<(), SigningError> {
    match reader.add_artefact_layers(at, &[layer]).await {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().to_ascii_lowercase().contains("immutable") => {
            Err(SigningError::ImmutableTag {
                tag: at.to_string(),
                repository: at.repository.clone(),
            })
        }
        Err(e) => Err(e.into()),
    }
}
