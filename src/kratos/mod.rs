//! The Kratos admin API client: one method per endpoint atoctl uses, and the paths they send.
//!
//! Everything atoctl knows about how Kratos really behaves (reference
//! `ory-admin-contract.md`) lives here:
//! - malformed UUIDs give 404 on identity routes but 400 on session routes (§0); ids are typed
//!   ([`IdentityId`], [`SessionId`]) before they get here, so neither happens;
//! - listing sessions of an unknown identity gives 200 `[]` (§3);
//! - `DELETE …/sessions` gives 404 when there is nothing to delete and hard-deletes every row,
//!   devices included (§4);
//! - an empty session listing still advertises `rel=next`, and following `next` returns the
//!   first page twice (§3, §14): [`Client::list_identity_sessions`] pages by offset at the
//!   OpenAPI document's largest page (500), de-duplicates, and reports an incomplete listing
//!   instead of guessing;
//! - `include_credential=password` returns the hash: [`Client::password_state`] keeps only
//!   whether there is one, and zeroes the body at once (§2, §14);
//! - the recovery endpoints send no e-mail, differ in status for an unknown identity (404 vs
//!   400), and are never retried (§9);
//! - writes to one identity go one after another (Ory Network's inflight limiter, §1), and each
//!   request names its rate-limit bucket so that the transport paces by the server's answers;
//! - an answer about another identity or session than the one asked for is not trusted.

pub mod models;
pub mod paths;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroize;

pub use models::{
    Credential, Device, Identity, PasswordState, RecoveryCode, RecoveryLink, Session,
};

use crate::api::ApiError;
use crate::http::{Answer, BodyLimit, Request, Transport};
use crate::ids::{IdentityId, SessionId};

/// The largest page the OpenAPI document allows for session listings (§3: the server would
/// take 1000, a spec-enforcing gateway would not).
pub const SESSION_PAGE_SIZE: u64 = 500;

/// At most this many pages of one identity's sessions (20,000 sessions): a server that claims
/// more, or hands out new ids on every page, does not keep a step paging without end.
pub const MAX_SESSION_PAGES: u32 = 40;

/// A listing stops after this many times `--timeout` in all (30 s with `--timeout 2`).
pub const LISTING_DEADLINE_TIMEOUTS: u32 = 15;

/// The deadline of one listing (Kratos's sessions, Hydra's consents):
/// [`LISTING_DEADLINE_TIMEOUTS`] × `--timeout` from its start, the page in flight included.
pub struct ListingDeadline {
    started: std::time::Instant,
    limit: std::time::Duration,
}

impl ListingDeadline {
    pub fn start(timeout: std::time::Duration) -> ListingDeadline {
        ListingDeadline {
            started: std::time::Instant::now(),
            limit: timeout.saturating_mul(LISTING_DEADLINE_TIMEOUTS),
        }
    }

    pub fn passed(&self) -> bool {
        self.started.elapsed() >= self.limit
    }

    /// `page`'s answer, or `None` when the deadline comes first (the request is dropped).
    pub async fn bound<T>(&self, page: impl std::future::Future<Output = T>) -> Option<T> {
        let left = self.limit.saturating_sub(self.started.elapsed());
        tokio::time::timeout(left, page).await.ok()
    }

    /// How messages name it: `the listing's deadline (30 s, 15× --timeout)`.
    pub fn named(&self) -> String {
        format!(
            "the listing's deadline ({} s, {LISTING_DEADLINE_TIMEOUTS}× --timeout)",
            self.limit.as_secs()
        )
    }
}

/// Rate-limit buckets (the OpenAPI document's `x-ory-ratelimit-bucket`, reference §0).
mod bucket {
    pub const HIGH: &str = "kratos-admin-high";
    pub const MEDIUM: &str = "kratos-admin-medium";
    pub const LOW: &str = "kratos-admin-low";
}

#[derive(Clone)]
pub struct Client {
    http: Transport,
    /// One async lock per identity: writes to an identity are sent one after another.
    write_locks: Arc<Mutex<HashMap<IdentityId, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Every session of an identity, and whether that is provably all of them.
#[derive(Debug, Clone)]
pub struct SessionListing {
    pub sessions: Vec<Session>,
    /// `X-Total-Count` of the first page, when sent.
    pub total: Option<u64>,
    /// Fewer distinct sessions than `X-Total-Count`: never report "all sessions ended" on it.
    pub complete: bool,
    /// Why the listing stopped before Kratos's count was reached, when atoctl stopped it (a
    /// page cap, pages that add nothing, the deadline): the server's count is not believed.
    pub cut_short: Option<String>,
    /// Requests it took.
    pub pages: u32,
}

impl SessionListing {
    pub fn ids(&self) -> Vec<String> {
        self.sessions.iter().map(|s| s.id.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The label of the identity the sessions belong to (sessions expand their identity).
    pub fn identity_label(&self) -> Option<String> {
        self.sessions.iter().find_map(|s| {
            let traits = s.identity.as_ref()?.traits.clone()?;
            Identity {
                traits: Some(traits),
                ..Identity::default()
            }
            .label()
        })
    }
}

/// One WebAuthn key as an incident needs it (its public key is not kept).
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct WebauthnKey {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub added_at: Option<String>,
    pub passwordless: bool,
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

    async fn identity_write_lock(&self, id: IdentityId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = crate::lock(&self.write_locks);
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(id).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Sends and demands a success status; any other becomes an [`ApiError`].
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        spec: Spec,
        ok: &[u16],
    ) -> Result<Answer, ApiError> {
        let ans = self
            .http
            .send(Request {
                method,
                path,
                body,
                idempotent: spec.idempotent,
                bucket: spec.bucket,
                limit: spec.limit,
            })
            .await?;
        if ok.contains(&ans.status) {
            Ok(ans)
        } else {
            Err(ApiError::from_answer(&ans))
        }
    }

    fn decode<T: DeserializeOwned>(ans: &Answer) -> Result<T, ApiError> {
        if !ans.is_json() && serde_json::from_slice::<Value>(&ans.body).is_err() {
            return Err(ApiError::NotJson {
                status: ans.status,
                method: ans.method.clone(),
                url: ans.url.clone(),
                content_type: ans.content_type().unwrap_or("no content type").into(),
            });
        }
        serde_json::from_slice(&ans.body).map_err(|e| ApiError::bad_body(ans, e.to_string()))
    }

    /// An answer must be about the `kind` (identity, session) asked for: `got` is the id it
    /// names, `want` the one asked for.
    fn about(
        ans: &Answer,
        kind: &str,
        want: &dyn std::fmt::Display,
        got: Option<&str>,
    ) -> Result<(), ApiError> {
        match got {
            Some(g) if same_uuid(g, &want.to_string()) => Ok(()),
            other => Err(ApiError::mismatch(
                ans,
                format!(
                    "{kind} {} instead of {want}",
                    other
                        .map(crate::output::clean)
                        .unwrap_or_else(|| "(no id)".into())
                ),
            )),
        }
    }

    /// `GET /admin/identities/{id}` without any credential config.
    pub async fn get_identity(&self, id: IdentityId) -> Result<Identity, ApiError> {
        self.identity_at(&paths::identity(id), id).await
    }

    /// `GET` of the identity at `path` (with or without `include_credential`), which must be
    /// about `id`.
    async fn identity_at(&self, path: &str, id: IdentityId) -> Result<Identity, ApiError> {
        let ans = self
            .expect(Method::GET, path, None, Spec::read(bucket::HIGH), &[200])
            .await?;
        let identity: Identity = Self::decode(&ans)?;
        Self::about(&ans, "identity", &id, identity.id.as_deref())?;
        Ok(identity)
    }

    /// `GET /admin/identities?credentials_identifier=…`: the identities whose login identifier
    /// is exactly this one (none or one; Kratos normalises e-mail addresses to lower case).
    pub async fn find_by_identifier(&self, identifier: &str) -> Result<Vec<Identity>, ApiError> {
        let ans = self
            .expect(
                Method::GET,
                &paths::identities_by_identifier(identifier),
                None,
                Spec::read(bucket::MEDIUM),
                &[200],
            )
            .await?;
        let found: Vec<Identity> = Self::decode(&ans)?;
        // Where the answer shows identifiers, the one asked for must be among them.
        let wanted = identifier.to_lowercase();
        for i in &found {
            let shown: Vec<String> = i
                .credentials
                .iter()
                .flatten()
                .flat_map(|m| m.values())
                .flat_map(Credential::identifiers)
                .map(|s| s.to_lowercase())
                .collect();
            if !shown.is_empty() && !shown.contains(&wanted) {
                return Err(ApiError::mismatch(
                    &ans,
                    format!(
                        "identity {} whose identifiers do not include the one asked for",
                        i.id.as_deref()
                            .map(crate::output::clean)
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(found)
    }

    /// Whether the identity has a usable password, learned from
    /// `include_credential=password` (reference §14: an OIDC-only identity has an empty
    /// password credential). The hash is never kept: the body is parsed in place into a
    /// verdict and zeroed.
    pub async fn password_state(&self, id: IdentityId) -> Result<PasswordState, ApiError> {
        let mut ans = self
            .expect(
                Method::GET,
                &paths::identity_with_password(id),
                None,
                Spec::read(bucket::HIGH),
                &[200],
            )
            .await?;
        let verdict = match password_verdict(&ans.body) {
            Ok((about, v)) => Self::about(&ans, "identity", &id, about.as_deref()).map(|_| v),
            Err(detail) => Err(ApiError::bad_body(&ans, detail)),
        };
        ans.body.zeroize();
        verdict
    }

    /// Every session of the identity (identity and devices expanded), `active` filtered when
    /// asked. Pages by offset at the largest page size, de-duplicates by id, and stops on an
    /// empty page or when every session counted by `X-Total-Count` was seen. Kratos's listing
    /// hands the first page out twice (reference §14), so the offsets past the last one are
    /// asked too; whatever is still missing makes the listing `complete: false`. A session
    /// that expands another identity is not trusted.
    pub async fn list_identity_sessions(
        &self,
        id: IdentityId,
        active: Option<bool>,
    ) -> Result<SessionListing, ApiError> {
        let mut seen = BTreeSet::new();
        let mut sessions = Vec::new();
        let mut total = None;
        let mut token_style: Option<TokenStyle> = None;
        let mut pages = 0u32;
        let mut page = 0u64;
        let want = id.to_string();
        let deadline = ListingDeadline::start(self.http.timeout());
        let mut cut_short = None;
        // Pages in a row that added no session (the first page comes twice: reference §14).
        let mut idle = 0u32;
        loop {
            if page > 0 {
                if pages >= MAX_SESSION_PAGES {
                    cut_short = Some(format!(
                        "atoctl stopped after {MAX_SESSION_PAGES} pages ({} sessions)",
                        seen.len()
                    ));
                    break;
                }
                if deadline.passed() {
                    cut_short = Some(format!(
                        "atoctl stopped at {} after {pages} pages",
                        deadline.named()
                    ));
                    break;
                }
            }
            let token = if page == 0 {
                None
            } else {
                match token_style {
                    Some(style) => Some(style.encode(page * SESSION_PAGE_SIZE)),
                    None => break,
                }
            };
            let path = paths::identity_sessions(id, active, SESSION_PAGE_SIZE, token.as_deref());
            // The page in flight (its retries, a rate-limit hold) ends at the deadline too:
            // the listing then holds what came before it, or is an error if nothing came.
            let fetch = self.expect(Method::GET, &path, None, Spec::page(bucket::MEDIUM), &[200]);
            let ans = match deadline.bound(fetch).await {
                Some(ans) => ans?,
                None => {
                    let why = format!(
                        "atoctl stopped at {} during page {}",
                        deadline.named(),
                        pages + 1
                    );
                    if page == 0 {
                        return Err(ApiError::unending("GET", &self.http.url(&path), why));
                    }
                    cut_short = Some(why);
                    break;
                }
            };
            pages += 1;
            let batch: Vec<Session> = Self::decode(&ans)?;
            if let Some(other) = batch
                .iter()
                .filter_map(Session::identity_id)
                .find(|i| !same_uuid(i, &want))
            {
                return Err(ApiError::mismatch(
                    &ans,
                    format!(
                        "a session of identity {} in the listing of {id}",
                        crate::output::clean(other)
                    ),
                ));
            }
            if page == 0 {
                total = ans
                    .header("x-total-count")
                    .and_then(|v| v.trim().parse::<u64>().ok());
            }
            let empty = batch.is_empty();
            let before = seen.len();
            for s in batch {
                if seen.insert(s.id.clone()) {
                    sessions.push(s);
                }
            }
            idle = if seen.len() == before { idle + 1 } else { 0 };
            page += 1;
            if idle >= 2 && !empty {
                cut_short = Some(format!(
                    "two pages in a row added no new session (after {} sessions): the server repeats itself",
                    seen.len()
                ));
                break;
            }
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
        let complete = cut_short.is_none()
            && match total {
                Some(t) => seen.len() as u64 >= t,
                None => sessions.len() < SESSION_PAGE_SIZE as usize,
            };
        Ok(SessionListing {
            sessions,
            total,
            complete,
            pages,
            cut_short,
        })
    }

    /// `GET /admin/sessions/{sid}?expand=identity&expand=devices`.
    pub async fn get_session(&self, sid: SessionId) -> Result<Session, ApiError> {
        let ans = self
            .expect(
                Method::GET,
                &paths::session(sid),
                None,
                Spec::read(bucket::HIGH),
                &[200],
            )
            .await?;
        let session: Session = Self::decode(&ans)?;
        Self::about(&ans, "session", &sid, Some(&session.id))?;
        Ok(session)
    }

    /// `DELETE /admin/identities/{id}/sessions`: hard-deletes every session and its devices.
    pub async fn delete_identity_sessions(
        &self,
        id: IdentityId,
    ) -> Result<DeleteSessions, ApiError> {
        let _guard = self.identity_write_lock(id).await;
        let ans = self
            .expect(
                Method::DELETE,
                &paths::identity_sessions_delete(id),
                None,
                Spec::write(bucket::LOW),
                &[204, 404],
            )
            .await?;
        if ans.status == 404 {
            // "No rows deleted" only when it is Kratos's own not-found answer; a proxy's or a
            // wrong base path's 404 is an error.
            let e = ApiError::from_answer(&ans);
            if !e.is_kratos_not_found() {
                return Err(e);
            }
            return Ok(DeleteSessions::NothingToDelete);
        }
        Ok(DeleteSessions::Deleted)
    }

    /// `DELETE /admin/sessions/{sid}`: soft revoke, the row and its devices are kept.
    pub async fn disable_session(
        &self,
        sid: SessionId,
        identity: IdentityId,
    ) -> Result<(), ApiError> {
        let _guard = self.identity_write_lock(identity).await;
        self.expect(
            Method::DELETE,
            &paths::session_delete(sid),
            None,
            Spec::write(bucket::LOW),
            &[204],
        )
        .await
        .map(|_| ())
    }

    /// `DELETE /admin/identities/{id}/credentials/{type}[?identifier=]`: 204.
    pub async fn delete_credential(
        &self,
        id: IdentityId,
        kind: &str,
        identifier: Option<&str>,
    ) -> Result<(), ApiError> {
        let _guard = self.identity_write_lock(id).await;
        self.expect(
            Method::DELETE,
            &paths::credential_delete(id, kind, identifier),
            None,
            Spec::write(bucket::LOW),
            &[204],
        )
        .await
        .map(|_| ())
    }

    /// The identity's WebAuthn keys (`include_credential=webauthn`): id, name, when added and
    /// whether passwordless. Only those fields are kept.
    pub async fn webauthn_keys(&self, id: IdentityId) -> Result<Vec<WebauthnKey>, ApiError> {
        let identity = self
            .identity_at(&paths::identity_with_webauthn(id), id)
            .await?;
        let keys = identity
            .credential("webauthn")
            .and_then(|c| c.config.as_ref())
            .and_then(|c| c.get("credentials"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|k| {
                        let s = |f: &str| k.get(f).and_then(Value::as_str).map(str::to_string);
                        WebauthnKey {
                            id: s("id"),
                            display_name: s("display_name"),
                            added_at: s("added_at"),
                            passwordless: k.get("is_passwordless").and_then(Value::as_bool)
                                == Some(true),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(keys)
    }

    /// `PATCH /admin/identities/{id}` with a JSON Patch.
    pub async fn patch_identity(&self, id: IdentityId, ops: &Value) -> Result<Identity, ApiError> {
        let _guard = self.identity_write_lock(id).await;
        let ans = self
            .expect(
                Method::PATCH,
                &paths::identity(id),
                Some(to_bytes(ops)),
                Spec::write(bucket::LOW),
                &[200],
            )
            .await?;
        let identity: Identity = Self::decode(&ans)?;
        Self::about(&ans, "identity", &id, identity.id.as_deref())?;
        Ok(identity)
    }

    /// `PUT /admin/identities/{id}`. The body may carry a secret: it is zeroed after sending.
    pub async fn update_identity(
        &self,
        id: IdentityId,
        mut body: Vec<u8>,
    ) -> Result<Identity, ApiError> {
        let _guard = self.identity_write_lock(id).await;
        let result = self
            .expect(
                Method::PUT,
                &paths::identity(id),
                Some(body.clone()),
                Spec::write(bucket::LOW),
                &[200],
            )
            .await;
        body.zeroize();
        let ans = result?;
        let identity: Identity = Self::decode(&ans)?;
        Self::about(&ans, "identity", &id, identity.id.as_deref())?;
        Ok(identity)
    }

    /// `POST /admin/recovery/code`; never retried. 201 on success.
    pub async fn create_recovery_code(
        &self,
        id: IdentityId,
        expires_in: Option<&str>,
    ) -> Result<RecoveryCode, ApiError> {
        let body = paths::recovery_body(id, expires_in);
        let mut ans = self
            .expect(
                Method::POST,
                paths::RECOVERY_CODE,
                Some(to_bytes(&body)),
                Spec::once(bucket::LOW),
                &[200, 201],
            )
            .await?;
        let r = decode_secret_body(&ans);
        ans.body.zeroize();
        r
    }

    /// `POST /admin/recovery/link`; never retried. 200 on success.
    pub async fn create_recovery_link(
        &self,
        id: IdentityId,
        expires_in: Option<&str>,
    ) -> Result<RecoveryLink, ApiError> {
        let body = paths::recovery_body(id, expires_in);
        let mut ans = self
            .expect(
                Method::POST,
                paths::RECOVERY_LINK,
                Some(to_bytes(&body)),
                Spec::once(bucket::LOW),
                &[200, 201],
            )
            .await?;
        let r = decode_secret_body(&ans);
        ans.body.zeroize();
        r
    }
}

/// How a request is sent: retried or not, its rate-limit bucket, how large its answer may be.
#[derive(Clone, Copy)]
struct Spec {
    idempotent: bool,
    bucket: &'static str,
    limit: BodyLimit,
}

impl Spec {
    fn read(bucket: &'static str) -> Spec {
        Spec {
            idempotent: true,
            bucket,
            limit: BodyLimit::Object,
        }
    }

    fn page(bucket: &'static str) -> Spec {
        Spec {
            limit: BodyLimit::Page,
            ..Spec::read(bucket)
        }
    }

    /// A write that may be sent again: the same request twice has the same effect.
    fn write(bucket: &'static str) -> Spec {
        Spec::read(bucket)
    }

    /// Never sent twice: a second attempt could create a second valid secret.
    fn once(bucket: &'static str) -> Spec {
        Spec {
            idempotent: false,
            ..Spec::read(bucket)
        }
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Two UUIDs in any case.
fn same_uuid(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Decodes a body holding secrets; on failure the error names the problem, never the body.
fn decode_secret_body<T: DeserializeOwned>(ans: &Answer) -> Result<T, ApiError> {
    serde_json::from_slice(&ans.body).map_err(|e| {
        ApiError::bad_body(
            ans,
            format!(
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
        )
    })
}

/// Reads `credentials.password.config` out of an identity body without copying the hash:
/// the strings are borrowed from the body and only their emptiness is looked at.
/// Returns the identity id the body is about as well.
fn password_verdict(body: &[u8]) -> Result<(Option<String>, PasswordState), String> {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(default)]
        id: Option<String>,
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
    Ok((b.id.take(), verdict))
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
        let v = |b: &str| password_verdict(b.as_bytes()).unwrap().1;
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
            r#"</admin/identities/x/sessions?page_size=500&page_token={tok}>; rel="next",</admin/identities/x/sessions?page_size=500&page_token={tok}>; rel="last""#
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
            r#"<http://k/admin/identities/x/sessions?page_size=500&page_token={tok}>; rel="next""#
        );
        let style = TokenStyle::learn(&link).unwrap();
        let t = style.encode(2000);
        let raw = base64::engine::general_purpose::URL_SAFE.decode(t).unwrap();
        assert_eq!(raw, br#"{"offset":"2000","v":2}"#);
    }
}
