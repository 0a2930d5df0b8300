//! Coo's runtime: layout descriptors, the state Coo owns, and transactional layout migration.
//!
//! Types describe themselves with `#[derive(CooType)]` ([`TypeDesc`]); a version's types form a
//! [`Catalog`]; live values are held in a [`State`]. When a new version of the types arrives,
//! [`diff`] compares them, [`plan`] turns the differences into a total migration plan (or
//! reports every reason there is none), and [`State::migrate`] carries it out transactionally:
//! new values are built in new storage and swapped in only when all of them succeeded.

pub mod convert;
pub mod diff;
pub mod image;
pub mod layout;
pub mod migrate;
pub mod panics;
pub mod plan;
pub mod plugin;
pub mod pool;
pub mod registry;
pub mod schema;
pub mod scratch;
pub mod state;
pub mod view;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use coo_derive::CooType;
pub use coo_derive::hot_fn;
pub use image::ImageRef;
pub use layout::{CooField, CooType, FieldDesc, Prim, Shape, ShapeKind, TypeDesc, TypeKind};
pub use migrate::{MigrateError, Report, TypeReport, ValuePath};
pub use plan::{Plan, PlanError, Problem, ProblemKind};
pub use pool::{Handle, Pool, StaleHandle};
pub use registry::{Catalog, DuplicateTypeName};
pub use schema::Schema;
pub use state::{MigrationError, Resource, State};
pub use view::{FieldView, OldValue, ViewError};
