//! The offline corpus: the layouts the official downloader writes.
//!
//! - One sorted file of `HASH:COUNT` lines (uppercase hex, CRLF or LF, the last line with or
//!   without a line ending, a UTF-8 byte-order mark allowed where a line starts). About a billion
//!   lines, so it is never scanned: a lookup reads a few lines at byte offsets with positioned
//!   reads (no memory map: a file truncated under us is an error, not a SIGBUS, and a batch of
//!   lookups does not pay for mapping the whole file). SHA-1 and NT hashes are uniformly
//!   distributed, so a probe goes where the hash should be (interpolation) and a second one
//!   brackets it; once the expected error is small, the neighbourhood is read in one go. A
//!   round that does not halve the interval is followed by a bisection, so a skewed file stays
//!   logarithmic.
//! - A directory of `PREFIX.txt` files holding `SUFFIX:COUNT` lines, as the range API answers:
//!   only the one file for the hash's prefix is read.
//!
//! Every line read is validated, and the probes of a search must come out in increasing order:
//! a file that is not a corpus, or not sorted where we looked, is reported as such instead of
//! being answered wrongly.

use std::cmp::Ordering;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::lines::{BOM, MAX_LINE, ParsedLine, RangeTable, parse_line, parse_lines};
use super::{HashHex, HashKind, LookupError, PREFIX_LEN};

/// Below this many bytes between the bounds, the lines are read in one go and compared in turn.
const SCAN_BYTES: u64 = 256;

/// How far before and after the final interval a search also reads, to check the order there:
/// at least two whole lines on each side, so that a line swapped with its neighbour at either
/// bound is seen.
const SCAN_CONTEXT: u64 = 2 * MAX_LINE as u64 + 2;

/// Batches at least this large are searched by several threads.
const PARALLEL_MIN: usize = 4096;

/// At most this many search threads.
const MAX_THREADS: usize = 8;

/// When the expected error of a guess fits in this many bytes, the neighbourhood is read at
/// once and the rest of the search costs no system call.
const WINDOW: u64 = 16 << 10;

/// A per-prefix file larger than this is not one (a real one holds a few dozen kilobytes).
const MAX_PREFIX_FILE: u64 = 64 << 20;

/// The first 16 hex digits of a hash as a number (either case).
pub(crate) fn key64(hex: &[u8]) -> u64 {
    hex.iter().take(16).fold(0u64, |acc, b| {
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0,
        };
        (acc << 4) | v as u64
    }) << (4 * 16usize.saturating_sub(hex.len().min(16)))
}

/// A local corpus in either layout.
#[derive(Debug)]
pub enum Corpus {
    File(SortedFile),
    Dir(SplitDir),
}

impl Corpus {
    /// Opens `path`: a directory is the split layout, a file the single sorted one.
    pub fn open(path: &Path, kind: HashKind) -> Result<Corpus, LookupError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LookupError::Missing(format!(
                "--offline {}: no such file or directory",
                path.display()
            )),
            _ => LookupError::Io(format!("cannot read {}: {e}", path.display())),
        })?;
        if meta.is_dir() {
            Ok(Corpus::Dir(SplitDir::open(path, kind)?))
        } else {
            Ok(Corpus::File(SortedFile::open(path, kind)?))
        }
    }

    /// Positioned reads of the single file so far (0 for the split layout): what a search
    /// costs, for benchmarks and tests.
    pub fn reads(&self) -> u64 {
        match self {
            Corpus::File(f) => f.reads(),
            Corpus::Dir(_) => 0,
        }
    }

    /// How many times the hash is in the corpus; 0 when it is not.
    pub fn lookup(&self, h: &HashHex) -> Result<u64, LookupError> {
        match self {
            Corpus::File(f) => f.lookup(h),
            Corpus::Dir(d) => d.lookup(h),
        }
    }

    /// Looks up many hashes, in the order given. Faster than one by one: the hashes are taken in
    /// sorted order, so each search starts where the previous one ended (and the split layout
    /// reads each prefix file once). A corpus error ends the whole batch.
    pub fn lookup_many(&self, hashes: &[HashHex]) -> Result<Vec<u64>, LookupError> {
        // Sort by the first 16 digits (a number), then by the rest.
        let mut order: Vec<(u64, usize)> = hashes.iter().map(HashHex::key64).zip(0..).collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| hashes[a.1].hex().cmp(hashes[b.1].hex()))
        });
        let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
        let mut out = vec![0u64; hashes.len()];
        match self {
            Corpus::File(f) => {
                if let Some(h) = hashes.first() {
                    f.check_kind(h)?;
                }
                // Large batches are split into contiguous runs of the sorted order, one thread
                // each: positioned reads share no file offset, and each run resumes from its
                // own previous hash.
                let threads = if order.len() >= PARALLEL_MIN {
                    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
                } else {
                    1
                };
                let mut runs: Vec<&[usize]> = Vec::with_capacity(threads);
                let mut rest = &order[..];
                for t in (1..=threads).rev() {
                    let mut cut = rest.len() / t;
                    // Never split a run of equal hashes.
                    while cut > 0 && cut < rest.len() && hashes[rest[cut]] == hashes[rest[cut - 1]]
                    {
                        cut += 1;
                    }
                    let (run, tail) = rest.split_at(cut.min(rest.len()));
                    runs.push(run);
                    rest = tail;
                }
                let results: Vec<Result<Vec<(usize, u64)>, LookupError>> = if runs.len() == 1 {
                    vec![search_run(f, hashes, runs[0])]
                } else {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = runs
                            .iter()
                            .map(|run| scope.spawn(move || search_run(f, hashes, run)))
                            .collect();
                        handles
                            .into_iter()
                            .map(|h| {
                                h.join().unwrap_or_else(|_| {
                                    Err(LookupError::Io("a search thread panicked".into()))
                                })
                            })
                            .collect()
                    })
                };
                for r in results {
                    for (i, count) in r? {
                        out[i] = count;
                    }
                }
            }
            Corpus::Dir(d) => {
                let mut current: Option<(String, RangeTable)> = None;
                for &i in &order {
                    let h = &hashes[i];
                    if current.as_ref().is_none_or(|(p, _)| p != h.prefix()) {
                        current = Some((h.prefix().to_string(), d.table(h.prefix())?));
                    }
                    if let Some((_, t)) = &current {
                        out[i] = t.count(h.suffix());
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Searches one run of the sorted order, each search resuming where the previous one ended.
fn search_run(
    f: &SortedFile,
    hashes: &[HashHex],
    run: &[usize],
) -> Result<Vec<(usize, u64)>, LookupError> {
    let mut reader = Reader::new(f);
    let mut from = Bound::start();
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let h = &hashes[run[i]];
        let (count, next) = reader.search(h.hex(), from)?;
        from = next;
        while i < run.len() && hashes[run[i]] == *h {
            out.push((run[i], count));
            i += 1;
        }
    }
    Ok(out)
}

/// What is known below the search interval: lines starting before `pos` are smaller than the
/// target, and the last of them has hash `hex`.
#[derive(Debug, Clone, Copy)]
struct Bound {
    pos: u64,
    hex: Option<[u8; 40]>,
}

impl Bound {
    fn start() -> Bound {
        Bound { pos: 0, hex: None }
    }
}

/// A line read at a byte offset.
#[derive(Debug, Clone, Copy)]
struct Probe {
    start: u64,
    end: u64,
    line: ParsedLine,
}

/// The single sorted file.
#[derive(Debug)]
pub struct SortedFile {
    file: File,
    path: PathBuf,
    /// Where the last line ends (trailing blank lines excluded).
    end: u64,
    hex_len: usize,
    /// Positioned reads (system calls) so far: benchmarks and tests check that a search reads
    /// little.
    reads: AtomicU64,
}

impl SortedFile {
    /// Opens the file and validates its first and last lines: a file that is not a corpus, a
    /// corpus of the other hash kind, and a download cut short are reported here.
    pub fn open(path: &Path, kind: HashKind) -> Result<SortedFile, LookupError> {
        let file = File::open(path)
            .map_err(|e| LookupError::Io(format!("cannot open {}: {e}", path.display())))?;
        let len = file
            .metadata()
            .map_err(|e| LookupError::Io(format!("cannot read {}: {e}", path.display())))?
            .len();
        let mut f = SortedFile {
            file,
            path: path.to_path_buf(),
            end: len,
            hex_len: kind.hex_len(),
            reads: AtomicU64::new(0),
        };
        let not = |why: String| f.not_a_corpus(&why);
        if len == 0 {
            return Err(not("it is empty".into()));
        }
        // The first line tells the hash kind.
        let mut head = [0u8; MAX_LINE];
        let n = f.pread(0, &mut head)?;
        let head = &head[..n];
        let body = head.strip_prefix(BOM).unwrap_or(head);
        let digits = body.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if body.get(digits) == Some(&b':') && digits != f.hex_len {
            let other = match digits {
                40 => Some("SHA-1 hashes: drop --ntlm"),
                32 => Some("NT hashes: add --ntlm"),
                _ => None,
            };
            if let Some(hint) = other {
                return Err(LookupError::NotACorpus(format!(
                    "{} is a corpus of {hint}",
                    path.display()
                )));
            }
        }
        parse_line(head, f.hex_len, n as u64 == len, true)
            .map_err(|e| not(format!("its first line {e}")))?;
        // The last line: a cut-short download ends in half a line.
        let tail_len = len.min(2 * MAX_LINE as u64 + 2);
        let tail_at = len - tail_len;
        let mut tail = vec![0u8; tail_len as usize];
        let n = f.pread(tail_at, &mut tail)?;
        tail.truncate(n);
        let mut data_end = tail.len();
        while data_end > 0 && matches!(tail[data_end - 1], b'\n' | b'\r') {
            data_end -= 1;
        }
        if data_end == 0 && tail_at == 0 {
            return Err(not("it has no lines".into()));
        }
        let last_start = match tail[..data_end].iter().rposition(|b| *b == b'\n') {
            Some(p) => p + 1,
            None if tail_at == 0 => 0,
            None => {
                return Err(not(format!("its last {tail_len} bytes hold no line break")));
            }
        };
        let last = parse_line(&tail[last_start..], f.hex_len, true, true)
            .map_err(|e| not(format!("its last line {e} (was the download cut short?)")))?;
        f.end = tail_at + (last_start + last.consumed) as u64;
        Ok(f)
    }

    fn not_a_corpus(&self, why: &str) -> LookupError {
        LookupError::NotACorpus(format!(
            "{} is not a Pwned Passwords corpus: {why}",
            self.path.display()
        ))
    }

    fn not_sorted(&self, at: u64) -> LookupError {
        LookupError::NotACorpus(format!(
            "{} is not a sorted Pwned Passwords corpus: the line at byte {at} is out of order",
            self.path.display()
        ))
    }

    /// A hash of the other kind cannot be in this file.
    fn check_kind(&self, h: &HashHex) -> Result<(), LookupError> {
        if h.hex().len() == self.hex_len {
            return Ok(());
        }
        Err(LookupError::NotACorpus(format!(
            "{} holds hashes of {} hex digits, not {}s",
            self.path.display(),
            self.hex_len,
            h.kind().name()
        )))
    }

    /// Positioned reads so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(AtomicOrdering::Relaxed)
    }

    /// Reads from `off` until `buf` is full or the file ends; returns the bytes read.
    fn pread(&self, off: u64, buf: &mut [u8]) -> Result<usize, LookupError> {
        self.reads.fetch_add(1, AtomicOrdering::Relaxed);
        let mut n = 0;
        while n < buf.len() {
            match self.file.read_at(&mut buf[n..], off + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(LookupError::Io(format!(
                        "cannot read {}: {e}",
                        self.path.display()
                    )));
                }
            }
        }
        Ok(n)
    }

    /// How many times the hash is in the corpus; 0 when it is not.
    pub fn lookup(&self, h: &HashHex) -> Result<u64, LookupError> {
        self.check_kind(h)?;
        let mut reader = Reader::new(self);
        reader.search(h.hex(), Bound::start()).map(|(c, _)| c)
    }
}

/// Reads a sorted file for searches: through a window of the file read in one go when the
/// search knows closely where the target is (so that the probes of its last rounds and the
/// final scan cost no system call), else with one positioned read per probe.
struct Reader<'a> {
    file: &'a SortedFile,
    win_off: u64,
    win: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn new(file: &'a SortedFile) -> Reader<'a> {
        Reader {
            file,
            win_off: 0,
            win: Vec::with_capacity(WINDOW as usize + 4 * MAX_LINE),
        }
    }

    /// Reads `[from, to)` (clipped to the data) into the window.
    fn load_window(&mut self, from: u64, to: u64) -> Result<(), LookupError> {
        let to = to.min(self.file.end);
        let from = from.min(to);
        if from >= self.win_off && to <= self.win_off + self.win.len() as u64 {
            return Ok(());
        }
        self.win.resize((to - from) as usize, 0);
        let n = self.file.pread(from, &mut self.win)?;
        self.win.truncate(n);
        self.win_off = from;
        Ok(())
    }

    /// Reads from `off` until `buf` is full or the data ends: from the window when it holds
    /// the range, else from the file.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<usize, LookupError> {
        let want = buf.len().min(self.file.end.saturating_sub(off) as usize);
        let win_end = self.win_off + self.win.len() as u64;
        if off >= self.win_off && off + want as u64 <= win_end {
            let at = (off - self.win_off) as usize;
            buf[..want].copy_from_slice(&self.win[at..at + want]);
            return Ok(want);
        }
        self.file.pread(off, &mut buf[..want])
    }

    /// Parses the line starting at `buf[at]`, where `buf` was read from file offset `buf_off`.
    fn parse_in(&self, buf: &[u8], buf_off: u64, at: usize) -> Result<Probe, LookupError> {
        let f = self.file;
        let start = buf_off + at as u64;
        let window_end = buf.len().min(at + MAX_LINE);
        let at_end = buf_off + window_end as u64 >= f.end;
        let window_end = window_end.min((f.end - buf_off) as usize);
        let line = parse_line(&buf[at..window_end], f.hex_len, at_end, true)
            .map_err(|e| f.not_a_corpus(&format!("the line at byte {start} {e}")))?;
        Ok(Probe {
            start,
            end: start + line.consumed as u64,
            line,
        })
    }

    /// The first line starting at or after `pos` and before `hi`, if any.
    fn line_at_or_after(&self, pos: u64, hi: u64) -> Result<Option<Probe>, LookupError> {
        // Read from one byte before `pos` (to see whether a line starts at `pos`): the line
        // break ending the line that holds `pos` is at most MAX_LINE bytes on, and the next line
        // at most MAX_LINE bytes long.
        let f = self.file;
        let from = pos.saturating_sub(1);
        let mut buf = [0u8; 2 * MAX_LINE + 1];
        let n = self.read_at(from, &mut buf)?;
        let buf = &buf[..n];
        let at = if pos == 0 {
            0
        } else {
            match buf.iter().take(MAX_LINE + 1).position(|b| *b == b'\n') {
                Some(i) => i + 1,
                None if from + n as u64 >= f.end => return Ok(None),
                None => {
                    return Err(f.not_a_corpus(&format!(
                        "no line break within {MAX_LINE} bytes of byte {pos}"
                    )));
                }
            }
        };
        if from + at as u64 >= hi {
            return Ok(None);
        }
        self.parse_in(buf, from, at).map(Some)
    }

    /// Searches lines in `[from.pos, end)` for `target`; returns its count (0: absent) and a
    /// bound that holds for any larger target.
    ///
    /// Each round probes where the target should be if the hashes between the bounds are
    /// evenly spread (they are: hashes are uniform), then gallops from there towards the target
    /// by the expected error of that guess, doubling up to three times, so that the target ends
    /// up bracketed closely on both sides: a handful of reads on a billion lines, one when a
    /// batch resumes from the previous hash (the window then holds the whole neighbourhood).
    /// A round that does not halve the interval (a skewed file) is followed by a bisection, so
    /// the worst case stays logarithmic.
    fn search(&mut self, target: &[u8], from: Bound) -> Result<(u64, Bound), LookupError> {
        let mut s = Search {
            hex_len: self.file.hex_len,
            target,
            t_key: key64(target) as u128,
            lo: from,
            hi: self.file.end,
            hi_hex: None,
        };
        let mut bisect = false;
        loop {
            let width = s.hi.saturating_sub(s.lo.pos);
            // The end of every search, even with an empty interval: the lines around the
            // place where the target would be are read and checked.
            if width <= SCAN_BYTES {
                return self.scan(&s);
            }
            if bisect {
                let mid = s.lo.pos + width / 2;
                if let Step::Found(c, b) = self.probe(&mut s, mid)? {
                    return Ok((c, b));
                }
            } else {
                let guess = s.interpolate();
                let mut delta = s.expected_error(guess).max(SCAN_BYTES / 2);
                // Close enough: read the whole neighbourhood once.
                let margin = SCAN_CONTEXT + 2 * MAX_LINE as u64;
                if 2 * (delta + margin) <= WINDOW {
                    let from = guess
                        .saturating_sub(delta + margin)
                        .max(s.lo.pos.saturating_sub(margin));
                    let to = (guess + delta + margin).min(s.hi + margin);
                    self.load_window(from, to)?;
                }
                let first = self.probe(&mut s, guess)?;
                if let Step::Found(c, b) = first {
                    return Ok((c, b));
                }
                let upward = matches!(first, Step::Below);
                for _ in 0..3 {
                    let at = if upward {
                        s.lo.pos + delta
                    } else {
                        s.hi.saturating_sub(delta)
                    };
                    if at >= s.hi || at <= s.lo.pos {
                        break;
                    }
                    match self.probe(&mut s, at)? {
                        Step::Found(c, b) => return Ok((c, b)),
                        // Still on the same side: further.
                        Step::Below if upward => delta *= 2,
                        Step::Above | Step::Nothing if !upward => delta *= 2,
                        // Crossed: bracketed.
                        _ => break,
                    }
                }
            }
            bisect = s.hi.saturating_sub(s.lo.pos) > width / 2;
        }
    }

    /// Reads the first line at or after `pos` and narrows the interval by it.
    fn probe(&self, s: &mut Search<'_>, pos: u64) -> Result<Step, LookupError> {
        let n = s.hex_len;
        let Some(p) = self.line_at_or_after(pos, s.hi)? else {
            s.hi = pos;
            return Ok(Step::Nothing);
        };
        let h = &p.line.hex[..n];
        if s.lo.hex.is_some_and(|l| l[..n] >= *h) || s.hi_hex.is_some_and(|u| u[..n] <= *h) {
            return Err(self.file.not_sorted(p.start));
        }
        let after = Bound {
            pos: p.end,
            hex: Some(p.line.hex),
        };
        Ok(match h.cmp(s.target) {
            Ordering::Equal => Step::Found(p.line.count, after),
            Ordering::Less => {
                s.lo = after;
                Step::Below
            }
            Ordering::Greater => {
                s.hi = p.start;
                s.hi_hex = Some(p.line.hex);
                Step::Above
            }
        })
    }

    /// Reads the lines starting in `[lo.pos, hi)` at once, with two lines of context on both
    /// sides, checks that they are in strictly increasing order (so that a line displaced
    /// next to the target is noticed rather than answered "not found") and looks for the
    /// target among them.
    fn scan(&self, s: &Search<'_>) -> Result<(u64, Bound), LookupError> {
        let f = self.file;
        let n = s.hex_len;
        let (lo, hi) = (s.lo, s.hi);
        let from = lo.pos.saturating_sub(SCAN_CONTEXT);
        let stop = (hi + SCAN_CONTEXT).min(f.end);
        let to = (stop + MAX_LINE as u64).min(f.end);
        let mut buf = [0u8; (SCAN_BYTES + 2 * SCAN_CONTEXT) as usize + MAX_LINE];
        let got = self.read_at(from, &mut buf[..(to - from) as usize])?;
        let buf = &buf[..got];
        let mut at = if from == 0 {
            0
        } else {
            match buf.iter().position(|b| *b == b'\n') {
                Some(i) => i + 1,
                None => {
                    return Err(f.not_a_corpus(&format!("no line break near byte {from}")));
                }
            }
        };
        let mut prev: Option<[u8; 40]> = None;
        let mut count = 0u64;
        let mut below = lo;
        while from + (at as u64) < stop && at < buf.len() {
            let p = self.parse_in(buf, from, at)?;
            let h = &p.line.hex[..n];
            if prev.is_some_and(|l| l[..n] >= *h) {
                return Err(f.not_sorted(p.start));
            }
            if p.start >= lo.pos && p.start < hi && s.hi_hex.is_some_and(|u| u[..n] <= *h) {
                return Err(f.not_sorted(p.start));
            }
            match h.cmp(s.target) {
                Ordering::Equal => count = p.line.count,
                Ordering::Less => {}
                Ordering::Greater => {
                    prev = Some(p.line.hex);
                    at = (p.end - from) as usize;
                    continue;
                }
            }
            if p.end > below.pos {
                below = Bound {
                    pos: p.end,
                    hex: Some(p.line.hex),
                };
            }
            prev = Some(p.line.hex);
            at = (p.end - from) as usize;
        }
        Ok((count, below))
    }
}

/// What a probe found, relative to the target.
enum Step {
    Found(u64, Bound),
    /// The line read is smaller: the interval now starts after it.
    Below,
    /// The line read is larger: the interval now ends before it.
    Above,
    /// No line starts between the probe and the end of the interval, which now ends there.
    Nothing,
}

/// One search: the interval `[lo.pos, hi)` that would hold the target, and the hashes at its
/// bounds.
struct Search<'a> {
    hex_len: usize,
    target: &'a [u8],
    t_key: u128,
    lo: Bound,
    hi: u64,
    hi_hex: Option<[u8; 40]>,
}

impl Search<'_> {
    /// Where the target would sit if the hashes between the bounds were evenly spread; aimed
    /// half a line early, so that the next line start is the likely one.
    fn interpolate(&self) -> u64 {
        let n = self.hex_len;
        let width = self.hi - self.lo.pos;
        let lo_key = self.lo.hex.map_or(0, |h| key64(&h[..n]) as u128);
        let hi_key = self.hi_hex.map_or(1u128 << 64, |h| key64(&h[..n]) as u128);
        let span = hi_key.saturating_sub(lo_key).max(1);
        let off = self.t_key.saturating_sub(lo_key).min(span) * width as u128 / span;
        (self.lo.pos + off as u64)
            .saturating_sub(n as u64 / 2 + 4)
            .clamp(self.lo.pos, self.hi - 1)
    }

    /// Two standard deviations of an interpolated position, in bytes: of m uniform hashes,
    /// the one at fraction f of the key range sits at line m·f give or take √(m·f·(1−f)).
    /// Near a bound (a batch resuming where the previous hash was found) that is a few lines;
    /// in the middle of a billion, about 16,000.
    fn expected_error(&self, guess: u64) -> u64 {
        let line = self.hex_len as f64 + 6.0;
        let width = self.hi.saturating_sub(self.lo.pos) as f64;
        let f = if width > 0.0 {
            (guess.saturating_sub(self.lo.pos) as f64 / width).clamp(0.0, 1.0)
        } else {
            0.5
        };
        (2.0 * (width / line * f * (1.0 - f)).sqrt() * line) as u64
    }
}

/// The split layout: a directory of `PREFIX.txt` files.
#[derive(Debug)]
pub struct SplitDir {
    dir: PathBuf,
    kind: HashKind,
}

impl SplitDir {
    pub fn open(dir: &Path, kind: HashKind) -> Result<SplitDir, LookupError> {
        Ok(SplitDir {
            dir: dir.to_path_buf(),
            kind,
        })
    }

    /// How many times the hash is in the corpus; 0 when it is not.
    pub fn lookup(&self, h: &HashHex) -> Result<u64, LookupError> {
        Ok(self.table(h.prefix())?.count(h.suffix()))
    }

    /// Reads and validates the one file for `prefix`. Messages do not name the file: its name
    /// is the prefix.
    pub fn table(&self, prefix: &str) -> Result<RangeTable, LookupError> {
        let mut path = self.dir.join(format!("{prefix}.txt"));
        if !path.is_file() {
            let lower = self
                .dir
                .join(format!("{}.txt", prefix.to_ascii_lowercase()));
            if lower.is_file() {
                path = lower;
            } else {
                return Err(self.missing());
            }
        }
        let file = File::open(&path).map_err(|e| {
            LookupError::Io(format!(
                "cannot read the prefix file in {}: {e}",
                self.dir.display()
            ))
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > MAX_PREFIX_FILE {
            return Err(self.not_a_corpus(&format!(
                "the prefix file for this hash holds {len} bytes, far more than a prefix file can"
            )));
        }
        let mut data = Vec::with_capacity(len as usize);
        (&file).take(len).read_to_end(&mut data).map_err(|e| {
            LookupError::Io(format!(
                "cannot read the prefix file in {}: {e}",
                self.dir.display()
            ))
        })?;
        parse_lines(&data, self.kind.suffix_len(), true)
            .map_err(|e| self.not_a_corpus(&format!("in the prefix file for this hash, {e}")))
    }

    fn missing(&self) -> LookupError {
        let any = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries.flatten().any(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.len() == PREFIX_LEN + 4
                        && name.ends_with(".txt")
                        && name[..PREFIX_LEN].bytes().all(|b| b.is_ascii_hexdigit())
                })
            })
            .unwrap_or(false);
        if any {
            LookupError::NotACorpus(format!(
                "{} is an incomplete corpus: it has no file for this hash's prefix (was the download interrupted?)",
                self.dir.display()
            ))
        } else {
            self.not_a_corpus("it holds no PREFIX.txt files (like 00000.txt)")
        }
    }

    fn not_a_corpus(&self, why: &str) -> LookupError {
        LookupError::NotACorpus(format!(
            "{} is not a Pwned Passwords corpus directory: {why}",
            self.dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key64_orders_like_the_hex() {
        assert_eq!(key64(b"0000000000000000FFFF"), 0);
        assert_eq!(key64(b"FFFFFFFFFFFFFFFF0000"), u64::MAX);
        assert_eq!(key64(b"8"), 1 << 63);
        assert!(key64(b"7FFFFFFFFFFFFFFF") < key64(b"8000000000000000"));
    }
    // A deterministic generator, so that failures reproduce.
    use atoctl_testkit::hibp::Rng;

    #[derive(Clone, Copy)]
    struct Style {
        crlf: bool,
        bom_every: usize,
        final_newline: bool,
    }

    fn render(lines: &[(Vec<u8>, u64)], style: Style) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, (h, c)) in lines.iter().enumerate() {
            if style.bom_every > 0 && i % style.bom_every == 0 {
                out.extend_from_slice(BOM);
            }
            out.extend_from_slice(h);
            out.extend_from_slice(format!(":{c}").as_bytes());
            if i + 1 < lines.len() || style.final_newline {
                out.extend_from_slice(if style.crlf { b"\r\n" } else { b"\n" });
            }
        }
        out
    }

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    fn sorted_lines(rng: &mut Rng, n: usize, hex_len: usize) -> Vec<(Vec<u8>, u64)> {
        let mut hs: Vec<Vec<u8>> = (0..n).map(|_| rng.hex(hex_len).into_bytes()).collect();
        hs.sort();
        hs.dedup();
        hs.into_iter()
            .map(|h| (h, 1 + rng.next_u64() % 100_000))
            .collect()
    }

    fn kind_of(hex_len: usize) -> HashKind {
        if hex_len == 40 {
            HashKind::Sha1
        } else {
            HashKind::Ntlm
        }
    }

    fn hh(h: &[u8]) -> HashHex {
        HashHex::parse_bytes(h, kind_of(h.len())).unwrap()
    }

    /// Checks every present hash, absent ones next to them and random ones, one by one and in
    /// a batch, against the lines themselves.
    fn check_all(path: &Path, lines: &[(Vec<u8>, u64)], rng: &mut Rng) {
        let hex_len = lines[0].0.len();
        let corpus = Corpus::open(path, kind_of(hex_len)).unwrap();
        let mut queries: Vec<(Vec<u8>, u64)> = lines.to_vec();
        for (h, _) in lines.iter().step_by(7) {
            // The same hash one lower and one higher in its last digit, when absent.
            for delta in [-1i8, 1] {
                let mut x = h.clone();
                let last = x[hex_len - 1];
                let v = (last as char).to_digit(16).unwrap() as i8 + delta;
                if (0..16).contains(&v) {
                    x[hex_len - 1] = format!("{v:X}").as_bytes()[0];
                    if lines.binary_search_by(|(l, _)| l.cmp(&x)).is_err() {
                        queries.push((x, 0));
                    }
                }
            }
        }
        for _ in 0..500 {
            let x = rng.hex(hex_len).into_bytes();
            let expect = lines
                .binary_search_by(|(l, _)| l.cmp(&x))
                .map(|i| lines[i].1)
                .unwrap_or(0);
            queries.push((x, expect));
        }
        for edge in [vec![b'0'; hex_len], vec![b'F'; hex_len]] {
            let expect = lines
                .binary_search_by(|(l, _)| l.cmp(&edge))
                .map(|i| lines[i].1)
                .unwrap_or(0);
            queries.push((edge, expect));
        }
        for (q, expect) in &queries {
            assert_eq!(
                corpus.lookup(&hh(q)).unwrap(),
                *expect,
                "{}",
                String::from_utf8_lossy(q)
            );
        }
        // A batch in shuffled order with duplicates, and lowercase input.
        let mut batch: Vec<(Vec<u8>, u64)> = queries.clone();
        batch.extend(queries.iter().step_by(3).cloned());
        rng.shuffle(&mut batch);
        let hashes: Vec<HashHex> = batch
            .iter()
            .map(|(q, _)| hh(&q.to_ascii_lowercase()))
            .collect();
        let got = corpus.lookup_many(&hashes).unwrap();
        let want: Vec<u64> = batch.iter().map(|(_, c)| *c).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sorted_file_answers_like_a_plain_search_in_every_layout() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        let styles = [
            Style {
                crlf: true,
                bom_every: 0,
                final_newline: true,
            },
            Style {
                crlf: false,
                bom_every: 0,
                final_newline: false,
            },
            Style {
                crlf: true,
                bom_every: 1,
                final_newline: false,
            },
            Style {
                crlf: false,
                bom_every: 97,
                final_newline: true,
            },
        ];
        for (i, style) in styles.into_iter().enumerate() {
            let hex_len = if i == 3 { 32 } else { 40 };
            let lines = sorted_lines(&mut rng, 3000, hex_len);
            let f = file_with(&render(&lines, style));
            check_all(f.path(), &lines, &mut rng);
        }
    }

    #[test]
    fn sorted_file_handles_tiny_and_skewed_files() {
        let mut rng = Rng::new(42);
        for n in 1..6 {
            let lines = sorted_lines(&mut rng, n, 40);
            for final_newline in [false, true] {
                let style = Style {
                    crlf: true,
                    bom_every: 0,
                    final_newline,
                };
                let f = file_with(&render(&lines, style));
                check_all(f.path(), &lines, &mut rng);
            }
        }
        // Everything crowded into one corner of the key space except the last line: the
        // interpolation guesses badly and the bisection fallback has to find the way.
        let mut lines: Vec<(Vec<u8>, u64)> = (0..4000u64)
            .map(|i| (format!("0000000000{:030X}", i * 7919).into_bytes(), i + 1))
            .collect();
        lines.push((vec![b'F'; 40], 9));
        let style = Style {
            crlf: false,
            bom_every: 0,
            final_newline: true,
        };
        let f = file_with(&render(&lines, style));
        check_all(f.path(), &lines, &mut rng);
        // Trailing blank lines are tolerated.
        let mut bytes = render(&lines, style);
        bytes.extend_from_slice(b"\r\n\n");
        let f = file_with(&bytes);
        check_all(f.path(), &lines, &mut rng);
    }

    fn open_err(bytes: &[u8], kind: HashKind) -> String {
        let f = file_with(bytes);
        match Corpus::open(f.path(), kind) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{} opened as a corpus", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn what_is_not_a_corpus_is_reported() {
        let line = b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\n";
        assert!(open_err(b"", HashKind::Sha1).contains("empty"));
        assert!(open_err(b"hello world\n", HashKind::Sha1).contains("first line"));
        assert!(open_err(b"<!DOCTYPE html><html></html>", HashKind::Sha1).contains("HTML"));
        assert!(open_err(b"{\"pwned\": true}\n", HashKind::Sha1).contains("not a Pwned"));
        assert!(open_err(line, HashKind::Ntlm).contains("drop --ntlm"));
        assert!(
            open_err(b"8846F7EAEE8FB117AD06BDD830B7586C:1\n", HashKind::Sha1)
                .contains("add --ntlm")
        );
        let mut cut = line.repeat(3);
        cut.extend_from_slice(b"5BAA61E4C9B93F3F0682");
        assert!(open_err(&cut, HashKind::Sha1).contains("cut short"));
        let mut spaced = line.to_vec();
        spaced.extend_from_slice(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD9: 1\r\n");
        assert!(open_err(&spaced, HashKind::Sha1).contains("last line"));
    }

    #[test]
    fn unsorted_files_are_reported_not_answered() {
        let mut rng = Rng::new(7);
        let lines = sorted_lines(&mut rng, 2000, 40);
        let style = Style {
            crlf: true,
            bom_every: 0,
            final_newline: true,
        };
        // Reversed: every lookup that probes twice sees the disorder.
        let mut rev = lines.clone();
        rev.reverse();
        let f = file_with(&render(&rev, style));
        let c = Corpus::open(f.path(), HashKind::Sha1).unwrap();
        let errors = lines
            .iter()
            .filter(|(h, _)| matches!(c.lookup(&hh(h)), Err(LookupError::NotACorpus(_))))
            .count();
        assert!(errors > lines.len() * 9 / 10, "{errors} of {}", lines.len());
        assert!(
            c.lookup_many(&[hh(&lines[5].0), hh(&lines[1500].0)])
                .is_err()
        );
        // Two neighbours swapped: looking up either finds it or reports the disorder, and is
        // never answered "not found".
        let mut reported = 0;
        for i in (0usize..1999).step_by(37).chain([1, 1997, 1998]) {
            let mut swapped = lines.clone();
            swapped.swap(i, i + 1);
            let f = file_with(&render(&swapped, style));
            let c = Corpus::open(f.path(), HashKind::Sha1).unwrap();
            for (h, count) in [&lines[i], &lines[i + 1]] {
                match c.lookup(&hh(h)) {
                    Err(LookupError::NotACorpus(m)) => {
                        assert!(m.contains("sorted"), "{m}");
                        reported += 1;
                    }
                    Ok(n) => assert_eq!(n, *count, "swapped line {i}"),
                    other => panic!("swapped line {i}: {other:?}"),
                }
            }
        }
        assert!(reported > 0);
    }

    #[test]
    fn split_directory_reads_the_one_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("5BAA6.txt"),
            b"\xEF\xBB\xBF0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0",
        )
        .unwrap();
        std::fs::write(dir.path().join("00000.txt"), b"not a corpus\n").unwrap();
        let c = Corpus::open(dir.path(), HashKind::Sha1).unwrap();
        assert_eq!(
            c.lookup(&hh(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"))
                .unwrap(),
            9_545_824
        );
        assert_eq!(
            c.lookup(&hh(b"5BAA6FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"))
                .unwrap(),
            0
        );
        assert_eq!(
            c.lookup(&hh(b"5BAA60000000000000000000000000000000000A"))
                .unwrap(),
            0
        );
        let e = c
            .lookup(&hh(b"00000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"))
            .unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = c
            .lookup(&hh(b"12345FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"))
            .unwrap_err();
        assert!(e.to_string().contains("incomplete"), "{e}");
        assert!(!e.to_string().contains("12345"));
        let empty = tempfile::tempdir().unwrap();
        let c = Corpus::open(empty.path(), HashKind::Sha1).unwrap();
        let e = c
            .lookup(&hh(b"12345FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"))
            .unwrap_err();
        assert!(e.to_string().contains("no PREFIX.txt"), "{e}");
    }

    #[test]
    fn a_search_reads_a_handful_of_lines_never_the_file() {
        let mut rng = Rng::new(99);
        let lines = sorted_lines(&mut rng, 200_000, 40);
        let style = Style {
            crlf: true,
            bom_every: 0,
            final_newline: true,
        };
        let f = file_with(&render(&lines, style));
        let c = Corpus::open(f.path(), HashKind::Sha1).unwrap();
        let n = 2000;
        let sample: Vec<&(Vec<u8>, u64)> = lines.iter().step_by(lines.len() / n).take(n).collect();
        let before = c.reads();
        for (h, count) in &sample {
            assert_eq!(c.lookup(&hh(h)).unwrap(), *count);
        }
        let per_lookup = (c.reads() - before) as f64 / n as f64;
        // Uniform hashes: one or two probes, then one read of the neighbourhood.
        assert!(per_lookup < 5.0, "{per_lookup} reads per lookup");
        // A batch resumes from the previous hash: about one read each.
        let hashes: Vec<HashHex> = sample.iter().map(|(h, _)| hh(h)).collect();
        let before = c.reads();
        let expect: Vec<u64> = sample.iter().map(|(_, c)| *c).collect();
        assert_eq!(c.lookup_many(&hashes).unwrap(), expect);
        let per_lookup = (c.reads() - before) as f64 / n as f64;
        assert!(per_lookup < 2.0, "{per_lookup} reads per lookup in a batch");
        // Skewed: everything in one corner but one line. Bounded by a few times log2(lines).
        let mut skewed: Vec<(Vec<u8>, u64)> = (0..100_000u64)
            .map(|i| (format!("00000000{:032X}", i * 104_729).into_bytes(), 1))
            .collect();
        skewed.push((vec![b'F'; 40], 1));
        let f = file_with(&render(&skewed, style));
        let c = Corpus::open(f.path(), HashKind::Sha1).unwrap();
        for (h, _) in skewed.iter().step_by(997) {
            let before = c.reads();
            assert_eq!(c.lookup(&hh(h)).unwrap(), 1);
            let reads = c.reads() - before;
            assert!(reads <= 4 * 17 + 2, "{reads} reads on a skewed file");
        }
    }
}
