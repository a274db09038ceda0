//! `restore --identity`: put back what the attacker changed and remove what they added, then
//! contain. One changing step with the usual life ([`super::life`]); its plan comes from two
//! looks: the audit log in the window (read once, before the life: what the attacker did) and
//! the live identity (what is there now).
//!
//! - **Traits** changed in the window (`email.changed`, `settings.changed` with `before`,
//!   `user_email_changes`) go back to their value before the first change in the window: one
//!   `PATCH` per trait, so that a 409 on one address (another identity has it now) leaves the
//!   others restored. Kratos recomputes the addresses: a restored address starts unverified,
//!   and no e-mail is sent (reference §6, §13.18).
//! - **Social logins** linked in the window (`oidc.linked`) are unlinked one by one by
//!   `provider:subject`; Kratos refuses the last first factor (400, §8): the owner needs a way
//!   in first (a recovery code), and the step says so and goes on.
//! - **MFA** enrolled in the window (`mfa.enrolled`): TOTP and lookup secrets are removed when
//!   the credential dates from the window; WebAuthn MFA keys only when every MFA key does (the
//!   DELETE removes them all, §8); passkeys and passwordless keys have no admin removal: they
//!   are listed for manual action.
//! - **OAuth2** (Hydra): consents granted in the window are revoked per client (`subject` +
//!   `client`), or one by one where the owner granted the same client before the window; then
//!   the login sessions behind them are logged out by `sid` (back-channel logout, §12).
//! - **Containment**: the password replaced by a random secret (read and `PUT` in one breath,
//!   after the traits were put back) and every session ended (recorded first), unless the
//!   incident's journal shows both done after the attacker's last change.
//!
//! Nothing the owner had before the window is touched. A part that cannot be done is said with
//! what to do, the rest goes on, and the step exits 1: the account is not yet restored.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::life::{self, Change, Cx, Plan, Target, Verdict, list_sessions, look_identity};
use super::revoke::{Ending, target_id};
use super::who;
use crate::api::ApiError;
use crate::audit::{self, Window};
use crate::cli::{RestoreArgs, RestorePart};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::hydra::{self, Consent};
use crate::ids::{IdentityId, IdentityRef};
use crate::journal::{self, Outcome, Record};
use crate::kratos::{Identity, PasswordState, WebauthnKey};
use crate::output;
use crate::plan::{Acted, Call, CallError, Check, Checks, Op, Performed, REDACTED, put_body};

pub const STEP: &str = "restore";

/// `restore`: the identity flow here, the reversal-key flow in [`super::reversal`].
pub async fn run(ctx: &Ctx, a: &RestoreArgs) -> Result<Exit> {
    ctx.reject_ids_output(STEP)?;
    if let Some(key_source) = &a.reversal_key {
        return super::reversal::run(ctx, a, key_source).await;
    }
    let Some(identity) = &a.identity else {
        return Err(AppError::usage(
            "give --identity (what the attacker changed in a window) or --reversal-key - (one e-mail change, from its key)",
        ));
    };
    let now = Timestamp::now();
    let window = Window::resolve(now, a.since.as_deref(), a.from.as_deref(), None, "30d")?;
    let db = audit::target(ctx)?;
    if !ctx.dry_run() {
        ctx.ensure_may_change("restore the identity")?;
    }
    let target = match life::identity_id(ctx, identity).await {
        Ok(t) => t,
        // The owner knows the address the attacker changed away from; Kratos no longer has it.
        Err(e) if e.exit == Exit::NotFound => match identity {
            IdentityRef::Identifier(addr) => by_old_address(ctx, &db, addr).await?.ok_or(e)?,
            IdentityRef::Id(_) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let changes = read_changes(ctx, &db, target.id, &window).await?;
    let contained = if a.skip.contains(&RestorePart::Containment) {
        None
    } else {
        containment_in_journal(ctx, target.id, changes.last_change(&window))
    };
    let step = Restore {
        identity: IdentityRef::Id(target.id),
        resolved_from: target.resolved_from.clone(),
        from: window.from,
        changes,
        skip: a.skip.clone(),
        all_oauth2: a.all_oauth2,
        contained,
        password_done: None,
        reversal: None,
    };
    life::run(ctx, step).await
}

/// One trait's value before the attacker's first change in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct TraitChange {
    /// The trait's path under `traits`, dotted (`email`, `name.first`).
    pub path: String,
    /// Its value before the first change (`None`: it did not exist).
    pub before: Option<Value>,
    /// When that first change was made.
    pub at: Timestamp,
    /// Where atoctl learned it (`email.changed`, `settings.changed`, `user_email_changes`).
    pub source: &'static str,
    /// The value the log says it was changed to last (for e-mail changes).
    pub last_to: Option<Value>,
}

/// What the attacker did in the window, from the audit database.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Per trait, the first change in the window.
    pub traits: Vec<TraitChange>,
    /// `provider:subject` of the social logins linked in the window.
    pub oidc: Vec<(String, Timestamp)>,
    /// MFA methods enrolled in the window (`totp`, `lookup_secret`, `webauthn`, `passkey`).
    pub mfa: Vec<(String, Timestamp)>,
    /// OAuth2 clients granted a consent in the window.
    pub oauth2: Vec<(String, Timestamp)>,
    /// Audit rows atoctl could not use (their type and id), said in the plan.
    pub unreadable: Vec<String>,
}

impl Changes {
    /// The time of the attacker's last change in the window (the window's start if none).
    pub fn last_change(&self, w: &Window) -> Timestamp {
        self.traits
            .iter()
            .map(|t| t.at)
            .chain(self.oidc.iter().map(|x| x.1))
            .chain(self.mfa.iter().map(|x| x.1))
            .chain(self.oauth2.iter().map(|x| x.1))
            .max()
            .unwrap_or(w.from)
    }

    /// Records a trait's change unless an earlier one of the same trait is known.
    fn trait_changed(&mut self, c: TraitChange) {
        match self.traits.iter_mut().find(|t| t.path == c.path) {
            Some(t) if t.at <= c.at => {
                if c.last_to.is_some() {
                    t.last_to = c.last_to;
                }
            }
            Some(t) => {
                let last_to = t.last_to.take().or(c.last_to.clone());
                *t = TraitChange { last_to, ..c };
            }
            None => self.traits.push(c),
        }
    }

    fn json(&self) -> Value {
        let at = |t: &Timestamp| t.to_string();
        json!({
            "traits": self.traits.iter().map(|t| json!({"trait": t.path, "before": t.before, "changed_at": at(&t.at), "source": t.source})).collect::<Vec<_>>(),
            "oidc_linked": self.oidc.iter().map(|(i, t)| json!({"identifier": output::clean(i), "at": at(t)})).collect::<Vec<_>>(),
            "mfa_enrolled": self.mfa.iter().map(|(m, t)| json!({"method": output::clean(m), "at": at(t)})).collect::<Vec<_>>(),
            "oauth2_granted": self.oauth2.iter().map(|(c, t)| json!({"client": output::clean(c), "at": at(t)})).collect::<Vec<_>>(),
        })
    }
}

/// Reads the attacker's changes in the window: `security_audit`, and `user_email_changes`
/// where the application keeps it. One read-only transaction.
async fn read_changes(
    ctx: &Ctx,
    db: &audit::Target,
    id: IdentityId,
    w: &Window,
) -> Result<Changes> {
    let tx = audit::ReadTx::open(db, ctx.timeout).await?;
    let ids = id.to_string();
    let mut changes = Changes::default();
    for row in tx.all(&audit::queries::restore_changes(&ids, w)).await? {
        let row_id: i64 = audit::db::get(&row, 0)?;
        let kind = audit::db::text(&row, 1)?.unwrap_or_default();
        let at = audit::db::get::<audit::db::Micros>(&row, 2)?.timestamp();
        let meta: Value = audit::db::text(&row, 3)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let s = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_string);
        let mut unusable = || {
            changes
                .unreadable
                .push(format!("{} #{row_id}", output::clean(&kind)))
        };
        match kind.as_str() {
            "email.changed" => match s("from") {
                Some(from) => changes.trait_changed(TraitChange {
                    path: "email".into(),
                    before: Some(json!(from)),
                    at,
                    source: "email.changed",
                    last_to: meta.get("to").cloned(),
                }),
                None => unusable(),
            },
            "settings.changed" => match meta.get("before").and_then(Value::as_object) {
                Some(before) => {
                    for (path, value) in before {
                        let path = path.strip_prefix("traits.").unwrap_or(path);
                        changes.trait_changed(TraitChange {
                            path: path.to_string(),
                            before: Some(value.clone()),
                            at,
                            source: "settings.changed",
                            last_to: None,
                        });
                    }
                }
                // A settings change without `before` cannot be put back; it is said.
                None => unusable(),
            },
            "oidc.linked" => match (s("provider"), s("subject")) {
                (Some(p), Some(sub)) => changes.oidc.push((format!("{p}:{sub}"), at)),
                _ => unusable(),
            },
            "mfa.enrolled" => match s("method") {
                Some(m) => changes.mfa.push((m, at)),
                None => unusable(),
            },
            "oauth2.consent.granted" => match s("client_id") {
                Some(c) => changes.oauth2.push((c, at)),
                None => unusable(),
            },
            _ => {}
        }
    }
    if tx.has_email_changes().await? {
        for row in tx.all(&audit::queries::email_changes(&ids, w)).await? {
            let from = audit::db::text(&row, 1)?.unwrap_or_default();
            let to = audit::db::text(&row, 2)?;
            let at = audit::db::get::<audit::db::Micros>(&row, 3)?.timestamp();
            changes.trait_changed(TraitChange {
                path: "email".into(),
                before: Some(json!(from)),
                at,
                source: "user_email_changes",
                last_to: to.map(Value::String),
            });
        }
    }
    tx.finish().await?;
    Ok(changes)
}

/// The identity whose e-mail was changed away from `addr`, found in the audit database; said
/// on stderr. Several: the operator must choose (exit 1 naming them).
async fn by_old_address(ctx: &Ctx, db: &audit::Target, addr: &str) -> Result<Option<Target>> {
    let tx = audit::ReadTx::open(db, ctx.timeout).await?;
    let mut found: Vec<(String, Timestamp)> = Vec::new();
    let mut add = |rows: Vec<tokio_postgres::Row>| -> Result<()> {
        for r in rows {
            let id = audit::db::text(&r, 0)?.unwrap_or_default();
            let at = audit::db::get::<audit::db::Micros>(&r, 1)?.timestamp();
            match found.iter_mut().find(|(i, _)| *i == id) {
                Some(f) => f.1 = f.1.max(at),
                None => found.push((id, at)),
            }
        }
        Ok(())
    };
    add(tx.all(&audit::queries::changed_from(addr)).await?)?;
    if tx.has_email_changes().await? {
        add(tx.all(&audit::queries::changed_from_table(addr)).await?)?;
    }
    tx.finish().await?;
    let shown = output::clean(addr);
    match found.as_slice() {
        [] => Ok(None),
        [(id, at)] => {
            let id: IdentityId = id.parse().map_err(|_| {
                AppError::failed("the audit database holds an identity id that is not a UUID")
            })?;
            output::note(&format!(
                "no identity has {shown:?} in Kratos now; the audit log shows identity {id} changed its e-mail away from it (last at {at}): restoring that identity"
            ));
            Ok(Some(Target {
                id,
                resolved_from: Some(addr.to_string()),
            }))
        }
        many => Err(AppError::failed(format!(
            "no identity has {shown:?} in Kratos now, and the audit log shows {} identities changed their e-mail away from it: {}; nothing was changed",
            many.len(),
            many.iter()
                .map(|(i, _)| output::clean(i))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint("give the identity's UUID")),
    }
}

/// The journal a step about `id` would append to, if it exists already: `--incident`, else the
/// identity's open incident.
pub fn journal_of(ctx: &Ctx, id: IdentityId) -> Option<std::path::PathBuf> {
    match &ctx.args.incident {
        Some(p) if p.exists() => Some(p.clone()),
        Some(_) => None,
        None => journal::open_incidents_of(&ctx.incidents_dir(), &id.to_string())
            .first()
            .map(|g| g.path.clone()),
    }
}

/// Whether the incident's journal shows the sessions ended and the password disabled after
/// `after` (the attacker's last change): then containment is not done again.
fn containment_in_journal(ctx: &Ctx, id: IdentityId, after: Timestamp) -> Option<String> {
    let ids = id.to_string();
    let records = journal::read_records(&journal_of(ctx, id)?).ok()?;
    let done_after = |step: &str| -> Option<String> {
        records
            .iter()
            .filter(|r| {
                r.step == step
                    && r.identity.as_deref() == Some(ids.as_str())
                    && matches!(r.outcome, Outcome::Ok | Outcome::Skipped)
                    // `revoke --session` ended one session, not every one.
                    && !r.evidence.contains_key("scope")
            })
            .rfind(|r| r.ts.parse::<Timestamp>().is_ok_and(|t| t > after))
            .map(|r| r.ts.clone())
    };
    // An earlier restore that contained (and verified it) counts as both.
    let restored = records
        .iter()
        .filter(|r| {
            r.step == STEP
                && r.identity.as_deref() == Some(ids.as_str())
                && r.outcome == Outcome::Ok
                && r.evidence.get("contained") == Some(&Value::Bool(true))
        })
        .rfind(|r| r.ts.parse::<Timestamp>().is_ok_and(|t| t > after));
    if let Some(r) = restored {
        return Some(format!(
            "the journal shows an earlier restore ended every session and disabled the password at {}, after the attacker's last change at {after}",
            r.ts
        ));
    }
    let ended = done_after(super::revoke::Revoke::STEP)?;
    let disabled = done_after(super::disable_password::DisablePassword::STEP)?;
    Some(format!(
        "the journal shows the sessions ended at {ended} and the password disabled at {disabled}, after the attacker's last change at {after}"
    ))
}

/// What the reversal flow adds to the plan: its transaction, said and recorded.
#[derive(Debug, Clone, Default)]
pub struct ReversalNote {
    pub notes: Vec<String>,
    pub facts: Map<String, Value>,
}

/// `restore --identity` as a changing step (also the Kratos half of the reversal flow).
pub struct Restore {
    pub identity: IdentityRef,
    pub resolved_from: Option<String>,
    /// The window's start: what is older is the owner's.
    pub from: Timestamp,
    pub changes: Changes,
    pub skip: Vec<RestorePart>,
    pub all_oauth2: bool,
    /// Containment found done in the journal, and why.
    pub contained: Option<String>,
    /// The password was disabled already, and where that is recorded (the reversal flow's
    /// re-run): it is not disabled again.
    pub password_done: Option<String>,
    pub reversal: Option<ReversalNote>,
}

pub struct RestoreLook {
    identity: Identity,
    keys: Vec<WebauthnKey>,
    consents: Option<Vec<Consent>>,
    ending: Option<Ending>,
    password: Option<PasswordState>,
}

impl Restore {
    fn doing(&self, part: RestorePart) -> bool {
        !self.skip.contains(&part)
    }

    fn in_window(&self, t: Option<&str>) -> Option<bool> {
        let t: Timestamp = t?.parse().ok()?;
        Some(t >= self.from)
    }

    fn enrolled(&self, method: &str) -> bool {
        self.changes.mfa.iter().any(|(m, _)| m == method)
    }
}

/// `/traits/a/b` for `a.b`, each segment escaped as RFC 6901 says.
pub fn trait_pointer(path: &str) -> String {
    let mut p = String::from("/traits");
    for seg in path.split('.') {
        p.push('/');
        p.push_str(&seg.replace('~', "~0").replace('/', "~1"));
    }
    p
}

fn same_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        // Addresses compare without case (Kratos lower-cases identifiers); other text exactly.
        (Some(Value::String(x)), Some(Value::String(y))) if x.contains('@') && y.contains('@') => {
            x.eq_ignore_ascii_case(y)
        }
        (a, b) => a.unwrap_or(&Value::Null) == b.unwrap_or(&Value::Null),
    }
}

/// The identity without secrets, for the journal: state, traits, addresses, and each
/// credential's type, identifiers and times (a plain GET carries no credential config).
pub fn snapshot(i: &Identity) -> Value {
    // A list, not a map by type: the journal redacts any key named like a secret
    // ("password"), and a type is not one.
    let creds: Vec<Value> = match &i.credentials {
        Some(Some(m)) => m
            .iter()
            .map(|(k, c)| {
                json!({"type": k, "identifiers": c.identifiers(), "created_at": c.created_at, "updated_at": c.updated_at})
            })
            .collect(),
        _ => Vec::new(),
    };
    let addresses: Vec<Value> = i
        .extra
        .get("verifiable_addresses")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| json!({"value": x.get("value"), "verified": x.get("verified")}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "state": i.state,
        "traits": i.traits,
        "verifiable_addresses": addresses,
        "credentials": creds,
    })
}

impl Change for Restore {
    type Look = RestoreLook;
    const STEP: &'static str = STEP;
    const WHAT: &'static str = "restore the identity";

    fn identity(&self) -> Option<&IdentityRef> {
        Some(&self.identity)
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<RestoreLook> {
        let id = target_id(target)?;
        let identity = look_identity(cx, id).await?;
        let keys = if self.doing(RestorePart::Mfa)
            && self.enrolled("webauthn")
            && identity.credential("webauthn").is_some()
        {
            cx.kratos()?
                .webauthn_keys(id)
                .await
                .map_err(|e| life::identity_error(e, id))?
        } else {
            Vec::new()
        };
        let consents = match cx.hydra()? {
            Some(h) if self.doing(RestorePart::Oauth2) => Some(
                h.list_consents(&id.to_string())
                    .await
                    .map_err(AppError::from)?,
            ),
            _ => None,
        };
        // Sessions are looked at also when containment was done, if a social login is about
        // to be unlinked: a session it opened since would outlive it.
        let sessions_again = self.contained.is_some()
            && self.doing(RestorePart::Oidc)
            && !self.changes.oidc.is_empty();
        let (ending, password) = if self.doing(RestorePart::Containment)
            && (self.contained.is_none() || sessions_again)
        {
            let all = list_sessions(cx, id, None).await?;
            let mut ending = Ending::look(cx, id, all, Some(&identity)).await?;
            // OAuth2 is this step's own part (the window's grants only).
            ending.consents = None;
            let pw = cx
                .kratos()?
                .password_state(id)
                .await
                .map_err(|e| life::identity_error(e, id))?;
            (Some(ending), Some(pw))
        } else {
            (None, None)
        };
        Ok(RestoreLook {
            identity,
            keys,
            consents,
            ending,
            password,
        })
    }

    fn assumed(&self, _: Option<&Target>) -> Option<RestoreLook> {
        None
    }

    fn plan(&self, cx: &Cx<'_>, target: Option<&Target>, look: &RestoreLook) -> Result<Plan> {
        let id = target_id(target)?;
        let i = &look.identity;
        let mut plan = Plan {
            identity: Some(id),
            label: who(Some(i), id),
            ..Plan::default()
        };
        if let Some(from) = &self.resolved_from {
            plan.fact("resolved_from", crate::ids::resolution_evidence(from));
        }
        plan.fact("window_from", self.from.to_string());
        plan.fact("attacker_changes", self.changes.json());
        plan.fact("identity_before", snapshot(i));
        if !self.skip.is_empty() {
            plan.fact("skipped_parts", &self.skip);
        }
        let mut will: Vec<String> = Vec::new();
        let mut manual: Vec<String> = Vec::new();
        if let Some(r) = &self.reversal {
            plan.notes.extend(r.notes.iter().cloned());
            for (k, v) in &r.facts {
                plan.facts.insert(k.clone(), v.clone());
            }
        }
        for u in &self.changes.unreadable {
            plan.notes.push(format!(
                "the audit row {u} lacks what restore needs (from/before, provider/subject, method or client_id): not acted on, look at it yourself"
            ));
        }

        // Traits.
        if self.doing(RestorePart::Email) {
            let traits = i.traits.clone().unwrap_or(Value::Null);
            let mut restored = Vec::new();
            for t in &self.changes.traits {
                let pointer = trait_pointer(&t.path);
                let sub = pointer.trim_start_matches("/traits");
                let now = traits.pointer(sub);
                if same_value(now, t.before.as_ref()) {
                    plan.notes.push(format!(
                        "trait {} already has its value from before the window",
                        output::clean(&t.path)
                    ));
                    continue;
                }
                if let Some(last) = &t.last_to
                    && !same_value(now, Some(last))
                {
                    plan.notes.push(format!(
                        "trait {} is now {}, not the {} the log says it was last changed to: it is put back all the same",
                        output::clean(&t.path),
                        shown(now),
                        shown(Some(last))
                    ));
                }
                let op = match &t.before {
                    Some(v) if !v.is_null() => {
                        json!([{"op": "replace", "path": pointer, "value": v}])
                    }
                    _ => json!([{"op": "remove", "path": pointer}]),
                };
                plan.calls.push(Call::new(
                    Op::PatchTraits { identity: id, ops: op },
                    format!(
                        "put trait {} back to {} (its value before the first change in the window, {} by {})",
                        output::clean(&t.path),
                        shown(t.before.as_ref()),
                        t.at,
                        t.source
                    ),
                ));
                if let Some(Value::String(addr)) = &t.before
                    && addr.contains('@')
                {
                    plan.checks.push(Check::Owner(addr.clone()));
                }
                restored.push(t.path.clone());
            }
            if !restored.is_empty() {
                will.push(format!("put back {}", restored.join(", ")));
                if restored.iter().any(|p| p.contains("email")) {
                    plan.notes.push(
                        "Kratos sends no e-mail when an address is put back, and marks the restored address unverified: tell the owner through a second channel and have them verify it".into(),
                    );
                }
            }
        }

        // Social logins.
        if self.doing(RestorePart::Oidc) {
            let linked_now = i
                .credential("oidc")
                .map(|c| c.identifiers())
                .unwrap_or_default();
            let mut n = 0;
            let mut seen = Vec::new();
            for (ident, _) in &self.changes.oidc {
                if seen.contains(ident) {
                    continue;
                }
                seen.push(ident.clone());
                if !linked_now.iter().any(|l| l == ident) {
                    plan.notes.push(format!(
                        "the social login {} linked in the window is no longer linked",
                        output::clean(ident)
                    ));
                    continue;
                }
                plan.calls.push(Call::new(
                    Op::DeleteCredential {
                        identity: id,
                        kind: "oidc".into(),
                        identifier: Some(ident.clone()),
                    },
                    format!(
                        "unlink the social login {} (linked in the window)",
                        output::clean(ident)
                    ),
                ));
                n += 1;
            }
            let kept: Vec<&String> = linked_now.iter().filter(|l| !seen.contains(l)).collect();
            // Kratos 1.3.x unlinks without counting first factors (current Kratos refuses the
            // last one): say when nothing but recovery would be left.
            if n > 0
                && kept.is_empty()
                && look.password.is_some_and(|p| !p.usable())
                && i.credential("passkey").is_none()
            {
                plan.notes.push(
                    "after the unlinking, the identity has no password and no social login left: the owner gets in only through recovery (atoctl recover)".into(),
                );
            }
            if !kept.is_empty() {
                plan.notes.push(format!(
                    "kept (not linked in the window): {}",
                    kept.iter()
                        .map(|k| output::clean(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if n > 0 {
                will.push(format!(
                    "unlink {}",
                    super::count(n, "social login", "social logins")
                ));
            }
        }

        // MFA.
        if self.doing(RestorePart::Mfa) {
            for kind in ["totp", "lookup_secret"] {
                if !self.enrolled(kind) {
                    continue;
                }
                let Some(c) = i.credential(kind) else {
                    plan.notes
                        .push(format!("{kind} enrolled in the window is no longer there"));
                    continue;
                };
                let dated = c
                    .updated_at()
                    .or(c.created_at.as_ref().and_then(Value::as_str));
                if self.in_window(dated) == Some(false) {
                    plan.notes.push(format!(
                        "the {kind} credential dates from {} (before the window): the owner's, kept",
                        output::clean(dated.unwrap_or_default())
                    ));
                    continue;
                }
                plan.calls.push(Call::new(
                    Op::DeleteCredential {
                        identity: id,
                        kind: kind.into(),
                        identifier: None,
                    },
                    format!("remove the {kind} credential enrolled in the window"),
                ));
                will.push(format!("remove {kind}"));
            }
            if self.enrolled("webauthn") && i.credential("webauthn").is_some() {
                let (new, old): (Vec<&WebauthnKey>, Vec<&WebauthnKey>) = look
                    .keys
                    .iter()
                    .partition(|k| self.in_window(k.added_at.as_deref()) != Some(false));
                let name = |k: &WebauthnKey| {
                    format!(
                        "{:?} (added {})",
                        output::clean(k.display_name.as_deref().unwrap_or("unnamed key")),
                        output::clean(k.added_at.as_deref().unwrap_or("at an unknown time"))
                    )
                };
                let new_mfa: Vec<&&WebauthnKey> = new.iter().filter(|k| !k.passwordless).collect();
                let old_mfa = old.iter().filter(|k| !k.passwordless).count();
                if !new_mfa.is_empty() && old_mfa == 0 {
                    plan.calls.push(Call::new(
                        Op::DeleteCredential {
                            identity: id,
                            kind: "webauthn".into(),
                            identifier: None,
                        },
                        "remove the security keys (MFA) enrolled in the window (every MFA key is from the window; passwordless keys are kept by Kratos)",
                    ));
                    will.push("remove the security keys".into());
                } else if !new_mfa.is_empty() {
                    manual.push(format!(
                        "security key(s) {} were added in the window, but the owner has older ones and Kratos's admin API removes only all MFA keys at once: have the owner remove the new ones in their settings once they are back in",
                        new_mfa.iter().map(|k| name(k)).collect::<Vec<_>>().join(", ")
                    ));
                }
                for k in new.iter().filter(|k| k.passwordless) {
                    manual.push(format!(
                        "passwordless security key {} was added in the window and cannot be removed through the admin API: keep the identity locked (atoctl lock) until the owner removes it in their settings",
                        name(k)
                    ));
                }
            }
            if self.enrolled("passkey") && i.credential("passkey").is_some() {
                manual.push(
                    "a passkey was enrolled in the window, and Kratos's admin API cannot remove passkeys: it still logs the attacker in. Keep the identity locked (atoctl lock) until the owner, back in through recovery, removes it in their settings".into(),
                );
            }
        }

        // OAuth2.
        if self.doing(RestorePart::Oauth2) {
            match &look.consents {
                None if cx.has_hydra() => {}
                None => {
                    if !self.changes.oauth2.is_empty() || self.all_oauth2 {
                        manual.push(
                            "the audit log shows OAuth2 grants in the window, and no Hydra admin URL is set: they were not revoked (set HYDRA_ADMIN_URL and run restore again, or --skip oauth2)".into(),
                        );
                    }
                }
                Some(consents) => self.plan_oauth2(id, consents, &mut plan, &mut will),
            }
        }

        // Containment.
        if self.doing(RestorePart::Containment) {
            if let Some(why) = &self.contained {
                plan.notes.push(format!("containment not repeated: {why}"));
            }
            if let Some(pw) = look.password.filter(|_| self.contained.is_none()) {
                if let Some(why) = &self.password_done {
                    plan.notes
                        .push(format!("the password is not disabled again: {why}"));
                } else if pw.usable() {
                    let mut planned = i.clone();
                    if let Some(Value::Array(ops)) = self.planned_traits(&plan) {
                        apply(&mut planned, &ops);
                    }
                    let mut shown = put_body(&planned);
                    shown["traits"] = json!("<as read right before the PUT>");
                    shown["credentials"]["password"]["config"]["password"] = json!(REDACTED);
                    plan.calls.push(Call::new(
                        Op::ReplacePassword {
                            identity: id,
                            shown,
                        },
                        "read the identity and PUT it back as read with a random password nobody knows (after the traits are back)",
                    ));
                    plan.checks.push(Check::PasswordState(id));
                    plan.fact(
                        "password_updated_at_before",
                        i.credential("password").and_then(|c| c.updated_at()),
                    );
                    will.push("disable the password".into());
                }
            }
            let unlinks = plan.calls.iter().any(|c| {
                matches!(&c.op, Op::DeleteCredential { kind, .. } if kind == "oidc" || kind == "saml")
            });
            if let Some(ending) = &look.ending
                && (!ending.live.is_empty() || !ending.all.is_empty())
                && (self.contained.is_none() || unlinks)
            {
                if self.contained.is_some() {
                    plan.notes.push(
                        "the sessions are ended again: a social login of the attacker's is unlinked, and a session it opened since the last revoke would outlive it".into(),
                    );
                }
                ending.plan(id, "before restore", false, false, &mut plan);
                if !ending.live.is_empty() {
                    will.push(format!(
                        "end {}",
                        super::count(ending.live.len(), "session", "sessions")
                    ));
                }
            }
        }

        plan.checks.push(Check::Identity(id));
        if !manual.is_empty() {
            plan.fact("manual", &manual);
        }
        if plan.calls.is_empty() && manual.is_empty() {
            let mut why: String = if self.reversal.is_some() {
                "the change is reversed, and Kratos already shows the address back, no session and the password disabled since".into()
            } else if self.changes.traits.is_empty()
                && self.changes.oidc.is_empty()
                && self.changes.mfa.is_empty()
                && self.changes.oauth2.is_empty()
            {
                "the audit log shows no change atoctl can reverse in the window, and containment needs nothing".into()
            } else {
                "what the audit log shows the attacker changed in the window is back already".into()
            };
            if !self.changes.unreadable.is_empty() {
                why.push_str(&format!(
                    " ({} in the window cannot be put back from the log and {} left to you: {})",
                    super::count(self.changes.unreadable.len(), "change", "changes"),
                    if self.changes.unreadable.len() == 1 {
                        "is"
                    } else {
                        "are"
                    },
                    self.changes.unreadable.join(", ")
                ));
            }
            plan.skip = Some(why);
            return Ok(plan);
        }
        plan.question = if will.is_empty() {
            format!(
                "Nothing can be sent for {}: record the {} needing your action?",
                plan.label,
                super::count(manual.len(), "item", "items")
            )
        } else {
            format!("Restore {}: {}?", plan.label, will.join("; "))
        };
        if self.reversal.is_some() {
            plan.question
                .push_str(" (the audit database's user_email_changes is written first)");
        }
        Ok(plan)
    }

    fn preview(&self, look: &RestoreLook) -> Option<String> {
        look.ending.as_ref().and_then(Ending::preview)
    }

    fn landed(&self, _: &Record, _: &RestoreLook) -> Option<String> {
        None
    }

    fn judge(&self, look: &RestoreLook, plan: &Plan, acted: &Acted, checks: &Checks) -> Verdict {
        let mut done: Vec<String> = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        let mut hints: Vec<String> = Vec::new();
        let mut conflicts: Vec<Value> = Vec::new();
        let mut refused: Vec<Value> = Vec::new();
        // What was done, by kind, for the owner's notice (no names, no ids).
        let mut kinds = Map::new();
        let after = checks.identity().and_then(|r| r.ok());
        for (op, r) in acted.outcomes(&plan.calls) {
            match (op, r) {
                (Op::PatchTraits { ops, .. }, r) => {
                    let path = ops[0]["path"].as_str().unwrap_or_default().to_string();
                    let value = ops[0].get("value").cloned();
                    match r {
                        Ok(_) => {
                            bump(
                                &mut kinds,
                                if path.contains("email") {
                                    "email"
                                } else {
                                    "traits"
                                },
                            );
                            done.push(format!("{path} put back"));
                        }
                        Err(CallError::Api(e)) if e.is_status(409) => {
                            let addr = value.as_ref().and_then(Value::as_str).unwrap_or_default();
                            let owner = checks
                                .owner(addr)
                                .and_then(|r| r.ok())
                                .and_then(|f| f.iter().find_map(|i| i.id.clone()))
                                .filter(|o| Some(o.as_str()) != look.identity.id.as_deref());
                            problems.push(match &owner {
                                Some(o) => format!(
                                    "{path} not put back: {} belongs to identity {} now (409)",
                                    output::clean(addr),
                                    output::clean(o)
                                ),
                                None => format!(
                                    "{path} not put back: Kratos says {} is taken by another identity (409)",
                                    output::clean(addr)
                                ),
                            });
                            hints.push("find out whose the other identity is (atoctl identity --identity …) before freeing the address; then run restore again".into());
                            conflicts
                                .push(json!({"trait": path, "value": value, "identity": owner}));
                        }
                        Err(e) => problems.push(format!("{path} not put back: {e}")),
                    }
                }
                (
                    Op::DeleteCredential {
                        kind, identifier, ..
                    },
                    r,
                ) => {
                    let what = match identifier {
                        Some(i) => format!("{kind} {}", output::clean(i)),
                        None => kind.clone(),
                    };
                    match r {
                        Ok(_) => {
                            bump(
                                &mut kinds,
                                if kind == "oidc" {
                                    "social_logins"
                                } else {
                                    "mfa"
                                },
                            );
                            done.push(format!("{what} removed"));
                        }
                        Err(CallError::Api(e)) if is_last_factor(e) => {
                            problems.push(format!(
                                "{what} not removed: Kratos refuses to remove the last first factor credential (the owner would have no way to log in)"
                            ));
                            hints.push("give the owner a way in first: atoctl recover --identity … (they set a password), then run restore again".into());
                            refused
                                .push(json!({"credential": what, "reason": "last first factor"}));
                        }
                        Err(CallError::Api(e)) if e.is_status(400) => {
                            let reason = output::clean(e.text().trim());
                            problems.push(format!(
                                "{what} not removed: this Kratos refuses it ({reason}); not retried"
                            ));
                            refused.push(json!({"credential": what, "reason": reason}));
                        }
                        Err(e) => problems.push(format!("{what} not removed: {e}")),
                    }
                }
                (Op::RevokeClientConsents { client, .. }, r) => revoked(
                    r,
                    format!("OAuth2 consents to {}", output::clean(client)),
                    &mut kinds,
                    &mut done,
                    &mut problems,
                ),
                (Op::RevokeConsent { consent_request_id }, r) => revoked(
                    r,
                    format!("OAuth2 consent {}", output::clean(consent_request_id)),
                    &mut kinds,
                    &mut done,
                    &mut problems,
                ),
                (Op::RevokeAllConsents { .. }, r) => match r {
                    Ok(_) => {
                        bump(&mut kinds, "apps");
                        done.push("every OAuth2 consent revoked".into())
                    }
                    Err(e) => problems.push(format!("OAuth2 consents not revoked: {e}")),
                },
                (Op::LogoutLoginSession { sid }, r) => match r {
                    Ok(_) => done.push(format!(
                        "OAuth2 login session {} logged out",
                        output::clean(sid)
                    )),
                    Err(e) => problems.push(format!(
                        "OAuth2 login session {} not logged out: {e}",
                        output::clean(sid)
                    )),
                },
                (Op::ForgetLogins { .. }, Err(e)) => {
                    problems.push(format!("remembered OAuth2 logins not forgotten: {e}"));
                }
                (Op::ReplacePassword { .. }, r) => match r {
                    Ok(_) => {}
                    Err(e) => problems.push(format!("password not disabled: {e}")),
                },
                _ => {}
            }
        }
        for (line, _) in &acted.not_sent {
            problems.push(format!("not sent: {} {}", line.method, line.path));
        }

        // Read back: the traits, links and credentials as planned.
        match &after {
            Some(a) => {
                let traits = a.traits.clone().unwrap_or(Value::Null);
                // The password credential's time as last answered before the PUT: a trait
                // PATCH rewrites it too (its identifiers follow the address).
                let pw_time = |i: &Identity| {
                    i.credential("password")
                        .and_then(|c| c.updated_at())
                        .map(str::to_string)
                };
                let mut pw_seen = pw_time(&look.identity);
                for (op, r) in acted.outcomes(&plan.calls) {
                    match (op, r) {
                        (Op::PatchTraits { ops, .. }, Ok(answer)) => {
                            if let Performed::Identity(i) = answer {
                                pw_seen = pw_time(i);
                            }
                            let path = ops[0]["path"].as_str().unwrap_or_default();
                            let sub = path.trim_start_matches("/traits");
                            if !same_value(traits.pointer(sub), ops[0].get("value")) {
                                problems.push(format!(
                                    "{path} reads {} after it was put back",
                                    shown(traits.pointer(sub))
                                ));
                            }
                        }
                        (
                            Op::DeleteCredential {
                                kind,
                                identifier: Some(ident),
                                ..
                            },
                            Ok(_),
                        ) if a
                            .credential(kind)
                            .is_some_and(|c| c.identifiers().contains(ident)) =>
                        {
                            problems.push(format!(
                                "{kind} {} is still linked after its removal",
                                output::clean(ident)
                            ));
                        }
                        (
                            Op::DeleteCredential {
                                kind,
                                identifier: None,
                                ..
                            },
                            Ok(_),
                        ) if kind != "webauthn" && a.credential(kind).is_some() => {
                            problems.push(format!("{kind} is still there after its removal"));
                        }
                        (Op::ReplacePassword { .. }, Ok(answer)) => {
                            // The PUT's own answer shows the credential rewritten by it, and
                            // the read afterwards still has a hash (of the random secret).
                            let put = match answer {
                                Performed::Identity(i) => pw_time(i),
                                _ => None,
                            };
                            let hash = checks.password_state().and_then(|r| r.ok());
                            if put.is_some() && put != pw_seen && hash == Some(PasswordState::Hash)
                            {
                                // Not "password": the journal redacts keys named like a secret.
                                bump(&mut kinds, "password_disabled");
                                done.push(
                                    "password disabled (a random secret nobody knows)".into(),
                                );
                            } else {
                                problems
                                    .push("the password could not be read back as replaced".into());
                            }
                        }
                        _ => {}
                    }
                }
            }
            None => {
                let why = checks
                    .identity()
                    .and_then(|r| r.err())
                    .unwrap_or_else(|| "not read".into());
                problems.push(format!("reading the identity back failed: {why}"));
            }
        }
        // OAuth2 read back: none of the revoked consents is left.
        let revoked: Vec<&str> = self.revoked_consents(look, plan);
        if !revoked.is_empty() {
            match checks.consents() {
                Some(Ok(left)) => {
                    let still: Vec<&Consent> = left
                        .iter()
                        .filter(|c| {
                            c.consent_request_id
                                .as_deref()
                                .is_some_and(|i| revoked.contains(&i))
                        })
                        .collect();
                    if !still.is_empty() {
                        problems.push(format!(
                            "{} still listed after the revocation",
                            super::count(still.len(), "OAuth2 consent is", "OAuth2 consents are")
                        ));
                    }
                }
                Some(Err(e)) => {
                    problems.push(format!("reading the OAuth2 consents back failed: {e}"))
                }
                None => {}
            }
        }
        // Sessions.
        let mut ended = None;
        if let Some(ending) = &look.ending
            && plan.calls.iter().any(|c| {
                matches!(
                    c.op,
                    Op::DeleteIdentitySessions(_) | Op::DisableSession { .. }
                )
            })
        {
            let e = ending.judge(&plan.calls, acted, checks);
            if e.kratos_ok && e.verified {
                kinds.insert("sessions_ended".into(), json!(e.sessions_ended));
                done.push(e.done_text());
            } else {
                problems.extend(e.problems.iter().cloned());
                if e.problems.is_empty() {
                    problems.push("the sessions could not be verified as ended".into());
                }
            }
            ended = Some(e.summary());
        }
        let manual: Vec<String> = plan
            .facts
            .get("manual")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let verified = problems.is_empty() && manual.is_empty();
        let mut message = if done.is_empty() {
            "nothing was changed".to_string()
        } else {
            done.join("; ")
        };
        if !problems.is_empty() {
            message.push_str(&format!("; NOT DONE: {}", problems.join("; ")));
        }
        if !manual.is_empty() {
            message.push_str(&format!("; YOUR ACTION: {}", manual.join("; ")));
        }
        if !verified {
            // Said as the error line: name whose account it is.
            message = format!(
                "{}: {message} — the account is not yet restored",
                plan.label
            );
        }
        let email_restored = kinds.contains_key("email");
        let summary = if verified {
            format!(
                "restored{}: {}",
                if email_restored {
                    " (the address is back unverified, and Kratos sent no e-mail)"
                } else {
                    ""
                },
                done.join("; ")
            )
        } else {
            format!(
                "not fully restored: {}",
                problems
                    .iter()
                    .chain(manual.iter())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let email_back = done.iter().any(|d| d.starts_with("/traits/email"));
        let contained =
            verified && self.doing(RestorePart::Containment) && self.contained.is_none();
        let mut v = Verdict::new(verified, summary, message)
            .evidence("contained", contained)
            .evidence("done_kinds", &kinds)
            .evidence("restored", &done)
            .evidence("problems", &problems);
        if let Some(a) = after {
            v = v.evidence("identity_after", snapshot(a));
        }
        if !conflicts.is_empty() {
            v = v.evidence("conflicts", &conflicts);
        }
        if !refused.is_empty() {
            v = v.evidence("refused", &refused);
        }
        if let Some(s) = ended {
            v = v.evidence("sessions", s);
        }
        if email_back {
            v = v.evidence(
                "restored_address_unverified",
                "Kratos sent no e-mail; the restored address is unverified until the owner verifies it",
            );
        }
        v = v
            .output("restored", &done)
            .output("problems", &problems)
            .output("manual", &manual)
            .output("conflicts", &conflicts);
        if let Some(r) = self.reversal.as_ref().and_then(|r| r.facts.get("reversal")) {
            v = v.output("reversal", r);
        }
        hints.dedup();
        if let Some(h) = hints.first() {
            v = v.hint(h.clone());
        }
        v
    }
}

impl Restore {
    fn plan_oauth2(
        &self,
        id: IdentityId,
        consents: &[Consent],
        plan: &mut Plan,
        will: &mut Vec<String>,
    ) {
        let granted_in_window = |c: &Consent| -> bool {
            if self.all_oauth2 {
                return true;
            }
            match self.in_window(c.handled_at.as_deref()) {
                Some(b) => b,
                // No time on the consent: the audit log's grants of its client decide.
                None => c
                    .client_id
                    .as_deref()
                    .is_some_and(|cl| self.changes.oauth2.iter().any(|(x, _)| x == cl)),
            }
        };
        let (mine, kept): (Vec<&Consent>, Vec<&Consent>) =
            consents.iter().partition(|c| granted_in_window(c));
        if !kept.is_empty() {
            plan.notes.push(format!(
                "kept: {} granted before the window",
                super::count(kept.len(), "OAuth2 consent", "OAuth2 consents")
            ));
        }
        if mine.is_empty() {
            return;
        }
        plan.fact(
            "oauth2_revoked",
            mine.iter().map(|c| (*c).clone()).collect::<Vec<Consent>>(),
        );
        if self.all_oauth2 {
            plan.calls.push(Call::new(
                Op::RevokeAllConsents { subject: id },
                "revoke every OAuth2 consent of the subject (--all-oauth2), and with them their tokens",
            ));
        } else {
            let mut clients: Vec<&str> = Vec::new();
            for c in &mine {
                if let Some(cl) = c.client_id.as_deref()
                    && !clients.contains(&cl)
                {
                    clients.push(cl);
                }
            }
            for cl in clients {
                let older = kept.iter().any(|k| k.client_id.as_deref() == Some(cl));
                if older {
                    for c in mine.iter().filter(|c| c.client_id.as_deref() == Some(cl)) {
                        if let Some(crid) = &c.consent_request_id {
                            plan.calls.push(Call::new(
                                Op::RevokeConsent {
                                    consent_request_id: crid.clone(),
                                },
                                format!(
                                    "revoke this consent to {} (granted in the window; the owner's older consent to it stays)",
                                    output::clean(cl)
                                ),
                            ));
                        }
                    }
                } else {
                    plan.calls.push(Call::new(
                        Op::RevokeClientConsents {
                            subject: id,
                            client: cl.to_string(),
                        },
                        format!(
                            "revoke the consents to {} granted in the window, and with them their tokens",
                            output::clean(cl)
                        ),
                    ));
                }
            }
        }
        let owned: Vec<Consent> = mine.iter().map(|c| (*c).clone()).collect();
        for sid in hydra::login_sessions(&owned) {
            plan.calls.push(Call::new(
                Op::LogoutLoginSession { sid },
                "log out the login session those consents were granted in (back-channel logout: relying parties end theirs)",
            ));
        }
        if self.all_oauth2 {
            plan.calls.push(Call::new(
                Op::ForgetLogins { subject: id },
                "forget remembered OAuth2 logins (no new token without logging in)",
            ));
        }
        plan.checks.push(Check::Consents(id));
        will.push(format!(
            "revoke {}",
            super::count(mine.len(), "OAuth2 consent", "OAuth2 consents")
        ));
    }

    /// The consent ids the plan revokes.
    fn revoked_consents<'a>(&self, _look: &'a RestoreLook, plan: &'a Plan) -> Vec<&'a str> {
        plan.facts
            .get("oauth2_revoked")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.get("consent_request_id").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The trait operations planned so far, as one JSON Patch.
    fn planned_traits(&self, plan: &Plan) -> Option<Value> {
        let ops: Vec<Value> = plan
            .calls
            .iter()
            .filter_map(|c| match &c.op {
                Op::PatchTraits { ops, .. } => ops.as_array().cloned(),
                _ => None,
            })
            .flatten()
            .collect();
        (!ops.is_empty()).then_some(Value::Array(ops))
    }
}

/// Applies replace/remove operations on traits to a copy of the identity (for showing the PUT
/// body as it will be).
fn apply(i: &mut Identity, ops: &[Value]) {
    let Some(traits) = i.traits.as_mut() else {
        return;
    };
    for op in ops {
        let Some(path) = op["path"].as_str() else {
            continue;
        };
        let sub = path.trim_start_matches("/traits");
        if let (Some(slot), Some(v)) = (traits.pointer_mut(sub), op.get("value")) {
            *slot = v.clone();
        }
    }
}

/// Says how a consent revocation went: "… revoked" among what was done, or why not.
fn revoked<T>(
    r: &std::result::Result<T, CallError>,
    what: String,
    kinds: &mut Map<String, Value>,
    done: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    match r {
        Ok(_) => {
            bump(kinds, "apps");
            done.push(format!("{what} revoked"));
        }
        Err(e) => problems.push(format!("{what} not revoked: {e}")),
    }
}

fn bump(kinds: &mut Map<String, Value>, k: &str) {
    let n = kinds.get(k).and_then(Value::as_u64).unwrap_or(0) + 1;
    kinds.insert(k.into(), json!(n));
}

fn is_last_factor(e: &ApiError) -> bool {
    e.is_status(400) && e.text().to_lowercase().contains("last first factor")
}

/// A trait value for a sentence: strings as they are (cleaned), others as JSON, absent as such.
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(absent)".into(),
        Some(Value::String(s)) => format!("{:?}", output::clean(s)),
        Some(other) => output::clean(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trait_paths_become_escaped_pointers() {
        assert_eq!(trait_pointer("email"), "/traits/email");
        assert_eq!(trait_pointer("name.first"), "/traits/name/first");
        assert_eq!(trait_pointer("a/b~c"), "/traits/a~1b~0c");
    }

    #[test]
    fn the_first_change_of_a_trait_in_the_window_wins() {
        let t = |s: i64| Timestamp::from_second(s).unwrap();
        let mut c = Changes::default();
        let ch = |before: &str, at, to: &str| TraitChange {
            path: "email".into(),
            before: Some(json!(before)),
            at,
            source: "email.changed",
            last_to: Some(json!(to)),
        };
        c.trait_changed(ch("a2@x", t(20), "a3@x"));
        c.trait_changed(ch("owner@x", t(10), "a1@x"));
        c.trait_changed(ch("a1@x", t(15), "a2@x"));
        assert_eq!(c.traits.len(), 1);
        assert_eq!(c.traits[0].before, Some(json!("owner@x")));
        assert_eq!(c.traits[0].at, t(10));
    }

    #[test]
    fn addresses_compare_without_case() {
        assert!(same_value(Some(&json!("A@X.org")), Some(&json!("a@x.org"))));
        assert!(!same_value(
            Some(&json!("a@x.org")),
            Some(&json!("b@x.org"))
        ));
        assert!(same_value(None, Some(&Value::Null)));
    }
}
