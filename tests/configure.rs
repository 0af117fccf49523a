//! deploy owns each function's configuration: flags and lambda-ship.toml,
//! diffed against what the function has and sent only where they differ,
//! before the code; `--dry-run` plans it all from read APIs; the local run
//! runs the function as configured; environment values never show.

mod common;

use common::proxy::{Proxy, Seen};
use common::*;

fn configuration(name: &str) -> serde_json::Value {
    aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        name,
    ])
}

fn repository_exists(repo: &str) -> bool {
    aws_output(&["ecr", "describe-repositories", "--repository-names", repo])
        .status
        .success()
}

/// The ECR or Lambda requests that change something.
fn writes(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter_map(|s| {
            let target = s.header("x-amz-target").unwrap_or_default();
            let ecr_write = target.contains("AmazonEC2ContainerRegistry")
                && !["Describe", "GetAuthorizationToken", "BatchGetImage", "List"]
                    .iter()
                    .any(|r| target.contains(r));
            let lambda_write = s.uri.starts_with("/20") && s.method != "GET";
            (ecr_write || lambda_write).then(|| format!("{} {} {target}", s.method, s.uri))
        })
        .collect()
}

#[test]
fn a_change_is_planned_by_dry_run_then_applied_and_env_values_never_show() {
    let repo = unique("configure");
    let f = unique("fn-conf");
    create_function(&f, "x86_64", false);
    let before = configuration(&f);
    let sha = random_sha();
    let secret = format!("s3cr3t-{}", &random_sha()[..12]);
    let env = format!("API_TOKEN={secret}");
    let args = [
        "--memory",
        "512",
        "--timeout",
        "20",
        "--env",
        &env,
        "--image-command",
        "handler",
        "--description",
        "orders api",
    ];

    // The plan: read APIs only; nothing created, pushed or changed.
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let out = deploy_fixture(&repo, &sha, &[&f])
        .args(args)
        .arg("--dry-run")
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for line in [
        format!("repository {repo}: to be created"),
        "to be built and pushed".to_string(),
        format!("memory {} → 512 MB", before["MemorySize"]),
        format!("timeout {} → 20 s", before["Timeout"]),
        "environment API_TOKEN added".to_string(),
        "image command (none) → [\"handler\"]".to_string(),
        "description (none) → orders api".to_string(),
        "code    123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest → ".to_string(),
    ] {
        assert!(stdout.contains(&line), "{line}:\n{stdout}");
    }
    assert!(stdout.contains(&format!(":{sha}-x86_64")), "{stdout}");
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    assert!(!stderr.contains("building"), "nothing is built:\n{stderr}");
    assert_eq!(writes(&proxy.seen()), Vec::<String>::new());
    assert!(!repository_exists(&repo), "no repository is created");
    assert!(registry_tags(&repo).is_empty(), "nothing is pushed");
    assert_eq!(configuration(&f)["MemorySize"], before["MemorySize"]);

    // Applied: the configuration first (only what differs), then the code.
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let (report, log) = build_ok(
        deploy_fixture(&repo, &sha, &[&f])
            .args(args)
            .env("AWS_ENDPOINT_URL", &proxy.url),
    );
    assert!(!log.contains(&secret), "{log}");
    assert!(!report.to_string().contains(&secret), "{report}");
    let configured = report["functions"][0]["configured"].to_string();
    assert!(
        configured.contains("environment API_TOKEN added"),
        "{configured}"
    );
    let now = configuration(&f);
    assert_eq!(now["MemorySize"], 512);
    assert_eq!(now["Timeout"], 20);
    assert_eq!(now["Description"], "orders api");
    assert_eq!(
        now["Environment"]["Variables"]["API_TOKEN"],
        secret.as_str()
    );
    let seen = proxy.seen();
    let config_at = seen
        .iter()
        .position(|s| s.method == "PUT" && s.uri.ends_with("/configuration"))
        .expect("an UpdateFunctionConfiguration");
    let code_at = seen
        .iter()
        .position(|s| s.method == "PUT" && s.uri.ends_with("/code"))
        .expect("an UpdateFunctionCode");
    assert!(
        config_at < code_at,
        "the configuration goes live before the code"
    );
    let sent: serde_json::Value = serde_json::from_str(&seen[config_at].body).unwrap();
    assert_eq!(sent["MemorySize"], 512);
    assert_eq!(sent["ImageConfig"]["Command"][0], "handler", "{sent}");

    // Again: what already holds is not sent. (Moto drops ImageConfig from
    // UpdateFunctionConfiguration, so only that is sent again.)
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    build_ok(
        deploy_fixture(&repo, &sha, &[&f])
            .args(args)
            .env("AWS_ENDPOINT_URL", &proxy.url),
    );
    for s in proxy.seen_matching("PUT", "/configuration") {
        let sent: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        for field in ["MemorySize", "Timeout", "Environment", "Description"] {
            assert!(sent.get(field).is_none(), "{field} is sent again: {sent}");
        }
    }
    assert!(proxy.seen_matching("PUT", "/code").is_empty(), "same image");

    // A value not given is left as the function has it.
    build_ok(&mut deploy_fixture(&repo, &sha, &[&f]));
    let kept = configuration(&f);
    assert_eq!(kept["MemorySize"], 512);
    assert_eq!(
        kept["Environment"]["Variables"]["API_TOKEN"],
        secret.as_str()
    );
}

#[test]
fn the_handler_that_needs_a_variable_passes_the_local_run_only_when_the_function_has_it() {
    let repo = unique("env-gate");
    let f = unique("fn-env");
    let ctx = fixture_copy();
    std::fs::write(
        ctx.path().join("function/handler.sh"),
        "handler() { [ -n \"${TABLE_NAME:-}\" ] || return 1; printf '{\"table\":\"%s\"}' \"$TABLE_NAME\"; }\n",
    )
    .unwrap();
    let target = format!("{f}:x86_64");
    let create = |cmd: &mut assert_cmd::Command| {
        cmd.args(["--execution-role", FUNCTION_ROLE]);
    };
    let mut without = deploy_in(ctx.path(), &repo, &random_sha(), &[&target]);
    create(&mut without);
    let err = fails_with(&mut without, 1);
    assert!(err.contains("local"), "{err}");
    assert!(
        !aws_output(&["lambda", "get-function", "--function-name", &f])
            .status
            .success(),
        "nothing is created when the local run fails"
    );

    let mut with = deploy_in(ctx.path(), &repo, &random_sha(), &[&target]);
    create(&mut with);
    with.args(["--env", "TABLE_NAME=orders", "--memory", "256"]);
    let (report, _) = build_ok(&mut with);
    let local = &image(&report["build"], "x86_64")["local_smoke"];
    assert!(
        local["response"]
            .as_str()
            .unwrap_or_default()
            .contains("orders"),
        "{local}"
    );
    assert_eq!(report["functions"][0]["created"], true);
    let made = configuration(&f);
    assert_eq!(made["MemorySize"], 256);
    assert_eq!(made["Environment"]["Variables"]["TABLE_NAME"], "orders");
}

#[test]
fn one_image_serves_two_functions_with_their_own_handler_from_lambda_ship_toml() {
    let repo = unique("toml");
    let (fx86, farm) = (unique("fn-toml-x86"), unique("fn-toml-arm"));
    let ctx = fixture_copy();
    std::fs::write(
        ctx.path().join("function/handler.sh"),
        "handler() { printf '{\"via\":\"handler\"}'; }\n\
         other() { printf '{\"via\":\"other\",\"greeting\":\"%s\"}' \"$GREETING\"; }\n",
    )
    .unwrap();
    let bootstrap = ctx.path().join("bootstrap");
    let text = std::fs::read_to_string(&bootstrap).unwrap().replace(
        "out=$(handler \"$event\")",
        "out=$(\"${_HANDLER:-handler}\" \"$event\")",
    );
    std::fs::write(&bootstrap, text).unwrap();
    std::fs::write(
        ctx.path().join("lambda-ship.toml"),
        format!(
            "repository = \"{repo}\"\nexecution-role = \"{FUNCTION_ROLE}\"\n\n\
             [defaults]\nmemory = 256\n[defaults.env]\nGREETING = \"from-defaults\"\n\n\
             [functions.{fx86}]\narchitecture = \"x86_64\"\nimage-command = [\"other\"]\n\
             [functions.{fx86}.env]\nGREETING = \"from-its-table\"\n\n\
             [functions.{farm}]\narchitecture = \"arm64\"\nimage-command = [\"handler\"]\nmemory = 512\n"
        ),
    )
    .unwrap();
    let (report, log) = build_ok(
        lambda_ship()
            .args(["deploy", "--sha", &random_sha()])
            .arg("--context")
            .arg(ctx.path()),
    );
    let answer = |arch: &str| -> serde_json::Value {
        let local = &image(&report["build"], arch)["local_smoke"];
        serde_json::from_str(local["response"].as_str().unwrap_or_default())
            .unwrap_or_else(|_| panic!("{arch}: {local}\n{log}"))
    };
    assert_eq!(answer("x86_64")["via"], "other");
    assert_eq!(answer("x86_64")["greeting"], "from-its-table");
    assert_eq!(answer("arm64")["via"], "handler");
    let x86 = aws(&["lambda", "get-function", "--function-name", &fx86]);
    assert_eq!(x86["Configuration"]["MemorySize"], 256);
    assert_eq!(
        x86["Configuration"]["ImageConfigResponse"]["ImageConfig"]["Command"][0],
        "other"
    );
    let arm = configuration(&farm);
    assert_eq!(arm["MemorySize"], 512);
    assert_eq!(arm["Architectures"][0], "arm64");
    assert_eq!(arm["Environment"]["Variables"]["GREETING"], "from-defaults");
}

#[test]
fn every_bad_input_exits_2_and_creates_nothing() {
    let repo = unique("bad-config");
    let f = unique("fn-bad");
    let target = format!("{f}:x86_64");
    let role = ["--execution-role", FUNCTION_ROLE];
    let big = format!("BIG={}", "v".repeat(4_100));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--memory", "64"], "memory (MB) of"),
        (vec!["--memory", "10241"], "128–10240"),
        (vec!["--timeout", "901"], "1–900"),
        (vec!["--timeout", "0"], "1–900"),
        (vec!["--ephemeral-storage", "256"], "512–10240"),
        (vec!["--env", "NO_EQUALS_SIGN"], "--env KEY=VALUE"),
        (vec!["--env", "9LIVES=x"], "--env KEY=VALUE"),
        (
            vec!["--env", "AWS_REGION=eu-west-1"],
            "set by Lambda itself",
        ),
        (vec!["--env", &big], "over Lambda's 4 KB"),
        (
            vec!["--execution-role", "arn:aws:iam::123456789012:user/me"],
            "not an IAM role ARN",
        ),
        (vec!["--image-command", "[\"unclosed\""], "is not a command"),
    ];
    for (args, expected) in &cases {
        let mut cmd = deploy_fixture(&repo, &random_sha(), &[&target]);
        if args[0] != "--execution-role" {
            cmd.args(role);
        }
        cmd.args(args);
        let err = fails_with(&mut cmd, 2);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            !err.contains("vvvvvvvv"),
            "an env value is never shown: {err}"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one paragraph: {err}"
        );
    }
    // A new function without an architecture, a name Lambda would reject.
    let err = fails_with(deploy_fixture(&repo, &random_sha(), &[&f]).args(role), 2);
    assert!(err.contains(&format!("--function {f}:x86_64")), "{err}");
    let err = fails_with(
        &mut deploy_fixture(&repo, &random_sha(), &["my function!"]),
        2,
    );
    assert!(err.contains("my function!"), "{err}");

    // A config file that is not TOML, or has a key it does not know.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lambda-ship.toml");
    for (text, expected) in [
        (
            "repository = \"x\"\n[defaults]\nmemroy = 512\n",
            "line 3: unknown field `memroy`",
        ),
        ("repository = \n", "line 1:"),
        (
            &*format!("[functions.{f}]\narchitecture = \"x86_64\"\ntimeout = 1000\n"),
            "1–900",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let err = fails_with(
            lambda_ship()
                .args(["deploy", "--sha", &random_sha(), "--config"])
                .arg(&file)
                .args(role)
                .arg("--context")
                .arg(fixture()),
            2,
        );
        assert!(err.contains(expected), "{text}: {err}");
    }
    assert!(!repository_exists(&repo), "no repository is created");
    assert!(
        !aws_output(&["lambda", "get-function", "--function-name", &f])
            .status
            .success(),
        "no function is created"
    );
}
