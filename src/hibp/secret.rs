//! The password and its hash: held in memory that is zeroed when dropped, and that prints as
//! `<redacted>` if a `{:?}` ever reaches it.

use std::fmt;
use std::io::Read;

use secrecy::{ExposeSecret, SecretBox, SecretSlice};
use sha1::Digest;
use zeroize::{Zeroize, Zeroizing};

use super::{HashKind, PREFIX_LEN};

/// The longest password accepted on stdin. Longer input is refused rather than cut, because a
/// cut password would be checked as a different password.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password or a hash could not be taken. The messages never quote the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("no password: the input is empty")]
    Empty,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error(
        "the password is not valid UTF-8 (Pwned Passwords hashes the UTF-8 bytes, so any other encoding would be checked as a different password)"
    )]
    NotUtf8,
    #[error("cannot read the password: {0}")]
    Io(String),
}

/// A password being checked: UTF-8 bytes in a zeroed-on-drop box, never printable.
pub struct Password(SecretSlice<u8>);

impl Password {
    /// Takes a password typed at the prompt, zeroing the caller's string.
    pub fn from_string(mut s: String) -> Result<Password, InputError> {
        let p = Password::from_bytes(s.as_bytes());
        s.zeroize();
        p
    }

    /// Copies UTF-8 bytes into an exactly sized secret box (no reallocation leaves a copy).
    pub fn from_bytes(bytes: &[u8]) -> Result<Password, InputError> {
        if bytes.is_empty() {
            return Err(InputError::Empty);
        }
        if bytes.len() > MAX_PASSWORD_BYTES {
            return Err(InputError::TooLong);
        }
        if std::str::from_utf8(bytes).is_err() {
            return Err(InputError::NotUtf8);
        }
        let mut boxed = vec![0u8; bytes.len()].into_boxed_slice();
        boxed.copy_from_slice(bytes);
        Ok(Password(SecretBox::new(boxed)))
    }

    /// Reads one line: everything up to the first `\n`; exactly one trailing `\n` or `\r\n` is
    /// removed and nothing else (leading and trailing spaces are part of a password). Reads go
    /// straight into a fixed, zeroed-on-drop buffer, so pass an unbuffered reader to leave no
    /// other copy behind.
    pub fn read_line(r: &mut impl Read) -> Result<Password, InputError> {
        let line = read_secret_line(r)?;
        Password::from_bytes(&line)
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// One line of at most [`MAX_PASSWORD_BYTES`], its line ending removed, in a zeroed buffer.
pub fn read_secret_line(r: &mut impl Read) -> Result<Zeroizing<Vec<u8>>, InputError> {
    // Room for the longest password, its \r\n, and one byte to notice that it is too long.
    const CAP: usize = MAX_PASSWORD_BYTES + 3;
    let mut buf = Zeroizing::new(vec![0u8; CAP]);
    let mut len = 0usize;
    let newline = loop {
        if let Some(i) = buf[..len].iter().position(|b| *b == b'\n') {
            break Some(i);
        }
        if len == CAP {
            return Err(InputError::TooLong);
        }
        match r.read(&mut buf[len..]) {
            Ok(0) => break None,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(InputError::Io(e.to_string())),
        }
    };
    let mut end = match newline {
        Some(i) => i,
        None => len,
    };
    if newline.is_some() && end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    if end > MAX_PASSWORD_BYTES {
        return Err(InputError::TooLong);
    }
    // Zero everything after the line (a second line, the line ending) before handing it out.
    buf[end..].zeroize();
    buf.truncate(end);
    Ok(buf)
}

/// A hash given by the user was not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {kind} in hex: expected {expected} hex digits{detail}")]
pub struct InvalidHash {
    pub kind: &'static str,
    pub expected: usize,
    pub detail: String,
}

/// A SHA-1 or NT hash as uppercase hex, in a zeroed-on-drop buffer. The whole hash and its
/// suffix are secrets (an unsalted hash of a password is as good as the password to a cracker);
/// only [`prefix`](HashHex::prefix) is meant to leave the process.
#[derive(Clone)]
pub struct HashHex {
    kind: HashKind,
    hex: Zeroizing<[u8; 40]>,
}

impl HashHex {
    /// SHA-1 of the UTF-8 bytes, or the NT hash: MD4 of the UTF-16LE encoding.
    pub fn of_password(p: &Password, kind: HashKind) -> HashHex {
        let mut digest = Zeroizing::new([0u8; 20]);
        match kind {
            HashKind::Sha1 => {
                let mut h = sha1::Sha1::new();
                h.update(p.bytes());
                let mut out = h.finalize();
                digest[..20].copy_from_slice(&out);
                out.as_mut_slice().zeroize();
            }
            HashKind::Ntlm => {
                // from_bytes checked UTF-8; an empty fallback cannot happen.
                let s = std::str::from_utf8(p.bytes()).unwrap_or_default();
                let mut utf16 = Zeroizing::new(Vec::with_capacity(s.len() * 2));
                for unit in s.encode_utf16() {
                    utf16.extend_from_slice(&unit.to_le_bytes());
                }
                let mut h = md4::Md4::new();
                h.update(utf16.as_slice());
                let mut out = h.finalize();
                digest[..16].copy_from_slice(&out);
                out.as_mut_slice().zeroize();
            }
        }
        HashHex::from_digest(&digest[..kind.hex_len() / 2], kind)
    }

    fn from_digest(bytes: &[u8], kind: HashKind) -> HashHex {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut hex = Zeroizing::new([0u8; 40]);
        for (i, b) in bytes.iter().enumerate() {
            hex[2 * i] = HEX[(b >> 4) as usize];
            hex[2 * i + 1] = HEX[(b & 15) as usize];
        }
        HashHex { kind, hex }
    }

    /// Parses a hash in hex, either case, surrounding whitespace ignored. The error never quotes
    /// the input (it may be a password pasted by mistake).
    pub fn parse(s: &str, kind: HashKind) -> Result<HashHex, InvalidHash> {
        HashHex::parse_bytes(s.as_bytes(), kind)
    }

    pub fn parse_bytes(s: &[u8], kind: HashKind) -> Result<HashHex, InvalidHash> {
        let s = s.trim_ascii();
        let n = kind.hex_len();
        let err = |detail: String| InvalidHash {
            kind: kind.name(),
            expected: n,
            detail,
        };
        if s.len() != n {
            return Err(err(format!(", got {} characters", s.len())));
        }
        let mut hex = Zeroizing::new([0u8; 40]);
        for (i, b) in s.iter().enumerate() {
            if !b.is_ascii_hexdigit() {
                return Err(err(format!(", character {} is not one", i + 1)));
            }
            hex[i] = b.to_ascii_uppercase();
        }
        Ok(HashHex { kind, hex })
    }

    pub fn kind(&self) -> HashKind {
        self.kind
    }

    /// The first five hex digits, uppercase: the only part sent to the range API.
    pub fn prefix(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.hex[..PREFIX_LEN]).unwrap_or("00000")
    }

    /// The rest of the hash, uppercase hex: compared in memory, never sent.
    pub fn suffix(&self) -> &[u8] {
        &self.hex[PREFIX_LEN..self.kind.hex_len()]
    }

    /// The whole hash, uppercase hex.
    pub fn hex(&self) -> &[u8] {
        &self.hex[..self.kind.hex_len()]
    }

    /// The first 16 hex digits as a number: where the hash sits in a uniformly filled corpus.
    pub fn key64(&self) -> u64 {
        super::corpus::key64(self.hex())
    }
}

impl fmt::Debug for HashHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashHex({}, <redacted>)", self.kind.name())
    }
}

impl PartialEq for HashHex {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.hex() == other.hex()
    }
}

impl Eq for HashHex {}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::from_bytes(s.as_bytes()).unwrap()
    }

    #[test]
    fn sha1_and_nt_hash_match_known_vectors() {
        let h = HashHex::of_password(&pw("password"), HashKind::Sha1);
        assert_eq!(h.hex(), b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
        assert_eq!(h.prefix(), "5BAA6");
        assert_eq!(h.suffix(), b"1E4C9B93F3F0682250B6CF8331B7EE68FD8");
        let n = HashHex::of_password(&pw("password"), HashKind::Ntlm);
        assert_eq!(n.hex(), b"8846F7EAEE8FB117AD06BDD830B7586C");
        assert_eq!(n.suffix().len(), 27);
        // Non-ASCII goes through UTF-8 for SHA-1; NT of non-ASCII below.
        let e = HashHex::of_password(&pw("é"), HashKind::Sha1);
        assert_eq!(e.hex(), b"BF15BE717AC1B080B4F1C456692825891FF5073D");
        // NT hashes of non-ASCII, a surrogate pair included (computed with an independent MD4).
        let nt = |s: &str| HashHex::of_password(&pw(s), HashKind::Ntlm).hex().to_vec();
        assert_eq!(nt("é"), b"E77286D072C7858E9110CC3A011D2AC8");
        assert_eq!(nt("€€€"), b"181D21EE290B533118FA1A7C8889E04A");
        assert_eq!(nt("😀x"), b"4239D4DCD7148A5EA8F750B376CFDBD6");
        assert_eq!(nt("Password"), b"A4F49C406510BDCAB6824EE7C30FD852");
    }

    #[test]
    fn parse_accepts_either_case_and_never_quotes_input() {
        let a = HashHex::parse("5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", HashKind::Sha1).unwrap();
        let b = HashHex::parse(
            " 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8\n",
            HashKind::Sha1,
        )
        .unwrap();
        assert_eq!(a, b);
        let e = HashHex::parse("hunter2", HashKind::Sha1).unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        let e =
            HashHex::parse("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FDX", HashKind::Sha1).unwrap_err();
        assert!(e.to_string().contains("character 40"));
        assert!(HashHex::parse("8846F7EAEE8FB117AD06BDD830B7586C", HashKind::Ntlm).is_ok());
        assert!(HashHex::parse("8846F7EAEE8FB117AD06BDD830B7586C", HashKind::Sha1).is_err());
    }

    #[test]
    fn read_line_strips_exactly_one_line_ending() {
        let read = |s: &[u8]| read_secret_line(&mut &s[..]).map(|b| b.to_vec());
        assert_eq!(read(b"  pass word \n").unwrap(), b"  pass word ");
        assert_eq!(read(b"pw\r\n").unwrap(), b"pw");
        assert_eq!(read(b"pw\r\r\n").unwrap(), b"pw\r");
        assert_eq!(read(b"pw\n\n").unwrap(), b"pw");
        assert_eq!(read(b"pw").unwrap(), b"pw");
        assert_eq!(read(b"pw\nsecond line").unwrap(), b"pw");
        assert_eq!(read(b"\t\n").unwrap(), b"\t");
        let long = vec![b'a'; MAX_PASSWORD_BYTES];
        assert_eq!(read(&long).unwrap().len(), MAX_PASSWORD_BYTES);
        let mut too_long = vec![b'a'; MAX_PASSWORD_BYTES + 1];
        too_long.extend_from_slice(b"\r\n");
        assert_eq!(read(&too_long), Err(InputError::TooLong));
        assert_eq!(
            Password::read_line(&mut &b"\n"[..]).unwrap_err(),
            InputError::Empty
        );
        assert_eq!(
            Password::read_line(&mut &b"\xff\xfe\n"[..]).unwrap_err(),
            InputError::NotUtf8
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = pw("hunter2");
        let h = HashHex::of_password(&p, HashKind::Sha1);
        let shown = format!("{p:?} {h:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains(h.prefix()));
        assert!(shown.contains("redacted"));
    }
}
