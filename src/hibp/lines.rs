//! The `HEX:COUNT` line format that the range API and both corpus layouts share.
//!
//! A range answer and a split-layout `PREFIX.txt` file are the same thing (suffixes with their
//! counts, one a line), and the single sorted file holds the same lines with whole hashes. This
//! module is that format and nothing else: parsing one line (the hot loop of an offline search),
//! parsing a body of lines into a [`RangeTable`], and the limits a line must keep. It lives on
//! its own so that the range client and the corpus both use it without importing each other;
//! it imports neither.

/// A UTF-8 byte-order mark: tolerated at the start of any line (block).
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most digits a count may have (u64::MAX has 20).
pub(crate) const MAX_COUNT_DIGITS: usize = 20;

/// The longest valid line: BOM, 40 hex digits, colon, count, CRLF.
pub(crate) const MAX_LINE: usize = BOM.len() + 40 + 1 + MAX_COUNT_DIGITS + 2;

/// One `HEX:COUNT` line parsed from the start of `buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedLine {
    /// The hex digits, uppercased, in the first `hex_len` bytes.
    pub hex: [u8; 40],
    pub count: u64,
    /// Bytes used, the line ending included.
    pub consumed: usize,
}

/// Uppercase hex digit for each byte, 0 for a byte that is not one.
const HEX_UPPER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' | b'A'..=b'F' => b,
            b'a'..=b'f' => b - 32,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// Parses the line at the start of `buf`: `[BOM] HEX{hex_len} ':' DIGITS ('\r\n' | '\n' | end)`.
/// `at_end` says that `buf` ends where the data ends (so a missing line ending is allowed).
/// The error says what is wrong without quoting the line. This is the hot loop of every
/// search, hence the table and the plain loops.
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
    let colon = i + hex_len;
    if buf.len() <= colon || buf[colon] != b':' {
        return Err(describe_bad_hash(&buf[i..], hex_len));
    }
    let mut hex = [0u8; 40];
    let mut bad = false;
    for (d, b) in hex.iter_mut().zip(&buf[i..colon]) {
        let v = HEX_UPPER[*b as usize];
        bad |= v == 0;
        *d = v;
    }
    if bad {
        return Err(describe_bad_hash(&buf[i..], hex_len));
    }
    let digits_at = colon + 1;
    let mut end = digits_at;
    let mut count = 0u64;
    while end < buf.len() && buf[end].is_ascii_digit() {
        if end - digits_at == MAX_COUNT_DIGITS {
            return Err("has a count with too many digits".into());
        }
        count = count
            .checked_mul(10)
            .and_then(|c| c.checked_add((buf[end] - b'0') as u64))
            .ok_or_else(|| "has a count too large for 64 bits".to_string())?;
        end += 1;
    }
    if end == digits_at {
        return Err("has no count after the colon".into());
    }
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

/// Says what is wrong with a line whose hash part is not `hex_len` hex digits and a colon.
fn describe_bad_hash(rest: &[u8], hex_len: usize) -> String {
    let found = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if rest.is_empty() {
        "is empty".to_string()
    } else if rest[0] == b'<' {
        "starts with '<' (an HTML page?)".to_string()
    } else if rest.get(found) == Some(&b':') {
        format!("has {found} hex digits before the colon where {hex_len} are expected")
    } else {
        format!("is not {hex_len} hex digits, a colon and a count")
    }
}

/// The suffixes of one prefix, with their counts (padding lines have count 0).
#[derive(Debug, Clone, Default)]
pub struct RangeTable {
    /// Sorted, uppercase, `suffix_len` significant bytes.
    entries: Vec<([u8; 40], u64)>,
    suffix_len: usize,
}

impl RangeTable {
    /// The count for a suffix (uppercase hex); 0 when absent or padding.
    pub fn count(&self, suffix: &[u8]) -> u64 {
        let n = self.suffix_len;
        self.entries
            .binary_search_by(|(s, _)| s[..n].cmp(suffix))
            .map(|i| self.entries[i].1)
            .unwrap_or(0)
    }

    /// Lines in the answer.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lines of count 0 (padding).
    pub fn padding(&self) -> usize {
        self.entries.iter().filter(|(_, c)| *c == 0).count()
    }
}

/// Parses `SUFFIX:COUNT` lines (CRLF or LF; the last may lack its ending; blank lines only at
/// the very end). `allow_bom`: a byte-order mark may start a line (files, not the API).
pub(crate) fn parse_lines(
    body: &[u8],
    suffix_len: usize,
    allow_bom: bool,
) -> Result<RangeTable, String> {
    let mut entries = Vec::with_capacity(body.len() / (suffix_len + 4) + 1);
    let mut pos = 0usize;
    let mut line_no = 0usize;
    while pos < body.len() {
        let rest = &body[pos..];
        if rest.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            break;
        }
        line_no += 1;
        let window = &rest[..rest.len().min(MAX_LINE)];
        let line = parse_line(window, suffix_len, rest.len() <= MAX_LINE, allow_bom)
            .map_err(|e| format!("line {line_no} {e}"))?;
        entries.push((line.hex, line.count));
        pos += line.consumed;
    }
    if entries.is_empty() {
        return Err("it has no lines".into());
    }
    entries.sort_unstable_by(|a, b| a.0[..suffix_len].cmp(&b.0[..suffix_len]));
    if entries
        .windows(2)
        .any(|w| w[0].0[..suffix_len] == w[1].0[..suffix_len])
    {
        return Err("it lists a suffix twice".into());
    }
    Ok(RangeTable {
        entries,
        suffix_len,
    })
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
}
