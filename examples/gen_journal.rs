//! Writes a valid incident journal of N entries for benchmarks (`benches/journal.sh`): the
//! entries atoctl writes, byte for byte in its layout (core fields, then the evidence keys in
//! order), each line chained to the one before by its SHA-256.
//!
//! The incident is a credential-stuffing account takeover answered with the playbook: opened
//! from a Castle webhook, the identity locked, its password disabled, a recovery code issued,
//! the audit queried, the other identities hit from the attacker's IPs found by a pattern scan
//! and revoked in bulk (a session snapshot, a `started` mark and the result per identity, eight
//! at a time as `revoke --stdin` interleaves them), operators' notes along the way, the root
//! cause and the close. The bulk revoke fills the journal up to N entries.
//!
//! ```text
//! cargo run --release --example gen_journal -- bench-data/journal-1000000.jsonl --entries 1000000
//! ```
//!
//! `--notes` fills the journal with operators' notes instead (no bulk revoke): every entry is
//! then a row of the report's timeline of its own, the report's worst case for memory.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use sha2::{Digest, Sha256};

const INCIDENT: &str = "ato-20261125-011502-3fa9c1";
const IDENTITY: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";
const ATTACKER_IP: &str = "198.51.100.23";
const UA_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const UA_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const UA_FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const PLACES: [&str; 6] = [
    "Lagos, NG",
    "Sydney, AU",
    "Berlin, DE",
    "São Paulo, BR",
    "Toronto, CA",
    "Mumbai, IN",
];
/// A pattern-scan lists at most this many identities in the journal (as atoctl does).
const SCAN_CAP: u64 = 10_000;
/// `revoke --stdin --concurrency 8`: eight identities' entries interleave.
const CONCURRENCY: u64 = 8;

struct Writer<W: Write> {
    out: W,
    seq: u64,
    prev: String,
    /// Microseconds since `start`.
    clock: u64,
    start: jiff::Timestamp,
    line: String,
    limit: u64,
}

impl<W: Write> Writer<W> {
    fn full(&self) -> bool {
        self.seq >= self.limit
    }

    /// Writes one entry; `evidence` is the JSON object's remaining members, keys in order,
    /// without braces (empty for none).
    fn entry(
        &mut self,
        operator: &str,
        step: &str,
        identity: Option<&str>,
        outcome: &str,
        evidence: &str,
    ) -> std::io::Result<()> {
        if self.full() {
            return Ok(());
        }
        self.clock += 1_000 + (self.seq * 7919) % 40_000;
        let ts = self
            .start
            .checked_add(jiff::SignedDuration::from_secs(
                (self.clock / 1_000_000) as i64,
            ))
            .unwrap_or(self.start)
            .strftime("%Y-%m-%dT%H:%M:%S")
            .to_string();
        self.line.clear();
        let _ = write!(
            self.line,
            "{{\"seq\":{},\"ts\":\"{ts}.{:06}Z\",\"incident\":\"{INCIDENT}\",\"operator\":\"{operator}\",\"step\":\"{step}\",\"identity\":{},\"outcome\":\"{outcome}\",\"prev\":\"{}\"",
            self.seq,
            self.clock % 1_000_000,
            match identity {
                Some(i) => format!("\"{i}\""),
                None => "null".into(),
            },
            self.prev
        );
        if !evidence.is_empty() {
            self.line.push(',');
            self.line.push_str(evidence);
        }
        self.line.push('}');
        self.prev = hex::encode(Sha256::digest(self.line.as_bytes()));
        self.out.write_all(self.line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.seq += 1;
        Ok(())
    }
}

/// A UUID (v4 layout) from a number, the same every run.
fn uuid(n: u64) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

fn ip(n: u64) -> String {
    format!("203.0.{}.{}", (n / 250) % 250, n % 250 + 1)
}

/// The evidence of a session snapshot (`sessions`, purpose `before …`) with `k` sessions.
fn snapshot(n: u64, k: u64, purpose: &str) -> String {
    let mut sessions = String::new();
    for j in 0..k {
        let ua = [UA_CHROME, UA_SAFARI, UA_FIREFOX][((n + j) % 3) as usize];
        let place = PLACES[((n * 7 + j) % PLACES.len() as u64) as usize];
        if j > 0 {
            sessions.push(',');
        }
        let _ = write!(
            sessions,
            "{{\"aal\":\"aal1\",\"active\":true,\"authenticated_at\":\"2026-11-24T21:03:40.{j:06}Z\",\"authentication_methods\":[{{\"aal\":\"aal1\",\"completed_at\":\"2026-11-24T21:03:40.{j:06}Z\",\"method\":\"password\"}}],\"devices\":[{{\"id\":\"{}\",\"ip_address\":\"{}\",\"location\":\"{place}\",\"user_agent\":\"{ua}\"}}],\"expires_at\":\"2026-11-25T21:03:40.{j:06}Z\",\"id\":\"{}\",\"issued_at\":\"2026-11-24T21:03:40.{j:06}Z\"}}",
            uuid(n * 1000 + 500 + j),
            if j == 0 {
                ATTACKER_IP.to_string()
            } else {
                ip(n + j)
            },
            uuid(n * 1000 + 100 + j),
        );
    }
    format!(
        "\"complete\":true,\"purpose\":\"{purpose}\",\"sessions\":[{sessions}],\"summary\":\"{k} session{} recorded {purpose}\",\"total\":{k}",
        if k == 1 { "" } else { "s" }
    )
}

fn session_ids(n: u64, k: u64) -> String {
    (0..k)
        .map(|j| format!("\"{}\"", uuid(n * 1000 + 100 + j)))
        .collect::<Vec<_>>()
        .join(",")
}

fn generate(out: impl Write, entries: u64, notes: bool) -> std::io::Result<u64> {
    let mut w = Writer {
        out,
        seq: 0,
        prev: "0".repeat(64),
        clock: 0,
        start: jiff::Timestamp::constant(1_795_569_302, 0),
        line: String::with_capacity(4096),
        limit: entries,
    };
    let id = IDENTITY;
    let path = format!("/admin/identities/{id}");
    // Everything but the bulk revoke and the last three entries; the others' count fills N.
    let head = 18;
    let tail = 3;
    let others = if notes {
        0
    } else {
        entries.saturating_sub(head + tail) / 3
    };
    let listed = others.min(SCAN_CAP);
    w.entry("alice", "incident.open", Some(id), "ok", "\"atoctl_version\":\"0.1.0\",\"opened_by\":\"respond\",\"reported_at\":\"2026-11-25T01:10:00Z\",\"summary\":\"Castle confirmed an account takeover: login from Lagos\"")?;
    w.entry("alice", "castle.webhook", Some(id), "ok", &format!("\"castle_incident_id\":\"ci_01HZX4K7D2V9M3Q8\",\"created_at\":\"2026-11-25T00:58:12Z\",\"device\":{{\"browser\":\"Chrome\",\"os\":\"Windows\"}},\"ip\":\"{ATTACKER_IP}\",\"isp\":{{\"isp_name\":\"Example Telecom\",\"isp_organization\":\"Example Telecom Nigeria Ltd\"}},\"location\":{{\"city\":\"Lagos\",\"country_code\":\"NG\",\"lat\":6.4541,\"lon\":3.3947,\"region\":\"Lagos\"}},\"policy\":{{\"action\":\"deny\",\"name\":\"Account takeover\"}},\"signature_verified\":true,\"summary\":\"Castle confirmed an account takeover: $login.succeeded from {ATTACKER_IP} (Lagos, NG)\",\"trigger\":\"$login.succeeded\",\"user_agent\":\"{UA_CHROME}\"")
    )?;
    w.entry(
        "alice",
        "sessions",
        Some(id),
        "ok",
        &snapshot(0, 2, "before lock"),
    )?;
    w.entry("alice", "lock", Some(id), "started", &format!("\"plan\":[\"PATCH {path}\",\"DELETE {path}/sessions\"],\"state_before\":\"active\",\"summary\":\"lock began: 2 call(s) planned\""))?;
    w.entry("alice", "lock", Some(id), "ok", &format!("\"done\":[\"PATCH {path}\",\"DELETE {path}/sessions\"],\"evidence_complete\":true,\"session_ids\":[{}],\"sessions_deleted\":2,\"sessions_ended\":2,\"state_after\":\"inactive\",\"state_before\":\"active\",\"summary\":\"state active → inactive; ended 2 sessions\",\"verified\":true", session_ids(0, 2)))?;
    w.entry(
        "alice",
        "revoke",
        Some(id),
        "skipped",
        "\"summary\":\"nothing to do: no session left\"",
    )?;
    w.entry("alice", "disable-password", Some(id), "started", &format!("\"password_state_before\":\"hash\",\"plan\":[\"GET {path}\",\"PUT {path}\"],\"summary\":\"disable-password began: 2 call(s) planned\""))?;
    w.entry("alice", "disable-password", Some(id), "ok", &format!("\"changed\":[],\"credential_types\":[\"password\"],\"done\":[\"GET {path}\",\"PUT {path}\"],\"password_state_after\":\"hash\",\"password_state_before\":\"hash\",\"summary\":\"password replaced by a random secret; nothing else changed\",\"unchanged\":[\"schema_id\",\"state\",\"traits\",\"metadata_public\",\"metadata_admin\",\"external_id\",\"other credentials\",\"addresses\"],\"verified\":true"))?;
    w.entry("bob", "manual", Some(id), "ok", "\"answers\":[],\"done\":true,\"playbook_step\":\"notify-locked\",\"summary\":\"done\",\"title\":\"Tell the owner the account is locked, through a second channel\"")?;
    w.entry("bob", "unlock", Some(id), "started", &format!("\"plan\":[\"PATCH {path}\"],\"state_before\":\"inactive\",\"summary\":\"unlock began: 1 call(s) planned\""))?;
    w.entry("bob", "unlock", Some(id), "ok", &format!("\"active_sessions_after\":[],\"done\":[\"PATCH {path}\"],\"revived_sessions_ended_first\":0,\"session_ids\":[],\"sessions_deleted\":0,\"state_after\":\"active\",\"state_before\":\"inactive\",\"summary\":\"state inactive → active; no session came back\",\"verified\":true"))?;
    w.entry("bob", "recover", Some(id), "started", "\"expires_in\":\"1h\",\"method\":\"code\",\"plan\":[\"POST /admin/recovery/code\"],\"summary\":\"recover began: 1 call(s) planned\"")?;
    w.entry("bob", "recover", Some(id), "ok", "\"done\":[\"POST /admin/recovery/code\"],\"earlier_codes_remain_valid\":true,\"email_sent_by_kratos\":false,\"expires_at\":\"2026-11-25T02:25:51.000000Z\",\"expires_in\":\"1h\",\"method\":\"code\",\"summary\":\"recovery code issued, expires 2026-11-25T02:25:51.000000Z; handed over out of band; earlier codes stay valid until they expire\",\"verified\":true")?;
    w.entry("alice", "respond", Some(id), "ok", "\"phase\":\"immediate\",\"playbook\":\"account-takeover.toml (bundled)\",\"summary\":\"immediate phase: 5 steps done, 2 not applicable\"")?;
    let mut flagged = String::new();
    for k in 0..40u64 {
        if k > 0 {
            flagged.push(',');
        }
        let _ = write!(
            flagged,
            "{{\"flags\":[\"new-ip\"],\"id\":{},\"ip\":\"{}\",\"place\":\"Lagos, NG\",\"time\":\"2026-11-25T00:{:02}:12.000000Z\",\"travel\":null,\"type\":\"login.succeeded\",\"user_agent\":\"{UA_CHROME}\"}}",
            9000 + k,
            if k == 0 {
                ATTACKER_IP.to_string()
            } else {
                ip(k)
            },
            k % 60
        );
    }
    w.entry("alice", "audit-query", Some(id), "ok", &format!("\"counts\":{{\"events\":412,\"flagged\":40,\"flags\":{{\"new-ip\":40}},\"types\":{{\"login.succeeded\":400}}}},\"database\":\"postgres://audit@db.internal/audit\",\"events_filter\":null,\"flagged\":[{flagged}],\"flagged_truncated\":false,\"max_speed_kmh\":900,\"new_ips\":[\"{ATTACKER_IP}\"],\"output_complete\":true,\"travel_truncated\":false,\"window\":{{\"baseline_from\":\"2026-10-19T01:40:12Z\",\"from\":\"2026-11-18T01:40:12Z\",\"to\":\"2026-11-25T01:40:12Z\"}}"))?;
    w.entry("alice", "hibp-check", Some(id), "ok", "\"count\":12345,\"source\":\"api\",\"summary\":\"password found in the Pwned Passwords corpus (12345 times, api)\",\"verdict\":\"pwned\"")?;
    let ids: Vec<String> = (1..=listed).map(|n| format!("\"{}\"", uuid(n))).collect();
    w.entry("alice", "pattern-scan", Some(id), "ok", &format!("\"by\":\"ip\",\"counts\":{{\"identities\":{others},\"identities_with_successful_login\":{},\"ignored_user_agents\":0,\"stuffing_ips\":0,\"suspicious_ips\":1,\"user_agents\":0}},\"database\":\"postgres://audit@db.internal/audit\",\"given_ips\":[],\"identities\":[{}],\"identities_truncated\":{},\"ignored_user_agents\":[],\"ip_stats\":[],\"ips\":[{{\"ip\":\"{ATTACKER_IP}\",\"why\":[\"new-ip\"]}}],\"stuffing\":false,\"user_agents\":[],\"window\":{{\"baseline_from\":\"2026-10-19T01:42:10Z\",\"from\":\"2026-11-18T01:42:10Z\",\"to\":\"2026-11-25T01:42:10Z\"}}", others / 3, ids.join(","), others > listed))?;
    drop(ids);
    w.entry(
        "bob",
        "note",
        None,
        "ok",
        "\"text\":\"credential stuffing from one /24; revoking every identity it reached\"",
    )?;
    // The bulk revoke, CONCURRENCY identities at a time.
    let mut n = 1;
    while n <= others {
        let batch: Vec<u64> = (n..=(n + CONCURRENCY - 1).min(others)).collect();
        for &o in &batch {
            let k = 1 + o % 3;
            let other = uuid(o);
            w.entry(
                "alice",
                "sessions",
                Some(&other),
                "ok",
                &snapshot(o, k, "before revoke"),
            )?;
            w.entry("alice", "revoke", Some(&other), "started", &format!("\"plan\":[\"DELETE /admin/identities/{other}/sessions\"],\"summary\":\"revoke began: 1 call(s) planned\""))?;
        }
        for &o in &batch {
            let k = 1 + o % 3;
            let other = uuid(o);
            w.entry("alice", "revoke", Some(&other), "ok", &format!("\"delete_answer\":\"204 deleted\",\"done\":[\"DELETE /admin/identities/{other}/sessions\"],\"evidence_complete\":true,\"session_ids\":[{}],\"sessions_deleted\":{k},\"sessions_ended\":{k},\"summary\":\"ended {k} session{}; none active afterwards\",\"verified\":true", session_ids(o, k), if k == 1 { "" } else { "s" }))?;
        }
        n += CONCURRENCY;
    }
    if others > 0 {
        w.entry("alice", "revoke", None, "ok", &format!("\"bulk\":{{\"failed\":0,\"identities\":{others},\"not_found\":0,\"ok\":{others},\"sessions_ended\":{},\"skipped\":0}},\"seconds\":412.5,\"summary\":\"bulk revoke of {others} identities: {others} ok, 0 skipped, 0 not found, 0 failed\"", others * 2))?;
    }
    // Notes fill what the bulk revoke left (N not a multiple of three).
    w.limit = entries.saturating_sub(2).max(w.seq.min(entries));
    while !w.full() {
        w.entry(
            "bob",
            "note",
            None,
            "ok",
            "\"text\":\"checked the block list on the edge\"",
        )?;
    }
    w.limit = entries;
    w.entry("bob", "note", None, "ok", "\"root_cause\":\"credential-stuffing\",\"text\":\"password reused from a 2019 breach of another site\"")?;
    w.entry("bob", "incident.close", None, "ok", "\"resolution\":\"contained; every identity reached was revoked\",\"summary\":\"incident closed: contained; every identity reached was revoked\"")?;
    w.out.flush()?;
    Ok(w.seq)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut entries: u64 = 1_000_000;
    let mut notes = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--entries" => match args.next().map(|v| v.replace('_', "").parse()) {
                Some(Ok(n)) if n >= 21 => entries = n,
                _ => {
                    eprintln!("gen_journal: --entries needs a number of at least 21");
                    return ExitCode::from(2);
                }
            },
            "--notes" => notes = true,
            "-h" | "--help" => {
                eprintln!("usage: gen_journal OUT [--entries N] [--notes]");
                return ExitCode::SUCCESS;
            }
            _ if out.is_none() && !a.starts_with('-') => out = Some(a),
            _ => {
                eprintln!("gen_journal: unknown argument {a:?}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("usage: gen_journal OUT [--entries N] [--notes]");
        return ExitCode::from(2);
    };
    let written = File::create(&out)
        .and_then(|f| generate(BufWriter::with_capacity(1 << 20, f), entries, notes));
    match written {
        Ok(n) => {
            eprintln!("gen_journal: {n} entries written to {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_journal: cannot write {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
