//! Vectors converted in place at commit, so that a migrated `Vec` never exists twice (issue 13's
//! peak memory: the old buffer is grown with `realloc` and its elements converted where they
//! are, instead of building a whole new buffer beside the old one).
//!
//! Only a vector whose element plan cannot fail is deferred: a flat struct without a hook
//! whose ops only copy, widen, zero and set literal bytes ([`FlatPlan`](super::FlatPlan)'s
//! `infallible`: no checked cast, no writer, no code of an image), and whose old elements own
//! nothing once built (no removed field to drop: `Plan::releases`), so the commit has nothing to
//! give up of them and the elements may be overwritten as they are read. Nothing is built for
//! it during the build: its new vector is written empty and the vector is remembered
//! ([`InPlace`]); a refusal anywhere in the transaction then leaves the old vector untouched
//! (the empty new one owns nothing). At commit, which cannot fail, [`Exec::convert_in_place`]
//! converts each one:
//!
//! - the old vector gives its buffer up (its header is overwritten with an empty vector, so the
//!   commit's release frees nothing of it);
//! - elements growing (new size `n` > old size `o`): the buffer is grown with `realloc` to
//!   `len * n` bytes first (for a large block glibc moves the pages with `mremap`: no copy, no
//!   second physical copy), then the elements are converted back to front. New element `i`
//!   occupies `[i*n, (i+1)*n)`; the old elements not yet read are `[0, i*o)`, below `i*n`:
//!   nothing unread is overwritten. Element `i`'s own old bytes `[i*o, (i+1)*o)` overlap its new
//!   place only while `i*(n-o) < o` (the first few elements): those are read from a scratch
//!   copy;
//! - elements shrinking or of the same size: converted front to back (the old elements not yet
//!   read are `[(i+1)*o, ..)`, above `(i+1)*n`), the overlapping ones through the scratch, and
//!   the buffer shrunk with `realloc` afterwards.
//!
//! The buffer is reallocated through the *new* image's glue, which will free it, while the old
//! image allocated it: sound because every image of the process allocates with one global
//! allocator (the runtime already hands moved heap parts from one image to the next; the
//! loader refuses a plugin with its own `#[global_allocator]`, see `hot-host`'s
//! `load/allocator.rs`). `realloc` keeps the block's alignment, so the element types must have
//! the same alignment (`Vec` frees with the element's): otherwise the vector is built as before.
//!
//! Only vectors built where they stay are deferred: under a struct, an array or a vector's
//! elements, a tuple; not inside a box, an option, an enum variant, a pool slot or a
//! collection's entry (built in scratch memory and moved, so the recorded address would be
//! stale), and not under a type with a migration hook (which must see the complete new value).

use crate::migration::plan::Conv;
use crate::storage::raw::{self, shape_layout};

use super::flat::{FlatOp, run_ops};
use super::{Exec, Work};

/// A vector whose conversion is deferred to commit: the old vector at `src` (in an old value,
/// untouched until commit) and the new one at `dst` (written empty by the build, at the place
/// it keeps), of a [`Conv::Vec`] whose elements are of flat, infallible type plan `index`.
#[derive(Clone, Copy)]
pub(in crate::migration::execute) struct InPlace<'p> {
    conv: &'p Conv,
    index: usize,
    src: *mut u8,
    dst: *mut u8,
}

impl<'p> Exec<'p> {
    /// Defers the conversion of the old vector at `src` (of `len` elements of type plan `index`)
    /// to commit when it can be converted in place there (see the [module docs](self)), writing
    /// an empty new vector at `dst`; returns whether it did (otherwise nothing was written).
    ///
    /// # Safety
    /// As for [`Exec::start`], with a vector conversion whose element conversion is
    /// `Conv::Named(index)`.
    pub(super) unsafe fn defer_vec(
        &mut self,
        conv: &'p Conv,
        index: usize,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) -> bool {
        let Conv::Vec {
            old_elem,
            new_elem,
            new,
            ..
        } = conv
        else {
            unreachable!("called for vectors")
        };
        // The new buffer's size must be one a `Vec` can have (else the build's
        // `with_capacity` reports the overflow, as before).
        let fits = len
            .checked_mul(new_elem.size())
            .is_some_and(|bytes| bytes <= isize::MAX as usize);
        let deferrable = len > 0
            && old_elem.size() > 0
            && new_elem.size() > 0
            && fits
            && old_elem.align() == new_elem.align()
            && self.flat_elements(index)
            && self.flat[index].as_ref().is_some_and(|f| f.infallible)
            && !self.plan.releases[index]
            && self.builds_in_place();
        if !deferrable {
            return false;
        }
        // SAFETY: `dst` is valid for writes of the new vector (caller's contract).
        unsafe { new.write_with_capacity(dst, 0) };
        self.in_place.push(InPlace {
            conv,
            index,
            src: src.cast_mut(),
            dst,
        });
        self.counts[index] += len as u64;
        true
    }

    /// Whether the value being started is built at the address it keeps, in no value whose
    /// type has a migration hook: every frame under construction is a struct without a hook
    /// (not a copy), elements, or a tuple, all built in place.
    fn builds_in_place(&self) -> bool {
        self.frames.iter().all(|frame| match frame.work {
            Work::Struct { index } => {
                let tp = &self.plan.types[index];
                tp.hook.is_none() && !tp.copy
            }
            Work::Elements { .. } | Work::Tuple { .. } => true,
            Work::Variant { .. }
            | Work::Pool { .. }
            | Work::Boxed { .. }
            | Work::Dyn { .. }
            | Work::Coll { .. } => false,
        })
    }

    /// Converts every deferred vector in place (first part of the commit, before the old values
    /// give up what they still own). Cannot fail.
    ///
    /// # Safety
    /// Every build of this execution was kept: the old values are unchanged since and are not
    /// used again apart from the commit's release; the new values are where they were built.
    pub(crate) unsafe fn convert_in_place(&mut self) {
        for v in std::mem::take(&mut self.in_place) {
            let flat = self.flat[v.index]
                .as_ref()
                .expect("deferred for flat plans");
            // SAFETY: `v` was deferred by this execution's kept build (caller's contract).
            unsafe { convert(v, &flat.ops) }
        }
    }
}

/// Converts the deferred vector `v` in place, by its element type's infallible flat `ops`.
///
/// # Safety
/// As for [`Exec::convert_in_place`]: `v.src` is the old vector, unchanged since the build, and
/// `v.dst` the empty new vector the build wrote.
unsafe fn convert(v: InPlace<'_>, ops: &[FlatOp]) {
    let Conv::Vec {
        old_elem,
        new_elem,
        old,
        new,
        ..
    } = v.conv
    else {
        unreachable!("deferred for vectors")
    };
    let (o, n) = (old_elem.size(), new_elem.size());
    // SAFETY: `v.src` is the valid old vector, ours alone at commit.
    let (ptr, len) = unsafe { old.parts_mut(v.src) };
    // SAFETY: as above.
    let old_bytes = unsafe { old.capacity(v.src) } * o;
    let new_bytes = len * n;
    // The old vector gives its buffer up: overwritten (not dropped) with an empty one, which the
    // commit's release empties and drops as any rebuilt vector, freeing nothing.
    // SAFETY: `v.src` is valid for writes of the old vector; its buffer is now ours.
    unsafe { old.write_with_capacity(v.src, 0) };
    let scratch_layout = shape_layout(old_elem);
    let scratch = raw::alloc(scratch_layout).as_ptr();
    // The first `overlapping` elements' new places overlap their own old bytes.
    let overlapping = if n == o {
        len
    } else {
        o.min(n).div_ceil(o.abs_diff(n)).min(len)
    };
    // The `realloc` calls: `ptr` is the old vector's buffer, a block of
    // `old_bytes > 0` bytes (`len > 0` elements of non-zero size fit in it) with the old
    // element's alignment, equal to the new one's (checked when deferred), made by the global
    // allocator every image shares (the old image made it; the new image's glue reallocates it
    // and its `Vec` will free it: the loader refuses images with their own allocator);
    // `new_bytes > 0`. When growing, the `old_bytes` kept hold the `len * o <= new_bytes` bytes
    // of the old elements; when shrinking, the `new_bytes` kept hold the converted elements.
    let buf = if n > o {
        let buf = if old_bytes == new_bytes {
            ptr
        } else {
            // SAFETY: see above (growing).
            unsafe { new.realloc(ptr, old_bytes, new_bytes) }
        };
        for i in (0..len).rev() {
            // SAFETY: elements `..i` are unread old ones in `[0, i*o)`, below element `i`'s new
            // place `[i*n, (i+1)*n)` inside the `len * n` bytes; elements above `i` are new.
            unsafe { convert_element(ops, buf, i, o, n, scratch, i < overlapping) };
        }
        buf
    } else {
        for i in 0..len {
            // SAFETY: elements above `i` are unread old ones from `(i+1)*o`, above element
            // `i`'s new place `[i*n, (i+1)*n)`; elements below `i` are new.
            unsafe { convert_element(ops, ptr, i, o, n, scratch, i < overlapping) };
        }
        if old_bytes == new_bytes {
            ptr
        } else {
            // SAFETY: see above (shrinking).
            unsafe { new.realloc(ptr, old_bytes, new_bytes) }
        }
    };
    // SAFETY: `scratch` came from `raw::alloc` with this layout and holds only bytes.
    unsafe { raw::dealloc(core::ptr::NonNull::new_unchecked(scratch), scratch_layout) };
    // SAFETY: `buf` is a block of `len * n` bytes with the new element's alignment from the
    // shared allocator, holding `len` new elements; `v.dst` holds an empty new vector that owns
    // nothing and is overwritten.
    unsafe { new.write_raw(v.dst, buf, len) };
}

/// Converts element `i` of a buffer in place: the old element at `i * o` becomes the new one at
/// `i * n`, read from a copy in `scratch` when the two places overlap.
///
/// # Safety
/// The old element `i` is valid at `buf + i*o`, `buf + i*n` is valid for writes of a new
/// element and holds no unread old element other than element `i`; `overlap` says whether the
/// two places overlap; `scratch` has room for an old element, suitably aligned; `ops` are an
/// infallible flat plan's.
#[inline(always)]
unsafe fn convert_element(
    ops: &[FlatOp],
    buf: *mut u8,
    i: usize,
    o: usize,
    n: usize,
    scratch: *mut u8,
    overlap: bool,
) {
    // SAFETY: the caller's contract.
    unsafe {
        let mut src = buf.add(i * o).cast_const();
        if overlap {
            core::ptr::copy_nonoverlapping(src, scratch, o);
            src = scratch;
        }
        if run_ops(ops, src, buf.add(i * n)).is_err() {
            unreachable!("an infallible plan (copies, widening casts, zero and literal bytes)")
        }
    }
}
