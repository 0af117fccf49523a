//! What the test proxy (`proxy.rs`) does to the requests a rule matches:
//! which requests (method, path, body, header, the nth of them) and what
//! (an answer of its own, a dropped connection, a delay, a header set, a
//! request held until others have landed).

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
    /// Hold the request until `count` requests of this method whose path
    /// contains this text have been answered, then forward it.
    Hold(String, String, usize),
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub(super) method: Option<String>,
    pub(super) path_contains: String,
    pub(super) body_contains: Option<String>,
    /// A header whose value contains this text: (name, text).
    pub(super) header_contains: Option<(String, String)>,
    /// The first matching request (1-based) the rule acts on, and how many.
    pub(super) from: usize,
    pub(super) times: usize,
    pub(super) matched: usize,
    pub(super) action: Action,
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

    /// Holds the request until `count` requests `method path` have landed
    /// (another run's write, made while this one waits).
    pub fn hold_until(mut self, method: &str, path: &str, count: usize) -> Self {
        self.action = Action::Hold(method.to_string(), path.to_string(), count);
        self
    }
}
