//! Coo's host: builds a plugin crate with cargo ([`builder`]), loads the library it produces,
//! checking its header before trusting anything in it ([`loader`]), and runs it: calls through
//! function slots ([`slots`]) and reloads that migrate the live state ([`host`]).

pub mod build_value;
pub mod builder;
pub mod devloop;
pub mod host;
pub mod loader;
pub mod path;
pub mod repl;
pub mod show;
pub mod slots;
pub mod snapshot;
pub mod watch;

pub use builder::{BuildError, BuildOutput, Builder, Profile};
pub use host::{Host, ReloadError, ReloadReport, Value};
pub use loader::{ExpectedFound, Image, Kept, LoadError, LoadedLibrary, Loader, Pinned};
pub use slots::{CallError, FnHandle, FnRef};
pub use watch::{Change, WatchError, WatchSet, Watcher, watched_paths};
