//! Rules that a single attribute cannot check on its own: generic parameters, `repr`, field
//! types, and names and earlier names across the fields and variants of the type.

use std::collections::BTreeMap;

use syn::{GenericArgument, GenericParam, LitStr, PathArguments, Type};

use crate::ast::{Container, Data, Field};
use crate::errors::Errors;
use crate::tokens::type_text;

/// Records every rule the container breaks.
pub(crate) fn check(errors: &mut Errors, container: &Container<'_>) {
    check_generics(errors, container);
    check_repr(errors, container);
    check_empty_enum(errors, container);
    for field in container.all_fields() {
        check_field_type(errors, field.ty);
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
            GenericParam::Type(param) => format!(
                "`CooType` does not support generic types: remove the type parameter `{}` and name concrete field types; Coo describes one layout per type",
                param.ident
            ),
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

/// `#[repr(packed)]` would leave fields unaligned, and migration reads and writes them in place.
fn check_repr(errors: &mut Errors, container: &Container<'_>) {
    for packed in &container.repr.packed {
        errors.spanned(
            packed,
            "`CooType` does not support `#[repr(packed)]`: migration reads and writes fields in place and needs them aligned; remove `packed`",
        );
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

/// References and raw pointers anywhere in a field type, with advice on what to store instead.
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
