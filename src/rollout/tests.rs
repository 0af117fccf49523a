//! The rollout's timing on tokio's paused clock: the traffic and the gates
//! are stand-ins that record when they were called.

use super::*;
use std::sync::Mutex;
use std::time::Duration;

/// Records each move with the (paused) time it was made at.
#[derive(Default)]
struct Recorded {
    moves: Mutex<Vec<(u64, String)>>,
    fail_route_at: Option<u8>,
}

fn now_s(start: Instant) -> u64 {
    start.elapsed().as_secs()
}

struct FakeTraffic<'a> {
    start: Instant,
    log: &'a Recorded,
}

impl Traffic for FakeTraffic<'_> {
    async fn route(&self, percent: u8) -> Result<(), String> {
        if self.log.fail_route_at == Some(percent) {
            return Err("UpdateAlias failed: throttled".into());
        }
        let t = now_s(self.start);
        self.log
            .moves
            .lock()
            .unwrap()
            .push((t, format!("route {percent}")));
        Ok(())
    }
    async fn promote(&self) -> Result<(), String> {
        let t = now_s(self.start);
        self.log.moves.lock().unwrap().push((t, "promote".into()));
        Ok(())
    }
    async fn restore(&self) -> Result<(), String> {
        let t = now_s(self.start);
        self.log.moves.lock().unwrap().push((t, "restore".into()));
        Ok(())
    }
    async fn record_rollback(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Healthy until `fails_at` seconds, then failing; counts its checks.
struct FakeHealth {
    start: Instant,
    fails_at: Option<u64>,
    checks: Mutex<Vec<u64>>,
    /// Says, while healthy, that it cannot judge yet.
    unjudged: bool,
    /// From then on, never answers.
    hangs_at: Option<u64>,
}

impl Health for FakeHealth {
    async fn check(&self) -> Verdict {
        let t = now_s(self.start);
        self.checks.lock().unwrap().push(t);
        if self.hangs_at.is_some_and(|at| t >= at) {
            std::future::pending::<()>().await;
        }
        match self.fails_at {
            Some(at) if t >= at => Verdict::Failing("alarm orders-5xx in ALARM".into()),
            _ if self.unjudged => Verdict::Unjudged("error rate not judged yet".into()),
            _ => Verdict::Healthy,
        }
    }
}

fn releases() -> Vec<Release> {
    vec![Release {
        function: "orders".into(),
        alias: "live".into(),
        from: "3".into(),
        to: "4".into(),
        revision: None,
    }]
}

async fn roll(plan: &str, fails_at: Option<u64>, log: &Recorded) -> (RolloutReport, Vec<u64>) {
    let start = Instant::now();
    let traffic = FakeTraffic { start, log };
    let health = FakeHealth {
        start,
        fails_at,
        checks: Mutex::default(),
        unjudged: false,
        hangs_at: None,
    };
    let (_tx, cancel) = Cancel::by_hand();
    let mut seen = 0;
    let report = run(
        plan.parse().unwrap(),
        releases(),
        (&traffic, &health),
        &cancel,
        None,
        &mut |_| seen += 1,
    )
    .await;
    assert_eq!(seen, report.events.len(), "every event is notified");
    let checks = health.checks.into_inner().unwrap();
    (report, checks)
}

fn moves(log: &Recorded) -> Vec<(u64, String)> {
    log.moves.lock().unwrap().clone()
}

#[tokio::test(start_paused = true)]
async fn a_canary_holds_its_weight_for_its_duration_then_promotes() {
    let log = Recorded::default();
    let (report, checks) = roll("canary:20:30s", None, &log).await;
    assert_eq!(
        moves(&log),
        [(0, "route 20".to_string()), (30, "promote".to_string())]
    );
    assert_eq!(report.outcome, RolloutOutcome::Promoted);
    assert_eq!(report.summary(), "canary 20% for 30s → promoted");
    // Once before the shift, then at least every 5 s while split.
    assert_eq!(checks[0], 0);
    assert!(checks.windows(2).all(|w| w[1] - w[0] <= 5), "{checks:?}");
    assert!(checks.len() >= 7, "{checks:?}");
}

#[tokio::test(start_paused = true)]
async fn a_linear_rollout_takes_each_step_in_turn() {
    let log = Recorded::default();
    let (report, _) = roll("linear:30:10s", None, &log).await;
    let got: Vec<(u64, String)> = moves(&log);
    assert_eq!(
        got,
        [
            (0, "route 30".to_string()),
            (10, "route 60".to_string()),
            (20, "route 90".to_string()),
            (30, "promote".to_string())
        ]
    );
    assert_eq!(report.percent, 100);
}

#[tokio::test(start_paused = true)]
async fn a_failing_gate_rolls_back_within_one_check_interval() {
    let log = Recorded::default();
    let (report, _) = roll("canary:20:5m", Some(12), &log).await;
    let got = moves(&log);
    assert_eq!(got.last().unwrap().1, "restore");
    let restored_at = got.last().unwrap().0;
    assert!(
        (12..=12 + CHECK_EVERY.as_secs()).contains(&restored_at),
        "{got:?}"
    );
    assert!(!got.iter().any(|m| m.1 == "promote"));
    assert_eq!(report.outcome, RolloutOutcome::RolledBack);
    assert_eq!(
        report.summary(),
        "canary 20% for 5m → rolled back: alarm orders-5xx in ALARM at 20%"
    );
    assert_eq!(report.percent, 0);
    assert!(report.failure().unwrap().contains("orders:live are back"));
}

#[tokio::test(start_paused = true)]
async fn a_gate_failing_before_the_shift_moves_no_traffic() {
    let log = Recorded::default();
    let (report, checks) = roll("canary:20:30s", Some(0), &log).await;
    assert!(moves(&log).is_empty());
    assert_eq!(checks, [0]);
    assert_eq!(report.outcome, RolloutOutcome::NotStarted);
    assert!(report.failure().unwrap().contains("no traffic moved"));
}

#[tokio::test(start_paused = true)]
async fn a_step_that_cannot_be_made_rolls_back() {
    let log = Recorded {
        fail_route_at: Some(60),
        ..Recorded::default()
    };
    let (report, _) = roll("linear:30:10s", None, &log).await;
    assert_eq!(moves(&log).last().unwrap(), &(10, "restore".to_string()));
    assert_eq!(report.failed_percent, Some(60));
    assert!(report.reason.unwrap().contains("throttled"));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_job_leaves_no_alias_split() {
    let log = Recorded::default();
    let start = Instant::now();
    let traffic = FakeTraffic { start, log: &log };
    let health = FakeHealth {
        start,
        fails_at: None,
        checks: Mutex::default(),
        unjudged: false,
        hangs_at: None,
    };
    let (tx, cancel) = Cancel::by_hand();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(7)).await;
        let _ = tx.send(Some("SIGTERM"));
        // Keep the sender until the run is over.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let report = run(
        "canary:20:5m".parse().unwrap(),
        releases(),
        (&traffic, &health),
        &cancel,
        None,
        &mut |_| {},
    )
    .await;
    assert_eq!(moves(&log), [(0, "route 20".into()), (7, "restore".into())]);
    assert_eq!(report.outcome, RolloutOutcome::Cancelled);
    assert!(report.summary().contains("cancelled by SIGTERM at 20%"));
}

#[tokio::test(start_paused = true)]
async fn too_few_invocations_to_judge_is_said_once_and_taken_for_neither() {
    let log = Recorded::default();
    let start = Instant::now();
    let traffic = FakeTraffic { start, log: &log };
    let health = FakeHealth {
        start,
        fails_at: None,
        checks: Mutex::default(),
        unjudged: true,
        hangs_at: None,
    };
    let (_tx, cancel) = Cancel::by_hand();
    let report = run(
        "canary:10:20s".parse().unwrap(),
        releases(),
        (&traffic, &health),
        &cancel,
        None,
        &mut |_| {},
    )
    .await;
    let said: Vec<&str> = report.events.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        said.iter().filter(|w| w.contains("not judged")).count(),
        1,
        "{said:?}"
    );
    assert_eq!(report.outcome, RolloutOutcome::Promoted);
    assert!(said.last().unwrap().contains("never judged"), "{said:?}");
}

/// A rollout with its own health and cancel, for the cases above do not cover.
async fn roll_with(
    plan: &str,
    health: FakeHealth,
    log: &Recorded,
    cancel: &Cancel,
    session_ends: Option<Instant>,
) -> RolloutReport {
    let traffic = FakeTraffic {
        start: health.start,
        log,
    };
    run(
        plan.parse().unwrap(),
        releases(),
        (&traffic, &health),
        cancel,
        session_ends,
        &mut |_| {},
    )
    .await
}

fn health(start: Instant) -> FakeHealth {
    FakeHealth {
        start,
        fails_at: None,
        checks: Mutex::default(),
        unjudged: false,
        hangs_at: None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_gate_that_does_not_answer_counts_as_failing_within_its_limit() {
    let log = Recorded::default();
    let start = Instant::now();
    let (_tx, cancel) = Cancel::by_hand();
    let hanging = FakeHealth {
        hangs_at: Some(10),
        ..health(start)
    };
    let report = roll_with("canary:20:5m", hanging, &log, &cancel, None).await;
    let restored = moves(&log).last().unwrap().clone();
    assert_eq!(restored.1, "restore");
    assert!(restored.0 <= 10 + CHECK_LIMIT.as_secs(), "{restored:?}");
    assert!(report.reason.unwrap().contains("did not answer"));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_during_a_hanging_check_rolls_back_at_once() {
    let log = Recorded::default();
    let start = Instant::now();
    let (tx, cancel) = Cancel::by_hand();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(11)).await;
        let _ = tx.send(Some("SIGINT"));
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let hanging = FakeHealth {
        hangs_at: Some(10),
        ..health(start)
    };
    let report = roll_with("canary:20:5m", hanging, &log, &cancel, None).await;
    assert_eq!(
        moves(&log),
        [(0, "route 20".into()), (11, "restore".into())]
    );
    assert_eq!(report.outcome, RolloutOutcome::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_job_cancelled_before_the_first_step_moves_no_traffic() {
    let log = Recorded::default();
    let (tx, cancel) = Cancel::by_hand();
    let _ = tx.send(Some("SIGTERM"));
    let report = roll_with("canary:20:5m", health(Instant::now()), &log, &cancel, None).await;
    assert!(!moves(&log).iter().any(|m| m.1.starts_with("route")));
    assert_eq!(report.outcome, RolloutOutcome::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_rollout_ends_before_the_runs_aws_session_does() {
    let log = Recorded::default();
    let start = Instant::now();
    let (_tx, cancel) = Cancel::by_hand();
    // Room for the first step and the margin, not for the second.
    let ends = start + Duration::from_secs(10) + SESSION_MARGIN + Duration::from_secs(5);
    let report = roll_with("linear:40:10s", health(start), &log, &cancel, Some(ends)).await;
    assert_eq!(
        moves(&log),
        [(0, "route 40".into()), (10, "restore".into())]
    );
    assert!(
        report.reason.unwrap().contains("session ends"),
        "rolled back in time"
    );
}
