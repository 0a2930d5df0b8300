//! End to end: the counter demo run headless on a copy of its plugin. Keys choose `change()`'s
//! implementation live while the count persists; an edit of the chosen implementation on disk
//! (+10 becomes +100) is reloaded mid-run, the count and the choice persisting, the new
//! behaviour applying. Output is waited for line by line, with a generous deadline.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: a reload includes a build of the plugin on a busy machine.
const DEADLINE: Duration = Duration::from_secs(900);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The plugin crate copied into a temporary directory, as a workspace of its own.
fn copy_plugin(dir: &Path) {
    let ws = workspace().canonicalize().unwrap();
    let manifest = format!(
        r#"[package]
name = "counter-demo-headless"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
coo-runtime = {{ path = {:?} }}

[workspace]
"#,
        ws.join("coo-runtime").display().to_string(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's versions of every dependency.
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir(dir.join("src")).unwrap();
    std::fs::copy(
        ws.join("examples/counter-demo-plugin/src/lib.rs"),
        dir.join("src/lib.rs"),
    )
    .unwrap();
}

struct Run {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    started: Instant,
}

impl Run {
    /// Sends `command` and returns the line it printed.
    fn send(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        let left = DEADLINE.saturating_sub(self.started.elapsed());
        match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => panic!("nothing printed after `{command}` within {DEADLINE:?}"),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn keys_switch_the_step_live_and_an_edit_reloads_while_count_and_choice_persist() {
    let dir = tempfile::Builder::new()
        .prefix("counter-demo-headless")
        .tempdir()
        .unwrap();
    copy_plugin(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_counter-demo"))
        .arg(dir.path())
        .args(["--headless", "--target-dir"])
        .arg(workspace().join("target").join("coo-fixtures"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut run = Run {
        child,
        stdin,
        lines,
        started: Instant::now(),
    };

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
    writeln!(run.stdin, "quit").unwrap();
    run.stdin.flush().unwrap();
    let status = run.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
