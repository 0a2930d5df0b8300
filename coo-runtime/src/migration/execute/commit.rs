//! Commit: once every new value was built, each old value gives up what it still owns after its
//! moved parts went to the new value — removed fields, containers that were rebuilt, copies'
//! originals — and afterwards its storage holds nothing to drop.
//!
//! The walk keeps its work on the heap ([`Release`]), depth first, so releasing a value nested a
//! million levels deep needs no native recursion.

use crate::descriptors::layout::{BoxGlue, DynGlue, PoolGlue, Shape, VecGlue};
use crate::migration::plan::{
    Conv, Plan, Step, TupleStep, TypeBody, VariantFieldStep, conv_releases,
};
use crate::storage::raw::drop_elements;

use super::enums;

/// One piece of commit work on an old value (or a run of them) that a kept build read.
#[derive(Clone, Copy)]
enum Release<'p> {
    /// An old value converted by `conv`.
    Conv(&'p Conv, *mut u8),
    /// An old value of type plan `.0`.
    Type(usize, *mut u8),
    /// `n` old elements of `size` bytes each, converted by `elem`.
    Elements {
        elem: &'p Conv,
        size: usize,
        src: *mut u8,
        n: usize,
    },
    /// Slots `i..` of an old pool, converted by `elem`.
    Slots {
        elem: &'p Conv,
        glue: &'static PoolGlue,
        src: *mut u8,
        i: usize,
    },
    /// An old box whose value was released: free its allocation.
    FreeBox(&'static BoxGlue, *mut u8),
    /// An old vector whose elements were released: empty it and free its buffer.
    FreeVec(&'static VecGlue, &'static Shape, *mut u8),
    /// An old pool whose values were released: free its storage.
    FreePool(&'static PoolGlue, *mut u8),
    /// An old `Box<dyn Trait>` whose value was released: free its allocation.
    FreeDyn(&'static DynGlue, *mut u8),
}

/// Gives up what the old value of type plan `index` at `src` still owns after a successful
/// build: afterwards its storage holds nothing to drop.
///
/// # Safety
/// `src` is the old value a build of this plan read, and that build was kept; it is not used
/// again.
pub(super) unsafe fn release_type(plan: &Plan, index: usize, src: *mut u8) {
    if !plan.releases[index] {
        return;
    }
    let mut work = vec![Release::Type(index, src)];
    while let Some(next) = work.pop() {
        // SAFETY: the caller's contract for the first piece of work; the others are parts of it
        // pushed by `release` following the kept build's structure.
        unsafe { release(plan, next, &mut work) }
    }
}

/// Does one piece of commit work, pushing the work on its parts. A container is freed only
/// after its contents: its own work is pushed first, so it is done last.
///
/// # Safety
/// `next` holds what its variant says, and the build that read it was kept.
unsafe fn release<'p>(plan: &'p Plan, next: Release<'p>, work: &mut Vec<Release<'p>>) {
    // SAFETY: each arm follows the kept build of the same conversion, which read `src`: what
    // moved is now the new value's and is left alone, the rest is given up once.
    unsafe {
        match next {
            Release::Type(index, src) => release_type_parts(plan, index, src, work),
            Release::Conv(conv, src) => match conv {
                Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } => {}
                // A copied string's original is given up.
                Conv::String { old_shape, .. } => old_shape.drop(src),
                Conv::Array {
                    elem,
                    old_elem,
                    old_len,
                    new_len,
                    ..
                } => {
                    let common = (*old_len).min(*new_len);
                    // The elements an array lost held defaults: dropped here, once.
                    drop_elements(
                        old_elem,
                        src.add(common * old_elem.size()),
                        old_len - common,
                    );
                    push_elements(plan, work, elem, old_elem, src, common);
                }
                Conv::Vec {
                    elem,
                    old_elem,
                    old,
                    old_vec,
                    ..
                } => {
                    let (ptr, len) = old.parts_mut(src);
                    work.push(Release::FreeVec(old, old_vec, src));
                    push_elements(plan, work, elem, old_elem, ptr, len);
                }
                Conv::Box { elem, old, .. } => {
                    work.push(Release::FreeBox(old, src));
                    work.push(Release::Conv(elem, old.get_mut(src)));
                }
                Conv::Option { elem, old, .. } => {
                    let inner = old.get_mut(src);
                    if !inner.is_null() {
                        work.push(Release::Conv(elem, inner));
                    }
                }
                Conv::Pool { elem, old, .. } => {
                    work.push(Release::FreePool(old, src));
                    work.push(Release::Slots {
                        elem,
                        glue: old,
                        src,
                        i: 0,
                    });
                }
                Conv::Named(index) => work.push(Release::Type(*index, src)),
                Conv::Tuple { elems } => {
                    for e in elems {
                        if let TupleStep::Convert { src: s, conv, .. } = e {
                            work.push(Release::Conv(conv, src.add(*s)));
                        }
                    }
                }
                // The entries moved to the new collection: the old one gives up what they
                // still hold, and its storage.
                Conv::Coll { .. } => release_coll(plan, conv, src),
                // As a box: the value inside was built as its concrete type's new version.
                Conv::Dyn { old, .. } => {
                    // The build asked the same object before (and it answered); should the
                    // hidden method panic now, the object is leaked rather than released wrong.
                    if let Ok(name) = old.concrete_name(src)
                        && let Some((_, c)) = conv.dyn_impl(name)
                        && let Some(to) = &c.to
                    {
                        work.push(Release::FreeDyn(old.glue(), src));
                        work.push(Release::Conv(&to.conv, old.glue().get_mut(src)));
                    }
                }
            },
            Release::Elements { elem, size, src, n } => {
                // The first element, then the rest (`n >= 1`: empty runs are not pushed).
                if n > 1 {
                    work.push(Release::Elements {
                        elem,
                        size,
                        src: src.add(size),
                        n: n - 1,
                    });
                }
                work.push(Release::Conv(elem, src));
            }
            Release::Slots { elem, glue, src, i } => {
                if i < glue.slot_count(src) {
                    work.push(Release::Slots {
                        elem,
                        glue,
                        src,
                        i: i + 1,
                    });
                    let (_, value) = glue.slot_mut(src, i);
                    if !value.is_null() {
                        work.push(Release::Conv(elem, value));
                    }
                }
            }
            Release::FreeBox(glue, src) => glue.free(src),
            Release::FreeVec(glue, vec, src) => {
                // The elements are released: empty the vector and free its buffer.
                glue.set_len(src, 0);
                vec.drop(src);
            }
            Release::FreePool(glue, src) => glue.free(src),
            Release::FreeDyn(glue, src) => glue.free(src),
        }
    }
}

/// Releases the entries of an old collection converted by a collection conversion (what each
/// still owns after its moved parts went to the new collection) and frees its storage.
///
/// # Safety
/// As for [`release`], with a [`Conv::Coll`]: the collection at `src` is not used again.
unsafe fn release_coll<'p>(plan: &'p Plan, coll: &'p Conv, src: *mut u8) {
    let Conv::Coll {
        key, value, old, ..
    } = coll
    else {
        unreachable!("called for collections")
    };
    let value = value.as_deref();
    let releases = |conv: &Conv| conv_releases(conv, &plan.releases);
    if !releases(key) && !value.is_some_and(releases) {
        // SAFETY: the caller hands over the collection; its entries moved out whole.
        unsafe { old.drain(src, core::ptr::null_mut(), None) };
        return;
    }
    struct Ctx<'p> {
        plan: &'p Plan,
        key: &'p Conv,
        value: Option<&'p Conv>,
    }
    unsafe fn entry(ctx: *mut (), k: *mut u8, v: *mut u8) {
        // SAFETY: `ctx` is the `Ctx` below, borrowed for the drain; the entry is the old
        // collection's, read by the kept build through these conversions, and handed over for
        // the call.
        unsafe {
            let ctx = &*ctx.cast::<Ctx<'_>>();
            let mut work = vec![Release::Conv(ctx.key, k)];
            if let Some(value) = ctx.value {
                work.push(Release::Conv(value, v));
            }
            while let Some(next) = work.pop() {
                release(ctx.plan, next, &mut work);
            }
        }
    }
    let mut ctx = Ctx { plan, key, value };
    // SAFETY: the caller hands over the collection; `entry` accepts `ctx` and its entries, and
    // does not unwind (drop glue catches panics in its own image).
    unsafe { old.drain(src, (&raw mut ctx).cast(), Some(entry)) };
}

/// Pushes the release of `n` old elements converted by `elem`, unless they own nothing after
/// the build (plain data, moved values): then a run of a million elements costs nothing.
fn push_elements<'p>(
    plan: &'p Plan,
    work: &mut Vec<Release<'p>>,
    elem: &'p Conv,
    old_elem: &Shape,
    src: *mut u8,
    n: usize,
) {
    if n > 0 && conv_releases(elem, &plan.releases) {
        work.push(Release::Elements {
            elem,
            size: old_elem.size(),
            src,
            n,
        });
    }
}

/// The part of [`release`] for a value of type plan `index`.
///
/// # Safety
/// As for [`release`].
unsafe fn release_type_parts<'p>(
    plan: &'p Plan,
    index: usize,
    src: *mut u8,
    work: &mut Vec<Release<'p>>,
) {
    if !plan.releases[index] {
        return;
    }
    let tp = &plan.types[index];
    if tp.copy {
        // SAFETY: the new value is an independent copy; the old one is dropped whole, once.
        unsafe { tp.old.glue().drop(src) };
        return;
    }
    match &tp.body {
        TypeBody::Struct { steps, removed } => {
            for step in steps {
                // A field without drop glue owns nothing (and may lie unaligned in a packed
                // struct, where no glue may see it).
                if let Step::Convert {
                    src: s,
                    conv,
                    old_shape,
                    ..
                } = step
                    && old_shape.needs_drop()
                {
                    // SAFETY: the field was converted by the kept build.
                    work.push(Release::Conv(conv, unsafe { src.add(*s) }));
                }
            }
            for (offset, shape) in removed.iter().filter(|(_, shape)| shape.needs_drop()) {
                // SAFETY: a removed field went nowhere: it is dropped here, once.
                unsafe { shape.drop(src.add(*offset)) }
            }
        }
        TypeBody::Enum(ep) => {
            let (old_enum, _) = enums(tp.old, tp.new);
            let mut addrs = vec![core::ptr::null_mut::<u8>(); ep.old_max_fields];
            // SAFETY: `src` is a valid old value, ours alone now, with room for its fields'
            // addresses.
            let vi = unsafe { old_enum.read_mut(src, addrs.as_mut_ptr()) };
            let fields = old_enum.variants()[vi].fields();
            match &ep.variants[vi] {
                Some(vp) => {
                    for step in &vp.fields {
                        if let VariantFieldStep::Convert {
                            old_index, conv, ..
                        } = step
                        {
                            work.push(Release::Conv(conv, addrs[*old_index]));
                        }
                    }
                    for &o in &vp.removed {
                        // SAFETY: a removed field went nowhere: dropped here, once.
                        unsafe { fields[o].shape().drop(addrs[o]) }
                    }
                }
                // SAFETY: a removed variant's value was replaced by a default: it is dropped
                // whole, once.
                None => unsafe { tp.old.glue().drop(src) },
            }
        }
        // SAFETY: the new value was built from a default, not from this one: dropped once.
        TypeBody::HookOnly(_) => unsafe { tp.old.glue().drop(src) },
    }
}
