//! In-process migration of enums whose representation changed: explicit discriminants and
//! `#[repr]`. Such an enum can keep its size, alignment and variants and still need every live
//! value rewritten: keeping it in place would turn a `Run` into an `Idle`, or leave a tag that
//! is no discriminant of the new type at all. Two versions of each type live in modules
//! `v1`/`v2`/… and share stable names through `#[coo(name)]`.
#![allow(missing_debug_implementations, dead_code)]

use coo_runtime::descriptors::layout::EnumRepr;
use coo_runtime::migration::diff::{FieldChange, TypeChange, VariantChange};
use coo_runtime::{Catalog, CooType, Prim, State, TypeDesc};

fn catalog(descs: &[&'static TypeDesc]) -> Catalog {
    Catalog::from_descs(descs.iter().copied()).expect("no duplicate names")
}

fn state_with<T: CooType>(value: T) -> State {
    let mut state = State::new();
    state.insert(value);
    state
}

mod swapped_discriminants {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, Clone, Copy, PartialEq)]
        #[coo(name = "Mode")]
        #[repr(u8)]
        pub enum Mode {
            Idle = 0,
            Run = 1,
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Machine")]
        pub struct Machine {
            pub mode: Mode,
            pub history: Vec<Mode>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug, Clone, Copy, PartialEq)]
        #[coo(name = "Mode")]
        #[repr(u8)]
        pub enum Mode {
            Idle = 1,
            Run = 0,
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Machine")]
        pub struct Machine {
            pub mode: Mode,
            pub history: Vec<Mode>,
        }
    }
    /// As v1, unchanged.
    pub mod v1_again {
        use super::*;
        #[derive(CooType, Debug, Clone, Copy, PartialEq)]
        #[coo(name = "Mode")]
        #[repr(u8)]
        pub enum Mode {
            Idle = 0,
            Run = 1,
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Machine")]
        pub struct Machine {
            pub mode: Mode,
            pub history: Vec<Mode>,
        }
    }

    fn machine() -> v1::Machine {
        v1::Machine {
            mode: v1::Mode::Run,
            history: vec![v1::Mode::Idle, v1::Mode::Run, v1::Mode::Run],
        }
    }

    #[test]
    fn swapped_discriminants_keep_every_live_variant() {
        let mut state = state_with(machine());
        let report = state.migrate_to(&catalog(&[v2::Machine::DESC])).unwrap();
        assert_eq!(report.migrated, vec!["Machine"]);
        let m = state.get::<v2::Machine>().expect("now a v2::Machine");
        assert_eq!(m.mode, v2::Mode::Run);
        assert_eq!(m.mode as u8, 0);
        assert_eq!(
            m.history,
            vec![v2::Mode::Idle, v2::Mode::Run, v2::Mode::Run]
        );
        let mode = report.ty("Mode").expect("`Mode` is reported");
        assert_eq!(mode.values, 4);
        assert_eq!(
            mode.diff.change,
            TypeChange::Enum {
                repr: None,
                variants: vec![kept("Idle", Some((0, 1))), kept("Run", Some((1, 0)))],
            }
        );
        let text = report.to_string();
        assert!(
            text.contains("Mode\n  ~ variant Idle\n      discriminant: 0 -> 1\n  ~ variant Run\n      discriminant: 1 -> 0\n  4 values migrated\n"),
            "{text}"
        );
    }

    #[test]
    fn the_same_representation_is_kept_in_place() {
        let mut state = state_with(machine());
        let before = state.resource("Machine").unwrap().as_ptr();
        let report = state
            .migrate_to(&catalog(&[v1_again::Machine::DESC]))
            .unwrap();
        assert_eq!(report.kept, vec!["Machine"]);
        assert!(report.types.is_empty(), "nothing changed: {report}");
        assert_eq!(state.resource("Machine").unwrap().as_ptr(), before);
        let m = state.get::<v1_again::Machine>().unwrap();
        assert_eq!(m.mode, v1_again::Mode::Run);
    }
}

/// A kept unit variant, with its discriminant change.
fn kept(name: &str, discriminant: Option<(i128, i128)>) -> VariantChange {
    VariantChange::Kept {
        old: name.to_owned(),
        new: name.to_owned(),
        fields: vec![],
        discriminant,
    }
}

mod implicit_discriminants {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Level")]
        pub enum Level {
            Low = 10,
            Mid,
            High,
        }
    }
    pub mod v2 {
        use super::*;
        /// `Low` moves to 11: the implicit `Mid` and `High` follow it, to 12 and 13, so the old
        /// byte of `Mid` (11) is the new `Low`.
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Level")]
        pub enum Level {
            Low = 11,
            Mid,
            High,
        }
    }

    #[test]
    fn a_moved_explicit_discriminant_moves_the_implicit_ones_after_it() {
        let mut state = state_with(v1::Level::Mid);
        state.migrate_to(&catalog(&[v2::Level::DESC])).unwrap();
        let level = state.get::<v2::Level>().unwrap();
        assert_eq!(*level, v2::Level::Mid);
    }
}

mod repr_change {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Cmd")]
        #[repr(u8)]
        pub enum Cmd {
            Stop,
            Go(u16),
        }
    }
    pub mod v2 {
        use super::*;
        /// The same size and alignment as v1 (a `u16` tag where v1 had a `u8` tag and a padding
        /// byte), the same variants and fields: only the `repr` tells them apart.
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Cmd")]
        #[repr(u16)]
        pub enum Cmd {
            Stop,
            Go(u16),
        }
    }

    #[test]
    fn a_changed_repr_is_migrated_by_variant() {
        assert_eq!(v1::Cmd::DESC.size(), v2::Cmd::DESC.size());
        assert_eq!(v1::Cmd::DESC.align(), v2::Cmd::DESC.align());
        let mut state = state_with(v1::Cmd::Go(700));
        let report = state.migrate_to(&catalog(&[v2::Cmd::DESC])).unwrap();
        assert_eq!(report.migrated, vec!["Cmd"]);
        assert!(report.kept.is_empty(), "{report}");
        assert_eq!(*state.get::<v2::Cmd>().unwrap(), v2::Cmd::Go(700));
        let u8_repr = EnumRepr {
            int: Some(Prim::U8),
            ..EnumRepr::RUST
        };
        let u16_repr = EnumRepr {
            int: Some(Prim::U16),
            ..EnumRepr::RUST
        };
        let cmd = report.ty("Cmd").unwrap();
        assert_eq!(
            cmd.diff.change,
            TypeChange::Enum {
                repr: Some((u8_repr, u16_repr)),
                variants: vec![
                    kept("Stop", None),
                    VariantChange::Kept {
                        old: "Go".into(),
                        new: "Go".into(),
                        fields: vec![FieldChange::Same {
                            name: "0".into(),
                            ty: "u16".into()
                        }],
                        discriminant: None,
                    },
                ],
            }
        );
        let text = report.to_string();
        assert!(
            text.contains("Cmd\n  ~ representation: #[repr(u8)] -> #[repr(u16)] (values rebuilt variant by variant)\n  1 value migrated\n"),
            "{text}"
        );
    }
}

mod repr_c_added {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Shot")]
        pub enum Shot {
            Miss,
            Hit(u8, u32),
            Graze { by: u16 },
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Range")]
        pub struct Range {
            pub shots: Vec<Shot>,
        }
    }
    pub mod v2 {
        use super::*;
        /// `repr(C)` lays the fields out in declaration order after a C-sized tag, where rustc
        /// is free to reorder them and to use a smaller tag.
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Shot")]
        #[repr(C)]
        pub enum Shot {
            Miss,
            Hit(u8, u32),
            Graze { by: u16 },
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Range")]
        pub struct Range {
            pub shots: Vec<Shot>,
        }
    }

    #[test]
    fn adding_repr_c_to_an_enum_with_fields_migrates_its_values() {
        let mut state = state_with(v1::Range {
            shots: vec![
                v1::Shot::Hit(7, 90_000),
                v1::Shot::Miss,
                v1::Shot::Graze { by: 513 },
            ],
        });
        let report = state.migrate_to(&catalog(&[v2::Range::DESC])).unwrap();
        assert_eq!(report.migrated, vec!["Range"]);
        assert_eq!(
            state.get::<v2::Range>().unwrap().shots,
            vec![
                v2::Shot::Hit(7, 90_000),
                v2::Shot::Miss,
                v2::Shot::Graze { by: 513 },
            ]
        );
        let shot = report.ty("Shot").unwrap();
        assert!(
            matches!(
                &shot.diff.change,
                TypeChange::Enum { repr: Some((old, new)), .. }
                    if *old == EnumRepr::RUST && *new == EnumRepr { c: true, ..EnumRepr::RUST }
            ),
            "{:?}",
            shot.diff
        );
    }
}

/// Explicit discriminants of an enum with fields cannot be read with `as`: the derive evaluates
/// their expressions again as constants.
mod data_enum_discriminants {
    use super::*;
    pub mod v1 {
        use super::*;
        pub const BASE: i32 = 100;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Job")]
        #[repr(i32)]
        pub enum Job {
            Wait = BASE,
            Work(u32) = BASE + 10,
            Done { code: i8 },
        }
    }
    pub mod v2 {
        use super::*;
        pub const BASE: i32 = -100;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Job")]
        #[repr(i32)]
        pub enum Job {
            Wait = BASE,
            Work(u32) = BASE + 10,
            Done { code: i8 },
        }
    }
    /// As v1, with the same values spelled differently.
    pub mod v1_respelled {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Job")]
        #[repr(i32)]
        pub enum Job {
            Wait = 50 * 2,
            Work(u32) = 110,
            Done { code: i8 } = 111,
        }
    }

    #[test]
    fn moved_discriminants_of_an_enum_with_fields_keep_variant_and_fields() {
        for (old, new) in [
            (v1::Job::Work(31), v2::Job::Work(31)),
            (v1::Job::Done { code: -3 }, v2::Job::Done { code: -3 }),
            (v1::Job::Wait, v2::Job::Wait),
        ] {
            let mut state = state_with(old);
            let report = state.migrate_to(&catalog(&[v2::Job::DESC])).unwrap();
            assert_eq!(report.migrated, vec!["Job"]);
            assert_eq!(*state.get::<v2::Job>().unwrap(), new);
            let TypeChange::Enum { repr, variants } = &report.ty("Job").unwrap().diff.change else {
                panic!("`Job` is an enum");
            };
            assert_eq!(*repr, None);
            let moves: Vec<_> = variants
                .iter()
                .map(|v| match v {
                    VariantChange::Kept { discriminant, .. } => *discriminant,
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(
                moves,
                [Some((100, -100)), Some((110, -90)), Some((111, -89))]
            );
        }
    }

    #[test]
    fn equal_discriminants_spelled_differently_are_unchanged() {
        let mut state = state_with(v1::Job::Done { code: 9 });
        let report = state
            .migrate_to(&catalog(&[v1_respelled::Job::DESC]))
            .unwrap();
        assert_eq!(report.kept, vec!["Job"]);
        assert_eq!(
            *state.get::<v1_respelled::Job>().unwrap(),
            v1_respelled::Job::Done { code: 9 }
        );
    }
}
