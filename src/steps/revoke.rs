//! `revoke`: end every session of an identity, one session, or every session of many
//! identities read from stdin.
//!
//! `DELETE /admin/identities/{id}/sessions` hard-deletes the sessions and their device rows
//! (IP, user agent, location): the evidence. So the sessions are listed and journaled (and the
//! journal fsynced) before the delete, and listed again afterwards to prove none is active.
//! The delete answers 404 both for an unknown identity and for one without sessions
//! (reference §4, §13.7): an empty listing is followed by a GET of the identity to tell the two
//! apart, and "no sessions" is `skipped`, not an error.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Recorder, identity_error, list_sessions, look_identity, session_ids, sessions_snapshot, who,
    who_from_listing,
};
use crate::cli::RevokeArgs;
use crate::context::{Ctx, parse_uuid};
use crate::error::{AppError, Exit, Result};
use crate::hydra;
use crate::journal::{Entry, Outcome, Pending};
use crate::kratos::{self, DeleteSessions, KratosError, SessionListing, paths};
use crate::output;
use crate::plan::Plan;

pub async fn run(ctx: &Ctx, a: &RevokeArgs) -> Result<Exit> {
    ctx.reject_ids_output("revoke")?;
    if a.stdin {
        return bulk(ctx, a).await;
    }
    if let Some(sid) = &a.session {
        return one_session(ctx, sid, a.identity.as_deref()).await;
    }
    match &a.identity {
        Some(id) => one_identity(ctx, id).await,
        None => Err(AppError::usage("give --identity, --session or --stdin")),
    }
}

fn plan_identity(ctx: &Ctx, p: &mut Plan, id: &str) {
    p.request(
        ctx,
        "GET",
        &paths::identity_sessions(id, None, kratos::SESSION_PAGE_SIZE, None),
        None,
        "snapshot every session and device (journaled and fsynced before anything is deleted)",
    )
    .request(
        ctx,
        "GET",
        &paths::identity(id),
        None,
        "only if no session is listed: tell an unknown identity (404) from one without sessions",
    )
    .request(
        ctx,
        "DELETE",
        &paths::identity_sessions_delete(id),
        None,
        "end every session (Kratos hard-deletes sessions and device rows; 404 = none left)",
    )
    .request(
        ctx,
        "GET",
        &paths::identity_sessions(id, Some(true), kratos::SESSION_PAGE_SIZE, None),
        None,
        "verify that no active session remains",
    );
    plan_hydra(ctx, p, id);
}

/// The Hydra part of a revocation, planned only when `--hydra-admin-url` is set.
pub fn plan_hydra(ctx: &Ctx, p: &mut Plan, id: &str) {
    p.hydra_request(
        ctx,
        "GET",
        &hydra::consent_list_path(id),
        "snapshot the OAuth2 consents (client, scopes)",
    )
    .hydra_request(
        ctx,
        "DELETE",
        &hydra::consent_revoke_path(id),
        "revoke every OAuth2 consent and with it its access and refresh tokens",
    )
    .hydra_request(
        ctx,
        "DELETE",
        &hydra::login_revoke_path(id),
        "forget remembered OAuth2 logins",
    )
    .hydra_request(
        ctx,
        "GET",
        &hydra::consent_list_path(id),
        "verify that no consent is left",
    );
}

/// Revokes the subject's Hydra consents and logins when Hydra is configured; puts the
/// evidence into `e` and says whether it held.
pub async fn revoke_hydra(
    h: Option<&hydra::Client>,
    id: &str,
    e: &mut Entry,
) -> std::result::Result<bool, String> {
    let Some(h) = h else { return Ok(true) };
    match h.revoke_subject(id).await {
        Ok(r) => {
            e.put("hydra", r.evidence());
            Ok(r.verified)
        }
        Err(err) => {
            let msg = format!("Hydra: {err}");
            e.put("hydra", json!({"error": msg}));
            Err(msg)
        }
    }
}

/// What happened to one identity.
#[derive(Debug, Clone, Serialize)]
pub struct Revoked {
    pub identity: String,
    /// ok, skipped, not_found or failed
    pub result: &'static str,
    pub sessions_ended: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Ends every session in `listing` (already looked at), journaling the snapshot first, and
/// verifies. Returns the revoke entry's outcome and evidence.
pub async fn end_all(
    k: &kratos::Client,
    rec: &Recorder,
    id: &str,
    listing: &SessionListing,
    purpose: &str,
) -> Result<EndAll> {
    rec.record(vec![sessions_snapshot(id, listing, purpose)])
        .await?;
    let deleted = k
        .delete_identity_sessions(id)
        .await
        .map_err(KratosError::into_app)?;
    let after = list_sessions(k, id, Some(true)).await?;
    let still_active: Vec<String> = session_ids(&after);
    Ok(EndAll {
        ended: session_ids(listing),
        deleted,
        still_active,
        verified: after.complete && after.sessions.is_empty(),
        evidence_complete: listing.complete,
    })
}

pub struct EndAll {
    pub ended: Vec<String>,
    pub deleted: DeleteSessions,
    pub still_active: Vec<String>,
    /// The listing after the delete is complete and shows no active session.
    pub verified: bool,
    pub evidence_complete: bool,
}

impl EndAll {
    pub fn put_evidence(&self, e: &mut Entry) {
        e.put("sessions_ended", self.ended.len());
        e.put("session_ids", &self.ended);
        e.put("evidence_complete", self.evidence_complete);
        e.put(
            "delete_answer",
            match self.deleted {
                DeleteSessions::Deleted => "204 deleted",
                DeleteSessions::NothingToDelete => "404 nothing left to delete",
            },
        );
        e.put("verified_no_active_session", self.verified);
        if !self.still_active.is_empty() {
            e.put("still_active", &self.still_active);
        }
    }
}

/// Looks at one identity: its sessions, and when there are none, whether it exists.
async fn look(k: &kratos::Client, id: &str) -> Result<(SessionListing, String)> {
    let listing = list_sessions(k, id, None).await?;
    if listing.sessions.is_empty() {
        let ident = look_identity(k, id).await?;
        return Ok((listing, who(Some(&ident), id)));
    }
    let label = who_from_listing(&listing, id);
    Ok((listing, label))
}

async fn one_identity(ctx: &Ctx, raw: &str) -> Result<Exit> {
    let id = parse_uuid(raw, "--identity")?;
    if ctx.dry_run() {
        let mut p = Plan::new("revoke");
        plan_identity(ctx, &mut p, &id);
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("end sessions")?;
    let k = ctx.kratos()?;
    let h = ctx.hydra()?;
    let (listing, label) = look(&k, &id).await?;
    if listing.sessions.is_empty() && h.is_none() {
        let rec = Recorder::open(ctx, Some(&id), "revoke")?;
        let e = Entry::new("revoke", Some(&id), Outcome::Skipped)
            .with("summary", "no sessions to end")
            .with("sessions_ended", 0);
        rec.record(vec![e]).await?;
        super::finish_with(
            ctx,
            &label,
            &id,
            "skipped",
            "no sessions: nothing to end",
            &rec.path,
            json!({"sessions_ended": 0}),
        )?;
        hydra_reminder(ctx);
        return Ok(Exit::Ok);
    }
    if !listing.complete {
        output::warn(&format!(
            "Kratos counts {} sessions but listed only {}: the snapshot will be incomplete, the delete still ends them all",
            listing.total.unwrap_or_default(),
            listing.sessions.len()
        ));
    }
    if !ctx.json() && ctx.interactive && !listing.sessions.is_empty() {
        eprintln!("{}", super::sessions_table(&listing));
    }
    ctx.confirm(&format!(
        "End all {} session(s) of {label}{}? (recorded in the journal first)",
        listing.sessions.len(),
        if h.is_some() {
            " and revoke its OAuth2 consents and tokens in Hydra"
        } else {
            ""
        }
    ))?;
    let rec = Recorder::open(ctx, Some(&id), "revoke")?;
    let done = if listing.sessions.is_empty() {
        None
    } else {
        match end_all(&k, &rec, &id, &listing, "before revoke").await {
            Ok(d) => Some(d),
            Err(err) => {
                let e = Entry::new("revoke", Some(&id), Outcome::Failed)
                    .with("summary", format!("revoke failed: {}", err.message))
                    .with("error", &err.message);
                let _ = rec.record(vec![e]).await;
                return Err(err);
            }
        }
    };
    let kratos_ok = done.as_ref().is_none_or(|d| d.verified);
    let ended = done.as_ref().map(|d| d.ended.len()).unwrap_or(0);
    let mut e = Entry::new("revoke", Some(&id), Outcome::Ok);
    match &done {
        Some(d) => d.put_evidence(&mut e),
        None => e.put("sessions_ended", 0),
    }
    let hydra = revoke_hydra(h.as_ref(), &id, &mut e).await;
    let hydra_ok = matches!(hydra, Ok(true));
    e.outcome = if kratos_ok && hydra_ok {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    let still = done
        .as_ref()
        .map(|d| d.still_active.clone())
        .unwrap_or_default();
    e.put(
        "summary",
        match (kratos_ok, &hydra) {
            (true, Ok(true)) => format!(
                "ended {ended} session(s); none active afterwards{}",
                if h.is_some() {
                    "; OAuth2 consents and tokens revoked"
                } else {
                    ""
                }
            ),
            (false, _) => format!(
                "ended {ended} session(s) but {} active session(s) remain",
                still.len()
            ),
            (true, Ok(false)) => format!("ended {ended} session(s); Hydra still lists consents"),
            (true, Err(m)) => format!("ended {ended} session(s); {m}"),
        },
    );
    rec.record(vec![e]).await?;
    if h.is_none() {
        hydra_reminder(ctx);
    }
    if !kratos_ok {
        return Err(AppError::failed(format!(
            "sessions of {label} were deleted but the check afterwards still shows {} active session(s): {}",
            still.len(),
            still.join(", ")
        ))
        .with_hint("an attacker may have logged in again: lock the identity (atoctl lock) and revoke again"));
    }
    match hydra {
        Err(m) => {
            return Err(AppError::failed(format!(
                "Kratos sessions of {label} ended, but {m}"
            )));
        }
        Ok(false) => {
            return Err(AppError::failed(format!(
                "Kratos sessions of {label} ended, but Hydra still lists OAuth2 consents after revoking them"
            )));
        }
        Ok(true) => {}
    }
    super::finish_with(
        ctx,
        &label,
        &id,
        "ok",
        &format!(
            "ended {ended} session(s); verified none is active{}",
            if h.is_some() {
                "; OAuth2 consents, tokens and remembered logins revoked in Hydra"
            } else {
                ""
            }
        ),
        &rec.path,
        json!({"sessions_ended": ended}),
    )?;
    Ok(Exit::Ok)
}

/// Kratos sessions are not the only access: say what else outlives the revocation.
fn hydra_reminder(ctx: &Ctx) {
    if ctx.args.hydra_admin_url.is_none() && !ctx.json() {
        output::note(
            "OAuth2 tokens issued by Ory Hydra are not Kratos sessions and survive this; revoke them with DELETE /admin/oauth2/auth/sessions/consent?subject=<identity>&all=true",
        );
    }
}

async fn one_session(ctx: &Ctx, raw_sid: &str, raw_identity: Option<&str>) -> Result<Exit> {
    let sid = parse_uuid(raw_sid, "--session")?;
    let expected = raw_identity
        .map(|i| parse_uuid(i, "--identity"))
        .transpose()?;
    if ctx.dry_run() {
        let mut p = Plan::new("revoke --session");
        p.request(
            ctx,
            "GET",
            &paths::session(&sid),
            None,
            "snapshot the session and its devices",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_sessions(
                "<identity of the session>",
                Some(true),
                kratos::SESSION_PAGE_SIZE,
                None,
            ),
            None,
            "is it still active in Kratos's database (a locked identity hides that)?",
        )
        .request(
            ctx,
            "DELETE",
            &paths::session_delete(&sid),
            None,
            "disable the session (soft: the row and its devices stay)",
        )
        .request(
            ctx,
            "GET",
            &paths::session(&sid),
            None,
            "verify it is no longer active",
        );
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("end a session")?;
    let k = ctx.kratos()?;
    let session = k.get_session(&sid).await.map_err(|e| match e {
        KratosError::Api { status: 404, .. } => {
            AppError::not_found(format!("session {sid} does not exist in Kratos"))
        }
        e => e.into_app(),
    })?;
    let owner = session.identity_id().map(str::to_string).ok_or_else(|| {
        AppError::failed(format!(
            "Kratos did not say which identity session {sid} belongs to"
        ))
    })?;
    if let Some(exp) = &expected
        && exp != &owner
    {
        return Err(AppError::usage(format!(
            "session {sid} belongs to identity {owner}, not {exp}; nothing was changed"
        )));
    }
    // `active` in the session is computed and false for a locked identity's sessions, which
    // unlocking would revive: ask the database-level filter instead.
    let live = list_sessions(&k, &owner, Some(true)).await?;
    let is_live = live.sessions.iter().any(|s| s.id == sid);
    let listing = SessionListing {
        sessions: vec![session],
        total: Some(1),
        complete: true,
        pages: 1,
    };
    if !is_live {
        let rec = Recorder::open(ctx, Some(&owner), "revoke")?;
        let e = Entry::new("revoke", Some(&owner), Outcome::Skipped)
            .with("summary", format!("session {sid} was not active"))
            .with("session", listing.sessions[0].evidence());
        rec.record(vec![e]).await?;
        super::finish_with(
            ctx,
            &owner,
            &owner,
            "skipped",
            &format!("session {sid} is not active: nothing to end"),
            &rec.path,
            json!({"sessions_ended": 0}),
        )?;
        return Ok(Exit::Ok);
    }
    ctx.confirm(&format!("End session {sid} of identity {owner}?"))?;
    let rec = Recorder::open(ctx, Some(&owner), "revoke")?;
    rec.record(vec![sessions_snapshot(
        &owner,
        &listing,
        "before revoking one session",
    )])
    .await?;
    k.disable_session(&sid, &owner).await.map_err(|e| match e {
        KratosError::Api { status: 404, .. } => {
            AppError::not_found(format!("session {sid} no longer exists in Kratos"))
        }
        e => e.into_app(),
    })?;
    let after = list_sessions(&k, &owner, Some(true)).await?;
    let verified = after.complete && !after.sessions.iter().any(|s| s.id == sid);
    let outcome = if verified {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    let e = Entry::new("revoke", Some(&owner), outcome)
        .with(
            "summary",
            if verified {
                format!("disabled session {sid}")
            } else {
                format!("session {sid} still listed as active after disabling it")
            },
        )
        .with("session_ids", [&sid])
        .with("soft", true)
        .with("verified_no_active_session", verified);
    rec.record(vec![e]).await?;
    if !verified {
        return Err(AppError::failed(format!(
            "session {sid} is still active after DELETE /admin/sessions/{sid}"
        )));
    }
    super::finish_with(
        ctx,
        &owner,
        &owner,
        "ok",
        &format!("session {sid} disabled (kept in Kratos as evidence)"),
        &rec.path,
        json!({"sessions_ended": 1}),
    )?;
    hydra_reminder(ctx);
    Ok(Exit::Ok)
}

/// Reads identity ids from stdin: one a line, blank lines and `#` comments ignored. Any
/// malformed line refuses the whole batch (exit 2, nothing sent).
fn read_ids(input: impl BufRead) -> Result<(Vec<String>, usize)> {
    let mut ids = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut bad = Vec::new();
    let mut duplicates = 0;
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| AppError::usage(format!("cannot read stdin: {e}")))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match uuid::Uuid::parse_str(t) {
            Ok(u) => {
                let s = u.hyphenated().to_string();
                if seen.insert(s.clone()) {
                    ids.push(s);
                } else {
                    duplicates += 1;
                }
            }
            Err(_) => bad.push(format!("line {}: {:?}", n + 1, output::shorten(t, 40))),
        }
    }
    if !bad.is_empty() {
        return Err(AppError::usage(format!(
            "stdin has {} line(s) that are not identity UUIDs ({}{}); nothing was sent",
            bad.len(),
            bad.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
            if bad.len() > 3 { ", …" } else { "" }
        )));
    }
    Ok((ids, duplicates))
}

async fn bulk(ctx: &Ctx, a: &RevokeArgs) -> Result<Exit> {
    if std::io::stdin().is_terminal() {
        return Err(AppError::usage(
            "--stdin reads identity ids from a pipe or file, not a terminal",
        )
        .with_hint("atoctl pattern-scan … -o ids | atoctl revoke --stdin"));
    }
    if let Some(r) = a.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(AppError::usage(
            "--rate must be a positive number per second",
        ));
    }
    let (ids, duplicates) = read_ids(std::io::stdin().lock())?;
    if ids.is_empty() {
        return Err(AppError::usage(
            "no identity ids on stdin; nothing was sent",
        ));
    }
    if duplicates > 0 {
        output::note(&format!(
            "{duplicates} duplicate id(s) on stdin handled once"
        ));
    }
    if ctx.dry_run() {
        let mut p = Plan::new("revoke --stdin");
        plan_identity(ctx, &mut p, &ids[0]);
        p.note(&format!(
            "the same requests for each of the {} identities, {} at a time{}",
            ids.len(),
            a.concurrency,
            a.rate
                .map(|r| format!(", at most {r} per second"))
                .unwrap_or_default()
        ));
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("end sessions")?;
    let k = ctx.kratos_with_pool(a.concurrency as usize)?;
    let h = ctx.hydra()?;
    ctx.confirm(&format!(
        "End every session of {} identities ({} at a time)?",
        ids.len(),
        a.concurrency
    ))?;
    let rec = Arc::new(Recorder::open(ctx, None, "revoke --stdin")?);
    let progress = if ctx.stderr_tty {
        let pb = indicatif::ProgressBar::new(ids.len() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} revoking [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    let pacer = a.rate.map(|r| {
        let mut iv = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Arc::new(tokio::sync::Mutex::new(iv))
    });
    let started = std::time::Instant::now();
    let total = ids.len();
    let json = ctx.json();
    let mut results: Vec<Revoked> = Vec::with_capacity(if json { total } else { 0 });
    let mut counts = Counts::default();
    let mut failed_ids: Vec<(String, String)> = Vec::new();
    let mut stream = futures::stream::iter(ids.into_iter().map(|id| {
        let k = k.clone();
        let h = h.clone();
        let rec = rec.clone();
        let pacer = pacer.clone();
        async move {
            if let Some(p) = pacer {
                p.lock().await.tick().await;
            }
            revoke_for_bulk(&k, h.as_ref(), &rec, &id).await
        }
    }))
    .buffer_unordered(a.concurrency as usize);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut pending = Vec::with_capacity(total);
    while let Some((r, p)) = stream.next().await {
        pending.extend(p);
        counts.add(&r);
        progress.inc(1);
        if r.result == "failed" || r.result == "not_found" {
            failed_ids.push((r.identity.clone(), r.detail.clone().unwrap_or_default()));
        }
        if json {
            results.push(r);
        } else {
            let line = format!(
                "{:<9} {}  {}",
                r.result,
                r.identity,
                r.detail
                    .clone()
                    .unwrap_or_else(|| format!("{} session(s) ended", r.sessions_ended))
            );
            progress.suspend(|| {
                use std::io::Write;
                let _ = writeln!(out, "{line}");
            });
        }
    }
    progress.finish_and_clear();
    drop(out);
    // Every identity's last entry was handed to the writer without waiting: make sure all of
    // them are on disk before the summary claims anything.
    let mut unrecorded = 0usize;
    let mut journal_error = None;
    for p in pending {
        if let Err(e) = p.wait().await {
            unrecorded += 1;
            journal_error.get_or_insert(e.message);
        }
    }
    if let Some(e) = journal_error {
        return Err(AppError::failed(format!(
            "{unrecorded} identities' results could not be written to the journal {}: {e}",
            rec.path
        )));
    }
    let elapsed = started.elapsed();
    let mut summary_entry = Entry::new(
        "revoke",
        None,
        if counts.failed + counts.not_found == 0 {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
    )
    .with(
        "summary",
        format!(
            "bulk revoke of {total} identities: {} ok, {} skipped, {} not found, {} failed",
            counts.ok, counts.skipped, counts.not_found, counts.failed
        ),
    )
    .with("bulk", counts.json(total))
    .with("seconds", (elapsed.as_secs_f64() * 1000.0).round() / 1000.0);
    if !failed_ids.is_empty() {
        summary_entry.put(
            "failed",
            failed_ids
                .iter()
                .map(|(i, d)| json!({"identity": i, "error": d}))
                .collect::<Vec<_>>(),
        );
    }
    rec.record(vec![summary_entry]).await?;
    if json {
        output::print_json(&json!({
            "results": results,
            "summary": counts.json(total),
            "failed": failed_ids.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            "seconds": elapsed.as_secs_f64(),
            "journal": rec.path,
        }))?;
    } else {
        output::line(&format!(
            "summary: {total} identities in {:.1}s: {} ok ({} sessions ended), {} skipped (no sessions), {} not found, {} failed",
            elapsed.as_secs_f64(),
            counts.ok,
            counts.sessions,
            counts.skipped,
            counts.not_found,
            counts.failed
        ));
    }
    if !failed_ids.is_empty() {
        for (i, d) in failed_ids.iter().take(20) {
            eprintln!("atoctl: failed: {i}: {d}");
        }
        if failed_ids.len() > 20 {
            eprintln!(
                "atoctl: … and {} more (see the journal {})",
                failed_ids.len() - 20,
                rec.path
            );
        }
        return Err(AppError::failed(format!(
            "{} of {total} identities were not revoked",
            failed_ids.len()
        )));
    }
    Ok(Exit::Ok)
}

#[derive(Default)]
struct Counts {
    ok: usize,
    skipped: usize,
    not_found: usize,
    failed: usize,
    sessions: usize,
}

impl Counts {
    fn add(&mut self, r: &Revoked) {
        match r.result {
            "ok" => self.ok += 1,
            "skipped" => self.skipped += 1,
            "not_found" => self.not_found += 1,
            _ => self.failed += 1,
        }
        self.sessions += r.sessions_ended;
    }

    fn json(&self, total: usize) -> Value {
        json!({
            "identities": total,
            "ok": self.ok,
            "skipped": self.skipped,
            "not_found": self.not_found,
            "failed": self.failed,
            "sessions_ended": self.sessions,
        })
    }
}

/// One identity of a bulk run: look, snapshot, delete, verify, (Hydra), record. Never fails
/// the batch.
async fn revoke_for_bulk(
    k: &kratos::Client,
    h: Option<&hydra::Client>,
    rec: &Recorder,
    id: &str,
) -> (Revoked, Option<Pending>) {
    let r = |result, n, detail: Option<String>| Revoked {
        identity: id.to_string(),
        result,
        sessions_ended: n,
        detail,
    };
    let listing = match list_sessions(k, id, None).await {
        Ok(l) => l,
        Err(e) => {
            return (
                failed(rec, id, r("failed", 0, Some(e.line_plain()))).await,
                None,
            );
        }
    };
    let done = if listing.sessions.is_empty() {
        if let Err(e) = k.get_identity(id).await {
            let err = identity_error(e, id);
            let kind = if err.exit == Exit::NotFound {
                "not_found"
            } else {
                "failed"
            };
            return (
                failed(rec, id, r(kind, 0, Some(err.line_plain()))).await,
                None,
            );
        }
        None
    } else {
        match end_all(k, rec, id, &listing, "before revoke").await {
            Ok(d) => Some(d),
            Err(e) => {
                return (
                    failed(rec, id, r("failed", 0, Some(e.line_plain()))).await,
                    None,
                );
            }
        }
    };
    let ended = done.as_ref().map(|d| d.ended.len()).unwrap_or(0);
    let kratos_ok = done.as_ref().is_none_or(|d| d.verified);
    let mut e = Entry::new("revoke", Some(id), Outcome::Ok);
    match &done {
        Some(d) => d.put_evidence(&mut e),
        None => e.put("sessions_ended", 0),
    }
    let hydra = revoke_hydra(h, id, &mut e).await;
    let (result, detail) = match (&done, kratos_ok, &hydra) {
        (_, false, _) => (
            "failed",
            Some(format!(
                "{} session(s) still active after the delete",
                done.as_ref().map(|d| d.still_active.len()).unwrap_or(0)
            )),
        ),
        (_, true, Err(m)) => ("failed", Some(m.clone())),
        (_, true, Ok(false)) => ("failed", Some("Hydra still lists OAuth2 consents".into())),
        (None, true, Ok(true)) if h.is_none() => ("skipped", Some("no sessions".into())),
        (None, true, Ok(true)) => ("ok", Some("no sessions; OAuth2 consents revoked".into())),
        (Some(_), true, Ok(true)) => ("ok", None),
    };
    e.outcome = match result {
        "ok" => Outcome::Ok,
        "skipped" => Outcome::Skipped,
        _ => Outcome::Failed,
    };
    e.put(
        "summary",
        match &detail {
            Some(d) => format!("ended {ended} session(s): {d}"),
            None => format!("ended {ended} session(s)"),
        },
    );
    // Nothing after this entry depends on it: hand it over and let the caller await its
    // durability at the end, so that the next identity does not wait for this fsync.
    (r(result, ended, detail), Some(rec.writer.submit(vec![e])))
}

/// Records a failed identity of a bulk run (best effort) and returns its result.
async fn failed(rec: &Recorder, id: &str, r: Revoked) -> Revoked {
    let outcome = Outcome::Failed;
    let e = Entry::new("revoke", Some(id), outcome)
        .with(
            "summary",
            format!(
                "revoke {}: {}",
                r.result,
                r.detail.clone().unwrap_or_default()
            ),
        )
        .with("error", r.detail.clone());
    let _ = rec.record(vec![e]).await;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_ids_skip_blanks_comments_and_duplicates() {
        let input = "\n# from pattern-scan\n5F1C2A9E-0B7E-4C3D-9A51-2F6D8E4B1C07\n5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07\n  0b7e2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07  \n";
        let (ids, dups) = read_ids(input.as_bytes()).unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(dups, 1);
        assert_eq!(ids[0], "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07");
    }

    #[test]
    fn one_bad_line_refuses_the_batch() {
        let input = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07\nDROP TABLE\n";
        let e = read_ids(input.as_bytes()).unwrap_err();
        assert_eq!(e.exit, Exit::Usage);
        assert!(e.message.contains("line 2"));
    }
}
