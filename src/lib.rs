//! atoctl: an operator CLI for answering account takeovers on Ory Kratos / Hydra stacks.
//!
//! The binary is a thin layer (`src/main.rs`); everything lives in this library so that tests
//! and benchmarks can reach the same code.

pub mod api;
pub mod audit;
pub mod cli;
pub mod context;
pub mod duration;
pub mod error;
pub mod hibp;
pub mod http;
pub mod hydra;
pub mod ids;
pub mod journal;
pub mod kratos;
pub mod output;
pub mod plan;
pub mod platform;
pub mod playbook;
pub mod sandbox;
pub mod steps;
pub mod webhook;

use cli::{Cli, Command};
use context::Ctx;
use error::{AppError, Exit, Result};

/// Runs a parsed command line; the exit code is the contract's.
pub fn run(cli: Cli) -> Result<Exit> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::tree();
            clap_complete::generate(*shell, &mut cmd, "atoctl", &mut std::io::stdout());
            return Ok(Exit::Ok);
        }
        Command::Man(a) => return man(a),
        Command::Schema => return steps::schema::run(&Ctx::new(cli.global.clone())?),
        _ => {}
    }
    if cli
        .global
        .kratos_token_file
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-")
        && cli.command.reads_stdin()
    {
        return Err(AppError::usage(
            "--kratos-token-file - reads the token from stdin, and this command reads stdin too: give the token in a file (or KRATOS_ADMIN_TOKEN)",
        ));
    }
    // A journal path that is no regular file (a FIFO would block every read forever) is
    // refused before anything is sent, by every command that reads or writes the journal.
    let uses_journal = !matches!(
        cli.command,
        Command::Playbook(cli::PlaybookCommand::Check(_)) | Command::Drill(_)
    );
    if uses_journal && let Some(p) = &cli.global.incident {
        // A command that will append checks the chain it appends to, before any request,
        // read or change: a damaged journal is exit 5 unless --force-append (a torn last line
        // even then). The commands that only read it (verify, show, report) read it as it is.
        if cli.command.appends_to_journal() && !cli.global.dry_run {
            journal::check_chain(p, cli.global.force_append)?;
        } else {
            journal::check_file(p)?;
        }
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
        if let Some(change) = steps::AnyChange::from_command(&cli.command) {
            return change.run(&ctx).await;
        }
        match &cli.command {
            Command::Incident(c) => steps::incident::run(&ctx, c).await,
            Command::Identity(a) => steps::identity::run(&ctx, a).await,
            Command::Sessions(a) => steps::sessions::run(&ctx, a).await,
            Command::Revoke(a) => steps::bulk::run(&ctx, a).await,
            Command::AuditQuery(a) => steps::audit_query::run(&ctx, a).await,
            Command::PatternScan(a) => steps::pattern_scan::run(&ctx, a).await,
            Command::HibpCheck(a) => steps::hibp_check::run(&ctx, a).await,
            Command::Respond(a) => steps::respond::run(&ctx, a).await,
            Command::Restore(a) => steps::restore::run(&ctx, a).await,
            Command::Playbook(c) => steps::playbook::run(&ctx, c),
            Command::Drill(a) => steps::drill::run(&ctx, a).await,
            Command::Report(a) => steps::report::run(&ctx, a),
            Command::Lock(_)
            | Command::Unlock(_)
            | Command::DisablePassword(_)
            | Command::Recover(_)
            | Command::Completions { .. }
            | Command::Man(_)
            | Command::Schema => Ok(Exit::Ok),
        }
    })
}

/// `atoctl man`: the page of atoctl or of one subcommand on stdout, or every page into a
/// directory.
fn man(a: &cli::ManArgs) -> Result<Exit> {
    let cmd = Cli::tree();
    if let Some(dir) = &a.dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::failed(format!("cannot create {}: {e}", dir.display())))?;
        clap_mangen::generate_to(cmd, dir)
            .map_err(|e| AppError::failed(format!("cannot write the man pages: {e}")))?;
        output::note(&format!("man pages written to {}", dir.display()));
        return Ok(Exit::Ok);
    }
    let page = match &a.subcommand {
        None => cmd,
        Some(name) => find_subcommand(&cmd, name).ok_or_else(|| {
            AppError::usage(format!("atoctl has no subcommand {name:?}")).with_hint(
                "name it as in `atoctl --help`, nested ones joined by a dash: incident-open",
            )
        })?,
    };
    clap_mangen::Man::new(page)
        .render(&mut std::io::stdout())
        .map_err(AppError::from)?;
    Ok(Exit::Ok)
}

/// A subcommand by its name, nested ones joined by a dash (`incident-open`), named for its
/// page as `generate_to` names it.
fn find_subcommand(cmd: &clap::Command, name: &str) -> Option<clap::Command> {
    for sub in cmd.get_subcommands() {
        if sub.get_name() == name {
            let full = format!("{}-{}", cmd.get_name(), sub.get_name());
            return Some(sub.clone().name(full));
        }
        if let Some(rest) = name.strip_prefix(&format!("{}-", sub.get_name()))
            && let Some(found) = find_subcommand(sub, rest)
        {
            return Some(found);
        }
    }
    None
}

/// Locks a mutex, and keeps going after a task panicked while holding it.
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
