//! What a Lambda function URL makes of an HTTP request (a payload format 2.0
//! event) and of the function's answer (the HTTP response).

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use std::time::{SystemTime, UNIX_EPOCH};

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

#[cfg(test)]
#[path = "event_tests.rs"]
mod event_tests;
