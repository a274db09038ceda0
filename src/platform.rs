//! What a statically linked build must set up before it looks a name up.
//!
//! `cargo build-static` links glibc into the executable. glibc answers host-name lookups
//! (`getaddrinfo`, used by reqwest's and tokio-postgres's resolvers) and user-name lookups
//! (`getpwuid_r`, used for the audit database's default user) through the services that
//! `/etc/nsswitch.conf` names: `files` and `dns` are built into glibc, but any other service
//! (`myhostname`, `resolve`, `systemd`, `sss`, `ldap`, `mdns4_minimal`, ...) is a shared library
//! that a static executable can only load together with a second copy of the C library, which
//! must be exactly the glibc it was built with. glibc does not promise that this works, and it
//! does not: a static atoctl run by a user that is not in /etc/passwd, with `passwd: files
//! systemd`, loaded libnss_systemd.so.2 and died of SIGSEGV, on the machine it was built on.
//! So the static build pins host lookups to `files dns` (`/etc/hosts`, then the servers in
//! `/etc/resolv.conf`), and user and service lookups to `files`, and never loads a service
//! library. A dynamically linked build follows nsswitch.conf as every other program does.

/// glibc's built-in services for each database atoctl's code looks names up in (`services`
/// only for a port given by name, which the URL parsers never pass; pinned all the same).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const BUILT_IN_SERVICES: [(&std::ffi::CStr, &std::ffi::CStr); 3] = [
    (c"hosts", c"files dns"),
    (c"passwd", c"files"),
    (c"services", c"files"),
];

/// Pins name lookups to glibc's built-in services in a static build; nothing otherwise.
/// Call it before the first lookup and before any thread exists; a command that looks no name
/// up (an offline lookup, `incident`) does not call it: glibc reads nsswitch.conf to do it.
/// Runs once per process: a later call (the operator's name looked up when the first journal
/// entry needs it) does nothing, so it never reconfigures glibc while other threads may look
/// names up.
pub fn prepare_name_lookups() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
        pin_name_lookups();
    });
}

/// Compiled for every glibc build (so that every build's lints see it), called by the static
/// build only.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[cfg_attr(not(target_feature = "crt-static"), allow(dead_code))]
fn pin_name_lookups() {
    use std::ffi::{c_char, c_int};
    unsafe extern "C" {
        /// glibc, `<nss.h>`: replaces the service list of one NSS database for this process.
        fn __nss_configure_lookup(dbname: *const c_char, service_line: *const c_char) -> c_int;
    }
    for (database, services) in BUILT_IN_SERVICES {
        // SAFETY: both arguments are NUL-terminated strings that live for the whole program,
        // and it runs before any thread exists that could be looking a name up.
        // It fails only for an unknown database or when out of memory; then lookups follow
        // nsswitch.conf as before, which is no worse than not calling it.
        let _ = unsafe { __nss_configure_lookup(database.as_ptr(), services.as_ptr()) };
    }
}

/// Makes the process non-dumpable, first thing: a crash (a panic that aborts, SIGABRT, SIGSEGV)
/// writes no core file, and no other process of the same user can attach to it or read its
/// memory through /proc. Its memory holds the admin token for the whole run, and for moments a
/// password, its full SHA-1 or a reversal key; a core dump would keep them on disk. Linux only;
/// a failure is ignored (the run is not worth refusing over it).
pub fn no_core_dumps() {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

#[cfg(all(test, target_os = "linux"))]
mod dump_tests {
    #[test]
    fn the_process_is_not_dumpable_after_the_call() {
        super::no_core_dumps();
        assert_eq!(
            rustix::process::dumpable_behavior().ok(),
            Some(rustix::process::DumpableBehavior::NotDumpable)
        );
    }
}
