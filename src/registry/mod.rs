//! The registry side of a push: the ECR repository and its token
//! (`ecr.rs`), one session holding the current token (`session.rs`), the
//! read-back of what the registry holds (`manifest.rs`), and a second tag or
//! a removal for an image it holds (`tag.rs`).

pub mod artefacts;
pub mod ecr;
pub mod images;
pub mod lifecycle;
pub mod manifest;
pub mod scan;
pub mod session;
pub mod tag;

use secrecy::SecretString;
use std::fmt;

/// Lambda's limit on an image's uncompressed size.
pub const LAMBDA_MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024 * 1024;

pub use crate::model::ImageRef;

/// Basic credentials for a registry, as ECR issues them (user `AWS`).
#[derive(Clone)]
pub struct RegistryCredentials {
    pub username: String,
    pub password: SecretString,
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryCredentials({}, [redacted])", self.username)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{platform}: the image is {} uncompressed; Lambda accepts at most 10 GiB. Make it smaller \
     (a multi-stage build, fewer layers, .dockerignore) before pushing",
    crate::progress::human_bytes(*.size)
)]
pub struct TooLarge {
    pub platform: crate::model::Platform,
    pub size: u64,
}

/// Refuses an image Lambda would refuse, before it is pushed.
pub fn check_size(platform: crate::model::Platform, size: u64) -> Result<(), TooLarge> {
    if size > LAMBDA_MAX_IMAGE_BYTES {
        Err(TooLarge { platform, size })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    #[test]
    fn image_references_are_read_with_their_registry() {
        let r = ImageRef::parse("127.0.0.1:5000/team/fn:abc-x86_64").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_str()),
            ("127.0.0.1:5000", "team/fn", "abc-x86_64")
        );
        let d = ImageRef::parse("1.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:ab").unwrap();
        assert!(d.is_digest());
        assert_eq!(
            d.to_string(),
            "1.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:ab"
        );
        assert_eq!(ImageRef::parse("localhost/fn").unwrap().tag, "latest");
        for bad in ["fn:latest", "team/fn", "host.example/", "host.example/a b"] {
            assert!(ImageRef::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn images_over_10_gib_are_refused() {
        assert!(check_size(Platform::Arm64, LAMBDA_MAX_IMAGE_BYTES).is_ok());
        let err = check_size(Platform::Arm64, LAMBDA_MAX_IMAGE_BYTES + 1).unwrap_err();
        assert!(err.to_string().contains("at most 10 GiB"), "{err}");
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = RegistryCredentials {
            username: "AWS".into(),
            password: SecretString::from("hunter2-password"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
