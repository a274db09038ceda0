//! `playbook check`: what would make a playbook fail at 3 a.m., found in CI.
//!
//! Every command is parsed by the real command-line definition ([`Cli::try_parse_args`]), with
//! sample values in its placeholders: a flag that does not exist, a missing `--identity`, a
//! value clap refuses are found here, not during an incident. Global options are recognised
//! from the command tree ([`Cli::tree`]), not from a list kept by hand.

use std::collections::{BTreeMap, BTreeSet};

use clap::parser::ValueSource;

use super::status::{Recorded, recorded_by};
use super::{
    Action, Condition, ExpandError, LIST_PLACEHOLDERS, PLACEHOLDERS, Playbook, Problem, Step,
    Values, expand_command, expand_stdin, placeholders,
};
use crate::cli::{Cli, Command, IncidentCommand};
use crate::ids::IdentityRef;

/// The root of a condition on the Castle webhook's evidence; no step may take its name.
const WEBHOOK: &str = "webhook";

/// Every problem of a parsed playbook, in file order.
pub fn check(playbook: &Playbook) -> Vec<Problem> {
    let mut c = Checker {
        pb: playbook,
        problems: Vec::new(),
        tree: None,
    };
    c.whole();
    c.phases();
    c.step_ids();
    for step in &playbook.steps {
        c.step(step);
    }
    c.cycles();
    // Stable: problems on one line keep the order they were found in.
    c.problems.sort_by_key(|p| p.line);
    c.problems
}

struct Checker<'a> {
    pb: &'a Playbook,
    problems: Vec<Problem>,
    /// The command tree, built on the first command that parses.
    tree: Option<clap::Command>,
}

/// A phase or step id: lowercase letters, digits and dashes, starting and ending with a letter
/// or a digit.
fn id_ok(id: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    edge(id.chars().next())
        && edge(id.chars().last())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl<'a> Checker<'a> {
    fn add(&mut self, line: usize, step: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.pb.source.clone(),
            line,
            step: step.map(str::to_string),
            message: message.into(),
        });
    }

    fn at(&mut self, step: &Step, field: &str, message: impl Into<String>) {
        let line = step.line_of(field);
        self.add(line, Some(&step.id), message);
    }

    /// The playbook as a whole: something to run, and a readable default window.
    fn whole(&mut self) {
        if self.pb.phases.is_empty() {
            self.add(
                1,
                None,
                "the playbook has no phase (add a [[phase]] with an id and a deadline)",
            );
        }
        if self.pb.steps.is_empty() {
            self.add(
                1,
                None,
                "the playbook has no step (add a [[step]] with an id, a phase, a title and `run` or `manual`)",
            );
        }
        if let Err(e) = crate::duration::parse(&self.pb.since, "since") {
            self.add(self.pb.since_line, None, e.message);
        }
    }

    fn phases(&mut self) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        // The longest deadline so far, with its phase and text.
        let mut latest: Option<(std::time::Duration, String, &str)> = None;
        for p in &self.pb.phases {
            let name = crate::error::one_line(&p.id);
            if let Some(first) = seen.get(p.id.as_str()) {
                self.add(
                    p.line,
                    None,
                    format!(
                        "phase {name}: the id is used twice (lines {first} and {}); phase ids must be unique",
                        p.line
                    ),
                );
            } else {
                seen.insert(&p.id, p.line);
            }
            if !id_ok(&p.id) {
                self.add(
                    p.line,
                    None,
                    format!(
                        "phase {name:?}: an id is lowercase letters, digits and dashes (like `immediate` or `24h`)"
                    ),
                );
            }
            match (&p.deadline, &p.deadline_text) {
                (Some(d), text) => {
                    let text = text.as_deref().unwrap_or_default().trim();
                    if let Some((before, before_id, before_text)) = &latest
                        && d < before
                    {
                        let msg = format!(
                            "phase {name}: deadline {text} comes before {before_text}, the deadline of the earlier phase {before_id}; deadlines count from the incident's opening, so a later phase cannot be due sooner"
                        );
                        self.add(p.line, None, msg);
                    }
                    if latest.as_ref().is_none_or(|(l, _, _)| d > l) {
                        latest = Some((*d, name, text));
                    }
                }
                (None, None) => self.add(
                    p.line,
                    None,
                    format!(
                        "phase {name}: no deadline (add one like `deadline = \"1h\"`: how long after the incident's opening the phase is due)"
                    ),
                ),
                (None, Some(text)) => {
                    let msg = match humantime::parse_duration(text.trim()) {
                        Ok(_) => format!(
                            "phase {name}: deadline {text:?} is zero; give how long after the incident's opening the phase is due"
                        ),
                        Err(_) => format!(
                            "phase {name}: deadline {text:?} is not a duration (write it like 10m, 1h or 7d)"
                        ),
                    };
                    self.add(p.line, None, msg);
                }
            }
        }
    }

    fn step_ids(&mut self) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.pb.steps {
            let line = s.line_of("id");
            if let Some(first) = seen.get(s.id.as_str()) {
                let msg = format!(
                    "the id is used twice (lines {first} and {line}); step ids must be unique"
                );
                self.add(line, Some(&s.id), msg);
            } else {
                seen.insert(&s.id, line);
            }
            if s.id == WEBHOOK {
                self.add(
                    line,
                    Some(&s.id),
                    "`webhook` is reserved: conditions read the Castle webhook's evidence by that name; choose another id",
                );
            } else if !id_ok(&s.id) {
                let msg = "an id is lowercase letters, digits and dashes (like `revoke-others`)";
                self.add(line, Some(&s.id), msg);
            }
        }
    }

    /// The index of a phase in the playbook (its order).
    fn phase_index(&self, id: &str) -> Option<usize> {
        self.pb.phases.iter().position(|p| p.id == id)
    }

    fn step(&mut self, step: &Step) {
        if step.title.trim().is_empty() {
            self.at(
                step,
                "id",
                "the title is empty: it is what the checklist shows",
            );
        }
        if self.phase_index(&step.phase).is_none() {
            let known: Vec<&str> = self.pb.phases.iter().map(|p| p.id.as_str()).collect();
            let msg = format!(
                "phase {:?} is not a phase of this playbook (phases: {})",
                step.phase,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
            self.at(step, "phase", msg);
        }
        match &step.action {
            Action::Invalid => self.invalid_action(step),
            Action::Manual { text, .. } => {
                if text.trim().is_empty() {
                    self.at(
                        step,
                        "manual",
                        "`manual` is empty: say what the person has to do",
                    );
                }
                if step.stdin.is_some() {
                    self.at(
                        step,
                        "stdin",
                        "`stdin` on a manual item: only a `run` command reads stdin",
                    );
                }
            }
            Action::Run(cmd) => self.command(step, cmd),
        }
        if let Some(t) = &step.stdin {
            self.stdin_template(step, t);
        }
        for dep in &step.after {
            if self.depends(step, "after", dep, "after names")
                && let Some(other) = self.pb.step(dep)
                && let Action::Run(_) = other.action
                && recorded_by(other) == Recorded::Nothing
                && self.parses(other)
            {
                let msg = format!(
                    "after names {dep:?}, whose command records nothing for the identity in the journal: it never counts as ended, so this step would wait forever"
                );
                self.at(step, "after", msg);
            }
        }
        if let Some(w) = &step.when {
            match Condition::parse(w) {
                Err(e) => self.at(step, "when", format!("when: {e}")),
                Ok(c) if c.root == WEBHOOK => {}
                Ok(c) => {
                    if self.depends(step, "when", &c.root, "when reads")
                        && let Some(root) = self.pb.step(&c.root)
                        && let Action::Run(_) = root.action
                        && !matches!(recorded_by(root), Recorded::One(_))
                        && self.parses(root)
                    {
                        let msg = format!(
                            "when reads {:?}, whose command records no result for the identity in the journal: the condition could never be decided",
                            c.root
                        );
                        self.at(step, "when", msg);
                    }
                }
            }
        }
    }

    /// Whether a step's command parses with sample values (if not, that is its own problem).
    fn parses(&self, step: &Step) -> bool {
        step.command()
            .and_then(|c| expand_command(c, &Values::sample()).ok())
            .is_some_and(|w| super::parse_command(w.iter().cloned()).is_ok())
    }

    /// `after` or a `when` root: a step of this playbook, not the step itself, not of a later
    /// phase. True when it names a step that it may wait for.
    fn depends(&mut self, step: &Step, field: &str, dep: &str, what: &str) -> bool {
        if dep == step.id {
            let msg = format!("{what} the step itself: a step cannot wait for its own result");
            self.at(step, field, msg);
            return false;
        }
        let Some(other) = self.pb.step(dep) else {
            let msg = if field == "when" {
                format!("{what} {dep:?}, which is neither `webhook` nor a step of this playbook")
            } else {
                format!("{what} {dep:?}, which is not a step of this playbook")
            };
            self.at(step, field, msg);
            return false;
        };
        if let (Some(mine), Some(theirs)) = (
            self.phase_index(&step.phase),
            self.phase_index(&other.phase),
        ) && theirs > mine
        {
            let msg = format!(
                "{what} {dep:?} of the later phase {:?}: a step cannot wait for one that runs after its own phase ({:?})",
                other.phase, step.phase
            );
            self.at(step, field, msg);
            return false;
        }
        true
    }

    fn invalid_action(&mut self, step: &Step) {
        let has = |f: &str| step.lines.contains_key(f);
        if has("run") && has("manual") {
            self.at(
                step,
                "manual",
                "both `run` and `manual`: a step is either an atoctl command or a manual item",
            );
        } else if has("run") && has("questions") {
            self.at(
                step,
                "questions",
                "`questions` go with a `manual` item; a `run` step asks nothing",
            );
        } else {
            self.at(
                step,
                "id",
                "neither `run` nor `manual`: give the atoctl command to run or the text of a manual item",
            );
        }
    }

    /// The placeholders of a template: unknown names and malformed braces. True when clean.
    fn template_placeholders(&mut self, step: &Step, field: &str, template: &str) -> bool {
        match placeholders(template) {
            Err(e) => {
                self.at(step, field, format!("{field}: {e}"));
                false
            }
            Ok(names) => {
                let mut ok = true;
                let mut told = BTreeSet::new();
                for n in names {
                    if !PLACEHOLDERS.contains(&n.as_str()) && told.insert(n.clone()) {
                        let e = ExpandError::Unknown(n);
                        self.at(step, field, format!("{field}: {e}"));
                        ok = false;
                    }
                }
                ok
            }
        }
    }

    fn stdin_template(&mut self, step: &Step, template: &str) {
        if self.template_placeholders(step, "stdin", template)
            && let Err(e) = expand_stdin(template, &Values::sample())
        {
            let msg = match e {
                ExpandError::ListInWord(n) => format!(
                    "stdin: {{{n}}} stands for a list, one value a line: put it on a line of its own"
                ),
                e => format!("stdin: {e}"),
            };
            self.at(step, "stdin", msg);
        }
    }

    /// A `run` command: its placeholders, then the real parser, then what a playbook may run.
    fn command(&mut self, step: &Step, template: &str) {
        if template.trim().is_empty() {
            self.at(step, "run", "`run` is empty: give an atoctl command line");
            return;
        }
        if !self.template_placeholders(step, "run", template) {
            return;
        }
        let words = match expand_command(template, &Values::sample()) {
            Ok(w) => w,
            Err(e) => {
                self.at(step, "run", format!("run: {e}"));
                return;
            }
        };
        if words.first().is_some_and(|w| w == "atoctl") {
            let rest = template
                .trim_start()
                .trim_start_matches("atoctl")
                .trim_start();
            let msg = format!("run: write the command without `atoctl`: {rest:?}");
            self.at(step, "run", msg);
            return;
        }
        let cli = match super::parse_command(words.iter().cloned()) {
            Ok(cli) => cli,
            Err(e) => {
                let msg = match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                    | clap::error::ErrorKind::DisplayVersion => {
                        "run: the command prints help or the version instead of running a step"
                            .to_string()
                    }
                    _ => format!("run: not a valid atoctl command: {}", clap_message(&e)),
                };
                self.at(step, "run", msg);
                return;
            }
        };
        // A list placeholder stands for any number of values: with two, a flag given once
        // must still parse (`--identity {others}` would not).
        let lists: Vec<&str> = LIST_PLACEHOLDERS
            .into_iter()
            .filter(|l| template.contains(&format!("{{{l}}}")))
            .collect();
        if !lists.is_empty() {
            let mut two = Values::sample();
            two.ips.push("198.51.100.77".into());
            two.others
                .push("3c9d7e21-5b4a-4f0e-a8c6-1d2e3f4a5b6c".into());
            if let Ok(w) = expand_command(template, &two)
                && let Err(e) = super::parse_command(w.iter().cloned())
            {
                let msg = format!(
                    "run: with two values in {}: {}",
                    lists
                        .iter()
                        .map(|l| format!("{{{l}}}"))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    clap_message(&e)
                );
                self.at(step, "run", msg);
                return;
            }
        }
        self.global_options(step, &words);
        self.runnable(step, &cli.command);
    }

    /// Global options in a step's command: respond supplies them.
    fn global_options(&mut self, step: &Step, words: &[String]) {
        let tree = self.tree.get_or_insert_with(Cli::tree);
        let globals: Vec<(String, String)> = tree
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| {
                let shown = match (a.get_long(), a.get_short()) {
                    (Some(l), _) => format!("--{l}"),
                    (None, Some(s)) => format!("-{s}"),
                    (None, None) => a.get_id().to_string(),
                };
                (a.get_id().to_string(), shown)
            })
            .collect();
        let Ok(matches) = tree.clone().try_get_matches_from(argv(words)) else {
            return;
        };
        // Given on the command line (not by an environment variable or a default), at any
        // level of the subcommands.
        let mut given: Vec<&str> = Vec::new();
        let mut level = Some(&matches);
        while let Some(m) = level {
            for (id, shown) in &globals {
                if m.value_source(id) == Some(ValueSource::CommandLine)
                    && !given.contains(&shown.as_str())
                {
                    given.push(shown);
                }
            }
            level = m.subcommand().map(|(_, sub)| sub);
        }
        if !given.is_empty() {
            let (verb, pronoun) = if given.len() == 1 {
                ("is a global option", "it")
            } else {
                ("are global options", "them")
            };
            let msg = format!(
                "run: {} {verb}, which respond supplies (journal, endpoints, operator, output, confirmation policy): leave {pronoun} out",
                given.join(" and ")
            );
            self.at(step, "run", msg);
        }
    }

    /// What a playbook may run, and how: a step of an incident, for its identity, with stdin
    /// where (and only where) the command reads it.
    fn runnable(&mut self, step: &Step, cmd: &Command) {
        let silent = match cmd {
            Command::Incident(IncidentCommand::Note(_)) => Some("incident note"),
            Command::Identity(_) => Some("identity"),
            Command::Sessions(_) => Some("sessions"),
            _ => None,
        };
        if let Some(name) = silent {
            self.at(
                step,
                "run",
                format!(
                    "run: `{name}` records nothing that shows it done, so respond would run it again on every run: make it a manual item (its answers are journaled), or use a step that records (revoke records the sessions)"
                ),
            );
            return;
        }
        let name = match cmd {
            Command::Incident(IncidentCommand::Note(_)) => None,
            Command::Incident(IncidentCommand::Open(_)) => Some("incident open"),
            Command::Incident(IncidentCommand::Close(_)) => Some("incident close"),
            Command::Incident(IncidentCommand::Verify(_)) => Some("incident verify"),
            Command::Incident(IncidentCommand::Show) => Some("incident show"),
            Command::Completions { .. } => Some("completions"),
            Command::Man(_) => Some("man"),
            Command::Schema => Some("schema"),
            Command::Report(_) => Some("report"),
            Command::Respond(_) => Some("respond"),
            Command::Playbook(_) => Some("playbook"),
            Command::Drill(_) => Some("drill"),
            Command::Restore(a) if a.reversal_key.is_some() => Some("restore --reversal-key"),
            Command::Restore(_)
            | Command::Identity(_)
            | Command::Sessions(_)
            | Command::Revoke(_)
            | Command::DisablePassword(_)
            | Command::Lock(_)
            | Command::Unlock(_)
            | Command::Recover(_)
            | Command::AuditQuery(_)
            | Command::PatternScan(_)
            | Command::HibpCheck(_) => None,
        };
        if let Some(name) = name {
            self.at(
                step,
                "run",
                format!(
                    "run: `{name}` is not a playbook step (a step is one of: revoke, lock, unlock, disable-password, recover, audit-query, pattern-scan, hibp-check)"
                ),
            );
            return;
        }
        if let Command::Revoke(a) = cmd
            && a.session.is_some()
        {
            self.at(
                step,
                "run",
                "run: `revoke --session` ends one session named in the playbook; there is no placeholder for a session: use `revoke --identity {identity}`",
            );
        }
        if let Command::HibpCheck(a) = cmd
            && a.stdin
        {
            self.at(
                step,
                "run",
                "run: `hibp-check --stdin` reads the password from the playbook's stdin; leave --stdin out: respond asks for the password (or takes it from respond --password-stdin)",
            );
            return;
        }
        let sample = Values::sample().identity;
        if let Some(id) = identity_of(cmd)
            && id.to_string() != sample
        {
            self.at(
                step,
                "run",
                "run: --identity is not {identity}: a playbook step acts on the incident's identity",
            );
        }
        let reads = reads_stdin(cmd);
        match (reads, &step.stdin) {
            (true, None) => self.at(
                step,
                "run",
                "run: the command reads stdin, and the step has no `stdin` (like `stdin = \"{others}\"`)",
            ),
            (false, Some(_)) => self.at(
                step,
                "stdin",
                "`stdin` is given, and the command does not read stdin",
            ),
            _ => {}
        }
    }

    /// Cycles through `after` and `when` roots, each reported once (one per group of steps
    /// that wait for each other).
    fn cycles(&mut self) {
        let steps = &self.pb.steps;
        // The first step of each id (duplicates are a problem of their own).
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, s) in steps.iter().enumerate() {
            index.entry(&s.id).or_insert(i);
        }
        // i waits for j, by which field.
        let mut edges: Vec<Vec<(usize, &'static str)>> = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            if index.get(s.id.as_str()) != Some(&i) {
                continue;
            }
            let when_root = s
                .when
                .as_deref()
                .and_then(|w| Condition::parse(w).ok())
                .map(|c| c.root);
            let deps = s
                .after
                .iter()
                .map(|a| (a.as_str(), "after"))
                .chain(when_root.as_deref().map(|r| (r, "when")));
            for (dep, field) in deps {
                if let Some(&j) = index.get(dep)
                    && j != i
                    && !edges[i].iter().any(|(k, _)| *k == j)
                {
                    edges[i].push((j, field));
                }
            }
        }
        for component in strongly_connected(&edges) {
            if component.len() < 2 {
                continue;
            }
            let Some(&start) = component.iter().min() else {
                continue;
            };
            let inside: BTreeSet<usize> = component.iter().copied().collect();
            let Some(path) = cycle_from(start, &edges, &inside) else {
                continue;
            };
            let names: Vec<&str> = path
                .iter()
                .chain(std::iter::once(&start))
                .map(|&i| steps[i].id.as_str())
                .collect();
            let field = path
                .get(1)
                .and_then(|next| edges[start].iter().find(|(j, _)| j == next))
                .map(|(_, f)| *f)
                .unwrap_or("after");
            let s = &steps[start];
            let msg = format!(
                "a dependency cycle through `after` and `when`: {} (each waits for the next; none can ever run)",
                names.join(" -> ")
            );
            self.at(s, field, msg);
        }
    }
}

/// The id of the `[[step]]` table that line `line` (1-based) of a playbook's text falls in:
/// the TOML parser names only the line of an unknown field or a value of the wrong type.
pub fn step_at_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = line.checked_sub(1)?.min(lines.len().checked_sub(1)?);
    let header = (0..=at)
        .rev()
        .find(|&i| lines[i].trim_start().starts_with('['))?;
    let rest = lines[header].trim().strip_prefix("[[step]]")?.trim_start();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    lines[header + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let t: toml::Table = toml::from_str(l).ok()?;
            t.get("id")?.as_str().map(str::to_string)
        })
}

/// `atoctl` and the words.
fn argv(words: &[String]) -> Vec<String> {
    std::iter::once("atoctl".to_string())
        .chain(words.iter().cloned())
        .collect()
}

/// The identity a command acts on, when it names one.
fn identity_of(cmd: &Command) -> Option<&IdentityRef> {
    match cmd {
        Command::Identity(a)
        | Command::DisablePassword(a)
        | Command::Lock(a)
        | Command::Unlock(a) => Some(&a.identity),
        Command::Sessions(a) => Some(&a.identity),
        Command::Recover(a) => Some(&a.identity),
        Command::AuditQuery(a) => Some(&a.identity),
        Command::Revoke(a) => a.identity.as_ref(),
        Command::PatternScan(a) => a.identity.as_ref(),
        Command::HibpCheck(a) => a.identity.as_ref(),
        _ => None,
    }
}

/// Whether a command reads stdin.
fn reads_stdin(cmd: &Command) -> bool {
    match cmd {
        Command::Revoke(a) => a.stdin,
        Command::HibpCheck(a) => {
            a.stdin
                || a.sha1.as_deref() == Some("-")
                || a.nt_hash.as_deref() == Some("-")
                || a.sha1_file.as_deref() == Some(std::path::Path::new("-"))
        }
        _ => false,
    }
}

/// A clap error as one line: its first paragraph without `error:`, and its tip.
fn clap_message(e: &clap::Error) -> String {
    let text = strip_ansi(&e.to_string());
    let mut lines = text.lines();
    let mut first: Vec<&str> = Vec::new();
    for l in lines.by_ref() {
        if l.trim().is_empty() {
            break;
        }
        first.push(l.trim());
    }
    let mut msg = first
        .join(" ")
        .trim_start_matches("error:")
        .trim()
        .to_string();
    for l in lines {
        if let Some(tip) = l.trim().strip_prefix("tip:") {
            msg.push_str(&format!(" ({})", tip.trim()));
        }
    }
    crate::error::one_line(&msg)
}

/// Text without ANSI escape sequences (CSI: ESC [ … final byte).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Tarjan's strongly connected components, each in no particular order.
fn strongly_connected(edges: &[Vec<(usize, &'static str)>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [Vec<(usize, &'static str)>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &(w, _) in &s.edges[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The shortest path from `start` back to it within a component (breadth first), without
/// the final return to `start`.
fn cycle_from(
    start: usize,
    edges: &[Vec<(usize, &'static str)>],
    inside: &BTreeSet<usize>,
) -> Option<Vec<usize>> {
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &(w, _) in &edges[v] {
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while let Some(&p) = came_from.get(&at) {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            if inside.contains(&w) && !came_from.contains_key(&w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let pb = Playbook::parse("t.toml", text).unwrap_or_else(|p| panic!("{p}"));
        check(&pb).iter().map(ToString::to_string).collect()
    }

    fn manual(id: &str, extra: &str) -> String {
        format!(
            "[[step]]\nid = \"{id}\"\nphase = \"immediate\"\ntitle = \"{id}\"\nmanual = \"Do {id}.\"\n{extra}\n"
        )
    }

    const HEAD: &str = "name = \"t\"\n[[phase]]\nid = \"immediate\"\ndeadline = \"10m\"\n";

    #[test]
    fn each_group_of_steps_waiting_for_each_other_is_one_cycle_named_once() {
        let text = [
            HEAD.to_string(),
            manual("a", "after = [\"b\"]"),
            manual("b", "after = [\"a\"]"),
            manual("c", "when = \"e.answered\""),
            manual("d", "after = [\"c\"]"),
            manual("e", "after = [\"d\", \"c\"]"),
            manual("f", "after = [\"a\", \"e\"]"),
        ]
        .concat();
        let cycles: Vec<String> = problems(&text)
            .into_iter()
            .filter(|p| p.contains("cycle"))
            .collect();
        assert_eq!(cycles.len(), 2, "{cycles:?}");
        assert!(cycles[0].starts_with("t.toml:"), "{}", cycles[0]);
        assert!(
            cycles[0].contains("step a: a dependency cycle"),
            "{}",
            cycles[0]
        );
        assert!(cycles[0].contains(": a -> b -> a ("), "{}", cycles[0]);
        // c waits (by its condition) for e, which waits for c directly: the shortest way round.
        assert!(cycles[1].contains("step c: "), "{}", cycles[1]);
        assert!(cycles[1].contains(": c -> e -> c ("), "{}", cycles[1]);
    }

    #[test]
    fn waiting_for_earlier_steps_is_no_cycle() {
        let text = [
            HEAD.to_string(),
            manual("a", ""),
            manual("b", "after = [\"a\"]"),
            manual("c", "after = [\"a\", \"b\"]\nwhen = \"b.done\""),
        ]
        .concat();
        assert_eq!(problems(&text), Vec::<String>::new());
    }

    #[test]
    fn a_line_is_placed_in_its_step() {
        let text = "name = \"t\"\n[[phase]]\nid = \"p\"\n\n[[step]] # the first\ntitle = \"x\"\nid = \"lock\"\nrn = \"lock\"\n[[step]]\nid = \"b\"\n";
        assert_eq!(step_at_line(text, 8).as_deref(), Some("lock"));
        assert_eq!(step_at_line(text, 6).as_deref(), Some("lock"));
        assert_eq!(step_at_line(text, 10).as_deref(), Some("b"));
        assert_eq!(step_at_line(text, 3), None);
        assert_eq!(step_at_line(text, 1), None);
        assert_eq!(step_at_line(text, 99).as_deref(), Some("b"));
    }

    #[test]
    fn clap_messages_become_one_plain_line_with_the_tip() {
        let e = Cli::try_parse_args(["atoctl", "lock", "--identiy", "x"]).err();
        let msg = e.as_ref().map(clap_message).unwrap_or_default();
        assert_eq!(
            msg,
            "unexpected argument '--identiy' found (a similar argument exists: '--identity')"
        );
        assert_eq!(strip_ansi("\u{1b}[1;31merror:\u{1b}[0m x"), "error: x");
    }
}
