//! End to end: a plugin with a generic type (`Pair<u32>` fields) and foreign types in
//! `#[coo(opaque)]` fields (`std::time::Duration`, a `Vec3` of another crate), edited on disk
//! and reloaded: the generic fields widen, the opaque values are kept bitwise, and a foreign
//! type whose size changed is refused with the state unchanged.

mod support;

use coo_runtime::ProblemKind;
use hot_host::state_io::show::state_json;
use hot_host::{Host, ReloadError};
use support::Plugin;

fn json(host: &Host) -> serde_json::Value {
    serde_json::from_str(&state_json(host.state())).expect("state --json is JSON")
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_generic_pair_widens_and_opaque_values_are_kept_until_their_size_changes() {
    let plugin = Plugin::copy("generics-plugin", "e2e_generics").with_own_copy_of("foreign-math");
    let mut host = plugin.host();
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(
        json(&host),
        serde_json::json!({"Arena": {
            "range": {"lo": 1, "hi": 1_000_000_002},
            "spans": [{"lo": 10, "hi": 20}],
            "cooldown": "500ms",
            "pos": "Vec3 { x: 2.0, y: 2.0, z: 3.0 }",
        }})
    );

    // `Pair<u32>` -> `Pair<u64>`: each instantiation widens field by field.
    plugin.edit(&[
        ("pub range: Pair<u32>,", "pub range: Pair<u64>,"),
        ("pub spans: Vec<Pair<u32>>,", "pub spans: Vec<Pair<u64>>,"),
        (
            "arena.range.hi += 1_000_000_000;",
            "arena.range.hi += 5_000_000_000;",
        ),
    ]);
    let report = host
        .reload()
        .unwrap_or_else(|e| panic!("reload failed: {e}"));
    let text = report.to_string();
    assert!(text.contains("~ range: Pair<u32> -> Pair<u64>"), "{text}");
    assert!(
        text.contains("~ spans: Vec<Pair<u32>> -> Vec<Pair<u64>>"),
        "{text}"
    );
    host.call_by_name("step", &[]).unwrap();
    let after = json(&host);
    assert_eq!(
        after,
        serde_json::json!({"Arena": {
            "range": {"lo": 1, "hi": 6_000_000_002u64},
            "spans": [{"lo": 10, "hi": 20}],
            "cooldown": "750ms",
            "pos": "Vec3 { x: 3.0, y: 2.0, z: 3.0 }",
        }})
    );

    // The foreign crate's `Vec3` grows (`f32` -> `f64`): same name, other size: refused.
    plugin.edit_shared(
        "foreign-math",
        &[
            (
                "pub x: f32,\n    pub y: f32,\n    pub z: f32,",
                "pub x: f64,\n    pub y: f64,\n    pub z: f64,",
            ),
            (
                "pub fn new(x: f32, y: f32, z: f32)",
                "pub fn new(x: f64, y: f64, z: f64)",
            ),
        ],
    );
    let before = state_json(host.state());
    let err = host.reload().unwrap_err();
    let ReloadError::Plan(plan) = &err else {
        panic!("expected a plan error, got {err}");
    };
    assert_eq!(plan.problems.len(), 1, "{err}");
    let problem = &plan.problems[0];
    assert_eq!(problem.kind, ProblemKind::OpaqueChanged);
    assert_eq!(problem.ty, "Arena");
    assert_eq!(problem.field.as_deref(), Some("pos"));
    assert_eq!(
        problem.old_ty.as_deref(),
        Some("foreign_math::Vec3 (12 bytes, align 4)")
    );
    assert_eq!(
        problem.new_ty.as_deref(),
        Some("foreign_math::Vec3 (24 bytes, align 8)")
    );
    assert_eq!(host.version(), 2, "version 2 keeps running");
    assert_eq!(state_json(host.state()), before);
    host.call_by_name("step", &[]).unwrap();
    assert_eq!(
        json(&host)["Arena"]["pos"],
        "Vec3 { x: 4.0, y: 2.0, z: 3.0 }"
    );
}
