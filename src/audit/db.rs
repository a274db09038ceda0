//! Connecting to the audit database and reading it safely.
//!
//! Every query atoctl runs goes through [`ReadTx`]: a READ ONLY, REPEATABLE READ transaction
//! (one consistent snapshot for all of a step's queries) with a statement timeout, so that
//! atoctl cannot change the audit log by mistake and a runaway query is cancelled by the server.
//! Parameters are always bound; nothing from the command line is formatted into SQL.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Config, Row, RowStream};

use super::queries::{Param, Query};
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

/// A connection to the audit database: the client, and the task that carries its messages.
/// It derefs to the client.
pub struct Connection {
    client: Client,
    task: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for Connection {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Connection {
    /// Ends the session in order: once every answer asked for has come, the connection task
    /// sends Terminate and shuts the socket down, without waiting for the server. A session
    /// that just stops (the process exits with the socket open) is logged by the server as a
    /// broken connection ("could not receive data from client: Connection reset by peer").
    /// Best effort, within [`CLIENT_GRACE`]: the step's answer is complete by then.
    pub async fn close(self) {
        let Connection { client, task } = self;
        drop(client);
        let _ = tokio::time::timeout(CLIENT_GRACE, task).await;
    }
}

/// Connects; the connection task runs in the background until the client is dropped (or
/// [`Connection::close`]).
pub async fn connect(target: &Target, timeout: Duration) -> Result<Connection> {
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
    let task = tokio::spawn(async move {
        // Errors surface on the client's next call; nothing to do here.
        let _ = connection.await;
    });
    Ok(Connection { client, task })
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
/// `statement_timeout` and read-only are set for the session too, not only the transaction:
/// sent in the same batch as BEGIN, these statements would run in autocommit if BEGIN failed,
/// and they must not run there without a deadline or with the right to write.
pub const SETTINGS_SQL: &str = "SELECT set_config('statement_timeout', $1, false), set_config('default_transaction_read_only', 'on', false), set_config('jit', 'off', true)";

/// How every read begins (the statement tokio-postgres's transaction builder sends).
pub const BEGIN_SQL: &str = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// `DECLARE name NO SCROLL CURSOR FOR <query>`.
pub fn declare_sql(name: &str, q: &Query) -> String {
    format!("DECLARE {name} NO SCROLL CURSOR FOR {}", q.sql)
}

/// The answer to a request already sent, still to be read. Its client-side deadline starts when
/// atoctl begins to wait for it ([`Answer::read`]), not when it was sent: a query's rows may be
/// read slowly (a slow reader downstream) while the answers sent behind them wait, complete.
struct Answer<T> {
    stage: &'static str,
    answer: Pin<Box<dyn Future<Output = Result<T>> + Send>>,
}

impl<T> Answer<T> {
    async fn read(self, timeout: Duration) -> Result<T> {
        within(timeout, self.stage, self.answer).await
    }
}

/// Sends a request now and returns its answer, to be read later. tokio-postgres writes a
/// request when its future is first polled, and PostgreSQL answers requests in the order they
/// were sent: requests sent one after the other before any answer is read share one round trip.
async fn send_now<T: Send + 'static>(
    stage: &'static str,
    request: impl Future<Output = Result<T>> + Send + 'static,
) -> Answer<T> {
    let mut request: Pin<Box<dyn Future<Output = Result<T>> + Send>> = Box::pin(request);
    let answer = match futures::poll!(request.as_mut()) {
        Poll::Ready(answer) => Box::pin(std::future::ready(answer)),
        Poll::Pending => request,
    };
    Answer { stage, answer }
}

/// One statement with its parameters' types given (`Param::ty`): PostgreSQL parses, binds and
/// runs it from one batch of messages (Parse, Bind, Describe, Execute, Sync), with no round trip
/// to prepare it first. The request owns its text and parameters, so that its answer can be
/// read after the caller's `Query` is gone.
async fn request(
    client: Arc<Client>,
    timeout: Duration,
    sql: String,
    params: Vec<Param>,
) -> Result<RowStream> {
    client
        .query_typed_raw(&sql, typed(&params))
        .await
        .map_err(|e| db_error(&e, timeout))
}

/// Parameters with their types, as `query_typed` takes them.
fn typed(params: &[Param]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params.iter().map(|p| (p.sql(), p.ty())).collect()
}

/// Like [`request`], for a statement whose answer has no rows to keep (the settings, a DECLARE):
/// read to its end, so that an error in running it is this answer's.
async fn command(
    client: Arc<Client>,
    timeout: Duration,
    sql: String,
    params: Vec<Param>,
) -> Result<()> {
    client
        .query_typed(&sql, &typed(&params))
        .await
        .map(drop)
        .map_err(|e| db_error(&e, timeout))
}

/// A simple-protocol statement without parameters (BEGIN, ROLLBACK).
async fn simple(client: Arc<Client>, timeout: Duration, sql: &'static str) -> Result<()> {
    client
        .batch_execute(sql)
        .await
        .map_err(|e| db_error(&e, timeout))
}

/// One consistent, read-only view of the audit database, on a connection of its own.
///
/// Its statements are pipelined, so that a light read costs one or two round trips after the
/// connection: BEGIN and the settings go out with the first query, and so does whatever sends
/// no rows back (a setting, a DECLARE), their answers read before the next rows; every
/// statement carries its parameters' types, so that none needs a round trip to be prepared;
/// [`ReadTx::send`] sends a query whose rows are read later, so that several go out together;
/// and [`ReadTx::end_after`] sends the ROLLBACK behind the last of them. Every answer is read
/// in the order its request was sent, under its own client-side deadline and stage name. An
/// error aborts the transaction on the server, so that the statements sent behind a failed
/// one fail too: none runs outside the transaction, and the first error is the one reported.
pub struct ReadTx {
    client: Arc<Client>,
    task: Option<tokio::task::JoinHandle<()>>,
    timeout: Duration,
    /// Answers without rows still to be read (BEGIN, the settings, a setting, a DECLARE), oldest
    /// first: read before the rows of any query sent after them.
    unread: Mutex<VecDeque<Answer<()>>>,
    /// The ROLLBACK, once sent.
    ending: Mutex<Option<Answer<()>>>,
    /// [`ReadTx::finish`] read the ROLLBACK's answer.
    finished: bool,
}

/// A query sent whose rows are still to be read ([`ReadTx::send`]).
pub struct SentQuery {
    answer: Answer<RowStream>,
}

impl ReadTx {
    /// Connects, and begins: BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY, and
    /// statement_timeout = the step's timeout. Both are sent now and go out with the first
    /// query; their answers are read before its rows.
    pub async fn open(target: &Target, timeout: Duration) -> Result<ReadTx> {
        let Connection { client, task } = connect(target, timeout).await?;
        let client = Arc::new(client);
        // Their answers are awaited only with the first query's, which goes out with them: a
        // stall there is named as the three together.
        let begin = send_now(
            "BEGIN and the first query (sent together)",
            simple(client.clone(), timeout, BEGIN_SQL),
        )
        .await;
        let ms = format!("{}ms", timeout.as_millis().max(1));
        let settings = send_now(
            "the transaction's settings and the first query (sent together)",
            command(
                client.clone(),
                timeout,
                SETTINGS_SQL.into(),
                vec![Param::Text(ms)],
            ),
        )
        .await;
        Ok(ReadTx {
            client,
            task: Some(task),
            timeout,
            unread: Mutex::new(VecDeque::from([begin, settings])),
            ending: Mutex::new(None),
            finished: false,
        })
    }

    fn unread(&self) -> std::sync::MutexGuard<'_, VecDeque<Answer<()>>> {
        self.unread.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ending(&self) -> std::sync::MutexGuard<'_, Option<Answer<()>>> {
        self.ending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the answers without rows sent so far, oldest first; the first error is the read's.
    async fn read_unread(&self) -> Result<()> {
        loop {
            let next = self.unread().pop_front();
            match next {
                Some(answer) => answer.read(self.timeout).await?,
                None => return Ok(()),
            }
        }
    }

    /// Sets a planner or executor setting for the rest of the transaction (`SET LOCAL`). Sent
    /// now; its answer is read with the next query's.
    pub async fn set_local(&self, name: &str, value: &str) {
        let answer = send_now(
            "a setting",
            command(
                self.client.clone(),
                self.timeout,
                "SELECT set_config($1, $2, true)".into(),
                vec![Param::Text(name.into()), Param::Text(value.into())],
            ),
        )
        .await;
        self.unread().push_back(answer);
    }

    /// Opens a server-side cursor over a query (`DECLARE name NO SCROLL CURSOR FOR …`, with the
    /// query's parameters bound). PostgreSQL plans a cursor for fetching its first rows early,
    /// so it reads an index in order instead of sorting the whole answer first; the rows are
    /// then read with [`ReadTx::fetch`], and other statements can run between two fetches.
    /// Sent now; its answer is read with the first FETCH's.
    pub async fn declare(&self, name: &str, q: &Query) {
        let answer = send_now(
            "a query (DECLARE)",
            command(
                self.client.clone(),
                self.timeout,
                declare_sql(name, q),
                q.params.clone(),
            ),
        )
        .await;
        self.unread().push_back(answer);
    }

    /// Sends `FETCH FORWARD count FROM name` now; its rows are read with [`ReadTx::read`].
    pub async fn fetch(&self, name: &str, count: u32) -> SentQuery {
        SentQuery {
            answer: send_now(
                "a query (FETCH)",
                request(
                    self.client.clone(),
                    self.timeout,
                    format!("FETCH FORWARD {count} FROM {name}"),
                    Vec::new(),
                ),
            )
            .await,
        }
    }

    /// Sends a query now; its rows are read later with [`ReadTx::read`] or
    /// [`ReadTx::read_all`], in the order the queries were sent (an answer not read holds up
    /// the ones after it).
    pub async fn send(&self, q: &Query) -> SentQuery {
        SentQuery {
            answer: send_now(
                "a query",
                request(
                    self.client.clone(),
                    self.timeout,
                    q.sql.clone(),
                    q.params.clone(),
                ),
            )
            .await,
        }
    }

    /// The rows of a query sent, streamed: rows arrive as the server sends them, so memory
    /// stays flat however many match. The answers without rows sent so far are read first, all
    /// of them: a setting or DECLARE sent after `sent` would sit behind its rows and wait out
    /// the deadline, so none may be sent between a query and the read of its rows.
    pub async fn read(&self, sent: SentQuery) -> Result<impl Stream<Item = Result<Row>> + use<>> {
        self.read_unread().await?;
        let rows = sent.answer.read(self.timeout).await?;
        let timeout = self.timeout;
        Ok(bounded(
            rows.map(move |r| r.map_err(|e| db_error(&e, timeout))),
            timeout,
        ))
    }

    /// The rows of a query sent whose answer is small, collected.
    pub async fn read_all(&self, sent: SentQuery) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        let s = self.read(sent).await?;
        futures::pin_mut!(s);
        while let Some(row) = s.next().await {
            out.push(row?);
        }
        Ok(out)
    }

    /// Runs a query and streams its rows.
    pub async fn stream(&self, q: &Query) -> Result<impl Stream<Item = Result<Row>> + use<>> {
        let sent = self.send(q).await;
        self.read(sent).await
    }

    /// Runs a query whose answer is small and collects it.
    pub async fn all(&self, q: &Query) -> Result<Vec<Row>> {
        let sent = self.send(q).await;
        self.read_all(sent).await
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

    /// Sends the end of the transaction now, behind the queries already sent, whose rows can
    /// still be read: its answer comes right after theirs, and [`ReadTx::finish`] only reads it.
    pub async fn end_after(&self) {
        if self.ending().is_some() {
            return;
        }
        let answer = send_now(
            "the end of the transaction",
            simple(self.client.clone(), self.timeout, "ROLLBACK"),
        )
        .await;
        *self.ending() = Some(answer);
    }

    /// Ends the transaction (read only: nothing to commit, rolling back is the same), then the
    /// session, in order ([`Connection::close`]).
    pub async fn finish(mut self) -> Result<()> {
        self.read_unread().await?;
        self.end_after().await;
        let ending = self.ending().take();
        if let Some(answer) = ending {
            answer.read(self.timeout).await?;
        }
        self.finished = true;
        let task = self.task.take();
        let client = self.client.clone();
        drop(self);
        // The client goes when its last holder does (a query sent and never read still holds
        // it): only then can the session end.
        if let (Some(client), Some(task)) = (Arc::into_inner(client), task) {
            Connection { client, task }.close().await;
        }
        Ok(())
    }
}

impl Drop for ReadTx {
    /// A read abandoned (an error, a reader gone) still ends its transaction: the ROLLBACK is
    /// sent without waiting for its answer, as tokio-postgres does for its transactions.
    fn drop(&mut self) {
        if self.finished || self.ending().is_some() {
            return;
        }
        let _ = futures::FutureExt::now_or_never(self.client.batch_execute("ROLLBACK"));
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
