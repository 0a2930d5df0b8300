//! Layout diff: which old type, variant and field each new one continues, and what changed.
//!
//! A diff is plain data about two versions of types; it decides nothing about values. Matching is
//! by name and by explicit `rename_from` only, never by position.

use std::fmt;

use crate::descriptors::layout::{EnumRepr, FieldDesc, TypeDesc, TypeKind, shape_text};

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

/// Which old field each new field continues.
#[derive(Debug, Clone)]
pub struct FieldMatch {
    /// For each new field, the index of the old field it continues.
    pub sources: Vec<Option<usize>>,
    /// Old fields no new field continues.
    pub removed: Vec<usize>,
    /// New fields that claim an old field another new field claims too: `(new field, old field)`.
    pub conflicts: Vec<(usize, usize)>,
}

/// Matches fields by name, then by `rename_from`. A new field takes the old field of its own
/// name when there is one; otherwise the first of its `rename_from` names that the old version
/// has.
pub fn match_fields(old: &[FieldDesc], new: &[FieldDesc]) -> FieldMatch {
    let find = |name: &str| old.iter().position(|f| f.name == name);
    let mut taken: Vec<Option<usize>> = vec![None; old.len()];
    let mut sources = Vec::with_capacity(new.len());
    let mut conflicts = Vec::new();
    // Exact names first, so that a `rename_from` never steals a field that kept its name.
    for (n, field) in new.iter().enumerate() {
        let source = find(field.name);
        if let Some(o) = source {
            taken[o] = Some(n);
        }
        sources.push(source);
    }
    for (n, field) in new.iter().enumerate() {
        if sources[n].is_some() {
            continue;
        }
        let Some(o) = field.rename_from.iter().find_map(|r| find(r)) else {
            continue;
        };
        match taken[o] {
            Some(_) => conflicts.push((n, o)),
            None => {
                taken[o] = Some(n);
                sources[n] = Some(o);
            }
        }
    }
    let removed = (0..old.len()).filter(|&o| taken[o].is_none()).collect();
    FieldMatch {
        sources,
        removed,
        conflicts,
    }
}

/// Describes field by field how `new` continues `old`, naming nested types by stable name.
pub fn field_changes(old: &[FieldDesc], new: &[FieldDesc]) -> Vec<FieldChange> {
    let m = match_fields(old, new);
    let mut out = Vec::new();
    for (n, field) in new.iter().enumerate() {
        let new_ty = shape_text((field.shape)());
        out.push(match m.sources[n] {
            None => FieldChange::Added {
                name: field.name.to_owned(),
                ty: new_ty,
            },
            Some(o) => {
                let old_field = &old[o];
                let old_ty = shape_text((old_field.shape)());
                match (old_field.name == field.name, old_ty == new_ty) {
                    (true, true) => FieldChange::Same {
                        name: field.name.to_owned(),
                        ty: new_ty,
                    },
                    (false, true) => FieldChange::Renamed {
                        old: old_field.name.to_owned(),
                        new: field.name.to_owned(),
                        ty: new_ty,
                    },
                    _ => FieldChange::Retyped {
                        old: old_field.name.to_owned(),
                        new: field.name.to_owned(),
                        old_ty,
                        new_ty,
                    },
                }
            }
        });
    }
    for &o in &m.removed {
        out.push(FieldChange::Removed {
            name: old[o].name.to_owned(),
            ty: shape_text((old[o].shape)()),
        });
    }
    out
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
    Struct(Vec<FieldChange>),
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
    match desc.kind {
        TypeKind::Struct(_) => "struct",
        TypeKind::Enum(_) => "enum",
    }
}

/// The index of the new variant that continues old variant `name`.
pub fn variant_successor(new: &crate::descriptors::layout::EnumDesc, name: &str) -> Option<usize> {
    new.variants
        .iter()
        .position(|v| v.name == name)
        .or_else(|| {
            new.variants
                .iter()
                .position(|v| v.rename_from.contains(&name))
        })
}

/// The diff of two versions of a type.
pub fn diff_type(old: &TypeDesc, new: &TypeDesc) -> TypeDiff {
    let change = match (&old.kind, &new.kind) {
        (TypeKind::Struct(o), TypeKind::Struct(n)) => {
            TypeChange::Struct(field_changes(o.fields, n.fields))
        }
        (TypeKind::Enum(o), TypeKind::Enum(n)) => {
            let mut out = Vec::new();
            let mut continued = vec![false; n.variants.len()];
            for ov in o.variants {
                match variant_successor(n, ov.name) {
                    Some(i) => {
                        continued[i] = true;
                        let nv = &n.variants[i];
                        out.push(VariantChange::Kept {
                            old: ov.name.to_owned(),
                            new: nv.name.to_owned(),
                            fields: field_changes(ov.fields, nv.fields),
                            discriminant: (ov.discriminant != nv.discriminant)
                                .then_some((ov.discriminant, nv.discriminant)),
                        });
                    }
                    None => out.push(VariantChange::Removed(ov.name.to_owned())),
                }
            }
            for (i, nv) in n.variants.iter().enumerate() {
                if !continued[i] {
                    out.push(VariantChange::Added(nv.name.to_owned()));
                }
            }
            TypeChange::Enum {
                repr: (o.repr != n.repr).then_some((o.repr, n.repr)),
                variants: out,
            }
        }
        _ => TypeChange::Kind {
            old: kind_name(old),
            new: kind_name(new),
        },
    };
    TypeDiff {
        old_name: old.name.to_owned(),
        new_name: new.name.to_owned(),
        change,
    }
}

impl fmt::Display for TypeDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.old_name == self.new_name {
            writeln!(f, "{}", self.new_name)?;
        } else {
            writeln!(f, "{} (renamed from {})", self.new_name, self.old_name)?;
        }
        match &self.change {
            TypeChange::Struct(fields) => {
                let mut changes = fields.iter().filter(|c| c.is_change()).peekable();
                if changes.peek().is_none() {
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
