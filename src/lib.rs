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
pub mod model;
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
    let ci = ci::CiContext::detect(&ci::Env::from_process());
    let config = config::LocalConfig::from_args(args, &ci)?;
    let progress = progress::Progress::new(config.build.progress);
    let cancel = cancel::Cancel::on_signals();
    let serving = std::sync::atomic::AtomicBool::new(false);
    // Serving ends with a signal, and that is a clean stop; a signal before
    // that cancels the builds and runs. Either way, every sandbox container
    // this run made is removed before it exits.
    let outcome = tokio::select! {
        outcome = local_session(&config, &progress, &serving) => outcome,
        why = cancel.cancelled() => {
            if serving.load(std::sync::atomic::Ordering::SeqCst) {
                progress.stage(&format!("{why}: stopping"));
                Ok(())
            } else {
                Err(Error::LocalCancelled(why.to_string()))
            }
        }
    };
    progress.finish();
    pipeline::remove_sandboxes(&config.build).await;
    outcome
}

async fn local_session(
    config: &config::LocalConfig,
    progress: &progress::Progress,
    serving: &std::sync::atomic::AtomicBool,
) -> Result<(), Error> {
    let runs = pipeline::local(&config.build, &config.event, &config.settings, progress).await?;
    progress.finish();
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
                if !r.passed && !r.output.trim().is_empty() {
                    println!("  its output:");
                    for line in r.output.lines() {
                        println!("  | {line}");
                    }
                }
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
    serve(&runs, config, progress, serving).await
}

/// Keeps each architecture running behind a Function URL on 127.0.0.1
/// until a signal (SIGINT, SIGTERM or SIGHUP) ends the run.
async fn serve(
    runs: &[pipeline::LocalRun],
    config: &config::LocalConfig,
    progress: &progress::Progress,
    serving: &std::sync::atomic::AtomicBool,
) -> Result<(), Error> {
    let mut functions = Vec::new();
    let mut servers = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let Some(image) = &run.image_id else { continue };
        let function = std::sync::Arc::new(local::url::Function::new(
            run.engine.clone(),
            image.clone(),
            run.platform,
            config.settings.clone(),
            progress.clone(),
        ));
        // One instance runs from the start, warm, as the README says.
        function.instance().await.map_err(Error::Deploy)?;
        let port = match config.port {
            Some(0) | None => 0,
            Some(first) => u16::try_from(usize::from(first) + i).map_err(|_| {
                Error::Deploy(format!(
                    "--port {first} leaves no port for {}",
                    run.platform
                ))
            })?,
        };
        let (addr, server) = local::url::serve(function.clone(), port)
            .await
            .map_err(|e| {
                Error::Deploy(format!(
                    "cannot serve {} on 127.0.0.1:{port}: {e}; pick another --port",
                    run.platform
                ))
            })?;
        println!("{:<12} http://{addr}/", run.platform.to_string());
        functions.push(function);
        servers.push(server);
    }
    serving.store(true, std::sync::atomic::Ordering::SeqCst);
    progress.stage("serving; stop with Ctrl-C");
    // The servers and instances live until the signal drops this future:
    // the servers stop then, before the run removes every sandbox, so that
    // no request starts a new one meanwhile.
    let _keep = (
        functions,
        servers.into_iter().map(AbortOnDrop).collect::<Vec<_>>(),
    );
    std::future::pending().await
}

/// A server task that stops when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn deploy(args: DeployArgs) -> Result<(), Error> {
    let env = ci::Env::from_process();
    let ci = ci::CiContext::detect(&env);
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
    progress.finish();
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
    let ci = ci::CiContext::detect(&ci::Env::from_process());
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
    let report = pipeline::build(&config, &sdk, None, &progress).await;
    progress.finish();
    let report = report?;
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
