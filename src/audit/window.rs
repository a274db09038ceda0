//! The time window of an investigation: `--since` back from now, or `--from` (up to `--to`, or
//! up to now), and the baseline period before it (`--baseline`) against which IPs count as
//! familiar.
//!
//! The flags are parsed here, in one place, into a checked [`Window`]: a step receives times it
//! can use as they are, and every step that takes a window reads its flags the same way.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::error::{AppError, Result, one_line};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Inclusive start.
    pub from: Timestamp,
    /// Exclusive end.
    pub to: Timestamp,
    /// Start of the baseline period `[baseline_from, from)`.
    pub baseline_from: Timestamp,
}

impl Window {
    /// Resolves the flags against `now`. `--since` defaults to 24h when neither it nor
    /// `--from` is given; `--from` without `--to` reaches up to now; `--to` needs `--from`.
    pub fn resolve(
        now: Timestamp,
        since: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        baseline: &str,
    ) -> Result<Window> {
        let baseline = crate::duration::parse(baseline, "--baseline")?;
        // PostgreSQL keeps microseconds; so does the window.
        let now = Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now);
        let (from, to) = match (from, to) {
            (Some(f), to) => {
                let from = parse_time(f, "--from", now)?;
                let (to, to_shown) = match to {
                    Some(t) => (parse_time(t, "--to", now)?, "--to"),
                    None => (now, "now"),
                };
                if from >= to {
                    return Err(AppError::usage(format!(
                        "--from {from} is not before {to_shown} {to}: the window is empty"
                    )));
                }
                (from, to)
            }
            (None, None) => {
                let since = crate::duration::parse(since.unwrap_or("24h"), "--since")?;
                let from = now.checked_sub(since).map_err(|_| {
                    AppError::usage("--since reaches back too far (before year -9999)")
                })?;
                (from, now)
            }
            (None, Some(_)) => {
                return Err(AppError::usage(
                    "--to needs a start: add --from TIME (RFC 3339, a date like 2026-11-24, or now)",
                )
                .with_hint("or leave --to out: --from alone, or --since DURATION, reaches up to now"));
            }
        };
        let baseline_from = from
            .checked_sub(baseline)
            .map_err(|_| AppError::usage("--baseline reaches back too far (before year -9999)"))?;
        // An audit log holds nothing from before 1970, and PostgreSQL cannot take a negative
        // year in the text form atoctl binds: said here, before anything is connected to.
        for (t, what) in [(from, "the window"), (baseline_from, "the baseline")] {
            if t < Timestamp::UNIX_EPOCH {
                return Err(AppError::usage(format!(
                    "{what} would start at {t}, before 1970: no audit log goes back that far"
                ))
                .with_hint("give --since, --from or --baseline within the log's lifetime (--since 30d, --from 2026-11-01)"));
            }
        }
        Ok(Window {
            from,
            to,
            baseline_from,
        })
    }

    pub fn from_param(&self) -> String {
        self.from.to_string()
    }
    pub fn to_param(&self) -> String {
        self.to.to_string()
    }
    pub fn baseline_param(&self) -> String {
        self.baseline_from.to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "from": self.from.to_string(),
            "to": self.to.to_string(),
            "baseline_from": self.baseline_from.to_string(),
        })
    }
}

/// A time on the command line: an RFC 3339 time with an offset (`2026-11-24T08:00:00Z`,
/// `2026-11-24T09:00:00+01:00`), a date `YYYY-MM-DD` (its midnight UTC: `--from 2026-11-24
/// --to 2026-11-25` is that whole day), or `now`. A time without an offset is refused: whose
/// 08:00 it means is exactly what an incident timeline cannot leave open.
pub fn parse_time(value: &str, flag: &str, now: Timestamp) -> Result<Timestamp> {
    let v = value.trim();
    if v == "now" {
        return Ok(now);
    }
    if let Ok(t) = v.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Some(t) = plain_date(v) {
        return Ok(t);
    }
    Err(AppError::usage(format!(
        "{flag} {:?} is not a time: give an RFC 3339 time with an offset (like 2026-11-24T08:00:00Z), a date (2026-11-24, midnight UTC) or now",
        one_line(value)
    )))
}

/// Midnight UTC of a date written `YYYY-MM-DD`, and only so (jiff would read more shapes).
fn plain_date(v: &str) -> Option<Timestamp> {
    let b = v.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape {
        return None;
    }
    let date: Date = v.parse().ok()?;
    TimeZone::UTC
        .to_timestamp(date.to_datetime(Time::midnight()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    fn resolve(from: Option<&str>, to: Option<&str>) -> Result<Window> {
        Window::resolve(now(), None, from, to, "30d")
    }

    #[test]
    fn since_defaults_to_a_day_and_baseline_precedes_the_window() {
        let w = Window::resolve(now(), None, None, None, "30d").unwrap();
        assert_eq!(w.from.to_string(), "2026-11-24T12:00:00Z");
        assert_eq!(w.to, now());
        assert_eq!(w.baseline_from.to_string(), "2026-10-25T12:00:00Z");
    }

    #[test]
    fn a_window_or_baseline_before_1970_is_a_usage_error() {
        for (since, baseline) in [("2900000d", "30d"), ("24h", "3000000d"), ("21000d", "30d")] {
            let e = Window::resolve(now(), Some(since), None, None, baseline).unwrap_err();
            assert_eq!(e.exit, crate::error::Exit::Usage, "{since} {baseline}");
            assert!(e.message.contains("before 1970"), "{}", e.message);
        }
        assert!(Window::resolve(now(), Some("3650d"), None, None, "30d").is_ok());
    }

    #[test]
    fn from_must_precede_to() {
        let e = resolve(Some("2026-11-25T00:00:00Z"), Some("2026-11-24T00:00:00Z")).unwrap_err();
        assert!(e.message.contains("not before --to"), "{}", e.message);
        let e = resolve(Some("2026-11-26"), None).unwrap_err();
        assert!(e.message.contains("not before now"), "{}", e.message);
    }

    #[test]
    fn from_alone_reaches_up_to_now() {
        let w = resolve(Some("2026-11-25T08:00:00Z"), None).unwrap();
        assert_eq!(w.from.to_string(), "2026-11-25T08:00:00Z");
        assert_eq!(w.to, now());
        assert_eq!(w.baseline_from.to_string(), "2026-10-26T08:00:00Z");
    }

    #[test]
    fn to_alone_says_to_add_from() {
        let e = resolve(None, Some("2026-11-25T08:00:00Z")).unwrap_err();
        assert_eq!(e.exit, crate::error::Exit::Usage);
        assert!(e.message.contains("add --from"), "{}", e.message);
    }

    #[test]
    fn dates_are_midnight_utc_and_now_is_now() {
        let w = resolve(Some("2026-11-24"), Some("now")).unwrap();
        assert_eq!(w.from.to_string(), "2026-11-24T00:00:00Z");
        assert_eq!(w.to, now());
        let w = resolve(Some(" 2026-11-24 "), Some("2026-11-25")).unwrap();
        assert_eq!(w.to.to_string(), "2026-11-25T00:00:00Z");
    }

    #[test]
    fn times_need_an_offset_and_dates_a_plain_shape() {
        let p = |v: &str| parse_time(v, "--from", now());
        assert!(p("2026-11-24T09:00:00+01:00").is_ok());
        assert_eq!(p("now").unwrap(), now());
        for bad in [
            "2026-11-24 08:00",
            "2026-11-24T08:00:00",
            "yesterday",
            "NOW",
            "2026-02-30",
            "20261124",
            "2026-1-24",
            "+002026-11-24",
            "",
        ] {
            let e = p(bad).unwrap_err();
            assert!(e.message.contains("RFC 3339"), "{bad:?}: {}", e.message);
        }
    }
}
