//! `kratos-double`: the Kratos/Hydra admin API double as a standalone server, for benchmarks
//! and manual runs.
//!
//! ```text
//! kratos-double [--port P] [--flavour current|1.3] [--latency-ms N]
//!               [--seed-identities N] [--sessions-per-identity M] [--ids-out FILE]
//!               [--token T] [--inflight-limit] [--rate-limit PS,PM] [--threads N]
//!               [--openapi-dir DIR] [--no-validate]
//! ```
//! Seeds N identities (`user<i>@example.com`, password `correct horse <i>`, i from 0), each
//! with M sessions, writes their ids one per line to FILE, prints
//! `listening on http://127.0.0.1:PORT` and serves until killed. `--rate-limit PS,PM` gives
//! every rate-limit bucket PS requests per second and PM per minute (Ory Network's limits).
//! Requests are checked against the OpenAPI documents in DIR (default: `shared/reference`
//! beside the checkout) unless `--no-validate`. `GET /__double/stats` answers
//! `{"requests": n, "by_route": {...}, "rate_limited": n, "refused_by_openapi": n, ...}`.

use std::io::Write;
use std::time::Duration;

use atoctl_testkit::kratos::{
    Config, Flavour, IdentitySeed, KratosDouble, RateBudget, SessionSeed,
};

const USAGE: &str = "usage: kratos-double [--port P] [--flavour current|1.3] [--latency-ms N] \
[--seed-identities N] [--sessions-per-identity M] [--ids-out FILE] [--token T] [--inflight-limit] \
[--rate-limit PS,PM] [--threads N] [--openapi-dir DIR] [--no-validate]";

fn fail(msg: &str) -> ! {
    eprintln!("kratos-double: {msg}\n{USAGE}");
    std::process::exit(2);
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> T {
    let v = v.unwrap_or_else(|| fail(&format!("{flag} needs a value")));
    v.parse()
        .unwrap_or_else(|_| fail(&format!("{flag}: not a number: {v}")))
}

fn main() {
    let mut port: u16 = 0;
    let mut config = Config::default();
    let mut identities: usize = 0;
    let mut sessions: usize = 0;
    let mut ids_out: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = number("--port", args.next()),
            "--flavour" | "--flavor" => {
                config.flavour = match args.next().as_deref() {
                    Some("current") => Flavour::Current,
                    Some("1.3") | Some("v1.3") => Flavour::V1_3,
                    other => fail(&format!("--flavour: unknown {other:?}")),
                }
            }
            "--latency-ms" => {
                config.latency = Duration::from_millis(number("--latency-ms", args.next()))
            }
            "--seed-identities" => identities = number("--seed-identities", args.next()),
            "--sessions-per-identity" => sessions = number("--sessions-per-identity", args.next()),
            "--ids-out" => {
                ids_out = Some(
                    args.next()
                        .unwrap_or_else(|| fail("--ids-out needs a value")),
                )
            }
            "--token" => {
                config.require_token =
                    Some(args.next().unwrap_or_else(|| fail("--token needs a value")))
            }
            "--inflight-limit" => config.inflight_limit = true,
            "--rate-limit" => {
                let v = args
                    .next()
                    .unwrap_or_else(|| fail("--rate-limit needs PS,PM"));
                let (ps, pm) = v
                    .split_once(',')
                    .unwrap_or_else(|| fail(&format!("--rate-limit: not PS,PM: {v}")));
                config.rate_limit = Some(RateBudget {
                    per_second: number("--rate-limit", Some(ps.trim().to_string())),
                    per_minute: number("--rate-limit", Some(pm.trim().to_string())),
                });
            }
            "--openapi-dir" => {
                config.openapi_dir = Some(
                    args.next()
                        .unwrap_or_else(|| fail("--openapi-dir needs a value"))
                        .into(),
                )
            }
            "--no-validate" => config.validate_requests = false,
            "--threads" => config.worker_threads = number("--threads", args.next()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument {other}")),
        }
    }
    let double = KratosDouble::start_on(config, port)
        .unwrap_or_else(|e| fail(&format!("cannot listen on port {port}: {e}")));
    let mut ids = Vec::with_capacity(identities);
    for i in 0..identities {
        let id = double.add_identity(
            IdentitySeed::new(&format!("user{i}@example.com"))
                .password(&format!("correct horse {i}")),
        );
        for _ in 0..sessions {
            double.add_session(&id, SessionSeed::new());
        }
        ids.push(id);
    }
    if let Some(path) = ids_out {
        let mut text = ids.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        if let Err(e) = std::fs::write(&path, text) {
            fail(&format!("cannot write {path}: {e}"));
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", double.url());
    let _ = out.flush();
    loop {
        std::thread::park();
    }
}
