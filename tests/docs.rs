//! The man pages in `man/` and the completions in `completions/` are generated from
//! the clap definitions in `src/bin/metron/cli.rs` and committed. This test fails when
//! they are stale; `METRON_BLESS=1 cargo test --test docs` (or `just gen`) rewrites them.

#[allow(dead_code)]
#[path = "../src/bin/metron/cli.rs"]
mod cli;

use clap::CommandFactory;
use std::path::Path;

fn generated() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let cmd = cli::Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page).unwrap();
    files.push(("man/metron.1".to_owned(), page));
    for sub in cmd.get_subcommands() {
        let name = format!("metron-{}", sub.get_name());
        let sub = sub.clone().name(&*Box::leak(name.clone().into_boxed_str()));
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page).unwrap();
        files.push((format!("man/{name}.1"), page));
    }
    for (shell, file) in [
        (clap_complete::Shell::Bash, "completions/metron.bash"),
        (clap_complete::Shell::Zsh, "completions/_metron"),
        (clap_complete::Shell::Fish, "completions/metron.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cli::Cli::command(), "metron", &mut out);
        files.push((file.to_owned(), out));
    }
    files
}

#[test]
fn man_pages_and_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("METRON_BLESS").is_some();
    let mut stale = Vec::new();
    for (rel, content) in generated() {
        let path = root.join(&rel);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &content).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&content[..]) {
            stale.push(rel);
        }
    }
    assert!(stale.is_empty(), "stale (run `just gen` or METRON_BLESS=1 cargo test --test docs): {stale:?}");
}
