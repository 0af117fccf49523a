//! The traffic of a rollout: each release's Lambda alias, split by weight
//! (`RoutingConfig.AdditionalVersionWeights`), promoted with what it served
//! recorded in its description, or restored with no weights and the new
//! version recorded as rolled back. Every alias of the run moves at once.

use super::{Release, Traffic};
use crate::lambda::Lambda;
use futures_util::future::join_all;

pub struct AliasTraffic<'a> {
    pub lambda: &'a Lambda,
    pub releases: &'a [Release],
}

/// The failures of the aliases that did not move, or Ok when all did.
fn all(results: Vec<Result<(), String>>, releases: &[Release]) -> Result<(), String> {
    let failed: Vec<String> = results
        .into_iter()
        .zip(releases)
        .filter_map(|(r, rel)| r.err().map(|e| format!("{}: {e}", rel.function)))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

impl Traffic for AliasTraffic<'_> {
    async fn route(&self, percent: u8) -> Result<(), String> {
        let moves = self.releases.iter().map(|r| async move {
            self.lambda
                .route(&r.function, &r.alias, &r.from, &r.to, percent)
                .await
                .map_err(|e| e.to_string())
        });
        all(join_all(moves).await, self.releases)
    }

    async fn promote(&self) -> Result<(), String> {
        let moves = self.releases.iter().map(|r| async move {
            let served = self
                .lambda
                .alias_state(&r.function, &r.alias)
                .await
                .map_err(|e| e.to_string())?
                .map(|a| a.served())
                .unwrap_or_default()
                .moved_from(&r.from);
            self.lambda
                .settle(&r.function, &r.alias, &r.to, Some(&served))
                .await
                .map_err(|e| e.to_string())
        });
        all(join_all(moves).await, self.releases)
    }

    async fn restore(&self) -> Result<Vec<String>, String> {
        let moves = self.releases.iter().map(|r| async move {
            // The alias first: the record of the rollback can wait, users cannot.
            self.lambda
                .settle(&r.function, &r.alias, &r.from, None)
                .await
                .map_err(|e| e.to_string())?;
            Ok(self
                .lambda
                .mark_rolled_back(&r.function, &r.to)
                .await
                .err()
                .map(|e| {
                    format!(
                        "{}: back on {}, but version {} is not recorded as rolled back: {e}",
                        r.function, r.from, r.to
                    )
                }))
        });
        let results: Vec<Result<Option<String>, String>> = join_all(moves).await;
        let notes = results
            .iter()
            .filter_map(|r| r.as_ref().ok().cloned().flatten())
            .collect();
        all(
            results.into_iter().map(|r| r.map(|_| ())).collect(),
            self.releases,
        )?;
        Ok(notes)
    }
}
