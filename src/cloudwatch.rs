//! The two CloudWatch calls a rollout's gates make: `DescribeAlarms` (metric
//! and composite alarms) and `GetMetricData` (a version's errors and
//! invocations behind an alias).
//!
//! Why not `aws-sdk-cloudwatch`: from 1.100 on it speaks only the Smithy RPC
//! v2 CBOR protocol, which CloudWatch accepts but moto (our stand-in for
//! AWS) does not; pinning a release before it would freeze a second copy of
//! the smithy runtime in the binary. CloudWatch also serves the AWS JSON 1.0
//! protocol, on AWS and moto alike, so the two calls go as JSON, signed by
//! AWS's own SigV4 signer (`aws-sigv4`) with the run's credentials.

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum CloudWatchError {
    #[error("CloudWatch {operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
    #[error(
        "no AWS credentials for CloudWatch: {0}. Give the run credentials (--role-arn in CI, \
         or the standard AWS configuration)"
    )]
    Credentials(String),
}

/// The state of one named alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmState {
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
}

/// One version's sums behind an alias, over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VersionCounts {
    pub invocations: f64,
    pub errors: f64,
}

/// Where the version's metrics are: the dimensions Lambda publishes for an
/// alias's executed version.
#[derive(Debug, Clone)]
pub struct VersionMetrics {
    pub function: String,
    pub alias: String,
    pub version: String,
}

/// A CloudWatch client of the run's session.
#[derive(Clone)]
pub struct CloudWatch {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    /// The credentials last provided, kept until near their expiry: a
    /// provider of aws-config does not cache them itself.
    cached: std::sync::Arc<tokio::sync::Mutex<Option<aws_credential_types::Credentials>>>,
    /// Calls made, for the report's count.
    pub calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

const TARGET: &str = "GraniteServiceVersion20100801";

impl CloudWatch {
    pub fn new(sdk: &aws_config::SdkConfig, timeout: Duration) -> Self {
        let region = sdk
            .region()
            .map_or("us-east-1".to_string(), |r| r.as_ref().to_string());
        let endpoint = std::env::var("AWS_ENDPOINT_URL_CLOUDWATCH")
            .ok()
            .or_else(|| sdk.endpoint_url().map(str::to_string))
            .unwrap_or_else(|| format!("https://monitoring.{region}.amazonaws.com"));
        CloudWatch {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            endpoint: format!("{}/", endpoint.trim_end_matches('/')),
            region,
            credentials: sdk.credentials_provider(),
            cached: Default::default(),
            calls: Default::default(),
        }
    }

    /// The state of each named alarm; a name CloudWatch does not know is
    /// missing from the answer.
    pub async fn alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, CloudWatchError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Alarm {
            alarm_name: String,
            state_value: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            #[serde(default)]
            metric_alarms: Vec<Alarm>,
            #[serde(default)]
            composite_alarms: Vec<Alarm>,
        }
        let mut found = Vec::new();
        // At most 100 names a call.
        for chunk in names.chunks(100) {
            // Without AlarmTypes, only metric alarms come back.
            let body = serde_json::json!({
                "AlarmNames": chunk,
                "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
                "MaxRecords": 100,
            });
            let answer: Answer = self.call("DescribeAlarms", &body).await?;
            found.extend(
                answer
                    .metric_alarms
                    .into_iter()
                    .chain(answer.composite_alarms)
                    .map(|a| AlarmState {
                        name: a.alarm_name,
                        state: a.state_value,
                    }),
            );
        }
        Ok(found)
    }

    /// Each version's `Errors` and `Invocations` sums from `start` to now,
    /// in the order asked: one call for up to 250 versions (500 queries).
    pub async fn version_counts(
        &self,
        versions: &[VersionMetrics],
        start: SystemTime,
    ) -> Result<Vec<VersionCounts>, CloudWatchError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Result_ {
            id: String,
            #[serde(default)]
            values: Vec<f64>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            #[serde(default)]
            metric_data_results: Vec<Result_>,
        }
        let seconds = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        let mut counts = Vec::with_capacity(versions.len());
        for (chunk_no, chunk) in versions.chunks(250).enumerate() {
            let now = SystemTime::now();
            // Whole minutes around the window, one period for all of it: a
            // datapoint a query, however long the rollout.
            let (from, to) = (seconds(start) / 60 * 60, (seconds(now) / 60 + 1) * 60);
            let period = (to - from).max(60);
            let queries: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .flat_map(|(i, of)| {
                    [("e", "Errors"), ("i", "Invocations")].map(|(prefix, metric)| {
                        query(
                            &format!("{prefix}{}", chunk_no * 250 + i),
                            metric,
                            of,
                            period,
                        )
                    })
                })
                .collect();
            let body = serde_json::json!({
                "MetricDataQueries": queries,
                "StartTime": from,
                "EndTime": to,
            });
            let answer: Answer = self.call("GetMetricData", &body).await?;
            let sum = |id: String| -> f64 {
                answer
                    .metric_data_results
                    .iter()
                    .filter(|r| r.id == id)
                    .flat_map(|r| r.values.iter())
                    .sum()
            };
            for i in 0..chunk.len() {
                let n = chunk_no * 250 + i;
                counts.push(VersionCounts {
                    errors: sum(format!("e{n}")),
                    invocations: sum(format!("i{n}")),
                });
            }
        }
        Ok(counts)
    }

    /// When the run's credentials end, when they do.
    pub async fn session_ends(&self) -> Option<SystemTime> {
        self.credentials().await.ok()?.expiry()
    }

    /// The run's credentials, provided again only near their expiry.
    async fn credentials(&self) -> Result<aws_credential_types::Credentials, CloudWatchError> {
        let mut cached = self.cached.lock().await;
        let fresh = |c: &aws_credential_types::Credentials| {
            c.expiry()
                .is_none_or(|e| e > SystemTime::now() + Duration::from_secs(300))
        };
        if let Some(c) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| CloudWatchError::Credentials("none are configured".into()))?;
        let provided = provider
            .provide_credentials()
            .await
            .map_err(|e| CloudWatchError::Credentials(e.to_string()))?;
        *cached = Some(provided.clone());
        Ok(provided)
    }

    /// One signed JSON 1.0 call. A dropped connection, a 5xx or a 429 is
    /// tried again by `send_with_retry`; CloudWatch's own throttling (a 400
    /// `Throttling`) here, after 1 s, 2 s and 4 s.
    async fn call<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &B,
    ) -> Result<T, CloudWatchError> {
        use backon::Retryable;
        let body = serde_json::to_vec(body).map_err(|e| CloudWatchError::Call {
            operation,
            message: e.to_string(),
        })?;
        (|| self.call_once(operation, &body))
            .retry(crate::retry::tries(
                4,
                Duration::from_secs(1),
                Duration::from_secs(4),
            ))
            .when(|e: &Failed| e.throttled)
            .await
            .map_err(|e| e.error)
    }

    async fn call_once<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &[u8],
    ) -> Result<T, Failed> {
        let failed = |message: String| Failed {
            error: CloudWatchError::Call { operation, message },
            throttled: false,
        };
        let target = format!("{TARGET}.{operation}");
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target.as_str()),
        ];
        let identity = self
            .credentials()
            .await
            .map_err(|error| Failed {
                error,
                throttled: false,
            })?
            .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("monitoring")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &self.endpoint,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| failed(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| failed(e.to_string()))?
            .into_parts();
        let mut request = self.http.post(&self.endpoint).body(body.to_vec());
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = crate::http::send_with_retry(operation, 4, request)
            .await
            .map_err(failed)?;
        let status = response.status();
        let text = response.text().await.map_err(|e| failed(e.to_string()))?;
        if !status.is_success() {
            let mut f = failed(service_error(status.as_u16(), &text));
            f.throttled = status.as_u16() == 400 && text.contains("Throttling");
            return Err(f);
        }
        serde_json::from_str(&text).map_err(|e| failed(format!("an answer not understood: {e}")))
    }
}

/// A call that failed, and whether CloudWatch only throttled it.
struct Failed {
    error: CloudWatchError,
    throttled: bool,
}

/// One metric of a version behind its alias, summed over `period` seconds.
fn query(id: &str, metric: &str, of: &VersionMetrics, period: u64) -> serde_json::Value {
    serde_json::json!({
        "Id": id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "FunctionName", "Value": of.function},
                    {"Name": "Resource", "Value": format!("{}:{}", of.function, of.alias)},
                    {"Name": "ExecutedVersion", "Value": of.version},
                ],
            },
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": true,
    })
}

/// A JSON protocol error as a person reads it: its type and message.
fn service_error(status: u16, text: &str) -> String {
    #[derive(Deserialize)]
    struct Error {
        #[serde(rename = "__type", default)]
        kind: String,
        #[serde(alias = "Message", default)]
        message: String,
    }
    match serde_json::from_str::<Error>(text) {
        Ok(e) if !e.kind.is_empty() => {
            let kind = e.kind.rsplit('#').next().unwrap_or(&e.kind).to_string();
            if e.message.is_empty() {
                format!("{kind} (HTTP {status})")
            } else {
                format!("{kind}: {}", e.message)
            }
        }
        _ => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_errors_read_as_type_and_message() {
        assert_eq!(
            super::service_error(
                400,
                r#"{"__type":"com.amazonaws.cloudwatch#InvalidParameterValue","message":"bad"}"#
            ),
            "InvalidParameterValue: bad"
        );
        assert_eq!(super::service_error(403, "<html>"), "HTTP 403");
    }
}
