//! The inputs digest beyond the common case: which labels, which file
//! modes, which Dockerfile, and `.dockerignore` itself.

use super::*;
use crate::farm::context::BuildContext;
use crate::model::Platform;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn spec(root: &Path, dockerfile: &str) -> BuildSpec {
    let root = root.canonicalize().unwrap();
    BuildSpec {
        platform: Platform::Arm64,
        context: BuildContext::new(&root, &root.join(dockerfile)).unwrap(),
        build_args: BTreeMap::new(),
        target: None,
        labels: BTreeMap::new(),
        tag: "t".into(),
        cache_from: Vec::new(),
        registry_auth: None,
    }
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nCOPY app /\n").unwrap();
    std::fs::write(dir.path().join("app"), "v1").unwrap();
    dir
}

#[test]
fn a_label_is_an_input_but_the_run_s_own_labels_are_not() {
    let dir = tree();
    let first = digest(&spec(dir.path(), "Dockerfile")).unwrap();
    let mut ours = spec(dir.path(), "Dockerfile");
    ours.labels.insert(INPUTS_LABEL.into(), "sha256:x".into());
    ours.labels
        .insert(CACHE_SOURCES_LABEL.into(), "sha256:a,sha256:b".into());
    ours.labels.insert(REVISION_LABEL.into(), "c".repeat(40));
    ours.tag = "another-tag".into();
    ours.cache_from = vec!["x/fn@sha256:a".into()];
    assert_eq!(
        digest(&ours).unwrap(),
        first,
        "nothing that reaches the image"
    );
    let mut team = spec(dir.path(), "Dockerfile");
    team.labels.insert("team".into(), "orders".into());
    assert_ne!(digest(&team).unwrap(), first);
}

#[test]
fn only_the_executable_bit_of_a_file_mode_is_an_input() {
    let dir = tree();
    let app = dir.path().join("app");
    let first = digest(&spec(dir.path(), "Dockerfile")).unwrap();
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(digest(&spec(dir.path(), "Dockerfile")).unwrap(), first);
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_ne!(digest(&spec(dir.path(), "Dockerfile")).unwrap(), first);
}

#[test]
fn the_dockerfile_named_and_the_names_of_files_are_inputs() {
    let dir = tree();
    std::fs::write(
        dir.path().join("Dockerfile.prod"),
        "FROM scratch\nCOPY app /\n",
    )
    .unwrap();
    let first = digest(&spec(dir.path(), "Dockerfile")).unwrap();
    let prod = digest(&spec(dir.path(), "Dockerfile.prod")).unwrap();
    assert_ne!(
        prod, first,
        "the same text under another name builds another way"
    );
    std::fs::rename(dir.path().join("app"), dir.path().join("app2")).unwrap();
    assert_ne!(digest(&spec(dir.path(), "Dockerfile")).unwrap(), first);
}

#[test]
fn a_dockerignore_change_is_an_input_though_what_it_leaves_out_is_not() {
    let dir = tree();
    std::fs::write(dir.path().join(".dockerignore"), "notes\n").unwrap();
    std::fs::write(dir.path().join("notes"), "one").unwrap();
    let first = digest(&spec(dir.path(), "Dockerfile")).unwrap();
    std::fs::write(dir.path().join("notes"), "two").unwrap();
    assert_eq!(digest(&spec(dir.path(), "Dockerfile")).unwrap(), first);
    std::fs::write(dir.path().join(".dockerignore"), "notes\n# why\n").unwrap();
    assert_ne!(
        digest(&spec(dir.path(), "Dockerfile")).unwrap(),
        first,
        ".dockerignore is always sent"
    );
}
