//! Raw memory of values that only descriptors describe: aligned, uninitialized room for one
//! value (zero-sized values included), dropping a run of elements in place, and the aligned
//! copies ([`Unaligned`], [`field_at`]) through which the fields of `#[repr(packed)]` structs are
//! seen. Every builder of
//! values in Coo — migration, the [`State`](crate::State)'s resources, [`Scratch`] memory, hosts
//! that build values from snapshots — allocates and drops through these, so each rule is written
//! once.
//!
//! [`Scratch`]: crate::storage::scratch::Scratch

use std::alloc::{Layout, handle_alloc_error};
use std::ptr::NonNull;

use crate::descriptors::layout::{Shape, TypeDesc};

/// The layout of a value of `size` bytes aligned to `align`, as a descriptor records them.
///
/// # Panics
/// When the pair is not the layout of any Rust type (descriptors are checked against the
/// compiler's `size_of`/`align_of`, so only a corrupt descriptor gets here).
pub fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a Rust type's layout")
}

/// The layout of a value of `shape`.
pub fn shape_layout(shape: &Shape) -> Layout {
    layout(shape.size(), shape.align())
}

/// The layout of a value of `desc`.
pub fn type_layout(desc: &TypeDesc) -> Layout {
    layout(desc.size(), desc.align())
}

/// Uninitialized room for a value of `layout`: a fresh allocation, or a dangling, aligned
/// pointer when the size is zero (valid for zero-sized reads and writes). Give it back with
/// [`dealloc`] and the same layout. Aborts through [`handle_alloc_error`] when memory runs out.
pub fn alloc(layout: Layout) -> NonNull<u8> {
    if layout.size() == 0 {
        // `align` is a power of two, never zero.
        return NonNull::new(core::ptr::without_provenance_mut(layout.align())).expect("align > 0");
    }
    // SAFETY: the layout has a non-zero size.
    NonNull::new(unsafe { std::alloc::alloc(layout) }).unwrap_or_else(|| handle_alloc_error(layout))
}

/// Gives back room from [`alloc`] without dropping anything in it.
///
/// # Safety
/// `ptr` came from [`alloc`] with this `layout`, is not used again, and whatever value it held was
/// moved out or dropped.
pub unsafe fn dealloc(ptr: NonNull<u8>, layout: Layout) {
    if layout.size() != 0 {
        // SAFETY: allocated by `alloc` with this layout and non-zero size (caller's contract).
        unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) }
    }
}

/// Drops `n` elements of `shape` laid out from `base` at a stride of the shape's size, in order.
///
/// # Safety
/// The `n` elements are valid values of `shape`, and are not used again.
pub unsafe fn drop_elements(shape: &Shape, base: *mut u8, n: usize) {
    if shape.needs_drop() {
        for i in 0..n {
            // SAFETY: element `i < n` is valid and dropped once (caller's contract).
            unsafe { shape.drop(base.add(i * shape.size())) }
        }
    }
}

/// An aligned temporary holding the bytes of one field of a `#[repr(packed)]` struct.
///
/// A packed struct's field may lie at an address its type's alignment does not divide, where
/// no reference to it may exist and no typed glue may be called. Its value is therefore copied
/// as bytes into an `Unaligned` ([`Unaligned::read`]), seen and changed there by typed code,
/// and copied back as bytes ([`Unaligned::write_to`]). The rule that makes the bitwise copies
/// moves rather than duplicates: fields of packed structs have no drop glue (the derive refuses
/// others), so a copy never owns anything, and dropping an `Unaligned` only frees its room.
///
/// Every place that reaches a struct's field through its offset asks [`field_at`] (or checks
/// [`TypeDesc::packing`] itself where it builds fields) and goes through one of these for a
/// packed parent.
#[derive(Debug)]
pub struct Unaligned {
    ptr: NonNull<u8>,
    layout: Layout,
    size: usize,
}

impl Unaligned {
    /// Uninitialized aligned room for a value of `shape`.
    pub fn new(shape: &Shape) -> Unaligned {
        let layout = shape_layout(shape);
        Unaligned {
            ptr: alloc(layout),
            layout,
            size: shape.size(),
        }
    }

    /// An aligned copy of the value of `shape` at `src`.
    ///
    /// # Safety
    /// `src` (of any alignment) is valid for reads of `shape.size()` bytes.
    pub unsafe fn read(shape: &Shape, src: *const u8) -> Unaligned {
        // SAFETY: the caller's contract.
        unsafe { Unaligned::read_layout(shape_layout(shape), src) }
    }

    /// An aligned copy of the value of type `desc` at `src`.
    ///
    /// # Safety
    /// `src` (of any alignment) is valid for reads of `desc.size()` bytes.
    pub unsafe fn read_type(desc: &TypeDesc, src: *const u8) -> Unaligned {
        // SAFETY: the caller's contract.
        unsafe { Unaligned::read_layout(type_layout(desc), src) }
    }

    /// # Safety
    /// `src` (of any alignment) is valid for reads of `layout.size()` bytes.
    unsafe fn read_layout(layout: Layout, src: *const u8) -> Unaligned {
        let tmp = Unaligned {
            ptr: alloc(layout),
            layout,
            size: layout.size(),
        };
        // SAFETY: `src` has `size` readable bytes (caller's contract); the room has as many and
        // is a fresh allocation, so they do not overlap. Bytes are copied without alignment.
        unsafe { core::ptr::copy_nonoverlapping(src, tmp.ptr.as_ptr(), tmp.size) };
        tmp
    }

    /// The aligned address of the temporary value.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The address in the original value at `orig` (the copy's source) of what lies at `inside`
    /// in the copy: glue called on the copy returns the addresses of parts held inline (an
    /// `Option`'s payload, an enum's fields), which lie at the same offsets in the original.
    /// A null `inside` (no such part) stays null.
    pub fn translate(&self, inside: *const u8, orig: *const u8) -> *const u8 {
        if inside.is_null() {
            return core::ptr::null();
        }
        let offset = (inside as usize).wrapping_sub(self.ptr.as_ptr() as usize);
        assert!(
            offset <= self.size,
            "a part held inline lies inside its value"
        );
        orig.wrapping_add(offset)
    }

    /// Copies the temporary's bytes to `dst` (of any alignment).
    ///
    /// # Safety
    /// `dst` is valid for writes of the value's size, and the temporary holds a value (what it
    /// was read from, or what typed code wrote into it).
    pub unsafe fn write_to(&self, dst: *mut u8) {
        // SAFETY: the caller's contract; the temporary is its own allocation.
        unsafe { core::ptr::copy_nonoverlapping(self.ptr.as_ptr(), dst, self.size) };
    }
}

impl Drop for Unaligned {
    fn drop(&mut self) {
        // SAFETY: allocated by `alloc` with this layout; what it holds has no drop glue (fields
        // of packed structs) or was moved out by `write_to`.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// A field of a struct, reached by [`field_at`]: in place when it is aligned, or an aligned
/// copy of it when its struct is `#[repr(packed)]`.
#[derive(Debug)]
pub enum FieldAt {
    /// The field's own, aligned address (its struct is not packed).
    InPlace(*mut u8),
    /// An aligned copy of the field of a packed struct; the field itself is at `at`.
    Copied { copy: Unaligned, at: *mut u8 },
}

impl FieldAt {
    /// An aligned address of the field's value, for typed code.
    pub fn ptr(&self) -> *mut u8 {
        match self {
            FieldAt::InPlace(ptr) => *ptr,
            FieldAt::Copied { copy, .. } => copy.as_ptr(),
        }
    }

    /// After typed code changed the value at [`FieldAt::ptr`]: copies it back into the packed
    /// struct (nothing to do for a field in place).
    ///
    /// # Safety
    /// The value at [`FieldAt::ptr`] is valid, and the struct the field was reached in is valid
    /// for writes.
    pub unsafe fn write_back(&self) {
        if let FieldAt::Copied { copy, at } = self {
            // SAFETY: the caller's contract; `at` is the field's place in its struct.
            unsafe { copy.write_to(*at) }
        }
    }
}

/// Field `field` of the struct of type `parent` at `base`: in place when the parent is not
/// packed, else an aligned copy of its value (see [`Unaligned`]). The one check of packed
/// parents for code that reads or edits fields through their offsets.
///
/// # Safety
/// `base` points to a valid value of `parent`, and `field` is one of its fields.
pub unsafe fn field_at(
    parent: &TypeDesc,
    field: &crate::descriptors::layout::FieldDesc,
    base: *const u8,
) -> FieldAt {
    // SAFETY: the field's offset lies inside the value (caller's contract).
    let at = unsafe { base.add(field.offset()) }.cast_mut();
    if parent.packing().is_some() {
        FieldAt::Copied {
            // SAFETY: the field's bytes lie inside the value.
            copy: unsafe { Unaligned::read(field.shape(), at) },
            at,
        }
    } else {
        FieldAt::InPlace(at)
    }
}
