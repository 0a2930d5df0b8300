//! The values a call takes and returns: [`Value`], how one is parsed from a command-line
//! argument ([`Value::parse`]), and how primitives are written into and read from the buffers
//! a shim reads arguments from and writes returns to. Every refusal is a [`ValueError`].

use std::fmt;

use coo_runtime::Prim;
use coo_runtime::migration::casts::{Num, read_num, write_num};
use coo_runtime::plugin::ValueKind;

/// A value passed to or returned by a hot function through [`crate::Host::call`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unit,
    Bool(bool),
    Char(char),
    Int(i128),
    /// Unsigned values above `i128::MAX`.
    BigUint(u128),
    Float(f64),
    String(String),
    /// A returned `CooType` value, now the resource of this type.
    Resource(String),
    /// A `CooType` value passed by value, as JSON in the `state --json` shape (every field by
    /// its current name).
    Json(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => f.write_str("()"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Char(c) => write!(f, "{c:?}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::BigUint(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Resource(ty) => write!(f, "(the new `{ty}` resource)"),
            Value::Json(text) => f.write_str(text),
        }
    }
}

/// Why a value is not one of a parameter's type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("expected `true` or `false`, found `{text}`")]
    NotBool { text: String },
    #[error("expected one character, found `{text}`")]
    NotChar { text: String },
    #[error("expected a number, found `{text}`")]
    NotNumber { text: String },
    #[error("expected an integer ({prim}), found `{text}`")]
    NotInteger { prim: Prim, text: String },
    /// The parameter kind has no text form (`()`, references to resources).
    #[error("`{kind}` is not parsed from text")]
    NoTextForm { kind: String },
    #[error("{value} does not fit in `{prim}`")]
    DoesNotFit { value: Num, prim: Prim },
    #[error("expected a `{prim}`, found {found}")]
    WrongKind { prim: Prim, found: Value },
}

impl Value {
    /// Parses a command-line argument for a parameter of kind `kind`.
    pub fn parse(kind: &ValueKind, text: &str) -> Result<Value, ValueError> {
        let text_owned = || text.to_owned();
        Ok(match kind {
            ValueKind::Prim(Prim::Bool) => Value::Bool(
                text.parse()
                    .map_err(|_| ValueError::NotBool { text: text_owned() })?,
            ),
            ValueKind::Prim(Prim::Char) => {
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Value::Char(c),
                    _ => return Err(ValueError::NotChar { text: text_owned() }),
                }
            }
            ValueKind::Prim(p) if p.is_float() => Value::Float(
                text.parse()
                    .map_err(|_| ValueError::NotNumber { text: text_owned() })?,
            ),
            ValueKind::Prim(p) => match text.parse::<i128>() {
                Ok(v) => Value::Int(v),
                Err(_) => Value::BigUint(text.parse().map_err(|_| ValueError::NotInteger {
                    prim: *p,
                    text: text_owned(),
                })?),
            },
            ValueKind::String | ValueKind::Str => Value::String(text.to_owned()),
            ValueKind::Value(_) => Value::Json(text.to_owned()),
            other => {
                return Err(ValueError::NoTextForm { kind: other.text() });
            }
        })
    }
}

/// Room for any primitive, aligned for any of them.
#[repr(C, align(16))]
pub(crate) struct PrimBuf(pub(crate) [u8; 16]);

impl PrimBuf {
    pub(crate) fn new() -> PrimBuf {
        PrimBuf([0; 16])
    }
}

/// Writes `arg` as a `p` into `dst`.
pub(crate) fn write_prim(p: Prim, arg: &Value, dst: &mut PrimBuf) -> Result<(), ValueError> {
    let dst = dst.0.as_mut_ptr();
    match (p, arg) {
        // SAFETY: `dst` is a 16-byte, 16-aligned buffer.
        (Prim::Bool, Value::Bool(b)) => unsafe { dst.cast::<bool>().write(*b) },
        // SAFETY: as above.
        (Prim::Char, Value::Char(c)) => unsafe { dst.cast::<char>().write(*c) },
        // Floats take the nearest value, as a Rust literal would.
        (Prim::F32 | Prim::F64, Value::Int(_) | Value::BigUint(_) | Value::Float(_)) => {
            let v = match arg {
                Value::Int(v) => *v as f64,
                Value::BigUint(v) => *v as f64,
                Value::Float(v) => *v,
                _ => unreachable!("matched above"),
            };
            if p == Prim::F32 {
                // SAFETY: the buffer has room for any primitive.
                unsafe { dst.cast::<f32>().write(v as f32) }
            } else {
                // SAFETY: as above.
                unsafe { dst.cast::<f64>().write(v) }
            }
        }
        (p, Value::Int(_) | Value::BigUint(_) | Value::Float(_)) if p.is_int() => {
            let n = match arg {
                Value::Int(v) => Num::Int(*v),
                Value::BigUint(v) => Num::BigUint(*v),
                Value::Float(v) => Num::Float(*v),
                _ => unreachable!("matched above"),
            };
            // SAFETY: the buffer has room for any primitive.
            if !unsafe { write_num(n, p, dst) } {
                return Err(ValueError::DoesNotFit { value: n, prim: p });
            }
        }
        (p, other) => {
            return Err(ValueError::WrongKind {
                prim: p,
                found: other.clone(),
            });
        }
    }
    Ok(())
}

/// # Safety
/// `src` holds a valid `p`.
pub(crate) unsafe fn read_prim(p: Prim, src: &PrimBuf) -> Value {
    let src = src.0.as_ptr();
    // SAFETY: the caller's contract.
    unsafe {
        match p {
            Prim::Bool => Value::Bool(src.cast::<bool>().read()),
            Prim::Char => Value::Char(src.cast::<char>().read()),
            p => match read_num(p, src) {
                Num::Int(v) => Value::Int(v),
                Num::BigUint(v) => Value::BigUint(v),
                Num::Float(v) => Value::Float(v),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_typed() {
        let err = Value::parse(&ValueKind::Prim(Prim::I8), "x").unwrap_err();
        assert_eq!(
            err,
            ValueError::NotInteger {
                prim: Prim::I8,
                text: "x".to_owned()
            }
        );
        assert_eq!(err.to_string(), "expected an integer (i8), found `x`");

        let mut buf = PrimBuf::new();
        let err = write_prim(Prim::I8, &Value::Int(128), &mut buf).unwrap_err();
        assert_eq!(
            err,
            ValueError::DoesNotFit {
                value: Num::Int(128),
                prim: Prim::I8
            }
        );
        assert_eq!(err.to_string(), "128 does not fit in `i8`");
        let err = write_prim(Prim::Bool, &Value::Int(1), &mut buf).unwrap_err();
        assert!(
            matches!(
                &err,
                ValueError::WrongKind {
                    prim: Prim::Bool,
                    found: Value::Int(1)
                }
            ),
            "{err:?}"
        );
    }
}
