//! A fresh CI runner: an engine that has never built the function imports
//! the previous commit's layers from the registry; cache sources that are
//! not there, of another architecture or unreadable are skipped; the layers
//! go up while the image runs locally, and its tag only once every platform
//! passed.

mod common;

use common::proxy::{Proxy, Rule};
use common::*;
use std::path::Path;

/// A copy of the fixture with a step whose output differs on every run: its
/// layer is the same in two images only when the step was not run again.
fn context_with_seed() -> tempfile::TempDir {
    let ctx = fixture_copy();
    let dockerfile = ctx.path().join("Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap().replace(
        "COPY bootstrap",
        "RUN head -c 32 /dev/urandom | od -An -tx1 > /var/task/seed\nCOPY bootstrap",
    );
    std::fs::write(dockerfile, text).unwrap();
    ctx
}

fn change_handler(ctx: &Path) {
    let handler = ctx.join("function/handler.sh");
    let mut text = std::fs::read_to_string(&handler).unwrap();
    text.push_str(&format!("# change {}\n", random_sha()));
    std::fs::write(handler, text).unwrap();
}

/// A test that empties an engine runs alone: its prune must fall neither
/// between another's two builds nor in the middle of one. The others share.
static FRESH_ENGINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    FRESH_ENGINE.write().unwrap_or_else(|e| e.into_inner())
}

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    FRESH_ENGINE.read().unwrap_or_else(|e| e.into_inner())
}

/// Empties an engine as a fresh runner's is: no build cache, no image of
/// this repository.
fn empty_engine(socket: &str, repo: &str) {
    let out = docker(socket, &["builder", "prune", "-af"]);
    assert!(out.status.success(), "{out:?}");
    let images = docker(socket, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    for image in String::from_utf8_lossy(&images.stdout)
        .lines()
        .filter(|i| i.contains(repo))
    {
        docker(socket, &["rmi", "-f", image]);
    }
}

/// The digest of the layer the seed step made.
fn seed_layer(repo: &str, tag: &str) -> String {
    layer_holding(repo, tag, "var/task/seed")
}

#[test]
fn a_fresh_engine_reuses_the_previous_commits_layers_on_both_engine_versions() {
    let _turn = alone();
    for (socket, api) in [(ENGINE_A, "1.41"), (ENGINE_B, "1.45")] {
        let repo = unique("fresh");
        let ctx = context_with_seed();
        let (before, head) = (random_sha(), random_sha());
        let build = |sha: &str, previous: &str| {
            let dir = tempfile::tempdir().unwrap();
            let event = dir.path().join("event.json");
            // A `synchronize` event names the head the pull request had before.
            let payload = serde_json::json!({
                "before": previous,
                "pull_request": {"number": 7, "head": {"sha": sha}},
            });
            std::fs::write(&event, payload.to_string()).unwrap();
            let mut cmd = lambda_ship();
            cmd.args(["build", "--repository", &repo, "--platforms", "linux/amd64"])
                .arg("--context")
                .arg(ctx.path())
                .env("DOCKER_HOST", format!("unix://{socket}"))
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_EVENT_NAME", "pull_request")
                .env("GITHUB_EVENT_PATH", &event);
            build_ok(&mut cmd)
        };
        build(&before, &random_sha());
        empty_engine(socket, &repo);
        change_handler(ctx.path());
        let (_, log) = build(&head, &before);
        assert!(
            log.contains(&format!(
                "linux/amd64: cache from {REGISTRY}/{repo}:{before}-x86_64 (the previous commit's image)"
            )),
            "API {api}: {log}"
        );
        assert!(
            log.contains("importing cache manifest from"),
            "API {api}: {log}"
        );
        assert!(
            log.contains("od -An -tx1 > /var/task/seed (cached)"),
            "API {api}: {log}"
        );
        assert_eq!(
            seed_layer(&repo, &format!("{head}-x86_64")),
            seed_layer(&repo, &format!("{before}-x86_64")),
            "API {api}: the new image holds the previous commit's layer, not a rebuilt one"
        );
        // The next fresh runner too: the engine wrote into the image built
        // from cache only its new steps' cache, and the rest is found in the
        // image it names as its own cache source.
        empty_engine(socket, &repo);
        change_handler(ctx.path());
        let next = random_sha();
        let (_, log) = build(&next, &head);
        assert!(
            log.contains("od -An -tx1 > /var/task/seed (cached)"),
            "API {api}: {log}"
        );
        assert_eq!(
            seed_layer(&repo, &format!("{next}-x86_64")),
            seed_layer(&repo, &format!("{before}-x86_64")),
            "API {api}: a second fresh runner still reuses the layer"
        );
        // Without the registry's cache the step runs again.
        empty_engine(socket, &repo);
        let third = random_sha();
        let (_, log) = {
            let mut cmd = build_in(ctx.path(), &repo, &third);
            cmd.args(["--platforms", "linux/amd64", "--no-cache-from"])
                .env("DOCKER_HOST", format!("unix://{socket}"));
            build_ok(&mut cmd)
        };
        assert!(!log.contains("importing cache manifest"), "{log}");
        assert_ne!(
            seed_layer(&repo, &format!("{third}-x86_64")),
            seed_layer(&repo, &format!("{before}-x86_64"))
        );
    }
}

#[test]
fn cache_sources_that_are_missing_of_another_architecture_or_unreadable_are_skipped() {
    let _turn = shared();
    let repo = unique("cache-skip");
    let arm = random_sha();
    build_ok(build_fixture(&repo, &arm).args(["--platforms", "linux/arm64"]));
    // A registry that answers every request with an error, and records what
    // it was sent.
    let broken = Proxy::start(None);
    broken.on(Rule::any("/").respond(500, &[], "broken"));
    let broken_host = broken.url.trim_start_matches("http://").to_string();

    let (report, log) = build_ok(
        build_fixture(&repo, &random_sha())
            .args(["--platforms", "linux/amd64"])
            .arg(format!("--cache-from={REGISTRY}/{repo}:{arm}-arm64"))
            .arg(format!("--cache-from={REGISTRY}/{repo}:no-such-tag"))
            .arg(format!("--cache-from={broken_host}/team/fn:cache")),
    );
    assert!(
        log.contains(&format!(
            "linux/amd64: cache source {REGISTRY}/{repo}:{arm}-arm64 (--cache-from) skipped: it is an image for linux/arm64"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "cache source {REGISTRY}/{repo}:no-such-tag (--cache-from) skipped: it is not in the registry"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "cache source {broken_host}/team/fn:cache (--cache-from) skipped: it cannot be read"
        )),
        "{log}"
    );
    assert!(!log.contains("importing cache manifest"), "{log}");
    assert_eq!(image(&report, "x86_64")["architecture"], "x86_64");
    // A registry that is not the session's is never sent its token.
    assert!(!broken.seen().is_empty());
    for seen in broken.seen() {
        assert!(
            !seen
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization")),
            "{seen:?}"
        );
    }
    // A reference without its registry host is a user error.
    let err = fails_with(
        build_fixture(&repo, &random_sha()).args(["--cache-from", "fn:latest"]),
        2,
    );
    assert!(
        err.contains("--cache-from 'fn:latest' is not an image reference"),
        "{err}"
    );
}

#[test]
fn an_image_failing_locally_after_its_layers_went_up_leaves_no_tag_and_no_function_changed() {
    let _turn = shared();
    let repo = unique("staged");
    let (fx86, farm) = (unique("fn-st-x86"), unique("fn-st-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", false);
    // The arm64 image writes outside /tmp, which Lambda refuses; the amd64 one passes.
    let ctx = fixture_copy();
    std::fs::write(
        ctx.path().join("function/handler.sh"),
        "handler() {\n  if [ \"$(uname -m)\" = aarch64 ]; then echo x > /var/task/out.txt\n  \
         else printf '{\"ok\":true}'; fi\n}\n",
    )
    .unwrap();
    let sha = random_sha();
    let out = deploy_in(ctx.path(), &repo, &sha, &[&fx86, &farm])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("linux/amd64: local smoke test passed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("linux/arm64: the local smoke test failed"),
        "{stderr}"
    );
    // The layers went up while the images ran.
    assert!(stderr.contains("linux/amd64: pushing"), "{stderr}");
    let left = registry_tags(&repo);
    assert!(
        !left.iter().any(|t| t.starts_with(&sha)),
        "no tag of the commit is left, staged or not: {left:?}"
    );
    for f in [&fx86, &farm] {
        let live = aws(&["lambda", "get-function", "--function-name", f]);
        assert_eq!(
            live["Code"]["ImageUri"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"
        );
    }
}

#[test]
fn a_commit_that_changes_nothing_in_the_image_is_tagged_not_built_and_no_function_is_updated() {
    let _turn = shared();
    let repo = unique("unchanged");
    let (fx86, farm) = (unique("fn-un-x86"), unique("fn-un-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", false);
    let ctx = fixture_copy();
    let first = random_sha();
    let (report, _) = build_ok(&mut deploy_in(ctx.path(), &repo, &first, &[&fx86, &farm]));
    let digests: Vec<String> = ["x86_64", "arm64"]
        .iter()
        .map(|a| {
            image(&report["build"], a)["digest"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();

    // The next commit changes only what .dockerignore keeps out.
    std::fs::write(ctx.path().join("notes.tmp"), "a docs-only change").unwrap();
    let moto = Proxy::start(Some(&format!("http://{MOTO}")));
    let second = random_sha();
    let (report, log) = build_ok(
        deploy_in(ctx.path(), &repo, &second, &[&fx86, &farm]).env("AWS_ENDPOINT_URL", &moto.url),
    );
    assert!(!log.contains("building on"), "nothing is built:\n{log}");
    assert!(
        log.contains("linux/amd64: nothing that reaches the image changed since"),
        "{log}"
    );
    for (arch, digest) in ["x86_64", "arm64"].iter().zip(&digests) {
        let img = image(&report["build"], arch);
        assert_eq!(&img["digest"], digest, "{arch}: the same image");
        assert!(img["unchanged_since"].is_string(), "{img}");
        // This commit's tag names the earlier image.
        let m = registry_get(&format!("{repo}/manifests/{second}-{arch}"), MANIFEST_TYPES);
        let by_digest = registry_get(&format!("{repo}/manifests/{digest}"), MANIFEST_TYPES);
        assert_eq!(m, by_digest);
    }
    for f in report["functions"].as_array().unwrap() {
        assert_eq!(f["unchanged"], true, "{f}");
        assert_eq!(f["updated"], false, "{f}");
    }
    assert!(
        log.contains("unchanged: it already runs this image"),
        "{log}"
    );
    assert!(
        moto.seen_matching("PUT", "/code").is_empty(),
        "no function was updated: {:?}",
        moto.seen_matching("PUT", "/code")
    );

    // --force-rebuild builds all the same.
    let (report, log) =
        build_ok(deploy_in(ctx.path(), &repo, &random_sha(), &[&fx86]).arg("--force-rebuild"));
    assert!(log.contains("building on"), "{log}");
    assert_ne!(
        image(&report["build"], "x86_64")["digest"],
        digests[0].as_str()
    );
}

#[test]
fn a_multi_stage_build_on_a_fresh_engine_keeps_its_builder_dependencies_after_a_code_change() {
    let _turn = alone();
    let repo = unique("stages");
    let ctx = fixture_copy();
    // Dependencies first (a step whose output differs on every run), then
    // the code, in a builder stage; the final stage copies both.
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch AS builder\nARG TARGETARCH\nCOPY busybox/${TARGETARCH} /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         RUN mkdir -p /deps && head -c 32 /dev/urandom | od -An -tx1 > /deps/seed\n\
         COPY function/ /src/\nRUN mkdir -p /out && cp /src/* /out/\n\
         FROM scratch\nARG TARGETARCH\nCOPY busybox/${TARGETARCH} /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         RUN mkdir -p /tmp /var/task && chmod 1777 /tmp\nCOPY --from=builder /deps /deps\n\
         COPY bootstrap /var/runtime/bootstrap\nCOPY --from=builder /out/ /var/task/\n\
         WORKDIR /var/task\nENV LAMBDA_TASK_ROOT=/var/task\nENTRYPOINT [\"/var/runtime/bootstrap\"]\n",
    )
    .unwrap();
    let (first, second) = (random_sha(), random_sha());
    let build = |sha: &str, extra: &[&str]| {
        let mut cmd = build_in(ctx.path(), &repo, sha);
        cmd.args(["--platforms", "linux/amd64"]).args(extra);
        build_ok(&mut cmd).1
    };
    let log = build(&first, &[]);
    assert!(
        log.contains(&format!(
            "linux/amd64: stage builder cached as {REGISTRY}/{repo}:{first}-x86_64-cache-builder"
        )),
        "{log}"
    );
    empty_engine(ENGINE_A, &repo);
    change_handler(ctx.path());
    let log = build(
        &second,
        &["--cache-from", &format!("{REGISTRY}/{repo}:{first}-x86_64")],
    );
    assert!(
        log.contains(&format!(
            "cache from {REGISTRY}/{repo}:{first}-x86_64-cache-builder (stage builder of commit"
        )),
        "{log}"
    );
    assert!(log.contains("od -An -tx1 > /deps/seed (cached)"), "{log}");
    assert_eq!(
        layer_holding(&repo, &format!("{second}-x86_64"), "deps/seed"),
        layer_holding(&repo, &format!("{first}-x86_64"), "deps/seed"),
        "the dependencies step was not run again"
    );
}
