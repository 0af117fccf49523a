//! lambda-ship: builds single-architecture AWS Lambda container images on a
//! build farm, pushes them to ECR tagged by commit, and (next) deploys them by digest.
//!
//! The pipeline is a line of stages, each a module taking and returning plain
//! data: `config` → `build` → `registry` → `report`, driven by `pipeline`.

pub mod aws;
pub mod build;
pub mod ci;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod error;
pub mod feedback;
pub mod identity;
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
    }
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
    let (report, result) = pipeline::deploy(&config, &ci, &env, &progress).await;
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
    let sdk = aws::sdk_config(config.region.as_deref()).await?;
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
    let report = pipeline::build(&config, &sdk, &progress).await?;
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
