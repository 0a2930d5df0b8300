//! Generic `CooType`s: each instantiation (`Pair<u32>`, `Pair<f32>`) has its own descriptor and a
//! name with its type arguments, is found through the fields that name it, and migrates like any
//! struct or enum: its arguments may change (`Pair<u32>` → `Pair<u64>` widens field by field), it
//! may gain fields, and its type may be renamed with `rename_from`.
#![allow(missing_debug_implementations, dead_code)]

use coo_runtime::{Catalog, CooType, MigrationError, ProblemKind, State, TypeDesc};

fn catalog(descs: &[&'static TypeDesc]) -> Catalog {
    Catalog::from_descs(descs.iter().copied()).expect("no duplicate names")
}

fn state_with<T: CooType>(value: T) -> State {
    let mut state = State::new();
    state.insert(value);
    state
}

fn problems(err: MigrationError) -> Vec<coo_runtime::Problem> {
    match err {
        MigrationError::Plan(p) => p.problems,
        other => panic!("expected a plan error, got {other}"),
    }
}

pub mod v1 {
    use coo_runtime::CooType;

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Enemy")]
    pub struct Enemy {
        pub hp: u32,
    }

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Pair")]
    pub struct Pair<T> {
        pub lo: T,
        pub hi: T,
    }

    /// Bounds and a `where` clause are carried through.
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Wrap")]
    pub struct Wrap<T> {
        pub inner: T,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Either")]
    pub enum Either<L: Clone, R>
    where
        R: PartialEq,
    {
        Left(L),
        Right { value: R },
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "World")]
    pub struct World {
        pub range: Pair<u32>,
        pub points: Vec<Pair<f32>>,
        pub nested: Wrap<Pair<u8>>,
        pub enemies: Pair<Vec<Enemy>>,
        pub choice: Either<u8, String>,
    }
}

pub mod v2 {
    use coo_runtime::CooType;

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Enemy")]
    pub struct Enemy {
        pub hp: u32,
    }

    /// Gained `mid` (its type's default) and `count` (`#[coo(default)]`).
    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Pair")]
    pub struct Pair<T> {
        pub lo: T,
        pub mid: T,
        pub hi: T,
        #[coo(default = 7)]
        pub count: u8,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Wrap")]
    pub struct Wrap<T> {
        pub inner: T,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Either")]
    pub enum Either<L: Clone, R>
    where
        R: PartialEq,
    {
        Left(L),
        Right { value: R },
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "World")]
    pub struct World {
        pub range: Pair<u64>,
        pub points: Vec<Pair<f64>>,
        pub nested: Wrap<Pair<u16>>,
        pub enemies: Pair<Vec<Enemy>>,
        pub choice: Either<i32, String>,
    }
}

fn v1_world() -> v1::World {
    v1::World {
        range: v1::Pair {
            lo: 3,
            hi: 4_000_000_000,
        },
        points: vec![
            v1::Pair { lo: 0.5, hi: 1.5 },
            v1::Pair { lo: -2.0, hi: 8.25 },
        ],
        nested: v1::Wrap {
            inner: v1::Pair { lo: 254, hi: 255 },
        },
        enemies: v1::Pair {
            lo: vec![v1::Enemy { hp: 10 }],
            hi: vec![v1::Enemy { hp: 20 }, v1::Enemy { hp: 30 }],
        },
        choice: v1::Either::Left(200),
    }
}

#[test]
fn each_instantiation_has_its_own_descriptor_and_name() {
    assert_eq!(<v1::Pair<u32>>::DESC.name(), "Pair<u32>");
    assert_eq!(<v1::Pair<f32>>::DESC.name(), "Pair<f32>");
    assert_eq!(<v1::Pair<v1::Pair<u8>>>::DESC.name(), "Pair<Pair<u8>>");
    // Nested types by stable name, never by Rust path.
    assert_eq!(<v1::Pair<Vec<v1::Enemy>>>::DESC.name(), "Pair<Vec<Enemy>>");
    assert_eq!(<v1::Either<u8, String>>::DESC.name(), "Either<u8, String>");
    assert_eq!(<v1::Pair<u32>>::DESC.base_name(), "Pair");
    assert_eq!(<v1::Pair<u32>>::DESC.size(), 8);
    assert_eq!(<v1::Pair<u64>>::DESC.size(), 16);
    let args = <v1::Either<u8, String>>::DESC
        .generic_args()
        .expect("generic");
    let arg_names: Vec<&str> = args.args().iter().map(|a| a.get().type_name()).collect();
    assert_eq!(arg_names, ["u8", "alloc::string::String"]);
    assert!(v1::World::DESC.generic_args().is_none());
}

#[test]
fn the_catalog_finds_instantiations_through_fields() {
    let catalog = catalog(&[v1::World::DESC]);
    let names: Vec<&str> = catalog.iter().map(|d| d.name()).collect();
    assert_eq!(
        names,
        [
            "Either<u8, String>",
            "Enemy",
            "Pair<Vec<Enemy>>",
            "Pair<f32>",
            "Pair<u32>",
            "Pair<u8>",
            "World",
            "Wrap<Pair<u8>>",
        ]
    );
    let pair = catalog
        .get("Pair<f32>")
        .expect("reached through Vec<Pair<f32>>");
    assert_eq!(pair.size(), 8);
}

#[test]
fn arguments_widen_and_new_fields_get_defaults() {
    let mut state = state_with(v1_world());
    let report = state
        .migrate_to(&catalog(&[v2::World::DESC]))
        .unwrap_or_else(|e| panic!("migrates: {e}"));
    assert!(report.kept.is_empty(), "{report}");
    let world = state.get::<v2::World>().expect("now a v2::World");
    assert_eq!(
        *world,
        v2::World {
            range: v2::Pair {
                lo: 3,
                mid: 0,
                hi: 4_000_000_000,
                count: 7
            },
            points: vec![
                v2::Pair {
                    lo: 0.5,
                    mid: 0.0,
                    hi: 1.5,
                    count: 7
                },
                v2::Pair {
                    lo: -2.0,
                    mid: 0.0,
                    hi: 8.25,
                    count: 7
                },
            ],
            nested: v2::Wrap {
                inner: v2::Pair {
                    lo: 254,
                    mid: 0,
                    hi: 255,
                    count: 7
                },
            },
            enemies: v2::Pair {
                lo: vec![v2::Enemy { hp: 10 }],
                mid: vec![],
                hi: vec![v2::Enemy { hp: 20 }, v2::Enemy { hp: 30 }],
                count: 7,
            },
            choice: v2::Either::Left(200),
        }
    );
}

#[test]
fn an_unchanged_instantiation_is_kept_in_place() {
    let mut state = state_with(v1_world());
    let report = state
        .migrate_to(&catalog(&[v1::World::DESC]))
        .unwrap_or_else(|e| panic!("migrates: {e}"));
    assert_eq!(report.kept, vec!["World"]);
    assert_eq!(*state.get::<v1::World>().unwrap(), v1_world());
}

pub mod renamed {
    pub mod v1 {
        use coo_runtime::CooType;

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Duo")]
        pub struct Duo<T> {
            pub a: T,
            pub b: T,
        }

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Holder")]
        pub struct Holder {
            pub duo: Duo<u16>,
        }
    }

    pub mod v2 {
        use coo_runtime::CooType;

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Pair", rename_from = "Duo")]
        pub struct Pair<T> {
            pub a: T,
            pub b: T,
        }

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Holder")]
        pub struct Holder {
            pub duo: Pair<u32>,
        }
    }

    pub mod v2_no_rename {
        use coo_runtime::CooType;

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Pair")]
        pub struct Pair<T> {
            pub a: T,
            pub b: T,
        }

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Holder")]
        pub struct Holder {
            pub duo: Pair<u32>,
        }
    }
}

#[test]
fn a_generic_type_renamed_with_rename_from_migrates() {
    let mut state = state_with(renamed::v1::Holder {
        duo: renamed::v1::Duo { a: 1, b: 65535 },
    });
    state
        .migrate_to(&catalog(&[renamed::v2::Holder::DESC]))
        .unwrap_or_else(|e| panic!("migrates: {e}"));
    assert_eq!(
        *state.get::<renamed::v2::Holder>().unwrap(),
        renamed::v2::Holder {
            duo: renamed::v2::Pair { a: 1, b: 65535 }
        }
    );
}

#[test]
fn a_generic_type_renamed_without_rename_from_is_refused_and_nothing_changes() {
    let mut state = state_with(renamed::v1::Holder {
        duo: renamed::v1::Duo { a: 1, b: 2 },
    });
    let err = state
        .migrate_to(&catalog(&[renamed::v2_no_rename::Holder::DESC]))
        .expect_err("`Duo<u16>` is not continued by `Pair<u32>`");
    let problems = problems(err);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::Incompatible);
    assert_eq!(p.field.as_deref(), Some("duo"));
    assert_eq!(p.old_ty.as_deref(), Some("Duo<u16>"));
    assert_eq!(p.new_ty.as_deref(), Some("Pair<u32>"));
    assert_eq!(
        *state.get::<renamed::v1::Holder>().unwrap(),
        renamed::v1::Holder {
            duo: renamed::v1::Duo { a: 1, b: 2 }
        }
    );
}

pub mod nested_new_field {
    pub mod v1 {
        use coo_runtime::CooType;

        #[derive(CooType, Debug, Default, PartialEq)]
        #[coo(name = "Pair")]
        pub struct Pair<T> {
            pub lo: T,
        }

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Outer")]
        pub struct Outer {
            pub pair: Pair<Pair<u8>>,
        }
    }

    pub mod v2 {
        use coo_runtime::CooType;

        /// Gains `hi: T`: for `Pair<Pair<u8>>`, a new `Pair<u8>`, whose `Default` Coo cannot see.
        #[derive(CooType, Debug, Default, PartialEq)]
        #[coo(name = "Pair")]
        pub struct Pair<T> {
            pub lo: T,
            pub hi: T,
        }

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Outer")]
        pub struct Outer {
            pub pair: Pair<Pair<u8>>,
        }
    }
}

#[test]
fn a_new_field_of_a_generic_instantiation_without_default_is_refused() {
    use nested_new_field::{v1, v2};
    let old = v1::Outer {
        pair: v1::Pair {
            lo: v1::Pair { lo: 9 },
        },
    };
    let mut state = state_with(old);
    let err = state
        .migrate_to(&catalog(&[v2::Outer::DESC]))
        .expect_err("`hi: Pair<u8>` has no default Coo can use");
    let problems = problems(err);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::NoDefault);
    assert_eq!(p.ty, "Pair<Pair<u8>>");
    assert_eq!(p.field.as_deref(), Some("hi"));
    assert_eq!(p.new_ty.as_deref(), Some("Pair<u8>"));
    assert_eq!(
        p.fix,
        "add `#[coo(default = ...)]` to field `hi` (Coo does not use the `Default` of an \
         instantiation of a generic type such as `Pair<u8>`), or `#[coo(rename_from = \"old_name\")]` \
         if it continues an old field"
    );
    assert_eq!(
        *state.get::<v1::Outer>().unwrap(),
        v1::Outer {
            pair: v1::Pair {
                lo: v1::Pair { lo: 9 }
            },
        }
    );
}
