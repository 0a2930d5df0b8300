//! `#[coo_trait]` and `#[coo_impl]`: trait objects in live state. Each reads its item, checks
//! it (all errors at once) and generates the glue of `coo_runtime::descriptors::trait_objects`:
//!
//! - `#[coo_trait] trait Vehicle { .. }` keeps the trait, adds a hidden required method
//!   `__coo_mark_the_impl_with_coo_impl` (which `#[coo_impl]` fills: an impl without the mark
//!   is refused by the compiler as missing it), implements `CooDyn` for `dyn Vehicle` and `CooField` for
//!   `Box<dyn Vehicle>` (`Box` is fundamental, so the plugin may).
//! - `#[coo_impl] impl Vehicle for Bicycle { .. }` (optionally `#[coo_impl(from(Car, Ship))]`:
//!   `From<&Car> for Bicycle`, … for switching a live object) fills the hidden method with
//!   `Bicycle`'s descriptor, implements `CooImpl<dyn Vehicle>` (which asks that the trait be
//!   marked and `Bicycle` be a `CooType`) and registers the impl with `inventory`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{FnArg, ItemImpl, ItemTrait, Path, Token, TraitItem, Type};

use crate::errors::Errors;
use crate::tokens::private_import;

/// `#[coo_trait]` on `item`.
pub(crate) fn coo_trait(args: &TokenStream, item: &ItemTrait) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(args, "`#[coo_trait]` takes no arguments");
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(
            &item.generics,
            "a `#[coo_trait]` trait cannot be generic: its objects are live state of one \
             `Box<dyn Trait>` type; move the parameter into the methods' argument types",
        );
    }
    for trait_item in &item.items {
        let TraitItem::Fn(method) = trait_item else {
            continue;
        };
        let sig = &method.sig;
        let sized_only = method.sig.generics.where_clause.as_ref().is_some_and(|w| {
            w.predicates
                .iter()
                .any(|p| quote!(#p).to_string().replace(' ', "") == "Self:Sized")
        });
        if sized_only {
            continue;
        }
        if sig
            .generics
            .params
            .iter()
            .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        {
            errors.spanned(
                &sig.generics,
                format!(
                    "`{}` has type parameters, so `dyn {}` cannot call it (the trait is not \
                     object-safe); take `&dyn Trait` or a concrete type instead, or add \
                     `where Self: Sized` to the method",
                    sig.ident, item.ident
                ),
            );
        }
        if !matches!(sig.inputs.first(), Some(FnArg::Receiver(_))) {
            errors.spanned(
                &sig.ident,
                format!(
                    "`{}` has no `self` parameter, so `dyn {}` cannot call it (the trait is not \
                     object-safe); take `&self` or `&mut self`, or add `where Self: Sized` to \
                     the method",
                    sig.ident, item.ident
                ),
            );
        }
    }
    errors.finish()?;
    let ident = &item.ident;
    let name = ident.to_string();
    let mut item = item.clone();
    item.items.push(syn::parse_quote! {
        /// Filled by `#[coo_impl]`: the descriptor of the implementing type. An impl that lacks
        /// it lacks `#[coo_impl]`.
        #[doc(hidden)]
        fn __coo_mark_the_impl_with_coo_impl(&self) -> &'static ::coo_runtime::__private::TypeDesc;
    });
    let import = private_import();
    Ok(quote! {
        #item

        const _: () = {
            #import

            // SAFETY: `concrete_type` is the hidden method, which only `#[coo_impl]` fills, with
            // the descriptor of the impl's own type.
            unsafe impl __coo::CooDyn for dyn #ident {
                const TRAIT_NAME: &'static str = #name;

                fn concrete_type(&self) -> &'static __coo::TypeDesc {
                    self.__coo_mark_the_impl_with_coo_impl()
                }
            }

            // SAFETY: `dyn_shape` describes `Box<dyn Trait>` with glue generic over it.
            unsafe impl __coo::CooField for __coo::Box<dyn #ident> {
                const SHAPE: &'static __coo::Shape = &__coo::dyn_shape::<dyn #ident>();
            }
        };
    })
}

/// The arguments of `#[coo_impl]`: nothing, or `from(A, B)`.
fn parse_args(args: &TokenStream, errors: &mut Errors) -> Vec<Type> {
    if args.is_empty() {
        return Vec::new();
    }
    let parsed = syn::parse2::<syn::Meta>(args.clone());
    match parsed {
        Ok(syn::Meta::List(list)) if list.path.is_ident("from") => {
            match Punctuated::<Type, Token![,]>::parse_terminated.parse2(list.tokens.clone()) {
                Ok(types) => types.into_iter().collect(),
                Err(e) => {
                    errors.push(e);
                    Vec::new()
                }
            }
        }
        _ => {
            errors.spanned(
                args,
                "`#[coo_impl]` takes no arguments or `from(Type, ...)`: the impls a live object \
                 can be switched from, each through `impl From<&Type> for ThisType`",
            );
            Vec::new()
        }
    }
}

/// `#[coo_impl]` on `item`.
pub(crate) fn coo_impl(args: &TokenStream, item: &ItemImpl) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let from = parse_args(args, &mut errors);
    let trait_path: Option<&Path> = match &item.trait_ {
        Some((None, path, _)) => Some(path),
        _ => {
            errors.spanned(
                &item.self_ty,
                "`#[coo_impl]` goes on an impl of a `#[coo_trait]` trait for a `CooType`: \
                 `#[coo_impl] impl Trait for Type { .. }`",
            );
            None
        }
    };
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "a `#[coo_impl]` impl cannot be generic: live objects are of concrete `CooType`s; \
             write one impl per type",
        );
    }
    errors.finish()?;
    let trait_path = trait_path.expect("checked above");
    let ty = &item.self_ty;
    let mut item = item.clone();
    item.items.push(syn::parse_quote! {
        fn __coo_mark_the_impl_with_coo_impl(&self) -> &'static ::coo_runtime::__private::TypeDesc {
            <#ty as ::coo_runtime::__private::CooType>::DESC
        }
    });
    let import = private_import();
    let switches = from.iter().map(|src| {
        quote! {
            __coo::switch_desc(
                <#src as __coo::CooType>::desc,
                __coo::switch_convert::<dyn #trait_path, #src, #ty>,
            )
        }
    });
    let desc_fn = format_ident!("__coo_impl_desc");
    Ok(quote! {
        #item

        const _: () = {
            #import

            impl __coo::CooImpl<dyn #trait_path> for #ty {
                fn boxed(self: __coo::Box<Self>) -> __coo::Box<dyn #trait_path> {
                    self
                }
            }

            fn #desc_fn() -> &'static __coo::ImplDesc {
                static SWITCHES: &[__coo::SwitchDesc] = &[#(#switches),*];
                static DESC: __coo::ImplDesc = __coo::impl_desc(
                    __coo::type_name_of::<dyn #trait_path>,
                    <#ty as __coo::CooType>::desc,
                    <#ty as __coo::CooField>::shape,
                    __coo::impl_write_box::<dyn #trait_path, #ty>,
                    SWITCHES,
                );
                &DESC
            }

            __coo::inventory::submit! {
                __coo::ImplRegistration(#desc_fn)
            }
        };
    })
}
