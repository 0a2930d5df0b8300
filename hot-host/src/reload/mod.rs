//! The host: one plugin crate, its live state and its function slots, and the reload
//! transaction that replaces the code while keeping the state.
//!
//! # Safe points
//! Calls take `&mut Host` (they may mutate resources) and so does a reload, so the borrow
//! checker guarantees that no plugin call is in flight while a reload swaps state and slots:
//! every reload happens at a safe point by construction. The only way around it,
//! [`FnHandle::call_raw`], is `unsafe` and states the rule.
//!
//! # The reload transaction
//! build → unique copy → dlopen → header check → manifest → diff and plan (types and slots) →
//! migrate into new storage → commit (swap state, then every slot). Everything before the
//! commit can fail and changes nothing: the old library, slots and state keep running. The
//! commit itself cannot fail.
//!
//! After the commit the old version's image is released: the migration dropped the old values
//! (with the old glue, still mapped) and moved the kept ones to the new types, the slots hold
//! the new code, and the old catalog, plan and library are dropped here. The image is then
//! closed unless a [`FnHandle`] resolved against it is still held (it goes with the last such
//! handle); if it stays mapped after closing, [`ReloadReport::pinned`] says so. A failed reload
//! drops the new image instead, and a [`Host::preview`] drops its image before it returns.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coo_runtime::migration::casts::{Num, write_num};
use coo_runtime::plugin::panics::{DropPanic, take_drop_panics, this_sink};
use coo_runtime::plugin::{FnDesc, ForeignString, StrRef, ValueKind};
use coo_runtime::{Catalog, DuplicateTypeName, ExecuteError, PlanError, Prim, Resource, State};

use coo_runtime::migration::execute::{Seg, ValuePath};
use coo_runtime::storage::scratch::Scratch;

use crate::build::{BuildError, Builder};
use crate::load::{Kept, LoadError, LoadedLibrary, Loader, Pinned, kept, take_pinned};
use crate::slots::{Burial, CallError, FnHandle, FnRef, Slot};
use crate::state_io::from_json::{Builder as ValueBuilder, Json, Mode};

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("the build failed:\n{0}")]
    Build(#[from] BuildError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Types(#[from] DuplicateTypeName),
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("the live state could not be migrated, nothing was changed: {0}")]
    Migrate(#[from] ExecuteError),
}

/// What a reload changed.
#[derive(Debug, Clone)]
pub struct ReloadReport {
    pub from_version: u64,
    pub to_version: u64,
    /// Time spent in cargo, when the reload built.
    pub build: Option<Duration>,
    /// Copy, dlopen, header check and manifest.
    pub load: Duration,
    /// Diff, plan, migration and swap.
    pub migrate: Duration,
    pub fns_added: Vec<String>,
    pub fns_removed: Vec<String>,
    /// `(name, old signature, new signature)`.
    pub fns_changed: Vec<(String, String, String)>,
    /// Functions whose code was swapped with the same signature.
    pub fns_updated: usize,
    pub migration: coo_runtime::Report,
    /// Plugin images mapped after the reload: the current one, old ones still held (by a
    /// handle) or pinned, rejected ones.
    pub kept: Kept,
    /// Old versions this reload released but that stay mapped (see [`crate::load`]), with why.
    pub pinned: Vec<Pinned>,
    /// Values whose `Drop` panicked since the last report (during this reload: removed fields,
    /// replaced values): each was leaked, not dropped again.
    pub drop_panics: Vec<DropPanic>,
}

impl ReloadReport {
    /// Time Coo spent (everything but the build).
    pub fn reload_time(&self) -> Duration {
        self.load + self.migrate
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

impl ReloadReport {
    /// One line: `reloaded 2 -> 3 in 412.3 ms (build 409.1 ms, reload 3.2 ms): 1 type migrated, 1 fn changed`.
    pub fn summary(&self, latency: Option<Duration>) -> String {
        let mut parts = Vec::new();
        let types = self.migration.types.len();
        if types > 0 {
            parts.push(format!(
                "{types} type{} migrated",
                if types == 1 { "" } else { "s" }
            ));
        }
        for (n, what) in [
            (self.fns_added.len(), "added"),
            (self.fns_removed.len(), "removed"),
            (self.fns_changed.len(), "changed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} fn{} {what}", if n == 1 { "" } else { "s" }));
            }
        }
        if parts.is_empty() {
            parts.push("code swapped".to_owned());
        }
        format!(
            "reloaded {} -> {}{} ({}): {}",
            self.from_version,
            self.to_version,
            latency.map_or(String::new(), |l| format!(" in {}", ms(l))),
            self.times(),
            parts.join(", ")
        )
    }

    fn times(&self) -> String {
        match self.build {
            Some(build) => format!("build {}, reload {}", ms(build), ms(self.reload_time())),
            None => format!("reload {}", ms(self.reload_time())),
        }
    }

    /// The report as a block, with ANSI colors when `color` (for terminals); `latency` is the
    /// time from the save to the new code being live, when known.
    pub fn render(&self, color: bool, latency: Option<Duration>) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let head = format!("version {} -> {}", self.from_version, self.to_version);
        out.push_str(&paint("1;32", &head));
        out.push_str(&format!(
            " ({}{}: load {}, migrate {})\n",
            latency.map_or(String::new(), |l| format!(
                "live {} after the save; ",
                ms(l)
            )),
            self.times(),
            ms(self.load),
            ms(self.migrate)
        ));
        for name in &self.fns_added {
            out.push_str(&paint("32", &format!("  + fn {name}")));
            out.push('\n');
        }
        for name in &self.fns_removed {
            out.push_str(&paint("31", &format!("  - fn {name}")));
            out.push('\n');
        }
        for (name, old, new) in &self.fns_changed {
            out.push_str(&paint("33", &format!("  ~ fn {name}: {old} -> {new}")));
            out.push('\n');
        }
        if self.fns_updated > 0 {
            out.push_str(&format!(
                "  {} function{} swapped\n",
                self.fns_updated,
                if self.fns_updated == 1 { "" } else { "s" }
            ));
        }
        for t in &self.migration.types {
            for line in t.diff.to_string().lines() {
                let code = match line.trim_start().chars().next() {
                    Some('+') => "32",
                    Some('-') => "31",
                    Some('~' | '>') => "33",
                    _ => "1",
                };
                out.push_str(&paint(code, &format!("  {line}")));
                out.push('\n');
            }
            out.push_str(&format!(
                "    {} value{} migrated\n",
                t.values,
                if t.values == 1 { "" } else { "s" }
            ));
        }
        for panic in &self.drop_panics {
            out.push_str(&paint("31", &format!("  ! {panic}")));
            out.push('\n');
        }
        for pinned in &self.pinned {
            out.push_str(&paint("33", &format!("  ! {pinned}")));
            out.push('\n');
        }
        if !self.migration.kept.is_empty() {
            out.push_str(&format!(
                "  unchanged, kept in place: {}\n",
                self.migration.kept.join(", ")
            ));
        }
        out.push_str(&format!(
            "  {} librar{} mapped ({:.1} MiB)",
            self.kept.libraries,
            if self.kept.libraries == 1 { "y" } else { "ies" },
            self.kept.bytes as f64 / (1024.0 * 1024.0)
        ));
        out
    }
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false, None))
    }
}

/// A value passed to or returned by a hot function through [`Host::call`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unit,
    Bool(bool),
    Char(char),
    Int(i128),
    /// Unsigned values above `i128::MAX`.
    BigUint(u128),
    Float(f64),
    String(String),
    /// A returned `CooType` value, now the resource of this type.
    Resource(String),
    /// A `CooType` value passed by value, as JSON in the `state --json` shape (every field by
    /// its current name).
    Json(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => f.write_str("()"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Char(c) => write!(f, "{c:?}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::BigUint(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Resource(ty) => write!(f, "(the new `{ty}` resource)"),
            Value::Json(text) => f.write_str(text),
        }
    }
}

impl Value {
    /// Parses a command-line argument for a parameter of kind `kind`.
    pub fn parse(kind: &ValueKind, text: &str) -> Result<Value, String> {
        Ok(match kind {
            ValueKind::Prim(Prim::Bool) => Value::Bool(
                text.parse()
                    .map_err(|_| format!("expected `true` or `false`, found `{text}`"))?,
            ),
            ValueKind::Prim(Prim::Char) => {
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Value::Char(c),
                    _ => return Err(format!("expected one character, found `{text}`")),
                }
            }
            ValueKind::Prim(p) if p.is_float() => Value::Float(
                text.parse()
                    .map_err(|_| format!("expected a number, found `{text}`"))?,
            ),
            ValueKind::Prim(p) => match text.parse::<i128>() {
                Ok(v) => Value::Int(v),
                Err(_) => Value::BigUint(
                    text.parse()
                        .map_err(|_| format!("expected an integer ({p}), found `{text}`"))?,
                ),
            },
            ValueKind::String | ValueKind::Str => Value::String(text.to_owned()),
            ValueKind::Value(_) => Value::Json(text.to_owned()),
            other => return Err(format!("`{}` is not parsed from text", other.text())),
        })
    }
}

/// Room for any primitive, aligned for any of them.
#[repr(C, align(16))]
struct PrimBuf([u8; 16]);

/// One plugin crate, loaded and running, with its state.
#[derive(Debug)]
pub struct Host {
    builder: Builder,
    loader: Loader,
    state: State,
    library: Option<LoadedLibrary>,
    catalog: Catalog,
    slots: HashMap<String, Arc<Slot>>,
    version: u64,
}

impl Host {
    /// A host for the plugin crate in `plugin_dir`, building into `<plugin_dir>/target/coo`.
    /// Nothing is built or loaded until [`Host::reload`].
    pub fn new(plugin_dir: impl Into<PathBuf>) -> Host {
        Host::with_builder(Builder::new(plugin_dir))
    }

    pub fn with_builder(builder: Builder) -> Host {
        let loader = Loader::in_target_dir(builder.target_dir());
        // Copies loaded by processes that have ended are no longer mapped by anyone; without
        // this they pile up, one library per reload.
        let _ = loader.remove_stale_copies();
        Host {
            builder,
            loader,
            state: State::new(),
            library: None,
            catalog: Catalog::default(),
            slots: HashMap::new(),
            version: 0,
        }
    }

    pub fn builder(&self) -> &Builder {
        &self.builder
    }

    pub fn builder_mut(&mut self) -> &mut Builder {
        &mut self.builder
    }

    /// The number of the loaded version (0 before the first load).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The live state, for the host's own edits (`set`, snapshots). Calls and reloads need
    /// `&mut self` too, so no plugin code runs meanwhile.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The types of the loaded version.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn library(&self) -> Option<&LoadedLibrary> {
        self.library.as_ref()
    }

    /// The functions of the loaded version, by name (each keeps its image mapped while held).
    pub fn fns(&self) -> Vec<(String, FnRef)> {
        let mut fns: Vec<_> = self
            .slots
            .iter()
            .map(|(name, slot)| (name.clone(), live(slot)))
            .collect();
        fns.sort_by(|a, b| a.0.cmp(&b.0));
        fns
    }

    /// Builds the plugin and reloads it (the first call loads it).
    pub fn reload(&mut self) -> Result<ReloadReport, ReloadError> {
        let output = self.builder.build()?;
        self.reload_from(&output.dylib, Some(output.duration))
    }

    /// Reloads from an already built library.
    pub fn reload_from(
        &mut self,
        dylib: &Path,
        build: Option<Duration>,
    ) -> Result<ReloadReport, ReloadError> {
        let started = Instant::now();
        let library = self.loader.load(dylib)?;
        // Every pointer taken from the manifest below is kept together with this guard.
        let image = library.image_ref();
        let manifest = library.manifest_static();
        // The library's drop glue reports a panicking `Drop` to this host, in its memory.
        (manifest.set_drop_sink)(this_sink());
        let load = started.elapsed();

        let started = Instant::now();
        let catalog = Catalog::from_image(manifest.types.iter().copied(), image.clone())?;
        let plan = self.state.plan(&catalog)?;
        let slots = self.plan_slots(&manifest.fns, &catalog, image);
        // The last step that can fail; on failure it leaves the state as it was (and dropping
        // `library`, `catalog`, `plan` and `slots` closes the new image).
        let migration = self.state.migrate(&plan)?;

        // Commit: swap the slots. Nothing below can fail.
        let from_version = self.version;
        self.version += 1;
        let report = self.commit_slots(slots);
        library.image().set_version(self.version);
        // Release the old version: the state no longer refers to it (old values dropped, kept
        // ones moved to the new types), nor do the slots; the plan, catalog and library were
        // the last holders, unless a handle resolved against it is still held.
        drop(plan);
        let old_catalog = core::mem::replace(&mut self.catalog, catalog);
        let old_library = self.library.replace(library);
        drop(old_catalog);
        drop(old_library);
        let migrate = started.elapsed();
        Ok(ReloadReport {
            from_version,
            to_version: self.version,
            build,
            load,
            migrate,
            fns_added: report.added,
            fns_removed: report.removed,
            fns_changed: report.changed,
            fns_updated: report.updated,
            migration,
            kept: kept(),
            pinned: take_pinned(),
            drop_panics: take_drop_panics(),
        })
    }

    /// Builds the current source and shows what a reload would do, without doing it: the
    /// migration plan of the live state (or every reason there is none) and the function
    /// changes. The library is loaded to read its types, and closed before this returns (unless
    /// it pins itself, see [`crate::load`]); nothing else changes.
    pub fn preview(&mut self) -> Result<String, ReloadError> {
        let output = self.builder.build()?;
        self.preview_from(&output.dylib)
    }

    /// [`Host::preview`] of an already built library.
    pub fn preview_from(&mut self, dylib: &Path) -> Result<String, ReloadError> {
        let library = self.loader.load(dylib)?;
        let manifest = library.manifest_static();
        (manifest.set_drop_sink)(this_sink());
        let catalog = Catalog::from_image(manifest.types.iter().copied(), library.image_ref())?;
        let slots = self.plan_slots(&manifest.fns, &catalog, library.image_ref());
        let mut text = match self.state.plan(&catalog) {
            Ok(plan) => {
                let mut text = String::new();
                for diff in plan.diffs() {
                    text.push_str(&diff.to_string());
                }
                if text.is_empty() {
                    text.push_str("no layout changes\n");
                }
                text
            }
            Err(e) => e.to_string(),
        };
        for (name, _) in &slots.added {
            text.push_str(&format!("+ fn {name}\n"));
        }
        for name in &slots.removed {
            text.push_str(&format!("- fn {name}\n"));
        }
        for (name, desc, relaid) in &slots.changed {
            let old = live(&self.slots[name]).signature();
            text.push_str(&format!(
                "~ fn {name}: {old} -> {}\n",
                changed_signature(desc, relaid)
            ));
        }
        Ok(text)
    }

    /// What happens to each slot when the functions become `fns` and the types `catalog`. A
    /// function keeps its slot only when its signature is the same by name *and* every type it
    /// takes or returns by value kept its layout (handles resolved earlier build such values
    /// with the old layout); otherwise its old slot is buried.
    ///
    /// `fns` live in the image `image` guards; the plan keeps the guard for the slots.
    fn plan_slots(
        &self,
        fns: &[&'static FnDesc],
        catalog: &Catalog,
        image: coo_runtime::ImageRef,
    ) -> SlotPlan {
        let mut new: BTreeMap<String, &'static FnDesc> = BTreeMap::new();
        for f in fns {
            new.insert(f.path(), f);
        }
        let mut plan = SlotPlan {
            image,
            ..SlotPlan::default()
        };
        for (name, slot) in &self.slots {
            let current = live(slot);
            match new.get(name) {
                None => plan.removed.push(name.clone()),
                Some(desc) if desc.same_signature(&current) => {
                    let relaid = relaid_types(&current, desc, catalog);
                    if relaid.is_empty() {
                        plan.updated.push((name.clone(), desc))
                    } else {
                        plan.changed.push((name.clone(), desc, relaid))
                    }
                }
                Some(desc) => plan.changed.push((name.clone(), desc, Vec::new())),
            }
        }
        plan.added = new
            .into_iter()
            .filter(|(name, _)| !self.slots.contains_key(name))
            .collect();
        plan
    }

    fn commit_slots(&mut self, plan: SlotPlan) -> SlotReport {
        let mut report = SlotReport::default();
        // SAFETY: every descriptor of the plan comes from the manifest of the image
        // `plan.image` guards (`plan_slots`' contract).
        let code = |desc: &'static FnDesc| unsafe { FnRef::new(desc, plan.image.clone()) };
        for (name, desc) in plan.updated {
            self.slots[&name].update(code(desc));
            report.updated += 1;
        }
        for name in plan.removed {
            if let Some(slot) = self.slots.remove(&name) {
                slot.bury(self.version, Burial::Removed);
            }
            report.removed.push(name);
        }
        for (name, desc, relaid) in plan.changed {
            let old = self.slots.insert(name.clone(), Slot::new(code(desc)));
            let old_signature = old
                .as_ref()
                .and_then(|s| s.desc())
                .map(|d| d.signature())
                .unwrap_or_default();
            let new_signature = changed_signature(desc, &relaid);
            if let Some(old) = old {
                old.bury(
                    self.version,
                    Burial::Changed {
                        signature: desc.signature(),
                        relaid,
                    },
                );
            }
            report.changed.push((name, old_signature, new_signature));
        }
        for (name, desc) in plan.added {
            self.slots.insert(name.clone(), Slot::new(code(desc)));
            report.added.push(name);
        }
        report.removed.sort();
        report.changed.sort();
        report
    }

    /// The values whose `Drop` panicked on this thread since the last report (a reload reports
    /// its own in [`ReloadReport::drop_panics`]): a resource replaced by a call, arguments of a
    /// call that never ran, a failed reload's partial values. Each was leaked, not dropped again.
    pub fn take_drop_panics(&mut self) -> Vec<DropPanic> {
        take_drop_panics()
    }

    /// Resolves a function by name, once; call the handle as often as needed.
    pub fn resolve(&self, name: &str) -> Result<FnHandle, CallError> {
        match self
            .slots
            .get(name)
            .and_then(|s| FnHandle::new(s.clone(), name))
        {
            Some(handle) => Ok(handle),
            None => {
                let mut known: Vec<String> = self.slots.keys().cloned().collect();
                known.sort();
                Err(CallError::NotFound {
                    name: name.to_owned(),
                    known,
                })
            }
        }
    }

    /// Resolves and calls `name` (see [`Host::call`]).
    pub fn call_by_name(&mut self, name: &str, args: &[Value]) -> Result<Value, CallError> {
        let f = self.resolve(name)?;
        self.call(&f, args)
    }

    /// Calls a hot function: `&T`/`&mut T` parameters are bound to the resources of their types,
    /// the others take `args` in order. A returned `CooType` value becomes the resource of its
    /// type (the resource it replaces is dropped; if its `Drop` panics, see
    /// [`Host::take_drop_panics`]). A panic in the plugin is returned as
    /// [`CallError::Panicked`]; the host and its state stay usable. No allocation changes
    /// owner: `String` arguments are copied by the plugin, returned strings and panic messages
    /// by the host.
    pub fn call(&mut self, f: &FnHandle, args: &[Value]) -> Result<Value, CallError> {
        let name = || f.path().to_owned();
        // A live slot holds code with the signature the handle was resolved with; bind the
        // arguments with its current descriptor, whose types are the live resources' types.
        // The `FnRef` keeps that code's image mapped for this whole call.
        let desc = match f.slot().desc() {
            Some(desc) if f.slot().is_live() => desc,
            _ => {
                // SAFETY: a buried slot's shim is the tombstone, which reads no argument.
                return Err(
                    unsafe { f.call_raw(core::ptr::null(), core::ptr::null_mut()) }
                        .expect_err("a tombstone fails every call"),
                );
            }
        };
        let value_params = desc
            .params
            .iter()
            .filter(|p| !matches!(p.kind, ValueKind::Ref(_) | ValueKind::RefMut(_)))
            .count();
        if value_params != args.len() {
            return Err(CallError::ArgCount {
                name: name(),
                signature: desc.signature(),
                expected: value_params,
                found: args.len(),
            });
        }
        // Argument storage lives until the call returns.
        let mut prims: Vec<PrimBuf> = Vec::with_capacity(desc.params.len());
        let mut moved = MovedArgs::default();
        let mut strs: Vec<StrRef> = Vec::new();
        let mut bound: Vec<(&'static str, bool)> = Vec::new();
        enum Slot {
            Ptr(*mut u8),
            Prim(usize),
            Str(usize),
            Value(usize),
        }
        let mut slots = Vec::with_capacity(desc.params.len());
        let mut args = args.iter();
        for param in desc.params {
            let bad = |message: String| CallError::BadArg {
                name: name(),
                param: param.name.to_owned(),
                message,
            };
            match param.kind {
                ValueKind::Ref(ty) | ValueKind::RefMut(ty) => {
                    let ty = ty();
                    let mutable = matches!(param.kind, ValueKind::RefMut(_));
                    if bound.iter().any(|&(t, m)| t == ty.name && (m || mutable)) {
                        return Err(CallError::Aliased {
                            name: name(),
                            ty: ty.name.to_owned(),
                        });
                    }
                    bound.push((ty.name, mutable));
                    let resource =
                        self.state
                            .resource_mut(ty.name)
                            .ok_or_else(|| CallError::NoResource {
                                name: name(),
                                ty: ty.name.to_owned(),
                            })?;
                    if !core::ptr::eq(resource.desc(), ty) {
                        return Err(bad(format!(
                            "the live `{}` is not of this version of the type",
                            ty.name
                        )));
                    }
                    slots.push(Slot::Ptr(resource.as_mut_ptr()));
                }
                ValueKind::Value(ty) => {
                    let ty = ty();
                    let Some(Value::Json(text)) = args.next() else {
                        return Err(CallError::ByValue {
                            name: name(),
                            ty: ty.name.to_owned(),
                        });
                    };
                    let json = Json::parse(text).map_err(|e| bad(e.to_string()))?;
                    let scratch = Scratch::for_type(ty);
                    let mut builder = ValueBuilder::new(Mode::Exact);
                    builder.at(ValuePath(vec![Seg::Name(param.name.to_owned())]));
                    // SAFETY: the scratch is fresh memory with `ty`'s layout; on error nothing
                    // is left in it.
                    unsafe { builder.build_type(ty, &json, scratch.ptr()) }
                        .map_err(|e| bad(e.to_string()))?;
                    moved.values.push((scratch, ty));
                    slots.push(Slot::Value(moved.values.len() - 1));
                }
                ValueKind::Unit => return Err(bad("`()` is not a parameter type".into())),
                ValueKind::Prim(p) => {
                    let mut buf = PrimBuf([0; 16]);
                    let arg = args.next().expect("counted above");
                    write_prim(p, arg, buf.0.as_mut_ptr()).map_err(bad)?;
                    prims.push(buf);
                    slots.push(Slot::Prim(prims.len() - 1));
                }
                ValueKind::String | ValueKind::Str => {
                    let Some(Value::String(s)) = args.next() else {
                        return Err(bad("expected a string".into()));
                    };
                    // Both kinds pass the host's bytes: the plugin copies a `String` into its own
                    // memory (no image frees another's allocation).
                    strs.push(StrRef {
                        ptr: s.as_ptr(),
                        len: s.len(),
                    });
                    slots.push(Slot::Str(strs.len() - 1));
                }
            }
        }
        let ptrs: Vec<*mut u8> = slots
            .iter()
            .map(|s| match *s {
                Slot::Ptr(p) => p,
                Slot::Prim(i) => prims[i].0.as_mut_ptr(),
                Slot::Str(i) => (&raw mut strs[i]).cast(),
                Slot::Value(i) => moved.values[i].0.ptr(),
            })
            .collect();

        let mut ret_prim = PrimBuf([0; 16]);
        let mut ret_string = core::mem::MaybeUninit::<ForeignString>::uninit();
        let ret_value = match desc.ret {
            ValueKind::Value(ty) => Some(Scratch::for_type(ty())),
            _ => None,
        };
        let ret: *mut u8 = match (&desc.ret, &ret_value) {
            (ValueKind::String, _) => ret_string.as_mut_ptr().cast(),
            (ValueKind::Value(_), Some(storage)) => storage.ptr(),
            _ => ret_prim.0.as_mut_ptr(),
        };
        // SAFETY: `ptrs` has one pointer per parameter as its kind requires: resources of the
        // very descriptor the function expects, bound at most once when mutable (checked
        // above); primitives in aligned buffers; `CooType` values (built with the parameter
        // type's own glue) moved in, which `moved` no longer drops once the call ran; `StrRef`s
        // to UTF-8 that outlives the call (for `&str` and `String` parameters). `ret` has room
        // for what the return kind receives (a `ForeignString` for `String`).
        // `&mut self` guarantees no reload runs during the call.
        let result = unsafe { f.call_raw(ptrs.as_ptr(), ret) };
        // The live shim took every moved argument, even when the function panicked (its
        // unwinding frames dropped them): they are no longer ours to drop.
        moved.taken = true;
        result?;
        Ok(match desc.ret {
            ValueKind::Unit => Value::Unit,
            // SAFETY: the call succeeded, so the shim wrote a `p` to the buffer.
            ValueKind::Prim(p) => unsafe { read_prim(p, ret_prim.0.as_ptr()) },
            // SAFETY: as above, a `ForeignString`: copied into the host's memory, and the
            // plugin's string freed by the plugin.
            ValueKind::String => Value::String(unsafe { ret_string.assume_init() }.into_string()),
            ValueKind::Value(ty) => {
                let storage = ret_value.expect("allocated for value returns");
                // SAFETY: the call succeeded, so the storage holds a valid value of `ty`,
                // which moves into the new resource (the storage is only freed). `ty` lives
                // in the function's image, which `desc.image()` guards.
                let resource =
                    unsafe { Resource::from_raw_in(ty(), storage.ptr(), desc.image().clone()) };
                let ty_name = resource.desc().name.to_owned();
                self.state.insert_resource(resource);
                Value::Resource(ty_name)
            }
            ValueKind::Str | ValueKind::Ref(_) | ValueKind::RefMut(_) => Value::Unit,
        })
    }
}

/// Arguments that a call moves into the function (`CooType` values): dropped here if the call
/// never happens, never after it did.
#[derive(Default)]
struct MovedArgs {
    values: Vec<(Scratch, &'static coo_runtime::TypeDesc)>,
    taken: bool,
}

impl Drop for MovedArgs {
    fn drop(&mut self) {
        if self.taken {
            return;
        }
        for (scratch, desc) in &self.values {
            // SAFETY: the call did not happen: the scratch holds the complete value built for
            // it, dropped once with its own build's glue; the scratch then only frees memory.
            unsafe { (desc.glue.drop)(scratch.ptr()) };
        }
    }
}

#[derive(Default)]
struct SlotPlan {
    /// The guard of the image every descriptor below lives in.
    image: coo_runtime::ImageRef,
    updated: Vec<(String, &'static FnDesc)>,
    removed: Vec<String>,
    /// With the by-value types whose layout changed (empty when the signature itself did).
    changed: Vec<(String, &'static FnDesc, Vec<String>)>,
    added: Vec<(String, &'static FnDesc)>,
}

/// The code of a slot in the host's map: those are live (a buried slot leaves the map).
fn live(slot: &Slot) -> FnRef {
    slot.desc()
        .expect("the host's slots are live; buried ones leave its map")
}

/// The types that `old` and `new`, two versions of a function with the same signature by
/// name, take or return by value and whose layouts differ: a value built for `old`'s type does
/// not fit `new`'s. "Same layout" is the migration planner's own verdict (a plan that keeps a
/// value of the old type in place as a value of the new one); a type the planner cannot plan,
/// or plans to another type, counts as changed.
fn relaid_types(old: &FnDesc, new: &FnDesc, catalog: &Catalog) -> Vec<String> {
    let kinds = |f: &FnDesc| {
        f.params
            .iter()
            .map(|p| p.kind)
            .chain([f.ret])
            .collect::<Vec<_>>()
    };
    let mut relaid = Vec::new();
    for (a, b) in kinds(old).into_iter().zip(kinds(new)) {
        let (ValueKind::Value(a), ValueKind::Value(b)) = (a, b) else {
            continue;
        };
        let (a, b) = (a(), b());
        let kept = match coo_runtime::migration::plan::plan(&[a], catalog) {
            Ok(plan) => matches!(
                plan.resources.as_slice(),
                [coo_runtime::migration::plan::ResourcePlan::Keep { new, .. }] if core::ptr::eq(*new, b)
            ),
            Err(_) => false,
        };
        if !kept && !relaid.iter().any(|t| t == b.name) {
            relaid.push(b.name.to_owned());
        }
    }
    relaid
}

/// A changed function's new signature as reports show it: with the types whose layout changed
/// when the text alone reads the same.
fn changed_signature(desc: &FnDesc, relaid: &[String]) -> String {
    if relaid.is_empty() {
        desc.signature()
    } else {
        let names: Vec<String> = relaid.iter().map(|t| format!("`{t}`")).collect();
        format!("{} (new layout of {})", desc.signature(), names.join(", "))
    }
}

#[derive(Default)]
struct SlotReport {
    updated: usize,
    removed: Vec<String>,
    changed: Vec<(String, String, String)>,
    added: Vec<String>,
}

fn write_prim(p: Prim, arg: &Value, dst: *mut u8) -> Result<(), String> {
    match (p, arg) {
        // SAFETY: `dst` is a 16-byte, 16-aligned buffer.
        (Prim::Bool, Value::Bool(b)) => unsafe { dst.cast::<bool>().write(*b) },
        // SAFETY: as above.
        (Prim::Char, Value::Char(c)) => unsafe { dst.cast::<char>().write(*c) },
        // Floats take the nearest value, as a Rust literal would.
        (Prim::F32 | Prim::F64, Value::Int(_) | Value::BigUint(_) | Value::Float(_)) => {
            let v = match arg {
                Value::Int(v) => *v as f64,
                Value::BigUint(v) => *v as f64,
                Value::Float(v) => *v,
                _ => unreachable!("matched above"),
            };
            if p == Prim::F32 {
                // SAFETY: the buffer has room for any primitive.
                unsafe { dst.cast::<f32>().write(v as f32) }
            } else {
                // SAFETY: as above.
                unsafe { dst.cast::<f64>().write(v) }
            }
        }
        (p, Value::Int(_) | Value::BigUint(_) | Value::Float(_)) if p.is_int() => {
            let n = match arg {
                Value::Int(v) => Num::Int(*v),
                Value::BigUint(v) => Num::BigUint(*v),
                Value::Float(v) => Num::Float(*v),
                _ => unreachable!("matched above"),
            };
            // SAFETY: the buffer has room for any primitive.
            if !unsafe { write_num(n, p, dst) } {
                return Err(format!("{n} does not fit in `{p}`"));
            }
        }
        (p, other) => return Err(format!("expected a `{p}`, found {other}")),
    }
    Ok(())
}

/// # Safety
/// `src` holds a valid `p`.
unsafe fn read_prim(p: Prim, src: *const u8) -> Value {
    // SAFETY: the caller's contract.
    unsafe {
        match p {
            Prim::Bool => Value::Bool(src.cast::<bool>().read()),
            Prim::Char => Value::Char(src.cast::<char>().read()),
            p => match coo_runtime::migration::casts::read_num(p, src) {
                Num::Int(v) => Value::Int(v),
                Num::BigUint(v) => Value::BigUint(v),
                Num::Float(v) => Value::Float(v),
            },
        }
    }
}
