//! `sessions --identity`: every session with its devices. Read-only; recorded when a journal
//! is set.

use serde_json::json;

use super::life::{Cx, list_sessions, look_identity, resolve};
use super::{Recorder, count, listing_json, sessions_snapshot, who, who_from_listing};
use crate::cli::SessionsArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::kratos::paths;
use crate::output;

pub async fn run(ctx: &Ctx, a: &SessionsArgs) -> Result<Exit> {
    ctx.reject_ids_output("sessions")?;
    let active = a.active.then_some(true);
    if ctx.dry_run() {
        let base = ctx.kratos_base_for_plan();
        output::line("dry run of `sessions`: it only reads; atoctl would send:");
        output::line(&format!(
            "  GET {base}{}",
            match &a.identity {
                crate::ids::IdentityRef::Id(id) =>
                    paths::identity_sessions(*id, active, crate::kratos::SESSION_PAGE_SIZE, None),
                crate::ids::IdentityRef::Identifier(i) => format!(
                    "{} (then the sessions of the identity found)",
                    paths::identities_by_identifier(i)
                ),
            }
        ));
        return Ok(Exit::Ok);
    }
    let cx = Cx::new(ctx, None, 8)?;
    let target = resolve(&cx, Some(&a.identity))
        .await?
        .ok_or_else(|| AppError::usage("give --identity"))?;
    let id = target.id;
    let listing = list_sessions(&cx, id, active).await?;
    let label = if listing.sessions.is_empty() {
        // Kratos lists an unknown identity's sessions as 200 [] (reference §3).
        let ident = look_identity(&cx, id).await?;
        who(Some(&ident), id)
    } else {
        who_from_listing(&listing, id)
    };
    if !listing.complete {
        output::warn(&match &listing.cut_short {
            Some(why) => format!(
                "this listing is incomplete: {why} (Kratos counts {} sessions)",
                listing.total.unwrap_or_default()
            ),
            None => format!(
                "Kratos counts {} sessions but listed {} distinct ones: this listing is incomplete",
                listing.total.unwrap_or_default(),
                listing.sessions.len()
            ),
        });
    }
    if ctx.args.incident.is_some() {
        let rec = Recorder::open(ctx, Some(&id.to_string()), "sessions")?;
        let mut e = sessions_snapshot(id, &listing, "on request");
        target.record(&mut e);
        rec.record(vec![e]).await?;
    }
    if ctx.json() {
        let mut doc = listing_json(&listing);
        doc["identity"] = json!(id);
        output::print_json(&doc)?;
    } else if listing.sessions.is_empty() {
        output::line(&format!("{label} has no sessions"));
    } else {
        output::line(&format!(
            "{} of {label}{}:",
            count(listing.sessions.len(), "session", "sessions"),
            if a.active { " (active only)" } else { "" }
        ));
        output::line(&super::sessions_table(&listing));
        output::line(
            "devices are recorded at login, step-up and recovery, not per request; IPs can be spoofed behind a permissive proxy",
        );
    }
    Ok(Exit::Ok)
}
