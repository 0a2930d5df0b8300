//! What the build of a collection needs beside its frame: the kind of a collection conversion,
//! keys written as Rust would write them (for error paths: `items["bolt"]`, `by_id[3]`), and
//! the error of two old keys that become one new key, naming both.

use crate::descriptors::layout::{CollKind, FieldsStyle, Prim, Shape, ShapeKind, TypeKind};
use crate::migration::casts::read_num;
use crate::migration::plan::Conv;
use crate::storage::raw::{self, shape_layout};

use super::super::Exec;
use super::super::error::{ExecuteError, ExecuteErrorKind};
use super::super::rollback::Rollback;

/// The kind of the collection a conversion builds.
pub(super) fn coll_kind(conv: &Conv) -> CollKind {
    match conv {
        Conv::Coll { new_coll, .. } => match new_coll.kind() {
            ShapeKind::Coll { kind, .. } => *kind,
            _ => unreachable!("a collection conversion builds a collection"),
        },
        _ => unreachable!("a collection frame builds a collection"),
    }
}

/// The key at `p` as Rust would write it (`Debug`-like): numbers, `'c'`, `"text"`, tuples and
/// structs of those (`Key { a: 1 }`); any other key as `#i`, its position `i` in the
/// collection's iteration order.
///
/// # Safety
/// `p` is a valid value of `shape`.
pub(super) unsafe fn render_key(shape: &Shape, p: *const u8, i: usize) -> String {
    // SAFETY: forwarded contract.
    unsafe { render(shape, p, 0) }.unwrap_or_else(|| format!("#{i}"))
}

/// How deep [`render_key`] looks into tuples of tuples.
const MAX_DEPTH: usize = 4;

/// # Safety
/// As for [`render_key`].
unsafe fn render(shape: &Shape, p: *const u8, depth: usize) -> Option<String> {
    // SAFETY: every arm reads the value as its shape describes it.
    unsafe {
        Some(match &shape.kind() {
            ShapeKind::Prim(Prim::Bool) => p.cast::<bool>().read().to_string(),
            ShapeKind::Prim(Prim::Char) => format!("{:?}", p.cast::<char>().read()),
            ShapeKind::Prim(prim) => read_num(*prim, p).to_string(),
            ShapeKind::String(g) => {
                let (ptr, len) = g.as_str(p);
                let s = core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len));
                format!("{s:?}")
            }
            ShapeKind::Tuple(elems) if depth < MAX_DEPTH => {
                let parts = elems
                    .get()
                    .iter()
                    .map(|e| render(e.shape(), p.add(e.offset()), depth + 1))
                    .collect::<Option<Vec<_>>>()?;
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            ShapeKind::Named(desc) if depth < MAX_DEPTH => {
                let desc = desc.get();
                let TypeKind::Struct(st) = &desc.kind() else {
                    return None;
                };
                let fields = st
                    .fields()
                    .iter()
                    .map(|f| {
                        let v = render(f.shape(), p.add(f.offset()), depth + 1)?;
                        Some(match st.style() {
                            FieldsStyle::Named => format!("{}: {v}", f.name()),
                            _ => v,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                match st.style() {
                    FieldsStyle::Named => format!("{} {{ {} }}", desc.name(), fields.join(", ")),
                    FieldsStyle::Tuple => format!("{}({})", desc.name(), fields.join(", ")),
                    FieldsStyle::Unit => desc.name().to_owned(),
                }
            }
            _ => return None,
        })
    }
}

impl<'p> Exec<'p> {
    /// Builds `conv` at `dst` from `src` outside any other build (a fresh walk of its own), for
    /// the error path of a collection whose keys merge.
    ///
    /// # Safety
    /// As for [`Exec::start`].
    pub(super) unsafe fn build_conv(
        plan: &'p crate::migration::plan::Plan,
        conv: &'p Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let mut exec = Exec::new(plan);
        // SAFETY: the caller's contract.
        let mut progress = unsafe { exec.start(conv, src, dst) };
        while let Some(&top) = exec.frames.last() {
            progress = match progress {
                // SAFETY: the top frame's parts `..next` are complete.
                Ok(()) => unsafe { exec.resume(top) },
                Err(e) => {
                    exec.frames.pop();
                    // SAFETY: as above; its part `next - 1` failed and left nothing.
                    Err(unsafe { exec.abandon(top, e) })
                }
            };
        }
        progress
    }

    /// The error of entry `i` of a collection frame, whose new key equals that of an earlier
    /// entry: finds that entry by building the earlier entries' new keys again (only on this
    /// error path) and names both old keys.
    ///
    /// # Safety
    /// The old entries' addresses are [`Exec::addrs`]`[entries..]`, two per entry, of `conv`'s
    /// old collection.
    pub(super) unsafe fn keys_merge(
        &self,
        conv: &'p Conv,
        entries: usize,
        i: usize,
    ) -> ExecuteError {
        let Conv::Coll {
            key,
            old_key,
            new_key,
            new,
            ..
        } = conv
        else {
            unreachable!("a collection frame builds a collection")
        };
        let old_at = |j: usize| self.addrs[entries + 2 * j].cast_const();
        // SAFETY: the addresses are valid old keys (caller's contract).
        let second = unsafe { render_key(old_key, old_at(i), i) };
        let layout = shape_layout(new_key);
        let (a, b) = (raw::alloc(layout), raw::alloc(layout));
        let mut first = None;
        // SAFETY: the scratches fit a new key; each key built is compared with the new image's
        // glue and taken apart again from the old key it was built from (it may share moved
        // parts with it), once.
        unsafe {
            let unbuild = |src: *const u8, dst: *mut u8| {
                let mut rollback = Rollback::new(self.plan);
                rollback.push_conv(key, src, dst);
                rollback.run();
            };
            if Exec::build_conv(self.plan, key, old_at(i), a.as_ptr()).is_ok() {
                for j in 0..i {
                    if Exec::build_conv(self.plan, key, old_at(j), b.as_ptr()).is_ok() {
                        let equal = new.key_eq(a.as_ptr(), b.as_ptr());
                        unbuild(old_at(j), b.as_ptr());
                        if equal {
                            first = Some(render_key(old_key, old_at(j), j));
                            break;
                        }
                    }
                }
                unbuild(old_at(i), a.as_ptr());
            }
            raw::dealloc(a, layout);
            raw::dealloc(b, layout);
        }
        ExecuteError::here(ExecuteErrorKind::KeysMerge {
            first: first.unwrap_or_else(|| "an earlier key".to_owned()),
            second,
        })
    }
}

/// The layout of a collection frame's scratch (a new key, then a new value for maps) and the
/// value's offset in it.
pub(in crate::migration::execute) fn entry_scratch(conv: &Conv) -> (std::alloc::Layout, usize) {
    let Conv::Coll {
        new_key, new_value, ..
    } = conv
    else {
        unreachable!("a collection frame builds a collection")
    };
    let key = shape_layout(new_key);
    match new_value {
        Some(v) => key.extend(shape_layout(v)).expect("a Rust type's layout"),
        None => (key, 0),
    }
}

/// The number of parts of each entry of a collection frame: key, value (maps) and insert.
pub(in crate::migration::execute) fn entry_parts(conv: &Conv) -> usize {
    match conv {
        Conv::Coll { value, .. } => 2 + usize::from(value.is_some()),
        _ => unreachable!("a collection frame builds a collection"),
    }
}
