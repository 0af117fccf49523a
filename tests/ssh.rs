//! The farm's SSH node (tests/testbed/up: sshd on 127.0.0.1:2222, key auth,
//! engine B behind it): a build through it, and the engine lost mid-build.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const NODE: &str = "ssh://root@127.0.0.1:2222";

/// One test at a time: the lost-engine test ends every SSH session.
static NODE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The client's ssh, with the test bed's key and known hosts: what a CI job
/// gets from its ssh-agent and known_hosts step.
fn ssh_command() -> String {
    let dir = engine_b_tls()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("ssh");
    assert!(
        dir.join("client_key").is_file(),
        "the test bed's SSH node is not set up. Start it with: sudo tests/testbed/up"
    );
    format!(
        "ssh -i {} -o UserKnownHostsFile={}",
        dir.join("client_key").display(),
        dir.join("known_hosts").display()
    )
}

#[test]
fn the_ssh_node_builds_and_pushes_its_platform() {
    let _node = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let repo = unique("ssh");
    let sha = random_sha();
    let (report, log) = build_ok(
        build_fixture(&repo, &sha)
            .args(["--platforms", "linux/amd64"])
            .arg(format!("--builder=linux/amd64={NODE}"))
            .env("LAMBDA_SHIP_SSH_COMMAND", ssh_command()),
    );
    // Engine B answers through the node: API 1.45, not the local engine's 1.41.
    assert!(
        log.contains(&format!("linux/amd64 → {NODE} (API 1.45")),
        "{log}"
    );
    let img = image(&report, "x86_64");
    assert_eq!(img["engine"], NODE);
    let m = manifest(&repo, &format!("{sha}-x86_64"));
    assert_eq!(
        m["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    // A key the node does not know is refused in ssh's words, as a user error.
    let known_hosts = ssh_command().split_once(" -o ").unwrap().1.to_string();
    let err = fails_with(
        build_fixture(&repo, &random_sha())
            .args(["--platforms", "linux/amd64"])
            .arg(format!("--builder=linux/amd64={NODE}"))
            .env(
                "LAMBDA_SHIP_SSH_COMMAND",
                format!("ssh -i /nonexistent-key -o IdentitiesOnly=yes -o {known_hosts}"),
            ),
        2,
    );
    assert!(err.contains("Permission denied (publickey)"), "{err}");
    assert!(
        err.contains(&format!("cannot reach the Docker engine at {NODE}")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_ssh_node_lost_mid_build_is_built_on_once_more_then_fails_and_leaves_nothing() {
    let _node = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let repo = unique("ssh-lost");
    // Its own slow step, which no earlier run can have cached.
    let sha = random_sha();
    let ctx = fixture_copy();
    let dockerfile = ctx.path().join("Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap().replace(
        "COPY bootstrap",
        &format!("RUN echo slow-step-started {sha} && sleep 60\nCOPY bootstrap"),
    );
    std::fs::write(&dockerfile, text).unwrap();

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lambda-ship"));
    cmd.env_clear()
        .envs(testbed_env())
        .env("LAMBDA_SHIP_SSH_COMMAND", ssh_command())
        .args([
            "build",
            "--repository",
            &repo,
            "--sha",
            &sha,
            "--platforms",
            "linux/amd64",
        ])
        .arg(format!("--builder=linux/amd64={NODE}"))
        .arg("--context")
        .arg(ctx.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    require_testbed();
    let mut child = cmd.spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    let mut killed_at = None;
    // Its sessions cut twice: a lone engine that still answers builds once
    // more, and fails the second time.
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains("| slow-step-started") {
            // The node goes away: every session's dial-stdio ends.
            let out = std::process::Command::new("pkill")
                .args(["-f", "docker system dial-stdio"])
                .output()
                .unwrap();
            assert!(out.status.success(), "no dial-stdio process to stop");
            killed_at = Some(Instant::now());
        }
        lines.push(line);
    }
    let status = child.wait().unwrap();
    let log = lines.join("\n");
    let killed_at = killed_at.unwrap_or_else(|| panic!("the slow step never started:\n{log}"));
    assert!(
        killed_at.elapsed() < Duration::from_secs(30),
        "the lost engine was noticed late:\n{log}"
    );
    assert_eq!(status.code(), Some(1), "{log}");
    let again = format!(
        "linux/amd64: the connection to {NODE} broke mid-build and it still answers; building \
         once more"
    );
    assert_eq!(log.matches(&again).count(), 1, "{log}");
    assert!(
        log.contains(&format!(
            "linux/amd64: the build on {NODE} failed: the engine's answer broke off mid-build"
        )),
        "the message names the node and what happened:\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    let tags = registry_tags(&repo);
    assert!(!tags.iter().any(|t| t.starts_with(&sha)), "{tags:?}");
    // No ssh process of the run is left behind (the node's side of a
    // session takes a moment to see its client gone).
    eventually(Duration::from_secs(30), "every ssh session gone", || {
        let out = std::process::Command::new("pgrep")
            .args(["-af", "dial-stdio"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .is_empty()
            .then_some(())
    });
}
