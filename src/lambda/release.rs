//! A release behind an alias: the traffic split while it rolls out, the
//! alias settled on one version with what it served before, the versions
//! rolled back, and what a function's versions and aliases say, read back
//! for `history` and `rollback`.

use super::StepError;
use super::client::{Lambda, write_error};
use crate::model::release::{self, Served};
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use std::collections::{BTreeMap, HashMap};

/// An alias as it is now.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AliasState {
    pub name: String,
    pub version: String,
    /// Other versions and the share of the traffic (0–1) each gets.
    pub weights: Vec<(String, f64)>,
    pub description: String,
    /// Its `RevisionId`: a move of it is conditional on it.
    #[serde(skip)]
    pub revision_id: Option<String>,
}

impl AliasState {
    /// What it served before its current version, as lambda-ship recorded it.
    pub fn served(&self) -> Served {
        Served::parse(&self.description)
    }
}

/// One published version, as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PublishedVersion {
    pub version: String,
    pub description: String,
    /// When it was published (ISO 8601, as Lambda gives it).
    pub published: String,
}

fn call(operation: &'static str) -> impl Fn(String) -> StepError {
    move |message| StepError::Call { operation, message }
}

fn not_found<E: aws_sdk_lambda::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

impl Lambda {
    /// The alias, or None when the function has no alias of that name.
    pub async fn alias_state(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<AliasState>, StepError> {
        match self
            .client
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await
        {
            Ok(out) => Ok(Some(AliasState {
                name: alias.to_string(),
                version: out.function_version().unwrap_or_default().to_string(),
                weights: weights(out.routing_config()),
                description: out.description().unwrap_or_default().to_string(),
                revision_id: out.revision_id().map(str::to_string),
            })),
            Err(e) if e.as_service_error().is_some_and(not_found) => Ok(None),
            Err(e) => Err(call("GetAlias")(self.calls.describe(&e))),
        }
    }

    /// The alias stays on `from` and sends `percent` of the traffic to `to`,
    /// if it is still at `revision`. Returns its new revision.
    pub async fn route(
        &self,
        name: &str,
        alias: &str,
        (from, to): (&str, &str),
        percent: u8,
        revision: Option<&str>,
    ) -> Result<Option<String>, StepError> {
        let routing = AliasRoutingConfiguration::builder()
            .additional_version_weights(to, f64::from(percent) / 100.0)
            .build();
        self.client
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(from)
            .routing_config(routing)
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await
            .map(|out| out.revision_id().map(str::to_string))
            .map_err(|e| write_error(&self.calls, "UpdateAlias", &e))
    }

    /// The alias wholly on `version`, no weights left, if it is still at
    /// `revision`; with `served`, its description records what it served
    /// before. Returns its new revision.
    pub async fn settle(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        served: Option<&Served>,
        revision: Option<&str>,
    ) -> Result<Option<String>, StepError> {
        let no_weights = AliasRoutingConfiguration::builder()
            .set_additional_version_weights(Some(HashMap::new()))
            .build();
        self.client
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .routing_config(no_weights)
            .set_description(served.map(Served::to_description))
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await
            .map(|out| out.revision_id().map(str::to_string))
            .map_err(|e| write_error(&self.calls, "UpdateAlias", &e))
    }

    /// The function's tags.
    pub async fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, StepError> {
        let out = self
            .client
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(|e| call("GetFunction")(self.calls.describe(&e)))?;
        Ok(out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    /// Sets one tag of the function.
    pub async fn tag(&self, name: &str, key: &str, value: &str) -> Result<(), StepError> {
        let arn = self
            .client
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| call("GetFunctionConfiguration")(self.calls.describe(&e)))?
            .function_arn()
            .unwrap_or(name)
            .to_string();
        self.client
            .tag_resource()
            .resource(arn)
            .tags(key, value)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| call("TagResource")(self.calls.describe(&e)))
    }

    /// Records `version` among the function's rolled-back versions.
    pub async fn mark_rolled_back(&self, name: &str, version: &str) -> Result<(), StepError> {
        let tags = self.tags(name).await?;
        let value = release::with_rolled_back(
            tags.get(release::ROLLED_BACK_TAG).map(String::as_str),
            version,
        );
        self.tag(name, release::ROLLED_BACK_TAG, &value).await
    }

    /// Every published version of the function, oldest first.
    pub async fn published_versions(&self, name: &str) -> Result<Vec<PublishedVersion>, StepError> {
        let listed: Vec<_> = self
            .client
            .list_versions_by_function()
            .function_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| call("ListVersionsByFunction")(self.calls.describe(&e)))?;
        Ok(listed
            .into_iter()
            .filter_map(|v| {
                let version = v.version?;
                (version != "$LATEST").then(|| PublishedVersion {
                    version,
                    description: v.description.unwrap_or_default(),
                    published: v.last_modified.unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Every alias of the function.
    pub async fn aliases(&self, name: &str) -> Result<Vec<AliasState>, StepError> {
        let listed: Vec<_> = self
            .client
            .list_aliases()
            .function_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| call("ListAliases")(self.calls.describe(&e)))?;
        Ok(listed
            .into_iter()
            .map(|a| AliasState {
                weights: weights(a.routing_config()),
                name: a.name.unwrap_or_default(),
                version: a.function_version.unwrap_or_default(),
                description: a.description.unwrap_or_default(),
                revision_id: a.revision_id,
            })
            .collect())
    }
}

/// The weights of a routing configuration, in version order.
fn weights(routing: Option<&AliasRoutingConfiguration>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = routing
        .and_then(AliasRoutingConfiguration::additional_version_weights)
        .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
