//! Every SQL statement atoctl runs against the audit database, with its parameters bound.
//!
//! Values from the command line only ever reach PostgreSQL as bound parameters (`$1`, `$2`…),
//! cast in SQL from text so the statements read the same in `--dry-run` as on the wire. The
//! work (filters, anti-joins, aggregation, distances) happens in PostgreSQL on the indexes of
//! `atoctl schema`; atoctl streams the answer.

use serde_json::{Value, json};
use tokio_postgres::types::ToSql;

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

/// Events whose metadata `geo` has numeric `lat` in [-90, 90] and `lon` in [-180, 180].
/// Anything else (no geo, a string, out-of-range or non-numeric values) is not located. The
/// nested CASE makes sure no cast runs on a value that is not a number.
const LOCATED: &str = "CASE WHEN jsonb_typeof(e.metadata->'geo'->'lat') = 'number' \
     AND jsonb_typeof(e.metadata->'geo'->'lon') = 'number' \
     THEN (e.metadata->'geo'->'lat')::numeric BETWEEN -90 AND 90 \
      AND (e.metadata->'geo'->'lon')::numeric BETWEEN -180 AND 180 \
     ELSE false END";

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Pairs of consecutive located events of the identity that are too far apart for the time
/// between them (great-circle distance, haversine). The pairing runs over every located event
/// in the window, whatever `--event` shows, plus the last located event before the window
/// (within the baseline) so the first one in the window has a predecessor. Only the impossible
/// pairs come back, so the answer is small; `limit` caps it anyway.
pub fn travel_pairs(
    identity: &str,
    w: &Window,
    max_speed_kmh: f64,
    min_km: f64,
    limit: i64,
) -> Query {
    let sql = format!(
        "WITH located AS (
  SELECT e.id, e.created_at, (e.metadata->'geo'->'lat')::float8 AS lat, (e.metadata->'geo'->'lon')::float8 AS lon
  FROM security_audit e
  WHERE e.identity_id = $1::text::uuid AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
    AND {LOCATED}
  UNION ALL
  (SELECT e.id, e.created_at, (e.metadata->'geo'->'lat')::float8, (e.metadata->'geo'->'lon')::float8
   FROM security_audit e
   WHERE e.identity_id = $1::text::uuid AND e.created_at >= $4::text::timestamptz AND e.created_at < $2::text::timestamptz
     AND {LOCATED}
   ORDER BY e.created_at DESC, e.id DESC LIMIT 1)
), pairs AS (
  SELECT lag(id) OVER t AS prev_id, id, lag(created_at) OVER t AS prev_at, created_at,
         lat, lon, lag(lat) OVER t AS prev_lat, lag(lon) OVER t AS prev_lon
  FROM located WINDOW t AS (ORDER BY created_at, id)
), legs AS (
  SELECT prev_id, id, extract(epoch FROM created_at - prev_at)::float8 AS secs,
         2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt(
           power(sin(radians(lat - prev_lat) / 2), 2)
           + cos(radians(lat)) * cos(radians(prev_lat)) * power(sin(radians(lon - prev_lon) / 2), 2)))) AS km
  FROM pairs WHERE prev_id IS NOT NULL
)
SELECT prev_id, id, km, secs FROM legs
WHERE km > $6::float8 AND (secs <= 0 OR km * 3600.0 / secs > $5::float8)
ORDER BY id
LIMIT $7::int8"
    );
    Query {
        purpose: "pairs of consecutive located events too far apart for the time between them"
            .into(),
        sql,
        params: vec![
            Param::Text(identity.into()),
            Param::Text(w.from_param()),
            Param::Text(w.to_param()),
            Param::Text(w.baseline_param()),
            Param::Float(max_speed_kmh),
            Param::Float(min_km),
            Param::Int(limit),
        ],
    }
}

/// The identity's events in the window, newest first, streamed in index order. `new_ip`: the
/// event's IP was not used by the identity in the baseline period (a hashed subplan over the
/// baseline's distinct IPs, read from the index alone). `email_field`: a settings change whose
/// `fields` name an e-mail trait.
pub fn events(identity: &str, w: &Window, types: Option<Vec<String>>) -> Query {
    let sql = "SELECT e.id, e.event_type, host(e.source_ip), e.user_agent,
       (extract(epoch FROM e.created_at) * 1000000)::int8,
       e.metadata::text,
       concat_ws(', ', e.metadata->'geo'->>'city', e.metadata->'geo'->>'country'),
       e.source_ip IS NOT NULL AND NOT (e.source_ip IN (
         SELECT b.source_ip FROM security_audit b
         WHERE b.identity_id = $1::text::uuid AND b.created_at >= $4::text::timestamptz
           AND b.created_at < $2::text::timestamptz AND b.source_ip IS NOT NULL)),
       e.event_type = 'settings.changed'
         AND jsonb_path_exists(e.metadata, '$.fields[*] ? (@ like_regex \"email\" flag \"i\")')
FROM security_audit e
WHERE e.identity_id = $1::text::uuid
  AND e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
  AND ($5::text[] IS NULL OR e.event_type = ANY($5::text[]))
ORDER BY e.created_at DESC, e.id DESC"
        .to_string();
    Query {
        purpose: "the identity's events in the window, newest first, with new-ip computed against the baseline".into(),
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

/// The target's new IPs: IPs it used in the window and not in the baseline period.
pub fn new_ips(identity: &str, w: &Window) -> Query {
    let sql = "SELECT host(e.source_ip), count(*),
       (extract(epoch FROM min(e.created_at)) * 1000000)::int8,
       (extract(epoch FROM max(e.created_at)) * 1000000)::int8
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
       (extract(epoch FROM min(e.created_at)) * 1000000)::int8,
       (extract(epoch FROM max(e.created_at)) * 1000000)::int8
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
SELECT a.user_agent, (
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
       (extract(epoch FROM min(e.created_at)) * 1000000)::int8,
       (extract(epoch FROM max(e.created_at)) * 1000000)::int8
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
       (extract(epoch FROM min(m.created_at)) * 1000000)::int8,
       (extract(epoch FROM max(m.created_at)) * 1000000)::int8";
    let window = "e.created_at >= $2::text::timestamptz AND e.created_at < $3::text::timestamptz
    AND e.identity_id IS NOT NULL AND ($4::text IS NULL OR e.identity_id <> $4::text::uuid)";
    let order = "ORDER BY 4 DESC, 5 DESC, 6 DESC, 1";
    let sql = if by.ip && !by.ua {
        format!(
            "SELECT m.identity_id::text, array_agg(DISTINCT host(m.source_ip)), ARRAY[]::text[],
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
SELECT m.identity_id::text,
       array_remove(array_agg(DISTINCT host(m.source_ip)), NULL),
       array_remove(array_agg(DISTINCT m.user_agent), NULL),
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
