//! The dev loop end to end: `hot-host run` with ticking on, the fixture's source edited on disk
//! while it runs, the reload observed through `state --json`.
//!
//! Every test has a plugin copy of its own (its own package name) and keeps its snapshots in
//! `<copy>/state` (`--state-dir`), so no test reads or writes another's snapshots. A counter that
//! ticks is checked exactly: ticking off (`--every 0`, `call tick`), or a value only the test
//! sets (a count of 10^12 that a counter reset to 0 never reaches while a test runs).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use hot_host::build::NotACrate;
use hot_host::build::metadata::{IdentityError, MetadataError};
use hot_host::state_io::snapshot::{self, PluginId, SnapshotDir, SnapshotError};
use serde_json::{Value, json};
use support::running::{PATIENCE, Running, edit, state_dir};

fn count(state: &Value) -> u64 {
    state["Counter"]["count"].as_u64().expect("a count")
}

/// A count no reset counter reaches while a test runs (10 ms ticks: 300 years).
const FAR: u64 = 1_000_000_000_000;

/// The snapshot files of a plugin copy, newest first.
fn snapshot_files(plugin: &Path) -> Vec<PathBuf> {
    SnapshotDir::new(state_dir(plugin), 1).list().unwrap()
}

/// A snapshot file as JSON (`None` while it cannot be read).
fn read_json(file: &Path) -> Option<Value> {
    serde_json::from_str(&fs::read_to_string(file).ok()?).ok()
}

/// What a save line says after the file's name, `(123 B, N ms)`, for `file`: its exact size,
/// and the time it took as `line` says it (digits).
fn size_text(file: &Path, line: &str) -> String {
    let len = fs::metadata(file).unwrap().len();
    let size = match len {
        0..1_000 => format!("{len} B"),
        1_000..1_000_000 => format!("{:.1} kB", len as f64 / 1e3),
        _ => format!("{:.1} MB", len as f64 / 1e6),
    };
    let ms = line
        .rsplit_once(", ")
        .and_then(|(_, ms)| ms.strip_suffix(" ms)"))
        .filter(|ms| !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("<no time>");
    format!("{size}, {ms} ms)")
}

/// Polls `check` until it gives a value.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {what} within {PATIENCE:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Appends hot functions to the plugin copy's source.
fn append(dir: &Path, code: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text + code).unwrap();
}

#[test]
fn a_saved_function_change_goes_live_while_the_counter_keeps_counting() {
    let dir = support::copy_fixture("tick-plugin", "loop_body");
    let mut host = Running::start(dir.path(), &[]);
    host.state_until("ticks", |s| count(s) >= 3);
    host.send(&format!("set Counter.count {FAR}"));
    host.state_until("the count set", |s| count(s) >= FAR);
    edit(dir.path(), "counter.marker = 0;", "counter.marker = 7;");
    let after = host.state_until("the new code", |s| s["Counter"]["marker"] == 7);
    // Carried over: a count reset by the reload would be far below.
    assert!(count(&after) > FAR, "the count carried over: {after}");
    assert_eq!(host.reloads(), 1);
    host.quit();
}

#[test]
fn a_layout_change_keeps_the_count_and_a_build_error_keeps_the_old_version_ticking() {
    let dir = support::copy_fixture("tick-plugin", "loop_layout");
    let mut host = Running::start(dir.path(), &[]);
    host.state_until("ticks", |s| count(s) >= 3);
    host.send(&format!("set Counter.count {FAR}"));
    host.state_until("the count set", |s| count(s) >= FAR);
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
    assert!(count(&after) > FAR, "the count carried over: {after}");

    // A build error: shown in full, and the old version keeps ticking.
    edit(
        dir.path(),
        "counter.count += 1;",
        "counter.count += \"one\";",
    );
    assert_eq!(
        host.wait_err("reload failed"),
        "reload failed; version 2 keeps running with its state"
    );
    assert_eq!(host.next_err(), "the build failed:");
    assert_eq!(host.next_err(), "the plugin failed to compile:");
    host.wait_err("cannot add-assign");
    let broken = count(&host.state());
    host.state_until("ticking on", |s| count(s) > broken);
    // The fix reloads, and the count is still the one carried over.
    edit(
        dir.path(),
        "counter.count += \"one\";",
        "counter.count += 1;\n    counter.lives = 9;",
    );
    let fixed = host.state_until("the fixed code", |s| s["Counter"]["lives"] == 9);
    assert!(count(&fixed) > broken, "{fixed}");
    assert_eq!(host.reloads(), 2, "the failed build loaded nothing");
    host.quit();
}

#[test]
fn saves_in_quick_succession_load_only_the_last() {
    let dir = support::copy_fixture("tick-plugin", "loop_burst");
    let mut host = Running::start(dir.path(), &["--quiet"]);
    host.state_until("ticks", |s| count(s) >= 1);
    // Five saves within 100 ms: the first starts a build (which takes far longer than 100 ms:
    // cargo, rustc and the linker), the others come in while it runs. That build is discarded
    // and the latest source is built and loaded: one reload.
    for marker in 1..=5 {
        edit(
            dir.path(),
            &format!("counter.marker = {};", marker - 1),
            &format!("counter.marker = {marker};"),
        );
        thread::sleep(Duration::from_millis(20));
    }
    host.state_until("the last save", |s| s["Counter"]["marker"] == 5);
    // A reload of our own: if any background reload had come before it or were still coming,
    // it would not be version 2 -> 3 (a `reload` supersedes a build in flight).
    host.send("reload");
    host.wait_out("the reload command", |l| {
        l.starts_with("version ").then(|| l.to_owned())
    });
    host.drain();
    let reloads: Vec<&String> = host
        .out_seen
        .iter()
        .filter(|l| l.starts_with("reloaded ") || l.starts_with("version "))
        .collect();
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    assert!(reloads[0].starts_with("reloaded 1 -> 2 "), "{reloads:?}");
    assert!(reloads[1].starts_with("version 2 -> 3"), "{reloads:?}");
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
    let saved = format!("saved the state to {} (", snapshot.display());
    let size = host.wait_out("the save", |l| l.strip_prefix(&saved).map(str::to_owned));
    assert_eq!(size_text(&snapshot, &size), size, "{saved}{size}");
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
        loaded,
        json!({"Counter": {"count": 2, "marker": 0, "lives": 3}})
    );
    host.quit();

    // Exit and restart with --restore: the state resumes from where it was.
    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    let restored = host.state();
    assert_eq!(
        restored,
        json!({"Counter": {"count": 2, "marker": 0, "lives": 3}})
    );
    host.quit();
}

#[test]
fn restore_resumes_from_the_autosave_after_the_host_was_killed() {
    let dir = support::copy_fixture("tick-plugin", "loop_killed");
    let mut host = Running::start(dir.path(), &["--autosave", "1"]);
    host.state_until("ticks", |s| count(s) >= 20);
    // An autosave with at least that many ticks, then a kill without any chance to save.
    let saved = eventually("an autosave of 20 ticks", || {
        let file = snapshot_files(dir.path()).into_iter().next()?;
        read_json(&file).filter(|s| count(&s["state"]) >= 20)
    });
    host.kill();
    // The last autosave is what is on disk now.
    let files = snapshot_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let on_disk = read_json(&files[0]).unwrap();
    assert!(count(&on_disk["state"]) >= count(&saved["state"]));

    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    assert_eq!(host.state(), on_disk["state"]);
    host.quit();
}

/// Issue 7 item 13: a host killed, started again without `--restore` long enough to autosave,
/// killed again: `--restore` still brings back the first run's state.
#[test]
fn a_restart_without_restore_does_not_lose_the_crashed_runs_state() {
    let dir = support::copy_fixture("tick-plugin", "loop_crash");
    let crashed = json!({"Counter": {"count": 42, "marker": 7}});
    let mut host = Running::start(dir.path(), &["--every", "0", "--autosave", "1"]);
    host.send("set Counter.count 42");
    host.send("set Counter.marker 7");
    host.state_until("the state set", |s| *s == crashed);
    let first = eventually("an autosave of the state set", || {
        let file = snapshot_files(dir.path()).into_iter().next()?;
        (read_json(&file)?["state"] == crashed).then_some(file)
    });
    host.kill();

    // Started again without --restore: `init`, and a warning that says where the state is.
    let mut host = Running::start(dir.path(), &["--every", "0", "--autosave", "1"]);
    let warning = host.wait_err("warning: the last run did not end");
    assert_eq!(
        warning,
        format!(
            "warning: the last run did not end and its state was not restored: it stays in {}, \
             and `--restore` restores it (`hot-host snapshots` lists the others)",
            first.display()
        )
    );
    assert_eq!(host.state(), json!({"Counter": {"count": 0, "marker": 0}}));
    host.send("set Counter.count 5");
    // Its own autosave, in a file of its own.
    let second = eventually("the second run's autosave", || {
        let files = snapshot_files(dir.path());
        let newest = files.first()?;
        (files.len() == 2 && read_json(newest)?["state"]["Counter"]["count"] == 5)
            .then(|| newest.clone())
    });
    assert_ne!(second, first);
    host.kill();
    assert_eq!(read_json(&first).unwrap()["state"], crashed);

    // A third run without --restore that quits (say, to start again with --restore).
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    host.wait_err("warning: the last run did not end");
    host.quit();
    assert_eq!(snapshot_files(dir.path()).len(), 3);

    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    host.wait_out("the restore", |l| {
        (l == format!("restored the state from {}", first.display())).then_some(())
    });
    assert_eq!(host.state(), crashed);
    host.quit();
}

#[test]
fn restore_picks_a_listed_snapshot_by_name() {
    let dir = support::copy_fixture("tick-plugin", "loop_pick");
    for n in [11, 22] {
        let mut host = Running::start(dir.path(), &["--every", "0"]);
        host.send(&format!("set Counter.count {n}"));
        host.state_until("the count set", |s| count(s) == n);
        host.quit();
    }
    let files = snapshot_files(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let name = |f: &Path| f.file_name().unwrap().to_str().unwrap().to_owned();
    let (newer, older) = (name(&files[0]), name(&files[1]));

    let listing = Command::new(env!("CARGO_BIN_EXE_hot-host"))
        .arg("snapshots")
        .arg(dir.path())
        .arg("--state-dir")
        .arg(state_dir(dir.path()))
        .output()
        .unwrap();
    assert!(listing.status.success(), "{listing:?}");
    assert_eq!(
        String::from_utf8(listing.stdout).unwrap(),
        format!(
            "snapshots in {}, newest first (`--restore` restores the one marked *, \
             `--restore=NAME` another):\n* {newer}  Counter\n  {older}  Counter\n",
            state_dir(dir.path()).display()
        )
    );

    let mut host = Running::start(dir.path(), &["--every", "0", &format!("--restore={older}")]);
    assert_eq!(host.state(), json!({"Counter": {"count": 11, "marker": 0}}));
    host.quit();
    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    // The run that restored 11 and ended is the newest now.
    assert_eq!(host.state(), json!({"Counter": {"count": 11, "marker": 0}}));
    host.quit();
}

#[test]
fn only_the_newest_snapshots_are_kept_and_a_waiting_one_never_goes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = SnapshotDir::new(tmp.path(), 2);
    let at = |secs: u64| std::time::UNIX_EPOCH + Duration::from_secs(secs);
    let files: Vec<PathBuf> = (0..4)
        .map(|i| dir.session_file(at(1_795_000_000 + i), 7))
        .collect();
    assert_eq!(
        files[0].file_name().unwrap(),
        "snapshot-20261118T110640.000Z-7.json"
    );
    // The first is a crashed run's that a later run protects; the rest rotate.
    for file in &files {
        dir.write(file, "{}", Some(&files[0])).unwrap();
    }
    assert_eq!(
        dir.list().unwrap(),
        [files[3].clone(), files[2].clone(), files[0].clone()]
    );
    // Unprotected: only the newest two.
    dir.write(&files[3], "{}", None).unwrap();
    assert_eq!(dir.list().unwrap(), [files[3].clone(), files[2].clone()]);
}

/// A host killed in the middle of a save leaves its temp file behind; the next save into the
/// directory removes the temp files of processes that are gone, and never those of a live host
/// sharing the directory (nor this process's own, which another thread may be writing).
#[test]
fn a_save_removes_the_temp_files_of_dead_hosts_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = SnapshotDir::new(tmp.path(), 10);
    // A pid that no process has any more: a child that ran and was reaped.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hot-host"))
        .arg("--version")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let dead = child.id();
    assert!(child.wait().unwrap().success());
    // Process 1 lives as long as the machine (or the container).
    let live = 1;
    let me = std::process::id();
    let at = |secs: u64| std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + secs);
    let name = |file: PathBuf| file.file_name().unwrap().to_str().unwrap().to_owned();
    let dead_run = name(dir.session_file(at(0), dead));
    let older_dead_run = name(dir.session_file(at(1), dead));
    let live_run = name(dir.session_file(at(2), live));
    let other_thread = name(dir.session_file(at(3), me));
    let mine = dir.session_file(at(4), me);
    fs::create_dir_all(tmp.path()).unwrap();
    let left = [
        format!("{dead_run}.{dead}.tmp"),
        // As hosts before the temp files carried the writer's pid named them.
        format!("{older_dead_run}.tmp"),
        format!("{live_run}.{live}.tmp"),
        format!("{other_thread}.{me}.tmp"),
        "notes.tmp".to_owned(),
    ];
    for file in &left {
        fs::write(tmp.path().join(file), "{\"torn").unwrap();
    }
    dir.write(&mine, "{}", None).unwrap();
    let mut files: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected = vec![
        format!("{live_run}.{live}.tmp"),
        format!("{other_thread}.{me}.tmp"),
        name(mine.clone()),
        "notes.tmp".to_owned(),
    ];
    expected.sort();
    assert_eq!(files, expected);
    assert_eq!(fs::read_to_string(&mine).unwrap(), "{}");
}

#[test]
fn a_snapshot_of_another_plugin_is_refused_and_init_runs() {
    let shared = tempfile::tempdir().unwrap();
    let shared_dir = shared.path().to_str().unwrap();
    let one = support::copy_fixture("tick-plugin", "loop_plugin_one");
    let mut host = Running::start(one.path(), &["--every", "0", "--state-dir", shared_dir]);
    host.send("set Counter.count 42");
    host.state_until("the count set", |s| count(s) == 42);
    host.quit();
    let file = SnapshotDir::new(shared.path(), 1).list().unwrap().remove(0);

    let two = support::copy_fixture("tick-plugin", "loop_plugin_two");
    let mut host = Running::start(
        two.path(),
        &["--every", "0", "--state-dir", shared_dir, "--restore"],
    );
    let line = host.wait_err("could not restore");
    let manifest = one.path().join("Cargo.toml").canonicalize().unwrap();
    let refusal = SnapshotError::OtherPlugin {
        saved: "loop_plugin_one".into(),
        saved_manifest: manifest.display().to_string(),
        current: "loop_plugin_two".into(),
    };
    assert_eq!(
        line,
        format!(
            "error: could not restore {}: {refusal}; starting with `init`",
            file.display()
        )
    );
    assert_eq!(host.state(), json!({"Counter": {"count": 0, "marker": 0}}));
    host.quit();

    // The same refusal, exactly, from the library.
    let text = fs::read_to_string(&file).unwrap();
    let header = snapshot::header_of(&text).unwrap();
    assert_eq!(
        header.plugin,
        Some(PluginId {
            package: "loop_plugin_one".into(),
            manifest: manifest.display().to_string(),
        })
    );
    let two_id = hot_host::build::metadata::plugin_id(two.path()).unwrap();
    let catalog = coo_runtime::Catalog::default();
    let err = snapshot::load_for(&text, &catalog, &two_id).unwrap_err();
    assert_eq!(err, refusal);
}

/// The state is saved before every reload: killed right after a reload (no autosave, no save at
/// exit), the snapshot on disk is the state of before the reload, in the old layout, and
/// `--restore` migrates it into the new one.
#[test]
fn the_state_is_saved_before_every_reload_and_restores_into_a_new_layout() {
    let dir = support::copy_fixture("tick-plugin", "loop_before_reload");
    let mut host = Running::start(
        dir.path(),
        &["--every", "0", "--autosave", "0", "--no-watch"],
    );
    host.send("set Counter.count 42");
    host.state_until("the count set", |s| count(s) == 42);
    assert_eq!(snapshot_files(dir.path()), Vec::<PathBuf>::new());
    edit(
        dir.path(),
        "pub marker: u32,",
        "pub marker: u32,\n    #[coo(default = 3)]\n    pub lives: u8,",
    );
    edit(
        dir.path(),
        "marker: 0,\n    }",
        "marker: 0,\n        lives: 3,\n    }",
    );
    host.send("reload");
    host.wait_out("the reload", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    host.kill();

    let files = snapshot_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let saved = read_json(&files[0]).unwrap();
    assert_eq!(
        saved["state"],
        json!({"Counter": {"count": 42, "marker": 0}})
    );
    let fields: Vec<&str> = saved["types"]["Counter"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["count", "marker"], "saved before the reload");

    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    host.wait_out("the restore", |l| {
        (l == format!("restored the state from {}", files[0].display())).then_some(())
    });
    assert_eq!(
        host.state(),
        json!({"Counter": {"count": 42, "marker": 0, "lives": 3}})
    );
    host.quit();
}

#[test]
fn a_restore_that_fails_says_why_and_starts_with_init() {
    let dir = support::copy_fixture("tick-plugin", "loop_restore_fails");
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    host.send("set Counter.count 300");
    host.state_until("the count set", |s| count(s) == 300);
    host.quit();
    let file = snapshot_files(dir.path()).remove(0);
    // 300 does not fit the new type: the restore fails as a whole.
    edit(dir.path(), "pub count: u64,", "pub count: u8,");
    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    let line = host.wait_err("could not restore");
    let prefix = format!(
        "error: could not restore {}: the snapshot cannot be loaded into the current types: \
         `Counter.count` holds 300, which is not exactly representable as `u8`",
        file.display()
    );
    assert!(line.starts_with(&prefix), "{line}");
    assert!(line.ends_with("; starting with `init`"), "{line}");
    assert_eq!(
        host.next_err(),
        format!(
            "warning: {} was not restored; it stays, and `--restore` picks it again \
             (`--restore=NAME` picks another, `hot-host snapshots` lists them)",
            file.display()
        )
    );
    assert_eq!(host.state(), json!({"Counter": {"count": 0, "marker": 0}}));
    host.quit();
    // The snapshot that could not be restored is still there, and still the default.
    let files = snapshot_files(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[1], file);
    assert_eq!(
        SnapshotDir::new(state_dir(dir.path()), 10)
            .restore_candidate()
            .unwrap()
            .map(|(f, _)| f),
        Some(file),
        "the run that could not restore it does not supersede it, even when it quits"
    );
}

#[test]
fn tick_names_the_function_to_tick() {
    let dir = support::copy_fixture("tick-plugin", "loop_tick_fn");
    append(
        dir.path(),
        "\n#[hot_fn]\npub fn step(counter: &mut Counter) {\n    counter.marker += 1;\n}\n",
    );
    let mut host = Running::start(dir.path(), &["--tick", "step", "--no-watch"]);
    let state = host.state_until("steps", |s| s["Counter"]["marker"].as_u64() >= Some(5));
    assert_eq!(count(&state), 0, "`tick` is not what ticks: {state}");
    host.quit();

    let mut host = Running::start(dir.path(), &["--tick", "nope", "--no-watch"]);
    assert_eq!(
        host.wait_err("warning:"),
        "warning: the plugin has no function `nope` to tick"
    );
    assert_eq!(host.state(), json!({"Counter": {"count": 0, "marker": 0}}));
    host.quit();
}

#[test]
fn a_tick_that_fails_pauses_ticking_until_the_next_reload() {
    let dir = support::copy_fixture("tick-plugin", "loop_tick_fails");
    append(
        dir.path(),
        "\n#[hot_fn]\npub fn boom(counter: &mut Counter) {\n    counter.count += 1;\n    \
         if counter.count == 3 {\n        panic!(\"the third tick\");\n    }\n}\n",
    );
    let mut host = Running::start(dir.path(), &["--tick", "boom", "--no-watch"]);
    assert_eq!(
        host.wait_err("error: tick"),
        "error: tick `boom`: `boom` panicked: the third tick"
    );
    assert_eq!(host.next_err(), "ticking is paused until the next reload");
    // Paused: 100 tick periods later, still the third tick.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        assert_eq!(count(&host.state()), 3);
        thread::sleep(Duration::from_millis(50));
    }
    host.send("reload");
    host.wait_out("the reload", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    host.state_until("ticking again", |s| count(s) > 3);
    host.quit();
}

/// A tick whose returned value replaces a resource whose `Drop` panics: the panic is caught,
/// the value leaked, a warning printed, and ticking goes on.
#[test]
fn a_tick_that_replaces_a_resource_whose_drop_panics_warns_and_ticks_on() {
    let dir = support::copy_fixture("tick-plugin", "loop_drop_panics");
    append(
        dir.path(),
        "\n#[derive(CooType, Debug)]\npub struct Noisy {\n    pub id: u64,\n}\n\n\
         impl Drop for Noisy {\n    fn drop(&mut self) {\n        \
         panic!(\"noisy {} refuses to drop\", self.id);\n    }\n}\n\n\
         #[hot_fn]\npub fn churn(counter: &mut Counter) -> Noisy {\n    \
         counter.count += 1;\n    Noisy { id: counter.count }\n}\n",
    );
    let mut host = Running::start(dir.path(), &["--tick", "churn", "--no-watch"]);
    // The second tick replaces the first tick's `Noisy`.
    assert_eq!(
        host.wait_err("warning:"),
        "warning: dropping a `loop_drop_panics::Noisy` panicked: noisy 1 refuses to drop; \
         the value was leaked, not dropped again (a `Drop` impl must not panic)"
    );
    assert_eq!(
        host.wait_err("warning:"),
        "warning: dropping a `loop_drop_panics::Noisy` panicked: noisy 2 refuses to drop; \
         the value was leaked, not dropped again (a `Drop` impl must not panic)"
    );
    host.state_until("ticking on", |s| count(s) > 5);
    host.drain();
    assert!(
        !host.err_seen.iter().any(|l| l.starts_with("error")),
        "{:?}",
        host.err_seen
    );
    host.quit();
}

#[test]
fn no_watch_reloads_only_on_the_reload_command() {
    let dir = support::copy_fixture("tick-plugin", "loop_no_watch");
    let mut host = Running::start(dir.path(), &["--every", "0", "--no-watch"]);
    edit(dir.path(), "counter.marker = 0;", "counter.marker = 7;");
    // How long a build and reload of this plugin takes on this machine now.
    let started = Instant::now();
    host.send("reload");
    host.wait_out("the reload", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    let reload_time = started.elapsed();
    host.send("call tick");
    host.state_until("the new code", |s| s["Counter"]["marker"] == 7);

    // A save: with watching, it would be live within about one reload time. Three of them,
    // and at least 2 s, and it is not.
    edit(dir.path(), "counter.marker = 7;", "counter.marker = 8;");
    let until = Instant::now() + (reload_time * 3).max(Duration::from_secs(2));
    while Instant::now() < until {
        host.send("call tick");
        assert_eq!(host.state()["Counter"]["marker"], 7);
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(host.reloads(), 1);
    host.send("reload");
    host.wait_out("the reload", |l| {
        l.starts_with("version 2 -> 3").then_some(())
    });
    host.send("call tick");
    host.state_until("the saved code", |s| s["Counter"]["marker"] == 8);
    host.quit();
}

#[test]
fn the_plugin_identity_is_its_package() {
    let dir = support::copy_fixture("tick-plugin", "loop_identity");
    let id = hot_host::build::metadata::plugin_id(dir.path()).unwrap();
    assert_eq!(
        id,
        PluginId {
            package: "loop_identity".into(),
            manifest: dir
                .path()
                .join("Cargo.toml")
                .canonicalize()
                .unwrap()
                .display()
                .to_string(),
        }
    );
    let empty = tempfile::tempdir().unwrap();
    let err = hot_host::build::metadata::plugin_id(empty.path()).unwrap_err();
    assert!(
        matches!(
            &err,
            IdentityError::Metadata(MetadataError::NotACrate(NotACrate { dir })) if dir == empty.path()
        ),
        "{err:?}"
    );
}

/// The four steps of the README's walkthrough, on a copy of `demo-plugin` run as the README runs
/// it (ticking every 100 ms, watching), checking what the README says the user will see.
#[test]
fn the_readme_walkthrough_on_a_copy_of_the_demo() {
    let dir = support::copy_fixture("tick-plugin", "readme_demo");
    let demo = support::workspace().join("demo-plugin/src/lib.rs");
    fs::copy(demo, dir.path().join("src/lib.rs")).unwrap();
    let mut host = Running::start(dir.path(), &["--every", "100"]);
    let tick = |s: &Value| s["World"]["tick"].as_u64().expect("World.tick");
    let p0 = |s: &Value| s["World"]["particles"][0].clone();
    host.state_until("the simulation running", |s| tick(s) >= 2);
    // Values no restarted simulation reaches while the test runs: the tick count, and a height
    // the particle will not fall from (no bounce off the floor) for the rest of the test.
    host.send(&format!("set World.tick {FAR}"));
    host.send("set World.particles[0].pos.y 1e12");
    host.state_until("the values set", |s| {
        tick(s) >= FAR && p0(s)["pos"]["y"].as_f64() == Some(1e12)
    });

    // 1. Change what `tick` does: the particles fall faster, the tick count carries on.
    edit(
        dir.path(),
        "p.vel.y += world.gravity.y * 0.1;",
        "p.vel.y += world.gravity.y * 0.5;",
    );
    host.wait_out("version 1 -> 2", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    let a = host.state();
    assert!(tick(&a) > FAR, "the tick count carried over: {a}");
    let b = host.state_until("two more ticks", |s| tick(s) >= tick(&a) + 2);
    let per_tick = (p0(&b)["vel"]["y"].as_f64().unwrap() - p0(&a)["vel"]["y"].as_f64().unwrap())
        / (tick(&b) - tick(&a)) as f64;
    // Gravity -1 times the new 0.5 per tick (the old code's 0.1 is far off); f32 velocities
    // that began with the old code's inexact steps leave a rounding error.
    assert!((per_tick + 0.5).abs() < 1e-3, "{per_tick} per tick");

    // 2. Add a field with a default: five particles migrated, each with `mass: 1.0`.
    edit(
        dir.path(),
        "pub vel: Vec2,\n}",
        "pub vel: Vec2,\n    #[coo(default = 1.0)]\n    pub mass: f32,\n}",
    );
    edit(
        dir.path(),
        "vel: Vec2 { x: 0.5, y: 0.0 },",
        "vel: Vec2 { x: 0.5, y: 0.0 },\n                mass: 1.0,",
    );
    edit(
        dir.path(),
        "vel: Vec2::default(),",
        "vel: Vec2::default(),\n        mass: 1.0,",
    );
    host.wait_out("version 2 -> 3", |l| {
        l.starts_with("version 2 -> 3").then_some(())
    });
    host.wait_out("the new field", |l| {
        (l.trim() == "+ mass: f32").then_some(())
    });
    host.wait_out("the migrated count", |l| {
        (l.trim() == "5 values migrated").then_some(())
    });
    host.send("state World.particles[0]");
    host.wait_out("the particle shown", |l| {
        (l.trim() == "mass: 1.0,").then_some(())
    });
    let s = host.state();
    assert!(
        p0(&s)["pos"]["y"].as_f64().unwrap() > 1e11,
        "the position carried over: {s}"
    );
    assert_eq!(s["World"]["particles"].as_array().unwrap().len(), 5);

    // 3. Rename a field with `rename_from`: the velocities carry over. Without gravity and with
    // no sideways speed, particle 0's velocity is constant, so it must come back exactly.
    host.send("set World.gravity.y 0");
    host.send("set World.particles[0].vel.x 0");
    host.send("set World.particles[0].vel.y -1234.5");
    host.state_until("the velocity set", |s| {
        p0(s)["vel"] == json!({"x": 0.0, "y": -1234.5})
    });
    let source = fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    let renamed = source
        .replace(
            "pub vel: Vec2,",
            "#[coo(rename_from = \"vel\")]\n    pub velocity: Vec2,",
        )
        .replace("vel: Vec2", "velocity: Vec2")
        .replace(".vel.", ".velocity.");
    assert!(
        !renamed.contains("vel.") && !renamed.contains(" vel:"),
        "{renamed}"
    );
    fs::write(dir.path().join("src/lib.rs"), renamed).unwrap();
    host.wait_out("version 3 -> 4", |l| {
        l.starts_with("version 3 -> 4").then_some(())
    });
    host.wait_out("the rename", |l| {
        l.trim().starts_with("> vel -> velocity").then_some(())
    });
    let s = host.state();
    assert_eq!(p0(&s)["velocity"], json!({"x": 0.0, "y": -1234.5}), "{s}");
    assert!(p0(&s).get("vel").is_none());

    // 4. Break the build: the errors are shown in full and the old version keeps ticking; the
    // fix reloads.
    edit(dir.path(), "world.tick += 1;", "world.tick += \"one\";");
    assert_eq!(
        host.wait_err("reload failed"),
        "reload failed; version 4 keeps running with its state"
    );
    host.wait_err("cannot add-assign `&str` to `u64`");
    host.wait_err("src/lib.rs");
    let broken = tick(&host.state());
    host.state_until("ticking on", |s| tick(s) > broken + 1);
    edit(dir.path(), "world.tick += \"one\";", "world.tick += 1;");
    host.wait_out("version 4 -> 5", |l| {
        l.starts_with("version 4 -> 5").then_some(())
    });
    let s = host.state();
    assert!(tick(&s) > broken, "{s}");
    assert_eq!(p0(&s)["velocity"]["y"], -1234.5);
    host.quit();
}

#[test]
fn release_builds_the_plugin_with_the_release_profile_and_reloads_it() {
    let dir = support::copy_fixture("tick-plugin", "loop_release");
    append(
        dir.path(),
        "\n#[hot_fn]\npub fn optimized() -> bool {\n    !cfg!(debug_assertions)\n}\n",
    );
    let mut host = Running::start(dir.path(), &["--release", "--no-watch", "--every", "0"]);
    host.send("call optimized");
    host.wait_out("the profile", |l| (l == "true").then_some(()));
    let release_lib = support::fixtures_target_dir().join("release").join(format!(
        "{}loop_release{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(release_lib.exists(), "{} was built", release_lib.display());
    // A reload builds with the same profile.
    edit(
        dir.path(),
        "!cfg!(debug_assertions)",
        "!cfg!(debug_assertions) && true",
    );
    host.send("reload");
    host.wait_out("the reload", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    host.send("call optimized");
    host.wait_out("the profile after the reload", |l| {
        (l == "true").then_some(())
    });
    host.quit();
}

/// Issue 15: a state of 200,000 small structs (the issue's 1,000,000 scaled down to keep the
/// test quick). Autosaves are captured by the loop and written on a thread of their own: the
/// loop goes on ticking between them (checked by counts), `save` and `load` and `--restore`
/// give back every value exactly.
#[test]
fn a_large_state_autosaves_while_it_ticks_and_comes_back_exactly() {
    const N: usize = 200_000;
    let dir = support::copy_fixture("tick-plugin", "loop_large");
    edit(
        dir.path(),
        "pub struct Counter {\n    pub count: u64,\n    pub marker: u32,\n}",
        "pub struct Counter {\n    pub count: u64,\n    pub marker: u32,\n    pub particles: Vec<Particle>,\n}\n\n\
         #[derive(CooType, Debug)]\npub struct Particle {\n    pub x: f32,\n    pub y: f32,\n    pub vx: f32,\n    pub vy: f64,\n}",
    );
    edit(
        dir.path(),
        "        marker: 0,\n    }",
        &format!(
            "        marker: 0,\n        particles: (0..{N}).map(|i| {{ let f = i as f32; Particle {{ x: f * 0.37 + 0.1, y: f * -1.13 / 7.0, vx: (f * 0.001).sin(), vy: 1.0 / (i as f64 + 3.0) }} }}).collect(),\n    }}"
        ),
    );
    edit(
        dir.path(),
        "    counter.marker = 0;",
        "    counter.marker = 0;\n    let n = counter.particles.len();\n    let p = &mut counter.particles[counter.count as usize % n];\n    p.x += 0.5;\n    p.vx = -p.vx;",
    );
    let mut host = Running::start(dir.path(), &["--every", "1", "--autosave", "1"]);
    let particles = |state: &Value| state["Counter"]["particles"].as_array().map(Vec::len);

    // Autosaves come one after the other, each with more ticks, and the loop ticks on past them.
    let mut counts = Vec::new();
    while counts.len() < 3 {
        let saved = eventually("an autosave with more ticks", || {
            let file = snapshot_files(dir.path()).into_iter().next()?;
            read_json(&file).filter(|s| counts.last().is_none_or(|&last| count(&s["state"]) > last))
        });
        assert_eq!(particles(&saved["state"]), Some(N));
        counts.push(count(&saved["state"]));
    }
    host.send("state Counter.count");
    let live: u64 = host.wait_out("the count", |l| l.trim().parse().ok());
    assert!(live >= counts[2], "live {live}, autosaved {counts:?}");

    host.quit();

    // The save at exit is what `--restore` brings back, value for value.
    let on_disk = read_json(&snapshot_files(dir.path())[0]).unwrap();
    assert_eq!(on_disk["run"]["ended"], true);
    assert!(count(&on_disk["state"]) >= live);
    let mut host = Running::start(dir.path(), &["--every", "0", "--restore"]);
    assert_eq!(host.state(), on_disk["state"]);

    // `save` and `load` give back every value.
    let file = dir.path().join("large.json");
    host.send(&format!("save {}", file.display()));
    host.wait_out("the save", |l| {
        l.starts_with("saved the state to").then_some(())
    });
    let saved = read_json(&file).unwrap();
    assert_eq!(saved["state"], on_disk["state"]);
    host.send("set Counter.particles[7].vy 0.5");
    host.send(&format!("load {}", file.display()));
    host.wait_out("the load", |l| {
        l.starts_with("loaded 1 resource").then_some(())
    });
    assert_eq!(host.state(), saved["state"]);
    host.quit();
}

/// Issue 15: the same kind of large state (100,000 particles) in the binary format: the run's
/// snapshots are `.coo` files (`--autosave-format coo`), an autosave says its size and time,
/// `--restore` brings the state back exactly, `save`/`load` of a `.coo` file give back every
/// value, a damaged file is refused naming the offset and leaves the state as it was, and a
/// `.coo` file saved before a layout change migrates when loaded after it.
#[test]
fn a_large_state_saves_and_restores_in_the_binary_format_exactly() {
    const N: usize = 100_000;
    let dir = support::copy_fixture("tick-plugin", "loop_binary");
    edit(
        dir.path(),
        "pub struct Counter {\n    pub count: u64,\n    pub marker: u32,\n}",
        "pub struct Counter {\n    pub count: u64,\n    pub marker: u32,\n    pub particles: Vec<Particle>,\n}\n\n\
         #[derive(CooType, Debug)]\npub struct Particle {\n    pub x: f32,\n    pub y: f32,\n    pub vx: f32,\n    pub vy: f64,\n}",
    );
    edit(
        dir.path(),
        "        marker: 0,\n    }",
        &format!(
            "        marker: 0,\n        particles: (0..{N}).map(|i| {{ let f = i as f32; Particle {{ x: f * 0.37 + 0.1, y: f * -1.13 / 7.0, vx: (f * 0.001).sin(), vy: 1.0 / (i as f64 + 3.0) }} }}).collect(),\n    }}"
        ),
    );
    edit(
        dir.path(),
        "    counter.marker = 0;",
        "    counter.marker = 0;\n    let n = counter.particles.len();\n    let p = &mut counter.particles[counter.count as usize % n];\n    p.x += 0.5;\n    p.vx = -p.vx;",
    );
    let args = [
        "--every",
        "0",
        "--autosave",
        "1",
        "--autosave-format",
        "coo",
    ];
    let mut host = Running::start(dir.path(), &args);
    for _ in 0..3 {
        host.send("call tick");
    }
    let before = host.state_until("three ticks", |s| count(s) == 3);
    // The autosave of the three ticks, in binary, says its size and time.
    let autosaved = host.wait_out("an autosave", |l| {
        l.strip_prefix("autosaved ").map(str::to_owned)
    });
    let file = snapshot_files(dir.path()).into_iter().next().unwrap();
    assert_eq!(file.extension().unwrap(), "coo");
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let (shown, size) = autosaved.split_once(" (").unwrap();
    assert_eq!(shown, name);
    assert_eq!(size_text(&file, size), size);
    assert!(
        fs::read(&file)
            .unwrap()
            .starts_with(&hot_host::state_io::binary::MAGIC)
    );
    host.quit();

    // `--restore` brings back the save at exit, value for value.
    let mut host = Running::start(
        dir.path(),
        &["--every", "0", "--autosave", "0", "--restore"],
    );
    assert_eq!(host.state(), before);

    // `save` and `load` of a `.coo` file give back every value.
    let saved = dir.path().join("large.coo");
    host.send(&format!("save {}", saved.display()));
    let prefix = format!("saved the state to {} (", saved.display());
    let size = host.wait_out("the save", |l| l.strip_prefix(&prefix).map(str::to_owned));
    assert_eq!(size_text(&saved, &size), size);
    let json = dir.path().join("large.json");
    host.send(&format!("save {}", json.display()));
    host.wait_out("the JSON save", |l| {
        l.starts_with("saved the state to").then_some(())
    });
    assert!(
        fs::metadata(&saved).unwrap().len() * 2 < fs::metadata(&json).unwrap().len(),
        "binary is compact"
    );
    host.send("set Counter.particles[7].vy 0.5");
    host.send(&format!("load {}", saved.display()));
    host.wait_out("the load", |l| {
        l.starts_with("loaded 1 resource").then_some(())
    });
    assert_eq!(host.state(), before);

    // A damaged file is refused, naming where, and the state stays as it was.
    let mut bytes = fs::read(&saved).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    let damaged = dir.path().join("damaged.coo");
    fs::write(&damaged, &bytes).unwrap();
    host.send("set Counter.marker 9");
    host.send(&format!("load {}", damaged.display()));
    let refused = host.wait_err("could not load");
    assert_eq!(
        refused,
        format!(
            "error: could not load {}, the state is unchanged: the binary snapshot is damaged at byte {}: \
             the checksum there does not match the bytes before it (the file was changed or damaged); \
             restore another snapshot",
            damaged.display(),
            bytes.len() - 8
        )
    );
    let mut expected = before.clone();
    expected["Counter"]["marker"] = json!(9);
    assert_eq!(host.state(), expected);

    // A layout change, then the `.coo` file saved before it migrates when loaded.
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
    host.send("set Counter.count 77");
    host.send(&format!("load {}", saved.display()));
    host.wait_out("the migrating load", |l| {
        l.starts_with("loaded 1 resource").then_some(())
    });
    let mut migrated = before.clone();
    migrated["Counter"]["lives"] = json!(3);
    assert_eq!(host.state(), migrated);
    host.quit();
}

/// While a save is rebuilt, cargo's progress shows on standard error ("Compiling …",
/// "Finished …"); a build with warnings reloads and says how many there are, and `warnings`
/// prints them as rustc rendered them.
#[test]
fn a_reload_shows_cargos_progress_and_the_warnings_of_its_build() {
    let dir = support::copy_fixture("tick-plugin", "loop_warn");
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    // The first build shows cargo's progress too, before the plugin is loaded.
    assert_eq!(
        host.wait_err("Compiling"),
        format!("   Compiling loop_warn v0.1.0 ({})", dir.path().display())
    );
    host.wait_err("    Finished `dev` profile");
    host.send("warnings");
    host.wait_out("no warnings", |l| {
        (l == "the last build had no warnings").then_some(())
    });
    edit(
        dir.path(),
        "counter.marker = 0;",
        "let unused = 1;\n    counter.marker = 7;",
    );
    let compiling = host.wait_err("Compiling");
    assert_eq!(
        compiling,
        format!("   Compiling loop_warn v0.1.0 ({})", dir.path().display())
    );
    let finished = host.next_err();
    assert!(
        finished.starts_with("    Finished `dev` profile [unoptimized + debuginfo] target(s) in "),
        "{finished}"
    );
    host.wait_out("the reload", |l| {
        l.starts_with("version 1 -> 2").then_some(())
    });
    assert_eq!(
        host.next_err(),
        "warning: version 2 was built with 1 warning; `warnings` shows it"
    );
    host.send("warnings");
    host.wait_out("the warning", |l| {
        (l == "warning: unused variable: `unused`").then_some(())
    });
    let mut next = || host.wait_out("the warning's lines", |l| Some(l.to_owned()));
    assert_eq!(next(), "  --> src/lib.rs:22:9");
    assert_eq!(next(), "   |");
    assert_eq!(next(), "22 |     let unused = 1;");
    // A reload typed as a command shows cargo's progress as well.
    host.send("reload");
    host.wait_err("    Finished `dev` profile");
    host.quit();
}

/// A build error: cargo's progress, then rustc's diagnostics in full (the error, where, the
/// source line, the pointer, the hint and cargo's last word), and the old version keeps
/// running.
#[test]
fn a_build_error_shows_cargos_progress_and_rustcs_diagnostics_in_full() {
    let dir = support::copy_fixture("tick-plugin", "loop_broken");
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    // The first build shows cargo's progress too, before the plugin is loaded.
    assert_eq!(
        host.wait_err("Compiling"),
        format!("   Compiling loop_broken v0.1.0 ({})", dir.path().display())
    );
    host.wait_err("    Finished `dev` profile");
    // The loop answers: it watches the sources.
    assert_eq!(host.state(), json!({"Counter": {"count": 0, "marker": 0}}));
    edit(
        dir.path(),
        "counter.count += 1;",
        "counter.count += \"one\";",
    );
    let compiling = host.wait_err("Compiling");
    assert_eq!(
        compiling,
        format!("   Compiling loop_broken v0.1.0 ({})", dir.path().display())
    );
    assert_eq!(
        host.next_err(),
        "reload failed; version 1 keeps running with its state"
    );
    assert_eq!(host.next_err(), "the build failed:");
    assert_eq!(host.next_err(), "the plugin failed to compile:");
    let mut shown = Vec::new();
    loop {
        let line = host.next_err();
        let last = line.starts_with("error: could not compile");
        shown.push(line);
        if last {
            break;
        }
    }
    assert_eq!(
        shown[..5],
        [
            "error[E0277]: cannot add-assign `&str` to `u64`",
            "  --> src/lib.rs:21:19",
            "   |",
            "21 |     counter.count += \"one\";",
            "   |                   ^^ no implementation for `u64 += &str`",
        ],
        "{shown:#?}"
    );
    assert!(
        shown.contains(
            &"For more information about this error, try `rustc --explain E0277`.".to_owned()
        ),
        "{shown:#?}"
    );
    assert_eq!(
        shown.last().unwrap(),
        "error: could not compile `loop_broken` (lib) due to 1 previous error"
    );
    host.send("call tick");
    host.state_until("the old code ticking", |s| count(s) == 1);
    host.quit();
}

#[test]
fn maps_a_deque_and_tuples_migrate_under_edits_and_refusals_change_nothing() {
    let dir = support::copy_fixture("inventory-plugin", "loop_inventory");
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    host.state_until("the inventory", |s| {
        s["Inventory"]["items"]["bolt"]["qty"] == 40
    });
    // A map entry edited by key, as a user types it.
    host.send(r#"set 'Inventory.items["nut"].qty' 300"#);
    host.state_until("the set", |s| s["Inventory"]["items"]["nut"]["qty"] == 300);

    // `Item` gains a field, its `qty` widens, the tuple's first element widens.
    edit(
        dir.path(),
        "pub qty: u32,",
        "pub qty: u64,\n    #[coo(default = 1)]\n    pub shelf: u8,",
    );
    edit(
        dir.path(),
        "fn item(qty: u32, price: f32) -> Item {\n    Item { qty, price }",
        "fn item(qty: u64, price: f32) -> Item {\n    Item { qty, price, shelf: 1 }",
    );
    edit(
        dir.path(),
        "pub spots: BTreeMap<u32, (f32, f32)>,",
        "pub spots: BTreeMap<u32, (f64, f32)>,",
    );
    let migrated = host.state_until("the new field", |s| {
        s["Inventory"]["items"]["bolt"]["shelf"] == 1
    });
    assert_eq!(
        migrated["Inventory"],
        json!({
            "items": {
                "bolt": {"qty": 40, "price": 0.25, "shelf": 1},
                "nut": {"qty": 300, "price": 0.1, "shelf": 1},
            },
            "spots": {"1": [0.5, -1.0], "3": [1.5, 2.5]},
            "recent": [0, 1, 2, 3],
            "bins": migrated["Inventory"]["bins"].clone(),
        })
    );
    let bins = migrated["Inventory"]["bins"]
        .as_array()
        .expect("struct keys: pairs");
    assert_eq!(bins.len(), 2);
    assert!(
        bins.contains(&json!([{"shelf": 1, "slot": 1}, 10])),
        "{bins:?}"
    );
    assert!(
        bins.contains(&json!([{"shelf": 1, "slot": 2}, 20])),
        "{bins:?}"
    );
    assert_eq!(host.reloads(), 1);

    // A narrowing that one map value does not survive: refused, naming the key's path.
    edit(dir.path(), "pub qty: u64,", "pub qty: u8,");
    edit(dir.path(), "fn item(qty: u64,", "fn item(qty: u8,");
    let refused = host.wait_err("holds 300");
    assert_eq!(
        refused,
        "the live state could not be migrated, nothing was changed: \
         `Inventory.items[\"nut\"].qty` holds 300, which is not exactly representable as `u8` \
         (was `u64`); change the value so it fits, or keep the field as `u64`"
    );
    assert_eq!(
        host.state()["Inventory"],
        migrated["Inventory"],
        "nothing changed"
    );

    // `Bin` loses `slot`: two keys of `bins` would become one; refused naming both.
    edit(dir.path(), "pub qty: u8,", "pub qty: u64,");
    edit(dir.path(), "fn item(qty: u8,", "fn item(qty: u64,");
    edit(dir.path(), "    pub slot: u8,\n", "");
    edit(
        dir.path(),
        "(Bin { shelf: 1, slot: 1 }, 10),",
        "(Bin { shelf: 1 }, 10),",
    );
    edit(
        dir.path(),
        "(Bin { shelf: 1, slot: 2 }, 20),",
        "(Bin { shelf: 2 }, 20),",
    );
    let merged = host.wait_err("would become the same key");
    let named =
        |a: &str, b: &str| merged.contains(&format!("the keys {a} and {b} of `Inventory.bins`"));
    let (one, two) = ("Bin { shelf: 1, slot: 1 }", "Bin { shelf: 1, slot: 2 }");
    assert!(named(one, two) || named(two, one), "{merged}");
    assert_eq!(
        host.state()["Inventory"],
        migrated["Inventory"],
        "nothing changed"
    );
    assert_eq!(host.reloads(), 1, "the refused reloads loaded nothing");
    host.quit();
}

/// The next reload report's head line (`version 1 -> 2 ...`).
fn next_reload(host: &mut Running) {
    host.wait_out("a reload", |l| {
        (l.starts_with("version ") && l.contains(" -> ")).then_some(())
    });
}

#[test]
fn trait_objects_answer_with_edited_method_bodies_and_keep_their_values_through_layout_changes() {
    let dir = support::copy_fixture("garage-plugin", "loop_garage");
    let mut host = Running::start(dir.path(), &["--every", "0"]);
    host.send("call tick");
    let first = host.state_until("the first tick", |s| {
        s["Garage"]["speeds"] == json!([6, 100])
    });
    assert_eq!(
        first["Garage"]["vehicles"],
        json!([{"Bicycle": {"gear": 3, "rider": "ann"}}, {"Car": {"plate": "CO-1"}}])
    );

    // A method body edited: the existing objects answer with the new body.
    edit(
        dir.path(),
        "u32::from(self.gear) * 2",
        "u32::from(self.gear) * 5",
    );
    next_reload(&mut host);
    host.wait_out("the rebinding", |l| {
        (l == "  rebound 2 `dyn Vehicle` objects to the new code").then_some(())
    });
    host.send("call tick");
    let rebound = host.state_until("the new body's speeds", |s| {
        s["Garage"]["speeds"] == json!([15, 100])
    });
    assert_eq!(rebound["Garage"]["vehicles"], first["Garage"]["vehicles"]);

    // A field added to a concrete type: the object keeps its other fields' values.
    edit(
        dir.path(),
        "    pub rider: String,\n}",
        "    pub rider: String,\n    #[coo(default = 1)]\n    pub bells: u8,\n}",
    );
    edit(
        dir.path(),
        "u32::from(self.gear) * 5",
        "u32::from(self.gear) * 5 + u32::from(self.bells)",
    );
    edit(
        dir.path(),
        "rider: \"ann\".to_owned(),",
        "rider: \"ann\".to_owned(),\n                bells: 1,",
    );
    let grown = host.state_until("the new field", |s| {
        s["Garage"]["vehicles"][0]["Bicycle"]["bells"] == 1
    });
    assert_eq!(
        grown["Garage"]["vehicles"],
        json!([{"Bicycle": {"gear": 3, "rider": "ann", "bells": 1}}, {"Car": {"plate": "CO-1"}}])
    );
    host.send("call tick");
    host.state_until("the grown bicycle's speed", |s| {
        s["Garage"]["speeds"] == json!([16, 100])
    });

    // A field of an object, by path.
    host.send("set Garage.vehicles[0].gear 4");
    host.send("call tick");
    host.state_until("the set gear", |s| {
        s["Garage"]["speeds"] == json!([21, 100])
    });
    host.send("state Garage.vehicles[1]");
    host.wait_out("the object", |l| (l == "Car {").then_some(()));

    // Switching an object's type, through the `From<&Bicycle> for Car` the impl registered; the
    // other way has no conversion and is refused.
    host.send("convert Garage.vehicles[1] Bicycle");
    let no_from = host.wait_err("cannot be converted");
    assert_eq!(
        no_from,
        "error: `Garage.vehicles[1]` cannot be converted: the object is a `Car`, and `Bicycle` has \
         no conversion from it; write `impl From<&Car> for Bicycle` and mark its `Vehicle` impl \
         `#[coo_impl(from(Car))]`"
    );
    host.send("convert Garage.vehicles[0] Car");
    host.wait_out("the switch", |l| {
        (l == "converted `Garage.vehicles[0]` to `Car`").then_some(())
    });
    host.send("call tick");
    let switched = host.state_until("the switched object's speed", |s| {
        s["Garage"]["speeds"] == json!([100, 100])
    });
    assert_eq!(
        switched["Garage"]["vehicles"],
        json!([{"Car": {"plate": "ANN"}}, {"Car": {"plate": "CO-1"}}])
    );

    // The concrete type of live objects removed: refused, nothing changes.
    edit(
        dir.path(),
        "#[coo_impl(from(Bicycle))]\nimpl Vehicle for Car {",
        "impl Car {",
    );
    edit(
        dir.path(),
        "            Box::new(Car {\n                plate: \"CO-1\".to_owned(),\n            }),\n",
        "",
    );
    let refused = host.wait_err("removed");
    assert_eq!(
        refused,
        "the live state could not be migrated, nothing was changed: `Garage.vehicles[0]` is a \
         `dyn Vehicle` object of type `Car`, whose `#[coo_impl] impl Vehicle for Car` the new \
         version removed; keep the type and its impl, or convert the object to another type \
         first (`convert Garage.vehicles[0] <Type>`)"
    );
    host.send("call tick");
    assert_eq!(
        host.state(),
        switched,
        "the old code and state keep running"
    );
    host.quit();
}
