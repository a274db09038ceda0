//! `playbook check FILE...` (for CI) and `playbook show [FILE]` (the checklist of an incident).

use std::io::IsTerminal;
use std::path::Path;

use comfy_table::{Attribute, Cell, Color};
use serde_json::{Value, json};

use crate::cli::{PlaybookCheckArgs, PlaybookCommand, PlaybookShowArgs};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::journal::{self, Record};
use crate::output;
use crate::playbook::check::step_at_line;
use crate::playbook::status::Incident;
use crate::playbook::{Action, Playbook, Problem, Status, StepState, check, status_of};

pub fn run(ctx: &Ctx, cmd: &PlaybookCommand) -> Result<Exit> {
    ctx.reject_ids_output("playbook")?;
    match cmd {
        PlaybookCommand::Check(a) => check_files(ctx, a),
        PlaybookCommand::Show(a) => show(ctx, a),
    }
}

/// One file's verdict: how much it holds (when it parses) and its problems.
struct Checked {
    file: String,
    /// Phases and steps, when the file parses.
    counts: Option<(usize, usize)>,
    problems: Vec<Problem>,
    /// The file cannot be read: no line to name.
    unreadable: Option<String>,
}

fn check_file(path: &Path) -> Checked {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return Checked {
                file,
                counts: None,
                problems: Vec::new(),
                unreadable: Some(format!("cannot read the file: {e}")),
            };
        }
    };
    match Playbook::parse(&file, &text) {
        Err(mut p) => {
            if p.step.is_none() {
                p.step = step_at_line(&text, p.line);
            }
            Checked {
                file,
                counts: None,
                problems: vec![p],
                unreadable: None,
            }
        }
        Ok(pb) => Checked {
            counts: Some((pb.phases.len(), pb.steps.len())),
            problems: check(&pb),
            file,
            unreadable: None,
        },
    }
}

fn check_files(ctx: &Ctx, a: &PlaybookCheckArgs) -> Result<Exit> {
    let results: Vec<Checked> = a.files.iter().map(|f| check_file(f)).collect();
    let bad_files = results
        .iter()
        .filter(|r| r.unreadable.is_some() || !r.problems.is_empty())
        .count();
    let problems: usize = results
        .iter()
        .map(|r| r.problems.len() + usize::from(r.unreadable.is_some()))
        .sum();
    if ctx.json() {
        let files: Vec<Value> = results
            .iter()
            .map(|r| {
                let mut problems: Vec<Value> = r
                    .problems
                    .iter()
                    .map(|p| {
                        json!({
                            "file": p.file,
                            "line": p.line,
                            "step": p.step,
                            "message": p.message,
                        })
                    })
                    .collect();
                if let Some(why) = &r.unreadable {
                    problems.push(json!({
                        "file": r.file,
                        "line": null,
                        "step": null,
                        "message": why,
                    }));
                }
                json!({
                    "file": r.file,
                    "phases": r.counts.map(|c| c.0),
                    "steps": r.counts.map(|c| c.1),
                    "problems": problems,
                })
            })
            .collect();
        output::print_json(&json!({ "ok": problems == 0, "files": files }))?;
    } else {
        for r in &results {
            if let Some(why) = &r.unreadable {
                output::line(&format!("{}: {why}", r.file));
            }
            for p in &r.problems {
                output::line(&output::escape_controls(&p.to_string()));
            }
            if let (Some((phases, steps)), true, None) =
                (r.counts, r.problems.is_empty(), &r.unreadable)
            {
                output::line(&format!(
                    "ok: {}: {}, {}",
                    r.file,
                    super::count(phases, "phase", "phases"),
                    super::count(steps, "step", "steps")
                ));
            }
        }
    }
    if problems == 0 {
        return Ok(Exit::Ok);
    }
    Err(AppError::usage(format!(
        "{} in {}",
        super::count(problems, "problem", "problems"),
        super::count(bad_files, "file", "files")
    )))
}

/// The journal an incident's checklist is read from.
struct Journal {
    path: String,
    records: Vec<Record>,
    identity: String,
}

fn show(ctx: &Ctx, a: &PlaybookShowArgs) -> Result<Exit> {
    let pb = Playbook::load(a.file.as_deref())?;
    let journal = match &ctx.args.incident {
        None => None,
        Some(path) => {
            let records = journal::read_records(path)?;
            // A journal that does not verify is still the best account there is: warn, show.
            if let Err(Ok(d)) = journal::verify_file(path) {
                output::warn(&format!(
                    "the journal does not verify: line {}: {}",
                    d.line, d.reason
                ));
            }
            let identity = records
                .iter()
                .find(|r| r.step == "incident.open")
                .and_then(|r| r.identity.clone());
            if identity.is_none() {
                output::warn(
                    "the journal has no `incident.open` entry naming an identity: no step can be matched to it",
                );
            }
            Some(Journal {
                path: path.display().to_string(),
                identity: identity.unwrap_or_default(),
                records,
            })
        }
    };
    let incident = journal
        .as_ref()
        .map(|j| Incident::new(&j.records, &j.identity, &pb.since, &j.path));
    let now = jiff::Timestamp::now();

    let phases: Vec<PhaseView> = pb
        .phases
        .iter()
        .map(|p| {
            let due = incident
                .as_ref()
                .and_then(|i| i.opened)
                .zip(p.deadline)
                .and_then(|(opened, d)| {
                    let d = jiff::SignedDuration::try_from(d).ok()?;
                    opened.checked_add(d).ok()
                });
            let steps = pb
                .steps_of(&p.id)
                .map(|s| {
                    let state = match &incident {
                        Some(i) => status_of(&pb, s, i, now),
                        None => StepState {
                            status: Status::Pending,
                            detail: String::new(),
                            seq: None,
                            began: None,
                        },
                    };
                    (s, state)
                })
                .collect();
            PhaseView {
                phase: p,
                due,
                steps,
            }
        })
        .collect();

    let incident_id = journal
        .as_ref()
        .and_then(|j| j.records.first())
        .map(|r| r.incident.clone());
    let identity = journal
        .as_ref()
        .map(|j| j.identity.clone())
        .filter(|i| !i.is_empty());
    if ctx.json() {
        let doc = json!({
            "playbook": pb.name,
            "source": pb.source,
            "journal": journal.as_ref().map(|j| j.path.clone()),
            "incident": incident_id,
            "identity": identity,
            "opened": incident.as_ref().and_then(|i| i.opened).map(|t| t.to_string()),
            "phases": phases.iter().map(PhaseView::json).collect::<Vec<_>>(),
        });
        output::print_json(&doc)?;
        return Ok(Exit::Ok);
    }

    let mut out = format!(
        "playbook {} ({})\n",
        output::clean(&pb.name),
        output::clean(&pb.source)
    );
    match (&journal, &incident) {
        (Some(j), Some(i)) => {
            out.push_str(&format!(
                "incident {} about {}, opened {} (journal {})\n",
                incident_id
                    .as_deref()
                    .map(output::clean)
                    .unwrap_or_default(),
                identity.as_deref().map(output::clean).unwrap_or("-".into()),
                i.opened
                    .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
                    .unwrap_or("?".into()),
                output::clean(&j.path)
            ));
        }
        _ => out.push_str(
            "journal not set (--incident or ATOCTL_INCIDENT): every step is shown pending\n",
        ),
    }
    let colour = console::colors_enabled() && std::io::stdout().is_terminal();
    for view in &phases {
        out.push('\n');
        out.push_str(&view.heading());
        out.push('\n');
        let mut t = output::table(["STATUS", "STEP", "TITLE", "DETAIL", "COMMAND"]);
        for (s, state) in &view.steps {
            t.add_row(vec![
                status_cell(state.status, colour),
                Cell::new(output::clean(&s.id)),
                Cell::new(output::clean(&s.title)),
                Cell::new(output::clean(&state.detail)),
                Cell::new(s.command().map(output::clean).unwrap_or_default()),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    output::line(out.trim_end());
    Ok(Exit::Ok)
}

/// A phase with its due time (with a journal) and each step's state.
struct PhaseView<'a> {
    phase: &'a crate::playbook::Phase,
    due: Option<jiff::Timestamp>,
    steps: Vec<(&'a crate::playbook::Step, StepState)>,
}

impl PhaseView<'_> {
    fn deadline_text(&self) -> Option<String> {
        self.phase
            .deadline_text
            .as_deref()
            .map(|t| crate::error::one_line(t.trim()))
    }

    fn heading(&self) -> String {
        let when = match (self.due, self.deadline_text()) {
            (Some(due), _) => format!("due {}", due.strftime("%Y-%m-%d %H:%M:%SZ")),
            (None, Some(d)) => format!("due {d} after the incident's opening"),
            (None, None) => "no deadline".into(),
        };
        format!(
            "{}: {} ({when})",
            output::clean(&self.phase.id),
            output::clean(&self.phase.title)
        )
    }

    fn json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|(s, state)| {
                let mut v = json!({
                    "id": s.id,
                    "title": s.title,
                    "status": state.status,
                    "detail": state.detail,
                });
                match &s.action {
                    Action::Run(c) => v["command"] = json!(c),
                    Action::Manual { text, .. } => v["manual"] = json!(text),
                    Action::Invalid => {}
                }
                v
            })
            .collect();
        json!({
            "id": self.phase.id,
            "title": self.phase.title,
            "deadline": self.deadline_text(),
            "due": self.due.map(|d| d.to_string()),
            "steps": steps,
        })
    }
}

/// A status for the table, coloured on a terminal.
fn status_cell(status: Status, colour: bool) -> Cell {
    let cell = Cell::new(status.as_str());
    if !colour {
        return cell;
    }
    match status {
        Status::Done => cell.fg(Color::Green),
        Status::Failed => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Status::Overdue => cell.fg(Color::Red),
        Status::InProgress => cell.fg(Color::Yellow),
        Status::Skipped => cell.add_attribute(Attribute::Dim),
        Status::Pending => cell,
    }
}
