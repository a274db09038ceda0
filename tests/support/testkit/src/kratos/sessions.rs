//! Session endpoints (§3, §4, §5), including the pagination quirks of §3 and §14.19.

use base64::Engine;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::now;
use super::server::{Ctx, Reply, bad_request, herodot, not_found_resource, query_escape};

/// Session routes parse ids with `uuid.FromString` and answer 400 for a malformed one (§0).
fn parse_session_uuid(s: &str) -> Result<Uuid, Reply> {
    Uuid::parse_str(s).map_err(|_| {
        let msg = if s.len() != 36 && s.len() != 32 {
            format!("uuid: incorrect UUID length {} in string \"{s}\"", s.len())
        } else {
            format!("uuid: incorrect UUID format in string \"{s}\"")
        };
        herodot(400, Some(&msg), Some("could not parse UUID"))
    })
}

const DEFAULT_PAGE_SIZE: u64 = 250;
const MAX_PAGE_SIZE: u64 = 1000;

fn page_size(v: Option<&str>) -> u64 {
    match v.and_then(|s| s.trim().parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as u64).min(MAX_PAGE_SIZE),
        _ => DEFAULT_PAGE_SIZE,
    }
}

/// `base64url({"offset":"N","v":2})`, padded (`tokenpagination.Encode`).
pub(crate) fn encode_token(offset: u64) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(format!(r#"{{"offset":"{offset}","v":2}}"#))
}

/// Decodes an offset token, padded or not. Anything undecodable is offset 0 (§3).
pub(crate) fn decode_token(t: &str) -> u64 {
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(t)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        });
    let Ok(raw) = raw else { return 0 };
    let Ok(v) = serde_json::from_slice::<Value>(&raw) else {
        return 0;
    };
    match v.get("offset") {
        Some(Value::String(s)) => s.trim().parse::<u64>().unwrap_or(0),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

/// `x.ParsePagination` → `migrationpagination`: `page_token`/`page_size` (token offsets), or
/// the deprecated `page`/`per_page`. Returns the 0-based handler page and the page size.
fn parse_pagination(ctx: &Ctx<'_>) -> (u64, u64) {
    if ctx.has_q("page_token") || ctx.has_q("page_size") {
        let size = page_size(ctx.q("page_size"));
        let offset = ctx.q("page_token").map(decode_token).unwrap_or(0);
        (offset / size, size)
    } else if ctx.has_q("page") || ctx.has_q("per_page") {
        let size = page_size(ctx.q("per_page"));
        let page = ctx
            .q("page")
            .and_then(|p| p.trim().parse::<i64>().ok())
            .filter(|p| *p > 0)
            .unwrap_or(0) as u64;
        (page, size)
    } else {
        (0, DEFAULT_PAGE_SIZE)
    }
}

/// `pagination.HeaderWithFormatter` with the `migrationpagination` formatter (§3): each
/// link carries `page`, `page_size`, `page_token` and `per_page`. Quirks kept on purpose:
/// - total ≤ page size: only `rel="first"`;
/// - total == 0: `first`, `next` **and** `prev`, so "follow next until it is gone" never ends.
fn link_header(base: &str, total: u64, page: u64, size: u64) -> String {
    let link = |rel: &str, limit: u64, offset: u64| {
        let limit = limit.max(1);
        format!(
            "<{base}?page={}&page_size={limit}&page_token={}&per_page={limit}>; rel=\"{rel}\"",
            offset / limit,
            query_escape(&encode_token(offset)),
        )
    };
    let offset = page * size;
    let last_offset = if total.is_multiple_of(size) {
        total.saturating_sub(size)
    } else {
        (total / size) * size
    };
    if offset >= last_offset {
        if total == 0 {
            return [
                link("first", size, 0),
                link("next", size, (page + 1) * size),
                link("prev", size, page.saturating_sub(1) * size),
            ]
            .join(",");
        }
        if total <= size {
            return link("first", total, 0);
        }
        return [
            link("first", size, 0),
            link("prev", size, last_offset.saturating_sub(size)),
        ]
        .join(",");
    }
    if offset < size {
        return [link("next", size, size), link("last", size, last_offset)].join(",");
    }
    [
        link("first", size, 0),
        link("next", size, (page + 1) * size),
        link("prev", size, (page - 1) * size),
        link("last", size, last_offset),
    ]
    .join(",")
}

/// `GET /admin/identities/{id}/sessions` (§3).
/// - malformed id → 400; unknown identity → 200 `[]` (the handler never looks it up);
/// - `active=true|false` filters on the DB column and expiry only, not the identity state;
/// - sorted `created_at DESC`; identity and devices always expanded;
/// - **§14.19**: the 0-based handler page (`offset / page_size`) goes to a storage layer that
///   counts pages from 1 and treats 0 as 1, so offsets 0 and `page_size` both return the
///   first page, and offset `2 * page_size` returns the second.
pub(crate) fn list_identity_sessions(ctx: &Ctx<'_>, id: &str) -> Reply {
    let iid = match parse_session_uuid(id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let active = match ctx.q("active") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return bad_request("could not parse parameter active"),
    };
    let (page, size) = parse_pagination(ctx);
    let at = now();
    let db = ctx.shared.db();
    let identity = db.identities.get(&iid);
    let matching: Vec<_> = db
        .sessions_of(iid)
        .into_iter()
        .filter(|s| match active {
            None => true,
            Some(a) => s.db_unexpired_active(at) == a,
        })
        .collect();
    let total = matching.len() as u64;
    let storage_page = page.max(1);
    let start = ((storage_page - 1) * size).min(total) as usize;
    let end = (storage_page * size).min(total) as usize;
    let body: Vec<Value> = matching[start..end]
        .iter()
        .map(|s| s.to_json(identity, &ctx.shared.base_url, true, true))
        .collect();
    let base = format!("{}/admin/identities/{iid}/sessions", ctx.shared.base_url);
    Reply::json(200, &Value::Array(body))
        .header("x-total-count", total.to_string())
        .header("link", link_header(&base, total, page, size))
}

/// `DELETE /admin/identities/{id}/sessions` (§4): hard delete of every session row of the
/// identity (devices cascade). 204 if at least one row went (revoked rows count), 404
/// "Unable to locate the resource" if none (unknown identity or no sessions: the same).
pub(crate) fn delete_identity_sessions(ctx: &Ctx<'_>, id: &str) -> Reply {
    let iid = match parse_session_uuid(id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut db = ctx.shared.db();
    if db.hard_delete_sessions(iid) == 0 {
        return not_found_resource();
    }
    Reply::empty(204)
}

/// `GET /admin/sessions/{id}` (§3): without `expand`, `identity` is null and `devices` `[]`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Reply {
    let sid = match parse_session_uuid(id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (mut ei, mut ed) = (false, false);
    for e in ctx.q_all("expand") {
        match e {
            "identity" => ei = true,
            "devices" => ed = true,
            other => return bad_request(&format!("Could not parse expand option: {other}")),
        }
    }
    let db = ctx.shared.db();
    let Some(s) = db.sessions.get(&sid) else {
        return not_found_resource();
    };
    Reply::json(
        200,
        &s.to_json(
            db.identities.get(&s.identity_id),
            &ctx.shared.base_url,
            ei,
            ed,
        ),
    )
}

/// `DELETE /admin/sessions/{id}` (§5): soft revoke (`active=false`, rows kept); 204 also for
/// an already revoked session (Postgres counts matched rows); 404 unknown; 400 malformed.
pub(crate) fn disable(ctx: &Ctx<'_>, id: &str) -> Reply {
    let sid = match parse_session_uuid(id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut db = ctx.shared.db();
    match db.sessions.get_mut(&sid) {
        Some(s) => {
            s.db_active = false;
            Reply::empty(204)
        }
        None => not_found_resource(),
    }
}

/// `POST /admin/sessions` (§4, current builds only): `{"action":"disable"|"delete",
/// "identities":[…]|"sessions":[…]}` → 200 `{"processed":n,"more":false}`.
/// `identities:["*"]` targets every session of the project. `processed` counts, for
/// `disable`, only sessions that were active before the call.
pub(crate) fn manage(ctx: &Ctx<'_>) -> Reply {
    let body: Value = match serde_json::from_slice(ctx.body) {
        Ok(v) => v,
        Err(e) => return herodot(400, Some(&e.to_string()), None),
    };
    let action = match body.get("action").and_then(Value::as_str) {
        Some(a @ ("disable" | "delete")) => a.to_string(),
        Some(other) => return bad_request(&format!("unknown action \"{other}\"")),
        None => return bad_request("action is required"),
    };
    let list = |k: &str| -> Result<Option<Vec<String>>, Reply> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) if a.is_empty() => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad_request(&format!("{k} must be an array of strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(bad_request(&format!("{k} must be an array of strings"))),
        }
    };
    let identities = match list("identities") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let sessions = match list("sessions") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut db = ctx.shared.db();
    let targets: Vec<Uuid> = match (identities, sessions) {
        (Some(ids), None) => {
            if ids.iter().any(|i| i == "*") {
                if ids.len() != 1 {
                    return bad_request("The wildcard \"*\" must appear alone in identities.");
                }
                db.sessions.keys().copied().collect()
            } else {
                let mut out = vec![];
                for i in &ids {
                    let iid = match parse_session_uuid(i) {
                        Ok(u) => u,
                        Err(r) => return r,
                    };
                    out.extend(db.sessions_of(iid).iter().map(|s| s.id));
                }
                out
            }
        }
        (None, Some(sids)) => {
            let mut out = vec![];
            for s in &sids {
                if s == "*" {
                    return bad_request(
                        "The wildcard \"*\" is not accepted in sessions; use identities: [\"*\"].",
                    );
                }
                match parse_session_uuid(s) {
                    Ok(u) => out.push(u),
                    Err(r) => return r,
                }
            }
            out
        }
        _ => return bad_request("Exactly one of identities or sessions must be provided."),
    };
    let mut processed = 0u64;
    for sid in targets {
        if action == "disable" {
            if let Some(s) = db.sessions.get_mut(&sid)
                && s.db_active
            {
                s.db_active = false;
                processed += 1;
            }
        } else if let Some(s) = db.sessions.remove(&sid) {
            if let Some(v) = db.sessions_by_identity.get_mut(&s.identity_id) {
                v.retain(|x| *x != sid);
            }
            processed += 1;
        }
    }
    Reply::json(200, &json!({"processed": processed, "more": false}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = encode_token(250);
        assert!(t.ends_with('='));
        assert_eq!(decode_token(&t), 250);
        assert_eq!(decode_token(t.trim_end_matches('=')), 250);
        assert_eq!(decode_token("garbage!"), 0);
        let numeric = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":7}"#);
        assert_eq!(decode_token(&numeric), 7);
    }

    #[test]
    fn links() {
        let l = link_header("http://x/s", 0, 0, 250);
        assert!(
            l.contains("rel=\"first\"") && l.contains("rel=\"next\"") && l.contains("rel=\"prev\"")
        );
        let l = link_header("http://x/s", 10, 0, 250);
        assert_eq!(l.matches("rel=").count(), 1);
        assert!(l.contains("rel=\"first\"") && l.contains("per_page=10"));
        let l = link_header("http://x/s", 600, 0, 250);
        assert!(l.contains("rel=\"next\"") && l.contains("rel=\"last\""));
        let l = link_header("http://x/s", 600, 1, 250);
        assert!(
            l.contains("rel=\"first\"") && l.contains("rel=\"next\"") && l.contains("rel=\"prev\"")
        );
        let l = link_header("http://x/s", 600, 2, 250);
        assert!(!l.contains("rel=\"next\""));
    }
}
