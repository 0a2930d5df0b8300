//! Rollback: taking apart new values that a build wrote, giving up what each owns alone and
//! leaving what it shares with the old value it was built from (the moved parts, which the old
//! value keeps).
//!
//! Each piece of work mirrors the build of the same conversion from the unchanged old value. The
//! walk keeps its work on the heap ([`Rollback`]), depth first, so taking apart a value nested a
//! million levels deep needs no native recursion.

use crate::descriptors::layout::{BoxGlue, DynGlue, PoolGlue, Shape, VecGlue};
use crate::migration::plan::{Conv, Plan, Step, TupleStep, TypeBody, VariantFieldStep};
use crate::storage::raw::drop_elements;

use super::enums;

/// One piece of rollback work: a new value (or a run of them) built from old ones at `src`.
#[derive(Clone, Copy)]
enum Undo<'p> {
    /// The result of building `conv` from `src`.
    Conv(&'p Conv, *const u8, *mut u8),
    /// The result of building type plan `.0` from `src`.
    Type(usize, *const u8, *mut u8),
    /// `n` new elements at `dst`, each built by `elem` from the old one at the same index.
    Elements {
        elem: &'p Conv,
        old_size: usize,
        new_size: usize,
        src: *const u8,
        dst: *mut u8,
        n: usize,
    },
    /// Slots `i..n` of a new pool, each built from the same slot of the old one.
    Slots {
        elem: &'p Conv,
        old: &'static PoolGlue,
        new: &'static PoolGlue,
        src: *const u8,
        dst: *mut u8,
        i: usize,
        n: usize,
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

/// Rollback work, collected with the `push_*` functions and done by [`Rollback::run`].
pub(super) struct Rollback<'p> {
    plan: &'p Plan,
    work: Vec<Undo<'p>>,
}

impl<'p> Rollback<'p> {
    pub(super) fn new(plan: &'p Plan) -> Self {
        Rollback {
            plan,
            work: Vec::new(),
        }
    }

    /// Does the work pushed so far, most recent first (a container's contents before the
    /// container itself).
    ///
    /// # Safety
    /// Every piece of work pushed holds what its `push_*` function requires.
    pub(super) unsafe fn run(&mut self) {
        while let Some(undo) = self.work.pop() {
            // SAFETY: the caller's contract for what it pushed; the rest was pushed below
            // following the build's own structure.
            unsafe { self.undo(undo) }
        }
    }

    /// # Safety
    /// `dst` holds the complete result of building type plan `index` from `src`, which is
    /// unchanged.
    pub(super) unsafe fn push_type(&mut self, index: usize, src: *const u8, dst: *mut u8) {
        self.work.push(Undo::Type(index, src, dst));
    }

    /// # Safety
    /// `dst` holds the complete result of building `conv` from `src`, which is unchanged.
    pub(super) unsafe fn push_conv(&mut self, conv: &'p Conv, src: *const u8, dst: *mut u8) {
        if !matches!(
            conv,
            Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. }
        ) {
            self.work.push(Undo::Conv(conv, src, dst));
        }
    }

    /// # Safety
    /// `dst` holds the fields that `steps` built from `src`.
    pub(super) unsafe fn push_steps(&mut self, steps: &'p [Step], src: *const u8, dst: *mut u8) {
        for step in steps {
            match step {
                Step::Copy { .. } => {}
                // A new field without drop glue owns nothing to give up (and may lie unaligned in
                // a packed struct, where no glue may see it).
                Step::Convert { new_shape, .. } | Step::Default { new_shape, .. }
                    if !new_shape.needs_drop() => {}
                Step::Convert {
                    src: s,
                    dst: d,
                    conv,
                    ..
                } => {
                    // SAFETY: the field was built by this conversion (caller's contract); the
                    // offsets are the fields' own.
                    unsafe { self.push_conv(conv, src.add(*s), dst.add(*d)) }
                }
                Step::Default {
                    dst: d, new_shape, ..
                } => {
                    // SAFETY: a default is an independent value, dropped once.
                    unsafe { new_shape.drop(dst.add(*d)) }
                }
            }
        }
    }

    /// # Safety
    /// `dst` holds the tuple elements that `elems` built from `src`.
    pub(super) unsafe fn push_tuple(
        &mut self,
        elems: &'p [TupleStep],
        src: *const u8,
        dst: *mut u8,
    ) {
        for e in elems {
            match e {
                TupleStep::Convert {
                    src: s,
                    dst: d,
                    conv,
                    ..
                } => {
                    // SAFETY: the element was built by this conversion; the offsets are the
                    // elements' own.
                    unsafe { self.push_conv(conv, src.add(*s), dst.add(*d)) }
                }
                TupleStep::Default {
                    dst: d, new_shape, ..
                } => {
                    // SAFETY: a default is an independent value, dropped once.
                    unsafe { new_shape.drop(dst.add(*d)) }
                }
            }
        }
    }

    /// # Safety
    /// `dst` holds the field `step` built from the old fields at `old_addrs`.
    pub(super) unsafe fn push_variant_field(
        &mut self,
        step: &'p VariantFieldStep,
        old_addrs: &[*const u8],
        dst: *mut u8,
    ) {
        match step {
            VariantFieldStep::Convert {
                old_index, conv, ..
            } => {
                // SAFETY: the field was built by this conversion from that old field.
                unsafe { self.push_conv(conv, old_addrs[*old_index], dst) }
            }
            // SAFETY: a default is an independent value, dropped once.
            VariantFieldStep::Default { new_shape, .. } => unsafe { new_shape.drop(dst) },
        }
    }

    /// # Safety
    /// `dst` holds `n` new elements of `new_elem`, each built by `elem` from the old element of
    /// `old_elem` at the same index from `src`.
    pub(super) unsafe fn push_elements(
        &mut self,
        elem: &'p Conv,
        old_elem: &Shape,
        new_elem: &Shape,
        src: *const u8,
        dst: *mut u8,
        n: usize,
    ) {
        if n > 0
            && !matches!(
                elem,
                Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. }
            )
        {
            self.work.push(Undo::Elements {
                elem,
                old_size: old_elem.size(),
                new_size: new_elem.size(),
                src,
                dst,
                n,
            });
        }
    }

    /// # Safety
    /// `dst` is a new pool whose first `n` slots were built by `elem` from the same slots of the
    /// old pool at `src`; the pool is freed afterwards.
    pub(super) unsafe fn push_pool(
        &mut self,
        elem: &'p Conv,
        old: &'static PoolGlue,
        new: &'static PoolGlue,
        src: *const u8,
        dst: *mut u8,
        n: usize,
    ) {
        self.work.push(Undo::FreePool(new, dst));
        self.work.push(Undo::Slots {
            elem,
            old,
            new,
            src,
            dst,
            i: 0,
            n,
        });
    }

    /// # Safety
    /// `undo` holds what its variant says.
    unsafe fn undo(&mut self, undo: Undo<'p>) {
        // SAFETY: each arm mirrors the build of the same conversion from the unchanged `src`:
        // what the new value shares with it is left alone, what it owns alone is given up once,
        // and a container is freed only after its contents (pushed after it, so done before).
        unsafe {
            match undo {
                Undo::Conv(conv, src, dst) => self.undo_conv(conv, src, dst),
                Undo::Type(index, src, dst) => self.undo_type(index, src, dst),
                Undo::Elements {
                    elem,
                    old_size,
                    new_size,
                    src,
                    dst,
                    n,
                } => {
                    // The first element, then the rest (`n >= 1`: empty runs are not pushed).
                    if n > 1 {
                        self.work.push(Undo::Elements {
                            elem,
                            old_size,
                            new_size,
                            src: src.add(old_size),
                            dst: dst.add(new_size),
                            n: n - 1,
                        });
                    }
                    self.push_conv(elem, src, dst);
                }
                Undo::Slots {
                    elem,
                    old,
                    new,
                    src,
                    dst,
                    i,
                    n,
                } => {
                    if i < n {
                        self.work.push(Undo::Slots {
                            elem,
                            old,
                            new,
                            src,
                            dst,
                            i: i + 1,
                            n,
                        });
                        let (_, value) = new.slot_mut(dst, i);
                        if !value.is_null() {
                            self.push_conv(elem, old.slot(src, i).1, value);
                        }
                    }
                }
                Undo::FreeBox(glue, dst) => glue.free(dst),
                Undo::FreeVec(glue, vec, dst) => {
                    glue.set_len(dst, 0);
                    vec.drop(dst);
                }
                Undo::FreePool(glue, dst) => glue.free(dst),
                Undo::FreeDyn(glue, dst) => glue.free(dst),
            }
        }
    }

    /// # Safety
    /// `dst` holds the complete result of building `conv` from `src`, which is unchanged.
    unsafe fn undo_conv(&mut self, conv: &'p Conv, src: *const u8, dst: *mut u8) {
        // SAFETY: as for `undo`.
        unsafe {
            match conv {
                // Shared with the old value, which keeps it.
                Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } => {}
                // A copied string is the new value's alone.
                Conv::String { new_shape, .. } => new_shape.drop(dst),
                Conv::Array {
                    elem,
                    old_elem,
                    new_elem,
                    old_len,
                    new_len,
                    ..
                } => {
                    let common = (*old_len).min(*new_len);
                    drop_elements(
                        new_elem,
                        dst.add(common * new_elem.size()),
                        new_len - common,
                    );
                    self.push_elements(elem, old_elem, new_elem, src, dst, common);
                }
                Conv::Vec {
                    elem,
                    old_elem,
                    new_elem,
                    old,
                    new,
                    new_vec,
                    ..
                } => {
                    // The new vector's own length: the old one's when it was built, zero when
                    // its conversion was deferred to commit (`build/in_place.rs`).
                    let (old_ptr, _) = old.parts(src);
                    let (new_ptr, len) = new.parts_mut(dst);
                    self.work.push(Undo::FreeVec(new, new_vec, dst));
                    self.push_elements(elem, old_elem, new_elem, old_ptr, new_ptr, len);
                }
                Conv::Box { elem, old, new, .. } => {
                    self.work.push(Undo::FreeBox(new, dst));
                    self.push_conv(elem, old.get(src), new.get_mut(dst));
                }
                Conv::Option { elem, old, new, .. } => {
                    let inner = new.get_mut(dst);
                    if !inner.is_null() {
                        self.push_conv(elem, old.get(src), inner);
                    }
                }
                Conv::Pool { elem, old, new, .. } => {
                    let n = new.slot_count(dst);
                    self.push_pool(elem, old, new, src, dst, n);
                }
                Conv::Named(index) => self.undo_type(*index, src, dst),
                Conv::Tuple { elems } => self.push_tuple(elems, src, dst),
                // Its entries are no longer paired with the old ones: taken apart from what
                // they show themselves.
                Conv::Coll { .. } => super::teardown::tear_down_coll(self.plan, conv, dst),
                // As a box: the value inside was built from the old object's by the entry of
                // its concrete type (the build asked it; should it panic now, the new object
                // is leaked rather than taken apart wrong).
                Conv::Dyn { old, new, .. } => {
                    if let Ok(name) = old.concrete_name(src)
                        && let Some((_, c)) = conv.dyn_impl(name)
                        && let Some(to) = &c.to
                    {
                        self.work.push(Undo::FreeDyn(new.glue(), dst));
                        self.push_conv(&to.conv, old.glue().get(src), new.glue().get_mut(dst));
                    }
                }
            }
        }
    }

    /// # Safety
    /// `dst` holds the complete result of building type plan `index` from `src`, which is
    /// unchanged.
    unsafe fn undo_type(&mut self, index: usize, src: *const u8, dst: *mut u8) {
        let tp = &self.plan.types[index];
        if tp.copy {
            // SAFETY: the new value is an independent copy: dropped whole, once.
            unsafe { tp.new.glue().drop(dst) };
            return;
        }
        match &tp.body {
            // SAFETY: every step was built from `src` into `dst`.
            TypeBody::Struct { steps, .. } => unsafe { self.push_steps(steps, src, dst) },
            TypeBody::Enum(ep) => {
                let (old_enum, new_enum) = enums(tp.old, tp.new);
                let mut old_addrs = vec![core::ptr::null::<u8>(); ep.old_max_fields];
                // SAFETY: `src` is the unchanged old value.
                let vi = unsafe { old_enum.read(src, old_addrs.as_mut_ptr()) };
                match &ep.variants[vi] {
                    Some(vp) => {
                        let max = new_enum.variants().iter().map(|v| v.fields().len()).max();
                        let mut new_addrs = vec![core::ptr::null_mut::<u8>(); max.unwrap_or(0)];
                        // SAFETY: `dst` holds the new value built from `src`, ours alone.
                        unsafe { new_enum.read_mut(dst, new_addrs.as_mut_ptr()) };
                        for (j, step) in vp.fields.iter().enumerate() {
                            // SAFETY: field `j` of the new variant was built by `step`.
                            unsafe { self.push_variant_field(step, &old_addrs, new_addrs[j]) }
                        }
                    }
                    // SAFETY: built from a default: an independent value, dropped once.
                    None => unsafe { tp.new.glue().drop(dst) },
                }
            }
            // SAFETY: built from a default: an independent value, dropped once.
            TypeBody::HookOnly(_) => unsafe { tp.new.glue().drop(dst) },
        }
    }
}
