//! The README's reload table, row by row, through real plugins: each test builds a plugin,
//! gives it live state, edits its source on disk and reloads, then checks the exact live values,
//! or the exact refusal and that nothing changed.

mod support;

use coo_runtime::migration::casts::InexactCast;
use coo_runtime::{ExecuteError, ExecuteErrorKind, ProblemKind};
use hot_host::state_io::show::state_json;
use hot_host::{Host, ReloadError, Value};
use support::Plugin;

const HEAD: &str = "use coo_runtime::{CooType, ValueView, hot_fn};\n";

/// A plugin named `name` (unique per test) running `source`, with its `init` called.
fn start(name: &str, source: &str) -> (Plugin, Host) {
    let plugin = Plugin::copy("minimal-plugin", name);
    plugin.write_source(&format!("{HEAD}{source}"));
    let host = plugin.host();
    (plugin, host)
}

fn json(host: &Host) -> serde_json::Value {
    serde_json::from_str(&state_json(host.state())).expect("state --json is JSON")
}

/// Writes `source` and reloads; the reload must succeed.
fn reload_to(plugin: &Plugin, host: &mut Host, source: &str) -> hot_host::ReloadReport {
    plugin.write_source(&format!("{HEAD}{source}"));
    host.reload()
        .unwrap_or_else(|e| panic!("reload failed: {e}"))
}

/// Writes `source` and reloads; the reload must fail and change nothing: same version, same
/// state to the byte, the resources where they were.
fn refused(plugin: &Plugin, host: &mut Host, source: &str) -> ReloadError {
    let before = state_json(host.state());
    let at: Vec<*const u8> = host.state().resources().map(|r| r.as_ptr()).collect();
    let version = host.version();
    plugin.write_source(&format!("{HEAD}{source}"));
    let err = host
        .reload()
        .expect_err("the reload must be refused, it succeeded");
    assert_eq!(host.version(), version, "the old version keeps running");
    assert_eq!(state_json(host.state()), before, "the state is unchanged");
    let after: Vec<*const u8> = host.state().resources().map(|r| r.as_ptr()).collect();
    assert_eq!(at, after, "the resources were not moved");
    err
}

/// The one planning problem of a refused reload.
fn problem(err: &ReloadError) -> &coo_runtime::Problem {
    match err {
        ReloadError::Plan(e) if e.problems.len() == 1 => &e.problems[0],
        other => panic!("expected exactly one planning problem, got {other}"),
    }
}

macro_rules! e2e {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        #[test]
        #[cfg_attr(
            miri,
            ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
        )]
        $(#[$m])*
        fn $name() $body
    };
}

e2e! {
fn a_new_field_is_filled_from_its_types_default_impl_never_zeroed() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Player { pub hp: u32 }
#[hot_fn]
pub fn init() -> Player { Player { hp: 7 } }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Stats { pub speed: u32, pub name: String }
impl Default for Stats {
    fn default() -> Stats { Stats { speed: 12, name: "walker".into() } }
}
#[derive(CooType, Debug)]
pub struct Player { pub hp: u32, pub stats: Stats, pub tags: Vec<u8> }
#[hot_fn]
pub fn init() -> Player { Player { hp: 7, stats: Stats::default(), tags: vec![] } }
"#;
    let (plugin, mut host) = start("table_default", v1);
    let report = reload_to(&plugin, &mut host, v2);
    assert_eq!(
        json(&host)["Player"],
        serde_json::json!({"hp": 7, "stats": {"speed": 12, "name": "walker"}, "tags": []})
    );
    let text = report.to_string();
    assert!(text.contains("+ stats: Stats"), "{text}");
    assert!(text.contains("+ tags: Vec<u8>"), "{text}");
}
}

e2e! {
fn a_new_field_without_any_default_is_refused_naming_it() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Player { pub hp: u32 }
#[hot_fn]
pub fn init() -> Player { Player { hp: 7 } }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Weapon { pub damage: u32 }
#[derive(CooType, Debug)]
pub struct Player { pub hp: u32, pub weapon: Weapon }
#[hot_fn]
pub fn init() -> Player { Player { hp: 7, weapon: Weapon { damage: 1 } } }
"#;
    let (plugin, mut host) = start("table_no_default", v1);
    let err = refused(&plugin, &mut host, v2);
    let p = problem(&err);
    assert_eq!(p.kind, ProblemKind::NoDefault);
    assert_eq!((p.ty.as_str(), p.field.as_deref()), ("Player", Some("weapon")));
    assert_eq!(p.new_ty.as_deref(), Some("Weapon"));
    assert!(p.fix.contains("#[coo(default"), "the fix says what to write: {}", p.fix);
}
}

e2e! {
fn a_rename_is_never_guessed_without_rename_from() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Player { pub hp: u32 }
#[hot_fn]
pub fn init() -> Player { Player { hp: 7 } }
"#;
    // Same type, same position, an obvious rename to a human: still a new field and a removed one.
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Player { #[coo(default = 1)] pub health: u32 }
#[hot_fn]
pub fn init() -> Player { Player { health: 1 } }
"#;
    let (plugin, mut host) = start("table_no_guess", v1);
    let report = reload_to(&plugin, &mut host, v2);
    assert_eq!(json(&host)["Player"], serde_json::json!({"health": 1}));
    let text = report.to_string();
    assert!(text.contains("+ health: u32"), "{text}");
    assert!(text.contains("- hp: u32 (values dropped)"), "{text}");
}
}

e2e! {
fn arrays_grow_with_defaults_shrink_over_defaults_and_refuse_to_drop_values() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Grid { pub grow: [u8; 2], pub shrink: [u16; 4] }
#[hot_fn]
pub fn init() -> Grid { Grid { grow: [1, 2], shrink: [5, 6, 0, 0] } }
#[hot_fn]
pub fn fill(grid: &mut Grid) { grid.shrink[3] = 9; }
#[hot_fn]
pub fn clear(grid: &mut Grid) { grid.shrink[3] = 0; }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Grid { pub grow: [u8; 4], pub shrink: [u16; 3] }
#[hot_fn]
pub fn init() -> Grid { Grid { grow: [1, 2, 0, 0], shrink: [5, 6, 0] } }
"#;
    let (plugin, mut host) = start("table_arrays", v1);
    host.call_by_name("fill", &[]).unwrap();
    let err = refused(&plugin, &mut host, v2);
    match &err {
        ReloadError::Migrate(ExecuteError { path, kind: ExecuteErrorKind::ArrayShrink { old_len, new_len, index } }) => {
            assert_eq!(path.to_string(), "Grid.shrink");
            assert_eq!((*old_len, *new_len, *index), (4, 3, 3));
        }
        other => panic!("expected a refused array shrink, got {other}"),
    }
    // The old code still runs: clear the element that would be lost, and the same edit goes through.
    host.call_by_name("clear", &[]).unwrap();
    reload_to(&plugin, &mut host, v2);
    assert_eq!(
        json(&host)["Grid"],
        serde_json::json!({"grow": [1, 2, 0, 0], "shrink": [5, 6, 0]})
    );
}
}

e2e! {
fn option_and_box_around_a_changed_type_migrate_what_they_hold() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Inner { pub n: i32 }
#[derive(CooType, Debug)]
pub struct Outer { pub some: Option<Box<Inner>>, pub none: Option<Inner>, pub boxed: Box<Inner> }
#[hot_fn]
pub fn init() -> Outer {
    Outer { some: Some(Box::new(Inner { n: -3 })), none: None, boxed: Box::new(Inner { n: 4 }) }
}
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Inner { pub n: i64, #[coo(default = 2.5)] pub scale: f32 }
#[derive(CooType, Debug)]
pub struct Outer { pub some: Option<Box<Inner>>, pub none: Option<Inner>, pub boxed: Box<Inner> }
#[hot_fn]
pub fn init() -> Outer {
    Outer { some: None, none: None, boxed: Box::new(Inner { n: 0, scale: 2.5 }) }
}
#[hot_fn]
pub fn total(o: &Outer) -> f64 {
    o.some.as_ref().map_or(0.0, |i| i.n as f64 * i.scale as f64) + o.boxed.n as f64 * o.boxed.scale as f64
}
"#;
    let (plugin, mut host) = start("table_option_box", v1);
    let report = reload_to(&plugin, &mut host, v2);
    assert_eq!(
        json(&host)["Outer"],
        serde_json::json!({
            "some": {"n": -3, "scale": 2.5},
            "none": null,
            "boxed": {"n": 4, "scale": 2.5}
        })
    );
    assert_eq!(report.migration.ty("Inner").unwrap().values, 2);
    // The new code reads the migrated values with the new layout.
    assert_eq!(host.call_by_name("total", &[]).unwrap(), Value::Float(2.5));
}
}

e2e! {
fn a_removed_variant_in_use_is_refused_and_a_hook_can_map_it() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub enum Mode { Idle, Walk { speed: u32 }, Fly }
#[derive(CooType, Debug)]
pub struct Unit { pub a: Mode, pub b: Mode }
#[hot_fn]
pub fn init() -> Unit { Unit { a: Mode::Walk { speed: 3 }, b: Mode::Fly } }
"#;
    let without_fly = r#"
#[derive(CooType, Debug, Default)]
pub enum Mode { #[default] Idle, Walk { speed: u32 } }
#[derive(CooType, Debug)]
pub struct Unit { pub a: Mode, pub b: Mode }
#[hot_fn]
pub fn init() -> Unit { Unit { a: Mode::Idle, b: Mode::Idle } }
"#;
    let (plugin, mut host) = start("table_variant", v1);
    let err = refused(&plugin, &mut host, without_fly);
    match &err {
        ReloadError::Migrate(ExecuteError { path, kind: ExecuteErrorKind::VariantRemoved { variant, .. } }) => {
            assert_eq!((path.to_string().as_str(), variant.as_str()), ("Unit.b", "Fly"));
        }
        other => panic!("expected a removed variant in use, got {other}"),
    }
    // A hook on the enum says what a `Fly` becomes.
    let hooked = r#"
#[derive(CooType, Debug, Default)]
#[coo(migrate = land)]
pub enum Mode { #[default] Idle, Walk { speed: u32 } }
fn land(old: &ValueView<'_>, new: &mut Mode) -> Result<(), String> {
    *new = match old.variant() {
        Some("Idle") => Mode::Idle,
        Some("Walk") => Mode::Walk { speed: old.get::<u32>("speed").map_err(|e| e.to_string())? },
        Some("Fly") => Mode::Walk { speed: 99 },
        other => return Err(format!("unknown variant {other:?}")),
    };
    Ok(())
}
#[derive(CooType, Debug)]
pub struct Unit { pub a: Mode, pub b: Mode }
#[hot_fn]
pub fn init() -> Unit { Unit { a: Mode::Idle, b: Mode::Idle } }
"#;
    reload_to(&plugin, &mut host, hooked);
    assert_eq!(
        json(&host)["Unit"],
        serde_json::json!({"a": {"Walk": {"speed": 3}}, "b": {"Walk": {"speed": 99}}})
    );
}
}

e2e! {
fn a_renamed_type_keeps_its_values_and_a_removed_live_type_is_refused() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Hero { pub xp: u64 }
#[hot_fn]
pub fn init() -> Hero { Hero { xp: 41 } }
#[hot_fn]
pub fn gain(h: &mut Hero) { h.xp += 1; }
"#;
    let renamed = r#"
#[derive(CooType, Debug)]
#[coo(rename_from = "Hero")]
pub struct Champion { pub xp: u64 }
#[hot_fn]
pub fn init() -> Champion { Champion { xp: 0 } }
#[hot_fn]
pub fn gain(h: &mut Champion) { h.xp += 1; }
"#;
    let (plugin, mut host) = start("table_type_rename", v1);
    host.call_by_name("gain", &[]).unwrap();
    reload_to(&plugin, &mut host, renamed);
    assert_eq!(json(&host), serde_json::json!({"Champion": {"xp": 42}}));
    host.call_by_name("gain", &[]).unwrap();
    assert_eq!(json(&host)["Champion"]["xp"], 43);

    let removed = r#"
#[derive(CooType, Debug)]
pub struct Other { pub x: u8 }
"#;
    let err = refused(&plugin, &mut host, removed);
    let p = problem(&err);
    assert_eq!(p.kind, ProblemKind::TypeRemoved { live_values: 1 });
    assert_eq!(p.ty, "Champion");
}
}

e2e! {
fn a_struct_that_became_an_enum_is_refused() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Shape { pub w: u32 }
#[derive(CooType, Debug)]
pub struct Scene { pub shape: Shape }
#[hot_fn]
pub fn init() -> Scene { Scene { shape: Shape { w: 2 } } }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub enum Shape { Square { w: u32 }, Dot }
#[derive(CooType, Debug)]
pub struct Scene { pub shape: Shape }
#[hot_fn]
pub fn init() -> Scene { Scene { shape: Shape::Dot } }
"#;
    let (plugin, mut host) = start("table_kind", v1);
    let err = refused(&plugin, &mut host, v2);
    let p = problem(&err);
    assert_eq!(p.kind, ProblemKind::KindChanged);
    assert_eq!(p.ty, "Shape");
    assert!(p.fix.contains("#[coo(migrate"), "the fix says what to write: {}", p.fix);
}
}

e2e! {
fn pool_handles_stay_valid_and_stale_ones_stay_stale_across_a_reload() {
    let v1 = r#"
use coo_runtime::{Handle, Pool};
#[derive(CooType, Debug)]
pub struct Enemy { pub hp: i32 }
#[derive(CooType, Debug)]
pub struct World { pub enemies: Pool<Enemy>, pub boss: Handle<Enemy>, pub gone: Handle<Enemy> }
#[hot_fn]
pub fn init() -> World {
    let mut enemies = Pool::default();
    let gone = enemies.insert(Enemy { hp: 1 });
    let boss = enemies.insert(Enemy { hp: 50 });
    enemies.remove(gone).unwrap();
    World { enemies, boss, gone }
}
"#;
    let v2 = r#"
use coo_runtime::{Handle, Pool};
#[derive(CooType, Debug)]
pub struct Enemy { pub hp: i64, #[coo(default = 3)] pub armor: u8 }
#[derive(CooType, Debug)]
pub struct World { pub enemies: Pool<Enemy>, pub boss: Handle<Enemy>, pub gone: Handle<Enemy> }
#[hot_fn]
pub fn init() -> World { unreachable!("not called after a reload") }
#[hot_fn]
pub fn boss_hp(w: &World) -> i64 { w.enemies.get(w.boss).map_or(-1, |e| e.hp * 10 + e.armor as i64) }
#[hot_fn]
pub fn gone_is_stale(w: &World) -> bool {
    matches!(w.enemies.get(w.gone), Err(coo_runtime::StaleHandle { .. }))
}
#[hot_fn]
pub fn spawn_is_not_gone(w: &mut World) -> bool {
    let h = w.enemies.insert(Enemy { hp: 5, armor: 0 });
    h != w.gone && w.enemies.get(w.gone).is_err()
}
"#;
    let (plugin, mut host) = start("table_pool", v1);
    reload_to(&plugin, &mut host, v2);
    assert_eq!(host.call_by_name("boss_hp", &[]).unwrap(), Value::Int(503));
    assert_eq!(host.call_by_name("gone_is_stale", &[]).unwrap(), Value::Bool(true));
    // The freed slot is reused by the next insert, with a new generation: the stale handle
    // still reaches nothing.
    assert_eq!(host.call_by_name("spawn_is_not_gone", &[]).unwrap(), Value::Bool(true));
}
}

e2e! {
fn narrowing_by_sign_and_f64_to_f32_are_checked_per_value() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct M { pub signed: i32, pub wide: f64 }
#[hot_fn]
pub fn init() -> M { M { signed: -1, wide: 0.1 } }
#[hot_fn]
pub fn fix(m: &mut M) { m.signed = 7; m.wide = 0.5; }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct M { pub signed: u32, pub wide: f32 }
#[hot_fn]
pub fn init() -> M { M { signed: 0, wide: 0.0 } }
"#;
    let (plugin, mut host) = start("table_narrow_sign", v1);
    let err = refused(&plugin, &mut host, v2);
    match &err {
        ReloadError::Migrate(ExecuteError { path, kind: ExecuteErrorKind::CheckedCast(InexactCast { value, .. }) }) => {
            assert_eq!(path.to_string(), "M.signed", "the first field that does not fit");
            assert_eq!(value, "-1");
        }
        other => panic!("expected a refused checked cast, got {other}"),
    }
    host.call_by_name("fix", &[]).unwrap();
    reload_to(&plugin, &mut host, v2);
    assert_eq!(json(&host)["M"], serde_json::json!({"signed": 7, "wide": 0.5}));
}
}

e2e! {
fn an_f64_that_f32_cannot_hold_exactly_is_refused() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct M { pub wide: f64 }
#[hot_fn]
pub fn init() -> M { M { wide: 0.1 } }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct M { pub wide: f32 }
#[hot_fn]
pub fn init() -> M { M { wide: 0.0 } }
"#;
    let (plugin, mut host) = start("table_narrow_float", v1);
    let err = refused(&plugin, &mut host, v2);
    match &err {
        ReloadError::Migrate(ExecuteError { path, kind: ExecuteErrorKind::CheckedCast(InexactCast { value, .. }) }) => {
            assert_eq!(path.to_string(), "M.wide");
            assert_eq!(value, "0.1");
        }
        other => panic!("expected a refused checked cast, got {other}"),
    }
}
}

e2e! {
fn the_refusal_names_the_first_of_several_values_that_do_not_fit() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Log { pub values: Vec<i64> }
#[hot_fn]
pub fn init() -> Log { Log { values: vec![1, 2, 1 << 40, 3, -(1 << 41)] } }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Log { pub values: Vec<i32> }
#[hot_fn]
pub fn init() -> Log { Log { values: vec![] } }
"#;
    let (plugin, mut host) = start("table_first_misfit", v1);
    let err = refused(&plugin, &mut host, v2);
    match &err {
        ReloadError::Migrate(ExecuteError { path, kind: ExecuteErrorKind::CheckedCast(InexactCast { .. }) }) => {
            assert_eq!(path.to_string(), "Log.values[2]")
        }
        other => panic!("expected a refused checked cast, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains("1099511627776"), "the message names the value: {text}");
}
}

e2e! {
fn a_panic_in_a_migration_hook_refuses_the_reload_and_changes_nothing() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Clock { pub seconds: u32 }
#[hot_fn]
pub fn init() -> Clock { Clock { seconds: 61 } }
"#;
    let v2 = r#"
#[derive(CooType, Debug, Default)]
#[coo(migrate = split)]
pub struct Clock { pub minutes: u32, pub seconds: u32 }
fn split(old: &ValueView<'_>, new: &mut Clock) -> Result<(), String> {
    let s = old.get::<u32>("seconds").map_err(|e| e.to_string())?;
    if s > 60 {
        panic!("cannot split {s} seconds");
    }
    new.seconds = s;
    Ok(())
}
#[hot_fn]
pub fn init() -> Clock { Clock::default() }
"#;
    let (plugin, mut host) = start("table_hook_panic", v1);
    let err = refused(&plugin, &mut host, v2);
    match &err {
        ReloadError::Migrate(ExecuteError { path, kind: ExecuteErrorKind::Hook { ty, message } }) => {
            assert_eq!((ty.as_str(), path.to_string().as_str()), ("Clock", "Clock"));
            assert!(message.contains("cannot split 61 seconds"), "{message}");
        }
        other => panic!("expected the hook's panic as its error, got {other}"),
    }
}
}

e2e! {
fn a_retype_with_no_conversion_is_refused_saying_to_write_a_hook() {
    let v1 = r#"
#[derive(CooType, Debug)]
pub struct Label { pub text: String }
#[hot_fn]
pub fn init() -> Label { Label { text: "42".into() } }
"#;
    let v2 = r#"
#[derive(CooType, Debug)]
pub struct Label { pub text: u32 }
#[hot_fn]
pub fn init() -> Label { Label { text: 0 } }
"#;
    let (plugin, mut host) = start("table_retype", v1);
    let err = refused(&plugin, &mut host, v2);
    let p = problem(&err);
    assert_eq!(p.kind, ProblemKind::Incompatible);
    assert_eq!((p.ty.as_str(), p.field.as_deref()), ("Label", Some("text")));
    assert_eq!((p.old_ty.as_deref(), p.new_ty.as_deref()), (Some("String"), Some("u32")));
    assert!(p.fix.contains("#[coo(migrate = "), "the fix says what to write: {}", p.fix);
}
}
