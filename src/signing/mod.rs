//! Signed, attested images that Lambda still accepts: a cosign-layout
//! signature (`sha256-<hex>.sig`) and an SLSA provenance attestation
//! (`sha256-<hex>.att`) pushed beside each image, signed by an AWS KMS key,
//! and checked against the key's public half before a function changes.
//! The image's own tag stays a single-image manifest: Lambda never reads
//! what sits beside it, and refuses an index.

pub mod documents;
pub mod kms;
mod sign;
mod verify;

pub use documents::Provenance;
pub use kms::{PublicKey, SigningKey, fetch_public_key};
pub use sign::{Signed, sign_image};
pub use verify::{Attested, check_image};

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The key cannot be used as asked: the user's to fix.
    #[error("the KMS key {key} cannot sign or verify images: {reason}")]
    Key { key: String, reason: String },
    #[error("KMS, with the key {key}: {message}")]
    Kms { key: String, message: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::manifest::ManifestError),
    #[error(
        "{tag} cannot be pushed again to add this signature: the repository's tags are IMMUTABLE. \
         Let the signatures' tags change, and run again: aws ecr put-image-tag-mutability \
         --repository-name {repository} --image-tag-mutability IMMUTABLE_WITH_EXCLUSION \
         --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter='sha256-*'"
    )]
    ImmutableTag { tag: String, repository: String },
    /// An image that fails `--require-signature`.
    #[error("{image} is refused: {reason}")]
    Refused { image: String, reason: String },
}

impl SigningError {
    /// A key that cannot be used is found before anything changes: exit 2.
    pub fn is_config(&self) -> bool {
        matches!(self, SigningError::Key { .. })
    }
}
