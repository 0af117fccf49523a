//! `lambda-ship local` as a developer runs it and as CI stops it: served
//! behind a Function URL that behaves as Lambda's (payload format 2.0, 413,
//! a runtime started again after it exits, every request logged), and never
//! a sandbox container left behind, whatever signal ends the run.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A copy of the fixture whose handler is `handler`.
fn with_handler(handler: &str) -> tempfile::TempDir {
    let dir = fixture_copy();
    std::fs::write(dir.path().join("function/handler.sh"), handler).unwrap();
    dir
}

/// A running `lambda-ship local`, its stderr lines arriving on a channel.
struct Local {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Local {
    fn start(context: &std::path::Path, args: &[&str]) -> Local {
        require_testbed();
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"))
            .arg("local")
            .arg("--context")
            .arg(context)
            .args(args)
            .env_clear()
            .envs(testbed_env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Local {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line that `want` accepts; panics with all lines after 180 s.
    fn wait_for(&mut self, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                self.seen.push(line.clone());
                if want(&line) {
                    return line;
                }
            }
        }
        panic!("no such line in:\n{}", self.seen.join("\n"));
    }

    /// As `wait_for`, but a line printed already counts too.
    fn saw(&mut self, want: impl Fn(&str) -> bool) -> String {
        match self.seen.iter().find(|l| want(l)) {
            Some(line) => line.clone(),
            None => self.wait_for(want),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end; its exit code and every line it printed.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"))
    }
}

/// The sandbox containers on `socket` whose owner is process `pid`.
fn sandboxes_of(socket: &str, pid: u32) -> Vec<String> {
    let out = docker(
        socket,
        &[
            "ps",
            "-a",
            "--filter",
            "label=dev.lambda-ship.sandbox",
            "--format",
            "{{.ID}} {{.Label \"dev.lambda-ship.owner\"}}",
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|o| o.starts_with(&format!("{pid}:")))
        })
        .map(str::to_string)
        .collect()
}

/// curl: the status and body of one request.
fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "60"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap_or(0), body.to_string())
}

/// The URL a serving run printed for a platform.
fn url_of(local: &mut Local, platform: &str) -> String {
    let line = local.saw(|l| l.starts_with(platform) && l.contains("http://127.0.0.1:"));
    line.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn sigterm_and_sighup_while_serving_remove_every_sandbox() {
    for signal in ["TERM", "HUP"] {
        let mut local = Local::start(&fixture(), &[]);
        url_of(&mut local, "linux/amd64");
        url_of(&mut local, "linux/arm64");
        local.saw(|l| l.contains("serving"));
        let pid = local.pid();
        assert_eq!(sandboxes_of(ENGINE_A, pid).len(), 2, "both serve");
        local.signal(signal);
        let (code, out) = local.finish();
        assert_eq!(code, Some(0), "a signal is how serving stops:\n{out}");
        assert!(
            sandboxes_of(ENGINE_A, pid).is_empty(),
            "SIG{signal}:\n{out}"
        );
    }
}

#[test]
fn sigint_during_a_local_run_removes_its_sandbox() {
    let ctx = with_handler("handler() { sleep 60; echo late; }\n");
    let mut local = Local::start(ctx.path(), &["--once", "--platforms", "linux/amd64"]);
    let pid = local.pid();
    local.wait_for(|l| l.contains("linux/amd64: built"));
    eventually(Duration::from_secs(60), "the sandbox started", || {
        (!sandboxes_of(ENGINE_A, pid).is_empty()).then_some(())
    });
    local.signal("INT");
    let (code, out) = local.finish();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("cancelled by SIGINT"), "{out}");
    assert!(sandboxes_of(ENGINE_A, pid).is_empty(), "{out}");
}

#[test]
fn sandboxes_of_a_killed_run_are_removed_by_the_next_run_which_says_so() {
    // Engine B: no other test of this file runs sandboxes there.
    let builder = format!("--builder=linux/amd64=unix://{ENGINE_B}");
    let mut local = Local::start(&fixture(), &["--platforms", "linux/amd64", &builder]);
    local.saw(|l| l.contains("serving"));
    let pid = local.pid();
    assert_eq!(sandboxes_of(ENGINE_B, pid).len(), 1);
    local.signal("KILL");
    let _ = local.finish();
    assert_eq!(sandboxes_of(ENGINE_B, pid).len(), 1, "SIGKILL leaves it");

    let out = lambda_ship()
        .args(["local", "--once", "--platforms", "linux/amd64", &builder])
        .arg("--context")
        .arg(fixture())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("killed (pid {pid})")),
        "says what it removed: {stderr}"
    );
    assert!(sandboxes_of(ENGINE_B, pid).is_empty());
}

#[test]
fn the_url_serves_lambda_events_on_fixed_ports_and_logs_each_request() {
    let ctx = with_handler("handler() { echo \"handling for $GREETING\" >&2; echo \"$1\"; }\n");
    let port = free_port(1);
    let mut local = Local::start(
        ctx.path(),
        &[
            "--port",
            &port.to_string(),
            "--env",
            "GREETING=reviewers",
            "--event",
            r#"{"first":true}"#,
        ],
    );
    let amd64 = url_of(&mut local, "linux/amd64");
    let arm64 = url_of(&mut local, "linux/arm64");
    assert_eq!(amd64, format!("http://127.0.0.1:{port}/"));
    assert_eq!(arm64, format!("http://127.0.0.1:{}/", port + 1));
    local.saw(|l| l.contains("serving"));

    let (status, body) = curl(&[
        "-H",
        "Cookie: session=1; theme=dark",
        "-H",
        "X-Multi: a",
        "-H",
        "X-Multi: b",
        "-A",
        "curl-test",
        &format!("{amd64}orders?id=7&id=8&q=a%20b"),
    ]);
    assert_eq!(status, 200, "{body}");
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["rawPath"], "/orders");
    assert_eq!(event["rawQueryString"], "id=7&id=8&q=a%20b");
    assert_eq!(event["queryStringParameters"]["id"], "7,8");
    assert_eq!(event["queryStringParameters"]["q"], "a b");
    assert_eq!(
        event["cookies"],
        serde_json::json!(["session=1", "theme=dark"])
    );
    assert_eq!(event["headers"]["x-multi"], "a,b");
    assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(event["requestContext"]["http"]["userAgent"], "curl-test");

    // The function's own output, as it happens, and each request's line.
    local.saw(|l| l.contains("linux/amd64 | handling for reviewers"));
    local.saw(|l| l.contains("linux/amd64: GET /orders → 200 in"));

    // Lambda refuses a request over 6 MB with 413.
    let big = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(big.path(), vec![b'x'; 6 * 1024 * 1024 + 1]).unwrap();
    let (status, _) = curl(&[
        "--data-binary",
        &format!("@{}", big.path().display()),
        &amd64,
    ]);
    assert_eq!(status, 413);
    local.signal("TERM");
    let (code, out) = local.finish();
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_runtime_that_exits_is_started_again_on_the_next_request() {
    // The runtime itself exits on "crash", as a segfault would take it down.
    let ctx = with_handler("handler() { echo '{\"ok\":true}'; }\n");
    let bootstrap = ctx.path().join("bootstrap");
    let runtime = std::fs::read_to_string(&bootstrap).unwrap().replace(
        "  rm -f \"$headers\"\n",
        "  rm -f \"$headers\"\n  case \"$event\" in *crash*) exit 3 ;; esac\n",
    );
    assert!(runtime.contains("exit 3"));
    std::fs::write(&bootstrap, runtime).unwrap();
    let mut local = Local::start(ctx.path(), &["--platforms", "linux/amd64"]);
    let url = url_of(&mut local, "linux/amd64");
    local.saw(|l| l.contains("serving"));
    let started = Instant::now();
    let (status, _) = curl(&[&format!("{url}crash")]);
    assert_eq!(status, 502, "the runtime died during the request");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "answered when the runtime died, not after the timeout"
    );
    let (status, body) = curl(&[&url]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"ok":true}"#);
    local.wait_for(|l| l.contains("a cold start"));
    local.signal("TERM");
    let (code, out) = local.finish();
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn one_failing_architecture_does_not_hide_the_other() {
    // The arm64 image cannot be built; the amd64 one still runs and answers.
    let ctx = fixture_copy();
    std::fs::remove_file(ctx.path().join("busybox/arm64")).unwrap();
    let out = lambda_ship()
        .args(["local", "--once", "--output", "json", "-f"])
        .arg(ctx.path().join("Dockerfile"))
        .arg("--context")
        .arg(ctx.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let by = |p: &str| results.iter().find(|r| r["platform"] == p).unwrap().clone();
    assert_eq!(by("linux/amd64")["passed"], true, "{results:?}");
    assert_eq!(by("linux/arm64")["failure"], "build_failed", "{results:?}");
}

#[test]
fn an_event_that_is_not_json_names_the_flag_it_came_from() {
    let out = lambda_ship()
        .args(["local", "--once", "--event", "{nope"])
        .arg("--context")
        .arg(fixture())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--event is not JSON"), "{stderr}");
    assert!(!stderr.contains("--smoke-event"), "{stderr}");
}

#[test]
fn sigint_during_a_deploys_local_run_removes_its_sandbox() {
    let ctx = with_handler("handler() { sleep 60; echo late; }\n");
    let f = unique("fn-sig");
    create_function(&f, "x86_64", false);
    let child = Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"))
        .args([
            "deploy",
            "--repository",
            &unique("sig"),
            "--sha",
            &random_sha(),
        ])
        .args(["--function", &f])
        .arg("--context")
        .arg(ctx.path())
        .env_clear()
        .envs(testbed_env())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    eventually(Duration::from_secs(120), "the sandbox started", || {
        (!sandboxes_of(ENGINE_A, pid).is_empty()).then_some(())
    });
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(sandboxes_of(ENGINE_A, pid).is_empty(), "{stderr}");
}

#[test]
fn a_timed_out_or_removed_instance_is_replaced_on_the_next_request() {
    let ctx = with_handler(
        "handler() { case \"$1\" in *slow*) sleep 30 ;; esac; echo '{\"ok\":true}'; }\n",
    );
    let mut local = Local::start(
        ctx.path(),
        &["--platforms", "linux/amd64", "--timeout", "2"],
    );
    let url = url_of(&mut local, "linux/amd64");
    local.saw(|l| l.contains("serving"));
    let (status, _) = curl(&[&format!("{url}slow")]);
    assert_eq!(status, 504);
    // The old instance is still busy sleeping: the next request gets a new one.
    let (status, body) = curl(&[&url]);
    assert_eq!((status, body.as_str()), (200, r#"{"ok":true}"#));

    // A sandbox removed by hand is started again too.
    for line in sandboxes_of(ENGINE_A, local.pid()) {
        let id = line.split_whitespace().next().unwrap().to_string();
        assert!(docker(ENGINE_A, &["rm", "-f", &id]).status.success());
    }
    let (status, body) = curl(&[&url]);
    assert_eq!((status, body.as_str()), (200, r#"{"ok":true}"#));
    let pid = local.pid();
    local.signal("TERM");
    let (code, out) = local.finish();
    assert_eq!(code, Some(0), "{out}");
    assert!(sandboxes_of(ENGINE_A, pid).is_empty(), "{out}");
}
