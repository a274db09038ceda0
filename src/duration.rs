//! Durations as operators write them (`30m`, `1h30m`, `7d`) and as Kratos wants them (Go's
//! `time.ParseDuration`, which has no days: `7d` is sent as `168h`).

use std::time::Duration;

use crate::error::{AppError, Result};

/// Parses `30m`, `1h`, `1h30m`, `7d`, `90s`, `2w` (and humantime's longer spellings).
pub fn parse(value: &str, flag: &str) -> Result<Duration> {
    let v = value.trim();
    let d = humantime::parse_duration(v).map_err(|_| {
        AppError::usage(format!(
            "{flag} {:?} is not a duration (write it like 30m, 1h, 1h30m or 7d)",
            crate::error::one_line(value)
        ))
    })?;
    if d.is_zero() {
        return Err(AppError::usage(format!("{flag} must be longer than zero")));
    }
    Ok(d)
}

/// The longest duration Go's `time.Duration` holds (2^63 - 1 nanoseconds), in whole seconds.
const GO_MAX_SECS: u64 = 9_223_372_036;

/// A duration Kratos can take (Go's `time.ParseDuration`): a whole number of seconds, at least
/// one, within Go's range. Parsed where clap parses `--expires-in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(Duration);

impl std::str::FromStr for GoDuration {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let d = humantime::parse_duration(s.trim())
            .map_err(|_| "not a duration (write it like 30m, 1h, 1h30m or 7d)".to_string())?;
        if d < Duration::from_secs(1) {
            return Err(
                "under one second: Kratos would refuse it (it takes whole seconds, at least 1s)"
                    .into(),
            );
        }
        if d.subsec_nanos() != 0 {
            return Err("not a whole number of seconds".into());
        }
        if d.as_secs() > GO_MAX_SECS {
            return Err("longer than Kratos can take (about 292 years)".into());
        }
        Ok(GoDuration(d))
    }
}

impl std::fmt::Display for GoDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_go(self.0))
    }
}

/// A Go duration string for a whole number of seconds: `168h`, `1h30m`, `45s`.
pub fn to_go(d: Duration) -> String {
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_durations_become_go_durations() {
        let go = |s: &str| to_go(parse(s, "--x").unwrap());
        assert_eq!(go("30m"), "30m");
        assert_eq!(go("1h"), "1h");
        assert_eq!(go("1h30m"), "1h30m");
        assert_eq!(go("7d"), "168h");
        assert_eq!(go("90s"), "1m30s");
    }

    #[test]
    fn kratos_durations_are_whole_seconds_within_gos_range() {
        let go = |s: &str| s.parse::<GoDuration>().map(|d| d.to_string());
        assert_eq!(go("7d").unwrap(), "168h");
        assert_eq!(go("1h30m").unwrap(), "1h30m");
        for bad in [
            "500ms",
            "1ns",
            "0s",
            "1500ms",
            "300y",
            "99999999d",
            "soon",
            "-1h",
        ] {
            assert!(go(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nonsense_and_zero_are_refused() {
        assert!(parse("soon", "--x").is_err());
        assert!(parse("0m", "--x").is_err());
        assert!(parse("-1h", "--x").is_err());
    }
}
