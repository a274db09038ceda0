//! `atoctl restore`: putting back what an attacker changed, against the Kratos/Hydra double and
//! a throwaway audit database.
//!
//! - `restore --reversal-key -`: one e-mail change undone from its "this wasn't me" key, the
//!   database in one transaction (the change reversed, every later key voided), then Kratos
//!   (the address back, sessions ended, the password disabled); resumable, serialised per
//!   user, and the key never shown.
//! - `restore --identity`: what the audit log says the attacker changed in the window (traits,
//!   OIDC links, second factors, OAuth2 consents) undone, then containment.

mod audit_support;
mod common;

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::Duration;

use audit_support::{ATTACKER_IP, ATTACKER_UA, TestDb};
use common::*;
use serde_json::{Value, json};

/// The password of [`victim`] identities.
const PASSWORD: &str = "correct horse battery staple";

// ---------------------------------------------------------------- helpers

/// A fresh secret-looking key (reversal or confirm), unique across rounds.
fn fresh_key(tag: &str) -> String {
    format!("{tag}-{}", uuid::Uuid::new_v4().simple())
}

/// Quotes a value for an SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Records one audit event of `identity`, `ago` (an SQL interval) before now, from the
/// attacker's IP and user agent.
fn event(db: &TestDb, identity: &str, event_type: &str, ago: &str, metadata: Value) {
    db.sql(&format!(
        "INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
         VALUES ({}, {}, {}, {}, now() - interval {}, {}::jsonb);",
        lit(identity),
        lit(event_type),
        lit(ATTACKER_IP),
        lit(ATTACKER_UA),
        lit(ago),
        lit(&metadata.to_string()),
    ));
}

/// Records one row of `user_email_changes` (not confirmed yet, both keys live) and returns its id.
fn email_change(
    db: &TestDb,
    user: &str,
    from: &str,
    to: &str,
    ago: &str,
    confirm_key: &str,
    reversal_key: &str,
) -> i64 {
    let out = db.sql(&format!(
        "INSERT INTO user_email_changes (user_id, email_from, email_to, confirm_key, reversal_key, created_at, created_ip)
         VALUES ({}, {}, {}, {}, {}, now() - interval {}, {}) RETURNING id;",
        lit(user),
        lit(from),
        lit(to),
        lit(confirm_key),
        lit(reversal_key),
        lit(ago),
        lit(ATTACKER_IP),
    ));
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("INSERT … RETURNING id gave {out:?}: {e}"))
}

/// One column (or expression) of one `user_email_changes` row as text, `NULL` for null.
fn col(db: &TestDb, row: i64, expr: &str) -> String {
    db.sql(&format!(
        "SELECT coalesce(({expr})::text, 'NULL') FROM user_email_changes WHERE id = {row};"
    ))
    .trim()
    .to_string()
}

fn is_null(db: &TestDb, row: i64, column: &str) -> bool {
    col(db, row, column) == "NULL"
}

/// The whole table, to compare before and after a run that must change nothing.
fn dump(db: &TestDb) -> String {
    db.sql("SELECT * FROM user_email_changes ORDER BY id;")
}

/// An identity whose e-mail the attacker changed three times, `owner → a1 → a2 → a3` at 3h,
/// 2h and 1h ago, each change with a row in `user_email_changes` (confirm and reversal keys
/// live). The identity is now at a3, with the password [`PASSWORD`] and two sessions.
struct Chain {
    id: String,
    /// owner, a1, a2, a3.
    emails: [String; 4],
    rows: [i64; 3],
    keys: [String; 3],
    confirms: [String; 3],
}

fn three_changes(env: &Env, db: &TestDb, tag: &str) -> Chain {
    let emails = [
        format!("owner-{tag}@example.com"),
        format!("a1-{tag}@evil.example"),
        format!("a2-{tag}@evil.example"),
        format!("a3-{tag}@evil.example"),
    ];
    let id = victim(env, &emails[3], 2);
    let keys = [fresh_key("rk1"), fresh_key("rk2"), fresh_key("rk3")];
    let confirms = [fresh_key("ck1"), fresh_key("ck2"), fresh_key("ck3")];
    let ago = ["3 hours", "2 hours", "1 hour"];
    let rows = [0, 1, 2].map(|i| {
        email_change(
            db,
            &id,
            &emails[i],
            &emails[i + 1],
            ago[i],
            &confirms[i],
            &keys[i],
        )
    });
    Chain {
        id,
        emails,
        rows,
        keys,
        confirms,
    }
}

/// `restore --reversal-key - --yes` with `key` on stdin, the audit database in
/// `ATOCTL_DATABASE_URL`.
fn reversal(env: &Env, db: &TestDb, key: &str) -> assert_cmd::Command {
    let mut c = env.cmd();
    c.env("ATOCTL_DATABASE_URL", db.url())
        .args(["restore", "--reversal-key", "-", "--yes"])
        .write_stdin(format!("{key}\n"));
    c
}

fn reverse(env: &Env, db: &TestDb, key: &str) -> Run {
    run(&mut reversal(env, db, key))
}

/// `atoctl restore ARGS` with the audit database (no Hydra).
fn restore(env: &Env, db: &TestDb, args: &[&str]) -> Run {
    run(env
        .cmd()
        .env("ATOCTL_DATABASE_URL", db.url())
        .arg("restore")
        .args(args))
}

/// `atoctl restore ARGS` with the audit database and the double as Hydra's admin API too.
fn restore_with_hydra(env: &Env, db: &TestDb, args: &[&str]) -> Run {
    run(env
        .cmd()
        .env("ATOCTL_DATABASE_URL", db.url())
        .env("HYDRA_ADMIN_URL", env.kratos.url())
        .arg("restore")
        .args(args))
}

/// `restore --reversal-key - --yes` as a child process a test can kill: the environment
/// `atoctl_testkit::atoctl` gives (nothing of this machine's atoctl, Kratos, Hydra or database
/// settings), the key written to its stdin.
fn spawn_reversal(env: &Env, db: &TestDb, key: &str) -> Child {
    spawn_reversal_with(env, db, key, Stdio::null())
}

/// [`spawn_reversal`] with stderr going to `stderr` (piped: read what the run says while it
/// runs).
fn spawn_reversal_with(env: &Env, db: &TestDb, key: &str, stderr: Stdio) -> Child {
    let mut c = atoctl_testkit::atoctl_process();
    let mut child = c
        .current_dir(env.dir.path())
        .env("KRATOS_ADMIN_URL", env.kratos.url())
        .env("ATOCTL_INCIDENT", &env.journal)
        .env("ATOCTL_DATABASE_URL", db.url())
        .args(["restore", "--reversal-key", "-", "--yes"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start atoctl");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(format!("{key}\n").as_bytes())
        .expect("write the key");
    drop(stdin);
    child
}

/// Waits until the request `hold` holds has arrived; panics at once if the run ended before
/// sending it (`ended`), instead of waiting for the hold's two-minute limit.
fn wait_held(hold: &Hold, mut ended: impl FnMut() -> bool) {
    while !hold.arrived() {
        assert!(!ended(), "atoctl ended before sending the held request");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn email(env: &Env, id: &str) -> String {
    env.kratos.identity_json(id).expect("the identity")["traits"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Sessions whose row is still active (not ended by a hard or soft delete).
fn live_sessions(env: &Env, id: &str) -> usize {
    env.kratos
        .sessions_of(id)
        .iter()
        .filter(|s| s.db_active)
        .count()
}

fn password_works(env: &Env, login: &str, password: &str) -> bool {
    matches!(
        env.kratos.password_login(login, password),
        LoginResult::Ok { .. }
    )
}

/// The journal's `restore` entries, in order.
fn restore_entries(env: &Env) -> Vec<Value> {
    env.records()
        .into_iter()
        .filter(|r| r["step"] == "restore")
        .collect()
}

// ---------------------------------------------------------------- --reversal-key

/// Broken, this would leave the attacker's address (or a later attacker's key) in force, or
/// the attacker's sessions and the password they set alive after the owner clicked "this
/// wasn't me".
#[test]
fn a_reversal_key_puts_the_first_address_back_voids_later_keys_and_contains() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let c = three_changes(&env, &db, "one");
        assert!(password_works(&env, &c.emails[3], PASSWORD));
        let r = run(reversal(&env, &db, &c.keys[0]).args(["--ip", "192.0.2.55"]));
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");

        // Kratos: the owner's address, which has to be verified again (§6, §13.18) …
        let ident = env.kratos.identity_json(&c.id).unwrap();
        assert_eq!(ident["traits"]["email"], json!(c.emails[0]), "{flavour:?}");
        let addr = ident["verifiable_addresses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["value"] == json!(c.emails[0]))
            .expect("the owner's verifiable address");
        assert_eq!(addr["verified"], json!(false), "{flavour:?}");
        // … no session left, and the password the attacker may know no longer logs in.
        assert_eq!(live_sessions(&env, &c.id), 0, "{flavour:?}");
        assert!(
            !password_works(&env, &c.emails[0], PASSWORD),
            "{flavour:?}: the old password still logs in"
        );

        // The database: this change reversed (when, from where), every later key voided.
        assert!(!is_null(&db, c.rows[0], "reversed_at"), "{flavour:?}");
        assert_eq!(col(&db, c.rows[0], "host(reversed_ip)"), "192.0.2.55");
        // The attacker's "confirm" link for this change is void too; its reversal key stays,
        // so that a re-run finds the change.
        assert!(is_null(&db, c.rows[0], "confirm_key"), "{flavour:?}");
        assert!(!is_null(&db, c.rows[0], "reversal_key"), "{flavour:?}");
        // The operator is told that Kratos sent no mail and the address is unverified.
        assert!(r.stderr.contains("sends no e-mail"), "{}", r.stderr);
        assert!(r.stderr.contains("unverified"), "{}", r.stderr);
        for row in &c.rows[1..] {
            assert!(is_null(&db, *row, "confirm_key"), "{flavour:?} row {row}");
            assert!(is_null(&db, *row, "reversal_key"), "{flavour:?} row {row}");
        }

        let entries = restore_entries(&env);
        assert_eq!(
            entries.first().expect("restore entries")["outcome"],
            "started",
            "{entries:?}"
        );
        assert_eq!(
            entries.last().expect("restore entries")["outcome"],
            "ok",
            "{entries:?}"
        );

        // A later change's key is void now: unknown, and nothing is sent or written.
        env.kratos.clear_requests();
        let before = dump(&db);
        let r3 = reverse(&env, &db, &c.keys[2]);
        assert_eq!(r3.code, 3, "{flavour:?}: {r3:?}");
        assert!(env.writes().is_empty(), "{:?}", env.writes());
        assert_eq!(dump(&db), before);

        for run in [&r, &r3] {
            for k in c.keys.iter().chain(&c.confirms) {
                assert_nowhere(&env, run, k, "a change's key");
            }
        }
        assert_eq!(env.verify().code, 0);
    }
}

/// Broken, a second click on the link (or a re-run after success) would change Kratos again:
/// a new password, a new verification of the address.
#[test]
fn the_same_key_twice_has_nothing_to_do_the_second_time() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let c = three_changes(&env, &db, "twice");
        let first = reverse(&env, &db, &c.keys[0]);
        assert_eq!(first.code, 0, "{flavour:?}: {first:?}");
        env.kratos.clear_requests();
        let before = dump(&db);
        let again = reverse(&env, &db, &c.keys[0]);
        assert_eq!(again.code, 0, "{flavour:?}: {again:?}");
        assert!(env.writes().is_empty(), "{flavour:?}: {:?}", env.writes());
        assert!(again.all().contains("nothing to do"), "{again:?}");
        assert_eq!(dump(&db), before, "the reversal's time and IP stay");
        assert_eq!(email(&env, &c.id), c.emails[0]);
        assert_nowhere(&env, &again, &c.keys[0], "the reversal key");
    }
}

/// Broken, the key would land in shell history and process listings, or be echoed into logs.
#[test]
fn a_key_on_the_command_line_is_refused_and_never_echoed() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let c = three_changes(&env, &db, "argv");
    let before = dump(&db);
    let r = run(env.cmd().env("ATOCTL_DATABASE_URL", db.url()).args([
        "restore",
        "--reversal-key",
        &c.keys[0],
        "--yes",
    ]));
    assert_eq!(r.code, 2, "{r:?}");
    assert_nowhere(&env, &r, &c.keys[0], "the key given on argv");
    assert!(env.kratos.requests().is_empty(), "nothing may be sent");
    assert_eq!(dump(&db), before);
    // The refusal used nothing up: the key still works the way it should be given.
    let r = reverse(&env, &db, &c.keys[0]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(email(&env, &c.id), c.emails[0]);
}

/// Broken, a mistyped or forged key would change something somewhere.
#[test]
fn an_unknown_key_is_exit_3_and_changes_nothing() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let c = three_changes(&env, &db, "unknown");
    let before = dump(&db);
    let forged = fresh_key("rk9");
    let r = reverse(&env, &db, &forged);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(dump(&db), before);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert_eq!(email(&env, &c.id), c.emails[3]);
    assert_nowhere(&env, &r, &forged, "the unknown key");
}

/// Broken, a run killed after its transaction would leave the change marked reversed in the
/// database while Kratos keeps the attacker's address, sessions or password, for good.
#[test]
fn a_run_killed_after_the_transaction_is_finished_by_running_it_again() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let c = three_changes(&env, &db, "crash");
        let hold = Hold::new();
        env.kratos.inject(
            Fault::new(FaultKind::Hold(hold.clone()))
                .on("PATCH", &format!("/admin/identities/{}$", c.id)),
        );
        let mut child = spawn_reversal(&env, &db, &c.keys[0]);
        wait_held(&hold, || child.try_wait().ok().flatten().is_some());
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        // The held PATCH may still be applied once released (the server finishes what it
        // received): Kratos has a3 or owner now; either way the re-run has to finish the job.
        hold.release();
        assert!(
            !is_null(&db, c.rows[0], "reversed_at"),
            "{flavour:?}: the transaction committed before Kratos was called"
        );

        let r = reverse(&env, &db, &c.keys[0]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");
        assert_eq!(email(&env, &c.id), c.emails[0], "{flavour:?}");
        assert_eq!(live_sessions(&env, &c.id), 0, "{flavour:?}");
        assert!(!password_works(&env, &c.emails[0], PASSWORD), "{flavour:?}");
        for row in &c.rows[1..] {
            assert!(is_null(&db, *row, "reversal_key"), "{flavour:?} row {row}");
        }
        assert_nowhere(&env, &r, &c.keys[0], "the reversal key");
        assert_eq!(env.verify().code, 0, "{flavour:?}");
    }
}

/// Broken, two clicks racing (the owner's on the first mail, someone's on a later one) could
/// interleave: the later change's run would put an attacker's address back after the earlier
/// run restored the owner's.
#[test]
fn a_second_key_waits_for_the_run_in_progress_and_the_earliest_change_wins() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let c = three_changes(&env, &db, "wait");
    let hold = Hold::new();
    env.kratos.inject(
        Fault::new(FaultKind::Hold(hold.clone()))
            .on("PATCH", &format!("/admin/identities/{}$", c.id)),
    );
    let mut k3 = reversal(&env, &db, &c.keys[2]);
    let k3_run = std::thread::spawn(move || run(&mut k3));
    wait_held(&hold, || k3_run.is_finished());
    // The k1 run says it waits for the k3 run (it polls the per-user lock); until then, and
    // while it waits, it has written nothing.
    let mut k1 = spawn_reversal_with(&env, &db, &c.keys[0], Stdio::piped());
    let mut err = std::io::BufReader::new(k1.stderr.take().expect("piped stderr"));
    let mut said = String::new();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut err, &mut line).expect("stderr");
        assert!(n > 0, "the k1 run ended without waiting: {said}");
        said.push_str(&line);
        if line.contains("waiting for another reversal") {
            break;
        }
    }
    assert!(
        is_null(&db, c.rows[0], "reversed_at"),
        "the k1 run did not wait for the k3 run to end"
    );
    let patches = env
        .kratos
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1, "only the held PATCH: {:?}", env.writes());
    hold.release();
    let k3_done = k3_run.join().expect("the k3 run");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).expect("stderr");
    let k1_code = k1.wait().expect("the k1 run").code();
    assert_eq!(k3_done.code, 0, "{k3_done:?}");
    assert_eq!(k1_code, Some(0), "{said}{rest}");
    assert_eq!(email(&env, &c.id), c.emails[0]);
    assert!(!is_null(&db, c.rows[0], "reversed_at"));
    for row in &c.rows[1..] {
        assert!(is_null(&db, *row, "reversal_key"), "row {row}");
        assert!(is_null(&db, *row, "confirm_key"), "row {row}");
    }
    assert_eq!(env.verify().code, 0);
}

/// Broken, two keys of one user used at the same moment could both win, in either order.
#[test]
fn two_keys_used_at_once_end_with_the_earliest_change_reversed() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    for round in 0..4 {
        let c = three_changes(&env, &db, &format!("race{round}"));
        let mut k1 = reversal(&env, &db, &c.keys[0]);
        let mut k3 = reversal(&env, &db, &c.keys[2]);
        let k1_run = std::thread::spawn(move || run(&mut k1));
        let k3_run = std::thread::spawn(move || run(&mut k3));
        let k1_done = k1_run.join().expect("the k1 run");
        let k3_done = k3_run.join().expect("the k3 run");
        assert_eq!(k1_done.code, 0, "round {round}: {k1_done:?}");
        assert!(
            k3_done.code == 0 || k3_done.code == 3,
            "round {round}: {k3_done:?}"
        );
        assert_eq!(email(&env, &c.id), c.emails[0], "round {round}");
        assert!(!is_null(&db, c.rows[0], "reversed_at"), "round {round}");
        for row in &c.rows[1..] {
            assert!(
                is_null(&db, *row, "reversal_key"),
                "round {round} row {row}"
            );
            assert!(is_null(&db, *row, "confirm_key"), "round {round} row {row}");
        }
        assert_eq!(live_sessions(&env, &c.id), 0, "round {round}");
    }
    assert_eq!(env.verify().code, 0);
}

/// Broken, an application whose `user_email_changes` lives in its own database (written with
/// other credentials than the read-only audit role) could not use its links.
#[test]
fn the_reversal_writes_where_the_write_database_url_points() {
    let env = Env::new(Flavour::Current);
    let app = TestDb::with_schema();
    let audit = TestDb::with_schema();
    let c = three_changes(&env, &app, "writeurl");
    let r = run(reversal(&env, &audit, &c.keys[0]).env("ATOCTL_WRITE_DATABASE_URL", app.url()));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!is_null(&app, c.rows[0], "reversed_at"));
    assert!(is_null(&app, c.rows[2], "reversal_key"));
    assert_eq!(email(&env, &c.id), c.emails[0]);
    assert_nowhere(&env, &r, &c.keys[0], "the reversal key");
}

/// Broken, a script without a terminal would change an account nobody confirmed changing.
#[test]
fn restore_refuses_without_a_terminal_or_yes_and_sends_nothing() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let c = three_changes(&env, &db, "noyes");
    event(
        &db,
        &c.id,
        "oidc.linked",
        "1 hour",
        json!({"provider": "google", "subject": "att-sub"}),
    );
    let before = dump(&db);
    let r = restore(&env, &db, &["--identity", &c.id]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("--yes"), "{}", r.stderr);
    let r = run(env
        .cmd()
        .env("ATOCTL_DATABASE_URL", db.url())
        .args(["restore", "--reversal-key", "-"])
        .write_stdin(format!("{}\n", c.keys[0])));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("--yes"), "{}", r.stderr);
    assert_nowhere(&env, &r, &c.keys[0], "the reversal key");
    assert!(env.kratos.requests().is_empty(), "nothing may be sent");
    assert_eq!(dump(&db), before);
    assert!(!env.journal.exists(), "nothing may be journaled");
}

// ---------------------------------------------------------------- --identity

/// A takeover in the audit log, 3h to 2h40m ago: the owner's address changed to the
/// attacker's, the attacker's Google account linked beside the owner's (whose link is 400 days
/// old), a TOTP enrolled. The identity has the password [`PASSWORD`] and two sessions; OAuth2
/// grants are up to each test.
struct Takeover {
    id: String,
    owner: String,
    attacker: String,
}

fn takeover(env: &Env, db: &TestDb, tag: &str) -> Takeover {
    let owner = format!("owner-{tag}@example.com");
    let attacker = format!("att-{tag}@evil.example");
    let id = env.kratos.add_identity(
        IdentitySeed::new(&attacker)
            .password(PASSWORD)
            .oidc("google", "owner-sub")
            .oidc("google", "att-sub")
            .totp(),
    );
    for i in 0..2 {
        env.kratos.add_session(
            &id,
            SessionSeed::new().device(&format!("203.0.113.{}", 60 + i), ATTACKER_UA, "Lagos, NG"),
        );
    }
    // The owner's own link, long before the window: no event in the window, so it stays.
    event(
        db,
        &id,
        "oidc.linked",
        "400 days",
        json!({"provider": "google", "subject": "owner-sub"}),
    );
    event(db, &id, "login.succeeded", "3 hours 10 minutes", json!({}));
    event(
        db,
        &id,
        "email.changed",
        "3 hours",
        json!({"from": owner, "to": attacker}),
    );
    event(
        db,
        &id,
        "oidc.linked",
        "2 hours 50 minutes",
        json!({"provider": "google", "subject": "att-sub"}),
    );
    event(
        db,
        &id,
        "mfa.enrolled",
        "2 hours 40 minutes",
        json!({"method": "totp"}),
    );
    Takeover {
        id,
        owner,
        attacker,
    }
}

fn days_ago(days: i64) -> jiff::Timestamp {
    jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days)
}

fn minutes_ago(minutes: i64) -> jiff::Timestamp {
    jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minutes)
}

fn consent_clients(env: &Env, subject: &str) -> Vec<String> {
    env.kratos
        .consents(subject)
        .into_iter()
        .map(|c| c.client_id)
        .collect()
}

/// Broken, the attacker would keep a way back in: their address (and with it password
/// recovery), their Google login, their second factor, their OAuth2 client's tokens, a
/// session or the password; or the owner would lose their own Google login or app grant.
#[test]
fn restore_undoes_the_takeover_in_the_window_and_keeps_what_the_owner_had() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let t = takeover(&env, &db, "full");
        let owner_app = env.kratos.add_consent(&t.id, "owner-app");
        env.kratos.set_consent_handled_at(&owner_app, days_ago(30));
        let evil_app = env.kratos.add_consent(&t.id, "evil-app");
        env.kratos
            .set_consent_handled_at(&evil_app, minutes_ago(150));
        let owner_sid = env.kratos.login_session_of_consent(&owner_app).unwrap();
        let evil_sid = env.kratos.login_session_of_consent(&evil_app).unwrap();
        event(
            &db,
            &t.id,
            "oauth2.consent.granted",
            "2 hours 30 minutes",
            json!({"client_id": "evil-app"}),
        );
        let old_hash = env.kratos.identity_json(&t.id).unwrap()["credentials"]["password"]
            ["config"]["hashed_password"]
            .as_str()
            .unwrap()
            .to_string();

        let r = restore_with_hydra(&env, &db, &["--identity", &t.id, "--since", "24h", "--yes"]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");

        assert_eq!(email(&env, &t.id), t.owner, "{flavour:?}");
        assert_eq!(
            env.kratos.oidc_identifiers(&t.id),
            ["google:owner-sub"],
            "{flavour:?}"
        );
        assert!(
            !env.kratos.credential_types(&t.id).contains(&"totp".into()),
            "{flavour:?}"
        );
        // OAuth2: the grant from the window and its tokens are gone, the owner's stays.
        assert_eq!(consent_clients(&env, &t.id), ["owner-app"], "{flavour:?}");
        assert_eq!(env.kratos.tokens_of(&t.id), 2, "{flavour:?}");
        let logouts = env.kratos.backchannel_logouts();
        assert!(logouts.contains(&evil_sid), "{flavour:?}: {logouts:?}");
        assert!(!logouts.contains(&owner_sid), "{flavour:?}: {logouts:?}");
        // Containment.
        assert_eq!(live_sessions(&env, &t.id), 0, "{flavour:?}");
        assert!(!password_works(&env, &t.owner, PASSWORD), "{flavour:?}");
        assert!(!password_works(&env, &t.attacker, PASSWORD), "{flavour:?}");

        let entries = restore_entries(&env);
        assert_eq!(
            entries.first().expect("restore entries")["outcome"],
            "started",
            "{entries:?}"
        );
        let last = entries.last().expect("restore entries");
        assert_eq!(last["outcome"], "ok", "{last}");
        assert_eq!(last["verified"], true, "{last}");
        assert!(last.get("failed").is_none(), "{last}");
        assert!(
            last["done"].as_array().is_some_and(|d| !d.is_empty()),
            "{last}"
        );
        assert!(!last["summary"].is_null(), "{last}");
        assert_eq!(last["identity"], json!(t.id), "{last}");

        // Secrets: the replacement password, the old hash, the TOTP secret.
        let reqs = env.kratos.requests();
        let put = reqs.iter().find(|q| q.method == "PUT").expect("a PUT");
        let body: Value = serde_json::from_slice(&put.body).unwrap();
        let secret = body["credentials"]["password"]["config"]["password"]
            .as_str()
            .expect("the PUT sets a new password")
            .to_string();
        assert_nowhere(&env, &r, &secret, "the replacement password");
        assert_nowhere(&env, &r, &old_hash, "the old password hash");
        assert_nowhere(&env, &r, "JBSWY3DPEHPK3PXP", "the TOTP secret");
        assert_eq!(env.verify().code, 0);
    }
}

/// Broken, revoking by client would also take the owner's own, older consent to that client.
#[test]
fn a_new_grant_to_a_client_the_owner_already_trusted_goes_alone() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "grant@example.com", 0);
    let old = env.kratos.add_consent(&id, "owner-app");
    env.kratos.set_consent_handled_at(&old, days_ago(30));
    let new = env.kratos.add_consent(&id, "owner-app");
    env.kratos.set_consent_handled_at(&new, minutes_ago(60));
    let old_sid = env.kratos.login_session_of_consent(&old).unwrap();
    let new_sid = env.kratos.login_session_of_consent(&new).unwrap();
    event(
        &db,
        &id,
        "oauth2.consent.granted",
        "1 hour",
        json!({"client_id": "owner-app"}),
    );
    let r = restore_with_hydra(&env, &db, &["--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let left: Vec<String> = env
        .kratos
        .consents(&id)
        .into_iter()
        .map(|c| c.consent_request_id)
        .collect();
    assert_eq!(left, [old]);
    let logouts = env.kratos.backchannel_logouts();
    assert!(logouts.contains(&new_sid), "{logouts:?}");
    assert!(!logouts.contains(&old_sid), "{logouts:?}");
}

/// Broken, `--all-oauth2` (the owner cannot vouch for any grant) would leave the older ones.
#[test]
fn all_oauth2_revokes_the_grants_from_before_the_window_too() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "allgrants@example.com", 0);
    let old = env.kratos.add_consent(&id, "owner-app");
    env.kratos.set_consent_handled_at(&old, days_ago(30));
    let evil = env.kratos.add_consent(&id, "evil-app");
    env.kratos.set_consent_handled_at(&evil, minutes_ago(60));
    event(
        &db,
        &id,
        "oauth2.consent.granted",
        "1 hour",
        json!({"client_id": "evil-app"}),
    );
    let r = restore_with_hydra(&env, &db, &["--identity", &id, "--all-oauth2", "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.kratos.consents_of(&id), 0);
    assert_eq!(env.kratos.tokens_of(&id), 0);
}

/// Broken, a second factor the attacker enrolled would stay (and let them pass MFA later),
/// or the owner's own older one would go.
#[test]
fn second_factors_enrolled_in_the_window_go_and_older_ones_stay() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let id = env.kratos.add_identity(
            IdentitySeed::new("mfa@example.com")
                .password(PASSWORD)
                .totp()
                .lookup_secret()
                .webauthn_mfa(),
        );
        event(
            &db,
            &id,
            "mfa.enrolled",
            "60 days",
            json!({"method": "totp"}),
        );
        event(
            &db,
            &id,
            "mfa.enrolled",
            "2 hours",
            json!({"method": "lookup_secret"}),
        );
        event(
            &db,
            &id,
            "mfa.enrolled",
            "1 hour",
            json!({"method": "webauthn"}),
        );
        let r = restore(&env, &db, &["--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");
        let types = env.kratos.credential_types(&id);
        assert!(types.contains(&"totp".into()), "{flavour:?}: {types:?}");
        assert!(
            !types.contains(&"lookup_secret".into()),
            "{flavour:?}: {types:?}"
        );
        assert!(
            !types.contains(&"webauthn".into()),
            "{flavour:?}: {types:?}"
        );
        for code in LOOKUP_SECRET_CODES {
            assert_nowhere(&env, &r, code, "a recovery code");
        }
    }
}

/// Broken, restore would strip the owner's only way to log in (or fail silently on it),
/// or give up on the rest.
#[test]
fn the_last_first_factor_is_kept_with_a_pointer_to_recover_and_the_rest_goes_on() {
    // Current Kratos only: 1.3.x deletes an OIDC link without counting first factors (§8).
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = env.kratos.add_identity(
        IdentitySeed::new("lastfactor@example.com")
            .oidc("google", "att-sub")
            .totp(),
    );
    env.kratos.add_session(&id, SessionSeed::new());
    event(
        &db,
        &id,
        "oidc.linked",
        "2 hours",
        json!({"provider": "google", "subject": "att-sub"}),
    );
    event(
        &db,
        &id,
        "mfa.enrolled",
        "1 hour",
        json!({"method": "totp"}),
    );
    let r = restore(&env, &db, &["--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let err = r.stderr.to_lowercase();
    assert!(err.contains("last first factor"), "{}", r.stderr);
    assert!(err.contains("recover"), "{}", r.stderr);
    assert!(
        !env.kratos.credential_types(&id).contains(&"totp".into()),
        "the TOTP goes anyway"
    );
    assert_eq!(env.kratos.oidc_identifiers(&id), ["google:att-sub"]);
    assert_eq!(
        restore_entries(&env).last().expect("restore entries")["outcome"],
        "failed"
    );
}

/// Broken, a taken address would abort the whole restore (leaving the attacker's link), or
/// be reported without saying who holds it.
#[test]
fn an_address_taken_by_another_identity_is_named_and_the_rest_goes_on() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let owner = "taken@example.com";
        let id = env.kratos.add_identity(
            IdentitySeed::new("att-taken@evil.example")
                .password(PASSWORD)
                .oidc("google", "att-sub"),
        );
        let other = env
            .kratos
            .add_identity(IdentitySeed::new(owner).password("pw2"));
        event(
            &db,
            &id,
            "email.changed",
            "2 hours",
            json!({"from": owner, "to": "att-taken@evil.example"}),
        );
        event(
            &db,
            &id,
            "oidc.linked",
            "1 hour",
            json!({"provider": "google", "subject": "att-sub"}),
        );
        let r = restore(&env, &db, &["--identity", &id, "--yes"]);
        assert_eq!(r.code, 1, "{flavour:?}: {r:?}");
        assert!(r.stderr.contains(&other), "{flavour:?}: {}", r.stderr);
        let last = restore_entries(&env).pop().expect("restore entries");
        let conflicts = last["conflicts"].as_array().expect("conflicts");
        assert!(
            conflicts.iter().any(|c| c["identity"] == json!(other)),
            "{flavour:?}: {last}"
        );
        assert!(env.kratos.oidc_identifiers(&id).is_empty(), "{flavour:?}");
        assert_eq!(email(&env, &id), "att-taken@evil.example");
        assert_eq!(
            email(&env, &other),
            owner,
            "the other identity is untouched"
        );
    }
}

/// Broken, restore would claim success with an attacker's passkey still able to log in, or
/// hammer an endpoint that cannot remove it.
#[test]
fn a_passkey_from_the_window_is_left_for_manual_action() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let id = env.kratos.add_identity(
            IdentitySeed::new("pk@example.com")
                .password(PASSWORD)
                .passkey(),
        );
        event(
            &db,
            &id,
            "mfa.enrolled",
            "1 hour",
            json!({"method": "passkey"}),
        );
        let r = restore(&env, &db, &["--identity", &id, "--yes"]);
        assert_eq!(r.code, 1, "{flavour:?}: {r:?}");
        assert!(r.stderr.contains("passkey"), "{flavour:?}: {}", r.stderr);
        let passkey_delete = format!("DELETE /admin/identities/{id}/credentials/passkey");
        assert!(
            !env.writes().contains(&passkey_delete),
            "{flavour:?}: {:?}",
            env.writes()
        );
        assert!(env.kratos.credential_types(&id).contains(&"passkey".into()));
    }
}

/// Broken, a dry run would change the account, or not show what the real run would send.
#[test]
fn a_dry_run_lists_the_requests_and_changes_nothing() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let t = takeover(&env, &db, "dry");
    let before = env.kratos.identity_json(&t.id).unwrap();
    let r = restore(&env, &db, &["--identity", &t.id, "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    let flat = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let base = format!("{}/admin/identities/{}", env.kratos.url(), t.id);
    for want in [
        format!("PATCH {base}"),
        format!("DELETE {base}/credentials/oidc"),
        format!("DELETE {base}/credentials/totp"),
    ] {
        assert!(flat.contains(&want), "{want} not in: {}", r.stdout);
    }
    assert!(
        r.stdout.contains(&t.owner),
        "the planned address: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("att-sub"),
        "the planned link: {}",
        r.stdout
    );
    assert_eq!(env.kratos.identity_json(&t.id).unwrap(), before);
    assert!(!env.journal.exists(), "a dry run journals nothing");
}

/// Broken, `--skip` would be ignored: an operator who keeps the sessions (to watch the
/// attacker) or the grants (to ask the owner first) would lose them.
#[test]
fn skip_containment_and_oauth2_leaves_sessions_and_grants() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "att-skip@evil.example", 2);
    let evil = env.kratos.add_consent(&id, "evil-app");
    env.kratos.set_consent_handled_at(&evil, minutes_ago(60));
    event(
        &db,
        &id,
        "email.changed",
        "2 hours",
        json!({"from": "skip@example.com", "to": "att-skip@evil.example"}),
    );
    event(
        &db,
        &id,
        "oauth2.consent.granted",
        "1 hour",
        json!({"client_id": "evil-app"}),
    );
    // --identity by its current login identifier works as well as by UUID.
    let r = restore_with_hydra(
        &env,
        &db,
        &[
            "--identity",
            "att-skip@evil.example",
            "--skip",
            "containment,oauth2",
            "--yes",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(email(&env, &id), "skip@example.com", "the rest is done");
    assert_eq!(live_sessions(&env, &id), 2);
    assert_eq!(consent_clients(&env, &id), ["evil-app"]);
    assert_eq!(env.kratos.tokens_of(&id), 2);
    assert!(env.kratos.backchannel_logouts().is_empty());
    assert!(
        !env.writes().iter().any(|w| w.starts_with("PUT")),
        "{:?}",
        env.writes()
    );
    assert!(password_works(&env, "skip@example.com", PASSWORD));
}

/// Broken, restore would end sessions and replace the password a second time, after the
/// owner may already have logged in again.
#[test]
fn containment_already_journaled_after_the_attack_is_not_repeated() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let db = TestDb::with_schema();
        let id = victim(&env, "att-done@evil.example", 2);
        event(
            &db,
            &id,
            "email.changed",
            "2 hours",
            json!({"from": "done@example.com", "to": "att-done@evil.example"}),
        );
        for step in ["revoke", "disable-password"] {
            let r = env.run(&[step, "--identity", &id, "--yes"]);
            assert_eq!(r.code, 0, "{flavour:?} {step}: {r:?}");
        }
        env.kratos.clear_requests();
        let r = restore(&env, &db, &["--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");
        assert_eq!(email(&env, &id), "done@example.com");
        let writes = env.writes();
        assert!(
            !writes.contains(&format!("DELETE /admin/identities/{id}/sessions")),
            "{flavour:?}: {writes:?}"
        );
        assert!(
            !writes.iter().any(|w| w.starts_with("PUT")),
            "{flavour:?}: {writes:?}"
        );
        assert_eq!(env.verify().code, 0);
    }
}

/// Broken, trait edits would be left (the attacker's name on the account) or set to an
/// intermediate value instead of the owner's.
#[test]
fn traits_go_back_to_their_value_before_the_first_change_in_the_window() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = env.kratos.add_identity(
        IdentitySeed::new("ann@example.com")
            .password(PASSWORD)
            .traits(json!({"email": "ann@example.com", "name": "Eve", "nickname": "mal"})),
    );
    event(
        &db,
        &id,
        "settings.changed",
        "3 hours",
        json!({"fields": ["name"], "before": {"name": "Ann"}, "after": {"name": "Mallory"}}),
    );
    event(
        &db,
        &id,
        "settings.changed",
        "2 hours",
        json!({"fields": ["name", "nickname"],
               "before": {"name": "Mallory", "nickname": "annie"},
               "after": {"name": "Eve", "nickname": "mal"}}),
    );
    let r = restore(
        &env,
        &db,
        &["--identity", &id, "--skip", "containment", "--yes"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let traits = &env.kratos.identity_json(&id).unwrap()["traits"];
    assert_eq!(
        traits,
        &json!({"email": "ann@example.com", "name": "Ann", "nickname": "annie"})
    );
    let patches = env
        .writes()
        .iter()
        .filter(|w| w.starts_with("PATCH"))
        .count();
    assert_eq!(patches, 2, "one PATCH per trait: {:?}", env.writes());
}

/// Broken, an application that records e-mail changes only in `user_email_changes` would
/// keep the attacker's address after restore, or restore would write to that table (only
/// `--reversal-key` may).
#[test]
fn an_email_change_known_only_from_user_email_changes_is_undone() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "att-uec@evil.example", 0);
    email_change(
        &db,
        &id,
        "uec@example.com",
        "att-uec@evil.example",
        "2 hours",
        &fresh_key("ck"),
        &fresh_key("rk"),
    );
    let before = dump(&db);
    let r = restore(
        &env,
        &db,
        &["--identity", &id, "--skip", "containment", "--yes"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(email(&env, &id), "uec@example.com");
    assert_eq!(dump(&db), before, "restore --identity writes nothing there");
}

/// Broken, the window would be ignored: changes before it (which the owner may have made)
/// would be undone, or `--from` would not reach back.
#[test]
fn the_window_decides_which_value_is_put_back() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "att-win@evil.example", 0);
    event(
        &db,
        &id,
        "email.changed",
        "30 hours",
        json!({"from": "win@example.com", "to": "mid-win@example.com"}),
    );
    event(
        &db,
        &id,
        "email.changed",
        "2 hours",
        json!({"from": "mid-win@example.com", "to": "att-win@evil.example"}),
    );
    // Default window, 24h: only the second change.
    let r = restore(
        &env,
        &db,
        &["--identity", &id, "--skip", "containment", "--yes"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(email(&env, &id), "mid-win@example.com");
    // From 36h ago: both, so the value before the first.
    let from = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(36)).to_string();
    let r = restore(
        &env,
        &db,
        &[
            "--identity",
            &id,
            "--from",
            &from,
            "--skip",
            "containment",
            "--yes",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(email(&env, &id), "win@example.com");
}

/// Broken, restore would run against nothing (no audit log: it cannot know what the
/// attacker changed), or report an unknown identity as a failure to retry.
#[test]
fn restore_usage_errors_and_an_unknown_identity() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "usage@example.com", 1);
    // Neither --identity nor --reversal-key.
    let r = restore(&env, &db, &["--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    // --identity without an audit database.
    let r = env.run(&["restore", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(env.kratos.requests().is_empty(), "nothing may be sent");
    // A reversal key with no database URL at all.
    let r = env.run_stdin(
        &["restore", "--reversal-key", "-", "--yes"],
        "rk-usage-key\n",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_nowhere(&env, &r, "rk-usage-key", "the reversal key");
    assert!(env.kratos.requests().is_empty(), "nothing may be sent");
    // An identity Kratos does not know.
    let r = restore(
        &env,
        &db,
        &[
            "--identity",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
            "--yes",
        ],
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert_eq!(live_sessions(&env, &id), 1);
}

/// Broken, a removal the Kratos version refuses would be retried (a 400 never changes its
/// mind), hidden, or would stop the rest of the restore.
#[test]
fn a_removal_the_version_refuses_is_said_once_and_the_rest_goes_on() {
    let env = Env::new(Flavour::V1_3);
    let db = TestDb::with_schema();
    let id = env.kratos.add_identity(
        IdentitySeed::new("refused-mfa@example.com")
            .password(PASSWORD)
            .totp(),
    );
    env.kratos.add_session(&id, SessionSeed::new());
    event(
        &db,
        &id,
        "mfa.enrolled",
        "1 hour",
        json!({"method": "totp"}),
    );
    let path = format!("/admin/identities/{id}/credentials/totp");
    env.kratos.inject(
        Fault::new(FaultKind::Json {
            status: 400,
            body: json!({"error": {"code": 400, "status": "Bad Request",
                "reason": "Credentials type totp cannot be deleted.",
                "message": "The request was malformed or contained invalid parameters"}}),
        })
        .on("DELETE", &path)
        .times(5),
    );
    let r = restore(&env, &db, &["--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(line.contains("refuses"), "{line}");
    assert!(line.contains("cannot be deleted"), "{line}");
    let deletes = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.method == "DELETE" && q.path.starts_with(&path))
        .count();
    assert_eq!(deletes, 1, "a refusal is not retried: {:?}", env.writes());
    // The rest went on: the session ended and the password no longer works.
    assert_eq!(live_sessions(&env, &id), 0);
    assert!(!password_works(&env, "refused-mfa@example.com", PASSWORD));
}

/// Broken, a key used once and run again later (the link clicked twice, a script retried)
/// would take away the keys of the owner's own later change and put an old address back over
/// the one the owner chose since.
#[test]
fn a_used_key_run_again_after_the_owner_moved_on_changes_nothing() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let c = three_changes(&env, &db, "moved");
    let r = reverse(&env, &db, &c.keys[0]);
    assert_eq!(r.code, 0, "{r:?}");
    // Back in, the owner moves to a new address: a new change, made after the reversal.
    let newest = format!("new-{}", c.emails[0]);
    let owner_row = email_change(
        &db,
        &c.id,
        &c.emails[0],
        &newest,
        "0 seconds",
        "ck-owner",
        "rk-owner",
    );
    db.sql(&format!(
        "UPDATE user_email_changes SET created_at = now() + interval '1 second' WHERE id = {owner_row};"
    ));
    let patched = env.kratos.identity_json(&c.id).unwrap();
    assert_eq!(patched["traits"]["email"], json!(c.emails[0]));
    let sid = env.kratos.add_session(&c.id, SessionSeed::new());
    env.kratos.clear_requests();
    let before = dump(&db);
    let again = reverse(&env, &db, &c.keys[0]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("nothing to do"), "{again:?}");
    assert!(again.stdout.contains("changed again"), "{again:?}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert_eq!(dump(&db), before, "nothing written to the database");
    assert!(!is_null(&db, owner_row, "reversal_key"));
    assert!(env.kratos.whoami(&sid), "the owner's new session is alive");
}

/// Broken, the owner's "this wasn't me" on today's change would put back the address of an
/// incident long closed (an older reversed change), undoing what the owner chose since.
#[test]
fn a_reversal_puts_back_its_own_change_not_an_older_incidents() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let tag = "older";
    let (a, x, b, y) = (
        format!("a-{tag}@example.com"),
        format!("x-{tag}@evil.example"),
        format!("b-{tag}@example.com"),
        format!("y-{tag}@evil.example"),
    );
    let id = victim(&env, &y, 1);
    // A month ago A → X, reversed then; ten days ago the owner moved A → B; an hour ago the
    // attacker moved B → Y.
    let old = email_change(&db, &id, &a, &x, "30 days", "ck-o", "rk-o");
    db.sql(&format!(
        "UPDATE user_email_changes SET reversed_at = created_at + interval '1 hour', confirm_key = NULL WHERE id = {old};"
    ));
    email_change(&db, &id, &a, &b, "10 days", "ck-b", "rk-b");
    let key = fresh_key("rk-y");
    email_change(&db, &id, &b, &y, "1 hour", "ck-y", &key);
    let r = reverse(&env, &db, &key);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(email(&env, &id), b, "the address before this change, not A");
}

/// Broken, ending one session with `revoke --session` would count as ending every session:
/// restore would leave the attacker's other sessions alive.
#[test]
fn a_one_session_revoke_is_not_containment() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let id = victim(&env, "att-one@evil.example", 2);
    event(
        &db,
        &id,
        "email.changed",
        "2 hours",
        json!({"from": "one@example.com", "to": "att-one@evil.example"}),
    );
    let sid = env.kratos.sessions_of(&id)[0].id.clone();
    let r = env.run(&["revoke", "--session", &sid, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.run(&["disable-password", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(live_sessions(&env, &id), 1);
    let r = restore(&env, &db, &["--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        live_sessions(&env, &id),
        0,
        "the other session was ended too"
    );
}

/// Broken, a social login of the attacker's unlinked after an earlier revoke would leave the
/// session it opened since alive.
#[test]
fn sessions_end_again_when_a_social_login_is_unlinked_after_containment() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let t = takeover(&env, &db, "again");
    for step in ["revoke", "disable-password"] {
        let r = env.run(&[step, "--identity", &t.id, "--yes"]);
        assert_eq!(r.code, 0, "{step}: {r:?}");
    }
    // The attacker signs in again through the linked Google account.
    env.kratos.add_session(&t.id, SessionSeed::new());
    env.kratos.clear_requests();
    let r = restore(&env, &db, &["--identity", &t.id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.kratos.oidc_identifiers(&t.id), ["google:owner-sub"]);
    assert_eq!(live_sessions(&env, &t.id), 0);
    // The password was disabled after the attack: not again.
    assert!(
        !env.writes().iter().any(|w| w.starts_with("PUT")),
        "{:?}",
        env.writes()
    );
}

/// Broken, OAuth2 grants from the window would stay, silently, when no Hydra URL is set.
#[test]
fn grants_in_the_window_without_hydra_are_not_called_restored() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let t = takeover(&env, &db, "nohydra");
    event(
        &db,
        &t.id,
        "oauth2.consent.granted",
        "2 hours",
        json!({"client_id": "evil-app"}),
    );
    let r = restore(&env, &db, &["--identity", &t.id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("HYDRA_ADMIN_URL"), "{}", r.stderr);
    // The rest was done.
    assert_eq!(email(&env, &t.id), t.owner);
}

/// Broken, the report and the owner's notice would not say that the address was put back
/// unverified and that no e-mail was sent.
#[test]
fn the_report_and_the_notice_say_what_restore_put_back() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let t = takeover(&env, &db, "report");
    let r = restore(&env, &db, &["--identity", &t.id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let team = env.run(&["report"]);
    assert_eq!(team.code, 0, "{team:?}");
    assert!(team.stdout.contains("| restore |"), "{}", team.stdout);
    assert!(team.stdout.contains("unverified"), "{}", team.stdout);
    assert!(team.stdout.contains("sent no e-mail"), "{}", team.stdout);
    // The sessions restore ended are the report's evidence, recorded before they ended.
    assert!(team.stdout.contains("203.0.113.60"), "{}", team.stdout);
    let user = env.run(&["report", "--audience", "user"]);
    assert_eq!(user.code, 0, "{user:?}");
    for said in [
        "put back the e-mail address",
        "unconfirmed",
        "did not send any e-mail",
        "removed a way of signing in",
        "removed two-step verification",
        "old password no longer works",
        "signed your account out everywhere",
    ] {
        assert!(user.stdout.contains(said), "{said:?} in {}", user.stdout);
    }
    // The notice names no identity id and no IP.
    assert!(!user.stdout.contains(&t.id), "{}", user.stdout);
    assert!(!user.stdout.contains("203.0.113."), "{}", user.stdout);
}

/// Broken, a dry run of a reversal would write the database or Kratos, show the key, or plan
/// another address than the run puts back.
#[test]
fn a_reversal_dry_run_shows_the_plan_and_changes_nothing() {
    let env = Env::new(Flavour::Current);
    let db = TestDb::with_schema();
    let c = three_changes(&env, &db, "dry");
    let before = dump(&db);
    env.kratos.clear_requests();
    let r = run(reversal(&env, &db, &c.keys[1]).arg("--dry-run"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("PATCH"), "{}", r.stdout);
    assert!(r.stdout.contains(&c.emails[1]), "{}", r.stdout);
    assert!(r.stdout.contains("one transaction"), "{}", r.stdout);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert_eq!(dump(&db), before);
    assert!(!env.journal.exists() || !env.journal_text().contains("restore"));
    assert_nowhere(&env, &r, &c.keys[1], "the reversal key");
}
