//! Owned copies of layouts: what a host keeps of a version after that version's code is gone
//! (for reports, snapshots and diffs against code that is no longer loaded).
//!
//! With the `serde` feature, the layouts are `Serialize` and `Deserialize` in the form of a
//! snapshot's `types` (hot-host's `state_io::snapshot`): a [`Schema`] is an object of
//! [`TypeLayout`]s by stable name; a type's kind (`"kind":"struct"` or `"enum"`) and the
//! members of that kind sit beside its own members; a field type is its text
//! ([`TyLayout`]'s `Display`, read back by its `FromStr`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::descriptors::layout::{
    CollKind, EnumRepr, FieldDesc, FieldsStyle, Prim, Shape, ShapeKind, ShapeLink, TypeDesc,
    TypeKind,
};
use crate::descriptors::registry::Catalog;

/// The layouts of every type of one version, by stable name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct Schema {
    pub types: BTreeMap<String, TypeLayout>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(into = "json::TypeJson", try_from = "json::TypeJson")
)]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FieldLayout {
    pub name: String,
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub ty: TyLayout,
    /// `None` for enum variant fields, which have no fixed offset.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub offset: Option<usize>,
    pub rename_from: Vec<String>,
    pub has_default: bool,
}

/// A field type, structurally; nested `CooType`s by stable name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(into = "String", try_from = "String")
)]
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
    /// `(A, B, …)`.
    Tuple(Vec<TyLayout>),
    /// `VecDeque<T>`, `HashSet<T>`, `BTreeSet<T>` (no value), `HashMap<K, V>`, `BTreeMap<K, V>`.
    Coll(CollKind, Box<TyLayout>, Option<Box<TyLayout>>),
    /// A `#[coo(opaque)]` foreign type, by Rust type name, size and alignment; written
    /// `opaque<core::time::Duration, 16, 8>`.
    Opaque {
        name: String,
        size: usize,
        align: usize,
    },
    /// `Box<dyn Trait>` of a `#[coo_trait]` trait, by the trait's name.
    Dyn(String),
}

impl Schema {
    pub fn from_catalog(catalog: &Catalog) -> Schema {
        Schema {
            types: catalog
                .iter()
                .map(|d| (d.name().to_owned(), TypeLayout::from_desc(d)))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&TypeLayout> {
        self.types.get(name)
    }
}

impl TypeLayout {
    pub fn from_desc(desc: &TypeDesc) -> TypeLayout {
        let kind = match desc.kind() {
            TypeKind::Struct(s) => LayoutKind::Struct {
                style: s.style(),
                fields: s.fields().iter().map(FieldLayout::from_desc).collect(),
            },
            TypeKind::Enum(e) => LayoutKind::Enum {
                repr: e.repr(),
                variants: e
                    .variants()
                    .iter()
                    .map(|v| VariantLayout {
                        name: v.name().to_owned(),
                        discriminant: v.discriminant(),
                        style: v.style(),
                        fields: v.fields().iter().map(FieldLayout::from_desc).collect(),
                        rename_from: v.rename_from().iter().map(|s| (*s).to_owned()).collect(),
                    })
                    .collect(),
            },
        };
        TypeLayout {
            name: desc.name().to_owned(),
            rust_name: desc.rust_name().to_owned(),
            rename_from: desc.rename_from().iter().map(|s| (*s).to_owned()).collect(),
            size: desc.size(),
            align: desc.align(),
            kind,
            has_default: desc.glue().has_default(),
            has_hook: desc.glue().has_hook(),
        }
    }
}

impl FieldLayout {
    fn from_desc(field: &FieldDesc) -> FieldLayout {
        FieldLayout {
            name: field.name().to_owned(),
            offset: (field.offset() != FieldDesc::NO_OFFSET).then_some(field.offset()),
            ty: TyLayout::from_shape(field.shape()),
            rename_from: field
                .rename_from()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            has_default: field.has_default(),
        }
    }
}

impl TyLayout {
    pub fn from_shape(shape: &Shape) -> TyLayout {
        let boxed = |elem: &ShapeLink| Box::new(TyLayout::from_shape(elem.get()));
        match shape.kind() {
            ShapeKind::Prim(p) => TyLayout::Prim(*p),
            ShapeKind::String(_) => TyLayout::String,
            ShapeKind::Array { elem, len } => TyLayout::Array(boxed(elem), *len),
            ShapeKind::Vec { elem, .. } => TyLayout::Vec(boxed(elem)),
            ShapeKind::Box { elem, .. } => TyLayout::Box(boxed(elem)),
            ShapeKind::Option { elem, .. } => TyLayout::Option(boxed(elem)),
            ShapeKind::Pool { elem, .. } => TyLayout::Pool(boxed(elem)),
            ShapeKind::Handle { target } => TyLayout::Handle(target.get().name().to_owned()),
            ShapeKind::Named(desc) => TyLayout::Named(desc.get().name().to_owned()),
            ShapeKind::Tuple(elems) => TyLayout::Tuple(
                elems
                    .get()
                    .iter()
                    .map(|e| TyLayout::from_shape(e.shape()))
                    .collect(),
            ),
            ShapeKind::Coll {
                kind, key, value, ..
            } => TyLayout::Coll(*kind, boxed(key), value.as_ref().map(boxed)),
            ShapeKind::Opaque(_) => TyLayout::Opaque {
                name: shape.type_name().to_owned(),
                size: shape.size(),
                align: shape.align(),
            },
            ShapeKind::Dyn(d) => TyLayout::Dyn(d.trait_name().to_owned()),
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
            TyLayout::Tuple(elems) => {
                f.write_str("(")?;
                for (i, e) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                if elems.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
            TyLayout::Coll(kind, key, value) => match value {
                Some(value) => write!(f, "{}<{key}, {value}>", kind.name()),
                None => write!(f, "{}<{key}>", kind.name()),
            },
            TyLayout::Opaque { name, size, align } => write!(f, "opaque<{name}, {size}, {align}>"),
            TyLayout::Dyn(name) => write!(f, "Box<dyn {name}>"),
        }
    }
}

/// A text that is not a field type ([`TyLayout`]'s `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TyLayoutParseError {
    #[error(
        "`{0}` is not a field type; field types are written `u8`, `String`, `[T; N]`, `Vec<T>`, \
         `Box<T>`, `Option<T>`, `(A, B)`, `VecDeque<T>`, `HashMap<K, V>`, `HashSet<T>`, \
         `BTreeMap<K, V>`, `BTreeSet<T>`, `Pool<T>`, `Handle<Type>` or a type's stable name"
    )]
    NotAType(String),
    #[error(
        "a field type nests more than {MAX_TY_NESTING} levels deep (in `<` and `[`); \
         no field type in source does"
    )]
    TooDeep,
}

/// How deep a field type's text may nest: the parser recurses once per level, so a crafted
/// snapshot must not make it recurse a million times.
pub const MAX_TY_NESTING: usize = 256;

/// A field type back from its text ([`TyLayout`]'s `Display`): `Vec<Option<Box<Enemy>>>`,
/// `[u8; 4]`, `Handle<Enemy>`; any other name is a nested type's stable name.
impl FromStr for TyLayout {
    type Err = TyLayoutParseError;

    fn from_str(text: &str) -> Result<TyLayout, TyLayoutParseError> {
        let error = || TyLayoutParseError::NotAType(text.to_owned());
        if text.matches(['<', '[', '(']).count() > MAX_TY_NESTING {
            return Err(TyLayoutParseError::TooDeep);
        }
        let text = text.trim();
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let (elem, len) = inner.rsplit_once(';').ok_or_else(error)?;
            return Ok(TyLayout::Array(
                Box::new(elem.parse()?),
                len.trim().parse().map_err(|_| error())?,
            ));
        }
        if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            let parts = split_top(inner);
            let parts = match parts.last() {
                Some(last) if last.trim().is_empty() && parts.len() == 2 => &parts[..1],
                _ => &parts[..],
            };
            if parts.iter().any(|p| p.trim().is_empty()) {
                return Err(error());
            }
            return Ok(TyLayout::Tuple(
                parts.iter().map(|p| p.parse()).collect::<Result<_, _>>()?,
            ));
        }
        if let Some(inner) = text
            .strip_prefix("opaque<")
            .and_then(|t| t.strip_suffix('>'))
        {
            // The type name may hold commas itself: size and alignment are the last two parts.
            let mut parts = inner.rsplitn(3, ',');
            let (align, size, name) = (parts.next(), parts.next(), parts.next());
            let number = |n: Option<&str>| n.and_then(|n| n.trim().parse::<usize>().ok());
            return match (name, number(size), number(align)) {
                (Some(name), Some(size), Some(align)) if !name.trim().is_empty() => {
                    Ok(TyLayout::Opaque {
                        name: name.trim().to_owned(),
                        size,
                        align,
                    })
                }
                _ => Err(error()),
            };
        }
        if let Some((head, rest)) = text.split_once('<')
            && let Some(inner) = rest.strip_suffix('>')
        {
            let elem = || inner.parse().map(Box::new);
            let coll = [
                CollKind::VecDeque,
                CollKind::HashMap,
                CollKind::HashSet,
                CollKind::BTreeMap,
                CollKind::BTreeSet,
            ]
            .into_iter()
            .find(|k| k.name() == head);
            if let Some(kind) = coll {
                let parts = split_top(inner);
                return match (kind.is_map(), &parts[..]) {
                    (true, [k, v]) => Ok(TyLayout::Coll(
                        kind,
                        Box::new(k.parse()?),
                        Some(Box::new(v.parse()?)),
                    )),
                    (false, [k]) => Ok(TyLayout::Coll(kind, Box::new(k.parse()?), None)),
                    _ => Err(error()),
                };
            }
            if head == "Box"
                && let Some(name) = inner.trim().strip_prefix("dyn ")
            {
                return Ok(TyLayout::Dyn(name.trim().to_owned()));
            }
            return match head {
                "Vec" => Ok(TyLayout::Vec(elem()?)),
                "Box" => Ok(TyLayout::Box(elem()?)),
                "Option" => Ok(TyLayout::Option(elem()?)),
                "Pool" => Ok(TyLayout::Pool(elem()?)),
                "Handle" => Ok(TyLayout::Handle(inner.to_owned())),
                // An instantiation of a generic type: `Pair<u32>`.
                _ => Ok(TyLayout::Named(text.to_owned())),
            };
        }
        Ok(match text {
            "String" => TyLayout::String,
            _ => match Prim::from_name(text) {
                Some(p) => TyLayout::Prim(p),
                None => TyLayout::Named(text.to_owned()),
            },
        })
    }
}

/// `text` split at its commas outside `<>`, `[]` and `()`.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '<' | '[' | '(' => depth += 1,
            '>' | ']' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

impl From<TyLayout> for String {
    fn from(ty: TyLayout) -> String {
        ty.to_string()
    }
}

impl TryFrom<String> for TyLayout {
    type Error = TyLayoutParseError;

    fn try_from(text: String) -> Result<TyLayout, TyLayoutParseError> {
        text.parse()
    }
}

#[cfg(feature = "serde")]
mod json;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_texts_parse_back() {
        for text in [
            "u8",
            "String",
            "[u8; 4]",
            "[[f32; 2]; 3]",
            "Vec<Option<Box<Enemy>>>",
            "Pool<game::Unit>",
            "Handle<Enemy>",
            "World",
            "Pair<u32>",
            "Pair<Vec<Enemy>>",
            "Vec<Either<u8, String>>",
            "opaque<core::time::Duration, 16, 8>",
            "Vec<opaque<glam::Vec3<f32, u8>, 12, 4>>",
        ] {
            let ty: TyLayout = text
                .parse()
                .unwrap_or_else(|e| panic!("{text} parses: {e}"));
            assert_eq!(ty.to_string(), text);
        }
    }
}
