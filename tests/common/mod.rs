//! Shared set-up for the end-to-end tests: a Kratos double, a scratch directory, and the
//! atoctl binary with a clean environment pointed at both.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

pub use atoctl_testkit::kratos::{
    Config, ConsentRow, Fault, FaultKind, Flavour, Hold, IdentitySeed, KratosDouble,
    LOOKUP_SECRET_CODES, LoginResult, RateBudget, SessionSeed,
};
use serde_json::Value;

pub const FLAVOURS: [Flavour; 2] = [Flavour::Current, Flavour::V1_3];

pub struct Env {
    pub dir: tempfile::TempDir,
    pub kratos: KratosDouble,
    pub journal: PathBuf,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }

    /// Everything printed.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The error line on stderr: exactly one line starting with `atoctl: error:`.
    pub fn error_line(&self) -> String {
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("atoctl: error:"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "expected one error line, got: {}",
            self.stderr
        );
        errors[0].to_string()
    }
}

impl Env {
    pub fn new(flavour: Flavour) -> Env {
        Self::with_config(Config {
            flavour,
            ..Config::default()
        })
    }

    pub fn with_config(config: Config) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = dir.path().join("incident.jsonl");
        Env {
            kratos: KratosDouble::start(config),
            dir,
            journal,
        }
    }

    /// atoctl with only what the test gives it: the double's URL, the journal, a fixed
    /// operator, short retries; no terminal (stdin is empty unless the test writes to it).
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = atoctl_testkit::atoctl();
        c.current_dir(self.dir.path())
            .env("KRATOS_ADMIN_URL", self.kratos.url())
            .env("ATOCTL_INCIDENT", &self.journal);
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.cmd().args(args))
    }

    /// Runs atoctl with `args` until its request held by `hold` arrives, does `meanwhile` (what
    /// another operator or an attacker does at that moment), releases the request and returns
    /// the run and what `meanwhile` returned.
    pub fn run_racing<T>(
        &self,
        args: &[&str],
        hold: &Hold,
        meanwhile: impl FnOnce() -> T,
    ) -> (Run, T) {
        let mut step = self.cmd();
        step.args(args);
        let running = std::thread::spawn(move || run(&mut step));
        hold.wait_arrived();
        let done = meanwhile();
        hold.release();
        (running.join().expect("the atoctl run"), done)
    }

    /// A run with this double as the Hydra admin API too.
    pub fn run_with_hydra(&self, args: &[&str]) -> Run {
        run(self
            .cmd()
            .env("HYDRA_ADMIN_URL", self.kratos.url())
            .args(args))
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run(self.cmd().args(args).write_stdin(stdin.to_string()))
    }

    pub fn journal_text(&self) -> String {
        std::fs::read_to_string(&self.journal).unwrap_or_default()
    }

    pub fn records(&self) -> Vec<Value> {
        self.journal_text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("journal line is JSON"))
            .collect()
    }

    pub fn steps(&self) -> Vec<(String, String)> {
        self.records()
            .iter()
            .map(|r| {
                (
                    r["step"].as_str().unwrap_or_default().to_string(),
                    r["outcome"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Requests other than GET: what changed something.
    pub fn writes(&self) -> Vec<String> {
        self.kratos
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    pub fn verify(&self) -> Run {
        self.run(&["incident", "verify"])
    }
}

pub fn run(cmd: &mut assert_cmd::Command) -> Run {
    let out = cmd.output().expect("run atoctl");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An identity with a password and `n` sessions from distinct devices.
pub fn victim(env: &Env, email: &str, n: usize) -> String {
    let id = env.kratos.add_identity(
        IdentitySeed::new(email)
            .password("correct horse battery staple")
            .metadata_public(serde_json::json!({"plan": "pro"}))
            .metadata_admin(serde_json::json!({"risk": "high", "notes": ["x"]}))
            .external_id(&format!("ext-{email}")),
    );
    for i in 0..n {
        env.kratos.add_session(
            &id,
            SessionSeed::new().device(
                &format!("198.51.100.{}", i + 1),
                &format!("Mozilla/5.0 attacker-device-{i}"),
                "Lagos, NG",
            ),
        );
    }
    id
}

/// Asserts that `secret` appears nowhere in what a run printed nor in the journal.
pub fn assert_nowhere(env: &Env, run: &Run, secret: &str, what: &str) {
    assert!(!secret.is_empty());
    assert!(!run.stdout.contains(secret), "{what} leaked to stdout");
    assert!(!run.stderr.contains(secret), "{what} leaked to stderr");
    assert!(
        !env.journal_text().contains(secret),
        "{what} leaked to the journal"
    );
}
