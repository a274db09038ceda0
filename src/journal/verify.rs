//! `incident verify`: walks the whole file and checks every line against the contract.
//!
//! The file is read once, in big chunks, and each line is looked at where it lies in the
//! buffer: hashed once, and parsed once into its core fields only (borrowed from the line; the
//! evidence is skipped without being built). Memory stays flat however long the journal is.
//! [`Verifier`] holds the checks that span lines (order, chain, incident), so that a reader
//! that needs more than the verdict (`report`) checks the same way while reading.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use super::GENESIS;
use crate::error::{AppError, Result};

/// A journal that passed: how many entries, which incident, and the hash of the last line
/// (worth writing down: it pins the whole history).
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub incident: String,
    pub head: String,
}

/// The first problem found: its 1-based line number and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Damage {
    pub line: u64,
    pub reason: String,
}

/// Checks the chain and the shape of every line. `Err(Ok(damage))` is a damaged journal,
/// `Err(Err(e))` a file that cannot be read at all.
pub fn verify_file(path: &Path) -> std::result::Result<VerifyReport, Result<Damage, AppError>> {
    verify_file_through(path, None).map(|(report, _)| report)
}

/// [`verify_file`], also finding, in the same pass, the line whose SHA-256 begins with `head`
/// (a head hash recorded earlier): its 1-based number (the last such line), or `None`.
pub fn verify_file_through(
    path: &Path,
    head: Option<&str>,
) -> std::result::Result<(VerifyReport, Option<u64>), Result<Damage, AppError>> {
    let cannot = |e: std::io::Error| {
        Err(AppError::usage(format!(
            "cannot read journal {}: {e}",
            path.display()
        )))
    };
    super::check_file(path).map_err(Err)?;
    let file = std::fs::File::open(path).map_err(cannot)?;
    // Under a shared lock: an append in progress (it holds the exclusive one while it writes)
    // is never read half-written and taken for a torn line.
    super::lock_waiting(&file, path, true).map_err(Err)?;
    verify_open(file, path, head)
}

/// [`verify_file_through`] on a file already open (and locked by the caller when appends may
/// run).
pub fn verify_open(
    file: std::fs::File,
    path: &Path,
    head: Option<&str>,
) -> std::result::Result<(VerifyReport, Option<u64>), Result<Damage, AppError>> {
    let cannot = |e: std::io::Error| {
        Err(AppError::usage(format!(
            "cannot read journal {}: {e}",
            path.display()
        )))
    };
    let mut v = Verifier::new();
    let mut at = None;
    each_line(file, |line, torn| {
        v.next(line, torn);
        if let Some(h) = head
            && v.damage().is_none()
            && v.prev.starts_with(h.as_bytes())
        {
            at = Some(v.count);
        }
        // Past the first damage nothing more is proven: stop reading.
        v.damage().is_none()
    })
    .map_err(cannot)?;
    v.finish().map(|report| (report, at)).map_err(Ok)
}

/// [`verify_file`] on bytes in memory.
#[cfg(test)]
pub fn verify_bytes(data: &[u8]) -> std::result::Result<VerifyReport, Damage> {
    let mut v = Verifier::new();
    // Reading from a slice cannot fail.
    let _ = each_line(data, |line, torn| {
        v.next(line, torn);
        v.damage().is_none()
    });
    v.finish()
}

/// Chunks are read this large; a longer line grows the buffer.
const CHUNK: usize = 1 << 20;

/// Calls `f` with every line of `r` (without its newline), in order, until `f` returns false.
/// The bytes lie in the reader's buffer: no copy is made of a line, and memory is one chunk
/// (or the longest line). A last line without a newline is handed over too, with `torn` set.
pub fn each_line<R: Read>(
    mut r: R,
    mut f: impl FnMut(&[u8], bool) -> bool,
) -> std::io::Result<Lines> {
    let mut buf = vec![0u8; CHUNK];
    let (mut start, mut end) = (0usize, 0usize);
    let mut n = 0u64;
    let mut bytes = 0u64;
    loop {
        while let Some(p) = find_newline(&buf[start..end]) {
            n += 1;
            bytes += p as u64 + 1;
            let go_on = f(&buf[start..start + p], false);
            start += p + 1;
            if !go_on {
                return Ok(Lines {
                    lines: n,
                    bytes,
                    torn: false,
                });
            }
        }
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let got = match r.read(&mut buf[end..]) {
            Ok(g) => g,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if got == 0 {
            let torn = end > 0;
            if torn {
                n += 1;
                bytes += end as u64;
                f(&buf[..end], true);
            }
            return Ok(Lines {
                lines: n,
                bytes,
                torn,
            });
        }
        end += got;
    }
}

/// What [`each_line`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lines {
    /// Lines handed over (a torn last one included).
    pub lines: u64,
    /// Bytes they span, newlines included.
    pub bytes: u64,
    /// The last line has no newline (an interrupted write).
    pub torn: bool,
}

/// The first `\n` in `s`, eight bytes at a time.
fn find_newline(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let words = s.chunks_exact(8);
    let tail = words.remainder();
    for (i, w) in words.enumerate() {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ NL;
        // The lowest byte that is zero sets the lowest high bit (a borrow only sets bits above).
        let z = x.wrapping_sub(LO) & !x & HI;
        if z != 0 {
            return Some(i * 8 + (z.trailing_zeros() / 8) as usize);
        }
    }
    let base = s.len() - tail.len();
    tail.iter().position(|b| *b == b'\n').map(|p| base + p)
}

/// The fields every line has, borrowed from the line where it holds no escape.
#[derive(Debug, Clone)]
pub struct Core<'a> {
    pub seq: u64,
    pub ts: Cow<'a, str>,
    pub incident: Cow<'a, str>,
    pub operator: Cow<'a, str>,
    pub step: Cow<'a, str>,
    pub identity: Option<Cow<'a, str>>,
    pub outcome: Cow<'a, str>,
    pub prev: Cow<'a, str>,
}

impl<'a> Core<'a> {
    /// Reads the core fields of one line (without its newline), checking their types; the rest
    /// of the line is checked to be JSON and skipped. The reason is the one `verify` gives.
    pub fn parse(line: &'a [u8]) -> std::result::Result<Core<'a>, String> {
        // Checked once here: serde_json then reads a `&str` without checking its strings again
        // (and it would not check the strings it skips).
        let text = std::str::from_utf8(line)
            .map_err(|e| format!("not UTF-8 (byte {} of the line)", e.valid_up_to() + 1))?;
        // A struct also deserializes from an array: only an object is an entry.
        if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(match serde_json::from_str::<IgnoredAny>(text) {
                Err(e) => format!("not a JSON object: {e}"),
                Ok(_) => "not a JSON object".to_string(),
            });
        }
        let raw: RawCore<'a> = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => e.to_string(),
            _ => format!("not a JSON object: {e}"),
        })?;
        let text = |f: Field<'a>, k: &str| match f {
            Field::Str(s) => Ok(s),
            _ => Err(format!("`{k}` is missing or not a string")),
        };
        let seq = match raw.seq {
            Field::U64(n) => n,
            _ => return Err("`seq` is missing or not a number".into()),
        };
        let ts = text(raw.ts, "ts")?;
        let incident = text(raw.incident, "incident")?;
        let operator = text(raw.operator, "operator")?;
        let step = text(raw.step, "step")?;
        let identity = match raw.identity {
            Field::Null => None,
            Field::Str(s) => Some(s),
            _ => return Err("`identity` is missing or not a string or null".into()),
        };
        let outcome = text(raw.outcome, "outcome")?;
        let prev = text(raw.prev, "prev")?;
        Ok(Core {
            seq,
            ts,
            incident,
            operator,
            step,
            identity,
            outcome,
            prev,
        })
    }
}

/// The checks that span lines, fed one line at a time; the first damage is kept and nothing
/// after it is checked.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: [u8; 64],
    incident: Option<String>,
    count: u64,
    damage: Option<Damage>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    pub fn new() -> Verifier {
        let mut prev = [0u8; 64];
        prev.copy_from_slice(GENESIS.as_bytes());
        Verifier {
            prev,
            incident: None,
            count: 0,
            damage: None,
        }
    }

    /// The first damage found so far.
    pub fn damage(&self) -> Option<&Damage> {
        self.damage.as_ref()
    }

    /// Checks the next line (without its newline), parsing its core fields; `torn`: it had
    /// no newline.
    pub fn next(&mut self, line: &[u8], torn: bool) {
        if torn {
            self.torn();
        } else if self.damage.is_none() {
            let core = Core::parse(line);
            self.check(line, core.as_ref());
        }
    }

    /// The next line has no newline: a write was interrupted (whatever the line holds, the
    /// entry may be incomplete).
    pub fn torn(&mut self) {
        if self.damage.is_none() {
            self.damage = Some(Damage {
                line: self.count + 1,
                reason: "the line does not end with a newline (an interrupted write?)".into(),
            });
        }
    }

    /// Checks the next line whose core fields the caller parsed already ([`Core::parse`]).
    pub fn check(&mut self, line: &[u8], core: std::result::Result<&Core<'_>, &String>) {
        if self.damage.is_some() {
            return;
        }
        if let Err(reason) = self.check_core(line, core) {
            self.damage = Some(Damage {
                line: self.count + 1,
                reason,
            });
        }
    }

    fn check_core(
        &mut self,
        line: &[u8],
        core: std::result::Result<&Core<'_>, &String>,
    ) -> std::result::Result<(), String> {
        let count = self.count;
        let c = core.map_err(Clone::clone)?;
        if c.seq != count {
            return Err(format!("`seq` is {}, expected {count}", c.seq));
        }
        if c.ts.parse::<jiff::Timestamp>().is_err() {
            return Err(format!("`ts` {:?} is not an RFC 3339 time", c.ts));
        }
        match &self.incident {
            None => self.incident = Some(c.incident.to_string()),
            Some(first) if first.as_str() != c.incident => {
                return Err(format!(
                    "`incident` is {:?}, but the journal is {first:?}",
                    c.incident
                ));
            }
            Some(_) => {}
        }
        if count == 0 && c.step != "incident.open" {
            return Err(format!(
                "the first entry is {:?}, not incident.open",
                c.step
            ));
        }
        if !matches!(&*c.outcome, "ok" | "failed" | "skipped" | "started") {
            return Err(format!(
                "`outcome` {:?} is not ok, failed, skipped or started",
                c.outcome
            ));
        }
        if c.prev.as_bytes() != self.prev {
            return Err(if count == 0 {
                "`prev` of the first line is not 64 zeros".to_string()
            } else {
                format!(
                    "`prev` does not match the SHA-256 of line {count}: the journal was altered"
                )
            });
        }
        self.prev = hex64(&Sha256::digest(line).into());
        self.count += 1;
        Ok(())
    }

    /// The verdict once every line was fed.
    pub fn finish(self) -> std::result::Result<VerifyReport, Damage> {
        if let Some(d) = self.damage {
            return Err(d);
        }
        if self.count == 0 {
            return Err(Damage {
                line: 1,
                reason: "the file is empty".into(),
            });
        }
        Ok(VerifyReport {
            entries: self.count,
            incident: self.incident.unwrap_or_default(),
            head: String::from_utf8_lossy(&self.prev).into_owned(),
        })
    }
}

/// Lowercase hex of a SHA-256, on the stack.
fn hex64(d: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 15) as usize];
    }
    out
}

/// The core fields as they came, whatever their type; every other key is skipped.
#[derive(Deserialize)]
struct RawCore<'a> {
    #[serde(default, borrow)]
    seq: Field<'a>,
    #[serde(default, borrow)]
    ts: Field<'a>,
    #[serde(default, borrow)]
    incident: Field<'a>,
    #[serde(default, borrow)]
    operator: Field<'a>,
    #[serde(default, borrow)]
    step: Field<'a>,
    #[serde(default, borrow)]
    identity: Field<'a>,
    #[serde(default, borrow)]
    outcome: Field<'a>,
    #[serde(default, borrow)]
    prev: Field<'a>,
}

/// One JSON value, kept only when it is a string or a non-negative integer.
#[derive(Default)]
enum Field<'a> {
    #[default]
    Missing,
    Null,
    Str(Cow<'a, str>),
    U64(u64),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Field<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Str(Cow::Owned(s)))
            }
            fn visit_u64<E>(self, n: u64) -> std::result::Result<Field<'a>, E> {
                Ok(Field::U64(n))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Other)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> std::result::Result<Field<'a>, E> {
                Ok(Field::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Field<'a>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Field<'a>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::sha256_hex;

    fn line(seq: u64, prev: &str, step: &str) -> String {
        format!(
            r#"{{"seq":{seq},"ts":"2026-11-25T01:00:00Z","incident":"i","operator":"o","step":"{step}","identity":null,"outcome":"ok","prev":"{prev}"}}"#
        )
    }

    #[test]
    fn a_chain_of_three_verifies_and_an_edit_is_caught_on_the_next_line() {
        let l0 = line(0, GENESIS, "incident.open");
        let l1 = line(1, &sha256_hex(l0.as_bytes()), "note");
        let l2 = line(2, &sha256_hex(l1.as_bytes()), "note");
        let good = format!("{l0}\n{l1}\n{l2}\n");
        let r = verify_bytes(good.as_bytes()).unwrap();
        assert_eq!(r.entries, 3);
        assert_eq!(r.head, sha256_hex(l2.as_bytes()));

        let edited = good.replace(
            r#""step":"note","identity":null,"outcome":"ok","prev":"#,
            r#""step":"note","identity":null,"outcome":"skipped","prev":"#,
        );
        let d = verify_bytes(edited.as_bytes()).unwrap_err();
        assert_eq!(d.line, 3, "{d:?}");
    }

    #[test]
    fn a_torn_last_line_is_damage() {
        let l0 = line(0, GENESIS, "incident.open");
        let d = verify_bytes(format!("{l0}\n{{\"seq\":1").as_bytes()).unwrap_err();
        assert_eq!(d.line, 2);
        // A whole entry that only lacks its newline is torn too.
        let l1 = line(1, &sha256_hex(l0.as_bytes()), "note");
        let d = verify_bytes(format!("{l0}\n{l1}").as_bytes()).unwrap_err();
        assert_eq!(d.line, 2);
        assert!(d.reason.contains("newline"), "{d:?}");
    }

    #[test]
    fn shapes_are_named_as_before() {
        let reason = |l: &str| {
            verify_bytes(format!("{l}\n").as_bytes())
                .unwrap_err()
                .reason
        };
        assert!(reason("[1,2]").starts_with("not a JSON object"));
        assert!(reason("{\"seq\":").starts_with("not a JSON object"));
        assert_eq!(reason(r#"{"seq":"0"}"#), "`seq` is missing or not a number");
        assert_eq!(
            reason(r#"{"seq":0,"ts":"2026-11-25T01:00:00Z"}"#),
            "`incident` is missing or not a string"
        );
        let no_identity = line(0, GENESIS, "incident.open").replace("\"identity\":null,", "");
        assert_eq!(
            reason(&no_identity),
            "`identity` is missing or not a string or null"
        );
        let nested = line(0, GENESIS, "incident.open")
            .replace("\"operator\":\"o\"", "\"operator\":{\"a\":[1,{\"b\":2}]}");
        assert_eq!(reason(&nested), "`operator` is missing or not a string");
        // Two values for one core field: which one would a reader believe?
        let twice =
            line(0, GENESIS, "incident.open").replace("{\"seq\":0,", "{\"seq\":0,\"seq\":0,");
        assert!(
            reason(&twice).contains("duplicate field `seq`"),
            "{}",
            reason(&twice)
        );
        let mut bad_utf8 = line(0, GENESIS, "incident.open").into_bytes();
        bad_utf8.extend_from_slice(b"\xff\n");
        assert!(
            verify_bytes(&bad_utf8)
                .unwrap_err()
                .reason
                .starts_with("not UTF-8")
        );
    }

    #[test]
    fn escaped_core_fields_and_evidence_are_read() {
        let l0 = line(0, GENESIS, "incident.open")
            .replace("\"operator\":\"o\"", "\"operator\":\"\\u006f\"")
            .replace("}", ",\"evidence\":{\"x\":[1.5,-2,true,null,\"\\n\"]}}");
        let r = verify_bytes(format!("{l0}\n").as_bytes()).unwrap();
        assert_eq!(r.entries, 1);
    }

    #[test]
    fn newlines_are_found_in_any_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut s = vec![b'x'; len];
                s[at] = b'\n';
                assert_eq!(find_newline(&s), Some(at));
            }
            assert_eq!(find_newline(&vec![b'x'; len]), None);
        }
        // Bytes above 0x80 and 0x0b next to the newline do not confuse the word test.
        assert_eq!(find_newline(b"\x0b\xff\x8a\x09\x0a"), Some(4));
    }

    #[test]
    fn lines_longer_than_a_chunk_are_whole() {
        let long = "y".repeat(CHUNK * 2 + 3);
        let text = format!("a\n{long}\nb");
        let mut seen = Vec::new();
        let lines = each_line(text.as_bytes(), |l, torn| {
            seen.push((l.len(), torn));
            true
        })
        .unwrap();
        assert_eq!(seen, vec![(1, false), (long.len(), false), (1, true)]);
        assert_eq!(lines.lines, 3);
        assert!(lines.torn);
        assert_eq!(lines.bytes, text.len() as u64);
    }
}
