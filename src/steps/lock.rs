//! `lock` and `unlock`.
//!
//! `state: inactive` refuses new sessions but deletes none: existing sessions stay in the
//! database, hidden only while the identity is inactive, and come back to life when it is
//! reactivated, an attacker's included (reference §10, §13.6). So `lock` sets the state AND
//! ends the sessions, and `unlock` ends any session that would revive before it sets the
//! state back, then checks that none did.

use super::revoke::{end_all, plan_hydra, revoke_hydra};
use super::{Recorder, list_sessions, look_identity, who};
use crate::cli::IdentityArgs;
use crate::context::{Ctx, parse_uuid};
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::kratos::{self, paths};
use crate::plan::Plan;

pub async fn lock(ctx: &Ctx, a: &IdentityArgs) -> Result<Exit> {
    ctx.reject_ids_output("lock")?;
    let id = parse_uuid(&a.identity, "--identity")?;
    if ctx.dry_run() {
        let mut p = Plan::new("lock");
        p.request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "look: does it exist, is it active?",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_sessions(&id, None, kratos::SESSION_PAGE_SIZE, None),
            None,
            "snapshot every session and device (journaled before anything is deleted)",
        )
        .request(
            ctx,
            "PATCH",
            &paths::identity(&id),
            Some(paths::patch_state("inactive")),
            "refuse new logins (skipped if already inactive)",
        )
        .request(
            ctx,
            "DELETE",
            &paths::identity_sessions_delete(&id),
            None,
            "end every session: inactive alone logs nobody out (skipped if there are none)",
        )
        .request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "verify: state is inactive",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_sessions(&id, Some(true), kratos::SESSION_PAGE_SIZE, None),
            None,
            "verify: no session left that unlocking would revive",
        );
        plan_hydra(ctx, &mut p, &id);
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("lock the identity")?;
    let k = ctx.kratos()?;
    let h = ctx.hydra()?;
    let before = look_identity(&k, &id).await?;
    let label = who(Some(&before), &id);
    let listing = list_sessions(&k, &id, None).await?;
    let was_active = before.is_active();
    if !was_active && listing.sessions.is_empty() && h.is_none() {
        let rec = Recorder::open(ctx, Some(&id), "lock")?;
        rec.record(vec![
            Entry::new("lock", Some(&id), Outcome::Skipped)
                .with("summary", "already inactive with no sessions")
                .with("state_before", before.state_str()),
        ])
        .await?;
        return super::finish(
            ctx,
            &label,
            &id,
            "skipped",
            "already locked, and it has no sessions",
            &rec.path,
        );
    }
    ctx.confirm(&format!(
        "Lock {label}: set it inactive{} and end its {} session(s)?",
        if was_active { "" } else { " (it already is)" },
        listing.sessions.len()
    ))?;
    let rec = Recorder::open(ctx, Some(&id), "lock")?;
    let fail = |rec: &Recorder, msg: String| {
        let e = Entry::new("lock", Some(&id), Outcome::Failed)
            .with("summary", format!("lock failed: {msg}"))
            .with("state_before", before.state_str())
            .with("error", msg.clone());
        let rec_writer = rec.writer.clone();
        async move {
            let _ = rec_writer.append(vec![e]).await;
        }
    };
    if was_active && let Err(e) = k.patch_identity(&id, &paths::patch_state("inactive")).await {
        let err = super::identity_error(e, &id);
        fail(&rec, err.message.clone()).await;
        return Err(err);
    }
    let ended = if listing.sessions.is_empty() {
        None
    } else {
        match end_all(&k, &rec, &id, &listing, "before lock").await {
            Ok(d) => Some(d),
            Err(err) => {
                fail(
                    &rec,
                    format!(
                        "identity set inactive, but ending its sessions failed: {}",
                        err.message
                    ),
                )
                .await;
                return Err(AppError::failed(format!(
                    "{label} is inactive but its sessions were not ended: {}",
                    err.message
                ))
                .with_hint("run `atoctl revoke --identity` before anyone unlocks it"));
            }
        }
    };
    // Verify from a fresh read, not from the PATCH answer.
    let after = look_identity(&k, &id).await?;
    let live = list_sessions(&k, &id, Some(true)).await?;
    let mut e = Entry::new("lock", Some(&id), Outcome::Ok);
    let hydra = revoke_hydra(h.as_ref(), &id, &mut e).await;
    let verified = !after.is_active()
        && live.complete
        && live.sessions.is_empty()
        && matches!(hydra, Ok(true));
    e.outcome = if verified {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    let mut e = e
        .with(
            "summary",
            format!(
                "state {} → {}; {} session(s) ended",
                before.state_str(),
                after.state_str(),
                ended.as_ref().map(|d| d.ended.len()).unwrap_or(0)
            ),
        )
        .with("state_before", before.state_str())
        .with("state_after", after.state_str())
        .with("state_changed_at", after.extra.get("state_changed_at"))
        .with("verified", verified);
    match &ended {
        Some(d) => d.put_evidence(&mut e),
        None => e.put("sessions_ended", 0),
    }
    rec.record(vec![e]).await?;
    if let Err(m) = hydra {
        return Err(AppError::failed(format!(
            "{label} is locked and its sessions ended, but {m}"
        )));
    }
    if !verified {
        return Err(AppError::failed(format!(
            "after locking, {label} is {} with {} session(s) Kratos still counts as live (or Hydra consents left)",
            after.state_str(),
            live.sessions.len()
        )));
    }
    super::finish(
        ctx,
        &label,
        &id,
        "ok",
        &format!(
            "locked: inactive, {} session(s) ended; new logins, recovery and verification are refused until `atoctl unlock`",
            ended.as_ref().map(|d| d.ended.len()).unwrap_or(0)
        ),
        &rec.path,
    )
}

pub async fn unlock(ctx: &Ctx, a: &IdentityArgs) -> Result<Exit> {
    ctx.reject_ids_output("unlock")?;
    let id = parse_uuid(&a.identity, "--identity")?;
    if ctx.dry_run() {
        let mut p = Plan::new("unlock");
        p.request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "look: does it exist, is it inactive?",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_sessions(&id, Some(true), kratos::SESSION_PAGE_SIZE, None),
            None,
            "sessions that would come back to life when the identity is active again",
        )
        .request(
            ctx,
            "DELETE",
            &paths::identity_sessions_delete(&id),
            None,
            "only if there are any: end them first (snapshot journaled before)",
        )
        .request(
            ctx,
            "PATCH",
            &paths::identity(&id),
            Some(paths::patch_state("active")),
            "allow logins again",
        )
        .request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "verify: state is active",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_sessions(&id, Some(true), kratos::SESSION_PAGE_SIZE, None),
            None,
            "verify: no session came back",
        );
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("unlock the identity")?;
    let k = ctx.kratos()?;
    let before = look_identity(&k, &id).await?;
    let label = who(Some(&before), &id);
    if before.is_active() {
        let rec = Recorder::open(ctx, Some(&id), "unlock")?;
        rec.record(vec![
            Entry::new("unlock", Some(&id), Outcome::Skipped)
                .with("summary", "already active")
                .with("state_before", before.state_str()),
        ])
        .await?;
        return super::finish(
            ctx,
            &label,
            &id,
            "skipped",
            "already active: nothing to unlock",
            &rec.path,
        );
    }
    // The database-level filter: sessions still marked active and unexpired, hidden only by
    // the identity's state.
    let revivable = list_sessions(&k, &id, Some(true)).await?;
    ctx.confirm(&if revivable.sessions.is_empty() {
        format!("Unlock {label} (set it active)?")
    } else {
        format!(
            "Unlock {label}? {} session(s) would come back to life: they are ended first",
            revivable.sessions.len()
        )
    })?;
    let rec = Recorder::open(ctx, Some(&id), "unlock")?;
    let ended = if revivable.sessions.is_empty() {
        None
    } else {
        Some(
            end_all(
                &k,
                &rec,
                &id,
                &revivable,
                "before unlock (they would revive)",
            )
            .await?,
        )
    };
    if let Err(e) = k.patch_identity(&id, &paths::patch_state("active")).await {
        let err = super::identity_error(e, &id);
        let _ = rec
            .record(vec![
                Entry::new("unlock", Some(&id), Outcome::Failed)
                    .with("summary", format!("unlock failed: {}", err.message))
                    .with("error", &err.message),
            ])
            .await;
        return Err(err);
    }
    let after = look_identity(&k, &id).await?;
    let live = list_sessions(&k, &id, Some(true)).await?;
    let verified = after.is_active() && live.complete && live.sessions.is_empty();
    let mut e = Entry::new(
        "unlock",
        Some(&id),
        if verified {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
    )
    .with(
        "summary",
        if verified {
            format!(
                "state {} → {}; no session came back",
                before.state_str(),
                after.state_str()
            )
        } else {
            format!(
                "state {} → {}; {} session(s) active after unlocking",
                before.state_str(),
                after.state_str(),
                live.sessions.len()
            )
        },
    )
    .with("state_before", before.state_str())
    .with("state_after", after.state_str())
    .with(
        "revived_sessions_ended_first",
        ended.as_ref().map(|d| d.ended.len()).unwrap_or(0),
    )
    .with(
        "active_sessions_after",
        live.sessions
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>(),
    )
    .with("verified", verified);
    if let Some(d) = &ended {
        d.put_evidence(&mut e);
    }
    rec.record(vec![e]).await?;
    if !verified {
        return Err(AppError::failed(format!(
            "{label} is {} and has {} active session(s) after unlocking",
            after.state_str(),
            live.sessions.len()
        ))
        .with_hint("run `atoctl revoke --identity` now"));
    }
    super::finish(
        ctx,
        &label,
        &id,
        "ok",
        "unlocked: active again, and no old session came back",
        &rec.path,
    )
}
