//! What deploy asks of each function's configuration: `lambda-ship.toml`
//! (in the context, or `--config PATH`) with its defaults and per-function
//! tables, then the flags over it. Every value is checked against Lambda's
//! limits here, before any call.

use super::ConfigError;
use crate::model::FunctionTarget;
use crate::settings::{self, Settings, Words};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file's name in the build context.
pub const FILE_NAME: &str = "lambda-ship.toml";

/// `lambda-ship.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub repository: Option<String>,
    pub execution_role: Option<String>,
    pub function_url: Option<crate::model::UrlAuth>,
    pub alias: Option<String>,
    #[serde(default)]
    pub defaults: Settings,
    #[serde(default)]
    pub functions: BTreeMap<String, Settings>,
    /// A monorepo's images, each built from its own context.
    #[serde(default)]
    pub images: BTreeMap<String, ImageTable>,
    /// Where the file was read from, and its text: an entry's errors name its line.
    #[serde(skip)]
    pub origin: Option<(PathBuf, String)>,
}

/// One `[images.NAME]` table: what `config::images` checks and builds.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageTable {
    /// The build context, relative to the file.
    pub context: Option<String>,
    /// Relative to the file [default: `<context>/Dockerfile`].
    pub dockerfile: Option<String>,
    pub repository: Option<String>,
    pub target: Option<String>,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
}

/// Reads `--config PATH`, else `lambda-ship.toml` in the context when there is one.
pub fn read_file(explicit: Option<&Path>, context: &Path) -> Result<ConfigFile, ConfigError> {
    let path: PathBuf = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = context.join(FILE_NAME);
            if !p.is_file() {
                return Ok(ConfigFile::default());
            }
            p
        }
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
        path: shown.clone(),
        reason: format!("it cannot be read ({e})"),
    })?;
    let mut file = parse_file(&text).map_err(|reason| ConfigError::File {
        path: shown,
        reason,
    })?;
    file.origin = Some((path, text));
    Ok(file)
}

/// Parses the file's text; the error names the line and what is wrong there.
pub fn parse_file(text: &str) -> Result<ConfigFile, String> {
    toml::from_str::<ConfigFile>(text).map_err(|e| {
        let message = e.message().trim().replace('\n', " ");
        match e.span() {
            Some(span) => {
                let newlines = text.bytes().take(span.start).filter(|&b| b == b'\n');
                let line = newlines.count() + 1;
                format!("line {line}: {message}")
            }
            None => message,
        }
    })
}

/// The flags' settings with their files read and their words split: the
/// env file's pairs come before the flags' own (`--env` wins).
fn read_flags(flags: &Settings) -> Result<Settings, ConfigError> {
    let mut flags = flags.clone();
    // CI passes an input not given as an empty line.
    flags.env.retain(|pair| !pair.is_empty());
    if let Some(path) = flags.env_file.take() {
        let mut env: Vec<String> = read_env_file(&path)?
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        env.append(&mut flags.env);
        flags.env = env;
    }
    Ok(flags)
}

/// An image command or entrypoint split into its words.
fn split(flag: &'static str, words: &mut Option<Words>) -> Result<(), ConfigError> {
    if let Some(Words::Line(text)) = words {
        *words = Some(Words::List(parse_command(flag, text)?));
    }
    Ok(())
}

/// The functions to deploy, each with what is asked of its configuration:
/// `--function` names them, else the file's `[functions.NAME]` tables do.
pub fn functions(
    named: &[String],
    file: &ConfigFile,
    flags: &Settings,
) -> Result<Vec<(FunctionTarget, Settings)>, ConfigError> {
    if file.defaults.architecture.is_some() {
        return Err(ConfigError::FileValue(
            "defaults.architecture: an architecture belongs in a [functions.NAME] table".into(),
        ));
    }
    if file.defaults.image.is_some() {
        return Err(ConfigError::FileValue(
            "defaults.image: an image belongs in a [functions.NAME] table".into(),
        ));
    }
    let flags = read_flags(flags)?;
    let from_file;
    let names: Vec<&String> = if named.iter().any(|n| !n.trim().is_empty()) {
        named.iter().filter(|n| !n.trim().is_empty()).collect()
    } else {
        from_file = file.functions.keys().cloned().collect::<Vec<_>>();
        from_file.iter().collect()
    };
    let mut out: Vec<(FunctionTarget, Settings)> = Vec::new();
    for name in names {
        let mut target: FunctionTarget = name.parse()?;
        let table = file.functions.get(&target.name);
        if target.arch.is_none()
            && let Some(arch) = table.and_then(|t| t.architecture.as_deref())
        {
            target.arch = Some(arch.parse().map_err(|_| {
                ConfigError::FileValue(format!(
                    "functions.{}.architecture '{arch}' is not x86_64 or arm64",
                    target.name
                ))
            })?);
        }
        if out.iter().any(|(t, _)| t.name == target.name) {
            return Err(ConfigError::DuplicateFunction(target.name));
        }
        let own = table.cloned().unwrap_or_default();
        let mut settings = file.defaults.merge(&own).merge(&flags);
        settings.architecture = None;
        split("--image-command", &mut settings.image_command)?;
        split("--image-entrypoint", &mut settings.image_entrypoint)?;
        check(&target.name, &settings)?;
        out.push((target, settings));
    }
    if out.is_empty() {
        return Err(ConfigError::NoFunction);
    }
    Ok(out)
}

/// Lambda's limits, checked before any call.
fn check(function: &str, s: &Settings) -> Result<(), ConfigError> {
    let range =
        |what: &'static str, value: Option<u32>, range: std::ops::RangeInclusive<u32>| match value
            .filter(|v| !range.contains(v))
        {
            Some(v) => Err(ConfigError::OutOfRange {
                what,
                value: v,
                low: *range.start(),
                high: *range.end(),
                function: function.to_string(),
            }),
            None => Ok(()),
        };
    range("memory (MB)", s.memory, settings::MEMORY_MB)?;
    range("timeout (seconds)", s.timeout, settings::TIMEOUT_SECS)?;
    range(
        "ephemeral storage (MB)",
        s.ephemeral_storage,
        settings::EPHEMERAL_STORAGE_MB,
    )?;
    for pair in &s.env {
        let (key, _) = super::parse_env(pair)?;
        if settings::RESERVED_KEYS.contains(&key.as_str()) {
            return Err(ConfigError::ReservedKey(key));
        }
    }
    let size = settings::environment_bytes(&s.environment());
    if size > settings::ENVIRONMENT_MAX_BYTES {
        return Err(ConfigError::EnvTooLarge {
            function: function.to_string(),
            size,
        });
    }
    if s.description
        .as_ref()
        .is_some_and(|d| d.chars().count() > settings::DESCRIPTION_MAX_CHARS)
    {
        return Err(ConfigError::FileValue(format!(
            "the description of {function} is longer than Lambda's 256 characters"
        )));
    }
    for list in [&s.image_command, &s.image_entrypoint]
        .into_iter()
        .flatten()
        .filter_map(Words::list)
    {
        if list.is_empty() || list.len() > 1_500 {
            return Err(ConfigError::FileValue(format!(
                "an image command or entrypoint of {function} is empty: give at least one word"
            )));
        }
    }
    Ok(())
}

/// `--image-command` / `--image-entrypoint`: a JSON array of strings, or words
/// split as a shell splits them (`handler.sh "two words"` is two words).
pub fn parse_command(flag: &'static str, text: &str) -> Result<Vec<String>, ConfigError> {
    let text = text.trim();
    let words: Vec<String> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|_| ConfigError::Command {
            flag,
            value: text.to_string(),
        })?
    } else {
        shell_words::split(text).map_err(|_| ConfigError::Command {
            flag,
            value: text.to_string(),
        })?
    };
    if words.is_empty() {
        return Err(ConfigError::Command {
            flag,
            value: text.to_string(),
        });
    }
    Ok(words)
}

/// `--env-file`: the `.env` format as dotenvy reads it (the format users'
/// tools already write): `#` comments, `export`, single and double quotes,
/// escapes in double quotes, quoted values over several lines, and `${VAR}`
/// taken from earlier lines or the environment. Keys are checked as `--env`
/// checks them. A line that cannot be read is named by its number, never
/// shown: it may hold a secret.
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let shown = path.display().to_string();
    let file_error = |reason: String| ConfigError::File {
        path: shown.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| file_error(format!("it cannot be read ({e})")))?;
    // Where an entry that cannot be read starts, for the message.
    let line_of = |entry: &str| {
        text.find(entry.lines().next().unwrap_or(entry))
            .map_or("a line".to_string(), |at| {
                format!("line {}", text[..at].matches('\n').count() + 1)
            })
    };
    let mut env = BTreeMap::new();
    for entry in dotenvy::from_read_iter(text.as_bytes()) {
        let (k, v) = entry.map_err(|e| match e {
            dotenvy::Error::LineParse(entry, _) => file_error(format!(
                "{}: not KEY=VALUE with a KEY of letters, digits and _",
                line_of(&entry)
            )),
            // An I/O error or an unset variable: neither holds a value.
            other => file_error(format!("it cannot be read ({other})")),
        })?;
        super::parse_env(&format!("{k}=")).map_err(|_| {
            file_error(format!(
                "{}: the key {k} is not letters, digits and _ starting with a letter",
                line_of(&format!("{k}="))
            ))
        })?;
        env.insert(k, v);
    }
    Ok(env)
}

#[cfg(test)]
#[path = "function_tests.rs"]
mod tests;
