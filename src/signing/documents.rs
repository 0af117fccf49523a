//! The documents of a signature and an attestation in cosign's layout, as
//! plain bytes: the simple-signing payload a `.sig` layer holds, the in-toto
//! statement of an SLSA provenance, the DSSE envelope around it and the
//! pre-authentication encoding (PAE) that is what its signature covers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

/// The media type of a `.sig` layer: the payload it holds is what is signed.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type of an `.att` layer: one DSSE envelope.
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The annotation of a `.sig` layer: base64 of the signature over its payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The annotation of an `.att` layer naming its predicate.
pub const PREDICATE_ANNOTATION: &str = "predicateType";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// What lambda-ship's provenance calls its kind of build.
pub const BUILD_TYPE: &str = "urn:lambda-ship:container-build:v1";
/// The builder: a Docker engine of the build farm, driven by lambda-ship.
pub const BUILDER_ID: &str = "urn:lambda-ship:docker-engine";

pub use crate::registry::artefacts::{artefact_subject, artefact_tag};

/// What the provenance says of a build: plain facts the build knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    /// The source repository's web address, when known.
    pub source: Option<String>,
    pub commit: String,
    /// Relative to the context.
    pub dockerfile: String,
    pub target: Option<String>,
    /// Only the names: their values may be secrets.
    pub build_args: Vec<String>,
    /// The build context's content digest (`dev.lambda-ship.inputs`).
    pub inputs: Option<String>,
    pub platform: String,
    /// The engine that built it, when this run built it: its name, and its
    /// API version and architecture.
    pub builder: Option<String>,
    pub builder_version: Option<String>,
    /// The CI run, as a web address.
    pub run: Option<String>,
}

/// The simple-signing payload of `digest`, pushed as `reference`.
pub fn simple_signing(reference: &str, digest: &str, provenance: &Provenance) -> Vec<u8> {
    let mut optional = serde_json::Map::new();
    optional.insert("commit".into(), json!(provenance.commit));
    if let Some(source) = &provenance.source {
        optional.insert("repository".into(), json!(source));
    }
    if let Some(run) = &provenance.run {
        optional.insert("run".into(), json!(run));
    }
    json!({
        "critical": {
            "identity": {"docker-reference": reference},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": optional,
    })
    .to_string()
    .into_bytes()
}

/// The in-toto statement of an SLSA v1 provenance of `digest`.
pub fn provenance_statement(reference: &str, digest: &str, p: &Provenance) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let mut source = json!({"digest": {"gitCommit": p.commit}});
    if let Some(url) = &p.source {
        source["uri"] = json!(format!("git+{url}"));
    }
    let mut dependencies = vec![source.clone()];
    if let Some(inputs) = &p.inputs {
        dependencies.push(json!({
            "name": "build-context",
            "digest": {"sha256": inputs.strip_prefix("sha256:").unwrap_or(inputs)},
        }));
    }
    json!({
        "_type": STATEMENT_V1,
        "subject": [{"name": reference, "digest": {"sha256": hex}}],
        "predicateType": SLSA_PROVENANCE_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "source": source,
                    "dockerfile": p.dockerfile,
                    "target": p.target,
                    "buildArgs": p.build_args,
                    "platform": p.platform,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER_ID,
                    "version": {"engine": p.builder, "docker": p.builder_version},
                },
                "metadata": {"invocationId": p.run},
            },
        },
    })
    .to_string()
    .into_bytes()
}

/// DSSE's pre-authentication encoding: what a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope of an in-toto statement with its one signature.
pub fn envelope(statement: &[u8], signature: &[u8]) -> Vec<u8> {
    json!({
        "payloadType": IN_TOTO,
        "payload": STANDARD.encode(statement),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(signature)}],
    })
    .to_string()
    .into_bytes()
}

/// A DSSE envelope as read back.
#[derive(Debug, serde::Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, serde::Deserialize)]
pub struct EnvelopeSignature {
    pub sig: String,
}

/// What a payload or statement names, read back: the digest it is about
/// and the commit its provenance names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub digest: String,
    pub commit: Option<String>,
}

/// The digest a simple-signing payload signs.
pub fn signed_digest(payload: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    v["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .map(str::to_string)
}

/// The subject digest and commit of an SLSA provenance statement.
pub fn statement_claims(statement: &[u8]) -> Option<(Claims, serde_json::Value)> {
    let v: serde_json::Value = serde_json::from_slice(statement).ok()?;
    if v["predicateType"] != SLSA_PROVENANCE_V1 {
        return None;
    }
    let hex = v["subject"][0]["digest"]["sha256"].as_str()?;
    let commit =
        v["predicate"]["buildDefinition"]["externalParameters"]["source"]["digest"]["gitCommit"]
            .as_str()
            .map(str::to_string);
    let predicate = v["predicate"].clone();
    Some((
        Claims {
            digest: format!("sha256:{hex}"),
            commit,
        },
        predicate,
    ))
}

/// Base64 as the layouts write it.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Base64 read back; None when it is not.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn facts() -> Provenance {
        Provenance {
            source: Some("https://github.com/acme/orders".into()),
            commit: "a".repeat(40),
            dockerfile: "Dockerfile".into(),
            target: Some("lambda".into()),
            build_args: vec!["PIP_INDEX".into()],
            inputs: Some("sha256:beef".into()),
            platform: "linux/arm64".into(),
            builder: Some("arm-node".into()),
            builder_version: Some("Docker Engine API 1.45 on aarch64".into()),
            run: Some("https://github.com/acme/orders/actions/runs/7".into()),
        }
    }

    #[test]
    fn artefacts_sit_beside_the_image_under_its_digest() {
        assert_eq!(
            artefact_tag(DIGEST, "sig"),
            format!("sha256-{}.sig", &DIGEST[7..])
        );
        assert_eq!(
            artefact_subject(&artefact_tag(DIGEST, "att")).as_deref(),
            Some(DIGEST)
        );
        for not in [
            "latest",
            "sha256-abc.sig",
            &format!("{}-x86_64", "a".repeat(40)),
        ] {
            assert_eq!(artefact_subject(not), None, "{not}");
        }
    }

    #[test]
    fn the_payload_names_the_digest_and_the_commit() {
        let payload = simple_signing("127.0.0.1:5000/orders", DIGEST, &facts());
        let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(v["critical"]["type"], "cosign container image signature");
        assert_eq!(
            v["critical"]["identity"]["docker-reference"],
            "127.0.0.1:5000/orders"
        );
        assert_eq!(v["optional"]["commit"], "a".repeat(40));
        assert_eq!(signed_digest(&payload).as_deref(), Some(DIGEST));
    }

    #[test]
    fn the_provenance_names_the_build_and_never_a_build_argument_s_value() {
        let statement = provenance_statement("r/orders", DIGEST, &facts());
        let text = String::from_utf8(statement.clone()).unwrap();
        assert!(text.contains("PIP_INDEX") && text.contains("git+https://github.com/acme/orders"));
        let (claims, predicate) = statement_claims(&statement).unwrap();
        assert_eq!(claims.digest, DIGEST);
        assert_eq!(claims.commit.as_deref(), Some("a".repeat(40).as_str()));
        assert_eq!(predicate["buildDefinition"]["buildType"], BUILD_TYPE);
        assert_eq!(
            predicate["buildDefinition"]["resolvedDependencies"][1]["digest"]["sha256"],
            "beef"
        );
        assert_eq!(predicate["runDetails"]["builder"]["id"], BUILDER_ID);
        assert_eq!(
            predicate["runDetails"]["builder"]["version"]["engine"],
            "arm-node"
        );
    }

    #[test]
    fn pae_is_dsse_s_encoding() {
        // The example of the DSSE specification's protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn an_envelope_carries_the_statement_and_its_signature() {
        let raw = envelope(b"{}", b"sig");
        let e: Envelope = serde_json::from_slice(&raw).unwrap();
        assert_eq!(e.payload_type, IN_TOTO);
        assert_eq!(unbase64(&e.payload).unwrap(), b"{}");
        assert_eq!(unbase64(&e.signatures[0].sig).unwrap(), b"sig");
    }
}
