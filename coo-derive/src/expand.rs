//! Code generation. Runs only on input that [`crate::valid`] accepted, and only generates code:
//! every decision about what is allowed was taken before.
//!
//! The output for a type `T` is one `const _: () = { ... };` block holding:
//! - the static descriptor `__COO_DESC: TypeDesc`, built from `size_of`, `align_of` and
//!   `offset_of!`, with the glue functions it points to (default writers, the hook wrapper, and
//!   for enums the functions that take a value apart and put one together);
//! - `unsafe impl CooField for T` (the shape of a nested `CooType`) and `unsafe impl CooType for T`;
//! - compile-time checks: every field type is a `CooField` (the `<F as CooField>::shape` path in
//!   its `FieldDesc`, spanned on the field type, so the error lands once there). The descriptor's
//!   size and alignment are `size_of::<T>()` and `align_of::<T>()` written right there, so no
//!   assertion repeats them (one was a `const` per type, 0.5 s of a 300-type check: issue 13);
//! - the `inventory` registration that makes `Catalog::linked()` find `T`.
//!
//! Everything is named through `::coo_runtime::__private`, imported as `__coo`
//! ([`private_import`]).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{DeriveInput, Expr, Path, Type};

use crate::ast::{Container, Data, Field, Style, Variant};
use crate::attr::Repr;
use crate::errors::Errors;
use crate::literal_default::literal_default;
use crate::self_type::replace_self;
use crate::tokens::private_import;
use crate::valid;

mod generic;
mod opaque;

use generic::{TyCx, expand_generic};
use opaque::shape_fn;

/// The expansion of `#[derive(CooType)]` on `input`, or every error found in it.
pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let container = Container::from_ast(&mut errors, input);
    if let Some(container) = &container {
        valid::check(&mut errors, container);
    }
    errors.finish()?;
    // `from_ast` returns `None` only after recording an error.
    Ok(container.map(|c| expand(&c)).unwrap_or_default())
}

/// What to emit next to the errors when the derive fails: impls of `CooField` and `CooType`
/// whose constants are never evaluated, so that other types naming this one as a field do not
/// report a second, misleading error. Nothing for generic types and unions, which cannot have
/// these impls anyway.
pub(crate) fn fallback(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() || matches!(input.data, syn::Data::Union(_)) {
        return TokenStream::new();
    }
    let ty = call_site_ident(&input.ident);
    let private = private_import();
    quote! {
        const _: () = {
            #private
            #[automatically_derived]
            // SAFETY: the constant is never evaluated: it would fail the build if it were, and
            // the `compile_error!` next to this impl fails it first.
            unsafe impl __coo::CooField for #ty {
                const SHAPE: &'static __coo::Shape =
                    __coo::core::panic!("`#[derive(CooType)]` failed, see the errors above");
            }
            #[automatically_derived]
            // SAFETY: as for `CooField` above.
            unsafe impl __coo::CooType for #ty {
                const DESC: &'static __coo::TypeDesc =
                    __coo::core::panic!("`#[derive(CooType)]` failed, see the errors above");
            }
        };
    }
}

fn expand(container: &Container<'_>) -> TokenStream {
    let cx = TyCx::new(container);
    let ty = &cx.full;
    let (params, where_clause) = (&cx.params, &cx.where_clause);
    let ident_text = container.ident.unraw().to_string();
    let name = container.name();
    let rename_from = &container.attrs.rename_from;

    let mut glue = Vec::new();
    let kind = match &container.data {
        Data::Struct(style, fields) => expand_struct(&cx, *style, fields, &mut glue),
        Data::Enum(variants) => expand_enum(&cx, &ident_text, &container.repr, variants, &mut glue),
    };
    let hook = option(container.attrs.migrate.as_ref().map(|path| {
        glue.push(hook_wrapper(&cx, path));
        cx.func(&format_ident!("__coo_hook"))
    }));
    let private = private_import();
    if cx.is_generic() {
        let names = (name.as_str(), ident_text.as_str(), rename_from.as_slice());
        return expand_generic(&cx, names, kind, hook, &glue);
    }

    quote! {
        const _: () = {
            #private

            fn __coo_type_name() -> &'static str {
                #ident_text
            }

            fn __coo_default #params () -> __coo::core::option::Option<__coo::WriteFn> #where_clause {
                #[allow(unused_imports)]
                use __coo::{HasDefault as _, NoDefault as _};
                (&__coo::DefaultProbe::<#ty>::NEW).default_writer()
            }

            #(#glue)*

            // Each field's `<F as CooField>::shape` path is also the check that `F` is a
            // `CooField` ([`shape_fn`]); no `SHAPE` constant is evaluated here.
            static __COO_DESC: __coo::TypeDesc = __coo::type_desc(
                #name,
                __coo::core::concat!(__coo::core::module_path!(), "::", #ident_text),
                &[#(#rename_from),*],
                __coo::core::mem::size_of::<#ty>(),
                __coo::core::mem::align_of::<#ty>(),
                __coo::core::mem::needs_drop::<#ty>(),
                #kind,
                &__coo::type_glue(__coo::drop_glue::<#ty>, __coo_default, #hook),
            );

            #[automatically_derived]
            // SAFETY: the shape of a nested `CooType`: size, alignment, `needs_drop` and drop
            // glue are those of the type itself, and its descriptor is `__COO_DESC`.
            unsafe impl __coo::CooField for #ty {
                const SHAPE: &'static __coo::Shape = &__coo::shape(
                    __coo::core::mem::size_of::<#ty>(),
                    __coo::core::mem::align_of::<#ty>(),
                    __coo::core::mem::needs_drop::<#ty>(),
                    __coo::drop_glue::<#ty>,
                    __coo_type_name,
                    __coo::ShapeKind::Named(__coo::type_link(<#ty as __coo::CooType>::desc)),
                );
            }

            #[automatically_derived]
            // SAFETY: `__COO_DESC` is built from `size_of`, `align_of` and `offset_of!` of this
            // type and the `CooField` shapes of its field types, and its glue functions are the
            // ones generated above for exactly this type.
            unsafe impl __coo::CooType for #ty {
                const DESC: &'static __coo::TypeDesc = &__COO_DESC;
            }

            __coo::inventory::submit! {
                __coo::TypeRegistration(<#ty as __coo::CooType>::desc)
            }
        };
    }
}

/// The `StructDesc` of a struct; pushes the fields' default writers to `glue`.
fn expand_struct(
    cx: &TyCx,
    style: Style,
    fields: &[Field<'_>],
    glue: &mut Vec<TokenStream>,
) -> TokenStream {
    let ty = &cx.full;
    let style = style_tokens(style);
    let fields = fields.iter().map(|field| {
        let member = &field.member;
        let offset = quote!(__coo::core::mem::offset_of!(#ty, #member));
        let default = field.attrs.default.as_ref().map(|default| {
            let writer = format_ident!("__coo_default_{}", field.name);
            let field_ty = field_type(field, cx);
            // A generic type's descriptor is a constant, which cannot take the bytes' static.
            let literal = (!cx.is_generic())
                .then(|| literal_default(&field.name, &field_ty, &default.expr))
                .flatten();
            match literal {
                Some(literal) => {
                    glue.push(literal.items);
                    glue.push(default_writer(cx, &writer, &field_ty, &literal.value));
                    FieldDefault {
                        writer: cx.func(&writer),
                        bytes: Some(literal.bytes),
                    }
                }
                None => {
                    glue.push(default_writer(cx, &writer, &field_ty, &default.expr));
                    FieldDefault {
                        writer: cx.func(&writer),
                        bytes: None,
                    }
                }
            }
        });
        let shape = shape_fn(field, cx, glue);
        field_desc(field, offset, shape, default)
    });
    // Collect before `glue` is used again: the iterator above borrows it.
    let fields: Vec<TokenStream> = fields.collect();
    quote! {
        __coo::TypeKind::Struct(__coo::struct_desc(#style, &[#(#fields),*]))
    }
}

/// The `EnumDesc` of an enum; pushes its discriminant constants and its `read` and `write`
/// functions to `glue`.
fn expand_enum(
    cx: &TyCx,
    ident_text: &str,
    repr: &Repr,
    variants: &[Variant<'_>],
    glue: &mut Vec<TokenStream>,
) -> TokenStream {
    let ty = &cx.ident;
    let full = &cx.full;
    let (params, where_clause) = (&cx.params, &cx.where_clause);
    let repr_desc = repr_tokens(repr);
    let discriminants = discriminant_consts(ty, repr, variants, glue);
    let variant_descs: Vec<TokenStream> = variants
        .iter()
        .enumerate()
        .map(|(index, variant)| {
            let name = variant.name();
            let discriminant = &discriminants[index];
            let style = style_tokens(variant.style);
            let rename_from = &variant.attrs.rename_from;
            let fields: Vec<TokenStream> = variant
                .fields
                .iter()
                .map(|field| {
                    let offset = quote!(__coo::FieldDesc::NO_OFFSET);
                    let shape = shape_fn(field, cx, glue);
                    field_desc(field, offset, shape, None)
                })
                .collect();
            quote! {
                __coo::variant_desc(
                    #name,
                    #discriminant,
                    #style,
                    &[#(#fields),*],
                    &[#(#rename_from),*],
                )
            }
        })
        .collect();

    // The arms of `read` and `read_mut`: bind each field of the variant and write its address.
    let read_arms = |to_ptr: TokenStream| -> Vec<TokenStream> {
        variants
            .iter()
            .enumerate()
            .map(|(index, variant)| {
                let bindings: Vec<Ident> = (0..variant.fields.len())
                    .map(|slot| format_ident!("__coo_f{}", slot))
                    .collect();
                let pattern = variant_tokens(ty, variant, &bindings);
                let slots = 0..bindings.len();
                quote! {
                    #pattern => {
                        #(
                            __coo_out
                                .add(#slots)
                                .write(#to_ptr(#bindings).cast::<u8>());
                        )*
                        #index
                    }
                }
            })
            .collect()
    };
    let read_mut_arms = read_arms(quote!(__coo::core::ptr::from_mut));
    let read_arms = read_arms(quote!(__coo::core::ptr::from_ref));

    let write_arms = variants.iter().enumerate().map(|(index, variant)| {
        let values: Vec<TokenStream> = (variant.fields.iter().enumerate())
            .map(|(slot, field)| {
                let field_ty = field_type(field, cx);
                quote!(__coo_fields.add(#slot).read().cast::<#field_ty>().read())
            })
            .collect();
        let value = variant_tokens(ty, variant, &values);
        quote!(#index => #value,)
    });
    let out_of_range = format!("`{ident_text}` has {} variants", variants.len());

    glue.push(quote! {
        unsafe fn __coo_read #params (__coo_value: *const u8, __coo_out: *mut *const u8) -> usize #where_clause {
            // SAFETY: `EnumDesc::read`'s contract: `__coo_value` points to a valid value of this
            // enum, and `__coo_out` has room for the fields of its largest variant, so every
            // `add(slot)` stays in bounds.
            unsafe {
                match &*__coo_value.cast::<#full>() {
                    #(#read_arms)*
                }
            }
        }

        unsafe fn __coo_read_mut #params (__coo_value: *mut u8, __coo_out: *mut *mut u8) -> usize #where_clause {
            // SAFETY: `EnumDesc::read_mut`'s contract: `__coo_value` points to a valid value of
            // this enum that nothing else references, and `__coo_out` has room for the fields of
            // its largest variant, so every `add(slot)` stays in bounds.
            unsafe {
                match &mut *__coo_value.cast::<#full>() {
                    #(#read_mut_arms)*
                }
            }
        }

        unsafe fn __coo_write #params (
            __coo_dst: *mut u8,
            __coo_variant: usize,
            __coo_fields: *const *mut u8,
        ) #where_clause {
            // SAFETY: `EnumDesc::write`'s contract: `__coo_dst` is valid for writes of this enum,
            // and `__coo_fields` holds one address per field of variant `__coo_variant`, each of
            // a valid value of that field's type that the caller will not drop again, so
            // reading it moves it.
            unsafe {
                let __coo_new = match __coo_variant {
                    #(#write_arms)*
                    _ => __coo::core::unreachable!(#out_of_range),
                };
                __coo_dst.cast::<#full>().write(__coo_new);
            }
        }
    });

    let (read, read_mut, write) = (
        cx.func(&format_ident!("__coo_read")),
        cx.func(&format_ident!("__coo_read_mut")),
        cx.func(&format_ident!("__coo_write")),
    );
    quote! {
        __coo::TypeKind::Enum(__coo::enum_desc(
            #repr_desc,
            &[#(#variant_descs),*],
            #read,
            #read_mut,
            #write,
        ))
    }
}

/// The `EnumRepr` of the enum's `#[repr(...)]`.
fn repr_tokens(repr: &Repr) -> TokenStream {
    let c = repr.c;
    let transparent = repr.transparent;
    let int = option(repr.int.as_ref().map(|int| {
        let prim = prim_variant(int);
        quote!(__coo::Prim::#prim)
    }));
    let align = option(repr.align);
    quote! {
        __coo::EnumRepr {
            c: #c,
            transparent: #transparent,
            int: #int,
            align: #align,
        }
    }
}

/// The `Prim` variant of a `repr` integer type: `u8` -> `U8`, `isize` -> `Isize`.
fn prim_variant(int: &Ident) -> Ident {
    let text = int.to_string();
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    Ident::new(
        &first.into_iter().chain(chars).collect::<String>(),
        Span::call_site(),
    )
}

/// One `const __COO_DISCRIMINANT_<i>: i128` per variant, pushed to `glue`; returns their
/// names. A field-less enum casts each variant (`T::V as i128`): the compiler's own value.
/// Variants of an enum with fields cannot be cast, so an explicit `= EXPR` is evaluated again
/// as a constant of the discriminant's type (the `repr` integer, else `isize`), and an implicit
/// discriminant is the previous one plus one, or 0 for the first variant, as rustc assigns
/// them. (The `i128` arithmetic wraps so that a `u128` discriminant above `i128::MAX`, held
/// wrapped, has a successor too; rustc rejects an actual overflow.)
fn discriminant_consts(
    ty: &Ident,
    repr: &Repr,
    variants: &[Variant<'_>],
    glue: &mut Vec<TokenStream>,
) -> Vec<Ident> {
    let field_less = variants.iter().all(|variant| variant.style == Style::Unit);
    let int = match &repr.int {
        Some(int) => int.clone(),
        None => Ident::new("isize", Span::call_site()),
    };
    let mut names: Vec<Ident> = Vec::with_capacity(variants.len());
    for (index, variant) in variants.iter().enumerate() {
        let name = format_ident!("__COO_DISCRIMINANT_{}", index);
        let value = if field_less {
            let ident = variant.ident;
            quote!(#ty::#ident as __coo::core::primitive::i128)
        } else {
            match (variant.discriminant, names.last()) {
                (Some(expr), _) => {
                    let expr = replace_self(expr, &Path::from(ty.clone()));
                    quote!({
                        const __COO_EXPLICIT: __coo::core::primitive::#int = #expr;
                        __COO_EXPLICIT as __coo::core::primitive::i128
                    })
                }
                (None, Some(previous)) => quote!(#previous.wrapping_add(1)),
                (None, None) => quote!(0),
            }
        };
        glue.push(quote! {
            const #name: __coo::core::primitive::i128 = #value;
        });
        names.push(name);
    }
    names
}

/// `T::V`, `T::V(a, b)` or `T::V { x: a, y: b }`: a pattern or a constructor, with one token
/// stream per field.
fn variant_tokens(ty: &Ident, variant: &Variant<'_>, values: &[impl ToTokens]) -> TokenStream {
    let ident = variant.ident;
    match variant.style {
        Style::Unit => quote!(#ty::#ident),
        Style::Tuple => quote!(#ty::#ident(#(#values),*)),
        Style::Named => {
            let members = variant.fields.iter().map(|field| &field.member);
            quote!(#ty::#ident { #(#members: #values),* })
        }
    }
}

/// A field's `#[coo(default = ...)]`: its writer, and the static of its bytes when it is a
/// literal of a primitive type (see [`literal_default`]).
struct FieldDefault {
    /// The writer, as a value (`__coo_default_x::<T>` in a generic type).
    writer: TokenStream,
    bytes: Option<Ident>,
}

/// The `FieldDesc` of a field, with its default writer if it has one.
fn field_desc(
    field: &Field<'_>,
    offset: TokenStream,
    shape: TokenStream,
    default: Option<FieldDefault>,
) -> TokenStream {
    let name = &field.name;
    let rename_from = &field.attrs.rename_from;
    if let Some(FieldDefault {
        writer,
        bytes: Some(bytes),
    }) = &default
    {
        return quote! {
            __coo::field_desc_literal_default(
                #name,
                #offset,
                #shape,
                &[#(#rename_from),*],
                #writer,
                &#bytes,
            )
        };
    }
    let default = option(default.map(|d| d.writer));
    quote! {
        __coo::field_desc(
            #name,
            #offset,
            #shape,
            &[#(#rename_from),*],
            #default,
        )
    }
}

/// `unsafe fn __coo_default_x(dst)`: writes the value of `#[coo(default = EXPR)]`, catching a
/// panic in `EXPR`. A `let` of the field's type puts a type mismatch on `EXPR` itself, with the
/// field's type as the reason (a closure's return type would be named as the reason instead).
fn default_writer(cx: &TyCx, writer: &Ident, field_ty: &Type, expr: &Expr) -> TokenStream {
    let (params, where_clause) = (&cx.params, &cx.where_clause);
    quote! {
        // A diverging `EXPR` (`panic!(...)`) makes the `let` diverge: fine, `catch` reports it.
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        unsafe fn #writer #params (
            __coo_dst: *mut u8,
        ) -> __coo::core::result::Result<(), __coo::ForeignString> #where_clause {
            let __coo_value = __coo::catch(|| {
                let __coo_value: #field_ty = #expr;
                __coo_value
            })
            .map_err(__coo::ForeignString::new)?;
            // SAFETY: `WriteFn`'s contract: `__coo_dst` is valid for writes of the field's type
            // and suitably aligned.
            unsafe { __coo_dst.cast::<#field_ty>().write(__coo_value) };
            __coo::core::result::Result::Ok(())
        }
    }
}

/// `unsafe fn __coo_hook(old, new)`: runs `#[coo(migrate = path)]`. The call is spanned on the
/// path, so a hook of another type or with another return type is reported there, by the
/// `on_unimplemented` messages of `run_hook`'s bounds, which state the signature to write.
fn hook_wrapper(cx: &TyCx, path: &Path) -> TokenStream {
    let ty = &cx.full;
    let (params, where_clause) = (&cx.params, &cx.where_clause);
    let run_hook = quote_spanned!(path.span()=> __coo::run_hook::<#ty, _, _>);
    quote! {
        unsafe fn __coo_hook #params (
            __coo_old: &__coo::ValueView<'_>,
            __coo_new: *mut u8,
        ) -> __coo::core::result::Result<(), __coo::ForeignString> #where_clause {
            // SAFETY: `HookFn`'s contract: `__coo_new` points to a valid value of this type that
            // nothing else refers to while the hook runs.
            unsafe { #run_hook(#path, __coo_old, __coo_new) }
        }
    }
}

/// `Some(value)` or `None`, named through `__coo`.
fn option(value: Option<impl ToTokens>) -> TokenStream {
    match value {
        Some(value) => quote!(__coo::core::option::Option::Some(#value)),
        None => quote!(__coo::core::option::Option::None),
    }
}

fn style_tokens(style: Style) -> TokenStream {
    match style {
        Style::Named => quote!(__coo::FieldsStyle::Named),
        Style::Tuple => quote!(__coo::FieldsStyle::Tuple),
        Style::Unit => quote!(__coo::FieldsStyle::Unit),
    }
}

/// The field's type, with `Self` replaced by the type's name: the generated items live outside
/// any `impl`, where `Self` means nothing.
fn field_type(field: &Field<'_>, cx: &TyCx) -> Type {
    replace_self(field.ty, &cx.full)
}

/// The type's identifier, resolved at the call site, as thiserror does: the located span keeps
/// errors on the user's identifier while names resolve like the rest of the generated code.
fn call_site_ident(ident: &Ident) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(ident.span().resolved_at(Span::call_site()));
    ident
}
