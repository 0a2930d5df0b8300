//! End to end: the release switch as a user flips it. `examples/release-switch` is built by
//! real cargo twice, without and with its `static` feature, and both programs are run: the
//! first builds and loads `examples/counter-plugin` and calls it through typed handles, the
//! second has it linked in and calls it directly; both print the same results.

mod support;

use std::path::Path;
use std::process::Command;

use support::{fixtures_target_dir, workspace};

/// Builds `release-switch` with `features` into the fixtures' target dir and returns the binary.
fn build(features: &[&str]) -> std::path::PathBuf {
    let target = fixtures_target_dir();
    let cargo = std::env::var_os("CARGO").unwrap_or("cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace())
        .args(["build", "--quiet", "-p", "release-switch", "--target-dir"])
        .arg(&target);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let status = cmd.status().expect("run cargo");
    assert!(
        status.success(),
        "cargo build of release-switch {features:?}"
    );
    let bin = target.join("debug").join("release-switch");
    assert!(bin.is_file(), "{} exists", bin.display());
    bin
}

/// Runs the program on `counter-plugin` and returns its standard output and error.
fn run(bin: &Path) -> (String, String) {
    let plugin = workspace().join("examples").join("counter-plugin");
    let out = Command::new(bin)
        .arg(&plugin)
        .arg(fixtures_target_dir())
        .output()
        .expect("run release-switch");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "release-switch failed:\n{stderr}");
    (stdout, stderr)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds crates with cargo and runs them: process spawning, which Miri cannot run"
)]
fn the_same_program_calls_the_plugin_loaded_and_linked() {
    const EXPECTED: &str = "add(2, 3) = 5\nscaled(10) = 30\nin a scope: scaled(10) = 50\n\
                            state: {\"Counter\":{\"count\":5}}\n";
    // One after the other: both share the target dir, and the second binary replaces the first.
    let (hot, hot_err) = run(&build(&[]));
    assert_eq!(hot, EXPECTED);
    assert!(hot_err.ends_with("the plugin was loaded\n"), "{hot_err}");
    let (linked, linked_err) = run(&build(&["static"]));
    assert_eq!(linked, EXPECTED);
    assert_eq!(linked_err, "the plugin was linked\n");
}
