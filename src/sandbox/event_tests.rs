//! What the local function URL makes of a request and of an answer, beyond
//! the common cases: content types, broken values, repeated parts.

use super::*;
use http_body_util::BodyExt;

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn get<'a>(
    query: Option<&'a str>,
    headers: &'a [(String, String)],
    body: &'a [u8],
) -> HttpRequest<'a> {
    HttpRequest {
        method: "GET",
        path: "/a/b",
        query,
        headers,
        body,
        source_ip: "127.0.0.1",
    }
}

async fn body_of(r: Response<Full<Bytes>>) -> Vec<u8> {
    r.into_body().collect().await.unwrap().to_bytes().to_vec()
}

#[test]
fn text_types_reach_the_function_as_text_whatever_their_case_or_charset() {
    for t in [
        "",
        "text/csv",
        "Application/JSON; charset=utf-8",
        "application/vnd.api+json",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/javascript",
        "application/yaml",
    ] {
        assert!(is_text(t), "{t}");
    }
    for t in ["image/png", "application/octet-stream", "application/pdf"] {
        assert!(!is_text(t), "{t}");
    }
    let h = headers(&[("Content-Type", "APPLICATION/JSON")]);
    let e = event(&get(None, &h, br#"{"a":1}"#));
    assert_eq!(e["body"], r#"{"a":1}"#);
    assert_eq!(e["isBase64Encoded"], false);
}

#[test]
fn a_body_that_is_not_utf8_goes_in_base64_even_under_a_text_type() {
    let h = headers(&[("content-type", "text/plain")]);
    let e = event(&get(None, &h, &[b'o', b'k', 0xff]));
    assert_eq!(e["isBase64Encoded"], true);
    assert_eq!(e["body"], "b2v/");
}

#[test]
fn cookies_from_every_cookie_header_are_kept_and_empty_ones_dropped() {
    let h = headers(&[
        ("Cookie", "a=1;; b=2;"),
        ("cookie", " c=3 "),
        ("X-Empty", ""),
    ]);
    let e = event(&get(Some("flag&empty=&x=1+2"), &h, b""));
    assert_eq!(e["cookies"], serde_json::json!(["a=1", "b=2", "c=3"]));
    assert_eq!(e["headers"]["x-empty"], "");
    assert_eq!(e["queryStringParameters"]["flag"], "");
    assert_eq!(e["queryStringParameters"]["empty"], "");
    assert_eq!(e["queryStringParameters"]["x"], "1 2", "+ is a space");
    assert_eq!(e["rawPath"], "/a/b");
    assert_eq!(e["requestContext"]["http"]["path"], "/a/b");
    assert_eq!(e["requestContext"]["http"]["userAgent"], "");
}

#[test]
fn every_event_has_its_own_request_id() {
    let e1 = event(&get(None, &[], b""));
    let e2 = event(&get(None, &[], b""));
    let id = |e: &serde_json::Value| {
        e["requestContext"]["requestId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(id(&e1), id(&e2));
    assert_eq!(id(&e1).len(), 36, "a UUID");
    assert_eq!(e1["routeKey"], "$default");
}

#[tokio::test]
async fn a_base64_body_is_decoded_into_the_response() {
    let r = response(
        br#"{"statusCode":200,"isBase64Encoded":true,"body":"aGk=","headers":{"content-type":"image/png"}}"#,
    );
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(body_of(r).await, b"hi");
}

#[tokio::test]
async fn an_answer_that_is_not_a_url_response_is_passed_through_as_json() {
    for payload in [&b"hello"[..], br#""just a string""#, b"[1,2]"] {
        let r = response(payload);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["x-amzn-requestid"], "local");
        assert_eq!(body_of(r).await, payload);
    }
}

#[test]
fn an_impossible_status_is_200_and_bad_headers_are_dropped() {
    for status in ["99999", "42", "\"201\"", "null"] {
        let payload = format!(r#"{{"statusCode":{status},"body":"x"}}"#);
        assert_eq!(response(payload.as_bytes()).status(), 200, "{status}");
    }
    let r = response(
        br#"{"statusCode":204,"headers":{"bad name":"x","ok":"y","n":1,"x-amzn-requestid":"fn-own"}}"#,
    );
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["ok"], "y");
    assert!(
        r.headers().get("n").is_none(),
        "a value that is not a string"
    );
    assert_eq!(r.headers().len(), 2, "{:?}", r.headers());
    assert_eq!(
        r.headers()["x-amzn-requestid"],
        "fn-own",
        "the function's own is kept"
    );
}
