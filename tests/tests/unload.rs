//! Bounded memory over unlimited reloads: old plugin images are unloaded and their copies
//! removed once nothing refers to them. The images are counted in `/proc/self/maps` (what the
//! process really maps, not what the host believes), by the copy names of each test's own
//! package, so tests running in parallel in this process do not see each other's images.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use hot_host::{Host, Value};
use support::{Plugin, fixtures_target_dir};

/// The loader's copies of the package `name` in this process: `coo-lib<name>-<pid>-<n>.so`.
fn copy_prefix(name: &str) -> String {
    format!("coo-lib{name}-{}-", std::process::id())
}

fn copy_dir() -> PathBuf {
    fixtures_target_dir().join("coo-loaded")
}

/// The distinct copies of `name` mapped into this process now.
fn mapped_images(name: &str) -> Vec<PathBuf> {
    let prefix = copy_prefix(name);
    let maps = fs::read_to_string("/proc/self/maps").expect("Linux /proc/self/maps");
    let mut out: Vec<PathBuf> = Vec::new();
    for line in maps.lines() {
        let Some(at) = line.find('/') else { continue };
        let path = line[at..].trim_end_matches(" (deleted)");
        let path = PathBuf::from(path);
        let is_ours = path.starts_with(copy_dir())
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix));
        if is_ours && !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// The copies of `name` on disk in the copy dir.
fn copies_on_disk(name: &str) -> usize {
    let prefix = copy_prefix(name);
    fs::read_dir(copy_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .count()
        })
        .unwrap_or(0)
}

/// Builds the plugin as it is now and keeps its library under `dir`, named like cargo's.
fn build_into(plugin: &Plugin, dir: &Path) -> PathBuf {
    let output = plugin
        .builder()
        .build()
        .unwrap_or_else(|e| panic!("{} does not build: {e}", plugin.name));
    let kept = dir.join(output.dylib.file_name().expect("a library file name"));
    fs::create_dir_all(dir).unwrap();
    fs::copy(&output.dylib, &kept).unwrap();
    kept
}

/// The tick fixture with a `String` field (drop glue of each version runs on the state), built
/// twice: version A ticks with marker 1, version B with marker 2. Same layout, new library.
fn two_builds(name: &str) -> (Plugin, tempfile::TempDir, PathBuf, PathBuf) {
    let plugin = Plugin::copy("tick-plugin", name);
    plugin.edit(&[
        (
            "pub marker: u32,\n}",
            "pub marker: u32,\n    pub name: String,\n}",
        ),
        (
            "marker: 0,\n    }",
            "marker: 0,\n        name: \"coo\".repeat(4),\n    }",
        ),
        ("counter.marker = 0;", "counter.marker = 1;"),
    ]);
    let builds = tempfile::tempdir().unwrap();
    let a = build_into(&plugin, &builds.path().join("a"));
    plugin.edit(&[("counter.marker = 1;", "counter.marker = 2;")]);
    let b = build_into(&plugin, &builds.path().join("b"));
    (plugin, builds, a, b)
}

fn counter(host: &Host) -> (u64, u32, String) {
    let json: serde_json::Value =
        serde_json::from_str(&hot_host::state_io::show::state_json(host.state())).unwrap();
    let c = &json["Counter"];
    (
        c["count"].as_u64().unwrap(),
        c["marker"].as_u64().unwrap() as u32,
        c["name"].as_str().unwrap().to_owned(),
    )
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn two_hundred_reloads_keep_at_most_two_images_mapped_and_one_copy_on_disk() {
    let name = "unload_many";
    let (plugin, _builds, a, b) = two_builds(name);
    let mut host = Host::with_builder(plugin.builder());
    host.reload_from(&a, None).unwrap();
    host.call_by_name("init", &[]).unwrap();
    // A handle resolved once and called across every reload follows the slot.
    let tick = host.resolve("tick").unwrap();
    drop(tick);
    for i in 1..=200u64 {
        let dylib = if i % 2 == 0 { &a } else { &b };
        let report = host
            .reload_from(dylib, None)
            .unwrap_or_else(|e| panic!("reload {i} failed: {e}"));
        assert_eq!(report.to_version, i + 1);
        let tick = host.resolve("tick").unwrap();
        host.call(&tick, &[]).unwrap();
        assert_eq!(
            counter(&host),
            (i, if i % 2 == 0 { 1 } else { 2 }, "coo".repeat(4)),
            "after reload {i}"
        );
    }
    // At most the current image and one old one still closing; only the live copy on disk.
    let (mapped, on_disk) = (mapped_images(name), copies_on_disk(name));
    assert_eq!(
        (mapped.len() <= 2, on_disk),
        (true, 1),
        "after 200 reloads: {} images of the plugin mapped, {on_disk} copies on disk: {mapped:#?}",
        mapped.len()
    );
    assert_eq!(
        host.call_by_name("tick", &[]).unwrap(),
        Value::Unit,
        "the host still runs"
    );
    assert_eq!(counter(&host).0, 201);
    drop(host);
    assert_eq!(
        mapped_images(name),
        Vec::<PathBuf>::new(),
        "dropping the host unloads the last image"
    );
    assert_eq!(copies_on_disk(name), 0);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_preview_leaves_no_image_mapped() {
    let name = "unload_preview";
    let plugin = Plugin::copy("tick-plugin", name);
    let mut host = plugin.host();
    assert_eq!(mapped_images(name).len(), 1);
    plugin.edit(&[("counter.marker = 0;", "counter.marker = 5;")]);
    let text = host.preview().unwrap();
    assert_eq!(text, "no layout changes\n");
    assert_eq!(
        mapped_images(name).len(),
        1,
        "only the running version stays mapped after a preview"
    );
    assert_eq!(copies_on_disk(name), 1);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_plugin_whose_thread_still_runs_is_reported_pinned_and_the_host_keeps_working() {
    let name = "unload_pinned";
    let plugin = Plugin::copy("tick-plugin", name);
    // `init` spawns a thread that parks forever inside the plugin's code.
    plugin.edit(&[(
        "pub fn init() -> Counter {",
        "pub fn init() -> Counter {\n    std::thread::spawn(|| loop {\n        std::thread::park();\n    });",
    )]);
    let mut host = plugin.host();
    let first = mapped_images(name);
    assert_eq!(first.len(), 1);
    plugin.edit(&[("counter.marker = 0;", "counter.marker = 7;")]);
    let report = host.reload().unwrap();
    assert_eq!(report.pinned.len(), 1, "{report}");
    assert_eq!(report.pinned[0].version, 1);
    assert_eq!(report.pinned[0].copy, first[0]);
    let source = plugin
        .builder()
        .target_dir()
        .join("debug")
        .join(format!("lib{name}.so"));
    assert_eq!(report.pinned[0].source, source);
    let line = format!(
        "  ! version 1 ({}) stays mapped for the life of the process: still mapped after \
         dlclose: the plugin registered a thread-local destructor (a thread that ran its code, \
         or one it spawned and that may still run)",
        source.display()
    );
    assert!(
        report.to_string().lines().any(|l| l == line),
        "the report names the pinned version and why: {report}"
    );
    // The old image stays mapped under its thread; the new one runs.
    assert!(mapped_images(name).contains(&first[0]));
    host.call_by_name("tick", &[]).unwrap();
    assert_eq!(
        (counter_marker(&host), host.version()),
        (7, 2),
        "the new code runs"
    );
    // Only the live copy is on disk: a mapping outlives its file.
    assert_eq!(copies_on_disk(name), 1);
}

fn counter_marker(host: &Host) -> u64 {
    let json: serde_json::Value =
        serde_json::from_str(&hot_host::state_io::show::state_json(host.state())).unwrap();
    json["Counter"]["marker"].as_u64().unwrap()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn what_still_refers_to_an_old_version_keeps_it_mapped_until_dropped() {
    let name = "unload_held";
    let (plugin, _builds, a, b) = two_builds(name);
    let mut host = Host::with_builder(plugin.builder());
    host.reload_from(&a, None).unwrap();
    host.call_by_name("init", &[]).unwrap();
    let v1 = mapped_images(name);
    assert_eq!(v1.len(), 1);
    // Held across reloads: a handle, a function descriptor, a catalog and a resource of v1.
    let handle = host.resolve("tick").unwrap();
    let fns = host.fns();
    let catalog = host.catalog().clone();
    let resource = host.state_mut().remove("Counter").unwrap();
    host.call_by_name("init", &[]).unwrap();
    for dylib in [&b, &a, &b] {
        host.reload_from(dylib, None).unwrap();
    }
    let mapped = mapped_images(name);
    assert_eq!(mapped.len(), 2, "v1 (held) and v4 (current): {mapped:#?}");
    assert!(mapped.contains(&v1[0]));
    // Everything held still reads v1's descriptors (valgrind checks these reads too).
    assert_eq!(handle.desc().signature(), "fn(counter: &mut Counter)");
    assert_eq!(fns[1].0, "tick");
    assert_eq!(fns[1].1.signature(), "fn(counter: &mut Counter)");
    assert_eq!(catalog.get("Counter").unwrap().name(), "Counter");
    assert_eq!(resource.desc().name(), "Counter");
    // The handle follows the slot: it runs the current code (B: marker 2).
    host.call(&handle, &[]).unwrap();
    assert_eq!(counter(&host), (1, 2, "coo".repeat(4)));
    drop((handle, fns, catalog));
    assert_eq!(mapped_images(name).len(), 2, "the resource still holds v1");
    drop(resource); // its `String` is dropped by v1's glue, then v1 goes
    assert_eq!(mapped_images(name).len(), 1);
    assert!(!mapped_images(name).contains(&v1[0]));
    assert_eq!(copies_on_disk(name), 1);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_refused_reload_unloads_the_new_version_and_keeps_the_old_one_running() {
    let name = "unload_refused";
    let plugin = Plugin::copy("tick-plugin", name);
    let mut host = plugin.host();
    host.call_by_name("tick", &[]).unwrap();
    let running = mapped_images(name);
    assert_eq!(running.len(), 1);
    // `marker: u32 -> String` cannot be migrated.
    plugin.edit(&[
        ("pub marker: u32,", "pub marker: String,"),
        ("marker: 0,\n    }", "marker: String::new(),\n    }"),
        ("counter.marker = 0;", "counter.marker.clear();"),
    ]);
    let err = host.reload().unwrap_err();
    assert!(
        matches!(err, hot_host::ReloadError::Plan(_)),
        "expected a plan error, got {err:?}"
    );
    assert_eq!(
        mapped_images(name),
        running,
        "only the running version is mapped"
    );
    assert_eq!(copies_on_disk(name), 1);
    host.call_by_name("tick", &[]).unwrap();
    assert_eq!(counter_marker(&host), 0);
    assert_eq!(host.version(), 1);
}
