//! The exact paths and bodies atoctl sends. The client builds its requests here, and so does
//! a plan (`crate::plan`) when it prints them: a dry run shows what a real run sends.

use serde_json::{Value, json};

use crate::ids::{IdentityId, SessionId};

pub const RECOVERY_CODE: &str = "/admin/recovery/code";
pub const RECOVERY_LINK: &str = "/admin/recovery/link";

/// Percent-encodes everything but RFC 3986's unreserved characters (for query values that
/// come from people: login identifiers, Hydra client ids).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn identity(id: IdentityId) -> String {
    format!("/admin/identities/{id}")
}

/// Only ever used to learn whether a hash exists (reference §14); see
/// [`super::Client::password_state`].
pub fn identity_with_password(id: IdentityId) -> String {
    format!("/admin/identities/{id}?include_credential=password")
}

/// The exact-match lookup of a login identifier (reference §2).
pub fn identities_by_identifier(identifier: &str) -> String {
    format!(
        "/admin/identities?credentials_identifier={}",
        enc(identifier)
    )
}

pub fn identity_sessions(
    id: IdentityId,
    active: Option<bool>,
    page_size: u64,
    token: Option<&str>,
) -> String {
    let mut p = format!("/admin/identities/{id}/sessions?page_size={page_size}");
    if let Some(a) = active {
        p.push_str(&format!("&active={a}"));
    }
    if let Some(t) = token {
        p.push_str(&format!("&page_token={}", enc(t)));
    }
    p
}

pub fn identity_sessions_delete(id: IdentityId) -> String {
    format!("/admin/identities/{id}/sessions")
}

pub fn session(sid: SessionId) -> String {
    format!("/admin/sessions/{sid}?expand=identity&expand=devices")
}

pub fn session_delete(sid: SessionId) -> String {
    format!("/admin/sessions/{sid}")
}

/// `include_credential=webauthn`: the keys' ids, names, times and whether each is passwordless
/// (public keys only; nothing secret); see [`super::Client::webauthn_keys`].
pub fn identity_with_webauthn(id: IdentityId) -> String {
    format!("/admin/identities/{id}?include_credential=webauthn")
}

/// `DELETE /admin/identities/{id}/credentials/{type}`, with `identifier=` for the types that
/// need one (oidc, saml: `provider:subject`).
pub fn credential_delete(id: IdentityId, kind: &str, identifier: Option<&str>) -> String {
    match identifier {
        Some(i) => format!(
            "/admin/identities/{id}/credentials/{}?identifier={}",
            enc(kind),
            enc(i)
        ),
        None => format!("/admin/identities/{id}/credentials/{}", enc(kind)),
    }
}

pub fn patch_state(state: &str) -> Value {
    json!([{"op": "replace", "path": "/state", "value": state}])
}

pub fn recovery_body(id: IdentityId, expires_in: Option<&str>) -> Value {
    match expires_in {
        Some(e) => json!({"identity_id": id, "expires_in": e}),
        None => json!({"identity_id": id}),
    }
}
