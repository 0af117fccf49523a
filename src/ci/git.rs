//! What the git checkout around the build context says: its commit and
//! that commit's parent, the files that differ from it, and its remote
//! without credentials. Every git call of lambda-ship is here.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// `git rev-parse HEAD` in `dir`; the error is git's first line.
pub fn head_commit(dir: &Path) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .map_err(|e| format!("git could not run: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().next().unwrap_or("git rev-parse HEAD failed");
        return Err(why.trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The first parent of `sha`, where the checkout around `dir` has it.
pub fn parent_commit(dir: &Path, sha: &str) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{sha}^"))
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The files of the checkout around `dir` that differ from its HEAD commit
/// (modified, added, deleted or untracked, not ignored by git), as absolute
/// paths. Empty outside a git checkout.
pub fn changed_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| o.stdout)
    };
    let Some(top) = git(&["rev-parse", "--show-toplevel"]) else {
        return Vec::new();
    };
    let top = std::path::PathBuf::from(String::from_utf8_lossy(&top).trim());
    let Some(status) = git(&["status", "--porcelain=v1", "-z", "--untracked-files=all"]) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    // Each record is `XY path`; a rename or copy (R or C in either column)
    // is followed by one more entry, the path it came from.
    let mut entries = status.split(|&b| b == 0).filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        if entry.len() <= 3 {
            continue;
        }
        let (code, path) = entry.split_at(3);
        files.push(top.join(std::ffi::OsStr::from_bytes(path)));
        if code[..2].iter().any(|c| *c == b'R' || *c == b'C')
            && let Some(from) = entries.next()
        {
            files.push(top.join(std::ffi::OsStr::from_bytes(from)));
        }
    }
    files
}

/// The `origin` remote of a checkout, without any credentials in it.
pub fn git_source_url(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["remote", "get-url", "origin"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| strip_credentials(String::from_utf8_lossy(&out.stdout).trim()))
        .filter(|u| !u.is_empty())
}

/// `https://user:token@host/x` → `https://host/x`: a URL's userinfo never
/// leaves. A textual rule on purpose, not the `url` crate: a URL parser ends
/// the host at `?` or `#`, so a password holding one (`user:12#tok@host`)
/// would be read as no userinfo at all and kept. Here everything up to the
/// authority's last `@` goes, whatever it holds.
pub fn strip_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}
