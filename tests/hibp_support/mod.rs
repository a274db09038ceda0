//! Helpers shared by the hibp-check tests: running the binary with a clean environment, and
//! proving that a secret appears nowhere in what the process emitted.

#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;

pub use atoctl_testkit::hibp::{nt_hex, sha1_hex};

/// An identity id for journal tests.
pub const ID: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";

/// `atoctl` with no configuration from the environment, retries off (tests that need them turn
/// them on), and a generous kill timer so that a hang fails instead of blocking CI.
pub fn atoctl() -> Command {
    let mut c = atoctl_testkit::atoctl();
    c.env("ATOCTL_RETRIES", "0");
    c
}

/// The output of a run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("atoctl runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// The single JSON document on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }

    /// The JSON lines on stdout (`--sha1-file`), one value a line.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }
}

/// Every piece of a hash that must never be seen outside the process: the whole hash, its
/// suffix, and every run of eight hex digits that reaches past the five-digit prefix (in either
/// case; eight, so that a chance match in other hex, like a port, is out of the question). Only
/// the prefix may leave.
pub fn hash_fragments(hex: &str) -> Vec<String> {
    let hex = hex.to_ascii_uppercase();
    let mut v = vec![hex.clone(), hex[5..].to_string()];
    for i in 0..=hex.len() - 8 {
        v.push(hex[i..i + 8].to_string());
    }
    v
}

/// Asserts that `text` holds neither the password nor any fragment of its hash.
pub fn assert_no_secret(what: &str, text: &str, password: &str, hex: &str) {
    if !password.is_empty() {
        assert!(
            !text.contains(password),
            "{what} contains the password: {text}"
        );
    }
    let upper = text.to_ascii_uppercase();
    for f in hash_fragments(hex) {
        assert!(
            !upper.contains(&f),
            "{what} contains a piece of the hash beyond its prefix ({f}): {text}"
        );
    }
}

/// Asserts that the prefix is absent too (the journal must not have it either).
pub fn assert_no_prefix(what: &str, text: &str, hex: &str) {
    let prefix = hex[..5].to_ascii_uppercase();
    assert!(
        !text.to_ascii_uppercase().contains(&prefix),
        "{what} contains the hash prefix {prefix}: {text}"
    );
}

/// Opens a journal at `dir/j.jsonl` and returns its path.
pub fn open_journal(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("j.jsonl");
    let r = run(atoctl()
        .args(["incident", "open", "--identity", ID, "--incident"])
        .arg(&path));
    assert_eq!(r.code, 0, "incident open: {}", r.stderr);
    path
}

/// The journal's entries without the fields that are hex by nature (`prev`, `incident`, `ts`),
/// as text: what a secret could hide in.
pub fn journal_evidence(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read the journal");
    text.lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("a JSON journal line");
            if let Some(o) = v.as_object_mut() {
                for k in ["prev", "incident", "ts"] {
                    o.remove(k);
                }
            }
            v.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The journal's last entry.
pub fn last_entry(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read the journal");
    let last = text.lines().last().expect("a journal line");
    serde_json::from_str(last).expect("a JSON journal line")
}

/// `atoctl incident verify` passes.
pub fn assert_journal_intact(path: &Path) {
    let r = run(atoctl()
        .args(["incident", "verify", "--incident"])
        .arg(path));
    assert_eq!(r.code, 0, "incident verify: {} {}", r.stdout, r.stderr);
}
