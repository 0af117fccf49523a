//! `lambda-ship.toml` and the configuration flags.

use super::*;

const FULL: &str = r#"
repository = "orders"
execution-role = "arn:aws:iam::123456789012:role/orders-fn"

[defaults]
memory = 512
timeout = 30
[defaults.env]
LOG_LEVEL = "info"

[functions.orders-api]
architecture = "arm64"
image-command = ["app.api"]
memory = 1024
[functions.orders-api.env]
TABLE_NAME = "orders"

[functions.orders-worker]
architecture = "x86_64"
image-command = ["app.worker"]
"#;

fn no_flags() -> Settings {
    Settings::default()
}

fn words(text: &str) -> Option<Words> {
    Some(Words::Line(text.into()))
}

fn list(words: &[&str]) -> Option<Words> {
    Some(Words::List(words.iter().map(|w| w.to_string()).collect()))
}

#[test]
fn the_file_gives_each_function_its_own_settings_over_the_defaults() {
    let file = parse_file(FULL).unwrap();
    let fns = functions(&[], &file, &no_flags()).unwrap();
    let (api, api_s) = &fns[0];
    assert_eq!(api.name, "orders-api");
    assert_eq!(api.arch, Some(crate::model::Platform::Arm64));
    assert_eq!(api_s.memory, Some(1024));
    assert_eq!(api_s.timeout, Some(30));
    assert_eq!(api_s.environment().len(), 2);
    assert_eq!(api_s.image_command, list(&["app.api"]));
    let (worker, worker_s) = &fns[1];
    assert_eq!(worker.arch, Some(crate::model::Platform::Amd64));
    assert_eq!(worker_s.memory, Some(512));
}

#[test]
fn flags_win_over_the_file_and_name_the_functions() {
    let file = parse_file(FULL).unwrap();
    let flags = Settings {
        memory: Some(2048),
        env: vec!["LOG_LEVEL=debug".into()],
        image_entrypoint: words(r#"/bin/run "two words""#),
        ..no_flags()
    };
    let fns = functions(&["orders-worker".into()], &file, &flags).unwrap();
    assert_eq!(fns.len(), 1);
    assert_eq!(fns[0].1.memory, Some(2048));
    assert_eq!(fns[0].1.environment()["LOG_LEVEL"], "debug");
    assert_eq!(fns[0].1.image_command, list(&["app.worker"]));
    assert_eq!(fns[0].1.image_entrypoint, list(&["/bin/run", "two words"]));
}

#[test]
fn a_bad_file_is_named_by_line_and_key() {
    let e = parse_file("repository = \"x\"\n[defaults]\nmemroy = 512\n").unwrap_err();
    assert!(e.starts_with("line 3:") && e.contains("memroy"), "{e}");
    let e = parse_file("repository = \n").unwrap_err();
    assert!(e.starts_with("line 1:"), "{e}");
    let e = parse_file("[functions.api]\nmemory = -1\n").unwrap_err();
    assert!(e.starts_with("line 2:"), "{e}");
}

#[test]
fn values_outside_lambdas_limits_are_refused() {
    let file = ConfigFile::default();
    let named = ["fn".to_string()];
    for flags in [
        Settings {
            memory: Some(64),
            ..no_flags()
        },
        Settings {
            memory: Some(10_241),
            ..no_flags()
        },
        Settings {
            timeout: Some(0),
            ..no_flags()
        },
        Settings {
            timeout: Some(901),
            ..no_flags()
        },
        Settings {
            ephemeral_storage: Some(511),
            ..no_flags()
        },
        Settings {
            image_command: words("  "),
            ..no_flags()
        },
        Settings {
            image_entrypoint: words("[1,2]"),
            ..no_flags()
        },
    ] {
        assert!(functions(&named, &file, &flags).is_err());
    }
    for env in ["NOEQUALS", "1KEY=x", "AWS_REGION=x", "K-EY=x"] {
        let flags = Settings {
            env: vec![env.to_string()],
            ..no_flags()
        };
        assert!(functions(&named, &file, &flags).is_err(), "{env}");
    }
    let big = vec![format!("BIG={}", "x".repeat(4_100))];
    let e = functions(
        &named,
        &file,
        &Settings {
            env: big,
            ..no_flags()
        },
    )
    .unwrap_err();
    assert!(!e.to_string().contains("xxxx"), "{e}");
    assert!(functions(&[], &file, &no_flags()).is_err(), "no function");
    let e = functions(&["bad name!".into()], &file, &no_flags()).unwrap_err();
    assert!(e.to_string().contains("bad name!"), "{e}");
}

#[test]
fn commands_are_words_or_a_json_array() {
    assert_eq!(parse_command("f", "app.handler").unwrap(), ["app.handler"]);
    assert_eq!(
        parse_command("f", r#"["/bin/sh", "-c", "echo hi"]"#).unwrap(),
        ["/bin/sh", "-c", "echo hi"]
    );
    assert!(parse_command("f", "[oops").is_err());
    assert_eq!(
        parse_command("f", r#"handler.sh "two words" 'and three more'"#).unwrap(),
        ["handler.sh", "two words", "and three more"]
    );
    let e = parse_command("--image-command", r#"handler.sh "open"#).unwrap_err();
    assert!(e.to_string().contains("as a shell would"), "{e}");
}

#[test]
fn an_env_file_has_pairs_comments_and_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fn.env");
    std::fs::write(&path, "# c\n\nAA=1\nexport BB=\"two words\"\nCC='x=y'\n").unwrap();
    let env = read_env_file(&path).unwrap();
    assert_eq!(env["AA"], "1");
    assert_eq!(env["BB"], "two words");
    assert_eq!(env["CC"], "x=y");
    std::fs::write(&path, "AA=1\nSECRET-VALUE\n").unwrap();
    let e = read_env_file(&path).unwrap_err().to_string();
    assert!(e.contains("line 2") && !e.contains("SECRET"), "{e}");
}

#[test]
fn an_env_file_is_read_as_the_dotenv_format_users_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fn.env");
    std::fs::write(
        &path,
        "GREETING=\"say \\\"hi\\\"\"\nPEM=\"line one\nline two\"\nAB=1 # note\nBASE=/srv\nDATA=${BASE}/data\n",
    )
    .unwrap();
    let env = read_env_file(&path).unwrap();
    assert_eq!(env["GREETING"], "say \"hi\"", "escapes in double quotes");
    assert_eq!(
        env["PEM"], "line one\nline two",
        "a quoted value over two lines"
    );
    assert_eq!(env["AB"], "1", "a comment after a value");
    assert_eq!(env["DATA"], "/srv/data", "an earlier line substituted");
    std::fs::write(&path, "KEPT='pa$word'\n").unwrap();
    assert_eq!(
        read_env_file(&path).unwrap()["KEPT"],
        "pa$word",
        "single quotes keep a $"
    );
    std::fs::write(&path, "AA=1\n\n# c\nbad.key=SECRET\n").unwrap();
    let e = read_env_file(&path).unwrap_err().to_string();
    assert!(e.contains("line 4") && !e.contains("SECRET"), "{e}");
}

#[test]
fn the_flags_and_the_file_fill_one_shape_under_the_same_names() {
    use clap::Parser;
    let cli = crate::cli::Cli::try_parse_from([
        "lambda-ship",
        "deploy",
        "--memory",
        "512",
        "--ephemeral-storage",
        "1024",
        "--env",
        "LOG_LEVEL=info",
        "--image-command",
        "app.handler",
        "--description",
        "orders",
    ])
    .unwrap();
    let crate::cli::Command::Deploy(args) = cli.command else {
        panic!("a deploy")
    };
    let file = parse_file(
        "[defaults]\nmemory = 512\nephemeral-storage = 1024\nimage-command = \"app.handler\"\n\
         description = \"orders\"\n[defaults.env]\nLOG_LEVEL = \"info\"\n",
    )
    .unwrap();
    assert_eq!(args.settings, file.defaults);
    let named = ["fn".to_string()];
    let from_flags = functions(&named, &ConfigFile::default(), &args.settings).unwrap();
    let from_file = functions(&named, &file, &no_flags()).unwrap();
    assert_eq!(from_flags, from_file);
    assert_eq!(from_file[0].1.image_command, list(&["app.handler"]));
}

#[test]
fn the_files_function_url_is_the_flags_own_enum() {
    let file = parse_file("function-url = \"iam\"\n").unwrap();
    assert_eq!(file.function_url, Some(crate::model::UrlAuth::Iam));
    let e = parse_file("alias = \"live\"\nfunction-url = \"both\"\n").unwrap_err();
    assert!(e.starts_with("line 2:") && e.contains("public"), "{e}");
}
