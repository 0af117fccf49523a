//! A Function-URL-compatible endpoint on 127.0.0.1 in front of a local
//! function: each HTTP request becomes a payload-format-2.0 event, and the
//! function's response becomes the HTTP response, as Lambda function URLs do.
//! A runtime that exited is started again on the next request (a new cold
//! start), and every request is logged with its status and duration.

use super::runtime_api::Answer;
use super::{Instance, Invocation, LocalSettings};
use crate::build::engine::Engine;
use crate::model::Platform;
use crate::progress::Progress;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// Lambda's limit on a synchronous invocation's request payload.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// One architecture's function as the endpoint serves it.
pub struct Function {
    pub engine: Engine,
    pub image: String,
    pub platform: Platform,
    pub settings: LocalSettings,
    pub progress: Progress,
    instance: Mutex<Option<Arc<Instance>>>,
}

impl Function {
    pub fn new(
        engine: Engine,
        image: String,
        platform: Platform,
        settings: LocalSettings,
        progress: Progress,
    ) -> Self {
        Function {
            engine,
            image,
            platform,
            settings,
            progress,
            instance: Mutex::new(None),
        }
    }

    /// Removes `instance` and empties the slot if it still holds it: after a
    /// timeout the runtime may still be busy with the old event, and Lambda
    /// would start the next request in a new environment.
    pub async fn discard(&self, instance: &Arc<Instance>) {
        let mut slot = self.instance.lock().await;
        if slot.as_ref().is_some_and(|i| Arc::ptr_eq(i, instance)) {
            *slot = None;
        }
        instance.remove().await;
    }

    /// The running instance, started now when there is none or when its
    /// runtime has exited.
    pub async fn instance(&self) -> Result<Arc<Instance>, String> {
        let mut slot = self.instance.lock().await;
        if let Some(current) = slot.as_ref() {
            match current.exit_code().await {
                None => return Ok(current.clone()),
                Some(code) => {
                    self.progress.stage(&format!(
                        "{}: the runtime exited with code {code}; the next request starts a new \
                         instance (a cold start)",
                        self.platform
                    ));
                    current.remove().await;
                }
            }
        }
        let started = Instance::start(&self.engine, &self.image, self.platform, &self.settings)
            .await
            .map(Arc::new)?;
        let (progress, platform) = (self.progress.clone(), self.platform);
        started.follow_output(move |line| progress.stage(&format!("{platform} | {line}")));
        *slot = Some(started.clone());
        Ok(started)
    }
}

/// Serves `function` on `port` of 127.0.0.1 (0: any free port) until the
/// task is dropped; returns the bound address at once.
pub async fn serve(
    function: Arc<Function>,
    port: u16,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let function = function.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, function.clone(), peer));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

/// What an HTTP request tells the event.
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Names as sent; repeated names repeat.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub source_ip: &'a str,
}

/// The payload format 2.0 event of an HTTP request, as a function URL sends
/// it: header names in lower case with repeated values joined by commas,
/// cookies apart, query parameters decoded, a binary body in base64.
pub fn event(req: &HttpRequest<'_>) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
            continue;
        }
        join_into(&mut headers, name, value);
    }
    let mut query = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(req.query.unwrap_or("").as_bytes()) {
        join_into(&mut query, k.into_owned(), &v);
    }
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": req.path,
        "rawQueryString": req.query.unwrap_or(""),
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": user_agent,
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": "",
            "timeEpoch": now,
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = serde_json::json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = serde_json::Value::Object(query);
    }
    if !req.body.is_empty() {
        let content_type = event["headers"]["content-type"].as_str().unwrap_or("");
        match std::str::from_utf8(req.body) {
            Ok(text) if is_text(content_type) => event["body"] = text.into(),
            _ => {
                event["body"] = base64::engine::general_purpose::STANDARD
                    .encode(req.body)
                    .into();
                event["isBase64Encoded"] = true.into();
            }
        }
    }
    event
}

/// A value added under `key`, joined to what is there with a comma.
fn join_into(map: &mut serde_json::Map<String, serde_json::Value>, key: String, value: &str) {
    let joined = match map.get(&key).and_then(|v| v.as_str()) {
        Some(old) => format!("{old},{value}"),
        None => value.to_string(),
    };
    map.insert(key, joined.into());
}

/// Bodies of these types reach the function as text; others in base64.
fn is_text(content_type: &str) -> bool {
    let t = content_type.to_ascii_lowercase();
    t.is_empty()
        || t.starts_with("text/")
        || ["json", "xml", "javascript", "x-www-form-urlencoded", "yaml"]
            .iter()
            .any(|k| t.contains(k))
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
            if let Some(cookies) = v["cookies"].as_array() {
                for c in cookies.iter().filter_map(|c| c.as_str()) {
                    if let Ok(value) = hyper::header::HeaderValue::from_str(c) {
                        resp.headers_mut().append(hyper::header::SET_COOKIE, value);
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

fn plain(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(message.to_string())));
    *r.status_mut() = status;
    r
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    function: Arc<Function>,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let resp = answer(&parts, body, &function, peer).await;
    function.progress.stage(&format!(
        "{}: {} {} → {} in {} ms",
        function.platform,
        parts.method,
        parts.uri.path(),
        resp.status().as_u16(),
        started.elapsed().as_millis()
    ));
    Ok(resp)
}

async fn answer(
    parts: &hyper::http::request::Parts,
    body: hyper::body::Incoming,
    function: &Function,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
            );
        }
    };
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
    let source_ip = peer.ip().to_string();
    let ev = event(&HttpRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body: &body,
        source_ip: &source_ip,
    });
    let instance = match function.instance().await {
        Ok(i) => i,
        Err(e) => {
            function.progress.stage(&format!(
                "{}: cannot start the function: {e}",
                function.platform
            ));
            return plain(StatusCode::BAD_GATEWAY, "Internal Server Error");
        }
    };
    match instance
        .invoke(Bytes::from(ev.to_string()), function.settings.timeout)
        .await
    {
        Invocation::Answered(Answer::Response(payload), _) => response(&payload),
        Invocation::Answered(Answer::Error { .. }, _) => {
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Invocation::Exited(code) => {
            function.progress.stage(&format!(
                "{}: the runtime exited with code {code} during the request",
                function.platform
            ));
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Invocation::TimedOut => {
            function.progress.stage(&format!(
                "{}: no answer within the timeout of {} s; the next request starts a new \
                 instance",
                function.platform,
                function.settings.timeout.as_secs()
            ));
            function.discard(&instance).await;
            plain(
                StatusCode::GATEWAY_TIMEOUT,
                "the function did not answer within its timeout",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_map_like_function_urls() {
        let r = response(
            br#"{"statusCode":201,"headers":{"x-a":"1"},"body":"made","cookies":["a=1","b=2"]}"#,
        );
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        let r = response(br#"{"ok":true}"#);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
    }

    fn request<'a>(
        query: Option<&'a str>,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> HttpRequest<'a> {
        HttpRequest {
            method: "POST",
            path: "/orders",
            query,
            headers,
            body,
            source_ip: "127.0.0.7",
        }
    }

    #[test]
    fn events_are_payload_format_2() {
        let headers = [
            ("Host".to_string(), "x".to_string()),
            ("X-Multi".to_string(), "a".to_string()),
            ("x-multi".to_string(), "b".to_string()),
            ("Cookie".to_string(), "s=1; theme=dark".to_string()),
            ("User-Agent".to_string(), "curl/8".to_string()),
        ];
        let e = event(&request(Some("a=1&a=2&b=x%20y"), &headers, b"hi"));
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["requestContext"]["http"]["method"], "POST");
        assert_eq!(e["requestContext"]["http"]["sourceIp"], "127.0.0.7");
        assert_eq!(e["requestContext"]["http"]["userAgent"], "curl/8");
        assert_eq!(e["rawQueryString"], "a=1&a=2&b=x%20y");
        assert_eq!(e["queryStringParameters"]["a"], "1,2");
        assert_eq!(e["queryStringParameters"]["b"], "x y");
        assert_eq!(e["headers"]["x-multi"], "a,b");
        assert_eq!(e["headers"]["host"], "x");
        assert!(e["headers"].get("cookie").is_none(), "cookies are apart");
        assert_eq!(e["cookies"], serde_json::json!(["s=1", "theme=dark"]));
        assert_eq!(e["body"], "hi");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn binary_bodies_are_base64_and_absent_parts_are_left_out() {
        let headers = [(
            "content-type".to_string(),
            "application/octet-stream".to_string(),
        )];
        let e = event(&request(None, &headers, &[0xff, 0x00, 0x01]));
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["body"], "/wAB");
        let e = event(&request(None, &[], b""));
        assert!(e.get("body").is_none() && e.get("cookies").is_none());
        assert!(e.get("queryStringParameters").is_none());
        assert_eq!(e["rawQueryString"], "");
    }
}
