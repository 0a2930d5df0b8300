//! `hot-host run` prints a plugin's `log` records on standard error, filtered by `RUST_LOG`:
//! the fixture `log-plugin`'s `shout` logs at info level from the crate's root and at debug and
//! trace levels from its module `quiet`.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `hot-host run` on a copy of `log-plugin` named `name`, calls `shout 3`, quits, and
/// returns standard error's lines that are the plugin's records.
fn records(name: &str, rust_log: Option<&str>) -> Vec<String> {
    let plugin = support::copy_fixture("log-plugin", name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hot-host"));
    cmd.arg("run")
        .arg(plugin.path())
        .arg("--target-dir")
        .arg(support::fixtures_target_dir())
        .args(["--every", "0", "--no-watch", "--state-dir"])
        .arg(plugin.path().join("state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    let mut child = cmd.spawn().expect("hot-host starts");
    // Read to the end: `quit` (or the end of input) ends the host.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"call shout 3\nquit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "hot-host failed:\n{stderr}");
    stderr
        .lines()
        .filter(|l| l.starts_with('[') && l.contains(&format!(" {name}")))
        .map(str::to_owned)
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and runs the host: process spawning and FFI, which Miri cannot run"
)]
fn hot_host_run_prints_plugin_logs_filtered_by_rust_log() {
    assert_eq!(
        records("log_plugin_run_default", None),
        ["[INFO log_plugin_run_default] shouting 3"]
    );
    assert_eq!(
        records(
            "log_plugin_run_debug",
            Some("warn,log_plugin_run_debug=debug")
        ),
        [
            "[INFO log_plugin_run_debug] shouting 3",
            "[DEBUG log_plugin_run_debug::quiet] whispering 6",
        ]
    );
}
