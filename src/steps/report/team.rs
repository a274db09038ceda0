//! The incident report for the team: header, timeline (UTC), actions with their outcomes,
//! evidence, root cause, the playbook's open follow-ups and the journal's integrity, as
//! Markdown or as one JSON document with the same content.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;

use serde::Serialize;
use serde::ser::{Error as _, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use super::text::{code, esc, esc_value, md, md_short, utc};
use super::{Act, Line, OtherStep, Scan, id_hash, read_line, s};
use crate::journal::{self, Core, Damage, Outcome, Record};
use crate::playbook::status::{Incident, Status, WEBHOOK_STEP};
use crate::playbook::{Playbook, status_of};

/// Text of a timeline row in Markdown is shortened to this many characters.
const ROW_TEXT: usize = 200;
/// At most this many other identities, flagged events and sessions are listed in Markdown;
/// the JSON document has every one the report kept.
const MD_LIST: usize = 100;

pub fn write(
    out: &mut impl Write,
    scan: &Scan,
    path: &Path,
    pb: &Playbook,
    json: bool,
    now: jiff::Timestamp,
) -> io::Result<()> {
    let doc = Doc::new(scan, path, pb, now);
    if json {
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    } else {
        doc.markdown(out)
    }
}

/// The report as one document. Field order is the reading order: integrity first, so that a
/// damaged journal is the first thing seen.
#[derive(Serialize)]
struct Doc<'a> {
    integrity: Integrity,
    incident: Option<String>,
    identity: Option<String>,
    /// The login identifier the identity was found by, when the incident was opened by one.
    resolved_from: Option<String>,
    status: &'static str,
    summary: Option<String>,
    reported_at: Option<String>,
    opened_at: Option<String>,
    closed_at: Option<String>,
    resolution: Option<String>,
    operators: Vec<String>,
    timeline: Timeline<'a>,
    actions: Vec<ActionView>,
    evidence: Evidence,
    root_cause: Vec<Cause>,
    playbook: PlaybookView,
    follow_ups: Option<Vec<FollowUp>>,
}

#[derive(Serialize)]
struct Integrity {
    /// The hash chain and every line's shape verified.
    verified: bool,
    /// The first damage, as `incident verify` names it.
    damage: Option<Damage>,
    /// Entries read (all of them when verified).
    entries: u64,
    lines: u64,
    /// SHA-256 of the last line: it pins the whole history (only for a verified journal).
    head: Option<String>,
    unreadable: Vec<Damage>,
    unreadable_count: u64,
}

#[derive(Serialize)]
struct ActionView {
    line: u64,
    time: String,
    until: Option<String>,
    operator: Option<String>,
    /// The journal's step, or a manual item's playbook step id.
    step: String,
    title: Option<String>,
    /// `identity` (the incident's) or `other identities` (counted).
    about: &'static str,
    /// ok, failed, skipped, cut off (began and recorded no end), done (manual).
    outcome: String,
    verified: Option<bool>,
    summary: String,
    error: Option<String>,
    /// For other identities: how many, and how each one's last run ended.
    identities: Option<u64>,
    counts: Option<BTreeMap<&'static str, u64>>,
}

#[derive(Serialize)]
struct Evidence {
    webhooks: Vec<Value>,
    sessions_ended: Vec<Value>,
    sessions_not_listed: u64,
    audit: Option<AuditView>,
    other_identities: Option<ScanView>,
    breached_password: Option<Value>,
    answers: Vec<Answers>,
}

#[derive(Serialize)]
struct AuditView {
    runs: u64,
    window: Value,
    counts: Value,
    flagged: Vec<Value>,
    flagged_not_listed: u64,
    new_ips: Vec<String>,
    new_ips_not_listed: u64,
}

#[derive(Serialize)]
struct ScanView {
    time: String,
    count: u64,
    identities: Vec<String>,
    truncated: bool,
    ips: Vec<Value>,
}

#[derive(Serialize)]
struct Answers {
    step: String,
    title: String,
    time: String,
    operator: String,
    answers: Vec<QA>,
}

#[derive(Serialize)]
struct QA {
    question: String,
    answer: String,
}

#[derive(Serialize)]
struct Cause {
    time: String,
    operator: String,
    cause: String,
    text: Option<String>,
}

#[derive(Serialize)]
struct PlaybookView {
    name: String,
    source: String,
}

#[derive(Serialize)]
struct FollowUp {
    phase: String,
    phase_title: String,
    step: String,
    title: String,
    status: &'static str,
    detail: String,
}

fn opt(m: &Map<String, Value>, k: &str) -> Option<String> {
    s(m, k).map(esc)
}

impl<'a> Doc<'a> {
    fn new(scan: &'a Scan, path: &'a Path, pb: &Playbook, now: jiff::Timestamp) -> Doc<'a> {
        let open = scan.open.as_ref();
        let close = scan.close.as_ref();
        Doc {
            integrity: Integrity {
                verified: scan.verified.is_some(),
                damage: scan.damage.as_ref().map(|d| Damage {
                    line: d.line,
                    reason: esc(&d.reason),
                }),
                entries: scan.entries,
                lines: scan.lines.lines,
                head: scan.verified.as_ref().map(|r| r.head.clone()),
                unreadable: scan
                    .unreadable
                    .iter()
                    .map(|d| Damage {
                        line: d.line,
                        reason: esc(&d.reason),
                    })
                    .collect(),
                unreadable_count: scan.unreadable_count,
            },
            incident: scan.incident.as_deref().map(esc),
            identity: scan.identity.as_deref().map(esc),
            resolved_from: open.and_then(|r| match r.evidence.get("resolved_from") {
                Some(Value::String(i)) => Some(esc(i)),
                Some(v) => v.get("identifier").and_then(Value::as_str).map(esc),
                None => None,
            }),
            status: if close.is_some() { "closed" } else { "open" },
            summary: open.and_then(|r| opt(&r.evidence, "summary")),
            reported_at: open.and_then(|r| opt(&r.evidence, "reported_at")),
            opened_at: open.map(|r| esc(&r.ts)),
            closed_at: close.map(|r| esc(&r.ts)),
            resolution: close.and_then(|r| {
                opt(&r.evidence, "resolution").or_else(|| opt(&r.evidence, "summary"))
            }),
            operators: scan.operators.iter().map(|o| esc(o)).collect(),
            timeline: Timeline { path, scan },
            actions: actions(scan),
            evidence: evidence(scan),
            root_cause: scan
                .causes
                .iter()
                .map(|r| Cause {
                    time: esc(&r.ts),
                    operator: esc(&r.operator),
                    cause: opt(&r.evidence, "root_cause").unwrap_or_default(),
                    text: opt(&r.evidence, "text"),
                })
                .collect(),
            playbook: PlaybookView {
                name: esc(&pb.name),
                source: esc(&pb.source),
            },
            follow_ups: follow_ups(scan, path, pb, now),
        }
    }
}

/// The action of one journal entry about the identity, as its step recorded it.
fn entry_action(line: u64, r: &Record) -> ActionView {
    ActionView {
        line,
        time: esc(&r.ts),
        until: None,
        operator: Some(esc(&r.operator)),
        step: step_name(r),
        title: None,
        about: "identity",
        outcome: r.outcome.as_str().to_string(),
        verified: r.evidence.get("verified").and_then(Value::as_bool),
        summary: opt(&r.evidence, "summary").unwrap_or_default(),
        error: opt(&r.evidence, "error"),
        identities: None,
        counts: None,
    }
}

fn actions(scan: &Scan) -> Vec<ActionView> {
    let mut v: Vec<ActionView> = scan
        .actions
        .iter()
        .map(|a| match a {
            Act::Change(line, r) => entry_action(*line, r),
            Act::CutOff(line, r) => ActionView {
                outcome: "cut off".into(),
                verified: Some(false),
                summary: format!(
                    "began ({}) and recorded no end: cut off, or still running; run the step again",
                    opt(&r.evidence, "summary").unwrap_or_else(|| "no plan recorded".into())
                ),
                error: None,
                ..entry_action(*line, r)
            },
            Act::Manual(line, r) => ActionView {
                step: opt(&r.evidence, "playbook_step").unwrap_or_else(|| "manual".into()),
                title: opt(&r.evidence, "title"),
                outcome: if r.evidence.get("done").and_then(Value::as_bool) == Some(true) {
                    "done".into()
                } else {
                    r.outcome.as_str().to_string()
                },
                verified: None,
                ..entry_action(*line, r)
            },
        })
        .collect();
    for (step, o) in &scan.others {
        v.push(other_action(step, o));
    }
    v
}

/// `revoke`, or `revoke (one session)` for a run scoped to one session.
fn step_name(r: &Record) -> String {
    if r.evidence.contains_key("scope") {
        format!("{} (one session)", esc(&r.step))
    } else {
        esc(&r.step)
    }
}

fn other_action(step: &str, o: &OtherStep) -> ActionView {
    let mut counts = BTreeMap::new();
    counts.insert("ok", o.ok);
    counts.insert("failed", o.failed);
    counts.insert("skipped", o.skipped);
    counts.insert("cut_off", o.cut_off);
    let outcome = if o.failed > 0 || o.cut_off > 0 {
        "failed"
    } else {
        "ok"
    };
    ActionView {
        line: 0,
        time: esc(&o.first_ts),
        until: Some(esc(&o.last_ts)),
        operator: None,
        step: esc(step),
        title: None,
        about: "other identities",
        outcome: outcome.into(),
        verified: None,
        summary: format!(
            "{} on {}: {} ok, {} failed, {} skipped (nothing to do), {} cut off",
            esc(step),
            count(o.identities, "other identity", "other identities"),
            o.ok,
            o.failed,
            o.skipped,
            o.cut_off
        ),
        error: None,
        identities: Some(o.identities),
        counts: Some(counts),
    }
}

fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn evidence(scan: &Scan) -> Evidence {
    let audit = scan.audit.last.as_ref().map(|last| AuditView {
        runs: scan.audit.runs,
        window: esc_value(last.evidence.get("window").unwrap_or(&Value::Null)),
        counts: esc_value(last.evidence.get("counts").unwrap_or(&Value::Null)),
        flagged: scan.audit.flagged.iter().map(esc_value).collect(),
        flagged_not_listed: scan.audit.flagged_more,
        new_ips: scan.audit.new_ips.iter().map(|i| esc(i)).collect(),
        new_ips_not_listed: scan.audit.new_ips_more,
    });
    let identity = scan.identity.as_deref().unwrap_or_default();
    let other_identities = scan.scan.as_ref().map(|r| {
        let ids: Vec<String> = r
            .evidence
            .get("identities")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|i| *i != identity)
                    .map(esc)
                    .collect()
            })
            .unwrap_or_default();
        let counted = r
            .evidence
            .get("counts")
            .and_then(|c| c.get("identities"))
            .and_then(Value::as_u64);
        ScanView {
            time: esc(&r.ts),
            count: counted.unwrap_or(ids.len() as u64),
            truncated: r
                .evidence
                .get("identities_truncated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            identities: ids,
            ips: r
                .evidence
                .get("ips")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(esc_value).collect())
                .unwrap_or_default(),
        }
    });
    let breached_password = scan.hibp.as_ref().map(|r| {
        serde_json::json!({
            "time": esc(&r.ts),
            "outcome": r.outcome.as_str(),
            "verdict": opt(&r.evidence, "verdict"),
            "count": r.evidence.get("count").cloned().unwrap_or(Value::Null),
            "source": opt(&r.evidence, "source"),
            "summary": opt(&r.evidence, "summary"),
        })
    });
    let answers = scan
        .actions
        .iter()
        .filter_map(|a| match a {
            Act::Manual(_, r) => Some(r),
            _ => None,
        })
        .filter_map(|r| {
            let list = r.evidence.get("answers").and_then(Value::as_array)?;
            let answers: Vec<QA> = list
                .iter()
                .map(|qa| QA {
                    question: qa
                        .get("question")
                        .and_then(Value::as_str)
                        .map(esc)
                        .unwrap_or_default(),
                    answer: match qa.get("answer") {
                        Some(Value::String(s)) => esc(s),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => esc(&other.to_string()),
                    },
                })
                .collect();
            (!answers.is_empty()).then(|| Answers {
                step: opt(&r.evidence, "playbook_step").unwrap_or_default(),
                title: opt(&r.evidence, "title").unwrap_or_default(),
                time: esc(&r.ts),
                operator: esc(&r.operator),
                answers,
            })
        })
        .collect();
    Evidence {
        webhooks: scan
            .webhooks
            .iter()
            .map(|(_, r)| {
                let mut v = esc_value(&Value::Object(r.evidence.clone()));
                if let Value::Object(m) = &mut v {
                    m.insert("recorded_at".into(), Value::String(esc(&r.ts)));
                }
                v
            })
            .collect(),
        sessions_ended: scan.sessions.iter().map(esc_value).collect(),
        sessions_not_listed: scan.sessions_more,
        audit,
        other_identities,
        breached_password,
        answers,
    }
}

/// Every playbook step still open (pending, overdue, in progress or failed), in the
/// playbook's order; `None` when the journal names no identity to judge them for.
fn follow_ups(
    scan: &Scan,
    path: &Path,
    pb: &Playbook,
    now: jiff::Timestamp,
) -> Option<Vec<FollowUp>> {
    let identity = scan.identity.as_deref()?;
    let records = scan.status_records();
    let shown = path.display().to_string();
    let incident = Incident::new(&records, identity, &pb.since, &shown);
    Some(
        pb.steps
            .iter()
            .filter_map(|step| {
                let st = status_of(pb, step, &incident, now);
                matches!(
                    st.status,
                    Status::Pending | Status::Overdue | Status::InProgress | Status::Failed
                )
                .then(|| FollowUp {
                    phase: esc(&step.phase),
                    phase_title: pb
                        .phase(&step.phase)
                        .map(|p| esc(&p.title))
                        .unwrap_or_default(),
                    step: esc(&step.id),
                    title: esc(&step.title),
                    status: st.status.as_str(),
                    detail: esc(&st.detail),
                })
            })
            .collect(),
    )
}

/// One line of the timeline: an entry, a run of entries about other identities, or a line
/// that could not be read.
#[derive(Serialize)]
struct Row {
    line: u64,
    seq: Option<u64>,
    time: Option<String>,
    /// The last entry's time of a run.
    until: Option<String>,
    operator: Option<String>,
    step: Option<String>,
    identity: Option<String>,
    outcome: Option<String>,
    /// Entries the row stands for (more than one for a run about other identities).
    entries: u64,
    other_identities: Option<u64>,
    summary: String,
    /// Why the line could not be read.
    unreadable: Option<String>,
}

/// The timeline, read from the journal while it is written out (the second pass).
struct Timeline<'a> {
    path: &'a Path,
    scan: &'a Scan,
}

impl Serialize for Timeline<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(None)?;
        let mut failed = None;
        let read = each_row(self.path, self.scan, |row| {
            seq.serialize_element(&row).map_err(|e| {
                let msg = e.to_string();
                failed = Some(e);
                io::Error::other(msg)
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        read.map_err(S::Error::custom)?;
        seq.end()
    }
}

/// Reads the journal again, as far as the first pass read, and hands over the timeline's rows
/// in order. Entries about other identities in a row become one row.
fn each_row(path: &Path, scan: &Scan, mut f: impl FnMut(Row) -> io::Result<()>) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    let identity = scan.identity.as_deref();
    let mut run = Run::default();
    let mut n = 0u64;
    let mut failed: Option<io::Error> = None;
    journal::each_line(file.take(scan.lines.bytes), |bytes, torn| {
        n += 1;
        let core = if torn {
            Err(String::new())
        } else {
            Core::parse(bytes)
        };
        let rows = match read_line(bytes, torn, identity, core) {
            Line::Unreadable(reason) => {
                let mut rows = run.take();
                rows.push(Row {
                    line: n,
                    seq: None,
                    time: None,
                    until: None,
                    operator: None,
                    step: None,
                    identity: None,
                    outcome: None,
                    entries: 0,
                    other_identities: None,
                    summary: format!("line {n} could not be read"),
                    unreadable: Some(esc(&reason)),
                });
                rows
            }
            Line::Core(core, outcome) => {
                run.add(n, bytes, &core, outcome);
                Vec::new()
            }
            Line::Whole(_, rec) => {
                let mut rows = run.take();
                rows.push(entry_row(n, &rec));
                rows
            }
        };
        for row in rows {
            if let Err(e) = f(row) {
                failed = Some(e);
                return false;
            }
        }
        true
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    for row in run.take() {
        f(row)?;
    }
    Ok(())
}

/// A row for one entry read whole.
fn entry_row(n: u64, r: &Record) -> Row {
    Row {
        line: n,
        seq: Some(r.seq),
        time: Some(esc(&r.ts)),
        until: None,
        operator: Some(esc(&r.operator)),
        step: Some(esc(&r.step)),
        identity: r.identity.as_deref().map(esc),
        outcome: Some(r.outcome.as_str().to_string()),
        entries: 1,
        other_identities: None,
        summary: esc(&entry_summary(r)),
        unreadable: None,
    }
}

/// One line about an entry: its `summary`, or what its step's evidence says.
fn entry_summary(r: &Record) -> String {
    let ev = &r.evidence;
    if let Some(sm) = s(ev, "summary") {
        return match (r.step.as_str(), s(ev, "playbook_step")) {
            ("manual", Some(id)) => format!("{id}: {sm}"),
            _ => sm.to_string(),
        };
    }
    let num = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let err = s(ev, "error").map(|e| format!("failed: {e}"));
    match r.step.as_str() {
        "note" => match (s(ev, "root_cause"), s(ev, "text")) {
            (Some(rc), Some(t)) => format!("root cause: {rc}; {t}"),
            (Some(rc), None) => format!("root cause: {rc}"),
            (None, Some(t)) => t.to_string(),
            (None, None) => String::new(),
        },
        "audit-query" => err.unwrap_or_else(|| {
            let c = ev.get("counts");
            format!(
                "{}, {} flagged; {}",
                count(num(c.and_then(|c| c.get("events"))), "event", "events"),
                num(c.and_then(|c| c.get("flagged"))),
                count(
                    ev.get("new_ips")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len) as u64,
                    "new IP",
                    "new IPs"
                )
            )
        }),
        "pattern-scan" => err.unwrap_or_else(|| {
            let c = ev.get("counts");
            format!(
                "{} hit from {}",
                count(
                    num(c.and_then(|c| c.get("identities"))),
                    "identity",
                    "identities"
                ),
                count(
                    num(c.and_then(|c| c.get("suspicious_ips"))),
                    "suspicious IP",
                    "suspicious IPs"
                )
            )
        }),
        "incident.open" => "incident opened".into(),
        "manual" => match (s(ev, "playbook_step"), s(ev, "title")) {
            (Some(id), _) => format!("{id}: answered"),
            (None, Some(t)) => t.to_string(),
            _ => String::new(),
        },
        "incident.close" => s(ev, "resolution")
            .map(|x| format!("closed: {x}"))
            .unwrap_or_else(|| "incident closed".into()),
        WEBHOOK_STEP => s(ev, "trigger")
            .map(|t| format!("Castle webhook: {t}"))
            .unwrap_or_else(|| "Castle webhook".into()),
        _ => err.unwrap_or_default(),
    }
}

/// Consecutive entries about other identities, folded into one row.
#[derive(Default)]
struct Run {
    first: Option<Row>,
    entries: u64,
    until: String,
    operators: Vec<String>,
    /// (step, outcome) → entries, in first-seen order of keys (few).
    counts: Vec<((String, &'static str), u64)>,
    identities: HashSet<u64>,
}

/// A run's summary names at most this many step/outcome kinds; more are "other".
const RUN_KINDS: usize = 16;

impl Run {
    fn add(&mut self, n: u64, bytes: &[u8], core: &Core<'_>, outcome: Outcome) {
        if self.first.is_none() {
            // Kept whole in case the run stays one entry long: then it is shown as itself.
            let summary = serde_json::from_slice::<Record>(bytes)
                .map(|r| entry_summary(&r))
                .unwrap_or_default();
            self.first = Some(Row {
                line: n,
                seq: Some(core.seq),
                time: Some(esc(&core.ts)),
                until: None,
                operator: Some(esc(&core.operator)),
                step: Some(esc(&core.step)),
                identity: core.identity.as_deref().map(esc),
                outcome: Some(outcome.as_str().to_string()),
                entries: 1,
                other_identities: None,
                summary: esc(&summary),
                unreadable: None,
            });
        }
        self.entries += 1;
        self.until = core.ts.to_string();
        if self.operators.len() < 4 && !self.operators.iter().any(|o| o.as_str() == core.operator) {
            self.operators.push(core.operator.to_string());
        }
        let step = if self.counts.len() < RUN_KINDS
            || self
                .counts
                .iter()
                .any(|((s, _), _)| s.as_str() == core.step)
        {
            core.step.to_string()
        } else {
            "other".to_string()
        };
        let key = (step, outcome.as_str());
        match self.counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => *c += 1,
            None => self.counts.push((key, 1)),
        }
        if let Some(id) = core.identity.as_deref() {
            self.identities.insert(id_hash(id));
        }
    }

    /// The row of the run so far (none if empty), and a fresh run.
    fn take(&mut self) -> Vec<Row> {
        let run = std::mem::take(self);
        let Some(mut row) = run.first else {
            return Vec::new();
        };
        if run.entries == 1 {
            return vec![row];
        }
        let mut by_step: Vec<(String, Vec<String>)> = Vec::new();
        for ((step, outcome), c) in &run.counts {
            let part = format!("{c} {outcome}");
            match by_step.iter_mut().find(|(s, _)| s == step) {
                Some((_, parts)) => parts.push(part),
                None => by_step.push((step.clone(), vec![part])),
            }
        }
        let steps: Vec<String> = by_step.iter().map(|(s, _)| esc(s)).collect();
        row.until = Some(esc(&run.until));
        row.operator = Some(esc(&run.operators.join(", ")));
        row.step = Some(steps.join(", "));
        row.identity = None;
        row.outcome = None;
        row.entries = run.entries;
        row.other_identities = Some(run.identities.len() as u64);
        row.summary = format!(
            "{} about {}: {}",
            count(run.entries, "entry", "entries"),
            count(
                run.identities.len() as u64,
                "other identity",
                "other identities"
            ),
            by_step
                .iter()
                .map(|(s, parts)| format!("{} {}", esc(s), parts.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        );
        vec![row]
    }
}

impl Doc<'_> {
    fn markdown(&self, out: &mut impl Write) -> io::Result<()> {
        let i = &self.integrity;
        if let Some(d) = &i.damage {
            writeln!(
                out,
                "> **Warning: the journal is damaged.** Line {}: {}. This report shows what could be read; nothing in it is proven by the hash chain. Check the journal with `atoctl incident verify` and compare it with a copy you trust.\n",
                d.line,
                md(&d.reason)
            )?;
        }
        writeln!(
            out,
            "# Incident report: {}\n",
            self.incident
                .as_deref()
                .map(code)
                .unwrap_or_else(|| "(unknown incident)".into())
        )?;
        let when = |v: &Option<String>| match v.as_deref() {
            Some(t) => format!("{} (UTC)", md(&utc(t))),
            None => "—".into(),
        };
        writeln!(
            out,
            "- **Identity:** {}{}",
            self.identity.as_deref().map(code).unwrap_or("—".into()),
            self.resolved_from
                .as_deref()
                .map(|i| format!(" (found by {})", md(i)))
                .unwrap_or_default()
        )?;
        match &self.resolution {
            Some(r) if self.status == "closed" => {
                writeln!(out, "- **Status:** closed ({})", md(r))?
            }
            _ => writeln!(out, "- **Status:** {}", self.status)?,
        }
        if let Some(sm) = &self.summary {
            writeln!(out, "- **Summary:** {}", md(sm))?;
        }
        writeln!(out, "- **Reported:** {}", when(&self.reported_at))?;
        writeln!(out, "- **Opened:** {}", when(&self.opened_at))?;
        writeln!(
            out,
            "- **Closed:** {}",
            match &self.closed_at {
                Some(_) => when(&self.closed_at),
                None => "not yet".into(),
            }
        )?;
        writeln!(
            out,
            "- **Operators:** {}",
            if self.operators.is_empty() {
                "—".into()
            } else {
                self.operators
                    .iter()
                    .map(|o| md(o))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )?;

        writeln!(out, "\n## Timeline (UTC)\n")?;
        writeln!(out, "| Time | Operator | Step | Outcome | What |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        let identity = self.identity.as_deref();
        each_row(self.timeline.path, self.timeline.scan, |row| {
            write_row(out, &row, identity)
        })?;

        writeln!(out, "\n## Actions\n")?;
        if self.actions.is_empty() {
            writeln!(out, "None recorded.")?;
        } else {
            writeln!(out, "| Time | Action | On | Outcome | Verified | Result |")?;
            writeln!(out, "|---|---|---|---|---|---|")?;
            for a in &self.actions {
                let time = range(&a.time, a.until.as_deref());
                let what = match &a.title {
                    Some(t) => format!("{} ({})", md(t), md(&a.step)),
                    None => md(&a.step),
                };
                let mut result = md_short(&a.summary, ROW_TEXT);
                if let Some(e) = &a.error
                    && !a.summary.contains(e.as_str())
                {
                    result.push_str(&format!(" — error: {}", md_short(e, ROW_TEXT)));
                }
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    md(&time),
                    what,
                    a.about,
                    md(&a.outcome),
                    match a.verified {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "—",
                    },
                    result
                )?;
            }
        }
        self.markdown_evidence(out)?;

        writeln!(out, "\n## Root cause\n")?;
        if self.root_cause.is_empty() {
            writeln!(
                out,
                "Not recorded yet (`atoctl incident note --root-cause CAUSE --text …`)."
            )?;
        } else {
            let last = self.root_cause.len() - 1;
            for (k, c) in self.root_cause.iter().enumerate() {
                writeln!(
                    out,
                    "- {}**{}**{} ({}, {} UTC){}",
                    if k < last { "~~" } else { "" },
                    md(&c.cause),
                    c.text
                        .as_deref()
                        .map(|t| format!(": {}", md(t)))
                        .unwrap_or_default(),
                    md(&c.operator),
                    md(&utc(&c.time)),
                    if k < last { "~~ (revised below)" } else { "" }
                )?;
            }
        }

        writeln!(
            out,
            "\n## Follow-ups (playbook {})\n",
            md(&self.playbook.name)
        )?;
        match &self.follow_ups {
            None => writeln!(out, "Cannot tell: the journal names no identity.")?,
            Some(f) if f.is_empty() => writeln!(
                out,
                "None: every step of the playbook is done or does not apply."
            )?,
            Some(f) => {
                writeln!(out, "| Phase | Step | Status | Detail |")?;
                writeln!(out, "|---|---|---|---|")?;
                for u in f {
                    writeln!(
                        out,
                        "| {} ({}) | {}: {} | {} | {} |",
                        md(&u.phase_title),
                        md(&u.phase),
                        code(&u.step),
                        md(&u.title),
                        if matches!(u.status, "overdue" | "failed") {
                            format!("**{}**", u.status)
                        } else {
                            u.status.to_string()
                        },
                        md_short(&u.detail, ROW_TEXT)
                    )?;
                }
            }
        }

        writeln!(out, "\n## Integrity\n")?;
        match (&i.damage, &i.head) {
            (None, Some(head)) => writeln!(
                out,
                "Verified: the hash chain and every line's shape hold. {} entries; head (SHA-256 of the last line, which pins the whole history) {}.",
                i.entries,
                code(head)
            )?,
            (Some(d), _) => writeln!(
                out,
                "**Not verified:** damaged at line {}: {}. {} of {} lines read as entries.",
                d.line,
                md(&d.reason),
                i.entries,
                i.lines
            )?,
            (None, None) => writeln!(out, "**Not verified.**")?,
        }
        if i.unreadable_count > 0 {
            writeln!(
                out,
                "\nLines that could not be read ({}):\n",
                i.unreadable_count
            )?;
            for u in &i.unreadable {
                writeln!(out, "- line {}: {}", u.line, md(&u.reason))?;
            }
            if i.unreadable_count > i.unreadable.len() as u64 {
                writeln!(
                    out,
                    "- … and {} more",
                    i.unreadable_count - i.unreadable.len() as u64
                )?;
            }
        }
        Ok(())
    }

    fn markdown_evidence(&self, out: &mut impl Write) -> io::Result<()> {
        let e = &self.evidence;
        writeln!(out, "\n## Evidence")?;
        for w in &e.webhooks {
            let g = |k: &str| w.get(k).and_then(Value::as_str);
            let sub = |o: &str, k: &str| w.get(o).and_then(|x| x.get(k)).and_then(Value::as_str);
            writeln!(out, "\n### What happened: Castle webhook\n")?;
            writeln!(
                out,
                "- **When:** {} (UTC){}",
                md(&utc(
                    g("created_at").unwrap_or(g("recorded_at").unwrap_or("—"))
                )),
                g("trigger")
                    .map(|t| format!(", {}", code(t)))
                    .unwrap_or_default()
            )?;
            let place: Vec<&str> = ["city", "region", "country_code"]
                .iter()
                .filter_map(|k| sub("location", k))
                .filter(|x| !x.is_empty())
                .collect();
            writeln!(
                out,
                "- **From:** {}{}{}",
                g("ip").map(code).unwrap_or("—".into()),
                if place.is_empty() {
                    String::new()
                } else {
                    format!(", {}", md(&place.join(", ")))
                },
                sub("isp", "isp_name")
                    .map(|i| format!(" (ISP: {})", md(i)))
                    .unwrap_or_default()
            )?;
            let device = match (sub("device", "browser"), sub("device", "os")) {
                (Some(b), Some(o)) => format!("{} on {}", md(b), md(o)),
                (Some(x), None) | (None, Some(x)) => md(x),
                (None, None) => "—".into(),
            };
            writeln!(
                out,
                "- **Device:** {}{}",
                device,
                g("user_agent")
                    .map(|u| format!(" — user agent: {}", md_short(u, ROW_TEXT)))
                    .unwrap_or_default()
            )?;
            if let Some(p) = sub("policy", "name") {
                writeln!(
                    out,
                    "- **Castle policy:** {}{}",
                    md(p),
                    sub("policy", "action")
                        .map(|a| format!(" ({})", md(a)))
                        .unwrap_or_default()
                )?;
            }
            writeln!(
                out,
                "- **Signature verified:** {}",
                match w.get("signature_verified").and_then(Value::as_bool) {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "not recorded",
                }
            )?;
            if let Some(id) = g("castle_incident_id") {
                writeln!(out, "- **Castle incident:** {}", code(id))?;
            }
        }

        writeln!(out, "\n### Sessions ended\n")?;
        if e.sessions_ended.is_empty() {
            writeln!(out, "No session was recorded before a step ended it.")?;
        } else {
            writeln!(
                out,
                "Recorded before they were ended, each once.\n\n| Session | Signed in (UTC) | AAL | IP | Location | User agent |\n|---|---|---|---|---|---|"
            )?;
            for sess in e.sessions_ended.iter().take(MD_LIST) {
                let g = |k: &str| sess.get(k).and_then(Value::as_str);
                let devices: Vec<&Value> = sess
                    .get("devices")
                    .and_then(Value::as_array)
                    .map(|d| d.iter().collect())
                    .unwrap_or_default();
                let field = |k: &str| {
                    let vals: Vec<String> = devices
                        .iter()
                        .filter_map(|d| d.get(k).and_then(Value::as_str))
                        .filter(|x| !x.is_empty())
                        .map(|x| md_short(x, 80))
                        .collect();
                    if vals.is_empty() {
                        "—".to_string()
                    } else {
                        vals.join("<br>")
                    }
                };
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    g("id").map(code).unwrap_or("—".into()),
                    g("authenticated_at")
                        .map(|t| md(&utc(t)))
                        .unwrap_or("—".into()),
                    g("aal").map(md).unwrap_or("—".into()),
                    field("ip_address"),
                    field("location"),
                    field("user_agent"),
                )?;
            }
            let more =
                e.sessions_ended.len().saturating_sub(MD_LIST) as u64 + e.sessions_not_listed;
            if more > 0 {
                writeln!(out, "\n… and {more} more (see `--format json`).")?;
            }
        }

        writeln!(out, "\n### Security events (audit database)\n")?;
        match &e.audit {
            None => writeln!(out, "No audit query was recorded for the identity.")?,
            Some(a) => {
                let n = |k: &str| a.counts.get(k).and_then(Value::as_u64).unwrap_or(0);
                let w = |k: &str| a.window.get(k).and_then(Value::as_str).map(utc);
                writeln!(
                    out,
                    "{} events from {} to {} (UTC, the last of {}), {} flagged.",
                    n("events"),
                    md(&w("from").unwrap_or("?".into())),
                    md(&w("to").unwrap_or("?".into())),
                    count(a.runs, "query", "queries"),
                    n("flagged")
                )?;
                if !a.flagged.is_empty() {
                    writeln!(
                        out,
                        "\n| Time (UTC) | Event | IP | Place | Flags | User agent |\n|---|---|---|---|---|---|"
                    )?;
                    for ev in a.flagged.iter().take(MD_LIST) {
                        let g = |k: &str| ev.get(k).and_then(Value::as_str);
                        let flags: Vec<String> = ev
                            .get("flags")
                            .and_then(Value::as_array)
                            .map(|f| f.iter().filter_map(Value::as_str).map(md).collect())
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "| {} | {} | {} | {} | {} | {} |",
                            g("time").map(|t| md(&utc(t))).unwrap_or("—".into()),
                            g("type").map(md).unwrap_or("—".into()),
                            g("ip").map(code).unwrap_or("—".into()),
                            g("place").map(md).unwrap_or("—".into()),
                            flags.join(", "),
                            g("user_agent")
                                .map(|u| md_short(u, 60))
                                .unwrap_or("—".into()),
                        )?;
                    }
                    let more =
                        a.flagged.len().saturating_sub(MD_LIST) as u64 + a.flagged_not_listed;
                    if more > 0 {
                        writeln!(out, "\n… and {more} more flagged events.")?;
                    }
                }
                if !a.new_ips.is_empty() {
                    writeln!(
                        out,
                        "\nIPs new for the identity: {}{}.",
                        a.new_ips
                            .iter()
                            .map(|i| code(i))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if a.new_ips_not_listed > 0 {
                            format!(" and {} more", a.new_ips_not_listed)
                        } else {
                            String::new()
                        }
                    )?;
                }
            }
        }

        writeln!(out, "\n### Other identities hit from the same IPs\n")?;
        match &e.other_identities {
            None => writeln!(out, "No pattern scan was recorded.")?,
            Some(sc) => {
                let ips: Vec<String> = sc
                    .ips
                    .iter()
                    .filter_map(|x| {
                        let ip = x.get("ip").and_then(Value::as_str)?;
                        let why: Vec<&str> = x
                            .get("why")
                            .and_then(Value::as_array)
                            .map(|w| w.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        Some(if why.is_empty() {
                            code(ip)
                        } else {
                            format!("{} ({})", code(ip), md(&why.join(", ")))
                        })
                    })
                    .collect();
                writeln!(
                    out,
                    "{} found ({} UTC){}{}",
                    count(sc.count, "other identity", "other identities"),
                    md(&utc(&sc.time)),
                    if ips.is_empty() {
                        String::new()
                    } else {
                        format!(" from {}", ips.join(", "))
                    },
                    if sc.truncated {
                        "; the journal lists only the first of them"
                    } else {
                        ""
                    }
                )?;
                if !sc.identities.is_empty() {
                    writeln!(out)?;
                    for id in sc.identities.iter().take(MD_LIST) {
                        writeln!(out, "- {}", code(id))?;
                    }
                    if sc.identities.len() > MD_LIST {
                        writeln!(
                            out,
                            "- … and {} more (see `--format json`)",
                            sc.identities.len() - MD_LIST
                        )?;
                    }
                }
            }
        }

        writeln!(out, "\n### Breached password\n")?;
        match &e.breached_password {
            None => writeln!(out, "Not checked.")?,
            Some(h) => {
                let g = |k: &str| h.get(k).and_then(Value::as_str);
                let verdict = match g("verdict") {
                    Some("pwned") => format!(
                        "**pwned**: in the Pwned Passwords corpus{}",
                        h.get("count")
                            .and_then(Value::as_u64)
                            .map(|c| format!(", seen {c} times"))
                            .unwrap_or_default()
                    ),
                    Some("not-found") => "not found in the Pwned Passwords corpus".into(),
                    Some(v) => md(v),
                    None => "unknown".into(),
                };
                writeln!(
                    out,
                    "{} (source: {}; checked {} UTC).",
                    verdict,
                    md(g("source").unwrap_or("—")),
                    md(&utc(g("time").unwrap_or("—")))
                )?;
            }
        }

        if !e.answers.is_empty() {
            writeln!(out, "\n### What the owner said")?;
            for a in &e.answers {
                writeln!(
                    out,
                    "\n{} ({}, {} UTC):\n",
                    md(&a.title),
                    md(&a.operator),
                    md(&utc(&a.time))
                )?;
                for qa in &a.answers {
                    writeln!(
                        out,
                        "- {} — {}",
                        md(&qa.question),
                        if qa.answer.is_empty() {
                            "(no answer)".into()
                        } else {
                            md(&qa.answer)
                        }
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// `2026-11-25 01:45:00 – 01:45:02`, or one time when both are the same.
fn range(from: &str, until: Option<&str>) -> String {
    let (a, b) = (utc(from), until.map(utc).unwrap_or_default());
    if b.is_empty() || a == b {
        a
    } else if a.get(..11).is_some() && a.get(..11) == b.get(..11) {
        format!("{a} – {}", b.get(11..).unwrap_or_default())
    } else {
        format!("{a} – {b}")
    }
}

fn write_row(out: &mut impl Write, row: &Row, identity: Option<&str>) -> io::Result<()> {
    if let Some(reason) = &row.unreadable {
        return writeln!(
            out,
            "| — | — | — | — | **line {} could not be read:** {} |",
            row.line,
            md_short(reason, ROW_TEXT)
        );
    }
    let time = match &row.time {
        Some(t) => range(t, row.until.as_deref()),
        None => "—".into(),
    };
    let mut what = md_short(&row.summary, ROW_TEXT);
    if let Some(id) = row.identity.as_deref()
        && Some(id) != identity
    {
        what = format!("identity {}: {what}", code(id));
    }
    writeln!(
        out,
        "| {} | {} | {} | {} | {} |",
        md(&time),
        row.operator.as_deref().map(md).unwrap_or("—".into()),
        row.step.as_deref().map(md).unwrap_or("—".into()),
        row.outcome.as_deref().unwrap_or("—"),
        what
    )
}
