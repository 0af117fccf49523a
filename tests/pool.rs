//! A pool of engines per platform (`--builder PLATFORM=ENDPOINT` given more
//! than once): an engine that cannot be reached is said once and the run
//! goes on with the others; a platform left with none exits 2.

mod common;

use common::*;

const DEAD: &str = "unix:///nonexistent/docker.sock";

fn build_with(builders: &[String]) -> assert_cmd::Command {
    let mut cmd = build_in(&fixture(), &unique("pool"), &random_sha());
    cmd.args(["--platforms", "linux/amd64"]);
    for b in builders {
        cmd.arg("--builder").arg(b);
    }
    cmd
}

#[test]
fn a_dead_engine_in_a_pool_is_named_once_and_the_build_goes_to_the_others() {
    let (report, stderr) = build_ok(&mut build_with(&[
        format!("linux/amd64={DEAD}"),
        format!("linux/amd64=unix://{ENGINE_A}"),
    ]));
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(&format!("{DEAD} unreachable:")))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].ends_with("; its builds go to the others"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("linux/amd64 → unix://{ENGINE_A}")),
        "{stderr}"
    );
    assert!(image(&report, "x86_64")["digest"].is_string(), "{report}");
}

#[test]
fn a_platform_whose_pool_has_no_engine_left_exits_2() {
    let stderr = fails_with(
        &mut build_with(&[
            format!("linux/amd64={DEAD}"),
            "linux/amd64=unix:///nonexistent/other.sock".to_string(),
        ]),
        2,
    );
    assert!(
        stderr.contains("cannot reach the Docker engine"),
        "{stderr}"
    );
    let twice = fails_with(
        &mut build_with(&[format!("linux/amd64={DEAD}"), format!("linux/amd64={DEAD}")]),
        2,
    );
    assert!(
        twice.contains(&format!("names {DEAD} twice for linux/amd64")),
        "{twice}"
    );
}

#[test]
fn an_engine_lost_mid_build_has_the_build_finished_on_another_of_its_pool() {
    let relay = common::relay::Relay::to_unix(ENGINE_A);
    let dir = common::process::slow_context();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"));
    cmd.args([
        "build",
        "--repository",
        &unique("pool-lost"),
        "--sha",
        &random_sha(),
    ])
    .args(["--platforms", "linux/amd64"])
    .arg(format!("--builder=linux/amd64={}", relay.endpoint))
    .arg(format!("--builder=linux/amd64=unix://{ENGINE_A}"))
    .arg("--context")
    .arg(dir.path())
    .env_clear()
    .envs(testbed_env());
    let (code, stderr) = common::process::run_until(
        cmd,
        |l| l.contains("linux/amd64") && l.contains("sleep 6"),
        |_| relay.cut(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "linux/amd64: {} was lost mid-build; building again on unix://{ENGINE_A}",
            relay.endpoint
        )),
        "{stderr}"
    );
}

#[test]
fn an_image_is_built_again_on_the_engine_that_built_it_last() {
    let dir = fixture_copy();
    let repo = unique("pool-affinity");
    let (a, b) = (format!("unix://{ENGINE_A}"), format!("unix://{ENGINE_B}"));
    let build = |pool: [&str; 2]| {
        // A change each time: the image is built, never reused.
        std::fs::write(dir.path().join("function/change.txt"), random_sha()).unwrap();
        let mut cmd = build_in(dir.path(), &repo, &random_sha());
        cmd.args(["--platforms", "linux/amd64"]);
        for endpoint in pool {
            cmd.arg(format!("--builder=linux/amd64={endpoint}"));
        }
        let (report, stderr) = build_ok(&mut cmd);
        let engine = image(&report, "x86_64")["engine"]
            .as_str()
            .unwrap_or_default();
        (engine.to_string(), stderr)
    };
    let (first, _) = build([&a, &b]);
    // Whatever the order the pool is given in, its cache is on that engine.
    let (again, stderr) = build([&b, &a]);
    assert_eq!(again, first, "{stderr}");
    let (third, stderr) = build([&a, &b]);
    assert_eq!(third, first, "{stderr}");
}

/// Two runs' builds of a slow image started at once on `engine`: the time
/// both took, and each run's log.
fn two_builds_at_once(engine: &str) -> (std::time::Duration, [String; 2]) {
    let dirs = [fixture_copy(), fixture_copy()];
    for dir in &dirs {
        // Each its own image, never one another build cached.
        std::fs::write(dir.path().join("function/change.txt"), random_sha()).unwrap();
        let dockerfile = dir.path().join("Dockerfile");
        let text = std::fs::read_to_string(&dockerfile).unwrap();
        let slow = text.replace("WORKDIR /var/task", "RUN sleep 3\nWORKDIR /var/task");
        std::fs::write(&dockerfile, slow).unwrap();
    }
    let started = std::time::Instant::now();
    let logs = std::thread::scope(|s| {
        let runs = dirs.each_ref().map(|dir| {
            s.spawn(move || {
                let mut cmd = build_in(dir.path(), &unique("turns"), &random_sha());
                cmd.env("DOCKER_HOST", format!("unix://{engine}"))
                    .args(["--platforms", "linux/amd64"]);
                build_ok(&mut cmd).1
            })
        });
        runs.map(|r| r.join().unwrap())
    });
    (started.elapsed(), logs)
}

const WAITED: &str = "waiting for another build on";

#[test]
fn builds_on_an_engine_older_than_docker_23_take_turns_across_runs() {
    // Docker 20.10's BuildKit crashes the daemon when two builds export
    // inline cache at once: the second run waits for the first's build.
    let (took, logs) = two_builds_at_once(ENGINE_A);
    assert!(
        logs.iter().any(|log| log.contains(WAITED)),
        "neither run waited for the other: {logs:#?}"
    );
    assert!(took.as_secs_f64() >= 6.0, "{took:?}: {logs:#?}");
}

#[test]
fn an_engine_of_docker_23_or_later_builds_at_once() {
    let (_, logs) = two_builds_at_once(ENGINE_B);
    for log in &logs {
        assert!(!log.contains(WAITED), "{log}");
    }
}
