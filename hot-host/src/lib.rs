//! Coo's host: builds a plugin crate with cargo ([`builder`]) and loads the library it produces,
//! checking its header before trusting anything in it ([`loader`]).

pub mod builder;
pub mod loader;
pub mod show;

pub use builder::{BuildError, BuildOutput, Builder, Profile};
pub use loader::{ExpectedFound, Kept, LoadError, LoadedLibrary, Loader};
