//! `recover`: issue an admin recovery code (default) or link for the rightful owner.
//!
//! Reference §9, §13.4–5: the admin endpoints send no e-mail (the operator hands the secret
//! over), earlier codes stay valid until they expire, the owner cannot finish recovery while
//! the identity is inactive, an unknown identity is 404 for codes but 400 for links, and a
//! disabled method is a 404 told apart by its reason. Issuing is never retried: a retry could
//! leave two valid secrets. The code or link is printed once, for the operator only, and never
//! journaled.

use secrecy::ExposeSecret;
use serde_json::json;

use super::life::{Change, Cx, Finished, Plan, Target, Verdict, look_identity};
use super::revoke::target_id;
use super::who;
use crate::api::ApiError;
use crate::cli::RecoveryMethod;
use crate::context::Ctx;
use crate::duration::GoDuration;
use crate::error::{AppError, Result};
use crate::ids::IdentityRef;
use crate::kratos::Identity;
use crate::output;
use crate::plan::{Acted, Call, CallError, Checks, Op, Performed};

/// `recover --identity`.
pub struct Recover {
    pub identity: IdentityRef,
    pub method: RecoveryMethod,
    pub expires_in: Option<GoDuration>,
}

impl Recover {
    fn method_name(&self) -> &'static str {
        match self.method {
            RecoveryMethod::Code => "code",
            RecoveryMethod::Link => "link",
        }
    }

    /// What stays valid after issuing: earlier codes (and links) until they expire.
    fn earlier(&self) -> &'static str {
        match self.method {
            RecoveryMethod::Code => "earlier codes stay valid until they expire",
            RecoveryMethod::Link => "earlier links and codes stay valid until they expire",
        }
    }
}

impl Change for Recover {
    type Look = Identity;
    const STEP: &'static str = "recover";
    const WHAT: &'static str = "issue a recovery secret";

    fn identity(&self) -> Option<&IdentityRef> {
        Some(&self.identity)
    }

    async fn look(&self, cx: &Cx<'_>, target: Option<&Target>) -> Result<Identity> {
        look_identity(cx, target_id(target)?).await
    }

    fn assumed(&self, _: Option<&Target>) -> Option<Identity> {
        Some(Identity {
            state: Some("active".into()),
            ..Identity::default()
        })
    }

    fn plan(&self, _: &Cx<'_>, target: Option<&Target>, look: &Identity) -> Result<Plan> {
        let id = target_id(target)?;
        let label = who(Some(look), id);
        if !look.is_active() {
            return Err(AppError::usage(format!(
                "{label} is {}: the owner could not finish recovery (Kratos refuses new sessions for it); nothing was issued",
                look.state_str()
            ))
            .with_hint("run `atoctl unlock --identity` first (it ends any session that would revive), then recover"));
        }
        let method = self.method_name();
        let expires_in = self.expires_in.as_ref().map(GoDuration::to_string);
        let op = match self.method {
            RecoveryMethod::Code => Op::RecoveryCode {
                identity: id,
                expires_in: expires_in.clone(),
            },
            RecoveryMethod::Link => Op::RecoveryLink {
                identity: id,
                expires_in: expires_in.clone(),
            },
        };
        let mut plan = Plan {
            identity: Some(id),
            label,
            ..Plan::default()
        };
        plan.fact("method", method);
        plan.fact("expires_in", &expires_in);
        plan.calls.push(Call::new(
            op,
            format!("issue a recovery {method} (sent once, never retried); it is shown to you, not journaled"),
        ));
        plan.question = format!(
            "Issue a recovery {method} for {}{}?",
            plan.label,
            expires_in
                .as_deref()
                .map(|e| format!(" valid for {e}"))
                .unwrap_or_default()
        );
        plan.notes.push(format!(
            "Kratos sends no e-mail for admin recovery: give this {method} to the owner yourself, over a second channel you trust (a call to a known number, not the possibly compromised mailbox). It is not stored anywhere; {}.",
            self.earlier()
        ));
        Ok(plan)
    }

    fn judge(&self, _: &Identity, plan: &Plan, acted: &Acted, _: &Checks) -> Verdict {
        let method = self.method_name();
        if let Some(e) = acted.first_failure() {
            let err = recovery_error(e, plan, method);
            let mut v = Verdict::new(
                false,
                format!("recovery {method} not issued: {}", err.message),
                err.message.clone(),
            );
            v.exit = err.exit;
            if let Some(h) = err.hint {
                v = v.hint(h);
            }
            if matches!(e, CallError::Api(a) if uncertain(a)) {
                v = v.evidence("uncertain", true);
            }
            return v;
        }
        let expires_at = acted
            .results(|p| match p {
                Performed::RecoveryCode(c) => Some(c.expires_at.clone()),
                Performed::RecoveryLink(l) => Some(l.expires_at.clone()),
                _ => None,
            })
            .next()
            .flatten();
        Verdict::new(
            true,
            format!(
                "recovery {method} issued, expires {}; handed over out of band; {}",
                expires_at.as_deref().unwrap_or("(not said)"),
                self.earlier()
            ),
            format!("recovery {method} issued"),
        )
        .evidence("expires_at", &expires_at)
        .evidence("email_sent_by_kratos", false)
        .evidence("earlier_codes_remain_valid", true)
    }

    /// The secret goes to stdout once, for the operator; nothing else prints it.
    fn show(&self, ctx: &Ctx, done: &Finished<Identity>) -> Result<()> {
        let label = &done.label;
        for p in done.acted.results(Some) {
            let (secret, ui_link, expires_at) = match p {
                Performed::RecoveryCode(c) => (
                    &c.recovery_code,
                    Some(&c.recovery_link),
                    c.expires_at.as_deref(),
                ),
                Performed::RecoveryLink(l) => (&l.recovery_link, None, l.expires_at.as_deref()),
                _ => continue,
            };
            if output::results_redirected() && !output::results_is_terminal() {
                // Under a runner whose output is not a terminal (a drill, a pipeline), the
                // secret would be kept in a log: it is not shown.
                output::line(&format!(
                    "{} issued for {label} (expires {}); not shown: this output is not a terminal and would keep it in a log. Run `atoctl recover --identity …` on a terminal to hand one over",
                    match self.method {
                        RecoveryMethod::Code => "recovery code",
                        RecoveryMethod::Link => "recovery link",
                    },
                    expires_at.unwrap_or("when Kratos says")
                ));
                continue;
            }
            if ctx.json() {
                let mut doc = json!({
                    "identity": done.identity,
                    "result": "ok",
                    "method": self.method_name(),
                    "expires_at": expires_at,
                    "journal": done.journal,
                });
                match self.method {
                    RecoveryMethod::Code => {
                        doc["recovery_code"] = json!(secret.expose_secret());
                        doc["recovery_link"] =
                            json!(ui_link.map(|l| l.expose_secret().to_string()));
                    }
                    RecoveryMethod::Link => doc["recovery_link"] = json!(secret.expose_secret()),
                }
                output::print_json(&doc)?;
            } else {
                match self.method {
                    RecoveryMethod::Code => {
                        output::line(&format!(
                            "recovery code for {label}: {}",
                            secret.expose_secret()
                        ));
                        if let Some(l) = ui_link {
                            output::line(&format!("enter it at: {}", l.expose_secret()));
                        }
                    }
                    RecoveryMethod::Link => output::line(&format!(
                        "recovery link for {label}: {}",
                        secret.expose_secret()
                    )),
                }
                output::line(&format!(
                    "expires: {}",
                    expires_at.unwrap_or("(Kratos did not say)")
                ));
            }
        }
        Ok(())
    }
}

/// The request may have reached Kratos and the secret been issued anyway (it was not retried):
/// a 5xx, or any failure after connecting (a timeout, an answer that broke off or was too
/// large). Only a refused connection is sure to have issued nothing.
fn uncertain(e: &ApiError) -> bool {
    matches!(e, ApiError::Transport(t) if !t.is_connect()) || matches!(e.status(), Some(500..=599))
}

fn recovery_error(e: &CallError, plan: &Plan, method: &str) -> AppError {
    let CallError::Api(a) = e else {
        return AppError::failed(e.to_string());
    };
    let text = a.text().to_ascii_lowercase();
    let id = plan.identity.map(|i| i.to_string()).unwrap_or_default();
    match a {
        ApiError::Status { status: 404, .. } if text.contains("disabled") => AppError::failed(format!(
            "recovery by {method} is disabled in Kratos: {a}"
        ))
        .with_hint(format!(
            "enable selfservice.methods.{method}.enabled, or try --method {}",
            if method == "code" { "link" } else { "code" }
        )),
        _ if method == "code" && a.is_kratos_not_found() => {
            AppError::not_found(format!("identity {id} does not exist in Kratos ({a})"))
        }
        ApiError::Status { status: 400, .. }
            if method == "link" && text.contains("identity id does not exist") =>
        {
            AppError::not_found(format!("identity {id} does not exist in Kratos ({a})"))
        }
        _ if uncertain(a) => AppError::failed(format!(
            "{a}; a recovery {method} may have been issued anyway (it was not retried, so at most one)"
        ))
        .with_hint("run recover again to issue a fresh one; any earlier one stays valid until it expires"),
        _ => AppError::from(a.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::TransportError;

    fn no_answer(timeout: bool, connect: bool) -> ApiError {
        ApiError::Transport(TransportError::NoAnswer {
            method: "POST".into(),
            url: "u".into(),
            detail: "d".into(),
            timeout,
            connect,
            attempts: 1,
        })
    }

    /// Only a refused connection is sure to have issued nothing.
    #[test]
    fn a_secret_may_have_been_issued_unless_the_connection_was_refused() {
        assert!(uncertain(&no_answer(true, false)));
        assert!(
            uncertain(&no_answer(false, false)),
            "an answer that broke off"
        );
        assert!(!uncertain(&no_answer(false, true)));
        assert!(uncertain(&ApiError::from_parts(
            502, "POST", "u", None, b""
        )));
        assert!(!uncertain(&ApiError::from_parts(
            400, "POST", "u", None, b""
        )));
    }
}
