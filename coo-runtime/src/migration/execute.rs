//! Execution of a migration plan: builds new values from old ones without touching the old ones.
//!
//! The build has one contract: on `Ok` the destination holds a complete, independent new value;
//! on `Err` the destination holds nothing (everything built so far was dropped with the new
//! version's glue) and the source is unchanged. The old state is only ever read, so a failure
//! anywhere leaves it exactly as it was.
//!
//! Three walks follow the same plan, and none of them recurses natively as deep as the data (a
//! value can be nested a million levels deep); each keeps its work on the heap, depth first:
//! - `build`: reads an old value and writes a new one; moved parts are shared with the old value
//!   until one of the two other walks runs;
//! - `commit`: gives up what the old value still owns after its moved parts went to the new
//!   value (removed fields, containers that were rebuilt, copies' originals), after the vectors
//!   the build deferred were converted in place (`build/in_place.rs`);
//! - `rollback`: gives up what a new value owns without touching the parts it shares with the
//!   old value; for the entries of a rebuilt collection, which are no longer paired with the old
//!   entries, through `teardown`, which needs only the new value.
//!
//! Beside them: `defaults` ([`write_default`], [`values_equal`]), the [`ExecuteError`] of a
//! failed execution with the [`ValuePath`] of the value, and the [`Report`] of a successful one.

use crate::descriptors::layout::{EnumDesc, TypeDesc, TypeKind};
use crate::migration::plan::{Plan, TypeBody};

mod build;
mod commit;
mod defaults;
mod error;
mod report;
mod rollback;
mod teardown;

pub use defaults::{push_entries, type_values_equal, values_equal, write_default};
pub use error::{DefaultPanicked, ExecuteError, ExecuteErrorKind, Seg, ValuePath};
pub use report::{Report, TypeReport, reboxed_line};

/// Runs a plan: builds new values, and afterwards either releases what the old values still own
/// (commit) or takes the new values apart again (rollback).
pub(crate) struct Exec<'p> {
    plan: &'p Plan,
    /// How many values of each type plan were built.
    pub(crate) counts: Vec<u64>,
    /// How many trait objects were re-boxed, by trait name and then their (new) concrete
    /// type's stable name.
    pub(crate) rebound: std::collections::BTreeMap<(&'p str, &'p str), u64>,
    /// The build's values under construction, innermost last (see [`build`]).
    frames: Vec<build::Frame<'p>>,
    /// The field addresses of the enum values under construction: each variant frame's old
    /// fields, and the new fields while its variant is written; and the old entries of the
    /// collections under construction.
    addrs: Vec<*mut u8>,
    /// For each type plan that is a struct whose every step finishes on the spot (copies,
    /// casts, moves and defaults), its [`build::FlatPlan`]: its values are built without a
    /// frame.
    flat: Vec<Option<build::FlatPlan>>,
    /// The vectors whose conversion the build deferred to commit, converted in place there by
    /// [`Exec::convert_in_place`] (see `build/in_place.rs`).
    in_place: Vec<build::InPlace<'p>>,
}

impl<'p> Exec<'p> {
    pub(crate) fn new(plan: &'p Plan) -> Self {
        let flat = plan
            .types
            .iter()
            .map(|tp| match &tp.body {
                TypeBody::Struct { steps, .. } => build::FlatPlan::of(
                    steps,
                    tp.old.packing().is_some() || tp.new.packing().is_some(),
                ),
                _ => None,
            })
            .collect();
        Exec {
            plan,
            counts: vec![0; plan.types.len()],
            rebound: std::collections::BTreeMap::new(),
            frames: Vec::new(),
            addrs: Vec::new(),
            flat,
            in_place: Vec::new(),
        }
    }

    /// Gives up what the old value of type plan `index` still owns after a successful build:
    /// afterwards its storage holds nothing to drop.
    ///
    /// # Safety
    /// `src` is the old value a build of this plan read, and that build was kept; it is not used
    /// again.
    pub(crate) unsafe fn release_type(&self, index: usize, src: *mut u8) {
        // SAFETY: forwarded contract.
        unsafe { commit::release_type(self.plan, index, src) }
    }

    /// Takes apart a new value that a build of type plan `index` wrote at `dst` from `src`,
    /// giving up what the new value owns alone and leaving what it shares with the old value.
    ///
    /// # Safety
    /// `dst` holds the complete result of a build of this plan from `src`, which is unchanged.
    pub(crate) unsafe fn unbuild_type(&self, index: usize, src: *const u8, dst: *mut u8) {
        let mut rollback = rollback::Rollback::new(self.plan);
        // SAFETY: forwarded contract.
        unsafe {
            rollback.push_type(index, src, dst);
            rollback.run();
        }
    }
}

/// The enum descriptors of an enum plan's old and new type.
fn enums(old: &'static TypeDesc, new: &'static TypeDesc) -> (&'static EnumDesc, &'static EnumDesc) {
    match (old.kind(), new.kind()) {
        (TypeKind::Enum(o), TypeKind::Enum(n)) => (o, n),
        _ => unreachable!("enum plans are made for enums"),
    }
}
