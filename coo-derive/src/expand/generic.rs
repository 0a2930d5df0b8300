//! Generic types: the context every generated function of a type is written in ([`TyCx`]: for
//! a generic type, generic over its parameters, each bounded by `CooField`), and the expansion
//! of a generic type, whose descriptor is a per-instantiation constant ([`expand_generic`]).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::Path;

use crate::ast::Container;
use crate::expand::call_site_ident;
use crate::tokens::private_import;

/// The type being derived, as generated code names it: for a generic type, every generated
/// function is generic over its type parameters (each bounded by `CooField`, with the type's own
/// bounds and `where` clause) and named with a turbofish.
pub(super) struct TyCx {
    /// The identifier, resolved at the call site: `Pair` (in `Pair::Variant` paths).
    pub(super) ident: Ident,
    /// The type with its parameters: `Pair<T>`, or `Pair`.
    pub(super) full: Path,
    /// `<T: CooField + Bound, …>` on a generated function, or nothing.
    pub(super) params: TokenStream,
    /// The type's `where` clause, or nothing.
    pub(super) where_clause: TokenStream,
    /// `::<T, …>` after a generated function's name, or nothing.
    pub(super) turbofish: TokenStream,
    /// The type parameters: `T`, ….
    pub(super) type_params: Vec<Ident>,
    /// How many opaque fields have their shape functions so far (they are numbered).
    pub(super) opaque_fields: core::cell::Cell<usize>,
}

impl TyCx {
    pub(super) fn new(container: &Container<'_>) -> TyCx {
        let ident = call_site_ident(container.ident);
        let mut generics = container.generics.clone();
        for param in generics.type_params_mut() {
            param.bounds.push(syn::parse_quote!(__coo::CooField));
        }
        let type_params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
        let (params, args, where_clause) = generics.split_for_impl();
        let full: Path = syn::parse_quote!(#ident #args);
        let turbofish = args.as_turbofish().to_token_stream();
        TyCx {
            full,
            // Generated, not the user's: lints on the user's generics (`multiple_bound_locations`
            // for `T: CooField` beside a `where T: …`) are not about these copies.
            params: call_site(params.to_token_stream()),
            where_clause: call_site(where_clause.to_token_stream()),
            turbofish,
            type_params,
            ident,
            opaque_fields: core::cell::Cell::new(0),
        }
    }

    pub(super) fn is_generic(&self) -> bool {
        !self.type_params.is_empty()
    }

    /// A generated function, as a value: `__coo_read::<T>`.
    pub(super) fn func(&self, name: &Ident) -> TokenStream {
        let turbofish = &self.turbofish;
        quote!(#name #turbofish)
    }
}

/// `tokens` with every span at the call site: code of the expansion, not the user's.
fn call_site(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            proc_macro2::TokenTree::Group(group) => {
                let mut new = proc_macro2::Group::new(group.delimiter(), call_site(group.stream()));
                new.set_span(Span::call_site());
                proc_macro2::TokenTree::Group(new)
            }
            mut other => {
                other.set_span(Span::call_site());
                other
            }
        })
        .collect()
}

/// The expansion for a generic type: no `static` can depend on a type parameter, so the
/// descriptor is the `CooType` impl's constant, made per instantiation with its name and type
/// arguments ([`coo_runtime::descriptors::generics`]); no `inventory` registration (an item
/// cannot be submitted per instantiation): the host finds an instantiation through the field
/// of a registered type that names it.
pub(super) fn expand_generic(
    cx: &TyCx,
    (name, ident_text, rename_from): (&str, &str, &[syn::LitStr]),
    kind: TokenStream,
    hook: TokenStream,
    glue: &[TokenStream],
) -> TokenStream {
    let ty = &cx.full;
    let (params, where_clause) = (&cx.params, &cx.where_clause);
    let private = private_import();
    let type_name = cx.func(&format_ident!("__coo_type_name"));
    let default = cx.func(&format_ident!("__coo_default"));
    let args: Vec<TokenStream> = cx
        .type_params
        .iter()
        .map(|param| quote!(<#param as __coo::CooField>::shape))
        .collect();
    quote! {
        const _: () = {
            #private

            fn __coo_type_name #params () -> &'static str #where_clause {
                __coo::instance_name::<#ty>(#name, &[#(#args),*])
            }

            fn __coo_default #params () -> __coo::core::option::Option<__coo::WriteFn> #where_clause {
                #[allow(unused_imports)]
                use __coo::{HasDefault as _, NoDefault as _};
                (&__coo::DefaultProbe::<#ty>::NEW).default_writer()
            }

            #(#glue)*

            #[automatically_derived]
            // SAFETY: the shape of a nested `CooType`: size, alignment, `needs_drop` and drop
            // glue are those of the instantiation itself, and its descriptor is its `DESC`.
            unsafe impl #params __coo::CooField for #ty #where_clause {
                const SHAPE: &'static __coo::Shape = &__coo::shape(
                    __coo::core::mem::size_of::<#ty>(),
                    __coo::core::mem::align_of::<#ty>(),
                    __coo::core::mem::needs_drop::<#ty>(),
                    __coo::drop_glue::<#ty>,
                    #type_name,
                    __coo::ShapeKind::Named(__coo::type_link(<#ty as __coo::CooType>::desc)),
                );
            }

            #[automatically_derived]
            // SAFETY: `DESC` is built from `size_of`, `align_of` and `offset_of!` of this
            // instantiation and the `CooField` shapes of its field types, and its glue functions
            // are the ones generated above, instantiated with the same type arguments.
            unsafe impl #params __coo::CooType for #ty #where_clause {
                const DESC: &'static __coo::TypeDesc = &__coo::generic_type_desc(
                        __coo::type_desc(
                            #name,
                            __coo::core::concat!(__coo::core::module_path!(), "::", #ident_text),
                            &[#(#rename_from),*],
                            __coo::core::mem::size_of::<#ty>(),
                            __coo::core::mem::align_of::<#ty>(),
                            __coo::core::mem::needs_drop::<#ty>(),
                            #kind,
                            &__coo::type_glue(__coo::drop_glue::<#ty>, #default, #hook),
                        ),
                        #type_name,
                        &[#(__coo::shape_link(#args)),*],
                    );
            }
        };
    }
}
