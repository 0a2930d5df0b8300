//! Several plugins in one host (`Plugins`), calling each other through `coo_runtime::import!`:
//! the fixtures `physics-plugin` (provides `step`, owns `World`) and `caller-plugin` (imports
//! `physics::step`, owns `Game`), copied per test and edited on disk while both run.
//!
//! Nothing waits a fixed time: each loop runs frames until a condition holds, with a generous
//! deadline.

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use coo_runtime::plugin::imports::ImportError;
use hot_host::slots::CallErrorKind;
use hot_host::{
    CooOptions, CutImport, Host, PluginConflict, Plugins, ReloadError, ReloadReport, Value,
};

/// Generous: a reload includes a cargo build on a busy machine. Never asserted as a speed.
const PATIENCE: Duration = Duration::from_secs(600);

fn edit(dir: &Path, old: &str, new: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "the source has no {old:?}");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// Adds a copy of `fixture` (as package `package`) under the plugin name `name`.
fn add(
    plugins: &mut Plugins,
    name: &str,
    fixture: &str,
    package: &str,
) -> (tempfile::TempDir, Result<ReloadReport, ReloadError>) {
    let dir = support::copy_fixture(fixture, package);
    let host = Host::with_builder(support::builder(dir.path()));
    let outcome = plugins.add(name, host, CooOptions::default());
    (dir, outcome)
}

fn advance(plugins: &mut Plugins) -> Result<u64, hot_host::CallError> {
    match plugins.call_by_name("game::advance", &[])? {
        Value::Int(x) => Ok(u64::try_from(x).unwrap()),
        other => panic!("advance returns a u64: {other:?}"),
    }
}

fn game_json(plugins: &Plugins) -> serde_json::Value {
    let state = hot_host::state_io::show::state_json(plugins.host("game").unwrap().state());
    serde_json::from_str::<serde_json::Value>(&state).unwrap()["Game"].clone()
}

/// Runs frames until one plugin's update returns something.
fn until_reload(plugins: &mut Plugins) -> Vec<(String, Result<ReloadReport, ReloadError>)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let outcomes = plugins.update();
        if !outcomes.is_empty() {
            return outcomes;
        }
        assert!(Instant::now() < deadline, "no reload within {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_caller_loaded_before_its_provider_gets_a_clear_error_then_calls_it_once_it_is_loaded() {
    let mut plugins = Plugins::new();
    let (_game, loaded) = add(&mut plugins, "game", "caller-plugin", "b11_ab_game");
    loaded.unwrap();
    plugins.call_by_name("game::init", &[]).unwrap();
    assert_eq!(
        plugins.imports("game"),
        [("physics::step".to_owned(), false)]
    );
    let err = advance(&mut plugins).unwrap_err();
    let expected = ImportError::NotLoaded {
        plugin: "physics",
        function: "step",
    }
    .to_string();
    assert_eq!(err.name, "game::advance");
    assert_eq!(
        err.kind,
        CallErrorKind::Panicked {
            message: expected.clone()
        }
    );
    assert!(
        expected
            .starts_with("`physics::step` cannot be called: the plugin `physics` is not loaded")
    );

    let (_physics, loaded) = add(&mut plugins, "physics", "physics-plugin", "b11_ab_physics");
    loaded.unwrap();
    assert_eq!(
        plugins.imports("game"),
        [("physics::step".to_owned(), true)]
    );
    // The caller was not reloaded: its next call runs the provider's code.
    assert_eq!(plugins.host("game").unwrap().version(), 1);
    assert_eq!(advance(&mut plugins).unwrap(), 1);
    assert_eq!(advance(&mut plugins).unwrap(), 2);
    assert_eq!(game_json(&plugins)["calls"], 3);

    // Names: qualified always, unqualified when one plugin alone defines it.
    let names: Vec<String> = plugins.fns().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "game::advance",
            "game::cross_loop",
            "game::init",
            "game::local_loop",
            "physics::init",
            "physics::step",
            "physics::tick"
        ]
    );
    assert_eq!(
        plugins.resolve("step").unwrap().qualified(),
        "physics::step"
    );
    let err = plugins.resolve("init").unwrap_err();
    assert_eq!(
        err.kind,
        CallErrorKind::Ambiguous {
            candidates: vec!["game::init".to_owned(), "physics::init".to_owned()]
        }
    );
    assert_eq!(
        err.to_string(),
        "`init` is defined by several plugins: call it as `game::init` or `physics::init`"
    );
    // A typed handle resolved unqualified, called with its plugin's host.
    let step = plugins.resolve_typed::<fn(u64) -> u64>("step").unwrap();
    assert_eq!(plugins.call_typed(&step, (41,)).unwrap(), 42);
    let cross = plugins
        .resolve_typed::<fn(u64) -> u64>("game::cross_loop")
        .unwrap();
    assert_eq!(plugins.call_typed(&cross, (5,)).unwrap(), 5);
}

#[test]
fn a_provider_loaded_before_its_caller_is_bound_at_the_callers_load_and_owns_its_resources() {
    let mut plugins = Plugins::new();
    let (_physics, loaded) = add(&mut plugins, "physics", "physics-plugin", "b11_ba_physics");
    loaded.unwrap();
    let (_game, loaded) = add(&mut plugins, "game", "caller-plugin", "b11_ba_game");
    loaded.unwrap();
    plugins.call_by_name("game::init", &[]).unwrap();
    assert_eq!(advance(&mut plugins).unwrap(), 1);

    // A second plugin binding `World`, owned by `physics`, is refused naming both.
    let (_twin, refused) = add(&mut plugins, "twin", "physics-plugin", "b11_ba_twin");
    let err = refused.unwrap_err();
    assert!(
        matches!(&err, ReloadError::Import(conflict) if matches!(&**conflict,
            PluginConflict::ResourceOwned { ty, plugin, owner }
                if ty == "World" && plugin == "twin" && owner == "physics")),
        "{err}"
    );
    assert_eq!(plugins.names().collect::<Vec<_>>(), ["physics", "game"]);
    // A second plugin under a name in use, too.
    let (_again, refused) = add(&mut plugins, "game", "caller-plugin", "b11_ba_again");
    assert!(
        matches!(&refused, Err(ReloadError::Import(conflict))
            if matches!(&**conflict, PluginConflict::SameName { name, .. } if name == "game")),
        "{refused:?}"
    );
    assert_eq!(advance(&mut plugins).unwrap(), 2);
}

#[test]
fn an_import_that_disagrees_with_its_loaded_provider_is_refused_naming_both_sides() {
    let mut plugins = Plugins::new();
    let (_physics, loaded) = add(&mut plugins, "physics", "physics-plugin", "b11_mm_physics");
    loaded.unwrap();
    let dir = support::copy_fixture("caller-plugin", "b11_mm_game");
    edit(
        dir.path(),
        "fn step(x: u64) -> u64;",
        "fn step(x: u32) -> u64;",
    );
    let host = Host::with_builder(support::builder(dir.path()));
    let err = plugins
        .add("game", host, CooOptions::default())
        .unwrap_err();
    let ReloadError::Import(conflict) = &err else {
        panic!("{err}");
    };
    assert_eq!(
        **conflict,
        PluginConflict::Mismatch {
            caller: "game".to_owned(),
            provider: "physics".to_owned(),
            function: "step".to_owned(),
            declared: "fn(x: u32) -> u64".to_owned(),
            found: "fn(x: u64) -> u64".to_owned(),
            found_tail: "(x: u64) -> u64".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "`game` imports `physics::step` as `fn(x: u32) -> u64`, but `physics` defines it as `fn(x: u64) -> u64`; write `fn step(x: u64) -> u64;` in `game`'s `import! { from physics { .. } }`"
    );
    assert_eq!(plugins.names().collect::<Vec<_>>(), ["physics"]);
}

#[test]
fn reloading_the_provider_changes_the_callers_next_call_and_removing_the_function_fails_it_clearly()
{
    let mut plugins = Plugins::new();
    let (physics, loaded) = add(&mut plugins, "physics", "physics-plugin", "b11_rl_physics");
    loaded.unwrap();
    let (_game, loaded) = add(&mut plugins, "game", "caller-plugin", "b11_rl_game");
    loaded.unwrap();
    plugins.call_by_name("game::init", &[]).unwrap();
    plugins.call_by_name("physics::init", &[]).unwrap();
    assert_eq!(advance(&mut plugins).unwrap(), 1);
    let game_image = plugins
        .host("game")
        .unwrap()
        .library()
        .unwrap()
        .image()
        .path()
        .to_path_buf();
    let game_at = plugins
        .host("game")
        .unwrap()
        .state()
        .resource("Game")
        .unwrap()
        .as_ptr();

    edit(physics.path(), "x + 1", "x + 10");
    let outcomes = until_reload(&mut plugins);
    assert_eq!(outcomes.len(), 1, "only physics reloads");
    let (name, report) = &outcomes[0];
    assert_eq!(name, "physics");
    let report = report.as_ref().unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));
    assert!(report.imports_cut.is_empty());
    // The caller's next call runs the new code; the caller itself was not reloaded: same
    // version, same image, its state carried on.
    assert_eq!(advance(&mut plugins).unwrap(), 11);
    let game = plugins.host("game").unwrap();
    assert_eq!(game.version(), 1);
    assert_eq!(
        game.library().unwrap().image().path().to_path_buf(),
        game_image
    );
    // Not migrated: the same resource, at the same address.
    assert_eq!(game.state().resource("Game").unwrap().as_ptr(), game_at);
    assert!(!plugins.coo("game").unwrap().is_building());
    assert_eq!(game_json(&plugins)["calls"], 2);

    // The provider removes the function: the caller's slot is cut, its next call fails with
    // that reason, and both plugins keep running.
    edit(physics.path(), "pub fn step(", "pub fn step_renamed(");
    let mut outcomes = until_reload(&mut plugins);
    let (name, report) = outcomes.remove(0);
    assert_eq!(name, "physics");
    let report = report.unwrap();
    assert_eq!(
        report.imports_cut,
        [CutImport {
            caller: "game".to_owned(),
            provider: "physics".to_owned(),
            function: "step".to_owned(),
            declared: "fn(x: u64) -> u64".to_owned(),
            found: None,
            layout: None,
        }]
    );
    let err = advance(&mut plugins).unwrap_err();
    assert_eq!(
        err.kind,
        CallErrorKind::Panicked {
            message: ImportError::Removed {
                plugin: "physics",
                function: "step"
            }
            .to_string()
        }
    );
    assert_eq!(
        plugins.call_by_name("physics::tick", &[]).unwrap(),
        Value::Int(1)
    );
    assert_eq!(game_json(&plugins)["x"], 11);

    // Defined again, with another body: bound again at the provider's reload.
    edit(physics.path(), "pub fn step_renamed(", "pub fn step(");
    let (_, report) = until_reload(&mut plugins).remove(0);
    report.unwrap();
    assert_eq!(advance(&mut plugins).unwrap(), 21);
}

/// Reads `lines` until one equals `want`; panics with what came instead after [`PATIENCE`].
/// The two error cases of an import slot that the tests above leave out: the provider's code
/// panicking (caught inside the provider, returned to the caller as `ImportError::Panicked` with
/// the message) and a provider reload that changes the function's signature (the slot cut:
/// `ImportError::Changed`). Both plugins keep running through both.
#[test]
fn a_provider_that_panics_or_changes_the_signature_fails_the_callers_call_with_that_reason() {
    let mut plugins = Plugins::new();
    let (physics, loaded) = add(&mut plugins, "physics", "physics-plugin", "d11_pc_physics");
    loaded.unwrap();
    let (_game, loaded) = add(&mut plugins, "game", "caller-plugin", "d11_pc_game");
    loaded.unwrap();
    plugins.call_by_name("game::init", &[]).unwrap();
    assert_eq!(advance(&mut plugins).unwrap(), 1);

    // The provider panics for x == 1: the caller's call returns `Panicked`, with the message.
    edit(
        physics.path(),
        "    x + 1\n",
        "    if x == 1 {\n        panic!(\"step refused {x}\");\n    }\n    x + 1\n",
    );
    let (name, report) = until_reload(&mut plugins).remove(0);
    assert_eq!(name, "physics");
    assert!(report.unwrap().imports_cut.is_empty());
    let err = advance(&mut plugins).unwrap_err();
    assert_eq!(
        err.kind,
        CallErrorKind::Panicked {
            message: ImportError::Panicked {
                plugin: "physics",
                function: "step",
                message: "step refused 1".to_owned(),
            }
            .to_string()
        }
    );
    assert_eq!(game_json(&plugins)["x"], 1);
    assert_eq!(game_json(&plugins)["calls"], 2);

    // The provider changes the signature: the slot is cut, the caller's call says why.
    edit(
        physics.path(),
        "pub fn step(x: u64) -> u64 {",
        "pub fn step(x: u64, by: u64) -> u64 {\n    let x = x + by - 1;",
    );
    let (name, report) = until_reload(&mut plugins).remove(0);
    assert_eq!(name, "physics");
    assert_eq!(
        report.unwrap().imports_cut,
        [CutImport {
            caller: "game".to_owned(),
            provider: "physics".to_owned(),
            function: "step".to_owned(),
            declared: "fn(x: u64) -> u64".to_owned(),
            found: Some("fn(x: u64, by: u64) -> u64".to_owned()),
            layout: None,
        }]
    );
    let err = advance(&mut plugins).unwrap_err();
    assert_eq!(
        err.kind,
        CallErrorKind::Panicked {
            message: ImportError::Changed {
                plugin: "physics",
                function: "step"
            }
            .to_string()
        }
    );
    assert_eq!(game_json(&plugins)["x"], 1);
    assert_eq!(
        plugins
            .call_by_name("physics::step", &[Value::Int(5), Value::Int(3)])
            .unwrap(),
        Value::Int(8)
    );
}

fn expect_line(lines: &std::sync::mpsc::Receiver<String>, want: &str) {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line == want => return,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line {want:?}; seen: {seen:#?}");
}

#[test]
fn hot_host_run_with_two_plugins_shows_the_owners_and_calls_across_them() {
    use std::ffi::OsStr;
    use std::io::Write;

    let physics = support::copy_fixture("physics-plugin", "b11_cli_physics");
    let game = support::copy_fixture("caller-plugin", "b11_cli_game");
    // Plugins run under their crate names: the caller imports from `b11_cli_physics`.
    let source = game.path().join("src/lib.rs");
    let text = fs::read_to_string(&source).unwrap();
    fs::write(&source, text.replace("physics", "b11_cli_physics")).unwrap();
    let mut host = support::run_host(
        game.path(),
        &[physics.path().as_os_str(), OsStr::new("--every=0")],
    );
    let start = |line: &str| line.split(" loaded from ").next().unwrap().to_owned();
    let mut loaded = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while loaded.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = host.out.recv_timeout(left).expect("both plugins load");
        if line.contains(" loaded from ") {
            loaded.push(start(&line));
        }
    }
    assert_eq!(loaded, ["[b11_cli_game]", "[b11_cli_physics]"]);

    writeln!(host.stdin, "fns").unwrap();
    for line in [
        "b11_cli_game::advance: fn(game: &mut Game) -> u64",
        "b11_cli_game::init: fn() -> Game",
        "b11_cli_physics::step: fn(x: u64) -> u64",
        "b11_cli_physics::tick: fn(world: &mut World) -> u64",
    ] {
        expect_line(&host.out, line);
    }
    writeln!(host.stdin, "call b11_cli_physics::step 41").unwrap();
    expect_line(&host.out, "42");
    // `init` ran in both plugins at the start; `advance` calls across.
    writeln!(host.stdin, "call advance").unwrap();
    expect_line(&host.out, "1");
    writeln!(host.stdin, "imports").unwrap();
    expect_line(
        &host.out,
        "b11_cli_game imports b11_cli_physics::step: bound",
    );
    writeln!(host.stdin, "quit").unwrap();
    let status = host.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
