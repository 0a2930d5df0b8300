//! What a version's types are: the layout descriptors that `#[derive(CooType)]` emits
//! ([`layout`], implemented for the standard types in [`std_fields`], for tuples and the
//! standard collections in [`collections`], for `Box<dyn Trait>` in [`trait_objects`]), the set of them one build
//! holds ([`registry`]), the names of generic types' instantiations ([`generics`]), foreign field types ([`opaque`]), owned copies that outlive the code that defined them ([`schema`]), and
//! the one rule of which new type, field or variant continues which old one ([`matching`]).

pub mod collections;
pub mod generics;
pub mod layout;
pub mod matching;
pub mod opaque;
pub mod registry;
pub mod schema;
pub mod std_fields;
pub mod trait_objects;
