//! The living comment and what a function's output can and cannot do to it,
//! in-process against the GitHub double (tests/common/forge.rs): no test bed.

mod common;

use common::forge::Forge;
use common::reports::{function, run};
use lambda_ship::feedback::{github, markdown};
use lambda_ship::report::RunReport;

/// A run as the deploy stage reports it, with a function whose output is `payload` and `log`.
fn sample_report(payload: &str, log: &str) -> RunReport {
    let mut f = function("orders-arm", "arm64");
    if let Some(smoke) = &mut f.smoke {
        smoke.payload = payload.into();
        smoke.log_tail = Some(log.into());
    }
    run(vec![f], None)
}

fn html(markdown: &str) -> String {
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    let parser = pulldown_cmark::Parser::new_ext(markdown, options);
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

#[test]
fn a_functions_output_stays_inert_in_the_comment() {
    let hostile = "````\n</details><script>alert(1)</script>\n<img src=x onerror=alert(2)>\n\
                   [click](https://evil.example) @octocat #1 **bold**\n```";
    let body = markdown::render(&sample_report(hostile, hostile), "orders-arm");
    let rendered = html(&body);
    assert!(!rendered.contains("<script"), "{rendered}");
    assert!(!rendered.contains("<img"), "{rendered}");
    assert!(
        !rendered.contains("href=\"https://evil.example\""),
        "{rendered}"
    );
    assert!(!rendered.contains("<strong>bold"), "{rendered}");
    // Both copies are there, as text inside code blocks.
    assert_eq!(
        rendered
            .matches("&lt;script&gt;alert(1)&lt;/script&gt;")
            .count(),
        2,
        "{rendered}"
    );
    // The function URL is the one live link.
    assert!(rendered.contains("href=\"https://abc123.lambda-url.us-east-1.on.aws/\""));
}

#[test]
fn a_huge_log_tail_is_shortened_to_fit_githubs_limit() {
    let log: String = (0..40_000).map(|i| format!("log line {i}\n")).collect();
    let body = markdown::render(&sample_report("{\"ok\":true}", &log), "orders-arm");
    assert!(
        body.chars().count() <= markdown::GITHUB_BODY_LIMIT,
        "{}",
        body.len()
    );
    assert!(body.starts_with(&markdown::marker("orders-arm")));
    assert!(
        body.contains("log line 39999"),
        "the end of the log is kept"
    );
    assert!(!body.contains("log line 0\n"), "the start is cut");
    assert!(body.contains("characters cut"));
    assert!(body.contains("{\"ok\":true}"), "the payload is kept whole");
    assert!(
        body.contains("| arm64 |") && body.contains("| x86_64 |"),
        "the tables stay"
    );
}

#[test]
fn comments_are_updated_in_place_and_kept_apart_by_key() {
    let forge = Forge::start();
    forge.seed("acme/widgets#12", 130);
    let pr = github::PullRequest {
        api: forge.url.clone(),
        owner: "acme".into(),
        repo: "widgets".into(),
        number: 12,
    };
    let token = secrecy::SecretString::from("ghs_test_token".to_string());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let post = |key: &str, text: &str| {
        let marker = markdown::marker(key);
        rt.block_on(github::upsert_comment(
            &pr,
            &token,
            &marker,
            &format!("{marker}\n{text}"),
        ))
        .unwrap()
    };
    assert_eq!(post("orders", "first"), github::CommentAction::Created);
    assert_eq!(post("orders", "second"), github::CommentAction::Updated);
    assert_eq!(
        post("billing", "other workflow"),
        github::CommentAction::Created
    );
    assert_eq!(post("orders", "third"), github::CommentAction::Updated);
    let ours: Vec<String> = forge
        .comments("acme/widgets#12")
        .into_iter()
        .filter(|b| b.contains("lambda-ship:"))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours[0].ends_with("third"));
    assert!(ours[1].ends_with("other workflow"));
    // The list was read across pages, with the token.
    let pages: Vec<_> = forge
        .requests()
        .into_iter()
        .filter(|(m, u, _)| m == "GET" && u.contains("page=2"))
        .collect();
    assert!(!pages.is_empty());
    assert!(
        forge
            .requests()
            .iter()
            .all(|(_, _, auth)| auth.contains("ghs_test_token"))
    );
}

#[test]
fn racing_runs_leave_one_comment_and_a_secondary_rate_limit_is_waited_out() {
    let forge = Forge::start();
    let pr = github::PullRequest {
        api: forge.url.clone(),
        owner: "acme".into(),
        repo: "widgets".into(),
        number: 77,
    };
    let token = secrecy::SecretString::from("ghs_race".to_string());
    let marker = markdown::marker("orders");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (body_a, body_b) = (format!("{marker}\nrun a"), format!("{marker}\nrun b"));
        let a = github::upsert_comment(&pr, &token, &marker, &body_a);
        let b = github::upsert_comment(&pr, &token, &marker, &body_b);
        let (a, b) = tokio::join!(a, b);
        a.unwrap();
        b.unwrap();
    });
    assert_eq!(
        forge.comments("acme/widgets#77").len(),
        1,
        "never duplicated"
    );

    // A 502 from GitHub is tried again.
    forge.fail_next(502);
    let again = rt
        .block_on(github::upsert_comment(
            &pr,
            &token,
            &marker,
            &format!("{marker}\nrun b2"),
        ))
        .unwrap();
    assert_eq!(again, github::CommentAction::Updated);

    forge.rate_limit_next_post();
    let updated = rt
        .block_on(github::upsert_comment(
            &pr,
            &token,
            &marker,
            &format!("{marker}\nrun c"),
        ))
        .unwrap();
    assert_eq!(updated, github::CommentAction::Updated);
    assert_eq!(
        forge.comments("acme/widgets#77"),
        [format!("{marker}\nrun c")]
    );
    let posts = forge
        .requests()
        .into_iter()
        .filter(|(m, _, _)| m != "GET")
        .count();
    assert!(posts >= 2, "the rate-limited post was tried again");
}
