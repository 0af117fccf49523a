//! Many images in one run: a monorepo's `[images.NAME]`, each built only
//! for the architectures its functions run on, across a pool of engines,
//! and only what changed rebuilt and redeployed.

mod common;

use common::*;
use std::path::Path;

/// Three services (one for both architectures, one amd64-only, one
/// arm64-only) and five functions, each created in moto.
struct Monorepo {
    dir: tempfile::TempDir,
    /// `both`, `amd`, `arm`: each image's repository.
    repos: [(String, String); 3],
    /// Each function, its architecture and its image.
    functions: Vec<(String, &'static str, &'static str)>,
}

impl Monorepo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixture = fixture_copy();
        for service in ["both", "amd", "arm"] {
            let to = dir.path().join("services").join(service);
            copy_dir(fixture.path(), &to);
            // Each image of its own: never a layer another test's build cached.
            std::fs::write(
                to.join("function/service.txt"),
                format!("{service} {}\n", random_sha()),
            )
            .unwrap();
            let dockerfile = std::fs::read_to_string(to.join("Dockerfile")).unwrap();
            // Long enough that two builds of one platform overlap.
            let slow = dockerfile.replace("WORKDIR /var/task", "RUN sleep 3\nWORKDIR /var/task");
            std::fs::write(to.join("Dockerfile"), slow).unwrap();
        }
        let repos = ["both", "amd", "arm"].map(|s| (s.to_string(), unique(&format!("mono-{s}"))));
        let functions = vec![
            (unique("mono-both-x86"), "x86_64", "both"),
            (unique("mono-both-arm"), "arm64", "both"),
            (unique("mono-amd-1"), "x86_64", "amd"),
            (unique("mono-amd-2"), "x86_64", "amd"),
            (unique("mono-arm-1"), "arm64", "arm"),
        ];
        let mut toml = String::new();
        for (image, repo) in &repos {
            toml.push_str(&format!(
                "[images.{image}]\ncontext = \"services/{image}\"\nrepository = \"{repo}\"\n\n"
            ));
        }
        for (name, arch, image) in &functions {
            create_function(name, arch, false);
            toml.push_str(&format!(
                "[functions.{name}]\nimage = \"{image}\"\narchitecture = \"{arch}\"\n\n"
            ));
        }
        std::fs::write(dir.path().join("lambda-ship.toml"), toml).unwrap();
        Monorepo {
            dir,
            repos,
            functions,
        }
    }

    fn repo(&self, image: &str) -> &str {
        &self.repos.iter().find(|(i, _)| i == image).unwrap().1
    }

    /// `lambda-ship deploy` of every image and function of the file at `sha`.
    fn deploy(&self, sha: &str) -> assert_cmd::Command {
        let mut cmd = lambda_ship();
        cmd.args(["deploy", "--sha", sha, "--no-smoke", "--output", "json"])
            .arg("--context")
            .arg(self.dir.path());
        cmd
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walk(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn run_json(cmd: &mut assert_cmd::Command) -> (serde_json::Value, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    (
        serde_json::from_slice(&out.stdout).expect("a JSON report"),
        stderr,
    )
}

/// The report's image `name`, by architecture.
fn built<'a>(report: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    let all = report["images"].as_array().expect("images in the report");
    let image = all.iter().find(|b| b["image"] == name).expect(name);
    image["images"].as_array().unwrap().iter().collect()
}

fn function_state(name: &str) -> (String, String) {
    let f = aws(&["lambda", "get-function", "--function-name", name]);
    (
        f["Code"]["ImageUri"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        f["Configuration"]["LastModified"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[test]
fn one_run_ships_every_image_to_its_functions_and_a_change_redeploys_only_its_own() {
    let mono = Monorepo::new();
    let first = random_sha();
    let (report, stderr) = run_json(
        mono.deploy(&first)
            .arg(format!("--builder=linux/amd64=unix://{ENGINE_A}"))
            .arg(format!("--builder=linux/amd64=unix://{ENGINE_B}"))
            .arg(format!("--builder=linux/arm64=unix://{ENGINE_B}")),
    );

    // Each image for the architectures its functions run on, no other.
    let archs = |name: &str| -> Vec<String> {
        built(&report, name)
            .iter()
            .map(|i| i["architecture"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(archs("both"), ["x86_64", "arm64"], "{report}");
    assert_eq!(archs("amd"), ["x86_64"], "{report}");
    assert_eq!(archs("arm"), ["arm64"], "{report}");
    assert_eq!(tags(mono.repo("amd")), [format!("{first}-x86_64")]);
    assert_eq!(tags(mono.repo("arm")), [format!("{first}-arm64")]);

    // The two amd64 builds ran on the two amd64 engines of the pool.
    let mut amd64_engines: Vec<String> = ["both", "amd"]
        .iter()
        .flat_map(|n| built(&report, n))
        .filter(|i| i["architecture"] == "x86_64")
        .map(|i| i["engine"].as_str().unwrap_or_default().to_string())
        .collect();
    amd64_engines.sort();
    let mut pool = vec![format!("unix://{ENGINE_A}"), format!("unix://{ENGINE_B}")];
    pool.sort();
    assert_eq!(amd64_engines, pool, "{stderr}");

    // Each function runs its own image's digest.
    let digest_of = |name: &str, arch: &str| -> String {
        built(&report, name)
            .into_iter()
            .find(|i| i["architecture"] == arch)
            .unwrap()["deploy_uri"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (function, arch, image) in &mono.functions {
        let (uri, _) = function_state(function);
        assert_eq!(uri, digest_of(image, arch), "{function}");
    }

    // A commit that changes one service: only its image is built, only its
    // functions updated; the others are tagged with the same digests.
    let before: Vec<(String, String)> = mono
        .functions
        .iter()
        .map(|(f, _, _)| function_state(f))
        .collect();
    std::fs::write(
        mono.dir.path().join("services/amd/function/service.txt"),
        "amd changed\n",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = random_sha();
    let (again, stderr) = run_json(&mut mono.deploy(&second));
    for name in ["both", "arm"] {
        for image in built(&again, name) {
            assert!(
                image["unchanged_since"].is_string(),
                "{name}: {image}\n{stderr}"
            );
        }
    }
    let amd = built(&again, "amd");
    assert!(amd[0]["unchanged_since"].is_null() && !amd[0]["reused"].as_bool().unwrap());
    for (image, arch) in [("both", "x86_64"), ("both", "arm64"), ("arm", "arm64")] {
        let tag = |sha: &str| manifest_digest(mono.repo(image), &format!("{sha}-{arch}"));
        assert_eq!(tag(&second), tag(&first), "{image} {arch}");
    }
    let outcomes: Vec<(&str, &str)> = again["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["outcome"]["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for ((function, _, image), was) in mono.functions.iter().zip(&before) {
        let now = function_state(function);
        if *image == "amd" {
            assert_ne!(now.0, was.0, "{function} kept its image");
        } else {
            assert_eq!(&now, was, "{function} was updated: {outcomes:?}");
        }
    }
}

/// The tags of a repository, but for a run's staging tags (the registry
/// API of the test bed cannot remove a tag).
fn tags(repo: &str) -> Vec<String> {
    let mut tags: Vec<String> = registry_tags(repo)
        .into_iter()
        .filter(|t| !t.contains("-staging-"))
        .collect();
    tags.sort();
    tags
}

#[test]
fn each_native_runner_builds_every_image_of_its_architecture_and_one_job_deploys_them_all() {
    let mono = Monorepo::new();
    let sha = random_sha();
    for platform in ["linux/arm64", "linux/amd64"] {
        let (report, stderr) = run_json(
            lambda_ship()
                .args(["build", "--sha", &sha, "--output", "json"])
                .args(["--platforms", platform])
                .arg("--context")
                .arg(mono.dir.path()),
        );
        let mut names: Vec<&str> = report
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["image"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        let expected = if platform == "linux/arm64" {
            ["arm", "both"]
        } else {
            ["amd", "both"]
        };
        assert_eq!(names, expected, "{stderr}");
    }
    // The deploy job has no engine: everything is pushed already.
    let (report, stderr) = run_json(
        mono.deploy(&sha)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
    );
    for (function, arch, image) in &mono.functions {
        let reused = built(&report, image)
            .into_iter()
            .find(|i| i["architecture"] == *arch)
            .unwrap();
        assert!(reused["reused"].as_bool().unwrap(), "{stderr}");
        assert_eq!(
            function_state(function).0,
            reused["deploy_uri"],
            "{function}"
        );
    }
}

#[test]
fn every_bad_entry_exits_2_naming_it_before_anything_is_created() {
    let mono = Monorepo::new();
    let path = mono.dir.path().join("lambda-ship.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    let (_, both_repo) = &mono.repos[0];
    let (_, amd_repo) = &mono.repos[1];
    let cases = [
        (
            good.replace("image = \"arm\"", "image = \"armm\""),
            "names the image 'armm'",
        ),
        (
            format!("{good}[images.cron]\ncontext = \"services/amd\"\nrepository = \"cron\"\n"),
            "[images.cron] no function runs it",
        ),
        (
            good.replace(&format!("\"{amd_repo}\""), &format!("\"{both_repo}\"")),
            "pushes to the repository",
        ),
        (
            good.replace("services/arm", "services/none"),
            "its context 'services/none'",
        ),
    ];
    for (text, said) in cases {
        std::fs::write(&path, &text).unwrap();
        let stderr = fails_with(&mut mono.deploy(&random_sha()), 2);
        assert!(stderr.contains(said), "{said}: {stderr}");
        assert!(stderr.contains("lambda-ship.toml line "), "{stderr}");
    }
    let repositories = aws(&["ecr", "describe-repositories"]).to_string();
    for (_, repo) in &mono.repos {
        assert!(!repositories.contains(repo.as_str()), "{repo} was created");
        assert!(registry_tags(repo).is_empty(), "{repo} was pushed");
    }
    for (function, _, _) in &mono.functions {
        let (uri, _) = function_state(function);
        assert!(uri.ends_with("/previous:latest"), "{function}: {uri}");
    }
}

#[test]
fn previews_cleanup_and_prune_cover_every_image_of_the_file() {
    let mono = Monorepo::new();
    let base = random_sha();
    // Production, from the same repository's push run: the same labels.
    let (production, _) = run_json(
        mono.deploy(&base)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_REPOSITORY", "acme/widgets"),
    );
    let forge = common::forge::Forge::start();
    let events = tempfile::tempdir().unwrap();

    // A pull request that changes one service previews every function.
    std::fs::write(
        mono.dir.path().join("services/both/function/service.txt"),
        "both changed\n",
    )
    .unwrap();
    let head = random_sha();
    let mut cmd = mono.deploy(&head);
    cmd.arg("--preview");
    in_pull_request(
        &mut cmd,
        events.path(),
        (41, &head, Some(&base)),
        &forge.url,
    );
    let (preview, stderr) = run_json(&mut cmd);
    for (function, arch, image) in &mono.functions {
        let uri = built(&preview, image)
            .into_iter()
            .find(|i| i["architecture"] == *arch)
            .unwrap()["deploy_uri"]
            .clone();
        let (runs, _) = function_state(&format!("{function}-pr41"));
        assert_eq!(runs, uri, "{function}-pr41\n{stderr}");
    }
    let comment = forge.comments("acme/widgets#41").join("\n");
    assert!(comment.contains("| Name |"), "{comment}");
    for (image, _) in &mono.repos {
        assert!(comment.contains(&format!("| `{image}` |")), "{comment}");
    }

    // Only the changed service was built; the others' previews run
    // production's images.
    for image in ["amd", "arm"] {
        for i in built(&preview, image) {
            assert!(i["unchanged_since"].is_string(), "{image}: {i}\n{stderr}");
        }
    }

    // Cleanup removes every preview, and the one image only they ran, from
    // its own repository; what production runs stays.
    let mut cmd = lambda_ship();
    cmd.args(["cleanup", "--output", "json"])
        .arg("--context")
        .arg(mono.dir.path());
    in_pull_request(
        &mut cmd,
        events.path(),
        (41, &head, Some(&base)),
        &forge.url,
    );
    let (cleaned, stderr) = run_json(&mut cmd);
    let removed = cleaned["previews"].as_array().unwrap();
    assert_eq!(removed.len(), 5, "{cleaned}");
    assert!(removed.iter().all(|p| p["removed"] == true), "{cleaned}");
    let changed: Vec<String> = built(&preview, "both")
        .iter()
        .map(|i| i["digest"].as_str().unwrap().to_string())
        .collect();
    let mut deleted: Vec<String> = cleaned["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    let mut expected = changed.clone();
    expected.sort();
    assert_eq!(deleted, expected, "{cleaned}\n{stderr}");
    let kept = cleaned["kept"].to_string();
    for image in ["amd", "arm"] {
        for i in built(&production, image) {
            assert!(kept.contains(i["digest"].as_str().unwrap()), "{cleaned}");
        }
    }

    // Prune reads every image's repository, and keeps what production runs.
    let (plan, _) = run_json(
        lambda_ship()
            .args(["prune", "--keep", "0", "--dry-run", "--output", "json"])
            .arg("--context")
            .arg(mono.dir.path()),
    );
    let repositories = plan["repositories"]
        .as_array()
        .expect("a plan per repository");
    assert_eq!(repositories.len(), 3, "{plan}");
    for (image, repo) in &mono.repos {
        let decisions = repositories
            .iter()
            .find(|r| r["repository"] == repo.as_str())
            .unwrap_or_else(|| panic!("{repo} in {plan}"));
        for running in built(&production, image) {
            let kept = decisions["images"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["digest"] == running["digest"])
                .unwrap_or_else(|| panic!("{running} in {decisions}"));
            assert_eq!(kept["keep"], true, "{kept}");
        }
    }
}

#[test]
fn a_failed_image_stops_the_release_before_any_function_changes_and_is_named() {
    let mono = Monorepo::new();
    let dockerfile = mono.dir.path().join("services/arm/Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    std::fs::write(&dockerfile, text.replace("RUN sleep 3", "RUN exit 3")).unwrap();
    let stderr = fails_with(&mut mono.deploy(&random_sha()), 1);
    assert!(stderr.contains("image arm: linux/arm64"), "{stderr}");
    assert!(stderr.contains("Nothing was deployed."), "{stderr}");
    for (function, _, _) in &mono.functions {
        let (uri, _) = function_state(function);
        assert!(uri.ends_with("/previous:latest"), "{function}: {uri}");
    }
}

/// Each lane's build, from its "building on" line to its "built" line, in
/// seconds since the run started.
fn build_spans(stderr: &str) -> Vec<(String, f64, f64)> {
    let at = |line: &str| -> Option<f64> {
        let plus = line.split_once(" +")?.1;
        plus.split_once("s]")?.0.parse().ok()
    };
    let mut spans: Vec<(String, f64, f64)> = Vec::new();
    for line in stderr.lines() {
        let Some((_, said)) = line.split_once("] ") else {
            continue;
        };
        if let Some((lane, _)) = said.split_once(": building on ") {
            spans.push((lane.to_string(), at(line).unwrap(), f64::MAX));
        } else if let Some((lane, _)) = said.split_once(": built, ") {
            let open = spans.iter_mut().rev().find(|s| s.0 == lane).unwrap();
            open.2 = at(line).unwrap();
        }
    }
    spans
}

#[test]
fn jobs_bounds_the_builds_at_once_across_the_images() {
    let mono = Monorepo::new();
    let (_, stderr) = run_json(
        lambda_ship()
            .args([
                "build",
                "--sha",
                &random_sha(),
                "--output",
                "json",
                "--jobs",
                "1",
            ])
            .args(["--platforms", "linux/amd64"])
            .arg(format!("--builder=linux/amd64=unix://{ENGINE_A}"))
            .arg(format!("--builder=linux/amd64=unix://{ENGINE_B}"))
            .arg("--context")
            .arg(mono.dir.path()),
    );
    let mut spans = build_spans(&stderr);
    assert_eq!(spans.len(), 2, "{stderr}");
    spans.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert!(
        spans[0].2 <= spans[1].1,
        "overlapping builds: {spans:?}\n{stderr}"
    );
}

#[test]
fn a_dry_run_plans_each_image_for_its_own_functions_and_changes_nothing() {
    let mono = Monorepo::new();
    let (plans, stderr) = run_json(mono.deploy(&random_sha()).arg("--dry-run"));
    let plans = plans.as_array().expect("a plan per image");
    let mut seen: Vec<(String, Vec<String>, usize)> = plans
        .iter()
        .map(|p| {
            let archs = p["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["architecture"].as_str().unwrap().to_string())
                .collect();
            let functions = p["functions"].as_array().unwrap().len();
            (p["image"].as_str().unwrap().to_string(), archs, functions)
        })
        .collect();
    seen.sort();
    let expected = [
        ("amd", vec!["x86_64"], 2),
        ("arm", vec!["arm64"], 1),
        ("both", vec!["x86_64", "arm64"], 2),
    ]
    .map(|(n, a, f)| (n.to_string(), a.into_iter().map(String::from).collect(), f));
    assert_eq!(seen, expected, "{stderr}");
    for (_, repo) in &mono.repos {
        assert!(tags(repo).is_empty(), "{repo} was pushed");
    }
}
