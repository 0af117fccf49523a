//! `lambda-ship deploy`: identity, the functions read, the images shipped,
//! then every function updated by digest, waited on, published behind its
//! alias once its smoke test passed. The report is filled as far as the run
//! got, whether it succeeds or not, and published where people look.

use crate::cancel::Cancel;
use crate::ci::{CiContext, Env};
use crate::cli::DeployArgs;
use crate::commands::plan::{self, Plan};
use crate::config::{BuildConfig, ConfigError, DeployConfig, Platform};
use crate::error::Error;
use crate::lambda::{DeployJob, FunctionReport, FunctionSpec, Lambda, Outcome};
use crate::progress::Progress;
use crate::report::{Failure, RunReport, Stage};
use crate::sandbox::LocalCheck;
use crate::{cancel, ci, config, feedback, identity, progress, ship};
use futures_util::future::{join_all, try_join_all};

pub async fn run(args: DeployArgs) -> Result<(), Error> {
    let env = ci::Env::from_process();
    let ci = ci::CiContext::detect(&env);
    let config = config::DeployConfig::from_args(args, &ci)?;
    let progress = progress::Progress::new(config.build.progress);
    progress.say(&format!(
        "deploying {} at {} to {}",
        config.build.repository,
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
        let plan = planned.map_err(|(_, e)| e)?;
        super::print(config.build.output, &plan, || plan.to_text());
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
    let (sdk, lambda, mut specs, build_config) =
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
    let not_deployed = |why: &str| -> Vec<FunctionReport> {
        specs
            .iter()
            .map(|p| FunctionReport::not_updated(p, why))
            .collect()
    };

    let local_check = config.local_smoke.then(|| LocalCheck {
        event: config
            .smoke
            .as_ref()
            .map_or_else(|| "{}".to_string(), |s| s.event.clone()),
        settings: specs
            .iter()
            .rev()
            .map(|p| (p.arch, p.local.clone()))
            .collect(),
        renew,
    });
    // A cancelled run drops its builds and pushes: the engines stop them.
    let building = ship::build(&build_config, &sdk, local_check.as_ref(), progress);
    let outcome = tokio::select! {
        outcome = building => outcome,
        why = cancel.cancelled() => {
            ship::remove_sandboxes(&build_config).await;
            report.functions = not_deployed("not deployed: the run was cancelled");
            return Err((Stage::Build, Error::Cancelled(why.to_string())));
        }
    };
    let built = match outcome {
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

    progress.say(&format!("deploying {} function(s)", specs.len()));
    let jobs = specs.iter().map(|spec| {
        let built_image = built.image(spec.arch);
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
    let repository = built.repository.name.clone();
    let scans = join_all(
        built
            .images
            .iter()
            .map(|i| ecr.scan_findings(&repository, &i.digest, config.scan_wait)),
    );
    let (functions, scans) = tokio::join!(join_all(jobs), scans);
    let mut built = built;
    for (image, scan) in built.images.iter_mut().zip(scans) {
        image.scan = Some(scan);
    }
    report.build = Some(built);
    for f in &functions {
        progress.say(&format!("{} ({}): {}", f.name, f.architecture, f.outcome));
    }
    let all_deployed = functions.iter().all(|f| f.outcome.is_success());
    let message = (!all_deployed).then(|| deploy_failure(&functions));
    report.functions = functions;
    if let Some(m) = message {
        return Err(at(Stage::Deploy)(Error::Deploy(m)));
    }
    super::rollout::roll_out(config, &lambda, &cloudwatch, ci, cancel, progress, report).await
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
        BuildConfig,
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
    let (functions, build_config) = read_functions(config, &lambda, &sdk, progress).await?;
    Ok((sdk, lambda, functions, build_config))
}

/// Every function read before anything is built (a wrong name fails now),
/// and what is to be built for them.
async fn read_functions(
    config: &DeployConfig,
    lambda: &Lambda,
    sdk: &aws_config::SdkConfig,
    progress: &Progress,
) -> Result<(Vec<FunctionSpec>, BuildConfig), (Stage, Error)> {
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
    let mut build_config = config.build.clone();
    if !build_config.platforms_explicit {
        build_config.platforms = Platform::ALL
            .into_iter()
            .filter(|p| specs.iter().any(|f| f.arch == *p))
            .collect();
    }
    // What the functions run now is the likeliest cache for their new image.
    build_config.cache.running = specs
        .iter()
        .filter_map(|p| Some((p.arch, p.name.clone(), p.image_before.clone()?)))
        .collect();
    for spec in &specs {
        if !build_config.platforms.contains(&spec.arch) {
            let e = ConfigError::MissingPlatform {
                platform: spec.arch,
                function: spec.name.clone(),
            };
            return Err((Stage::Configuration, e.into()));
        }
    }
    Ok((specs, build_config))
}

/// `--dry-run`: the plan, from read APIs only.
async fn dry_run(
    config: &DeployConfig,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<Plan, (Stage, Error)> {
    let (sdk, lambda, functions, build_config) =
        session_and_functions(config, ci, env, progress).await?;
    let cloudwatch = crate::cloudwatch::CloudWatch::new(&sdk, config.build.aws_timeout);
    super::rollout::check_alarms(&config.gates, &cloudwatch).await?;
    let survey = ship::survey(&build_config, &sdk)
        .await
        .map_err(|e| (Stage::Preflight, e))?;
    plan::plan(
        config,
        &build_config.platforms,
        &functions,
        &survey,
        &lambda,
    )
    .await
    .map_err(|e| (Stage::Preflight, e))
}

/// Which functions were updated and which were not, one line each.
fn deploy_failure(functions: &[FunctionReport]) -> String {
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
