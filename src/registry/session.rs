//! One registry session: the registry the images go to and the ECR token for
//! it, renewed when a push finds it expired. The push, the read-back and the
//! reuse checks all take the credentials from here, so that none of them
//! keeps a copy that a renewal has made stale.

use super::RegistryCredentials;
use super::ecr::{Ecr, EcrError};
use super::manifest::RegistryReader;
use tokio::sync::Mutex;

pub struct RegistrySession<'a> {
    ecr: &'a Ecr,
    registry: String,
    credentials: Mutex<RegistryCredentials>,
    /// One client for every read, its connections kept: made anew only when
    /// the token is renewed (a client reads the system's certificates).
    reader: Mutex<Option<RegistryReader>>,
}

impl<'a> RegistrySession<'a> {
    pub fn new(ecr: &'a Ecr, registry: String, credentials: RegistryCredentials) -> Self {
        RegistrySession {
            ecr,
            registry,
            credentials: Mutex::new(credentials),
            reader: Mutex::new(None),
        }
    }

    /// `HOST[:PORT]` of the registry.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The credentials as they are now.
    pub async fn credentials(&self) -> RegistryCredentials {
        self.credentials.lock().await.clone()
    }

    /// A fresh token from ECR, which every later call uses.
    pub async fn renew(&self) -> Result<RegistryCredentials, EcrError> {
        let fresh = self.ecr.credentials().await?;
        *self.credentials.lock().await = fresh.clone();
        *self.reader.lock().await = None;
        Ok(fresh)
    }

    /// A reader of the registry with the current credentials.
    pub async fn reader(&self) -> RegistryReader {
        let mut reader = self.reader.lock().await;
        if let Some(r) = reader.as_ref() {
            return r.clone();
        }
        let fresh = RegistryReader::new(&self.registry, &self.credentials().await);
        *reader = Some(fresh.clone());
        fresh
    }
}
