//! `lambda-ship prune`: the repository's images that no version or alias of
//! the named functions (nor any of their previews) runs, beyond the newest
//! N of each architecture, are deleted; what is kept is listed with why.

use crate::ci::{CiContext, Env};
use crate::cli::PruneArgs;
use crate::config::PruneConfig;
use crate::error::Error;
use crate::lambda::Lambda;
use crate::progress::Progress;
use crate::registry::ecr::Ecr;
use crate::registry::images::{delete_image, prune_plan};
use crate::registry::manifest::RegistryReader;

pub async fn run(args: PruneArgs) -> Result<(), Error> {
    let env = Env::from_process();
    let ci = CiContext::detect(&env);
    let config = PruneConfig::from_args(args, &ci)?;
    let c = &config.common;
    let progress = Progress::new(c.progress);
    let sdk = super::command_session(&c.aws, &ci, &env, &progress).await?;
    let lambda = Lambda::new(&sdk);
    let ecr = Ecr::new(&sdk);
    // Every function must exist: a wrong name would make its images look unused.
    progress.say(&format!("reading what {} run", c.functions.join(", ")));
    let used = lambda.images_in_use(&c.functions, &[], true).await?;
    let (host, token) = ecr.token().await?;
    let registry = c.registry_override.clone().unwrap_or(host);
    let reader = RegistryReader::new(&registry, &token);
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for repository in &c.repositories {
        progress.say(&format!("listing the images of {repository}"));
        let images = match &c.registry_override {
            Some(_) => reader.list_images(&registry, repository.as_str()).await?,
            None => ecr.list_images(repository.as_str()).await?,
        };
        let mut plan = prune_plan(&images, &used, config.keep);
        if !config.dry_run {
            for decision in plan.iter_mut().filter(|d| !d.keep) {
                let result = delete_image(
                    &ecr,
                    &reader,
                    c.registry_override.as_deref(),
                    repository.as_str(),
                    &decision.digest,
                )
                .await;
                match result {
                    Ok(()) => decision.why = format!("deleted: {}", decision.why),
                    Err(e) => errors.push(format!("{}: {e}", decision.digest)),
                }
            }
        }
        plans.push((repository.to_string(), plan));
    }
    progress.finish();
    // One repository as it always was; with [images], each named.
    let result = match plans.as_slice() {
        [(_, plan)] => serde_json::json!({
            "dry_run": config.dry_run,
            "images": plan,
            "errors": errors,
        }),
        all => serde_json::json!({
            "dry_run": config.dry_run,
            "repositories": all
                .iter()
                .map(|(r, plan)| serde_json::json!({"repository": r, "images": plan}))
                .collect::<Vec<_>>(),
            "errors": errors,
        }),
    };
    super::print(c.output, &result, || {
        let verb = |keep: bool| match (keep, config.dry_run) {
            (true, _) => "keep  ",
            (false, true) => "would delete",
            (false, false) => "delete",
        };
        let named = plans.len() > 1;
        plans
            .iter()
            .flat_map(|(repository, plan)| plan.iter().map(move |d| (repository, d)))
            .map(|(repository, d)| {
                let beside = match d.artefacts.len() {
                    0 => String::new(),
                    n => format!(", with {n} signature(s) and attestation(s) beside it"),
                };
                format!(
                    "{} {}{} ({}): {}{beside}\n",
                    verb(d.keep),
                    if named {
                        format!("{repository} ")
                    } else {
                        String::new()
                    },
                    d.digest,
                    d.tags.join(", "),
                    d.why
                )
            })
            .collect()
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Incomplete(format!(
            "some images could not be deleted:\n  {}",
            errors.join("\n  ")
        )))
    }
}
