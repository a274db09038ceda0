//! `respond`: the playbook run step by step, resumable after a kill at any point, from a
//! Castle webhook too; one incident, one journal.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};

use common::*;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// Answers for the immediate phase's manual item, as a script gives them.
fn answers(env: &Env) -> String {
    let path = env.dir.path().join("answers.json");
    std::fs::write(
        &path,
        json!({
            "confirm-with-user": ["no", "no", "no", "this morning: a login alert from Lagos", "Berlin, my laptop"],
            "notify-locked": true
        })
        .to_string(),
    )
    .expect("write answers");
    path.display().to_string()
}

/// `respond --identity IDENTITY --yes`, with the answers a script gives.
fn respond_yes(env: &Env, identity: &str) -> Run {
    let ans = answers(env);
    env.run(&[
        "respond",
        "--identity",
        identity,
        "--yes",
        "--answers",
        &ans,
    ])
}

/// atoctl respond as a child process that a test can kill.
fn spawn(env: &Env, args: &[&str]) -> Child {
    std::process::Command::new(atoctl_testkit::atoctl_bin())
        .current_dir(env.dir.path())
        .env_remove("ATOCTL_INCIDENT_DIR")
        .env_remove("HYDRA_ADMIN_URL")
        .env_remove("CASTLE_API_SECRET")
        .env("KRATOS_ADMIN_URL", env.kratos.url())
        .env("ATOCTL_INCIDENT", &env.journal)
        .env("ATOCTL_OPERATOR", "oncall-test")
        .env("ATOCTL_RETRY_BASE_MS", "1")
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start atoctl")
}

/// The status respond's checklist (stdout) gives a step.
fn status(stdout: &str, step: &str) -> String {
    stdout
        .lines()
        .find_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            match t.as_slice() {
                [s, id, ..] if *id == step => Some(s.to_string()),
                ["in", "progress", id, ..] if *id == step => Some("in progress".into()),
                _ => None,
            }
        })
        .unwrap_or_default()
}

fn entries(env: &Env, step: &str) -> Vec<Value> {
    env.records()
        .into_iter()
        .filter(|r| r["step"] == step)
        .collect()
}

/// The (method, path) of every request the double saw, queries dropped.
fn requests(env: &Env) -> Vec<(String, String)> {
    env.kratos
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.split('?').next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn count(reqs: &[(String, String)], method: &str, path: &str) -> usize {
    reqs.iter()
        .filter(|(m, p)| m == method && p == path)
        .count()
}

#[test]
fn respond_runs_the_immediate_phase_once_and_a_second_run_sends_no_change() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "ann@example.com", 2);
        let first = respond_yes(&env, "ann@example.com");
        assert_eq!(first.code, 0, "{flavour:?}: {}", first.all());
        let writes = env.writes();
        assert_eq!(
            writes,
            [
                format!("DELETE /admin/identities/{id}/sessions"),
                format!("PUT /admin/identities/{id}"),
                "POST /admin/recovery/code".to_string(),
            ],
            "{flavour:?}: revoke, disable-password, recover, in that order"
        );
        assert!(env.kratos.sessions_of(&id).iter().all(|s| !s.db_active));
        assert!(!matches!(
            env.kratos.password_login("ann@example.com", PASSWORD),
            LoginResult::Ok { .. }
        ));
        // The manual item's answers are journaled under the playbook step.
        let manual = entries(&env, "manual");
        assert_eq!(manual.len(), 1, "{flavour:?}");
        assert_eq!(manual[0]["playbook_step"], "confirm-with-user");
        assert_eq!(manual[0]["answers"][4]["answer"], "Berlin, my laptop");
        // stdout is respond's own checklist: every step done or not applicable.
        for step in ["confirm-with-user", "revoke", "disable-password", "recover"] {
            assert_eq!(
                status(&first.stdout, step),
                "done",
                "{flavour:?}: {}",
                first.stdout
            );
        }
        assert_eq!(
            status(&first.stdout, "lock"),
            "skipped",
            "not applicable without a webhook"
        );
        assert!(
            first.stdout.contains("phase immediate complete"),
            "{}",
            first.stdout
        );

        let issued = env.kratos.issued_recovery_secrets().len();
        let again = env.run(&["respond", "--identity", &id, "--yes"]);
        assert_eq!(again.code, 0, "{flavour:?}: {}", again.all());
        assert_eq!(
            env.writes(),
            writes,
            "{flavour:?}: a second run changes nothing"
        );
        assert_eq!(env.kratos.issued_recovery_secrets().len(), issued);
        assert!(
            again.stderr.contains("revoke: done already"),
            "{}",
            again.stderr
        );
        assert_eq!(env.verify().code, 0);
        let r = entries(&env, "respond");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["summary"], "phase immediate complete");
    }
}

#[test]
fn respond_without_a_terminal_or_yes_refuses_before_anything() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 1);
    let run = env.run(&["respond", "--identity", &id]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.error_line().contains("without confirmation"),
        "{}",
        run.stderr
    );
    assert!(
        env.kratos.requests().is_empty(),
        "nothing was sent, not even a read"
    );
    assert!(!env.journal.exists(), "no journal was created");
}

#[test]
fn respond_dry_run_lists_every_step_and_sends_only_reads() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 2);
    let run = env.run(&["respond", "--identity", &id, "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(env.writes().is_empty(), "a dry run changes nothing");
    assert!(!env.journal.exists(), "and journals nothing");
    let out = run.all();
    for want in [
        "confirm-with-user",
        "Did you log in from another device recently?",
        &format!("$ atoctl revoke --identity {id}"),
        "only when webhook",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Every change of the phase is listed with its method and URL.
    let url = env.kratos.url();
    for (method, path) in [
        ("DELETE", format!("{url}/admin/identities/{id}/sessions")),
        ("PUT", format!("{url}/admin/identities/{id}")),
        ("POST", format!("{url}/admin/recovery/code")),
    ] {
        assert!(
            out.lines().any(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                t.get(1) == Some(&method) && t.get(2) == Some(&path.as_str())
            }),
            "missing {method} {path} in:\n{out}"
        );
    }
    assert!(!out.contains("[redacted") || !out.contains(PASSWORD));
}

/// Kills respond before each request of the immediate phase in turn (every step boundary and
/// every point inside a step), runs it again, and checks that nothing was done twice, nothing
/// was lost and the journal verifies.
#[test]
fn respond_killed_before_any_request_then_run_again_does_nothing_twice() {
    // A calibration run: the requests of the phase, in order.
    let calibration = {
        let env = Env::new(Flavour::Current);
        victim(&env, "ann@example.com", 2);
        let run = respond_yes(&env, "ann@example.com");
        assert_eq!(run.code, 0, "{}", run.all());
        requests(&env)
    };
    assert!(calibration.len() >= 10, "{calibration:?}");
    let mut kinds_seen = std::collections::BTreeSet::new();
    for (i, (method, path)) in calibration.iter().enumerate() {
        let env = Env::new(Flavour::Current);
        let id = victim(&env, "ann@example.com", 2);
        let sessions: Vec<String> = env
            .kratos
            .sessions_of(&id)
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let ans = answers(&env);
        // Requests of the calibration carry the calibration's identity id: map it.
        let cal_id = path
            .split('/')
            .find(|p| p.len() == 36 && p.matches('-').count() == 4)
            .unwrap_or_default()
            .to_string();
        let path = if cal_id.is_empty() {
            path.clone()
        } else {
            path.replace(&cal_id, &id)
        };
        // Let the earlier requests of the same route through, hold this one.
        let earlier = calibration[..i]
            .iter()
            .filter(|(m, p)| m == method && p.replace(&cal_id, &id) == path)
            .count();
        let route = format!("{path}$");
        if earlier > 0 {
            env.kratos.inject(
                Fault::new(FaultKind::Delay(std::time::Duration::ZERO))
                    .on(method, &route)
                    .times(earlier),
            );
        }
        let hold = Hold::new();
        env.kratos
            .inject(Fault::new(FaultKind::Hold(hold.clone())).on(method, &route));
        // As the calibration ran: by e-mail address (its lookup is a request too).
        let mut child = spawn(
            &env,
            &[
                "respond",
                "--identity",
                "ann@example.com",
                "--yes",
                "--answers",
                &ans,
            ],
        );
        let cut = format!("{method} {path} (request {i})");
        eprintln!("cutting before {cut}");
        hold.wait_arrived();
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        if env.journal.exists() {
            assert_eq!(
                env.verify().code,
                0,
                "{cut}: the journal verifies after the kill"
            );
        }
        kinds_seen.insert(method.clone());

        let rerun = respond_yes(&env, &id);
        assert_eq!(rerun.code, 0, "{cut}: {}", rerun.all());
        assert_eq!(env.verify().code, 0, "{cut}");
        let reqs = requests(&env);
        // The held request never reached the handler: it changed nothing.
        let held = |m: &str, p: &str| usize::from(method == m && path == p);
        let handled = |m: &str, p: &str| count(&reqs, m, p) - held(m, p);
        let sessions_path = format!("/admin/identities/{id}/sessions");
        let identity_path = format!("/admin/identities/{id}");
        assert_eq!(
            handled("DELETE", &sessions_path),
            1,
            "{cut}: sessions deleted once: {reqs:?}"
        );
        assert_eq!(
            handled("PUT", &identity_path),
            1,
            "{cut}: one PUT: {reqs:?}"
        );
        assert_eq!(
            handled("POST", "/admin/recovery/code"),
            1,
            "{cut}: one recovery code"
        );
        assert!(env.kratos.sessions_of(&id).is_empty(), "{cut}");
        assert!(
            !matches!(
                env.kratos.password_login("ann@example.com", PASSWORD),
                LoginResult::Ok { .. }
            ),
            "{cut}"
        );
        // Nothing lost: every session deleted was recorded first.
        let text = env.journal_text();
        for s in &sessions {
            assert!(text.contains(s.as_str()), "{cut}: session {s} recorded");
        }
        // A recovery code cut off in flight: the journal says an earlier one may exist.
        let warned = entries(&env, "respond")
            .iter()
            .any(|e| e["earlier_recovery_code_may_exist"] == true);
        assert_eq!(
            warned,
            method == "POST",
            "{cut}: the journal says an earlier code may exist exactly when recover was cut off"
        );
        // Every step of the phase ended.
        let last = entries(&env, "respond");
        assert_eq!(
            last.last().map(|e| e["summary"].clone()),
            Some(json!("phase immediate complete")),
            "{cut}"
        );
    }
    assert!(
        kinds_seen.contains("PUT") && kinds_seen.contains("DELETE") && kinds_seen.contains("POST")
    );
}

/// The PUT landed and the process died before recording its end: the next run sees the new
/// password credential and sends no second PUT (which could only destroy an owner's new one).
#[test]
fn disable_password_cut_off_after_its_put_landed_is_not_sent_again() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "ann@example.com", 1);
        let ans = answers(&env);
        let put = Hold::new();
        let identity = format!("/admin/identities/{id}$");
        env.kratos
            .inject(Fault::new(FaultKind::Hold(put.clone())).on("PUT", &identity));
        let mut child = spawn(
            &env,
            &["respond", "--identity", &id, "--yes", "--answers", &ans],
        );
        put.wait_arrived();
        // The next read of the identity comes after the PUT: hold it, let the PUT land, kill.
        let after = Hold::new();
        env.kratos
            .inject(Fault::new(FaultKind::Hold(after.clone())).on("GET", &identity));
        put.release();
        after.wait_arrived();
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let dp = entries(&env, "disable-password");
        assert_eq!(dp.len(), 1, "{flavour:?}: only the started entry: {dp:?}");
        assert_eq!(dp[0]["outcome"], "started");

        let rerun = respond_yes(&env, &id);
        assert_eq!(rerun.code, 0, "{flavour:?}: {}", rerun.all());
        let puts = env.writes().iter().filter(|w| w.starts_with("PUT")).count();
        assert_eq!(puts, 1, "{flavour:?}: no second PUT");
        let dp = entries(&env, "disable-password");
        let end = dp.last().cloned().unwrap_or_default();
        assert_eq!(end["outcome"], "skipped", "{flavour:?}: {end}");
        assert_eq!(end["resumed_from"], dp[0]["seq"]);
        assert!(
            end["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("took effect"),
            "{end}"
        );
        assert!(rerun.stderr.contains("recorded no end"), "{}", rerun.stderr);
    }
}

/// `revoke --stdin` killed halfway: the identities the journal shows done are not touched
/// again; the rest are.
#[test]
fn a_bulk_step_killed_halfway_continues_with_what_is_not_done() {
    let env = Env::new(Flavour::Current);
    let ids: Vec<String> = (0..4)
        .map(|i| victim(&env, &format!("v{i}@example.com"), 1))
        .collect();
    let playbook = env.dir.path().join("bulk.toml");
    std::fs::write(
        &playbook,
        format!(
            r#"name = "bulk"
[[phase]]
id = "now"
deadline = "10m"
[[step]]
id = "revoke-all"
phase = "now"
title = "End the sessions of every identity hit"
run = "revoke --stdin --concurrency 1"
stdin = """
{}
"""
"#,
            ids.join("\n")
        ),
    )
    .expect("write playbook");
    let pb = playbook.display().to_string();
    let hold = Hold::new();
    env.kratos.inject(
        Fault::new(FaultKind::Hold(hold.clone()))
            .on("DELETE", &format!("/admin/identities/{}/sessions$", ids[2])),
    );
    let mut child = spawn(
        &env,
        &["respond", "--identity", &ids[0], "--playbook", &pb, "--yes"],
    );
    hold.wait_arrived();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(env.verify().code, 0);
    let before = env.writes();
    assert_eq!(before.len(), 3, "two done, the third held: {before:?}");

    let rerun = env.run(&["respond", "--identity", &ids[0], "--playbook", &pb, "--yes"]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    let writes = env.writes();
    for (i, id) in ids.iter().enumerate() {
        let n = writes
            .iter()
            .filter(|w| **w == format!("DELETE /admin/identities/{id}/sessions"))
            .count();
        let want = if i == 2 { 2 } else { 1 };
        assert_eq!(n, want, "identity {i}: {writes:?}");
        assert!(env.kratos.sessions_of(id).is_empty());
    }
    assert_eq!(env.verify().code, 0);
    assert_eq!(
        status(&rerun.stdout, "revoke-all"),
        "done",
        "{}",
        rerun.stdout
    );
}

fn castle_payload(id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "api_version": "v1",
        "app_id": "app",
        "type": "$incident.confirmed",
        "created_at": "2026-11-20T08:15:30.000Z",
        "data": {
            "id": "castle-incident-1",
            "device_token": "dev",
            "user_id": id,
            "trigger": "$login.succeeded",
            "context": {
                "ip": "203.0.113.66",
                "user_agent": {"raw": "Mozilla/5.0 (Windows NT 10.0)", "browser": "Chrome", "os": "Windows 10"},
                "location": {"country_code": "AU", "region": "NSW", "city": "Sydney", "lat": -33.86, "lon": 151.21},
                "isp": {"isp_name": "Example Net", "isp_organization": "Example"}
            },
            "policy": {"id": "p", "name": "ATO", "action": "deny"}
        }
    }))
    .expect("payload")
}

fn sign(body: &[u8], secret: &str) -> String {
    atoctl::webhook::sign(body, &secrecy::SecretString::from(secret.to_string()))
}

#[test]
fn a_signed_castle_webhook_locks_first_and_issues_recovery_only_after_unlock() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "ann@example.com", 2);
        let ans = answers(&env);
        let body = castle_payload(&id);
        let file = env.dir.path().join("castle.json");
        std::fs::write(&file, &body).expect("write payload");
        let sig = sign(&body, "castle-secret");
        let run = common::run(
            env.cmd()
                .env("CASTLE_API_SECRET", "castle-secret")
                .args(["respond", "--from-webhook", &file.display().to_string()])
                .args(["--signature", &sig, "--yes", "--answers", &ans]),
        );
        assert_eq!(run.code, 0, "{flavour:?}: {}", run.all());
        // The webhook is the first evidence, right after the opening.
        let steps = env.steps();
        assert_eq!(steps[0].0, "incident.open");
        assert_eq!(steps[1].0, "castle.webhook", "{steps:?}");
        let hook = &entries(&env, "castle.webhook")[0];
        assert_eq!(hook["ip"], "203.0.113.66");
        assert_eq!(hook["location"]["city"], "Sydney");
        assert_eq!(hook["isp"]["isp_name"], "Example Net");
        assert_eq!(hook["device"]["browser"], "Chrome");
        assert_eq!(hook["trigger"], "$login.succeeded");
        assert_eq!(hook["signature_verified"], true);
        // Castle's order, as Kratos needs it: lock, …, unlock, and only then the recovery code.
        let writes = env.writes();
        let at = |w: &str| writes.iter().position(|x| x.starts_with(w));
        let lock = at(&format!("PATCH /admin/identities/{id}")).expect("locked");
        let recovery = at("POST /admin/recovery/code").expect("recovery issued");
        let unlock = writes
            .iter()
            .rposition(|x| x.starts_with(&format!("PATCH /admin/identities/{id}")))
            .expect("unlocked");
        assert!(
            lock < unlock && unlock < recovery,
            "{flavour:?}: {writes:?}"
        );
        assert!(
            writes.iter().any(|w| w.starts_with("PUT ")),
            "password disabled"
        );
        assert!(env.kratos.sessions_of(&id).iter().all(|s| !s.db_active));
        // The confirm-with-user item does not apply: Castle confirmed it.
        assert!(
            entries(&env, "manual")
                .iter()
                .all(|m| m["playbook_step"] != "confirm-with-user")
        );
        assert_eq!(env.verify().code, 0);
    }
}

#[test]
fn a_tampered_unsigned_or_malformed_webhook_is_refused_before_anything() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 1);
    let body = castle_payload(&id);
    let sig = sign(&body, "castle-secret");
    let mut tampered: Value = serde_json::from_slice(&body).expect("json");
    tampered["data"]["context"]["ip"] = json!("198.51.100.99");
    // (case, payload, secret, signature, what the error says)
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        ("tampered", serde_json::to_vec(&tampered).expect("json"), Some("castle-secret"), Some(sig.as_str()), "does not verify"),
        ("wrong secret", body.clone(), Some("another-secret"), Some(sig.as_str()), "does not verify"),
        ("unsigned", body.clone(), Some("castle-secret"), None, "unsigned"),
        ("signature without secret", body.clone(), None, Some(sig.as_str()), "no secret"),
        ("not JSON", b"{\"type\": ".to_vec(), None, None, "body is not JSON"),
        ("another event", br#"{"type":"$review.opened","data":{}}"#.to_vec(), None, None, "payload's type"),
        ("no user", br#"{"type":"$incident.confirmed","data":{"context":{}}}"#.to_vec(), None, None, "data.user_id is missing"),
        ("bad ip", format!(r#"{{"type":"$incident.confirmed","data":{{"user_id":"{id}","context":{{"ip":"x"}}}}}}"#).into_bytes(), None, None, "data.context.ip"),
    ];
    for (name, payload, secret, signature, want) in cases {
        let file = env.dir.path().join("hook.json");
        std::fs::write(&file, &payload).expect("write");
        let mut cmd = env.cmd();
        if let Some(s) = secret {
            cmd.env("CASTLE_API_SECRET", s);
        }
        cmd.args([
            "respond",
            "--from-webhook",
            &file.display().to_string(),
            "--yes",
        ]);
        if let Some(s) = signature {
            cmd.args(["--signature", s]);
        }
        let run = common::run(&mut cmd);
        assert_eq!(run.code, 2, "{name}: {}", run.all());
        assert!(run.error_line().contains(want), "{name}: {}", run.stderr);
        assert!(env.kratos.requests().is_empty(), "{name}: nothing sent");
        assert!(!env.journal.exists(), "{name}: nothing journaled");
    }
    // From stdin, the identity given and the payload's must agree.
    let other = victim(&env, "bob@example.com", 0);
    let run = common::run(
        env.cmd()
            .args([
                "respond",
                "--from-webhook",
                "-",
                "--identity",
                &other,
                "--yes",
                "--allow-unsigned",
            ])
            .write_stdin(body),
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.error_line().contains("data.user_id"), "{}", run.stderr);
    assert!(
        env.kratos.requests().is_empty(),
        "nothing sent, not even a read"
    );
}

/// A newcomer who forgot ATOCTL_INCIDENT gets one journal for the incident, not one per step;
/// after `incident close` the next step opens a new one.
#[test]
fn steps_without_incident_continue_the_identitys_open_incident_until_it_is_closed() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 2);
    let other = victim(&env, "bob@example.com", 1);
    let bare = |args: &[&str]| common::run(env.cmd().env_remove("ATOCTL_INCIDENT").args(args));
    let first = bare(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let dir = env.dir.path().join("incidents");
    let journals = |d: &Path| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let files = journals(&dir);
    assert_eq!(files.len(), 1);
    let name = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let incident_id = name.trim_end_matches(".jsonl");
    let abs = std::fs::canonicalize(&files[0]).expect("absolute");
    assert!(
        first
            .stderr
            .contains(&format!("export ATOCTL_INCIDENT={}", abs.display())),
        "{}",
        first.stderr
    );

    let second = bare(&["disable-password", "--identity", "ann@example.com", "--yes"]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert!(
        second
            .stderr
            .contains(&format!("continuing incident {incident_id}")),
        "{}",
        second.stderr
    );
    assert_eq!(journals(&dir).len(), 1, "the same journal");
    // Another identity's step opens its own.
    assert_eq!(bare(&["lock", "--identity", &other, "--yes"]).code, 0);
    assert_eq!(journals(&dir).len(), 2);

    let close = common::run(env.cmd().env("ATOCTL_INCIDENT", &files[0]).args([
        "incident",
        "close",
        "--resolution",
        "owner recovered the account",
    ]));
    assert_eq!(close.code, 0, "{}", close.all());
    let text = std::fs::read_to_string(&files[0]).unwrap_or_default();
    let last: Value = serde_json::from_str(text.lines().last().unwrap_or_default()).expect("json");
    assert_eq!(last["step"], "incident.close");
    assert_eq!(last["resolution"], "owner recovered the account");
    // A closed incident takes no more steps...
    let refused = common::run(env.cmd().env("ATOCTL_INCIDENT", &files[0]).args([
        "lock",
        "--identity",
        &id,
        "--yes",
    ]));
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.error_line().contains("is closed"));
    assert!(
        !env.writes()
            .iter()
            .any(|w| w.starts_with("PATCH") && w.contains(&id))
    );
    // ...nor a note, which would reopen it...
    let note = common::run(env.cmd().env("ATOCTL_INCIDENT", &files[0]).args([
        "incident",
        "note",
        "--root-cause",
        "phishing",
    ]));
    assert_eq!(note.code, 2, "{}", note.all());
    assert!(note.error_line().contains("is closed"));
    // ...and without --incident the next step opens a new one.
    let after = bare(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(after.code, 0, "{}", after.all());
    assert_eq!(journals(&dir).len(), 3);
    // ATOCTL_INCIDENT_DIR moves them.
    let elsewhere = env.dir.path().join("elsewhere");
    let moved = common::run(
        env.cmd()
            .env_remove("ATOCTL_INCIDENT")
            .env("ATOCTL_INCIDENT_DIR", &elsewhere)
            .args(["unlock", "--identity", &other, "--yes"]),
    );
    assert_eq!(moved.code, 0, "{}", moved.all());
    assert_eq!(journals(&elsewhere).len(), 1);
}

/// A recovery whose answer never came (a 5xx) may have been issued: the next run says so in
/// the journal before it issues another (with --yes; on a terminal it asks).
#[test]
fn a_recovery_whose_answer_never_came_is_issued_again_only_with_a_note() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 1);
    env.kratos
        .inject(Fault::new(FaultKind::Status(502)).on("POST", "/admin/recovery/code"));
    let first = respond_yes(&env, &id);
    assert_eq!(first.code, 1, "{}", first.all());
    let rec = entries(&env, "recover");
    assert_eq!(
        rec.last().map(|r| r["uncertain"].clone()),
        Some(json!(true))
    );
    let again = respond_yes(&env, &id);
    assert_eq!(again.code, 0, "{}", again.all());
    let warned: Vec<Value> = entries(&env, "respond")
        .into_iter()
        .filter(|e| e["earlier_recovery_code_may_exist"] == true)
        .collect();
    assert_eq!(
        warned.len(),
        1,
        "the journal says an earlier code may exist"
    );
    assert_eq!(status(&again.stdout, "recover"), "done");
}

/// A password check without a password waits for a person and the rest goes on; a stop after
/// a step changed something is exit 1, not 2 ("nothing was sent" would be false).
#[test]
fn a_check_without_password_waits_and_a_stop_after_a_change_is_exit_1() {
    let playbook = |env: &Env, steps: &str| {
        let pb = env.dir.path().join("pb.toml");
        std::fs::write(
            &pb,
            format!("name = \"t\"\n[[phase]]\nid = \"now\"\ndeadline = \"10m\"\n{steps}"),
        )
        .expect("write");
        pb.display().to_string()
    };
    let revoke = "[[step]]\nid = \"revoke\"\nphase = \"now\"\ntitle = \"End sessions\"\nrun = \"revoke --identity {identity}\"\n";

    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 1);
    let hibp = "[[step]]\nid = \"hibp\"\nphase = \"now\"\ntitle = \"Check the password\"\nrun = \"hibp-check --identity {identity}\"\n";
    let pb = playbook(&env, &format!("{hibp}{revoke}"));
    // A Castle secret exported in the shell does not get in the way of a plain respond.
    let run = common::run(
        env.cmd()
            .env("CASTLE_API_SECRET", "exported-in-the-shell")
            .args(["respond", "--identity", &id, "--playbook", &pb, "--yes"]),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("hibp: left for a person"),
        "{}",
        run.stderr
    );
    assert_eq!(status(&run.stdout, "revoke"), "done", "{}", run.stdout);
    assert_eq!(status(&run.stdout, "hibp"), "pending");

    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 1);
    let offline = "[[step]]\nid = \"offline\"\nphase = \"now\"\ntitle = \"Check offline\"\nrun = \"hibp-check --identity {identity} --offline /nonexistent/pwned.txt\"\n";
    let pb = playbook(&env, &format!("{revoke}{offline}"));
    let run = common::run(
        env.cmd()
            .args([
                "respond",
                "--identity",
                &id,
                "--playbook",
                &pb,
                "--yes",
                "--password-stdin",
            ])
            .write_stdin("hunter2\n"),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.error_line()
            .contains("earlier steps of this run did change things"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("hunter2"));
}

#[test]
fn an_unsigned_webhook_is_not_acted_on_unattended_unless_allowed() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "ann@example.com", 1);
    let file = env.dir.path().join("castle.json");
    std::fs::write(&file, castle_payload(&id)).expect("write");
    let f = file.display().to_string();
    let refused = env.run(&["respond", "--from-webhook", &f, "--yes"]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(
        refused.error_line().contains("not authenticated"),
        "{}",
        refused.stderr
    );
    assert!(env.kratos.requests().is_empty());
    let ans = answers(&env);
    let allowed = env.run(&[
        "respond",
        "--from-webhook",
        &f,
        "--yes",
        "--allow-unsigned",
        "--answers",
        &ans,
    ]);
    assert_eq!(allowed.code, 0, "{}", allowed.all());
    assert_eq!(
        entries(&env, "castle.webhook")[0]["signature_verified"],
        false
    );
}

/// An identity the bulk step cannot find (deleted since the scan) has nothing left to end: it
/// does not keep the step failed for ever.
#[test]
fn a_bulk_step_with_an_identity_that_is_gone_ends() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "v@example.com", 1);
    let gone = "0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b";
    let pb = env.dir.path().join("bulk.toml");
    std::fs::write(
        &pb,
        format!(
            "name = \"bulk\"\n[[phase]]\nid = \"now\"\ndeadline = \"10m\"\n[[step]]\nid = \"others\"\nphase = \"now\"\ntitle = \"End the others' sessions\"\nrun = \"revoke --stdin\"\nstdin = \"\"\"\n{id}\n{gone}\n\"\"\"\n"
        ),
    )
    .expect("write");
    let pb = pb.display().to_string();
    let first = env.run(&["respond", "--identity", &id, "--playbook", &pb, "--yes"]);
    assert_eq!(
        first.code,
        1,
        "the bulk run names the identity it could not find: {}",
        first.all()
    );
    assert!(first.all().contains(gone));
    let writes = env.writes();
    let again = env.run(&["respond", "--identity", &id, "--playbook", &pb, "--yes"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(status(&again.stdout, "others"), "done", "{}", again.stdout);
    assert_eq!(env.writes(), writes, "nothing sent again");
}
