//! `revoke --stdin`: the revoke step for many identities, each with its own life
//! ([`super::life::unattended`]), `--concurrency` at a time, at most `--rate` started a second,
//! paced besides by the server's rate-limit answers (the transport's gate).
//!
//! The identities' entries go to one journal writer that commits whatever is waiting in one
//! write and one fsync (group commit): a snapshot is on disk before its delete is sent, and
//! each identity's last entry is awaited only at the end, before the summary claims anything.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};

use super::Recorder;
use super::life::{self, Cx, StepResult};
use super::revoke::{Revoke, hydra_reminder};
use crate::cli::RevokeArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::ids::IdentityRef;
use crate::journal::{Entry, Outcome};
use crate::output;

/// What happened to one identity.
#[derive(Debug, Clone, Serialize)]
pub struct Revoked {
    /// As given on stdin (an id, or a login identifier).
    pub identity: String,
    pub result: StepResult,
    pub sessions_ended: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Reads identities from stdin: one a line, blank lines and `#` comments ignored, duplicates
/// handled once. Any malformed line refuses the whole batch (exit 2, nothing sent).
pub fn read_ids(input: impl BufRead) -> Result<(Vec<IdentityRef>, usize)> {
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
        // A line with spaces is not one identity: a table pasted by mistake, most likely.
        let parsed = if t.contains(char::is_whitespace) {
            Err("it has spaces".to_string())
        } else {
            t.parse::<IdentityRef>()
        };
        match parsed {
            Ok(r) => {
                if seen.insert(r.clone()) {
                    ids.push(r);
                } else {
                    duplicates += 1;
                }
            }
            Err(e) => bad.push(format!(
                "line {}: {:?} ({e})",
                n + 1,
                output::shorten(&output::escape_controls(t), 40)
            )),
        }
    }
    if !bad.is_empty() {
        return Err(AppError::usage(format!(
            "stdin has {} neither an identity UUID nor a login identifier ({}{}); nothing was sent",
            super::count(bad.len(), "line that is", "lines that are each"),
            bad.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
            if bad.len() > 3 { ", …" } else { "" }
        )));
    }
    Ok((ids, duplicates))
}

pub async fn run(ctx: &Ctx, a: &RevokeArgs) -> Result<Exit> {
    if std::io::stdin().is_terminal() {
        return Err(AppError::usage(
            "--stdin reads identities from a pipe or file, not a terminal",
        )
        .with_hint("atoctl pattern-scan … -o ids | atoctl revoke --stdin"));
    }
    let (ids, duplicates) = read_ids(std::io::stdin().lock())?;
    run_ids(ctx, a, ids, duplicates).await
}

/// Revokes each identity of a list already read (from stdin, or a runner's `{others}`).
pub async fn run_ids(
    ctx: &Ctx,
    a: &RevokeArgs,
    ids: Vec<IdentityRef>,
    duplicates: usize,
) -> Result<Exit> {
    if ids.is_empty() {
        return Err(AppError::usage("no identities on stdin; nothing was sent"));
    }
    if duplicates > 0 {
        output::note(&format!(
            "{} on stdin handled once",
            super::count(duplicates, "duplicate", "duplicates")
        ));
    }
    if ctx.dry_run() {
        output::note(&format!(
            "the plan below is the first identity's; the same is planned for each of the {}, {} at a time{}",
            super::count(ids.len(), "identity", "identities"),
            a.concurrency,
            a.rate
                .map(|r| format!(", at most {r} started a second"))
                .unwrap_or_default()
        ));
        return life::run(
            ctx,
            Revoke {
                identity: ids[0].clone(),
            },
        )
        .await;
    }
    ctx.ensure_may_change("end sessions")?;
    let cx = Cx::new(ctx, None, a.concurrency as usize)?;
    ctx.confirm(&format!(
        "End every session of {} ({} at a time)?",
        super::count(ids.len(), "identity", "identities"),
        a.concurrency
    ))?;
    let rec = Recorder::open(ctx, None, "revoke --stdin")?;
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
    let (cx, rec) = (&cx, &rec);
    // Ctrl-C or SIGTERM: nothing new is started, what is in flight finishes and is journaled,
    // and the run ends saying what was and was not done (exit 130 or 143); a second signal
    // ends it at once.
    let stop = Arc::new(std::sync::atomic::AtomicI32::new(0));
    // Wakes the identities waiting for `--rate`'s next tick when a signal stops the run.
    let stopping = Arc::new(tokio::sync::Notify::new());
    let mut signals = Signals::new()?;
    let mut not_started: Vec<String> = Vec::new();
    let mut stream = futures::stream::iter(ids.into_iter().map(|id| {
        let pacer = pacer.clone();
        let stop = stop.clone();
        let stopping = stopping.clone();
        async move {
            if stop.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                return (None, Some(id.to_string()), None);
            }
            if let Some(p) = pacer {
                let ticked = async { p.lock().await.tick().await };
                tokio::select! {
                    _ = ticked => {}
                    _ = stopping.notified() => return (None, Some(id.to_string()), None),
                }
            }
            if stop.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                return (None, Some(id.to_string()), None);
            }
            let shown = id.to_string();
            let (result, detail, finished, pending) =
                life::unattended(cx, rec, &Revoke { identity: id }).await;
            let ended = finished
                .as_ref()
                .and_then(|f| f.verdict.output.get("sessions_ended"))
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            let detail = match result {
                StepResult::Ok => None,
                StepResult::Skipped => Some("no sessions".to_string()),
                _ => Some(detail),
            };
            (
                Some(Revoked {
                    identity: shown,
                    result,
                    sessions_ended: ended,
                    detail,
                }),
                None,
                pending,
            )
        }
    }))
    .buffer_unordered(a.concurrency as usize);
    let mut out = std::io::BufWriter::new(crate::output::results());
    let mut pending = Vec::with_capacity(total);
    let mut done_ids: Vec<String> = Vec::new();
    loop {
        let next = tokio::select! {
            n = stream.next() => n,
            sig = signals.recv() => {
                if stop.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                    // The second signal: at once. What was journaled stays journaled.
                    progress.finish_and_clear();
                    output::note("stopped at once by a second signal; the journal holds what finished");
                    std::process::exit(sig.code());
                }
                stop.store(sig.code(), std::sync::atomic::Ordering::SeqCst);
                stopping.notify_waiters();
                progress.suspend(|| {
                    output::note(&format!(
                        "{}: starting nothing new; the requests in flight finish and are journaled (a second signal ends at once)",
                        sig.name()
                    ))
                });
                continue;
            }
        };
        let Some((r, skipped, p)) = next else { break };
        pending.extend(p);
        if let Some(i) = skipped {
            not_started.push(i);
            continue;
        }
        let Some(r) = r else { continue };
        done_ids.push(r.identity.clone());
        counts.add(&r);
        progress.inc(1);
        if matches!(r.result, StepResult::Failed | StepResult::NotFound) {
            failed_ids.push((r.identity.clone(), r.detail.clone().unwrap_or_default()));
        }
        if json {
            results.push(r);
        } else {
            let line = format!(
                "{:<9} {}  {}",
                r.result.as_str(),
                output::clean(&r.identity),
                r.detail
                    .as_deref()
                    .map(output::clean)
                    .unwrap_or_else(|| format!(
                        "{} ended",
                        super::count(r.sessions_ended, "session", "sessions")
                    ))
            );
            progress.suspend(|| {
                use std::io::Write;
                // One line at a time, flushed: what the operator saw is what was done.
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            });
        }
    }
    drop(stream);
    progress.finish_and_clear();
    drop(out);
    // Every identity's last entry was handed to the writer without waiting: make sure all of
    // them are on disk before the summary claims anything.
    let waiting = async {
        let mut unrecorded = 0usize;
        let mut journal_error = None;
        for p in pending {
            if let Err(e) = p.wait().await {
                unrecorded += 1;
                journal_error.get_or_insert(e.message);
            }
        }
        (unrecorded, journal_error)
    };
    // A signal while the last entries reach the disk: a second one ends the run at once; a
    // first one is said and recorded (everything was started already; the summary follows).
    tokio::pin!(waiting);
    let (unrecorded, journal_error) = loop {
        tokio::select! {
            r = &mut waiting => break r,
            sig = signals.recv() => {
                if stop.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                    output::note("stopped at once by a second signal while the journal was being written; the journal holds what reached the disk");
                    std::process::exit(sig.code());
                }
                stop.store(sig.code(), std::sync::atomic::Ordering::SeqCst);
                output::note(&format!(
                    "{}: every identity was started already; the journal is being written, then the run ends (a second signal ends it at once)",
                    sig.name()
                ));
            }
        }
    };
    if let Some(e) = journal_error {
        return Err(AppError::failed(format!(
            "{} could not be written to the journal {}: {e}",
            super::count(unrecorded, "identity's result", "identities' results"),
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
            "bulk revoke of {}: {} ok, {} skipped, {} not found, {} failed",
            super::count(total, "identity", "identities"),
            counts.ok,
            counts.skipped,
            counts.not_found,
            counts.failed
        ),
    )
    .with("bulk", counts.json(total))
    .with("seconds", (elapsed.as_secs_f64() * 1000.0).round() / 1000.0);
    if !failed_ids.is_empty() {
        summary_entry.put(
            "failed",
            failed_ids
                .iter()
                .map(|(i, d)| json!({"identity": output::clean(i), "error": output::clean(d)}))
                .collect::<Vec<_>>(),
        );
    }
    let interrupted = Stop::from_code(stop.load(std::sync::atomic::Ordering::SeqCst));
    if let Some(sig) = interrupted {
        summary_entry.outcome = Outcome::Failed;
        summary_entry.put(
            "summary",
            format!(
                "bulk revoke interrupted by {} after {} of {}: {} ok, {} skipped, {} not found, {} failed; {} not started",
                sig.name(),
                done_ids.len(),
                super::count(total, "identity", "identities"),
                counts.ok,
                counts.skipped,
                counts.not_found,
                counts.failed,
                not_started.len()
            ),
        );
        summary_entry.put("interrupted", sig.name());
        summary_entry.put("done", &done_ids);
        summary_entry.put("not_done", &not_started);
    }
    rec.record(vec![summary_entry]).await?;
    let mut doc = json!({
        "results": results,
        "summary": counts.json(total),
        "failed": failed_ids.iter().map(|(i, _)| i).collect::<Vec<_>>(),
        "seconds": elapsed.as_secs_f64(),
        "journal": rec.path,
    });
    if let Some(sig) = interrupted {
        doc["interrupted"] = json!(sig.name());
        doc["not_done"] = json!(not_started);
        let said = format!(
            "interrupted after {} of {} by {}: {} not started (listed in the journal {}); run the same command again with the rest",
            done_ids.len(),
            super::count(total, "identity", "identities"),
            sig.name(),
            not_started.len(),
            rec.path
        );
        if json {
            output::print_json(&doc)?;
        } else {
            output::line(&format!("summary: {said}"));
        }
        return Err(AppError::new(sig.exit(), said));
    }
    if json {
        output::print_json(&doc)?;
    } else {
        output::line(&format!(
            "summary: {} in {:.1}s: {} ok ({} ended), {} skipped (no sessions), {} not found, {} failed",
            super::count(total, "identity", "identities"),
            elapsed.as_secs_f64(),
            counts.ok,
            super::count(counts.sessions, "session", "sessions"),
            counts.skipped,
            counts.not_found,
            counts.failed
        ));
    }
    if !ctx.has_hydra() {
        output::note(hydra_reminder());
    }
    if !failed_ids.is_empty() {
        for (i, d) in failed_ids.iter().take(20) {
            output::note(&format!(
                "failed: {}: {}",
                output::clean(i),
                output::clean(d)
            ));
        }
        if failed_ids.len() > 20 {
            output::note(&format!(
                "… and {} more (see the journal {})",
                failed_ids.len() - 20,
                rec.path
            ));
        }
        return Err(AppError::failed(format!(
            "{} of {} were not revoked",
            failed_ids.len(),
            super::count(total, "identity", "identities")
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
            StepResult::Ok => self.ok += 1,
            StepResult::Skipped => self.skipped += 1,
            StepResult::NotFound => self.not_found += 1,
            StepResult::Failed => self.failed += 1,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_ids_skip_blanks_comments_and_duplicates() {
        let input = "\n# from pattern-scan\n5F1C2A9E-0B7E-4C3D-9A51-2F6D8E4B1C07\n5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07\n  0b7e2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07  \nalice@example.com\n";
        let (ids, dups) = read_ids(input.as_bytes()).unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(dups, 1);
        assert_eq!(ids[0].to_string(), "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07");
        assert_eq!(ids[2], IdentityRef::Identifier("alice@example.com".into()));
    }

    #[test]
    fn one_bad_line_refuses_the_batch() {
        let input = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07\nDROP TABLE\n5f1c2a9e-0b7e-4c3d-9a51\n";
        // Two bad lines: one with spaces, one a cut UUID.
        let e = read_ids(input.as_bytes()).unwrap_err();
        assert_eq!(e.exit, Exit::Usage);
        assert!(e.message.contains("line 2"), "{}", e.message);
        assert!(e.message.contains("line 3"), "{}", e.message);
    }
}

/// Which signal stopped a bulk run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Interrupt,
    Terminate,
}

impl Stop {
    fn code(self) -> i32 {
        self.exit().code()
    }

    fn exit(self) -> Exit {
        match self {
            Stop::Interrupt => Exit::Interrupted,
            Stop::Terminate => Exit::Terminated,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
        }
    }

    fn from_code(c: i32) -> Option<Stop> {
        [Stop::Interrupt, Stop::Terminate]
            .into_iter()
            .find(|s| s.code() == c)
    }
}

/// SIGINT and SIGTERM, caught for the length of a bulk run.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let cannot =
            |e: std::io::Error| AppError::failed(format!("cannot catch Ctrl-C and SIGTERM: {e}"));
        Ok(Signals {
            int: signal(SignalKind::interrupt()).map_err(cannot)?,
            term: signal(SignalKind::terminate()).map_err(cannot)?,
        })
    }

    async fn recv(&mut self) -> Stop {
        tokio::select! {
            _ = self.int.recv() => Stop::Interrupt,
            _ = self.term.recv() => Stop::Terminate,
        }
    }
}
