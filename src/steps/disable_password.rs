//! `disable-password`: make the current password stop working, on current Kratos and 1.3.x,
//! without changing anything else of the identity.
//!
//! Why PUT with a random password (reference §6–§8, §13.1–2, §13.11):
//! - PATCH on `/credentials/password…` is wrong on every version: 400 or a silent no-op on
//!   1.3.x, and on current Kratos it stores plaintext or wipes the hash without any check.
//! - `DELETE …/credentials/password` does not exist on 1.3.x (400) and refuses the last first
//!   factor on current Kratos, the usual case.
//! - PUT with `credentials.password.config.password` is hashed by Kratos and replaces the
//!   stored hash on every version. PUT replaces traits, metadata and external_id wholesale, so
//!   they are sent back exactly as read; other credentials are merged, not touched.
//!
//! The new secret is 256 random bits from the operating system's CSPRNG; it exists only in a
//! zeroed-on-drop buffer and in the request body, which is zeroed after sending. Nobody sees it.
//!
//! PUT is a read-modify-write with no ETag (§7), and `state` is required in its body: a `lock`
//! by another operator between the read and the PUT would be silently undone. The window is
//! narrowed to one round trip: right before the PUT, the identity is read again and the PUT is
//! not sent if its state, state change time or update time moved since the look (after a
//! confirmation on a terminal the whole look is made again). Whatever still races that round
//! trip is caught afterwards: a PUT that changed the state changes `state_changed_at`, and the
//! step then fails, naming the state to check.

use serde_json::{Map, Value, json};

use super::life::{Change, Cx, Plan, Target, Verdict, identity_error, look_identity};
use super::revoke::target_id;
use super::who;
use crate::error::{AppError, Result};
use crate::ids::IdentityRef;
use crate::journal::Record;
use crate::kratos::{Identity, PasswordState};
use crate::plan::{
    Acted, Call, Check, Checks, Fingerprint, Op, PASSWORD_POINTER, SecretBody, put_body,
    random_secret,
};

/// How long after a cut-off run's `started` entry its PUT can have landed: its guard read and
/// PUT, each with `--timeout` (at most an hour, default 10 s) and retries, come right after it.
const LANDED_WINDOW_SECS: i64 = 120;

/// `disable-password --identity`.
pub struct DisablePassword {
    pub identity: IdentityRef,
}

pub struct PasswordLook {
    identity: Identity,
    state: PasswordState,
}

impl Change for DisablePassword {
    type Look = PasswordLook;
    const STEP: &'static str = "disable-password";
    const WHAT: &'static str = "disable the password";

    fn identity(&self) -> Option<&IdentityRef> {
        Some(&self.identity)
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<PasswordLook> {
        let id = target_id(target)?;
        let identity = look_identity(cx, id).await?;
        let state = cx
            .kratos()?
            .password_state(id)
            .await
            .map_err(|e| identity_error(e, id))?;
        Ok(PasswordLook { identity, state })
    }

    fn assumed(&self, _: Option<&Target>) -> Option<PasswordLook> {
        let as_read = || Some(json!("<as read>"));
        Some(PasswordLook {
            identity: Identity {
                schema_id: Some("<as read>".into()),
                state: Some("<as read>".into()),
                traits: as_read(),
                metadata_public: as_read(),
                metadata_admin: as_read(),
                external_id: Some(json!("<as read, only if set>")),
                ..Identity::default()
            },
            state: PasswordState::Hash,
        })
    }

    fn plan(&self, _: &Cx<'_>, target: Option<&Target>, look: &PasswordLook) -> Result<Plan> {
        let id = target_id(target)?;
        let mut plan = Plan {
            identity: Some(id),
            label: who(Some(&look.identity), id),
            ..Plan::default()
        };
        plan.fact("password_state_before", look.state);
        if let Some(at) = look
            .identity
            .credential("password")
            .and_then(|c| c.updated_at())
        {
            plan.fact("password_updated_at_before", at);
        }
        if !look.state.usable() {
            let why = match look.state {
                PasswordState::NoCredential => "it has no password credential",
                _ => {
                    "its password credential holds no hash (an OIDC-only identity has an empty one)"
                }
            };
            plan.skip = Some(format!("no password to disable: {why}"));
            return Ok(plan);
        }
        // PUT requires `schema_id`, an object of `traits` and a valid `state` (OpenAPI
        // `updateIdentityBody`); an identity read without them cannot be sent back faithfully.
        let i = &look.identity;
        let missing: Vec<&str> = [
            (
                "schema_id",
                i.schema_id.as_deref().is_none_or(str::is_empty),
            ),
            ("traits", !matches!(i.traits, Some(Value::Object(_)))),
            (
                "state",
                !matches!(i.state.as_deref(), Some("active" | "inactive")),
            ),
        ]
        .into_iter()
        .filter_map(|(k, bad)| bad.then_some(k))
        .collect();
        // (The assumed identity of a dry run without a server has no id and placeholders.)
        if !missing.is_empty() && i.id.is_some() {
            return Err(AppError::failed(format!(
                "Kratos answered {} without a usable {}: a PUT built from it would not be what was read; nothing was sent",
                plan.label,
                missing.join(", ")
            )));
        }
        plan.fact(
            "method",
            "PUT /admin/identities/{id} with credentials.password.config.password (random 256-bit secret)",
        );
        plan.calls.push(
            Call::new(
                Op::Guard {
                    identity: id,
                    seen: Fingerprint::of(&look.identity),
                },
                "read it again right before the PUT: nothing is sent if it changed since the look (a lock by someone else would be undone)",
            )
            .required(),
        );
        plan.calls.push(Call::new(
            Op::PutIdentity {
                identity: id,
                body: SecretBody::new(put_body(&look.identity), PASSWORD_POINTER, random_secret()?),
            },
            "replace the hash with one of a random secret; everything else sent back as read",
        ));
        plan.checks.push(Check::Identity(id));
        plan.checks.push(Check::PasswordState(id));
        plan.question = format!(
            "Disable the password of {}? It is replaced by a random secret nobody knows; nothing else changes",
            plan.label
        );
        plan.notes.push(
            "sessions are not ended by this: run `atoctl revoke --identity` too; the owner sets a new password through `atoctl recover`".into(),
        );
        Ok(plan)
    }

    /// The PUT rewrites the password credential: if its update time moved since the cut-off
    /// run's look, that PUT (or the owner's own new password) is in place; a second PUT would
    /// only destroy the latter.
    fn landed(&self, started: &Record, look: &PasswordLook) -> Option<String> {
        let before = started
            .evidence
            .get("password_updated_at_before")
            .and_then(Value::as_str)?;
        let now = look.identity.credential("password")?.updated_at()?;
        // Rewritten, and then: right after the cut-off run began (its guard read and PUT
        // follow its `started` entry within a request timeout or two). A rewrite at any other
        // time is someone else's (an attacker with the stolen password): the PUT is sent again.
        let began: jiff::Timestamp = started.ts.parse().ok()?;
        let at: jiff::Timestamp = now.parse().ok()?;
        let window = jiff::SignedDuration::from_secs(LANDED_WINDOW_SECS);
        let in_window = at >= began.checked_sub(jiff::SignedDuration::from_secs(5)).ok()?
            && at <= began.checked_add(window).ok()?;
        (now != before && in_window).then(|| {
            format!(
                "the password credential was rewritten at {} (it was last updated at {} when that run looked)",
                crate::output::clean(now),
                crate::output::clean(before)
            )
        })
    }

    fn judge(&self, look: &PasswordLook, plan: &Plan, acted: &Acted, checks: &Checks) -> Verdict {
        let label = &plan.label;
        if let Some(e) = acted.first_failure() {
            let msg = acted.first_error().unwrap_or_default();
            let v = Verdict::new(
                false,
                format!("password not disabled: {msg}"),
                format!("the password of {label} was not disabled: {e}"),
            );
            return match e {
                crate::plan::CallError::Changed(_) => {
                    v.hint("nothing was sent; look at the identity (atoctl identity) and run disable-password again")
                }
                crate::plan::CallError::Api(a) if a.is_status(400) => v.hint(
                    "the identity's traits may no longer validate against its schema; nothing was changed",
                ),
                _ => v,
            };
        }
        let (after, state_after) = match (checks.identity(), checks.password_state()) {
            (Some(Ok(a)), Some(Ok(p))) => (a, p),
            (a, p) => {
                let why = [a.and_then(|r| r.err()), p.and_then(|r| r.err())]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ");
                return Verdict::new(
                    false,
                    format!("the PUT was accepted but could not be verified: {why}"),
                    format!(
                        "the password of {label} was replaced, but reading it back failed: {why}"
                    ),
                );
            }
        };
        let before = &look.identity;
        let pw_before = before
            .credential("password")
            .and_then(|c| c.updated_at())
            .map(str::to_string);
        let pw_after = after
            .credential("password")
            .and_then(|c| c.updated_at())
            .map(str::to_string);
        let changed = changed_fields(before, after);
        let rewritten = match (&pw_before, &pw_after) {
            (Some(b), Some(a)) => a != b,
            (None, Some(_)) => true,
            _ => false,
        };
        // The PUT sends the state as read: if the state changed anyway, someone changed it in
        // the round trip between the guard and the PUT, and the PUT undid it.
        let raced =
            Fingerprint::of(before).state_changed_at != Fingerprint::of(after).state_changed_at;
        let verified =
            changed.is_empty() && rewritten && state_after == PasswordState::Hash && !raced;
        let v = if verified {
            Verdict::new(
                true,
                "password replaced by a random secret; nothing else changed",
                "password disabled: replaced by a random secret nobody knows; traits, metadata, state and other credentials unchanged",
            )
        } else if raced {
            Verdict::new(
                false,
                "the identity's state changed while the password was replaced",
                format!(
                    "the password of {label} was replaced, but its state changed at the same moment (now {}): another change raced this one and may have been undone",
                    after.state_str()
                ),
            )
            .hint("check the identity (atoctl identity) and lock it again if it should be locked")
        } else if !changed.is_empty() {
            Verdict::new(
                false,
                format!(
                    "identity fields changed besides the password: {}",
                    changed.join(", ")
                ),
                format!(
                    "the password was replaced, but these changed too: {} (someone else edited the identity meanwhile?)",
                    changed.join(", ")
                ),
            )
        } else {
            Verdict::new(
                false,
                "the password credential does not show as rewritten",
                format!(
                    "Kratos accepted the PUT but the password credential of {label} does not show as rewritten"
                ),
            )
        };
        let others: Vec<String> = after
            .credential_types()
            .into_iter()
            .filter(|t| t != "password")
            .collect();
        let mut v = v
            .evidence("password_state_after", state_after)
            .evidence("password_updated_at_before", &pw_before)
            .evidence("password_updated_at_after", &pw_after)
            .evidence("credential_types", after.credential_types())
            .evidence(
                "unchanged",
                [
                    "schema_id",
                    "state",
                    "traits",
                    "metadata_public",
                    "metadata_admin",
                    "external_id",
                    "other credentials",
                    "addresses",
                ]
                .iter()
                .filter(|f| !changed.iter().any(|c| c.starts_with(*f)))
                .collect::<Vec<_>>(),
            )
            .evidence("changed", &changed);
        if verified && !others.is_empty() {
            v.notes.push(format!(
                "still enrolled: {} (left as they are: review them, an attacker may have added one; passkeys have no admin removal path)",
                others.join(", ")
            ));
        }
        v
    }
}

/// What differs between two reads, besides the password credential's timestamps.
pub fn changed_fields(before: &Identity, after: &Identity) -> Vec<String> {
    let (b, a) = (before.comparable(), after.comparable());
    let mut changed = Vec::new();
    let (Some(bo), Some(ao)) = (b.as_object(), a.as_object()) else {
        return vec!["identity".into()];
    };
    for (k, bv) in bo {
        let av = ao.get(k).unwrap_or(&Value::Null);
        if k == "credentials" {
            let empty = Map::new();
            let bc = bv.as_object().unwrap_or(&empty);
            let ac = av.as_object().unwrap_or(&empty);
            for t in bc
                .keys()
                .chain(ac.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                let (x, y) = (bc.get(t), ac.get(t));
                let differs = if t == "password" {
                    // version and identifiers of the password may be recomputed; its presence
                    // must not change.
                    x.is_some() != y.is_some()
                        || x.and_then(|v| v.get("identifiers"))
                            != y.and_then(|v| v.get("identifiers"))
                } else {
                    x != y
                };
                if differs {
                    changed.push(format!("credentials.{t}"));
                }
            }
        } else if bv != av {
            changed.push(k.clone());
        }
    }
    changed
}
