//! A byte-level TCP relay to a Docker engine's unix socket, which can be cut:
//! the engine then disappears for its clients, in the middle of whatever they
//! were doing, as a remote builder does when its host goes away.

use std::sync::Arc;
use tokio::sync::watch;

pub struct Relay {
    /// `tcp://127.0.0.1:PORT`
    pub endpoint: String,
    cut: Arc<watch::Sender<bool>>,
    _runtime: tokio::runtime::Runtime,
}

impl Relay {
    pub fn to_unix(socket: &str) -> Relay {
        let (runtime, listener, addr) = super::server_on_loopback(1);
        let endpoint = format!("tcp://{addr}");
        let (tx, rx) = watch::channel(false);
        let socket = socket.to_string();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let mut cut = rx.clone();
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = cut.wait_for(|c| *c) => return,
                };
                let Ok((mut client, _)) = accepted else {
                    continue;
                };
                let socket = socket.clone();
                tokio::spawn(async move {
                    let Ok(mut engine) = tokio::net::UnixStream::connect(&socket).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut engine) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Relay {
            endpoint,
            cut: Arc::new(tx),
            _runtime: runtime,
        }
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }
}
