//! End to end: typed function handles (`Host::resolve_typed`) through a real plugin, resolved
//! once with a Rust function type, called safely, followed across reloads, and from threads.

mod support;

use hot_host::{CallError, CallErrorKind, Host};
use support::Plugin;

hot_host::hot_fns! {
    @hot
    /// Some of `typed-plugin`'s functions, for scopes of calls.
    struct Scoped = typed_plugin {
        fn add(a: u64, b: u64) -> u64;
        fn bump(counter: &mut Counter);
        fn div(a: u64, b: u64) -> u64;
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
fn typed_handles_call_bind_resources_and_follow_reloads() {
    let plugin = Plugin::copy("typed-plugin", "typed_follow");
    let mut host = plugin.host();
    let add = host.resolve_typed::<fn(u64, u64) -> u64>("add").unwrap();
    // `bump(counter: &mut Counter)`: the resource is bound by the call, not passed.
    let bump = host.resolve_typed::<fn()>("bump").unwrap();
    let scaled = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    assert_eq!(add.call(&mut host, (2, 3)), Ok(5));
    for _ in 0..3 {
        bump.call(&mut host, ()).unwrap();
    }
    assert_eq!(scaled.call(&mut host, (10,)), Ok(30));

    // `init` replaces the `Counter` resource: the handles bind the new one.
    host.call_by_name("init", &[]).unwrap();
    bump.call(&mut host, ()).unwrap();
    assert_eq!(scaled.call_shared(&host, (7,)), Ok(7));

    // A body change and a layout change of the resource: the same handles run the new code on
    // the migrated resource (which lives at a new address).
    plugin.edit(&[
        ("a + b", "a * b + 1"),
        (
            "pub count: u64,",
            "pub before: [u64; 3],\n    pub count: u64,",
        ),
        ("counter.count += 1;", "counter.count += 100;"),
    ]);
    let report = reload(&mut host);
    assert_eq!(report.to_version, 2);
    assert_eq!(add.call(&mut host, (2, 3)), Ok(7));
    bump.call(&mut host, ()).unwrap();
    assert_eq!(scaled.call(&mut host, (1,)), Ok(101));
    assert_eq!(scaled.call_shared(&host, (2,)), Ok(202));

    // A function that borrows a resource mutably needs `&mut Host`.
    let err = bump.call_shared(&host, ()).unwrap_err();
    assert_eq!(
        err,
        CallError {
            name: "bump".into(),
            kind: CallErrorKind::Exclusive {
                ty: "Counter".into()
            }
        }
    );

    // Signature changed, and removed: the old handles fail typed, without running any code.
    plugin.edit(&[
        (
            "pub fn add(a: u64, b: u64) -> u64",
            "pub fn add(a: u64, b: u32) -> u64",
        ),
        ("a * b + 1", "a * b as u64 + 2"),
        ("#[hot_fn]\npub fn bump", "pub fn bump"),
    ]);
    reload(&mut host);
    assert_eq!(
        add.call(&mut host, (2, 3)),
        Err(CallError {
            name: "add".into(),
            kind: CallErrorKind::SignatureChanged {
                old: "fn(a: u64, b: u64) -> u64".into(),
                new: "fn(a: u64, b: u32) -> u64".into(),
                relaid: vec![],
            }
        })
    );
    assert_eq!(
        bump.call(&mut host, ()),
        Err(CallError {
            name: "bump".into(),
            kind: CallErrorKind::Removed { version: 3 }
        })
    );
    // Resolved again with the new type, `add` runs the new code.
    let add = host.resolve_typed::<fn(u64, u32) -> u64>("add").unwrap();
    assert_eq!(add.call(&mut host, (2, 3)), Ok(8));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_type_that_does_not_match_the_plugins_signature_is_refused_at_resolve_naming_both() {
    let plugin = Plugin::copy("typed-plugin", "typed_mismatch");
    let mut host = plugin.host();
    let err = host
        .resolve_typed::<fn(u64, u32) -> u64>("add")
        .unwrap_err();
    assert_eq!(
        err,
        CallError {
            name: "add".into(),
            kind: CallErrorKind::Mismatch {
                expected: "fn(u64, u32) -> u64".into(),
                found: "fn(a: u64, b: u64) -> u64".into(),
                typed: "fn(u64, u64) -> u64".into(),
            }
        }
    );
    assert_eq!(
        err.to_string(),
        "`add` is `fn(a: u64, b: u64) -> u64`, not `fn(u64, u32) -> u64`; resolve it as \
         `fn(u64, u64) -> u64` (resources are bound by the call, not passed)"
    );
    let err = host.resolve_typed::<fn() -> u64>("bump").unwrap_err();
    assert!(
        matches!(&err, CallError { kind: CallErrorKind::Mismatch { expected, found, typed }, .. }
            if expected == "fn() -> u64" && found == "fn(counter: &mut Counter)" && typed == "fn()"),
        "{err}"
    );
    // `init` returns a `CooType` by value, which only `Host::call` takes into the state.
    let err = host.resolve_typed::<fn()>("init").unwrap_err();
    assert_eq!(
        err,
        CallError {
            name: "init".into(),
            kind: CallErrorKind::Untyped {
                signature: "fn() -> Counter".into(),
            }
        }
    );
    assert!(matches!(
        host.resolve_typed::<fn()>("nope"),
        Err(CallError {
            kind: CallErrorKind::NotFound { .. },
            ..
        })
    ));

    // A panic inside the plugin is caught there and returned.
    let div = host.resolve_typed::<fn(u64, u64) -> u64>("div").unwrap();
    assert_eq!(div.call(&mut host, (7, 2)), Ok(3));
    assert_eq!(
        div.call(&mut host, (7, 0)),
        Err(CallError {
            name: "div".into(),
            kind: CallErrorKind::Panicked {
                message: "attempt to divide by zero".into(),
            }
        })
    );
    assert_eq!(div.call_shared(&host, (9, 3)), Ok(3));

    // A handle belongs to the host that resolved it.
    let add = host.resolve_typed::<fn(u64, u64) -> u64>("add").unwrap();
    let mut other = Host::with_builder(plugin.builder());
    assert_eq!(
        add.call(&mut other, (1, 1)),
        Err(CallError {
            name: "add".into(),
            kind: CallErrorKind::OtherHost
        })
    );
    assert_eq!(add.call(&mut host, (1, 1)), Ok(2));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn threads_call_shared_functions_at_once_between_reloads() {
    let plugin = Plugin::copy("typed-plugin", "typed_threads");
    let mut host = plugin.host();
    let bump = host.resolve_typed::<fn()>("bump").unwrap();
    for _ in 0..5 {
        bump.call(&mut host, ()).unwrap();
    }
    let add = host.resolve_typed::<fn(u64, u64) -> u64>("add").unwrap();
    let scaled = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    let host = &host;
    let sums: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4u64)
            .map(|t| {
                let (add, scaled) = (add.clone(), scaled.clone());
                scope.spawn(move || {
                    let mut sum = 0;
                    for i in 0..10_000u64 {
                        sum += add.call_shared(host, (i, t)).unwrap();
                        sum += scaled.call_shared(host, (t,)).unwrap();
                    }
                    sum
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let expected: Vec<u64> = (0..4u64)
        .map(|t| (0..10_000u64).map(|i| i + t + 5 * t).sum())
        .collect();
    assert_eq!(sums, expected);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn call_shared_refuses_a_function_that_shares_a_resource_which_is_not_sync() {
    let plugin = Plugin::copy("typed-plugin", "typed_not_sync");
    let mut host = plugin.host();
    host.call_by_name("gauge", &[]).unwrap();
    // `hit(gauge: &Gauge)` counts through a `Cell`: two threads sharing the `Gauge` would race.
    let hit = host.resolve_typed::<fn() -> u64>("hit").unwrap();
    assert_eq!(
        hit.call_shared(&host, ()),
        Err(CallError {
            name: "hit".into(),
            kind: CallErrorKind::NotSync { ty: "Gauge".into() }
        })
    );
    // With `&mut Host` it runs, on this thread only.
    assert_eq!(hit.call(&mut host, ()), Ok(1));
    assert_eq!(hit.call(&mut host, ()), Ok(2));
    // A call with `&mut Host` in the same state does not make the shared call acceptable.
    assert_eq!(
        hit.call_shared(&host, ()),
        Err(CallError {
            name: "hit".into(),
            kind: CallErrorKind::NotSync { ty: "Gauge".into() }
        })
    );
    assert_eq!(
        hit.call_shared(&host, ()).unwrap_err().to_string(),
        "`hit` shares the resource `Gauge`, which is not `Sync`; call it with `call` and \
         `&mut Host`, not `call_shared`"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_typed_call_after_state_mut_replaced_a_resource_binds_the_new_one() {
    let plugin = Plugin::copy("typed-plugin", "typed_state_mut");
    let mut host = plugin.host();
    let bump = host.resolve_typed::<fn()>("bump").unwrap();
    let scaled = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    for _ in 0..3 {
        bump.call(&mut host, ()).unwrap();
    }
    assert_eq!(scaled.call(&mut host, (1,)), Ok(3));

    // The `Counter` taken out through `state_mut` (and kept alive here, so that a stale address
    // would still point to a live `Counter`: the test would see wrong counts, not a crash).
    let first = host.state_mut().remove("Counter").unwrap();
    assert_eq!(
        bump.call(&mut host, ()),
        Err(CallError {
            name: "bump".into(),
            kind: CallErrorKind::NoResource {
                ty: "Counter".into()
            }
        })
    );
    host.call_by_name("init", &[]).unwrap();
    bump.call(&mut host, ()).unwrap();
    assert_eq!(scaled.call(&mut host, (1,)), Ok(1));

    // Put back through `state_mut`, the first `Counter` replaces the second: calls bind it.
    let second = host.state_mut().insert_resource(first).unwrap();
    bump.call(&mut host, ()).unwrap();
    assert_eq!(scaled.call(&mut host, (1,)), Ok(4));
    assert_eq!(scaled.call_shared(&host, (2,)), Ok(8));
    assert_eq!(second.view().get::<u64>("count"), Ok(1));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn the_raw_typed_path_calls_the_direct_entry_and_fails_typed_once_the_function_is_gone() {
    let plugin = Plugin::copy("typed-plugin", "typed_raw");
    let mut host = plugin.host();
    let add = host.resolve_typed::<fn(u64, u64) -> u64>("add").unwrap();
    let div = host.resolve_typed::<fn(u64, u64) -> u64>("div").unwrap();
    let bump = host.resolve_typed::<fn()>("bump").unwrap();
    let scaled = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    // SAFETY: `add` and `div` have no resource parameters; no reload runs during the calls.
    unsafe {
        assert_eq!(add.call_raw(core::ptr::null(), (2, 3)), Ok(5));
        assert_eq!(div.call_raw(core::ptr::null(), (7, 2)), Ok(3));
        assert_eq!(
            div.call_raw(core::ptr::null(), (7, 0)),
            Err(CallError {
                name: "div".into(),
                kind: CallErrorKind::Panicked {
                    message: "attempt to divide by zero".into(),
                }
            })
        );
    }
    let counter = [host
        .state_mut()
        .resource_mut("Counter")
        .unwrap()
        .as_mut_ptr()];
    for _ in 0..3 {
        // SAFETY: `bump` takes `&mut Counter`: `counter` holds the address of the live
        // `Counter`, which nothing else references meanwhile; no reload runs.
        unsafe { bump.call_raw(counter.as_ptr(), ()) }.unwrap();
    }
    assert_eq!(scaled.call(&mut host, (1,)), Ok(3));

    plugin.edit(&[
        ("a + b", "a * b"),
        ("#[hot_fn]\npub fn bump", "pub fn bump"),
    ]);
    reload(&mut host);
    // SAFETY: as above; `bump` is gone, so nothing reads `counter` (which may be stale).
    unsafe {
        assert_eq!(add.call_raw(core::ptr::null(), (2, 3)), Ok(6));
        assert_eq!(
            bump.call_raw(counter.as_ptr(), ()),
            Err(CallError {
                name: "bump".into(),
                kind: CallErrorKind::Removed { version: 2 }
            })
        );
    }
}

/// A panic reported by unwinding (the raising entry, through the host's hook) is caught on each
/// thread that calls, as often as it happens; and the direct entries' flag, which a host built
/// with `panic = "abort"` uses (`call_by_flag`, `call_raw_by_flag` here), reports the same
/// values and errors, a buried slot included.
#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn panics_unwind_to_every_calling_thread_and_the_flag_path_reports_the_same() {
    let plugin = Plugin::copy("typed-plugin", "typed_flag");
    let mut host = plugin.host();
    let add = host.resolve_typed::<fn(u64, u64) -> u64>("add").unwrap();
    let div = host.resolve_typed::<fn(u64, u64) -> u64>("div").unwrap();
    let bump = host.resolve_typed::<fn()>("bump").unwrap();
    let panicked = CallError {
        name: "div".into(),
        kind: CallErrorKind::Panicked {
            message: "attempt to divide by zero".into(),
        },
    };

    std::thread::scope(|scope| {
        let host = &host;
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let (div, panicked) = (&div, &panicked);
                scope.spawn(move || {
                    for i in 0..20 {
                        assert_eq!(div.call_shared(host, (i, 0)).as_ref(), Err(panicked));
                        assert_eq!(div.call_shared(host, (i * 2, 2)), Ok(i));
                    }
                    t
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    });

    assert_eq!(add.call_by_flag(&mut host, (2, 3)), Ok(5));
    assert_eq!(div.call_by_flag(&mut host, (7, 0)), Err(panicked.clone()));
    assert_eq!(div.call_by_flag(&mut host, (7, 2)), Ok(3));
    for _ in 0..2 {
        bump.call_by_flag(&mut host, ()).unwrap();
    }
    bump.call(&mut host, ()).unwrap();
    let scaled = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    assert_eq!(scaled.call_by_flag(&mut host, (1,)), Ok(3));
    // SAFETY: `add` and `div` have no resource parameters; no reload runs during the calls.
    unsafe {
        assert_eq!(add.call_raw_by_flag(core::ptr::null(), (4, 5)), Ok(9));
        assert_eq!(
            div.call_raw_by_flag(core::ptr::null(), (1, 0)),
            Err(panicked.clone())
        );
    }

    // `add` changes its signature and `bump` goes: both paths of both handles say so (the
    // raising one through the stub the slot's entry became).
    plugin.edit(&[
        (
            "pub fn add(a: u64, b: u64) -> u64",
            "pub fn add(a: u64, b: u32) -> u64",
        ),
        ("a + b", "a + b as u64"),
        ("#[hot_fn]\npub fn bump", "pub fn bump"),
    ]);
    reload(&mut host);
    let changed = |e: Result<u64, CallError>| {
        matches!(
            e,
            Err(CallError {
                kind: CallErrorKind::SignatureChanged { .. },
                ..
            })
        )
    };
    let removed = CallError {
        name: "bump".into(),
        kind: CallErrorKind::Removed { version: 2 },
    };
    assert!(changed(add.call(&mut host, (2, 3))));
    assert!(changed(add.call_by_flag(&mut host, (2, 3))));
    // SAFETY: nothing reads the (dangling) resources of a buried slot's call.
    unsafe {
        assert!(changed(add.call_raw(core::ptr::null(), (2, 3))));
        assert!(changed(add.call_raw_by_flag(core::ptr::null(), (2, 3))));
        assert_eq!(
            bump.call_raw(core::ptr::NonNull::dangling().as_ptr(), ()),
            Err(removed.clone())
        );
    }
    assert_eq!(bump.call(&mut host, ()), Err(removed.clone()));
    assert_eq!(bump.call_by_flag(&mut host, ()), Err(removed));
    assert_eq!(div.call(&mut host, (8, 0)), Err(panicked));
}

/// A scope of calls (`hot_fns!`' `calls`) in the hot mode: its calls skip the epoch check, bind
/// the live resource, report panics, and a function the reload removed says so while the others
/// are called.
#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_scope_of_hot_calls_calls_each_function_and_says_which_is_gone() {
    let plugin = Plugin::copy("typed-plugin", "typed_scope");
    let mut host = plugin.host();
    let fns = Scoped::new(&host).unwrap();
    {
        let mut calls = fns.calls(&mut host).unwrap();
        assert_eq!(calls.add(2, 3), Ok(5));
        for _ in 0..3 {
            calls.bump().unwrap();
        }
        assert!(matches!(
            calls.div(1, 0),
            Err(CallError {
                kind: CallErrorKind::Panicked { .. },
                ..
            })
        ));
        assert_eq!(calls.div(6, 3), Ok(2));
    }
    let scaled = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    assert_eq!(scaled.call(&mut host, (1,)), Ok(3));

    plugin.edit(&[
        ("a + b", "a * b"),
        ("#[hot_fn]\npub fn bump", "pub fn bump"),
    ]);
    reload(&mut host);
    let mut calls = fns.calls(&mut host).unwrap();
    assert_eq!(calls.add(2, 3), Ok(6));
    assert_eq!(
        calls.bump(),
        Err(CallError {
            name: "bump".into(),
            kind: CallErrorKind::Removed { version: 2 }
        })
    );
    assert_eq!(calls.div(8, 2), Ok(4));
}
