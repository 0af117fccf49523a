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
