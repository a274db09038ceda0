//! `drill`: an account takeover rehearsed end to end with nothing but atoctl.
//!
//! The sandbox (the Kratos/Hydra and Pwned Passwords doubles, [`crate::sandbox`]) starts inside
//! this process on loopback with a seeded takeover; with `--database-url`, a scratch schema gets
//! the matching audit trail (and is dropped afterwards). Then atoctl runs itself, as an
//! operator would, one process per stage: `respond --yes` for the playbook's first phase, the
//! second phase, the report for the team and the notice for the owner, and `incident verify`.
//! Last, the sandbox's own state is read to prove the end state (no live session, the old
//! password refused, no OAuth2 grant, one recovery code). Exit 0 only when every stage ran
//! and every step of the phases ran and verified: CI runs it after editing a playbook.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::cli::{Command, DrillArgs};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::journal;
use crate::output;
use crate::playbook::status::Incident;
use crate::playbook::{Action, Condition, Playbook, status_of};
use crate::sandbox::{AuditTrail, PasswordLogin, Sandbox};

/// One stage or check and how it went.
struct Line {
    what: String,
    ok: bool,
    detail: String,
}

pub async fn run(ctx: &Ctx, a: &DrillArgs) -> Result<Exit> {
    ctx.reject_ids_output("drill")?;
    let clock = Instant::now();
    let playbook = Playbook::load(a.playbook.as_deref())?;
    let phases: Vec<String> = playbook
        .phases
        .iter()
        .take(2)
        .map(|p| p.id.clone())
        .collect();
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "atoctl-drill-{}",
            crate::context::new_incident_id().trim_start_matches("ato-")
        )),
    };
    let journal_path = dir.join("incident.jsonl");
    if journal_path.exists() {
        return Err(AppError::usage(format!(
            "{} holds an earlier drill's journal: give a new --dir",
            dir.display()
        )));
    }
    // Steps that need the audit database are left out without one (and what waits on them).
    let left_out = if ctx.args.database_url.is_some() {
        Vec::new()
    } else {
        needs_database(&playbook, &phases)
    };
    if ctx.dry_run() {
        output::line(&format!(
            "dry run: would start the sandbox on 127.0.0.1, run the phases {} of {} into {}, render the report and the notice, verify the journal and the end state{}",
            phases.join(" and "),
            playbook.source,
            dir.display(),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(
                    "; without --database-url these steps are left out: {}",
                    left_out.join(", ")
                )
            }
        ));
        return Ok(Exit::Ok);
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::failed(format!("cannot create {}: {e}", dir.display())))?;
    let exe = std::env::current_exe()
        .map_err(|e| AppError::failed(format!("cannot find the atoctl binary: {e}")))?;

    let sandbox = Sandbox::start()?;
    output::note(&format!(
        "sandbox on {} with {} compromised ({}), an attacker session and an OAuth2 grant",
        sandbox.kratos_url(),
        sandbox.email(),
        sandbox.identity()
    ));
    let audit = match &ctx.args.database_url {
        Some(url) => {
            let t = AuditTrail::seed(url, &sandbox).await?;
            output::note(&format!(
                "audit trail seeded in the scratch schema {}",
                t.schema()
            ));
            Some(t)
        }
        None => {
            output::note(&format!(
                "no --database-url: the audit steps are left out ({}); give one to rehearse them",
                left_out.join(", ")
            ));
            None
        }
    };

    let answers = dir.join("answers.json");
    write_answers(&playbook, &answers)?;
    let child = |args: &[&str]| {
        let mut c = std::process::Command::new(&exe);
        for k in [
            "ATOCTL_INCIDENT_DIR",
            "ATOCTL_OUTPUT",
            "KRATOS_ADMIN_TOKEN",
            "CASTLE_API_SECRET",
            "ATOCTL_DATABASE_URL",
            "DATABASE_URL",
        ] {
            c.env_remove(k);
        }
        c.current_dir(&dir)
            .env("KRATOS_ADMIN_URL", sandbox.kratos_url())
            .env("HYDRA_ADMIN_URL", sandbox.hydra_url())
            .env("ATOCTL_HIBP_API_URL", sandbox.hibp_url())
            .env("ATOCTL_INCIDENT", &journal_path)
            .env("ATOCTL_OPERATOR", ctx.operator())
            .env("NO_COLOR", "1")
            .args(args);
        if let Some(t) = &audit {
            c.env("ATOCTL_DATABASE_URL", t.database_url());
        }
        if let Some(p) = &a.playbook {
            c.arg("--playbook").arg(p);
        }
        c
    };

    let mut lines: Vec<Line> = Vec::new();
    let answers_arg = answers.display().to_string();
    for (i, phase) in phases.iter().enumerate() {
        let mut args = vec![
            "respond",
            "--identity",
            sandbox.email(),
            "--phase",
            phase.as_str(),
            "--yes",
            "--answers",
            answers_arg.as_str(),
            "--since",
            "2d",
        ];
        let skip = left_out.join(",");
        if !left_out.is_empty() {
            args.extend(["--skip", skip.as_str()]);
        }
        let log = dir.join(format!("respond-{}.log", i + 1));
        let mut cmd = child(&args);
        cmd.arg("--password-stdin");
        let status = run_logged(cmd, &log, Some(sandbox.password().expose_secret()), None)?;
        lines.push(Line {
            what: format!("respond --phase {phase}"),
            ok: status == 0,
            detail: format!("exit {status}; log {}", log.display()),
        });
    }
    for (file, extra) in [
        ("report.md", vec![]),
        ("notice.md", vec!["--audience", "user"]),
        ("report.json", vec!["--format", "json"]),
    ] {
        let mut args = vec!["report"];
        args.extend(extra);
        let mut cmd = std::process::Command::new(&exe);
        cmd.current_dir(&dir)
            .env_remove("ATOCTL_OUTPUT")
            .env("ATOCTL_INCIDENT", &journal_path)
            .env("NO_COLOR", "1")
            .args(&args);
        if let Some(p) = &a.playbook {
            cmd.arg("--playbook").arg(p);
        }
        let out = dir.join(file);
        let status = run_logged(cmd, &dir.join(format!("{file}.log")), None, Some(&out))?;
        lines.push(Line {
            what: format!("atoctl {}", args.join(" ")),
            ok: status == 0,
            detail: format!("exit {status}; {}", out.display()),
        });
    }
    {
        let mut cmd = std::process::Command::new(&exe);
        cmd.env("ATOCTL_INCIDENT", &journal_path)
            .args(["incident", "verify"]);
        let status = run_logged(cmd, &dir.join("verify.log"), None, None)?;
        lines.push(Line {
            what: "atoctl incident verify".into(),
            ok: status == 0,
            detail: format!("exit {status}"),
        });
    }

    // Every step of the phases ran and verified, as the journal tells it.
    if journal_path.exists() {
        let records = journal::read_records(&journal_path)?;
        let incident = Incident::new(
            &records,
            sandbox.identity(),
            "2d",
            &journal_path.display().to_string(),
        );
        let now = jiff::Timestamp::now();
        for phase in &phases {
            for step in playbook.steps_of(phase) {
                if left_out.contains(&step.id) {
                    continue;
                }
                let st = status_of(&playbook, step, &incident, now);
                lines.push(Line {
                    what: format!("step {} ({phase})", step.id),
                    ok: st.status.ended(),
                    detail: format!("{}: {}", st.status.as_str(), output::clean(&st.detail)),
                });
            }
        }
    } else {
        lines.push(Line {
            what: "the incident journal".into(),
            ok: false,
            detail: format!("{} was not written", journal_path.display()),
        });
    }

    // The end state, read from the sandbox itself.
    let id = sandbox.identity();
    let check = |what: &str, ok: bool, detail: String| Line {
        what: what.into(),
        ok,
        detail,
    };
    let live = sandbox.active_sessions(id);
    lines.push(check(
        "no session of the owner's account is live",
        live == 0,
        format!("{live} live"),
    ));
    let login = sandbox.password_login();
    lines.push(check(
        "the stolen password no longer logs in",
        login == PasswordLogin::Rejected,
        format!("{login:?}"),
    ));
    let consents = sandbox.consents(id);
    lines.push(check(
        "the OAuth2 grant is revoked",
        consents == 0,
        format!(
            "{consents} consent(s), {} token(s) left",
            sandbox.oauth2_tokens(id)
        ),
    ));
    let codes = sandbox.recovery_codes_issued(id);
    lines.push(check(
        "one recovery code was issued for the owner",
        codes == 1,
        format!("{codes} issued"),
    ));
    if audit.is_some() {
        let others: usize = sandbox
            .others()
            .iter()
            .map(|o| sandbox.active_sessions(o))
            .sum();
        lines.push(check(
            "the other identities hit from the attacker's IP have no live session",
            others == 0,
            format!("{others} live"),
        ));
    }
    if let Some(t) = audit {
        t.remove().await?;
    }
    drop(sandbox);

    let ok = lines.iter().all(|l| l.ok);
    let seconds = clock.elapsed().as_secs_f64();
    if ctx.json() {
        output::print_json(&json!({
            "ok": ok,
            "seconds": seconds,
            "dir": dir.display().to_string(),
            "journal": journal_path.display().to_string(),
            "report": dir.join("report.md").display().to_string(),
            "notice": dir.join("notice.md").display().to_string(),
            "left_out": left_out,
            "checks": lines.iter().map(|l| json!({"what": l.what, "ok": l.ok, "detail": l.detail})).collect::<Vec<_>>(),
        }))?;
    } else {
        let mut t = output::table(["", "STAGE OR CHECK", "DETAIL"]);
        for l in &lines {
            t.add_row(vec![
                if l.ok { "ok" } else { "FAILED" }.to_string(),
                l.what.clone(),
                l.detail.clone(),
            ]);
        }
        output::line(&t.to_string());
        output::line(&format!(
            "journal {}\nreport  {}\nnotice  {}\n{} in {seconds:.1} s",
            journal_path.display(),
            dir.join("report.md").display(),
            dir.join("notice.md").display(),
            if ok { "drill passed" } else { "drill FAILED" }
        ));
    }
    if ok {
        Ok(Exit::Ok)
    } else {
        let failed: Vec<&str> = lines
            .iter()
            .filter(|l| !l.ok)
            .map(|l| l.what.as_str())
            .collect();
        Err(
            AppError::failed(format!("the drill failed: {}", failed.join("; ")))
                .with_hint(format!("the logs of each stage are in {}", dir.display())),
        )
    }
}

/// Runs a stage, its stderr (and stdout, unless `stdout_to` takes it) into `log`, `stdin`
/// written to it; its exit code.
fn run_logged(
    mut cmd: std::process::Command,
    log: &Path,
    stdin: Option<&str>,
    stdout_to: Option<&PathBuf>,
) -> Result<i32> {
    let io = |e: std::io::Error| AppError::failed(format!("drill: {}: {e}", log.display()));
    let err = std::fs::File::create(log).map_err(io)?;
    let out = match stdout_to {
        Some(p) => std::fs::File::create(p).map_err(io)?,
        None => err.try_clone().map_err(io)?,
    };
    cmd.stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().map_err(io)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        let _ = writeln!(pipe, "{text}");
    }
    let status = child.wait().map_err(io)?;
    Ok(status.code().unwrap_or(-1))
}

/// Answers for every manual item, marked as a drill's.
fn write_answers(playbook: &Playbook, path: &Path) -> Result<()> {
    let mut m = Map::new();
    for s in &playbook.steps {
        if let Action::Manual { questions, .. } = &s.action {
            let v = if questions.is_empty() {
                Value::Bool(true)
            } else {
                Value::Array(
                    questions
                        .iter()
                        .map(|_| json!("(drill: rehearsed, no real user asked)"))
                        .collect(),
                )
            };
            m.insert(s.id.clone(), v);
        }
    }
    std::fs::write(path, Value::Object(m).to_string())
        .map_err(|e| AppError::failed(format!("cannot write {}: {e}", path.display())))
}

/// The steps of `phases` that read the audit database, and those that wait on them.
fn needs_database(playbook: &Playbook, phases: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in playbook.steps.iter().filter(|s| phases.contains(&s.phase)) {
        let db = s.sample_command().is_some_and(|c| {
            matches!(
                c,
                Command::AuditQuery(_) | Command::PatternScan(_) | Command::Restore(_)
            )
        });
        if db {
            out.push(s.id.clone());
        }
    }
    // What comes after them, or depends on their result, cannot run either.
    loop {
        let more: Vec<String> = playbook
            .steps
            .iter()
            .filter(|s| phases.contains(&s.phase) && !out.contains(&s.id))
            .filter(|s| {
                s.after.iter().any(|d| out.contains(d))
                    || s.when
                        .as_deref()
                        .and_then(|w| Condition::parse(w).ok())
                        .is_some_and(|c| out.contains(&c.root))
            })
            .map(|s| s.id.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        out.extend(more);
    }
    out
}
