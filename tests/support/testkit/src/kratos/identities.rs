//! Identity endpoints: GET (§2), PATCH (§6), PUT (§7), DELETE credentials (§8), DELETE and
//! the `credentials_identifier` lookup.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Flavour;
use super::model::{
    CREDENTIAL_TYPES, Credential, Creds, Identity, RecoveryAddress, SaveError, VerifiableAddress,
    hash_password, is_known_hash_format, now, providers, validate_traits, webauthn_keys, zero_time,
};
use super::patch;
use super::server::{Ctx, Reply, bad_request, conflict, herodot, not_found_resource};

/// Identity routes parse ids with `x.ParseUUID` = `FromStringOrNil`: a malformed id becomes
/// the nil UUID, which is never found, so the answer is 404, not 400 (§0).
fn parse_identity_uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap_or(Uuid::nil())
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A Go `json.Unmarshal` type error as a 400.
fn type_error(field: &str, v: &Value, go_type: &str) -> Reply {
    herodot(
        400,
        Some(&format!(
            "json: cannot unmarshal {} into Go struct field .{field} of type {go_type}",
            go_kind(v)
        )),
        None,
    )
}

/// A string field: absent/null → `None`.
fn opt_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, Reply> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(type_error(key, v, "string")),
    }
}

fn opt_time(obj: &Map<String, Value>, key: &str) -> Result<Option<Timestamp>, Reply> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse::<Timestamp>().map(Some).map_err(|_| {
            herodot(
                400,
                Some(&format!(
                    "parsing time \"{s}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse"
                )),
                None,
            )
        }),
        Some(v) => Err(type_error(key, v, "time.Time")),
    }
}

fn check_schema(schema_id: &str) -> Result<(), Reply> {
    if schema_id == "default" {
        Ok(())
    } else {
        Err(bad_request(&format!(
            "unable to find JSON Schema ID: {schema_id}"
        )))
    }
}

fn traits_error(reason: &str) -> Reply {
    herodot(
        400,
        Some("The request was malformed or contained invalid parameters"),
        Some(reason),
    )
}

/// Stores the identity, mapping a duplicate e-mail to 409.
fn save(ctx: &Ctx<'_>, identity: Identity) -> Result<Value, Reply> {
    let body = identity.to_json(&ctx.shared.base_url, Creds::NoConfig);
    match ctx.shared.db().save_identity(identity) {
        Ok(()) => Ok(body),
        Err(SaveError::Conflict) => Err(conflict()),
    }
}

/// `GET /admin/identities/{id}[?include_credential=…]` (§2). `credentials` is always there;
/// `config` only for the included types. 404 for an unknown or malformed id, 400 for an
/// `include_credential` value `ParseCredentialsType` does not know (including `profile` and
/// `identifier_first`). As in Kratos, the reason prints the list parsed so far, not the bad
/// value.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Reply {
    let iid = parse_identity_uuid(id);
    let db = ctx.shared.db();
    let Some(identity) = db.identities.get(&iid) else {
        return not_found_resource();
    };
    let mut include: Vec<String> = vec![];
    for v in ctx.q_all("include_credential") {
        if CREDENTIAL_TYPES.contains(&v) {
            include.push(v.to_string());
        } else {
            return bad_request(&format!(
                "Invalid value `[{}]` for parameter `include_credential`.",
                include.join(" ")
            ));
        }
    }
    Reply::json(
        200,
        &identity.to_json(&ctx.shared.base_url, Creds::Include(&include)),
    )
}

/// `GET /admin/identities[?credentials_identifier=]`: an exact-match lookup (§2), or the
/// first page of all identities.
pub(crate) fn list(ctx: &Ctx<'_>) -> Reply {
    let db = ctx.shared.db();
    let base = &ctx.shared.base_url;
    if let Some(ci) = ctx.q("credentials_identifier").filter(|s| !s.is_empty()) {
        let found: Vec<Value> = db
            .identity_ids_by_identifier(ci)
            .and_then(|i| db.identities.get(&i))
            .map(|i| i.to_json(base, Creds::NoConfig))
            .into_iter()
            .collect();
        return Reply::json(200, &Value::Array(found));
    }
    let size = ctx
        .q("page_size")
        .or(ctx.q("per_page"))
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(250)
        .min(1000);
    let mut all: Vec<&Identity> = db.identities.values().collect();
    all.sort_by_key(|i| i.id);
    let body: Vec<Value> = all
        .into_iter()
        .take(size)
        .map(|i| i.to_json(base, Creds::NoConfig))
        .collect();
    Reply::json(200, &Value::Array(body))
}

/// `DELETE /admin/identities/{id}`: 204, or 404 for an unknown identity.
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str) -> Reply {
    let iid = parse_identity_uuid(id);
    if ctx.shared.db().delete_identity(iid) {
        Reply::empty(204)
    } else {
        not_found_resource()
    }
}

/// `PATCH /admin/identities/{id}` (§6).
///
/// - The identity is looked up first (404), then the patch is decoded and checked: only
///   add/remove/replace; the flavour's deny list; errors are 400 with the patch error as
///   `message` and reason `failed to apply JSON patch` (current) or `An error occured when
///   applying the JSON patch` (1.3.x).
/// - **Current**: the document patched is the identity *with* every credential config, and
///   the patched credentials are persisted verbatim: `replace
///   /credentials/password/config/password` stores the plaintext next to the old (still
///   valid) hash; `remove /credentials/password` drops it, after which the schema re-creates
///   an *empty* password credential: the hash is wiped with no last-first-factor check. A
///   whole credential whose `type` does not equal its key is refused.
/// - **1.3.x**: the document has no `credentials` key and the credentials are restored after
///   patching: `remove /credentials/password` fails (400), `add`/`replace` under
///   `/credentials/…` succeed and change nothing.
/// - `/state` must be active|inactive; a change sets `state_changed_at`. Traits are
///   re-validated; addresses and identifiers follow `traits.email`; a taken e-mail is 409.
/// - No effect on sessions. The answer carries credentials without config.
pub(crate) fn patch(ctx: &Ctx<'_>, id: &str) -> Reply {
    let iid = parse_identity_uuid(id);
    let Some(current) = ctx.shared.db().identities.get(&iid).cloned() else {
        return not_found_resource();
    };
    let flavour = ctx.flavour();
    let reason = match flavour {
        Flavour::Current => "failed to apply JSON patch",
        Flavour::V1_3 => "An error occured when applying the JSON patch",
    };
    let patch_error = |msg: String| herodot(400, Some(&msg), Some(reason));
    let ops = match patch::decode(ctx.body) {
        Ok(o) => o,
        Err(e) => return patch_error(e),
    };
    if let Err(e) = patch::check(flavour, &ops) {
        return patch_error(e);
    }
    let mut doc = match flavour {
        Flavour::Current => current.to_json(&ctx.shared.base_url, Creds::All),
        Flavour::V1_3 => current.to_json(&ctx.shared.base_url, Creds::Omit),
    };
    if let Err(e) = patch::apply(&mut doc, &ops) {
        return patch_error(e);
    }
    let updated = match from_patched(&current, &doc, flavour, ctx) {
        Ok(i) => i,
        Err(r) => return r,
    };
    match save(ctx, updated) {
        Ok(body) => Reply::json(200, &body),
        Err(r) => r,
    }
}

/// Turns the patched document back into an identity, as Go's `json.Unmarshal` followed by
/// `IdentityManager.Update` would.
fn from_patched(
    current: &Identity,
    doc: &Value,
    flavour: Flavour,
    ctx: &Ctx<'_>,
) -> Result<Identity, Reply> {
    let Some(obj) = doc.as_object() else {
        return Err(herodot(
            400,
            Some("json: cannot unmarshal into Go value of type identity.Identity"),
            None,
        ));
    };
    let t = now();
    let mut next = current.clone();
    next.schema_id = opt_str(obj, "schema_id")?.unwrap_or_default();
    check_schema(&next.schema_id)?;
    let state = opt_str(obj, "state")?.unwrap_or_default();
    if state != current.state {
        if state != "active" && state != "inactive" {
            return Err(bad_request(&format!(
                "The supplied state ('{state}') was not valid. Valid states are ('active', 'inactive')."
            )));
        }
        next.state = state;
        next.state_changed_at = t;
    } else if let Some(sc) = opt_time(obj, "state_changed_at")? {
        // `/state_changed_at` is not on the deny list (the entry is `/stateChangedAt`).
        next.state_changed_at = sc;
    }
    next.traits = obj.get("traits").cloned().unwrap_or(Value::Null);
    validate_traits(&next.traits).map_err(|e| traits_error(&e))?;
    next.metadata_public = obj.get("metadata_public").cloned().unwrap_or(Value::Null);
    next.metadata_admin = obj.get("metadata_admin").cloned().unwrap_or(Value::Null);
    next.external_id = opt_str(obj, "external_id")?.filter(|s| !s.is_empty());
    next.verifiable_addresses = verifiable_from(obj.get("verifiable_addresses"), current)?;
    next.recovery_addresses = recovery_from(obj.get("recovery_addresses"), current)?;
    if flavour == Flavour::Current {
        next.credentials = credentials_from(obj.get("credentials"), current, t)?;
    }
    next.updated_at = t;
    next.recompute(ctx.shared.config.passwordless_code_login);
    Ok(next)
}

fn verifiable_from(v: Option<&Value>, current: &Identity) -> Result<Vec<VerifiableAddress>, Reply> {
    let items = match v {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(type_error(
                "verifiable_addresses",
                other,
                "[]identity.VerifiableAddress",
            ));
        }
    };
    let mut out = vec![];
    for item in items {
        let Some(o) = item.as_object() else {
            return Err(type_error(
                "verifiable_addresses",
                item,
                "identity.VerifiableAddress",
            ));
        };
        let value = opt_str(o, "value")?.unwrap_or_default().to_lowercase();
        let old = current
            .verifiable_addresses
            .iter()
            .find(|a| a.value == value);
        let t = now();
        let verified = match o.get("verified") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(x) => return Err(type_error("verified", x, "bool")),
        };
        out.push(VerifiableAddress {
            id: opt_str(o, "id")?
                .and_then(|s| Uuid::parse_str(&s).ok())
                .or(old.map(|a| a.id))
                .unwrap_or_else(Uuid::new_v4),
            value,
            verified,
            status: opt_str(o, "status")?.unwrap_or_else(|| "pending".into()),
            verified_at: opt_time(o, "verified_at")?,
            created_at: old.map(|a| a.created_at).unwrap_or(t),
            updated_at: t,
        });
    }
    Ok(out)
}

fn recovery_from(v: Option<&Value>, current: &Identity) -> Result<Vec<RecoveryAddress>, Reply> {
    let items = match v {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(type_error(
                "recovery_addresses",
                other,
                "[]identity.RecoveryAddress",
            ));
        }
    };
    let mut out = vec![];
    for item in items {
        let Some(o) = item.as_object() else {
            return Err(type_error(
                "recovery_addresses",
                item,
                "identity.RecoveryAddress",
            ));
        };
        let value = opt_str(o, "value")?.unwrap_or_default().to_lowercase();
        let old = current.recovery_addresses.iter().find(|a| a.value == value);
        let t = now();
        out.push(RecoveryAddress {
            id: old.map(|a| a.id).unwrap_or_else(Uuid::new_v4),
            value,
            created_at: old.map(|a| a.created_at).unwrap_or(t),
            updated_at: old.map(|a| a.updated_at).unwrap_or(t),
        });
    }
    Ok(out)
}

/// The patched `credentials` map (current flavour), persisted verbatim. Since 2086175b2 a
/// credential whose `type` does not equal its key is refused (§6).
fn credentials_from(
    v: Option<&Value>,
    current: &Identity,
    t: Timestamp,
) -> Result<BTreeMap<String, Credential>, Reply> {
    let map = match v {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(type_error(
                "credentials",
                other,
                "map[identity.CredentialsType]identity.Credentials",
            ));
        }
    };
    let mut out = BTreeMap::new();
    for (key, value) in map {
        let Some(o) = value.as_object() else {
            return Err(type_error("credentials", value, "identity.Credentials"));
        };
        let kind = opt_str(o, "type")?.unwrap_or_default();
        if kind != *key {
            return Err(bad_request(&format!(
                "credentials.{key}.type must equal \"{key}\", got \"{kind}\""
            )));
        }
        let identifiers: Vec<String> = match o.get("identifiers") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| type_error("identifiers", x, "string"))
                })
                .collect::<Result<_, _>>()?,
            Some(x) => return Err(type_error("identifiers", x, "[]string")),
        };
        let config = match o.get("config") {
            None | Some(Value::Null) => json!({}),
            Some(c) => c.clone(),
        };
        let version = match o.get("version") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or(0),
            Some(x) => return Err(type_error("version", x, "int")),
        };
        let old = current.credentials.get(key);
        let unchanged = old.is_some_and(|c| {
            c.identifiers == identifiers && c.config == config && c.version == version
        });
        let created_at = opt_time(o, "created_at")?
            .or(old.map(|c| c.created_at))
            .unwrap_or(t);
        let updated_at = match (unchanged, old) {
            (true, Some(c)) => c.updated_at,
            _ => t,
        };
        out.insert(
            key.clone(),
            Credential {
                kind,
                identifiers,
                config,
                version,
                created_at: if created_at == zero_time() {
                    t
                } else {
                    created_at
                },
                updated_at,
            },
        );
    }
    Ok(out)
}

/// `PUT /admin/identities/{id}` (§7).
///
/// - `Content-Type: application/json` is required (decoderx); the body is decoded before the
///   identity is looked up (404 after a valid body).
/// - `traits` always replaced and validated; `metadata_public`, `metadata_admin`,
///   `external_id` always replaced: **omitting them wipes them**. Empty `schema_id`/`state`
///   keep the current value; an invalid state is 400 "identity state is not valid".
/// - `credentials` omitted/null keeps them all. `password.config.password` is hashed and
///   replaces the stored hash (config becomes exactly `{"hashed_password": …}`);
///   `hashed_password` must be in a known format; `use_password_migration_hook: true` leaves
///   no hash. A password config with none of the three (`{}`) is an empty hash, which is no
///   known format either: 400. oidc/saml/lookup_secret/webauthn/passkey are merged (added,
///   never removed); totp is replaced. No password policy, no effect on sessions.
pub(crate) fn put(ctx: &Ctx<'_>, id: &str) -> Reply {
    if let Err(r) = ctx.require_json() {
        return r;
    }
    let body: Value = match serde_json::from_slice(ctx.body) {
        Ok(v) => v,
        Err(e) => {
            let detail = if e.is_eof() {
                "unexpected end of JSON input".to_string()
            } else {
                e.to_string()
            };
            return bad_request(&format!("Unable to decode JSON payload: {detail}"));
        }
    };
    let Some(obj) = body.as_object() else {
        return herodot(
            400,
            Some(&format!(
                "json: cannot unmarshal {} into Go value of type identity.UpdateIdentityBody",
                go_kind(&body)
            )),
            None,
        );
    };
    let iid = parse_identity_uuid(id);
    let Some(current) = ctx.shared.db().identities.get(&iid).cloned() else {
        return not_found_resource();
    };
    match put_apply(ctx, current, obj) {
        Ok(next) => match save(ctx, next) {
            Ok(body) => Reply::json(200, &body),
            Err(r) => r,
        },
        Err(r) => r,
    }
}

fn put_apply(
    ctx: &Ctx<'_>,
    current: Identity,
    obj: &Map<String, Value>,
) -> Result<Identity, Reply> {
    let t = now();
    let mut next = current;
    if let Some(s) = opt_str(obj, "schema_id")?.filter(|s| !s.is_empty()) {
        next.schema_id = s;
    }
    if let Some(s) = opt_str(obj, "state")?.filter(|s| !s.is_empty())
        && s != next.state
    {
        if s != "active" && s != "inactive" {
            return Err(bad_request("identity state is not valid"));
        }
        next.state = s;
        next.state_changed_at = t;
    }
    next.traits = obj.get("traits").cloned().unwrap_or(Value::Null);
    next.metadata_public = obj.get("metadata_public").cloned().unwrap_or(Value::Null);
    next.metadata_admin = obj.get("metadata_admin").cloned().unwrap_or(Value::Null);
    next.external_id = opt_str(obj, "external_id")?.filter(|s| !s.is_empty());
    match obj.get("credentials") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => import_credentials(&mut next, c, t)?,
        Some(v) => {
            return Err(type_error(
                "credentials",
                v,
                "identity.IdentityWithCredentials",
            ));
        }
    }
    check_schema(&next.schema_id)?;
    validate_traits(&next.traits).map_err(|e| traits_error(&e))?;
    next.updated_at = t;
    next.recompute(ctx.shared.config.passwordless_code_login);
    Ok(next)
}

fn config_of<'a>(
    c: &'a Map<String, Value>,
    kind: &str,
) -> Result<Option<&'a Map<String, Value>>, Reply> {
    match c.get(kind) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => match o.get("config") {
            None | Some(Value::Null) => Ok(Some(empty_map())),
            Some(Value::Object(cfg)) => Ok(Some(cfg)),
            Some(v) => Err(type_error("config", v, "object")),
        },
        Some(v) => Err(type_error(kind, v, "object")),
    }
}

fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

/// `importCredentials` (§7).
fn import_credentials(
    identity: &mut Identity,
    c: &Map<String, Value>,
    t: Timestamp,
) -> Result<(), Reply> {
    if let Some(cfg) = config_of(c, "password")? {
        // `ImportPasswordCredentials`: the migration hook wins and stores no hash; otherwise
        // a plaintext is hashed, and whatever hash results (an empty one when the config
        // names neither) must be in a known format.
        let plain = opt_str(cfg, "password")?.unwrap_or_default();
        let mut hashed = opt_str(cfg, "hashed_password")?.unwrap_or_default();
        let hook = match cfg.get("use_password_migration_hook") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(type_error("use_password_migration_hook", v, "bool")),
        };
        let mut config = Map::new();
        if hook {
            config.insert("use_password_migration_hook".into(), json!(true));
        } else {
            if !plain.is_empty() {
                hashed = hash_password(&plain);
            }
            if !is_known_hash_format(&hashed) {
                return Err(bad_request(
                    "The imported password does not match any known hash format.",
                ));
            }
            config.insert("hashed_password".into(), json!(hashed));
        }
        let cred = identity
            .credentials
            .entry("password".into())
            .or_insert_with(|| Credential::new("password", vec![], json!({}), 1));
        cred.config = Value::Object(config);
        cred.version = 1;
        cred.updated_at = t;
    }
    for kind in ["oidc", "saml"] {
        if let Some(cfg) = config_of(c, kind)? {
            merge_providers(identity, kind, cfg, t)?;
        }
    }
    if let Some(cfg) = config_of(c, "totp")? {
        let url = opt_str(cfg, "totp_url")?.unwrap_or_default();
        let created = identity.credentials.get("totp").map(|c| c.created_at);
        let mut cred = Credential::new(
            "totp",
            vec![identity.id.to_string()],
            json!({ "totp_url": url }),
            0,
        );
        if let Some(c) = created {
            cred.created_at = c;
        }
        identity.credentials.insert("totp".into(), cred);
    }
    if let Some(cfg) = config_of(c, "lookup_secret")? {
        let codes = match cfg.get("codes") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a.clone(),
            Some(v) => return Err(type_error("codes", v, "[]identity.RecoveryCode")),
        };
        let cred = identity
            .credentials
            .entry("lookup_secret".into())
            .or_insert_with(|| {
                Credential::new("lookup_secret", vec![], json!({ "recovery_codes": [] }), 0)
            });
        let mut existing = cred
            .config
            .get("recovery_codes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for code in codes {
            let Some(s) = code.get("code").and_then(Value::as_str) else {
                continue;
            };
            if !existing
                .iter()
                .any(|e| e.get("code").and_then(Value::as_str) == Some(s))
            {
                existing.push(json!({
                    "code": s,
                    "used_at": code.get("used_at").cloned().unwrap_or(Value::Null),
                }));
            }
        }
        cred.config = json!({ "recovery_codes": existing });
        cred.updated_at = t;
    }
    for kind in ["webauthn", "passkey"] {
        if let Some(cfg) = config_of(c, kind)? {
            merge_webauthn(identity, kind, cfg, t)?;
        }
    }
    Ok(())
}

fn merge_providers(
    identity: &mut Identity,
    kind: &str,
    cfg: &Map<String, Value>,
    t: Timestamp,
) -> Result<(), Reply> {
    let incoming = match cfg.get("providers") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.clone(),
        Some(v) => return Err(type_error("providers", v, "[]identity.Provider")),
    };
    let cred = identity
        .credentials
        .entry(kind.to_string())
        .or_insert_with(|| Credential::new(kind, vec![], json!({ "providers": [] }), 0));
    let mut list = providers(&cred.config);
    for p in incoming {
        let Some(o) = p.as_object() else {
            return Err(type_error("providers", &p, "identity.Provider"));
        };
        let provider = opt_str(o, "provider")?.unwrap_or_default();
        let subject = opt_str(o, "subject")?.unwrap_or_default();
        if provider.is_empty() || subject.is_empty() {
            return Err(bad_request(
                "The OIDC/SAML credential needs both a provider and a subject.",
            ));
        }
        let same = |e: &Value| {
            e.get("provider").and_then(Value::as_str) == Some(provider.as_str())
                && e.get("subject").and_then(Value::as_str) == Some(subject.as_str())
        };
        let mut entry = json!({
            "provider": provider,
            "subject": subject,
            "initial_id_token": "",
            "initial_access_token": "",
            "initial_refresh_token": "",
        });
        if let Some(org) = o.get("organization").filter(|v| !v.is_null()) {
            entry["organization"] = org.clone();
        }
        if let Some(Value::Bool(true)) = o.get("use_auto_link") {
            entry["use_auto_link"] = json!(true);
        }
        match list.iter_mut().find(|e| same(e)) {
            Some(e) => {
                if let Some(org) = entry.get("organization") {
                    e["organization"] = org.clone();
                }
            }
            None => list.push(entry),
        }
        let ident = format!("{provider}:{subject}");
        if !cred.identifiers.contains(&ident) {
            cred.identifiers.push(ident);
        }
    }
    cred.config["providers"] = Value::Array(list);
    cred.updated_at = t;
    Ok(())
}

fn merge_webauthn(
    identity: &mut Identity,
    kind: &str,
    cfg: &Map<String, Value>,
    t: Timestamp,
) -> Result<(), Reply> {
    let incoming = match cfg.get("credentials") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.clone(),
        Some(v) => {
            return Err(type_error(
                "credentials",
                v,
                "[]identity.CredentialWebAuthn",
            ));
        }
    };
    let cred = identity
        .credentials
        .entry(kind.to_string())
        .or_insert_with(|| Credential::new(kind, vec![], json!({ "credentials": [] }), 1));
    let mut keys = webauthn_keys(&cred.config);
    for mut k in incoming {
        if !k.is_object() {
            return Err(type_error("credentials", &k, "identity.CredentialWebAuthn"));
        }
        if kind == "passkey" {
            k["is_passwordless"] = json!(true);
        }
        let id = k.get("id").cloned();
        match keys
            .iter_mut()
            .find(|e| id.is_some() && e.get("id") == id.as_ref())
        {
            Some(e) => *e = k,
            None => keys.push(k),
        }
    }
    if !cred.config.is_object() {
        cred.config = json!({});
    }
    cred.config["credentials"] = Value::Array(keys);
    if let Some(uh) = cfg.get("user_handle").filter(|v| !v.is_null()) {
        cred.config["user_handle"] = uh.clone();
    }
    cred.updated_at = t;
    Ok(())
}

/// `DELETE /admin/identities/{id}/credentials/{type}[?identifier=]` (§8).
///
/// Unknown/malformed identity → 404; a type the identity does not have → 404 "You tried to
/// remove a <t> but this user have no <t> set up.". Then per type:
/// - totp, lookup_secret: removed; webauthn: only the non-passwordless (MFA) keys go.
/// - Current: password only with ≥ 2 first factors (else 400 "You cannot remove the last
///   first factor credential."), after which its config is `{}` and the identifiers stay;
///   oidc/saml: same count first, then `identifier` is required (400) and must exist (404);
///   deviceauthn needs `identifier`; passkey, code and others: 400 "Credentials type <t>
///   cannot be deleted.".
/// - 1.3.x: password and code: 400 "You cannot remove first factor credentials."; oidc
///   with `identifier` and no first-factor count; the rest cannot be deleted.
pub(crate) fn delete_credential(ctx: &Ctx<'_>, id: &str, kind: &str) -> Reply {
    let iid = parse_identity_uuid(id);
    let passwordless = ctx.shared.config.passwordless_code_login;
    let flavour = ctx.flavour();
    let identifier = ctx.q("identifier").filter(|s| !s.is_empty());
    let mut db = ctx.shared.db();
    let Some(identity) = db.identities.get_mut(&iid) else {
        return not_found_resource();
    };
    if !identity.credentials.contains_key(kind) {
        return herodot(
            404,
            None,
            Some(&format!(
                "You tried to remove a {kind} but this user have no {kind} set up."
            )),
        );
    }
    let cannot = || bad_request(&format!("Credentials type {kind} cannot be deleted."));
    let last_factor = || bad_request("You cannot remove the last first factor credential.");
    let t = now();
    match (flavour, kind) {
        (_, "totp" | "lookup_secret") => {
            identity.credentials.remove(kind);
        }
        (_, "webauthn") => remove_mfa_keys(identity),
        (Flavour::V1_3, "password" | "code") => {
            return bad_request("You cannot remove first factor credentials.");
        }
        (Flavour::V1_3, "oidc") => {
            if let Err(r) = remove_provider(identity, kind, identifier) {
                return r;
            }
        }
        (Flavour::V1_3, _) => return cannot(),
        (Flavour::Current, "password") => {
            if identity.count_first_factors(passwordless) < 2 {
                return last_factor();
            }
            if let Some(c) = identity.credentials.get_mut("password") {
                c.config = json!({});
                c.updated_at = t;
            }
        }
        (Flavour::Current, "oidc" | "saml") => {
            if identity.count_first_factors(passwordless) < 2 {
                return last_factor();
            }
            if let Err(r) = remove_provider(identity, kind, identifier) {
                return r;
            }
        }
        (Flavour::Current, "deviceauthn") => {
            let Some(want) = identifier else {
                return bad_request("You must provide an identifier to delete this credential.");
            };
            let Some(c) = identity.credentials.get_mut("deviceauthn") else {
                return cannot();
            };
            let list_key = if c.config.get("keys").is_some() {
                "keys"
            } else {
                "credentials"
            };
            let mut keys = c
                .config
                .get(list_key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let before = keys.len();
            keys.retain(|k| {
                k.get("client_key_id").and_then(Value::as_str) != Some(want)
                    && k.get("id").and_then(Value::as_str) != Some(want)
            });
            if keys.len() == before {
                return herodot(
                    404,
                    None,
                    Some(&format!(
                        "The identifier `{want}` was not found among deviceauthn credentials."
                    )),
                );
            }
            c.config[list_key] = Value::Array(keys);
            c.updated_at = t;
        }
        (Flavour::Current, _) => return cannot(),
    }
    identity.updated_at = t;
    Reply::empty(204)
}

fn remove_mfa_keys(identity: &mut Identity) {
    let Some(c) = identity.credentials.get_mut("webauthn") else {
        return;
    };
    let kept: Vec<Value> = webauthn_keys(&c.config)
        .into_iter()
        .filter(|k| k.get("is_passwordless").and_then(Value::as_bool) == Some(true))
        .collect();
    if kept.is_empty() {
        identity.credentials.remove("webauthn");
    } else {
        c.config["credentials"] = Value::Array(kept);
        c.updated_at = now();
    }
}

fn remove_provider(
    identity: &mut Identity,
    kind: &str,
    identifier: Option<&str>,
) -> Result<(), Reply> {
    let Some(want) = identifier else {
        return Err(bad_request(
            "You must provide an identifier to delete this credential.",
        ));
    };
    let Some(c) = identity.credentials.get_mut(kind) else {
        return Err(not_found_resource());
    };
    let list = providers(&c.config);
    let keep: Vec<Value> = list
        .iter()
        .filter(|p| {
            let id = format!(
                "{}:{}",
                p.get("provider").and_then(Value::as_str).unwrap_or(""),
                p.get("subject").and_then(Value::as_str).unwrap_or("")
            );
            id != want
        })
        .cloned()
        .collect();
    if keep.len() == list.len() {
        return Err(herodot(
            404,
            None,
            Some(&format!(
                "The identifier `{want}` was not found among {} credentials.",
                kind.to_uppercase()
            )),
        ));
    }
    if keep.is_empty() {
        identity.credentials.remove(kind);
    } else {
        c.config["providers"] = Value::Array(keep);
        c.identifiers.retain(|i| i != want);
        c.updated_at = now();
    }
    Ok(())
}
