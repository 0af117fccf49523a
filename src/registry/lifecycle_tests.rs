//! The untagged-expiry rule merged into a repository's lifecycle policy:
//! where its priority goes, when nothing changes, and what is refused.

use super::*;

fn rules(policy: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(policy).unwrap()["rules"]
        .as_array()
        .unwrap()
        .clone()
}

fn rule(priority: u64, description: &str, tag_status: &str) -> Value {
    json!({
        "rulePriority": priority,
        "description": description,
        "selection": {"tagStatus": tag_status, "countType": "imageCountMoreThan", "countNumber": 5},
        "action": {"type": "expire"},
    })
}

fn policy(rules: &[Value]) -> String {
    json!({ "rules": rules }).to_string()
}

#[test]
fn our_rule_takes_the_lowest_free_priority() {
    let merged = merge_untagged_rule(
        Some(&policy(&[rule(1, "a", "tagged"), rule(3, "b", "tagged")])),
        7,
    )
    .unwrap()
    .unwrap();
    let r = rules(&merged);
    assert_eq!(r[1]["description"], RULE_DESCRIPTION);
    assert_eq!(r[1]["rulePriority"], 2);
    let ps: Vec<u64> = r
        .iter()
        .map(|r| r["rulePriority"].as_u64().unwrap())
        .collect();
    assert_eq!(ps, [1, 2, 3], "sorted by priority");
}

#[test]
fn our_rule_keeps_its_priority_when_its_days_change() {
    let first = merge_untagged_rule(Some(&policy(&[rule(9, "a", "tagged")])), 7)
        .unwrap()
        .unwrap();
    let mut ours = rules(&first)
        .into_iter()
        .find(|r| r["description"] == RULE_DESCRIPTION)
        .unwrap();
    ours["rulePriority"] = json!(5);
    let moved = policy(&[rule(9, "a", "tagged"), ours]);
    assert_eq!(
        merge_untagged_rule(Some(&moved), 7).unwrap(),
        None,
        "the same rule at another priority is left as it is"
    );
    let changed = merge_untagged_rule(Some(&moved), 30).unwrap().unwrap();
    let ours = rules(&changed)
        .into_iter()
        .find(|r| r["description"] == RULE_DESCRIPTION)
        .unwrap();
    assert_eq!(
        (
            ours["rulePriority"].as_u64(),
            ours["selection"]["countNumber"].as_u64()
        ),
        (Some(5), Some(30))
    );
}

#[test]
fn our_rule_moves_below_an_any_rule_that_overtook_it() {
    let ours_at_5 = json!({
        "rulePriority": 5, "description": RULE_DESCRIPTION,
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                      "countUnit": "days", "countNumber": 1},
        "action": {"type": "expire"},
    });
    let existing = policy(&[rule(1, "a", "tagged"), rule(3, "cap", "any"), ours_at_5]);
    let merged = merge_untagged_rule(Some(&existing), 14).unwrap().unwrap();
    let r = rules(&merged);
    assert_eq!(r.len(), 3);
    assert_eq!(r[1]["description"], RULE_DESCRIPTION);
    assert_eq!(r[1]["rulePriority"], 2);
    assert_eq!(r[2]["description"], "cap", "the any rule stays last");
}

#[test]
fn no_room_below_an_any_rule_or_no_rules_list_is_refused() {
    let err = merge_untagged_rule(Some(&policy(&[rule(1, "cap", "any")])), 7).unwrap_err();
    assert!(err.contains("no rule priority below"), "{err}");
    for broken in [r#"{}"#, r#"{"rules":3}"#] {
        let err = merge_untagged_rule(Some(broken), 7).unwrap_err();
        assert!(err.contains("no rules list"), "{broken}: {err}");
    }
}

#[test]
fn a_new_policy_holds_only_our_rule_at_priority_one() {
    let r = rules(&merge_untagged_rule(None, 3).unwrap().unwrap());
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["rulePriority"], 1);
    assert_eq!(r[0]["selection"]["tagStatus"], "untagged");
    assert_eq!(r[0]["selection"]["countNumber"], 3);
}
