//! `--sign-key`: each image of a run, once the registry holds it, signed
//! and its provenance attested beside it; what the key signed already
//! (an image reused by commit or by content) is not signed again.

use crate::config::BuildConfig;
use crate::error::Error;
use crate::progress::Progress;
use crate::registry::ImageRef;
use crate::registry::manifest::ManifestError;
use crate::registry::session::RegistrySession;
use crate::report::ImageReport;
use crate::signing::{self, Provenance, SigningKey};
use futures_util::future::try_join_all;

/// Signs every image in `images`, recording what was added on each.
pub(super) async fn sign_all(
    key: &SigningKey,
    session: &RegistrySession<'_>,
    config: &BuildConfig,
    images: &mut [ImageReport],
    progress: &Progress,
) -> Result<(), Error> {
    let reader = session.reader().await;
    let signed = try_join_all(images.iter().map(|image| {
        let reader = &reader;
        async move {
            let pushed =
                ImageRef::parse(&image.pushed_to).ok_or_else(|| ManifestError::Malformed {
                    image: image.pushed_to.clone(),
                    reason: "not an image reference".into(),
                })?;
            let facts = provenance(config, image);
            let signed = signing::sign_image(key, reader, &pushed, &image.digest, &facts).await?;
            let said = match (signed.signature, signed.attestation) {
                (true, true) => "signed, provenance attested",
                (false, true) => "signed already; provenance of this commit attested",
                (true, false) => "signed",
                (false, false) => "signed and attested already",
            };
            progress.say(&format!("{}: {said} by {}", image.platform, key.key));
            Ok::<_, Error>(signed)
        }
    }))
    .await?;
    for (image, signed) in images.iter_mut().zip(signed) {
        image.signed = Some(signed);
    }
    Ok(())
}

/// What the provenance of `image` says: facts of the build, never a
/// build argument's value.
fn provenance(config: &BuildConfig, image: &ImageReport) -> Provenance {
    let dockerfile = config
        .dockerfile
        .strip_prefix(&config.context)
        .unwrap_or(&config.dockerfile);
    Provenance {
        source: config.source_url.clone(),
        commit: config.sha.to_string(),
        dockerfile: dockerfile.display().to_string(),
        target: config.target.clone(),
        build_args: config.build_args.keys().cloned().collect(),
        inputs: image.inputs.clone(),
        platform: image.platform.to_string(),
        builder: image.engine.clone(),
        builder_version: image.engine_version.clone(),
        run: config.run_url.clone(),
    }
}
