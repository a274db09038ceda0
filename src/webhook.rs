//! Castle's `$incident.confirmed` webhook: the payload `respond --from-webhook` starts from.
//!
//! Castle signs each request with `X-Castle-Signature`: the base64 HMAC-SHA256 of the raw body
//! with the API secret. When a secret is given the signature must verify (compared in constant
//! time) before a single field is trusted; a payload that is malformed, unsigned where a
//! signature is required, or tampered with is a usage error naming what is wrong, and nothing
//! is sent anywhere.

use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use crate::error::{AppError, Result};
use crate::ids::IdentityId;
use crate::output;

/// The largest payload read: Castle's are a few KiB.
pub const MAX_BODY: usize = 1 << 20;

/// The event type atoctl answers.
pub const EVENT_TYPE: &str = "$incident.confirmed";

/// What atoctl takes from a confirmed incident.
#[derive(Debug, Clone)]
pub struct CastleIncident {
    /// `data.user_id`: the Kratos identity.
    pub identity: IdentityId,
    /// `data.id`: Castle's id of the incident (journaled once).
    pub castle_id: Option<String>,
    pub created_at: Option<String>,
    pub trigger: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub device: Value,
    pub location: Value,
    pub isp: Value,
    pub policy: Value,
    pub signature_verified: bool,
}

/// How the body is authenticated.
pub enum Signing<'a> {
    /// `--webhook-secret`/`CASTLE_API_SECRET` and the `X-Castle-Signature` value (if any).
    Secret(&'a SecretString, Option<&'a str>),
    /// No secret: the payload is taken unverified (said on stderr and journaled).
    None,
}

/// Reads the payload from a file or `-` (stdin), at most [`MAX_BODY`] bytes.
pub fn read_body(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    let what = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_BODY as u64 + 1).read_to_end(&mut buf))
    };
    read.map_err(|e| AppError::usage(format!("cannot read the webhook payload from {what}: {e}")))?;
    if buf.len() > MAX_BODY {
        return Err(AppError::usage(format!(
            "the webhook payload from {what} is larger than {} KiB; nothing was sent",
            MAX_BODY / 1024
        )));
    }
    Ok(buf)
}

/// Whether `signature` (base64) is the HMAC-SHA256 of `body` under `secret`, compared in
/// constant time.
pub fn signature_matches(body: &[u8], secret: &SecretString, signature: &str) -> bool {
    use base64::Engine;
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes())
    else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature Castle would send for `body` (for tests and the drill).
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    use base64::Engine;
    let mut mac =
        match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
            Ok(m) => m,
            // HMAC takes a key of any length.
            Err(_) => return String::new(),
        };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn malformed(field: &str, why: &str) -> AppError {
    AppError::usage(format!(
        "the webhook payload's {field} {why}; nothing was sent"
    ))
    .with_hint("respond --from-webhook takes the raw body of Castle's $incident.confirmed webhook")
}

/// Authenticates and reads a payload.
pub fn parse(body: &[u8], signing: Signing<'_>) -> Result<CastleIncident> {
    let signature_verified = match signing {
        Signing::Secret(secret, Some(sig)) => {
            if !signature_matches(body, secret, sig) {
                return Err(AppError::usage(
                    "the webhook payload's X-Castle-Signature does not verify with the given secret: tampered with, or signed with another secret; nothing was sent",
                ));
            }
            true
        }
        Signing::Secret(_, None) => {
            return Err(AppError::usage(
                "the webhook payload is unsigned: a secret is set (--webhook-secret or CASTLE_API_SECRET) but no --signature was given; nothing was sent",
            )
            .with_hint("pass the request's X-Castle-Signature header with --signature"));
        }
        Signing::None => false,
    };
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| malformed("body", &format!("is not JSON ({e})")))?;
    let Value::Object(doc) = doc else {
        return Err(malformed("body", "is not a JSON object"));
    };
    match doc.get("type") {
        Some(Value::String(t)) if t == EVENT_TYPE => {}
        Some(Value::String(t)) => {
            return Err(malformed(
                "type",
                &format!(
                    "is {:?}, not {EVENT_TYPE}",
                    output::shorten(&output::clean(t), 60)
                ),
            ));
        }
        Some(_) => return Err(malformed("type", "is not a string")),
        None => return Err(malformed("type", "is missing")),
    }
    let data = match doc.get("data") {
        Some(Value::Object(d)) => d,
        Some(_) => return Err(malformed("data", "is not an object")),
        None => return Err(malformed("data", "is missing")),
    };
    let identity = match data.get("user_id") {
        Some(Value::String(u)) => u.parse::<IdentityId>().map_err(|_| {
            malformed(
                "data.user_id",
                &format!(
                    "is {:?}, not a Kratos identity id (a UUID)",
                    output::shorten(&output::clean(u), 60)
                ),
            )
        })?,
        Some(_) => return Err(malformed("data.user_id", "is not a string")),
        None => return Err(malformed("data.user_id", "is missing")),
    };
    let context = match data.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(_) => return Err(malformed("data.context", "is not an object")),
    };
    let text = |m: &Map<String, Value>, k: &str, field: &str| -> Result<Option<String>> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(malformed(field, "is not a string")),
        }
    };
    let object = |m: &Map<String, Value>, k: &str, field: &str| -> Result<Value> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(Value::Null),
            Some(v @ Value::Object(_)) => Ok(v.clone()),
            Some(_) => Err(malformed(field, "is not an object")),
        }
    };
    let ip = text(&context, "ip", "data.context.ip")?;
    if let Some(ip) = &ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(malformed(
            "data.context.ip",
            &format!(
                "is {:?}, not an IP address",
                output::shorten(&output::clean(ip), 60)
            ),
        ));
    }
    let ua = object(&context, "user_agent", "data.context.user_agent")?;
    let user_agent = ua.get("raw").and_then(Value::as_str).map(str::to_string);
    let device = json!({
        "browser": ua.get("browser").cloned().unwrap_or(Value::Null),
        "os": ua.get("os").cloned().unwrap_or(Value::Null),
    });
    Ok(CastleIncident {
        identity,
        castle_id: text(data, "id", "data.id")?,
        created_at: text(&doc, "created_at", "created_at")?,
        trigger: text(data, "trigger", "data.trigger")?,
        ip,
        user_agent,
        device,
        location: object(&context, "location", "data.context.location")?,
        isp: object(&context, "isp", "data.context.isp")?,
        policy: object(data, "policy", "data.policy")?,
        signature_verified,
    })
}

impl CastleIncident {
    /// "Sydney, AU" from the location, if Castle gave one.
    pub fn place(&self) -> Option<String> {
        let s = |k: &str| {
            self.location
                .get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        match (s("city"), s("country_code")) {
            (Some(c), Some(cc)) => Some(format!("{c}, {cc}")),
            (Some(c), None) => Some(c.to_string()),
            (None, Some(cc)) => Some(cc.to_string()),
            (None, None) => None,
        }
    }

    /// The journal's evidence: device, IP, location, ISP and trigger.
    pub fn evidence(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let clean = |v: &Option<String>| v.as_deref().map(output::clean);
        let summary = format!(
            "Castle confirmed an incident{}{}{}",
            self.trigger
                .as_deref()
                .map(|t| format!(" on {}", output::clean(t)))
                .unwrap_or_default(),
            self.ip
                .as_deref()
                .map(|i| format!(" from {i}"))
                .unwrap_or_default(),
            self.place()
                .map(|p| format!(" ({})", output::clean(&p)))
                .unwrap_or_default(),
        );
        m.insert("summary".into(), json!(summary));
        m.insert("castle_incident_id".into(), json!(clean(&self.castle_id)));
        m.insert("created_at".into(), json!(clean(&self.created_at)));
        m.insert("trigger".into(), json!(clean(&self.trigger)));
        m.insert("ip".into(), json!(self.ip));
        m.insert("user_agent".into(), json!(clean(&self.user_agent)));
        m.insert("device".into(), self.device.clone());
        m.insert("location".into(), self.location.clone());
        m.insert("isp".into(), self.isp.clone());
        m.insert("policy".into(), self.policy.clone());
        m.insert("signature_verified".into(), json!(self.signature_verified));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";

    fn payload() -> Value {
        json!({
            "api_version": "v1",
            "app_id": "123456789",
            "type": "$incident.confirmed",
            "created_at": "2026-11-20T08:15:30.000Z",
            "data": {
                "id": "inc_1",
                "device_token": "dev_1",
                "user_id": ID,
                "trigger": "$login.succeeded",
                "context": {
                    "ip": "203.0.113.66",
                    "user_agent": {"raw": "Mozilla/5.0 (Windows NT 10.0)", "browser": "Chrome", "os": "Windows 10"},
                    "location": {"country_code": "AU", "region": "NSW", "city": "Sydney", "lat": -33.86, "lon": 151.21},
                    "isp": {"isp_name": "Example Net", "isp_organization": "Example"}
                },
                "policy": {"id": "p1", "name": "Block ATO", "action": "deny"},
                "unknown_field": {"tolerated": true}
            }
        })
    }

    fn secret() -> SecretString {
        SecretString::from("castle-api-secret".to_string())
    }

    #[test]
    fn a_signed_payload_verifies_and_yields_the_identity_and_the_device() {
        let body = serde_json::to_vec(&payload()).unwrap_or_default();
        let sig = sign(&body, &secret());
        let s = secret();
        let inc = parse(&body, Signing::Secret(&s, Some(&sig)));
        let Ok(inc) = inc else {
            panic!("a signed payload is accepted: {inc:?}");
        };
        assert_eq!(inc.identity.to_string(), ID);
        assert!(inc.signature_verified);
        assert_eq!(inc.ip.as_deref(), Some("203.0.113.66"));
        assert_eq!(inc.place().as_deref(), Some("Sydney, AU"));
        let ev = inc.evidence();
        assert_eq!(ev["device"]["browser"], "Chrome");
        assert_eq!(ev["isp"]["isp_name"], "Example Net");
        assert_eq!(ev["trigger"], "$login.succeeded");
        assert_eq!(ev["signature_verified"], true);
    }

    #[test]
    fn a_tampered_or_unsigned_payload_is_refused_when_a_secret_is_set() {
        let body = serde_json::to_vec(&payload()).unwrap_or_default();
        let sig = sign(&body, &secret());
        let mut tampered = payload();
        tampered["data"]["user_id"] = json!("0b8e3c1d-4f2a-4e9b-8c7d-6a5f4e3d2c1b");
        let tampered = serde_json::to_vec(&tampered).unwrap_or_default();
        let s = secret();
        let err = |r: Result<CastleIncident>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(parse(&tampered, Signing::Secret(&s, Some(&sig)))).contains("does not verify"));
        assert!(err(parse(&body, Signing::Secret(&s, None))).contains("unsigned"));
        let other = SecretString::from("another".to_string());
        assert!(err(parse(&body, Signing::Secret(&other, Some(&sig)))).contains("does not verify"));
        assert!(
            err(parse(&body, Signing::Secret(&s, Some("not base64!")))).contains("does not verify")
        );
        // Without a secret the payload is read, marked unverified.
        assert!(parse(&body, Signing::None).is_ok_and(|i| !i.signature_verified));
    }

    #[test]
    fn a_malformed_payload_names_the_field() {
        let cases: [(&str, Value); 7] = [
            ("type", json!({"type": "$review.opened", "data": {}})),
            ("type", json!({"data": {}})),
            ("data", json!({"type": "$incident.confirmed"})),
            (
                "data.user_id",
                json!({"type": "$incident.confirmed", "data": {}}),
            ),
            (
                "data.user_id",
                json!({"type": "$incident.confirmed", "data": {"user_id": "bob"}}),
            ),
            (
                "data.context.ip",
                json!({"type": "$incident.confirmed", "data": {"user_id": ID, "context": {"ip": "nowhere"}}}),
            ),
            (
                "data.context",
                json!({"type": "$incident.confirmed", "data": {"user_id": ID, "context": 3}}),
            ),
        ];
        for (field, doc) in cases {
            let body = serde_json::to_vec(&doc).unwrap_or_default();
            let e = parse(&body, Signing::None).err().map(|e| e.to_string());
            assert!(
                e.as_deref()
                    .is_some_and(|m| m.contains(&format!("payload's {field} "))),
                "{field}: {e:?}"
            );
        }
        let e = parse(b"{not json", Signing::None)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("body is not JSON")));
    }
}
