//! The offline corpus: the layouts the official downloader writes.
//!
//! - One sorted file of `HASH:COUNT` lines (uppercase hex, CRLF or LF, the last line with or
//!   without a line ending, a UTF-8 byte-order mark allowed where a line starts). About a billion
//!   lines, so it is never scanned: a lookup reads a few lines at byte offsets with positioned
//!   reads (no memory map: a file truncated under us is an error, not a SIGBUS). SHA-1 and NT
//!   hashes are uniformly distributed, so the first probe goes where the hash should be
//!   (interpolation); a probe that does not halve the interval is followed by a bisection, so
//!   a skewed file costs at most twice a plain binary search.
//! - A directory of `PREFIX.txt` files holding `SUFFIX:COUNT` lines, as the range API answers:
//!   only the one file for the hash's prefix is read.
//!
//! Every line read is validated, and the probes of a search must come out in increasing order:
//! a file that is not a corpus, or not sorted where we looked, is reported as such instead of
//! being answered wrongly.

use std::cmp::Ordering;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::range::{RangeTable, parse_lines};
use super::{HashHex, HashKind, LookupError, PREFIX_LEN};

/// A UTF-8 byte-order mark: tolerated at the start of any line (block).
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most digits a count may have (u64::MAX has 20).
pub const MAX_COUNT_DIGITS: usize = 20;

/// The longest valid line: BOM, 40 hex digits, colon, count, CRLF.
pub const MAX_LINE: usize = BOM.len() + 40 + 1 + MAX_COUNT_DIGITS + 2;

/// Below this many bytes between the bounds, the lines are read in one go and compared in turn.
const SCAN_BYTES: u64 = 512;

/// How far before and after the final interval a search also reads, to check the order there.
const SCAN_CONTEXT: u64 = 100;

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

/// One `HEX:COUNT` line parsed from the start of `buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedLine {
    /// The hex digits, uppercased, in the first `hex_len` bytes.
    pub hex: [u8; 40],
    pub count: u64,
    /// Bytes used, the line ending included.
    pub consumed: usize,
}

/// Parses the line at the start of `buf`: `[BOM] HEX{hex_len} ':' DIGITS ('\r\n' | '\n' | end)`.
/// `at_end` says that `buf` ends where the data ends (so a missing line ending is allowed).
/// The error says what is wrong without quoting the line.
pub(crate) fn parse_line(
    buf: &[u8],
    hex_len: usize,
    at_end: bool,
    allow_bom: bool,
) -> Result<ParsedLine, String> {
    let mut i = 0;
    if buf.starts_with(BOM) {
        if !allow_bom {
            return Err("starts with a byte-order mark".into());
        }
        i = BOM.len();
    }
    let run = buf[i..]
        .iter()
        .take(hex_len + 1)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if run != hex_len || buf.get(i + hex_len) != Some(&b':') {
        let rest = &buf[i..];
        let found = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        return Err(if rest.is_empty() {
            "is empty".to_string()
        } else if rest[0] == b'<' {
            "starts with '<' (an HTML page?)".to_string()
        } else if rest.get(found) == Some(&b':') {
            format!("has {found} hex digits before the colon where {hex_len} are expected")
        } else {
            format!("is not {hex_len} hex digits, a colon and a count")
        });
    }
    let mut hex = [0u8; 40];
    for (d, s) in hex.iter_mut().zip(&buf[i..i + hex_len]) {
        *d = s.to_ascii_uppercase();
    }
    let digits_at = i + hex_len + 1;
    let digits = buf[digits_at..]
        .iter()
        .take(MAX_COUNT_DIGITS + 1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return Err("has no count after the colon".into());
    }
    if digits > MAX_COUNT_DIGITS {
        return Err("has a count with too many digits".into());
    }
    let mut count = 0u64;
    for b in &buf[digits_at..digits_at + digits] {
        count = count
            .checked_mul(10)
            .and_then(|c| c.checked_add((b - b'0') as u64))
            .ok_or_else(|| "has a count too large for 64 bits".to_string())?;
    }
    let end = digits_at + digits;
    let consumed = match &buf[end..] {
        [] if at_end => end,
        [b'\n', ..] => end + 1,
        [b'\r', b'\n', ..] => end + 2,
        [] | [b'\r'] if !at_end => {
            return Err("is longer than a corpus line can be".into());
        }
        _ => return Err("has something other than a line ending after the count".into()),
    };
    Ok(ParsedLine {
        hex,
        count,
        consumed,
    })
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
        let mut order: Vec<usize> = (0..hashes.len()).collect();
        order.sort_unstable_by(|a, b| hashes[*a].hex().cmp(hashes[*b].hex()));
        let mut out = vec![0u64; hashes.len()];
        match self {
            Corpus::File(f) => {
                let mut from = Bound::start();
                let mut i = 0;
                while i < order.len() {
                    let h = &hashes[order[i]];
                    let (count, next) = f.search(h.hex(), from)?;
                    from = next;
                    while i < order.len() && hashes[order[i]] == *h {
                        out[order[i]] = count;
                        i += 1;
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
        };
        let not = |why: String| f.not_a_corpus(&why);
        if len == 0 {
            return Err(not("it is empty".into()));
        }
        // The first line tells the hash kind.
        let mut head = [0u8; MAX_LINE];
        let n = f.read_at(0, &mut head)?;
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
        let n = f.read_at(tail_at, &mut tail)?;
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

    /// Reads from `off` until `buf` is full or the file ends; returns the bytes read.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<usize, LookupError> {
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

    /// Parses the line starting at `buf[at]`, where `buf` was read from file offset `buf_off`.
    fn parse_in(&self, buf: &[u8], buf_off: u64, at: usize) -> Result<Probe, LookupError> {
        let start = buf_off + at as u64;
        let window_end = buf.len().min(at + MAX_LINE);
        let at_end = buf_off + window_end as u64 >= self.end;
        let window_end = window_end.min((self.end - buf_off) as usize);
        let line = parse_line(&buf[at..window_end], self.hex_len, at_end, true)
            .map_err(|e| self.not_a_corpus(&format!("the line at byte {start} {e}")))?;
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
        let from = pos.saturating_sub(1);
        let mut buf = [0u8; 2 * MAX_LINE + 1];
        let want = ((self.end - from) as usize).min(buf.len());
        let n = self.read_at(from, &mut buf[..want])?;
        let buf = &buf[..n];
        let at = if pos == 0 {
            0
        } else {
            match buf.iter().take(MAX_LINE + 1).position(|b| *b == b'\n') {
                Some(i) => i + 1,
                None if from + n as u64 >= self.end => return Ok(None),
                None => {
                    return Err(self.not_a_corpus(&format!(
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

    /// How many times the hash is in the corpus; 0 when it is not.
    pub fn lookup(&self, h: &HashHex) -> Result<u64, LookupError> {
        if h.hex().len() != self.hex_len {
            return Err(LookupError::NotACorpus(format!(
                "{} holds hashes of {} hex digits, not {}s",
                self.path.display(),
                self.hex_len,
                h.kind().name()
            )));
        }
        self.search(h.hex(), Bound::start()).map(|(c, _)| c)
    }

    /// Searches lines in `[from.pos, end)` for `target`; returns its count (0: absent) and a
    /// bound that holds for any larger target.
    fn search(&self, target: &[u8], from: Bound) -> Result<(u64, Bound), LookupError> {
        let n = self.hex_len;
        let t_key = key64(target) as u128;
        let mut lo = from;
        let mut hi = self.end;
        let mut hi_hex: Option<[u8; 40]> = None;
        let mut bisect = false;
        loop {
            // The end of every search, even with an empty interval: the lines around the
            // place where the target would be are read and checked.
            if hi.saturating_sub(lo.pos) <= SCAN_BYTES {
                return self.scan(target, lo, hi, hi_hex);
            }
            let width = hi - lo.pos;
            let pos = if bisect {
                lo.pos + width / 2
            } else {
                // Where the target would sit if the hashes between the bounds were evenly
                // spread; aim half a line early so the next line start is the likely one.
                let lo_key = lo.hex.map_or(0, |h| key64(&h[..n]) as u128);
                let hi_key = hi_hex.map_or(1u128 << 64, |h| key64(&h[..n]) as u128);
                let span = hi_key.saturating_sub(lo_key).max(1);
                let off = t_key.saturating_sub(lo_key).min(span) * width as u128 / span;
                (lo.pos + off as u64)
                    .saturating_sub(n as u64 / 2 + 4)
                    .clamp(lo.pos, hi - 1)
            };
            match self.line_at_or_after(pos, hi)? {
                None => hi = pos,
                Some(p) => {
                    let h = &p.line.hex[..n];
                    if lo.hex.is_some_and(|l| l[..n] >= *h) || hi_hex.is_some_and(|u| u[..n] <= *h)
                    {
                        return Err(self.not_sorted(p.start));
                    }
                    match h.cmp(target) {
                        Ordering::Equal => {
                            return Ok((
                                p.line.count,
                                Bound {
                                    pos: p.end,
                                    hex: Some(p.line.hex),
                                },
                            ));
                        }
                        Ordering::Less => {
                            lo = Bound {
                                pos: p.end,
                                hex: Some(p.line.hex),
                            }
                        }
                        Ordering::Greater => {
                            hi = p.start;
                            hi_hex = Some(p.line.hex);
                        }
                    }
                }
            }
            // A probe that did not halve the interval: the next one bisects.
            bisect = hi.saturating_sub(lo.pos) > width / 2;
        }
    }

    /// Reads the lines starting in `[lo.pos, hi)` at once, with a little context on both sides,
    /// checks that they are in strictly increasing order (so that a line displaced next to the
    /// target is noticed rather than answered "not found") and looks for the target among them.
    fn scan(
        &self,
        target: &[u8],
        lo: Bound,
        hi: u64,
        hi_hex: Option<[u8; 40]>,
    ) -> Result<(u64, Bound), LookupError> {
        let n = self.hex_len;
        let from = lo.pos.saturating_sub(SCAN_CONTEXT);
        let stop = (hi + SCAN_CONTEXT).min(self.end);
        let to = (stop + MAX_LINE as u64).min(self.end);
        let mut buf = vec![0u8; (to - from) as usize];
        let got = self.read_at(from, &mut buf)?;
        buf.truncate(got);
        let mut at = if from == 0 {
            0
        } else {
            match buf.iter().position(|b| *b == b'\n') {
                Some(i) => i + 1,
                None => {
                    return Err(self.not_a_corpus(&format!("no line break near byte {from}")));
                }
            }
        };
        let mut prev: Option<[u8; 40]> = None;
        let mut count = 0u64;
        let mut below = lo;
        while from + (at as u64) < stop && at < buf.len() {
            let p = self.parse_in(&buf, from, at)?;
            let h = &p.line.hex[..n];
            if prev.is_some_and(|l| l[..n] >= *h) {
                return Err(self.not_sorted(p.start));
            }
            if p.start >= lo.pos && p.start < hi && hi_hex.is_some_and(|u| u[..n] <= *h) {
                return Err(self.not_sorted(p.start));
            }
            match h.cmp(target) {
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
        let mut data = vec![0u8; len as usize];
        let mut n = 0;
        while n < data.len() {
            match file.read_at(&mut data[n..], n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(LookupError::Io(format!(
                        "cannot read the prefix file in {}: {e}",
                        self.dir.display()
                    )));
                }
            }
        }
        data.truncate(n);
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
    fn parse_line_takes_every_ending_and_a_bom() {
        let l = parse_line(
            b"0123456789ABCDEF0123456789abcdef01234567:42\r\nX",
            40,
            false,
            true,
        )
        .unwrap();
        assert_eq!(&l.hex[..], b"0123456789ABCDEF0123456789ABCDEF01234567");
        assert_eq!((l.count, l.consumed), (42, 45));
        let l = parse_line(
            b"\xEF\xBB\xBF00000000000000000000000000000000:7\n",
            32,
            false,
            true,
        )
        .unwrap();
        assert_eq!((l.count, l.consumed), (7, 38));
        let l = parse_line(b"00000000000000000000000000000000:0", 32, true, true).unwrap();
        assert_eq!((l.count, l.consumed), (0, 34));
    }

    #[test]
    fn parse_line_rejects_what_is_not_a_line() {
        let bad: &[(&[u8], &str)] = &[
            (b"0000000000000000000000000000000:7\n", "31 hex digits"),
            (b"00000000000000000000000000000000:\n", "no count"),
            (
                b"00000000000000000000000000000000:7 \n",
                "other than a line ending",
            ),
            (b"00000000000000000000000000000000:7", "longer than"),
            (
                b"00000000000000000000000000000000:99999999999999999999\n",
                "too large",
            ),
            (b"<!DOCTYPE html>\n", "HTML"),
            (b"\n", "is not 32 hex"),
            (b"", "empty"),
        ];
        for (line, why) in bad {
            let e = parse_line(line, 32, false, true).unwrap_err();
            assert!(e.contains(why), "{e:?} should say {why:?}");
        }
        assert!(
            parse_line(
                b"\xEF\xBB\xBF00000000000000000000000000000000:7\n",
                32,
                false,
                false
            )
            .is_err()
        );
    }

    #[test]
    fn key64_orders_like_the_hex() {
        assert_eq!(key64(b"0000000000000000FFFF"), 0);
        assert_eq!(key64(b"FFFFFFFFFFFFFFFF0000"), u64::MAX);
        assert_eq!(key64(b"8"), 1 << 63);
        assert!(key64(b"7FFFFFFFFFFFFFFF") < key64(b"8000000000000000"));
    }
    /// A tiny deterministic generator (xorshift64*), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn hash(&mut self, hex_len: usize) -> Vec<u8> {
            let mut v = Vec::with_capacity(40);
            while v.len() < hex_len {
                v.extend_from_slice(format!("{:016X}", self.next()).as_bytes());
            }
            v.truncate(hex_len);
            v
        }
    }

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
        let mut hs: Vec<Vec<u8>> = (0..n).map(|_| rng.hash(hex_len)).collect();
        hs.sort();
        hs.dedup();
        hs.into_iter()
            .map(|h| (h, 1 + rng.next() % 100_000))
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
            let x = rng.hash(hex_len);
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
        for i in (1..batch.len()).rev() {
            batch.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
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
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
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
        let mut rng = Rng(42);
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
        let mut rng = Rng(7);
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
        for i in [0usize, 1, 700, 1300, 1998] {
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
}
