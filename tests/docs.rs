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

/// The README's table of `metron parse` formats, made from the parse registry.
fn format_table_markdown() -> String {
    let mut t = String::from("| `--format` | input | `source.type` |\n|---|---|---|\n");
    for [name, about, source_type] in metron::parse::format_table() {
        let name = match name.split_once(" (") {
            Some((n, aliases)) => format!("`{n}` (`{}`)", aliases.trim_end_matches(')').replace(", ", "`, `")),
            None => format!("`{name}`"),
        };
        let source_type = if source_type.is_empty() { String::new() } else { format!("`{source_type}`") };
        t.push_str(&format!("| {name} | {about} | {source_type} |\n"));
    }
    t.push_str("| `NAME` | a `[parsers.NAME]` in `metron.toml`: `csv`, `regex`, `grok` or `json` | `NAME` |\n");
    t
}

#[test]
fn the_readme_format_table_is_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- formats: made from the parse registry by tests/docs.rs -->\n", "<!-- /formats -->");
    let a = readme.find(start).expect("README has the formats markers") + start.len();
    let b = readme[a..].find(end).expect("README has the end marker") + a;
    let want = format_table_markdown();
    if std::env::var_os("METRON_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &readme[..a], &readme[b..])).unwrap();
    } else {
        assert_eq!(&readme[a..b], want, "the README's format table is stale: run `just gen`");
    }
}
