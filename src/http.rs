//! One way to send an HTTP request that a passing failure should not stop:
//! a dropped connection, a timeout, a 5xx or a 429 is tried again after 1 s,
//! 2 s, 4 s…, and each new try is said on stderr.

use std::time::Duration;

/// Sends `request` up to `attempts` times. Any answer that is not worth
/// another try comes back as it is, success or not; the last answer or the
/// last error comes back when the tries run out. A request whose body
/// cannot be sent twice is sent once.
pub async fn send_with_retry(
    what: &str,
    attempts: u32,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, String> {
    let mut attempt = 1;
    loop {
        let Some(this) = request.try_clone() else {
            return request
                .send()
                .await
                .map_err(|e| e.without_url().to_string());
        };
        let why = match this.send().await {
            Ok(resp) if !worth_retrying(resp.status()) || attempt >= attempts => return Ok(resp),
            Ok(resp) => format!("HTTP {}", resp.status()),
            Err(e) if attempt >= attempts => return Err(e.without_url().to_string()),
            Err(e) => e.without_url().to_string(),
        };
        attempt += 1;
        crate::progress::notice(&format!(
            "{what}: trying again after {why} (attempt {attempt} of {attempts})"
        ));
        tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt - 1))).await;
    }
}

fn worth_retrying(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}
