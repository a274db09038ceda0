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
        // `herodot.ErrBadRequest.WithError(err.Error()).WithDebug("could not parse UUID")`:
        // the debug text is stripped outside debug mode.
        herodot(400, Some(&msg), None)
    })
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

const DEFAULT_PAGE_SIZE: u64 = 250;
const MAX_PAGE_SIZE: u64 = 1000;

/// `page_size`/`per_page` as `tokenpagination`/`pagepagination` parse them: unparseable or
/// absent → 250, capped at 1000, anything below 1 → 1.
fn page_size(v: Option<&str>) -> u64 {
    match v.and_then(|s| s.parse::<i64>().ok()) {
        Some(n) => n.clamp(1, MAX_PAGE_SIZE as i64) as u64,
        None => DEFAULT_PAGE_SIZE,
    }
}

/// `base64url({"offset":"N","v":2})` without padding, as `tokenpagination.Encode` writes it
/// (`base64.RawURLEncoding`).
pub(crate) fn encode_token(offset: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"offset":"{offset}","v":2}}"#))
}

/// Decodes an offset token, unpadded as ory/x writes it or padded (more lenient than Kratos,
/// which reads only the unpadded form). Anything undecodable is offset 0 (§3).
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
/// link carries `page`, `page_size`, `page_token` and `per_page`, merged into the request's
/// own URL (`x.PaginationHeader(w, *r.URL, …)`), so the links are **relative**
/// (`</admin/identities/…/sessions?…>`) and keep the request's other parameters (`active`).
/// Quirks kept on purpose:
/// - total ≤ page size: only `rel="first"`;
/// - total == 0: `first`, `next` **and** `prev`, so "follow next until it is gone" never ends.
fn link_header(path: &str, other: &[(String, String)], total: u64, page: u64, size: u64) -> String {
    let link = |rel: &str, limit: u64, offset: u64| {
        let limit = limit.max(1);
        let mut q: Vec<(String, String)> = other.to_vec();
        q.push(("page".into(), (offset / limit).to_string()));
        q.push(("page_size".into(), limit.to_string()));
        q.push(("page_token".into(), encode_token(offset)));
        q.push(("per_page".into(), limit.to_string()));
        // Go's `url.Values.Encode` sorts by key.
        q.sort_by(|a, b| a.0.cmp(&b.0));
        let q: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
            .collect();
        format!("<{path}?{}>; rel=\"{rel}\"", q.join("&"))
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
                // ory/x computes offset -page_size here; clamped to 0.
                link("prev", size, page.saturating_sub(1) * size),
            ]
            .join(",");
        }
        if total <= size {
            // `f(u, "first", total, 0)`: the limit is the total here.
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
    let active = match ctx.q("active").unwrap_or("") {
        "" => None,
        v => match parse_go_bool(v) {
            Some(b) => Some(b),
            None => return herodot(400, Some("could not parse parameter active"), None),
        },
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
    let other: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "page" | "page_size" | "page_token" | "per_page"))
        .cloned()
        .collect();
    Reply::json(200, &Value::Array(body))
        .header("x-total-count", total.to_string())
        .header("link", link_header(ctx.path, &other, total, page, size))
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

/// `GET /admin/sessions[?active=&expand=&page_size=]`: every session of the project, newest
/// first. Simplified: only the first page is served (Kratos pages this listing with keyset
/// tokens, which atoctl does not use).
pub(crate) fn list_all(ctx: &Ctx<'_>) -> Reply {
    let active = match ctx.q("active").unwrap_or("") {
        "" => None,
        v => match parse_go_bool(v) {
            Some(b) => Some(b),
            None => return herodot(400, Some("could not parse parameter active"), None),
        },
    };
    let (mut ei, mut ed) = (false, false);
    for e in ctx.q_all("expand") {
        match e {
            "identity" => ei = true,
            "devices" => ed = true,
            other => return bad_request(&format!("Could not parse expand option: {other}")),
        }
    }
    let size = page_size(ctx.q("page_size")) as usize;
    let at = now();
    let db = ctx.shared.db();
    let mut all: Vec<&super::model::Session> = db
        .sessions
        .values()
        .filter(|s| active.is_none_or(|a| s.db_unexpired_active(at) == a))
        .collect();
    all.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.seq)));
    let body: Vec<Value> = all
        .into_iter()
        .take(size)
        .map(|s| {
            s.to_json(
                db.identities.get(&s.identity_id),
                &ctx.shared.base_url,
                ei,
                ed,
            )
        })
        .collect();
    Reply::json(200, &Value::Array(body))
}

/// Explicit ids accepted per `POST /admin/sessions` call.
const MANAGE_MAX_IDS: usize = 500;
/// Rows one wildcard call processes; `more` is true when it hit this.
const MANAGE_WILDCARD_BATCH: usize = 5000;

fn parse_manage_ids(raw: &[String]) -> Result<Vec<Uuid>, String> {
    if raw.len() > MANAGE_MAX_IDS {
        return Err(format!(
            "at most {MANAGE_MAX_IDS} IDs may be provided per call"
        ));
    }
    raw.iter()
        .map(|s| {
            if s == "*" {
                return Err("the wildcard '*' is not accepted here".to_string());
            }
            Uuid::parse_str(s).map_err(|_| {
                format!(
                    "could not parse \"{s}\" as UUID: uuid: incorrect UUID format in string \"{s}\""
                )
            })
        })
        .collect()
}

/// `POST /admin/sessions` (§4, current builds after v26.2.0 only; 1.3.x answers 404):
/// `{"action":"disable"|"delete","identities":[…]|"sessions":[…]}` → 200
/// `{"processed":n,"more":false}`. `identities:["*"]` targets every session of the project
/// (in batches of 5000, `more` telling whether to call again). `processed` counts, for
/// `disable`, only sessions that were active before the call.
pub(crate) fn manage(ctx: &Ctx<'_>) -> Reply {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        identities: Option<Vec<String>>,
        #[serde(default)]
        sessions: Option<Vec<String>>,
    }
    let body: Body = match serde_json::from_slice(ctx.body) {
        Ok(v) => v,
        Err(e) => {
            let msg = if e.is_eof() {
                "EOF".to_string()
            } else {
                e.to_string()
            };
            return herodot(400, Some(&msg), Some("Invalid JSON body."));
        }
    };
    let action = body.action.unwrap_or_default();
    if action != "disable" && action != "delete" {
        return bad_request("The 'action' field must be one of 'disable' or 'delete'.");
    }
    let identities = body.identities.unwrap_or_default();
    let sessions = body.sessions.unwrap_or_default();
    if identities.is_empty() == sessions.is_empty() {
        return bad_request("Exactly one of 'identities' or 'sessions' must be a non-empty array.");
    }
    let mut db = ctx.shared.db();
    let (targets, wildcard): (Vec<Uuid>, bool) = if !identities.is_empty() {
        if identities.len() == 1 && identities[0] == "*" {
            let mut all: Vec<&super::model::Session> = db
                .sessions
                .values()
                .filter(|s| action == "delete" || s.db_active)
                .collect();
            all.sort_by_key(|s| s.seq);
            (
                all.iter()
                    .take(MANAGE_WILDCARD_BATCH)
                    .map(|s| s.id)
                    .collect(),
                true,
            )
        } else {
            let ids = match parse_manage_ids(&identities) {
                Ok(i) => i,
                Err(e) => {
                    return bad_request(&format!("Could not parse 'identities' field: {e}"));
                }
            };
            let mut out = vec![];
            for iid in ids {
                out.extend(db.sessions_of(iid).iter().map(|s| s.id));
            }
            (out, false)
        }
    } else {
        match parse_manage_ids(&sessions) {
            Ok(i) => (i, false),
            Err(e) => return bad_request(&format!("Could not parse 'sessions' field: {e}")),
        }
    };
    let mut processed = 0usize;
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
    let more = wildcard && processed == MANAGE_WILDCARD_BATCH;
    Reply::json(200, &json!({"processed": processed, "more": more}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = encode_token(250);
        assert!(!t.contains('='), "unpadded: {t}");
        assert_eq!(
            t,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":"250","v":2}"#)
        );
        assert_eq!(decode_token(&t), 250);
        let padded = base64::engine::general_purpose::URL_SAFE.encode(r#"{"offset":"250","v":2}"#);
        assert!(padded.ends_with('='));
        assert_eq!(decode_token(&padded), 250);
        assert_eq!(decode_token("garbage!"), 0);
        let numeric = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":7}"#);
        assert_eq!(decode_token(&numeric), 7);
    }

    #[test]
    fn links() {
        let l = link_header("/s", &[], 0, 0, 250);
        assert!(
            l.contains("rel=\"first\"") && l.contains("rel=\"next\"") && l.contains("rel=\"prev\"")
        );
        let l = link_header("/s", &[], 10, 0, 250);
        assert_eq!(l.matches("rel=").count(), 1);
        assert!(l.contains("rel=\"first\"") && l.contains("per_page=10"));
        let l = link_header("/s", &[], 600, 0, 250);
        assert!(l.contains("rel=\"next\"") && l.contains("rel=\"last\""));
        let l = link_header("/s", &[], 600, 1, 250);
        assert!(
            l.contains("rel=\"first\"") && l.contains("rel=\"next\"") && l.contains("rel=\"prev\"")
        );
        let l = link_header("/s", &[], 600, 2, 250);
        assert!(!l.contains("rel=\"next\""));
    }
}
