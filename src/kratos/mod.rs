//! The Kratos admin API client: one method per endpoint atoctl uses, and the paths they send.
//!
//! Everything atoctl knows about how Kratos really behaves (reference
//! `ory-admin-contract.md`) lives here:
//! - malformed UUIDs give 404 on identity routes but 400 on session routes (§0);
//! - listing sessions of an unknown identity gives 200 `[]` (§3);
//! - `DELETE …/sessions` gives 404 when there is nothing to delete and hard-deletes devices (§4);
//! - an empty session listing still advertises `rel=next`, and following `next` returns the
//!   first page twice (§3, §14): [`Client::list_identity_sessions`] pages by offset, de-duplicates,
//!   and reports an incomplete listing instead of guessing;
//! - `include_credential=password` returns the hash: [`Client::password_state`] keeps only
//!   whether there is one, and zeroes the body at once (§2, §14);
//! - the recovery endpoints send no e-mail, differ in status for an unknown identity (404 vs
//!   400), and are never retried (§9);
//! - writes to one identity go one after another (Ory Network's inflight limiter, §1).

mod error;
pub mod models;
pub mod paths;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroize;

pub use error::KratosError;
pub use models::{
    Credential, Device, Identity, PasswordState, RecoveryCode, RecoveryLink, Session,
};

use crate::http::{Answer, Request, Transport};

/// The largest page Kratos serves for session listings.
pub const SESSION_PAGE_SIZE: u64 = 1000;

#[derive(Clone)]
pub struct Client {
    http: Transport,
    /// One async lock per identity: writes to an identity are sent one after another.
    write_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Every session of an identity, and whether that is provably all of them.
#[derive(Debug, Clone)]
pub struct SessionListing {
    pub sessions: Vec<Session>,
    /// `X-Total-Count` of the first page, when sent.
    pub total: Option<u64>,
    /// Fewer distinct sessions than `X-Total-Count`: never report "all sessions ended" on it.
    pub complete: bool,
    /// Requests it took.
    pub pages: u32,
}

/// What `DELETE /admin/identities/{id}/sessions` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteSessions {
    /// 204: at least one session row was deleted.
    Deleted,
    /// 404: no session rows (or an unknown identity: Kratos cannot tell them apart).
    NothingToDelete,
}

impl Client {
    pub fn new(http: Transport) -> Client {
        Client {
            http,
            write_locks: Arc::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    async fn identity_write_lock(&self, id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self
                .write_locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(id.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Answer, KratosError> {
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        self.http
            .send(Request {
                method,
                path,
                body,
                idempotent,
            })
            .await
    }

    /// Sends and demands a success status; any other becomes a [`KratosError`].
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
        ok: &[u16],
    ) -> Result<Answer, KratosError> {
        let m = method.as_str().to_string();
        let ans = self.send(method, path, body, idempotent).await?;
        if ok.contains(&ans.status) {
            Ok(ans)
        } else {
            Err(KratosError::from_answer(
                ans.status,
                &m,
                &ans.url,
                ans.content_type(),
                &ans.body,
            ))
        }
    }

    fn decode<T: DeserializeOwned>(method: &str, ans: &Answer) -> Result<T, KratosError> {
        if !ans.is_json() && serde_json::from_slice::<Value>(&ans.body).is_err() {
            return Err(KratosError::NotJson {
                status: ans.status,
                method: method.into(),
                url: ans.url.clone(),
                content_type: ans.content_type().unwrap_or("no content type").into(),
            });
        }
        serde_json::from_slice(&ans.body).map_err(|e| KratosError::BadBody {
            method: method.into(),
            url: ans.url.clone(),
            detail: e.to_string(),
        })
    }

    /// `GET /admin/identities/{id}` without any credential config.
    pub async fn get_identity(&self, id: &str) -> Result<Identity, KratosError> {
        let ans = self
            .expect(Method::GET, &paths::identity(id), None, true, &[200])
            .await?;
        Self::decode("GET", &ans)
    }

    /// Whether the identity has a usable password, learned from
    /// `include_credential=password` (reference §14: an OIDC-only identity has an empty
    /// password credential). The hash is never kept: the body is parsed in place into a
    /// verdict and zeroed.
    pub async fn password_state(&self, id: &str) -> Result<PasswordState, KratosError> {
        let mut ans = self
            .expect(
                Method::GET,
                &paths::identity_with_password(id),
                None,
                true,
                &[200],
            )
            .await?;
        let verdict = password_verdict(&ans.body).map_err(|detail| KratosError::BadBody {
            method: "GET".into(),
            url: ans.url.clone(),
            detail,
        });
        ans.body.zeroize();
        verdict
    }

    /// Every session of the identity (identity and devices expanded), `active` filtered when
    /// asked. Pages by offset at the largest page size, de-duplicates by id, and stops on an
    /// empty page or when every session counted by `X-Total-Count` was seen. Kratos's listing
    /// hands the first page out twice (reference §14), so the offsets past the last one are
    /// asked too; whatever is still missing makes the listing `complete: false`.
    pub async fn list_identity_sessions(
        &self,
        id: &str,
        active: Option<bool>,
    ) -> Result<SessionListing, KratosError> {
        let mut seen = BTreeSet::new();
        let mut sessions = Vec::new();
        let mut total = None;
        let mut token_style: Option<TokenStyle> = None;
        let mut pages = 0u32;
        let mut page = 0u64;
        loop {
            let token = if page == 0 {
                None
            } else {
                match token_style {
                    Some(style) => Some(style.encode(page * SESSION_PAGE_SIZE)),
                    None => break,
                }
            };
            let path = paths::identity_sessions(id, active, SESSION_PAGE_SIZE, token.as_deref());
            let ans = self.expect(Method::GET, &path, None, true, &[200]).await?;
            pages += 1;
            let batch: Vec<Session> = Self::decode("GET", &ans)?;
            if page == 0 {
                total = ans
                    .header("x-total-count")
                    .and_then(|v| v.trim().parse::<u64>().ok());
            }
            let empty = batch.is_empty();
            for s in batch {
                if seen.insert(s.id.clone()) {
                    sessions.push(s);
                }
            }
            page += 1;
            let Some(t) = total else { break };
            let last_page = t.div_ceil(SESSION_PAGE_SIZE);
            if empty || seen.len() as u64 >= t || page > last_page {
                break;
            }
            // A second page is needed: learn the token format from the first page's links
            // (only then, so that the common one-page listing does not parse them).
            if page == 1 {
                token_style = ans.header("link").and_then(TokenStyle::learn);
            }
        }
        let complete = match total {
            Some(t) => seen.len() as u64 >= t,
            None => sessions.len() < SESSION_PAGE_SIZE as usize,
        };
        Ok(SessionListing {
            sessions,
            total,
            complete,
            pages,
        })
    }

    /// `GET /admin/sessions/{sid}?expand=identity&expand=devices`.
    pub async fn get_session(&self, sid: &str) -> Result<Session, KratosError> {
        let ans = self
            .expect(Method::GET, &paths::session(sid), None, true, &[200])
            .await?;
        Self::decode("GET", &ans)
    }

    /// `DELETE /admin/identities/{id}/sessions`: hard-deletes every session and its devices.
    pub async fn delete_identity_sessions(&self, id: &str) -> Result<DeleteSessions, KratosError> {
        let _guard = self.identity_write_lock(id).await;
        let ans = self
            .expect(
                Method::DELETE,
                &paths::identity_sessions_delete(id),
                None,
                true,
                &[204, 404],
            )
            .await?;
        if ans.status == 404 {
            // A 404 here is "no rows deleted" only when it is Kratos's not-found body.
            let e =
                KratosError::from_answer(404, "DELETE", &ans.url, ans.content_type(), &ans.body);
            if matches!(e, KratosError::NotJson { .. }) {
                return Err(e);
            }
            return Ok(DeleteSessions::NothingToDelete);
        }
        Ok(DeleteSessions::Deleted)
    }

    /// `DELETE /admin/sessions/{sid}`: soft revoke, the row and its devices are kept.
    pub async fn disable_session(&self, sid: &str, identity: &str) -> Result<(), KratosError> {
        let _guard = self.identity_write_lock(identity).await;
        self.expect(
            Method::DELETE,
            &paths::session_delete(sid),
            None,
            true,
            &[204],
        )
        .await
        .map(|_| ())
    }

    /// `PATCH /admin/identities/{id}` with a JSON Patch.
    pub async fn patch_identity(&self, id: &str, ops: &Value) -> Result<Identity, KratosError> {
        let _guard = self.identity_write_lock(id).await;
        let ans = self
            .expect(Method::PATCH, &paths::identity(id), Some(ops), true, &[200])
            .await?;
        Self::decode("PATCH", &ans)
    }

    /// `PUT /admin/identities/{id}`. The body may carry a secret: it is zeroed after sending.
    pub async fn update_identity(&self, id: &str, body: Value) -> Result<Identity, KratosError> {
        let _guard = self.identity_write_lock(id).await;
        let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
        drop(body);
        let result = self
            .http
            .send(Request {
                method: Method::PUT,
                path: &paths::identity(id),
                body: Some(bytes.clone()),
                idempotent: true,
            })
            .await;
        bytes.zeroize();
        let ans = result?;
        if ans.status != 200 {
            return Err(KratosError::from_answer(
                ans.status,
                "PUT",
                &ans.url,
                ans.content_type(),
                &ans.body,
            ));
        }
        Self::decode("PUT", &ans)
    }

    /// `POST /admin/recovery/code`; never retried. 201 on success.
    pub async fn create_recovery_code(
        &self,
        id: &str,
        expires_in: Option<&str>,
    ) -> Result<RecoveryCode, KratosError> {
        let body = paths::recovery_body(id, expires_in);
        let mut ans = self
            .expect(
                Method::POST,
                paths::RECOVERY_CODE,
                Some(&body),
                false,
                &[200, 201],
            )
            .await?;
        let r = decode_secret_body("POST", &ans);
        ans.body.zeroize();
        r
    }

    /// `POST /admin/recovery/link`; never retried. 200 on success.
    pub async fn create_recovery_link(
        &self,
        id: &str,
        expires_in: Option<&str>,
    ) -> Result<RecoveryLink, KratosError> {
        let body = paths::recovery_body(id, expires_in);
        let mut ans = self
            .expect(
                Method::POST,
                paths::RECOVERY_LINK,
                Some(&body),
                false,
                &[200, 201],
            )
            .await?;
        let r = decode_secret_body("POST", &ans);
        ans.body.zeroize();
        r
    }
}

/// Decodes a body holding secrets; on failure the error names the problem, never the body.
fn decode_secret_body<T: DeserializeOwned>(method: &str, ans: &Answer) -> Result<T, KratosError> {
    serde_json::from_slice(&ans.body).map_err(|e| KratosError::BadBody {
        method: method.into(),
        url: ans.url.clone(),
        detail: format!(
            "{} at line {} column {}",
            match e.classify() {
                serde_json::error::Category::Data => "unexpected shape",
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof =>
                    "not valid JSON",
                serde_json::error::Category::Io => "read error",
            },
            e.line(),
            e.column()
        ),
    })
}

/// Reads `credentials.password.config` out of an identity body without copying the hash:
/// the strings are borrowed from the body and only their emptiness is looked at.
fn password_verdict(body: &[u8]) -> Result<PasswordState, String> {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(default, borrow)]
        credentials: Option<Creds<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Creds<'a> {
        #[serde(default, borrow)]
        password: Option<Pw<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Pw<'a> {
        #[serde(default, borrow)]
        config: Option<Config<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Config<'a> {
        #[serde(default, borrow)]
        hashed_password: Option<std::borrow::Cow<'a, str>>,
        #[serde(default)]
        use_password_migration_hook: Option<bool>,
    }
    let mut b: Body = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the identity body is not what Kratos sends (line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    let verdict = match b.credentials.as_ref().and_then(|c| c.password.as_ref()) {
        None => PasswordState::NoCredential,
        Some(pw) => match &pw.config {
            Some(c) if c.hashed_password.as_deref().is_some_and(|h| !h.is_empty()) => {
                PasswordState::Hash
            }
            Some(c) if c.use_password_migration_hook == Some(true) => PasswordState::MigrationHook,
            _ => PasswordState::NoHash,
        },
    };
    // An escaped string is copied by serde: zero that copy too.
    if let Some(Some(Config {
        hashed_password: Some(std::borrow::Cow::Owned(s)),
        ..
    })) = b
        .credentials
        .as_mut()
        .and_then(|c| c.password.as_mut())
        .map(|p| p.config.as_mut())
    {
        s.zeroize();
    }
    Ok(verdict)
}

/// How this server spells its offset page tokens (`base64url({"offset":"N","v":2})`), learned
/// from its own `Link: rel="next"` so that the offsets past the last advertised page can be
/// asked in the same form.
#[derive(Debug, Clone, Copy)]
enum TokenStyle {
    Padded,
    Unpadded,
}

impl TokenStyle {
    fn learn(link: &str) -> Option<TokenStyle> {
        let next = link
            .split(',')
            .find(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))?;
        let start = next.find('<')? + 1;
        let end = next.find('>')?;
        // Kratos sends these links as paths (`</admin/identities/…>`); resolve them against
        // any base to read the query.
        let base = reqwest::Url::parse("http://kratos.invalid/").ok()?;
        let url = base.join(next.get(start..end)?).ok()?;
        let token = url
            .query_pairs()
            .find(|(k, _)| k == "page_token")
            .map(|(_, v)| v.into_owned())?;
        let (style, raw) = if token.ends_with('=') {
            (
                TokenStyle::Padded,
                base64::engine::general_purpose::URL_SAFE
                    .decode(&token)
                    .ok()?,
            )
        } else {
            (
                TokenStyle::Unpadded,
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(&token)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&token))
                    .ok()?,
            )
        };
        let v: Value = serde_json::from_slice(&raw).ok()?;
        v.get("offset")?;
        Some(style)
    }

    fn encode(self, offset: u64) -> String {
        let json = format!(r#"{{"offset":"{offset}","v":2}}"#);
        match self {
            TokenStyle::Padded => base64::engine::general_purpose::URL_SAFE.encode(json),
            TokenStyle::Unpadded => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_verdicts() {
        let v = |b: &str| password_verdict(b.as_bytes()).unwrap();
        assert_eq!(v(r#"{"credentials":{}}"#), PasswordState::NoCredential);
        assert_eq!(
            v(r#"{"credentials":{"password":{"type":"password","identifiers":["a@b.c"]}}}"#),
            PasswordState::NoHash
        );
        assert_eq!(
            v(r#"{"credentials":{"password":{"config":{}}}}"#),
            PasswordState::NoHash
        );
        assert_eq!(
            v(r#"{"credentials":{"password":{"config":{"hashed_password":"$argon2id$x"}}}}"#),
            PasswordState::Hash
        );
        assert_eq!(
            v(r#"{"credentials":{"password":{"config":{"hashed_password":"a\/b"}}}}"#),
            PasswordState::Hash
        );
        assert_eq!(
            v(r#"{"credentials":{"password":{"config":{"use_password_migration_hook":true}}}}"#),
            PasswordState::MigrationHook
        );
    }

    #[test]
    fn token_style_is_learned_from_a_relative_link_without_padding() {
        let tok =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":"1000","v":2}"#);
        let link = format!(
            r#"</admin/identities/x/sessions?page_size=1000&page_token={tok}>; rel="next",</admin/identities/x/sessions?page_size=1000&page_token={tok}>; rel="last""#
        );
        let t = TokenStyle::learn(&link).unwrap().encode(2000);
        assert!(!t.ends_with('='));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .unwrap();
        assert_eq!(raw, br#"{"offset":"2000","v":2}"#);
    }

    #[test]
    fn token_style_is_learned_from_the_servers_next_link() {
        let tok = base64::engine::general_purpose::URL_SAFE.encode(r#"{"offset":"1000","v":2}"#);
        let link = format!(
            r#"<http://k/admin/identities/x/sessions?page_size=1000&page_token={tok}>; rel="next""#
        );
        let style = TokenStyle::learn(&link).unwrap();
        let t = style.encode(2000);
        let raw = base64::engine::general_purpose::URL_SAFE.decode(t).unwrap();
        assert_eq!(raw, br#"{"offset":"2000","v":2}"#);
    }
}
