//! `atoctl hibp-check` against the range API double: k-anonymity, padding, fail-closed.

mod hibp_support;

use std::time::Duration;

use atoctl_testkit::hibp::{Config, Mode, RangeDouble, RecordedRequest};
use hibp_support::*;
use serde_json::json;

/// A password whose SHA-1 prefix has a letter in it (so that no run of digits, like a port or a
/// timestamp, can be mistaken for it).
const PW: &str = "correct horse battery staple";

fn double_with(password: &str, count: u64) -> RangeDouble {
    let d = RangeDouble::start(Config::default());
    d.add_password(password, count);
    d
}

fn check_stdin(d: &RangeDouble, stdin: &str, extra: &[&str]) -> Run {
    run(atoctl()
        .args(["hibp-check", "--stdin", "--api-url", &d.url()])
        .args(extra)
        .write_stdin(stdin))
}

/// The only request: GET /range/PREFIX with padding asked for and atoctl's user agent, and not
/// one byte of the hash past the prefix anywhere in it.
fn assert_only_prefix_sent(reqs: &[RecordedRequest], password: &str, hex: &str) {
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, format!("/range/{}", &hex[..5]));
    assert_eq!(r.header("add-padding"), Some("true"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("atoctl/", env!("CARGO_PKG_VERSION")))
    );
    assert!(r.body.is_empty());
    assert_no_secret("the request", &r.everything(), password, hex);
}

#[test]
fn a_pwned_password_exits_4_with_its_count_and_only_the_prefix_leaves() {
    let hex = sha1_hex(PW);
    assert!(hex[..5].bytes().any(|b| b.is_ascii_alphabetic()));
    let d = double_with(PW, 12_345);
    let r = check_stdin(&d, &format!("{PW}\n"), &["-o", "json"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(
        r.json(),
        json!({"pwned": true, "count": 12345, "source": "api"})
    );
    let reqs = d.requests();
    assert_only_prefix_sent(&reqs, PW, &hex);
    assert_eq!(reqs[0].query, None);
    assert_no_secret("stdout", &r.stdout, PW, &hex);
    assert_no_secret("stderr", &r.stderr, PW, &hex);
}

#[test]
fn a_password_not_in_the_corpus_exits_0() {
    let d = double_with("something else entirely", 7);
    let r = check_stdin(&d, &format!("{PW}\n"), &["-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json(),
        json!({"pwned": false, "count": 0, "source": "api"})
    );
}

#[test]
fn a_padding_line_for_the_very_suffix_is_not_a_hit() {
    // The answer lists the password's own suffix with count 0, as padding does: not found.
    let d = double_with(PW, 0);
    let r = check_stdin(&d, &format!("{PW}\n"), &["-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["pwned"], json!(false));
}

#[test]
fn table_output_says_pwned_with_the_count() {
    let d = double_with(PW, 3_861_493);
    let r = check_stdin(&d, &format!("{PW}\n"), &[]);
    assert_eq!(r.code, 4);
    assert!(r.stdout.contains("PWNED"), "{}", r.stdout);
    assert!(r.stdout.contains("3,861,493"), "{}", r.stdout);
    assert!(r.stdout.contains("source: api"), "{}", r.stdout);
    let d = double_with("other", 1);
    let r = check_stdin(&d, &format!("{PW}\n"), &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("not found"), "{}", r.stdout);
}

#[test]
fn stdin_strips_one_line_ending_and_keeps_spaces() {
    let spaced = "  pass word ";
    let d = double_with(spaced, 5);
    for input in [
        format!("{spaced}\r\n"),
        format!("{spaced}\n"),
        spaced.to_string(),
    ] {
        let r = check_stdin(&d, &input, &["-o", "json"]);
        assert_eq!(r.code, 4, "input {input:?}: {}", r.stderr);
    }
    // Trimmed, it is another password.
    let r = check_stdin(&d, "pass word\n", &["-o", "json"]);
    assert_eq!(r.code, 0);
    // A second line is not part of the password.
    let r = check_stdin(&d, &format!("{spaced}\nsecond line\n"), &["-o", "json"]);
    assert_eq!(r.code, 4);
}

#[test]
fn a_user_computed_sha1_is_accepted_in_either_case() {
    let hex = sha1_hex(PW);
    let d = double_with(PW, 9);
    for given in [hex.to_ascii_lowercase(), hex.clone()] {
        let r = run(atoctl().args(["hibp-check", "--api-url", &d.url(), "--sha1", &given]));
        assert_eq!(r.code, 4, "{}", r.stderr);
    }
    // `--sha1 -` reads it from stdin instead of the process list.
    let r = run(atoctl()
        .args(["hibp-check", "--api-url", &d.url(), "--sha1", "-"])
        .write_stdin(format!("{}\n", hex.to_ascii_lowercase())));
    assert_eq!(r.code, 4, "{}", r.stderr);
    for req in d.requests() {
        assert_eq!(req.path, format!("/range/{}", &hex[..5]));
    }
}

#[test]
fn ntlm_mode_sends_mode_ntlm_and_only_the_nt_prefix() {
    let nt = nt_hex(PW);
    let d = double_with(PW, 77);
    let r = check_stdin(&d, &format!("{PW}\n"), &["--ntlm", "-o", "json"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(
        r.json(),
        json!({"pwned": true, "count": 77, "source": "api"})
    );
    let reqs = d.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, format!("/range/{}", &nt[..5]));
    assert_eq!(reqs[0].query.as_deref(), Some("mode=ntlm"));
    assert_no_secret("the request", &reqs[0].everything(), PW, &nt);
    assert_no_secret("the request", &reqs[0].everything(), PW, &sha1_hex(PW));
    // An NT hash from Active Directory, given directly.
    let r = run(atoctl().args([
        "hibp-check",
        "--api-url",
        &d.url(),
        "--nt-hash",
        &nt.to_ascii_lowercase(),
    ]));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_no_secret("stderr", &r.stderr, PW, &nt);
}

/// Every way an answer can be wrong: exit 1 "unknown", a `"pwned": null` document, an error on
/// stderr, and never "not found", even though the password is in the double's table.
#[test]
fn untrustworthy_answers_are_unknown_never_not_found() {
    let cases: Vec<(Mode, &str)> = vec![
        (Mode::Html, "HTML"),
        (Mode::Status(500), "HTTP 500"),
        (Mode::Status(503), "HTTP 503"),
        (Mode::Status(404), "HTTP 404"),
        (Mode::Status(429), "HTTP 429"),
        (Mode::Truncated, "line"),
        (Mode::Aborted, "broke off"),
        (Mode::WrongLength, "34 hex digits"),
        (Mode::Empty, "empty"),
        (Mode::Redirect, "redirect"),
        (Mode::Oversized { announced: true }, "larger than 8 MiB"),
        (Mode::Oversized { announced: false }, "larger than 8 MiB"),
    ];
    for (mode, says) in cases {
        let d = RangeDouble::start(Config::default().mode(mode.clone()));
        d.add_password(PW, 12);
        let r = check_stdin(&d, &format!("{PW}\n"), &["-o", "json"]);
        assert_eq!(r.code, 1, "{mode:?}: {} {}", r.stdout, r.stderr);
        let doc = r.json();
        assert_eq!(doc["pwned"], json!(null), "{mode:?}");
        assert_eq!(doc["count"], json!(null), "{mode:?}");
        assert!(
            r.stderr.contains("atoctl: error:"),
            "{mode:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(says),
            "{mode:?} should say {says:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("not \"not found\""), "{}", r.stderr);
        let hex = sha1_hex(PW);
        assert_no_secret("stderr", &r.stderr, PW, &hex);
        assert_no_prefix("stderr", &r.stderr, &hex);
        // A redirect is not followed: one request, to the double.
        assert_eq!(d.requests().len(), 1, "{mode:?}");
    }
}

#[test]
fn a_server_slower_than_the_timeout_is_unknown() {
    let d = RangeDouble::start(Config::default().mode(Mode::Slow(Duration::from_secs(30))));
    d.add_password(PW, 12);
    let r = check_stdin(&d, &format!("{PW}\n"), &["--timeout", "0.3", "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
    assert_eq!(r.json()["pwned"], json!(null));
}

/// A check with `retries` retries against a range API answering in `mode`; the run and the
/// number of requests the API received.
fn with_retries(mode: Mode, retries: &str) -> (Run, usize) {
    let d = RangeDouble::start(Config::default().mode(mode));
    d.add_password(PW, 12);
    let r = run(atoctl()
        .env("ATOCTL_RETRIES", retries)
        .args(["hibp-check", "--stdin", "--api-url", &d.url()])
        .write_stdin(format!("{PW}\n")));
    (r, d.requests().len())
}

/// A range API that fails twice with `status`, then serves.
fn two_failures(status: u16) -> Mode {
    Mode::FailThenServe {
        failures: 2,
        status,
    }
}

#[test]
fn a_broken_off_answer_is_fetched_again_but_one_too_large_for_a_range_is_not() {
    let (r, requests) = with_retries(Mode::Aborted, "3");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("broke off"), "{}", r.stderr);
    assert!(r.stderr.contains("retrying"), "{}", r.stderr);
    assert_eq!(requests, 4);
    // Asking again would fetch the same again, whether the size is announced or streamed.
    for announced in [true, false] {
        let (r, requests) = with_retries(Mode::Oversized { announced }, "3");
        assert_eq!(r.code, 1, "{announced}: {}", r.stderr);
        assert!(r.stderr.contains("larger than 8 MiB"), "{}", r.stderr);
        assert!(!r.stderr.contains("retrying"), "{}", r.stderr);
        assert_eq!(requests, 1, "{announced}");
    }
}

#[test]
fn server_errors_are_retried_then_answered() {
    let (r, requests) = with_retries(two_failures(503), "3");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(requests, 3);
    assert!(r.stderr.contains("retrying"), "{}", r.stderr);
    // Fewer retries than failures: unknown.
    let (r, requests) = with_retries(two_failures(502), "1");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(requests, 2);
}

/// Retry notices and the final error name the API by its base URL, never the request path
/// (which holds the prefix): for answers retried on their status, broken off mid-body, or
/// too slow.
#[test]
fn retry_notices_name_the_api_and_never_the_prefix() {
    let hex = sha1_hex(PW);
    let cases: Vec<(Mode, &[&str], &str, i32)> = vec![
        (
            two_failures(503),
            &["answered HTTP 503: retrying in"],
            "2",
            4,
        ),
        (
            two_failures(429),
            &["answered HTTP 429: retrying in"],
            "2",
            4,
        ),
        (
            Mode::Aborted,
            &[": the answer broke off", "retrying in", "(3 attempts)"],
            "2",
            1,
        ),
        (
            Mode::Status(500),
            &[
                "answered HTTP 500: retrying in",
                "HTTP 500 after 2 attempts",
            ],
            "1",
            1,
        ),
    ];
    for (mode, says, retries, code) in cases {
        let d = double_with(PW, 12);
        d.set_mode(mode.clone());
        let r = run(atoctl()
            .env("ATOCTL_RETRIES", retries)
            .args(["hibp-check", "--stdin", "--api-url", &d.url()])
            .write_stdin(format!("{PW}\n")));
        assert_eq!(r.code, code, "{mode:?}: {}", r.stderr);
        let api = format!("the range API at {}", d.url());
        assert!(r.stderr.contains(&api), "{mode:?}: {}", r.stderr);
        for s in says {
            assert!(
                r.stderr.contains(s),
                "{mode:?} should say {s:?}: {}",
                r.stderr
            );
        }
        assert!(!r.stderr.contains("/range"), "{mode:?}: {}", r.stderr);
        assert_no_prefix("stderr", &r.stderr, &hex);
        assert_no_secret("stderr", &r.stderr, PW, &hex);
    }
    // A timeout, retried once.
    let d = RangeDouble::start(Config::default().mode(Mode::Slow(Duration::from_secs(30))));
    d.add_password(PW, 12);
    let r = run(atoctl()
        .env("ATOCTL_RETRIES", "1")
        .args([
            "hibp-check",
            "--stdin",
            "--timeout",
            "0.3",
            "--api-url",
            &d.url(),
        ])
        .write_stdin(format!("{PW}\n")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let notice = format!("the range API at {}: timed out: retrying in", d.url());
    assert!(r.stderr.contains(&notice), "{}", r.stderr);
    assert!(r.stderr.contains("timed out (2 attempts)"), "{}", r.stderr);
    assert!(!r.stderr.contains("/range"), "{}", r.stderr);
    assert_no_prefix("stderr", &r.stderr, &hex);
    assert_eq!(d.requests().len(), 2);
}

/// What the range API is sent besides the path: padding asked for, atoctl's user agent, and
/// none of the admin APIs' JSON `Accept`.
#[test]
fn range_requests_ask_for_padding_and_not_for_json() {
    let d = double_with(PW, 1);
    let r = check_stdin(&d, &format!("{PW}\n"), &["-o", "json"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let reqs = d.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("add-padding"), Some("true"));
    assert!(
        !reqs[0].header("accept").is_some_and(|a| a.contains("json")),
        "{reqs:?}"
    );
    assert_eq!(reqs[0].header("authorization"), None);
}

#[test]
fn lf_answers_with_a_final_line_ending_are_fine() {
    let d = RangeDouble::start(Config {
        line_ending: "\n",
        final_line_ending: true,
        ..Config::default()
    });
    d.add_password(PW, 3);
    let r = check_stdin(&d, &format!("{PW}\n"), &["-o", "json"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
}

#[test]
fn a_password_argument_is_refused_without_echo_and_nothing_is_sent() {
    let d = double_with(PW, 1);
    for args in [
        vec!["hunter2-secret"],
        vec!["--stdin", "hunter2-secret"],
        vec!["hunter2-secret", "and-more"],
        vec!["-hunter2-secret"],
    ] {
        let r = run(atoctl()
            .args(["hibp-check", "--api-url", &d.url()])
            .args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("never accepted as an argument"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
        assert!(!r.stdout.contains("hunter2"));
    }
    assert!(d.requests().is_empty());
}

#[test]
fn plain_http_is_allowed_to_loopback_only() {
    for url in [
        "http://example.com",
        "http://192.168.1.10:8080",
        "ftp://127.0.0.1",
    ] {
        let r = run(atoctl()
            .args(["hibp-check", "--stdin", "--api-url", url])
            .write_stdin("x\n"));
        assert_eq!(r.code, 2, "{url}: {}", r.stderr);
    }
    let r = run(atoctl()
        .args([
            "hibp-check",
            "--stdin",
            "--api-url",
            "http://localhost:1",
            "-o",
            "json",
        ])
        .write_stdin("x\n"));
    // Allowed, but nothing listens there: unknown.
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn no_terminal_and_no_input_is_a_usage_error() {
    let d = double_with(PW, 1);
    let r = run(atoctl().args(["hibp-check", "--api-url", &d.url()]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--stdin"));
    let r = check_stdin(&d, "", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(d.requests().is_empty());
}

#[test]
fn dry_run_shows_the_request_with_the_prefix_redacted_and_sends_nothing() {
    let d = double_with(PW, 1);
    let r = check_stdin(&d, &format!("{PW}\n"), &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "GET    {}/range/<first 5 hex of the SHA-1>",
            d.url()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Add-Padding: true"));
    let hex = sha1_hex(PW);
    assert_no_prefix("stdout", &r.stdout, &hex);
    assert_no_secret("stdout", &r.stdout, PW, &hex);
    let r = check_stdin(
        &d,
        &format!("{PW}\n"),
        &["--dry-run", "--ntlm", "-o", "json"],
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        r.json()["requests"][0]["url"],
        json!(format!(
            "{}/range/<first 5 hex of the NT hash>?mode=ntlm",
            d.url()
        ))
    );
    assert!(d.requests().is_empty());
}

#[test]
fn the_journal_gets_the_verdict_count_and_source_only() {
    let dir = tempfile::tempdir().unwrap();
    let j = open_journal(dir.path());
    let hex = sha1_hex(PW);
    let d = double_with(PW, 4242);
    let r = run(atoctl()
        .args([
            "hibp-check",
            "--stdin",
            "--identity",
            ID,
            "--api-url",
            &d.url(),
            "--incident",
        ])
        .arg(&j)
        .write_stdin(format!("{PW}\n")));
    assert_eq!(r.code, 4, "{}", r.stderr);
    let e = last_entry(&j);
    assert_eq!(e["step"], json!("hibp-check"));
    assert_eq!(e["identity"], json!(ID));
    assert_eq!(e["outcome"], json!("ok"));
    assert_eq!(e["verdict"], json!("pwned"));
    assert_eq!(e["count"], json!(4242));
    assert_eq!(e["source"], json!("api"));
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "count", "identity", "incident", "operator", "outcome", "prev", "seq", "source",
            "step", "summary", "ts", "verdict"
        ]
    );
    // Unknown is recorded too, as a failed check.
    d.set_mode(Mode::Status(500));
    let r = run(atoctl()
        .args(["hibp-check", "--stdin", "--api-url", &d.url(), "--incident"])
        .arg(&j)
        .write_stdin(format!("{PW}\n")));
    assert_eq!(r.code, 1);
    let e = last_entry(&j);
    assert_eq!(e["verdict"], json!("unknown"));
    assert_eq!(e["outcome"], json!("failed"));
    assert_eq!(e["count"], json!(null));
    let evidence = journal_evidence(&j);
    assert_no_secret("the journal", &evidence, PW, &hex);
    assert_no_prefix("the journal", &evidence, &hex);
    assert_journal_intact(&j);
    // A dry run journals nothing.
    let before = std::fs::read_to_string(&j).unwrap();
    let r = run(atoctl()
        .args([
            "hibp-check",
            "--stdin",
            "--dry-run",
            "--api-url",
            &d.url(),
            "--incident",
        ])
        .arg(&j)
        .write_stdin(format!("{PW}\n")));
    assert_eq!(r.code, 0);
    assert_eq!(std::fs::read_to_string(&j).unwrap(), before);
}

#[test]
fn a_hash_file_online_makes_one_request_per_prefix() {
    let d = RangeDouble::start(Config::default());
    let pwned = ["123456", "password", "qwerty"];
    for (i, p) in pwned.iter().enumerate() {
        d.add_password(p, 100 + i as u64);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hashes.txt");
    let lines = [
        sha1_hex("123456"),
        String::new(),
        "# a comment".into(),
        sha1_hex("not pwned at all").to_ascii_lowercase(),
        sha1_hex("password"),
        sha1_hex("123456"),
        sha1_hex("qwerty"),
    ];
    std::fs::write(&file, lines.join("\r\n")).unwrap();
    let r = run(atoctl()
        .args(["hibp-check", "--api-url", &d.url(), "--sha1-file"])
        .arg(&file));
    assert_eq!(r.code, 4, "{}", r.stderr);
    let got = r.json_lines();
    assert_eq!(
        got,
        vec![
            json!({"line": 1, "pwned": true, "count": 100, "source": "api"}),
            json!({"line": 4, "pwned": false, "count": 0, "source": "api"}),
            json!({"line": 5, "pwned": true, "count": 101, "source": "api"}),
            json!({"line": 6, "pwned": true, "count": 100, "source": "api"}),
            json!({"line": 7, "pwned": true, "count": 102, "source": "api"}),
        ]
    );
    let reqs = d.requests();
    assert_eq!(reqs.len(), 4, "one per distinct prefix");
    for l in lines.iter().filter(|l| l.len() == 40) {
        for req in &reqs {
            assert_no_secret("a request", &req.everything(), "", l);
        }
        assert_no_secret("stdout", &r.stdout, "", l);
    }
}

#[test]
fn a_hash_file_with_unknowns_exits_1_unless_something_was_found() {
    let d = RangeDouble::start(Config::default().mode(Mode::Status(500)));
    d.add_password("password", 5);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hashes.txt");
    std::fs::write(
        &file,
        format!("{}\n{}\n", sha1_hex("password"), sha1_hex("x")),
    )
    .unwrap();
    let r = run(atoctl()
        .args(["hibp-check", "--api-url", &d.url(), "--sha1-file"])
        .arg(&file));
    assert_eq!(r.code, 1, "{}", r.stderr);
    for l in r.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["pwned"], json!(null));
        assert!(v["error"].as_str().unwrap().contains("HTTP 500"));
    }
    // The first prefix fails, the second is found: found wins (exit 4), the unknown stays null.
    let first_prefix_fails = RangeDouble::start(Config::default().mode(Mode::FailThenServe {
        failures: 1,
        status: 500,
    }));
    let (a, b) = ("password", "123456");
    let (ha, hb) = (sha1_hex(a), sha1_hex(b));
    let (low, high) = if ha < hb { (a, b) } else { (b, a) };
    first_prefix_fails.add_password(high, 9);
    first_prefix_fails.add_password(low, 9);
    std::fs::write(&file, format!("{}\n{}\n", sha1_hex(low), sha1_hex(high))).unwrap();
    let r = run(atoctl()
        .args([
            "hibp-check",
            "--concurrency",
            "1",
            "--api-url",
            &first_prefix_fails.url(),
            "--sha1-file",
        ])
        .arg(&file));
    assert_eq!(r.code, 4, "{}", r.stderr);
    let got = r.json_lines();
    assert_eq!(got[0]["pwned"], json!(null));
    assert_eq!(got[1]["pwned"], json!(true));
    assert!(r.stderr.contains("could not be checked"), "{}", r.stderr);
}

#[test]
fn a_hash_file_with_a_bad_line_is_refused_without_quoting_it() {
    let d = double_with(PW, 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hashes.txt");
    std::fs::write(
        &file,
        format!("{}\nhunter2-pasted-by-mistake\n", sha1_hex(PW)),
    )
    .unwrap();
    let r = run(atoctl()
        .args(["hibp-check", "--api-url", &d.url(), "--sha1-file"])
        .arg(&file));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    assert!(!r.stderr.contains("hunter2"));
    assert!(
        d.requests().is_empty(),
        "nothing is sent before the file is valid"
    );
}
