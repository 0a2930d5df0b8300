//! The JSON form of a [`TypeLayout`] (serde's `into`/`try_from`): the type's kind and that
//! kind's members beside the type's own, in the order snapshots have always had them.
//!
//! Not `#[serde(flatten)]` with an internally tagged [`LayoutKind`]: serde reads such a map
//! through its buffer of self-describing values, which keeps integers in 64 bits, and a
//! discriminant is an `i128`. Read directly into this struct, `serde_json` parses it exactly.

use serde::{Deserialize, Serialize};

use super::{FieldLayout, LayoutKind, TypeLayout, VariantLayout};
use crate::descriptors::layout::{EnumRepr, FieldsStyle, Prim};

#[derive(Serialize, Deserialize)]
pub(super) struct TypeJson {
    name: String,
    rust_name: String,
    rename_from: Vec<String>,
    kind: KindJson,
    /// A struct's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    style: Option<StyleJson>,
    size: usize,
    align: usize,
    has_default: bool,
    has_hook: bool,
    /// A struct's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fields: Option<Vec<FieldLayout>>,
    /// An enum's; snapshots written before it was recorded have none, which reads as no
    /// `repr` (the saved layouts serve messages and number conversion; values are loaded
    /// by variant name whatever the representation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repr: Option<ReprJson>,
    /// An enum's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    variants: Option<Vec<VariantJson>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KindJson {
    Struct,
    Enum,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StyleJson {
    Named,
    Tuple,
    Unit,
}

/// `{"c":false,"transparent":false,"int":"u8","align":null}`
#[derive(Serialize, Deserialize)]
struct ReprJson {
    c: bool,
    transparent: bool,
    int: Option<String>,
    align: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct VariantJson {
    name: String,
    /// Snapshots written before discriminants were recorded have none: the variant's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    discriminant: Option<i128>,
    style: StyleJson,
    rename_from: Vec<String>,
    fields: Vec<FieldLayout>,
}

/// Why a type's JSON is not a type layout.
#[derive(Debug, thiserror::Error)]
pub(super) enum LayoutJsonError {
    #[error("the {kind} `{name}` has no `{member}`")]
    Missing {
        kind: &'static str,
        name: String,
        member: &'static str,
    },
    #[error("the enum `{name}` has `repr` integer `{int}`, which is not an integer type")]
    ReprInt { name: String, int: String },
}

impl From<FieldsStyle> for StyleJson {
    fn from(style: FieldsStyle) -> StyleJson {
        match style {
            FieldsStyle::Named => StyleJson::Named,
            FieldsStyle::Tuple => StyleJson::Tuple,
            FieldsStyle::Unit => StyleJson::Unit,
        }
    }
}

impl From<StyleJson> for FieldsStyle {
    fn from(style: StyleJson) -> FieldsStyle {
        match style {
            StyleJson::Named => FieldsStyle::Named,
            StyleJson::Tuple => FieldsStyle::Tuple,
            StyleJson::Unit => FieldsStyle::Unit,
        }
    }
}

impl From<TypeLayout> for TypeJson {
    fn from(t: TypeLayout) -> TypeJson {
        let (kind, style, fields, repr, variants) = match t.kind {
            LayoutKind::Struct { style, fields } => (
                KindJson::Struct,
                Some(style.into()),
                Some(fields),
                None,
                None,
            ),
            LayoutKind::Enum { repr, variants } => (
                KindJson::Enum,
                None,
                None,
                Some(ReprJson {
                    c: repr.c,
                    transparent: repr.transparent,
                    int: repr.int.map(|p| p.name().to_owned()),
                    align: repr.align,
                }),
                Some(
                    variants
                        .into_iter()
                        .map(|v| VariantJson {
                            name: v.name,
                            discriminant: Some(v.discriminant),
                            style: v.style.into(),
                            rename_from: v.rename_from,
                            fields: v.fields,
                        })
                        .collect(),
                ),
            ),
        };
        TypeJson {
            name: t.name,
            rust_name: t.rust_name,
            rename_from: t.rename_from,
            kind,
            style,
            size: t.size,
            align: t.align,
            has_default: t.has_default,
            has_hook: t.has_hook,
            fields,
            repr,
            variants,
        }
    }
}

impl TryFrom<TypeJson> for TypeLayout {
    type Error = LayoutJsonError;

    fn try_from(t: TypeJson) -> Result<TypeLayout, LayoutJsonError> {
        let missing = |kind, member| LayoutJsonError::Missing {
            kind,
            name: t.name.clone(),
            member,
        };
        let kind = match t.kind {
            KindJson::Struct => LayoutKind::Struct {
                style: t.style.ok_or_else(|| missing("struct", "style"))?.into(),
                fields: t.fields.ok_or_else(|| missing("struct", "fields"))?,
            },
            KindJson::Enum => {
                let variants = t.variants.ok_or_else(|| missing("enum", "variants"))?;
                let repr = match t.repr {
                    None => EnumRepr::RUST,
                    Some(repr) => EnumRepr {
                        c: repr.c,
                        transparent: repr.transparent,
                        int: match repr.int {
                            None => None,
                            Some(int) => {
                                Some(Prim::from_name(&int).filter(|p| p.is_int()).ok_or_else(
                                    || LayoutJsonError::ReprInt {
                                        name: t.name.clone(),
                                        int,
                                    },
                                )?)
                            }
                        },
                        align: repr.align,
                    },
                };
                LayoutKind::Enum {
                    repr,
                    variants: variants
                        .into_iter()
                        .zip(0..)
                        .map(|(v, index)| VariantLayout {
                            name: v.name,
                            discriminant: v.discriminant.unwrap_or(index),
                            style: v.style.into(),
                            fields: v.fields,
                            rename_from: v.rename_from,
                        })
                        .collect(),
                }
            }
        };
        Ok(TypeLayout {
            name: t.name,
            rust_name: t.rust_name,
            rename_from: t.rename_from,
            size: t.size,
            align: t.align,
            kind,
            has_default: t.has_default,
            has_hook: t.has_hook,
        })
    }
}
