//! Cancellation: a CI job that is cancelled sends SIGINT or SIGTERM (and a
//! closed terminal SIGHUP). The run
//! then stops building, deploys nothing more, and still writes its report and
//! comment saying what state every function is in.

use tokio::sync::watch;

/// Shared by every stage: whether, and by what, the run was cancelled.
#[derive(Clone)]
pub struct Cancel(watch::Receiver<Option<&'static str>>);

impl Cancel {
    /// Listens for SIGINT, SIGTERM and SIGHUP from now on.
    pub fn on_signals() -> Cancel {
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let why = wait_for_signal().await;
            let _ = tx.send(Some(why));
        });
        Cancel(rx)
    }

    /// A cancel set by hand: the sender's `Some(why)` cancels the run.
    pub fn by_hand() -> (watch::Sender<Option<&'static str>>, Cancel) {
        let (tx, rx) = watch::channel(None);
        (tx, Cancel(rx))
    }

    /// The signal, once one came.
    pub fn reason(&self) -> Option<&'static str> {
        *self.0.borrow()
    }

    /// Resolves when the run is cancelled.
    pub async fn cancelled(&self) -> &'static str {
        let mut rx = self.0.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(why) => why.unwrap_or("a signal"),
            // The sender is gone without a signal: never resolve.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    let hup = signal(SignalKind::hangup());
    match (term, int, hup) {
        (Ok(mut term), Ok(mut int), Ok(mut hup)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            _ = hup.recv() => "SIGHUP",
        },
        _ => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}
