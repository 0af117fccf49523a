//! One build at a time on an engine older than Docker 23 (API 1.42): the
//! BuildKit inside Docker 20.10 crashes the whole daemon when two builds
//! export inline cache at once (`fatal error: concurrent map iteration and
//! map write` in `remotecache/v1.normalizeItem`; moby/moby#40752, #42422).
//! Eight lambda-ship builds at once crash a Docker 20.10 engine within a
//! few rounds, while Docker 26 takes hundreds of rounds. So every build on
//! such an engine takes its turn first: a lock on a file named for the
//! engine, which every lambda-ship process of this host shares (two jobs of
//! one self-hosted runner as well as the two platforms of one run).

use super::engine::Engine;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::Duration;

/// How often a waiting build asks again for its turn.
const POLL: Duration = Duration::from_millis(200);

/// The first engine API whose BuildKit takes concurrent cache exports.
const CONCURRENT_SINCE: (u32, u32) = (1, 42);

/// A build's turn on its engine: held until dropped.
#[derive(Debug)]
pub struct Turn {
    _lock: File,
}

/// Whether builds on an engine of this API version must take turns.
pub fn one_at_a_time(api_version: &str) -> bool {
    let mut parts = api_version.split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) < CONCURRENT_SINCE,
        _ => false,
    }
}

/// The lock file of an engine, by its name, in the host's temporary folder.
fn lock_path(engine: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = format!("{:x}", Sha256::digest(engine.as_bytes()));
    std::env::temp_dir().join(format!("lambda-ship-engine-{}.lock", &digest[..16]))
}

/// Waits for the engine's turn when it needs one: `Ok(None)` for an engine
/// that builds in parallel; `waiting` is called once when another build
/// holds the turn. A lock file that cannot be opened is an error, said by
/// the caller, and the build goes on without a turn.
pub async fn take(engine: &Engine, waiting: impl FnOnce()) -> Result<Option<Turn>, String> {
    if !one_at_a_time(&engine.api_version) {
        return Ok(None);
    }
    take_at(lock_path(&engine.name), waiting).await.map(Some)
}

async fn take_at(path: PathBuf, waiting: impl FnOnce()) -> Result<Turn, String> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut waiting = Some(waiting);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Turn { _lock: file }),
            Err(TryLockError::WouldBlock) => {
                if let Some(say) = waiting.take() {
                    say();
                }
                tokio::time::sleep(POLL).await;
            }
            Err(TryLockError::Error(e)) => return Err(format!("{}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_before_api_1_42_take_turns() {
        assert!(one_at_a_time("1.41"));
        assert!(one_at_a_time("1.40"));
        assert!(!one_at_a_time("1.42"));
        assert!(!one_at_a_time("1.45"));
        assert!(!one_at_a_time("2.0"));
        assert!(!one_at_a_time("unknown"));
    }

    #[test]
    fn each_engine_has_its_own_lock_file() {
        let a = lock_path("unix:///var/run/docker.sock");
        assert_eq!(a, lock_path("unix:///var/run/docker.sock"));
        assert_ne!(a, lock_path("tcp://127.0.0.1:2376"));
    }

    #[tokio::test]
    async fn a_second_build_waits_until_the_first_gives_its_turn_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.lock");
        let first = take_at(path.clone(), || panic!("the first never waits"))
            .await
            .unwrap();
        let (said, heard) = std::sync::mpsc::channel();
        let second = tokio::spawn(take_at(path, move || said.send(()).unwrap()));
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!second.is_finished(), "the second build did not wait");
        assert!(heard.try_recv().is_ok(), "waiting was not said");
        drop(first);
        let turn = tokio::time::timeout(Duration::from_secs(5), second).await;
        assert!(turn.unwrap().unwrap().is_ok());
        assert!(heard.try_recv().is_err(), "waiting said more than once");
    }
}
