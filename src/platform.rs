//! What a statically linked build must set up before it looks a host name up.
//!
//! `cargo build-static` links glibc into the executable. glibc's host-name lookups
//! (`getaddrinfo`, used by reqwest's and tokio-postgres's resolvers) follow the `hosts:` line
//! of `/etc/nsswitch.conf`: `files` and `dns` are built into glibc, but any other service named
//! there (`myhostname`, `resolve`, `mdns4_minimal`, `ldap`, ...) is a shared library that a
//! static executable can only load together with a second copy of the C library, which must
//! be exactly the glibc it was built with; glibc does not promise that this works, and on
//! another distribution it may fail in the middle of connecting to the admin API. So the
//! static build pins host lookups to `files dns` (`/etc/hosts`, then the servers in
//! `/etc/resolv.conf`), as Go's resolver does, and never loads a service library. A
//! dynamically linked build follows nsswitch.conf as every other program on the machine does.

/// Pins host-name lookups to glibc's built-in services in a static build; nothing otherwise.
/// Call it before the first lookup and before any thread exists; a command that looks no name
/// up (an offline lookup, `incident`) does not call it: glibc reads nsswitch.conf to do it.
pub fn prepare_name_lookups() {
    #[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
    pin_host_lookups();
}

#[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
fn pin_host_lookups() {
    use std::ffi::{c_char, c_int};
    unsafe extern "C" {
        /// glibc, `<nss.h>`: replaces the service list of one NSS database for this process.
        fn __nss_configure_lookup(dbname: *const c_char, service_line: *const c_char) -> c_int;
    }
    // SAFETY: both arguments are NUL-terminated strings that live for the whole program, and
    // it runs before any thread exists that could be looking a name up.
    // It fails only for an unknown database or when out of memory; then lookups follow
    // nsswitch.conf as before, which is no worse than not calling it.
    let _ = unsafe { __nss_configure_lookup(c"hosts".as_ptr(), c"files dns".as_ptr()) };
}
