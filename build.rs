//! Links the `atoctl` executable at a fixed address (not position-independent).
//!
//! Every atoctl step is a short process, and on small VMs its start-up is dominated by page
//! faults: a position-independent executable has ~9,000 relative relocations that the dynamic
//! loader writes into `.data.rel.ro` and the GOT at every start, dirtying ~40 pages. Linked at
//! a fixed address, those pointers are final in the file and nothing is written. The objects
//! are still compiled position-independent (only the final link changes), shared libraries,
//! the stack, the heap and memory maps stay randomised; only the executable's own address is
//! fixed. `ATOCTL_PIE=1` at build time keeps the default position-independent link.
//!
//! A static build (`cargo build-static`, `.cargo/config.toml`) is left as rustc links it: a
//! static position-independent executable, which relocates itself and keeps ASLR, and has no
//! dynamic loader to spare that work. `-no-pie` added to that link produces an executable that
//! crashes before `main`.
fn main() {
    println!("cargo:rerun-if-env-changed=ATOCTL_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|features| features.split(',').any(|f| f == "crt-static"));
    if linux && !crt_static && std::env::var_os("ATOCTL_PIE").is_none() {
        println!("cargo:rustc-link-arg-bin=atoctl=-no-pie");
    }
}
