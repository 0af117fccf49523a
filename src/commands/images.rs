//! Which image each function of a deploy runs, and each image's build: the
//! flags' one image, or each `[images.NAME]` of `lambda-ship.toml` for the
//! architectures of its own functions and no other.

use crate::config::{BuildConfig, ConfigError, DeployConfig, Platform};
use crate::error::Error;
use crate::lambda::FunctionSpec;
use crate::report::Stage;

/// One image of a deploy and the functions that run it.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    /// Its `[images.NAME]`; none for the flags' one image.
    pub(super) name: Option<String>,
    pub(super) build: BuildConfig,
    /// Indices into the run's functions.
    pub(super) functions: Vec<usize>,
}

/// Each image's build, for what its functions (`specs`, in the order of
/// `config.functions`) need: their architectures, and their running images
/// as its likeliest cache.
pub(super) fn plan_images(
    config: &DeployConfig,
    specs: &[FunctionSpec],
) -> Result<Vec<Planned>, (Stage, Error)> {
    let sources: Vec<(Option<String>, &BuildConfig)> = if config.images.is_empty() {
        vec![(None, &config.build)]
    } else {
        config
            .images
            .iter()
            .map(|i| (Some(i.name.clone()), &i.build))
            .collect()
    };
    let mut planned = Vec::new();
    for (name, base) in sources {
        let functions: Vec<usize> = (0..specs.len())
            .filter(|&i| config.settings.get(i).and_then(|s| s.image.clone()) == name)
            .collect();
        let mine = || functions.iter().map(|&i| &specs[i]);
        let mut build = base.clone();
        // The flags' one image builds every platform --platforms names; an
        // image of the file only those its functions run on.
        if !build.platforms_explicit || name.is_some() {
            let asked = build.platforms.clone();
            build.platforms = Platform::ALL
                .into_iter()
                .filter(|p| mine().any(|f| f.arch == *p))
                .filter(|p| !build.platforms_explicit || asked.contains(p))
                .collect();
        }
        // What the functions run now is the likeliest cache for their new image.
        build.cache.running = mine()
            .filter_map(|p| Some((p.arch, p.name.clone(), p.image_before.clone()?)))
            .collect();
        for spec in mine() {
            if !build.platforms.contains(&spec.arch) {
                let e = ConfigError::MissingPlatform {
                    platform: spec.arch,
                    function: spec.name.clone(),
                };
                return Err((Stage::Configuration, e.into()));
            }
        }
        planned.push(Planned {
            name,
            build,
            functions,
        });
    }
    Ok(planned)
}

/// The image run by each function, by index: where it is in `planned`.
pub(super) fn image_index(planned: &[Planned], function: usize) -> Option<usize> {
    planned.iter().position(|p| p.functions.contains(&function))
}
