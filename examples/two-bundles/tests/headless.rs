//! End to end: the two-bundles demo run headless on copies of its two bundles in a temporary
//! directory. The caller runs alone first (its import returns `ImportError::NotLoaded`, and it
//! runs on), then the callee is loaded and the caller's calls run it; an edit of the callee on
//! disk is reloaded mid-run and changes what the caller's next call does, the caller not
//! reloaded (its version stays 1); a reload that removes the function, and one that defines it
//! again, too. Output is waited for line by line, with a generous deadline.

use std::process::Command;
use std::time::Duration;

use headless_support::{Run, copy_plugin, edit, fixtures_target};

/// Generous: a reload includes a build of a bundle on a busy machine.
const DEADLINE: Duration = Duration::from_secs(900);

#[test]
fn editing_the_callee_changes_the_callers_next_call_without_reloading_the_caller() {
    let dir = tempfile::Builder::new()
        .prefix("two-bundles-headless")
        .tempdir()
        .unwrap();
    let (caller, callee) = (dir.path().join("caller"), dir.path().join("callee"));
    copy_plugin(
        &caller,
        "two-bundles-caller-headless",
        "examples/two-bundles-caller",
        &[],
    );
    copy_plugin(
        &callee,
        "two-bundles-callee-headless",
        "examples/two-bundles-callee",
        &[],
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_two-bundles"));
    command
        .arg("--headless")
        .arg("--caller")
        .arg(&caller)
        .arg("--callee")
        .arg(&callee)
        .arg("--target-dir")
        .arg(fixtures_target());
    let mut run = Run::spawn(command, DEADLINE);

    // The caller alone: its call returns `NotLoaded`, and it runs on.
    let not_loaded = "NotLoaded: value stays 0 (`callee::next` cannot be called: the plugin \
        `callee` is not loaded in this host; start the host with it (`hot-host run <this plugin> \
        <callee>`, or `Plugins::add`))";
    assert_eq!(
        run.send("tick"),
        format!("tick 1 caller v1 callee -: {not_loaded}")
    );
    assert_eq!(
        run.send("tick"),
        format!("tick 2 caller v1 callee -: {not_loaded}")
    );

    // The callee appears: the same call runs it.
    assert_eq!(run.send("load"), "loaded callee v1");
    assert_eq!(
        run.send("tick"),
        "tick 3 caller v1 callee v1: callee::next(0) = 1"
    );
    assert_eq!(
        run.send("tick"),
        "tick 4 caller v1 callee v1: callee::next(1) = 2"
    );

    // The callee edited on disk while both run: it alone reloads, and the caller's next call
    // runs its new code (the caller still at v1).
    edit(&callee, &[("    x + 1\n", "    x + 100\n")]);
    assert_eq!(run.send("wait-reload"), "reloaded callee v1 -> v2");
    assert_eq!(
        run.send("tick"),
        "tick 5 caller v1 callee v2: callee::next(2) = 102"
    );

    // The callee's reload removes `next`: the caller's call says so, and its value stays.
    edit(&callee, &[("pub fn next(", "pub fn next_one(")]);
    assert_eq!(run.send("wait-reload"), "reloaded callee v2 -> v3");
    assert_eq!(
        run.send("tick"),
        "tick 6 caller v1 callee v3: value stays 102 (`callee::next` cannot be called: the last \
         reload of `callee` removed it; define it again there, or remove it from this plugin's \
         `import!`)"
    );

    // Defined again: the caller's calls run it again.
    edit(&callee, &[("pub fn next_one(", "pub fn next(")]);
    assert_eq!(run.send("wait-reload"), "reloaded callee v3 -> v4");
    assert_eq!(
        run.send("tick"),
        "tick 7 caller v1 callee v4: callee::next(102) = 202"
    );
    assert_eq!(
        run.send("frob"),
        "unknown command `frob`: tick, load, wait-reload, quit"
    );
    run.quit();
}
