//! The environment Lambda gives a container image function, from the
//! "defined runtime environment variables" of its documentation, and the
//! masking of the credentials it may carry.
//!
//! Set here: every reserved variable Lambda sets for an image (the
//! credentials only when a local run is given some), the metadata endpoint's
//! two, `AWS_EC2_METADATA_DISABLED` (the sandbox shares the host's network,
//! and an SDK must not take the host's instance role), and the unreserved `LANG`, `TZ`, `AWS_XRAY_CONTEXT_MISSING` and
//! `AWS_XRAY_DAEMON_ADDRESS`. Left to the image: `PATH`, `LD_LIBRARY_PATH`,
//! `NODE_PATH`, `PYTHONPATH` and `GEM_PATH`, which Lambda takes from an
//! image's own `ENV` (AWS's base images set them). `_X_AMZN_TRACE_ID` changes
//! with each invocation: Lambda's runtime clients set it from the
//! `Lambda-Runtime-Trace-Id` header, which the Runtime API gives each event.

use super::LocalSettings;
use crate::model::RESERVED_VARIABLES;
use secrecy::ExposeSecret;

/// What a sandbox's environment is made from, besides the function's settings.
pub struct Sandbox<'a> {
    /// `host:port` of its Runtime API server, which is also the metadata endpoint's.
    pub runtime_api: &'a str,
    pub metadata_token: &'a str,
    /// The first word of the command: what `_HANDLER` names.
    pub handler: &'a str,
    /// The log stream, `YYYY/MM/DD/[$LATEST]<id>` as Lambda names it.
    pub log_stream: &'a str,
}

/// Lambda's variables, then the function's own (which may change the
/// unreserved ones, not the reserved), as `KEY=VALUE`.
pub fn lambda_environment(settings: &LocalSettings, sandbox: &Sandbox<'_>) -> Vec<String> {
    let name = settings.function_name.as_str();
    let mut vars: Vec<(&str, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API", sandbox.runtime_api.to_string()),
        ("AWS_LAMBDA_METADATA_API", sandbox.runtime_api.to_string()),
        (
            "AWS_LAMBDA_METADATA_TOKEN",
            sandbox.metadata_token.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_string()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            settings.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", sandbox.log_stream.to_string()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("AWS_REGION", settings.region.clone()),
        ("AWS_DEFAULT_REGION", settings.region.clone()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_Image".to_string()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_string()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_string()),
        ("_HANDLER", sandbox.handler.to_string()),
    ];
    if let Some(c) = &settings.credentials {
        vars.push(("AWS_ACCESS_KEY_ID", c.access_key_id.clone()));
        vars.push(("AWS_ACCESS_KEY", c.access_key_id.clone()));
        vars.push((
            "AWS_SECRET_ACCESS_KEY",
            c.secret_access_key.expose_secret().to_string(),
        ));
        let token = c.session_token.expose_secret();
        if !token.is_empty() {
            vars.push(("AWS_SESSION_TOKEN", token.to_string()));
        }
    }
    // Unreserved: the function's own value wins. Lambda has no instance
    // metadata service: an SDK in the sandbox, which shares the host's
    // network, must not take the host's instance role by default.
    let unreserved = [
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
        ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    for (k, v) in unreserved {
        if !settings.environment.contains_key(k) {
            vars.push((k, v.to_string()));
        }
    }
    vars.into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(
            settings
                .environment
                .iter()
                .filter(|(k, _)| !RESERVED_VARIABLES.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={v}")),
        )
        .collect()
}

/// The log stream name Lambda gives an execution environment.
pub fn log_stream_name() -> String {
    let day = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[$LATEST]{}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Hides the credentials a sandbox was given in what it prints and answers,
/// before that reaches any output, report or comment.
#[derive(Clone, Default)]
pub struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    pub fn of(settings: &LocalSettings) -> Self {
        let secrets = settings
            .credentials
            .iter()
            .flat_map(|c| {
                [
                    c.access_key_id.clone(),
                    c.secret_access_key.expose_secret().to_string(),
                    c.session_token.expose_secret().to_string(),
                ]
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        // The longest first: one that holds another is hidden whole.
        let mut secrets = secrets;
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Masker { secrets }
    }

    /// A payload, as it is when there is nothing to hide.
    pub fn mask_bytes<'a>(&self, payload: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        if self.secrets.is_empty() {
            std::borrow::Cow::Borrowed(payload)
        } else {
            std::borrow::Cow::Owned(self.mask(&String::from_utf8_lossy(payload)).into_bytes())
        }
    }

    pub fn mask(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AssumedRole;
    use secrecy::SecretString;

    fn sandbox() -> Sandbox<'static> {
        Sandbox {
            runtime_api: "127.0.0.1:9001",
            metadata_token: "token-1",
            handler: "app.handler",
            log_stream: "2026/12/03/[$LATEST]abc",
        }
    }

    fn var<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
        env.iter()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
    }

    #[test]
    fn lambdas_documented_variables_are_set() {
        let env = lambda_environment(&LocalSettings::default(), &sandbox());
        for (key, value) in [
            ("LANG", "en_US.UTF-8"),
            ("TZ", ":UTC"),
            ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
            ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000"),
            ("AWS_LAMBDA_METADATA_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_METADATA_TOKEN", "token-1"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/03/[$LATEST]abc"),
            ("_HANDLER", "app.handler"),
        ] {
            assert_eq!(var(&env, key), Some(value), "{key}");
        }
        assert_eq!(
            var(&env, "AWS_ACCESS_KEY_ID"),
            None,
            "no credentials unless asked"
        );
        assert_eq!(var(&env, "AWS_SECRET_ACCESS_KEY"), None);
    }

    #[test]
    fn a_function_changes_the_unreserved_variables_not_the_reserved() {
        let mut settings = LocalSettings::default();
        settings.environment.insert("LANG".into(), "C.UTF-8".into());
        settings
            .environment
            .insert("AWS_REGION".into(), "eu-west-1".into());
        settings.environment.insert("GREETING".into(), "hi".into());
        let env = lambda_environment(&settings, &sandbox());
        assert_eq!(var(&env, "LANG"), Some("C.UTF-8"));
        assert_eq!(var(&env, "AWS_REGION"), Some("us-east-1"));
        assert_eq!(var(&env, "GREETING"), Some("hi"));
        let keys: Vec<&str> = env.iter().filter_map(|kv| kv.split('=').next()).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "each variable once: {keys:?}");
    }

    #[test]
    fn credentials_are_given_and_masked_everywhere_they_are_printed() {
        let settings = LocalSettings {
            credentials: Some(AssumedRole {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: SecretString::from("wJalrXUtnFEMI/K7MDENG"),
                session_token: SecretString::from("FQoGZXIvYXdzEJr"),
                expiration: None,
            }),
            ..LocalSettings::default()
        };
        let env = lambda_environment(&settings, &sandbox());
        assert_eq!(var(&env, "AWS_ACCESS_KEY_ID"), Some("ASIAEXAMPLE"));
        assert_eq!(var(&env, "AWS_ACCESS_KEY"), Some("ASIAEXAMPLE"));
        assert_eq!(
            var(&env, "AWS_SECRET_ACCESS_KEY"),
            Some("wJalrXUtnFEMI/K7MDENG")
        );
        assert_eq!(var(&env, "AWS_SESSION_TOKEN"), Some("FQoGZXIvYXdzEJr"));
        let masker = Masker::of(&settings);
        assert_eq!(
            masker.mask("key wJalrXUtnFEMI/K7MDENG token FQoGZXIvYXdzEJr id ASIAEXAMPLE"),
            "key *** token *** id ***"
        );
        assert!(!format!("{settings:?}").contains("wJalrXUtnFEMI"));
        assert_eq!(Masker::default().mask("as is"), "as is");
        // A token that holds the key id is hidden whole, not around it.
        let nested = LocalSettings {
            credentials: Some(AssumedRole {
                access_key_id: "KEY".into(),
                secret_access_key: SecretString::from("s"),
                session_token: SecretString::from("tokenKEYtoken"),
                expiration: None,
            }),
            ..LocalSettings::default()
        };
        assert_eq!(Masker::of(&nested).mask("tokenKEYtoken"), "***");
    }

    #[test]
    fn the_log_stream_is_named_as_lambda_names_it() {
        let name = log_stream_name();
        let (day, id) = name.split_once("/[$LATEST]").unwrap();
        assert_eq!(day.len(), 10, "{name}");
        assert_eq!(id.len(), 32, "{name}");
    }
}
