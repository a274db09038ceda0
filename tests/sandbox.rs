//! The drill's sandbox (`atoctl::sandbox`), driven by the atoctl binary as `atoctl drill`
//! drives it: the seeded story is what atoctl's steps see, the immediate phase contains it,
//! and the audit trail in a scratch schema is what audit-query and pattern-scan read.

mod audit_support;

use std::collections::BTreeSet;

use atoctl::sandbox::{
    ATTACKER_IP, ATTACKER_LOCATION, AuditTrail, OWNER_EMAIL, OWNER_IP, OWNER_LOCATION,
    PasswordLogin, Sandbox,
};
use audit_support::{TestDb, psql};
use secrecy::ExposeSecret;
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// atoctl pointed at the sandbox (Kratos and Hydra), with a journal in a scratch directory.
fn atoctl(sandbox: &Sandbox, dir: &tempfile::TempDir) -> assert_cmd::Command {
    let mut c = atoctl_testkit::atoctl();
    c.current_dir(dir.path())
        .env("KRATOS_ADMIN_URL", sandbox.kratos_url())
        .env("HYDRA_ADMIN_URL", sandbox.hydra_url())
        .env("ATOCTL_INCIDENT", dir.path().join("incident.jsonl"));
    c
}

fn run(cmd: &mut assert_cmd::Command) -> Run {
    let out = cmd.output().expect("atoctl runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(cmd: &mut assert_cmd::Command) -> Run {
    let r = run(cmd);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).expect("one JSON document on stdout")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Whether the database has a schema of that name.
fn schema_exists(db: &TestDb, schema: &str) -> bool {
    db.sql(&format!(
        "SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"
    ))
    .trim()
        == "1"
}

#[test]
fn atoctl_sees_the_owner_and_the_attacker_session() {
    let sandbox = Sandbox::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = ok(atoctl(&sandbox, &dir).args(["sessions", "--identity", OWNER_EMAIL]));
    for shown in [OWNER_IP, ATTACKER_IP, OWNER_LOCATION, ATTACKER_LOCATION] {
        assert!(table.stdout.contains(shown), "{shown}: {}", table.stdout);
    }
    let doc = json(&ok(atoctl(&sandbox, &dir).args([
        "sessions",
        "--identity",
        OWNER_EMAIL,
        "-o",
        "json",
    ])));
    let ips: BTreeSet<&str> = doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["devices"][0]["ip_address"].as_str().unwrap())
        .collect();
    assert_eq!(ips, BTreeSet::from([OWNER_IP, ATTACKER_IP]));
    assert_eq!(doc["complete"], true);
}

#[test]
fn the_immediate_phase_contains_the_sandboxed_takeover() {
    let sandbox = Sandbox::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = sandbox.identity().to_string();
    assert_eq!(sandbox.consents(&id), 1);

    ok(atoctl(&sandbox, &dir).args(["revoke", "--identity", OWNER_EMAIL, "--yes"]));
    assert_eq!(sandbox.active_sessions(&id), 0);
    assert_eq!(
        sandbox.consents(&id),
        0,
        "the attacker's OAuth2 grant is revoked"
    );
    assert_eq!(sandbox.oauth2_tokens(&id), 0);
    assert_eq!(
        sandbox.hydra_logouts(),
        [sandbox.hydra_login_session().to_string()],
        "the attacker's Hydra login session is logged out by sid"
    );
    for other in sandbox.others() {
        assert_eq!(sandbox.active_sessions(other), 2, "others are untouched");
    }

    ok(atoctl(&sandbox, &dir).args(["disable-password", "--identity", &id, "--yes"]));
    assert_eq!(sandbox.password_login(), PasswordLogin::Rejected);
    assert_eq!(
        sandbox.active_sessions(&id),
        0,
        "the refused login made none"
    );

    assert_eq!(sandbox.recovery_codes_issued(&id), 0);
    ok(atoctl(&sandbox, &dir).args([
        "recover",
        "--identity",
        &id,
        "--method",
        "code",
        "--expires-in",
        "1h",
        "--yes",
    ]));
    assert_eq!(sandbox.recovery_codes_issued(&id), 1);

    let password = sandbox.password().expose_secret().to_string();
    let hibp = run(atoctl(&sandbox, &dir)
        .args(["hibp-check", "--stdin", "--api-url", &sandbox.hibp_url()])
        .write_stdin(format!("{password}\n")));
    assert_eq!(hibp.code, 4, "in the corpus: {}", hibp.stderr);
    assert!(!format!("{}{}", hibp.stdout, hibp.stderr).contains(&password));
    let journal = std::fs::read_to_string(dir.path().join("incident.jsonl")).unwrap();
    assert!(!journal.contains(&password));
}

#[test]
fn audit_query_and_pattern_scan_read_the_scratch_schema() {
    let db = TestDb::empty();
    let sandbox = Sandbox::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let trail = rt.block_on(AuditTrail::seed(&db.url(), &sandbox)).unwrap();
    let schema = trail.schema().to_string();
    assert!(schema.starts_with("atoctl_drill_"), "{schema}");
    assert!(schema_exists(&db, &schema));
    // The database's default schema has no audit table: atoctl reads the scratch schema's.
    assert_eq!(
        db.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'security_audit'")
            .trim(),
        "1"
    );

    let doc = json(&ok(atoctl(&sandbox, &dir)
        .env("ATOCTL_DATABASE_URL", trail.database_url())
        .args([
            "audit-query",
            "--identity",
            OWNER_EMAIL,
            "--since",
            "2d",
            "-o",
            "json",
        ])));
    let events = doc["events"].as_array().unwrap();
    let flags = |e: &Value| -> BTreeSet<String> {
        e["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    };
    let attacker_login = events
        .iter()
        .find(|e| e["type"] == "login.succeeded" && e["ip"] == ATTACKER_IP)
        .expect("the attacker's login is in the window");
    let f = flags(attacker_login);
    assert!(
        f.contains("new-ip") && f.contains("impossible-travel"),
        "{f:?}"
    );
    let consent = events
        .iter()
        .find(|e| e["type"] == "oauth2.consent.granted")
        .expect("the grant is in the window");
    assert!(flags(consent).contains("oauth2-grant"));
    let settings = events
        .iter()
        .find(|e| e["type"] == "settings.changed")
        .expect("the settings change is in the window");
    assert!(flags(settings).contains("settings-change"));
    for e in events.iter().filter(|e| e["ip"] == OWNER_IP) {
        assert!(
            !flags(e).contains("new-ip"),
            "the owner's IP is familiar: {e}"
        );
    }

    let scan = ok(atoctl(&sandbox, &dir)
        .env("ATOCTL_DATABASE_URL", trail.database_url())
        .args([
            "pattern-scan",
            "--identity",
            OWNER_EMAIL,
            "--since",
            "2d",
            "-o",
            "ids",
        ]));
    let found: BTreeSet<&str> = scan.stdout.lines().collect();
    let others: BTreeSet<&str> = sandbox.others().iter().map(String::as_str).collect();
    assert_eq!(found, others);

    // The drill's next step: end the sessions of the identities the scan found.
    ok(atoctl(&sandbox, &dir)
        .args(["revoke", "--stdin", "--yes"])
        .write_stdin(scan.stdout.clone()));
    for other in sandbox.others() {
        assert_eq!(sandbox.active_sessions(other), 0);
    }

    rt.block_on(trail.remove()).unwrap();
    assert!(!schema_exists(&db, &schema));
}

#[test]
fn a_dropped_trail_takes_its_schema_along() {
    let db = TestDb::empty();
    let sandbox = Sandbox::start().unwrap();
    let rt = runtime();
    // Dropped inside the runtime that seeded it (an error path of the drill) ...
    let schema = rt.block_on(async {
        let trail = AuditTrail::seed(&db.url(), &sandbox).await.unwrap();
        trail.schema().to_string()
    });
    assert!(!schema_exists(&db, &schema));
    // ... and outside any runtime.
    let trail = rt.block_on(AuditTrail::seed(&db.url(), &sandbox)).unwrap();
    let schema = trail.schema().to_string();
    assert!(schema_exists(&db, &schema));
    let rows = psql(
        &db.url(),
        &format!("SELECT count(*) FROM {schema}.security_audit"),
    );
    assert!(rows.trim().parse::<u32>().unwrap() > 10, "{rows}");
    drop(trail);
    assert!(!schema_exists(&db, &schema));
}

/// A login role for one test, dropped at the end (roles are the whole server's).
struct Role<'a> {
    db: &'a TestDb,
    name: String,
}

impl Drop for Role<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args(["-X", "-q", &self.db.url(), "-c"])
            .arg(format!("DROP ROLE IF EXISTS {}", self.name))
            .output();
    }
}

#[test]
fn a_failed_seed_leaves_no_schema() {
    let db = TestDb::empty();
    let sandbox = Sandbox::start().unwrap();
    // A user that may connect but not create schemas (PUBLIC has no CREATE on a database):
    // the seed fails with a message naming the step, and leaves no schema behind.
    let role = Role {
        db: &db,
        name: format!("{}_reader", db.name),
    };
    db.sql(&format!("CREATE ROLE {} LOGIN", role.name));
    let url = db
        .url()
        .replacen("postgres@", &format!("{}@", role.name), 1);
    assert_ne!(url, db.url());
    let err = runtime()
        .block_on(AuditTrail::seed(&url, &sandbox))
        .unwrap_err();
    assert!(err.message.contains("scratch schema"), "{}", err.message);
    assert!(err.message.contains("permission denied"), "{}", err.message);
    assert!(
        err.hint.as_deref().is_some_and(|h| h.contains("CREATE")),
        "{:?}",
        err.hint
    );
    assert_eq!(
        db.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'atoctl\\_drill\\_%'")
            .trim(),
        "0"
    );
}
