//! The exact paths and bodies atoctl sends. The client and the `--dry-run` plans both build
//! their requests here, so a dry run shows what a real run sends.

use serde_json::{Value, json};

pub const RECOVERY_CODE: &str = "/admin/recovery/code";
pub const RECOVERY_LINK: &str = "/admin/recovery/link";

/// Percent-encodes everything but RFC 3986's unreserved characters. Ids are validated UUIDs
/// before they get here; encoding anyway means nothing can change a path's shape.
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

pub fn identity(id: &str) -> String {
    format!("/admin/identities/{}", enc(id))
}

/// Only ever used to learn whether a hash exists (reference §14); see
/// [`super::Client::password_state`].
pub fn identity_with_password(id: &str) -> String {
    format!("/admin/identities/{}?include_credential=password", enc(id))
}

pub fn identity_sessions(
    id: &str,
    active: Option<bool>,
    page_size: u64,
    token: Option<&str>,
) -> String {
    let mut p = format!(
        "/admin/identities/{}/sessions?page_size={page_size}",
        enc(id)
    );
    if let Some(a) = active {
        p.push_str(&format!("&active={a}"));
    }
    if let Some(t) = token {
        p.push_str(&format!("&page_token={}", enc(t)));
    }
    p
}

pub fn identity_sessions_delete(id: &str) -> String {
    format!("/admin/identities/{}/sessions", enc(id))
}

pub fn session(sid: &str) -> String {
    format!(
        "/admin/sessions/{}?expand=identity&expand=devices",
        enc(sid)
    )
}

pub fn session_delete(sid: &str) -> String {
    format!("/admin/sessions/{}", enc(sid))
}

pub fn patch_state(state: &str) -> Value {
    json!([{"op": "replace", "path": "/state", "value": state}])
}

pub fn recovery_body(id: &str, expires_in: Option<&str>) -> Value {
    match expires_in {
        Some(e) => json!({"identity_id": id, "expires_in": e}),
        None => json!({"identity_id": id}),
    }
}
