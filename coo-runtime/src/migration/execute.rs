//! Execution of a migration plan: builds new values from old ones without touching the old ones.
//!
//! Every builder here has one contract: on `Ok` the destination holds a complete, independent new
//! value; on `Err` the destination holds nothing (everything built so far was dropped with the
//! new version's glue) and the source is unchanged. The old state is only ever read, so a failure
//! anywhere leaves it exactly as it was.

use std::fmt;

use crate::descriptors::layout::{Prim, Shape, ShapeKind, TypeDesc, TypeKind};
use crate::migration::casts::{CastKind, read_num, write_num};
use crate::migration::diff::TypeDiff;
use crate::migration::plan::{Conv, DefaultPlan, Plan, Step, TypeBody, VariantFieldStep};
use crate::storage::scratch::Scratch;
use crate::storage::view::OldValue;

/// One step of the path to a value: `World.particles[3].mass`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Name(String),
    Index(usize),
}

/// Where a value lives in the state, from the resource down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValuePath(pub Vec<Seg>);

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Name(n) if i == 0 => f.write_str(n)?,
                Seg::Name(n) => write!(f, ".{n}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Why a planned migration failed on a live value. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "`{path}` holds {value}, which is not exactly representable as `{to}` (was `{from}`); \
         change the value so it fits, or keep the field as `{from}`"
    )]
    CheckedCast {
        path: ValuePath,
        from: Prim,
        to: Prim,
        value: String,
    },
    #[error(
        "`{path}` shrinks from {old_len} to {new_len} elements, but element {index} does not hold the default; \
         clear it first, or keep the length at {old_len}"
    )]
    ArrayShrink {
        path: ValuePath,
        old_len: usize,
        new_len: usize,
        index: usize,
    },
    #[error(
        "`{path}` is `{ty}::{variant}`, a variant the new version removed; \
         keep the variant, change the value first, or add `#[coo(migrate = ...)]` to `{ty}`"
    )]
    VariantRemoved {
        path: ValuePath,
        ty: String,
        variant: String,
    },
    #[error("the migration hook of `{ty}` failed at `{path}`: {message}")]
    Hook {
        path: ValuePath,
        ty: String,
        message: String,
    },
    #[error(
        "the default of `{path}` panicked: {message}; make the `Default` impl or \
         `#[coo(default = ...)]` expression that makes it not panic, or give the field a \
         `#[coo(default = ...)]` that does not"
    )]
    Default { path: ValuePath, message: String },
    #[error("the plan was made for other live values; plan again")]
    StalePlan,
}

impl MigrateError {
    fn path_mut(&mut self) -> Option<&mut ValuePath> {
        match self {
            MigrateError::CheckedCast { path, .. }
            | MigrateError::ArrayShrink { path, .. }
            | MigrateError::VariantRemoved { path, .. }
            | MigrateError::Hook { path, .. }
            | MigrateError::Default { path, .. } => Some(path),
            MigrateError::StalePlan => None,
        }
    }

    /// The path of the offending value, if the error is about one.
    pub fn path(&self) -> Option<&ValuePath> {
        match self {
            MigrateError::CheckedCast { path, .. }
            | MigrateError::ArrayShrink { path, .. }
            | MigrateError::VariantRemoved { path, .. }
            | MigrateError::Hook { path, .. }
            | MigrateError::Default { path, .. } => Some(path),
            MigrateError::StalePlan => None,
        }
    }

    /// Adds a path segment around the path while the error travels up the walk (paths are built
    /// only on failure). Until the error leaves the walk the path is kept innermost segment
    /// first, and [`MigrateError::within_name`] or [`write_default`] puts it in order: inserting
    /// each segment at the front would cost the square of the depth, and a value can be a
    /// million levels deep.
    fn inside(mut self, seg: Seg) -> Self {
        if let Some(path) = self.path_mut() {
            path.0.push(seg);
        }
        self
    }

    fn inside_name(self, name: &str) -> Self {
        self.inside(Seg::Name(name.to_owned()))
    }

    /// Puts the path built by [`MigrateError::inside`] in order, outermost segment first.
    fn completed(mut self) -> Self {
        if let Some(path) = self.path_mut() {
            path.0.reverse();
        }
        self
    }

    /// Adds the outermost segment (the resource's name) as the error leaves the walk, and puts
    /// the path in order.
    pub(crate) fn within_name(self, name: &str) -> Self {
        self.inside_name(name).completed()
    }
}

fn err_default(message: String) -> MigrateError {
    MigrateError::Default {
        path: ValuePath::default(),
        message,
    }
}

/// What a migration did, type by type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every changed type, with how many of its values were migrated.
    pub types: Vec<TypeReport>,
    /// Resources whose type did not change: kept in place, not copied.
    pub kept: Vec<String>,
    /// Resources that were rebuilt.
    pub migrated: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeReport {
    pub diff: TypeDiff,
    pub values: u64,
}

impl Report {
    /// The report of the type with this (new) name.
    pub fn ty(&self, name: &str) -> Option<&TypeReport> {
        self.types.iter().find(|t| t.diff.new_name == name)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.types.is_empty() {
            writeln!(f, "no layout changes")?;
        }
        for t in &self.types {
            write!(f, "{}", t.diff)?;
            writeln!(
                f,
                "  {} value{} migrated",
                t.values,
                if t.values == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// Runs `f`, a step of a walk that recurses once per level of nesting of the values it walks, on
/// a new stack segment allocated on the heap when the current stack runs low (as rustc does for
/// deep expressions), so that a value nested a million levels deep does not overflow the stack.
/// The walks of a migration are recursive, and they follow each value's nesting; rewriting them
/// with explicit work stacks, as the host's JSON printer and reader are, would avoid the heap
/// segments (a debug build uses several KiB of stack per level).
fn deep<R>(f: impl FnOnce() -> R) -> R {
    const RED_ZONE: usize = 100 * 1024;
    const SEGMENT: usize = 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Runs a plan: builds new values, and afterwards either releases what the old values still own
/// (commit) or takes the new values apart again (rollback).
///
/// Three walks follow the same plan:
/// - [`Exec::build`] reads an old value and writes a new one; moved parts are shared with the old
///   value until one of the two other walks runs;
/// - [`Exec::release`] (commit) gives up what the old value still owns after its moved parts went
///   to the new value: removed fields, containers that were rebuilt, copies' originals;
/// - [`Exec::unbuild`] (rollback) gives up what a new value owns without touching the parts it
///   shares with the old value.
pub(crate) struct Exec<'p> {
    plan: &'p Plan,
    pub(crate) counts: Vec<u64>,
}

impl<'p> Exec<'p> {
    pub(crate) fn new(plan: &'p Plan) -> Self {
        Exec {
            plan,
            counts: vec![0; plan.types.len()],
        }
    }

    /// Builds the new value of type plan `index` at `dst` from the old value at `src`. On error,
    /// nothing is left at `dst` and the old value is as it was.
    ///
    /// # Safety
    /// `src` is a valid value of the plan's old type; `dst` is valid for writes of the new type
    /// and suitably aligned.
    pub(crate) unsafe fn build_type(
        &mut self,
        index: usize,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        let plan = self.plan;
        let tp = &plan.types[index];
        match &tp.body {
            // SAFETY: forwarded contract.
            TypeBody::Struct { steps, .. } => unsafe { self.build_struct(steps, src, dst)? },
            // SAFETY: forwarded contract.
            TypeBody::Enum(ep) => unsafe { self.build_enum(tp, ep, src, dst)? },
            // SAFETY: `dst` is valid for writes of the new type.
            TypeBody::HookOnly(d) => unsafe { write_default_inside(d, dst)? },
        }
        if let Some(hook) = tp.hook {
            // SAFETY: `src` is a valid old value that is only read while the view lives.
            let old = unsafe { OldValue::new(tp.old, src) };
            // SAFETY: `dst` holds the complete new value, built as an independent copy (types
            // with hooks are planned with `copy`), referenced by nothing else.
            if let Err(message) = unsafe { hook(&old, dst) } {
                // SAFETY: the new value is an independent copy; it is dropped once.
                unsafe { (tp.new.glue.drop)(dst) };
                return Err(MigrateError::Hook {
                    path: ValuePath::default(),
                    ty: tp.new.name.to_owned(),
                    message: message.into_string(),
                });
            }
        }
        self.counts[index] += 1;
        Ok(())
    }

    /// The enum part of [`Exec::build_type`], out of line so that the frames of the struct
    /// walk, which a deep value nests once per level, stay small.
    ///
    /// # Safety
    /// As for [`Exec::build_type`], with an enum plan.
    #[inline(never)]
    unsafe fn build_enum(
        &mut self,
        tp: &crate::migration::plan::TypePlan,
        ep: &crate::migration::plan::EnumPlan,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        let (old_enum, new_enum) = enums(tp.old, tp.new);
        let mut addrs = vec![core::ptr::null::<u8>(); ep.old_max_fields];
        // SAFETY: `src` is a valid old value and `addrs` has room for its largest
        // variant.
        let vi = unsafe { (old_enum.read)(src, addrs.as_mut_ptr()) };
        match &ep.variants[vi] {
            None => match &ep.removed_default {
                // SAFETY: `dst` is valid for writes of the new type.
                Some(d) => unsafe { write_default_inside(d, dst)? },
                None => {
                    return Err(MigrateError::VariantRemoved {
                        path: ValuePath::default(),
                        ty: tp.old.name.to_owned(),
                        variant: old_enum.variants[vi].name.to_owned(),
                    });
                }
            },
            Some(vp) => {
                let scratch = Scratch::new(vp.scratch);
                let mut ptrs = Vec::with_capacity(vp.fields.len());
                for (j, step) in vp.fields.iter().enumerate() {
                    // SAFETY: the offsets come from the scratch layout.
                    let fdst = unsafe { scratch.ptr().add(vp.offsets[j]) };
                    let result = match step {
                        VariantFieldStep::Convert {
                            field,
                            old_index,
                            conv,
                            ..
                        } => {
                            // SAFETY: `addrs[old_index]` is a field of the valid old
                            // value; `fdst` is valid for the new field.
                            unsafe { self.build(conv, addrs[*old_index], fdst) }
                                .map_err(|e| e.inside_name(field))
                        }
                        VariantFieldStep::Default { field, plan, .. } => {
                            // SAFETY: `fdst` is valid for writes of the new field.
                            unsafe { write_default_inside(plan, fdst) }
                                .map_err(|e| e.inside_name(field))
                        }
                    };
                    if let Err(e) = result {
                        for (k, built) in vp.fields[..j].iter().enumerate() {
                            // SAFETY: field `k` was built above from `addrs`.
                            unsafe {
                                self.unbuild_variant_field(
                                    built,
                                    &addrs,
                                    scratch.ptr().add(vp.offsets[k]),
                                )
                            }
                        }
                        return Err(e.inside_name(old_enum.variants[vi].name));
                    }
                    ptrs.push(fdst);
                }
                // SAFETY: every field of the new variant is built in the scratch
                // buffer; `write` moves them out, and the scratch is then only freed.
                unsafe { (new_enum.write)(dst, vp.new_index, ptrs.as_ptr()) };
            }
        }
        Ok(())
    }

    /// # Safety
    /// As for [`Exec::build_type`], with a struct plan.
    unsafe fn build_struct(
        &mut self,
        steps: &[Step],
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        for (i, step) in steps.iter().enumerate() {
            let result = match step {
                Step::Copy {
                    src: s,
                    dst: d,
                    len,
                } => {
                    // SAFETY: the run lies inside both values (offsets and sizes of fields
                    // whose bytes mean the same in both versions); the values do not overlap.
                    unsafe { core::ptr::copy_nonoverlapping(src.add(*s), dst.add(*d), *len) };
                    Ok(())
                }
                Step::Convert {
                    field,
                    src: s,
                    dst: d,
                    conv,
                    ..
                } => {
                    // SAFETY: the offsets are the fields' own (from `offset_of!`).
                    unsafe { self.build(conv, src.add(*s), dst.add(*d)) }
                        .map_err(|e| e.inside_name(field))
                }
                Step::Default {
                    field,
                    dst: d,
                    plan,
                    ..
                } => {
                    // SAFETY: the offset is the new field's own.
                    unsafe { write_default_inside(plan, dst.add(*d)) }
                        .map_err(|e| e.inside_name(field))
                }
            };
            if let Err(e) = result {
                // SAFETY: steps `..i` were built from `src` into `dst`.
                unsafe { self.unbuild_steps(&steps[..i], src, dst) };
                return Err(e);
            }
        }
        Ok(())
    }

    /// Builds a new value of a conversion's new shape at `dst` from the old value at `src`. On
    /// error, nothing is left at `dst`.
    ///
    /// # Safety
    /// `src` is a valid value of the conversion's old shape; `dst` is valid for writes of the new
    /// shape and suitably aligned.
    unsafe fn build(
        &mut self,
        conv: &Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        // SAFETY: forwarded contract.
        deep(|| unsafe { self.build_here(conv, src, dst) })
    }

    /// [`Exec::build`] on the current stack.
    ///
    /// # Safety
    /// As for [`Exec::build`].
    unsafe fn build_here(
        &mut self,
        conv: &Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        match conv {
            Conv::Copy { size } | Conv::Move { size } => {
                // SAFETY: both values have `size` bytes that mean the same thing. For `Move`,
                // the bytes are shared with the old value until commit or rollback gives them
                // to exactly one side.
                unsafe { core::ptr::copy_nonoverlapping(src, dst, *size) };
                Ok(())
            }
            Conv::Cast { from, to, kind } => {
                // SAFETY: `src` holds a `from`, `dst` has room for a `to`.
                let n = unsafe { read_num(*from, src) };
                // SAFETY: as above.
                if unsafe { write_num(n, *to, dst) } {
                    Ok(())
                } else {
                    debug_assert_eq!(*kind, CastKind::Checked, "widening never fails");
                    Err(MigrateError::CheckedCast {
                        path: ValuePath::default(),
                        from: *from,
                        to: *to,
                        value: n.to_string(),
                    })
                }
            }
            Conv::String { old, new, .. } => {
                // SAFETY: `src` is a valid `String` of the old build.
                let (ptr, len) = unsafe { (old.as_str)(src) };
                // SAFETY: the bytes are valid UTF-8 and stay alive during the call.
                unsafe { (new.write_from)(dst, ptr, len) };
                Ok(())
            }
            // SAFETY: forwarded contract.
            Conv::Array { .. } => unsafe { self.build_array(conv, src, dst) },
            // SAFETY: forwarded contract.
            Conv::Vec { .. } => unsafe { self.build_vec(conv, src, dst) },
            Conv::Box {
                elem,
                new_elem,
                old,
                new,
            } => {
                // SAFETY: `src` is a valid box of the old build; `write_from` moves a value into
                // a new box at `dst`.
                unsafe { self.build_into(elem, new_elem, (old.get)(src), dst, new.write_from) }
            }
            Conv::Option {
                elem,
                new_elem,
                old,
                new,
            } => {
                // SAFETY: `src` is a valid option of the old build.
                let inner = unsafe { (old.get)(src) };
                if inner.is_null() {
                    // SAFETY: `dst` is valid for writes of the new option.
                    unsafe { (new.write_none)(dst) };
                    return Ok(());
                }
                // SAFETY: `inner` is the old payload; `write_some` moves a value into a new
                // `Some` at `dst`.
                unsafe { self.build_into(elem, new_elem, inner, dst, new.write_some) }
            }
            // SAFETY: forwarded contract.
            Conv::Pool { .. } => unsafe { self.build_pool(conv, src, dst) },
            // SAFETY: forwarded contract.
            Conv::Named(index) => unsafe { self.build_type(*index, src, dst) },
        }
    }

    /// The `Conv::Array` arm of [`Exec::build`], out of line so that the frames of the walk, which
    /// a deep value nests once per level, stay small.
    ///
    /// # Safety
    /// As for [`Exec::build`].
    #[inline(never)]
    unsafe fn build_array(
        &mut self,
        conv: &Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        let Conv::Array {
            elem,
            old_elem,
            new_elem,
            old_len,
            new_len,
            fill,
            old_default,
        } = conv
        else {
            unreachable!("called for its own arm")
        };
        // Check what would be lost before building anything.
        for i in *new_len..*old_len {
            // SAFETY: element `i < old_len` of the old array.
            let p = unsafe { src.add(i * old_elem.size) };
            let is_default = match old_default {
                Some(d) => {
                    // SAFETY: `p` is a valid value of `old_elem`, and `d` builds its default.
                    unsafe { holds_default(d, old_elem, p) }.map_err(|e| e.inside(Seg::Index(i)))?
                }
                None => false,
            };
            if !is_default {
                return Err(MigrateError::ArrayShrink {
                    path: ValuePath::default(),
                    old_len: *old_len,
                    new_len: *new_len,
                    index: i,
                });
            }
        }
        let common = (*old_len).min(*new_len);
        // SAFETY: the arrays hold `common` elements each at their strides.
        unsafe { self.build_elements(elem, old_elem, new_elem, src, dst, common)? };
        for i in common..*new_len {
            let fill = fill.as_ref().expect("planned for growing arrays");
            // SAFETY: element `i < new_len` of the new array.
            let result = unsafe { write_default_inside(fill, dst.add(i * new_elem.size)) };
            if let Err(e) = result {
                // SAFETY: the defaults `common..i` were written and are dropped once;
                // the elements `..common` were built from `src`.
                unsafe {
                    drop_elements(new_elem, dst.add(common * new_elem.size), i - common);
                    self.unbuild_elements(elem, old_elem, new_elem, src, dst, common);
                }
                return Err(e.inside(Seg::Index(i)));
            }
        }
        Ok(())
    }

    /// The `Conv::Vec` arm of [`Exec::build`], out of line so that the frames of the walk, which
    /// a deep value nests once per level, stay small.
    ///
    /// # Safety
    /// As for [`Exec::build`].
    #[inline(never)]
    unsafe fn build_vec(
        &mut self,
        conv: &Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        let Conv::Vec {
            elem,
            old_elem,
            new_elem,
            old,
            new,
            new_vec,
            ..
        } = conv
        else {
            unreachable!("called for its own arm")
        };
        // SAFETY: `src` is a valid vector of the old build.
        let (ptr, len) = unsafe { (old.parts)(src) };
        // SAFETY: `dst` is valid for writes of the new vector.
        let buf = unsafe { (new.write_with_capacity)(dst, len) };
        // SAFETY: both buffers hold room for `len` elements.
        let built = unsafe { self.build_elements(elem, old_elem, new_elem, ptr, buf, len) };
        if let Err(e) = built {
            // SAFETY: the vector is empty (length 0) and owns its buffer.
            unsafe { (new_vec.drop)(dst) };
            return Err(e);
        }
        // SAFETY: the first `len` elements are built.
        unsafe { (new.set_len)(dst, len) };
        Ok(())
    }

    /// The `Conv::Pool` arm of [`Exec::build`], out of line so that the frames of the walk, which
    /// a deep value nests once per level, stay small.
    ///
    /// # Safety
    /// As for [`Exec::build`].
    #[inline(never)]
    unsafe fn build_pool(
        &mut self,
        conv: &Conv,
        src: *const u8,
        dst: *mut u8,
    ) -> Result<(), MigrateError> {
        let Conv::Pool {
            elem,
            new_elem,
            old,
            new,
            ..
        } = conv
        else {
            unreachable!("called for its own arm")
        };
        // SAFETY: `src` is a valid pool of the old build.
        let n = unsafe { (old.slot_count)(src) };
        // SAFETY: `dst` is valid for writes of the new pool.
        unsafe { (new.write_vacant)(dst, n) };
        let scratch = Scratch::for_shape(new_elem);
        for i in 0..n {
            // SAFETY: `i < slot_count`.
            let (generation, value) = unsafe { (old.slot)(src, i) };
            if value.is_null() {
                // SAFETY: slots are set in order; a null source leaves it vacant.
                unsafe { (new.set_slot)(dst, i, generation, core::ptr::null_mut()) };
                continue;
            }
            // SAFETY: `value` is a valid old element; the scratch fits a new one.
            if let Err(e) = unsafe { self.build(elem, value, scratch.ptr()) } {
                // SAFETY: the slots `..i` were built from the old pool's slots.
                unsafe { self.unbuild_pool(elem, old, new, src, dst, i) };
                return Err(e.inside(Seg::Index(i)));
            }
            // SAFETY: the scratch holds a complete value, which `set_slot` moves out.
            unsafe { (new.set_slot)(dst, i, generation, scratch.ptr()) };
        }
        Ok(())
    }

    /// Builds the new value of `elem` from the old one at `inner` in scratch memory, then lets
    /// `put` move it into the container at `dst` (a new `Box`, a `Some`).
    ///
    /// # Safety
    /// `inner` is a valid old value of the conversion's old shape; `dst` is valid for writes of
    /// the container, and `put(dst, src)` writes one that takes over the value at `src`.
    unsafe fn build_into(
        &mut self,
        elem: &Conv,
        new_elem: &Shape,
        inner: *const u8,
        dst: *mut u8,
        put: unsafe fn(*mut u8, *mut u8),
    ) -> Result<(), MigrateError> {
        let scratch = Scratch::for_shape(new_elem);
        // SAFETY: the scratch has the new element's layout; `inner` is valid (caller).
        unsafe { self.build(elem, inner, scratch.ptr())? };
        // SAFETY: the scratch holds a complete value, which `put` moves out; the scratch is then
        // only freed.
        unsafe { put(dst, scratch.ptr()) };
        Ok(())
    }

    /// Builds `len` elements of `new_elem` from `len` elements of `old_elem`. On failure, the
    /// elements built so far are taken apart again.
    ///
    /// # Safety
    /// `src` holds `len` valid old elements; `dst` has room for `len` new ones.
    unsafe fn build_elements(
        &mut self,
        elem: &Conv,
        old_elem: &Shape,
        new_elem: &Shape,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) -> Result<(), MigrateError> {
        if let Conv::Copy { size } | Conv::Move { size } = elem
            && *size == old_elem.size
            && *size == new_elem.size
        {
            // SAFETY: identical layouts; the buffers do not overlap. Moved elements are shared
            // until commit or rollback, as for single values.
            unsafe { core::ptr::copy_nonoverlapping(src, dst, len * size) };
            return Ok(());
        }
        for i in 0..len {
            // SAFETY: element `i < len` of each buffer.
            let result =
                unsafe { self.build(elem, src.add(i * old_elem.size), dst.add(i * new_elem.size)) };
            if let Err(e) = result {
                // SAFETY: elements `..i` were built from the old ones.
                unsafe { self.unbuild_elements(elem, old_elem, new_elem, src, dst, i) };
                return Err(e.inside(Seg::Index(i)));
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- commit: release old values

    /// Gives up what the old value of type plan `index` still owns after a successful build:
    /// afterwards its storage holds nothing to drop.
    ///
    /// # Safety
    /// `src` is the old value a build of this plan read, and that build was kept; it is not used
    /// again.
    pub(crate) unsafe fn release_type(&self, index: usize, src: *mut u8) {
        if !self.plan.releases[index] {
            return;
        }
        let tp = &self.plan.types[index];
        if tp.copy {
            // SAFETY: the new value is an independent copy; the old one is dropped whole, once.
            unsafe { (tp.old.glue.drop)(src) };
            return;
        }
        match &tp.body {
            TypeBody::Struct { steps, removed } => {
                for step in steps {
                    if let Step::Convert { src: s, conv, .. } = step {
                        // SAFETY: the field was converted by the kept build.
                        unsafe { self.release(conv, src.add(*s)) }
                    }
                }
                for (offset, shape) in removed {
                    // SAFETY: a removed field went nowhere: it is dropped here, once.
                    unsafe { (shape.drop)(src.add(*offset)) }
                }
            }
            TypeBody::Enum(ep) => {
                let (old_enum, _) = enums(tp.old, tp.new);
                let mut addrs = vec![core::ptr::null_mut::<u8>(); ep.old_max_fields];
                // SAFETY: `src` is a valid old value, ours alone now, with room for its fields'
                // addresses.
                let vi = unsafe { (old_enum.read_mut)(src, addrs.as_mut_ptr()) };
                let fields = old_enum.variants[vi].fields;
                match &ep.variants[vi] {
                    Some(vp) => {
                        for step in &vp.fields {
                            if let VariantFieldStep::Convert {
                                old_index, conv, ..
                            } = step
                            {
                                // SAFETY: the field was converted by the kept build.
                                unsafe { self.release(conv, addrs[*old_index]) }
                            }
                        }
                        for &o in &vp.removed {
                            // SAFETY: a removed field went nowhere: dropped here, once.
                            unsafe { ((fields[o].shape)().drop)(addrs[o]) }
                        }
                    }
                    // SAFETY: a removed variant's value was replaced by a default: it is
                    // dropped whole, once.
                    None => unsafe { (tp.old.glue.drop)(src) },
                }
            }
            // SAFETY: the new value was built from a default, not from this one: dropped once.
            TypeBody::HookOnly(_) => unsafe { (tp.old.glue.drop)(src) },
        }
    }

    /// # Safety
    /// As for [`Exec::release_type`], for a value of the conversion's old shape.
    unsafe fn release(&self, conv: &Conv, src: *mut u8) {
        // SAFETY: forwarded contract.
        deep(|| unsafe { self.release_here(conv, src) })
    }

    /// [`Exec::release`] on the current stack.
    ///
    /// # Safety
    /// As for [`Exec::release_type`], for a value of the conversion's old shape.
    unsafe fn release_here(&self, conv: &Conv, src: *mut u8) {
        // SAFETY: each arm follows the build of the same conversion, which read `src`; what
        // moved is now the new value's and is left alone, the rest is given up once.
        unsafe {
            match conv {
                Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } => {}
                // A copied string's original is given up.
                Conv::String { old_shape, .. } => (old_shape.drop)(src),
                Conv::Array {
                    elem,
                    old_elem,
                    old_len,
                    new_len,
                    ..
                } => {
                    let common = (*old_len).min(*new_len);
                    self.release_elements(elem, old_elem, src, common);
                    // The elements an array lost held defaults: dropped here, once.
                    drop_elements(old_elem, src.add(common * old_elem.size), old_len - common);
                }
                Conv::Vec {
                    elem,
                    old_elem,
                    old,
                    old_vec,
                    ..
                } => {
                    let (ptr, len) = (old.parts_mut)(src);
                    self.release_elements(elem, old_elem, ptr, len);
                    // The elements are released: empty the vector and free its buffer.
                    (old.set_len)(src, 0);
                    (old_vec.drop)(src);
                }
                Conv::Box { elem, old, .. } => {
                    self.release(elem, (old.get_mut)(src));
                    (old.free)(src);
                }
                Conv::Option { elem, old, .. } => {
                    let inner = (old.get_mut)(src);
                    if !inner.is_null() {
                        self.release(elem, inner);
                    }
                }
                Conv::Pool { elem, old, .. } => {
                    for i in 0..(old.slot_count)(src) {
                        let (_, value) = (old.slot_mut)(src, i);
                        if !value.is_null() {
                            self.release(elem, value);
                        }
                    }
                    (old.free)(src);
                }
                Conv::Named(index) => self.release_type(*index, src),
            }
        }
    }

    /// # Safety
    /// `src` holds `len` old elements that a kept build converted.
    unsafe fn release_elements(&self, elem: &Conv, old_elem: &Shape, src: *mut u8, len: usize) {
        if !crate::migration::plan::conv_releases(elem, &self.plan.releases) {
            return;
        }
        for i in 0..len {
            // SAFETY: element `i < len`, converted by the kept build.
            unsafe { self.release(elem, src.add(i * old_elem.size)) }
        }
    }

    // ------------------------------------------------------------- rollback: take new values apart

    /// Takes apart a new value that a build of type plan `index` wrote at `dst` from `src`,
    /// giving up what the new value owns alone and leaving what it shares with the old value.
    ///
    /// # Safety
    /// `dst` holds the complete result of a build of this plan from `src`, which is unchanged.
    pub(crate) unsafe fn unbuild_type(&self, index: usize, src: *const u8, dst: *mut u8) {
        let tp = &self.plan.types[index];
        if tp.copy {
            // SAFETY: the new value is an independent copy: dropped whole, once.
            unsafe { (tp.new.glue.drop)(dst) };
            return;
        }
        match &tp.body {
            // SAFETY: every step was built from `src` into `dst`.
            TypeBody::Struct { steps, .. } => unsafe { self.unbuild_steps(steps, src, dst) },
            TypeBody::Enum(ep) => {
                let (old_enum, new_enum) = enums(tp.old, tp.new);
                let mut old_addrs = vec![core::ptr::null::<u8>(); ep.old_max_fields];
                // SAFETY: `src` is the unchanged old value.
                let vi = unsafe { (old_enum.read)(src, old_addrs.as_mut_ptr()) };
                match &ep.variants[vi] {
                    Some(vp) => {
                        let max = new_enum.variants.iter().map(|v| v.fields.len()).max();
                        let mut new_addrs = vec![core::ptr::null_mut::<u8>(); max.unwrap_or(0)];
                        // SAFETY: `dst` holds the new value built from `src`, ours alone.
                        unsafe { (new_enum.read_mut)(dst, new_addrs.as_mut_ptr()) };
                        for (j, step) in vp.fields.iter().enumerate() {
                            // SAFETY: field `j` of the new variant was built by `step`.
                            unsafe { self.unbuild_variant_field(step, &old_addrs, new_addrs[j]) }
                        }
                    }
                    // SAFETY: built from a default: an independent value, dropped once.
                    None => unsafe { (tp.new.glue.drop)(dst) },
                }
            }
            // SAFETY: built from a default: an independent value, dropped once.
            TypeBody::HookOnly(_) => unsafe { (tp.new.glue.drop)(dst) },
        }
    }

    /// # Safety
    /// `dst` holds the fields that `steps` built from `src`.
    unsafe fn unbuild_steps(&self, steps: &[Step], src: *const u8, dst: *mut u8) {
        for step in steps {
            match step {
                Step::Copy { .. } => {}
                Step::Convert {
                    src: s,
                    dst: d,
                    conv,
                    ..
                } => {
                    // SAFETY: the field was built by this conversion.
                    unsafe { self.unbuild(conv, src.add(*s), dst.add(*d)) }
                }
                Step::Default {
                    dst: d, new_shape, ..
                } => {
                    // SAFETY: a default is an independent value, dropped once.
                    unsafe { (new_shape.drop)(dst.add(*d)) }
                }
            }
        }
    }

    /// # Safety
    /// `dst` holds the field `step` built from the old fields at `old_addrs`.
    unsafe fn unbuild_variant_field(
        &self,
        step: &VariantFieldStep,
        old_addrs: &[*const u8],
        dst: *mut u8,
    ) {
        match step {
            VariantFieldStep::Convert {
                old_index, conv, ..
            } => {
                // SAFETY: the field was built by this conversion from that old field.
                unsafe { self.unbuild(conv, old_addrs[*old_index], dst) }
            }
            // SAFETY: a default is an independent value, dropped once.
            VariantFieldStep::Default { new_shape, .. } => unsafe { (new_shape.drop)(dst) },
        }
    }

    /// # Safety
    /// `dst` holds the complete result of building `conv` from `src`, which is unchanged.
    unsafe fn unbuild(&self, conv: &Conv, src: *const u8, dst: *mut u8) {
        // SAFETY: forwarded contract.
        deep(|| unsafe { self.unbuild_here(conv, src, dst) })
    }

    /// [`Exec::unbuild`] on the current stack.
    ///
    /// # Safety
    /// `dst` holds the complete result of building `conv` from `src`, which is unchanged.
    unsafe fn unbuild_here(&self, conv: &Conv, src: *const u8, dst: *mut u8) {
        // SAFETY: each arm mirrors the build of the same conversion from the unchanged `src`:
        // what the new value shares with it is left alone, what it owns alone is given up once.
        unsafe {
            match conv {
                // Shared with the old value, which keeps it.
                Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } => {}
                // A copied string is the new value's alone.
                Conv::String { new_shape, .. } => (new_shape.drop)(dst),
                Conv::Array {
                    elem,
                    old_elem,
                    new_elem,
                    old_len,
                    new_len,
                    ..
                } => {
                    let common = (*old_len).min(*new_len);
                    self.unbuild_elements(elem, old_elem, new_elem, src, dst, common);
                    drop_elements(new_elem, dst.add(common * new_elem.size), new_len - common);
                }
                Conv::Vec {
                    elem,
                    old_elem,
                    new_elem,
                    old,
                    new,
                    new_vec,
                    ..
                } => {
                    let (old_ptr, len) = (old.parts)(src);
                    let (new_ptr, _) = (new.parts_mut)(dst);
                    self.unbuild_elements(elem, old_elem, new_elem, old_ptr, new_ptr, len);
                    (new.set_len)(dst, 0);
                    (new_vec.drop)(dst);
                }
                Conv::Box { elem, old, new, .. } => {
                    self.unbuild(elem, (old.get)(src), (new.get_mut)(dst));
                    (new.free)(dst);
                }
                Conv::Option { elem, old, new, .. } => {
                    let inner = (new.get_mut)(dst);
                    if !inner.is_null() {
                        self.unbuild(elem, (old.get)(src), inner);
                    }
                }
                Conv::Pool { elem, old, new, .. } => {
                    let n = (new.slot_count)(dst);
                    self.unbuild_pool(elem, old, new, src, dst, n);
                }
                Conv::Named(index) => self.unbuild_type(*index, src, dst),
            }
        }
    }

    /// Takes apart a new pool whose first `n` slots were built from the old pool's.
    ///
    /// # Safety
    /// As for [`Exec::unbuild`].
    unsafe fn unbuild_pool(
        &self,
        elem: &Conv,
        old: &crate::descriptors::layout::PoolGlue,
        new: &crate::descriptors::layout::PoolGlue,
        src: *const u8,
        dst: *mut u8,
        n: usize,
    ) {
        // SAFETY: slots `..n` of the new pool were built from the same slots of the old one.
        unsafe {
            for i in 0..n {
                let (_, value) = (new.slot_mut)(dst, i);
                if !value.is_null() {
                    self.unbuild(elem, (old.slot)(src, i).1, value);
                }
            }
            (new.free)(dst);
        }
    }

    /// # Safety
    /// `dst` holds `len` new elements built from the `len` old ones at `src`.
    unsafe fn unbuild_elements(
        &self,
        elem: &Conv,
        old_elem: &Shape,
        new_elem: &Shape,
        src: *const u8,
        dst: *mut u8,
        len: usize,
    ) {
        if matches!(elem, Conv::Copy { .. } | Conv::Move { .. }) {
            return;
        }
        for i in 0..len {
            // SAFETY: element `i < len` of each buffer, built from one another.
            unsafe { self.unbuild(elem, src.add(i * old_elem.size), dst.add(i * new_elem.size)) }
        }
    }
}

fn enums(
    old: &'static TypeDesc,
    new: &'static TypeDesc,
) -> (
    &'static crate::descriptors::layout::EnumDesc,
    &'static crate::descriptors::layout::EnumDesc,
) {
    match (&old.kind, &new.kind) {
        (TypeKind::Enum(o), TypeKind::Enum(n)) => (o, n),
        _ => unreachable!("enum plans are made for enums"),
    }
}

/// Drops `n` elements of `shape` laid out from `base`.
///
/// # Safety
/// The elements are valid and are not used again.
unsafe fn drop_elements(shape: &Shape, base: *mut u8, n: usize) {
    if shape.needs_drop {
        for i in 0..n {
            // SAFETY: element `i < n` is valid and dropped once.
            unsafe { (shape.drop)(base.add(i * shape.size)) }
        }
    }
}

/// Writes the default described by `plan` to `dst`. On failure nothing is left at `dst`: a
/// default that panicked (a `#[coo(default = ...)]` expression or a `Default` impl) is returned as
/// [`MigrateError::Default`] with an empty path, and the parts written before it were dropped.
///
/// Public for builders outside a migration (the host's snapshot loader fills the fields a
/// snapshot lacks with it); plans come from [`DefaultPlan::for_shape`] or a field's
/// `#[coo(default)]` ([`DefaultPlan::Write`]).
///
/// # Safety
/// `dst` is valid for writes of the plan's shape and suitably aligned.
pub unsafe fn write_default(plan: &DefaultPlan, dst: *mut u8) -> Result<(), MigrateError> {
    // SAFETY: forwarded contract.
    unsafe { write_default_inside(plan, dst) }.map_err(MigrateError::completed)
}

/// [`write_default`] inside a walk: an error's path is left innermost segment first (see
/// [`MigrateError::inside`]).
///
/// # Safety
/// As for [`write_default`].
unsafe fn write_default_inside(plan: &DefaultPlan, dst: *mut u8) -> Result<(), MigrateError> {
    match plan {
        // SAFETY: primitives' defaults are all-zero bytes; `dst` has `size` bytes.
        DefaultPlan::Zero { size } => unsafe { core::ptr::write_bytes(dst, 0, *size) },
        DefaultPlan::Write(f) => {
            // SAFETY: the writer's contract is the caller's.
            unsafe { f(dst) }.map_err(|message| err_default(message.into_string()))?
        }
        // SAFETY: an empty, valid UTF-8 string.
        DefaultPlan::String(g) => unsafe { (g.write_from)(dst, "".as_ptr(), 0) },
        DefaultPlan::EmptyVec(g) => {
            // SAFETY: `dst` is valid for writes of the vector.
            unsafe { (g.write_with_capacity)(dst, 0) };
        }
        // SAFETY: `dst` is valid for writes of the option.
        DefaultPlan::None(g) => unsafe { (g.write_none)(dst) },
        // SAFETY: `dst` is valid for writes of the pool.
        DefaultPlan::EmptyPool(g) => unsafe { (g.write_vacant)(dst, 0) },
        DefaultPlan::Array {
            elem,
            elem_shape,
            len,
        } => {
            for i in 0..*len {
                // SAFETY: element `i < len` of the array at `dst`.
                if let Err(e) = unsafe { write_default_inside(elem, dst.add(i * elem_shape.size)) }
                {
                    // SAFETY: elements `..i` were written and are dropped once.
                    unsafe { drop_elements(elem_shape, dst, i) };
                    return Err(e.inside(Seg::Index(i)));
                }
            }
        }
        DefaultPlan::Box {
            elem,
            elem_shape,
            glue,
        } => {
            let scratch = Scratch::for_shape(elem_shape);
            // SAFETY: the scratch has the element's layout.
            unsafe { write_default_inside(elem, scratch.ptr())? };
            // SAFETY: the scratch holds a complete value, which `write_from` moves out.
            unsafe { (glue.write_from)(dst, scratch.ptr()) };
        }
    }
    Ok(())
}

/// Whether the value at `p` equals its type's default.
///
/// # Safety
/// `p` is a valid value of `shape`, and `plan` builds a default of `shape`.
unsafe fn holds_default(
    plan: &DefaultPlan,
    shape: &Shape,
    p: *const u8,
) -> Result<bool, MigrateError> {
    let scratch = Scratch::for_shape(shape);
    // SAFETY: the scratch has the shape's layout.
    unsafe { write_default_inside(plan, scratch.ptr())? };
    // SAFETY: both are valid values of `shape`.
    let equal = unsafe { values_equal(shape, p, scratch.ptr()) };
    if shape.needs_drop {
        // SAFETY: the default was built above and is dropped once.
        unsafe { (shape.drop)(scratch.ptr()) };
    }
    Ok(equal)
}

/// Structural equality of two values of one shape (primitives compare by bytes, so `-0.0` is not
/// `0.0` and a NaN equals the same NaN).
///
/// # Safety
/// `a` and `b` are valid values of `shape`.
pub unsafe fn values_equal(shape: &Shape, a: *const u8, b: *const u8) -> bool {
    // SAFETY: forwarded contract.
    deep(|| unsafe { values_equal_here(shape, a, b) })
}

/// [`values_equal`] on the current stack.
///
/// # Safety
/// `a` and `b` are valid values of `shape`.
unsafe fn values_equal_here(shape: &Shape, a: *const u8, b: *const u8) -> bool {
    // SAFETY: every arm reads the values as their shape describes them.
    unsafe {
        match &shape.kind {
            ShapeKind::Prim(_) | ShapeKind::Handle { .. } => {
                core::slice::from_raw_parts(a, shape.size)
                    == core::slice::from_raw_parts(b, shape.size)
            }
            ShapeKind::String(g) => {
                let (pa, la) = (g.as_str)(a);
                let (pb, lb) = (g.as_str)(b);
                core::slice::from_raw_parts(pa, la) == core::slice::from_raw_parts(pb, lb)
            }
            ShapeKind::Array { elem, len } => {
                let e = elem();
                (0..*len).all(|i| values_equal(e, a.add(i * e.size), b.add(i * e.size)))
            }
            ShapeKind::Vec { elem, glue } => {
                let e = elem();
                let (pa, la) = (glue.parts)(a);
                let (pb, lb) = (glue.parts)(b);
                la == lb && (0..la).all(|i| values_equal(e, pa.add(i * e.size), pb.add(i * e.size)))
            }
            ShapeKind::Box { elem, glue } => values_equal(elem(), (glue.get)(a), (glue.get)(b)),
            ShapeKind::Option { elem, glue } => {
                let (pa, pb) = ((glue.get)(a), (glue.get)(b));
                match (pa.is_null(), pb.is_null()) {
                    (true, true) => true,
                    (false, false) => values_equal(elem(), pa, pb),
                    _ => false,
                }
            }
            ShapeKind::Pool { elem, glue } => {
                let n = (glue.slot_count)(a);
                n == (glue.slot_count)(b)
                    && (0..n).all(|i| {
                        let (ga, va) = (glue.slot)(a, i);
                        let (gb, vb) = (glue.slot)(b, i);
                        ga == gb
                            && match (va.is_null(), vb.is_null()) {
                                (true, true) => true,
                                (false, false) => values_equal(elem(), va, vb),
                                _ => false,
                            }
                    })
            }
            ShapeKind::Named(desc) => type_values_equal(desc(), a, b),
        }
    }
}

/// Structural equality of two values of one `CooType`.
///
/// # Safety
/// `a` and `b` are valid values of `desc`.
pub unsafe fn type_values_equal(desc: &TypeDesc, a: *const u8, b: *const u8) -> bool {
    match &desc.kind {
        TypeKind::Struct(s) => s.fields.iter().all(|f| {
            // SAFETY: fields lie at their offsets inside valid values.
            unsafe { values_equal((f.shape)(), a.add(f.offset), b.add(f.offset)) }
        }),
        TypeKind::Enum(e) => {
            let max = e.variants.iter().map(|v| v.fields.len()).max().unwrap_or(0);
            let mut fa = vec![core::ptr::null::<u8>(); max];
            let mut fb = vec![core::ptr::null::<u8>(); max];
            // SAFETY: valid values, room for the largest variant.
            let (va, vb) = unsafe { ((e.read)(a, fa.as_mut_ptr()), (e.read)(b, fb.as_mut_ptr())) };
            va == vb
                && e.variants[va].fields.iter().enumerate().all(|(i, f)| {
                    // SAFETY: the addresses are the variant's fields.
                    unsafe { values_equal((f.shape)(), fa[i], fb[i]) }
                })
        }
    }
}
