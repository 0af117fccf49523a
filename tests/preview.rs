//! `deploy --preview`: each pull request gets, per function, a preview
//! function of the function's configuration running the pull request's
//! image behind its own URL; the function itself, its `$LATEST` and its
//! aliases, runs what it ran at every moment, watched during the runs.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A Lambda GET to moto, fast enough to watch a deploy with.
fn lambda_get(path: &str) -> serde_json::Value {
    let out = std::process::Command::new("curl")
        .args(["-s", "-H"])
        .arg(
            "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/\
             aws4_request, SignedHeaders=host, Signature=x",
        )
        .arg(format!("http://{MOTO}/2015-03-31/functions/{path}"))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// What production runs: `$LATEST`'s image, the alias's version, the URL.
fn production(name: &str) -> (String, String) {
    let f = lambda_get(name);
    let alias = lambda_get(&format!("{name}/aliases/live"));
    (
        f["Code"]["ImageUri"].as_str().unwrap_or("?").to_string(),
        alias["FunctionVersion"].as_str().unwrap_or("?").to_string(),
    )
}

fn pr_context(pr: u64) -> tempfile::TempDir {
    let ctx = fixture_copy();
    std::fs::write(
        ctx.path().join("function/handler.sh"),
        format!("handler() {{ printf '{{\"pr\":{pr}}}'; }}\n"),
    )
    .unwrap();
    ctx
}

#[test]
fn two_pull_requests_get_their_own_previews_while_production_never_changes() {
    let repo = unique("preview");
    let (fx86, farm) = (unique("fn-pv-x86"), unique("fn-pv-arm"));
    create_function(&fx86, "x86_64", true);
    create_function(&farm, "arm64", false);
    aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        &fx86,
        "--memory-size",
        "384",
        "--environment",
        "Variables={TABLE=orders}",
    ]);
    let targets = [fx86.as_str(), farm.as_str()];
    build_ok(deploy_fixture(&repo, &random_sha(), &targets).args(["--alias", "live"]));
    let before: Vec<(String, String)> = targets.iter().map(|f| production(f)).collect();

    // Watch production while two pull requests deploy their previews at once.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new((0usize, Vec::<String>::new())));
    let watcher = {
        let (stop, seen, before) = (stop.clone(), seen.clone(), before.clone());
        let names: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                for (name, was) in names.iter().zip(&before) {
                    let now = production(name);
                    let mut seen = seen.lock().unwrap();
                    seen.0 += 1;
                    if now != *was {
                        seen.1.push(format!("{name}: {was:?} became {now:?}"));
                    }
                }
            }
        })
    };
    let forge = common::forge::Forge::start();
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = [11u64, 12]
        .into_iter()
        .map(|pr| {
            let (repo, forge_url) = (repo.clone(), forge.url.clone());
            let targets: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
            let event_dir = dir.path().join(pr.to_string());
            std::fs::create_dir_all(&event_dir).unwrap();
            std::thread::spawn(move || {
                let ctx = pr_context(pr);
                let head = random_sha();
                let event = pull_request_event(&event_dir, pr, &head);
                let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
                let (report, _) = build_ok(
                    deploy_in(ctx.path(), &repo, &head, &refs)
                        .arg("--preview")
                        .env("GITHUB_ACTIONS", "true")
                        .env("GITHUB_EVENT_NAME", "pull_request")
                        .env("GITHUB_EVENT_PATH", &event)
                        .env("GITHUB_REPOSITORY", "acme/widgets")
                        .env("GITHUB_API_URL", &forge_url)
                        .env("GITHUB_TOKEN", "ghs_test"),
                );
                (pr, report)
            })
        })
        .collect();
    let reports: Vec<(u64, serde_json::Value)> =
        runs.into_iter().map(|r| r.join().unwrap()).collect();
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    let (samples, changes) = seen.lock().unwrap().clone();
    assert!(
        samples >= 4,
        "production was watched during the runs ({samples} samples)"
    );
    assert!(changes.is_empty(), "production changed: {changes:?}");
    for (f, was) in targets.iter().zip(&before) {
        assert_eq!(production(f), *was, "{f} after the runs");
    }

    let mut urls = Vec::new();
    for (pr, report) in &reports {
        for (f, arch) in [(&fx86, "x86_64"), (&farm, "arm64")] {
            let preview = format!("{f}-pr{pr}");
            let entry = report["functions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == preview.as_str())
                .unwrap_or_else(|| panic!("{preview} in {report}"));
            assert_eq!(entry["preview_of"], f.as_str());
            assert_eq!(entry["created"], true);
            let image = image(&report["build"], arch);
            let live = lambda_get(&preview);
            assert_eq!(live["Code"]["ImageUri"], image["deploy_uri"], "{preview}");
            assert_eq!(live["Configuration"]["Architectures"][0], arch);
            assert_eq!(live["Tags"]["lambda-ship:preview-of"], f.as_str());
            assert_eq!(live["Tags"]["lambda-ship:pull-request"], pr.to_string());
            let local = image["local_smoke"]["response"]
                .as_str()
                .unwrap_or_default();
            assert!(
                local.contains(&format!("\"pr\":{pr}")),
                "{preview}: {local}"
            );
            urls.push(entry["url"].as_str().unwrap_or_default().to_string());
        }
        // The function's configuration came along.
        let copy = lambda_get(&format!("{fx86}-pr{pr}"));
        assert_eq!(copy["Configuration"]["MemorySize"], 384);
        assert_eq!(
            copy["Configuration"]["Environment"]["Variables"]["TABLE"],
            "orders"
        );
        let comment = forge.comments(&format!("acme/widgets#{pr}")).join("\n");
        assert!(
            comment.contains(&format!("preview `{fx86}-pr{pr}`")),
            "{comment}"
        );
        assert!(
            comment.contains("#### What it costs"),
            "a preview's numbers too: {comment}"
        );
    }
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), 4, "each preview has its own URL: {urls:?}");
    // Auth of a preview's URL: the function's own (public), else IAM.
    let auth = |name: &str| {
        aws(&["lambda", "get-function-url-config", "--function-name", name])["AuthType"].clone()
    };
    assert_eq!(auth(&format!("{fx86}-pr11")), "NONE");
    assert_eq!(auth(&format!("{farm}-pr11")), "AWS_IAM");
}

#[test]
fn a_preview_outside_a_pull_request_is_refused() {
    let err = fails_with(
        deploy_fixture(&unique("preview-no-pr"), &random_sha(), &["any-function"]).arg("--preview"),
        2,
    );
    assert!(err.contains("not for a pull request"), "{err}");
}
