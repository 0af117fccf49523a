//! One Markdown rendering of a run, for the pull-request comment, the merge
//! request note and the job summary alike. Everything that comes from a
//! function or a service (payloads, log tails, error text) is put in a code
//! fence it cannot close, so no HTML, Markdown, link or @mention in it is live.

pub use super::inline::{code, fence};
use crate::lambda::{FunctionReport, Outcome};
use crate::progress::human_bytes;
use crate::report::RunReport;
use std::fmt::Write as _;

/// GitHub's limit on a comment body, in characters.
pub const GITHUB_BODY_LIMIT: usize = 65_536;
/// What the body is kept under, with room for the marker and a note.
const BUDGET: usize = GITHUB_BODY_LIMIT - 1_024;

/// The hidden line a living comment is found by. The key keeps two workflows
/// that deploy different functions on one pull request in separate comments.
pub fn marker(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.,:/".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("<!-- lambda-ship:{safe} -->")
}

/// The comment for a run: the marker, then the run, within GitHub's limit.
/// Log tails are shortened first, then payloads, then error text.
pub fn render(report: &RunReport, key: &str) -> String {
    let mut limits = Limits {
        log: usize::MAX,
        payload: usize::MAX,
        error: usize::MAX,
    };
    loop {
        let body = format!("{}\n{}", marker(key), body(report, &limits));
        if body.chars().count() <= BUDGET {
            return body;
        }
        if !limits.shrink(report) {
            // Only our own text is left: cut it, and say so.
            let cut: String = body.chars().take(BUDGET).collect();
            return format!("{cut}\n\n*(cut to fit GitHub's comment limit)*");
        }
    }
}

/// The comment once a pull request's previews are cleaned up: it replaces
/// the deploy's comment (same key), so no one follows a dead preview link.
pub fn render_cleanup(report: &crate::report::CleanupReport, key: &str) -> String {
    let mut out = format!(
        "{}\n### 🧹 lambda-ship removed the previews of #{}\n\n",
        marker(key),
        report.pull_request
    );
    let _ = writeln!(out, "| Function | Preview | |\n|---|---|---|");
    for p in &report.previews {
        let state = match (&p.note, p.removed) {
            (_, true) => "removed".to_string(),
            (Some(note), false) => note.clone(),
            (None, false) => "left".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            code(&p.function),
            code(&p.preview),
            head(&state, 300)
        );
    }
    let _ = writeln!(
        out,
        "\n{} image(s) deleted, {} kept because something still runs them.",
        report.deleted.len(),
        report.kept.len()
    );
    for e in &report.errors {
        let _ = writeln!(out, "\n{}", fence(&head(e, 1000)));
    }
    out
}

/// How much of each kind of foreign text a rendering keeps (characters).
struct Limits {
    log: usize,
    payload: usize,
    error: usize,
}

impl Limits {
    /// Halves the largest text still worth shortening; false when none is left.
    fn shrink(&mut self, report: &RunReport) -> bool {
        let longest = |f: &dyn Fn(&crate::lambda::FunctionReport) -> usize| {
            report.functions.iter().map(f).max().unwrap_or(0)
        };
        let log = longest(&|f| {
            f.smoke
                .as_ref()
                .and_then(|s| s.log_tail.as_ref())
                .map_or(0, |l| l.chars().count())
        });
        let payload = longest(&|f| f.smoke.as_ref().map_or(0, |s| s.payload.chars().count()));
        let error = report
            .failure
            .as_ref()
            .map_or(0, |f| f.message.chars().count())
            .max(longest(&|f| {
                f.outcome.error().map_or(0, |e| e.chars().count())
            }));
        for (limit, len) in [
            (&mut self.log, log),
            (&mut self.payload, payload),
            (&mut self.error, error),
        ] {
            let current = (*limit).min(len);
            if current > 200 {
                *limit = current / 2;
                return true;
            }
        }
        false
    }
}

/// The last `limit` characters of `text`, marked when cut.
fn tail(text: &str, limit: usize) -> String {
    let n = text.chars().count();
    if n <= limit {
        return text.to_string();
    }
    let kept: String = text.chars().skip(n - limit).collect();
    format!("[… {} characters cut]\n{kept}", n - limit)
}

/// The first `limit` characters of `text`, marked when cut.
fn head(text: &str, limit: usize) -> String {
    let n = text.chars().count();
    if n <= limit {
        return text.to_string();
    }
    let kept: String = text.chars().take(limit).collect();
    format!("{kept}\n[… {} characters cut]", n - limit)
}

/// A function URL as a link, only when it is a plain https URL.
fn link(url: &str) -> String {
    let plain = url.starts_with("https://")
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c));
    if plain {
        format!("[{url}]({url})")
    } else {
        code(url)
    }
}

fn body(report: &RunReport, limits: &Limits) -> String {
    let mut out = heading(report, limits);
    let builds: Vec<_> = report.builds().collect();
    if !builds.is_empty() {
        images(&mut out, &builds);
    }
    if !report.functions.is_empty() {
        functions(&mut out, &report.functions);
        // How the aliases move, right under the table that names them.
        out.push_str(&super::rollout::section(report.rollout.as_ref()));
        for f in &report.functions {
            details(&mut out, f, limits);
        }
    }
    out.push_str(&super::costs::section(report));
    out
}

/// The verdict, what failed and where, and the commit.
fn heading(report: &RunReport, limits: &Limits) -> String {
    let mut out = String::new();
    let short = report
        .commit
        .as_ref()
        .map(|c| c.as_str().chars().take(7).collect::<String>())
        .unwrap_or_default();
    let rolling = super::rollout::in_progress(report.rollout.as_ref(), &short);
    match &report.failure {
        None => match rolling {
            Some(line) => {
                let _ = writeln!(out, "{line}");
            }
            None => {
                let _ = writeln!(out, "### ✅ lambda-ship deployed `{short}`\n");
            }
        },
        Some(failure) => {
            let stage = failure.stage.to_string();
            let _ = writeln!(
                out,
                "### ❌ lambda-ship failed at the {stage} stage (`{short}`)\n"
            );
            let _ = writeln!(out, "{}\n", fence(&head(&failure.message, limits.error)));
        }
    }
    if let Some(commit) = &report.commit {
        let _ = writeln!(out, "**Commit** {}\n", code(commit.as_str()));
    }
    out
}

/// A row per image: its tag, digest, size, times, local run, and whether
/// it was rebuilt.
/// A row per image and architecture; with `[images]`, each named first.
fn images(out: &mut String, builds: &[&crate::report::BuildReport]) {
    let named = builds.iter().any(|b| b.image.is_some());
    let _ = writeln!(out, "#### Images\n");
    let _ = writeln!(
        out,
        "| {}Architecture | Tag | Digest | Compressed size | Build | Push | Local run | Image |",
        if named { "Name | " } else { "" }
    );
    let _ = writeln!(
        out,
        "|{}---|---|---|---|---|---|---|---|",
        if named { "---|" } else { "" }
    );
    for (build, i) in builds
        .iter()
        .flat_map(|b| b.images.iter().map(move |i| (b, i)))
    {
        let (build_time, push_time, how) = if i.reused {
            ("–".to_string(), "–".to_string(), "reused")
        } else {
            (
                format!("{:.1} s", i.build_seconds),
                format!("{:.1} s", i.push_seconds),
                "rebuilt",
            )
        };
        let local = match &i.local_smoke {
            Some(l) if l.passed => format!(
                "✅ init {} ms, invoke {} ms",
                l.init_ms.unwrap_or(0),
                l.invoke_ms.unwrap_or(0)
            ),
            Some(_) => "❌".to_string(),
            None => "–".to_string(),
        };
        if named {
            let _ = write!(out, "| {} ", code(build.image.as_deref().unwrap_or("")));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {build_time} | {push_time} | {local} | {how} |",
            i.architecture,
            code(&i.tag),
            code(&i.digest),
            human_bytes(i.compressed_size),
        );
    }
    out.push('\n');
}

/// A row per function: its version and alias, URL and smoke test.
fn functions(out: &mut String, functions: &[FunctionReport]) {
    let _ = writeln!(out, "#### Functions\n");
    let _ = writeln!(
        out,
        "| Function | Architecture | Version / alias | URL | Smoke test |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for f in functions {
        let version = match (&f.version, &f.alias) {
            (Some(v), Some(a)) if a.moved => format!("{v} / {} ✓", code(&a.name)),
            (Some(v), Some(a)) => format!(
                "{v} / {} stays on {}",
                code(&a.name),
                a.previous_version.as_deref().unwrap_or("none")
            ),
            (Some(v), None) => v.clone(),
            _ => "$LATEST".to_string(),
        };
        let url = f.url.as_deref().map_or("none".to_string(), link);
        let smoke = match (&f.smoke, &f.outcome) {
            (Some(s), _) if s.passed => format!("✅ {} in {} ms", s.status, s.duration_ms),
            (Some(s), _) => format!("❌ {} in {} ms", s.status, s.duration_ms),
            (None, o @ Outcome::NotUpdated(_)) => o.label().to_string(),
            (None, _) => "skipped".to_string(),
        };
        let name = match &f.preview_of {
            Some(of) => format!("{} preview {}", code(of), code(&f.name)),
            None => code(&f.name),
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {version} | {url} | {smoke} |",
            f.architecture
        );
    }
    out.push('\n');
}

/// Under the table, for one function: why it was not deployed, and its
/// smoke test's payload and log tail, folded.
fn details(out: &mut String, f: &FunctionReport, limits: &Limits) {
    match &f.outcome {
        Outcome::Deployed => {}
        Outcome::Unchanged => {
            let _ = writeln!(
                out,
                "**{}**: unchanged: nothing that reaches its image changed, so it \
                 was not updated\n",
                code(&f.name)
            );
        }
        o @ (Outcome::UpdatedThenFailed(e) | Outcome::NotUpdated(e)) => {
            let _ = writeln!(out, "**{}**: {}\n", code(&f.name), o.label());
            let _ = writeln!(out, "{}\n", fence(&head(e, limits.error)));
        }
    }
    let Some(s) = &f.smoke else { return };
    let _ = writeln!(
        out,
        "<details><summary>Smoke test of {}: payload{}</summary>\n",
        code(&f.name),
        if s.log_tail.is_some() {
            " and log tail"
        } else {
            ""
        }
    );
    if let Some(kind) = &s.function_error {
        let _ = writeln!(out, "Function error: {}\n", code(kind));
    }
    let _ = writeln!(out, "{}\n", fence(&head(&s.payload, limits.payload)));
    if let Some(log) = &s.log_tail {
        let _ = writeln!(out, "{}\n", fence(&tail(log, limits.log)));
    }
    let _ = writeln!(out, "</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_cannot_be_closed_from_inside() {
        let hostile =
            "```\n</details><img src=x onerror=alert(1)> @octocat [x](https://evil)\n````";
        let block = fence(hostile);
        let opening = block.lines().next().unwrap();
        assert_eq!(opening, "`````text");
        // No line inside is a fence as long as the opening one.
        let inner: Vec<&str> = block.lines().skip(1).collect();
        let closing = inner.last().unwrap();
        assert_eq!(*closing, "`````");
        assert!(
            inner[..inner.len() - 1]
                .iter()
                .all(|l| !l.starts_with("`````"))
        );
    }

    #[test]
    fn inline_values_outside_the_safe_alphabet_are_not_rendered() {
        assert_eq!(code("orders-x86"), "`orders-x86`");
        assert_eq!(code("a`b"), "`(unprintable)`");
        assert_eq!(
            link("https://abc.lambda-url.us-east-1.on.aws/"),
            "[https://abc.lambda-url.us-east-1.on.aws/](https://abc.lambda-url.us-east-1.on.aws/)"
        );
        assert_eq!(link("javascript:alert(1)"), "`(unprintable)`");
    }

    #[test]
    fn markers_are_keyed_and_inert() {
        assert_eq!(
            marker("orders,billing"),
            "<!-- lambda-ship:orders,billing -->"
        );
        assert_eq!(marker("a --> b"), "<!-- lambda-ship:a_--__b -->");
    }
}
