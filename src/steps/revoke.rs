//! `revoke`: end every session of an identity (and its OAuth2 grants, with Hydra), or one
//! session. `revoke --stdin` runs the first for many identities ([`super::bulk`]).
//!
//! `DELETE /admin/identities/{id}/sessions` hard-deletes every session row of the identity,
//! inactive and expired ones with their device rows (IP, user agent, location) included
//! (reference §4, `DeleteSessionsByIdentity`). So every row is listed and journaled (and the
//! journal fsynced) before the delete, and the sessions are listed again afterwards to prove
//! none is active. The delete answers 404 both for an unknown identity and for one without
//! sessions (§13.7): an empty listing is followed by a GET of the identity to tell the two
//! apart. Only the sessions that were live count as ended; the others are counted as deleted.
//!
//! Kratos sessions are not the only access (§13.13): with `--hydra-admin-url`, the subject's
//! OAuth2 consents are revoked (and with them their access and refresh tokens), each login
//! session they were granted in is logged out with back-channel logout (so relying parties end
//! theirs), and remembered logins are forgotten. [`Ending`] is that containment, shared with
//! `lock`.

use serde_json::{Value, json};

use super::life::{Change, Cx, Plan, Target, Verdict, list_sessions, look_identity};
use super::{count, sessions_snapshot, who, who_from_listing};
use crate::api::ApiError;
use crate::error::{AppError, Exit, Result};
use crate::hydra::{self, Consent};
use crate::ids::{IdentityId, IdentityRef, SessionId};
use crate::kratos::{DeleteSessions, Identity, Session, SessionListing};
use crate::plan::{Acted, Call, CallError, Check, Checks, Op, Performed, Service};

/// `revoke --identity`: every session and OAuth2 grant of one identity.
pub struct Revoke {
    pub identity: IdentityRef,
}

/// What revoke saw.
pub struct RevokeLook {
    pub ending: Ending,
    /// Read only when no session is listed: Kratos lists an unknown identity as `[]`.
    pub identity: Option<Identity>,
}

impl Change for Revoke {
    type Look = RevokeLook;
    const STEP: &'static str = "revoke";
    const WHAT: &'static str = "end sessions";

    fn identity(&self) -> Option<&IdentityRef> {
        Some(&self.identity)
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<RevokeLook> {
        let id = target_id(target)?;
        let all = list_sessions(cx, id, None).await?;
        let identity = if all.is_empty() {
            Some(look_identity(cx, id).await?)
        } else {
            None
        };
        let ending = Ending::look(cx, id, all, identity.as_ref()).await?;
        Ok(RevokeLook { ending, identity })
    }

    fn assumed(&self, _: Option<&Target>) -> Option<RevokeLook> {
        Some(RevokeLook {
            ending: Ending::assumed(),
            identity: None,
        })
    }

    fn plan(&self, cx: &Cx<'_>, target: Option<&Target>, look: &RevokeLook) -> Result<Plan> {
        let id = target_id(target)?;
        let mut plan = Plan {
            identity: Some(id),
            label: match &look.identity {
                Some(i) => who(Some(i), id),
                None => who_from_listing(&look.ending.all, id),
            },
            ..Plan::default()
        };
        if !cx.has_hydra() {
            plan.notes.push(hydra_reminder().into());
        }
        if look.ending.all.is_empty() && !cx.has_hydra() {
            plan.skip = Some("no sessions to end".into());
            return Ok(plan);
        }
        look.ending
            .plan(id, "before revoke", cx.has_hydra(), false, &mut plan);
        plan.question = format!(
            "End all {} of {}{}? (recorded in the journal first)",
            count(look.ending.all.sessions.len(), "session", "sessions"),
            plan.label,
            if cx.has_hydra() {
                " and revoke its OAuth2 consents, tokens and logins in Hydra"
            } else {
                ""
            }
        );
        Ok(plan)
    }

    fn preview(&self, look: &RevokeLook) -> Option<String> {
        look.ending.preview()
    }

    fn judge(&self, look: &RevokeLook, plan: &Plan, acted: &Acted, checks: &Checks) -> Verdict {
        let ended = look.ending.judge(&plan.calls, acted, checks);
        let message = if ended.verified {
            format!(
                "{}; verified none is active{}",
                ended.done_text(),
                ended.hydra_text()
            )
        } else {
            format!("{}: {}", plan.label, ended.problems.join("; "))
        };
        let mut v = Verdict::new(ended.verified, ended.summary(), message);
        if !ended.kratos_ok {
            v = v.hint("an attacker may have logged in again: lock the identity (atoctl lock) and revoke again");
        }
        ended.into_verdict(v)
    }
}

/// Kratos sessions are not the only access: what else outlives the revocation, when Hydra is
/// not configured.
pub fn hydra_reminder() -> &'static str {
    "OAuth2 tokens issued by Ory Hydra are not Kratos sessions and survive this; pass --hydra-admin-url (or revoke them with DELETE /admin/oauth2/auth/sessions/consent?subject=<identity>&all=true); JWT access tokens stay valid until they expire for servers that do not introspect them"
}

pub(super) fn target_id(target: Option<&Target>) -> Result<IdentityId> {
    target
        .map(|t| t.id)
        .ok_or_else(|| AppError::usage("give --identity"))
}

/// Ending every session and OAuth2 grant of an identity: what revoke does, and lock besides
/// setting the state.
pub struct Ending {
    /// Every session row (what the DELETE destroys).
    pub all: SessionListing,
    /// The ids of the sessions that were live in the database (ended by the DELETE).
    pub live: Vec<String>,
    /// The subject's OAuth2 consents, when Hydra is configured.
    pub consents: Option<Vec<Consent>>,
}

/// What an [`Ending`] achieved, read back.
pub struct Ended {
    pub sessions_ended: usize,
    pub sessions_deleted: usize,
    pub delete: Option<Result<DeleteSessions, String>>,
    pub still_active: Vec<String>,
    pub evidence_complete: bool,
    pub kratos_ok: bool,
    pub hydra: Option<Value>,
    pub hydra_ok: bool,
    pub verified: bool,
    pub problems: Vec<String>,
    pub session_ids: Vec<String>,
}

impl Ending {
    /// Reads what ending would touch, from the full listing already read. A session of an
    /// inactive identity is listed as not active although it would revive: then the
    /// database-level `active=true` filter tells which are live.
    pub async fn look(
        cx: &Cx<'_>,
        id: IdentityId,
        all: SessionListing,
        identity: Option<&Identity>,
    ) -> Result<Ending> {
        let inactive = identity.is_some_and(|i| !i.is_active())
            || all.sessions.iter().any(|s| {
                s.identity
                    .as_ref()
                    .and_then(|i| i.state.as_deref())
                    .is_some_and(|st| st != "active")
            });
        let live = if inactive && !all.is_empty() {
            list_sessions(cx, id, Some(true)).await?.ids()
        } else {
            all.sessions
                .iter()
                .filter(|s| s.active == Some(true))
                .map(|s| s.id.clone())
                .collect()
        };
        let consents = match cx.hydra()? {
            Some(h) => Some(
                h.list_consents(&id.to_string())
                    .await
                    .map_err(AppError::from)?,
            ),
            None => None,
        };
        Ok(Ending {
            all,
            live,
            consents,
        })
    }

    /// What a dry run without a server assumes: sessions, and consents when Hydra is set.
    pub fn assumed() -> Ending {
        Ending {
            all: SessionListing {
                cut_short: None,
                sessions: vec![Session::placeholder("<each session, as read>")],
                total: Some(1),
                complete: true,
                pages: 1,
            },
            live: vec!["<each session, as read>".into()],
            consents: None,
        }
    }

    /// The sessions about to end, as a table for a person asked to confirm.
    pub fn preview(&self) -> Option<String> {
        (!self.all.is_empty()).then(|| super::sessions_table(&self.all))
    }

    /// Adds the snapshot, the calls and the checks to `plan`. With `recheck` (lock, once the
    /// identity is inactive and no session can be created any more), the OAuth2 calls go
    /// first and the sessions are listed again right before the delete, which is not sent if a
    /// row appeared that the snapshot does not hold.
    pub fn plan(&self, id: IdentityId, purpose: &str, hydra: bool, recheck: bool, plan: &mut Plan) {
        if recheck {
            self.plan_hydra(id, hydra, plan);
        }
        if !self.all.is_empty() {
            plan.evidence
                .push(sessions_snapshot(id, &self.all, purpose));
            if self.all.complete {
                if recheck {
                    plan.calls.push(
                        Call::new(
                            Op::EnsureRecorded {
                                identity: id,
                                recorded: self.all.ids(),
                            },
                            "list again: the delete is sent only if every row it removes is recorded",
                        )
                        .required(),
                    );
                }
                plan.calls.push(Call::new(
                    Op::DeleteIdentitySessions(id),
                    "end every session (Kratos hard-deletes every session row and its devices, all recorded first; 404 = none left)",
                ));
            } else {
                // Rows that were not listed would be destroyed unrecorded: no hard delete. The
                // listed live sessions are disabled one by one (their rows stay), and the step
                // fails, saying so.
                for sid in self.live.iter().filter_map(|s| s.parse::<SessionId>().ok()) {
                    plan.calls.push(Call::new(
                        Op::DisableSession {
                            session: sid,
                            identity: id,
                        },
                        "disable this listed session (soft: the listing is incomplete, so nothing is hard-deleted)",
                    ));
                }
                plan.fact(
                    "listing_incomplete",
                    json!({"counted": self.all.total, "listed": self.all.sessions.len()}),
                );
                plan.notes.push(format!(
                    "Kratos counts {} sessions but listed only {}{}: atoctl hard-deletes no row it could not record, so it disables the listed live ones one by one and fails; lock the identity (an inactive identity's sessions cannot be used) and look into the listing",
                    self.all.total.unwrap_or_default(),
                    self.all.sessions.len(),
                    self.all
                        .cut_short
                        .as_deref()
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default()
                ));
                if let Some(w) = &self.all.cut_short {
                    plan.fact("listing_cut_short", w);
                }
            }
        }
        if !recheck {
            self.plan_hydra(id, hydra, plan);
        }
        plan.checks.push(Check::Sessions {
            identity: id,
            active: Some(true),
        });
        if hydra {
            plan.checks.push(Check::Consents(id));
        }
    }

    /// The OAuth2 calls: every consent (and its tokens), each login session by `sid`, the
    /// remembered logins.
    fn plan_hydra(&self, id: IdentityId, hydra: bool, plan: &mut Plan) {
        if !hydra {
            return;
        }
        {
            let consents = self.consents.clone().unwrap_or_default();
            if !consents.is_empty() || self.consents.is_none() {
                plan.calls.push(Call::new(
                    Op::RevokeAllConsents { subject: id },
                    "revoke every OAuth2 consent of the subject and with it its access and refresh tokens",
                ));
            }
            for sid in hydra::login_sessions(&consents) {
                plan.calls.push(Call::new(
                    Op::LogoutLoginSession { sid },
                    "log out the login session the consents were granted in (back-channel logout: relying parties end theirs)",
                ));
            }
            plan.calls.push(Call::new(
                Op::ForgetLogins { subject: id },
                "forget remembered OAuth2 logins (no new token without logging in)",
            ));
        }
    }

    /// Reads the act and the checks back.
    pub fn judge(&self, calls: &[Call], acted: &Acted, checks: &Checks) -> Ended {
        let mut problems = Vec::new();
        let delete = acted
            .outcomes(calls)
            .find(|(op, _)| matches!(op, Op::DeleteIdentitySessions(_)))
            .map(|(_, r)| match r {
                Ok(Performed::Deleted(d)) => Ok(*d),
                Ok(_) => Err("unexpected answer".to_string()),
                Err(e) => Err(e.to_string()),
            });
        if let Some(Err(e)) = &delete {
            problems.push(format!("ending the sessions failed: {e}"));
        }
        let unrecorded = acted.sent.iter().find_map(|(_, _, r)| match r {
            Err(e @ CallError::Unrecorded(_)) => Some(e.to_string()),
            _ => None,
        });
        if let Some(u) = &unrecorded {
            problems.push(format!("{u}: run the step again to record and end them"));
        }
        let (still_active, listing_ok) = match checks.sessions(Some(true)) {
            Some(Ok(after)) => (after.ids(), after.complete),
            Some(Err(e)) => {
                problems.push(format!("the sessions could not be listed again: {e}"));
                (Vec::new(), false)
            }
            None => (Vec::new(), true),
        };
        if !still_active.is_empty() {
            problems.push(format!(
                "{} still active afterwards: {}",
                count(still_active.len(), "session is", "sessions are"),
                still_active.join(", ")
            ));
        } else if !listing_ok {
            problems.push("the listing afterwards is incomplete".into());
        }
        let (mut disabled, mut disable_failed) = (0, false);
        for (op, r) in acted.outcomes(calls) {
            if let Op::DisableSession { .. } = op {
                if r.is_ok() {
                    disabled += 1;
                } else {
                    disable_failed = true;
                }
            }
        }
        if disable_failed {
            problems.push("disabling a listed session failed".into());
        }
        if !self.all.complete {
            problems.push(format!(
                "the listing was incomplete (Kratos counts {}, listed {}): the sessions never listed were not ended",
                self.all.total.unwrap_or_default(),
                self.all.sessions.len()
            ));
        }
        let kratos_ok = !matches!(delete, Some(Err(_)))
            && unrecorded.is_none()
            && !disable_failed
            && self.all.complete
            && still_active.is_empty()
            && listing_ok;
        let (hydra, hydra_ok) = self.judge_hydra(calls, acted, checks, &mut problems);
        // Only a delete that removed rows ended them (a 404 removed nothing).
        let deleted = matches!(delete, Some(Ok(DeleteSessions::Deleted)));
        Ended {
            sessions_ended: if deleted { self.live.len() } else { disabled },
            sessions_deleted: if deleted { self.all.sessions.len() } else { 0 },
            delete,
            still_active,
            evidence_complete: self.all.complete,
            kratos_ok,
            hydra,
            hydra_ok,
            verified: kratos_ok && hydra_ok,
            problems,
            session_ids: self.all.ids(),
        }
    }

    /// What Hydra did, as measured: consents gone from the listing, login sessions logged out
    /// (204 each), remembered logins forgotten (204), no consent left.
    fn judge_hydra(
        &self,
        calls: &[Call],
        acted: &Acted,
        checks: &Checks,
        problems: &mut Vec<String>,
    ) -> (Option<Value>, bool) {
        let Some(before) = &self.consents else {
            return (None, true);
        };
        let after = checks.consents();
        let left: Vec<&Consent> = match &after {
            Some(Ok(a)) => a.iter().collect(),
            _ => Vec::new(),
        };
        let revoked: Vec<&Consent> = before
            .iter()
            .filter(|c| {
                !left
                    .iter()
                    .any(|l| l.consent_request_id == c.consent_request_id)
            })
            .collect();
        let mut logged_out: Vec<&str> = Vec::new();
        let mut forgotten = false;
        let mut hydra_errors: Vec<String> = Vec::new();
        for ((op, r), (line, _, _)) in acted.outcomes(calls).zip(&acted.sent) {
            match (op, r) {
                (Op::LogoutLoginSession { sid }, Ok(_)) => logged_out.push(sid),
                (Op::ForgetLogins { .. }, Ok(_)) => forgotten = true,
                _ => {}
            }
            if let (Service::Hydra, Err(e)) = (line.service, r) {
                hydra_errors.push(format!("{} {}: {e}", line.method, line.path));
            }
        }
        let verified_after = matches!(&after, Some(Ok(a)) if a.is_empty());
        if let Some(Err(e)) = &after {
            problems.push(format!("Hydra's consents could not be listed again: {e}"));
        } else if !verified_after {
            problems.push(format!(
                "Hydra still lists {} afterwards",
                count(left.len(), "OAuth2 consent", "OAuth2 consents")
            ));
        }
        for e in &hydra_errors {
            problems.push(format!("Hydra: {e}"));
        }
        let ok = verified_after && hydra_errors.is_empty();
        // Measured only when the listing afterwards was read.
        let consents_revoked = matches!(&after, Some(Ok(_))).then_some(revoked.len());
        (
            Some(json!({
                "consents_before": before.len(),
                "consents_revoked": consents_revoked,
                "consents": before,
                "login_sessions_logged_out": logged_out,
                "remembered_logins_forgotten": forgotten,
                "verified_no_consent_left": verified_after,
                "errors": hydra_errors,
            })),
            ok,
        )
    }
}

impl Ended {
    /// "ended 3 sessions (4 rows deleted)".
    pub fn done_text(&self) -> String {
        let mut s = format!(
            "ended {}",
            count(self.sessions_ended, "session", "sessions")
        );
        if self.sessions_deleted > self.sessions_ended {
            s.push_str(&format!(
                " ({} deleted in all, every one recorded first)",
                count(self.sessions_deleted, "session row", "session rows")
            ));
        }
        s
    }

    pub fn hydra_text(&self) -> &'static str {
        match (&self.hydra, self.hydra_ok) {
            (Some(_), true) => {
                "; OAuth2 consents and their tokens revoked, login sessions logged out and remembered logins forgotten in Hydra"
            }
            _ => "",
        }
    }

    pub fn summary(&self) -> String {
        if self.verified {
            format!(
                "{}; none active afterwards{}",
                self.done_text(),
                self.hydra_text()
            )
        } else {
            format!("{}; {}", self.done_text(), self.problems.join("; "))
        }
    }

    /// The evidence every ending records, the same for revoke and lock.
    pub fn into_verdict(self, v: Verdict) -> Verdict {
        let mut v = v
            .evidence("sessions_ended", self.sessions_ended)
            .evidence("sessions_deleted", self.sessions_deleted)
            .evidence("session_ids", &self.session_ids)
            .evidence("evidence_complete", self.evidence_complete)
            .output("sessions_ended", self.sessions_ended);
        if let Some(d) = &self.delete {
            v = v.evidence(
                "delete_answer",
                match d {
                    Ok(DeleteSessions::Deleted) => "204 deleted",
                    Ok(DeleteSessions::NothingToDelete) => "404 nothing left to delete",
                    Err(_) => "failed",
                },
            );
        }
        if !self.still_active.is_empty() {
            v = v.evidence("still_active", &self.still_active);
        }
        if let Some(h) = self.hydra {
            v = v.evidence("hydra", h);
        }
        v
    }
}

/// `revoke --session`: one session, soft (Kratos keeps the row and its devices).
pub struct RevokeSession {
    pub session: SessionId,
    /// The identity it must belong to, when given.
    pub identity: Option<IdentityRef>,
}

pub struct SessionLook {
    session: Session,
    owner: IdentityId,
    /// Live in the database (a locked identity's sessions are listed as not active, yet
    /// unlocking would revive them).
    live: bool,
}

impl Change for RevokeSession {
    type Look = SessionLook;
    const STEP: &'static str = "revoke";
    const WHAT: &'static str = "end a session";

    fn identity(&self) -> Option<&IdentityRef> {
        self.identity.as_ref()
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<SessionLook> {
        let sid = self.session;
        let session = cx
            .kratos()?
            .get_session(sid)
            .await
            .map_err(|e| session_error(e, sid))?;
        let owner = session
            .identity_id()
            .and_then(|s| s.parse::<IdentityId>().ok())
            .ok_or_else(|| {
                AppError::failed(format!(
                    "Kratos did not say which identity session {sid} belongs to"
                ))
            })?;
        if let Some(t) = target
            && t.id != owner
        {
            return Err(AppError::usage(format!(
                "session {sid} belongs to identity {owner}, not {}; nothing was changed",
                t.id
            )));
        }
        // `active` in the session is computed and false for a locked identity's sessions,
        // which unlocking would revive: ask the database-level filter instead.
        let live = list_sessions(cx, owner, Some(true))
            .await?
            .sessions
            .iter()
            .any(|s| s.id.eq_ignore_ascii_case(&sid.to_string()));
        Ok(SessionLook {
            session,
            owner,
            live,
        })
    }

    fn assumed(&self, target: Option<&Target>) -> Option<SessionLook> {
        Some(SessionLook {
            session: Session::placeholder(&self.session.to_string()),
            owner: target
                .map(|t| t.id)
                .unwrap_or(IdentityId(uuid::Uuid::nil())),
            live: true,
        })
    }

    fn plan(&self, _: &Cx<'_>, _: Option<&Target>, look: &SessionLook) -> Result<Plan> {
        let sid = self.session;
        let listing = SessionListing {
            cut_short: None,
            sessions: vec![look.session.clone()],
            total: Some(1),
            complete: true,
            pages: 1,
        };
        let mut plan = Plan {
            identity: Some(look.owner),
            label: who_from_listing(&listing, look.owner),
            ..Plan::default()
        };
        plan.fact("scope", "session");
        plan.fact("session", sid);
        plan.notes.push(hydra_reminder().into());
        if !look.live {
            plan.skip = Some(format!("session {sid} is not active"));
            return Ok(plan);
        }
        plan.evidence.push(sessions_snapshot(
            look.owner,
            &listing,
            "before revoking one session",
        ));
        plan.calls.push(Call::new(
            Op::DisableSession {
                session: sid,
                identity: look.owner,
            },
            "disable the session (soft: the row and its devices stay as evidence)",
        ));
        plan.checks.push(Check::Sessions {
            identity: look.owner,
            active: Some(true),
        });
        plan.question = format!("End session {sid} of {}?", plan.label);
        Ok(plan)
    }

    fn judge(&self, _: &SessionLook, _: &Plan, acted: &Acted, checks: &Checks) -> Verdict {
        let sid = self.session.to_string();
        let still = match checks.sessions(Some(true)) {
            Some(Ok(after)) => {
                !after.complete
                    || after
                        .sessions
                        .iter()
                        .any(|s| s.id.eq_ignore_ascii_case(&sid))
            }
            _ => true,
        };
        let verified = acted.all_ok() && !still;
        let v = if verified {
            Verdict::new(
                true,
                format!("disabled session {sid}"),
                format!("session {sid} disabled (kept in Kratos as evidence)"),
            )
        } else if let Some(e) = acted.first_error() {
            let gone =
                matches!(acted.first_failure(), Some(CallError::Api(a)) if a.is_kratos_not_found());
            let mut v = Verdict::new(
                false,
                format!("session {sid} not disabled: {e}"),
                if gone {
                    format!("session {sid} no longer exists in Kratos")
                } else {
                    e
                },
            );
            if gone {
                v.exit = Exit::NotFound;
            }
            v
        } else {
            Verdict::new(
                false,
                format!("session {sid} still listed as active after disabling it"),
                format!("session {sid} is still active after DELETE /admin/sessions/{sid}"),
            )
        };
        v.evidence("soft", true)
            .evidence("session_ids", [&sid])
            .evidence("sessions_ended", usize::from(verified))
            .output("sessions_ended", usize::from(verified))
    }
}

/// Only Kratos's own 404 means the session does not exist (exit 3).
fn session_error(e: ApiError, sid: SessionId) -> AppError {
    if e.is_kratos_not_found() {
        AppError::not_found(format!("session {sid} does not exist in Kratos")).caused_by(e)
    } else {
        AppError::from(e)
    }
}
