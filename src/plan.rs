//! `--dry-run`: the exact requests a step would send, with secrets redacted. Nothing is sent,
//! so values the step would read first are shown as `<as read: …>`.

use serde::Serialize;
use serde_json::Value;

use crate::context::Ctx;
use crate::error::Result;
use crate::output;

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub method: &'static str,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub step: String,
    pub requests: Vec<Planned>,
    pub notes: Vec<String>,
}

impl Plan {
    pub fn new(step: &str) -> Plan {
        Plan {
            step: step.into(),
            requests: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn request(
        &mut self,
        ctx: &Ctx,
        method: &'static str,
        path: &str,
        body: Option<Value>,
        purpose: &str,
    ) -> &mut Self {
        self.requests.push(Planned {
            method,
            url: format!("{}{}", ctx.kratos_base_for_plan(), path),
            body,
            purpose: purpose.into(),
        });
        self
    }

    /// A request to the Hydra admin API (only planned when `--hydra-admin-url` is set).
    pub fn hydra_request(
        &mut self,
        ctx: &Ctx,
        method: &'static str,
        path: &str,
        purpose: &str,
    ) -> &mut Self {
        if let Some(base) = ctx.hydra_base_for_plan() {
            self.requests.push(Planned {
                method,
                url: format!("{base}{path}"),
                body: None,
                purpose: purpose.into(),
            });
        }
        self
    }

    pub fn note(&mut self, n: &str) -> &mut Self {
        self.notes.push(n.into());
        self
    }

    /// Prints the plan (stdout) and returns: a dry run ends here.
    pub fn print(&self, ctx: &Ctx) -> Result<()> {
        if ctx.json() {
            return output::print_json(&serde_json::json!({
                "dry_run": true,
                "step": self.step,
                "requests": self.requests,
                "notes": self.notes,
            }));
        }
        output::line(&format!(
            "dry run of `{}`: nothing is sent, changed or journaled. atoctl would send:",
            self.step
        ));
        for (i, r) in self.requests.iter().enumerate() {
            output::line(&format!("{:>3}. {:<6} {}", i + 1, r.method, r.url));
            if let Some(b) = &r.body {
                let body = serde_json::to_string_pretty(b).unwrap_or_default();
                for l in body.lines() {
                    output::line(&format!("            {l}"));
                }
            }
            output::line(&format!("       ↳ {}", r.purpose));
        }
        for n in &self.notes {
            output::line(&format!("note: {n}"));
        }
        Ok(())
    }
}
