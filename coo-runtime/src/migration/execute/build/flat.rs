//! Flat structs: a struct whose every step finishes on the spot (copies, casts, moves,
//! defaults) is built without a frame, and a vector of them in one loop. Its steps are reduced to
//! a [`FlatPlan`] of [`FlatOp`]s; a plan of only copies, casts, zero bytes and writers
//! ("simple") runs through [`run_ops`] without matching the plan's larger enums, which is what
//! most values of most types are (a `Vec` of plain structs that gained a field).

use crate::descriptors::layout::{Prim, Shape, WriteFn};
use crate::migration::casts::{CastKind, InexactCast, read_num, write_num};
use crate::migration::plan::{Conv, DefaultPlan, Plan, Step, TypeBody};
use crate::plugin::ForeignString;

use super::super::defaults::write_default_inside;
use super::super::error::{DefaultPanicked, ExecuteError, ExecuteErrorKind, Seg};
use super::super::rollback::Rollback;
use super::Exec;

/// A flat struct plan (every step finishes on the spot) reduced to what the build loop needs:
/// one [`FlatOp`] per [`Step`], in the same order.
#[derive(Debug)]
pub(in crate::migration::execute) struct FlatPlan {
    pub(super) ops: Box<[FlatOp]>,
    /// No op is [`FlatOp::Step`]: [`run_ops`] builds the whole value.
    simple: bool,
    /// Simple, and no op runs code of an image ([`FlatOp::Write`]): only bytes are copied,
    /// converted and set, so a vector's elements may be built on several threads at once.
    pure: bool,
    /// Pure, and no cast is checked: no element can fail, so a vector's elements may be
    /// converted in place at commit (`in_place.rs`).
    pub(super) infallible: bool,
}

impl FlatPlan {
    /// The flat plan of a struct's steps; `None` when a step does not finish on the spot. For a
    /// `#[repr(packed)]` struct (old or new: `packed`), whose fields may be unaligned, only ops
    /// on bytes are flat (copies, casts, zero and literal bytes); a default writer or any other
    /// step goes the general way, through aligned temporaries.
    pub(in crate::migration::execute) fn of(steps: &[Step], packed: bool) -> Option<FlatPlan> {
        let ops: Box<[FlatOp]> = steps.iter().map(FlatOp::of).collect::<Option<_>>()?;
        if packed
            && ops
                .iter()
                .any(|op| matches!(op, FlatOp::Write { .. } | FlatOp::Step))
        {
            return None;
        }
        let simple = !ops.iter().any(|op| matches!(op, FlatOp::Step));
        let pure = simple && !ops.iter().any(|op| matches!(op, FlatOp::Write { .. }));
        let infallible = pure
            && !steps.iter().any(|step| {
                matches!(
                    step,
                    Step::Convert {
                        conv: Conv::Cast {
                            kind: CastKind::Checked,
                            ..
                        },
                        ..
                    }
                )
            });
        Some(FlatPlan {
            ops,
            simple,
            pure,
            infallible,
        })
    }
}

/// One step of a [`FlatPlan`]. The common steps run without matching the plan's larger enums;
/// the rest go the general way ([`FlatOp::Step`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum FlatOp {
    /// Plain bytes, or a moved value's bytes (see [`Conv::Move`]).
    Copy { src: usize, dst: usize, len: usize },
    /// A number converted to another type (checked or not).
    Cast {
        src: usize,
        dst: usize,
        from: Prim,
        to: Prim,
    },
    /// A primitive's default: zero bytes.
    Zero { dst: usize, size: usize },
    /// A literal default's bytes.
    Bytes { dst: usize, bytes: &'static [u8] },
    /// A default written by the new image's writer (`#[coo(default = ...)]`, `Default`).
    Write { dst: usize, write: WriteFn },
    /// Anything else: the step itself (defaults of strings, vectors, …).
    Step,
}

impl FlatOp {
    /// The op of one step of a struct plan; `None` when the step does not finish on the spot.
    fn of(step: &Step) -> Option<FlatOp> {
        Some(match step {
            Step::Copy { src, dst, len } => FlatOp::Copy {
                src: *src,
                dst: *dst,
                len: *len,
            },
            Step::Convert { src, dst, conv, .. } => match conv {
                Conv::Copy { size } | Conv::Move { size } => FlatOp::Copy {
                    src: *src,
                    dst: *dst,
                    len: *size,
                },
                Conv::Cast { from, to, .. } => FlatOp::Cast {
                    src: *src,
                    dst: *dst,
                    from: *from,
                    to: *to,
                },
                _ => return None,
            },
            Step::Default { dst, plan, .. } => match plan {
                DefaultPlan::Zero { size } => FlatOp::Zero {
                    dst: *dst,
                    size: *size,
                },
                DefaultPlan::Bytes(bytes) => FlatOp::Bytes { dst: *dst, bytes },
                DefaultPlan::Write(write) => FlatOp::Write {
                    dst: *dst,
                    write: *write,
                },
                _ => FlatOp::Step,
            },
        })
    }
}

/// Why [`run_ops`] stopped at op `.0`: a checked cast that did not convert exactly, or a
/// default writer that panicked (its message).
pub(super) enum OpFailed {
    Cast(usize),
    Panicked(usize, ForeignString),
}

/// Builds a value of a simple [`FlatPlan`] (no [`FlatOp::Step`]). On failure at op `i`, the ops
/// `..i` are built and op `i` left nothing.
///
/// # Safety
/// `ops` are a simple flat plan's; `src` is a valid old value of it and `dst` is valid for writes
/// of the new type and suitably aligned.
#[inline(always)]
pub(super) unsafe fn run_ops(ops: &[FlatOp], src: *const u8, dst: *mut u8) -> Result<(), OpFailed> {
    for (i, op) in ops.iter().enumerate() {
        // SAFETY: the offsets and sizes are the fields' own (the ops are the plan's steps).
        unsafe {
            match *op {
                FlatOp::Copy {
                    src: s,
                    dst: d,
                    len,
                } => {
                    core::ptr::copy_nonoverlapping(src.add(s), dst.add(d), len);
                }
                FlatOp::Cast {
                    src: s,
                    dst: d,
                    from,
                    to,
                } => {
                    if !write_num(read_num(from, src.add(s)), to, dst.add(d)) {
                        return Err(OpFailed::Cast(i));
                    }
                }
                FlatOp::Zero { dst: d, size } => core::ptr::write_bytes(dst.add(d), 0, size),
                FlatOp::Bytes { dst: d, bytes } => {
                    core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.add(d), bytes.len());
                }
                FlatOp::Write { dst: d, write } => {
                    if let Err(message) = write(dst.add(d)) {
                        return Err(OpFailed::Panicked(i, message));
                    }
                }
                FlatOp::Step => unreachable!("run only for simple flat plans"),
            }
        }
    }
    Ok(())
}

impl<'p> Exec<'p> {
    /// Builds a struct of flat type plan `index` (whose every step finishes on the spot: copies,
    /// casts, moves, defaults). On error the steps built so far are taken apart again and
    /// nothing is left at `dst`; the error's path starts at the failing field.
    ///
    /// # Safety
    /// `src` is a valid old value of the plan's old type and `dst` is valid for writes of the
    /// new type and suitably aligned.
    pub(super) unsafe fn build_flat(
        &mut self,
        index: usize,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), ExecuteError> {
        let plan = self.plan;
        let TypeBody::Struct { steps, .. } = &plan.types[index].body else {
            unreachable!("flat plans are structs")
        };
        let flat = self.flat[index].as_ref().expect("a flat plan");
        if flat.simple {
            // SAFETY: forwarded contract.
            return match unsafe { run_ops(&flat.ops, src, dst) } {
                Ok(()) => Ok(()),
                // SAFETY: as above; the ops stopped there.
                Err(failed) => Err(unsafe { fail_flat(plan, steps, failed, src, dst) }),
            };
        }
        for (i, step) in steps.iter().enumerate() {
            // SAFETY: the offsets are the fields' own.
            let built = unsafe {
                match step {
                    Step::Copy {
                        src: s,
                        dst: d,
                        len,
                    } => {
                        core::ptr::copy_nonoverlapping(src.add(*s), dst.add(*d), *len);
                        Ok(())
                    }
                    Step::Convert {
                        src: s,
                        dst: d,
                        conv,
                        ..
                    } => self.start(conv, src.add(*s), dst.add(*d)),
                    Step::Default { dst: d, plan, .. } => write_default_inside(plan, dst.add(*d)),
                }
            };
            if let Err(e) = built {
                // SAFETY: the steps `..i` were built from `src` into `dst`.
                unsafe { unbuild_steps(plan, &steps[..i], src, dst) };
                return Err(e.inside_name(step_field(step)));
            }
        }
        Ok(())
    }

    /// Whether the elements of a vector of type plan `index` can be built by
    /// [`Exec::build_flat_elements`]: a flat struct without a migration hook.
    pub(super) fn flat_elements(&self, index: usize) -> bool {
        self.flat[index].is_some() && self.plan.types[index].hook.is_none()
    }

    /// Builds the `len` elements of a vector whose elements are of type plan `index` (see
    /// [`Exec::flat_elements`]) in one loop: what an elements frame does, without starting and
    /// resuming a frame per element. On error the elements built so far are taken apart again
    /// (nothing is left in `dst`'s buffer) and the error's path starts at the failing element.
    ///
    /// # Safety
    /// `conv` is the vector's conversion; `src` holds `len` valid old elements, `dst` has room
    /// for `len` new ones; the buffers do not overlap.
    pub(super) unsafe fn build_flat_elements(
        &mut self,
        conv: &'p Conv,
        index: usize,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) -> Result<(), ExecuteError> {
        let (elem, old_elem, new_elem) = vec_elements(conv);
        let plan = self.plan;
        let (old_size, new_size) = (old_elem.size(), new_elem.size());
        let flat = self.flat[index].as_ref().expect("a flat plan");
        let mut failed = None;
        if flat.simple {
            let TypeBody::Struct { steps, .. } = &plan.types[index].body else {
                unreachable!("flat plans are structs")
            };
            let threads = if flat.pure {
                threads_for(len * new_size)
            } else {
                1
            };
            if threads > 1 {
                let buffers = Buffers {
                    src,
                    dst,
                    old_size,
                    new_size,
                };
                // SAFETY: the caller's contract; the plan is pure.
                let built =
                    unsafe { build_pure(plan, conv, steps, &flat.ops, buffers, len, threads) };
                if built.is_ok() {
                    self.counts[index] += len as u64;
                }
                return built;
            }
            for i in 0..len {
                // SAFETY: element `i < len` of each buffer (caller's contract).
                let (s, d) = unsafe { (src.add(i * old_size), dst.add(i * new_size)) };
                // SAFETY: as above.
                if let Err(op) = unsafe { run_ops(&flat.ops, s, d) } {
                    // SAFETY: the ops stopped at `op`.
                    failed = Some((i, unsafe { fail_flat(plan, steps, op, s, d) }));
                    break;
                }
            }
        } else {
            for i in 0..len {
                // SAFETY: element `i < len` of each buffer (caller's contract).
                let built =
                    unsafe { self.build_flat(index, src.add(i * old_size), dst.add(i * new_size)) };
                if let Err(e) = built {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let Some((i, e)) = failed else {
            self.counts[index] += len as u64;
            return Ok(());
        };
        let mut rollback = Rollback::new(plan);
        // SAFETY: the elements `..i` were built from `src` into `dst`; element `i` left nothing.
        unsafe {
            rollback.push_elements(elem, old_elem, new_elem, src, dst, i);
            rollback.run();
        }
        Err(e.inside(Seg::Index(i)))
    }
}

/// The error of a simple flat build that stopped at an op, after taking apart the steps built
/// before it; the path starts at the failing field.
///
/// # Safety
/// `run_ops` of `steps`' flat plan stopped with `failed` building `dst` from `src`.
#[cold]
unsafe fn fail_flat(
    plan: &Plan,
    steps: &[Step],
    failed: OpFailed,
    src: *const u8,
    dst: *mut u8,
) -> ExecuteError {
    let (i, kind) = match failed {
        OpFailed::Cast(i) => {
            let Step::Convert {
                src: s,
                conv: Conv::Cast { from, to, .. },
                ..
            } = &steps[i]
            else {
                unreachable!("a cast op is a cast step")
            };
            // SAFETY: the old field at `s` holds a `from`.
            let value = unsafe { read_num(*from, src.add(*s)) };
            let kind = ExecuteErrorKind::CheckedCast(InexactCast {
                from: *from,
                to: *to,
                value: value.to_string(),
            });
            (i, kind)
        }
        OpFailed::Panicked(i, message) => {
            let kind = ExecuteErrorKind::Default(DefaultPanicked {
                message: message.into_string(),
            });
            (i, kind)
        }
    };
    // SAFETY: the steps `..i` were built from `src` into `dst` (caller's contract).
    unsafe { unbuild_steps(plan, &steps[..i], src, dst) };
    ExecuteError::here(kind).inside_name(step_field(&steps[i]))
}

/// Takes apart the steps `steps` built from `src` into `dst`.
///
/// # Safety
/// Those steps were built from `src` into `dst`, and nothing else was.
unsafe fn unbuild_steps(plan: &Plan, steps: &[Step], src: *const u8, dst: *mut u8) {
    let mut rollback = Rollback::new(plan);
    // SAFETY: forwarded contract.
    unsafe {
        rollback.push_steps(steps, src, dst);
        rollback.run();
    }
}

/// The name of the field a step that can fail builds.
fn step_field(step: &Step) -> &'static str {
    match step {
        Step::Convert { field, .. } | Step::Default { field, .. } => field,
        Step::Copy { .. } => unreachable!("copies do not fail"),
    }
}

/// A vector of new elements this many bytes or larger is built on several threads, when its
/// plan is pure ([`FlatPlan::pure`]): below it, starting a thread costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// How many threads build `bytes` of new elements of a pure plan: one per core, at most 8, and
/// each with at least [`PARALLEL_MIN_BYTES`] to build.
fn threads_for(bytes: usize) -> usize {
    if bytes < 2 * PARALLEL_MIN_BYTES {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cores.min(bytes / PARALLEL_MIN_BYTES).min(8)
}

/// The old and new buffers of a vector under construction, handed to the threads that build
/// parts of it.
#[derive(Clone, Copy)]
struct Buffers {
    src: *const u8,
    dst: *mut u8,
    old_size: usize,
    new_size: usize,
}

// SAFETY: a `Buffers` is only used by `build_pure`, whose threads read the old elements (which
// nothing writes while the migration runs: the state is borrowed mutably by it) and write
// disjoint ranges of the new buffer, and are all joined before `build_pure` returns.
unsafe impl Send for Buffers {}

impl Buffers {
    /// Builds the elements `from..to` by a pure plan's `ops`; on failure, the element and op
    /// that failed (the elements `from..element` are built, the element's ops `..op` too).
    ///
    /// # Safety
    /// As for [`build_pure`]; no other thread writes the elements `from..to`.
    unsafe fn run(self, ops: &[FlatOp], from: usize, to: usize) -> Result<(), (usize, usize)> {
        for i in from..to {
            // SAFETY: element `i < len` of each buffer.
            let built = unsafe {
                run_ops(
                    ops,
                    self.src.add(i * self.old_size),
                    self.dst.add(i * self.new_size),
                )
            };
            match built {
                Ok(()) => {}
                Err(OpFailed::Cast(op)) => return Err((i, op)),
                Err(OpFailed::Panicked(..)) => unreachable!("a pure plan runs no writer"),
            }
        }
        Ok(())
    }
}

/// Builds the `len` elements of a vector by a pure flat plan on `threads` threads (this one and
/// `threads - 1` scoped ones, each a contiguous range; a range whose thread cannot be started is
/// built on this one). The result is the one loop's: on error, everything built is taken apart
/// again and the error is the first failing element's (the lowest index), whose path starts
/// there.
///
/// # Safety
/// `conv` is the vector's conversion, `steps` and `ops` its element type's flat plan, which is
/// pure; `buffers.src` holds `len` valid old elements, `buffers.dst` has room for `len` new ones;
/// the buffers do not overlap.
unsafe fn build_pure(
    plan: &Plan,
    conv: &Conv,
    steps: &[Step],
    ops: &[FlatOp],
    buffers: Buffers,
    len: usize,
    threads: usize,
) -> Result<(), ExecuteError> {
    let chunk = len.div_ceil(threads);
    let ranges: Vec<(usize, usize)> = (0..threads)
        .map(|k| (k * chunk, ((k + 1) * chunk).min(len)))
        .filter(|(from, to)| from < to)
        .collect();
    let results: Vec<Result<(), (usize, usize)>> = std::thread::scope(|scope| {
        let spawned: Vec<_> = ranges[1..]
            .iter()
            .map(|&(from, to)| {
                std::thread::Builder::new()
                    .name("coo-migrate".into())
                    // SAFETY: the caller's contract; the ranges are disjoint.
                    .spawn_scoped(scope, move || unsafe { buffers.run(ops, from, to) })
            })
            .collect();
        let (from, to) = ranges[0];
        // SAFETY: as above.
        let mut results = vec![unsafe { buffers.run(ops, from, to) }];
        for (&(from, to), thread) in ranges[1..].iter().zip(spawned) {
            results.push(match thread {
                // `run` does not panic (its ops copy, convert and set bytes); if it did, the
                // panic goes on here.
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // SAFETY: as above; that range's thread never started.
                Err(_) => unsafe { buffers.run(ops, from, to) },
            });
        }
        results
    });
    if results.iter().all(Result::is_ok) {
        return Ok(());
    }
    let (elem, old_elem, new_elem) = vec_elements(conv);
    let Buffers {
        src,
        dst,
        old_size,
        new_size,
    } = buffers;
    let mut first = None;
    let mut rollback = Rollback::new(plan);
    for (&(from, to), result) in ranges.iter().zip(results) {
        let built = match result {
            Ok(()) => to,
            Err((i, op)) => {
                // SAFETY: element `i`'s ops `..op` were built, op `op` failed.
                let (s, d) = unsafe { (src.add(i * old_size), dst.add(i * new_size)) };
                if first.is_none() {
                    // SAFETY: as above.
                    first = Some((i, unsafe {
                        fail_flat(plan, steps, OpFailed::Cast(op), s, d)
                    }));
                } else {
                    // SAFETY: as above.
                    unsafe { unbuild_steps(plan, &steps[..op], s, d) };
                }
                i
            }
        };
        // SAFETY: the elements `from..built` of this range were built from `src` into `dst`.
        unsafe {
            rollback.push_elements(
                elem,
                old_elem,
                new_elem,
                src.add(from * old_size),
                dst.add(from * new_size),
                built - from,
            );
        }
    }
    // SAFETY: what was pushed is exactly what was built.
    unsafe { rollback.run() };
    let (i, e) = first.expect("a range failed");
    Err(e.inside(Seg::Index(i)))
}

/// A vector conversion's element conversion and its old and new element shapes.
fn vec_elements(conv: &Conv) -> (&Conv, &'static Shape, &'static Shape) {
    let Conv::Vec {
        elem,
        old_elem,
        new_elem,
        ..
    } = conv
    else {
        unreachable!("called for vectors")
    };
    (elem, old_elem, new_elem)
}
