//! `lambda-ship cleanup`: when a pull request closes, its previews go (the
//! URL, then the function with its versions and permissions), then the
//! images they and its last head ran, unless something else still runs them;
//! the living comment says so. A second run finds nothing and exits 0.

use crate::ci::{CiContext, Env};
use crate::cli::CleanupArgs;
use crate::config::CleanupConfig;
use crate::error::Error;
use crate::lambda::Lambda;
use crate::lambda::housekeeping::digest_of;
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::ecr::Ecr;
use crate::registry::images::delete_image;
use crate::registry::manifest::RegistryReader;
use crate::report::{CleanupReport, KeptImage};
use crate::{feedback, model::Platform};
use futures_util::future::join_all;
use std::collections::BTreeSet;

pub async fn run(args: CleanupArgs) -> Result<(), Error> {
    let env = Env::from_process();
    let ci = CiContext::detect(&env);
    let config = CleanupConfig::from_args(args, &ci)?;
    let progress = Progress::new(config.common.progress);
    let c = &config.common;
    let sdk = super::command_session(&c.aws, &ci, &env, &progress).await?;
    let report = cleanup(&config, &sdk, &progress).await?;
    progress.finish();

    let body = feedback::markdown::render_cleanup(&report, &config.feedback.comment_key);
    // The comment goes to the pull request cleaned up, whichever run this is.
    let target = CiContext {
        change_number: Some(config.pull_request),
        ..ci.clone()
    };
    let published = feedback::post(&body, &config.feedback, &target, &progress).await;
    for w in &published.warnings {
        progress.say(&format!("warning: {w}"));
    }
    super::print(c.output, &report, || report.to_text());
    let failed: Vec<String> = report
        .previews
        .iter()
        .filter(|p| p.failed)
        .map(|p| format!("{}: {}", p.preview, p.note.as_deref().unwrap_or_default()))
        .chain(report.errors.iter().cloned())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Incomplete(format!(
            "the cleanup did not complete (run it again to finish):\n  {}",
            failed.join("\n  ")
        )))
    }
}

async fn cleanup(
    config: &CleanupConfig,
    sdk: &aws_config::SdkConfig,
    progress: &Progress,
) -> Result<CleanupReport, Error> {
    let c = &config.common;
    let pr = config.pull_request;
    let lambda = Lambda::new(sdk);
    let ecr = Ecr::new(sdk);
    progress.say(&format!("removing the previews of #{pr}"));
    let previews = join_all(c.functions.iter().map(|f| lambda.remove_preview(f, pr))).await;
    for p in &previews {
        let state = if p.removed {
            "removed"
        } else {
            p.note.as_deref().unwrap_or("left")
        };
        progress.say(&format!("{}: {state}", p.preview));
    }
    let mut report = CleanupReport {
        pull_request: pr,
        previews,
        ..CleanupReport::default()
    };

    // The images the removed previews ran, and those of the pull request's
    // last head; a preview still there keeps running its own.
    let removed: Vec<String> = report
        .previews
        .iter()
        .filter(|p| p.removed)
        .map(|p| p.preview.clone())
        .collect();
    // Each candidate with its repository: the one of the run, or with
    // `[images]` the one its URI names.
    let repository_of = |uri: &str| -> Option<String> {
        match c.repositories.as_slice() {
            [one] => Some(one.to_string()),
            all => {
                let name = uri.split_once('/')?.1.split('@').next()?;
                all.iter()
                    .find(|r| r.as_str() == name)
                    .map(ToString::to_string)
            }
        }
    };
    let mut candidates: BTreeSet<(String, String)> = report
        .previews
        .iter()
        .filter(|p| p.removed)
        .filter_map(|p| {
            let uri = p.image.as_deref()?;
            Some((repository_of(uri)?, digest_of(uri)?.to_string()))
        })
        .collect();
    let (host, token) = ecr.token().await?;
    let registry = c.registry_override.clone().unwrap_or(host);
    let reader = RegistryReader::new(&registry, &token);
    if let Some(sha) = &config.head_sha {
        for repository in &c.repositories {
            for platform in Platform::ALL {
                let image = ImageRef {
                    registry: registry.clone(),
                    repository: repository.to_string(),
                    tag: format!("{sha}-{}", platform.lambda_arch()),
                };
                match reader.digest(&image).await {
                    Ok(Some(d)) => {
                        candidates.insert((repository.to_string(), d));
                    }
                    Ok(None) => {}
                    Err(e) => report.errors.push(e.to_string()),
                }
            }
        }
    }
    if candidates.is_empty() {
        return Ok(report);
    }
    let used = lambda.images_in_use(&c.functions, &removed, false).await?;
    for (repository, digest) in candidates {
        if let Some(who) = used.get(&digest) {
            report.kept.push(KeptImage {
                digest,
                why: format!("in use by {}", who.join(", ")),
            });
            continue;
        }
        let gone = delete_image(
            &ecr,
            &reader,
            c.registry_override.as_deref(),
            &repository,
            &digest,
        )
        .await;
        match gone {
            Ok(_) => {
                progress.say(&format!("deleted {digest} of {repository}"));
                report.deleted.push(digest);
            }
            Err(e) => report.errors.push(format!("{digest}: {e}")),
        }
    }
    Ok(report)
}
