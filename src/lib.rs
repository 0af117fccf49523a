//! lambda-ship: builds single-architecture AWS Lambda container images on a
//! build farm, pushes them to ECR tagged by commit, and (next) deploys them by digest.
//!
//! The pipeline is a line of stages, each a module taking and returning plain
//! data: `config` → `build` → `registry` → `report`, driven by `pipeline`.

pub mod aws;
pub mod build;
pub mod cancel;
pub mod ci;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod error;
pub mod feedback;
pub mod identity;
pub mod local;
pub mod pipeline;
pub mod progress;
pub mod registry;
pub mod report;

use cli::{BuildArgs, Command, DeployArgs, OutputFormat};
pub use error::Error;

/// Runs one command to its end.
pub async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Build(args) => build(args).await,
        Command::Deploy(args) => deploy(args).await,
        Command::Local(args) => local_run(args).await,
    }
}

async fn local_run(args: cli::LocalArgs) -> Result<(), Error> {
    let ci = ci::CiContext::detect(&ci::Env::from_process())?;
    let config = config::LocalConfig::from_args(args, &ci)?;
    let progress = progress::Progress::new(config.build.progress);
    let runs = pipeline::local(&config.build, &config.event, &config.settings, &progress).await?;
    let results: Vec<&local::LocalResult> = runs.iter().map(|r| &r.result).collect();
    match config.build.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&results)
                .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        ),
        OutputFormat::Text => {
            for r in &results {
                let verdict = match (&r.response, &r.reason) {
                    (Some(resp), None) => format!("answered {resp}"),
                    (_, Some(reason)) => format!("FAILED: {reason}"),
                    _ => "no answer".to_string(),
                };
                println!(
                    "{:<12} init {} ms, invoke {} ms: {verdict}",
                    r.platform.to_string(),
                    r.init_ms.map_or("-".to_string(), |m| m.to_string()),
                    r.invoke_ms.map_or("-".to_string(), |m| m.to_string()),
                );
            }
        }
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            format!(
                "{}: {}",
                r.platform,
                r.reason.as_deref().unwrap_or("failed")
            )
        })
        .collect();
    if !failed.is_empty() {
        return Err(Error::Deploy(format!(
            "the local invocation failed: {}",
            failed.join("; ")
        )));
    }
    if config.once {
        return Ok(());
    }
    serve(&runs, &config.settings, &progress).await
}

/// Keeps one instance of each architecture running behind a Function URL
/// on 127.0.0.1 until interrupted.
async fn serve(
    runs: &[pipeline::LocalRun],
    settings: &local::LocalSettings,
    progress: &progress::Progress,
) -> Result<(), Error> {
    let mut instances = Vec::new();
    let mut servers = Vec::new();
    for run in runs {
        let instance = local::Instance::start(&run.engine, &run.image_id, run.platform, settings)
            .await
            .map_err(Error::Deploy)?;
        let (addr, server) = local::url::serve(instance.api.clone(), settings.timeout)
            .await
            .map_err(|e| Error::Deploy(format!("cannot serve the function URL: {e}")))?;
        println!("{:<12} http://{addr}/", run.platform.to_string());
        instances.push(instance);
        servers.push(server);
    }
    progress.stage("serving; stop with Ctrl-C");
    let _ = tokio::signal::ctrl_c().await;
    for server in servers {
        server.abort();
    }
    for instance in &instances {
        instance.remove().await;
    }
    Ok(())
}

async fn deploy(args: DeployArgs) -> Result<(), Error> {
    let env = ci::Env::from_process();
    let ci = ci::CiContext::detect(&env)?;
    let config = config::DeployConfig::from_args(args, &ci)?;
    let progress = progress::Progress::new(config.build.progress);
    progress.stage(&format!(
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
    let cancel = cancel::Cancel::on_signals();
    let (report, result) = pipeline::deploy(&config, &ci, &env, &cancel, &progress).await;
    feedback::publish(&report, &config.feedback, &ci, &env, &progress).await;
    let json =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    if let Some(path) = &config.report_json
        && let Err(e) = std::fs::write(path, &json)
    {
        progress.stage(&format!(
            "warning: cannot write the report to {}: {e}",
            path.display()
        ));
    }
    match config.build.output {
        OutputFormat::Json => println!("{json}"),
        OutputFormat::Text => print!("{}", report.to_text()),
    }
    result
}

async fn build(args: BuildArgs) -> Result<(), Error> {
    let ci = ci::CiContext::detect(&ci::Env::from_process())?;
    let config = config::BuildConfig::from_args(args, &ci)?;
    let sdk = aws::sdk_config(config.region.as_deref(), config.aws_timeout).await?;
    let progress = progress::Progress::new(config.progress);
    progress.stage(&format!(
        "building {} for {} at {}",
        config.repository,
        config
            .platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        config.sha
    ));
    let report = pipeline::build(&config, &sdk, None, &progress).await?;
    match config.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        ),
        OutputFormat::Text => print!("{}", report.to_text()),
    }
    Ok(())
}
