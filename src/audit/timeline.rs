//! An identity's timeline: its events in a window, newest first, each with its flags, streamed
//! into a [`Sink`].
//!
//! This is audit-query's engine, kept apart from the step the way ripgrep keeps its searcher
//! apart from its printer: it reads the database and decides what each event is; what becomes of
//! an event (a table row, a JSON object, a line of the journal) is the sink's business. It knows
//! nothing of output formats, the terminal or the incident journal, and a sink knows nothing of
//! cursors, batches or how impossible travel is paired.
//!
//! One pass in one read-only snapshot: a cursor over the identity's events, newest first, read
//! by PostgreSQL from the index in order (no sort) with `new-ip` computed in SQL, fetched in
//! batches. The other flags are derived as rows arrive: the type flags, and impossible travel
//! between consecutive located events (the coordinates come from the `metadata` text an output
//! carries anyway). An event's partner in a pair can be the next row, so a located event waits,
//! with the rows after it, for the next located one, usually a few rows later, in the same batch
//! or the next (each FETCH is sent while the previous batch goes into the sink); when it has
//! waited through a whole further batch, a small index query finds its partner instead, so what
//! waits is never more than two batches. Events go into the sink as they are released: memory
//! stays flat however many rows match.

use std::borrow::Cow;
use std::net::IpAddr;

use futures::StreamExt;
use jiff::Timestamp;
use tokio_postgres::Row;

use super::db::{self, ReadTx};
use super::flags::{Flag, Flags};
use super::queries::{self, Param, Query};
use super::text::time_text;
use super::travel::{self, Located};
use super::window::Window;
use crate::error::AppError;

/// Below this distance two located events are never impossible travel: IP geolocation is
/// city-level at best, and neighbouring cities' centroids are tens of km apart.
pub const MIN_TRAVEL_KM: f64 = 50.0;
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

/// What a sink tells the engine after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Control {
    Continue,
    /// No more events are wanted (the reader went away): the engine stops reading, ends the
    /// transaction and does not call [`Sink::finish`].
    Stop,
}

/// Where the events go. The engine calls [`Sink::begin`] once the snapshot is ready, then
/// [`Sink::event`] for every event that passes the type filter, newest first, then
/// [`Sink::finish`] once the window is exhausted and the transaction ended.
///
/// The error type is the sink's, as in ripgrep's `Sink`: the engine's own failures (the
/// database's) are converted into it, and a sink's error ends the stream as it is.
pub trait Sink {
    type Error: From<AppError>;

    fn begin(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn event(&mut self, event: &FlaggedEvent) -> Result<Control, Self::Error>;

    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Which way the other event of an impossible pair lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The other event came before this one.
    From,
    /// The other event came after this one.
    To,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::From => "from",
            Direction::To => "to",
        }
    }
}

/// One leg of an impossible journey, seen from the event it is attached to.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// The other event of the pair.
    pub with: i64,
    pub direction: Direction,
    /// Great-circle distance.
    pub km: f64,
    /// Time between the two events (zero counts as impossible).
    pub secs: f64,
}

impl Leg {
    /// The speed the journey would take, unless the two events have the same time.
    pub fn kmh(&self) -> Option<f64> {
        (self.secs > 0.0).then(|| self.km * 3600.0 / self.secs)
    }
}

/// A text column of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    EventType,
    UserAgent,
    /// `metadata` as PostgreSQL renders jsonb: JSON text.
    Metadata,
}

impl Column {
    fn index(self) -> usize {
        match self {
            Column::EventType => COL_TYPE,
            Column::UserAgent => COL_UA,
            Column::Metadata => COL_METADATA,
        }
    }
}

/// Columns of [`queries::events`].
const COL_TYPE: usize = 1;
const COL_IP: usize = 2;
const COL_UA: usize = 3;
const COL_TIME: usize = 4;
const COL_METADATA: usize = 5;
const COL_NEW_IP: usize = 6;
const COL_EMAIL_FIELD: usize = 7;
const COL_SHOWN: usize = 8;

/// One event with its flags. Its text columns stay in the row PostgreSQL sent and are read when
/// a sink asks for them: nothing is copied per event.
pub struct FlaggedEvent {
    row: Row,
    id: i64,
    ip: Option<IpAddr>,
    /// Microseconds since the Unix epoch (checked to be a time jiff can show).
    at_us: i64,
    flags: Flags,
    travel: Vec<Leg>,
    /// Passes the type filter (the others only take part in impossible travel).
    shown: bool,
    located: Option<Located>,
    /// `city, country`, only when asked for ([`Timeline::with_places`]).
    place: String,
    /// Every text column is valid UTF-8 as sent.
    utf8: bool,
}

impl FlaggedEvent {
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Microseconds since the Unix epoch, a time [`jiff::Timestamp`] can represent.
    pub fn at_us(&self) -> i64 {
        self.at_us
    }

    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// The legs of the impossible journeys this event is an end of, in the order of the pairs'
    /// newer events' ids.
    pub fn travel(&self) -> &[Leg] {
        &self.travel
    }

    /// `city, country` (either may be missing); empty when the event has no place or places
    /// were not asked for.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// A text column, with U+FFFD for bytes that are not UTF-8 (`None` for SQL NULL).
    pub fn text(&self, col: Column) -> Option<Cow<'_, str>> {
        db::text_ref(&self.row, col.index())
    }

    /// A text column's bytes exactly as PostgreSQL sent them. When [`FlaggedEvent::is_utf8`],
    /// they are the text itself: a writer can copy them without checking them again.
    pub fn raw(&self, col: Column) -> Option<&[u8]> {
        db::raw_text(&self.row, col.index())
    }

    /// Whether every text column of the event is valid UTF-8 (checked once, as the row arrived).
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    pub fn event_type(&self) -> Cow<'_, str> {
        self.text(Column::EventType).unwrap_or_default()
    }

    pub fn user_agent(&self) -> Option<Cow<'_, str>> {
        self.text(Column::UserAgent)
    }

    /// The metadata as JSON text.
    pub fn metadata(&self) -> Cow<'_, str> {
        self.text(Column::Metadata).unwrap_or(Cow::Borrowed("{}"))
    }
}

/// audit-query's request: an identity's events in a window.
pub struct Timeline {
    identity: String,
    window: Window,
    max_speed_kmh: f64,
    places: bool,
    events: Query,
}

impl Timeline {
    /// `types`: only events of these types go into the sink (every located event still takes
    /// part in impossible travel). `max_speed_kmh` must be a finite speed above zero.
    pub fn new(
        identity: &str,
        window: &Window,
        types: Option<Vec<String>>,
        max_speed_kmh: f64,
    ) -> Timeline {
        Timeline {
            identity: identity.to_string(),
            window: *window,
            max_speed_kmh,
            places: false,
            events: queries::events(identity, window, types),
        }
    }

    /// Fill [`FlaggedEvent::place`] (it costs a look into every shown event's geo).
    pub fn with_places(mut self, places: bool) -> Timeline {
        self.places = places;
        self
    }

    /// `--dry-run`: the statements [`Timeline::stream`] runs, in order, and notes on how.
    pub fn plan(&self) -> (Vec<Query>, Vec<String>) {
        let declare = Query {
            purpose: self.events.purpose.clone(),
            sql: db::declare_sql(CURSOR, &self.events),
            params: self.events.params.clone(),
        };
        let fetch = Query {
            purpose: format!(
                "read the cursor in batches of {FIRST_BATCH} to {MAX_BATCH} rows, until it is exhausted"
            ),
            sql: format!("FETCH FORWARD <n> FROM {CURSOR}"),
            params: Vec::new(),
        };
        let partner = queries::travel_partner(
            &self.identity,
            &self.window,
            Param::Text("<time of the oldest located event so far>".into()),
            Param::Text("<its id>".into()),
            Param::Int(PARTNER_FIRST),
        );
        let notes = vec![
            "work_mem is set to 64MB for the transaction before the cursor, so that the baseline's IPs are hashed however many there are".into(),
            format!(
                "flags other than new-ip come from the event type and the metadata; impossible travel pairs consecutive located events (statement 3: sent with the first FETCH for the located event before the window, and after a batch whose oldest located event waits); pairs closer than {MIN_TRAVEL_KM} km are never impossible travel"
            ),
        ];
        (vec![declare, fetch, partner], notes)
    }

    /// Reads the events in `tx` (then ends it) and pushes them into `sink`, newest first.
    pub async fn stream<S: Sink>(&self, tx: ReadTx, sink: &mut S) -> Result<(), S::Error> {
        // The baseline's distinct IPs must be hashed whatever the planner estimates their number
        // to be (the alternative rescans them for every event).
        tx.set_local("work_mem", "64MB").await;
        sink.begin()?;
        // BEGIN, the settings, work_mem, the DECLARE and the first FETCH go out together: one
        // round trip before the first rows.
        tx.declare(CURSOR, &self.events).await;
        let mut p = Pairing {
            sink,
            max_speed: self.max_speed_kmh,
            newer: None,
            pending: None,
            pending_batch: 0,
            gap: Vec::new(),
            batch: 0,
        };
        let (mut seen_rows, mut seen_bytes) = (0usize, 0usize);
        let mut asked = FIRST_BATCH;
        let mut next = Some(tx.fetch(CURSOR, asked).await);
        // The located event before the window, asked for with the first batch: it is the
        // partner of the oldest located event of the window, which waits for it at the end
        // of the cursor. Its candidates are read after the first batch; a light window then
        // needs no round trip after the first one but the ROLLBACK's.
        let mut before_window = Some(
            tx.send(&queries::travel_partner(
                &self.identity,
                &self.window,
                Param::Text(self.window.from_param()),
                Param::Int(0),
                Param::Int(PARTNER_FIRST),
            ))
            .await,
        );
        let mut before_window_rows: Option<Vec<Row>> = None;
        let mut stopped = false;
        // Every FETCH reads the same cursor: the columns of its first row are checked once.
        let mut checked = false;
        // The next FETCH is sent as soon as the rows of the current one no longer wait for an
        // earlier batch, so that PostgreSQL reads on while the sink works. When an event of an
        // earlier batch still waits at the end of a batch (a long run of unlocated events), the
        // located event before it is looked up instead, with no FETCH under way.
        'batches: while let Some(sent) = next.take() {
            p.batch += 1;
            let this_batch = asked;
            let mut rows = 0u32;
            let stream = tx.read(sent).await?;
            futures::pin_mut!(stream);
            while let Some(row) = stream.next().await {
                let row = row?;
                if !checked {
                    db::check_text(row.columns(), &[COL_TYPE, COL_UA, COL_METADATA])?;
                    checked = true;
                }
                rows += 1;
                seen_rows += 1;
                seen_bytes += row.raw_size_bytes();
                let event = decode(row, self.places)?;
                if p.push(event)? == Control::Stop {
                    stopped = true;
                    break 'batches;
                }
                // The first batch is small: the next FETCH waits for its last row, so that a
                // window that fits in it costs no second FETCH.
                if next.is_none()
                    && p.waiting_since().is_none_or(|b| b == p.batch)
                    && (p.batch > 1 || rows == this_batch)
                {
                    asked = batch_size(seen_rows, seen_bytes);
                    next = Some(tx.fetch(CURSOR, asked).await);
                }
            }
            if let Some(sent) = before_window.take() {
                before_window_rows = Some(tx.read_all(sent).await?);
            }
            if next.is_some() {
                continue;
            }
            if let Some(before) = p.waiting() {
                // At the end of the cursor, every event after the waiting one has been seen:
                // its partner is the located event before the window.
                let known = if rows < this_batch {
                    before_window_rows.take()
                } else {
                    None
                };
                let older = partner(&tx, &self.identity, &self.window, before, known).await?;
                if p.resolve(older)? == Control::Stop {
                    stopped = true;
                    break;
                }
            }
            if rows < this_batch {
                break;
            }
            asked = batch_size(seen_rows, seen_bytes);
            next = Some(tx.fetch(CURSOR, asked).await);
        }
        // A FETCH still under way (the sink stopped), and the located event before the window
        // if its answer was not read, are dropped before the transaction ends.
        drop(next);
        drop(before_window);
        tx.finish().await?;
        if !stopped {
            sink.finish()?;
        }
        Ok(())
    }
}

/// Events in, events out in the same order, with impossible travel attached. A located event
/// is held back (`pending`, with the rows after it in `gap`) until the located event before it
/// is known: the next located row, or the answer of [`partner`] at the end of a batch.
struct Pairing<'s, S> {
    sink: &'s mut S,
    max_speed: f64,
    /// The last located event seen: the nearest newer one for the next located event.
    newer: Option<Located>,
    pending: Option<FlaggedEvent>,
    /// The batch the pending event came in.
    pending_batch: u32,
    gap: Vec<FlaggedEvent>,
    /// The batch being read (1, 2, …).
    batch: u32,
}

impl<S: Sink> Pairing<'_, S> {
    fn push(&mut self, mut e: FlaggedEvent) -> Result<Control, S::Error> {
        if let Some(here) = e.located {
            self.link(&here, Some(&mut e.travel));
            let control = self.release()?;
            self.newer = Some(here);
            if e.shown {
                self.pending = Some(e);
                self.pending_batch = self.batch;
            }
            return Ok(control);
        }
        if !e.shown {
            return Ok(Control::Continue);
        }
        if self.pending.is_some() {
            self.gap.push(e);
            Ok(Control::Continue)
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
    fn resolve(&mut self, older: Option<Located>) -> Result<Control, S::Error> {
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
                direction: Direction::To,
                km,
                secs,
            });
        }
        if let Some(p) = self.pending.as_mut().filter(|p| p.id == newer.id) {
            p.travel.push(Leg {
                with: older.id,
                direction: Direction::From,
                km,
                secs,
            });
        }
    }

    /// Hands the pending event and the rows after it to the sink, until it says stop.
    fn release(&mut self) -> Result<Control, S::Error> {
        if let Some(p) = self.pending.take() {
            if self.emit(p)? == Control::Stop {
                return Ok(Control::Stop);
            }
            let gap = std::mem::take(&mut self.gap);
            for e in gap {
                if self.emit(e)? == Control::Stop {
                    return Ok(Control::Stop);
                }
            }
        }
        Ok(Control::Continue)
    }

    fn emit(&mut self, mut e: FlaggedEvent) -> Result<Control, S::Error> {
        if !e.travel.is_empty() {
            e.flags.insert(Flag::ImpossibleTravel);
            // In the order of the pairs' newer events' ids, as the pairs used to be listed.
            let id = e.id;
            e.travel.sort_by_key(|l| match l.direction {
                Direction::From => id,
                Direction::To => l.with,
            });
        }
        self.sink.event(&e)
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

/// The newest located event before `(time, id)` back to the start of the baseline, if any.
/// `known`: the answer of the first query, when it is already in (its first `PARTNER_FIRST`
/// candidates).
async fn partner(
    tx: &ReadTx,
    identity: &str,
    w: &Window,
    before: (i64, i64),
    mut known: Option<Vec<Row>>,
) -> crate::error::Result<Option<Located>> {
    let (mut at_us, mut id) = before;
    let mut limit = PARTNER_FIRST;
    loop {
        let rows = match known.take() {
            Some(rows) => rows,
            None => {
                let q = queries::travel_partner(
                    identity,
                    w,
                    Param::Text(time_text(at_us)),
                    Param::Int(id),
                    Param::Int(limit),
                );
                tx.all(&q).await?
            }
        };
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

fn decode(row: Row, want_place: bool) -> crate::error::Result<FlaggedEvent> {
    let id: i64 = db::get(&row, 0)?;
    let at_us = db::get::<db::Micros>(&row, COL_TIME)?.0;
    let ip: Option<IpAddr> = db::get(&row, COL_IP)?;
    Timestamp::from_microsecond(at_us)
        .map_err(|e| AppError::failed(format!("event {id}: time out of range: {e}")))?;
    let shown = db::get::<Option<bool>>(&row, COL_SHOWN)?.unwrap_or(false);
    let new_ip: Option<bool> = db::get(&row, COL_NEW_IP)?;
    let email_field: Option<bool> = db::get(&row, COL_EMAIL_FIELD)?;
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
    let mut flags = Flags::default();
    if shown {
        if new_ip == Some(true) {
            flags.insert(Flag::NewIp);
        }
        if let Some(f) = db::text_ref(&row, COL_TYPE).and_then(|t| Flag::of_type(&t)) {
            flags.insert(f);
        }
        if email_field == Some(true) {
            flags.insert(Flag::EmailChange);
        }
    }
    Ok(FlaggedEvent {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_aim_at_a_few_megabytes_in_powers_of_two() {
        assert_eq!(batch_size(0, 0), MAX_BATCH);
        assert_eq!(batch_size(1000, 1000 * 300), 16_384);
        assert_eq!(batch_size(1000, 1000 * 1000), 8192);
        assert_eq!(batch_size(10, 10 * (1 << 20)), FIRST_BATCH);
    }

    #[test]
    fn a_leg_has_no_speed_without_time() {
        let l = Leg {
            with: 1,
            direction: Direction::From,
            km: 880.0,
            secs: 1800.0,
        };
        assert_eq!(l.kmh(), Some(1760.0));
        assert_eq!(Leg { secs: 0.0, ..l }.kmh(), None);
    }
}
