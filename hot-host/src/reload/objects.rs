//! The live `Box<dyn Trait>` objects of a state, counted by trait and concrete type: what
//! `plan` says a reload will re-box (every live object is, as the new version of its concrete
//! type; see [`coo_runtime::Report::reboxed`] for what a reload did).

use std::collections::BTreeMap;

use coo_runtime::descriptors::layout::ShapeKind;
use coo_runtime::migration::execute::reboxed_line;
use coo_runtime::{FieldView, State};

/// Objects by trait name, then by concrete type's stable name.
pub(crate) type ObjectCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// Counts the live objects of `state`, walking every value with a work stack of its own (no
/// native recursion growing with the values' depth). An object whose concrete type cannot be
/// learnt is not counted (`state` shows it as unreadable; a reload refuses it).
pub(crate) fn live_objects(state: &State) -> ObjectCounts {
    let mut counts = ObjectCounts::new();
    let mut work: Vec<FieldView<'_>> = Vec::new();
    for resource in state.resources() {
        work.extend(resource.view().fields().into_iter().map(|(_, v)| v));
        while let Some(view) = work.pop() {
            // Each view is asked only for what its shape says it is: no error is expected, and
            // one would only hide values from the count, never change anything.
            match view.shape().kind() {
                ShapeKind::Prim(_)
                | ShapeKind::String(_)
                | ShapeKind::Handle { .. }
                | ShapeKind::Opaque(_) => {}
                ShapeKind::Array { .. } | ShapeKind::Vec { .. } => {
                    work.extend(view.elements().into_iter().flatten());
                }
                ShapeKind::Box { .. } => work.extend(view.unboxed()),
                ShapeKind::Option { .. } => work.extend(view.option().into_iter().flatten()),
                ShapeKind::Pool { .. } => {
                    work.extend(view.pool_entries().into_iter().flatten().map(|(_, _, v)| v))
                }
                ShapeKind::Named(_) => {
                    if let Ok(value) = view.value() {
                        work.extend(value.fields().into_iter().map(|(_, v)| v));
                    }
                }
                ShapeKind::Dyn(d) => {
                    if let Ok((name, value)) = view.object() {
                        *counts
                            .entry(d.trait_name().to_owned())
                            .or_default()
                            .entry(name.to_owned())
                            .or_default() += 1;
                        work.extend(value.fields().into_iter().map(|(_, v)| v));
                    }
                }
                ShapeKind::Tuple(_) => work.extend(view.tuple().into_iter().flatten()),
                ShapeKind::Coll { .. } => {
                    for (key, value) in view.entries().into_iter().flatten() {
                        work.push(key);
                        work.extend(value);
                    }
                }
            }
        }
    }
    counts
}

/// What `plan` says of the live objects: per trait, ``would rebind 2 `dyn Shape` objects to the
/// new code``, then one line per concrete type (``  1 `Square` object re-boxed as the new
/// `Square` ``).
pub(crate) fn objects_text(counts: &ObjectCounts) -> String {
    let mut text = String::new();
    for (trait_name, types) in counts {
        let n: u64 = types.values().sum();
        text.push_str(&format!(
            "would rebind {n} `dyn {trait_name}` object{} to the new code\n",
            if n == 1 { "" } else { "s" }
        ));
        for (ty, n) in types {
            text.push_str(&format!("  {}\n", reboxed_line(ty, *n)));
        }
    }
    text
}
