//! Procedural macros of Coo. Use them through `coo_runtime`, which re-exports them:
//! `use coo_runtime::{CooType, hot_fn};`.
//!
//! The derive works in four steps, one module each: `ast` reads the input into a small borrowed
//! IR, `attr` parses every `#[coo(...)]` and `#[repr(...)]` attribute (the only place that does),
//! `valid` checks the rules that span several fields or the whole type, and `expand` generates
//! code. `#[hot_fn]` has the same four steps in `hot_fn/`. Every error is collected (`errors::Errors`) and
//! reported at once, each on its own token. Both macros copy the user's types into items
//! outside the type or impl block, with `Self` replaced by the type's path (`self_type`), name
//! Coo through one path and print types for messages one way (`tokens`). `#[coo_trait]` and
//! `#[coo_impl]` (trait objects in live state) read, check and generate in `trait_objects`.

mod ast;
mod attr;
mod errors;
mod expand;
mod hot_fn;
mod literal_default;
mod self_type;
mod tokens;
mod trait_objects;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, Item, ItemImpl, ItemTrait, parse_macro_input};

/// Derives `CooType`: a layout descriptor that Coo uses to migrate values of the type when its
/// definition changes across a reload.
///
/// Works on structs (named, tuple and unit) and enums (unit, tuple and struct variants), generic
/// over types or not (lifetime and const parameters are refused). Each instantiation of a generic
/// type (`Pair<u32>`, used in a field) has its own descriptor, named with its type arguments
/// (`Pair<u32>`, nested `CooType`s by stable name); every type parameter must be a `CooField`,
/// and the host finds an instantiation through the fields that name it (a generic type is never
/// a resource of its own). Coo does not see the `Default` of a generic instantiation: a new field
/// of such a type needs `#[coo(default = ...)]`. `Rc`, `Arc`, `Cell`, `RefCell`, `Mutex`,
/// references, raw pointers, `fn` pointers and closures are refused with what to store instead.
/// Every field type must implement `CooField`: `bool`, `char`, the integers,
/// `f32`, `f64`, `String`, `[T; N]`, `Vec<T>`, `Box<T>`, `Option<T>`, tuples of up to 12,
/// `VecDeque<T>`, `HashMap<K, V>`, `HashSet<T>`, `BTreeMap<K, V>`, `BTreeSet<T>`, `Pool<T>`,
/// `Handle<T>`, or another type with `#[derive(CooType)]`, in any combination.
///
/// An enum's descriptor records its `#[repr(...)]` (`C`, `transparent`, an integer type such as
/// `u8`, `align(N)`; any other hint is refused) and every variant's discriminant, so that a
/// changed `repr` or changed discriminants rebuild live values by variant instead of keeping
/// their bytes. A struct's descriptor records its `#[repr(packed)]` / `#[repr(packed(N))]`
/// (`TypeDesc::packing`). The fields of a packed struct may be unaligned: Coo moves them as
/// bytes through aligned copies, so they must have no drop glue; a field with drop glue
/// (`String`, `Vec`, `Box`, …) fails the build on its type, saying to move it out of the packed
/// struct or to remove `packed`.
///
/// # Attributes
///
/// On the type:
/// - `#[coo(name = "Player")]`: the stable name that identifies the type across versions
///   (default: the type's identifier).
/// - `#[coo(rename_from = "Hero")]`: an earlier name of the type; repeat it for several.
/// - `#[coo(migrate = path::to::hook)]`: a hook that runs after the automatic migration of each
///   value, with the signature
///   `fn(&coo_runtime::ValueView<'_>, &mut Self) -> Result<(), E> where E: Display`.
///
/// On a field:
/// - `#[coo(default = EXPR)]`: the value of the field when it is new in this version (struct
///   fields only).
/// - `#[coo(rename_from = "hp")]`: an earlier name of the field; repeat it for several.
/// - `#[coo(opaque)]`: a field of a foreign type Coo cannot describe (`std::time::Duration`, a
///   math crate's vector), which must implement `Debug`: known by its Rust type name, size and
///   alignment, moved bitwise while they stay the same, refused when they change unless the
///   type's migration hook builds the field; a new one takes its type's `Default`.
/// - `#[coo(opaque, serde)]`: as `opaque`, and snapshots (and `set`) hold the value through its
///   `Serialize` and `Deserialize` as JSON (needs `coo-runtime`'s `serde` feature); a snapshot of
///   a state with an opaque field without `serde` is refused, naming the field.
///
/// On an enum variant:
/// - `#[coo(rename_from = "Walking")]`: an earlier name of the variant; repeat it for several.
///
/// ```ignore
/// use coo_runtime::{CooType, ValueView};
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
/// fn heal(old: &ValueView<'_>, new: &mut Player) -> Result<(), String> {
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

/// Registers a function as a hot-function slot: the host finds it in the plugin's manifest by
/// its path in the crate (`tick`, `sim::tick`, `World::step`) and calls it through a generated
/// shim, which catches a panic inside the plugin and reports it to the host. The function itself
/// stays as written and can be called directly.
///
/// Parameters can be primitives, `String` and `CooType` values (moved in), `&str`, and `&T` or
/// `&mut T` of a `CooType` `T`: the live resource of `T` that Coo holds. The return type can be
/// `()`, a primitive, `String` or a `CooType` value. Functions cannot be generic, `async`,
/// `unsafe` or `extern`, and parameters need plain names.
///
/// A parameter marked `#[host]` (`#[host] canvas: &mut Canvas`, `#[host] shape: &dyn Shape`) is
/// an object of the calling program's, of a type both depend on: a typed handle passes it as the
/// reference it is (see `coo_runtime::plugin::HostObject`).
///
/// A free function marked `#[hot_fn(alt_of = "change", name = "plus10")]` is an *alternative
/// implementation* of the hot function `change` of the same module (A/B): it gets no slot of
/// its own, and the host makes `change`'s slot run it when chosen by `name` (`Host::choose`,
/// the REPL's `use change plus10`; `name` defaults to the function's name, and `change`'s own
/// code is chosen as `change`). Its signature must be `change`'s: the macro makes any other a
/// type error on `alt_of`.
///
/// On a method, put `#[hot_fn]` on the inherent `impl` block as well: the block's attribute
/// registers the methods marked `#[hot_fn]`, or when none is marked, every `pub` function of
/// the block. `&self`, `&mut self` and `self` receive the resource of the type, or its value.
/// (An associated function marked `#[hot_fn]` in a block without the attribute is reported when
/// its signature has `self` or `Self`; without either, it looks like a free function to the
/// macro, and the compiler reports that a `const` item in an impl block needs a name.)
///
/// ```ignore
/// use coo_runtime::{CooType, hot_fn};
///
/// #[derive(CooType)]
/// pub struct World {
///     frame: u32,
/// }
///
/// #[hot_fn]
/// fn tick(world: &mut World, dt: f32) -> u32 {
///     world.frame += 1;
///     world.frame
/// }
///
/// #[hot_fn]
/// impl World {
///     #[hot_fn]
///     fn frame(&self) -> u32 {
///         self.frame
///     }
///
///     fn helper(&self) {}
/// }
/// ```
#[proc_macro_attribute]
pub fn hot_fn(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = match syn::parse::<Item>(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            // Not an item: keep the input, so the compiler reports what it makes of it.
            let mut tokens = error.to_compile_error();
            tokens.extend(proc_macro2::TokenStream::from(input));
            return tokens.into();
        }
    };
    hot_fn::expand::hot_fn(&args, &item)
        .unwrap_or_else(|error| {
            let mut tokens = error.to_compile_error();
            tokens.extend(hot_fn::expand::fallback(&item));
            tokens
        })
        .into()
}

/// Marks a trait whose objects can be live state: `Box<dyn Trait>` (and `Vec<Box<dyn Trait>>`,
/// `Option<Box<dyn Trait>>`, map values, …) becomes a field type. Each impl whose objects are
/// kept must be marked `#[coo_impl]`, for a `CooType`. On reload every live object is migrated as
/// its concrete type and re-boxed by the new version's impl, so a changed method body changes
/// the behaviour of existing objects.
///
/// The trait must be object-safe and not generic. The macro adds a hidden required method that
/// `#[coo_impl]` fills: an impl without `#[coo_impl]` is refused as missing
/// `__coo_mark_the_impl_with_coo_impl`.
///
/// ```ignore
/// use coo_runtime::{CooType, coo_impl, coo_trait};
///
/// #[coo_trait]
/// pub trait Vehicle {
///     fn speed(&self) -> f32;
/// }
///
/// #[derive(CooType)]
/// pub struct Bicycle { gear: u8 }
///
/// #[coo_impl]
/// impl Vehicle for Bicycle {
///     fn speed(&self) -> f32 { 4.0 * self.gear as f32 }
/// }
/// ```
#[proc_macro_attribute]
pub fn coo_trait(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = parse_macro_input!(input as ItemTrait);
    trait_objects::coo_trait(&args, &item)
        .unwrap_or_else(|error| {
            let mut tokens = error.to_compile_error();
            tokens.extend(quote::ToTokens::to_token_stream(&item));
            tokens
        })
        .into()
}

/// Marks an impl of a `#[coo_trait]` trait for a `CooType`: its objects can be live state (see
/// [`macro@coo_trait`]). `#[coo_impl(from(Bicycle))]` also registers the user's
/// `impl From<&Bicycle> for ThisType`, through which a live `Bicycle` object can be switched to
/// this type (`convert World.vehicles[0] Motorcycle` in the REPL): the old object is read, never
/// reinterpreted, and is dropped only once the conversion succeeded.
#[proc_macro_attribute]
pub fn coo_impl(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = parse_macro_input!(input as ItemImpl);
    trait_objects::coo_impl(&args, &item)
        .unwrap_or_else(|error| {
            let mut tokens = error.to_compile_error();
            tokens.extend(quote::ToTokens::to_token_stream(&item));
            tokens
        })
        .into()
}
