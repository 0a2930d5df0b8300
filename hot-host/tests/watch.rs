//! The watcher on real files, with the operating system's real file events.
//!
//! Timeouts are generous and only bound how long a test waits for an event that should come:
//! speed is not asserted (the latencies printed with `--nocapture` are for information). That
//! nothing came is never decided by waiting a while: a sentinel file is written after the
//! actions that must send nothing, and the next batch must hold the sentinel alone (batches come
//! in the order of their events, so anything the actions sent would come before or with it).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hot_host::build::metadata::MetadataError;
use hot_host::watch::{DEFAULT_DEBOUNCE, WatchError, WatchSet, Watcher, watched_paths};
use hot_host::{Builder, Change};

/// How long to wait for a batch that should come (generous: the machine may be busy).
const EVENTUALLY: Duration = Duration::from_secs(60);

/// A standalone crate `name` in `root`, with these `[dependencies]`.
fn write_crate(root: &Path, name: &str, dependencies: &str) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n{dependencies}\n\n\
             # Not a member of any workspace above the temporary directory.\n[workspace]\n"
        ),
    )
    .unwrap();
    fs::write(dir.join("src/lib.rs"), "pub fn f() -> u32 { 1 }\n").unwrap();
    dir
}

/// A temporary directory holding one crate, `plug`, and a watcher on it.
fn watched_plugin() -> (tempfile::TempDir, PathBuf, Watcher) {
    let tmp = tempfile::tempdir().unwrap();
    // Canonical, as the watcher reports the paths it was given.
    let root = tmp.path().canonicalize().unwrap();
    let plug = write_crate(&root, "plug", "");
    let set = watched_paths(&plug).unwrap();
    let watcher = Watcher::new(set, DEFAULT_DEBOUNCE).unwrap();
    (tmp, plug, watcher)
}

/// The next batch, waiting as long as it takes within reason.
fn next(watcher: &Watcher) -> Change {
    watcher
        .recv_timeout(EVENTUALLY)
        .unwrap_or_else(|| panic!("no change batch within {EVENTUALLY:?}"))
}

/// Writes a new file in the plugin's `src/`, a change the watcher reports.
fn write_sentinel(plug: &Path) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = plug.join(format!(
        "src/sentinel_{}.rs",
        N.fetch_add(1, Ordering::Relaxed)
    ));
    fs::write(&path, "// sentinel\n").unwrap();
    path
}

/// Nothing was sent since the last batch received: after a sentinel is written, the next batch
/// is the sentinel alone.
fn assert_quiet(watcher: &Watcher, plug: &Path, what: &str) {
    let sentinel = write_sentinel(plug);
    let change = next(watcher);
    assert_eq!(
        change.paths,
        [sentinel],
        "{what}: expected no batch before the sentinel"
    );
}

/// Every batch up to and including the one with a sentinel written now, the sentinel taken out.
fn batches_until_sentinel(watcher: &Watcher, plug: &Path) -> Vec<Change> {
    let sentinel = write_sentinel(plug);
    let mut batches = Vec::new();
    loop {
        let mut change = next(watcher);
        let done = change.paths.contains(&sentinel);
        change.paths.retain(|p| *p != sentinel);
        if !change.paths.is_empty() {
            batches.push(change);
        }
        if done {
            return batches;
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[test]
fn a_save_is_one_batch() {
    let (_tmp, plug, watcher) = watched_plugin();
    let lib = plug.join("src/lib.rs");
    let saved_at = Instant::now();
    fs::write(&lib, "pub fn f() -> u32 { 2 }\n").unwrap();
    let change = next(&watcher);
    let received_at = Instant::now();
    assert_eq!(change.paths, [lib]);
    assert!(change.errors.is_empty(), "{:?}", change.errors);
    assert!(change.first_event_at >= saved_at);
    println!(
        "save to batch: {} (first raw event to batch: {}, debounce {})",
        ms(received_at - saved_at),
        ms(received_at - change.first_event_at),
        ms(DEFAULT_DEBOUNCE)
    );
    assert_quiet(&watcher, &plug, "after one save");
}

#[test]
fn a_burst_of_writes_is_few_batches() {
    let (_tmp, plug, watcher) = watched_plugin();
    let lib = plug.join("src/lib.rs");
    for i in 0..20 {
        fs::write(&lib, format!("pub fn f() -> u32 {{ {i} }}\n")).unwrap();
    }
    let batches = batches_until_sentinel(&watcher, &plug);
    assert!(!batches.is_empty());
    println!("20 writes: {} batch(es)", batches.len());
    assert!(batches.len() <= 5, "{batches:?}");
    for change in &batches {
        assert_eq!(change.paths, std::slice::from_ref(&lib));
    }
}

#[test]
fn build_output_git_and_editor_files_send_nothing() {
    let (_tmp, plug, watcher) = watched_plugin();
    // Build output, at the crate root as cargo writes it and below `src/` too.
    fs::create_dir_all(plug.join("target/debug/deps")).unwrap();
    fs::write(plug.join("target/debug/deps/libplug.rlib"), "x").unwrap();
    fs::create_dir_all(plug.join("src/target")).unwrap();
    fs::write(plug.join("src/target/out.rs"), "x").unwrap();
    // Version control.
    fs::create_dir_all(plug.join(".git/objects")).unwrap();
    fs::write(plug.join(".git/index"), "x").unwrap();
    // Editors, in `src/` and at the crate root.
    for name in [
        ".lib.rs.swp",
        "lib.rs~",
        ".#lib.rs",
        "#lib.rs#",
        "4913",
        "lib.rs.tmp",
        "lib.rs___jb_tmp___",
    ] {
        fs::write(plug.join("src").join(name), "x").unwrap();
        fs::remove_file(plug.join("src").join(name)).unwrap();
    }
    fs::write(plug.join(".Cargo.toml.swp"), "x").unwrap();
    fs::write(plug.join("Cargo.toml~"), "x").unwrap();
    // Files at the root that the library build does not read.
    fs::write(plug.join("README.md"), "x").unwrap();
    // Reading the sources, as cargo does on every build.
    fs::read_to_string(plug.join("src/lib.rs")).unwrap();
    fs::read_to_string(plug.join("Cargo.toml")).unwrap();
    // The watcher was listening all along, and sent nothing for any of that.
    assert_quiet(&watcher, &plug, "ignored files");
}

#[test]
fn building_the_plugin_sends_nothing() {
    // Cargo reads every source and writes into `<plugin>/target/coo`, the builder's default:
    // none of it may start the next rebuild.
    let (_tmp, plug, watcher) = watched_plugin();
    let manifest = plug.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let text = text.replace(
        "[dependencies]",
        "[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n[dependencies]",
    );
    fs::write(&manifest, text).unwrap();
    assert_eq!(next(&watcher).paths, [manifest]);

    let out = Builder::new(&plug).build().unwrap();
    assert!(out.dylib.starts_with(plug.join("target")));
    assert_quiet(&watcher, &plug, "a build");
}

#[test]
fn an_atomic_save_by_rename_is_seen() {
    let (_tmp, plug, watcher) = watched_plugin();
    for file in ["src/lib.rs", "Cargo.toml"] {
        let path = plug.join(file);
        let temp = path.with_file_name(format!(
            ".{}.tmp",
            path.file_name().unwrap().to_str().unwrap()
        ));
        let text = fs::read_to_string(&path).unwrap() + "\n";
        fs::write(&temp, text).unwrap();
        fs::rename(&temp, &path).unwrap();
        let change = next(&watcher);
        assert_eq!(change.paths, [path], "{file}");
    }
}

#[test]
fn a_delete_and_recreate_is_seen() {
    let (_tmp, plug, watcher) = watched_plugin();
    let lib = plug.join("src/lib.rs");
    fs::remove_file(&lib).unwrap();
    fs::write(&lib, "pub fn f() -> u32 { 4 }\n").unwrap();
    // The removal and the creation may straddle two batches on a loaded machine.
    let mut paths: Vec<PathBuf> = batches_until_sentinel(&watcher, &plug)
        .into_iter()
        .flat_map(|c| c.paths)
        .collect();
    paths.dedup();
    assert_eq!(paths, [lib]);
}

#[test]
fn new_files_and_modules_are_seen() {
    let (_tmp, plug, watcher) = watched_plugin();
    // A build script created after the watch started.
    fs::write(plug.join("build.rs"), "fn main() {}\n").unwrap();
    assert_eq!(next(&watcher).paths, [plug.join("build.rs")]);
    // A module in a new directory: the recursive watch follows it.
    fs::create_dir(plug.join("src/net")).unwrap();
    let mut paths = next(&watcher).paths;
    fs::write(plug.join("src/net/mod.rs"), "pub fn g() {}\n").unwrap();
    while !paths.contains(&plug.join("src/net/mod.rs")) {
        paths.extend(next(&watcher).paths);
    }
}

#[test]
fn a_path_dependency_is_watched() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let dep = write_crate(&root, "dep", "");
    let plug = write_crate(&root, "plug", "dep = { path = \"../dep\" }");
    let set = watched_paths(&plug).unwrap();
    assert_eq!(
        set,
        WatchSet {
            dirs: vec![dep.join("src"), plug.join("src")],
            files: vec![
                dep.join("Cargo.toml"),
                dep.join("build.rs"),
                plug.join("Cargo.toml"),
                plug.join("build.rs"),
            ],
        }
    );

    let watcher = Watcher::new(set, DEFAULT_DEBOUNCE).unwrap();
    fs::write(dep.join("src/lib.rs"), "pub fn f() -> u32 { 5 }\n").unwrap();
    assert_eq!(next(&watcher).paths, [dep.join("src/lib.rs")]);
}

#[test]
fn the_demo_plugin_watches_the_runtime_it_builds_from() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let repo = repo.canonicalize().unwrap();
    let set = watched_paths(&repo.join("demo-plugin")).unwrap();
    for dir in ["demo-plugin/src", "coo-runtime/src", "coo-derive/src"] {
        assert!(set.dirs.contains(&repo.join(dir)), "{dir}: {set:?}");
    }
    for file in [
        "demo-plugin/Cargo.toml",
        "coo-runtime/Cargo.toml",
        "Cargo.toml",
    ] {
        assert!(set.files.contains(&repo.join(file)), "{file}: {set:?}");
    }
    // Nothing from a registry, nothing the library build does not read.
    for path in set.dirs.iter().chain(&set.files) {
        assert!(path.starts_with(&repo), "{}", path.display());
    }
    assert!(!set.dirs.contains(&repo.join("hot-host/src")), "{set:?}");
}

#[test]
fn a_directory_without_a_manifest_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = watched_paths(tmp.path()).unwrap_err();
    assert!(
        matches!(err, WatchError::Metadata(MetadataError::NotACrate(_))),
        "{err:?}"
    );
}

#[test]
fn spawn_sends_into_the_callers_channel() {
    #[derive(Debug)]
    enum Event {
        Line(String),
        Changed(Change),
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let plug = write_crate(&root, "plug", "");
    let (sender, receiver) = mpsc::channel();
    let _watcher = Watcher::spawn(
        watched_paths(&plug).unwrap(),
        DEFAULT_DEBOUNCE,
        sender.clone(),
        Event::Changed,
    )
    .unwrap();
    sender.send(Event::Line("help".into())).unwrap();
    fs::write(plug.join("src/lib.rs"), "pub fn f() -> u32 { 6 }\n").unwrap();
    assert!(matches!(
        receiver.recv_timeout(EVENTUALLY).unwrap(),
        Event::Line(line) if line == "help"
    ));
    match receiver.recv_timeout(EVENTUALLY).unwrap() {
        Event::Changed(change) => assert_eq!(change.paths, [plug.join("src/lib.rs")]),
        other => panic!("expected a change, got {other:?}"),
    }
}

#[test]
fn dropping_the_watcher_ends_its_thread() {
    let tmp = tempfile::tempdir().unwrap();
    let plug = write_crate(&tmp.path().canonicalize().unwrap(), "plug", "");
    let (sender, receiver) = mpsc::channel();
    let watcher = Watcher::spawn(
        watched_paths(&plug).unwrap(),
        DEFAULT_DEBOUNCE,
        sender,
        |change| change,
    )
    .unwrap();
    drop(watcher);
    // The thread held the only sender: the channel closes when it ends.
    assert!(matches!(
        receiver.recv_timeout(EVENTUALLY),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}
