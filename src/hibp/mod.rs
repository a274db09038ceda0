//! Pwned Passwords: is a password in the breach corpus, without revealing it?
//!
//! Two ways to ask, one answer type:
//! - [`range`]: the k-anonymity range API. Only the first five hex digits of the hash leave the
//!   process; the answer (every suffix with that prefix, padded with decoys of count 0) is
//!   searched in memory. Anything unexpected in the answer is an error, never "not found".
//! - [`corpus`]: a local copy of the corpus, either the single sorted `HASH:COUNT` file or the
//!   directory of per-prefix `PREFIX.txt` files that the official downloader writes. The single
//!   file is searched with positioned reads (interpolation guarded by bisection), never scanned.
//!
//! Both read the same `HEX:COUNT` lines; the format, and the [`RangeTable`] a body of them
//! becomes, is the `lines` module, which both use and which imports neither.
//!
//! The password and its hash live in [`Password`] and [`HashHex`]: zeroed on drop, redacted in
//! `Debug`, so that neither can be printed or logged by accident.

pub mod corpus;
mod lines;
pub mod range;
mod secret;

use serde::Serialize;

pub use corpus::Corpus;
pub use lines::RangeTable;
pub use range::{DEFAULT_API, RangeClient};
pub use secret::{
    HashHex, InputError, InvalidHash, MAX_PASSWORD_BYTES, Password, read_secret_line,
};

/// How many hex digits of the hash the range API is sent.
pub const PREFIX_LEN: usize = 5;

/// Which hash the corpus holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    /// SHA-1 of the UTF-8 password (the default corpus).
    Sha1,
    /// NT hash: MD4 of the UTF-16LE password, as Active Directory stores it (`?mode=ntlm`).
    Ntlm,
}

impl HashKind {
    /// Hex digits in a whole hash.
    pub const fn hex_len(self) -> usize {
        match self {
            HashKind::Sha1 => 40,
            HashKind::Ntlm => 32,
        }
    }

    /// Hex digits in a range answer's suffix.
    pub const fn suffix_len(self) -> usize {
        self.hex_len() - PREFIX_LEN
    }

    pub const fn name(self) -> &'static str {
        match self {
            HashKind::Sha1 => "SHA-1",
            HashKind::Ntlm => "NT hash",
        }
    }
}

/// Where an answer came from (the `source` of the JSON output and the journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Api,
    Offline,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Offline => "offline",
        }
    }
}

/// Why a lookup has no answer. Every variant means "unknown" (exit 1), never "not found".
/// Messages never contain the password, the hash, its suffix or its prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The range API could not be reached or kept failing, after retries.
    #[error("{0}")]
    Unavailable(String),
    /// An answer came, but it cannot be trusted (status, HTML, truncation, format).
    #[error("{0}")]
    Untrusted(String),
    /// The offline path is not a complete, sorted Pwned Passwords corpus.
    #[error("{0}")]
    NotACorpus(String),
    /// The offline path does not exist (a usage error: exit 2).
    #[error("{0}")]
    Missing(String),
    /// The offline corpus cannot be read.
    #[error("{0}")]
    Io(String),
}
