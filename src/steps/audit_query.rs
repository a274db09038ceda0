//! `audit-query`: an identity's security events in a window, newest first, each with its flags.
//!
//! Two statements in one read-only snapshot: first the impossible-travel pairs (computed in
//! PostgreSQL with a window function over the located events; only the impossible pairs come
//! back), then the events themselves, streamed newest first in index order with `new-ip`
//! computed in SQL. Rows are written as they arrive, as a table or as one JSON document, so
//! memory stays flat however many rows match.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, BufWriter, Write};

use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::audit::{self, ReadTx, Window, db, queries};
use crate::cli::AuditQueryArgs;
use crate::context::{Ctx, parse_uuid};
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::output;

/// Below this distance two located events are never impossible travel: IP geolocation is
/// city-level at best, and neighbouring cities' centroids are tens of km apart.
pub const MIN_TRAVEL_KM: f64 = 50.0;
/// At most this many impossible pairs are kept for flagging (each is a few dozen bytes).
const TRAVEL_CAP: usize = 100_000;
/// At most this many flagged events go into the journal entry.
const JOURNAL_FLAGGED_CAP: usize = 10_000;
/// At most this many distinct new IPs are listed in the summary and the journal.
const NEW_IPS_CAP: usize = 1_000;

/// The flags, in the order they are shown.
pub const FLAGS: [&str; 8] = [
    "new-ip",
    "password-change",
    "settings-change",
    "email-change",
    "oauth2-grant",
    "mfa-change",
    "recovery",
    "impossible-travel",
];

/// The flag an event type carries by itself. `oidc.linked` (a new social sign-in attached to
/// the account, done in Kratos's settings flow) counts as a settings change.
pub fn type_flag(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "password.changed" => "password-change",
        "settings.changed" | "oidc.linked" => "settings-change",
        "email.changed" => "email-change",
        "oauth2.consent.granted" => "oauth2-grant",
        "mfa.enrolled" | "mfa.removed" => "mfa-change",
        "recovery.started" | "recovery.succeeded" => "recovery",
        _ => return None,
    })
}

/// One leg of an impossible journey, seen from the event it is attached to.
#[derive(Debug, Clone)]
struct Leg {
    /// The other event of the pair.
    with: i64,
    /// `from`: the other event came before this one; `to`: it came after.
    direction: &'static str,
    km: f64,
    secs: f64,
}

impl Leg {
    fn json(&self) -> Value {
        let kmh = (self.secs > 0.0).then(|| round1(self.km * 3600.0 / self.secs));
        json!({
            "with": self.with,
            "direction": self.direction,
            "km": round1(self.km),
            "hours": (self.secs / 3600.0 * 1000.0).round() / 1000.0,
            "kmh": kmh,
        })
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One event as streamed.
struct Event {
    id: i64,
    event_type: String,
    ip: Option<String>,
    user_agent: Option<String>,
    at: Timestamp,
    metadata: String,
    place: String,
    flags: Vec<&'static str>,
    travel: Vec<Leg>,
}

pub async fn run(ctx: &Ctx, a: &AuditQueryArgs) -> Result<Exit> {
    ctx.reject_ids_output("audit-query")?;
    let id = parse_uuid(&a.identity, "--identity")?;
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
    let filter = (!types.is_empty()).then_some(types.clone());
    let travel_q = queries::travel_pairs(
        &id,
        &window,
        a.max_speed,
        MIN_TRAVEL_KM,
        TRAVEL_CAP as i64 + 1,
    );
    let events_q = queries::events(&id, &window, filter.clone());
    if ctx.dry_run() {
        audit::print_plan(
            ctx,
            "audit-query",
            &[travel_q, events_q],
            &[format!(
                "flags other than new-ip and impossible-travel come from the event type; pairs closer than {MIN_TRAVEL_KM} km are never impossible travel"
            )],
        )?;
        return Ok(Exit::Ok);
    }
    let target = audit::target(ctx)?;
    let journal = ctx.journal_if_set(Some(&id), "audit-query")?;

    let result = query(ctx, &target, &id, &window, &travel_q, &events_q).await;
    let base = Entry::new("audit-query", Some(&id), Outcome::Ok)
        .with("window", window.json())
        .with("events_filter", &filter)
        .with("max_speed_kmh", a.max_speed)
        .with("database", &target.shown);
    match result {
        Ok(summary) => {
            if let Some(j) = &journal {
                let entry = base
                    .with("counts", summary.counts_json())
                    .with("new_ips", &summary.new_ips)
                    .with("flagged", &summary.flagged)
                    .with("flagged_truncated", summary.flagged_truncated)
                    .with("travel_truncated", summary.travel_truncated)
                    .with("output_complete", !summary.output_closed);
                j.append(&[entry])?;
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            if let Some(j) = &journal {
                let mut entry = base.with("error", e.line_plain());
                entry.outcome = Outcome::Failed;
                if let Err(je) = j.append(&[entry]) {
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

/// What the journal needs once the stream is done; bounded whatever the number of rows.
#[derive(Default)]
struct Summary {
    total: u64,
    flagged_events: u64,
    per_flag: BTreeMap<&'static str, u64>,
    per_type: BTreeMap<String, u64>,
    new_ips: BTreeSet<String>,
    flagged: Vec<Value>,
    flagged_truncated: bool,
    travel_truncated: bool,
    output_closed: bool,
}

impl Summary {
    fn add(&mut self, e: &Event) {
        self.total += 1;
        if self.per_type.len() < 1000 || self.per_type.contains_key(&e.event_type) {
            *self.per_type.entry(e.event_type.clone()).or_default() += 1;
        }
        for f in &e.flags {
            *self.per_flag.entry(f).or_default() += 1;
        }
        if e.flags.contains(&"new-ip")
            && let Some(ip) = &e.ip
            && self.new_ips.len() < NEW_IPS_CAP
        {
            self.new_ips.insert(ip.clone());
        }
        if !e.flags.is_empty() {
            self.flagged_events += 1;
            if self.flagged.len() < JOURNAL_FLAGGED_CAP {
                self.flagged.push(json!({
                    "id": e.id,
                    "type": e.event_type,
                    "time": time_json(e.at),
                    "ip": e.ip,
                    "user_agent": e.user_agent,
                    "place": (!e.place.is_empty()).then_some(&e.place),
                    "flags": e.flags,
                    "travel": (!e.travel.is_empty()).then(|| e.travel.iter().map(Leg::json).collect::<Vec<_>>()),
                }));
            } else {
                self.flagged_truncated = true;
            }
        }
    }

    fn counts_json(&self) -> Value {
        let flags: serde_json::Map<String, Value> = FLAGS
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    json!(self.per_flag.get(f).copied().unwrap_or(0)),
                )
            })
            .collect();
        json!({
            "events": self.total,
            "flagged": self.flagged_events,
            "flags": flags,
            "types": self.per_type,
        })
    }
}

fn time_json(t: Timestamp) -> String {
    format!("{t:.6}")
}

async fn query(
    ctx: &Ctx,
    target: &audit::Target,
    id: &str,
    window: &Window,
    travel_q: &audit::Query,
    events_q: &audit::Query,
) -> Result<Summary> {
    let mut client = db::connect(target, ctx.timeout).await?;
    let tx = ReadTx::begin(&mut client, ctx.timeout).await?;
    let mut summary = Summary::default();

    // Impossible travel: small answer (only the impossible pairs), held by event id.
    let mut travel: HashMap<i64, Vec<Leg>> = HashMap::new();
    let pairs = tx.all(travel_q).await?;
    if pairs.len() > TRAVEL_CAP {
        summary.travel_truncated = true;
        output::warn(&format!(
            "more than {TRAVEL_CAP} impossible-travel pairs: only the first {TRAVEL_CAP} are flagged"
        ));
    }
    for row in pairs.iter().take(TRAVEL_CAP) {
        let prev: i64 = db::get(row, 0)?;
        let next: i64 = db::get(row, 1)?;
        let km: f64 = db::get(row, 2)?;
        let secs: f64 = db::get(row, 3)?;
        travel.entry(next).or_default().push(Leg {
            with: prev,
            direction: "from",
            km,
            secs,
        });
        travel.entry(prev).or_default().push(Leg {
            with: next,
            direction: "to",
            km,
            secs,
        });
    }
    drop(pairs);

    let stdout = io::stdout();
    let mut sink = Sink::new(ctx, BufWriter::with_capacity(64 * 1024, stdout.lock()));
    sink.begin(id, window, events_q).map_err(out_err)?;
    {
        let rows = tx.stream(events_q).await?;
        futures::pin_mut!(rows);
        while let Some(row) = rows.next().await {
            let row = row?;
            let event = decode(&row, &mut travel)?;
            summary.add(&event);
            if let Err(e) = sink.event(&event) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    summary.output_closed = true;
                    break;
                }
                return Err(out_err(e));
            }
        }
    }
    tx.finish().await?;
    if !summary.output_closed
        && let Err(e) = sink.end(id, window, &summary)
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(out_err(e));
    }
    Ok(summary)
}

fn out_err(e: io::Error) -> AppError {
    AppError::failed(format!("cannot write to stdout: {e}"))
}

fn decode(row: &tokio_postgres::Row, travel: &mut HashMap<i64, Vec<Leg>>) -> Result<Event> {
    let id: i64 = db::get(row, 0)?;
    let event_type = db::text(row, 1)?.unwrap_or_default();
    let ip = db::text(row, 2)?;
    let user_agent = db::text(row, 3)?;
    let at_us: i64 = db::get(row, 4)?;
    let at = Timestamp::from_microsecond(at_us)
        .map_err(|e| AppError::failed(format!("event {id}: time out of range: {e}")))?;
    let metadata = db::text(row, 5)?.unwrap_or_else(|| "{}".into());
    let place = db::text(row, 6)?.unwrap_or_default();
    let new_ip: Option<bool> = db::get(row, 7)?;
    let email_field: Option<bool> = db::get(row, 8)?;
    let legs = travel.remove(&id).unwrap_or_default();
    let mut flags = Vec::new();
    if new_ip == Some(true) {
        flags.push("new-ip");
    }
    if let Some(f) = type_flag(&event_type) {
        flags.push(f);
    }
    if email_field == Some(true) && !flags.contains(&"email-change") {
        flags.push("email-change");
    }
    if !legs.is_empty() {
        flags.push("impossible-travel");
    }
    flags.sort_by_key(|f| FLAGS.iter().position(|x| x == f));
    Ok(Event {
        id,
        event_type,
        ip,
        user_agent,
        at,
        metadata,
        place,
        flags,
        travel: legs,
    })
}

/// Where rows go: one JSON document written piece by piece, or a table with fixed columns
/// (a table that waits for every row to size its columns could not stream).
struct Sink<W: Write> {
    out: W,
    json: bool,
    colour: bool,
    first: bool,
}

const UA_WIDTH: usize = 48;

impl<W: Write> Sink<W> {
    fn new(ctx: &Ctx, out: W) -> Self {
        Sink {
            out,
            json: ctx.json(),
            colour: console::colors_enabled()
                && std::io::IsTerminal::is_terminal(&std::io::stdout()),
            first: true,
        }
    }

    fn begin(&mut self, id: &str, w: &Window, q: &audit::Query) -> io::Result<()> {
        if self.json {
            let filter = q.params.get(4).map(|p| p.shown()).unwrap_or(Value::Null);
            write!(
                self.out,
                "{{\"identity\":{},\"window\":{},\"events_filter\":{},\"events\":[",
                json!(id),
                w.json(),
                filter
            )
        } else {
            writeln!(
                self.out,
                "events of {id} from {} to {} (UTC), newest first; new-ip against {} .. {}:",
                short(w.from),
                short(w.to),
                short(w.baseline_from),
                short(w.from)
            )?;
            writeln!(
                self.out,
                "  {:<19}  {:<22}  {:<15}  {:<20}  {:<28}  USER AGENT",
                "TIME", "EVENT", "IP", "PLACE", "FLAGS"
            )
        }
    }

    fn event(&mut self, e: &Event) -> io::Result<()> {
        if self.json {
            let out = &mut self.out;
            out.write_all(if self.first { b"\n" } else { b",\n" })?;
            self.first = false;
            write!(out, "{{\"id\":{},\"type\":", e.id)?;
            serde_json::to_writer(&mut *out, &e.event_type)?;
            write!(out, ",\"time\":\"{}\",\"ip\":", time_json(e.at))?;
            serde_json::to_writer(&mut *out, &e.ip)?;
            out.write_all(b",\"user_agent\":")?;
            serde_json::to_writer(&mut *out, &e.user_agent)?;
            out.write_all(b",\"metadata\":")?;
            out.write_all(e.metadata.as_bytes())?;
            out.write_all(b",\"flags\":")?;
            serde_json::to_writer(&mut *out, &e.flags)?;
            if !e.travel.is_empty() {
                out.write_all(b",\"travel\":")?;
                serde_json::to_writer(
                    &mut *out,
                    &e.travel.iter().map(Leg::json).collect::<Vec<_>>(),
                )?;
            }
            out.write_all(b"}")
        } else {
            let flagged = !e.flags.is_empty();
            let ua = e
                .user_agent
                .as_deref()
                .map(|u| output::shorten(&audit::printable(u), UA_WIDTH))
                .unwrap_or_else(|| "-".into());
            let place = if e.place.is_empty() {
                "-".to_string()
            } else {
                output::shorten(&audit::printable(&e.place), 20)
            };
            let line = format!(
                "{} {:<19}  {:<22}  {:<15}  {:<20}  {:<28}  {}",
                if flagged { '!' } else { ' ' },
                short(e.at),
                output::shorten(&audit::printable(&e.event_type), 22),
                e.ip.as_deref().unwrap_or("-"),
                place,
                if flagged {
                    e.flags.join(",")
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
    }

    fn end(&mut self, id: &str, w: &Window, s: &Summary) -> io::Result<()> {
        if self.json {
            write!(
                self.out,
                "\n],\"counts\":{},\"new_ips\":{},\"travel_truncated\":{}}}\n",
                s.counts_json(),
                json!(s.new_ips),
                s.travel_truncated
            )?;
        } else if s.total == 0 {
            writeln!(
                self.out,
                "no events of {id} between {} and {} (is the identity id right? is the window wide enough?)",
                short(w.from),
                short(w.to)
            )?;
        } else {
            let per_flag: Vec<String> = FLAGS
                .iter()
                .filter_map(|f| s.per_flag.get(f).map(|n| format!("{f} {n}")))
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
                let ips: Vec<&str> = s.new_ips.iter().map(String::as_str).collect();
                writeln!(self.out, "new IPs: {}", ips.join(" "))?;
            }
        }
        self.out.flush()
    }
}

/// `2026-11-25 01:55:08` (UTC).
fn short(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_flag_is_a_contract_flag() {
        for t in audit::KNOWN_EVENTS {
            if let Some(f) = type_flag(t) {
                assert!(FLAGS.contains(&f), "{t} -> {f}");
            }
        }
        assert_eq!(type_flag("login.succeeded"), None);
        assert_eq!(type_flag("mfa.removed"), Some("mfa-change"));
    }

    #[test]
    fn legs_report_speed_or_null_for_zero_time() {
        let l = Leg {
            with: 1,
            direction: "from",
            km: 880.04,
            secs: 1800.0,
        };
        assert_eq!(l.json()["kmh"], json!(1760.1));
        let l = Leg { secs: 0.0, ..l };
        assert_eq!(l.json()["kmh"], Value::Null);
    }
}
