//! Command-line definitions only: every flag, environment variable and subcommand of
//! `../shared/atoctl-contract.md`. The same definitions feed the shell completions and the
//! man page, so help text written here is what operators read at 3 a.m.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::duration::GoDuration;
use crate::ids::{IdentityRef, SessionId};

/// Answer account takeovers on Ory Kratos / Hydra identity stacks, one playbook step at a time.
///
/// Every step that changes something looks at the live state first, shows its plan, asks for
/// confirmation, acts, verifies the effect and records the evidence in the incident journal.
#[derive(Debug, Parser)]
#[command(
    name = "atoctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments, exiting with clap's message on a usage error.
    /// A value that does not parse (a UUID with a typo, a duration Kratos would refuse) is one
    /// `atoctl: error:` line, as every other error atoctl reports; help, version and a
    /// missing or unknown argument keep clap's own form, with its usage line.
    pub fn parse_args() -> Cli {
        match Self::try_parse_args(std::env::args_os()) {
            Ok(cli) => cli,
            Err(e)
                if matches!(
                    e.kind(),
                    clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue
                ) =>
            {
                let text = e.to_string();
                let first = text
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                crate::output::error(
                    &crate::error::AppError::usage(first).with_hint("see --help; nothing was sent"),
                );
                std::process::exit(crate::error::Exit::Usage.code());
            }
            Err(e) => e.exit(),
        }
    }

    /// Parses `args` (the program name first) into the same `Cli` as `Cli::try_parse_from`.
    ///
    /// `atoctl hibp-check …` is first tried with a parser of only its own options and the
    /// global ones: building the whole command tree allocates ~250 KB, a third of the page
    /// faults of a one-shot offline lookup (see docs/hibp-check.md, Benchmarks). Whatever that
    /// parser does not accept as is (help, version, a usage error, options before the
    /// subcommand) goes to the full parser, so messages and help are the full tree's; what
    /// it accepts, the full parser accepts with the same values (a test compares the two).
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        if args.get(1).is_some_and(|a| a == "hibp-check") {
            let own = args.iter().take(1).chain(args.iter().skip(2)).cloned();
            let short = HibpCheckOnly::command().override_usage(HIBP_CHECK_USAGE);
            if let Ok(p) = short
                .try_get_matches_from(own)
                .and_then(|mut m| HibpCheckOnly::from_arg_matches_mut(&mut m))
            {
                return Ok(Cli {
                    global: p.global,
                    command: Command::HibpCheck(p.args),
                });
            }
        }
        // The plain tree parses; only an error is rendered again by the tree with fixed usage
        // lines (rendering them all costs a third of a millisecond at every start).
        match Cli::command()
            .try_get_matches_from(&args)
            .and_then(|mut m| Cli::from_arg_matches_mut(&mut m))
        {
            Ok(cli) => Ok(cli),
            Err(e) if e.use_stderr() => {
                let matches = Cli::tree().try_get_matches_from(args)?;
                Cli::from_arg_matches(&matches)
            }
            Err(e) => Err(e),
        }
    }

    /// The whole command tree, as parsing, completions and the man pages see it. Each
    /// subcommand's usage line is fixed to what it is before any parse: clap would otherwise
    /// add, in an error's usage line, every option an environment variable supplied.
    pub fn tree() -> clap::Command {
        fn fix_usage(cmd: &mut clap::Command) {
            for sub in cmd.get_subcommands_mut() {
                let usage = sub.render_usage().to_string();
                let usage = usage.trim_start_matches("Usage:").trim().to_string();
                *sub = std::mem::take(sub).override_usage(usage);
                fix_usage(sub);
            }
        }
        let mut cmd = Cli::command();
        // Usage lines are rendered from the built tree (global options propagated).
        cmd.build();
        fix_usage(&mut cmd);
        cmd
    }
}

/// The usage line of `hibp-check` in the full tree (a test checks that they agree).
const HIBP_CHECK_USAGE: &str = "atoctl hibp-check [OPTIONS]";

/// `atoctl hibp-check`'s options and the global ones, without the rest of the tree.
#[derive(Debug, Parser)]
#[command(name = "atoctl", version)]
struct HibpCheckOnly {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(flatten)]
    args: HibpCheckArgs,
}

const AFTER_HELP: &str = "\
Exit codes: 0 done (or nothing to do; hibp-check: not found), 1 the step failed, 2 usage error or
refused for want of confirmation (nothing sent), 3 the identity or session does not exist,
4 hibp-check: password found in the breach corpus, 5 incident verify: journal damaged.

Typical containment:
  export KRATOS_ADMIN_URL=http://127.0.0.1:4434
  atoctl incident open --identity $ID --summary 'user reports a login they did not make'
  export ATOCTL_INCIDENT=incidents/<printed path>
  atoctl lock --identity $ID
  atoctl disable-password --identity $ID";

/// Options shared by every subcommand. A flag beats its environment variable.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or
    /// https://<slug>.projects.oryapis.com
    #[arg(
        long,
        env = "KRATOS_ADMIN_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub kratos_admin_url: Option<String>,

    /// Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key,
    /// ory_pat_… or ory_apikey_…). Never printed, logged or journaled.
    #[arg(
        long,
        env = "KRATOS_ADMIN_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub kratos_token: Option<String>,

    /// Read the admin token from FILE (`-`: the first line of stdin) instead: unlike
    /// --kratos-token, it then appears in no process listing
    #[arg(long, global = true, value_name = "FILE")]
    pub kratos_token_file: Option<PathBuf>,

    /// The token was resolved once (read from its file, or warned about as an argument): the
    /// contexts made later in the same run do not do it again.
    #[arg(skip)]
    pub token_resolved: bool,

    /// Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional
    #[arg(
        long,
        env = "HYDRA_ADMIN_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub hydra_admin_url: Option<String>,

    /// The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL
    #[arg(
        long,
        env = "ATOCTL_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Append to the incident journal even when it is damaged (`incident verify` fails): the
    /// damage is said, and the new entries chain on after it
    #[arg(long, global = true)]
    pub force_append: bool,

    /// The incident journal to append to (JSON Lines)
    #[arg(long, env = "ATOCTL_INCIDENT", global = true, value_name = "FILE")]
    pub incident: Option<PathBuf>,

    /// Who runs the step; default the login name
    #[arg(long, env = "ATOCTL_OPERATOR", global = true, value_name = "NAME")]
    pub operator: Option<String>,

    /// Output format: `table` for people, `json` (one JSON document on stdout) for scripts;
    /// pattern-scan also takes `ids`
    #[arg(
        short = 'o',
        long,
        env = "ATOCTL_OUTPUT",
        global = true,
        value_enum,
        default_value_t = OutputFormat::Table,
        value_name = "FORMAT"
    )]
    pub output: OutputFormat,

    /// Answer yes to every confirmation
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,

    /// Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned
    /// from the live state (the reads made for it, GETs only, are sent and listed); change
    /// nothing, journal nothing
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×,
    /// a listing ends at 15× (incomplete), a step's reads before it changes anything end at 30×,
    /// each audit-database exchange at this plus 2 s
    #[arg(
        long,
        env = "ATOCTL_TIMEOUT",
        global = true,
        default_value_t = 10.0,
        value_name = "SECONDS"
    )]
    pub timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Tables and sentences for people
    Table,
    /// One JSON document on stdout
    Json,
    /// Identity ids only, one a line (pattern-scan)
    Ids,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open, annotate, show and verify the incident journal
    #[command(subcommand)]
    Incident(IncidentCommand),

    /// Show an identity as an incident needs it: state, addresses, credentials with their
    /// times, sessions; never a secret
    #[command(after_help = IDENTITY_HELP)]
    Identity(IdentityArgs),

    /// List an identity's sessions with their devices (IP, user agent, location)
    #[command(
        after_help = "Example:\n  atoctl sessions --identity 5f1c…  -o json | jq '.sessions[].devices'"
    )]
    Sessions(SessionsArgs),

    /// End every session of an identity (evidence first), one session, or many identities
    #[command(after_help = REVOKE_HELP)]
    Revoke(RevokeArgs),

    /// Make the identity's current password unusable without touching anything else
    #[command(after_help = DISABLE_PASSWORD_HELP)]
    DisablePassword(IdentityArgs),

    /// Set the identity inactive AND end its sessions (inactive alone logs nobody out)
    #[command(after_help = "Example:\n  atoctl lock --identity 5f1c… --yes")]
    Lock(IdentityArgs),

    /// Set the identity active again, first ending any session that would come back to life
    #[command(after_help = "Example:\n  atoctl unlock --identity 5f1c…")]
    Unlock(IdentityArgs),

    /// Issue an admin recovery code (default) or link for the rightful owner, shown once
    #[command(after_help = RECOVER_HELP)]
    Recover(RecoverArgs),

    /// Print the DDL of the audit tables and the indexes atoctl's queries need
    #[command(after_help = "Example:\n  atoctl schema | psql \"$DATABASE_URL\"")]
    Schema,

    /// List an identity's security events in a window, flagging the suspicious ones
    #[command(after_help = AUDIT_QUERY_HELP)]
    AuditQuery(AuditQueryArgs),

    /// Find other identities hit from the same IPs or user agents
    PatternScan(PatternScanArgs),

    /// Check a password against Have I Been Pwned without revealing it
    HibpCheck(HibpCheckArgs),

    /// Render the incident report for the team, or the notice to the account owner, from the
    /// journal alone
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),

    /// Run the playbook for an identity step by step; running it again continues where it
    /// stopped
    #[command(after_help = RESPOND_HELP)]
    Respond(RespondArgs),

    /// Check playbook files (for CI), or show the checklist with each step's status
    #[command(subcommand)]
    Playbook(PlaybookCommand),

    /// Put back what the attacker changed (e-mail, traits) and remove what they added (social
    /// logins, MFA, OAuth2 grants), then contain; or reverse one e-mail change from its
    /// "this wasn't me" key
    #[command(after_help = RESTORE_HELP)]
    Restore(RestoreArgs),

    /// Rehearse an account takeover end to end on a sandbox atoctl starts on loopback
    #[command(after_help = DRILL_HELP)]
    Drill(DrillArgs),

    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    #[command(after_help = "Example:\n  atoctl completions bash > /etc/bash_completion.d/atoctl")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff) on stdout, or write one page per subcommand into a directory
    #[command(hide = true)]
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Audience {
    /// The incident report: timeline, actions, evidence, root cause, follow-ups, integrity
    Team,
    /// The notice to the account owner, for a second channel: no secret, no internal id
    User,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// markdown (default) or json
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// team (default) or user
    #[arg(long, value_enum, default_value_t = Audience::Team)]
    pub audience: Audience,
    /// The playbook whose open follow-ups the team report lists (default: the bundled one)
    #[arg(long, value_name = "FILE")]
    pub playbook: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RespondArgs {
    /// The identity: its UUID, or a login identifier (exact match); with --from-webhook, the
    /// payload's data.user_id
    #[arg(
        long,
        alias = "id",
        value_name = "UUID|IDENTIFIER",
        required_unless_present = "from_webhook"
    )]
    pub identity: Option<IdentityRef>,
    /// The phase to run (default the first: immediate); a later phase runs its command steps
    #[arg(long, value_name = "PHASE")]
    pub phase: Option<String>,
    /// The playbook (TOML); default the bundled account-takeover playbook
    #[arg(long, value_name = "FILE")]
    pub playbook: Option<PathBuf>,
    /// Start from a Castle `$incident.confirmed` payload (a file, or - for stdin)
    #[arg(long, value_name = "FILE|-")]
    pub from_webhook: Option<PathBuf>,
    /// The Castle API secret that signs webhooks; with it the signature must verify
    #[arg(
        long,
        env = "CASTLE_API_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub webhook_secret: Option<String>,
    /// The webhook's X-Castle-Signature header (base64 HMAC-SHA256 of the body)
    #[arg(long, value_name = "BASE64", requires = "from_webhook")]
    pub signature: Option<String>,
    /// The suspected window for the playbook's {since} (default: the playbook's)
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Answers to the manual items, for automation: a JSON object from step id to the list of
    /// answers (or true for an item without questions)
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Take a webhook payload that no secret authenticates with --yes (without it, each step
    /// is confirmed on the terminal anyway)
    #[arg(long, requires = "from_webhook")]
    pub allow_unsigned: bool,
    /// Read the password for hibp-check steps from stdin (one line) instead of a prompt
    #[arg(long)]
    pub password_stdin: bool,
    /// Leave these steps out of this run (they stay pending), e.g. the audit steps when there
    /// is no audit database yet
    #[arg(long, value_name = "STEP,...", value_delimiter = ',')]
    pub skip: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// Check playbook files (for CI): syntax, fields, ids, commands, placeholders,
    /// dependencies, deadlines; exit 0 or 2
    #[command(after_help = PLAYBOOK_CHECK_HELP)]
    Check(PlaybookCheckArgs),
    /// Print the checklist with each step's status from the incident journal (--incident or
    /// ATOCTL_INCIDENT)
    #[command(after_help = PLAYBOOK_SHOW_HELP)]
    Show(PlaybookShowArgs),
}

const PLAYBOOK_CHECK_HELP: &str = "\
Each command is parsed by atoctl's own command line, with sample values in its placeholders.
Every problem is one line on stdout, FILE:LINE: step ID: what is wrong; a clean file prints
`ok: FILE: P phases, S steps`. With -o json: one document {ok, files: [{file, phases, steps,
problems: [{file, line, step, message}]}]}. Exit 0 when every file is clean, else 2 (also when
a file cannot be read).

Example:
  atoctl playbook check playbooks/*.toml";

const PLAYBOOK_SHOW_HELP: &str = "\
Statuses: done, failed, skipped (nothing needed doing, or its condition left it out),
in progress (began and recorded no end), pending, overdue (its phase's deadline, counted from
the incident's opening, has passed). Without a journal every step is pending.

Examples:
  ATOCTL_INCIDENT=incidents/ato-….jsonl atoctl playbook show
  atoctl playbook show ours.toml --incident incidents/ato-….jsonl -o json";

#[derive(Debug, Args)]
pub struct PlaybookCheckArgs {
    /// Playbook files (TOML)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlaybookShowArgs {
    /// A playbook file (default the bundled account-takeover playbook)
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The playbook to rehearse (default the bundled one)
    #[arg(long, value_name = "FILE")]
    pub playbook: Option<PathBuf>,
    /// Where the drill's files go (journal, report, notice); default a new directory under
    /// the system's temporary directory
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const REPORT_HELP: &str = "\
Examples:
  atoctl report --incident incidents/ato-….jsonl > incident.md
  atoctl report --audience user                # the notice for the owner, through a second channel
  atoctl report --format json | jq .actions";

const RESPOND_HELP: &str = "\
Examples:
  atoctl respond --identity alice@example.com            # the immediate phase, step by step
  atoctl respond --identity alice@example.com --dry-run  # every request, nothing changed
  atoctl respond --identity 5f1c… --phase 1h --since 72h
  atoctl respond --from-webhook payload.json --signature \"$SIG\" --yes";

const DRILL_HELP: &str = "\
Examples:
  atoctl drill                                   # seconds; exit 0 when every step verified
  atoctl drill --playbook ours.toml --database-url postgres://postgres@127.0.0.1/test";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write atoctl.1 and one atoctl-SUBCOMMAND.1 page per subcommand (with its options) here
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    pub dir: Option<PathBuf>,
    /// Print this subcommand's page instead of atoctl's (e.g. `recover`, `incident-open`)
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

const IDENTITY_HELP: &str = "\
A credential changed in the last 7 days is marked: a TOTP, a security key or a social login an
attacker added stands out. No credential configuration is ever requested from Kratos.

Examples:
  atoctl identity --identity alice@example.com
  atoctl identity --identity 5f1c… -o json | jq '.credentials[] | {type, updated_at}'";

impl Command {
    /// Whether the command reads stdin (ids, a password, a hash, a webhook, a key): then
    /// `--kratos-token-file -` cannot have it too.
    pub fn reads_stdin(&self) -> bool {
        match self {
            Command::Revoke(a) => a.stdin,
            Command::HibpCheck(a) => {
                a.stdin
                    || a.sha1.as_deref() == Some("-")
                    || a.nt_hash.as_deref() == Some("-")
                    || (a.sha1.is_none() && a.nt_hash.is_none() && a.sha1_file.is_none())
            }
            Command::Respond(a) => {
                a.password_stdin
                    || a.from_webhook
                        .as_deref()
                        .is_some_and(|p| p.as_os_str() == "-")
            }
            Command::Restore(a) => a.reversal_key.is_some(),
            _ => false,
        }
    }

    /// Whether the command appends entries to the incident journal (every step, a note, the
    /// close); not the commands that only read it, create it, or work without it.
    pub fn appends_to_journal(&self) -> bool {
        !matches!(
            self,
            Command::Incident(
                IncidentCommand::Open(_) | IncidentCommand::Verify(_) | IncidentCommand::Show
            ) | Command::Report(_)
                | Command::Playbook(_)
                | Command::Drill(_)
                | Command::Schema
                | Command::Completions { .. }
                | Command::Man(_)
        )
    }

    /// Whether the command talks to a server (Kratos, Hydra, the range API, PostgreSQL): it
    /// needs the runtime's I/O and timer drivers and may look host names up. A lookup in a
    /// local corpus and the journal commands do neither.
    pub fn uses_network(&self) -> bool {
        !matches!(
            self,
            Command::Incident(_)
                | Command::Report(_)
                | Command::Playbook(_)
                | Command::HibpCheck(HibpCheckArgs {
                    offline: Some(_),
                    identity: None | Some(IdentityRef::Id(_)),
                    ..
                })
                | Command::Schema
                | Command::Completions { .. }
                | Command::Man(_)
        )
    }
}

const REVOKE_HELP: &str = "\
Kratos hard-deletes sessions and their device rows (IP, user agent): atoctl records every
session and device in the journal before ending them, then verifies that none is left.

Examples:
  atoctl revoke --identity 5f1c…
  atoctl revoke --session 0b7e…                    # one session, soft (kept as evidence)
  atoctl pattern-scan --identity 5f1c… -o ids | atoctl revoke --stdin --yes --concurrency 32";

const DISABLE_PASSWORD_HELP: &str = "\
Replaces the password hash with one of a random 256-bit secret nobody ever sees (PUT with
credentials.password.config.password, the one way that works on current Kratos and 1.3.x),
re-sending traits, metadata and external_id exactly as read, then verifies that nothing else
changed. It does not end sessions: run `atoctl revoke` too.

Example:
  atoctl disable-password --identity 5f1c… --yes";

const RECOVER_HELP: &str = "\
The admin API sends no e-mail: atoctl prints the code or link once, for you to hand to the
rightful owner through a second channel (not the possibly compromised mailbox). Earlier codes
stay valid until they expire. The identity must be active for the owner to finish recovery.

Examples:
  atoctl recover --identity 5f1c…                     # code, Kratos's default lifespan
  atoctl recover --identity 5f1c… --method link --expires-in 1h30m";

#[derive(Debug, Args)]
pub struct IncidentVerifyArgs {
    /// A head hash recorded earlier (in a ticket, from `incident verify` or `incident show`;
    /// 12 to 64 hex digits): the chain must pass through it, else exit 5
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
}

const VERIFY_HELP: &str = "\
The chain proves every line but the last: nothing after the last line holds its hash, so the
last line can be edited or removed without the chain breaking. Record the head hash outside the
journal (the ticket) and check it later with --head: the chain must still pass through it.

Examples:
  atoctl incident verify
  atoctl incident verify --head 3f9a0c51d2e4";

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Create a new journal (at --incident FILE, which must not exist, or under ./incidents/)
    #[command(
        after_help = "Example:\n  atoctl incident open --identity 5f1c… --summary 'login from unknown country'"
    )]
    Open(IncidentOpenArgs),
    /// Check the journal's hash chain; exit 5 naming the first bad line
    #[command(after_help = VERIFY_HELP)]
    Verify(IncidentVerifyArgs),
    /// Record a note (and the root cause, when known)
    #[command(
        after_help = "Example:\n  atoctl incident note --root-cause credential-stuffing --text 'password reused from breach'"
    )]
    Note(IncidentNoteArgs),
    /// Show the timeline as a table, or every entry with -o json
    Show,
    /// End the incident: later steps on its identity open a new one
    #[command(
        after_help = "Example:\n  atoctl incident close --resolution 'owner recovered the account; MFA enrolled'"
    )]
    Close(IncidentCloseArgs),
}

#[derive(Debug, Args)]
pub struct IncidentCloseArgs {
    /// How the incident ended, one line
    #[arg(long, value_name = "TEXT")]
    pub resolution: Option<String>,
}

#[derive(Debug, Args)]
pub struct IncidentOpenArgs {
    /// The identity the incident is about: its UUID, or a login identifier (looked up in
    /// Kratos, exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: IdentityRef,
    /// One line on what happened
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<String>,
    /// When the user reported it (RFC 3339), default now
    #[arg(long, value_name = "RFC3339")]
    pub reported_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct IncidentNoteArgs {
    /// The root cause, e.g. phishing, credential-stuffing, password-reuse, malware,
    /// session-hijack, sim-swap, unknown
    #[arg(long, value_name = "CAUSE")]
    pub root_cause: Option<String>,
    /// Free text
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
}

#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// The identity: its UUID, or a login identifier such as an e-mail address (exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: IdentityRef,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The identity: its UUID, or a login identifier such as an e-mail address (exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: IdentityRef,
    /// Only sessions that are still active
    #[arg(long)]
    pub active: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["identity", "session", "stdin"])))]
pub struct RevokeArgs {
    /// End every session of this identity (its UUID, or a login identifier such as an e-mail
    /// address); with --session, the identity the session must belong to
    #[arg(
        long,
        alias = "id",
        value_name = "UUID|IDENTIFIER",
        conflicts_with = "stdin"
    )]
    pub identity: Option<IdentityRef>,
    /// End this one session only (soft: Kratos keeps the row and its devices)
    #[arg(long, value_name = "SID", conflicts_with = "stdin")]
    pub session: Option<SessionId>,
    /// Read identities from stdin, one a line: UUIDs or login identifiers (blank lines and
    /// # comments ignored)
    #[arg(long)]
    pub stdin: bool,
    /// With --stdin: identities handled at once
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// With --stdin: start at most this many identities per second (0.01 to 10000); the
    /// server's rate-limit answers pace the run besides
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    pub rate: Option<f64>,
}

/// `--rate`: a positive number of identities per second that a timer can keep.
fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .trim()
        .parse()
        .map_err(|_| "not a number of identities per second".to_string())?;
    if r.is_finite() && (0.01..=10_000.0).contains(&r) {
        Ok(r)
    } else {
        Err("must be between 0.01 and 10000 per second".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecoveryMethod {
    /// A six-digit code the owner types into the recovery screen
    Code,
    /// A one-time link
    Link,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The identity: its UUID, or a login identifier such as an e-mail address (exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: IdentityRef,
    /// Recovery code or link
    #[arg(long, value_enum, default_value_t = RecoveryMethod::Code)]
    pub method: RecoveryMethod,
    /// How long it stays valid: 30m, 1h, 1h30m, 7d, at least 1s (default: Kratos's configured
    /// lifespan)
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<GoDuration>,
}

/// A part of `restore` that `--skip` can leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RestorePart {
    /// E-mail and other traits changed in the window
    Email,
    /// Social logins linked in the window
    Oidc,
    /// TOTP, lookup secrets and security keys enrolled in the window
    Mfa,
    /// OAuth2 consents granted in the window (needs --hydra-admin-url)
    Oauth2,
    /// Ending every session and disabling the password afterwards
    Containment,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The identity: its UUID, or a login identifier such as an e-mail address (exact match)
    #[arg(
        long,
        alias = "id",
        value_name = "UUID|IDENTIFIER",
        required_unless_present = "reversal_key",
        conflicts_with = "reversal_key"
    )]
    pub identity: Option<IdentityRef>,
    /// The attacker's window reaches back this far from now (default 24h)
    #[arg(long, value_name = "DURATION", conflicts_with = "from")]
    pub since: Option<String>,
    /// The attacker's window starts here (RFC 3339, or a date: midnight UTC) and reaches up to now
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Leave these parts out (comma-separated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PART,...")]
    pub skip: Vec<RestorePart>,
    /// Revoke every OAuth2 consent of the identity, also those granted before the window
    #[arg(long)]
    pub all_oauth2: bool,
    /// `-`: read the key of the owner's "this wasn't me" link from stdin (a hidden prompt on a
    /// terminal); never give the key itself as an argument
    #[arg(
        long,
        value_name = "-",
        conflicts_with_all = ["since", "from", "skip", "all_oauth2"]
    )]
    pub reversal_key: Option<String>,
    /// The IP address the owner used the link from (recorded as `reversed_ip`)
    #[arg(long, value_name = "IP", requires = "reversal_key")]
    pub ip: Option<String>,
    /// Where the reversal writes `user_email_changes` (default: the audit database URL)
    #[arg(
        long,
        env = "ATOCTL_WRITE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        requires = "reversal_key"
    )]
    pub write_database_url: Option<String>,
}

const RESTORE_HELP: &str = "\
With --identity, the plan comes from the audit log in the window and the live identity:
  email        traits changed in the window (email.changed, settings.changed with before/after,
               user_email_changes) go back, by PATCH, to their value before the first change.
               Kratos sends no e-mail and marks a restored address unverified.
  oidc         social logins linked in the window (oidc.linked) are unlinked one by one.
  mfa          TOTP, lookup secrets and security keys enrolled in the window (mfa.enrolled) are
               removed; passkeys cannot be removed through the admin API: listed for you.
  oauth2       consents granted in the window are revoked per client (older ones stay unless
               --all-oauth2), and the login sessions behind them logged out.
  containment  every session ended and the password disabled, unless the incident's journal
               shows both done after the attacker's last change.
Nothing the owner added before the window is touched. Exit 1 when a part could not be done
(an address now used by another identity, the last first factor, a passkey): the account is
not yet restored, and the message says what to do.

With --reversal-key -, the key from the owner's \"this wasn't me\" link is read from stdin. In one
transaction on the audit database (the one place atoctl writes there): the change is marked
reversed and every later change of the user loses its keys. Then the change's old address is
restored in Kratos, every session ended and the password disabled. Running it again finishes
what a run left undone.

Examples:
  atoctl restore --identity alice@example.com --since 48h --dry-run
  atoctl restore --identity 5f1c… --from 2026-11-24T08:00:00Z --skip oauth2 --yes
  atoctl restore --identity 5f1c… --all-oauth2
  printf '%s\\n' \"$KEY\" | atoctl restore --reversal-key - --ip 198.51.100.7 --yes";

#[derive(Debug, Args)]
pub struct AuditQueryArgs {
    /// The identity: its UUID, or a login identifier such as an e-mail address (looked up in
    /// Kratos, exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: IdentityRef,
    /// The window reaches back this far from now (default 24h)
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,
    /// Window start: RFC 3339 (2026-11-24T08:00:00Z), a date (2026-11-24, midnight UTC) or
    /// now; without --to, up to now
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Window end (exclusive), written like --from; needs --from
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only these event types (repeatable)
    #[arg(long = "event", value_name = "TYPE")]
    pub events: Vec<String>,
    /// How far before the window an IP must have been seen to be familiar (default 30d)
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub baseline: String,
    /// Faster than this between two located events is impossible travel (km/h)
    #[arg(long, value_name = "KMH", default_value_t = 1000.0)]
    pub max_speed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanBy {
    /// Other identities with events from the suspicious IPs
    Ip,
    /// Other identities with the suspicious user agents (common ones ignored)
    Ua,
    /// Either
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlocklistFormat {
    /// One address a line
    Plain,
    /// A Caddyfile `remote_ip` named matcher and a `respond @atoctl_blocked 403`
    Caddy,
    /// nginx `deny ADDRESS;` lines
    Nginx,
    /// The JSON body of Cloudflare's list items API (IPv6 as /64, the narrowest it takes)
    Cloudflare,
}

const AUDIT_QUERY_HELP: &str = "\
Flags: new-ip (not used by the identity in the --baseline period before the window),
password-change, settings-change (also oidc.linked), email-change (also a settings change of an
e-mail trait), oauth2-grant, mfa-change, recovery, impossible-travel (both events of two
consecutive located events further apart than --max-speed allows; pairs under 50 km never count).

Examples:
  atoctl audit-query --identity 5f1c… --since 48h
  atoctl audit-query --identity 5f1c… --from 2026-11-24T00:00:00Z --to 2026-11-25T00:00:00Z -o json
  atoctl audit-query --identity 5f1c… --from 2026-11-24         # midnight UTC up to now
  atoctl audit-query --identity 5f1c… --event login.succeeded --event password.changed";

const PATTERN_SCAN_HELP: &str = "\
The suspicious IPs are the target's new IPs in the window (not used by it in the --baseline
period), every --ip, and with --stuffing every IP with failed logins against --min-identities
identities. With --by ua|both the user agents seen from those IPs count too, except those that
--ua-common or more identities used in the baseline period (they identify nobody).

Examples:
  atoctl pattern-scan --identity 5f1c… --since 48h
  atoctl pattern-scan --ip 203.0.113.7 --ip 2001:db8::1 -o json
  atoctl pattern-scan --identity 5f1c… -o ids | atoctl revoke --stdin --yes
  atoctl pattern-scan --stuffing --min-identities 20 --blocklist nginx > /etc/nginx/atoctl-deny.conf";

#[derive(Debug, Args)]
#[command(after_help = PATTERN_SCAN_HELP)]
#[command(group(clap::ArgGroup::new("seed").required(true).multiple(true).args(["identity", "ips", "stuffing"])))]
pub struct PatternScanArgs {
    /// The compromised identity whose new IPs seed the scan: its UUID, or a login identifier
    /// (looked up in Kratos, exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: Option<IdentityRef>,
    /// A suspicious IP (repeatable)
    #[arg(long = "ip", value_name = "IP")]
    pub ips: Vec<String>,
    /// The window reaches back this far from now (default 24h)
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Match other identities by IP, user agent, or both
    #[arg(long, value_enum, default_value_t = ScanBy::Ip)]
    pub by: ScanBy,
    /// Credential-stuffing view: IPs with failed logins across many identities (they join the
    /// suspicious IPs)
    #[arg(long)]
    pub stuffing: bool,
    /// With --stuffing: distinct identities an IP must have failed against
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub min_identities: u32,
    /// How far before the window an IP must have been seen to be familiar (default 30d)
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub baseline: String,
    /// With --by ua|both: a user agent used by this many identities in the baseline period is
    /// too common to identify anybody and is ignored
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub ua_common: u32,
    /// Print the offending IPs as a block list in this format (stdout carries only the list)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub blocklist: Option<BlocklistFormat>,
}

const HIBP_HELP: &str = "\
The password never leaves this machine, nor does its hash: only the first five hex digits of the
SHA-1 (or NT hash) are sent to the range API, with padding requested, and the match is made here.
The password is never an argument: type it at the hidden prompt, or pipe it with --stdin.
An answer that cannot be trusted (an error status, an HTML page, a truncated or malformed body,
a timeout after retries, a file that is not a sorted corpus) is exit 1 \"unknown\", never
\"not found\".

Exit codes: 0 not found, 4 found (pwned), 1 unknown, 2 usage or invalid input (nothing sent).
With --sha1-file: 4 if any hash is found (even when others are unknown), else 1 if any is
unknown, else 0; one JSON line per hash on stdout: {\"line\":N,\"pwned\":true,\"count\":N,...}.

Examples:
  atoctl hibp-check --identity 5f1c…                      # hidden prompt
  pass show alice | head -n1 | atoctl hibp-check --stdin -o json
  atoctl hibp-check --sha1 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
  atoctl hibp-check --stdin --offline /srv/pwnedpasswords.txt
  atoctl hibp-check --stdin --offline /srv/pwnedpasswords/    # the downloader's split layout
  atoctl hibp-check --nt-hash - < nt-hash.txt                  # Active Directory (NTLM mode)
  atoctl hibp-check --sha1-file hashes.txt --offline /srv/pwnedpasswords.txt > results.jsonl";

/// `hibp-check`: the password (or its hash) against Pwned Passwords, online or offline.
#[derive(Debug, Args)]
#[command(after_help = HIBP_HELP)]
pub struct HibpCheckArgs {
    /// Read the password from stdin (one line; only the trailing \n or \r\n is removed)
    #[arg(long, conflicts_with_all = ["sha1", "nt_hash"])]
    pub stdin: bool,
    /// The password's SHA-1, in hex (either case), computed by the user; `-` reads it from
    /// stdin (an argument is visible to other users in the process list)
    #[arg(long, value_name = "HEX", conflicts_with_all = ["ntlm", "nt_hash"])]
    pub sha1: Option<String>,
    /// An NT hash (Active Directory), 32 hex digits; `-` reads it from stdin. Implies --ntlm
    #[arg(long, value_name = "HEX")]
    pub nt_hash: Option<String>,
    /// Check many hashes from a file (`-`: stdin), one a line: SHA-1, or NT hashes with --ntlm;
    /// blank lines and # comments are skipped. Results as JSON lines, in the file's order
    #[arg(long, value_name = "FILE", conflicts_with_all = ["stdin", "sha1", "nt_hash"])]
    pub sha1_file: Option<PathBuf>,
    /// Search a local Pwned Passwords corpus instead of the API: the downloader's single sorted
    /// file, or its directory of PREFIX.txt files
    #[arg(long, value_name = "PATH", conflicts_with = "api_url")]
    pub offline: Option<PathBuf>,
    /// The range API (default $ATOCTL_HIBP_API_URL, else https://api.pwnedpasswords.com; plain
    /// http only to loopback)
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// NTLM mode: check NT hashes (MD4 of the UTF-16LE password), as Active Directory stores them
    #[arg(long)]
    pub ntlm: bool,
    /// The identity whose password is checked, for the journal entry: its UUID, or a login
    /// identifier (looked up in Kratos, exact match)
    #[arg(long, alias = "id", value_name = "UUID|IDENTIFIER")]
    pub identity: Option<IdentityRef>,
    /// With --sha1-file online: range requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Refused: a password is never accepted as an argument (it would be visible in the process
    /// list and the shell history). Collects every positional value, so none is echoed back.
    #[arg(value_name = "PASSWORD", hide = true, num_args = 0.., allow_hyphen_values = true)]
    pub password: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
        HibpCheckOnly::command().debug_assert();
    }

    #[test]
    fn only_commands_that_talk_to_a_server_get_network_drivers() {
        let id = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";
        let network = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("atoctl").chain(args.iter().copied()))
                .map(|cli| cli.command.uses_network())
                .map_err(|e| e.to_string())
        };
        for args in [
            &["sessions", "--identity", id][..],
            &["revoke", "--stdin"],
            &["hibp-check", "--stdin"],
            &["audit-query", "--identity", id],
            &["pattern-scan", "--ip", "203.0.113.9"],
            // A login identifier is looked up in Kratos, even for an offline check.
            &[
                "hibp-check",
                "--stdin",
                "--offline",
                "c.txt",
                "--identity",
                "a@b.c",
            ],
        ] {
            assert_eq!(network(args), Ok(true), "{args:?}");
        }
        for args in [
            &["hibp-check", "--stdin", "--offline", "corpus.txt"][..],
            &[
                "hibp-check",
                "--stdin",
                "--offline",
                "corpus.txt",
                "--identity",
                "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
            ],
            &["incident", "verify"],
            &["schema"],
            &["completions", "bash"],
        ] {
            assert_eq!(network(args), Ok(false), "{args:?}");
        }
    }

    /// The short parser for `hibp-check` gives exactly what the full tree gives: the same
    /// values when it accepts, and the full tree's own message (help, version, usage error)
    /// when it does not.
    #[test]
    fn hibp_check_short_parser_agrees_with_the_full_tree() {
        let cases: &[&[&str]] = &[
            &[
                "hibp-check",
                "--offline",
                "/srv/p.txt",
                "--sha1",
                "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8",
            ],
            &[
                "hibp-check",
                "--stdin",
                "-o",
                "json",
                "--incident",
                "i.jsonl",
                "--identity",
                "x",
            ],
            &[
                "hibp-check",
                "--nt-hash",
                "-",
                "--offline",
                "d/",
                "--yes",
                "--dry-run",
            ],
            &[
                "hibp-check",
                "--sha1-file",
                "h.txt",
                "--api-url",
                "http://127.0.0.1:1",
                "--concurrency",
                "3",
            ],
            &[
                "hibp-check",
                "--operator",
                "alice",
                "--timeout",
                "5s",
                "--ntlm",
                "--stdin",
            ],
            &["hibp-check", "hunter2"],
            &["hibp-check", "--offlin", "x"],
            &["hibp-check", "--stdin", "--sha1", "00"],
            &[
                "hibp-check",
                "--offline",
                "p",
                "--api-url",
                "http://127.0.0.1:1",
            ],
            &["hibp-check", "--concurrency", "0"],
            &["hibp-check", "--sha1"],
            &["hibp-check", "-o", "yaml"],
            &["hibp-check", "--help"],
            &["hibp-check", "-h"],
            &["hibp-check", "--version"],
            &["hibp-check", "-V"],
            &["-o", "json", "hibp-check", "--stdin"],
            &["hibp-check"],
        ];
        for case in cases {
            let argv: Vec<&str> = std::iter::once("atoctl")
                .chain(case.iter().copied())
                .collect();
            let short = Cli::try_parse_args(&argv);
            let full = Cli::tree()
                .try_get_matches_from(&argv)
                .and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
            match (short, full) {
                (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{case:?}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.kind(), b.kind(), "{case:?}");
                    assert_eq!(a.to_string(), b.to_string(), "{case:?}");
                }
                (a, b) => panic!("{case:?}: short parser {a:?}, full tree {b:?}"),
            }
        }
        // The short parser's usage line is the full tree's.
        let full_usage = Cli::tree()
            .find_subcommand_mut("hibp-check")
            .map(|c| c.render_usage().to_string());
        assert_eq!(
            full_usage.as_deref(),
            Some(format!("Usage: {HIBP_CHECK_USAGE}").as_str())
        );
        // And the short parser does take the ordinary invocations (else it saves nothing).
        assert!(
            HibpCheckOnly::try_parse_from(["atoctl", "--offline", "p", "--sha1", "00"]).is_ok()
        );
    }
}
