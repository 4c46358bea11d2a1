//! The layers of `docs/architecture.md`, checked: the core imports no stage, a stage
//! imports only the core, the store only the core, the console only the core and the
//! store. It reads every `crate::NAME` a library file names outside its unit tests
//! (tests may compose stages, as they test them on real data).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CORE: &[&str] = &["driver", "error", "event", "expr", "io", "net", "stage", "text"];
const STAGES: &[&str] = &["capture", "parse", "enrich", "label", "alert", "profile", "listen"];

/// What a top-level module may import besides itself.
fn allowed(module: &str) -> Option<Vec<&'static str>> {
    let core = CORE.to_vec();
    if CORE.contains(&module) || STAGES.contains(&module) || module == "store" {
        return Some(core);
    }
    match module {
        "hunt" => Some([core, vec!["store"]].concat()),
        // The composition layer: the config file's schema (a section per stage), the
        // generators, the demo, the service and the fuzz entry points put the others
        // together.
        "config" | "gen" | "demo" | "run" | "fuzz" | "lib" => None,
        other => panic!("{other}: a top-level module the layering test does not know; add it to tests/layers.rs"),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules a file names as `crate::NAME`, before its `#[cfg(test)]` part.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = BTreeSet::new();
    for line in code.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn stages_import_only_the_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
        let module = first.trim_end_matches(".rs");
        let Some(allowed) = allowed(module) else { continue };
        let text = std::fs::read_to_string(file).unwrap();
        for name in imports(&text) {
            if name != module && !allowed.contains(&name.as_str()) {
                broken.push(format!("src/lib/{} imports crate::{name}", rel.display()));
            }
        }
    }
    assert!(broken.is_empty(), "layering (docs/architecture.md) broken:\n  {}", broken.join("\n  "));
}

#[test]
fn the_check_sees_an_import() {
    let text = "use crate::event::Event;\nfn f() { crate::parse::sniff(\"x\"); }\n// crate::alert in a comment\n\
                #[cfg(test)]\nmod tests { use crate::gen; }\n";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["event", "parse"]);
}
