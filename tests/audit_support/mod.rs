//! A throwaway PostgreSQL database per test: created with a unique name on the server named by
//! `ATOCTL_TEST_PG` (default postgres://postgres@127.0.0.1:5432/), loaded with `atoctl schema`,
//! and dropped when the guard goes out of scope, even when the test fails.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

pub struct TestDb {
    pub name: String,
    server: String,
    query: String,
}

fn server() -> (String, String) {
    let base = std::env::var("ATOCTL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/".into());
    let (base, query) = match base.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (base, String::new()),
    };
    let base = if base.ends_with('/') {
        base
    } else {
        // drop any database name: we connect to our own
        match base.rfind('/') {
            Some(i) if i > "postgres://".len() => format!("{}/", &base[..i]),
            _ => format!("{base}/"),
        }
    };
    (base, query)
}

/// Runs SQL through psql against a URL; panics with psql's stderr on failure.
pub fn psql(url: &str, sql: &str) -> String {
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl TestDb {
    /// A new empty database (no table).
    pub fn empty() -> TestDb {
        let (server, query) = server();
        let name = format!("atoctl_test_{:016x}", rand_u64());
        psql(
            &format!("{server}postgres{query}"),
            &format!("CREATE DATABASE {name};"),
        );
        TestDb {
            name,
            server,
            query,
        }
    }

    /// A new database with the schema of `atoctl schema`.
    pub fn with_schema() -> TestDb {
        let db = TestDb::empty();
        let out = atoctl_testkit::atoctl().arg("schema").output().unwrap();
        assert!(out.status.success());
        psql(&db.url(), &String::from_utf8_lossy(&out.stdout));
        db
    }

    pub fn url(&self) -> String {
        format!("{}{}{}", self.server, self.name, self.query)
    }

    pub fn sql(&self, sql: &str) -> String {
        psql(&self.url(), sql)
    }

    /// atoctl with this database in ATOCTL_DATABASE_URL and a clean environment otherwise.
    pub fn atoctl(&self) -> assert_cmd::Command {
        let mut c = atoctl_testkit::atoctl();
        c.env("ATOCTL_DATABASE_URL", self.url());
        c
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-X",
                "-q",
                &format!("{}postgres{}", self.server, self.query),
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

pub const TARGET: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const VICTIM_IN: &str = "bbbbbbbb-0000-4000-8000-000000000001";
pub const VICTIM_FAILED: &str = "bbbbbbbb-0000-4000-8000-000000000002";
pub const VICTIM_OUTSIDE: &str = "bbbbbbbb-0000-4000-8000-000000000003";
pub const HOME_SHARER: &str = "cccccccc-0000-4000-8000-000000000001";
pub const UA_VICTIM: &str = "dddddddd-0000-4000-8000-000000000001";
pub const HOME_IP: &str = "198.51.100.10";
pub const ATTACKER_IP: &str = "203.0.113.66";
pub const ATTACKER_IP6: &str = "2001:db8:66::1";
pub const ATTACKER_UA: &str = "evil-bot/1.0 (+rare)";

/// The account-takeover scenario, relative to now:
/// - the target logs in from its home IP in Paris during the 30-day baseline and in the window;
/// - at -3h30m it is in Paris, at -3h in New York from a new IP (impossible travel), then the
///   attacker changes the password, the e-mail (from a new IPv6 address), grants an OAuth2
///   client and removes MFA; plus odd rows (malformed geo, control characters, null metadata);
/// - victims from the attacker's IP inside the window (one succeeded, one failed), one only
///   before the window, an identity sharing only the home IP, and a failed login without an
///   identity; one identity matches only the attacker's (rare) user agent from another IP.
pub fn takeover(db: &TestDb) {
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata) VALUES
 ('{TARGET}', 'login.succeeded', '{HOME_IP}', 'Mozilla/5.0 (Macintosh) Safari/605', now() - interval '10 days', '{{\"geo\":{{\"lat\":48.8566,\"lon\":2.3522,\"country\":\"FR\",\"city\":\"Paris\"}}}}'),
 ('{TARGET}', 'login.succeeded', '{HOME_IP}', 'Mozilla/5.0 (Macintosh) Safari/605', now() - interval '2 days', '{{\"geo\":{{\"lat\":48.8566,\"lon\":2.3522,\"country\":\"FR\",\"city\":\"Paris\"}}}}'),
 ('{TARGET}', 'login.succeeded', '{HOME_IP}', 'Mozilla/5.0 (Macintosh) Safari/605', now() - interval '3 hours 30 minutes', '{{\"geo\":{{\"lat\":48.8566,\"lon\":2.3522,\"country\":\"FR\",\"city\":\"Paris\"}}}}'),
 ('{TARGET}', 'login.succeeded', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '3 hours', '{{\"geo\":{{\"lat\":40.7128,\"lon\":-74.006,\"country\":\"US\",\"city\":\"New York\"}}}}'),
 ('{TARGET}', 'password.changed', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '2 hours 50 minutes', '{{\"geo\":\"New York\"}}'),
 ('{TARGET}', 'email.changed', '{ATTACKER_IP6}', E'odd\\x1b[31m agent\\x07 ☃', now() - interval '2 hours 40 minutes', '{{\"from\":\"a@example.com\",\"to\":\"b@evil.example\",\"geo\":{{\"lat\":123.0,\"lon\":500}}}}'),
 ('{TARGET}', 'oauth2.consent.granted', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '2 hours 30 minutes', '{{\"client_id\":\"evil-app\",\"geo\":{{\"lat\":\"40.7\",\"lon\":\"-74\"}}}}'),
 ('{TARGET}', 'mfa.removed', NULL, NULL, now() - interval '2 hours 20 minutes', 'null'),
 ('{TARGET}', 'session.revoked', '{HOME_IP}', repeat('Mozilla/5.0 very long agent ', 20), now() - interval '1 hour', '{{}}'),
 ('{VICTIM_IN}', 'login.succeeded', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '1 hour', '{{}}'),
 ('{VICTIM_FAILED}', 'login.failed', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '2 hours', '{{}}'),
 ('{VICTIM_FAILED}', 'login.failed', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '2 hours', '{{}}'),
 ('{VICTIM_OUTSIDE}', 'login.succeeded', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '3 days', '{{}}'),
 ('{HOME_SHARER}', 'login.succeeded', '{HOME_IP}', 'Mozilla/5.0 (Windows) Chrome/120', now() - interval '4 hours', '{{}}'),
 (NULL, 'login.failed', '{ATTACKER_IP}', '{ATTACKER_UA}', now() - interval '90 minutes', '{{}}'),
 ('{UA_VICTIM}', 'login.succeeded', '192.0.2.200', '{ATTACKER_UA}', now() - interval '30 minutes', '{{}}');"
    ));
}
