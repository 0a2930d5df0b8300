//! The build: reads old values and writes new ones, following the plan, without native
//! recursion proportional to the data.
//!
//! A value under construction whose parts are built one after another — a struct's fields, an
//! enum variant's fields, an array's or vector's elements, a pool's slots, the value inside a
//! `Box` or `Some` — is a [`Frame`] on [`Exec`]'s heap stack, with the index of the next part to
//! build. Parts that finish on the spot (plain bytes, numbers, strings, defaults, vectors of
//! unchanged elements) are built inline; a part that has parts of its own pushes its frame, and
//! its parent continues when that frame is done. Native recursion is bounded by the depth of the
//! *types* (defaults; see [`super::defaults`]), never of the data: a chain of a million
//! `Option<Box<Node>>` costs a million frames of heap, not of stack.
//!
//! A `Box` or `Some` can only be written around a complete value (its glue moves one in), so the
//! value inside is built in scratch memory owned by its frame, and moved in when done. The same
//! holds for a collection's entries: each key (and value) is built in the frame's scratch and
//! moved in by the new image's `insert_moved`; the old entries' addresses wait on [`Exec`]'s
//! `addrs`. A collection whose keys and values finish on the spot is built without a frame,
//! inside the old collection's own iteration (`coll.rs`).
//! A tuple's elements are built in place, as a struct's fields. A struct whose every step
//! finishes on the spot (copies, casts, defaults) is built without a frame.
//!
//! Flat structs (every step finishes on the spot) and vectors of them are built in `flat`; a
//! vector of them whose elements cannot fail is converted in place at commit instead
//! (`in_place`).
//!
//! A field of a `#[repr(packed)]` struct may be unaligned: copies and casts handle it as bytes in
//! place, and everything else is built through aligned temporaries
//! ([`Exec::build_unaligned`], [`crate::storage::raw::Unaligned`]).
//!
//! Errors keep the recursive walk's contract: when a part fails, its frame takes apart the parts
//! it completed (a [`Rollback`]), frees what it allocated, adds its segment to the error's path,
//! and the failure moves on to the frame below, until nothing is left at the root's destination.

use std::ptr::NonNull;

use crate::descriptors::layout::Shape;
use crate::migration::casts::{CastKind, InexactCast, read_num, write_num};
use crate::migration::plan::{Conv, DynImplConv, TypeBody};
use crate::storage::raw::{self, Unaligned, drop_elements, shape_layout};
use crate::storage::view::ValueView;

use super::defaults::{holds_default, push_entries, write_default_inside};
use super::error::{ExecuteError, ExecuteErrorKind, Seg};
use super::rollback::Rollback;
use super::{Exec, enums};

mod arrays;
mod coll;
mod flat;
mod in_place;
mod resume;

use arrays::copy_elements;
use coll::entry_scratch;
pub(in crate::migration::execute) use flat::FlatPlan;
pub(in crate::migration::execute) use in_place::InPlace;

/// A value under construction at `dst`, built from the old one at `src`, whose parts `..next`
/// are complete.
#[derive(Clone, Copy)]
pub(super) struct Frame<'p> {
    src: *const u8,
    dst: *mut u8,
    next: usize,
    work: Work<'p>,
}

/// What a [`Frame`] builds.
#[derive(Clone, Copy)]
enum Work<'p> {
    /// The fields of a struct of type plan `index`, one step each.
    Struct { index: usize },
    /// The fields of variant `vi` of an enum of type plan `index`, built in `scratch` (the
    /// variant plan's scratch layout) before the variant is written. The old fields' addresses
    /// are [`Exec::addrs`]`[addrs..]`.
    Variant {
        index: usize,
        vi: usize,
        addrs: usize,
        scratch: NonNull<u8>,
    },
    /// The elements of an array (`at` is `dst`) or of a vector (`at` is the vector; `src` and
    /// `dst` are the buffers) of `len` elements.
    Elements {
        conv: &'p Conv,
        at: *mut u8,
        len: usize,
    },
    /// The `n` slots of a pool; an occupied slot's value is built in `scratch` (the new
    /// element's layout). `pending`: slot `next - 1` is built there and not yet set.
    Pool {
        conv: &'p Conv,
        scratch: NonNull<u8>,
        n: usize,
        pending: bool,
    },
    /// The value inside a `Box` or `Some` (`src` is the old one), built in `scratch` (the new
    /// element's layout); `next` is 1 once it was started.
    Boxed {
        conv: &'p Conv,
        scratch: NonNull<u8>,
    },
    /// The value of a `Box<dyn Trait>` object (`src` is the old concrete value) as the new
    /// version of its concrete type (entry `imp` of the [`Conv::Dyn`]), built in `scratch` (its
    /// layout) and boxed by the new impl; `next` is 1 once it was started.
    Dyn {
        conv: &'p Conv,
        imp: usize,
        scratch: NonNull<u8>,
    },
    /// The elements of a tuple, one step each, in place.
    Tuple { conv: &'p Conv },
    /// The `n` entries of a collection (`dst` is the new one, filled by its `insert`), whose old
    /// keys and values are at [`Exec::addrs`]`[entries..]`, two per entry. Each entry has the
    /// parts key, value (maps only) and insert; key and value are built in `scratch`
    /// ([`entry_scratch`]) and moved out by the insert.
    Coll {
        conv: &'p Conv,
        scratch: NonNull<u8>,
        entries: usize,
        n: usize,
    },
}

impl<'p> Exec<'p> {
    /// Builds the new value of type plan `index` at `dst` from the old value at `src`. On error,
    /// nothing is left at `dst` and the old value is as it was; the error's path is innermost
    /// segment first (see [`ExecuteError::within_name`]).
    ///
    /// # Safety
    /// `src` is a valid value of the plan's old type; `dst` is valid for writes of the new type
    /// and suitably aligned.
    pub(crate) unsafe fn build_type(
        &mut self,
        index: usize,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        debug_assert!(self.frames.is_empty() && self.addrs.is_empty());
        // Invariant of the loop: `Ok` means the top frame may go on (its last part is
        // complete); `Err` means the top frame's last started part failed and left nothing.
        // SAFETY: the caller's contract.
        let mut progress = unsafe { self.start_type(index, src, dst) };
        while let Some(&top) = self.frames.last() {
            progress = match progress {
                // SAFETY: the top frame's parts `..next` are complete.
                Ok(()) => unsafe { self.resume(top) },
                Err(e) => {
                    self.frames.pop();
                    // SAFETY: as above; its part `next - 1` failed and left nothing.
                    Err(unsafe { self.abandon(top, e) })
                }
            };
        }
        progress
    }

    /// Builds `conv` completely from the old value at `src` into `dst`, either of which may be
    /// unaligned (a field of a `#[repr(packed)]` struct): the old value's bytes are copied into
    /// an aligned temporary, the new value is built in another and its bytes are copied to
    /// `dst`. The frames it pushes are run here, above the caller's, so the conversion is done
    /// on the spot; the native recursion this adds is bounded by the nesting of packed structs
    /// in the *types*. On error nothing is left at `dst`.
    ///
    /// Copies are moves: fields of packed structs have no drop glue (the derive refuses others),
    /// and an old value that owns nothing shares nothing with the new one.
    ///
    /// # Safety
    /// `src` holds a valid value of `old_shape` (the conversion's old shape), `dst` is valid for
    /// writes of `new_shape`'s size; neither needs to be aligned.
    unsafe fn build_unaligned(
        &mut self,
        conv: &'p Conv,
        old_shape: &Shape,
        new_shape: &Shape,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        // SAFETY: `src` holds a value of `old_shape` (caller's contract).
        let old = unsafe { Unaligned::read(old_shape, src) };
        let new = Unaligned::new(new_shape);
        let base = self.frames.len();
        // SAFETY: both temporaries are aligned and hold (or have room for) their shapes.
        let mut progress = unsafe { self.start(conv, old.as_ptr(), new.as_ptr()) };
        // As in `build_type`, for the frames above `base`.
        while self.frames.len() > base {
            let top = *self.frames.last().expect("a frame above base");
            progress = match progress {
                // SAFETY: the top frame's parts `..next` are complete.
                Ok(()) => unsafe { self.resume(top) },
                Err(e) => {
                    self.frames.pop();
                    // SAFETY: as above; its part `next - 1` failed and left nothing.
                    Err(unsafe { self.abandon(top, e) })
                }
            };
        }
        if progress.is_ok() {
            // SAFETY: the temporary holds the complete new value; `dst` has room for it.
            unsafe { new.write_to(dst) };
        }
        progress
    }

    fn set_next(&mut self, next: usize) {
        self.frames.last_mut().expect("a frame is building").next = next;
    }

    /// Starts building `conv` at `dst` from `src`: builds it on the spot, or pushes its frame.
    /// On error nothing is left at `dst` and no frame was pushed.
    ///
    /// # Safety
    /// `src` is a valid value of the conversion's old shape; `dst` is valid for writes of the new
    /// shape and suitably aligned.
    unsafe fn start(
        &mut self,
        conv: &'p Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        match conv {
            Conv::Copy { size } | Conv::Move { size } => {
                // SAFETY: both values have `size` bytes that mean the same thing. For `Move`,
                // the bytes are shared with the old value until commit or rollback gives them
                // to exactly one side.
                unsafe { core::ptr::copy_nonoverlapping(src, dst, *size) };
                Ok(())
            }
            Conv::Cast { from, to, kind } => {
                // SAFETY: `src` holds a `from`, `dst` has room for a `to`.
                let n = unsafe { read_num(*from, src) };
                // SAFETY: as above.
                if unsafe { write_num(n, *to, dst) } {
                    Ok(())
                } else {
                    debug_assert_eq!(*kind, CastKind::Checked, "widening never fails");
                    Err(ExecuteError::here(ExecuteErrorKind::CheckedCast(
                        InexactCast {
                            from: *from,
                            to: *to,
                            value: n.to_string(),
                        },
                    )))
                }
            }
            Conv::String { old, new, .. } => {
                // SAFETY: `src` is a valid `String` of the old build.
                let (ptr, len) = unsafe { old.as_str(src) };
                // SAFETY: the bytes are valid UTF-8 and stay alive during the call.
                unsafe { new.write_from(dst, ptr, len) };
                Ok(())
            }
            // SAFETY: forwarded contract.
            Conv::Array { .. } => unsafe { self.start_array(conv, src, dst) },
            Conv::Vec {
                elem,
                old_elem,
                new_elem,
                old,
                new,
                new_vec,
                ..
            } => {
                // SAFETY: `src` is a valid vector of the old build.
                let (ptr, len) = unsafe { old.parts(src) };
                if let Conv::Named(index) = **elem
                    // SAFETY: forwarded contract.
                    && unsafe { self.defer_vec(conv, index, src, dst, len) }
                {
                    // Converted in place at commit (`in_place.rs`).
                    return Ok(());
                }
                // SAFETY: `dst` is valid for writes of the new vector.
                let buf = unsafe { new.write_with_capacity(dst, len) };
                // SAFETY: both buffers hold room for `len` elements.
                if unsafe { copy_elements(elem, old_elem.size(), new_elem.size(), ptr, buf, len) } {
                    // SAFETY: the first `len` elements are built.
                    unsafe { new.set_len(dst, len) };
                    return Ok(());
                }
                if let Conv::Named(index) = **elem
                    && self.flat_elements(index)
                {
                    // SAFETY: both buffers hold room for `len` elements of their type; the old
                    // ones are valid values of the plan's old type.
                    let built = unsafe { self.build_flat_elements(conv, index, ptr, buf, len) };
                    match built {
                        // SAFETY: the first `len` elements are built.
                        Ok(()) => unsafe { new.set_len(dst, len) },
                        // SAFETY: the vector is empty (length 0) and owns its buffer, as after
                        // an elements frame's failure.
                        Err(_) => unsafe { new_vec.drop(dst) },
                    }
                    return built;
                }
                self.frames.push(Frame {
                    src: ptr,
                    dst: buf,
                    next: 0,
                    work: Work::Elements { conv, at: dst, len },
                });
                Ok(())
            }
            Conv::Box { new_elem, old, .. } => {
                let scratch = raw::alloc(shape_layout(new_elem));
                self.frames.push(Frame {
                    // SAFETY: `src` is a valid box of the old build.
                    src: unsafe { old.get(src) },
                    dst,
                    next: 0,
                    work: Work::Boxed { conv, scratch },
                });
                Ok(())
            }
            Conv::Option {
                new_elem, old, new, ..
            } => {
                // SAFETY: `src` is a valid option of the old build.
                let inner = unsafe { old.get(src) };
                if inner.is_null() {
                    // SAFETY: `dst` is valid for writes of the new option.
                    unsafe { new.write_none(dst) };
                    return Ok(());
                }
                let scratch = raw::alloc(shape_layout(new_elem));
                self.frames.push(Frame {
                    src: inner,
                    dst,
                    next: 0,
                    work: Work::Boxed { conv, scratch },
                });
                Ok(())
            }
            Conv::Pool {
                new_elem, old, new, ..
            } => {
                // SAFETY: `src` is a valid pool of the old build.
                let n = unsafe { old.slot_count(src) };
                // SAFETY: `dst` is valid for writes of the new pool.
                unsafe { new.write_vacant(dst, n) };
                let scratch = raw::alloc(shape_layout(new_elem));
                self.frames.push(Frame {
                    src,
                    dst,
                    next: 0,
                    work: Work::Pool {
                        conv,
                        scratch,
                        n,
                        pending: false,
                    },
                });
                Ok(())
            }
            Conv::Dyn { old, .. } => {
                // SAFETY: `src` is a valid `Box<dyn Trait>` of the old build.
                let name = unsafe { old.concrete_name(src) }.map_err(|message| {
                    ExecuteError::here(ExecuteErrorKind::ConcretePanicked {
                        trait_name: old.trait_name().to_owned(),
                        message,
                    })
                })?;
                let Some((imp, DynImplConv { to: Some(to), .. })) = conv.dyn_impl(name) else {
                    return Err(ExecuteError::here(ExecuteErrorKind::ImplRemoved {
                        trait_name: old.trait_name().to_owned(),
                        ty: name.to_owned(),
                    }));
                };
                let scratch = raw::alloc(shape_layout(to.new_elem));
                self.frames.push(Frame {
                    // SAFETY: as above.
                    src: unsafe { old.glue().get(src) },
                    dst,
                    next: 0,
                    work: Work::Dyn { conv, imp, scratch },
                });
                Ok(())
            }
            // SAFETY: forwarded contract.
            Conv::Named(index) => unsafe { self.start_type(*index, src, dst) },
            Conv::Tuple { .. } => {
                self.frames.push(Frame {
                    src,
                    dst,
                    next: 0,
                    work: Work::Tuple { conv },
                });
                Ok(())
            }
            Conv::Coll { key, value, .. }
                if self.flat_conv(key) && value.as_deref().is_none_or(|v| self.flat_conv(v)) =>
            {
                // SAFETY: forwarded contract; the entries finish on the spot.
                unsafe { self.start_coll_flat(conv, src, dst) }
            }
            Conv::Coll { old, new, .. } => {
                let entries = self.addrs.len();
                // SAFETY: `src` is a valid collection of the old build, unchanged while the
                // frame reads its entries (only read through these addresses).
                unsafe { push_entries(old, src, &mut self.addrs) };
                let n = (self.addrs.len() - entries) / 2;
                // SAFETY: `dst` is valid for writes of the new collection.
                unsafe { new.write_with_capacity(dst, n) };
                self.frames.push(Frame {
                    src,
                    dst,
                    next: 0,
                    work: Work::Coll {
                        conv,
                        scratch: raw::alloc(entry_scratch(conv).0),
                        entries,
                        n,
                    },
                });
                Ok(())
            }
        }
    }

    /// [`Exec::start`] for a value of type plan `index`.
    ///
    /// # Safety
    /// As for [`Exec::build_type`].
    unsafe fn start_type(
        &mut self,
        index: usize,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let tp = &self.plan.types[index];
        match &tp.body {
            TypeBody::Struct { .. } if self.flat[index].is_some() => {
                // Every step finishes on the spot: built here, without a frame (the common case
                // of many values of a plain struct in a `Vec` or a map).
                // SAFETY: forwarded contract.
                unsafe { self.build_flat(index, src, dst)? };
                // SAFETY: every field is built.
                unsafe { self.finish_type(index, src, dst) }
            }
            TypeBody::Struct { .. } => {
                self.frames.push(Frame {
                    src,
                    dst,
                    next: 0,
                    work: Work::Struct { index },
                });
                Ok(())
            }
            TypeBody::Enum(ep) => {
                let (old_enum, _) = enums(tp.old, tp.new);
                let addrs = self.addrs.len();
                self.addrs
                    .resize(addrs + ep.old_max_fields, core::ptr::null_mut());
                // SAFETY: `src` is a valid old value and the addresses have room for its
                // largest variant.
                let vi = unsafe { old_enum.read(src, self.addrs[addrs..].as_mut_ptr().cast()) };
                match &ep.variants[vi] {
                    Some(vp) => {
                        self.frames.push(Frame {
                            src,
                            dst,
                            next: 0,
                            work: Work::Variant {
                                index,
                                vi,
                                addrs,
                                scratch: raw::alloc(vp.scratch),
                            },
                        });
                        Ok(())
                    }
                    None => {
                        self.addrs.truncate(addrs);
                        match &ep.removed_default {
                            // SAFETY: `dst` is valid for writes of the new type.
                            Some(d) => unsafe { write_default_inside(d, dst)? },
                            None => {
                                return Err(ExecuteError::here(ExecuteErrorKind::VariantRemoved {
                                    ty: tp.old.name().to_owned(),
                                    variant: old_enum.variants()[vi].name().to_owned(),
                                }));
                            }
                        }
                        // SAFETY: `dst` holds the complete new value.
                        unsafe { self.finish_type(index, src, dst) }
                    }
                }
            }
            TypeBody::HookOnly(d) => {
                // SAFETY: `dst` is valid for writes of the new type.
                unsafe { write_default_inside(d, dst)? };
                // SAFETY: `dst` holds the complete new value.
                unsafe { self.finish_type(index, src, dst) }
            }
        }
    }

    /// Runs the type's migration hook on the complete new value at `dst` and counts it. On
    /// error the new value was dropped.
    ///
    /// # Safety
    /// `dst` holds the complete new value of type plan `index`, built from `src`.
    unsafe fn finish_type(
        &mut self,
        index: usize,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let tp = &self.plan.types[index];
        if let Some(hook) = tp.hook {
            // SAFETY: `src` is a valid old value that is only read while the view lives.
            let old = unsafe { ValueView::new(tp.old, src) };
            // SAFETY: `dst` holds the complete new value, built as an independent copy (types
            // with hooks are planned with `copy`), referenced by nothing else.
            if let Err(message) = unsafe { hook(&old, dst) } {
                // SAFETY: the new value is an independent copy; it is dropped once.
                unsafe { tp.new.glue().drop(dst) };
                return Err(ExecuteError::here(ExecuteErrorKind::Hook {
                    ty: tp.new.name().to_owned(),
                    message: message.into_string(),
                }));
            }
        }
        self.counts[index] += 1;
        Ok(())
    }
}
