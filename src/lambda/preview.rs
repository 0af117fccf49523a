//! A pull request's preview of a function: a function of its own, named
//! `<function>-pr<N>`, with the function's configuration (role, memory,
//! timeout, environment, ImageConfig, storage, VPC) and the pull request's
//! image, behind its own Function URL, tagged so that cleanup finds it and
//! never takes another function for it. The function itself is never
//! written to: production runs what it ran, at every moment.

use super::client::Lambda;
use super::{FunctionSpec, PreflightError};
use crate::model::{FunctionTarget, UrlAuth};
use crate::settings::{Settings, Words};
use aws_sdk_lambda::types::FunctionUrlAuthType;
use sha2::{Digest, Sha256};

/// The tag that names the function a preview is of.
pub const PREVIEW_OF_TAG: &str = "lambda-ship:preview-of";
/// The tag that names the pull request a preview is for.
pub const PULL_REQUEST_TAG: &str = "lambda-ship:pull-request";
/// Lambda's limit on a function name.
const NAME_MAX: usize = 64;

/// `<function>-pr<N>`; a name too long for Lambda keeps its start and a
/// digest of the whole, so that two long names never share a preview.
pub fn preview_name(function: &str, pull_request: u64) -> String {
    let suffix = format!("-pr{pull_request}");
    if function.len() + suffix.len() <= NAME_MAX {
        return format!("{function}{suffix}");
    }
    let digest = format!("{:x}", Sha256::digest(function.as_bytes()));
    let keep = NAME_MAX - suffix.len() - 9;
    format!("{}-{}{suffix}", &function[..keep], &digest[..8])
}

/// Every setting the function has, as asked of its preview.
fn whole(production: &FunctionSpec) -> Settings {
    let local = &production.local;
    let number = |n: u64| u32::try_from(n).ok();
    let words = |w: &Option<Vec<String>>| w.clone().map(Words::List);
    Settings {
        memory: number(local.memory_mb),
        timeout: number(local.timeout.as_secs()),
        ephemeral_storage: number(local.ephemeral_storage_mb),
        env: local
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        image_command: words(&local.image_config.command),
        image_entrypoint: words(&local.image_config.entry_point),
        image_workdir: local.image_config.working_directory.clone(),
        description: Some(format!(
            "lambda-ship preview of {}",
            production.local.function_name
        )),
        ..Settings::default()
    }
}

impl Lambda {
    /// The preview of `production` for `pull_request`: read when it exists
    /// (it must carry this function's preview tag), else planned for
    /// creation. Its URL is of `auth`, else of the function's own URL's
    /// auth type, else IAM.
    pub async fn preview(
        &self,
        production: &FunctionSpec,
        pull_request: u64,
        auth: Option<UrlAuth>,
    ) -> Result<FunctionSpec, PreflightError> {
        let function = production.local.function_name.clone();
        let name = preview_name(&function, pull_request);
        let target = FunctionTarget {
            name: name.clone(),
            arch: Some(production.arch),
        };
        let wanted = whole(production);
        let api = |e: String| PreflightError::Api {
            name: name.clone(),
            message: e,
        };
        let found = self.client.get_function().function_name(&name).send().await;
        let mut spec = match found {
            Ok(out) => {
                let tags = out.tags();
                let ours = tags
                    .and_then(|t| t.get(PREVIEW_OF_TAG))
                    .is_some_and(|of| *of == function);
                if !ours {
                    return Err(PreflightError::NotAPreview {
                        function,
                        preview: name,
                    });
                }
                self.read(&target, None, None).await?.asking(&wanted)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                let role = production.role.clone().ok_or_else(|| {
                    api("the function has no execution role to run its preview as".into())
                })?;
                let mut spec = self.to_create(&target, &role)?.asking(&wanted);
                spec.vpc = production.vpc.clone();
                spec.tags = [
                    (PREVIEW_OF_TAG.to_string(), function.clone()),
                    (PULL_REQUEST_TAG.to_string(), pull_request.to_string()),
                ]
                .into();
                spec
            }
            Err(e) => return Err(api(self.calls.describe(&e))),
        };
        let auth = match auth {
            Some(auth) => auth,
            None => self.url_auth(&function).await.map_err(api)?,
        };
        spec.preview_of = Some(function);
        // A preview is compared with production, not with its own last run.
        spec.baseline = production.baseline.clone();
        spec.url = Some(auth);
        Ok(spec)
    }

    /// The auth type of the function's own URL; IAM when it has none.
    async fn url_auth(&self, function: &str) -> Result<UrlAuth, String> {
        match self
            .client
            .get_function_url_config()
            .function_name(function)
            .send()
            .await
        {
            Ok(out) if *out.auth_type() == FunctionUrlAuthType::None => Ok(UrlAuth::Public),
            Ok(_) => Ok(UrlAuth::Iam),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(UrlAuth::Iam)
            }
            Err(e) => Err(self.calls.describe(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::preview_name;

    #[test]
    fn a_preview_name_fits_lambdas_64_characters_and_stays_apart() {
        assert_eq!(preview_name("orders", 12), "orders-pr12");
        let long_a = format!("{}a", "x".repeat(60));
        let long_b = format!("{}b", "x".repeat(60));
        let (a, b) = (
            preview_name(&long_a, 123_456),
            preview_name(&long_b, 123_456),
        );
        assert_eq!(a.len(), 64);
        assert!(a.ends_with("-pr123456"));
        assert_ne!(a, b, "two long names never share a preview");
    }
}
