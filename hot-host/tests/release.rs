//! The release switch's linked mode in process: `counter-plugin` is linked into this test
//! binary (a dev-dependency), `Coo::start_linked` runs it, and `hot_fns!(@linked ..)` calls its
//! functions directly with their resources bound in the host's state. Also what each mode
//! refuses: a host of the other mode, aliased resources, a missing resource, another host, a
//! reload.
//!
//! The end-to-end test of both modes (a program built with and without its `static` feature)
//! is `tests/tests/release_switch.rs`.

use counter_plugin::Counter;
use hot_host::slots::release::{LinkedFn, Mut, Ref};
use hot_host::{CallError, CallErrorKind, Coo, Host, ReloadError};

hot_host::hot_fns! {
    @linked
    /// `counter-plugin`'s functions, called directly.
    struct Linked = counter_plugin {
        fn add(a: u64, b: u64) -> u64;
        fn bump(counter: &mut Counter);
        fn scaled(counter: &Counter, by: u64) -> u64;
    }
}

hot_host::hot_fns! {
    @hot
    /// The same, through typed handles.
    struct Hot = counter_plugin {
        fn add(a: u64, b: u64) -> u64;
        fn bump(counter: &mut Counter);
    }
}

fn count(host: &Host) -> u64 {
    host.state().get::<Counter>().expect("a Counter").count
}

#[test]
fn linked_calls_bind_the_live_resources_of_the_linked_host() {
    let mut coo = Coo::start_linked("no/such/dir").unwrap();
    assert!(coo.host().is_linked());
    assert_eq!(coo.host().version(), 1);
    let fns = Linked::new(&coo).unwrap();
    // No resource yet: nothing is called.
    let err = fns.bump(&mut coo).unwrap_err();
    assert_eq!(
        err,
        CallError::of(
            "bump",
            CallErrorKind::NoResource {
                ty: "Counter".into()
            }
        )
    );
    // `init` through the host's call path, as in the hot mode: the resource.
    coo.host_mut().call_by_name("init", &[]).unwrap();
    for _ in 0..3 {
        fns.bump(&mut coo).unwrap();
    }
    assert_eq!(count(coo.host()), 3);
    assert_eq!(fns.add(&mut coo, 2, 3), Ok(5));
    assert_eq!(fns.scaled(&mut coo, 10), Ok(30));
    // Through a `Host` as well as a `Coo`.
    assert_eq!(fns.scaled(coo.host_mut(), 2), Ok(6));

    // The state replaced (a new resource at a new address): the calls bind the new one.
    coo.host_mut().call_by_name("init", &[]).unwrap();
    fns.bump(&mut coo).unwrap();
    assert_eq!(count(coo.host()), 1);
    coo.host_mut()
        .state_mut()
        .insert(Counter { count: 40 })
        .unwrap();
    fns.bump(&mut coo).unwrap();
    assert_eq!(fns.scaled(&mut coo, 1), Ok(41));
    // Clones keep working, bound or not.
    let clone = fns.clone();
    clone.bump(&mut coo).unwrap();
    assert_eq!(count(coo.host()), 42);

    // Nothing is built, loaded or reloaded.
    assert!(coo.update().is_none());
    assert_eq!(coo.events().count(), 0);
    assert!(!coo.is_watching());
    assert!(matches!(coo.reload_now(), Err(ReloadError::Linked)));
    assert!(matches!(coo.host_mut().reload(), Err(ReloadError::Linked)));
    assert!(matches!(coo.host_mut().preview(), Err(ReloadError::Linked)));
    assert_eq!(count(coo.host()), 42);
}

#[test]
fn a_scope_of_linked_calls_binds_once_and_the_next_scope_binds_again() {
    let mut host = Host::linked("no/such/dir").unwrap();
    let fns = Linked::new(&host).unwrap();
    // No resource: the scope is refused, before any call.
    let err = fns.calls(&mut host).map(|_| ()).unwrap_err();
    assert_eq!(
        err,
        CallError::of(
            "bump",
            CallErrorKind::NoResource {
                ty: "Counter".into()
            }
        )
    );
    host.call_by_name("init", &[]).unwrap();
    {
        let mut calls = fns.calls(&mut host).unwrap();
        for _ in 0..4 {
            calls.bump().unwrap();
        }
        assert_eq!(calls.add(2, 3), Ok(5));
        assert_eq!(calls.scaled(10), Ok(40));
    }
    assert_eq!(count(&host), 4);

    // A new resource at a new address between two scopes: the next scope binds it.
    host.state_mut().insert(Counter { count: 100 }).unwrap();
    {
        let mut calls = fns.calls(&mut host).unwrap();
        calls.bump().unwrap();
        assert_eq!(calls.scaled(1), Ok(101));
    }
    // And calls outside a scope still bind per call.
    fns.bump(&mut host).unwrap();
    assert_eq!(count(&host), 102);
}

#[test]
fn each_mode_refuses_a_host_of_the_other() {
    let linked = Host::linked("no/such/dir").unwrap();
    let err = Hot::new(&linked).unwrap_err();
    assert_eq!(
        err,
        CallError::of("add", CallErrorKind::WrongMode { host_linked: true })
    );
    assert!(err.to_string().contains("hot-host/static"), "{err}");

    // A host that loads its plugin (nothing loaded yet: the check comes first).
    let loading = Host::new("no/such/dir");
    let err = Linked::new(&loading).unwrap_err();
    assert_eq!(
        err,
        CallError::of("add", CallErrorKind::WrongMode { host_linked: false })
    );
    assert!(err.to_string().contains("hot-host/static"), "{err}");
}

#[test]
fn linked_handles_refuse_aliases_and_other_hosts() {
    let host = Host::linked("no/such/dir").unwrap();
    let err = LinkedFn::<(Mut<Counter>, Ref<Counter>)>::new(&host, "both").unwrap_err();
    assert_eq!(
        err,
        CallError::of(
            "both",
            CallErrorKind::Aliased {
                ty: "Counter".into()
            }
        )
    );
    // Two shared borrows of one resource are fine.
    let shared = LinkedFn::<(Ref<Counter>, Ref<Counter>)>::new(&host, "shared").unwrap();

    let mut other = Host::linked("no/such/dir").unwrap();
    other.call_by_name("init", &[]).unwrap();
    let err = shared.bind(&mut other).unwrap_err();
    assert_eq!(err, CallError::of("shared", CallErrorKind::OtherHost));
    let mut host = host;
    host.call_by_name("init", &[]).unwrap();
    let (a, b) = shared.bind(&mut host).unwrap();
    assert_eq!((a.count, b.count), (0, 0));
    assert!(core::ptr::eq(a, b));
}
