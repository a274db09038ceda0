//! The shell completions in `completions/` are generated from the CLI definition and must match
//! it; regenerate with `UPDATE_COMPLETIONS=1 cargo test --test completions`.

use std::path::PathBuf;

use clap_complete::Shell;

#[test]
fn completions_folder_matches_the_cli() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "atoctl.bash"),
        (Shell::Zsh, "_atoctl"),
        (Shell::Fish, "atoctl.fish"),
    ] {
        let mut cmd = atoctl::cli::Cli::tree();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "atoctl", &mut buf);
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &buf).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&buf[..]) {
            stale.push(file);
        }
        // Every subcommand of the contract is completed.
        let text = String::from_utf8(buf).unwrap();
        for sub in [
            "revoke",
            "disable-password",
            "lock",
            "unlock",
            "recover",
            "incident",
            "hibp-check",
        ] {
            assert!(text.contains(sub), "{file} lacks {sub}");
        }
    }
    assert!(
        stale.is_empty(),
        "stale completions {stale:?}: run UPDATE_COMPLETIONS=1 cargo test --test completions"
    );
}

#[test]
fn the_man_page_renders_and_names_every_global_option() {
    let mut buf = Vec::new();
    clap_mangen::Man::new(atoctl::cli::Cli::tree())
        .render(&mut buf)
        .unwrap();
    let man = String::from_utf8(buf).unwrap();
    for opt in [
        "kratos\\-admin\\-url",
        "kratos\\-token",
        "dry\\-run",
        "incident",
    ] {
        assert!(man.contains(opt), "man page lacks {opt}");
    }
}
