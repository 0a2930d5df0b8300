//! The live `Box<dyn Trait>` objects of a state, counted by trait and concrete type: what
//! `plan` says a reload will re-box (every live object is, as the new version of its concrete
//! type; see [`coo_runtime::Report::reboxed`] for what a reload did).

use std::collections::{BTreeMap, BTreeSet};

use coo_runtime::descriptors::layout::{Shape, ShapeKind, TypeKind};
use coo_runtime::descriptors::registry::Catalog;
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

/// What a build says of the live objects' types: per trait, the concrete types it has a
/// `#[coo_impl]` for.
pub(crate) struct NewImpls<'a> {
    /// By trait name, found from the `Box<dyn Trait>` shapes of the build's types (a trait no
    /// field holds is not there).
    impls: BTreeMap<String, BTreeSet<String>>,
    catalog: &'a Catalog,
}

impl NewImpls<'_> {
    /// Whether the build holds `dyn trait_name` objects in some field.
    fn holds(&self, trait_name: &str) -> bool {
        self.impls.contains_key(trait_name)
    }

    /// Whether a live object of the old concrete type `ty` keeps an impl of `trait_name` in the
    /// new build: the impl of the type that continues `ty` (the same name, or one renamed from
    /// it), as the reload's plan finds it.
    fn keeps(&self, trait_name: &str, ty: &str) -> bool {
        self.impls.get(trait_name).is_some_and(|impls| {
            self.catalog
                .find_successor(ty)
                .is_some_and(|new| impls.contains(new.name()))
        })
    }
}

/// The impls of the build whose types are `catalog` (see [`NewImpls`]).
pub(crate) fn impls_in(catalog: &Catalog) -> NewImpls<'_> {
    let mut impls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut work: Vec<&Shape> = Vec::new();
    for ty in catalog.iter() {
        match ty.kind() {
            TypeKind::Struct(s) => work.extend(s.fields().iter().map(|f| f.shape())),
            TypeKind::Enum(e) => {
                for variant in e.variants() {
                    work.extend(variant.fields().iter().map(|f| f.shape()));
                }
            }
        }
        // Named types are not entered: each is a type of the catalog itself.
        while let Some(shape) = work.pop() {
            match shape.kind() {
                ShapeKind::Array { elem, .. }
                | ShapeKind::Vec { elem, .. }
                | ShapeKind::Box { elem, .. }
                | ShapeKind::Option { elem, .. }
                | ShapeKind::Pool { elem, .. } => work.push(elem.get()),
                ShapeKind::Tuple(elems) => work.extend(elems.get().iter().map(|e| e.shape())),
                ShapeKind::Coll { key, value, .. } => {
                    work.push(key.get());
                    work.extend(value.as_ref().map(|v| v.get()));
                }
                ShapeKind::Dyn(d) => {
                    let types = impls.entry(d.trait_name().to_owned()).or_default();
                    types.extend(d.impls().iter().map(|i| i.type_name().to_owned()));
                }
                ShapeKind::Prim(_)
                | ShapeKind::String(_)
                | ShapeKind::Handle { .. }
                | ShapeKind::Named(_)
                | ShapeKind::Opaque(_) => {}
            }
        }
    }
    NewImpls { impls, catalog }
}

/// What `plan` says of the live objects, given the impls of the new build (`impls_in`): per
/// trait, ``would rebind 2 `dyn Shape` objects to the new code``, then one line per concrete
/// type (``  1 `Square` object re-boxed as the new `Square` ``); or, for a type whose impl the
/// new build removed, that the reload will be refused (as it will: `ImplRemoved`). Nothing for
/// a trait the new build holds in no field.
pub(crate) fn objects_text(counts: &ObjectCounts, new_impls: &NewImpls<'_>) -> String {
    let mut text = String::new();
    for (trait_name, types) in counts {
        if !new_impls.holds(trait_name) {
            continue;
        }
        let removed: Vec<(&String, &u64)> = types
            .iter()
            .filter(|(ty, _)| !new_impls.keeps(trait_name, ty))
            .collect();
        if removed.is_empty() {
            let n: u64 = types.values().sum();
            text.push_str(&format!(
                "would rebind {n} `dyn {trait_name}` object{} to the new code\n",
                if n == 1 { "" } else { "s" }
            ));
            for (ty, n) in types {
                text.push_str(&format!("  {}\n", reboxed_line(ty, *n)));
            }
        } else {
            for (ty, n) in removed {
                text.push_str(&format!(
                    "would refuse the reload: {n} live `dyn {trait_name}` object{} of type \
                     `{ty}`, whose `#[coo_impl] impl {trait_name} for {ty}` the new version \
                     removed; keep the impl, or convert the object{} to another type first\n",
                    if *n == 1 { "" } else { "s" },
                    if *n == 1 { "" } else { "s" },
                ));
            }
        }
    }
    text
}
