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

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::{Recorder, identity_error, look_identity, who};
use crate::cli::IdentityArgs;
use crate::context::{Ctx, parse_uuid};
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::kratos::{Identity, KratosError, PasswordState, paths};
use crate::output;
use crate::plan::Plan;

/// The PUT body: what was read, sent back unchanged, plus the new password. `secret` is
/// `None` for the dry-run rendering.
pub fn put_body(current: &Identity, secret: Option<&SecretString>) -> Value {
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
    if let Some(x) = &current.external_id {
        body.insert("external_id".into(), x.clone());
    }
    let password = match secret {
        Some(s) => Value::String(s.expose_secret().to_string()),
        None => {
            Value::String("[redacted: 43 random characters, 256 bits from the OS CSPRNG]".into())
        }
    };
    body.insert(
        "credentials".into(),
        json!({"password": {"config": {"password": password}}}),
    );
    Value::Object(body)
}

/// 32 bytes from the OS CSPRNG, base64url: 43 characters nobody ever sees.
fn random_secret() -> Result<SecretString> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).map_err(|e| {
        AppError::failed(format!("the operating system's random source failed: {e}"))
    })?;
    use base64::Engine;
    Ok(SecretString::from(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()),
    ))
}

pub async fn run(ctx: &Ctx, a: &IdentityArgs) -> Result<Exit> {
    ctx.reject_ids_output("disable-password")?;
    let id = parse_uuid(&a.identity, "--identity")?;
    if ctx.dry_run() {
        let template = Identity {
            schema_id: Some("<as read>".into()),
            state: Some("<as read>".into()),
            traits: Some(json!("<as read>")),
            metadata_public: Some(json!("<as read>")),
            metadata_admin: Some(json!("<as read>")),
            external_id: Some(json!("<as read, only if set>")),
            ..Identity::default()
        };
        let mut p = Plan::new("disable-password");
        p.request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "look: the identity as it is (no credential config)",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_with_password(&id),
            None,
            "learn only whether a password hash exists; the value is dropped at once",
        )
        .request(
            ctx,
            "PUT",
            &paths::identity(&id),
            Some(put_body(&template, None)),
            "replace the hash with one of a random secret; everything else sent back as read",
        )
        .request(
            ctx,
            "GET",
            &paths::identity(&id),
            None,
            "verify: password rewritten, nothing else changed",
        )
        .request(
            ctx,
            "GET",
            &paths::identity_with_password(&id),
            None,
            "verify: a hash is present (of the random secret)",
        )
        .note("skipped, with no PUT, when the identity has no password hash (e.g. OIDC-only)");
        p.print(ctx)?;
        return Ok(Exit::Ok);
    }
    ctx.ensure_may_change("disable the password")?;
    let k = ctx.kratos()?;
    let before = look_identity(&k, &id).await?;
    let label = who(Some(&before), &id);
    let state = k
        .password_state(&id)
        .await
        .map_err(|e| identity_error(e, &id))?;
    if !state.usable() {
        let why = match state {
            PasswordState::NoCredential => "it has no password credential",
            _ => "its password credential holds no hash (an OIDC-only identity has an empty one)",
        };
        let rec = Recorder::open(ctx, Some(&id), "disable-password")?;
        rec.record(vec![
            Entry::new("disable-password", Some(&id), Outcome::Skipped)
                .with("summary", format!("no password to disable: {why}"))
                .with("password_state", state),
        ])
        .await?;
        return super::finish(
            ctx,
            &label,
            &id,
            "skipped",
            &format!("nothing to disable: {why}"),
            &rec.path,
        );
    }
    ctx.confirm(&format!(
        "Disable the password of {label}? It is replaced by a random secret nobody knows; nothing else changes"
    ))?;
    let rec = Recorder::open(ctx, Some(&id), "disable-password")?;
    let pw_before = before
        .credential("password")
        .and_then(|c| c.updated_at())
        .map(str::to_string);
    let secret = random_secret()?;
    let body = put_body(&before, Some(&secret));
    drop(secret);
    let put = k.update_identity(&id, body).await;
    if let Err(e) = put {
        let msg = put_error(e, &id);
        let _ = rec
            .record(vec![
                Entry::new("disable-password", Some(&id), Outcome::Failed)
                    .with("summary", format!("PUT failed: {}", msg.message))
                    .with("error", &msg.message),
            ])
            .await;
        return Err(msg);
    }
    // Verify from fresh reads.
    let after = look_identity(&k, &id).await?;
    let state_after = k
        .password_state(&id)
        .await
        .map_err(|e| identity_error(e, &id))?;
    let pw_after = after
        .credential("password")
        .and_then(|c| c.updated_at())
        .map(str::to_string);
    let changed = changed_fields(&before, &after);
    let rewritten = match (&pw_before, &pw_after) {
        (Some(b), Some(a)) => a != b,
        (None, Some(_)) => true,
        _ => false,
    };
    let verified = changed.is_empty() && rewritten && state_after == PasswordState::Hash;
    let e = Entry::new(
        "disable-password",
        Some(&id),
        if verified { Outcome::Ok } else { Outcome::Failed },
    )
    .with(
        "summary",
        if verified {
            "password replaced by a random secret; nothing else changed".to_string()
        } else if !changed.is_empty() {
            format!("identity fields changed besides the password: {}", changed.join(", "))
        } else {
            "the password credential does not show as rewritten".to_string()
        },
    )
    .with("method", "PUT /admin/identities/{id} with credentials.password.config.password (random 256-bit secret)")
    .with("password_state_before", state)
    .with("password_state_after", state_after)
    .with("password_updated_at_before", &pw_before)
    .with("password_updated_at_after", &pw_after)
    .with("credential_types", after.credential_types())
    .with("unchanged", [
        "schema_id", "state", "traits", "metadata_public", "metadata_admin", "external_id",
        "other credentials", "addresses",
    ].iter().filter(|f| !changed.iter().any(|c| c.starts_with(*f))).collect::<Vec<_>>())
    .with("changed", &changed)
    .with("verified", verified);
    rec.record(vec![e]).await?;
    if !verified {
        return Err(AppError::failed(if !changed.is_empty() {
            format!(
                "the password was replaced, but these changed too: {} (someone else edited the identity meanwhile?)",
                changed.join(", ")
            )
        } else {
            format!(
                "Kratos accepted the PUT but the password credential of {label} does not show as rewritten"
            )
        }));
    }
    let others: Vec<String> = after
        .credential_types()
        .into_iter()
        .filter(|t| t != "password")
        .collect();
    if !others.is_empty() {
        output::note(&format!(
            "still enrolled: {} (left as they are: review them, an attacker may have added one; passkeys have no admin removal path)",
            others.join(", ")
        ));
    }
    if !ctx.json() {
        output::note(
            "sessions are not ended by this: run `atoctl revoke --identity` too; the owner sets a new password through `atoctl recover`",
        );
    }
    super::finish(
        ctx,
        &label,
        &id,
        "ok",
        "password disabled: replaced by a random secret nobody knows; traits, metadata, state and other credentials unchanged",
        &rec.path,
    )
}

fn put_error(e: KratosError, id: &str) -> AppError {
    match &e {
        KratosError::Api { status: 400, .. } => AppError::failed(format!(
            "Kratos refused the PUT: {e}"
        ))
        .with_hint(
            "the identity's traits may no longer validate against its schema; nothing was changed",
        ),
        KratosError::Api { status: 409, .. } => {
            AppError::failed(format!("Kratos refused the PUT: {e}"))
        }
        _ => identity_error(e, id),
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
