//! The life of a changing step, in one place.
//!
//! Every step that changes something has the same life: **look** at the live state, **plan**
//! the exact calls from what it saw, **confirm**, **act** (send the plan's calls, in order, and
//! nothing else), **verify** (read the state again) and **record** the evidence in the journal.
//! A step supplies only what is its own ([`Change`]): how to look, what to plan from what it
//! saw, and how to judge the reads that verify. Everything else happens here, the same way for
//! every step (as jj's transaction opens, changes and `finish`es in one place):
//!
//! - `--dry-run` prints the plan (the look's reads, which it does send, marked as such; the
//!   calls; the verifying reads) and stops: nothing is changed or journaled. Without a Kratos
//!   URL the plan is made from an assumed state, for CI.
//! - Without a terminal and without `--yes`, a change is refused (exit 2) before anything is
//!   sent. When a person was asked, the state is looked at again after the answer (they may
//!   have taken minutes) and the plan rebuilt; if it changed, they are asked again.
//! - Nothing to do is `skipped`, recorded with why.
//! - Before the first call, the look's evidence (session snapshots) and a `started` entry are
//!   appended and fsynced: a later run can tell a step cut off in the middle, and nothing is
//!   destroyed before its evidence is on disk.
//! - The last entry says what was done, what failed and what was not sent (`done`, `failed`,
//!   `not_done`), whether the effect was `verified`, the `error` if any, and a `summary`: the
//!   same keys for every step.
//!
//! A runner (a bulk revoke today, `respond` tomorrow) drives the same life with
//! [`unattended`]: no prompt and no printing, the journal shared.

use std::future::Future;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Recorder;
use crate::api::ApiError;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::http::Trace;
use crate::ids::{IdentityId, IdentityRef, resolution_evidence};
use crate::journal::{Entry, Outcome, Pending, Record};
use crate::kratos::{Identity, SessionListing};
use crate::output;
use crate::plan::{Acted, Apis, Call, Check, Checks, Line, Phase, Service};

/// What a step works with: the configuration and the API clients (absent for a dry run
/// without a Kratos URL).
pub struct Cx<'a> {
    pub ctx: &'a Ctx,
    apis: Option<Apis>,
}

impl<'a> Cx<'a> {
    /// Clients for a real run (a missing Kratos URL is a usage error), remembering what they
    /// send in `trace` when given.
    pub fn new(ctx: &'a Ctx, trace: Option<Trace>, pool: usize) -> Result<Cx<'a>> {
        Ok(Cx {
            ctx,
            apis: Some(ctx.apis(trace, pool)?),
        })
    }

    pub fn apis(&self) -> Result<&Apis> {
        self.apis
            .as_ref()
            .ok_or_else(crate::context::missing_kratos_url)
    }

    pub fn kratos(&self) -> Result<&crate::kratos::Client> {
        Ok(&self.apis()?.kratos)
    }

    /// Whether Hydra is configured: OAuth2 grants are part of the plan.
    pub fn has_hydra(&self) -> bool {
        self.ctx.has_hydra()
    }

    pub fn hydra(&self) -> Result<Option<&crate::hydra::Client>> {
        Ok(self.apis()?.hydra.as_ref())
    }
}

/// The identity a step is about, resolved.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: IdentityId,
    /// The login identifier it was found by, when the operator gave one.
    pub resolved_from: Option<String>,
}

impl Target {
    /// Records in `e` how the identity was found, when it was found by a login identifier.
    pub fn record(&self, e: &mut Entry) {
        if let Some(i) = &self.resolved_from {
            e.put("resolved_from", resolution_evidence(i));
        }
    }
}

/// What one step decided after looking.
#[derive(Default)]
pub struct Plan {
    /// The identity the entries are about (revoke --session: the session's owner).
    pub identity: Option<IdentityId>,
    /// How people know the identity: "alice@example.com (5f1c…)".
    pub label: String,
    /// Nothing needs doing, and why.
    pub skip: Option<String>,
    /// The confirmation question.
    pub question: String,
    /// Entries written (and fsynced) before the first call: what the calls destroy.
    pub evidence: Vec<Entry>,
    pub calls: Vec<Call>,
    pub checks: Vec<Check>,
    /// Said with a dry run and with the result.
    pub notes: Vec<String>,
    /// Evidence keys for every entry of the step (state before, method, …).
    pub facts: Map<String, Value>,
}

impl Plan {
    pub fn fact(&mut self, key: &str, value: impl Serialize) {
        self.facts.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// What is compared after a person answered: the question and the exact requests.
    fn shape(&self) -> (Option<&String>, &String, Vec<Line>) {
        (
            self.skip.as_ref(),
            &self.question,
            self.calls.iter().map(Call::line).collect(),
        )
    }
}

/// How a step judges its act and the reads after it.
pub struct Verdict {
    /// The effect holds, read back from the server.
    pub verified: bool,
    /// The journal's one line.
    pub summary: String,
    /// The result for people (and the error line when the step failed).
    pub message: String,
    pub hint: Option<String>,
    /// The exit code when the step failed (default 1).
    pub exit: Exit,
    /// The step's own evidence keys for the last entry.
    pub evidence: Map<String, Value>,
    /// Extra keys of the `-o json` result.
    pub output: Map<String, Value>,
    /// Said on stderr after the result (what the operator should still look at).
    pub notes: Vec<String>,
}

impl Verdict {
    pub fn new(verified: bool, summary: impl Into<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            verified,
            summary: summary.into(),
            message: message.into(),
            hint: None,
            exit: Exit::Failed,
            evidence: Map::new(),
            output: Map::new(),
            notes: Vec::new(),
        }
    }

    pub fn evidence(mut self, key: &str, value: impl Serialize) -> Verdict {
        self.evidence.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn output(mut self, key: &str, value: impl Serialize) -> Verdict {
        self.output.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Verdict {
        self.hint = Some(hint.into());
        self
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    Ok,
    Skipped,
    /// The identity or session does not exist.
    NotFound,
    Failed,
}

impl StepResult {
    pub fn as_str(self) -> &'static str {
        match self {
            StepResult::Ok => "ok",
            StepResult::Skipped => "skipped",
            StepResult::NotFound => "not_found",
            StepResult::Failed => "failed",
        }
    }
}

/// Everything a run of a step produced, for its output.
pub struct Finished<L> {
    pub result: StepResult,
    pub identity: Option<IdentityId>,
    pub label: String,
    pub journal: String,
    pub look: L,
    pub plan: Plan,
    pub acted: Acted,
    pub verdict: Verdict,
}

/// A changing step: what is its own in its life.
#[allow(async_fn_in_trait)]
pub trait Change {
    /// What the step saw.
    type Look;

    /// The journal's step name (`revoke`, `lock`, …).
    const STEP: &'static str;

    /// What a refusal without confirmation names ("end sessions").
    const WHAT: &'static str;

    /// The identity the step is about, as typed (the life resolves it), if any.
    fn identity(&self) -> Option<&IdentityRef>;

    /// Reads the live state.
    fn look(
        &self,
        cx: &Cx<'_>,
        target: Option<&Target>,
    ) -> impl Future<Output = Result<Self::Look>>;

    /// The state a dry run without a Kratos URL plans from (for CI), if the step has one.
    fn assumed(&self, target: Option<&Target>) -> Option<Self::Look>;

    /// The plan, from what the look saw.
    fn plan(&self, cx: &Cx<'_>, target: Option<&Target>, look: &Self::Look) -> Result<Plan>;

    /// Shown on a terminal before the question (the sessions about to end); made only when
    /// someone is asked, never in a bulk run.
    fn preview(&self, look: &Self::Look) -> Option<String> {
        let _ = look;
        None
    }

    /// A run of this step began (its `started` entry) and recorded no end (a crash, a kill):
    /// whether the live state proves its calls took effect, so that nothing is sent again, and
    /// how. `None` (the default): not provable, the step runs again from its fresh look.
    fn landed(&self, started: &Record, look: &Self::Look) -> Option<String> {
        let _ = (started, look);
        None
    }

    /// Judges the act and the reads that verify it.
    fn judge(&self, look: &Self::Look, plan: &Plan, acted: &Acted, checks: &Checks) -> Verdict;

    /// Prints the result for the operator.
    fn show(&self, ctx: &Ctx, done: &Finished<Self::Look>) -> Result<()> {
        show_result(ctx, done)
    }
}

/// Runs a step for an operator: confirmation, dry run, journal, output; the exit code.
pub async fn run<C: Change>(ctx: &Ctx, step: C) -> Result<Exit> {
    run_resuming(ctx, step, None).await
}

/// Runs a step for an operator after a run of it was cut off (`cut_off`: its `started`
/// entry): the step looks at the live state first, as always; when that proves the cut-off
/// run's calls took effect ([`Change::landed`]), nothing is sent and the end is recorded.
pub async fn run_resuming<C: Change>(ctx: &Ctx, step: C, cut_off: Option<&Record>) -> Result<Exit> {
    ctx.reject_ids_output(C::STEP)?;
    if !ctx.dry_run() {
        ctx.ensure_may_change(C::WHAT)?;
        ctx.check_open_incident(step.identity())?;
    }
    if ctx.dry_run() && ctx.args.kratos_admin_url.is_none() {
        return dry_run_assumed(ctx, &step);
    }
    let trace = ctx.dry_run().then(Trace::default);
    let cx = Cx::new(ctx, trace.clone(), 8)?;
    let (target, mut look) = within_look::<C, _>(ctx, async {
        let target = resolve(&cx, step.identity()).await?;
        let look = step.look(&cx, target.as_ref()).await?;
        Ok((target, look))
    })
    .await?;
    let mut plan = step.plan(&cx, target.as_ref(), &look)?;
    if let Some(started) = cut_off {
        plan.fact("resumed_from", started.seq);
        if plan.skip.is_none()
            && let Some(how) = step.landed(started, &look)
        {
            plan.skip = Some(format!(
                "the run cut off after entry {} took effect: {how}",
                started.seq
            ));
        }
    }
    if ctx.dry_run() {
        let looked = trace
            .map(|t| std::mem::take(&mut *crate::lock(&t)))
            .unwrap_or_default();
        return print_dry_run(ctx, C::STEP, &looked, &plan, None);
    }
    for round in 0.. {
        if plan.skip.is_some() {
            break;
        }
        if ctx.interactive && !ctx.args.yes && !ctx.json() {
            if let Some(p) = step.preview(&look) {
                output::note_block(&p);
            }
            // The plan itself: the calls that a yes sends, in order (--dry-run shows bodies).
            let mut lines = String::from("will send, in this order:");
            for c in &plan.calls {
                let l = c.line();
                lines.push_str(&format!("\n  {:<6} {}", l.method, l.path));
            }
            output::note_block(&lines);
        }
        if !ctx.confirm(&plan.question)? {
            break;
        }
        // A person answered, maybe minutes later: plan again from what is there now.
        let again = within_look::<C, _>(ctx, step.look(&cx, target.as_ref())).await?;
        let replan = step.plan(&cx, target.as_ref(), &again)?;
        let same = replan.shape() == plan.shape();
        look = again;
        plan = replan;
        if same {
            break;
        }
        if round == 2 {
            return Err(AppError::failed(
                "the state keeps changing while you are asked; nothing was changed",
            )
            .with_hint("someone else is working on this identity: coordinate, then run again"));
        }
        output::warn("the state changed while you were deciding; here is the new plan");
    }
    let rec = Recorder::open(
        ctx,
        plan.identity.map(|i| i.to_string()).as_deref(),
        C::STEP,
    )?;
    let finished = if let Some(why) = plan.skip.clone() {
        skip::<C>(&rec, target.as_ref(), look, plan, why, Commit::Wait)
            .await?
            .0
    } else {
        perform(&cx, &rec, &step, target.as_ref(), look, plan, Commit::Wait)
            .await?
            .0
    };
    step.show(ctx, &finished)?;
    for note in finished.plan.notes.iter().chain(&finished.verdict.notes) {
        output::note(note);
    }
    finish_exit(finished)
}

/// Runs a step for a runner (a bulk run): no prompt, no printing, the journal shared; a
/// failure before any change is recorded as the step's failed entry. The last entry is handed
/// to the journal without waiting for its fsync (`Pending`): the caller awaits it before it
/// claims anything.
pub async fn unattended<C: Change>(
    cx: &Cx<'_>,
    rec: &Recorder,
    step: &C,
) -> (
    StepResult,
    String,
    Option<Finished<C::Look>>,
    Option<Pending>,
) {
    let planned = within_look::<C, _>(cx.ctx, async {
        let target = resolve(cx, step.identity()).await?;
        let look = step.look(cx, target.as_ref()).await?;
        let plan = step.plan(cx, target.as_ref(), &look)?;
        Ok::<_, AppError>((target, look, plan))
    })
    .await;
    let (target, look, plan) = match planned {
        Ok(x) => x,
        Err(e) => {
            let result = if e.exit == Exit::NotFound {
                StepResult::NotFound
            } else {
                StepResult::Failed
            };
            let id = match step.identity() {
                Some(IdentityRef::Id(i)) => Some(i.to_string()),
                _ => None,
            };
            let mut entry = Entry::new(C::STEP, id.as_deref(), Outcome::Failed)
                .with(
                    "summary",
                    format!("{} {}: {}", C::STEP, result.as_str(), e.line_plain()),
                )
                .with("error", e.line_plain())
                .with("result", result.as_str());
            if let Some(IdentityRef::Identifier(i)) = step.identity() {
                entry.put("identifier", output::clean(i));
            }
            let pending = rec.writer.submit(vec![entry]);
            return (result, e.line_plain(), None, Some(pending));
        }
    };
    let done = match plan.skip.clone() {
        Some(why) => skip::<C>(rec, target.as_ref(), look, plan, why, Commit::Defer).await,
        None => perform(cx, rec, step, target.as_ref(), look, plan, Commit::Defer).await,
    };
    match done {
        Ok((f, pending)) => {
            let detail = f.verdict.message.clone();
            (f.result, detail, Some(f), pending)
        }
        Err(e) => (StepResult::Failed, e.line_plain(), None, None),
    }
}

/// How many `--timeout`s a step's look (finding the identity and reading the live state) may
/// take in all. Every call in it already gives up within [`crate::http::CALL_DEADLINE_TIMEOUTS`]
/// and every listing within [`crate::kratos::LISTING_DEADLINE_TIMEOUTS`]; this bounds the look
/// as a whole, whatever a server does. Nothing has been changed when it passes.
pub const LOOK_DEADLINE_TIMEOUTS: u32 = 30;

/// Runs a step's look under its deadline ([`LOOK_DEADLINE_TIMEOUTS`] × `--timeout`); past it,
/// the step fails (exit 1) saying nothing was changed. Only reads are cut off.
async fn within_look<C: Change, T>(
    ctx: &Ctx,
    look: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let deadline = ctx.timeout.saturating_mul(LOOK_DEADLINE_TIMEOUTS);
    match tokio::time::timeout(deadline, look).await {
        Ok(r) => r,
        Err(_) => Err(AppError::failed(format!(
            "{}: reading the live state did not finish within its deadline ({}, {LOOK_DEADLINE_TIMEOUTS}× --timeout); nothing was changed",
            C::STEP,
            crate::http::seconds(deadline)
        ))
        .with_hint(
            "the server is answering too slowly or keeps asking atoctl to wait: check its health and rate limits, or give a larger --timeout",
        )),
    }
}

/// Whether the last entry is awaited on disk before returning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    Wait,
    Defer,
}

async fn write(rec: &Recorder, entries: Vec<Entry>, commit: Commit) -> Result<Option<Pending>> {
    match commit {
        Commit::Wait => rec.record(entries).await.map(|_| None),
        Commit::Defer => Ok(Some(rec.writer.submit(entries))),
    }
}

/// Every entry of the step starts alike: step, identity, outcome, how it was found, its facts.
fn entry(step: &str, target: Option<&Target>, plan: &Plan, outcome: Outcome) -> Entry {
    let mut e = Entry::new(
        step,
        plan.identity.map(|i| i.to_string()).as_deref(),
        outcome,
    );
    if let Some(t) = target {
        t.record(&mut e);
    }
    for (k, v) in &plan.facts {
        e.evidence.insert(k.clone(), v.clone());
    }
    e
}

async fn skip<C: Change>(
    rec: &Recorder,
    target: Option<&Target>,
    look: C::Look,
    plan: Plan,
    why: String,
    commit: Commit,
) -> Result<(Finished<C::Look>, Option<Pending>)> {
    let e = entry(C::STEP, target, &plan, Outcome::Skipped)
        .with("summary", format!("nothing to do: {why}"));
    let pending = write(rec, vec![e], commit).await?;
    Ok((
        Finished {
            result: StepResult::Skipped,
            identity: plan.identity,
            label: plan.label.clone(),
            journal: rec.path.clone(),
            look,
            verdict: Verdict::new(
                true,
                format!("nothing to do: {why}"),
                format!("nothing to do: {why}"),
            ),
            plan,
            acted: Acted::default(),
        },
        pending,
    ))
}

async fn perform<C: Change>(
    cx: &Cx<'_>,
    rec: &Recorder,
    step: &C,
    target: Option<&Target>,
    look: C::Look,
    mut plan: Plan,
    commit: Commit,
) -> Result<(Finished<C::Look>, Option<Pending>)> {
    let apis = cx.apis()?;
    // Evidence first, and the mark that the step begins, in one fsynced append.
    let mut first = std::mem::take(&mut plan.evidence);
    first.push(
        entry(C::STEP, target, &plan, Outcome::Started)
            .with(
                "summary",
                format!("{} began: {} call(s) planned", C::STEP, plan.calls.len()),
            )
            .with(
                "plan",
                plan.calls
                    .iter()
                    .map(|c| {
                        let l = c.line();
                        format!("{} {}", l.method, l.path)
                    })
                    .collect::<Vec<_>>(),
            ),
    );
    rec.record(first).await?;
    let acted = Acted::perform(&plan.calls, apis).await;
    let checks = if acted.untrusted() {
        Checks::default()
    } else {
        Checks::perform(&plan.checks, apis).await
    };
    let mut verdict = step.judge(&look, &plan, &acted, &checks);
    if acted.untrusted() {
        verdict.verified = false;
        if let Some(e) = acted.first_error() {
            verdict.summary = format!("stopped: {e}");
            verdict.message = e;
        }
    }
    // The effect read back decides: a call that answered an error but was applied (a PATCH
    // whose 500 came after the change) does not make a step that holds a failure; a step that
    // does not hold is one whatever its calls answered.
    let ok = verdict.verified;
    let mut e = entry(
        C::STEP,
        target,
        &plan,
        if ok { Outcome::Ok } else { Outcome::Failed },
    )
    .with("summary", &verdict.summary)
    .with("verified", verdict.verified);
    e.evidence.extend(acted.evidence());
    if let Some(err) = acted.first_error() {
        e.put("error", output::clean(&err));
    }
    for (k, v) in &verdict.evidence {
        e.evidence.insert(k.clone(), v.clone());
    }
    let pending = write(rec, vec![e], commit).await?;
    Ok((
        Finished {
            result: if ok {
                StepResult::Ok
            } else {
                StepResult::Failed
            },
            identity: plan.identity,
            label: plan.label.clone(),
            journal: rec.path.clone(),
            look,
            plan,
            acted,
            verdict,
        },
        pending,
    ))
}

/// The exit code of a finished step: a failure is an error carrying the verdict's message.
fn finish_exit<L>(f: Finished<L>) -> Result<Exit> {
    match f.result {
        StepResult::Ok | StepResult::Skipped => Ok(Exit::Ok),
        StepResult::NotFound => Err(AppError::not_found(f.verdict.message)),
        StepResult::Failed => {
            let e = AppError::new(f.verdict.exit, f.verdict.message);
            Err(match f.verdict.hint {
                Some(h) => e.with_hint(h),
                None => e,
            })
        }
    }
}

/// The default output: one sentence for people, or one JSON document with `identity`,
/// `result`, `message`, `journal` and the verdict's extra keys. A failure prints nothing here:
/// its message is the error line.
pub fn show_result<L>(ctx: &Ctx, f: &Finished<L>) -> Result<()> {
    if f.result == StepResult::Failed {
        return Ok(());
    }
    if ctx.json() {
        let mut doc = Map::new();
        doc.insert("identity".into(), json!(f.identity));
        doc.insert("result".into(), json!(f.result.as_str()));
        doc.insert("message".into(), json!(f.verdict.message));
        doc.insert("journal".into(), json!(f.journal));
        for (k, v) in &f.verdict.output {
            doc.insert(k.clone(), v.clone());
        }
        output::print_json(&Value::Object(doc))
    } else {
        output::line(&format!("{}: {}", f.label, f.verdict.message));
        Ok(())
    }
}

/// Finds the identity a step is about: an id as given, a login identifier by exact match.
pub async fn resolve(cx: &Cx<'_>, r: Option<&IdentityRef>) -> Result<Option<Target>> {
    let Some(r) = r else { return Ok(None) };
    match r {
        IdentityRef::Id(id) => Ok(Some(Target {
            id: *id,
            resolved_from: None,
        })),
        IdentityRef::Identifier(ident) => {
            let found = cx
                .kratos()?
                .find_by_identifier(ident)
                .await
                .map_err(AppError::from)?;
            let shown = output::clean(ident);
            let ids: Vec<IdentityId> = found
                .iter()
                .map(|i| i.id.as_deref().and_then(|s| s.parse::<IdentityId>().ok()))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    AppError::failed(format!(
                        "Kratos answered the lookup of {shown:?} with an identity without a usable id: atoctl does not trust it; nothing was changed"
                    ))
                })?;
            match ids.as_slice() {
                [] => Err(AppError::not_found(format!(
                    "no identity has the login identifier {shown:?} in Kratos (exact match); nothing was changed"
                ))
                .with_hint("check the spelling, or give the identity's UUID")),
                [one] => Ok(Some(Target {
                    id: *one,
                    resolved_from: Some(ident.clone()),
                })),
                many => Err(AppError::failed(format!(
                    "{} identities have the login identifier {shown:?}: {}; nothing was changed",
                    many.len(),
                    many.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
                ))
                .with_hint("give the identity's UUID")),
            }
        }
    }
}

/// The id of an identity given to a step that does not otherwise talk to Kratos (the audit
/// steps): a UUID as given; a login identifier is looked up in Kratos, which then must be
/// configured. Returns the identifier it was found by, for the journal.
pub async fn identity_id(ctx: &Ctx, r: &IdentityRef) -> Result<Target> {
    match r {
        IdentityRef::Id(id) => Ok(Target {
            id: *id,
            resolved_from: None,
        }),
        IdentityRef::Identifier(i) => {
            if ctx.args.kratos_admin_url.is_none() {
                return Err(AppError::usage(format!(
                    "{:?} is a login identifier: finding its identity needs the Kratos admin URL",
                    output::clean(i)
                ))
                .with_hint("set KRATOS_ADMIN_URL, or give the identity's UUID"));
            }
            let cx = Cx::new(ctx, None, 1)?;
            resolve(&cx, Some(r))
                .await?
                .ok_or_else(|| AppError::usage("give --identity"))
        }
    }
}

/// A dry run without a Kratos URL: the plan from the state the step assumes.
fn dry_run_assumed<C: Change>(ctx: &Ctx, step: &C) -> Result<Exit> {
    let target = step.identity().map(|r| match r {
        IdentityRef::Id(id) => Target {
            id: *id,
            resolved_from: None,
        },
        IdentityRef::Identifier(i) => Target {
            id: IdentityId(uuid::Uuid::nil()),
            resolved_from: Some(i.clone()),
        },
    });
    let Some(look) = step.assumed(target.as_ref()) else {
        return Err(AppError::usage(format!(
            "a dry run of {} reads the live state to plan: it needs the Kratos admin URL",
            C::STEP
        ))
        .with_hint("set KRATOS_ADMIN_URL or pass --kratos-admin-url"));
    };
    let cx = Cx { ctx, apis: None };
    let plan = step.plan(&cx, target.as_ref(), &look)?;
    let mut assumption = String::from(
        "no Kratos admin URL: nothing was read; this plan assumes an active identity with sessions and a password, and the real plan follows what atoctl reads",
    );
    if let Some(Target {
        resolved_from: Some(i),
        ..
    }) = &target
    {
        assumption.push_str(&format!(
            "; the identity {:?} is found first with GET /admin/identities?credentials_identifier= (shown here as the nil UUID)",
            output::clean(i)
        ));
    }
    print_dry_run(ctx, C::STEP, &[], &plan, Some(&assumption))
}

/// Prints a plan: the reads made to build it (sent), the calls and the verifying reads (not
/// sent). JSON: one document with every request, each marked with its phase.
fn print_dry_run(
    ctx: &Ctx,
    step: &str,
    looked: &[(String, String)],
    plan: &Plan,
    assumption: Option<&str>,
) -> Result<Exit> {
    let base = |s: Service| match s {
        Service::Kratos => ctx.kratos_base_for_plan(),
        Service::Hydra => ctx
            .hydra_base_for_plan()
            .unwrap_or_else(|| "$HYDRA_ADMIN_URL".into()),
    };
    let mut requests: Vec<Value> = looked
        .iter()
        .map(|(m, p)| {
            // The look's reads go to Kratos, or to Hydra for its consent listing.
            let svc = if p.starts_with("/admin/oauth2/") {
                Service::Hydra
            } else {
                Service::Kratos
            };
            json!({"phase": Phase::Look, "service": svc, "method": m, "path": p, "url": format!("{}{p}", base(svc))})
        })
        .collect();
    let mut push = |phase: Phase, l: &Line, purpose: &str| {
        let mut v = json!({"phase": phase, "service": l.service, "method": l.method, "path": l.path,
            "url": format!("{}{}", base(l.service), l.path), "purpose": purpose});
        if let Some(b) = &l.body {
            v["body"] = b.clone();
        }
        requests.push(v);
    };
    for c in &plan.calls {
        push(Phase::Act, &c.line(), &c.purpose);
    }
    for c in &plan.checks {
        push(Phase::Verify, &c.line(), "verify");
    }
    let mut notes = plan.notes.clone();
    if let Some(a) = assumption {
        notes.insert(0, a.to_string());
    }
    if ctx.json() {
        output::print_json(&json!({
            "dry_run": true,
            "step": step,
            "identity": plan.identity,
            "skip": plan.skip,
            "question": plan.question,
            "requests": requests,
            "notes": notes,
        }))?;
        return Ok(Exit::Ok);
    }
    output::line(&format!(
        "dry run of `{step}` for {}: nothing is changed or journaled.",
        plan.label
    ));
    let mut n = 0;
    let mut section = |title: &str, phase: Phase| {
        let mine: Vec<&Value> = requests
            .iter()
            .filter(|r| r["phase"] == json!(phase))
            .collect();
        if mine.is_empty() {
            return;
        }
        output::line(title);
        for r in mine {
            n += 1;
            output::line(&format!(
                "{n:>3}. {:<6} {}",
                r["method"].as_str().unwrap_or_default(),
                r["url"].as_str().unwrap_or_default()
            ));
            if let Some(b) = r.get("body") {
                let body = serde_json::to_string_pretty(b).unwrap_or_default();
                for l in body.lines() {
                    output::line(&format!("            {l}"));
                }
            }
            if let Some(p) = r.get("purpose").and_then(Value::as_str)
                && phase == Phase::Act
            {
                output::line(&format!("       ↳ {p}"));
            }
        }
    };
    section("read to make this plan (sent, reads only):", Phase::Look);
    match &plan.skip {
        Some(why) => output::line(&format!(
            "nothing to do: {why}; atoctl would send no change"
        )),
        None => {
            section("would send, in this order:", Phase::Act);
            section("then read again to verify:", Phase::Verify);
        }
    }
    for note in &notes {
        output::line(&format!("note: {note}"));
    }
    Ok(Exit::Ok)
}

/// Reads the identity; Kratos's own 404 means it does not exist (exit 3).
pub async fn look_identity(cx: &Cx<'_>, id: IdentityId) -> Result<Identity> {
    cx.kratos()?
        .get_identity(id)
        .await
        .map_err(|e| identity_error(e, id))
}

/// Lists sessions (all, or by the database-level `active` filter).
pub async fn list_sessions(
    cx: &Cx<'_>,
    id: IdentityId,
    active: Option<bool>,
) -> Result<SessionListing> {
    cx.kratos()?
        .list_identity_sessions(id, active)
        .await
        .map_err(AppError::from)
}

/// Maps an error from an identity route: only Kratos's own 404 is "no such identity" (exit 3);
/// any other 404 (a wrong base path, a proxy's page) is exit 1 naming the URL.
pub fn identity_error(e: ApiError, id: IdentityId) -> AppError {
    if e.is_kratos_not_found() {
        AppError::not_found(format!("identity {id} does not exist in Kratos")).caused_by(e)
    } else {
        AppError::from(e)
    }
}
