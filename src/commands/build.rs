//! `lambda-ship build`: the images of a commit, shipped, and the report;
//! with `[images]` in `lambda-ship.toml`, every image of the file, each for
//! the architectures its functions run on.

use crate::cli::BuildArgs;
use crate::config::{BuildConfig, ImageBuild};
use crate::error::Error;
use crate::{aws, ci, config, progress, ship};

pub async fn run(args: BuildArgs) -> Result<(), Error> {
    let ci = ci::CiContext::detect(&ci::Env::from_process());
    let file = config::function::read_file(args.config.as_deref(), &args.source.context)?;
    let sources = config::image_sources(&file, &[])?;
    let jobs = args.jobs.map(usize::from);
    let images = if sources.is_empty() {
        let build = BuildConfig::from_args(args, &ci)?;
        vec![ImageBuild {
            name: String::new(),
            build,
            platforms: None,
        }]
    } else {
        let mut images = config::image_builds(&args, sources, &ci)?;
        for image in &mut images {
            if let Some(needed) = &image.platforms {
                image.build.platforms.retain(|p| needed.contains(p));
            }
        }
        // `--platforms` on a native runner: the images of its architecture.
        images.retain(|i| !i.build.platforms.is_empty());
        images
    };
    let Some(first) = images.first().map(|i| &i.build) else {
        return Err(config::ConfigError::NoPlatform.into());
    };
    let sdk = aws::sdk_config(first.region.as_deref(), first.aws_timeout).await?;
    let progress = progress::Progress::new(first.progress);
    let output = first.output;
    for image in &images {
        progress.say(&format!(
            "building {} for {} at {}",
            image.build.repository,
            image
                .build
                .platforms
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            image.build.sha
        ));
    }
    let named = !file.images.is_empty();
    let jobs_of: Vec<ship::ImageJob> = images
        .iter()
        .map(|i| ship::ImageJob {
            name: named.then_some(i.name.as_str()),
            config: &i.build,
            local: None,
        })
        .collect();
    let built = ship::build_images(&jobs_of, jobs, &sdk, &progress).await;
    progress.finish();
    let mut built = built?;
    match (named, built.pop()) {
        (false, Some(report)) => super::print(output, &report, || report.to_text()),
        (_, last) => {
            built.extend(last);
            let text = || {
                built
                    .iter()
                    .map(|b| {
                        format!(
                            "image {}\n{}",
                            b.image.as_deref().unwrap_or(""),
                            b.to_text()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            super::print(output, &built, text);
        }
    }
    Ok(())
}
