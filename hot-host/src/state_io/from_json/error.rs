//! Why a value could not be built from JSON.

use super::*;

/// Why a value could not be built: where ([`ValueError::path`]) and what ([`ValueErrorKind`]).
/// Nothing was built: whatever was, was dropped again.
///
/// Paths are in the JSON's own names (a field the JSON spells by an old name is named so), from
/// the resource down: `World.units[3].hp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Where the offending value is.
    pub path: ValuePath,
    pub kind: ValueErrorKind,
}

/// What is wrong with the value at a [`ValueError`]'s path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueErrorKind {
    Expected {
        expected: String,
        found: String,
    },
    DoesNotFit {
        value: String,
        ty: Prim,
    },
    NotIntegral {
        value: String,
        ty: Prim,
    },
    NotExact {
        value: String,
        ty: Prim,
    },
    /// A checked narrowing the value does not survive (as a migration reports it).
    CheckedCast(InexactCast),
    NotAChar {
        value: String,
    },
    MissingField {
        ty: String,
        field: String,
        field_ty: String,
        fix: String,
    },
    FieldNotGiven {
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    UnknownField {
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    UnknownVariant {
        ty: String,
        variant: String,
        variants: Vec<String>,
    },
    ArrayTooLong {
        ty: String,
        len: usize,
        found: usize,
    },
    ArrayTooShort {
        ty: String,
        len: usize,
        found: usize,
        why: String,
    },
    HandleTarget {
        expected: String,
        found: String,
    },
    Pool {
        message: String,
    },
    /// Two new fields or variants claim one old name (see `coo_runtime`'s `matching`).
    Conflict {
        conflict: MatchConflict,
    },
    /// A default panicked; its message says what to write.
    Default {
        panicked: DefaultPanicked,
    },
    /// A map or set given two equal keys (the second one's path), or whose insert panicked.
    Insert {
        ty: String,
        message: String,
    },
    /// A `#[coo(opaque)]` field (of foreign type `ty`) that cannot be built from this JSON:
    /// it has no serde (`#[coo(opaque, serde)]`), or its serde refused the value (`message`).
    Opaque {
        ty: String,
        message: String,
    },
    /// A `Box<dyn Trait>` given a type that has no `#[coo_impl]` of the trait.
    UnknownImpl {
        trait_name: String,
        ty: String,
        impls: Vec<String>,
    },
}

impl ValueError {
    pub fn at(path: ValuePath, kind: ValueErrorKind) -> ValueError {
        ValueError { path, kind }
    }
}

impl std::error::Error for ValueError {}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match &self.kind {
            ValueErrorKind::Expected { expected, found } => {
                write!(f, "`{path}` holds {expected}, so it cannot be {found}")
            }
            ValueErrorKind::DoesNotFit { value, ty } => {
                write!(f, "`{path}` is {value}, which does not fit `{ty}`")
            }
            ValueErrorKind::NotIntegral { value, ty } => write!(
                f,
                "`{path}` is {value}, which is not a whole number, but `{ty}` is an integer type"
            ),
            ValueErrorKind::NotExact { value, ty } => write!(
                f,
                "`{path}` is {value}, which `{ty}` does not hold exactly; \
                 write it with a fraction (`{value}.0`) to round it to the nearest `{ty}`"
            ),
            ValueErrorKind::CheckedCast(cast) => write!(f, "{}", cast.at(path)),
            ValueErrorKind::NotAChar { value } => write!(
                f,
                "`{path}` is a `char`, so it must be a string of exactly one character, not {value}"
            ),
            ValueErrorKind::MissingField {
                ty,
                field,
                field_ty,
                fix,
            } => write!(
                f,
                "`{path}` has no value for field `{field}` of `{ty}` (`{field_ty}`), and the field has no default; {fix}"
            ),
            ValueErrorKind::FieldNotGiven { ty, field, fields } => write!(
                f,
                "`{path}` has no value for field `{field}` of `{ty}`; give every field: {}",
                list(fields)
            ),
            ValueErrorKind::UnknownField { ty, field, fields } => write!(
                f,
                "`{path}`: `{ty}` has no field `{field}`; its fields are {}",
                list(fields)
            ),
            ValueErrorKind::UnknownVariant {
                ty,
                variant,
                variants,
            } => write!(
                f,
                "`{path}`: `{ty}` has no variant `{variant}`; its variants are {}",
                list(variants)
            ),
            ValueErrorKind::ArrayTooLong { ty, found, .. } => {
                write!(f, "`{path}` is a `{ty}`, but the JSON has {found} elements")
            }
            ValueErrorKind::ArrayTooShort { ty, found, why, .. } => write!(
                f,
                "`{path}` is a `{ty}`, but the JSON has {found} elements; {why}"
            ),
            ValueErrorKind::HandleTarget { expected, found } => write!(
                f,
                "`{path}` is a `Handle<{expected}>`, but the JSON's handle is to `{found}`"
            ),
            ValueErrorKind::Pool { message } => write!(f, "`{path}` is a pool, but {message}"),
            ValueErrorKind::Conflict { conflict } => write!(f, "`{path}`: {conflict}"),
            ValueErrorKind::Default { panicked } => write!(f, "{}", panicked.at(path)),
            ValueErrorKind::Insert { ty, message } => {
                write!(f, "`{path}` cannot go into the `{ty}`: {message}")
            }
            ValueErrorKind::Opaque { ty, message } => {
                write!(f, "`{path}` is an opaque `{ty}`: {message}")
            }
            ValueErrorKind::UnknownImpl {
                trait_name,
                ty,
                impls,
            } => write!(
                f,
                "`{path}` is a `Box<dyn {trait_name}>`, and `{ty}` has no `#[coo_impl]` of \
                 `{trait_name}`; its impls are {}",
                list(impls)
            ),
        }
    }
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
