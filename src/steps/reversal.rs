//! `restore --reversal-key -`: the owner's "this wasn't me" link for an e-mail change, for
//! applications that keep `user_email_changes`. The one place atoctl writes to the audit
//! database.
//!
//! 1. The key is read from stdin (or a hidden prompt), never from argv; only its SHA-256 prefix
//!    is ever shown or journaled.
//! 2. The whole run holds a session advisory lock on the user (taken with `pg_try_advisory_lock`
//!    in a loop, so that the wait is said and bounded): two reversals of one user, with two
//!    keys, run one after the other, Kratos calls included. The earliest change then wins
//!    whatever the order: a later change's run either finds its key voided (exit 3) or runs
//!    first and is followed by the earlier change's, which puts the older address back. The
//!    write connection must keep its session (no transaction pooling in front of it).
//! 3. In ONE transaction, with the user's rows locked (`FOR UPDATE`): the change is found by its
//!    key (none: exit 3, nothing changed), marked reversed (`reversed_at`, `reversed_ip`, its
//!    `confirm_key` voided), and every later change of the user loses its `confirm_key` and
//!    `reversal_key`, so that none of the attacker's later links can take the account back. The
//!    change keeps its own reversal key: a re-run finds it.
//! 4. Then Kratos, with the step life of [`super::restore`]: `traits.email` back to the change's
//!    `email_from`, every session ended, the password disabled.
//! 5. A re-run finds the change reversed and writes nothing to the database. It leaves Kratos
//!    alone when a journal shows the reversal finished, or when the user's address was changed
//!    again after the reversal (that is the owner's doing, or a new incident); otherwise it
//!    finishes what is left (after a crash between the transaction and Kratos, say) and says
//!    "nothing to do" when nothing is (exit 0).

use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient};

use super::Recorder;
use super::life;
use super::restore::{Changes, Restore, ReversalNote, STEP, TraitChange};
use crate::audit;
use crate::audit::db::Micros;
use crate::cli::{RestoreArgs, RestorePart};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::ids::{IdentityId, IdentityRef};
use crate::journal::{Entry, Outcome};
use crate::output;

/// How long a run waits for another reversal of the same user before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(120);

/// The change a key names, as the database holds it.
#[derive(Debug, Clone)]
struct ChangeRow {
    id: i64,
    user: IdentityId,
    email_from: String,
    email_to: String,
    created_at: Timestamp,
    reversed_at: Option<Timestamp>,
}

// Times travel in binary (`Micros`): their text form would depend on the session's DateStyle
// and TimeZone.
const FIND_SQL: &str = "SELECT id, user_id::text, email_from, email_to, created_at, reversed_at
FROM user_email_changes WHERE reversal_key = $1";

const LOCK_USER_SQL: &str = "SELECT id FROM user_email_changes WHERE user_id = $1::text::uuid
ORDER BY created_at, id FOR UPDATE";

// The change's own confirm key goes too (the attacker's "confirm" link for it); its reversal key
// stays, so that a re-run finds it.
const MARK_SQL: &str = "UPDATE user_email_changes
SET reversed_at = now(), reversed_ip = $2::text::inet, confirm_key = NULL
WHERE id = $1 AND reversed_at IS NULL";

const VOID_SQL: &str = "UPDATE user_email_changes SET confirm_key = NULL, reversal_key = NULL
WHERE user_id = $1::text::uuid AND (created_at, id) > (SELECT created_at, id FROM user_email_changes WHERE id = $2)
  AND (confirm_key IS NOT NULL OR reversal_key IS NOT NULL)
RETURNING id";

const REVERSED_AT_SQL: &str = "SELECT reversed_at FROM user_email_changes WHERE id = $1";

/// The user's changes made after this one was reversed: the address moved on since.
const NEWER_SQL: &str = "SELECT id, created_at FROM user_email_changes
WHERE user_id = $1::text::uuid
  AND created_at > (SELECT reversed_at FROM user_email_changes WHERE id = $2)
ORDER BY created_at, id";

/// The write transaction's settings: its statement_timeout and no JIT, for it alone (the
/// reads' settings also make the session read-only).
const WRITE_SETTINGS_SQL: &str =
    "SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true)";

const UNLOCK_SQL: &str = "SELECT pg_advisory_unlock(hashtextextended('atoctl.reversal:' || $1, 0))";

const LOCK_SQL: &str = "SELECT pg_try_advisory_lock(hashtextextended('atoctl.reversal:' || $1, 0))";

/// The first 12 hex digits of the key's SHA-256: enough to tell keys apart in a journal,
/// nothing to use.
fn key_ref(key: &SecretString) -> String {
    let d = Sha256::digest(key.expose_secret().as_bytes());
    hex::encode(d)[..12].to_string()
}

fn read_key() -> Result<SecretString> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let typed = dialoguer::Password::new()
            .with_prompt("Reversal key from the owner's \"this wasn't me\" link (not shown)")
            .interact_on(&console::Term::stderr())
            .map_err(|e| AppError::usage(format!("no reversal key typed: {e}")))?;
        let k = typed.trim().to_string();
        return nonempty(SecretString::from(k));
    }
    let line =
        crate::hibp::read_secret_line(&mut super::hibp_check::raw_stdin()?).map_err(|e| {
            AppError::usage(format!(
                "--reversal-key -: {}; nothing was changed",
                e.to_string().replace("password", "key")
            ))
        })?;
    let text = std::str::from_utf8(&line).map_err(|_| {
        AppError::usage("--reversal-key -: the key is not UTF-8; nothing was changed")
    })?;
    nonempty(SecretString::from(text.trim().to_string()))
}

fn nonempty(k: SecretString) -> Result<SecretString> {
    if k.expose_secret().is_empty() {
        return Err(AppError::usage(
            "--reversal-key -: no key on stdin; nothing was changed",
        ));
    }
    Ok(k)
}

fn write_error(e: &tokio_postgres::Error, timeout: Duration) -> AppError {
    if let Some(db) = e.as_db_error() {
        if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE {
            return AppError::failed(format!(
                "the audit database refused the reversal: {}",
                db.message()
            ))
            .with_hint(
                "the reversal needs SELECT and UPDATE on user_email_changes: give it a connection that has them (--write-database-url, ATOCTL_WRITE_DATABASE_URL)",
            );
        }
        if *db.code() == SqlState::UNDEFINED_TABLE {
            return AppError::failed(format!(
                "the audit database has no user_email_changes table: {}",
                db.message()
            ))
            .with_hint("the reversal is for applications that keep it (see `atoctl schema`)");
        }
    }
    audit::db::db_error(e, timeout)
}

/// The change a key names (`lock`: `FOR UPDATE`, inside the transaction).
async fn find(
    client: &impl GenericClient,
    key: &SecretString,
    lock: bool,
    timeout: Duration,
) -> Result<Option<ChangeRow>> {
    let sql = if lock {
        format!("{FIND_SQL} FOR UPDATE")
    } else {
        FIND_SQL.to_string()
    };
    let rows = client
        .query(&sql, &[&key.expose_secret()])
        .await
        .map_err(|e| write_error(&e, timeout))?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let user: String = audit::db::get(r, 1)?;
    Ok(Some(ChangeRow {
        id: audit::db::get(r, 0)?,
        user: user
            .parse()
            .map_err(|_| AppError::failed("user_email_changes.user_id is not a UUID"))?,
        email_from: audit::db::get(r, 2)?,
        email_to: audit::db::get(r, 3)?,
        created_at: audit::db::get::<Micros>(r, 4)?.timestamp(),
        reversed_at: audit::db::get::<Option<Micros>>(r, 5)?.map(Micros::timestamp),
    }))
}

/// What the transaction did.
struct Reversed {
    change: ChangeRow,
    /// This run marked it (false: it was reversed already, and nothing was written).
    marked: bool,
    reversed_at: Timestamp,
    voided: Vec<i64>,
    /// The user's changes made after the reversal (id, when).
    newer: Vec<(i64, Timestamp)>,
}

/// The transaction: find the change by its key with the user's rows locked; the first time,
/// mark it reversed and void the keys of every later change. `None`: the key is unknown (or was
/// voided meanwhile); nothing was changed.
async fn reverse(
    client: &mut Client,
    key: &SecretString,
    user: IdentityId,
    ip: Option<&str>,
    timeout: Duration,
) -> Result<Option<Reversed>> {
    let err = |e: tokio_postgres::Error| write_error(&e, timeout);
    let tx = client.transaction().await.map_err(err)?;
    let ms = format!("{}ms", timeout.as_millis().max(1));
    tx.query_one(WRITE_SETTINGS_SQL, &[&ms])
        .await
        .map_err(err)?;
    let users = user.to_string();
    // Every change of the user, locked in one order: a concurrent reversal waits here.
    tx.query(LOCK_USER_SQL, &[&users]).await.map_err(err)?;
    let Some(change) = find(&tx, key, true, timeout).await? else {
        tx.rollback().await.map_err(err)?;
        return Ok(None);
    };
    if change.user != user {
        tx.rollback().await.map_err(err)?;
        return Err(AppError::failed(
            "the key's change moved to another user while atoctl held the lock; nothing was changed",
        ));
    }
    let marked = tx
        .execute(MARK_SQL, &[&change.id, &ip])
        .await
        .map_err(err)?
        == 1;
    // Only the first run voids: a re-run must not take away the keys of a change the owner
    // made after the reversal.
    let voided: Vec<i64> = if marked {
        tx.query(VOID_SQL, &[&users, &change.id])
            .await
            .map_err(err)?
            .iter()
            .map(|r| audit::db::get::<i64>(r, 0))
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let row = tx
        .query_one(REVERSED_AT_SQL, &[&change.id])
        .await
        .map_err(err)?;
    let reversed_at = audit::db::get::<Micros>(&row, 0)?.timestamp();
    let newer = tx
        .query(NEWER_SQL, &[&users, &change.id])
        .await
        .map_err(err)?
        .iter()
        .map(|r| {
            Ok((
                audit::db::get::<i64>(r, 0)?,
                audit::db::get::<Micros>(r, 1)?.timestamp(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    tx.commit().await.map_err(err)?;
    Ok(Some(Reversed {
        change,
        marked,
        reversed_at,
        voided,
        newer,
    }))
}

/// Waits for the user's reversal lock (another run holds it), saying so, at most [`LOCK_WAIT`].
async fn lock_user(client: &Client, user: IdentityId, timeout: Duration) -> Result<()> {
    let users = user.to_string();
    let started = std::time::Instant::now();
    let mut said = false;
    loop {
        let row = audit::db::within(timeout, "taking the reversal lock", async {
            client
                .query_one(LOCK_SQL, &[&users])
                .await
                .map_err(|e| write_error(&e, timeout))
        })
        .await?;
        if audit::db::get::<bool>(&row, 0)? {
            return Ok(());
        }
        if started.elapsed() >= LOCK_WAIT {
            return Err(AppError::failed(format!(
                "another reversal of identity {user} has held its lock for {} s; nothing was changed",
                LOCK_WAIT.as_secs()
            ))
            .with_hint("let it finish (or find the stuck atoctl process), then run again"));
        }
        if !said && started.elapsed() >= Duration::from_secs(1) {
            output::note(&format!(
                "waiting for another reversal of identity {user} to finish (they run one at a time)"
            ));
            said = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn run(ctx: &Ctx, a: &RestoreArgs, source: &str) -> Result<Exit> {
    if source != "-" {
        // The value is not repeated: it may be the key.
        return Err(AppError::usage(
            "--reversal-key takes `-` only: the key itself is never an argument (argv is visible to every local user and stays in shell history); nothing was changed",
        )
        .with_hint("printf '%s\\n' \"$KEY\" | atoctl restore --reversal-key - …, or type it at the prompt"));
    }
    let ip = a.ip.as_deref().map(audit::check_ip).transpose()?;
    if ctx.args.kratos_admin_url.is_none() && !ctx.dry_run() {
        return Err(crate::context::missing_kratos_url());
    }
    if !ctx.dry_run() {
        ctx.ensure_may_change("reverse an e-mail change")?;
    }
    let url = match &a.write_database_url {
        Some(u) => u.clone(),
        None => audit::db::resolve_url(ctx.args.database_url.as_deref())?,
    };
    let db = audit::db::parse_target(&url)?;
    let key = read_key()?;
    let kref = key_ref(&key);
    let mut client = audit::db::connect(&db, ctx.timeout).await?;
    let Some(found) = audit::db::within(
        ctx.timeout,
        "finding the change",
        find(&*client, &key, false, ctx.timeout),
    )
    .await?
    else {
        return Err(AppError::not_found(format!(
            "no e-mail change has this reversal key (sha256 {kref}…): it is unknown, or was voided when an earlier change of the user was reversed; nothing was changed"
        )));
    };
    let user = found.user;
    let described = format!(
        "change #{} of identity {user} from {} to {} at {}",
        found.id,
        output::clean(&found.email_from),
        output::clean(&found.email_to),
        found.created_at
    );
    let journals = journals_of(ctx, user);
    // A change reversed already: leave Kratos alone when the reversal was finished, or when the
    // address moved on since (the owner's doing, or another incident). Said before anything.
    if let Some(at) = found.reversed_at {
        let newer = audit::db::within(ctx.timeout, "a query (newer changes)", async {
            client
                .query(NEWER_SQL, &[&user.to_string(), &found.id])
                .await
                .map_err(|e| write_error(&e, ctx.timeout))
        })
        .await?;
        if let Some(n) = newer.first() {
            let id: i64 = audit::db::get(n, 0)?;
            let when = audit::db::get::<Micros>(n, 1)?.timestamp();
            return nothing_to_do(
                ctx,
                user,
                &format!(
                    "{described} was reversed at {at}, and the address was changed again since (change #{id} at {when}): atoctl leaves the identity as it is now"
                ),
            );
        }
        if let Some(why) = reversal_finished(&journals, user, found.id) {
            return nothing_to_do(
                ctx,
                user,
                &format!("{described} was reversed at {at}, and {why}"),
            );
        }
    }
    let sql_notes = vec![
        match found.reversed_at {
            Some(at) => format!(
                "{described} was reversed already (at {at}): nothing more is written to the audit database {}",
                db.shown
            ),
            None => format!(
                "first, in one transaction on the audit database {} (the one place atoctl writes there): lock the user's rows in user_email_changes, mark {described} reversed (reversed_at = now(), reversed_ip = {}, its confirm_key set to NULL), and set confirm_key and reversal_key to NULL on every later change of the user",
                db.shown,
                ip.as_deref().unwrap_or("NULL")
            ),
        },
        format!("the key is shown and journaled only as its SHA-256 prefix {kref}"),
    ];
    if ctx.dry_run() {
        let password_done = password_disabled_after(&journals, user, found.id);
        let step = kratos_step(&found, password_done, sql_notes, Map::new(), &kref);
        return life::run(ctx, step).await;
    }
    if ctx.interactive && !ctx.args.yes {
        output::note_block(&sql_notes.join("\n"));
    }
    ctx.confirm(&format!(
        "Reverse {described}? atoctl writes to the audit database (user_email_changes), then puts {} back in Kratos, ends every session and disables the password",
        output::clean(&found.email_from)
    ))?;
    lock_user(&client, user, ctx.timeout).await?;
    let rec = Recorder::open(ctx, Some(&user.to_string()), STEP)?;
    let evidence = |r: Option<&Reversed>| {
        let mut m = json!({
            "change": found.id,
            "key_sha256_prefix": kref,
            "email_from": found.email_from,
            "email_to": found.email_to,
            "changed_at": found.created_at.to_string(),
        });
        if let Some(r) = r {
            m["reversed_at"] = json!(r.reversed_at.to_string());
            m["voided_changes"] = json!(r.voided);
        }
        if let Some(i) = &ip {
            m["reversed_ip"] = json!(i);
        }
        m
    };
    if found.reversed_at.is_none() {
        rec.record(vec![
            Entry::new(STEP, Some(&user.to_string()), Outcome::Started)
                .with(
                    "summary",
                    format!(
                        "reversal of e-mail change #{} began (audit database write)",
                        found.id
                    ),
                )
                .with("reversal", evidence(None)),
        ])
        .await?;
    }
    // Nine exchanges (BEGIN, the settings, the user's rows locked, the change found, marked,
    // later keys voided, the first reversal's time, the newer changes, COMMIT), each under
    // statement_timeout, and the client's deadline over them all.
    let reversing = reverse(&mut client, &key, user, ip.as_deref(), ctx.timeout);
    let done = match audit::db::within(
        ctx.timeout.saturating_mul(9),
        "the reversal transaction",
        reversing,
    )
    .await
    {
        Ok(Some(d)) => d,
        Ok(None) => {
            rec.record(vec![
                Entry::new(STEP, Some(&user.to_string()), Outcome::Failed)
                    .with("summary", "the reversal key was voided meanwhile (an earlier change of the user was reversed); nothing was changed")
                    .with("result", "not_found")
                    .with("reversal", evidence(None)),
            ])
            .await?;
            unlock_user(&client, user).await;
            return Err(AppError::not_found(format!(
                "the reversal key (sha256 {kref}…) was voided meanwhile: an earlier change of the user was reversed first, and it wins; nothing was changed"
            )));
        }
        Err(e) => {
            if found.reversed_at.is_none() {
                rec.record(vec![
                    Entry::new(STEP, Some(&user.to_string()), Outcome::Failed)
                        .with(
                            "summary",
                            format!("the reversal transaction failed: {}", e.line_plain()),
                        )
                        .with("error", e.line_plain())
                        .with("reversal", evidence(None)),
                ])
                .await?;
            }
            unlock_user(&client, user).await;
            return Err(e);
        }
    };
    if !done.marked
        && let Some((id, when)) = done.newer.first()
    {
        // Reversed by a run that finished meanwhile, and the address moved on since.
        unlock_user(&client, user).await;
        return nothing_to_do(
            ctx,
            user,
            &format!(
                "{described} was reversed at {}, and the address was changed again since (change #{id} at {when}): atoctl leaves the identity as it is now",
                done.reversed_at
            ),
        );
    }
    let summary = if done.marked {
        format!(
            "e-mail change #{} reversed in the audit database; {} of later changes voided",
            done.change.id,
            super::count(done.voided.len(), "key pair", "key pairs")
        )
    } else {
        format!(
            "e-mail change #{} was reversed already (at {}); nothing more written to the audit database",
            done.change.id, done.reversed_at
        )
    };
    rec.record(vec![
        Entry::new(STEP, Some(&user.to_string()), Outcome::Ok)
            .with("summary", &summary)
            .with("reversal", evidence(Some(&done))),
    ])
    .await?;
    output::note(&summary);
    let mut journals = journals;
    journals.push(std::path::PathBuf::from(&rec.path));
    let password_done = password_disabled_after(&journals, user, done.change.id);
    let mut facts = Map::new();
    facts.insert("reversal".into(), evidence(Some(&done)));
    let step = kratos_step(&done.change, password_done, Vec::new(), facts, &kref);
    // Confirmed above: the Kratos half runs without asking again, under the same lock.
    let mut args = ctx.args.clone();
    args.yes = true;
    let confirmed = Ctx::new(args)?;
    let result = life::run(&confirmed, step).await;
    unlock_user(&client, user).await;
    drop(client);
    result
}

/// Says that nothing needs doing (exit 0), as the other steps do: on stdout, or as one JSON
/// document.
fn nothing_to_do(ctx: &Ctx, user: IdentityId, why: &str) -> Result<Exit> {
    if ctx.json() {
        output::print_json(&json!({
            "identity": user,
            "result": "skipped",
            "message": format!("nothing to do: {why}"),
        }))?;
    } else {
        output::line(&format!("{user}: nothing to do: {why}"));
    }
    Ok(Exit::Ok)
}

/// Releases the user's reversal lock; a lock that was not held any more means the connection
/// did not keep its session (a pooler in transaction mode), which is said.
async fn unlock_user(client: &Client, user: IdentityId) {
    // Under a deadline: on a stalled connection the lock goes when the connection closes.
    let held = tokio::time::timeout(
        Duration::from_secs(5),
        client.query_one(UNLOCK_SQL, &[&user.to_string()]),
    )
    .await
    .ok()
    .and_then(|r| r.ok())
    .and_then(|r| r.try_get::<_, bool>(0).ok());
    if held == Some(false) {
        output::warn(
            "the reversal lock was not held by this connection when released: a connection pooler in transaction mode sits in front of the write database; give the reversal a direct connection (--write-database-url), or two reversals of one user may interleave",
        );
    }
}

/// Every journal about `user`: `--incident`, and the incidents directory's journals of the
/// identity, open or closed.
fn journals_of(ctx: &Ctx, user: IdentityId) -> Vec<std::path::PathBuf> {
    let ids = user.to_string();
    let mut out: Vec<std::path::PathBuf> = Vec::new();
    if let Some(p) = &ctx.args.incident
        && p.exists()
    {
        out.push(p.clone());
    }
    if let Ok(entries) = std::fs::read_dir(ctx.incidents_dir()) {
        for p in entries.flatten().map(|e| e.path()) {
            if p.extension().is_some_and(|x| x == "jsonl")
                && !out.contains(&p)
                && crate::journal::glance(&p)
                    .is_ok_and(|g| g.identity.as_deref() == Some(ids.as_str()))
            {
                out.push(p);
            }
        }
    }
    out
}

/// The journal entries of `user` in `journals`, each journal's in its order.
fn records_of(
    journals: &[std::path::PathBuf],
    user: IdentityId,
) -> Vec<Vec<crate::journal::Record>> {
    let ids = user.to_string();
    journals
        .iter()
        .filter_map(|p| crate::journal::read_records(p).ok())
        .map(|rs| {
            rs.into_iter()
                .filter(|r| r.identity.as_deref() == Some(ids.as_str()))
                .collect()
        })
        .collect()
}

fn about_change(r: &crate::journal::Record, change: i64) -> bool {
    r.evidence
        .get("reversal")
        .and_then(|v| v.get("change"))
        .and_then(Value::as_i64)
        == Some(change)
}

/// A journal shows the reversal of `change` finished: its Kratos half verified, containment
/// included.
fn reversal_finished(
    journals: &[std::path::PathBuf],
    user: IdentityId,
    change: i64,
) -> Option<String> {
    for records in records_of(journals, user) {
        if let Some(r) = records.iter().find(|r| {
            r.step == STEP
                && r.outcome == Outcome::Ok
                && about_change(r, change)
                && r.evidence.get("contained") == Some(&Value::Bool(true))
        }) {
            return Some(format!(
                "the journal shows it finished at {} (entry {})",
                r.ts, r.seq
            ));
        }
    }
    None
}

/// Whether a journal shows the password disabled after the change was first reversed (its
/// first `restore` entry naming the change): by order in the journal, not by clocks (a trait
/// PATCH rewrites the password credential's identifiers and so its update time too).
fn password_disabled_after(
    journals: &[std::path::PathBuf],
    user: IdentityId,
    change: i64,
) -> Option<String> {
    for records in records_of(journals, user) {
        let Some(reversed) = records
            .iter()
            .find(|r| r.step == STEP && r.outcome == Outcome::Ok && about_change(r, change))
        else {
            continue;
        };
        let found = records.iter().filter(|r| r.seq > reversed.seq).find(|r| {
            let ok = matches!(r.outcome, Outcome::Ok | Outcome::Skipped);
            (r.step == "disable-password" && ok)
                // A restore that failed in another part still read the password back as
                // replaced when it says so.
                || (r.step == STEP
                    && r.evidence
                        .get("done_kinds")
                        .is_some_and(|k| k.get("password_disabled").is_some()))
        });
        if let Some(r) = found {
            return Some(format!(
                "the journal shows it done at {} (entry {})",
                r.ts, r.seq
            ));
        }
    }
    None
}

/// The Kratos half: the e-mail back to the change's `email_from`, then containment; nothing
/// else of restore.
fn kratos_step(
    change: &ChangeRow,
    password_done: Option<String>,
    notes: Vec<String>,
    facts: Map<String, Value>,
    kref: &str,
) -> Restore {
    let at = change.created_at;
    let mut facts = facts;
    facts
        .entry("reversal_key_sha256_prefix")
        .or_insert_with(|| json!(kref));
    Restore {
        identity: IdentityRef::Id(change.user),
        resolved_from: None,
        from: at,
        changes: Changes {
            traits: vec![TraitChange {
                path: "email".into(),
                before: Some(json!(change.email_from)),
                at,
                source: "user_email_changes",
                last_to: None,
            }],
            ..Changes::default()
        },
        skip: vec![RestorePart::Oidc, RestorePart::Mfa, RestorePart::Oauth2],
        all_oauth2: false,
        contained: None,
        password_done,
        reversal: Some(ReversalNote { notes, facts }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_reference_is_a_short_digest() {
        let r = key_ref(&SecretString::from("k1-secret".to_string()));
        assert_eq!(r.len(), 12);
        assert!(!r.contains("k1"));
    }
}
