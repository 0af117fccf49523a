//! Prune's plan: which tags are lambda-ship's, what is kept and why, and in
//! what order it is said.

use super::*;

fn sha(n: u8) -> String {
    format!("{n:x}").repeat(40)
}

fn image(n: i128, tags: &[String]) -> StoredImage {
    StoredImage {
        digest: format!("sha256:{n:064}"),
        tags: tags.to_vec(),
        time: n,
    }
}

fn decision(plan: &[PruneDecision], n: i128) -> &PruneDecision {
    plan.iter()
        .find(|d| d.digest == format!("sha256:{n:064}"))
        .unwrap()
}

#[test]
fn commit_tags_are_read_with_their_architecture_and_whether_they_are_the_image() {
    let a = sha(10);
    assert_eq!(
        commit_tag(&format!("{a}-x86_64")),
        Some((a.clone(), "x86_64", true))
    );
    assert_eq!(
        commit_tag(&format!("{a}-arm64-cache-builder")),
        Some((a.clone(), "arm64", false))
    );
    assert_eq!(
        commit_tag(&format!("{a}-x86_64-staging-1a2b3c4d")),
        Some((a.clone(), "x86_64", false))
    );
    assert_eq!(
        commit_tag(&format!("{a}-dirty-0123456789ab-arm64")),
        Some((format!("{a}-dirty-0123456789ab"), "arm64", true)),
        "a dirty image is a commit of its own"
    );
    for other in [
        "latest".to_string(),
        format!("{}-x86_64", &a[..39]),
        format!("{}-x86_64", "g".repeat(40)),
        format!("{a}-amd64"),
        format!("{a}-x86_64x"),
        format!("{a}x86_64"),
        a.clone(),
    ] {
        assert_eq!(commit_tag(&other), None, "{other}");
    }
}

#[test]
fn the_staging_and_cache_tags_of_a_kept_commit_stay_with_it() {
    let (old, new) = (sha(1), sha(2));
    let images = vec![
        image(1, &[format!("{old}-x86_64")]),
        image(2, &[format!("{old}-x86_64-staging-1a2b3c4d")]),
        image(5, &[format!("{new}-x86_64")]),
        image(6, &[format!("{new}-x86_64-staging-5e6f7a8b")]),
        image(4, &[format!("{new}-x86_64-cache-deps")]),
    ];
    let plan = prune_plan(&images, &BTreeMap::new(), 1);
    assert!(decision(&plan, 5).keep);
    assert_eq!(decision(&plan, 5).why, "among the newest 1 of x86_64");
    for n in [6, 4] {
        assert!(decision(&plan, n).keep, "{n}");
        assert_eq!(decision(&plan, n).why, "belongs to a kept image of x86_64");
    }
    for n in [1, 2] {
        assert!(!decision(&plan, n).keep, "{n}");
    }
}

#[test]
fn the_newest_n_are_counted_for_each_architecture_apart() {
    let images: Vec<StoredImage> = (1..=3)
        .flat_map(|c| {
            [
                image(i128::from(c) * 10, &[format!("{}-x86_64", sha(c))]),
                image(i128::from(c) * 10 + 1, &[format!("{}-arm64", sha(c))]),
            ]
        })
        .collect();
    let plan = prune_plan(&images, &BTreeMap::new(), 2);
    let kept: Vec<i128> = [10, 11, 20, 21, 30, 31]
        .into_iter()
        .filter(|n| decision(&plan, *n).keep)
        .collect();
    assert_eq!(kept, [20, 21, 30, 31], "the oldest commit of each goes");
}

#[test]
fn an_image_retagged_for_a_later_commit_is_kept_by_either_tag() {
    // Nothing that reaches the image changed: one digest, two commits.
    let (a, b, c) = (sha(1), sha(2), sha(3));
    let images = vec![
        image(9, &[format!("{a}-x86_64"), format!("{b}-x86_64")]),
        image(3, &[format!("{c}-x86_64")]),
    ];
    let plan = prune_plan(&images, &BTreeMap::new(), 1);
    assert!(decision(&plan, 9).keep);
    assert!(!decision(&plan, 3).keep);
}

#[test]
fn what_runs_an_image_is_said_before_any_other_reason() {
    let a = sha(1);
    let images = vec![
        image(1, &[format!("{a}-x86_64"), "release-1".to_string()]),
        image(2, &["nightly".to_string()]),
    ];
    let used = BTreeMap::from([(
        images[0].digest.clone(),
        vec!["orders".to_string(), "orders:live".to_string()],
    )]);
    let plan = prune_plan(&images, &used, 0);
    assert_eq!(decision(&plan, 1).why, "in use by orders, orders:live");
    assert_eq!(decision(&plan, 2).why, "not a lambda-ship image");
    assert!(plan.iter().all(|d| d.keep));
}

#[test]
fn the_plan_is_said_newest_first_and_ties_by_digest() {
    let a = sha(1);
    let images = vec![
        image(1, &[format!("{a}-arm64")]),
        StoredImage {
            time: 5,
            ..image(3, &["x".to_string()])
        },
        StoredImage {
            time: 5,
            ..image(2, &["y".to_string()])
        },
    ];
    let order: Vec<String> = prune_plan(&images, &BTreeMap::new(), 0)
        .into_iter()
        .map(|d| d.tags[0].clone())
        .collect();
    assert_eq!(order, ["y", "x", &format!("{a}-arm64")]);
}

#[test]
fn signatures_are_never_images_and_go_with_theirs() {
    let sha = "a".repeat(40);
    let (gone, kept) = (
        format!("sha256:{}", "1".repeat(64)),
        format!("sha256:{}", "2".repeat(64)),
    );
    let image = |digest: &str, time: i128, tags: Vec<String>| StoredImage {
        digest: digest.to_string(),
        tags,
        time,
    };
    let images = vec![
        image(&gone, 1, vec![format!("{}-x86_64", "b".repeat(40))]),
        image(&kept, 2, vec![format!("{sha}-x86_64")]),
        image("sha256:s1", 3, vec![artefact_tag(&gone, "sig")]),
        image("sha256:a1", 3, vec![artefact_tag(&gone, "att")]),
        image("sha256:s2", 3, vec![artefact_tag(&kept, "sig")]),
    ];
    let plan = prune_plan(&images, &BTreeMap::new(), 1);
    assert_eq!(plan.len(), 2, "only the images are counted: {plan:?}");
    let of = |d: &str| plan.iter().find(|p| p.digest == d).unwrap();
    assert!(!of(&gone).keep);
    assert_eq!(
        of(&gone).artefacts,
        [artefact_tag(&gone, "sig"), artefact_tag(&gone, "att")]
    );
    assert!(of(&kept).keep);
    assert_eq!(of(&kept).artefacts, [artefact_tag(&kept, "sig")]);
}
