//! Aligned scratch memory for building a value before it is moved into place: used by
//! migration, and by hosts that build values from other sources (snapshots).

use std::alloc::Layout;
use std::ptr::NonNull;

use crate::descriptors::layout::{FieldDesc, Shape, TypeDesc};
use crate::storage::raw;

/// Uninitialized, aligned memory for one value; freed (never dropped) at the end of its scope.
/// Whatever is built in it must be moved out or dropped by its user before.
#[derive(Debug)]
pub struct Scratch {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Scratch {
    pub fn new(layout: Layout) -> Scratch {
        Scratch {
            ptr: raw::alloc(layout),
            layout,
        }
    }

    /// Room for one value of `shape`.
    pub fn for_shape(shape: &Shape) -> Scratch {
        Scratch::new(raw::shape_layout(shape))
    }

    /// Room for one value of `desc`.
    pub fn for_type(desc: &TypeDesc) -> Scratch {
        Scratch::new(raw::type_layout(desc))
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; whatever it held was moved out or
        // dropped by its user, so only the memory is freed.
        unsafe { raw::dealloc(self.ptr, self.layout) }
    }
}

/// A C-like layout of a variant's fields, in which they are built before the variant is
/// written: the layout and each field's offset.
pub fn variant_layout(fields: &[FieldDesc]) -> (Layout, Vec<usize>) {
    let mut layout = raw::layout(0, 1);
    let mut offsets = Vec::with_capacity(fields.len());
    for f in fields {
        let field = raw::shape_layout(f.shape());
        let (extended, offset) = layout.extend(field).expect("fits in memory");
        layout = extended;
        offsets.push(offset);
    }
    (layout.pad_to_align(), offsets)
}
