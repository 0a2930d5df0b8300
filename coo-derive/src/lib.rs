//! Procedural macros of Coo. Use them through `coo_runtime`, which re-exports them:
//! `use coo_runtime::CooType;`.
//!
//! The derive works in four steps, one module each: `ast` reads the input into a small borrowed
//! IR, `attr` parses every `#[coo(...)]` attribute (the only place that does), `valid` checks the
//! rules that span several fields or the whole type, and `expand` generates code. Every error is
//! collected (`errors::Errors`) and reported at once, each on its own token.

mod ast;
mod attr;
mod errors;
mod expand;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `CooType`: a layout descriptor that Coo uses to migrate values of the type when its
/// definition changes across a reload.
///
/// Works on structs (named, tuple and unit) and enums (unit, tuple and struct variants) without
/// generic parameters. Every field type must implement `CooField`: `bool`, `char`, the integers,
/// `f32`, `f64`, `String`, `[T; N]`, `Vec<T>`, `Box<T>`, `Option<T>`, `Pool<T>`, `Handle<T>`, or
/// another type with `#[derive(CooType)]`, in any combination.
///
/// # Attributes
///
/// On the type:
/// - `#[coo(name = "Player")]`: the stable name that identifies the type across versions
///   (default: the type's identifier).
/// - `#[coo(rename_from = "Hero")]`: an earlier name of the type; repeat it for several.
/// - `#[coo(migrate = path::to::hook)]`: a hook that runs after the automatic migration of each
///   value, with the signature
///   `fn(&coo_runtime::OldValue<'_>, &mut Self) -> Result<(), E> where E: Display`.
///
/// On a field:
/// - `#[coo(default = EXPR)]`: the value of the field when it is new in this version (struct
///   fields only).
/// - `#[coo(rename_from = "hp")]`: an earlier name of the field; repeat it for several.
///
/// On an enum variant:
/// - `#[coo(rename_from = "Walking")]`: an earlier name of the variant; repeat it for several.
///
/// ```ignore
/// use coo_runtime::{CooType, OldValue};
///
/// #[derive(CooType)]
/// #[coo(rename_from = "Hero", migrate = heal)]
/// struct Player {
///     #[coo(rename_from = "hp")]
///     health: u32,
///     #[coo(default = 1.0)]
///     speed: f32,
/// }
///
/// fn heal(old: &OldValue<'_>, new: &mut Player) -> Result<(), String> {
///     new.health = new.health.max(1);
///     Ok(())
/// }
/// ```
#[proc_macro_derive(CooType, attributes(coo))]
pub fn derive_coo_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(|error| {
            let mut tokens = error.to_compile_error();
            tokens.extend(expand::fallback(&input));
            tokens
        })
        .into()
}
