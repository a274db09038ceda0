//! atoctl: an operator CLI for answering account takeovers on Ory Kratos / Hydra stacks.
//!
//! The binary is a thin layer (`src/main.rs`); everything lives in this library so that tests
//! and benchmarks can reach the same code.

pub mod audit;
pub mod cli;
pub mod context;
pub mod duration;
pub mod error;
pub mod hibp;
pub mod http;
pub mod hydra;
pub mod journal;
pub mod kratos;
pub mod output;
pub mod plan;
pub mod platform;
pub mod steps;

use cli::{Cli, Command};
use context::Ctx;
use error::{AppError, Exit, Result};

/// Runs a parsed command line; the exit code is the contract's.
pub fn run(cli: Cli) -> Result<Exit> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "atoctl", &mut std::io::stdout());
            return Ok(Exit::Ok);
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(AppError::from)?;
            return Ok(Exit::Ok);
        }
        Command::Schema => return steps::schema::run(&Ctx::new(cli.global.clone())?),
        _ => {}
    }
    let ctx = Ctx::new(cli.global.clone())?;
    // One thread: atoctl's work is I/O-bound (admin API calls, one database connection),
    // and waking tasks across threads costs more than it gives (measured on bulk revoke too).
    // A command without network I/O starts without the I/O, signal and time drivers: no
    // epoll, eventfd and socketpair descriptors to create.
    let mut builder = tokio::runtime::Builder::new_current_thread();
    if cli.command.uses_network() {
        platform::prepare_name_lookups();
        builder.enable_all();
    }
    let rt = builder
        .build()
        .map_err(|e| AppError::failed(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        match &cli.command {
            Command::Incident(c) => steps::incident::run(&ctx, c),
            Command::Sessions(a) => steps::sessions::run(&ctx, a).await,
            Command::Revoke(a) => steps::revoke::run(&ctx, a).await,
            Command::DisablePassword(a) => steps::disable_password::run(&ctx, a).await,
            Command::Lock(a) => steps::lock::lock(&ctx, a).await,
            Command::Unlock(a) => steps::lock::unlock(&ctx, a).await,
            Command::Recover(a) => steps::recover::run(&ctx, a).await,
            Command::AuditQuery(a) => steps::audit_query::run(&ctx, a).await,
            Command::PatternScan(a) => steps::pattern_scan::run(&ctx, a).await,
            Command::HibpCheck(a) => steps::hibp_check::run(&ctx, a).await,
            Command::Completions { .. } | Command::Man | Command::Schema => Ok(Exit::Ok),
        }
    })
}
