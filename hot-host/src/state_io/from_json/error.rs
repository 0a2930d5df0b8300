//! Why a value could not be built from JSON.

use super::*;

/// Why a value could not be built. Nothing was built: whatever was, was dropped again.
///
/// Paths are in the JSON's own names (a field the JSON spells by an old name is named so), from
/// the resource down: `World.units[3].hp`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("`{path}` holds {expected}, so it cannot be {found}")]
    Expected {
        path: ValuePath,
        expected: String,
        found: String,
    },
    #[error("`{path}` is {value}, which does not fit `{ty}`")]
    DoesNotFit {
        path: ValuePath,
        value: String,
        ty: Prim,
    },
    #[error("`{path}` is {value}, which is not a whole number, but `{ty}` is an integer type")]
    NotIntegral {
        path: ValuePath,
        value: String,
        ty: Prim,
    },
    #[error(
        "`{path}` is {value}, which `{ty}` does not hold exactly; \
         write it with a fraction (`{value}.0`) to round it to the nearest `{ty}`"
    )]
    NotExact {
        path: ValuePath,
        value: String,
        ty: Prim,
    },
    #[error(
        "`{path}` holds {value}, which is not exactly representable as `{to}` (was `{from}`); \
         change the value so it fits, or keep the field as `{from}`"
    )]
    CheckedCast {
        path: ValuePath,
        value: String,
        from: Prim,
        to: Prim,
    },
    #[error("`{path}` is a `char`, so it must be a string of exactly one character, not {value}")]
    NotAChar { path: ValuePath, value: String },
    #[error(
        "`{path}` has no value for field `{field}` of `{ty}` (`{field_ty}`), and the field has no default; {fix}"
    )]
    MissingField {
        path: ValuePath,
        ty: String,
        field: String,
        field_ty: String,
        fix: String,
    },
    #[error("`{path}` has no value for field `{field}` of `{ty}`; give every field: {}", list(.fields))]
    FieldNotGiven {
        path: ValuePath,
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    #[error("`{path}`: `{ty}` has no field `{field}`; its fields are {}", list(.fields))]
    UnknownField {
        path: ValuePath,
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    #[error("`{path}`: `{ty}` has no variant `{variant}`; its variants are {}", list(.variants))]
    UnknownVariant {
        path: ValuePath,
        ty: String,
        variant: String,
        variants: Vec<String>,
    },
    #[error("`{path}` is a `{ty}`, but the JSON has {found} elements")]
    ArrayTooLong {
        path: ValuePath,
        ty: String,
        len: usize,
        found: usize,
    },
    #[error("`{path}` is a `{ty}`, but the JSON has {found} elements; {why}")]
    ArrayTooShort {
        path: ValuePath,
        ty: String,
        len: usize,
        found: usize,
        why: String,
    },
    #[error("`{path}` is a `Handle<{expected}>`, but the JSON's handle is to `{found}`")]
    HandleTarget {
        path: ValuePath,
        expected: String,
        found: String,
    },
    #[error("`{path}` is a pool, but {message}")]
    Pool { path: ValuePath, message: String },
    #[error(
        "the default of `{path}` panicked: {message}; make the `Default` impl or \
         `#[coo(default = ...)]` expression that makes it not panic, or give the field a \
         `#[coo(default = ...)]` that does not"
    )]
    Default { path: ValuePath, message: String },
}

/// `` `a`, `b` `` (or `none`), for messages.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ValueError {
    /// Where the offending value is.
    pub fn path(&self) -> &ValuePath {
        match self {
            ValueError::Expected { path, .. }
            | ValueError::DoesNotFit { path, .. }
            | ValueError::NotIntegral { path, .. }
            | ValueError::NotExact { path, .. }
            | ValueError::CheckedCast { path, .. }
            | ValueError::NotAChar { path, .. }
            | ValueError::MissingField { path, .. }
            | ValueError::FieldNotGiven { path, .. }
            | ValueError::UnknownField { path, .. }
            | ValueError::UnknownVariant { path, .. }
            | ValueError::ArrayTooLong { path, .. }
            | ValueError::ArrayTooShort { path, .. }
            | ValueError::HandleTarget { path, .. }
            | ValueError::Pool { path, .. }
            | ValueError::Default { path, .. } => path,
        }
    }
}
