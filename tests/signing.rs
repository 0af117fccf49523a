//! `--sign-key` and `--require-signature`: cosign-layout signatures and SLSA
//! provenance beside single-image manifests, signed by moto's KMS, checked
//! here by an independent verifier (Python's `cryptography`), and required
//! before any function changes.

mod common;

use common::*;
use std::io::Write as _;

/// A KMS key of moto: `spec` and `usage` as asked, named by a fresh alias.
fn kms_key(spec: &str, usage: &str) -> String {
    let key = aws(&[
        "kms",
        "create-key",
        "--key-spec",
        spec,
        "--key-usage",
        usage,
    ]);
    let id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let alias = format!("alias/{}", unique("sign"));
    let out = aws_output(&[
        "kms",
        "create-alias",
        "--alias-name",
        &alias,
        "--target-key-id",
        &id,
    ]);
    assert!(out.status.success(), "{out:?}");
    alias
}

fn signing_key() -> String {
    kms_key("ECC_NIST_P256", "SIGN_VERIFY")
}

/// The key's public half, base64 of its SPKI DER, as KMS gives it.
fn public_key(key: &str) -> String {
    aws(&["kms", "get-public-key", "--key-id", key])["PublicKey"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Whether `signature` (base64 DER) is `key`'s ECDSA P-256 SHA-256 over
/// `message`: checked by Python's `cryptography`, not by lambda-ship.
fn verifies(key: &str, message: &[u8], signature: &str) -> bool {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(message).unwrap();
    let script = "import sys, base64\n\
        from cryptography.hazmat.primitives.serialization import load_der_public_key\n\
        from cryptography.hazmat.primitives.asymmetric import ec\n\
        from cryptography.hazmat.primitives import hashes\n\
        key = load_der_public_key(base64.b64decode(sys.argv[1]))\n\
        key.verify(base64.b64decode(sys.argv[3]), open(sys.argv[2], 'rb').read(), ec.ECDSA(hashes.SHA256()))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, &public_key(key)])
        .arg(file.path())
        .arg(signature)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || stderr.contains("InvalidSignature"),
        "the verifier failed: {stderr}"
    );
    out.status.success()
}

fn tag_beside(digest: &str, kind: &str) -> String {
    format!("{}.{kind}", digest.replacen(':', "-", 1))
}

/// The one layer of an artefact manifest, read as a client other than
/// lambda-ship reads it: its document and its annotations.
fn artefact_layers(repo: &str, tag: &str) -> Vec<(Vec<u8>, serde_json::Value)> {
    let m = manifest(repo, tag);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                blob(repo, l["digest"].as_str().unwrap()),
                l["annotations"].clone(),
            )
        })
        .collect()
}

/// DSSE's pre-authentication encoding, written out here from the spec.
fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn b64(text: &str) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,base64; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))",
            text,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// What a function runs now.
fn running(function: &str) -> String {
    aws(&["lambda", "get-function", "--function-name", function])["Code"]["ImageUri"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_signed_deploy_keeps_single_image_manifests_and_signs_each_beside_it() {
    let key = signing_key();
    let repo = unique("signed");
    let (fx, fa) = (unique("fn-sig-x"), unique("fn-sig-a"));
    create_function(&fx, "x86_64", false);
    create_function(&fa, "arm64", false);
    let sha = random_sha();
    let (report, stderr) = build_ok(deploy_fixture(&repo, &sha, &[&fx, &fa]).args([
        "--sign-key",
        &key,
        "--require-signature",
        &key,
    ]));
    assert!(stderr.contains("signed, provenance attested"), "{stderr}");
    let tags = registry_tags(&repo);
    for arch in ["x86_64", "arm64"] {
        let built = image(&report["build"], arch);
        let digest = built["digest"].as_str().unwrap();
        // The image's own tag is what Lambda takes: one image manifest.
        let m = manifest(&repo, &format!("{sha}-{arch}"));
        assert!(
            m["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
                || m["mediaType"] == "application/vnd.oci.image.manifest.v1+json",
            "{m}"
        );
        assert!(m.get("manifests").is_none(), "not an index: {m}");
        assert!(tags.contains(&tag_beside(digest, "sig")), "{tags:?}");
        assert!(tags.contains(&tag_beside(digest, "att")), "{tags:?}");

        // The signature: cosign's simple-signing payload, signed over its bytes.
        let sigs = artefact_layers(&repo, &tag_beside(digest, "sig"));
        assert_eq!(sigs.len(), 1);
        let (payload, annotations) = &sigs[0];
        let signature = annotations["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap();
        assert!(
            verifies(&key, payload, signature),
            "the signature does not verify"
        );
        let p: serde_json::Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(p["critical"]["image"]["docker-manifest-digest"], digest);
        assert_eq!(p["critical"]["type"], "cosign container image signature");
        assert_eq!(p["optional"]["commit"], sha.as_str());

        // The provenance: a DSSE envelope over an in-toto statement.
        let atts = artefact_layers(&repo, &tag_beside(digest, "att"));
        assert_eq!(atts.len(), 1);
        let envelope: serde_json::Value = serde_json::from_slice(&atts[0].0).unwrap();
        assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
        let statement = b64(envelope["payload"].as_str().unwrap());
        let dsse_sig = envelope["signatures"][0]["sig"].as_str().unwrap();
        assert!(
            verifies(
                &key,
                &pae("application/vnd.in-toto+json", &statement),
                dsse_sig
            ),
            "the attestation does not verify"
        );
        let s: serde_json::Value = serde_json::from_slice(&statement).unwrap();
        assert_eq!(s["predicateType"], "https://slsa.dev/provenance/v1");
        assert_eq!(
            format!(
                "sha256:{}",
                s["subject"][0]["digest"]["sha256"].as_str().unwrap()
            ),
            digest
        );
        let build = &s["predicate"]["buildDefinition"];
        assert_eq!(
            build["externalParameters"]["source"]["digest"]["gitCommit"],
            sha.as_str()
        );
        assert_eq!(build["externalParameters"]["dockerfile"], "Dockerfile");
        assert!(build["resolvedDependencies"][1]["digest"]["sha256"].is_string());
        assert!(s["predicate"]["runDetails"]["builder"]["version"]["docker"].is_string());
    }
    // `verify` says what the provenance says.
    let x = image(&report["build"], "x86_64")["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let out = lambda_ship()
        .args(["verify", "--key", &key, "--commit", &sha])
        .arg(format!("{REGISTRY}/{repo}@{x}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&sha) && text.contains("linux/amd64"),
        "{text}"
    );

    // A signature by the key over another digest, put beside this image,
    // is refused: it is the arm64 image's.
    let a = image(&report["build"], "arm64")["digest"].as_str().unwrap();
    let other = registry_get(
        &format!("{repo}/manifests/{}", tag_beside(a, "sig")),
        "application/vnd.oci.image.manifest.v1+json",
    );
    let put = std::process::Command::new("curl")
        .args(["-fsS", "-X", "PUT", "-u", REGISTRY_AUTH, "-H"])
        .arg("Content-Type: application/vnd.oci.image.manifest.v1+json")
        .arg("--data-binary")
        .arg("@-")
        .arg(format!(
            "http://{REGISTRY}/v2/{repo}/manifests/{}",
            tag_beside(&x, "sig")
        ))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(&other)?;
            c.wait()
        })
        .unwrap();
    assert!(put.success());
    let stderr = fails_with(
        lambda_ship()
            .args(["verify", "--key", &key])
            .arg(format!("{REGISTRY}/{repo}@{x}")),
        1,
    );
    assert!(stderr.contains("names another image"), "{stderr}");
}

#[test]
fn require_signature_refuses_unsigned_and_other_keys_images_and_changes_nothing() {
    let (key, other) = (signing_key(), signing_key());
    let repo = unique("required");
    let f = unique("fn-req");
    create_function(&f, "x86_64", false);
    let before = running(&f);
    let sha = random_sha();

    // Not signed at all: the report (what the comment renders) says why.
    let out = deploy_fixture(&repo, &sha, &[&f])
        .args(["--require-signature", &key, "--output", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is not signed") && stderr.contains("Nothing was deployed"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failure"]["stage"], "signature");
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("is not signed")
    );
    assert!(report["build"]["images"][0]["digest"].is_string());
    assert_eq!(running(&f), before);

    // Signed, by another key: the image reused, signed by it now.
    let stderr = fails_with(
        deploy_fixture(&repo, &sha, &[&f]).args([
            "--sign-key",
            &other,
            "--require-signature",
            &key,
        ]),
        1,
    );
    assert!(stderr.contains("verifies with the key"), "{stderr}");
    assert_eq!(running(&f), before);

    // Signed by the key: the second signature keeps the first beside it.
    let (report, _) = build_ok(deploy_fixture(&repo, &sha, &[&f]).args([
        "--sign-key",
        &key,
        "--require-signature",
        &key,
    ]));
    let digest = image(&report["build"], "x86_64")["digest"]
        .as_str()
        .unwrap();
    assert!(running(&f).ends_with(digest));
    assert_eq!(artefact_layers(&repo, &tag_beside(digest, "sig")).len(), 2);
}

#[test]
fn a_key_that_cannot_sign_stops_the_run_before_anything_is_built() {
    for (key, says) in [
        (
            kms_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
            "key spec is SYMMETRIC_DEFAULT",
        ),
        (kms_key("RSA_2048", "SIGN_VERIFY"), "key spec is RSA_2048"),
        (
            kms_key("ECC_NIST_P256", "KEY_AGREEMENT"),
            "key usage is KEY_AGREEMENT",
        ),
        (format!("alias/{}", unique("missing")), "no such key"),
    ] {
        let repo = unique("unsignable");
        let stderr = fails_with(
            build_fixture(&repo, &random_sha()).args(["--sign-key", &key]),
            2,
        );
        assert!(stderr.contains(&key) && stderr.contains(says), "{stderr}");
        assert!(
            !stderr.contains(": building on"),
            "nothing is built: {stderr}"
        );
        assert!(registry_tags(&repo).is_empty());
    }
}

#[test]
fn prune_removes_an_images_signature_and_attestation_with_it() {
    let key = signing_key();
    let repo = unique("prune-signed");
    let f = unique("fn-prune-sig");
    create_function(&f, "x86_64", false);
    let mut digests = Vec::new();
    for text in ["old", "new"] {
        let ctx = fixture_copy();
        std::fs::write(ctx.path().join("function/says.txt"), text).unwrap();
        let (report, _) = build_ok(build_in(ctx.path(), &repo, &random_sha()).args([
            "--platforms",
            "linux/amd64",
            "--sign-key",
            &key,
        ]));
        digests.push(
            image(&report, "x86_64")["digest"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let (report, _) = build_ok(lambda_ship().args([
        "prune",
        "--repository",
        &repo,
        "--function",
        &f,
        "--keep",
        "1",
    ]));
    assert_eq!(
        report["images"].as_array().unwrap().len(),
        2,
        "signatures are not counted as images: {report}"
    );
    let tags = registry_tags(&repo);
    for kind in ["sig", "att"] {
        assert!(!tags.contains(&tag_beside(&digests[0], kind)), "{tags:?}");
        assert!(tags.contains(&tag_beside(&digests[1], kind)), "{tags:?}");
    }
}

#[test]
fn rollback_refuses_an_unsigned_image_and_goes_back_to_a_signed_one() {
    let key = signing_key();
    let repo = unique("rollback-signed");
    let f = unique("fn-rb-sig");
    create_function(&f, "x86_64", false);
    let context = |text: &str| {
        let ctx = fixture_copy();
        std::fs::write(ctx.path().join("function/says.txt"), text).unwrap();
        ctx
    };
    let deploy = |text: &str, sign: bool| {
        let ctx = context(text);
        let sha = random_sha();
        let mut cmd = deploy_in(ctx.path(), &repo, &sha, &[&f]);
        if sign {
            cmd.args(["--sign-key", &key]);
        }
        let digest = image(&build_ok(&mut cmd).0["build"], "x86_64")["digest"]
            .as_str()
            .unwrap()
            .to_string();
        (sha, digest)
    };
    let (unsigned_sha, unsigned) = deploy("unsigned", false);
    let (_, newest) = deploy("newest", true);
    let rollback = || {
        let mut cmd = lambda_ship();
        cmd.args([
            "rollback",
            "--function",
            &f,
            "--no-smoke",
            "--require-signature",
            &key,
        ]);
        cmd
    };
    // Back from `newest` is `unsigned`: refused, nothing moves.
    let stderr = fails_with(&mut rollback(), 1);
    assert!(
        stderr.contains(&unsigned) && stderr.contains("is not signed"),
        "{stderr}"
    );
    assert!(running(&f).ends_with(&newest));
    // Once a build of its commit, which reuses it, signed it, the same rollback goes.
    let ctx = context("unsigned");
    build_ok(build_in(ctx.path(), &repo, &unsigned_sha).args([
        "--platforms",
        "linux/amd64",
        "--sign-key",
        &key,
    ]));
    build_ok(&mut rollback());
    assert!(running(&f).ends_with(&unsigned));
}
