//! Test doubles for atoctl, shared by its tests, its benchmarks and `atoctl drill` (atoctl's
//! `sandbox` module starts them from the atoctl binary itself):
//! - [`kratos`]: a strict Kratos (current and 1.3.x) and Hydra admin API double with failure
//!   injection;
//! - [`hibp`]: a Pwned Passwords range API double;
//! - [`atoctl`] and [`atoctl_bin`] (feature `cli-tests`, on by default): the atoctl executable
//!   the integration tests run. atoctl's own dependency turns the feature off.

mod common;
pub mod hibp;
pub mod kratos;

/// The atoctl command every integration test starts from: the executable under test, with none
/// of this machine's atoctl, Kratos, Hydra, Castle, database or proxy settings (whatever the
/// developer has exported), a fixed operator, short retry waits, no colour, and a two-minute
/// limit so that a hang fails instead of blocking CI. Tests add what they are about.
#[cfg(feature = "cli-tests")]
pub fn atoctl() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::from_std(atoctl_process());
    c.timeout(std::time::Duration::from_secs(120));
    c
}

/// [`atoctl`] as a plain process, for a test that must hold the child (kill it, read its
/// stderr while it runs); without the time limit.
#[cfg(feature = "cli-tests")]
pub fn atoctl_process() -> std::process::Command {
    let mut c = std::process::Command::new(atoctl_bin());
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        let upper = name.to_ascii_uppercase();
        if ["ATOCTL_", "KRATOS_", "HYDRA_", "CASTLE_"]
            .iter()
            .any(|p| upper.starts_with(p))
            || [
                "DATABASE_URL",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "NO_PROXY",
            ]
            .contains(&upper.as_str())
        {
            c.env_remove(&k);
        }
    }
    c.env("ATOCTL_OPERATOR", "oncall-test")
        .env("ATOCTL_RETRY_BASE_MS", "1")
        .env("NO_COLOR", "1");
    c
}

/// The atoctl executable the integration tests run: the file named by `ATOCTL_TEST_BIN` when
/// it is set (CI runs the suite a second time against the static release build, the file
/// that ships), else the one cargo built for this test run.
#[cfg(feature = "cli-tests")]
pub fn atoctl_bin() -> std::path::PathBuf {
    match std::env::var_os("ATOCTL_TEST_BIN") {
        Some(path) if !path.is_empty() => path.into(),
        _ => assert_cmd::cargo::cargo_bin("atoctl"),
    }
}
