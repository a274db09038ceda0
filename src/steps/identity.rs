//! `identity --identity UUID|IDENTIFIER`: the look of an incident. State and when it changed,
//! addresses with their verified flags, recovery addresses, credential types with their
//! created and updated times (a TOTP or a social login linked yesterday stands out),
//! organization, sessions. Never a secret: no credential config is ever requested (no hash,
//! TOTP URL or lookup code can be in the answer). Read-only; recorded when a journal is set.

use serde_json::{Value, json};

use super::life::{Cx, list_sessions, look_identity, resolve};
use super::{Recorder, short_time, who};
use crate::cli::IdentityArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::kratos::{Identity, SessionListing, paths};
use crate::output;

/// A credential changed this recently stands out in the table.
const RECENT_DAYS: i64 = 7;

pub async fn run(ctx: &Ctx, a: &IdentityArgs) -> Result<Exit> {
    ctx.reject_ids_output("identity")?;
    if ctx.dry_run() {
        let base = ctx.kratos_base_for_plan();
        output::line("dry run of `identity`: it only reads; atoctl would send:");
        if let crate::ids::IdentityRef::Identifier(i) = &a.identity {
            output::line(&format!(
                "  GET {base}{}",
                paths::identities_by_identifier(i)
            ));
        }
        output::line(&format!("  GET {base}/admin/identities/{{id}}"));
        output::line(&format!(
            "  GET {base}/admin/identities/{{id}}/sessions?page_size={}",
            crate::kratos::SESSION_PAGE_SIZE
        ));
        return Ok(Exit::Ok);
    }
    let cx = Cx::new(ctx, None, 8)?;
    let target = resolve(&cx, Some(&a.identity))
        .await?
        .ok_or_else(|| AppError::usage("give --identity"))?;
    let identity = look_identity(&cx, target.id).await?;
    let sessions = list_sessions(&cx, target.id, None).await?;
    let view = view(&identity, &sessions);
    if ctx.args.incident.is_some() {
        let rec = Recorder::open(ctx, Some(&target.id.to_string()), "identity")?;
        let mut e = Entry::new("identity", Some(&target.id.to_string()), Outcome::Ok).with(
            "summary",
            format!(
                "identity looked at: {}, {} credential type(s), {} session(s)",
                identity.state_str(),
                identity.credential_types().len(),
                sessions.sessions.len()
            ),
        );
        target.record(&mut e);
        e.put("identity_view", &view);
        rec.record(vec![e]).await?;
    }
    if ctx.json() {
        output::print_json(&view)?;
    } else {
        print_table(&view, who(Some(&identity), target.id));
    }
    Ok(Exit::Ok)
}

/// What atoctl shows of an identity: everything an incident needs, nothing secret.
pub fn view(i: &Identity, sessions: &SessionListing) -> Value {
    let x = |k: &str| i.extra.get(k).cloned().unwrap_or(Value::Null);
    let addresses = |k: &str, keys: &[&str]| -> Value {
        i.extra
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|addr| {
                        let mut o = serde_json::Map::new();
                        for key in keys {
                            if let Some(v) = addr.get(*key) {
                                o.insert((*key).into(), v.clone());
                            }
                        }
                        Value::Object(o)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let credentials: Vec<Value> = match &i.credentials {
        Some(Some(m)) => m
            .iter()
            .map(|(t, c)| {
                json!({
                    "type": t,
                    // Provider and subject for social logins; the address or the identity id
                    // for the others. Never the config.
                    "identifiers": c.identifiers(),
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                })
            })
            .collect(),
        _ => vec![],
    };
    json!({
        "id": i.id,
        "schema_id": i.schema_id,
        "state": i.state,
        "state_changed_at": x("state_changed_at"),
        "created_at": x("created_at"),
        "updated_at": x("updated_at"),
        "organization_id": x("organization_id"),
        "traits": i.traits,
        "verifiable_addresses": addresses("verifiable_addresses", &["value", "via", "verified", "status", "verified_at"]),
        "recovery_addresses": addresses("recovery_addresses", &["value", "via"]),
        "credentials": credentials,
        "sessions": {
            "total": sessions.sessions.len(),
            "active": sessions.sessions.iter().filter(|s| s.active == Some(true)).count(),
            "complete": sessions.complete,
        },
    })
}

fn print_table(v: &Value, label: String) {
    let s = |x: &Value| match x {
        Value::String(t) => output::clean(t),
        Value::Null => "-".into(),
        other => output::clean(&other.to_string()),
    };
    output::line(&label);
    output::line(&format!(
        "  state:        {} (since {})",
        s(&v["state"]),
        short_time(v["state_changed_at"].as_str())
    ));
    output::line(&format!(
        "  created:      {}   updated: {}",
        short_time(v["created_at"].as_str()),
        short_time(v["updated_at"].as_str())
    ));
    if !v["organization_id"].is_null() {
        output::line(&format!("  organization: {}", s(&v["organization_id"])));
    }
    output::line(&format!(
        "  sessions:     {} ({} active)",
        v["sessions"]["total"], v["sessions"]["active"]
    ));
    let mut t = output::table(["ADDRESS", "VIA", "VERIFIED", "STATUS", "RECOVERY"]);
    let recovery: Vec<&str> = v["recovery_addresses"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["value"].as_str()).collect())
        .unwrap_or_default();
    for a in v["verifiable_addresses"].as_array().into_iter().flatten() {
        t.add_row(vec![
            s(&a["value"]),
            s(&a["via"]),
            if a["verified"] == json!(true) {
                "yes".into()
            } else {
                "NO".into()
            },
            s(&a["status"]),
            if a["value"].as_str().is_some_and(|x| recovery.contains(&x)) {
                "yes".into()
            } else {
                "-".into()
            },
        ]);
    }
    output::line("");
    output::line(&t.to_string());
    let now = jiff::Timestamp::now();
    let mut c = output::table(["CREDENTIAL", "IDENTIFIERS", "CREATED", "UPDATED", ""]);
    for cred in v["credentials"].as_array().into_iter().flatten() {
        let updated = cred["updated_at"].as_str();
        let recent = updated
            .and_then(|u| u.parse::<jiff::Timestamp>().ok())
            .is_some_and(|u| now.duration_since(u).as_hours() < RECENT_DAYS * 24);
        c.add_row(vec![
            s(&cred["type"]),
            output::shorten(
                &cred["identifiers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(output::clean)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                48,
            ),
            short_time(cred["created_at"].as_str()),
            short_time(updated),
            if recent {
                format!("← changed in the last {RECENT_DAYS} days")
            } else {
                String::new()
            },
        ]);
    }
    output::line("");
    output::line(&c.to_string());
}
