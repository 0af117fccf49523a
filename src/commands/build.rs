//! `lambda-ship build`: the images of a commit, shipped, and the report.

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::{aws, ci, config, progress, ship};

pub async fn run(args: BuildArgs) -> Result<(), Error> {
    let ci = ci::CiContext::detect(&ci::Env::from_process());
    let config = config::BuildConfig::from_args(args, &ci)?;
    let sdk = aws::sdk_config(config.region.as_deref(), config.aws_timeout).await?;
    let progress = progress::Progress::new(config.progress);
    progress.say(&format!(
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
    let report = ship::build(&config, &sdk, None, &progress).await;
    progress.finish();
    let report = report?;
    super::print(config.output, &report, || report.to_text());
    Ok(())
}
