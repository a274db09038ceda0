//! Printing results: tables for people, one JSON document for scripts. Results go to stdout;
//! progress, warnings and prompts go to stderr.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::error::{AppError, Result};

/// A borderless table with a header row, like kubectl's: easy to read and to grep.
pub fn table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(if results_is_terminal() {
            ContentArrangement::Dynamic
        } else {
            ContentArrangement::Disabled
        })
        .set_header(header);
    t
}

/// Where results go: stdout, except while a runner (`respond`) runs steps, whose results are
/// then its progress (stderr) and whose own result keeps stdout.
static RESULTS_TO_STDERR: AtomicBool = AtomicBool::new(false);

/// From now on, the results of steps go to stderr (the runner prints its own on stdout with
/// [`print_json_stdout`] and [`line_stdout`]).
pub fn send_results_to_stderr() {
    RESULTS_TO_STDERR.store(true, Ordering::Relaxed);
}

/// Whether a runner took stdout, and results go to stderr.
pub fn results_redirected() -> bool {
    RESULTS_TO_STDERR.load(Ordering::Relaxed)
}

/// The locked stream results are written to.
pub enum Results {
    Out(std::io::StdoutLock<'static>),
    Err(std::io::StderrLock<'static>),
}

impl Write for Results {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Results::Out(o) => o.write(buf),
            Results::Err(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Results::Out(o) => o.flush(),
            Results::Err(e) => e.flush(),
        }
    }
}

/// The stream for results, locked.
pub fn results() -> Results {
    if RESULTS_TO_STDERR.load(Ordering::Relaxed) {
        Results::Err(std::io::stderr().lock())
    } else {
        Results::Out(std::io::stdout().lock())
    }
}

/// Whether results reach a terminal (for colour and table layout).
pub fn results_is_terminal() -> bool {
    if RESULTS_TO_STDERR.load(Ordering::Relaxed) {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    }
}

/// Prints a JSON document on stdout, whatever [`send_results_to_stderr`] said.
pub fn print_json_stdout(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| AppError::failed(format!("cannot write JSON: {e}")))?;
    writeln!(out).map_err(AppError::from)
}

/// Prints a line on stdout, whatever [`send_results_to_stderr`] said.
pub fn line_stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
}

/// Prints a JSON document with the results.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = results();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| AppError::failed(format!("cannot write JSON: {e}")))?;
    writeln!(out).map_err(AppError::from)
}

/// Prints a line with the results.
pub fn line(s: &str) {
    let mut out = results();
    let _ = writeln!(out, "{s}");
}

/// Shortens a long string (user agents) to `max` characters with an ellipsis.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Prints a warning on stderr.
pub fn warn(msg: &str) {
    note(&format!("warning: {msg}"));
}

/// Prints progress or a notice on stderr: the one way atoctl writes to stderr (besides an
/// interactive prompt and the progress bar).
pub fn note(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "atoctl: {msg}");
}

/// Prints the error that ends the command: one line, `atoctl: error: …`.
pub fn error(e: &crate::error::AppError) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", e.line());
}

/// Prints a block of text for the operator on stderr (a table shown before a confirmation).
pub fn note_block(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// Server-supplied text made safe to show a person: control characters (escape sequences,
/// NUL, bidirectional overrides such as U+202E) escaped, and shortened to 300 characters.
pub fn clean(s: &str) -> String {
    shorten(&escape_controls(s), 300)
}

/// Escapes control and bidirectional-formatting characters as `\u{…}`; everything else is
/// kept.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(is_unsafe) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A control character, a bidirectional-formatting character or a line or paragraph
/// separator (U+2028, U+2029): not to be shown raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{61c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}
