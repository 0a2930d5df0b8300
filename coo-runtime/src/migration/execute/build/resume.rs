//! Going on with a value under construction: [`Exec::resume`] builds the top frame's next parts
//! until one pushes a frame of its own or all are done (then the frame's value is completed:
//! a vector's length set, an enum's variant written, a box filled, a type's hook run), and
//! [`Exec::abandon`] gives up a frame whose part failed, taking apart the parts it completed.

use std::alloc::Layout;

use crate::descriptors::layout::shape_text;
use crate::migration::plan::{Conv, DynImplTo, Step, TupleStep, TypeBody, VariantFieldStep};
use crate::storage::raw::{self, shape_layout};

use super::super::defaults::write_default_inside;
use super::super::error::{ExecuteError, ExecuteErrorKind, Seg};
use super::super::rollback::Rollback;
use super::super::{Exec, enums, teardown};
use super::coll::{coll_kind, entry_parts, entry_scratch, render_key};
use super::{Frame, Work};

impl<'p> Exec<'p> {
    /// Goes on with the top frame, `top`: builds its next parts, until one pushes a frame of its
    /// own or all are done (then the frame is popped and its value completed).
    ///
    /// # Safety
    /// `top` is the top frame, and its parts `..next` are complete.
    pub(super) unsafe fn resume(&mut self, top: Frame<'p>) -> Result<(), ExecuteError> {
        let depth = self.frames.len();
        let plan = self.plan;
        let Frame {
            src,
            dst,
            next,
            work,
        } = top;
        // Throughout: the frame's `src` and `dst` are the old value and the new one's
        // storage of what `work` builds (they were pushed so by `start`); offsets and strides
        // come from the plan of the same conversion.
        match work {
            Work::Struct { index } => {
                let TypeBody::Struct { steps, .. } = &plan.types[index].body else {
                    unreachable!("a struct frame builds a struct")
                };
                let mut i = next;
                while let Some(step) = steps.get(i) {
                    i += 1;
                    match step {
                        Step::Copy {
                            src: s,
                            dst: d,
                            len,
                        } => {
                            // SAFETY: the run lies inside both values (offsets and sizes of
                            // fields whose bytes mean the same in both versions).
                            unsafe {
                                core::ptr::copy_nonoverlapping(src.add(*s), dst.add(*d), *len)
                            }
                        }
                        Step::Convert {
                            src: s,
                            dst: d,
                            conv,
                            ..
                        } => {
                            self.set_next(i);
                            // SAFETY: the offsets are the fields' own.
                            unsafe { self.start(conv, src.add(*s), dst.add(*d))? };
                            if self.frames.len() != depth {
                                return Ok(());
                            }
                        }
                        Step::Default {
                            dst: d, plan: dp, ..
                        } => {
                            self.set_next(i);
                            // SAFETY: the offset is the new field's own.
                            unsafe { write_default_inside(dp, dst.add(*d))? }
                        }
                    }
                }
                self.frames.pop();
                // SAFETY: every field is built.
                unsafe { self.finish_type(index, src, dst) }
            }
            Work::Variant {
                index,
                vi,
                addrs,
                scratch,
            } => {
                let tp = &plan.types[index];
                let TypeBody::Enum(ep) = &tp.body else {
                    unreachable!("a variant frame builds an enum")
                };
                let vp = ep.variants[vi].as_ref().expect("a kept variant");
                let mut j = next;
                while let Some(step) = vp.fields.get(j) {
                    // SAFETY: the offsets come from the scratch layout.
                    let fdst = unsafe { scratch.as_ptr().add(vp.offsets[j]) };
                    j += 1;
                    self.set_next(j);
                    match step {
                        VariantFieldStep::Convert {
                            old_index, conv, ..
                        } => {
                            let old = self.addrs[addrs + old_index];
                            // SAFETY: `old` is a field of the valid old value.
                            unsafe { self.start(conv, old, fdst)? };
                            if self.frames.len() != depth {
                                return Ok(());
                            }
                        }
                        VariantFieldStep::Default { plan: dp, .. } => {
                            // SAFETY: `fdst` is valid for writes of the new field.
                            unsafe { write_default_inside(dp, fdst)? }
                        }
                    }
                }
                self.frames.pop();
                let (_, new_enum) = enums(tp.old, tp.new);
                // The new fields' addresses, after the old ones.
                let fields = self.addrs.len();
                for &offset in &vp.offsets {
                    // SAFETY: the offsets come from the scratch layout.
                    self.addrs.push(unsafe { scratch.as_ptr().add(offset) });
                }
                // SAFETY: every field of the new variant is built in the scratch buffer; `write`
                // moves them out, and the scratch is then only freed.
                unsafe {
                    new_enum.write(dst, vp.new_index, self.addrs[fields..].as_ptr());
                    raw::dealloc(scratch, vp.scratch);
                }
                self.addrs.truncate(addrs);
                // SAFETY: the variant is written.
                unsafe { self.finish_type(index, src, dst) }
            }
            Work::Elements { conv, at, len } => {
                let (Conv::Array {
                    elem,
                    old_elem,
                    new_elem,
                    ..
                }
                | Conv::Vec {
                    elem,
                    old_elem,
                    new_elem,
                    ..
                }) = conv
                else {
                    unreachable!("an elements frame builds an array or a vector")
                };
                let mut i = next;
                while i < len {
                    // SAFETY: element `i < len` of each buffer.
                    let (s, d) =
                        unsafe { (src.add(i * old_elem.size()), dst.add(i * new_elem.size())) };
                    i += 1;
                    self.set_next(i);
                    // SAFETY: as above.
                    unsafe { self.start(elem, s, d)? };
                    if self.frames.len() != depth {
                        return Ok(());
                    }
                }
                self.frames.pop();
                match conv {
                    // SAFETY: the elements the array keeps are built.
                    Conv::Array { .. } => unsafe { self.fill_array(conv, src, dst) },
                    Conv::Vec { new, .. } => {
                        // SAFETY: the first `len` elements are built.
                        unsafe { new.set_len(at, len) };
                        Ok(())
                    }
                    _ => unreachable!("matched above"),
                }
            }
            Work::Pool {
                conv,
                scratch,
                n,
                pending,
            } => {
                let Conv::Pool { elem, old, new, .. } = conv else {
                    unreachable!("a pool frame builds a pool")
                };
                let dst_pool = dst;
                if pending {
                    // SAFETY: slot `next - 1` of the old pool was built in the scratch, which
                    // `set_slot` moves out of.
                    unsafe {
                        let (generation, _) = old.slot(src, next - 1);
                        new.set_slot(dst_pool, next - 1, generation, scratch.as_ptr());
                    }
                    self.set_pending(false);
                }
                let mut i = next;
                while i < n {
                    // SAFETY: `i < slot_count`.
                    let (generation, value) = unsafe { old.slot(src, i) };
                    i += 1;
                    if value.is_null() {
                        // SAFETY: slots are set in order; a null source leaves it vacant.
                        unsafe { new.set_slot(dst_pool, i - 1, generation, core::ptr::null_mut()) };
                        continue;
                    }
                    self.set_next(i);
                    self.set_pending(true);
                    // SAFETY: `value` is a valid old element; the scratch fits a new one.
                    unsafe { self.start(elem, value, scratch.as_ptr())? };
                    if self.frames.len() != depth {
                        return Ok(());
                    }
                    // SAFETY: the scratch holds a complete value, which `set_slot` moves out.
                    unsafe { new.set_slot(dst_pool, i - 1, generation, scratch.as_ptr()) };
                    self.set_pending(false);
                }
                self.frames.pop();
                // SAFETY: the scratch holds nothing; it came from `raw::alloc` with this layout.
                unsafe { raw::dealloc(scratch, pool_scratch(conv)) };
                Ok(())
            }
            Work::Boxed { conv, scratch } => {
                let elem = match conv {
                    Conv::Box { elem, .. } | Conv::Option { elem, .. } => elem,
                    _ => unreachable!("a boxed frame builds a box or an option"),
                };
                if next == 0 {
                    self.set_next(1);
                    // SAFETY: `src` is the old value inside; the scratch fits the new one.
                    unsafe { self.start(elem, src, scratch.as_ptr())? };
                    if self.frames.len() != depth {
                        return Ok(());
                    }
                }
                self.frames.pop();
                // SAFETY: the scratch holds a complete value, which the new container's glue
                // moves into the container at `dst`; the scratch is then only freed.
                unsafe {
                    match conv {
                        Conv::Box { new, .. } => new.write_from(dst, scratch.as_ptr()),
                        Conv::Option { new, .. } => new.write_some(dst, scratch.as_ptr()),
                        _ => unreachable!("a boxed frame builds a box or an option"),
                    }
                    raw::dealloc(scratch, boxed_scratch(conv));
                }
                Ok(())
            }
            Work::Dyn { conv, imp, scratch } => {
                let to = dyn_to(conv, imp);
                if next == 0 {
                    self.set_next(1);
                    // SAFETY: `src` is the old concrete value; the scratch fits the new one.
                    unsafe { self.start(&to.conv, src, scratch.as_ptr())? };
                    if self.frames.len() != depth {
                        return Ok(());
                    }
                }
                self.frames.pop();
                // SAFETY: the scratch holds a complete value of the new concrete type, which
                // the new impl moves into a box with the new image's vtable at `dst`; the
                // scratch is then only freed.
                unsafe {
                    to.imp.glue().write_box(dst, scratch.as_ptr());
                    raw::dealloc(scratch, shape_layout(to.new_elem));
                }
                if let Conv::Dyn { new, .. } = conv {
                    let key = (new.trait_name(), to.imp.type_name());
                    *self.rebound.entry(key).or_default() += 1;
                }
                Ok(())
            }
            Work::Tuple { conv } => {
                let Conv::Tuple { elems } = conv else {
                    unreachable!("a tuple frame builds a tuple")
                };
                let mut i = next;
                while let Some(step) = elems.get(i) {
                    i += 1;
                    self.set_next(i);
                    match step {
                        TupleStep::Convert {
                            src: s,
                            dst: d,
                            conv,
                            ..
                        } => {
                            // SAFETY: the offsets are the elements' own.
                            unsafe { self.start(conv, src.add(*s), dst.add(*d))? };
                            if self.frames.len() != depth {
                                return Ok(());
                            }
                        }
                        TupleStep::Default {
                            dst: d, plan: dp, ..
                        } => {
                            // SAFETY: the offset is the new element's own.
                            unsafe { write_default_inside(dp, dst.add(*d))? }
                        }
                    }
                }
                self.frames.pop();
                Ok(())
            }
            Work::Coll {
                conv,
                scratch,
                entries,
                n,
            } => {
                let Conv::Coll {
                    key, value, new, ..
                } = conv
                else {
                    unreachable!("a collection frame builds a collection")
                };
                let per = entry_parts(conv);
                let (layout, value_at) = entry_scratch(conv);
                // SAFETY: the value's offset lies inside the scratch.
                let (k, v) = (scratch.as_ptr(), unsafe { scratch.as_ptr().add(value_at) });
                let mut p = next;
                while p < n * per {
                    let (i, part) = (p / per, p % per);
                    p += 1;
                    self.set_next(p);
                    let (old_key, old_value) =
                        (self.addrs[entries + 2 * i], self.addrs[entries + 2 * i + 1]);
                    if part == per - 1 {
                        // SAFETY: the scratch holds the entry's complete new key (and value),
                        // which `insert_moved` moves out on `Ok(true)` and leaves otherwise.
                        let inserted = unsafe { new.insert_moved(dst, k, v) };
                        if let Ok(true) = inserted {
                            continue;
                        }
                        let err = match inserted {
                            // SAFETY: the frame's entries are those of the old collection.
                            Ok(_) => unsafe { self.keys_merge(conv, entries, i) },
                            Err(message) => ExecuteError::here(ExecuteErrorKind::InsertPanicked {
                                coll: shape_text(match conv {
                                    Conv::Coll { new_coll, .. } => new_coll,
                                    _ => unreachable!("matched above"),
                                }),
                                message: message.into_string(),
                            }),
                        };
                        // The entry left in the scratch is taken apart from the old one it was
                        // built from: it fails as a whole and leaves nothing.
                        let mut rollback = Rollback::new(plan);
                        // SAFETY: the scratch holds the key (and value) built from these.
                        unsafe {
                            rollback.push_conv(key, old_key, k);
                            if let Some(value) = value {
                                rollback.push_conv(value, old_value, v);
                            }
                            rollback.run();
                        }
                        return Err(err);
                    }
                    let (c, s, d): (&Conv, *const u8, *mut u8) = if part == 0 {
                        (key, old_key, k)
                    } else {
                        (value.as_ref().expect("maps have values"), old_value, v)
                    };
                    // SAFETY: `s` is an old key or value; the scratch has room for the new one.
                    unsafe { self.start(c, s, d)? };
                    if self.frames.len() != depth {
                        return Ok(());
                    }
                }
                self.frames.pop();
                self.addrs.truncate(entries);
                // SAFETY: the scratch holds nothing; it came from `raw::alloc` with this layout.
                unsafe { raw::dealloc(scratch, layout) };
                Ok(())
            }
        }
    }

    fn set_pending(&mut self, value: bool) {
        if let Some(Frame {
            work: Work::Pool { pending, .. },
            ..
        }) = self.frames.last_mut()
        {
            *pending = value;
        }
    }

    /// Gives up a frame whose part `next - 1` failed (and left nothing): takes apart the parts
    /// it completed, frees what it allocated, and returns the error with the frame's segment.
    ///
    /// # Safety
    /// `frame` was just popped; its parts `..next - 1` are complete.
    pub(super) unsafe fn abandon(&mut self, frame: Frame<'p>, e: ExecuteError) -> ExecuteError {
        let plan = self.plan;
        let Frame {
            src,
            dst,
            next,
            work,
        } = frame;
        let failed = next - 1;
        let mut rollback = Rollback::new(plan);
        // SAFETY: the parts `..failed` were built from `src` into `dst` by the
        // plan's own steps; the scratch memory came from `raw::alloc` with the layouts given.
        unsafe {
            match work {
                Work::Struct { index } => {
                    let TypeBody::Struct { steps, .. } = &plan.types[index].body else {
                        unreachable!("a struct frame builds a struct")
                    };
                    rollback.push_steps(&steps[..failed], src, dst);
                    rollback.run();
                    match &steps[failed] {
                        Step::Convert { field, .. } | Step::Default { field, .. } => {
                            e.inside_name(field)
                        }
                        Step::Copy { .. } => unreachable!("copies do not fail"),
                    }
                }
                Work::Variant {
                    index,
                    vi,
                    addrs,
                    scratch,
                } => {
                    let tp = &plan.types[index];
                    let TypeBody::Enum(ep) = &tp.body else {
                        unreachable!("a variant frame builds an enum")
                    };
                    let vp = ep.variants[vi].as_ref().expect("a kept variant");
                    let old_addrs: Vec<*const u8> = self.addrs[addrs..]
                        .iter()
                        .map(|&p| p.cast_const())
                        .collect();
                    for (k, built) in vp.fields[..failed].iter().enumerate() {
                        let fdst = scratch.as_ptr().add(vp.offsets[k]);
                        rollback.push_variant_field(built, &old_addrs, fdst);
                    }
                    rollback.run();
                    self.addrs.truncate(addrs);
                    raw::dealloc(scratch, vp.scratch);
                    let (old_enum, _) = enums(tp.old, tp.new);
                    let field = match &vp.fields[failed] {
                        VariantFieldStep::Convert { field, .. }
                        | VariantFieldStep::Default { field, .. } => field,
                    };
                    e.inside_name(field)
                        .inside_name(old_enum.variants()[vi].name())
                }
                Work::Elements { conv, at, .. } => {
                    match conv {
                        Conv::Array {
                            elem,
                            old_elem,
                            new_elem,
                            ..
                        } => {
                            rollback.push_elements(elem, old_elem, new_elem, src, dst, failed);
                            rollback.run();
                        }
                        Conv::Vec {
                            elem,
                            old_elem,
                            new_elem,
                            new_vec,
                            ..
                        } => {
                            rollback.push_elements(elem, old_elem, new_elem, src, dst, failed);
                            rollback.run();
                            // The vector is empty (length 0) and owns its buffer.
                            new_vec.drop(at);
                        }
                        _ => unreachable!("an elements frame builds an array or a vector"),
                    }
                    e.inside(Seg::Index(failed))
                }
                Work::Pool { conv, scratch, .. } => {
                    let Conv::Pool { elem, old, new, .. } = conv else {
                        unreachable!("a pool frame builds a pool")
                    };
                    // The slots `..failed` were set (built, or vacant); the pool is freed.
                    rollback.push_pool(elem, old, new, src, dst, failed);
                    rollback.run();
                    raw::dealloc(scratch, pool_scratch(conv));
                    e.inside(Seg::Index(failed))
                }
                Work::Boxed { conv, scratch } => {
                    raw::dealloc(scratch, boxed_scratch(conv));
                    e
                }
                Work::Dyn { conv, imp, scratch } => {
                    raw::dealloc(scratch, shape_layout(dyn_to(conv, imp).new_elem));
                    e
                }
                Work::Tuple { conv } => {
                    let Conv::Tuple { elems } = conv else {
                        unreachable!("a tuple frame builds a tuple")
                    };
                    rollback.push_tuple(&elems[..failed], src, dst);
                    rollback.run();
                    e.inside_name(&failed.to_string())
                }
                Work::Coll {
                    conv,
                    scratch,
                    entries,
                    ..
                } => {
                    let Conv::Coll { key, old_key, .. } = conv else {
                        unreachable!("a collection frame builds a collection")
                    };
                    let per = entry_parts(conv);
                    let (i, part) = (failed / per, failed % per);
                    let (layout, _) = entry_scratch(conv);
                    let old = self.addrs[entries + 2 * i];
                    if part == 1 && per == 3 {
                        // The value failed: the key built before it is taken apart from the
                        // old key, once.
                        rollback.push_conv(key, old, scratch.as_ptr());
                        rollback.run();
                    }
                    raw::dealloc(scratch, layout);
                    // The entries inserted so far share moved parts with the old ones, which
                    // keep them; the rest is given up, and the storage.
                    teardown::tear_down_coll(plan, conv, dst);
                    self.addrs.truncate(entries);
                    if matches!(e.kind, ExecuteErrorKind::KeysMerge { .. }) {
                        e
                    } else if !coll_kind(conv).is_keyed() {
                        e.inside(Seg::Index(i))
                    } else {
                        e.inside(Seg::Key(render_key(old_key, old, i)))
                    }
                }
            }
        }
    }
}

/// The layout of a pool frame's scratch: one new element.
fn pool_scratch(conv: &Conv) -> Layout {
    match conv {
        Conv::Pool { new_elem, .. } => shape_layout(new_elem),
        _ => unreachable!("a pool frame builds a pool"),
    }
}

/// The new impl entry `imp` of a [`Conv::Dyn`] continues as (a dyn frame is pushed only for
/// one that continues).
fn dyn_to(conv: &Conv, imp: usize) -> &DynImplTo {
    match conv {
        Conv::Dyn { impls, .. } => impls[imp].to.as_ref().expect("a continued impl"),
        _ => unreachable!("a dyn frame builds a trait object"),
    }
}

/// The layout of a boxed frame's scratch: the new value inside.
fn boxed_scratch(conv: &Conv) -> Layout {
    match conv {
        Conv::Box { new_elem, .. } | Conv::Option { new_elem, .. } => shape_layout(new_elem),
        _ => unreachable!("a boxed frame builds a box or an option"),
    }
}
