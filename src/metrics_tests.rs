//! The numbers of a deploy beyond the common case: which REPORT line, which
//! field, what a damaged tag still gives, and when a change warns.

use super::*;

fn report(fields: &str) -> String {
    format!("START RequestId: 1\nEND RequestId: 1\nREPORT RequestId: 1\t{fields}\n")
}

#[test]
fn the_last_report_line_of_the_tail_is_read() {
    let log = format!(
        "{}{}",
        report("Duration: 1.00 ms\tMax Memory Used: 10 MB\t"),
        report("Duration: 2.50 ms\tMax Memory Used: 20 MB\t")
    );
    let n = Numbers::from_log(&log);
    assert_eq!((n.duration_ms, n.max_memory_mb), (Some(2.5), Some(20)));
    let indented = "END RequestId: 1\n  REPORT RequestId: 1\tDuration: 3.00 ms\t\n";
    assert_eq!(Numbers::from_log(indented).duration_ms, Some(3.0));
}

#[test]
fn a_line_that_only_mentions_report_is_not_the_report() {
    let n = Numbers::from_log("the handler says: REPORT Duration: 9 ms\n");
    assert!(n.is_empty(), "{n:?}");
}

#[test]
fn billed_and_init_durations_are_not_taken_for_the_duration() {
    let n = Numbers::from_log(&report(
        "Billed Duration: 13 ms\tInit Duration: 200.00 ms\tDuration: 12.34 ms\t",
    ));
    assert_eq!(n.duration_ms, Some(12.34));
    assert_eq!(n.init_ms, Some(200.0));
    let billed_only = Numbers::from_log(&report("Billed Duration: 13 ms\t"));
    assert_eq!(billed_only.duration_ms, None);
    let broken = Numbers::from_log(&report("Duration: fast ms\tMax Memory Used: MB"));
    assert!(broken.is_empty(), "{broken:?}");
}

#[test]
fn a_tag_keeps_only_what_was_measured_and_a_damaged_one_what_it_can() {
    let duration = Numbers {
        duration_ms: Some(12.0),
        ..Numbers::default()
    };
    assert_eq!(duration.to_tag(), "dur=12.00");
    assert_eq!(Numbers::default().to_tag(), "");
    assert!(Numbers::from_tag("").is_empty());
    let n = Numbers::from_tag("size=10;init=abc;x=1;mem=45;garbage;dur=");
    assert_eq!(
        n,
        Numbers {
            size_bytes: Some(10),
            init_ms: None,
            duration_ms: None,
            max_memory_mb: Some(45),
        }
    );
}

#[test]
fn newer_numbers_fill_only_their_gaps_from_older_ones() {
    let now = Numbers {
        size_bytes: Some(1),
        duration_ms: Some(5.0),
        ..Numbers::default()
    };
    let older = Numbers {
        size_bytes: Some(2),
        init_ms: Some(100.0),
        max_memory_mb: Some(64),
        ..Numbers::default()
    };
    assert_eq!(
        now.or(Some(&older)),
        Numbers {
            size_bytes: Some(1),
            init_ms: Some(100.0),
            duration_ms: Some(5.0),
            max_memory_mb: Some(64),
        }
    );
    assert_eq!(now.or(None), now);
}

#[test]
fn only_growth_past_a_limit_warns() {
    let at = |size: u64, init: Option<f64>| Numbers {
        size_bytes: Some(size),
        init_ms: init,
        ..Numbers::default()
    };
    let limits = Thresholds {
        cold_start_ms: Some(50.0),
        size_mb: Some(1.0),
    };
    let before = at(10_000_000, Some(100.0));
    assert!(
        warnings(&at(5_000_000, Some(10.0)), &before, &limits).is_empty(),
        "shrinking never warns"
    );
    assert!(
        warnings(&at(11_000_000, Some(150.0)), &before, &limits).is_empty(),
        "exactly at the limit is not past it"
    );
    assert!(
        warnings(&at(10_000_000, None), &before, &limits).is_empty(),
        "a warm start has no cold start to compare"
    );
    let w = warnings(&at(11_000_001, Some(150.1)), &before, &limits);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        warnings(&at(20_000_000, Some(900.0)), &Numbers::default(), &limits).is_empty(),
        "nothing to compare with"
    );
}

#[test]
fn the_summary_says_only_what_was_measured_in_decimal_megabytes() {
    let n = Numbers {
        size_bytes: Some(1_500_000),
        max_memory_mb: Some(64),
        ..Numbers::default()
    };
    assert_eq!(n.summary(), "size 1.5 MB, max memory 64 MB");
    assert_eq!(Numbers::default().summary(), "");
}
