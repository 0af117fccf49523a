//! The Runtime API server, spoken to as a runtime speaks to it.

use super::*;

const ARN: &str = "arn:aws:lambda:eu-west-1:000000000000:function:orders";

async fn start() -> RuntimeApi {
    RuntimeApi::start(ARN.to_string(), Metadata::new("eu-west-1"))
        .await
        .unwrap()
}

fn base(api: &RuntimeApi) -> String {
    format!("http://{}/2018-06-01/runtime", api.addr)
}

#[tokio::test]
async fn a_runtime_gets_the_event_with_lambdas_headers_and_answers_it() {
    let api = start().await;
    let client = reqwest::Client::new();
    let Queued {
        id,
        mut delivered,
        answer,
    } = api.invoke(Bytes::from_static(br#"{"n":1}"#), Duration::from_secs(30));
    // Init takes its time: the deadline runs from the delivery, not from here.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(delivered.try_recv().is_err(), "not delivered yet");
    let next = client
        .get(format!("{}/invocation/next", base(&api)))
        .send()
        .await
        .unwrap();
    let header = |name: &str| next.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("Lambda-Runtime-Aws-Request-Id"), id);
    assert_eq!(header("Lambda-Runtime-Invoked-Function-Arn"), ARN);
    let trace = header("Lambda-Runtime-Trace-Id");
    assert!(trace.starts_with("Root=1-"), "{trace}");
    let deadline: u128 = header("Lambda-Runtime-Deadline-Ms").parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(
        deadline > now + 29_000 && deadline <= now + 30_000,
        "the whole timeout is left at delivery: {}",
        deadline - now
    );
    assert!(delivered.try_recv().is_ok(), "the delivery is known");
    assert_eq!(next.text().await.unwrap(), r#"{"n":1}"#);
    assert!(api.first_next().is_some(), "the end of init is known");

    let posted = client
        .post(format!("{}/invocation/{id}/response", base(&api)))
        .body("done")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    match answer.await.unwrap() {
        Answer::Response(body) => assert_eq!(&body[..], b"done"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn errors_init_errors_and_unknown_ids_are_lambdas() {
    let api = start().await;
    let client = reqwest::Client::new();
    let Queued { id, answer, .. } = api.invoke(Bytes::from_static(b"{}"), Duration::from_secs(30));
    let posted = client
        .post(format!("{}/invocation/{id}/error", base(&api)))
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.KeyError")
        .body(r#"{"errorType":"KeyError","errorMessage":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    match answer.await.unwrap() {
        Answer::Error { error_type, body } => {
            assert_eq!(error_type, "Runtime.KeyError");
            assert!(String::from_utf8_lossy(&body).contains("KeyError"));
        }
        other => panic!("{other:?}"),
    }
    let unknown = client
        .post(format!("{}/invocation/not-an-id/response", base(&api)))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let init = client
        .post(format!("{}/init/error", base(&api)))
        .header(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ImportModuleError",
        )
        .body("cannot import")
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 202);
    let (kind, body) = api.init_error().unwrap();
    assert_eq!(
        (kind.as_str(), &body[..]),
        ("Runtime.ImportModuleError", &b"cannot import"[..])
    );
    let other = client
        .get(format!("http://{}/nowhere", api.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[test]
fn each_invocation_gets_its_own_xray_trace_header() {
    let (a, b) = (trace_header(), trace_header());
    assert_ne!(a, b);
    let parts: Vec<&str> = a.split(';').collect();
    assert_eq!(parts.len(), 3, "{a}");
    let root = parts[0].strip_prefix("Root=1-").unwrap();
    let (time, id) = root.split_once('-').unwrap();
    assert_eq!((time.len(), id.len()), (8, 24), "{a}");
    let parent = parts[1].strip_prefix("Parent=").unwrap();
    assert_eq!(parent.len(), 16, "{a}");
    assert!(
        [time, id, parent]
            .iter()
            .all(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
    );
    assert_eq!(parts[2], "Sampled=0");
}

#[tokio::test]
async fn the_same_server_answers_the_metadata_endpoint() {
    let api = start().await;
    let url = format!(
        "http://{}/2026-01-15/metadata/execution-environment",
        api.addr
    );
    let client = reqwest::Client::new();
    let good = client
        .get(&url)
        .header("Authorization", format!("Bearer {}", api.metadata_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(
        good.text().await.unwrap(),
        r#"{"AvailabilityZoneID":"euw1-az1"}"#
    );
    let wrong = client
        .get(&url)
        .header("Authorization", "Bearer wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}
