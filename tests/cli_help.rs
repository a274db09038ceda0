//! What a newcomer reads: help with the step's own options apart from the global ones, usage
//! lines that do not grow with the environment, and a man page per subcommand.

mod common;

use common::*;

#[test]
fn a_steps_own_options_stand_apart_from_the_global_ones() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&["lock", "-h"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (own, global) = r
        .stdout
        .split_once("Global options:")
        .expect("a Global options heading");
    assert!(own.contains("--identity"), "{own}");
    for g in ["--kratos-admin-url", "--incident", "--dry-run", "--yes"] {
        assert!(!own.contains(g), "{g} among lock's own options: {own}");
        assert!(global.contains(g), "{g}");
    }
}

#[test]
fn the_usage_line_does_not_list_options_that_came_from_the_environment() {
    let env = Env::new(Flavour::Current);
    // ATOCTL_INCIDENT and KRATOS_ADMIN_URL are set by the test environment.
    let r = env.run(&["lock"]);
    assert_eq!(r.code, 2, "{r:?}");
    let usage = r
        .stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap()
        .to_string();
    assert_eq!(
        usage,
        "Usage: atoctl lock [OPTIONS] --identity <UUID|IDENTIFIER>"
    );
}

#[test]
fn id_is_taken_for_identity_not_suggested_as_incident() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let r = env.run(&["sessions", "--id", &id]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("--incident"), "{}", r.stderr);
}

#[test]
fn man_writes_a_page_per_subcommand_with_its_options() {
    let env = Env::new(Flavour::Current);
    let dir = env.dir.path().join("man1");
    let r = env.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let page = std::fs::read_to_string(dir.join("atoctl-recover.1")).unwrap();
    for opt in ["expires\\-in", "method", "identity"] {
        assert!(page.contains(opt), "{opt} missing from atoctl-recover.1");
    }
    for sub in [
        "atoctl.1",
        "atoctl-revoke.1",
        "atoctl-incident-open.1",
        "atoctl-identity.1",
    ] {
        assert!(dir.join(sub).exists(), "{sub}");
    }
    let one = env.run(&["man", "recover"]);
    assert_eq!(one.code, 0, "{one:?}");
    assert!(one.stdout.contains("expires\\-in"));
}

#[test]
fn counts_read_as_english() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let r = env.run_stdin(&["revoke", "--stdin", "--yes"], &id);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("summary: 1 identity in"), "{}", r.stdout);
    assert!(r.stdout.contains("(1 session ended)"), "{}", r.stdout);
    assert!(!r.all().contains("(s)"), "{}", r.all());
}

/// Broken, `--help` would print the admin URLs' `user:password@` from the environment (and
/// so put it into a terminal's scrollback or a CI log).
#[test]
fn help_never_shows_the_environments_urls() {
    for args in [
        vec!["--help"],
        vec!["revoke", "--help"],
        vec!["restore", "-h"],
    ] {
        let r = run(atoctl_testkit::atoctl()
            .env("KRATOS_ADMIN_URL", "https://u:s3cret-k@kratos.example")
            .env("HYDRA_ADMIN_URL", "https://u:s3cret-h@hydra.example")
            .env("ATOCTL_WRITE_DATABASE_URL", "postgres://u:s3cret-w@db/x")
            .args(&args));
        assert_eq!(r.code, 0, "{r:?}");
        for secret in ["s3cret-k", "s3cret-h", "s3cret-w", "kratos.example"] {
            assert!(
                !r.all().contains(secret),
                "{secret} in {args:?}: {}",
                r.stdout
            );
        }
    }
}
