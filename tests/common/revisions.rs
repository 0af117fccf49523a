//! Lambda's optimistic concurrency, which moto does not keep, kept by the
//! test proxy in front of it. Every function configuration and alias the
//! proxy passes on gets a `RevisionId`, a digest of what moto says the
//! resource is now, so any change made through moto changes it. A write
//! that names a `RevisionId` (UpdateFunctionCode, UpdateFunctionConfiguration,
//! PublishVersion, UpdateAlias) is refused with Lambda's
//! PreconditionFailedException when the resource has changed since, and a
//! PublishVersion whose `CodeSha256` is not `$LATEST`'s with Lambda's
//! InvalidParameterValueException. The check and the write it guards are
//! made one at a time, as Lambda makes them.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use std::hash::{Hash, Hasher};

const FUNCTIONS: &str = "/2015-03-31/functions/";

/// A refusal as Lambda sends it: status, error type, message.
pub struct Refusal {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

/// The revision of a resource as moto describes it.
fn revision_of(resource: &Value) -> String {
    let mut resource = resource.clone();
    if let Some(map) = resource.as_object_mut() {
        map.remove("RevisionId");
    }
    let mut hasher = std::hash::DefaultHasher::new();
    resource.to_string().hash(&mut hasher);
    format!("rev-{:016x}", hasher.finish())
}

fn stamp(resource: &mut Value) {
    let revision = revision_of(resource);
    if let Some(map) = resource.as_object_mut() {
        map.insert("RevisionId".into(), Value::String(revision));
    }
}

/// An answer of Lambda's API with each function configuration and alias
/// in it given its revision.
pub fn stamped(uri: &str, body: &Bytes) -> Option<Bytes> {
    if !uri.starts_with(FUNCTIONS) || uri.contains("/invocations") {
        return None;
    }
    let mut answer: Value = serde_json::from_slice(body).ok()?;
    let is_resource = |v: &Value| v.get("CodeSha256").is_some() || v.get("AliasArn").is_some();
    if is_resource(&answer) {
        stamp(&mut answer);
    }
    if let Some(config) = answer.get_mut("Configuration").filter(|c| is_resource(c)) {
        stamp(config);
    }
    if let Some(Value::Array(aliases)) = answer.get_mut("Aliases") {
        aliases.iter_mut().for_each(stamp);
    }
    serde_json::to_vec(&answer).ok().map(Bytes::from)
}

/// The function and, for an alias, the alias a write names: from
/// `/2015-03-31/functions/NAME/(code|configuration|versions|aliases/ALIAS)`.
fn target(method: &str, uri: &str) -> Option<(String, Option<String>)> {
    let rest = uri.strip_prefix(FUNCTIONS)?.split('?').next()?;
    let mut parts = rest.split('/');
    let (name, what) = (parts.next()?.to_string(), parts.next()?);
    match (method, what, parts.next()) {
        ("PUT", "code" | "configuration", None) | ("POST", "versions", None) => Some((name, None)),
        ("PUT", "aliases", Some(alias)) => Some((name, Some(alias.to_string()))),
        _ => None,
    }
}

/// Whether Lambda would refuse this write now, read from moto.
pub async fn refusal(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    authorization: Option<&str>,
    (method, uri, body): (&str, &str, &str),
) -> Option<Refusal> {
    let (name, alias) = target(method, uri)?;
    let asked: Value = serde_json::from_str(body).ok()?;
    let path = match &alias {
        Some(alias) => format!("{FUNCTIONS}{name}/aliases/{alias}"),
        None => format!("{FUNCTIONS}{name}/configuration"),
    };
    let mut read = Request::builder().uri(format!("{upstream}{path}"));
    if let Some(auth) = authorization {
        read = read.header("authorization", auth);
    }
    let answer = client
        .request(read.body(Full::new(Bytes::new())).ok()?)
        .await
        .ok()?;
    let now: Value =
        serde_json::from_slice(&answer.into_body().collect().await.ok()?.to_bytes()).ok()?;
    // PublishVersion's CodeSha256 first: the refusal that names whose
    // code $LATEST holds.
    let code = |v: &Value| {
        v.get("CodeSha256")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if method == "POST"
        && let (Some(asked), Some(current)) = (code(&asked), code(&now))
        && asked != current
    {
        return Some(Refusal {
            status: 400,
            kind: "InvalidParameterValueException",
            message: format!(
                "CodeSHA256 ({asked}) is different from current CodeSHA256 in $LATEST \
                 ({current}). Please try again with the current CodeSHA256."
            ),
        });
    }
    if let Some(asked) = asked.get("RevisionId").and_then(Value::as_str)
        && asked != revision_of(&now)
    {
        return Some(Refusal {
            status: 412,
            kind: "PreconditionFailedException",
            message: "The Revision Id provided does not match the latest Revision Id. Call the \
                      GetFunction/GetAlias API to retrieve the latest Revision Id"
                .into(),
        });
    }
    None
}
