//! `incident open | verify | note | show`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::cli::{
    IncidentCloseArgs, IncidentCommand, IncidentNoteArgs, IncidentOpenArgs, IncidentVerifyArgs,
};
use crate::context::{Ctx, new_incident_id};
use crate::error::{AppError, Exit, Result};
use crate::ids::IdentityRef;
use crate::journal::{self, Entry, Outcome, Record};
use crate::output;

pub async fn run(ctx: &Ctx, cmd: &IncidentCommand) -> Result<Exit> {
    ctx.reject_ids_output("incident")?;
    match cmd {
        IncidentCommand::Open(a) => open(ctx, a).await,
        IncidentCommand::Verify(a) => verify(ctx, a),
        IncidentCommand::Note(a) => note(ctx, a),
        IncidentCommand::Show => show(ctx),
        IncidentCommand::Close(a) => close(ctx, a),
    }
}

fn journal_path(ctx: &Ctx) -> Result<PathBuf> {
    ctx.args.incident.clone().ok_or_else(|| {
        AppError::usage("no incident journal given")
            .with_hint("pass --incident FILE or set ATOCTL_INCIDENT")
    })
}

async fn open(ctx: &Ctx, a: &IncidentOpenArgs) -> Result<Exit> {
    let reported_at = match &a.reported_at {
        Some(r) => Some(
            r.parse::<jiff::Timestamp>()
                .map_err(|_| {
                    AppError::usage(format!(
                        "--reported-at {:?} is not an RFC 3339 time (like 2026-11-25T08:15:00Z)",
                        crate::error::one_line(r)
                    ))
                })?
                .to_string(),
        ),
        None => None,
    };
    if ctx.dry_run() {
        output::line("dry run: would create a new incident journal; nothing written");
        return Ok(Exit::Ok);
    }
    // A login identifier is looked up in Kratos (exact match); a UUID is taken as given.
    let (identity, resolved_from) = match &a.identity {
        IdentityRef::Id(id) => (id.to_string(), None),
        IdentityRef::Identifier(i) => {
            let cx = super::life::Cx::new(ctx, None, 1)?;
            let target = super::life::resolve(&cx, Some(&a.identity))
                .await?
                .ok_or_else(|| AppError::usage("give --identity"))?;
            (target.id.to_string(), Some(i.clone()))
        }
    };
    let path = match &ctx.args.incident {
        Some(p) => p.clone(),
        None => ctx
            .incidents_dir()
            .join(format!("{}.jsonl", new_incident_id())),
    };
    if path.exists() {
        return Err(AppError::usage(format!(
            "journal {} exists already; an incident is opened once",
            path.display()
        ))
        .with_hint("append to it with --incident, or choose a new file"));
    }
    let j = ctx.create_journal(
        &path,
        Some(&identity),
        "incident open",
        a.summary.as_deref(),
        reported_at.as_deref(),
        resolved_from.as_deref(),
    )?;
    if ctx.json() {
        output::print_json(&json!({
            "path": path.display().to_string(),
            "incident": j.incident(),
            "identity": identity,
        }))?;
    } else {
        output::line(&path.display().to_string());
        let shown = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        output::note(&format!(
            "opened incident {}; export ATOCTL_INCIDENT={} for the next steps",
            j.incident(),
            shown.display()
        ));
    }
    Ok(Exit::Ok)
}

fn verify(ctx: &Ctx, a: &IncidentVerifyArgs) -> Result<Exit> {
    let path = journal_path(ctx)?;
    let head = match &a.head {
        Some(h) => {
            let h = h.trim().to_ascii_lowercase();
            if !(12..=64).contains(&h.len()) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(AppError::usage(
                    "--head takes 12 to 64 hex digits of a head hash (as `incident verify` prints it)",
                ));
            }
            Some(h)
        }
        None => None,
    };
    match journal::verify_file_through(&path, head.as_deref()) {
        Ok((r, at)) => {
            // With --head: how many entries came after the recorded head (None: it is not in
            // the chain).
            let after = head.as_ref().map(|h| (h, at.map(|line| r.entries - line)));
            if let Some((h, None)) = &after {
                if ctx.json() {
                    output::print_json(&json!({
                        "ok": false,
                        "path": path.display().to_string(),
                        "head": r.head,
                        "recorded_head": h,
                        "reason": "the recorded head is not in the chain",
                    }))?;
                }
                return Err(AppError::new(
                    Exit::Damaged,
                    format!(
                        "{}: the recorded head {h} is not in the chain (it now ends at {}): a line up to the recorded head was edited or removed",
                        path.display(),
                        r.head
                    ),
                ));
            }
            if ctx.json() {
                let mut doc = json!({
                    "ok": true,
                    "path": path.display().to_string(),
                    "entries": r.entries,
                    "incident": r.incident,
                    "head": r.head,
                });
                if let Some((h, Some(n))) = &after {
                    doc["recorded_head"] = json!(h);
                    doc["entries_after_recorded_head"] = json!(n);
                }
                output::print_json(&doc)?;
            } else {
                let said = match after {
                    Some((_, Some(0))) => "; the chain ends at the recorded head".to_string(),
                    Some((_, Some(n))) => format!(
                        "; the chain passes through the recorded head; {} came after it",
                        crate::steps::count(n as usize, "entry", "entries")
                    ),
                    _ => String::new(),
                };
                output::line(&format!(
                    "ok: {} entries of incident {}, hash chain intact{said} (head {})",
                    r.entries, r.incident, r.head
                ));
            }
            Ok(Exit::Ok)
        }
        Err(Ok(d)) => {
            if ctx.json() {
                output::print_json(&json!({
                    "ok": false,
                    "path": path.display().to_string(),
                    "line": d.line,
                    "reason": d.reason,
                }))?;
            }
            Err(AppError::new(
                Exit::Damaged,
                format!(
                    "{} is damaged: line {}: {}",
                    path.display(),
                    d.line,
                    d.reason
                ),
            ))
        }
        Err(Err(e)) => Err(e),
    }
}

fn note(ctx: &Ctx, a: &IncidentNoteArgs) -> Result<Exit> {
    if a.root_cause.is_none() && a.text.is_none() {
        return Err(AppError::usage("a note needs --text, --root-cause or both"));
    }
    let path = journal_path(ctx)?;
    if ctx.dry_run() {
        output::line("dry run: would append a note; nothing written");
        return Ok(Exit::Ok);
    }
    let j = journal::Journal::open(&path, ctx.operator())?;
    if journal::glance(&path)?.closed {
        return Err(AppError::usage(format!(
            "incident {} is closed: a note after its close would reopen it; nothing was written",
            j.incident()
        ))
        .with_hint("record the root cause before `atoctl incident close`"));
    }
    let mut e = Entry::new("note", None, Outcome::Ok);
    if let Some(rc) = &a.root_cause {
        e.put("root_cause", rc.trim());
    }
    if let Some(t) = &a.text {
        e.put("text", t);
    }
    let seq = j.append([e])?;
    if ctx.json() {
        output::print_json(&json!({"seq": seq.first(), "incident": j.incident()}))?;
    } else {
        output::line(&format!(
            "noted as entry {} of incident {}",
            seq.first().copied().unwrap_or_default(),
            j.incident()
        ));
    }
    Ok(Exit::Ok)
}

fn show(ctx: &Ctx) -> Result<Exit> {
    let path = journal_path(ctx)?;
    // Read the entries first; warn (do not fail) when the chain is broken, so the timeline
    // stays readable during an incident.
    let records = journal::read_records(&path)?;
    let head = match journal::verify_file(&path) {
        Ok(r) => Some(r.head),
        Err(Ok(d)) => {
            output::warn(&format!(
                "the journal does not verify: line {}: {}",
                d.line, d.reason
            ));
            None
        }
        Err(Err(_)) => None,
    };
    if ctx.json() {
        return output::print_json(&json!({
            "path": path.display().to_string(),
            "incident": records.first().map(|r| r.incident.clone()),
            "head": head,
            "entries": records,
        }))
        .map(|_| Exit::Ok);
    }
    let mut t = output::table([
        "SEQ", "TIME", "OPERATOR", "STEP", "IDENTITY", "OUTCOME", "SUMMARY",
    ]);
    for r in &records {
        t.add_row(vec![
            r.seq.to_string(),
            r.ts.get(..19).unwrap_or(&r.ts).replace('T', " "),
            r.operator.clone(),
            r.step.clone(),
            r.identity.clone().unwrap_or_else(|| "-".into()),
            r.outcome.as_str().to_string(),
            summary(r),
        ]);
    }
    output::line(&t.to_string());
    if let Some(h) = head {
        output::line(&format!(
            "head {h}: record it in the ticket; `atoctl incident verify --head {}` checks later that no line up to it changed",
            h.get(..12).unwrap_or(&h)
        ));
    }
    Ok(Exit::Ok)
}

/// One line about an entry for the timeline: its `summary` evidence when it has one.
fn summary(r: &Record) -> String {
    let s = |k: &str| {
        r.evidence
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let text = s("summary")
        .or_else(|| match (s("root_cause"), s("text")) {
            (Some(rc), Some(t)) => Some(format!("root cause: {rc}; {t}")),
            (Some(rc), None) => Some(format!("root cause: {rc}")),
            (None, t) => t,
        })
        .unwrap_or_default();
    output::shorten(&crate::error::one_line(&text), 80)
}

/// `incident close`: the last entry of the incident; later steps on its identity open a new one.
fn close(ctx: &Ctx, a: &IncidentCloseArgs) -> Result<Exit> {
    let path = journal_path(ctx)?;
    let j = journal::Journal::open(&path, ctx.operator())?;
    let g = journal::glance(&path)?;
    if g.closed {
        output::line(&format!(
            "incident {} is closed already; nothing to do",
            j.incident()
        ));
        return Ok(Exit::Ok);
    }
    if ctx.dry_run() {
        output::line("dry run: would close the incident; nothing written");
        return Ok(Exit::Ok);
    }
    let mut e = Entry::new(journal::CLOSE_STEP, g.identity.as_deref(), Outcome::Ok);
    let resolution = a
        .resolution
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    e.put(
        "summary",
        match resolution {
            Some(r) => format!("incident closed: {r}"),
            None => "incident closed".to_string(),
        },
    );
    if let Some(r) = resolution {
        e.put("resolution", r);
    }
    let seq = j.append([e])?;
    if ctx.json() {
        output::print_json(&json!({
            "incident": j.incident(),
            "path": path.display().to_string(),
            "seq": seq.first(),
            "closed": true,
        }))?;
    } else {
        output::line(&format!(
            "closed incident {}; steps on its identity now open a new one",
            j.incident()
        ));
    }
    Ok(Exit::Ok)
}
