//! The smoke test: one synchronous invocation of the deployed code, with its
//! status, function error, payload excerpt, log tail and duration kept.

use crate::model::SmokeConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine as _;
use std::time::Instant;

/// How much of the response payload the report keeps.
pub const PAYLOAD_EXCERPT: usize = 4096;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SmokeResult {
    pub passed: bool,
    /// The version or alias invoked; None for $LATEST.
    pub qualifier: Option<String>,
    pub status: i32,
    /// `Unhandled` or `Handled` when the function failed.
    pub function_error: Option<String>,
    /// The first 4 KB of the response payload.
    pub payload: String,
    pub payload_truncated: bool,
    /// The last 4 KB of the invocation's log, decoded.
    pub log_tail: Option<String>,
    pub duration_ms: u64,
    /// Why it failed, in a sentence.
    pub reason: Option<String>,
}

pub async fn invoke(
    client: &aws_sdk_lambda::Client,
    calls: &crate::aws::CallContext,
    function: &str,
    qualifier: Option<&str>,
    smoke: &SmokeConfig,
    attempt_timeout: std::time::Duration,
) -> Result<SmokeResult, String> {
    let started = Instant::now();
    let out = client
        .invoke()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .invocation_type(InvocationType::RequestResponse)
        .log_type(LogType::Tail)
        .payload(Blob::new(smoke.event.as_bytes()))
        // An invocation may run as long as the function's own timeout.
        .customize()
        .config_override(
            aws_sdk_lambda::config::Builder::default().timeout_config(
                aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(attempt_timeout)
                    .build(),
            ),
        )
        .send()
        .await
        .map_err(|e| calls.describe(&e))?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let raw = out.payload().map(Blob::as_ref).unwrap_or_default();
    let (payload, payload_truncated) = excerpt(raw);
    let log_tail = out
        .log_result()
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let status = out.status_code();
    let function_error = out.function_error().map(str::to_string);
    let reason = if status != 200 {
        Some(format!("the invocation returned status {status}"))
    } else if let Some(kind) = &function_error {
        Some(format!(
            "the function failed ({kind}): {}",
            first_line(&payload)
        ))
    } else {
        match &smoke.expect {
            Some(text) if !String::from_utf8_lossy(raw).contains(text.as_str()) => {
                Some(format!("the response does not contain {text:?}"))
            }
            _ => None,
        }
    };
    Ok(SmokeResult {
        passed: reason.is_none(),
        qualifier: qualifier.map(str::to_string),
        status,
        function_error,
        payload,
        payload_truncated,
        log_tail,
        duration_ms,
        reason,
    })
}

/// The first `PAYLOAD_EXCERPT` bytes as text, cut on a character boundary.
fn excerpt(raw: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(raw);
    if text.len() <= PAYLOAD_EXCERPT {
        return (text.into_owned(), false);
    }
    let mut end = PAYLOAD_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(200) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_keep_4_kb_on_a_char_boundary() {
        let (short, cut) = excerpt(b"{\"ok\":true}");
        assert_eq!((short.as_str(), cut), ("{\"ok\":true}", false));
        let long = "é".repeat(3000);
        let (text, cut) = excerpt(long.as_bytes());
        assert!(cut && text.len() <= PAYLOAD_EXCERPT && text.len() >= PAYLOAD_EXCERPT - 1);
    }
}
