//! The live state in and out of text: paths into it ([`path`]), printing it for people and
//! tools ([`show`]), building values of the current types from JSON ([`from_json`]), and
//! snapshots on disk that migrate by name when loaded into a newer build ([`snapshot`]).

pub mod from_json;
pub mod path;
pub mod show;
pub mod snapshot;
