//! "What it costs" in the comment and the job summary: per function and
//! architecture, the image's size, the cold start, duration and memory of
//! the smoke test, each with its change against production's numbers, the
//! image's scan findings, and a warning for a change past a threshold.

use super::inline::code;
use crate::metrics::Scan;
use crate::progress::human_bytes;
use crate::report::RunReport;
use std::fmt::Write as _;

/// The section, or nothing when no function has numbers or a scan.
pub fn section(report: &RunReport) -> String {
    let scan_of =
        |f: &crate::lambda::FunctionReport| -> Option<&Scan> { report.image_of(f)?.scan.as_ref() };
    let rows: Vec<_> = report
        .functions
        .iter()
        .filter(|f| f.numbers.is_some() || scan_of(f).is_some())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("#### What it costs\n\n");
    let _ = writeln!(
        out,
        "| Function | Architecture | Image | Cold start | Duration | Max memory | Scan on push |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for f in &rows {
        let now = f.numbers.clone().unwrap_or_default();
        let before = f.baseline.clone().unwrap_or_default();
        let size = bytes(now.size_bytes, before.size_bytes);
        let memory = megabytes(now.max_memory_mb, before.max_memory_mb);
        let scan = scan_of(f).map_or("–".to_string(), summary);
        let _ = writeln!(
            out,
            "| {} | {} | {size} | {} | {} | {memory} | {scan} |",
            code(&f.name),
            f.architecture,
            millis(now.init_ms, before.init_ms),
            millis(now.duration_ms, before.duration_ms),
        );
    }
    let compared = rows
        .iter()
        .any(|f| f.baseline.as_ref().is_some_and(|b| !b.is_empty()));
    let _ = writeln!(
        out,
        "\n{}",
        if compared {
            "Changes are against production's numbers from its last deploy."
        } else {
            "No production numbers yet: the next change is compared with these."
        }
    );
    for f in &rows {
        for w in &f.warnings {
            let _ = writeln!(out, "\n> [!WARNING]\n> {}: {}", code(&f.name), w);
        }
    }
    // Each image's findings once, whichever of its functions comes first.
    let mut listed: Vec<(&str, &str)> = Vec::new();
    for f in &rows {
        let image = report
            .image_of(f)
            .filter(|i| !listed.contains(&(i.digest.as_str(), i.architecture)));
        if let Some((image, scan)) = image.and_then(|i| Some((i, i.scan.as_ref()?))) {
            listed.push((&image.digest, image.architecture));
            for finding in &scan.serious {
                let _ = writeln!(
                    out,
                    "{}- {} {} in {} ({})",
                    if finding == &scan.serious[0] {
                        "\n"
                    } else {
                        ""
                    },
                    finding.severity,
                    code(&finding.name),
                    finding
                        .package
                        .as_deref()
                        .map_or("an unnamed package".to_string(), code),
                    f.architecture
                );
            }
        }
    }
    out.push('\n');
    out
}

/// `value (+change)`; the value alone without production's; `–` without one.
fn bytes(now: Option<u64>, before: Option<u64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!(
            "{} ({}{})",
            human_bytes(a),
            if a >= b { "+" } else { "−" },
            human_bytes(a.abs_diff(b))
        ),
        (Some(a), None) => human_bytes(a),
        _ => "–".to_string(),
    }
}

fn megabytes(now: Option<u64>, before: Option<u64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!(
            "{a} MB ({}{} MB)",
            if a >= b { "+" } else { "−" },
            a.abs_diff(b)
        ),
        (Some(a), None) => format!("{a} MB"),
        _ => "–".to_string(),
    }
}

fn millis(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!(
            "{a:.0} ms ({}{:.0} ms)",
            if a >= b { "+" } else { "−" },
            (a - b).abs()
        ),
        (Some(a), None) => format!("{a:.0} ms"),
        _ => "–".to_string(),
    }
}

/// `2 critical, 1 high, 4 medium`, `none found`, or why there is no scan.
fn summary(scan: &Scan) -> String {
    if scan.status != "complete" {
        return if scan.status == "pending" {
            "scan pending".to_string()
        } else {
            // A service's words, kept inert in a table cell.
            scan.status
                .chars()
                .take(200)
                .collect::<String>()
                .replace('|', "\\|")
                .replace('<', "&lt;")
        };
    }
    let order = [
        "CRITICAL",
        "HIGH",
        "MEDIUM",
        "LOW",
        "INFORMATIONAL",
        "UNDEFINED",
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|s| {
            scan.counts
                .get(*s)
                .filter(|c| **c > 0)
                .map(|c| format!("{c} {}", s.to_lowercase()))
        })
        .collect();
    if parts.is_empty() {
        "none found".to_string()
    } else {
        parts.join(", ")
    }
}
