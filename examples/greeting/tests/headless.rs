//! End to end: the greeting demo on a copy of its plugin in a temporary directory (never the
//! repository's file). Choosing another greeting makes the program rewrite the plugin's source
//! on disk and hot reload it: the printed greeting changes, the count of greetings (the
//! plugin's state) persists. Output is waited for line by line, with a generous deadline.

use std::process::Command;
use std::time::Duration;

use headless_support::{Run, copy_plugin, fixtures_target};

/// Generous: a reload includes a build of the plugin on a busy machine.
const DEADLINE: Duration = Duration::from_secs(900);

#[test]
fn choosing_a_greeting_rewrites_the_plugin_and_reloads_it_keeping_the_count() {
    let dir = tempfile::Builder::new()
        .prefix("greeting-headless")
        .tempdir()
        .unwrap();
    copy_plugin(
        dir.path(),
        "greeting-headless",
        "examples/greeting-plugin",
        &[],
    );
    let lib_rs = dir.path().join("src/lib.rs");
    let mut command = Command::new(env!("CARGO_BIN_EXE_greeting"));
    command
        .arg(dir.path())
        .args(["--every", "0", "--target-dir"])
        .arg(fixtures_target());
    let mut run = Run::spawn(command, DEADLINE);

    assert_eq!(run.send("greet"), "v1 Hello, world! (greeting #1)");
    assert_eq!(run.send("greet"), "v1 Hello, world! (greeting #2)");

    assert_eq!(
        run.send("2"),
        format!("rewrote {}: Bonjour, le monde !", lib_rs.display())
    );
    let source = std::fs::read_to_string(&lib_rs).unwrap();
    assert!(
        source.contains("\npub const GREETING: &str = \"Bonjour, le monde !\";\n"),
        "{source}"
    );
    assert_eq!(run.send("wait-reload"), "reloaded v1 -> v2");
    assert_eq!(run.send("greet"), "v2 Bonjour, le monde ! (greeting #3)");

    assert_eq!(
        run.send("3"),
        format!("rewrote {}: Hallo, Welt!", lib_rs.display())
    );
    assert_eq!(run.send("wait-reload"), "reloaded v2 -> v3");
    assert_eq!(run.send("greet"), "v3 Hallo, Welt! (greeting #4)");

    assert_eq!(
        run.send("9"),
        "unknown command `9`: 1-4, greet, wait-reload, quit"
    );
    run.quit();
}
