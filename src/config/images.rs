//! `[images.NAME]` of `lambda-ship.toml`: a monorepo's images, each built
//! from its own context and Dockerfile into its own repository, and the
//! functions that run each. The file is checked as a whole before anything
//! is built; a wrong entry is named with its line.

use super::function::ConfigFile;
use super::{BuildConfig, ConfigError, FunctionTarget, Platform};
use crate::ci::CiContext;
use crate::cli::BuildArgs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One image to build, found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSource {
    pub name: String,
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    pub repository: String,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    /// The architectures its functions have in the file; `None` when one of
    /// them has none there (deploy reads it from Lambda).
    pub platforms: Option<Vec<Platform>>,
}

/// One image's build, as every command takes it.
#[derive(Debug, Clone)]
pub struct ImageBuild {
    pub name: String,
    pub build: BuildConfig,
    /// What `build` builds of it without functions to ask.
    pub platforms: Option<Vec<Platform>>,
}

/// Every image of the file checked, and those the `picked` functions run,
/// in the file's order. Empty when the file has no `[images]`.
pub fn image_sources(file: &ConfigFile, picked: &[&str]) -> Result<Vec<ImageSource>, ConfigError> {
    let base = file
        .origin
        .as_ref()
        .and_then(|(path, _)| path.parent())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let entry = |table: &str, name: &str, reason: String| ConfigError::ImageEntry {
        at: where_is(file, table, name),
        entry: format!("{table}.{name}"),
        reason,
    };
    let defined = || file.images.keys().cloned().collect::<Vec<_>>().join(", ");
    if file.images.is_empty() {
        // The one image of the flags: a function cannot name another.
        return match file.functions.iter().find(|(_, f)| f.image.is_some()) {
            Some((name, f)) => {
                let why = format!(
                    "names the image '{}', and the file has no [images.NAME] table: add one, \
                     or remove image",
                    f.image.as_deref().unwrap_or_default()
                );
                Err(entry("functions", name, why))
            }
            None => Ok(Vec::new()),
        };
    }
    for (name, table) in &file.functions {
        match &table.image {
            None => {
                let why = format!("names no image: add image = \"NAME\", one of {}", defined());
                return Err(entry("functions", name, why));
            }
            Some(image) if !file.images.contains_key(image) => {
                let why = format!(
                    "names the image '{image}', which no [images.NAME] table defines \
                     (defined: {})",
                    defined()
                );
                return Err(entry("functions", name, why));
            }
            Some(_) => {}
        }
    }
    let mut repositories: BTreeMap<&str, &str> = BTreeMap::new();
    let mut sources = Vec::new();
    for (name, table) in &file.images {
        let runs: Vec<(&String, &crate::settings::Settings)> = file
            .functions
            .iter()
            .filter(|(_, f)| f.image.as_deref() == Some(name))
            .collect();
        if runs.is_empty() {
            let why = format!(
                "no function runs it: name it in a function's table (image = \"{name}\"), or \
                 remove it"
            );
            return Err(entry("images", name, why));
        }
        let Some(repository) = table.repository.as_deref() else {
            let why = "has no repository: add repository = \"NAME\", its ECR repository";
            return Err(entry("images", name, why.to_string()));
        };
        repository
            .parse::<super::RepositoryName>()
            .map_err(|e| entry("images", name, e.to_string()))?;
        if let Some(first) = repositories.insert(repository, name) {
            let why = format!(
                "pushes to the repository {repository}, as [images.{first}] does: give each \
                 image a repository of its own"
            );
            return Err(entry("images", name, why));
        }
        let Some(context) = table.context.as_deref() else {
            let why = "has no context: add context = \"DIR\", relative to the file";
            return Err(entry("images", name, why.to_string()));
        };
        let dir = base.join(context);
        if !dir.is_dir() {
            let why =
                format!("its context '{context}' is not a directory (it is relative to the file)");
            return Err(entry("images", name, why));
        }
        let dockerfile = match &table.dockerfile {
            Some(d) => base.join(d),
            None => dir.join("Dockerfile"),
        };
        if !dockerfile.is_file() {
            let why = format!(
                "has no Dockerfile at '{}': add dockerfile = \"PATH\", relative to the file",
                table
                    .dockerfile
                    .clone()
                    .unwrap_or_else(|| format!("{context}/Dockerfile"))
            );
            return Err(entry("images", name, why));
        }
        if let Some(target) = &table.target
            && !super::valid_target(target)
        {
            let why = format!("its target '{target}' is not a valid stage name");
            return Err(entry("images", name, why));
        }
        let mut platforms: Vec<Platform> = Vec::new();
        let mut all_named = true;
        for (_, f) in &runs {
            match f.architecture.as_deref().map(str::parse::<Platform>) {
                Some(Ok(p)) if !platforms.contains(&p) => platforms.push(p),
                Some(Ok(_)) => {}
                _ => all_named = false,
            }
        }
        platforms.sort();
        let wanted = picked.is_empty() || runs.iter().any(|(f, _)| picked.contains(&f.as_str()));
        if wanted {
            sources.push(ImageSource {
                name: name.clone(),
                context: dir,
                dockerfile,
                repository: repository.to_string(),
                target: table.target.clone(),
                build_args: table.build_args.clone(),
                platforms: all_named.then_some(platforms),
            });
        }
    }
    for f in picked {
        if !file.functions.contains_key(*f) {
            let why = "has no table in the file: with [images], each function names its image in \
                       its [functions.NAME] table";
            return Err(entry("functions", f, why.to_string()));
        }
    }
    Ok(sources)
}

/// The repositories and the functions' names, from the flags, else the file
/// (`cleanup`, `prune`, `policy`: no configuration asked of them). With
/// `[images]`, the repositories are those of the images the functions run.
pub fn repository_and_names(
    repository: Option<String>,
    functions: &[String],
    file: ConfigFile,
) -> Result<(Vec<crate::model::RepositoryName>, Vec<String>), ConfigError> {
    let given = functions.iter().any(|f| !f.trim().is_empty());
    let named: Vec<String> = if given {
        functions.to_vec()
    } else {
        file.functions.keys().cloned().collect()
    };
    let mut names = Vec::new();
    for f in named.iter().filter(|f| !f.trim().is_empty()) {
        let target: FunctionTarget = f.parse()?;
        if !names.contains(&target.name) {
            names.push(target.name);
        }
    }
    if names.is_empty() {
        return Err(ConfigError::NoFunction);
    }
    let repository = repository.filter(|r| !r.trim().is_empty());
    if file.images.is_empty() {
        let repository = repository
            .or(file.repository)
            .ok_or(ConfigError::NoRepository)?
            .parse()?;
        return Ok((vec![repository], names));
    }
    if repository.is_some() {
        return Err(ConfigError::RepositoryWithImages);
    }
    let picked: Vec<&str> = if given {
        names.iter().map(|n| crate::lambda::plain_name(n)).collect()
    } else {
        Vec::new()
    };
    let repositories = image_sources(&file, &picked)?
        .into_iter()
        .map(|s| s.repository.parse())
        .collect::<Result<Vec<_>, _>>()?;
    Ok((repositories, names))
}

/// Each image's build: the flags with its context, Dockerfile, repository,
/// target and build arguments (the flags' build arguments win).
pub fn image_builds(
    args: &BuildArgs,
    sources: Vec<ImageSource>,
    ci: &CiContext,
) -> Result<Vec<ImageBuild>, ConfigError> {
    if args
        .repository
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty())
    {
        return Err(ConfigError::RepositoryWithImages);
    }
    let mut builds = Vec::new();
    for source in sources {
        let mut args = args.clone();
        args.repository = Some(source.repository);
        args.source.context = source.context;
        args.source.file = Some(source.dockerfile);
        args.source.target = args.source.target.or(source.target);
        let mut build_args: Vec<String> = source
            .build_args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        build_args.append(&mut args.source.build_args);
        args.source.build_args = build_args;
        let known = builds.first().map(|b: &ImageBuild| &b.build);
        let build = BuildConfig::from_args_in(args, ci, known)?;
        builds.push(ImageBuild {
            name: source.name,
            build,
            platforms: source.platforms,
        });
    }
    Ok(builds)
}

/// `lambda-ship.toml line 7`, where the table `[table.name]` starts.
fn where_is(file: &ConfigFile, table: &str, name: &str) -> String {
    let Some((path, text)) = &file.origin else {
        return super::function::FILE_NAME.to_string();
    };
    let headers = [format!("[{table}.{name}]"), format!("[{table}.\"{name}\"]")];
    let line = text.lines().position(|l| {
        let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        headers.iter().any(|h| l.starts_with(h.as_str()))
    });
    match line {
        Some(n) => format!("{} line {}", path.display(), n + 1),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
