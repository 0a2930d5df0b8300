//! Opaque fields (`#[coo(opaque)]`): the shape function generated for each.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::ast::Field;
use crate::expand::field_type;
use crate::expand::generic::TyCx;

/// The function that gives the field's shape: its type's `CooField::shape`, or for an opaque
/// field (`#[coo(opaque)]`) a function generated here, pushed to `glue`, whose constant is the
/// opaque shape of the field's type with that type's `Default` probed at this concrete type (a
/// probe inside Coo's generic code could not see it) and, with `serde`, its JSON glue. The
/// constant is spanned on the field type, so a type without `Debug` is reported there.
pub(super) fn shape_fn(field: &Field<'_>, cx: &TyCx, glue: &mut Vec<TokenStream>) -> TokenStream {
    let field_ty = field_type(field, cx);
    if field.attrs.opaque.is_none() {
        // Spanned on the field type: this path is also the check that the type is a `CooField`,
        // reported once, there, by `CooField`'s `on_unimplemented` message (a path, not a call
        // of a function with a bound: no note pointing into Coo's sources).
        return quote_spanned!(field.ty.span()=> <#field_ty as __coo::CooField>::shape);
    }
    let n = cx.opaque_fields.get();
    cx.opaque_fields.set(n + 1);
    let shape_fn = format_ident!("__coo_opaque_shape_{}", n);
    let default_fn = format_ident!("__coo_opaque_default_{}", n);
    let json = match &field.attrs.serde {
        Some(serde) => quote_spanned!(serde.span()=> __coo::opaque_json::<#field_ty>()),
        None => quote!(__coo::core::option::Option::None),
    };
    let shape = quote_spanned! {field.ty.span()=>
        __coo::opaque_shape::<#field_ty>(#default_fn, #json)
    };
    glue.push(quote! {
        fn #default_fn() -> __coo::core::option::Option<__coo::WriteFn> {
            #[allow(unused_imports)]
            use __coo::{HasDefault as _, NoDefault as _};
            (&__coo::DefaultProbe::<#field_ty>::NEW).default_writer()
        }

        fn #shape_fn() -> &'static __coo::Shape {
            const SHAPE: &__coo::Shape = &#shape;
            SHAPE
        }
    });
    quote!(#shape_fn)
}
