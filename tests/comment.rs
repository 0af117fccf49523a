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

/// The living comment's upserts on one thread, GitHub's or GitLab's.
enum Service {
    GitHub(github::PullRequest),
    GitLab(lambda_ship::feedback::gitlab::MergeRequest),
}

impl Service {
    fn on(forge: &Forge, gitlab: bool) -> (Service, &'static str, &'static str) {
        if gitlab {
            let mr = lambda_ship::feedback::gitlab::MergeRequest {
                api: format!("{}/api/v4", forge.url),
                project: "42".into(),
                iid: 9,
            };
            (Service::GitLab(mr), "42!9", common::forge::GITLAB_BOT)
        } else {
            let pr = github::PullRequest {
                api: forge.url.clone(),
                owner: "acme".into(),
                repo: "widgets".into(),
                number: 88,
            };
            (
                Service::GitHub(pr),
                "acme/widgets#88",
                common::forge::GITHUB_BOT,
            )
        }
    }

    async fn upsert(&self, marker: &str, text: &str) -> github::CommentAction {
        let token = secrecy::SecretString::from("ghs_workflow_token".to_string());
        let body = format!("{marker}\n{text}");
        match self {
            Service::GitHub(pr) => github::upsert_comment(pr, &token, marker, &body).await,
            Service::GitLab(mr) => {
                lambda_ship::feedback::gitlab::upsert_note(mr, &token, marker, &body).await
            }
        }
        .unwrap()
    }
}

/// A participant's comments that carry the marker, in both orders of the
/// function names, before the first run and between two runs: never
/// updated, never deleted, never in the way of the run's own comment.
fn a_participants_marked_comments_stay_theirs(gitlab: bool, token_says_who: bool) {
    use common::forge::PARTICIPANT;
    let forge = Forge::start();
    if !token_says_who {
        forge.hide_identity();
    }
    let (service, thread, bot) = Service::on(&forge, gitlab);
    let marker = markdown::marker("orders-x86,orders-arm");
    let swapped = markdown::marker("orders-arm,orders-x86");
    forge.post_as(
        thread,
        PARTICIPANT,
        &format!("{marker}\nlooks deployed to me"),
    );
    forge.post_as(thread, PARTICIPANT, &format!("{swapped}\nme too"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let theirs = |forge: &Forge| -> Vec<String> {
        forge
            .comments_by(thread)
            .into_iter()
            .filter(|(a, _)| a == PARTICIPANT)
            .map(|(_, b)| b)
            .collect()
    };
    let ours = |forge: &Forge| -> Vec<String> {
        forge
            .comments_by(thread)
            .into_iter()
            .filter(|(a, _)| a == bot)
            .map(|(_, b)| b)
            .collect()
    };
    let before = theirs(&forge);

    let first = rt.block_on(service.upsert(&marker, "run 1"));
    assert_eq!(first, github::CommentAction::Created);
    assert_eq!(ours(&forge), [format!("{marker}\nrun 1")]);
    assert_eq!(theirs(&forge), before);

    // Another marked comment between two runs changes nothing.
    forge.post_as(
        thread,
        PARTICIPANT,
        &format!("{marker}\nposted between runs"),
    );
    let before = theirs(&forge);
    assert_eq!(
        rt.block_on(service.upsert(&marker, "run 2")),
        github::CommentAction::Updated
    );
    assert_eq!(ours(&forge), [format!("{marker}\nrun 2")]);
    assert_eq!(theirs(&forge), before);

    // Two racing runs: one comment of the bot stays, no one else's goes.
    rt.block_on(async {
        tokio::join!(
            service.upsert(&marker, "race a"),
            service.upsert(&marker, "race b")
        )
    });
    assert_eq!(ours(&forge).len(), 1, "{:?}", forge.comments_by(thread));
    assert_eq!(theirs(&forge), before);

    // Cleanup's note replaces the run's, the same way.
    assert_eq!(
        rt.block_on(service.upsert(&marker, "previews removed")),
        github::CommentAction::Updated
    );
    assert_eq!(ours(&forge), [format!("{marker}\npreviews removed")]);
    assert_eq!(theirs(&forge), before);
}

#[test]
fn a_participants_marked_comment_never_captures_the_github_comment() {
    a_participants_marked_comments_stay_theirs(false, true);
}

#[test]
fn a_participants_marked_note_never_captures_the_gitlab_note() {
    a_participants_marked_comments_stay_theirs(true, true);
}

#[test]
fn a_token_that_will_not_say_who_it_is_is_known_by_the_comment_it_creates() {
    a_participants_marked_comments_stay_theirs(false, false);
    a_participants_marked_comments_stay_theirs(true, false);
}
