//! Errors from the Ory admin APIs, each reduced to one clear line.
//!
//! Kratos answers errors with herodot's `{"error":{"code","status","message","reason",...}}`;
//! the specific text is in `message` or in `reason` depending on the handler, so both are read.
//! Hydra answers with the flat RFC 6749 `{"error","error_description"}`. The Ory Network edge
//! (401/403/429) may answer with neither.

use std::fmt;

use serde_json::Value;

use crate::error::{AppError, Exit};

#[derive(Debug, Clone)]
pub enum KratosError {
    /// The server answered with an error status.
    Api {
        status: u16,
        method: String,
        url: String,
        message: String,
        reason: Option<String>,
        error_id: Option<String>,
    },
    /// A body that is not JSON where JSON was due (an HTML error page, a proxy, a wrong URL).
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
    /// No answer: refused, unreachable, timed out.
    Transport {
        method: String,
        url: String,
        detail: String,
        timeout: bool,
    },
}

impl KratosError {
    pub fn status(&self) -> Option<u16> {
        match self {
            KratosError::Api { status, .. } | KratosError::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// `message` and `reason` together, for matching on what the server said.
    pub fn text(&self) -> String {
        match self {
            KratosError::Api {
                message, reason, ..
            } => format!("{message} {}", reason.as_deref().unwrap_or("")),
            _ => String::new(),
        }
    }

    pub fn is_status(&self, code: u16) -> bool {
        self.status() == Some(code)
    }

    /// Builds the error for a non-success answer from its body.
    pub fn from_answer(
        status: u16,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> KratosError {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let Some(json) = json.filter(Value::is_object) else {
            if body.is_empty() || status == 429 {
                return KratosError::Api {
                    status,
                    method: method.into(),
                    url: url.into(),
                    message: default_message(status).into(),
                    reason: None,
                    error_id: None,
                };
            }
            return KratosError::NotJson {
                status,
                method: method.into(),
                url: url.into(),
                content_type: content_type.unwrap_or("no content type").into(),
            };
        };
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let (message, reason, error_id) = match json.get("error") {
            // herodot (Kratos)
            Some(Value::Object(e)) => (
                s(e.get("message")),
                s(e.get("reason")).filter(|r| !r.is_empty()),
                s(e.get("id")),
            ),
            // RFC 6749 (Hydra)
            Some(Value::String(code)) => (
                Some(code.clone()),
                s(json.get("error_description")).filter(|r| !r.is_empty()),
                None,
            ),
            _ => (s(json.get("message")), s(json.get("reason")), None),
        };
        KratosError::Api {
            status,
            method: method.into(),
            url: url.into(),
            message: message.unwrap_or_else(|| default_message(status).into()),
            reason,
            error_id,
        }
    }

    /// The default mapping to an exit code and hint; steps map the statuses they expect
    /// (404 → exit 3 …) themselves before falling back to this.
    pub fn into_app(self) -> AppError {
        let line = self.to_string();
        if let Some(300..=399) = self.status() {
            return AppError::failed(line).with_hint(
                "the server redirected; atoctl never follows redirects: use the admin URL itself (the public port redirects admin paths)",
            );
        }
        match &self {
            KratosError::Api { status: 401, .. } | KratosError::Api { status: 403, .. } => {
                AppError::failed(line).with_hint(
                    "check the admin token (--kratos-token / KRATOS_ADMIN_TOKEN): Ory Network needs a project API key (ory_pat_… or ory_apikey_…), not a workspace key (ory_wak_…)",
                )
            }
            KratosError::NotJson { .. } => AppError::failed(line).with_hint(
                "is --kratos-admin-url the Kratos admin API (self-hosted admin port, usually 4434, or https://<slug>.projects.oryapis.com)?",
            ),
            KratosError::Transport { timeout: false, .. } => AppError::failed(line).with_hint(
                "is Kratos running and is --kratos-admin-url / KRATOS_ADMIN_URL right?",
            ),
            KratosError::Transport { timeout: true, .. } => {
                AppError::failed(line).with_hint("raise --timeout if the server is just slow")
            }
            KratosError::Api { status: 429, .. } => AppError::failed(line)
                .with_hint("rate limited after retries; run again later or lower --concurrency/--rate"),
            _ => AppError::new(Exit::Failed, line),
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

impl fmt::Display for KratosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KratosError::Api {
                status,
                method,
                url,
                message,
                reason,
                error_id,
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
            KratosError::NotJson {
                status,
                method,
                url,
                content_type,
            } => write!(
                f,
                "{method} {url} answered {status} with {content_type}, not JSON"
            ),
            KratosError::BadBody {
                method,
                url,
                detail,
            } => write!(
                f,
                "{method} {url} answered with a body atoctl cannot read: {detail}"
            ),
            KratosError::Transport {
                method,
                url,
                detail,
                ..
            } => write!(f, "{method} {url} failed: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reason_as_well_as_message() {
        let body = br#"{"error":{"code":404,"status":"Not Found","message":"Unable to locate the resource","reason":"could not find identity"}}"#;
        let e = KratosError::from_answer(404, "POST", "u", Some("application/json"), body);
        assert!(e.text().contains("could not find identity"));
        assert!(
            e.to_string()
                .contains("Unable to locate the resource (could not find identity)")
        );
    }

    #[test]
    fn hydra_flat_errors_are_read() {
        let body = br#"{"error":"invalid_request","error_description":"Invalid combination of query parameters."}"#;
        let e = KratosError::from_answer(400, "DELETE", "u", Some("application/json"), body);
        assert!(e.to_string().contains("Invalid combination"));
    }

    #[test]
    fn html_is_not_json() {
        let e = KratosError::from_answer(
            502,
            "GET",
            "u",
            Some("text/html"),
            b"<html>bad gateway</html>",
        );
        assert!(matches!(e, KratosError::NotJson { status: 502, .. }));
        assert!(!e.to_string().contains('\n'));
    }
}
