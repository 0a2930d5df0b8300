//! Coo's runtime: layout descriptors, the state Coo owns, and transactional layout migration.
//!
//! Types describe themselves with `#[derive(CooType)]` ([`TypeDesc`]); a version's types form a
//! [`Catalog`]; live values are held in a [`State`]. When a new version of the types arrives,
//! [`diff`] compares the catalogs, [`plan`] turns the differences into a total migration plan
//! (or every reason there is none), and [`State::migrate`] carries it out transactionally.

pub mod convert;
pub mod layout;
pub mod pool;
pub mod registry;
pub mod schema;
pub mod view;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use coo_derive::CooType;
pub use layout::{CooField, CooType, FieldDesc, Prim, Shape, ShapeKind, TypeDesc, TypeKind};
pub use pool::{Handle, Pool, StaleHandle};
pub use registry::{Catalog, DuplicateTypeName};
pub use schema::Schema;
pub use view::{FieldView, OldValue, ViewError};
