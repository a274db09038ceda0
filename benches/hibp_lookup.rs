//! In-process offline lookups on a generated corpus (see `benches/hibp.sh`): the latency of one
//! warm lookup, and the throughput of a batch (what `--sha1-file` does).
//!
//! ```text
//! HIBP_CORPUS=bench-data/pwned-sha1.txt HIBP_QUERIES=bench-data/queries.txt \
//!     cargo bench --bench hibp_lookup
//! ```
//!
//! Without `HIBP_CORPUS` it says so and exits 0 (so that `cargo bench` works without the data).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use atoctl::hibp::{Corpus, HashHex, HashKind};

fn read_hashes(path: &PathBuf, kind: HashKind) -> Vec<HashHex> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("hibp_lookup: cannot read {}: {e}", path.display());
            std::process::exit(2);
        }
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| HashHex::parse(l, kind).ok())
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let Some(corpus_path) = std::env::var_os("HIBP_CORPUS").map(PathBuf::from) else {
        eprintln!("hibp_lookup: set HIBP_CORPUS (and HIBP_QUERIES) to run; see benches/hibp.sh");
        return;
    };
    let queries_path = std::env::var_os("HIBP_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus_path.with_file_name("queries.txt"));
    let kind = if std::env::var_os("HIBP_NTLM").is_some() {
        HashKind::Ntlm
    } else {
        HashKind::Sha1
    };
    let corpus = match Corpus::open(&corpus_path, kind) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hibp_lookup: {e}");
            std::process::exit(1);
        }
    };
    let queries = read_hashes(&queries_path, kind);
    if queries.is_empty() {
        eprintln!("hibp_lookup: no queries in {}", queries_path.display());
        std::process::exit(2);
    }
    let single = queries.len().min(20_000);

    // Warm-up: the page cache and the branch predictors.
    let mut found = 0usize;
    for q in &queries[..single] {
        if corpus.lookup(q).map(|c| c > 0).unwrap_or(false) {
            found += 1;
        }
    }

    // One lookup at a time.
    let mut times = Vec::with_capacity(single);
    for q in &queries[..single] {
        let t = Instant::now();
        let r = corpus.lookup(q);
        times.push(t.elapsed());
        if let Err(e) = r {
            eprintln!("hibp_lookup: {e}");
            std::process::exit(1);
        }
    }
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "single lookups (warm, {single} queries, {found} found): mean {:.2} µs, p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs",
        total.as_secs_f64() * 1e6 / single as f64,
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6,
    );

    // A batch, sorted internally, as --sha1-file does it.
    for round in 1..=3 {
        let t = Instant::now();
        let counts = match corpus.lookup_many(&queries) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("hibp_lookup: {e}");
                std::process::exit(1);
            }
        };
        let el = t.elapsed();
        let hits = counts.iter().filter(|c| **c > 0).count();
        println!(
            "batch round {round}: {} lookups in {:.1} ms = {:.0} lookups/s ({hits} found)",
            queries.len(),
            el.as_secs_f64() * 1e3,
            queries.len() as f64 / el.as_secs_f64()
        );
    }
}
