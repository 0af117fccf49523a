//! One way to send an HTTP request that a passing failure should not stop:
//! a dropped connection, a timeout, a 5xx or a 429 is tried again after 1 s,
//! 2 s, 4 s…, and each new try is said on stderr.

use backon::Retryable;
use std::time::Duration;

/// Why one try did not give the answer.
enum Failed {
    /// Worth another try: a 5xx or 429 (its answer kept for the last try),
    /// or a dropped connection or timeout.
    Passing(String, Option<reqwest::Response>),
    /// The request cannot be sent again.
    Once,
}

/// Sends `request` up to `attempts` times. Any answer that is not worth
/// another try comes back as it is, success or not; the last answer or the
/// last error comes back when the tries run out. A request whose body
/// cannot be sent twice is sent once.
pub async fn send_with_retry(
    what: &str,
    attempts: u32,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, String> {
    let send = || async {
        let Some(this) = request.try_clone() else {
            return Err(Failed::Once);
        };
        match this.send().await {
            Ok(resp) if worth_retrying(resp.status()) => Err(Failed::Passing(
                format!("HTTP {}", resp.status()),
                Some(resp),
            )),
            Ok(resp) => Ok(resp),
            Err(e) => Err(Failed::Passing(e.without_url().to_string(), None)),
        }
    };
    let mut attempt = 1;
    let policy = crate::retry::tries(attempts, Duration::from_secs(1), Duration::from_secs(30));
    match send
        .retry(policy)
        .when(|f| matches!(f, Failed::Passing(..)))
        .notify(|f, _| {
            attempt += 1;
            if let Failed::Passing(why, _) = f {
                crate::progress::notice(&format!(
                    "{what}: trying again after {why} (attempt {attempt} of {attempts})"
                ));
            }
        })
        .await
    {
        Ok(resp) | Err(Failed::Passing(_, Some(resp))) => Ok(resp),
        Err(Failed::Passing(why, None)) => Err(why),
        Err(Failed::Once) => request
            .send()
            .await
            .map_err(|e| e.without_url().to_string()),
    }
}

fn worth_retrying(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}
