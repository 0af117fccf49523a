//! Which lambda-ship process owns a sandbox container, so that a run removes
//! its own on a signal, and a later run removes those of a run that was
//! killed outright (SIGKILL) and could not.

use crate::farm::engine::Engine;

/// Every sandbox carries this label, and its owner's: the lambda-ship
/// process that made it, as `pid:start-time` on `host`.
pub(super) const LABEL_SANDBOX: &str = "dev.lambda-ship.sandbox";
pub(super) const LABEL_OWNER: &str = "dev.lambda-ship.owner";
pub(super) const LABEL_HOST: &str = "dev.lambda-ship.host";

/// This process as sandboxes name their owner: its pid and its start time,
/// which together stay unique on this host after the pid is reused.
pub(super) fn owner_id() -> String {
    let pid = std::process::id();
    owner_of(pid).unwrap_or_else(|| pid.to_string())
}

/// `pid:start-time` of a live process, or None when there is no such process.
fn owner_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command's closing parenthesis; the 22nd of the
    // line, the start time, is the 20th of these.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start}"))
}

/// Where pids mean what they say: the host's name and this process's pid
/// namespace. Two jobs in containers that share a host name and an engine
/// (host networking) have pid namespaces of their own, and neither's pids
/// say anything of the other's: a sandbox is only ever judged by a process
/// of its own namespace.
pub(super) fn host_id() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let namespace = std::fs::read_link("/proc/self/ns/pid")
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{name}/{namespace}")
}

/// Whether the owner a sandbox names is gone: a run killed outright
/// (SIGKILL) could not remove what it made.
fn owner_is_gone(owner: &str) -> bool {
    let pid = owner.split(':').next().and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) => owner_of(pid).as_deref() != Some(owner),
        None => false,
    }
}

/// The sandboxes on `engine` made on this host, with their owners.
async fn sandboxes(engine: &Engine) -> Vec<(String, String)> {
    let labels = vec![
        LABEL_SANDBOX.to_string(),
        format!("{LABEL_HOST}={}", host_id()),
    ];
    engine
        .containers_labelled(labels)
        .await
        .into_iter()
        .filter_map(|(id, labels)| Some((id, labels.get(LABEL_OWNER)?.clone())))
        .collect()
}

/// Removes the sandboxes that runs killed outright left on `engine`; returns
/// what it says about them, if anything was removed.
pub async fn sweep_orphans(engine: &Engine) -> Option<String> {
    let mut owners = std::collections::BTreeSet::new();
    let mut removed = 0;
    for (id, owner) in sandboxes(engine).await {
        if owner_is_gone(&owner) {
            engine.remove_container(&id).await;
            owners.insert(owner.split(':').next().unwrap_or_default().to_string());
            removed += 1;
        }
    }
    (removed > 0).then(|| {
        format!(
            "removed {removed} sandbox container(s) on {} left by a lambda-ship run that was \
             killed (pid {})",
            engine.name,
            owners.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

/// Removes every sandbox this process made on `engine`: what a signal, or
/// a run dropped half-way, leaves behind.
pub async fn remove_own(engine: &Engine) -> usize {
    let me = owner_id();
    let mut removed = 0;
    for (id, owner) in sandboxes(engine).await {
        if owner == me {
            engine.remove_container(&id).await;
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandboxes_are_judged_only_within_their_pid_namespace() {
        let id = host_id();
        assert!(id.contains("/pid:["), "{id}");
    }

    #[test]
    fn owners_are_this_process_or_gone() {
        let me = owner_id();
        assert!(me.starts_with(&format!("{}:", std::process::id())), "{me}");
        assert!(!owner_is_gone(&me));
        // The same pid with another start time: the pid was reused.
        let reused = format!("{}:1", std::process::id());
        assert!(owner_is_gone(&reused));
        assert!(owner_is_gone("4194999:1"), "no such process");
        assert!(
            !owner_is_gone("not-a-pid"),
            "never remove what is not understood"
        );
    }
}
