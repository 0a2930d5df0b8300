//! `#[coo(opaque)]` fields of foreign types (`std::time::Duration`, a math crate's `Vec3`):
//! described by Rust type name, size and alignment, moved bitwise while those stay the same,
//! refused when they change unless a migration hook builds the field, and given their
//! `Default` when new.
#![allow(missing_debug_implementations, dead_code)]

use std::cell::Cell;
use std::time::Duration;

use coo_runtime::descriptors::layout::shape_text;
use coo_runtime::{
    Catalog, CooType, MigrationError, ProblemKind, ShapeKind, State, TypeDesc, ValueView,
};

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

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

/// Stand-ins for a foreign math crate, in two versions: neither derives `CooType`.
pub mod glam_v1 {
    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    pub struct Vec3 {
        pub x: f32,
        pub y: f32,
        pub z: f32,
    }
}

pub mod glam_v2 {
    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    pub struct Vec3 {
        pub x: f64,
        pub y: f64,
        pub z: f64,
    }
}

/// A foreign type with drop glue, whose drops are counted.
#[derive(Debug, PartialEq)]
pub struct Token(pub String);

impl Drop for Token {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

pub mod v1 {
    use super::*;

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Ship")]
    pub struct Ship {
        #[coo(opaque)]
        pub cooldown: Duration,
        #[coo(opaque)]
        pub pos: glam_v1::Vec3,
        #[coo(opaque)]
        pub token: Token,
        pub hp: u32,
    }
}

/// `hp` widened and `shield` added: the opaque fields are moved as they are.
pub mod v2 {
    use super::*;

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Ship")]
    pub struct Ship {
        pub hp: u64,
        #[coo(opaque)]
        pub pos: glam_v1::Vec3,
        #[coo(opaque)]
        pub cooldown: Duration,
        #[coo(opaque)]
        pub token: Token,
        /// New, and of a foreign type with `Default`.
        #[coo(opaque)]
        pub spin: glam_v1::Vec3,
    }
}

/// `pos` became another foreign type (other name, size and alignment).
pub mod v3 {
    use super::*;

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Ship")]
    pub struct Ship {
        #[coo(opaque)]
        pub cooldown: Duration,
        #[coo(opaque)]
        pub pos: glam_v2::Vec3,
        #[coo(opaque)]
        pub token: Token,
        pub hp: u32,
    }
}

/// As `v3`, with a hook that builds `pos` from the old value.
pub mod v3_hook {
    use super::*;

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Ship", migrate = widen_pos)]
    pub struct Ship {
        #[coo(opaque)]
        pub cooldown: Duration,
        #[coo(opaque)]
        pub pos: glam_v2::Vec3,
        pub hp: u32,
    }

    fn widen_pos(old: &ValueView<'_>, new: &mut Ship) -> Result<(), String> {
        let field = old.field("pos").map_err(|e| e.to_string())?;
        let pos: &glam_v1::Vec3 = field.opaque().map_err(|e| e.to_string())?;
        new.pos = glam_v2::Vec3 {
            x: f64::from(pos.x),
            y: f64::from(pos.y),
            z: f64::from(pos.z),
        };
        Ok(())
    }
}

/// A new opaque field whose type has no `Default`.
pub mod v4 {
    use super::*;

    #[derive(Debug)]
    pub struct NoDefault(pub u8);

    #[derive(CooType, Debug)]
    #[coo(name = "Ship")]
    pub struct Ship {
        #[coo(opaque)]
        pub cooldown: Duration,
        #[coo(opaque)]
        pub pos: glam_v1::Vec3,
        #[coo(opaque)]
        pub token: Token,
        pub hp: u32,
        #[coo(opaque)]
        pub extra: NoDefault,
    }
}

fn v1_ship() -> v1::Ship {
    v1::Ship {
        cooldown: Duration::from_millis(1500),
        pos: glam_v1::Vec3 {
            x: 1.0,
            y: -2.5,
            z: 3.25,
        },
        token: Token("alpha".into()),
        hp: 70,
    }
}

#[test]
fn an_opaque_field_is_described_by_type_name_size_and_alignment() {
    let fields = v1::Ship::DESC.struct_fields().expect("a struct");
    let cooldown = fields[0].shape();
    assert!(matches!(cooldown.kind(), ShapeKind::Opaque(_)));
    assert_eq!(cooldown.type_name(), "core::time::Duration");
    assert_eq!((cooldown.size(), cooldown.align()), (16, 8));
    assert!(!cooldown.needs_drop());
    assert_eq!(shape_text(cooldown), "core::time::Duration");
    let token = fields[2].shape();
    assert_eq!(token.type_name(), "opaque::Token");
    assert!(token.needs_drop());
    let ShapeKind::Opaque(glue) = fields[1].shape().kind() else {
        unreachable!()
    };
    assert!(glue.has_default());
    assert!(glue.json().is_none());
    let value = v1_ship();
    let p = core::ptr::from_ref(&value.pos).cast::<u8>();
    // SAFETY: `p` is a valid `glam_v1::Vec3`, the field's type.
    let shown = unsafe { glue.debug(p) };
    assert_eq!(shown.as_deref(), Ok("Vec3 { x: 1.0, y: -2.5, z: 3.25 }"));
}

#[test]
fn opaque_values_move_bitwise_and_a_new_one_takes_its_default() {
    DROPS.with(|d| d.set(0));
    let mut state = state_with(v1_ship());
    state
        .migrate_to(&catalog(&[v2::Ship::DESC]))
        .unwrap_or_else(|e| panic!("migrates: {e}"));
    assert_eq!(DROPS.with(Cell::get), 0, "the token was moved, not dropped");
    let ship = state.get::<v2::Ship>().expect("now a v2::Ship");
    assert_eq!(
        *ship,
        v2::Ship {
            hp: 70,
            pos: glam_v1::Vec3 {
                x: 1.0,
                y: -2.5,
                z: 3.25
            },
            cooldown: Duration::from_millis(1500),
            token: Token("alpha".into()),
            spin: glam_v1::Vec3::default(),
        }
    );
    drop(state);
    // The state's token, and the one built for the comparison above.
    assert_eq!(DROPS.with(Cell::get), 2);
}

#[test]
fn a_changed_opaque_type_is_refused_naming_the_field_and_both_layouts() {
    let mut state = state_with(v1_ship());
    let err = state
        .migrate_to(&catalog(&[v3::Ship::DESC]))
        .expect_err("`pos` changed its foreign type");
    let problems = problems(err);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::OpaqueChanged);
    assert_eq!(p.ty, "Ship");
    assert_eq!(p.field.as_deref(), Some("pos"));
    assert_eq!(
        p.old_ty.as_deref(),
        Some("opaque::glam_v1::Vec3 (12 bytes, align 4)")
    );
    assert_eq!(
        p.new_ty.as_deref(),
        Some("opaque::glam_v2::Vec3 (24 bytes, align 8)")
    );
    assert_eq!(
        p.fix,
        "Coo moves an opaque value only while its type name, size and alignment stay the same; \
         add `#[coo(migrate = your_fn)]` to `Ship` and set the field there from the old value \
         (the field starts as its type's `Default`)"
    );
    assert_eq!(*state.get::<v1::Ship>().expect("unchanged"), v1_ship());
}

#[test]
fn a_hook_builds_a_changed_opaque_field_from_the_old_value() {
    let mut state = state_with(v1_ship());
    state
        .migrate_to(&catalog(&[v3_hook::Ship::DESC]))
        .unwrap_or_else(|e| panic!("migrates: {e}"));
    let ship = state.get::<v3_hook::Ship>().expect("now a v3_hook::Ship");
    assert_eq!(
        *ship,
        v3_hook::Ship {
            cooldown: Duration::from_millis(1500),
            pos: glam_v2::Vec3 {
                x: 1.0,
                y: -2.5,
                z: 3.25
            },
            hp: 70,
        }
    );
}

#[test]
fn a_new_opaque_field_without_default_is_refused() {
    let mut state = state_with(v1_ship());
    let err = state
        .migrate_to(&catalog(&[v4::Ship::DESC]))
        .expect_err("`extra` has no default");
    let problems = problems(err);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::NoDefault);
    assert_eq!(p.field.as_deref(), Some("extra"));
    assert_eq!(p.new_ty.as_deref(), Some("opaque::v4::NoDefault"));
    assert_eq!(*state.get::<v1::Ship>().expect("unchanged"), v1_ship());
}

#[test]
fn an_unchanged_type_with_opaque_fields_is_kept_in_place() {
    let mut state = state_with(v1_ship());
    let report = state
        .migrate_to(&catalog(&[v1::Ship::DESC]))
        .unwrap_or_else(|e| panic!("migrates: {e}"));
    assert_eq!(report.kept, vec!["Ship"]);
}
