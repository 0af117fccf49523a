//! Everything that reaches an image, as one digest: the build context as the
//! engine receives it (after `.dockerignore`, names, modes and contents,
//! never times or owners), the Dockerfile's path in it, the build arguments,
//! the target, the platform and the labels other than the commit's. Two
//! builds with the same digest make the same image but for its revision
//! label, so an image of an earlier commit with this digest is reused
//! instead of built again.

use super::BuildSpec;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// The label that carries an image's inputs digest.
pub const INPUTS_LABEL: &str = "dev.lambda-ship.inputs";
/// The label that differs on every commit, and is left out of the digest.
pub const REVISION_LABEL: &str = "org.opencontainers.image.revision";
/// The earlier images (digests, comma-separated) whose cache a build
/// imported: left out of the digest too.
pub const CACHE_SOURCES_LABEL: &str = "dev.lambda-ship.cache-sources";

/// The inputs digest of `spec`, `sha256:<hex>`. Reads the whole context.
pub fn digest(spec: &BuildSpec) -> io::Result<String> {
    let mut hash = HashWriter(Sha256::new());
    // A new version of this scheme gives every image a new digest.
    writeln!(hash, "lambda-ship inputs v1")?;
    writeln!(hash, "platform {}", spec.platform.docker())?;
    writeln!(hash, "target {:?}", spec.target)?;
    writeln!(hash, "dockerfile {:?}", spec.context.dockerfile_in_tar())?;
    for (k, v) in &spec.build_args {
        writeln!(hash, "arg {k:?}={v:?}")?;
    }
    for (k, v) in spec
        .labels
        .iter()
        .filter(|(k, _)| ![REVISION_LABEL, INPUTS_LABEL, CACHE_SOURCES_LABEL].contains(&k.as_str()))
    {
        writeln!(hash, "label {k:?}={v:?}")?;
    }
    spec.context.write_tar(&mut hash)?;
    Ok(format!("sha256:{:x}", hash.0.finalize()))
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.update(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::context::BuildContext;
    use crate::model::Platform;
    use std::collections::BTreeMap;

    fn spec(dir: &std::path::Path) -> BuildSpec {
        let root = dir.canonicalize().unwrap();
        BuildSpec {
            platform: Platform::Amd64,
            context: BuildContext::new(&root, &root.join("Dockerfile")).unwrap(),
            build_args: BTreeMap::new(),
            target: None,
            labels: BTreeMap::from([(REVISION_LABEL.to_string(), "a".repeat(40))]),
            tag: "t".into(),
            cache_from: Vec::new(),
            registry_auth: None,
        }
    }

    #[test]
    fn the_digest_follows_what_reaches_the_image_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nCOPY app /\n").unwrap();
        std::fs::write(dir.path().join("app"), "v1").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "docs\n").unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/README"), "one").unwrap();
        let first = digest(&spec(dir.path())).unwrap();

        // Another commit, a file outside the context, another mtime: the same.
        let mut other = spec(dir.path());
        other.labels.insert(REVISION_LABEL.into(), "b".repeat(40));
        std::fs::write(dir.path().join("docs/README"), "two").unwrap();
        let app = std::fs::File::options()
            .write(true)
            .open(dir.path().join("app"))
            .unwrap();
        app.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(digest(&other).unwrap(), first);

        // The platform, a build argument, the target, a file in the context: another.
        let mut arm = spec(dir.path());
        arm.platform = Platform::Arm64;
        let mut arg = spec(dir.path());
        arg.build_args.insert("MODE".into(), "prod".into());
        let mut target = spec(dir.path());
        target.target = Some("final".into());
        for changed in [arm, arg, target] {
            assert_ne!(digest(&changed).unwrap(), first);
        }
        std::fs::write(dir.path().join("app"), "v2").unwrap();
        assert_ne!(digest(&spec(dir.path())).unwrap(), first);
    }
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod inputs_tests;
