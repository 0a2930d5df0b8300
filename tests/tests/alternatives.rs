//! End to end: A/B implementations (`#[hot_fn(alt_of = "bump", name = "by10")]`) of a real
//! plugin, chosen live through `Host::choose` while typed handles and name handles keep calling
//! the slot; the choice kept across reloads while the alternative exists, and the report saying
//! when it is gone; libraries whose alternatives cannot be run refused at load.

mod support;

use hot_host::{
    Alternative, AlternativeGone, CallError, CallErrorKind, LoadErrorKind, ReloadError,
};
use support::Plugin;

/// `typed-plugin` with two alternatives of `bump`.
const ALTERNATIVES: &str = r#"
#[hot_fn(alt_of = "bump", name = "by10")]
pub fn bump_by_10(counter: &mut Counter) {
    counter.count += 10;
}

#[hot_fn(alt_of = "bump")]
pub fn double(counter: &mut Counter) {
    counter.count *= 2;
}
"#;

fn listed(names: &[(&str, bool)]) -> Vec<Alternative> {
    names
        .iter()
        .map(|(name, chosen)| Alternative {
            name: (*name).to_owned(),
            chosen: *chosen,
        })
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn choosing_switches_what_the_slot_runs_live_and_survives_reloads_while_it_exists() {
    let plugin = Plugin::copy("typed-plugin", "alt_choose");
    let mut source = plugin.source();
    source.push_str(ALTERNATIVES);
    plugin.write_source(&source);
    let mut host = plugin.host();
    // Resolved before any choice: the handles follow it.
    let bump = host.resolve_typed::<fn()>("bump").unwrap();
    let count = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    let by_name = host.resolve("bump").unwrap();

    assert_eq!(
        host.alternatives("bump"),
        Ok(listed(&[
            ("bump", true),
            ("by10", false),
            ("double", false)
        ]))
    );
    assert_eq!(host.alternatives("add"), Ok(listed(&[("add", true)])));
    bump.call(&mut host, ()).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(1));

    host.choose("bump", "by10").unwrap();
    bump.call(&mut host, ()).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(11));
    host.call(&by_name, &[]).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(21));
    host.choose("bump", "double").unwrap();
    bump.call(&mut host, ()).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(42));
    assert_eq!(
        host.alternatives("bump"),
        Ok(listed(&[
            ("bump", false),
            ("by10", false),
            ("double", true)
        ]))
    );

    // Unknown names change nothing.
    assert_eq!(
        host.choose("bump", "by100"),
        Err(CallError {
            name: "bump".into(),
            kind: CallErrorKind::NoAlternative {
                alternative: "by100".into(),
                known: vec!["bump".into(), "by10".into(), "double".into()],
            }
        })
    );
    assert_eq!(
        host.choose("add", "fast"),
        Err(CallError {
            name: "add".into(),
            kind: CallErrorKind::NoAlternative {
                alternative: "fast".into(),
                known: vec!["add".into()],
            }
        })
    );
    assert!(matches!(
        host.choose("nope", "x"),
        Err(CallError {
            kind: CallErrorKind::NotFound { .. },
            ..
        })
    ));
    bump.call(&mut host, ()).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(84));

    // A reload that keeps `double` (with a new body) keeps it chosen.
    plugin.edit(&[("counter.count *= 2;", "counter.count *= 3;")]);
    let report = host.reload().unwrap();
    assert_eq!(report.alternatives_gone, vec![]);
    bump.call(&mut host, ()).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(252));

    // A reload without it: the function's own code runs, and the report says so.
    plugin.edit(&[(
        "#[hot_fn(alt_of = \"bump\")]\npub fn double",
        "pub fn double",
    )]);
    let report = host.reload().unwrap();
    assert_eq!(
        report.alternatives_gone,
        vec![AlternativeGone {
            function: "bump".into(),
            gone: "double".into(),
            running: "bump".into(),
        }]
    );
    assert!(
        report.to_string().contains(
            "\n  ~ fn bump: the chosen implementation `double` is gone; `bump` runs now\n"
        ),
        "{report}"
    );
    bump.call(&mut host, ()).unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(253));
    assert_eq!(
        host.alternatives("bump"),
        Ok(listed(&[("bump", true), ("by10", false)]))
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn a_library_whose_alternatives_cannot_run_is_refused_and_the_old_version_runs_on() {
    let plugin = Plugin::copy("typed-plugin", "alt_refused");
    let mut host = plugin.host();
    let bump = host.resolve_typed::<fn()>("bump").unwrap();

    // An alternative of a function that is no hot function.
    let mut source = plugin.source();
    source.push_str(
        r#"
pub fn plain(counter: &mut Counter) {
    counter.count += 5;
}

#[hot_fn(alt_of = "plain")]
pub fn plainer(counter: &mut Counter) {
    counter.count += 6;
}
"#,
    );
    plugin.write_source(&source);
    match host.reload() {
        Err(ReloadError::Load(e)) => match &e.kind {
            LoadErrorKind::AlternativeOfNothing { alternative, of } => {
                assert_eq!(
                    (alternative.as_str(), of.as_str()),
                    ("alt_refused::plainer", "plain")
                );
            }
            other => panic!("expected AlternativeOfNothing, got {other:?}"),
        },
        other => panic!("expected a load error, got {other:?}"),
    }
    assert_eq!(host.version(), 1);
    bump.call(&mut host, ()).unwrap();

    // Two implementations of `bump` chosen by one name.
    source.push_str(
        r#"
#[hot_fn(alt_of = "bump", name = "fast")]
pub fn fast_one(counter: &mut Counter) {
    counter.count += 7;
}

#[hot_fn(alt_of = "bump", name = "fast")]
pub fn fast_two(counter: &mut Counter) {
    counter.count += 8;
}
"#,
    );
    let source = source.replace("#[hot_fn(alt_of = \"plain\")]\n", "");
    plugin.write_source(&source);
    match host.reload() {
        Err(ReloadError::Load(e)) => match &e.kind {
            LoadErrorKind::DuplicateAlternative { of, name, paths } => assert_eq!(
                [of, name, &paths[0], &paths[1]].map(String::as_str),
                [
                    "bump",
                    "fast",
                    "alt_refused::fast_one",
                    "alt_refused::fast_two"
                ]
            ),
            other => panic!("expected DuplicateAlternative, got {other:?}"),
        },
        other => panic!("expected a load error, got {other:?}"),
    }
    assert_eq!(host.version(), 1);
    bump.call(&mut host, ()).unwrap();
    let count = host.resolve_typed::<fn(u64) -> u64>("scaled").unwrap();
    assert_eq!(count.call(&mut host, (1,)), Ok(2));
}
