//! The Pwned Passwords range API double, and writers for offline corpora.
//!
//! [`RangeDouble`] serves `GET /range/{PREFIX}` (and `?mode=ntlm`) on 127.0.0.1 from its own
//! runtime in a background thread, like the real API: the real suffixes of the passwords and
//! hashes it was given, filler suffixes, and padding lines of count 0 when the request carries
//! `Add-Padding: true`, in random order, CRLF-separated, the last line without a line ending.
//! It records every request (method, path, query, headers, body) so that tests can prove what
//! left the process, and its [`Mode`] injects the failures a client must not mistake for
//! "not found": HTML pages, error statuses, truncated bodies, broken connections, slowness,
//! malformed lines, redirects.
//!
//! [`corpus`] writes the offline layouts the official downloader produces.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha1::Digest;

/// How the double answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Like the real API.
    Normal,
    /// 200 with an HTML page (a captive portal or a proxy's error page).
    Html,
    /// This status, with a short text body.
    Status(u16),
    /// The first `failures` requests get `status`, the rest are served normally.
    FailThenServe { failures: usize, status: u16 },
    /// 200 whose body is cut inside the last line's suffix (a consistent, short answer).
    Truncated,
    /// Announces the whole body's Content-Length, sends half of it and drops the connection.
    Aborted,
    /// Waits this long before answering normally.
    Slow(Duration),
    /// One filler line has a suffix one digit short (the real suffixes stay intact).
    WrongLength,
    /// 200 with an empty body.
    Empty,
    /// 302 to another loopback address, which nothing listens on.
    Redirect,
    /// 200 with 9 MiB of well-formed padding lines, more than any range answer holds: with its
    /// `Content-Length` when `announced`, else streamed in chunks without one.
    Oversized { announced: bool },
}

/// The double's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// Padding lines (count 0) added when the request asks for padding.
    pub padding: usize,
    /// Filler suffixes with non-zero counts in every range.
    pub filler: usize,
    /// `\r\n` like the real API, or `\n`.
    pub line_ending: &'static str,
    /// Whether the last line has a line ending too (the real API's has none).
    pub final_line_ending: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Normal,
            padding: 850,
            filler: 400,
            line_ending: "\r\n",
            final_line_ending: false,
        }
    }
}

impl Config {
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

pub use crate::common::RecordedRequest;
use crate::common::{ServerThread, lock};

#[derive(Default)]
struct Tables {
    /// Full uppercase hex → count.
    sha1: BTreeMap<String, u64>,
    ntlm: BTreeMap<String, u64>,
}

struct State {
    config: Mutex<Config>,
    tables: Mutex<Tables>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// The range API double. Stops when dropped.
pub struct RangeDouble {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerThread,
}

impl RangeDouble {
    /// Starts on 127.0.0.1 on a free port.
    ///
    /// # Panics
    /// If no port on 127.0.0.1 can be had (see [`RangeDouble::try_start`]).
    pub fn start(config: Config) -> RangeDouble {
        Self::try_start(config).expect("the range double could not start on 127.0.0.1")
    }

    /// Like [`RangeDouble::start`], with the failure to bind or to start the server's runtime
    /// returned instead of a panic.
    pub fn try_start(config: Config) -> std::io::Result<RangeDouble> {
        let state = Arc::new(State {
            config: Mutex::new(config),
            tables: Mutex::new(Tables::default()),
            requests: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let app_state = state.clone();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("range-double".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("range double: listener: {e}");
                            return;
                        }
                    };
                    let app = Router::new().fallback(move |req: Request| {
                        let state = app_state.clone();
                        async move { handle(state, req).await }
                    });
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = shutdown_rx => {}
                    }
                });
            })?;
        Ok(RangeDouble {
            addr,
            state,
            _server: ServerThread::new(shutdown_tx, thread),
        })
    }

    /// `http://127.0.0.1:PORT`, for `--api-url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves a password's SHA-1 and NT hash with this count.
    pub fn add_password(&self, password: &str, count: u64) -> &Self {
        let mut t = lock(&self.state.tables);
        t.sha1.insert(sha1_hex(password), count);
        t.ntlm.insert(nt_hex(password), count);
        self
    }

    /// Serves a SHA-1 (hex, either case) with this count.
    pub fn add_sha1(&self, hex: &str, count: u64) -> &Self {
        lock(&self.state.tables)
            .sha1
            .insert(hex.to_ascii_uppercase(), count);
        self
    }

    /// Serves an NT hash (hex, either case) with this count.
    pub fn add_nt_hash(&self, hex: &str, count: u64) -> &Self {
        lock(&self.state.tables)
            .ntlm
            .insert(hex.to_ascii_uppercase(), count);
        self
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state.config).mode = mode;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }
}

async fn handle(state: Arc<State>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let padded = parts
        .headers
        .get("add-padding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let serial = {
        let mut r = lock(&state.requests);
        r.push(RecordedRequest {
            method: parts.method.as_str().to_string(),
            path: path.clone(),
            query: query.clone(),
            headers,
            body,
            status: 0,
        });
        r.len()
    };
    let response = answer(&state, serial, &path, query.as_deref(), padded).await;
    lock(&state.requests)[serial - 1].status = response.status().as_u16();
    response
}

/// The answer to the `serial`-th request (1, 2, …).
async fn answer(
    state: &Arc<State>,
    serial: usize,
    path: &str,
    query: Option<&str>,
    padded: bool,
) -> Response {
    let config = lock(&state.config).clone();

    let Some(prefix) = path
        .strip_prefix("/range/")
        .filter(|p| p.len() == 5 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_uppercase)
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "The hash prefix was not in a valid format",
        );
    };
    let ntlm = match query {
        None => false,
        Some("mode=ntlm") => true,
        Some(_) => return text(StatusCode::BAD_REQUEST, "unknown query"),
    };

    match &config.mode {
        Mode::Html => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>Sign in to the network</title></head>\
                 <body><form>Accept the terms to continue</form></body></html>",
            )
                .into_response();
        }
        Mode::Status(s) => {
            let status = StatusCode::from_u16(*s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return text(status, "error");
        }
        Mode::FailThenServe { failures, status } if serial <= *failures => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return text(status, "try again");
        }
        Mode::Empty => return text(StatusCode::OK, ""),
        Mode::Oversized { announced } => {
            let line = format!("{}:0\r\n", "0".repeat(35));
            let body = line.repeat((9 << 20) / line.len() + 1);
            if *announced {
                return text(StatusCode::OK, &body);
            }
            let chunks: Vec<Result<Bytes, std::io::Error>> = body
                .as_bytes()
                .chunks(64 << 10)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let mut resp = Response::new(Body::from_stream(futures::stream::iter(chunks)));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return resp;
        }
        Mode::Redirect => {
            return (
                StatusCode::FOUND,
                [(
                    header::LOCATION,
                    format!("http://127.0.0.2:9/range/{prefix}"),
                )],
                "",
            )
                .into_response();
        }
        Mode::Slow(d) => tokio::time::sleep(*d).await,
        _ => {}
    }

    let lines = range_lines(state, &config, &prefix, ntlm, padded);
    let mut body = lines.join(config.line_ending);
    if config.final_line_ending {
        body.push_str(config.line_ending);
    }
    match &config.mode {
        Mode::Truncated => {
            // Cut inside the last line's suffix.
            let last = body
                .trim_end_matches(['\r', '\n'])
                .rfind('\n')
                .map_or(0, |i| i + 1);
            body.truncate(last + 17);
            text(StatusCode::OK, &body)
        }
        Mode::Aborted => {
            let full = body.len();
            let half = Bytes::from(body.into_bytes()[..full / 2].to_vec());
            // The half goes out first (headers included); the break comes a moment later, so
            // that the client sees a body shorter than announced, not a missing response.
            let stream = futures::stream::unfold(Some(half), |state| async move {
                match state {
                    Some(half) => Some((Ok::<Bytes, std::io::Error>(half), None)),
                    None => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Some((
                            Err(std::io::Error::other("connection dropped by the double")),
                            None,
                        ))
                    }
                }
            });
            let mut resp = Response::new(Body::from_stream(stream));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            resp
        }
        _ => text(StatusCode::OK, &body),
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        body.to_string(),
    )
        .into_response()
}

/// The lines of one range: real suffixes, filler, padding; shuffled.
fn range_lines(
    state: &State,
    config: &Config,
    prefix: &str,
    ntlm: bool,
    padded: bool,
) -> Vec<String> {
    let hex_len = if ntlm { 32 } else { 40 };
    let mut rng = Rng::new(seed_of(prefix) ^ if ntlm { 0x5555 } else { 0 });
    let mut lines: Vec<String> = {
        let t = lock(&state.tables);
        let table = if ntlm { &t.ntlm } else { &t.sha1 };
        table
            .range(prefix.to_string()..)
            .take_while(|(h, _)| h.starts_with(prefix))
            .map(|(h, c)| format!("{}:{c}", &h[5..]))
            .collect()
    };
    for i in 0..config.filler {
        let mut suffix = rng.hex(hex_len - 5);
        if config.mode == Mode::WrongLength && i == config.filler / 2 {
            suffix.pop();
        }
        lines.push(format!("{suffix}:{}", 1 + rng.next_u64() % 5000));
    }
    if padded {
        for _ in 0..config.padding {
            lines.push(format!("{}:0", rng.hex(hex_len - 5)));
        }
    }
    rng.shuffle(&mut lines);
    lines
}

fn seed_of(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SHA-1 of the UTF-8 password, uppercase hex.
pub fn sha1_hex(password: &str) -> String {
    hex::encode_upper(sha1::Sha1::digest(password.as_bytes()))
}

/// NT hash (MD4 of the UTF-16LE password), uppercase hex.
pub fn nt_hex(password: &str) -> String {
    let utf16: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
    hex::encode_upper(md4::Md4::digest(&utf16))
}

/// A deterministic generator (rand's seeded `SmallRng`): the same seed gives the same filler.
pub struct Rng(rand::rngs::SmallRng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(rand::SeedableRng::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        rand::Rng::next_u64(&mut self.0)
    }

    /// Shuffles `items` in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        rand::seq::SliceRandom::shuffle(items, &mut self.0);
    }

    /// `n` uppercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n + 16);
        while s.len() < n {
            s.push_str(&format!("{:016X}", self.next_u64()));
        }
        s.truncate(n);
        s
    }
}

/// Offline corpora in the layouts of the official downloader, for tests.
pub mod corpus {
    use std::path::Path;

    use super::Rng;

    /// How a corpus file is written.
    #[derive(Debug, Clone, Copy)]
    pub struct Layout {
        pub crlf: bool,
        /// A UTF-8 byte-order mark at the start of the file.
        pub bom_at_start: bool,
        /// Also one before every n-th line (0: never), as when blocks are concatenated.
        pub bom_every: usize,
        pub final_newline: bool,
    }

    impl Default for Layout {
        /// The downloader's: CRLF, no BOM, a final line ending.
        fn default() -> Self {
            Layout {
                crlf: true,
                bom_at_start: false,
                bom_every: 0,
                final_newline: true,
            }
        }
    }

    /// `entries` (full hex, count) merged with `filler` random hashes of the same length, sorted
    /// and uppercase, one entry per hash.
    pub fn lines_with(entries: &[(String, u64)], filler: usize, seed: u64) -> Vec<(String, u64)> {
        let hex_len = entries.first().map_or(40, |(h, _)| h.len());
        let mut rng = Rng::new(seed);
        let mut all: Vec<(String, u64)> = entries
            .iter()
            .map(|(h, c)| (h.to_ascii_uppercase(), *c))
            .collect();
        for _ in 0..filler {
            all.push((rng.hex(hex_len), 1 + rng.next_u64() % 100_000));
        }
        all.sort();
        all.dedup_by(|a, b| a.0 == b.0);
        all
    }

    /// Like [`lines_with`], but the filler falls in the prefixes of `entries` and in `extra`
    /// prefixes only: a split layout of a few files (creating thousands is slow), each as full
    /// as a real one.
    pub fn lines_in_prefixes(
        entries: &[(String, u64)],
        extra: &[&str],
        per_prefix: usize,
        seed: u64,
    ) -> Vec<(String, u64)> {
        let hex_len = entries.first().map_or(40, |(h, _)| h.len());
        let mut rng = Rng::new(seed);
        let mut prefixes: Vec<String> = entries
            .iter()
            .map(|(h, _)| h[..5].to_ascii_uppercase())
            .collect();
        prefixes.extend(extra.iter().map(|p| p.to_ascii_uppercase()));
        prefixes.sort();
        prefixes.dedup();
        let mut all: Vec<(String, u64)> = entries
            .iter()
            .map(|(h, c)| (h.to_ascii_uppercase(), *c))
            .collect();
        for p in &prefixes {
            for _ in 0..per_prefix {
                all.push((
                    format!("{p}{}", rng.hex(hex_len - 5)),
                    1 + rng.next_u64() % 100_000,
                ));
            }
        }
        all.sort();
        all.dedup_by(|a, b| a.0 == b.0);
        all
    }

    fn render(lines: &[(String, u64)], strip: usize, layout: Layout) -> Vec<u8> {
        let mut out = Vec::with_capacity(lines.len() * 48);
        let eol: &[u8] = if layout.crlf { b"\r\n" } else { b"\n" };
        for (i, (h, c)) in lines.iter().enumerate() {
            if (i == 0 && layout.bom_at_start)
                || (layout.bom_every > 0 && i % layout.bom_every == 0)
            {
                out.extend_from_slice(b"\xEF\xBB\xBF");
            }
            out.extend_from_slice(&h.as_bytes()[strip..]);
            out.extend_from_slice(format!(":{c}").as_bytes());
            if i + 1 < lines.len() || layout.final_newline {
                out.extend_from_slice(eol);
            }
        }
        out
    }

    /// The single sorted file: `HASH:COUNT` lines.
    pub fn write_sorted_file(path: &Path, lines: &[(String, u64)], layout: Layout) {
        std::fs::write(path, render(lines, 0, layout)).expect("write the corpus file");
    }

    /// The split layout: one `PREFIX.txt` of `SUFFIX:COUNT` lines per prefix present in
    /// `lines`.
    pub fn write_split_dir(dir: &Path, lines: &[(String, u64)], layout: Layout) {
        std::fs::create_dir_all(dir).expect("create the corpus directory");
        let mut i = 0;
        while i < lines.len() {
            let prefix = &lines[i].0[..5];
            let j = i + lines[i..]
                .iter()
                .take_while(|(h, _)| h.starts_with(prefix))
                .count();
            std::fs::write(
                dir.join(format!("{prefix}.txt")),
                render(&lines[i..j], 5, layout),
            )
            .expect("write a prefix file");
            i = j;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_vectors() {
        assert_eq!(
            sha1_hex("password"),
            "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"
        );
        assert_eq!(nt_hex("password"), "8846F7EAEE8FB117AD06BDD830B7586C");
    }

    #[test]
    fn the_double_serves_padded_shuffled_ranges_and_records_requests() {
        let d = RangeDouble::start(Config::default());
        d.add_password("password", 42);
        let body = fetch(&d, "/range/5baa6", true);
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(lines.len(), 1 + 400 + 850);
        assert!(lines.contains(&"1E4C9B93F3F0682250B6CF8331B7EE68FD8:42"));
        assert_eq!(lines.iter().filter(|l| l.ends_with(":0")).count(), 850);
        assert!(!body.ends_with('\n'));
        let unpadded = fetch(&d, "/range/5BAA6?mode=ntlm", false);
        assert_eq!(unpadded.split("\r\n").count(), 400);
        let r = d.requests();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].path, "/range/5baa6");
        assert_eq!((r[0].status, r[1].status), (200, 200));
        assert_eq!(r[1].query.as_deref(), Some("mode=ntlm"));
        assert_eq!(r[0].header("Add-Padding"), Some("true"));
    }

    /// A minimal HTTP/1.0 GET, so the double's own test needs no client crate.
    fn fetch(d: &RangeDouble, path: &str, padded: bool) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(d.addr).unwrap();
        let pad = if padded { "Add-Padding: true\r\n" } else { "" };
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n{pad}\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp.split_once("\r\n\r\n").unwrap().1.to_string()
    }
}
