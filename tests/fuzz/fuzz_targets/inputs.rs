//! Everything a user, a CI or a function hands lambda-ship as text: the
//! flags' parsers, .dockerignore, the GitHub event payload, a request to the
//! local Function URL, and the fence a function's output is shown in. None may panic; a fence must hold.
#![no_main]

use lambda_ship::farm::dockerignore::DockerIgnore;
use lambda_ship::ci::pull_request_event;
use lambda_ship::config::{
    CommitSha, Endpoint, FunctionTarget, Platform, RepositoryName, parse_build_arg, parse_env,
    parse_registry,
};
use lambda_ship::config::function::{parse_command, parse_file};
use lambda_ship::lambda::arn_region_account;
use lambda_ship::feedback::markdown::fence;
use lambda_ship::sandbox::url::{HttpRequest, event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = text.parse::<Platform>();
    let _ = text.parse::<CommitSha>();
    let _ = text.parse::<RepositoryName>();
    let _ = text.parse::<Endpoint>();
    let _ = text.parse::<FunctionTarget>();
    let _ = parse_build_arg(text);
    let _ = parse_registry(text);
    let _ = parse_env(text);
    let _ = parse_file(text);
    let _ = parse_command("--image-command", text);
    let _ = arn_region_account(text);
    // An HTTP request to the local Function URL, from anyone on the host.
    let headers = [("cookie".to_string(), text.to_string()), (text.to_string(), text.to_string())];
    let _ = event(&HttpRequest {
        method: "POST",
        path: text,
        query: Some(text),
        headers: &headers,
        body: data,
        source_ip: "127.0.0.1",
    });
    let _ = pull_request_event("pull_request_target", text);
    if let Ok(ignore) = DockerIgnore::parse(text) {
        let _ = ignore.excludes("src/app/handler.sh");
        let _ = ignore.excludes(text);
    }
    // The fence is longer than any run of backticks inside it.
    let block = fence(text);
    let opening = block.lines().next().unwrap_or_default();
    let ticks = opening.chars().take_while(|c| *c == '`').count();
    let inner: Vec<&str> = block.lines().collect();
    for line in &inner[1..inner.len().saturating_sub(1)] {
        assert!(!line.trim_start().starts_with(&"`".repeat(ticks)), "a line closes the fence");
    }
});
