//! The time window of an investigation: `--since` back from now, or `--from`/`--to`, and the
//! baseline period before it (`--baseline`) against which IPs count as familiar.

use jiff::Timestamp;
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
    /// `--from`/`--to` is given.
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
            (Some(f), Some(t)) => {
                let from = parse_time(f, "--from")?;
                let to = parse_time(t, "--to")?;
                if from >= to {
                    return Err(AppError::usage(format!(
                        "--from {from} is not before --to {to}: the window is empty"
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
            _ => {
                return Err(AppError::usage("--from and --to go together"));
            }
        };
        let baseline_from = from
            .checked_sub(baseline)
            .map_err(|_| AppError::usage("--baseline reaches back too far (before year -9999)"))?;
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

/// An RFC 3339 time with an offset (`2026-11-24T08:00:00Z`, `2026-11-24T09:00:00+01:00`).
pub fn parse_time(value: &str, flag: &str) -> Result<Timestamp> {
    value.trim().parse::<Timestamp>().map_err(|_| {
        AppError::usage(format!(
            "{flag} {:?} is not an RFC 3339 time with an offset (like 2026-11-24T08:00:00Z)",
            one_line(value)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn since_defaults_to_a_day_and_baseline_precedes_the_window() {
        let w = Window::resolve(now(), None, None, None, "30d").unwrap();
        assert_eq!(w.from.to_string(), "2026-11-24T12:00:00Z");
        assert_eq!(w.to, now());
        assert_eq!(w.baseline_from.to_string(), "2026-10-25T12:00:00Z");
    }

    #[test]
    fn from_must_precede_to() {
        let e = Window::resolve(
            now(),
            None,
            Some("2026-11-25T00:00:00Z"),
            Some("2026-11-24T00:00:00Z"),
            "30d",
        )
        .unwrap_err();
        assert!(e.message.contains("not before --to"), "{}", e.message);
    }

    #[test]
    fn times_need_an_offset() {
        assert!(parse_time("2026-11-24 08:00", "--from").is_err());
        assert!(parse_time("yesterday", "--from").is_err());
        assert!(parse_time("2026-11-24T08:00:00+01:00", "--from").is_ok());
    }
}
