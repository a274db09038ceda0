//! `lock` and `unlock`.
//!
//! `state: inactive` refuses new sessions but deletes none: existing sessions stay in the
//! database, hidden only while the identity is inactive, and come back to life when it is
//! reactivated, an attacker's included (reference §10, §13.6). So `lock` sets the state AND
//! ends the sessions (and, with Hydra, the OAuth2 grants), and `unlock` ends any session that
//! would revive before it sets the state back, then checks that none did.
//!
//! `lock` ends the sessions and grants whatever the state change answers: a failed PATCH must
//! not leave the attacker's sessions running. It then exits 1 saying exactly what holds.

use super::life::{Change, Cx, Plan, Target, Verdict, list_sessions, look_identity};
use super::revoke::{Ending, hydra_reminder, target_id};
use super::{count, sessions_snapshot, who};
use crate::error::Result;
use crate::ids::IdentityRef;
use crate::kratos::{Identity, SessionListing};
use crate::plan::{Acted, Call, Check, Checks, Op, Performed};

pub struct Lock {
    pub identity: IdentityRef,
}

pub struct LockLook {
    identity: Identity,
    ending: Ending,
}

impl Change for Lock {
    type Look = LockLook;
    const STEP: &'static str = "lock";
    const WHAT: &'static str = "lock the identity";

    fn identity(&self) -> Option<&IdentityRef> {
        Some(&self.identity)
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<LockLook> {
        let id = target_id(target)?;
        let identity = look_identity(cx, id).await?;
        let all = list_sessions(cx, id, None).await?;
        let ending = Ending::look(cx, id, all, Some(&identity)).await?;
        Ok(LockLook { identity, ending })
    }

    fn assumed(&self, _: Option<&Target>) -> Option<LockLook> {
        Some(LockLook {
            identity: Identity {
                state: Some("active".into()),
                ..Identity::default()
            },
            ending: Ending::assumed(),
        })
    }

    fn plan(&self, cx: &Cx<'_>, target: Option<&Target>, look: &LockLook) -> Result<Plan> {
        let id = target_id(target)?;
        let was_active = look.identity.is_active();
        let mut plan = Plan {
            identity: Some(id),
            label: who(Some(&look.identity), id),
            ..Plan::default()
        };
        plan.fact("state_before", look.identity.state_str());
        if !cx.has_hydra() {
            plan.notes.push(hydra_reminder().into());
        }
        if !was_active && look.ending.all.is_empty() && !cx.has_hydra() {
            plan.skip = Some("already inactive, and it has no sessions".into());
            return Ok(plan);
        }
        if was_active {
            plan.calls.push(Call::new(
                Op::PatchState {
                    identity: id,
                    state: "inactive",
                },
                "refuse new logins, recovery and verification (the sessions are ended next whatever this answers)",
            ));
        }
        // Once the identity is inactive no session can be created: the sessions are listed
        // again right before the delete, so that every row it removes is recorded.
        look.ending
            .plan(id, "before lock", cx.has_hydra(), was_active, &mut plan);
        plan.checks.insert(0, Check::Identity(id));
        plan.question = format!(
            "Lock {}: set it inactive{} and end its {}{}?",
            plan.label,
            if was_active { "" } else { " (it already is)" },
            count(look.ending.all.sessions.len(), "session", "sessions"),
            if cx.has_hydra() {
                ", OAuth2 consents, tokens and logins"
            } else {
                ""
            }
        );
        Ok(plan)
    }

    fn preview(&self, look: &LockLook) -> Option<String> {
        look.ending.preview()
    }

    fn judge(&self, look: &LockLook, plan: &Plan, acted: &Acted, checks: &Checks) -> Verdict {
        let ended = look.ending.judge(&plan.calls, acted, checks);
        let patch_error = acted
            .outcomes(&plan.calls)
            .find(|(op, _)| matches!(op, Op::PatchState { .. }))
            .and_then(|(_, r)| r.as_ref().err().map(|e| e.to_string()));
        let after = checks.identity();
        let state_after = match &after {
            Some(Ok(i)) => i.state_str().to_string(),
            _ => "unknown".to_string(),
        };
        let inactive = matches!(&after, Some(Ok(i)) if !i.is_active());
        let verified = inactive && ended.verified;
        let label = &plan.label;
        let (summary, message) = if verified {
            (
                format!(
                    "state {} → {state_after}; {}",
                    look.identity.state_str(),
                    ended.done_text()
                ),
                format!(
                    "locked: inactive, {}{}; new logins, recovery and verification are refused until `atoctl unlock`",
                    ended.done_text(),
                    ended.hydra_text()
                ),
            )
        } else if let Some(e) = &patch_error {
            let held = if ended.verified {
                format!("{}{}", ended.done_text(), ended.hydra_text())
            } else {
                ended.problems.join("; ")
            };
            (
                format!("setting the state failed: {e}; {held}"),
                format!(
                    "{label} could NOT be set inactive ({e}): new logins are still possible; what holds: {held}"
                ),
            )
        } else {
            let mut problems = ended.problems.clone();
            if !inactive {
                problems.insert(0, format!("the identity is {state_after} after the lock"));
            }
            (
                format!("lock incomplete: {}", problems.join("; ")),
                format!("{label} is not fully locked: {}", problems.join("; ")),
            )
        };
        let v = Verdict::new(verified, summary, message)
            .evidence("state_after", &state_after)
            .evidence(
                "state_changed_at",
                match &after {
                    Some(Ok(i)) => i.extra.get("state_changed_at").cloned(),
                    _ => None,
                },
            );
        let v = if verified {
            v
        } else if patch_error.is_some() {
            v.hint("run `atoctl lock` again; until it holds, nothing stops a new login")
        } else {
            v.hint("run `atoctl revoke --identity` before anyone unlocks it")
        };
        ended.into_verdict(v)
    }
}

pub struct Unlock {
    pub identity: IdentityRef,
}

pub struct UnlockLook {
    identity: Identity,
    /// Every session row: what a DELETE would destroy, all recorded first.
    all: SessionListing,
    /// Sessions still live in the database, hidden only by the identity's state: they would
    /// come back to life.
    revivable: Vec<String>,
}

impl Change for Unlock {
    type Look = UnlockLook;
    const STEP: &'static str = "unlock";
    const WHAT: &'static str = "unlock the identity";

    fn identity(&self) -> Option<&IdentityRef> {
        Some(&self.identity)
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<UnlockLook> {
        let id = target_id(target)?;
        let identity = look_identity(cx, id).await?;
        if identity.is_active() {
            return Ok(UnlockLook {
                identity,
                all: SessionListing {
                    cut_short: None,
                    sessions: vec![],
                    total: None,
                    complete: true,
                    pages: 0,
                },
                revivable: vec![],
            });
        }
        let all = list_sessions(cx, id, None).await?;
        // The database-level filter: sessions still marked active and unexpired.
        let revivable = if all.is_empty() {
            vec![]
        } else {
            list_sessions(cx, id, Some(true)).await?.ids()
        };
        Ok(UnlockLook {
            identity,
            all,
            revivable,
        })
    }

    fn assumed(&self, _: Option<&Target>) -> Option<UnlockLook> {
        let e = Ending::assumed();
        Some(UnlockLook {
            identity: Identity {
                state: Some("inactive".into()),
                ..Identity::default()
            },
            revivable: e.live,
            all: e.all,
        })
    }

    fn plan(&self, _: &Cx<'_>, target: Option<&Target>, look: &UnlockLook) -> Result<Plan> {
        let id = target_id(target)?;
        let mut plan = Plan {
            identity: Some(id),
            label: who(Some(&look.identity), id),
            ..Plan::default()
        };
        plan.fact("state_before", look.identity.state_str());
        if look.identity.is_active() {
            plan.skip = Some("already active: nothing to unlock".into());
            return Ok(plan);
        }
        if !look.revivable.is_empty() {
            // The DELETE removes every row, not only the revivable ones: all are recorded.
            plan.evidence.push(sessions_snapshot(
                id,
                &look.all,
                "before unlock (the delete removes every session row; the live ones would revive)",
            ));
            plan.calls.push(
                Call::new(
                    Op::DeleteIdentitySessions(id),
                    "end the sessions that would come back to life (Kratos deletes every row, all recorded first)",
                )
                .required(),
            );
        }
        plan.calls.push(Call::new(
            Op::PatchState {
                identity: id,
                state: "active",
            },
            "allow logins again",
        ));
        plan.checks.push(Check::Identity(id));
        plan.checks.push(Check::Sessions {
            identity: id,
            active: Some(true),
        });
        plan.question = if look.revivable.is_empty() {
            format!("Unlock {} (set it active)?", plan.label)
        } else {
            format!(
                "Unlock {}? {} would come back to life: they are ended first",
                plan.label,
                count(look.revivable.len(), "session", "sessions")
            )
        };
        Ok(plan)
    }

    fn preview(&self, look: &UnlockLook) -> Option<String> {
        (!look.revivable.is_empty()).then(|| super::sessions_table(&look.all))
    }

    fn judge(&self, look: &UnlockLook, plan: &Plan, acted: &Acted, checks: &Checks) -> Verdict {
        let after = checks.identity();
        let state_after = match &after {
            Some(Ok(i)) => i.state_str().to_string(),
            _ => "unknown".to_string(),
        };
        let active = matches!(&after, Some(Ok(i)) if i.is_active());
        let live: Vec<String> = match checks.sessions(Some(true)) {
            Some(Ok(l)) if l.complete => l.ids(),
            Some(Ok(l)) => {
                let mut ids = l.ids();
                ids.push("(listing incomplete)".into());
                ids
            }
            _ => vec!["(could not list)".into()],
        };
        let deleted = acted
            .results(|p| match p {
                Performed::Deleted(_) => Some(()),
                _ => None,
            })
            .count()
            > 0;
        let verified = acted.all_ok() && active && live.is_empty();
        let before = look.identity.state_str();
        let v = if verified {
            Verdict::new(
                true,
                format!("state {before} → {state_after}; no session came back"),
                "unlocked: active again, and no old session came back",
            )
        } else if let Some(e) = acted.first_error() {
            Verdict::new(
                false,
                format!("unlock failed: {e}"),
                format!("{} was not unlocked: {e}", plan.label),
            )
            .hint(
                "nothing that would revive a session was left: fix the cause and run unlock again",
            )
        } else {
            Verdict::new(
                false,
                format!(
                    "state {before} → {state_after}; {} active after unlocking",
                    count(live.len(), "session", "sessions")
                ),
                format!(
                    "{} is {state_after} and has {} after unlocking",
                    plan.label,
                    count(live.len(), "active session", "active sessions")
                ),
            )
            .hint("run `atoctl revoke --identity` now")
        };
        v.evidence("state_after", &state_after)
            .evidence(
                "revived_sessions_ended_first",
                if deleted { look.revivable.len() } else { 0 },
            )
            .evidence(
                "sessions_deleted",
                if deleted { look.all.sessions.len() } else { 0 },
            )
            .evidence("session_ids", if deleted { look.all.ids() } else { vec![] })
            .evidence("active_sessions_after", &live)
    }
}
