//! The read-back's manifest checks beyond the common case, and which
//! registries are spoken to in plain HTTP.

use super::*;

fn image() -> ImageRef {
    ImageRef {
        registry: "1.dkr.ecr.us-east-1.amazonaws.com".into(),
        repository: "fn".into(),
        tag: "abc-arm64".into(),
    }
}

fn check(json: &str) -> Result<Checked, ManifestError> {
    check_manifest(&image(), json.as_bytes())
}

#[test]
fn an_oci_manifest_without_its_media_type_is_a_single_image() {
    let c = check(
        r#"{"schemaVersion":2,"config":{"digest":"sha256:c","size":7},
            "layers":[{"digest":"sha256:l1","size":3},{"digest":"sha256:l2"}]}"#,
    )
    .ok()
    .unwrap();
    assert_eq!(c.media_type, OCI_IMAGE_MEDIA_TYPE);
    assert_eq!(c.digest, "sha256:c");
    assert_eq!(c.size, 10, "a layer without a size counts nothing");
}

#[test]
fn a_manifest_lambda_does_not_take_is_named_by_its_media_type() {
    let v1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    let err = check(&format!(
        r#"{{"schemaVersion":1,"mediaType":"{v1}","config":{{"digest":"sha256:c"}}}}"#
    ))
    .err()
    .unwrap();
    assert!(
        matches!(err, ManifestError::NotSingleImage { ref media_type, .. } if media_type == v1)
    );
    assert!(err.to_string().contains(&image().to_string()), "{err}");
}

#[test]
fn a_manifest_without_a_config_or_not_json_is_malformed() {
    let err = check(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#)
        .err()
        .unwrap();
    assert!(
        matches!(err, ManifestError::Malformed { ref reason, .. } if reason == "it has no config"),
        "{err}"
    );
    assert!(matches!(
        check("<html>503</html>").err().unwrap(),
        ManifestError::Malformed { .. }
    ));
    assert!(
        matches!(
            check(r#"{"config":{"size":1}}"#).err().unwrap(),
            ManifestError::Malformed { .. }
        ),
        "a config without a digest"
    );
}

#[test]
fn loopback_registries_in_any_form_are_plain_http() {
    for local in [
        "localhost",
        "localhost:5000",
        "127.0.0.1",
        "127.1.2.3:443",
        "[::1]:5000",
    ] {
        assert!(is_loopback(local), "{local}");
    }
    for remote in [
        "10.0.0.1:5000",
        "registry.example:5000",
        "localhost.example",
        "[::2]:5000",
    ] {
        assert!(!is_loopback(remote), "{remote}");
    }
}

#[test]
fn an_ipv6_loopback_registry_without_a_port_is_plain_http() {
    assert!(is_loopback("[::1]"));
}

#[test]
fn a_reference_by_digest_or_tag_is_read_as_such() {
    let by_tag = RegistryReader::reference(&image());
    assert_eq!(by_tag.tag(), Some("abc-arm64"));
    assert_eq!(by_tag.digest(), None);
    let by_digest = RegistryReader::reference(&image().at("sha256:0123"));
    assert_eq!(by_digest.digest(), Some("sha256:0123"));
    assert_eq!(by_digest.tag(), None);
    assert_eq!(by_digest.registry(), "1.dkr.ecr.us-east-1.amazonaws.com");
}
