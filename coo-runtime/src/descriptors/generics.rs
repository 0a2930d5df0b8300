//! Instantiations of generic `CooType`s (`struct Pair<T> { lo: T, hi: T }` used as `Pair<u32>`):
//! the name each instantiation's descriptor answers to, and which new instantiation continues
//! which old one.
//!
//! An instantiation's name is its type's stable name with its type arguments written as
//! [`shape_text`] writes field types: nested `CooType`s by their stable names, never by Rust path
//! (`Pair<u32>`, `Pair<Vec<Enemy>>`, `Pair<Pair<u8>>`, `Map<String, (u8, f32)>`). It is the same in
//! every build for the same arguments, whatever module the types live in, so it is the identity
//! the catalog and the matcher use, like a non-generic type's stable name.
//!
//! Rust has no generic `static`, and a `const` may not refer to a cache, so the name is made the
//! first time it is asked for and kept for the life of the process in a table of the library
//! that defines the type (one small string per instantiation and loaded library, never freed).
//!
//! Continuing: an instantiation continues an old one when its type continues the old one's type
//! by [`crate::descriptors::matching`]'s rule applied to the *type's* names (`Pair` and its
//! `rename_from` names) and both have as many type arguments; the arguments themselves may
//! change (`Pair<u32>` → `Pair<u64>`): the values migrate field by field, as any struct's.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::descriptors::layout::{Shape, ShapeLink, TypeDesc, shape_text};
use crate::descriptors::matching::{self, Continuing, ItemKind};

/// The type arguments of a generic instantiation, and its name.
#[derive(Debug)]
pub struct GenericArgs {
    pub(in crate::descriptors) name: fn() -> &'static str,
    pub(in crate::descriptors) args: &'static [ShapeLink],
}

impl GenericArgs {
    /// The instantiation's name: `Pair<u32>`.
    pub fn name(&self) -> &str {
        (self.name)()
    }

    /// The shapes of the type arguments, in order.
    pub fn args(&self) -> &[ShapeLink] {
        self.args
    }
}

/// The names made so far, by the instantiation's `TypeId`.
static NAMES: Mutex<BTreeMap<TypeId, &'static str>> = Mutex::new(BTreeMap::new());

/// The name of instantiation `T` of the type whose stable name is `base`, with type arguments
/// of the shapes `args`: made once (see the module documentation).
pub fn instance_name<T: 'static>(base: &str, args: &[fn() -> &'static Shape]) -> &'static str {
    let id = TypeId::of::<T>();
    if let Some(name) = NAMES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        return name;
    }
    // Made outside the lock: an argument's text may ask for the name of another instantiation.
    let texts: Vec<String> = args.iter().map(|arg| shape_text(arg())).collect();
    let made = format!("{base}<{}>", texts.join(", "));
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    names
        .entry(id)
        .or_insert_with(|| Box::leak(made.into_boxed_str()))
}

/// A type's own names, without its type arguments (`Pair`, earlier `Duo`), for the matcher.
struct TypeNames<'a>(&'a TypeDesc);

impl Continuing for TypeNames<'_> {
    fn name(&self) -> &str {
        self.0.base_name()
    }
    fn rename_from(&self) -> &[&str] {
        self.0.rename_from()
    }
}

/// Whether `new` continues `old` as an instantiation of a generic type (see the module
/// documentation): `None` when neither is generic (the caller asks the catalog by name), else
/// `Some` of the verdict. A type that became generic (`Pair` → `Pair<u32>`) continues its
/// non-generic past the same way, and the reverse.
pub fn continues_generic(old: &TypeDesc, new: &TypeDesc) -> Option<bool> {
    let (old_args, new_args) = (old.generic_args(), new.generic_args());
    if old_args.is_none() && new_args.is_none() {
        return None;
    }
    let arity = |args: Option<&GenericArgs>| args.map_or(0, |a| a.args().len());
    if arity(old_args) != arity(new_args) && old_args.is_some() && new_args.is_some() {
        return Some(false);
    }
    let new = [TypeNames(new)];
    Some(matches!(
        matching::successor(ItemKind::Type, old.base_name(), &new),
        Ok(Some(0))
    ))
}
