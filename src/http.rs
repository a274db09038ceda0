//! The HTTP transport shared by the Ory admin clients and the Pwned Passwords range client:
//! base URL, bearer token, per-request timeout, capped bodies, pacing by the server's
//! rate-limit headers, and retries where they are safe.
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
//! answer's status and body mean is for the API clients (`crate::api`, `crate::hibp::range`).
//! No message of its own repeats a URL: the callers name what they asked for, and a path may
//! hold what must not be printed (the range API's holds a hash prefix).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::output;

/// No call (its attempts and the waits between them) goes on retrying past this many
/// `--timeout`s from its start: the attempt in flight then is the last. A server that keeps
/// asking for long rate-limit waits, or keeps failing slowly, cannot hold a step for
/// `retries` × 90 s. Counted from the first attempt (the rate gate's hold before it is not
/// counted); with the default `--timeout 10` any wait up to Ory Network's per-minute window
/// fits, with a small `--timeout` a long rate-limit wait is not taken.
pub const CALL_DEADLINE_TIMEOUTS: u32 = 20;

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
    /// A limit of the caller's own, in bytes, for answers that are neither (a range answer).
    Bytes(usize),
}

impl BodyLimit {
    pub fn bytes(self) -> usize {
        match self {
            BodyLimit::Object => 2 << 20,
            BodyLimit::Page => 16 << 20,
            BodyLimit::Bytes(n) => n,
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
    /// Requests sent for it: 1, or more after retries.
    pub attempts: u32,
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
        /// What went wrong, without the URL.
        detail: String,
        timeout: bool,
        connect: bool,
        /// Requests sent: 0 when none could be, more than 1 after retries.
        attempts: u32,
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
    /// Each request's timeout (`--timeout`); a listing derives its overall deadline from it.
    timeout: Duration,
    token: Option<SecretString>,
    retry: RetryPolicy,
    gate: Arc<RateGate>,
    trace: Option<Trace>,
    /// Sent with every request besides the `User-Agent`: `Accept: application/json` unless
    /// [`Transport::with_headers`] says otherwise.
    headers: HeaderMap,
    /// How retry notices name a request, when not by its method and path.
    name: Option<String>,
    /// Whether an idempotent request whose answer broke off mid-body is sent again (one that
    /// timed out always is).
    retry_broken_bodies: bool,
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
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Transport {
            client,
            timeout,
            base: base.trim_end_matches('/').to_string(),
            token,
            retry,
            gate: Arc::default(),
            trace: None,
            headers,
            name: None,
            retry_broken_bodies: false,
        })
    }

    /// The timeout of each request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Remembers every request sent from now on, in `trace`.
    pub fn traced(mut self, trace: Trace) -> Transport {
        self.trace = Some(trace);
        self
    }

    /// Sends `headers` with every request instead of the admin APIs' `Accept: application/json`
    /// (for an API that answers something else). atoctl's `User-Agent` is always sent.
    pub fn with_headers(mut self, headers: HeaderMap) -> Transport {
        self.headers = headers;
        self
    }

    /// Names every request `name` in retry notices (`{name} answered HTTP 503: retrying in …`,
    /// `{name}: timed out: retrying in …`) instead of by its method and path: for an API whose
    /// paths must not be printed (the range API's holds a hash prefix).
    pub fn named(mut self, name: impl Into<String>) -> Transport {
        self.name = Some(name.into());
        self
    }

    /// Also sends an idempotent request again when its answer broke off mid-body, not only
    /// when it timed out (for an API whose answer, once cut, is worth nothing and cheap to ask
    /// for again; the admin clients retry only the cases reference §1 lists).
    pub fn retrying_broken_bodies(mut self) -> Transport {
        self.retry_broken_bodies = true;
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
        let no_answer = |detail: String, timeout: bool, connect: bool, attempts: u32| {
            TransportError::NoAnswer {
                method: method_s.clone(),
                url: url.clone(),
                detail,
                timeout,
                connect,
                attempts,
            }
        };
        // Counted from the first attempt: a hold by the rate gate before it (the server's own
        // pacing, at most 90 s) is not the server failing.
        let mut give_up: Option<Instant> = None;
        // Whether a wait of `wait` before the next attempt still ends before the call's
        // deadline; when not, says so and the last answer or failure stands.
        let fits = |what: &str, wait: Duration, give_up: Option<Instant>| {
            let fits = give_up.is_none_or(|g| Instant::now() + wait < g);
            if !fits {
                output::note(&format!(
                    "{what}: not retried: waiting {} would pass this call's deadline ({}, {CALL_DEADLINE_TIMEOUTS}× --timeout)",
                    seconds(wait),
                    seconds(self.timeout.saturating_mul(CALL_DEADLINE_TIMEOUTS))
                ));
            }
            fits
        };
        let mut attempt = 0u32;
        loop {
            let mut rb = self
                .client
                .request(req.method.clone(), &url)
                .headers(self.headers.clone())
                .header(USER_AGENT, concat!("atoctl/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = &self.token {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| {
                        no_answer(
                            "the admin token contains characters not allowed in a header".into(),
                            false,
                            false,
                            attempt,
                        )
                    })?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            if let Some(b) = &req.body {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            let ticket = self.gate.admit(req.bucket).await;
            give_up.get_or_insert_with(|| {
                Instant::now() + self.timeout.saturating_mul(CALL_DEADLINE_TIMEOUTS)
            });
            let result = match rb.send().await {
                Ok(resp) => {
                    read_answer(resp, &method_s, &url, req.limit.bytes(), attempt + 1).await
                }
                Err(e) => Err(Failure::Transport(e)),
            };
            if let Ok(ans) = &result {
                self.gate.learn(ticket, &ans.headers, ans.status);
            } else {
                self.gate.forget(ticket);
            }
            let can_retry = req.idempotent && attempt < self.retry.retries;
            let (e, broken_off) = match result {
                Ok(ans) if can_retry && (ans.status == 429 || ans.status >= 500) => {
                    let Some(wait) = self.retry.retry_wait(ans.status, &ans.headers, attempt)
                    else {
                        return Ok(ans);
                    };
                    let what = match (&self.name, ans.status) {
                        (Some(name), status) => format!("{name} answered HTTP {status}"),
                        (None, 429) => format!("rate limited on {method_s} {}", req.path),
                        (None, status) => format!("{method_s} {} answered {status}", req.path),
                    };
                    if !fits(&what, wait, give_up) {
                        return Ok(ans);
                    }
                    wait_before_retry(&what, wait).await;
                    attempt += 1;
                    continue;
                }
                Ok(ans) => return Ok(ans),
                Err(Failure::TooLarge) => {
                    return Err(TransportError::TooLarge {
                        method: method_s,
                        url,
                        limit: req.limit.bytes(),
                    });
                }
                Err(Failure::Transport(e)) => (e, false),
                Err(Failure::BrokenOff(e)) => (e, true),
            };
            let (timeout, connect) = (e.is_timeout(), e.is_connect());
            // A TLS failure (an untrusted or expired certificate, a server that does not speak
            // TLS) does not go away by asking again.
            let tls = tls_failure(&e);
            let worth_another = !tls
                && if broken_off {
                    timeout || self.retry_broken_bodies
                } else {
                    timeout || connect || e.is_request()
                };
            let mut detail = describe(e, req.path);
            if tls {
                detail = format!("{TLS_FAILED}{detail}");
            }
            if broken_off {
                detail = format!("the answer broke off: {detail}");
            }
            if !(can_retry && worth_another) {
                return Err(no_answer(detail, timeout, connect, attempt + 1));
            }
            let what = match &self.name {
                Some(name) => format!("{name}: {detail}"),
                None => format!("{method_s} {}: {detail}", req.path),
            };
            let wait = self.retry.backoff(attempt);
            if !fits(&what, wait, give_up) {
                return Err(no_answer(detail, timeout, connect, attempt + 1));
            }
            wait_before_retry(&what, wait).await;
            attempt += 1;
        }
    }
}

/// How the detail of a TLS failure begins (error.rs gives it its own hint).
pub const TLS_FAILED: &str = "TLS failed: ";

/// Whether rustls refused the connection (its error somewhere in the chain).
fn tls_failure(e: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(io_holds_rustls)
        {
            return true;
        }
        src = s.source();
    }
    false
}

/// An I/O error made of a rustls error, possibly wrapped in further I/O errors (hyper wraps
/// the connector's error once more).
fn io_holds_rustls(io: &std::io::Error) -> bool {
    match io.get_ref() {
        Some(inner) => {
            inner.downcast_ref::<rustls::Error>().is_some()
                || inner
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(io_holds_rustls)
        }
        None => false,
    }
}

/// Why an attempt brought no answer.
enum Failure {
    /// Sending failed, or no answer came (refused, unreachable, timed out).
    Transport(reqwest::Error),
    /// The answer began but its body did not arrive whole.
    BrokenOff(reqwest::Error),
    /// The body is larger than the request's limit.
    TooLarge,
}

/// Reads an answer's body, refusing more than `limit` bytes (announced or streamed).
async fn read_answer(
    mut resp: reqwest::Response,
    method: &str,
    url: &str,
    limit: usize,
    attempts: u32,
) -> Result<Answer, Failure> {
    let status = resp.status().as_u16();
    let headers = std::mem::take(resp.headers_mut());
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Failure::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Failure::BrokenOff)? {
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
        attempts,
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

/// A one-line description of a transport error, without the URL: the caller names what it
/// asked for, and some paths must not be printed. reqwest's own message would repeat the URL
/// (`without_url`); a cause that repeats the request's path is left out too.
fn describe(e: reqwest::Error, path: &str) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let e = e.without_url();
    let mut causes = Vec::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = src {
        let text = s.to_string();
        if path.len() <= 1 || !text.contains(path) {
            causes.push(text);
        }
        src = s.source();
    }
    if e.is_connect() {
        return match causes.last() {
            Some(last) => crate::error::one_line(&format!("cannot connect ({last})")),
            None => "cannot connect".into(),
        };
    }
    let mut msg = e.to_string();
    for c in &causes {
        msg = format!("{msg}: {c}");
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
    /// `left` more may be sent before `resets`, in the window that began (for us) at `since`,
    /// the next not before `next`. Requests are spread over the window rather than sent in one
    /// burst: the reset is said in whole seconds, which tells nothing of where in a second
    /// the window turns, but an answer whose `remaining` went up has seen it turn, and spread
    /// requests see that within one spacing. `seen` is the lowest `remaining` read in the
    /// window.
    Paced {
        left: i64,
        resets: Instant,
        since: Instant,
        next: Instant,
        seen: i64,
    },
}

/// A request admitted by the gate, to be matched with its answer. It counts as in flight until
/// [`RateGate::learn`] or [`RateGate::forget`] takes it; one dropped without either (its
/// request cut off by a deadline, its task cancelled) is counted back down all the same, or the
/// bucket would wait for an answer that never comes.
struct Ticket {
    bucket: &'static str,
    sent: Instant,
    gate: Option<Arc<RateGate>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.release(self.bucket);
        }
    }
}

/// The longest the gate holds a request (as long as a 429 is waited for).
const MAX_GATE_WAIT: Duration = Duration::from_secs(90);

/// How often a request waiting for a bucket's probe to be answered looks again.
const PROBE_POLL: Duration = Duration::from_millis(2);

/// How far a paced bucket's schedule may lag behind the clock and still be caught up on (a
/// timer fires a millisecond or two late; after a pause, nothing is owed).
const CATCH_UP: Duration = Duration::from_millis(20);

/// Where a paced bucket's schedule continues from.
fn next_after(state: Pace, now: Instant) -> Instant {
    match state {
        Pace::Paced { next, .. } => next.max(now.checked_sub(CATCH_UP).unwrap_or(now)),
        _ => now,
    }
}

impl RateGate {
    /// Waits while the bucket's allowance is used up, then counts the request in flight.
    async fn admit(self: &Arc<Self>, bucket: &'static str) -> Ticket {
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
                    Pace::Paced { left, resets, .. } if left <= 0 => Some(resets - now),
                    Pace::Paced { next, .. } if next > now => Some(next - now),
                    Pace::Paced {
                        left,
                        resets,
                        since,
                        seen,
                        ..
                    } => {
                        // The schedule advances by the spacing from where it was, not from
                        // when a late timer woke this request: lateness does not add up.
                        let spacing = (resets - now) / u32::try_from(left).unwrap_or(u32::MAX);
                        let from = next_after(a.state, now);
                        a.state = Pace::Paced {
                            left: left - 1,
                            resets,
                            since,
                            next: from + spacing,
                            seen,
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
                None => {
                    return Ticket {
                        bucket,
                        sent: Instant::now(),
                        gate: Some(self.clone()),
                    };
                }
            }
        }
    }

    /// Reads the allowance an answer announces: what the server has left, less what is on its
    /// way and maybe not counted yet; never more than already known for the window. The reset
    /// comes in whole seconds rounded up, so each answer's "now + reset" is a little after the
    /// window's true end: the earliest of them is the closest, and with many answers close
    /// indeed. An answer to a request sent before the window began speaks of the last one and
    /// is not read.
    fn learn(&self, mut ticket: Ticket, headers: &HeaderMap, status: u16) {
        ticket.gate = None;
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let mut map = crate::lock(&self.buckets);
        let a = map.entry(ticket.bucket).or_default();
        a.in_flight = (a.in_flight - 1).max(0);
        // Whatever a server says, in bounds: no arithmetic below can overflow, and no request
        // is held longer than a 429 would be waited for.
        let remaining = get("x-ratelimit-remaining")
            .and_then(|v| v.parse::<i64>().ok())
            .map(|r| r.clamp(0, 1_000_000_000));
        let reset = get("x-ratelimit-reset")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(MAX_GATE_WAIT.as_secs_f64())));
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
        let left = remaining.saturating_sub(a.in_flight);
        a.state = match a.state {
            Pace::Paced { since, .. } if ticket.sent < since => return,
            // A 429 in the window: nothing is left until the end it names.
            Pace::Paced {
                since, next, seen, ..
            } if status == 429 => Pace::Paced {
                left: 0,
                resets,
                since,
                next,
                seen,
            },
            // More left than before, by more than answers overtaking each other explain: the
            // server's window turned; this answer speaks of the new one, and answers to
            // requests sent before this one are of the old.
            Pace::Paced { seen, next, .. }
                if remaining > seen.saturating_add(a.in_flight).saturating_add(1) =>
            {
                Pace::Paced {
                    left,
                    resets,
                    since: ticket.sent,
                    next,
                    seen: remaining,
                }
            }
            Pace::Paced {
                left: known,
                resets: until,
                since,
                next,
                seen,
            } => Pace::Paced {
                left: known.min(left),
                resets: until.min(resets),
                since,
                next,
                seen: seen.min(remaining),
            },
            Pace::Probe | Pace::Free => Pace::Paced {
                left,
                resets,
                since: ticket.sent,
                next: ticket.sent,
                seen: remaining,
            },
        };
    }

    /// An admitted request that brought no answer to learn from.
    fn forget(&self, mut ticket: Ticket) {
        ticket.gate = None;
        self.release(ticket.bucket);
    }

    fn release(&self, bucket: &'static str) {
        let mut map = crate::lock(&self.buckets);
        if let Some(a) = map.get_mut(bucket) {
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

    /// A server on 127.0.0.1 that answers every request with `head` and `body`, then drops
    /// the connection; it keeps the request heads it read.
    async fn one_shot_server(
        head: &'static str,
        body: &'static str,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                crate::lock(&record).push(String::from_utf8_lossy(&buf).into_owned());
                let _ = conn
                    .write_all(format!("{head}\r\n\r\n{body}").as_bytes())
                    .await;
            }
        });
        (base, seen)
    }

    fn get(path: &str) -> Request<'_> {
        Request {
            method: reqwest::Method::GET,
            path,
            body: None,
            idempotent: true,
            bucket: "test",
            limit: BodyLimit::Object,
        }
    }

    fn policy(retries: u32) -> RetryPolicy {
        RetryPolicy {
            retries,
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        }
    }

    #[tokio::test]
    async fn a_failure_names_its_url_once_and_its_detail_none() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let t = Transport::new(&base, None, Duration::from_secs(5), policy(0), 1).unwrap();
        let e = t.send(get("/admin/identities/x")).await.err().unwrap();
        let TransportError::NoAnswer {
            detail,
            connect,
            attempts,
            ..
        } = &e
        else {
            panic!("{e:?}");
        };
        assert!(detail.starts_with("cannot connect ("), "{detail}");
        assert!(*connect);
        assert_eq!(*attempts, 1);
        assert!(
            !detail.contains(&base) && !detail.contains("/admin"),
            "{detail}"
        );
        // The caller's message names the URL, once.
        let text = e.to_string();
        assert_eq!(text.matches("/admin/identities/x").count(), 1, "{text}");
    }

    #[tokio::test]
    async fn a_broken_off_body_is_retried_only_when_asked_and_never_named_by_url() {
        let (base, seen) =
            one_shot_server("HTTP/1.1 200 OK\r\nContent-Length: 100", "{\"half\":").await;
        let admin = Transport::new(&base, None, Duration::from_secs(5), policy(2), 1).unwrap();
        let e = admin.send(get("/range/ABCDE")).await.err().unwrap();
        assert_eq!(
            crate::lock(&seen).len(),
            1,
            "the admin clients do not retry it"
        );
        let TransportError::NoAnswer { detail, .. } = &e else {
            panic!("{e:?}");
        };
        assert!(detail.starts_with("the answer broke off: "), "{detail}");
        assert!(
            !detail.contains("ABCDE") && !detail.contains(&base),
            "{detail}"
        );
        // The admin default header; a transport with its own headers sends those instead.
        assert!(
            crate::lock(&seen)[0]
                .to_ascii_lowercase()
                .contains("accept: application/json")
        );

        let mut headers = HeaderMap::new();
        headers.insert("add-padding", HeaderValue::from_static("true"));
        let range = Transport::new(&base, None, Duration::from_secs(5), policy(2), 1)
            .unwrap()
            .with_headers(headers)
            .named("the range API")
            .retrying_broken_bodies();
        let e = range.send(get("/range/ABCDE")).await.err().unwrap();
        let TransportError::NoAnswer {
            detail, attempts, ..
        } = &e
        else {
            panic!("{e:?}");
        };
        assert_eq!(*attempts, 3);
        assert!(!detail.contains("ABCDE"), "{detail}");
        let heads = crate::lock(&seen).clone();
        assert_eq!(heads.len(), 4);
        let head = heads[1].to_ascii_lowercase();
        assert!(head.contains("add-padding: true"), "{head}");
        assert!(head.contains("user-agent: atoctl/"), "{head}");
        assert!(!head.contains("application/json"), "{head}");
    }

    #[tokio::test]
    async fn a_body_over_a_custom_limit_is_refused_at_once() {
        let (base, seen) =
            one_shot_server("HTTP/1.1 200 OK\r\nContent-Length: 11", "0123456789\n").await;
        let t = Transport::new(&base, None, Duration::from_secs(5), policy(3), 1)
            .unwrap()
            .retrying_broken_bodies();
        let mut req = get("/x");
        req.limit = BodyLimit::Bytes(10);
        let e = t.send(req).await.err().unwrap();
        assert!(
            matches!(e, TransportError::TooLarge { limit: 10, .. }),
            "{e:?}"
        );
        assert_eq!(crate::lock(&seen).len(), 1);
        let mut req = get("/x");
        req.limit = BodyLimit::Bytes(11);
        let ans = t.send(req).await.unwrap();
        assert_eq!(
            (ans.status, ans.attempts, &ans.body[..]),
            (200, 1, &b"0123456789\n"[..])
        );
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
        let gate = Arc::new(RateGate::default());
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

    fn in_flight(gate: &RateGate, bucket: &str) -> i64 {
        crate::lock(&gate.buckets)
            .get(bucket)
            .map(|a| a.in_flight)
            .unwrap_or(-1)
    }

    /// Broken, a request cut off by a deadline (its ticket dropped, neither learned nor
    /// forgotten) would stay in flight for good, and once the window reset every later request
    /// of the bucket would wait for the probe's answer forever.
    #[tokio::test]
    async fn a_request_cut_off_is_no_longer_in_flight() {
        let gate = Arc::new(RateGate::default());
        // The bucket's first request goes alone (a probe); cut off, it must not stay counted.
        let cut = gate.admit("b").await;
        assert_eq!(in_flight(&gate, "b"), 1);
        drop(cut);
        assert_eq!(in_flight(&gate, "b"), 0);
        let probe = gate.admit("b").await;
        gate.learn(probe, &HeaderMap::new(), 200);
        // Not paced (no rate-limit headers): requests go together.
        let cut = gate.admit("b").await;
        let answered = gate.admit("b").await;
        assert_eq!(in_flight(&gate, "b"), 2);
        drop(cut);
        assert_eq!(in_flight(&gate, "b"), 1);
        gate.learn(answered, &HeaderMap::new(), 200);
        assert_eq!(in_flight(&gate, "b"), 0);
        let failed = gate.admit("b").await;
        gate.forget(failed);
        assert_eq!(in_flight(&gate, "b"), 0);
    }
}
