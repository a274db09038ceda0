//! Parse, run, map errors to the contract's exit codes: nothing else.

fn main() {
    // Before anything holds a secret: no core dump, no ptrace by the same user.
    atoctl::platform::no_core_dumps();
    let cli = atoctl::cli::Cli::parse_args();
    let code = match atoctl::run(cli) {
        Ok(exit) => exit.code(),
        Err(e) => {
            atoctl::output::error(&e);
            e.exit.code()
        }
    };
    std::process::exit(code);
}
