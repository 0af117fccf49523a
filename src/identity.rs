//! Identity: the CI's OIDC token, exchanged through STS
//! `AssumeRoleWithWebIdentity` for the credentials that serve ECR and Lambda.

use crate::ci::workflow;
use crate::ci::{CiContext, CiKind, Env};
pub use crate::model::AssumedRole;
use crate::model::RoleConfig;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "no OIDC token on GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL is not set, which means \
         the workflow lacks `permissions: id-token: write`. Add it to the job (or the workflow), \
         or drop --role-arn to use other AWS credentials. Pull requests from forks never get one"
    )]
    GitHubPermission,
    #[error(
        "--web-identity-token-env names {0}, which is not set: on GitLab declare it under \
         `id_tokens:` in the job (with aud: sts.amazonaws.com)"
    )]
    TokenEnvMissing(String),
    #[error(
        "--role-arn needs an OIDC token and none was found: on GitHub Actions grant \
         `id-token: write`; on GitLab pass --web-identity-token-env NAME for an `id_tokens` \
         variable; elsewhere set AWS_WEB_IDENTITY_TOKEN_FILE"
    )]
    NoToken,
    #[error("cannot read the OIDC token file {path}: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("getting the OIDC token from GitHub failed: {0}")]
    GitHubToken(String),
    #[error("STS AssumeRoleWithWebIdentity for {role} failed: {message}")]
    AssumeRole { role: String, message: String },
    #[error("STS GetCallerIdentity (the account of the functions named by ARN) failed: {0}")]
    CallerIdentity(String),
    #[error(
        "the local run cannot have the credentials of the execution role {role}: STS \
         AssumeRole failed: {message}. The deploy role needs sts:AssumeRole on it (lambda-ship \
         policy --local-credentials execution-role) and the execution role's trust policy must \
         name the deploy role; or drop --local-credentials"
    )]
    ExecutionRole { role: String, message: String },
    #[error(
        "--credentials found no AWS credentials in the standard chain (environment, profile, \
         SSO, instance role): {0}. Set AWS_PROFILE or AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, or drop --credentials"
    )]
    NoCredentials(String),
}

impl IdentityError {
    /// Whether the error is in the configuration, found before anything was done.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            IdentityError::GitHubPermission
                | IdentityError::TokenEnvMissing(_)
                | IdentityError::NoToken
                | IdentityError::NoCredentials(_)
        )
    }
}

/// Where the web-identity token comes from.
#[derive(Debug)]
pub enum TokenSource {
    /// GitHub Actions' token endpoint, asked with the job's request token.
    GitHub {
        url: String,
        request_token: SecretString,
    },
    /// A variable that holds the token itself (GitLab `id_tokens`).
    Env(String),
    /// A file that holds it (AWS_WEB_IDENTITY_TOKEN_FILE).
    File(PathBuf),
}

/// Picks the token source of this CI, before anything is done.
pub fn token_source(
    role: &RoleConfig,
    ci: &CiContext,
    env: &Env,
) -> Result<TokenSource, IdentityError> {
    if let Some(name) = &role.token_env {
        return match env.get(name) {
            Some(_) => Ok(TokenSource::Env(name.clone())),
            None => Err(IdentityError::TokenEnvMissing(name.clone())),
        };
    }
    if ci.kind == CiKind::GitHub {
        return match (
            env.get("ACTIONS_ID_TOKEN_REQUEST_URL"),
            env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            (Some(url), Some(token)) => Ok(TokenSource::GitHub {
                url: url.to_string(),
                request_token: SecretString::from(token.to_string()),
            }),
            _ => Err(IdentityError::GitHubPermission),
        };
    }
    match env.get("AWS_WEB_IDENTITY_TOKEN_FILE") {
        Some(path) => Ok(TokenSource::File(PathBuf::from(path))),
        None => Err(IdentityError::NoToken),
    }
}

/// Gets the token from its source.
pub async fn web_identity_token(
    source: &TokenSource,
    audience: &str,
    env: &Env,
) -> Result<SecretString, IdentityError> {
    match source {
        TokenSource::Env(name) => env
            .get(name)
            .map(|t| SecretString::from(t.trim().to_string()))
            .ok_or_else(|| IdentityError::TokenEnvMissing(name.clone())),
        TokenSource::File(path) => std::fs::read_to_string(path)
            .map(|t| SecretString::from(t.trim().to_string()))
            .map_err(|e| IdentityError::TokenFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        TokenSource::GitHub { url, request_token } => {
            github_token(url, request_token, audience).await
        }
    }
}

#[derive(serde::Deserialize)]
struct GitHubTokenResponse {
    value: String,
}

/// GET `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with the request token,
/// retried on a network error or a 5xx.
async fn github_token(
    url: &str,
    request_token: &SecretString,
    audience: &str,
) -> Result<SecretString, IdentityError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| IdentityError::GitHubToken(e.to_string()))?;
    let mut url = reqwest::Url::parse(url).map_err(|e| {
        IdentityError::GitHubToken(format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"))
    })?;
    url.query_pairs_mut().append_pair("audience", audience);
    let request = client
        .get(url)
        .bearer_auth(request_token.expose_secret())
        .header("Accept", "application/json; api-version=2.0");
    let resp = crate::http::send_with_retry("GitHub's OIDC token endpoint", 3, request)
        .await
        .map_err(IdentityError::GitHubToken)?;
    if !resp.status().is_success() {
        return Err(IdentityError::GitHubToken(format!(
            "HTTP {}",
            resp.status()
        )));
    }
    let body: GitHubTokenResponse = resp
        .json()
        .await
        .map_err(|e| IdentityError::GitHubToken(format!("the answer has no token: {e}")))?;
    Ok(SecretString::from(body.value))
}

pub async fn assume_role(
    base: &aws_config::SdkConfig,
    role: &RoleConfig,
    token: &SecretString,
) -> Result<AssumedRole, IdentityError> {
    let fail = |message: String| IdentityError::AssumeRole {
        role: role.arn.clone(),
        message,
    };
    let sts = crate::aws::sts_client(base);
    let calls = crate::aws::CallContext::of(base);
    let out = sts
        .assume_role_with_web_identity()
        .role_arn(&role.arn)
        .role_session_name(&role.session_name)
        .web_identity_token(token.expose_secret())
        .send()
        .await
        .map_err(|e| fail(calls.describe(&e)))?;
    out.credentials()
        .map(assumed)
        .ok_or_else(|| fail("STS returned no credentials".into()))
}

/// The credentials STS gave, as the run keeps them.
fn assumed(c: &aws_sdk_sts::types::Credentials) -> AssumedRole {
    AssumedRole {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: SecretString::from(c.secret_access_key().to_string()),
        session_token: SecretString::from(c.session_token().to_string()),
        expiration: std::time::SystemTime::try_from(*c.expiration()).ok(),
    }
}

/// How long the session a local run gets of an execution role lasts: STS's
/// shortest, longer than any local smoke test.
const LOCAL_SESSION: i32 = 900;

/// A short session of a function's execution role, for its local run
/// (`deploy --local-credentials execution-role`), as Lambda gives a function
/// its role's credentials.
pub async fn assume_execution_role(
    sdk: &aws_config::SdkConfig,
    role: &str,
    session_name: &str,
) -> Result<AssumedRole, IdentityError> {
    let fail = |message: String| IdentityError::ExecutionRole {
        role: role.to_string(),
        message,
    };
    let calls = crate::aws::CallContext::of(sdk);
    let out = crate::aws::sts_client(sdk)
        .assume_role()
        .role_arn(role)
        .role_session_name(session_name)
        .duration_seconds(LOCAL_SESSION)
        .send()
        .await
        .map_err(|e| fail(calls.describe(&e)))?;
    out.credentials()
        .map(assumed)
        .ok_or_else(|| fail("STS returned no credentials".into()))
}

/// The credentials of the standard chain, for `local --credentials`.
pub async fn chain_credentials(sdk: &aws_config::SdkConfig) -> Result<AssumedRole, IdentityError> {
    use aws_credential_types::provider::ProvideCredentials;
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| IdentityError::NoCredentials("no provider is configured".into()))?;
    let c = provider
        .provide_credentials()
        .await
        .map_err(|e| IdentityError::NoCredentials(crate::aws::plain_error(&e)))?;
    Ok(AssumedRole {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: SecretString::from(c.secret_access_key().to_string()),
        session_token: SecretString::from(c.session_token().unwrap_or_default().to_string()),
        expiration: c.expiry(),
    })
}

/// On GitHub Actions, tells the runner to mask the credentials in every log,
/// before anything could print them. The commands go to stderr, which the
/// runner reads as it reads stdout, so that stdout can be captured (JSON
/// output) without keeping them.
pub fn mask_on_github(ci: &CiContext, role: &AssumedRole) {
    if ci.kind == CiKind::GitHub {
        for value in [
            role.access_key_id.as_str(),
            role.secret_access_key.expose_secret(),
            role.session_token.expose_secret(),
        ] {
            if !value.is_empty() {
                eprintln!("{}", workflow::mask(value));
            }
        }
    }
}

/// The account of the run's credentials (STS GetCallerIdentity).
pub async fn caller_account(sdk: &aws_config::SdkConfig) -> Result<String, IdentityError> {
    let calls = crate::aws::CallContext::of(sdk);
    let out = crate::aws::sts_client(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| IdentityError::CallerIdentity(calls.describe(&e)))?;
    out.account()
        .map(str::to_string)
        .ok_or_else(|| IdentityError::CallerIdentity("STS named no account".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(token_env: Option<&str>) -> RoleConfig {
        RoleConfig {
            arn: "arn:aws:iam::123456789012:role/deploy".into(),
            audience: "sts.amazonaws.com".into(),
            session_name: "s1".into(),
            token_env: token_env.map(str::to_string),
        }
    }

    fn ci(env: &Env) -> CiContext {
        CiContext::detect(env)
    }

    #[test]
    fn github_without_id_token_permission_says_so() {
        let env: Env = [("GITHUB_ACTIONS", "true")].into_iter().collect();
        let err = token_source(&role(None), &ci(&env), &env).unwrap_err();
        assert!(err.to_string().contains("id-token: write"), "{err}");
        assert!(err.is_config());
    }

    #[test]
    fn each_ci_has_its_source() {
        let env: Env = [
            ("GITHUB_ACTIONS", "true"),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://t.example/x?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req"),
        ]
        .into_iter()
        .collect();
        assert!(matches!(
            token_source(&role(None), &ci(&env), &env),
            Ok(TokenSource::GitHub { .. })
        ));

        let env: Env = [("GITLAB_CI", "true"), ("AWS_ID_TOKEN", "jwt")]
            .into_iter()
            .collect();
        assert!(matches!(
            token_source(&role(Some("AWS_ID_TOKEN")), &ci(&env), &env),
            Ok(TokenSource::Env(_))
        ));
        let err = token_source(&role(Some("MISSING")), &ci(&env), &env).unwrap_err();
        assert!(err.to_string().contains("id_tokens"), "{err}");

        let env: Env = [("AWS_WEB_IDENTITY_TOKEN_FILE", "/t")]
            .into_iter()
            .collect();
        assert!(matches!(
            token_source(&role(None), &ci(&env), &env),
            Ok(TokenSource::File(_))
        ));
        let env = Env::default();
        assert!(matches!(
            token_source(&role(None), &ci(&env), &env),
            Err(IdentityError::NoToken)
        ));
    }
}
