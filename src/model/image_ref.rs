//! A reference to an image in a registry, as a plain value.

use std::fmt;

/// Where an image goes: `registry/repository:tag`, or an image by digest,
/// `registry/repository@sha256:...` (its `tag` is then the digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl ImageRef {
    /// `registry/repository`, the name the engine pushes.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether this names an image by digest rather than by tag.
    pub fn is_digest(&self) -> bool {
        self.tag.starts_with("sha256:")
    }

    /// The same image, by digest.
    pub fn at(&self, digest: &str) -> ImageRef {
        ImageRef {
            tag: digest.to_string(),
            ..self.clone()
        }
    }

    /// Reads `HOST[:PORT]/REPO[:TAG|@DIGEST]`; the registry host must be
    /// given (a first part with a dot or a port, or `localhost`).
    pub fn parse(text: &str) -> Option<ImageRef> {
        let (registry, rest) = text.split_once('/')?;
        let is_host = registry.contains('.') || registry.contains(':') || registry == "localhost";
        if !is_host || rest.is_empty() {
            return None;
        }
        let (repository, tag) = match rest.split_once('@') {
            Some((repo, digest)) => (repo, digest),
            None => match rest.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, tag),
                _ => (rest, "latest"),
            },
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c))
        };
        (valid(repository) && valid(tag) && !repository.contains(':')).then(|| ImageRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.to_string(),
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.is_digest() { '@' } else { ':' };
        write!(f, "{}/{}{sep}{}", self.registry, self.repository, self.tag)
    }
}
