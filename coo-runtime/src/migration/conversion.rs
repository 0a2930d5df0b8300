//! Planning the conversion of one value of an old shape into the new shape: copies and moves of
//! unchanged parts, primitive casts, containers element by element, nested types through their
//! own type plans. No conversion is `Incompatible` (a hook may fill the value) or `Stopped` (a
//! problem was recorded).

use crate::descriptors::layout::{Shape, ShapeKind, shape_text};
use crate::migration::casts::{CastKind, cast_kind};
use crate::migration::plan::{Conv, DefaultPlan, DynImplConv, DynImplTo, TupleStep};
use crate::migration::planner::{At, NoConv, Planner};
use crate::migration::problem::{Problem, ProblemKind};

impl Planner<'_> {
    /// Records that elements added to a container (an array grown, a tuple lengthened) have no
    /// default to start from, with `fix` saying what to write; the conversion stops.
    fn no_element_default(&mut self, at: &At<'_>, old: &Shape, new: &Shape, fix: String) -> NoConv {
        self.problems.push(Problem {
            kind: ProblemKind::NoElementDefault,
            ty: at.ty.to_owned(),
            field: Some(at.field.to_owned()),
            old_ty: Some(shape_text(old)),
            new_ty: Some(shape_text(new)),
            fix,
        });
        NoConv::Stopped
    }

    /// An opaque value that cannot be carried over: its foreign type changed (name, size or
    /// alignment), or it would have to be copied (inside a type with a hook, or a collection
    /// rebuilt as a copy) while it has drop glue and Coo cannot clone it. Under a hook the hook
    /// builds the field (`Incompatible`: it starts from the field's default); otherwise the
    /// problem names the field, both layouts and the hook to write.
    fn opaque_unconverted(&mut self, old: &Shape, new: &Shape, at: At<'_>) -> NoConv {
        if at.hook {
            return NoConv::Incompatible;
        }
        let layout = |s: &Shape| {
            format!(
                "{} ({} bytes, align {})",
                s.type_name(),
                s.size(),
                s.align()
            )
        };
        let changed = !(old.type_name() == new.type_name()
            && old.size() == new.size()
            && old.align() == new.align());
        self.problems.push(Problem {
            kind: if changed {
                ProblemKind::OpaqueChanged
            } else {
                ProblemKind::Incompatible
            },
            ty: at.ty.to_owned(),
            field: Some(at.field.to_owned()),
            old_ty: Some(layout(old)),
            new_ty: Some(layout(new)),
            fix: if changed {
                format!(
                    "Coo moves an opaque value only while its type name, size and alignment stay \
                     the same; add `#[coo(migrate = your_fn)]` to `{}` and set the field there \
                     from the old value (the field starts as its type's `Default`)",
                    at.ty
                )
            } else {
                format!(
                    "the value would be copied, and Coo cannot clone an opaque type that has drop \
                     glue; add `#[coo(migrate = your_fn)]` to `{}` and set the field there",
                    at.ty
                )
            },
        });
        NoConv::Stopped
    }

    /// The conversion of a value of `old` into `new`. Without one, the problem is recorded
    /// (and `Stopped` returned) unless a hook will fill the value (`Incompatible`).
    pub(super) fn conv(
        &mut self,
        old: &'static Shape,
        new: &'static Shape,
        at: At<'_>,
    ) -> Result<Conv, NoConv> {
        let conv = self.conv_inner(old, new, at);
        if matches!(conv, Err(NoConv::Incompatible)) && !at.hook {
            self.problems.push(Problem {
                kind: ProblemKind::Incompatible,
                ty: at.ty.to_owned(),
                field: Some(at.field.to_owned()),
                old_ty: Some(shape_text(old)),
                new_ty: Some(shape_text(new)),
                fix: format!(
                    "add `#[coo(migrate = your_fn)]` to `{}` and set the field from the old value there, \
                     or give the new field another name (with `#[coo(default = ...)]` if its type has no `Default`)",
                    at.ty
                ),
            });
            return Err(NoConv::Stopped);
        }
        conv
    }

    pub(super) fn conv_inner(
        &mut self,
        old: &'static Shape,
        new: &'static Shape,
        at: At<'_>,
    ) -> Result<Conv, NoConv> {
        use NoConv::Incompatible;
        if self.same_shape(old, new) {
            if !old.needs_drop() {
                return Ok(Conv::Copy { size: new.size() });
            }
            if !self.copy {
                return Ok(Conv::Move { size: new.size() });
            }
        }
        Ok(match (old.kind(), new.kind()) {
            (ShapeKind::Prim(a), ShapeKind::Prim(b)) => {
                match cast_kind(*a, *b).ok_or(Incompatible)? {
                    CastKind::Same => Conv::Copy { size: new.size() },
                    kind => Conv::Cast {
                        from: *a,
                        to: *b,
                        kind,
                    },
                }
            }
            (ShapeKind::Opaque(_), ShapeKind::Opaque(_)) => {
                return Err(self.opaque_unconverted(old, new, at));
            }
            (ShapeKind::String(o), ShapeKind::String(n)) => Conv::String {
                old: o,
                new: n,
                old_shape: old,
                new_shape: new,
            },
            (
                ShapeKind::Array {
                    elem: oe,
                    len: old_len,
                },
                ShapeKind::Array {
                    elem: ne,
                    len: new_len,
                },
            ) => {
                let elem = Box::new(self.conv_inner(oe.get(), ne.get(), at)?);
                let fill = if new_len > old_len {
                    let Some(fill) = DefaultPlan::for_shape(ne.get()) else {
                        let fix = format!(
                            "implement `Default` for `{}`, or keep the length at {old_len}",
                            shape_text(ne.get())
                        );
                        return Err(self.no_element_default(&at, old, new, fix));
                    };
                    Some(fill)
                } else {
                    None
                };
                Conv::Array {
                    elem,
                    old_elem: oe.get(),
                    new_elem: ne.get(),
                    old_len: *old_len,
                    new_len: *new_len,
                    fill,
                    old_default: if new_len < old_len {
                        DefaultPlan::for_shape(oe.get())
                    } else {
                        None
                    },
                }
            }
            (ShapeKind::Vec { elem: oe, glue: o }, ShapeKind::Vec { elem: ne, glue: n }) => {
                Conv::Vec {
                    elem: Box::new(self.conv_inner(oe.get(), ne.get(), at)?),
                    old_elem: oe.get(),
                    new_elem: ne.get(),
                    old: o,
                    new: n,
                    old_vec: old,
                    new_vec: new,
                }
            }
            (ShapeKind::Box { elem: oe, glue: o }, ShapeKind::Box { elem: ne, glue: n }) => {
                Conv::Box {
                    elem: Box::new(self.conv_inner(oe.get(), ne.get(), at)?),
                    new_elem: ne.get(),
                    old: o,
                    new: n,
                }
            }
            (ShapeKind::Option { elem: oe, glue: o }, ShapeKind::Option { elem: ne, glue: n }) => {
                Conv::Option {
                    elem: Box::new(self.conv_inner(oe.get(), ne.get(), at)?),
                    new_elem: ne.get(),
                    old: o,
                    new: n,
                }
            }
            (ShapeKind::Pool { elem: oe, glue: o }, ShapeKind::Pool { elem: ne, glue: n }) => {
                Conv::Pool {
                    elem: Box::new(self.conv_inner(oe.get(), ne.get(), at)?),
                    new_elem: ne.get(),
                    old: o,
                    new: n,
                    new_pool: new,
                }
            }
            (ShapeKind::Handle { target: a }, ShapeKind::Handle { target: b }) => {
                if !self.continues(a.get(), b.get(), Some(at))? {
                    return Err(Incompatible);
                }
                Conv::Copy { size: new.size() }
            }
            (ShapeKind::Named(a), ShapeKind::Named(b)) => {
                let (a, b) = (a.get(), b.get());
                if !self.continues(a, b, Some(at))? {
                    return Err(Incompatible);
                }
                Conv::Named(self.type_plan(a, b))
            }
            (ShapeKind::Tuple(o), ShapeKind::Tuple(n)) => {
                if n.get().len() < o.get().len() {
                    if !at.hook {
                        self.problems.push(Problem {
                            kind: ProblemKind::Incompatible,
                            ty: at.ty.to_owned(),
                            field: Some(at.field.to_owned()),
                            old_ty: Some(shape_text(old)),
                            new_ty: Some(shape_text(new)),
                            fix: format!(
                                "tuple elements migrate by position and a live value would lose \
                                 {} of them: keep the first {} elements, add new ones at the end, \
                                 or add `#[coo(migrate = your_fn)]` to `{}` and build the field there",
                                o.get().len() - n.get().len(),
                                o.get().len(),
                                at.ty
                            ),
                        });
                        return Err(NoConv::Stopped);
                    }
                    return Err(Incompatible);
                }
                let mut elems = Vec::with_capacity(n.get().len());
                for (i, ne) in n.get().iter().enumerate() {
                    let new_shape = ne.shape();
                    match o.get().get(i) {
                        Some(oe) => elems.push(TupleStep::Convert {
                            src: oe.offset(),
                            dst: ne.offset(),
                            conv: self.conv_inner(oe.shape(), new_shape, at)?,
                            new_shape,
                        }),
                        None => {
                            let Some(plan) = DefaultPlan::for_shape(new_shape) else {
                                let fix = format!(
                                    "implement `Default` for `{}`, or keep the tuple at {} elements",
                                    shape_text(new_shape),
                                    o.get().len()
                                );
                                return Err(self.no_element_default(&at, old, new, fix));
                            };
                            elems.push(TupleStep::Default {
                                dst: ne.offset(),
                                plan,
                                new_shape,
                            });
                        }
                    }
                }
                Conv::Tuple { elems }
            }
            (
                ShapeKind::Coll {
                    kind: ok,
                    key: okey,
                    value: ovalue,
                    glue: o,
                },
                ShapeKind::Coll {
                    kind: nk,
                    key: nkey,
                    value: nvalue,
                    glue: n,
                },
            ) => {
                if !ok.converts_to(*nk) {
                    return Err(Incompatible);
                }
                // Entries are moved where their layout allows, as a vector's elements (see
                // `Conv::Coll`).
                let key = self.conv_inner(okey.get(), nkey.get(), at);
                let value = match (ovalue, nvalue) {
                    (Some(ov), Some(nv)) => Some(self.conv_inner(ov.get(), nv.get(), at)),
                    _ => None,
                };
                Conv::Coll {
                    key: Box::new(key?),
                    value: value.transpose()?.map(Box::new),
                    old_key: okey.get(),
                    new_key: nkey.get(),
                    old_value: ovalue.as_ref().map(|v| v.get()),
                    new_value: nvalue.as_ref().map(|v| v.get()),
                    old: o,
                    new: n,
                    old_coll: old,
                    new_coll: new,
                }
            }
            (ShapeKind::Dyn(o), ShapeKind::Dyn(n)) => {
                if o.trait_name() != n.trait_name() {
                    return Err(Incompatible);
                }
                let new_impls = n.impls();
                let mut impls = Vec::new();
                for old_imp in o.impls() {
                    // The new impl is the one of the type that continues the old concrete
                    // type; without one, a live object of it is refused when met.
                    let successor = self.successor(old_imp.ty(), Some(at))?;
                    let new_imp = successor.and_then(|s| {
                        new_impls
                            .iter()
                            .copied()
                            .find(|i| i.type_name() == s.name())
                    });
                    let to = match new_imp {
                        Some(new_imp) => Some(DynImplTo {
                            conv: self.conv_inner(old_imp.shape(), new_imp.shape(), at)?,
                            new_elem: new_imp.shape(),
                            imp: new_imp,
                        }),
                        None => None,
                    };
                    impls.push(DynImplConv {
                        name: old_imp.type_name(),
                        to,
                    });
                }
                Conv::Dyn {
                    impls,
                    old: o,
                    new: n,
                }
            }
            _ => return Err(Incompatible),
        })
    }
}
