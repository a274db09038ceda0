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

/// The impossible pairs as the previous implementation computed them, in SQL (a window function
/// over every located event of the window plus the last located one before it): the reference
/// atoctl's streaming computation must match, across fetch batches and gaps of unlocated rows.
fn sql_travel_pairs(db: &TestDb, identity: &str) -> Vec<(i64, i64, f64)> {
    let located = "CASE WHEN jsonb_typeof(e.metadata->'geo'->'lat') = 'number'
         AND jsonb_typeof(e.metadata->'geo'->'lon') = 'number'
         THEN (e.metadata->'geo'->'lat')::numeric BETWEEN -90 AND 90
          AND (e.metadata->'geo'->'lon')::numeric BETWEEN -180 AND 180 ELSE false END";
    let out = db.sql(&format!(
        "WITH located AS (
  SELECT e.id, e.created_at, (e.metadata->'geo'->'lat')::float8 AS lat, (e.metadata->'geo'->'lon')::float8 AS lon
  FROM security_audit e
  WHERE e.identity_id = '{identity}' AND e.created_at >= now() - interval '24 hours' AND {located}
  UNION ALL
  (SELECT e.id, e.created_at, (e.metadata->'geo'->'lat')::float8, (e.metadata->'geo'->'lon')::float8
   FROM security_audit e
   WHERE e.identity_id = '{identity}' AND e.created_at >= now() - interval '24 hours' - interval '30 days'
     AND e.created_at < now() - interval '24 hours' AND {located}
   ORDER BY e.created_at DESC, e.id DESC LIMIT 1)
), pairs AS (
  SELECT lag(id) OVER t AS prev_id, id, lag(created_at) OVER t AS prev_at, created_at,
         lat, lon, lag(lat) OVER t AS prev_lat, lag(lon) OVER t AS prev_lon
  FROM located WINDOW t AS (ORDER BY created_at, id)
), legs AS (
  SELECT prev_id, id, extract(epoch FROM created_at - prev_at)::float8 AS secs,
         2 * 6371.0088 * asin(least(1.0, sqrt(
           power(sin(radians(lat - prev_lat) / 2), 2)
           + cos(radians(lat)) * cos(radians(prev_lat)) * power(sin(radians(lon - prev_lon) / 2), 2)))) AS km
  FROM pairs WHERE prev_id IS NOT NULL
)
SELECT prev_id, id, round(km::numeric, 1) FROM legs
WHERE km > 50 AND (secs <= 0 OR km * 3600.0 / secs > 1000)
ORDER BY id"
    ));
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

/// Every leg of every event of an audit-query document: (event, with, direction, km).
fn legs_of(doc: &Value) -> Vec<(i64, i64, String, f64)> {
    let mut legs = Vec::new();
    for e in doc["events"].as_array().unwrap() {
        let id = e["id"].as_i64().unwrap();
        let travel = e["travel"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            flags(e).contains(&"impossible-travel".to_string()),
            !travel.is_empty(),
            "{e}"
        );
        for l in travel {
            legs.push((
                id,
                l["with"].as_i64().unwrap(),
                l["direction"].as_str().unwrap().to_string(),
                l["km"].as_f64().unwrap(),
            ));
        }
    }
    legs.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    legs
}

#[test]
fn audit_query_travel_matches_sql_across_batches_and_long_unlocated_gaps() {
    let db = TestDb::with_schema();
    let who = "99999999-0000-4000-8000-000000000001";
    // 20,000 events 4 s apart: Paris, New York, near Paris, an unlocated geo, over and over,
    // except for 17,300 events with an unusable geo from the end of the first fetch batch (256
    // rows) on, longer than the second batch (at most 16,384 rows): the event before them waits
    // through a whole batch, then the search for its partner reads them page by page. And one
    // located event in the baseline (Tokyo, 2 h before the window).
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, created_at, metadata)
         SELECT '{who}', CASE WHEN k % 3 = 0 THEN 'login.failed' ELSE 'login.succeeded' END,
                '192.0.2.1', now() - k * interval '4 seconds',
                CASE WHEN k BETWEEN 200 AND 17500 THEN '{{\"geo\": \"somewhere\"}}'::jsonb
                     WHEN k % 4 = 0 THEN '{{\"geo\": {{\"lat\": 48.8566, \"lon\": 2.3522}}}}'::jsonb
                     WHEN k % 4 = 1 THEN '{{\"geo\": {{\"lat\": 40.7128, \"lon\": -74.006}}}}'::jsonb
                     WHEN k % 4 = 2 THEN '{{\"geo\": {{\"lat\": 48.9, \"lon\": 2.4}}}}'::jsonb
                     ELSE '{{\"geo\": {{\"lat\": \"48\", \"lon\": 2}}}}'::jsonb END
         FROM generate_series(1, 20000) k;
         INSERT INTO security_audit (identity_id, event_type, source_ip, created_at, metadata)
         VALUES ('{who}', 'login.succeeded', '192.0.2.1', now() - interval '26 hours',
                 '{{\"geo\": {{\"lat\": 35.6762, \"lon\": 139.6503}}}}');"
    ));
    let pairs = sql_travel_pairs(&db, who);
    assert!(
        pairs.len() > 300,
        "the scenario has many impossible pairs: {}",
        pairs.len()
    );
    let mut expected: Vec<(i64, i64, String, f64)> = Vec::new();
    for (prev, id, km) in &pairs {
        expected.push((*id, *prev, "from".into(), *km));
        expected.push((*prev, *id, "to".into(), *km));
    }
    let doc = json_of(&db, &["audit-query", "--identity", who]);
    assert_eq!(doc["counts"]["events"], 20000);
    let window_ids: std::collections::HashSet<i64> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let mut in_window: Vec<_> = expected
        .iter()
        .filter(|l| window_ids.contains(&l.0))
        .cloned()
        .collect();
    in_window.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    assert_eq!(legs_of(&doc), in_window);
    assert!(
        in_window.iter().any(|l| !window_ids.contains(&l.1)),
        "the oldest located event of the window pairs with the one in the baseline"
    );

    // With --event, only login.failed events are shown, paired with every located event.
    let doc = json_of(
        &db,
        &["audit-query", "--identity", who, "--event", "login.failed"],
    );
    assert_eq!(doc["counts"]["events"], 6666);
    let shown: std::collections::HashSet<i64> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let mut filtered: Vec<_> = expected
        .iter()
        .filter(|l| shown.contains(&l.0))
        .cloned()
        .collect();
    filtered.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    assert!(!filtered.is_empty());
    assert_eq!(legs_of(&doc), filtered);
}

#[test]
fn audit_query_shows_addresses_as_postgresql_host_does() {
    let db = TestDb::with_schema();
    let who = "99999999-0000-4000-8000-000000000002";
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, created_at)
         SELECT '{who}', 'login.succeeded', ip::inet, now() - k * interval '1 minute'
         FROM unnest(ARRAY['::1.2.3.4', '::ffff:10.1.2.3', '10.1.2.3/8', '2001:db8:0:0:1:0:0:1',
                           '::5:6', '::ffff:ffff', '2001:DB8::0001', '0.0.0.0', NULL])
              WITH ORDINALITY AS t(ip, k);"
    ));
    let pg: Vec<String> = db
        .sql(&format!(
            "SELECT coalesce(host(source_ip), '-') FROM security_audit WHERE identity_id = '{who}'
             ORDER BY created_at DESC, id DESC"
        ))
        .lines()
        .map(str::to_string)
        .collect();
    let doc = json_of(&db, &["audit-query", "--identity", who]);
    let shown: Vec<String> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ip"].as_str().unwrap_or("-").to_string())
        .collect();
    assert_eq!(shown, pg);
    let mut new_ips: Vec<String> = pg.into_iter().filter(|ip| ip != "-").collect();
    new_ips.sort();
    assert_eq!(doc["new_ips"], serde_json::json!(new_ips));
}

/// The events of an audit-query document: (type, time).
fn types_and_times(doc: &Value) -> Vec<(String, String)> {
    doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["time"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn audit_query_from_alone_reaches_up_to_now() {
    let db = TestDb::with_schema();
    let who = "99999999-0000-4000-8000-000000000003";
    // Before the window, in it (the newest a second ago), and an hour in the future (a clock
    // that runs ahead): --from alone means up to now, not without end.
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, created_at) VALUES
         ('{who}', 'login.failed', '192.0.2.1', now() - interval '3 days'),
         ('{who}', 'password.changed', '192.0.2.1', now() - interval '2 hours'),
         ('{who}', 'login.succeeded', '192.0.2.1', now() - interval '1 second'),
         ('{who}', 'session.revoked', '192.0.2.1', now() + interval '1 hour');"
    ));
    let from = db.sql("SELECT to_char((now() - interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    let before: jiff::Timestamp = jiff::Timestamp::now();
    let doc = json_of(
        &db,
        &["audit-query", "--identity", who, "--from", from.trim()],
    );
    let after = jiff::Timestamp::now();
    let types: Vec<String> = types_and_times(&doc).into_iter().map(|(t, _)| t).collect();
    assert_eq!(types, ["login.succeeded", "password.changed"]);
    assert_eq!(doc["window"]["from"], from.trim());
    let to: jiff::Timestamp = doc["window"]["to"].as_str().unwrap().parse().unwrap();
    assert!(
        before <= to && to <= after,
        "the window ends when atoctl ran: {to}"
    );
}

#[test]
fn audit_query_from_a_date_to_now() {
    let db = TestDb::with_schema();
    let who = "99999999-0000-4000-8000-000000000004";
    // A date is its midnight UTC: the last microsecond of the day before is outside.
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, created_at) VALUES
         ('{who}', 'login.failed', '192.0.2.1', '2026-11-23T23:59:59.999999Z'),
         ('{who}', 'login.succeeded', '192.0.2.1', '2026-11-24T00:00:00Z'),
         ('{who}', 'password.changed', '192.0.2.1', now() - interval '1 minute'),
         ('{who}', 'session.revoked', '192.0.2.1', now() + interval '1 hour');"
    ));
    let doc = json_of(
        &db,
        &[
            "audit-query",
            "--identity",
            who,
            "--from",
            "2026-11-24",
            "--to",
            "now",
        ],
    );
    assert_eq!(doc["window"]["from"], "2026-11-24T00:00:00Z");
    assert_eq!(doc["window"]["baseline_from"], "2026-10-25T00:00:00Z");
    let events = types_and_times(&doc);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, "password.changed");
    assert_eq!(
        events[1],
        (
            "login.succeeded".to_string(),
            "2026-11-24T00:00:00.000000Z".to_string()
        )
    );
}

#[test]
fn audit_query_to_alone_is_a_usage_error_that_says_to_add_from() {
    let db = TestDb::with_schema();
    let out = db
        .atoctl()
        .args([
            "audit-query",
            "--identity",
            TARGET,
            "--to",
            "2026-11-25T00:00:00Z",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.starts_with("atoctl: error: --to needs a start: add --from TIME"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
