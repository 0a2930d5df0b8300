//! Arrays: what an array loses is checked, its kept elements built (with one copy when their
//! conversion is a plain copy), and the elements it gained filled with their default.

use super::*;

impl<'p> Exec<'p> {
    /// Starts an array: checks what it would lose, then builds its elements (on the spot when
    /// they are plain bytes) and fills what it gained.
    ///
    /// # Safety
    /// As for [`Exec::start`], with an array conversion.
    pub(super) unsafe fn start_array(
        &mut self,
        conv: &'p Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let Conv::Array {
            elem,
            old_elem,
            new_elem,
            old_len,
            new_len,
            old_default,
            ..
        } = conv
        else {
            unreachable!("called for arrays")
        };
        // Check what would be lost before building anything.
        for i in *new_len..*old_len {
            // SAFETY: element `i < old_len` of the old array.
            let p = unsafe { src.add(i * old_elem.size()) };
            let is_default = match old_default {
                Some(d) => {
                    // SAFETY: `p` is a valid value of `old_elem`, and `d` builds its default.
                    unsafe { holds_default(d, old_elem, p) }.map_err(|e| e.inside(Seg::Index(i)))?
                }
                None => false,
            };
            if !is_default {
                return Err(ExecuteError::here(ExecuteErrorKind::ArrayShrink {
                    old_len: *old_len,
                    new_len: *new_len,
                    index: i,
                }));
            }
        }
        let common = (*old_len).min(*new_len);
        // SAFETY: the arrays hold `common` elements each at their strides.
        if unsafe { copy_elements(elem, old_elem.size(), new_elem.size(), src, dst, common) } {
            // SAFETY: the elements `..common` are built.
            return unsafe { self.fill_array(conv, src, dst) };
        }
        self.frames.push(Frame {
            src,
            dst,
            next: 0,
            work: Work::Elements {
                conv,
                at: dst,
                len: common,
            },
        });
        Ok(())
    }

    /// Fills the elements an array gained with their default. On error, nothing is left at
    /// `dst`.
    ///
    /// # Safety
    /// `dst` holds the elements the array keeps, built from those at `src`.
    pub(super) unsafe fn fill_array(
        &mut self,
        conv: &'p Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let Conv::Array {
            elem,
            old_elem,
            new_elem,
            old_len,
            new_len,
            fill,
            ..
        } = conv
        else {
            unreachable!("called for arrays")
        };
        let common = (*old_len).min(*new_len);
        for i in common..*new_len {
            let fill = fill.as_ref().expect("planned for growing arrays");
            // SAFETY: element `i < new_len` of the new array.
            let result = unsafe { write_default_inside(fill, dst.add(i * new_elem.size())) };
            if let Err(e) = result {
                // SAFETY: the defaults `common..i` were written and are dropped once; the
                // elements `..common` were built from `src`.
                unsafe {
                    drop_elements(new_elem, dst.add(common * new_elem.size()), i - common);
                    let mut rollback = Rollback::new(self.plan);
                    rollback.push_elements(elem, old_elem, new_elem, src, dst, common);
                    rollback.run();
                }
                return Err(e.inside(Seg::Index(i)));
            }
        }
        Ok(())
    }
}

/// Builds `len` elements with one copy when their conversion is a copy or a move of the whole
/// element (the common flat case), returning whether it did.
///
/// # Safety
/// `src` holds `len` valid old elements of `old_size` bytes; `dst` has room for `len` new ones
/// of `new_size` bytes; the buffers do not overlap.
pub(super) unsafe fn copy_elements(
    elem: &Conv,
    old_size: usize,
    new_size: usize,
    src: *const u8,
    dst: *mut u8,
    len: usize,
) -> bool {
    match elem {
        Conv::Copy { size } | Conv::Move { size } if *size == old_size && *size == new_size => {
            // SAFETY: identical layouts (caller's contract). Moved elements are shared until
            // commit or rollback, as for single values.
            unsafe { core::ptr::copy_nonoverlapping(src, dst, len * size) };
            true
        }
        _ => false,
    }
}
