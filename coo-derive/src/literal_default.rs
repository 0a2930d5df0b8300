//! `#[coo(default = LITERAL)]` on a primitive field (`#[coo(default = 1.0)] mass: f32`): besides
//! the writer every default has, the descriptor carries the value's bytes, so that a migration
//! filling a million new fields copies them instead of calling into the plugin a million times
//! (and can do so on several threads, since no user code runs).
//!
//! The literal becomes one constant of the field's type; the writer writes that constant and the
//! bytes are `to_ne_bytes` of it, so the two cannot disagree. Only a literal whose kind fits the
//! type takes this path (`1.0` for `f32`, `-3` for `i8`, `true` for `bool`); anything else keeps
//! the writer alone, and its type errors stay where they were reported before.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::{Expr, ExprLit, ExprUnary, Lit, Type, UnOp};

/// The primitive a field's type names, when it names one by its bare identifier.
#[derive(Clone, Copy, PartialEq)]
enum Prim {
    Int { signed: bool },
    Float,
    Bool,
    Char,
}

fn prim(ty: &Type) -> Option<(Prim, &Ident)> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let ident = path.path.get_ident()?;
    let prim = match ident.to_string().as_str() {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => Prim::Int { signed: false },
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => Prim::Int { signed: true },
        "f32" | "f64" => Prim::Float,
        "bool" => Prim::Bool,
        "char" => Prim::Char,
        _ => return None,
    };
    Some((prim, ident))
}

/// Whether `expr` is a literal of a kind `prim` accepts (with `-` for signed numbers), whose
/// suffix, if any, is the type's own.
fn fits(prim: Prim, ident: &Ident, expr: &Expr) -> bool {
    let (negated, lit) = match expr {
        Expr::Lit(ExprLit { attrs, lit }) if attrs.is_empty() => (false, lit),
        Expr::Unary(ExprUnary {
            attrs,
            op: UnOp::Neg(_),
            expr,
        }) if attrs.is_empty() => match &**expr {
            Expr::Lit(ExprLit { attrs, lit }) if attrs.is_empty() => (true, lit),
            _ => return false,
        },
        _ => return false,
    };
    let suffix_fits = |suffix: &str| suffix.is_empty() || ident == suffix;
    match (prim, lit) {
        (Prim::Int { signed }, Lit::Int(int)) => (signed || !negated) && suffix_fits(int.suffix()),
        (Prim::Float, Lit::Float(float)) => suffix_fits(float.suffix()),
        (Prim::Bool, Lit::Bool(_)) | (Prim::Char, Lit::Char(_)) => !negated,
        _ => false,
    }
}

/// The items of a literal default: a constant of the field's type, the static of its bytes,
/// and the expression the writer writes.
pub(crate) struct LiteralDefault {
    /// `const` and `static` items, for the type's glue.
    pub items: TokenStream,
    /// The constant, for the writer.
    pub value: Expr,
    /// The bytes' static, for the field's descriptor.
    pub bytes: Ident,
}

/// The literal default of a field of type `ty` (already with `Self` replaced) named `field`,
/// or `None` when `expr` is not a literal that fits a primitive `ty`.
pub(crate) fn literal_default(field: &str, ty: &Type, expr: &Expr) -> Option<LiteralDefault> {
    let (prim, ident) = prim(ty)?;
    if !fits(prim, ident, expr) {
        return None;
    }
    let value = format_ident!("__COO_DEFAULT_{}", field);
    let bytes = format_ident!("__COO_DEFAULT_BYTES_{}", field);
    let to_bytes = match prim {
        Prim::Int { .. } | Prim::Float => quote!(<#ty>::to_ne_bytes(#value)),
        Prim::Bool => quote!([#value as u8]),
        Prim::Char => quote!((#value as u32).to_ne_bytes()),
    };
    let items = quote! {
        #[allow(non_upper_case_globals)]
        const #value: #ty = #expr;
        #[allow(non_upper_case_globals)]
        static #bytes: [u8; __coo::core::mem::size_of::<#ty>()] = #to_bytes;
    };
    Some(LiteralDefault {
        items,
        value: syn::parse_quote!(#value),
        bytes,
    })
}
