//! Test doubles for atoctl, shared by its tests, its benchmarks and (later) `atoctl drill`:
//! - [`kratos`]: a strict Kratos (current and 1.3.x) and Hydra admin API double with failure
//!   injection;
//! - [`hibp`]: a Pwned Passwords range API double;
//! - [`atoctl_bin`]: which atoctl executable the integration tests run.

mod common;
pub mod hibp;
pub mod kratos;

/// The atoctl executable the integration tests run: the file named by `ATOCTL_TEST_BIN` when
/// it is set (CI runs the suite a second time against the static release build, the file
/// that ships), else the one cargo built for this test run.
pub fn atoctl_bin() -> std::path::PathBuf {
    match std::env::var_os("ATOCTL_TEST_BIN") {
        Some(path) if !path.is_empty() => path.into(),
        _ => assert_cmd::cargo::cargo_bin("atoctl"),
    }
}
