//! `audit-query`: an identity's security events in a window, newest first, each with its flags.
//!
//! One pass in one read-only snapshot: a cursor over the identity's events, newest first, read
//! by PostgreSQL from the index in order (no sort) with `new-ip` computed in SQL, fetched in
//! batches. atoctl derives the other flags as rows arrive: the type flags, and impossible travel
//! between consecutive located events (the coordinates come from the `metadata` text the
//! output carries anyway). An event's partner in a pair can be the next row, so a located event
//! waits, with the rows after it, for the next located one, usually a few rows later, in the
//! same batch or the next (each FETCH is sent while the previous batch is written); when it has
//! waited through a whole further batch, a small index query finds its partner instead, so what
//! waits is never more than two batches. Rows are written as they are released, as a table or
//! as one JSON document: memory stays flat however many rows match.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::pin::Pin;
use std::task::Poll;

use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio_postgres::Statement;

use crate::audit::travel::{self, Located};
use crate::audit::{self, ReadTx, Window, db, queries};
use crate::cli::AuditQueryArgs;
use crate::context::{Ctx, parse_uuid};
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::output;

/// Below this distance two located events are never impossible travel: IP geolocation is
/// city-level at best, and neighbouring cities' centroids are tens of km apart.
pub const MIN_TRAVEL_KM: f64 = 50.0;
/// At most this many flagged events go into the journal entry.
const JOURNAL_FLAGGED_CAP: usize = 10_000;
/// At most this many distinct new IPs are listed in the summary and the journal.
const NEW_IPS_CAP: usize = 1_000;
/// The server-side cursor over the events.
const CURSOR: &str = "atoctl_events";
/// Rows per FETCH: the first batch is small so that a table starts at once; later batches
/// aim at `BATCH_BYTES` of row data (a power of two between the bounds), which also bounds what
/// waits for impossible travel.
const FIRST_BATCH: u32 = 256;
const MAX_BATCH: u32 = 16_384;
const BATCH_BYTES: usize = 4 << 20;
/// Candidates read per query when looking for the located event before a batch's last one
/// (growing eightfold up to the maximum while none is located).
const PARTNER_FIRST: i64 = 8;
const PARTNER_MAX: i64 = 4096;

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

/// One event as streamed. Its text columns stay in the row PostgreSQL sent (read when the
/// event is written): nothing is copied per event.
struct Event {
    row: tokio_postgres::Row,
    id: i64,
    ip: Option<IpAddr>,
    /// Microseconds since the Unix epoch (checked to be a time jiff can show).
    at_us: i64,
    /// Every flag but impossible-travel (which waits for the legs): bit i is `FLAGS[i]`.
    flags: u8,
    travel: Vec<Leg>,
    /// Passes `--event` (the others only take part in impossible travel).
    shown: bool,
    located: Option<Located>,
    /// `city, country`, only when it is shown (table, journal).
    place: String,
    /// Every text column is valid UTF-8 (then JSON is written from the bytes as sent).
    utf8: bool,
}

/// Columns of [`queries::events`].
const COL_TYPE: usize = 1;
const COL_IP: usize = 2;
const COL_UA: usize = 3;
const COL_TIME: usize = 4;
const COL_METADATA: usize = 5;

impl Event {
    fn event_type(&self) -> Cow<'_, str> {
        db::text_ref(&self.row, COL_TYPE).unwrap_or_default()
    }
    /// The IP as PostgreSQL's `host()` shows it.
    fn ip(&self) -> Option<String> {
        self.ip.map(audit::host_text)
    }
    fn user_agent(&self) -> Option<Cow<'_, str>> {
        db::text_ref(&self.row, COL_UA)
    }
    fn metadata(&self) -> Cow<'_, str> {
        db::text_ref(&self.row, COL_METADATA).unwrap_or(Cow::Borrowed("{}"))
    }
    /// Writes a text column as a JSON string (or `null`).
    fn write_json(&self, out: &mut impl Write, col: usize) -> io::Result<()> {
        match db::raw_text(&self.row, col) {
            None => out.write_all(b"null"),
            Some(bytes) if self.utf8 && !needs_escape(bytes) => {
                out.write_all(b"\"")?;
                out.write_all(bytes)?;
                out.write_all(b"\"")
            }
            Some(_) => Ok(serde_json::to_writer(
                out,
                db::text_ref(&self.row, col).unwrap_or_default().as_ref(),
            )?),
        }
    }

    fn has(&self, flag: usize) -> bool {
        self.flags & (1 << flag) != 0
    }
    fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        FLAGS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.has(*i))
            .map(|(_, f)| *f)
    }
}

/// Whether a JSON string needs escapes (a control character, a quote, a backslash): the test
/// serde_json applies, done without branches so that it runs on whole words.
fn needs_escape(s: &[u8]) -> bool {
    s.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Index of a flag in [`FLAGS`].
fn flag_bit(flag: &str) -> usize {
    FLAGS.iter().position(|f| *f == flag).unwrap_or(0)
}
const NEW_IP: usize = 0;
const EMAIL_CHANGE: usize = 3;
const IMPOSSIBLE_TRAVEL: usize = 7;

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
    let events_q = queries::events(&id, &window, filter.clone());
    if ctx.dry_run() {
        let declare = audit::Query {
            purpose: events_q.purpose.clone(),
            sql: db::declare_sql(CURSOR, &events_q),
            params: events_q.params.clone(),
        };
        let fetch = audit::Query {
            purpose: format!(
                "read the cursor in batches of {FIRST_BATCH} to {MAX_BATCH} rows, until it is exhausted"
            ),
            sql: format!("FETCH FORWARD <n> FROM {CURSOR}"),
            params: Vec::new(),
        };
        let partner = queries::travel_partner(
            &id,
            &window,
            queries::Param::Text("<time of the oldest located event so far>".into()),
            queries::Param::Text("<its id>".into()),
            queries::Param::Int(PARTNER_FIRST),
        );
        audit::print_plan(
            ctx,
            "audit-query",
            &[declare, fetch, partner],
            &[
                "work_mem is set to 64MB for the transaction before the cursor, so that the baseline's IPs are hashed however many there are".into(),
                format!(
                    "flags other than new-ip come from the event type and the metadata; impossible travel pairs consecutive located events (statement 3 after a batch whose oldest located event waits, and at the end); pairs closer than {MIN_TRAVEL_KM} km are never impossible travel"
                ),
            ],
        )?;
        return Ok(Exit::Ok);
    }
    let target = audit::target(ctx)?;
    let journal = ctx.journal_if_set(Some(&id), "audit-query")?;

    let result = query(
        ctx,
        &target,
        &id,
        &window,
        &events_q,
        a.max_speed,
        journal.is_some(),
    )
    .await;
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

/// What the journal needs once the stream is done; bounded whatever the number of rows.
#[derive(Default)]
struct Summary {
    total: u64,
    flagged_events: u64,
    per_flag: [u64; FLAGS.len()],
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
    fn add(&mut self, e: &Event) {
        self.total += 1;
        let event_type = e.event_type();
        if let Some(n) = self.per_type.get_mut(event_type.as_ref()) {
            *n += 1;
        } else if self.per_type.len() < 1000 {
            self.per_type.insert(event_type.to_string(), 1);
        }
        if e.flags == 0 {
            return;
        }
        for (i, n) in self.per_flag.iter_mut().enumerate() {
            if e.has(i) {
                *n += 1;
            }
        }
        if e.has(NEW_IP)
            && let Some(ip) = e.ip
            && self.new_ips.len() < NEW_IPS_CAP
        {
            self.new_ips.insert(ip);
        }
        self.flagged_events += 1;
        if self.flagged.len() >= JOURNAL_FLAGGED_CAP {
            self.flagged_truncated = true;
        } else if self.keep_flagged {
            self.flagged.push(json!({
                "id": e.id,
                "type": event_type,
                "time": audit::time_text(e.at_us),
                "ip": e.ip(),
                "user_agent": e.user_agent(),
                "place": (!e.place.is_empty()).then_some(&e.place),
                "flags": e.flag_names().collect::<Vec<_>>(),
                "travel": (!e.travel.is_empty()).then(|| e.travel.iter().map(Leg::json).collect::<Vec<_>>()),
            }));
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
        let flags: serde_json::Map<String, Value> = FLAGS
            .iter()
            .zip(self.per_flag)
            .map(|(f, n)| (f.to_string(), json!(n)))
            .collect();
        json!({
            "events": self.total,
            "flagged": self.flagged_events,
            "flags": flags,
            "types": self.per_type,
        })
    }
}

/// Events in, events out in the same order, with impossible travel attached. A located event
/// is held back (`pending`, with the rows after it in `gap`) until the located event before it
/// is known: the next located row, or the answer of [`partner`] at the end of a batch.
struct Pipeline<W: Write> {
    sink: Sink<W>,
    summary: Summary,
    max_speed: f64,
    /// The last located event seen: the nearest newer one for the next located event.
    newer: Option<Located>,
    pending: Option<Event>,
    /// The batch the pending event came in.
    pending_batch: u32,
    gap: Vec<Event>,
    /// The batch being read (1, 2, …).
    batch: u32,
}

impl<W: Write> Pipeline<W> {
    fn push(&mut self, mut e: Event) -> io::Result<()> {
        if let Some(here) = e.located {
            self.link(&here, Some(&mut e.travel));
            self.release()?;
            self.newer = Some(here);
            if e.shown {
                self.pending = Some(e);
                self.pending_batch = self.batch;
            }
            return Ok(());
        }
        if !e.shown {
            return Ok(());
        }
        if self.pending.is_some() {
            self.gap.push(e);
            Ok(())
        } else {
            self.emit(e)
        }
    }

    /// The batch of the pending event, when one waits.
    fn waiting_since(&self) -> Option<u32> {
        self.pending.as_ref().map(|_| self.pending_batch)
    }

    /// The pending event's time and id, when one waits.
    fn waiting(&self) -> Option<(i64, i64)> {
        self.pending.as_ref().map(|p| (p.at_us, p.id))
    }

    /// The located event before the pending one is `older` (or there is none): release it.
    fn resolve(&mut self, older: Option<Located>) -> io::Result<()> {
        if let Some(older) = older {
            self.link(&older, None);
        }
        self.release()
    }

    /// Pairs the located event `older` with the nearest newer one (`self.newer`). On an
    /// impossible trip, `older_legs` (the older event's legs, when it is read now) gets the
    /// "to" leg, and the pending event, when it is that newer one, the "from" leg. (A pending
    /// event is always `newer`: any located row after it releases it.)
    fn link(&mut self, older: &Located, older_legs: Option<&mut Vec<Leg>>) {
        let Some(newer) = self.newer else { return };
        let Some((km, secs)) = travel::impossible(older, &newer, self.max_speed, MIN_TRAVEL_KM)
        else {
            return;
        };
        if let Some(legs) = older_legs {
            legs.push(Leg {
                with: newer.id,
                direction: "to",
                km,
                secs,
            });
        }
        if let Some(p) = self.pending.as_mut().filter(|p| p.id == newer.id) {
            p.travel.push(Leg {
                with: older.id,
                direction: "from",
                km,
                secs,
            });
        }
    }

    fn release(&mut self) -> io::Result<()> {
        if let Some(p) = self.pending.take() {
            self.emit(p)?;
            let gap = std::mem::take(&mut self.gap);
            for e in gap {
                self.emit(e)?;
            }
        }
        Ok(())
    }

    fn emit(&mut self, mut e: Event) -> io::Result<()> {
        if !e.travel.is_empty() {
            e.flags |= 1 << IMPOSSIBLE_TRAVEL;
            // In the order of the pairs' newer events' ids, as the pairs used to be listed.
            let id = e.id;
            e.travel
                .sort_by_key(|l| if l.direction == "from" { id } else { l.with });
        }
        self.summary.add(&e);
        self.sink.event(&e)
    }
}

async fn query(
    ctx: &Ctx,
    target: &audit::Target,
    id: &str,
    window: &Window,
    events_q: &audit::Query,
    max_speed: f64,
    journal: bool,
) -> Result<Summary> {
    let mut client = db::connect(target, ctx.timeout).await?;
    let tx = ReadTx::begin(&mut client, ctx.timeout).await?;
    // The baseline's distinct IPs must be hashed whatever the planner estimates their number
    // to be (the alternative rescans them for every event).
    tx.set_local("work_mem", "64MB").await?;

    let stdout = io::stdout();
    let want_place = !ctx.json() || journal;
    let mut p = Pipeline {
        sink: Sink::new(ctx, BufWriter::with_capacity(256 * 1024, stdout.lock())),
        summary: Summary {
            keep_flagged: journal,
            ..Summary::default()
        },
        max_speed,
        newer: None,
        pending: None,
        pending_batch: 0,
        gap: Vec::new(),
        batch: 0,
    };
    p.sink.begin(id, window, events_q).map_err(out_err)?;
    tx.declare(CURSOR, events_q).await?;
    // Every batch size the loop may ask for (the powers of two from FIRST_BATCH to MAX_BATCH),
    // prepared now, in one round trip: nothing can be prepared while the rows of a FETCH are
    // arriving. They all read the same cursor, so one has its columns checked.
    let sizes: Vec<u32> = std::iter::successors(Some(FIRST_BATCH), |s| Some(s * 2))
        .take_while(|s| *s <= MAX_BATCH)
        .collect();
    let fetches: Vec<Statement> =
        futures::future::try_join_all(sizes.iter().map(|&n| tx.prepare_fetch(CURSOR, n))).await?;
    if let Some(f) = fetches.first() {
        db::check_text(f.columns(), &[COL_TYPE, COL_UA, COL_METADATA])?;
    }
    let fetch_of = |size: u32| {
        sizes
            .iter()
            .position(|&n| n == size)
            .map(|i| &fetches[i])
            .ok_or_else(|| AppError::failed(format!("no FETCH prepared for {size} rows")))
    };
    let (mut seen_rows, mut seen_bytes) = (0usize, 0usize);
    let mut asked = FIRST_BATCH;
    let mut next = Some(Sent::send(tx.fetch(fetch_of(asked)?)).await);
    // The next FETCH is sent as soon as the rows of the current one no longer wait for an
    // earlier batch, so that PostgreSQL reads on while atoctl writes. When an event of an
    // earlier batch still waits at the end of a batch (a long run of unlocated events), the
    // located event before it is looked up instead, with no FETCH under way.
    'batches: while let Some(sent) = next.take() {
        p.batch += 1;
        let this_batch = asked;
        let mut rows = 0u32;
        let stream = sent.answer().await?;
        futures::pin_mut!(stream);
        while let Some(row) = stream.next().await {
            let row = row?;
            rows += 1;
            seen_rows += 1;
            seen_bytes += row.raw_size_bytes();
            let event = decode(row, want_place)?;
            if closed(p.push(event), &mut p.summary)? {
                break 'batches;
            }
            if next.is_none() && p.waiting_since().is_none_or(|b| b == p.batch) {
                asked = batch_size(seen_rows, seen_bytes);
                next = Some(Sent::send(tx.fetch(fetch_of(asked)?)).await);
            }
        }
        if next.is_some() {
            continue;
        }
        if let Some(before) = p.waiting() {
            let older = partner(&tx, id, window, before).await?;
            if closed(p.resolve(older), &mut p.summary)? {
                break;
            }
        }
        if rows < this_batch {
            break;
        }
        asked = batch_size(seen_rows, seen_bytes);
        next = Some(Sent::send(tx.fetch(fetch_of(asked)?)).await);
    }
    // A FETCH still under way (the output was closed) is dropped with the transaction.
    drop(next);
    tx.finish().await?;
    let Pipeline {
        mut sink,
        mut summary,
        ..
    } = p;
    if !summary.output_closed {
        closed(sink.end(id, window, &summary), &mut summary)?;
    }
    Ok(summary)
}

/// Whether a write found the reader gone (a closed pipe: noted in `summary`, the step ends
/// quietly); any other write error is the step's error.
fn closed(written: io::Result<()>, summary: &mut Summary) -> Result<bool> {
    match written {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            summary.output_closed = true;
            Ok(true)
        }
        Err(e) => Err(out_err(e)),
    }
}

/// Rows for the next FETCH: about `BATCH_BYTES` at the mean row size so far, a power of two
/// between `FIRST_BATCH` and `MAX_BATCH`.
fn batch_size(rows: usize, bytes: usize) -> u32 {
    let per_row = (bytes / rows.max(1)).max(1);
    u32::try_from(BATCH_BYTES / per_row)
        .unwrap_or(MAX_BATCH)
        .clamp(FIRST_BATCH, MAX_BATCH)
        .next_power_of_two()
        .min(MAX_BATCH)
}

/// A request already sent, whose answer is awaited later. tokio-postgres sends a query when
/// its future is first polled and the answers come in order, so a FETCH can be sent while the
/// rows of the previous one are still being read.
enum Sent<F: Future> {
    Waiting(Pin<Box<F>>),
    Answered(F::Output),
}

impl<F: Future> Sent<F> {
    async fn send(f: F) -> Self {
        let mut f = Box::pin(f);
        match futures::poll!(f.as_mut()) {
            Poll::Ready(answer) => Sent::Answered(answer),
            Poll::Pending => Sent::Waiting(f),
        }
    }

    async fn answer(self) -> F::Output {
        match self {
            Sent::Waiting(f) => f.await,
            Sent::Answered(answer) => answer,
        }
    }
}

/// The newest located event before `(time, id)` back to the start of the baseline, if any.
async fn partner(
    tx: &ReadTx<'_>,
    identity: &str,
    w: &Window,
    before: (i64, i64),
) -> Result<Option<Located>> {
    let (mut at_us, mut id) = before;
    let mut limit = PARTNER_FIRST;
    loop {
        let q = queries::travel_partner(
            identity,
            w,
            queries::Param::Text(audit::time_text(at_us)),
            queries::Param::Int(id),
            queries::Param::Int(limit),
        );
        let rows = tx.all(&q).await?;
        for row in &rows {
            id = db::get(row, 0)?;
            at_us = db::get::<db::Micros>(row, 1)?.0;
            let metadata = db::text(row, 2)?.unwrap_or_default();
            if let Some((lat, lon)) = travel::parse(&metadata, false).position {
                return Ok(Some(Located {
                    id,
                    at_us,
                    lat,
                    lon,
                }));
            }
        }
        if (rows.len() as i64) < limit {
            return Ok(None);
        }
        limit = (limit * 8).min(PARTNER_MAX);
    }
}

fn out_err(e: io::Error) -> AppError {
    AppError::failed(format!("cannot write to stdout: {e}"))
}

fn decode(row: tokio_postgres::Row, want_place: bool) -> Result<Event> {
    let id: i64 = db::get(&row, 0)?;
    let at_us = db::get::<db::Micros>(&row, COL_TIME)?.0;
    let ip: Option<IpAddr> = db::get(&row, COL_IP)?;
    Timestamp::from_microsecond(at_us)
        .map_err(|e| AppError::failed(format!("event {id}: time out of range: {e}")))?;
    let shown = db::get::<Option<bool>>(&row, 8)?.unwrap_or(false);
    let new_ip: Option<bool> = db::get(&row, 6)?;
    let email_field: Option<bool> = db::get(&row, 7)?;
    let utf8 = [COL_TYPE, COL_UA]
        .iter()
        .all(|&c| db::raw_text(&row, c).is_none_or(|b| std::str::from_utf8(b).is_ok()));
    let (located, place, utf8) = {
        let metadata = db::text_ref(&row, COL_METADATA).unwrap_or_default();
        let utf8 = utf8 && matches!(metadata, Cow::Borrowed(_));
        let geo = travel::parse(&metadata, want_place && shown);
        let located = geo.position.map(|(lat, lon)| Located {
            id,
            at_us,
            lat,
            lon,
        });
        (located, geo.place, utf8)
    };
    let mut flags = 0u8;
    if shown {
        if new_ip == Some(true) {
            flags |= 1 << NEW_IP;
        }
        if let Some(f) = db::text_ref(&row, COL_TYPE).and_then(|t| type_flag(&t)) {
            flags |= 1 << flag_bit(f);
        }
        if email_field == Some(true) {
            flags |= 1 << EMAIL_CHANGE;
        }
    }
    Ok(Event {
        row,
        id,
        ip,
        at_us,
        flags,
        travel: Vec::new(),
        shown,
        located,
        place,
        utf8,
    })
}

/// Where rows go: one JSON document written piece by piece, or a table with fixed columns
/// (a table that waits for every row to size its columns could not stream).
struct Sink<W: Write> {
    out: W,
    json: bool,
    colour: bool,
    first: bool,
    time: audit::TimeWriter,
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
            time: audit::TimeWriter::default(),
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
    }

    fn event(&mut self, e: &Event) -> io::Result<()> {
        if self.json {
            let out = &mut self.out;
            out.write_all(if self.first {
                b"\n{\"id\":"
            } else {
                b",\n{\"id\":"
            })?;
            self.first = false;
            out.write_all(itoa::Buffer::new().format(e.id).as_bytes())?;
            out.write_all(b",\"type\":")?;
            e.write_json(out, COL_TYPE)?;
            out.write_all(b",\"time\":\"")?;
            self.time.write(out, e.at_us)?;
            out.write_all(b"\",\"ip\":")?;
            match e.ip {
                Some(ip) => {
                    // An address never needs escaping.
                    out.write_all(b"\"")?;
                    audit::write_host(out, ip)?;
                    out.write_all(b"\"")?;
                }
                None => out.write_all(b"null")?,
            }
            out.write_all(b",\"user_agent\":")?;
            e.write_json(out, COL_UA)?;
            out.write_all(b",\"metadata\":")?;
            match db::raw_text(&e.row, COL_METADATA) {
                Some(bytes) if e.utf8 => out.write_all(bytes)?,
                _ => out.write_all(e.metadata().as_bytes())?,
            }
            out.write_all(b",\"flags\":[")?;
            for (i, f) in e.flag_names().enumerate() {
                // Flags are fixed ASCII words: nothing to escape.
                out.write_all(if i == 0 { b"\"" } else { b",\"" })?;
                out.write_all(f.as_bytes())?;
                out.write_all(b"\"")?;
            }
            out.write_all(b"]")?;
            if !e.travel.is_empty() {
                out.write_all(b",\"travel\":")?;
                serde_json::to_writer(
                    &mut *out,
                    &e.travel.iter().map(Leg::json).collect::<Vec<_>>(),
                )?;
            }
            out.write_all(b"}")
        } else {
            let flagged = e.flags != 0;
            let ua = e
                .user_agent()
                .map(|u| output::shorten(&audit::printable(&u), UA_WIDTH))
                .unwrap_or_else(|| "-".into());
            let place = if e.place.is_empty() {
                "-".to_string()
            } else {
                output::shorten(&audit::printable(&e.place), 20)
            };
            let at = audit::short_time(e.at_us);
            let line = format!(
                "{} {:<19}  {:<22}  {:<15}  {:<20}  {:<28}  {}",
                if flagged { '!' } else { ' ' },
                at,
                output::shorten(&audit::printable(&e.event_type()), 22),
                e.ip().as_deref().unwrap_or("-"),
                place,
                if flagged {
                    e.flag_names().collect::<Vec<_>>().join(",")
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
                "\n],\"counts\":{},\"new_ips\":{},\"travel_truncated\":false}}\n",
                s.counts_json(),
                json!(s.new_ips_text()),
            )?;
        } else if s.total == 0 {
            writeln!(
                self.out,
                "no events of {id} between {} and {} (is the identity id right? is the window wide enough?)",
                audit::short_time(w.from.as_microsecond()),
                audit::short_time(w.to.as_microsecond())
            )?;
        } else {
            let per_flag: Vec<String> = FLAGS
                .iter()
                .zip(s.per_flag)
                .filter(|(_, n)| *n > 0)
                .map(|(f, n)| format!("{f} {n}"))
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
