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
    fn nonsense_and_zero_are_refused() {
        assert!(parse("soon", "--x").is_err());
        assert!(parse("0m", "--x").is_err());
        assert!(parse("-1h", "--x").is_err());
    }
}
