//! `lambda-ship policy`: prints the role a deploy needs.

use crate::cli::PolicyArgs;
use crate::error::Error;

pub async fn run(args: PolicyArgs) -> Result<(), Error> {
    let output = args.output;
    let request = crate::config::policy_request(args)?;
    let (trust, permissions) = (request.trust(), request.permissions());
    let both = serde_json::json!({
        "trust_policy": trust,
        "permissions_policy": permissions,
    });
    super::print(output, &both, || {
        format!(
            "# Trust policy: the role's trust relationship\n{}\n\n\
             # Permissions policy: attach it to the role\n{}\n",
            super::json(&trust),
            super::json(&permissions)
        )
    });
    Ok(())
}
