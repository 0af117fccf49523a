//! The repository's own scripts as a newcomer runs them, with the commands
//! they call stood in for (no root, no test bed, no compiler run).

use std::path::Path;
use std::process::Command;

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/usr/bin/env bash\n{body}\n")).unwrap();
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).unwrap();
}

#[test]
fn the_demo_says_it_is_building_and_lets_cargo_show_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let demo = root.join("tests/demo");
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/demo"),
        &demo,
    )
    .unwrap();
    let log = root.join("calls.log");
    script(&root.join("tests/testbed/up"), "echo '[testbed] up'");
    script(
        &root.join("bin/cargo"),
        &format!("echo \"cargo $*\" >> '{}'", log.display()),
    );
    script(&root.join("bin/sudo"), "exec \"$@\"");
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("bash")
        .arg(&demo)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let said = stdout
        .lines()
        .position(|l| l.starts_with("[demo] building lambda-ship"))
        .unwrap_or_else(|| panic!("no line before the build:\n{stdout}"));
    assert!(stdout.lines().nth(said).unwrap().contains("few minutes"));
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(
        calls[0], "cargo build --locked",
        "a build that prints its progress first"
    );
    assert!(
        calls[1].starts_with("cargo run --quiet --locked -- local"),
        "{calls:?}"
    );
}
