use super::*;

#[test]
fn plain_lines_are_timestamped() {
    let p = Progress::capture(ProgressMode::Plain);
    p.say("ensuring repository");
    p.platform(
        Platform::Arm64,
        PlatformEvent::Step("[2/6] RUN make".into()),
    );
    p.platform(Platform::Arm64, PlatformEvent::Log("compiling".into()));
    let lines = p.captured();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('[') && l.contains("s] ")),
        "{lines:?}"
    );
    assert!(lines[2].ends_with("linux/arm64 | compiling"));
}

#[test]
fn github_folds_each_platform_log_in_a_group() {
    let p = Progress::capture(ProgressMode::GitHub);
    p.platform(
        Platform::Amd64,
        PlatformEvent::Step("[1/2] COPY a b".into()),
    );
    p.platform(
        Platform::Amd64,
        PlatformEvent::Log("::error::not a command".into()),
    );
    p.platform(
        Platform::Amd64,
        PlatformEvent::Built {
            size: 2_000_000,
            seconds: 1.0,
        },
    );
    let lines = p.captured();
    let start = lines
        .iter()
        .position(|l| l == "::group::linux/amd64 build log")
        .unwrap();
    let token = lines[start + 1].strip_prefix("::stop-commands::").unwrap();
    assert_eq!(token.len(), 32, "an unguessable token");
    assert_eq!(lines[start + 3], "::error::not a command");
    assert_eq!(
        lines[start + 4],
        format!("::{token}::"),
        "commands resume only after it"
    );
    assert_eq!(lines[start + 5], "::endgroup::");
    assert!(lines.last().unwrap().contains("built, 2.0 MB uncompressed"));
}

#[tokio::test(start_paused = true)]
async fn a_wait_is_said_and_bounded() {
    let p = Progress::capture(ProgressMode::Plain);
    let never = std::future::pending::<()>();
    let err = p
        .waiting(
            "GitHub's API",
            Duration::from_secs(60),
            Duration::from_secs(15),
            never,
        )
        .await
        .unwrap_err();
    assert_eq!(err, "GitHub's API: timed out after 60 s");
    let lines = p.captured();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].ends_with("still waiting for GitHub's API (15 s)"),
        "{lines:?}"
    );
    let quick = p
        .waiting("x", Duration::from_secs(1), Duration::from_secs(1), async {
            7
        })
        .await;
    assert_eq!(quick, Ok(7));
}

#[test]
fn push_progress_is_throttled_in_plain_mode() {
    let p = Progress::capture(ProgressMode::Plain);
    for done in (0..=100).map(|i| i * 1000) {
        p.platform(
            Platform::Amd64,
            PlatformEvent::Pushing {
                done,
                total: 100_000,
            },
        );
    }
    assert_eq!(p.captured().len(), 5, "{:?}", p.captured());
}

#[test]
fn sizes_are_said_in_decimal_units_up_to_terabytes() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(999), "999 B");
    assert_eq!(human_bytes(1000), "1.0 KB");
    assert_eq!(human_bytes(1_500_000), "1.5 MB");
    assert_eq!(human_bytes(10 * 1024 * 1024 * 1024), "10.7 GB");
    assert_eq!(human_bytes(5_000_000_000_000_000), "5000.0 TB");
}

#[test]
fn a_failed_build_prints_its_folded_log_then_says_so() {
    let p = Progress::capture(ProgressMode::GitHub);
    p.platform(Platform::Arm64, PlatformEvent::Log("error: x".into()));
    assert!(p.captured().is_empty(), "kept until the build ends");
    p.platform(Platform::Arm64, PlatformEvent::Failed);
    let lines = p.captured();
    assert_eq!(lines[0], "::group::linux/arm64 build log");
    assert!(lines.contains(&"error: x".to_string()));
    assert!(lines.last().unwrap().ends_with("linux/arm64: build failed"));
    p.platform(Platform::Arm64, PlatformEvent::Failed);
    assert_eq!(
        p.captured()
            .iter()
            .filter(|l| l.starts_with("::group::"))
            .count(),
        1,
        "a log is printed once"
    );
}

#[test]
fn each_platforms_log_is_folded_apart() {
    let p = Progress::capture(ProgressMode::GitHub);
    p.platform(Platform::Amd64, PlatformEvent::Log("amd".into()));
    p.platform(Platform::Arm64, PlatformEvent::Log("arm".into()));
    p.platform(
        Platform::Amd64,
        PlatformEvent::Built {
            size: 1,
            seconds: 1.0,
        },
    );
    let lines = p.captured();
    assert!(lines.contains(&"amd".to_string()));
    assert!(
        !lines.contains(&"arm".to_string()),
        "arm64's log waits for arm64's end: {lines:?}"
    );
}

#[test]
fn plain_mode_prints_a_log_line_at_once_and_folds_nothing() {
    let p = Progress::capture(ProgressMode::Plain);
    p.platform(Platform::Amd64, PlatformEvent::Log("::warning::x".into()));
    p.platform(
        Platform::Amd64,
        PlatformEvent::Built {
            size: 1,
            seconds: 1.0,
        },
    );
    let lines = p.captured();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].ends_with("linux/amd64 | ::warning::x"),
        "prefixed, never a command"
    );
    assert!(!lines.iter().any(|l| l.starts_with("::")));
}

#[test]
fn a_capturing_tty_reporter_keeps_plain_lines() {
    let p = Progress::capture(ProgressMode::Tty);
    p.platform(
        Platform::Arm64,
        PlatformEvent::Building {
            engine: "engine-b".into(),
        },
    );
    p.platform(
        Platform::Arm64,
        PlatformEvent::Reused {
            digest: "sha256:ab".into(),
        },
    );
    let lines = p.captured();
    assert!(
        lines[0].ends_with("linux/arm64: building on engine-b"),
        "{lines:?}"
    );
    assert!(lines[1].ends_with("linux/arm64: tag exists, reusing sha256:ab"));
}

#[test]
fn push_progress_of_an_unknown_total_is_said_once_and_each_platform_apart() {
    let p = Progress::capture(ProgressMode::Plain);
    for _ in 0..10 {
        for platform in Platform::ALL {
            p.platform(platform, PlatformEvent::Pushing { done: 5, total: 0 });
        }
    }
    let lines = p.captured();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("linux/amd64: pushing 5 B / 0 B"));
    assert!(lines[1].contains("linux/arm64: pushing"));
}
