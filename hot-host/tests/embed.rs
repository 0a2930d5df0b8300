//! The library API alone, as a program that embeds Coo uses it (no `hot-host run`): a loop that
//! ticks the fixture `tick-plugin` and calls `Coo::update` once per frame, while the test edits
//! the plugin's source on disk.
//!
//! Every test has a plugin copy of its own (its own package name). Nothing waits a fixed time
//! for something to happen: each loop runs frames until a condition holds, with a generous
//! deadline (a frame is a short sleep, as a game's would be).

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use hot_host::{BuildError, Coo, CooEvent, CooOptions, FnHandle, Host, ReloadError, ReloadReport};
use serde_json::Value;

/// Generous: a reload includes a cargo build on a busy machine. Never asserted as a speed.
const PATIENCE: Duration = Duration::from_secs(600);

/// One frame of the test's loop.
const FRAME: Duration = Duration::from_millis(5);

fn edit(dir: &Path, old: &str, new: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "the source has no {old:?}");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// A running copy of `tick-plugin`, initialised and ticked once.
struct Game {
    dir: tempfile::TempDir,
    coo: Coo,
    tick: FnHandle,
    /// Frames run while a build was running, whose `update` returned at once with nothing.
    frames_while_building: u64,
}

impl Game {
    fn start(name: &str) -> Game {
        let dir = support::copy_fixture("tick-plugin", name);
        let host = Host::with_builder(support::builder(dir.path()));
        let mut coo = Coo::start_with(host, CooOptions::default())
            .unwrap_or_else(|e| panic!("the fixture loads: {e}"));
        assert!(coo.is_watching());
        // The first build's progress, queued while `start` waited for it.
        let first: Vec<CooEvent> = coo.events().collect();
        assert!(
            first.iter().any(|e| matches!(e, CooEvent::Building(_))),
            "{first:?}"
        );
        coo.host_mut().call_by_name("init", &[]).unwrap();
        let tick = coo.host().resolve("tick").unwrap();
        let mut game = Game {
            dir,
            coo,
            tick,
            frames_while_building: 0,
        };
        game.tick();
        game
    }

    fn tick(&mut self) {
        self.coo.host_mut().call(&self.tick, &[]).unwrap();
    }

    fn counter(&self) -> Value {
        let state = hot_host::state_io::show::state_json(self.coo.host().state());
        serde_json::from_str::<Value>(&state).unwrap()["Counter"].clone()
    }

    /// Runs frames (update, then tick) until `update` returns something.
    fn until_reload(&mut self) -> Result<ReloadReport, ReloadError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let building = self.coo.is_building();
            let outcome = self.coo.update();
            if building && outcome.is_none() {
                self.frames_while_building += 1;
            }
            self.tick();
            if let Some(outcome) = outcome {
                return outcome;
            }
            assert!(Instant::now() < deadline, "no reload within {PATIENCE:?}");
            std::thread::sleep(FRAME);
        }
    }

    /// Runs frames until a build is running.
    fn until_building(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        while !self.coo.is_building() {
            assert!(self.coo.update().is_none(), "a reload before any build");
            self.tick();
            assert!(Instant::now() < deadline, "no build within {PATIENCE:?}");
            std::thread::sleep(FRAME);
        }
    }
}

#[test]
fn an_edit_is_reloaded_at_the_callers_update_with_the_state_carried_over_and_no_frame_waits() {
    let mut game = Game::start("embed_edit");
    for _ in 0..4 {
        game.tick();
    }
    assert_eq!(game.counter()["count"], 5);
    edit(
        game.dir.path(),
        "counter.marker = 0;",
        "counter.marker = 7;",
    );
    let frames_before = game.counter()["count"].as_u64().unwrap();
    let report = game.until_reload().unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));
    assert_eq!(game.coo.host().version(), 2);
    // The new code ran in the frame of the reload; the count went on from where it was.
    let counter = game.counter();
    assert_eq!(counter["marker"], 7);
    let count = counter["count"].as_u64().unwrap();
    assert!(count > frames_before, "the count carried over: {counter}");
    // The frames went on while cargo built: `update` returned at once, with nothing.
    assert!(
        game.frames_while_building > 0,
        "no frame ran while the build ran"
    );
    // What the build said came as events, the finished build last.
    let events: Vec<CooEvent> = game.coo.events().collect();
    assert!(
        events.iter().any(|e| matches!(e, CooEvent::Building(_))),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(CooEvent::Built { warnings, .. }) if warnings.is_empty()),
        "{events:?}"
    );
}

#[test]
fn a_build_error_is_returned_and_the_old_version_keeps_running() {
    let mut game = Game::start("embed_broken");
    edit(
        game.dir.path(),
        "counter.count += 1;",
        "counter.count += \"one\";",
    );
    let err = game.until_reload().unwrap_err();
    assert!(
        matches!(&err, ReloadError::Build(BuildError::Compile { rendered })
            if rendered.contains("cannot add-assign `&str` to `u64`")),
        "{err}"
    );
    assert_eq!(game.coo.host().version(), 1);
    // The old code ticks on, with its state.
    let before = game.counter()["count"].as_u64().unwrap();
    game.tick();
    assert_eq!(game.counter()["count"], before + 1);
    // The fix reloads, the count still the one the old version kept counting.
    edit(
        game.dir.path(),
        "counter.count += \"one\";\n    counter.marker = 0;",
        "counter.count += 1;\n    counter.marker = 9;",
    );
    let report = game.until_reload().unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));
    let counter = game.counter();
    assert_eq!(counter["marker"], 9);
    assert!(counter["count"].as_u64().unwrap() > before + 1, "{counter}");
}

#[test]
fn saves_during_a_build_are_coalesced_into_one_reload_of_the_newest_source() {
    let mut game = Game::start("embed_burst");
    edit(
        game.dir.path(),
        "counter.marker = 0;",
        "counter.marker = 1;",
    );
    game.until_building();
    // Four more saves while that build runs: its result is discarded, the newest source built.
    for marker in 2..=5 {
        edit(
            game.dir.path(),
            &format!("counter.marker = {};", marker - 1),
            &format!("counter.marker = {marker};"),
        );
    }
    let report = game.until_reload().unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));
    assert_eq!(game.counter()["marker"], 5);
    // No other reload came, nor is one coming: the next save's is version 2 -> 3.
    edit(
        game.dir.path(),
        "counter.marker = 5;",
        "counter.marker = 6;",
    );
    let report = game.until_reload().unwrap();
    assert_eq!((report.from_version, report.to_version), (2, 3));
    assert_eq!(game.counter()["marker"], 6);
}

#[test]
fn reload_now_supersedes_the_build_in_flight_which_is_never_loaded_after_it() {
    let mut game = Game::start("embed_now");
    edit(
        game.dir.path(),
        "counter.marker = 0;",
        "counter.marker = 1;",
    );
    game.until_building();
    // The caller builds and loads the same source itself, waiting for it.
    let report = game.coo.reload_now().unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));
    game.tick();
    assert_eq!(game.counter()["marker"], 1);
    // The background build of that save is not loaded after it: the next save's reload is
    // version 2 -> 3, with the next save's code.
    edit(
        game.dir.path(),
        "counter.marker = 1;",
        "counter.marker = 2;",
    );
    let report = game.until_reload().unwrap();
    assert_eq!((report.from_version, report.to_version), (2, 3));
    assert_eq!(game.counter()["marker"], 2);
}

/// The program in the README's "Embed Coo in your program" is `examples/embed.rs`, which
/// `cargo test` builds (and the `embed` module's docs include as a doctest).
#[test]
fn the_readme_program_is_the_example_that_the_tests_build() {
    let root = support::workspace();
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let example = fs::read_to_string(root.join("hot-host/examples/embed.rs")).unwrap();
    let section = readme
        .split("\n## Embed Coo in your program\n")
        .nth(1)
        .expect("the README has the section");
    let code = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```\n").next())
        .expect("the section has a rust block");
    assert_eq!(format!("{code}\n"), example);
    assert!(example.lines().count() <= 30, "at most 30 lines");
}
