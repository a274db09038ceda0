//! `POST /admin/recovery/code` and `POST /admin/recovery/link` (§9). Neither sends e-mail:
//! the secret is returned to the caller (and remembered for
//! `KratosDouble::issued_recovery_secrets`). Earlier codes and links stay valid.

use jiff::SignedDuration;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::model::{RecoveryKind, now, parse_go_duration, ts};
use super::server::{Ctx, Reply, bad_request, herodot};

const DISABLED: &str = "This endpoint was disabled by system administrator. Please check your url or contact the system administrator to enable it.";

/// The body shared by both endpoints: `identity_id` (required UUID) and `expires_in` (Go
/// duration, > 0; default 1h).
struct Body {
    identity_id: Uuid,
    expires_in: SignedDuration,
    obj: Map<String, Value>,
}

fn parse_body(ctx: &Ctx<'_>, link: bool) -> Result<Body, Reply> {
    ctx.require_json()?;
    let v: Value = serde_json::from_slice(ctx.body).map_err(|e| {
        let d = if e.is_eof() {
            "unexpected end of JSON input".to_string()
        } else {
            e.to_string()
        };
        bad_request(&format!("Unable to decode JSON payload: {d}"))
    })?;
    let Value::Object(obj) = v else {
        return Err(bad_request(
            "Unable to decode JSON payload: expected an object",
        ));
    };
    // No schema validation: a missing `identity_id` decodes to the nil UUID, which is then
    // simply not found (404 on the code endpoint, 400 on the link endpoint).
    let identity_id = match obj.get("identity_id") {
        None | Some(Value::Null) => Uuid::nil(),
        Some(Value::String(s)) => Uuid::parse_str(s).map_err(|_| {
            bad_request(&format!(
                "Unable to decode JSON payload: uuid: incorrect UUID format in string \"{s}\""
            ))
        })?,
        Some(_) => {
            return Err(bad_request(
                "Unable to decode JSON payload: json: cannot unmarshal into Go struct field .identity_id of type uuid.UUID",
            ));
        }
    };
    let expires_in = match obj.get("expires_in") {
        None | Some(Value::Null) => SignedDuration::from_hours(1),
        Some(Value::String(s)) if s.is_empty() => SignedDuration::from_hours(1),
        Some(Value::String(s)) => {
            let Some(d) = parse_go_duration(s) else {
                return Err(bad_request(&format!(
                    "Unable to parse \"expires_in\" whose format should match \"[0-9]+(ns|us|ms|s|m|h)\" but did not: {s}"
                )));
            };
            if d <= SignedDuration::ZERO {
                return Err(bad_request(&format!(
                    "Value from \"expires_in\" must {future} a future time: {s}",
                    future = if link { "be result to" } else { "result to" }
                )));
            }
            d
        }
        Some(_) => {
            return Err(bad_request(
                "Unable to decode JSON payload: json: cannot unmarshal into Go struct field .expires_in of type string",
            ));
        }
    };
    Ok(Body {
        identity_id,
        expires_in,
        obj,
    })
}

/// `POST /admin/recovery/code`: 201 `{recovery_link, recovery_code (6 digits), expires_at}`;
/// unknown identity 404 reason "could not find identity"; bad `flow_type` 400; method off 404.
pub(crate) fn code(ctx: &Ctx<'_>) -> Reply {
    if !ctx.shared.config.recovery_code_enabled {
        return herodot(404, None, Some(DISABLED));
    }
    let body = match parse_body(ctx, false) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match body.obj.get("flow_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "browser" || s == "api" => {}
        Some(other) => {
            return bad_request(&format!(
                "Value from \"flow_type\" is not valid: {}",
                match other {
                    Value::String(s) => format!("{s:?}"),
                    v => v.to_string(),
                }
            ));
        }
    }
    let mut db = ctx.shared.db();
    if !db.identities.contains_key(&body.identity_id) {
        return herodot(
            404,
            Some("Unable to locate the resource"),
            Some("could not find identity"),
        );
    }
    let flow = Uuid::new_v4();
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    let link = format!("http://127.0.0.1:4455/recovery?flow={flow}");
    db.recovery_secrets.push(code.clone());
    db.recovery_secrets.push(link.clone());
    db.recovery_issued
        .push((body.identity_id, RecoveryKind::Code));
    let expires_at = now() + body.expires_in;
    Reply::json(
        201,
        &json!({"recovery_link": link, "recovery_code": code, "expires_at": ts(expires_at)}),
    )
}

/// `POST /admin/recovery/link`: 200 `{recovery_link (…&token=…), expires_at}`; unknown
/// identity **400** reason "The requested identity id does not exist."; method off 404.
pub(crate) fn link(ctx: &Ctx<'_>) -> Reply {
    if !ctx.shared.config.recovery_link_enabled {
        return herodot(404, None, Some(DISABLED));
    }
    let body = match parse_body(ctx, true) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut db = ctx.shared.db();
    if !db.identities.contains_key(&body.identity_id) {
        return bad_request("The requested identity id does not exist.");
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let token: String = (0..32)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    let flow = Uuid::new_v4();
    let link = format!(
        "{}/self-service/recovery?flow={flow}&token={token}",
        ctx.shared.base_url
    );
    db.recovery_secrets.push(link.clone());
    db.recovery_secrets.push(token);
    db.recovery_issued
        .push((body.identity_id, RecoveryKind::Link));
    let expires_at = now() + body.expires_in;
    Reply::json(
        200,
        &json!({"recovery_link": link, "expires_at": ts(expires_at)}),
    )
}
