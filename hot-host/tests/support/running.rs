//! `hot-host run` driven as a user drives it: [`Running`] starts it on a plugin copy, sends
//! commands, and waits (with a generous deadline, never a fixed sleep) for what it prints;
//! [`edit`] changes the copy's source on disk.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous: a reload includes a cargo build (the `--release` test's first one builds every
/// dependency optimized), and CI machines are slow and busy. Tests never assert how fast
/// anything is; they only wait for it.
pub const PATIENCE: Duration = Duration::from_secs(600);

pub fn edit(dir: &Path, old: &str, new: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "the source has no {old:?}");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// `hot-host run` as a child process, its output collected line by line.
pub struct Running {
    pub child: Child,
    pub stdin: ChildStdin,
    pub out: mpsc::Receiver<String>,
    pub err: mpsc::Receiver<String>,
    /// Every line seen so far, for messages and counts.
    pub out_seen: Vec<String>,
    pub err_seen: Vec<String>,
}

impl Running {
    /// `hot-host run dir` with `--every 10` and `--state-dir dir/state` unless `extra` says
    /// otherwise.
    pub fn start(dir: &Path, extra: &[&str]) -> Running {
        let state_dir = state_dir(dir);
        let mut args: Vec<&std::ffi::OsStr> = Vec::new();
        if !extra.contains(&"--state-dir") {
            args.extend([std::ffi::OsStr::new("--state-dir"), state_dir.as_os_str()]);
        }
        if !extra.contains(&"--every") {
            args.extend(["--every", "10"].map(std::ffi::OsStr::new));
        }
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let super::HostProcess {
            child,
            stdin,
            out,
            err,
        } = super::run_host(dir, &args);
        Running {
            child,
            stdin,
            out,
            err,
            out_seen: Vec::new(),
            err_seen: Vec::new(),
        }
    }

    pub fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn drain(&mut self) {
        self.out_seen.extend(self.out.try_iter());
        self.err_seen.extend(self.err.try_iter());
    }

    /// The next line of standard output that `pick` accepts.
    pub fn wait_out<T>(&mut self, what: &str, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(line) => {
                    let picked = pick(&line);
                    self.out_seen.push(line);
                    if let Some(v) = picked {
                        return v;
                    }
                }
                Err(_) => {
                    self.drain();
                    panic!(
                        "no {what} within {PATIENCE:?}\nstdout:\n{}\nstderr:\n{}",
                        self.out_seen.join("\n"),
                        self.err_seen.join("\n")
                    );
                }
            }
        }
    }

    /// The next line of standard error containing `needle`.
    pub fn wait_err(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    self.err_seen.push(line.clone());
                    if hit {
                        return line;
                    }
                }
                Err(_) => {
                    self.drain();
                    panic!(
                        "no {needle:?} on stderr within {PATIENCE:?}\nstdout:\n{}\nstderr:\n{}",
                        self.out_seen.join("\n"),
                        self.err_seen.join("\n")
                    );
                }
            }
        }
    }

    /// The live state, through `state --json`.
    pub fn state(&mut self) -> Value {
        self.send("state --json");
        self.wait_out("state", |line| {
            line.starts_with('{')
                .then(|| serde_json::from_str::<Value>(line).ok())
                .flatten()
        })
    }

    /// Polls the state until `done` accepts it.
    pub fn state_until(&mut self, what: &str, mut done: impl FnMut(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.state();
            if done(&state) {
                return state;
            }
            if Instant::now() > deadline {
                self.drain();
                panic!(
                    "the state never showed {what}; last: {state}\nstdout:\n{}\nstderr:\n{}",
                    self.out_seen.join("\n"),
                    self.err_seen.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn quit(mut self) {
        self.send("quit");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "hot-host exited with {status}");
    }

    /// Kills the host: it has no chance to save anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The next line of standard error, whatever it is.
    pub fn next_err(&mut self) -> String {
        match self.err.recv_timeout(PATIENCE) {
            Ok(line) => {
                self.err_seen.push(line.clone());
                line
            }
            Err(_) => {
                self.drain();
                panic!(
                    "no more stderr within {PATIENCE:?}\nstdout:\n{}\nstderr:\n{}",
                    self.out_seen.join("\n"),
                    self.err_seen.join("\n")
                );
            }
        }
    }

    /// How many reload reports the host printed so far.
    pub fn reloads(&mut self) -> usize {
        self.drain();
        self.out_seen
            .iter()
            .filter(|l| l.starts_with("version ") && l.contains(" -> "))
            .count()
    }
}

/// Where a test keeps the snapshots of its plugin copy.
pub fn state_dir(plugin: &Path) -> PathBuf {
    plugin.join("state")
}
