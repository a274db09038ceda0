//! One file per playbook step. Every step that changes something has the same life:
//! look (read the live state), plan (`--dry-run` stops there), confirm, act, verify (read the
//! state again), record (append the evidence to the journal).

pub mod audit_query;
pub mod disable_password;
pub mod hibp_check;
pub mod incident;
pub mod lock;
pub mod pattern_scan;
pub mod recover;
pub mod revoke;
pub mod schema;
pub mod sessions;

use serde_json::{Value, json};

use crate::context::Ctx;
use crate::error::{AppError, Result};
use crate::journal::{Entry, JournalWriter, Outcome};
use crate::kratos::{self, Identity, KratosError, SessionListing};
use crate::output;

/// Prints a step's result: one sentence for people, or one JSON document with `identity`,
/// `result`, `message`, `journal` and any `extra` fields.
pub fn finish(
    ctx: &Ctx,
    label: &str,
    id: &str,
    result: &str,
    text: &str,
    journal: &str,
) -> Result<crate::error::Exit> {
    finish_with(ctx, label, id, result, text, journal, json!({}))
}

pub fn finish_with(
    ctx: &Ctx,
    label: &str,
    id: &str,
    result: &str,
    text: &str,
    journal: &str,
    extra: Value,
) -> Result<crate::error::Exit> {
    if ctx.json() {
        let mut doc =
            json!({"identity": id, "result": result, "message": text, "journal": journal});
        if let (Some(d), Value::Object(x)) = (doc.as_object_mut(), extra) {
            d.extend(x);
        }
        output::print_json(&doc)?;
    } else {
        output::line(&format!("{label}: {text}"));
    }
    Ok(crate::error::Exit::Ok)
}

/// Reads the identity; 404 means it does not exist (exit 3).
pub async fn look_identity(k: &kratos::Client, id: &str) -> Result<Identity> {
    k.get_identity(id).await.map_err(|e| identity_error(e, id))
}

/// Maps an error from an identity route: Kratos's own 404 is "no such identity" (exit 3).
pub fn identity_error(e: KratosError, id: &str) -> AppError {
    if matches!(e, KratosError::Api { status: 404, .. }) {
        AppError::not_found(format!("identity {id} does not exist in Kratos"))
    } else {
        e.into_app()
    }
}

/// Lists sessions; the error says which identity.
pub async fn list_sessions(
    k: &kratos::Client,
    id: &str,
    active: Option<bool>,
) -> Result<SessionListing> {
    k.list_identity_sessions(id, active)
        .await
        .map_err(KratosError::into_app)
}

/// "alice@example.com (5f1c…)" or just the id.
pub fn who(identity: Option<&Identity>, id: &str) -> String {
    match identity.and_then(Identity::label) {
        Some(l) => format!("{l} ({id})"),
        None => id.to_string(),
    }
}

/// The label of the identity a listing's sessions belong to (sessions expand their identity).
pub fn who_from_listing(listing: &SessionListing, id: &str) -> String {
    let traits = listing
        .sessions
        .iter()
        .find_map(|s| s.identity.as_ref().and_then(|i| i.traits.clone()));
    let ident = Identity {
        traits,
        ..Identity::default()
    };
    who(Some(&ident), id)
}

/// The journal entry holding the sessions and devices, written before they are destroyed.
pub fn sessions_snapshot(id: &str, listing: &SessionListing, purpose: &str) -> Entry {
    let mut e = Entry::new("sessions", Some(id), Outcome::Ok);
    e.put(
        "summary",
        format!(
            "{} session(s) recorded {purpose}{}",
            listing.sessions.len(),
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
        let cell = |v: Option<&String>| v.filter(|x| !x.is_empty()).cloned().unwrap_or("-".into());
        t.add_row(vec![
            s.id.clone(),
            match s.active {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => "?".into(),
            },
            s.authenticator_assurance_level
                .clone()
                .unwrap_or("-".into()),
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
        Some(t) if t.len() >= 19 => t[..19].replace('T', " "),
        Some(t) => t.to_string(),
        None => "-".into(),
    }
}

/// Session ids of a listing.
pub fn session_ids(listing: &SessionListing) -> Vec<String> {
    listing.sessions.iter().map(|s| s.id.clone()).collect()
}

/// A small JSON summary of a listing for results.
pub fn listing_json(listing: &SessionListing) -> Value {
    json!({
        "total": listing.total,
        "complete": listing.complete,
        "sessions": listing.sessions.iter().map(|s| s.evidence()).collect::<Vec<_>>(),
    })
}
