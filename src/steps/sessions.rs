//! `sessions --identity`: every session with its devices. Read-only; recorded when a journal
//! is set.

use serde_json::json;

use super::{
    Recorder, list_sessions, listing_json, look_identity, sessions_snapshot, who_from_listing,
};
use crate::cli::SessionsArgs;
use crate::context::{Ctx, parse_uuid};
use crate::error::{Exit, Result};
use crate::kratos::paths;
use crate::output;
use crate::plan::Plan;

pub async fn run(ctx: &Ctx, a: &SessionsArgs) -> Result<Exit> {
    ctx.reject_ids_output("sessions")?;
    let id = parse_uuid(&a.identity, "--identity")?;
    let active = a.active.then_some(true);
    if ctx.dry_run() {
        let mut p = Plan::new("sessions");
        p.request(
            ctx,
            "GET",
            &paths::identity_sessions(&id, active, crate::kratos::SESSION_PAGE_SIZE, None),
            None,
            "list every session with devices (more pages by offset only if X-Total-Count says so)",
        )
        .request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "only if no session is listed: tell an unknown identity (404) from one without sessions",
        );
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    let k = ctx.kratos()?;
    let listing = list_sessions(&k, &id, active).await?;
    let label = if listing.sessions.is_empty() {
        // Kratos lists an unknown identity's sessions as 200 [] (reference §3).
        let ident = look_identity(&k, &id).await?;
        super::who(Some(&ident), &id)
    } else {
        who_from_listing(&listing, &id)
    };
    if !listing.complete {
        output::warn(&format!(
            "Kratos counts {} sessions but listed {} distinct ones: this listing is incomplete",
            listing.total.unwrap_or_default(),
            listing.sessions.len()
        ));
    }
    if ctx.args.incident.is_some() {
        let rec = Recorder::open(ctx, Some(&id), "sessions")?;
        rec.record(vec![sessions_snapshot(&id, &listing, "on request")])
            .await?;
    }
    if ctx.json() {
        let mut doc = listing_json(&listing);
        doc["identity"] = json!(id);
        output::print_json(&doc)?;
    } else if listing.sessions.is_empty() {
        output::line(&format!("{label} has no sessions"));
    } else {
        output::line(&format!(
            "{} session(s) of {label}{}:",
            listing.sessions.len(),
            if a.active { " (active only)" } else { "" }
        ));
        output::line(&super::sessions_table(&listing));
        output::line(
            "devices are recorded at login, step-up and recovery, not per request; IPs can be spoofed behind a permissive proxy",
        );
    }
    Ok(Exit::Ok)
}
