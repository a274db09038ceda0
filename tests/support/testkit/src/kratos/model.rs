//! The double's "database": identities with their credentials and addresses, sessions with
//! their devices, recovery flows and Hydra's consent and login sessions, plus how each is
//! rendered as JSON by the admin API.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use jiff::{SignedDuration, Timestamp, Unit};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The current time, at the microsecond precision the databases behind Kratos store.
pub(crate) fn now() -> Timestamp {
    Timestamp::now()
        .round(Unit::Microsecond)
        .unwrap_or_else(|_| Timestamp::now())
}

/// RFC 3339 in UTC, as Kratos renders its timestamps.
pub(crate) fn ts(t: Timestamp) -> String {
    t.to_string()
}

/// Go's zero `time.Time`, which Kratos renders for timestamps nobody set.
pub(crate) fn zero_time() -> Timestamp {
    "0001-01-01T00:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The credential types `ParseCredentialsType` knows (reference §2). `profile` and
/// `identifier_first` are in the OpenAPI enum but rejected by the handler.
pub(crate) const CREDENTIAL_TYPES: &[&str] = &[
    "password",
    "oidc",
    "saml",
    "totp",
    "lookup_secret",
    "webauthn",
    "code",
    "passkey",
    "deviceauthn",
    "link_recovery",
    "code_recovery",
];

#[derive(Clone, Debug)]
pub(crate) struct Credential {
    pub kind: String,
    pub identifiers: Vec<String>,
    pub config: Value,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Credential {
    pub fn new(kind: &str, identifiers: Vec<String>, config: Value, version: i64) -> Credential {
        let t = now();
        Credential {
            kind: kind.to_string(),
            identifiers,
            config,
            version,
            created_at: t,
            updated_at: t,
        }
    }

    pub fn to_json(&self, with_config: bool) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.kind));
        m.insert("identifiers".into(), json!(self.identifiers));
        if with_config {
            m.insert("config".into(), self.config.clone());
        }
        m.insert("version".into(), json!(self.version));
        m.insert("created_at".into(), json!(ts(self.created_at)));
        m.insert("updated_at".into(), json!(ts(self.updated_at)));
        Value::Object(m)
    }

    /// A password credential counts as a first factor when it holds a hash, or when the
    /// password migration hook is flagged (reference §8).
    pub fn password_is_usable(&self) -> bool {
        let hash = self
            .config
            .get("hashed_password")
            .and_then(Value::as_str)
            .is_some_and(|h| !h.is_empty());
        let hook = self
            .config
            .get("use_password_migration_hook")
            .and_then(Value::as_bool)
            == Some(true);
        hash || hook
    }
}

#[derive(Clone, Debug)]
pub(crate) struct VerifiableAddress {
    pub id: Uuid,
    pub value: String,
    pub verified: bool,
    pub status: String,
    pub verified_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug)]
pub(crate) struct RecoveryAddress {
    pub id: Uuid,
    pub value: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub id: Uuid,
    pub schema_id: String,
    pub state: String,
    pub state_changed_at: Timestamp,
    pub traits: Value,
    pub metadata_public: Value,
    pub metadata_admin: Value,
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub credentials: BTreeMap<String, Credential>,
    pub verifiable_addresses: Vec<VerifiableAddress>,
    pub recovery_addresses: Vec<RecoveryAddress>,
}

/// Which credential configs an identity body carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Creds<'a> {
    /// No `credentials` key at all (the identity embedded in a session, reference §3).
    Omit,
    /// `credentials` with every `config` stripped (PATCH/PUT answers, plain GET).
    NoConfig,
    /// `config` only for the listed types (`include_credential`, reference §2).
    Include(&'a [String]),
    /// Every `config` (the confidential identity: what PATCH patches on current Kratos).
    All,
}

impl Identity {
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }

    /// The normalised e-mail of the traits (lower-cased, trimmed), if any.
    pub fn email(&self) -> Option<String> {
        email_of(&self.traits)
    }

    pub fn to_json(&self, base_url: &str, creds: Creds<'_>) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id.to_string()));
        m.insert("schema_id".into(), json!(self.schema_id));
        m.insert(
            "schema_url".into(),
            json!(format!(
                "{base_url}/schemas/{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.schema_id)
            )),
        );
        m.insert("state".into(), json!(self.state));
        m.insert("state_changed_at".into(), json!(ts(self.state_changed_at)));
        m.insert("traits".into(), self.traits.clone());
        m.insert(
            "verifiable_addresses".into(),
            Value::Array(
                self.verifiable_addresses
                    .iter()
                    .map(|a| {
                        let mut v = json!({
                            "id": a.id.to_string(),
                            "value": a.value,
                            "verified": a.verified,
                            "via": "email",
                            "status": a.status,
                            "created_at": ts(a.created_at),
                            "updated_at": ts(a.updated_at),
                        });
                        if let Some(at) = a.verified_at {
                            v["verified_at"] = json!(ts(at));
                        }
                        v
                    })
                    .collect(),
            ),
        );
        m.insert(
            "recovery_addresses".into(),
            Value::Array(
                self.recovery_addresses
                    .iter()
                    .map(|a| {
                        json!({
                            "id": a.id.to_string(),
                            "value": a.value,
                            "via": "email",
                            "created_at": ts(a.created_at),
                            "updated_at": ts(a.updated_at),
                        })
                    })
                    .collect(),
            ),
        );
        m.insert("metadata_public".into(), self.metadata_public.clone());
        m.insert("metadata_admin".into(), self.metadata_admin.clone());
        m.insert("created_at".into(), json!(ts(self.created_at)));
        m.insert("updated_at".into(), json!(ts(self.updated_at)));
        m.insert("organization_id".into(), Value::Null);
        if let Some(x) = &self.external_id {
            m.insert("external_id".into(), json!(x));
        }
        let with = |kind: &str| match creds {
            Creds::Omit | Creds::NoConfig => false,
            Creds::All => true,
            Creds::Include(list) => list.iter().any(|t| t == kind),
        };
        if creds != Creds::Omit {
            let c: Map<String, Value> = self
                .credentials
                .iter()
                .map(|(k, c)| (k.clone(), c.to_json(with(k))))
                .collect();
            m.insert("credentials".into(), Value::Object(c));
        }
        Value::Object(m)
    }

    /// What Kratos's identity schema extensions do on every write (reference §6, §14.20):
    /// the password (and, with passwordless code login, the code) credential's identifiers
    /// follow `traits.email`, an empty password credential is created when there is none,
    /// and the verifiable/recovery addresses are recomputed: an address still in the traits
    /// keeps its state, a new one starts `verified:false, status:"pending"`.
    pub fn recompute(&mut self, passwordless_code: bool) {
        let t = now();
        let email = self.email();
        let identifiers: Vec<String> = email.iter().cloned().collect();
        match self.credentials.get_mut("password") {
            Some(c) => {
                if c.identifiers != identifiers {
                    c.identifiers = identifiers.clone();
                    c.updated_at = t;
                }
            }
            None => {
                self.credentials.insert(
                    "password".into(),
                    Credential::new("password", identifiers.clone(), json!({}), 1),
                );
            }
        }
        if passwordless_code || self.credentials.contains_key("code") {
            let config = json!({
                "addresses": email.iter().map(|e| json!({"channel": "email", "address": e})).collect::<Vec<_>>()
            });
            let c = self
                .credentials
                .entry("code".into())
                .or_insert_with(|| Credential::new("code", vec![], json!({}), 1));
            if c.identifiers != identifiers || c.config != config {
                c.identifiers = identifiers.clone();
                c.config = config;
                c.updated_at = t;
            }
        }
        let old_v = std::mem::take(&mut self.verifiable_addresses);
        let old_r = std::mem::take(&mut self.recovery_addresses);
        if let Some(e) = email {
            self.verifiable_addresses.push(
                old_v
                    .into_iter()
                    .find(|a| a.value == e)
                    .unwrap_or_else(|| VerifiableAddress {
                        id: Uuid::new_v4(),
                        value: e.clone(),
                        verified: false,
                        status: "pending".into(),
                        verified_at: None,
                        created_at: t,
                        updated_at: t,
                    }),
            );
            self.recovery_addresses
                .push(old_r.into_iter().find(|a| a.value == e).unwrap_or_else(|| {
                    RecoveryAddress {
                        id: Uuid::new_v4(),
                        value: e.clone(),
                        created_at: t,
                        updated_at: t,
                    }
                }));
        }
    }

    /// First factors as `CountActiveFirstFactorCredentials` counts them (reference §8).
    pub fn count_first_factors(&self, passwordless_code: bool) -> usize {
        let mut n = 0;
        for (k, c) in &self.credentials {
            match k.as_str() {
                "password" if c.password_is_usable() => n += 1,
                "oidc" | "saml" => n += providers(&c.config).len(),
                "webauthn" => {
                    n += webauthn_keys(&c.config)
                        .iter()
                        .filter(|k| k.get("is_passwordless").and_then(Value::as_bool) == Some(true))
                        .count()
                }
                "passkey" => n += webauthn_keys(&c.config).len(),
                _ => {}
            }
        }
        if passwordless_code {
            n += 1;
        }
        n
    }
}

pub(crate) fn providers(config: &Value) -> Vec<Value> {
    config
        .get("providers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn webauthn_keys(config: &Value) -> Vec<Value> {
    config
        .get("credentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn email_of(traits: &Value) -> Option<String> {
    traits
        .get("email")
        .and_then(Value::as_str)
        .map(|e| e.trim().to_lowercase())
}

/// The double's only identity schema, `default`: traits must be an object whose `email` is a
/// string that looks like an address. The message mimics Kratos's JSON-schema errors.
pub(crate) fn validate_traits(traits: &Value) -> Result<(), String> {
    let Some(obj) = traits.as_object() else {
        let got = match traits {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        return Err(format!(
            "I[#/traits] S[#/properties/traits/type] expected object, but got {got}"
        ));
    };
    match obj.get("email") {
        None => {
            Err("I[#/traits] S[#/properties/traits/required] missing properties: \"email\"".into())
        }
        Some(Value::String(e)) if e.contains('@') && e.trim().len() >= 3 => Ok(()),
        Some(Value::String(e)) => Err(format!(
            "I[#/traits/email] S[#/properties/traits/properties/email/format] \"{e}\" is not valid \"email\""
        )),
        Some(_) => Err(
            "I[#/traits/email] S[#/properties/traits/properties/email/type] expected string".into(),
        ),
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub id: Uuid,
    pub ip_address: String,
    pub user_agent: String,
    pub location: String,
}

impl Device {
    pub fn new(ip: &str, ua: &str, location: &str) -> Device {
        Device {
            id: Uuid::new_v4(),
            ip_address: ip.into(),
            user_agent: ua.into(),
            location: location.into(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "location": self.location,
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub id: Uuid,
    pub identity_id: Uuid,
    /// The raw `sessions.active` column.
    pub db_active: bool,
    pub expires_at: Timestamp,
    pub authenticated_at: Timestamp,
    pub issued_at: Timestamp,
    pub created_at: Timestamp,
    pub aal: String,
    pub devices: Vec<Device>,
    /// Insertion order, to break `created_at` ties.
    pub seq: u64,
}

impl Session {
    /// `sessions.active = true AND expires_at >= now`: the `active` filter of the listing,
    /// which does not look at the identity (reference §3).
    pub fn db_unexpired_active(&self, at: Timestamp) -> bool {
        self.db_active && self.expires_at >= at
    }

    /// What `/sessions/whoami` checks: DB active, unexpired and the identity (which whoami
    /// always loads) active (reference §10).
    pub fn computed_active(&self, identity: Option<&Identity>, at: Timestamp) -> bool {
        self.db_active && self.expires_at > at && identity.is_some_and(Identity::is_active)
    }

    /// `Session.IsActive` as the admin API renders it: DB active, unexpired, and, only when
    /// the identity was loaded with the session (`loaded`), the identity active. Without
    /// `expand=identity` a live session of an inactive identity shows `active: true`.
    pub fn api_active(&self, loaded: Option<&Identity>, at: Timestamp) -> bool {
        self.db_active && self.expires_at > at && loaded.is_none_or(Identity::is_active)
    }

    pub fn to_json(
        &self,
        identity: Option<&Identity>,
        base_url: &str,
        expand_identity: bool,
        expand_devices: bool,
    ) -> Value {
        let at = now();
        let loaded = if expand_identity { identity } else { None };
        json!({
            "id": self.id.to_string(),
            "active": self.api_active(loaded, at),
            "expires_at": ts(self.expires_at),
            "authenticated_at": ts(self.authenticated_at),
            "issued_at": ts(self.issued_at),
            "authenticator_assurance_level": self.aal,
            "authentication_methods": [
                {"method": "password", "aal": "aal1", "completed_at": ts(self.authenticated_at)}
            ],
            "identity": match (expand_identity, identity) {
                (true, Some(i)) => i.to_json(base_url, Creds::Omit),
                _ => Value::Null,
            },
            "devices": if expand_devices {
                self.devices.iter().map(Device::to_json).collect::<Vec<_>>()
            } else {
                vec![]
            },
        })
    }
}

/// A granted consent: one `hydra_oauth2_flow` row with its access and refresh tokens.
#[derive(Clone, Debug)]
pub(crate) struct Consent {
    pub consent_request_id: String,
    /// The flow's id, `login_challenge`: the column Hydra's keyset pagination orders by.
    pub login_challenge: String,
    pub subject: String,
    pub client_id: String,
    /// `None` once the login session was deleted (`ON DELETE SET NULL`).
    pub login_session_id: Option<String>,
    pub handled_at: Timestamp,
    /// Access and refresh token rows issued under this consent; they go with it.
    pub tokens: usize,
}

impl Consent {
    /// `Flow.ToListConsentSessionResponse`: the challenge is no longer known (empty), the
    /// client secret is blanked.
    pub fn to_json(&self) -> Value {
        json!({
            "consent_request_id": self.consent_request_id,
            "grant_scope": ["openid", "offline_access"],
            "grant_access_token_audience": [],
            "session": {"access_token": {}, "id_token": {}},
            "remember": true,
            "remember_for": 0,
            "handled_at": ts(self.handled_at),
            "context": {},
            "consent_request": {
                "challenge": "",
                "consent_request_id": self.consent_request_id,
                "requested_scope": ["openid", "offline_access"],
                "requested_access_token_audience": [],
                "skip": false,
                "subject": self.subject,
                "oidc_context": {},
                "client": {"client_id": self.client_id, "client_name": "", "client_secret": ""},
                "request_url": format!("https://hydra.example/oauth2/auth?client_id={}", self.client_id),
                "login_challenge": self.login_challenge,
                "login_session_id": self.login_session_id,
                "acr": "0",
                "amr": [],
            },
        })
    }
}

/// A remembered Hydra login session (`hydra_oauth2_authentication_session`).
#[derive(Clone, Debug)]
pub(crate) struct LoginSession {
    pub id: String,
    pub subject: String,
}

/// What an admin recovery call issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecoveryKind {
    Code,
    Link,
}

/// Everything the double stores. One mutex guards it (see `Shared`).
#[derive(Default)]
pub(crate) struct Db {
    pub identities: HashMap<Uuid, Identity>,
    /// Normalised e-mail → identity, for the 409 on duplicate identifiers.
    pub email_index: HashMap<String, Uuid>,
    pub sessions: HashMap<Uuid, Session>,
    pub sessions_by_identity: HashMap<Uuid, Vec<Uuid>>,
    pub seq: u64,
    pub recovery_secrets: Vec<String>,
    /// For whom each recovery code or link was issued, in order.
    pub recovery_issued: Vec<(Uuid, RecoveryKind)>,
    pub consents: Vec<Consent>,
    pub login_sessions: Vec<LoginSession>,
    /// The `sid`s Hydra ran an OpenID Connect back-channel logout for.
    pub backchannel_logouts: Vec<String>,
}

/// Why an identity could not be stored.
pub(crate) enum SaveError {
    /// Another identity already uses that e-mail (409).
    Conflict,
}

impl Db {
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Stores the identity (insert or replace) after the unique-identifier check.
    pub fn save_identity(&mut self, identity: Identity) -> Result<(), SaveError> {
        let new_email = identity.email();
        if let Some(e) = &new_email
            && let Some(other) = self.email_index.get(e)
            && *other != identity.id
        {
            return Err(SaveError::Conflict);
        }
        if let Some(old) = self.identities.get(&identity.id).and_then(Identity::email)
            && self.email_index.get(&old) == Some(&identity.id)
        {
            self.email_index.remove(&old);
        }
        if let Some(e) = new_email {
            self.email_index.insert(e, identity.id);
        }
        self.identities.insert(identity.id, identity);
        Ok(())
    }

    pub fn delete_identity(&mut self, id: Uuid) -> bool {
        let Some(i) = self.identities.remove(&id) else {
            return false;
        };
        if let Some(e) = i.email()
            && self.email_index.get(&e) == Some(&id)
        {
            self.email_index.remove(&e);
        }
        for sid in self.sessions_by_identity.remove(&id).unwrap_or_default() {
            self.sessions.remove(&sid);
        }
        true
    }

    pub fn insert_session(&mut self, mut s: Session) -> Uuid {
        s.seq = self.next_seq();
        let id = s.id;
        self.sessions_by_identity
            .entry(s.identity_id)
            .or_default()
            .push(id);
        self.sessions.insert(id, s);
        id
    }

    /// The identity's sessions, `created_at DESC` (reference §3).
    pub fn sessions_of(&self, identity: Uuid) -> Vec<&Session> {
        let mut v: Vec<&Session> = self
            .sessions_by_identity
            .get(&identity)
            .map(|ids| ids.iter().filter_map(|i| self.sessions.get(i)).collect())
            .unwrap_or_default();
        v.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.seq)));
        v
    }

    /// `DELETE FROM sessions WHERE identity_id=?`: hard delete, devices go with the rows
    /// (reference §4). Returns how many rows went.
    pub fn hard_delete_sessions(&mut self, identity: Uuid) -> usize {
        let ids = self
            .sessions_by_identity
            .remove(&identity)
            .unwrap_or_default();
        ids.iter()
            .filter(|i| self.sessions.remove(i).is_some())
            .count()
    }

    /// Deletes remembered login sessions; the consents that pointed at them keep existing
    /// with `login_session_id` null (`ON DELETE SET NULL`). Returns the deleted ids.
    pub fn delete_login_sessions(&mut self, doomed: impl Fn(&LoginSession) -> bool) -> Vec<String> {
        let mut gone = vec![];
        self.login_sessions.retain(|l| {
            if doomed(l) {
                gone.push(l.id.clone());
                false
            } else {
                true
            }
        });
        for c in &mut self.consents {
            if c.login_session_id
                .as_ref()
                .is_some_and(|s| gone.contains(s))
            {
                c.login_session_id = None;
            }
        }
        gone
    }

    pub fn identity_ids_by_identifier(&self, identifier: &str) -> Option<Uuid> {
        let key = identifier.trim().to_lowercase();
        if let Some(id) = self.email_index.get(&key) {
            return Some(*id);
        }
        self.identities
            .values()
            .find(|i| {
                i.credentials
                    .values()
                    .any(|c| c.identifiers.iter().any(|x| x.to_lowercase() == key))
            })
            .map(|i| i.id)
    }
}

/// The double's password hash: PHC-shaped like argon2id, but the digest is
/// `sha256(salt || password)`. Fast, and `password_login` can check it.
pub(crate) fn hash_password(password: &str) -> String {
    let salt: [u8; 16] = rand::random();
    hash_with_salt(password, &salt)
}

fn hash_with_salt(password: &str, salt: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    let digest = h.finalize();
    format!(
        "$argon2id$v=19$m=65536,t=1,p=1${}${}",
        b64.encode(salt),
        b64.encode(digest)
    )
}

/// Checks a password against a hash made by [`hash_password`]; any other format (an imported
/// hash) never matches.
pub(crate) fn verify_password(hash: &str, password: &str) -> bool {
    let Some(rest) = hash.strip_prefix("$argon2id$v=19$m=65536,t=1,p=1$") else {
        return false;
    };
    let Some((salt, _)) = rest.split_once('$') else {
        return false;
    };
    let Ok(salt) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(salt) else {
        return false;
    };
    hash_with_salt(password, &salt) == hash
}

/// `hash.IsValidHashFormat` (reference §7): the prefixes of the hash formats Kratos can import.
pub(crate) fn is_known_hash_format(h: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "$argon2id$",
        "$argon2i$",
        "$2a$",
        "$2b$",
        "$2y$",
        "$2x$",
        "$pbkdf2",
        "$scrypt$",
        "$firescrypt$",
        "{SSHA}",
        "{SSHA256}",
        "{SSHA512}",
        "$md5$",
        "$md5-crypt$",
        "$1$",
        "$5$",
        "$6$",
        "$sha1$",
        "$sha256$",
        "$sha512$",
        "$ssha$",
        "$hmac-",
    ];
    PREFIXES.iter().any(|p| h.starts_with(p))
}

/// Go's `time.ParseDuration`, which the recovery endpoints use for `expires_in` (§9): an
/// optional sign, then `number unit` pairs (`ns|us|µs|ms|s|m|h`, fractions allowed); `"0"`
/// alone is zero. `None` when Go would fail to parse it ("7d", "soon", "").
pub(crate) fn parse_go_duration(s: &str) -> Option<SignedDuration> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(SignedDuration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: f64 = 0.0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut num_len = int_len;
        let mut frac_len = 0;
        if rest[int_len..].starts_with('.') {
            frac_len = rest[int_len + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            num_len = int_len + 1 + frac_len;
        }
        if int_len == 0 && frac_len == 0 {
            return None;
        }
        let number: f64 = format!("0{}", &rest[..num_len]).parse().ok()?;
        rest = &rest[num_len..];
        let (unit_nanos, unit_len) = [
            ("ns", 1.0, 2),
            ("us", 1e3, 2),
            ("µs", 1e3, "µs".len()),
            ("μs", 1e3, "μs".len()),
            ("ms", 1e6, 2),
            ("s", 1e9, 1),
            ("m", 60e9, 1),
            ("h", 3600e9, 1),
        ]
        .iter()
        .find(|(u, _, _)| rest.starts_with(u))
        .map(|(_, n, l)| (*n, *l))?;
        rest = &rest[unit_len..];
        total_nanos += number * unit_nanos;
    }
    if !total_nanos.is_finite() || total_nanos > 9.2e18 {
        return None;
    }
    let d = SignedDuration::from_nanos(total_nanos as i64);
    Some(if neg { -d } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify() {
        let h = hash_password("pw");
        assert!(h.starts_with("$argon2id$v=19$m=65536,t=1,p=1$"));
        assert!(verify_password(&h, "pw"));
        assert!(!verify_password(&h, "px"));
        assert!(!verify_password("$2a$10$abc", "pw"));
        assert!(is_known_hash_format(&h));
        assert!(!is_known_hash_format("foo"));
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h"), Some(SignedDuration::from_hours(1)));
        assert_eq!(
            parse_go_duration("1h30m"),
            Some(SignedDuration::from_mins(90))
        );
        assert_eq!(
            parse_go_duration("1.5s"),
            Some(SignedDuration::from_millis(1500))
        );
        assert_eq!(parse_go_duration("0s"), Some(SignedDuration::ZERO));
        assert_eq!(parse_go_duration("7d"), None);
        assert_eq!(
            parse_go_duration("-1h"),
            Some(-SignedDuration::from_hours(1))
        );
        assert_eq!(parse_go_duration("0"), Some(SignedDuration::ZERO));
        assert_eq!(
            parse_go_duration(".5s"),
            Some(SignedDuration::from_millis(500))
        );
        assert_eq!(parse_go_duration("h"), None);
        assert_eq!(parse_go_duration("1"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(
            parse_go_duration("1.h"),
            Some(SignedDuration::from_hours(1))
        );
        assert_eq!(parse_go_duration("."), None);
    }
}
