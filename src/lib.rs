//! lambda-ship: builds single-architecture AWS Lambda container images on a
//! build farm, pushes them to ECR tagged by commit, and (next) deploys them by digest.
//!
//! Each command (`commands/`) turns its arguments into settings (`config`),
//! runs the stages below it, each a module taking and returning plain data,
//! and prints what happened; `model` holds the values they all share.

pub mod aws;
pub mod cancel;
pub mod ci;
pub mod cli;
pub mod cloudwatch;
pub mod commands;
pub mod config;
pub mod error;
pub mod farm;
pub mod feedback;
pub mod http;
pub mod identity;
pub mod lambda;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod progress;
pub mod registry;
pub mod report;
pub mod retry;
pub mod rollout;
pub mod sandbox;
pub mod settings;
pub mod ship;
pub mod signing;

use cli::Command;
pub use error::Error;

/// Runs one command to its end.
pub async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Build(args) => commands::build::run(args).await,
        Command::Deploy(args) => commands::deploy::run(args).await,
        Command::Local(args) => commands::local::run(args).await,
        Command::Policy(args) => commands::policy::run(args).await,
        Command::Cleanup(args) => commands::cleanup::run(args).await,
        Command::Prune(args) => commands::prune::run(args).await,
        Command::History(args) => commands::history::run(args).await,
        Command::Rollback(args) => commands::rollback::run(args).await,
        Command::Verify(args) => commands::verify::run(args).await,
    }
}
