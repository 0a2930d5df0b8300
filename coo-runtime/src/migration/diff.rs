//! Layout diff: which old type, variant and field each new one continues, and what changed.
//!
//! A diff is plain data about two versions of types; it decides nothing about values. Which new
//! field or variant continues which old one is asked once, of [`crate::descriptors::matching`]
//! (by name and explicit `rename_from` only, never by position); the typed result
//! ([`LayoutDiff`]) is the planner's input, and [`TypeDiff`] is its rendering for reports.

use std::fmt;

use crate::descriptors::layout::{
    EnumDesc, EnumRepr, FieldDesc, Shape, ShapeKind, TypeDesc, TypeKind, shape_text,
};
use crate::descriptors::matching::{
    Conflict, ItemKind, MatchConflict, Matching, Renames, Source, match_items, names,
};

/// How one new field (or variant field) is sourced from the old version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChange {
    /// Same name, same type.
    Same { name: String, ty: String },
    /// Same name (or renamed), different type.
    Retyped {
        old: String,
        new: String,
        old_ty: String,
        new_ty: String,
    },
    /// Renamed with `rename_from`, same type.
    Renamed {
        old: String,
        new: String,
        ty: String,
    },
    /// New in this version.
    Added { name: String, ty: String },
    /// Gone from this version.
    Removed { name: String, ty: String },
}

impl FieldChange {
    /// Whether the field's values need work (anything but `Same`).
    pub fn is_change(&self) -> bool {
        !matches!(self, FieldChange::Same { .. })
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldChange::Same { name, ty } => write!(f, "  {name}: {ty}"),
            FieldChange::Retyped {
                old,
                new,
                old_ty,
                new_ty,
            } if old == new => write!(f, "~ {new}: {old_ty} -> {new_ty}"),
            FieldChange::Retyped {
                old,
                new,
                old_ty,
                new_ty,
            } => write!(f, "~ {old}: {old_ty} -> {new}: {new_ty} (renamed)"),
            FieldChange::Renamed { old, new, ty } => write!(f, "> {old} -> {new}: {ty} (renamed)"),
            FieldChange::Added { name, ty } => write!(f, "+ {name}: {ty}"),
            FieldChange::Removed { name, ty } => write!(f, "- {name}: {ty} (values dropped)"),
        }
    }
}

/// How the fields of one new struct (or variant) continue the old one's: matched once, by
/// [`crate::descriptors::matching`], and read by the planner and the report alike.
#[derive(Debug, Clone)]
pub struct FieldsDiff<'a> {
    pub old: &'a [FieldDesc],
    pub new: &'a [FieldDesc],
    /// For each new field, the old field it continues; old fields none continues; conflicts.
    pub matching: Matching,
}

/// A field whose declared type changed: the old and the new field's shapes.
#[derive(Debug, Clone, Copy)]
pub struct Retype<'a> {
    pub old: &'a Shape,
    pub new: &'a Shape,
}

impl<'a> FieldsDiff<'a> {
    /// Matches the fields of `new` to those of `old`.
    pub fn new(old: &'a [FieldDesc], new: &'a [FieldDesc]) -> FieldsDiff<'a> {
        let matching = match_items(&names(old), new, Renames::Follow);
        FieldsDiff { old, new, matching }
    }

    /// The index of the old field new field `n` continues.
    pub fn source(&self, n: usize) -> Option<usize> {
        self.matching.source(n)
    }

    /// Old fields no new field continues (their values are dropped).
    pub fn removed(&self) -> &[usize] {
        &self.matching.removed
    }

    /// The shapes of new field `n` and of the old field it continues, when its declared type
    /// changed (compared structurally, nested `CooType`s by stable name).
    pub fn retyped(&self, n: usize) -> Option<Retype<'a>> {
        let o = self.source(n)?;
        let (old, new) = (self.old[o].shape(), self.new[n].shape());
        (!same_declared_type(old, new)).then_some(Retype { old, new })
    }

    /// Every conflict of the matching, with the error each stage reports for it.
    pub fn conflicts(&self) -> impl Iterator<Item = (Conflict, MatchConflict)> + '_ {
        let old = names(self.old);
        self.matching
            .conflicts
            .iter()
            .map(move |c| (*c, MatchConflict::new(ItemKind::Field, &old, self.new, c)))
    }

    /// Describes field by field how the new fields continue the old ones, for the report.
    pub fn changes(&self) -> Vec<FieldChange> {
        let mut out = Vec::new();
        for (n, field) in self.new.iter().enumerate() {
            let new_ty = shape_text(field.shape());
            out.push(match self.matching.sources[n] {
                None => FieldChange::Added {
                    name: field.name().to_owned(),
                    ty: new_ty,
                },
                Some(source) => {
                    let old_field = &self.old[source.old()];
                    match (source, self.retyped(n)) {
                        (_, Some(retype)) => FieldChange::Retyped {
                            old: old_field.name().to_owned(),
                            new: field.name().to_owned(),
                            old_ty: shape_text(retype.old),
                            new_ty,
                        },
                        (Source::Named(_), None) => FieldChange::Same {
                            name: field.name().to_owned(),
                            ty: new_ty,
                        },
                        (Source::Renamed(_), None) => FieldChange::Renamed {
                            old: old_field.name().to_owned(),
                            new: field.name().to_owned(),
                            ty: new_ty,
                        },
                    }
                }
            });
        }
        for &o in self.removed() {
            out.push(FieldChange::Removed {
                name: self.old[o].name().to_owned(),
                ty: shape_text(self.old[o].shape()),
            });
        }
        out
    }
}

/// Whether two shapes spell the same type: the same structure, with nested `CooType`s and
/// handle targets of the same stable name. (Whether their layouts are equal is the planner's
/// question; this is what the report calls a retype.)
pub fn same_declared_type(old: &Shape, new: &Shape) -> bool {
    match (old.kind(), new.kind()) {
        (ShapeKind::Prim(a), ShapeKind::Prim(b)) => a == b,
        (ShapeKind::String(_), ShapeKind::String(_)) => true,
        (ShapeKind::Opaque(_), ShapeKind::Opaque(_)) => old.type_name() == new.type_name(),
        // The same trait (its objects are re-boxed whatever else changed).
        (ShapeKind::Dyn(a), ShapeKind::Dyn(b)) => a.trait_name() == b.trait_name(),
        (ShapeKind::Array { elem: a, len: n }, ShapeKind::Array { elem: b, len: m }) => {
            n == m && same_declared_type(a.get(), b.get())
        }
        (ShapeKind::Vec { elem: a, .. }, ShapeKind::Vec { elem: b, .. })
        | (ShapeKind::Box { elem: a, .. }, ShapeKind::Box { elem: b, .. })
        | (ShapeKind::Option { elem: a, .. }, ShapeKind::Option { elem: b, .. })
        | (ShapeKind::Pool { elem: a, .. }, ShapeKind::Pool { elem: b, .. }) => {
            same_declared_type(a.get(), b.get())
        }
        (ShapeKind::Handle { target: a }, ShapeKind::Handle { target: b }) => {
            a.get().name() == b.get().name()
        }
        (ShapeKind::Named(a), ShapeKind::Named(b)) => a.get().name() == b.get().name(),
        (ShapeKind::Tuple(a), ShapeKind::Tuple(b)) => {
            let (a, b) = (a.get(), b.get());
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|(a, b)| same_declared_type(a.shape(), b.shape()))
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
                && same_declared_type(a.get(), b.get())
                && match (va, vb) {
                    (Some(va), Some(vb)) => same_declared_type(va.get(), vb.get()),
                    (None, None) => true,
                    _ => false,
                }
        }
        _ => false,
    }
}

/// How the variants of a new enum continue the old one's, each kept variant with its fields.
#[derive(Debug, Clone)]
pub struct VariantsDiff<'a> {
    pub old: &'a EnumDesc,
    pub new: &'a EnumDesc,
    /// For each new variant, the old variant it continues; old variants none continues;
    /// conflicts.
    pub matching: Matching,
    /// For each old variant, the index of the new variant that continues it and how their
    /// fields match.
    pub successors: Vec<Option<(usize, FieldsDiff<'a>)>>,
}

impl<'a> VariantsDiff<'a> {
    pub fn new(old: &'a EnumDesc, new: &'a EnumDesc) -> VariantsDiff<'a> {
        let matching = match_items(&names(old.variants()), new.variants(), Renames::Follow);
        let mut successors: Vec<Option<(usize, FieldsDiff<'a>)>> = vec![None; old.variants().len()];
        for (n, source) in matching.sources.iter().enumerate() {
            if let Some(source) = source {
                let o = source.old();
                successors[o] = Some((
                    n,
                    FieldsDiff::new(old.variants()[o].fields(), new.variants()[n].fields()),
                ));
            }
        }
        VariantsDiff {
            old,
            new,
            matching,
            successors,
        }
    }

    /// Every conflict of the matching, as the error each stage reports.
    pub fn conflicts(&self) -> impl Iterator<Item = MatchConflict> + '_ {
        let old = names(self.old.variants());
        self.matching
            .conflicts
            .iter()
            .map(move |c| MatchConflict::new(ItemKind::Variant, &old, self.new.variants(), c))
    }
}

/// What changed between two versions of one type, as typed facts: the planner's input, and
/// what [`LayoutDiff::report`] renders.
#[derive(Debug, Clone)]
pub enum LayoutDiff<'a> {
    Struct(FieldsDiff<'a>),
    Enum(VariantsDiff<'a>),
    /// A struct became an enum or the reverse.
    KindChanged,
}

impl<'a> LayoutDiff<'a> {
    /// Matches the fields (or variants) of `new` to those of `old`.
    pub fn new(old: &'a TypeDesc, new: &'a TypeDesc) -> LayoutDiff<'a> {
        match (old.kind(), new.kind()) {
            (TypeKind::Struct(o), TypeKind::Struct(n)) => {
                LayoutDiff::Struct(FieldsDiff::new(o.fields(), n.fields()))
            }
            (TypeKind::Enum(o), TypeKind::Enum(n)) => LayoutDiff::Enum(VariantsDiff::new(o, n)),
            _ => LayoutDiff::KindChanged,
        }
    }

    /// What changed, for the report.
    pub fn report(&self, old: &TypeDesc, new: &TypeDesc) -> TypeDiff {
        let change = match self {
            LayoutDiff::Struct(fields) => {
                let (o, n) = (old.packing(), new.packing());
                TypeChange::Struct {
                    packing: (o != n).then_some((o, n)),
                    fields: fields.changes(),
                }
            }
            LayoutDiff::Enum(d) => {
                let mut out = Vec::new();
                for (ov, successor) in d.old.variants().iter().zip(&d.successors) {
                    match successor {
                        Some((i, fields)) => {
                            let nv = &d.new.variants()[*i];
                            out.push(VariantChange::Kept {
                                old: ov.name().to_owned(),
                                new: nv.name().to_owned(),
                                fields: fields.changes(),
                                discriminant: (ov.discriminant() != nv.discriminant())
                                    .then_some((ov.discriminant(), nv.discriminant())),
                            });
                        }
                        None => out.push(VariantChange::Removed(ov.name().to_owned())),
                    }
                }
                for (nv, source) in d.new.variants().iter().zip(&d.matching.sources) {
                    if source.is_none() {
                        out.push(VariantChange::Added(nv.name().to_owned()));
                    }
                }
                TypeChange::Enum {
                    repr: (d.old.repr() != d.new.repr()).then_some((d.old.repr(), d.new.repr())),
                    variants: out,
                }
            }
            LayoutDiff::KindChanged => TypeChange::Kind {
                old: kind_name(old),
                new: kind_name(new),
            },
        };
        TypeDiff {
            old_name: old.name().to_owned(),
            new_name: new.name().to_owned(),
            change,
        }
    }
}

/// What changed between two versions of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDiff {
    pub old_name: String,
    pub new_name: String,
    pub change: TypeChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeChange {
    Struct {
        /// The `#[repr(packed(N))]` when it changed: `(old, new)`, `None` for not packed.
        packing: Option<(Option<usize>, Option<usize>)>,
        fields: Vec<FieldChange>,
    },
    Enum {
        /// The `#[repr(...)]` when it changed: `(old, new)`. Values are then rebuilt variant by
        /// variant, by name.
        repr: Option<(EnumRepr, EnumRepr)>,
        variants: Vec<VariantChange>,
    },
    /// A struct became an enum or the reverse.
    Kind {
        old: &'static str,
        new: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantChange {
    Kept {
        old: String,
        new: String,
        fields: Vec<FieldChange>,
        /// The discriminant when it changed: `(old, new)`. A value keeps its variant, and
        /// takes the new discriminant.
        discriminant: Option<(i128, i128)>,
    },
    Added(String),
    Removed(String),
}

fn kind_name(desc: &TypeDesc) -> &'static str {
    match desc.kind() {
        TypeKind::Struct(_) => "struct",
        TypeKind::Enum(_) => "enum",
    }
}

/// A struct's packing as written: `#[repr(packed(2))]`, or `not packed`.
fn packing_text(packing: Option<usize>) -> String {
    match packing {
        Some(1) => "#[repr(packed)]".to_owned(),
        Some(n) => format!("#[repr(packed({n}))]"),
        None => "not packed".to_owned(),
    }
}

/// The diff of two versions of a type, for the report.
pub fn diff_type(old: &TypeDesc, new: &TypeDesc) -> TypeDiff {
    LayoutDiff::new(old, new).report(old, new)
}

impl fmt::Display for TypeDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.old_name == self.new_name {
            writeln!(f, "{}", self.new_name)?;
        } else {
            writeln!(f, "{} (renamed from {})", self.new_name, self.old_name)?;
        }
        match &self.change {
            TypeChange::Struct { packing, fields } => {
                if let Some((old, new)) = packing {
                    writeln!(
                        f,
                        "  ~ packing: {} -> {}",
                        packing_text(*old),
                        packing_text(*new)
                    )?;
                }
                let mut changes = fields.iter().filter(|c| c.is_change()).peekable();
                if changes.peek().is_none() && packing.is_none() {
                    writeln!(f, "  (fields unchanged; types inside them changed)")?;
                }
                for c in changes {
                    writeln!(f, "  {c}")?;
                }
            }
            TypeChange::Enum { repr, variants } => {
                if let Some((old, new)) = repr {
                    writeln!(
                        f,
                        "  ~ representation: {old} -> {new} (values rebuilt variant by variant)"
                    )?;
                }
                for v in variants {
                    match v {
                        VariantChange::Added(name) => writeln!(f, "  + variant {name}")?,
                        VariantChange::Removed(name) => writeln!(f, "  - variant {name}")?,
                        VariantChange::Kept {
                            old,
                            new,
                            fields,
                            discriminant,
                        } => {
                            let changes: Vec<_> = fields.iter().filter(|c| c.is_change()).collect();
                            if old != new {
                                writeln!(f, "  > variant {old} -> {new} (renamed)")?;
                            } else if !changes.is_empty() || discriminant.is_some() {
                                writeln!(f, "  ~ variant {new}")?;
                            }
                            if let Some((old, new)) = discriminant {
                                writeln!(f, "      discriminant: {old} -> {new}")?;
                            }
                            for c in changes {
                                writeln!(f, "      {c}")?;
                            }
                        }
                    }
                }
            }
            TypeChange::Kind { old, new } => writeln!(f, "  {old} became {new}")?,
        }
        Ok(())
    }
}
