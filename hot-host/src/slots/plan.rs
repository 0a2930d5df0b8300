//! Slot planning: what a reload does to each function slot (kept and re-pointed, buried, or
//! replaced by a new slot when the signature or a by-value layout changed), decided before the
//! commit ([`SlotTable::plan`]) and applied at it ([`SlotTable::commit`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use coo_runtime::plugin::{FnDesc, ValueKind};
use coo_runtime::{Catalog, ImageRef};

use super::choice::{Alternative, AlternativeGone, Choices};
use super::{Burial, CallError, CallErrorKind, FnHandle, FnRef, Slot};

/// The host's function slots, by stable name. Only live slots are in it: a buried slot leaves
/// the table (handles to it keep it).
#[derive(Debug, Default)]
pub(crate) struct SlotTable {
    slots: HashMap<String, Arc<Slot>>,
    /// Which implementation each function with alternatives runs.
    choices: Choices,
}

impl SlotTable {
    /// The functions, by name (each keeps its image mapped while held).
    pub(crate) fn fns(&self) -> Vec<(String, FnRef)> {
        let mut fns: Vec<_> = self
            .slots
            .iter()
            .map(|(name, slot)| (name.clone(), live(slot)))
            .collect();
        fns.sort_by(|a, b| a.0.cmp(&b.0));
        fns
    }

    /// A handle to the slot named `name`.
    pub(crate) fn resolve(&self, name: &str) -> Result<FnHandle, CallError> {
        match self
            .slots
            .get(name)
            .and_then(|s| FnHandle::new(s.clone(), name))
        {
            Some(handle) => Ok(handle),
            None => {
                let mut known: Vec<String> = self.slots.keys().cloned().collect();
                known.sort();
                Err(CallError::of(name, CallErrorKind::NotFound { known }))
            }
        }
    }

    /// The implementations of the function `name` (its own first), and which one runs.
    pub(crate) fn alternatives(&self, name: &str) -> Result<Vec<Alternative>, CallError> {
        let handle = self.resolve(name)?;
        Ok(self.choices.list(name, handle.slot()))
    }

    /// Makes the slot of `name` run its implementation `alternative` (see [`super::choice`]).
    pub(crate) fn choose(&mut self, name: &str, alternative: &str) -> Result<(), CallError> {
        let handle = self.resolve(name)?;
        self.choices.choose(name, handle.slot(), alternative)
    }

    /// What happens to each slot when the functions become `fns` and the types `catalog`. A
    /// function keeps its slot only when its signature is the same by name *and* every type it
    /// takes or returns by value kept its layout (handles resolved earlier build such values
    /// with the old layout); otherwise its old slot is buried.
    ///
    /// `fns` and their `alternatives` (checked by the loader: each of one of `fns`, with its
    /// signature) live in the image `image` guards; the plan keeps the guard for the slots.
    pub(crate) fn plan(
        &self,
        fns: &[&'static FnDesc],
        alternatives: &[&'static FnDesc],
        catalog: &Catalog,
        image: ImageRef,
    ) -> SlotPlan {
        let mut new: BTreeMap<String, &'static FnDesc> = BTreeMap::new();
        for f in fns {
            new.insert(f.path(), f);
        }
        let mut plan = SlotPlan {
            image,
            alternatives: alternatives
                .iter()
                .filter_map(|f| Some((f.alternative_of()?, *f)))
                .collect(),
            ..SlotPlan::default()
        };
        for (name, slot) in &self.slots {
            let current = live(slot);
            match new.get(name) {
                None => plan.removed.push(name.clone()),
                Some(desc) if desc.same_signature(&current) => {
                    let relaid = relaid_types(&current, desc, catalog);
                    if relaid.is_empty() {
                        plan.updated.push((name.clone(), desc))
                    } else {
                        plan.changed.push((name.clone(), desc, relaid))
                    }
                }
                Some(desc) => plan.changed.push((name.clone(), desc, Vec::new())),
            }
        }
        plan.added = new
            .into_iter()
            .filter(|(name, _)| !self.slots.contains_key(name))
            .collect();
        plan
    }

    /// Applies `plan` at the commit of the reload to `version`: updates, buries, replaces and
    /// adds slots. Cannot fail.
    pub(crate) fn commit(&mut self, version: u64, plan: SlotPlan) -> SlotReport {
        let mut report = SlotReport::default();
        // SAFETY: every descriptor of the plan comes from the manifest of the image
        // `plan.image` guards (`plan`'s contract).
        let code = |desc: &'static FnDesc| unsafe { FnRef::new(desc, plan.image.clone()) };
        for (name, desc) in plan.updated {
            self.slots[&name].update(code(desc));
            report.updated += 1;
        }
        for name in plan.removed {
            if let Some(slot) = self.slots.remove(&name) {
                slot.bury(version, Burial::Removed);
            }
            report.removed.push(name);
        }
        for (name, desc, relaid) in plan.changed {
            let old = self.slots.insert(name.clone(), Slot::new(code(desc)));
            let old_signature = old
                .as_ref()
                .and_then(|s| s.desc())
                .map(|d| d.signature())
                .unwrap_or_default();
            let new_signature = changed_signature(desc, &relaid);
            if let Some(old) = old {
                old.bury(
                    version,
                    Burial::Changed {
                        signature: desc.signature(),
                        relaid,
                    },
                );
            }
            report.changed.push((name, old_signature, new_signature));
        }
        for (name, desc) in plan.added {
            self.slots.insert(name.clone(), Slot::new(code(desc)));
            report.added.push(name);
        }
        report.alternatives_gone = self.choices.commit(&self.slots, plan.alternatives, code);
        report.removed.sort();
        report.changed.sort();
        report
    }

    /// The function changes of `plan`, one line each (`+ fn`, `- fn`, `~ fn old -> new`), as a
    /// preview shows them.
    pub(crate) fn describe(&self, plan: &SlotPlan) -> String {
        let mut text = String::new();
        for (name, _) in &plan.added {
            text.push_str(&format!("+ fn {name}\n"));
        }
        for name in &plan.removed {
            text.push_str(&format!("- fn {name}\n"));
        }
        for (name, desc, relaid) in &plan.changed {
            let old = live(&self.slots[name]).signature();
            text.push_str(&format!(
                "~ fn {name}: {old} -> {}\n",
                changed_signature(desc, relaid)
            ));
        }
        text
    }
}

/// What a reload does to each slot: computed before the commit, applied by
/// [`SlotTable::commit`].
#[derive(Default)]
pub(crate) struct SlotPlan {
    /// The guard of the image every descriptor below lives in.
    image: ImageRef,
    updated: Vec<(String, &'static FnDesc)>,
    removed: Vec<String>,
    /// With the by-value types whose layout changed (empty when the signature itself did).
    changed: Vec<(String, &'static FnDesc, Vec<String>)>,
    added: Vec<(String, &'static FnDesc)>,
    /// The new version's alternative implementations, with the stable name of the function
    /// each is an alternative of.
    alternatives: Vec<(String, &'static FnDesc)>,
}

/// The code of a slot in the host's map: those are live (a buried slot leaves the map).
pub(crate) fn live(slot: &Slot) -> FnRef {
    slot.desc()
        .expect("the host's slots are live; buried ones leave its map")
}

/// The types that `old` and `new`, two versions of a function with the same signature by
/// name, take or return by value and whose layouts differ: a value built for `old`'s type does
/// not fit `new`'s. "Same layout" is the migration planner's own verdict (a plan that keeps a
/// value of the old type in place as a value of the new one); a type the planner cannot plan,
/// or plans to another type, counts as changed.
fn relaid_types(old: &FnDesc, new: &FnDesc, catalog: &Catalog) -> Vec<String> {
    fn kinds(f: &FnDesc) -> Vec<&ValueKind> {
        f.params()
            .iter()
            .map(|p| p.kind())
            .chain([f.ret()])
            .collect()
    }
    let mut relaid = Vec::new();
    for (a, b) in kinds(old).into_iter().zip(kinds(new)) {
        let (ValueKind::Value(a), ValueKind::Value(b)) = (a, b) else {
            continue;
        };
        let (a, b) = (a.get(), b.get());
        let kept = coo_runtime::migration::plan::kept_as(a, catalog)
            .is_some_and(|kept| core::ptr::eq(kept, b));
        if !kept && !relaid.iter().any(|t| t == b.name()) {
            relaid.push(b.name().to_owned());
        }
    }
    relaid
}

/// A changed function's new signature as reports show it: with the types whose layout changed
/// when the text alone reads the same.
fn changed_signature(desc: &FnDesc, relaid: &[String]) -> String {
    if relaid.is_empty() {
        desc.signature()
    } else {
        let names: Vec<String> = relaid.iter().map(|t| format!("`{t}`")).collect();
        format!("{} (new layout of {})", desc.signature(), names.join(", "))
    }
}

/// What a commit did to the slots, for the reload report.
#[derive(Default)]
pub(crate) struct SlotReport {
    pub(crate) updated: usize,
    pub(crate) removed: Vec<String>,
    /// `(name, old signature, new signature)`.
    pub(crate) changed: Vec<(String, String, String)>,
    pub(crate) added: Vec<String>,
    /// The chosen implementations the new version no longer has.
    pub(crate) alternatives_gone: Vec<AlternativeGone>,
}
