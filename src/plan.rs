//! A changing step's plan as data: the calls it will send, each with its purpose, and the reads
//! that will verify the effect. The plan is built once, from what the step's look read; then
//! `--dry-run` prints it and a real run sends exactly it, in order, and nothing else (as xh
//! builds a request once, then prints or sends it). Printing and sending take their method,
//! path and body from the same place (`Call::line`, the clients' `paths`).

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroize;

use crate::api::ApiError;
use crate::error::{AppError, Result as AppResult};
use crate::hydra::{self, Consent};
use crate::ids::{IdentityId, SessionId};
use crate::kratos::{
    self, DeleteSessions, Identity, PasswordState, RecoveryCode, RecoveryLink, SessionListing,
    paths,
};

/// Which admin API a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Kratos,
    Hydra,
}

/// Where in a step's life a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Read to build the plan (a dry run sends these too: reads only).
    Look,
    /// The change itself.
    Act,
    /// Read again to prove the effect.
    Verify,
}

/// One request as people and the journal see it: method, where, and the body with every
/// secret redacted.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Line {
    pub service: Service,
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// What a call changes.
pub enum Op {
    /// `DELETE /admin/identities/{id}/sessions`: hard-deletes every session row and its
    /// devices.
    DeleteIdentitySessions(IdentityId),
    /// `GET /admin/identities/{id}/sessions` right before a hard delete: fails (and so keeps the
    /// delete from being sent) if a session row exists that is not in `recorded` (it appeared
    /// after the look) or the listing is incomplete.
    EnsureRecorded {
        identity: IdentityId,
        recorded: Vec<String>,
    },
    /// `DELETE /admin/sessions/{sid}`: soft revoke, the row is kept.
    DisableSession {
        session: SessionId,
        identity: IdentityId,
    },
    /// `PATCH /admin/identities/{id}` replacing `/state`.
    PatchState {
        identity: IdentityId,
        state: &'static str,
    },
    /// `GET /admin/identities/{id}` right before a read-modify-write: stop unless the
    /// identity is still as the look saw it.
    Guard {
        identity: IdentityId,
        seen: Fingerprint,
    },
    /// `PUT /admin/identities/{id}`, the body carrying a secret.
    PutIdentity {
        identity: IdentityId,
        body: SecretBody,
    },
    /// `POST /admin/recovery/code` (never retried).
    RecoveryCode {
        identity: IdentityId,
        expires_in: Option<String>,
    },
    /// `POST /admin/recovery/link` (never retried).
    RecoveryLink {
        identity: IdentityId,
        expires_in: Option<String>,
    },
    /// Hydra: revoke every consent of the subject, and with them their tokens.
    RevokeAllConsents { subject: IdentityId },
    /// Hydra: log one login session out, with back-channel logout.
    LogoutLoginSession { sid: String },
    /// Hydra: forget the subject's remembered logins.
    ForgetLogins { subject: IdentityId },
    /// `PATCH /admin/identities/{id}` with these JSON Patch operations on traits.
    PatchTraits { identity: IdentityId, ops: Value },
    /// `DELETE /admin/identities/{id}/credentials/{kind}[?identifier=]`.
    DeleteCredential {
        identity: IdentityId,
        kind: String,
        identifier: Option<String>,
    },
    /// Hydra: revoke the subject's consents to one client (and their tokens).
    RevokeClientConsents { subject: IdentityId, client: String },
    /// Hydra: revoke one consent by its request id (and its tokens).
    RevokeConsent { consent_request_id: String },
    /// Read the identity and, in the same breath, `PUT` it back as read with a random
    /// password: for a step whose earlier calls change the identity (its traits), so the body
    /// cannot be built at plan time. `shown` is the body as planned, the secret redacted.
    ReplacePassword { identity: IdentityId, shown: Value },
}

/// What the identity looked like, for [`Op::Guard`]: Kratos rewrites `updated_at` on every
/// change and `state_changed_at` on every state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub state: Option<String>,
    pub state_changed_at: Option<String>,
    pub updated_at: Option<String>,
}

impl Fingerprint {
    pub fn of(i: &Identity) -> Fingerprint {
        let s = |k: &str| i.extra.get(k).and_then(Value::as_str).map(str::to_string);
        Fingerprint {
            state: i.state.clone(),
            state_changed_at: s("state_changed_at"),
            updated_at: s("updated_at"),
        }
    }
}

/// A JSON body with one secret string in it: shown with the secret redacted, sent with it,
/// and the bytes zeroed after sending.
pub struct SecretBody {
    /// The body with the secret's place holding the redaction text.
    shown: Value,
    /// Where the secret goes (a JSON pointer into `shown`).
    pointer: &'static str,
    secret: SecretString,
}

impl SecretBody {
    pub fn new(shown: Value, pointer: &'static str, secret: SecretString) -> SecretBody {
        SecretBody {
            shown,
            pointer,
            secret,
        }
    }

    /// The bytes to send; the caller zeroes them.
    fn bytes(&self) -> Vec<u8> {
        let mut v = self.shown.clone();
        if let Some(slot) = v.pointer_mut(self.pointer) {
            *slot = Value::String(self.secret.expose_secret().to_string());
        }
        let bytes = serde_json::to_vec(&v).unwrap_or_default();
        if let Some(Value::String(s)) = v.pointer_mut(self.pointer) {
            s.zeroize();
        }
        bytes
    }
}

/// Where the new password goes in the PUT body.
pub const PASSWORD_POINTER: &str = "/credentials/password/config/password";

/// What the dry run shows instead of the secret.
pub const REDACTED: &str = "[redacted: 43 random characters, 256 bits from the OS CSPRNG]";

/// The PUT body: what was read, sent back unchanged (the spec requires `schema_id`, `traits`
/// and `state`; `external_id` only when it is a string, as omitting it is what a null means),
/// with the password's place holding the redaction text until it is sent.
pub fn put_body(current: &Identity) -> Value {
    let mut body = Map::new();
    if let Some(s) = &current.schema_id {
        body.insert("schema_id".into(), json!(s));
    }
    if let Some(s) = &current.state {
        body.insert("state".into(), json!(s));
    }
    // Replaced wholesale by PUT: omitting one wipes it, so send each exactly as read.
    body.insert(
        "traits".into(),
        current.traits.clone().unwrap_or(Value::Null),
    );
    body.insert(
        "metadata_public".into(),
        current.metadata_public.clone().unwrap_or(Value::Null),
    );
    body.insert(
        "metadata_admin".into(),
        current.metadata_admin.clone().unwrap_or(Value::Null),
    );
    if let Some(x @ Value::String(_)) = &current.external_id {
        body.insert("external_id".into(), x.clone());
    }
    body.insert(
        "credentials".into(),
        json!({"password": {"config": {"password": REDACTED}}}),
    );
    Value::Object(body)
}

/// 32 bytes from the OS CSPRNG, base64url: 43 characters nobody ever sees.
pub fn random_secret() -> AppResult<SecretString> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).map_err(|e| {
        AppError::failed(format!("the operating system's random source failed: {e}"))
    })?;
    use base64::Engine;
    Ok(SecretString::from(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()),
    ))
}

/// What to do when a call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Go on with the rest: containment is never left half-done for one failed call.
    Continue,
    /// The calls after it depend on it: they are not sent.
    Stop,
}

/// One call of the act, with why it is made.
pub struct Call {
    pub op: Op,
    pub purpose: String,
    pub on_failure: OnFailure,
}

impl Call {
    pub fn new(op: Op, purpose: impl Into<String>) -> Call {
        Call {
            op,
            purpose: purpose.into(),
            on_failure: OnFailure::Continue,
        }
    }

    /// The calls after this one are not sent if it fails.
    pub fn required(mut self) -> Call {
        self.on_failure = OnFailure::Stop;
        self
    }

    pub fn line(&self) -> Line {
        let k = |method, path: String, body: Option<Value>| Line {
            service: Service::Kratos,
            method,
            path,
            body,
        };
        let h = |method, path: String| Line {
            service: Service::Hydra,
            method,
            path,
            body: None,
        };
        match &self.op {
            Op::DeleteIdentitySessions(id) => {
                k("DELETE", paths::identity_sessions_delete(*id), None)
            }
            Op::DisableSession { session, .. } => {
                k("DELETE", paths::session_delete(*session), None)
            }
            Op::PatchState { identity, state } => k(
                "PATCH",
                paths::identity(*identity),
                Some(paths::patch_state(state)),
            ),
            Op::Guard { identity, .. } => k("GET", paths::identity(*identity), None),
            Op::EnsureRecorded { identity, .. } => k(
                "GET",
                paths::identity_sessions(*identity, None, kratos::SESSION_PAGE_SIZE, None),
                None,
            ),
            Op::PutIdentity { identity, body } => {
                k("PUT", paths::identity(*identity), Some(body.shown.clone()))
            }
            Op::RecoveryCode {
                identity,
                expires_in,
            } => k(
                "POST",
                paths::RECOVERY_CODE.to_string(),
                Some(paths::recovery_body(*identity, expires_in.as_deref())),
            ),
            Op::RecoveryLink {
                identity,
                expires_in,
            } => k(
                "POST",
                paths::RECOVERY_LINK.to_string(),
                Some(paths::recovery_body(*identity, expires_in.as_deref())),
            ),
            Op::RevokeAllConsents { subject } => h(
                "DELETE",
                hydra::consent_revoke_all_path(&subject.to_string()),
            ),
            Op::LogoutLoginSession { sid } => h("DELETE", hydra::login_logout_path(sid)),
            Op::ForgetLogins { subject } => {
                h("DELETE", hydra::login_forget_path(&subject.to_string()))
            }
            Op::PatchTraits { identity, ops } => {
                k("PATCH", paths::identity(*identity), Some(ops.clone()))
            }
            Op::DeleteCredential {
                identity,
                kind,
                identifier,
            } => k(
                "DELETE",
                paths::credential_delete(*identity, kind, identifier.as_deref()),
                None,
            ),
            Op::RevokeClientConsents { subject, client } => h(
                "DELETE",
                hydra::consent_revoke_client_path(&subject.to_string(), client),
            ),
            Op::RevokeConsent { consent_request_id } => {
                h("DELETE", hydra::consent_revoke_one_path(consent_request_id))
            }
            Op::ReplacePassword { identity, shown } => {
                k("PUT", paths::identity(*identity), Some(shown.clone()))
            }
        }
    }

    /// Sends the call through the clients, which build the same request as [`Call::line`].
    pub async fn perform(&self, apis: &Apis) -> Result<Performed, CallError> {
        let k = &apis.kratos;
        let hydra = || apis.hydra.as_ref().ok_or(NoHydra);
        Ok(match &self.op {
            Op::DeleteIdentitySessions(id) => {
                Performed::Deleted(k.delete_identity_sessions(*id).await?)
            }
            Op::DisableSession { session, identity } => {
                k.disable_session(*session, *identity).await?;
                Performed::Done
            }
            Op::PatchState { identity, state } => Performed::Identity(
                k.patch_identity(*identity, &paths::patch_state(state))
                    .await?,
            ),
            Op::Guard { identity, seen } => {
                let now = k.get_identity(*identity).await?;
                let fp = Fingerprint::of(&now);
                if &fp != seen {
                    return Err(CallError::Changed(describe_change(seen, &fp)));
                }
                Performed::Identity(now)
            }
            Op::PutIdentity { identity, body } => {
                Performed::Identity(k.update_identity(*identity, body.bytes()).await?)
            }
            Op::EnsureRecorded { identity, recorded } => {
                let now = k.list_identity_sessions(*identity, None).await?;
                let new: Vec<String> = now
                    .ids()
                    .into_iter()
                    .filter(|s| !recorded.iter().any(|r| r.eq_ignore_ascii_case(s)))
                    .collect();
                if !new.is_empty() {
                    return Err(CallError::Unrecorded(new));
                }
                if !now.complete {
                    return Err(CallError::Unrecorded(vec![
                        "(the listing is incomplete)".into(),
                    ]));
                }
                Performed::Done
            }
            Op::RecoveryCode {
                identity,
                expires_in,
            } => Performed::RecoveryCode(
                k.create_recovery_code(*identity, expires_in.as_deref())
                    .await?,
            ),
            Op::RecoveryLink {
                identity,
                expires_in,
            } => Performed::RecoveryLink(
                k.create_recovery_link(*identity, expires_in.as_deref())
                    .await?,
            ),
            Op::RevokeAllConsents { subject } => {
                hydra()?.revoke_all_consents(&subject.to_string()).await?;
                Performed::Done
            }
            Op::LogoutLoginSession { sid } => {
                hydra()?.logout_login_session(sid).await?;
                Performed::Done
            }
            Op::ForgetLogins { subject } => {
                hydra()?.forget_logins(&subject.to_string()).await?;
                Performed::Done
            }
            Op::PatchTraits { identity, ops } => {
                Performed::Identity(k.patch_identity(*identity, ops).await?)
            }
            Op::DeleteCredential {
                identity,
                kind,
                identifier,
            } => {
                k.delete_credential(*identity, kind, identifier.as_deref())
                    .await?;
                Performed::Done
            }
            Op::RevokeClientConsents { subject, client } => {
                hydra()?
                    .revoke_client_consents(&subject.to_string(), client)
                    .await?;
                Performed::Done
            }
            Op::RevokeConsent { consent_request_id } => {
                hydra()?.revoke_consent(consent_request_id).await?;
                Performed::Done
            }
            Op::ReplacePassword { identity, .. } => {
                let now = k.get_identity(*identity).await?;
                let secret = random_secret().map_err(|e| CallError::Local(e.line_plain()))?;
                let body = SecretBody::new(put_body(&now), PASSWORD_POINTER, secret);
                Performed::Identity(k.update_identity(*identity, body.bytes()).await?)
            }
        })
    }
}

fn describe_change(seen: &Fingerprint, now: &Fingerprint) -> String {
    if seen.state != now.state {
        format!(
            "its state is now {} (was {})",
            now.state.as_deref().unwrap_or("unknown"),
            seen.state.as_deref().unwrap_or("unknown")
        )
    } else {
        format!(
            "it was updated at {}",
            now.updated_at.as_deref().unwrap_or("an unknown time")
        )
    }
}

/// What a call brought back.
pub enum Performed {
    Done,
    Deleted(DeleteSessions),
    Identity(Identity),
    RecoveryCode(RecoveryCode),
    RecoveryLink(RecoveryLink),
}

/// Hydra is needed but not configured.
#[derive(Debug)]
struct NoHydra;

impl From<NoHydra> for CallError {
    fn from(_: NoHydra) -> Self {
        CallError::NoHydra
    }
}

impl CallError {
    /// The answer was about another identity or session than the one asked for.
    pub fn is_untrusted(&self) -> bool {
        matches!(self, CallError::Api(ApiError::Mismatch { .. }))
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A guard found the identity changed since the look.
    #[error("the identity changed since atoctl looked at it: {0}")]
    Changed(String),
    /// Session rows appeared after the look: a hard delete would destroy them unrecorded.
    #[error("{} appeared after atoctl recorded the sessions ({}): not deleted unrecorded", if .0.len() == 1 { "a session".to_string() } else { format!("{} sessions", .0.len()) }, .0.join(", "))]
    Unrecorded(Vec<String>),
    #[error("no Hydra admin URL is configured")]
    NoHydra,
    /// Something on this machine failed before the call could be sent.
    #[error("{0}")]
    Local(String),
}

/// A read that proves the effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Identity(IdentityId),
    PasswordState(IdentityId),
    Sessions {
        identity: IdentityId,
        active: Option<bool>,
    },
    Consents(IdentityId),
    /// Who has this login identifier now (after a 409 on restoring it).
    Owner(String),
}

impl Check {
    pub fn line(&self) -> Line {
        let k = |path: String| Line {
            service: Service::Kratos,
            method: "GET",
            path,
            body: None,
        };
        match self {
            Check::Identity(id) => k(paths::identity(*id)),
            Check::PasswordState(id) => k(paths::identity_with_password(*id)),
            Check::Sessions { identity, active } => k(paths::identity_sessions(
                *identity,
                *active,
                kratos::SESSION_PAGE_SIZE,
                None,
            )),
            Check::Consents(subject) => Line {
                service: Service::Hydra,
                method: "GET",
                path: hydra::consent_list_path(&subject.to_string()),
                body: None,
            },
            Check::Owner(identifier) => k(paths::identities_by_identifier(identifier)),
        }
    }

    pub async fn perform(&self, apis: &Apis) -> Result<Checked, CallError> {
        let k = &apis.kratos;
        Ok(match self {
            Check::Identity(id) => Checked::Identity(Box::new(k.get_identity(*id).await?)),
            Check::PasswordState(id) => Checked::PasswordState(k.password_state(*id).await?),
            Check::Sessions { identity, active } => {
                Checked::Sessions(k.list_identity_sessions(*identity, *active).await?)
            }
            Check::Consents(subject) => Checked::Consents(
                apis.hydra
                    .as_ref()
                    .ok_or(NoHydra)?
                    .list_consents(&subject.to_string())
                    .await?,
            ),
            Check::Owner(identifier) => Checked::Found(k.find_by_identifier(identifier).await?),
        })
    }
}

/// What a check read.
pub enum Checked {
    Identity(Box<Identity>),
    PasswordState(PasswordState),
    Sessions(SessionListing),
    Consents(Vec<Consent>),
    Found(Vec<Identity>),
}

/// The results of a plan's checks, by kind.
#[derive(Default)]
pub struct Checks {
    pub results: Vec<(Check, Result<Checked, CallError>)>,
}

impl Checks {
    /// The result of the first check of a kind; `None` if there was no such check.
    fn get<'a, T>(
        &'a self,
        kind: impl Fn(&Check) -> bool,
        pick: impl Fn(&'a Checked) -> Option<T>,
    ) -> Option<Result<T, String>> {
        let (_, r) = self.results.iter().find(|(c, _)| kind(c))?;
        Some(match r {
            Ok(v) => pick(v).ok_or_else(|| "the check read something else".to_string()),
            Err(e) => Err(e.to_string()),
        })
    }

    /// The identity read again.
    pub fn identity(&self) -> Option<Result<&Identity, String>> {
        self.get(
            |c| matches!(c, Check::Identity(_)),
            |v| match v {
                Checked::Identity(i) => Some(&**i),
                _ => None,
            },
        )
    }

    pub fn password_state(&self) -> Option<Result<PasswordState, String>> {
        self.get(
            |c| matches!(c, Check::PasswordState(_)),
            |v| match v {
                Checked::PasswordState(p) => Some(*p),
                _ => None,
            },
        )
    }

    /// The sessions listed again with this `active` filter.
    pub fn sessions(&self, active: Option<bool>) -> Option<Result<&SessionListing, String>> {
        self.get(
            |c| matches!(c, Check::Sessions { active: a, .. } if *a == active),
            |v| match v {
                Checked::Sessions(l) => Some(l),
                _ => None,
            },
        )
    }

    pub fn consents(&self) -> Option<Result<&Vec<Consent>, String>> {
        self.get(
            |c| matches!(c, Check::Consents(_)),
            |v| match v {
                Checked::Consents(c) => Some(c),
                _ => None,
            },
        )
    }

    /// Who has `identifier` now, read after the act.
    pub fn owner(&self, identifier: &str) -> Option<Result<&Vec<Identity>, String>> {
        self.get(
            |c| matches!(c, Check::Owner(i) if i == identifier),
            |v| match v {
                Checked::Found(f) => Some(f),
                _ => None,
            },
        )
    }

    /// Performs the checks in order (a failed read does not stop the others).
    pub async fn perform(checks: &[Check], apis: &Apis) -> Checks {
        let mut results = Vec::with_capacity(checks.len());
        for c in checks {
            results.push((c.clone(), c.perform(apis).await));
        }
        Checks { results }
    }
}

/// The API clients a plan is performed with.
#[derive(Clone)]
pub struct Apis {
    pub kratos: kratos::Client,
    pub hydra: Option<hydra::Client>,
}

/// What the act did: each call sent with its result, and the calls not sent.
#[derive(Default)]
pub struct Acted {
    pub sent: Vec<(Line, String, Result<Performed, CallError>)>,
    pub not_sent: Vec<(Line, String)>,
}

impl Acted {
    /// Sends the calls in order; a failed required call stops the rest.
    pub async fn perform(calls: &[Call], apis: &Apis) -> Acted {
        let mut acted = Acted::default();
        let mut stopped = false;
        for call in calls {
            if stopped {
                acted.not_sent.push((call.line(), call.purpose.clone()));
                continue;
            }
            let r = call.perform(apis).await;
            // An answer about another identity or session stops everything: nothing more is
            // sent to a server that answers about something else.
            if matches!(&r, Err(e) if call.on_failure == OnFailure::Stop || e.is_untrusted()) {
                stopped = true;
            }
            acted.sent.push((call.line(), call.purpose.clone(), r));
        }
        acted
    }

    /// A call's answer was about something else: nothing more may be sent (checks neither).
    pub fn untrusted(&self) -> bool {
        self.sent
            .iter()
            .any(|(_, _, r)| r.as_ref().err().is_some_and(CallError::is_untrusted))
    }

    pub fn all_ok(&self) -> bool {
        self.not_sent.is_empty() && self.sent.iter().all(|(_, _, r)| r.is_ok())
    }

    /// The first failure, as a line.
    pub fn first_error(&self) -> Option<String> {
        self.sent.iter().find_map(|(l, _, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("{} {}: {e}", l.method, l.path))
        })
    }

    /// The first failure itself.
    pub fn first_failure(&self) -> Option<&CallError> {
        self.sent.iter().find_map(|(_, _, r)| r.as_ref().err())
    }

    /// The results of the calls that match `f`.
    pub fn results<'a, T: 'a>(
        &'a self,
        f: impl Fn(&'a Performed) -> Option<T> + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        self.sent
            .iter()
            .filter_map(move |(_, _, r)| r.as_ref().ok().and_then(&f))
    }

    /// Each call sent with its result: a judge reads what was done by the call itself, not by
    /// its path. The calls sent are the plan's first ones, in order.
    pub fn outcomes<'a>(
        &'a self,
        calls: &'a [Call],
    ) -> impl Iterator<Item = (&'a Op, &'a Result<Performed, CallError>)> {
        calls
            .iter()
            .zip(&self.sent)
            .map(|(c, (_, _, r))| (&c.op, r))
    }

    /// The journal's account of the act: what was done, what failed and what was not sent.
    pub fn evidence(&self) -> Map<String, Value> {
        let line = |l: &Line| format!("{} {}", l.method, l.path);
        let mut m = Map::new();
        m.insert(
            "done".into(),
            self.sent
                .iter()
                .filter(|(_, _, r)| r.is_ok())
                .map(|(l, _, _)| Value::String(line(l)))
                .collect(),
        );
        let failed: Vec<Value> = self
            .sent
            .iter()
            .filter_map(|(l, _, r)| {
                r.as_ref().err().map(|e| {
                    serde_json::json!({"request": line(l), "error": crate::output::clean(&e.to_string())})
                })
            })
            .collect();
        if !failed.is_empty() {
            m.insert("failed".into(), Value::Array(failed));
        }
        if !self.not_sent.is_empty() {
            m.insert(
                "not_done".into(),
                self.not_sent
                    .iter()
                    .map(|(l, _)| Value::String(line(l)))
                    .collect(),
            );
        }
        m
    }
}
