//! Rules that a single attribute cannot check on its own: lifetime and const parameters, field
//! types, and names and earlier names across the fields and variants of the type.

use std::collections::BTreeMap;

use quote::ToTokens as _;
use syn::{GenericArgument, GenericParam, LitStr, PathArguments, Type};

use crate::ast::{Container, Data, Field};
use crate::errors::Errors;
use crate::tokens::type_text;

/// Records every rule the container breaks.
pub(crate) fn check(errors: &mut Errors, container: &Container<'_>) {
    check_generics(errors, container);
    check_empty_enum(errors, container);
    for field in container.all_fields() {
        if field.attrs.opaque.is_some() {
            check_opaque(errors, container, field);
        } else {
            check_field_type(errors, field.ty);
        }
        if let (Some(serde), None) = (&field.attrs.serde, &field.attrs.opaque) {
            errors.at(
                serde.span(),
                "`serde` goes with `opaque`: write `#[coo(opaque, serde)]` on a field of a foreign type that implements `Serialize` and `Deserialize`; other fields are saved in snapshots without it",
            );
        }
    }
    check_enum_field_defaults(errors, container);
    check_type_renames(errors, container);
    match &container.data {
        Data::Struct(_, fields) => check_field_renames(errors, fields),
        Data::Enum(variants) => {
            let names = variants
                .iter()
                .map(|variant| (variant.name(), variant.attrs.rename_from.as_slice()));
            check_renames(errors, "variant", "this variant", names);
            for variant in variants {
                check_field_renames(errors, &variant.fields);
            }
        }
    }
}

fn check_generics(errors: &mut Errors, container: &Container<'_>) {
    for param in &container.generics.params {
        let message = match param {
            // Each instantiation gets its own descriptor (`expand::expand_generic`).
            GenericParam::Type(_) => continue,
            GenericParam::Lifetime(param) => format!(
                "`CooType` does not support lifetime parameters: remove `{}` and store owned data (`String`, `Box<T>`, `Vec<T>`, `Handle<T>`) instead of references",
                param.lifetime
            ),
            GenericParam::Const(param) => format!(
                "`CooType` does not support const generic parameters: remove `{}` and write the length in the field type, like `[u8; 16]`",
                param.ident
            ),
        };
        errors.spanned(param, message);
    }
}

fn check_empty_enum(errors: &mut Errors, container: &Container<'_>) {
    if let Data::Enum(variants) = &container.data
        && variants.is_empty()
    {
        errors.spanned(
            container.ident,
            format!(
                "`CooType` does not support enums without variants: no value of `{}` can exist, so it has nothing to migrate; add a variant, or do not derive `CooType`",
                container.ident
            ),
        );
    }
}

/// References, raw pointers, functions and closures, shared pointers (`Rc`, `Arc`) and
/// interior mutability (`Cell`, `RefCell`, `Mutex`, …) anywhere in a field type, each with advice
/// on what to store instead.
fn check_field_type(errors: &mut Errors, ty: &Type) {
    match ty {
        Type::Reference(reference) => {
            let target = type_text(&reference.elem);
            let advice = owned_advice(&reference.elem, &target);
            errors.spanned(
                reference,
                format!(
                    "a `CooType` cannot hold references: `{}` borrows data that Coo cannot migrate; {advice}",
                    type_text(ty)
                ),
            );
        }
        Type::Ptr(pointer) => {
            let target = type_text(&pointer.elem);
            let advice = owned_advice(&pointer.elem, &target);
            errors.spanned(
                pointer,
                format!(
                    "a `CooType` cannot hold raw pointers: Coo cannot migrate what `{}` points to; {advice}",
                    type_text(ty)
                ),
            );
        }
        Type::Array(array) => check_field_type(errors, &array.elem),
        Type::Slice(slice) => check_field_type(errors, &slice.elem),
        Type::Group(group) => check_field_type(errors, &group.elem),
        Type::Paren(paren) => check_field_type(errors, &paren.elem),
        Type::Tuple(tuple) => {
            for elem in &tuple.elems {
                check_field_type(errors, elem);
            }
        }
        Type::BareFn(_) | Type::ImplTrait(_) => errors.spanned(
            ty,
            format!(
                "a `CooType` cannot hold functions or closures: `{}` is code of the version a reload replaces; {CODE_ADVICE}",
                type_text(ty)
            ),
        ),
        Type::TraitObject(object) if is_closure_trait(&object.bounds) => errors.spanned(
            ty,
            format!(
                "a `CooType` cannot hold closures: `{}` is code of the version a reload replaces; {CODE_ADVICE}",
                type_text(ty)
            ),
        ),
        Type::Path(path) if path.qself.is_none() && std_type(&path.path).is_some() => {
            let (name, kind) = std_type(&path.path).expect("checked by the guard");
            let message = match kind {
                StdKind::Shared => format!(
                    "a `CooType` cannot hold `{name}`: values shared through `{}` cannot be migrated one owner at a time; use `Handle<T>` into a `Pool<T>` for sharing, or an owned `T`",
                    type_text(ty)
                ),
                StdKind::Interior => format!(
                    "a `CooType` cannot hold `{name}`: migration reads and moves values while Coo cannot tell whether `{}` is borrowed or locked; store the value itself (hot functions get `&mut` access to the resource)",
                    type_text(ty)
                ),
            };
            errors.spanned(ty, message);
        }
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                check_field_type(errors, &qself.ty);
            }
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(arguments) = &segment.arguments {
                    for argument in &arguments.args {
                        if let GenericArgument::Type(ty) = argument {
                            check_field_type(errors, ty);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// An opaque field's type is moved and dropped by its own glue, made once for the field: it
/// cannot depend on the type's parameters, and references are refused as anywhere.
fn check_opaque(errors: &mut Errors, container: &Container<'_>, field: &Field<'_>) {
    if let Type::Reference(_) | Type::Ptr(_) = field.ty {
        check_field_type(errors, field.ty);
        return;
    }
    let params: Vec<String> = container
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    let mentions_param = field
        .ty
        .to_token_stream()
        .into_iter()
        .flat_map(flatten)
        .any(|token| matches!(&token, proc_macro2::TokenTree::Ident(i) if params.contains(&i.to_string())));
    if mentions_param {
        errors.spanned(
            field.ty,
            format!(
                "an opaque field cannot depend on the type's parameters: `{}` names one; make the field's type concrete, or derive `CooType` for it and remove `opaque`",
                type_text(field.ty)
            ),
        );
    }
}

/// Every token of `token`, groups opened.
fn flatten(token: proc_macro2::TokenTree) -> Vec<proc_macro2::TokenTree> {
    match token {
        proc_macro2::TokenTree::Group(group) => {
            group.stream().into_iter().flat_map(flatten).collect()
        }
        other => vec![other],
    }
}

/// What to store instead of a function pointer or a closure.
const CODE_ADVICE: &str = "use a `#[hot_fn]` and store its name (a `String`), or an enum with one variant per behaviour, and `match` on it";

/// Why a standard type cannot be a field.
enum StdKind {
    /// `Rc`, `Arc` and their `Weak`s: shared ownership.
    Shared,
    /// `Cell`, `RefCell`, `Mutex`, `RwLock`, `OnceCell`, `OnceLock`: interior mutability.
    Interior,
}

/// The standard shared-ownership or interior-mutability type `path` names, if it is one:
/// written by its name alone with type arguments (`Rc<T>`, imported) or by a path through `std`,
/// `alloc` or `core` (`std::sync::Arc<T>`); a type of the user's own written `Cell` (without
/// arguments) or through its own module is left alone.
fn std_type(path: &syn::Path) -> Option<(String, StdKind)> {
    let last = path.segments.last()?;
    let first = path.segments.first()?;
    // Written alone, the name is taken for the standard type only with type arguments (`Rc<T>`):
    // a `CooType` of the user's own may well be called `Cell`.
    let through_std = if path.segments.len() == 1 {
        path.leading_colon.is_none() && matches!(last.arguments, PathArguments::AngleBracketed(_))
    } else {
        ["std", "alloc", "core"]
            .iter()
            .any(|root| first.ident == root)
    };
    if !through_std {
        return None;
    }
    let name = last.ident.to_string();
    let kind = match name.as_str() {
        "Rc" | "Arc" | "Weak" => StdKind::Shared,
        "Cell" | "RefCell" | "Mutex" | "RwLock" | "OnceCell" | "OnceLock" => StdKind::Interior,
        _ => return None,
    };
    Some((name, kind))
}

/// Whether a trait object's bounds name `Fn`, `FnMut` or `FnOnce`: a boxed closure.
fn is_closure_trait(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) -> bool {
    bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Fn" || s.ident == "FnMut" || s.ident == "FnOnce"),
        _ => false,
    })
}

/// What to store instead of a reference or pointer to `target`.
fn owned_advice(target: &Type, target_text: &str) -> String {
    match target {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            "use `String`".to_owned()
        }
        Type::Slice(slice) => format!(
            "use `Vec<{}>` or an array `[{}; N]`",
            type_text(&slice.elem),
            type_text(&slice.elem)
        ),
        _ => format!(
            "use `Box<{target_text}>`, `Handle<{target_text}>` (into a `Pool<{target_text}>`) or an owned `{target_text}`"
        ),
    }
}

/// `#[coo(default = ...)]` is for struct fields: a field new in a variant starts as its type's
/// `Default` (`coo-runtime`'s enum planning), and a hook on the enum can set another value.
fn check_enum_field_defaults(errors: &mut Errors, container: &Container<'_>) {
    let Data::Enum(variants) = &container.data else {
        return;
    };
    for field in variants.iter().flat_map(|variant| &variant.fields) {
        if let Some(default) = &field.attrs.default {
            errors.at(
                default.key.span(),
                "`#[coo(default = ...)]` is not supported on fields of enum variants: remove it; a field new in a variant starts as its type's `Default` (`0`, an empty `String` or `Vec`, ...), and for another value give the enum a migration hook, `#[coo(migrate = path::to::function)]`, that sets it",
            );
        }
    }
}

/// The type's earlier names: checked like a field's, with the type as the only item.
fn check_type_renames(errors: &mut Errors, container: &Container<'_>) {
    let names = core::iter::once((container.name(), container.attrs.rename_from.as_slice()));
    check_renames(errors, "type", "the type", names);
}

fn check_field_renames(errors: &mut Errors, fields: &[Field<'_>]) {
    let names = fields
        .iter()
        .map(|field| (field.name.clone(), field.attrs.rename_from.as_slice()));
    check_renames(errors, "field", "this field", names);
}

/// The earlier names of sibling fields (or variants, or of the type): none may be the item's
/// own name, repeat, or be claimed by two items, since an old field can move to only one new
/// field. `kind` names the items (`field`), `this` one of them in a message (`this field`).
fn check_renames<'a>(
    errors: &mut Errors,
    kind: &str,
    this: &str,
    items: impl Iterator<Item = (String, &'a [LitStr])>,
) {
    // earlier name -> the item that claimed it first
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for (name, rename_from) in items {
        for old in rename_from {
            let old_name = old.value();
            if old_name == name {
                errors.spanned(
                    old,
                    format!(
                        "`rename_from = \"{old_name}\"` is the current name of {this}: remove it; `rename_from` lists earlier names only"
                    ),
                );
                continue;
            }
            match claimed.get(&old_name) {
                Some(first) if *first == name => errors.spanned(
                    old,
                    format!("duplicate `rename_from = \"{old_name}\"`: give each earlier name once"),
                ),
                Some(first) => errors.spanned(
                    old,
                    format!(
                        "{kind}s `{first}` and `{name}` both claim `rename_from = \"{old_name}\"`: the old {kind} `{old_name}` can become only one of them; remove one `rename_from`"
                    ),
                ),
                None => {
                    claimed.insert(old_name, name.clone());
                }
            }
        }
    }
}
