//! `cleanup` when a pull request closes, `prune --keep N`, and the
//! untagged-image lifecycle rule: nothing in use is ever deleted.

mod common;

use common::proxy::{Proxy, Rule};
use common::runs::context_saying;
use common::*;

fn exists(function: &str) -> bool {
    aws_output(&["lambda", "get-function", "--function-name", function])
        .status
        .success()
}

/// Whether the registry still holds the manifest `reference` of `repo`.
fn held(repo: &str, reference: &str) -> bool {
    std::process::Command::new("curl")
        .args(["-fs", "-o", "/dev/null", "-u", REGISTRY_AUTH, "-H"])
        .arg(format!("Accept: {MANIFEST_TYPES}"))
        .arg(format!("http://{REGISTRY}/v2/{repo}/manifests/{reference}"))
        .status()
        .unwrap()
        .success()
}

fn digest_of(report: &serde_json::Value, arch: &str) -> String {
    image(&report["build"], arch)["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn cleanup_removes_one_pull_requests_previews_and_images_and_keeps_what_runs() {
    let repo = unique("cleanup");
    let f = unique("fn-clean");
    create_function(&f, "x86_64", true);
    let prod_sha = random_sha();
    let (prod, _) = build_ok(deploy_fixture(&repo, &prod_sha, &[&f]).args(["--alias", "live"]));
    let prod_digest = digest_of(&prod, "x86_64");
    let forge = common::forge::Forge::start();
    let dir = tempfile::tempdir().unwrap();
    let preview = |pr: u64, ctx: &std::path::Path, head: String| {
        let mut cmd = deploy_in(ctx, &repo, &head, &[&f]);
        cmd.arg("--preview");
        in_pull_request(&mut cmd, dir.path(), (pr, &head, None), &forge.url);
        (head, build_ok(&mut cmd).0)
    };
    let (ctx21, ctx22) = (context_saying("twenty-one"), context_saying("twenty-two"));
    let (head21, r21) = preview(21, ctx21.path(), random_sha());
    let (_, r22) = preview(22, ctx22.path(), random_sha());
    // A pull request at production's commit: its image is in use.
    let (head23, r23) = preview(23, &fixture(), prod_sha.clone());
    let (d21, d22) = (digest_of(&r21, "x86_64"), digest_of(&r22, "x86_64"));
    assert_eq!(digest_of(&r23, "x86_64"), prod_digest);

    let cleanup = |pr: u64, head: &str, aws_url: Option<&str>| {
        let mut cmd = lambda_ship();
        cmd.args(["cleanup", "--repository", &repo, "--function", &f]);
        in_pull_request(&mut cmd, dir.path(), (pr, head, None), &forge.url);
        if let Some(url) = aws_url {
            cmd.env("AWS_ENDPOINT_URL", url);
        }
        build_ok(&mut cmd).0
    };
    // A participant's comment with the deploy's marker stays theirs.
    let lure = format!(
        "{}\nnot lambda-ship's",
        lambda_ship::feedback::markdown::marker(&f)
    );
    forge.post_as("acme/widgets#21", common::forge::PARTICIPANT, &lure);
    // A 409 on the delete is waited out.
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.on(Rule::new("DELETE", &format!("/functions/{f}-pr21"))
        .times(1)
        .aws_error(409, "ResourceConflictException", "An update is in progress"));
    let report = cleanup(21, &head21, Some(&proxy.url));
    assert_eq!(report["previews"][0]["removed"], true, "{report}");
    assert!(!exists(&format!("{f}-pr21")), "the preview is gone");
    assert!(!held(&repo, &d21), "its image is deleted");
    assert!(held(&repo, &d22), "another pull request's image stays");
    assert!(
        exists(&format!("{f}-pr22")),
        "another pull request's preview stays"
    );
    assert!(held(&repo, &prod_digest), "production's image stays");
    assert_eq!(report["deleted"], serde_json::json!([d21]));
    let by = forge.comments_by("acme/widgets#21");
    let ours: Vec<&String> = by
        .iter()
        .filter(|(a, _)| a == common::forge::GITHUB_BOT)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "the deploy's comment is updated, not a second one posted: {by:?}"
    );
    assert!(ours[0].contains("removed the previews of #21"), "{by:?}");
    assert!(by.contains(&(common::forge::PARTICIPANT.to_string(), lure.clone())));

    // Its image is production's: the preview goes, the image stays.
    let report = cleanup(23, &head23, None);
    assert_eq!(report["previews"][0]["removed"], true);
    assert!(held(&repo, &prod_digest));
    let kept = report["kept"].to_string();
    assert!(
        kept.contains(&prod_digest) && kept.contains(&format!("{f}:live")),
        "{kept}"
    );

    // Again, and for a pull request that never had a preview: nothing to do.
    for (pr, head) in [(21, head21.as_str()), (99, "a".repeat(40).as_str())] {
        let report = cleanup(pr, head, None);
        assert_eq!(report["previews"][0]["removed"], false);
        assert_eq!(report["previews"][0]["note"], "no preview");
        assert_eq!(report["deleted"], serde_json::json!([]), "{report}");
    }

    // The function deleted meanwhile, and the preview's image already gone:
    // the preview still goes, and the run says what it did.
    aws(&["lambda", "delete-function", "--function-name", &f]);
    let gone = std::process::Command::new("curl")
        .args(["-fs", "-X", "DELETE", "-u", REGISTRY_AUTH])
        .arg(format!("http://{REGISTRY}/v2/{repo}/manifests/{d22}"))
        .status()
        .unwrap();
    assert!(gone.success());
    let report = cleanup(22, &random_sha(), None);
    assert_eq!(report["previews"][0]["removed"], true, "{report}");
    assert!(!held(&repo, &d22));
}

#[test]
fn prune_keeps_every_image_in_use_and_the_newest_n() {
    let repo = unique("prune");
    let f = unique("fn-prune");
    create_function(&f, "x86_64", false);
    let mut digests = Vec::new();
    for (i, word) in ["one", "two", "three", "four"].iter().enumerate() {
        let ctx = context_saying(word);
        let mut cmd = deploy_in(ctx.path(), &repo, &random_sha(), &[&f]);
        if i == 0 {
            cmd.args(["--alias", "live"]);
        }
        digests.push(digest_of(&build_ok(&mut cmd).0, "x86_64"));
    }
    // Moto answers a version's GetFunction with $LATEST's image; Lambda
    // with the version's own. The proxy gives version 1 its own, as Lambda does.
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let mut v1 = aws(&[
        "lambda",
        "get-function",
        "--function-name",
        &f,
        "--qualifier",
        "1",
    ]);
    let uri = v1["Code"]["ImageUri"].as_str().unwrap().to_string();
    let at = uri.rsplit_once('@').unwrap().0.to_string();
    v1["Code"]["ImageUri"] = serde_json::json!(format!("{at}@{}", digests[0]));
    proxy.on(
        Rule::new("GET", &format!("/functions/{f}?Qualifier=1")).respond(
            200,
            &[("Content-Type", "application/json")],
            &v1.to_string(),
        ),
    );
    let prune = |args: &[&str]| {
        let mut cmd = lambda_ship();
        cmd.args(["prune", "--repository", &repo])
            .args(args)
            .env("AWS_ENDPOINT_URL", &proxy.url);
        build_ok(&mut cmd).0
    };
    let decision = |plan: &serde_json::Value, digest: &str| {
        plan["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["digest"] == digest)
            .cloned()
            .unwrap_or_else(|| panic!("{digest} in {plan}"))
    };

    // A function that does not exist: exit 2, before anything is deleted.
    let err = fails_with(
        lambda_ship()
            .args(["prune", "--repository", &repo, "--keep", "0"])
            .args(["--function", &f, "--function", "no-such-function-anywhere"]),
        2,
    );
    assert!(err.contains("no-such-function-anywhere"), "{err}");
    assert!(digests.iter().all(|d| held(&repo, d)));

    let plan = prune(&["--function", &f, "--keep", "2", "--dry-run"]);
    assert!(
        decision(&plan, &digests[0])["why"]
            .to_string()
            .contains(&format!("{f}:live"))
    );
    assert!(
        decision(&plan, &digests[3])["why"]
            .to_string()
            .contains("in use")
    );
    assert!(
        decision(&plan, &digests[2])["why"]
            .to_string()
            .contains("what a rollback goes back to")
    );
    assert_eq!(decision(&plan, &digests[1])["keep"], false);
    assert!(
        digests.iter().all(|d| held(&repo, d)),
        "a dry run deletes nothing"
    );

    let done = prune(&["--function", &f, "--keep", "0"]);
    assert_eq!(done["errors"], serde_json::json!([]), "{done}");
    assert!(
        held(&repo, &digests[0]),
        "in use by the alias, whatever N says"
    );
    assert!(held(&repo, &digests[3]), "in use by $LATEST");
    assert!(
        held(&repo, &digests[2]),
        "what a rollback of $LATEST goes back to: {done}"
    );
    assert!(!held(&repo, &digests[1]), "{done}");
}

#[test]
fn untagged_images_expire_by_a_rule_merged_into_the_users_policy() {
    let repo = unique("lifecycle");
    aws(&["ecr", "create-repository", "--repository-name", &repo]);
    let user = r#"{"rules":[{"rulePriority":1,"description":"keep ten releases","selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}"#;
    aws(&[
        "ecr",
        "put-lifecycle-policy",
        "--repository-name",
        &repo,
        "--lifecycle-policy-text",
        user,
    ]);
    for _ in 0..2 {
        build_ok(build_fixture(&repo, &random_sha()).args(["--expire-untagged-days", "7"]));
        let policy = aws(&["ecr", "get-lifecycle-policy", "--repository-name", &repo]);
        let text: serde_json::Value =
            serde_json::from_str(policy["lifecyclePolicyText"].as_str().unwrap()).unwrap();
        let rules = text["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2, "{text}");
        assert_eq!(rules[0]["description"], "keep ten releases");
        assert_eq!(rules[1]["selection"]["tagStatus"], "untagged");
        assert_eq!(rules[1]["selection"]["countNumber"], 7);
    }
    let err = fails_with(
        build_fixture(&repo, &random_sha()).args(["--expire-untagged-days", "0"]),
        2,
    );
    assert!(err.contains("expire-untagged-days"), "{err}");
}
