//! Errors from the Ory admin APIs (Kratos and Hydra), each reduced to one clear line.
//!
//! Kratos answers errors with herodot's `{"error":{"code","status","message","reason",...}}`;
//! the specific text is in `message` or in `reason` depending on the handler, so both are read.
//! Hydra answers with the flat RFC 6749 `{"error","error_description"}`. The Ory Network edge
//! (401/403/429), a proxy or a wrong base URL may answer with neither, and a 404 from one of
//! those means nothing about the identity asked for: only Kratos's own not-found (the herodot
//! shape) does.
//!
//! What an error means to the operator (exit code, hint naming a flag) is decided at the edge,
//! in `crate::error`, not here.

use std::fmt;

use serde_json::Value;

use crate::http::{Answer, TransportError};

/// Which API's error shape a body had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Kratos's herodot `ErrorContainer`.
    Herodot,
    /// Hydra's RFC 6749 error.
    Rfc6749,
    /// JSON of neither shape, or an empty body.
    Other,
}

#[derive(Debug, Clone)]
pub enum ApiError {
    /// The server answered with an error status.
    Status {
        status: u16,
        method: String,
        url: String,
        message: String,
        reason: Option<String>,
        error_id: Option<String>,
        shape: Shape,
    },
    /// A body that is not JSON where JSON was due (an HTML error page, a proxy, a wrong URL,
    /// the Ory edge).
    NotJson {
        status: u16,
        method: String,
        url: String,
        content_type: String,
    },
    /// A JSON body of the wrong shape.
    BadBody {
        method: String,
        url: String,
        detail: String,
    },
    /// A listing that does not end: atoctl stopped following it.
    Unending {
        method: String,
        url: String,
        detail: String,
    },
    /// An answer about another identity or session than the one asked for: not trusted.
    Mismatch {
        method: String,
        url: String,
        what: String,
    },
    /// No usable answer at all.
    Transport(TransportError),
}

impl From<TransportError> for ApiError {
    fn from(e: TransportError) -> Self {
        ApiError::Transport(e)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } | ApiError::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_status(&self, code: u16) -> bool {
        self.status() == Some(code)
    }

    /// A 404 in Kratos's own words: the resource asked for does not exist. Any other 404 (a
    /// wrong base path, a proxy's page) says nothing about it.
    pub fn is_kratos_not_found(&self) -> bool {
        matches!(
            self,
            ApiError::Status {
                status: 404,
                shape: Shape::Herodot,
                ..
            }
        )
    }

    /// `message` and `reason` together, for matching on what the server said.
    pub fn text(&self) -> String {
        match self {
            ApiError::Status {
                message, reason, ..
            } => format!("{message} {}", reason.as_deref().unwrap_or("")),
            _ => String::new(),
        }
    }

    /// The error for an answer whose status was not the one expected.
    pub fn from_answer(ans: &Answer) -> ApiError {
        Self::from_parts(
            ans.status,
            &ans.method,
            &ans.url,
            ans.content_type(),
            &ans.body,
        )
    }

    pub fn from_parts(
        status: u16,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> ApiError {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let Some(json) = json.filter(Value::is_object) else {
            if body.is_empty() {
                return ApiError::Status {
                    status,
                    method: method.into(),
                    url: url.into(),
                    message: default_message(status).into(),
                    reason: None,
                    error_id: None,
                    shape: Shape::Other,
                };
            }
            return ApiError::NotJson {
                status,
                method: method.into(),
                url: url.into(),
                content_type: crate::output::clean(content_type.unwrap_or("no content type")),
            };
        };
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let (message, reason, error_id, shape) = match json.get("error") {
            // herodot (Kratos): its `code` is the status itself.
            Some(Value::Object(e)) if e.get("code").and_then(Value::as_u64).is_some() => (
                s(e.get("message")),
                s(e.get("reason")).filter(|r| !r.is_empty()),
                s(e.get("id")),
                Shape::Herodot,
            ),
            Some(Value::Object(e)) => (
                s(e.get("message")),
                s(e.get("reason")).filter(|r| !r.is_empty()),
                None,
                Shape::Other,
            ),
            // RFC 6749 (Hydra)
            Some(Value::String(code)) => (
                Some(code.clone()),
                s(json.get("error_description")).filter(|r| !r.is_empty()),
                None,
                Shape::Rfc6749,
            ),
            _ => (
                s(json.get("message")),
                s(json.get("reason")),
                None,
                Shape::Other,
            ),
        };
        // Server text: escaped and shortened here, once, so that no message, hint or journal
        // entry built from it can carry an escape sequence or a megabyte.
        let clean = |t: String| crate::output::clean(&t);
        ApiError::Status {
            status,
            method: method.into(),
            url: url.into(),
            message: clean(message.unwrap_or_else(|| default_message(status).into())),
            reason: reason.map(clean),
            error_id: error_id.map(clean),
            shape,
        }
    }

    /// A body that did not decode into what was expected.
    pub fn bad_body(ans: &Answer, detail: impl Into<String>) -> ApiError {
        ApiError::BadBody {
            method: ans.method.clone(),
            url: ans.url.clone(),
            // A decoder's message may quote the body.
            detail: crate::output::clean(&detail.into()),
        }
    }

    /// A listing that does not end (pages past the cap or the deadline, or repeating).
    pub fn unending(method: &str, url: &str, detail: String) -> ApiError {
        ApiError::Unending {
            method: method.into(),
            url: url.into(),
            detail,
        }
    }

    /// An answer about something else than what was asked.
    pub fn mismatch(ans: &Answer, what: impl Into<String>) -> ApiError {
        ApiError::Mismatch {
            method: ans.method.clone(),
            url: ans.url.clone(),
            what: what.into(),
        }
    }
}

fn default_message(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        409 => "conflict",
        429 => "too many requests",
        500..=599 => "server error",
        _ => "unexpected status",
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status {
                status,
                method,
                url,
                message,
                reason,
                error_id,
                ..
            } => {
                write!(f, "{method} {url} answered {status}: {message}")?;
                if let Some(r) = reason
                    && r != message
                {
                    write!(f, " ({r})")?;
                }
                if let Some(id) = error_id {
                    write!(f, " [error id {id}]")?;
                }
                Ok(())
            }
            ApiError::NotJson {
                status,
                method,
                url,
                content_type,
            } => write!(
                f,
                "{method} {url} answered {status} with {content_type}, not JSON"
            ),
            ApiError::BadBody {
                method,
                url,
                detail,
            } => write!(
                f,
                "{method} {url} answered with a body atoctl cannot read: {detail}"
            ),
            ApiError::Unending {
                method,
                url,
                detail,
            } => write!(f, "{method} {url}: {detail}; atoctl stopped following it"),
            ApiError::Mismatch { method, url, what } => write!(
                f,
                "{method} {url} answered about {what}: atoctl does not trust it and sent nothing more"
            ),
            ApiError::Transport(e) => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reason_as_well_as_message() {
        let body = br#"{"error":{"code":404,"status":"Not Found","message":"Unable to locate the resource","reason":"could not find identity"}}"#;
        let e = ApiError::from_parts(404, "POST", "u", Some("application/json"), body);
        assert!(e.text().contains("could not find identity"));
        assert!(
            e.to_string()
                .contains("Unable to locate the resource (could not find identity)")
        );
        assert!(e.is_kratos_not_found());
    }

    #[test]
    fn only_kratos_own_404_means_not_found() {
        for (ct, body) in [
            ("text/html", &b"<html>404 page not found</html>"[..]),
            ("application/json", &br#"{"message":"no route"}"#[..]),
            ("text/plain", &b""[..]),
        ] {
            let e = ApiError::from_parts(404, "GET", "u", Some(ct), body);
            assert!(!e.is_kratos_not_found(), "{ct}");
        }
    }

    #[test]
    fn hydra_flat_errors_are_read() {
        let body = br#"{"error":"invalid_request","error_description":"Invalid combination of query parameters."}"#;
        let e = ApiError::from_parts(400, "DELETE", "u", Some("application/json"), body);
        assert!(e.to_string().contains("Invalid combination"));
    }

    #[test]
    fn html_is_not_json() {
        let e = ApiError::from_parts(
            502,
            "GET",
            "u",
            Some("text/html"),
            b"<html>bad gateway</html>",
        );
        assert!(matches!(e, ApiError::NotJson { status: 502, .. }));
        assert!(!e.to_string().contains('\n'));
    }
}
