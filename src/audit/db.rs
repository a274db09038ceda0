//! Connecting to the audit database and reading it safely.
//!
//! Every query atoctl runs goes through [`ReadTx`]: a READ ONLY, REPEATABLE READ transaction
//! (one consistent snapshot for all of a step's queries) with a statement timeout, so that
//! atoctl cannot change the audit log by mistake and a runaway query is cancelled by the server.
//! Parameters are always bound; nothing from the command line is formatted into SQL.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Config, IsolationLevel, Row, Statement};

use super::queries::Query;
use crate::error::{AppError, Result};

/// The database URL: `--database-url` / `ATOCTL_DATABASE_URL` (clap resolves both), then
/// `DATABASE_URL`. Empty values count as unset.
pub fn resolve_url(flag_or_env: Option<&str>) -> Result<String> {
    flag_or_env
        .map(str::to_string)
        .filter(|u| !u.trim().is_empty())
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.trim().is_empty()))
        .ok_or_else(|| {
            AppError::usage("no audit database URL").with_hint(
                "pass --database-url or set ATOCTL_DATABASE_URL or DATABASE_URL, e.g. postgres://atoctl@db.internal/audit?sslmode=require",
            )
        })
}

/// A connection target: the tokio-postgres configuration plus what atoctl handles itself
/// (libpq's `sslrootcert`, and `sslmode=verify-ca|verify-full`, which tokio-postgres does not
/// parse; atoctl always verifies the server certificate when TLS is used).
pub struct Target {
    pub config: Config,
    pub root_cert: Option<String>,
    /// host:port/dbname without credentials, for messages.
    pub shown: String,
    pub tls_required: bool,
}

/// Parses a PostgreSQL URL (`postgres://user:pass@host:port/db?sslmode=require`) or a
/// key=value connection string. A malformed URL is a usage error whose message never repeats
/// the URL (it may hold a password).
pub fn parse_target(url: &str) -> Result<Target> {
    let (cleaned, root_cert, verify) = strip_libpq_only(url);
    let mut config = Config::from_str(&cleaned).map_err(|e| {
        AppError::usage(format!(
            "the audit database URL is not a PostgreSQL URL: {e}"
        ))
        .with_hint("write it like postgres://user:password@host:5432/dbname?sslmode=require")
    })?;
    if verify {
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
    }
    if config.get_application_name().is_none() {
        config.application_name("atoctl");
    }
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let shown = format!(
        "{host}:{port}/{}",
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
    );
    let tls_required = config.get_ssl_mode() == tokio_postgres::config::SslMode::Require;
    Ok(Target {
        config,
        root_cert,
        shown,
        tls_required,
    })
}

/// Removes `sslrootcert=` and maps `sslmode=verify-ca|verify-full` to `require` in a URL's
/// query string. Returns the cleaned URL, the root certificate path, and whether verify-* was
/// asked for.
fn strip_libpq_only(url: &str) -> (String, Option<String>, bool) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None, false);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return (url.to_string(), None, false);
    }
    let mut root = None;
    let mut verify = false;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sslrootcert", v)) => root = Some(percent_decode(v)),
            Some(("sslmode", "verify-ca" | "verify-full")) => {
                verify = true;
                kept.push("sslmode=require".to_string());
            }
            _ => kept.push(pair.to_string()),
        }
    }
    let cleaned = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (cleaned, root, verify)
}

/// The bytes `%XX` escapes stand for (a `%` not followed by two hex digits is kept).
pub fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s)).into_owned()
}

/// The TLS connector: rustls with the aws-lc-rs provider (the one reqwest already uses).
///
/// `sslmode=require` (and `verify-ca`, `verify-full`) verifies the server's certificate and
/// name against the platform's trust store, or against the `sslrootcert` file: stricter than
/// libpq's `require`, on purpose. `sslmode=prefer` (libpq's default, and tokio-postgres's)
/// encrypts when the server offers TLS but, like libpq, does not verify the certificate: it
/// protects against a passive eavesdropper only. `disable` never uses TLS.
fn tls_connector(target: &Target) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::ClientConfig;
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| AppError::failed(format!("cannot set up TLS: {e}")))?;
    if !target.tls_required && target.root_cert.is_none() {
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth();
        return Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config));
    }
    let config = match target.root_cert.as_deref() {
        Some(path) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                AppError::usage(format!("sslrootcert {path}: cannot read certificates: {e}"))
            })?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    AppError::usage(format!("sslrootcert {path}: not a PEM certificate: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    AppError::usage(format!("sslrootcert {path}: unusable certificate: {e}"))
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .with_platform_verifier()
            .map_err(|e| AppError::failed(format!("cannot load the system trust store: {e}")))?
            .with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// `sslmode=prefer`: the handshake's signatures are checked, the certificate is not (libpq's
/// behaviour for prefer and require).
#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Connects; the connection task runs in the background until the client is dropped.
pub async fn connect(target: &Target, timeout: Duration) -> Result<Client> {
    let mut config = target.config.clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(timeout);
    }
    if config.get_user().is_none() {
        // libpq's default, the operating-system user; looked up here rather than inside the
        // driver so that a user the system cannot name is a clear error (the static build
        // looks user names up in /etc/passwd only: src/platform.rs).
        let user = whoami::username().map_err(|_| {
            AppError::usage(
                "the audit database URL names no user, and the system has no name for the user \
                 running atoctl to use instead",
            )
            .with_hint("put the user in the URL: postgres://USER@HOST:5432/DBNAME")
        })?;
        config.user(user);
    }
    let tls = tls_connector(target)?;
    // connect_timeout covers the TCP connect only: a port that accepts and never speaks (a
    // stalled proxy) would hold the startup and TLS handshakes forever.
    let (client, connection) = match tokio::time::timeout(timeout, config.connect(tls)).await {
        Ok(r) => r.map_err(|e| connect_error(&e, target))?,
        Err(_) => {
            return Err(AppError::failed(format!(
                "the audit database {} did not complete the connection ({}) within {} s",
                target.shown,
                if target.tls_required {
                    "TCP, TLS handshake and login"
                } else {
                    "TCP and login"
                },
                timeout.as_secs_f64()
            ))
            .with_hint(
                "something accepts connections there but does not answer like PostgreSQL (a stalled proxy or another service?): check the host and port, or raise --timeout",
            ));
        }
    };
    tokio::spawn(async move {
        // Errors surface on the client's next call; nothing to do here.
        let _ = connection.await;
    });
    Ok(client)
}

/// How much longer than `--timeout` atoctl waits for an answer to a statement before it gives
/// up on the server itself: the server's own `statement_timeout` cancels first whenever the
/// server still answers.
pub const CLIENT_GRACE: Duration = Duration::from_secs(2);

/// Runs one exchange with the database under a client-side deadline (`timeout` plus
/// [`CLIENT_GRACE`]); a stall is exit 1 naming the stage.
pub async fn within<T>(
    timeout: Duration,
    stage: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout + CLIENT_GRACE, fut).await {
        Ok(r) => r,
        Err(_) => Err(stalled(timeout, stage)),
    }
}

fn stalled(timeout: Duration, stage: &str) -> AppError {
    AppError::failed(format!(
        "the audit database stopped answering during {stage}: no answer within {} s",
        (timeout + CLIENT_GRACE).as_secs_f64()
    ))
    .with_hint("the connection stalls (a proxy, the network, an overloaded server): check it, or raise --timeout")
}

/// A stream of rows whose every row must come within the client-side deadline. The timer is
/// armed only while the stream waits (rows mostly arrive many to a network read), so a stream
/// of a million rows does not register a million timers.
struct Bounded<S> {
    rows: Pin<Box<S>>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    timeout: Duration,
    over: bool,
}

impl<S: Stream<Item = Result<Row>>> Stream for Bounded<S> {
    type Item = Result<Row>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over {
            return Poll::Ready(None);
        }
        if let Poll::Ready(row) = self.rows.as_mut().poll_next(cx) {
            self.sleep = None;
            return Poll::Ready(row);
        }
        let limit = self.timeout + CLIENT_GRACE;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if sleep.as_mut().poll(cx).is_ready() {
            self.over = true;
            let e = stalled(self.timeout, "a query's rows");
            return Poll::Ready(Some(Err(e)));
        }
        Poll::Pending
    }
}

fn bounded<'s>(
    rows: impl Stream<Item = Result<Row>> + 's,
    timeout: Duration,
) -> impl Stream<Item = Result<Row>> + 's {
    Bounded {
        rows: Box::pin(rows),
        sleep: None,
        timeout,
        over: false,
    }
}

/// The settings of every transaction: the statement timeout, and no JIT compilation. atoctl's
/// statements read a few index ranges; PostgreSQL's JIT, which starts above a cost estimate,
/// spent seconds compiling them (3.3 s of 7.5 s on audit-query's benchmark) to save nothing.
pub const SETTINGS_SQL: &str =
    "SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true)";

/// `DECLARE name NO SCROLL CURSOR FOR <query>`.
pub fn declare_sql(name: &str, q: &Query) -> String {
    format!("DECLARE {name} NO SCROLL CURSOR FOR {}", q.sql)
}

/// One consistent, read-only view of the audit database.
pub struct ReadTx<'a> {
    tx: tokio_postgres::Transaction<'a>,
    timeout: Duration,
}

impl<'a> ReadTx<'a> {
    /// BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; statement_timeout = the step's timeout.
    pub async fn begin(client: &'a mut Client, timeout: Duration) -> Result<ReadTx<'a>> {
        let tx = within(timeout, "BEGIN", async {
            client
                .build_transaction()
                .read_only(true)
                .isolation_level(IsolationLevel::RepeatableRead)
                .start()
                .await
                .map_err(|e| db_error(&e, timeout))
        })
        .await?;
        let ms = format!("{}ms", timeout.as_millis().max(1));
        within(timeout, "the transaction's settings", async {
            tx.query_one(SETTINGS_SQL, &[&ms])
                .await
                .map_err(|e| db_error(&e, timeout))
        })
        .await?;
        Ok(ReadTx { tx, timeout })
    }

    /// Sets a planner or executor setting for the rest of the transaction (`SET LOCAL`).
    pub async fn set_local(&self, name: &str, value: &str) -> Result<()> {
        within(self.timeout, "a setting", async {
            self.tx
                .query_one("SELECT set_config($1, $2, true)", &[&name, &value])
                .await
                .map_err(|e| db_error(&e, self.timeout))
        })
        .await?;
        Ok(())
    }

    /// Opens a server-side cursor over a query (`DECLARE name NO SCROLL CURSOR FOR …`, with the
    /// query's parameters bound). PostgreSQL plans a cursor for fetching its first rows early,
    /// so it reads an index in order instead of sorting the whole answer first; the rows are
    /// then read with [`ReadTx::fetch`], and other statements can run between two fetches.
    pub async fn declare(&self, name: &str, q: &Query) -> Result<()> {
        let params: Vec<&(dyn ToSql + Sync)> = q.params.iter().map(|p| p.sql()).collect();
        let sql = declare_sql(name, q);
        within(self.timeout, "a query (DECLARE)", async {
            self.tx
                .execute_raw(sql.as_str(), params)
                .await
                .map_err(|e| db_error(&e, self.timeout))
        })
        .await?;
        Ok(())
    }

    /// Prepares `FETCH FORWARD count FROM name`, to be run with [`ReadTx::fetch`].
    pub async fn prepare_fetch(&self, name: &str, count: u32) -> Result<Statement> {
        within(self.timeout, "a query (prepare)", async {
            self.tx
                .prepare(&format!("FETCH FORWARD {count} FROM {name}"))
                .await
                .map_err(|e| db_error(&e, self.timeout))
        })
        .await
    }

    /// Runs a prepared FETCH and streams its rows.
    pub async fn fetch(&self, fetch: &Statement) -> Result<impl Stream<Item = Result<Row>> + '_> {
        let timeout = self.timeout;
        let rows = within(timeout, "a query (FETCH)", async {
            self.tx
                .query_raw(fetch, std::iter::empty::<&(dyn ToSql + Sync)>())
                .await
                .map_err(|e| db_error(&e, timeout))
        })
        .await?;
        Ok(bounded(
            rows.map(move |r| r.map_err(|e| db_error(&e, timeout))),
            timeout,
        ))
    }

    /// Runs a query and streams its rows: rows arrive as the server sends them, so memory
    /// stays flat however many match.
    pub async fn stream(&self, q: &Query) -> Result<impl Stream<Item = Result<Row>> + '_> {
        let params: Vec<&(dyn ToSql + Sync)> = q.params.iter().map(|p| p.sql()).collect();
        let timeout = self.timeout;
        let rows = within(timeout, "a query", async {
            self.tx
                .query_raw(q.sql.as_str(), params)
                .await
                .map_err(|e| db_error(&e, timeout))
        })
        .await?;
        Ok(bounded(
            rows.map(move |r| r.map_err(|e| db_error(&e, timeout))),
            timeout,
        ))
    }

    /// Runs a query whose answer is small and collects it.
    pub async fn all(&self, q: &Query) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        let s = self.stream(q).await?;
        futures::pin_mut!(s);
        while let Some(row) = s.next().await {
            out.push(row?);
        }
        Ok(out)
    }

    /// Whether the application keeps `user_email_changes`.
    pub async fn has_email_changes(&self) -> Result<bool> {
        match self
            .all(&super::queries::has_email_changes())
            .await?
            .first()
        {
            Some(r) => get::<bool>(r, 0),
            None => Ok(false),
        }
    }

    /// Ends the transaction (read only: nothing to commit, rolling back is the same).
    pub async fn finish(self) -> Result<()> {
        let timeout = self.timeout;
        within(timeout, "the end of the transaction", async {
            self.tx.rollback().await.map_err(|e| db_error(&e, timeout))
        })
        .await
    }
}

/// A text column decoded leniently: a database whose encoding is SQL_ASCII can hold bytes
/// that are not UTF-8; they are shown with U+FFFD instead of failing the whole query.
pub struct Lossy(pub String);

impl<'a> FromSql<'a> for Lossy {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        TextRef::from_sql(ty, raw).map(|t| Lossy(t.0.into_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
        )
    }
}

/// A text column borrowed from the row: copied only when it is not valid UTF-8 (then shown with
/// U+FFFD, like [`Lossy`]).
pub struct TextRef<'a>(pub Cow<'a, str>);

impl<'a> FromSql<'a> for TextRef<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        // The common case (valid UTF-8) is checked by the fast validator and borrowed; only a
        // bad value pays for the lossy conversion.
        Ok(TextRef(match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(String::from_utf8_lossy(raw).into_owned()),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        <Lossy as FromSql>::accepts(ty)
    }
}

/// An optional text column borrowed from the row. Call [`check_text`] on the statement's columns
/// first: the read cannot fail then.
pub fn text_ref(row: &Row, idx: usize) -> Option<Cow<'_, str>> {
    row.try_get::<_, Option<TextRef>>(idx)
        .ok()
        .flatten()
        .map(|t| t.0)
}

/// A text column's bytes as sent, not checked for UTF-8: for a caller that checks a value once
/// and then writes it several times.
pub struct RawText<'a>(pub &'a [u8]);

impl<'a> FromSql<'a> for RawText<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawText(raw))
    }

    fn accepts(ty: &Type) -> bool {
        <Lossy as FromSql>::accepts(ty)
    }
}

/// An optional text column's bytes (after [`check_text`], the read cannot fail).
pub fn raw_text(row: &Row, idx: usize) -> Option<&[u8]> {
    row.try_get::<_, Option<RawText>>(idx)
        .ok()
        .flatten()
        .map(|t| t.0)
}

/// Checks that the columns `idx` of a statement's rows are text (the table matches the contract).
pub fn check_text(columns: &[tokio_postgres::Column], idx: &[usize]) -> Result<()> {
    for &i in idx {
        let ok = columns
            .get(i)
            .is_some_and(|c| <Lossy as FromSql>::accepts(c.type_()));
        if !ok {
            return Err(AppError::failed(format!(
                "unexpected type of column {}",
                columns.get(i).map(|c| c.name()).unwrap_or("(missing)")
            ))
            .with_hint("the security_audit table must match `atoctl schema`"));
        }
    }
    Ok(())
}

/// A `timestamptz` column read in binary: microseconds since the Unix epoch. Cheaper on both
/// ends than `extract(epoch FROM …)`, which computes in `numeric`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Micros(pub i64);

impl Micros {
    /// The time itself (the Unix epoch for a value jiff cannot hold).
    pub fn timestamp(self) -> jiff::Timestamp {
        jiff::Timestamp::from_microsecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

impl<'a> FromSql<'a> for Micros {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into().map_err(|_| "a timestamp is 8 bytes")?;
        i64::from_be_bytes(bytes)
            .checked_add(PG_EPOCH_US)
            .map(Micros)
            .ok_or_else(|| "timestamp out of range (infinity?)".into())
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TIMESTAMPTZ | Type::TIMESTAMP)
    }
}

/// Reads a column, turning a type mismatch into a clear failure (the table does not match
/// the contract).
pub fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx).map_err(|e| {
        AppError::failed(format!(
            "unexpected value in column {}: {e}",
            row.columns()
                .get(idx)
                .map(|c| c.name())
                .unwrap_or("(unknown)")
        ))
        .with_hint("the security_audit table must match `atoctl schema`")
    })
}

/// An optional text column, leniently decoded.
pub fn text(row: &Row, idx: usize) -> Result<Option<String>> {
    Ok(get::<Option<Lossy>>(row, idx)?.map(|l| l.0))
}

/// The full error text: tokio-postgres's message plus its sources.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

fn connect_error(e: &tokio_postgres::Error, target: &Target) -> AppError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return AppError::failed(format!(
                "the audit database {} refused the login: {}",
                target.shown,
                db.message()
            ))
            .with_hint("check the user and password in the database URL");
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return AppError::failed(format!(
                "the audit database {} does not exist: {}",
                target.shown,
                db.message()
            ))
            .with_hint("check the database name in the URL");
        }
        return AppError::failed(format!(
            "cannot connect to the audit database {}: {} (SQLSTATE {})",
            target.shown,
            db.message(),
            code.code()
        ));
    }
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    if lower.contains("tls") || lower.contains("certificate") || lower.contains("handshake") {
        let hint = if lower.contains("does not support tls") {
            "the server offers no TLS: drop sslmode=require only if the network path is trusted"
        } else {
            "atoctl verifies the server certificate against the system trust store; give the CA with sslrootcert=/path/ca.pem in the URL"
        };
        return AppError::failed(format!(
            "TLS to the audit database {} failed: {text}",
            target.shown
        ))
        .with_hint(hint);
    }
    if lower.contains("password missing") {
        return AppError::failed(format!(
            "the audit database {} wants a password and the URL has none",
            target.shown
        ))
        .with_hint("put it in the URL (postgres://user:password@host/db)");
    }
    AppError::failed(format!(
        "cannot connect to the audit database {}: {text}",
        target.shown
    ))
    .with_hint("check that PostgreSQL is running and the host and port in the URL are right")
}

/// Maps an error from a query.
pub fn db_error(e: &tokio_postgres::Error, timeout: Duration) -> AppError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::UNDEFINED_TABLE {
            return AppError::failed(format!("the audit table is missing: {}", db.message()))
                .with_hint("create it with `atoctl schema | psql \"$DATABASE_URL\"`");
        }
        if *code == SqlState::UNDEFINED_COLUMN || *code == SqlState::UNDEFINED_FUNCTION {
            return AppError::failed(format!(
                "security_audit does not match the contract: {}",
                db.message()
            ))
            .with_hint("compare it with `atoctl schema`");
        }
        if *code == SqlState::QUERY_CANCELED {
            return AppError::failed(format!(
                "the query ran longer than the {} s timeout and was cancelled by the server",
                timeout.as_secs_f64()
            ))
            .with_hint(
                "narrow the window (--since, --from/--to) or raise --timeout; check that the indexes of `atoctl schema` exist",
            );
        }
        if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            return AppError::failed(format!(
                "the audit database refused the read: {}",
                db.message()
            ))
            .with_hint("atoctl needs SELECT on security_audit");
        }
        return AppError::failed(format!(
            "audit database error: {} (SQLSTATE {})",
            db.message(),
            code.code()
        ));
    }
    AppError::failed(format!("audit database error: {}", chain(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_only_options_are_taken_out_of_the_url() {
        let (u, root, verify) = strip_libpq_only(
            "postgres://a:b@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        );
        assert_eq!(u, "postgres://a:b@h/db?sslmode=require&application_name=x");
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        assert!(verify);
        let (u, root, verify) = strip_libpq_only("postgres://h/db");
        assert_eq!(u, "postgres://h/db");
        assert!(root.is_none() && !verify);
    }

    #[test]
    fn a_bad_url_error_does_not_repeat_the_password() {
        let e = parse_target("postgres://u:s3cret@h/db?sslmode=sometimes")
            .err()
            .map(|e| e.line())
            .unwrap_or_default();
        assert!(e.contains("not a PostgreSQL URL"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn shown_target_has_no_credentials() {
        let t = parse_target("postgres://u:s3cret@db.example:6543/audit").unwrap();
        assert_eq!(t.shown, "db.example:6543/audit");
        assert!(!t.tls_required);
        let t = parse_target("postgres://h/audit?sslmode=require").unwrap();
        assert!(t.tls_required);
    }
}
