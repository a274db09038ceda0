//! The one error type that reaches `main`, and its mapping to the contract's exit codes.
//!
//! Every message is one line, written for the operator: what went wrong and, where we know,
//! what to do about it. Messages never carry secrets: they are built from ids, URLs without
//! credentials, status codes and the server's own error text.

use std::fmt;

/// Exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    NotFound = 3,
    Pwned = 4,
    Damaged = 5,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that ends the command.
#[derive(Debug)]
pub struct AppError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
}

impl AppError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        AppError {
            exit,
            message: message.into(),
            hint: None,
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

impl std::error::Error for AppError {}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::failed(e.to_string())
    }
}

/// Folds whitespace so that a message is always a single line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
