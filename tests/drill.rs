//! `atoctl drill`: the whole incident rehearsed with nothing but atoctl, on the sandbox it
//! starts itself; exit 0 only when every step ran and verified.

mod audit_support;

use audit_support::{TestDb, psql};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn drill(dir: &std::path::Path, extra: &[&str]) -> Run {
    let out = atoctl_testkit::atoctl()
        .current_dir(dir)
        .args(["drill", "--dir", &dir.join("drill").display().to_string()])
        .args(extra)
        .output()
        .expect("run atoctl drill");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The drill's line for a stage or check.
fn line_of<'a>(stdout: &'a str, what: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line for {what:?}: {stdout}"))
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn journal(dir: &std::path::Path) -> Vec<Value> {
    read(&dir.join("drill/incident.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line"))
        .collect()
}

#[test]
fn a_drill_without_a_database_contains_the_takeover_and_renders_the_report() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = drill(tmp.path(), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("drill passed"), "{}", run.stdout);
    for check in [
        "no session of the owner's account is live",
        "the stolen password no longer logs in",
        "the OAuth2 grant is revoked",
        "one recovery code was issued for the owner",
        "step revoke (immediate)",
        "step hibp (1h)",
    ] {
        let line = line_of(&run.stdout, check);
        assert!(line.trim_start().starts_with("ok"), "{line}");
    }
    assert!(
        run.stderr
            .contains("audit steps are left out (audit, scan-ips, restore, revoke-others)"),
        "{}",
        run.stderr
    );
    let d = tmp.path().join("drill");
    let report = read(&d.join("report.md"));
    assert!(report.contains("dana.owner@example.com"), "{report}");
    let notice = read(&d.join("notice.md"));
    assert!(!notice.is_empty());
    assert!(
        !notice.contains("203.0.113.66") && !notice.contains("198.51.100.23"),
        "{notice}"
    );
    // The journal holds the whole incident, in order, and verifies.
    let steps: Vec<String> = journal(tmp.path())
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["step"].as_str().unwrap_or(""),
                r["outcome"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "manual ok",
        "revoke ok",
        "disable-password ok",
        "recover ok",
        "hibp-check ok",
        "respond ok",
    ] {
        assert!(steps.iter().any(|s| s == want), "{want}: {steps:?}");
    }
    let log = read(&d.join("respond-1.log"));
    assert!(
        log.contains("recovery code issued for") && log.contains("not shown"),
        "{log}"
    );
    let secret = "P@ssw0rd";
    assert!(!read(&d.join("incident.jsonl")).contains(secret));
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
}

#[test]
fn a_drill_with_a_database_rehearses_the_audit_steps_and_drops_its_schema() {
    let db = TestDb::empty();
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = drill(tmp.path(), &["--database-url", &db.url()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for check in [
        "step audit (1h)",
        "step scan-ips (1h)",
        "step restore (1h)",
        "step revoke-others (1h)",
        "the other identities hit from the attacker's IP have no live session",
    ] {
        let line = line_of(&run.stdout, check);
        assert!(line.trim_start().starts_with("ok"), "{line}");
    }
    let records = journal(tmp.path());
    let scan = records
        .iter()
        .find(|r| r["step"] == "pattern-scan")
        .expect("pattern-scan journaled");
    assert_eq!(
        scan["identities"].as_array().map(Vec::len),
        Some(2),
        "{scan}"
    );
    let audit = records
        .iter()
        .find(|r| r["step"] == "audit-query")
        .expect("audit-query journaled");
    assert!(
        audit["new_ips"].to_string().contains("203.0.113.66"),
        "{audit}"
    );
    // The scratch schema is gone.
    let schemas = psql(
        &db.url(),
        "select count(*) from pg_namespace where nspname like 'atoctl_drill_%'",
    );
    assert_eq!(schemas.trim(), "0", "the drill dropped its schema");
}

#[test]
fn a_drill_whose_step_does_not_verify_fails_naming_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Recovery for a locked identity is refused by Kratos: this playbook cannot verify.
    let pb = tmp.path().join("wrong-order.toml");
    std::fs::write(
        &pb,
        r#"name = "wrong-order"
[[phase]]
id = "immediate"
deadline = "10m"
[[step]]
id = "lock"
phase = "immediate"
title = "Lock"
run = "lock --identity {identity}"
[[step]]
id = "recover"
phase = "immediate"
title = "Recovery while locked"
after = ["lock"]
run = "recover --identity {identity}"
"#,
    )
    .expect("write playbook");
    let run = drill(tmp.path(), &["--playbook", &pb.display().to_string()]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let line = line_of(&run.stdout, "step recover (immediate)");
    assert!(line.trim_start().starts_with("FAILED"), "{line}");
    assert!(run.stderr.contains("the drill failed"), "{}", run.stderr);
}

#[test]
fn a_drill_of_a_broken_playbook_is_refused_before_starting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pb = tmp.path().join("broken.toml");
    std::fs::write(&pb, "name = \"x\"\n[[phase]]\nid = \"now\"\n").expect("write");
    let run = drill(tmp.path(), &["--playbook", &pb.display().to_string()]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(!tmp.path().join("drill").exists(), "nothing started");
}
