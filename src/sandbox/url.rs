//! A Function-URL-compatible endpoint on 127.0.0.1 in front of a local
//! function: each HTTP request becomes a payload-format-2.0 event, and the
//! function's response becomes the HTTP response, as Lambda function URLs do.
//! A runtime that exited is started again on the next request (a new cold
//! start), and every request is logged with its status and duration.

pub use super::event::{HttpRequest, event, response};
use super::runtime_api::Answer;
use super::{Instance, Invocation, LocalSettings, StartError};
use crate::farm::engine::Engine;
use crate::model::Platform;
use crate::progress::Progress;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
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
    pub async fn instance(&self) -> Result<Arc<Instance>, StartError> {
        let mut slot = self.instance.lock().await;
        if let Some(current) = slot.as_ref() {
            match current.exit_code().await {
                None => return Ok(current.clone()),
                Some(code) => {
                    self.progress.say(&format!(
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
        started.follow_output(move |line| progress.say(&format!("{platform} | {line}")));
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
    function.progress.say(&format!(
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
            function.progress.say(&format!(
                "{}: cannot start the function: {e}",
                function.platform
            ));
            return plain(StatusCode::BAD_GATEWAY, "Internal Server Error");
        }
    };
    let outcome = instance
        .invoke(Bytes::from(ev.to_string()), function.settings.timeout)
        .await;
    match &outcome {
        Invocation::Answered(Answer::Response(payload), _) => {
            response(&instance.masker.mask_bytes(payload))
        }
        Invocation::Answered(Answer::Error { .. }, _) => {
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Invocation::Exited(code) => {
            function.progress.say(&format!(
                "{}: the runtime exited with code {code} during the request",
                function.platform
            ));
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Invocation::TimedOut | Invocation::InitTimedOut => {
            let what = if matches!(outcome, Invocation::InitTimedOut) {
                "no first event taken within Lambda's init limit and the timeout"
            } else {
                "no answer within the timeout"
            };
            function.progress.say(&format!(
                "{}: {what} of {} s; the next request starts a new instance",
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
