//! End to end: the counter demo run headless on a copy of its plugin. Keys choose `change()`'s
//! implementation live while the count persists; an edit of the chosen implementation on disk
//! (+10 becomes +100) is reloaded mid-run, the count and the choice persisting, the new
//! behaviour applying. Output is waited for line by line, with a generous deadline.

use std::process::Command;
use std::time::Duration;

use headless_support::{Run, copy_plugin, fixtures_target};

/// Generous: a reload includes a build of the plugin on a busy machine.
const DEADLINE: Duration = Duration::from_secs(900);

#[test]
fn keys_switch_the_step_live_and_an_edit_reloads_while_count_and_choice_persist() {
    let dir = tempfile::Builder::new()
        .prefix("counter-demo-headless")
        .tempdir()
        .unwrap();
    copy_plugin(
        dir.path(),
        "counter-demo-headless",
        "examples/counter-demo-plugin",
        &[],
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_counter-demo"));
    command
        .arg(dir.path())
        .args(["--headless", "--target-dir"])
        .arg(fixtures_target());
    let mut run = Run::spawn(command, DEADLINE);

    assert_eq!(run.send("tick"), "tick 1 v1 change count 1");
    assert_eq!(run.send("tick"), "tick 2 v1 change count 2");
    assert_eq!(run.send("key 2"), "chose plus10");
    assert_eq!(run.send("tick"), "tick 3 v1 plus10 count 12");
    assert_eq!(run.send("key 3"), "chose times2");
    assert_eq!(run.send("tick"), "tick 4 v1 times2 count 24");
    assert_eq!(run.send("key 4"), "chose minus5");
    assert_eq!(run.send("tick"), "tick 5 v1 minus5 count 19");
    assert_eq!(run.send("key 2"), "chose plus10");
    assert_eq!(run.send("tick"), "tick 6 v1 plus10 count 29");

    // +10 becomes +100, on disk, while it runs.
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    assert!(text.contains("counter.count += 10;"));
    std::fs::write(
        &lib,
        text.replacen("counter.count += 10;", "counter.count += 100;", 1),
    )
    .unwrap();
    assert_eq!(run.send("wait-reload"), "reloaded v1 -> v2");
    assert_eq!(run.send("tick"), "tick 7 v2 plus10 count 129");

    assert_eq!(run.send("key 5"), "chose reset");
    assert_eq!(run.send("tick"), "tick 8 v2 reset count 0");
    assert_eq!(run.send("key 1"), "chose change");
    assert_eq!(run.send("tick"), "tick 9 v2 change count 1");
    assert_eq!(run.send("key 7"), "no key 7: the keys are 1-5");
    run.quit();
}
