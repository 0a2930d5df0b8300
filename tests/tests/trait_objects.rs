//! In-process migration tests of trait objects (`Box<dyn Trait>` of `#[coo_trait]` traits with
//! `#[coo_impl]` impls): two versions of the same types and trait in one binary (modules `v1`,
//! `v2`, … sharing stable names through `#[coo(name)]` and the trait's identifier), as in
//! `migrate.rs`. A live object is migrated as its concrete type and re-boxed by the new impl,
//! so the new version's method bodies answer.
#![allow(missing_debug_implementations, dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use coo_runtime::migration::execute::Seg;
use coo_runtime::{Catalog, CooType, ExecuteErrorKind, MigrationError, State, TypeDesc};

thread_local! {
    /// How often the `Car` of each id was dropped (per test thread).
    static DROPS: RefCell<BTreeMap<u32, usize>> = const { RefCell::new(BTreeMap::new()) };
}

fn drops() -> BTreeMap<u32, usize> {
    DROPS.with(|d| d.borrow().clone())
}

fn dropped(id: u32) {
    DROPS.with(|d| *d.borrow_mut().entry(id).or_default() += 1);
}

fn catalog(descs: &[&'static TypeDesc]) -> Catalog {
    Catalog::from_descs(descs.iter().copied()).expect("no duplicate names")
}

fn name(s: &str) -> Seg {
    Seg::Name(s.to_owned())
}

pub mod v1 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    #[coo_trait]
    pub trait Vehicle {
        fn speed(&self) -> u32;
    }

    #[derive(CooType)]
    #[coo(name = "Bicycle")]
    pub struct Bicycle {
        pub gear: u8,
        pub rider: String,
    }

    #[coo_impl]
    impl Vehicle for Bicycle {
        fn speed(&self) -> u32 {
            u32::from(self.gear) * 2
        }
    }

    #[derive(CooType)]
    #[coo(name = "Car")]
    pub struct Car {
        pub id: u32,
        pub plate: String,
    }

    impl Drop for Car {
        fn drop(&mut self) {
            super::dropped(self.id);
        }
    }

    #[coo_impl]
    impl Vehicle for Car {
        fn speed(&self) -> u32 {
            100
        }
    }

    #[derive(CooType)]
    #[coo(name = "Garage")]
    pub struct Garage {
        pub vehicles: Vec<Box<dyn Vehicle>>,
        pub spare: Option<Box<dyn Vehicle>>,
        pub label: String,
    }
}

pub mod v2 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    #[coo_trait]
    pub trait Vehicle {
        fn speed(&self) -> u32;
        fn describe(&self) -> String;
    }

    /// Widened gear, a new field with a default: a layout change.
    #[derive(CooType)]
    #[coo(name = "Bicycle")]
    pub struct Bicycle {
        pub gear: u16,
        pub rider: String,
        #[coo(default = 1)]
        pub bells: u8,
    }

    #[coo_impl]
    impl Vehicle for Bicycle {
        /// A changed body.
        fn speed(&self) -> u32 {
            u32::from(self.gear) * 3 + u32::from(self.bells)
        }
        fn describe(&self) -> String {
            format!("bicycle of {}", self.rider)
        }
    }

    /// Same layout as v1's; a changed method body.
    #[derive(CooType)]
    #[coo(name = "Car")]
    pub struct Car {
        pub id: u32,
        pub plate: String,
    }

    impl Drop for Car {
        fn drop(&mut self) {
            super::dropped(self.id);
        }
    }

    #[coo_impl]
    impl Vehicle for Car {
        fn speed(&self) -> u32 {
            120
        }
        fn describe(&self) -> String {
            format!("car {}", self.plate)
        }
    }

    #[derive(CooType)]
    #[coo(name = "Garage")]
    pub struct Garage {
        pub vehicles: Vec<Box<dyn Vehicle>>,
        pub spare: Option<Box<dyn Vehicle>>,
        pub label: String,
    }
}

/// v1 without `Car`: a concrete type removed.
pub mod v3 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    #[coo_trait]
    pub trait Vehicle {
        fn speed(&self) -> u32;
    }

    #[derive(CooType)]
    #[coo(name = "Bicycle")]
    pub struct Bicycle {
        pub gear: u8,
        pub rider: String,
    }

    #[coo_impl]
    impl Vehicle for Bicycle {
        fn speed(&self) -> u32 {
            u32::from(self.gear) * 5
        }
    }

    #[derive(CooType)]
    #[coo(name = "Garage")]
    pub struct Garage {
        pub vehicles: Vec<Box<dyn Vehicle>>,
        pub spare: Option<Box<dyn Vehicle>>,
        pub label: String,
    }
}

fn garage_v1() -> v1::Garage {
    v1::Garage {
        vehicles: vec![
            Box::new(v1::Bicycle {
                gear: 7,
                rider: "ann".into(),
            }),
            Box::new(v1::Car {
                id: 1,
                plate: "CO-1".into(),
            }),
        ],
        spare: Some(Box::new(v1::Car {
            id: 2,
            plate: "CO-2".into(),
        })),
        label: "north".into(),
    }
}

#[test]
fn live_objects_are_migrated_as_their_concrete_type_and_answer_with_the_new_methods() {
    let mut state = State::new();
    state.insert(garage_v1());
    let speeds: Vec<u32> = state
        .get::<v1::Garage>()
        .unwrap()
        .vehicles
        .iter()
        .map(|v| v.speed())
        .collect();
    assert_eq!(speeds, vec![14, 100]);
    let before = drops();
    let report = state.migrate_to(&catalog(&[v2::Garage::DESC])).unwrap();
    assert_eq!(report.migrated, vec!["Garage"]);
    assert_eq!(report.rebound.get("Vehicle"), Some(&3));
    assert!(
        report
            .to_string()
            .contains("rebound 3 `dyn Vehicle` objects\n"),
        "{report}"
    );
    // The fields holding objects are of the same declared type: not reported as retyped.
    assert!(!report.to_string().contains("~ vehicles"), "{report}");
    assert!(!report.to_string().contains("~ spare"), "{report}");
    assert_eq!(
        drops(),
        before,
        "the cars were moved into new boxes, not dropped"
    );
    let g = state.get::<v2::Garage>().unwrap();
    let speeds: Vec<u32> = g.vehicles.iter().map(|v| v.speed()).collect();
    // 7 * 3 + the new field's default 1; the car's new body.
    assert_eq!(speeds, vec![22, 120]);
    let described: Vec<String> = g.vehicles.iter().map(|v| v.describe()).collect();
    assert_eq!(
        described,
        vec!["bicycle of ann".to_owned(), "car CO-1".to_owned()]
    );
    assert_eq!(
        g.spare.as_ref().map(|v| v.describe()),
        Some("car CO-2".to_owned())
    );
    assert_eq!(g.label, "north");
    drop(state);
    let after = drops();
    assert_eq!(
        after.get(&1),
        Some(&(before.get(&1).unwrap_or(&0) + 1)),
        "car 1 dropped once"
    );
    assert_eq!(
        after.get(&2),
        Some(&(before.get(&2).unwrap_or(&0) + 1)),
        "car 2 dropped once"
    );
}

/// The report counts the re-boxed objects per trait and then per concrete type, whether its
/// layout changed (`Bicycle`) or not (`Car`).
#[test]
fn the_report_counts_re_boxed_objects_per_concrete_type() {
    let mut state = State::new();
    state.insert(garage_v1());
    let report = state.migrate_to(&catalog(&[v2::Garage::DESC])).unwrap();
    assert_eq!(
        report.reboxed,
        BTreeMap::from([(
            "Vehicle".to_owned(),
            BTreeMap::from([("Bicycle".to_owned(), 1), ("Car".to_owned(), 2)])
        )])
    );
    let text = report.to_string();
    assert!(
        text.ends_with(
            "rebound 3 `dyn Vehicle` objects\n\
             \x20 1 `Bicycle` object re-boxed as the new `Bicycle`\n\
             \x20 2 `Car` objects re-boxed as the new `Car`\n"
        ),
        "{text}"
    );
}

#[test]
fn a_removed_concrete_type_in_use_is_refused_and_nothing_changes() {
    let mut state = State::new();
    state.insert(garage_v1());
    let before = drops();
    let err = match state.migrate_to(&catalog(&[v3::Garage::DESC])).unwrap_err() {
        MigrationError::Migrate(e) => e,
        other => panic!("expected a migrate error, got {other}"),
    };
    assert_eq!(
        err.kind,
        ExecuteErrorKind::ImplRemoved {
            trait_name: "Vehicle".into(),
            ty: "Car".into()
        }
    );
    assert_eq!(
        err.path.0,
        vec![name("Garage"), name("vehicles"), Seg::Index(1)]
    );
    assert!(
        err.to_string().starts_with(
            "`Garage.vehicles[1]` is a `dyn Vehicle` object of type `Car`, whose \
             `#[coo_impl] impl Vehicle for Car` the new version removed"
        ),
        "{err}"
    );
    assert_eq!(drops(), before, "nothing dropped");
    let g = state.get::<v1::Garage>().expect("unchanged");
    let speeds: Vec<u32> = g.vehicles.iter().map(|v| v.speed()).collect();
    assert_eq!(speeds, vec![14, 100], "the old code still answers");
    assert_eq!(g.spare.as_ref().map(|v| v.speed()), Some(100));
}

#[test]
fn a_removed_concrete_type_without_live_objects_is_no_obstacle() {
    let mut state = State::new();
    state.insert(v1::Garage {
        vehicles: vec![Box::new(v1::Bicycle {
            gear: 2,
            rider: "bo".into(),
        })],
        spare: None,
        label: String::new(),
    });
    let report = state.migrate_to(&catalog(&[v3::Garage::DESC])).unwrap();
    assert_eq!(report.rebound.get("Vehicle"), Some(&1));
    let g = state.get::<v3::Garage>().unwrap();
    assert_eq!(g.vehicles[0].speed(), 10);
    assert!(g.spare.is_none());
}

#[test]
fn a_trait_object_is_never_kept_in_place_even_when_no_layout_changed() {
    // v1 to v1: the same layouts; the objects are still re-boxed (the vtable is the new image's).
    let mut state = State::new();
    state.insert(garage_v1());
    let report = state.migrate_to(&catalog(&[v1::Garage::DESC])).unwrap();
    assert_eq!(report.kept, Vec::<String>::new());
    assert_eq!(report.migrated, vec!["Garage"]);
    assert_eq!(report.rebound.get("Vehicle"), Some(&3));
}

/// Switching live objects (v4: `Car` converts from `&Bicycle`), from host code.
pub mod v4 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    #[coo_trait]
    pub trait Vehicle {
        fn speed(&self) -> u32;
    }

    #[derive(CooType)]
    #[coo(name = "Bicycle")]
    pub struct Bicycle {
        pub gear: u8,
        pub rider: String,
    }

    #[coo_impl]
    impl Vehicle for Bicycle {
        fn speed(&self) -> u32 {
            u32::from(self.gear)
        }
    }

    #[derive(CooType)]
    #[coo(name = "Car")]
    pub struct Car {
        pub id: u32,
        pub plate: String,
    }

    impl Drop for Car {
        fn drop(&mut self) {
            super::dropped(self.id);
        }
    }

    impl From<&Bicycle> for Car {
        fn from(b: &Bicycle) -> Car {
            if b.gear == 0 {
                panic!("a bicycle in gear 0 cannot become a car");
            }
            Car {
                id: 100 + u32::from(b.gear),
                plate: b.rider.to_uppercase(),
            }
        }
    }

    #[coo_impl(from(Bicycle))]
    impl Vehicle for Car {
        fn speed(&self) -> u32 {
            self.id
        }
    }

    #[derive(CooType)]
    #[coo(name = "Garage")]
    pub struct Garage {
        pub vehicles: Vec<Box<dyn Vehicle>>,
        pub spare: Option<Box<dyn Vehicle>>,
        pub label: String,
    }
}

fn garage_v4() -> v4::Garage {
    v4::Garage {
        vehicles: vec![
            Box::new(v4::Bicycle {
                gear: 7,
                rider: "ann".into(),
            }),
            Box::new(v4::Car {
                id: 3,
                plate: "CO-3".into(),
            }),
            Box::new(v4::Bicycle {
                gear: 0,
                rider: "bo".into(),
            }),
        ],
        spare: None,
        label: String::new(),
    }
}

#[test]
fn an_object_is_switched_to_another_impl_through_its_registered_from() {
    use hot_host::state_io::path::{self, PathError};
    let mut state = State::new();
    state.insert(garage_v4());
    path::convert(&mut state, "Garage.vehicles[0]", "Car").unwrap();
    let g = state.get::<v4::Garage>().unwrap();
    let speeds: Vec<u32> = g.vehicles.iter().map(|v| v.speed()).collect();
    assert_eq!(speeds, vec![107, 3, 0]);
    assert_eq!(
        hot_host::state_io::path::get(&state, "Garage.vehicles[0]")
            .unwrap()
            .json(),
        r#"{"Car":{"id":107,"plate":"ANN"}}"#
    );

    // Car to Bicycle: no conversion registered.
    let before = drops();
    let err = path::convert(&mut state, "Garage.vehicles[1]", "Bicycle").unwrap_err();
    assert!(
        matches!(
            &err,
            PathError::Convert {
                error: coo_runtime::descriptors::layout::SwitchError::NoConversion { from, to, .. },
                ..
            } if from == "Car" && to == "Bicycle"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`Garage.vehicles[1]` cannot be converted: the object is a `Car`, and `Bicycle` has no \
         conversion from it; write `impl From<&Car> for Bicycle` and mark its `Vehicle` impl \
         `#[coo_impl(from(Car))]`"
    );
    // A type with no impl of the trait.
    let err = path::convert(&mut state, "Garage.vehicles[1]", "Garage").unwrap_err();
    assert!(
        matches!(
            &err,
            PathError::Convert {
                error: coo_runtime::descriptors::layout::SwitchError::NoImpl { impls, .. },
                ..
            } if impls.len() == 2
        ),
        "{err:?}"
    );
    // A conversion that panics: caught in the plugin, nothing changed.
    let err = path::convert(&mut state, "Garage.vehicles[2]", "Car").unwrap_err();
    assert!(
        matches!(
            &err,
            PathError::Convert {
                error: coo_runtime::descriptors::layout::SwitchError::Panicked { message, .. },
                ..
            } if message == "a bicycle in gear 0 cannot become a car"
        ),
        "{err:?}"
    );
    // Not an object.
    let err = path::convert(&mut state, "Garage.label", "Car").unwrap_err();
    assert!(
        matches!(&err, PathError::NotAnObject { ty, .. } if ty == "String"),
        "{err:?}"
    );
    assert_eq!(
        drops(),
        before,
        "nothing was dropped by the refused switches"
    );
    let g = state.get::<v4::Garage>().unwrap();
    let speeds: Vec<u32> = g.vehicles.iter().map(|v| v.speed()).collect();
    assert_eq!(speeds, vec![107, 3, 0], "unchanged");

    // A car switched to a car (from its own type: no conversion) is refused; dropping the
    // state drops each car once.
    drop(state);
    let after = drops();
    assert_eq!(after.get(&107), Some(&(before.get(&107).unwrap_or(&0) + 1)));
    assert_eq!(after.get(&3), Some(&(before.get(&3).unwrap_or(&0) + 1)));
}

#[test]
fn a_switched_object_drops_the_old_one_once() {
    let mut state = State::new();
    state.insert(v4::Garage {
        vehicles: vec![],
        spare: Some(Box::new(v4::Car {
            id: 40,
            plate: "X".into(),
        })),
        label: String::new(),
    });
    // `set` of a whole object replaces it (of any impl), dropping the old one once.
    let before = drops();
    hot_host::state_io::path::set(
        &mut state,
        "Garage.spare",
        r#"{"Bicycle":{"gear":2,"rider":"cy"}}"#,
    )
    .unwrap();
    assert_eq!(drops().get(&40), Some(&(before.get(&40).unwrap_or(&0) + 1)));
    hot_host::state_io::path::convert(&mut state, "Garage.spare", "Car").unwrap();
    let g = state.get::<v4::Garage>().unwrap();
    assert_eq!(g.spare.as_ref().map(|v| v.speed()), Some(102));
    drop(state);
    assert_eq!(
        drops().get(&102),
        Some(&(before.get(&102).unwrap_or(&0) + 1))
    );
}

#[test]
fn objects_are_shown_tagged_with_their_concrete_type_and_reached_by_paths() {
    let mut state = State::new();
    state.insert(garage_v1());
    assert_eq!(
        hot_host::state_io::show::state_json(&state),
        r#"{"Garage":{"vehicles":[{"Bicycle":{"gear":7,"rider":"ann"}},{"Car":{"id":1,"plate":"CO-1"}}],"spare":{"Car":{"id":2,"plate":"CO-2"}},"label":"north"}}"#
    );
    assert_eq!(
        hot_host::state_io::path::get(&state, "Garage.vehicles[0].gear")
            .unwrap()
            .json(),
        "7"
    );
    hot_host::state_io::path::set(&mut state, "Garage.vehicles[0].gear", "9").unwrap();
    let g = state.get::<v1::Garage>().unwrap();
    assert_eq!(g.vehicles[0].speed(), 18);
    let err = hot_host::state_io::path::set(&mut state, "Garage.vehicles[0]", r#"{"Ship":{}}"#)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`Garage.vehicles[0]` is a `Box<dyn Vehicle>`, and `Ship` has no `#[coo_impl]` of \
         `Vehicle`; its impls are `Bicycle`, `Car`"
    );
}

#[test]
fn snapshots_hold_objects_and_load_them_under_a_later_layout_with_the_new_impls() {
    use hot_host::state_io::binary::Format;
    use hot_host::state_io::snapshot;
    let mut state = State::new();
    state.insert(garage_v1());
    let text = snapshot::save(&state).expect("nothing opaque");
    assert!(
        text.ends_with(
            r#""state":{"Garage":{"vehicles":[{"Bicycle":{"gear":7,"rider":"ann"}},{"Car":{"id":1,"plate":"CO-1"}}],"spare":{"Car":{"id":2,"plate":"CO-2"}},"label":"north"}}}"#
        ),
        "{text}"
    );
    let header = snapshot::Header {
        plugin: None,
        run: None,
    };
    let binary = snapshot::encode(
        &hot_host::state_io::capture::Capture::of(&state).expect("nothing opaque"),
        &header,
        Format::Binary,
    );
    let before = drops();
    // Loaded by the same build: the objects come back, boxed by its impls.
    let (same, _) = snapshot::load(&text, &catalog(&[v1::Garage::DESC])).unwrap();
    assert_eq!(snapshot::save(&same).expect("nothing opaque"), text);
    drop(same);
    for (loaded, _) in [
        snapshot::load(&text, &catalog(&[v2::Garage::DESC])).unwrap(),
        hot_host::state_io::binary::load(&binary, &catalog(&[v2::Garage::DESC]), None).unwrap(),
    ] {
        let g = loaded.get::<v2::Garage>().unwrap();
        let speeds: Vec<u32> = g.vehicles.iter().map(|v| v.speed()).collect();
        // The bicycle's new field took its default; the new bodies answer.
        assert_eq!(speeds, vec![22, 120]);
        assert_eq!(
            g.spare.as_ref().map(|v| v.describe()),
            Some("car CO-2".to_owned())
        );
    }
    // Each loaded car was dropped once (three loads of two cars), the saved state's none.
    let after = drops();
    for id in [1, 2] {
        assert_eq!(
            after.get(&id),
            Some(&(before.get(&id).unwrap_or(&0) + 3)),
            "car {id}"
        );
    }
    // A snapshot whose object is of a type the build has no impl for is refused.
    let err = snapshot::load(&text, &catalog(&[v3::Garage::DESC])).unwrap_err();
    assert!(
        err.to_string().contains(
            "`Garage.vehicles[1]` is a `Box<dyn Vehicle>`, and `Car` has no `#[coo_impl]` of \
             `Vehicle`; its impls are `Bicycle`"
        ),
        "{err}"
    );
}
