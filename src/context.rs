//! Resolved configuration shared by every step: endpoints, operator, output, the confirmation
//! policy, and the incident journal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::{AppError, Result};
use crate::http::{RetryPolicy, Trace, Transport};
use crate::journal::{self, Entry, Journal, Outcome};
use crate::output;
use crate::plan::Apis;
use crate::{hydra, kratos};

pub struct Ctx {
    pub args: GlobalArgs,
    pub output: OutputFormat,
    /// Who runs the step, looked up when a journal entry first needs it.
    operator: std::sync::OnceLock<String>,
    pub timeout: Duration,
    /// Prompts can be shown and answered (stderr is a terminal and /dev/tty can be opened).
    pub interactive: bool,
    /// Progress bars and colour on stderr.
    pub stderr_tty: bool,
    pub retry: RetryPolicy,
    /// The journal whose chain this command checked already (a step checks the identity's open
    /// incident before its first request and again where it opens it: once is enough).
    chain_checked: std::sync::OnceLock<PathBuf>,
}

impl Ctx {
    pub fn new(mut args: GlobalArgs) -> Result<Ctx> {
        resolve_token(&mut args)?;
        if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
            return Err(AppError::usage(format!(
                "--timeout {} is not a number of seconds between 0 and 3600",
                args.timeout
            )));
        }
        let retry = RetryPolicy::from_env().map_err(AppError::usage)?;

        let stderr_tty = std::io::stderr().is_terminal();
        let interactive = stderr_tty
            && std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .is_ok();
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            console::set_colors_enabled(false);
            console::set_colors_enabled_stderr(false);
        }
        Ok(Ctx {
            output: args.output,
            timeout: Duration::from_secs_f64(args.timeout),
            operator: std::sync::OnceLock::new(),
            interactive,
            stderr_tty,
            retry,
            args,
            chain_checked: std::sync::OnceLock::new(),
        })
    }

    /// [`journal::check_chain`] of `path`, once per command.
    fn check_chain(&self, path: &Path) -> Result<()> {
        if self.chain_checked.get().is_some_and(|p| p == path) {
            return Ok(());
        }
        journal::check_chain(path, self.args.force_append)?;
        let _ = self.chain_checked.set(path.to_path_buf());
        Ok(())
    }

    /// Who runs the step: `--operator`/`ATOCTL_OPERATOR`, else the login name (`USER`,
    /// `LOGNAME`, else the system's user database). Looked up only when a journal entry needs
    /// it: a step that records nothing reads no user database.
    pub fn operator(&self) -> &str {
        self.operator.get_or_init(|| {
            match self.args.operator.clone().filter(|o| !o.trim().is_empty()) {
                Some(o) => o,
                None => login_name().unwrap_or_else(|| {
                    output::warn(
                        "no operator name: --operator, ATOCTL_OPERATOR, USER and LOGNAME are unset and the system has no name for this user; the journal will say `unknown`",
                    );
                    "unknown".into()
                }),
            }
        })
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// `-o ids` is for pattern-scan only.
    pub fn reject_ids_output(&self, command: &str) -> Result<()> {
        if self.output == OutputFormat::Ids {
            return Err(AppError::usage(format!(
                "-o ids is only for pattern-scan; {command} takes table or json"
            )));
        }
        Ok(())
    }

    /// Whether Hydra is configured: OAuth2 grants are part of containment.
    pub fn has_hydra(&self) -> bool {
        self.args.hydra_admin_url.is_some()
    }

    pub fn dry_run(&self) -> bool {
        self.args.dry_run
    }

    /// The Kratos admin base URL as given, or a placeholder for dry runs without one.
    pub fn kratos_base_for_plan(&self) -> String {
        self.args
            .kratos_admin_url
            .clone()
            .unwrap_or_else(|| "$KRATOS_ADMIN_URL".into())
            .trim_end_matches('/')
            .to_string()
    }

    /// The admin API clients: Kratos (a missing or malformed URL is a usage error) and Hydra
    /// when `--hydra-admin-url` is set (it uses the Kratos token: on Ory Network the same
    /// project key serves both). `pool`: idle connections kept per host (a bulk run keeps as
    /// many as it has requests in flight). With `trace`, every request sent is remembered.
    pub fn apis(&self, trace: Option<Trace>, pool: usize) -> Result<Apis> {
        let url = self
            .args
            .kratos_admin_url
            .as_deref()
            .ok_or_else(missing_kratos_url)?;
        let traced = |t: Transport| match &trace {
            Some(tr) => t.traced(tr.clone()),
            None => t,
        };
        let kratos = kratos::Client::new(traced(self.admin_transport(
            url,
            "--kratos-admin-url",
            pool,
        )?));
        let hydra = match self.args.hydra_admin_url.as_deref() {
            Some(h) => Some(hydra::Client::new(traced(self.admin_transport(
                h,
                "--hydra-admin-url",
                pool,
            )?))),
            None => None,
        };
        Ok(Apis { kratos, hydra })
    }

    /// The retrying transport to an Ory admin API, with the admin token.
    fn admin_transport(&self, url: &str, flag: &str, max_idle: usize) -> Result<Transport> {
        let base = check_base_url(url, flag)?;
        let token = self
            .args
            .kratos_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_string()));
        Transport::new(&base, token, self.timeout, self.retry, max_idle).map_err(AppError::failed)
    }

    /// The Hydra base URL for plans.
    pub fn hydra_base_for_plan(&self) -> Option<String> {
        self.args
            .hydra_admin_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_string())
    }

    /// Refuses a change without a terminal and without `--yes`: exit 2, before anything is sent.
    pub fn ensure_may_change(&self, what: &str) -> Result<()> {
        if self.args.yes || self.interactive {
            return Ok(());
        }
        Err(AppError::usage(format!(
            "refusing to {what} without confirmation: there is no terminal to ask on; nothing was sent"
        ))
        .with_hint("pass --yes to confirm, or --dry-run to see the requests"))
    }

    /// Asks on the terminal unless `--yes`; a "no" is exit 2. Says whether a person was asked
    /// (and so time may have passed).
    pub fn confirm(&self, question: &str) -> Result<bool> {
        if self.args.yes {
            return Ok(false);
        }
        if !self.interactive {
            self.ensure_may_change(question)?;
            return Ok(false);
        }
        let answer = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact_on(&console::Term::stderr())
            .map_err(|e| AppError::usage(format!("no answer to the confirmation: {e}")))?;
        if answer {
            Ok(true)
        } else {
            Err(AppError::usage("not confirmed; nothing was changed"))
        }
    }

    /// Where journals opened without `--incident` live: `ATOCTL_INCIDENT_DIR`, else
    /// `./incidents`.
    pub fn incidents_dir(&self) -> PathBuf {
        std::env::var_os("ATOCTL_INCIDENT_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("incidents"))
    }

    /// Before any request: the open incident that a step about `identity` would continue
    /// (none given with --incident, whose chain lib.rs checks), checked the same way: a
    /// damaged one is exit 5 unless --force-append. Only for an identity given by id: one
    /// given by a login identifier is known after the read that resolves it, and
    /// [`Ctx::journal_for`] checks the journal it finds then.
    pub fn check_open_incident(&self, identity: Option<&crate::ids::IdentityRef>) -> Result<()> {
        if self.args.incident.is_some() {
            return Ok(());
        }
        let Some(crate::ids::IdentityRef::Id(id)) = identity else {
            return Ok(());
        };
        match journal::open_incidents_of(&self.incidents_dir(), &id.to_string()).first() {
            Some(g) => self.check_chain(&g.path),
            None => Ok(()),
        }
    }

    /// The journal for a step that changes something: the one given (refused once the incident
    /// is closed); else the open incident of the same identity in the incidents directory,
    /// said on stderr; else a new one there, named by its incident id.
    pub fn journal_for_change(&self, identity: Option<&str>, step: &str) -> Result<Journal> {
        self.journal_for(identity, step, None)
    }

    /// [`Ctx::journal_for_change`], recording in a new journal's opening entry the login
    /// identifier the identity was found by.
    pub fn journal_for(
        &self,
        identity: Option<&str>,
        step: &str,
        resolved_from: Option<&str>,
    ) -> Result<Journal> {
        match &self.args.incident {
            Some(path) if path.exists() => {
                let j = Journal::open(path, self.operator())?;
                if journal::glance(path)?.closed {
                    return Err(AppError::usage(format!(
                        "incident {} is closed ({}); nothing was sent",
                        j.incident(),
                        path.display()
                    ))
                    .with_hint(
                        "unset ATOCTL_INCIDENT (or drop --incident): the step then opens a new incident",
                    ));
                }
                Ok(j)
            }
            Some(path) => {
                let j = self.create_journal(path, identity, step, None, None, resolved_from)?;
                output::note(&format!(
                    "created incident journal {} (incident {})",
                    path.display(),
                    j.incident()
                ));
                Ok(j)
            }
            None => {
                let dir = self.incidents_dir();
                if let Some(id) = identity {
                    let open = journal::open_incidents_of(&dir, id);
                    if let Some(g) = open.first() {
                        self.check_chain(&g.path)?;
                        let j = Journal::open(&g.path, self.operator())?;
                        let shown = std::path::absolute(&g.path).unwrap_or_else(|_| g.path.clone());
                        output::note(&format!(
                            "continuing incident {} of this identity: {}{} (close it with `atoctl incident close`)",
                            g.incident,
                            shown.display(),
                            if open.len() > 1 {
                                format!(", the newest of {} open ones", open.len())
                            } else {
                                String::new()
                            }
                        ));
                        return Ok(j);
                    }
                }
                let id = new_incident_id();
                let path = dir.join(format!("{id}.jsonl"));
                let j = self.create_journal_with_id(
                    &path,
                    &id,
                    identity,
                    step,
                    None,
                    None,
                    resolved_from,
                )?;
                let shown = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
                output::note(&format!(
                    "no --incident given: opened incident {id} in {} (export ATOCTL_INCIDENT={} to keep using it)",
                    path.display(),
                    shown.display()
                ));
                Ok(j)
            }
        }
    }

    /// The journal of a read-only step: only when one is set.
    pub fn journal_if_set(&self, identity: Option<&str>, step: &str) -> Result<Option<Journal>> {
        match &self.args.incident {
            None => Ok(None),
            Some(_) if self.dry_run() => Ok(None),
            Some(_) => self.journal_for_change(identity, step).map(Some),
        }
    }

    pub fn create_journal(
        &self,
        path: &Path,
        identity: Option<&str>,
        by: &str,
        summary: Option<&str>,
        reported_at: Option<&str>,
        resolved_from: Option<&str>,
    ) -> Result<Journal> {
        let id = new_incident_id();
        self.create_journal_with_id(path, &id, identity, by, summary, reported_at, resolved_from)
    }

    #[allow(clippy::too_many_arguments)]
    fn create_journal_with_id(
        &self,
        path: &Path,
        id: &str,
        identity: Option<&str>,
        by: &str,
        summary: Option<&str>,
        reported_at: Option<&str>,
        resolved_from: Option<&str>,
    ) -> Result<Journal> {
        let mut open = Entry::new("incident.open", identity, Outcome::Ok);
        if let Some(r) = resolved_from {
            open.put("resolved_from", crate::ids::resolution_evidence(r));
        }
        open.put("atoctl_version", env!("CARGO_PKG_VERSION"));
        open.put("opened_by", by);
        if let Some(s) = summary {
            open.put("summary", s);
        }
        if let Some(r) = reported_at {
            open.put("reported_at", r);
        }
        if let Some(u) = &self.args.kratos_admin_url {
            open.put("kratos_admin_url", redact_url(u));
        }
        Journal::create(path, id, self.operator(), open)
    }
}

/// A step that talks to Kratos was given no admin URL: a usage error.
pub fn missing_kratos_url() -> AppError {
    AppError::usage("no Kratos admin URL").with_hint(
        "set KRATOS_ADMIN_URL or pass --kratos-admin-url, e.g. http://127.0.0.1:4434 or https://<slug>.projects.oryapis.com",
    )
}

/// `ato-YYYYMMDD-HHMMSS-xxxxxx`: sortable, readable, unique enough with 24 random bits.
pub fn new_incident_id() -> String {
    let now = jiff::Timestamp::now();
    let r: u32 = rand::random::<u32>() & 0x00ff_ffff;
    format!("ato-{}-{r:06x}", now.strftime("%Y%m%d-%H%M%S"))
}

/// The login name: `USER` or `LOGNAME`, else the system's user database (under `docker exec`
/// or `kubectl exec` neither variable is set).
fn login_name() -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| {
            // The static build must pin its name services before the first lookup.
            crate::platform::prepare_name_lookups();
            whoami::username().ok().filter(|u| !u.is_empty())
        })
}

/// Checks an admin base URL: http or https, a host, no credentials, no query.
pub fn check_base_url(url: &str, flag: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        AppError::usage(format!(
            "{flag} {:?} is not a URL: {e}",
            output::clean(&redact_userinfo(url))
        ))
        .with_hint("write it like http://127.0.0.1:4434 or https://<slug>.projects.oryapis.com")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(AppError::usage(format!(
            "{flag} {} must be an http:// or https:// URL with a host",
            output::clean(&redact_userinfo(url))
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AppError::usage(format!(
            "{flag} must not carry credentials; give the token with --kratos-token / KRATOS_ADMIN_TOKEN"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(AppError::usage(format!(
            "{flag} {} must not have a query or fragment",
            redact_url(url)
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The admin token: from `--kratos-token-file` (read once; the file beats the flag and the
/// environment), else `--kratos-token`/`KRATOS_ADMIN_TOKEN`. A token with a line break or
/// another control character in it is refused: pasted with its newline, it would make every
/// request fail with a confusing error. Given as an argument, it is readable by every local user
/// in the process list for the whole run: said on stderr.
fn resolve_token(args: &mut GlobalArgs) -> Result<()> {
    if let Some(path) = args.kratos_token_file.take() {
        let text = if path.as_os_str() == "-" {
            // Straight into a zeroed buffer: no copy left in std's stdin buffer (the token
            // itself then lives in the arguments as a string, as one from the environment does).
            let line = crate::hibp::read_secret_line(&mut crate::steps::hibp_check::raw_stdin()?)
                .map_err(|e| {
                AppError::usage(format!(
                    "--kratos-token-file -: {}",
                    e.to_string().replace("password", "token")
                ))
            })?;
            String::from_utf8(line.to_vec())
                .map_err(|_| AppError::usage("--kratos-token-file -: the token is not UTF-8"))?
        } else {
            // The path is not repeated: given the token by mistake, it would be the token.
            let raw = zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                AppError::usage(format!("--kratos-token-file: cannot read the file: {e}"))
            })?);
            raw.trim_end_matches(['\n', '\r']).to_string()
        };
        if text.is_empty() {
            return Err(AppError::usage(
                "--kratos-token-file: the file holds no token",
            ));
        }
        args.kratos_token = Some(text);
        args.token_resolved = true;
    } else if let Some(t) = &args.kratos_token
        && !args.token_resolved
        && std::env::var("KRATOS_ADMIN_TOKEN").ok().as_deref() != Some(t.as_str())
    {
        output::warn(
            "--kratos-token on the command line is readable by every local user in the process list while atoctl runs: prefer KRATOS_ADMIN_TOKEN or --kratos-token-file FILE",
        );
        // Said once: the contexts made later for the same run carry the token along.
        args.token_resolved = true;
    }
    if let Some(t) = &args.kratos_token
        && t.chars().any(char::is_control)
    {
        return Err(AppError::usage(
            "the admin token has a line break or another control character in it (copied with its newline?); nothing was sent",
        )
        .with_hint("remove it: a token is one line of printable characters"));
    }
    Ok(())
}

/// A URL without any user:password part, for messages and the journal.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("");
                let _ = u.set_password(None);
            }
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => redact_userinfo(url),
    }
}

/// Text that may be a URL with the `user:password@` part taken out, whether or not it parses:
/// everything between `://` and the last `@`. A password with an unencoded `/`, `?` or `#` (the
/// usual reason such a URL does not parse) is taken out whole; an `@` in an admin URL's path,
/// which no Ory admin API has, would take out more than credentials, which is the safe side.
pub fn redact_userinfo(text: &str) -> String {
    // Without a scheme (`admin:s3cret@kratos:4434`), what comes before an `@` is taken for
    // credentials too.
    let start = text.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &text[start..];
    match rest.rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &text[..start], &rest[at + 1..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_that_does_not_parse_is_named_without_its_password() {
        for url in ["http://u:s3cret@exa mple.com", "http://u:s3cret@h:99999"] {
            let e = check_base_url(url, "--kratos-admin-url")
                .err()
                .map(|e| e.line())
                .unwrap_or_default();
            assert!(e.contains("is not a URL"), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
            assert!(e.contains("[redacted]@"), "{e}");
        }
        let e = check_base_url("https://u:s3cret@@h/x?y", "--kratos-admin-url")
            .err()
            .map(|e| e.line())
            .unwrap_or_default();
        assert!(!e.is_empty() && !e.contains("s3cret"), "{e}");
        assert_eq!(redact_userinfo("not a url"), "not a url");
        let e = check_base_url("admin:s3cret@kratos:4434", "--kratos-admin-url")
            .err()
            .map(|e| e.line())
            .unwrap_or_default();
        assert!(e.contains("must be an http"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        // A password holding what ends the authority (`#`, `/`, `?`) is taken out whole.
        for url in [
            "http://u:pa#ss@h:4434",
            "http://u:pa/ss@h:4434",
            "http://u:pa?ss@h:4434",
        ] {
            let e = check_base_url(url, "--kratos-admin-url")
                .err()
                .map(|e| e.line())
                .unwrap_or_default();
            assert!(!e.contains("ss@") && !e.contains("u:pa"), "{e}");
            assert_eq!(redact_userinfo(url), "http://[redacted]@h:4434");
        }
    }
}
