//! `lambda-ship verify`, and `--require-signature` of deploy and rollback:
//! an image's signature by a KMS key over its exact digest, and its
//! provenance attested by the same key, checked before anything runs it.

use crate::ci::{CiContext, Env};
use crate::cli::VerifyArgs;
use crate::config::VerifyConfig;
use crate::error::Error;
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::ecr::Ecr;
use crate::registry::manifest::{ManifestError, RegistryReader};
use crate::signing::{self, Attested, PublicKey};
use futures_util::future::join_all;

pub async fn run(args: VerifyArgs) -> Result<(), Error> {
    let env = Env::from_process();
    let ci = CiContext::detect(&env);
    let config = VerifyConfig::from_args(args, &ci)?;
    let c = &config.common;
    let progress = Progress::new(c.progress);
    let result = verify(&config, &ci, &env, &progress).await;
    progress.finish();
    let attested = result?;
    super::print(c.output, &attested, || to_text(&attested));
    Ok(())
}

async fn verify(
    config: &VerifyConfig,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<Attested, Error> {
    let sdk = super::command_session(&config.common.aws, ci, env, progress).await?;
    let key = signing::fetch_public_key(&sdk, &config.key).await?;
    let image = &config.image;
    let reader = reader(&sdk, &image.registry, config.registry.as_deref()).await?;
    let digest = if image.is_digest() {
        image.tag.clone()
    } else {
        reader
            .digest(image)
            .await?
            .ok_or_else(|| ManifestError::NotFound {
                image: image.to_string(),
            })?
    };
    progress.say(&format!("checking {image} ({digest}) against {}", key.key));
    let commit = config.commit.as_ref().map(|c| c.as_str());
    Ok(signing::check_image(&key, &reader, image, &digest, commit).await?)
}

/// A reader of `registry`: with the run's ECR token where it is the
/// account's ECR registry or the one the deploys push to (`pushed_to`),
/// else anonymous; the token is never sent anywhere else.
pub(super) async fn reader(
    sdk: &aws_config::SdkConfig,
    registry: &str,
    pushed_to: Option<&str>,
) -> Result<RegistryReader, Error> {
    let (host, token) = Ecr::new(sdk).token().await?;
    if registry == host || Some(registry) == pushed_to {
        Ok(RegistryReader::new(registry, &token))
    } else {
        Ok(RegistryReader::anonymous(registry))
    }
}

/// What `--require-signature` of a rollback checks images with: the key's
/// public half, read once, and a reader of the registry they are in.
pub(super) struct SignatureCheck {
    key: PublicKey,
    reader: RegistryReader,
    registry: String,
}

impl SignatureCheck {
    pub(super) async fn open(
        sdk: &aws_config::SdkConfig,
        key: &str,
        registry_override: Option<&str>,
    ) -> Result<Self, Error> {
        let key = signing::fetch_public_key(sdk, key).await?;
        let (host, token) = Ecr::new(sdk).token().await?;
        let registry = registry_override.map_or(host, str::to_string);
        Ok(SignatureCheck {
            key,
            reader: RegistryReader::new(&registry, &token),
            registry,
        })
    }

    /// Each image a function is to run (`HOST/REPOSITORY@DIGEST`), with
    /// the commit its provenance must name when known.
    pub(super) async fn check(
        &self,
        images: &[(String, Option<String>)],
        progress: &Progress,
    ) -> Result<(), Error> {
        let mut list = Vec::new();
        for (uri, commit) in images {
            let image = ImageRef::parse(uri)
                .filter(ImageRef::is_digest)
                .ok_or_else(|| signing::SigningError::Refused {
                    image: uri.clone(),
                    reason: "it is not an image pinned by digest, so no signature can be checked"
                        .into(),
                })?;
            let digest = image.tag.clone();
            let image = ImageRef {
                registry: self.registry.clone(),
                ..image
            };
            list.push((image, digest, commit.clone()));
        }
        require(&self.key, &self.reader, &list, progress)
            .await
            .map(|_| ())
    }
}

/// `--require-signature` of a deploy: every image it built or reused,
/// signed over its digest, its provenance naming `commit`.
pub(super) async fn require_built(
    key: &PublicKey,
    sdk: &aws_config::SdkConfig,
    built: &[crate::report::BuildReport],
    commit: &str,
    progress: &Progress,
) -> Result<(), Error> {
    let Some(registry) = built.first().map(|b| b.registry.as_str()) else {
        return Ok(());
    };
    let reader = reader(sdk, registry, Some(registry)).await?;
    let images: Vec<(ImageRef, String, Option<String>)> = built
        .iter()
        .flat_map(|b| &b.images)
        .filter_map(|i| {
            let image = ImageRef::parse(&i.pushed_to)?;
            Some((image, i.digest.clone(), Some(commit.to_string())))
        })
        .collect();
    require(key, &reader, &images, progress).await.map(|_| ())
}

/// `--require-signature`: every image checked, each refusal named; the
/// run goes on only when all pass.
pub(super) async fn require(
    key: &PublicKey,
    reader: &RegistryReader,
    images: &[(ImageRef, String, Option<String>)],
    progress: &Progress,
) -> Result<Vec<Attested>, Error> {
    let checks = images.iter().map(|(image, digest, commit)| {
        signing::check_image(key, reader, image, digest, commit.as_deref())
    });
    let mut passed = Vec::new();
    let mut refused = Vec::new();
    for result in join_all(checks).await {
        match result {
            Ok(a) => {
                progress.say(&format!("{}: signed by {}", a.image, key.key));
                passed.push(a);
            }
            Err(e) => refused.push(e),
        }
    }
    match refused.len() {
        0 => Ok(passed),
        1 => Err(refused.remove(0).into()),
        _ => Err(Error::Deploy(format!(
            "{} images fail --require-signature {}:\n  {}",
            refused.len(),
            key.key,
            refused
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        ))),
    }
}

fn to_text(a: &Attested) -> String {
    let p = &a.provenance;
    let build = &p["buildDefinition"]["externalParameters"];
    let field = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    let args: Vec<String> = build["buildArgs"]
        .as_array()
        .map(|a| a.iter().map(field).collect())
        .unwrap_or_default();
    format!(
        "{}: signed, provenance attested\n  source:     {}\n  commit:     {}\n  \
         dockerfile: {}\n  target:     {}\n  build args: {}\n  platform:   {}\n  \
         context:    {}\n  builder:    {} ({})\n  run:        {}\n",
        a.image,
        field(&build["source"]["uri"]),
        a.commit.as_deref().unwrap_or("-"),
        field(&build["dockerfile"]),
        field(&build["target"]),
        if args.is_empty() {
            "-".to_string()
        } else {
            args.join(", ")
        },
        field(&build["platform"]),
        field(&p["buildDefinition"]["resolvedDependencies"][1]["digest"]["sha256"]),
        field(&p["runDetails"]["builder"]["version"]["engine"]),
        field(&p["runDetails"]["builder"]["version"]["docker"]),
        field(&p["runDetails"]["metadata"]["invocationId"]),
    )
}
