//! The key's checks against the AWS SDK's replay client: what moto cannot
//! say (a role denied `kms:Sign`) is found before anything is built.

use super::*;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use base64::Engine as _;

fn answer(status: u16, error: Option<&str>, body: String) -> ReplayEvent {
    let request = hyper::http::Request::builder()
        .uri("https://kms.us-east-1.amazonaws.com/")
        .body(SdkBody::empty())
        .unwrap();
    let mut response = hyper::http::Response::builder().status(status);
    if let Some(code) = error {
        response = response.header("x-amzn-errortype", code);
    }
    ReplayEvent::new(request, response.body(SdkBody::from(body)).unwrap())
}

fn sdk(events: Vec<ReplayEvent>) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKID", "SECRET", None, None, "test"),
            ),
        )
        .http_client(StaticReplayClient::new(events))
        .build()
}

fn described(spec: &str, usage: &str) -> ReplayEvent {
    answer(
        200,
        None,
        format!(
            r#"{{"KeyMetadata":{{"KeyId":"k","Enabled":true,"KeySpec":"{spec}","KeyUsage":"{usage}"}}}}"#
        ),
    )
}

fn public_key() -> ReplayEvent {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = pair.public_key().as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(spki.as_ref());
    answer(
        200,
        None,
        format!(r#"{{"KeyId":"k","KeySpec":"ECC_NIST_P256","PublicKey":"{b64}"}}"#),
    )
}

#[tokio::test]
async fn a_role_denied_kms_sign_is_found_before_anything_is_built() {
    let denied = answer(
        400,
        Some("AccessDeniedException"),
        r#"{"__type":"AccessDeniedException","message":"not authorized to perform kms:Sign"}"#
            .into(),
    );
    let err = SigningKey::open(
        &sdk(vec![
            described("ECC_NIST_P256", "SIGN_VERIFY"),
            public_key(),
            denied,
        ]),
        "alias/release",
    )
    .await
    .err()
    .unwrap();
    assert!(err.is_config(), "exit 2: {err}");
    let text = err.to_string();
    assert!(
        text.contains("alias/release")
            && text.contains("kms:Sign is denied")
            && text.contains("policy --sign-key"),
        "{text}"
    );
}

#[tokio::test]
async fn a_key_that_does_not_sign_is_refused_for_its_spec_or_usage() {
    for (spec, usage, says) in [
        ("RSA_2048", "SIGN_VERIFY", "key spec is RSA_2048"),
        (
            "ECC_NIST_P256",
            "KEY_AGREEMENT",
            "key usage is KEY_AGREEMENT",
        ),
    ] {
        let err = SigningKey::open(&sdk(vec![described(spec, usage)]), "k")
            .await
            .err()
            .unwrap();
        assert!(err.is_config() && err.to_string().contains(says), "{err}");
    }
}

#[tokio::test]
async fn a_signature_that_does_not_verify_with_the_key_s_public_half_is_refused() {
    // KMS answered with a signature of another key.
    let other = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let sig = other
        .sign(
            &aws_lc_rs::rand::SystemRandom::new(),
            b"lambda-ship: can this key sign?",
        )
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(sig.as_ref());
    let signed = answer(200, None, format!(r#"{{"KeyId":"k","Signature":"{b64}"}}"#));
    let err = SigningKey::open(
        &sdk(vec![
            described("ECC_NIST_P256", "SIGN_VERIFY"),
            public_key(),
            signed,
        ]),
        "k",
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("does not verify"), "{err}");
}
