//! What the examples' end-to-end tests share: [`copy_plugin`] copies an example's plugin crate
//! into a temporary directory as a workspace of its own (so a test edits the copy, never the
//! repository's file), and [`Run`] runs the example program with piped standard input and
//! output, waiting for each printed line with a generous deadline (never a fixed sleep).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The Coo workspace's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace's root exists")
}

/// Where the tests build plugins: `target/coo-fixtures`, shared with the other tests.
pub fn fixtures_target() -> PathBuf {
    workspace().join("target").join("coo-fixtures")
}

/// Copies the plugin crate `example` (`examples/greeting-plugin`, relative to the workspace)
/// into `dir` as the package `package`, a workspace of its own that builds with the
/// workspace's versions of every dependency (its `Cargo.lock`). It depends on `coo-runtime`
/// and on each of `path_deps` (`(name, path relative to the workspace)`).
pub fn copy_plugin(dir: &Path, package: &str, example: &str, path_deps: &[(&str, &str)]) {
    let ws = workspace();
    let mut deps = format!(
        "coo-runtime = {{ path = {:?} }}\n",
        ws.join("coo-runtime").display().to_string()
    );
    for (name, path) in path_deps {
        deps.push_str(&format!(
            "{name} = {{ path = {:?} }}\n",
            ws.join(path).display().to_string()
        ));
    }
    let manifest = format!(
        r#"[package]
name = "{package}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
{deps}
[workspace]
"#
    );
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::copy(ws.join(example).join("src/lib.rs"), dir.join("src/lib.rs")).unwrap();
}

/// Replaces the first `old` of each pair by its `new` in `dir/src/lib.rs`, on disk (asserting
/// that the file has it), as a user's editor saves it.
pub fn edit(dir: &Path, replacements: &[(&str, &str)]) {
    let path = dir.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (old, new) in replacements {
        assert!(text.contains(old), "{} has no {old:?}", path.display());
        text = text.replacen(old, new, 1);
    }
    std::fs::write(path, text).unwrap();
}

/// An example program running with piped standard input and output (standard error is
/// inherited: cargo's progress shows in the test's output). Dropping it kills the program.
#[derive(Debug)]
pub struct Run {
    pub child: Child,
    pub stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    started: Instant,
    deadline: Duration,
}

impl Run {
    /// Starts `command`; every wait for a line ends at most `deadline` after this.
    pub fn spawn(mut command: Command, deadline: Duration) -> Run {
        let mut child = command
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
        Run {
            child,
            stdin,
            lines,
            started: Instant::now(),
            deadline,
        }
    }

    /// The next line the program prints.
    pub fn line(&mut self) -> String {
        let left = self.deadline.saturating_sub(self.started.elapsed());
        match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => panic!(
                "the program printed nothing more within {:?}",
                self.deadline
            ),
        }
    }

    /// Sends `command` (one line) and returns the line it printed.
    pub fn send(&mut self, command: &str) -> String {
        self.write(command);
        let left = self.deadline.saturating_sub(self.started.elapsed());
        match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => panic!(
                "nothing printed after `{command}` within {:?}",
                self.deadline
            ),
        }
    }

    /// Sends `command` (one line) without waiting for output.
    pub fn write(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Sends `quit` and asserts that the program exits successfully.
    pub fn quit(mut self) {
        self.write("quit");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
