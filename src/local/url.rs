//! A Function-URL-compatible endpoint on 127.0.0.1 in front of a local
//! instance: each HTTP request becomes a payload-format-2.0 event, and the
//! function's response becomes the HTTP response, as Lambda function URLs do.

use super::runtime_api::{Answer, RuntimeApi};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Serves until the task is dropped; returns the bound address at once.
pub async fn serve(
    api: Arc<RuntimeApi>,
    timeout: Duration,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let api = api.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, api.clone(), timeout));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

/// The payload format 2.0 event of an HTTP request.
pub fn event(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
) -> serde_json::Value {
    let text = std::str::from_utf8(body).ok();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query.unwrap_or(""),
        "headers": headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))).collect::<serde_json::Map<String, serde_json::Value>>(),
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": ""},
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": now,
        },
        "body": match text { Some(t) => t.to_string(), None => base64::engine::general_purpose::STANDARD.encode(body) },
        "isBase64Encoded": text.is_none(),
    })
}

/// A function's answer as the HTTP response a function URL gives.
pub fn response(payload: &[u8]) -> Response<Full<Bytes>> {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(payload).ok();
    let mut resp = match parsed {
        Some(v) if v.get("statusCode").is_some() => {
            let status = v["statusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200);
            let body = v["body"].as_str().unwrap_or("");
            let bytes = if v["isBase64Encoded"].as_bool() == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap_or_default()
            } else {
                body.as_bytes().to_vec()
            };
            let mut resp = Response::new(Full::new(Bytes::from(bytes)));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(headers) = v["headers"].as_object() {
                for (k, val) in headers {
                    if let (Ok(name), Some(Ok(value))) = (
                        hyper::header::HeaderName::from_bytes(k.as_bytes()),
                        val.as_str().map(hyper::header::HeaderValue::from_str),
                    ) {
                        resp.headers_mut().insert(name, value);
                    }
                }
            }
            resp
        }
        _ => {
            let mut resp = Response::new(Full::new(Bytes::copy_from_slice(payload)));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            resp
        }
    };
    resp.headers_mut()
        .entry("x-amzn-requestid")
        .or_insert_with(|| hyper::header::HeaderValue::from_static("local"));
    resp
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    api: Arc<RuntimeApi>,
    timeout: Duration,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let ev = event(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        &headers,
        &body,
    );
    let (_, answer) = api.invoke(Bytes::from(ev.to_string()), timeout);
    let failed = |status: StatusCode, msg: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(msg.as_bytes())));
        *r.status_mut() = status;
        r
    };
    Ok(match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(Answer::Response(payload))) => response(&payload),
        Ok(Ok(Answer::Error { .. })) => failed(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        _ => failed(
            StatusCode::GATEWAY_TIMEOUT,
            "the function did not answer in time",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_map_like_function_urls() {
        let r = response(br#"{"statusCode":201,"headers":{"x-a":"1"},"body":"made"}"#);
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-a"], "1");
        let r = response(br#"{"ok":true}"#);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
    }

    #[test]
    fn events_are_payload_format_2() {
        let e = event(
            "POST",
            "/orders",
            Some("a=1"),
            &[("host".into(), "x".into())],
            b"hi",
        );
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["requestContext"]["http"]["method"], "POST");
        assert_eq!(e["rawQueryString"], "a=1");
        assert_eq!(e["body"], "hi");
        assert_eq!(e["isBase64Encoded"], false);
    }
}
