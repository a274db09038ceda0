//! A strict Kratos (current, and 1.3.x) and Hydra admin API double.
//!
//! It implements the behaviour written down in `shared/reference/ory-admin-contract.md`
//! ("the reference", sections cited as §N), **including its quirks**, because atoctl has to
//! cope with them:
//! - malformed ids give 404 on identity routes and 400 on session routes (§0);
//! - listing the sessions of an unknown identity gives 200 `[]`; an empty listing still
//!   advertises `rel="next"`; following `next` hands out the first page twice (§3, §14.19);
//! - `DELETE …/sessions` hard-deletes and answers 404 when there was nothing to delete (§4);
//! - PATCH differs per flavour: current Kratos patches the credentials too (stores plaintext,
//!   wipes hashes), 1.3.x silently ignores them or answers 400 (§6);
//! - PUT replaces traits, metadata and external_id wholesale and hashes
//!   `credentials.password.config.password` (§7);
//! - the credential DELETE rules per type and flavour (§8), the recovery endpoints' differing
//!   statuses (§9), identity state vs. computed session activity (§10);
//! - `active` of a session is computed with the identity's state only when the identity is
//!   loaded (`Session.IsActive`): always in the identity-sessions listing, only with
//!   `expand=identity` on `GET /admin/sessions/{id}` (§3, §10);
//! - Ory Network's edge: bearer tokens (401 in plain text, 403 as an HTML page, neither in
//!   herodot's shape), workspace keys, the inflight limiter and the per-bucket rate limits
//!   (§1);
//! - Hydra's consent listing with keyset `Link` pagination, consent and login session
//!   revocation (with back-channel logout for `sid`), and its flat error bodies (§12).
//!
//! In front of all that sits a spec-enforcing gateway: every request is checked against the
//! official OpenAPI documents (`shared/reference/*-openapi.json`, see [`Config::openapi_dir`])
//! and refused with a 400 in the API's own error shape when they forbid it, before it
//! reaches any handler (module `openapi`).
//!
//! The server runs on its own tokio runtime in a background thread, so it can be used from
//! plain `#[test]` functions and from inside a tokio runtime alike. Dropping the
//! [`KratosDouble`] stops it.

mod hydra;
mod identities;
mod model;
mod openapi;
mod patch;
mod ratelimit;
mod recovery;
mod server;
mod sessions;

use std::path::PathBuf;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Value, json};
use uuid::Uuid;

use model::{Consent, Credential, Db, Device, Identity, LoginSession, Session};

/// Which Kratos the double behaves like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavour {
    /// v25+/HEAD, which Ory Network runs (version `v26.2.0`).
    #[default]
    Current,
    /// Self-hosted v1.3.x (version `v1.3.1`).
    V1_3,
}

/// How the double is set up.
#[derive(Clone, Debug)]
pub struct Config {
    pub flavour: Flavour,
    /// Slept (asynchronously) before every request is answered.
    pub latency: Duration,
    /// Ory Network mode (§1): every admin call needs `Authorization: Bearer <token>`; a
    /// missing or wrong one gives 401, a workspace key (`ory_wak_…`) gives 403.
    pub require_token: Option<String>,
    /// Ory Network's inflight limiter (§1): a write to an identity path while another write
    /// to the same full path is in flight gives 429 with `x-ratelimit-reset: 1`.
    pub inflight_limit: bool,
    /// `selfservice.methods.code.enabled` (§9).
    pub recovery_code_enabled: bool,
    /// `selfservice.methods.link.enabled` (§9).
    pub recovery_link_enabled: bool,
    /// Passwordless code login is on: counts as one first factor for every identity (§8).
    pub passwordless_code_login: bool,
    /// Threads serving requests (a benchmark on a small machine gives it one, to leave the
    /// other cores to the client it measures).
    pub worker_threads: usize,
    /// The folder holding `kratos-admin-openapi.json` and `hydra-admin-openapi.json`; `None`
    /// means `shared/reference` beside the repository checkout. When the documents cannot be
    /// read the double runs without validation and says so once on stderr (see
    /// [`KratosDouble::validating`]).
    pub openapi_dir: Option<PathBuf>,
    /// Check every request against the OpenAPI documents (when they could be read). Off, the
    /// double answers as the bare servers do (their own 400s, Kratos's clamping of
    /// `page_size` to 1000, …); the documents still name the rate-limit buckets, and are not
    /// read at all when there is no [`Config::rate_limit`] either.
    pub validate_requests: bool,
    /// Ory Network's rate limits (§1), per `x-ory-ratelimit-bucket`; `None`: no limits and
    /// no `x-ratelimit-*` headers.
    pub rate_limit: Option<RateBudget>,
}

/// A rate-limit budget per bucket: a burst per second and a sustained rate per minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateBudget {
    pub per_second: u32,
    pub per_minute: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            flavour: Flavour::Current,
            latency: Duration::ZERO,
            require_token: None,
            inflight_limit: false,
            recovery_code_enabled: true,
            recovery_link_enabled: true,
            passwordless_code_login: false,
            worker_threads: 2,
            openapi_dir: None,
            validate_requests: true,
            rate_limit: None,
        }
    }
}

/// The result of [`KratosDouble::password_login`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginResult {
    Ok {
        session_id: String,
    },
    InvalidCredentials,
    /// `ActivateSession` refuses an inactive identity: `identity_disabled` (§10).
    IdentityDisabled,
}

/// An identity to seed, built fluently.
#[derive(Clone, Debug)]
pub struct IdentitySeed {
    id: Option<String>,
    traits: Value,
    password: Option<String>,
    inactive: bool,
    metadata_public: Value,
    metadata_admin: Value,
    external_id: Option<String>,
    oidc: Vec<(String, String)>,
    totp: bool,
    webauthn_mfa: bool,
    passkey: bool,
    lookup_secret: bool,
}

/// The recovery codes of [`IdentitySeed::lookup_secret`], none used yet: secrets a test can
/// look for in what atoctl printed or journaled.
pub const LOOKUP_SECRET_CODES: [&str; 4] = ["7f3k2m9q", "x8c4v1b6", "p2n7w5r3", "h9j4t6y2"];

impl IdentitySeed {
    /// Schema `default`, state `active`, traits `{"email": email}`, no password.
    pub fn new(email: &str) -> Self {
        IdentitySeed {
            id: None,
            traits: json!({ "email": email }),
            password: None,
            inactive: false,
            metadata_public: Value::Null,
            metadata_admin: Value::Null,
            external_id: None,
            oidc: vec![],
            totp: false,
            webauthn_mfa: false,
            passkey: false,
            lookup_secret: false,
        }
    }

    /// Stores a hash of `pw` (the double's PHC-shaped fake argon2id).
    pub fn password(mut self, pw: &str) -> Self {
        self.password = Some(pw.to_string());
        self
    }

    pub fn inactive(mut self) -> Self {
        self.inactive = true;
        self
    }

    /// The full traits object; it must contain `email`.
    pub fn traits(mut self, traits: Value) -> Self {
        self.traits = traits;
        self
    }

    pub fn metadata_public(mut self, v: Value) -> Self {
        self.metadata_public = v;
        self
    }

    pub fn metadata_admin(mut self, v: Value) -> Self {
        self.metadata_admin = v;
        self
    }

    pub fn external_id(mut self, s: &str) -> Self {
        self.external_id = Some(s.to_string());
        self
    }

    /// Adds an OIDC link. Without [`IdentitySeed::password`] the identity still gets an
    /// empty password credential (identifiers, no hash), as real Kratos does (§14.20).
    pub fn oidc(mut self, provider: &str, subject: &str) -> Self {
        self.oidc.push((provider.to_string(), subject.to_string()));
        self
    }

    /// Adds a TOTP credential with a fake `otpauth://` secret.
    pub fn totp(mut self) -> Self {
        self.totp = true;
        self
    }

    /// Adds one non-passwordless (MFA) WebAuthn key.
    pub fn webauthn_mfa(mut self) -> Self {
        self.webauthn_mfa = true;
        self
    }

    /// Adds a `passkey` credential with one passwordless key (display name "Passkey"): a
    /// first factor (§8), which the admin API cannot delete (400 "Credentials type passkey
    /// cannot be deleted.", on every flavour).
    pub fn passkey(mut self) -> Self {
        self.passkey = true;
        self
    }

    /// Adds a `lookup_secret` credential holding [`LOOKUP_SECRET_CODES`], none used.
    pub fn lookup_secret(mut self) -> Self {
        self.lookup_secret = true;
        self
    }

    /// A fixed id instead of a random UUID v4.
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }
}

/// A session to seed, built fluently.
#[derive(Clone, Debug)]
pub struct SessionSeed {
    revoked: bool,
    expired: bool,
    aal: String,
    devices: Vec<(String, String, String)>,
    default_device: bool,
}

impl Default for SessionSeed {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionSeed {
    /// Active, expires in 24h, aal1, authenticated 1h ago, one device
    /// 203.0.113.7 / "Mozilla/5.0 (Windows NT 10.0) Chrome/120" / "Sydney, AU".
    pub fn new() -> Self {
        SessionSeed {
            revoked: false,
            expired: false,
            aal: "aal1".into(),
            devices: vec![(
                "203.0.113.7".into(),
                "Mozilla/5.0 (Windows NT 10.0) Chrome/120".into(),
                "Sydney, AU".into(),
            )],
            default_device: true,
        }
    }

    /// The `sessions.active` column is false (soft revoked).
    pub fn revoked(mut self) -> Self {
        self.revoked = true;
        self
    }

    /// `expires_at` is in the past.
    pub fn expired(mut self) -> Self {
        self.expired = true;
        self
    }

    pub fn aal(mut self, aal: &str) -> Self {
        self.aal = aal.to_string();
        self
    }

    /// The first call replaces the default device, later calls add more.
    pub fn device(mut self, ip: &str, user_agent: &str, location: &str) -> Self {
        if self.default_device {
            self.devices.clear();
            self.default_device = false;
        }
        self.devices
            .push((ip.to_string(), user_agent.to_string(), location.to_string()));
        self
    }

    pub fn no_devices(mut self) -> Self {
        self.devices.clear();
        self.default_device = false;
        self
    }
}

/// A raw `sessions` row with its `session_devices`, as the database has it.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id: String,
    pub identity_id: String,
    /// The `active` column (not the computed `active` of the API).
    pub db_active: bool,
    pub expires_at: String,
    pub devices: Vec<Value>,
}

/// A granted Hydra consent as the double stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRow {
    pub consent_request_id: String,
    pub client_id: String,
    /// The remembered login session it was granted in; `None` once that session was deleted.
    pub login_session_id: Option<String>,
    /// When it was granted (the listing's `handled_at`).
    pub handled_at: jiff::Timestamp,
}

pub use crate::common::RecordedRequest;
use crate::common::ServerThread;

/// A failure to inject. Faults are matched in the order they were injected; each matching
/// request uses one of its `times`. A faulted request is recorded but never reaches the
/// handler (no state change), except [`FaultKind::Delay`], which only delays it.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: Option<String>,
    pub path_prefix: Option<String>,
    pub kind: FaultKind,
    pub times: usize,
}

impl Fault {
    /// Any method, any path, once.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            method: None,
            path_prefix: None,
            kind,
            times: 1,
        }
    }

    /// Only requests with this method whose path starts with `path_prefix` (matched against
    /// the path as sent and against its `/admin`-prefixed form); a prefix ending in `$` is a
    /// whole path (the query aside): `/admin/identities/ID$` is the identity, not its sessions.
    pub fn on(mut self, method: &str, path_prefix: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self.path_prefix = Some(path_prefix.to_string());
        self
    }

    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }
}

/// What a fault answers.
#[derive(Clone, Debug)]
pub enum FaultKind {
    /// A herodot JSON error with that code.
    Status(u16),
    /// A proxy's `text/html` error page with that code.
    Html(u16),
    /// Sleeps, then handles the request normally (to trigger client timeouts). The handling
    /// completes even if the client has gone away, as a real server's would.
    Delay(Duration),
    /// 429 from Ory Network's edge: `x-ratelimit-limit/-remaining/-reset`, a plain-text body.
    RateLimit { reset_secs: u64 },
    /// 429 with only `Retry-After`.
    RetryAfter { secs: u64 },
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
    /// `application/json` with this status and body, e.g. another identity's or session's
    /// JSON (an untrusted answer).
    Json { status: u16, body: Value },
    /// `application/json` with this status, body and extra headers (a listing page whose
    /// `X-Total-Count` says more than it holds, say).
    JsonWithHeaders {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    /// Holds the request until the test releases it, then handles it normally: a test can
    /// change the state while a step is between two of its requests (a race, made exact).
    Hold(Hold),
}

/// The handle of a [`FaultKind::Hold`]: says when the request arrived, and lets it go.
#[derive(Clone, Debug, Default)]
pub struct Hold {
    inner: Arc<HoldInner>,
}

#[derive(Debug)]
struct HoldInner {
    arrived: std::sync::atomic::AtomicBool,
    gate: tokio::sync::Semaphore,
}

impl Default for HoldInner {
    fn default() -> Self {
        HoldInner {
            arrived: std::sync::atomic::AtomicBool::new(false),
            gate: tokio::sync::Semaphore::new(0),
        }
    }
}

impl Hold {
    pub fn new() -> Hold {
        Hold::default()
    }

    /// Whether the held request has arrived (and is waiting).
    pub fn arrived(&self) -> bool {
        self.inner.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits (polling, from a plain test thread) until the held request has arrived; panics
    /// after two minutes, which only a broken test reaches.
    pub fn wait_arrived(&self) {
        for _ in 0..12_000 {
            if self.arrived() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the held request never arrived");
    }

    /// Lets the held request go on.
    pub fn release(&self) {
        self.inner.gate.add_permits(1);
    }

    pub(crate) async fn pass(&self) {
        self.inner
            .arrived
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(permit) = self.inner.gate.acquire().await {
            permit.forget();
        }
    }
}

/// The running double. Dropping it shuts the server down.
pub struct KratosDouble {
    shared: Arc<server::Shared>,
    url: String,
    _server: ServerThread,
}

impl KratosDouble {
    /// Binds `127.0.0.1:0` and serves in a background thread.
    pub fn start(config: Config) -> KratosDouble {
        Self::start_on(config, 0).expect("the Kratos double could not bind 127.0.0.1")
    }

    /// Like [`KratosDouble::start`], on a chosen port (0 = any).
    pub fn start_on(config: Config, port: u16) -> std::io::Result<KratosDouble> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = format!("http://127.0.0.1:{}", addr.port());
        let shared = Arc::new(server::Shared::new(config, url.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // The double answers only once its timer is calibrated: connections made before would
        // wait in the backlog and be accepted in any order, not in the order they came.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let s = shared.clone();
        let workers = shared.config.worker_threads;
        let thread = std::thread::Builder::new()
            .name("kratos-double".into())
            .spawn(move || {
                let rt = match if workers <= 1 {
                    tokio::runtime::Builder::new_current_thread()
                } else {
                    let mut b = tokio::runtime::Builder::new_multi_thread();
                    b.worker_threads(workers);
                    b
                }
                .thread_name("kratos-double-worker")
                .enable_all()
                .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("kratos double: no runtime: {e}");
                        return;
                    }
                };
                rt.block_on(async move {
                    server::calibrate_timer(&s).await;
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("kratos double: listener: {e}");
                            return;
                        }
                    };
                    let app = server::router(s);
                    let _ = ready_tx.send(());
                    tokio::select! {
                        r = axum::serve(listener, app) => {
                            if let Err(e) = r {
                                eprintln!("kratos double: server stopped: {e}");
                            }
                        }
                        _ = rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })?;
        // An error in the thread drops the sender: the double then answers nothing, as before.
        let _ = ready_rx.recv();
        Ok(KratosDouble {
            shared,
            url,
            _server: ServerThread::new(tx, thread),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        self.shared.db()
    }

    /// Adds an identity and returns its id.
    ///
    /// # Panics
    /// On a seed that real Kratos would refuse (invalid traits, a duplicate e-mail, a bad or
    /// taken fixed id): that is a bug in the test, not input to the server.
    pub fn add_identity(&self, seed: IdentitySeed) -> String {
        let id = match &seed.id {
            Some(s) => Uuid::parse_str(s).expect("IdentitySeed::with_id needs a UUID"),
            None => Uuid::new_v4(),
        };
        if let Err(e) = model::validate_traits(&seed.traits) {
            panic!("IdentitySeed traits are invalid: {e}");
        }
        let t = model::now();
        let mut identity = Identity {
            id,
            schema_id: "default".into(),
            state: if seed.inactive { "inactive" } else { "active" }.into(),
            state_changed_at: t,
            traits: seed.traits.clone(),
            metadata_public: seed.metadata_public.clone(),
            metadata_admin: seed.metadata_admin.clone(),
            external_id: seed.external_id.clone(),
            created_at: t,
            updated_at: t,
            credentials: Default::default(),
            verifiable_addresses: vec![],
            recovery_addresses: vec![],
        };
        let email = identity.email().unwrap_or_default();
        if let Some(pw) = &seed.password {
            identity.credentials.insert(
                "password".into(),
                Credential::new(
                    "password",
                    vec![email.clone()],
                    json!({ "hashed_password": model::hash_password(pw) }),
                    1,
                ),
            );
        }
        if !seed.oidc.is_empty() {
            let providers: Vec<Value> = seed
                .oidc
                .iter()
                .map(|(p, s)| {
                    json!({
                        "provider": p,
                        "subject": s,
                        "initial_id_token": "",
                        "initial_access_token": "",
                        "initial_refresh_token": "",
                    })
                })
                .collect();
            identity.credentials.insert(
                "oidc".into(),
                Credential::new(
                    "oidc",
                    seed.oidc.iter().map(|(p, s)| format!("{p}:{s}")).collect(),
                    json!({ "providers": providers }),
                    0,
                ),
            );
        }
        if seed.totp {
            identity.credentials.insert(
                "totp".into(),
                Credential::new(
                    "totp",
                    vec![id.to_string()],
                    json!({
                        "totp_url": format!(
                            "otpauth://totp/atoctl-testkit:{email}?algorithm=SHA1&digits=6&issuer=atoctl-testkit&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                        )
                    }),
                    1,
                ),
            );
        }
        if seed.webauthn_mfa {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD;
            identity.credentials.insert(
                "webauthn".into(),
                Credential::new(
                    "webauthn",
                    vec![],
                    json!({
                        "credentials": [{
                            "id": b64.encode(Uuid::new_v4().as_bytes()),
                            "public_key": b64.encode(b"fake public key"),
                            "attestation_type": "none",
                            "authenticator": {"aaguid": b64.encode([0u8; 16]), "sign_count": 0, "clone_warning": false},
                            "display_name": "Security key",
                            "added_at": model::ts(t),
                            "is_passwordless": false,
                        }],
                        "user_handle": b64.encode(id.as_bytes()),
                    }),
                    1,
                ),
            );
        }
        if seed.passkey {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD;
            let user_handle = b64.encode(Uuid::new_v4().as_bytes());
            identity.credentials.insert(
                "passkey".into(),
                Credential::new(
                    "passkey",
                    vec![user_handle.clone()],
                    json!({
                        "credentials": [{
                            "id": b64.encode(Uuid::new_v4().as_bytes()),
                            "public_key": b64.encode(b"fake passkey public key"),
                            "attestation_type": "none",
                            "authenticator": {"aaguid": b64.encode([0u8; 16]), "sign_count": 0, "clone_warning": false},
                            "display_name": "Passkey",
                            "added_at": model::ts(t),
                            "is_passwordless": true,
                        }],
                        "user_handle": user_handle,
                    }),
                    1,
                ),
            );
        }
        if seed.lookup_secret {
            identity.credentials.insert(
                "lookup_secret".into(),
                Credential::new(
                    "lookup_secret",
                    vec![id.to_string()],
                    json!({
                        "recovery_codes": LOOKUP_SECRET_CODES
                            .iter()
                            .map(|c| json!({"code": c, "used_at": null}))
                            .collect::<Vec<_>>()
                    }),
                    1,
                ),
            );
        }
        identity.recompute(self.shared.config.passwordless_code_login);
        // A seeded account's address has been verified long ago.
        for a in &mut identity.verifiable_addresses {
            a.verified = true;
            a.status = "completed".into();
            a.verified_at = Some(t);
        }
        let mut db = self.db();
        assert!(
            !db.identities.contains_key(&id),
            "identity {id} exists already"
        );
        if db.save_identity(identity).is_err() {
            panic!("another identity already uses {email}");
        }
        id.to_string()
    }

    /// Adds a session to an identity and returns its id.
    ///
    /// # Panics
    /// If the identity does not exist.
    pub fn add_session(&self, identity_id: &str, seed: SessionSeed) -> String {
        let iid = Uuid::parse_str(identity_id).expect("add_session needs an identity UUID");
        let mut db = self.db();
        assert!(
            db.identities.contains_key(&iid),
            "add_session: no identity {identity_id}"
        );
        let t = model::now();
        let authenticated = t - SignedDuration::from_hours(1);
        let expires = if seed.expired {
            t - SignedDuration::from_mins(5)
        } else {
            t + SignedDuration::from_hours(24)
        };
        let s = Session {
            id: Uuid::new_v4(),
            identity_id: iid,
            db_active: !seed.revoked,
            expires_at: expires,
            authenticated_at: authenticated,
            issued_at: authenticated,
            created_at: t,
            aal: seed.aal.clone(),
            devices: seed
                .devices
                .iter()
                .map(|(ip, ua, loc)| Device::new(ip, ua, loc))
                .collect(),
            seq: 0,
        };
        db.insert_session(s).to_string()
    }

    /// The stored identity as the admin GET shows it, with every credential config.
    pub fn identity_json(&self, id: &str) -> Option<Value> {
        let id = Uuid::parse_str(id).ok()?;
        let db = self.db();
        db.identities
            .get(&id)
            .map(|i| i.to_json(&self.url, model::Creds::All))
    }

    /// The identity's credential types (the keys of `credentials`, sorted), as a plain GET
    /// shows them. An identity without a password still has an empty `password` credential
    /// (§14.20), so `password` is there whenever the traits hold an e-mail.
    ///
    /// # Panics
    /// If the identity does not exist (a test asking about nothing would pass vacuously).
    pub fn credential_types(&self, identity_id: &str) -> Vec<String> {
        let iid = Uuid::parse_str(identity_id).expect("credential_types needs an identity UUID");
        let types = self
            .db()
            .identities
            .get(&iid)
            .map(|i| i.credentials.keys().cloned().collect());
        types.unwrap_or_else(|| panic!("credential_types: no identity {identity_id}"))
    }

    /// The identity's OIDC links as `provider:subject` (the identifiers of its `oidc`
    /// credential, in the order they were added); empty when it has none.
    ///
    /// # Panics
    /// If the identity does not exist.
    pub fn oidc_identifiers(&self, identity_id: &str) -> Vec<String> {
        let iid = Uuid::parse_str(identity_id).expect("oidc_identifiers needs an identity UUID");
        let links = self.db().identities.get(&iid).map(|i| {
            i.credentials
                .get("oidc")
                .map(|c| c.identifiers.clone())
                .unwrap_or_default()
        });
        links.unwrap_or_else(|| panic!("oidc_identifiers: no identity {identity_id}"))
    }

    /// The raw session rows of an identity (hard-deleted ones are gone), oldest first.
    pub fn sessions_of(&self, identity_id: &str) -> Vec<SessionRow> {
        let Ok(iid) = Uuid::parse_str(identity_id) else {
            return vec![];
        };
        let db = self.db();
        let mut rows: Vec<&Session> = db.sessions_of(iid);
        rows.reverse();
        rows.into_iter()
            .map(|s| SessionRow {
                id: s.id.to_string(),
                identity_id: s.identity_id.to_string(),
                db_active: s.db_active,
                expires_at: model::ts(s.expires_at),
                devices: s.devices.iter().map(Device::to_json).collect(),
            })
            .collect()
    }

    /// A self-service password login: finds the identity by identifier, checks the stored
    /// hash (only `hashed_password` counts; plaintext patched into the config does not),
    /// then the identity state (inactive → [`LoginResult::IdentityDisabled`], §10). On
    /// success a session with one device is created.
    pub fn password_login(&self, identifier: &str, password: &str) -> LoginResult {
        let mut db = self.db();
        let Some(iid) = db.identity_ids_by_identifier(identifier) else {
            return LoginResult::InvalidCredentials;
        };
        let Some(identity) = db.identities.get(&iid) else {
            return LoginResult::InvalidCredentials;
        };
        let ok = identity
            .credentials
            .get("password")
            .and_then(|c| c.config.get("hashed_password"))
            .and_then(Value::as_str)
            .is_some_and(|h| model::verify_password(h, password));
        if !ok {
            return LoginResult::InvalidCredentials;
        }
        if !identity.is_active() {
            return LoginResult::IdentityDisabled;
        }
        let t = model::now();
        let s = Session {
            id: Uuid::new_v4(),
            identity_id: iid,
            db_active: true,
            expires_at: t + SignedDuration::from_hours(24),
            authenticated_at: t,
            issued_at: t,
            created_at: t,
            aal: "aal1".into(),
            devices: vec![Device::new(
                "198.51.100.20",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128",
                "",
            )],
            seq: 0,
        };
        LoginResult::Ok {
            session_id: db.insert_session(s).to_string(),
        }
    }

    /// `/sessions/whoami` would accept the session: DB active, unexpired, identity active.
    pub fn whoami(&self, session_id: &str) -> bool {
        let Ok(sid) = Uuid::parse_str(session_id) else {
            return false;
        };
        let db = self.db();
        db.sessions
            .get(&sid)
            .is_some_and(|s| s.computed_active(db.identities.get(&s.identity_id), model::now()))
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorded()
    }

    pub fn clear_requests(&self) {
        self.shared.clear_recorded();
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Every recovery code, link and link token issued so far.
    pub fn issued_recovery_secrets(&self) -> Vec<String> {
        self.db().recovery_secrets.clone()
    }

    /// How many admin recovery codes (`POST /admin/recovery/code`) were issued for the
    /// identity; the codes themselves are in [`KratosDouble::issued_recovery_secrets`].
    pub fn recovery_codes_issued(&self, identity_id: &str) -> usize {
        self.recovery_issued(identity_id, model::RecoveryKind::Code)
    }

    /// How many admin recovery links (`POST /admin/recovery/link`) were issued for the
    /// identity.
    pub fn recovery_links_issued(&self, identity_id: &str) -> usize {
        self.recovery_issued(identity_id, model::RecoveryKind::Link)
    }

    fn recovery_issued(&self, identity_id: &str, kind: model::RecoveryKind) -> usize {
        let Ok(iid) = Uuid::parse_str(identity_id) else {
            return 0;
        };
        self.db()
            .recovery_issued
            .iter()
            .filter(|(i, k)| *i == iid && *k == kind)
            .count()
    }

    /// The documents were read and every request is checked against them (false when
    /// [`Config::validate_requests`] is off or the documents could not be read).
    pub fn validating(&self) -> bool {
        self.shared.validating()
    }

    /// How many requests the rate limiter answered 429 ([`Config::rate_limit`]).
    pub fn rate_limited(&self) -> u64 {
        self.shared.rate_limited()
    }

    /// Adds a remembered Hydra login session for the subject and returns its id (`sid`).
    pub fn add_login_session(&self, subject: &str) -> String {
        let id = Uuid::new_v4().to_string();
        self.db().login_sessions.push(LoginSession {
            id: id.clone(),
            subject: subject.to_string(),
        });
        id
    }

    /// Adds a granted Hydra consent session for the subject and the client, with one access
    /// and one refresh token, in a new remembered login session; returns the consent request
    /// id.
    pub fn add_consent(&self, subject: &str, client_id: &str) -> String {
        let sid = self.add_login_session(subject);
        self.add_consent_in_login_session(subject, client_id, &sid)
    }

    /// Adds `n` consents as [`KratosDouble::add_consent`] does (each in its own login
    /// session); returns their consent request ids.
    pub fn add_consents(&self, subject: &str, client_id: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| self.add_consent(subject, client_id))
            .collect()
    }

    /// Adds a consent granted in an existing login session (`consent_request.login_session_id`
    /// is `login_session_id`), so several consents can share one login session.
    ///
    /// # Panics
    /// If the subject has no such login session.
    pub fn add_consent_in_login_session(
        &self,
        subject: &str,
        client_id: &str,
        login_session_id: &str,
    ) -> String {
        let mut db = self.db();
        assert!(
            db.login_sessions
                .iter()
                .any(|l| l.id == login_session_id && l.subject == subject),
            "add_consent_in_login_session: {subject} has no login session {login_session_id}"
        );
        let consent_request_id = Uuid::new_v4().simple().to_string();
        db.consents.push(Consent {
            consent_request_id: consent_request_id.clone(),
            login_challenge: Uuid::new_v4().simple().to_string(),
            subject: subject.to_string(),
            client_id: client_id.to_string(),
            login_session_id: Some(login_session_id.to_string()),
            handled_at: model::now(),
            tokens: 2,
        });
        consent_request_id
    }

    /// Sets when a consent was granted (`handled_at` in the consent listing), e.g. to make it
    /// look granted long before an incident. Rounded to microseconds, as Hydra stores it.
    ///
    /// # Panics
    /// If there is no such consent.
    pub fn set_consent_handled_at(&self, consent_request_id: &str, at: jiff::Timestamp) {
        let at = at.round(jiff::Unit::Microsecond).unwrap_or(at);
        let found = self
            .db()
            .consents
            .iter_mut()
            .find(|c| c.consent_request_id == consent_request_id)
            .map(|c| c.handled_at = at)
            .is_some();
        assert!(
            found,
            "set_consent_handled_at: no consent {consent_request_id}"
        );
    }

    /// The login session a consent was granted in (`None` for an unknown consent, or once
    /// that login session was deleted).
    pub fn login_session_of_consent(&self, consent_request_id: &str) -> Option<String> {
        self.db()
            .consents
            .iter()
            .find(|c| c.consent_request_id == consent_request_id)
            .and_then(|c| c.login_session_id.clone())
    }

    /// How many consent sessions the subject has.
    pub fn consents_of(&self, subject: &str) -> usize {
        self.db()
            .consents
            .iter()
            .filter(|c| c.subject == subject)
            .count()
    }

    /// The subject's consents, in the order they were granted (added).
    pub fn consents(&self, subject: &str) -> Vec<ConsentRow> {
        self.db()
            .consents
            .iter()
            .filter(|c| c.subject == subject)
            .map(|c| ConsentRow {
                consent_request_id: c.consent_request_id.clone(),
                client_id: c.client_id.clone(),
                login_session_id: c.login_session_id.clone(),
                handled_at: c.handled_at,
            })
            .collect()
    }

    /// How many access and refresh tokens issued under the subject's consents still exist.
    pub fn tokens_of(&self, subject: &str) -> usize {
        self.db()
            .consents
            .iter()
            .filter(|c| c.subject == subject)
            .map(|c| c.tokens)
            .sum()
    }

    /// How many remembered login sessions the subject has.
    pub fn login_sessions_of(&self, subject: &str) -> usize {
        self.db()
            .login_sessions
            .iter()
            .filter(|l| l.subject == subject)
            .count()
    }

    /// The login session ids Hydra ran a back-channel logout for, in order.
    pub fn backchannel_logouts(&self) -> Vec<String> {
        self.db().backchannel_logouts.clone()
    }
}
