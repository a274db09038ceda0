//! Bad input and broken databases: each a clear one-line error with the contract's exit code,
//! never a panic; and the database access rules (read-only, TLS, URL fallbacks, dry run).

mod audit_support;

use audit_support::*;

/// Runs atoctl, checks the exit code and that stderr is exactly one `atoctl: error:` line
/// containing `needle`.
fn fails(cmd: &mut assert_cmd::Command, code: i32, needle: &str) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("atoctl: warning"))
        .collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].starts_with("atoctl: error: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn atoctl_with_url(url: &str) -> assert_cmd::Command {
    let mut c = atoctl_testkit::atoctl();
    c.env("ATOCTL_DATABASE_URL", url);
    c
}

const ID: &str = "aaaaaaaa-0000-4000-8000-000000000001";

#[test]
fn invalid_input_is_refused_before_connecting() {
    // Port 1: nothing listens; exit 2 proves nothing was tried.
    let url = "postgres://postgres@127.0.0.1:1/nowhere";
    let aq = |args: &[&str]| {
        let mut c = atoctl_with_url(url);
        c.arg("audit-query").args(args);
        c
    };
    // A login identifier is looked up in Kratos: without its URL that is a usage error too;
    // a cut UUID is never taken for a login identifier.
    fails(
        &mut aq(&["--identity", "not-a-uuid"]),
        2,
        "needs the Kratos admin URL",
    );
    fails(&mut aq(&["--identity", "5f1c2a9e"]), 2, "is not a UUID");
    fails(
        &mut aq(&["--identity", ID, "--since", "soon"]),
        2,
        "--since",
    );
    fails(
        &mut aq(&["--identity", ID, "--baseline", "0d"]),
        2,
        "--baseline",
    );
    fails(
        &mut aq(&[
            "--identity",
            ID,
            "--from",
            "yesterday",
            "--to",
            "2026-01-01T00:00:00Z",
        ]),
        2,
        "RFC 3339",
    );
    fails(
        &mut aq(&[
            "--identity",
            ID,
            "--from",
            "2026-01-02T00:00:00Z",
            "--to",
            "2026-01-01T00:00:00Z",
        ]),
        2,
        "is not before --to",
    );
    fails(
        &mut aq(&[
            "--identity",
            ID,
            "--event",
            "login.failed'; DROP TABLE security_audit; --",
        ]),
        2,
        "is not an event type",
    );
    fails(
        &mut aq(&["--identity", ID, "--max-speed=-3"]),
        2,
        "--max-speed",
    );
    fails(&mut aq(&["--identity", ID, "-o", "ids"]), 2, "-o ids");
    let mut ps = atoctl_with_url(url);
    ps.args(["pattern-scan", "--ip", "203.0.113.300"]);
    fails(&mut ps, 2, "is not an IP address");
    let mut ps = atoctl_with_url(url);
    ps.args(["pattern-scan", "--ip", "203.0.113.0/24"]);
    fails(&mut ps, 2, "is not an IP address");
    let mut ps = atoctl_with_url(url);
    ps.args(["pattern-scan", "--identity", "5f1c2a9e-0b7e"]);
    fails(&mut ps, 2, "is not a UUID");
    let mut ps = atoctl_with_url(url);
    ps.args(["pattern-scan", "--identity", "mallory@example.com"]);
    fails(&mut ps, 2, "needs the Kratos admin URL");
}

#[test]
fn a_missing_database_url_is_a_usage_error() {
    let mut c = atoctl_testkit::atoctl();
    c.args(["audit-query", "--identity", ID]);
    fails(&mut c, 2, "no audit database URL");
}

#[test]
fn malformed_and_unreachable_databases_fail_with_one_line() {
    fails(
        atoctl_with_url("postgres://u:s3cret@127.0.0.1/x?sslmode=sometimes").args([
            "audit-query",
            "--identity",
            ID,
        ]),
        2,
        "not a PostgreSQL URL",
    );
    fails(
        atoctl_with_url("postgres://postgres@127.0.0.1:1/x").args([
            "audit-query",
            "--identity",
            ID,
        ]),
        1,
        "cannot connect to the audit database 127.0.0.1:1/x",
    );
    let db = TestDb::empty();
    let missing = db.url().replace(&db.name, &format!("{}_missing", db.name));
    fails(
        atoctl_with_url(&missing).args(["pattern-scan", "--ip", "192.0.2.1"]),
        1,
        "does not exist",
    );
}

#[test]
fn a_missing_table_says_to_run_atoctl_schema() {
    let db = TestDb::empty();
    fails(
        db.atoctl().args(["audit-query", "--identity", ID]),
        1,
        "atoctl schema",
    );
    fails(
        db.atoctl().args(["pattern-scan", "--ip", "192.0.2.1"]),
        1,
        "atoctl schema",
    );
}

#[test]
fn a_wrong_password_is_a_clear_login_error() {
    let db = TestDb::with_schema();
    let role = format!("{}_role", db.name);
    db.sql(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'right'; GRANT SELECT ON security_audit TO {role};"
    ));
    let url = db.url().replacen("postgres@", &format!("{role}:wrong@"), 1);
    let out = atoctl_with_url(&url)
        .args(["audit-query", "--identity", ID])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    db.sql(&format!("DROP OWNED BY {role}; DROP ROLE {role};"));
    // Under trust authentication (a test server) any password is accepted; elsewhere the
    // server refuses it. Either way: no panic, no password in the message.
    assert!(!err.contains("wrong"), "{err}");
    if !out.status.success() {
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("refused the login") || err.contains("password"),
            "{err}"
        );
    }
}

#[test]
fn the_database_url_falls_back_to_database_url() {
    let db = TestDb::with_schema();
    let mut c = atoctl_testkit::atoctl();
    c.env("DATABASE_URL", db.url())
        .args(["audit-query", "--identity", ID])
        .assert()
        .success();
    // and --database-url beats both
    let mut c = atoctl_testkit::atoctl();
    c.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x")
        .env("ATOCTL_DATABASE_URL", "postgres://postgres@127.0.0.1:1/y")
        .args(["audit-query", "--identity", ID, "--database-url", &db.url()])
        .assert()
        .success();
}

#[test]
fn the_database_url_may_name_a_host() {
    // `localhost` is looked up by name (in the static build: by glibc's built-in services only).
    let db = TestDb::with_schema();
    let url = db.url().replacen("@127.0.0.1:", "@localhost:", 1);
    atoctl_with_url(&url)
        .args(["audit-query", "--identity", ID])
        .assert()
        .success();
}

#[test]
fn tls_is_used_when_the_url_asks_for_it() {
    let db = TestDb::with_schema();
    let with = |mode: &str| {
        let sep = if db.url().contains('?') { '&' } else { '?' };
        format!("{}{sep}sslmode={mode}", db.url())
    };
    db.atoctl()
        .env("ATOCTL_DATABASE_URL", with("disable"))
        .args(["audit-query", "--identity", ID])
        .assert()
        .success();
    db.atoctl()
        .env("ATOCTL_DATABASE_URL", with("prefer"))
        .args(["audit-query", "--identity", ID])
        .assert()
        .success();
    // The local server either has no TLS or a certificate the system does not trust (and not
    // for 127.0.0.1): require must fail, clearly.
    let mut c = db.atoctl();
    c.env("ATOCTL_DATABASE_URL", with("require"))
        .args(["audit-query", "--identity", ID]);
    fails(&mut c, 1, "TLS");
}

#[test]
fn dry_run_prints_sql_with_bound_parameters_and_connects_to_nothing() {
    let out = atoctl_with_url("postgres://postgres@127.0.0.1:1/nowhere")
        .args([
            "audit-query",
            "--identity",
            ID,
            "--event",
            "login.failed",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("e.event_type = ANY($5::text[])"), "{text}");
    assert!(text.contains("$5 = [\"login.failed\"]"), "{text}");
    assert!(
        !text.contains("'login.failed'"),
        "values are never in the SQL text"
    );
    let out = atoctl_with_url("postgres://postgres@127.0.0.1:1/nowhere")
        .args([
            "pattern-scan",
            "--identity",
            ID,
            "--by",
            "both",
            "--stuffing",
            "--dry-run",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["queries"].as_array().unwrap().len(), 5);
}

#[test]
fn schema_can_run_twice() {
    let db = TestDb::empty();
    let ddl = atoctl_testkit::atoctl().arg("schema").output().unwrap();
    let ddl = String::from_utf8(ddl.stdout).unwrap();
    assert!(ddl.contains("CREATE TABLE IF NOT EXISTS security_audit"));
    db.sql(&ddl);
    db.sql(&ddl);
    let n = db.sql("SELECT count(*) FROM pg_indexes WHERE tablename = 'security_audit'");
    assert_eq!(n.trim(), "6");
    // The reversal flow's table, as the contract defines it, with the index it needs: its
    // primary key, the two unique keys, and one user's changes in time order.
    assert!(ddl.contains("CREATE TABLE IF NOT EXISTS user_email_changes"));
    let cols = db.sql(
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'user_email_changes'",
    );
    assert_eq!(
        cols.trim(),
        "id,user_id,email_from,email_to,confirm_key,reversal_key,created_at,created_ip,confirmed_at,confirmed_ip,reversed_at,reversed_ip"
    );
    let idx = db.sql(
        "SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'user_email_changes'",
    );
    assert!(idx.contains("(user_id, created_at, id)"), "{idx}");
    // restore --identity with the owner's old address finds the identity by the change.
    assert!(idx.contains("(lower(email_from))"), "{idx}");
    assert!(
        idx.contains("UNIQUE INDEX user_email_changes_reversal_key_key"),
        "{idx}"
    );
    assert!(
        idx.contains("UNIQUE INDEX user_email_changes_confirm_key_key"),
        "{idx}"
    );
}

/// Broken, the pipelined reads would let a statement run outside the read's transaction (sent
/// before BEGIN, after the ROLLBACK, or in a transaction of its own), without READ ONLY,
/// REPEATABLE READ or statement_timeout. Here `security_audit` is a view whose every read calls a
/// guard that raises unless it runs in a READ ONLY, REPEATABLE READ transaction with the step's
/// statement_timeout, and the first one of the session: each transaction takes a session-level
/// advisory lock (which outlives its rollback) named after its start time, so a second
/// transaction finds two.
#[test]
fn every_statement_of_a_read_runs_in_its_one_read_only_repeatable_read_transaction() {
    let db = TestDb::with_schema();
    takeover(&db);
    db.sql(
        "ALTER TABLE security_audit RENAME TO security_audit_rows;
CREATE FUNCTION atoctl_test_guard() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
  IF current_setting('transaction_read_only') <> 'on'
     OR current_setting('transaction_isolation') <> 'repeatable read'
     OR current_setting('statement_timeout') <> '7s' THEN
    RAISE EXCEPTION 'guard: read_only=% isolation=% statement_timeout=%',
      current_setting('transaction_read_only'), current_setting('transaction_isolation'),
      current_setting('statement_timeout');
  END IF;
  PERFORM pg_advisory_lock(7013, hashtext(transaction_timestamp()::text));
  IF (SELECT count(*) FROM pg_locks
      WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid = 7013) > 1 THEN
    RAISE EXCEPTION 'guard: a second transaction in the session';
  END IF;
  RETURN true;
END $f$;
CREATE VIEW security_audit AS SELECT * FROM security_audit_rows WHERE (SELECT atoctl_test_guard());",
    );
    // The guard is there: another timeout than the one it expects fails the step, with the
    // server's message.
    let out = db
        .atoctl()
        .args(["pattern-scan", "--identity", ID, "--timeout", "8"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("guard: read_only=on isolation=repeatable read statement_timeout=8s"),
        "{err}"
    );

    // pattern-scan: the new IPs, then the statistics and the identities sent together with the
    // ROLLBACK behind them.
    let out = db
        .atoctl()
        .args([
            "pattern-scan",
            "--identity",
            ID,
            "--timeout",
            "7",
            "-o",
            "ids",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    ids.sort();
    assert_eq!(ids, [VICTIM_IN, VICTIM_FAILED]);
    // --by both adds the user agents' statement between the two rounds.
    let out = db
        .atoctl()
        .args([
            "pattern-scan",
            "--identity",
            ID,
            "--timeout",
            "7",
            "--by",
            "both",
        ])
        .args(["--stuffing", "--min-identities", "1", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // audit-query: the settings, work_mem, the DECLARE and the first FETCH sent together, more
    // FETCHes, and the look back for the located event before the window.
    let out = db
        .atoctl()
        .args([
            "audit-query",
            "--identity",
            ID,
            "--timeout",
            "7",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = db.sql(&format!(
        "SELECT count(*) FROM security_audit_rows WHERE identity_id = '{ID}' AND created_at >= now() - interval '1 day'"
    ));
    assert_eq!(doc["counts"]["events"].to_string(), expected.trim());
}

/// Broken, a deployment whose text columns are `citext` (a type the driver must look up) would
/// see a pipelined read stall in the middle of a large answer, and the stall journaled as the
/// database's: every text column is read as `text`, so atoctl reads such a table as any other.
#[test]
fn a_citext_column_is_read_like_text() {
    let db = TestDb::with_schema();
    db.sql(&format!(
        "CREATE EXTENSION IF NOT EXISTS citext;
ALTER TABLE security_audit ALTER COLUMN user_agent TYPE citext;
ALTER TABLE security_audit ALTER COLUMN event_type TYPE citext;
INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT '{ID}', 'login.succeeded', '198.51.100.7', repeat('Mozilla/5.0 ', 350) || g,
       now() - g * interval '1 second', '{{}}'::jsonb
FROM generate_series(1, 3000) g;"
    ));
    let out = db
        .atoctl()
        .args([
            "audit-query",
            "--identity",
            ID,
            "--timeout",
            "10",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["counts"]["events"], serde_json::json!(3000), "{err}");
    let out = db
        .atoctl()
        .args([
            "pattern-scan",
            "--identity",
            ID,
            "--by",
            "both",
            "--timeout",
            "10",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
