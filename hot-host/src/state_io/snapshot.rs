//! Snapshots: the live state saved as JSON, and loaded back into the types of the current build,
//! migrating by name as a reload does.
//!
//! # Format
//!
//! ```text
//! {"coo_snapshot":1,
//!  "plugin":{"package":"demo","manifest":"/src/demo/Cargo.toml"},
//!  "run":{"supersedes":true,"ended":false},
//!  "types":{"World":{"name":"World","rust_name":"demo::World","rename_from":[],"kind":"struct",
//!           "style":"named","size":48,"align":8,"has_default":false,"has_hook":false,
//!           "fields":[{"name":"pos","type":"Vec2","offset":0,"rename_from":[],"has_default":false}]},
//!           "Phase":{…,"kind":"enum",…,"repr":{"c":false,"transparent":false,"int":"u8","align":null},
//!                    "variants":[{"name":"Idle","discriminant":0,"style":"unit","rename_from":[],"fields":[]}]}},
//!  "vacant_slots":{"World.units":[[1,3]]},
//!  "state":{"World":{…}}}
//! ```
//!
//! - `coo_snapshot` is the format version, 1.
//! - `plugin` (optional: the dev loop and its `save` command write it, [`save`] does not) says
//!   which plugin the state is of:
//!   `{"package":"demo-plugin","manifest":"/src/demo-plugin/Cargo.toml"}` ([`PluginId`]).
//!   [`load_for`] (`--restore`, and the `load` command of `hot-host run`) refuses a snapshot of
//!   another package; the manifest is only shown.
//! - `run` (optional, with `plugin`; the dev loop's own snapshots only, not `save`'s) says how
//!   the run of the dev loop that saved it stands ([`RunInfo`]):
//!   `{"supersedes":true,"ended":false}`.
//! - `types` holds the layout of every type the state reaches ([`coo_runtime::descriptors::schema`]'s
//!   [`TypeLayout`]s, keyed by stable name; field types as text, nested types by stable name),
//!   so a snapshot says what it was saved from after that code is gone. Loading reads it to
//!   convert each number from the type it was saved as (an `f32`'s `0.1` widens to an `f64` as
//!   `0.1f32` does, an `f64`'s `0.1` does not fit an `f32`), and returns it in
//!   [`LoadReport::saved`]. A snapshot without `types` still loads; its floats are then rounded
//!   to their fields' types. It is written and read by serde (coo-runtime's `serde` feature on
//!   [`Schema`]), in the same form as the hand-written code before it wrote, byte for byte, so
//!   snapshots of either read in both.
//! - `vacant_slots` lists, for every pool with vacant slots, by its path (as in
//!   [`crate::state_io::path`]: `World.units`, `Game.phase.Running.zones[2].units`), each vacant slot as
//!   `[index, generation]`. `state_json` prints only occupied slots; with these, a loaded pool
//!   has its slots and generations exactly, so handles that were stale stay stale and new
//!   handles do not collide with old ones. (The order in which a pool reuses vacant slots is not
//!   kept: a loaded pool reuses them from the highest index down.)
//! - `state` is exactly [`crate::state_io::show::state_json`] of the state.
//!
//! # Writing
//!
//! [`save`] and its kin write a snapshot from a [`crate::state_io::capture::Capture`] of the
//! state: the values copied out as bytes with their layouts, then formatted without the plugin
//! (the dev loop formats and writes on a thread of its own). The text is the same, byte for
//! byte, as the state's own printers give.
//!
//! # Loading
//!
//! [`load`] builds new values of the *current* types from the JSON, with the current build's
//! glue, by the rules of [`crate::state_io::from_json`] in [`Mode::Migrate`]: each resource
//! `"Name": value` becomes a value of the type named `Name` (or the one whose `rename_from`
//! says `Name`); fields are matched by name, then `rename_from`; missing fields take their
//! default (reported as added) or are an error saying what to add; extra fields are dropped (and
//! reported); numbers convert exactly; variants go by name, then `rename_from`. On any error
//! nothing is kept: every value built so far is dropped with the current glue, and the caller's
//! state is untouched (loading returns a new [`State`] for the caller to swap in).

use core::fmt::Write as _;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use coo_runtime::descriptors::layout::{Shape, ShapeKind, TypeDesc, TypeKind};
use coo_runtime::descriptors::matching::MatchConflict;
use coo_runtime::migration::execute::{Seg, ValuePath};

use crate::state_io::from_json::list;
use coo_runtime::descriptors::schema::{Schema, TypeLayout};
use coo_runtime::{Catalog, FieldView, State, ValueView};

use crate::state_io::binary::Format;
use crate::state_io::capture::{Capture, CaptureError};
use crate::state_io::from_json::{
    Mode, TypeValueReport, VacantSlots, ValueBuilder, ValueError, build_state,
};
use crate::state_io::json::{JsonError, JsonValue};

/// The snapshot format this host writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Why a snapshot could not be loaded. Nothing was kept of what was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot is not valid JSON: {0}")]
    Json(#[from] JsonError),
    #[error("not a Coo snapshot: {0}")]
    Format(String),
    #[error("the snapshot has format version {found}; this host reads version {FORMAT_VERSION}")]
    Version { found: String },
    #[error(
        "the snapshot was saved from the plugin `{saved}` (at {saved_manifest}), not from `{current}`; \
         restore a snapshot of `{current}` (`hot-host snapshots <PLUGIN_DIR>` lists them), \
         or start without `--restore`"
    )]
    OtherPlugin {
        saved: String,
        saved_manifest: String,
        current: String,
    },
    #[error(
        "the snapshot has a resource `{name}`, but no type of the current build is named `{name}` \
         or says `#[coo(rename_from = \"{name}\")]`; the build's types are {}",
        list(.types)
    )]
    UnknownType { name: String, types: Vec<String> },
    #[error("the snapshot's resource `{name}` cannot be loaded: {conflict}")]
    AmbiguousType {
        name: String,
        conflict: MatchConflict,
    },
    #[error(
        "the snapshot's resources `{first}` and `{second}` would both become the resource of type `{ty}`; \
         remove one from the snapshot"
    )]
    DuplicateResource {
        ty: String,
        first: String,
        second: String,
    },
    #[error("the snapshot cannot be loaded into the current types: {0}")]
    Value(#[from] ValueError),
    #[error("{0}")]
    Binary(#[from] crate::state_io::binary::BinaryError),
}

/// What loading a snapshot did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Each resource loaded: its name in the snapshot and its current type's name (they differ
    /// when the type was renamed).
    pub resources: Vec<(String, String)>,
    /// Per type (current stable name): values built, fields added with their default, fields
    /// dropped, members taken through `rename_from`.
    pub types: BTreeMap<String, TypeValueReport>,
    /// Elements of fixed-size arrays the snapshot lacked, filled with their default.
    pub elements_filled: u64,
    /// The layouts the snapshot was saved from (its `types`).
    pub saved: Schema,
}

impl LoadReport {
    /// The report of the type with this (current) stable name.
    pub fn ty(&self, name: &str) -> Option<&TypeValueReport> {
        self.types.get(name)
    }

    /// Whether the snapshot matched the current types exactly (nothing added, dropped, renamed
    /// or filled).
    pub fn is_exact(&self) -> bool {
        self.elements_filled == 0
            && self.resources.iter().all(|(from, to)| from == to)
            && self
                .types
                .values()
                .all(|t| t.added.is_empty() && t.dropped.is_empty() && t.renamed.is_empty())
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.resources.len();
        write!(f, "loaded {n} resource{}:", if n == 1 { "" } else { "s" })?;
        for (from, to) in &self.resources {
            if from == to {
                write!(f, " {to}")?;
            } else {
                write!(f, " {to} (from {from})")?;
            }
        }
        writeln!(f)?;
        let report = crate::state_io::from_json::ValueReport {
            types: self.types.clone(),
            elements_filled: self.elements_filled,
        };
        write!(f, "{report}")
    }
}

/// The state as a snapshot (see the [module documentation](self) for the format); refused when
/// the state holds a value Coo cannot write (an opaque field without serde).
pub fn save(state: &State) -> Result<String, CaptureError> {
    save_with(state, None)
}

/// The state as a snapshot of `plugin` (as the `save` command writes it): [`load_for`] refuses
/// it in another plugin.
pub fn save_of(state: &State, plugin: &PluginId) -> Result<String, CaptureError> {
    save_with(state, Some((plugin, None)))
}

/// The state as a snapshot of `plugin` saved by a run of the dev loop: [`load_for`] refuses it
/// in another plugin, and `run` says whether `--restore` picks it by default.
pub fn save_for(state: &State, plugin: &PluginId, run: RunInfo) -> Result<String, CaptureError> {
    save_with(state, Some((plugin, Some(run))))
}

fn save_with(
    state: &State,
    header: Option<(&PluginId, Option<RunInfo>)>,
) -> Result<String, CaptureError> {
    let header = Header {
        plugin: header.map(|(plugin, _)| plugin.clone()),
        run: header.and_then(|(_, run)| run),
    };
    Ok(Capture::of(state)?.snapshot_json(&header))
}

mod files;
mod format;
mod types;
mod vacant;

pub use format::{FileHead, encode, json_resources, load_bytes, read_head, size_and_time};

pub use files::{SaveError, SnapshotDir, write_replacing};
pub use types::schema_of;
pub use vacant::vacant_slots;

use types::saved_types;
pub(crate) use vacant::parse_vacant;
pub(crate) use vacant::vacant_json;

/// A JSON string, escaped as serde_json does: `"` and `\\`, the short escapes `\\b \\t \\n \\f \\r`,
/// other control characters as `\\u00XX`; everything else as is.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `i` is a char boundary.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Loads a snapshot into new values of the types of `catalog` (the current build). See the
/// [module documentation](self) for the rules. The caller swaps the returned state in.
pub fn load(text: &str, catalog: &Catalog) -> Result<(State, LoadReport), SnapshotError> {
    // Saved by the current build: read by its layouts straight into a capture, and built from
    // it as a binary snapshot is (the same values, faster); anything else by the rules below.
    let current = |schema: &Schema| crate::state_io::binary::layouts_are_current(schema, catalog);
    if let Some(capture) = Capture::from_snapshot_json(text, current)
        && let Some(loaded) = crate::state_io::binary::direct(
            &capture.schema,
            &capture.resources,
            &capture.bytes,
            catalog,
        )
    {
        return Ok(loaded);
    }
    let json = JsonValue::parse(text)?;
    if !matches!(json, JsonValue::Object(_)) {
        return Err(SnapshotError::Format(format!(
            "the snapshot is {}, not an object",
            json.kind()
        )));
    }
    match json.get("coo_snapshot") {
        Some(JsonValue::Number(n)) if n == &FORMAT_VERSION.to_string() => {}
        Some(JsonValue::Number(n)) => return Err(SnapshotError::Version { found: n.clone() }),
        Some(other) => {
            return Err(SnapshotError::Format(format!(
                "`coo_snapshot` is {}, not a version number",
                other.kind()
            )));
        }
        None => {
            return Err(SnapshotError::Format(
                "it has no `coo_snapshot` member".to_owned(),
            ));
        }
    }
    let Some(JsonValue::Object(resources)) = json.get("state") else {
        return Err(SnapshotError::Format("it has no `state` object".to_owned()));
    };
    let vacant = parse_vacant(json.get("vacant_slots"))?;
    let saved = saved_types(text)?;
    let mut targets = Vec::with_capacity(resources.len());
    let mut taken: BTreeMap<&str, &str> = BTreeMap::new();
    let mut names = Vec::with_capacity(resources.len());
    for (name, value) in resources {
        let desc = successor(catalog, name)?;
        if let Some(first) = taken.insert(desc.name(), name) {
            return Err(SnapshotError::DuplicateResource {
                ty: desc.name().to_owned(),
                first: first.to_owned(),
                second: name.clone(),
            });
        }
        names.push((name.clone(), desc.name().to_owned()));
        targets.push((desc, name.as_str(), value));
    }
    let mut builder = ValueBuilder::new(Mode::Migrate)
        .with_vacant_slots(&vacant)
        .with_saved_types(&saved);
    // SAFETY: every type of `targets` was read from `catalog`, whose guard this is.
    let state = unsafe { build_state(&mut builder, catalog.image(), targets) }?;
    let report = builder.into_report();
    Ok((
        state,
        LoadReport {
            resources: names,
            types: report.types,
            elements_filled: report.elements_filled,
            saved,
        },
    ))
}

/// The type of the current build that continues the snapshot's type `name`.
fn successor<'c>(catalog: &'c Catalog, name: &str) -> Result<&'c TypeDesc, SnapshotError> {
    match catalog.successor(name) {
        Ok(Some(desc)) => Ok(desc),
        Ok(None) => Err(SnapshotError::UnknownType {
            name: name.to_owned(),
            types: catalog.iter().map(|d| d.name().to_owned()).collect(),
        }),
        Err(conflict) => Err(SnapshotError::AmbiguousType {
            name: name.to_owned(),
            conflict,
        }),
    }
}

// ------------------------------------------------------------------ plugin identity and files

/// Which plugin a snapshot is of, recorded in its `plugin` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginId {
    /// The plugin's cargo package name: what [`load_for`] checks.
    pub package: String,
    /// The plugin's `Cargo.toml` where the snapshot was saved, for messages (a plugin directory
    /// may move or be copied: that alone does not make it another plugin).
    pub manifest: String,
}

impl PluginId {
    pub(crate) fn json(&self, out: &mut String) {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let _ = write!(
            out,
            r#"{{"package":{},"manifest":{}}}"#,
            text(&self.package),
            text(&self.manifest)
        );
    }
}

/// How the run of the dev loop that saved a snapshot stands, recorded in its `run` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunInfo {
    /// Whether this snapshot replaces the older ones as the one `--restore` picks by default.
    /// A run started without `--restore` while the default snapshot was left by a run that did
    /// not end (a crash, never restored) does not, even when it ends: starting the host without
    /// `--restore` (and quitting it to start it again with `--restore`) must not make the
    /// crashed run's state lost. Restoring it, or another snapshot named with
    /// `--restore=FILE`, is what supersedes it.
    pub supersedes: bool,
    /// Whether the run ended (`quit`, end of input) and saved this at exit.
    pub ended: bool,
}

/// The header of a snapshot: which plugin it is of and how its run stands; `None`s for a
/// snapshot without them ([`save`] writes neither, [`save_of`] no `run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub plugin: Option<PluginId>,
    pub run: Option<RunInfo>,
}

/// The header of a snapshot (the whole text is parsed: a snapshot that is not JSON is an error).
pub fn header_of(text: &str) -> Result<Header, SnapshotError> {
    let json = JsonValue::parse(text)?;
    let plugin = match json.get("plugin") {
        None => None,
        Some(plugin) => {
            let member = |key: &str| match plugin.get(key) {
                Some(JsonValue::String(s)) => Ok(s.clone()),
                _ => Err(SnapshotError::Format(format!(
                    "its `plugin` has no string `{key}`"
                ))),
            };
            Some(PluginId {
                package: member("package")?,
                manifest: member("manifest")?,
            })
        }
    };
    let run = match json.get("run") {
        None => None,
        Some(run) => {
            let flag = |key: &str| match run.get(key) {
                Some(JsonValue::Bool(b)) => Ok(*b),
                _ => Err(SnapshotError::Format(format!(
                    "its `run` has no boolean `{key}`"
                ))),
            };
            Some(RunInfo {
                supersedes: flag("supersedes")?,
                ended: flag("ended")?,
            })
        }
    };
    Ok(Header { plugin, run })
}

/// [`load`], after checking that the snapshot is of `plugin` (or says of no plugin): a
/// snapshot of another package is [`SnapshotError::OtherPlugin`].
pub fn load_for(
    text: &str,
    catalog: &Catalog,
    plugin: &PluginId,
) -> Result<(State, LoadReport), SnapshotError> {
    // The header from the leading members only (the values are read once, by `load`); when
    // they cannot be read, the whole text says why.
    let header = match format::json_head(text.as_bytes()) {
        Ok(header) => header,
        Err(_) => header_of(text)?,
    };
    if let Some(saved) = header.plugin
        && saved.package != plugin.package
    {
        return Err(SnapshotError::OtherPlugin {
            saved: saved.package,
            saved_manifest: saved.manifest,
            current: plugin.package.clone(),
        });
    }
    load(text, catalog)
}
