//! Coo's host: builds a plugin crate, loads it, runs it, and reloads it while it runs, carrying
//! the live state across layout changes.
//!
//! # Contents, in the order of a reload
//!
//! | module | what it holds | stage |
//! |---|---|---|
//! | [`watch`] | which files a plugin's build reads, and a debounced watcher of them | edit → watch |
//! | [`build`] | [`Builder`]: `cargo build` of the plugin crate, its progress, diagnostics and artifact; `cargo metadata` of it (`build::metadata`) | cargo build |
//! | [`load`] | [`Loader`]: a fresh copy of the library opened, its header checked before anything else is trusted | load |
//! | [`reload`] | [`Host`]: the live state, the current image, and the reload transaction (plan, migrate, commit or roll back) with its [`ReloadReport`]; `reload::objects`: the live trait objects `plan` says a reload re-boxes; `reload::imports`: what several plugins provide and import, the import slots bound at each commit; `reload::together`: one transaction for the plugins that share a changed crate | plan/migrate → report |
//! | [`slots`] | [`FnHandle`]s: calls through one atomic load and an indirect call; typed handles ([`HotFn`]) resolved with a Rust function type, called safely through the direct entry they keep for one epoch of the host, passing the caller's host objects (`#[host]` parameters); the release switch ([`hot_fns!`], `slots::release`: the same call sites call the plugin linked into the binary, with the `static` feature); what a reload does to each slot (planned, swapped at commit); the call path and its [`Value`]s; A/B implementations ([`Host::choose`], `slots::choice`) | swap slots → calls |
//! | [`state_io`] | paths into the state, printing it, building values from JSON, snapshots (JSON, or binary `.coo` files) | state in and out |
//! | [`embed`] | [`Coo`]: the library API for your own program: watch, build in the background, reload at the caller's safe point ([`Coo::update`]), progress as [`CooEvent`]s; or run the plugin linked into the binary ([`Coo::start_linked`], a release build); several plugins at once, calling each other ([`Plugins`]) | edit → report, non-blocking |
//! | [`cli`] | the command language (with live watches), the dev loop and start of `hot-host run`, snapshots listing, the terminal (line editing with completion from the living program) | the command line |
//!
//! The `hot-host` binary (`main.rs`) parses its arguments and calls [`cli`], whose dev loop is a
//! client of [`embed`].

pub mod build;
pub mod cli;
pub mod embed;
pub mod load;
pub mod reload;
pub mod slots;
pub mod state_io;
pub mod watch;

pub use build::{BuildError, BuildEvent, BuildOutput, Builder, Profile};
pub use embed::{Coo, CooEvent, CooOptions, PluginFn, Plugins};
pub use load::{
    ExpectedFound, Image, Kept, LoadError, LoadErrorKind, LoadedLibrary, Loader, Pinned,
};
pub use reload::{CutImport, Host, PluginConflict, ReloadError, ReloadReport, TypeLayouts};
pub use slots::{
    Alternative, AlternativeGone, CallError, CallErrorKind, FnHandle, FnRef, HostTypeChanged,
    HostTypeText, HotFn, HotSig, TypedValue, Value, ValueError,
};
pub use watch::{Change, WatchError, WatchSet, Watcher, watched_paths};
