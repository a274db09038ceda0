//! The Hydra admin endpoints atoctl uses (§12), served by the same server. Errors use
//! Hydra's flat RFC 6749 body `{"error","error_description"}`, the hint appended to the
//! description.

use serde_json::Value;

use super::server::{Ctx, Reply, hydra_error};

const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";

fn invalid_request(hint: &str) -> Reply {
    hydra_error(400, "invalid_request", &format!("{INVALID_REQUEST} {hint}"))
}

/// `GET /admin/oauth2/auth/sessions/consent?subject=[&login_session_id=]`: 200 array (`[]`
/// for an unknown subject); 400 without `subject`.
pub(crate) fn list_consent(ctx: &Ctx<'_>) -> Reply {
    let Some(subject) = ctx.q("subject").filter(|s| !s.is_empty()) else {
        return invalid_request("Query parameter 'subject' is not defined but should have been.");
    };
    let sid = ctx.q("login_session_id").filter(|s| !s.is_empty());
    let db = ctx.shared.db();
    let list: Vec<Value> = db
        .consents
        .iter()
        .filter(|c| c.subject == subject && sid.is_none_or(|s| c.login_session_id == s))
        .map(|c| c.to_json())
        .collect();
    Reply::json(200, &Value::Array(list))
}

/// `DELETE /admin/oauth2/auth/sessions/consent`: exactly `subject&all=true` (no client),
/// `subject&client` (all not true) or `consent_request_id` alone; anything else (including
/// `subject` alone) is 400 "Invalid combination of query parameters.". 204 even when nothing
/// matched.
pub(crate) fn revoke_consent(ctx: &Ctx<'_>) -> Reply {
    let subject = ctx.q("subject").unwrap_or("");
    let client = ctx.q("client").unwrap_or("");
    let crid = ctx.q("consent_request_id").unwrap_or("");
    let all = ctx.q("all") == Some("true");
    let mut db = ctx.shared.db();
    if !crid.is_empty() && subject.is_empty() && client.is_empty() && !all {
        db.consents.retain(|c| c.consent_request_id != crid);
    } else if !subject.is_empty() && !client.is_empty() && !all {
        db.consents
            .retain(|c| !(c.subject == subject && c.client_id == client));
    } else if !subject.is_empty() && client.is_empty() && all {
        db.consents.retain(|c| c.subject != subject);
    } else {
        return invalid_request("Invalid combination of query parameters.");
    }
    Reply::empty(204)
}

/// `DELETE /admin/oauth2/auth/sessions/login?subject=|sid=`: 204 even if nothing existed;
/// neither parameter → 400.
pub(crate) fn revoke_login(ctx: &Ctx<'_>) -> Reply {
    let subject = ctx.q("subject").filter(|s| !s.is_empty());
    let sid = ctx.q("sid").filter(|s| !s.is_empty());
    let mut db = ctx.shared.db();
    match (subject, sid) {
        (Some(s), _) => db.login_sessions.retain(|l| l.subject != s),
        (None, Some(id)) => db.login_sessions.retain(|l| l.id != id),
        (None, None) => {
            return invalid_request(
                "Either 'subject' or 'sid' query parameters need to be defined.",
            );
        }
    }
    Reply::empty(204)
}
