//! Bad input and bad answers: each is one clear line on stderr with the contract's exit code,
//! and nothing that changes anything is sent.

mod common;

use common::*;

#[test]
fn a_malformed_uuid_is_exit_2_and_nothing_is_sent() {
    let env = Env::new(Flavour::Current);
    for args in [
        vec!["revoke", "--session", "12345", "--yes"],
        vec!["revoke", "--session", "alice@example.com", "--yes"],
        vec!["lock", "--identity", "5f1c2a9e", "--yes"],
        vec![
            "unlock",
            "--identity",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c0",
            "--yes",
        ],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains("is not a UUID") || r.stderr.contains("not a UUID"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(env.kratos.requests().is_empty());
}

/// Anything else after --identity is a login identifier: looked up by exact match (its text
/// percent-encoded in the query), no identity has it, exit 3, and nothing that changes
/// anything is sent.
#[test]
fn an_identifier_no_identity_has_is_exit_3_and_changes_nothing() {
    let env = Env::new(Flavour::Current);
    victim(&env, "alice@example.com", 1);
    for (args, ident) in [
        (
            vec!["revoke", "--identity", "not-a-uuid", "--yes"],
            "not-a-uuid",
        ),
        (
            vec![
                "disable-password",
                "--identity",
                "'; DROP TABLE identities; --",
                "--yes",
            ],
            "'; DROP TABLE identities; --",
        ),
        (vec!["recover", "--identity", "x", "--yes"], "x"),
        (
            vec!["sessions", "--identity", "../../etc/passwd"],
            "../../etc/passwd",
        ),
    ] {
        env.kratos.clear_requests();
        let r = env.run(&args);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert!(
            r.error_line()
                .contains("no identity has the login identifier"),
            "{args:?}"
        );
        let reqs = env.kratos.requests();
        assert_eq!(reqs.len(), 1, "{args:?}: only the lookup: {reqs:?}");
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(reqs[0].path, "/admin/identities");
        let q = reqs[0].query.clone().unwrap_or_default();
        let sent = q.strip_prefix("credentials_identifier=").unwrap();
        assert!(
            !sent.contains(' ') && !sent.contains('/') && !sent.contains('\''),
            "{q}"
        );
        let decoded: String = url_decode(sent);
        assert_eq!(decoded, ident);
    }
    assert!(env.writes().is_empty());
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap();
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn a_missing_admin_url_names_kratos_admin_url() {
    let env = Env::new(Flavour::Current);
    let r = run(env.cmd().env_remove("KRATOS_ADMIN_URL").args([
        "lock",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--yes",
    ]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("KRATOS_ADMIN_URL"));
}

#[test]
fn a_malformed_admin_url_is_exit_2() {
    let env = Env::new(Flavour::Current);
    for url in [
        "127.0.0.1:4434",
        "ftp://kratos",
        "http://user:pw@kratos:4434",
    ] {
        let r = run(env.cmd().env("KRATOS_ADMIN_URL", url).args([
            "sessions",
            "--identity",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        ]));
        assert_eq!(r.code, 2, "{url}: {r:?}");
        assert!(!r.stderr.contains("pw@"), "credentials echoed");
    }
}

#[test]
fn an_unreachable_server_is_exit_1_with_a_hint() {
    let env = Env::new(Flavour::Current);
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(env
        .cmd()
        .env("KRATOS_ADMIN_URL", format!("http://127.0.0.1:{port}"))
        .env("ATOCTL_RETRIES", "1")
        .args([
            "sessions",
            "--identity",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        ]));
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("cannot connect") && line.contains("KRATOS_ADMIN_URL"),
        "{line}"
    );
}

#[test]
fn an_html_answer_is_not_trusted() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    env.kratos
        .inject(Fault::new(FaultKind::Html(502)).times(10));
    let r = run(env
        .cmd()
        .env("ATOCTL_RETRIES", "1")
        .args(["sessions", "--identity", &id]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("not JSON"));
    // A 200 that is not JSON (a UI page at the wrong URL) is no better.
    env.kratos.inject(Fault::new(FaultKind::Raw {
        status: 200,
        content_type: "text/html".into(),
        body: "<html>login</html>".into(),
    }));
    let r = env.run(&["sessions", "--identity", &id]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("not JSON"));
}

#[test]
fn unauthorized_and_forbidden_point_at_the_token() {
    let env = Env::with_config(Config {
        require_token: Some("ory_pat_right".into()),
        ..Config::default()
    });
    let id = victim(&env, "a@example.com", 1);
    for token in ["ory_pat_wrong", "ory_wak_workspace"] {
        let r = run(env.cmd().env("KRATOS_ADMIN_TOKEN", token).args([
            "revoke",
            "--identity",
            &id,
            "--yes",
        ]));
        assert_eq!(r.code, 1, "{token}: {r:?}");
        let line = r.error_line();
        assert!(
            line.contains("token") && line.contains("ory_wak_"),
            "{line}"
        );
        assert!(!r.all().contains(token), "the token was echoed");
    }
    assert!(env.kratos.sessions_of(&id).len() == 1);
}

#[test]
fn the_token_is_sent_as_bearer_and_never_printed_or_journaled() {
    let token = "ory_pat_s3cr3t-t0ken-value";
    let env = Env::with_config(Config {
        require_token: Some(token.into()),
        ..Config::default()
    });
    let id = victim(&env, "a@example.com", 2);
    let r =
        run(env
            .cmd()
            .env("KRATOS_ADMIN_TOKEN", token)
            .args(["lock", "--identity", &id, "--yes"]));
    assert_eq!(r.code, 0, "{r:?}");
    for q in env.kratos.requests() {
        assert_eq!(
            q.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
    }
    assert_nowhere(&env, &r, token, "the admin token");
    let dry = run(env.cmd().env("KRATOS_ADMIN_TOKEN", token).args([
        "disable-password",
        "--identity",
        &id,
        "--dry-run",
    ]));
    assert!(!dry.all().contains(token));
}

#[test]
fn server_errors_are_retried_then_reported() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    env.kratos.inject(
        Fault::new(FaultKind::Status(503))
            .on("GET", "/admin/identities/")
            .times(2),
    );
    let r = env.run(&["sessions", "--identity", &id]);
    assert_eq!(r.code, 0, "two 503s then success: {r:?}");
    assert!(r.stderr.contains("retrying"));
    env.kratos.inject(
        Fault::new(FaultKind::Status(500))
            .on("GET", "/admin/identities/")
            .times(50),
    );
    let r = run(env
        .cmd()
        .env("ATOCTL_RETRIES", "2")
        .args(["sessions", "--identity", &id]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("500"));
}

#[test]
fn a_timeout_is_retried_for_reads() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    env.kratos.inject(
        Fault::new(FaultKind::Delay(std::time::Duration::from_secs(3)))
            .on("GET", "/admin/identities/"),
    );
    let r = env.run(&["--timeout", "1", "sessions", "--identity", &id]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
}

#[test]
fn rate_limits_are_honoured_with_the_reset_header() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    env.kratos.inject(
        Fault::new(FaultKind::RateLimit { reset_secs: 1 }).on("DELETE", "/admin/identities/"),
    );
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("rate limited") && r.stderr.contains("retrying in 1s"),
        "{}",
        r.stderr
    );
    let deletes = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.method == "DELETE")
        .count();
    assert_eq!(deletes, 2);
    assert!(env.kratos.sessions_of(&id).is_empty());
}

#[test]
fn a_bad_timeout_or_rate_is_exit_2() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&[
        "--timeout",
        "0",
        "sessions",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes", "--rate", "-1"],
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07\n",
    );
    assert_eq!(r.code, 2, "{r:?}");
    let r = env.run(&[
        "recover",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--expires-in",
        "soon",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--expires-in"), "{}", r.stderr);
    // Durations Kratos would refuse or misread are refused here (Go has no days, no sub-second
    // lifespans, nothing past ~292 years).
    for bad in ["500ms", "1ns", "300y", "99999999d"] {
        let r = env.run(&[
            "recover",
            "--identity",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
            "--expires-in",
            bad,
            "--yes",
        ]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
    }
    for rate in ["1e10", "1e-20", "NaN", "0"] {
        let r = env.run_stdin(
            &["revoke", "--stdin", "--yes", "--rate", rate],
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07\n",
        );
        assert_eq!(r.code, 2, "{rate}: {r:?}");
    }
    let r = run(env.cmd().env("ATOCTL_RETRIES", "-3").args([
        "sessions",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("ATOCTL_RETRIES"));
    assert!(env.kratos.requests().is_empty());
    assert!(!env.journal.exists());
}

#[test]
fn ids_output_is_refused_outside_pattern_scan() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&[
        "-o",
        "ids",
        "sessions",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn version_and_help_work_without_any_configuration() {
    let env = Env::new(Flavour::Current);
    let v = run(env.cmd().env_remove("KRATOS_ADMIN_URL").arg("--version"));
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("atoctl "));
    let h = env.run(&["revoke", "--help"]);
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("Examples:"));
}

#[test]
fn a_redirect_answer_is_an_error_that_points_at_the_admin_url() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    env.kratos.inject(Fault::new(FaultKind::Raw {
        status: 303,
        content_type: "text/html".into(),
        body: "<a href=\"http://elsewhere/\">See Other</a>".into(),
    }));
    let r = env.run(&["sessions", "--identity", &id]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("redirect"), "{}", r.stderr);
    assert_eq!(env.kratos.requests().len(), 1, "a redirect was retried");
}

/// The Ory edge's 401/403 need not be JSON: the token hint comes all the same.
#[test]
fn an_unauthorized_answer_that_is_not_json_points_at_the_token_too() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    for (status, ct, body) in [
        (401, "text/plain", "Unauthorized"),
        (403, "text/html", "<html><body>403 Forbidden</body></html>"),
    ] {
        env.kratos.inject(Fault::new(FaultKind::Raw {
            status,
            content_type: ct.into(),
            body: body.into(),
        }));
        let r = env.run(&["lock", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 1, "{status}: {r:?}");
        assert!(
            r.error_line().contains("admin token"),
            "{status}: {}",
            r.stderr
        );
    }
    assert!(env.writes().is_empty());
}

/// Only Kratos's own 404 means "no such identity": a proxy's page or a wrong base path is exit 1
/// naming the URL, and a bulk run does not turn it into a list of missing identities.
#[test]
fn a_404_that_is_not_kratos_own_is_an_error_not_a_missing_identity() {
    let env = Env::new(Flavour::Current);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("a@example.com").password("pw"));
    env.kratos
        .inject(Fault::new(FaultKind::Html(404)).on("GET", "/admin/identities/"));
    let r = env.run(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(line.contains(&format!("/admin/identities/{id}")), "{line}");
    assert!(line.contains("Kratos admin API"), "{line}");
    // In bulk: the empty listing is followed by a GET of each identity; every one is answered
    // by the proxy's page.
    let ids: Vec<String> = (0..3)
        .map(|i| {
            env.kratos
                .add_identity(IdentitySeed::new(&format!("b{i}@example.com")).password("pw"))
        })
        .collect();
    env.kratos.inject(
        Fault::new(FaultKind::Html(404))
            .on("GET", "/admin/identities/")
            .times(100),
    );
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes", "-o", "json"],
        &ids.join("\n"),
    );
    assert_eq!(r.code, 1, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["summary"]["not_found"], 0);
    assert_eq!(doc["summary"]["failed"], 3);
}

/// An answer about another identity or session than the one asked for is not trusted: exit 1,
/// nothing more sent.
#[test]
fn an_answer_about_another_identity_is_not_trusted() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let other = victim(&env, "b@example.com", 1);
    let body = env.kratos.identity_json(&other).unwrap().to_string();
    env.kratos.inject(
        Fault::new(FaultKind::Raw {
            status: 200,
            content_type: "application/json".into(),
            body,
        })
        .on("GET", &format!("/admin/identities/{id}")),
    );
    let r = env.run(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.error_line()
            .contains(&format!("identity {other} instead of {id}")),
        "{}",
        r.stderr
    );
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    let sid = env.kratos.sessions_of(&id)[0].id.clone();
    let other_sid = env.kratos.sessions_of(&other)[0].id.clone();
    env.kratos.inject(
        Fault::new(FaultKind::Raw {
            status: 200,
            content_type: "application/json".into(),
            body: serde_json::json!({"id": other_sid, "active": true, "identity": {"id": other}})
                .to_string(),
        })
        .on("GET", &format!("/admin/sessions/{sid}")),
    );
    let r = env.run(&["revoke", "--session", &sid, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}

/// Under `docker exec` or `kubectl exec` neither USER nor LOGNAME is set: the operator is the
/// user's name from the system's user database.
#[test]
fn the_operator_comes_from_the_user_database_when_the_environment_names_none() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let expected = std::process::Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if expected.is_empty() {
        eprintln!("no `id -un` here: skipped");
        return;
    }
    let r = run(env
        .cmd()
        .env_remove("ATOCTL_OPERATOR")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(["lock", "--identity", &id, "--yes"]));
    assert_eq!(r.code, 0, "{r:?}");
    let last = env.records().pop().unwrap();
    assert_eq!(last["operator"], serde_json::json!(expected));
    assert!(!r.stderr.contains("no operator name"), "{}", r.stderr);
}

/// The double refuses what the official OpenAPI documents forbid, as a validating gateway
/// would; every step's requests conform (none was refused).
#[test]
fn every_request_conforms_to_the_openapi_documents() {
    let env = Env::new(Flavour::Current);
    if !std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference")).exists() {
        eprintln!("../shared/reference is not beside this checkout: skipped");
        return;
    }
    assert!(env.kratos.validating());
    let id = victim(&env, "a@example.com", 2);
    env.kratos.add_consent(&id, "mail-client");
    let hydra = env.kratos.url();
    for args in [
        vec!["identity", "--identity", "a@example.com"],
        vec!["sessions", "--identity", &id],
        vec!["disable-password", "--identity", &id, "--yes"],
        vec![
            "--hydra-admin-url",
            &hydra,
            "lock",
            "--identity",
            &id,
            "--yes",
        ],
        vec!["unlock", "--identity", &id, "--yes"],
        vec!["recover", "--identity", &id, "--expires-in", "1h", "--yes"],
        vec!["recover", "--identity", &id, "--method", "link", "--yes"],
        vec![
            "--hydra-admin-url",
            &hydra,
            "revoke",
            "--identity",
            &id,
            "--yes",
        ],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    let refused: Vec<String> = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.status == 400)
        .map(|q| q.everything())
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}
