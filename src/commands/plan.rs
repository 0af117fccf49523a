//! `deploy --dry-run`: what a deploy would do, from read APIs only. The
//! functions were read by preflight; the repository and the images pushed
//! already are read here. Nothing is built, pushed, created or updated.

use crate::config::{DeployConfig, Platform};
use crate::error::Error;
use crate::lambda::{FunctionSpec, Lambda};
use crate::ship::Survey;
use std::fmt::Write as _;

/// What a deploy would do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    pub dry_run: bool,
    /// Its `[images.NAME]`, when the run has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub repository: String,
    pub repository_exists: bool,
    pub images: Vec<ImagePlan>,
    pub functions: Vec<FunctionPlan>,
    /// How the aliases would move (`--rollout`), and what would stop them.
    pub rollout: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImagePlan {
    pub architecture: &'static str,
    pub tag: String,
    /// The image pushed already; None when it would be built.
    pub digest: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionPlan {
    pub name: String,
    pub architecture: &'static str,
    pub create: bool,
    /// Each configuration difference (environment keys, never values).
    pub changes: Vec<String>,
    pub code_before: Option<String>,
    /// `<uri>@<digest>` when pushed already, else `<uri>:<tag>` to be built.
    pub code_after: String,
    pub code_changes: bool,
    pub alias: Option<AliasPlan>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AliasPlan {
    pub name: String,
    /// The version it points at now; None when it would be created.
    pub from: Option<String>,
}

pub async fn plan(
    config: &DeployConfig,
    image: Option<&str>,
    build: &crate::config::BuildConfig,
    functions: &[FunctionSpec],
    survey: &Survey,
    lambda: &Lambda,
) -> Result<Plan, Error> {
    let image_of = |p: Platform| match survey.pushed.get(&p) {
        Some(digest) => format!("{}@{digest}", survey.repository_uri),
        None => format!("{}:{}", survey.repository_uri, build.tag(p)),
    };
    let mut planned = Vec::new();
    for f in functions {
        let alias = match &config.alias {
            Some(alias) if f.create_with_role.is_none() => Some(AliasPlan {
                name: alias.clone(),
                from: lambda
                    .alias_state(&f.name, alias)
                    .await
                    .map_err(|e| Error::Deploy(format!("{}: {e}", f.name)))?
                    .map(|a| a.version),
            }),
            Some(alias) => Some(AliasPlan {
                name: alias.clone(),
                from: None,
            }),
            None => None,
        };
        let after = image_of(f.arch);
        planned.push(FunctionPlan {
            name: f.name.clone(),
            architecture: f.arch.lambda_arch(),
            create: f.create_with_role.is_some(),
            changes: f.changes.iter().map(ToString::to_string).collect(),
            code_changes: f.image_before.as_deref() != Some(after.as_str())
                || f.arch != f.arch_before,
            code_before: f.image_before.clone(),
            code_after: after,
            alias,
        });
    }
    Ok(Plan {
        dry_run: true,
        repository: build.repository.to_string(),
        image: image.map(str::to_string),
        repository_exists: survey.repository_exists,
        images: build
            .platforms
            .iter()
            .map(|&p| ImagePlan {
                architecture: p.lambda_arch(),
                tag: build.tag(p),
                digest: survey.pushed.get(&p).cloned(),
            })
            .collect(),
        functions: planned,
        rollout: config.rollout.map(|r| {
            let mut gates: Vec<String> = config
                .gates
                .alarms
                .iter()
                .map(|a| format!("alarm {a}"))
                .collect();
            if let Some(max) = config.gates.max_error_rate {
                gates.push(format!("error rate over {max}%"));
            }
            match gates.is_empty() {
                true => format!("{r}, every function together, no gate"),
                false => format!(
                    "{r}, every function together, rolled back on {}",
                    gates.join(", ")
                ),
            }
        }),
    })
}

impl Plan {
    pub fn to_text(&self) -> String {
        let mut out = String::from("plan (dry run: nothing built, pushed, created or updated)\n");
        if let Some(image) = &self.image {
            let _ = writeln!(out, "image {image}");
        }
        let repo = if self.repository_exists {
            "exists"
        } else {
            "to be created"
        };
        let _ = writeln!(out, "repository {}: {repo}", self.repository);
        for i in &self.images {
            let state = match &i.digest {
                Some(d) => format!("pushed already, {d}"),
                None => "to be built and pushed".to_string(),
            };
            let _ = writeln!(out, "image {} {}: {state}", i.architecture, i.tag);
        }
        for f in &self.functions {
            let what = if f.create { "to be created" } else { "exists" };
            let _ = writeln!(out, "function {} ({}): {what}", f.name, f.architecture);
            for change in &f.changes {
                let _ = writeln!(out, "  config  {change}");
            }
            let code = if f.code_changes {
                format!(
                    "{} → {}",
                    f.code_before.as_deref().unwrap_or("(none)"),
                    f.code_after
                )
            } else {
                format!("unchanged, {}", f.code_after)
            };
            let _ = writeln!(out, "  code    {code}");
            if let Some(a) = &f.alias {
                let _ = writeln!(
                    out,
                    "  alias   {}: {} → a new version",
                    a.name,
                    a.from.as_deref().unwrap_or("(to be created)")
                );
            }
        }
        if let Some(r) = &self.rollout {
            let _ = writeln!(out, "rollout {r}");
        }
        out
    }
}
