//! How atoctl writes values from the audit database as text: addresses as PostgreSQL's
//! `host()` writes them, times as RFC 3339 UTC with microseconds, and anything for a terminal
//! with its control characters escaped.
//!
//! Kept apart from the steps and the engines because both steps' tables and JSON, their journal
//! entries and the engines' query parameters must show a value the same way, and because the
//! JSON output writes these by the million (hence the hand-written formatters, each tested
//! against the text PostgreSQL or jiff would produce).

/// Writes an address as PostgreSQL's `host()` shows it (`inet_net_ntop`): IPv4 dotted; IPv6 in
/// lowercase hex with the first longest run of two or more zero groups as `::`, and the last
/// 32 bits dotted when the first 96 are zero with at least two non-zero groups among the last two
/// (`::1.2.3.4`), or for IPv4-mapped addresses (`::ffff:1.2.3.4`). Rust's `Display` differs on
/// the first case, so atoctl reads `inet` in binary and formats it this way.
pub fn write_host(out: &mut impl std::io::Write, ip: std::net::IpAddr) -> std::io::Result<()> {
    use std::net::IpAddr;
    let v6 = match ip {
        IpAddr::V4(v4) => return write_dotted(out, v4.octets()),
        IpAddr::V6(v6) => v6,
    };
    let w = v6.segments();
    // The longest run of zero groups (the first of equal ones), if two or more long.
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, &g) in w.iter().enumerate() {
        if g == 0 {
            cur = Some(cur.map_or((i, 1), |(b, l)| (b, l + 1)));
        } else if let Some(c) = cur.take()
            && best.is_none_or(|b| c.1 > b.1)
        {
            best = Some(c);
        }
    }
    if let Some(c) = cur
        && best.is_none_or(|b| c.1 > b.1)
    {
        best = Some(c);
    }
    let best = best.filter(|b| b.1 >= 2);
    let mut hex = [0u8; 4];
    for (i, &g) in w.iter().enumerate() {
        if let Some((base, len)) = best
            && (base..base + len).contains(&i)
        {
            if i == base {
                out.write_all(b":")?;
            }
            continue;
        }
        if i != 0 {
            out.write_all(b":")?;
        }
        if i == 6
            && let Some((0, len)) = best
            && (len == 6 || (len == 7 && w[7] != 1) || (len == 5 && w[5] == 0xffff))
        {
            let o = v6.octets();
            return write_dotted(out, [o[12], o[13], o[14], o[15]]);
        }
        let mut n = 0;
        for shift in [12, 8, 4, 0] {
            let d = ((g >> shift) & 0xf) as u8;
            if n > 0 || d != 0 || shift == 0 {
                hex[n] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
                n += 1;
            }
        }
        out.write_all(&hex[..n])?;
    }
    if let Some((base, len)) = best
        && base + len == 8
    {
        out.write_all(b":")?;
    }
    Ok(())
}

fn write_dotted(out: &mut impl std::io::Write, o: [u8; 4]) -> std::io::Result<()> {
    let mut n = itoa::Buffer::new();
    out.write_all(n.format(o[0]).as_bytes())?;
    for b in &o[1..] {
        out.write_all(b".")?;
        out.write_all(n.format(*b).as_bytes())?;
    }
    Ok(())
}

/// [`write_host`] into a string.
pub fn host_text(ip: std::net::IpAddr) -> String {
    let mut v = Vec::with_capacity(39);
    let _ = write_host(&mut v, ip);
    String::from_utf8_lossy(&v).into_owned()
}

/// Writes a time (microseconds since the Unix epoch) as RFC 3339 UTC with microseconds,
/// `2026-11-25T01:55:08.123456Z`: the text jiff prints with `{:.6}`, computed directly for years
/// 0000 to 9999 (rows are written by the million) and by jiff otherwise. A time jiff cannot
/// represent is written empty; callers check times when they read them.
pub fn write_time(out: &mut impl std::io::Write, us: i64) -> std::io::Result<()> {
    let secs = us.div_euclid(1_000_000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        let text = jiff::Timestamp::from_microsecond(us)
            .map(|t| format!("{t:.6}"))
            .unwrap_or_default();
        return out.write_all(text.as_bytes());
    }
    let sod = secs.rem_euclid(86_400);
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, i64::from(month));
    put(8, 2, i64::from(day));
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    put(20, 6, us.rem_euclid(1_000_000));
    out.write_all(&b)
}

/// [`write_time`] for times that come in order: most share their second with the previous one,
/// whose text is kept (only the microseconds are written anew).
#[derive(Default)]
pub struct TimeWriter {
    second: Option<i64>,
    text: Vec<u8>,
}

impl TimeWriter {
    pub fn write(&mut self, out: &mut impl std::io::Write, us: i64) -> std::io::Result<()> {
        let second = us.div_euclid(1_000_000);
        if self.second != Some(second) {
            self.text.clear();
            write_time(&mut self.text, second * 1_000_000)?;
            self.second = Some(second);
        }
        // The text ends with `.000000Z`.
        let Some(prefix) = self.text.len().checked_sub(7) else {
            return write_time(out, us);
        };
        let mut frac = *b"000000Z";
        let mut n = us.rem_euclid(1_000_000);
        for d in frac[..6].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.write_all(&self.text[..prefix])?;
        out.write_all(&frac)
    }
}

/// `2026-11-25 01:55:08` (UTC), for tables; empty for a time out of range.
pub fn short_time(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// [`write_time`] into a string.
pub fn time_text(us: i64) -> String {
    let mut v = Vec::with_capacity(27);
    let _ = write_time(&mut v, us);
    String::from_utf8_lossy(&v).into_owned()
}

/// Proleptic Gregorian (year, month, day) of a day number since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Makes a value from the database safe to print on a terminal: control characters (escape
/// sequences, newlines) become `\u{…}` so a hostile user agent cannot rewrite the screen.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_written_as_postgresql_host_writes_them() {
        // Left: the input; right: `SELECT host(input::inet)` on PostgreSQL 15.
        for (input, pg) in [
            ("::", "::"),
            ("::1", "::1"),
            ("::2", "::2"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::ffff:0:1.2.3.4", "::ffff:0:102:304"),
            ("1::", "1::"),
            ("1::1", "1::1"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:0:1:0:0:1", "1::1:0:0:1"),
            ("2001:db8::1", "2001:db8::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:0:0:1::", "2001:0:0:1::"),
            ("fe80::1:2:3:4", "fe80::1:2:3:4"),
            ("::ffff:ffff", "::255.255.255.255"),
            ("0:0:0:0:0:1:0:0", "::1:0:0"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"),
            ("0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"),
            ("::1:0:0:0", "::1:0:0:0"),
            ("2001:db8:66::1", "2001:db8:66::1"),
            (
                "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
                "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
            ),
            ("0.0.0.0", "0.0.0.0"),
            ("255.255.255.255", "255.255.255.255"),
            ("203.0.113.66", "203.0.113.66"),
            ("::5:6", "::0.5.0.6"),
            ("::1:ffff:1.2.3.4", "::1:ffff:102:304"),
            ("0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0"),
        ] {
            let ip: std::net::IpAddr = input.parse().unwrap();
            assert_eq!(host_text(ip), pg, "{input}");
        }
    }

    #[test]
    fn times_are_written_as_jiff_writes_them() {
        let jiff = |us: i64| {
            jiff::Timestamp::from_microsecond(us)
                .map(|t| format!("{t:.6}"))
                .unwrap()
        };
        let mut us = jiff::Timestamp::MIN.as_microsecond();
        let mut n = 0;
        while us < jiff::Timestamp::MAX.as_microsecond() {
            assert_eq!(time_text(us), jiff(us), "{us}");
            // An irregular stride visits every month, leap days and both sides of year 0.
            us += 86_400_000_000 * 29 + 3_600_000_000 * 5 + 61_000_007;
            n += 1;
        }
        assert!(n > 200_000);
        let mut w = TimeWriter::default();
        for us in [
            0,
            -1,
            1,
            951_782_400_000_000,
            1_795_532_556_704_927,
            1_795_532_556_000_001,
            1_795_532_556_999_999,
            1_795_532_557_000_000,
            -62_135_596_800_000_001,
            -62_135_596_800_000_000,
        ] {
            assert_eq!(time_text(us), jiff(us), "{us}");
            let mut out = Vec::new();
            w.write(&mut out, us).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), jiff(us), "{us}");
        }
    }

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(printable("curl/8.0"), "curl/8.0");
        assert_eq!(printable("evil\u{1b}[2Jx\n"), "evil\\u{1b}[2Jx\\u{a}");
    }
}
