//! End to end: plugin code that panics where the host calls it outside a hot function (drop
//! glue, `Default`, the `Display` of a hook's error) is caught inside the plugin. Before that was
//! so, each of these aborted the host process, so every test runs its scenario in a child process
//! (this test binary, run again for that one test) and checks that the child finished normally.

mod support;

use std::process::Command;

use coo_runtime::plugin::panics::DropPanic;
use coo_runtime::{DefaultPanicked, ExecuteError, ExecuteErrorKind};
use hot_host::state_io::show::state_json;
use hot_host::{Host, ReloadError, Value};
use support::Plugin;

/// Set in the child process that runs one scenario.
const CHILD: &str = "COO_PANICS_TEST_CHILD";

/// Runs `scenario` in a child process (this binary, filtered to `test`) and fails unless the
/// child ran it to the end: an abort kills the child, not this process.
fn in_child(test: &str, scenario: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        scenario();
        return;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "the scenario's process did not finish normally ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// Version 1: `Noisy`'s `Drop` panics unless its id is 0.
const SOURCE: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug)]
pub struct Noisy {
    pub id: u32,
}

impl Drop for Noisy {
    fn drop(&mut self) {
        if self.id != 0 {
            panic!("noisy {} refuses to drop", self.id);
        }
    }
}

#[derive(CooType, Debug)]
pub struct Game {
    pub counter: u64,
    pub name: String,
    pub noisy: Noisy,
}

#[hot_fn]
pub fn init() -> Game {
    Game {
        counter: 0,
        name: "dungeon".into(),
        noisy: Noisy { id: 1 },
    }
}

#[hot_fn]
pub fn step(game: &mut Game) -> u64 {
    game.counter += 1;
    game.counter
}
"#;

/// The plugin as `name`; its `Noisy` panics when dropped if `noisy_drop_panics`.
fn plugin(name: &str, noisy_drop_panics: bool) -> Plugin {
    let plugin = Plugin::copy("game-plugin", name);
    let id = if noisy_drop_panics { "1" } else { "0" };
    plugin.write_source(&SOURCE.replace("Noisy { id: 1 }", &format!("Noisy {{ id: {id} }}")));
    plugin
}

fn json(host: &Host) -> serde_json::Value {
    serde_json::from_str(&state_json(host.state())).expect("state --json is JSON")
}

/// Calls `step` three times; the state then has `counter` 3.
fn run(host: &mut Host) {
    for _ in 0..3 {
        host.call_by_name("step", &[]).expect("step runs");
    }
}

/// The host is alive, its state intact, and the plugin's code still runs.
fn still_running(host: &mut Host, counter: u64) {
    assert_eq!(json(host)["Game"]["counter"], counter);
    assert_eq!(json(host)["Game"]["name"], "dungeon");
    assert_eq!(
        host.call_by_name("step", &[]).expect("step runs"),
        Value::Int(i128::from(counter) + 1)
    );
}

/// The report of a `ty` whose drop panicked in `Noisy`'s `Drop`.
fn noisy_panic(ty: &str, id: u32) -> DropPanic {
    DropPanic {
        ty: ty.to_owned(),
        message: format!("noisy {id} refuses to drop"),
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_removed_field_whose_drop_panics_is_leaked_and_reported() {
    in_child(
        "a_removed_field_whose_drop_panics_is_leaked_and_reported",
        || {
            let plugin = plugin("panics_removed", true);
            let mut host = plugin.host();
            run(&mut host);
            plugin.edit(&[
                ("    pub noisy: Noisy,\n", ""),
                ("        noisy: Noisy { id: 1 },\n", ""),
            ]);
            let report = host.reload().expect("the reload succeeds");
            assert_eq!(
                report.drop_panics,
                vec![noisy_panic("panics_removed::Noisy", 1)]
            );
            assert!(
                report
                    .to_string()
                    .contains("! dropping a `panics_removed::Noisy` panicked: noisy 1 refuses to drop; the value was leaked"),
                "{report}"
            );
            assert!(json(&host)["Game"].get("noisy").is_none());
            still_running(&mut host, 3);
        },
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_value_replaced_in_a_reload_whose_drop_panics_is_leaked_and_reported() {
    in_child(
        "a_value_replaced_in_a_reload_whose_drop_panics_is_leaked_and_reported",
        || {
            let plugin = plugin("panics_replaced", true);
            let mut host = plugin.host();
            run(&mut host);
            // A hook makes the migration build a new `Noisy` and drop the old one whole, with
            // the old version's glue, which runs the old `Drop`.
            plugin.edit(&[(
                "#[derive(CooType, Debug)]\npub struct Noisy {\n    pub id: u32,\n}",
                "#[derive(CooType, Debug)]\n#[coo(migrate = carry)]\npub struct Noisy {\n    pub id: u32,\n    #[coo(default = 5)]\n    pub volume: u8,\n}\n\n\
                 fn carry(old: &coo_runtime::ValueView<'_>, new: &mut Noisy) -> Result<(), String> {\n    new.id = old.get::<u32>(\"id\").map_err(|e| e.to_string())?;\n    Ok(())\n}",
            ), ("noisy: Noisy { id: 1 },", "noisy: Noisy { id: 1, volume: 5 },")]);
            let report = host.reload().expect("the reload succeeds");
            assert_eq!(
                report.drop_panics,
                vec![noisy_panic("panics_replaced::Noisy", 1)]
            );
            assert_eq!(json(&host)["Game"]["noisy"]["id"], 1);
            assert_eq!(json(&host)["Game"]["noisy"]["volume"], 5);
            still_running(&mut host, 3);
        },
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_resource_replaced_by_a_call_whose_drop_panics_is_leaked_and_reported() {
    in_child(
        "a_resource_replaced_by_a_call_whose_drop_panics_is_leaked_and_reported",
        || {
            let plugin = plugin("panics_call", true);
            let mut host = plugin.host();
            run(&mut host);
            assert_eq!(host.take_drop_panics(), vec![]);
            // `init` returns a new `Game`; the old one is dropped whole, and its `Noisy` panics.
            assert_eq!(
                host.call_by_name("init", &[]).expect("init runs"),
                Value::Resource("Game".into())
            );
            assert_eq!(
                host.take_drop_panics(),
                vec![noisy_panic("panics_call::Game", 1)]
            );
            still_running(&mut host, 0);
        },
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_panicking_default_refuses_the_reload_naming_the_field() {
    in_child(
        "a_panicking_default_refuses_the_reload_naming_the_field",
        || {
            let plugin = plugin("panics_default", false);
            let mut host = plugin.host();
            run(&mut host);
            plugin.edit(&[
                (
                    "#[derive(CooType, Debug)]\npub struct Game {",
                    "#[derive(CooType, Debug)]\npub struct Extra {\n    pub x: u8,\n}\n\n\
                     impl Default for Extra {\n    fn default() -> Self {\n        panic!(\"no default extra today\")\n    }\n}\n\n\
                     #[derive(CooType, Debug)]\npub struct Game {\n    pub extra: Extra,",
                ),
                ("        counter: 0,\n", "        counter: 0,\n        extra: Extra { x: 1 },\n"),
            ]);
            let err = host.reload().expect_err("the default panics");
            let ReloadError::Migrate(ExecuteError {
                path,
                kind: ExecuteErrorKind::Default(DefaultPanicked { message }),
            }) = &err
            else {
                panic!("expected a panicking default, got {err:?}");
            };
            assert_eq!(path.to_string(), "Game.extra");
            assert_eq!(message, "no default extra today");
            assert_eq!(host.version(), 1);
            assert!(json(&host)["Game"].get("extra").is_none());
            still_running(&mut host, 3);
        },
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_hook_error_whose_display_panics_refuses_the_reload() {
    in_child(
        "a_hook_error_whose_display_panics_refuses_the_reload",
        || {
            let plugin = plugin("panics_display", false);
            let mut host = plugin.host();
            run(&mut host);
            plugin.edit(&[
                (
                    "#[derive(CooType, Debug)]\npub struct Game {",
                    "pub struct Oops;\n\n\
                     impl std::fmt::Display for Oops {\n    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        panic!(\"oops cannot be shown\")\n    }\n}\n\n\
                     fn upgrade(_old: &coo_runtime::ValueView<'_>, _new: &mut Game) -> Result<(), Oops> {\n    Err(Oops)\n}\n\n\
                     #[derive(CooType, Debug)]\n#[coo(migrate = upgrade)]\npub struct Game {\n    #[coo(default = 2)]\n    pub level: u8,",
                ),
                ("        counter: 0,\n", "        counter: 0,\n        level: 2,\n"),
            ]);
            let err = host.reload().expect_err("the hook fails");
            let ReloadError::Migrate(ExecuteError {
                kind: ExecuteErrorKind::Hook { ty, message, .. },
                ..
            }) = &err
            else {
                panic!("expected a failing hook, got {err:?}");
            };
            assert_eq!(ty, "Game");
            assert_eq!(
                message,
                "the hook returned an error whose `Display` panicked: oops cannot be shown; \
                 make the error type's `Display` impl not panic"
            );
            assert_eq!(host.version(), 1);
            still_running(&mut host, 3);
        },
    );
}
