//! Every kind of field at once, end to end: `hot-host run` on a copy of `everything-plugin`
//! (maps, sets, a deque, tuples, a generic, `repr(C)`, `repr(align)`, a `repr(u8)` enum with
//! explicit discriminants, `Box<dyn Trait>` objects and an opaque `Duration`, in one resource),
//! its source edited on disk so that every kind changes layout in one reload, the result read
//! through `state --json` and a call the new code runs; then one refused edit at a time, each
//! named in its message and leaving the old code and state running; then a snapshot saved under
//! the first layout loaded into the new one.
//!
//! Watching is off (`--no-watch`): `plan` shows what a saved edit would do before `reload`
//! applies it, and a refused edit stays on disk unapplied until the test puts the source back.

mod support;

use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use support::running::{Running, edit};

/// A line of output other than an autosave's (the dev loop saves the state before every
/// reload, on a thread of its own: its line comes whenever the file is written).
fn not_autosave(line: &str) -> Option<String> {
    (!line.starts_with("autosaved ")).then(|| line.to_owned())
}

/// `reload`, and the lines of its report (through its last line, `N libraries mapped (..)`).
fn reload(host: &mut Running, from: u64) -> Vec<String> {
    host.send("reload");
    let head = format!("version {from} -> {}", from + 1);
    host.wait_out("the reload", |l| l.starts_with(&head).then_some(()));
    let mut lines = Vec::new();
    loop {
        let line = host.wait_out("the report's lines", not_autosave);
        let last = line.ends_with(" MiB)");
        lines.push(line);
        if last {
            return lines;
        }
    }
}

/// `plan`, and its lines: what it prints before the answer to a `state --json` sent after it.
fn plan(host: &mut Running) -> Vec<String> {
    host.send("plan");
    host.send("state --json");
    let mut lines = Vec::new();
    loop {
        let line = host.wait_out("the plan's lines", not_autosave);
        if line.starts_with('{') {
            return lines;
        }
        lines.push(line);
    }
}

/// `reload` of a source the migration refuses: the error's line holding `needle`.
fn refused(host: &mut Running, version: u64, needle: &str) -> String {
    host.send("reload");
    assert_eq!(
        host.wait_err("reload failed"),
        format!("error: reload failed; version {version} keeps running with its state")
    );
    host.wait_err(needle)
}

/// The shapes' areas the code running now computes (`call tick`, then `state --json`).
fn tick(host: &mut Running) -> Value {
    host.send("call tick");
    host.state()
}

fn edits(dir: &Path, pairs: &[(&str, &str)]) {
    for (old, new) in pairs {
        edit(dir, old, new);
    }
}

/// The state's `Stock` without `bins`, whose entries come in a hash map's order, and `bins`
/// as a sorted list of its `[key, value]` pairs.
fn split_bins(state: &Value) -> (Value, Vec<String>) {
    let mut stock = state["Stock"].clone();
    let bins = stock
        .as_object_mut()
        .expect("an object")
        .remove("bins")
        .expect("bins");
    let mut pairs: Vec<String> = bins
        .as_array()
        .expect("struct keys: pairs")
        .iter()
        .map(Value::to_string)
        .collect();
    pairs.sort();
    (stock, pairs)
}

/// Edits of every kind's layout at once, and the method body of `Square`.
const EVERY_KIND: &[(&str, &str)] = &[
    // A map's value type gains a field with a default.
    (
        "pub qty: u32,\n    pub price: f32,\n}",
        "pub qty: u32,\n    pub price: f32,\n    #[coo(default = 1)]\n    pub shelf: u8,\n}",
    ),
    ("Item { qty, price }", "Item { qty, price, shelf: 1 }"),
    // A map's key and a set's element widen; a map's value widens.
    (
        "pub labels: BTreeMap<u16, String>,",
        "pub labels: BTreeMap<u32, String>,",
    ),
    (
        "pub bins: HashMap<Bin, u32>,",
        "pub bins: HashMap<Bin, u64>,",
    ),
    ("pub seen: BTreeSet<u16>,", "pub seen: BTreeSet<u32>,"),
    ("pub recent: VecDeque<u32>,", "pub recent: VecDeque<i64>,"),
    // Tuple elements widen.
    ("pub spot: (u16, f32),", "pub spot: (u32, f64),"),
    // A generic's argument widens, and the new code adds more than a `u32` holds.
    ("pub range: Pair<u32>,", "pub range: Pair<u64>,"),
    (
        "stock.range.hi += 1_000_000_000;",
        "stock.range.hi += 5_000_000_000;",
    ),
    // A `repr(u8)` enum gains a variant.
    ("    Run = 5,\n", "    Run = 5,\n    Fly = 9,\n"),
    // A `repr(C)` struct's field widens; a `repr(align(16))` struct gains a field.
    ("pub g: u16,", "pub g: u32,"),
    (
        "pub x: u32,\n}",
        "pub x: u32,\n    #[coo(default = 7)]\n    pub y: u8,\n}",
    ),
    ("Aligned { x: 16 }", "Aligned { x: 16, y: 7 }"),
    // A trait impl's type gains a field, and its method body changes.
    (
        "pub side: u32,\n}",
        "pub side: u32,\n    #[coo(default = 1)]\n    pub scale: u32,\n}",
    ),
    (
        "u64::from(self.side) * u64::from(self.side)\n",
        "u64::from(self.side) * u64::from(self.side) * u64::from(self.scale) + 100\n",
    ),
    ("Square { side: 3 }", "Square { side: 3, scale: 1 }"),
];

#[test]
fn every_kind_migrates_through_one_layout_change_and_each_refusal_changes_nothing() {
    let dir = support::copy_fixture("everything-plugin", "loop_everything");
    let mut host = Running::start(dir.path(), &["--every", "0", "--no-watch"]);
    let first = tick(&mut host);
    let (stock, bins) = split_bins(&first);
    assert_eq!(
        stock,
        json!({
            "items": {"bolt": {"qty": 40, "price": 0.25}, "nut": {"qty": 7, "price": 0.5}},
            "labels": {"2": "low", "300": "top"},
            "tags": ["new"],
            "seen": [4, 9],
            "recent": [0, 1, 2, 3],
            "spot": [65000, 1.5],
            "range": {"lo": 1, "hi": 1_000_000_002},
            "mode": "Run",
            "color": {"r": 1, "g": 2, "b": 3},
            "aligned": {"x": 16},
            "shapes": [{"Square": {"side": 3}}, {"Circle": {"r": 2}}],
            "cooldown": {"secs": 0, "nanos": 500_000_000},
            "areas": [9, 12],
        })
    );
    assert_eq!(
        bins,
        [
            r#"[{"shelf":1,"slot":1},10]"#,
            r#"[{"shelf":1,"slot":2},20]"#
        ]
    );
    // A map entry edited by key, as a user types it; then a snapshot of the first layout.
    host.send(r#"set 'Stock.items["nut"].qty' 300"#);
    host.state_until("the set", |s| s["Stock"]["items"]["nut"]["qty"] == 300);
    let snapshot = dir.path().join("before.json");
    host.send(&format!("save {}", snapshot.display()));
    let saved = format!("saved the state to {} (", snapshot.display());
    host.wait_out("the save", |l| l.starts_with(&saved).then_some(()));

    // Every kind changes layout at once; `plan` says what the reload will do, type by type,
    // and how many live objects of each impl it will re-box.
    edits(dir.path(), EVERY_KIND);
    // Each changed type's diff, and how many of its values the reload migrates.
    let diffs: [(&[&str], u64); 7] = [
        (
            &[
                "Stock",
                "  ~ labels: BTreeMap<u16, String> -> BTreeMap<u32, String>",
                "  ~ bins: HashMap<Bin, u32> -> HashMap<Bin, u64>",
                "  ~ seen: BTreeSet<u16> -> BTreeSet<u32>",
                "  ~ recent: VecDeque<u32> -> VecDeque<i64>",
                "  ~ spot: (u16, f32) -> (u32, f64)",
                "  ~ range: Pair<u32> -> Pair<u64>",
            ],
            1,
        ),
        (&["Item", "  + shelf: u8"], 2),
        (
            &[
                "Pair<u64> (renamed from Pair<u32>)",
                "  ~ lo: u32 -> u64",
                "  ~ hi: u32 -> u64",
            ],
            1,
        ),
        (&["Mode", "  + variant Fly"], 1),
        (&["Rgba", "  ~ g: u16 -> u32"], 1),
        (&["Aligned", "  + y: u8"], 1),
        (&["Square", "  + scale: u32"], 1),
    ];
    let mut expected_plan: Vec<&str> = diffs
        .iter()
        .flat_map(|(lines, _)| *lines)
        .copied()
        .collect();
    expected_plan.extend([
        "would rebind 2 `dyn Shape` objects to the new code",
        "  1 `Circle` object re-boxed as the new `Circle`",
        "  1 `Square` object re-boxed as the new `Square`",
        "~ fn init: fn() -> Stock -> fn() -> Stock (new layout of `Stock`)",
    ]);
    assert_eq!(plan(&mut host), expected_plan);
    assert_eq!(host.reloads(), 0, "plan applies nothing");
    assert_eq!(host.state(), {
        let mut set = first.clone();
        set["Stock"]["items"]["nut"]["qty"] = json!(300);
        set
    });

    // The reload: every value carried over, each type's values counted, the objects re-boxed.
    let report = reload(&mut host, 1);
    let mut expected_report = vec![
        "  ~ fn init: fn() -> Stock -> fn() -> Stock (new layout of `Stock`)".to_owned(),
        "  1 function swapped".to_owned(),
    ];
    for (lines, values) in diffs {
        expected_report.extend(lines.iter().map(|l| format!("  {l}")));
        let plural = if values == 1 { "" } else { "s" };
        expected_report.push(format!("    {values} value{plural} migrated"));
    }
    expected_report.extend(
        [
            "  rebound 2 `dyn Shape` objects to the new code",
            "    1 `Circle` object re-boxed as the new `Circle`",
            "    1 `Square` object re-boxed as the new `Square`",
        ]
        .map(str::to_owned),
    );
    let (mapped, listed) = report.split_last().unwrap();
    assert!(mapped.starts_with("  1 library mapped ("), "{report:#?}");
    assert_eq!(listed, expected_report);

    // The new code runs on the carried-over values: `Square`'s new body with its new field's
    // default, `Circle`'s unchanged one, a `Pair<u64>` past `u32::MAX`.
    let second = tick(&mut host);
    let (stock, bins) = split_bins(&second);
    let v2 = json!({
        "items": {
            "bolt": {"qty": 40, "price": 0.25, "shelf": 1},
            "nut": {"qty": 300, "price": 0.5, "shelf": 1},
        },
        "labels": {"2": "low", "300": "top"},
        "tags": ["new"],
        "seen": [4, 9],
        "recent": [0, 1, 2, 3],
        "spot": [65000, 1.5],
        "range": {"lo": 1, "hi": 6_000_000_002u64},
        "mode": "Run",
        "color": {"r": 1, "g": 2, "b": 3},
        "aligned": {"x": 16, "y": 7},
        "shapes": [{"Square": {"side": 3, "scale": 1}}, {"Circle": {"r": 2}}],
        "cooldown": {"secs": 0, "nanos": 750_000_000},
        "areas": [109, 12],
    });
    assert_eq!(stock, v2);
    assert_eq!(
        bins,
        [
            r#"[{"shelf":1,"slot":1},10]"#,
            r#"[{"shelf":1,"slot":2},20]"#
        ]
    );

    // Paths into a map and into an object: shown and set.
    host.send(r#"state 'Stock.items["bolt"].qty'"#);
    host.wait_out("the entry's field", |l| (l == "40").then_some(()));
    host.send(r#"set 'Stock.items["bolt"].qty' 41"#);
    host.send("set Stock.shapes[0].side 4");
    host.send("state Stock.shapes[0]");
    host.wait_out("the object", |l| (l == "Square {").then_some(()));
    let mut expected = tick(&mut host);
    assert_eq!(expected["Stock"]["items"]["bolt"]["qty"], 41);
    assert_eq!(expected["Stock"]["areas"], json!([116, 12]));
    assert_eq!(expected["Stock"]["range"]["hi"], 11_000_000_002u64);

    // One refused edit at a time: each names what it refuses, changes nothing, and leaves
    // version 2's code running (the next tick adds 5_000_000_000, `Square`'s area is its new
    // body's); then the source is put back.
    type Check = Box<dyn Fn(&str)>;
    /// An edit of the source: the `(old, new)` texts to replace.
    type Edit<'a> = &'a [(&'a str, &'a str)];
    let exactly = |expected: &'static str| -> Check {
        Box::new(move |line: &str| assert_eq!(line, expected))
    };
    let refusals: Vec<(Edit, &str, Check)> = vec![
        // A checked narrowing that a map value does not survive.
        (
            &[
                ("pub qty: u32,", "pub qty: u8,"),
                ("fn item(qty: u32,", "fn item(qty: u8,"),
            ],
            "holds 300",
            exactly(
                "the live state could not be migrated, nothing was changed: \
                 `Stock.items[\"nut\"].qty` holds 300, which is not exactly representable as \
                 `u8` (was `u32`); change the value so it fits, or keep the field as `u32`",
            ),
        ),
        // A key type that loses a field: two keys would become one; both are named.
        (
            &[
                (
                    "pub struct Bin {\n    pub shelf: u8,\n    pub slot: u8,\n",
                    "pub struct Bin {\n    pub shelf: u8,\n",
                ),
                (
                    "(Bin { shelf: 1, slot: 1 }, 10),",
                    "(Bin { shelf: 1 }, 10),",
                ),
                (
                    "(Bin { shelf: 1, slot: 2 }, 20),",
                    "(Bin { shelf: 2 }, 20),",
                ),
            ],
            "would become the same key",
            Box::new(|line: &str| {
                let named = |a: &str, b: &str| {
                    line.contains(&format!("the keys {a} and {b} of `Stock.bins`"))
                };
                let (one, two) = ("Bin { shelf: 1, slot: 1 }", "Bin { shelf: 1, slot: 2 }");
                assert!(named(one, two) || named(two, one), "{line}");
            }),
        ),
        // The impl of a live object's type removed.
        (
            &[
                ("#[coo_impl]\nimpl Shape for Circle {", "impl Circle {"),
                (
                    "Box::new(Square { side: 3, scale: 1 }), Box::new(Circle { r: 2 })]",
                    "Box::new(Square { side: 3, scale: 1 })]",
                ),
            ],
            "removed",
            exactly(
                "the live state could not be migrated, nothing was changed: `Stock.shapes[1]` is \
                 a `dyn Shape` object of type `Circle`, whose `#[coo_impl] impl Shape for Circle` \
                 the new version removed; keep the type and its impl, or convert the object to \
                 another type first (`convert Stock.shapes[1] <Type>`)",
            ),
        ),
        // An opaque field's type changed.
        (
            &[
                ("pub cooldown: Duration,", "pub cooldown: u64,"),
                ("cooldown: Duration::from_millis(250),", "cooldown: 250,"),
                (
                    "stock.cooldown += Duration::from_millis(250);",
                    "stock.cooldown += 250;",
                ),
            ],
            "cooldown",
            exactly(
                "  - `Stock.cooldown` is an opaque foreign type whose name, size or alignment \
                 changed (old: `core::time::Duration (16 bytes, align 8)`, new: `u64 (8 bytes, \
                 align 8)`): Coo moves an opaque value only while its type name, size and \
                 alignment stay the same; add `#[coo(migrate = your_fn)]` to `Stock` and set the \
                 field there from the old value (the field starts as its type's `Default`)",
            ),
        ),
    ];
    let lib = dir.path().join("src/lib.rs");
    let source = fs::read_to_string(&lib).unwrap();
    for (edit_pairs, needle, check) in refusals {
        edits(dir.path(), edit_pairs);
        if needle == "removed" {
            // `plan` says so beforehand, instead of that the objects would be rebound.
            let plan = plan(&mut host);
            assert!(
                plan.contains(
                    &"would refuse the reload: 1 live `dyn Shape` object of type `Circle`, whose \
                      `#[coo_impl] impl Shape for Circle` the new version removed; keep the impl, \
                      or convert the object to another type first"
                        .to_owned()
                ),
                "{plan:#?}"
            );
            assert!(
                !plan.iter().any(|l| l.contains("would rebind")),
                "{plan:#?}"
            );
        }
        check(&refused(&mut host, 2, needle));
        assert_eq!(host.state(), expected, "nothing changed");
        let after = tick(&mut host);
        assert_eq!(after["Stock"]["areas"], json!([116, 12]), "version 2 runs");
        assert_eq!(
            after["Stock"]["range"]["hi"].as_u64().unwrap(),
            expected["Stock"]["range"]["hi"].as_u64().unwrap() + 5_000_000_000
        );
        expected = after;
        fs::write(&lib, &source).unwrap();
    }
    assert_eq!(host.reloads(), 1, "the refused reloads loaded nothing");

    // The snapshot saved under the first layout migrates as it loads.
    host.send(&format!("load {}", snapshot.display()));
    host.wait_out("the load", |l| {
        l.starts_with("loaded 1 resource").then_some(())
    });
    let (stock, bins) = split_bins(&host.state());
    let mut migrated = v2.clone();
    migrated["range"]["hi"] = json!(1_000_000_002);
    migrated["cooldown"]["nanos"] = json!(500_000_000);
    migrated["areas"] = json!([9, 12]);
    assert_eq!(stock, migrated);
    assert_eq!(
        bins,
        [
            r#"[{"shelf":1,"slot":1},10]"#,
            r#"[{"shelf":1,"slot":2},20]"#
        ]
    );
    // And version 2's code runs on it.
    let (stock, _) = split_bins(&tick(&mut host));
    assert_eq!(stock, v2);
    host.quit();
}
