//! Text for the report: what a journal's text becomes in Markdown and JSON (control characters
//! escaped everywhere, Markdown's active characters escaped in Markdown), UTC times, user
//! agents in words, and the scrubbing of anything that looks like an address, an id or a secret
//! from what the account owner reads.

use serde_json::Value;

use crate::output;

/// Journal text for JSON: control and bidirectional-formatting characters escaped.
pub fn esc(s: &str) -> String {
    output::escape_controls(s)
}

/// A JSON value from the journal with every string (keys too) passed through [`esc`].
pub fn esc_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(esc(s)),
        Value::Array(items) => Value::Array(items.iter().map(esc_value).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (esc(k), esc_value(v))).collect()),
        other => other.clone(),
    }
}

/// Journal text for Markdown, on one line: controls escaped, then every character Markdown
/// or an HTML renderer would act on (emphasis, code, links, tags, table cells) escaped with a
/// backslash, so the text shows as it was recorded and never as markup.
pub fn md(s: &str) -> String {
    let s = output::escape_controls(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// [`md`] of the text shortened to `max` characters (before escaping: no escape is cut).
pub fn md_short(s: &str, max: usize) -> String {
    md(&output::shorten(s, max))
}

/// An identifier (UUID, hash, incident id) as inline code when it is plain, else as [`md`].
pub fn code(s: &str) -> String {
    if !s.is_empty()
        && s.len() <= 200
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_' | '/' | '@' | '+')
        })
    {
        format!("`{s}`")
    } else {
        md(s)
    }
}

/// `2026-11-25T01:15:02.123456Z` as `2026-11-25 01:15:02` (UTC); text that is not a time is
/// kept (escaped by the caller's format).
pub fn utc(ts: &str) -> String {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => ts.to_string(),
    }
}

/// A time for the account owner: `25 November 2026 at 00:58 UTC`.
pub fn owner_time(ts: &str) -> Option<String> {
    ts.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.strftime("%-d %B %Y at %H:%M UTC").to_string())
}

/// A user agent in words (`Chrome on Windows`), when it is one of the common ones.
pub fn device_words(ua: &str) -> Option<String> {
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") || has("Edge/") || has("EdgA/") || has("EdgiOS/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("SamsungBrowser/") {
        Some("Samsung Internet")
    } else if has("Firefox/") || has("FxiOS/") {
        Some("Firefox")
    } else if has("CriOS/") || has("Chrome/") || has("Chromium/") {
        Some("Chrome")
    } else if has("Safari/") && (has("Version/") || has("Mobile/")) {
        Some("Safari")
    } else if ua.starts_with("curl/") {
        Some("a command-line tool (curl)")
    } else if ua.starts_with("python-requests") || ua.starts_with("Python-urllib") {
        Some("a script (Python)")
    } else if ua.starts_with("Go-http-client") {
        Some("a program (Go)")
    } else if ua.starts_with("okhttp") {
        Some("an app (Android)")
    } else {
        None
    };
    let os = if has("iPhone") {
        Some("an iPhone")
    } else if has("iPad") {
        Some("an iPad")
    } else if has("Android") {
        Some("Android")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Macintosh") || has("Mac OS X") {
        Some("macOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, os) {
        (Some(b), Some(o)) => Some(format!("{b} on {o}")),
        (Some(b), None) => Some(b.to_string()),
        (None, Some(o)) => Some(format!("a browser on {o}")),
        (None, None) => None,
    }
}

/// What replaces a scrubbed run.
pub const HIDDEN: &str = "[hidden]";

/// Text for the account owner with every run that looks like an IP address, an identifier, a
/// hash or a code replaced by [`HIDDEN`]: a run of hex digits, dots, colons and dashes is
/// hidden when it holds 16 or more hex digits (UUIDs, session ids, hashes), six or more
/// decimal digits in a row (codes), four dotted decimal groups (IPv4) or an IPv6 shape. The
/// owner's notice is built only from places and device names; this is the net under them.
pub fn scrub(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let in_run = |c: char| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '-');
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !in_run(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_run(chars[i]) {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        if looks_secret(&run) {
            out.push_str(HIDDEN);
        } else {
            out.push_str(&run);
        }
    }
    out
}

fn looks_secret(run: &str) -> bool {
    let hex = run.chars().filter(char::is_ascii_hexdigit).count();
    if hex >= 16 {
        return true;
    }
    let mut digits = 0;
    for c in run.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if digits >= 6 {
            return true;
        }
    }
    let groups: Vec<&str> = run.split('.').collect();
    if groups.windows(4).any(|w| {
        w.iter().enumerate().all(|(k, g)| {
            // The first and last group may carry the rest of the run (":" or "-").
            let g = if k == 0 {
                g.rsplit([':', '-']).next().unwrap_or(g)
            } else if k == 3 {
                g.split([':', '-']).next().unwrap_or(g)
            } else {
                g
            };
            !g.is_empty() && g.len() <= 3 && g.chars().all(|c| c.is_ascii_digit())
        })
    }) {
        return true;
    }
    let colons = run.matches(':').count();
    colons >= 2
        && (run.contains("::")
            || colons >= 5
            || run.split(':').any(|g| {
                g.len() >= 3
                    || g.chars()
                        .any(|c| c.is_ascii_hexdigit() && !c.is_ascii_digit())
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_shows_text_never_markup() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(
            md("<img src=x onerror=alert(1)>"),
            "\\<img src=x onerror=alert(1)\\>"
        );
        assert_eq!(md("[click](http://x)"), "\\[click\\](http://x)");
        assert_eq!(md("\u{1b}[31mred\nx"), "\\\\u{1b}\\[31mred\\\\u{a}x");
        assert_eq!(md("\u{202e}gnp.exe"), "\\\\u{202e}gnp.exe");
        assert_eq!(code("5f1c2a9e-0b7e"), "`5f1c2a9e-0b7e`");
        assert_eq!(code("a`b"), "a\\`b");
    }

    #[test]
    fn user_agents_in_words() {
        let w = |ua: &str| device_words(ua);
        assert_eq!(
            w("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36").as_deref(),
            Some("Chrome on Windows")
        );
        assert_eq!(
            w("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1").as_deref(),
            Some("Safari on an iPhone")
        );
        assert_eq!(
            w("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0").as_deref(),
            Some("Firefox on Linux")
        );
        assert_eq!(
            w("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 EdgA/120.0").as_deref(),
            Some("Edge on Android")
        );
        assert_eq!(
            w("curl/8.5.0").as_deref(),
            Some("a command-line tool (curl)")
        );
        assert_eq!(w("something odd"), None);
    }

    #[test]
    fn scrub_hides_addresses_ids_and_codes_and_keeps_words() {
        let hidden = |s: &str| scrub(s).contains(HIDDEN);
        for s in [
            "203.0.113.7",
            "via 203.0.113.7, Lagos",
            "2001:db8::1",
            "fe80:0:0:0:1:2:3:4",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
            "code 793398",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "[203.0.113.7]:443",
        ] {
            assert!(hidden(s), "{s} -> {}", scrub(s));
        }
        for s in [
            "Lagos, Lagos, NG",
            "Sydney, AU",
            "Chrome on Windows",
            "25 November 2026 at 00:58 UTC",
            "12:30:45",
            "São Paulo",
            "Frankfurt am Main",
            "Addis Ababa",
        ] {
            assert_eq!(scrub(s), s);
        }
        assert_eq!(
            scrub("from 198.51.100.23 in Lagos"),
            "from [hidden] in Lagos"
        );
    }

    #[test]
    fn times_in_utc() {
        assert_eq!(utc("2026-11-25T01:15:02.123456Z"), "2026-11-25 01:15:02");
        assert_eq!(utc("yesterday"), "yesterday");
        assert_eq!(
            owner_time("2026-11-05T00:58:12Z").as_deref(),
            Some("5 November 2026 at 00:58 UTC")
        );
    }
}
