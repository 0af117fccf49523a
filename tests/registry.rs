//! The registry session: one ECR token for the push, the read-back and the
//! reuse checks, and after a renewal every one of them uses the new token.

mod common;

use base64::Engine as _;
use common::proxy::{Proxy, Rule};
use common::*;

#[test]
fn after_a_renewal_the_read_back_uses_the_new_token() {
    let repo = unique("renewed");
    let sha = random_sha();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let old = b64(REGISTRY_AUTH);
    let new = b64("AWS:renewed-auth-token");
    // ECR's second token is a new one, as after an expiry.
    let ecr = Proxy::start(Some(&format!("http://{MOTO}")));
    ecr.on(
        Rule::new("POST", "/")
            .header_contains("x-amz-target", "GetAuthorizationToken")
            .nth(2)
            .respond(
                200,
                &[("Content-Type", "application/x-amz-json-1.1")],
                &format!(
                    r#"{{"authorizationData":[{{"authorizationToken":"{new}","expiresAt":1420070400,"proxyEndpoint":"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}}]}}"#
                ),
            ),
    );
    // The registry: the old token expires at the manifest's push and is
    // refused from then on; the new one stands for a credential it knows.
    let unauthorized = [
        ("WWW-Authenticate", "Basic realm=\"ecr\""),
        ("Content-Type", "application/json"),
    ];
    let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
    let registry = Proxy::start(Some(&format!("http://{REGISTRY}")));
    registry.on(Rule::new("PUT", &format!("/v2/{repo}/manifests/"))
        .header_contains("authorization", &old)
        .respond(401, &unauthorized, body));
    registry.on(Rule::new("GET", &format!("/v2/{repo}/manifests/"))
        .header_contains("authorization", &old)
        .respond(401, &unauthorized, body));
    registry.on(Rule::any("/v2/")
        .header_contains("authorization", &new)
        .set_header("authorization", &format!("Basic {old}")));
    let via = registry.url.trim_start_matches("http://").to_string();
    let (report, stderr) = build_ok(
        build_fixture(&repo, &sha)
            .args(["--platforms", "linux/amd64"])
            .env("AWS_ENDPOINT_URL", &ecr.url)
            .env("LAMBDA_SHIP_REGISTRY", &via),
    );
    assert_eq!(
        ecr.seen()
            .iter()
            .filter(|s| s
                .header("x-amz-target")
                .is_some_and(|t| t.contains("GetAuthorizationToken")))
            .count(),
        2,
        "the token was renewed once: {stderr}"
    );
    let reads = registry.seen_matching("GET", &format!("/v2/{repo}/manifests/"));
    assert!(!reads.is_empty(), "the manifest was read back");
    for read in &reads {
        assert!(
            read.header("authorization")
                .is_some_and(|a| a.contains(&new)),
            "the read-back used the stale token: {:?}",
            read.header("authorization")
        );
    }
    assert!(
        image(&report, "x86_64")["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}
