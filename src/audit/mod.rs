//! The audit database (PostgreSQL): the schema atoctl needs, connections (TLS when the URL
//! asks for it), read-only transactions with a statement timeout, the SQL of each step, and
//! streaming of rows.
//!
//! - [`timeline`]: audit-query's engine, an identity's flagged events streamed into a sink;
//! - [`db`]: connections and the read-only transaction every query runs in;
//! - [`queries`]: every statement, with its parameters bound;
//! - [`window`]: the time window of an investigation and its baseline;
//! - [`flags`]: the flags of an event and what earns each;
//! - [`text`]: database values as text (addresses, times, terminal-safe strings);
//! - [`travel`]: where an event happened, and impossible travel between two events.
//!
//! The files depend on each other in one direction only (a file uses those listed after it, never
//! one listed before), and none uses this file's items: the helpers here are for the steps.

pub mod db;
pub mod flags;
pub mod queries;
pub mod text;
pub mod timeline;
pub mod travel;
pub mod window;

use serde_json::json;

use crate::context::Ctx;
use crate::error::Result;
use crate::output;
pub use db::{ReadTx, Target};
pub use queries::Query;
pub use text::{TimeWriter, host_text, printable, short_time, time_text, write_host, write_time};
pub use window::Window;

/// The DDL of `atoctl schema`: the contract's table plus the indexes atoctl's queries need.
pub const SCHEMA: &str = include_str!("schema.sql");

/// The event types atoctl knows (the contract's list).
pub const KNOWN_EVENTS: [&str; 12] = [
    "login.succeeded",
    "login.failed",
    "session.revoked",
    "password.changed",
    "settings.changed",
    "email.changed",
    "recovery.started",
    "recovery.succeeded",
    "mfa.enrolled",
    "mfa.removed",
    "oidc.linked",
    "oauth2.consent.granted",
];

/// Resolves and parses the database URL of the context.
pub fn target(ctx: &Ctx) -> Result<Target> {
    let url = db::resolve_url(ctx.args.database_url.as_deref())?;
    db::parse_target(&url)
}

/// `--dry-run`: the statements a step would run, in order, with their parameters. Nothing is
/// connected to. Later statements take values from earlier answers; those are shown as
/// placeholders.
pub fn print_plan(ctx: &Ctx, step: &str, queries: &[Query], notes: &[String]) -> Result<()> {
    if ctx.json() {
        return output::print_json(&json!({
            "dry_run": true,
            "step": step,
            "transaction": format!("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; {}", db::SETTINGS_SQL),
            "statement_timeout_ms": ctx.timeout.as_millis() as u64,
            "queries": queries.iter().map(Query::plan_json).collect::<Vec<_>>(),
            "notes": notes,
        }));
    }
    output::line(&format!(
        "dry run of `{step}`: nothing is connected to or journaled. atoctl would run, in one READ ONLY, REPEATABLE READ transaction with statement_timeout = {} ms and JIT off:",
        ctx.timeout.as_millis()
    ));
    for (i, q) in queries.iter().enumerate() {
        output::line("");
        output::line(&format!("-- {}. {}", i + 1, q.purpose));
        output::line(&q.sql);
        for (n, p) in q.params.iter().enumerate() {
            output::line(&format!("--   ${} = {}", n + 1, p.shown()));
        }
    }
    for n in notes {
        output::line(&format!("note: {n}"));
    }
    Ok(())
}

/// Checks an `--event` value: dotted lowercase words (`login.failed`, `oauth2.consent.granted`).
/// Anything else (quotes, spaces, semicolons, SQL) is refused before any connection; a
/// well-formed type atoctl does not know passes with a warning (the application may log its
/// own types). Values are bound as parameters either way.
pub fn check_event_type(value: &str) -> Result<Option<String>> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if !ok {
        return Err(crate::error::AppError::usage(format!(
            "--event {:?} is not an event type (dotted lowercase words like login.failed)",
            crate::error::one_line(&output::shorten(value, 60))
        ))
        .with_hint(format!("known types: {}", KNOWN_EVENTS.join(", "))));
    }
    if KNOWN_EVENTS.contains(&value) {
        Ok(None)
    } else {
        Ok(Some(format!(
            "--event {value} is not one of the contract's event types; querying it anyway"
        )))
    }
}

/// Parses an `--ip` value into its canonical text (IPv4 or IPv6, no prefix). An IPv4-mapped
/// IPv6 address stays as written: PostgreSQL's inet keeps the two apart too.
pub fn check_ip(value: &str) -> Result<String> {
    value
        .trim()
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| {
            crate::error::AppError::usage(format!(
                "--ip {:?} is not an IP address (like 203.0.113.7 or 2001:db8::1)",
                crate::error::one_line(&output::shorten(value, 60))
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_dotted_words_and_sql_is_refused() {
        assert!(check_event_type("login.failed").unwrap().is_none());
        assert!(check_event_type("app.custom_event").unwrap().is_some());
        for bad in [
            "",
            "login.failed'; DROP TABLE security_audit; --",
            "Login.Failed",
            "login..failed",
            "login failed",
            ".login",
        ] {
            assert!(check_event_type(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ips_are_canonical() {
        assert_eq!(check_ip(" 203.0.113.7 ").unwrap(), "203.0.113.7");
        assert_eq!(check_ip("2001:DB8::0001").unwrap(), "2001:db8::1");
        assert_eq!(
            check_ip("::ffff:198.51.100.1").unwrap(),
            "::ffff:198.51.100.1"
        );
        assert!(check_ip("203.0.113.0/24").is_err());
        assert!(check_ip("999.1.1.1").is_err());
    }
}
