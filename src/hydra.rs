//! The Ory Hydra admin API, for what Kratos session revocation leaves alive (reference §12,
//! §13.13): OAuth2 consent sessions and their access/refresh tokens, and remembered login
//! sessions.
//!
//! - `DELETE /admin/oauth2/auth/sessions/consent?subject=<s>&all=true` revokes every consent of
//!   the subject AND deletes its access and refresh tokens; `subject` alone is a 400.
//! - `DELETE /admin/oauth2/auth/sessions/login?subject=<s>` forgets remembered logins; it
//!   revokes no token by itself.
//! - Both answer 204 also when nothing matched.
//! - When Kratos is Hydra's login provider, the OAuth2 subject is the Kratos identity id.

use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{Request, Transport};
use crate::kratos::KratosError;
use crate::kratos::paths::enc;

#[derive(Clone)]
pub struct Client {
    http: Transport,
}

/// What was revoked for one subject.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// One evidence object per consent session (client, scopes, when granted).
    pub consents: Vec<Value>,
    /// The consent listing is empty afterwards.
    pub verified: bool,
}

impl Revoked {
    pub fn evidence(&self) -> Value {
        json!({
            "consents_revoked": self.consents.len(),
            "consents": self.consents,
            "login_sessions_revoked": true,
            "verified_no_consent_left": self.verified,
        })
    }
}

pub fn consent_list_path(subject: &str) -> String {
    format!(
        "/admin/oauth2/auth/sessions/consent?subject={}&page_size=500",
        enc(subject)
    )
}

pub fn consent_revoke_path(subject: &str) -> String {
    format!(
        "/admin/oauth2/auth/sessions/consent?subject={}&all=true",
        enc(subject)
    )
}

pub fn login_revoke_path(subject: &str) -> String {
    format!("/admin/oauth2/auth/sessions/login?subject={}", enc(subject))
}

impl Client {
    pub fn new(http: Transport) -> Client {
        Client { http }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        ok: u16,
    ) -> Result<crate::http::Answer, KratosError> {
        let m = method.as_str().to_string();
        let ans = self
            .http
            .send(Request {
                method,
                path,
                body: None,
                idempotent: true,
            })
            .await?;
        if ans.status != ok {
            return Err(KratosError::from_answer(
                ans.status,
                &m,
                &ans.url,
                ans.content_type(),
                &ans.body,
            ));
        }
        Ok(ans)
    }

    /// Every granted consent session of the subject, following Hydra's keyset `rel="next"`
    /// links (absent on the last page, unlike Kratos's listing).
    pub async fn list_consents(&self, subject: &str) -> Result<Vec<Value>, KratosError> {
        let mut out = Vec::new();
        let mut path = consent_list_path(subject);
        for _ in 0..1000 {
            let ans = self.call(Method::GET, &path, 200).await?;
            let page: Vec<Value> =
                serde_json::from_slice(&ans.body).map_err(|e| KratosError::BadBody {
                    method: "GET".into(),
                    url: ans.url.clone(),
                    detail: e.to_string(),
                })?;
            let empty = page.is_empty();
            out.extend(page.iter().map(consent_evidence));
            let next = ans.header("link").and_then(next_link_path);
            match next {
                Some(n) if !empty => path = n,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Snapshot, revoke every consent (and so its tokens) and every remembered login, verify.
    pub async fn revoke_subject(&self, subject: &str) -> Result<Revoked, KratosError> {
        let consents = self.list_consents(subject).await?;
        self.call(Method::DELETE, &consent_revoke_path(subject), 204)
            .await?;
        self.call(Method::DELETE, &login_revoke_path(subject), 204)
            .await?;
        let after = self.list_consents(subject).await?;
        Ok(Revoked {
            consents,
            verified: after.is_empty(),
        })
    }
}

/// What the journal keeps of a consent session: never the session's token claims.
fn consent_evidence(c: &Value) -> Value {
    let req = c.get("consent_request");
    json!({
        "consent_request_id": c.get("consent_request_id"),
        "client_id": req.and_then(|r| r.get("client")).and_then(|cl| cl.get("client_id")),
        "grant_scope": c.get("grant_scope"),
        "handled_at": c.get("handled_at"),
        "remember": c.get("remember"),
    })
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
            consent_revoke_path("5f1c"),
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
}
