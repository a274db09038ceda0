//! `respond`: the playbook run step by step, and run again where it stopped.
//!
//! Each command step is the real subcommand, parsed by the real CLI from the playbook's line
//! and run with its own life (look, plan, confirm, act, verify, record) in the incident's one
//! journal; each manual item is asked on the terminal and its answers journaled. Before a
//! step, the journal says where it stands ([`playbook::status_of`]): what is done is not done
//! again; a step that began and never recorded its end is looked at again from the live state
//! before anything is sent (a recovery code, which cannot be read back, is issued again only
//! when the operator says so, or with `--yes`, and the journal says an earlier one may exist).

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::AnyChange;
use crate::cli::{Command, IncidentCommand, OutputFormat, RespondArgs};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::hibp::Password;
use crate::ids::IdentityRef;
use crate::journal::{self, Entry, Outcome, Record};
use crate::output;
use crate::playbook::status::{Incident, MANUAL_STEP, WEBHOOK_STEP};
use crate::playbook::{
    Action, Condition, ExpandError, Phase, Playbook, Status, Step, expand_command, expand_stdin,
    parse_command, status_of,
};
use crate::webhook::{self, CastleIncident, Signing};

/// The journal step of respond's own entries.
pub const STEP: &str = "respond";

/// What happened to one step in this run.
struct Ran {
    id: String,
    said: String,
}

pub async fn run(ctx: &Ctx, a: &RespondArgs) -> Result<Exit> {
    ctx.reject_ids_output(STEP)?;
    let stdin_webhook = a.from_webhook.as_deref() == Some(Path::new("-"));
    if a.password_stdin && stdin_webhook {
        return Err(AppError::usage(
            "--password-stdin and --from-webhook - both read stdin: give the payload as a file",
        ));
    }
    // Everything the operator gave is checked before anything is read from a server.
    let castle = read_webhook(a, ctx.args.yes)?;
    let playbook = Playbook::load(a.playbook.as_deref())?;
    let phase = choose_phase(&playbook, a.phase.as_deref())?.clone();
    let since = a.since.clone().unwrap_or_else(|| playbook.since.clone());
    crate::duration::parse(&since, "--since")?;
    let answers = read_answers(a.answers.as_deref())?;
    if let Some(unknown) = answers.keys().find(|k| {
        !matches!(
            playbook.step(k).map(|s| &s.action),
            Some(Action::Manual { .. })
        )
    }) {
        return Err(AppError::usage(format!(
            "--answers: {:?} is not a manual item of the playbook",
            crate::error::one_line(unknown)
        )));
    }
    if let Some(unknown) = a.skip.iter().find(|s| playbook.step(s).is_none()) {
        return Err(AppError::usage(format!(
            "--skip {:?}: the playbook has no such step",
            crate::error::one_line(unknown)
        )));
    }
    if !ctx.dry_run() {
        ctx.ensure_may_change("run the playbook")?;
    }
    let password = if a.password_stdin {
        Some(read_password()?)
    } else {
        None
    };
    if let (Some(IdentityRef::Id(given)), Some(c)) = (&a.identity, &castle)
        && *given != c.identity
    {
        return Err(AppError::usage(format!(
            "--identity is {given} but the webhook's data.user_id is {}; nothing was sent",
            c.identity
        )));
    }
    let identity_ref = match (&a.identity, &castle) {
        (Some(r), _) => r.clone(),
        (None, Some(c)) => IdentityRef::Id(c.identity),
        (None, None) => return Err(AppError::usage("give --identity or --from-webhook")),
    };
    if !ctx.dry_run() {
        ctx.check_open_incident(Some(&identity_ref))?;
    }
    let (identity, resolved_from) = match (&identity_ref, ctx.args.kratos_admin_url.is_some()) {
        (IdentityRef::Id(id), false) if ctx.dry_run() => (*id, None),
        _ => {
            let t = super::life::identity_id(ctx, &identity_ref).await?;
            (t.id, t.resolved_from)
        }
    };
    if let Some(c) = &castle
        && c.identity != identity
    {
        return Err(AppError::usage(format!(
            "--identity is {identity} but the webhook's data.user_id is {}; nothing was sent",
            c.identity
        )));
    }
    let id = identity.to_string();
    if ctx.dry_run() {
        // The plan is the result (stdout); with -o json the one document is.
        if ctx.json() {
            output::send_results_to_stderr();
        }
        return dry_run(ctx, &playbook, &phase, &id, &since).await;
    }
    output::send_results_to_stderr();

    // One incident, one journal: the one given, else this identity's open one, else new.
    let journal = ctx.journal_for(Some(&id), STEP, resolved_from.as_deref())?;
    let path = journal.path().to_path_buf();
    if let Some(other) = journal::glance(&path)?.identity.filter(|i| *i != id) {
        return Err(AppError::usage(format!(
            "{} is the incident of identity {other}, not {id}; nothing was sent",
            path.display()
        ))
        .with_hint("drop --incident (or unset ATOCTL_INCIDENT) to continue or open this identity's own incident"));
    }
    if let Some(c) = &castle {
        record_webhook(&journal, &path, &id, resolved_from.as_deref(), c)?;
    }
    let step_ctx = {
        let mut args = ctx.args.clone();
        args.incident = Some(path.clone());
        args.output = OutputFormat::Table;
        Ctx::new(args)?
    };
    output::note(&format!(
        "{}: phase {} ({}), due {} after the incident opened; journal {}",
        playbook.name,
        phase.id,
        phase.title,
        phase
            .deadline
            .map(|d| humantime::format_duration(d).to_string())
            .unwrap_or_else(|| "-".into()),
        path.display()
    ));

    let mut ran: Vec<Ran> = Vec::new();
    let mut exit = Exit::Ok;
    let mut stopped: Option<AppError> = None;
    // Whether a changing step ran in this run (then a stop is not "nothing was sent").
    let mut changed = false;
    for step in playbook.steps_of(&phase.id) {
        let records = journal::read_records(&path)?;
        let incident = Incident::new(&records, &id, &since, &path.display().to_string());
        let now = jiff::Timestamp::now();
        let state = status_of(&playbook, step, &incident, now);
        let say = |said: String| {
            output::note(&format!("{}: {said}", step.id));
            Ran {
                id: step.id.clone(),
                said,
            }
        };
        if state.status.ended() {
            ran.push(say(if state.detail.starts_with("not applicable") {
                state.detail.clone()
            } else {
                format!("{} already: {}", state.status.as_str(), state.detail)
            }));
            continue;
        }
        if a.skip.contains(&step.id) {
            ran.push(say("left out of this run (--skip)".into()));
            continue;
        }
        if let Some(waits) = waiting(&playbook, step, &incident, now) {
            ran.push(say(waits));
            continue;
        }
        output::note_block(&format!("\n── {} · {}", step.id, step.title));
        match &step.action {
            Action::Manual { text, questions } => {
                match manual(ctx, step, text, questions, answers.get(&step.id))? {
                    Some(answered) => {
                        let mut e = Entry::new(MANUAL_STEP, Some(&id), Outcome::Ok);
                        e.put("playbook_step", &step.id);
                        e.put("title", &step.title);
                        e.put("summary", format!("{}: done", step.title));
                        e.put("answers", answered);
                        e.put("done", true);
                        journal.append([e])?;
                        ran.push(say("done".into()));
                    }
                    None => ran.push(say(
                        "left for a person (no terminal to ask on and no --answers)".into(),
                    )),
                }
            }
            Action::Run(template) => {
                let words = match expand_command(template, &incident.values) {
                    Ok(w) => w,
                    Err(ExpandError::Empty(n)) => {
                        ran.push(say(format!("waits: {{{n}}} has no value yet")));
                        continue;
                    }
                    Err(e) => return Err(AppError::usage(format!("step {}: {e}", step.id))),
                };
                output::note_block(&format!(
                    "$ atoctl {}",
                    shlex::try_join(words.iter().map(String::as_str))
                        .unwrap_or_else(|_| words.join(" "))
                ));
                let cli = parse_command(words).map_err(|e| {
                    AppError::usage(format!(
                        "step {}: not an atoctl command: {}",
                        step.id,
                        e.to_string().lines().next().unwrap_or_default()
                    ))
                })?;
                // A run cut off after its `started` entry, or a recovery whose answer never
                // came (it may have been issued: recover records `uncertain`).
                let cut_off = state
                    .began
                    .and_then(|seq| records.iter().find(|r| r.seq == seq))
                    .or_else(|| {
                        (state.status == Status::Failed)
                            .then(|| {
                                state
                                    .seq
                                    .and_then(|seq| records.iter().find(|r| r.seq == seq))
                            })
                            .flatten()
                            .filter(|r| {
                                r.step == <super::recover::Recover as super::life::Change>::STEP
                                    && r.evidence.get("uncertain") == Some(&Value::Bool(true))
                            })
                    });
                let changes = AnyChange::from_command(&cli.command).is_some()
                    || matches!(&cli.command, Command::Revoke(r) if r.stdin);
                // A password check needs the password: without one, it waits for a person.
                if let Command::HibpCheck(h) = &cli.command
                    && password.is_none()
                    && !step_ctx.interactive
                    && !h.stdin
                    && h.sha1.is_none()
                    && h.sha1_file.is_none()
                    && h.nt_hash.is_none()
                {
                    ran.push(say(
                        "left for a person: no password to check (pass it with respond --password-stdin, or run respond on a terminal)".into(),
                    ));
                    continue;
                }
                let result = command(
                    &step_ctx,
                    &journal,
                    step,
                    &cli.command,
                    cut_off,
                    &incident,
                    password.as_ref(),
                )
                .await;
                match result {
                    Ok(Some(e)) => {
                        changed |= changes;
                        ran.push(say(e));
                    }
                    Ok(None) => {
                        changed |= changes;
                        ran.push(say("ran".into()));
                    }
                    Err(e) if matches!(e.exit, Exit::Usage | Exit::NotFound | Exit::Damaged) => {
                        ran.push(say(format!("stopped: {}", e.message)));
                        stopped = Some(e);
                        break;
                    }
                    Err(e) => {
                        changed |= changes;
                        ran.push(say(format!("failed: {}", e.message)));
                        if let Some(h) = &e.hint {
                            output::note(&format!("{}: hint: {h}", step.id));
                        }
                        exit = Exit::Failed;
                    }
                }
            }
            Action::Invalid => {}
        }
    }

    // Where the phase stands now, from the journal.
    let records = journal::read_records(&path)?;
    let incident = Incident::new(&records, &id, &since, &path.display().to_string());
    let now = jiff::Timestamp::now();
    let states: Vec<(&Step, crate::playbook::StepState)> = playbook
        .steps_of(&phase.id)
        .map(|s| (s, status_of(&playbook, s, &incident, now)))
        .collect();
    let open: Vec<&str> = states
        .iter()
        .filter(|(_, st)| !st.status.ended())
        .map(|(s, _)| s.id.as_str())
        .collect();
    let summary = if open.is_empty() {
        format!("phase {} complete", phase.id)
    } else {
        format!("phase {}: still open: {}", phase.id, open.join(", "))
    };
    let failed_any = states.iter().any(|(_, st)| st.status == Status::Failed);
    let mut e = Entry::new(
        STEP,
        Some(&id),
        if failed_any || stopped.is_some() {
            Outcome::Failed
        } else {
            Outcome::Ok
        },
    );
    e.put("summary", &summary);
    e.put("phase", &phase.id);
    e.put("playbook", &playbook.source);
    e.put(
        "steps",
        ran.iter()
            .map(|r| json!({"id": r.id, "said": output::clean(&r.said)}))
            .collect::<Vec<_>>(),
    );
    journal.append([e])?;

    let next = next_phase(&playbook, &phase).filter(|_| open.is_empty());
    if ctx.json() {
        output::print_json_stdout(&json!({
            "incident": journal.incident(),
            "journal": path.display().to_string(),
            "identity": id,
            "phase": phase.id,
            "complete": open.is_empty(),
            "steps": states.iter().map(|(s, st)| json!({
                "id": s.id,
                "title": s.title,
                "status": st.status,
                "detail": output::clean(&st.detail),
            })).collect::<Vec<_>>(),
            "next_phase": next.map(|p| p.id.clone()),
        }))?;
    } else {
        let mut t = output::table(["STATUS", "STEP", "TITLE", "DETAIL"]);
        for (s, st) in &states {
            t.add_row(vec![
                st.status.as_str().to_string(),
                s.id.clone(),
                s.title.clone(),
                output::shorten(&output::clean(&st.detail), 70),
            ]);
        }
        output::line_stdout(&t.to_string());
        output::line_stdout(&summary);
    }
    if let Some(n) = next {
        output::note(&format!(
            "next: atoctl respond --identity {id} --phase {} ({}); report: ATOCTL_INCIDENT={} atoctl report",
            n.id,
            n.title,
            std::path::absolute(&path).unwrap_or(path.clone()).display()
        ));
    } else if !open.is_empty() && stopped.is_none() {
        output::note("run respond again to continue where it stopped");
    }
    if let Some(e) = stopped {
        // Exit 2 and 3 say nothing was sent: true only if no step of this run changed anything.
        if changed {
            return Err(AppError::failed(format!(
                "stopped: {}; earlier steps of this run did change things (the checklist above says what)",
                e.message
            ))
            .with_hint("fix the cause and run respond again: it continues where it stopped"));
        }
        return Err(e);
    }
    if failed_any && exit == Exit::Ok {
        exit = Exit::Failed;
    }
    match exit {
        Exit::Ok => Ok(Exit::Ok),
        _ => Err(AppError::failed(format!(
            "{summary}; a step failed (see above); run respond again once its cause is fixed"
        ))),
    }
}

/// The phase asked for, or the first.
fn choose_phase<'a>(playbook: &'a Playbook, asked: Option<&str>) -> Result<&'a Phase> {
    let known = || {
        playbook
            .phases
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match asked {
        Some(p) => playbook.phase(p).ok_or_else(|| {
            AppError::usage(format!(
                "the playbook has no phase {:?} (its phases: {})",
                crate::error::one_line(p),
                known()
            ))
        }),
        None => playbook
            .phases
            .first()
            .ok_or_else(|| AppError::usage("the playbook has no phase")),
    }
}

fn next_phase<'a>(playbook: &'a Playbook, phase: &Phase) -> Option<&'a Phase> {
    let i = playbook.phases.iter().position(|p| p.id == phase.id)?;
    playbook.phases.get(i + 1)
}

/// Why a step cannot run yet: a condition on a result not there yet, or a step it comes
/// `after` that has not ended.
fn waiting(
    playbook: &Playbook,
    step: &Step,
    incident: &Incident<'_>,
    now: jiff::Timestamp,
) -> Option<String> {
    if let Some(w) = &step.when
        && let Ok(c) = Condition::parse(w)
        && let Err(waits) = incident.root(playbook, &c.root)
    {
        return Some(format!("{waits} (when {w})"));
    }
    let blocked: Vec<String> = step
        .after
        .iter()
        .filter_map(|d| {
            let dep = playbook.step(d)?;
            let st = status_of(playbook, dep, incident, now);
            (!st.status.ended()).then(|| format!("{d} ({})", st.status.as_str()))
        })
        .collect();
    (!blocked.is_empty()).then(|| format!("waits for {}", blocked.join(", ")))
}

/// Runs one command step; `Ok(Some(text))` says how it ended when that is worth saying.
async fn command(
    ctx: &Ctx,
    journal: &journal::Journal,
    step: &Step,
    cmd: &Command,
    cut_off: Option<&Record>,
    incident: &Incident<'_>,
    password: Option<&Password>,
) -> Result<Option<String>> {
    if let Some(change) = AnyChange::from_command(cmd) {
        if let Some(started) = cut_off {
            output::warn(&format!(
                "{} began at entry {} ({}) and recorded no end: looking at the live state before sending anything",
                change.step(),
                started.seq,
                started.ts
            ));
            if change.step() == <super::recover::Recover as super::life::Change>::STEP
                && !may_issue_again(ctx, started)?
            {
                return Ok(Some(
                    "not issued again: the cut-off run may have issued a code (run respond again to decide)"
                        .into(),
                ));
            }
            if change.step() == <super::recover::Recover as super::life::Change>::STEP {
                let mut e = Entry::new(STEP, Some(incident.identity), Outcome::Ok);
                e.put(
                    "summary",
                    format!(
                        "recover was cut off after entry {}: an earlier recovery code may exist (valid until it expires); issuing another",
                        started.seq
                    ),
                );
                e.put("earlier_recovery_code_may_exist", true);
                e.put("cut_off_entry", started.seq);
                journal.append([e])?;
            }
        }
        return change.run_resuming(ctx, cut_off).await.map(|_| None);
    }
    match cmd {
        Command::Revoke(a) if a.stdin => {
            let template = step.stdin.as_deref().unwrap_or("{others}");
            let text = expand_stdin(template, &incident.values)
                .map_err(|e| AppError::usage(format!("step {}: stdin: {e}", step.id)))?;
            let (ids, duplicates) = super::bulk::read_ids(text.as_bytes())?;
            // What the journal shows done is not done again (a bulk run cut off halfway).
            let progress =
                crate::playbook::status::progress_by_identity(incident.records, "revoke");
            let todo: Vec<IdentityRef> = ids
                .into_iter()
                .filter(|r| match r {
                    IdentityRef::Id(i) => !matches!(
                        progress.get(i.to_string().as_str()),
                        Some(journal::Progress::Finished {
                            outcome: Outcome::Ok | Outcome::Skipped,
                            ..
                        })
                    ),
                    IdentityRef::Identifier(_) => true,
                })
                .collect();
            if todo.is_empty() {
                return Ok(Some("every identity is done already".into()));
            }
            super::bulk::run_ids(ctx, a, todo, duplicates)
                .await
                .map(|_| None)
        }
        Command::AuditQuery(a) => super::audit_query::run(ctx, a).await.map(|_| None),
        Command::PatternScan(a) => super::pattern_scan::run(ctx, a).await.map(|_| None),
        Command::HibpCheck(a) => match super::hibp_check::run_given(ctx, a, password).await? {
            Exit::Pwned => Ok(Some("the password is in the breach corpus".into())),
            _ => Ok(Some("the password is not in the breach corpus".into())),
        },
        Command::Restore(a) if a.reversal_key.is_none() => {
            super::restore::run(ctx, a).await.map(|_| None)
        }
        Command::Sessions(a) => super::sessions::run(ctx, a).await.map(|_| None),
        Command::Identity(a) => super::identity::run(ctx, a).await.map(|_| None),
        Command::Incident(c @ IncidentCommand::Note(_)) => {
            super::incident::run(ctx, c).await.map(|_| None)
        }
        _ => Err(AppError::usage(format!(
            "step {}: this command is not a playbook step (run `atoctl playbook check`)",
            step.id
        ))),
    }
}

/// A recovery code cannot be read back: ask before issuing another. `--yes` says yes.
fn may_issue_again(ctx: &Ctx, started: &Record) -> Result<bool> {
    if ctx.args.yes {
        return Ok(true);
    }
    if !ctx.interactive {
        return Ok(false);
    }
    dialoguer::Confirm::new()
        .with_prompt(format!(
            "The recover run cut off after entry {} ({}) may have issued a recovery code; it stays valid until it expires. Issue another?",
            started.seq, started.ts
        ))
        .default(false)
        .interact_on(&console::Term::stderr())
        .map_err(|e| AppError::usage(format!("no answer: {e}")))
}

/// Asks a manual item. `Some(answers)` when it was done, `None` when it is left open.
fn manual(
    ctx: &Ctx,
    step: &Step,
    text: &str,
    questions: &[String],
    given: Option<&Value>,
) -> Result<Option<Vec<Value>>> {
    let pair = |answers: Vec<String>| -> Vec<Value> {
        questions
            .iter()
            .zip(answers.into_iter().chain(std::iter::repeat(String::new())))
            .map(|(q, a)| json!({"question": q, "answer": output::clean(&a)}))
            .collect()
    };
    if let Some(g) = given {
        return match g {
            Value::Bool(true) => Ok(Some(pair(Vec::new()))),
            Value::String(s) => Ok(Some(pair(vec![s.clone()]))),
            Value::Array(list) => Ok(Some(pair(
                list.iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect(),
            ))),
            _ => Err(AppError::usage(format!(
                "--answers: step {}: give a list of answers, a text, or true",
                step.id
            ))),
        };
    }
    output::note_block(text);
    if !ctx.interactive {
        return Ok(None);
    }
    let term = console::Term::stderr();
    if questions.is_empty() {
        let done = dialoguer::Confirm::new()
            .with_prompt("Done?")
            .default(false)
            .interact_on(&term)
            .map_err(|e| AppError::usage(format!("no answer: {e}")))?;
        return Ok(done.then(Vec::new));
    }
    let mut answers = Vec::new();
    for q in questions {
        let a: String = dialoguer::Input::new()
            .with_prompt(q)
            .allow_empty(true)
            .interact_text_on(&term)
            .map_err(|e| AppError::usage(format!("no answer: {e}")))?;
        answers.push(a);
    }
    Ok(Some(pair(answers)))
}

/// `--dry-run`: every step of the phase with its requests; nothing changed or journaled.
async fn dry_run(
    ctx: &Ctx,
    playbook: &Playbook,
    phase: &Phase,
    id: &str,
    since: &str,
) -> Result<Exit> {
    // Statuses from the journal there is, if any (nothing is created).
    let path: Option<PathBuf> = match &ctx.args.incident {
        Some(p) if p.exists() => Some(p.clone()),
        Some(_) => None,
        None => journal::open_incidents_of(&ctx.incidents_dir(), id)
            .first()
            .map(|g| g.path.clone()),
    };
    let records = match &path {
        Some(p) => journal::read_records(p)?,
        None => Vec::new(),
    };
    let shown = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(a new journal)".into());
    let incident = Incident::new(&records, id, since, &shown);
    let now = jiff::Timestamp::now();
    output::note(&format!(
        "dry run of {} phase {} for {id}; journal {shown}; nothing is changed or journaled",
        playbook.name, phase.id
    ));
    let step_ctx = {
        let mut args = ctx.args.clone();
        args.incident = path.clone();
        args.output = OutputFormat::Table;
        Ctx::new(args)?
    };
    let mut plan = Vec::new();
    for step in playbook.steps_of(&phase.id) {
        let state = status_of(playbook, step, &incident, now);
        let mut conditions = Vec::new();
        if let Some(w) = &step.when {
            conditions.push(format!("only when {w}"));
        }
        if !step.after.is_empty() {
            conditions.push(format!("after {}", step.after.join(", ")));
        }
        output::line(&format!(
            "\n── {} · {} [{}]{}",
            step.id,
            step.title,
            state.status.as_str(),
            if conditions.is_empty() {
                String::new()
            } else {
                format!(" ({})", conditions.join("; "))
            }
        ));
        let mut item = Map::new();
        item.insert("id".into(), json!(step.id));
        item.insert("status".into(), json!(state.status));
        if state.status.ended() {
            output::line(&format!("nothing to do: {}", state.detail));
            plan.push(Value::Object(item));
            continue;
        }
        match &step.action {
            Action::Manual { text, questions } => {
                output::line(text);
                for q in questions {
                    output::line(&format!("  ? {q}"));
                }
                item.insert("manual".into(), json!(text));
            }
            Action::Run(template) => match expand_command(template, &incident.values) {
                Ok(words) => {
                    output::line(&format!("$ atoctl {}", words.join(" ")));
                    item.insert("command".into(), json!(words));
                    match parse_command(words) {
                        Ok(cli) => {
                            let r = match (&cli.command, AnyChange::from_command(&cli.command)) {
                                (_, Some(change)) => change.run(&step_ctx).await.map(|_| ()),
                                (Command::Revoke(a), None) if a.stdin => {
                                    output::line(
                                        "  ends every session of each identity read, as revoke does for one",
                                    );
                                    Ok(())
                                }
                                (Command::AuditQuery(a), _) => {
                                    super::audit_query::run(&step_ctx, a).await.map(|_| ())
                                }
                                (Command::PatternScan(a), _) => {
                                    super::pattern_scan::run(&step_ctx, a).await.map(|_| ())
                                }
                                (Command::HibpCheck(a), _) => {
                                    super::hibp_check::run(&step_ctx, a).await.map(|_| ())
                                }
                                _ => Ok(()),
                            };
                            if let Err(e) = r {
                                output::line(&format!("  (cannot plan it now: {})", e.message));
                            }
                        }
                        Err(e) => output::line(&format!(
                            "  not an atoctl command: {}",
                            e.to_string().lines().next().unwrap_or_default()
                        )),
                    }
                }
                Err(e) => {
                    output::line(&format!("$ atoctl {template}   ({e})"));
                    item.insert("command".into(), json!(template));
                }
            },
            Action::Invalid => {}
        }
        plan.push(Value::Object(item));
    }
    if ctx.json() {
        output::print_json_stdout(&json!({
            "dry_run": true,
            "identity": id,
            "phase": phase.id,
            "steps": plan,
        }))?;
    }
    Ok(Exit::Ok)
}

/// The webhook payload, authenticated when a secret is set.
fn read_webhook(a: &RespondArgs, yes: bool) -> Result<Option<CastleIncident>> {
    let Some(p) = &a.from_webhook else {
        return Ok(None);
    };
    let body = webhook::read_body(p)?;
    let secret = a
        .webhook_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_string()));
    let signing = match &secret {
        Some(s) => Signing::Secret(s, a.signature.as_deref()),
        None if a.signature.is_some() => {
            return Err(AppError::usage(
                "--signature is given but there is no secret to check it with; nothing was sent",
            )
            .with_hint("set CASTLE_API_SECRET or pass --webhook-secret"));
        }
        None => Signing::None,
    };
    let c = webhook::parse(&body, signing)?;
    if !c.signature_verified && yes && !a.allow_unsigned {
        return Err(AppError::usage(
            "the webhook payload is not authenticated (no CASTLE_API_SECRET or --webhook-secret) and --yes would act on it unattended; nothing was sent",
        )
        .with_hint("set CASTLE_API_SECRET and pass the request's X-Castle-Signature with --signature, or --allow-unsigned if the payload's origin is trusted otherwise"));
    }
    if !c.signature_verified {
        output::warn(
            "the webhook payload is not authenticated (no CASTLE_API_SECRET or --webhook-secret): it is journaled as unverified",
        );
    }
    Ok(Some(c))
}

/// The webhook's evidence, journaled once per Castle incident as the first evidence.
fn record_webhook(
    journal: &journal::Journal,
    path: &Path,
    id: &str,
    resolved_from: Option<&str>,
    c: &CastleIncident,
) -> Result<()> {
    let records = journal::read_records(path)?;
    let castle_id = c.castle_id.as_deref().map(output::clean);
    let seen = records.iter().any(|r| {
        r.step == WEBHOOK_STEP
            && r.evidence.get("castle_incident_id").and_then(Value::as_str) == castle_id.as_deref()
    });
    if seen {
        return Ok(());
    }
    let mut e = Entry::new(WEBHOOK_STEP, Some(id), Outcome::Ok);
    e.evidence = c.evidence();
    if let Some(r) = resolved_from {
        e.put("resolved_from", crate::ids::resolution_evidence(r));
    }
    journal.append([e])?;
    Ok(())
}

/// `--answers FILE`: a JSON object from step id to answers.
fn read_answers(path: Option<&Path>) -> Result<Map<String, Value>> {
    let Some(p) = path else {
        return Ok(Map::new());
    };
    let text = std::fs::read_to_string(p)
        .map_err(|e| AppError::usage(format!("cannot read --answers {}: {e}", p.display())))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(AppError::usage(format!(
            "--answers {}: not a JSON object from step id to answers",
            p.display()
        ))),
    }
}

/// The password for hibp-check steps, one line of stdin, read before anything else.
fn read_password() -> Result<Password> {
    use std::os::fd::AsFd;
    let mut f = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .map_err(|e| AppError::failed(format!("cannot read stdin: {e}")))?;
    Password::read_line(&mut f)
        .map_err(|e| AppError::usage(format!("--password-stdin: {e}; nothing was sent")))
}
