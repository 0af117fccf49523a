//! The one retry policy of the crate, for every loop that tries a call
//! again or polls until a state is reached: an exponential backoff through
//! backon, bounded by a number of tries or by a deadline. Each caller keeps
//! only what is its own: which failures are worth another try (`when`), the
//! line it says on stderr (`notify`), and its bound.

use backon::ExponentialBuilder;
use std::time::{Duration, Instant};

/// Pauses from `first`, doubling up to `max`, for `tries` tries in all.
pub fn tries(tries: u32, first: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(first)
        .with_max_delay(max)
        .with_max_times(usize::try_from(tries.saturating_sub(1)).unwrap_or(0))
}

/// Pauses from `first`, doubling up to `max`, with no bound of their own:
/// pair it with [`before`], the deadline.
pub fn until(first: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(first)
        .with_max_delay(max)
        .without_max_times()
}

/// backon's `adjust` hook for a deadline: no further try when the next
/// pause would end at or past `deadline`.
pub fn before<E>(deadline: Instant) -> impl FnMut(&E, Option<Duration>) -> Option<Duration> {
    move |_, pause| pause.filter(|p| Instant::now() + *p < deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::Retryable;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_bounded_policy_stops_after_its_tries_with_doubling_pauses() {
        let calls = AtomicU32::new(0);
        let mut pauses = Vec::new();
        let out: Result<(), u32> = (|| async { Err(calls.fetch_add(1, Ordering::SeqCst)) })
            .retry(tries(4, Duration::from_secs(1), Duration::from_secs(3)))
            .notify(|_, pause| pauses.push(pause))
            .await;
        assert_eq!(out, Err(3), "the last try's error comes back");
        assert_eq!(
            pauses,
            [1, 2, 3].map(Duration::from_secs),
            "doubling, capped at the max"
        );
    }

    #[tokio::test]
    async fn a_deadline_bound_policy_gives_up_before_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(200);
        let calls = AtomicU32::new(0);
        let out: Result<(), ()> = (|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(())
        })
        .retry(until(Duration::from_millis(10), Duration::from_millis(50)))
        .adjust(before(deadline))
        .await;
        assert!(out.is_err());
        assert!(calls.load(Ordering::SeqCst) >= 3, "tried again meanwhile");
        assert!(Instant::now() < deadline, "never slept past the deadline");
    }
}
