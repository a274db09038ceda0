//! `atoctl pattern-scan` against a real PostgreSQL: who else was hit, with known answers.

mod audit_support;

use audit_support::*;
use serde_json::Value;

fn ids(db: &TestDb, args: &[&str]) -> Vec<String> {
    let out = db.atoctl().args(args).args(["-o", "ids"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn pattern_scan_finds_the_victims_in_the_window_and_not_the_home_ip_sharer() {
    let db = TestDb::with_schema();
    takeover(&db);
    assert_eq!(
        ids(&db, &["pattern-scan", "--identity", TARGET]),
        [VICTIM_IN, VICTIM_FAILED],
        "not the target, not the victim before the window, not the home-IP sharer, not the null identity"
    );
}

#[test]
fn pattern_scan_json_counts_rows_without_identity_in_ip_stats_only() {
    let db = TestDb::with_schema();
    takeover(&db);
    let out = db
        .atoctl()
        .args(["pattern-scan", "--identity", TARGET, "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let seeds: Vec<&str> = doc["suspicious_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ip"].as_str().unwrap())
        .collect();
    assert_eq!(seeds, [ATTACKER_IP, ATTACKER_IP6]);
    let stats = doc["ip_stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ip"] == ATTACKER_IP)
        .unwrap();
    assert_eq!(stats["events_without_identity"], 1);
    assert_eq!(stats["identities"], 3, "target and two victims");
    assert_eq!(stats["logins_failed"], 3);
    let idents = doc["identities"].as_array().unwrap();
    assert_eq!(idents.len(), 2);
    assert_eq!(idents[0]["identity"], VICTIM_IN, "successful logins first");
    assert_eq!(idents[0]["logins_succeeded"], 1);
    assert_eq!(idents[1]["logins_failed"], 2);
    assert_eq!(idents[1]["shared_ips"], serde_json::json!([ATTACKER_IP]));
    assert_eq!(doc["counts"]["identities"], 2);
}

#[test]
fn pattern_scan_by_ip_alone_serves_an_alert_that_names_an_address() {
    let db = TestDb::with_schema();
    takeover(&db);
    assert_eq!(
        ids(&db, &["pattern-scan", "--ip", ATTACKER_IP]),
        [TARGET, VICTIM_IN, VICTIM_FAILED]
    );
}

#[test]
fn pattern_scan_by_user_agent_finds_rare_agents_and_ignores_common_ones() {
    let db = TestDb::with_schema();
    takeover(&db);
    // 25 identities used the common agent during the baseline; the attacker used it too.
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at)
         SELECT md5('common' || i)::uuid, 'login.succeeded', '192.0.2.1', 'Common/1.0', now() - interval '5 days'
         FROM generate_series(1, 25) i;
         INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at)
         VALUES ('{TARGET}', 'login.succeeded', '{ATTACKER_IP}', 'Common/1.0', now() - interval '100 minutes'),
                ('eeeeeeee-0000-4000-8000-000000000001', 'login.succeeded', '192.0.2.9', 'Common/1.0', now() - interval '10 minutes');"
    ));
    let found = ids(&db, &["pattern-scan", "--identity", TARGET, "--by", "ua"]);
    assert_eq!(found, [VICTIM_IN, VICTIM_FAILED, UA_VICTIM]);
    let both = ids(&db, &["pattern-scan", "--identity", TARGET, "--by", "both"]);
    assert_eq!(both, [VICTIM_IN, VICTIM_FAILED, UA_VICTIM]);
    let out = db
        .atoctl()
        .args([
            "pattern-scan",
            "--identity",
            TARGET,
            "--by",
            "ua",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ignored_user_agents"][0]["user_agent"], "Common/1.0");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ignoring user agent"));
}

#[test]
fn pattern_scan_stuffing_view_needs_min_identities() {
    let db = TestDb::with_schema();
    db.sql(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, created_at)
         SELECT md5('s' || i)::uuid, 'login.failed', '203.0.113.99', now() - interval '1 hour'
         FROM generate_series(1, 6) i;
         INSERT INTO security_audit (identity_id, event_type, source_ip, created_at)
         VALUES (md5('s1')::uuid, 'login.succeeded', '203.0.113.99', now() - interval '30 minutes'),
                (NULL, 'login.failed', '203.0.113.99', now() - interval '30 minutes');",
    );
    let out = db
        .atoctl()
        .args(["pattern-scan", "--stuffing", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stuffing"][0]["ip"], "203.0.113.99");
    assert_eq!(doc["stuffing"][0]["identities"], 6);
    assert_eq!(doc["stuffing"][0]["failed_without_identity"], 1);
    assert_eq!(doc["counts"]["identities"], 6);
    assert_eq!(doc["counts"]["identities_with_successful_login"], 1);
    let out = db
        .atoctl()
        .args([
            "pattern-scan",
            "--stuffing",
            "--min-identities",
            "7",
            "--blocklist",
            "plain",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn pattern_scan_blocklists_carry_only_the_list() {
    let db = TestDb::with_schema();
    takeover(&db);
    let list = |f: &str| {
        let out = db
            .atoctl()
            .args(["pattern-scan", "--identity", TARGET, "--blocklist", f])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(list("plain"), format!("{ATTACKER_IP}\n{ATTACKER_IP6}\n"));
    let nginx = list("nginx");
    assert!(nginx.contains(&format!("deny {ATTACKER_IP};\ndeny {ATTACKER_IP6};\n")));
    assert!(list("caddy").contains(&format!("remote_ip {ATTACKER_IP} {ATTACKER_IP6}\n")));
    let cf: Value = serde_json::from_str(&list("cloudflare")).unwrap();
    assert_eq!(cf[0]["ip"], ATTACKER_IP);
    assert_eq!(cf[1]["ip"], "2001:db8:66::/64");
}

#[test]
fn pattern_scan_records_ips_identities_and_counts() {
    let db = TestDb::with_schema();
    takeover(&db);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    db.atoctl()
        .args(["incident", "open", "--identity", TARGET, "--incident"])
        .arg(&journal)
        .assert()
        .success();
    db.atoctl()
        .args([
            "pattern-scan",
            "--identity",
            TARGET,
            "-o",
            "ids",
            "--incident",
        ])
        .arg(&journal)
        .assert()
        .success();
    let text = std::fs::read_to_string(&journal).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["step"], "pattern-scan");
    assert_eq!(last["ips"][0]["ip"], ATTACKER_IP);
    assert_eq!(last["identities"].as_array().unwrap().len(), 2);
    assert_eq!(last["counts"]["identities"], 2);
}
