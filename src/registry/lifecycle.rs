//! ECR housekeeping from the repository's own lifecycle policy: one rule
//! that expires untagged images (what a cancelled or overlapped push left)
//! after N days, merged into the policy the repository has: the user's
//! rules are kept as they are, ours is replaced, never duplicated.

use super::ecr::{Ecr, EcrError};
use serde_json::{Value, json};

/// The description that marks lambda-ship's rule.
pub const RULE_DESCRIPTION: &str = "lambda-ship: expire untagged images";

/// The policy with our rule for `days`, or None when it already has it.
pub fn merge_untagged_rule(existing: Option<&str>, days: u32) -> Result<Option<String>, String> {
    let mut policy: Value = match existing {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| format!("the repository's lifecycle policy is not JSON ({e})"))?,
        None => json!({ "rules": [] }),
    };
    let rules = policy["rules"]
        .as_array_mut()
        .ok_or("the repository's lifecycle policy has no rules list")?;
    let ours = |r: &Value| r["description"] == RULE_DESCRIPTION;
    let wanted = |priority: &Value| {
        json!({
            "rulePriority": priority,
            "description": RULE_DESCRIPTION,
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": days,
            },
            "action": { "type": "expire" },
        })
    };
    if let Some(rule) = rules.iter().find(|r| ours(r))
        && *rule == wanted(&rule["rulePriority"])
    {
        return Ok(None);
    }
    let previous = rules
        .iter()
        .find(|r| ours(r))
        .map(|r| r["rulePriority"].clone());
    rules.retain(|r| !ours(r));
    let taken: Vec<u64> = rules
        .iter()
        .filter_map(|r| r["rulePriority"].as_u64())
        .collect();
    // A tagStatus "any" rule must keep the highest priority number.
    let below = rules
        .iter()
        .filter(|r| r["selection"]["tagStatus"] == "any")
        .filter_map(|r| r["rulePriority"].as_u64())
        .min()
        .unwrap_or(u64::MAX);
    let priority = previous
        .and_then(|p| p.as_u64())
        .filter(|p| !taken.contains(p) && *p < below)
        .or_else(|| (1..below).find(|p| !taken.contains(p)))
        .ok_or("the lifecycle policy leaves no rule priority below its tagStatus any rule")?;
    rules.push(wanted(&json!(priority)));
    rules.sort_by_key(|r| r["rulePriority"].as_u64().unwrap_or(u64::MAX));
    Ok(Some(policy.to_string()))
}

impl Ecr {
    /// Puts the untagged-expiry rule into the repository's lifecycle
    /// policy; true when the policy changed.
    pub async fn expire_untagged(&self, repository: &str, days: u32) -> Result<bool, EcrError> {
        let existing = match self
            .client
            .get_lifecycle_policy()
            .repository_name(repository)
            .send()
            .await
        {
            Ok(out) => out.lifecycle_policy_text().map(str::to_string),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_lifecycle_policy_not_found_exception()) =>
            {
                None
            }
            Err(e) => {
                return Err(EcrError::Api {
                    operation: "GetLifecyclePolicy",
                    message: self.calls.describe(&e),
                });
            }
        };
        let merged =
            merge_untagged_rule(existing.as_deref(), days).map_err(|message| EcrError::Api {
                operation: "the lifecycle policy merge",
                message,
            })?;
        let Some(text) = merged else {
            return Ok(false);
        };
        self.client
            .put_lifecycle_policy()
            .repository_name(repository)
            .lifecycle_policy_text(text)
            .send()
            .await
            .map_err(|e| EcrError::Api {
                operation: "PutLifecyclePolicy",
                message: self.calls.describe(&e),
            })?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_joins_the_users_rules_once_and_below_an_any_rule() {
        let user = r#"{"rules":[
            {"rulePriority":1,"description":"keep releases","selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}},
            {"rulePriority":3,"description":"cap","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":500},"action":{"type":"expire"}}]}"#;
        let merged = merge_untagged_rule(Some(user), 7).unwrap().unwrap();
        let v: Value = serde_json::from_str(&merged).unwrap();
        let rules = v["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0]["description"], "keep releases");
        assert_eq!(rules[1]["description"], RULE_DESCRIPTION);
        assert_eq!(rules[1]["rulePriority"], 2);
        assert_eq!(rules[1]["selection"]["countNumber"], 7);
        assert_eq!(merge_untagged_rule(Some(&merged), 7).unwrap(), None, "once");
        let changed = merge_untagged_rule(Some(&merged), 14).unwrap().unwrap();
        let v: Value = serde_json::from_str(&changed).unwrap();
        assert_eq!(
            v["rules"].as_array().unwrap().len(),
            3,
            "replaced, not added"
        );
        assert!(merge_untagged_rule(None, 1).unwrap().is_some());
        assert!(merge_untagged_rule(Some("{"), 1).is_err());
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod lifecycle_tests;
