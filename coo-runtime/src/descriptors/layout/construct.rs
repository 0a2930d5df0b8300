//! The `const fn` constructors of the descriptor types: the only way to build one, used by the
//! code `#[derive(CooType)]` generates (through `coo_runtime::__private`), by the standard types'
//! shapes ([`crate::descriptors::std_fields`]) and by `Pool`/`Handle`. Each takes the fields in
//! their declaration order; what they mean is documented on the accessors.

use crate::descriptors::generics::GenericArgs;
use crate::descriptors::layout::glue::{
    BoxGlue, CollGlue, DynGlue, EntryFn, EntryFnMut, EntryFnOwned, HookFn, ImplFn, ImplGlue,
    OptionGlue, PoolGlue, StringGlue, SwitchGlue, TypeGlue, VecGlue, WriteFn,
};
use crate::descriptors::layout::objects::{DynDesc, ImplDesc, SwitchDesc};
use crate::descriptors::layout::shape::{
    Shape, ShapeKind, ShapeLink, TupleElem, TupleElems, TypeLink,
};
use crate::descriptors::layout::{
    EnumDesc, EnumRepr, FieldDesc, FieldsStyle, StructDesc, TypeDesc, TypeKind, VariantDesc,
};
use crate::descriptors::opaque::{OpaqueGlue, OpaqueJson, debug_glue};
use crate::plugin::ForeignString;

#[allow(clippy::too_many_arguments)]
pub const fn type_desc(
    name: &'static str,
    rust_name: &'static str,
    rename_from: &'static [&'static str],
    size: usize,
    align: usize,
    needs_drop: bool,
    kind: TypeKind,
    glue: &'static TypeGlue,
) -> TypeDesc {
    TypeDesc {
        name,
        rust_name,
        rename_from,
        size,
        align,
        needs_drop,
        kind,
        glue,
        generic: None,
    }
}

/// `desc` as the descriptor of an instantiation of a generic type: `name` makes its name
/// ([`crate::descriptors::generics::instance_name`]) and `args` are its type arguments' shapes.
pub const fn generic_type_desc(
    mut desc: TypeDesc,
    name: fn() -> &'static str,
    args: &'static [ShapeLink],
) -> TypeDesc {
    desc.generic = Some(GenericArgs { name, args });
    desc
}

pub const fn type_glue(
    drop: unsafe fn(*mut u8),
    default: fn() -> Option<WriteFn>,
    hook: Option<HookFn>,
) -> TypeGlue {
    TypeGlue {
        drop,
        default,
        hook,
    }
}

pub const fn struct_desc(style: FieldsStyle, fields: &'static [FieldDesc]) -> StructDesc {
    StructDesc {
        style,
        fields,
        packing: None,
    }
}

/// [`struct_desc`] of a `#[repr(packed(N))]` struct: `packing` is `N` (1 for `packed`).
pub const fn packed_struct_desc(
    style: FieldsStyle,
    fields: &'static [FieldDesc],
    packing: usize,
) -> StructDesc {
    StructDesc {
        style,
        fields,
        packing: Some(packing),
    }
}

pub const fn enum_desc(
    repr: EnumRepr,
    variants: &'static [VariantDesc],
    read: unsafe fn(value: *const u8, fields_out: *mut *const u8) -> usize,
    read_mut: unsafe fn(value: *mut u8, fields_out: *mut *mut u8) -> usize,
    write: unsafe fn(dst: *mut u8, variant: usize, fields_in: *const *mut u8),
) -> EnumDesc {
    EnumDesc {
        repr,
        variants,
        read,
        read_mut,
        write,
    }
}

/// A copy of `field` (for code that builds descriptors at run time from others, as the tests
/// of random layouts do).
pub const fn field_desc_copy(field: &'static FieldDesc) -> FieldDesc {
    FieldDesc {
        name: field.name,
        offset: field.offset,
        shape: ShapeLink(field.shape.0),
        rename_from: field.rename_from,
        default: field.default,
        default_bytes: field.default_bytes,
    }
}

pub const fn variant_desc(
    name: &'static str,
    discriminant: i128,
    style: FieldsStyle,
    fields: &'static [FieldDesc],
    rename_from: &'static [&'static str],
) -> VariantDesc {
    VariantDesc {
        name,
        discriminant,
        style,
        fields,
        rename_from,
    }
}

pub const fn field_desc(
    name: &'static str,
    offset: usize,
    shape: fn() -> &'static Shape,
    rename_from: &'static [&'static str],
    default: Option<WriteFn>,
) -> FieldDesc {
    FieldDesc {
        name,
        offset,
        shape: ShapeLink(shape),
        rename_from,
        default,
        default_bytes: None,
    }
}

/// [`field_desc`] of a primitive field whose `#[coo(default = ...)]` is a literal: `bytes` are
/// the native-endian bytes of the same constant that `default` writes (`to_ne_bytes` of it).
pub const fn field_desc_literal_default(
    name: &'static str,
    offset: usize,
    shape: fn() -> &'static Shape,
    rename_from: &'static [&'static str],
    default: WriteFn,
    bytes: &'static [u8],
) -> FieldDesc {
    FieldDesc {
        name,
        offset,
        shape: ShapeLink(shape),
        rename_from,
        default: Some(default),
        default_bytes: Some(bytes),
    }
}

pub const fn shape(
    size: usize,
    align: usize,
    needs_drop: bool,
    drop: unsafe fn(*mut u8),
    type_name: fn() -> &'static str,
    kind: ShapeKind,
) -> Shape {
    Shape {
        size,
        align,
        needs_drop,
        drop,
        type_name,
        kind,
    }
}

pub const fn shape_link(shape: fn() -> &'static Shape) -> ShapeLink {
    ShapeLink(shape)
}

pub const fn type_link(desc: fn() -> &'static TypeDesc) -> TypeLink {
    TypeLink(desc)
}

pub const fn string_glue(
    as_str: unsafe fn(*const u8) -> (*const u8, usize),
    write_from: unsafe fn(*mut u8, *const u8, usize),
) -> StringGlue {
    StringGlue { as_str, write_from }
}

pub const fn vec_glue(
    parts: unsafe fn(*const u8) -> (*const u8, usize),
    parts_mut: unsafe fn(*mut u8) -> (*mut u8, usize),
    write_with_capacity: unsafe fn(*mut u8, usize) -> *mut u8,
    set_len: unsafe fn(*mut u8, usize),
    capacity: unsafe fn(*const u8) -> usize,
    realloc: unsafe fn(*mut u8, usize, usize) -> *mut u8,
    write_raw: unsafe fn(*mut u8, *mut u8, usize),
) -> VecGlue {
    VecGlue {
        parts,
        parts_mut,
        write_with_capacity,
        set_len,
        capacity,
        realloc,
        write_raw,
    }
}

pub const fn box_glue(
    get: unsafe fn(*const u8) -> *const u8,
    get_mut: unsafe fn(*mut u8) -> *mut u8,
    write_from: unsafe fn(*mut u8, *mut u8),
    free: unsafe fn(*mut u8),
) -> BoxGlue {
    BoxGlue {
        get,
        get_mut,
        write_from,
        free,
    }
}

pub const fn option_glue(
    get: unsafe fn(*const u8) -> *const u8,
    get_mut: unsafe fn(*mut u8) -> *mut u8,
    write_none: unsafe fn(*mut u8),
    write_some: unsafe fn(*mut u8, *mut u8),
) -> OptionGlue {
    OptionGlue {
        get,
        get_mut,
        write_none,
        write_some,
    }
}

pub const fn pool_glue(
    slot_count: unsafe fn(*const u8) -> usize,
    slot: unsafe fn(*const u8, usize) -> (u32, *const u8),
    slot_mut: unsafe fn(*mut u8, usize) -> (u32, *mut u8),
    write_vacant: unsafe fn(*mut u8, usize),
    set_slot: unsafe fn(*mut u8, usize, u32, *mut u8),
    free: unsafe fn(*mut u8),
) -> PoolGlue {
    PoolGlue {
        slot_count,
        slot,
        slot_mut,
        write_vacant,
        set_slot,
        free,
    }
}

pub const fn tuple_elems(elems: &'static [TupleElem]) -> TupleElems {
    TupleElems(elems)
}

pub const fn tuple_elem(offset: usize, shape: fn() -> &'static Shape) -> TupleElem {
    TupleElem {
        offset,
        shape: ShapeLink(shape),
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub const fn coll_glue(
    len: unsafe fn(*const u8) -> usize,
    for_each: unsafe fn(*const u8, *mut (), EntryFn),
    for_each_mut: unsafe fn(*mut u8, *mut (), EntryFnMut),
    write_with_capacity: unsafe fn(*mut u8, usize),
    insert: unsafe fn(*mut u8, *mut u8, *mut u8) -> Result<bool, ForeignString>,
    insert_moved: unsafe fn(*mut u8, *mut u8, *mut u8) -> Result<bool, ForeignString>,
    drain: unsafe fn(*mut u8, *mut (), Option<EntryFnOwned>),
    build_from: unsafe fn(
        *mut u8,
        *mut u8,
        usize,
        usize,
        usize,
    ) -> Result<Option<usize>, ForeignString>,
    get: unsafe fn(*const u8, *const u8) -> *const u8,
    key_eq: unsafe fn(*const u8, *const u8) -> bool,
) -> CollGlue {
    CollGlue {
        len,
        for_each,
        for_each_mut,
        write_with_capacity,
        insert,
        insert_moved,
        drain,
        build_from,
        get,
        key_eq,
    }
}

/// The shape of an opaque field type `F` (`#[coo(opaque)]`): its size, alignment, drop glue and
/// `type_name`, `Debug` glue, `default` (the field's probe of `F: Default`) and, with
/// `#[coo(opaque, serde)]`, its JSON glue ([`crate::descriptors::opaque`]).
pub const fn opaque_shape<F: core::fmt::Debug + 'static>(
    default: fn() -> Option<WriteFn>,
    json: Option<OpaqueJson>,
) -> Shape {
    Shape {
        size: core::mem::size_of::<F>(),
        align: core::mem::align_of::<F>(),
        needs_drop: core::mem::needs_drop::<F>(),
        drop: crate::descriptors::std_fields::drop_glue::<F>,
        type_name: core::any::type_name::<F>,
        kind: ShapeKind::Opaque(OpaqueGlue {
            debug: debug_glue::<F>,
            default,
            json,
        }),
    }
}

/// The JSON glue of `F` for `#[coo(opaque, serde)]`.
#[cfg(feature = "serde")]
pub const fn opaque_json<F: serde::Serialize + serde::de::DeserializeOwned>() -> Option<OpaqueJson>
{
    Some(OpaqueJson {
        to_json: crate::descriptors::opaque::json::to_json::<F>,
        from_json: crate::descriptors::opaque::json::from_json::<F>,
    })
}

pub const fn dyn_desc(trait_name: &'static str, glue: DynGlue) -> DynDesc {
    DynDesc { trait_name, glue }
}

#[allow(clippy::type_complexity)]
pub const fn dyn_glue(
    concrete: unsafe fn(*const u8) -> Result<(*const u8, usize), ForeignString>,
    get: unsafe fn(*const u8) -> *const u8,
    get_mut: unsafe fn(*mut u8) -> *mut u8,
    free: unsafe fn(*mut u8),
    impls: unsafe fn(*mut (), ImplFn),
) -> DynGlue {
    DynGlue {
        concrete,
        get,
        get_mut,
        free,
        impls,
    }
}

pub const fn impl_desc(
    trait_path: fn() -> &'static str,
    ty: fn() -> &'static TypeDesc,
    shape: fn() -> &'static Shape,
    write_box: unsafe fn(*mut u8, *mut u8),
    switches: &'static [SwitchDesc],
) -> ImplDesc {
    ImplDesc {
        trait_path,
        ty: TypeLink(ty),
        shape: ShapeLink(shape),
        glue: ImplGlue { write_box },
        switches,
    }
}

pub const fn switch_desc(
    from: fn() -> &'static TypeDesc,
    convert: unsafe fn(*mut u8, *const u8) -> Result<(), ForeignString>,
) -> SwitchDesc {
    SwitchDesc {
        from: TypeLink(from),
        glue: SwitchGlue { convert },
    }
}
