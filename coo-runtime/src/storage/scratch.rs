//! Aligned scratch memory for building a value before it is moved into place: used by
//! migration, and by hosts that build values from other sources (snapshots).

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};

use crate::descriptors::layout::{FieldDesc, Shape, TypeDesc};

/// Uninitialized, aligned memory for one value; freed (never dropped) at the end of its scope.
/// Whatever is built in it must be moved out or dropped by its user before.
#[derive(Debug)]
pub struct Scratch {
    ptr: *mut u8,
    layout: Layout,
}

impl Scratch {
    pub fn new(layout: Layout) -> Scratch {
        let ptr = if layout.size() == 0 {
            // A dangling, aligned pointer is valid for zero-sized reads and writes.
            core::ptr::without_provenance_mut(layout.align())
        } else {
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { alloc(layout) };
            if p.is_null() {
                handle_alloc_error(layout)
            }
            p
        };
        Scratch { ptr, layout }
    }

    /// Room for one value of `shape`.
    pub fn for_shape(shape: &Shape) -> Scratch {
        Scratch::new(
            Layout::from_size_align(shape.size, shape.align).expect("a Rust type's layout"),
        )
    }

    /// Room for one value of `desc`.
    pub fn for_type(desc: &TypeDesc) -> Scratch {
        Scratch::new(Layout::from_size_align(desc.size, desc.align).expect("a Rust type's layout"))
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.layout.size() != 0 {
            // SAFETY: allocated in `new` with this layout; whatever it held was moved out or
            // dropped by its user, so only the memory is freed.
            unsafe { dealloc(self.ptr, self.layout) }
        }
    }
}

/// A C-like layout of a variant's fields, in which they are built before the variant is
/// written: the layout and each field's offset.
pub fn variant_layout(fields: &[FieldDesc]) -> (Layout, Vec<usize>) {
    let mut layout = Layout::from_size_align(0, 1).expect("empty layout");
    let mut offsets = Vec::with_capacity(fields.len());
    for f in fields {
        let shape = (f.shape)();
        let field = Layout::from_size_align(shape.size, shape.align).expect("a Rust type's layout");
        let (extended, offset) = layout.extend(field).expect("fits in memory");
        layout = extended;
        offsets.push(offset);
    }
    (layout.pad_to_align(), offsets)
}
