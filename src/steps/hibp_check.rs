//! `hibp-check`: a password against Have I Been Pwned, without revealing it (issue 4).
//!
//! Read-only: nothing to confirm. The password comes from a hidden prompt or one line of stdin
//! (never an argument), or the user gives its hash; it is hashed at once into zeroed memory and
//! only the hash's five-digit prefix is sent (online), or nothing at all (offline). The journal
//! entry holds the verdict, the count and the source: never the password, the hash, the suffix
//! or the prefix.
//!
//! Verdicts: found (exit 4), not found (exit 0), unknown (exit 1: the answer could not be had or
//! trusted). In `-o json` an unknown verdict still prints a document, with `"pwned": null`, so
//! that a script reading only stdout cannot mistake it for "not found".

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::HibpCheckArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::hibp::range::{check_api_url, range_path};
use crate::hibp::{
    Corpus, DEFAULT_API, HashHex, HashKind, LookupError, Password, RangeClient, RangeTable, Source,
    read_secret_line,
};
use crate::journal::{Entry, Outcome};
use crate::output;

const STEP: &str = "hibp-check";

/// Hash files larger than this are refused (about 25 million SHA-1 lines).
const MAX_HASH_FILE: u64 = 1 << 30;

/// Where the answer comes from.
enum Target {
    Api(String),
    Offline(PathBuf),
}

impl Target {
    fn source(&self) -> Source {
        match self {
            Target::Api(_) => Source::Api,
            Target::Offline(_) => Source::Offline,
        }
    }
}

/// Ready to answer.
enum Checker {
    Api(Box<RangeClient>),
    Offline(Corpus),
}

impl Checker {
    async fn one(&self, h: &HashHex) -> Result<u64, LookupError> {
        match self {
            Checker::Api(c) => Ok(c.fetch(h.prefix(), h.kind()).await?.count(h.suffix())),
            Checker::Offline(c) => c.lookup(h),
        }
    }
}

pub async fn run(ctx: &Ctx, a: &HibpCheckArgs) -> Result<Exit> {
    run_given(ctx, a, None).await
}

/// Runs the check; `given`: the password a runner read already (respond --password-stdin),
/// used instead of the prompt.
pub async fn run_given(ctx: &Ctx, a: &HibpCheckArgs, given: Option<&Password>) -> Result<Exit> {
    if !a.password.is_empty() {
        return Err(AppError::usage(
            "hibp-check takes no positional argument and refuses this one without repeating it: a password is never accepted as an argument (it would show in the process list and the shell history); if you meant an option, check its spelling in --help; nothing was sent",
        )
        .with_hint(
            "type it at the hidden prompt (run without arguments on a terminal), or pipe it: `atoctl hibp-check --stdin`",
        ));
    }
    ctx.reject_ids_output(STEP)?;
    let kind = if a.ntlm || a.nt_hash.is_some() {
        HashKind::Ntlm
    } else {
        HashKind::Sha1
    };
    let identity = match &a.identity {
        Some(r) => Some(super::life::identity_id(ctx, r).await?.id.to_string()),
        None => None,
    };
    let target = match &a.offline {
        Some(p) => Target::Offline(p.clone()),
        None => Target::Api(
            check_api_url(&a.api_url.clone().unwrap_or_else(default_api))
                .map_err(AppError::usage)?,
        ),
    };
    let prompt = a.sha1_file.is_none() && !a.stdin && a.sha1.is_none() && a.nt_hash.is_none();
    if ctx.dry_run() {
        return dry_run(ctx, a, &target, kind);
    }
    if prompt && given.is_none() && !ctx.interactive {
        return Err(AppError::usage(
            "no terminal to prompt for the password on; nothing was sent",
        )
        .with_hint(
            "pipe it: `… | atoctl hibp-check --stdin`, or give the hash: --sha1 HEX (--sha1 - reads it from stdin)",
        ));
    }
    // Open the corpus first: a wrong path fails before the password is asked for.
    let checker = match &target {
        Target::Api(base) => Checker::Api(Box::new(
            RangeClient::new(base, ctx.timeout, ctx.retry).map_err(AppError::failed)?,
        )),
        Target::Offline(path) => {
            Checker::Offline(Corpus::open(path, kind).map_err(|e| lookup_error(e, None))?)
        }
    };
    if let Some(file) = &a.sha1_file {
        return batch(ctx, a, &checker, &target, kind, file, identity.as_deref()).await;
    }
    let hash = match given {
        Some(p) if prompt => HashHex::of_password(p, kind),
        _ => obtain_hash(a, kind)?,
    };
    let result = checker.one(&hash).await;
    drop(hash);
    finish_one(ctx, identity.as_deref(), target.source(), result)
}

/// The range API when no --api-url is given: `ATOCTL_HIBP_API_URL` (a mirror), else HIBP's.
fn default_api() -> String {
    std::env::var("ATOCTL_HIBP_API_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_API.to_string())
}

/// The hash to check, from the prompt, stdin, or the user's hex. Errors never quote the input.
fn obtain_hash(a: &HibpCheckArgs, kind: HashKind) -> Result<HashHex> {
    let given = match (&a.sha1, &a.nt_hash) {
        (Some(h), _) => Some(("--sha1", h)),
        (None, Some(h)) => Some(("--nt-hash", h)),
        (None, None) => None,
    };
    if let Some((flag, hex)) = given {
        let parsed = if hex == "-" {
            let line = read_secret_line(&mut raw_stdin()?).map_err(|e| {
                AppError::usage(format!("{flag} -: {e}").replace("password", "hash"))
            })?;
            HashHex::parse_bytes(&line, kind)
        } else {
            crate::output::warn(&format!(
                "{flag} with the hash on the command line puts the password's full hash in the process list (readable by every local user) and the shell history: prefer {flag} - and the hash on stdin"
            ));
            HashHex::parse(hex, kind)
        };
        return parsed.map_err(|e| AppError::usage(format!("{flag}: {e}; nothing was sent")));
    }
    let password = if a.stdin {
        Password::read_line(&mut raw_stdin()?)
            .map_err(|e| AppError::usage(format!("--stdin: {e}; nothing was sent")))?
    } else {
        let typed = dialoguer::Password::new()
            .with_prompt(match kind {
                HashKind::Sha1 => "Password to check (not shown, not sent)",
                HashKind::Ntlm => "Password to check as an NT hash (not shown, not sent)",
            })
            .interact_on(&console::Term::stderr())
            .map_err(|e| AppError::usage(format!("no password typed: {e}")))?;
        Password::from_string(typed).map_err(|e| AppError::usage(e.to_string()))?
    };
    Ok(HashHex::of_password(&password, kind))
}

/// Stdin without the standard library's buffer, so that the password is read straight into
/// zeroed memory and no copy is left in a buffer that outlives it.
pub(crate) fn raw_stdin() -> Result<File> {
    std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .map_err(|e| AppError::failed(format!("cannot read stdin: {e}")))
}

/// An error of the lookup as the operator sees it: usage for a missing path, else unknown.
fn lookup_error(e: LookupError, what: Option<&str>) -> AppError {
    match e {
        LookupError::Missing(m) => AppError::usage(m),
        e => {
            let msg = match what {
                Some(w) => format!("{w}: {e}"),
                None => e.to_string(),
            };
            AppError::failed(msg)
        }
    }
}

fn journal(ctx: &Ctx, identity: Option<&str>, entry: Entry) -> Result<()> {
    if let Some(j) = ctx.journal_if_set(identity, STEP)? {
        j.append([entry])?;
    }
    Ok(())
}

fn finish_one(
    ctx: &Ctx,
    identity: Option<&str>,
    source: Source,
    result: Result<u64, LookupError>,
) -> Result<Exit> {
    let src = source.as_str();
    match result {
        Ok(count) => {
            let pwned = count > 0;
            let summary = if pwned {
                format!("password found in the Pwned Passwords corpus ({count} times, {src})")
            } else {
                format!("password not found in the Pwned Passwords corpus ({src})")
            };
            journal(
                ctx,
                identity,
                Entry::new(STEP, identity, Outcome::Ok)
                    .with("summary", summary)
                    .with("verdict", if pwned { "pwned" } else { "not-found" })
                    .with("count", count)
                    .with("source", src),
            )?;
            if ctx.json() {
                output::print_json(&json!({"pwned": pwned, "count": count, "source": src}))?;
            } else if pwned {
                output::line(&format!(
                    "PWNED: this password is in the Pwned Passwords corpus, seen {} times (source: {src}).",
                    thousands(count)
                ));
                output::line(
                    "Attackers try it first: it must not be used anywhere, on this account or any other.",
                );
            } else {
                output::line(&format!(
                    "not found: this password is not in the Pwned Passwords corpus (source: {src})."
                ));
                output::line("That does not make it strong, nor prove it was not phished.");
            }
            Ok(if pwned { Exit::Pwned } else { Exit::Ok })
        }
        Err(e) => {
            let err = lookup_error(e, Some("cannot tell whether the password is pwned"));
            if err.exit == Exit::Usage {
                return Err(err);
            }
            journal(
                ctx,
                identity,
                Entry::new(STEP, identity, Outcome::Failed)
                    .with(
                        "summary",
                        format!("breached-password check: unknown ({src})"),
                    )
                    .with("verdict", "unknown")
                    .with("count", serde_json::Value::Null)
                    .with("source", src),
            )?;
            if ctx.json() {
                output::print_json(&json!({
                    "pwned": null,
                    "count": null,
                    "source": src,
                    "error": err.message,
                }))?;
            }
            Err(err.with_hint("this is \"unknown\", not \"not found\"; try again, or check offline with --offline PATH"))
        }
    }
}

/// `--sha1-file`: many hashes, one JSON line each, in the file's order.
async fn batch(
    ctx: &Ctx,
    a: &HibpCheckArgs,
    checker: &Checker,
    target: &Target,
    kind: HashKind,
    file: &Path,
    identity: Option<&str>,
) -> Result<Exit> {
    let (lines, hashes) = read_hash_file(file, kind)?;
    let src = target.source().as_str();
    let results: Vec<Result<u64, String>> = match checker {
        Checker::Offline(corpus) => match corpus.lookup_many(&hashes) {
            Ok(counts) => counts.into_iter().map(Ok).collect(),
            Err(e) => {
                journal(
                    ctx,
                    identity,
                    batch_entry(identity, src, hashes.len(), 0, hashes.len()),
                )?;
                return Err(lookup_error(e, Some("cannot check the hashes")));
            }
        },
        Checker::Api(client) => {
            let prefixes: BTreeSet<&str> = hashes.iter().map(HashHex::prefix).collect();
            let tables: HashMap<&str, Result<RangeTable, LookupError>> =
                futures::stream::iter(prefixes)
                    .map(|p| async move { (p, client.fetch(p, kind).await) })
                    .buffer_unordered(a.concurrency as usize)
                    .collect()
                    .await;
            hashes
                .iter()
                .map(|h| match tables.get(h.prefix()) {
                    Some(Ok(t)) => Ok(t.count(h.suffix())),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("internal error: no answer for this prefix".into()),
                })
                .collect()
        }
    };
    drop(hashes);
    let found = results
        .iter()
        .filter(|r| matches!(r, Ok(c) if *c > 0))
        .count();
    let unknown = results.iter().filter(|r| r.is_err()).count();
    journal(
        ctx,
        identity,
        batch_entry(identity, src, results.len(), found, unknown),
    )?;
    {
        let mut out = BufWriter::with_capacity(1 << 16, crate::output::results());
        let w = |e: std::io::Error| AppError::failed(format!("cannot write the results: {e}"));
        for (line, r) in lines.iter().zip(&results) {
            match r {
                Ok(c) => writeln!(
                    out,
                    "{{\"line\":{line},\"pwned\":{},\"count\":{c},\"source\":\"{src}\"}}",
                    *c > 0
                ),
                Err(e) => writeln!(
                    out,
                    "{{\"line\":{line},\"pwned\":null,\"count\":null,\"source\":\"{src}\",\"error\":{}}}",
                    serde_json::Value::String(e.clone())
                ),
            }
            .map_err(w)?;
        }
        out.flush().map_err(w)?;
    }
    output::note(&format!(
        "checked {} hash(es): {found} pwned, {} not found, {unknown} unknown ({src})",
        results.len(),
        results.len() - found - unknown
    ));
    if found > 0 {
        if unknown > 0 {
            output::warn(&format!(
                "{unknown} hash(es) could not be checked (\"pwned\": null); exit 4 because others were found"
            ));
        }
        return Ok(Exit::Pwned);
    }
    if unknown > 0 {
        return Err(AppError::failed(format!(
            "{unknown} of {} hash(es) could not be checked; none was found among the rest",
            results.len()
        ))
        .with_hint("their lines say \"pwned\": null: unknown, not \"not found\""));
    }
    Ok(Exit::Ok)
}

fn batch_entry(
    identity: Option<&str>,
    src: &str,
    checked: usize,
    found: usize,
    unknown: usize,
) -> Entry {
    let (outcome, verdict) = if found > 0 {
        (Outcome::Ok, "pwned")
    } else if unknown > 0 {
        (Outcome::Failed, "unknown")
    } else {
        (Outcome::Ok, "not-found")
    };
    Entry::new(STEP, identity, outcome)
        .with(
            "summary",
            format!(
                "breached-password check of {checked} hash(es): {found} pwned, {unknown} unknown ({src})"
            ),
        )
        .with("verdict", verdict)
        .with("checked", checked)
        .with("count", found)
        .with("unknown", unknown)
        .with("source", src)
}

/// Reads a hash file: line numbers and hashes. An invalid line is a usage error naming its
/// number, never its content (it might be a password pasted by mistake).
fn read_hash_file(path: &Path, kind: HashKind) -> Result<(Vec<u32>, Vec<HashHex>)> {
    let shown = path.display();
    let data = if path.as_os_str() == "-" {
        let mut buf = Zeroizing::new(Vec::new());
        raw_stdin()?
            .take(MAX_HASH_FILE)
            .read_to_end(&mut buf)
            .map_err(|e| AppError::failed(format!("cannot read stdin: {e}")))?;
        buf
    } else {
        let f = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                AppError::usage(format!("--sha1-file {shown}: no such file"))
            }
            _ => AppError::usage(format!("--sha1-file {shown}: {e}")),
        })?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len > MAX_HASH_FILE {
            return Err(AppError::usage(format!(
                "--sha1-file {shown}: larger than {} MiB; split it",
                MAX_HASH_FILE >> 20
            )));
        }
        let mut buf = Zeroizing::new(Vec::with_capacity(len as usize + 1));
        (&f).read_to_end(&mut buf)
            .map_err(|e| AppError::failed(format!("cannot read {shown}: {e}")))?;
        buf
    };
    let mut lines = Vec::new();
    let mut hashes = Vec::new();
    for (i, raw) in data.split(|b| *b == b'\n').enumerate() {
        let t = raw.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let h = HashHex::parse_bytes(t, kind).map_err(|e| {
            AppError::usage(format!(
                "--sha1-file {shown} line {n}: {e}; nothing was checked"
            ))
        })?;
        lines.push(n);
        hashes.push(h);
    }
    if hashes.is_empty() {
        return Err(AppError::usage(format!(
            "--sha1-file {shown}: no hashes in it"
        )));
    }
    Ok((lines, hashes))
}

/// `--dry-run`: the request that would be sent, the prefix shown as a placeholder.
fn dry_run(ctx: &Ctx, a: &HibpCheckArgs, target: &Target, kind: HashKind) -> Result<Exit> {
    let mut requests = Vec::new();
    let mut notes = Vec::new();
    match target {
        Target::Api(base) => {
            let placeholder = format!("<first 5 hex of the {}>", kind.name());
            requests.push(json!({
                "method": "GET",
                "url": format!("{base}{}", range_path(&placeholder, kind)),
                "purpose": format!(
                    "k-anonymity range query, headers Add-Padding: true and User-Agent: atoctl/{}; the rest of the hash is compared here and never sent",
                    env!("CARGO_PKG_VERSION")
                ),
            }));
            if a.sha1_file.is_some() {
                notes.push(format!(
                    "--sha1-file: one such request per distinct prefix in the file, at most {} at once",
                    a.concurrency
                ));
            }
        }
        Target::Offline(path) => {
            notes.push(format!(
                "offline: {} would be searched here (binary search, or the one PREFIX.txt file); nothing is sent",
                path.display()
            ));
        }
    }
    notes.push("the password is not asked for in a dry run".into());
    if ctx.json() {
        output::print_json(&json!({
            "dry_run": true,
            "step": STEP,
            "requests": requests,
            "notes": notes,
        }))?;
        return Ok(Exit::Ok);
    }
    output::line(&format!(
        "dry run of `{STEP}`: nothing is sent or journaled. atoctl would send:"
    ));
    for (i, r) in requests.iter().enumerate() {
        output::line(&format!(
            "{:>3}. {:<6} {}",
            i + 1,
            r["method"].as_str().unwrap_or_default(),
            r["url"].as_str().unwrap_or_default()
        ));
        output::line(&format!(
            "       ↳ {}",
            r["purpose"].as_str().unwrap_or_default()
        ));
    }
    for n in &notes {
        output::line(&format!("note: {n}"));
    }
    Ok(Exit::Ok)
}

/// 3861493 → "3,861,493".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3_861_493), "3,861,493");
    }
}
