//! A run of lambda-ship that a test interferes with while it builds.

use super::*;

/// The fixture with a `RUN … sleep 6` step no cache has seen: a build that is
/// still running when a test interferes with it.
pub fn slow_context() -> tempfile::TempDir {
    let dir = fixture_copy();
    let dockerfile = std::fs::read_to_string(fixture().join("Dockerfile"))
        .unwrap()
        .replace(
            "COPY bootstrap",
            &format!("RUN echo {} && sleep 6\nCOPY bootstrap", unique("slow")),
        );
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    dir
}

/// Runs `cmd` with stderr piped, calls `at` on the first line `when` accepts,
/// and returns the exit code and all of stderr.
pub fn run_until(
    mut cmd: std::process::Command,
    when: impl Fn(&str) -> bool,
    at: impl FnOnce(u32),
) -> (Option<i32>, String) {
    require_testbed();
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut at = Some(at);
    for line in lines.by_ref() {
        let line = line.unwrap();
        let now = when(&line);
        seen.push(line);
        if now {
            if let Some(f) = at.take() {
                f(child.id());
            }
            break;
        }
    }
    seen.extend(lines.map(|l| l.unwrap()));
    (child.wait().unwrap().code(), seen.join("\n"))
}
