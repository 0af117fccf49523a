//! GitHub Actions' workflow commands, in one place: the lines the runner
//! reads on a step's output and obeys. Plain text in, a line out.

/// Hides a value in every later line of the job's log.
pub fn mask(value: &str) -> String {
    format!("::add-mask::{value}")
}

/// Opens a folded group of log lines titled `title`.
pub fn group(title: &str) -> String {
    format!("::group::{title}")
}

/// Closes the group that is open.
pub fn endgroup() -> String {
    "::endgroup::".to_string()
}

/// Stops the runner obeying workflow commands until `resume(token)`: the
/// lines in between (a build's own output) cannot be commands.
pub fn stop_commands(token: &str) -> String {
    format!("::stop-commands::{token}")
}

/// Resumes workflow commands after `stop_commands(token)`.
pub fn resume(token: &str) -> String {
    format!("::{token}::")
}

/// An annotation (`error`, `warning`, `notice`) the job's page shows, its
/// message escaped so that it stays one command whatever it holds.
pub fn annotation(level: &str, message: &str) -> String {
    let escaped = message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    format!("::{level} title=lambda-ship::{escaped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_the_runners_syntax() {
        assert_eq!(mask("s3cret"), "::add-mask::s3cret");
        assert_eq!(
            group("linux/arm64 build log"),
            "::group::linux/arm64 build log"
        );
        assert_eq!(endgroup(), "::endgroup::");
        assert_eq!(stop_commands("t0k"), "::stop-commands::t0k");
        assert_eq!(resume("t0k"), "::t0k::");
        assert_eq!(
            annotation("error", "a\nb 100%"),
            "::error title=lambda-ship::a%0Ab 100%25"
        );
    }
}
