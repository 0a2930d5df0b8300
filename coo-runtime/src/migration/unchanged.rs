//! Whether values of an old type can be used as values of the new one byte for byte: layouts
//! compared field by field and shape by shape, recursive types coinductively.

use crate::descriptors::layout::{FieldDesc, Shape, ShapeKind, TypeDesc, TypeKind};
use crate::migration::planner::{Planner, key};

impl Planner<'_> {
    /// Whether values of `old` can be used as values of `new` byte for byte.
    ///
    /// Recursive types are compared coinductively (the greatest fixpoint): a pair being compared
    /// is assumed unchanged, so a cycle back to it does not decide anything. Assuming more pairs
    /// unchanged can only turn more answers `true`, so a `false` found under assumptions holds
    /// without them and is final at once. A `true` may rest on an assumption that later fails
    /// (`Tree` holds `Vec<Link>` before a changed field, `Link` holds `Box<Tree>`: `Link` looks
    /// unchanged while `Tree` is assumed so), so every `true` of an outermost comparison stays
    /// provisional until it ends: if no pair was found changed in it, all its assumptions held
    /// and its `true`s are final; otherwise they are forgotten and recomputed when asked again.
    pub(super) fn is_unchanged(&mut self, old: &'static TypeDesc, new: &'static TypeDesc) -> bool {
        let k = key(old, new);
        if let Some(&v) = self.unchanged.get(&k) {
            return v;
        }
        self.unchanged.insert(k, true);
        self.comparing += 1;
        let same = old.size() == new.size()
            && old.align() == new.align()
            && old.needs_drop() == new.needs_drop()
            && match (old.kind(), new.kind()) {
                // The packing decides how fields are reached (in place or through aligned
                // copies), so a changed packing is a change even where the bytes happen to lie
                // alike.
                (TypeKind::Struct(o), TypeKind::Struct(n)) => {
                    o.style() == n.style()
                        && o.packing() == n.packing()
                        && self.same_fields(o.fields(), n.fields(), true)
                }
                // Variant fields have no recorded offsets: the tag's and the fields' places
                // follow from the `repr`, the discriminants and the variants' field types in
                // order, so all of them must be equal. (For a `repr(Rust)` enum with fields
                // that is all rustc's layout depends on.)
                (TypeKind::Enum(o), TypeKind::Enum(n)) => {
                    o.repr() == n.repr()
                        && o.variants().len() == n.variants().len()
                        && o.variants().iter().zip(n.variants()).all(|(ov, nv)| {
                            ov.name() == nv.name()
                                && ov.discriminant() == nv.discriminant()
                                && ov.style() == nv.style()
                                && self.same_fields(ov.fields(), nv.fields(), false)
                        })
                }
                _ => false,
            };
        self.comparing -= 1;
        self.settle(k, same);
        same
    }

    /// Records the verdict of `is_unchanged` on `k` (see there).
    pub(super) fn settle(&mut self, k: (usize, usize), same: bool) {
        if same {
            // Recorded `true` on entry; provisional while an outer comparison is open.
            self.tentative.push(k);
        } else {
            self.unchanged.insert(k, false);
            self.refuted = true;
        }
        if self.comparing == 0 {
            let tentative = core::mem::take(&mut self.tentative);
            if core::mem::take(&mut self.refuted) {
                for t in tentative {
                    self.unchanged.remove(&t);
                }
            }
        }
    }

    pub(super) fn same_fields(
        &mut self,
        old: &'static [FieldDesc],
        new: &'static [FieldDesc],
        offsets: bool,
    ) -> bool {
        old.len() == new.len()
            && old.iter().zip(new).all(|(o, n)| {
                o.name() == n.name()
                    && (!offsets || o.offset() == n.offset())
                    && self.same_shape(o.shape(), n.shape())
            })
    }

    pub(super) fn same_shape(&mut self, old: &'static Shape, new: &'static Shape) -> bool {
        if old.size() != new.size()
            || old.align() != new.align()
            || old.needs_drop() != new.needs_drop()
        {
            return false;
        }
        match (old.kind(), new.kind()) {
            (ShapeKind::Prim(a), ShapeKind::Prim(b)) => a == b,
            (ShapeKind::String(_), ShapeKind::String(_)) => true,
            // Size, alignment and drop glue were compared above; the name is all else Coo knows.
            (ShapeKind::Opaque(_), ShapeKind::Opaque(_)) => old.type_name() == new.type_name(),
            (ShapeKind::Array { elem: a, len: n }, ShapeKind::Array { elem: b, len: m }) => {
                n == m && self.same_shape(a.get(), b.get())
            }
            (ShapeKind::Vec { elem: a, .. }, ShapeKind::Vec { elem: b, .. })
            | (ShapeKind::Box { elem: a, .. }, ShapeKind::Box { elem: b, .. })
            | (ShapeKind::Option { elem: a, .. }, ShapeKind::Option { elem: b, .. })
            | (ShapeKind::Pool { elem: a, .. }, ShapeKind::Pool { elem: b, .. }) => {
                self.same_shape(a.get(), b.get())
            }
            (ShapeKind::Handle { target: a }, ShapeKind::Handle { target: b }) => {
                self.continues_quietly(a.get(), b.get())
            }
            (ShapeKind::Named(a), ShapeKind::Named(b)) => {
                let (a, b) = (a.get(), b.get());
                self.continues_quietly(a, b) && self.is_unchanged(a, b)
            }
            (ShapeKind::Tuple(a), ShapeKind::Tuple(b)) => {
                a.get().len() == b.get().len()
                    && a.get().iter().zip(b.get().iter()).all(|(a, b)| {
                        a.offset() == b.offset() && self.same_shape(a.shape(), b.shape())
                    })
            }
            (
                ShapeKind::Coll {
                    kind: ka,
                    key: a,
                    value: va,
                    ..
                },
                ShapeKind::Coll {
                    kind: kb,
                    key: b,
                    value: vb,
                    ..
                },
            ) => {
                ka == kb
                    && self.same_shape(a.get(), b.get())
                    && match (va, vb) {
                        (Some(va), Some(vb)) => self.same_shape(va.get(), vb.get()),
                        (None, None) => true,
                        _ => false,
                    }
            }
            _ => false,
        }
    }
}
