//! `lambda-ship local`: every architecture built and invoked once as Lambda
//! would run it, then served behind a Function URL on 127.0.0.1 until a
//! signal. No AWS is needed, and no sandbox outlives the run.

use crate::config::{BuildConfig, Platform};
use crate::error::Error;
use crate::farm;
use crate::farm::engine::Engine;
use crate::progress::Progress;
use crate::ship::{build_spec, connect_farm};
use crate::{cancel, ci, cli, config, progress, sandbox, ship};
use futures_util::future::join_all;

pub async fn run(args: cli::LocalArgs) -> Result<(), Error> {
    let env = ci::Env::from_process();
    let ci = ci::CiContext::detect(&env);
    let mut config = config::LocalConfig::from_args(args, &ci)?;
    // The Region the function would run in: the one this run is given.
    if let Some(region) = env
        .get("AWS_REGION")
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
    {
        config.settings.region = region.to_string();
    }
    if config.credentials {
        give_credentials(&mut config.settings, &ci).await?;
    }
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
                progress.say(&format!("{why}: stopping"));
                Ok(())
            } else {
                Err(Error::LocalCancelled(why.to_string()))
            }
        }
    };
    progress.finish();
    ship::remove_sandboxes(&config.build).await;
    outcome
}

/// `--credentials`: the standard chain's credentials, masked on GitHub
/// Actions before anything could print them, and its Region if it has one.
async fn give_credentials(
    settings: &mut sandbox::LocalSettings,
    ci: &ci::CiContext,
) -> Result<(), Error> {
    let sdk = crate::aws::standard_chain(std::time::Duration::from_secs(
        crate::model::defaults::AWS_TIMEOUT_SECS,
    ))
    .await;
    let credentials = crate::identity::chain_credentials(&sdk).await?;
    crate::identity::mask_on_github(ci, &credentials);
    if let Some(region) = sdk.region() {
        settings.region = region.to_string();
    }
    settings.credentials = Some(credentials);
    Ok(())
}

async fn local_session(
    config: &config::LocalConfig,
    progress: &progress::Progress,
    serving: &std::sync::atomic::AtomicBool,
) -> Result<(), Error> {
    let runs = build_and_invoke(&config.build, &config.event, &config.settings, progress).await?;
    progress.finish();
    let results: Vec<&sandbox::LocalResult> = runs.iter().map(|r| &r.result).collect();
    super::print(config.build.output, &results, || results_text(&results));
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
    runs: &[LocalRun],
    config: &config::LocalConfig,
    progress: &progress::Progress,
    serving: &std::sync::atomic::AtomicBool,
) -> Result<(), Error> {
    let mut functions = Vec::new();
    let mut servers = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let Some(image) = &run.image_id else { continue };
        let function = std::sync::Arc::new(sandbox::url::Function::new(
            run.engine.clone(),
            image.clone(),
            run.platform,
            config.settings.clone(),
            progress.clone(),
        ));
        // One instance runs from the start, warm, as docs/local.md says.
        function
            .instance()
            .await
            .map_err(|e| Error::Deploy(e.to_string()))?;
        let port = match config.port {
            Some(0) | None => 0,
            Some(first) => u16::try_from(usize::from(first) + i).map_err(|_| {
                Error::Deploy(format!(
                    "--port {first} leaves no port for {}",
                    run.platform
                ))
            })?,
        };
        let (addr, server) = sandbox::url::serve(function.clone(), port)
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
    progress.say("serving; stop with Ctrl-C");
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

/// One architecture built and invoked locally, and where its image lives.
pub struct LocalRun {
    pub platform: Platform,
    pub engine: Engine,
    /// None when the build failed.
    pub image_id: Option<String>,
    pub result: sandbox::LocalResult,
}

/// `lambda-ship local`: every platform built on its engine, then invoked
/// once as Lambda would run it. Nothing is pushed; no AWS is needed. Each
/// platform's result is returned, a failed build's too, so that one failing
/// architecture never hides the other's.
async fn build_and_invoke(
    config: &BuildConfig,
    event: &str,
    settings: &sandbox::LocalSettings,
    progress: &Progress,
) -> Result<Vec<LocalRun>, Error> {
    let context = &config.build_context;
    context.check_readable()?;
    let engines = connect_farm(config, &config.platforms, progress).await?;
    for &platform in &config.platforms {
        let engine = &engines[&platform][0];
        if !engine.local {
            return Err(Error::Conflict(format!(
                "{platform} is built on {}, which is not an engine on this host: lambda-ship \
                 local runs each image on the engine that built it, reached on 127.0.0.1",
                engine.name
            )));
        }
    }
    let jobs = config.platforms.iter().map(|&platform| {
        let engine = engines[&platform][0].clone();
        let spec = build_spec(
            config,
            context,
            platform,
            format!("lambda-ship/local:{}", platform.lambda_arch()),
        );
        async move {
            match farm::build_within(&engine, &spec, config.build_timeout, progress).await {
                Ok(built) => {
                    let result =
                        sandbox::invoke_once(&engine, &built.image_id, platform, event, settings)
                            .await;
                    LocalRun {
                        platform,
                        engine,
                        image_id: Some(built.image_id),
                        result,
                    }
                }
                Err(e) => LocalRun {
                    platform,
                    engine,
                    image_id: None,
                    result: sandbox::LocalResult::not_built(platform, e.to_string()),
                },
            }
        }
    });
    Ok(join_all(jobs).await)
}

/// Each platform's local run, a line each, with the output of one that failed.
fn results_text(results: &[&sandbox::LocalResult]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for r in results {
        let verdict = match (&r.response, &r.reason) {
            (Some(resp), None) => format!("answered {resp}"),
            (_, Some(reason)) => format!("FAILED: {reason}"),
            _ => "no answer".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<12} init {} ms, invoke {} ms: {verdict}",
            r.platform.to_string(),
            r.init_ms.map_or("-".to_string(), |m| m.to_string()),
            r.invoke_ms.map_or("-".to_string(), |m| m.to_string()),
        );
        if !r.passed && !r.output.trim().is_empty() {
            out.push_str("  its output:\n");
            for line in r.output.lines() {
                let _ = writeln!(out, "  | {line}");
            }
        }
    }
    out
}
