//! End to end: the greeting demo on a copy of its plugin in a temporary directory (never the
//! repository's file). Choosing another greeting makes the program rewrite the plugin's source
//! on disk and hot reload it: the printed greeting changes, the count of greetings (the
//! plugin's state) persists. Output is waited for line by line, with a generous deadline.

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
name = "greeting-headless"
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
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir(dir.join("src")).unwrap();
    std::fs::copy(
        ws.join("examples/greeting-plugin/src/lib.rs"),
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
fn choosing_a_greeting_rewrites_the_plugin_and_reloads_it_keeping_the_count() {
    let dir = tempfile::Builder::new()
        .prefix("greeting-headless")
        .tempdir()
        .unwrap();
    copy_plugin(dir.path());
    let lib_rs = dir.path().join("src/lib.rs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_greeting"))
        .arg(dir.path())
        .args(["--every", "0", "--target-dir"])
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
    writeln!(run.stdin, "quit").unwrap();
    run.stdin.flush().unwrap();
    let status = run.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
