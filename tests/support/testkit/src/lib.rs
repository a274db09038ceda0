//! Test doubles for atoctl, shared by its tests, its benchmarks and (later) `atoctl drill`:
//! - [`kratos`]: a strict Kratos (current and 1.3.x) and Hydra admin API double with failure
//!   injection;
//! - [`hibp`]: a Pwned Passwords range API double.

mod common;
pub mod hibp;
pub mod kratos;
