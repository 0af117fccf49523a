//! An engine reached over SSH the way the docker CLI reaches one: each
//! connection is `ssh [-l USER] [-p PORT] -- HOST docker system dial-stdio`,
//! the remote engine's API on the ssh process's standard input and output.
//! The user's own ssh runs it, with their keys, agent, known hosts and
//! config; `LAMBDA_SHIP_SSH_COMMAND` replaces `ssh` (as `GIT_SSH_COMMAND`
//! does for git), for options such as `-i KEY`.

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, Join, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Where `ssh://[USER@]HOST[:PORT]` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Reads an `ssh://` URL with the `url` crate: a user percent-decoded,
    /// an IPv6 host in brackets, a port; none for a path, a password, or a
    /// host that ssh would take for an option.
    pub fn parse(endpoint: &str) -> Option<SshTarget> {
        let url = url::Url::parse(endpoint).ok()?;
        let host = match url.host()? {
            url::Host::Domain(d) => d.to_string(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        let plain = url.scheme() == "ssh"
            && url.password().is_none()
            && matches!(url.path(), "" | "/")
            && url.query().is_none()
            && !host.starts_with('-');
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8()
            .ok()
            .map(|u| u.into_owned());
        plain.then(|| SshTarget {
            user: user.filter(|u| !u.is_empty()),
            host,
            port: url.port(),
        })
    }

    /// The ssh command line that opens one connection to the engine. `ssh`
    /// is split into words as a shell would (and git splits `GIT_SSH_COMMAND`),
    /// so `ssh -i "/my keys/id"` keeps its quoted path one word.
    pub fn command_line(&self, ssh: &str) -> Result<Vec<String>, io::Error> {
        let mut line = shell_words::split(ssh).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "LAMBDA_SHIP_SSH_COMMAND has a quote that is not closed: \
                 quote it as a shell would, e.g. ssh -i \"/my keys/id\"",
            )
        })?;
        if line.is_empty() {
            line.push("ssh".to_string());
        }
        line.extend(["-o".into(), "BatchMode=yes".into()]);
        line.extend(["-o".into(), "ConnectTimeout=20".into()]);
        if let Some(user) = &self.user {
            line.extend(["-l".into(), user.clone()]);
        }
        if let Some(port) = self.port {
            line.extend(["-p".into(), port.to_string()]);
        }
        line.extend(["--".into(), self.host.clone()]);
        line.extend(["docker", "system", "dial-stdio"].map(String::from));
        Ok(line)
    }
}

/// A client of the engine behind `target`.
pub fn connect(
    target: &SshTarget,
    timeout: u64,
    version: &ClientVersion,
) -> Result<Docker, bollard::errors::Error> {
    let ssh = std::env::var("LAMBDA_SHIP_SSH_COMMAND").unwrap_or_else(|_| "ssh".to_string());
    let connector = Connector {
        line: Arc::new(target.command_line(&ssh)?),
    };
    let client = Client::builder(TokioExecutor::new()).build(connector);
    let transport = move |request: BollardRequest| {
        let client = client.clone();
        Box::pin(async move {
            client
                .request(request)
                .await
                .map_err(bollard::errors::Error::from)
        }) as Pin<Box<dyn Future<Output = _> + Send>>
    };
    // The address only names the engine in URLs: the connector ignores it.
    Docker::connect_with_custom_transport(transport, Some("http://ssh-engine"), timeout, version)
}

#[derive(Clone)]
struct Connector {
    line: Arc<Vec<String>>,
}

impl tower_service::Service<hyper::Uri> for Connector {
    type Response = TokioIo<SshPipe>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let line = self.line.clone();
        Box::pin(async move {
            let (program, args) = line
                .split_first()
                .ok_or_else(|| io::Error::other("no ssh command"))?;
            let mut child = Command::new(program)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                // ssh's own words (a refused key, an unknown host) reach the user.
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| io::Error::other(format!("{program} could not run: {e}")))?;
            let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
                return Err(io::Error::other("ssh has no pipes"));
            };
            Ok(TokioIo::new(SshPipe {
                io: tokio::io::join(stdout, stdin),
                _child: child,
            }))
        })
    }
}

/// One ssh process: the engine's API on its pipes; killed when dropped.
pub struct SshPipe {
    io: Join<ChildStdout, ChildStdin>,
    _child: Child,
}

impl Connection for SshPipe {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for SshPipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshPipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_endpoints_keep_their_user_and_port() {
        let t = SshTarget::parse("ssh://builder@10.0.0.5:2222").unwrap();
        assert_eq!(
            t.command_line("ssh -i /k").unwrap(),
            [
                "ssh",
                "-i",
                "/k",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=20",
                "-l",
                "builder",
                "-p",
                "2222",
                "--",
                "10.0.0.5",
                "docker",
                "system",
                "dial-stdio"
            ]
        );
        let bare = SshTarget::parse("ssh://arm-builder").unwrap();
        assert_eq!((bare.user, bare.port), (None, None));
        assert!(SshTarget::parse("ssh://-oProxyCommand=x").is_none());
        assert!(SshTarget::parse("ssh://host:notaport").is_none());
        let v6 = SshTarget::parse("ssh://ops%40corp@[fd00::5]:2222/").unwrap();
        assert_eq!(
            (v6.user.as_deref(), v6.host.as_str(), v6.port),
            (Some("ops@corp"), "fd00::5", Some(2222))
        );
        assert!(SshTarget::parse("ssh://node/some/path").is_none());
        assert!(SshTarget::parse("ssh://u:secret@node").is_none());
    }

    #[test]
    fn the_ssh_command_is_split_as_a_shell_splits_it() {
        let t = SshTarget::parse("ssh://node").unwrap();
        let line = t
            .command_line(r#"ssh -i "/my keys/id" -o 'User=a b'"#)
            .unwrap();
        assert_eq!(line[..5], ["ssh", "-i", "/my keys/id", "-o", "User=a b"]);
        let e = t.command_line(r#"ssh -i "/my keys/id"#).unwrap_err();
        assert!(e.to_string().contains("quote"), "{e}");
    }
}
