//! Flat structs: a struct whose every step finishes on the spot (copies, casts, moves,
//! defaults) is built without a frame, and a vector of them in one loop. Its steps are reduced to
//! a [`FlatPlan`] of [`FlatOp`]s; a plan of only copies, casts, zero bytes and writers
//! ("simple") runs through [`run_ops`] without matching the plan's larger enums, which is what
//! most values of most types are (a `Vec` of plain structs that gained a field).

use crate::descriptors::layout::{Prim, WriteFn};
use crate::migration::casts::{InexactCast, read_num, write_num};
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
    ops: Box<[FlatOp]>,
    /// No op is [`FlatOp::Step`]: [`run_ops`] builds the whole value.
    simple: bool,
}

impl FlatPlan {
    /// The flat plan of a struct's steps; `None` when a step does not finish on the spot.
    pub(in crate::migration::execute) fn of(steps: &[Step]) -> Option<FlatPlan> {
        let ops: Box<[FlatOp]> = steps.iter().map(FlatOp::of).collect::<Option<_>>()?;
        let simple = !ops.iter().any(|op| matches!(op, FlatOp::Step));
        Some(FlatPlan { ops, simple })
    }
}

/// One step of a [`FlatPlan`]. The common steps run without matching the plan's larger enums;
/// the rest go the general way ([`FlatOp::Step`]).
#[derive(Clone, Copy, Debug)]
enum FlatOp {
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
enum OpFailed {
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
unsafe fn run_ops(ops: &[FlatOp], src: *const u8, dst: *mut u8) -> Result<(), OpFailed> {
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
        let Conv::Vec {
            elem,
            old_elem,
            new_elem,
            ..
        } = conv
        else {
            unreachable!("called for vectors")
        };
        let plan = self.plan;
        let (old_size, new_size) = (old_elem.size(), new_elem.size());
        let flat = self.flat[index].as_ref().expect("a flat plan");
        let mut failed = None;
        if flat.simple {
            let TypeBody::Struct { steps, .. } = &plan.types[index].body else {
                unreachable!("flat plans are structs")
            };
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
