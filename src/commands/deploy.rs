//! `lambda-ship deploy`: identity, the functions read, the images shipped,
//! then every function updated by digest, waited on, published behind its
//! alias once its smoke test passed. The report is filled as far as the run
//! got, whether it succeeds or not, and published where people look.

use super::images::{Planned, image_index};
use crate::cancel::Cancel;
use crate::ci::{CiContext, Env};
use crate::cli::DeployArgs;
use crate::commands::plan::{self, Plan};
use crate::config::DeployConfig;
use crate::error::Error;
use crate::lambda::{DeployJob, FunctionReport, FunctionSpec, Lambda};
use crate::progress::Progress;
use crate::report::{BuildReport, Failure, RunReport, Stage};
use crate::sandbox::LocalCheck;
use crate::{cancel, ci, config, feedback, identity, progress, ship};
use futures_util::future::{join_all, try_join_all};

pub async fn run(args: DeployArgs) -> Result<(), Error> {
    let env = ci::Env::from_process();
    let ci = ci::CiContext::detect(&env);
    let config = config::DeployConfig::from_args(args, &ci)?;
    let progress = progress::Progress::new(config.build.progress);
    let what = if config.images.is_empty() {
        config.build.repository.to_string()
    } else {
        let names: Vec<&str> = config.images.iter().map(|i| i.name.as_str()).collect();
        format!("the images {}", names.join(", "))
    };
    progress.say(&format!(
        "deploying {what} at {} to {}",
        config.build.sha,
        config
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if config.dry_run {
        let planned = dry_run(&config, &ci, &env, &progress).await;
        progress.finish();
        let mut plans = planned.map_err(|(_, e)| e)?;
        match (config.images.is_empty(), plans.pop()) {
            (true, Some(plan)) => super::print(config.build.output, &plan, || plan.to_text()),
            (_, last) => {
                plans.extend(last);
                let text = || {
                    plans
                        .iter()
                        .map(Plan::to_text)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                super::print(config.build.output, &plans, text);
            }
        }
        return Ok(());
    }
    let cancel = cancel::Cancel::on_signals();
    let (report, result) = deploy(&config, &ci, &env, &cancel, &progress).await;
    progress.finish();
    feedback::publish(&report, &config.feedback, &ci, &progress).await;
    if let Some(path) = &config.report_json
        && let Err(e) = std::fs::write(path, super::json(&report))
    {
        progress.say(&format!(
            "warning: cannot write the report to {}: {e}",
            path.display()
        ));
    }
    super::print(config.build.output, &report, || report.to_text());
    result
}

/// The whole pipeline: identity, the functions checked, the images built and
/// pushed, then every function deployed. The report is filled as far as the
/// run got, whether it succeeds or not.
async fn deploy(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    cancel: &Cancel,
    progress: &Progress,
) -> (RunReport, Result<(), Error>) {
    let mut report = RunReport {
        ok: false,
        commit: Some(config.build.sha.clone()),
        ci: ci.kind,
        change_number: ci.change_number,
        build: None,
        images: Vec::new(),
        functions: Vec::new(),
        rollout: None,
        failure: None,
    };
    let result = deploy_stages(config, ci, env, cancel, progress, &mut report).await;
    match &result {
        Ok(()) => report.ok = true,
        Err((stage, e)) => {
            report.failure = Some(Failure {
                stage: *stage,
                message: e.to_string(),
            })
        }
    }
    (report, result.map_err(|(_, e)| e))
}

async fn deploy_stages(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    cancel: &Cancel,
    progress: &Progress,
    report: &mut RunReport,
) -> Result<(), (Stage, Error)> {
    let at = |stage: Stage| move |e: Error| (stage, e);
    let (sdk, lambda, mut specs, planned) =
        session_and_functions(config, ci, env, progress).await?;
    let renew = if config.local_smoke && config.local_credentials.is_some() {
        Some(
            super::session::execution_role_sessions(
                &sdk,
                &mut specs,
                &config.build.sha,
                ci,
                progress,
            )
            .await?,
        )
    } else {
        None
    };
    let cloudwatch = crate::cloudwatch::CloudWatch::new(&sdk, config.build.aws_timeout);
    super::rollout::check_alarms(&config.gates, &cloudwatch).await?;
    // A key that cannot verify is found before anything is built.
    let required = match &config.require_signature {
        Some(key) => Some(
            crate::signing::fetch_public_key(&sdk, key)
                .await
                .map_err(|e| (Stage::Preflight, e.into()))?,
        ),
        None => None,
    };
    let not_deployed = |why: &str| -> Vec<FunctionReport> {
        specs
            .iter()
            .map(|p| FunctionReport::not_updated(p, why))
            .collect()
    };

    // Each image is run locally with the settings of its own functions.
    let checks: Vec<Option<LocalCheck>> = planned
        .iter()
        .map(|image| {
            config.local_smoke.then(|| LocalCheck {
                event: config
                    .smoke
                    .as_ref()
                    .map_or_else(|| "{}".to_string(), |s| s.event.clone()),
                settings: image
                    .functions
                    .iter()
                    .rev()
                    .map(|&i| (specs[i].arch, specs[i].local.clone()))
                    .collect(),
                renew: renew.clone(),
            })
        })
        .collect();
    let images: Vec<ship::ImageJob> = planned
        .iter()
        .zip(&checks)
        .map(|(image, check)| ship::ImageJob {
            name: image.name.as_deref(),
            config: &image.build,
            local: check.as_ref(),
        })
        .collect();
    // A cancelled run drops its builds and pushes: the engines stop them.
    let building = ship::build_images(&images, config.jobs, &sdk, progress);
    let outcome = tokio::select! {
        outcome = building => outcome,
        why = cancel.cancelled() => {
            for image in &planned {
                ship::remove_sandboxes(&image.build).await;
            }
            report.functions = not_deployed("not deployed: the run was cancelled");
            return Err((Stage::Build, Error::Cancelled(why.to_string())));
        }
    };
    let mut built = match outcome {
        Ok(built) => built,
        Err(e) => {
            report.functions = not_deployed("not deployed: the build failed");
            let stage = if e.is_usage() {
                Stage::Configuration
            } else {
                Stage::Build
            };
            return Err((stage, Error::NotDeployed(Box::new(e))));
        }
    };

    if let Some(key) = &required
        && let Err(e) =
            super::verify::require_built(key, &sdk, &built, config.build.sha.as_str(), progress)
                .await
    {
        report.functions = not_deployed("not deployed: --require-signature refused an image");
        record_builds(report, config, built);
        return Err((Stage::Signature, Error::NotDeployed(Box::new(e))));
    }
    progress.say(&format!("deploying {} function(s)", specs.len()));
    let jobs = specs.iter().enumerate().map(|(at, spec)| {
        let built_image = image_index(&planned, at)
            .and_then(|k| built.get(k))
            .and_then(|b| b.image(spec.arch));
        let image = built_image
            .map(|i| i.deploy_uri.as_str())
            .unwrap_or_default();
        lambda.deploy(DeployJob {
            spec,
            image_uri: image,
            alias: config.alias.as_deref(),
            function_url: spec.url.or(config.function_url),
            smoke: config.smoke.as_ref(),
            wait_timeout: config.wait_timeout,
            cancel,
            aws_timeout: config.build.aws_timeout,
            size_bytes: built_image.map(|i| i.compressed_size),
            thresholds: config.thresholds,
            commit: config.build.sha.as_str(),
            run_url: config.run_url.as_deref(),
            hold_alias: config.rollout.is_some(),
        })
    });
    // The scans on push are read while the functions deploy.
    let ecr = crate::registry::ecr::Ecr::new(&sdk);
    let scans = join_all(built.iter().flat_map(|b| {
        let ecr = &ecr;
        b.images
            .iter()
            .map(move |i| ecr.scan_findings(&b.repository.name, &i.digest, config.scan_wait))
    }));
    let (functions, scans) = tokio::join!(join_all(jobs), scans);
    let mut scans = scans.into_iter();
    for image in built.iter_mut().flat_map(|b| b.images.iter_mut()) {
        image.scan = scans.next();
    }
    record_builds(report, config, built);
    for f in &functions {
        progress.say(&format!("{} ({}): {}", f.name, f.architecture, f.outcome));
    }
    let all_deployed = functions.iter().all(|f| f.outcome.is_success());
    let message = (!all_deployed).then(|| crate::lambda::deploy_failure(&functions));
    report.functions = functions;
    if let Some(m) = message {
        return Err(at(Stage::Deploy)(Error::Deploy(m)));
    }
    super::rollout::roll_out(config, &lambda, &cloudwatch, ci, cancel, progress, report).await
}

/// The images of the run in the report: the flags' one, or each of `[images]`.
fn record_builds(report: &mut RunReport, config: &DeployConfig, mut built: Vec<BuildReport>) {
    if config.images.is_empty() {
        report.build = built.pop();
    } else {
        report.images = built;
    }
}

/// The run's AWS session, and every function read with what is to be built.
async fn session_and_functions(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<
    (
        aws_config::SdkConfig,
        Lambda,
        Vec<FunctionSpec>,
        Vec<Planned>,
    ),
    (Stage, Error),
> {
    let sdk = super::aws_session(
        config.role.as_ref(),
        config.build.region.as_deref(),
        config.build.aws_timeout,
        ci,
        env,
        progress,
    )
    .await?;
    let lambda = Lambda::new(&sdk);
    let (functions, planned) = read_functions(config, &lambda, &sdk, progress).await?;
    Ok((sdk, lambda, functions, planned))
}

/// Every function read before anything is built (a wrong name fails now),
/// and what is to be built for them.
async fn read_functions(
    config: &DeployConfig,
    lambda: &Lambda,
    sdk: &aws_config::SdkConfig,
    progress: &Progress,
) -> Result<(Vec<FunctionSpec>, Vec<Planned>), (Stage, Error)> {
    // Every function is read before anything is built: a wrong name fails now.
    // A function named by ARN must be of this run's account: asked only then.
    let account = if config.functions.iter().any(|f| f.name.starts_with("arn:")) {
        Some(
            identity::caller_account(sdk)
                .await
                .map_err(|e| (Stage::Preflight, e.into()))?,
        )
    } else {
        None
    };
    let specs = try_join_all(
        config
            .functions
            .iter()
            .zip(&config.settings)
            .map(|(f, asked)| {
                lambda.preflight(
                    f,
                    account.as_deref(),
                    config.execution_role.as_deref(),
                    asked,
                )
            }),
    )
    .await
    .map_err(|e| (Stage::Preflight, e.into()))?;
    // A preview is deployed in place of its function, which stays as it is.
    let specs = match config.preview {
        None => specs,
        Some(pr) => {
            progress.say(&format!("deploying the previews of #{pr}"));
            try_join_all(
                specs
                    .iter()
                    .map(|p| lambda.preview(p, pr, config.function_url)),
            )
            .await
            .map_err(|e| (Stage::Preflight, e.into()))?
        }
    };
    for spec in specs.iter().filter(|p| p.arch != p.arch_before) {
        progress.say(&format!(
            "{}: its architecture changes, {} → {}",
            spec.name,
            spec.arch_before.lambda_arch(),
            spec.arch.lambda_arch()
        ));
    }
    let planned = super::images::plan_images(config, &specs)?;
    Ok((specs, planned))
}

/// `--dry-run`: the plan of each image, from read APIs only.
async fn dry_run(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<Vec<Plan>, (Stage, Error)> {
    let (sdk, lambda, functions, planned) =
        session_and_functions(config, ci, env, progress).await?;
    let cloudwatch = crate::cloudwatch::CloudWatch::new(&sdk, config.build.aws_timeout);
    super::rollout::check_alarms(&config.gates, &cloudwatch).await?;
    let mut plans = Vec::new();
    for image in &planned {
        let survey = ship::survey(&image.build, &sdk)
            .await
            .map_err(|e| (Stage::Preflight, e))?;
        let mine: Vec<FunctionSpec> = image
            .functions
            .iter()
            .map(|&i| functions[i].clone())
            .collect();
        let plan = plan::plan(
            config,
            image.name.as_deref(),
            &image.build,
            &mine,
            &survey,
            &lambda,
        )
        .await
        .map_err(|e| (Stage::Preflight, e))?;
        plans.push(plan);
    }
    Ok(plans)
}
