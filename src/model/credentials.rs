//! Credentials as plain values: the run's own session, and those a local
//! run may give a function.

use std::fmt;

/// Temporary credentials of an assumed role: the run's own, or those a local
/// run gives the function. Its `Debug` names the key id only, never a secret.
#[derive(Clone)]
pub struct AssumedRole {
    pub access_key_id: String,
    pub secret_access_key: secrecy::SecretString,
    pub session_token: secrecy::SecretString,
    pub expiration: Option<std::time::SystemTime>,
}

impl fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumedRole")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Two sets of credentials are the same when their key ids are.
impl PartialEq for AssumedRole {
    fn eq(&self, other: &Self) -> bool {
        self.access_key_id == other.access_key_id
    }
}

impl Eq for AssumedRole {}

/// Which credentials a deploy's local run gives the function
/// (`--local-credentials`); none by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LocalCredentials {
    /// A short session of the function's execution role (`sts:AssumeRole`).
    ExecutionRole,
}
