//! The Pwned Passwords range API: `GET {api}/range/{PREFIX}` (and `?mode=ntlm`), k-anonymity.
//!
//! Only the five-digit prefix is sent; every request asks for padding (`Add-Padding: true`), so
//! that the size of the answer does not tell an observer which prefix, and carries a descriptive
//! `User-Agent` as the API asks. The answer is trusted only if it is exactly what the API
//! serves: HTTP 200, a text body whose every line is `SUFFIX:COUNT` with a suffix of the right
//! length, at least one line, no suffix twice, and a body as long as announced. Anything else is
//! an error after retries, never "not found". The requests go through the transport the admin
//! clients use ([`crate::http::Transport`]) and its one retry loop: timeouts, refused
//! connections, broken-off bodies, 5xx and 429 are retried; an answer larger than 8 MiB is not.
//!
//! Redirects are not followed: a redirect would send the prefix to a host the operator did not
//! name, and the real API does not redirect.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};

use super::lines::{RangeTable, parse_lines};
use super::{HashKind, LookupError, PREFIX_LEN};
use crate::http::{BodyLimit, Request, RetryPolicy, Transport, TransportError};

/// The official range API.
pub const DEFAULT_API: &str = "https://api.pwnedpasswords.com";

/// What a range answer's body may weigh: the real one is about 40 KB padded.
const MAX_BODY: usize = 8 << 20;

/// The transport's pacing bucket for range requests (the API announces no rate limits today;
/// should it, its answers pace these requests and nothing else).
const BUCKET: &str = "pwnedpasswords-range";

/// Checks `--api-url`: https, or plain http only to a loopback address (a test server or a
/// local mirror); no credentials, query or fragment. Returns it without a trailing slash.
pub fn check_api_url(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("--api-url is not a URL ({e}); write it like {DEFAULT_API}"))?;
    let host = parsed.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err("--api-url must have a host".into());
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "--api-url http://{host}: plain http is allowed only to loopback (127.0.0.0/8, ::1, localhost); use https"
            ));
        }
        other => return Err(format!("--api-url must be https (got {other}:)")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("--api-url must not carry credentials".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("--api-url must not have a query or fragment".into());
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => v4.is_loopback(),
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v| v.is_loopback())
            }
        };
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The path and query of a range request.
pub fn range_path(prefix: &str, kind: HashKind) -> String {
    match kind {
        HashKind::Sha1 => format!("/range/{prefix}"),
        HashKind::Ntlm => format!("/range/{prefix}?mode=ntlm"),
    }
}

/// Checks and parses a range answer's body.
pub fn parse_range_body(
    body: &[u8],
    content_type: Option<&str>,
    kind: HashKind,
) -> Result<RangeTable, String> {
    let html = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html"))
        || body.trim_ascii_start().starts_with(b"<");
    if html {
        return Err(
            "an HTML page, not a range answer (a captive portal, a proxy's error page or the wrong URL?)"
                .into(),
        );
    }
    if body.is_empty() {
        return Err("an empty body".into());
    }
    parse_lines(body, kind.suffix_len(), false).map_err(|e| format!("a malformed body: {e}"))
}

/// A client for the range API: its own [`Transport`] (its own connection pool and retries;
/// padding always asked for; no redirects; retry notices that name the API, never the path).
#[derive(Clone)]
pub struct RangeClient {
    transport: Transport,
}

impl RangeClient {
    /// `base` must have passed [`check_api_url`].
    pub fn new(base: &str, timeout: Duration, retry: RetryPolicy) -> Result<RangeClient, String> {
        let mut headers = HeaderMap::new();
        headers.insert("Add-Padding", HeaderValue::from_static("true"));
        // As many idle connections as the batch keeps busy: reqwest's default, no cap.
        let transport = Transport::new(base, None, timeout, retry, usize::MAX)?;
        let api = transport.base().to_string();
        Ok(RangeClient {
            transport: transport
                .with_headers(headers)
                .named(format!("the range API at {api}"))
                .retrying_broken_bodies(),
        })
    }

    pub fn base(&self) -> &str {
        self.transport.base()
    }

    /// Fetches and checks the range of `prefix` (five hex digits). Errors name the API, never
    /// the prefix.
    pub async fn fetch(&self, prefix: &str, kind: HashKind) -> Result<RangeTable, LookupError> {
        if prefix.len() != PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LookupError::Untrusted(
                "internal error: a range prefix must be five hex digits".into(),
            ));
        }
        let api = self.base();
        let path = range_path(prefix, kind);
        let sent = self
            .transport
            .send(Request {
                method: Method::GET,
                path: &path,
                body: None,
                idempotent: true,
                bucket: BUCKET,
                limit: BodyLimit::Bytes(MAX_BODY),
            })
            .await;
        // The transport's errors name the URL, which holds the prefix: only their parts are
        // used here.
        let ans = match sent {
            Ok(ans) => ans,
            Err(TransportError::NoAnswer {
                detail, attempts, ..
            }) => {
                let tries = if attempts > 1 {
                    format!(" ({attempts} attempts)")
                } else {
                    String::new()
                };
                return Err(LookupError::Unavailable(format!(
                    "the range API at {api}: {detail}{tries}"
                )));
            }
            // A server that sends more than any range holds is not serving ranges (like an
            // HTML page): asking again would fetch the same again, so the transport does not.
            Err(TransportError::TooLarge { limit, .. }) => {
                return Err(LookupError::Untrusted(format!(
                    "the range API at {api} sent an answer larger than {} MiB: not a range answer",
                    limit >> 20
                )));
            }
        };
        if ans.status != 200 {
            let what = match ans.status {
                300..=399 => " (a redirect; atoctl does not follow redirects with a hash prefix)",
                429 => " (rate limited)",
                _ => "",
            };
            let tries = if ans.attempts > 1 {
                format!(" after {} attempts", ans.attempts)
            } else {
                String::new()
            };
            return Err(LookupError::Untrusted(format!(
                "the range API at {api} answered HTTP {}{what}{tries}",
                ans.status
            )));
        }
        if let Some(n) = ans
            .header(CONTENT_LENGTH.as_str())
            .and_then(|v| v.trim().parse::<u64>().ok())
            && n != ans.body.len() as u64
        {
            return Err(LookupError::Untrusted(format!(
                "the range API at {api} announced {n} bytes and sent {}: a truncated answer",
                ans.body.len()
            )));
        }
        parse_range_body(&ans.body, ans.content_type(), kind)
            .map_err(|e| LookupError::Untrusted(format!("the range API at {api} sent {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_url_allows_plain_http_to_loopback_only() {
        assert_eq!(
            check_api_url("https://api.pwnedpasswords.com/").unwrap(),
            "https://api.pwnedpasswords.com"
        );
        assert!(check_api_url("http://127.0.0.1:8080").is_ok());
        assert!(check_api_url("http://127.9.9.9").is_ok());
        assert!(check_api_url("http://[::1]:9/mirror").is_ok());
        assert!(check_api_url("http://LOCALHOST:9").is_ok());
        assert!(check_api_url("http://example.com").is_err());
        assert!(check_api_url("http://10.0.0.1").is_err());
        assert!(check_api_url("http://127.0.0.1.example.com").is_err());
        assert!(check_api_url("ftp://127.0.0.1").is_err());
        assert!(check_api_url("https://u:p@api.pwnedpasswords.com").is_err());
        assert!(check_api_url("https://api.pwnedpasswords.com/?x=1").is_err());
        assert!(check_api_url("not a url").is_err());
    }

    #[test]
    fn range_body_padding_never_counts_and_malformed_bodies_fail() {
        let body = b"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:3\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0";
        let t = parse_range_body(body, Some("text/plain"), HashKind::Sha1).unwrap();
        assert_eq!(t.count(b"1E4C9B93F3F0682250B6CF8331B7EE68FD8"), 3);
        assert_eq!(t.count(b"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"), 0);
        assert_eq!(t.count(b"0000000000000000000000000000000000A"), 0);
        assert_eq!((t.len(), t.padding()), (3, 1));
        // LF, and a trailing line ending, are fine too.
        let lf = b"1E4C9B93F3F0682250B6CF8331B7EE68FD8:3\n";
        assert!(parse_range_body(lf, None, HashKind::Sha1).is_ok());
        let bad: &[(&[u8], Option<&str>, &str)] = &[
            (b"<html><body>Sign in to the Wi-Fi</body></html>", Some("text/html"), "HTML"),
            (b"0018A45C4D1DEF81644B54AB7F969B88D65:1", Some("text/html; charset=utf-8"), "HTML"),
            (b"", None, "empty"),
            (b"\r\n", None, "no lines"),
            (b"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B", None, "line 2"),
            (b"0018A45C4D1DEF81644B54AB7F969B88D6:1\r\n", None, "34 hex digits"),
            (b"0018A45C4D1DEF81644B54AB7F969B88D65:\r\n", None, "no count"),
            (b"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n\r\n0018A45C4D1DEF81644B54AB7F969B88D66:1", None, "line 2"),
            (b"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n0018a45c4d1def81644b54ab7f969b88d65:2", None, "twice"),
            (b"\xEF\xBB\xBF0018A45C4D1DEF81644B54AB7F969B88D65:1", None, "byte-order mark"),
        ];
        for (body, ct, why) in bad {
            let e = parse_range_body(body, *ct, HashKind::Sha1).unwrap_err();
            assert!(e.contains(why), "{e:?} should say {why:?}");
        }
        // NTLM suffixes are 27 digits; a SHA-1 answer is not an NTLM one.
        let nt = b"B117AD06BDD830B7586C0000000:5\r\n";
        assert!(parse_range_body(nt, None, HashKind::Ntlm).is_ok());
        assert!(parse_range_body(body, None, HashKind::Ntlm).is_err());
    }

    #[test]
    fn range_paths() {
        assert_eq!(range_path("5BAA6", HashKind::Sha1), "/range/5BAA6");
        assert_eq!(
            range_path("8846F", HashKind::Ntlm),
            "/range/8846F?mode=ntlm"
        );
    }
}
