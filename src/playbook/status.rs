//! Where each playbook step stands, from an incident's journal alone.
//!
//! A command step is matched to the journal by the step its command records (`revoke`,
//! `disable-password`, `audit-query`, …) for the incident's identity; a bulk step (`revoke
//! --stdin` fed with `{others}`) by each of those identities; a manual item by its `manual`
//! entry naming the playbook step. `show` prints this, `respond` runs what is not done.

use serde_json::{Map, Value};

use super::{Action, Condition, Playbook, Step, Values};
use crate::cli::Command;
use crate::journal::{self, Outcome, Progress, Record};
use crate::steps::AnyChange;

/// The journal step of a manual item's answers.
pub const MANUAL_STEP: &str = "manual";

/// The journal step of a Castle webhook's evidence.
pub const WEBHOOK_STEP: &str = "castle.webhook";

/// A step's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ended and verified (or answered, for a manual item).
    Done,
    /// Ended without its effect.
    Failed,
    /// Nothing needed doing, or its condition left it out.
    Skipped,
    /// Began (an entry with outcome `started`) and never recorded its end: cut off, or running.
    InProgress,
    /// Not yet done.
    Pending,
    /// Not yet done and its phase's deadline has passed.
    Overdue,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::InProgress => "in progress",
            Status::Pending => "pending",
            Status::Overdue => "overdue",
        }
    }

    /// Ended, so that a step `after` it may run.
    pub fn ended(self) -> bool {
        matches!(self, Status::Done | Status::Skipped)
    }
}

/// A step's status, why, and the journal entry it rests on.
#[derive(Debug, Clone)]
pub struct StepState {
    pub status: Status,
    pub detail: String,
    /// The entry the status rests on (the last one of the step).
    pub seq: Option<u64>,
    /// The `started` entry of a run cut off in the middle.
    pub began: Option<u64>,
}

impl StepState {
    fn new(status: Status, detail: impl Into<String>) -> StepState {
        StepState {
            status,
            detail: detail.into(),
            seq: None,
            began: None,
        }
    }
}

/// What a command step records in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// One step for the incident's identity (`revoke`, `audit-query`, …).
    One(&'static str),
    /// `revoke --stdin`: one `revoke` per identity read.
    Bulk(&'static str),
    /// The command records nothing for the identity (`identity`, `sessions`).
    Nothing,
}

/// What a parsed command records.
pub fn recorded(cmd: &Command) -> Recorded {
    if let Some(c) = AnyChange::from_command(cmd) {
        return Recorded::One(c.step());
    }
    match cmd {
        Command::Revoke(a) if a.stdin => Recorded::Bulk("revoke"),
        Command::AuditQuery(_) => Recorded::One("audit-query"),
        Command::PatternScan(_) => Recorded::One("pattern-scan"),
        Command::HibpCheck(_) => Recorded::One("hibp-check"),
        Command::Restore(a) if a.reversal_key.is_none() => {
            Recorded::One(crate::steps::restore::STEP)
        }
        _ => Recorded::Nothing,
    }
}

/// The command of a step, parsed by the real CLI with sample values (what it records does not
/// depend on them).
pub fn recorded_by(step: &Step) -> Recorded {
    step.sample_command()
        .map(|c| recorded(&c))
        .unwrap_or(Recorded::Nothing)
}

/// An incident as the journal tells it, for one identity.
pub struct Incident<'a> {
    pub records: &'a [Record],
    pub identity: &'a str,
    /// When the incident was opened (its first entry).
    pub opened: Option<jiff::Timestamp>,
    pub values: Values,
}

impl<'a> Incident<'a> {
    /// The incident of `records` about `identity`; `since` and `incident` fill the
    /// placeholders of the same name.
    pub fn new(records: &'a [Record], identity: &'a str, since: &str, incident: &str) -> Self {
        let opened = records.first().and_then(|r| r.ts.parse().ok());
        let values = values_from(records, identity, since, incident);
        Incident {
            records,
            identity,
            opened,
            values,
        }
    }

    /// The evidence of the last entry of a journal step for the identity that ended (not a
    /// `started` one), if any.
    fn last_result(&self, step: &str) -> Option<&'a Record> {
        self.records.iter().rev().find(|r| {
            r.step == step
                && r.identity.as_deref() == Some(self.identity)
                && r.outcome != Outcome::Started
                && !r.evidence.contains_key("scope")
        })
    }

    /// The manual entry of a playbook step.
    fn manual_entry(&self, id: &str) -> Option<&'a Record> {
        self.records.iter().rev().find(|r| {
            r.step == MANUAL_STEP
                && r.identity.as_deref() == Some(self.identity)
                && r.evidence.get("playbook_step").and_then(Value::as_str) == Some(id)
        })
    }

    /// The webhook's evidence, when the incident started from one.
    pub fn webhook(&self) -> Option<&'a Record> {
        self.records.iter().find(|r| r.step == WEBHOOK_STEP)
    }

    /// What a condition's root stands for: the webhook's evidence, or a step's last result.
    /// `Err` when the root step has not ended yet (the condition cannot be decided).
    pub fn root(
        &self,
        playbook: &Playbook,
        root: &str,
    ) -> std::result::Result<Option<&'a Map<String, Value>>, String> {
        if root == "webhook" {
            return Ok(self.webhook().map(|r| &r.evidence));
        }
        let Some(step) = playbook.step(root) else {
            return Ok(None);
        };
        let rec = match (&step.action, recorded_by(step)) {
            (Action::Manual { .. }, _) => self.manual_entry(&step.id),
            (_, Recorded::One(name)) => self.last_result(name),
            _ => None,
        };
        match rec {
            Some(r) if r.outcome == Outcome::Failed => {
                Err(format!("waits for {root} (its last run failed)"))
            }
            Some(r) => Ok(Some(&r.evidence)),
            None => Err(format!("waits for {root}")),
        }
    }
}

/// The placeholders' values from the journal: the attacker's IPs (the webhook's, and what
/// audit-query flagged as new) and the other identities the last pattern-scan found.
pub fn values_from(records: &[Record], identity: &str, since: &str, incident: &str) -> Values {
    let mut ips: Vec<String> = Vec::new();
    let mut add = |ip: &str| {
        if !ip.is_empty() && !ips.iter().any(|i| i == ip) {
            ips.push(ip.to_string());
        }
    };
    for r in records {
        if r.step == WEBHOOK_STEP
            && let Some(ip) = r.evidence.get("ip").and_then(Value::as_str)
        {
            add(ip);
        }
        if r.step == "audit-query"
            && r.identity.as_deref() == Some(identity)
            && let Some(list) = r.evidence.get("new_ips").and_then(Value::as_array)
        {
            for ip in list.iter().filter_map(Value::as_str) {
                add(ip);
            }
        }
    }
    let scan = records.iter().rev().find(|r| {
        r.step == "pattern-scan"
            && r.identity.as_deref() == Some(identity)
            && r.outcome == Outcome::Ok
    });
    let others_truncated = scan
        .and_then(|r| r.evidence.get("identities_truncated"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let others = scan
        .and_then(|r| r.evidence.get("identities").and_then(Value::as_array))
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .filter(|i| *i != identity)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Values {
        identity: identity.to_string(),
        since: since.to_string(),
        ips,
        others,
        others_truncated,
        incident: incident.to_string(),
    }
}

/// Where a step stands. `now` decides what is overdue.
pub fn status_of(
    playbook: &Playbook,
    step: &Step,
    incident: &Incident<'_>,
    now: jiff::Timestamp,
) -> StepState {
    let state = recorded_state(playbook, step, incident);
    if state.status != Status::Pending {
        return state;
    }
    // Not recorded: a condition may leave it out.
    if let Some(w) = &step.when
        && let Ok(c) = Condition::parse(w)
    {
        match incident.root(playbook, &c.root) {
            Ok(root) if !c.holds(root) => {
                return StepState::new(Status::Skipped, format!("not applicable: when {w}"));
            }
            Ok(_) => {}
            Err(waits) => return overdue(playbook, step, incident, now, waits),
        }
    }
    overdue(playbook, step, incident, now, state.detail)
}

/// Pending, or overdue when its phase's deadline has passed.
fn overdue(
    playbook: &Playbook,
    step: &Step,
    incident: &Incident<'_>,
    now: jiff::Timestamp,
    detail: String,
) -> StepState {
    let deadline = playbook
        .phase(&step.phase)
        .and_then(|p| p.deadline)
        .and_then(|d| jiff::SignedDuration::try_from(d).ok())
        .zip(incident.opened)
        .and_then(|(d, opened)| opened.checked_add(d).ok());
    match deadline {
        Some(due) if now > due => StepState::new(
            Status::Overdue,
            format!("due {}", due.strftime("%Y-%m-%d %H:%M:%SZ")),
        ),
        _ => StepState::new(Status::Pending, detail),
    }
}

/// The status the journal records for a step, `Pending` when it records none.
fn recorded_state(playbook: &Playbook, step: &Step, incident: &Incident<'_>) -> StepState {
    let _ = playbook;
    let from_outcome = |outcome: Outcome, seq: u64, rec: Option<&Record>| {
        let summary = rec
            .and_then(|r| r.evidence.get("summary"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let status = match outcome {
            Outcome::Ok => Status::Done,
            Outcome::Skipped => Status::Skipped,
            Outcome::Failed => Status::Failed,
            Outcome::Started => Status::InProgress,
        };
        StepState {
            status,
            detail: summary,
            seq: Some(seq),
            began: None,
        }
    };
    if let Action::Manual { .. } = step.action {
        return match incident.manual_entry(&step.id) {
            Some(r) => from_outcome(r.outcome, r.seq, Some(r)),
            None => StepState::new(Status::Pending, ""),
        };
    }
    match recorded_by(step) {
        Recorded::One(name) => match journal::progress(incident.records, name, incident.identity) {
            Progress::NotStarted => StepState::new(Status::Pending, ""),
            Progress::Began { seq } => StepState {
                status: Status::InProgress,
                detail: format!("began at entry {seq} and recorded no end"),
                seq: Some(seq),
                began: Some(seq),
            },
            Progress::Finished { outcome, seq } => {
                from_outcome(outcome, seq, incident.records.iter().find(|r| r.seq == seq))
            }
        },
        Recorded::Bulk(name) => {
            // The identities it reads: its stdin, expanded (`{others}` by default).
            let others: Vec<String> = super::expand_stdin(
                step.stdin.as_deref().unwrap_or("{others}"),
                &incident.values,
            )
            .map(|text| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
            if others.is_empty() {
                return StepState::new(Status::Pending, "");
            }
            let mut done = 0;
            let mut failed = 0;
            let mut begun = 0;
            let progress = progress_by_identity(incident.records, name);
            for id in &others {
                match progress
                    .get(id.as_str())
                    .copied()
                    .unwrap_or(Progress::NotStarted)
                {
                    Progress::NotStarted => {}
                    Progress::Began { .. } => begun += 1,
                    Progress::Finished {
                        outcome: Outcome::Failed,
                        ..
                    } => failed += 1,
                    Progress::Finished { .. } => done += 1,
                }
            }
            let n = others.len();
            let mut detail = format!("{done} of {n} done, {failed} failed");
            if incident.values.others_truncated
                && step
                    .stdin
                    .as_deref()
                    .unwrap_or("{others}")
                    .contains("{others}")
            {
                detail.push_str(
                    "; the scan found more identities than it journaled: revoke the rest with `atoctl pattern-scan … -o ids | atoctl revoke --stdin`",
                );
            }
            if done == n {
                StepState::new(Status::Done, detail)
            } else if failed > 0 && done + failed == n {
                StepState::new(Status::Failed, detail)
            } else if done + failed + begun > 0 {
                StepState::new(Status::InProgress, detail)
            } else {
                StepState::new(Status::Pending, "")
            }
        }
        Recorded::Nothing => StepState::new(Status::Pending, ""),
    }
}

/// [`journal::progress`] of `step` for every identity, in one pass over the journal (a bulk
/// step asks for thousands of identities: one pass each would be quadratic).
/// Where a bulk step stands for each identity it handled. An identity that no longer exists
/// (recorded `result: not_found`) has nothing left to end: it counts as skipped, so that a
/// deleted account does not keep the step failed for ever.
pub fn progress_by_identity<'r>(
    records: &'r [Record],
    step: &str,
) -> std::collections::HashMap<&'r str, Progress> {
    let mut map = std::collections::HashMap::new();
    for r in records
        .iter()
        .filter(|r| r.step == step && !r.evidence.contains_key("scope"))
    {
        if let Some(id) = r.identity.as_deref() {
            let gone = r.evidence.get("result").and_then(Value::as_str) == Some("not_found");
            let state = match r.outcome {
                Outcome::Started => Progress::Began { seq: r.seq },
                Outcome::Failed if gone => Progress::Finished {
                    outcome: Outcome::Skipped,
                    seq: r.seq,
                },
                outcome => Progress::Finished {
                    outcome,
                    seq: r.seq,
                },
            };
            map.insert(id, state);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::Playbook;
    use serde_json::json;

    const ID: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";

    fn rec(seq: u64, step: &str, outcome: &str, evidence: Value) -> Record {
        let mut v = json!({
            "seq": seq, "ts": "2026-12-06T10:00:00Z", "incident": "ato-x", "operator": "t",
            "step": step, "identity": ID, "outcome": outcome, "prev": "0",
        });
        if let (Some(m), Value::Object(e)) = (v.as_object_mut(), evidence) {
            m.extend(e);
        }
        serde_json::from_value(v).unwrap_or_else(|e| panic!("record: {e}"))
    }

    /// A failed scan found nothing because it ran nothing: the steps that depend on what it
    /// found wait; a scan that ran and found nobody leaves them out.
    #[test]
    fn a_condition_on_a_failed_result_waits_and_on_an_empty_one_leaves_the_step_out() {
        let pb = Playbook::bundled();
        let step = pb
            .step("revoke-others")
            .unwrap_or_else(|| panic!("bundled step"));
        let now = jiff::Timestamp::now();
        let failed = [
            rec(0, "incident.open", "ok", json!({})),
            rec(
                1,
                "pattern-scan",
                "failed",
                json!({"error": "database unreachable"}),
            ),
        ];
        let st = status_of(&pb, step, &Incident::new(&failed, ID, "7d", "j"), now);
        assert_ne!(st.status, Status::Skipped, "{st:?}");
        assert!(
            st.detail.contains("failed") || st.status == Status::Overdue,
            "{st:?}"
        );
        let empty = [
            rec(0, "incident.open", "ok", json!({})),
            rec(1, "pattern-scan", "ok", json!({"identities": []})),
        ];
        let st = status_of(&pb, step, &Incident::new(&empty, ID, "7d", "j"), now);
        assert_eq!(st.status, Status::Skipped, "{st:?}");
    }

    /// A scan that found more than it journaled: the bulk step covers what it journaled and
    /// says that the rest is for another revoke.
    #[test]
    fn a_bulk_step_after_a_truncated_scan_says_the_rest_is_not_covered() {
        let pb = Playbook::bundled();
        let step = pb
            .step("revoke-others")
            .unwrap_or_else(|| panic!("bundled step"));
        let other = "0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b";
        let mut done = rec(2, "revoke", "ok", json!({"summary": "ended"}));
        done.identity = Some(other.into());
        let records = [
            rec(0, "incident.open", "ok", json!({})),
            rec(
                1,
                "pattern-scan",
                "ok",
                json!({"identities": [other], "identities_truncated": true}),
            ),
            done,
        ];
        let st = status_of(
            &pb,
            step,
            &Incident::new(&records, ID, "7d", "j"),
            jiff::Timestamp::now(),
        );
        assert_eq!(st.status, Status::Done, "{st:?}");
        assert!(
            st.detail.contains("more identities than it journaled"),
            "{st:?}"
        );
    }
}
