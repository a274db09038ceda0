//! Every SQL statement atoctl runs against the audit database, with its parameters bound.
//!
//! Values from the command line only ever reach PostgreSQL as bound parameters (`$1`, `$2`…),
//! cast in SQL from text so the statements read the same in `--dry-run` as on the wire. The
//! work (filters, anti-joins, aggregation) happens in PostgreSQL on the indexes of
//! `atoctl schema`; atoctl streams the answer (and computes impossible travel from it). Times
//! and identity ids travel in binary (`timestamptz`, `uuid`): no text formatting on the server.

use serde_json::{Value, json};
use tokio_postgres::types::{ToSql, Type};

use super::window::Window;

/// A bound parameter.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    OptText(Option<String>),
    TextArray(Vec<String>),
    OptTextArray(Option<Vec<String>>),
    Float(f64),
    Int(i64),
}

impl Param {
    pub fn sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(v) => v,
            Param::OptText(v) => v,
            Param::TextArray(v) => v,
            Param::OptTextArray(v) => v,
            Param::Float(v) => v,
            Param::Int(v) => v,
        }
    }

    /// The type the parameter is sent as (the statements cast from it in SQL): given with the
    /// statement, PostgreSQL needs no round trip to tell atoctl what it expects.
    pub fn ty(&self) -> Type {
        match self {
            Param::Text(_) | Param::OptText(_) => Type::TEXT,
            Param::TextArray(_) | Param::OptTextArray(_) => Type::TEXT_ARRAY,
            Param::Float(_) => Type::FLOAT8,
            Param::Int(_) => Type::INT8,
        }
    }

    pub fn shown(&self) -> Value {
        match self {
            Param::Text(v) => json!(v),
            Param::OptText(v) => json!(v),
            Param::TextArray(v) => json!(v),
            Param::OptTextArray(v) => json!(v),
            Param::Float(v) => json!(v),
            Param::Int(v) => json!(v),
        }
    }
}

/// One statement and its parameters.
#[derive(Debug, Clone)]
pub struct Query {
    pub purpose: String,
    pub sql: String,
    pub params: Vec<Param>,
}

impl Query {
    pub fn plan_json(&self) -> Value {
        json!({
            "purpose": self.purpose,
            "sql": self.sql,
            "params": self.params.iter().map(Param::shown).collect::<Vec<_>>(),
        })
    }
}

/// The identity's events in the window, newest first, for a cursor: PostgreSQL reads them in
/// index order (`Index Scan Backward`, no sort), and atoctl fetches them in batches.
///
/// - `new-ip`: the event's IP was not used by the identity in the baseline period. The baseline's
///   distinct IPs are read once from the index alone into a hashed subplan (`DISTINCT` keeps the
///   planner's size estimate small enough for hashing), then every event is one hash probe.
/// - `email_field`: a settings change whose `fields` name an e-mail trait (evaluated for settings
///   changes only).
/// - `shown`: the event passes `--event`. Events that do not, but carry a `geo`, come along
///   anyway: impossible travel pairs every located event of the window, whatever is shown.
///
/// The place and impossible travel come from `metadata` in atoctl ([`super::travel`]).
///
/// Every text column is read as `text`: a column of another type (`citext`) would make the
/// driver look the type up in the middle of the answer, which a pipelined read cannot serve.
pub fn events(identity: &str, w: &Window, types: Option<Vec<String>>) -> Query {
    let sql = "SELECT e.id, e.event_type::text, e.source_ip, e.user_agent::text, e.created_at, e.metadata::text,
       e.source_ip IS NOT NULL AND NOT (e.source_ip IN (
         SELECT DISTINCT b.source_ip FROM security_audit b
         WHERE b.identity_id = $1::text::uuid AND b.created_at >= $4::text::timestamptz
           AND b.created_at < $2::text::timestamptz AND b.source_ip IS NOT NULL)),
       CASE WHEN e.event_type = 'settings.changed'
         THEN jsonb_path_exists(e.metadata, '$.fields[*] ? (@ like_regex \"email\" flag \"i\")') END,
       ($5::text[] IS NULL OR e.event_type = ANY($5::text[]))
FROM security_audit e
WHERE e.identity_id = $1::text::uuid
  AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
  AND ($5::text[] IS NULL OR e.event_type = ANY($5::text[]) OR e.metadata ? 'geo')
ORDER BY e.created_at DESC, e.id DESC"
        .to_string();
    Query {
        purpose: "the identity's events in the window, newest first, with new-ip computed against the baseline (read through a cursor)".into(),
        sql,
        params: vec![
            Param::Text(identity.into()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
            Param::Text(w.baseline_param()),
            Param::OptTextArray(types),
        ],
    }
}

/// What `restore` reverses: the identity's changes in the window, oldest first (e-mail and
/// settings changes with their before values, social logins linked, MFA enrolled, OAuth2
/// consents granted).
pub fn restore_changes(identity: &str, w: &Window) -> Query {
    Query {
        purpose: "the identity's changes in the window that restore reverses, oldest first".into(),
        sql: "SELECT e.id, e.event_type::text, e.created_at, e.metadata::text
FROM security_audit e
WHERE e.identity_id = $1::text::uuid
  AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
  AND e.event_type IN ('email.changed', 'settings.changed', 'oidc.linked', 'mfa.enrolled', 'oauth2.consent.granted')
ORDER BY e.created_at, e.id"
            .into(),
        params: vec![
            Param::Text(identity.into()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
        ],
    }
}

/// The identities whose e-mail was changed away from an address (the owner's old one, which
/// Kratos no longer has): `security_audit`'s `email.changed`, from a small partial index.
pub fn changed_from(address: &str) -> Query {
    Query {
        purpose: "the identities whose e-mail was changed away from this address".into(),
        sql: "SELECT e.identity_id::text, max(e.created_at)
FROM security_audit e
WHERE e.event_type = 'email.changed' AND lower(e.metadata->>'from') = lower($1)
  AND e.identity_id IS NOT NULL
GROUP BY e.identity_id"
            .into(),
        params: vec![Param::Text(address.into())],
    }
}

/// [`changed_from`] in `user_email_changes`.
pub fn changed_from_table(address: &str) -> Query {
    Query {
        purpose: "the users whose e-mail was changed away from this address (user_email_changes)"
            .into(),
        sql: "SELECT c.user_id::text, max(c.created_at)
FROM user_email_changes c
WHERE lower(c.email_from) = lower($1)
GROUP BY c.user_id"
            .into(),
        params: vec![Param::Text(address.into())],
    }
}

/// Whether the application keeps `user_email_changes` (its "this wasn't me" links).
pub fn has_email_changes() -> Query {
    Query {
        purpose: "whether the application keeps user_email_changes".into(),
        sql: "SELECT to_regclass('user_email_changes') IS NOT NULL".into(),
        params: vec![],
    }
}

/// The user's e-mail changes made in the window, oldest first (`user_email_changes`).
pub fn email_changes(identity: &str, w: &Window) -> Query {
    Query {
        purpose: "the user's e-mail changes in the window (user_email_changes), oldest first"
            .into(),
        sql: "SELECT c.id, c.email_from::text, c.email_to::text, c.created_at
FROM user_email_changes c
WHERE c.user_id = $1::text::uuid
  AND c.created_at >= $2::text::timestamptz AND c.created_at < $3::text::timestamptz
ORDER BY c.created_at, c.id"
            .into(),
        params: vec![
            Param::Text(identity.into()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
        ],
    }
}

/// Candidates for the located event just before a given one (`before_time`, `before_id`), newest
/// first, back to the start of the baseline: only events with a `geo` key, at most `limit`
/// (atoctl decides which is located). Impossible travel needs it for the oldest located event
/// of a fetched batch, and for the oldest of the window (whose partner is the last located
/// event before the window). An index range scan that stops after `limit` rows.
pub fn travel_partner(
    identity: &str,
    w: &Window,
    before_time: Param,
    before_id: Param,
    limit: Param,
) -> Query {
    let sql = "SELECT e.id, e.created_at, e.metadata::text
FROM security_audit e
WHERE e.identity_id = $1::text::uuid AND e.created_at >= $2::text::timestamptz
  AND (e.created_at, e.id) < ($3::text::timestamptz, $4::int8)
  AND e.metadata ? 'geo'
ORDER BY e.created_at DESC, e.id DESC
LIMIT $5::int8"
        .to_string();
    Query {
        purpose: "the located event before a given one (impossible travel), newest first".into(),
        sql,
        params: vec![
            Param::Text(identity.into()),
            Param::Text(w.baseline_param()),
            before_time,
            before_id,
            limit,
        ],
    }
}

/// The target's new IPs: IPs it used in the window and not in the baseline period.
pub fn new_ips(identity: &str, w: &Window) -> Query {
    let sql = "SELECT host(e.source_ip), count(*),
       min(e.created_at),
       max(e.created_at)
FROM security_audit e
WHERE e.identity_id = $1::text::uuid
  AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
  AND e.source_ip IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM security_audit b
    WHERE b.identity_id = $1::text::uuid AND b.source_ip = e.source_ip
      AND b.created_at >= $4::text::timestamptz AND b.created_at < $2::text::timestamptz)
GROUP BY e.source_ip
ORDER BY min(e.created_at), e.source_ip"
        .to_string();
    Query {
        purpose: "the target's new IPs in the window (not used in the baseline period)".into(),
        sql,
        params: vec![
            Param::Text(identity.into()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
            Param::Text(w.baseline_param()),
        ],
    }
}

/// Credential stuffing: IPs with failed logins against at least `min_identities` distinct
/// identities in the window (from the partial index on failed logins).
pub fn stuffing(w: &Window, min_identities: i64, limit: i64) -> Query {
    let sql = "SELECT host(e.source_ip), count(DISTINCT e.identity_id), count(*),
       count(*) FILTER (WHERE e.identity_id IS NULL),
       min(e.created_at),
       max(e.created_at)
FROM security_audit e
WHERE e.event_type = 'login.failed'
  AND e.created_at >= $1::text::timestamptz AND e.created_at < $2::text::timestamptz
  AND e.source_ip IS NOT NULL
GROUP BY e.source_ip
HAVING count(DISTINCT e.identity_id) >= $3::int8
ORDER BY count(DISTINCT e.identity_id) DESC, e.source_ip
LIMIT $4::int8"
        .to_string();
    Query {
        purpose: "credential stuffing: IPs with failed logins across many identities".into(),
        sql,
        params: vec![
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
            Param::Int(min_identities),
            Param::Int(limit),
        ],
    }
}

/// The user agents seen from the suspicious IPs in the window (the target's events only, when
/// there is a target), each with the number of distinct identities that used it in the
/// baseline period, counted over at most `sample` of its most recent baseline events: a user
/// agent many identities used before the incident identifies nobody.
pub fn agents(
    ips: &[String],
    identity: Option<&str>,
    w: &Window,
    sample: i64,
    limit: i64,
) -> Query {
    let sql = "WITH seen AS (
  SELECT DISTINCT e.user_agent FROM security_audit e
  WHERE e.source_ip = ANY($1::text[]::inet[])
    AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
    AND e.user_agent IS NOT NULL
    AND ($4::text IS NULL OR e.identity_id = $4::text::uuid)
  LIMIT $7::int8
)
SELECT a.user_agent::text, (
  SELECT count(DISTINCT r.identity_id) FROM (
    SELECT b.identity_id FROM security_audit b
    WHERE md5(b.user_agent) = md5(a.user_agent) AND b.user_agent = a.user_agent
      AND b.created_at >= $5::text::timestamptz AND b.created_at < $2::text::timestamptz
    ORDER BY b.created_at DESC LIMIT $6::int8) r)
FROM seen a
ORDER BY a.user_agent"
        .to_string();
    Query {
        purpose: "user agents from the suspicious IPs, with how many identities used each in the baseline".into(),
        sql,
        params: vec![
            Param::TextArray(ips.to_vec()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
            Param::OptText(identity.map(str::to_string)),
            Param::Text(w.baseline_param()),
            Param::Int(sample),
            Param::Int(limit),
        ],
    }
}

/// Per suspicious IP: events, distinct identities, logins, events without an identity.
pub fn ip_stats(ips: &[String], w: &Window) -> Query {
    let sql = "SELECT host(e.source_ip), count(*), count(DISTINCT e.identity_id),
       count(*) FILTER (WHERE e.event_type = 'login.succeeded'),
       count(*) FILTER (WHERE e.event_type = 'login.failed'),
       count(*) FILTER (WHERE e.identity_id IS NULL),
       min(e.created_at),
       max(e.created_at)
FROM security_audit e
WHERE e.source_ip = ANY($1::text[]::inet[])
  AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
GROUP BY e.source_ip
ORDER BY e.source_ip"
        .to_string();
    Query {
        purpose:
            "statistics of each suspicious IP in the window (events without an identity included)"
                .into(),
        sql,
        params: vec![
            Param::TextArray(ips.to_vec()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
        ],
    }
}

/// Which seeds the identities are matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub ip: bool,
    pub ua: bool,
}

/// Every identity other than the target with events from the suspicious IPs (and/or with the
/// suspicious user agents) in the window, aggregated in PostgreSQL. Events without an identity
/// are left out here (they count in [`ip_stats`]).
pub fn identities(
    ips: &[String],
    agents: &[String],
    by: Match,
    target: Option<&str>,
    w: &Window,
) -> Query {
    let tail = "count(*) FILTER (WHERE m.event_type = 'login.succeeded'),
       count(*) FILTER (WHERE m.event_type = 'login.failed'),
       count(*),
       min(m.created_at),
       max(m.created_at)";
    let window = "e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
    AND e.identity_id IS NOT NULL AND ($4::text IS NULL OR e.identity_id <> $4::text::uuid)";
    let order = "ORDER BY 4 DESC, 5 DESC, 6 DESC, 1";
    let sql = if by.ip && !by.ua {
        format!(
            "SELECT m.identity_id, array_agg(DISTINCT host(m.source_ip)), ARRAY[]::text[],
       {tail}
FROM security_audit m
WHERE m.source_ip = ANY($1::text[]::inet[])
  AND {window}
GROUP BY m.identity_id
{order}",
            window = window.replace("e.", "m.")
        )
    } else {
        let ip_leg = if by.ip {
            format!(
                "SELECT e.identity_id, e.source_ip,
         CASE WHEN e.user_agent = ANY($5::text[]) THEN e.user_agent END AS user_agent,
         e.event_type, e.created_at
  FROM security_audit e
  WHERE e.source_ip = ANY($1::text[]::inet[]) AND {window}
  UNION ALL
  "
            )
        } else {
            String::new()
        };
        // With --by ua, $1 is only typed (the IPs seeded the agents already).
        let not_ip = if by.ip {
            "AND (e.source_ip IS NULL OR NOT (e.source_ip = ANY($1::text[]::inet[])))"
        } else {
            "AND $1::text[] IS NOT NULL"
        };
        format!(
            "WITH m AS (
  {ip_leg}SELECT e.identity_id, NULL::inet AS source_ip, e.user_agent, e.event_type, e.created_at
  FROM security_audit e
  WHERE md5(e.user_agent) = ANY(ARRAY(SELECT md5(u) FROM unnest($5::text[]) u))
    AND e.user_agent = ANY($5::text[]) AND {window} {not_ip}
)
SELECT m.identity_id,
       array_remove(array_agg(DISTINCT host(m.source_ip)), NULL),
       array_remove(array_agg(DISTINCT m.user_agent::text), NULL),
       {tail}
FROM m
GROUP BY m.identity_id
{order}"
        )
    };
    let mut params = vec![
        Param::TextArray(ips.to_vec()),
        Param::Text(w.from_param()),
        Param::Text(w.to_param()),
        Param::OptText(target.map(str::to_string)),
    ];
    if by.ua {
        params.push(Param::TextArray(agents.to_vec()));
    }
    Query {
        purpose: "every other identity with events from the suspicious IPs/agents in the window"
            .into(),
        sql,
        params,
    }
}
