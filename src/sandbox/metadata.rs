//! The Lambda metadata endpoint, served by the sandbox's Runtime API server
//! (`AWS_LAMBDA_METADATA_API` is its address, as under the Runtime Interface
//! Emulator): `GET /2026-01-15/metadata/execution-environment` with
//! `Authorization: Bearer $AWS_LAMBDA_METADATA_TOKEN` answers the execution
//! environment's metadata, `{"AvailabilityZoneID":"use1-az1"}`. Another path
//! is 404, another method 405, a missing or wrong token 401, each with the
//! emulator's status, headers and body.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};

/// Where every metadata path starts.
pub const PREFIX: &str = "/2026-01-15/metadata/";
/// The execution environment's metadata.
pub const EXECUTION_ENVIRONMENT: &str = "/2026-01-15/metadata/execution-environment";

/// One execution environment's metadata and the token that reads it.
pub struct Metadata {
    token: String,
    availability_zone_id: String,
}

impl Metadata {
    /// A new token, and the AZ ID of `region`.
    pub fn new(region: &str) -> Self {
        Metadata {
            token: uuid::Uuid::new_v4().to_string(),
            availability_zone_id: availability_zone_id(region),
        }
    }

    /// `AWS_LAMBDA_METADATA_TOKEN`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The answer to a request of a path under [`PREFIX`].
    pub fn answer(
        &self,
        method: &Method,
        path: &str,
        authorization: Option<&str>,
    ) -> Response<Full<Bytes>> {
        if path.trim_end_matches('/') != EXECUTION_ENVIRONMENT {
            return text(StatusCode::NOT_FOUND, "404 page not found\n");
        }
        if method != Method::GET {
            return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
        }
        let bearer = authorization.and_then(|a| a.strip_prefix("Bearer "));
        if bearer != Some(self.token.as_str()) {
            return text(StatusCode::UNAUTHORIZED, "Unauthorized\n");
        }
        let body = serde_json::json!({ "AvailabilityZoneID": self.availability_zone_id });
        let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
        let headers = resp.headers_mut();
        headers.insert(
            hyper::header::CACHE_CONTROL,
            hyper::header::HeaderValue::from_static("private, max-age=43200, immutable"),
        );
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        resp
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The first AZ ID of a Region, by AWS's naming of AZ IDs: the Region's
/// code shortened (`us-east-1` → `use1`, `eu-central-1` → `euc1`,
/// `ap-southeast-2` → `apse2`, `us-gov-west-1` → `usgw1`) and `-az1`. A
/// Region that does not read so gets `use1-az1`, the emulator's.
pub fn availability_zone_id(region: &str) -> String {
    short_region(region).map_or_else(|| "use1-az1".to_string(), |s| format!("{s}-az1"))
}

fn short_region(region: &str) -> Option<String> {
    let parts: Vec<&str> = region.split('-').collect();
    let (area, rest) = parts.split_first()?;
    let (number, words) = rest.split_last()?;
    if area.is_empty() || !area.chars().all(|c| c.is_ascii_lowercase()) || words.is_empty() {
        return None;
    }
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut short = area.to_string();
    for word in words {
        short.push_str(match *word {
            "gov" => "g",
            "iso" => "i",
            "isob" => "ib",
            "east" => "e",
            "west" => "w",
            "north" => "n",
            "south" => "s",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            _ => return None,
        });
    }
    short.push_str(number);
    Some(short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn az_ids_follow_the_regions_short_codes() {
        for (region, az) in [
            ("us-east-1", "use1-az1"),
            ("us-west-2", "usw2-az1"),
            ("eu-central-1", "euc1-az1"),
            ("eu-west-3", "euw3-az1"),
            ("ap-northeast-1", "apne1-az1"),
            ("ap-southeast-2", "apse2-az1"),
            ("sa-east-1", "sae1-az1"),
            ("us-gov-west-1", "usgw1-az1"),
            ("cn-northwest-1", "cnnw1-az1"),
            ("not a region", "use1-az1"),
            ("", "use1-az1"),
        ] {
            assert_eq!(availability_zone_id(region), az, "{region}");
        }
    }

    async fn read(resp: Response<Full<Bytes>>) -> (u16, String, String) {
        let status = resp.status().as_u16();
        let kind = resp.headers()[hyper::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, kind, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn only_the_token_as_a_bearer_reads_the_metadata() {
        let m = Metadata::new("eu-west-1");
        let good = format!("Bearer {}", m.token());
        let resp = m.answer(&Method::GET, EXECUTION_ENVIRONMENT, Some(&good));
        assert_eq!(
            resp.headers()[hyper::header::CACHE_CONTROL],
            "private, max-age=43200, immutable"
        );
        assert_eq!(
            read(resp).await,
            (
                200,
                "application/json".to_string(),
                r#"{"AvailabilityZoneID":"euw1-az1"}"#.to_string()
            )
        );
        let plain = m.token().to_string();
        for auth in [None, Some("Bearer nope"), Some(plain.as_str())] {
            let (status, _, body) = read(m.answer(&Method::GET, EXECUTION_ENVIRONMENT, auth)).await;
            assert_eq!((status, body.as_str()), (401, "Unauthorized\n"), "{auth:?}");
        }
        let (status, _, _) =
            read(m.answer(&Method::POST, EXECUTION_ENVIRONMENT, Some(&good))).await;
        assert_eq!(status, 405);
        let (status, _, _) = read(m.answer(&Method::GET, "/2026-01-15/metadata/x", None)).await;
        assert_eq!(status, 404);
        assert_ne!(
            Metadata::new("eu-west-1").token(),
            m.token(),
            "a token per environment"
        );
    }
}
