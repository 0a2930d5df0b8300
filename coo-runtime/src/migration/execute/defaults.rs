//! Defaults and equality of values described by shapes: [`write_default`] builds the default a
//! [`DefaultPlan`] describes (new fields, grown arrays, snapshot loading), and
//! [`values_equal`] tells whether the elements an array loses held their default.
//!
//! Writing a default recurses once per level of its plan, i.e. as deep as the *type* (a default
//! `Option` is `None`, a default `Vec` is empty, so no default nests deeper than its type).
//! Comparing values follows the data, so [`values_equal`] walks with a work list on the heap.

use crate::descriptors::layout::{CollGlue, PoolGlue, Shape, ShapeKind, TypeDesc, TypeKind};
use crate::migration::plan::DefaultPlan;
use crate::storage::raw::{Unaligned, drop_elements};
use crate::storage::scratch::Scratch;

use super::error::{DefaultPanicked, ExecuteError, ExecuteErrorKind, Seg, ValuePath};

/// Writes the default described by `plan` to `dst`. On failure nothing is left at `dst`: a
/// default that panicked (a `#[coo(default = ...)]` expression or a `Default` impl) is returned,
/// and the parts written before it were dropped. The caller knows where `dst` is, and names the
/// path ([`DefaultPanicked::at`]).
///
/// Public for builders outside a migration (the host's snapshot loader fills the fields a
/// snapshot lacks with it); plans come from [`DefaultPlan::for_shape`] or a field's
/// `#[coo(default)]` ([`DefaultPlan::Write`]).
///
/// # Safety
/// `dst` is valid for writes of the plan's shape and suitably aligned.
pub unsafe fn write_default(plan: &DefaultPlan<'_>, dst: *mut u8) -> Result<(), DefaultPanicked> {
    // SAFETY: forwarded contract.
    unsafe { write_default_at(plan, dst, &mut Vec::new()) }
}

/// [`write_default`] inside a walk: the error's path holds the array elements inside `dst`
/// down to the default that panicked, innermost segment first (see [`ExecuteError::inside`]).
///
/// # Safety
/// As for [`write_default`].
pub(super) unsafe fn write_default_inside(
    plan: &DefaultPlan<'_>,
    dst: *mut u8,
) -> Result<(), ExecuteError> {
    let mut inner = Vec::new();
    // SAFETY: forwarded contract.
    unsafe { write_default_at(plan, dst, &mut inner) }.map_err(|panicked| ExecuteError {
        path: ValuePath(inner),
        kind: ExecuteErrorKind::Default(panicked),
    })
}

/// [`write_default`], adding to `inner` the segments from `dst` down to a default that panicked,
/// innermost first. Recurses once per level of the plan, i.e. of the type.
///
/// # Safety
/// As for [`write_default`].
unsafe fn write_default_at(
    plan: &DefaultPlan<'_>,
    dst: *mut u8,
    inner: &mut Vec<Seg>,
) -> Result<(), DefaultPanicked> {
    match plan {
        // SAFETY: primitives' defaults are all-zero bytes; `dst` has `size` bytes.
        DefaultPlan::Zero { size } => unsafe { core::ptr::write_bytes(dst, 0, *size) },
        DefaultPlan::Write(f) => {
            // SAFETY: the writer's contract is the caller's.
            unsafe { f(dst) }.map_err(|message| DefaultPanicked {
                message: message.into_string(),
            })?
        }
        // SAFETY: `dst` has room for the field, whose size `bytes` has (checked by the plan).
        DefaultPlan::Bytes(bytes) => unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len())
        },
        // SAFETY: an empty, valid UTF-8 string.
        DefaultPlan::String(g) => unsafe { g.write_from(dst, "".as_ptr(), 0) },
        DefaultPlan::EmptyVec(g) => {
            // SAFETY: `dst` is valid for writes of the vector.
            unsafe { g.write_with_capacity(dst, 0) };
        }
        // SAFETY: `dst` is valid for writes of the option.
        DefaultPlan::None(g) => unsafe { g.write_none(dst) },
        // SAFETY: `dst` is valid for writes of the pool.
        DefaultPlan::EmptyPool(g) => unsafe { g.write_vacant(dst, 0) },
        DefaultPlan::Array {
            elem,
            elem_shape,
            len,
        } => {
            for i in 0..*len {
                // SAFETY: element `i < len` of the array at `dst`.
                let written =
                    unsafe { write_default_at(elem, dst.add(i * elem_shape.size()), inner) };
                if let Err(panicked) = written {
                    // SAFETY: elements `..i` were written and are dropped once.
                    unsafe { drop_elements(elem_shape, dst, i) };
                    inner.push(Seg::Index(i));
                    return Err(panicked);
                }
            }
        }
        DefaultPlan::Box {
            elem,
            elem_shape,
            glue,
        } => {
            let scratch = Scratch::for_shape(elem_shape);
            // SAFETY: the scratch has the element's layout.
            unsafe { write_default_at(elem, scratch.ptr(), inner)? };
            // SAFETY: the scratch holds a complete value, which `write_from` moves out.
            unsafe { glue.write_from(dst, scratch.ptr()) };
        }
        // SAFETY: `dst` is valid for writes of the collection.
        DefaultPlan::EmptyColl(g) => unsafe { g.write_with_capacity(dst, 0) },
        DefaultPlan::Tuple(elems) => {
            for (i, (offset, elem, _)) in elems.iter().enumerate() {
                // SAFETY: element `i` of the tuple at `dst`, at its offset.
                let written = unsafe { write_default_at(elem, dst.add(*offset), inner) };
                if let Err(panicked) = written {
                    for (offset, _, shape) in &elems[..i] {
                        // SAFETY: the elements `..i` were written and are dropped once.
                        unsafe { shape.drop(dst.add(*offset)) };
                    }
                    inner.push(Seg::Name(i.to_string()));
                    return Err(panicked);
                }
            }
        }
    }
    Ok(())
}

/// Whether the value at `p` equals its type's default.
///
/// # Safety
/// `p` is a valid value of `shape`, and `plan` builds a default of `shape`.
pub(super) unsafe fn holds_default(
    plan: &DefaultPlan<'_>,
    shape: &Shape,
    p: *const u8,
) -> Result<bool, ExecuteError> {
    let scratch = Scratch::for_shape(shape);
    // SAFETY: the scratch has the shape's layout.
    unsafe { write_default_inside(plan, scratch.ptr())? };
    // SAFETY: both are valid values of `shape`.
    let equal = unsafe { values_equal(shape, p, scratch.ptr()) };
    if shape.needs_drop() {
        // SAFETY: the default was built above and is dropped once.
        unsafe { shape.drop(scratch.ptr()) };
    }
    Ok(equal)
}

/// One comparison still to make.
#[derive(Clone, Copy)]
enum Compare<'s> {
    Values(&'s Shape, *const u8, *const u8),
    Types(&'s TypeDesc, *const u8, *const u8),
    /// `n` elements of `shape` at its stride from `a` and from `b`.
    Elements(&'s Shape, *const u8, *const u8, usize),
    /// Slots `i..` of two pools of `elem`, which have the same number of slots.
    Slots {
        elem: &'s Shape,
        glue: &'s PoolGlue,
        a: *const u8,
        b: *const u8,
        i: usize,
    },
}

/// Structural equality of two values of one shape (primitives compare by bytes, so `-0.0` is not
/// `0.0` and a NaN equals the same NaN).
///
/// # Safety
/// `a` and `b` are valid values of `shape`.
pub unsafe fn values_equal(shape: &Shape, a: *const u8, b: *const u8) -> bool {
    // SAFETY: forwarded contract.
    unsafe { equal(Compare::Values(shape, a, b)) }
}

/// Structural equality of two values of one `CooType`.
///
/// # Safety
/// `a` and `b` are valid values of `desc`.
pub unsafe fn type_values_equal(desc: &TypeDesc, a: *const u8, b: *const u8) -> bool {
    // SAFETY: forwarded contract.
    unsafe { equal(Compare::Types(desc, a, b)) }
}

/// Runs the comparisons depth first, with a work list instead of native recursion: a value
/// nested a million levels deep needs a million entries of heap, not of stack.
///
/// # Safety
/// The values of `first` are valid values of its shape or type.
unsafe fn equal(first: Compare<'_>) -> bool {
    let mut work = vec![first];
    while let Some(next) = work.pop() {
        // SAFETY: every entry names valid values of its shape (the first by the caller's
        // contract, the others as parts of those read through their own glue).
        if !unsafe { compare(next, &mut work) } {
            return false;
        }
    }
    true
}

/// Makes one comparison: `false` when the values differ here, else `true` with the comparisons
/// of their parts pushed onto `work`.
///
/// # Safety
/// As for [`equal`].
unsafe fn compare<'s>(next: Compare<'s>, work: &mut Vec<Compare<'s>>) -> bool {
    // SAFETY: every arm reads the values as their shape describes them.
    unsafe {
        match next {
            Compare::Values(shape, a, b) => match shape.kind() {
                ShapeKind::Prim(_) | ShapeKind::Handle { .. } => bytes_equal(a, b, shape.size()),
                // Without `PartialEq` glue, equal bytes are the only proof of equality, and only
                // for a type without drop glue (one with it may own memory reached by pointer):
                // padding can make equal values look different, which refuses, never loses.
                ShapeKind::Opaque(_) => !shape.needs_drop() && bytes_equal(a, b, shape.size()),
                ShapeKind::String(g) => {
                    let (pa, la) = g.as_str(a);
                    let (pb, lb) = g.as_str(b);
                    la == lb && bytes_equal(pa, pb, la)
                }
                ShapeKind::Array { elem, len } => {
                    work.push(Compare::Elements(elem.get(), a, b, *len));
                    true
                }
                ShapeKind::Vec { elem, glue } => {
                    let (pa, la) = glue.parts(a);
                    let (pb, lb) = glue.parts(b);
                    work.push(Compare::Elements(elem.get(), pa, pb, la));
                    la == lb
                }
                ShapeKind::Box { elem, glue } => {
                    work.push(Compare::Values(elem.get(), glue.get(a), glue.get(b)));
                    true
                }
                ShapeKind::Option { elem, glue } => {
                    let (pa, pb) = (glue.get(a), glue.get(b));
                    if !pa.is_null() && !pb.is_null() {
                        work.push(Compare::Values(elem.get(), pa, pb));
                    }
                    pa.is_null() == pb.is_null()
                }
                ShapeKind::Pool { elem, glue } => {
                    work.push(Compare::Slots {
                        elem: elem.get(),
                        glue,
                        a,
                        b,
                        i: 0,
                    });
                    glue.slot_count(a) == glue.slot_count(b)
                }
                ShapeKind::Named(desc) => {
                    work.push(Compare::Types(desc.get(), a, b));
                    true
                }
                // Equal objects are of the same concrete type, with equal values.
                ShapeKind::Dyn(d) => match (d.concrete_name(a), d.concrete_name(b)) {
                    (Ok(na), Ok(nb)) if na == nb => match d.impl_named(na) {
                        Some(imp) => {
                            let (pa, pb) = (d.glue().get(a), d.glue().get(b));
                            work.push(Compare::Types(imp.ty(), pa, pb));
                            true
                        }
                        None => false,
                    },
                    _ => false,
                },
                ShapeKind::Tuple(elems) => {
                    for e in elems.get().iter() {
                        work.push(Compare::Values(
                            e.shape(),
                            a.add(e.offset()),
                            b.add(e.offset()),
                        ));
                    }
                    true
                }
                ShapeKind::Coll {
                    kind,
                    key,
                    value,
                    glue,
                } => {
                    if glue.len(a) != glue.len(b) {
                        return false;
                    }
                    let mut ea = Vec::new();
                    push_entries(glue, a, &mut ea);
                    if kind.is_ordered() {
                        // The same entries in the same order.
                        let mut eb = Vec::new();
                        push_entries(glue, b, &mut eb);
                        for (x, y) in ea.chunks(2).zip(eb.chunks(2)) {
                            work.push(Compare::Values(key.get(), x[0], y[0]));
                            if let Some(value) = value {
                                work.push(Compare::Values(value.get(), x[1], y[1]));
                            }
                        }
                        return true;
                    }
                    // Every key of `a` is in `b` (keys compare with the collection's `Eq`),
                    // with an equal value.
                    for x in ea.chunks(2) {
                        let y = glue.get(b, x[0]);
                        if y.is_null() {
                            return false;
                        }
                        if let Some(value) = value {
                            work.push(Compare::Values(value.get(), x[1], y));
                        }
                    }
                    true
                }
            },
            Compare::Elements(elem, a, b, n) => {
                if let ShapeKind::Prim(_) | ShapeKind::Handle { .. } = elem.kind() {
                    return bytes_equal(a, b, n * elem.size());
                }
                if n > 0 {
                    let (ra, rb) = (a.add(elem.size()), b.add(elem.size()));
                    work.push(Compare::Elements(elem, ra, rb, n - 1));
                    work.push(Compare::Values(elem, a, b));
                }
                true
            }
            Compare::Slots {
                elem,
                glue,
                a,
                b,
                i,
            } => {
                if i == glue.slot_count(a) {
                    return true;
                }
                work.push(Compare::Slots {
                    elem,
                    glue,
                    a,
                    b,
                    i: i + 1,
                });
                let (ga, va) = glue.slot(a, i);
                let (gb, vb) = glue.slot(b, i);
                if !va.is_null() && !vb.is_null() {
                    work.push(Compare::Values(elem, va, vb));
                }
                ga == gb && va.is_null() == vb.is_null()
            }
            Compare::Types(desc, a, b) => match desc.kind() {
                // Fields of a packed struct may be unaligned: each is compared in aligned
                // copies, here (they own nothing; the recursion is bounded by how packed structs
                // nest in the types, as none can hold itself without a pointer with drop glue).
                TypeKind::Struct(s) if desc.packing().is_some() => s.fields().iter().all(|f| {
                    let ta = Unaligned::read(f.shape(), a.add(f.offset()));
                    let tb = Unaligned::read(f.shape(), b.add(f.offset()));
                    equal(Compare::Values(f.shape(), ta.as_ptr(), tb.as_ptr()))
                }),
                TypeKind::Struct(s) => {
                    for f in s.fields() {
                        work.push(Compare::Values(
                            f.shape(),
                            a.add(f.offset()),
                            b.add(f.offset()),
                        ));
                    }
                    true
                }
                TypeKind::Enum(e) => {
                    let max = e
                        .variants()
                        .iter()
                        .map(|v| v.fields().len())
                        .max()
                        .unwrap_or(0);
                    let mut fa = vec![core::ptr::null::<u8>(); max];
                    let mut fb = vec![core::ptr::null::<u8>(); max];
                    let (va, vb) = (e.read(a, fa.as_mut_ptr()), e.read(b, fb.as_mut_ptr()));
                    if va != vb {
                        return false;
                    }
                    for (i, f) in e.variants()[va].fields().iter().enumerate() {
                        work.push(Compare::Values(f.shape(), fa[i], fb[i]));
                    }
                    true
                }
            },
        }
    }
}

/// Pushes the addresses of a collection's entries to `out` in iteration order, two per entry:
/// key (or element) and value (null but for maps).
///
/// # Safety
/// `coll` is a valid collection of `glue`'s type, unchanged while the addresses are used.
pub unsafe fn push_entries(glue: &CollGlue, coll: *const u8, out: &mut Vec<*mut u8>) {
    unsafe fn push(ctx: *mut (), key: *const u8, value: *const u8) {
        // SAFETY: `ctx` is the vector below, borrowed for the call.
        let out = unsafe { &mut *ctx.cast::<Vec<*mut u8>>() };
        out.push(key.cast_mut());
        out.push(value.cast_mut());
    }
    // SAFETY: the caller passes a valid collection.
    out.reserve(2 * unsafe { glue.len(coll) });
    // SAFETY: as above; `push` accepts the vector as its context and does not unwind (a failed
    // allocation aborts).
    unsafe { glue.for_each(coll, (out as *mut Vec<*mut u8>).cast(), push) };
}

/// Whether `len` bytes at `a` and at `b` are equal.
///
/// # Safety
/// Both ranges are readable.
unsafe fn bytes_equal(a: *const u8, b: *const u8, len: usize) -> bool {
    // SAFETY: the caller's contract.
    unsafe { core::slice::from_raw_parts(a, len) == core::slice::from_raw_parts(b, len) }
}
