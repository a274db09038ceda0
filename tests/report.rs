//! `atoctl report`: the team's incident report and the owner's notice, from the journal alone.
//!
//! The journals are written here, line by line with their hash chain, at fixed times in
//! November 2026: every playbook step still open is overdue whenever the tests run, so the
//! output is the same every time and is compared with the files in tests/golden/report/
//! (`UPDATE_GOLDEN=1 cargo nextest run -E 'binary(report)'` rewrites them).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const INCIDENT: &str = "ato-20261125-011502-3fa9c1";
const IDENTITY: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";
const OTHER_1: &str = "0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b";
const OTHER_2: &str = "7d2e9f41-3c6b-4a85-b0e2-91c4d7a3f5e8";
const ATTACKER_SESSION: &str = "9c1f7e2a-4b3d-4e8f-a6c5-1d2e3f4a5b6c";
const OWNER_SESSION: &str = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d";
const ATTACKER_IP: &str = "198.51.100.23";
const OWNER_IP: &str = "203.0.113.7";
const OTHER_IP: &str = "192.0.2.44";
const OPERATORS: [&str; 2] = ["alice", "bob"];
const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

/// A journal written the way atoctl writes one: core fields first, then the evidence, each
/// line's `prev` the SHA-256 of the line before.
struct Journal {
    lines: Vec<String>,
    prev: String,
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

impl Journal {
    fn new() -> Journal {
        Journal {
            lines: Vec::new(),
            prev: "0".repeat(64),
        }
    }

    fn add(
        &mut self,
        ts: &str,
        operator: &str,
        step: &str,
        identity: Option<&str>,
        outcome: &str,
        evidence: Value,
    ) -> &mut Journal {
        let mut line = format!(
            "{{\"seq\":{},\"ts\":{},\"incident\":{},\"operator\":{},\"step\":{},\"identity\":{},\"outcome\":{},\"prev\":{}",
            self.lines.len(),
            json!(ts),
            json!(INCIDENT),
            json!(operator),
            json!(step),
            json!(identity),
            json!(outcome),
            json!(self.prev),
        );
        if let Value::Object(m) = evidence {
            for (k, v) in m {
                line.push_str(&format!(",{}:{}", json!(k), v));
            }
        }
        line.push('}');
        self.prev = sha256_hex(line.as_bytes());
        self.lines.push(line);
        self
    }

    fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// The SHA-256 of the last line: the head `incident verify` names.
    fn head(&self) -> String {
        self.prev.clone()
    }
}

fn ts(hms: &str) -> String {
    format!("2026-11-25T{hms}.000000Z")
}

fn session(id: &str, device: &str, ip: &str, ua: &str, location: &str, at: &str) -> Value {
    json!({
        "aal": "aal1",
        "active": true,
        "authenticated_at": at,
        "authentication_methods": [{"aal": "aal1", "completed_at": at, "method": "password"}],
        "devices": [{"id": device, "ip_address": ip, "location": location, "user_agent": ua}],
        "expires_at": "2026-11-26T00:58:12.000000Z",
        "id": id,
        "issued_at": at,
    })
}

/// The webhook's evidence as `respond --from-webhook` records it.
fn webhook(browser: &str, city: &str) -> Value {
    json!({
        "summary": format!("Castle confirmed an account takeover: $login.succeeded from {ATTACKER_IP} ({city}, NG)"),
        "castle_incident_id": "ci_01HZX4K7D2V9M3Q8",
        "created_at": "2026-11-25T00:58:12Z",
        "trigger": "$login.succeeded",
        "ip": ATTACKER_IP,
        "user_agent": CHROME_WINDOWS,
        "device": {"browser": browser, "os": "Windows"},
        "location": {"country_code": "NG", "region": "Lagos", "city": city, "lat": 6.4541, "lon": 3.3947},
        "isp": {"isp_name": "Example Telecom", "isp_organization": "Example Telecom Nigeria Ltd"},
        "policy": {"name": "Account takeover", "action": "deny"},
        "signature_verified": true,
    })
}

/// A realistic incident from a Castle webhook to its close: containment, investigation, a
/// bulk revoke of the two other identities the scan found, the owner's answers, the root
/// cause. `attacker_location` and `browser` let a test plant server text that must not reach
/// the owner's notice.
fn incident_with(attacker_location: &str, browser: &str, city: &str) -> Journal {
    let [alice, bob] = OPERATORS;
    let mut j = Journal::new();
    let sessions = json!([
        session(
            ATTACKER_SESSION,
            "d1a2b3c4-0000-4000-8000-000000000001",
            ATTACKER_IP,
            CHROME_WINDOWS,
            attacker_location,
            "2026-11-25T00:58:12.000000Z"
        ),
        session(
            OWNER_SESSION,
            "d1a2b3c4-0000-4000-8000-000000000002",
            OWNER_IP,
            SAFARI_IPHONE,
            "Sydney, AU",
            "2026-11-24T21:03:40.000000Z"
        ),
    ]);
    j.add(&ts("01:15:02"), alice, "incident.open", Some(IDENTITY), "ok", json!({
        "atoctl_version": "0.1.0",
        "opened_by": "respond",
        "reported_at": "2026-11-25T01:10:00Z",
        "summary": "Castle confirmed an account takeover: login from Lagos",
    }))
    .add(&ts("01:15:02"), alice, "castle.webhook", Some(IDENTITY), "ok", webhook(browser, city))
    .add(&ts("01:15:04"), alice, "sessions", Some(IDENTITY), "ok", json!({
        "complete": true, "purpose": "before lock", "sessions": sessions,
        "summary": "2 sessions recorded before lock", "total": 2,
    }))
    .add(&ts("01:15:04"), alice, "lock", Some(IDENTITY), "started", json!({
        "plan": [format!("PATCH /admin/identities/{IDENTITY}"), format!("DELETE /admin/identities/{IDENTITY}/sessions")],
        "state_before": "active", "summary": "lock began: 2 call(s) planned",
    }))
    .add(&ts("01:15:05"), alice, "lock", Some(IDENTITY), "ok", json!({
        "done": [format!("PATCH /admin/identities/{IDENTITY}"), format!("DELETE /admin/identities/{IDENTITY}/sessions")],
        "evidence_complete": true, "session_ids": [ATTACKER_SESSION, OWNER_SESSION],
        "sessions_deleted": 2, "sessions_ended": 2, "state_after": "inactive", "state_before": "active",
        "summary": "state active → inactive; ended 2 sessions", "verified": true,
    }))
    .add(&ts("01:15:09"), alice, "revoke", Some(IDENTITY), "skipped", json!({
        "summary": "nothing to do: no session left",
    }))
    .add(&ts("01:15:11"), alice, "disable-password", Some(IDENTITY), "started", json!({
        "password_state_before": "hash",
        "plan": [format!("GET /admin/identities/{IDENTITY}"), format!("PUT /admin/identities/{IDENTITY}")],
        "summary": "disable-password began: 2 call(s) planned",
    }))
    .add(&ts("01:15:12"), alice, "disable-password", Some(IDENTITY), "ok", json!({
        "changed": [], "credential_types": ["password"],
        "done": [format!("GET /admin/identities/{IDENTITY}"), format!("PUT /admin/identities/{IDENTITY}")],
        "password_state_after": "hash", "password_state_before": "hash",
        "summary": "password replaced by a random secret; nothing else changed", "verified": true,
    }))
    .add(&ts("01:21:40"), bob, "manual", Some(IDENTITY), "ok", json!({
        "playbook_step": "notify-locked", "title": "Tell the owner the account is locked, through a second channel",
        "summary": "done", "answers": [], "done": true,
    }))
    .add(&ts("01:24:03"), bob, "manual", Some(IDENTITY), "ok", json!({
        "playbook_step": "confirm-with-user", "title": "Confirm with the user that the activity was not theirs",
        "summary": "answered 3 questions", "done": true,
        "answers": [
            {"question": "Did you log in from another device recently?", "answer": "No, only my iPhone."},
            {"question": "Were you testing something, or using a new app or VPN?", "answer": "No."},
            {"question": "When did you notice, and what did you see?", "answer": "01:05, an e-mail about a new sign-in from Lagos."},
        ],
    }))
    .add(&ts("01:25:30"), bob, "unlock", Some(IDENTITY), "started", json!({
        "plan": [format!("PATCH /admin/identities/{IDENTITY}")], "state_before": "inactive",
        "summary": "unlock began: 1 call(s) planned",
    }))
    .add(&ts("01:25:31"), bob, "unlock", Some(IDENTITY), "ok", json!({
        "active_sessions_after": [], "done": [format!("PATCH /admin/identities/{IDENTITY}")],
        "revived_sessions_ended_first": 0, "session_ids": [], "sessions_deleted": 0,
        "state_after": "active", "state_before": "inactive",
        "summary": "state inactive → active; no session came back", "verified": true,
    }))
    .add(&ts("01:25:50"), bob, "recover", Some(IDENTITY), "started", json!({
        "expires_in": "1h", "method": "code", "plan": ["POST /admin/recovery/code"],
        "summary": "recover began: 1 call(s) planned",
    }))
    .add(&ts("01:25:51"), bob, "recover", Some(IDENTITY), "ok", json!({
        "done": ["POST /admin/recovery/code"], "earlier_codes_remain_valid": true,
        "email_sent_by_kratos": false, "expires_at": "2026-11-25T02:25:51.000000Z",
        "expires_in": "1h", "method": "code",
        "summary": "recovery code issued, expires 2026-11-25T02:25:51.000000Z; handed over out of band; earlier codes stay valid until they expire",
        "verified": true,
    }))
    .add(&ts("01:26:00"), alice, "respond", Some(IDENTITY), "ok", json!({
        "phase": "immediate", "playbook": "account-takeover.toml (bundled)",
        "summary": "immediate phase: 6 steps done, 2 not applicable",
    }))
    .add(&ts("01:40:12"), alice, "audit-query", Some(IDENTITY), "ok", json!({
        "counts": {"events": 42, "flagged": 2, "flags": {"new-ip": 2, "password-change": 1}, "types": {"login.succeeded": 30, "password.changed": 1}},
        "database": "postgres://audit@db.internal/audit",
        "events_filter": null,
        "flagged": [
            {"id": 9912, "type": "password.changed", "time": "2026-11-25T01:01:30.000000Z", "ip": ATTACKER_IP, "user_agent": CHROME_WINDOWS, "place": "Lagos, NG", "flags": ["new-ip", "password-change"], "travel": null},
            {"id": 9907, "type": "login.succeeded", "time": "2026-11-25T00:58:12.000000Z", "ip": ATTACKER_IP, "user_agent": CHROME_WINDOWS, "place": "Lagos, NG", "flags": ["new-ip", "impossible-travel"], "travel": [{"with": 9880, "direction": "from", "km": 14060.2, "hours": 3.9, "kmh": 3605.2}]},
        ],
        "flagged_truncated": false, "max_speed_kmh": 900, "new_ips": [ATTACKER_IP],
        "output_complete": true, "travel_truncated": false,
        "window": {"from": "2026-11-18T01:40:12Z", "to": "2026-11-25T01:40:12Z", "baseline_from": "2026-10-19T01:40:12Z"},
    }))
    .add(&ts("01:41:30"), alice, "hibp-check", Some(IDENTITY), "ok", json!({
        "count": 12345, "source": "api", "verdict": "pwned",
        "summary": "password found in the Pwned Passwords corpus (12345 times, api)",
    }))
    .add(&ts("01:42:10"), alice, "pattern-scan", Some(IDENTITY), "ok", json!({
        "by": "ip", "counts": {"identities": 2, "identities_with_successful_login": 1, "ignored_user_agents": 0, "stuffing_ips": 0, "suspicious_ips": 1, "user_agents": 0},
        "database": "postgres://audit@db.internal/audit", "given_ips": [],
        "identities": [OTHER_1, OTHER_2], "identities_truncated": false, "ignored_user_agents": [],
        "ip_stats": [{"ip": ATTACKER_IP, "events": 57, "identities": 3, "logins_succeeded": 2, "logins_failed": 31, "events_without_identity": 4, "first": "2026-11-24T23:10:00.000000Z", "last": "2026-11-25T01:01:30.000000Z"}],
        "ips": [{"ip": ATTACKER_IP, "why": ["new-ip"]}], "stuffing": false, "user_agents": [],
        "window": {"from": "2026-11-18T01:42:10Z", "to": "2026-11-25T01:42:10Z", "baseline_from": "2026-10-19T01:42:10Z"},
    }));
    // The bulk revoke of both, interleaved as concurrent runs write.
    for (k, other) in [OTHER_1, OTHER_2].iter().enumerate() {
        j.add(&ts(&format!("01:45:0{}", k)), alice, "sessions", Some(other), "ok", json!({
            "complete": true, "purpose": "before revoke", "total": 1,
            "sessions": [session(&format!("e{k}000000-0000-4000-8000-000000000000"), &format!("f{k}000000-0000-4000-8000-000000000000"), OTHER_IP, CHROME_WINDOWS, "Lagos, NG", "2026-11-25T00:40:00.000000Z")],
            "summary": "1 session recorded before revoke",
        }))
        .add(&ts(&format!("01:45:0{}", k)), alice, "revoke", Some(other), "started", json!({
            "plan": [format!("DELETE /admin/identities/{other}/sessions")], "summary": "revoke began: 1 call(s) planned",
        }));
    }
    for other in [OTHER_1, OTHER_2] {
        j.add(&ts("01:45:02"), alice, "revoke", Some(other), "ok", json!({
            "delete_answer": "204 deleted", "done": [format!("DELETE /admin/identities/{other}/sessions")],
            "evidence_complete": true, "session_ids": ["x"], "sessions_deleted": 1, "sessions_ended": 1,
            "summary": "ended 1 session; none active afterwards", "verified": true,
        }));
    }
    j.add(&ts("01:45:02"), alice, "revoke", None, "ok", json!({
        "bulk": {"failed": 0, "identities": 2, "not_found": 0, "ok": 2, "sessions_ended": 2, "skipped": 0},
        "seconds": 0.031,
        "summary": "bulk revoke of 2 identities: 2 ok, 0 skipped, 0 not found, 0 failed",
    }))
    .add(&ts("02:10:00"), bob, "note", None, "ok", json!({
        "root_cause": "credential-stuffing",
        "text": "password reused from a 2019 breach of another site",
    }))
    .add(&ts("03:00:00"), bob, "incident.close", None, "ok", json!({
        "resolution": "contained; the owner set a new password",
        "summary": "incident closed: contained; the owner set a new password",
    }));
    j
}

fn incident() -> Journal {
    incident_with("Lagos, NG", "Chrome", "Lagos")
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn write(j: &Journal) -> Fixture {
    write_text(&j.text())
}

fn write_text(text: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("incident.jsonl");
    std::fs::write(&path, text).expect("write journal");
    Fixture { _dir: dir, path }
}

fn report(f: &Fixture, args: &[&str]) -> Run {
    run(atoctl_testkit::atoctl()
        .env("ATOCTL_INCIDENT", &f.path)
        .arg("report")
        .args(args))
}

/// Compares with tests/golden/report/NAME, or writes it with UPDATE_GOLDEN=1.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/report")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; create it with UPDATE_GOLDEN=1", path.display()));
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  got:      {:?}\n  expected: {:?}\n(UPDATE_GOLDEN=1 rewrites it)\n--- got ---\n{actual}",
            first + 1,
            actual.lines().nth(first),
            expected.lines().nth(first),
        );
    }
}

#[test]
fn report_team_markdown_matches_the_golden_file() {
    let f = write(&incident());
    let r = report(&f, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr, "",
        "a sound journal reports without a word on stderr"
    );
    golden("team.md", &r.stdout);
    // What the golden file holds, said as behaviour.
    let out = &r.stdout;
    assert!(out.starts_with(&format!("# Incident report: `{INCIDENT}`")));
    assert!(out.contains("**Status:** closed (contained; the owner set a new password)"));
    assert!(out.contains("**Reported:** 2026-11-25 01:10:00"));
    assert!(out.contains("**Operators:** alice, bob"));
    assert!(out.contains("**credential-stuffing**: password reused from a 2019 breach"));
    assert!(
        out.contains("No, only my iPhone."),
        "the owner's answers are in the team report"
    );
    assert!(out.contains("**pwned**"));
    assert!(out.contains(OTHER_1) && out.contains(OTHER_2));
    assert!(out.contains(ATTACKER_SESSION) && out.contains(OWNER_SESSION));
    assert!(out.contains(&incident().head()), "the head is named");
}

#[test]
fn report_team_json_matches_the_golden_file_and_has_every_section() {
    let j = incident();
    let f = write(&j);
    let r = report(&f, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    golden("team.json", &r.stdout);
    let doc = r.json();
    for key in [
        "incident",
        "identity",
        "status",
        "reported_at",
        "opened_at",
        "closed_at",
        "operators",
        "timeline",
        "actions",
        "evidence",
        "root_cause",
        "follow_ups",
        "integrity",
    ] {
        assert!(doc.get(key).is_some(), "no {key}");
    }
    assert_eq!(doc["incident"], INCIDENT);
    assert_eq!(doc["identity"], IDENTITY);
    assert_eq!(doc["status"], "closed");
    assert_eq!(doc["closed_at"], ts("03:00:00"));
    assert_eq!(doc["operators"], json!(OPERATORS));
    assert_eq!(doc["integrity"]["verified"], true);
    assert_eq!(doc["integrity"]["entries"], j.lines.len());
    assert_eq!(doc["integrity"]["head"], j.head());
    assert_eq!(doc["root_cause"][0]["cause"], "credential-stuffing");
    assert_eq!(doc["evidence"]["breached_password"]["verdict"], "pwned");
    assert_eq!(
        doc["evidence"]["other_identities"]["identities"],
        json!([OTHER_1, OTHER_2])
    );
    assert_eq!(doc["evidence"]["audit"]["new_ips"], json!([ATTACKER_IP]));
    assert_eq!(doc["evidence"]["webhooks"][0]["ip"], ATTACKER_IP);

    // The bulk revoke's six entries about the two others are one row of the timeline; every
    // other entry is a row of its own.
    let timeline = doc["timeline"].as_array().expect("timeline");
    let folded: Vec<&Value> = timeline.iter().filter(|r| r["entries"] != 1).collect();
    assert_eq!(folded.len(), 1, "{timeline:#?}");
    assert_eq!(folded[0]["entries"], 6);
    assert_eq!(folded[0]["other_identities"], 2);
    assert_eq!(timeline.len(), j.lines.len() - 5);

    // Actions: the identity's changes with their outcomes, the manual items, the others'.
    let actions = doc["actions"].as_array().expect("actions");
    let outcome = |step: &str| {
        actions
            .iter()
            .find(|a| a["step"] == step)
            .map(|a| a["outcome"].clone())
    };
    assert_eq!(outcome("lock"), Some(json!("ok")));
    assert_eq!(outcome("revoke"), Some(json!("skipped")));
    assert_eq!(outcome("recover"), Some(json!("ok")));
    assert_eq!(outcome("confirm-with-user"), Some(json!("done")));
    let others = actions
        .iter()
        .find(|a| a["about"] == "other identities")
        .expect("the others' revoke");
    assert_eq!(others["identities"], 2);
    assert_eq!(others["counts"]["ok"], 2);

    // Follow-ups: what the playbook still holds open, all overdue by now (the incident was in
    // November 2026), each with its phase; nothing done or not applicable is listed.
    let follow: Vec<(String, String, String)> = doc["follow_ups"]
        .as_array()
        .expect("follow_ups")
        .iter()
        .map(|u| {
            (
                u["step"].as_str().unwrap_or_default().to_string(),
                u["phase"].as_str().unwrap_or_default().to_string(),
                u["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let steps: Vec<&str> = follow.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(
        steps,
        [
            "restore",
            "notify-user",
            "review-downstream",
            "document",
            "mfa",
            "escalate-pattern",
            "update-playbook"
        ]
    );
    assert!(
        follow.iter().all(|(_, _, st)| st == "overdue"),
        "{follow:?}"
    );
    assert_eq!(follow[0].1, "1h");
    assert_eq!(follow[1].1, "24h");
    assert_eq!(follow[4].1, "1w");

    // `-o json` asks for the same document.
    let o = run(atoctl_testkit::atoctl()
        .env("ATOCTL_INCIDENT", &f.path)
        .args(["-o", "json", "report"]));
    assert_eq!(o.stdout, r.stdout);
}

#[test]
fn report_user_notice_matches_the_golden_files() {
    let f = write(&incident());
    let md = report(&f, &["--audience", "user"]);
    assert_eq!(md.code, 0, "{md:?}");
    golden("user.md", &md.stdout);
    let js = report(&f, &["--audience", "user", "--format", "json"]);
    assert_eq!(js.code, 0, "{js:?}");
    golden("user.json", &js.stdout);
    let doc = js.json();
    assert_eq!(doc["journal_verified"], true);
    let happened = doc["what_happened"]["summary"].as_str().unwrap_or_default();
    assert!(
        happened.starts_with("On 25 November 2026 at 00:58 UTC, someone signed in to your account from Lagos, NG, using Chrome on Windows."),
        "{happened}"
    );
    assert_eq!(doc["what_happened"]["password_breached"], true);
    let done = doc["what_was_done"].to_string();
    for said in [
        "signed your account out everywhere",
        "locked your account",
        "unlocked it",
        "old password no longer works",
        "one-time recovery code",
    ] {
        assert!(done.contains(said), "{said}: {done}");
    }
    let todo = doc["what_to_do"].to_string();
    for said in [
        "new password",
        "change it there too",
        "two-step verification",
    ] {
        assert!(todo.contains(said), "{said}: {todo}");
    }
    // The owner's own iPhone and the attacker's browser, in words.
    let devices = doc["what_happened"]["sign_ins"].to_string();
    assert!(devices.contains("Safari on an iPhone"), "{devices}");
    assert!(devices.contains("Sydney, AU"), "{devices}");
}

/// Everything in `text` that looks like a UUID, an IPv4 or IPv6 address, a long hex value
/// (hashes, tokens) or a run of six digits or more (codes).
fn suspicious(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let is_run = |c: char| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '-');
    for run in text.split(|c: char| !is_run(c)).filter(|r| !r.is_empty()) {
        let hex = run.chars().filter(char::is_ascii_hexdigit).count();
        let digits_in_a_row = run
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        let dotted = run
            .split('.')
            .filter(|g| !g.is_empty() && g.len() <= 3 && g.chars().all(|c| c.is_ascii_digit()))
            .count();
        let colons = run.matches(':').count();
        if hex >= 16
            || digits_in_a_row >= 6
            || dotted >= 4
            || (colons >= 2 && run.contains("::"))
            || colons >= 5
        {
            found.push(run.to_string());
        }
    }
    found
}

#[test]
fn report_user_notice_holds_no_id_address_operator_or_secret() {
    // The realistic incident, and one where server text carries what must not reach the owner.
    let planted = incident_with(
        &format!("Lagos, NG ({ATTACKER_IP}, 2001:db8::23)"),
        &format!("Chrome {OTHER_1}"),
        "Lagos 0b8e3c1d4f2a4e9b8c7d6a5f4e3d2c1b",
    );
    for j in [incident(), planted] {
        let f = write(&j);
        for format in ["markdown", "json"] {
            let r = report(&f, &["--audience", "user", "--format", format]);
            assert_eq!(r.code, 0, "{r:?}");
            let out = &r.stdout;
            assert!(out.contains("new password"), "{out}");
            assert_eq!(suspicious(out), Vec::<String>::new(), "{out}");
            for must_not in [
                IDENTITY,
                OTHER_1,
                OTHER_2,
                ATTACKER_SESSION,
                OWNER_SESSION,
                INCIDENT,
                ATTACKER_IP,
                OWNER_IP,
                OTHER_IP,
                "2001:db8",
                "ci_01HZX4K7D2V9M3Q8",
                "alice",
                "bob",
                "oncall",
                "credential-stuffing",
                "Example Telecom",
                "db.internal",
                "12345",
                "/admin/",
            ] {
                assert!(
                    !out.contains(must_not),
                    "{must_not} in the owner's notice:\n{out}"
                );
            }
            for line in &j.lines {
                let prev: Value = serde_json::from_str(line).expect("line");
                let p = prev["prev"].as_str().unwrap_or_default();
                assert!(!out.contains(&p[..16]), "a hash in the owner's notice");
            }
        }
    }
}

#[test]
fn report_of_an_altered_journal_says_so_first_and_exits_5() {
    let j = incident();
    // Someone rewrites history: the root cause says something else. The chain breaks on the
    // next line, whose `prev` no longer matches.
    let note = j
        .lines
        .iter()
        .position(|l| l.contains("root_cause"))
        .expect("note")
        + 1;
    let bad = note + 1;
    let text = j.text().replace(
        "\"root_cause\":\"credential-stuffing\"",
        "\"root_cause\":\"user-error\"",
    );
    assert_ne!(text, j.text());
    let f = write_text(&text);
    let r = report(&f, &[]);
    assert_eq!(r.code, 5, "{r:?}");
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "> **Warning: the journal is damaged.** Line {bad}: "
        )),
        "{first}"
    );
    assert!(
        first.contains("does not match the SHA-256 of line"),
        "{first}"
    );
    assert!(
        r.error_line().contains(&format!("line {bad}")),
        "{}",
        r.stderr
    );
    // What could be read is still there, not hidden, and not called verified.
    assert!(r.stdout.contains("user-error"));
    assert!(
        r.stdout
            .contains(&format!("**Not verified:** damaged at line {bad}"))
    );
    assert!(!r.stdout.contains("Verified: the hash chain"));

    let js = report(&f, &["--format", "json"]);
    assert_eq!(js.code, 5);
    let doc = js.json();
    assert_eq!(doc["integrity"]["verified"], false);
    assert_eq!(doc["integrity"]["damage"]["line"], bad);
    assert_eq!(doc["integrity"]["head"], Value::Null);
    assert!(
        js.stdout.trim_start().starts_with("{\n  \"integrity\""),
        "integrity comes first"
    );

    let user = report(&f, &["--audience", "user"]);
    assert_eq!(user.code, 5);
    assert!(
        user.stdout.starts_with(&format!("> **Do not send this notice yet:** the incident journal it was built from is damaged (line {bad}).")),
        "{}",
        user.stdout
    );
    let uj = report(&f, &["--audience", "user", "--format", "json"]);
    assert_eq!(uj.code, 5);
    assert_eq!(uj.json()["journal_verified"], false);
    assert_eq!(uj.json()["journal_damaged_line"], bad);
}

#[test]
fn report_of_a_torn_last_line_shows_it_and_everything_before() {
    let j = incident();
    let n = j.lines.len();
    let torn = format!("{}{{\"seq\":{n},\"ts\":\"2026-11-25T03:01:00", j.text());
    let f = write_text(&torn);
    let r = report(&f, &[]);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!(
            "> **Warning: the journal is damaged.** Line {}: the line does not end with a newline",
            n + 1
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("**line {} could not be read:**", n + 1))
    );
    assert!(
        r.stdout.contains("**credential-stuffing**"),
        "the rest is still rendered"
    );
    let doc = report(&f, &["--format", "json"]).json();
    let last = doc["timeline"]
        .as_array()
        .and_then(|t| t.last().cloned())
        .unwrap_or_default();
    assert_eq!(last["line"], n + 1);
    assert!(
        last["unreadable"]
            .as_str()
            .unwrap_or_default()
            .contains("newline")
    );
    assert_eq!(doc["integrity"]["unreadable_count"], 1);
    assert_eq!(doc["integrity"]["entries"], n);
}

#[test]
fn report_of_a_garbled_line_in_the_middle_names_it_and_renders_the_rest() {
    let j = incident();
    let mut lines: Vec<String> = j.lines.clone();
    lines[5] = "\u{1b}[2J not json at all".into();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let f = write_text(&text);
    let r = report(&f, &[]);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(
        r.stdout
            .starts_with("> **Warning: the journal is damaged.** Line 6: not a JSON object")
    );
    assert!(r.stdout.contains("**line 6 could not be read:**"));
    assert!(
        !r.stdout.contains('\u{1b}'),
        "control characters are escaped"
    );
    assert!(r.stdout.contains("**credential-stuffing**"));
    assert!(r.stdout.contains("| recover | identity | ok | yes |"));
}

#[test]
fn report_escapes_journal_text_in_both_formats() {
    let mut j = Journal::new();
    j.add(&ts("01:15:02"), "alice", "incident.open", Some(IDENTITY), "ok", json!({
        "summary": "evil \u{1b}[31mred\u{1b}[0m | <script>alert(1)</script> [x](http://e.example) \u{202e}txt.exe",
    }))
    .add(&ts("01:16:00"), "alice", "note", None, "ok", json!({
        "root_cause": "phishing\u{7}", "text": "*bold* `code`\nsecond line",
    }));
    let f = write(&j);
    for args in [&[][..], &["--format", "json"][..]] {
        let r = report(&f, args);
        assert_eq!(r.code, 0, "{r:?}");
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!r.stdout.contains(raw), "{raw:?} printed raw: {}", r.stdout);
        }
        assert!(r.stdout.contains("\\u{1b}") || r.stdout.contains("\\\\u{1b}"));
    }
    let md = report(&f, &[]).stdout;
    assert!(!md.contains("<script>"), "{md}");
    assert!(md.contains("\\<script\\>"), "{md}");
    assert!(md.contains("\\[x\\](http://e.example)"), "{md}");
    assert!(md.contains("evil \\\\u{1b}\\[31mred"), "{md}");
    // A cell's pipe does not split the table's row.
    assert!(md.contains(" \\| "), "{md}");
}

#[test]
fn report_lists_cut_off_and_failed_steps_as_open_follow_ups() {
    let mut j = Journal::new();
    j.add(
        &ts("01:15:02"),
        "alice",
        "incident.open",
        Some(IDENTITY),
        "ok",
        json!({
            "resolved_from": {"identifier": "owner@example.com", "by": "GET /admin/identities?credentials_identifier= (exact match)"},
        }),
    )
    .add(
        &ts("01:15:04"),
        "alice",
        "revoke",
        Some(IDENTITY),
        "started",
        json!({
            "plan": [format!("DELETE /admin/identities/{IDENTITY}/sessions")],
            "summary": "revoke began: 1 call(s) planned",
        }),
    )
    .add(
        &ts("01:15:09"),
        "alice",
        "disable-password",
        Some(IDENTITY),
        "failed",
        json!({
            "summary": "stopped: PUT answered 500", "verified": false,
            "error": "PUT /admin/identities/x: 500 Internal Server Error",
        }),
    );
    let f = write(&j);
    let r = report(&f, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["status"], "open");
    assert_eq!(doc["closed_at"], Value::Null);
    assert_eq!(doc["resolved_from"], "owner@example.com");
    let status = |step: &str| {
        doc["follow_ups"]
            .as_array()
            .and_then(|f| f.iter().find(|u| u["step"] == step))
            .map(|u| u["status"].clone())
    };
    assert_eq!(status("revoke"), Some(json!("in progress")));
    assert_eq!(status("disable-password"), Some(json!("failed")));
    assert_eq!(status("confirm-with-user"), Some(json!("overdue")));
    let actions = doc["actions"].as_array().expect("actions");
    assert_eq!(actions[0]["step"], "revoke");
    assert_eq!(actions[0]["outcome"], "cut off");
    assert_eq!(actions[1]["outcome"], "failed");
    assert_eq!(
        actions[1]["error"],
        "PUT /admin/identities/x: 500 Internal Server Error"
    );

    let md = report(&f, &[]).stdout;
    assert!(md.contains("| Contain (immediate) | `revoke`: End every session, recording devices first | in progress |"), "{md}");
    assert!(md.contains("Not recorded yet"), "no root cause yet: {md}");
    assert!(
        md.contains(&format!(
            "**Identity:** `{IDENTITY}` (found by owner@example.com)"
        )),
        "{md}"
    );
}

#[test]
fn report_without_a_journal_is_a_usage_error() {
    let r = run(atoctl_testkit::atoctl().arg("report"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("no incident journal given"));
    assert!(r.error_line().contains("ATOCTL_INCIDENT"));
    assert_eq!(r.stdout, "");

    let missing =
        run(atoctl_testkit::atoctl().args(["report", "--incident", "/nonexistent/j.jsonl"]));
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.error_line().contains("cannot read journal"));
    assert_eq!(missing.stdout, "");
}
