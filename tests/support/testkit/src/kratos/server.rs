//! The HTTP side: one catch-all axum handler that records the request, applies injected
//! faults, the Ory Network edge (token check, rate limits, §1), the OpenAPI gateway (module
//! `openapi`), the inflight limiter (§1), the latency, and then dispatches to the endpoint
//! handlers. Handlers are synchronous functions over the locked state, so the lock is never
//! held across an `.await`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::model::Db;
use super::openapi::{self, Api, OpenApi};
use super::ratelimit::RateLimiter;
use super::{Config, Fault, FaultKind, Flavour, RecordedRequest};
use crate::common::lock;

/// A recorded request; the body is a cheap reference-counted `Bytes`.
struct Record {
    seq: u64,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Bytes,
    status: u16,
}

#[derive(Default)]
struct Log {
    next_seq: u64,
    records: Vec<Record>,
    total: u64,
    by_route: HashMap<String, u64>,
}

/// State shared by the handle and the server.
pub(crate) struct Shared {
    pub config: Config,
    pub base_url: String,
    db: Mutex<Db>,
    log: Mutex<Log>,
    faults: Mutex<Vec<Fault>>,
    inflight: Mutex<HashSet<String>>,
    /// How late this machine's timer fires, measured at start (see [`hold`]).
    timer_late_ns: std::sync::atomic::AtomicU64,
    /// Total time from a request's arrival to its answer being ready, for the mean served
    /// latency in `/__double/stats` (what a benchmark's floor should be computed with).
    served_ns: std::sync::atomic::AtomicU64,
    /// Both OpenAPI documents, compiled; `None` when they could not be read.
    openapi: Option<Arc<OpenApi>>,
    limiter: Option<RateLimiter>,
    /// Requests answered 429 by the rate limiter.
    rate_limited: std::sync::atomic::AtomicU64,
    /// Requests refused by the OpenAPI check.
    refused: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub fn new(config: Config, base_url: String) -> Shared {
        // The documents serve validation and name the rate-limit buckets; a double that does
        // neither (atoctl's sandbox, where they are not installed) does not read them.
        let openapi = if config.validate_requests || config.rate_limit.is_some() {
            let dir = config
                .openapi_dir
                .clone()
                .unwrap_or_else(openapi::default_dir);
            openapi::shared(&dir)
        } else {
            None
        };
        let limiter = config.rate_limit.map(RateLimiter::new);
        Shared {
            config,
            base_url,
            db: Mutex::new(Db::default()),
            log: Mutex::new(Log::default()),
            faults: Mutex::new(vec![]),
            inflight: Mutex::new(HashSet::new()),
            timer_late_ns: std::sync::atomic::AtomicU64::new(0),
            served_ns: std::sync::atomic::AtomicU64::new(0),
            openapi,
            limiter,
            rate_limited: std::sync::atomic::AtomicU64::new(0),
            refused: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Requests are checked against the OpenAPI documents.
    pub fn validating(&self) -> bool {
        self.config.validate_requests && self.openapi.is_some()
    }

    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn db(&self) -> MutexGuard<'_, Db> {
        lock(&self.db)
    }

    pub fn recorded(&self) -> Vec<RecordedRequest> {
        lock(&self.log)
            .records
            .iter()
            .map(|r| RecordedRequest {
                method: r.method.clone(),
                path: r.path.clone(),
                query: r.query.clone(),
                headers: r.headers.clone(),
                body: r.body.to_vec(),
                status: r.status,
            })
            .collect()
    }

    pub fn clear_recorded(&self) {
        lock(&self.log).records.clear();
    }

    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            lock(&self.faults).push(fault);
        }
    }

    fn record(&self, rec: Record, route: &str) -> u64 {
        let mut log = lock(&self.log);
        log.next_seq += 1;
        let seq = log.next_seq;
        log.total += 1;
        *log.by_route.entry(route.to_string()).or_default() += 1;
        log.records.push(Record { seq, ..rec });
        seq
    }

    fn set_status(&self, seq: u64, status: u16) {
        let mut log = lock(&self.log);
        if let Ok(i) = log.records.binary_search_by_key(&seq, |r| r.seq) {
            log.records[i].status = status;
        }
    }

    fn stats(&self) -> Value {
        let log = lock(&self.log);
        let served = self.served_ns.load(std::sync::atomic::Ordering::Relaxed) as f64;
        let mean_ms = if log.total == 0 {
            0.0
        } else {
            served / log.total as f64 / 1e6
        };
        json!({
            "requests": log.total,
            "by_route": log.by_route,
            "mean_served_ms": mean_ms,
            "rate_limited": self.rate_limited(),
            "refused_by_openapi": self.refused.load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The first queued fault matching the request; uses up one of its `times`.
    fn take_fault(&self, method: &str, raw_path: &str, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let i = faults.iter().position(|f| {
            f.method.as_deref().is_none_or(|m| m == method)
                && f.path_prefix
                    .as_deref()
                    .is_none_or(|p| match p.strip_suffix('$') {
                        // `…$`: this path exactly (the query aside).
                        Some(exact) => [raw_path, path]
                            .iter()
                            .any(|x| x.split('?').next() == Some(exact)),
                        None => raw_path.starts_with(p) || path.starts_with(p),
                    })
        })?;
        let kind = faults[i].kind.clone();
        faults[i].times -= 1;
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(kind)
    }
}

/// Removes the path from the inflight set when the write is done (or abandoned).
struct InflightGuard<'a> {
    shared: &'a Shared,
    key: String,
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        lock(&self.shared.inflight).remove(&self.key);
    }
}

/// An answer, before it becomes an HTTP response.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            headers: vec![],
            content_type: Some("application/json; charset=utf-8".into()),
            body: serde_json::to_vec(v).unwrap_or_default(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            content_type: None,
            body: vec![],
        }
    }

    pub fn text(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![],
            content_type: Some(content_type.into()),
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }

    /// Adds the rate limiter's headers, unless the answer already has its own (the inflight
    /// limiter's 429).
    fn with_rate_headers(mut self, headers: Option<Vec<(String, String)>>) -> Reply {
        if let Some(h) = headers
            && !self
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-ratelimit-limit"))
        {
            self.headers.extend(h);
        }
        self
    }
}

pub(crate) fn status_text(code: u16) -> &'static str {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// herodot's default `message` per status (`herodot:error_defaults.go`).
fn default_message(code: u16) -> &'static str {
    match code {
        400 => "The request was malformed or contained invalid parameters",
        401 => "The request could not be authorized",
        403 => "The requested action was forbidden",
        404 => "The requested resource could not be found",
        405 => "The requested method is not allowed for this resource",
        409 => "The resource could not be created due to a conflict",
        422 => "The request was well-formed but was unable to be followed due to semantic errors",
        429 => "Too many requests",
        500 => "An internal server error occurred, please contact the system administrator",
        502 => "The upstream server returned an invalid response",
        503 => "The service is temporarily unavailable",
        504 => "The upstream server did not respond in time",
        _ => "An error occurred",
    }
}

/// A herodot `ErrorContainer` (§0): `{"error":{"code","status","message","reason"?}}`.
pub(crate) fn herodot(code: u16, message: Option<&str>, reason: Option<&str>) -> Reply {
    let mut e = serde_json::Map::new();
    e.insert("code".into(), json!(code));
    e.insert("status".into(), json!(status_text(code)));
    if let Some(r) = reason {
        e.insert("reason".into(), json!(r));
    }
    e.insert(
        "message".into(),
        json!(message.unwrap_or(default_message(code))),
    );
    Reply::json(code, &json!({ "error": Value::Object(e) }))
}

/// `ErrNoRows`: 404 "Unable to locate the resource" (§0).
pub(crate) fn not_found_resource() -> Reply {
    herodot(404, Some("Unable to locate the resource"), None)
}

/// A 400 with the default message and a specific reason (`WithReason`).
pub(crate) fn bad_request(reason: &str) -> Reply {
    herodot(400, None, Some(reason))
}

/// `ErrUniqueViolation` (§0).
pub(crate) fn conflict() -> Reply {
    herodot(
        409,
        Some(
            "Unable to insert or update resource because a resource with that value exists already",
        ),
        None,
    )
}

/// Hydra's flat RFC 6749 error (§0, §12).
pub(crate) fn hydra_error(code: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        code,
        &json!({ "error": error, "error_description": description }),
    )
}

/// The parts of a request a handler reads.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub method: &'a Method,
    /// Canonical path (with `/admin`).
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Ctx<'_> {
    pub fn flavour(&self) -> Flavour {
        self.shared.config.flavour
    }

    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn q_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has_q(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// `decoderx.HTTPJSONDecoder` (§0): the body must be declared `application/json`.
    pub fn require_json(&self) -> Result<(), Reply> {
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime == "application/json" {
            Ok(())
        } else {
            Err(bad_request(&format!(
                "Content-Type must be \"application/json\" but got \"{ct}\"; unable to decode the request body"
            )))
        }
    }
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding for query values (Go's `url.QueryEscape`).
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(crate) fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Self-hosted Kratos rewrites paths without the `/admin` prefix (§0,
/// `AddAdminPrefixIfNotPresentNegroni`); the health endpoints live at both.
fn canonical_path(path: &str) -> String {
    if path == "/admin" || path.starts_with("/admin/") {
        path.to_string()
    } else {
        format!("/admin{path}")
    }
}

/// Every route the double knows.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    Identities,
    Identity(String),
    IdentitySessions(String),
    IdentityCredential(String, String),
    Sessions,
    Session(String),
    RecoveryCode,
    RecoveryLink,
    Version,
    HealthAlive,
    HealthReady,
    HydraConsent,
    HydraLogin,
    Unknown,
}

impl Route {
    fn classify(path: &str) -> Route {
        let segs: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|s| percent_decode(s, false))
            .collect();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        match s.as_slice() {
            ["admin", "identities"] => Route::Identities,
            ["admin", "identities", id] => Route::Identity(id.to_string()),
            ["admin", "identities", id, "sessions"] => Route::IdentitySessions(id.to_string()),
            ["admin", "identities", id, "credentials", t] => {
                Route::IdentityCredential(id.to_string(), t.to_string())
            }
            ["admin", "sessions"] => Route::Sessions,
            ["admin", "sessions", id] => Route::Session(id.to_string()),
            ["admin", "recovery", "code"] => Route::RecoveryCode,
            ["admin", "recovery", "link"] => Route::RecoveryLink,
            ["admin", "version"] => Route::Version,
            ["admin", "health", "alive"] => Route::HealthAlive,
            ["admin", "health", "ready"] => Route::HealthReady,
            ["admin", "oauth2", "auth", "sessions", "consent"] => Route::HydraConsent,
            ["admin", "oauth2", "auth", "sessions", "login"] => Route::HydraLogin,
            _ => Route::Unknown,
        }
    }

    /// The methods served (after which any other method gets 405).
    fn methods(&self, flavour: Flavour) -> &'static [&'static str] {
        match self {
            Route::Identities => &["GET"],
            Route::Identity(_) => &["GET", "PUT", "PATCH", "DELETE"],
            Route::IdentitySessions(_) => &["GET", "DELETE"],
            Route::IdentityCredential(..) => &["DELETE"],
            Route::Sessions => match flavour {
                Flavour::Current => &["GET", "POST"],
                Flavour::V1_3 => &["GET"],
            },
            Route::Session(_) => &["GET", "DELETE"],
            Route::RecoveryCode | Route::RecoveryLink => &["POST"],
            Route::Version | Route::HealthAlive | Route::HealthReady => &["GET"],
            Route::HydraConsent => &["GET", "DELETE"],
            Route::HydraLogin => &["DELETE"],
            Route::Unknown => &[],
        }
    }

    /// A label for `/__double/stats`, and the rate-limit bucket of a route the OpenAPI
    /// documents do not name one for.
    fn label(&self, method: &str) -> String {
        let p = match self {
            Route::Identities => "/admin/identities",
            Route::Identity(_) => "/admin/identities/{id}",
            Route::IdentitySessions(_) => "/admin/identities/{id}/sessions",
            Route::IdentityCredential(..) => "/admin/identities/{id}/credentials/{type}",
            Route::Sessions => "/admin/sessions",
            Route::Session(_) => "/admin/sessions/{id}",
            Route::RecoveryCode => "/admin/recovery/code",
            Route::RecoveryLink => "/admin/recovery/link",
            Route::Version => "/admin/version",
            Route::HealthAlive => "/health/alive",
            Route::HealthReady => "/health/ready",
            Route::HydraConsent => "/admin/oauth2/auth/sessions/consent",
            Route::HydraLogin => "/admin/oauth2/auth/sessions/login",
            Route::Unknown => "unknown",
        };
        format!("{method} {p}")
    }

    /// Writes the inflight limiter watches (§1): PUT/PATCH/DELETE identity, DELETE
    /// credentials, DELETE identity sessions. `DELETE /admin/sessions/{id}` is report-only.
    fn inflight_limited(&self, method: &str) -> bool {
        match self {
            Route::Identity(_) => matches!(method, "PUT" | "PATCH" | "DELETE"),
            Route::Identities => matches!(method, "POST" | "PATCH"),
            Route::IdentityCredential(..) | Route::IdentitySessions(_) => method == "DELETE",
            _ => false,
        }
    }

    fn is_health(&self) -> bool {
        matches!(self, Route::HealthAlive | Route::HealthReady)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(entry).with_state(shared)
}

async fn entry(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return into_response(herodot(413, None, Some("request body too large"))),
    };
    // Spawned, so that a request whose client went away (timeout) is still handled to the
    // end, as a real server would.
    let task = tokio::spawn(async move { process(&shared, parts, body).await });
    match task.await {
        Ok(r) => into_response(r),
        Err(_) => into_response(herodot(500, None, None)),
    }
}

fn into_response(r: Reply) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if let Some(ct) = r.content_type
        && let Ok(v) = HeaderValue::from_str(&ct)
    {
        h.insert("content-type", v);
    }
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.append(k, v);
        }
    }
    resp
}

async fn process(shared: &Shared, parts: axum::http::request::Parts, body: Bytes) -> Reply {
    let arrived = tokio::time::Instant::now();
    let raw_path = parts.uri.path().to_string();
    if raw_path == "/__double/stats" {
        return Reply::json(200, &shared.stats());
    }
    let method = parts.method.as_str().to_string();
    let query = parts.uri.query().map(str::to_string);
    let path = canonical_path(&raw_path);
    let route = Route::classify(&path);
    let seq = shared.record(
        Record {
            seq: 0,
            method: method.clone(),
            path: raw_path.clone(),
            query: query.clone(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.clone(),
            status: 0,
        },
        &route.label(&method),
    );
    let reply = pipeline(
        shared, &parts, &method, &path, &raw_path, &route, &body, arrived,
    )
    .await;
    shared.served_ns.fetch_add(
        arrived.elapsed().as_nanos() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    shared.set_status(seq, reply.status);
    reply
}

/// Measures how late tokio's timer fires on this machine (it rounds waits up to whole
/// milliseconds, and the process may be scheduled late): the mean lateness of a few short
/// sleeps. Only measured when a latency is configured.
pub(crate) async fn calibrate_timer(shared: &Shared) {
    if shared.config.latency.is_zero() {
        return;
    }
    let wait = std::time::Duration::from_millis(3);
    let mut late = std::time::Duration::ZERO;
    const ROUNDS: u32 = 20;
    for _ in 0..ROUNDS {
        let t = tokio::time::Instant::now();
        tokio::time::sleep(wait).await;
        late += t.elapsed().saturating_sub(wait);
    }
    let mean = late / ROUNDS;
    shared
        .timer_late_ns
        .store(mean.as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Holds a request until `latency` after it arrived, aiming early by the timer's measured
/// lateness so that answers leave, on average, the configured latency after the request came
/// in. (A plain `sleep(latency)` measured ~1.5 ms too long per request here, which a
/// benchmark against a latency floor would wrongly charge to the client.)
async fn hold(shared: &Shared, arrived: tokio::time::Instant) {
    let latency = shared.config.latency;
    if latency.is_zero() {
        return;
    }
    let late = std::time::Duration::from_nanos(
        shared
            .timer_late_ns
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    tokio::time::sleep_until(arrived + latency.saturating_sub(late)).await;
}

#[allow(clippy::too_many_arguments)]
async fn pipeline(
    shared: &Shared,
    parts: &axum::http::request::Parts,
    method: &str,
    path: &str,
    raw_path: &str,
    route: &Route,
    body: &Bytes,
    arrived: tokio::time::Instant,
) -> Reply {
    match shared.take_fault(method, raw_path, path) {
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Hold(h)) => h.pass().await,
        Some(kind) => {
            hold(shared, arrived).await;
            return fault_reply(kind);
        }
        None => {}
    }
    if let Some(r) = check_token(shared, &parts.headers, route) {
        hold(shared, arrived).await;
        return r;
    }
    let query = parse_query(parts.uri.query());
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode(s, false))
        .collect();
    let op = shared
        .openapi
        .as_deref()
        .and_then(|api| api.find(method, &segs));
    let rate_headers = match &shared.limiter {
        Some(limiter) if !route.is_health() => {
            let bucket = match op.and_then(|o| o.bucket.as_deref()) {
                Some(b) => b.to_string(),
                None => route.label(method),
            };
            let d = limiter.admit(&bucket);
            if !d.allowed {
                shared
                    .rate_limited
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                hold(shared, arrived).await;
                return Reply::text(429, "text/plain; charset=utf-8", "Too Many Requests")
                    .with_rate_headers(Some(d.headers));
            }
            Some(d.headers)
        }
        _ => None,
    };
    if shared.config.validate_requests
        && let (Some(api), Some(op)) = (shared.openapi.as_deref(), op)
        && let Err(v) = api.check(op, &segs, &query, body)
    {
        shared
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        hold(shared, arrived).await;
        return openapi_refusal(op, &v).with_rate_headers(rate_headers);
    }
    let _guard = if shared.config.inflight_limit && route.inflight_limited(method) {
        let admitted = lock(&shared.inflight).insert(path.to_string());
        if !admitted {
            hold(shared, arrived).await;
            return inflight_reply().with_rate_headers(rate_headers);
        }
        Some(InflightGuard {
            shared,
            key: path.to_string(),
        })
    } else {
        None
    };
    hold(shared, arrived).await;
    let ctx = Ctx {
        shared,
        method: &parts.method,
        path,
        query,
        headers: &parts.headers,
        body,
    };
    dispatch(&ctx, route).with_rate_headers(rate_headers)
}

/// A request the OpenAPI documents forbid: 400 in the API's own error shape, saying which
/// parameter or body field broke which rule.
fn openapi_refusal(op: &openapi::Operation, v: &openapi::Violation) -> Reply {
    match op.api {
        Api::Kratos => herodot(
            400,
            Some(&v.to_string()),
            Some(&format!(
                "The request does not conform to the OpenAPI document of {} ({} {}).",
                op.operation_id, op.method, op.template
            )),
        ),
        Api::Hydra => super::hydra::invalid_request(&format!(
            "{v} (OpenAPI operation {}, {} {}).",
            op.operation_id, op.method, op.template
        )),
    }
}

/// Ory Network's edge (§1). The self-hosted admin port checks nothing; the health
/// endpoints are always open. The edge answers before Kratos or Hydra see the request, so
/// its bodies are not herodot JSON: a 401 is plain text, a 403 an HTML page.
fn check_token(shared: &Shared, headers: &HeaderMap, route: &Route) -> Option<Reply> {
    let want = shared.config.require_token.as_deref()?;
    if route.is_health() {
        return None;
    }
    let unauthorized = |why: &str| {
        Reply::text(
            401,
            "text/plain; charset=utf-8",
            &format!("Unauthorized: {why}\n"),
        )
    };
    let got = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match got {
        None => Some(unauthorized(
            "no API key was provided in the Authorization header",
        )),
        Some(t) if t.starts_with("ory_wak_") => Some(Reply::text(
            403,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body>\
             <h1>403 Forbidden</h1><p>Workspace API keys cannot be used to manage the data \
             of a project. Use a project API key.</p></body></html>\n",
        )),
        Some(t) if t == want => None,
        Some(_) => Some(unauthorized("the API key is invalid")),
    }
}

fn inflight_reply() -> Reply {
    Reply::text(
        429,
        "text/plain; charset=utf-8",
        "Too Many Requests: concurrent request limit exceeded",
    )
    .header("x-ratelimit-limit", "1")
    .header("x-ratelimit-remaining", "0")
    .header("x-ratelimit-reset", "1")
}

fn fault_reply(kind: FaultKind) -> Reply {
    match kind {
        FaultKind::Status(code) => herodot(code, None, None),
        FaultKind::Html(code) => Reply::text(
            code,
            "text/html",
            &format!(
                "<html><head><title>{code} {t}</title></head><body><h1>{code} {t}</h1></body></html>",
                t = status_text(code)
            ),
        ),
        FaultKind::RateLimit { reset_secs } => {
            Reply::text(429, "text/plain; charset=utf-8", "Too Many Requests")
                .header("x-ratelimit-limit", "10, 10;w=1, 300;w=60")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", reset_secs.to_string())
        }
        FaultKind::RetryAfter { secs } => {
            Reply::text(429, "text/plain; charset=utf-8", "Too Many Requests")
                .header("retry-after", secs.to_string())
        }
        FaultKind::Raw {
            status,
            content_type,
            body,
        } => Reply::text(status, &content_type, &body),
        FaultKind::Json { status, body } => Reply::json(status, &body),
        FaultKind::JsonWithHeaders {
            status,
            body,
            headers,
        } => headers
            .into_iter()
            .fold(Reply::json(status, &body), |r, (k, v)| r.header(&k, v)),
        // Handled by the caller; never reached.
        FaultKind::Delay(_) | FaultKind::Hold(_) => herodot(500, None, None),
    }
}

fn dispatch(ctx: &Ctx<'_>, route: &Route) -> Reply {
    let method = ctx.method.as_str();
    let allowed = route.methods(ctx.flavour());
    if allowed.is_empty() {
        return herodot(404, None, None);
    }
    // `POST /admin/sessions` was added after v26.2.0: 1.3.x does not know it (§4).
    if matches!(route, Route::Sessions) && method == "POST" && ctx.flavour() == Flavour::V1_3 {
        return herodot(404, None, None);
    }
    if !allowed.contains(&method) {
        return herodot(405, None, None).header("allow", allowed.join(", "));
    }
    match (route, method) {
        (Route::Identities, _) => super::identities::list(ctx),
        (Route::Identity(id), "GET") => super::identities::get(ctx, id),
        (Route::Identity(id), "PATCH") => super::identities::patch(ctx, id),
        (Route::Identity(id), "PUT") => super::identities::put(ctx, id),
        (Route::Identity(id), _) => super::identities::delete(ctx, id),
        (Route::IdentityCredential(id, t), _) => super::identities::delete_credential(ctx, id, t),
        (Route::IdentitySessions(id), "GET") => super::sessions::list_identity_sessions(ctx, id),
        (Route::IdentitySessions(id), _) => super::sessions::delete_identity_sessions(ctx, id),
        (Route::Sessions, "GET") => super::sessions::list_all(ctx),
        (Route::Sessions, _) => super::sessions::manage(ctx),
        (Route::Session(id), "GET") => super::sessions::get(ctx, id),
        (Route::Session(id), _) => super::sessions::disable(ctx, id),
        (Route::RecoveryCode, _) => super::recovery::code(ctx),
        (Route::RecoveryLink, _) => super::recovery::link(ctx),
        (Route::Version, _) => Reply::json(
            200,
            &json!({"version": match ctx.flavour() {
                Flavour::Current => "v26.2.0",
                Flavour::V1_3 => "v1.3.1",
            }}),
        ),
        (Route::HealthAlive | Route::HealthReady, _) => Reply::json(200, &json!({"status": "ok"})),
        (Route::HydraConsent, "GET") => super::hydra::list_consent(ctx),
        (Route::HydraConsent, _) => super::hydra::revoke_consent(ctx),
        (Route::HydraLogin, _) => super::hydra::revoke_login(ctx),
        (Route::Unknown, _) => herodot(404, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_paths() {
        assert_eq!(
            parse_query(Some("a=1&b=x%3D&a=2&c")),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".into(), "x=".into()),
                ("a".into(), "2".into()),
                ("c".into(), "".into())
            ]
        );
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(canonical_path("/identities/x"), "/admin/identities/x");
        assert_eq!(canonical_path("/admin/identities/x"), "/admin/identities/x");
        assert_eq!(query_escape("ab=="), "ab%3D%3D");
    }
}
