//! The live state in and out of text: paths into it ([`path`]), printing it for people and
//! tools ([`show`]), reading JSON with its numbers as written ([`json`]), building values of the
//! current types from JSON ([`from_json`]), and snapshots on disk that migrate by name when
//! loaded into a newer build ([`snapshot`]), written from a [`capture`] of the state that needs
//! neither the plugin nor the live state (so it can be written on another thread), as JSON
//! or, for large states, in a compact [`binary`] format (`.coo` files).

pub mod binary;
pub mod capture;
pub mod from_json;
pub mod json;
pub mod path;
pub mod show;
pub mod snapshot;
