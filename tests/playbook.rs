//! `playbook check` (a catalogue of broken playbooks, each caught where it is) and `playbook
//! show` (each step's status read from journals built as real steps write them).

mod common;

use std::path::{Path, PathBuf};

use common::{Run, run};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ID: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playbooks")
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/account-takeover.toml")
}

/// atoctl in `dir` with the test environment and nothing else.
fn atoctl_in(dir: &Path, args: &[&str]) -> Run {
    run(atoctl_testkit::atoctl().current_dir(dir).args(args))
}

/// What a broken playbook says it must produce: `# expect: LINE STEP: FRAGMENT` (STEP `-`
/// for a problem of the file or of a phase), one line per problem.
#[derive(Debug)]
struct Expect {
    line: usize,
    step: Option<String>,
    fragment: String,
}

fn expectations(path: &Path) -> Vec<Expect> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|e| {
            let (line, rest) = e.split_once(' ').expect("# expect: LINE STEP: FRAGMENT");
            let (step, fragment) = rest.split_once(": ").expect("STEP: FRAGMENT");
            Expect {
                line: line.parse().expect("a line number"),
                step: (step != "-").then(|| step.to_string()),
                fragment: fragment.to_string(),
            }
        })
        .collect()
}

fn broken_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_broken_playbook_in_the_catalogue_is_caught_on_its_line_and_step() {
    let dir = fixtures().join("broken");
    let files = broken_files();
    assert!(files.len() >= 50, "the catalogue is there");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let expected = expectations(&path);
        assert!(!expected.is_empty(), "{name} says what it expects");
        let r = atoctl_in(&dir, &["playbook", "check", name]);
        assert_eq!(r.code, 2, "{name}: {r:?}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            expected.len(),
            "{name}: one line per problem, and only the expected ones: {}",
            r.stdout
        );
        for e in &expected {
            let prefix = match &e.step {
                Some(s) => format!("{name}:{}: step {s}: ", e.line),
                None => format!("{name}:{}: ", e.line),
            };
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&prefix) && l.contains(&e.fragment)
                        // a step-less problem is not about a step
                        && (e.step.is_some() || !l[prefix.len()..].starts_with("step "))),
                "{name}: expected `{prefix}…{}…`, got:\n{}",
                e.fragment,
                r.stdout
            );
        }
        let problems = if expected.len() == 1 {
            "1 problem in 1 file".to_string()
        } else {
            format!("{} problems in 1 file", expected.len())
        };
        assert_eq!(
            r.error_line(),
            format!("atoctl: error: {problems}"),
            "{name}"
        );
    }
}

#[test]
fn the_bundled_playbook_and_a_clean_custom_one_pass() {
    let r = atoctl_in(
        &fixtures(),
        &[
            "playbook",
            "check",
            bundled().to_str().unwrap(),
            "clean.toml",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "ok: {}: 4 phases, 18 steps\nok: clean.toml: 3 phases, 11 steps\n",
            bundled().display()
        )
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn several_files_are_all_checked_and_every_problem_reported() {
    let dir = fixtures();
    let r = atoctl_in(
        &dir,
        &[
            "playbook",
            "check",
            "broken/unknown-flag.toml",
            "clean.toml",
            "broken/no-phase.toml",
            "missing.toml",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("broken/unknown-flag.toml:18: step recover: run: not a valid atoctl command: unexpected argument '--methd'"),
        "{}",
        r.stdout
    );
    assert_eq!(lines[1], "ok: clean.toml: 3 phases, 11 steps");
    assert!(
        lines[2].starts_with("broken/no-phase.toml:1: the playbook has no phase"),
        "{}",
        r.stdout
    );
    assert!(lines[3].starts_with("broken/no-phase.toml:7: step revoke: phase \"immediate\""));
    assert!(
        lines[4].starts_with("missing.toml: cannot read the file: "),
        "{}",
        r.stdout
    );
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    assert_eq!(r.error_line(), "atoctl: error: 4 problems in 3 files");
}

#[test]
fn json_output_is_one_document_with_every_file_and_its_problems() {
    let dir = fixtures();
    let r = atoctl_in(
        &dir,
        &[
            "playbook",
            "check",
            "-o",
            "json",
            "clean.toml",
            "broken/after-unknown-step.toml",
            "broken/toml-syntax.toml",
            "missing.toml",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["ok"], false);
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    assert_eq!(
        files[0],
        json!({"file": "clean.toml", "phases": 3, "steps": 11, "problems": []})
    );
    assert_eq!(
        files[1],
        json!({
            "file": "broken/after-unknown-step.toml",
            "phases": 1,
            "steps": 2,
            "problems": [{
                "file": "broken/after-unknown-step.toml",
                "line": 18,
                "step": "lock",
                "message": "after names \"disable\", which is not a step of this playbook",
            }],
        })
    );
    // A file that does not parse has no counts; its one problem has a line.
    assert_eq!(files[2]["phases"], Value::Null);
    assert_eq!(files[2]["problems"][0]["line"], 4);
    assert_eq!(files[2]["problems"][0]["step"], Value::Null);
    // A file that cannot be read has no line to name.
    assert_eq!(files[3]["problems"][0]["line"], Value::Null);
    assert!(
        files[3]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot read the file")
    );

    let ok = atoctl_in(&dir, &["playbook", "check", "-o", "json", "clean.toml"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json()["ok"], true);
}

#[test]
fn options_set_in_the_environment_are_not_taken_for_options_in_a_command() {
    // respond runs with these set; only options written in a step's command are a problem.
    let r = run(atoctl_testkit::atoctl()
        .current_dir(fixtures())
        .env("ATOCTL_INCIDENT", "incidents/x.jsonl")
        .env("KRATOS_ADMIN_URL", "http://127.0.0.1:4434")
        .env("ATOCTL_TIMEOUT", "3")
        .args(["playbook", "check", "clean.toml"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "ok: clean.toml: 3 phases, 11 steps\n");
}

// --- show -----------------------------------------------------------------------------------

/// A journal as atoctl writes one: seq in order, the hash chain, the incident's id on every
/// line; `ts` a second apart from `opened`.
struct JournalFile {
    lines: Vec<String>,
    prev: String,
    opened: jiff::Timestamp,
}

impl JournalFile {
    fn opened_at(opened: jiff::Timestamp) -> JournalFile {
        let mut j = JournalFile {
            lines: Vec::new(),
            prev: "0".repeat(64),
            opened,
        };
        j.add(
            "incident.open",
            "ok",
            json!({"summary": "the owner reports a login from Lagos", "opened_by": "incident open"}),
        );
        j
    }

    /// An entry about the incident's identity.
    fn add(&mut self, step: &str, outcome: &str, evidence: Value) -> &mut Self {
        self.add_for(ID, step, outcome, evidence)
    }

    fn add_for(&mut self, identity: &str, step: &str, outcome: &str, evidence: Value) -> &mut Self {
        let seq = self.lines.len();
        let ts = self
            .opened
            .checked_add(jiff::SignedDuration::from_secs(seq as i64))
            .unwrap();
        let mut line = json!({
            "seq": seq,
            "ts": format!("{ts:.6}"),
            "incident": "ato-20261206-010000-abc123",
            "operator": "oncall-test",
            "step": step,
            "identity": identity,
            "outcome": outcome,
            "prev": self.prev,
        });
        for (k, v) in evidence.as_object().unwrap() {
            line[k] = v.clone();
        }
        let text = serde_json::to_string(&line).unwrap();
        self.prev = hex::encode(Sha256::digest(text.as_bytes()));
        self.lines.push(text);
        self
    }

    fn write(&self, path: &Path) {
        let mut text = self.lines.join("\n");
        text.push('\n');
        std::fs::write(path, text).unwrap();
    }
}

/// A time `h` hours ago, to the microsecond (as the journal writes times).
fn hours_ago(h: i64) -> jiff::Timestamp {
    let t = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(h))
        .unwrap();
    format!("{t:.6}").parse().unwrap()
}

/// `playbook show` against a journal, as JSON, and the table.
fn show(dir: &Path, journal: &Path, extra: &[&str]) -> (Value, Run) {
    let base = || {
        let mut c = atoctl_testkit::atoctl();
        c.current_dir(dir).env("ATOCTL_INCIDENT", journal);
        c
    };
    let j = run(base().args(["playbook", "show", "-o", "json"]).args(extra));
    assert_eq!(j.code, 0, "{j:?}");
    let t = run(base().args(["playbook", "show"]).args(extra));
    assert_eq!(t.code, 0, "{t:?}");
    (j.json(), t)
}

/// Each step's status in the JSON document.
fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["steps"].as_array().unwrap().iter())
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status_of(doc: &Value, step: &str) -> String {
    statuses(doc)
        .into_iter()
        .find(|(id, _)| id == step)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no step {step}"))
}

/// The status in a step's table row: cells are at least two spaces apart, the status first,
/// then the step's id.
fn row_status(table: &str, step: &str) -> String {
    for l in table.lines() {
        let cells: Vec<&str> = l
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if cells.get(1) == Some(&step) {
            return cells[0].to_string();
        }
    }
    panic!("no row for {step} in:\n{table}");
}

#[test]
fn show_reads_each_steps_status_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    // Opened two hours ago, not from a webhook: the immediate phase (10m) and the 1h phase
    // are past their deadlines, the 24h phase is not.
    let opened = hours_ago(2);
    let mut j = JournalFile::opened_at(opened);
    j.add(
        "manual",
        "ok",
        json!({"playbook_step": "confirm-with-user", "answers": ["no", "no", "no", "this morning", "Berlin, laptop"]}),
    )
    .add(
        "sessions",
        "ok",
        json!({"summary": "2 sessions recorded before revoke", "purpose": "before revoke", "sessions": []}),
    )
    .add(
        "revoke",
        "started",
        json!({"summary": "revoke began: 1 call(s) planned"}),
    )
    .add(
        "revoke",
        "ok",
        json!({"summary": "2 sessions ended", "verified": true, "sessions_ended": 2}),
    )
    .add(
        "disable-password",
        "started",
        json!({"summary": "disable-password began: 1 call(s) planned"}),
    )
    .add(
        "recover",
        "failed",
        json!({"summary": "stopped: Kratos answered 500", "verified": false}),
    );
    j.write(&journal);
    // The chain is right (else show would warn).
    let v = atoctl_in(
        dir.path(),
        &["incident", "verify", "--incident", "incident.jsonl"],
    );
    assert_eq!(v.code, 0, "{v:?}");

    let (doc, table) = show(dir.path(), &journal, &[]);
    assert_eq!(table.stderr, "", "a journal that verifies: no warning");
    for (step, want) in [
        ("confirm-with-user", "done"),
        ("lock", "skipped"),
        ("revoke", "done"),
        ("disable-password", "in_progress"),
        ("notify-locked", "skipped"),
        ("unlock", "skipped"),
        ("recover", "failed"),
        ("audit", "overdue"),
        ("hibp", "overdue"),
        ("scan-ips", "overdue"),
        ("notify-user", "pending"),
        ("document", "pending"),
        ("mfa", "pending"),
    ] {
        assert_eq!(status_of(&doc, step), want, "{step}");
    }
    assert_eq!(doc["playbook"], "account-takeover");
    assert_eq!(doc["incident"], "ato-20261206-010000-abc123");
    assert_eq!(doc["identity"], ID);
    let immediate = &doc["phases"][0];
    assert_eq!(immediate["id"], "immediate");
    assert_eq!(immediate["title"], "Contain");
    assert_eq!(immediate["deadline"], "10m");
    let due: jiff::Timestamp = immediate["due"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due,
        opened
            .checked_add(jiff::SignedDuration::from_mins(10))
            .unwrap()
    );
    let steps = immediate["steps"].as_array().unwrap();
    assert_eq!(steps[0]["id"], "confirm-with-user");
    assert!(steps[0]["manual"].as_str().unwrap().contains("channel"));
    assert!(steps[0].get("command").is_none());
    assert_eq!(steps[2]["command"], "revoke --identity {identity}");
    assert_eq!(steps[2]["detail"], "2 sessions ended");
    assert_eq!(steps[1]["detail"], "not applicable: when webhook");
    assert!(steps[3]["detail"].as_str().unwrap().contains("no end"));

    // The table says the same, in words.
    let t = &table.stdout;
    assert_eq!(row_status(t, "revoke"), "done");
    assert_eq!(row_status(t, "disable-password"), "in progress");
    assert_eq!(row_status(t, "recover"), "failed");
    assert_eq!(row_status(t, "lock"), "skipped");
    assert_eq!(row_status(t, "audit"), "overdue");
    assert_eq!(row_status(t, "notify-user"), "pending");
    assert!(
        t.contains(&format!(
            "immediate: Contain (due {})",
            due.strftime("%Y-%m-%d %H:%M:%SZ")
        )),
        "{t}"
    );
    assert!(t.contains("ato-20261206-010000-abc123"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.contains("revoke") && l.contains("revoke --identity {identity}")),
        "command steps show their command as written: {t}"
    );
    assert!(!t.contains('\u{1b}'), "no colour off a terminal");
}

#[test]
fn a_webhook_makes_the_castle_steps_applicable_and_a_fresh_incident_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    let mut j = JournalFile::opened_at(hours_ago(0));
    j.add(
        "castle.webhook",
        "ok",
        json!({"summary": "Castle $incident.confirmed", "ip": "203.0.113.66"}),
    );
    j.write(&journal);
    let (doc, table) = show(dir.path(), &journal, &[]);
    for (step, want) in [
        // The webhook's steps apply, and nothing is due yet.
        ("lock", "pending"),
        ("notify-locked", "pending"),
        ("unlock", "pending"),
        ("revoke", "pending"),
        ("audit", "pending"),
        // The user need not be asked: Castle confirmed it.
        ("confirm-with-user", "skipped"),
    ] {
        assert_eq!(status_of(&doc, step), want, "{step}");
    }
    assert!(!statuses(&doc).iter().any(|(_, s)| s == "overdue"), "{doc}");
    assert_eq!(row_status(&table.stdout, "lock"), "pending");
    assert_eq!(row_status(&table.stdout, "confirm-with-user"), "skipped");
}

#[test]
fn a_custom_playbook_shows_bulk_and_manual_steps() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    let others = [
        "0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b",
        "3c9d7e21-5b4a-4f0e-a8c6-1d2e3f4a5b6c",
    ];
    let mut j = JournalFile::opened_at(hours_ago(0));
    j.add(
        "manual",
        "ok",
        json!({"playbook_step": "freeze-payouts", "answers": ["yes", "bank transfer"]}),
    )
    .add(
        "audit-query",
        "ok",
        json!({"summary": "40 events, 3 flagged", "new_ips": ["203.0.113.66"]}),
    )
    .add(
        "pattern-scan",
        "ok",
        json!({"summary": "2 other identities", "identities": others}),
    );
    j.add_for(
        others[0],
        "revoke",
        "ok",
        json!({"summary": "1 session ended"}),
    );
    j.add_for(
        others[1],
        "revoke",
        "started",
        json!({"summary": "revoke began"}),
    );
    j.write(&journal);
    let clean = fixtures().join("clean.toml");
    let (doc, table) = show(dir.path(), &journal, &[clean.to_str().unwrap()]);
    assert_eq!(doc["playbook"], "payments-takeover");
    assert_eq!(status_of(&doc, "freeze-payouts"), "done");
    assert_eq!(status_of(&doc, "events"), "done");
    assert_eq!(status_of(&doc, "scan"), "done");
    // One of the two others is done, the other began: the bulk step is under way.
    assert_eq!(status_of(&doc, "end-others"), "in_progress");
    let end_others = doc["phases"][1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "end-others")
        .cloned()
        .unwrap();
    assert_eq!(end_others["detail"], "1 of 2 done, 0 failed");
    assert_eq!(row_status(&table.stdout, "end-others"), "in progress");
}

#[test]
fn without_a_journal_every_step_is_pending_and_the_output_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let t = atoctl_in(dir.path(), &["playbook", "show"]);
    assert_eq!(t.code, 0, "{t:?}");
    assert!(t.stdout.contains("journal not set"), "{}", t.stdout);
    assert!(
        t.stdout
            .contains("immediate: Contain (due 10m after the incident's opening)"),
        "{}",
        t.stdout
    );
    assert_eq!(row_status(&t.stdout, "lock"), "pending");
    let j = atoctl_in(dir.path(), &["playbook", "show", "-o", "json"]);
    assert_eq!(j.code, 0, "{j:?}");
    let doc = j.json();
    assert_eq!(doc["incident"], Value::Null);
    assert_eq!(doc["identity"], Value::Null);
    assert_eq!(doc["phases"][3]["deadline"], "7d");
    assert_eq!(doc["phases"][3]["due"], Value::Null);
    let all = statuses(&doc);
    assert_eq!(all.len(), 18);
    assert!(all.iter().all(|(_, s)| s == "pending"), "{all:?}");
}

#[test]
fn a_journal_that_does_not_verify_is_shown_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    let mut j = JournalFile::opened_at(hours_ago(0));
    j.add(
        "revoke",
        "ok",
        json!({"summary": "2 sessions ended", "verified": true}),
    )
    .add("note", "ok", json!({"text": "called the owner"}));
    // Someone edits line 2 afterwards: line 3 no longer chains to it.
    j.lines[1] = j.lines[1].replace("2 sessions", "3 sessions");
    j.write(&journal);
    let (doc, table) = show(dir.path(), &journal, &[]);
    assert!(
        table
            .stderr
            .contains("warning: the journal does not verify: line 3"),
        "{}",
        table.stderr
    );
    assert_eq!(status_of(&doc, "revoke"), "done");
}

#[test]
fn show_refuses_a_playbook_with_problems() {
    let dir = fixtures();
    let r = atoctl_in(&dir, &["playbook", "show", "broken/unknown-flag.toml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.error_line().contains("unexpected argument '--methd'"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
}
