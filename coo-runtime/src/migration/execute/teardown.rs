//! Teardown: taking apart a new value without the old value it was built from. A rebuilt
//! collection's entries are no longer paired with the old entries (a hash map's order is its
//! new hashing's), so its rollback cannot follow the build from the old value as
//! [`super::rollback`] does; each entry is taken apart from what the plan and the new value
//! itself say instead: what it owns alone (strings copied, defaults, rebuilt containers,
//! independent copies under a hook) is given up once, its moved parts are left to the old
//! value, which keeps them.
//!
//! This needs nothing of the old value: every conversion's new value shows its own structure (a
//! vector its length, an option whether it is `Some`, an enum its variant). An enum plan that is
//! not an independent copy builds each new variant from exactly one kept old variant (a removed
//! variant becomes a default only under a hook, whose plans are copies), so the new variant
//! names the variant plan that built it.
//!
//! The walk keeps its work on the heap ([`Tear`]), depth first; only a collection nested in a
//! collection's entries adds a level of native recursion (its entries are taken apart while its
//! image's `drain` hands them over, as Rust's own drop glue would recurse).

use crate::descriptors::layout::{BoxGlue, DynGlue, PoolGlue, Shape, TypeKind, VecGlue};
use crate::migration::plan::{Conv, Plan, Step, TupleStep, TypeBody, VariantFieldStep};
use crate::storage::raw::drop_elements;

/// One piece of teardown work: a new value (or a run of them) built by a plan.
#[derive(Clone, Copy)]
enum Tear<'p> {
    /// A new value built by `conv`.
    Conv(&'p Conv, *mut u8),
    /// A new value of type plan `.0`.
    Type(usize, *mut u8),
    /// `n` new elements of `size` bytes each, built by `elem`.
    Elements {
        elem: &'p Conv,
        size: usize,
        dst: *mut u8,
        n: usize,
    },
    /// Slots `i..` of a new pool, built by `elem`.
    Slots {
        elem: &'p Conv,
        glue: &'static PoolGlue,
        dst: *mut u8,
        i: usize,
    },
    /// A new box whose value was taken apart: free its allocation.
    FreeBox(&'static BoxGlue, *mut u8),
    /// A new vector whose elements were taken apart: empty it and free its buffer.
    FreeVec(&'static VecGlue, &'static Shape, *mut u8),
    /// A new pool whose values were taken apart: free its storage.
    FreePool(&'static PoolGlue, *mut u8),
    /// A new `Box<dyn Trait>` whose value was taken apart: free its allocation.
    FreeDyn(&'static DynGlue, *mut u8),
}

/// Whether a new value built by `conv` may own something alone (the new value of a copy, move
/// or cast owns nothing the old value does not keep).
pub(super) fn may_own(conv: &Conv) -> bool {
    !matches!(
        conv,
        Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. }
    )
}

/// Takes apart the new value at `dst` built by `conv`: gives up what it owns alone, leaves its
/// moved parts.
///
/// # Safety
/// `dst` holds the complete result of a build of `conv` (from this `plan`) whose old value is
/// unchanged and keeps its moved parts; `dst` is not used again.
pub(super) unsafe fn tear_down<'p>(plan: &'p Plan, conv: &'p Conv, dst: *mut u8) {
    let mut work = vec![Tear::Conv(conv, dst)];
    while let Some(next) = work.pop() {
        // SAFETY: the caller's contract for the first piece; the others are parts of it pushed
        // by `tear` following the new value's own structure.
        unsafe { tear(plan, next, &mut work) }
    }
}

/// Takes apart the entries of the new collection at `dst` built by a collection conversion
/// (`key` and `value` its entries' conversions) and frees its storage.
///
/// # Safety
/// As for [`tear_down`], with a [`Conv::Coll`].
pub(super) unsafe fn tear_down_coll<'p>(plan: &'p Plan, coll: &'p Conv, dst: *mut u8) {
    let Conv::Coll {
        key, value, new, ..
    } = coll
    else {
        unreachable!("called for collections")
    };
    let value = value.as_deref();
    if !may_own(key) && !value.is_some_and(may_own) {
        // SAFETY: the caller hands over the collection; its entries own nothing alone.
        unsafe { new.drain(dst, core::ptr::null_mut(), None) };
        return;
    }
    struct Ctx<'p> {
        plan: &'p Plan,
        key: &'p Conv,
        value: Option<&'p Conv>,
    }
    unsafe fn entry(ctx: *mut (), k: *mut u8, v: *mut u8) {
        // SAFETY: `ctx` is the `Ctx` below, borrowed for the drain; the entry is the new
        // collection's, built by these conversions, and handed over for the call.
        unsafe {
            let ctx = &*ctx.cast::<Ctx<'_>>();
            tear_down(ctx.plan, ctx.key, k);
            if let Some(value) = ctx.value {
                tear_down(ctx.plan, value, v);
            }
        }
    }
    let mut ctx = Ctx { plan, key, value };
    // SAFETY: the caller hands over the collection; `entry` accepts `ctx` and its entries, and
    // does not unwind (drop glue catches panics in its own image).
    unsafe { new.drain(dst, (&raw mut ctx).cast(), Some(entry)) };
}

/// Does one piece of teardown work, pushing the work on its parts. A container is freed only
/// after its contents: its own work is pushed first, so it is done last.
///
/// # Safety
/// `next` holds what its variant says.
unsafe fn tear<'p>(plan: &'p Plan, next: Tear<'p>, work: &mut Vec<Tear<'p>>) {
    // SAFETY: each arm follows the new value's structure as the plan built it: what it owns
    // alone is given up once, what it shares with the old value is left.
    unsafe {
        match next {
            Tear::Conv(conv, dst) => match conv {
                Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } => {}
                Conv::String { new_shape, .. } => new_shape.drop(dst),
                Conv::Array {
                    elem,
                    new_elem,
                    old_len,
                    new_len,
                    ..
                } => {
                    let common = (*old_len).min(*new_len);
                    // The elements an array gained hold defaults.
                    drop_elements(
                        new_elem,
                        dst.add(common * new_elem.size()),
                        new_len - common,
                    );
                    push_elements(work, elem, new_elem.size(), dst, common);
                }
                Conv::Vec {
                    elem,
                    new_elem,
                    new,
                    new_vec,
                    ..
                } => {
                    let (ptr, len) = new.parts_mut(dst);
                    work.push(Tear::FreeVec(new, new_vec, dst));
                    push_elements(work, elem, new_elem.size(), ptr, len);
                }
                Conv::Box { elem, new, .. } => {
                    work.push(Tear::FreeBox(new, dst));
                    work.push(Tear::Conv(elem, new.get_mut(dst)));
                }
                Conv::Option { elem, new, .. } => {
                    let inner = new.get_mut(dst);
                    if !inner.is_null() {
                        work.push(Tear::Conv(elem, inner));
                    }
                }
                Conv::Pool { elem, new, .. } => {
                    work.push(Tear::FreePool(new, dst));
                    work.push(Tear::Slots {
                        elem,
                        glue: new,
                        dst,
                        i: 0,
                    });
                }
                Conv::Named(index) => work.push(Tear::Type(*index, dst)),
                Conv::Tuple { elems } => {
                    for e in elems {
                        match e {
                            TupleStep::Convert { dst: d, conv, .. } => {
                                work.push(Tear::Conv(conv, dst.add(*d)));
                            }
                            TupleStep::Default {
                                dst: d, new_shape, ..
                            } => new_shape.drop(dst.add(*d)),
                        }
                    }
                }
                Conv::Coll { .. } => tear_down_coll(plan, conv, dst),
                // As a box, by the entry whose new impl made the object; should that not be
                // one entry (or the object's type not be learnt), it is leaked rather than
                // taken apart wrong.
                Conv::Dyn { impls, new, .. } => {
                    if let Ok(name) = new.concrete_name(dst) {
                        let mut made = impls
                            .iter()
                            .filter_map(|c| c.to.as_ref())
                            .filter(|to| to.imp.type_name() == name);
                        if let (Some(to), None) = (made.next(), made.next()) {
                            work.push(Tear::FreeDyn(new.glue(), dst));
                            work.push(Tear::Conv(&to.conv, new.glue().get_mut(dst)));
                        }
                    }
                }
            },
            Tear::Type(index, dst) => tear_type(plan, index, dst, work),
            Tear::Elements { elem, size, dst, n } => {
                // The first element, then the rest (`n >= 1`: empty runs are not pushed).
                if n > 1 {
                    work.push(Tear::Elements {
                        elem,
                        size,
                        dst: dst.add(size),
                        n: n - 1,
                    });
                }
                work.push(Tear::Conv(elem, dst));
            }
            Tear::Slots { elem, glue, dst, i } => {
                if i < glue.slot_count(dst) {
                    work.push(Tear::Slots {
                        elem,
                        glue,
                        dst,
                        i: i + 1,
                    });
                    let (_, value) = glue.slot_mut(dst, i);
                    if !value.is_null() {
                        work.push(Tear::Conv(elem, value));
                    }
                }
            }
            Tear::FreeBox(glue, dst) => glue.free(dst),
            Tear::FreeVec(glue, vec, dst) => {
                glue.set_len(dst, 0);
                vec.drop(dst);
            }
            Tear::FreePool(glue, dst) => glue.free(dst),
            Tear::FreeDyn(glue, dst) => glue.free(dst),
        }
    }
}

/// Pushes the teardown of `n` new elements built by `elem`, unless they own nothing alone.
fn push_elements<'p>(
    work: &mut Vec<Tear<'p>>,
    elem: &'p Conv,
    size: usize,
    dst: *mut u8,
    n: usize,
) {
    if n > 0 && may_own(elem) {
        work.push(Tear::Elements { elem, size, dst, n });
    }
}

/// The part of [`tear`] for a new value of type plan `index`.
///
/// # Safety
/// As for [`tear`].
unsafe fn tear_type<'p>(plan: &'p Plan, index: usize, dst: *mut u8, work: &mut Vec<Tear<'p>>) {
    let tp = &plan.types[index];
    if tp.copy {
        // SAFETY: an independent copy: dropped whole, once.
        unsafe { tp.new.glue().drop(dst) };
        return;
    }
    match &tp.body {
        TypeBody::Struct { steps, .. } => {
            for step in steps {
                match step {
                    Step::Copy { .. } => {}
                    // A new field without drop glue owns nothing (and may lie unaligned in a
                    // packed struct, where no glue may see it).
                    Step::Convert { new_shape, .. } | Step::Default { new_shape, .. }
                        if !new_shape.needs_drop() => {}
                    Step::Convert { dst: d, conv, .. } => {
                        // SAFETY: the offset is the new field's own.
                        work.push(Tear::Conv(conv, unsafe { dst.add(*d) }));
                    }
                    Step::Default {
                        dst: d, new_shape, ..
                    } => {
                        // SAFETY: a default is the new value's alone: dropped once.
                        unsafe { new_shape.drop(dst.add(*d)) }
                    }
                }
            }
        }
        TypeBody::Enum(ep) => {
            let TypeKind::Enum(new_enum) = tp.new.kind() else {
                unreachable!("enum plans are made for enums")
            };
            let max = new_enum.variants().iter().map(|v| v.fields().len()).max();
            let mut fields = vec![core::ptr::null_mut::<u8>(); max.unwrap_or(0)];
            // SAFETY: `dst` holds a valid new value, ours alone, with room for its fields'
            // addresses.
            let vi = unsafe { new_enum.read_mut(dst, fields.as_mut_ptr()) };
            // Not a copy: no removed variant became a default, so exactly one kept variant
            // built this one (see the module documentation).
            let vp = ep
                .variants
                .iter()
                .flatten()
                .find(|vp| vp.new_index == vi)
                .expect("a kept variant built the new one");
            for (j, step) in vp.fields.iter().enumerate() {
                match step {
                    VariantFieldStep::Convert { conv, .. } => {
                        work.push(Tear::Conv(conv, fields[j]))
                    }
                    // SAFETY: a default is the new value's alone: dropped once.
                    VariantFieldStep::Default { new_shape, .. } => unsafe {
                        new_shape.drop(fields[j])
                    },
                }
            }
        }
        // SAFETY: built from a default: the new value's alone, dropped once.
        TypeBody::HookOnly(_) => unsafe { tp.new.glue().drop(dst) },
    }
}
