//! `lambda-ship policy`: prints the role a deploy needs.

use crate::cli::{OutputFormat, PolicyArgs};
use crate::error::Error;

pub async fn run(args: PolicyArgs) -> Result<(), Error> {
    let output = args.output;
    let request = crate::config::policy_request(args)?;
    let (trust, permissions) = (request.trust(), request.permissions());
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    match output {
        OutputFormat::Json => println!(
            "{}",
            pretty(&serde_json::json!({
                "trust_policy": trust,
                "permissions_policy": permissions,
            }))
        ),
        OutputFormat::Text => println!(
            "# Trust policy: the role's trust relationship\n{}\n\n\
             # Permissions policy: attach it to the role\n{}",
            pretty(&trust),
            pretty(&permissions)
        ),
    }
    Ok(())
}
