//! End-to-end tests of the containment steps against the Kratos double, on current Kratos and
//! on 1.3.x: sessions, revoke (one identity, one session, bulk), disable-password, lock,
//! unlock, recover.

mod common;

use common::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------- sessions

#[test]
fn sessions_lists_every_session_with_its_devices() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "alice@example.com", 2);
        let r = env.run(&["sessions", "--identity", &id]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("198.51.100.1") && r.stdout.contains("198.51.100.2"));
        assert!(r.stdout.contains("Lagos, NG"));
        assert!(r.stdout.contains("alice@example.com"));
        let j = env
            .run(&["sessions", "--identity", &id, "-o", "json"])
            .json();
        assert_eq!(j["sessions"].as_array().unwrap().len(), 2);
        assert_eq!(j["complete"], true);
        let dev = &j["sessions"][0]["devices"][0];
        assert!(
            dev["ip_address"]
                .as_str()
                .unwrap()
                .starts_with("198.51.100.")
        );
        assert!(
            dev["user_agent"]
                .as_str()
                .unwrap()
                .contains("attacker-device")
        );
        assert_eq!(j["sessions"][0]["aal"], "aal1");
        assert!(j["sessions"][0]["authenticated_at"].is_string());
        assert!(env.writes().is_empty());
    }
}

#[test]
fn the_admin_url_may_name_a_host() {
    // `localhost` is looked up by name (in the static build: by glibc's built-in services only).
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "alice@example.com", 1);
    let url = env.kratos.url().replace("127.0.0.1", "localhost");
    assert!(url.starts_with("http://localhost:"), "{url}");
    let r = run(env
        .cmd()
        .env("KRATOS_ADMIN_URL", &url)
        .args(["sessions", "--identity", &id]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("198.51.100.1"), "{r:?}");
}

#[test]
fn sessions_of_an_unknown_identity_is_exit_3_although_kratos_lists_it_as_empty() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&[
        "sessions",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.error_line().contains("does not exist"));
}

#[test]
fn sessions_are_all_listed_despite_kratos_handing_out_the_first_page_twice() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = env
            .kratos
            .add_identity(IdentitySeed::new("many@example.com").password("pw"));
        for _ in 0..1200 {
            env.kratos.add_session(&id, SessionSeed::new());
        }
        let j = env
            .run(&["sessions", "--identity", &id, "-o", "json"])
            .json();
        let sessions = j["sessions"].as_array().unwrap();
        let mut ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1200, "{flavour:?}");
        assert_eq!(j["complete"], true);
    }
}

// ---------------------------------------------------------------- revoke

#[test]
fn revoke_keeps_device_evidence_when_kratos_hard_deletes() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "alice@example.com", 3);
        let r = env.run(&["revoke", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("ended 3 sessions"), "{}", r.stdout);
        // Kratos destroyed sessions and devices …
        assert!(env.kratos.sessions_of(&id).is_empty());
        // … but the journal kept them, written before the delete.
        let recs = env.records();
        let steps: Vec<&str> = recs.iter().map(|r| r["step"].as_str().unwrap()).collect();
        assert_eq!(
            steps,
            ["incident.open", "sessions", "revoke", "revoke"],
            "{flavour:?}"
        );
        // The snapshot and the mark that revoke began went to disk together, before the delete.
        assert_eq!(recs[2]["outcome"], "started");
        assert_eq!(
            recs[2]["plan"],
            json!([format!("DELETE /admin/identities/{id}/sessions")])
        );
        let snap = &recs[1]["sessions"];
        assert_eq!(snap.as_array().unwrap().len(), 3);
        let ips: Vec<&str> = snap
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["devices"][0]["ip_address"].as_str().unwrap())
            .collect();
        for i in 1..=3 {
            assert!(ips.contains(&format!("198.51.100.{i}").as_str()));
        }
        assert!(
            snap[0]["devices"][0]["user_agent"]
                .as_str()
                .unwrap()
                .contains("attacker-device")
        );
        assert_eq!(recs[3]["outcome"], "ok");
        assert_eq!(recs[3]["sessions_ended"], 3);
        assert_eq!(recs[3]["sessions_deleted"], 3);
        assert_eq!(recs[3]["verified"], true);
        assert_eq!(
            recs[3]["done"],
            json!([format!("DELETE /admin/identities/{id}/sessions")])
        );
        // The snapshot reached Kratos's log before the DELETE: the request order proves it.
        let reqs = env.kratos.requests();
        let del = reqs
            .iter()
            .position(|r| r.method == "DELETE")
            .expect("a DELETE was sent");
        assert!(
            reqs[..del]
                .iter()
                .any(|r| r.method == "GET" && r.path.ends_with("/sessions"))
        );
        assert!(
            reqs[del + 1..]
                .iter()
                .any(|r| r.method == "GET" && r.path.ends_with("/sessions"))
        );
        assert_eq!(env.verify().code, 0);
    }
}

#[test]
fn revoke_of_an_identity_without_sessions_is_skipped_not_an_error() {
    let env = Env::new(Flavour::Current);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("quiet@example.com").password("pw"));
    let r = env.run(&["revoke", "--identity", &id, "--yes", "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["result"], "skipped");
    assert_eq!(
        env.steps().last().unwrap(),
        &("revoke".to_string(), "skipped".to_string())
    );
}

#[test]
fn revoke_of_an_unknown_identity_is_exit_3_and_deletes_nothing() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&[
        "revoke",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--yes",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(env.writes().is_empty());
}

#[test]
fn a_delete_that_did_nothing_is_caught_by_the_check_afterwards() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "alice@example.com", 2);
    // Kratos (or a proxy) answers 404 without deleting anything.
    env.kratos
        .inject(Fault::new(FaultKind::Status(404)).on("DELETE", "/admin/identities/"));
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("still active"), "{}", r.stderr);
    let last = env.records().pop().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["verified"], false);
    assert_eq!(last["still_active"].as_array().unwrap().len(), 2);
}

#[test]
fn revoke_one_session_is_soft_and_keeps_the_row() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "alice@example.com", 2);
        let target = env.kratos.sessions_of(&id)[0].id.clone();
        let r = env.run(&["revoke", "--session", &target, "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        let rows = env.kratos.sessions_of(&id);
        assert_eq!(rows.len(), 2, "the row stays as evidence");
        let row = rows.iter().find(|s| s.id == target).unwrap();
        assert!(!row.db_active);
        assert!(!row.devices.is_empty());
        assert!(
            rows.iter().any(|s| s.id != target && s.db_active),
            "other sessions untouched"
        );
        assert!(!env.kratos.whoami(&target));
        // Again: nothing to do.
        let again = env.run(&["revoke", "--session", &target, "--yes", "-o", "json"]);
        assert_eq!(again.code, 0, "{again:?}");
        assert_eq!(again.json()["result"], "skipped");
    }
}

#[test]
fn revoke_one_session_checks_its_owner_and_its_existence() {
    let env = Env::new(Flavour::Current);
    let alice = victim(&env, "alice@example.com", 1);
    let bob = victim(&env, "bob@example.com", 1);
    let sid = env.kratos.sessions_of(&alice)[0].id.clone();
    let r = env.run(&["revoke", "--session", &sid, "--identity", &bob, "--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("belongs to identity"));
    let r = env.run(&[
        "revoke",
        "--session",
        "0b7e2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--yes",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(env.writes().is_empty());
}

#[test]
fn bulk_revoke_handles_each_id_on_its_own_and_names_the_failures() {
    let env = Env::new(Flavour::Current);
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(victim(&env, &format!("u{i}@example.com"), i % 3));
    }
    let unknown = "0b7e2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";
    let mut input = format!("# from pattern-scan\n{}\n\n{unknown}\n", ids.join("\n"));
    input.push_str(&ids[0].to_uppercase());
    input.push('\n');
    let r = env.run_stdin(
        &[
            "revoke",
            "--stdin",
            "--yes",
            "--concurrency",
            "4",
            "-o",
            "json",
        ],
        &input,
    );
    assert_eq!(r.code, 1, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["summary"]["identities"], 31);
    assert_eq!(doc["summary"]["ok"], 20);
    assert_eq!(doc["summary"]["skipped"], 10);
    assert_eq!(doc["summary"]["not_found"], 1);
    assert_eq!(doc["failed"], json!([unknown]));
    assert_eq!(doc["results"].as_array().unwrap().len(), 31);
    assert!(r.stderr.contains(unknown));
    for id in &ids {
        assert!(env.kratos.sessions_of(id).is_empty());
    }
    assert_eq!(env.verify().code, 0);
    // Every identity with sessions has its snapshot before its revoke entry.
    let recs = env.records();
    for id in &ids {
        let mine: Vec<&str> = recs
            .iter()
            .filter(|r| r["identity"] == json!(id))
            .map(|r| r["step"].as_str().unwrap())
            .collect();
        if mine.len() == 3 {
            assert_eq!(mine, ["sessions", "revoke", "revoke"]);
        } else {
            assert_eq!(mine, ["revoke"]);
        }
    }
}

#[test]
fn bulk_revoke_prints_a_line_per_id_and_a_summary_for_people() {
    let env = Env::new(Flavour::V1_3);
    let ids: Vec<String> = (0..5)
        .map(|i| victim(&env, &format!("p{i}@example.com"), 1))
        .collect();
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes", "--rate", "50"],
        &ids.join("\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    for id in &ids {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(id.as_str()))
        );
    }
    assert!(r.stdout.contains("summary: 5 identities"));
}

#[test]
fn bulk_revoke_refuses_a_batch_with_a_malformed_line_and_sends_nothing() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes"],
        &format!("{id}\n'; DROP TABLE x; --\n"),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("line 2"));
    assert!(env.kratos.requests().is_empty());
}

// ---------------------------------------------------------------- disable-password

fn strip_volatile(mut v: Value) -> Value {
    // What disable-password may change: the password credential and timestamps.
    if let Some(o) = v.as_object_mut() {
        o.remove("updated_at");
        if let Some(c) = o.get_mut("credentials").and_then(Value::as_object_mut) {
            c.remove("password");
            for cred in c.values_mut() {
                if let Some(co) = cred.as_object_mut() {
                    co.remove("updated_at");
                    co.remove("created_at");
                }
            }
        }
    }
    v
}

#[test]
fn disable_password_stops_the_password_and_changes_nothing_else() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = env.kratos.add_identity(
            IdentitySeed::new("carol@example.com")
                .password("hunter2-but-longer")
                .traits(json!({"email": "carol@example.com", "name": {"first": "Carol"}}))
                .metadata_public(json!({"plan": "pro"}))
                .metadata_admin(json!({"risk": "high"}))
                .external_id("crm-42")
                .totp()
                .webauthn_mfa()
                .oidc("google", "1234567890"),
        );
        assert!(matches!(
            env.kratos
                .password_login("carol@example.com", "hunter2-but-longer"),
            LoginResult::Ok { .. }
        ));
        let before = env.kratos.identity_json(&id).unwrap();
        let r = env.run(&["disable-password", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{flavour:?} {r:?}");
        assert!(
            matches!(
                env.kratos
                    .password_login("carol@example.com", "hunter2-but-longer"),
                LoginResult::InvalidCredentials
            ),
            "{flavour:?}: the old password still works"
        );
        let after = env.kratos.identity_json(&id).unwrap();
        assert_eq!(
            strip_volatile(before.clone()),
            strip_volatile(after.clone()),
            "{flavour:?}"
        );
        // A hash is still there (of a secret nobody knows), and it is a hash.
        let h = after["credentials"]["password"]["config"]["hashed_password"]
            .as_str()
            .unwrap();
        assert!(h.starts_with('$'));
        assert_ne!(
            Some(h),
            before["credentials"]["password"]["config"]["hashed_password"].as_str()
        );
        // The one write was a PUT with JSON; never a PATCH of credentials.
        let reqs = env.kratos.requests();
        let writes: Vec<_> = reqs.iter().filter(|r| r.method != "GET").collect();
        assert_eq!(writes.len(), 1, "{:?}", env.writes());
        assert_eq!(writes[0].method, "PUT");
        assert_eq!(writes[0].header("content-type"), Some("application/json"));
        // The random secret never shows anywhere but in the request to Kratos.
        let body: Value = serde_json::from_slice(&writes[0].body).unwrap();
        let secret = body["credentials"]["password"]["config"]["password"]
            .as_str()
            .unwrap();
        assert!(secret.len() >= 43);
        assert_nowhere(&env, &r, secret, "the replacement password");
        let old_hash = before["credentials"]["password"]["config"]["hashed_password"]
            .as_str()
            .unwrap();
        assert_nowhere(&env, &r, old_hash, "the old password hash");
        assert_nowhere(&env, &r, h, "the new password hash");
        let last = env.records().pop().unwrap();
        assert_eq!(last["step"], "disable-password");
        assert_eq!(last["outcome"], "ok");
        assert_eq!(last["verified"], true);
    }
}

#[test]
fn disable_password_skips_an_oidc_only_identity_and_adds_no_password() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = env
            .kratos
            .add_identity(IdentitySeed::new("oidc@example.com").oidc("github", "42"));
        let before = env.kratos.identity_json(&id).unwrap();
        assert!(
            before["credentials"].get("password").is_some(),
            "Kratos keeps an empty one"
        );
        let r = env.run(&["disable-password", "--identity", &id, "--yes", "-o", "json"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["result"], "skipped");
        assert!(env.writes().is_empty());
        assert_eq!(env.kratos.identity_json(&id).unwrap(), before);
    }
}

#[test]
fn disable_password_of_an_unknown_identity_is_exit_3() {
    let env = Env::new(Flavour::V1_3);
    let r = env.run(&[
        "disable-password",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--yes",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(env.writes().is_empty());
}

// ---------------------------------------------------------------- lock / unlock

#[test]
fn lock_sets_inactive_and_ends_sessions_and_unlock_revives_none() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "dave@example.com", 2);
        let sids: Vec<String> = env
            .kratos
            .sessions_of(&id)
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let r = env.run(&["lock", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "inactive");
        assert!(env.kratos.sessions_of(&id).is_empty());
        assert!(matches!(
            env.kratos
                .password_login("dave@example.com", "correct horse battery staple"),
            LoginResult::IdentityDisabled
        ));
        let r = env.run(&["unlock", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "active");
        for s in &sids {
            assert!(!env.kratos.whoami(s), "a session came back after unlock");
        }
        let steps = env.steps();
        assert!(steps.contains(&("lock".into(), "ok".into())));
        assert!(steps.contains(&("unlock".into(), "ok".into())));
        assert_eq!(env.verify().code, 0);
    }
}

#[test]
fn unlock_ends_the_sessions_a_naive_lock_left_behind_before_reactivating() {
    let env = Env::new(Flavour::Current);
    // Someone "locked" by setting the state only: the attacker's session is still in the DB.
    let id = env.kratos.add_identity(
        IdentitySeed::new("erin@example.com")
            .password("pw")
            .inactive(),
    );
    let attacker = env.kratos.add_session(&id, SessionSeed::new());
    assert!(!env.kratos.whoami(&attacker), "hidden while inactive");
    let r = env.run(&["unlock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !env.kratos.whoami(&attacker),
        "the attacker's session revived"
    );
    // The evidence of that session was journaled before it was destroyed.
    let recs = env.records();
    let snap = recs
        .iter()
        .find(|r| r["step"] == "sessions")
        .expect("snapshot");
    assert_eq!(snap["sessions"][0]["id"], json!(attacker));
    // Order: delete sessions before the state change.
    let writes = env.writes();
    assert!(writes[0].starts_with("DELETE"), "{writes:?}");
    assert!(writes[1].starts_with("PATCH"), "{writes:?}");
}

#[test]
fn lock_of_an_already_locked_identity_without_sessions_is_skipped() {
    let env = Env::new(Flavour::V1_3);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("f@example.com").password("pw").inactive());
    let r = env.run(&["lock", "--identity", &id, "--yes", "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["result"], "skipped");
    assert!(env.writes().is_empty());
}

// ---------------------------------------------------------------- recover

#[test]
fn recover_shows_the_code_once_to_the_operator_and_never_journals_it() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "gina@example.com", 0);
        let r = env.run(&[
            "recover",
            "--identity",
            &id,
            "--yes",
            "--expires-in",
            "1h30m",
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        let secrets = env.kratos.issued_recovery_secrets();
        assert!(!secrets.is_empty());
        let code = secrets
            .iter()
            .find(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()))
            .expect("a six-digit code was issued");
        assert_eq!(
            r.stdout.matches(code.as_str()).count(),
            1,
            "shown exactly once"
        );
        assert!(!r.stderr.contains(code.as_str()));
        assert!(!env.journal_text().contains(code.as_str()));
        assert!(r.stderr.contains("sends no e-mail"), "{}", r.stderr);
        let post = env
            .kratos
            .requests()
            .into_iter()
            .find(|q| q.method == "POST")
            .unwrap();
        assert_eq!(post.path, "/admin/recovery/code");
        assert_eq!(post.header("content-type"), Some("application/json"));
        let body: Value = serde_json::from_slice(&post.body).unwrap();
        assert_eq!(body, json!({"identity_id": id, "expires_in": "1h30m"}));
        let last = env.records().pop().unwrap();
        assert_eq!(last["step"], "recover");
        assert_eq!(last["method"], "code");
        assert_eq!(last["earlier_codes_remain_valid"], true);
        assert_eq!(last["email_sent_by_kratos"], false);
        assert!(last["expires_at"].is_string());
    }
}

#[test]
fn recover_by_link_sends_days_as_hours_and_keeps_the_link_out_of_the_journal() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "hank@example.com", 0);
    let r = env.run(&[
        "recover",
        "--identity",
        &id,
        "--method",
        "link",
        "--expires-in",
        "7d",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let link = r.json()["recovery_link"].as_str().unwrap().to_string();
    assert!(link.contains("token="));
    assert!(!env.journal_text().contains(&link));
    for s in env.kratos.issued_recovery_secrets() {
        assert!(!env.journal_text().contains(&s));
        assert!(!r.stderr.contains(&s));
    }
    let post = env
        .kratos
        .requests()
        .into_iter()
        .find(|q| q.method == "POST")
        .unwrap();
    assert_eq!(post.path, "/admin/recovery/link");
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(body["expires_in"], "168h");
}

#[test]
fn recover_refuses_an_inactive_identity_with_a_hint_and_issues_nothing() {
    let env = Env::new(Flavour::Current);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("i@example.com").password("pw").inactive());
    let r = env.run(&["recover", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("inactive") && line.contains("unlock"),
        "{line}"
    );
    assert!(env.writes().is_empty());
    assert!(env.kratos.issued_recovery_secrets().is_empty());
}

#[test]
fn recover_of_an_unknown_identity_is_exit_3_for_codes_404_and_links_400() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "j@example.com", 0);
    for method in ["code", "link"] {
        // The identity vanishes between the look and the POST.
        env.kratos.inject(
            Fault::new(FaultKind::Raw {
                status: 200,
                content_type: "application/json".into(),
                body: json!({"id": id, "state": "active", "traits": {"email": "j@example.com"}, "credentials": {}}).to_string(),
            })
            .on("GET", "/admin/identities/"),
        );
        let unknown_body = if method == "code" {
            (
                404,
                json!({"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource", "reason": "could not find identity"}}),
            )
        } else {
            (
                400,
                json!({"error": {"code": 400, "status": "Bad Request", "message": "The request was malformed or contained invalid parameters", "reason": "The requested identity id does not exist."}}),
            )
        };
        env.kratos.inject(
            Fault::new(FaultKind::Raw {
                status: unknown_body.0,
                content_type: "application/json".into(),
                body: unknown_body.1.to_string(),
            })
            .on("POST", "/admin/recovery/"),
        );
        let r = env.run(&["recover", "--identity", &id, "--method", method, "--yes"]);
        assert_eq!(r.code, 3, "{method}: {r:?}");
    }
}

#[test]
fn recover_when_the_method_is_disabled_says_so_and_exits_1() {
    let env = Env::with_config(Config {
        recovery_code_enabled: false,
        ..Config::default()
    });
    let id = victim(&env, "k@example.com", 0);
    let r = env.run(&["recover", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("disabled") && line.contains("--method link"),
        "{line}"
    );
}

#[test]
fn recover_is_never_retried() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "l@example.com", 0);
    env.kratos
        .inject(Fault::new(FaultKind::Status(503)).on("POST", "/admin/recovery/code"));
    let r = env.run(&["recover", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let posts = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    assert_eq!(posts, 1);
    assert!(r.error_line().contains("may have been issued"));
}

// ---------------------------------------------------------------- confirmation and dry runs

#[test]
fn changing_steps_refuse_without_a_terminal_or_yes_and_send_nothing() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "m@example.com", 1);
    for args in [
        vec!["revoke", "--identity", &id],
        vec!["disable-password", "--identity", &id],
        vec!["lock", "--identity", &id],
        vec!["unlock", "--identity", &id],
        vec!["recover", "--identity", &id],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.error_line().contains("--yes"), "{args:?}");
    }
    let r = env.run_stdin(&["revoke", "--stdin"], &id);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(env.kratos.requests().is_empty(), "nothing may be sent");
    assert!(!env.journal.exists(), "nothing may be journaled");
}

#[test]
fn dry_runs_print_the_exact_requests_and_change_nothing() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "n@example.com", 1);
    for (args, expect) in [
        (
            vec!["revoke", "--identity", &id],
            format!("DELETE {}/admin/identities/{id}/sessions", env.kratos.url()),
        ),
        (
            vec!["lock", "--identity", &id],
            "\"value\": \"inactive\"".to_string(),
        ),
        (
            vec!["disable-password", "--identity", &id],
            "[redacted".to_string(),
        ),
        (
            vec!["recover", "--identity", &id, "--expires-in", "7d"],
            "\"expires_in\": \"168h\"".to_string(),
        ),
    ] {
        let mut a = args.clone();
        a.push("--dry-run");
        let r = env.run(&a);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        let flat = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        let want = expect.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&want), "{args:?}: {}", r.stdout);
        assert!(
            r.stdout.contains("nothing is changed or journaled"),
            "{}",
            r.stdout
        );
    }
    let j = env
        .run(&[
            "disable-password",
            "--identity",
            &id,
            "--dry-run",
            "-o",
            "json",
        ])
        .json();
    let put = j["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["method"] == "PUT")
        .unwrap();
    assert!(
        put["body"]["credentials"]["password"]["config"]["password"]
            .as_str()
            .unwrap()
            .starts_with("[redacted")
    );
    // The PUT sends back what was read (here the metadata), not placeholders.
    assert_eq!(put["body"]["metadata_admin"]["risk"], "high");
    // A dry run reads (to plan from the live state) and changes nothing.
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert!(!env.journal.exists());
}

/// The plan is what runs: for every changing step, the requests a dry run lists (the look's
/// reads, which it sends, then the calls and the verifying reads) are exactly, in order, the
/// requests the real run sends.
#[test]
fn a_dry_run_lists_exactly_the_requests_the_real_run_sends() {
    type Seed = fn(&Env) -> Vec<String>;
    let cases: Vec<(&str, Seed)> = vec![
        ("revoke", |env| {
            let id = victim(env, "r@example.com", 2);
            vec!["revoke".into(), "--identity".into(), id]
        }),
        ("revoke --session", |env| {
            let id = victim(env, "s@example.com", 2);
            let sid = env.kratos.sessions_of(&id)[0].id.clone();
            vec!["revoke".into(), "--session".into(), sid]
        }),
        ("lock", |env| {
            let id = victim(env, "l@example.com", 1);
            vec!["lock".into(), "--identity".into(), id]
        }),
        ("lock by e-mail with hydra", |env| {
            let id = victim(env, "lh@example.com", 1);
            env.kratos.add_consent(&id, "mail-client");
            vec![
                "--hydra-admin-url".into(),
                env.kratos.url(),
                "lock".into(),
                "--identity".into(),
                "lh@example.com".into(),
            ]
        }),
        ("unlock", |env| {
            let id = victim(env, "u@example.com", 1);
            let r = env.run(&["lock", "--identity", &id, "--yes"]);
            assert_eq!(r.code, 0);
            env.kratos.add_session(&id, SessionSeed::new());
            vec!["unlock".into(), "--identity".into(), id]
        }),
        ("disable-password", |env| {
            let id = victim(env, "d@example.com", 1);
            vec!["disable-password".into(), "--identity".into(), id]
        }),
        ("recover", |env| {
            let id = victim(env, "c@example.com", 0);
            vec![
                "recover".into(),
                "--identity".into(),
                id,
                "--expires-in".into(),
                "1h".into(),
            ]
        }),
    ];
    for (name, seed) in cases {
        for flavour in FLAVOURS {
            let env = Env::new(flavour);
            let args = seed(&env);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.kratos.clear_requests();
            let mut dry = args.clone();
            dry.extend(["--dry-run", "-o", "json"]);
            let plan = env.run(&dry);
            assert_eq!(plan.code, 0, "{name}: {plan:?}");
            let listed: Vec<(String, String, String)> = plan.json()["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| {
                    (
                        q["phase"].as_str().unwrap().to_string(),
                        q["method"].as_str().unwrap().to_string(),
                        q["path"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let sent = |env: &Env| -> Vec<(String, String)> {
                env.kratos
                    .requests()
                    .iter()
                    .map(|q| {
                        let path = match &q.query {
                            Some(qs) => format!("{}?{qs}", q.path),
                            None => q.path.clone(),
                        };
                        (q.method.clone(), path)
                    })
                    .collect()
            };
            // The dry run sent its look's reads, and only those.
            let looked: Vec<(String, String)> = listed
                .iter()
                .filter(|(p, _, _)| p == "look")
                .map(|(_, m, p)| (m.clone(), p.clone()))
                .collect();
            assert!(!looked.is_empty(), "{name}");
            assert!(looked.iter().all(|(m, _)| m == "GET"), "{name}: {looked:?}");
            assert_eq!(
                sent(&env),
                looked,
                "{name} {flavour:?}: the dry run's reads"
            );
            env.kratos.clear_requests();
            let mut real = args.clone();
            real.push("--yes");
            let r = env.run(&real);
            assert_eq!(r.code, 0, "{name} {flavour:?}: {r:?}");
            let all: Vec<(String, String)> = listed
                .iter()
                .map(|(_, m, p)| (m.clone(), p.clone()))
                .collect();
            assert_eq!(
                sent(&env),
                all,
                "{name} {flavour:?}: the real run's requests"
            );
            assert!(listed.iter().any(|(p, _, _)| p == "act"), "{name}");
        }
    }
}

#[test]
fn a_dry_run_works_without_any_server_for_ci() {
    let env = Env::new(Flavour::Current);
    let r = run(env.cmd().env_remove("KRATOS_ADMIN_URL").args([
        "revoke",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--dry-run",
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("$KRATOS_ADMIN_URL/admin/identities/"));
}

// ---------------------------------------------------------------- Hydra

#[test]
fn revoke_with_hydra_revokes_oauth2_consents_and_tokens_too() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "o@example.com", 1);
    env.kratos.add_consent(&id, "mail-client");
    env.kratos.add_consent(&id, "calendar");
    let r = env.run_with_hydra(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.kratos.consents_of(&id), 0);
    assert_eq!(env.kratos.login_sessions_of(&id), 0);
    let del = env
        .kratos
        .requests()
        .into_iter()
        .find(|q| q.method == "DELETE" && q.path == "/admin/oauth2/auth/sessions/consent")
        .unwrap();
    let q = del.query.unwrap();
    assert!(
        q.contains("all=true") && q.contains(&format!("subject={id}")),
        "{q}"
    );
    let last = env.records().pop().unwrap();
    assert_eq!(last["hydra"]["consents_revoked"], 2);
    assert_eq!(last["hydra"]["verified_no_consent_left"], true);
}

#[test]
fn revoke_without_hydra_says_that_oauth2_tokens_survive() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "p@example.com", 1);
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("OAuth2 tokens"), "{}", r.stderr);
    assert!(r.stderr.contains("JWT access tokens"), "{}", r.stderr);
    // With -o json (stdout stays one document) and in bulk runs too, on stderr.
    let other = victim(&env, "q@example.com", 1);
    let r = env.run(&["revoke", "--identity", &other, "--yes", "-o", "json"]);
    assert_eq!(r.json()["result"], "ok");
    assert!(r.stderr.contains("OAuth2 tokens"), "{}", r.stderr);
    let third = victim(&env, "r@example.com", 1);
    let r = env.run_stdin(&["revoke", "--stdin", "--yes", "-o", "json"], &third);
    assert_eq!(r.json()["summary"]["ok"], 1);
    assert!(r.stderr.contains("OAuth2 tokens"), "{}", r.stderr);
}

// ---------------------------------------------------------------- a real terminal

/// Runs atoctl under a pseudo-terminal (util-linux `script`), typing `keys`.
fn on_a_terminal(env: &Env, args: &[&str], keys: &str) -> Option<Run> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let bin = atoctl_testkit::atoctl_bin();
    let cmdline = std::iter::once(bin.display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = std::process::Command::new(script);
    c.args(["-qec", &cmdline, "/dev/null"])
        .current_dir(env.dir.path())
        .env("KRATOS_ADMIN_URL", env.kratos.url())
        .env("ATOCTL_INCIDENT", &env.journal)
        .env("ATOCTL_OPERATOR", "oncall-test")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().ok()?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take()?;
        stdin.write_all(keys.as_bytes()).ok()?;
    }
    let out = child.wait_with_output().ok()?;
    Some(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[test]
fn on_a_terminal_a_change_is_asked_for_and_no_means_nothing_changes() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "tty@example.com", 1);
    let Some(no) = on_a_terminal(&env, &["lock", "--identity", &id], "n") else {
        eprintln!("no `script` on this machine: skipped");
        return;
    };
    assert!(no.stdout.contains("Lock tty@example.com"), "{no:?}");
    assert_eq!(no.code, 2, "{no:?}");
    assert!(env.writes().is_empty(), "a no changed something");
    let yes = on_a_terminal(&env, &["lock", "--identity", &id], "y").unwrap();
    assert_eq!(yes.code, 0, "{yes:?}");
    assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "inactive");
}

// ---------------------------------------------------------------- evidence never lost

/// Kratos's DELETE …/sessions removes every row of the identity, soft-revoked and expired ones
/// with their devices too. `unlock` used to record only the live ones before it.
#[test]
fn unlock_records_every_row_the_delete_removes_not_only_the_live_ones() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = env.kratos.add_identity(
            IdentitySeed::new("locked@example.com")
                .password("pw")
                .inactive(),
        );
        env.kratos.add_session(
            &id,
            SessionSeed::new().device("192.0.2.10", "live-device", "Oslo, NO"),
        );
        env.kratos.add_session(
            &id,
            SessionSeed::new()
                .revoked()
                .device("192.0.2.11", "revoked-device", "Lima, PE"),
        );
        env.kratos.add_session(
            &id,
            SessionSeed::new()
                .expired()
                .device("192.0.2.12", "expired-device", "Pune, IN"),
        );
        let r = env.run(&["unlock", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");
        assert!(
            env.kratos.sessions_of(&id).is_empty(),
            "Kratos deleted every row"
        );
        let recs = env.records();
        let snap = recs
            .iter()
            .find(|r| r["step"] == "sessions")
            .expect("a snapshot before the delete");
        let agents: Vec<&str> = snap["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["devices"][0]["user_agent"].as_str().unwrap())
            .collect();
        for a in ["live-device", "revoked-device", "expired-device"] {
            assert!(
                agents.contains(&a),
                "{flavour:?}: {a} not recorded: {agents:?}"
            );
        }
        let last = recs.last().unwrap();
        assert_eq!(last["step"], "unlock");
        assert_eq!(last["revived_sessions_ended_first"], 1);
        assert_eq!(last["sessions_deleted"], 3);
    }
}

/// A session ended with `revoke --session` stays in Kratos as evidence; a later `revoke
/// --identity` deletes that row too: it is in the snapshot, and it is not counted as ended again.
#[test]
fn revoke_counts_only_live_sessions_as_ended_and_records_the_retained_rows() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "kept@example.com", 3);
    let kept = env.kratos.sessions_of(&id)[0].id.clone();
    let r = env.run(&["revoke", "--session", &kept, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.run(&["revoke", "--identity", &id, "--yes", "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["sessions_ended"], 2);
    let recs = env.records();
    let last = recs.last().unwrap();
    assert_eq!(last["sessions_ended"], 2);
    assert_eq!(last["sessions_deleted"], 3);
    let snap = recs.iter().rev().find(|r| r["step"] == "sessions").unwrap();
    let ids: Vec<&str> = snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&kept.as_str()), "the retained row is recorded");
    assert_eq!(ids.len(), 3);
}

/// A lock whose state change fails still ends the sessions and grants, then says exactly what
/// holds and exits 1.
#[test]
fn lock_ends_the_sessions_even_when_setting_the_state_fails() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "stuck@example.com", 2);
    env.kratos.add_consent(&id, "mail-client");
    env.kratos.inject(
        Fault::new(FaultKind::Status(500))
            .on("PATCH", "/admin/identities/")
            .times(10),
    );
    let r = env.run_with_hydra(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(line.contains("could NOT be set inactive"), "{line}");
    assert!(line.contains("ended 2 sessions"), "{line}");
    assert!(
        env.kratos.sessions_of(&id).is_empty(),
        "sessions ended anyway"
    );
    assert_eq!(env.kratos.consents_of(&id), 0, "grants revoked anyway");
    assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "active");
    let last = env.records().pop().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["verified"], false);
    assert_eq!(last["state_after"], "active");
    assert!(
        last["done"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.as_str().unwrap().starts_with("DELETE /admin/identities/"))
    );
    assert!(
        last["failed"][0]["request"]
            .as_str()
            .unwrap()
            .starts_with("PATCH ")
    );
}

/// A step began (its evidence and a `started` mark are on disk) before its first change; a runner
/// reads from the journal whether it finished.
#[test]
fn every_changing_step_marks_its_start_before_its_first_change() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "marks@example.com", 1);
    for step in ["disable-password", "lock", "unlock", "recover", "revoke"] {
        let r = env.run(&[step, "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{step}: {r:?}");
    }
    let recs = env.records();
    for step in ["disable-password", "lock", "unlock", "recover"] {
        let mine: Vec<&str> = recs
            .iter()
            .filter(|r| r["step"] == step)
            .map(|r| r["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(mine, ["started", "ok"], "{step}");
        let started = recs
            .iter()
            .find(|r| r["step"] == step && r["outcome"] == "started")
            .unwrap();
        assert!(
            started["plan"].as_array().is_some_and(|p| !p.is_empty()),
            "{step}"
        );
    }
    // Nothing left to revoke after the lock: skipped, and a skip has no start.
    let revokes: Vec<&str> = recs
        .iter()
        .filter(|r| r["step"] == "revoke")
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(revokes, ["skipped"]);
}

// ---------------------------------------------------------------- identities by e-mail

#[test]
fn every_identity_option_takes_a_login_identifier_and_the_journal_says_how_it_was_found() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "Alice@Example.com", 2);
        let r = env.run(&[
            "revoke",
            "--identity",
            "alice@example.com",
            "--yes",
            "-o",
            "json",
        ]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");
        assert_eq!(r.json()["identity"], json!(id));
        assert!(env.kratos.sessions_of(&id).is_empty());
        let last = env.records().pop().unwrap();
        assert_eq!(last["identity"], json!(id));
        assert_eq!(
            last["resolved_from"]["identifier"], "alice@example.com",
            "{flavour:?}"
        );
        let r = env.run(&["sessions", "--identity", "alice@example.com"]);
        assert_eq!(r.code, 0, "{r:?}");
        let r = env.run(&["lock", "--identity", "alice@example.com", "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "inactive");
    }
}

#[test]
fn bulk_revoke_takes_login_identifiers_too() {
    let env = Env::new(Flavour::Current);
    let a = victim(&env, "one@example.com", 1);
    let b = victim(&env, "two@example.com", 2);
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes", "-o", "json"],
        &format!("one@example.com\n{b}\nnobody@example.com\n"),
    );
    assert_eq!(r.code, 1, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["summary"]["ok"], 2);
    assert_eq!(doc["summary"]["not_found"], 1);
    assert_eq!(doc["summary"]["sessions_ended"], 3);
    assert_eq!(doc["failed"], json!(["nobody@example.com"]));
    assert!(env.kratos.sessions_of(&a).is_empty() && env.kratos.sessions_of(&b).is_empty());
    let recs = env.records();
    assert!(recs.iter().any(
        |r| r["identity"] == json!(a) && r["resolved_from"]["identifier"] == "one@example.com"
    ));
    assert!(
        recs.iter()
            .any(|r| r["identifier"] == "nobody@example.com" && r["outcome"] == "failed")
    );
    assert_eq!(env.verify().code, 0);
}

#[test]
fn identity_shows_what_an_incident_needs_and_never_a_secret() {
    let env = Env::new(Flavour::Current);
    let id = env.kratos.add_identity(
        IdentitySeed::new("full@example.com")
            .password("correct horse battery staple")
            .totp()
            .webauthn_mfa()
            .oidc("google", "g-123"),
    );
    env.kratos.add_session(&id, SessionSeed::new());
    let r = env.run(&["identity", "--identity", "full@example.com", "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["id"], json!(id));
    assert_eq!(v["state"], "active");
    assert_eq!(v["verifiable_addresses"][0]["value"], "full@example.com");
    assert_eq!(v["verifiable_addresses"][0]["verified"], true);
    assert_eq!(v["sessions"]["total"], 1);
    let types: Vec<&str> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    for t in ["password", "totp", "webauthn", "oidc"] {
        assert!(types.contains(&t), "{types:?}");
    }
    let oidc = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "oidc")
        .unwrap();
    assert_eq!(oidc["identifiers"], json!(["google:g-123"]));
    assert!(oidc["updated_at"].is_string());
    let table = env.run(&["identity", "--identity", &id]);
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("changed in the last 7 days"),
        "{}",
        table.stdout
    );
    // No credential config was asked for, and nothing secret is shown.
    assert!(env.kratos.requests().iter().all(|q| {
        !q.query
            .as_deref()
            .unwrap_or_default()
            .contains("include_credential")
    }));
    for secret in [
        "argon2",
        "otpauth",
        "JBSWY3DP",
        "public_key",
        "correct horse",
    ] {
        assert!(
            !r.all().contains(secret) && !table.all().contains(secret),
            "{secret}"
        );
    }
    let r = env.run(&["identity", "--identity", "nobody@example.com"]);
    assert_eq!(r.code, 3, "{r:?}");
}

/// Hydra: every consent revoked (its tokens with it), each login session it was granted in logged
/// out by `sid` (back-channel logout to the relying parties, which `?subject=` does not do),
/// remembered logins forgotten; the journal holds what was measured. Consents span pages.
#[test]
fn hydra_login_sessions_are_logged_out_by_sid_and_the_journal_holds_what_was_measured() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "oauth@example.com", 1);
    let shared = env.kratos.add_login_session(&id);
    env.kratos
        .add_consent_in_login_session(&id, "mail-client", &shared);
    env.kratos
        .add_consent_in_login_session(&id, "calendar", &shared);
    let many = env.kratos.add_consents(&id, "crm", 600);
    let other_sid = env
        .kratos
        .login_session_of_consent(&many[0])
        .expect("a login session");
    let before = env.kratos.tokens_of(&id);
    assert!(before > 0);
    let r = env.run_with_hydra(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.kratos.consents_of(&id), 0);
    assert_eq!(env.kratos.tokens_of(&id), 0);
    assert_eq!(env.kratos.login_sessions_of(&id), 0);
    let logged_out = env.kratos.backchannel_logouts();
    assert!(logged_out.contains(&shared), "{logged_out:?}");
    assert!(logged_out.contains(&other_sid), "{logged_out:?}");
    let last = env.records().pop().unwrap();
    let h = &last["hydra"];
    assert_eq!(h["consents_before"], 602);
    assert_eq!(h["consents_revoked"], 602);
    assert_eq!(h["verified_no_consent_left"], true);
    assert_eq!(h["remembered_logins_forgotten"], true);
    let sids: Vec<&str> = h["login_sessions_logged_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(sids.contains(&shared.as_str()) && sids.contains(&other_sid.as_str()));
    // The consent listing followed Hydra's Link header past the first page.
    let pages = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.path.ends_with("/sessions/consent"))
        .count();
    // Two pages of at most 500 before, one (empty) after.
    assert_eq!(
        pages, 3,
        "consent listing requests for 602 consents, before and after"
    );
}

/// A Hydra call that fails is said, measured, and the step fails: nothing is claimed that was not
/// seen.
#[test]
fn a_failed_hydra_call_is_recorded_as_failed_not_assumed_done() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "oauth2@example.com", 1);
    env.kratos.add_consent(&id, "mail-client");
    env.kratos.inject(
        Fault::new(FaultKind::Status(500))
            .on("DELETE", "/admin/oauth2/auth/sessions/login")
            .times(20),
    );
    let r = env.run_with_hydra(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("Hydra"), "{}", r.stderr);
    let last = env.records().pop().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["hydra"]["remembered_logins_forgotten"], false);
    assert_eq!(last["hydra"]["login_sessions_logged_out"], json!([]));
    // The Kratos sessions and the consents were still ended.
    assert!(env.kratos.sessions_of(&id).is_empty());
    assert_eq!(env.kratos.consents_of(&id), 0);
}

// ---------------------------------------------------------------- races with another operator

/// Another operator locks the identity while disable-password is between its look and its PUT:
/// the guard read right before the PUT sees it, nothing is sent, the lock holds.
#[test]
fn disable_password_does_not_undo_a_lock_made_after_its_look() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "race@example.com", 1);
    let path = format!("/admin/identities/{id}");
    // The look reads the identity, then whether it has a password: hold the second read.
    let hold = Hold::new();
    env.kratos
        .inject(Fault::new(FaultKind::Delay(std::time::Duration::ZERO)).on("GET", &path));
    env.kratos
        .inject(Fault::new(FaultKind::Hold(hold.clone())).on("GET", &path));
    let (r, lock) = env.run_racing(
        &["disable-password", "--identity", &id, "--yes"],
        &hold,
        || env.run(&["lock", "--identity", &id, "--yes"]),
    );
    assert_eq!(lock.code, 0, "{lock:?}");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.error_line().contains("changed since atoctl looked"),
        "{}",
        r.stderr
    );
    assert!(
        !env.writes().iter().any(|w| w.starts_with("PUT")),
        "{:?}",
        env.writes()
    );
    assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "inactive");
    let last = env.records().pop().unwrap();
    assert_eq!(last["step"], "disable-password");
    assert_eq!(last["outcome"], "failed");
    assert!(last["not_done"][0].as_str().unwrap().starts_with("PUT "));
}

/// The lock lands in the one round trip between the guard read and the PUT: the PUT sends the
/// state it read and so undoes the lock, which the check afterwards sees (the state changed at
/// the PUT): the step fails and says what to check.
#[test]
fn disable_password_says_so_when_a_lock_raced_its_put() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "race2@example.com", 1);
    let hold = Hold::new();
    env.kratos.inject(
        Fault::new(FaultKind::Hold(hold.clone())).on("PUT", &format!("/admin/identities/{id}")),
    );
    let (r, lock) = env.run_racing(
        &["disable-password", "--identity", &id, "--yes"],
        &hold,
        || env.run(&["lock", "--identity", &id, "--yes"]),
    );
    assert_eq!(lock.code, 0, "{lock:?}");
    assert_eq!(r.code, 1, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("its state changed at the same moment"),
        "{line}"
    );
    assert!(line.contains("lock it again"), "{line}");
    let last = env.records().pop().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["verified"], false);
}

/// On Ory Network every answer says how many requests its bucket still allows and when that
/// resets: a bulk run paces itself by them and meets no 429, with no --rate given.
#[test]
fn bulk_revoke_paces_itself_by_the_servers_rate_limit_answers() {
    let env = Env::with_config(Config {
        rate_limit: Some(RateBudget {
            per_second: 10,
            per_minute: 600,
        }),
        ..Config::default()
    });
    let ids: Vec<String> = (0..12)
        .map(|i| victim(&env, &format!("paced{i}@example.com"), 1))
        .collect();
    let r = env.run_stdin(
        &[
            "revoke",
            "--stdin",
            "--yes",
            "--concurrency",
            "16",
            "-o",
            "json",
        ],
        &ids.join("\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["summary"]["ok"], 12);
    assert_eq!(env.kratos.rate_limited(), 0, "429s met: {}", r.stderr);
    assert!(!r.stderr.contains("rate limited"), "{}", r.stderr);
}

/// A listing that holds fewer sessions than Kratos counts cannot be the evidence of a hard
/// delete: atoctl disables the listed live sessions one by one (rows kept) and fails.
#[test]
fn an_incomplete_listing_is_never_followed_by_a_hard_delete() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "partial@example.com", 2);
    let listed = env.kratos.sessions_of(&id)[0].id.clone();
    env.kratos.inject(
        Fault::new(FaultKind::JsonWithHeaders {
            status: 200,
            body: json!([{"id": listed, "active": true,
                "identity": {"id": id, "state": "active"}, "devices": []}]),
            headers: vec![("x-total-count".into(), "2".into())],
        })
        .on("GET", &format!("/admin/identities/{id}/sessions")),
    );
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.error_line().contains("listing was incomplete"),
        "{}",
        r.stderr
    );
    assert!(
        !env.writes()
            .iter()
            .any(|w| w == &format!("DELETE /admin/identities/{id}/sessions")),
        "{:?}",
        env.writes()
    );
    // The listed session was disabled, softly; both rows are still there.
    let rows = env.kratos.sessions_of(&id);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|s| s.id == listed && !s.db_active));
    let last = env.records().pop().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["listing_incomplete"]["counted"], 2);
}

/// Lock lists the sessions again once the identity is inactive (no session can be created
/// then): a session that appeared after the look is not hard-deleted unrecorded.
#[test]
fn lock_does_not_delete_a_session_that_appeared_after_its_look() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "late@example.com", 1);
    let hold = Hold::new();
    env.kratos.inject(
        Fault::new(FaultKind::Hold(hold.clone())).on("PATCH", &format!("/admin/identities/{id}")),
    );
    let (r, late) = env.run_racing(&["lock", "--identity", &id, "--yes"], &hold, || {
        env.kratos.add_session(&id, SessionSeed::new())
    });
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.error_line().contains("appeared after atoctl recorded"),
        "{}",
        r.stderr
    );
    assert_eq!(env.kratos.identity_json(&id).unwrap()["state"], "inactive");
    assert!(
        env.kratos.sessions_of(&id).iter().any(|s| s.id == late),
        "the late session was not destroyed unrecorded"
    );
    // Run again: now it is recorded first, then ended.
    let again = env.run(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(env.kratos.sessions_of(&id).is_empty());
    let snaps: Vec<Value> = env
        .records()
        .into_iter()
        .filter(|e| e["step"] == "sessions")
        .collect();
    assert!(
        snaps.last().unwrap()["sessions"]
            .to_string()
            .contains(&late)
    );
}

/// An answer about another identity to a change stops the act there: nothing more is sent.
#[test]
fn an_untrusted_answer_to_a_change_stops_everything_after_it() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "m1@example.com", 1);
    let other = victim(&env, "m2@example.com", 1);
    env.kratos.add_consent(&id, "mail-client");
    env.kratos.inject(
        Fault::new(FaultKind::Json {
            status: 200,
            body: env.kratos.identity_json(&other).unwrap(),
        })
        .on("PATCH", &format!("/admin/identities/{id}")),
    );
    env.kratos.clear_requests();
    let r = env.run_with_hydra(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error_line().contains("does not trust"), "{}", r.stderr);
    let reqs = env.kratos.requests();
    let patch = reqs.iter().position(|q| q.method == "PATCH").unwrap();
    assert_eq!(
        patch,
        reqs.len() - 1,
        "requests after the PATCH: {:?}",
        &reqs[patch..]
    );
    assert_eq!(env.kratos.sessions_of(&id).len(), 1);
}
