//! One file per playbook step. Every step that changes something has the same life (look,
//! plan, confirm, act, verify, record), written once in [`life`]; a changing step supplies
//! only what is its own ([`life::Change`]).

pub mod audit_query;
pub mod bulk;
pub mod disable_password;
pub mod drill;
pub mod hibp_check;
pub mod identity;
pub mod incident;
pub mod life;
pub mod lock;
pub mod pattern_scan;
pub mod playbook;
pub mod recover;
pub mod report;
pub mod respond;
pub mod restore;
pub mod reversal;
pub mod revoke;
pub mod schema;
pub mod sessions;

use serde_json::{Value, json};

use crate::cli::Command;
use crate::context::Ctx;
use crate::error::{Exit, Result};
use crate::ids::IdentityId;
use crate::journal::{Entry, JournalWriter, Outcome, Record};
use crate::kratos::{Identity, SessionListing};
use crate::output;

/// A changing step, ready to run: what a playbook runner gets from a parsed command line
/// (`Cli::try_parse_args` then [`AnyChange::from_command`]) and runs with its life
/// (confirmation, dry run and journal included).
pub enum AnyChange {
    Revoke(revoke::Revoke),
    RevokeSession(revoke::RevokeSession),
    Lock(lock::Lock),
    Unlock(lock::Unlock),
    DisablePassword(disable_password::DisablePassword),
    Recover(recover::Recover),
}

impl AnyChange {
    /// The changing step a command line names, if it names one (a bulk `revoke --stdin` is a
    /// runner of its own, not one step).
    pub fn from_command(cmd: &Command) -> Option<AnyChange> {
        Some(match cmd {
            Command::Revoke(a) if a.stdin => return None,
            Command::Revoke(a) => match (&a.session, &a.identity) {
                (Some(sid), identity) => AnyChange::RevokeSession(revoke::RevokeSession {
                    session: *sid,
                    identity: identity.clone(),
                }),
                (None, Some(identity)) => AnyChange::Revoke(revoke::Revoke {
                    identity: identity.clone(),
                }),
                (None, None) => return None,
            },
            Command::Lock(a) => AnyChange::Lock(lock::Lock {
                identity: a.identity.clone(),
            }),
            Command::Unlock(a) => AnyChange::Unlock(lock::Unlock {
                identity: a.identity.clone(),
            }),
            Command::DisablePassword(a) => {
                AnyChange::DisablePassword(disable_password::DisablePassword {
                    identity: a.identity.clone(),
                })
            }
            Command::Recover(a) => AnyChange::Recover(recover::Recover {
                identity: a.identity.clone(),
                method: a.method,
                expires_in: a.expires_in,
            }),
            _ => return None,
        })
    }

    /// The journal's name of the step.
    pub fn step(&self) -> &'static str {
        use life::Change;
        match self {
            AnyChange::Revoke(_) => revoke::Revoke::STEP,
            AnyChange::RevokeSession(_) => revoke::RevokeSession::STEP,
            AnyChange::Lock(_) => lock::Lock::STEP,
            AnyChange::Unlock(_) => lock::Unlock::STEP,
            AnyChange::DisablePassword(_) => disable_password::DisablePassword::STEP,
            AnyChange::Recover(_) => recover::Recover::STEP,
        }
    }

    /// Runs the step's life for an operator.
    pub async fn run(self, ctx: &Ctx) -> Result<Exit> {
        self.run_resuming(ctx, None).await
    }

    /// Runs the step's life after a run of it was cut off (`cut_off`: its `started` entry).
    pub async fn run_resuming(self, ctx: &Ctx, cut_off: Option<&Record>) -> Result<Exit> {
        match self {
            AnyChange::Revoke(s) => life::run_resuming(ctx, s, cut_off).await,
            AnyChange::RevokeSession(s) => life::run_resuming(ctx, s, cut_off).await,
            AnyChange::Lock(s) => life::run_resuming(ctx, s, cut_off).await,
            AnyChange::Unlock(s) => life::run_resuming(ctx, s, cut_off).await,
            AnyChange::DisablePassword(s) => life::run_resuming(ctx, s, cut_off).await,
            AnyChange::Recover(s) => life::run_resuming(ctx, s, cut_off).await,
        }
    }
}

/// "alice@example.com (5f1c…)" or just the id.
pub fn who(identity: Option<&Identity>, id: IdentityId) -> String {
    match identity.and_then(Identity::label) {
        Some(l) => format!("{} ({id})", output::clean(&l)),
        None => id.to_string(),
    }
}

/// The label of the identity a listing's sessions belong to (sessions expand their identity).
pub fn who_from_listing(listing: &SessionListing, id: IdentityId) -> String {
    match listing.identity_label() {
        Some(l) => format!("{} ({id})", output::clean(&l)),
        None => id.to_string(),
    }
}

/// The journal entry holding the sessions and devices, written before they are destroyed.
pub fn sessions_snapshot(id: IdentityId, listing: &SessionListing, purpose: &str) -> Entry {
    let mut e = Entry::new("sessions", Some(&id.to_string()), Outcome::Ok);
    e.put(
        "summary",
        format!(
            "{} recorded {purpose}{}",
            count(listing.sessions.len(), "session", "sessions"),
            if listing.complete {
                ""
            } else {
                " (Kratos listed fewer than it counts)"
            }
        ),
    );
    e.put("purpose", purpose);
    e.put("total", listing.total);
    e.put("complete", listing.complete);
    e.evidence.insert(
        "sessions".into(),
        Value::Array(listing.sessions.iter().map(|s| s.evidence()).collect()),
    );
    e
}

/// "1 session", "3 sessions".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The journal for a changing step, as a group-commit writer.
pub struct Recorder {
    pub writer: JournalWriter,
    pub path: String,
}

impl Recorder {
    pub fn open(ctx: &Ctx, identity: Option<&str>, step: &str) -> Result<Recorder> {
        let j = ctx.journal_for_change(identity, step)?;
        Ok(Recorder {
            path: j.path().display().to_string(),
            writer: JournalWriter::spawn(j),
        })
    }

    pub async fn record(&self, entries: Vec<Entry>) -> Result<()> {
        self.writer.append(entries).await.map(|_| ())
    }
}

/// The table of sessions with their devices, for people.
pub fn sessions_table(listing: &SessionListing) -> String {
    let mut t = output::table([
        "SESSION",
        "ACTIVE",
        "AAL",
        "AUTHENTICATED",
        "EXPIRES",
        "IP",
        "LOCATION",
        "USER AGENT",
    ]);
    for s in &listing.sessions {
        let devices = s.devices();
        let first = devices.first();
        // Server text: escaped, and no cell wider than a table can show.
        let cell = |v: Option<&String>| {
            v.filter(|x| !x.is_empty())
                .map(|x| output::shorten(&output::escape_controls(x), 64))
                .unwrap_or("-".into())
        };
        t.add_row(vec![
            output::clean(&s.id),
            match s.active {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => "?".into(),
            },
            cell(s.authenticator_assurance_level.as_ref()),
            short_time(s.authenticated_at.as_deref()),
            short_time(s.expires_at.as_deref()),
            cell(first.and_then(|d| d.ip_address.as_ref())),
            cell(first.and_then(|d| d.location.as_ref())),
            output::shorten(&cell(first.and_then(|d| d.user_agent.as_ref())), 48),
        ]);
        for d in devices.iter().skip(1) {
            t.add_row(vec![
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                cell(d.ip_address.as_ref()),
                cell(d.location.as_ref()),
                output::shorten(&cell(d.user_agent.as_ref()), 48),
            ]);
        }
    }
    t.to_string()
}

/// `2026-11-25T01:55:08.123Z` → `2026-11-25 01:55:08`.
pub fn short_time(t: Option<&str>) -> String {
    match t {
        Some(t) => output::clean(&t.get(..19).unwrap_or(t).replace('T', " ")),
        None => "-".into(),
    }
}

/// A small JSON summary of a listing for results.
pub fn listing_json(listing: &SessionListing) -> Value {
    json!({
        "total": listing.total,
        "complete": listing.complete,
        "sessions": listing.sessions.iter().map(|s| s.evidence()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;

    /// A runner gets the changing step from a command line parsed by the real CLI definition.
    #[test]
    fn a_command_line_names_its_changing_step() {
        let step = |line: &str| {
            let argv = std::iter::once("atoctl").chain(line.split_whitespace());
            Cli::try_parse_args(argv)
                .ok()
                .and_then(|c| AnyChange::from_command(&c.command))
                .map(|s| s.step())
        };
        let id = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";
        assert_eq!(step(&format!("lock --identity {id}")), Some("lock"));
        assert_eq!(step("unlock --identity alice@example.com"), Some("unlock"));
        assert_eq!(step(&format!("revoke --session {id}")), Some("revoke"));
        assert_eq!(
            step("recover --identity a@b.c --method link --expires-in 1h"),
            Some("recover")
        );
        assert_eq!(
            step("disable-password --identity a@b.c"),
            Some("disable-password")
        );
        // Not one changing step: a bulk run, a read, a malformed line.
        assert_eq!(step("revoke --stdin"), None);
        assert_eq!(step(&format!("sessions --identity {id}")), None);
        assert_eq!(step("lock --identity"), None);
    }
}
