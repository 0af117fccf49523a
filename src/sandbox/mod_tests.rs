//! The verdict of a local run, and the credentials it is given.

use super::*;

#[test]
fn an_answer_passes_whatever_the_function_logged() {
    let log = "warning: cache dir /var/cache: Read-only file system, using /tmp instead\n\
               exec format error is a phrase, not an event";
    assert_eq!(explain(None, false, log), None);
}

#[test]
fn the_output_explains_only_a_failure_that_happened() {
    let ro = "sh: can't create /var/task/x: Read-only file system";
    assert_eq!(
        explain(Some(FailureKind::InitError), false, ro),
        Some(FailureKind::WriteOutsideTmp)
    );
    assert_eq!(
        explain(Some(FailureKind::Timeout), false, "exec format error"),
        Some(FailureKind::ExecFormat)
    );
    assert_eq!(
        explain(Some(FailureKind::Timeout), true, ""),
        Some(FailureKind::OutOfMemory)
    );
    assert_eq!(
        explain(Some(FailureKind::HandlerError), false, ro),
        Some(FailureKind::WriteOutsideTmp),
        "a handler that failed writing outside /tmp"
    );
    assert_eq!(
        explain(Some(FailureKind::Timeout), false, "hello"),
        Some(FailureKind::Timeout)
    );
}

#[derive(Debug)]
struct Fresh(std::sync::atomic::AtomicUsize);

impl RenewCredentials for Fresh {
    fn renew(
        &self,
        _: Platform,
    ) -> futures_util::future::BoxFuture<'_, Result<crate::model::AssumedRole, String>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(session("renewed", 3600)) })
    }
}

fn session(id: &str, lasts_secs: u64) -> crate::model::AssumedRole {
    crate::model::AssumedRole {
        access_key_id: id.into(),
        secret_access_key: "s".to_string().into(),
        session_token: "t".to_string().into(),
        expiration: Some(std::time::SystemTime::now() + Duration::from_secs(lasts_secs)),
    }
}

#[tokio::test]
async fn a_session_that_would_end_during_the_run_is_renewed_before_it() {
    let fresh = std::sync::Arc::new(Fresh(Default::default()));
    let check = |lasts_secs| LocalCheck {
        event: "{}".into(),
        settings: [(
            Platform::Arm64,
            LocalSettings {
                credentials: Some(session("early", lasts_secs)),
                ..LocalSettings::default()
            },
        )]
        .into(),
        renew: Some(fresh.clone()),
    };
    // 3 s of timeout, 10 s of init and a minute's margin: 900 s is plenty.
    let kept = check(900).settings_now(Platform::Arm64).await.unwrap();
    assert_eq!(kept.credentials.unwrap().access_key_id, "early");
    assert_eq!(fresh.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    // A long build left it 30 s.
    let renewed = check(30).settings_now(Platform::Arm64).await.unwrap();
    assert_eq!(renewed.credentials.unwrap().access_key_id, "renewed");
    assert_eq!(fresh.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}
