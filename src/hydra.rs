//! The Ory Hydra admin API, for what Kratos session revocation leaves alive (reference §12,
//! §13.13): OAuth2 consent sessions with their access and refresh tokens, and login sessions.
//!
//! - `DELETE /admin/oauth2/auth/sessions/consent?subject=<s>&all=true` revokes every consent of
//!   the subject AND deletes its access and refresh tokens; `?subject=<s>&client=<c>` those of
//!   one client; `subject` alone is a 400.
//! - `DELETE /admin/oauth2/auth/sessions/login?sid=<login session id>` logs one login session
//!   out with back-channel logout, so the relying parties' own sessions end too; consent
//!   sessions carry the `login_session_id` they were granted in. `?subject=<s>` only forgets
//!   remembered logins, with no logout at all. Neither revokes a token.
//! - Every delete answers 204 also when nothing matched, so what was revoked is learned from
//!   the listings before and after, never assumed.
//! - When Kratos is Hydra's login provider, the OAuth2 subject is the Kratos identity id.
//! - JWT-format access tokens stay valid until they expire for resource servers that do not
//!   introspect them: revocation deletes the token rows, it cannot recall a signed token.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::api::ApiError;
use crate::http::{Answer, BodyLimit, Request, Transport};
use crate::kratos::paths::enc;

const LIST_BUCKET: &str = "hydra-admin-high";
const REVOKE_BUCKET: &str = "hydra-admin-low";

/// At most this many consent pages of one subject (20,000 consents at 500 a page): for a server
/// whose listing never ends.
pub const MAX_CONSENT_PAGES: u32 = 40;

/// The largest consent page the OpenAPI document allows.
pub const CONSENT_PAGE_SIZE: u32 = 500;

#[derive(Clone)]
pub struct Client {
    http: Transport,
}

/// What the journal keeps of one consent session: never its token claims.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Consent {
    pub consent_request_id: Option<String>,
    pub client_id: Option<String>,
    pub login_session_id: Option<String>,
    pub grant_scope: Value,
    pub handled_at: Option<String>,
    pub remember: Value,
}

pub fn consent_list_path(subject: &str) -> String {
    format!(
        "/admin/oauth2/auth/sessions/consent?subject={}&page_size={CONSENT_PAGE_SIZE}",
        enc(subject)
    )
}

pub fn consent_revoke_all_path(subject: &str) -> String {
    format!(
        "/admin/oauth2/auth/sessions/consent?subject={}&all=true",
        enc(subject)
    )
}

/// Revokes the subject's consents to one client (`subject` + `client`; `subject` alone is a
/// 400 in Hydra).
pub fn consent_revoke_client_path(subject: &str, client: &str) -> String {
    format!(
        "/admin/oauth2/auth/sessions/consent?subject={}&client={}",
        enc(subject),
        enc(client)
    )
}

/// Revokes one consent by its request id (and only it).
pub fn consent_revoke_one_path(consent_request_id: &str) -> String {
    format!(
        "/admin/oauth2/auth/sessions/consent?consent_request_id={}",
        enc(consent_request_id)
    )
}

pub fn login_logout_path(sid: &str) -> String {
    format!("/admin/oauth2/auth/sessions/login?sid={}", enc(sid))
}

pub fn login_forget_path(subject: &str) -> String {
    format!("/admin/oauth2/auth/sessions/login?subject={}", enc(subject))
}

impl Client {
    pub fn new(http: Transport) -> Client {
        Client { http }
    }

    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        ok: u16,
        bucket: &'static str,
    ) -> Result<Answer, ApiError> {
        let ans = self
            .http
            .send(Request {
                method,
                path,
                body: None,
                idempotent: true,
                bucket,
                limit: BodyLimit::Page,
            })
            .await?;
        if ans.status != ok {
            return Err(ApiError::from_answer(&ans));
        }
        Ok(ans)
    }

    /// Every granted consent session of the subject, following Hydra's keyset `rel="next"`
    /// links (absent on the last page, unlike Kratos's listing). A consent of another subject
    /// is not trusted.
    pub async fn list_consents(&self, subject: &str) -> Result<Vec<Consent>, ApiError> {
        let mut out: Vec<Consent> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut path = consent_list_path(subject);
        let deadline = crate::kratos::ListingDeadline::start(self.http.timeout());
        let mut pages = 0u32;
        loop {
            // Hydra's keyset pages always end (no `next` on the last one); a server whose pages
            // do not, or that repeats itself, is not followed without end.
            if pages >= MAX_CONSENT_PAGES || (pages > 0 && deadline.passed()) {
                return Err(ApiError::unending(
                    "GET",
                    &self.url(&path),
                    format!(
                        "the consent listing did not end after {pages} pages ({} consents)",
                        out.len()
                    ),
                ));
            }
            // The page in flight (its retries, a rate-limit hold) ends at the deadline too.
            let page = self.call(Method::GET, &path, 200, LIST_BUCKET);
            let Some(ans) = deadline.bound(page).await else {
                return Err(ApiError::unending(
                    "GET",
                    &self.url(&path),
                    format!(
                        "the consent listing passed {} after {pages} pages ({} consents)",
                        deadline.named(),
                        out.len()
                    ),
                ));
            };
            let ans = ans?;
            pages += 1;
            let page: Vec<Value> = serde_json::from_slice(&ans.body)
                .map_err(|e| ApiError::bad_body(&ans, e.to_string()))?;
            let before = out.len();
            for c in &page {
                let about = c
                    .get("consent_request")
                    .and_then(|r| r.get("subject"))
                    .and_then(Value::as_str);
                if let Some(s) = about
                    && s != subject
                {
                    return Err(ApiError::mismatch(
                        &ans,
                        format!("a consent of subject {}", crate::output::clean(s)),
                    ));
                }
                let c = consent(c);
                let key = c.consent_request_id.clone().unwrap_or_default();
                if key.is_empty() || seen.insert(key) {
                    out.push(c);
                }
            }
            match ans.header("link").and_then(next_link_path) {
                Some(next) if !page.is_empty() => {
                    if out.len() == before {
                        return Err(ApiError::unending(
                            "GET",
                            &self.url(&path),
                            "a page of the consent listing repeated the consents already listed"
                                .into(),
                        ));
                    }
                    path = next
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// Revokes every consent of the subject (and so its tokens).
    pub async fn revoke_all_consents(&self, subject: &str) -> Result<(), ApiError> {
        self.call(
            Method::DELETE,
            &consent_revoke_all_path(subject),
            204,
            REVOKE_BUCKET,
        )
        .await
        .map(|_| ())
    }

    /// Revokes the subject's consents to one client (and so their tokens).
    pub async fn revoke_client_consents(
        &self,
        subject: &str,
        client: &str,
    ) -> Result<(), ApiError> {
        self.call(
            Method::DELETE,
            &consent_revoke_client_path(subject, client),
            204,
            REVOKE_BUCKET,
        )
        .await
        .map(|_| ())
    }

    /// Revokes one consent by its request id (and so its tokens).
    pub async fn revoke_consent(&self, consent_request_id: &str) -> Result<(), ApiError> {
        self.call(
            Method::DELETE,
            &consent_revoke_one_path(consent_request_id),
            204,
            REVOKE_BUCKET,
        )
        .await
        .map(|_| ())
    }

    /// Logs one login session out, with back-channel logout to the relying parties.
    pub async fn logout_login_session(&self, sid: &str) -> Result<(), ApiError> {
        self.call(Method::DELETE, &login_logout_path(sid), 204, REVOKE_BUCKET)
            .await
            .map(|_| ())
    }

    /// Forgets the subject's remembered logins (no logout, no token revoked).
    pub async fn forget_logins(&self, subject: &str) -> Result<(), ApiError> {
        self.call(
            Method::DELETE,
            &login_forget_path(subject),
            204,
            REVOKE_BUCKET,
        )
        .await
        .map(|_| ())
    }
}

fn consent(c: &Value) -> Consent {
    let req = c.get("consent_request");
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    Consent {
        consent_request_id: s(c.get("consent_request_id")),
        client_id: s(req
            .and_then(|r| r.get("client"))
            .and_then(|cl| cl.get("client_id"))),
        login_session_id: s(req.and_then(|r| r.get("login_session_id"))).filter(|s| !s.is_empty()),
        grant_scope: c.get("grant_scope").cloned().unwrap_or(Value::Null),
        handled_at: s(c.get("handled_at")),
        remember: c.get("remember").cloned().unwrap_or(Value::Null),
    }
}

/// The distinct login sessions a set of consents was granted in, in the order first seen.
pub fn login_sessions(consents: &[Consent]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sid in consents.iter().filter_map(|c| c.login_session_id.clone()) {
        if !out.contains(&sid) {
            out.push(sid);
        }
    }
    out
}

/// The path and query of a `rel="next"` link, if the header has one.
fn next_link_path(link: &str) -> Option<String> {
    let part = link
        .split(',')
        .find(|p| p.contains("rel=\"next\"") || p.contains("rel=next"))?;
    let url = part.get(part.find('<')? + 1..part.find('>')?)?;
    // Absolute or a bare path: resolve against any base to split path and query.
    let parsed = reqwest::Url::parse("http://hydra.invalid/")
        .ok()?
        .join(url)
        .ok()?;
    Some(match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoking_all_consents_names_the_subject_and_all() {
        // `subject` alone is a 400 in Hydra (reference §12).
        assert_eq!(
            consent_revoke_all_path("5f1c"),
            "/admin/oauth2/auth/sessions/consent?subject=5f1c&all=true"
        );
    }

    #[test]
    fn next_link_is_followed_and_its_absence_ends_paging() {
        let h = r#"<http://h/admin/oauth2/auth/sessions/consent?page_size=500&page_token=abc&subject=s>; rel="first",<http://h/admin/oauth2/auth/sessions/consent?page_size=500&page_token=def&subject=s>; rel="next""#;
        assert_eq!(
            next_link_path(h).as_deref(),
            Some("/admin/oauth2/auth/sessions/consent?page_size=500&page_token=def&subject=s")
        );
        assert_eq!(next_link_path(r#"<http://h/x>; rel="first""#), None);
    }

    #[test]
    fn login_sessions_are_distinct_and_in_order() {
        let c = |sid: Option<&str>| Consent {
            consent_request_id: None,
            client_id: None,
            login_session_id: sid.map(str::to_string),
            grant_scope: Value::Null,
            handled_at: None,
            remember: Value::Null,
        };
        let all = [c(Some("b")), c(None), c(Some("a")), c(Some("b"))];
        assert_eq!(login_sessions(&all), ["b", "a"]);
    }
}
