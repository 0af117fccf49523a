//! The build context: the files under `--context` that `.dockerignore` lets
//! through, written as a tar and streamed to the engine while it is written.
//! Nothing is held whole in memory; each engine gets its own stream.

use super::dockerignore::{DockerIgnore, PatternError};
use bytes::Bytes;
use futures_util::Stream;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The name given inside the tar to a Dockerfile that lives outside the context.
const OUTSIDE_DOCKERFILE: &str = ".lambda-ship.Dockerfile";
/// The size of the pieces the tar is sent in.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error(
        "cannot read {path} in the build context: {source}. Make it readable by this user, or \
         leave it out with a line in .dockerignore"
    )]
    Unreadable { path: String, source: io::Error },
}

/// A build context ready to be streamed any number of times.
#[derive(Debug, Clone)]
pub struct BuildContext {
    root: PathBuf,
    dockerfile: PathBuf,
    /// The Dockerfile's path inside the tar, as the engine is told.
    dockerfile_in_tar: String,
    ignore: Arc<DockerIgnore>,
}

impl BuildContext {
    /// Reads `.dockerignore` of `root`. Both paths must be canonical.
    pub fn new(root: &Path, dockerfile: &Path) -> Result<Self, ContextError> {
        let ignore_path = root.join(".dockerignore");
        let ignore = match std::fs::read_to_string(&ignore_path) {
            Ok(text) => DockerIgnore::parse(&text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => DockerIgnore::default(),
            Err(source) => {
                return Err(ContextError::Read {
                    path: ignore_path.display().to_string(),
                    source,
                });
            }
        };
        let dockerfile_in_tar = match dockerfile.strip_prefix(root) {
            Ok(rel) => slash_path(rel),
            Err(_) => OUTSIDE_DOCKERFILE.to_string(),
        };
        Ok(BuildContext {
            root: root.to_path_buf(),
            dockerfile: dockerfile.to_path_buf(),
            dockerfile_in_tar,
            ignore: Arc::new(ignore),
        })
    }

    pub fn dockerfile_in_tar(&self) -> &str {
        &self.dockerfile_in_tar
    }

    /// Whether the file at `path` (absolute) reaches the engine: it is the
    /// Dockerfile, or it is in the context and not left out by `.dockerignore`.
    pub fn includes(&self, path: &Path) -> bool {
        if path == self.dockerfile {
            return true;
        }
        match path.strip_prefix(&self.root) {
            Ok(rel) => {
                let rel = slash_path(rel);
                rel == ".dockerignore" || !self.ignore.excludes(&rel)
            }
            Err(_) => false,
        }
    }

    /// Opens every file and folder the context sends, so that one this user
    /// cannot read is named now, before anything is created, and not as a
    /// broken stream in the middle of a build.
    pub fn check_readable(&self) -> Result<(), ContextError> {
        self.walk(|path, _| {
            let opened = if path.is_symlink() {
                Ok(())
            } else if path.is_dir() {
                std::fs::read_dir(path).map(drop)
            } else {
                std::fs::File::open(path).map(drop)
            };
            opened.map_err(|e| io::Error::new(e.kind(), Unreadable(path.to_path_buf(), e)))
        })
        .map_err(|e| match e.into_inner() {
            Some(inner) => match inner.downcast::<Unreadable>() {
                Ok(u) => ContextError::Unreadable {
                    path: u.0.display().to_string(),
                    source: u.1,
                },
                Err(other) => ContextError::Unreadable {
                    path: self.root.display().to_string(),
                    source: io::Error::other(other),
                },
            },
            None => ContextError::Unreadable {
                path: self.root.display().to_string(),
                source: io::Error::other("the walk failed"),
            },
        })
    }

    /// Starts writing the tar on a blocking thread and returns its bytes as
    /// they come. A read error ends the stream with that error.
    pub fn stream(&self) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        let (tx, rx) = mpsc::channel(4);
        let ctx = self.clone();
        tokio::task::spawn_blocking(move || {
            let writer = ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            if let Err(e) = ctx.write_tar(writer) {
                // The receiver may be gone already: the build ended first.
                let _ = tx.blocking_send(Err(e));
            }
        });
        ReceiverStream::new(rx)
    }

    /// The paths the tar holds, in order: what the engine will see.
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        self.walk(|_, rel| {
            names.push(rel.to_string_lossy().into_owned());
            Ok(())
        })?;
        Ok(names)
    }

    /// Writes the context as the engine receives it.
    pub(super) fn write_tar(&self, writer: impl Write) -> io::Result<()> {
        let mut tar = tar::Builder::new(writer);
        tar.follow_symlinks(false);
        tar.mode(tar::HeaderMode::Deterministic);
        // dockerd reads no GNU sparse entries: a sparse file goes whole, as
        // the Docker CLI sends it.
        tar.sparse(false);
        self.walk(|path, rel| tar.append_path_with_name(path, rel))?;
        tar.into_inner()?.flush()
    }

    /// Calls `add` for each path that goes into the context, in sorted order,
    /// with its name in the tar: the file name's bytes as they are on disk,
    /// UTF-8 or not, as Docker keeps them.
    fn walk(&self, mut add: impl FnMut(&Path, &Path) -> io::Result<()>) -> io::Result<()> {
        let mut entries = walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1)
            .into_iter();
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                // A folder .dockerignore leaves out is never sent: that it
                // cannot be read does not matter, as for the Docker CLI.
                Err(e)
                    if e.path()
                        .and_then(|p| p.strip_prefix(&self.root).ok())
                        .is_some_and(|rel| self.ignore.excludes(&slash_path(rel))) =>
                {
                    continue;
                }
                Err(e) => {
                    let path = e
                        .path()
                        .map_or_else(|| self.root.clone(), Path::to_path_buf);
                    let source = e
                        .into_io_error()
                        .unwrap_or_else(|| io::Error::other("a symbolic link loop"));
                    return Err(io::Error::new(source.kind(), Unreadable(path, source)));
                }
            };
            let Ok(name) = entry.path().strip_prefix(&self.root) else {
                continue;
            };
            // .dockerignore patterns are text: a name that is not UTF-8 is
            // matched by its closest text, and sent by its bytes.
            let rel = slash_path(name);
            let kind = entry.file_type();
            // Docker always sends the Dockerfile and .dockerignore.
            let always = rel == self.dockerfile_in_tar || rel == ".dockerignore";
            if !always && self.ignore.excludes(&rel) {
                if kind.is_dir() && !self.ignore.has_exceptions() {
                    entries.skip_current_dir();
                }
                continue;
            }
            if kind.is_dir() || kind.is_file() || kind.is_symlink() {
                add(entry.path(), name)?;
            }
        }
        if self.dockerfile_in_tar == OUTSIDE_DOCKERFILE {
            add(&self.dockerfile, Path::new(OUTSIDE_DOCKERFILE))?;
        }
        Ok(())
    }
}

/// A path that could not be opened, carried through the walk.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}", path = .0.display(), source = .1)]
struct Unreadable(PathBuf, io::Error);

fn slash_path(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A `Write` that hands its bytes to an async receiver in pieces of `CHUNK`.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the engine stopped reading"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn dockerignore_filters_but_dockerfile_and_itself_always_go() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            (
                ".dockerignore",
                "Dockerfile\n.dockerignore\nsecret.env\nnode_modules\n**/*.tmp\n!keep.tmp",
            ),
            ("secret.env", "x"),
            ("node_modules/a/b.js", "x"),
            ("src/app.sh", "x"),
            ("src/cache.tmp", "x"),
            ("keep.tmp", "x"),
        ]);
        let root = dir.path().canonicalize().unwrap();
        let ctx = BuildContext::new(&root, &root.join("Dockerfile")).unwrap();
        assert_eq!(
            ctx.list().unwrap(),
            [
                ".dockerignore",
                "Dockerfile",
                "keep.tmp",
                "src",
                "src/app.sh"
            ]
        );
    }

    #[test]
    fn a_dockerfile_outside_the_context_is_sent_under_its_own_name() {
        let ctx_dir = tree(&[("app.sh", "x")]);
        let df_dir = tree(&[("build.Dockerfile", "FROM scratch")]);
        let root = ctx_dir.path().canonicalize().unwrap();
        let df = df_dir
            .path()
            .canonicalize()
            .unwrap()
            .join("build.Dockerfile");
        let ctx = BuildContext::new(&root, &df).unwrap();
        assert_eq!(ctx.dockerfile_in_tar(), OUTSIDE_DOCKERFILE);
        assert_eq!(ctx.list().unwrap(), ["app.sh", OUTSIDE_DOCKERFILE]);
    }

    /// The entries of the tar a context streams: name bytes and type.
    async fn entries(ctx: &BuildContext) -> Vec<(Vec<u8>, tar::EntryType)> {
        let pieces: Vec<Bytes> = ctx.stream().try_collect().await.unwrap();
        let all: Vec<u8> = pieces.concat();
        let mut archive = tar::Archive::new(all.as_slice());
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path_bytes().into_owned(), e.header().entry_type())
            })
            .collect()
    }

    #[tokio::test]
    async fn names_that_are_not_utf8_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree(&[("Dockerfile", "FROM scratch")]);
        for name in [&b"caf\xe9.txt"[..], b"caf\xe8.txt"] {
            std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), "x").unwrap();
        }
        let root = dir.path().canonicalize().unwrap();
        let ctx = BuildContext::new(&root, &root.join("Dockerfile")).unwrap();
        let names: Vec<Vec<u8>> = entries(&ctx).await.into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            [
                b"Dockerfile".to_vec(),
                b"caf\xe8.txt".to_vec(),
                b"caf\xe9.txt".to_vec()
            ]
        );
    }

    #[tokio::test]
    async fn a_sparse_file_goes_as_a_regular_file() {
        let dir = tree(&[("Dockerfile", "FROM scratch")]);
        let big = std::fs::File::create(dir.path().join("big.bin")).unwrap();
        big.set_len(8 * 1024 * 1024).unwrap();
        let root = dir.path().canonicalize().unwrap();
        let ctx = BuildContext::new(&root, &root.join("Dockerfile")).unwrap();
        let kinds: Vec<tar::EntryType> = entries(&ctx).await.into_iter().map(|e| e.1).collect();
        assert_eq!(kinds, [tar::EntryType::Regular, tar::EntryType::Regular]);
    }

    #[test]
    fn includes_follows_dockerignore_and_keeps_the_dockerfile() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            (".dockerignore", "node_modules\n"),
            ("node_modules/a.js", "x"),
            ("app.sh", "x"),
        ]);
        let root = dir.path().canonicalize().unwrap();
        let ctx = BuildContext::new(&root, &root.join("Dockerfile")).unwrap();
        assert!(ctx.includes(&root.join("app.sh")));
        assert!(ctx.includes(&root.join("Dockerfile")));
        assert!(!ctx.includes(&root.join("node_modules/a.js")));
        assert!(!ctx.includes(Path::new("/elsewhere/app.sh")));
        assert!(ctx.check_readable().is_ok());
    }

    #[tokio::test]
    async fn the_stream_is_a_tar_of_the_listed_files_in_pieces() {
        let big = "x".repeat(3 * CHUNK);
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("big.bin", &big)]);
        let root = dir.path().canonicalize().unwrap();
        let ctx = BuildContext::new(&root, &root.join("Dockerfile")).unwrap();
        let pieces: Vec<Bytes> = ctx.stream().try_collect().await.unwrap();
        assert!(pieces.len() > 3, "sent in pieces, not whole");
        assert!(pieces.iter().all(|p| p.len() <= CHUNK + 1024 * 10));
        let all: Vec<u8> = pieces.concat();
        let mut archive = tar::Archive::new(all.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["Dockerfile", "big.bin"]);
    }
}
