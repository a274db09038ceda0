//! The incident journal: JSON Lines, append-only, hash-chained.
//!
//! Every line carries `seq`, `ts`, `incident`, `operator`, `step`, `identity`, `outcome` and
//! `prev` (lowercase hex SHA-256 of the previous line's exact bytes, 64 zeros on the first),
//! followed by the step's evidence. Several atoctl processes may append at once: an append takes
//! an exclusive lock on the file, reads the last line to continue the chain, writes all of its
//! lines with one `write` and fsyncs before the lock is released, so a reader never sees half an
//! entry and no two writers ever chain to the same line.
//!
//! Secrets never belong here. Steps do not put them in, and [`redact`] removes any value under a
//! key that names one (passwords, hashes, recovery codes and links, tokens) as a second line of
//! defence.

mod verify;
mod writer;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{AppError, Exit, Result};

pub use verify::{
    Core, Damage, Lines, Verifier, VerifyReport, each_line, verify_file, verify_file_through,
    verify_open,
};
pub use writer::{JournalWriter, Pending};

/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields every line has; evidence keys may not reuse them.
pub const CORE_FIELDS: [&str; 8] = [
    "seq", "ts", "incident", "operator", "step", "identity", "outcome", "prev",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
    Skipped,
    /// A changing step begins: written (and fsynced) before its first change, so that a later
    /// run can tell a step cut off in the middle (a `started` with no end after it).
    Started,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Started => "started",
        }
    }
}

/// Where a step stands for an identity, as the journal tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// No entry of the step for the identity.
    NotStarted,
    /// The step began (the `started` entry at `seq`) and recorded no end after it: cut off
    /// (a crash, a kill) or still running.
    Began { seq: u64 },
    /// The last run of the step ended with this outcome.
    Finished { outcome: Outcome, seq: u64 },
}

/// Whether `step` began and whether it finished for `identity`, from the journal's records
/// (the last run counts). A step that only looked and skipped is `Finished` with `Skipped`.
/// Entries of a narrower run of the step (a `scope`, as `revoke --session` records) do not
/// count: ending one session is not ending them all.
pub fn progress(records: &[Record], step: &str, identity: &str) -> Progress {
    let mut state = Progress::NotStarted;
    for r in records.iter().filter(|r| {
        r.step == step
            && r.identity.as_deref() == Some(identity)
            && !r.evidence.contains_key("scope")
    }) {
        state = match r.outcome {
            Outcome::Started => Progress::Began { seq: r.seq },
            outcome => Progress::Finished {
                outcome,
                seq: r.seq,
            },
        };
    }
    state
}

/// What a step hands to the journal; the journal adds seq, ts, incident, operator and prev.
#[derive(Debug, Clone)]
pub struct Entry {
    pub step: String,
    pub identity: Option<String>,
    pub outcome: Outcome,
    pub evidence: Map<String, Value>,
}

impl Entry {
    pub fn new(step: &str, identity: Option<&str>, outcome: Outcome) -> Self {
        Entry {
            step: step.to_string(),
            identity: identity.map(str::to_string),
            outcome,
            evidence: Map::new(),
        }
    }

    /// Adds one piece of evidence (builder style).
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.put(key, value);
        self
    }

    pub fn put(&mut self, key: &str, value: impl Serialize) {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.evidence.insert(key.to_string(), v);
    }
}

/// One line as written.
#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    ts: String,
    incident: &'a str,
    operator: &'a str,
    step: &'a str,
    identity: Option<&'a str>,
    outcome: Outcome,
    prev: String,
    #[serde(flatten)]
    evidence: &'a Map<String, Value>,
}

/// A line as read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub ts: String,
    pub incident: String,
    pub operator: String,
    pub step: String,
    pub identity: Option<String>,
    pub outcome: Outcome,
    pub prev: String,
    #[serde(flatten)]
    pub evidence: Map<String, Value>,
}

/// An open journal: its path, the incident id of its first line, and who appends.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    incident: String,
    operator: String,
}

impl Journal {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn incident(&self) -> &str {
        &self.incident
    }

    /// Creates a new journal whose first line is `open` (step `incident.open`). Fails if the
    /// file exists.
    pub fn create(path: &Path, incident: &str, operator: &str, open: Entry) -> Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::failed(format!("cannot create {}: {e}", dir.display())))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => AppError::usage(format!(
                    "journal {} exists already; an incident is opened once",
                    path.display()
                )),
                _ => AppError::failed(format!("cannot create journal {}: {e}", path.display())),
            })?;
        let journal = Journal {
            path: path.to_path_buf(),
            incident: incident.to_string(),
            operator: operator.to_string(),
        };
        file.lock()
            .map_err(|e| AppError::failed(format!("cannot lock {}: {e}", path.display())))?;
        let bytes = journal.render(vec![open], 0, GENESIS.to_string())?;
        write_synced(&file, &bytes, path)?;
        sync_dir(path);
        Ok(journal)
    }

    /// Opens an existing journal, checking that its first line is an `incident.open` entry.
    pub fn open(path: &Path, operator: &str) -> Result<Journal> {
        check_file(path)?;
        let file = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AppError::usage(format!(
                "journal {} does not exist (create it with `atoctl incident open`)",
                path.display()
            )),
            _ => AppError::failed(format!("cannot read journal {}: {e}", path.display())),
        })?;
        let mut first = Vec::new();
        BufReader::new(file)
            .take(1 << 20)
            .read_until(b'\n', &mut first)
            .map_err(|e| {
                AppError::failed(format!("cannot read journal {}: {e}", path.display()))
            })?;
        let not_journal = || {
            AppError::usage(format!(
                "{} is not an atoctl incident journal (its first line is not an incident.open entry)",
                path.display()
            ))
        };
        if first.last() != Some(&b'\n') {
            return Err(not_journal());
        }
        first.pop();
        let rec: Record = serde_json::from_slice(&first).map_err(|_| not_journal())?;
        if rec.seq != 0 || rec.step != "incident.open" || rec.prev != GENESIS {
            return Err(not_journal());
        }
        Ok(Journal {
            path: path.to_path_buf(),
            incident: rec.incident,
            operator: operator.to_string(),
        })
    }

    /// Appends entries under an exclusive lock with one write and one fsync; returns their seqs.
    pub fn append(&self, entries: impl Into<Vec<Entry>>) -> Result<Vec<u64>> {
        let entries: Vec<Entry> = entries.into();
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| {
                AppError::failed(format!("cannot open journal {}: {e}", self.path.display()))
            })?;
        lock_waiting(&file, &self.path, false)?;
        let (next_seq, prev) = read_tail(&mut file, &self.path)?;
        let n = entries.len() as u64;
        let bytes = self.render(entries, next_seq, prev)?;
        write_synced(&file, &bytes, &self.path)?;
        Ok((next_seq..next_seq + n).collect())
        // the lock is released when `file` is dropped
    }

    /// Renders entries as chained lines starting at `seq`, after the line hashing to `prev`.
    fn render(&self, entries: Vec<Entry>, mut seq: u64, mut prev: String) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(entries.len() * 512);
        for entry in entries {
            let mut evidence = entry.evidence;
            for key in CORE_FIELDS {
                if let Some(v) = evidence.remove(key) {
                    evidence.insert(format!("evidence_{key}"), v);
                }
            }
            let mut ev = Value::Object(evidence);
            redact(&mut ev);
            let Value::Object(evidence) = ev else {
                unreachable!("redact keeps an object an object")
            };
            let line = Line {
                seq,
                ts: now_rfc3339(),
                incident: &self.incident,
                operator: &self.operator,
                step: &entry.step,
                identity: entry.identity.as_deref(),
                outcome: entry.outcome,
                prev: prev.clone(),
                evidence: &evidence,
            };
            let bytes = line_json(&line)
                .map_err(|e| AppError::failed(format!("cannot encode journal entry: {e}")))?;
            prev = sha256_hex(&bytes);
            out.extend_from_slice(&bytes);
            out.push(b'\n');
            seq += 1;
        }
        Ok(out)
    }
}

/// How long an append waits for the journal lock another process holds before giving up.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A journal path must name a regular file (or a symlink to one) when it exists: a FIFO would
/// block every read forever, a directory or a device is no journal. Exit 2, before anything.
pub fn check_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            let t = m.file_type();
            let kind = if t.is_dir() {
                "a directory"
            } else if t.is_fifo() {
                "a FIFO (named pipe)"
            } else if t.is_socket() {
                "a socket"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else {
                "not a regular file"
            };
            Err(AppError::usage(format!(
                "{} is {kind}, not an incident journal; nothing was sent",
                path.display()
            ))
            .with_hint("give --incident (ATOCTL_INCIDENT) the path of a journal file"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(AppError::failed(format!(
            "cannot read journal {}: {e}",
            path.display()
        ))),
    }
}

/// Who holds a lock on `file`, from /proc/locks (the PID and its command name), if it can be
/// told.
fn lock_holder(file: &File) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let ino = file.metadata().ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let me = std::process::id();
    locks.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // "1: FLOCK  ADVISORY  WRITE 12345 00:2b:1234567 0 EOF"
        let pid: u32 = f.get(4)?.parse().ok()?;
        let node = f.get(5)?.rsplit(':').next()?.parse::<u64>().ok()?;
        (node == ino && pid != me).then(|| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("process {pid} ({})", crate::output::clean(comm.trim()))
        })
    })
}

/// Takes the journal's lock (`shared` for a reader), waiting for another process that holds
/// it: said after a second, given up after [`LOCK_WAIT`] (exit 1; nothing written).
pub fn lock_waiting(file: &File, path: &Path, shared: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let mut said = false;
    loop {
        let r = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match r {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(AppError::failed(format!(
                    "cannot lock journal {}: {e}",
                    path.display()
                )));
            }
        }
        let holder = || lock_holder(file).unwrap_or_else(|| "another process".into());
        if started.elapsed() >= LOCK_WAIT {
            return Err(AppError::failed(format!(
                "gave up after {} s waiting for the lock of journal {}, held by {}; nothing was written",
                LOCK_WAIT.as_secs(),
                path.display(),
                holder()
            ))
            .with_hint("another atoctl appends to it (or hangs): let it finish or stop it, then run again"));
        }
        if !said && started.elapsed() >= std::time::Duration::from_secs(1) {
            crate::output::note(&format!(
                "waiting for the lock of journal {}, held by {} (at most {} s)",
                path.display(),
                holder(),
                LOCK_WAIT.as_secs()
            ));
            said = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A journal a command appends to (a step, changing or reading, a note) must be whole: a damaged one (a torn or altered line,
/// a broken chain) is refused with exit 5 before anything is sent, unless `force` says the
/// operator knows (then the damage is said, and appending goes on after it).
pub fn check_chain(path: &Path, force: bool) -> Result<()> {
    check_file(path)?;
    if !path.exists() {
        return Ok(());
    }
    // A file that is no journal at all (its first line is no incident.open) is a usage error,
    // not a damaged journal.
    Journal::open(path, "")?;
    match verify_file(path) {
        Ok(_) => Ok(()),
        Err(Ok(d)) if force => {
            // Chaining on needs a whole last line: a torn one (a crash mid-write) cannot be
            // appended after, forced or not.
            let mut file = File::open(path).map_err(|e| {
                AppError::failed(format!("cannot read journal {}: {e}", path.display()))
            })?;
            read_tail(&mut file, path).map_err(|e| {
                e.with_hint("its last line is not whole: move the file aside (it is evidence) and open a new incident")
            })?;
            crate::output::warn(&format!(
                "journal {} is damaged at line {} ({}); appending anyway (--force-append)",
                path.display(),
                d.line,
                crate::output::clean(&d.reason)
            ));
            Ok(())
        }
        Err(Ok(d)) => Err(AppError::new(
            Exit::Damaged,
            format!(
                "journal {} is damaged at line {}: {}; atoctl appends nothing to it, and nothing was changed",
                path.display(),
                d.line,
                crate::output::clean(&d.reason)
            ),
        )
        .with_hint("`atoctl incident verify` names the damage; keep the file as evidence, open a new incident, or pass --force-append to append after it")),
        Err(Err(e)) => Err(e),
    }
}

/// Reads every record of a journal (for `incident show` and `report`).
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    check_file(path)?;
    let data = std::fs::read(path)
        .map_err(|e| AppError::usage(format!("cannot read journal {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let rec: Record = serde_json::from_slice(line).map_err(|e| {
            AppError::new(
                Exit::Damaged,
                format!(
                    "{} line {}: not a journal entry: {e}",
                    path.display(),
                    i + 1
                ),
            )
        })?;
        out.push(rec);
    }
    Ok(out)
}

/// The next seq and the hash of the last line, read from the end of the file.
fn read_tail(file: &mut File, path: &Path) -> Result<(u64, String)> {
    let last = last_line(file, path)?;
    #[derive(Deserialize)]
    struct Seq {
        seq: u64,
    }
    let seq: Seq = serde_json::from_slice(&last).map_err(|_| {
        AppError::new(
            Exit::Damaged,
            format!(
                "{}: the last line is not a journal entry; run `atoctl incident verify`",
                path.display()
            ),
        )
    })?;
    Ok((seq.seq + 1, sha256_hex(&last)))
}

/// The last line's bytes (without its newline), read backwards from the end of the file.
fn last_line(file: &mut File, path: &Path) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| AppError::failed(format!("cannot read {}: {e}", path.display()));
    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
    if len == 0 {
        return Err(AppError::usage(format!(
            "{} is empty: it is not an atoctl incident journal",
            path.display()
        )));
    }
    // Read backwards in growing chunks until the line before the last newline is whole.
    let mut chunk = 4096u64;
    loop {
        let start = len.saturating_sub(chunk);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file)
            .take(len - start)
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.last() != Some(&b'\n') {
            return Err(AppError::new(
                Exit::Damaged,
                format!(
                    "{}: the last line is incomplete (an interrupted write?); run `atoctl incident verify`",
                    path.display()
                ),
            ));
        }
        let body = &buf[..buf.len() - 1];
        let line_start = match body.iter().rposition(|b| *b == b'\n') {
            Some(p) => p + 1,
            None if start == 0 => 0,
            None => {
                chunk *= 4;
                continue;
            }
        };
        return Ok(body[line_start..].to_vec());
    }
}

/// A journal at a glance: its incident, the identity it was opened for, whether it was closed
/// (its last entry is `incident.close`). Reads the first and the last line only.
#[derive(Debug, Clone)]
pub struct Glance {
    pub path: PathBuf,
    pub incident: String,
    pub identity: Option<String>,
    pub closed: bool,
}

/// The journal step that ends an incident.
pub const CLOSE_STEP: &str = "incident.close";

pub fn glance(path: &Path) -> Result<Glance> {
    check_file(path)?;
    let mut file = File::open(path)
        .map_err(|e| AppError::failed(format!("cannot read journal {}: {e}", path.display())))?;
    // A shared lock waits for an append in progress (writers hold the exclusive one while they
    // write and fsync): the last line read is whole.
    lock_waiting(&file, path, true)?;
    let mut first = Vec::new();
    BufReader::new(&file)
        .take(1 << 20)
        .read_until(b'\n', &mut first)
        .map_err(|e| AppError::failed(format!("cannot read journal {}: {e}", path.display())))?;
    let open: Record = serde_json::from_slice(first.trim_ascii_end()).map_err(|_| {
        AppError::usage(format!(
            "{} is not an atoctl incident journal",
            path.display()
        ))
    })?;
    if open.step != "incident.open" {
        return Err(AppError::usage(format!(
            "{} is not an atoctl incident journal (its first line is not an incident.open entry)",
            path.display()
        )));
    }
    #[derive(Deserialize)]
    struct Step {
        step: String,
    }
    let last = last_line(&mut file, path)?;
    let closed = serde_json::from_slice::<Step>(&last).is_ok_and(|s| s.step == CLOSE_STEP);
    Ok(Glance {
        path: path.to_path_buf(),
        incident: open.incident,
        identity: open.identity,
        closed,
    })
}

/// The open incidents of `identity` among the journals (`*.jsonl`) in `dir`, newest first
/// (incident ids sort by their opening time). A file that is not a journal is passed over.
pub fn open_incidents_of(dir: &Path, identity: &str) -> Vec<Glance> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Glance> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl") && p.is_file())
        .filter_map(|p| glance(&p).ok())
        .filter(|g| !g.closed && g.identity.as_deref() == Some(identity))
        .collect();
    found.sort_by(|a, b| b.incident.cmp(&a.incident));
    found
}

fn write_synced(mut file: &File, bytes: &[u8], path: &Path) -> Result<()> {
    file.write_all(bytes)
        .and_then(|_| file.sync_data())
        .map_err(|e| AppError::failed(format!("cannot write journal {}: {e}", path.display())))
}

/// Makes a new file's directory entry durable too (best effort).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// The JSON of one journal line: serde_json's, with the characters that would change how the
/// file reads in a terminal or an editor (bidirectional overrides such as U+202E, C1 controls,
/// the line separators U+2028 and U+2029) written as `\uXXXX` escapes. serde_json escapes the
/// C0 controls (ESC, NUL) itself; every value still reads back whole, character for
/// character, and the hash is over these bytes.
fn line_json<T: Serialize>(line: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    line.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        EscapingFormatter,
    ))?;
    Ok(out)
}

struct EscapingFormatter;

impl serde_json::ser::Formatter for EscapingFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if crate::output::is_unsafe(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn now_rfc3339() -> String {
    format!("{:.6}", jiff::Timestamp::now())
}

/// Keys whose values are secrets wherever they appear in evidence.
const SECRET_KEYS: [&str; 20] = [
    "password",
    "hashed_password",
    "new_password",
    "recovery_code",
    "recovery_codes",
    "recovery_link",
    "token",
    "tokenized",
    "session_token",
    "logout_token",
    "access_token",
    "refresh_token",
    "id_token",
    "initial_id_token",
    "initial_access_token",
    "initial_refresh_token",
    "totp_url",
    "secret",
    "authorization",
    "api_key",
];

/// Replaces every value under a secret-naming key with `"[redacted]"`, recursively.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if !v.is_null() && SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                    *v = Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_nested_secrets_and_keeps_the_rest() {
        let mut v = serde_json::json!({
            "sessions": [{"id": "s1", "tokenized": "eyJ…", "devices": [{"ip_address": "1.2.3.4"}]}],
            "config": {"hashed_password": "$argon2id$…"},
            "recovery_code": "123456",
            "method": "code"
        });
        redact(&mut v);
        let s = v.to_string();
        assert!(!s.contains("eyJ"));
        assert!(!s.contains("argon2id"));
        assert!(!s.contains("123456"));
        assert!(s.contains("1.2.3.4"));
        assert!(s.contains("\"method\":\"code\""));
    }

    #[test]
    fn progress_tells_a_step_cut_off_from_one_that_finished() {
        let rec = |seq: u64, step: &str, id: &str, outcome: Outcome| Record {
            seq,
            ts: String::new(),
            incident: "i".into(),
            operator: "o".into(),
            step: step.into(),
            identity: Some(id.into()),
            outcome,
            prev: String::new(),
            evidence: Map::new(),
        };
        let mut log = vec![
            rec(1, "lock", "a", Outcome::Started),
            rec(2, "lock", "a", Outcome::Ok),
            rec(3, "revoke", "a", Outcome::Started),
            rec(4, "revoke", "b", Outcome::Skipped),
        ];
        assert_eq!(
            progress(&log, "lock", "a"),
            Progress::Finished {
                outcome: Outcome::Ok,
                seq: 2
            }
        );
        assert_eq!(progress(&log, "revoke", "a"), Progress::Began { seq: 3 });
        assert_eq!(progress(&log, "unlock", "a"), Progress::NotStarted);
        // A later run that began again is cut off again, whatever the first run did.
        log.push(rec(5, "lock", "a", Outcome::Started));
        assert_eq!(progress(&log, "lock", "a"), Progress::Began { seq: 5 });
        // Ending one session is not the step for the identity.
        let mut one = rec(6, "revoke", "b", Outcome::Ok);
        one.evidence
            .insert("scope".into(), Value::String("session".into()));
        log.push(one);
        assert_eq!(
            progress(&log, "revoke", "b"),
            Progress::Finished {
                outcome: Outcome::Skipped,
                seq: 4
            }
        );
    }

    #[test]
    fn evidence_cannot_overwrite_core_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(
            &path,
            "ato-x",
            "alice",
            Entry::new("incident.open", None, Outcome::Ok),
        )
        .unwrap();
        j.append([Entry::new("note", None, Outcome::Ok).with("seq", 99)])
            .unwrap();
        let recs = read_records(&path).unwrap();
        assert_eq!(recs[1].seq, 1);
        assert_eq!(recs[1].evidence["evidence_seq"], 99);
        assert!(verify_file(&path).is_ok());
    }
}
