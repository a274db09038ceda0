//! The incident journal: opening, appending from many processes at once, verifying, showing.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn incident_open_creates_the_journal_prints_its_path_and_refuses_to_open_twice() {
    let env = Env::new(Flavour::Current);
    let id = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";
    let r = env.run(&[
        "incident",
        "open",
        "--identity",
        id,
        "--summary",
        "user reports a login from Lagos",
        "--reported-at",
        "2026-11-25T01:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), env.journal.display().to_string());
    let recs = env.records();
    assert_eq!(recs.len(), 1);
    let first = &recs[0];
    assert_eq!(first["seq"], 0);
    assert_eq!(first["step"], "incident.open");
    assert_eq!(first["identity"], id);
    assert_eq!(first["operator"], "oncall-test");
    assert_eq!(first["outcome"], "ok");
    assert_eq!(first["prev"], "0".repeat(64));
    assert_eq!(first["summary"], "user reports a login from Lagos");
    assert!(first["incident"].as_str().unwrap().starts_with("ato-"));
    assert!(
        first["ts"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );

    let again = env.run(&["incident", "open", "--identity", id]);
    assert_eq!(again.code, 2);
    assert!(again.error_line().contains("exists already"));
    assert_eq!(env.records().len(), 1);
}

#[test]
fn incident_open_without_a_path_creates_one_under_incidents() {
    let env = Env::new(Flavour::Current);
    let r = run(env.cmd().env_remove("ATOCTL_INCIDENT").args([
        "incident",
        "open",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    let path = env.dir.path().join(r.stdout.trim());
    assert!(
        r.stdout.trim().starts_with("incidents/ato-"),
        "{}",
        r.stdout
    );
    assert!(path.exists());
}

#[test]
fn eight_processes_appending_at_once_lose_nothing_and_keep_the_chain() {
    let env = Env::new(Flavour::Current);
    assert_eq!(
        env.run(&[
            "incident",
            "open",
            "--identity",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07"
        ])
        .code,
        0
    );
    const PROCS: usize = 8;
    const NOTES: usize = 25;
    let children: Vec<_> = (0..PROCS)
        .map(|p| {
            let bin = atoctl_testkit::atoctl_bin();
            let journal = env.journal.clone();
            std::thread::spawn(move || {
                for n in 0..NOTES {
                    let out = std::process::Command::new(&bin)
                        .env("ATOCTL_INCIDENT", &journal)
                        .env("ATOCTL_OPERATOR", format!("proc-{p}"))
                        .args(["incident", "note", "--text", &format!("p{p} n{n}")])
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{out:?}");
                }
            })
        })
        .collect();
    for c in children {
        c.join().unwrap();
    }
    let v = env.verify();
    assert_eq!(v.code, 0, "{v:?}");
    let recs = env.records();
    assert_eq!(recs.len(), 1 + PROCS * NOTES);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["seq"], i as u64);
    }
    let mut texts: Vec<String> = recs[1..]
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), PROCS * NOTES, "a note was lost or doubled");
}

#[test]
fn verify_names_the_first_altered_line_and_exits_5() {
    let env = Env::new(Flavour::Current);
    env.run(&[
        "incident",
        "open",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]);
    for t in ["one", "two", "three"] {
        assert_eq!(env.run(&["incident", "note", "--text", t]).code, 0);
    }
    assert_eq!(env.verify().code, 0);
    // Someone rewrites history: line 2 ("one") now says something else.
    let text = env
        .journal_text()
        .replace("\"text\":\"one\"", "\"text\":\"0ne\"");
    std::fs::write(&env.journal, text).unwrap();
    let r = env.verify();
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.error_line().contains("line 3"), "{}", r.stderr);

    let j = env.run(&["incident", "verify", "-o", "json"]);
    assert_eq!(j.code, 5);
    assert_eq!(j.json()["ok"], false);
    assert_eq!(j.json()["line"], 3);
}

#[test]
fn a_torn_last_line_is_damage_and_nothing_is_appended_after_it() {
    let env = Env::new(Flavour::Current);
    env.run(&[
        "incident",
        "open",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
    ]);
    let mut text = env.journal_text();
    text.push_str("{\"seq\":1,\"ts\":");
    std::fs::write(&env.journal, &text).unwrap();
    assert_eq!(env.verify().code, 5);
    let r = env.run(&["incident", "note", "--text", "after the tear"]);
    assert_eq!(r.code, 5, "{r:?}");
    assert_eq!(env.journal_text(), text);
}

#[test]
fn a_file_that_is_not_a_journal_is_refused_with_one_line() {
    let env = Env::new(Flavour::Current);
    std::fs::write(&env.journal, "hello\nworld\n").unwrap();
    let r = env.run(&["incident", "note", "--text", "x"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("not an atoctl incident journal"));
    assert_eq!(
        std::fs::read_to_string(&env.journal).unwrap(),
        "hello\nworld\n"
    );
    let id = victim(&env, "a@example.com", 1);
    let r = env.run(&["revoke", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        env.writes().is_empty(),
        "nothing may change when the journal is unusable"
    );
}

#[test]
fn show_prints_the_timeline_and_json_has_every_entry() {
    let env = Env::new(Flavour::Current);
    env.run(&[
        "incident",
        "open",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--summary",
        "s",
    ]);
    env.run(&[
        "incident",
        "note",
        "--root-cause",
        "credential-stuffing",
        "--text",
        "reused password",
    ]);
    let t = env.run(&["incident", "show"]);
    assert_eq!(t.code, 0);
    assert!(t.stdout.contains("incident.open"));
    assert!(t.stdout.contains("root cause: credential-stuffing"));
    let j = env.run(&["incident", "show", "-o", "json"]);
    let doc = j.json();
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["root_cause"], Value::from("credential-stuffing"));
}

#[test]
fn a_changing_step_without_a_journal_opens_one_under_incidents_and_says_where() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "b@example.com", 1);
    let r =
        run(env
            .cmd()
            .env_remove("ATOCTL_INCIDENT")
            .args(["revoke", "--identity", &id, "--yes"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("incidents/ato-"), "{}", r.stderr);
    let dir = env.dir.path().join("incidents");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let path = files[0].as_ref().unwrap().path();
    let text = std::fs::read_to_string(&path).unwrap();
    let steps: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["step"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(steps, ["incident.open", "sessions", "revoke", "revoke"]);
    // The hint to keep using it names the file wherever the next step runs from.
    assert!(
        r.stderr
            .contains(&format!("export ATOCTL_INCIDENT={}", path.display())),
        "{}",
        r.stderr
    );
}
