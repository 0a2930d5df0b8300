//! TEMPORARY: the exact shape of code `#[derive(CooType)]` must generate, written by hand to pin
//! the contract while the derive is being written. Delete once the derive exists.
#![allow(dead_code, missing_debug_implementations)]

use coo_runtime::{CooType, OldValue};

pub struct Vec2 {
    x: f32,
    y: f32,
}

pub struct Particle {
    pos: Vec2,
    mass: f32,
    name: String,
    kids: Vec<Particle>,
}

#[derive(Default)]
pub enum Mode {
    #[default]
    Idle,
    Moving(f32, f32),
    Frozen {
        reason: String,
    },
}

fn fix_particle(old: &OldValue<'_>, new: &mut Particle) -> Result<(), String> {
    new.mass = old.get::<f32>("mass").map_err(|e| e.to_string())?;
    Ok(())
}

// --- expansion of `#[derive(CooType)] struct Vec2 { x: f32, y: f32 }` (no Default) ---
const _: () = {
    use ::coo_runtime::__private as __coo;
    fn __coo_type_name() -> &'static str {
        "Vec2"
    }
    fn __coo_default() -> ::core::option::Option<__coo::WriteFn> {
        #[allow(unused_imports)]
        use __coo::{HasDefault as _, NoDefault as _};
        (&__coo::DefaultProbe::<Vec2>::NEW).default_writer()
    }
    static __COO_DESC: __coo::TypeDesc = __coo::TypeDesc {
        name: "Vec2",
        rust_name: ::core::concat!(::core::module_path!(), "::", "Vec2"),
        rename_from: &[],
        size: ::core::mem::size_of::<Vec2>(),
        align: ::core::mem::align_of::<Vec2>(),
        needs_drop: ::core::mem::needs_drop::<Vec2>(),
        kind: __coo::TypeKind::Struct(__coo::StructDesc {
            style: __coo::FieldsStyle::Named,
            fields: &[
                __coo::FieldDesc {
                    name: "x",
                    offset: ::core::mem::offset_of!(Vec2, x),
                    shape: <f32 as __coo::CooField>::shape,
                    rename_from: &[],
                    default: ::core::option::Option::None,
                },
                __coo::FieldDesc {
                    name: "y",
                    offset: ::core::mem::offset_of!(Vec2, y),
                    shape: <f32 as __coo::CooField>::shape,
                    rename_from: &[],
                    default: ::core::option::Option::None,
                },
            ],
        }),
        glue: &__coo::TypeGlue {
            drop: __coo::drop_glue::<Vec2>,
            default: __coo_default,
            hook: ::core::option::Option::None,
        },
    };
    #[automatically_derived]
    // SAFETY: the shape is the one of a nested `CooType` described by `__COO_DESC`.
    unsafe impl __coo::CooField for Vec2 {
        const SHAPE: &'static __coo::Shape = &__coo::Shape {
            size: ::core::mem::size_of::<Vec2>(),
            align: ::core::mem::align_of::<Vec2>(),
            needs_drop: ::core::mem::needs_drop::<Vec2>(),
            drop: __coo::drop_glue::<Vec2>,
            type_name: __coo_type_name,
            kind: __coo::ShapeKind::Named(<Vec2 as __coo::CooType>::desc),
        };
    }
    #[automatically_derived]
    // SAFETY: `__COO_DESC` is built from `size_of`, `align_of` and `offset_of!` of this type.
    unsafe impl __coo::CooType for Vec2 {
        const DESC: &'static __coo::TypeDesc = &__COO_DESC;
    }
    // Field types must be `CooField`s (error spanned on the field type).
    const _: () = __coo::assert_field::<f32>();
    __coo::inventory::submit! { __coo::TypeRegistration(<Vec2 as __coo::CooType>::desc) }
};

// --- expansion of a struct with `#[coo(migrate = fix_particle)]`, a `#[coo(default = 1.0)]`
// field `mass`, and a recursive `kids: Vec<Particle>` ---
const _: () = {
    use ::coo_runtime::__private as __coo;
    fn __coo_type_name() -> &'static str {
        "Particle"
    }
    fn __coo_default() -> ::core::option::Option<__coo::WriteFn> {
        #[allow(unused_imports)]
        use __coo::{HasDefault as _, NoDefault as _};
        (&__coo::DefaultProbe::<Particle>::NEW).default_writer()
    }
    unsafe fn __coo_default_mass(
        dst: *mut u8,
    ) -> ::core::result::Result<(), ::std::string::String> {
        let value: f32 = __coo::catch(|| 1.0)?;
        // SAFETY: migration passes memory valid for writes of the field's type.
        unsafe { dst.cast::<f32>().write(value) };
        ::core::result::Result::Ok(())
    }
    unsafe fn __coo_hook(
        old: &__coo::OldValue<'_>,
        new: *mut u8,
    ) -> ::core::result::Result<(), ::std::string::String> {
        // SAFETY: migration passes a valid, unaliased `Particle` at `new`.
        unsafe { __coo::run_hook::<Particle, _>(fix_particle, old, new) }
    }
    static __COO_DESC: __coo::TypeDesc = __coo::TypeDesc {
        name: "Particle",
        rust_name: ::core::concat!(::core::module_path!(), "::", "Particle"),
        rename_from: &["Dot"],
        size: ::core::mem::size_of::<Particle>(),
        align: ::core::mem::align_of::<Particle>(),
        needs_drop: ::core::mem::needs_drop::<Particle>(),
        kind: __coo::TypeKind::Struct(__coo::StructDesc {
            style: __coo::FieldsStyle::Named,
            fields: &[
                __coo::FieldDesc {
                    name: "pos",
                    offset: ::core::mem::offset_of!(Particle, pos),
                    shape: <Vec2 as __coo::CooField>::shape,
                    rename_from: &[],
                    default: ::core::option::Option::None,
                },
                __coo::FieldDesc {
                    name: "mass",
                    offset: ::core::mem::offset_of!(Particle, mass),
                    shape: <f32 as __coo::CooField>::shape,
                    rename_from: &[],
                    default: ::core::option::Option::Some(__coo_default_mass),
                },
                __coo::FieldDesc {
                    name: "name",
                    offset: ::core::mem::offset_of!(Particle, name),
                    shape: <String as __coo::CooField>::shape,
                    rename_from: &["label"],
                    default: ::core::option::Option::None,
                },
                __coo::FieldDesc {
                    name: "kids",
                    offset: ::core::mem::offset_of!(Particle, kids),
                    shape: <Vec<Particle> as __coo::CooField>::shape,
                    rename_from: &[],
                    default: ::core::option::Option::None,
                },
            ],
        }),
        glue: &__coo::TypeGlue {
            drop: __coo::drop_glue::<Particle>,
            default: __coo_default,
            hook: ::core::option::Option::Some(__coo_hook),
        },
    };
    #[automatically_derived]
    // SAFETY: see above.
    unsafe impl __coo::CooField for Particle {
        const SHAPE: &'static __coo::Shape = &__coo::Shape {
            size: ::core::mem::size_of::<Particle>(),
            align: ::core::mem::align_of::<Particle>(),
            needs_drop: ::core::mem::needs_drop::<Particle>(),
            drop: __coo::drop_glue::<Particle>,
            type_name: __coo_type_name,
            kind: __coo::ShapeKind::Named(<Particle as __coo::CooType>::desc),
        };
    }
    #[automatically_derived]
    // SAFETY: see above.
    unsafe impl __coo::CooType for Particle {
        const DESC: &'static __coo::TypeDesc = &__COO_DESC;
    }
    __coo::inventory::submit! { __coo::TypeRegistration(<Particle as __coo::CooType>::desc) }
};

// --- expansion of the enum `Mode` ---
const _: () = {
    use ::coo_runtime::__private as __coo;
    fn __coo_type_name() -> &'static str {
        "Mode"
    }
    fn __coo_default() -> ::core::option::Option<__coo::WriteFn> {
        #[allow(unused_imports)]
        use __coo::{HasDefault as _, NoDefault as _};
        (&__coo::DefaultProbe::<Mode>::NEW).default_writer()
    }
    unsafe fn __coo_read(value: *const u8, out: *mut *const u8) -> usize {
        // SAFETY: migration passes a valid `Mode` and room for the largest variant's fields.
        unsafe {
            match &*value.cast::<Mode>() {
                Mode::Idle => 0,
                Mode::Moving(f0, f1) => {
                    *out.add(0) = (f0 as *const f32).cast();
                    *out.add(1) = (f1 as *const f32).cast();
                    1
                }
                Mode::Frozen { reason } => {
                    *out.add(0) = (reason as *const String).cast();
                    2
                }
            }
        }
    }
    unsafe fn __coo_write(dst: *mut u8, variant: usize, fields: *const *mut u8) {
        // SAFETY: migration passes memory valid for writes of a `Mode`, and for the variant's
        // fields valid values that it will not drop again.
        unsafe {
            let value = match variant {
                0 => Mode::Idle,
                1 => Mode::Moving(
                    (*fields.add(0)).cast::<f32>().read(),
                    (*fields.add(1)).cast::<f32>().read(),
                ),
                2 => Mode::Frozen {
                    reason: (*fields.add(0)).cast::<String>().read(),
                },
                _ => ::core::unreachable!("`Mode` has 3 variants"),
            };
            dst.cast::<Mode>().write(value);
        }
    }
    static __COO_DESC: __coo::TypeDesc = __coo::TypeDesc {
        name: "Mode",
        rust_name: ::core::concat!(::core::module_path!(), "::", "Mode"),
        rename_from: &[],
        size: ::core::mem::size_of::<Mode>(),
        align: ::core::mem::align_of::<Mode>(),
        needs_drop: ::core::mem::needs_drop::<Mode>(),
        kind: __coo::TypeKind::Enum(__coo::EnumDesc {
            variants: &[
                __coo::VariantDesc {
                    name: "Idle",
                    style: __coo::FieldsStyle::Unit,
                    fields: &[],
                    rename_from: &[],
                },
                __coo::VariantDesc {
                    name: "Moving",
                    style: __coo::FieldsStyle::Tuple,
                    fields: &[
                        __coo::FieldDesc {
                            name: "0",
                            offset: __coo::FieldDesc::NO_OFFSET,
                            shape: <f32 as __coo::CooField>::shape,
                            rename_from: &[],
                            default: ::core::option::Option::None,
                        },
                        __coo::FieldDesc {
                            name: "1",
                            offset: __coo::FieldDesc::NO_OFFSET,
                            shape: <f32 as __coo::CooField>::shape,
                            rename_from: &[],
                            default: ::core::option::Option::None,
                        },
                    ],
                    rename_from: &[],
                },
                __coo::VariantDesc {
                    name: "Frozen",
                    style: __coo::FieldsStyle::Named,
                    fields: &[__coo::FieldDesc {
                        name: "reason",
                        offset: __coo::FieldDesc::NO_OFFSET,
                        shape: <String as __coo::CooField>::shape,
                        rename_from: &[],
                        default: ::core::option::Option::None,
                    }],
                    rename_from: &[],
                },
            ],
            read: __coo_read,
            write: __coo_write,
        }),
        glue: &__coo::TypeGlue {
            drop: __coo::drop_glue::<Mode>,
            default: __coo_default,
            hook: ::core::option::Option::None,
        },
    };
    #[automatically_derived]
    // SAFETY: see above.
    unsafe impl __coo::CooField for Mode {
        const SHAPE: &'static __coo::Shape = &__coo::Shape {
            size: ::core::mem::size_of::<Mode>(),
            align: ::core::mem::align_of::<Mode>(),
            needs_drop: ::core::mem::needs_drop::<Mode>(),
            drop: __coo::drop_glue::<Mode>,
            type_name: __coo_type_name,
            kind: __coo::ShapeKind::Named(<Mode as __coo::CooType>::desc),
        };
    }
    #[automatically_derived]
    // SAFETY: see above.
    unsafe impl __coo::CooType for Mode {
        const DESC: &'static __coo::TypeDesc = &__COO_DESC;
    }
    __coo::inventory::submit! { __coo::TypeRegistration(<Mode as __coo::CooType>::desc) }
};

#[test]
fn hand_expansion_registers_and_describes() {
    let catalog = coo_runtime::Catalog::linked().unwrap();
    assert!(catalog.get("Vec2").is_some());
    assert!(catalog.get("Particle").is_some());
    assert!((Mode::DESC.glue.default)().is_some());
    assert!((Vec2::DESC.glue.default)().is_none());
    let schema = catalog.schema();
    assert_eq!(schema.types.len(), 3);
}
