//! The command language through the real `hot-host run` binary: each command typed on its
//! standard input, its exact output read back from standard output and standard error.
//!
//! Every host here runs with `--every 0 --no-watch --autosave 0`, builds into the fixtures'
//! shared target dir and keeps its snapshots in a state dir inside its own plugin copy.

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: starting a host includes a cargo build, and CI machines are slow. Tests never
/// assert how fast anything is; they only wait for it.
const PATIENCE: Duration = Duration::from_secs(300);

/// `hot-host run` as a child process, its two output streams collected line by line.
struct Host {
    child: Child,
    stdin: ChildStdin,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    /// How many commands were marked so far, to tell the markers apart.
    marks: usize,
    /// The state as `state --json` printed it right after the last command.
    last_state: String,
}

/// What one command printed.
#[derive(Debug, Default, PartialEq)]
struct Output {
    out: Vec<String>,
    err: Vec<String>,
}

impl Host {
    /// Starts the host on `dir` and waits until it has loaded the plugin and run its `init`.
    fn start(dir: &Path) -> Host {
        let state_dir = dir.join("state");
        let support::HostProcess {
            child,
            stdin,
            out,
            err,
        } = support::run_host(
            dir,
            &[
                "--state-dir".as_ref(),
                state_dir.as_os_str(),
                "--every".as_ref(),
                "0".as_ref(),
                "--no-watch".as_ref(),
                "--autosave".as_ref(),
                "0".as_ref(),
            ],
        );
        let mut host = Host {
            child,
            stdin,
            out,
            err,
            marks: 0,
            last_state: String::new(),
        };
        // The start-up lines (`loaded …`, `init: …`) come before the first command's output.
        let started = host.run("");
        assert!(
            started
                .out
                .first()
                .is_some_and(|l| l.starts_with("loaded ")),
            "{started:?}"
        );
        host
    }

    /// Sends `command` and returns everything it printed. Each stream is ordered and the host
    /// flushes both after every command, so the output of `command` on each stream is what
    /// comes before the output of two marker commands sent right after it: `state --json` (one
    /// line of JSON on stdout) and an unknown command (one error line on stderr).
    fn run(&mut self, command: &str) -> Output {
        self.marks += 1;
        let mark = format!("mark-{}", self.marks);
        writeln!(self.stdin, "{command}\nstate --json\n{mark}").unwrap();
        self.stdin.flush().unwrap();
        let mut output = Output::default();
        let deadline = Instant::now() + PATIENCE;
        let wait = |rx: &mpsc::Receiver<String>, what: &str, seen: &Output| {
            let left = deadline.saturating_duration_since(Instant::now());
            rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no {what} within {PATIENCE:?} after `{command}`; so far: {seen:?}")
            })
        };
        loop {
            let line = wait(&self.out, "state line on stdout", &output);
            if line.starts_with("{\"") {
                self.last_state = line;
                break;
            }
            output.out.push(line);
        }
        let marker =
            format!("error: unknown command or arguments: `{mark}`; type `help` for the commands");
        loop {
            let line = wait(&self.err, "marker on stderr", &output);
            if line == marker {
                break;
            }
            output.err.push(line);
        }
        output
    }

    /// The live state, through `state --json` (the marker of an empty command).
    fn state(&mut self) -> serde_json::Value {
        assert_eq!(self.run(""), Output::default());
        let line = &self.last_state;
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    fn quit(mut self) {
        writeln!(self.stdin, "quit").unwrap();
        self.stdin.flush().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "hot-host exited with {status}");
    }
}

/// Stdout lines, nothing on stderr.
fn out(lines: &[&str]) -> Output {
    Output {
        out: lines.iter().map(|l| (*l).to_owned()).collect(),
        err: Vec::new(),
    }
}

/// `save`'s output with the time it took (the only part that varies) replaced by `N`:
/// `saved the state to F (1.2 kB, N ms)`.
fn without_time(mut output: Output) -> Output {
    for line in &mut output.out {
        if let Some(rest) = line.strip_suffix(" ms)")
            && let Some((head, ms)) = rest.rsplit_once(", ")
            && !ms.is_empty()
            && ms.bytes().all(|b| b.is_ascii_digit())
        {
            *line = format!("{head}, N ms)");
        }
    }
    output
}

/// What `save FILE` prints (the time as `N`): the file's size, in decimal units.
fn saved(file: &str) -> Output {
    let len = fs::metadata(file).unwrap().len();
    let size = match len {
        0..1_000 => format!("{len} B"),
        1_000..1_000_000 => format!("{:.1} kB", len as f64 / 1e3),
        _ => format!("{:.1} MB", len as f64 / 1e6),
    };
    out(&[&format!("saved the state to {file} ({size}, N ms)")])
}

/// One error line, nothing on stdout.
fn err(line: &str) -> Output {
    Output {
        out: Vec::new(),
        err: vec![line.to_owned()],
    }
}

fn edit(dir: &Path, old: &str, new: &str) {
    let path = dir.join("src/lib.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "the source has no {old:?}");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// `Game` of the `game-plugin` fixture as `init` makes it, as `{:#?}` prints it.
const GAME_PRETTY: &[&str] = &[
    "Game {",
    "    counter: 0,",
    "    score: 0,",
    "    enemies: [",
    "        Enemy {",
    "            name: \"orc\",",
    "            pos: [",
    "                1.0,",
    "                2.0,",
    "            ],",
    "            stats: Stats {",
    "                hp: 30,",
    "                level: 2,",
    "            },",
    "        },",
    "        Enemy {",
    "            name: \"elf\",",
    "            pos: [",
    "                3.0,",
    "                4.0,",
    "            ],",
    "            stats: Stats {",
    "                hp: 20,",
    "                level: 5,",
    "            },",
    "        },",
    "    ],",
    "    phase: Running {",
    "        speed: 3,",
    "    },",
    "    title: \"dungeon\",",
    "}",
];

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn help_fns_and_types_print_the_commands_the_functions_and_the_layouts() {
    let dir = support::copy_fixture("game-plugin", "cmd_lists");
    let mut host = Host::start(dir.path());

    let help = hot_host::cli::repl::help();
    let help: Vec<&str> = help.lines().collect();
    assert_eq!(host.run("help"), out(&help));
    for command in [
        "call", "state", "set", "save", "load", "reload", "plan", "fns", "types",
    ] {
        assert!(
            help.iter().any(|l| l.starts_with(&format!("  {command} "))),
            "`help` lists `{command}`"
        );
    }

    assert_eq!(
        host.run("fns"),
        out(&[
            "add_enemy: fn(game: &mut Game, enemy: Enemy) -> u32",
            "add_score: fn(game: &mut Game, points: i64) -> i64",
            "boom: fn(game: &Game) -> u64",
            "describe: fn(game: &Game) -> String",
            "init: fn() -> Game",
            "step: fn(game: &mut Game)",
        ])
    );

    assert_eq!(
        host.run("types"),
        out(&[
            "struct Enemy (40 bytes)",
            "    name: String",
            "    pos: [f32; 2]",
            "    stats: Stats",
            "struct Game (72 bytes)",
            "    counter: u64",
            "    score: i64",
            "    enemies: Vec<Enemy>",
            "    phase: Phase",
            "    title: String",
            "enum Phase (8 bytes)",
            "    Idle",
            "    Running { speed: u32 }",
            "struct Stats (8 bytes)",
            "    hp: i32",
            "    level: u8",
        ])
    );
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn state_prints_the_whole_state_or_one_path_and_set_edits_the_live_state() {
    let dir = support::copy_fixture("game-plugin", "cmd_state");
    let mut host = Host::start(dir.path());

    assert_eq!(host.run("state"), out(GAME_PRETTY));
    assert_eq!(
        host.run("state Game.enemies[1].stats"),
        out(&["Stats {", "    hp: 20,", "    level: 5,", "}"])
    );
    assert_eq!(host.run("state Game.enemies[0].name"), out(&["\"orc\""]));
    assert_eq!(
        host.run("state Game.enemies[0].pos --json"),
        out(&["[1.0,2.0]"])
    );

    // `set` takes JSON (a bare word is a string or a unit variant; single quotes keep JSON's
    // double quotes) and changes the live value.
    assert_eq!(host.run("set Game.score -42"), Output::default());
    assert_eq!(host.run("set Game.title dungeon2"), Output::default());
    assert_eq!(
        host.run(r#"set Game.enemies[1].name '"dark elf"'"#),
        Output::default()
    );
    assert_eq!(host.run("set Game.phase Idle"), Output::default());
    assert_eq!(
        host.run(r#"set Game.enemies[0].stats '{"hp": 31, "level": 3}'"#),
        Output::default()
    );
    assert_eq!(host.run("state Game.score"), out(&["-42"]));
    assert_eq!(host.run("state Game.phase"), out(&["Idle"]));
    let state = host.state();
    assert_eq!(state["Game"]["score"], -42);
    assert_eq!(state["Game"]["title"], "dungeon2");
    assert_eq!(state["Game"]["enemies"][1]["name"], "dark elf");
    assert_eq!(state["Game"]["phase"], "Idle");
    assert_eq!(
        state["Game"]["enemies"][0]["stats"],
        serde_json::json!({"hp": 31, "level": 3})
    );
    // The functions see the edited state.
    assert_eq!(host.run("call add_score 2"), out(&["-40"]));

    // Refused edits say why and change nothing.
    let before = host.state();
    assert_eq!(
        host.run("set Game.enemies[0].stats.level 300"),
        err("error: `Game.enemies[0].stats.level` is 300, which does not fit `u8`")
    );
    assert_eq!(
        host.run("set Game.nope 1"),
        err(
            "error: `Game` is a `Game`, which has no field `nope`; its fields are `counter`, `score`, `enemies`, `phase`, `title`"
        )
    );
    assert_eq!(
        host.run("state Game.enemies[2]"),
        err("error: `Game.enemies` has 2 elements; index 2 is out of range")
    );
    assert_eq!(
        host.run("state Game.score --pretty"),
        err("error: `state <path>` takes only `--json` after the path")
    );
    assert_eq!(host.state(), before);
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn plan_shows_the_migration_the_current_source_needs_without_applying_it() {
    let dir = support::copy_fixture("game-plugin", "cmd_plan");
    let mut host = Host::start(dir.path());
    assert_eq!(host.run("call step"), Output::default());
    assert_eq!(host.run("plan"), out(&["no layout changes"]));

    edit(
        dir.path(),
        "pub score: i64,",
        "pub score: i64,\n    #[coo(default = 3)]\n    pub lives: u8,",
    );
    edit(dir.path(), "score: 0,", "score: 0,\n        lives: 3,");
    edit(dir.path(), "    pub title: String,\n", "");
    edit(dir.path(), "        title: \"dungeon\".into(),\n", "");
    edit(
        dir.path(),
        "format!(\"{} at {}\", game.title, game.counter)",
        "format!(\"at {}\", game.counter)",
    );
    edit(dir.path(), "#[hot_fn]\npub fn boom", "pub fn boom");
    let before = host.state();
    assert_eq!(
        host.run("plan"),
        out(&[
            "Game",
            "  + lives: u8",
            "  - title: String (values dropped)",
            "- fn boom",
            // `init` returns a `Game` by value: its slot cannot keep a handle resolved for
            // the old layout.
            "~ fn init: fn() -> Game -> fn() -> Game (new layout of `Game`)",
        ])
    );
    // Nothing was applied: the same state, and version 1 still runs.
    assert_eq!(host.state(), before);
    assert_eq!(host.run("call describe"), out(&["\"dungeon at 1\""]));
    // The panic is caught and reported as Coo's error, last (the default panic hook prints the
    // panic first).
    let boom = host.run("call boom");
    assert_eq!(
        boom.err.last().map(String::as_str),
        Some("error: `boom` panicked: boom at counter 1"),
        "{boom:?}"
    );
    assert!(boom.out.is_empty(), "{boom:?}");
    host.quit();
}

/// A plugin with a function that takes every kind of parameter the command line can pass.
const ARGS_PLUGIN: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[derive(CooType, Debug)]
pub struct Log {
    pub lines: Vec<String>,
    pub last: Point,
}

#[hot_fn]
pub fn init() -> Log {
    Log {
        lines: Vec::new(),
        last: Point { x: 0, y: 0 },
    }
}

/// Every kind of parameter, with the live resource in the middle (it takes no argument).
#[hot_fn]
#[allow(clippy::too_many_arguments)]
pub fn record(
    small: i8,
    log: &mut Log,
    big: u128,
    ratio: f64,
    half: f32,
    flag: bool,
    letter: char,
    tag: &str,
    text: String,
    at: Point,
) -> String {
    let line = format!("{small} {big} {ratio} {half} {flag} {letter} [{tag}] [{text}] ({}, {})", at.x, at.y);
    log.lines.push(line.clone());
    log.last = at;
    line
}

#[hot_fn]
pub fn count(log: &Log) -> usize {
    log.lines.len()
}
"#;

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn call_passes_each_kind_of_argument_and_refuses_wrong_counts_and_types() {
    let dir = support::variant("cmd-args-plugin", ARGS_PLUGIN, |m| m);
    let mut host = Host::start(dir.path());
    let good = [
        "-128",
        "340282366920938463463374607431768211455",
        "2.5",
        "0.25",
        "true",
        "λ",
        "\"a tag\"",
        "'say \"hi\"'",
        r#"'{"x": 3, "y": -4}'"#,
    ];
    let call = |args: &[&str]| format!("call record {}", args.join(" "));
    assert_eq!(
        host.run(&call(&good)),
        out(&[
            r#""-128 340282366920938463463374607431768211455 2.5 0.25 true λ [a tag] [say \"hi\"] (3, -4)""#
        ])
    );
    assert_eq!(host.run("call count"), out(&["1"]));
    assert_eq!(
        host.state()["Log"]["last"],
        serde_json::json!({"x": 3, "y": -4})
    );

    // Wrong counts: the signature says what to pass.
    let signature = "fn(small: i8, log: &mut Log, big: u128, ratio: f64, half: f32, flag: bool, letter: char, tag: &str, text: String, at: Point) -> String";
    assert_eq!(
        host.run(&call(&good[..8])),
        err(&format!(
            "error: `record` takes 9 arguments ({signature}), 8 given"
        ))
    );
    assert_eq!(
        host.run("call count 1"),
        err("error: `count` takes 0 arguments (fn(log: &Log) -> usize), 1 given")
    );
    assert_eq!(
        host.run("call"),
        err("error: `call` needs a function name; `fns` lists them")
    );
    assert_eq!(
        host.run("call recrod"),
        err("error: no hot function `recrod`; the plugin has count, init, record")
    );

    // Wrong types, one argument at a time: each error names the parameter.
    let wrong = |i: usize, arg: &str| {
        let mut args = good;
        args[i] = arg;
        call(&args)
    };
    let cases = [
        (
            0,
            "x",
            "argument `small` of `record`: expected an integer (i8), found `x`",
        ),
        (
            0,
            "128",
            "argument `small` of `record`: 128 does not fit in `i8`",
        ),
        (
            0,
            "1.5",
            "argument `small` of `record`: expected an integer (i8), found `1.5`",
        ),
        (
            1,
            "-1",
            "argument `big` of `record`: -1 does not fit in `u128`",
        ),
        (
            2,
            "fast",
            "argument `ratio` of `record`: expected a number, found `fast`",
        ),
        (
            4,
            "yes",
            "argument `flag` of `record`: expected `true` or `false`, found `yes`",
        ),
        (
            5,
            "ab",
            "argument `letter` of `record`: expected one character, found `ab`",
        ),
        (
            8,
            r#"'{"x": 3}'"#,
            "argument `at` of `record`: `at` has no value for field `y` of `Point`; give every field: `x`, `y`",
        ),
        (
            8,
            "'[3, -4]'",
            "argument `at` of `record`: `at` holds `Point` (an object of its fields), so it cannot be an array",
        ),
    ];
    for (i, arg, message) in cases {
        assert_eq!(
            host.run(&wrong(i, arg)),
            err(&format!("error: {message}")),
            "{arg}"
        );
    }
    // None of them called the function.
    assert_eq!(host.run("call count"), out(&["1"]));
    host.quit();
}

/// `save` over an existing snapshot replaces the file whole (a temp file renamed over it), never
/// rewrites it in place: a save cut short leaves the old snapshot intact, and whoever has the old
/// file open keeps reading the old snapshot.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn save_over_a_snapshot_replaces_the_file_whole() {
    use std::io::Read;

    let dir = support::copy_fixture("game-plugin", "cmd_save_replace");
    let mut host = Host::start(dir.path());
    let file = dir.path().join("snap.json");
    let name = file.to_str().unwrap();
    assert_eq!(without_time(host.run(&format!("save {name}"))), saved(name));
    let first = fs::read_to_string(&file).unwrap();
    let mut old = fs::File::open(&file).unwrap();
    assert_eq!(host.run("call step"), Output::default());
    assert_eq!(without_time(host.run(&format!("save {name}"))), saved(name));
    let second = fs::read_to_string(&file).unwrap();
    assert_ne!(second, first);
    let mut through_old = String::new();
    old.read_to_string(&mut through_old).unwrap();
    assert_eq!(through_old, first, "the old file was rewritten in place");
    // No temp file is left beside it.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap.json"))
        .collect();
    names.sort();
    assert_eq!(names, ["snap.json"]);
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn save_records_the_plugin_and_load_refuses_another_plugins_snapshot() {
    use hot_host::state_io::snapshot::{self, PluginId, SnapshotError};

    let dir = support::copy_fixture("game-plugin", "cmd_save_identity");
    let mut host = Host::start(dir.path());
    let file = dir.path().join("snap.json");
    let file = file.to_str().unwrap();
    assert_eq!(without_time(host.run(&format!("save {file}"))), saved(file));
    // The snapshot says whose it is, as the dev loop's own snapshots do.
    let manifest = dir.path().join("Cargo.toml").canonicalize().unwrap();
    let text = fs::read_to_string(file).unwrap();
    assert_eq!(
        snapshot::header_of(&text).unwrap(),
        snapshot::Header {
            plugin: Some(PluginId {
                package: "cmd_save_identity".into(),
                manifest: manifest.display().to_string(),
            }),
            run: None,
        }
    );
    let saved = host.state();

    // The same plugin loads it back.
    assert_eq!(host.run("call step"), Output::default());
    assert_ne!(host.state(), saved);
    assert_eq!(
        host.run(&format!("load {file}")),
        out(&[
            "loaded 1 resource: Game",
            "Enemy: 2 values",
            "Game: 1 value",
            "Phase: 1 value",
            "Stats: 2 values",
            "",
        ])
    );
    assert_eq!(host.state(), saved);

    // Another plugin's snapshot (the same state, another package) is refused, as `--restore`
    // refuses it, and changes nothing.
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["plugin"] = serde_json::json!({
        "package": "another_plugin",
        "manifest": "/src/another_plugin/Cargo.toml",
    });
    let other = dir.path().join("other.json");
    fs::write(&other, json.to_string()).unwrap();
    assert_eq!(host.run("call step"), Output::default());
    let before = host.state();
    let refusal = SnapshotError::OtherPlugin {
        saved: "another_plugin".into(),
        saved_manifest: "/src/another_plugin/Cargo.toml".into(),
        current: "cmd_save_identity".into(),
    };
    assert_eq!(
        host.run(&format!("load {}", other.display())),
        err(&format!(
            "error: could not load {}, the state is unchanged: {refusal}",
            other.display()
        ))
    );
    assert_eq!(host.state(), before);
    host.quit();
}

/// A plugin whose `Noisy` resource panics when dropped, unless its id is 0.
const NOISY_PLUGIN: &str = r#"
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

#[hot_fn]
pub fn init() -> Noisy {
    Noisy { id: 0 }
}

#[hot_fn]
pub fn noisy(id: u32) -> Noisy {
    Noisy { id }
}
"#;

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn a_call_that_replaces_a_resource_whose_drop_panics_warns_and_the_host_goes_on() {
    let dir = support::variant("cmd-drop-panics", NOISY_PLUGIN, |m| m);
    let mut host = Host::start(dir.path());
    assert_eq!(
        host.run("call noisy 1"),
        out(&["(the new `Noisy` resource)"])
    );
    // The new `Noisy` replaces the old one, whose `Drop` panics: leaked and reported, last (the
    // plugin's panic hook prints the panic first).
    let replaced = host.run("call noisy 2");
    assert_eq!(replaced.out, ["(the new `Noisy` resource)"], "{replaced:?}");
    assert_eq!(
        replaced.err.last().map(String::as_str),
        Some(
            "warning: dropping a `cmd_drop_panics::Noisy` panicked: noisy 1 refuses to drop; \
             the value was leaked, not dropped again (a `Drop` impl must not panic)"
        ),
        "{replaced:?}"
    );
    assert!(
        replaced.err.iter().all(|l| !l.starts_with("error")),
        "{replaced:?}"
    );
    assert_eq!(host.state(), serde_json::json!({"Noisy": {"id": 2}}));
    // Reported once: the next command has nothing to report.
    assert_eq!(host.run("state Noisy.id"), out(&["2"]));
    let quiet = host.run("call noisy 0");
    assert_eq!(
        quiet.err.last().map(String::as_str),
        Some(
            "warning: dropping a `cmd_drop_panics::Noisy` panicked: noisy 2 refuses to drop; \
             the value was leaked, not dropped again (a `Drop` impl must not panic)"
        ),
        "{quiet:?}"
    );
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn a_watch_prints_its_value_whenever_a_command_changes_it_until_unwatched() {
    let dir = support::copy_fixture("game-plugin", "cmd_watch");
    let mut host = Host::start(dir.path());

    assert_eq!(host.run("watch Game.score"), out(&["Game.score = 0"]));
    assert_eq!(
        host.run("watch Game.counter --json"),
        out(&["Game.counter = 0"])
    );
    // Printed after the command that changed it, once per change.
    assert_eq!(host.run("call add_score 5"), out(&["5", "Game.score = 5"]));
    assert_eq!(host.run("call step"), out(&["Game.counter = 1"]));
    assert_eq!(host.run("call describe"), out(&["\"dungeon at 1\""]));
    assert_eq!(host.run("set Game.score 7"), out(&["Game.score = 7"]));
    assert_eq!(
        host.run("watches"),
        out(&["Game.score", "Game.counter --json"])
    );
    assert_eq!(host.run("unwatch Game.score"), Output::default());
    assert_eq!(host.run("call add_score 1"), out(&["8"]));
    assert_eq!(
        host.run("unwatch Game.score"),
        err("error: `Game.score` is not watched; `watches` lists the watched paths")
    );
    assert_eq!(
        host.run("watch Game.nope"),
        err(
            "error: `Game` is a `Game`, which has no field `nope`; its fields are `counter`, `score`, `enemies`, `phase`, `title`"
        )
    );
    // A value missing for now is said once, and printed when it is there.
    assert_eq!(
        host.run("watch Game.enemies[2].name"),
        err(
            "warning: watching `Game.enemies[2].name`, which has no value now: `Game.enemies` has 2 elements; index 2 is out of range"
        )
    );
    assert_eq!(
        host.run(
            r#"call add_enemy '{"name": "troll", "pos": [0, 0], "stats": {"hp": 1, "level": 1}}'"#
        ),
        out(&["3", "Game.enemies[2].name = \"troll\""])
    );
    assert_eq!(
        host.run("help watch unwatch"),
        out(&[
            "commands:",
            "  watch <path> [--json]    print a value now and whenever it changes (after every tick and command), as `<path> = <value>`",
            "                           e.g. `watch World.tick --json`",
            "  unwatch <path>           stop watching a value",
            "                           e.g. `unwatch World.tick`",
        ])
    );
    let help = hot_host::cli::repl::help();
    assert_eq!(
        host.run("help nope"),
        Output {
            out: help.lines().map(str::to_owned).collect(),
            err: vec!["error: there is no command `nope`".to_owned()],
        }
    );
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn a_watch_whose_path_vanishes_in_a_reload_says_so_once_and_ends() {
    let dir = support::copy_fixture("game-plugin", "cmd_watch_gone");
    let mut host = Host::start(dir.path());
    assert_eq!(
        host.run("watch Game.title"),
        out(&["Game.title = \"dungeon\""])
    );
    assert_eq!(host.run("watch Game.score"), out(&["Game.score = 0"]));

    edit(dir.path(), "    pub title: String,\n", "");
    edit(dir.path(), "        title: \"dungeon\".into(),\n", "");
    edit(
        dir.path(),
        "format!(\"{} at {}\", game.title, game.counter)",
        "format!(\"at {}\", game.counter)",
    );
    let reloaded = host.run("reload");
    assert!(
        reloaded
            .out
            .first()
            .is_some_and(|l| l.starts_with("version 1 -> 2")),
        "{reloaded:?}"
    );
    // Cargo's progress comes first (`Compiling …`, `Finished …`, a lock wait): cargo's status
    // lines, each a word right-aligned in 12 columns.
    let (progress, said): (Vec<&String>, Vec<&String>) = reloaded
        .err
        .iter()
        .partition(|l| l.len() > 12 && l.as_bytes()[11] != b' ' && l.starts_with(' '));
    assert!(
        progress
            .last()
            .is_some_and(|l| l.starts_with("    Finished ")),
        "{reloaded:?}"
    );
    assert_eq!(
        said,
        [
            "warning: the watch of `Game.title` ends: `Game` is a `Game`, which has no field `title`; its fields are `counter`, `score`, `enemies`, `phase`"
        ]
    );
    // Said once: the other watch goes on, and nothing more is said of the ended one.
    assert_eq!(host.run("call add_score 2"), out(&["2", "Game.score = 2"]));
    assert_eq!(host.run("watches"), out(&["Game.score"]));
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn a_watch_prints_the_value_again_after_every_tick_that_changed_it() {
    let dir = support::copy_fixture("tick-plugin", "cmd_watch_tick");
    let state_dir = dir.path().join("state");
    let support::HostProcess {
        mut child,
        mut stdin,
        out,
        err: _err,
    } = support::run_host(
        dir.path(),
        &[
            "--state-dir".as_ref(),
            state_dir.as_os_str(),
            "--every".as_ref(),
            "10".as_ref(),
            "--no-watch".as_ref(),
            "--autosave".as_ref(),
            "0".as_ref(),
        ],
    );
    writeln!(stdin, "watch Counter.count --json").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    let mut counts = Vec::new();
    while counts.len() < 4 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = out
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no 4 counts within {PATIENCE:?}; stdout: {seen:#?}"));
        if let Some(count) = line.strip_prefix("Counter.count = ") {
            counts.push(count.parse::<u64>().unwrap());
        }
        seen.push(line);
    }
    // Each tick adds one; every print is of a new value.
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]),
        "the counts printed: {counts:?}"
    );
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn types_with_a_name_prints_that_type_only() {
    let dir = support::copy_fixture("game-plugin", "cmd_one_type");
    let mut host = Host::start(dir.path());
    assert_eq!(
        host.run("types Stats"),
        out(&["struct Stats (8 bytes)", "    hp: i32", "    level: u8"])
    );
    assert_eq!(
        host.run("types Nope"),
        err("error: the plugin has no type `Nope`; `types` lists them")
    );
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn call_of_a_function_that_takes_a_host_object_is_refused_naming_it() {
    let dir = support::variant(
        "cmd-host-object-plugin",
        r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug, Default)]
pub struct Log {
    pub notes: u64,
}

#[hot_fn]
pub fn init() -> Log {
    Log::default()
}

#[hot_fn]
pub fn note(log: &mut Log, #[host] lines: &mut Vec<String>, n: u32) {
    log.notes += 1;
    lines.push(format!("{n}"));
}
"#,
        |m| m,
    );
    let mut host = Host::start(dir.path());
    // Only a program that embeds Coo has a `Vec<String>` to pass: the REPL says so, calls
    // nothing, and runs on.
    assert_eq!(
        host.run("call note 1"),
        err(
            "error: `note` takes the host object `lines: &mut alloc::vec::Vec<alloc::string::String>`, which only the program that embeds Coo can pass: resolve it with `Host::resolve_typed` and pass the object there"
        )
    );
    assert_eq!(host.state()["Log"]["notes"], serde_json::json!(0));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn use_lists_a_functions_implementations_and_chooses_one_live_across_reloads() {
    let dir = support::variant(
        "cmd-use-plugin",
        r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug, Default)]
pub struct Counter {
    pub count: u64,
}

#[hot_fn]
pub fn init() -> Counter {
    Counter::default()
}

#[hot_fn]
pub fn change(counter: &mut Counter) {
    counter.count += 1;
}

#[hot_fn(alt_of = "change", name = "plus10")]
pub fn plus_ten(counter: &mut Counter) {
    counter.count += 10;
}

#[hot_fn(alt_of = "change")]
pub fn double(counter: &mut Counter) {
    counter.count *= 2;
}
"#,
        |m| m,
    );
    let mut host = Host::start(dir.path());
    assert_eq!(
        host.run("use change"),
        out(&[
            "implementations of `change` (* runs):",
            "* change",
            "  double",
            "  plus10"
        ])
    );
    assert_eq!(host.run("call change"), Output::default());
    assert_eq!(
        host.run("use change plus10"),
        out(&["`change` runs `plus10`"])
    );
    assert_eq!(host.run("call change"), Output::default());
    assert_eq!(host.state()["Counter"]["count"], serde_json::json!(11));
    assert_eq!(
        host.run("use change plus100"),
        err(
            "error: `change` has no implementation named `plus100`; choose one of `change`, `double`, `plus10` (alternatives are marked `#[hot_fn(alt_of = \"change\", name = \"...\")]`)"
        )
    );
    assert_eq!(
        host.run("use init"),
        out(&["implementations of `init` (* runs):", "* init"])
    );

    // Kept across a reload that keeps it (here with a new body).
    edit(dir.path(), "counter.count += 10;", "counter.count += 100;");
    let reloaded = host.run("reload");
    assert!(
        reloaded.out[0].starts_with("version 1 -> 2"),
        "{reloaded:?}"
    );
    assert_eq!(host.run("call change"), Output::default());
    assert_eq!(host.state()["Counter"]["count"], serde_json::json!(111));

    // Gone: the report says which one runs now.
    edit(
        dir.path(),
        "#[hot_fn(alt_of = \"change\", name = \"plus10\")]\n",
        "",
    );
    let reloaded = host.run("reload");
    assert!(
        reloaded.out.contains(
            &"  ~ fn change: the chosen implementation `plus10` is gone; `change` runs now"
                .to_owned()
        ),
        "{reloaded:?}"
    );
    assert_eq!(host.run("call change"), Output::default());
    assert_eq!(host.state()["Counter"]["count"], serde_json::json!(112));
    assert_eq!(
        host.run("use change"),
        out(&[
            "implementations of `change` (* runs):",
            "* change",
            "  double"
        ])
    );
    host.quit();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs hot-host, which builds a plugin with cargo and dlopens it: processes and FFI, which Miri cannot run"
)]
fn state_and_set_reach_the_unaligned_fields_of_a_packed_struct() {
    let dir = support::copy_fixture("game-plugin", "cmd_packed");
    // A packed struct in the plugin's state: `hp` and `limit` lie at odd offsets.
    edit(
        dir.path(),
        "#[derive(CooType, Debug)]\npub struct Game {",
        "#[derive(CooType, Debug, Clone, Copy)]\n#[repr(C, packed)]\npub struct Cell {\n    pub tag: u8,\n    pub hp: u32,\n    pub limit: Option<u16>,\n}\n\n#[hot_fn]\npub fn cell_hp(game: &Game) -> u32 {\n    game.cell.hp\n}\n\n#[derive(CooType, Debug)]\npub struct Game {\n    pub cell: Cell,",
    );
    edit(
        dir.path(),
        "    Game {\n        counter: 0,",
        "    Game {\n        cell: Cell { tag: 1, hp: 70_000, limit: Some(3) },\n        counter: 0,",
    );
    let mut host = Host::start(dir.path());
    // (Not `state Game.cell --json`: the harness takes a line of a JSON object for its marker.)
    assert_eq!(
        host.state()["Game"]["cell"],
        serde_json::json!({"tag": 1, "hp": 70000, "limit": 3})
    );
    assert_eq!(host.run("state Game.cell.hp"), out(&["70000"]));
    assert_eq!(host.run("state Game.cell.limit --json"), out(&["3"]));
    assert_eq!(host.run("set Game.cell.hp 5"), Output::default());
    assert_eq!(host.run("set Game.cell.limit 600"), Output::default());
    assert_eq!(host.run("state Game.cell.hp"), out(&["5"]));
    // The plugin's own code sees the edited field.
    assert_eq!(host.run("call cell_hp"), out(&["5"]));
    assert_eq!(
        host.state()["Game"]["cell"],
        serde_json::json!({"tag": 1, "hp": 5, "limit": 600})
    );
    // A refused edit says why and changes nothing.
    assert_eq!(
        host.run("set Game.cell.tag 300"),
        err("error: `Game.cell.tag` is 300, which does not fit `u8`")
    );
    assert_eq!(host.run("set Game.cell.limit null"), Output::default());
    assert_eq!(
        host.state()["Game"]["cell"],
        serde_json::json!({"tag": 1, "hp": 5, "limit": null})
    );
    host.quit();
}
