//! Raw memory of values that only descriptors describe: aligned, uninitialized room for one
//! value (zero-sized values included), and dropping a run of elements in place. Every builder of
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
