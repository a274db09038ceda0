//! `atoctl audit-query` against a real PostgreSQL: a takeover scenario with known answers.

mod audit_support;

use audit_support::*;
use serde_json::Value;

fn json_of(db: &TestDb, args: &[&str]) -> Value {
    let out = db
        .atoctl()
        .args(args)
        .arg("-o")
        .arg("json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn flags(e: &Value) -> Vec<String> {
    e["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn audit_query_flags_the_takeover_newest_first() {
    let db = TestDb::with_schema();
    takeover(&db);
    let doc = json_of(&db, &["audit-query", "--identity", TARGET]);
    let events = doc["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "session.revoked",
            "mfa.removed",
            "oauth2.consent.granted",
            "email.changed",
            "password.changed",
            "login.succeeded",
            "login.succeeded"
        ],
        "the window's events, newest first (baseline events excluded)"
    );
    assert_eq!(
        flags(&events[0]),
        Vec::<String>::new(),
        "home IP is familiar"
    );
    assert_eq!(flags(&events[1]), ["mfa-change"], "no IP: never new-ip");
    assert_eq!(
        flags(&events[2]),
        ["new-ip", "oauth2-grant"],
        "geo as strings is ignored"
    );
    assert_eq!(
        flags(&events[3]),
        ["new-ip", "email-change"],
        "IPv6, out-of-range geo ignored"
    );
    assert_eq!(flags(&events[4]), ["new-ip", "password-change"]);
    assert_eq!(
        flags(&events[5]),
        ["new-ip", "impossible-travel"],
        "Paris to New York in 30 min"
    );
    assert_eq!(
        flags(&events[6]),
        ["impossible-travel"],
        "both ends of the pair are flagged"
    );
    let leg = &events[5]["travel"][0];
    assert_eq!(leg["direction"], "from");
    assert_eq!(leg["with"], events[6]["id"]);
    let km = leg["km"].as_f64().unwrap();
    assert!(
        (5800.0..5900.0).contains(&km),
        "great-circle Paris–New York, got {km}"
    );
    assert_eq!(events[3]["user_agent"], "odd\u{1b}[31m agent\u{7} ☃");
    assert_eq!(events[1]["metadata"], Value::Null);
    assert_eq!(doc["counts"]["events"], 7);
    assert_eq!(doc["counts"]["flagged"], 6);
    assert_eq!(doc["counts"]["flags"]["new-ip"], 4);
    assert_eq!(doc["counts"]["flags"]["impossible-travel"], 2);
    assert_eq!(
        doc["new_ips"],
        serde_json::json!([ATTACKER_IP6, ATTACKER_IP])
    );
}

#[test]
fn audit_query_event_filter_keeps_travel_pairs_from_all_events() {
    let db = TestDb::with_schema();
    takeover(&db);
    let doc = json_of(
        &db,
        &[
            "audit-query",
            "--identity",
            TARGET,
            "--event",
            "login.succeeded",
            "--event",
            "password.changed",
        ],
    );
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(flags(&events[1]), ["new-ip", "impossible-travel"]);
}

#[test]
fn audit_query_window_from_to_and_baseline() {
    let db = TestDb::with_schema();
    takeover(&db);
    // A window around the 2-days-ago login only; with a 1-day baseline the home IP is new.
    let from = db.sql("SELECT to_char((now() - interval '2 days 1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    let to = db.sql("SELECT to_char((now() - interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    let doc = json_of(
        &db,
        &[
            "audit-query",
            "--identity",
            TARGET,
            "--from",
            from.trim(),
            "--to",
            to.trim(),
            "--baseline",
            "1d",
        ],
    );
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(flags(&events[0]), ["new-ip"]);
    let doc = json_of(
        &db,
        &[
            "audit-query",
            "--identity",
            TARGET,
            "--from",
            from.trim(),
            "--to",
            to.trim(),
        ],
    );
    assert_eq!(
        flags(&doc["events"][0]),
        Vec::<String>::new(),
        "seen 10 days ago"
    );
}

#[test]
fn audit_query_table_marks_flagged_rows_and_shortens_agents() {
    let db = TestDb::with_schema();
    takeover(&db);
    let out = db
        .atoctl()
        .args(["audit-query", "--identity", TARGET])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let flagged = text.lines().filter(|l| l.starts_with('!')).count();
    assert_eq!(flagged, 6, "{text}");
    assert!(text.contains("…"), "the long agent is shortened: {text}");
    assert!(
        !text.contains('\u{1b}'),
        "no raw escape sequence reaches the terminal"
    );
    assert!(text.contains("odd\\u{1b}[31m agent"), "{text}");
    assert!(text.contains("7 event(s); 6 flagged"), "{text}");
}

#[test]
fn audit_query_records_window_counts_and_flagged_events_in_the_journal() {
    let db = TestDb::with_schema();
    takeover(&db);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    db.atoctl()
        .args(["incident", "open", "--identity", TARGET, "--incident"])
        .arg(&journal)
        .assert()
        .success();
    db.atoctl()
        .args([
            "audit-query",
            "--identity",
            TARGET,
            "-o",
            "json",
            "--incident",
        ])
        .arg(&journal)
        .assert()
        .success();
    let text = std::fs::read_to_string(&journal).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["step"], "audit-query");
    assert_eq!(last["identity"], TARGET);
    assert_eq!(last["outcome"], "ok");
    assert!(last["window"]["from"].is_string());
    assert_eq!(last["counts"]["events"], 7);
    assert_eq!(last["flagged"].as_array().unwrap().len(), 6);
    assert_eq!(last["flagged"][0]["type"], "mfa.removed");
    db.atoctl()
        .args(["incident", "verify", "--incident"])
        .arg(&journal)
        .assert()
        .success();
}

#[test]
fn audit_query_with_no_events_says_so() {
    let db = TestDb::with_schema();
    let out = db
        .atoctl()
        .args(["audit-query", "--identity", VICTIM_OUTSIDE])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no events of"));
}
