//! `report`: the incident report for the team, or the notice for the account owner, built
//! from the journal alone (no network).
//!
//! The journal is read twice at most, line by line, never whole: a first pass checks it as
//! `incident verify` does (the same [`Verifier`]) and keeps only what the report shows
//! (header, actions, evidence, root cause, what the playbook's status needs); the team report's
//! timeline is then streamed from a second pass over the same bytes. Memory does not grow with
//! the journal's length but with what the report shows, plus a few bytes per other identity a
//! changing step ran on (a bulk revoke of thousands is kept as counts, and a run of its entries
//! is one row of the timeline).
//!
//! A damaged journal is said first, before anything else, in both audiences and formats; what
//! could be read is still shown, each unreadable line is named in the timeline and in the
//! integrity section, and the command exits 5 afterwards so that scripts notice.

mod team;
mod text;
mod user;

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use crate::cli::{Audience, ReportArgs, ReportFormat};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::journal::{self, Core, Damage, Lines, Outcome, Record, Verifier, VerifyReport};
use crate::playbook::Playbook;
use crate::playbook::status::{MANUAL_STEP, WEBHOOK_STEP};

/// The steps that change an identity; their last entries are the report's actions.
const CHANGES: [&str; 6] = [
    "revoke",
    "disable-password",
    "lock",
    "unlock",
    "recover",
    "restore",
];

/// At most this many of a kind are kept (and shown); the rest are counted.
const KEEP_WEBHOOKS: usize = 20;
const KEEP_SESSIONS: usize = 500;
const KEEP_FLAGGED: usize = 1000;
const KEEP_NEW_IPS: usize = 1000;
const KEEP_OPERATORS: usize = 50;
const KEEP_UNREADABLE: usize = 100;
const KEEP_ACTIONS: usize = 1000;
const KEEP_CAUSES: usize = 100;
const KEEP_STATUS_KEYS: usize = 10_000;

pub fn run(ctx: &Ctx, a: &ReportArgs) -> Result<Exit> {
    ctx.reject_ids_output("report")?;
    let path = ctx.args.incident.clone().ok_or_else(|| {
        AppError::usage("no incident journal given").with_hint(
            "pass --incident FILE or set ATOCTL_INCIDENT: the report is built from the journal alone",
        )
    })?;
    let json = a.format == ReportFormat::Json || ctx.json();
    // A playbook given is checked whatever the audience: a typo is said, not ignored.
    let playbook = match (a.audience, &a.playbook) {
        (Audience::Team, p) => Some(Playbook::load(p.as_deref())?),
        (Audience::User, Some(p)) => {
            Playbook::load(Some(p))?;
            None
        }
        (Audience::User, None) => None,
    };
    let scan = Scan::read(&path)?;
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = match (a.audience, playbook) {
        (Audience::Team, Some(pb)) => {
            team::write(&mut out, &scan, &path, &pb, json, jiff::Timestamp::now())
        }
        _ => user::write(&mut out, &scan, json),
    };
    written
        .and_then(|_| out.flush())
        .map_err(|e| AppError::failed(format!("cannot write the report: {e}")))?;
    match &scan.damage {
        None => Ok(Exit::Ok),
        Some(d) => Err(AppError::new(
            Exit::Damaged,
            format!(
                "{} is damaged: line {}: {}; the report shows what could be read",
                path.display(),
                d.line,
                d.reason
            ),
        )
        .with_hint("run `atoctl incident verify` and compare the journal with a copy you trust")),
    }
}

/// Whom an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum About {
    /// The incident's identity.
    Identity,
    /// No identity (notes, the incident's close, a bulk run's summary).
    Nobody,
    /// Another identity (a bulk revoke of the identities a scan found).
    Other,
}

fn about(core: &Core<'_>, identity: Option<&str>) -> About {
    match (core.identity.as_deref(), identity) {
        (None, _) => About::Nobody,
        (Some(i), Some(id)) if i == id => About::Identity,
        _ => About::Other,
    }
}

fn outcome_of(s: &str) -> Option<Outcome> {
    Some(match s {
        "ok" => Outcome::Ok,
        "failed" => Outcome::Failed,
        "skipped" => Outcome::Skipped,
        "started" => Outcome::Started,
        _ => return None,
    })
}

/// Whether an entry is read whole: about the identity, about nobody, or a webhook's evidence.
/// The same in both passes, so that both see the same unreadable lines.
fn read_whole(core: &Core<'_>, about: About) -> bool {
    about != About::Other || core.step == WEBHOOK_STEP
}

/// One line as the report reads it.
enum Line<'a> {
    Unreadable(String),
    /// An entry of which only the core fields were read (about another identity).
    Core(Core<'a>, Outcome),
    Whole(Core<'a>, Box<Record>),
}

fn read_line<'a>(
    bytes: &'a [u8],
    torn: bool,
    identity: Option<&str>,
    core: std::result::Result<Core<'a>, String>,
) -> Line<'a> {
    if torn {
        return Line::Unreadable(
            "the line does not end with a newline (an interrupted write?)".into(),
        );
    }
    let core = match core {
        Ok(c) => c,
        Err(reason) => return Line::Unreadable(reason),
    };
    let Some(outcome) = outcome_of(&core.outcome) else {
        return Line::Unreadable(format!(
            "`outcome` {:?} is not ok, failed, skipped or started",
            core.outcome
        ));
    };
    if !read_whole(&core, about(&core, identity)) {
        return Line::Core(core, outcome);
    }
    match serde_json::from_slice::<Record>(bytes) {
        Ok(r) => Line::Whole(core, Box::new(r)),
        Err(e) => Line::Unreadable(format!("not a journal entry: {e}")),
    }
}

/// The identity an incident is about: that of its first line, when it opens the incident.
fn identity_of_first(core: &Core<'_>) -> Option<String> {
    (core.step == "incident.open")
        .then(|| core.identity.as_deref().map(str::to_string))
        .flatten()
}

/// A string field of an entry's evidence.
fn s<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// An identity as a small key (64 bits), for counting entries about other identities
/// without keeping their ids.
fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The last entry of a changing step about one other identity.
#[derive(Debug, Clone, Copy)]
struct Last {
    outcome: Outcome,
    seq: u64,
    line: u64,
}

/// Changing steps run on other identities, counted per step.
#[derive(Debug, Clone, Default)]
pub(crate) struct OtherStep {
    pub first_ts: String,
    pub last_ts: String,
    pub identities: u64,
    pub ok: u64,
    pub failed: u64,
    pub skipped: u64,
    pub cut_off: u64,
}

/// An action: a changing step's end about the identity, a step cut off in the middle, or a
/// manual item answered.
#[derive(Debug, Clone)]
pub(crate) enum Act {
    Change(u64, Record),
    CutOff(u64, Record),
    Manual(u64, Record),
}

impl Act {
    fn line(&self) -> u64 {
        match self {
            Act::Change(l, _) | Act::CutOff(l, _) | Act::Manual(l, _) => *l,
        }
    }
}

/// What the identity's audit queries found, merged over every run.
#[derive(Debug, Default)]
pub(crate) struct Audit {
    /// The last successful run (its window and counts).
    pub last: Option<Record>,
    pub runs: u64,
    /// Flagged events by id, first seen first.
    pub flagged: Vec<Value>,
    seen: HashSet<String>,
    pub flagged_more: u64,
    pub new_ips: Vec<String>,
    pub new_ips_more: u64,
}

/// An entry kind about the identity, of which the status needs only the last: step, scoped
/// to one session, outcome, and a manual item's playbook step.
type KeepKey = (String, bool, &'static str, Option<String>);

/// Everything the report shows but the timeline, from one pass over the journal.
#[derive(Default)]
pub(crate) struct Scan {
    pub lines: Lines,
    /// The verdict of `incident verify`: a report when sound, else the first damage.
    pub verified: Option<VerifyReport>,
    pub damage: Option<Damage>,
    pub unreadable: Vec<Damage>,
    pub unreadable_count: u64,
    /// Lines read as entries.
    pub entries: u64,
    pub incident: Option<String>,
    pub identity: Option<String>,
    /// The first line, when it is readable and opens the incident.
    pub open: Option<Record>,
    pub close: Option<Record>,
    pub operators: Vec<String>,
    pub operators_more: u64,
    pub webhooks: Vec<(u64, Record)>,
    pub causes: Vec<Record>,
    pub causes_more: u64,
    pub actions: Vec<Act>,
    pub actions_more: u64,
    pub others: Vec<(String, OtherStep)>,
    /// Sessions recorded before a step ended them, each once.
    pub sessions: Vec<Value>,
    pub sessions_more: u64,
    session_ids: HashSet<String>,
    pub audit: Audit,
    /// The last successful pattern-scan about the identity (else one about no identity).
    pub scan: Option<Record>,
    scan_any: Option<Record>,
    pub hibp: Option<Record>,
    started: HashMap<(String, Option<String>), (u64, Record)>,
    keep: HashMap<KeepKey, (u64, Record)>,
    other_last: HashMap<(u8, u64), Last>,
    other_times: Vec<(String, String)>,
}

impl Scan {
    fn read(path: &Path) -> Result<Scan> {
        let cannot = |e: std::io::Error| {
            AppError::usage(format!("cannot read journal {}: {e}", path.display()))
        };
        let file = std::fs::File::open(path).map_err(cannot)?;
        let mut scan = Scan {
            other_times: vec![(String::new(), String::new()); CHANGES.len()],
            ..Scan::default()
        };
        let mut v = Verifier::new();
        let mut n = 0u64;
        let lines = journal::each_line(file, |bytes, torn| {
            n += 1;
            scan.line(&mut v, n, bytes, torn);
            true
        })
        .map_err(cannot)?;
        scan.lines = lines;
        match v.finish() {
            Ok(r) => scan.verified = Some(r),
            Err(d) => scan.damage = Some(d),
        }
        scan.finish();
        Ok(scan)
    }

    fn line(&mut self, v: &mut Verifier, n: u64, bytes: &[u8], torn: bool) {
        let core = if torn {
            v.torn();
            Err(String::new())
        } else {
            let core = Core::parse(bytes);
            v.check(bytes, core.as_ref());
            core
        };
        if n == 1
            && let Ok(c) = &core
        {
            self.identity = identity_of_first(c);
        }
        match read_line(bytes, torn, self.identity.as_deref(), core) {
            Line::Unreadable(reason) => {
                self.unreadable_count += 1;
                if self.unreadable.len() < KEEP_UNREADABLE {
                    self.unreadable.push(Damage { line: n, reason });
                }
            }
            Line::Core(core, outcome) => {
                self.common(&core);
                self.other(n, bytes, &core, outcome);
            }
            Line::Whole(core, rec) => {
                self.common(&core);
                self.whole(n, &core, *rec);
            }
        }
    }

    /// What every readable entry adds: the incident id and its operator.
    fn common(&mut self, core: &Core<'_>) {
        self.entries += 1;
        if self.incident.is_none() {
            self.incident = Some(core.incident.to_string());
        }
        if !self.operators.iter().any(|o| o.as_str() == core.operator) {
            if self.operators.len() < KEEP_OPERATORS {
                self.operators.push(core.operator.to_string());
            } else {
                self.operators_more += 1;
            }
        }
    }

    /// An entry about another identity: only a changing step's outcome is kept, as a count.
    fn other(&mut self, n: u64, bytes: &[u8], core: &Core<'_>, outcome: Outcome) {
        let Some(idx) = CHANGES.iter().position(|c| *c == core.step) else {
            return;
        };
        #[derive(Deserialize)]
        struct Scope {
            #[serde(default)]
            scope: Option<IgnoredAny>,
        }
        // One session ended is not the step for the identity (as journal::progress counts).
        if matches!(
            serde_json::from_slice::<Scope>(bytes),
            Ok(Scope { scope: Some(_) })
        ) {
            return;
        }
        let Some(id) = core.identity.as_deref() else {
            return;
        };
        self.other_last.insert(
            (idx as u8, id_hash(id)),
            Last {
                outcome,
                seq: core.seq,
                line: n,
            },
        );
        let times = &mut self.other_times[idx];
        if times.0.is_empty() {
            times.0 = core.ts.to_string();
        }
        times.1 = core.ts.to_string();
    }

    fn whole(&mut self, n: u64, core: &Core<'_>, rec: Record) {
        let about = about(core, self.identity.as_deref());
        let ev = &rec.evidence;
        if about == About::Identity && self.keep.len() < KEEP_STATUS_KEYS {
            let key = (
                rec.step.clone(),
                ev.contains_key("scope"),
                rec.outcome.as_str(),
                s(ev, "playbook_step").map(str::to_string),
            );
            self.keep.insert(key, (n, rec.clone()));
        }
        match rec.step.as_str() {
            "incident.open" if n == 1 => self.open = Some(rec),
            "incident.close" => self.close = Some(rec),
            WEBHOOK_STEP if self.webhooks.len() < KEEP_WEBHOOKS => self.webhooks.push((n, rec)),
            "note" if s(ev, "root_cause").is_some() => {
                if self.causes.len() < KEEP_CAUSES {
                    self.causes.push(rec);
                } else {
                    self.causes_more += 1;
                }
            }
            MANUAL_STEP if about == About::Identity => self.act(Act::Manual(n, rec)),
            step if about == About::Identity && CHANGES.contains(&step) => {
                let key = (
                    rec.step.clone(),
                    ev.get("scope")
                        .map(|_| s(ev, "session").unwrap_or_default().to_string()),
                );
                if rec.outcome == Outcome::Started {
                    self.started.insert(key, (n, rec));
                } else {
                    self.started.remove(&key);
                    self.act(Act::Change(n, rec));
                }
            }
            "sessions" if about == About::Identity => self.sessions(&rec),
            "audit-query" if about == About::Identity && rec.outcome == Outcome::Ok => {
                self.audit_query(rec)
            }
            "pattern-scan" if rec.outcome == Outcome::Ok => match about {
                About::Identity => self.scan = Some(rec),
                About::Nobody => self.scan_any = Some(rec),
                About::Other => {}
            },
            "hibp-check" if about == About::Identity => self.hibp = Some(rec),
            _ => {}
        }
    }

    fn act(&mut self, a: Act) {
        if self.actions.len() < KEEP_ACTIONS {
            self.actions.push(a);
        } else {
            self.actions_more += 1;
        }
    }

    /// The sessions a step recorded before ending them ("before revoke", "before lock", …).
    fn sessions(&mut self, rec: &Record) {
        if !s(&rec.evidence, "purpose").is_some_and(|p| p.starts_with("before")) {
            return;
        }
        let Some(list) = rec.evidence.get("sessions").and_then(Value::as_array) else {
            return;
        };
        for sess in list {
            let id = sess.get("id").and_then(Value::as_str).unwrap_or_default();
            if !id.is_empty() && self.session_ids.contains(id) {
                continue;
            }
            if self.sessions.len() >= KEEP_SESSIONS {
                self.sessions_more += 1;
                continue;
            }
            if !id.is_empty() {
                self.session_ids.insert(id.to_string());
            }
            self.sessions.push(sess.clone());
        }
    }

    fn audit_query(&mut self, mut rec: Record) {
        let a = &mut self.audit;
        a.runs += 1;
        if let Some(Value::Array(events)) = rec.evidence.remove("flagged") {
            for e in events {
                let key = match e.get("id") {
                    Some(id) => id.to_string(),
                    None => e.to_string(),
                };
                if a.seen.contains(&key) {
                    continue;
                }
                if a.flagged.len() >= KEEP_FLAGGED {
                    a.flagged_more += 1;
                    continue;
                }
                a.seen.insert(key);
                a.flagged.push(e);
            }
        }
        if let Some(ips) = rec.evidence.get("new_ips").and_then(Value::as_array) {
            for ip in ips.iter().filter_map(Value::as_str) {
                if a.new_ips.iter().any(|i| i == ip) {
                    continue;
                }
                if a.new_ips.len() >= KEEP_NEW_IPS {
                    a.new_ips_more += 1;
                } else {
                    a.new_ips.push(ip.to_string());
                }
            }
        }
        a.last = Some(rec);
    }

    /// After the last line: cut-off steps become actions, others' counts are summed.
    fn finish(&mut self) {
        let cut: Vec<(u64, Record)> = self.started.drain().map(|(_, v)| v).collect();
        for (n, rec) in cut {
            self.act(Act::CutOff(n, rec));
        }
        self.actions.sort_by_key(Act::line);
        if self.scan.is_none() {
            self.scan = self.scan_any.take();
        }
        self.audit
            .flagged
            .sort_by(|a, b| time_of(a).cmp(time_of(b)));
        let mut per: Vec<OtherStep> = vec![OtherStep::default(); CHANGES.len()];
        for ((idx, _), last) in &self.other_last {
            let o = &mut per[*idx as usize];
            o.identities += 1;
            match last.outcome {
                Outcome::Ok => o.ok += 1,
                Outcome::Failed => o.failed += 1,
                Outcome::Skipped => o.skipped += 1,
                Outcome::Started => o.cut_off += 1,
            }
        }
        for (i, mut o) in per.into_iter().enumerate() {
            if o.identities > 0 {
                (o.first_ts, o.last_ts) = std::mem::take(&mut self.other_times[i]);
                self.others.push((CHANGES[i].to_string(), o));
            }
        }
    }

    /// The entries the playbook's status is computed from: the first line, the webhooks, the
    /// last entry of each kind about the identity, and for each other identity the last
    /// pattern-scan found, the last entry of each changing step (without its evidence). The
    /// status reads nothing else (`playbook::status`).
    pub fn status_records(&self) -> Vec<Record> {
        let mut v: Vec<(u64, Record)> = Vec::new();
        if let Some(open) = &self.open {
            v.push((1, open.clone()));
        }
        v.extend(self.webhooks.iter().cloned());
        v.extend(self.keep.values().cloned());
        let identity = self.identity.as_deref().unwrap_or_default();
        let scanned = self
            .keep
            .iter()
            .filter(|((step, scoped, outcome, _), _)| {
                step == "pattern-scan" && !scoped && *outcome == "ok"
            })
            .map(|(_, (_, r))| r)
            .next();
        if let Some(scan) = scanned
            && let Some(ids) = scan.evidence.get("identities").and_then(Value::as_array)
        {
            for id in ids
                .iter()
                .filter_map(Value::as_str)
                .filter(|i| *i != identity)
            {
                let h = id_hash(id);
                for (idx, step) in CHANGES.iter().enumerate() {
                    if let Some(last) = self.other_last.get(&(idx as u8, h)) {
                        v.push((
                            last.line,
                            Record {
                                seq: last.seq,
                                ts: String::new(),
                                incident: String::new(),
                                operator: String::new(),
                                step: step.to_string(),
                                identity: Some(id.to_string()),
                                outcome: last.outcome,
                                prev: String::new(),
                                evidence: Map::new(),
                            },
                        ));
                    }
                }
            }
        }
        v.sort_by_key(|(line, _)| *line);
        v.dedup_by_key(|(line, _)| *line);
        v.into_iter().map(|(_, r)| r).collect()
    }

    /// The last action of a changing step about the identity that ended, if any.
    pub fn last_change(&self, step: &str) -> Option<&Record> {
        self.actions.iter().rev().find_map(|a| match a {
            Act::Change(_, r) if r.step == step && !r.evidence.contains_key("scope") => Some(r),
            _ => None,
        })
    }
}

fn time_of(v: &Value) -> &str {
    v.get("time").and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{GENESIS, sha256_hex};
    use crate::playbook::status::Incident;
    use crate::playbook::{Playbook, status_of};
    use serde_json::json;

    const ID: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";

    /// Chained lines from (step, identity, outcome, evidence).
    fn journal(entries: &[(&str, Option<&str>, &str, Value)]) -> String {
        let mut prev = GENESIS.to_string();
        let mut out = String::new();
        for (seq, (step, identity, outcome, ev)) in entries.iter().enumerate() {
            let mut line = format!(
                "{{\"seq\":{seq},\"ts\":\"2026-11-25T01:{:02}:00Z\",\"incident\":\"i\",\"operator\":\"o\",\"step\":{},\"identity\":{},\"outcome\":{},\"prev\":\"{prev}\"",
                seq % 60,
                json!(step),
                json!(identity),
                json!(outcome)
            );
            if let Value::Object(m) = ev {
                for (k, v) in m {
                    line.push_str(&format!(",{}:{v}", json!(k)));
                }
            }
            line.push('}');
            prev = sha256_hex(line.as_bytes());
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The statuses the report computes from the few entries it keeps are those computed from
    /// every entry, for every step of the bundled playbook, whatever order the runs left.
    #[test]
    fn the_kept_entries_give_every_step_the_status_all_entries_give() {
        let others: Vec<String> = (0..40)
            .map(|k| format!("00000000-0000-4000-8000-{k:012}"))
            .collect();
        let mut entries: Vec<(&str, Option<&str>, &str, Value)> = vec![
            ("incident.open", Some(ID), "ok", json!({})),
            ("revoke", Some(ID), "started", json!({})),
            ("revoke", Some(ID), "ok", json!({"summary": "ended 2"})),
            (
                "revoke",
                Some(ID),
                "ok",
                json!({"scope": "session", "session": "s"}),
            ),
            ("disable-password", Some(ID), "started", json!({})),
            (
                "disable-password",
                Some(ID),
                "failed",
                json!({"summary": "500"}),
            ),
            ("disable-password", Some(ID), "started", json!({})),
            (
                "audit-query",
                Some(ID),
                "failed",
                json!({"error": "timeout"}),
            ),
            (
                "audit-query",
                Some(ID),
                "ok",
                json!({"new_ips": ["198.51.100.23"]}),
            ),
            (
                "pattern-scan",
                Some(ID),
                "ok",
                json!({"identities": [ID, &others[0], &others[1]]}),
            ),
            (
                "manual",
                Some(ID),
                "ok",
                json!({"playbook_step": "confirm-with-user", "done": true}),
            ),
            ("hibp-check", Some(ID), "ok", json!({"verdict": "pwned"})),
            (
                "pattern-scan",
                Some(ID),
                "ok",
                json!({"identities": others.iter().take(30).collect::<Vec<_>>()}),
            ),
            (
                "pattern-scan",
                Some(ID),
                "failed",
                json!({"error": "db down"}),
            ),
        ];
        for (k, o) in others.iter().enumerate() {
            entries.push(("sessions", Some(o), "ok", json!({})));
            entries.push(("revoke", Some(o), "started", json!({})));
            match k % 4 {
                0 => entries.push(("revoke", Some(o), "ok", json!({}))),
                1 => entries.push(("revoke", Some(o), "failed", json!({}))),
                2 => entries.push(("revoke", Some(o), "ok", json!({"scope": "session"}))),
                _ => {}
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let pb = Playbook::bundled();
        let now: jiff::Timestamp = "2026-11-25T01:30:00Z".parse().unwrap();
        // Every prefix: each step's status as the journal grows.
        for end in 1..=entries.len() {
            std::fs::write(&path, journal(&entries[..end])).unwrap();
            let all = journal::read_records(&path).unwrap();
            let scan = Scan::read(&path).unwrap();
            assert!(scan.verified.is_some());
            let kept = scan.status_records();
            assert!(kept.len() <= all.len());
            let full = Incident::new(&all, ID, &pb.since, "j");
            let few = Incident::new(&kept, ID, &pb.since, "j");
            assert_eq!(full.values.others, few.values.others, "at {end}");
            // The bulk step's counts are journal::progress's, identity by identity.
            let listed = &full.values.others;
            let (mut done, mut failed) = (0, 0);
            for o in listed {
                match journal::progress(&all, "revoke", o) {
                    journal::Progress::Finished {
                        outcome: Outcome::Failed,
                        ..
                    } => failed += 1,
                    journal::Progress::Finished { .. } => done += 1,
                    _ => {}
                }
            }
            if let Some(bulk) = pb.step("revoke-others")
                && done + failed > 0
            {
                let st = status_of(&pb, bulk, &full, now);
                assert_eq!(
                    st.detail,
                    format!("{done} of {} done, {failed} failed", listed.len())
                );
            }
            for step in &pb.steps {
                let a = status_of(&pb, step, &full, now);
                let b = status_of(&pb, step, &few, now);
                assert_eq!(
                    (a.status, &a.detail, a.seq),
                    (b.status, &b.detail, b.seq),
                    "step {} after {end} entries",
                    step.id
                );
            }
        }
    }
}
