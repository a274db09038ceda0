//! Typed identifiers, parsed where clap parses the command line (parse, don't validate): a
//! value of these types is known to be well formed wherever it travels, and says what it is.
//!
//! On-call engineers hear "alice@example.com was locked out", not a UUID: every `--identity`
//! takes either the identity's UUID or one of its login identifiers, resolved later by an exact
//! match in Kratos (`GET /admin/identities?credentials_identifier=`).

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// What an operator typed after `--identity`: an id, or a login identifier to look up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentityRef {
    Id(IdentityId),
    /// A login identifier (an e-mail address, a username, a phone number), as typed.
    Identifier(String),
}

/// A Kratos identity id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityId(pub Uuid);

/// A Kratos session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub Uuid);

/// The longest login identifier accepted (Kratos stores identifiers in a 255-character column).
const MAX_IDENTIFIER: usize = 255;

impl FromStr for IdentityRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("an identity is a UUID or a login identifier such as an e-mail address; this is empty".into());
        }
        if let Ok(u) = Uuid::parse_str(t) {
            return Ok(IdentityRef::Id(IdentityId(u)));
        }
        if t.chars().count() > MAX_IDENTIFIER {
            return Err(format!(
                "not a UUID, and too long ({} characters) to be a login identifier",
                t.chars().count()
            ));
        }
        if t.chars().any(char::is_control) {
            return Err("not a UUID, and a login identifier has no control characters".into());
        }
        if looks_like_a_uuid(t) {
            return Err(format!(
                "{t:?} is not a UUID (like 5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07), and looks too much like part of one to be a login identifier"
            ));
        }
        Ok(IdentityRef::Identifier(t.to_string()))
    }
}

/// A mistyped or shortened UUID (people copy the first eight digits) must not be looked up as
/// a login identifier: it would only say "no such identity". Hex digits only, with a digit
/// among them, and either a dash or the length of a UUID's first group or of a whole one
/// without dashes (a username such as `face2face` is not taken for one).
fn looks_like_a_uuid(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && (s.len() >= 8 && s.contains('-') || s.len() == 8 || s.len() == 32)
}

impl FromStr for IdentityId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        parse_uuid(s).map(IdentityId)
    }
}

impl FromStr for SessionId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        parse_uuid(s).map(SessionId)
    }
}

fn parse_uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s.trim())
        .map_err(|_| "not a UUID (like 5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07)".to_string())
}

impl fmt::Display for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Display for IdentityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityRef::Id(id) => id.fmt(f),
            IdentityRef::Identifier(s) => f.write_str(s),
        }
    }
}

/// What the journal keeps of how an identity was found from a login identifier.
pub fn resolution_evidence(identifier: &str) -> serde_json::Value {
    serde_json::json!({
        "identifier": crate::output::clean(identifier),
        "by": "GET /admin/identities?credentials_identifier= (exact match)",
    })
}

impl IdentityId {
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl serde::Serialize for IdentityId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_a_uuid_or_a_login_identifier() {
        let id: IdentityRef = " 5F1C2A9E-0B7E-4C3D-9A51-2F6D8E4B1C07 ".parse().unwrap();
        assert_eq!(id.to_string(), "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07");
        assert!(matches!(id, IdentityRef::Id(_)));
        let e: IdentityRef = "alice@example.com".parse().unwrap();
        assert_eq!(e, IdentityRef::Identifier("alice@example.com".into()));
        assert!("".parse::<IdentityRef>().is_err());
        assert!("a\u{1b}[2Jb".parse::<IdentityRef>().is_err());
        // A UUID with a typo is not sent to Kratos as a login identifier.
        let typo = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c0".parse::<IdentityRef>();
        assert!(typo.unwrap_err().contains("is not a UUID"));
        assert!("5f1c2a9e".parse::<IdentityRef>().is_err());
        // Words and addresses are login identifiers, even with digits or in hex letters.
        for name in ["bob2024", "face2face", "decade2024"] {
            assert!(
                matches!(name.parse::<IdentityRef>(), Ok(IdentityRef::Identifier(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn sessions_are_uuids_only() {
        assert!("alice@example.com".parse::<SessionId>().is_err());
        assert_eq!(
            "0B7E2A9E-0B7E-4C3D-9A51-2F6D8E4B1C07"
                .parse::<SessionId>()
                .unwrap()
                .to_string(),
            "0b7e2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07"
        );
    }
}
