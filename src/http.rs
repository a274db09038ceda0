//! The HTTP transport shared by the Ory admin clients: base URL, bearer token, per-request
//! timeout, and retries where they are safe.
//!
//! Retry rules (reference §1): an idempotent call is retried on 5xx, on a timeout or a refused
//! connection, and on 429 (waiting what `x-ratelimit-reset` or `Retry-After` ask, else
//! exponential backoff with full jitter). A call that is not idempotent (issuing a recovery
//! code or link) is never retried: a second attempt could create a second valid secret.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};

use crate::kratos::KratosError;

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
    pub fn from_env() -> Self {
        let mut p = RetryPolicy::default();
        if let Some(n) = std::env::var("ATOCTL_RETRIES")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            p.retries = n;
        }
        if let Some(ms) = std::env::var("ATOCTL_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            p.base = Duration::from_millis(ms);
        }
        p
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

/// One request to send.
pub struct Request<'a> {
    pub method: reqwest::Method,
    /// Path and query, starting with `/`.
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    pub idempotent: bool,
}

/// An answer with its body read.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub url: String,
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

/// Says what the transport is doing when it waits (to stderr, for the operator).
pub type Notice = fn(&str);

/// Says what failed and how long until the next attempt, then waits that long.
pub async fn wait_before_retry(notice: Notice, what: &str, wait: Duration) {
    notice(&format!("{what}: retrying in {:.1}s", wait.as_secs_f64()));
    tokio::time::sleep(wait).await;
}

#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    base: String,
    token: Option<SecretString>,
    retry: RetryPolicy,
    notice: Notice,
}

impl Transport {
    pub fn new(
        base: &str,
        token: Option<SecretString>,
        timeout: Duration,
        retry: RetryPolicy,
        notice: Notice,
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
            notice,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends with retries; any status comes back as an [`Answer`], only a missing answer is
    /// an error.
    pub async fn send(&self, req: Request<'_>) -> Result<Answer, KratosError> {
        let url = self.url(req.path);
        let method_s = req.method.as_str().to_string();
        let mut attempt = 0u32;
        loop {
            let mut rb = self
                .client
                .request(req.method.clone(), &url)
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, concat!("atoctl/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = &self.token {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| KratosError::Transport {
                        method: method_s.clone(),
                        url: url.clone(),
                        detail: "the admin token contains characters not allowed in a header"
                            .into(),
                        timeout: false,
                    })?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            if let Some(b) = &req.body {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            let result = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(b) => Ok(Answer {
                            status,
                            headers,
                            body: b.to_vec(),
                            url: url.clone(),
                        }),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
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
                    wait_before_retry(self.notice, &what, wait).await;
                }
                Ok(ans) => return Ok(ans),
                Err(e) if can_retry && (e.is_timeout() || e.is_connect() || e.is_request()) => {
                    let what = format!("{method_s} {}: {}", req.path, describe(&e));
                    wait_before_retry(self.notice, &what, self.retry.backoff(attempt)).await;
                }
                Err(e) => {
                    return Err(KratosError::Transport {
                        method: method_s,
                        url,
                        detail: describe(&e),
                        timeout: e.is_timeout(),
                    });
                }
            }
            attempt += 1;
        }
    }
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
}
