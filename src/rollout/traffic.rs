//! The traffic of a rollout: each release's Lambda alias, split by weight
//! (`RoutingConfig.AdditionalVersionWeights`), promoted with what it served
//! recorded in its description, or restored with no weights and the new
//! version recorded as rolled back.
//!
//! Each move is conditional on the alias's `RevisionId` as this run last
//! left it: an alias another deploy moved during the rollout is never
//! touched again by it, neither moved on nor put back.
//!
//! Every alias of the run moves in the same step, but the calls are paced:
//! Lambda allows an account 15 control-plane calls a second (UpdateAlias,
//! GetAlias, TagResource…), shared with everything else that calls it, so a
//! step of 50 functions sent at once would be throttled, and a rollback cut
//! short by throttling would leave aliases split. [`CALLS_PER_SECOND`] keeps
//! a rollout under that quota; a rollback moves every alias first, and only
//! then records the rolled-back versions.

use super::{Release, Traffic};
use crate::lambda::{Lambda, StepError};
use futures_util::future::join_all;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// At most this many Lambda control-plane calls a second.
pub const CALLS_PER_SECOND: u32 = 10;

pub struct AliasTraffic<'a> {
    pub lambda: &'a Lambda,
    pub releases: &'a [Release],
    /// Lambda calls made, for the report.
    pub calls: AtomicU64,
    pacer: Pacer,
    /// Each release's alias as this run last left it: its revision, or
    /// None once another deploy moved it (it is not this run's any more).
    revisions: std::sync::Mutex<Vec<Option<Option<String>>>>,
}

/// What a rollout says of an alias another deploy moved under it.
const MOVED_UNDER: &str = "another deploy moved the alias during this rollout: left as it is";

/// Spaces calls evenly, `per_second` at most, whoever makes them.
pub struct Pacer {
    next: Mutex<Instant>,
    gap: Duration,
}

impl Pacer {
    pub fn new(per_second: u32) -> Self {
        Pacer {
            next: Mutex::new(Instant::now()),
            gap: Duration::from_secs(1) / per_second.max(1),
        }
    }

    /// Waits for the next free slot.
    pub async fn turn(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.gap;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

impl<'a> AliasTraffic<'a> {
    pub fn new(lambda: &'a Lambda, releases: &'a [Release]) -> Self {
        AliasTraffic {
            lambda,
            releases,
            calls: AtomicU64::new(0),
            pacer: Pacer::new(CALLS_PER_SECOND),
            revisions: std::sync::Mutex::new(
                releases.iter().map(|r| Some(r.revision.clone())).collect(),
            ),
        }
    }

    /// The revision release `i`'s alias is at, or an error when another
    /// deploy took it over.
    fn revision(&self, i: usize) -> Result<Option<String>, String> {
        let revisions = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        revisions
            .get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| MOVED_UNDER.to_string())
    }

    /// Keeps what a move of release `i`'s alias left: its new revision. A
    /// move refused because the alias changed stands only if the alias is
    /// not as the move would have left it (on `version`, with `weights`; as
    /// it is, the move landed on an attempt the SDK sent again): then the
    /// alias is another deploy's, and lost to this rollout.
    async fn moved(
        &self,
        (i, r): (usize, &Release),
        moved: Result<Option<String>, StepError>,
        (version, weights): (&str, &[(String, f64)]),
    ) -> Result<(), String> {
        let revision = match moved {
            Ok(revision) => Some(revision),
            Err(StepError::Precondition { .. }) => {
                self.turn().await;
                (self.lambda)
                    .landed(&r.function, &r.alias, version, weights)
                    .await
            }
            Err(e) => return Err(e.to_string()),
        };
        let mut revisions = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = revisions.get_mut(i) {
            *slot = revision.clone();
        }
        revision.map(|_| ()).ok_or_else(|| MOVED_UNDER.to_string())
    }

    /// Waits for this call's turn, and counts it.
    async fn turn(&self) {
        self.pacer.turn().await;
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

/// The failures of the aliases that did not move, or Ok when all did.
fn all(results: Vec<Result<(), String>>, releases: &[Release]) -> Result<(), String> {
    let failed: Vec<String> = results
        .into_iter()
        .zip(releases)
        .filter_map(|(r, rel)| r.err().map(|e| format!("{}: {e}", rel.function)))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

impl Traffic for AliasTraffic<'_> {
    async fn route(&self, percent: u8) -> Result<(), String> {
        let moves = self.releases.iter().enumerate().map(|(i, r)| async move {
            let revision = self.revision(i)?;
            self.turn().await;
            let moved = (self.lambda)
                .route(
                    &r.function,
                    &r.alias,
                    (&r.from, &r.to),
                    percent,
                    revision.as_deref(),
                )
                .await;
            let split = [(r.to.clone(), f64::from(percent) / 100.0)];
            self.moved((i, r), moved, (&r.from, &split)).await
        });
        all(join_all(moves).await, self.releases)
    }

    async fn promote(&self) -> Result<(), String> {
        let moves = self.releases.iter().enumerate().map(|(i, r)| async move {
            let revision = self.revision(i)?;
            self.turn().await;
            let served = self
                .lambda
                .alias_state(&r.function, &r.alias)
                .await
                .map_err(|e| e.to_string())?
                .map(|a| a.served())
                .unwrap_or_default()
                .moved_from(&r.from);
            self.turn().await;
            let moved = (self.lambda)
                .settle(
                    &r.function,
                    &r.alias,
                    &r.to,
                    Some(&served),
                    revision.as_deref(),
                )
                .await;
            self.moved((i, r), moved, (&r.to, &[])).await
        });
        all(join_all(moves).await, self.releases)
    }

    async fn restore(&self) -> Result<(), String> {
        let moves = self.releases.iter().enumerate().map(|(i, r)| async move {
            // An alias another deploy moved is theirs now: not put back.
            let Ok(revision) = self.revision(i) else {
                return Ok(());
            };
            self.turn().await;
            let moved = (self.lambda)
                .settle(&r.function, &r.alias, &r.from, None, revision.as_deref())
                .await;
            self.moved((i, r), moved, (&r.from, &[])).await
        });
        all(join_all(moves).await, self.releases)
    }

    async fn record_rollback(&self) -> Vec<String> {
        let records = self.releases.iter().map(|r| async move {
            // GetFunction (not paced: it has a quota of its own), then
            // GetFunctionConfiguration and TagResource.
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.turn().await;
            self.turn().await;
            self.lambda
                .mark_rolled_back(&r.function, &r.to)
                .await
                .err()
                .map(|e| {
                    format!(
                        "{}: back on {}, but version {} is not recorded as rolled back: {e}",
                        r.function, r.from, r.to
                    )
                })
        });
        join_all(records).await.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::replay::{answer, body, lambda, ok, sent};

    fn release(revision: &str) -> Vec<Release> {
        vec![Release {
            function: "orders".into(),
            alias: "live".into(),
            from: "3".into(),
            to: "4".into(),
            revision: Some(revision.into()),
        }]
    }

    const REFUSED: &str = r#"{"Type":"User","message":"The Revision Id provided does not match the latest Revision Id."}"#;

    #[tokio::test]
    async fn each_move_is_conditional_on_the_one_before() {
        let (lambda, http) = lambda(vec![
            ok(r#"{"Name":"live","RevisionId":"a2"}"#),
            ok(r#"{"Name":"live","RevisionId":"a3"}"#),
        ]);
        let releases = release("a1");
        let traffic = AliasTraffic::new(&lambda, &releases);
        traffic.route(10).await.unwrap();
        traffic.route(50).await.unwrap();
        assert!(body(&http, 0).contains(r#""RevisionId":"a1""#));
        assert!(body(&http, 1).contains(r#""RevisionId":"a2""#));
    }

    #[tokio::test]
    async fn an_alias_moved_under_the_rollout_is_neither_moved_on_nor_put_back() {
        let precondition = [("x-amzn-errortype", "PreconditionFailedException")];
        let (lambda, http) = lambda(vec![
            answer(412, &precondition, REFUSED),
            ok(r#"{"Name":"live","FunctionVersion":"5","RevisionId":"a9"}"#),
        ]);
        let releases = release("a1");
        let traffic = AliasTraffic::new(&lambda, &releases);
        let e = traffic.route(10).await.unwrap_err();
        assert_eq!(
            e,
            "orders: another deploy moved the alias during this rollout: left as it is"
        );
        traffic.restore().await.unwrap();
        assert!(traffic.promote().await.is_err());
        assert_eq!(sent(&http).len(), 2, "nothing written after the refusal");
    }

    #[tokio::test]
    async fn a_step_refused_after_its_own_attempt_landed_goes_on() {
        let precondition = [("x-amzn-errortype", "PreconditionFailedException")];
        let (lambda, http) = lambda(vec![
            answer(412, &precondition, REFUSED),
            ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a2",
                "RoutingConfig":{"AdditionalVersionWeights":{"4":0.1}}}"#),
            ok(r#"{"Name":"live","RevisionId":"a3"}"#),
        ]);
        let releases = release("a1");
        let traffic = AliasTraffic::new(&lambda, &releases);
        traffic.route(10).await.unwrap();
        traffic.route(50).await.unwrap();
        assert!(body(&http, 2).contains(r#""RevisionId":"a2""#));
    }

    #[tokio::test(start_paused = true)]
    async fn calls_made_at_once_are_spaced_under_the_quota() {
        let pacer = Pacer::new(CALLS_PER_SECOND);
        let start = Instant::now();
        let times = join_all((0..50).map(|_| async {
            pacer.turn().await;
            start.elapsed()
        }))
        .await;
        let last = times.iter().max().unwrap();
        assert_eq!(
            *last,
            Duration::from_millis(4_900),
            "50 calls at 10 a second"
        );
        // No second holds more than the quota.
        for s in 0..5u64 {
            let in_second = times.iter().filter(|t| t.as_secs() == s).count();
            assert_eq!(in_second, CALLS_PER_SECOND as usize);
        }
    }
}
