//! A function read before anything is built: where it is, what it is, and
//! how Lambda runs it (the settings of its local run too); or, when it does
//! not exist and `--execution-role` is given, the function to create.

use super::client::{Lambda, platform_of};
use super::{FunctionSpec, PreflightError, check_target};
use crate::model::{FunctionTarget, Platform};
use crate::settings::Settings;
use aws_sdk_lambda::types::PackageType;

impl Lambda {
    /// Reads each function: it must be in the run's Region and account
    /// (`account`, when any function is named by ARN), exist and be a
    /// container-image function.
    pub async fn preflight(
        &self,
        target: &FunctionTarget,
        account: Option<&str>,
        execution_role: Option<&str>,
        asked: &Settings,
    ) -> Result<FunctionSpec, PreflightError> {
        let spec = self
            .read(target, account, execution_role)
            .await?
            .asking(asked);
        let size = crate::settings::environment_bytes(&spec.local.environment);
        if size > crate::settings::ENVIRONMENT_MAX_BYTES {
            return Err(PreflightError::EnvTooLarge {
                name: spec.name,
                size,
            });
        }
        Ok(spec)
    }

    /// The function as it is (or, when it is to be created, as Lambda would
    /// make it), before anything is asked of it.
    pub(super) async fn read(
        &self,
        target: &FunctionTarget,
        account: Option<&str>,
        execution_role: Option<&str>,
    ) -> Result<FunctionSpec, PreflightError> {
        check_target(target, &self.region, account)?;
        let found = self
            .client
            .get_function()
            .function_name(&target.name)
            .send()
            .await;
        let out = match found {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return match execution_role {
                    Some(role) => self.to_create(target, role),
                    None => Err(PreflightError::NotFound(target.name.clone())),
                };
            }
            Err(e) => {
                return Err(PreflightError::Api {
                    name: target.name.clone(),
                    message: self.calls.describe(&e),
                });
            }
        };
        let config = out.configuration();
        if config.and_then(|c| c.package_type()) != Some(&PackageType::Image) {
            return Err(PreflightError::Zip(target.name.clone()));
        }
        let current = config
            .and_then(|c| c.architectures().first())
            .map(platform_of)
            .unwrap_or(Platform::Amd64);
        let defaults = crate::sandbox::LocalSettings::default();
        Ok(FunctionSpec {
            create_with_role: None,
            asked: Settings::default(),
            changes: Vec::new(),
            description: config.and_then(|c| c.description()).map(str::to_string),
            role: config.and_then(|c| c.role()).map(str::to_string),
            vpc: config.and_then(|c| c.vpc_config()).and_then(|v| {
                let subnets = v.subnet_ids().to_vec();
                (!subnets.is_empty()).then(|| (subnets, v.security_group_ids().to_vec()))
            }),
            tags: Default::default(),
            preview_of: None,
            url: None,
            baseline: out
                .tags()
                .and_then(|t| t.get(crate::metrics::NUMBERS_TAG))
                .map(|t| crate::metrics::Numbers::from_tag(t)),
            name: target.name.clone(),
            arch: target.arch.unwrap_or(current),
            arch_before: current,
            image_before: out.code().and_then(|c| c.image_uri()).map(str::to_string),
            revision_id: config.and_then(|c| c.revision_id()).map(str::to_string),
            code_sha256: config.and_then(|c| c.code_sha256()).map(str::to_string),
            updating: config
                .is_some_and(|c| super::race::is_changing(c.last_update_status(), c.state())),
            pinned_before: super::housekeeping::running_image(out.code()),
            local: crate::sandbox::LocalSettings {
                function_name: config
                    .and_then(|c| c.function_name())
                    .unwrap_or(&target.name)
                    .to_string(),
                memory_mb: config
                    .and_then(|c| c.memory_size())
                    .and_then(|m| u64::try_from(m).ok())
                    .unwrap_or(defaults.memory_mb),
                timeout: config
                    .and_then(|c| c.timeout())
                    .and_then(|t| u64::try_from(t).ok())
                    .map_or(defaults.timeout, std::time::Duration::from_secs),
                region: self.region.clone(),
                // The function's own variables: its handler may need them.
                environment: config
                    .and_then(|c| c.environment())
                    .and_then(|e| e.variables())
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                image_config: image_overrides(config),
                ephemeral_storage_mb: config
                    .and_then(|c| c.ephemeral_storage())
                    .and_then(|e| u64::try_from(e.size()).ok())
                    .unwrap_or(defaults.ephemeral_storage_mb),
                credentials: None,
            },
        })
    }
}

impl Lambda {
    /// A function that does not exist yet, to be created with `role`: its
    /// architecture must be named, as `NAME:ARCH`.
    pub(super) fn to_create(
        &self,
        target: &FunctionTarget,
        role: &str,
    ) -> Result<FunctionSpec, PreflightError> {
        let arch = target
            .arch
            .ok_or_else(|| PreflightError::NoArchitecture(target.name.clone()))?;
        Ok(FunctionSpec {
            name: target.name.clone(),
            arch,
            arch_before: arch,
            image_before: None,
            revision_id: None,
            code_sha256: None,
            updating: false,
            pinned_before: None,
            create_with_role: Some(role.to_string()),
            asked: Settings::default(),
            changes: Vec::new(),
            description: None,
            role: Some(role.to_string()),
            vpc: None,
            tags: Default::default(),
            preview_of: None,
            url: None,
            baseline: None,
            // What Lambda gives a new function where nothing is asked: the
            // defaults of a local run are Lambda's (128 MB, 3 s).
            local: crate::sandbox::LocalSettings {
                function_name: super::plain_name(&target.name).to_string(),
                region: self.region.clone(),
                ..crate::sandbox::LocalSettings::default()
            },
        })
    }
}

impl FunctionSpec {
    /// The function once `asked` is applied: how it will run (its local
    /// run too), and each difference from how it runs now.
    pub(super) fn asking(mut self, asked: &Settings) -> FunctionSpec {
        let (next, changes) = asked.apply(&self.local, self.description.as_deref());
        self.local = next;
        self.changes = changes;
        self.asked = asked.clone();
        self
    }
}

/// The function's `ImageConfig`, as the local run applies it.
fn image_overrides(
    config: Option<&aws_sdk_lambda::types::FunctionConfiguration>,
) -> crate::model::ImageOverrides {
    let Some(image) = config
        .and_then(|c| c.image_config_response())
        .and_then(|r| r.image_config())
    else {
        return crate::model::ImageOverrides::default();
    };
    let list = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
    crate::model::ImageOverrides {
        entry_point: list(image.entry_point()),
        command: list(image.command()),
        working_directory: image.working_directory().map(str::to_string),
    }
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod preflight_tests;
