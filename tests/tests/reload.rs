//! End to end: a real plugin crate is built, loaded, called, edited on disk, rebuilt and
//! reloaded with its live state migrated.

mod support;

use coo_runtime::{ExecuteError, ExecuteErrorKind, ProblemKind};
use hot_host::state_io::show::state_json;
use hot_host::{CallError, CallErrorKind, Host, LoadError, LoadErrorKind, ReloadError, Value};
use support::Plugin;

fn int(v: i128) -> Value {
    Value::Int(v)
}

fn json(host: &Host) -> serde_json::Value {
    serde_json::from_str(&state_json(host.state())).expect("state --json is JSON")
}

fn reload(host: &mut Host) -> hot_host::ReloadReport {
    host.reload()
        .unwrap_or_else(|e| panic!("reload failed: {e}"))
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_changed_function_body_runs_on_the_same_state() {
    let plugin = Plugin::copy("game-plugin", "e2e_body");
    let mut host = plugin.host();
    let step = host.resolve("step").unwrap();
    for _ in 0..3 {
        host.call(&step, &[]).unwrap();
    }
    plugin.edit(&[("game.counter += 1;", "game.counter += 10;")]);
    let report = reload(&mut host);
    assert_eq!((report.from_version, report.to_version), (1, 2));
    assert!(report.migration.types.is_empty(), "no layout changed");
    assert_eq!(report.migration.kept, vec!["Game"]);
    // The handle resolved before the reload now runs the new code.
    host.call(&step, &[]).unwrap();
    assert_eq!(json(&host)["Game"]["counter"], 13);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn fields_added_removed_renamed_and_widened() {
    let plugin = Plugin::copy("game-plugin", "e2e_fields");
    let mut host = plugin.host();
    host.call_by_name("add_score", &[int(42)]).unwrap();
    host.call_by_name("step", &[]).unwrap();
    plugin.edit(&[
        // widened: u64 -> u128; renamed: score -> points; removed: title; added: lives.
        ("pub counter: u64,", "pub counter: u128,"),
        (
            "pub score: i64,",
            "#[coo(rename_from = \"score\")]\n    pub points: i64,\n    #[coo(default = 3)]\n    pub lives: u8,",
        ),
        ("    pub title: String,\n", ""),
        ("score: 0,", "points: 0,\n        lives: 3,"),
        ("title: \"dungeon\".into(),", ""),
        ("game.score += points;\n    game.score", "game.points += points;\n    game.points"),
        ("format!(\"{} at {}\", game.title, game.counter)", "format!(\"{} lives at {}\", game.lives, game.counter)"),
        ("game.counter < 1_000_000", "game.counter < 1_000_000u128"),
        ("-> u64 {\n    if", "-> u128 {\n    if"),
    ]);
    let report = reload(&mut host);
    let game = &json(&host)["Game"];
    assert_eq!(game["counter"], 1);
    assert_eq!(game["points"], 42);
    assert_eq!(game["lives"], 3);
    assert!(game.get("title").is_none());
    assert!(game.get("score").is_none());
    let text = report.to_string();
    assert!(text.contains("~ counter: u64 -> u128"), "{text}");
    assert!(text.contains("> score -> points: i64 (renamed)"), "{text}");
    assert!(text.contains("+ lives: u8"), "{text}");
    assert!(text.contains("- title: String (values dropped)"), "{text}");
    assert!(
        text.contains("~ fn boom: fn(game: &Game) -> u64 -> fn(game: &Game) -> u128"),
        "{text}"
    );
    assert_eq!(
        host.call_by_name("describe", &[]).unwrap(),
        Value::String("3 lives at 1".into())
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_nested_struct_inside_a_vec_and_an_enum_variant_change() {
    let plugin = Plugin::copy("game-plugin", "e2e_nested");
    let mut host = plugin.host();
    plugin.edit(&[
        (
            "pub struct Stats {\n    pub hp: i32,",
            "pub struct Stats {\n    pub hp: i64,\n    #[coo(default = 7)]\n    pub mana: u16,",
        ),
        (
            "Running {\n        speed: u32,\n    },",
            "Running {\n        speed: u64,\n    },\n    Paused(String),",
        ),
        (
            "Stats { hp: 30, level: 2 }",
            "Stats { hp: 30, mana: 7, level: 2 }",
        ),
        (
            "Stats { hp: 20, level: 5 }",
            "Stats { hp: 20, mana: 7, level: 5 }",
        ),
    ]);
    let report = reload(&mut host);
    let game = &json(&host)["Game"];
    assert_eq!(
        game["enemies"][0]["stats"],
        serde_json::json!({"hp": 30, "mana": 7, "level": 2})
    );
    assert_eq!(game["enemies"][1]["stats"]["hp"], 20);
    assert_eq!(game["enemies"][1]["name"], "elf");
    assert_eq!(game["phase"], serde_json::json!({"Running": {"speed": 3}}));
    assert_eq!(report.migration.ty("Stats").unwrap().values, 2);
    let text = report.to_string();
    assert!(text.contains("+ variant Paused"), "{text}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn checked_narrowing_is_refused_then_accepted_once_the_values_fit() {
    let plugin = Plugin::copy("game-plugin", "e2e_narrow");
    let mut host = plugin.host();
    host.call_by_name("add_score", &[int(1 << 40)]).unwrap();
    let narrow = [
        ("pub score: i64,", "pub score: i32,"),
        (
            "pub fn add_score(game: &mut Game, points: i64) -> i64",
            "pub fn add_score(game: &mut Game, points: i32) -> i32",
        ),
    ];
    plugin.edit(&narrow);
    let err = host.reload().unwrap_err();
    match &err {
        ReloadError::Migrate(ExecuteError {
            path,
            kind: ExecuteErrorKind::CheckedCast { .. },
        }) => {
            assert_eq!(path.to_string(), "Game.score")
        }
        other => panic!("expected a refused checked cast, got {other}"),
    }
    assert_eq!(host.version(), 1, "version 1 keeps running");
    assert_eq!(json(&host)["Game"]["score"], 1i64 << 40);
    // Make the value fit with the old code, which still runs, then reload again.
    host.call_by_name("add_score", &[int(-(1 << 40) + 5)])
        .unwrap();
    reload(&mut host);
    assert_eq!(json(&host)["Game"]["score"], 5);
    assert_eq!(host.call_by_name("add_score", &[int(1)]).unwrap(), int(6));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_build_error_keeps_the_old_version_running_and_the_next_good_edit_reloads() {
    let plugin = Plugin::copy("game-plugin", "e2e_build_error");
    let mut host = plugin.host();
    host.call_by_name("step", &[]).unwrap();
    let good = plugin.source();
    plugin.edit(&[("game.counter += 1;", "game.counter += \"one\";")]);
    let err = host.reload().unwrap_err();
    let ReloadError::Build(hot_host::BuildError::Compile { rendered }) = &err else {
        panic!("expected a compile error, got {err}");
    };
    assert!(
        rendered.contains("error[E0277]: cannot add-assign `&str` to `u64`"),
        "{rendered}"
    );
    assert!(rendered.contains("src/lib.rs"), "{rendered}");
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(json(&host)["Game"]["counter"], 2, "the old code still runs");
    plugin.write_source(&good.replace("game.counter += 1;", "game.counter += 5;"));
    reload(&mut host);
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(json(&host)["Game"]["counter"], 7);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn removed_and_resignatured_functions_fail_typed_instead_of_being_called() {
    let plugin = Plugin::copy("game-plugin", "e2e_fns");
    let mut host = plugin.host();
    let describe = host.resolve("describe").unwrap();
    let add = host.resolve("add_score").unwrap();
    plugin.edit(&[
        ("#[hot_fn]\npub fn describe", "pub fn describe"),
        (
            "pub fn add_score(game: &mut Game, points: i64) -> i64",
            "pub fn add_score(game: &mut Game, points: i64, bonus: i64) -> i64",
        ),
        ("game.score += points;", "game.score += points + bonus;"),
    ]);
    let report = reload(&mut host);
    assert_eq!(report.fns_removed, vec!["describe"]);
    assert_eq!(report.fns_changed.len(), 1);
    let err = host.call(&describe, &[]).unwrap_err();
    assert!(
        matches!(&err, CallError { name, kind: CallErrorKind::Removed { version: 2 } } if name == "describe"),
        "{err}"
    );
    let err = host.call(&add, &[int(1)]).unwrap_err();
    match (&err.name, &err.kind) {
        (name, CallErrorKind::SignatureChanged { old, new, relaid }) => {
            assert_eq!(name, "add_score");
            assert!(relaid.is_empty(), "{relaid:?}");
            assert_eq!(old, "fn(game: &mut Game, points: i64) -> i64");
            assert_eq!(new, "fn(game: &mut Game, points: i64, bonus: i64) -> i64");
        }
        _ => panic!("expected SignatureChanged, got {err}"),
    }
    // Resolving again gives the new function.
    let add = host.resolve("add_score").unwrap();
    assert_eq!(host.call(&add, &[int(1), int(2)]).unwrap(), int(3));
    assert!(matches!(
        host.resolve("describe"),
        Err(CallError {
            kind: CallErrorKind::NotFound { .. },
            ..
        })
    ));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_panic_in_a_hot_function_is_an_error_and_the_host_and_state_live_on() {
    let plugin = Plugin::copy("game-plugin", "e2e_panic");
    let mut host = plugin.host();
    host.call_by_name("step", &[]).unwrap();
    let before = state_json(host.state());
    let err = host.call_by_name("boom", &[]).unwrap_err();
    match (&err.name, &err.kind) {
        (name, CallErrorKind::Panicked { message }) => {
            assert_eq!(name, "boom");
            assert_eq!(message, "boom at counter 1");
        }
        _ => panic!("expected a caught panic, got {err}"),
    }
    assert_eq!(state_json(host.state()), before);
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(json(&host)["Game"]["counter"], 2);
    let report = reload(&mut host);
    assert_eq!((report.from_version, report.to_version), (1, 2));
    assert_eq!(report.migration.kept, vec!["Game"]);
    assert_eq!(json(&host)["Game"]["counter"], 2, "the state lived on");
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(
        json(&host)["Game"]["counter"],
        3,
        "and version 2 runs on it"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_failing_migration_hook_rolls_back_leaving_the_state_unchanged() {
    let plugin = Plugin::copy("game-plugin", "e2e_hook");
    let mut host = plugin.host();
    host.call_by_name("add_score", &[int(9)]).unwrap();
    let before = state_json(host.state());
    let game_at = host.state().resource("Game").unwrap().as_ptr();
    plugin.edit(&[
        ("#[derive(CooType, Debug)]\npub struct Game {", "#[derive(CooType, Debug)]\n#[coo(migrate = upgrade)]\npub struct Game {"),
        ("pub score: i64,", "pub score: String,"),
        ("game.score += points;\n    game.score", "points"),
        (
            "#[hot_fn]\npub fn init",
            "fn upgrade(old: &coo_runtime::ValueView<'_>, new: &mut Game) -> Result<(), String> {\n    let score = old.get::<i64>(\"score\").map_err(|e| e.to_string())?;\n    if score == 9 {\n        return Err(format!(\"refusing score {score}\"));\n    }\n    new.score = score.to_string();\n    Ok(())\n}\n\n#[hot_fn]\npub fn init",
        ),
        ("score: 0,", "score: String::new(),"),
    ]);
    let err = host.reload().unwrap_err();
    match &err {
        ReloadError::Migrate(ExecuteError {
            kind: ExecuteErrorKind::Hook { ty, message, .. },
            ..
        }) => {
            assert_eq!(ty, "Game");
            assert_eq!(message, "refusing score 9");
        }
        other => panic!("expected the hook's error, got {other}"),
    }
    assert_eq!(state_json(host.state()), before, "the state is unchanged");
    assert_eq!(host.state().resource("Game").unwrap().as_ptr(), game_at);
    assert_eq!(host.version(), 1);
    // The old code keeps running; once the hook accepts the value, the reload goes through.
    host.call_by_name("add_score", &[int(1)]).unwrap();
    reload(&mut host);
    assert_eq!(json(&host)["Game"]["score"], "10");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_library_that_is_not_a_plugin_or_is_truncated_is_a_typed_error() {
    let plugin = Plugin::copy("game-plugin", "e2e_bad_dylib");
    let mut host = plugin.host();
    let text = plugin.path().join("not-a-plugin.so");
    std::fs::write(&text, "this is not a library").unwrap();
    let err = host.reload_from(&text, None).unwrap_err();
    assert!(
        matches!(
            err,
            ReloadError::Load(LoadError {
                kind: LoadErrorKind::Open { .. },
                ..
            })
        ),
        "{err}"
    );
    let built = plugin.builder().build().unwrap();
    let bytes = std::fs::read(&built.dylib).unwrap();
    let truncated = plugin.path().join("truncated.so");
    std::fs::write(&truncated, &bytes[..bytes.len().min(4096)]).unwrap();
    let err = host.reload_from(&truncated, None).unwrap_err();
    assert!(
        matches!(
            &err,
            ReloadError::Load(LoadError {
                kind: LoadErrorKind::Open { message },
                ..
            }) if message.starts_with("truncated: ") && message.ends_with("the file has 4096")
        ),
        "{err}"
    );
    assert_eq!(host.version(), 1);
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(json(&host)["Game"]["counter"], 1, "version 1 still runs");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_cootype_value_passed_as_json_moves_into_the_function() {
    let plugin = Plugin::copy("game-plugin", "e2e_by_value");
    let mut host = plugin.host();
    let troll = r#"{"name":"troll","pos":[5.0,6.0],"stats":{"hp":50,"level":9}}"#;
    assert_eq!(
        host.call_by_name("add_enemy", &[Value::Json(troll.into())])
            .unwrap(),
        int(3)
    );
    assert_eq!(json(&host)["Game"]["enemies"][2]["name"], "troll");
    assert_eq!(json(&host)["Game"]["enemies"][2]["stats"]["level"], 9);
    // A value that does not fit the type is refused before the call, naming the field.
    let err = host
        .call_by_name(
            "add_enemy",
            &[Value::Json(r#"{"name":"imp","pos":[0.0,0.0]}"#.into())],
        )
        .unwrap_err();
    assert!(
        matches!(&err.kind, CallErrorKind::BadArg { param, message } if param == "enemy"
            && message == "`enemy` has no value for field `stats` of `Enemy`; give every field: `name`, `pos`, `stats`"),
        "{err}"
    );
    assert_eq!(json(&host)["Game"]["enemies"].as_array().unwrap().len(), 3);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_handle_to_a_function_whose_by_value_type_changed_layout_answers_signature_changed() {
    const V1: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug, Default)]
pub struct Small {
    pub a: u32,
}

#[derive(CooType, Debug, Default)]
pub struct Other {
    pub x: u16,
}

#[hot_fn]
pub fn f(v: Small) -> Small {
    Small { a: v.a + 1 }
}

#[hot_fn]
pub fn g(o: Other) -> u32 {
    u32::from(o.x) * 2
}
"#;
    let plugin = Plugin::copy("game-plugin", "e2e_by_value_layout");
    plugin.write_source(V1);
    let mut host = plugin.host();
    let f = host.resolve("f").unwrap();
    let g = host.resolve("g").unwrap();
    assert_eq!(
        host.call(&f, &[Value::Json(r#"{"a":1}"#.into())]).unwrap(),
        Value::Resource("Small".into())
    );
    assert_eq!(json(&host)["Small"]["a"], 2);

    // `Small` gains a field: same names, same signature text, a different size. A handle
    // resolved against the old layout must not call the new code.
    plugin.edit(&[
        ("pub a: u32,\n}", "pub a: u32,\n    pub b: u64,\n}"),
        ("Small { a: v.a + 1 }", "Small { a: v.a + 1, b: v.b + 10 }"),
    ]);
    let report = reload(&mut host);
    assert_eq!(
        report.fns_changed,
        vec![(
            "f".to_owned(),
            "fn(v: Small) -> Small".to_owned(),
            "fn(v: Small) -> Small (new layout of `Small`)".to_owned()
        )]
    );
    let err = host
        .call(&f, &[Value::Json(r#"{"a":1,"b":2}"#.into())])
        .unwrap_err();
    assert_eq!(
        err,
        CallError {
            name: "f".into(),
            kind: CallErrorKind::SignatureChanged {
                old: "fn(v: Small) -> Small".into(),
                new: "fn(v: Small) -> Small".into(),
                relaid: vec!["Small".into()],
            },
        }
    );
    // The raw path answers the same, without reading the (old-layout) arguments.
    // SAFETY: a buried slot's shim is the tombstone, which reads neither pointer.
    let raw = unsafe { f.call_raw(core::ptr::null(), core::ptr::null_mut()) }.unwrap_err();
    assert_eq!(raw, err);
    assert!(
        err.to_string().contains("the layout of `Small` changed"),
        "{err}"
    );

    // A function whose by-value type kept its layout keeps its slot.
    assert_eq!(
        host.call(&g, &[Value::Json(r#"{"x":4}"#.into())]).unwrap(),
        int(8)
    );
    // Resolving again gives the new function.
    let f = host.resolve("f").unwrap();
    host.call(&f, &[Value::Json(r#"{"a":1,"b":2}"#.into())])
        .unwrap();
    assert_eq!(json(&host)["Small"]["a"], 2);
    assert_eq!(json(&host)["Small"]["b"], 12);
}

/// Version 1 of a plugin whose `Tree` reaches itself through `Link`, the recursive field first.
const TREE_V1: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug)]
pub struct Tree {
    pub children: Vec<Link>,
    pub value: u16,
    pub tag: u16,
}

#[derive(CooType, Debug)]
pub struct Link {
    pub weight: u16,
    pub target: Option<Box<Tree>>,
}

fn node(value: u16, children: Vec<Link>) -> Tree {
    Tree { children, value: value.into(), tag: value + 1 }
}

#[hot_fn]
pub fn init() -> Tree {
    node(10, vec![
        Link { weight: 1, target: Some(Box::new(node(20, vec![
            Link { weight: 2, target: Some(Box::new(node(30, Vec::new()))) },
        ]))) },
        Link { weight: 3, target: None },
    ])
}

/// Every `value` and `tag` in the tree, weighted by the links above them.
#[hot_fn]
pub fn total(tree: &Tree) -> u64 {
    fn walk(tree: &Tree, weight: u64) -> u64 {
        weight * (tree.value as u64 * 1000 + tree.tag as u64)
            + tree.children.iter().map(|l| match &l.target {
                Some(t) => walk(t, weight * l.weight as u64),
                None => 0,
            }).sum::<u64>()
    }
    walk(tree, 1)
}
"#;

/// A plugin whose resource holds a `#[repr(u8)]` enum with explicit discriminants; the
/// reload swaps them. Keeping the values in place would turn every `Run` (byte 1) into an
/// `Idle` (new byte 1); they must be rewritten variant by variant.
const MODE_V1: &str = r#"use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug, Clone, Copy, PartialEq)]
#[repr(u8)]
pub enum Mode {
    Idle = 0,
    Run = 1,
}

#[derive(CooType, Debug)]
pub struct Machine {
    pub mode: Mode,
    pub log: Vec<Mode>,
}

#[hot_fn]
pub fn init() -> Machine {
    Machine {
        mode: Mode::Run,
        log: vec![Mode::Idle, Mode::Run],
    }
}

#[hot_fn]
pub fn mode_byte(machine: &Machine) -> u8 {
    machine.mode as u8
}

#[hot_fn]
pub fn is_running(machine: &Machine) -> bool {
    machine.mode == Mode::Run
}
"#;

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_dependency_hot_fn_with_the_plugins_own_name_is_refused_at_load_naming_both() {
    let plugin = Plugin::copy("game-plugin", "e2e_dup_fn");
    let helper = plugin.path().join("helper");
    std::fs::create_dir_all(helper.join("src")).unwrap();
    let runtime = support::workspace().join("coo-runtime");
    std::fs::write(
        helper.join("Cargo.toml"),
        format!(
            "[package]\nname = \"e2e_dup_fn_helper\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\ncoo-runtime = {{ path = {:?} }}\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        helper.join("src/lib.rs"),
        "use coo_runtime::hot_fn;\n\n#[hot_fn]\npub fn tick() -> u32 {\n    1\n}\n",
    )
    .unwrap();
    let manifest = std::fs::read_to_string(plugin.path().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[dependencies]\n"));
    std::fs::write(
        plugin.path().join("Cargo.toml"),
        manifest.replace(
            "[dependencies]\n",
            "[dependencies]\ne2e_dup_fn_helper = { path = \"helper\" }\n",
        ),
    )
    .unwrap();
    plugin.write_source(
        "use coo_runtime::hot_fn;\n\n#[hot_fn]\npub fn tick() -> u32 {\n    e2e_dup_fn_helper::tick() + 1\n}\n",
    );
    let mut host = Host::with_builder(plugin.builder());
    let err = host.reload().unwrap_err();
    let ReloadError::Load(LoadError {
        kind:
            LoadErrorKind::DuplicateFn {
                name,
                first,
                second,
            },
        ..
    }) = &err
    else {
        panic!("expected LoadErrorKind::DuplicateFn, got {err}");
    };
    assert_eq!(name, "tick");
    assert_eq!(first, "e2e_dup_fn::tick");
    assert_eq!(second, "e2e_dup_fn_helper::tick");
    assert_eq!(host.version(), 0);
    assert!(host.fns().is_empty());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_type_changed_behind_a_cycle_is_migrated_inside_the_cycle_too() {
    let plugin = Plugin::copy("minimal-plugin", "e2e_cycle");
    plugin.write_source(TREE_V1);
    let mut host = plugin.host();
    // 10*1000+11 + 1*(20*1000+21) + 1*2*(30*1000+31)
    let before = 10_011 + 20_021 + 2 * 30_031;
    assert_eq!(host.call_by_name("total", &[]).unwrap(), int(before));
    // `value` widens into `tag`'s padding: `Tree` keeps its size, and `Link` (compared while
    // `Tree` was assumed unchanged) holds changed `Tree`s.
    plugin.edit(&[("pub value: u16,", "pub value: u32,")]);
    let report = reload(&mut host);
    assert_eq!(report.migration.migrated, vec!["Tree"]);
    assert_eq!(report.migration.ty("Tree").unwrap().values, 3);
    assert_eq!(report.migration.ty("Link").unwrap().values, 3);
    assert_eq!(
        json(&host)["Tree"],
        serde_json::json!({
            "children": [
                {"weight": 1, "target": {
                    "children": [
                        {"weight": 2, "target": {"children": [], "value": 30, "tag": 31}},
                    ],
                    "value": 20,
                    "tag": 21,
                }},
                {"weight": 3, "target": null},
            ],
            "value": 10,
            "tag": 11,
        })
    );
    // The new code reads the nested values with the new layout.
    assert_eq!(host.call_by_name("total", &[]).unwrap(), int(before));
}

/// Two resources, `Foo` and `Bar`.
const FOO_BAR_V1: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug)]
pub struct Foo {
    pub x: u32,
}

#[derive(CooType, Debug)]
pub struct Bar {
    pub x: u32,
}

#[hot_fn]
pub fn init() -> Foo {
    Foo { x: 1 }
}

#[hot_fn]
pub fn make_bar() -> Bar {
    Bar { x: 2 }
}

#[hot_fn]
pub fn bump(foo: &mut Foo, bar: &mut Bar) -> u32 {
    foo.x += 10;
    bar.x += 100;
    foo.x + bar.x
}
"#;

/// `Bar` continues `Foo` while both are live resources.
const FOO_ONTO_BAR: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug)]
#[coo(rename_from = "Foo")]
pub struct Bar {
    pub x: u32,
}

#[hot_fn]
pub fn bump(bar: &mut Bar) -> u32 {
    bar.x += 1000;
    bar.x
}
"#;

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn renaming_a_live_resource_onto_another_one_is_refused_and_both_live_on() {
    let plugin = Plugin::copy("minimal-plugin", "e2e_merge");
    plugin.write_source(FOO_BAR_V1);
    let mut host = plugin.host();
    host.call_by_name("make_bar", &[]).unwrap();
    assert_eq!(host.call_by_name("bump", &[]).unwrap(), int(11 + 102));
    let before = state_json(host.state());
    let foo_at = host.state().resource("Foo").unwrap().as_ptr();
    let bar_at = host.state().resource("Bar").unwrap().as_ptr();
    plugin.write_source(FOO_ONTO_BAR);
    let err = host.reload().unwrap_err();
    let ReloadError::Plan(plan) = &err else {
        panic!("expected a plan error, got {err}");
    };
    assert_eq!(plan.problems.len(), 1, "{err}");
    assert_eq!(
        plan.problems[0].kind,
        ProblemKind::ResourcesMerged {
            old_types: vec!["Bar".to_owned(), "Foo".to_owned()]
        }
    );
    assert_eq!(
        err.to_string(),
        "the new version cannot take over the live state (1 problem):\n  \
         - `Bar` would be the new type of 2 live resources, `Bar` and `Foo`, but the state holds one value per type: \
         remove all but one of these resources before reloading, \
         or drop `rename_from = \"Foo\"` from `Bar` and keep a type named `Foo` in the new version\n"
    );
    // Nothing changed: both values, where they were, and the old code runs on them.
    assert_eq!(host.version(), 1);
    assert_eq!(state_json(host.state()), before);
    assert_eq!(
        json(&host),
        serde_json::json!({"Bar": {"x": 102}, "Foo": {"x": 11}})
    );
    assert_eq!(host.state().resource("Foo").unwrap().as_ptr(), foo_at);
    assert_eq!(host.state().resource("Bar").unwrap().as_ptr(), bar_at);
    assert_eq!(host.call_by_name("bump", &[]).unwrap(), int(21 + 202));
    // Following the advice (keep `Foo`, no `rename_from`) reloads with both values.
    plugin.write_source(&FOO_BAR_V1.replace("bar.x += 100;", "bar.x += 5;"));
    let report = reload(&mut host);
    assert_eq!(report.migration.kept, vec!["Bar", "Foo"]);
    assert_eq!(host.call_by_name("bump", &[]).unwrap(), int(31 + 207));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn swapped_enum_discriminants_keep_the_live_variant() {
    let plugin = Plugin::copy("game-plugin", "e2e_enum_repr");
    plugin.write_source(MODE_V1);
    let mut host = plugin.host();
    assert_eq!(host.call_by_name("mode_byte", &[]).unwrap(), int(1));
    plugin.edit(&[("Idle = 0,\n    Run = 1,", "Idle = 1,\n    Run = 0,")]);
    let report = reload(&mut host);
    assert_eq!(report.migration.migrated, vec!["Machine"]);
    assert_eq!(report.migration.ty("Mode").unwrap().values, 3);
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mode = lines
        .iter()
        .position(|l| *l == "Mode")
        .expect("`Mode` is reported");
    assert_eq!(
        lines[mode..mode + 6],
        [
            "Mode",
            "~ variant Idle",
            "discriminant: 0 -> 1",
            "~ variant Run",
            "discriminant: 1 -> 0",
            "3 values migrated"
        ],
        "{text}"
    );
    let machine = &json(&host)["Machine"];
    assert_eq!(machine["mode"], "Run");
    assert_eq!(machine["log"], serde_json::json!(["Idle", "Run"]));
    // The new code sees a `Run`, with the new discriminant.
    assert_eq!(
        host.call_by_name("is_running", &[]).unwrap(),
        Value::Bool(true)
    );
    assert_eq!(host.call_by_name("mode_byte", &[]).unwrap(), int(0));
}
