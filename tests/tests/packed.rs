//! `#[repr(packed)]` structs as live state: in-process migrations of packed structs whose fields
//! lie unaligned (widened, added, removed, renamed, converted through typed glue, nested, in a
//! `Vec`), packing changes, and refusals that leave the state as it was. These run under Miri
//! too (`.ci/run`), which fails on any reference to, or typed access of, an unaligned field.
#![allow(missing_debug_implementations, dead_code)]
// Plain `#[repr(packed)]` and `#[repr(packed(N))]` too: the spellings users write.
#![allow(clippy::repr_packed_without_abi)]

use coo_runtime::migration::casts::InexactCast;
use coo_runtime::migration::diff::TypeChange;
use coo_runtime::{
    Catalog, CooType, ExecuteError, ExecuteErrorKind, MigrationError, State, TypeDesc,
};

fn catalog(descs: &[&'static TypeDesc]) -> Catalog {
    Catalog::from_descs(descs.iter().copied()).expect("no duplicate names")
}

fn state_with<T: CooType>(value: T) -> State {
    let mut state = State::new();
    state.insert(value);
    state
}

fn migrate(
    state: &mut State,
    new: &[&'static TypeDesc],
) -> Result<coo_runtime::Report, MigrationError> {
    state.migrate_to(&catalog(new))
}

mod fields {
    use super::*;

    pub mod v1 {
        use super::*;
        #[derive(CooType, Clone, Copy, PartialEq, Debug)]
        #[coo(name = "Mode")]
        pub enum Mode {
            Idle,
            Run(u16),
        }

        /// `tag` puts every later field at an odd offset.
        #[derive(CooType)]
        #[coo(name = "Rec")]
        #[repr(packed)]
        pub struct Rec {
            pub tag: u8,
            pub hp: u16,
            pub speed: u32,
            pub gone: u64,
            pub old_name: i16,
            pub mode: Mode,
            pub limit: Option<u16>,
            pub pos: [u16; 2],
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Clone, Copy, PartialEq, Debug)]
        #[coo(name = "Mode")]
        pub enum Mode {
            Idle,
            Run(u32),
            Jump,
        }

        #[derive(CooType)]
        #[coo(name = "Rec")]
        #[repr(packed)]
        pub struct Rec {
            pub tag: u8,
            /// Widened.
            pub hp: u32,
            /// Added, with a literal default (its bytes).
            #[coo(default = 7)]
            pub armor: u16,
            /// Added, with its type's `Default` (the option's glue).
            pub shield: Option<u64>,
            pub speed: u32,
            #[coo(rename_from = "old_name")]
            pub new_name: i16,
            /// The enum changed: rebuilt through its glue.
            pub mode: Mode,
            pub limit: Option<u32>,
            pub pos: [u32; 2],
        }
    }

    fn rec(hp: u16) -> v1::Rec {
        v1::Rec {
            tag: 9,
            hp,
            speed: 70_000,
            gone: u64::MAX,
            old_name: -3,
            mode: v1::Mode::Run(513),
            limit: Some(4),
            pos: [1, 65_535],
        }
    }

    #[test]
    fn unaligned_fields_are_widened_added_removed_renamed_and_converted() {
        let mut state = state_with(rec(60_000));
        let report = migrate(&mut state, &[v2::Rec::DESC]).unwrap();
        assert_eq!(report.ty("Rec").unwrap().values, 1);
        let r = state.get::<v2::Rec>().unwrap();
        let (tag, hp, armor, shield, speed) = (r.tag, r.hp, r.armor, r.shield, r.speed);
        let (new_name, mode, limit, pos) = (r.new_name, r.mode, r.limit, r.pos);
        assert_eq!(
            (tag, hp, armor, shield, speed),
            (9, 60_000, 7, None, 70_000)
        );
        assert_eq!(new_name, -3);
        assert_eq!(mode, v2::Mode::Run(513));
        assert_eq!(limit, Some(4));
        assert_eq!(pos, [1, 65_535]);
    }

    #[test]
    fn a_vec_of_ten_thousand_packed_structs_migrates() {
        #[derive(CooType)]
        #[coo(name = "Recs")]
        struct Recs1 {
            list: Vec<v1::Rec>,
        }
        #[derive(CooType)]
        #[coo(name = "Recs")]
        struct Recs2 {
            list: Vec<v2::Rec>,
        }
        // Fewer under Miri, which interprets every byte copied.
        let n = if cfg!(miri) { 100 } else { 10_000 };
        let list = (0..n).map(|i| rec(i as u16)).collect();
        let mut state = state_with(Recs1 { list });
        let report = migrate(&mut state, &[Recs2::DESC]).unwrap();
        assert_eq!(report.ty("Rec").unwrap().values, n);
        let recs = state.get::<Recs2>().unwrap();
        assert_eq!(recs.list.len(), n as usize);
        for (i, r) in recs.list.iter().enumerate() {
            let (hp, armor, name, mode) = (r.hp, r.armor, r.new_name, r.mode);
            assert_eq!(
                (hp, armor, name, mode),
                (i as u32, 7, -3, v2::Mode::Run(513))
            );
        }
    }
}

mod plain_fields {
    use super::*;

    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Cell")]
        #[repr(C, packed)]
        pub struct Cell {
            pub flag: u8,
            pub small: u16,
            pub big: u64,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Cell")]
        #[repr(C, packed)]
        pub struct Cell {
            pub flag: u8,
            pub small: u32,
            pub big: u32,
            #[coo(default = 2.5)]
            pub scale: f32,
        }
    }

    #[derive(CooType)]
    #[coo(name = "Cells")]
    pub struct Cells1 {
        pub list: Vec<v1::Cell>,
    }
    #[derive(CooType)]
    #[coo(name = "Cells")]
    pub struct Cells2 {
        pub list: Vec<v2::Cell>,
    }

    fn cells(n: usize, last_big: u64) -> Cells1 {
        let mut list: Vec<v1::Cell> = (0..n)
            .map(|i| v1::Cell {
                flag: 1,
                small: i as u16,
                big: i as u64 * 3,
            })
            .collect();
        list[n - 1].big = last_big;
        Cells1 { list }
    }

    #[test]
    fn a_vec_of_ten_thousand_flat_packed_structs_migrates() {
        let n = if cfg!(miri) { 100 } else { 10_000 };
        let mut state = state_with(cells(n, 5));
        migrate(&mut state, &[Cells2::DESC]).unwrap();
        let list = &state.get::<Cells2>().unwrap().list;
        assert_eq!(list.len(), n);
        for (i, c) in list.iter().enumerate() {
            let (flag, small, big, scale) = (c.flag, c.small, c.big, c.scale);
            let want_big = if i == n - 1 { 5 } else { i as u32 * 3 };
            assert_eq!((flag, small, big, scale), (1, i as u32, want_big, 2.5));
        }
    }

    #[test]
    fn checked_narrowing_overflow_names_the_field_and_changes_nothing() {
        let n = if cfg!(miri) { 100 } else { 10_000 };
        let mut state = state_with(cells(n, 1 << 40));
        let before = state.resource("Cells").unwrap().as_ptr();
        let err = match migrate(&mut state, &[Cells2::DESC]).unwrap_err() {
            MigrationError::Migrate(e) => e,
            other => panic!("expected a migrate error, got {other}"),
        };
        match &err {
            ExecuteError {
                path,
                kind: ExecuteErrorKind::CheckedCast(InexactCast { from, to, value }),
            } => {
                assert_eq!(path.to_string(), format!("Cells.list[{}].big", n - 1));
                assert_eq!((from.name(), to.name()), ("u64", "u32"));
                assert_eq!(value, &(1u64 << 40).to_string());
            }
            other => panic!("{other}"),
        }
        assert_eq!(state.resource("Cells").unwrap().as_ptr(), before);
        let list = &state.get::<Cells1>().unwrap().list;
        let (small, big) = (list[n - 1].small, list[n - 1].big);
        assert_eq!((list.len(), small, big), (n, (n - 1) as u16, 1 << 40));
    }
}

mod nesting {
    use super::*;

    pub mod v1 {
        use super::*;
        #[derive(CooType, Clone, Copy)]
        #[coo(name = "Inner")]
        pub struct Inner {
            pub a: u16,
            pub b: u32,
        }
        #[derive(CooType, Clone, Copy)]
        #[coo(name = "Pk")]
        #[repr(packed(2))]
        pub struct Pk {
            pub x: u8,
            pub inner: Inner,
            pub y: u64,
        }
        #[derive(CooType)]
        #[coo(name = "Outer")]
        pub struct Outer {
            pub name: String,
            pub pk: Pk,
            pub pks: Vec<Pk>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Clone, Copy)]
        #[coo(name = "Inner")]
        pub struct Inner {
            pub a: u64,
            #[coo(default = Some(3))]
            pub c: Option<u8>,
            pub b: u32,
        }
        #[derive(CooType, Clone, Copy)]
        #[coo(name = "Pk")]
        #[repr(packed(2))]
        pub struct Pk {
            pub x: u8,
            pub inner: Inner,
            pub y: u64,
        }
        #[derive(CooType)]
        #[coo(name = "Outer")]
        pub struct Outer {
            pub name: String,
            pub pk: Pk,
            pub pks: Vec<Pk>,
        }
    }

    fn pk(i: u16) -> v1::Pk {
        v1::Pk {
            x: 1,
            inner: v1::Inner {
                a: i,
                b: u32::from(i) + 1,
            },
            y: 99,
        }
    }

    #[test]
    fn a_changed_struct_inside_a_packed_struct_inside_a_struct_migrates() {
        let mut state = state_with(v1::Outer {
            name: "o".into(),
            pk: pk(5),
            pks: (0..300).map(pk).collect(),
        });
        let report = migrate(&mut state, &[v2::Outer::DESC]).unwrap();
        assert_eq!(report.ty("Inner").unwrap().values, 301);
        let o = state.get::<v2::Outer>().unwrap();
        assert_eq!(o.name, "o");
        let check = |p: &v2::Pk, i: u64| {
            let (x, inner, y) = (p.x, p.inner, p.y);
            assert_eq!(
                (x, inner.a, inner.c, inner.b, y),
                (1, i, Some(3), i as u32 + 1, 99)
            );
        };
        check(&o.pk, 5);
        assert_eq!(o.pks.len(), 300);
        for (i, p) in o.pks.iter().enumerate() {
            check(p, i as u64);
        }
    }
}

mod packing {
    use super::*;

    pub mod packed {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Hdr")]
        #[repr(C, packed)]
        pub struct Hdr {
            pub kind: u8,
            pub len: u32,
            pub mode: Option<u16>,
        }
    }
    pub mod unpacked {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Hdr")]
        #[repr(C)]
        pub struct Hdr {
            pub kind: u8,
            pub len: u32,
            pub mode: Option<u16>,
        }
    }
    pub mod packed4 {
        use super::*;
        /// The same bytes as `unpacked4::Hdr4`: `packed(4)` moves nothing here.
        #[derive(CooType)]
        #[coo(name = "Hdr4")]
        #[repr(C, packed(4))]
        pub struct Hdr4 {
            pub a: u32,
            pub b: u16,
        }
    }
    pub mod unpacked4 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Hdr4")]
        #[repr(C)]
        pub struct Hdr4 {
            pub a: u32,
            pub b: u16,
        }
    }
    pub mod packed4_again {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Hdr4")]
        #[repr(C, packed(4))]
        pub struct Hdr4 {
            pub a: u32,
            pub b: u16,
        }
    }

    #[test]
    fn packed_to_not_packed_and_back_keeps_the_values() {
        let mut state = state_with(packed::Hdr {
            kind: 3,
            len: 0xDEAD_BEEF,
            mode: Some(600),
        });
        let report = migrate(&mut state, &[unpacked::Hdr::DESC]).unwrap();
        assert_eq!(report.ty("Hdr").unwrap().values, 1);
        let h = state.get::<unpacked::Hdr>().unwrap();
        assert_eq!((h.kind, h.len, h.mode), (3, 0xDEAD_BEEF, Some(600)));
        migrate(&mut state, &[packed::Hdr::DESC]).unwrap();
        let h = state.get::<packed::Hdr>().unwrap();
        let (kind, len, mode) = (h.kind, h.len, h.mode);
        assert_eq!((kind, len, mode), (3, 0xDEAD_BEEF, Some(600)));
    }

    #[test]
    fn a_changed_packing_is_a_change_even_where_the_bytes_lie_alike() {
        assert_eq!(packed4::Hdr4::DESC.size(), unpacked4::Hdr4::DESC.size());
        assert_eq!(packed4::Hdr4::DESC.align(), unpacked4::Hdr4::DESC.align());
        let mut state = state_with(packed4::Hdr4 { a: 41, b: 2 });
        let report = migrate(&mut state, &[unpacked4::Hdr4::DESC]).unwrap();
        assert!(report.kept.is_empty(), "{report}");
        let diff = &report.ty("Hdr4").expect("Hdr4 changed").diff;
        assert!(
            matches!(
                &diff.change,
                TypeChange::Struct { packing: Some((Some(4), None)), fields }
                    if fields.iter().all(|f| !f.is_change())
            ),
            "{diff:?}"
        );
        assert_eq!(
            diff.to_string(),
            "Hdr4\n  ~ packing: #[repr(packed(4))] -> not packed\n"
        );
        let h = state.get::<unpacked4::Hdr4>().unwrap();
        assert_eq!((h.a, h.b), (41, 2));
        // The same packing again: kept in place.
        let report = migrate(&mut state, &[packed4_again::Hdr4::DESC]).unwrap();
        assert!(report.ty("Hdr4").is_some());
        let report = migrate(&mut state, &[packed4::Hdr4::DESC]).unwrap();
        assert_eq!(report.kept, vec!["Hdr4"]);
        let h = state.get::<packed4::Hdr4>().unwrap();
        let (a, b) = (h.a, h.b);
        assert_eq!((a, b), (41, 2));
    }
}
