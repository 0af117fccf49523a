use super::*;
use crate::signing::documents::{self, Provenance};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use std::collections::BTreeMap;

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const OTHER: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// A P-256 key made here, standing in for KMS's.
fn key() -> (EcdsaKeyPair, PublicKey) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = pair.public_key().as_der().unwrap().as_ref().to_vec();
    (pair, PublicKey::from_spki("alias/test", spki))
}

fn sign(pair: &EcdsaKeyPair, message: &[u8]) -> Vec<u8> {
    pair.sign(&SystemRandom::new(), message)
        .unwrap()
        .as_ref()
        .to_vec()
}

fn facts(commit: &str) -> Provenance {
    Provenance {
        commit: commit.into(),
        dockerfile: "Dockerfile".into(),
        platform: "linux/amd64".into(),
        ..Provenance::default()
    }
}

fn sig_layer(pair: &EcdsaKeyPair, digest: &str) -> ArtefactLayer {
    let payload = documents::simple_signing("r/fn", digest, &facts("c"));
    ArtefactLayer {
        media_type: documents::SIMPLE_SIGNING.into(),
        annotations: BTreeMap::from([(
            documents::SIGNATURE_ANNOTATION.to_string(),
            documents::base64(&sign(pair, &payload)),
        )]),
        data: payload,
    }
}

fn att_layer(pair: &EcdsaKeyPair, digest: &str, commit: &str) -> ArtefactLayer {
    let statement = documents::provenance_statement("r/fn", digest, &facts(commit));
    let signature = sign(pair, &documents::pae(documents::IN_TOTO, &statement));
    ArtefactLayer {
        media_type: documents::DSSE_ENVELOPE.into(),
        annotations: BTreeMap::new(),
        data: documents::envelope(&statement, &signature),
    }
}

#[test]
fn a_signature_counts_only_for_its_key_and_the_digest_it_names() {
    let (pair, public) = key();
    let (other_pair, other_public) = key();
    let layers = vec![sig_layer(&pair, DIGEST), sig_layer(&other_pair, OTHER)];
    assert_eq!(
        signatures_by(&public, &layers).collect::<Vec<_>>(),
        [DIGEST]
    );
    assert_eq!(
        signatures_by(&other_public, &layers).collect::<Vec<_>>(),
        [OTHER]
    );
}

#[test]
fn an_altered_payload_does_not_verify() {
    let (pair, public) = key();
    let mut layer = sig_layer(&pair, DIGEST);
    layer.data = String::from_utf8(layer.data)
        .unwrap()
        .replace(DIGEST, OTHER)
        .into_bytes();
    assert_eq!(signatures_by(&public, &[layer]).count(), 0);
}

#[test]
fn an_attestation_is_read_only_when_its_envelope_verifies() {
    let (pair, public) = key();
    let (other_pair, _) = key();
    let layers = vec![
        att_layer(&pair, DIGEST, "abc"),
        att_layer(&other_pair, DIGEST, "evil"),
    ];
    let claims: Vec<_> = attestations_by(&public, &layers).map(|(c, _)| c).collect();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (claims[0].digest.as_str(), claims[0].commit.as_deref()),
        (DIGEST, Some("abc"))
    );
    // The statement changed after signing: the PAE no longer matches.
    let mut tampered = att_layer(&pair, DIGEST, "abc");
    let text = String::from_utf8(tampered.data).unwrap();
    let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statement = documents::unbase64(envelope["payload"].as_str().unwrap()).unwrap();
    let changed = String::from_utf8(statement).unwrap().replace("abc", "abd");
    tampered.data = text
        .replace(
            envelope["payload"].as_str().unwrap(),
            &documents::base64(changed.as_bytes()),
        )
        .into_bytes();
    assert_eq!(attestations_by(&public, &[tampered]).count(), 0);
}
