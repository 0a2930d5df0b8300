//! Random enums built at runtime (issue 7): an enum `Rnum` with a tagged layout of our own,
//! `#[repr(C, int)]`-like: the tag, of the `repr`'s integer type (`i32` for a bare `repr(C)`),
//! at offset 0, then every variant's fields laid out C-like from one payload offset (the tag's
//! size rounded up to the alignment of the most aligned field of any variant). Its
//! `read`/`read_mut`/`write`/drop glue is generic over a slot (0 = old, 1 = new) whose layout
//! (tag type, discriminants, field offsets) lies in a global table, like `Rand`'s.
//!
//! Every layout is padded to `ECELL` bytes so that `ECell<SLOT>`, a real Rust type of that size
//! whose shape names the slot's descriptor, stands for it inside a `Vec`: the resource is
//! `Hold { items: Vec<Rnum> }`, so a changed enum sits inside a struct that changed only
//! through it.
//!
//! Old and new layouts differ in every way a user can change an enum: variants added, removed,
//! reordered and renamed (`rename_from`), fields of a variant added, removed, reordered and widened, explicit
//! discriminants (also negative ones for signed tags) and the `repr` (tag type, `C` or not); a
//! tenth of the cases change only the discriminants, a tenth only the `repr`, a tenth nothing.
//! The properties: the verdict is "kept in place" exactly when the layout is identical (a wrong
//! "unchanged" would read tags with the wrong discriminants); otherwise each value keeps its
//! variant, now tagged with the variant's new discriminant, its kept fields (widened) and
//! allocations, with defaults in new fields; removed `Tracked` values are dropped once at
//! commit, everything exactly once in the end. When a live value uses a removed variant, the
//! migration is refused with `VariantRemoved` naming the first such value, the old state is
//! untouched and nothing of it was dropped.

use std::collections::BTreeMap;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::Mutex;

use coo_runtime::descriptors::layout::{EnumRepr, FieldsStyle, TypeGlue, VariantDesc};
use coo_runtime::{
    Catalog, CooField, ExecuteError, ExecuteErrorKind, FieldDesc, MigrationError, Prim, Resource,
    Shape, ShapeKind, State, TypeDesc, TypeKind,
};
use proptest::prelude::*;
use proptest::sample::Index;

use super::{
    BUILT, CASE, Mix, NAMES, NameDraw, Ty, Val, config, defaults, drops, lock, name_draw,
    no_default, read_val, reset_counts, same_value, synth_val, write_val,
};
/// The size of every layout of `Rnum`.
const ECELL: usize = 256;

/// The pool of variant names.
const VARIANTS: [&str; 6] = ["V0", "V1", "V2", "V3", "V4", "V5"];

/// The field names (the first ones of `NAMES`) a variant draws its fields from.
const VFIELDS: usize = 3;

/// The tag types drawn for the `repr`.
const TAGS: [Prim; 6] = [
    Prim::U8,
    Prim::I8,
    Prim::U16,
    Prim::I32,
    Prim::U32,
    Prim::I64,
];

const ENUM_RUST_NAMES: [&str; 2] = ["random_layouts::old::Rnum", "random_layouts::new::Rnum"];
const HOLD_RUST_NAMES: [&str; 2] = ["random_layouts::old::Hold", "random_layouts::new::Hold"];

/// What the glue of a slot needs to know of its layout.
#[derive(Debug, Clone)]
struct GlueLayout {
    tag: Prim,
    discs: Vec<i128>,
    /// Per variant, (offset, shape) of each field in declaration order.
    fields: Vec<Vec<(usize, &'static Shape)>>,
}

static ENUM_LAYOUTS: [Mutex<Option<GlueLayout>>; 2] = [const { Mutex::new(None) }; 2];
static ENUM_DESCS: [Mutex<Option<&'static TypeDesc>>; 2] = [const { Mutex::new(None) }; 2];

static ENUM_GLUES: [TypeGlue; 2] = [
    coo_runtime::__private::type_glue(enum_drop::<0>, no_default, None),
    coo_runtime::__private::type_glue(enum_drop::<1>, no_default, None),
];

static HOLD_GLUES: [TypeGlue; 2] = [
    coo_runtime::__private::type_glue(hold_drop::<0>, no_default, None),
    coo_runtime::__private::type_glue(hold_drop::<1>, no_default, None),
];

fn glue_layout(slot: usize) -> GlueLayout {
    lock(&ENUM_LAYOUTS[slot])
        .clone()
        .expect("the slot's layout was built for this case")
}

fn enum_desc_of<const SLOT: usize>() -> &'static TypeDesc {
    lock(&ENUM_DESCS[SLOT]).expect("the slot's layout was built for this case")
}

fn ecell_name<const SLOT: usize>() -> &'static str {
    ENUM_RUST_NAMES[SLOT]
}

/// Reads the tag of type `tag` at `p`.
///
/// # Safety
/// `p` points to an initialized, aligned value of the tag type.
unsafe fn read_tag(tag: Prim, p: *const u8) -> i128 {
    // SAFETY: each arm reads exactly the integer type `tag` names (caller's contract).
    unsafe {
        match tag {
            Prim::U8 => i128::from(p.read()),
            Prim::I8 => i128::from(p.cast::<i8>().read()),
            Prim::U16 => i128::from(p.cast::<u16>().read()),
            Prim::I32 => i128::from(p.cast::<i32>().read()),
            Prim::U32 => i128::from(p.cast::<u32>().read()),
            Prim::I64 => i128::from(p.cast::<i64>().read()),
            other => unreachable!("no tag of type {other}"),
        }
    }
}

/// Writes `value` as a tag of type `tag` to `p`.
///
/// # Safety
/// `p` is valid for writes of the tag type and aligned for it.
unsafe fn write_tag(tag: Prim, p: *mut u8, value: i128) {
    fn fit<T: TryFrom<i128>>(v: i128) -> T {
        T::try_from(v)
            .ok()
            .unwrap_or_else(|| panic!("discriminant {v} fits its tag"))
    }
    // SAFETY: each arm writes exactly the integer type `tag` names (caller's contract).
    unsafe {
        match tag {
            Prim::U8 => p.write(fit(value)),
            Prim::I8 => p.cast::<i8>().write(fit(value)),
            Prim::U16 => p.cast::<u16>().write(fit(value)),
            Prim::I32 => p.cast::<i32>().write(fit(value)),
            Prim::U32 => p.cast::<u32>().write(fit(value)),
            Prim::I64 => p.cast::<i64>().write(fit(value)),
            other => unreachable!("no tag of type {other}"),
        }
    }
}

/// The index of the variant of the value at `p`.
///
/// # Safety
/// `p` points to a valid value of `layout`.
unsafe fn variant_of(layout: &GlueLayout, p: *const u8) -> usize {
    // SAFETY: a valid value starts with its tag (caller's contract).
    let d = unsafe { read_tag(layout.tag, p) };
    layout
        .discs
        .iter()
        .position(|&x| x == d)
        .unwrap_or_else(|| panic!("tag {d} names no variant of {:?}", layout.discs))
}

/// `EnumDesc::read` of slot `SLOT`.
///
/// # Safety
/// `value` points to a valid value of the slot's layout; `out` has room for its largest variant.
unsafe fn enum_read<const SLOT: usize>(value: *const u8, out: *mut *const u8) -> usize {
    let layout = glue_layout(SLOT);
    // SAFETY: the caller's contract.
    let v = unsafe { variant_of(&layout, value) };
    for (i, &(offset, _)) in layout.fields[v].iter().enumerate() {
        // SAFETY: `out` has room for every field of the variant; the field lies at `offset`
        // inside the value (`ECELL` bytes).
        unsafe { out.add(i).write(value.add(offset)) };
    }
    v
}

/// `EnumDesc::read_mut` of slot `SLOT`.
///
/// # Safety
/// As for [`enum_read`], with a value borrowed mutably.
unsafe fn enum_read_mut<const SLOT: usize>(value: *mut u8, out: *mut *mut u8) -> usize {
    let layout = glue_layout(SLOT);
    // SAFETY: the caller's contract.
    let v = unsafe { variant_of(&layout, value) };
    for (i, &(offset, _)) in layout.fields[v].iter().enumerate() {
        // SAFETY: as in `enum_read`.
        unsafe { out.add(i).write(value.add(offset)) };
    }
    v
}

/// `EnumDesc::write` of slot `SLOT`: the tag, then each field moved bitwise into place.
///
/// # Safety
/// `dst` is valid for writes of `ECELL` bytes, aligned to 16; `fields_in` holds the address of a
/// valid value of each field of `variant`, which the caller no longer drops.
unsafe fn enum_write<const SLOT: usize>(dst: *mut u8, variant: usize, fields_in: *const *mut u8) {
    let layout = glue_layout(SLOT);
    // SAFETY: the tag lies at offset 0 of the (16-aligned) value.
    unsafe { write_tag(layout.tag, dst, layout.discs[variant]) };
    for (i, &(offset, shape)) in layout.fields[variant].iter().enumerate() {
        // SAFETY: `fields_in[i]` is a valid value of the field's shape (caller's contract),
        // moved into its place inside `dst`, which is aligned for it (C-like layout from an
        // 16-aligned base); the source is not dropped again, and lies outside `dst`.
        unsafe { core::ptr::copy_nonoverlapping(*fields_in.add(i), dst.add(offset), shape.size()) };
    }
}

/// Drop glue of slot `SLOT`: drops the fields of the value's variant.
///
/// # Safety
/// `p` points to a valid value of the slot's layout, which is not used again.
unsafe fn enum_drop<const SLOT: usize>(p: *mut u8) {
    let layout = glue_layout(SLOT);
    // SAFETY: the caller's contract.
    let v = unsafe { variant_of(&layout, p) };
    for &(offset, shape) in &layout.fields[v] {
        // SAFETY: the variant's field at `offset` is a valid value of `shape`, dropped once.
        unsafe { shape.drop(p.add(offset)) };
    }
}

/// Drop glue of `Hold` in slot `SLOT`.
///
/// # Safety
/// `p` points to a valid `Hold` of the slot's layout, which is not used again.
unsafe fn hold_drop<const SLOT: usize>(p: *mut u8) {
    // SAFETY: `Hold`'s only field, at offset 0, is a `Vec<ECell<SLOT>>` (see `build_hold`).
    unsafe { p.cast::<Vec<ECell<SLOT>>>().drop_in_place() };
}

/// A value of `Rnum` in slot `SLOT`, as a Rust type of the same size and alignment.
#[repr(C, align(16))]
struct ECell<const SLOT: usize>([MaybeUninit<u8>; ECELL]);

impl<const SLOT: usize> ECell<SLOT> {
    fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr().cast()
    }
}

impl<const SLOT: usize> Drop for ECell<SLOT> {
    fn drop(&mut self) {
        // SAFETY: an `ECell` always holds a valid value of its slot's layout (written by
        // `write_value` or by the migration through `enum_write`), dropped once, here.
        unsafe { enum_drop::<SLOT>(self.0.as_mut_ptr().cast()) }
    }
}

// SAFETY: `ECell<SLOT>` is `ECELL` bytes aligned to 16 with drop glue, exactly what the shape
// says, and holds a value of the descriptor the shape names (every `Rnum` layout is `ECELL`
// bytes, aligned to 16, and the slot is only used with the layout registered in it).
unsafe impl<const SLOT: usize> CooField for ECell<SLOT> {
    const SHAPE: &'static Shape = &coo_runtime::__private::shape(
        ECELL,
        16,
        true,
        coo_runtime::descriptors::layout::drop_glue::<ECell<SLOT>>,
        ecell_name::<SLOT>,
        ShapeKind::Named(coo_runtime::__private::type_link(enum_desc_of::<SLOT>)),
    );
}

fn items_shape(slot: usize) -> fn() -> &'static Shape {
    match slot {
        0 => <Vec<ECell<0>> as CooField>::shape,
        1 => <Vec<ECell<1>> as CooField>::shape,
        other => unreachable!("slot {other}"),
    }
}

/// The items of the `Hold` at `p` in slot `slot`, as pointers to their cells.
///
/// # Safety
/// `p` points to a valid `Hold` of the slot's layout, which outlives the pointers' use.
unsafe fn items(slot: usize, p: *const u8) -> Vec<*const u8> {
    // SAFETY: `Hold`'s only field, at offset 0, is a `Vec<ECell<SLOT>>` (caller's contract).
    unsafe {
        match slot {
            0 => (*p.cast::<Vec<ECell<0>>>())
                .iter()
                .map(ECell::as_ptr)
                .collect(),
            1 => (*p.cast::<Vec<ECell<1>>>())
                .iter()
                .map(ECell::as_ptr)
                .collect(),
            other => unreachable!("slot {other}"),
        }
    }
}

// ---------------------------------------------------------------------------------- the cases

#[derive(Debug, Clone, PartialEq, Eq)]
struct EVariant {
    /// Index into `VARIANTS`.
    name: usize,
    disc: i128,
    /// (index into `NAMES`, type) in declaration order.
    fields: Vec<(usize, Ty)>,
    /// The old variant this one continues under another name (`rename_from`).
    rename_from: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ELayout {
    /// `C` in the `repr`.
    c: bool,
    tag: Prim,
    variants: Vec<EVariant>,
}

impl ELayout {
    fn repr(&self) -> EnumRepr {
        EnumRepr {
            c: self.c,
            transparent: false,
            // A bare `repr(C)` enum's tag is a C `int`.
            int: (!self.c || self.tag != Prim::I32).then_some(self.tag),
            align: None,
        }
    }

    fn variant(&self, name: usize) -> Option<&EVariant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The variant of this (new) layout that continues the old variant `name`: the one of that
    /// name, else the one renamed from it.
    fn successor(&self, name: usize) -> Option<&EVariant> {
        self.variant(name)
            .or_else(|| self.variants.iter().find(|v| v.rename_from == Some(name)))
    }
}

/// One value of the old enum: its variant (by index in the old layout) and its fields' values
/// by name index.
#[derive(Debug, Clone)]
struct EValue {
    variant: usize,
    vals: BTreeMap<usize, Val>,
}

#[derive(Debug, Clone)]
struct EnumCase {
    old: ELayout,
    new: ELayout,
    values: Vec<EValue>,
}

/// What one variant name becomes: its fields (each a `NameDraw` as for `Rand`'s fields),
/// whether an old variant is kept, whether a new one is added, and an explicit discriminant in
/// each layout (`None`: the previous variant's plus one).
#[derive(Debug, Clone)]
struct VariantDraw {
    fields: Vec<NameDraw>,
    in_old: bool,
    keep: bool,
    added: bool,
    old_disc: Option<i128>,
    new_disc: Option<i128>,
    /// For a kept variant: the new name it takes (by `rename_from`), among the free ones.
    rename: Option<Index>,
}

fn variant_draw() -> impl Strategy<Value = VariantDraw> {
    let disc = || proptest::option::weighted(0.4, -40i128..100);
    (
        proptest::collection::vec(name_draw(), VFIELDS),
        proptest::bool::weighted(0.7),
        proptest::bool::weighted(0.8),
        any::<bool>(),
        disc(),
        disc(),
        proptest::option::weighted(0.25, any::<Index>()),
    )
        .prop_map(
            |(fields, in_old, keep, added, old_disc, new_disc, rename)| VariantDraw {
                fields,
                in_old,
                keep,
                added,
                old_disc,
                new_disc,
                rename,
            },
        )
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Everything may change.
    Any,
    /// The new layout is the old one.
    Same,
    /// Only the discriminants may change.
    Discs,
    /// Only the `repr` may change.
    Repr,
}

/// Gives the variants (names in declaration order, with their explicit discriminants)
/// distinct discriminants that fit `tag`: explicit ones are taken (made non-negative for an
/// unsigned tag), others follow the previous one; a value already used is bumped up.
fn discriminants(tag: Prim, explicit: &[Option<i128>]) -> Vec<i128> {
    let mut used = Vec::new();
    let mut prev = -1;
    for e in explicit {
        let mut d = match *e {
            Some(d) if tag.is_signed() => d,
            Some(d) => d.abs(),
            None => prev + 1,
        };
        while used.contains(&d) {
            d += 1;
        }
        used.push(d);
        prev = d;
    }
    used
}

type EnumDraws = (
    Vec<VariantDraw>,
    Vec<usize>,
    Vec<usize>,
    (Index, bool, Index, bool),
    Mode,
    Vec<(Index, u64)>,
);

fn enum_case() -> impl Strategy<Value = EnumCase> {
    let order = || Just((0..VARIANTS.len()).collect::<Vec<_>>()).prop_shuffle();
    (
        proptest::collection::vec(variant_draw(), VARIANTS.len()),
        order(),
        order(),
        (any::<Index>(), any::<bool>(), any::<Index>(), any::<bool>()),
        prop_oneof![
            7 => Just(Mode::Any),
            1 => Just(Mode::Same),
            1 => Just(Mode::Discs),
            1 => Just(Mode::Repr),
        ],
        proptest::collection::vec((any::<Index>(), any::<u64>()), 0..6),
    )
        .prop_map(assemble_enum)
}

fn assemble_enum(
    (draws, old_order, new_order, (old_tag, old_c, new_tag, new_c), mode, values): EnumDraws,
) -> EnumCase {
    // The old layout: at least one variant, so that there are values to make.
    let mut old_names: Vec<usize> = old_order
        .iter()
        .copied()
        .filter(|&n| draws[n].in_old)
        .collect();
    if old_names.is_empty() {
        old_names.push(old_order[0]);
    }
    let old_fields = |n: usize| -> Vec<(usize, Ty)> {
        draws[n]
            .fields
            .iter()
            .enumerate()
            .filter_map(|(f, d)| d.old.as_ref().map(|(ty, _)| (f, *ty)))
            .collect()
    };
    let old_tag = TAGS[old_tag.index(TAGS.len())];
    let explicit: Vec<_> = old_names.iter().map(|&n| draws[n].old_disc).collect();
    let discs = discriminants(old_tag, &explicit);
    let old = ELayout {
        c: old_c,
        tag: old_tag,
        variants: old_names
            .iter()
            .zip(discs)
            .map(|(&n, disc)| EVariant {
                name: n,
                disc,
                fields: old_fields(n),
                rename_from: None,
            })
            .collect(),
    };

    let new_tag = TAGS[new_tag.index(TAGS.len())];
    let new = match mode {
        Mode::Same => old.clone(),
        Mode::Repr => ELayout {
            c: new_c,
            // The discriminants stay, so a negative one needs a signed tag.
            tag: if new_tag.is_signed() || old.variants.iter().all(|v| v.disc >= 0) {
                new_tag
            } else {
                Prim::I32
            },
            variants: old.variants.clone(),
        },
        Mode::Discs => {
            let explicit: Vec<_> = old_names.iter().map(|&n| draws[n].new_disc).collect();
            let discs = discriminants(old.tag, &explicit);
            let mut variants = old.variants.clone();
            for (v, d) in variants.iter_mut().zip(discs) {
                v.disc = d;
            }
            ELayout {
                variants,
                ..old.clone()
            }
        }
        Mode::Any => {
            let mut names = Vec::new();
            let mut variants = Vec::new();
            for &n in &new_order {
                let draw = &draws[n];
                let fields: Vec<(usize, Ty)> = if old_names.contains(&n) {
                    if !draw.keep {
                        continue;
                    }
                    // Kept fields (widened or not), removed ones, added ones; in reverse
                    // order when `added` (unused for an old variant) says so.
                    let mut fields = Vec::new();
                    for (f, d) in draw.fields.iter().enumerate() {
                        match &d.old {
                            Some((ty, _)) if d.keep => {
                                let targets = ty.targets();
                                fields.push((f, targets[d.target.index(targets.len())]));
                            }
                            Some(_) => {}
                            None => {
                                fields.extend(d.added.filter(|t| t.has_default()).map(|ty| (f, ty)))
                            }
                        }
                    }
                    if draw.added {
                        fields.reverse();
                    }
                    fields
                } else {
                    if !draw.added {
                        continue;
                    }
                    draw.fields
                        .iter()
                        .enumerate()
                        .filter_map(|(f, d)| d.added.filter(|t| t.has_default()).map(|ty| (f, ty)))
                        .collect()
                };
                names.push(n);
                variants.push(EVariant {
                    name: n,
                    disc: 0,
                    fields,
                    rename_from: None,
                });
            }
            let explicit: Vec<_> = names.iter().map(|&n| draws[n].new_disc).collect();
            for (v, d) in variants.iter_mut().zip(discriminants(new_tag, &explicit)) {
                v.disc = d;
            }
            // Renames: a kept variant takes a name used by no variant of either layout.
            let mut taken: Vec<usize> = old_names.iter().chain(&names).copied().collect();
            for v in &mut variants {
                let Some(pick) = draws[v.name].rename.filter(|_| old_names.contains(&v.name))
                else {
                    continue;
                };
                let free: Vec<usize> = (0..VARIANTS.len()).filter(|m| !taken.contains(m)).collect();
                if let Some(&to) = free.get(pick.index(free.len().max(1))) {
                    taken.push(to);
                    v.rename_from = Some(v.name);
                    v.name = to;
                }
            }
            ELayout {
                c: new_c,
                tag: new_tag,
                variants,
            }
        }
    };

    let mut next_id = 1;
    let values = values
        .into_iter()
        .map(|(variant, seed)| {
            let variant = variant.index(old.variants.len());
            let mut mix = Mix(seed);
            let vals = old.variants[variant]
                .fields
                .iter()
                .map(|&(f, ty)| (f, synth_val(ty, &mut mix, &mut next_id)))
                .collect();
            EValue { variant, vals }
        })
        .collect();
    EnumCase { old, new, values }
}

// ------------------------------------------------------------------------ descriptors and state

/// Where the fields of each variant of `layout` lie.
fn field_offsets(layout: &ELayout) -> Vec<Vec<(usize, &'static Shape)>> {
    let tag_size = layout.tag.size();
    let union_align = layout
        .variants
        .iter()
        .flat_map(|v| &v.fields)
        .map(|&(_, ty)| (ty.shape_fn())().align())
        .max()
        .unwrap_or(1);
    let payload = tag_size.next_multiple_of(union_align);
    layout
        .variants
        .iter()
        .map(|v| {
            let mut end = payload;
            v.fields
                .iter()
                .map(|&(_, ty)| {
                    let shape = (ty.shape_fn())();
                    assert!(shape.align() <= 16);
                    let offset = end.next_multiple_of(shape.align());
                    end = offset + shape.size();
                    assert!(end <= ECELL, "{v:?} fits in a cell");
                    (offset, shape)
                })
                .collect()
        })
        .collect()
}

/// `EnumDesc::read`, `read_mut` and `write`.
type EnumFns = (
    unsafe fn(*const u8, *mut *const u8) -> usize,
    unsafe fn(*mut u8, *mut *mut u8) -> usize,
    unsafe fn(*mut u8, usize, *const *mut u8),
);

/// Builds the descriptors of `Rnum` and `Hold` for `layout` in `slot`; returns `Hold`'s.
fn build_enum(slot: usize, layout: &ELayout) -> &'static TypeDesc {
    let offsets = field_offsets(layout);
    *lock(&ENUM_LAYOUTS[slot]) = Some(GlueLayout {
        tag: layout.tag,
        discs: layout.variants.iter().map(|v| v.disc).collect(),
        fields: offsets,
    });
    let variants: Vec<VariantDesc> = layout
        .variants
        .iter()
        .map(|v| {
            coo_runtime::__private::variant_desc(
                VARIANTS[v.name],
                v.disc,
                if v.fields.is_empty() {
                    FieldsStyle::Unit
                } else {
                    FieldsStyle::Named
                },
                Box::leak(
                    v.fields
                        .iter()
                        .map(|&(f, ty)| {
                            coo_runtime::__private::field_desc(
                                NAMES[f],
                                FieldDesc::NO_OFFSET,
                                ty.shape_fn(),
                                &[],
                                None,
                            )
                        })
                        .collect::<Vec<_>>()
                        .into_boxed_slice(),
                ),
                match v.rename_from {
                    Some(old) => Box::leak(Box::new([VARIANTS[old]])),
                    None => &[],
                },
            )
        })
        .collect();
    let (read, read_mut, write): EnumFns = match slot {
        0 => (enum_read::<0>, enum_read_mut::<0>, enum_write::<0>),
        _ => (enum_read::<1>, enum_read_mut::<1>, enum_write::<1>),
    };
    let rnum: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
        "Rnum",
        ENUM_RUST_NAMES[slot],
        &[],
        ECELL,
        16,
        true,
        TypeKind::Enum(coo_runtime::__private::enum_desc(
            layout.repr(),
            Box::leak(variants.into_boxed_slice()),
            read,
            read_mut,
            write,
        )),
        &ENUM_GLUES[slot],
    )));
    *lock(&ENUM_DESCS[slot]) = Some(rnum);
    let hold: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
        "Hold",
        HOLD_RUST_NAMES[slot],
        &[],
        size_of::<Vec<ECell<0>>>(),
        align_of::<Vec<ECell<0>>>(),
        true,
        TypeKind::Struct(coo_runtime::__private::struct_desc(
            FieldsStyle::Named,
            Box::leak(Box::new([coo_runtime::__private::field_desc(
                "items",
                0,
                items_shape(slot),
                &[],
                None,
            )])),
        )),
        &HOLD_GLUES[slot],
    )));
    lock(&BUILT).extend([rnum, hold]);
    hold
}

/// The state holding `Hold { items }` with the case's old values.
fn insert_values(case: &EnumCase, hold: &'static TypeDesc) -> State {
    let offsets = field_offsets(&case.old);
    let cells: Vec<ECell<0>> = case
        .values
        .iter()
        .map(|value| {
            let v = &case.old.variants[value.variant];
            let mut cell = ECell::<0>([MaybeUninit::uninit(); ECELL]);
            let p = cell.0.as_mut_ptr().cast::<u8>();
            // SAFETY: the cell is `ECELL` bytes aligned to 16; the tag lies at offset 0 and each
            // field at its offset in the old layout, aligned for its type; together they make
            // a valid value of the old layout (slot 0).
            unsafe {
                write_tag(case.old.tag, p, v.disc);
                for (&(f, _), &(offset, _)) in v.fields.iter().zip(&offsets[value.variant]) {
                    write_val(p.add(offset), &value.vals[&f]);
                }
            }
            cell
        })
        .collect();
    let cells = ManuallyDrop::new(cells);
    // SAFETY: `Hold` of slot 0 is exactly one `Vec<ECell<0>>`; the vector is moved into the
    // resource and never used or dropped here (`ManuallyDrop`).
    let resource = unsafe { Resource::from_raw(hold, (&raw const *cells).cast()) };
    let mut state = State::new();
    state.insert_resource(resource);
    state
}

/// Checks that the `Hold` in `state` (layout in `slot`) holds the case's values, unchanged
/// (slot 0) or migrated (slot 1).
fn check_values(case: &EnumCase, state: &State, slot: usize, hold: &'static TypeDesc) {
    let layout = if slot == 0 { &case.old } else { &case.new };
    let offsets = field_offsets(layout);
    let res = state.resource("Hold").expect("a Hold");
    assert!(core::ptr::eq(res.desc(), hold));
    // SAFETY: the resource holds a valid `Hold` of this slot (checked above), borrowed while
    // the items are read.
    let cells = unsafe { items(slot, res.as_ptr()) };
    assert_eq!(cells.len(), case.values.len(), "as many items");
    for (i, (&cell, value)) in cells.iter().zip(&case.values).enumerate() {
        let old_v = &case.old.variants[value.variant];
        // SAFETY: each item is a valid value of the slot's layout, starting with its tag.
        let tag = unsafe { read_tag(layout.tag, cell) };
        let v = match slot {
            0 => layout.variant(old_v.name),
            _ => layout.successor(old_v.name),
        }
        .expect("the value's variant is in the layout");
        assert_eq!(
            tag, v.disc,
            "items[{i}] is `{}`, tagged with its discriminant in this layout",
            VARIANTS[v.name]
        );
        let index = layout.variants.iter().position(|x| x == v).unwrap();
        for (&(f, ty), &(offset, _)) in v.fields.iter().zip(&offsets[index]) {
            // SAFETY: the value is of variant `v` (its tag, checked above), whose field `f`
            // of type `ty` lies at `offset`; borrowed during the call.
            let actual = unsafe { read_val(cell.add(offset), ty) };
            let (expected, any_nan) = match value.vals.get(&f) {
                Some(old) => {
                    let old_ty = old.ty();
                    (old.convert(ty), old_ty != ty)
                }
                None => (ty.default_value(), false),
            };
            assert!(
                same_value(&expected, &actual, any_nan),
                "items[{i}].{}.{}: expected {expected:?}, found {actual:?}",
                VARIANTS[v.name],
                NAMES[f]
            );
        }
    }
}

fn run_enum_case(case: &EnumCase) {
    let _serial = lock(&CASE);
    reset_counts();
    let old = build_enum(0, &case.old);
    let new = build_enum(1, &case.new);
    let mut state = insert_values(case, old);
    check_values(case, &state, 0, old);
    let at = state.resource("Hold").unwrap().as_ptr();

    let all_ids: BTreeMap<u32, usize> = case
        .values
        .iter()
        .flat_map(|v| v.vals.values().flat_map(Val::tracked_ids))
        .map(|id| (id, 1))
        .collect();
    let catalog = Catalog::from_descs([new]).expect("one type per name");
    let removed_use = case.values.iter().position(|v| {
        case.new
            .successor(case.old.variants[v.variant].name)
            .is_none()
    });
    let result = state.migrate_to(&catalog);
    if let Some(i) = removed_use {
        let variant = VARIANTS[case.old.variants[case.values[i].variant].name];
        match result {
            Err(MigrationError::Migrate(ExecuteError {
                path,
                kind: ExecuteErrorKind::VariantRemoved { ty, variant: named },
            })) => {
                assert_eq!(path.to_string(), format!("Hold.items[{i}]"));
                assert_eq!((ty.as_str(), named.as_str()), ("Rnum", variant));
            }
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(report) => panic!("a value of a removed variant was migrated: {report}"),
        }
        let mut expected = BTreeMap::new();
        if defaults() > 0 {
            expected.insert(0, defaults());
        }
        assert_eq!(
            drops(),
            expected,
            "a refused migration drops only what it made"
        );
        assert_eq!(state.resource("Hold").unwrap().as_ptr(), at, "not moved");
        check_values(case, &state, 0, old);
        reset_counts();
        drop(state);
        assert_eq!(drops(), all_ids, "every Tracked dropped exactly once");
        return;
    }

    let report = match result {
        Ok(report) => report,
        Err(e) => panic!("the migration was refused: {e}"),
    };
    if case.old == case.new {
        assert_eq!(report.kept, ["Hold"], "same layout: kept in place");
        assert!(report.types.is_empty(), "{report}");
        assert_eq!(state.resource("Hold").unwrap().as_ptr(), at);
    } else {
        assert_eq!(
            report.migrated,
            ["Hold"],
            "a changed enum is migrated: {report}"
        );
        if !case.values.is_empty() {
            assert_eq!(
                report.ty("Rnum").map(|t| t.values),
                Some(case.values.len() as u64),
                "{report}"
            );
        }
    }

    let mut removed = BTreeMap::new();
    let mut defaulted = 0;
    for value in &case.values {
        let name = case.old.variants[value.variant].name;
        let new_v = case.new.successor(name).expect("kept variant");
        for (f, val) in &value.vals {
            if !new_v.fields.iter().any(|&(n, _)| n == *f) {
                removed.extend(val.tracked_ids().into_iter().map(|id| (id, 1)));
            }
        }
        defaulted += new_v
            .fields
            .iter()
            .filter(|&&(f, ty)| {
                matches!(
                    ty,
                    Ty::Tracked | Ty::BoxTracked | Ty::TupU16Tracked | Ty::TupU32Tracked
                ) && !value.vals.contains_key(&f)
            })
            .count();
    }
    assert_eq!(drops(), removed, "drops at commit (removed fields only)");
    assert_eq!(defaults(), defaulted, "one default per new Tracked field");
    check_values(case, &state, 1, new);

    drop(state);
    let mut expected = all_ids;
    if defaulted > 0 {
        expected.insert(0, defaulted);
    }
    assert_eq!(drops(), expected, "every Tracked dropped exactly once");
}

proptest! {
    #![proptest_config(config())]

    /// Enums reshaped at random (variants, their fields, discriminants, `repr`) inside an
    /// unchanged struct: every value keeps its variant with the new discriminant and its values,
    /// or the migration is refused at the first value of a removed variant, changing nothing.
    #[test]
    fn random_enums_migrate_or_refuse_a_removed_variant(case in enum_case()) {
        run_enum_case(&case);
    }
}
