//! `recover`: issue an admin recovery code (default) or link for the rightful owner.
//!
//! Reference §9, §13.4–5: the admin endpoints send no e-mail (the operator hands the secret
//! over), earlier codes stay valid until they expire, the owner cannot finish recovery while
//! the identity is inactive, an unknown identity is 404 for codes but 400 for links, and a
//! disabled method is a 404 told apart by its reason. Issuing is never retried: a retry could
//! leave two valid secrets. The code or link is printed once, for the operator only, and never
//! journaled.

use secrecy::ExposeSecret;
use serde_json::json;

use super::{Recorder, look_identity, who};
use crate::cli::{RecoverArgs, RecoveryMethod};
use crate::context::{Ctx, parse_uuid};
use crate::duration;
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::kratos::{KratosError, paths};
use crate::output;
use crate::plan::Plan;

pub async fn run(ctx: &Ctx, a: &RecoverArgs) -> Result<Exit> {
    ctx.reject_ids_output("recover")?;
    let id = parse_uuid(&a.identity, "--identity")?;
    let expires_in = a
        .expires_in
        .as_deref()
        .map(|e| duration::parse(e, "--expires-in").map(duration::to_go))
        .transpose()?;
    let (method, path) = match a.method {
        RecoveryMethod::Code => ("code", paths::RECOVERY_CODE),
        RecoveryMethod::Link => ("link", paths::RECOVERY_LINK),
    };
    if ctx.dry_run() {
        let mut p = Plan::new("recover");
        p.request(ctx, "GET", &paths::identity(&id), None, "look: it must exist and be active (an inactive identity cannot finish recovery)")
            .request(
                ctx,
                "POST",
                path,
                Some(paths::recovery_body(&id, expires_in.as_deref())),
                &format!("issue a recovery {method} (sent once, never retried); it is shown to you, not journaled"),
            )
            .note("Kratos sends no e-mail for admin recovery: you hand the code or link to the owner");
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("issue a recovery secret")?;
    let k = ctx.kratos()?;
    let ident = look_identity(&k, &id).await?;
    let label = who(Some(&ident), &id);
    if !ident.is_active() {
        return Err(AppError::usage(format!(
            "{label} is {}: the owner could not finish recovery (Kratos refuses new sessions for it); nothing was issued",
            ident.state_str()
        ))
        .with_hint("run `atoctl unlock --identity` first (it ends any session that would revive), then recover"));
    }
    ctx.confirm(&format!(
        "Issue a recovery {method} for {label}{}?",
        expires_in
            .as_deref()
            .map(|e| format!(" valid for {e}"))
            .unwrap_or_default()
    ))?;
    let rec = Recorder::open(ctx, Some(&id), "recover")?;
    let issued = match a.method {
        RecoveryMethod::Code => k
            .create_recovery_code(&id, expires_in.as_deref())
            .await
            .map(|c| (c.recovery_code, Some(c.recovery_link), c.expires_at)),
        RecoveryMethod::Link => k
            .create_recovery_link(&id, expires_in.as_deref())
            .await
            .map(|l| (l.recovery_link, None, l.expires_at)),
    };
    let (secret, ui_link, expires_at) = match issued {
        Ok(x) => x,
        Err(e) => {
            let err = recovery_error(e, &id, method);
            let mut entry = Entry::new("recover", Some(&id), Outcome::Failed)
                .with(
                    "summary",
                    format!("recovery {method} not issued: {}", err.message),
                )
                .with("method", method)
                .with("error", &err.message);
            if err.exit == Exit::Failed && err.message.contains("may have") {
                entry.put("uncertain", true);
            }
            let _ = rec.record(vec![entry]).await;
            return Err(err);
        }
    };
    let e = Entry::new("recover", Some(&id), Outcome::Ok)
        .with(
            "summary",
            format!(
                "recovery {method} issued, expires {}; handed over out of band; earlier codes stay valid until they expire",
                expires_at.as_deref().unwrap_or("(not said)")
            ),
        )
        .with("method", method)
        .with("expires_in", &expires_in)
        .with("expires_at", &expires_at)
        .with("email_sent_by_kratos", false)
        .with("earlier_codes_remain_valid", true);
    rec.record(vec![e]).await?;
    // The secret goes to stdout once, for the operator; nothing else prints it.
    if ctx.json() {
        let mut doc = json!({
            "identity": id,
            "method": method,
            "expires_at": expires_at,
            "journal": rec.path,
        });
        match a.method {
            RecoveryMethod::Code => {
                doc["recovery_code"] = json!(secret.expose_secret());
                doc["recovery_link"] =
                    json!(ui_link.as_ref().map(|l| l.expose_secret().to_string()));
            }
            RecoveryMethod::Link => doc["recovery_link"] = json!(secret.expose_secret()),
        }
        output::print_json(&doc)?;
    } else {
        match a.method {
            RecoveryMethod::Code => {
                output::line(&format!(
                    "recovery code for {label}: {}",
                    secret.expose_secret()
                ));
                if let Some(l) = &ui_link {
                    output::line(&format!("enter it at: {}", l.expose_secret()));
                }
            }
            RecoveryMethod::Link => output::line(&format!(
                "recovery link for {label}: {}",
                secret.expose_secret()
            )),
        }
        output::line(&format!(
            "expires: {}",
            expires_at.as_deref().unwrap_or("(Kratos did not say)")
        ));
    }
    eprintln!(
        "atoctl: Kratos sends no e-mail for admin recovery: give this {method} to the owner yourself, over a second channel you trust (a call to a known number, not the possibly compromised mailbox). It is not stored anywhere; earlier codes stay valid until they expire."
    );
    Ok(Exit::Ok)
}

fn recovery_error(e: KratosError, id: &str, method: &str) -> AppError {
    let text = e.text().to_ascii_lowercase();
    match &e {
        KratosError::Api { status: 404, .. } if text.contains("disabled") => AppError::failed(format!(
            "recovery by {method} is disabled in Kratos: {e}"
        ))
        .with_hint(format!(
            "enable selfservice.methods.{method}.enabled, or try --method {}",
            if method == "code" { "link" } else { "code" }
        )),
        KratosError::Api { status: 404, .. } if method == "code" => {
            AppError::not_found(format!("identity {id} does not exist in Kratos ({e})"))
        }
        KratosError::Api { status: 400, .. }
            if method == "link" && text.contains("identity id does not exist") =>
        {
            AppError::not_found(format!("identity {id} does not exist in Kratos ({e})"))
        }
        KratosError::Transport { timeout: true, .. } | KratosError::Api { status: 500..=599, .. } => {
            AppError::failed(format!(
                "{e}; a recovery {method} may have been issued anyway (it was not retried, so at most one)"
            ))
            .with_hint("run recover again to issue a fresh one; any earlier one stays valid until it expires")
        }
        _ => e.into_app(),
    }
}
