//! What cleanup and prune ask of Lambda: a pull request's previews removed
//! (their URL, then the function with its versions and permissions), and
//! every image the named functions still run, by any version or alias, or
//! by any other pull request's preview.

use super::client::{Lambda, while_in_progress};
use super::preview::{PREVIEW_OF_TAG, preview_name};
use aws_sdk_lambda::operation::delete_function::DeleteFunctionError;
use aws_sdk_lambda::operation::delete_function_url_config::DeleteFunctionUrlConfigError;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What became of one function's preview.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PreviewRemoval {
    pub function: String,
    pub preview: String,
    /// It existed, was this function's preview, and was deleted.
    pub removed: bool,
    /// The image it ran, `<uri>@<digest>`.
    pub image: Option<String>,
    /// Why it was left: not found, not a lambda-ship preview, or an error.
    pub note: Option<String>,
    /// A call failed: it may still be there, and a cleanup run again finishes it.
    pub failed: bool,
}

impl PreviewRemoval {
    /// It was left because a call failed with `why`.
    fn failed(mut self, why: String) -> Self {
        self.note = Some(why);
        self.failed = true;
        self
    }
}

/// The digest of `<uri>@<digest>`.
pub fn digest_of(image: &str) -> Option<&str> {
    image.rsplit_once('@').map(|(_, d)| d)
}

/// The image a function (version) runs, by digest: its `ImageUri` when that
/// names a digest, else the digest Lambda resolved a tag to.
pub(super) fn running_image(
    code: Option<&aws_sdk_lambda::types::FunctionCodeLocation>,
) -> Option<String> {
    let code = code?;
    code.image_uri()
        .filter(|u| u.contains('@'))
        .or(code.resolved_image_uri())
        .map(str::to_string)
}

#[derive(Debug, thiserror::Error)]
pub enum HousekeepingError {
    #[error(
        "the function {0} does not exist (or this role may not read it): fix --function; \
         nothing was deleted"
    )]
    NoFunction(String),
    #[error("{operation} failed for {name}: {message}")]
    Api {
        operation: &'static str,
        name: String,
        message: String,
    },
}

impl Lambda {
    /// Deletes `function`'s preview for `pull_request`, if it has one.
    pub async fn remove_preview(&self, function: &str, pull_request: u64) -> PreviewRemoval {
        let preview = preview_name(function, pull_request);
        let mut removal = PreviewRemoval {
            function: function.to_string(),
            preview: preview.clone(),
            removed: false,
            image: None,
            note: None,
            failed: false,
        };
        let found = self
            .client
            .get_function()
            .function_name(&preview)
            .send()
            .await;
        let out = match found {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                removal.note = Some("no preview".into());
                return removal;
            }
            Err(e) => {
                return removal.failed(format!("GetFunction failed: {}", self.calls.describe(&e)));
            }
        };
        if out
            .tags()
            .and_then(|t| t.get(PREVIEW_OF_TAG))
            .map(String::as_str)
            != Some(function)
        {
            removal.note = Some("not a lambda-ship preview of it: left alone".into());
            return removal;
        }
        removal.image = running_image(out.code());
        // The URL goes first: no one reaches a function half deleted.
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = while_in_progress(
            &self.calls,
            "DeleteFunctionUrlConfig",
            deadline,
            |e: &DeleteFunctionUrlConfigError| e.is_resource_conflict_exception(),
            || {
                let call = self
                    .client
                    .delete_function_url_config()
                    .function_name(&preview);
                async move {
                    match call.send().await {
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|s| s.is_resource_not_found_exception()) =>
                        {
                            Ok(())
                        }
                        other => other.map(|_| ()),
                    }
                }
            },
        )
        .await;
        if let Err(e) = url {
            return removal.failed(e.to_string());
        }
        let deleted = while_in_progress(
            &self.calls,
            "DeleteFunction",
            deadline,
            |e: &DeleteFunctionError| e.is_resource_conflict_exception(),
            || self.client.delete_function().function_name(&preview).send(),
        )
        .await;
        match deleted {
            Ok(_) => PreviewRemoval {
                removed: true,
                ..removal
            },
            Err(e) => removal.failed(e.to_string()),
        }
    }

    /// Each image digest the functions run, with who runs it (`fn`,
    /// `fn:VERSION`, `fn:ALIAS`, or a preview), other than the previews
    /// named in `removed`. A function that does not exist is an error when
    /// `strict`, else it runs nothing.
    pub async fn images_in_use(
        &self,
        functions: &[String],
        removed: &[String],
        strict: bool,
    ) -> Result<BTreeMap<String, Vec<String>>, HousekeepingError> {
        let mut used: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut note = |image: Option<&str>, by: String| {
            if let Some(d) = image.and_then(digest_of) {
                used.entry(d.to_string()).or_default().push(by);
            }
        };
        let api = |operation, name: &str, message| HousekeepingError::Api {
            operation,
            name: name.to_string(),
            message,
        };
        for f in functions {
            let exists = match self.client.get_function().function_name(f).send().await {
                Ok(out) => {
                    // On $LATEST, the image a rollback would go back to.
                    let previous = out
                        .tags()
                        .and_then(|t| t.get(crate::model::release::PREVIOUS_IMAGE_TAG));
                    note(
                        previous.map(String::as_str),
                        format!("{f} (what a rollback goes back to)"),
                    );
                    true
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    if strict {
                        return Err(HousekeepingError::NoFunction(f.clone()));
                    }
                    // Gone: it runs nothing, but its previews may.
                    false
                }
                Err(e) => return Err(api("GetFunction", f, self.calls.describe(&e))),
            };
            if exists {
                let versions = self
                    .versions(f)
                    .await
                    .map_err(|e| api("ListVersionsByFunction", f, self.calls.describe(&e)))?;
                for version in &versions {
                    let image = self
                        .image_of(f, version)
                        .await
                        .map_err(|m| api("GetFunction", f, m))?;
                    let who = if version == "$LATEST" {
                        f.clone()
                    } else {
                        format!("{f}:{version}")
                    };
                    note(image.as_deref(), who);
                }
                let aliases = self
                    .client
                    .list_aliases()
                    .function_name(f)
                    .send()
                    .await
                    .map_err(|e| api("ListAliases", f, self.calls.describe(&e)))?;
                for alias in aliases.aliases() {
                    let Some(version) = alias.function_version() else {
                        continue;
                    };
                    let image = self
                        .image_of(f, version)
                        .await
                        .map_err(|m| api("GetFunction", f, m))?;
                    note(
                        image.as_deref(),
                        format!("{f}:{}", alias.name().unwrap_or_default()),
                    );
                }
            }
            // Its previews, whether or not it still exists.
            for (preview, image) in self
                .previews_of(f)
                .await
                .map_err(|m| api("ListFunctions", f, m))?
            {
                if !removed.contains(&preview) {
                    note(image.as_deref(), format!("{preview} (preview)"));
                }
            }
        }
        Ok(used)
    }

    async fn versions(
        &self,
        function: &str,
    ) -> Result<
        Vec<String>,
        aws_sdk_lambda::error::SdkError<
            aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionError,
            aws_sdk_lambda::config::http::HttpResponse,
        >,
    > {
        let versions: Vec<_> = self
            .client
            .list_versions_by_function()
            .function_name(function)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await?;
        Ok(versions.into_iter().filter_map(|v| v.version).collect())
    }

    async fn image_of(&self, function: &str, qualifier: &str) -> Result<Option<String>, String> {
        self.client
            .get_function()
            .function_name(function)
            .qualifier(qualifier)
            .send()
            .await
            .map(|out| running_image(out.code()))
            .map_err(|e| self.calls.describe(&e))
    }

    /// Every preview of `function` (any pull request), with its image.
    async fn previews_of(&self, function: &str) -> Result<Vec<(String, Option<String>)>, String> {
        // Names are narrowed by their start; the tag decides.
        let prefix = &function[..function.len().min(40)];
        let functions: Vec<_> = self
            .client
            .list_functions()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.calls.describe(&e))?;
        let names = functions
            .into_iter()
            .filter_map(|f| f.function_name)
            .filter(|n| n.starts_with(prefix) && n.contains("-pr"));
        let mut previews = Vec::new();
        for name in names {
            // Gone since the listing: it runs nothing. Any other error could
            // hide an image in use, so it stops the run.
            let out = match self.client.get_function().function_name(&name).send().await {
                Ok(out) => out,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    continue;
                }
                Err(e) => return Err(self.calls.describe(&e)),
            };
            if out
                .tags()
                .and_then(|t| t.get(PREVIEW_OF_TAG))
                .map(String::as_str)
                == Some(function)
            {
                previews.push((name, running_image(out.code())));
            }
        }
        Ok(previews)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::types::FunctionCodeLocation;

    #[test]
    fn a_version_deployed_by_tag_is_known_by_the_digest_lambda_resolved() {
        let by_tag = FunctionCodeLocation::builder()
            .image_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:v1")
            .resolved_image_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:ab")
            .build();
        let image = running_image(Some(&by_tag)).unwrap();
        assert_eq!(digest_of(&image), Some("sha256:ab"));
        let by_digest = FunctionCodeLocation::builder()
            .image_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:cd")
            .build();
        assert_eq!(
            running_image(Some(&by_digest))
                .as_deref()
                .and_then(digest_of),
            Some("sha256:cd")
        );
        assert_eq!(
            super::super::plain_name("arn:aws:lambda:eu-west-1:1:function:orders"),
            "orders"
        );
    }
}

#[cfg(test)]
#[path = "housekeeping_tests.rs"]
mod housekeeping_tests;
