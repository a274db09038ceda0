//! The Hydra admin endpoints atoctl uses (§12), served by the same server. Errors use
//! Hydra's flat RFC 6749 body `{"error","error_description"}`, the hint appended to the
//! description.
//!
//! - The consent listing pages as Hydra's `keysetpagination_v2` does: ordered by the flow's
//!   `login_challenge`, `page_size` (default 100, the paginator's own default, as the
//!   handler sets none; at most 500) and an opaque, sealed `page_token`; `Link` has
//!   `rel="first"` on every non-empty page and `rel="next"` unless it is the last one; an
//!   empty result is `[]` without `Link`; a token that does not unseal is a 400.
//! - Revoking consents deletes their access and refresh tokens with them.
//! - `DELETE …/sessions/login?subject=` deletes remembered login sessions without any logout
//!   notification; `?sid=` is a headless logout of one session with back-channel logout (204
//!   also when the `sid` is unknown, then without notification).

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::server::{Ctx, Reply, hydra_error, query_escape};

const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";

/// fosite's `ErrInvalidRequest` with a hint.
pub(crate) fn invalid_request(hint: &str) -> Reply {
    hydra_error(400, "invalid_request", &format!("{INVALID_REQUEST} {hint}"))
}

/// `keysetpagination.DefaultSize`: Hydra's consent handler sets no default of its own (the
/// OpenAPI document says 250, the code serves 100).
const DEFAULT_PAGE_SIZE: usize = 100;
/// `keysetpagination.DefaultMaxSize`.
const MAX_PAGE_SIZE: usize = 500;

/// The double's page-token key. Hydra seals its tokens with an AEAD under the pagination
/// secret; here a keyed SHA-256 stream and tag play that part: opaque, and a token that was
/// not issued by the double (or was altered) does not open.
const TOKEN_KEY: &[u8] = b"atoctl-testkit hydra page token v1";

fn keystream_block(nonce: &[u8], counter: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TOKEN_KEY);
    h.update(b"stream");
    h.update(nonce);
    h.update(counter.to_be_bytes());
    h.finalize().into()
}

fn tag(nonce: &[u8], sealed: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TOKEN_KEY);
    h.update(b"tag");
    h.update(nonce);
    h.update(sealed);
    h.finalize().into()
}

fn xor_stream(nonce: &[u8], data: &mut [u8]) {
    for (i, chunk) in data.chunks_mut(32).enumerate() {
        let block = keystream_block(nonce, i as u32);
        for (b, k) in chunk.iter_mut().zip(block) {
            *b ^= k;
        }
    }
}

/// Seals "the keyset starts after `after`" (`""` = from the start) into a token: base64url
/// (padded, as Hydra's) of nonce ‖ sealed ‖ tag.
pub(crate) fn seal_page_token(after: &str) -> String {
    let nonce: [u8; 12] = rand::random();
    let mut sealed = format!("login_challenge>{after}").into_bytes();
    xor_stream(&nonce, &mut sealed);
    let t = tag(&nonce, &sealed);
    let mut raw = nonce.to_vec();
    raw.extend_from_slice(&sealed);
    raw.extend_from_slice(&t[..16]);
    base64::engine::general_purpose::URL_SAFE.encode(raw)
}

/// The keyset position of a token, or `None` when it does not open.
pub(crate) fn open_page_token(token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .ok()?;
    if raw.len() < 12 + 16 {
        return None;
    }
    let (nonce, rest) = raw.split_at(12);
    let (sealed, t) = rest.split_at(rest.len() - 16);
    if tag(nonce, sealed)[..16] != *t {
        return None;
    }
    let mut plain = sealed.to_vec();
    xor_stream(nonce, &mut plain);
    String::from_utf8(plain)
        .ok()?
        .strip_prefix("login_challenge>")
        .map(str::to_string)
}

/// The first non-empty value of a parameter (`cmp.Or(q[name]...)`).
fn first_non_empty<'a>(ctx: &'a Ctx<'_>, name: &str) -> Option<&'a str> {
    ctx.q_all(name).into_iter().find(|v| !v.is_empty())
}

/// `keysetpagination.SetLinkHeader`: `first` always, `next` unless this is the last page;
/// each link is the request URL with `page_token` and `page_size` set (Go's
/// `url.Values.Encode`: keys sorted).
fn link_header(ctx: &Ctx<'_>, size: usize, next_after: Option<&str>) -> String {
    let part = |rel: &str, token: String| {
        let mut q: Vec<(String, String)> = ctx
            .query
            .iter()
            .filter(|(k, _)| k != "page_token" && k != "page_size")
            .cloned()
            .collect();
        q.push(("page_token".into(), token));
        q.push(("page_size".into(), size.to_string()));
        q.sort_by(|a, b| a.0.cmp(&b.0));
        let q: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
            .collect();
        format!("<{}?{}>; rel=\"{rel}\"", ctx.path, q.join("&"))
    };
    let mut links = vec![part("first", seal_page_token(""))];
    if let Some(after) = next_after {
        links.push(part("next", seal_page_token(after)));
    }
    links.join(",")
}

/// `GET /admin/oauth2/auth/sessions/consent?subject=[&login_session_id=][&page_size=]
/// [&page_token=]`: 200 array, keyset-paginated (see the module doc); `[]` without `Link`
/// for an unknown subject or past the end; 400 without `subject` or with a bad token.
pub(crate) fn list_consent(ctx: &Ctx<'_>) -> Reply {
    let Some(subject) = ctx.q("subject").filter(|s| !s.is_empty()) else {
        return invalid_request("Query parameter 'subject' is not defined but should have been.");
    };
    let after = match first_non_empty(ctx, "page_token") {
        None => String::new(),
        Some(t) => match open_page_token(t) {
            Some(a) => a,
            None => {
                return invalid_request(
                    "Unable to parse pagination parameters: invalid pagination token",
                );
            }
        },
    };
    let size = match first_non_empty(ctx, "page_size") {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n <= 0 => DEFAULT_PAGE_SIZE,
            Ok(n) => (n as usize).min(MAX_PAGE_SIZE),
            Err(_) => {
                return invalid_request(&format!(
                    "Unable to parse pagination parameters: strconv.Atoi: parsing \"{s}\": invalid syntax"
                ));
            }
        },
    };
    let sid = ctx.q("login_session_id").filter(|s| !s.is_empty());
    let db = ctx.shared.db();
    let mut page: Vec<&super::model::Consent> = db
        .consents
        .iter()
        .filter(|c| {
            c.subject == subject
                && sid.is_none_or(|s| c.login_session_id.as_deref() == Some(s))
                && c.login_challenge.as_str() > after.as_str()
        })
        .collect();
    if page.is_empty() {
        // `ErrNoPreviousConsentFound`: an empty array, no Link header.
        return Reply::json(200, &Value::Array(vec![]));
    }
    page.sort_by(|a, b| a.login_challenge.cmp(&b.login_challenge));
    let is_last = page.len() <= size;
    page.truncate(size);
    let next_after = if is_last {
        None
    } else {
        page.last().map(|c| c.login_challenge.as_str())
    };
    let link = link_header(ctx, size, next_after);
    let body: Vec<Value> = page.iter().map(|c| c.to_json()).collect();
    Reply::json(200, &Value::Array(body)).header("link", link)
}

/// `DELETE /admin/oauth2/auth/sessions/consent`: `consent_request_id` with neither `subject`
/// nor `client`; `subject&client` with `all` not true; `subject&all=true` without `client`.
/// Anything else (including `subject` alone) is 400 "Invalid combination of query
/// parameters.". The consents' tokens are deleted with them. 204 even when nothing matched.
pub(crate) fn revoke_consent(ctx: &Ctx<'_>) -> Reply {
    let subject = ctx.q("subject").unwrap_or("");
    let client = ctx.q("client").unwrap_or("");
    let crid = ctx.q("consent_request_id").unwrap_or("");
    let all = ctx.q("all") == Some("true");
    let mut db = ctx.shared.db();
    if !crid.is_empty() && subject.is_empty() && client.is_empty() {
        db.consents.retain(|c| c.consent_request_id != crid);
    } else if crid.is_empty() && !subject.is_empty() && !client.is_empty() && !all {
        db.consents
            .retain(|c| !(c.subject == subject && c.client_id == client));
    } else if crid.is_empty() && !subject.is_empty() && client.is_empty() && all {
        db.consents.retain(|c| c.subject != subject);
    } else {
        return invalid_request("Invalid combination of query parameters.");
    }
    Reply::empty(204)
}

/// `DELETE /admin/oauth2/auth/sessions/login?sid=|subject=`: with `sid` (which wins when
/// both are given) a headless logout of that login session with back-channel logout,
/// nothing at all for an unknown `sid`; with `subject` every remembered login session of the
/// subject goes, with no front- or back-channel logout. Consents stay (their
/// `login_session_id` becomes null) and no token is revoked. 204; neither parameter → 400.
pub(crate) fn revoke_login(ctx: &Ctx<'_>) -> Reply {
    let subject = ctx.q("subject").filter(|s| !s.is_empty());
    let sid = ctx.q("sid").filter(|s| !s.is_empty());
    let mut db = ctx.shared.db();
    match (sid, subject) {
        (Some(id), _) => {
            let gone = db.delete_login_sessions(|l| l.id == id);
            db.backchannel_logouts.extend(gone);
        }
        (None, Some(s)) => {
            db.delete_login_sessions(|l| l.subject == s);
        }
        (None, None) => {
            return invalid_request(
                "Either 'subject' or 'sid' query parameters need to be defined.",
            );
        }
    }
    Reply::empty(204)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_are_opaque_and_sealed() {
        let t = seal_page_token("abc123");
        assert!(!t.contains("abc123"));
        assert_eq!(open_page_token(&t).as_deref(), Some("abc123"));
        assert_eq!(open_page_token(&seal_page_token("")).as_deref(), Some(""));
        assert_ne!(
            seal_page_token("x"),
            seal_page_token("x"),
            "a fresh nonce each time"
        );
        // Altered, truncated or foreign tokens do not open.
        let mut raw = base64::engine::general_purpose::URL_SAFE
            .decode(&t)
            .unwrap();
        raw[13] ^= 1;
        let altered = base64::engine::general_purpose::URL_SAFE.encode(&raw);
        assert_eq!(open_page_token(&altered), None);
        assert_eq!(open_page_token("garbage"), None);
        assert_eq!(open_page_token(""), None);
        let offset =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":"0","v":2}"#);
        assert_eq!(open_page_token(&offset), None);
    }
}
