//! Coo's runtime: layout descriptors, the state Coo owns, and transactional layout migration.
//!
//! # Contents, in the order of a reload
//!
//! | module | what it holds | where it sits in the flow |
//! |---|---|---|
//! | [`descriptors`] | [`TypeDesc`] and [`Shape`] (what `#[derive(CooType)]` emits; the standard types' in `std_fields` and `collections`, `Box<dyn Trait>`'s in `trait_objects`; generic instantiations' names in `generics`; `#[coo(opaque)]` foreign types in `opaque`), the [`Catalog`] of one build's types, owned [`Schema`] copies, and [`matching`](descriptors::matching): the one rule of which new type, field or variant continues which old one | what each version *is* |
//! | [`plugin`] | the header and manifest every plugin exports, hot-function shims and their parameter kinds (host objects: `HostType`, `host_trait!`), calls across plugins (`plugin::imports`: `import!`, import slots), [`ImageRef`] guards of loaded images, panic catching at the boundary | how a host reads a plugin |
//! | [`storage`] | the [`State`] of live resources, [`Pool`]s and [`Handle`]s, read-only [`FieldView`]s, scratch and raw memory (with the aligned copies through which fields of `#[repr(packed)]` structs are seen) | the values that survive reloads |
//! | [`migration`] | [`diff`](migration::diff) (typed) → [`plan`](migration::plan), made by the [`planner`](migration::planner) or refused with every [`problem`](migration::problem) → [`execute`](migration::execute), and primitive [`casts`](migration::casts) | carrying the values to the new types |
//!
//! Types describe themselves with `#[derive(CooType)]`; a version's types form a [`Catalog`];
//! live values are held in a [`State`]. When a new version of the types arrives,
//! [`migration::diff`] compares them, [`migration::plan`] turns the differences into a total
//! migration plan (or reports every reason there is none), and [`State::migrate`] carries it out
//! transactionally: new values are built in new storage and swapped in only when all of them
//! succeeded.
//!
//! What only the code that `coo-derive` generates may touch lives in `__private`, which is not
//! part of the public API.

pub mod descriptors;
pub mod migration;
pub mod plugin;
pub mod storage;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use coo_derive::CooType;
pub use coo_derive::hot_fn;
pub use coo_derive::{coo_impl, coo_trait};
pub use descriptors::layout::{
    CooField, CooType, FieldDesc, Prim, Shape, ShapeKind, TypeDesc, TypeKind,
};
pub use descriptors::registry::{Catalog, DuplicateTypeName};
pub use descriptors::schema::Schema;
pub use migration::execute::{
    DefaultPanicked, ExecuteError, ExecuteErrorKind, Report, TypeReport, ValuePath,
};
pub use migration::plan::{Plan, PlanError, Problem, ProblemKind};
pub use plugin::image::ImageRef;
pub use storage::pool::{Handle, Pool, StaleHandle};
pub use storage::state::{MigrationError, Resource, State};
pub use storage::view::{FieldView, ValueView, ViewError};
