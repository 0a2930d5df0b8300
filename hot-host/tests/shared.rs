//! Plugins that share a crate (`Plugins`): the fixtures `shared-types` (a `Stats` type and some
//! code), `alpha-plugin` and `beta-plugin` (each keeps a `Stats` in its own resource; `alpha`
//! passes its `Stats` to `beta::bump`/`beta::peek` through `coo_runtime::import!`), copied per
//! test side by side and edited on disk while both run. A change to the shared crate reloads
//! both plugins in one transaction: both migrate and swap, or neither does.
//!
//! Nothing waits a fixed time: each loop runs frames until a condition holds, with a generous
//! deadline.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use coo_runtime::ExecuteErrorKind;
use hot_host::{CooOptions, Host, PluginConflict, Plugins, ReloadError, ReloadReport, Value};

/// Generous: a reload includes two cargo builds on a busy machine. Never asserted as a speed.
const PATIENCE: Duration = Duration::from_secs(900);

/// Copies of the three fixture crates side by side in one temporary directory: `shared-types`
/// and the plugins, renamed `<prefix>_alpha` and `<prefix>_beta` (every test's builds share one
/// target dir, where artifacts are named after the package).
struct Crates {
    root: tempfile::TempDir,
    alpha: PathBuf,
    beta: PathBuf,
}

fn copy_crate(fixture: &str, dest: &Path, package: Option<&str>) {
    let src = support::fixture(fixture);
    let runtime = support::workspace().join("coo-runtime");
    fs::create_dir_all(dest.join("src")).unwrap();
    let rename = |text: String| match package {
        Some(package) => text.replace(
            &format!("name = \"{fixture}\""),
            &format!("name = \"{package}\""),
        ),
        None => text,
    };
    let manifest = rename(fs::read_to_string(src.join("Cargo.toml")).unwrap()).replace(
        "path = \"../../../coo-runtime\"",
        &format!("path = {:?}", runtime.display().to_string()),
    );
    fs::write(dest.join("Cargo.toml"), manifest).unwrap();
    if src.join("Cargo.lock").exists() {
        let lock = rename(fs::read_to_string(src.join("Cargo.lock")).unwrap());
        fs::write(dest.join("Cargo.lock"), lock).unwrap();
    }
    fs::copy(src.join("src/lib.rs"), dest.join("src/lib.rs")).unwrap();
}

fn crates(prefix: &str) -> Crates {
    let root = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    copy_crate("shared-types", &root.path().join("shared-types"), None);
    let alpha = root.path().join(format!("{prefix}_alpha"));
    let beta = root.path().join(format!("{prefix}_beta"));
    copy_crate("alpha-plugin", &alpha, Some(&format!("{prefix}_alpha")));
    copy_crate("beta-plugin", &beta, Some(&format!("{prefix}_beta")));
    Crates { root, alpha, beta }
}

impl Crates {
    fn shared(&self) -> PathBuf {
        self.root.path().join("shared-types")
    }
}

/// Replaces each `(old, new)` in `<dir>/src/lib.rs` at once (one save); every `old` must occur.
fn edit(dir: &Path, replacements: &[(&str, &str)]) {
    let path = dir.join("src/lib.rs");
    let mut text = fs::read_to_string(&path).unwrap();
    for (old, new) in replacements {
        assert!(text.contains(old), "{} has no {old:?}", path.display());
        text = text.replacen(old, new, 1);
    }
    fs::write(path, text).unwrap();
}

fn add(plugins: &mut Plugins, name: &str, dir: &Path) -> ReloadReport {
    let host = Host::with_builder(support::builder(dir));
    plugins
        .add(name, host, CooOptions::default())
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

/// Both plugins, loaded (`beta` first) and initialized.
fn start(crates: &Crates) -> Plugins {
    let mut plugins = Plugins::new();
    add(&mut plugins, "beta", &crates.beta);
    add(&mut plugins, "alpha", &crates.alpha);
    plugins.call_by_name("alpha::init", &[]).unwrap();
    plugins.call_by_name("beta::init", &[]).unwrap();
    plugins
}

fn int(plugins: &mut Plugins, name: &str, args: &[Value]) -> u64 {
    match plugins.call_by_name(name, args) {
        Ok(Value::Int(x)) => u64::try_from(x).unwrap(),
        other => panic!("{name} returns a u64: {other:?}"),
    }
}

fn state(plugins: &Plugins, plugin: &str) -> serde_json::Value {
    let text = hot_host::state_io::show::state_json(plugins.host(plugin).unwrap().state());
    serde_json::from_str(&text).unwrap()
}

/// Runs frames until an update returns something; what that one update returned, sorted by
/// plugin name.
fn until_reload(plugins: &mut Plugins) -> Vec<(String, Result<ReloadReport, ReloadError>)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut outcomes = plugins.update();
        if !outcomes.is_empty() {
            outcomes.sort_by(|a, b| a.0.cmp(&b.0));
            return outcomes;
        }
        assert!(Instant::now() < deadline, "no reload within {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The plugin names of `outcomes`.
fn names(outcomes: &[(String, Result<ReloadReport, ReloadError>)]) -> Vec<&str> {
    outcomes.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn a_shared_type_gaining_a_field_reloads_both_plugins_in_one_transaction() {
    let crates = crates("s11_grow");
    let mut plugins = start(&crates);
    assert_eq!(int(&mut plugins, "alpha::hit", &[Value::Int(3)]), 3);
    assert_eq!(int(&mut plugins, "beta::hit", &[Value::Int(4)]), 4);
    // `beta` writes into alpha's `Stats`, passed across as `&mut Stats`; alpha sees the write.
    assert_eq!(
        int(&mut plugins, "alpha::bump_through_beta", &[Value::Int(10)]),
        13
    );
    assert_eq!(int(&mut plugins, "alpha::peek_through_beta", &[]), 13);
    assert_eq!(state(&plugins, "alpha")["Alpha"]["stats"]["hits"], 13);

    edit(
        &crates.shared(),
        &[
            (
                "pub hits: u64,",
                "pub hits: u64,\n    #[coo(default = 7)]\n    pub bonus: u64,",
            ),
            ("Stats { hits: 0 }", "Stats { hits: 0, bonus: 7 }"),
            (
                "pub fn version() -> u64 {\n    1",
                "pub fn version() -> u64 {\n    2",
            ),
        ],
    );
    // One update reloads both, in one transaction.
    let outcomes = until_reload(&mut plugins);
    assert_eq!(names(&outcomes), ["alpha", "beta"], "{outcomes:#?}");
    for (name, outcome) in &outcomes {
        let report = outcome.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((report.from_version, report.to_version), (1, 2));
        assert!(report.imports_cut.is_empty(), "{:?}", report.imports_cut);
    }
    assert_eq!(
        outcomes[0].1.as_ref().unwrap().together,
        ["beta"],
        "alpha's report names the plugin it reloaded with"
    );
    assert_eq!(outcomes[1].1.as_ref().unwrap().together, ["alpha"]);
    // Both states show the new field, with its default; the kept values are kept.
    assert_eq!(
        state(&plugins, "alpha")["Alpha"]["stats"],
        serde_json::json!({"hits": 13, "bonus": 7})
    );
    assert_eq!(
        state(&plugins, "beta")["Beta"]["stats"],
        serde_json::json!({"hits": 4, "bonus": 7})
    );
    // The new code runs in both.
    assert_eq!(int(&mut plugins, "alpha::version", &[]), 2);
    assert_eq!(int(&mut plugins, "beta::version", &[]), 2);
    // The import slot was checked against beta's new version and stays bound: beta's new code
    // writes into alpha's migrated `Stats`.
    assert_eq!(
        plugins.imports("alpha"),
        [
            ("beta::bump".to_owned(), true),
            ("beta::peek".to_owned(), true)
        ]
    );
    assert_eq!(
        int(&mut plugins, "alpha::bump_through_beta", &[Value::Int(1)]),
        14
    );
    assert_eq!(state(&plugins, "alpha")["Alpha"]["stats"]["hits"], 14);
}

#[test]
fn a_shared_type_edit_that_one_plugins_state_refuses_reloads_neither() {
    let crates = crates("s11_narrow");
    let mut plugins = start(&crates);
    assert_eq!(int(&mut plugins, "alpha::hit", &[Value::Int(5)]), 5);
    // Fits a u64, not a u32: only beta's state cannot narrow.
    let big = 5_000_000_000u64;
    assert_eq!(
        int(&mut plugins, "beta::hit", &[Value::Int(big.into())]),
        big
    );
    let alpha_before = state(&plugins, "alpha");
    let beta_before = state(&plugins, "beta");
    let alpha_at = plugins
        .host("alpha")
        .unwrap()
        .state()
        .resource("Alpha")
        .unwrap()
        .as_ptr();

    edit(
        &crates.shared(),
        &[
            ("pub hits: u64,", "pub hits: u32,"),
            ("self.hits += n;", "self.hits += n as u32;"),
            (
                "pub fn version() -> u64 {\n    1",
                "pub fn version() -> u64 {\n    2",
            ),
        ],
    );
    let outcomes = until_reload(&mut plugins);
    assert_eq!(names(&outcomes), ["alpha", "beta"], "{outcomes:#?}");
    // beta's own error: the value, the field, both types.
    let Err(ReloadError::Migrate(e)) = &outcomes[1].1 else {
        panic!("beta's migration is refused: {:?}", outcomes[1].1);
    };
    let ExecuteErrorKind::CheckedCast(cast) = &e.kind else {
        panic!("a checked narrowing: {e}");
    };
    assert_eq!(e.path.to_string(), "Beta.stats.hits");
    assert_eq!(
        (cast.from.name(), cast.to.name(), cast.value.as_str()),
        ("u64", "u32", "5000000000")
    );
    // alpha: not reloaded because of beta.
    let Err(ReloadError::Together { failed, together }) = &outcomes[0].1 else {
        panic!("alpha is rolled back with beta: {:?}", outcomes[0].1);
    };
    assert_eq!(
        (failed.as_str(), together.as_slice()),
        ("beta", &["alpha".to_owned(), "beta".to_owned()][..])
    );
    assert_eq!(
        outcomes[0].1.as_ref().unwrap_err().to_string(),
        "not reloaded: `beta`, reloaded in one transaction with it (alpha, beta: they share a crate that changed), failed; every plugin of the transaction keeps its old code and state"
    );

    // Neither reloaded: the old code and state, exactly.
    for plugin in ["alpha", "beta"] {
        assert_eq!(plugins.host(plugin).unwrap().version(), 1, "{plugin}");
    }
    assert_eq!(state(&plugins, "alpha"), alpha_before);
    assert_eq!(state(&plugins, "beta"), beta_before);
    assert_eq!(
        plugins
            .host("alpha")
            .unwrap()
            .state()
            .resource("Alpha")
            .unwrap()
            .as_ptr(),
        alpha_at,
        "alpha's resource was not migrated"
    );
    assert_eq!(int(&mut plugins, "alpha::version", &[]), 1);
    assert_eq!(int(&mut plugins, "beta::version", &[]), 1);
    assert_eq!(int(&mut plugins, "alpha::hit", &[Value::Int(1)]), 6);
    assert_eq!(
        int(&mut plugins, "alpha::bump_through_beta", &[Value::Int(1)]),
        7
    );
}

#[test]
fn a_shared_change_that_breaks_one_plugins_build_reloads_neither() {
    let crates = crates("s11_break");
    let mut plugins = start(&crates);
    assert_eq!(int(&mut plugins, "alpha::hit", &[Value::Int(2)]), 2);
    let alpha_before = state(&plugins, "alpha");

    // Only beta uses `beta_bonus`: alpha builds, beta does not.
    edit(
        &crates.shared(),
        &[
            ("pub fn beta_bonus()", "pub fn beta_bonus_renamed()"),
            (
                "pub fn version() -> u64 {\n    1",
                "pub fn version() -> u64 {\n    2",
            ),
        ],
    );
    let outcomes = until_reload(&mut plugins);
    assert_eq!(names(&outcomes), ["alpha", "beta"], "{outcomes:#?}");
    assert!(
        matches!(&outcomes[1].1, Err(ReloadError::Build(_))),
        "{:?}",
        outcomes[1].1
    );
    assert!(
        matches!(&outcomes[0].1, Err(ReloadError::Together { failed, .. }) if failed == "beta"),
        "{:?}",
        outcomes[0].1
    );
    for plugin in ["alpha", "beta"] {
        assert_eq!(plugins.host(plugin).unwrap().version(), 1, "{plugin}");
    }
    assert_eq!(int(&mut plugins, "alpha::version", &[]), 1);
    assert_eq!(state(&plugins, "alpha"), alpha_before);

    // Fixed in the shared crate: both reload together, and run the new code.
    edit(
        &crates.shared(),
        &[("pub fn beta_bonus_renamed()", "pub fn beta_bonus()")],
    );
    let outcomes = until_reload(&mut plugins);
    assert_eq!(names(&outcomes), ["alpha", "beta"], "{outcomes:#?}");
    for (name, outcome) in &outcomes {
        let report = outcome.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.to_version, 2);
    }
    assert_eq!(int(&mut plugins, "alpha::version", &[]), 2);
    assert_eq!(int(&mut plugins, "beta::version", &[]), 2);
}

#[test]
fn a_plugins_own_change_still_reloads_it_alone() {
    let crates = crates("s11_alone");
    let mut plugins = start(&crates);
    edit(&crates.beta, &[("stats.add(by);", "stats.add(by * 2);")]);
    let outcomes = until_reload(&mut plugins);
    assert_eq!(names(&outcomes), ["beta"]);
    let report = outcomes[0].1.as_ref().unwrap();
    assert!(report.together.is_empty());
    assert_eq!(plugins.host("alpha").unwrap().version(), 1);
    assert_eq!(
        int(&mut plugins, "alpha::bump_through_beta", &[Value::Int(5)]),
        10
    );
}

/// Copies `shared-types` to `<root>/<name>` with one more field in `Stats`, and points `plugin`
/// at that copy: built against another version of the shared crate than the other plugin.
fn own_shared_copy(crates: &Crates, plugin: &Path, name: &str) {
    let copy = crates.root.path().join(name);
    copy_crate("shared-types", &copy, None);
    edit(
        &copy,
        &[
            ("pub hits: u64,", "pub hits: u64,\n    pub extra: u64,"),
            ("Stats { hits: 0 }", "Stats { hits: 0, extra: 0 }"),
        ],
    );
    let manifest = plugin.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("path = \"../shared-types\""));
    fs::write(
        &manifest,
        text.replace(
            "path = \"../shared-types\"",
            &format!("path = \"../{name}\""),
        ),
    )
    .unwrap();
}

#[test]
fn a_caller_built_against_another_layout_of_a_shared_type_is_refused_naming_the_type_and_both_sizes()
 {
    let crates = crates("s11_layout");
    own_shared_copy(&crates, &crates.alpha, "shared-copy");
    let mut plugins = Plugins::new();
    add(&mut plugins, "beta", &crates.beta);
    let host = Host::with_builder(support::builder(&crates.alpha));
    let err = plugins
        .add("alpha", host, CooOptions::default())
        .unwrap_err();
    let ReloadError::Import(conflict) = &err else {
        panic!("{err}");
    };
    assert_eq!(
        **conflict,
        PluginConflict::Layout {
            caller: "alpha".to_owned(),
            provider: "beta".to_owned(),
            function: "bump".to_owned(),
            ty: "shared_types::Stats".to_owned(),
            declared: "16 bytes, align 8".to_owned(),
            found: "8 bytes, align 8".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "`alpha` imports `beta::bump` taking `shared_types::Stats` of 16 bytes, align 8, but `beta` was built with `shared_types::Stats` of 8 bytes, align 8: the two plugins were built against different versions of the crate that defines it; make both depend on the same copy of it, and save it to rebuild both"
    );
    assert_eq!(plugins.names().collect::<Vec<_>>(), ["beta"]);
}

#[test]
fn a_provider_built_against_another_layout_of_a_shared_type_cuts_the_callers_slot() {
    let crates = crates("s11_cut");
    own_shared_copy(&crates, &crates.beta, "shared-copy");
    let mut plugins = Plugins::new();
    add(&mut plugins, "alpha", &crates.alpha);
    plugins.call_by_name("alpha::init", &[]).unwrap();
    // The provider is not refused (a provider never is): the caller's slots stay cut, and
    // the report says why, naming the type and both layouts.
    let report = add(&mut plugins, "beta", &crates.beta);
    let cut: Vec<String> = report.imports_cut.iter().map(ToString::to_string).collect();
    assert_eq!(
        cut,
        [
            "`alpha` imports `beta::bump` taking `shared_types::Stats` of 8 bytes, align 8, but `beta` was built with `shared_types::Stats` of 16 bytes, align 8: its calls fail until both are built against the same copy of the crate that defines it",
            "`alpha` imports `beta::peek` taking `shared_types::Stats` of 8 bytes, align 8, but `beta` was built with `shared_types::Stats` of 16 bytes, align 8: its calls fail until both are built against the same copy of the crate that defines it",
        ]
    );
    assert_eq!(
        plugins.imports("alpha"),
        [
            ("beta::bump".to_owned(), false),
            ("beta::peek".to_owned(), false)
        ]
    );
    let err = plugins
        .call_by_name("alpha::bump_through_beta", &[Value::Int(1)])
        .unwrap_err();
    assert_eq!(
        err.kind,
        hot_host::slots::CallErrorKind::Panicked {
            message: coo_runtime::plugin::imports::ImportError::Changed {
                plugin: "beta",
                function: "bump"
            }
            .to_string()
        }
    );
}

/// Reads `lines` until one equals `want`; panics with what came instead after [`PATIENCE`].
fn expect_line(lines: &std::sync::mpsc::Receiver<String>, want: &str) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line == want => return seen,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line {want:?}; seen: {seen:#?}");
}

#[test]
fn hot_host_run_shows_one_block_for_the_plugins_of_one_transaction() {
    use std::io::Write;

    let crates = crates("s11_cli");
    let mut host = support::run_host(
        &crates.alpha,
        &[crates.beta.as_os_str(), std::ffi::OsStr::new("--every=0")],
    );
    let deadline = Instant::now() + PATIENCE;
    let mut loaded = 0;
    while loaded < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = host.out.recv_timeout(left).expect("both plugins load");
        if line.contains(" loaded from ") {
            loaded += 1;
        }
    }
    edit(
        &crates.shared(),
        &[(
            "pub fn version() -> u64 {\n    1",
            "pub fn version() -> u64 {\n    2",
        )],
    );
    // The first line about a reload heads the block of both plugins.
    let head = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = host.out.recv_timeout(left).expect("a reload is reported");
        if line.starts_with("[s11_cli_") {
            break line;
        }
    };
    assert_eq!(
        head,
        "[s11_cli_alpha, s11_cli_beta] reloaded together, in one transaction (they share a crate that changed):"
    );
    let mut block = Vec::new();
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = host.out.recv_timeout(left).expect("the block goes on");
        block.push(line);
    }
    assert!(
        block[0].starts_with("  [s11_cli_alpha] version 1 -> 2"),
        "{block:#?}"
    );
    writeln!(host.stdin, "call s11_cli_beta::version").unwrap();
    expect_line(&host.out, "2");
    writeln!(host.stdin, "quit").unwrap();
    let status = host.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
