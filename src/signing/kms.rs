//! The signing key in AWS KMS: checked before anything is built, asked to
//! sign (the private half never leaves KMS), and its public half, with which
//! a signature is verified here.

use super::SigningError;
use crate::aws::CallContext;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use sha2::Digest as _;

/// KMS signs a RAW message of at most this many bytes; a longer one is
/// signed as its SHA-256.
const RAW_MAX: usize = 4096;

/// The public half of a KMS key, as `GetPublicKey` gives it (SPKI DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key: String,
    spki: Vec<u8>,
}

impl PublicKey {
    /// Whether `signature` (ASN.1 DER ECDSA P-256 over SHA-256) is this
    /// key's over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.spki)
            .verify(message, signature)
            .is_ok()
    }

    /// For the unit tests: a key from its SPKI DER.
    #[cfg(test)]
    pub fn from_spki(key: &str, spki: Vec<u8>) -> Self {
        PublicKey {
            key: key.to_string(),
            spki,
        }
    }
}

/// A KMS key this run signs with.
pub struct SigningKey {
    client: aws_sdk_kms::Client,
    calls: CallContext,
    /// As the user named it: alias, key id or ARN.
    pub key: String,
    pub public: PublicKey,
}

impl SigningKey {
    /// The key checked for what signing needs (ECC_NIST_P256, SIGN_VERIFY,
    /// enabled), its public half read, and one signature made and verified:
    /// a key that cannot sign is found before anything is built.
    pub async fn open(sdk: &aws_config::SdkConfig, key: &str) -> Result<Self, SigningError> {
        let client = crate::aws::kms_client(sdk);
        let calls = CallContext::of(sdk);
        let described = client
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| refusal(key, "DescribeKey", &calls, &e))?;
        let meta = described.key_metadata().ok_or_else(|| SigningError::Kms {
            key: key.to_string(),
            message: "DescribeKey answered without the key's metadata".into(),
        })?;
        let wrong = |reason: String| SigningError::Key {
            key: key.to_string(),
            reason,
        };
        if meta.key_spec() != Some(&KeySpec::EccNistP256) {
            return Err(wrong(format!(
                "its key spec is {}, and signing needs ECC_NIST_P256 (ECDSA P-256, what cosign \
                 verifies). Create one with: aws kms create-key --key-spec ECC_NIST_P256 \
                 --key-usage SIGN_VERIFY",
                meta.key_spec().map_or("unknown", |s| s.as_str())
            )));
        }
        if meta.key_usage() != Some(&KeyUsageType::SignVerify) {
            return Err(wrong(format!(
                "its key usage is {}, and signing needs SIGN_VERIFY",
                meta.key_usage().map_or("unknown", |u| u.as_str())
            )));
        }
        if !meta.enabled() {
            return Err(wrong(
                "it is disabled: enable it, or name another key".into(),
            ));
        }
        let public = public_key(&client, &calls, key).await?;
        let signing = SigningKey {
            client,
            calls,
            key: key.to_string(),
            public,
        };
        let probe = b"lambda-ship: can this key sign?";
        let signature = signing.sign(probe).await?;
        if !signing.public.verifies(probe, &signature) {
            return Err(wrong(
                "a signature it made does not verify with its own public key".into(),
            ));
        }
        Ok(signing)
    }

    /// The ASN.1 DER ECDSA signature of `message`, made by KMS.
    pub async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let (message, kind) = if message.len() <= RAW_MAX {
            (message.to_vec(), MessageType::Raw)
        } else {
            (sha2::Sha256::digest(message).to_vec(), MessageType::Digest)
        };
        let out = self
            .client
            .sign()
            .key_id(&self.key)
            .message(Blob::new(message))
            .message_type(kind)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| refusal(&self.key, "Sign", &self.calls, &e))?;
        out.signature()
            .map(|s| s.as_ref().to_vec())
            .ok_or_else(|| SigningError::Kms {
                key: self.key.clone(),
                message: "Sign answered without a signature".into(),
            })
    }
}

/// The public half of `key`, read once for a run's verifications.
pub async fn fetch_public_key(
    sdk: &aws_config::SdkConfig,
    key: &str,
) -> Result<PublicKey, SigningError> {
    public_key(&crate::aws::kms_client(sdk), &CallContext::of(sdk), key).await
}

async fn public_key(
    client: &aws_sdk_kms::Client,
    calls: &CallContext,
    key: &str,
) -> Result<PublicKey, SigningError> {
    let out = client
        .get_public_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| refusal(key, "GetPublicKey", calls, &e))?;
    // Older answers name the spec by its deprecated field only.
    #[allow(deprecated)]
    let spec = out
        .key_spec()
        .map(KeySpec::as_str)
        .or(out.customer_master_key_spec().map(|s| s.as_str()));
    if spec != Some(KeySpec::EccNistP256.as_str()) {
        return Err(SigningError::Key {
            key: key.to_string(),
            reason: format!(
                "its key spec is {}, and lambda-ship verifies ECC_NIST_P256 signatures",
                spec.unwrap_or("unknown")
            ),
        });
    }
    let spki = out
        .public_key()
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| SigningError::Kms {
            key: key.to_string(),
            message: "GetPublicKey answered without the key".into(),
        })?;
    Ok(PublicKey {
        key: key.to_string(),
        spki,
    })
}

/// A KMS error: the key's own faults (missing, disabled, denied) are the
/// user's to fix; anything else is the call's.
fn refusal<E>(
    key: &str,
    operation: &str,
    calls: &CallContext,
    e: &SdkError<E, HttpResponse>,
) -> SigningError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.as_service_error().and_then(ProvideErrorMetadata::code);
    let message = calls.describe(e);
    let reason = match code {
        Some("NotFoundException") => Some(format!(
            "KMS has no such key in this account and Region ({message}). Name it by alias/NAME, \
             key id or ARN"
        )),
        Some("AccessDeniedException") => Some(format!(
            "kms:{operation} is denied to this role ({message}). Grant it on this key: \
             `lambda-ship policy --sign-key` prints the statement"
        )),
        Some("DisabledException" | "KMSInvalidStateException" | "InvalidKeyUsageException") => {
            Some(message.clone())
        }
        _ => None,
    };
    match reason {
        Some(reason) => SigningError::Key {
            key: key.to_string(),
            reason,
        },
        None => SigningError::Kms {
            key: key.to_string(),
            message: format!("{operation}: {message}"),
        },
    }
}

#[cfg(test)]
#[path = "kms_tests.rs"]
mod kms_tests;
