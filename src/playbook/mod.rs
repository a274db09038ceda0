//! Playbooks as data: a TOML file of phases (each with a deadline from the incident's opening)
//! and steps (an atoctl command line with placeholders, or a manual item for a person).
//!
//! [`Playbook::parse`] reads a file into the model, keeping the line of everything so that a
//! problem can be named where it is; [`check`] finds what would make it fail at 3 a.m.
//! (commands the real CLI does not accept, unknown placeholders, cycles, …); [`status`] says
//! where each step stands from an incident's journal. `respond` runs it.

pub mod check;
pub mod status;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::error::{AppError, Result};

pub use check::check;
pub use status::{Status, StepState, status_of};

/// The bundled account-takeover playbook, compiled in.
pub const BUNDLED: &str = include_str!("../../playbooks/account-takeover.toml");

/// How the bundled playbook is named in messages.
pub const BUNDLED_SOURCE: &str = "account-takeover.toml (bundled)";

/// The placeholders a command or a step's stdin may use.
pub const PLACEHOLDERS: [&str; 5] = ["identity", "since", "ips", "others", "incident"];

/// Placeholders that stand for a list: in a command, `--ip {ips}` becomes one `--ip` per value.
pub const LIST_PLACEHOLDERS: [&str; 2] = ["ips", "others"];

/// A playbook, parsed.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// Where it came from: a path, or [`BUNDLED_SOURCE`].
    pub source: String,
    pub name: String,
    pub description: Option<String>,
    /// The default suspected window for `{since}`.
    pub since: String,
    pub phases: Vec<Phase>,
    pub steps: Vec<Step>,
    /// The line of each top-level item that was given (for problems about the file as a whole).
    pub since_line: usize,
}

#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub title: String,
    /// Counted from the incident's opening; `None` when the file gives none or an unreadable
    /// one (a problem [`check`] reports).
    pub deadline: Option<Duration>,
    pub deadline_text: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub phase: String,
    pub action: Action,
    /// Steps that must have ended first.
    pub after: Vec<String>,
    /// Run only when this holds.
    pub when: Option<String>,
    /// What the command reads on stdin (a template with placeholders).
    pub stdin: Option<String>,
    /// Lines of the step and of its fields, for problems.
    pub line: usize,
    pub lines: BTreeMap<&'static str, usize>,
}

impl Step {
    /// The line of a field, or of the step.
    pub fn line_of(&self, field: &str) -> usize {
        self.lines.get(field).copied().unwrap_or(self.line)
    }

    pub fn command(&self) -> Option<&str> {
        match &self.action {
            Action::Run(c) => Some(c),
            Action::Manual { .. } | Action::Invalid => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    /// An atoctl command line, without `atoctl` and without global options.
    Run(String),
    /// A manual item: its text, and the questions whose answers are journaled.
    Manual {
        text: String,
        questions: Vec<String>,
    },
    /// Neither or both of `run` and `manual` were given (a problem [`check`] reports).
    Invalid,
}

/// A problem in a playbook file: where, which step, what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub step: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.step {
            Some(s) => write!(f, "{}:{}: step {s}: {}", self.file, self.line, self.message),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    name: Spanned<String>,
    description: Option<String>,
    since: Option<Spanned<String>>,
    #[serde(default)]
    phase: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    id: Spanned<String>,
    title: Option<String>,
    deadline: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    phase: Spanned<String>,
    title: Spanned<String>,
    run: Option<Spanned<String>>,
    manual: Option<Spanned<String>>,
    questions: Option<Spanned<Vec<String>>>,
    after: Option<Spanned<Vec<String>>>,
    when: Option<Spanned<String>>,
    stdin: Option<Spanned<String>>,
}

/// 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset.min(text.len()))
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl Playbook {
    /// The bundled playbook.
    pub fn bundled() -> Playbook {
        // The bundled file is checked by a test; a failure here would be a build defect.
        Playbook::parse(BUNDLED_SOURCE, BUNDLED)
            .unwrap_or_else(|p| panic!("the bundled playbook does not parse: {}", p.message))
    }

    /// The playbook at `path`, or the bundled one; checked: any problem is a usage error
    /// listing them.
    pub fn load(path: Option<&Path>) -> Result<Playbook> {
        let pb = match path {
            None => Playbook::bundled(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    AppError::usage(format!("cannot read playbook {}: {e}", p.display()))
                })?;
                Playbook::parse(&p.display().to_string(), &text)
                    .map_err(|pr| AppError::usage(pr.to_string()))?
            }
        };
        let problems = check(&pb);
        if let Some(first) = problems.first() {
            let mut msg = format!("the playbook has {} problem(s): {first}", problems.len());
            for p in problems.iter().skip(1).take(9) {
                msg.push_str(&format!("\n  {p}"));
            }
            return Err(AppError::usage(msg)
                .with_hint("run `atoctl playbook check FILE` to see every problem"));
        }
        Ok(pb)
    }

    /// Reads a playbook. A file that is not TOML, or has an unknown field or a value of the
    /// wrong type, is one problem (the first); everything else is for [`check`].
    pub fn parse(source: &str, text: &str) -> std::result::Result<Playbook, Problem> {
        let raw: RawPlaybook = toml::from_str(text).map_err(|e| Problem {
            file: source.to_string(),
            line: e.span().map(|s| line_at(text, s.start)).unwrap_or(1),
            step: None,
            message: crate::error::one_line(e.message()),
        })?;
        let line = |s: std::ops::Range<usize>| line_at(text, s.start);
        let phases = raw
            .phase
            .into_iter()
            .map(|p| {
                let at = line(p.span());
                let p = p.into_inner();
                Phase {
                    title: p.title.unwrap_or_else(|| p.id.get_ref().clone()),
                    deadline: p
                        .deadline
                        .as_ref()
                        .and_then(|d| humantime::parse_duration(d.get_ref().trim()).ok())
                        .filter(|d| !d.is_zero()),
                    deadline_text: p.deadline.map(Spanned::into_inner),
                    id: p.id.into_inner(),
                    line: at,
                }
            })
            .collect();
        let steps = raw
            .step
            .into_iter()
            .map(|s| {
                let at = line(s.span());
                let s = s.into_inner();
                let mut lines = BTreeMap::new();
                lines.insert("id", line(s.id.span()));
                lines.insert("phase", line(s.phase.span()));
                let mut note = |k: &'static str, span: Option<std::ops::Range<usize>>| {
                    if let Some(sp) = span {
                        lines.insert(k, line(sp));
                    }
                };
                note("run", s.run.as_ref().map(Spanned::span));
                note("manual", s.manual.as_ref().map(Spanned::span));
                note("questions", s.questions.as_ref().map(Spanned::span));
                note("after", s.after.as_ref().map(Spanned::span));
                note("when", s.when.as_ref().map(Spanned::span));
                note("stdin", s.stdin.as_ref().map(Spanned::span));
                let questions = s.questions.map(Spanned::into_inner);
                let action = match (s.run, s.manual) {
                    (Some(r), None) if questions.is_none() => Action::Run(r.into_inner()),
                    (None, Some(m)) => Action::Manual {
                        text: m.into_inner(),
                        questions: questions.unwrap_or_default(),
                    },
                    _ => Action::Invalid,
                };
                Step {
                    id: s.id.into_inner(),
                    title: s.title.into_inner(),
                    phase: s.phase.into_inner(),
                    action,
                    after: s.after.map(Spanned::into_inner).unwrap_or_default(),
                    when: s.when.map(Spanned::into_inner),
                    stdin: s.stdin.map(Spanned::into_inner),
                    line: at,
                    lines,
                }
            })
            .collect();
        Ok(Playbook {
            source: source.to_string(),
            name: raw.name.into_inner(),
            description: raw.description,
            since_line: raw.since.as_ref().map(|s| line(s.span())).unwrap_or(1),
            since: raw
                .since
                .map(Spanned::into_inner)
                .unwrap_or_else(|| "7d".into()),
            phases,
            steps,
        })
    }

    pub fn phase(&self, id: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.id == id)
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The steps of a phase, in file order.
    pub fn steps_of<'a>(&'a self, phase: &'a str) -> impl Iterator<Item = &'a Step> + 'a {
        self.steps.iter().filter(move |s| s.phase == phase)
    }
}

/// The values placeholders stand for in one incident.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub identity: String,
    pub since: String,
    pub ips: Vec<String>,
    pub others: Vec<String>,
    /// The scan found more identities than it journaled (`identities_truncated`): `{others}`
    /// holds only those.
    pub others_truncated: bool,
    pub incident: String,
}

impl Values {
    fn scalar(&self, name: &str) -> Option<&str> {
        match name {
            "identity" => Some(&self.identity),
            "since" => Some(&self.since),
            "incident" => Some(&self.incident),
            _ => None,
        }
    }

    fn list(&self, name: &str) -> Option<&[String]> {
        match name {
            "ips" => Some(&self.ips),
            "others" => Some(&self.others),
            _ => None,
        }
    }

    /// Values that look real, for checking a command without an incident.
    pub fn sample() -> Values {
        Values {
            identity: "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07".into(),
            since: "7d".into(),
            ips: vec!["203.0.113.66".into()],
            others: vec!["0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b".into()],
            others_truncated: false,
            incident: "incidents/ato-20261206-000000-000000.jsonl".into(),
        }
    }
}

/// A playbook command's words (without `atoctl`), parsed by the real CLI definition.
pub fn parse_command<I>(words: I) -> std::result::Result<crate::cli::Cli, clap::Error>
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    crate::cli::Cli::try_parse_args(
        std::iter::once("atoctl".to_string()).chain(words.into_iter().map(Into::into)),
    )
}

impl Step {
    /// The step's command expanded with sample values and parsed: what kind of command it is
    /// does not depend on the values. `None` for a manual item or a command that does not parse.
    pub fn sample_command(&self) -> Option<crate::cli::Command> {
        let words = expand_command(self.command()?, &Values::sample()).ok()?;
        parse_command(words).ok().map(|c| c.command)
    }
}

/// Why a template cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `{name}` is not a placeholder.
    Unknown(String),
    /// An unclosed `{` or a stray `}`.
    Malformed(String),
    /// A list placeholder has no value yet (no attacker IP known, no other identity found).
    Empty(String),
    /// A list placeholder inside a word (`--ip={ips}`): it must be a word of its own.
    ListInWord(String),
    /// The command line does not split into words (an unclosed quote).
    Quoting,
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::Unknown(n) => write!(
                f,
                "unknown placeholder {{{n}}} (known: {})",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ),
            ExpandError::Malformed(w) => write!(f, "a brace without its pair in {w:?}"),
            ExpandError::Empty(n) => write!(f, "{{{n}}} has no value yet"),
            ExpandError::ListInWord(n) => write!(
                f,
                "{{{n}}} stands for a list: write it as a word of its own (`--ip {{{n}}}`)"
            ),
            ExpandError::Quoting => f.write_str("the command line has an unclosed quote"),
        }
    }
}

/// The placeholders a template uses, in order (for checks), or the first malformed brace.
pub fn placeholders(template: &str) -> std::result::Result<Vec<String>, ExpandError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(ExpandError::Malformed(template.to_string()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .filter(|c| !after[..*c].contains('{'))
            .ok_or_else(|| ExpandError::Malformed(template.to_string()))?;
        out.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// Replaces the scalar placeholders in one word.
fn expand_word(word: &str, values: &Values) -> std::result::Result<String, ExpandError> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| ExpandError::Malformed(word.to_string()))?;
        let name = &after[..close];
        if values.list(name).is_some() {
            return Err(ExpandError::ListInWord(name.to_string()));
        }
        out.push_str(
            values
                .scalar(name)
                .ok_or_else(|| ExpandError::Unknown(name.to_string()))?,
        );
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(ExpandError::Malformed(word.to_string()));
    }
    out.push_str(rest);
    Ok(out)
}

/// A command template as argv words (without `atoctl`). A word that is exactly a list
/// placeholder repeats the word before it (the flag) once per value: `--ip {ips}` with two IPs
/// is `--ip A --ip B`; an empty list is [`ExpandError::Empty`].
pub fn expand_command(
    template: &str,
    values: &Values,
) -> std::result::Result<Vec<String>, ExpandError> {
    let words = shlex::split(template).ok_or(ExpandError::Quoting)?;
    let mut out: Vec<String> = Vec::new();
    for w in &words {
        if let Some(name) = w.strip_prefix('{').and_then(|r| r.strip_suffix('}'))
            && let Some(list) = values.list(name)
        {
            let Some(flag) = out.pop() else {
                // A list as a positional word: the values themselves.
                out.extend(list.iter().cloned());
                if list.is_empty() {
                    return Err(ExpandError::Empty(name.to_string()));
                }
                continue;
            };
            if list.is_empty() {
                return Err(ExpandError::Empty(name.to_string()));
            }
            for v in list {
                out.push(flag.clone());
                out.push(v.clone());
            }
            continue;
        }
        out.push(expand_word(w, values)?);
    }
    Ok(out)
}

/// A step's stdin: each line of the template expanded; a line that is exactly a list
/// placeholder becomes one line per value.
pub fn expand_stdin(template: &str, values: &Values) -> std::result::Result<String, ExpandError> {
    let mut out = String::new();
    for line in template.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('{').and_then(|r| r.strip_suffix('}'))
            && let Some(list) = values.list(name)
        {
            if list.is_empty() {
                return Err(ExpandError::Empty(name.to_string()));
            }
            for v in list {
                out.push_str(v);
                out.push('\n');
            }
            continue;
        }
        out.push_str(&expand_word(line, values)?);
        out.push('\n');
    }
    Ok(out)
}

/// A `when` condition: `[!]ROOT[.PATH…] [OP VALUE]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub negate: bool,
    /// A step id, or `webhook`.
    pub root: String,
    pub path: Vec<String>,
    pub compare: Option<(Op, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Condition {
    pub fn parse(text: &str) -> std::result::Result<Condition, String> {
        let t = text.trim();
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            (">=", Op::Ge),
            ("<=", Op::Le),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let (left, compare) = match ops
            .iter()
            .find_map(|(s, op)| t.find(s).map(|i| (i, s, *op)))
        {
            Some((i, s, op)) => {
                let right = t[i + s.len()..].trim();
                if right.is_empty() {
                    return Err(format!("nothing to compare with after {s}"));
                }
                let value = serde_json::from_str::<Value>(right)
                    .unwrap_or_else(|_| Value::String(right.trim_matches('\'').to_string()));
                if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le) && !value.is_number() {
                    return Err(format!("{s} compares numbers, and {right:?} is not one"));
                }
                (t[..i].trim(), Some((op, value)))
            }
            None => (t, None),
        };
        let (negate, left) = match left.strip_prefix('!') {
            Some(l) => (true, l.trim()),
            None => (false, left),
        };
        if negate && compare.is_some() {
            return Err("`!` goes with a bare value; write != to compare".into());
        }
        let mut parts = left.split('.');
        let root = parts.next().unwrap_or_default().to_string();
        let path: Vec<String> = parts.map(str::to_string).collect();
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !word_ok(&root) || !path.iter().all(|p| word_ok(p)) {
            return Err(format!(
                "{text:?} is not a condition (write it like `scan-ips.identities`, `!webhook` or `hibp.verdict == pwned`)"
            ));
        }
        Ok(Condition {
            negate,
            root,
            path,
            compare,
        })
    }

    /// Whether the condition holds, given the evidence of its root (None: no such result).
    pub fn holds(&self, root: Option<&serde_json::Map<String, Value>>) -> bool {
        let mut v = root.map(|m| Value::Object(m.clone()));
        for p in &self.path {
            v = v.and_then(|x| x.get(p).cloned());
        }
        let result = match &self.compare {
            None => truthy(v.as_ref()),
            Some((op, want)) => match (v.as_ref(), op) {
                (None, Op::Ne) => true,
                (None, _) => false,
                (Some(have), Op::Eq) => loose_eq(have, want),
                (Some(have), Op::Ne) => !loose_eq(have, want),
                (Some(have), op) => match (number(have), want.as_f64()) {
                    (Some(a), Some(b)) => match op {
                        Op::Gt => a > b,
                        Op::Ge => a >= b,
                        Op::Lt => a < b,
                        Op::Le => a <= b,
                        Op::Eq | Op::Ne => false,
                    },
                    _ => false,
                },
            },
        };
        result != self.negate
    }
}

/// A number, or the length of a list (so `scan-ips.identities > 2` counts them).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Array(a) => Some(a.len() as f64),
        v => v.as_f64(),
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        (x, y) if number(x).is_some() && y.is_number() => number(x) == y.as_f64(),
        (Value::Bool(x), Value::String(y)) => (if *x { "true" } else { "false" }) == y,
        (x, y) => x == y,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_bundled_playbook_parses_with_every_phase_and_step_in_order() {
        let pb = Playbook::bundled();
        let phases: Vec<&str> = pb.phases.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(phases, ["immediate", "1h", "24h", "1w"]);
        assert_eq!(
            pb.phase("immediate").and_then(|p| p.deadline),
            Some(Duration::from_secs(600))
        );
        let immediate: Vec<&str> = pb.steps_of("immediate").map(|s| s.id.as_str()).collect();
        assert_eq!(
            immediate,
            [
                "confirm-with-user",
                "lock",
                "revoke",
                "disable-password",
                "notify-locked",
                "unlock",
                "recover"
            ]
        );
        let Some(Action::Manual { questions, .. }) =
            pb.step("confirm-with-user").map(|s| &s.action)
        else {
            panic!("confirm-with-user is a manual item");
        };
        assert_eq!(questions.len(), 5);
        assert!(check(&pb).is_empty(), "{:?}", check(&pb));
    }

    #[test]
    fn list_placeholders_repeat_their_flag_and_scalars_fill_in_place() {
        let mut v = Values::sample();
        v.ips = vec!["203.0.113.1".into(), "198.51.100.2".into()];
        let words = expand_command("pattern-scan --ip {ips} --since {since}", &v);
        assert_eq!(
            words,
            Ok(vec![
                "pattern-scan".to_string(),
                "--ip".into(),
                "203.0.113.1".into(),
                "--ip".into(),
                "198.51.100.2".into(),
                "--since".into(),
                "7d".into()
            ])
        );
        v.ips.clear();
        assert_eq!(
            expand_command("pattern-scan --ip {ips}", &v),
            Err(ExpandError::Empty("ips".into()))
        );
        assert_eq!(
            expand_command("lock --identity {user}", &v),
            Err(ExpandError::Unknown("user".into()))
        );
        assert_eq!(
            expand_command("pattern-scan --ip={ips}", &v),
            Err(ExpandError::ListInWord("ips".into()))
        );
        assert_eq!(
            expand_stdin("{others}", &v).as_deref(),
            Ok("0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b\n")
        );
    }

    #[test]
    fn conditions_read_a_path_in_an_earlier_result() {
        let scan = json!({"identities": ["a", "b"], "verdict": "pwned", "count": 3});
        let m = scan.as_object();
        let holds = |c: &str| Condition::parse(c).map(|c| c.holds(m));
        assert_eq!(holds("scan-ips.identities"), Ok(true));
        assert_eq!(holds("scan-ips.identities > 1"), Ok(true));
        assert_eq!(holds("scan-ips.identities > 2"), Ok(false));
        assert_eq!(holds("hibp.verdict == pwned"), Ok(true));
        assert_eq!(holds("hibp.verdict != pwned"), Ok(false));
        assert_eq!(holds("hibp.count >= 3"), Ok(true));
        assert_eq!(holds("!x.missing"), Ok(true));
        assert_eq!(
            Condition::parse("webhook").map(|c| c.holds(None)),
            Ok(false)
        );
        assert_eq!(
            Condition::parse("!webhook").map(|c| c.holds(None)),
            Ok(true)
        );
        assert!(Condition::parse("a.b > many").is_err());
        assert!(Condition::parse("a b").is_err());
        assert!(Condition::parse("!a == 1").is_err());
    }
}
