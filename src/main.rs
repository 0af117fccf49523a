use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    drop_empty_settings();
    let cli = lambda_ship::cli::Cli::parse();
    // One TLS crypto provider for every client (Docker, AWS, registries).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(lambda_ship::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// CI systems pass an input that was not given as an empty variable
/// (`LAMBDA_SHIP_FILE=`); it means "not set", not "set to nothing".
fn drop_empty_settings() {
    let empty: Vec<std::ffi::OsString> = std::env::vars_os()
        .filter(|(key, value)| {
            let key = key.to_string_lossy();
            value.is_empty()
                && (key.starts_with("LAMBDA_SHIP_")
                    || key == "GITHUB_TOKEN"
                    || key == "GITLAB_TOKEN")
        })
        .map(|(key, _)| key)
        .collect();
    for key in empty {
        // SAFETY: this runs first in main, before the runtime or any other
        // thread exists, so nothing else reads the environment meanwhile.
        unsafe { std::env::remove_var(key) };
    }
}
