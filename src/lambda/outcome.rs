//! What became of one function, stored once as a value: every place that
//! says it (progress, the text report, the comment, the JSON) reads this
//! one enum and its one wording, so they cannot contradict each other.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// What became of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Updated, live, and everything after held.
    Deployed,
    /// It already ran this image: not updated, and everything after held.
    Unchanged,
    /// Updated to the new image, then a later step failed.
    UpdatedThenFailed(String),
    /// Never updated: it still runs its previous image.
    NotUpdated(String),
}

impl Outcome {
    /// The same function after a step failed with `why`: a function already
    /// updated stays updated; any other was not.
    pub fn failed(&self, why: String) -> Outcome {
        match self {
            Outcome::Deployed | Outcome::UpdatedThenFailed(_) => Outcome::UpdatedThenFailed(why),
            Outcome::Unchanged | Outcome::NotUpdated(_) => Outcome::NotUpdated(why),
        }
    }

    /// It runs what the run asked, and everything after held.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Deployed | Outcome::Unchanged)
    }

    /// Its code was changed to the new image.
    pub fn updated(&self) -> bool {
        matches!(self, Outcome::Deployed | Outcome::UpdatedThenFailed(_))
    }

    /// Why it failed, when it did.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::UpdatedThenFailed(e) | Outcome::NotUpdated(e) => Some(e),
            Outcome::Deployed | Outcome::Unchanged => None,
        }
    }

    /// The short word for it, as a table cell or a heading says it.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Deployed => "deployed",
            Outcome::Unchanged => "unchanged",
            Outcome::UpdatedThenFailed(_) => "updated, then failed",
            Outcome::NotUpdated(_) => "not updated",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Deployed => f.write_str("deployed"),
            Outcome::Unchanged => f.write_str("unchanged: it already runs this image"),
            Outcome::UpdatedThenFailed(e) | Outcome::NotUpdated(e) => {
                write!(f, "{}: {e}", self.label())
            }
        }
    }
}

/// In the JSON report, beside the function's other fields: `outcome` (its
/// label), and `updated`, `unchanged` and `error` derived from it.
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("outcome", self.label())?;
        map.serialize_entry("updated", &self.updated())?;
        map.serialize_entry("unchanged", &(*self == Outcome::Unchanged))?;
        map.serialize_entry("error", &self.error())?;
        map.end()
    }
}

/// Which functions were updated and which were not, one line each.
pub fn deploy_failure(functions: &[super::FunctionReport]) -> String {
    let mut lines = vec!["the deploy did not complete:".to_string()];
    for f in functions {
        let line = match &f.outcome {
            Outcome::Deployed => format!(
                "  {} ({}): updated to {}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            Outcome::Unchanged => format!(
                "  {} ({}): unchanged, it already runs {}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            Outcome::UpdatedThenFailed(e) => format!(
                "  {} ({}): updated to {}, but {e}",
                f.name,
                f.architecture,
                f.image_after.as_deref().unwrap_or("?")
            ),
            Outcome::NotUpdated(e) => format!(
                "  {} ({}): NOT updated, still on {}: {e}",
                f.name,
                f.architecture,
                f.image_before.as_deref().unwrap_or("its previous image")
            ),
        };
        lines.push(line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_after_the_update_keeps_it_updated() {
        let e = || "smoke test failed".to_string();
        assert_eq!(
            Outcome::Deployed.failed(e()),
            Outcome::UpdatedThenFailed(e())
        );
        assert_eq!(Outcome::Unchanged.failed(e()), Outcome::NotUpdated(e()));
        assert_eq!(
            Outcome::NotUpdated("stopped".into()).failed(e()),
            Outcome::NotUpdated(e())
        );
        assert!(Outcome::Unchanged.is_success() && !Outcome::NotUpdated(e()).is_success());
    }

    #[test]
    fn one_wording_and_one_json_shape() {
        let failed = Outcome::UpdatedThenFailed("the alias did not move".into());
        assert_eq!(
            failed.to_string(),
            "updated, then failed: the alias did not move"
        );
        assert_eq!(
            Outcome::Unchanged.to_string(),
            "unchanged: it already runs this image"
        );
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            serde_json::json!({"outcome": "updated, then failed", "updated": true,
                               "unchanged": false, "error": "the alias did not move"})
        );
        assert_eq!(
            serde_json::to_value(Outcome::Unchanged).unwrap(),
            serde_json::json!({"outcome": "unchanged", "updated": false,
                               "unchanged": true, "error": null})
        );
    }
}
