//! The Lambda Runtime API, as the function's runtime sees it from inside its
//! sandbox (`AWS_LAMBDA_RUNTIME_API`): `invocation/next` long-polls for an
//! event, `invocation/{id}/response` and `/error` answer it, `init/error`
//! reports a failed start. The headers are Lambda's: request id, deadline,
//! function ARN, trace id. The same server answers the metadata endpoint
//! (`metadata.rs`), as the Runtime Interface Emulator's does.

use super::metadata::{self, Metadata};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, oneshot};

/// How a runtime answered one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Bytes),
    /// `invocation/{id}/error`: the error type header and the body.
    Error {
        error_type: String,
        body: Bytes,
    },
}

struct Pending {
    id: String,
    event: Bytes,
    /// The function's timeout: its deadline runs from the event's delivery.
    timeout: Duration,
    delivered: oneshot::Sender<()>,
}

/// An event queued: its request id, when the runtime took it, and its answer.
pub struct Queued {
    pub id: String,
    pub delivered: oneshot::Receiver<()>,
    pub answer: oneshot::Receiver<Answer>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    waiting: HashMap<String, oneshot::Sender<Answer>>,
    first_next: Option<Instant>,
    init_error: Option<(String, Bytes)>,
}

struct Shared {
    state: Mutex<State>,
    queued: Notify,
    function_arn: String,
    metadata: Metadata,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A Runtime API server on 127.0.0.1, for one function instance.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    pub async fn start(function_arn: String, metadata: Metadata) -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            queued: Notify::new(),
            function_arn,
            metadata,
        });
        let serving = shared.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, shared.clone()));
                    // Lambda's header names as Lambda writes them: a
                    // runtime that reads them case-sensitively works here too.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            addr,
            shared,
            server,
        })
    }

    /// Queues an event; the answer comes when the runtime gives it.
    pub fn invoke(&self, event: Bytes, timeout: Duration) -> Queued {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, answer) = oneshot::channel();
        let (delivered_tx, delivered) = oneshot::channel();
        {
            let mut state = self.shared.lock();
            state.waiting.insert(id.clone(), tx);
            state.queue.push_back(Pending {
                id: id.clone(),
                event,
                timeout,
                delivered: delivered_tx,
            });
        }
        self.shared.queued.notify_one();
        Queued {
            id,
            delivered,
            answer,
        }
    }

    /// `AWS_LAMBDA_METADATA_TOKEN`.
    pub fn metadata_token(&self) -> &str {
        self.shared.metadata.token()
    }

    /// When the runtime first asked for an event: the end of its init.
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.lock().first_next
    }

    /// What the runtime reported on `init/error`.
    pub fn init_error(&self) -> Option<(String, Bytes)> {
        self.shared.lock().init_error.clone()
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if path.starts_with(metadata::PREFIX) {
        let authorization = parts
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        return Ok(shared.metadata.answer(&parts.method, &path, authorization));
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let error_type = parts
        .headers
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled")
        .to_string();
    let accepted = r#"{"status":"OK"}"#;
    let answer = match (&parts.method, segments.as_slice()) {
        (&Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => {
            next_invocation(&shared).await
        }
        (
            &Method::POST,
            [
                "2018-06-01",
                "runtime",
                "invocation",
                id,
                kind @ ("response" | "error"),
            ],
        ) => {
            let sender = shared.lock().waiting.remove(*id);
            match sender {
                Some(tx) => {
                    let _ = tx.send(if *kind == "response" {
                        Answer::Response(body)
                    } else {
                        Answer::Error { error_type, body }
                    });
                    reply(StatusCode::ACCEPTED, accepted)
                }
                None => reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"errorType":"InvalidRequestID","errorMessage":"unknown request id"}"#,
                ),
            }
        }
        (&Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            shared.lock().init_error = Some((error_type, body));
            reply(StatusCode::ACCEPTED, accepted)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            r#"{"errorType":"NotFound","errorMessage":"not a Runtime API path"}"#,
        ),
    };
    Ok(answer)
}

/// `GET …/invocation/next`: waits for the next event, and gives it with the
/// headers Lambda gives it with.
async fn next_invocation(shared: &Shared) -> Response<Full<Bytes>> {
    let pending = loop {
        let notified = shared.queued.notified();
        {
            let mut state = shared.lock();
            state.first_next.get_or_insert_with(Instant::now);
            if let Some(p) = state.queue.pop_front() {
                break p;
            }
        }
        notified.await;
    };
    // The deadline runs from now, when the runtime has the event: its init
    // is not the handler's time, as on Lambda.
    let deadline_ms = (SystemTime::now() + pending.timeout)
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let _ = pending.delivered.send(());
    let mut resp = Response::new(Full::new(pending.event));
    let headers = resp.headers_mut();
    let pairs = [
        ("Lambda-Runtime-Aws-Request-Id", pending.id.clone()),
        ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
        (
            "Lambda-Runtime-Invoked-Function-Arn",
            shared.function_arn.clone(),
        ),
        ("Lambda-Runtime-Trace-Id", trace_header()),
        ("Content-Type", "application/json".to_string()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
    resp
}

/// An X-Ray trace header as Lambda gives each invocation, which a runtime
/// sets as `_X_AMZN_TRACE_ID`: a new root (its time and 96 random bits), a
/// parent segment, not sampled.
pub fn trace_header() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let random = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{seconds:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &parent[..16]
    )
}

#[cfg(test)]
#[path = "runtime_api_tests.rs"]
mod tests;
