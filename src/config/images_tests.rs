//! `[images.NAME]`: which image each function runs, and every wrong entry
//! named with its line before anything is built.

use super::*;

const MONOREPO: &str = r#"[images.api]
context = "services/api"
repository = "orders-api"
target = "runtime"
[images.api.build-args]
PORT = "8080"

[images.worker]
context = "services/worker"
dockerfile = "docker/worker.Dockerfile"
repository = "orders-worker"

[functions.orders-api]
image = "api"
architecture = "arm64"

[functions.orders-api-edge]
image = "api"
architecture = "x86_64"

[functions.orders-worker]
image = "worker"
"#;

/// A repository with the file and its services on disk.
fn repo(text: &str) -> (tempfile::TempDir, ConfigFile) {
    let dir = tempfile::tempdir().unwrap();
    for d in ["services/api", "services/worker", "docker"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    std::fs::write(dir.path().join("services/api/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(
        dir.path().join("docker/worker.Dockerfile"),
        "FROM scratch\n",
    )
    .unwrap();
    let path = dir.path().join("lambda-ship.toml");
    std::fs::write(&path, text).unwrap();
    let file = super::super::function::read_file(Some(&path), dir.path()).unwrap();
    (dir, file)
}

fn error(text: &str) -> String {
    let (_dir, file) = repo(text);
    image_sources(&file, &[]).unwrap_err().to_string()
}

#[test]
fn each_image_is_found_on_disk_with_the_architectures_of_its_functions() {
    let (dir, file) = repo(MONOREPO);
    let sources = image_sources(&file, &[]).unwrap();
    assert_eq!(sources.len(), 2);
    let api = &sources[0];
    assert_eq!(api.name, "api");
    assert_eq!(api.context, dir.path().join("services/api"));
    assert_eq!(api.dockerfile, dir.path().join("services/api/Dockerfile"));
    assert_eq!(api.repository, "orders-api");
    assert_eq!(api.target.as_deref(), Some("runtime"));
    assert_eq!(api.build_args["PORT"], "8080");
    assert_eq!(api.platforms, Some(vec![Platform::Amd64, Platform::Arm64]));
    let worker = &sources[1];
    assert_eq!(
        worker.dockerfile,
        dir.path().join("docker/worker.Dockerfile")
    );
    // Its function's architecture is Lambda's to say: every platform may be asked.
    assert_eq!(worker.platforms, None);
}

#[test]
fn picked_functions_bring_only_the_images_they_run() {
    let (_dir, file) = repo(MONOREPO);
    let sources = image_sources(&file, &["orders-worker"]).unwrap();
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["worker"]);
}

#[test]
fn a_file_without_images_is_the_flags_one_image() {
    let (_dir, file) = repo("[functions.fn]\nmemory = 256\n");
    assert!(image_sources(&file, &[]).unwrap().is_empty());
}

#[test]
fn a_function_naming_an_unknown_image_is_named_with_its_line() {
    let text = MONOREPO.replace("image = \"worker\"", "image = \"wrker\"");
    let e = error(&text);
    assert!(
        e.contains("lambda-ship.toml line 21: [functions.orders-worker]"),
        "{e}"
    );
    assert!(e.contains("'wrker'") && e.contains("api, worker"), "{e}");
}

#[test]
fn a_function_naming_an_image_in_a_file_without_images_is_named() {
    let e = error("[functions.fn]\nimage = \"api\"\n");
    assert!(
        e.contains("line 1: [functions.fn] names the image 'api'"),
        "{e}"
    );
    assert!(e.contains("no [images.NAME] table"), "{e}");
}

#[test]
fn a_function_without_an_image_is_named() {
    let text = MONOREPO.replace("image = \"worker\"\n", "memory = 256\n");
    let e = error(&text);
    assert!(
        e.contains("[functions.orders-worker] names no image"),
        "{e}"
    );
}

#[test]
fn an_image_no_function_runs_is_named_with_its_line() {
    let text =
        format!("{MONOREPO}\n[images.cron]\ncontext = \"services/api\"\nrepository = \"cron\"\n");
    let e = error(&text);
    assert!(
        e.contains("line 24: [images.cron] no function runs it"),
        "{e}"
    );
}

#[test]
fn two_images_with_one_repository_are_refused() {
    let text = MONOREPO.replace(
        "repository = \"orders-worker\"",
        "repository = \"orders-api\"",
    );
    let e = error(&text);
    assert!(
        e.contains("line 8: [images.worker] pushes to the repository orders-api"),
        "{e}"
    );
    assert!(e.contains("[images.api]"), "{e}");
}

#[test]
fn a_context_that_does_not_exist_is_named() {
    let text = MONOREPO.replace(
        "context = \"services/worker\"",
        "context = \"services/wrker\"",
    );
    let e = error(&text);
    assert!(
        e.contains("[images.worker] its context 'services/wrker'"),
        "{e}"
    );
}

#[test]
fn a_missing_dockerfile_repository_or_bad_target_is_named() {
    let e = error(&MONOREPO.replace("docker/worker.Dockerfile", "docker/none"));
    assert!(
        e.contains("[images.worker] has no Dockerfile at 'docker/none'"),
        "{e}"
    );
    let e = error(&MONOREPO.replace("repository = \"orders-worker\"\n", ""));
    assert!(e.contains("[images.worker] has no repository"), "{e}");
    let e = error(&MONOREPO.replace("\"runtime\"", "\"run time\""));
    assert!(e.contains("[images.api] its target 'run time'"), "{e}");
    let e = error(&MONOREPO.replace("\"orders-api\"", "\"Orders API\""));
    assert!(e.contains("[images.api]"), "{e}");
}

#[test]
fn a_picked_function_outside_the_file_is_refused() {
    let (_dir, file) = repo(MONOREPO);
    let e = image_sources(&file, &["other"]).unwrap_err().to_string();
    assert!(
        e.contains("[functions.other] has no table in the file"),
        "{e}"
    );
}

#[test]
fn an_unknown_key_in_an_image_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lambda-ship.toml");
    std::fs::write(&path, MONOREPO.replace("target = ", "tagret = ")).unwrap();
    let e = super::super::function::read_file(Some(&path), dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 4") && e.contains("tagret"), "{e}");
}

#[test]
fn housekeeping_and_policy_take_the_repositories_of_the_images_their_functions_run() {
    let (_dir, file) = repo(MONOREPO);
    let (repositories, names) = repository_and_names(None, &[], file).unwrap();
    let repositories: Vec<String> = repositories.iter().map(ToString::to_string).collect();
    assert_eq!(repositories, ["orders-api", "orders-worker"]);
    assert_eq!(names.len(), 3);
    let (_dir, file) = repo(MONOREPO);
    let picked = ["orders-worker".to_string()];
    let (repositories, _) = repository_and_names(None, &picked, file).unwrap();
    assert_eq!(repositories[0].to_string(), "orders-worker");
    assert_eq!(repositories.len(), 1);
    let (_dir, file) = repo(MONOREPO);
    let e = repository_and_names(Some("orders".into()), &[], file)
        .unwrap_err()
        .to_string();
    assert!(e.contains("drop --repository"), "{e}");
}
