//! End to end: host objects (`#[host]` parameters) through the `host-objects-plugin` fixture,
//! whose types come from `host-objects-shared`, a crate this test binary (the host) depends on
//! too: passed by typed handles as the references they are, checked at resolve and at reload.

mod support;

use coo_runtime::plugin::HostType;
use host_objects_shared::{Canvas, Shape};
use hot_host::{CallError, CallErrorKind, Host, ReloadError};
use support::Plugin;

struct Square(u64);

impl Shape for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }

    fn name(&self) -> String {
        "square".to_owned()
    }
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
fn host_objects_are_passed_through_typed_handles_and_follow_reloads() {
    let plugin = Plugin::copy("host-objects-plugin", "host_objects_pass");
    let mut host = plugin.host();

    // A `std` type, mutated by the plugin; the resource `Log` is bound by the call.
    let note = host
        .resolve_typed::<fn(&mut Vec<String>, u32)>("note")
        .unwrap();
    let mut lines = vec!["host".to_owned()];
    note.call(&mut host, (&mut lines, 7)).unwrap();
    note.call(&mut host, (&mut lines, 8)).unwrap();
    assert_eq!(lines, ["host", "note 7 (#1)", "note 8 (#2)"]);

    // A struct of the shared crate.
    let draw = host.resolve_typed::<fn(&mut Canvas, char)>("draw").unwrap();
    let mut canvas = Canvas::new(3, 3);
    draw.call(&mut host, (&mut canvas, '#')).unwrap();
    assert_eq!(
        [canvas.row(0), canvas.row(1), canvas.row(2)],
        ["#..", ".#.", "..#"]
    );

    // A trait object: the plugin calls the host's methods through the host's vtable.
    let measure = host
        .resolve_typed::<fn(&(dyn Shape + 'static)) -> u64>("measure")
        .unwrap();
    assert_eq!(measure.call(&mut host, (&Square(3),)), Ok(9 * 2 + 6));

    // `&T` of a `Sync` host object and a shared resource: from two threads at once.
    let count = host
        .resolve_typed::<fn(&Canvas, char) -> u64>("count")
        .unwrap();
    let shared = &host;
    let counts: Vec<u64> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (count, canvas) = (&count, &canvas);
                s.spawn(move || {
                    (0..100)
                        .map(|_| count.call_shared(shared, (canvas, '#')).unwrap())
                        .sum::<u64>()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(counts, [100 * 203, 100 * 203]);

    // `Host::call` (the REPL's path) cannot pass a host object: a clear error, no call.
    assert_eq!(
        host.call_by_name("note", &[hot_host::Value::Int(1)]),
        Err(CallError {
            name: "note".into(),
            kind: CallErrorKind::HostObject {
                param: "lines".into(),
                ty: "&mut alloc::vec::Vec<alloc::string::String>".into(),
            }
        })
    );

    // A body change: the same handles run the new code with the caller's objects.
    plugin.edit(&[
        (
            "lines.push(format!(\"note {n}",
            "lines.push(format!(\"NOTE {n}",
        ),
        (
            "canvas.put(i, i, glyph);",
            "canvas.put(canvas.width - 1 - i, i, glyph);",
        ),
    ]);
    assert_eq!(reload(&mut host).to_version, 2);
    note.call(&mut host, (&mut lines, 9)).unwrap();
    assert_eq!(lines[3], "NOTE 9 (#3)");
    let mut canvas = Canvas::new(3, 3);
    draw.call(&mut host, (&mut canvas, '/')).unwrap();
    assert_eq!(
        [canvas.row(0), canvas.row(1), canvas.row(2)],
        ["../", "./.", "/.."]
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_host_object_of_another_type_is_refused_at_resolve_naming_both() {
    let plugin = Plugin::copy("host-objects-plugin", "host_objects_mismatch");
    let host = plugin.host();
    let err = host
        .resolve_typed::<fn(&mut Vec<u8>, u32)>("note")
        .unwrap_err();
    assert_eq!(
        err,
        CallError {
            name: "note".into(),
            kind: CallErrorKind::HostType {
                param: "lines".into(),
                expected: "`alloc::vec::Vec<u8>` (24 bytes, align 8)".into(),
                found: "`alloc::vec::Vec<alloc::string::String>` (24 bytes, align 8)".into(),
            }
        }
    );
    let err = host
        .resolve_typed::<fn(&(dyn std::fmt::Write + 'static)) -> u64>("measure")
        .unwrap_err();
    assert_eq!(
        err.kind,
        CallErrorKind::HostType {
            param: "shape".into(),
            expected: "`dyn core::fmt::Write` (a trait object)".into(),
            found: "`dyn host_objects_shared::Shape` (a trait object)".into(),
        }
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_layout_change_of_the_shared_crate_is_refused_at_reload_naming_the_type() {
    let plugin = Plugin::copy("host-objects-plugin", "host_objects_relaid")
        .with_own_copy_of("host-objects-shared");
    let mut host = plugin.host();
    let draw = host.resolve_typed::<fn(&mut Canvas, char)>("draw").unwrap();

    // The plugin's copy of `Canvas` grows a field; the host (this binary) keeps its own.
    plugin.edit_shared(
        "host-objects-shared",
        &[(
            "    pub width: usize,\n",
            "    pub width: usize,\n    pub height: usize,\n",
        )],
    );
    plugin.edit_shared(
        "host-objects-shared",
        &[(
            "            width,\n",
            "            width,\n            height,\n",
        )],
    );
    // `plan` says so before the reload does (a preview changes nothing either).
    let plan = host.preview().unwrap();
    assert!(
        plan.contains(
            "would refuse the reload: the host object type `host_objects_shared::Canvas` (32 bytes, align 8) is now `host_objects_shared::Canvas` (40 bytes, align 8) in the plugin"
        ),
        "{plan}"
    );
    let err = host.reload().unwrap_err();
    // Named by the first function that takes it (`count`, in the order of the manifest).
    let ReloadError::HostType(changed) = &err else {
        panic!("expected a refused host object type, got {err}");
    };
    assert_eq!(
        (
            changed.function.as_str(),
            changed.param.as_str(),
            changed.old.name(),
            changed.old.layout(),
            changed.new.layout()
        ),
        (
            "count",
            "canvas",
            "host_objects_shared::Canvas",
            Some((32, 8)),
            Some((40, 8))
        )
    );
    assert_eq!(changed.old, HostType::of::<Canvas>());
    // The refused build is closed by now; the error still reads its type's name (copied out).
    assert_eq!(changed.new.name(), "host_objects_shared::Canvas");
    assert!(
        err.to_string()
            .contains("is now `host_objects_shared::Canvas` (40 bytes, align 8) in the plugin"),
        "{err}"
    );

    // Nothing changed: the old version runs on with the host's canvas.
    assert_eq!(host.version(), 1);
    let mut canvas = Canvas::new(2, 2);
    draw.call(&mut host, (&mut canvas, '#')).unwrap();
    assert_eq!([canvas.row(0), canvas.row(1)], ["#.", ".#"]);
}
