//! Code generation for `#[hot_fn]`. Runs only on input that [`super::valid`] accepted.
//!
//! The item itself is emitted unchanged (for an impl block, without the `#[hot_fn]` marks on its
//! methods), followed by one `const _: () = { ... };` block per registered function, at module
//! level (an impl block cannot hold statics), holding:
//! - `__coo_shim`, the function's `coo_runtime::plugin::Shim`: it reads
//!   one argument per slot of `args` (a reference to the live resource for `&T` / `&mut T`, a
//!   `&str` built from a `StrRef`, or a value taken out of its slot by `HotValue::take_arg`),
//!   the by-value ones first, so that a call the alias checks refuse still drops them; calls
//!   the function inside `__private::catch`, and finishes with `__private::finish_call`;
//! - the static `FnDesc`, whose parameter and return kinds name the user's types with the
//!   user's spans (`<T as HotValue>::KIND`, `<T as HotResource>::DESC`), each in a constant of
//!   its own, so that every type that cannot cross the boundary is reported on the type itself;
//! - `__coo_direct`, the function's direct entry (`coo_runtime::plugin::ErasedFn`): the values
//!   as parameters of their own types, the resources behind one pointer each, the value
//!   returned as `Option<R>` (`None`: it panicked, the message written to `__coo_panic`, by
//!   `__private::finish_direct`), for cross-plugin imports and hosts that abort on panics;
//! - `__coo_raising`, its raising entry: the same without `__coo_panic`, returning the value
//!   itself; a panic is reported by unwinding with the host's `std` (`__private::raise_panic`,
//!   see `coo_runtime::plugin::raise`), for typed handles;
//! - whether every `&T` parameter's type is `Sync` (`FnDesc::refs_sync`, through
//!   `__private::SyncProbe`), which tells whether calls may share a resource across threads;
//! - the `inventory` registration that puts the slot in the build's `Manifest`.
//!
//! Methods are called as `<Type>::method`, with `Self` in their signatures replaced by the type
//! of the impl block's header.
//!
//! Everything is named through `::coo_runtime::__private`, imported as `__coo`
//! ([`private_import`]).

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{ImplItem, Item, ItemImpl, Signature, Type};

use super::ast::{HotFn, Input, Passing, Ret, owner_path};
use super::{attr, valid};
use crate::errors::Errors;
use crate::self_type::replace_self;
use crate::tokens::private_import;

/// The expansion of `#[hot_fn]` (with `args` between its parentheses) on `item`, or every
/// error found in them.
pub(crate) fn hot_fn(args: &TokenStream, item: &Item) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let alternative = attr::check_args(&mut errors, args, item);
    let input = Input::from_ast(&mut errors, item);
    valid::check(&mut errors, &input);
    errors.finish()?;
    Ok(match &input {
        Input::Fn(function) => {
            let registration = registration(function, alternative.as_ref());
            let item = without_host_marks(item);
            quote!(#item #registration)
        }
        Input::Impl(block) => {
            let stripped = without_marks(block.original);
            let registrations = block.fns.iter().map(|f| registration(f, None));
            quote!(#stripped #(#registrations)*)
        }
        Input::Other(_) => unreachable!("`valid::check` rejects other items"),
    })
}

/// What to emit next to the errors: the item as written (an impl block without the marks on
/// its methods, which would otherwise expand on their own), so that the rest of the crate
/// keeps type-checking against it.
pub(crate) fn fallback(item: &Item) -> TokenStream {
    match item {
        Item::Impl(block) => without_marks(block).into_token_stream(),
        Item::Fn(function) => {
            let mut function = function.clone();
            without_variadic(&mut function.sig);
            attr::strip_host_marks(&mut function.sig);
            function.into_token_stream()
        }
        other => other.into_token_stream(),
    }
}

/// Removes a `...` parameter, which Coo's error already reported: left in, it would add the
/// compiler's own errors about C-variadic functions after Coo's.
fn without_variadic(sig: &mut Signature) {
    sig.variadic = None;
}

/// A free function as written, without the `#[host]` marks of its parameters.
fn without_host_marks(item: &Item) -> TokenStream {
    match item {
        Item::Fn(function) => {
            let mut function = function.clone();
            attr::strip_host_marks(&mut function.sig);
            function.into_token_stream()
        }
        other => other.into_token_stream(),
    }
}

/// The block without the `#[hot_fn]` marks of its items and the `#[host]` marks of its
/// methods' parameters.
fn without_marks(block: &ItemImpl) -> ItemImpl {
    let mut block = block.clone();
    for item in &mut block.items {
        match item {
            ImplItem::Fn(item) => {
                attr::strip_marks(&mut item.attrs);
                without_variadic(&mut item.sig);
                attr::strip_host_marks(&mut item.sig);
            }
            ImplItem::Const(item) => attr::strip_marks(&mut item.attrs),
            ImplItem::Type(item) => attr::strip_marks(&mut item.attrs),
            ImplItem::Macro(item) => attr::strip_marks(&mut item.attrs),
            _ => {}
        }
    }
    block
}

/// The shim, descriptor and registration of one function; of an alternative implementation
/// (`alternative`), with the check that its signature is its function's.
fn registration(function: &HotFn<'_>, alternative: Option<&attr::Alternative>) -> TokenStream {
    let name = function.name();
    let ident = &function.sig.ident;
    let callee = match function.owner {
        Some(owner) => quote!(<#owner>::#ident),
        None => quote!(#ident),
    };

    // Reads of the arguments the shim takes (values, `&str`), then of the resources: the
    // by-value arguments are the shim's from the start, so they are read (and owned) before the
    // alias checks, which drop them if they refuse the call.
    let mut reads = Vec::new();
    let mut ref_reads = Vec::new();
    let mut owned = Vec::new();
    // (slot, resource type, `&mut`) of the `&T` and `&mut T` parameters
    let mut resources = Vec::new();
    let mut args = Vec::new();
    let mut params = Vec::new();
    // One constant per kind: each is its own body, so the compiler reports every type that
    // cannot cross, even when two parameters have the same type.
    let mut kinds = Vec::new();
    // The direct entry's value parameters (`arg: Type`) and reads of its resources.
    let mut direct_params = Vec::new();
    let mut direct_args = Vec::new();
    let mut direct_types = Vec::new();
    let mut direct_reads = Vec::new();
    for (index, param) in function.params.iter().enumerate() {
        let arg = format_ident!("__coo_arg{}", index);
        match param.passing {
            Passing::Ref(target) | Passing::RefMut(target) => {
                let target = outside_block(target, function.owner);
                let resource = direct_reads.len();
                let mutable = matches!(param.passing, Passing::RefMut(_)).then(|| quote!(mut));
                direct_reads.push(quote! {
                    // SAFETY: `ErasedFn`'s contract: `__coo_resources` holds one pointer per
                    // resource parameter (so `add` stays in bounds), this one to the live
                    // resource of the type, valid for the call and, for `&mut`, used by
                    // nothing else meanwhile. The reference cannot outlive the call, as in the
                    // shim.
                    let #arg = unsafe {
                        &#mutable *(*__coo_resources.add(#resource))
                            .load(__coo::core::sync::atomic::Ordering::Relaxed)
                            .cast::<#target>()
                    };
                });
            }
            _ => {
                let ty = outside_block(param.ty, function.owner);
                direct_params.push(quote!(#arg: #ty));
                direct_args.push(arg.clone());
                direct_types.push(ty);
            }
        }
        let slot = quote!((*__coo_args.add(#index)));
        let (read, kind) = match param.passing {
            Passing::Ref(target) => {
                let target = outside_block(target, function.owner);
                resources.push((index, target.clone(), false));
                let read = quote! {
                    // SAFETY: `Shim`'s contract: `__coo_args` holds one pointer per parameter
                    // (so `add` stays in bounds), and this one points to the live resource of
                    // the type, valid and not mutated while the call runs. The reference cannot
                    // outlive the call: `valid` rejects named lifetimes on parameters and
                    // references in return types.
                    let #arg = unsafe { &*#slot.cast::<#target>() };
                };
                let kind = quote_spanned! {target.span()=>
                    __coo::ValueKind::Ref(__coo::type_link(<#target as __coo::HotResource>::DESC))
                };
                (read, kind)
            }
            Passing::RefMut(target) => {
                let target = outside_block(target, function.owner);
                resources.push((index, target.clone(), true));
                let read = quote! {
                    // SAFETY: `Shim`'s contract: `__coo_args` holds one pointer per parameter
                    // (so `add` stays in bounds), and this one points to the live resource of
                    // the type, valid and used by nothing else while the call runs: no other
                    // parameter points to it (`alias_checks` above). The reference cannot
                    // outlive the call, as for `&T`.
                    let #arg = unsafe { &mut *#slot.cast::<#target>() };
                };
                let kind = quote_spanned! {target.span()=>
                    __coo::ValueKind::RefMut(__coo::type_link(<#target as __coo::HotResource>::DESC))
                };
                (read, kind)
            }
            Passing::Host { target, mutable } => {
                let ty = outside_block(param.ty, function.owner);
                let target = outside_block(target, function.owner);
                let read = quote! {
                    // SAFETY: `Shim`'s contract: `__coo_args` holds one pointer per parameter
                    // (so `add` stays in bounds), and this one points to a reference of the
                    // parameter's type (a host object, `ValueKind::Host`), valid for the call
                    // and, for `&mut`, used by nothing else meanwhile; the reference is copied
                    // out, not the object. It cannot outlive the call, as for resources.
                    let #arg: #ty = unsafe { #slot.cast::<#ty>().read() };
                };
                let kind = quote_spanned! {target.span()=>
                    __coo::ValueKind::Host {
                        ty: __coo::HostTypeLink::new(<#target as __coo::HostObject>::host_type),
                        mutable: #mutable,
                    }
                };
                (read, kind)
            }
            Passing::Str => {
                let read = quote! {
                    // SAFETY: `Shim`'s contract: `__coo_args` holds one pointer per parameter
                    // (so `add` stays in bounds), and this one points to a `StrRef` whose
                    // `len` bytes at `ptr` are UTF-8 (the host builds it from a `&str`) and
                    // stay readable and unchanged while the call runs.
                    let #arg: &str = unsafe {
                        let __coo_str = #slot.cast::<__coo::StrRef>().read();
                        __coo::core::str::from_utf8_unchecked(
                            __coo::core::slice::from_raw_parts(__coo_str.ptr, __coo_str.len),
                        )
                    };
                };
                (read, quote!(__coo::ValueKind::Str))
            }
            Passing::Value => {
                let ty = outside_block(param.ty, function.owner);
                let read = quote! {
                    // SAFETY: `Shim`'s contract: `__coo_args` holds one pointer per parameter
                    // (so `add` stays in bounds), and this one points to what an argument slot
                    // of the type's `ValueKind` holds, which the caller gives up (it neither
                    // drops nor uses it again), so taking it moves it into the call
                    // (`HotValue::take_arg`; a `String` is copied from the `StrRef` there).
                    let #arg = unsafe { <#ty as __coo::HotValue>::take_arg(#slot) };
                };
                owned.push(arg.clone());
                let kind = quote_spanned! {ty.span()=>
                    <#ty as __coo::HotValue>::KIND
                };
                (read, kind)
            }
            Passing::Unsupported => unreachable!("`valid::check` rejects unsupported parameters"),
        };
        let param_name = param
            .name
            .as_deref()
            .expect("`valid::check` rejects parameters without a name");
        let kind_const = format_ident!("__COO_PARAM_{}", index);
        match param.passing {
            Passing::Ref(_) | Passing::RefMut(_) => ref_reads.push(read),
            _ => reads.push(read),
        }
        args.push(arg);
        kinds.push(quote! {
            const #kind_const: __coo::ValueKind = #kind;
        });
        params.push(quote! {
            __coo::param_desc(#param_name, #kind_const)
        });
    }
    if function.params.is_empty() {
        reads.push(quote!(let _ = __coo_args;));
    }
    let alias_checks = alias_checks(function, &resources, &owned);
    // `true && <SyncProbe<T>>::IS_SYNC && ...` over the `&T` parameters.
    let shared_types = resources
        .iter()
        .filter(|(_, _, mutable)| !mutable)
        .map(|(_, ty, _)| ty);
    let refs_sync = quote! {
        {
            #[allow(unused_imports)]
            use __coo::NotSync as _;
            true #(&& <__coo::SyncProbe<#shared_types>>::IS_SYNC)*
        }
    };
    let (ret, put_ret, ret_ty) = match function.ret {
        Ret::Unit => (
            quote!(__coo::ValueKind::Unit),
            quote!(<() as __coo::HotValue>::put_ret),
            quote!(()),
        ),
        Ret::Value(ty) => {
            let ty = outside_block(ty, function.owner);
            (
                quote_spanned!(ty.span()=> <#ty as __coo::HotValue>::KIND),
                quote_spanned!(ty.span()=> <#ty as __coo::HotValue>::put_ret),
                quote!(#ty),
            )
        }
        Ret::Unsupported(_) => unreachable!("`valid::check` rejects unsupported return types"),
    };

    if direct_reads.is_empty() {
        direct_reads.push(quote!(let _ = __coo_resources;));
    }
    let (alt_of, alt_name, same_signature) = match alternative {
        Some(alternative) => {
            let of = &alternative.of;
            let alt_name = alternative
                .name
                .as_ref()
                .map_or_else(|| name.clone(), |n| n.value());
            // The function it is an alternative of, coerced to this one's signature: any other
            // signature is a type error, on `alt_of`.
            let of_ident = syn::Ident::new(&of.value(), of.span());
            let tys = function.params.iter().map(|p| p.ty);
            let ret = match function.ret {
                Ret::Value(ty) => quote!(-> #ty),
                _ => quote!(),
            };
            let check = quote_spanned! {of.span()=>
                const _: fn(#(#tys),*) #ret = #of_ident;
            };
            (
                quote!(__coo::core::option::Option::Some(#of)),
                alt_name,
                check,
            )
        }
        None => (
            quote!(__coo::core::option::Option::None),
            name.clone(),
            quote!(),
        ),
    };
    let cfgs = &function.cfgs;
    let private = private_import();
    quote! {
        #(#cfgs)*
        const _: () = {
            #private

            unsafe extern "C-unwind" fn __coo_shim(
                __coo_args: *const *mut u8,
                __coo_ret: *mut u8,
                __coo_panic: *mut __coo::ForeignString,
            ) -> bool {
                #(#reads)*
                #alias_checks
                #(#ref_reads)*
                let __coo_result = __coo::catch(move || #callee(#(#args),*));
                // SAFETY: `Shim`'s contract: `__coo_ret` is valid for writes of what the
                // return type's kind receives, which its `put_ret` (the result's `Ok` type's)
                // writes, and `__coo_panic` of a `ForeignString`: `finish_call`'s contract.
                unsafe {
                    __coo::finish_call(__coo_result, #put_ret, __coo_ret, __coo_panic)
                }
            }

            /// The call both entries make, caught: one instance of `catch` for both.
            #[allow(clippy::too_many_arguments)]
            #[inline(always)]
            unsafe fn __coo_run(
                __coo_resources: *const __coo::core::sync::atomic::AtomicPtr<u8>,
                #(#direct_params,)*
            ) -> __coo::core::result::Result<#ret_ty, __coo::String> {
                #(#direct_reads)*
                __coo::catch(move || #callee(#(#args),*))
            }

            #[allow(clippy::too_many_arguments)]
            unsafe fn __coo_direct(
                __coo_resources: *const __coo::core::sync::atomic::AtomicPtr<u8>,
                #(#direct_params,)*
                __coo_panic: *mut __coo::ForeignString,
            ) -> __coo::core::option::Option<#ret_ty> {
                // SAFETY: `ErasedFn`'s contract, passed on to `__coo_run`: `__coo_resources`
                // holds the resources' pointers; and `__coo_panic` is valid for writes of a
                // `ForeignString`, `finish_direct`'s contract.
                unsafe {
                    __coo::finish_direct(__coo_run(__coo_resources, #(#direct_args),*), __coo_panic)
                }
            }

            #[allow(clippy::too_many_arguments)]
            unsafe fn __coo_raising(
                __coo_resources: *const __coo::core::sync::atomic::AtomicPtr<u8>,
                #(#direct_params,)*
            ) -> #ret_ty {
                // SAFETY: `ErasedFn`'s contract, passed on to `__coo_run`.
                match unsafe { __coo_run(__coo_resources, #(#direct_args),*) } {
                    __coo::core::result::Result::Ok(__coo_value) => __coo_value,
                    __coo::core::result::Result::Err(__coo_message) => {
                        __coo::raise_panic(__coo_message)
                    }
                }
            }

            #(#kinds)*
            const __COO_RET: __coo::ValueKind = #ret;

            static __COO_FN: __coo::FnDesc = __coo::fn_desc(
                __coo::core::module_path!(),
                #name,
                &[#(#params),*],
                __COO_RET,
                __coo_shim,
                // SAFETY: only the type is erased: `ErasedFn`'s contract has the host transmute
                // it back to this very type before calling it.
                unsafe {
                    __coo::core::mem::transmute::<
                        unsafe fn(
                            *const __coo::core::sync::atomic::AtomicPtr<u8>,
                            #(#direct_types,)*
                            *mut __coo::ForeignString,
                        ) -> __coo::core::option::Option<#ret_ty>,
                        __coo::ErasedFn,
                    >(__coo_direct)
                },
                // SAFETY: as above, for the raising entry's type.
                unsafe {
                    __coo::core::mem::transmute::<
                        unsafe fn(
                            *const __coo::core::sync::atomic::AtomicPtr<u8>,
                            #(#direct_types,)*
                        ) -> #ret_ty,
                        __coo::ErasedFn,
                    >(__coo_raising)
                },
                #refs_sync,
                #alt_of,
                #alt_name,
            );

            #same_signature

            __coo::inventory::submit! {
                __coo::FnRegistration(&__COO_FN)
            }
        };
    }
}

/// For each pair of reference parameters of which one is `&mut`: a check that the host did not
/// pass one resource for both (`valid` rejects the same type written twice, but not a type
/// alias), so that the `&mut` never aliases. Failing it is reported like a panic, after the
/// by-value arguments (`owned`, already read) are dropped, inside `catch`: the shim owns them
/// and the function never runs.
fn alias_checks(
    function: &HotFn<'_>,
    resources: &[(usize, Type, bool)],
    owned: &[proc_macro2::Ident],
) -> TokenStream {
    let mut checks = Vec::new();
    for (position, (a, a_ty, a_mut)) in resources.iter().enumerate() {
        for (b, _, b_mut) in &resources[position + 1..] {
            if !(*a_mut || *b_mut) {
                continue;
            }
            let name = |slot: usize| function.params[slot].shown_name();
            let message = format!(
                "`{}` was called with one resource as both `{}` and `{}`, and one of them is `&mut`",
                function.name(),
                name(*a),
                name(*b),
            );
            checks.push(quote! {
                // SAFETY: `Shim`'s contract: `__coo_args` holds one pointer per parameter, so
                // both slots are in bounds.
                if unsafe {
                    __coo::same_resource(
                        __coo_args,
                        #a,
                        #b,
                        __coo::core::mem::size_of::<#a_ty>(),
                    )
                } {
                    __coo::core::option::Option::Some(#message)
                } else
            });
        }
    }
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        let __coo_aliased: __coo::core::option::Option<&'static str> =
            #(#checks)* { __coo::core::option::Option::None };
        if let __coo::core::option::Option::Some(__coo_message) = __coo_aliased {
            let __coo_dropped = __coo::catch(move || {
                __coo::core::mem::drop((#(#owned,)*));
            });
            // SAFETY: `Shim`'s contract: `__coo_panic` is valid for writes of a
            // `ForeignString`.
            unsafe { __coo_panic.write(__coo::refused_call(__coo_message, __coo_dropped)) };
            return false;
        }
    }
}

/// `ty` with `Self` replaced by the impl block's type: the generated items live outside the
/// block, where `Self` means nothing.
fn outside_block(ty: &Type, owner: Option<&Type>) -> Type {
    match owner {
        Some(owner) => {
            let owner = owner_path(owner).expect("`valid::check` rejects other self types");
            replace_self(ty, owner)
        }
        None => ty.clone(),
    }
}
