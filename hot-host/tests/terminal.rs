//! `hot-host run` on a real terminal: a tmux pane of a private tmux server. A reload report that
//! arrives while a command line is being typed is printed above the line, which stays intact on
//! screen and in the editor, its prompt showing the new version; and `NO_COLOR` turns the
//! report's colours off. Tab completes commands and paths into the live state, under the names
//! of the version running. Into a pipe, the report is plain unless `CLICOLOR_FORCE` is set.
//!
//! The terminal test needs `tmux`; without it, it says so and checks nothing else.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: starting the host and reloading include cargo builds, and CI machines are slow.
const PATIENCE: Duration = Duration::from_secs(600);

/// A tmux server of its own (its socket in a temporary directory), killed at drop.
struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts the server with one pane `width` columns wide running `command`.
    fn start(width: u16, command: &[&std::ffi::OsStr]) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let tmux = Tmux {
            socket: dir.path().join("tmux.sock"),
            _dir: dir,
        };
        let width = width.to_string();
        let status = tmux
            .command()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "coo", "-x"])
            .arg(&width)
            .args(["-y", "50"])
            .args(command)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session: {status}");
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.socket);
        command
    }

    /// The pane's lines, with the escapes of their colours when `escapes`.
    fn screen(&self, escapes: bool) -> String {
        let mut command = self.command();
        command.args(["capture-pane", "-p", "-t", "coo"]);
        if escapes {
            command.arg("-e");
        }
        let output = command.output().expect("tmux capture-pane runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen shows `what`; returns it.
    fn wait_for(&self, what: &str, shows: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen(false);
            if shows(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {PATIENCE:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys` literally.
    fn type_text(&self, keys: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "coo", "-l", keys])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn press_enter(&self) {
        self.press("Enter");
    }

    /// Presses the key tmux names `key` (`Enter`, `Tab`).
    fn press(&self, key: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "coo", key])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Tmux {
    /// Waits until the command in the pane has ended (and with it the session).
    fn wait_ended(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self
            .command()
            .args(["has-session", "-t", "coo"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(
                Instant::now() < deadline,
                "the host did not end within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .command()
            .arg("kill-server")
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The lines of `screen` up to its last non-empty one.
fn screen_lines(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines[..end].to_vec()
}

fn edit(dir: &Path, old: &str, new: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "the source has no {old:?}");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host in tmux, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn a_report_arriving_while_a_line_is_typed_is_printed_above_it_and_no_color_is_obeyed() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: no tmux to run a terminal in");
        return;
    }
    let dir = support::copy_fixture("tick-plugin", "term_typed");
    let state_dir = dir.path().join("state");
    let target_dir = support::fixtures_target_dir();
    let tmux = Tmux::start(
        200,
        &[
            "env".as_ref(),
            "-u".as_ref(),
            "CLICOLOR_FORCE".as_ref(),
            "NO_COLOR=1".as_ref(),
            env!("CARGO_BIN_EXE_hot-host").as_ref(),
            "run".as_ref(),
            dir.path().as_os_str(),
            "--target-dir".as_ref(),
            target_dir.as_os_str(),
            "--state-dir".as_ref(),
            state_dir.as_os_str(),
            "--every".as_ref(),
            "0".as_ref(),
            "--autosave".as_ref(),
            "0".as_ref(),
        ],
    );
    tmux.wait_for("`loaded`", |s| s.contains("loaded "));
    // A command's answer: the dev loop runs, so the sources are watched.
    tmux.type_text("state Counter.count");
    tmux.press_enter();
    tmux.wait_for("the count", |s| {
        let lines = screen_lines(s);
        lines.len() >= 3 && lines[lines.len() - 3..] == ["v1> state Counter.count", "0", "v1>"]
    });

    // Half a command typed, not entered; then a save reloads the plugin.
    tmux.type_text("state Counter.mar");
    tmux.wait_for("the typed text", |s| {
        screen_lines(s).last() == Some(&"v1> state Counter.mar")
    });
    edit(dir.path(), "counter.marker = 0;", "counter.marker = 7;");
    let screen = tmux.wait_for("the reload report", |s| {
        s.contains("version 1 -> 2") && s.contains("librar")
    });

    // The report is printed above the typed line, which is drawn again, whole, below it, after
    // the new version's prompt.
    let shown = screen_lines(&screen);
    assert_eq!(shown.last(), Some(&"v2> state Counter.mar"), "{screen}");
    assert!(
        shown.iter().any(|l| l.starts_with("version 1 -> 2 (")),
        "the report starts a line of its own:\n{screen}"
    );
    assert_eq!(
        shown
            .iter()
            .filter(|l| l.contains("state Counter.mar"))
            .count(),
        1,
        "the typed text is on one line only:\n{screen}"
    );
    // `NO_COLOR`: the report's colours are off (tmux shows a coloured cell as an escape).
    let colored = tmux.screen(true);
    assert!(
        !colored.contains('\x1b'),
        "colours despite NO_COLOR:\n{colored:?}"
    );

    // The line is intact in the editor too: finishing it runs the whole command.
    tmux.type_text("ker");
    tmux.press_enter();
    let screen = tmux.wait_for("the marker's value", |s| {
        let lines = screen_lines(s);
        lines.len() >= 3 && lines[lines.len() - 3] == "v2> state Counter.marker"
    });
    assert_eq!(
        screen_lines(&screen)[screen_lines(&screen).len() - 2..],
        ["0", "v2>"],
        "{screen}"
    );

    tmux.type_text("quit");
    tmux.press_enter();
    drop(tmux);
}

/// `hot-host run` on the tick fixture copied as `name`, in a tmux pane, ticking off.
fn run_in_tmux(name: &str) -> (tempfile::TempDir, Tmux) {
    let dir = support::copy_fixture("tick-plugin", name);
    let tmux = host_in_tmux(dir.path());
    (dir, tmux)
}

/// `hot-host run dir` in a tmux pane, ticking off, its state in `dir/state`.
fn host_in_tmux(dir: &Path) -> Tmux {
    let state_dir = dir.join("state");
    let target_dir = support::fixtures_target_dir();
    Tmux::start(
        120,
        &[
            "env".as_ref(),
            "NO_COLOR=1".as_ref(),
            env!("CARGO_BIN_EXE_hot-host").as_ref(),
            "run".as_ref(),
            dir.as_os_str(),
            "--target-dir".as_ref(),
            target_dir.as_os_str(),
            "--state-dir".as_ref(),
            state_dir.as_os_str(),
            "--every".as_ref(),
            "0".as_ref(),
            "--autosave".as_ref(),
            "0".as_ref(),
        ],
    )
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host in tmux, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn tab_completes_commands_and_paths_of_the_running_version_after_its_prompt() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: no tmux to run a terminal in");
        return;
    }
    let (dir, tmux) = run_in_tmux("term_complete");
    let last_line = |line: &'static str| move |s: &str| screen_lines(s).last() == Some(&line);
    tmux.wait_for("the prompt of version 1", last_line("v1>"));

    // A command, then a resource, then a field of it. After the command, its arguments are
    // hinted.
    tmux.type_text("sta");
    tmux.press("Tab");
    tmux.wait_for(
        "the command completed and its arguments hinted",
        last_line("v1> state [<path>] [--json]"),
    );
    tmux.type_text("Co");
    tmux.press("Tab");
    tmux.wait_for("the resource completed", last_line("v1> state Counter"));
    tmux.type_text(".ma");
    tmux.press("Tab");
    tmux.wait_for("the field completed", last_line("v1> state Counter.marker"));
    tmux.press_enter();
    tmux.wait_for("the marker's value", |s| {
        let lines = screen_lines(s);
        lines.len() >= 3 && lines[lines.len() - 3..] == ["v1> state Counter.marker", "0", "v1>"]
    });

    // A reload renames the field: the prompt shows the new version, and the field completes
    // under its new name.
    edit(
        dir.path(),
        "    pub marker: u32,",
        "    #[coo(rename_from = \"marker\")]\n    pub mark: u32,",
    );
    edit(dir.path(), "marker: 0,", "mark: 0,");
    edit(dir.path(), "counter.marker = 0;", "counter.mark = 0;");
    tmux.wait_for("the prompt of version 2", |s| {
        s.contains("version 1 -> 2") && screen_lines(s).last() == Some(&"v2>")
    });
    tmux.type_text("state Counter.m");
    tmux.press("Tab");
    tmux.wait_for(
        "the renamed field completed",
        last_line("v2> state Counter.mark"),
    );
    tmux.press_enter();
    tmux.wait_for("the renamed field's value", |s| {
        let lines = screen_lines(s);
        lines.len() >= 3 && lines[lines.len() - 3..] == ["v2> state Counter.mark", "0", "v2>"]
    });

    tmux.type_text("quit");
    tmux.press_enter();
    drop(tmux);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host in tmux, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn the_lines_of_a_run_are_recalled_with_the_up_key_in_the_next_run_of_the_plugin() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: no tmux to run a terminal in");
        return;
    }
    let (dir, tmux) = run_in_tmux("term_history");
    let last_line = |line: &'static str| move |s: &str| screen_lines(s).last() == Some(&line);
    tmux.wait_for("the prompt", last_line("v1>"));
    tmux.type_text("state Counter.count");
    tmux.press_enter();
    tmux.wait_for("the count", |s| {
        let lines = screen_lines(s);
        lines.len() >= 3 && lines[lines.len() - 3..] == ["v1> state Counter.count", "0", "v1>"]
    });
    tmux.type_text("quit");
    tmux.press_enter();
    tmux.wait_ended();
    drop(tmux);

    let tmux = host_in_tmux(dir.path());
    tmux.wait_for("the prompt of the next run", last_line("v1>"));
    tmux.press("Up");
    tmux.wait_for("the last line of the run before", last_line("v1> quit"));
    tmux.press("Up");
    tmux.wait_for("the line before it", last_line("v1> state Counter.count"));
    tmux.press_enter();
    tmux.wait_for("the count", |s| {
        let lines = screen_lines(s);
        lines.len() >= 3 && lines[lines.len() - 3..] == ["v1> state Counter.count", "0", "v1>"]
    });
    tmux.type_text("quit");
    tmux.press_enter();
    drop(tmux);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn clicolor_force_colours_the_report_even_into_a_pipe() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    let dir = support::copy_fixture("tick-plugin", "term_forced");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hot-host"))
        .arg("run")
        .arg(dir.path())
        .arg("--target-dir")
        .arg(support::fixtures_target_dir())
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .args(["--every", "0", "--autosave", "0"])
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hot-host starts");
    let mut stdin = child.stdin.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    let mut wait_for = |what: &str, pick: &dyn Fn(&str) -> bool| loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} within {PATIENCE:?}; stdout: {seen:#?}"));
        seen.push(line.clone());
        if pick(&line) {
            return line;
        }
    };
    // A command's answer: the dev loop runs, so the sources are watched.
    writeln!(stdin, "state Counter.count").unwrap();
    stdin.flush().unwrap();
    wait_for("the count", &|l| l == "0");
    edit(dir.path(), "counter.marker = 0;", "counter.marker = 7;");
    let head = wait_for("the reload report", &|l| {
        anstream::adapter::strip_str(l)
            .to_string()
            .starts_with("version 1 -> 2 (")
    });
    assert!(
        head.starts_with('\x1b') && head.contains("version 1 -> 2\x1b["),
        "the head of the report is styled: {head:?}"
    );
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
