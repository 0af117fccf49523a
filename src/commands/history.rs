//! `lambda-ship history`: a function's releases, read from what lambda-ship
//! wrote on its versions, aliases and tags.

use crate::ci::{CiContext, Env};
use crate::cli::HistoryArgs;
use crate::config::HistoryConfig;
use crate::error::Error;
use crate::lambda::Lambda;
use crate::lambda::rollback::RollbackError;
use crate::progress::Progress;

pub async fn run(args: HistoryArgs) -> Result<(), Error> {
    let env = Env::from_process();
    let ci = CiContext::detect(&env);
    let config = HistoryConfig::from_args(args, &ci)?;
    let c = &config.common;
    let progress = Progress::new(c.progress);
    let sdk = super::command_session(&c.aws, &ci, &env, &progress).await?;
    let lambda = Lambda::new(&sdk);
    progress.say(&format!("reading the releases of {}", config.function));
    let mut history = lambda
        .history(&config.function)
        .await
        .map_err(RollbackError::from)?;
    if let Some(alias) = &config.alias {
        if !history.aliases.iter().any(|a| a.name == *alias) {
            return Err(RollbackError::NoAlias {
                function: config.function.clone(),
                alias: alias.clone(),
            }
            .into());
        }
        history = history.for_alias(alias);
    }
    progress.finish();
    super::print(c.output, &history, || history.to_text());
    Ok(())
}
