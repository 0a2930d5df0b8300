//! Owned copies of layouts: what a host keeps of a version after that version's code is gone
//! (for reports, snapshots and diffs against code that is no longer loaded).

use std::collections::BTreeMap;
use std::fmt;

use crate::descriptors::layout::{
    EnumRepr, FieldDesc, FieldsStyle, Prim, Shape, ShapeKind, TypeDesc, TypeKind,
};
use crate::descriptors::registry::Catalog;

/// The layouts of every type of one version, by stable name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub types: BTreeMap<String, TypeLayout>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeLayout {
    pub name: String,
    pub rust_name: String,
    pub rename_from: Vec<String>,
    pub size: usize,
    pub align: usize,
    pub kind: LayoutKind,
    pub has_default: bool,
    pub has_hook: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutKind {
    Struct {
        style: FieldsStyle,
        fields: Vec<FieldLayout>,
    },
    Enum {
        /// The enum's `#[repr(...)]`.
        repr: EnumRepr,
        variants: Vec<VariantLayout>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantLayout {
    pub name: String,
    /// The variant's discriminant (see [`crate::descriptors::layout::VariantDesc::discriminant`]).
    pub discriminant: i128,
    pub style: FieldsStyle,
    pub fields: Vec<FieldLayout>,
    pub rename_from: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLayout {
    pub name: String,
    /// `None` for enum variant fields, which have no fixed offset.
    pub offset: Option<usize>,
    pub ty: TyLayout,
    pub rename_from: Vec<String>,
    pub has_default: bool,
}

/// A field type, structurally; nested `CooType`s by stable name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TyLayout {
    Prim(Prim),
    String,
    Array(Box<TyLayout>, usize),
    Vec(Box<TyLayout>),
    Box(Box<TyLayout>),
    Option(Box<TyLayout>),
    Pool(Box<TyLayout>),
    Handle(String),
    Named(String),
}

impl Schema {
    pub fn from_catalog(catalog: &Catalog) -> Schema {
        Schema {
            types: catalog
                .iter()
                .map(|d| (d.name.to_owned(), TypeLayout::from_desc(d)))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&TypeLayout> {
        self.types.get(name)
    }
}

impl TypeLayout {
    pub fn from_desc(desc: &TypeDesc) -> TypeLayout {
        let kind = match &desc.kind {
            TypeKind::Struct(s) => LayoutKind::Struct {
                style: s.style,
                fields: s.fields.iter().map(FieldLayout::from_desc).collect(),
            },
            TypeKind::Enum(e) => LayoutKind::Enum {
                repr: e.repr,
                variants: e
                    .variants
                    .iter()
                    .map(|v| VariantLayout {
                        name: v.name.to_owned(),
                        discriminant: v.discriminant,
                        style: v.style,
                        fields: v.fields.iter().map(FieldLayout::from_desc).collect(),
                        rename_from: v.rename_from.iter().map(|s| (*s).to_owned()).collect(),
                    })
                    .collect(),
            },
        };
        TypeLayout {
            name: desc.name.to_owned(),
            rust_name: desc.rust_name.to_owned(),
            rename_from: desc.rename_from.iter().map(|s| (*s).to_owned()).collect(),
            size: desc.size,
            align: desc.align,
            kind,
            has_default: (desc.glue.default)().is_some(),
            has_hook: desc.glue.hook.is_some(),
        }
    }
}

impl FieldLayout {
    fn from_desc(field: &FieldDesc) -> FieldLayout {
        FieldLayout {
            name: field.name.to_owned(),
            offset: (field.offset != FieldDesc::NO_OFFSET).then_some(field.offset),
            ty: TyLayout::from_shape((field.shape)()),
            rename_from: field.rename_from.iter().map(|s| (*s).to_owned()).collect(),
            has_default: field.default.is_some(),
        }
    }
}

impl TyLayout {
    pub fn from_shape(shape: &Shape) -> TyLayout {
        let boxed = |elem: fn() -> &'static Shape| Box::new(TyLayout::from_shape(elem()));
        match &shape.kind {
            ShapeKind::Prim(p) => TyLayout::Prim(*p),
            ShapeKind::String(_) => TyLayout::String,
            ShapeKind::Array { elem, len } => TyLayout::Array(boxed(*elem), *len),
            ShapeKind::Vec { elem, .. } => TyLayout::Vec(boxed(*elem)),
            ShapeKind::Box { elem, .. } => TyLayout::Box(boxed(*elem)),
            ShapeKind::Option { elem, .. } => TyLayout::Option(boxed(*elem)),
            ShapeKind::Pool { elem, .. } => TyLayout::Pool(boxed(*elem)),
            ShapeKind::Handle { target } => TyLayout::Handle(target().name.to_owned()),
            ShapeKind::Named(desc) => TyLayout::Named(desc().name.to_owned()),
        }
    }
}

impl fmt::Display for TyLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TyLayout::Prim(p) => write!(f, "{p}"),
            TyLayout::String => f.write_str("String"),
            TyLayout::Array(elem, len) => write!(f, "[{elem}; {len}]"),
            TyLayout::Vec(elem) => write!(f, "Vec<{elem}>"),
            TyLayout::Box(elem) => write!(f, "Box<{elem}>"),
            TyLayout::Option(elem) => write!(f, "Option<{elem}>"),
            TyLayout::Pool(elem) => write!(f, "Pool<{elem}>"),
            TyLayout::Handle(target) => write!(f, "Handle<{target}>"),
            TyLayout::Named(name) => f.write_str(name),
        }
    }
}
