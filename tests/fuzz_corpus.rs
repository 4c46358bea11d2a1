//! Replays what fuzzing found (docs/fuzzing.md): every input of the committed corpus
//! (`fuzz/corpus/TARGET/`) and every crash it ever found (`fuzz/regressions/TARGET/`)
//! goes through the same entry point as the fuzz target, on the stable toolchain.

use std::path::Path;

#[test]
fn every_corpus_input_and_past_crash_runs_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut ran = 0;
    for (name, target) in metron::fuzz::TARGETS {
        let mut inputs = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "fuzz target {name} panics on {}", path.display());
                inputs += 1;
            }
        }
        assert!(inputs > 0, "no committed corpus for fuzz target {name}");
        ran += inputs;
    }
    eprintln!("replayed {ran} fuzz inputs");
}
