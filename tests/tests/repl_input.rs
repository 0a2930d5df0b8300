//! Malformed command lines never hurt the host: a property test that types random lines (made
//! of real commands, paths, JSON fragments, quotes and noise) into the command language of a
//! host running a real plugin. No line panics the host; a line that reports an error leaves the
//! live state exactly as it was; only `set` and `call` ever change it.

mod support;

use std::cell::RefCell;

use hot_host::Host;
use hot_host::cli::repl::{Flow, run_command, split_words};
use hot_host::state_io::show::state_json;
use proptest::prelude::*;
use support::Plugin;

/// Words of the command language, and `exit`'s alias. `save`, `load`, `reload` and `plan` are
/// left out: they write files or run cargo, and their failures are tested on their own.
const COMMANDS: &[&str] = &[
    "call", "state", "set", "help", "fns", "types", "quit", "exit",
];
const LEFT_OUT: &[&str] = &["save", "load", "reload", "plan"];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(COMMANDS).prop_map(str::to_owned),
        3 => proptest::sample::select(&[
            "Game", "Game.counter", "Game.score", "Game.title", "Game.enemies", "Game.enemies[0]",
            "Game.enemies[1].name", "Game.enemies[0].stats.hp", "Game.enemies[0].stats.level",
            "Game.enemies[0].pos[1]", "Game.enemies[99]", "Game.enemies[-1]",
            "Game.enemies[18446744073709551616]", "Game.phase", "Game.phase.speed", "Game..x",
            "Game.", ".counter", "Nope.x", "Game[0]", "Game.enemies[", "Game.enemies]0[",
        ][..])
        .prop_map(str::to_owned),
        3 => proptest::sample::select(&[
            "step", "add_score", "add_enemy", "describe", "boom", "init", "no_such_fn",
        ][..])
        .prop_map(str::to_owned),
        4 => proptest::sample::select(&[
            "0", "1", "-1", "255", "256", "-129", "2147483648", "9223372036854775808",
            "-9223372036854775809", "340282366920938463463374607431768211456", "1e999", "-0",
            "0.5", "NaN", "inf", "null", "true", "false", "{", "}", "[", "]", "[1,2", "[1.0, 2.0]",
            "[1.0, 2.0, 3.0]", "\"orc\"", "Idle", "Running", "Walking", "'{\"speed\": 3}'",
            "'{\"Running\": {\"speed\": 7}}'", "'{\"speed\":'", "'{\"name\": \"troll\", \"pos\": [0, 0], \"stats\": {\"hp\": 1, \"level\": 1}}'",
            "'{\"name\": \"troll\"}'", "\"", "'", "\\", "\"a b\"", "\"unterminated", "--json", "--",
        ][..])
        .prop_map(str::to_owned),
        2 => "\\PC{0,12}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(word(), 0..6),
        proptest::sample::select(&[" ", "  ", "\t", " \t "][..]),
    )
        .prop_map(|(words, sep)| words.join(sep))
        .prop_filter(
            "leaves out the commands that write files or run cargo",
            |l| {
                let words = split_words(l).unwrap_or_default();
                !words
                    .first()
                    .is_some_and(|w| LEFT_OUT.contains(&w.as_str()))
            },
        )
}

thread_local! {
    /// One plugin build for all cases; the state carries over from case to case, so later lines
    /// meet whatever earlier ones left.
    static HOST: RefCell<Option<(Plugin, Host)>> = const { RefCell::new(None) };
}

fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> R {
    HOST.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (_, host) = slot.get_or_insert_with(|| {
            let plugin = Plugin::copy("game-plugin", "e2e_repl_input");
            let host = plugin.host();
            (plugin, host)
        });
        f(host)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(
        miri,
        ignore = "builds a plugin crate with cargo and dlopens it: process spawning and FFI, which Miri cannot run"
    )]
    fn a_random_line_never_panics_and_an_error_changes_nothing(line in line()) {
        let (before, after, out, err, flow) = with_host(|host| {
            let before = state_json(host.state());
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let flow = run_command(host, &line, &mut out, &mut err)
                .expect("writing into a Vec cannot fail");
            (before, state_json(host.state()), out, err, flow)
        });
        let (out, err) = (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap());
        let words = split_words(&line).unwrap_or_default();
        let first = words.first().map(String::as_str).unwrap_or("");
        // The host's own errors are one `error: ...` report each; nothing else reaches `err`.
        if !err.is_empty() {
            prop_assert!(err.starts_with("error: "), "line {line:?} wrote {err:?}");
            prop_assert_eq!(&before, &after, "line {:?} failed ({}) but changed the state", line, err);
        }
        if first != "set" && first != "call" {
            prop_assert_eq!(&before, &after, "line {:?} is read-only but changed the state", line);
        }
        if flow == Flow::Quit {
            prop_assert!(matches!(first, "quit" | "exit"), "line {line:?} quit");
        }
        if first == "help" {
            prop_assert!(out.starts_with("commands:"), "help printed {out:?}");
        }
        if words.len() == 1 && first == "fns" {
            prop_assert!(out.contains("step: fn(game: &mut Game)"), "fns printed {out:?}");
        }
    }
}
