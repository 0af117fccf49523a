//! Reports as the stages make them, for the tests of what is made of them
//! (the comment, the summary, the text): one deployed function and build to
//! change from, instead of literals copied between test files.

use lambda_ship::lambda::smoke::SmokeResult;
use lambda_ship::lambda::{AliasReport, FunctionReport, Outcome};
use lambda_ship::model::{CommitSha, Platform, TagMutability};
use lambda_ship::registry::ecr::Repository;
use lambda_ship::report::{BuildReport, Failure, ImageReport, RunReport};

pub const URI: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders";

pub fn sha() -> CommitSha {
    "0123456789abcdef0123456789abcdef01234567".parse().unwrap()
}

pub fn image(p: Platform, reused: bool) -> ImageReport {
    let sha = sha();
    ImageReport {
        platform: p,
        architecture: p.lambda_arch(),
        tag: format!("{sha}-{}", p.lambda_arch()),
        image_uri: format!("{URI}:{sha}-{}", p.lambda_arch()),
        digest: format!("sha256:{}", "ab".repeat(32)),
        deploy_uri: format!("{URI}@sha256:{}", "ab".repeat(32)),
        pushed_to: format!("{URI}:{sha}-{}", p.lambda_arch()),
        media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
        compressed_size: 1_071_218,
        size: (!reused).then_some(2_000_000),
        reused,
        unchanged_since: None,
        engine: (!reused).then(|| "unix:///var/run/docker.sock".into()),
        engine_version: None,
        inputs: None,
        signed: None,
        build_seconds: if reused { 0.0 } else { 1.2 },
        push_seconds: if reused { 0.0 } else { 0.4 },
        local_smoke: None,
        scan: None,
    }
}

pub fn build() -> BuildReport {
    BuildReport {
        image: None,
        images: vec![image(Platform::Amd64, false), image(Platform::Arm64, true)],
        commit: sha(),
        repository: Repository {
            name: "orders".into(),
            uri: URI.into(),
            mutability: TagMutability::Immutable,
            created: false,
        },
        registry: URI.split('/').next().unwrap().into(),
    }
}

pub fn smoke(passed: bool) -> SmokeResult {
    SmokeResult {
        passed,
        qualifier: Some("7".into()),
        status: 200,
        function_error: (!passed).then(|| "Unhandled".into()),
        payload: if passed {
            r#"{"ok":true}"#.into()
        } else {
            r#"{"errorType":"KeyError","errorMessage":"'order_id'"}"#.into()
        },
        payload_truncated: false,
        log_tail: Some("START RequestId: 1\nEND RequestId: 1\n".into()),
        duration_ms: 41,
        reason: (!passed).then(|| "the function failed: Unhandled".into()),
    }
}

pub fn function(name: &str, arch: &'static str) -> FunctionReport {
    FunctionReport {
        name: name.into(),
        architecture: arch,
        image_before: Some(format!("{URI}:old")),
        image_after: Some(format!("{URI}@sha256:{}", "ab".repeat(32))),
        outcome: Outcome::Deployed,
        created: false,
        configured: Vec::new(),
        preview_of: None,
        numbers: None,
        baseline: None,
        warnings: Vec::new(),
        version: Some("7".into()),
        alias: Some(AliasReport {
            name: "live".into(),
            previous_version: Some("6".into()),
            version: Some("7".into()),
            moved: true,
            served: Default::default(),
            revision: None,
        }),
        url: Some("https://abc123.lambda-url.us-east-1.on.aws/".into()),
        smoke: Some(smoke(true)),
        update_seconds: 2.5,
    }
}

pub fn run(functions: Vec<FunctionReport>, failure: Option<Failure>) -> RunReport {
    RunReport {
        ok: failure.is_none(),
        commit: Some(sha()),
        ci: lambda_ship::ci::CiKind::GitHub,
        change_number: Some(12),
        build: Some(build()),
        images: Vec::new(),
        functions,
        rollout: None,
        failure,
    }
}
