//! Tolerant models of what Kratos sends.
//!
//! Reading is tolerant: every field atoctl does not need is kept verbatim in `extra`, optional
//! fields may be absent, and a field that is `null` stays `null` (not "absent") so that an
//! identity written back (PUT) carries exactly what was read. The typed fields are only those a
//! step decides on; everything else stays a `serde_json::Value`.
//!
//! Credential `config` can hold secrets (password hashes, TOTP seeds, OIDC tokens): the `Debug`
//! output of [`Credential`] never shows it, and nothing in atoctl prints or journals it.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Keeps `null` apart from "absent": absent → `None`, `null` → `Some(Value::Null)`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn present_credentials<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<BTreeMap<String, Credential>>>, D::Error> {
    Option::<BTreeMap<String, Credential>>::deserialize(d).map(Some)
}

/// A Kratos identity (schema `identity`), as the admin API returns it.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// `active` or `inactive` (some recorded bodies carry an empty string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub traits: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata_public: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata_admin: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<Value>,
    /// Always present on current Kratos; `Some(None)` when the server sent `null`.
    #[serde(
        default,
        deserialize_with = "present_credentials",
        skip_serializing_if = "Option::is_none"
    )]
    pub credentials: Option<Option<BTreeMap<String, Credential>>>,
    /// Everything else (verifiable_addresses, created_at, organization_id, region, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Identity {
    pub fn is_active(&self) -> bool {
        self.state.as_deref() == Some("active")
    }

    pub fn state_str(&self) -> &str {
        self.state.as_deref().unwrap_or("unknown")
    }

    pub fn credential(&self, kind: &str) -> Option<&Credential> {
        self.credentials.as_ref()?.as_ref()?.get(kind)
    }

    pub fn credential_types(&self) -> Vec<String> {
        match &self.credentials {
            Some(Some(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The address to name the identity by: `traits.email`, else the first recovery or
    /// verifiable address, else `None`.
    pub fn label(&self) -> Option<String> {
        if let Some(e) = self
            .traits
            .as_ref()
            .and_then(|t| t.get("email"))
            .and_then(Value::as_str)
        {
            return Some(e.to_string());
        }
        for key in ["recovery_addresses", "verifiable_addresses"] {
            if let Some(v) = self
                .extra
                .get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|a| a.get("value"))
                .and_then(Value::as_str)
            {
                return Some(v.to_string());
            }
        }
        None
    }

    /// The parts of an identity that `disable-password` must leave as they were, with the
    /// credentials reduced to what a plain GET shows and no timestamps (Kratos rewrites those).
    pub fn comparable(&self) -> Value {
        let creds: BTreeMap<String, Value> = match &self.credentials {
            Some(Some(m)) => m
                .iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        serde_json::json!({
                            "type": c.kind,
                            "identifiers": c.identifiers,
                            "version": c.version,
                        }),
                    )
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        serde_json::json!({
            "schema_id": self.schema_id,
            "state": self.state,
            "traits": self.traits,
            "metadata_public": self.metadata_public,
            "metadata_admin": self.metadata_admin,
            "external_id": self.external_id,
            "credentials": creds,
            "verifiable_addresses": without_timestamps(self.extra.get("verifiable_addresses")),
            "recovery_addresses": without_timestamps(self.extra.get("recovery_addresses")),
            "organization_id": self.extra.get("organization_id"),
        })
    }
}

/// An address list without `created_at`/`updated_at`, which Kratos rewrites when it
/// recomputes addresses from the traits; what they say (value, verified, status) must stay.
fn without_timestamps(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|a| match a {
                    Value::Object(o) => Value::Object(
                        o.iter()
                            .filter(|(k, _)| *k != "created_at" && *k != "updated_at")
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                })
                .collect(),
        ),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// One credential of an identity (schema `identityCredentials`).
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Credential {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub identifiers: Option<Value>,
    /// Omitted unless the type was named in `include_credential`; may hold secrets.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub config: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("type", &self.kind)
            .field("identifiers", &self.identifiers)
            .field("config", &self.config.as_ref().map(|_| "[redacted]"))
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

impl Credential {
    pub fn identifiers(&self) -> Vec<String> {
        self.identifiers
            .as_ref()
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn updated_at(&self) -> Option<&str> {
        self.updated_at.as_ref().and_then(Value::as_str)
    }
}

/// A session as `GET /admin/identities/{id}/sessions` returns it (identity and devices
/// expanded). Only what evidence needs is read; other fields are skipped, not kept (sessions
/// are never written back, and a bulk revoke reads thousands of them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    /// Computed by Kratos: DB active AND unexpired AND the identity is active.
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub authenticated_at: Option<String>,
    #[serde(default)]
    pub issued_at: Option<String>,
    #[serde(default)]
    pub authenticator_assurance_level: Option<String>,
    #[serde(default)]
    pub authentication_methods: Option<Value>,
    #[serde(default)]
    pub identity: Option<SessionIdentity>,
    #[serde(default)]
    pub devices: Option<Vec<Device>>,
}

/// The identity a session expands: what names it, and its state (a session of an inactive
/// identity is listed as not active although the database still holds it live).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SessionIdentity {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub traits: Option<Value>,
    #[serde(default)]
    pub state: Option<String>,
}

/// One device row: recorded when the session was created or re-authenticated, not per request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Device {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// `"<city>, <country>"` from Cloudflare headers; empty without them.
    #[serde(default)]
    pub location: Option<String>,
}

impl Session {
    /// A session standing for those a plan would read (a dry run without a server).
    pub fn placeholder(id: &str) -> Session {
        Session {
            id: id.to_string(),
            active: Some(true),
            expires_at: None,
            authenticated_at: None,
            issued_at: None,
            authenticator_assurance_level: None,
            authentication_methods: None,
            identity: None,
            devices: None,
        }
    }

    pub fn devices(&self) -> &[Device] {
        self.devices.as_deref().unwrap_or(&[])
    }

    pub fn identity_id(&self) -> Option<&str> {
        self.identity.as_ref()?.id.as_deref()
    }

    /// What the journal keeps of a session: everything needed as evidence, without the
    /// expanded identity and without any token.
    pub fn evidence(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "active": self.active,
            "aal": self.authenticator_assurance_level,
            "authenticated_at": self.authenticated_at,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "authentication_methods": self.authentication_methods,
            "devices": self.devices().iter().map(|d| serde_json::json!({
                "id": d.id,
                "ip_address": d.ip_address,
                "user_agent": d.user_agent,
                "location": d.location,
            })).collect::<Vec<_>>(),
        })
    }
}

/// `201` of `POST /admin/recovery/code`. The code and the link are secrets.
#[derive(Deserialize)]
pub struct RecoveryCode {
    pub recovery_link: SecretString,
    pub recovery_code: SecretString,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// `200` of `POST /admin/recovery/link`. The link is a secret.
#[derive(Deserialize)]
pub struct RecoveryLink {
    pub recovery_link: SecretString,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// What `include_credential=password` revealed, reduced at once to a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    /// No `password` credential at all.
    NoCredential,
    /// A `password` credential without a hash (an OIDC-only identity has one: reference §14).
    NoHash,
    /// A hash is stored: password login works.
    Hash,
    /// No hash, but the password migration hook is enabled: login is checked by the hook.
    MigrationHook,
}

impl PasswordState {
    pub fn usable(self) -> bool {
        matches!(self, PasswordState::Hash | PasswordState::MigrationHook)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_absent_fields_survive_a_round_trip() {
        let raw = serde_json::json!({
            "id": "x", "traits": null, "metadata_public": null,
            "credentials": {"password": {"type": "password", "identifiers": null, "version": 0}},
            "organization_id": null, "future_field": {"a": 1}
        });
        let id: Identity = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), raw);
    }

    #[test]
    fn debug_output_never_shows_credential_config() {
        let raw = serde_json::json!({"credentials": {"password": {"type": "password",
            "config": {"hashed_password": "$argon2id$v=19$secret"}}}});
        let id: Identity = serde_json::from_value(raw).unwrap();
        assert!(!format!("{id:?}").contains("argon2id"));
    }
}
