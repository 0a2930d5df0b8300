//! What the build of a collection needs beside its frame: the kind of a collection conversion,
//! keys written as Rust would write them (for error paths: `items["bolt"]`, `by_id[3]`), the
//! error of two old keys that become one new key, naming both; and the build without a frame of
//! a collection whose keys and values finish on the spot ([`Exec::start_coll_flat`]: the common
//! case of plain keys and values of plain structs, built inside the old collection's iteration).

use crate::descriptors::collections::AbortOnUnwind;
use crate::descriptors::layout::{
    CollGlue, CollKind, FieldsStyle, Prim, Shape, ShapeKind, TypeKind, shape_text,
};
use crate::migration::casts::read_num;
use crate::migration::plan::Conv;
use crate::plugin::ForeignString;
use crate::storage::raw::{self, field_at, shape_layout};

use super::super::Exec;
use super::super::defaults::push_entries;
use super::super::error::{ExecuteError, ExecuteErrorKind, Seg};
use super::super::rollback::Rollback;
use super::super::teardown;

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
                        // An aligned copy of a packed struct's field (`field_at`).
                        let field = field_at(desc, f, p);
                        let v = render(f.shape(), field.ptr(), depth + 1)?;
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

/// How a collection built on the spot stopped, at entry [`Flat::i`].
enum Stop {
    /// Building the entry's key or value failed: the error, with the entry's segment.
    Entry(ExecuteError),
    /// The entry's key equals an earlier entry's.
    Merge,
    /// The new image's `Hash`, `Eq` or `Ord` panicked.
    Panicked(ForeignString),
}

/// A collection whose entries finish on the spot, built inside the old collection's own
/// iteration ([`flat_entry`] is called with each old entry).
struct Flat<'e, 'p> {
    exec: &'e mut Exec<'p>,
    key: &'p Conv,
    value: Option<&'p Conv>,
    old_key: &'static Shape,
    keyed: bool,
    new: &'static CollGlue,
    dst: *mut u8,
    /// Where entry `i` is built: at `buf + i * stride` (`stride` 0: one entry, inserted at
    /// once), its value `value_at` further.
    buf: *mut u8,
    stride: usize,
    value_at: usize,
    /// The entries built so far.
    i: usize,
    stop: Option<Stop>,
    /// The size of a key that is copied or moved whole (the common plain key), built without
    /// the general [`Exec::start`].
    key_bytes: Option<usize>,
    /// The type plan of a value that is a flat struct without a hook, built straight by
    /// [`Exec::build_flat`].
    value_flat: Option<usize>,
}

const ITERATING: &str = "the migration of a collection's entry panicked inside the old \
     collection's iteration, which must not unwind";

/// Builds the new entry of the old entry at `old_key` and `old_value` (an [`crate::descriptors::layout::EntryFn`]).
///
/// # Safety
/// `ctx` is a [`Flat`] borrowed for the call; the entry is the old collection's, valid.
unsafe fn flat_entry(ctx: *mut (), old_key: *const u8, old_value: *const u8) {
    let guard = AbortOnUnwind(ITERATING);
    // SAFETY: the caller's contract.
    let f = unsafe { &mut *ctx.cast::<Flat<'_, '_>>() };
    if f.stop.is_none() {
        // SAFETY: the old entry is valid; the buffer has room for entry `i` (one entry when the
        // stride is 0).
        unsafe { f.entry(old_key, old_value) };
    }
    core::mem::forget(guard);
}

impl<'p> Flat<'_, 'p> {
    /// The body of [`flat_entry`].
    ///
    /// # Safety
    /// As for [`flat_entry`].
    unsafe fn entry(&mut self, old_key: *const u8, old_value: *const u8) {
        let plan = self.exec.plan;
        // SAFETY: inside the buffer (caller's contract).
        let k = unsafe { self.buf.add(self.i * self.stride) };
        // SAFETY: as above.
        let v = unsafe { k.add(self.value_at) };
        // SAFETY: the conversions finish on the spot (no frame) from the valid old entry into
        // room for the new one; what they built is taken apart from the same old entry, once.
        unsafe {
            let frames = self.exec.frames.len();
            let built = match self.key_bytes {
                Some(size) => {
                    core::ptr::copy_nonoverlapping(old_key, k, size);
                    Ok(())
                }
                None => self.exec.start(self.key, old_key, k),
            };
            let built = built.and_then(|()| {
                let value = match (self.value, self.value_flat) {
                    (_, Some(index)) => self.exec.build_flat(index, old_value, v).map(|()| {
                        // What `finish_type` does for a type without a hook.
                        self.exec.counts[index] += 1;
                    }),
                    (Some(value), None) => self.exec.start(value, old_value, v),
                    (None, None) => Ok(()),
                };
                value.inspect_err(|_| unbuild(plan, self.key, old_key, k))
            });
            debug_assert_eq!(self.exec.frames.len(), frames, "flat entries push no frame");
            if let Err(e) = built {
                let seg = if self.keyed {
                    Seg::Key(render_key(self.old_key, old_key, self.i))
                } else {
                    Seg::Index(self.i)
                };
                self.stop = Some(Stop::Entry(e.inside(seg)));
                return;
            }
            if self.stride == 0 {
                let inserted = self.new.insert_moved(self.dst, k, v);
                if !matches!(inserted, Ok(true)) {
                    unbuild(plan, self.key, old_key, k);
                    if let Some(value) = self.value {
                        unbuild(plan, value, old_value, v);
                    }
                    self.stop = Some(match inserted {
                        Err(message) => Stop::Panicked(message),
                        _ => Stop::Merge,
                    });
                    return;
                }
            }
        }
        self.i += 1;
    }
}

/// Takes apart the new value at `dst` that `conv` built from `src`, which keeps its moved parts.
///
/// # Safety
/// `dst` holds the complete result of building `conv` from the unchanged `src`.
unsafe fn unbuild(plan: &crate::migration::plan::Plan, conv: &Conv, src: *const u8, dst: *mut u8) {
    let mut rollback = Rollback::new(plan);
    // SAFETY: the caller's contract.
    unsafe {
        rollback.push_conv(conv, src, dst);
        rollback.run();
    }
}

impl<'p> Exec<'p> {
    /// Whether a conversion of a collection's keys or values finishes on the spot.
    pub(super) fn flat_conv(&self, conv: &Conv) -> bool {
        match conv {
            Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } | Conv::String { .. } => true,
            Conv::Named(index) => self.flat[*index].is_some(),
            _ => false,
        }
    }

    /// Builds a collection whose keys and values finish on the spot ([`Exec::flat_conv`])
    /// without a frame or a list of the old entries: inside the old collection's iteration,
    /// each entry inserted at once (a B-tree's staged in order and built in bulk by its image's
    /// `build_from`, as `collect` builds one). On error nothing is left at `dst` and the old
    /// collection is as it was.
    ///
    /// # Safety
    /// As for [`Exec::start`], with a collection conversion whose entries finish on the spot.
    pub(super) unsafe fn start_coll_flat(
        &mut self,
        conv: &'p Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let Conv::Coll {
            key,
            value,
            old_key,
            old,
            new,
            ..
        } = conv
        else {
            unreachable!("called for collections")
        };
        let plan = self.plan;
        let kind = coll_kind(conv);
        // SAFETY: `src` is a valid collection of the old build.
        let n = unsafe { old.len(src) };
        let (entry, value_at) = entry_scratch(conv);
        // A B-tree is built in bulk from its entries staged in order.
        let staged = matches!(kind, CollKind::BTreeMap | CollKind::BTreeSet);
        let (stride, layout) = if staged {
            let stride = entry.pad_to_align().size();
            let layout = std::alloc::Layout::from_size_align(stride * n, entry.align())
                .expect("the old collection's entries fit in memory");
            (stride, layout)
        } else {
            // SAFETY: `dst` is valid for writes of the new collection.
            unsafe { new.write_with_capacity(dst, n) };
            (0, entry)
        };
        let buf = raw::alloc(layout);
        let value_flat = match value.as_deref() {
            Some(Conv::Named(index)) if self.flat_elements(*index) => Some(*index),
            _ => None,
        };
        let mut flat = Flat {
            exec: self,
            key,
            value: value.as_deref(),
            old_key,
            keyed: kind.is_keyed(),
            new,
            dst,
            buf: buf.as_ptr(),
            stride,
            value_at,
            i: 0,
            stop: None,
            key_bytes: match &**key {
                Conv::Copy { size } | Conv::Move { size } => Some(*size),
                _ => None,
            },
            value_flat,
        };
        // SAFETY: `src` is a valid old collection, unchanged during the iteration; `flat_entry`
        // accepts the `Flat` and its entries, and does not unwind (it aborts rather).
        unsafe { old.for_each(src, (&raw mut flat).cast(), flat_entry) };
        // `at`: the entry the build stopped at; `built`: the entries built before it.
        let (mut at, mut stop) = (flat.i, flat.stop.take());
        let built = at;
        if staged && stop.is_none() {
            // SAFETY: the buffer holds the `n` new entries, in the old collection's order.
            (at, stop) = match unsafe { new.build_from(dst, buf.as_ptr(), n, stride, value_at) } {
                Ok(None) => (n, None),
                Ok(Some(i)) => (i, Some(Stop::Merge)),
                Err(message) => (n, Some(Stop::Panicked(message))),
            };
        }
        let Some(stop) = stop else {
            // SAFETY: the entries moved out of the buffer (or the one scratch entry).
            unsafe { raw::dealloc(buf, layout) };
            return Ok(());
        };
        // SAFETY: the entries built share moved parts with the old ones, which keep them: taken
        // apart from themselves, once (in the buffer, or in the new collection).
        unsafe {
            if staged {
                for j in 0..built {
                    let k = buf.as_ptr().add(j * stride);
                    teardown::tear_down(plan, key, k);
                    if let Some(value) = value {
                        teardown::tear_down(plan, value, k.add(value_at));
                    }
                }
            } else {
                teardown::tear_down_coll(plan, conv, dst);
            }
            raw::dealloc(buf, layout);
        }
        Err(match stop {
            Stop::Entry(e) => e,
            Stop::Merge => {
                let i = at;
                let entries = self.addrs.len();
                // SAFETY: `src` is the valid old collection, unchanged; the addresses are its
                // entries', in the order they were built.
                let err = unsafe {
                    push_entries(old, src, &mut self.addrs);
                    self.keys_merge(conv, entries, i)
                };
                self.addrs.truncate(entries);
                err
            }
            Stop::Panicked(message) => ExecuteError::here(ExecuteErrorKind::InsertPanicked {
                coll: shape_text(match conv {
                    Conv::Coll { new_coll, .. } => new_coll,
                    _ => unreachable!("matched above"),
                }),
                message: message.into_string(),
            }),
        })
    }
}
