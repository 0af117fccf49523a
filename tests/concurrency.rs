//! Two or three deploys of the same functions at once, against moto behind
//! the test proxy, which keeps Lambda's `RevisionId` and `CodeSha256`
//! preconditions as Lambda does (moto ignores them) and can hold one run's
//! request until another run's has landed. No run publishes or promotes
//! another run's code, and what each says a function runs is what it runs.

mod common;

use common::proxy::{Proxy, Rule};
use common::releases::released_function;
use common::runs::*;
use common::*;
use std::time::Duration;

/// Another deploy's release of `function`: its code changed to an image of
/// `tag`, published. Returns the version.
fn another_release(function: &str, tag: &str) -> String {
    let image = format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:{tag}");
    aws(&[
        "lambda",
        "update-function-code",
        "--function-name",
        function,
        "--image-uri",
        &image,
    ]);
    let published = aws(&["lambda", "publish-version", "--function-name", function]);
    published["Version"].as_str().unwrap().to_string()
}

/// Another deploy moves the alias `live` wholly onto `version`, through `endpoint`.
fn move_live(endpoint: &str, function: &str, version: &str, description: &str) {
    let out = aws_output_at(
        endpoint,
        &[
            "lambda",
            "update-alias",
            "--function-name",
            function,
            "--name",
            "live",
            "--function-version",
            version,
            "--description",
            description,
            "--routing-config",
            "AdditionalVersionWeights={}",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until the proxy holds a request of the first run.
fn until_held(proxy: &Proxy) {
    eventually(Duration::from_secs(300), "the first run to be held", || {
        (proxy.holding() == 1).then_some(())
    });
}

#[test]
fn a_publish_overtaken_by_another_deploys_update_publishes_nothing_and_moves_nothing() {
    let name = released_function("race-publish");
    let proxy = lambda_proxy();
    // A's PublishVersion waits until B's UpdateFunctionCode has landed.
    let versions = format!("/functions/{name}/versions");
    let code = format!("/functions/{name}/code");
    proxy.on(Rule::new("POST", &versions)
        .nth(1)
        .hold_until("PUT", &code, 2));
    let a = Run::start(&proxy, &[&name], &[]);
    until_held(&proxy);
    let b = Run::start(&proxy, &[&name], &[]).finish();
    let a = a.finish();
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(a.code, 1, "{}", a.stderr);
    let said = format!(
        "{name} (x86_64): updated, then failed: another deploy changed it during this one \
         (now runs {}): nothing published",
        b.digest()
    );
    assert!(a.stderr.contains(&said), "{said}\n{}", a.stderr);
    let mine = a.function(&name);
    assert!(mine["version"].is_null(), "A published nothing: {mine}");
    // Lambda refused A's PublishVersion for its precondition: B's code is
    // not A's, and nothing was published from it.
    let refused = proxy
        .seen_matching("POST", &versions)
        .into_iter()
        .find(|s| s.body.contains(&a.sha))
        .expect("A's PublishVersion");
    assert!(
        refused.injected && refused.status == 400 && refused.response_body.contains("CodeSHA256"),
        "refused for its code: {refused:?}"
    );
    // The alias serves B's version, whose image is B's; A added no version.
    let live = alias_version(&name);
    assert_eq!(b.function(&name)["alias"]["version"], live.as_str());
    assert_eq!(version_note(&name, &live), (b.sha.clone(), b.digest()));
    assert!(version_runs(&name, &live, &b.image_of(&name)));
    assert_eq!(published_versions(&name), 2, "version 1 and B's");
}

#[test]
fn an_alias_move_overtaken_by_another_deploys_is_left_where_that_one_put_it() {
    let name = released_function("race-alias");
    let proxy = lambda_proxy();
    // A's UpdateAlias waits until B's has landed.
    let alias = format!("/functions/{name}/aliases/live");
    proxy.on(Rule::new("PUT", &alias).nth(1).hold_until("PUT", &alias, 1));
    let a = Run::start(&proxy, &[&name], &[]);
    until_held(&proxy);
    let b = Run::start(&proxy, &[&name], &[]).finish();
    let a = a.finish();
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(a.code, 1, "{}", a.stderr);
    let live = alias_version(&name);
    let published = a.function(&name)["version"].as_str().unwrap().to_string();
    let said = format!(
        "another deploy moved the alias live during this one (it serves version {live} now): \
         version {published} was published, the alias not moved"
    );
    assert!(a.stderr.contains(&said), "{said}\n{}", a.stderr);
    assert_eq!(
        a.function(&name)["alias"]["version"],
        live.as_str(),
        "read back"
    );
    assert_eq!(a.function(&name)["alias"]["moved"], false);
    assert_eq!(version_note(&name, &live), (b.sha.clone(), b.digest()));
    assert_eq!(
        version_note(&name, &published).0,
        a.sha,
        "A's version is A's"
    );
}

#[test]
fn three_deploys_at_once_leave_each_alias_on_what_its_winning_run_reported() {
    let (one, two) = (released_function("race-3a"), released_function("race-3b"));
    let proxy = lambda_proxy();
    let runs: Vec<Run> = (0..3)
        .map(|_| Run::start(&proxy, &[&one, &two], &[]))
        .collect();
    let done: Vec<Finished> = runs.into_iter().map(Run::finish).collect();
    for name in [&one, &two] {
        let live = alias_version(name);
        let (commit, digest) = version_note(name, &live);
        // The run whose commit the alias serves says so, with its own image.
        let winner = done
            .iter()
            .find(|r| r.sha == commit)
            .unwrap_or_else(|| panic!("{name}: version {live} is no run's"));
        let said = winner.function(name);
        assert!(said["error"].is_null(), "{said}");
        assert_eq!(said["alias"]["version"], live.as_str(), "{said}");
        assert_eq!(digest, winner.digest());
        assert!(version_runs(name, &live, &winner.image_of(name)));
        // No run says it put its commit live where another's runs, unless
        // it says another deploy moved the alias after it.
        for run in &done {
            let f = run.function(name);
            let Some(version) = f["alias"]["version"].as_str() else {
                continue;
            };
            if !f["error"].is_null() || version == "1" {
                continue;
            }
            let moved_after = f["warnings"].as_array().unwrap().iter().any(|w| {
                w.as_str()
                    .unwrap()
                    .contains("moved the alias live since this run read it")
            });
            let own = version_note(name, version).0 == run.sha
                && version_runs(name, version, &run.image_of(name));
            assert!(
                own || moved_after,
                "{name}: a run of {} says it serves version {version}: {f}",
                run.sha
            );
        }
    }
    assert!(done.iter().any(|r| r.code == 0), "one run at least wins");
}

#[test]
fn a_rollout_whose_alias_another_deploy_moved_leaves_it_as_that_one_set_it() {
    let name = released_function("race-rollout");
    let proxy = lambda_proxy();
    let run = Run::start(&proxy, &[&name], &["--rollout", "canary:30:8s"]);
    eventually(Duration::from_secs(300), "the canary split", || {
        let a = live_now(&name);
        a["RoutingConfig"]["AdditionalVersionWeights"]["2"]
            .as_f64()
            .is_some_and(|w| (w - 0.3).abs() < 1e-9)
            .then_some(())
    });
    // Another deploy publishes version 3 and puts the alias wholly on it
    // mid-canary.
    let third = another_release(&name, "third");
    move_live(&format!("http://{MOTO}"), &name, &third, "someone else");
    let done = run.finish();
    assert_ne!(done.code, 0, "{}", done.stderr);
    let said = format!("{name}: another deploy moved the alias during this rollout: left as it is");
    assert!(done.stderr.contains(&said), "{said}\n{}", done.stderr);
    let a = live_now(&name);
    assert_eq!(a["FunctionVersion"], "3");
    assert_eq!(a["Description"], "someone else", "not touched again: {a}");
    assert!(
        a["RoutingConfig"]["AdditionalVersionWeights"]
            .as_object()
            .is_none_or(|w| w.is_empty())
    );
    // The report says what the alias serves, read back, not what was meant.
    let said = &done.function(&name)["alias"];
    assert_eq!(
        (said["version"].as_str(), said["moved"].as_bool()),
        (Some("3"), Some(false))
    );
}

#[test]
fn a_rollback_overtaken_by_another_alias_move_leaves_the_alias_alone() {
    let name = released_function("race-rollback");
    let second = another_release(&name, "second");
    move_live(&format!("http://{MOTO}"), &name, &second, "");
    let proxy = lambda_proxy();
    let alias = format!("/functions/{name}/aliases/live");
    proxy.on(Rule::new("PUT", &alias).nth(1).hold_until("PUT", &alias, 1));
    let mut rollback = lambda_ship();
    rollback.env("AWS_ENDPOINT_URL", &proxy.url).args([
        "rollback",
        "--alias",
        "live",
        "--function",
        &name,
        "--to-version",
        "1",
    ]);
    let rollback = std::thread::spawn(move || rollback.output().unwrap());
    until_held(&proxy);
    // Another deploy moves the alias meanwhile, through the same Lambda.
    move_live(&proxy.url, &name, &second, "someone else");
    let out = rollback.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another deploy moved the alias live during this rollback: left as it is"),
        "{stderr}"
    );
    let a = live_now(&name);
    assert_eq!(
        (a["FunctionVersion"].as_str(), a["Description"].as_str()),
        (Some("2"), Some("someone else"))
    );
}

#[test]
fn a_deploy_alone_is_never_refused_on_any_of_its_paths() {
    // Every write path under Lambda's preconditions, with no other writer:
    // a function created with a URL and an alias, then its configuration
    // changed with its code, twice, then a release rolled out.
    let function = format!("{}:x86_64", unique("race-alone"));
    let proxy = lambda_proxy();
    let steps: [&[&str]; 4] = [
        &[
            "--execution-role",
            FUNCTION_ROLE,
            "--function-url",
            "public",
        ],
        &["--env", "LEVEL=2", "--memory", "512"],
        &["--env", "LEVEL=3"],
        &["--rollout", "canary:50:2s"],
    ];
    for args in steps {
        let done = Run::start(&proxy, &[&function], args).finish();
        assert_eq!(done.code, 0, "{args:?}: {}", done.stderr);
        let warnings = &done.report["functions"][0]["warnings"];
        assert_eq!(warnings, &serde_json::json!([]), "{args:?}");
    }
    let refused: Vec<_> = proxy.seen().into_iter().filter(|s| s.injected).collect();
    assert!(refused.is_empty(), "no write refused: {refused:?}");
}
