//! The HTTP transport shared by the Ory admin clients: base URL, bearer token, per-request
//! timeout, capped bodies, pacing by the server's rate-limit headers, and retries where they
//! are safe.
//!
//! Retry rules (reference §1): an idempotent call is retried on 5xx, on a timeout or a refused
//! connection, and on 429 (waiting what `x-ratelimit-reset` or `Retry-After` ask, else
//! exponential backoff with full jitter). A call that is not idempotent (issuing a recovery
//! code or link) is never retried: a second attempt could create a second valid secret.
//!
//! Pacing (Ory Network, reference §1): every answer may carry `x-ratelimit-remaining` and
//! `x-ratelimit-reset` for the operation's rate-limit bucket. The transport keeps, per bucket,
//! how many requests the server still allows and when that resets, counts what it has in
//! flight against it, and holds new requests back once the allowance is used up, so that a bulk
//! run meets no 429 instead of burning the project's quota into them.
//!
//! The transport knows HTTP only: its error is "no usable answer" ([`TransportError`]); what an
//! answer's status and body mean is for the API clients (`crate::api`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::output;

/// How hard to try. `ATOCTL_RETRIES` and `ATOCTL_RETRY_BASE_MS` tune it (tests shorten it).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// The longest a 429 may ask us to wait before we give up instead.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            max_rate_limit_wait: Duration::from_secs(90),
        }
    }
}

impl RetryPolicy {
    /// The policy with `ATOCTL_RETRIES` and `ATOCTL_RETRY_BASE_MS` applied; a value that is
    /// not a whole number in range is a usage error, not silently ignored.
    pub fn from_env() -> Result<Self, String> {
        let mut p = RetryPolicy::default();
        if let Some(v) = std::env::var("ATOCTL_RETRIES")
            .ok()
            .filter(|v| !v.is_empty())
        {
            p.retries = v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 20)
                .ok_or_else(|| {
                    format!("ATOCTL_RETRIES={v:?} is not a whole number of retries from 0 to 20")
                })?;
        }
        if let Some(v) = std::env::var("ATOCTL_RETRY_BASE_MS")
            .ok()
            .filter(|v| !v.is_empty())
        {
            let ms = v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= 60_000)
                .ok_or_else(|| {
                    format!(
                        "ATOCTL_RETRY_BASE_MS={v:?} is not a whole number of milliseconds from 0 to 60000"
                    )
                })?;
            p.base = Duration::from_millis(ms);
        }
        Ok(p)
    }

    /// How long to wait before retrying an answer with `status`: what a 429 asks for (else
    /// the backoff), the backoff for a 5xx. `None` when the status is not worth retrying, or
    /// when the wait asked for is longer than we are willing to wait.
    pub fn retry_wait(&self, status: u16, headers: &HeaderMap, attempt: u32) -> Option<Duration> {
        let wait = match status {
            429 => rate_limit_wait(headers).unwrap_or_else(|| self.backoff(attempt)),
            500.. => self.backoff(attempt),
            _ => return None,
        };
        (wait <= self.max_rate_limit_wait).then_some(wait)
    }

    /// Full jitter: a random wait in [0, min(cap, base·2^attempt)].
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(if ms == 0 {
            0
        } else {
            rand::random_range(0..=ms)
        })
    }
}

/// The most a body may weigh before it is refused: a listing page of 500 sessions with their
/// devices and expanded identities is well under a few MiB; one object is far less.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// One object (an identity, a session, a recovery answer, an error): 2 MiB.
    Object,
    /// One page of a listing: 16 MiB.
    Page,
}

impl BodyLimit {
    pub fn bytes(self) -> usize {
        match self {
            BodyLimit::Object => 2 << 20,
            BodyLimit::Page => 16 << 20,
        }
    }
}

/// One request to send.
pub struct Request<'a> {
    pub method: reqwest::Method,
    /// Path and query, starting with `/`.
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    pub idempotent: bool,
    /// The server's rate-limit bucket of this operation (the OpenAPI document's
    /// `x-ory-ratelimit-bucket`): answers for one bucket pace the requests of that bucket.
    pub bucket: &'static str,
    pub limit: BodyLimit,
}

/// An answer with its body read.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub url: String,
    pub method: String,
}

impl Answer {
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_json(&self) -> bool {
        self.content_type()
            .map(|c| c.to_ascii_lowercase().contains("json"))
            .unwrap_or(false)
    }
}

/// No usable answer: refused, unreachable, timed out, or a body too large to be what was
/// asked for.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("{method} {url} failed: {detail}")]
    NoAnswer {
        method: String,
        url: String,
        detail: String,
        timeout: bool,
        connect: bool,
    },
    #[error("{method} {url} answered with a body larger than {} MiB: not what atoctl asked for", limit >> 20)]
    TooLarge {
        method: String,
        url: String,
        limit: usize,
    },
}

impl TransportError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::NoAnswer { timeout: true, .. })
    }

    pub fn is_connect(&self) -> bool {
        matches!(self, TransportError::NoAnswer { connect: true, .. })
    }
}

/// Says what failed and how long until the next attempt, then waits that long.
pub async fn wait_before_retry(what: &str, wait: Duration) {
    output::note(&format!("{what}: retrying in {}", seconds(wait)));
    tokio::time::sleep(wait).await;
}

/// A wait for people: `0.3s`, `2s`, `1m30s`; never `0.0s`.
pub fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 10 {
        return "a moment".into();
    }
    if ms < 10_000 {
        let tenths = (ms + 50) / 100;
        return if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        };
    }
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}

/// The methods and paths a transport sent, in order, when asked to remember them (for a dry
/// run, which shows the reads it made to build its plan).
pub type Trace = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    base: String,
    token: Option<SecretString>,
    retry: RetryPolicy,
    gate: Arc<RateGate>,
    trace: Option<Trace>,
}

impl Transport {
    pub fn new(
        base: &str,
        token: Option<SecretString>,
        timeout: Duration,
        retry: RetryPolicy,
        max_idle: usize,
    ) -> Result<Transport, String> {
        let client = client_builder(timeout)
            .pool_max_idle_per_host(max_idle)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Transport {
            client,
            base: base.trim_end_matches('/').to_string(),
            token,
            retry,
            gate: Arc::default(),
            trace: None,
        })
    }

    /// Remembers every request sent from now on, in `trace`.
    pub fn traced(mut self, trace: Trace) -> Transport {
        self.trace = Some(trace);
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends with retries; any status comes back as an [`Answer`], only a missing (or
    /// oversized) answer is an error.
    pub async fn send(&self, req: Request<'_>) -> Result<Answer, TransportError> {
        let url = self.url(req.path);
        let method_s = req.method.as_str().to_string();
        if let Some(t) = &self.trace {
            crate::lock(t).push((method_s.clone(), req.path.to_string()));
        }
        let no_answer = |detail: String, timeout: bool, connect: bool| TransportError::NoAnswer {
            method: method_s.clone(),
            url: url.clone(),
            detail,
            timeout,
            connect,
        };
        let mut attempt = 0u32;
        loop {
            let mut rb = self
                .client
                .request(req.method.clone(), &url)
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, concat!("atoctl/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = &self.token {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| {
                        no_answer(
                            "the admin token contains characters not allowed in a header".into(),
                            false,
                            false,
                        )
                    })?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            if let Some(b) = &req.body {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            let ticket = self.gate.admit(req.bucket).await;
            let result = match rb.send().await {
                Ok(resp) => read_answer(resp, &method_s, &url, req.limit.bytes()).await,
                Err(e) => Err(Failure::Transport(e)),
            };
            if let Ok(ans) = &result {
                self.gate.learn(ticket, &ans.headers, ans.status);
            } else {
                self.gate.forget(ticket);
            }
            let can_retry = req.idempotent && attempt < self.retry.retries;
            match result {
                Ok(ans) if can_retry && (ans.status == 429 || ans.status >= 500) => {
                    let Some(wait) = self.retry.retry_wait(ans.status, &ans.headers, attempt)
                    else {
                        return Ok(ans);
                    };
                    let what = if ans.status == 429 {
                        format!("rate limited on {method_s} {}", req.path)
                    } else {
                        format!("{method_s} {} answered {}", req.path, ans.status)
                    };
                    wait_before_retry(&what, wait).await;
                }
                Ok(ans) => return Ok(ans),
                Err(Failure::TooLarge) => {
                    return Err(TransportError::TooLarge {
                        method: method_s,
                        url,
                        limit: req.limit.bytes(),
                    });
                }
                Err(Failure::Transport(e))
                    if can_retry && (e.is_timeout() || e.is_connect() || e.is_request()) =>
                {
                    let what = format!("{method_s} {}: {}", req.path, describe(&e));
                    wait_before_retry(&what, self.retry.backoff(attempt)).await;
                }
                Err(Failure::Transport(e)) => {
                    return Err(no_answer(describe(&e), e.is_timeout(), e.is_connect()));
                }
            }
            attempt += 1;
        }
    }
}

enum Failure {
    Transport(reqwest::Error),
    TooLarge,
}

/// Reads an answer's body, refusing more than `limit` bytes (announced or streamed).
async fn read_answer(
    mut resp: reqwest::Response,
    method: &str,
    url: &str,
    limit: usize,
) -> Result<Answer, Failure> {
    let status = resp.status().as_u16();
    let headers = std::mem::take(resp.headers_mut());
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Failure::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Failure::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Failure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        body,
        url: url.to_string(),
        method: method.to_string(),
    })
}

/// The HTTP client settings every atoctl client shares: `timeout` for connecting and for each
/// request, no delay on small writes, and redirects never followed: Kratos's public port
/// redirects admin paths, and a redirect must carry neither a token nor a hash prefix
/// elsewhere. A 3xx is reported instead.
pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
}

/// How long a 429 asks us to wait: `x-ratelimit-reset` (seconds, Ory Network), else
/// `Retry-After` (seconds or an HTTP date).
pub fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(secs) = get("x-ratelimit-reset").and_then(|v| v.parse::<f64>().ok())
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let ra = get("retry-after")?;
    if let Ok(secs) = ra.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    let when = jiff::fmt::rfc2822::parse(ra).ok()?.timestamp();
    let d = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(d).unwrap_or(Duration::ZERO))
}

/// A one-line description of a transport error, without the URL (the caller adds it).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_connect() {
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        let mut last = String::from("cannot connect");
        while let Some(s) = src {
            last = s.to_string();
            src = s.source();
        }
        return format!("cannot connect ({last})");
    }
    let mut msg = e.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    crate::error::one_line(&msg)
}

/// What the server said it still allows, per rate-limit bucket.
#[derive(Default)]
struct RateGate {
    buckets: Mutex<HashMap<&'static str, Allowance>>,
}

#[derive(Default)]
struct Allowance {
    state: Pace,
    /// Requests of this bucket on their way (the server may not have counted them yet).
    in_flight: i64,
}

/// What a bucket's answers have said.
#[derive(Default, Clone, Copy)]
enum Pace {
    /// Not known: one request goes alone and its answer says (at the start, and again after
    /// each window: a burst of a whole bulk run's concurrency could otherwise spend a small
    /// budget before an answer says what is left of it).
    #[default]
    Probe,
    /// The answers carry no rate-limit headers (self-hosted Kratos): not paced.
    Free,
    /// `left` more may be sent before `resets`.
    Paced { left: i64, resets: Instant },
}

/// A request admitted by the gate, to be matched with its answer.
struct Ticket {
    bucket: &'static str,
}

/// How often a request waiting for a bucket's probe to be answered looks again.
const PROBE_POLL: Duration = Duration::from_millis(2);

impl RateGate {
    /// Waits while the bucket's allowance is used up, then counts the request in flight.
    async fn admit(&self, bucket: &'static str) -> Ticket {
        loop {
            let wait = {
                let mut map = crate::lock(&self.buckets);
                let a = map.entry(bucket).or_default();
                let now = Instant::now();
                match a.state {
                    Pace::Paced { resets, .. } if resets <= now => {
                        a.state = Pace::Probe;
                        continue;
                    }
                    Pace::Probe if a.in_flight > 0 => Some(PROBE_POLL),
                    Pace::Paced { left, resets } if left <= 0 => Some(resets - now),
                    Pace::Paced { left, resets } => {
                        a.state = Pace::Paced {
                            left: left - 1,
                            resets,
                        };
                        a.in_flight += 1;
                        None
                    }
                    Pace::Probe | Pace::Free => {
                        a.in_flight += 1;
                        None
                    }
                }
            };
            match wait {
                Some(w) => tokio::time::sleep(w).await,
                None => return Ticket { bucket },
            }
        }
    }

    /// Reads the allowance an answer announces: what the server has left, less what is on its
    /// way and maybe not counted yet; never more than already known for the window.
    fn learn(&self, ticket: Ticket, headers: &HeaderMap, status: u16) {
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let mut map = crate::lock(&self.buckets);
        let a = map.entry(ticket.bucket).or_default();
        a.in_flight = (a.in_flight - 1).max(0);
        let remaining = get("x-ratelimit-remaining").and_then(|v| v.parse::<i64>().ok());
        let reset = get("x-ratelimit-reset")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(3600.0)));
        let remaining = if status == 429 { Some(0) } else { remaining };
        let (Some(remaining), Some(reset)) = (remaining, reset) else {
            if matches!(a.state, Pace::Probe) {
                a.state = Pace::Free;
            }
            return;
        };
        // Whole seconds, rounded up by the server: the window may reset up to a second sooner
        // than said, never later, so waiting what it says is safe.
        let resets = Instant::now() + reset.max(Duration::from_millis(50));
        let left = remaining - a.in_flight;
        a.state = match a.state {
            Pace::Paced {
                left: known,
                resets: until,
            } => Pace::Paced {
                left: known.min(left),
                resets: until.max(resets),
            },
            Pace::Probe | Pace::Free => Pace::Paced { left, resets },
        };
    }

    fn forget(&self, ticket: Ticket) {
        let mut map = crate::lock(&self.buckets);
        if let Some(a) = map.get_mut(ticket.bucket) {
            a.in_flight = (a.in_flight - 1).max(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_header_wins_over_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("3"));
        h.insert("retry-after", HeaderValue::from_static("10"));
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(3)));
        h.remove("x-ratelimit-reset");
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(10)));
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        let p = RetryPolicy::default();
        for a in 0..20 {
            assert!(p.backoff(a) <= p.cap);
        }
    }

    #[test]
    fn waits_are_said_in_words_people_read() {
        assert_eq!(seconds(Duration::from_millis(3)), "a moment");
        assert_eq!(seconds(Duration::from_millis(340)), "0.3s");
        assert_eq!(seconds(Duration::from_millis(2000)), "2s");
        assert_eq!(seconds(Duration::from_secs(90)), "1m30s");
    }

    #[tokio::test(start_paused = true)]
    async fn the_gate_holds_requests_once_the_allowance_is_used_up() {
        let gate = RateGate::default();
        let answer = |remaining: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("x-ratelimit-remaining", HeaderValue::from_static(remaining));
            h.insert("x-ratelimit-reset", HeaderValue::from_static("2"));
            h
        };
        let start = Instant::now();
        // The first request goes alone; its answer says one more is allowed.
        let probe = gate.admit("b").await;
        gate.learn(probe, &answer("1"), 200);
        let one = gate.admit("b").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        gate.learn(one, &answer("0"), 200);
        // Used up: the next waits for the window to reset, then probes again.
        let after = gate.admit("b").await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        gate.forget(after);
        // Another bucket is not held by this one; a bucket whose answers carry no headers is
        // not paced at all.
        let other = Instant::now();
        let first = gate.admit("other").await;
        gate.learn(first, &HeaderMap::new(), 200);
        let _a = gate.admit("other").await;
        let _b = gate.admit("other").await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }
}
