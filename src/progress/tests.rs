use super::*;

#[test]
fn plain_lines_are_timestamped() {
    let p = Progress::capture(ProgressMode::Plain);
    p.stage("ensuring repository");
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
