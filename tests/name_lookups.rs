//! Name lookups: the audit database's default user, and the static build's pinned services.
//!
//! The static release build (`cargo build-static`) must never load an NSS service library
//! (src/platform.rs). CI runs the integration tests a second time against it
//! (`ATOCTL_TEST_BIN`); there, as root, these tests put an nsswitch.conf naming only services
//! that do not exist over /etc/nsswitch.conf in a private mount namespace (`unshare`): a build
//! that follows nsswitch.conf then finds no host and no user at all, the pinned build finds
//! them in /etc/hosts and /etc/passwd. Where that cannot be arranged (a dynamic build, not
//! root, no `unshare`, no `readelf` to tell), they say so on stderr and check nothing more.

mod audit_support;
mod common;

use std::path::Path;
use std::process::Command;

const ID: &str = "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07";

/// Whether the executable at `path` asks for no program interpreter (a static executable):
/// the check .ci/run makes, with binutils' readelf. False when readelf cannot tell.
fn is_static_executable(path: &Path) -> bool {
    Command::new("readelf")
        .arg("-l")
        .arg(path)
        .output()
        .is_ok_and(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("INTERP"))
}

/// The atoctl under test with `args`, run inside a private mount namespace whose
/// /etc/nsswitch.conf names only services that do not exist; None when that cannot be arranged.
fn with_unknown_services(env: &[(&str, &str)], args: &[&str]) -> Option<std::process::Output> {
    let bin = atoctl_testkit::atoctl_bin();
    if !is_static_executable(&bin) {
        eprintln!("skipped: {} is not the static build", bin.display());
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let conf = dir.path().join("nsswitch.conf");
    std::fs::write(
        &conf,
        "hosts: atoctltestnone\npasswd: atoctltestnone\nservices: atoctltestnone\n",
    )
    .ok()?;
    let mut c = Command::new("unshare");
    c.current_dir(dir.path())
        .args(["--mount", "sh", "-c"])
        .arg(r#"mount --bind "$1" /etc/nsswitch.conf || exit 97; shift; exec "$@""#)
        .arg("sh")
        .arg(&conf)
        .arg(&bin)
        .args(args)
        .env("NO_COLOR", "1")
        .env("ATOCTL_OPERATOR", "oncall-test")
        .env("ATOCTL_RETRIES", "0");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = match c.output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run unshare: {e}");
            return None;
        }
    };
    if out.status.code() == Some(97) || String::from_utf8_lossy(&out.stderr).contains("unshare:") {
        eprintln!(
            "skipped: no private mount namespace here (root needed): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(out)
}

#[test]
fn the_static_build_finds_hosts_in_etc_hosts_whatever_nsswitch_conf_says() {
    let env = common::Env::new(atoctl_testkit::kratos::Flavour::Current);
    let id = common::victim(&env, "alice@example.com", 1);
    let url = env.kratos.url().replace("127.0.0.1", "localhost");
    let journal = env.journal.display().to_string();
    let Some(out) = with_unknown_services(
        &[("KRATOS_ADMIN_URL", &url), ("ATOCTL_INCIDENT", &journal)],
        &["sessions", "--identity", &id],
    ) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("198.51.100.1"),
        "{:?} {stdout} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_static_build_finds_the_system_user_in_etc_passwd_whatever_nsswitch_conf_says() {
    let db = audit_support::TestDb::with_schema();
    // No user in the URL: atoctl asks the system for the user's name, as libpq does.
    let url = db.url().replacen("postgres://postgres@", "postgres://", 1);
    assert!(!url.contains('@'), "{url}");
    let Some(out) = with_unknown_services(
        &[("ATOCTL_DATABASE_URL", &url)],
        &["audit-query", "--identity", ID],
    ) else {
        return;
    };
    // Found in /etc/passwd, the name reaches the server (which may know no such role).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("names no user"), "{stderr}");
    assert!(
        out.status.success() || stderr.contains("refused the login"),
        "{:?} {stderr}",
        out.status
    );
}

/// A URL without a user, run as a user id the system has no name for (root is needed to
/// become one): a clear usage error naming the fix, from every build.
#[test]
fn a_database_url_without_a_user_needs_a_system_user_with_a_name() {
    let db = audit_support::TestDb::with_schema();
    let url = db.url().replacen("postgres://postgres@", "postgres://", 1);
    let bin = atoctl_testkit::atoctl_bin();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("setpriv")
        .current_dir(dir.path())
        .args(["--reuid", "54321", "--regid", "54321", "--clear-groups"])
        .arg(&bin)
        .args(["audit-query", "--identity", ID])
        .env("ATOCTL_DATABASE_URL", &url)
        .output();
    let out = match out {
        Ok(out) if !String::from_utf8_lossy(&out.stderr).contains("setpriv:") => out,
        Ok(out) => {
            eprintln!(
                "skipped: cannot change user here: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        Err(e) => {
            eprintln!("skipped: no setpriv: {e}");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("names no user"), "{stderr}");
    assert!(stderr.contains("postgres://USER@HOST"), "{stderr}");
}
