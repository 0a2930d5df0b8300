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
//!   to their fields' types.
//! - `vacant_slots` lists, for every pool with vacant slots, by its path (as in
//!   [`crate::state_io::path`]: `World.units`, `Game.phase.Running.zones[2].units`), each vacant slot as
//!   `[index, generation]`. `state_json` prints only occupied slots; with these, a loaded pool
//!   has its slots and generations exactly, so handles that were stale stay stale and new
//!   handles do not collide with old ones. (The order in which a pool reuses vacant slots is not
//!   kept: a loaded pool reuses them from the highest index down.)
//! - `state` is exactly [`crate::state_io::show::state_json`] of the state.
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

use coo_runtime::descriptors::layout::{
    EnumRepr, FieldsStyle, Prim, Shape, ShapeKind, TypeDesc, TypeKind,
};
use coo_runtime::descriptors::matching::MatchConflict;
use coo_runtime::migration::execute::{Seg, ValuePath};

use crate::state_io::from_json::list;
use coo_runtime::descriptors::schema::{
    FieldLayout, LayoutKind, Schema, TyLayout, TypeLayout, VariantLayout,
};
use coo_runtime::{Catalog, FieldView, OldValue, State};

use crate::state_io::from_json::{
    BuildError, Builder, Json, JsonError, Mode, TypeReport, VacantSlots, build_state,
};
use crate::state_io::show;

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
    Build(#[from] BuildError),
}

/// What loading a snapshot did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Each resource loaded: its name in the snapshot and its current type's name (they differ
    /// when the type was renamed).
    pub resources: Vec<(String, String)>,
    /// Per type (current stable name): values built, fields added with their default, fields
    /// dropped, members taken through `rename_from`.
    pub types: BTreeMap<String, TypeReport>,
    /// Elements of fixed-size arrays the snapshot lacked, filled with their default.
    pub elements_filled: u64,
    /// The layouts the snapshot was saved from (its `types`).
    pub saved: Schema,
}

impl LoadReport {
    /// The report of the type with this (current) stable name.
    pub fn ty(&self, name: &str) -> Option<&TypeReport> {
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
        let report = crate::state_io::from_json::Report {
            types: self.types.clone(),
            elements_filled: self.elements_filled,
        };
        write!(f, "{report}")
    }
}

/// The state as a snapshot (see the [module documentation](self) for the format).
pub fn save(state: &State) -> String {
    save_with(state, None)
}

/// The state as a snapshot of `plugin` (as the `save` command writes it): [`load_for`] refuses
/// it in another plugin.
pub fn save_of(state: &State, plugin: &PluginId) -> String {
    save_with(state, Some((plugin, None)))
}

/// The state as a snapshot of `plugin` saved by a run of the dev loop: [`load_for`] refuses it
/// in another plugin, and `run` says whether `--restore` picks it by default.
pub fn save_for(state: &State, plugin: &PluginId, run: RunInfo) -> String {
    save_with(state, Some((plugin, Some(run))))
}

fn save_with(state: &State, header: Option<(&PluginId, Option<RunInfo>)>) -> String {
    let schema = schema_of(state);
    let mut out = String::new();
    let _ = write!(out, r#"{{"coo_snapshot":{FORMAT_VERSION},"#);
    if let Some((plugin, run)) = header {
        out.push_str(r#""plugin":"#);
        plugin.json(&mut out);
        out.push(',');
        if let Some(run) = run {
            let _ = write!(
                out,
                r#""run":{{"supersedes":{},"ended":{}}},"#,
                run.supersedes, run.ended
            );
        }
    }
    out.push_str(r#""types":"#);
    types_json(&mut out, &schema);
    out.push_str(r#","vacant_slots":"#);
    vacant_json(&mut out, &vacant_slots(state));
    out.push_str(r#","state":"#);
    out.push_str(&show::state_json(state));
    out.push('}');
    out
}

/// The layouts of every type the state's resources reach, by stable name.
pub fn schema_of(state: &State) -> Schema {
    let mut descs: BTreeMap<&'static str, &'static TypeDesc> = BTreeMap::new();
    let mut stack = state.descs();
    while let Some(desc) = stack.pop() {
        if descs.insert(desc.name, desc).is_some() {
            continue;
        }
        for_each_field_shape(desc, &mut |shape| nested_types(shape, &mut stack));
    }
    Schema {
        types: descs
            .into_iter()
            .map(|(name, desc)| (name.to_owned(), TypeLayout::from_desc(desc)))
            .collect(),
    }
}

fn for_each_field_shape(desc: &TypeDesc, f: &mut dyn FnMut(&'static Shape)) {
    match &desc.kind {
        TypeKind::Struct(s) => s.fields.iter().for_each(|field| f((field.shape)())),
        TypeKind::Enum(e) => e
            .variants
            .iter()
            .flat_map(|v| v.fields)
            .for_each(|field| f((field.shape)())),
    }
}

fn nested_types(shape: &'static Shape, out: &mut Vec<&'static TypeDesc>) {
    match &shape.kind {
        ShapeKind::Prim(_) | ShapeKind::String(_) => {}
        ShapeKind::Array { elem, .. }
        | ShapeKind::Vec { elem, .. }
        | ShapeKind::Box { elem, .. }
        | ShapeKind::Option { elem, .. }
        | ShapeKind::Pool { elem, .. } => nested_types(elem(), out),
        ShapeKind::Handle { target } => out.push(target()),
        ShapeKind::Named(desc) => out.push(desc()),
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string always serializes"));
}

fn json_strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, item);
    }
    out.push(']');
}

fn style_name(style: FieldsStyle) -> &'static str {
    match style {
        FieldsStyle::Named => "named",
        FieldsStyle::Tuple => "tuple",
        FieldsStyle::Unit => "unit",
    }
}

/// The `types` object of a snapshot.
fn types_json(out: &mut String, schema: &Schema) {
    out.push('{');
    for (i, (name, t)) in schema.types.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, name);
        out.push(':');
        type_json(out, t);
    }
    out.push('}');
}

fn type_json(out: &mut String, t: &TypeLayout) {
    out.push_str(r#"{"name":"#);
    json_string(out, &t.name);
    out.push_str(r#","rust_name":"#);
    json_string(out, &t.rust_name);
    out.push_str(r#","rename_from":"#);
    json_strings(out, &t.rename_from);
    match &t.kind {
        LayoutKind::Struct { style, fields } => {
            let _ = write!(out, r#","kind":"struct","style":"{}""#, style_name(*style));
            type_sizes(out, t);
            out.push_str(r#","fields":"#);
            fields_json(out, fields);
        }
        LayoutKind::Enum { repr, variants } => {
            out.push_str(r#","kind":"enum""#);
            type_sizes(out, t);
            repr_json(out, repr);
            out.push_str(r#","variants":["#);
            for (i, v) in variants.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"name":"#);
                json_string(out, &v.name);
                let _ = write!(
                    out,
                    r#","discriminant":{},"style":"{}","rename_from":"#,
                    v.discriminant,
                    style_name(v.style)
                );
                json_strings(out, &v.rename_from);
                out.push_str(r#","fields":"#);
                fields_json(out, &v.fields);
                out.push('}');
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// `,"repr":{"c":false,"transparent":false,"int":"u8","align":null}`
fn repr_json(out: &mut String, repr: &EnumRepr) {
    let _ = write!(
        out,
        r#","repr":{{"c":{},"transparent":{},"int":"#,
        repr.c, repr.transparent
    );
    match repr.int {
        Some(int) => json_string(out, int.name()),
        None => out.push_str("null"),
    }
    match repr.align {
        Some(align) => {
            let _ = write!(out, r#","align":{align}}}"#);
        }
        None => out.push_str(r#","align":null}"#),
    }
}

fn type_sizes(out: &mut String, t: &TypeLayout) {
    let _ = write!(
        out,
        r#","size":{},"align":{},"has_default":{},"has_hook":{}"#,
        t.size, t.align, t.has_default, t.has_hook
    );
}

fn fields_json(out: &mut String, fields: &[FieldLayout]) {
    out.push('[');
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        json_string(out, &f.name);
        out.push_str(r#","type":"#);
        json_string(out, &f.ty.to_string());
        if let Some(offset) = f.offset {
            let _ = write!(out, r#","offset":{offset}"#);
        }
        out.push_str(r#","rename_from":"#);
        json_strings(out, &f.rename_from);
        let _ = write!(out, r#","has_default":{}}}"#, f.has_default);
    }
    out.push(']');
}

fn vacant_json(out: &mut String, vacant: &VacantSlots) {
    out.push('{');
    for (i, (path, slots)) in vacant.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, path);
        out.push_str(":[");
        for (j, (index, generation)) in slots.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "[{index},{generation}]");
        }
        out.push(']');
    }
    out.push('}');
}

/// The vacant slots of every pool in the state, by the pool's path (see [`VacantSlots`]).
pub fn vacant_slots(state: &State) -> VacantSlots {
    let mut walk = VacantWalk {
        holds_pool: HashMap::new(),
        path: Vec::new(),
        out: VacantSlots::new(),
    };
    walk.find_types_holding_pools(state);
    for resource in state.resources() {
        walk.path.push(Seg::Name(resource.desc().name.to_owned()));
        if walk.type_holds_pool(resource.desc()) {
            walk.walk(Visit::Object(resource.view()));
        }
        walk.path.pop();
    }
    walk.out
}

/// Walks the state for pools, skipping values whose types cannot hold one.
struct VacantWalk {
    /// For each type the state reaches (by descriptor address), whether its values can hold a
    /// pool.
    holds_pool: HashMap<usize, bool>,
    path: Vec<Seg>,
    out: VacantSlots,
}

fn key(desc: &TypeDesc) -> usize {
    desc as *const TypeDesc as usize
}

impl VacantWalk {
    /// A fixed point over the reachable types, since types may contain themselves.
    fn find_types_holding_pools(&mut self, state: &State) {
        let mut descs: Vec<&'static TypeDesc> = Vec::new();
        let mut stack = state.descs();
        while let Some(desc) = stack.pop() {
            if self.holds_pool.insert(key(desc), false).is_none() {
                descs.push(desc);
                for_each_field_shape(desc, &mut |shape| nested_types(shape, &mut stack));
            }
        }
        loop {
            let mut changed = false;
            for desc in &descs {
                if self.holds_pool[&key(desc)] {
                    continue;
                }
                let mut holds = false;
                for_each_field_shape(desc, &mut |shape| holds |= self.shape_holds_pool(shape));
                if holds {
                    self.holds_pool.insert(key(desc), true);
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    fn type_holds_pool(&self, desc: &TypeDesc) -> bool {
        self.holds_pool.get(&key(desc)).copied().unwrap_or(true)
    }

    fn shape_holds_pool(&self, shape: &Shape) -> bool {
        match &shape.kind {
            ShapeKind::Prim(_) | ShapeKind::String(_) | ShapeKind::Handle { .. } => false,
            ShapeKind::Pool { .. } => true,
            ShapeKind::Array { elem, .. }
            | ShapeKind::Vec { elem, .. }
            | ShapeKind::Box { elem, .. }
            | ShapeKind::Option { elem, .. } => self.shape_holds_pool(elem()),
            ShapeKind::Named(desc) => self.type_holds_pool(desc()),
        }
    }

    /// Walks a value of any depth: what is left to visit waits on an explicit work stack, in
    /// reverse order, with the steps into and out of each field or element around it.
    fn walk(&mut self, start: Visit<'_>) {
        const MATCHED: &str = "the view is asked for what its shape says it is";
        let mut stack = vec![start];
        while let Some(visit) = stack.pop() {
            let view = match visit {
                Visit::Enter(seg) => {
                    self.path.push(seg);
                    continue;
                }
                Visit::Leave => {
                    self.path.pop();
                    continue;
                }
                Visit::Object(value) => {
                    let variant = value.variant();
                    if variant.is_some() {
                        stack.push(Visit::Leave);
                    }
                    for (field, view) in value.fields().into_iter().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(view));
                        stack.push(Visit::Enter(Seg::Name(field.name.to_owned())));
                    }
                    if let Some(variant) = variant {
                        stack.push(Visit::Enter(Seg::Name(variant.to_owned())));
                    }
                    continue;
                }
                Visit::Value(view) => view,
            };
            let shape = view.shape();
            if !self.shape_holds_pool(shape) {
                continue;
            }
            match &shape.kind {
                ShapeKind::Prim(_) | ShapeKind::String(_) | ShapeKind::Handle { .. } => {}
                ShapeKind::Array { .. } | ShapeKind::Vec { .. } => {
                    let elements = view.elements().expect(MATCHED);
                    for (i, element) in elements.into_iter().enumerate().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(element));
                        stack.push(Visit::Enter(Seg::Index(i)));
                    }
                }
                ShapeKind::Box { .. } => stack.push(Visit::Value(view.unboxed().expect(MATCHED))),
                ShapeKind::Option { .. } => {
                    if let Some(inner) = view.option().expect(MATCHED) {
                        stack.push(Visit::Value(inner));
                    }
                }
                ShapeKind::Pool { glue, .. } => {
                    // SAFETY: the view is a valid pool, borrowed from the state for the walk.
                    let slots = unsafe { (glue.slot_count)(view.ptr()) };
                    let vacant: Vec<(u32, u32)> = (0..slots)
                        .filter_map(|i| {
                            // SAFETY: `i < slot_count`.
                            let (generation, value) = unsafe { (glue.slot)(view.ptr(), i) };
                            value.is_null().then_some((i as u32, generation))
                        })
                        .collect();
                    if !vacant.is_empty() {
                        self.out
                            .insert(ValuePath(self.path.clone()).to_string(), vacant);
                    }
                    let entries = view.pool_entries().expect(MATCHED);
                    for (index, _, value) in entries.into_iter().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(value));
                        stack.push(Visit::Enter(Seg::Index(index as usize)));
                    }
                }
                ShapeKind::Named(_) => stack.push(Visit::Object(view.value().expect(MATCHED))),
            }
        }
    }
}

/// What [`VacantWalk::walk`] has left to do: visit a value, or step into or out of a part.
enum Visit<'a> {
    Value(FieldView<'a>),
    Object(OldValue<'a>),
    Enter(Seg),
    Leave,
}

/// Loads a snapshot into new values of the types of `catalog` (the current build). See the
/// [module documentation](self) for the rules. The caller swaps the returned state in.
pub fn load(text: &str, catalog: &Catalog) -> Result<(State, LoadReport), SnapshotError> {
    let json = Json::parse(text)?;
    if !matches!(json, Json::Object(_)) {
        return Err(SnapshotError::Format(format!(
            "the snapshot is {}, not an object",
            json.kind()
        )));
    }
    match json.get("coo_snapshot") {
        Some(Json::Number(n)) if n == &FORMAT_VERSION.to_string() => {}
        Some(Json::Number(n)) => return Err(SnapshotError::Version { found: n.clone() }),
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
    let Some(Json::Object(resources)) = json.get("state") else {
        return Err(SnapshotError::Format("it has no `state` object".to_owned()));
    };
    let vacant = parse_vacant(json.get("vacant_slots"))?;
    let saved = match json.get("types") {
        None => Schema::default(),
        Some(types) => parse_types(types)?,
    };
    let mut targets = Vec::with_capacity(resources.len());
    let mut taken: BTreeMap<&'static str, &str> = BTreeMap::new();
    let mut names = Vec::with_capacity(resources.len());
    for (name, value) in resources {
        let desc = successor(catalog, name)?;
        if let Some(first) = taken.insert(desc.name, name) {
            return Err(SnapshotError::DuplicateResource {
                ty: desc.name.to_owned(),
                first: first.to_owned(),
                second: name.clone(),
            });
        }
        names.push((name.clone(), desc.name.to_owned()));
        targets.push((desc, name.as_str(), value));
    }
    let mut builder = Builder::new(Mode::Migrate)
        .with_vacant_slots(&vacant)
        .with_saved_types(&saved);
    let state = build_state(&mut builder, catalog.image(), targets)?;
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
fn successor(catalog: &Catalog, name: &str) -> Result<&'static TypeDesc, SnapshotError> {
    match catalog.successor(name) {
        Ok(Some(desc)) => Ok(desc),
        Ok(None) => Err(SnapshotError::UnknownType {
            name: name.to_owned(),
            types: catalog.iter().map(|d| d.name.to_owned()).collect(),
        }),
        Err(conflict) => Err(SnapshotError::AmbiguousType {
            name: name.to_owned(),
            conflict,
        }),
    }
}

fn parse_vacant(json: Option<&Json>) -> Result<VacantSlots, SnapshotError> {
    let bad = |what: String| SnapshotError::Format(format!("`vacant_slots` {what}"));
    let mut out = VacantSlots::new();
    let members = match json {
        None => return Ok(out),
        Some(Json::Object(members)) => members,
        Some(other) => return Err(bad(format!("is {}, not an object", other.kind()))),
    };
    let number = |json: &Json| match json {
        Json::Number(n) => n.parse::<u32>().ok(),
        _ => None,
    };
    for (path, slots) in members {
        let Json::Array(slots) = slots else {
            return Err(bad(format!("of `{path}` is not an array")));
        };
        let mut parsed = Vec::with_capacity(slots.len());
        for slot in slots {
            match slot {
                Json::Array(pair) if pair.len() == 2 => {
                    match (number(&pair[0]), number(&pair[1])) {
                        (Some(index), Some(generation)) => parsed.push((index, generation)),
                        _ => {
                            return Err(bad(format!(
                                "of `{path}` holds a slot that is not two `u32`s"
                            )));
                        }
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "of `{path}` holds a slot that is not `[index, generation]`"
                    )));
                }
            }
        }
        out.insert(path.clone(), parsed);
    }
    Ok(out)
}

/// The `types` of a snapshot, back as layouts.
fn parse_types(json: &Json) -> Result<Schema, SnapshotError> {
    let Json::Object(types) = json else {
        return Err(SnapshotError::Format(format!(
            "`types` is {}, not an object",
            json.kind()
        )));
    };
    let mut schema = Schema::default();
    for (name, t) in types {
        let layout = parse_type(t)
            .ok_or_else(|| SnapshotError::Format(format!("`types.{name}` is not a type layout")))?;
        schema.types.insert(name.clone(), layout);
    }
    Ok(schema)
}

fn parse_type(json: &Json) -> Option<TypeLayout> {
    let kind = match text(json.get("kind")?)? {
        "struct" => LayoutKind::Struct {
            style: parse_style(json.get("style")?)?,
            fields: parse_fields(json.get("fields")?)?,
        },
        "enum" => {
            let Json::Array(variants) = json.get("variants")? else {
                return None;
            };
            LayoutKind::Enum {
                // Snapshots written before the representation was recorded have neither
                // `repr` nor `discriminant`: they read as no `repr` and the implicit
                // discriminants. The saved layouts serve messages and number conversion only;
                // values are loaded by variant name whatever the representation.
                repr: match json.get("repr") {
                    Some(repr) => parse_repr(repr)?,
                    None => EnumRepr::RUST,
                },
                variants: variants
                    .iter()
                    .enumerate()
                    .map(|(index, v)| {
                        Some(VariantLayout {
                            name: text(v.get("name")?)?.to_owned(),
                            discriminant: match v.get("discriminant") {
                                Some(Json::Number(n)) => n.parse().ok()?,
                                Some(_) => return None,
                                None => i128::try_from(index).ok()?,
                            },
                            style: parse_style(v.get("style")?)?,
                            fields: parse_fields(v.get("fields")?)?,
                            rename_from: strings(v.get("rename_from")?)?,
                        })
                    })
                    .collect::<Option<_>>()?,
            }
        }
        _ => return None,
    };
    Some(TypeLayout {
        name: text(json.get("name")?)?.to_owned(),
        rust_name: text(json.get("rust_name")?)?.to_owned(),
        rename_from: strings(json.get("rename_from")?)?,
        size: uint(json.get("size")?)?,
        align: uint(json.get("align")?)?,
        kind,
        has_default: boolean(json.get("has_default")?)?,
        has_hook: boolean(json.get("has_hook")?)?,
    })
}

fn parse_repr(json: &Json) -> Option<EnumRepr> {
    Some(EnumRepr {
        c: boolean(json.get("c")?)?,
        transparent: boolean(json.get("transparent")?)?,
        int: match json.get("int")? {
            Json::Null => None,
            int => Some(Prim::from_name(text(int)?).filter(|p| p.is_int())?),
        },
        align: match json.get("align")? {
            Json::Null => None,
            align => Some(uint(align)?),
        },
    })
}

fn parse_fields(json: &Json) -> Option<Vec<FieldLayout>> {
    let Json::Array(fields) = json else {
        return None;
    };
    fields
        .iter()
        .map(|f| {
            Some(FieldLayout {
                name: text(f.get("name")?)?.to_owned(),
                offset: match f.get("offset") {
                    Some(offset) => Some(uint(offset)?),
                    None => None,
                },
                ty: parse_ty(text(f.get("type")?)?)?,
                rename_from: strings(f.get("rename_from")?)?,
                has_default: boolean(f.get("has_default")?)?,
            })
        })
        .collect()
}

fn parse_style(json: &Json) -> Option<FieldsStyle> {
    match text(json)? {
        "named" => Some(FieldsStyle::Named),
        "tuple" => Some(FieldsStyle::Tuple),
        "unit" => Some(FieldsStyle::Unit),
        _ => None,
    }
}

fn text(json: &Json) -> Option<&str> {
    match json {
        Json::String(s) => Some(s),
        _ => None,
    }
}

fn uint(json: &Json) -> Option<usize> {
    match json {
        Json::Number(n) => n.parse().ok(),
        _ => None,
    }
}

fn boolean(json: &Json) -> Option<bool> {
    match json {
        Json::Bool(b) => Some(*b),
        _ => None,
    }
}

fn strings(json: &Json) -> Option<Vec<String>> {
    match json {
        Json::Array(items) => items.iter().map(|i| text(i).map(str::to_owned)).collect(),
        _ => None,
    }
}

/// A field type back from its text ([`TyLayout`]'s `Display`): `Vec<Option<Box<Enemy>>>`,
/// `[u8; 4]`, `Handle<Enemy>`.
fn parse_ty(text: &str) -> Option<TyLayout> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let (elem, len) = inner.rsplit_once(';')?;
        return Some(TyLayout::Array(
            Box::new(parse_ty(elem)?),
            len.trim().parse().ok()?,
        ));
    }
    if let Some((head, rest)) = text.split_once('<')
        && let Some(inner) = rest.strip_suffix('>')
    {
        let elem = || parse_ty(inner).map(Box::new);
        return match head {
            "Vec" => Some(TyLayout::Vec(elem()?)),
            "Box" => Some(TyLayout::Box(elem()?)),
            "Option" => Some(TyLayout::Option(elem()?)),
            "Pool" => Some(TyLayout::Pool(elem()?)),
            "Handle" => Some(TyLayout::Handle(inner.to_owned())),
            _ => None,
        };
    }
    Some(match text {
        "String" => TyLayout::String,
        _ => match Prim::from_name(text) {
            Some(p) => TyLayout::Prim(p),
            None => TyLayout::Named(text.to_owned()),
        },
    })
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
    fn json(&self, out: &mut String) {
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
    let json = Json::parse(text)?;
    let plugin = match json.get("plugin") {
        None => None,
        Some(plugin) => {
            let member = |key: &str| match plugin.get(key) {
                Some(Json::String(s)) => Ok(s.clone()),
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
                Some(Json::Bool(b)) => Ok(*b),
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
    if let Some(saved) = header_of(text)?.plugin
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

/// The dev loop's snapshots of one plugin: one file per run of the host, named by the time the
/// run started (UTC) and its process id, `snapshot-20261129T142903.123Z-4242.json`, so names
/// sort by age. A run writes only its own file (each save replaces its previous one), so a host
/// started again never overwrites the state of a run before it, even one that was killed.
/// `--restore` picks the [`restore_candidate`](SnapshotDir::restore_candidate). The newest
/// `keep` files are kept; older ones are removed, except the file being written and the one
/// the caller protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDir {
    pub dir: PathBuf,
    /// How many snapshot files to keep, this session's included (at least 1).
    pub keep: usize,
}

impl SnapshotDir {
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> SnapshotDir {
        SnapshotDir {
            dir: dir.into(),
            keep: keep.max(1),
        }
    }

    /// The file of the session that started at `started` in process `pid`.
    pub fn session_file(&self, started: SystemTime, pid: u32) -> PathBuf {
        self.dir
            .join(format!("snapshot-{}-{pid}.json", utc_stamp(started)))
    }

    /// The snapshot files, newest first (none when the directory does not exist).
    pub fn list(&self) -> io::Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("snapshot-") && name.ends_with(".json") {
                files.push(entry.path());
            }
        }
        files.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
        Ok(files)
    }

    /// The snapshot `--restore` restores by default, with its header: the newest that
    /// [supersedes](RunInfo::supersedes) the ones before it. A file without a `run` header, or
    /// whose header cannot be read, counts as superseding (restoring it then says what is
    /// wrong with it, rather than silently taking an older one).
    pub fn restore_candidate(&self) -> io::Result<Option<(PathBuf, Option<Header>)>> {
        for file in self.list()? {
            let header = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| header_of(&text).ok());
            if header
                .as_ref()
                .and_then(|h| h.run)
                .is_none_or(|run| run.supersedes)
            {
                return Ok(Some((file, header)));
            }
        }
        Ok(None)
    }

    /// Writes `text` to `file` (a run's file in this directory): to a temp file first
    /// (`<file>.<pid>.tmp`) and renamed over it, so a crash mid-write never leaves a torn
    /// snapshot. Then removes the temp files that hosts killed mid-write left
    /// ([`remove_stale_temps`](SnapshotDir::remove_stale_temps)) and the oldest files beyond
    /// `keep`, never `file` nor `protect`.
    pub fn write(&self, file: &Path, text: &str, protect: Option<&Path>) -> Result<(), SaveError> {
        let write = || {
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = file.as_os_str().to_owned();
            tmp.push(format!(".{}.tmp", std::process::id()));
            let tmp = PathBuf::from(tmp);
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, file)
        };
        write().map_err(|source| SaveError::Write {
            file: file.to_path_buf(),
            source,
        })?;
        self.remove_stale_temps()
            .map_err(|(file, source)| SaveError::Prune { file, source })?;
        let prune = |old: &Path| match std::fs::remove_file(old) {
            // Another run of the same plugin removed it first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
        let old_files = self.list().map_err(|source| SaveError::Prune {
            file: self.dir.clone(),
            source,
        })?;
        for old in old_files.into_iter().skip(self.keep) {
            if old != file && Some(old.as_path()) != protect {
                prune(&old).map_err(|source| SaveError::Prune { file: old, source })?;
            }
        }
        Ok(())
    }
}

impl SnapshotDir {
    /// Removes the temp files of snapshot writes whose process is gone (a host killed while it
    /// saved), and returns how many it removed. The temp files of live processes (this one,
    /// whose other threads may be writing, or another host sharing the directory) are left
    /// alone, and so is every file that is not a snapshot's temp file. A temp file is
    /// `<file>.json.<pid>.tmp`, or `snapshot-<time>-<pid>.json.tmp` as hosts before named
    /// them (the pid of a run's file is its writer's). Only on Linux, where `/proc` tells
    /// whether a process lives; elsewhere it removes nothing.
    pub fn remove_stale_temps(&self) -> Result<usize, (PathBuf, io::Error)> {
        if !cfg!(target_os = "linux") {
            return Ok(0);
        }
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err((self.dir.clone(), e)),
        };
        let me = std::process::id();
        let mut removed = 0;
        for entry in entries {
            let entry = entry.map_err(|e| (self.dir.clone(), e))?;
            let Some(pid) = entry.file_name().to_str().and_then(temp_pid) else {
                continue;
            };
            if pid == me || Path::new("/proc").join(pid.to_string()).exists() {
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Another host removed it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err((entry.path(), e)),
            }
        }
        Ok(removed)
    }
}

/// The pid of the process that wrote a snapshot's temp file, if `name` is one:
/// `<name>.json.<pid>.tmp`, or `snapshot-<time>-<pid>.json.tmp` (as hosts before named them).
fn temp_pid(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".tmp")?;
    if let Some((file, pid)) = stem.rsplit_once('.')
        && file.ends_with(".json")
        && let Ok(pid) = pid.parse()
    {
        return Some(pid);
    }
    let run = stem.strip_prefix("snapshot-")?.strip_suffix(".json")?;
    run.rsplit_once('-')?.1.parse().ok()
}

/// Why [`SnapshotDir::write`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("could not save the state to {}: {source}", file.display())]
    Write {
        file: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The state was saved; an old snapshot could not be removed.
    #[error("the state was saved, but the old snapshot {} could not be removed: {source}", file.display())]
    Prune {
        file: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// `20261129T142903.123Z`: the time in UTC, to the millisecond, in a form that sorts.
fn utc_stamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_name_their_writers_pid() {
        assert_eq!(
            temp_pid("snapshot-20261129T142903.123Z-42.json.4242.tmp"),
            Some(4242)
        );
        assert_eq!(temp_pid("state.json.7.tmp"), Some(7));
        assert_eq!(
            temp_pid("snapshot-20261129T142903.123Z-42.json.tmp"),
            Some(42)
        );
        assert_eq!(temp_pid("snapshot-20261129T142903.123Z-42.json"), None);
        assert_eq!(temp_pid("notes.tmp"), None);
        assert_eq!(temp_pid("notes.7.tmp"), None);
        assert_eq!(temp_pid("snapshot-x.json.tmp"), None);
    }

    #[test]
    fn type_texts_parse_back() {
        for text in [
            "u8",
            "String",
            "[u8; 4]",
            "[[f32; 2]; 3]",
            "Vec<Option<Box<Enemy>>>",
            "Pool<game::Unit>",
            "Handle<Enemy>",
            "World",
        ] {
            let ty = parse_ty(text).unwrap_or_else(|| panic!("{text} parses"));
            assert_eq!(ty.to_string(), text);
        }
    }
}
