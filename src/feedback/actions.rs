//! The run for the CI's own files: GitHub step outputs (`$GITHUB_OUTPUT`),
//! the job summary (`$GITHUB_STEP_SUMMARY`), workflow annotations, and a
//! GitLab dotenv file for later jobs.

use crate::report::RunReport;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The step outputs, in the order action.yml declares them.
pub fn outputs(report: &RunReport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for build in report.builds() {
        // With [images], each output is also named by its image.
        let named = build
            .image
            .as_deref()
            .map_or(String::new(), |n| format!("{n}-"));
        for i in &build.images {
            out.push((
                format!("image-uri-{named}{}", i.architecture),
                i.deploy_uri.clone(),
            ));
            out.push((
                format!("digest-{named}{}", i.architecture),
                i.digest.clone(),
            ));
        }
    }
    let urls: BTreeMap<&str, Option<&str>> = report
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.url.as_deref()))
        .collect();
    out.push((
        "function-urls".to_string(),
        serde_json::to_string(&urls).unwrap_or_else(|_| "{}".to_string()),
    ));
    out.push(("costs".to_string(), costs(report).to_string()));
    out.push(("smoke".to_string(), smoke_verdict(report).to_string()));
    out.push((
        "report".to_string(),
        serde_json::to_string(report).unwrap_or_else(|_| "{}".to_string()),
    ));
    out
}

/// Per function: its numbers, production's, the warnings and its image's scan.
pub fn costs(report: &RunReport) -> serde_json::Value {
    let scan = |f: &crate::lambda::FunctionReport| report.image_of(f).and_then(|i| i.scan.clone());
    report
        .functions
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                serde_json::json!({
                    "architecture": f.architecture,
                    "numbers": f.numbers,
                    "production": f.baseline,
                    "warnings": f.warnings,
                    "scan": scan(f),
                }),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// `pass` when every smoke test passed, `fail` when one failed or a function
/// was not deployed, `skipped` when none ran.
pub fn smoke_verdict(report: &RunReport) -> &'static str {
    let results: Vec<bool> = report
        .functions
        .iter()
        .filter_map(|f| f.smoke.as_ref().map(|s| s.passed))
        .collect();
    if !report.ok
        && (results.contains(&false) || results.is_empty() && !report.functions.is_empty())
    {
        "fail"
    } else if results.is_empty() {
        "skipped"
    } else if results.iter().all(|p| *p) {
        "pass"
    } else {
        "fail"
    }
}

/// Appends outputs as GitHub reads them: `name<<DELIMITER`, the value, the
/// delimiter; the delimiter is random, so no value can end it early.
pub fn write_github_outputs(path: &Path, outputs: &[(String, String)]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    for (name, value) in outputs {
        let delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
        writeln!(file, "{name}<<{delimiter}\n{value}\n{delimiter}")?;
    }
    Ok(())
}

pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    writeln!(file, "{text}")
}

/// A GitLab dotenv file: `LAMBDA_SHIP_<NAME>=value`, one line each (the
/// whole report is left out: dotenv values are single short lines).
pub fn write_dotenv(path: &Path, outputs: &[(String, String)]) -> std::io::Result<()> {
    let mut text = String::new();
    for (name, value) in outputs.iter().filter(|(n, _)| n != "report") {
        let key = format!("LAMBDA_SHIP_{}", name.to_uppercase().replace('-', "_"));
        let value = value.replace(['\n', '\r'], " ");
        text.push_str(&format!("{key}={value}\n"));
    }
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_outputs_are_delimited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        write_github_outputs(&path, &[("report".into(), "{\n\"a\": 1\n}".into())]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let head = lines.next().unwrap();
        let delimiter = head.strip_prefix("report<<").unwrap();
        assert!(delimiter.starts_with("ghadelimiter_"));
        assert_eq!(lines.collect::<Vec<_>>(), ["{", "\"a\": 1", "}", delimiter]);
    }
}
