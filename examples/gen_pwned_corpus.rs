//! Writes a synthetic Pwned Passwords corpus for benchmarks: the single sorted file the official
//! downloader writes (`HASH:COUNT`, uppercase, CRLF), plus query files.
//!
//! The hashes are sorted uniform random numbers generated in order (cumulative exponential gaps
//! on the top 64 bits, scaled to span the whole range; random low bits), so nothing has to be
//! sorted and the distribution is that of real SHA-1 or NT hashes: the offline search gets no
//! easier than on the real file.
//!
//! ```text
//! cargo run --release --example gen_pwned_corpus -- bench-data/pwned-sha1.txt \
//!     --lines 50000000 --queries bench-data/queries.txt --present bench-data/present.txt
//! ```
//!
//! `--queries FILE` gets 100,000 hashes in random order, half of them in the corpus;
//! `--present FILE` gets 50,000 hashes that are in it; `--ntlm` writes 32-digit NT hashes;
//! `--lf` writes LF instead of CRLF; `--seed N` changes the data.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng as _, RngExt as _, SeedableRng};
use std::process::ExitCode;

struct Args {
    out: PathBuf,
    lines: u64,
    queries: Option<PathBuf>,
    present: Option<PathBuf>,
    hex_len: usize,
    crlf: bool,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut out = None;
    let mut a = Args {
        out: PathBuf::new(),
        lines: 50_000_000,
        queries: None,
        present: None,
        hex_len: 40,
        crlf: true,
        seed: 0x5EED,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--lines" => {
                a.lines = value("--lines")?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--lines: {e}"))?
            }
            "--queries" => a.queries = Some(value("--queries")?.into()),
            "--present" => a.present = Some(value("--present")?.into()),
            "--seed" => {
                a.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--ntlm" => a.hex_len = 32,
            "--lf" => a.crlf = false,
            "-h" | "--help" => {
                return Err("usage: gen_pwned_corpus OUT [--lines N] [--queries FILE] [--present FILE] [--ntlm] [--lf] [--seed N]".into());
            }
            _ if out.is_none() && !arg.starts_with('-') => out = Some(PathBuf::from(arg)),
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    a.out = out.ok_or("give the output file")?;
    if a.lines == 0 {
        return Err("--lines must be at least 1".into());
    }
    Ok(a)
}

/// Uniform in (0, 1] (a logarithm is taken of it).
fn unit(rng: &mut SmallRng) -> f64 {
    1.0 - rng.random::<f64>()
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex_into(out: &mut Vec<u8>, mut v: u128, digits: usize) {
    let start = out.len();
    out.resize(start + digits, b'0');
    for i in (0..digits).rev() {
        out[start + i] = HEX[(v & 15) as usize];
        v >>= 4;
    }
}

/// The hash of one line: a 64-bit key (its first 16 digits) and random low digits.
fn render_hash(buf: &mut Vec<u8>, key: u64, low: u128, hex_len: usize) {
    hex_into(buf, key as u128, 16);
    hex_into(buf, low, hex_len - 16);
}

/// The gaps between consecutive keys: exponential, so that the keys are the order statistics
/// of uniform random numbers. The same seed gives the same gaps (two passes read them).
fn gaps(seed: u64) -> impl FnMut() -> u128 {
    let mut rng = SmallRng::seed_from_u64(seed.wrapping_mul(0xD1B5_4A32_D192_ED03));
    move || (-unit(&mut rng).ln() * (1u64 << 40) as f64) as u128 + 1
}

fn run(a: Args) -> Result<(), String> {
    let mut rng = SmallRng::seed_from_u64(a.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let n = a.lines;
    // Pass 1: the sum of the gaps, to scale them so that the keys span the whole 64-bit range
    // (as real hashes do: a corpus ends near FFFF…, and interpolation has no bias).
    let mut gap = gaps(a.seed);
    let total: u128 = (0..n).map(|_| gap()).sum();
    let room = u64::MAX as u128 - n as u128;
    let mut gap = gaps(a.seed);
    let file = File::create(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 22, file);
    let eol: &[u8] = if a.crlf { b"\r\n" } else { b"\n" };
    let low_bits = 4 * (a.hex_len - 16) as u32;
    let low_mask: u128 = (1u128 << low_bits) - 1;
    // Every `stride`-th line is a known-present query.
    let want_present = 50_000u64.min(n);
    let stride = (n / want_present).max(1);
    let mut present: Vec<Vec<u8>> = Vec::with_capacity(want_present as usize);
    let mut key: u128 = 0;
    let mut line = Vec::with_capacity(80);
    let started = std::time::Instant::now();
    for i in 0..n {
        // Scaled to the room left, plus one: strictly increasing, never past 2^64 - 1.
        key += gap() * room / total + 1;
        let low = ((rng.next_u64() as u128) << 64 | rng.next_u64() as u128) & low_mask;
        line.clear();
        render_hash(&mut line, key as u64, low, a.hex_len);
        if i % stride == stride / 2 && present.len() < want_present as usize {
            present.push(line.clone());
        }
        // Counts: mostly small, a long tail, like the real corpus.
        let count = (1.0 / unit(&mut rng).powf(1.3)).min(50_000_000.0) as u64;
        line.push(b':');
        line.extend_from_slice(count.to_string().as_bytes());
        line.extend_from_slice(eol);
        w.write_all(&line).map_err(|e| format!("write: {e}"))?;
        if i > 0 && i % 10_000_000 == 0 {
            eprintln!("{i} lines, {:.0}s", started.elapsed().as_secs_f64());
        }
    }
    w.flush().map_err(|e| format!("write: {e}"))?;
    eprintln!(
        "wrote {n} lines to {} in {:.1}s",
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    let write_lines = |path: &PathBuf, rows: &[Vec<u8>]| -> Result<(), String> {
        let mut w =
            BufWriter::new(File::create(path).map_err(|e| format!("{}: {e}", path.display()))?);
        for r in rows {
            w.write_all(r)
                .and_then(|_| w.write_all(b"\n"))
                .map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())
    };
    if let Some(p) = &a.present {
        write_lines(p, &present)?;
        eprintln!("wrote {} present hashes to {}", present.len(), p.display());
    }
    if let Some(q) = &a.queries {
        // Half present, half random (absent but for a 2^-100 chance), shuffled.
        let mut rows: Vec<Vec<u8>> = present.clone();
        while rows.len() < 2 * present.len() {
            let mut h = Vec::with_capacity(40);
            let low = ((rng.next_u64() as u128) << 64 | rng.next_u64() as u128) & low_mask;
            render_hash(&mut h, rng.next_u64(), low, a.hex_len);
            rows.push(h);
        }
        rows.shuffle(&mut rng);
        write_lines(q, &rows)?;
        eprintln!("wrote {} queries to {}", rows.len(), q.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_pwned_corpus: {e}");
            ExitCode::from(2)
        }
    }
}
