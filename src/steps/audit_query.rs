//! `audit-query`: an identity's security events in a window, newest first, each with its flags.
//!
//! The step is the thin side of a searcher/printer split (ripgrep's): it checks the flags, opens
//! the read-only snapshot and hands it to the engine, [`audit::timeline`], which streams the
//! flagged events into one of the step's two sinks, a table for people or one JSON document for
//! scripts. Both sinks count what the journal entry and the closing summary need while they
//! write, so memory stays flat however many events match; how the events are read, batched and
//! paired for impossible travel is the engine's and is not repeated here.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::audit::flags::Flag;
use crate::audit::timeline::{Column, Control, FlaggedEvent, Leg, Sink, Timeline};
use crate::audit::{self, ReadTx, Window};
use crate::cli::AuditQueryArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::output;

/// At most this many flagged events go into the journal entry.
const JOURNAL_FLAGGED_CAP: usize = 10_000;
/// At most this many distinct new IPs are listed in the summary and the journal.
const NEW_IPS_CAP: usize = 1_000;
/// User agents are shortened to this many characters in the table.
const UA_WIDTH: usize = 48;

pub async fn run(ctx: &Ctx, a: &AuditQueryArgs) -> Result<Exit> {
    ctx.reject_ids_output("audit-query")?;
    let window = Window::resolve(
        Timestamp::now(),
        a.since.as_deref(),
        a.from.as_deref(),
        a.to.as_deref(),
        &a.baseline,
    )?;
    let mut types: Vec<String> = Vec::new();
    for e in &a.events {
        if let Some(warning) = audit::check_event_type(e)? {
            output::warn(&warning);
        }
        if !types.contains(e) {
            types.push(e.clone());
        }
    }
    if !(a.max_speed.is_finite() && a.max_speed > 0.0) {
        return Err(AppError::usage(format!(
            "--max-speed {} is not a speed in km/h above zero",
            a.max_speed
        )));
    }
    let filter = (!types.is_empty()).then_some(types);
    let found = super::life::identity_id(ctx, &a.identity).await?;
    let id = found.id.to_string();
    let timeline = Timeline::new(&id, &window, filter.clone(), a.max_speed);
    if ctx.dry_run() {
        let (queries, notes) = timeline.plan();
        audit::print_plan(ctx, "audit-query", &queries, &notes)?;
        return Ok(Exit::Ok);
    }
    let target = audit::target(ctx)?;
    let journal = ctx.journal_if_set(Some(&id), "audit-query")?;
    // The place is shown in the table and recorded in the journal; JSON carries the metadata.
    let timeline = timeline.with_places(!ctx.json() || journal.is_some());

    let head = Head {
        identity: &id,
        window: &window,
        filter: &filter,
    };
    let result = query(ctx, &target, &timeline, head, journal.is_some()).await;
    let mut base = Entry::new("audit-query", Some(&id), Outcome::Ok)
        .with("window", window.json())
        .with("events_filter", &filter)
        .with("max_speed_kmh", a.max_speed)
        .with("database", &target.shown);
    found.record(&mut base);
    match result {
        Ok(summary) => {
            if let Some(j) = &journal {
                let entry = base
                    .with("counts", summary.counts_json())
                    .with("new_ips", summary.new_ips_text())
                    .with("flagged", &summary.flagged)
                    .with("flagged_truncated", summary.flagged_truncated)
                    // Pairs are no longer held in memory, so none is ever left out.
                    .with("travel_truncated", false)
                    .with("output_complete", !summary.output_closed);
                j.append([entry])?;
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            if let Some(j) = &journal {
                let mut entry = base.with("error", e.line_plain());
                entry.outcome = Outcome::Failed;
                if let Err(je) = j.append([entry]) {
                    output::warn(&format!(
                        "could not record the failure: {}",
                        je.line_plain()
                    ));
                }
            }
            Err(e)
        }
    }
}

/// Streams the timeline from one read-only snapshot into the sink of the output format.
async fn query(
    ctx: &Ctx,
    target: &audit::Target,
    timeline: &Timeline,
    head: Head<'_>,
    journal: bool,
) -> Result<Summary> {
    let tx = ReadTx::open(target, ctx.timeout).await?;
    let out = BufWriter::with_capacity(256 * 1024, crate::output::results());
    let summary = Summary {
        keep_flagged: journal,
        ..Summary::default()
    };
    if ctx.json() {
        let mut sink = JsonWriter {
            out,
            head,
            summary,
            first: true,
            time: audit::TimeWriter::default(),
        };
        timeline.stream(tx, &mut sink).await?;
        Ok(sink.summary)
    } else {
        let mut sink = TableWriter {
            out,
            head,
            summary,
            colour: console::colors_enabled() && crate::output::results_is_terminal(),
        };
        timeline.stream(tx, &mut sink).await?;
        Ok(sink.summary)
    }
}

/// What the output says about the query before its events.
#[derive(Clone, Copy)]
struct Head<'a> {
    identity: &'a str,
    window: &'a Window,
    filter: &'a Option<Vec<String>>,
}

/// What the journal and the output's end need once the stream is done; bounded whatever the
/// number of events.
#[derive(Default)]
struct Summary {
    total: u64,
    flagged_events: u64,
    per_flag: [u64; Flag::ALL.len()],
    per_type: BTreeMap<String, u64>,
    /// The first `NEW_IPS_CAP` distinct new IPs.
    new_ips: BTreeSet<IpAddr>,
    /// Keep the flagged events (for the journal).
    keep_flagged: bool,
    flagged: Vec<Value>,
    flagged_truncated: bool,
    output_closed: bool,
}

impl Summary {
    fn add(&mut self, e: &FlaggedEvent) {
        self.total += 1;
        let event_type = e.event_type();
        if let Some(n) = self.per_type.get_mut(event_type.as_ref()) {
            *n += 1;
        } else if self.per_type.len() < 1000 {
            self.per_type.insert(event_type.to_string(), 1);
        }
        let flags = e.flags();
        if flags.is_empty() {
            return;
        }
        for f in flags.iter() {
            self.per_flag[f as usize] += 1;
        }
        if flags.contains(Flag::NewIp)
            && let Some(ip) = e.ip()
            && self.new_ips.len() < NEW_IPS_CAP
        {
            self.new_ips.insert(ip);
        }
        self.flagged_events += 1;
        if self.flagged.len() >= JOURNAL_FLAGGED_CAP {
            self.flagged_truncated = true;
        } else if self.keep_flagged {
            let place = e.place();
            let travel = e.travel();
            self.flagged.push(json!({
                "id": e.id(),
                "type": event_type,
                "time": audit::time_text(e.at_us()),
                "ip": e.ip().map(audit::host_text),
                "user_agent": e.user_agent(),
                "place": (!place.is_empty()).then_some(place),
                "flags": flags.names().collect::<Vec<_>>(),
                "travel": (!travel.is_empty()).then(|| travel.iter().map(leg_json).collect::<Vec<_>>()),
            }));
        }
    }

    /// What a write means for the stream: a closed pipe (the reader went away) stops it quietly
    /// and is noted; any other write error is the step's error.
    fn written(&mut self, written: io::Result<()>) -> Result<Control> {
        match written {
            Ok(()) => Ok(Control::Continue),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.output_closed = true;
                Ok(Control::Stop)
            }
            Err(e) => Err(out_err(e)),
        }
    }

    /// The new IPs as text, in text order.
    fn new_ips_text(&self) -> BTreeSet<String> {
        self.new_ips
            .iter()
            .map(|ip| audit::host_text(*ip))
            .collect()
    }

    fn counts_json(&self) -> Value {
        let flags: serde_json::Map<String, Value> = Flag::ALL
            .iter()
            .zip(self.per_flag)
            .map(|(f, n)| (f.name().to_string(), json!(n)))
            .collect();
        json!({
            "events": self.total,
            "flagged": self.flagged_events,
            "flags": flags,
            "types": self.per_type,
        })
    }
}

/// A leg of an impossible journey as the JSON output and the journal show it.
fn leg_json(l: &Leg) -> Value {
    json!({
        "with": l.with,
        "direction": l.direction.as_str(),
        "km": round1(l.km),
        "hours": (l.secs / 3600.0 * 1000.0).round() / 1000.0,
        "kmh": l.kmh().map(round1),
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn out_err(e: io::Error) -> AppError {
    AppError::failed(format!("cannot write to stdout: {e}"))
}

/// `-o json`: one document, written piece by piece as the events arrive
/// (`{"identity","window","events_filter","events":[…],"counts","new_ips"}`). Text the
/// database sent as valid UTF-8 that needs no escape is copied as it came.
struct JsonWriter<'a, W: Write> {
    out: W,
    head: Head<'a>,
    summary: Summary,
    first: bool,
    time: audit::TimeWriter,
}

impl<W: Write> JsonWriter<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        let h = self.head;
        write!(
            self.out,
            "{{\"identity\":{},\"window\":{},\"events_filter\":{},\"events\":[",
            json!(h.identity),
            h.window.json(),
            json!(h.filter)
        )
    }

    fn event(&mut self, e: &FlaggedEvent) -> io::Result<()> {
        let out = &mut self.out;
        out.write_all(if self.first {
            b"\n{\"id\":"
        } else {
            b",\n{\"id\":"
        })?;
        self.first = false;
        out.write_all(itoa::Buffer::new().format(e.id()).as_bytes())?;
        out.write_all(b",\"type\":")?;
        write_text(out, e, Column::EventType)?;
        out.write_all(b",\"time\":\"")?;
        self.time.write(out, e.at_us())?;
        out.write_all(b"\",\"ip\":")?;
        match e.ip() {
            Some(ip) => {
                // An address never needs escaping.
                out.write_all(b"\"")?;
                audit::write_host(out, ip)?;
                out.write_all(b"\"")?;
            }
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"user_agent\":")?;
        write_text(out, e, Column::UserAgent)?;
        out.write_all(b",\"metadata\":")?;
        match e.raw(Column::Metadata) {
            Some(bytes) if e.is_utf8() => out.write_all(bytes)?,
            _ => out.write_all(e.metadata().as_bytes())?,
        }
        out.write_all(b",\"flags\":[")?;
        for (i, f) in e.flags().names().enumerate() {
            // Flags are fixed ASCII words: nothing to escape.
            out.write_all(if i == 0 { b"\"" } else { b",\"" })?;
            out.write_all(f.as_bytes())?;
            out.write_all(b"\"")?;
        }
        out.write_all(b"]")?;
        let travel = e.travel();
        if !travel.is_empty() {
            out.write_all(b",\"travel\":")?;
            serde_json::to_writer(&mut *out, &travel.iter().map(leg_json).collect::<Vec<_>>())?;
        }
        out.write_all(b"}")
    }

    fn end(&mut self) -> io::Result<()> {
        let s = &self.summary;
        write!(
            self.out,
            "\n],\"counts\":{},\"new_ips\":{},\"travel_truncated\":false}}\n",
            s.counts_json(),
            json!(s.new_ips_text()),
        )?;
        self.out.flush()
    }
}

impl<W: Write> Sink for JsonWriter<'_, W> {
    type Error = AppError;

    fn begin(&mut self) -> Result<()> {
        JsonWriter::begin(self).map_err(out_err)
    }

    fn event(&mut self, e: &FlaggedEvent) -> Result<Control> {
        self.summary.add(e);
        let written = JsonWriter::event(self, e);
        self.summary.written(written)
    }

    fn finish(&mut self) -> Result<()> {
        let written = self.end();
        self.summary.written(written).map(drop)
    }
}

/// Writes a text column as a JSON string (or `null`).
fn write_text(out: &mut impl Write, e: &FlaggedEvent, col: Column) -> io::Result<()> {
    match e.raw(col) {
        None => out.write_all(b"null"),
        Some(bytes) if e.is_utf8() && !needs_escape(bytes) => {
            out.write_all(b"\"")?;
            out.write_all(bytes)?;
            out.write_all(b"\"")
        }
        Some(_) => Ok(serde_json::to_writer(
            out,
            e.text(col).unwrap_or_default().as_ref(),
        )?),
    }
}

/// Whether a JSON string needs escapes (a control character, a quote, a backslash): the test
/// serde_json applies, done without branches so that it runs on whole words.
fn needs_escape(s: &[u8]) -> bool {
    s.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// The table: fixed columns, so that it streams (a table that waits for every row to size its
/// columns could not). Flagged rows start with `!` and are red on a terminal.
struct TableWriter<'a, W: Write> {
    out: W,
    head: Head<'a>,
    summary: Summary,
    colour: bool,
}

impl<W: Write> TableWriter<'_, W> {
    fn begin(&mut self) -> io::Result<()> {
        let w = self.head.window;
        writeln!(
            self.out,
            "events of {} from {} to {} (UTC), newest first; new-ip against {} .. {}:",
            self.head.identity,
            audit::short_time(w.from.as_microsecond()),
            audit::short_time(w.to.as_microsecond()),
            audit::short_time(w.baseline_from.as_microsecond()),
            audit::short_time(w.from.as_microsecond())
        )?;
        writeln!(
            self.out,
            "  {:<19}  {:<22}  {:<15}  {:<20}  {:<28}  USER AGENT",
            "TIME", "EVENT", "IP", "PLACE", "FLAGS"
        )
    }

    fn event(&mut self, e: &FlaggedEvent) -> io::Result<()> {
        let flags = e.flags();
        let flagged = !flags.is_empty();
        let ua = e
            .user_agent()
            .map(|u| output::shorten(&audit::printable(&u), UA_WIDTH))
            .unwrap_or_else(|| "-".into());
        let place = if e.place().is_empty() {
            "-".to_string()
        } else {
            output::shorten(&audit::printable(e.place()), 20)
        };
        let at = audit::short_time(e.at_us());
        let ip = e.ip().map(audit::host_text);
        let line = format!(
            "{} {:<19}  {:<22}  {:<15}  {:<20}  {:<28}  {}",
            if flagged { '!' } else { ' ' },
            at,
            output::shorten(&audit::printable(&e.event_type()), 22),
            ip.as_deref().unwrap_or("-"),
            place,
            if flagged {
                flags.names().collect::<Vec<_>>().join(",")
            } else {
                "-".into()
            },
            ua
        );
        if flagged && self.colour {
            writeln!(self.out, "{}", console::style(line).red().bold())
        } else {
            writeln!(self.out, "{line}")
        }
    }

    fn end(&mut self) -> io::Result<()> {
        let (s, w) = (&self.summary, self.head.window);
        if s.total == 0 {
            writeln!(
                self.out,
                "no events of {} between {} and {} (is the identity id right? is the window wide enough?)",
                self.head.identity,
                audit::short_time(w.from.as_microsecond()),
                audit::short_time(w.to.as_microsecond())
            )?;
        } else {
            let per_flag: Vec<String> = Flag::ALL
                .iter()
                .zip(s.per_flag)
                .filter(|(_, n)| *n > 0)
                .map(|(f, n)| format!("{} {n}", f.name()))
                .collect();
            writeln!(
                self.out,
                "{} event(s); {} flagged{}{}",
                s.total,
                s.flagged_events,
                if per_flag.is_empty() { "" } else { ": " },
                per_flag.join(", ")
            )?;
            if !s.new_ips.is_empty() {
                let new_ips = s.new_ips_text();
                let ips: Vec<&str> = new_ips.iter().map(String::as_str).collect();
                writeln!(self.out, "new IPs: {}", ips.join(" "))?;
            }
        }
        self.out.flush()
    }
}

impl<W: Write> Sink for TableWriter<'_, W> {
    type Error = AppError;

    fn begin(&mut self) -> Result<()> {
        TableWriter::begin(self).map_err(out_err)
    }

    fn event(&mut self, e: &FlaggedEvent) -> Result<Control> {
        self.summary.add(e);
        let written = TableWriter::event(self, e);
        self.summary.written(written)
    }

    fn finish(&mut self) -> Result<()> {
        let written = self.end();
        self.summary.written(written).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::timeline::Direction;

    #[test]
    fn legs_report_speed_or_null_for_zero_time() {
        let l = Leg {
            with: 1,
            direction: Direction::From,
            km: 880.04,
            secs: 1800.0,
        };
        let j = leg_json(&l);
        assert_eq!(j["kmh"], json!(1760.1));
        assert_eq!(j["km"], json!(880.0));
        assert_eq!(j["hours"], json!(0.5));
        assert_eq!(j["direction"], "from");
        let l = Leg { secs: 0.0, ..l };
        assert_eq!(leg_json(&l)["kmh"], Value::Null);
    }

    #[test]
    fn json_strings_that_need_escapes_are_told_apart() {
        assert!(!needs_escape(b"Mozilla/5.0 (X11) \xe2\x98\x83"));
        assert!(needs_escape(b"say \"hi\""));
        assert!(needs_escape(b"back\\slash"));
        assert!(needs_escape(b"bell\x07"));
    }
}
