use super::parse::*;
use super::*;

#[test]
fn platforms_parse_in_docker_and_lambda_spellings() {
    for s in ["linux/amd64", "amd64", "x86_64"] {
        assert_eq!(s.parse::<Platform>().unwrap(), Platform::Amd64);
    }
    for s in ["linux/arm64", "arm64", "aarch64", "linux/arm64/v8"] {
        assert_eq!(s.parse::<Platform>().unwrap(), Platform::Arm64);
    }
    let err = "linux/s390x".parse::<Platform>().unwrap_err().to_string();
    assert!(
        err.contains("linux/s390x") && err.contains("linux/amd64"),
        "{err}"
    );
    assert_eq!(Platform::Amd64.lambda_arch(), "x86_64");
    assert_eq!(Platform::Arm64.lambda_arch(), "arm64");
}

#[test]
fn sha_must_be_40_hex() {
    let sha = "0123456789ABCDEF0123456789abcdef01234567";
    assert_eq!(
        sha.parse::<CommitSha>().unwrap().as_str(),
        sha.to_ascii_lowercase()
    );
    for bad in ["abc123", "g123456789abcdef0123456789abcdef01234567", ""] {
        let err = bad.parse::<CommitSha>().unwrap_err().to_string();
        assert!(err.contains("40-character"), "{err}");
    }
}

#[test]
fn repository_names_follow_ecr_rules() {
    for ok in ["my-function", "team/my_function", "a1", "a.b-c_d/e"] {
        assert!(ok.parse::<RepositoryName>().is_ok(), "{ok}");
    }
    for bad in [
        "My-Function",
        "-lead",
        "trail-",
        "a//b",
        "a__b",
        "x",
        "a b",
        "/abs",
    ] {
        assert!(bad.parse::<RepositoryName>().is_err(), "{bad}");
    }
}

#[test]
fn endpoints_parse() {
    assert_eq!(
        "unix:///run/arm/docker.sock".parse::<Endpoint>().unwrap(),
        Endpoint::Unix(PathBuf::from("/run/arm/docker.sock"))
    );
    assert_eq!(
        "tcp://arm-host:2376".parse::<Endpoint>().unwrap(),
        Endpoint::Tcp("tcp://arm-host:2376".into())
    );
    assert_eq!(
        "ssh://ci@arm-host".parse::<Endpoint>().unwrap(),
        Endpoint::Ssh("ssh://ci@arm-host".into())
    );
    for bad in [
        "http://x",
        "unix://relative.sock",
        "tcp://",
        "arm-host:2376",
    ] {
        assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
    }
}

#[test]
fn function_targets() {
    let t: FunctionTarget = "orders:arm64".parse().unwrap();
    assert_eq!((t.name.as_str(), t.arch), ("orders", Some(Platform::Arm64)));
    let t: FunctionTarget = "orders".parse().unwrap();
    assert_eq!((t.name.as_str(), t.arch), ("orders", None));
    let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
    let t: FunctionTarget = format!("{arn}:x86_64").parse().unwrap();
    assert_eq!((t.name.as_str(), t.arch), (arn, Some(Platform::Amd64)));
    assert_eq!(arn.parse::<FunctionTarget>().unwrap().arch, None);
    for bad in ["orders:prod", "has space", "", "a/b", "orders:s390x"] {
        assert!(bad.parse::<FunctionTarget>().is_err(), "{bad}");
    }
}

/// `deploy` of the fixture to one function, with `extra` flags, outside CI.
fn deploy_config(extra: &[&str]) -> Result<DeployConfig, ConfigError> {
    let ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/function");
    let base = [
        "lambda-ship",
        "deploy",
        "--repository",
        "fn",
        "--function",
        "f",
        "--sha",
        "0000000000000000000000000000000000000000",
        "--context",
        fixture,
    ];
    let args = <crate::cli::Cli as clap::Parser>::try_parse_from(base.iter().chain(extra)).unwrap();
    match args.command {
        crate::cli::Command::Deploy(d) => DeployConfig::from_args(d, &ci),
        _ => unreachable!(),
    }
}

#[test]
fn role_arns() {
    let check = |arn: &str| deploy_config(&["--role-arn", arn]).map(|_| ());
    check("arn:aws:iam::123456789012:role/deploy").unwrap();
    check("arn:aws-cn:iam::123456789012:role/path/to/deploy").unwrap();
    for bad in [
        "arn:aws:iam::12:role/x",
        "arn:aws:iam::123456789012:user/x",
        "deploy",
    ] {
        let err = check(bad).unwrap_err().to_string();
        assert!(err.contains("is not an IAM role ARN"), "{bad}: {err}");
    }
}

#[test]
fn session_names_are_valid_for_sts() {
    let mut ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
    ci.kind = crate::ci::CiKind::GitHub;
    ci.run_id = Some("123/4 attempt#2".into());
    let name = session_name_for(&ci);
    assert_eq!(name, "lambda-ship-github-123-4-attempt-2");
    ci.run_id = Some("x".repeat(100));
    assert_eq!(session_name_for(&ci).len(), 64);
    assert!(valid_session_name(&session_name_for(&ci)));
    assert!(!valid_session_name("a"));
    assert!(!valid_session_name("has space"));
}

#[test]
fn smoke_events_must_be_json() {
    assert_eq!(
        read_event("--smoke-event", r#"{"a":1}"#).unwrap(),
        r#"{"a":1}"#
    );
    let err = read_event("--smoke-event", "{not json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("--smoke-event is not JSON"), "{err}");
    let err = read_event("--event", "{").unwrap_err().to_string();
    assert!(err.starts_with("--event is not JSON"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("e.json");
    std::fs::write(&f, "[1]").unwrap();
    assert_eq!(
        read_event("--event", &format!("@{}", f.display())).unwrap(),
        "[1]"
    );
}

#[test]
fn environment_pairs() {
    assert_eq!(
        parse_env("TABLE_NAME=orders=1").unwrap(),
        ("TABLE_NAME".into(), "orders=1".into())
    );
    let err = parse_env("NOVALUE").unwrap_err().to_string();
    assert!(
        err.contains("'NOVALUE…'") && err.contains("KEY=VALUE"),
        "{err}"
    );
    let err = parse_env("API_KEY:s3cret").unwrap_err().to_string();
    assert!(
        err.contains("'API_KEY…'") && !err.contains("s3cret"),
        "{err}"
    );
    let err = parse_env("1BAD=s3cret").unwrap_err().to_string();
    assert!(!err.contains("s3cret"), "a value is never shown: {err}");
}

#[test]
fn build_args_and_registries() {
    assert_eq!(
        parse_build_arg("GREETING=hello=world").unwrap(),
        ("GREETING".into(), "hello=world".into())
    );
    assert!(parse_build_arg("NOVALUE").is_err());
    assert!(parse_build_arg("1BAD=x").is_err());
    assert!(parse_registry("127.0.0.1:5000").is_ok());
    assert!(parse_registry("123456789012.dkr.ecr.eu-west-1.amazonaws.com").is_ok());
    assert!(parse_registry("https://x").is_err());
    assert!(parse_registry("host:0").is_err());
    assert!(parse_registry("host/path").is_err());
}

#[test]
fn unreadable_pull_request_payload_is_an_error_only_without_sha() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("event.json");
    std::fs::write(&not_json, "not json").unwrap();
    for path in ["/nonexistent/event.json", not_json.to_str().unwrap()] {
        let env: crate::ci::Env = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", path),
            ("GITHUB_SHA", "2222222222222222222222222222222222222222"),
        ]
        .into_iter()
        .collect();
        let ci = crate::ci::CiContext::detect(&env);
        let err = resolve_sha(None, &ci, dir.path()).unwrap_err().to_string();
        assert!(err.contains("GITHUB_EVENT_PATH"), "{err}");
        assert_eq!(err.matches("no commit SHA found").count(), 1, "{err}");
        // An explicit --sha wins over every CI source.
        let head = "1111111111111111111111111111111111111111";
        let (sha, source) = resolve_sha(Some(head), &ci, dir.path()).unwrap();
        assert_eq!((sha.as_str(), source), (head, ShaSource::Flag));
    }
}

#[test]
fn git_is_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let none = crate::ci::CiContext::detect(&crate::ci::Env::default());
    let err = resolve_sha(None, &none, dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no commit SHA found"), "{err}");
    let git = |args: &[&str]| {
        assert!(
            std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap()
                .status
                .success()
        );
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    ]);
    let (sha, source) = resolve_sha(None, &none, dir.path()).unwrap();
    assert_eq!((sha.as_str().len(), source), (40, ShaSource::Git));
    assert!(crate::ci::changed_files(dir.path()).is_empty());
    std::fs::write(dir.path().join("new file.txt"), "x").unwrap();
    assert_eq!(
        crate::ci::changed_files(dir.path()),
        vec![dir.path().canonicalize().unwrap().join("new file.txt")]
    );
}

#[test]
fn values_are_checked_before_the_disk_is_read() {
    // No such folder: a bad value is still what is reported.
    let source = |platforms: &str, builder: &str| crate::cli::SourceArgs {
        context: PathBuf::from("/nonexistent/context"),
        file: None,
        platforms: Some(vec![platforms.to_string()]),
        build_args: vec![],
        target: None,
        builders: vec![builder.to_string()],
    };
    let err = Source::from_args(source("linux/s390x", ""))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown platform"), "{err}");
    let err = Source::from_args(source("linux/arm64", "linux/arm64=http://x"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("is not a builder"), "{err}");
    let err = Source::from_args(source("linux/arm64", ""))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("/nonexistent/context"), "{err}");
}

/// The fixture's source, every platform, with these builders.
fn fixture_source(builders: &[&str]) -> crate::cli::SourceArgs {
    crate::cli::SourceArgs {
        context: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/function"
        )),
        file: None,
        platforms: None,
        build_args: vec![],
        target: None,
        builders: builders.iter().map(|b| b.to_string()).collect(),
    }
}

#[test]
fn a_platform_named_again_gets_a_pool_in_the_order_given() {
    let pool = Source::from_args(fixture_source(&[
        "linux/amd64=unix:///run/a.sock",
        "linux/amd64=ssh://builder@b",
        "linux/arm64=unix:///run/c.sock",
    ]))
    .unwrap()
    .builders;
    let named: Vec<String> = pool[&Platform::Amd64]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(named, ["unix:///run/a.sock", "ssh://builder@b"]);
    assert_eq!(pool[&Platform::Arm64].len(), 1);
    let twice = Source::from_args(fixture_source(&[
        "linux/amd64=unix:///run/a.sock",
        "linux/amd64=unix:///run/a.sock",
    ]))
    .err()
    .unwrap()
    .to_string();
    assert!(
        twice.contains("names unix:///run/a.sock twice for linux/amd64"),
        "{twice}"
    );
}

#[test]
fn local_settings_need_no_commit_and_take_the_shared_defaults() {
    let ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
    let config = BuildConfig::for_local(
        fixture_source(&[]),
        OutputFormat::Json,
        ProgressArg::Plain,
        &ci,
    )
    .unwrap();
    assert_eq!(config.platforms, Platform::ALL);
    assert_eq!(config.build_timeout.as_secs(), defaults::BUILD_TIMEOUT_SECS);
    assert!(config.dirty.is_none() && config.registry_override.is_none());
}

#[test]
fn local_credentials_need_the_local_run() {
    let err =
        deploy_config(&["--local-credentials", "execution-role", "--no-local-smoke"]).unwrap_err();
    assert!(matches!(err, ConfigError::LocalCredentialsWithoutLocalRun));
    deploy_config(&["--local-credentials", "execution-role"]).unwrap();
}
