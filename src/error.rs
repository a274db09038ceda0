//! The one error type that reaches `main`, and its mapping to the contract's exit codes.
//!
//! Every message is one line, written for the operator: what went wrong and, where we know,
//! what to do about it. Messages never carry secrets: they are built from ids, URLs without
//! credentials, status codes and the server's own error text.

use std::fmt;

use crate::api::ApiError;
use crate::http::TransportError;

/// Exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    NotFound = 3,
    Pwned = 4,
    Damaged = 5,
    /// Stopped by SIGINT (Ctrl-C) after what was in flight finished: 128 + 2.
    Interrupted = 130,
    /// Stopped by SIGTERM after what was in flight finished: 128 + 15.
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that ends the command: its exit code, the one line the operator reads, a hint
/// where we know what to do, and the error it came from (kept, not flattened away).
#[derive(Debug)]
pub struct AppError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AppError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        AppError {
            exit,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Keeps the error this one was made from.
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The same exit, message and hint, without the source (for a copy handed to many).
    pub fn shallow_clone(&self) -> AppError {
        AppError {
            exit: self.exit,
            message: self.message.clone(),
            hint: self.hint.clone(),
            source: None,
        }
    }

    /// Invalid input, usage error, or a change refused: exit 2, nothing was sent.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// The step failed: exit 1.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Exit::Failed, message)
    }

    /// The identity or session does not exist: exit 3.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message and hint on one line, without the `atoctl: error:` prefix.
    pub fn line_plain(&self) -> String {
        let msg = one_line(&self.message);
        match &self.hint {
            Some(h) => format!("{msg} (hint: {})", one_line(h)),
            None => msg,
        }
    }

    /// The single line printed on stderr.
    pub fn line(&self) -> String {
        format!("atoctl: error: {}", self.line_plain())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::failed(e.to_string()).caused_by(e)
    }
}

/// The default meaning of an admin API error for the operator: exit 1 with a hint about what
/// to check. Steps map the statuses they expect (Kratos's own 404 → exit 3, …) before falling
/// back to this.
impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        let line = e.to_string();
        let hint = match &e {
            _ if matches!(e.status(), Some(300..=399)) => Some(
                "the server redirected; atoctl never follows redirects: use the admin URL itself (the public port redirects admin paths)",
            ),
            // The Ory edge answers these, JSON or not.
            _ if matches!(e.status(), Some(401 | 403)) => Some(
                "check the admin token (--kratos-token / KRATOS_ADMIN_TOKEN): Ory Network needs a project API key (ory_pat_… or ory_apikey_…), not a workspace key (ory_wak_…)",
            ),
            _ if e.is_status(429) => {
                Some("rate limited after retries; run again later or lower --concurrency/--rate")
            }
            ApiError::NotJson { .. } | ApiError::Status { status: 404, .. } => Some(
                "is --kratos-admin-url the Kratos admin API (self-hosted admin port, usually 4434, or https://<slug>.projects.oryapis.com)?",
            ),
            ApiError::Transport(TransportError::NoAnswer { detail, .. })
                if detail.contains(crate::http::TLS_FAILED) =>
            {
                Some(
                    "the server's TLS certificate is not trusted (self-signed, expired, issued for another name) or the port does not speak TLS: atoctl verifies against the system trust store; check the URL's scheme and port, or install the CA",
                )
            }
            ApiError::Transport(t) if t.is_timeout() => {
                Some("raise --timeout if the server is just slow")
            }
            ApiError::Transport(TransportError::NoAnswer { .. }) => {
                Some("is Kratos running and is --kratos-admin-url / KRATOS_ADMIN_URL right?")
            }
            _ => None,
        };
        let err = AppError::failed(line);
        let err = match hint {
            Some(h) => err.with_hint(h),
            None => err,
        };
        err.caused_by(e)
    }
}

/// Folds whitespace so that a message is always a single line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
