//! A fault-injecting HTTP double. In front of a real service (moto, the
//! registry) it forwards every request and answers the ones a rule matches as
//! the rule says: a chosen status and body, a dropped connection, or a delay.
//! Without an upstream it stands in for a service that cannot run here
//! (GitHub's OIDC endpoint). It remembers every request and answer.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a rule does to a request it matches.
#[derive(Clone, Debug)]
pub enum Action {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the connection without an answer.
    Reset,
    /// Wait, then forward.
    Delay(Duration),
    /// Forward with this header set to this value (a stand-in translating
    /// credentials the upstream does not know).
    SetHeader(String, String),
    /// Forward, then add this header to the answer (what the upstream
    /// cannot give: Lambda's log tail of an invocation).
    AnswerHeader(String, String),
}

#[derive(Clone, Debug)]
pub struct Rule {
    method: Option<String>,
    path_contains: String,
    body_contains: Option<String>,
    /// A header whose value contains this text: (name, text).
    header_contains: Option<(String, String)>,
    /// The first matching request (1-based) the rule acts on, and how many.
    from: usize,
    times: usize,
    matched: usize,
    action: Action,
}

impl Rule {
    /// Every request with this method whose path and query contain `path`.
    pub fn new(method: &str, path: &str) -> Self {
        Rule {
            method: Some(method.to_string()),
            path_contains: path.to_string(),
            body_contains: None,
            header_contains: None,
            from: 1,
            times: usize::MAX,
            matched: 0,
            action: Action::Delay(Duration::ZERO),
        }
    }

    /// Every request, of any method, whose path and query contain `path`.
    pub fn any(path: &str) -> Self {
        Rule {
            method: None,
            ..Rule::new("", path)
        }
    }

    pub fn body_contains(mut self, text: &str) -> Self {
        self.body_contains = Some(text.to_string());
        self
    }

    /// Only requests with header `name` containing `text` (an AWS JSON
    /// operation is named by X-Amz-Target).
    pub fn header_contains(mut self, name: &str, text: &str) -> Self {
        self.header_contains = Some((name.to_string(), text.to_string()));
        self
    }

    /// Acts on the nth matching request only.
    pub fn nth(mut self, n: usize) -> Self {
        self.from = n;
        self.times = 1;
        self
    }

    /// Acts on the first `k` matching requests.
    pub fn times(mut self, k: usize) -> Self {
        self.from = 1;
        self.times = k;
        self
    }

    pub fn respond(mut self, status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        self.action = Action::Respond {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        };
        self
    }

    /// An AWS JSON error as the services send it.
    pub fn aws_error(self, status: u16, kind: &str, message: &str) -> Self {
        let body = format!(r#"{{"__type":"{kind}","Type":"User","message":"{message}"}}"#);
        self.respond(
            status,
            &[
                ("x-amzn-ErrorType", kind),
                ("Content-Type", "application/json"),
            ],
            &body,
        )
    }

    pub fn reset(mut self) -> Self {
        self.action = Action::Reset;
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.action = Action::Delay(d);
        self
    }

    pub fn set_header(mut self, name: &str, value: &str) -> Self {
        self.action = Action::SetHeader(name.to_string(), value.to_string());
        self
    }

    pub fn answer_header(mut self, name: &str, value: &str) -> Self {
        self.action = Action::AnswerHeader(name.to_string(), value.to_string());
        self
    }
}

/// A request the double saw, and what it answered.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
    pub response_body: String,
    /// Whether a rule answered instead of the upstream.
    pub injected: bool,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    /// Starts on a free port of 127.0.0.1, forwarding to `upstream` if given.
    pub fn start(upstream: Option<&str>) -> Proxy {
        let (runtime, std_listener, addr) = super::server_on_loopback(2);
        let url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State::default()));
        let upstream = upstream.map(|u| u.trim_end_matches('/').to_string());
        let shared = state.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (state, upstream, client) = (shared.clone(), upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        handle(req, state.clone(), upstream.clone(), client.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy {
            url,
            state,
            _runtime: runtime,
        }
    }

    pub fn on(&self, rule: Rule) -> &Self {
        self.state.lock().unwrap().rules.push(rule);
        self
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The requests whose method is `method` and whose path contains `path`.
    pub fn seen_matching(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.uri.contains(path))
            .collect()
    }
}

type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

async fn handle(
    req: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
    upstream: Option<String>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
) -> Answer {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let method = parts.method.to_string();
    let text = String::from_utf8_lossy(&body).to_string();
    let action = {
        let mut state = state.lock().unwrap();
        let mut chosen = None;
        for rule in state.rules.iter_mut() {
            let hit = rule.method.as_deref().is_none_or(|m| m == method)
                && uri.contains(&rule.path_contains)
                && rule
                    .body_contains
                    .as_deref()
                    .is_none_or(|b| text.contains(b))
                && rule.header_contains.as_ref().is_none_or(|(name, want)| {
                    parts.headers.get(name.as_str()).is_some_and(|v| {
                        String::from_utf8_lossy(v.as_bytes()).contains(want.as_str())
                    })
                });
            if !hit {
                continue;
            }
            rule.matched += 1;
            let n = rule.matched;
            if chosen.is_none() && n >= rule.from && n - rule.from < rule.times {
                chosen = Some(rule.action.clone());
            }
        }
        chosen
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).to_string(),
            )
        })
        .collect();
    let record = |status: u16, response_body: String, injected: bool| Seen {
        method: method.clone(),
        uri: uri.clone(),
        headers: headers.clone(),
        body: text.clone(),
        status,
        response_body,
        injected,
    };

    match action.clone() {
        Some(Action::Reset) => {
            state
                .lock()
                .unwrap()
                .seen
                .push(record(0, String::new(), true));
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected reset",
            ));
        }
        Some(Action::Respond {
            status,
            headers,
            body: answer,
        }) => {
            state
                .lock()
                .unwrap()
                .seen
                .push(record(status, answer.clone(), true));
            let mut resp = Response::builder().status(status);
            for (k, v) in headers {
                resp = resp.header(k, v);
            }
            return Ok(resp.body(Full::new(Bytes::from(answer))).unwrap());
        }
        Some(Action::Delay(d)) => tokio::time::sleep(d).await,
        Some(Action::SetHeader(..)) | Some(Action::AnswerHeader(..)) | None => {}
    }

    let Some(upstream) = upstream else {
        state
            .lock()
            .unwrap()
            .seen
            .push(record(404, String::new(), false));
        return Ok(Response::builder()
            .status(404)
            .body(Full::new(Bytes::new()))
            .unwrap());
    };
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{upstream}{uri}"));
    // The Host header is kept, so that a registry's upload locations point
    // back through the proxy.
    let replaced = match &action {
        Some(Action::SetHeader(name, value)) => Some((name.clone(), value.clone())),
        _ => None,
    };
    for (k, v) in parts.headers.iter() {
        if replaced
            .as_ref()
            .is_some_and(|(name, _)| k.as_str().eq_ignore_ascii_case(name))
        {
            continue;
        }
        forward = forward.header(k, v);
    }
    if let Some((name, value)) = replaced {
        forward = forward.header(name, value);
    }
    let forward = forward
        .body(Full::new(body))
        .map_err(std::io::Error::other)?;
    let resp = client
        .request(forward)
        .await
        .map_err(std::io::Error::other)?;
    let (mut rparts, rbody) = resp.into_parts();
    if let Some(Action::AnswerHeader(name, value)) = &action {
        rparts.headers.insert(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            hyper::header::HeaderValue::from_str(value).unwrap(),
        );
    }
    let rbytes = rbody
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    state.lock().unwrap().seen.push(record(
        rparts.status.as_u16(),
        String::from_utf8_lossy(&rbytes).to_string(),
        false,
    ));
    Ok(Response::from_parts(rparts, Full::new(rbytes)))
}
