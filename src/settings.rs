//! A function's configuration as the flags and `lambda-ship.toml` ask for it
//! (`Settings`: every value optional, since what is not asked is left as the
//! function has it), and how it differs from what the function has
//! (`Change`). Plain values: no I/O.

use crate::model::LocalSettings;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Lambda's limits.
pub const MEMORY_MB: RangeInclusive<u32> = 128..=10_240;
pub const TIMEOUT_SECS: RangeInclusive<u32> = 1..=900;
pub const EPHEMERAL_STORAGE_MB: RangeInclusive<u32> = 512..=10_240;
/// The total size of a function's environment variables, keys and values.
pub const ENVIRONMENT_MAX_BYTES: usize = 4_096;
pub const DESCRIPTION_MAX_CHARS: usize = 256;

/// Keys Lambda sets itself and refuses in a function's environment.
pub use crate::model::RESERVED_VARIABLES as RESERVED_KEYS;

/// What is asked of a function's configuration, in one shape wherever it is
/// asked: clap fills it from the flags (`#[command(flatten)]`), serde from
/// `lambda-ship.toml`'s `[defaults]` and `[functions.NAME]` tables under the
/// same names, and [`Settings::merge`] lays one over another. Values are
/// checked against Lambda's limits in one place, `config::function`; a new
/// setting is one field here, its check there, and its line in `apply`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Only in a function's table of the file: the architecture it is deployed as.
    #[arg(skip)]
    pub architecture: Option<String>,

    /// Only in a function's table of the file: the `[images.NAME]` it runs.
    #[arg(skip)]
    pub image: Option<String>,

    /// Memory, in MB (128–10240).
    #[arg(long, env = "LAMBDA_SHIP_MEMORY")]
    pub memory: Option<u32>,

    /// Timeout, in seconds (1–900).
    #[arg(long, env = "LAMBDA_SHIP_TIMEOUT")]
    pub timeout: Option<u32>,

    /// Ephemeral storage (/tmp), in MB (512–10240).
    #[arg(long, env = "LAMBDA_SHIP_EPHEMERAL_STORAGE")]
    pub ephemeral_storage: Option<u32>,

    /// An environment variable, KEY=VALUE (repeatable), set beside the ones the
    /// function has. Values are never printed.
    // In the file, a table of KEY = "VALUE"; here as KEY=VALUE pairs in the
    // order given, a later key winning, checked with the flags' own.
    #[arg(
        long = "env",
        value_name = "KEY=VALUE",
        env = "LAMBDA_SHIP_ENV",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    #[serde(default, deserialize_with = "env_table")]
    pub env: Vec<String>,

    /// A .env file of KEY=VALUE lines to set as environment variables (--env wins).
    #[arg(long, env = "LAMBDA_SHIP_ENV_FILE")]
    #[serde(skip)]
    pub env_file: Option<std::path::PathBuf>,

    /// The image's command for this function (ImageConfig): words, or a JSON array.
    #[arg(long, env = "LAMBDA_SHIP_IMAGE_COMMAND", value_parser = Words::flag)]
    pub image_command: Option<Words>,

    /// The image's entrypoint for this function (ImageConfig): words, or a JSON array.
    #[arg(long, env = "LAMBDA_SHIP_IMAGE_ENTRYPOINT", value_parser = Words::flag)]
    pub image_entrypoint: Option<Words>,

    /// The image's working directory for this function (ImageConfig).
    #[arg(long, env = "LAMBDA_SHIP_IMAGE_WORKDIR")]
    pub image_workdir: Option<String>,

    /// The function's description.
    #[arg(long, env = "LAMBDA_SHIP_DESCRIPTION")]
    pub description: Option<String>,
}

/// An image command or entrypoint: a flag's text as given (words, or a JSON
/// array), until the configuration is checked and splits it into `List`; the
/// file's array is a `List` already.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum Words {
    List(Vec<String>),
    Line(String),
}

impl Words {
    /// The flag's text, kept whole: it is checked with the rest, so a bad
    /// value is one line of the configuration's errors, not clap's.
    fn flag(text: &str) -> Result<Words, std::convert::Infallible> {
        Ok(Words::Line(text.to_string()))
    }

    /// The words, once checked.
    pub fn list(&self) -> Option<&Vec<String>> {
        match self {
            Words::List(words) => Some(words),
            Words::Line(_) => None,
        }
    }
}

/// The file's `env` table, as the flags' KEY=VALUE pairs.
fn env_table<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let table: BTreeMap<String, String> = serde::Deserialize::deserialize(d)?;
    Ok(table.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
}

/// The size Lambda counts for an environment: its keys and values.
pub fn environment_bytes(env: &BTreeMap<String, String>) -> usize {
    env.iter().map(|(k, v)| k.len() + v.len()).sum()
}

impl Settings {
    /// These settings with `over`'s values where it has them; the
    /// environments merge, `over`'s keys winning.
    pub fn merge(&self, over: &Settings) -> Settings {
        let pick = |a: &Option<Words>, b: &Option<Words>| b.clone().or(a.clone());
        Settings {
            architecture: over.architecture.clone().or(self.architecture.clone()),
            image: over.image.clone().or(self.image.clone()),
            memory: over.memory.or(self.memory),
            timeout: over.timeout.or(self.timeout),
            ephemeral_storage: over.ephemeral_storage.or(self.ephemeral_storage),
            env: self.env.iter().chain(&over.env).cloned().collect(),
            env_file: over.env_file.clone().or(self.env_file.clone()),
            image_command: pick(&self.image_command, &over.image_command),
            image_entrypoint: pick(&self.image_entrypoint, &over.image_entrypoint),
            image_workdir: over.image_workdir.clone().or(self.image_workdir.clone()),
            description: over.description.clone().or(self.description.clone()),
        }
    }

    /// The environment asked: each KEY=VALUE pair, a later key winning.
    pub fn environment(&self) -> BTreeMap<String, String> {
        self.env
            .iter()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// How the function runs once these settings are applied to what it
    /// has (`current`, `description`), and each difference.
    pub fn apply(
        &self,
        current: &LocalSettings,
        description: Option<&str>,
    ) -> (LocalSettings, Vec<Change>) {
        let mut next = current.clone();
        let mut changes = Vec::new();
        let mut number = |field: Field, asked: Option<u32>, have: &mut u64| {
            if let Some(asked) = asked.map(u64::from).filter(|a| a != have) {
                changes.push(Change::Number(field, *have, asked));
                *have = asked;
            }
        };
        number(Field::Memory, self.memory, &mut next.memory_mb);
        let mut timeout = current.timeout.as_secs();
        number(Field::Timeout, self.timeout, &mut timeout);
        next.timeout = std::time::Duration::from_secs(timeout);
        number(
            Field::EphemeralStorage,
            self.ephemeral_storage,
            &mut next.ephemeral_storage_mb,
        );
        for (key, value) in &self.environment() {
            match next.environment.insert(key.clone(), value.clone()) {
                None => changes.push(Change::EnvAdded(key.clone())),
                Some(old) if old != *value => changes.push(Change::EnvChanged(key.clone())),
                Some(_) => {}
            }
        }
        let image = &mut next.image_config;
        let mut list = |field: Field, asked: &Option<Words>, have: &mut Option<Vec<String>>| {
            let asked = asked.as_ref().and_then(Words::list);
            if let Some(asked) = asked.filter(|a| have.as_ref() != Some(*a)) {
                changes.push(Change::Text(
                    field,
                    have.as_ref().map(|h| quoted(h)),
                    quoted(asked),
                ));
                *have = Some(asked.clone());
            }
        };
        list(
            Field::ImageEntrypoint,
            &self.image_entrypoint,
            &mut image.entry_point,
        );
        list(Field::ImageCommand, &self.image_command, &mut image.command);
        if let Some(dir) = self
            .image_workdir
            .as_ref()
            .filter(|d| image.working_directory.as_ref() != Some(*d))
        {
            changes.push(Change::Text(
                Field::ImageWorkdir,
                image.working_directory.clone(),
                dir.clone(),
            ));
            image.working_directory = Some(dir.clone());
        }
        if let Some(text) = self
            .description
            .as_ref()
            .filter(|d| description.unwrap_or_default() != d.as_str())
        {
            let before = description.filter(|d| !d.is_empty()).map(str::to_string);
            changes.push(Change::Text(Field::Description, before, text.clone()));
        }
        (next, changes)
    }
}

fn quoted(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_default()
}

/// A part of a function's configuration, as UpdateFunctionConfiguration sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Memory,
    Timeout,
    EphemeralStorage,
    Environment,
    ImageEntrypoint,
    ImageCommand,
    ImageWorkdir,
    Description,
}

impl Field {
    fn label(self) -> &'static str {
        match self {
            Field::Memory => "memory",
            Field::Timeout => "timeout",
            Field::EphemeralStorage => "ephemeral storage",
            Field::Environment => "environment",
            Field::ImageEntrypoint => "image entrypoint",
            Field::ImageCommand => "image command",
            Field::ImageWorkdir => "image workdir",
            Field::Description => "description",
        }
    }

    /// Whether it is a part of the function's `ImageConfig`.
    pub fn is_image_config(self) -> bool {
        matches!(
            self,
            Field::ImageEntrypoint | Field::ImageCommand | Field::ImageWorkdir
        )
    }
}

/// One difference between a function's configuration and what is asked.
/// Its text never holds an environment value: values may be secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Number(Field, u64, u64),
    EnvAdded(String),
    EnvChanged(String),
    Text(Field, Option<String>, String),
}

impl Change {
    pub fn field(&self) -> Field {
        match self {
            Change::Number(f, ..) | Change::Text(f, ..) => *f,
            Change::EnvAdded(_) | Change::EnvChanged(_) => Field::Environment,
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Number(field, before, after) => {
                let unit = if *field == Field::Timeout {
                    " s"
                } else {
                    " MB"
                };
                write!(f, "{} {before} → {after}{unit}", field.label())
            }
            Change::EnvAdded(key) => write!(f, "environment {key} added"),
            Change::EnvChanged(key) => write!(f, "environment {key} changed"),
            Change::Text(field, before, after) => write!(
                f,
                "{} {} → {after}",
                field.label(),
                before.as_deref().unwrap_or("(none)")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> LocalSettings {
        let mut s = LocalSettings {
            memory_mb: 256,
            ..LocalSettings::default()
        };
        s.environment.insert("TABLE".into(), "orders".into());
        s.environment.insert("TOKEN".into(), "s3cr3t-value".into());
        s
    }

    #[test]
    fn what_is_not_asked_stays_as_the_function_has_it() {
        let (next, changes) = Settings::default().apply(&current(), Some("kept"));
        assert_eq!(next, current());
        assert!(changes.is_empty());
    }

    #[test]
    fn each_difference_is_one_change_and_env_values_never_show() {
        let asked = Settings {
            memory: Some(512),
            timeout: Some(10),
            env: vec![
                "TOKEN=n3w-s3cr3t".into(),
                "TABLE=orders".into(),
                "MODE=fast-secret-mode".into(),
            ],
            image_command: Some(Words::List(vec!["app.worker".into()])),
            description: Some("orders".into()),
            ..Settings::default()
        };
        let (next, changes) = asked.apply(&current(), None);
        let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "memory 256 → 512 MB",
                "timeout 3 → 10 s",
                "environment MODE added",
                "environment TOKEN changed",
                "image command (none) → [\"app.worker\"]",
                "description (none) → orders",
            ]
        );
        assert!(!text.join(" ").contains("s3cr3t") && !text.join(" ").contains("fast-secret"));
        assert_eq!(next.memory_mb, 512);
        assert_eq!(
            next.environment.len(),
            3,
            "the function's own keys are kept"
        );
        assert_eq!(next.image_config.command, Some(vec!["app.worker".into()]));
    }

    #[test]
    fn flags_override_the_file_and_environments_merge() {
        let file = Settings {
            memory: Some(512),
            timeout: Some(30),
            env: vec!["A=1".into(), "B=2".into()],
            ..Settings::default()
        };
        let flags = Settings {
            memory: Some(1024),
            env: vec!["B=3".into()],
            ..Settings::default()
        };
        let merged = file.merge(&flags);
        assert_eq!(merged.memory, Some(1024));
        assert_eq!(merged.timeout, Some(30));
        assert_eq!(merged.environment()["A"], "1");
        assert_eq!(merged.environment()["B"], "3");
    }
}
