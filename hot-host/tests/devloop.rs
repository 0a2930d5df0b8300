//! The dev loop end to end: `hot-host run` with ticking on, the fixture's source edited on disk
//! while it runs, the reload observed through `state --json`.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous: a reload includes a cargo build, and CI machines are slow. Tests never assert
/// how fast anything is; they only wait for it.
const PATIENCE: Duration = Duration::from_secs(120);

fn edit(dir: &Path, old: &str, new: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "the source has no {old:?}");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// `hot-host run` as a child process, its output collected line by line.
struct Running {
    child: Child,
    stdin: ChildStdin,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    /// Every line seen so far, for messages and counts.
    out_seen: Vec<String>,
    err_seen: Vec<String>,
}

impl Running {
    fn start(dir: &Path, extra: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hot-host"))
            .arg("run")
            .arg(dir)
            .arg("--target-dir")
            .arg(support::fixtures_target_dir())
            .args(if extra.contains(&"--every") {
                &[][..]
            } else {
                &["--every", "10"][..]
            })
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hot-host starts");
        let stdin = child.stdin.take().unwrap();
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        Running {
            child,
            stdin,
            out,
            err,
            out_seen: Vec::new(),
            err_seen: Vec::new(),
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn drain(&mut self) {
        self.out_seen.extend(self.out.try_iter());
        self.err_seen.extend(self.err.try_iter());
    }

    /// The next line of standard output that `pick` accepts.
    fn wait_out<T>(&mut self, what: &str, mut pick: impl FnMut(&str) -> Option<T>) -> T {
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
    fn wait_err(&mut self, needle: &str) -> String {
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
    fn state(&mut self) -> Value {
        self.send("state --json");
        self.wait_out("state", |line| {
            line.starts_with('{')
                .then(|| serde_json::from_str::<Value>(line).ok())
                .flatten()
        })
    }

    /// Polls the state until `done` accepts it.
    fn state_until(&mut self, what: &str, mut done: impl FnMut(&Value) -> bool) -> Value {
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

    fn quit(mut self) {
        self.send("quit");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "hot-host exited with {status}");
    }

    /// How many reload reports the host printed so far.
    fn reloads(&mut self) -> usize {
        self.drain();
        self.out_seen
            .iter()
            .filter(|l| l.starts_with("version ") && l.contains(" -> "))
            .count()
    }
}

fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn count(state: &Value) -> u64 {
    state["Counter"]["count"].as_u64().expect("a count")
}

#[test]
fn a_saved_function_change_goes_live_while_the_counter_keeps_counting() {
    let dir = support::copy_fixture("tick-plugin", "loop_body");
    let mut host = Running::start(dir.path(), &[]);
    let before = count(&host.state_until("ticks", |s| count(s) >= 3));
    edit(dir.path(), "counter.marker = 0;", "counter.marker = 7;");
    let after = host.state_until("the new code", |s| s["Counter"]["marker"] == 7);
    assert!(count(&after) >= before, "the count carried over: {after}");
    assert_eq!(host.reloads(), 1);
    host.quit();
}

#[test]
fn a_layout_change_keeps_the_count_and_a_build_error_keeps_the_old_version_ticking() {
    let dir = support::copy_fixture("tick-plugin", "loop_layout");
    let mut host = Running::start(dir.path(), &[]);
    let before = count(&host.state_until("ticks", |s| count(s) >= 3));
    edit(
        dir.path(),
        "pub marker: u32,",
        "pub marker: u32,\n    #[coo(default = 5)]\n    pub lives: u8,",
    );
    edit(
        dir.path(),
        "marker: 0,\n    }",
        "marker: 0,\n        lives: 5,\n    }",
    );
    let after = host.state_until("the new field", |s| s["Counter"]["lives"] == 5);
    assert!(count(&after) >= before, "the count carried over: {after}");

    // A build error: shown in full, and the old version keeps ticking.
    edit(
        dir.path(),
        "counter.count += 1;",
        "counter.count += \"one\";",
    );
    host.wait_err("reload failed");
    host.wait_err("cannot add-assign");
    let broken = count(&host.state());
    host.state_until("ticking on", |s| count(s) > broken);
    // The fix reloads.
    edit(
        dir.path(),
        "counter.count += \"one\";",
        "counter.count += 1;\n    counter.lives = 9;",
    );
    host.state_until("the fixed code", |s| s["Counter"]["lives"] == 9);
    host.quit();
}

#[test]
fn saves_in_quick_succession_load_only_the_last() {
    let dir = support::copy_fixture("tick-plugin", "loop_burst");
    let mut host = Running::start(dir.path(), &["--quiet"]);
    host.state_until("ticks", |s| count(s) >= 1);
    for marker in 1..=5 {
        edit(
            dir.path(),
            &format!("counter.marker = {};", marker - 1),
            &format!("counter.marker = {marker};"),
        );
        thread::sleep(Duration::from_millis(20));
    }
    host.state_until("the last save", |s| s["Counter"]["marker"] == 5);
    // Give a stray late reload a chance to show up before counting.
    thread::sleep(Duration::from_millis(500));
    host.drain();
    let reloads = host
        .out_seen
        .iter()
        .filter(|l| l.starts_with("reloaded "))
        .count();
    assert!(
        (1..5).contains(&reloads),
        "five saves in 100 ms were coalesced into fewer builds, got {reloads} reloads:\n{}",
        host.out_seen.join("\n")
    );
    let last = host.state();
    assert_eq!(
        last["Counter"]["marker"], 5,
        "nothing older was loaded after the last"
    );
    host.quit();
}

#[test]
fn snapshots_save_and_load_across_a_layout_change_and_restore_after_exit() {
    let dir = support::copy_fixture("tick-plugin", "loop_snapshot");
    let snapshot: PathBuf = dir.path().join("saved.json");
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    host.send("call tick");
    host.send("call tick");
    host.state_until("two ticks", |s| count(s) == 2);
    host.send(&format!("save {}", snapshot.display()));
    host.wait_out("the save", |l| l.contains("saved").then_some(()));
    // A layout change, then the old snapshot loaded into the new layout.
    edit(
        dir.path(),
        "pub count: u64,",
        "pub count: u128,\n    #[coo(default = 3)]\n    pub lives: u8,",
    );
    edit(dir.path(), "count: 0,", "count: 0,\n        lives: 3,");
    host.send("reload");
    host.wait_out("the reload", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    host.send("call tick");
    host.state_until("three ticks", |s| count(s) == 3);
    host.send(&format!("load {}", snapshot.display()));
    let loaded = host.state_until("the loaded snapshot", |s| count(s) == 2);
    assert_eq!(
        loaded["Counter"]["lives"], 3,
        "the new field got its default"
    );
    host.quit();

    // Exit and restart with --restore: the state resumes from where it was.
    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    let restored = host.state();
    assert_eq!(count(&restored), 2, "{restored}");
    assert_eq!(restored["Counter"]["lives"], 3);
    host.quit();
}

#[test]
fn restore_resumes_from_the_autosave_after_the_host_was_killed() {
    let dir = support::copy_fixture("tick-plugin", "loop_killed");
    let mut host = Running::start(dir.path(), &["--autosave", "1"]);
    let seen = count(&host.state_until("ticks", |s| count(s) >= 20));
    // Let one autosave happen after that, then kill the host without any chance to save.
    thread::sleep(Duration::from_millis(1500));
    host.child.kill().unwrap();
    host.child.wait().unwrap();

    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    let restored = count(&host.state());
    assert!(restored >= seen, "resumed from {restored}, had seen {seen}");
    host.quit();
}
