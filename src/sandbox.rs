//! The rehearsal stack of `atoctl drill`, started from the atoctl binary itself: no second
//! program to build or start.
//!
//! [`Sandbox::start`] serves, on 127.0.0.1 with ports the system picks,
//! - the strict Kratos and Hydra admin API double of `atoctl-testkit` (one server answers both
//!   APIs, as the tests use it), without its check of requests against the OpenAPI documents
//!   (they are not installed with atoctl) but with every other behaviour of the real servers;
//! - the Pwned Passwords range API double, whose corpus holds the compromised password;
//!
//! and seeds one account takeover (the constants below):
//! - the compromised identity [`OWNER_EMAIL`], whose password is a well-known breached one;
//! - the owner's own session from [`OWNER_IP`] (Berlin) and the attacker's from
//!   [`ATTACKER_IP`] (Lagos);
//! - an OAuth2 consent for [`OAUTH2_CLIENT`] granted in the attacker's Hydra login session;
//! - two other identities ([`OTHER_EMAILS`]), each with its own session and one from the
//!   attacker's IP: the accounts pattern-scan finds.
//!
//! [`AuditTrail::seed`] writes the matching `security_audit` rows into a scratch schema of a
//! real PostgreSQL database (the table and indexes of `atoctl schema`), and hands back a URL
//! under which atoctl's unqualified queries read that schema.
//!
//! The read-backs ([`Sandbox::active_sessions`], [`Sandbox::password_login`], …) let the drill
//! prove the end state from the doubles themselves, not from what atoctl reported.
//!
//! The password is held as a [`SecretString`]: no `Debug`, message or error of this module
//! shows it, nor any database URL (which may carry a password).

use std::fmt;
use std::time::Duration;

use atoctl_testkit::hibp::{self as hibp_double, RangeDouble};
use atoctl_testkit::kratos::{
    Config, Flavour, IdentitySeed, KratosDouble, LoginResult, SessionSeed,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::audit::{self, db};
use crate::error::{AppError, Result};

/// The compromised identity's login identifier.
pub const OWNER_EMAIL: &str = "dana.owner@example.com";
/// The owner's usual address (documentation range, RFC 5737).
pub const OWNER_IP: &str = "198.51.100.23";
/// The owner's browser.
pub const OWNER_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
/// Where Kratos places the owner's session.
pub const OWNER_LOCATION: &str = "Berlin, DE";
/// The attacker's address.
pub const ATTACKER_IP: &str = "203.0.113.66";
/// The attacker's browser.
pub const ATTACKER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/// Where Kratos places the attacker's sessions.
pub const ATTACKER_LOCATION: &str = "Lagos, NG";
/// The OAuth2 client the attacker granted access to the owner's account.
pub const OAUTH2_CLIENT: &str = "inbox-sync";
/// The other identities the attacker logged in to from [`ATTACKER_IP`].
pub const OTHER_EMAILS: [&str; 2] = ["sam.rivera@example.com", "ines.moreau@example.com"];

/// The compromised password: one of the best-known breached passwords, in the range double's
/// corpus with this count.
const BREACHED_PASSWORD: &str = "P@ssw0rd";
const BREACHED_COUNT: u64 = 125_771;

/// The other identities' own addresses, browsers and places, in the order of [`OTHER_EMAILS`].
const OTHER_HOMES: [(&str, &str, &str, Place); 2] = [
    (
        "198.51.100.41",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Hamburg, DE",
        HAMBURG,
    ),
    (
        "198.51.100.57",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Lyon, FR",
        LYON,
    ),
];

/// A place for the audit trail's `geo`.
#[derive(Clone, Copy)]
struct Place {
    lat: f64,
    lon: f64,
    country: &'static str,
    city: &'static str,
}

const BERLIN: Place = Place {
    lat: 52.52,
    lon: 13.405,
    country: "DE",
    city: "Berlin",
};
const LAGOS: Place = Place {
    lat: 6.5244,
    lon: 3.3792,
    country: "NG",
    city: "Lagos",
};
const HAMBURG: Place = Place {
    lat: 53.5511,
    lon: 9.9937,
    country: "DE",
    city: "Hamburg",
};
const LYON: Place = Place {
    lat: 45.764,
    lon: 4.8357,
    country: "FR",
    city: "Lyon",
};

/// What the old password gets at Kratos's login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordLogin {
    /// It still logs in (and, as a real login would, that made a new session).
    Accepted,
    /// Kratos refuses it: wrong credentials.
    Rejected,
    /// The password is right but the identity is inactive (locked).
    IdentityDisabled,
}

/// The running doubles and the seeded story. Dropping it stops both servers.
pub struct Sandbox {
    kratos: KratosDouble,
    hibp: RangeDouble,
    identity: String,
    password: SecretString,
    owner_session: String,
    attacker_session: String,
    hydra_login_session: String,
    others: Vec<String>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("kratos_url", &self.kratos_url())
            .field("hibp_url", &self.hibp_url())
            .field("identity", &self.identity)
            .field("email", &OWNER_EMAIL)
            .field("others", &self.others)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts the Kratos/Hydra double and the range double on 127.0.0.1 and seeds the story.
    /// Fails (exit 1) only when a server cannot start: no free port, no thread.
    pub fn start() -> Result<Sandbox> {
        // The doubles run in threads of their own; glibc's name services must be settled before
        // any thread exists (a no-op after the first call, and outside the static build).
        crate::platform::prepare_name_lookups();
        let config = Config {
            flavour: Flavour::Current,
            // The OpenAPI documents are not installed with atoctl; everything else stays strict.
            validate_requests: false,
            // One thread serves the drill's requests: they come from one step at a time.
            worker_threads: 1,
            ..Config::default()
        };
        let kratos = KratosDouble::start_on(config, 0).map_err(|e| {
            AppError::failed(format!(
                "cannot start the sandbox's Kratos/Hydra double on 127.0.0.1: {e}"
            ))
            .caused_by(e)
        })?;
        let hibp = RangeDouble::try_start(hibp_double::Config::default()).map_err(|e| {
            AppError::failed(format!(
                "cannot start the sandbox's Pwned Passwords double on 127.0.0.1: {e}"
            ))
            .caused_by(e)
        })?;
        hibp.add_password(BREACHED_PASSWORD, BREACHED_COUNT);

        let identity =
            kratos.add_identity(IdentitySeed::new(OWNER_EMAIL).password(BREACHED_PASSWORD));
        let owner_session = kratos.add_session(
            &identity,
            SessionSeed::new().device(OWNER_IP, OWNER_UA, OWNER_LOCATION),
        );
        let attacker_session = kratos.add_session(
            &identity,
            SessionSeed::new().device(ATTACKER_IP, ATTACKER_UA, ATTACKER_LOCATION),
        );
        let hydra_login_session = kratos.add_login_session(&identity);
        kratos.add_consent_in_login_session(&identity, OAUTH2_CLIENT, &hydra_login_session);

        let mut others = Vec::with_capacity(OTHER_EMAILS.len());
        for (n, email) in OTHER_EMAILS.iter().enumerate() {
            let (ip, ua, location, _) = OTHER_HOMES[n];
            let id = kratos.add_identity(
                IdentitySeed::new(email).password(&format!("{}-{n}", Uuid::new_v4().simple())),
            );
            kratos.add_session(&id, SessionSeed::new().device(ip, ua, location));
            kratos.add_session(
                &id,
                SessionSeed::new().device(ATTACKER_IP, ATTACKER_UA, ATTACKER_LOCATION),
            );
            others.push(id);
        }
        Ok(Sandbox {
            kratos,
            hibp,
            identity,
            password: SecretString::from(BREACHED_PASSWORD),
            owner_session,
            attacker_session,
            hydra_login_session,
            others,
        })
    }

    /// The Kratos admin API (`--kratos-admin-url`): `http://127.0.0.1:PORT`.
    pub fn kratos_url(&self) -> String {
        self.kratos.url()
    }

    /// The Hydra admin API (`--hydra-admin-url`): the same server as Kratos's.
    pub fn hydra_url(&self) -> String {
        self.kratos.url()
    }

    /// The Pwned Passwords range API (`hibp-check --api-url`).
    pub fn hibp_url(&self) -> String {
        self.hibp.url()
    }

    /// The compromised identity's id (UUID).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The compromised identity's login identifier, [`OWNER_EMAIL`].
    pub fn email(&self) -> &str {
        OWNER_EMAIL
    }

    /// The compromised password (in the range double's corpus), for `respond
    /// --password-stdin`.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// The ids of the other identities the attacker logged in to, in the order of
    /// [`OTHER_EMAILS`].
    pub fn others(&self) -> &[String] {
        &self.others
    }

    /// The id of the owner's own Kratos session.
    pub fn owner_session(&self) -> &str {
        &self.owner_session
    }

    /// The id of the attacker's Kratos session on the compromised identity.
    pub fn attacker_session(&self) -> &str {
        &self.attacker_session
    }

    /// The Hydra login session (`sid`) the attacker's consent was granted in.
    pub fn hydra_login_session(&self) -> &str {
        &self.hydra_login_session
    }

    /// How many sessions of the identity Kratos would still accept (`/sessions/whoami`):
    /// active, unexpired, of an active identity.
    pub fn active_sessions(&self, identity: &str) -> usize {
        self.kratos
            .sessions_of(identity)
            .iter()
            .filter(|s| self.kratos.whoami(&s.id))
            .count()
    }

    /// Tries the compromised password at Kratos's login, as the attacker would.
    pub fn password_login(&self) -> PasswordLogin {
        match self
            .kratos
            .password_login(OWNER_EMAIL, self.password.expose_secret())
        {
            LoginResult::Ok { .. } => PasswordLogin::Accepted,
            LoginResult::InvalidCredentials => PasswordLogin::Rejected,
            LoginResult::IdentityDisabled => PasswordLogin::IdentityDisabled,
        }
    }

    /// How many OAuth2 consent sessions Hydra holds for the subject (an identity id).
    pub fn consents(&self, subject: &str) -> usize {
        self.kratos.consents_of(subject)
    }

    /// How many OAuth2 access and refresh tokens issued under the subject's consents remain.
    pub fn oauth2_tokens(&self, subject: &str) -> usize {
        self.kratos.tokens_of(subject)
    }

    /// The Hydra login sessions that were logged out (back-channel logout), in order.
    pub fn hydra_logouts(&self) -> Vec<String> {
        self.kratos.backchannel_logouts()
    }

    /// How many admin recovery codes were issued for the identity (never the codes).
    pub fn recovery_codes_issued(&self, identity: &str) -> usize {
        self.kratos.recovery_codes_issued(identity)
    }
}

/// Connecting, seeding and dropping are each bounded by this.
const DB_TIMEOUT: Duration = Duration::from_secs(30);

/// The scratch schema of a drill in the audit database, with the story's audit trail. Dropped
/// (with everything in it) by [`AuditTrail::remove`], or when the value is dropped.
pub struct AuditTrail {
    /// The URL the drill was given: it may carry a password, so it is never shown.
    given_url: String,
    schema: String,
    url: String,
    removed: bool,
}

impl fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditTrail")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// Creates a schema `atoctl_drill_<16 hex digits>` in the database of `database_url`, runs
    /// `atoctl schema` in it and inserts the story's events (see [`events`]), all in one
    /// transaction: a failure leaves nothing behind. The user needs CREATE on the database.
    pub async fn seed(database_url: &str, sandbox: &Sandbox) -> Result<AuditTrail> {
        let schema = format!(
            "atoctl_drill_{}",
            &Uuid::new_v4().simple().to_string()[..16]
        );
        let url = with_search_path(database_url, &schema)?;
        let target = db::parse_target(database_url)?;
        let mut client = db::connect(&target, DB_TIMEOUT).await?;
        let failed = |what: &str, e| pg_failure(what, &target.shown, e);
        let tx = client
            .transaction()
            .await
            .map_err(|e| failed("start the drill's transaction", e))?;
        tx.batch_execute(&format!(
            "SET LOCAL statement_timeout = '{}s'; CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema};",
            DB_TIMEOUT.as_secs()
        ))
        .await
        .map_err(|e| failed(&format!("create the scratch schema {schema}"), e))?;
        tx.batch_execute(audit::SCHEMA)
            .await
            .map_err(|e| failed(&format!("create the audit table in {schema}"), e))?;
        let rows = events(sandbox);
        let column = |f: fn(&Event) -> String| rows.iter().map(f).collect::<Vec<String>>();
        let identities = column(|e| e.identity.clone());
        let types = column(|e| e.event_type.to_string());
        let ips = column(|e| e.ip.to_string());
        let agents = column(|e| e.user_agent.to_string());
        let metadata = column(|e| e.metadata.to_string());
        let ago: Vec<i64> = rows.iter().map(|e| e.ago_secs).collect();
        tx.execute(
            "INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT i::uuid, t, ip::inet, ua, now() - make_interval(secs => ago), m::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[]) AS r(i, t, ip, ua, ago, m)
ORDER BY ago DESC",
            &[&identities, &types, &ips, &agents, &ago, &metadata],
        )
        .await
        .map_err(|e| failed(&format!("insert the audit trail into {schema}"), e))?;
        tx.commit()
            .await
            .map_err(|e| failed(&format!("commit the scratch schema {schema}"), e))?;
        Ok(AuditTrail {
            given_url: database_url.to_string(),
            schema,
            url,
            removed: false,
        })
    }

    /// The audit database URL for the drill's steps: the one given, with
    /// `options=-csearch_path=<schema>`, so that their unqualified `security_audit` is the
    /// scratch schema's. It carries whatever credentials the given URL had: never show it.
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// The scratch schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Drops the scratch schema and everything in it.
    pub async fn remove(mut self) -> Result<()> {
        self.removed = true;
        drop_schema(&self.given_url, &self.schema).await
    }
}

impl Drop for AuditTrail {
    /// Drops the schema when [`AuditTrail::remove`] was not called (an error or a panic on the
    /// way): on a thread of its own with its own runtime, so that it works inside and outside
    /// an async runtime alike. A failure is a warning naming the schema to drop by hand.
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let url = self.given_url.clone();
        let schema = self.schema.clone();
        let done = std::thread::Builder::new()
            .name("drill-cleanup".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| AppError::failed(format!("no async runtime: {e}")))?;
                rt.block_on(drop_schema(&url, &schema))
            })
            .map_err(AppError::from)
            .and_then(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(AppError::failed("the clean-up thread panicked")))
            });
        if let Err(e) = done {
            crate::output::warn(&format!(
                "the drill's scratch schema {} is still in the audit database: {} (drop it with DROP SCHEMA {} CASCADE)",
                self.schema,
                e.line_plain(),
                self.schema
            ));
        }
    }
}

async fn drop_schema(database_url: &str, schema: &str) -> Result<()> {
    let target = db::parse_target(database_url)?;
    let client = db::connect(&target, DB_TIMEOUT).await?;
    client
        .batch_execute(&format!(
            "SET statement_timeout = '{}s'; DROP SCHEMA IF EXISTS {schema} CASCADE",
            DB_TIMEOUT.as_secs()
        ))
        .await
        .map_err(|e| {
            pg_failure(
                &format!("drop the scratch schema {schema}"),
                &target.shown,
                e,
            )
        })
}

/// A failed statement of the drill's own (not one of atoctl's reads): the server's message.
fn pg_failure(what: &str, shown: &str, e: tokio_postgres::Error) -> AppError {
    let (detail, denied) = match e.as_db_error() {
        Some(d) => (
            format!("{} (SQLSTATE {})", d.message(), d.code().code()),
            *d.code() == tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE,
        ),
        None => (db::db_error(&e, DB_TIMEOUT).message, false),
    };
    let err = AppError::failed(format!(
        "cannot {what} in the audit database {shown}: {detail}"
    ));
    let err = if denied {
        err.with_hint(
            "the drill's database user needs CREATE on the database: it makes a scratch schema and drops it after",
        )
    } else {
        err
    };
    err.caused_by(e)
}

/// `database_url` with the server option `-csearch_path=<schema>` added: a `postgres://` URL
/// gets an `options` parameter (appended to one it has already), a `key=value` connection
/// string an `options='…'` pair (one that has options already is refused: its quoting is not
/// taken apart here). The result is checked to carry the option through atoctl's own parsing.
pub fn with_search_path(database_url: &str, schema: &str) -> Result<String> {
    if !schema
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AppError::usage(format!(
            "{schema:?} is not a plain schema name (lowercase letters, digits, _)"
        )));
    }
    let option = format!("-csearch_path={schema}");
    let url =
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            let (base, query) = match database_url.split_once('?') {
                Some((b, q)) => (b, q),
                None => (database_url, ""),
            };
            let mut pairs: Vec<String> = Vec::new();
            let mut merged = false;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("options", v)) if !merged => {
                        let mut value = percent_decode(v)?;
                        value.push(' ');
                        value.push_str(&option);
                        pairs.push(format!("options={}", percent_encode(&value)));
                        merged = true;
                    }
                    _ => pairs.push(pair.to_string()),
                }
            }
            if !merged {
                pairs.push(format!("options={}", percent_encode(&option)));
            }
            format!("{base}?{}", pairs.join("&"))
        } else {
            let parsed = db::parse_target(database_url)?;
            if parsed.config.get_options().is_some() {
                return Err(AppError::usage(
                    "the audit database's connection string sets options already",
                )
                .with_hint("give it as a postgres:// URL, whose options the drill can add to"));
            }
            format!("{} options='{option}'", database_url.trim_end())
        };
    let carried = db::parse_target(&url)?
        .config
        .get_options()
        .is_some_and(|o| o.split_whitespace().any(|w| w == option));
    if !carried {
        return Err(AppError::failed(
            "the drill's database URL lost its search_path option in parsing",
        ));
    }
    Ok(url)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; a value that does not decode to UTF-8 is a usage error (and is not
/// repeated: it is part of a URL that may hold a password).
fn percent_decode(s: &str) -> Result<String> {
    let out = crate::audit::db::percent_decode_bytes(s);
    String::from_utf8(out)
        .map_err(|_| AppError::usage("the audit database URL's options are not UTF-8"))
}

/// One row of the story's audit trail.
#[derive(Debug, Clone)]
pub struct Event {
    pub identity: String,
    pub event_type: &'static str,
    pub ip: &'static str,
    pub user_agent: &'static str,
    /// How long before the seeding transaction it happened, in seconds.
    pub ago_secs: i64,
    pub metadata: serde_json::Value,
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The audit trail that matches the sandbox, oldest first:
/// - the owner's logins from [`OWNER_IP`] in Berlin every three days over the last 30 (the
///   baseline of any window up to a week: the IP is familiar), and one 3 hours ago;
/// - 75 minutes ago the attacker's `login.succeeded` from [`ATTACKER_IP`] in Lagos, about
///   4,800 km from Berlin in 105 minutes (impossible travel; a new IP), then a
///   `settings.changed` (a phone number added) and an `oauth2.consent.granted` for
///   [`OAUTH2_CLIENT`];
/// - the other identities' own logins over the last 30 days, and in the last hour the
///   attacker's logins on them from [`ATTACKER_IP`] (one after a failed try).
pub fn events(sandbox: &Sandbox) -> Vec<Event> {
    let owner = sandbox.identity().to_string();
    let mut out = Vec::new();
    let login = |identity: &str, ip, ua, ago_secs, place: Place| Event {
        identity: identity.to_string(),
        event_type: "login.succeeded",
        ip,
        user_agent: ua,
        ago_secs,
        metadata: serde_json::json!({ "method": "password", "geo": geo(place) }),
    };
    for days in (2..=29).rev().step_by(3) {
        out.push(login(
            &owner,
            OWNER_IP,
            OWNER_UA,
            days * DAY + 4 * HOUR,
            BERLIN,
        ));
    }
    out.push(login(&owner, OWNER_IP, OWNER_UA, 3 * HOUR, BERLIN));
    out.push(login(&owner, ATTACKER_IP, ATTACKER_UA, 75 * MINUTE, LAGOS));
    out.push(Event {
        identity: owner.clone(),
        event_type: "settings.changed",
        ip: ATTACKER_IP,
        user_agent: ATTACKER_UA,
        ago_secs: 70 * MINUTE,
        metadata: serde_json::json!({ "fields": ["phone"], "geo": geo(LAGOS) }),
    });
    out.push(Event {
        identity: owner.clone(),
        event_type: "oauth2.consent.granted",
        ip: ATTACKER_IP,
        user_agent: ATTACKER_UA,
        ago_secs: 65 * MINUTE,
        metadata: serde_json::json!({ "client_id": OAUTH2_CLIENT, "geo": geo(LAGOS) }),
    });
    for (n, other) in sandbox.others().iter().enumerate() {
        let (ip, ua, _, place) = OTHER_HOMES[n];
        let offset = n as i64 * 5 * HOUR;
        for days in [27, 16, 6] {
            out.push(login(other, ip, ua, days * DAY + offset, place));
        }
        let attacked = (55 - 10 * n as i64) * MINUTE;
        if n == 0 {
            out.push(Event {
                identity: other.clone(),
                event_type: "login.failed",
                ip: ATTACKER_IP,
                user_agent: ATTACKER_UA,
                ago_secs: attacked + MINUTE,
                metadata: serde_json::json!({ "method": "password", "geo": geo(LAGOS) }),
            });
        }
        out.push(login(other, ATTACKER_IP, ATTACKER_UA, attacked, LAGOS));
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.ago_secs));
    out
}

fn geo(p: Place) -> serde_json::Value {
    serde_json::json!({ "lat": p.lat, "lon": p.lon, "country": p.country, "city": p.city })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_path_joins_a_url_without_a_query() {
        let u = with_search_path(
            "postgres://u:pw@db.internal:5432/audit",
            "atoctl_drill_ab12",
        )
        .unwrap();
        assert_eq!(
            u,
            "postgres://u:pw@db.internal:5432/audit?options=-csearch_path%3Datoctl_drill_ab12"
        );
        let t = db::parse_target(&u).unwrap();
        assert_eq!(
            t.config.get_options(),
            Some("-csearch_path=atoctl_drill_ab12")
        );
        assert_eq!(t.config.get_dbname(), Some("audit"));
    }

    #[test]
    fn the_search_path_keeps_the_other_parameters_and_options() {
        let u = with_search_path(
            "postgresql://h/audit?sslmode=verify-full&sslrootcert=%2Fca.pem&options=-c%20work_mem%3D64MB",
            "atoctl_drill_x",
        )
        .unwrap();
        let t = db::parse_target(&u).unwrap();
        assert_eq!(
            t.config.get_options(),
            Some("-c work_mem=64MB -csearch_path=atoctl_drill_x")
        );
        assert!(t.tls_required);
        assert_eq!(t.root_cert.as_deref(), Some("/ca.pem"));
    }

    #[test]
    fn the_search_path_joins_a_key_value_string() {
        let u = with_search_path(
            "host=127.0.0.1 dbname=audit user=postgres",
            "atoctl_drill_x",
        )
        .unwrap();
        let t = db::parse_target(&u).unwrap();
        assert_eq!(t.config.get_options(), Some("-csearch_path=atoctl_drill_x"));
        let e = with_search_path(
            "host=127.0.0.1 options='-c work_mem=64MB'",
            "atoctl_drill_x",
        )
        .unwrap_err();
        assert_eq!(e.exit, crate::error::Exit::Usage);
    }

    #[test]
    fn an_odd_schema_name_is_refused() {
        assert!(with_search_path("postgres://h/db", "x; DROP TABLE y").is_err());
        assert!(with_search_path("postgres://h/db", "Upper").is_err());
    }

    #[test]
    fn the_sandbox_tells_its_story_and_never_its_password() {
        let s = Sandbox::start().unwrap();
        assert_eq!(s.email(), OWNER_EMAIL);
        assert_eq!(s.active_sessions(s.identity()), 2);
        assert_eq!(s.others().len(), 2);
        for other in s.others() {
            assert_eq!(s.active_sessions(other), 2);
            assert_eq!(s.consents(other), 0);
        }
        assert_eq!(s.consents(s.identity()), 1);
        assert_eq!(s.oauth2_tokens(s.identity()), 2);
        assert_eq!(s.recovery_codes_issued(s.identity()), 0);
        let shown = format!("{s:?}");
        assert!(shown.contains(s.identity()), "{shown}");
        assert!(!shown.contains(s.password().expose_secret()), "{shown}");
        // The attacker's way in still works: the login makes a third session.
        assert_eq!(s.password_login(), PasswordLogin::Accepted);
        assert_eq!(s.active_sessions(s.identity()), 3);
    }

    #[test]
    fn the_trail_puts_the_attack_after_a_familiar_baseline() {
        let s = Sandbox::start().unwrap();
        let events = events(&s);
        assert!(events.windows(2).all(|w| w[0].ago_secs >= w[1].ago_secs));
        let owner: Vec<&Event> = events
            .iter()
            .filter(|e| e.identity == s.identity())
            .collect();
        // Familiar in the 30-day baseline before a 7-day window, and before a 2-day window.
        assert!(
            owner
                .iter()
                .any(|e| e.ip == OWNER_IP && e.ago_secs > 7 * DAY)
        );
        assert!(
            owner
                .iter()
                .all(|e| e.ip != ATTACKER_IP || e.ago_secs < DAY)
        );
        for other in s.others() {
            assert!(events.iter().any(|e| &e.identity == other
                && e.ip == ATTACKER_IP
                && e.event_type == "login.succeeded"));
        }
    }
}
