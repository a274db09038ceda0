//! atoctl against a lying or broken server (issue 12): what a server says is bounded by what
//! atoctl is willing to believe. Each test would fail (hang, page without end, or act on a
//! listing it could not trust) if the bound were gone.

mod audit_support;
mod common;

use common::*;
use serde_json::json;

/// One page of one session of `id`, with a total of sessions no identity has and a
/// `rel="next"` link in Kratos's form (an offset token), so that there is always a next page.
fn lying_page(id: &str, sid: &str) -> FaultKind {
    use base64::Engine;
    let token =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":"500","v":2}"#);
    FaultKind::JsonWithHeaders {
        status: 200,
        body: json!([{"id": sid, "active": true,
            "identity": {"id": id, "state": "active"}, "devices": []}]),
        headers: vec![
            ("x-total-count".into(), "999999999999".into()),
            (
                "link".into(),
                format!(
                    "</admin/identities/{id}/sessions?page_size=500&page_token={token}>; rel=\"next\""
                ),
            ),
        ],
    }
}

fn listing_requests(env: &Env, id: &str) -> usize {
    let path = format!("/admin/identities/{id}/sessions");
    env.kratos
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&path))
        .count()
}

/// Broken, a server that hands out the same page forever (and claims a trillion sessions)
/// would keep `sessions` paging without end, and `revoke` would never reach its DELETE.
#[test]
fn the_same_page_forever_ends_the_listing_as_incomplete() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "samepage@example.com", 1);
    let sid = env.kratos.sessions_of(&id)[0].id.clone();
    env.kratos.inject(
        Fault::new(lying_page(&id, &sid))
            .on("GET", &format!("/admin/identities/{id}/sessions"))
            .times(100_000),
    );
    let r = env.run(&["sessions", "--identity", &id]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("incomplete"), "{}", r.stderr);
    assert!(r.stderr.contains("repeats itself"), "{}", r.stderr);
    // The first page, its known repeat (reference §14), one more: then atoctl stops.
    assert_eq!(listing_requests(&env, &id), 3);

    // revoke does not hard-delete on such a listing: the listed session is disabled softly,
    // and the step fails saying why.
    env.kratos.clear_requests();
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("repeats itself"), "{}", r.stderr);
    assert!(
        !env.writes()
            .contains(&format!("DELETE /admin/identities/{id}/sessions")),
        "{:?}",
        env.writes()
    );
}

/// Broken, a server that hands out new ids on every page would keep atoctl paging (and
/// growing) for as long as it claims sessions.
#[test]
fn new_ids_on_every_page_stop_at_the_page_cap() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "endless@example.com", 1);
    for _ in 0..60 {
        env.kratos.inject(
            Fault::new(lying_page(&id, &uuid::Uuid::new_v4().to_string()))
                .on("GET", &format!("/admin/identities/{id}/sessions")),
        );
    }
    let r = env.run(&["sessions", "--identity", &id, "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("stopped after 40 pages"), "{}", r.stderr);
    assert_eq!(listing_requests(&env, &id), 40);
    assert_eq!(r.json()["complete"], json!(false), "{}", r.stdout);
}

/// Broken, the listing's deadline would be checked only between pages: a page held by 429s
/// (a wait of 3 s fits its call's own deadline of 20 × 0.2 s) would carry the listing on past
/// its 15 × 0.2 s, and then fail it on the next 429. The listing ends at 3 s during its second
/// page, incomplete, with what the first page held.
#[test]
fn the_page_in_flight_ends_at_the_listings_deadline() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "heldpage@example.com", 1);
    let path = format!("/admin/identities/{id}/sessions");
    let sid = uuid::Uuid::new_v4().to_string();
    env.kratos
        .inject(Fault::new(lying_page(&id, &sid)).on("GET", &path));
    env.kratos.inject(
        Fault::new(FaultKind::RateLimit { reset_secs: 3 })
            .on("GET", &path)
            .times(100),
    );
    let r = env.run(&[
        "--timeout",
        "0.2",
        "sessions",
        "--identity",
        &id,
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("deadline"), "{}", r.stderr);
    assert!(r.stderr.contains("during page 2"), "{}", r.stderr);
    assert_eq!(r.json()["complete"], json!(false), "{}", r.stdout);
    assert_eq!(r.json()["sessions"][0]["id"], json!(sid), "{}", r.stdout);
}

/// Broken, the admin token would have to sit in argv (readable in /proc by every local user)
/// with no word said, and a token pasted with its newline would fail every request obscurely.
#[test]
fn the_token_comes_from_a_file_or_stdin_and_an_argument_is_warned_about() {
    let env = Env::with_config(Config {
        require_token: Some("ory_pat_good".into()),
        ..Config::default()
    });
    let id = victim(&env, "token@example.com", 1);
    let file = env.dir.path().join("token");
    std::fs::write(&file, "ory_pat_good\n").unwrap();
    let path = file.to_string_lossy().to_string();
    let r = env.run(&["sessions", "--identity", &id, "--kratos-token-file", &path]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("process list"), "{}", r.stderr);

    let r = env.run_stdin(
        &["sessions", "--identity", &id, "--kratos-token-file", "-"],
        "ory_pat_good\n",
    );
    assert_eq!(r.code, 0, "{r:?}");

    let r = env.run(&[
        "sessions",
        "--identity",
        &id,
        "--kratos-token",
        "ory_pat_good",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("process list"), "{}", r.stderr);
    assert!(!r.all().contains("ory_pat_good"), "{}", r.all());

    // From the environment, nothing is said.
    let r = run(env.cmd().env("KRATOS_ADMIN_TOKEN", "ory_pat_good").args([
        "sessions",
        "--identity",
        &id,
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("process list"), "{}", r.stderr);

    // A token with a line break in it is named as such, and nothing is sent.
    env.kratos.clear_requests();
    let r = run(env
        .cmd()
        .env("KRATOS_ADMIN_TOKEN", "ory_pat_good\nx")
        .args(["sessions", "--identity", &id]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("line break"), "{}", r.stderr);
    assert!(env.kratos.requests().is_empty());

    // `-` and a command that reads stdin too cannot share it.
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes", "--kratos-token-file", "-"],
        &id,
    );
    assert_eq!(r.code, 2, "{r:?}");
}

/// Broken, a password's full SHA-1 given as an argument would sit in the process list with no
/// word said.
#[test]
fn a_hash_on_the_command_line_is_warned_about() {
    let r = run(atoctl_testkit::atoctl().args([
        "hibp-check",
        "--sha1",
        "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8",
        "--api-url",
        "http://127.0.0.1:9",
    ]));
    assert!(r.stderr.contains("process list"), "{r:?}");
    let r = run(atoctl_testkit::atoctl()
        .args([
            "hibp-check",
            "--sha1",
            "-",
            "--api-url",
            "http://127.0.0.1:9",
        ])
        .write_stdin("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8\n"));
    assert!(!r.stderr.contains("process list"), "{r:?}");
    // The hash was read and used (the range API, refused here, was asked).
    assert_eq!(r.code, 1, "{r:?}");
}

/// A port that accepts connections and never speaks, held open for the test's life.
fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

/// `audit-query --timeout 1` against the database at `url`, which must fail (exit 1): its
/// error line.
fn audit_query_failing_at(url: &str) -> String {
    let r = run(atoctl_testkit::atoctl().args([
        "audit-query",
        "--identity",
        "aaaaaaaa-0000-4000-8000-000000000001",
        "--timeout",
        "1",
        "--database-url",
        url,
    ]));
    assert_eq!(r.code, 1, "{r:?}");
    r.error_line()
}

/// Broken, a database URL pointing at something that accepts TCP and never answers (a stalled
/// proxy) would hang the step until someone killed it: statement_timeout needs a server that
/// speaks.
#[test]
fn a_database_that_never_answers_fails_naming_the_stage() {
    let port = silent_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/audit");
    let line = audit_query_failing_at(&url);
    assert!(line.contains("did not complete the connection"), "{line}");
    assert!(line.contains("TCP and login"), "{line}");
    // With TLS asked for, the stage says so.
    let r = run(atoctl_testkit::atoctl().args([
        "pattern-scan",
        "--ip",
        "203.0.113.7",
        "--timeout",
        "1",
        "--database-url",
        &format!("{url}?sslmode=require"),
    ]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("TLS handshake"), "{}", r.stderr);
}

/// Broken, a server's error text would reach the terminal raw (escape sequences that clear
/// the screen, NUL, right-to-left overrides) and whole (a 1 MiB message as one stderr line and
/// megabytes of journal).
#[test]
fn server_text_is_escaped_and_shortened_on_stderr_and_in_the_journal() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "loud@example.com", 1);
    let loud = format!("\u{1b}[2J\u{0}\u{202e}evil{}", "x".repeat(200_000));
    env.kratos.inject(
        Fault::new(FaultKind::Json {
            status: 400,
            body: json!({"error": {"code": 400, "status": "Bad Request",
                "reason": loud, "message": loud}}),
        })
        .on("DELETE", &format!("/admin/identities/{id}/sessions")),
    );
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{}", r.stderr.len());
    for bad in ['\u{1b}', '\u{0}', '\u{202e}'] {
        assert!(!r.stderr.contains(bad), "{bad:?} reached stderr");
        assert!(!r.stdout.contains(bad), "{bad:?} reached stdout");
    }
    assert!(
        r.stderr.contains("\\u{1b}[2J"),
        "escaped, still readable: {}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    let longest = r.stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 4_000, "a stderr line of {longest} bytes");
    let journal = env.journal_text();
    assert!(!journal.contains("\\u001b"), "raw escape in the journal");
    let longest = journal.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 16_000, "a journal line of {longest} bytes");
    assert_eq!(env.verify().code, 0);
}

/// Broken, a device's user agent holding a right-to-left override (or ESC, or a C1 control)
/// would sit raw in the journal's evidence, reordering the line for whoever reads the file, and
/// reach `incident show` and the report. The journal keeps the value whole (it reads back
/// character for character) but escaped; what is shown is escaped.
#[test]
fn evidence_is_kept_whole_but_escaped() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "rlo@example.com", 0);
    let agent = "Mozilla/5.0 \u{202e}gpj.exe\u{1b}[31m\u{9b}2J\u{2028}end";
    env.kratos.add_session(
        &id,
        SessionSeed::new().device("198.51.100.9", agent, "Lagos, NG"),
    );
    let listed = env.run(&["sessions", "--identity", &id]);
    assert_eq!(listed.code, 0, "{listed:?}");
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let journal = env.journal_text();
    for raw in ['\u{202e}', '\u{1b}', '\u{9b}', '\u{2028}'] {
        assert!(
            !listed.stdout.contains(raw),
            "{raw:?} in the sessions table"
        );
        assert!(!journal.contains(raw), "{raw:?} raw in the journal");
    }
    assert!(journal.contains("\\u202e"), "{journal}");
    // Whole: the evidence reads back as the server sent it.
    let kept = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|v| json_holds(&v, agent));
    assert!(
        kept,
        "the user agent is not in the journal whole: {journal}"
    );
    assert_eq!(env.verify().code, 0);
    for shown in [env.run(&["incident", "show"]), env.run(&["report"])] {
        assert_eq!(shown.code, 0, "{shown:?}");
        for raw in ['\u{202e}', '\u{1b}', '\u{9b}', '\u{2028}'] {
            assert!(
                !shown.stdout.contains(raw),
                "{raw:?} shown raw: {}",
                shown.stdout
            );
        }
    }
}

/// Whether `agent` is one of the strings somewhere in `v`.
fn json_holds(v: &serde_json::Value, agent: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s == agent,
        serde_json::Value::Array(a) => a.iter().any(|x| json_holds(x, agent)),
        serde_json::Value::Object(o) => o.values().any(|x| json_holds(x, agent)),
        _ => false,
    }
}

/// Broken, a journal path that is a FIFO would block every command forever (and a directory
/// would fail late, after requests): refused with exit 2 before anything is sent.
#[test]
fn a_journal_that_is_not_a_regular_file_is_refused_before_any_request() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "fifo@example.com", 1);
    let fifo = env.dir.path().join("fifo.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let dir = env.dir.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    for (path, kind) in [(&fifo, "FIFO"), (&dir, "directory")] {
        env.kratos.clear_requests();
        for args in [
            vec!["revoke", "--identity", id.as_str(), "--yes"],
            vec!["sessions", "--identity", id.as_str()],
            vec!["incident", "verify"],
        ] {
            let r = run(env.cmd().env("ATOCTL_INCIDENT", path).args(&args));
            assert_eq!(r.code, 2, "{args:?} on a {kind}: {r:?}");
            assert!(r.error_line().contains(kind), "{}", r.stderr);
        }
        assert!(
            env.kratos.requests().is_empty(),
            "{kind}: {:?}",
            env.kratos.requests()
        );
    }
}

/// Broken, a step (changing or only reading, or a note) would append to a journal whose chain
/// is broken (its evidence can no longer be trusted) without a word, after sending its requests.
#[test]
fn a_damaged_journal_stops_every_appending_step_unless_forced() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "damaged@example.com", 1);
    let r = env.run(&["incident", "open", "--identity", &id]);
    assert_eq!(r.code, 0, "{r:?}");
    for text in ["first note", "second note"] {
        let r = env.run(&["incident", "note", "--text", text]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // Someone edits the first note afterwards (the second's `prev` no longer matches).
    let text = env.journal_text().replace("first note", "other note");
    std::fs::write(&env.journal, text).unwrap();
    env.kratos.clear_requests();
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.error_line().contains("damaged at line 3"), "{}", r.stderr);
    // A read appends its entry too: refused the same way, before its first request.
    for read in [
        vec!["sessions", "--identity", id.as_str()],
        vec!["identity", "--identity", id.as_str()],
        vec!["incident", "note", "--text", "third note"],
    ] {
        let r = env.run(&read);
        assert_eq!(r.code, 5, "{read:?}: {r:?}");
        assert!(r.error_line().contains("damaged at line 3"), "{}", r.stderr);
    }
    assert!(
        env.kratos.requests().is_empty(),
        "{:?}",
        env.kratos.requests()
    );
    // What only reads the journal still reads it, damage and all.
    assert_eq!(env.run(&["incident", "show"]).code, 0);
    assert_eq!(env.verify().code, 5);
    // The same journal found as the identity's open incident (no --incident): refused before
    // the first request too, by a step and by the playbook.
    let dir = env.dir.path().join("incidents");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&env.journal, dir.join("damaged.jsonl")).unwrap();
    for args in [
        vec!["revoke", "--identity", id.as_str(), "--yes"],
        vec!["respond", "--identity", id.as_str(), "--yes"],
    ] {
        let r = run(env
            .cmd()
            .env_remove("ATOCTL_INCIDENT")
            .env("ATOCTL_INCIDENT_DIR", &dir)
            .args(&args));
        assert_eq!(r.code, 5, "{args:?}: {r:?}");
        assert!(r.error_line().contains("damaged at line 3"), "{}", r.stderr);
    }
    assert!(
        env.kratos.requests().is_empty(),
        "{:?}",
        env.kratos.requests()
    );
    // Forced, the damage is said once, though the chain is checked before the first request
    // and where the journal is opened.
    let r = run(env
        .cmd()
        .env_remove("ATOCTL_INCIDENT")
        .env("ATOCTL_INCIDENT_DIR", &dir)
        .args(["lock", "--identity", &id, "--yes", "--force-append"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr.matches("appending anyway").count(),
        1,
        "{}",
        r.stderr
    );
    // The operator who knows appends anyway; the damage stays where it is.
    let r = env.run(&["revoke", "--identity", &id, "--yes", "--force-append"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("appending anyway"), "{}", r.stderr);
    assert_eq!(live_sessions(&env, &id), 0);
    assert_eq!(env.verify().code, 5);

    // A torn last line (a crash mid-write) cannot be chained after, forced or not; it is said
    // before anything is sent.
    let mut text = env.journal_text();
    text.push_str("{\"seq\":99,\"ts\":\"2026-");
    std::fs::write(&env.journal, text).unwrap();
    let other = victim(&env, "damaged-too@example.com", 1);
    env.kratos.clear_requests();
    let r = env.run(&["revoke", "--identity", &other, "--yes", "--force-append"]);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.stderr.contains("not whole"), "{}", r.stderr);
    assert!(
        env.kratos.requests().is_empty(),
        "{:?}",
        env.kratos.requests()
    );
}

/// Broken, a step would wait without end, and without a word, for a journal lock another
/// process holds.
#[test]
fn a_held_journal_lock_is_said_and_the_step_goes_on_once_it_is_free() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "locked@example.com", 1);
    let r = env.run(&["incident", "open", "--identity", &id]);
    assert_eq!(r.code, 0, "{r:?}");
    let held = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(&env.journal)
        .unwrap();
    held.lock().unwrap();
    let mut step = atoctl_testkit::atoctl_process();
    let mut child = step
        .current_dir(env.dir.path())
        .env("KRATOS_ADMIN_URL", env.kratos.url())
        .env("ATOCTL_INCIDENT", &env.journal)
        .args(["revoke", "--identity", &id, "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start atoctl");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut err, &mut line).unwrap();
        assert!(n > 0, "ended without waiting: {said}");
        said.push_str(&line);
        if line.contains("waiting for the lock of journal") {
            break;
        }
    }
    assert!(said.contains("held by process"), "{said}");
    // While it waits, nothing destructive was sent.
    assert_eq!(live_sessions(&env, &id), 1);
    held.unlock().unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(live_sessions(&env, &id), 0);
    assert_eq!(env.verify().code, 0);
}

/// The identity's sessions that are live in the double.
fn live_sessions(env: &Env, id: &str) -> usize {
    env.kratos
        .sessions_of(id)
        .iter()
        .filter(|s| s.db_active)
        .count()
}

/// Broken, the last line of a journal could be edited or removed with `incident verify` still
/// saying "intact": the head hash recorded in the ticket is what shows it.
#[test]
fn a_recorded_head_catches_an_edited_or_removed_last_line() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&[
        "incident",
        "open",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.run(&["incident", "note", "--text", "the last word"]);
    assert_eq!(r.code, 0, "{r:?}");
    let shown = env.run(&["incident", "show", "-o", "json"]);
    let head = shown.json()["head"].as_str().unwrap().to_string();
    let short = &head[..12];
    let r = env.run(&["incident", "show"]);
    assert!(r.stdout.contains(&head), "{}", r.stdout);
    let r = env.run(&["incident", "verify", "--head", short]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("ends at the recorded head"),
        "{}",
        r.stdout
    );

    // Entries appended since are fine: the chain passes through the recorded head.
    let r = env.run(&["incident", "note", "--text", "later"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.run(&["incident", "verify", "--head", short]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("1 entry came after it"), "{}", r.stdout);

    // The recorded last line edited (and what followed it dropped): plain verify cannot tell,
    // --head can.
    let text = env.journal_text();
    let lines: Vec<&str> = text.lines().collect();
    let edited = format!(
        "{}\n{}\n",
        lines[0],
        lines[1].replace("the last word", "a different word")
    );
    std::fs::write(&env.journal, edited).unwrap();
    assert_eq!(
        env.verify().code,
        0,
        "the documented limit of the chain alone"
    );
    let r = env.run(&["incident", "verify", "--head", short]);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.error_line().contains("not in the chain"), "{}", r.stderr);
    let r = env.run(&["incident", "verify", "--head", "xyz"]);
    assert_eq!(r.code, 2, "{r:?}");
}

/// Runs a bulk revoke of `ids` (two at a time, each delete held back by the double), sends
/// `signal` once two results are out, and returns the exit code, stdout and the ids.
fn interrupted_bulk(env: &Env, ids: &[String], signal: &str) -> (Option<i32>, String) {
    use std::io::{BufRead, Write};
    env.kratos.inject(
        Fault::new(FaultKind::Delay(std::time::Duration::from_millis(300)))
            .on("DELETE", "/admin/identities/")
            .times(10_000),
    );
    let mut child = atoctl_testkit::atoctl_process()
        .current_dir(env.dir.path())
        .env("KRATOS_ADMIN_URL", env.kratos.url())
        .env("ATOCTL_INCIDENT", &env.journal)
        .args(["revoke", "--stdin", "--yes", "--concurrency", "2"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start atoctl");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(ids.join("\n").as_bytes()).unwrap();
    drop(stdin);
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while seen.lines().count() < 2 {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "ended early: {seen}");
        seen.push_str(&line);
    }
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    seen.push_str(&rest);
    (child.wait().unwrap().code(), seen)
}

/// Broken, Ctrl-C in a bulk run would kill it on the spot: no summary, no journal entry saying
/// what was and was not done, result lines lost.
#[test]
fn ctrl_c_and_sigterm_in_a_bulk_run_finish_what_is_in_flight_and_say_the_rest() {
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let env = Env::new(Flavour::Current);
        let ids: Vec<String> = (0..30)
            .map(|i| victim(&env, &format!("bulk{i}@example.com"), 1))
            .collect();
        let (exit, stdout) = interrupted_bulk(&env, &ids, signal);
        assert_eq!(exit, Some(code), "{stdout}");
        assert!(stdout.contains("interrupted after"), "{stdout}");
        assert!(stdout.contains(name), "{stdout}");
        let records = env.records();
        let summary = records
            .iter()
            .rev()
            .find(|r| r["interrupted"] == name)
            .expect("the interruption is journaled");
        let done: Vec<String> = summary["done"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let not_done = summary["not_done"].as_array().unwrap().len();
        assert!(!done.is_empty() && not_done > 0, "{summary}");
        assert_eq!(done.len() + not_done, ids.len(), "{summary}");
        // What the operator saw is what was done: one result line per identity done.
        let shown = stdout.lines().filter(|l| l.starts_with("ok ")).count();
        assert_eq!(shown, done.len(), "{stdout}");
        for id in &ids {
            let live = live_sessions(&env, id);
            assert_eq!(live == 0, done.contains(id), "{id}: {live} live");
        }
        assert_eq!(env.verify().code, 0);
    }
}

/// Broken, a TLS failure (here: https:// to a port that speaks plain HTTP) would be retried as
/// if the server were down, with the hint "is Kratos running?".
#[test]
fn a_tls_failure_is_not_retried_and_says_what_it_is() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "tls@example.com", 1);
    let https = env.kratos.url().replace("http://", "https://");
    let r = run(env
        .cmd()
        .env("KRATOS_ADMIN_URL", &https)
        .args(["sessions", "--identity", &id]));
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(line.contains("TLS failed"), "{line}");
    assert!(line.contains("does not speak TLS"), "{line}");
    assert!(!line.contains("is Kratos running"), "{line}");
    assert!(!r.stderr.contains("retrying"), "{}", r.stderr);
}

/// Broken, a Hydra whose consent listing never ends (the same page with a `next` link forever)
/// would keep a step paging for ten thousand pages.
#[test]
fn a_consent_listing_that_repeats_itself_is_not_followed() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "hydraloop@example.com", 1);
    let page = json!([{
        "consent_request_id": "c1", "grant_scope": ["openid"], "remember": true,
        "handled_at": "2026-12-01T00:00:00Z",
        "consent_request": {"subject": id, "client": {"client_id": "app"}, "login_session_id": "ls1"}
    }]);
    env.kratos.inject(
        Fault::new(FaultKind::JsonWithHeaders {
            status: 200,
            body: page,
            headers: vec![(
                "link".into(),
                format!("</admin/oauth2/auth/sessions/consent?subject={id}&page_token=again>; rel=\"next\""),
            )],
        })
        .on("GET", "/admin/oauth2/auth/sessions/consent")
        .times(10_000),
    );
    let r = env.run_with_hydra(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("repeated"), "{}", r.stderr);
    let listed = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.path.starts_with("/admin/oauth2/auth/sessions/consent"))
        .count();
    assert_eq!(
        listed, 2,
        "the first page and its repeat, then atoctl stops"
    );
}

fn requests_to(env: &Env, method: &str, path: &str) -> usize {
    env.kratos
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(path))
        .count()
}

/// Broken, a server that answers every attempt with a 429 asking for a wait would hold one
/// call for `retries` × its wait, whatever `--timeout` says: with `--timeout 0.2` no call goes
/// on retrying past 4 s (20×), so the second wait of 3 s is not taken.
#[test]
fn a_call_stops_retrying_at_its_deadline() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "patience@example.com", 1);
    env.kratos.inject(
        Fault::new(FaultKind::RateLimit { reset_secs: 3 })
            .on("GET", &format!("/admin/identities/{id}$"))
            .times(100),
    );
    let r = env.run(&["--timeout", "0.2", "lock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not retried"), "{}", r.stderr);
    assert!(r.stderr.contains("20× --timeout"), "{}", r.stderr);
    // The first answer's wait fitted; the second's did not: two requests, not five.
    assert_eq!(
        requests_to(&env, "GET", &format!("/admin/identities/{id}")),
        2
    );
    assert_eq!(requests_to(&env, "PATCH", "/admin/identities"), 0);
}

/// Broken, a step whose reads each fit their own deadline would still look for as long as the
/// server likes: two reads held 3 s each (within their calls' 20 × 0.18 s) pass the look's
/// deadline of 30 × 0.18 s, and the step ends there (exit 1, nothing changed) instead of
/// revoking after 6 s.
#[test]
fn a_step_does_not_look_past_its_deadline() {
    let env = Env::new(Flavour::Current);
    let email = "slowlook@example.com";
    let id = victim(&env, email, 2);
    for path in [
        "/admin/identities$".to_string(),
        format!("/admin/identities/{id}/sessions"),
    ] {
        env.kratos
            .inject(Fault::new(FaultKind::RateLimit { reset_secs: 3 }).on("GET", &path));
    }
    let r = env.run(&["--timeout", "0.18", "revoke", "--identity", email, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("did not finish within its deadline"),
        "{line}"
    );
    assert!(line.contains("nothing was changed"), "{line}");
    assert_eq!(requests_to(&env, "DELETE", "/admin"), 0);
    assert_eq!(live_sessions(&env, &id), 2);
}

/// Runs `program args` under `ulimit -c unlimited` in `dir`, waits until it is running (its
/// second thread started, or 10 s), sends it SIGABRT and says whether a core file appeared.
fn aborted_leaves_a_core(
    dir: &std::path::Path,
    program: &std::path::Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> bool {
    use std::process::{Command, Stdio};
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -c unlimited && exec "$@""#)
        .arg("bash")
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("ATOCTL_INCIDENT", dir.join("incident.jsonl"))
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    // Running: exec done, and every thread asleep (waiting for stdin) at two looks in a row.
    let program = std::fs::canonicalize(program).expect("program");
    let settled = || {
        std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == program)
            && std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
                tasks.filter_map(|t| t.ok()).all(|t| {
                    std::fs::read_to_string(t.path().join("stat"))
                        .ok()
                        .and_then(|st| st.rsplit_once(") ").map(|(_, r)| r.starts_with('S')))
                        .unwrap_or(false)
                })
            })
    };
    let mut calm = 0;
    for _ in 0..200 {
        calm = if settled() { calm + 1 } else { 0 };
        if calm == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-ABRT", &pid.to_string()])
        .status();
    let status = child.wait().expect("wait");
    drop(child.stdin.take());
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(6),
        "{status:?}"
    );
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("core"))
}

/// Broken, an abort (a panic with `panic = "abort"`, SIGABRT, SIGQUIT) would write a core file
/// holding the admin token. On a machine that writes core files at all (the control: `sleep`
/// leaves one), atoctl leaves none.
#[test]
fn an_aborted_atoctl_leaves_no_core_file() {
    let control = tempfile::tempdir().expect("tempdir");
    let sleep = std::path::PathBuf::from("/bin/sleep");
    if !aborted_leaves_a_core(control.path(), &sleep, &["30"], &[]) {
        eprintln!(
            "this machine writes no core files (kernel.core_pattern: {:?}); nothing to compare",
            std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default()
        );
        return;
    }
    let env = Env::new(Flavour::Current);
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = std::fs::canonicalize(atoctl_testkit::atoctl_bin()).expect("atoctl");
    // `revoke --stdin` with the token in the environment waits for identities on stdin.
    let url = env.kratos.url();
    let envs = [
        ("KRATOS_ADMIN_URL", url.as_str()),
        ("KRATOS_ADMIN_TOKEN", "ory_pat_core-dump-canary"),
    ];
    assert!(
        !aborted_leaves_a_core(dir.path(), &bin, &["revoke", "--stdin", "--yes"], &envs),
        "atoctl left a core file"
    );
}

/// A TCP proxy to the test database's server that passes everything through until the client
/// sends `marker` (the text of atoctl's query, in a Parse or Query message), then passes
/// nothing more either way and holds both connections open: a connection that stalls after
/// login, as a proxy or a network can. Returns the URL of `db` through it.
fn stalling_proxy(db: &audit_support::TestDb, marker: &'static [u8]) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    // postgres://user@HOST[:PORT]/name?…: the server's address, and the URL without it.
    let real = db.url();
    let rest = real.split_once("://").map(|(_, r)| r).expect("db url");
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let hostport = authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .to_string();
    let upstream = if hostport.contains(':') {
        hostport.clone()
    } else {
        format!("{hostport}:5432")
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let stalled = Arc::new(AtomicBool::new(false));
            let pump =
                |mut from: TcpStream, mut to: TcpStream, watch: bool, stalled: Arc<AtomicBool>| {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 65536];
                        let mut tail: Vec<u8> = Vec::new();
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            if watch {
                                tail.extend_from_slice(&buf[..n]);
                                if tail.windows(marker.len()).any(|w| w == marker) {
                                    stalled.store(true, Ordering::SeqCst);
                                }
                                let keep = tail.len().saturating_sub(marker.len());
                                tail.drain(..keep);
                            }
                            if stalled.load(Ordering::SeqCst) {
                                continue;
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    })
                };
            let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            pump(c2, s2, true, stalled.clone());
            pump(
                server.try_clone().expect("clone"),
                client.try_clone().expect("clone"),
                false,
                stalled,
            );
            held.push((client, server));
        }
    });
    // In the clear, so that the proxy sees the query go by.
    let through = real.replacen(&hostport, &format!("127.0.0.1:{port}"), 1);
    let sep = if through.contains('?') { '&' } else { '?' };
    format!("{through}{sep}sslmode=disable")
}

/// Broken, a connection that logs in and then stalls (the query sent, no answer ever) would
/// hang `audit-query --timeout 1` until killed: the server's statement_timeout never reaches
/// atoctl through a stalled connection. The client's own deadline ends it, naming the query.
#[test]
fn a_database_that_stalls_mid_query_fails_naming_the_query() {
    let db = audit_support::TestDb::with_schema();
    let url = stalling_proxy(&db, b"security_audit");
    let line = audit_query_failing_at(&url);
    assert!(line.contains("stopped answering during"), "{line}");
    assert!(line.contains("query"), "{line}");
    assert!(!line.contains("did not complete the connection"), "{line}");
}

/// A TLS server whose certificate no one trusts (self-signed, made for the test), counting the
/// connections it is offered.
fn untrusted_tls_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::Read;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![made.cert.der().clone()], key)
    .expect("server config");
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let _ = tls.read(&mut [0u8; 1024]);
        }
    });
    (port, connections)
}

/// Broken, an untrusted certificate (self-signed, another CA) would be retried as if the
/// server were down, with the hint "is Kratos running?".
#[test]
fn an_untrusted_certificate_is_not_retried_and_says_what_it_is() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "selfsigned@example.com", 1);
    let (port, connections) = untrusted_tls_server();
    let r = run(env
        .cmd()
        .env("KRATOS_ADMIN_URL", format!("https://127.0.0.1:{port}"))
        .args(["sessions", "--identity", &id]));
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(line.contains("TLS failed"), "{line}");
    assert!(line.contains("not trusted"), "{line}");
    assert!(!line.contains("is Kratos running"), "{line}");
    assert!(!r.stderr.contains("retrying"), "{}", r.stderr);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}
