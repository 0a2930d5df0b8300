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
//! checks against the host types and the other plugins → migrate into new storage → commit
//! (swap state, then every slot). Everything before the commit can fail and changes nothing:
//! the old library, slots and state keep running. The commit itself cannot fail.
//!
//! After the commit the old version's image is released: the migration dropped the old values
//! (with the old glue, still mapped) and moved the kept ones to the new types, the slots hold
//! the new code, and the old catalog, plan and library are dropped here. The image is then
//! closed unless a [`FnHandle`] resolved against it is still held (it goes with the last such
//! handle); if it stays mapped after closing, [`ReloadReport::pinned`] says so. A failed reload
//! drops the new image instead, and a [`Host::preview`] drops its image before it returns.
//!
//! # Files
//! The transaction is here; what it reports is in `report.rs` ([`ReloadReport`]); the live
//! trait objects that [`Host::preview`] says a reload will re-box are counted in `objects.rs`. What it does
//! to the function slots, and the call path, are in [`crate::slots`]. `imports.rs`: for a host
//! that runs with others ([`crate::embed::Plugins`]), what each plugin provides and imports,
//! checked before the commit and bound at it ([`PluginConflict`], [`CutImport`]).
//! `together.rs`: the reload of several plugins in one transaction (they share a crate that
//! changed), split into the same steps: each prepared (load, header check, catalog, plans),
//! the imports checked with every new version at once, every state migrated, then all
//! committed; or none ([`ReloadError::Together`]).

pub(crate) mod imports;
mod objects;
mod preview;
mod report;
pub(crate) mod together;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use coo_runtime::plugin::Manifest;
use coo_runtime::plugin::panics::{DropPanic, take_drop_panics, this_sink};
use coo_runtime::{Catalog, DuplicateTypeName, ExecuteError, ImageRef, PlanError, State};

use crate::build::{BuildError, BuildEvent, Builder};
use crate::load::{LoadError, LoadedLibrary, Loader, kept, take_pinned};
use crate::slots::HostTypeChanged;
use crate::slots::host_objects::changed_host_types;
use crate::slots::plan::SlotTable;
use crate::slots::{Alternative, CallError, FnHandle, FnRef, HotFn, HotSig};

/// The values calls take and return; they live with the call path, in [`crate::slots`].
pub use crate::slots::Value;
pub use imports::{CutImport, PluginConflict, TypeLayouts};
pub use report::{ReloadReport, styles};

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
    /// The host runs the plugin linked into this binary ([`Host::linked`]): there is nothing to
    /// build or load.
    #[error(
        "this host runs the plugin linked into this binary (a release build with the `static` feature), which cannot be reloaded; build without that feature to reload it"
    )]
    Linked,
    #[error(transparent)]
    HostType(Box<HostTypeChanged>),
    /// Another plugin of the same [`Plugins`](crate::embed::Plugins) disagrees: an import
    /// declaration does not match its provider, or a resource type is owned twice.
    #[error(transparent)]
    Import(Box<PluginConflict>),
    /// This plugin reloads in one transaction with others (they share a crate that changed:
    /// see [`Plugins`](crate::embed::Plugins)), and `failed` could not be reloaded (its own
    /// error says why): none of `together` was.
    #[error(
        "not reloaded: `{failed}`, reloaded in one transaction with it ({}: they share a crate that changed), failed; every plugin of the transaction keeps its old code and state",
        together.join(", ")
    )]
    Together {
        failed: String,
        /// Every plugin of the transaction, sorted.
        together: Vec<String>,
    },
}

impl From<PluginConflict> for ReloadError {
    fn from(conflict: PluginConflict) -> ReloadError {
        ReloadError::Import(Box::new(conflict))
    }
}

/// The [`Plugins`](crate::embed::Plugins) a host belongs to: its name there, and the hub of
/// what every plugin of it provides and imports.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    pub(crate) name: String,
    pub(crate) hub: std::sync::Arc<std::sync::Mutex<imports::Hub>>,
}

impl Membership {
    pub(crate) fn hub(&self) -> std::sync::MutexGuard<'_, imports::Hub> {
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A reload made ready by [`Host::prepare`], not yet migrated nor committed: dropping it
/// changes nothing (the plans and the catalog go before the library whose image they point
/// into: fields drop in this order).
struct Prepared {
    slot_plan: crate::slots::plan::SlotPlan,
    plan: coo_runtime::Plan,
    catalog: Catalog,
    /// Lives in the image `image` guards.
    manifest: &'static Manifest,
    image: ImageRef,
    library: Option<LoadedLibrary>,
    build: Option<Duration>,
    load: Duration,
    /// When the preparation started: the report's `migrate` time counts from here.
    started: Instant,
}

/// One plugin crate, loaded and running, with its state.
#[derive(Debug)]
pub struct Host {
    builder: Builder,
    loader: Loader,
    state: State,
    library: Option<LoadedLibrary>,
    catalog: Catalog,
    slots: SlotTable,
    version: u64,
    /// Unique among the hosts of this process: what a [`HotFn`] checks it is called with.
    id: u64,
    /// Changes (to a number no host used before) whenever the state or the slots may have
    /// changed: a [`HotFn`] keeps the slot's entry and the resources' addresses for one epoch
    /// and trusts them while the epoch stays, so every change of either must renew it.
    epoch: u64,
    /// Runs the code linked into this binary ([`Host::linked`]): never builds nor loads.
    linked: bool,
    /// The plugins this one runs with, if any ([`crate::embed::Plugins`]).
    membership: Option<Membership>,
}

/// A number never returned before in this process (never 0).
fn fresh_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
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
            slots: SlotTable::default(),
            version: 0,
            id: fresh_number(),
            epoch: fresh_number(),
            linked: false,
            membership: None,
        }
    }

    /// A host of the plugin crate that is linked into this binary (a release build's `static`
    /// feature: see [`crate::slots::release`]): this build's own types and hot functions
    /// (`coo_runtime::plugin::Manifest::of_this_build`) as version 1, with an empty state, as
    /// a first reload would leave it, with no cargo, no library and no files touched.
    /// `plugin_dir` is only kept ([`Host::builder`]); reloading is refused
    /// ([`ReloadError::Linked`]). Calls, typed handles and the state work as with a loaded
    /// plugin. Everything linked into the binary is this one plugin's.
    pub fn linked(plugin_dir: impl Into<PathBuf>) -> Result<Host, ReloadError> {
        let builder = Builder::new(plugin_dir);
        let mut host = Host {
            loader: Loader::in_target_dir(builder.target_dir()),
            builder,
            state: State::new(),
            library: None,
            catalog: Catalog::default(),
            slots: SlotTable::default(),
            version: 0,
            id: fresh_number(),
            epoch: fresh_number(),
            linked: true,
            membership: None,
        };
        let manifest = Manifest::of_this_build();
        manifest.set_drop_sink(this_sink());
        host.install(manifest, ImageRef::STATIC, None, None, Duration::ZERO)?;
        Ok(host)
    }

    /// Makes this host a member of `membership`'s plugins: from its next reload on, its
    /// imports and exports are bound through the hub (see [`imports`]). The host's current
    /// version, if it has one, is registered now.
    pub(crate) fn join(&mut self, membership: Membership) -> Result<(), Box<PluginConflict>> {
        if let Some(library) = &self.library {
            let manifest = library.manifest_static();
            let mut hub = membership.hub();
            hub.check(&membership.name, manifest)?;
            let cut = hub.commit(&membership.name, manifest, &library.image_ref());
            debug_assert!(cut.is_empty(), "a new member cuts no import: {cut:?}");
        }
        self.membership = Some(membership);
        Ok(())
    }

    /// The name of this plugin among the plugins it runs with ([`crate::embed::Plugins`]).
    pub fn plugin_name(&self) -> Option<&str> {
        self.membership.as_ref().map(|m| m.name.as_str())
    }

    /// Whether this host runs the code linked into this binary ([`Host::linked`]).
    pub fn is_linked(&self) -> bool {
        self.linked
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
        self.epoch = fresh_number();
        &mut self.state
    }

    /// The state, for a typed call: it changes no resource's place, so the epoch stays.
    #[inline]
    pub(crate) fn state_for_calls(&mut self) -> &mut State {
        &mut self.state
    }

    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
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
        self.slots.fns()
    }

    /// Builds the plugin and reloads it (the first call loads it).
    pub fn reload(&mut self) -> Result<ReloadReport, ReloadError> {
        self.reload_with(&mut |_| {})
    }

    /// [`Host::reload`], passing what the build tells while it runs (cargo's progress) to
    /// `progress`.
    pub fn reload_with(
        &mut self,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<ReloadReport, ReloadError> {
        if self.linked {
            return Err(ReloadError::Linked);
        }
        let output = self.builder.build_with(progress)?;
        self.reload_from(&output.dylib, Some(output.duration))
    }

    /// Reloads from an already built library.
    pub fn reload_from(
        &mut self,
        dylib: &Path,
        build: Option<Duration>,
    ) -> Result<ReloadReport, ReloadError> {
        let prepared = self.prepare_from(dylib, build)?;
        self.check_alone(prepared.manifest)?;
        self.migrate_and_commit(prepared)
    }

    /// Loads an already built library and prepares this host's reload to it (see
    /// [`Host::prepare`]), the import checks aside.
    fn prepare_from(&self, dylib: &Path, build: Option<Duration>) -> Result<Prepared, ReloadError> {
        if self.linked {
            return Err(ReloadError::Linked);
        }
        let started = Instant::now();
        let library = self.loader.load(dylib)?;
        // Every pointer taken from the manifest below is kept together with this guard.
        let image = library.image_ref();
        let manifest = library.manifest_static();
        // The library's drop glue reports a panicking `Drop` to this host, in its memory.
        manifest.set_drop_sink(this_sink());
        let load = started.elapsed();
        self.prepare(manifest, image, Some(library), build, load)
    }

    /// The reload transaction proper, for the code of `manifest`, whose pointers stay valid
    /// while `image` is held (and `library`, when it is a loaded one).
    fn install(
        &mut self,
        manifest: &'static Manifest,
        image: ImageRef,
        library: Option<LoadedLibrary>,
        build: Option<Duration>,
        load: Duration,
    ) -> Result<ReloadReport, ReloadError> {
        let prepared = self.prepare(manifest, image, library, build, load)?;
        self.check_alone(prepared.manifest)?;
        self.migrate_and_commit(prepared)
    }

    /// What a reload does before it migrates, all of which can fail and none of which changes
    /// anything: the new catalog, the migration plan of the state and the plan of the function
    /// slots. The checks against what runs beside it come apart: [`Host::check_alone`] for a
    /// plugin that reloads alone, [`together`]'s for every plugin of one transaction.
    fn prepare(
        &self,
        manifest: &'static Manifest,
        image: ImageRef,
        library: Option<LoadedLibrary>,
        build: Option<Duration>,
        load: Duration,
    ) -> Result<Prepared, ReloadError> {
        let started = Instant::now();
        // SAFETY: the manifest's types live in the image `image` guards.
        let catalog =
            unsafe { Catalog::from_image(manifest.types().iter().copied(), image.clone()) }?;
        let plan = self.state.plan(&catalog)?;
        let slot_plan = self.slots.plan(
            manifest.fns(),
            manifest.alternatives(),
            &catalog,
            image.clone(),
        );
        Ok(Prepared {
            slot_plan,
            plan,
            catalog,
            manifest,
            image,
            library,
            build,
            load,
            started,
        })
    }

    /// The checks of a plugin that reloads alone: its host object types are those the running
    /// version sees (the host binary keeps its own definition of them), and its imports and
    /// resources agree with the other plugins of this host's
    /// [`Plugins`](crate::embed::Plugins), if it has any.
    ///
    /// A plugin reloaded in one transaction with others that share a changed crate is not held
    /// to the first check: a type of that crate that it takes as a host object may have a new
    /// layout, which its partners see too. Its functions that take it change signature, so
    /// their slots are replaced (handles resolved earlier fail instead of passing an old value),
    /// and a typed handle of the host resolves only with the same layout.
    /// `manifest` is the new build's (`plan` makes the same checks: `Host::preview`).
    pub(super) fn check_alone(&self, manifest: &Manifest) -> Result<(), ReloadError> {
        changed_host_types(&self.slots.fns(), manifest.fns()).map_err(ReloadError::HostType)?;
        match &self.membership {
            Some(member) => member
                .hub()
                .check(&member.name, manifest)
                .map_err(ReloadError::Import),
            None => Ok(()),
        }
    }

    /// Migrates the state to the prepared version (the last step that can fail: on failure it
    /// leaves the state as it was, and dropping `prepared` closes the new image) and commits.
    fn migrate_and_commit(&mut self, prepared: Prepared) -> Result<ReloadReport, ReloadError> {
        let migration = self.state.migrate(&prepared.plan)?;
        Ok(self.commit(prepared, migration, None))
    }

    /// The commit of a reload whose state was migrated (`migration`): swaps the slots, binds
    /// the import slots that involve this plugin (unless the caller did, for every plugin of
    /// one transaction: `imports` is then what that cut of this plugin's callers) and releases
    /// the old version. Nothing here can fail.
    fn commit(
        &mut self,
        prepared: Prepared,
        migration: coo_runtime::Report,
        imports: Option<Vec<CutImport>>,
    ) -> ReloadReport {
        let Prepared {
            slot_plan,
            plan,
            catalog,
            manifest,
            image,
            library,
            build,
            load,
            started,
        } = prepared;
        // The resources now live at new addresses, of the new types.
        self.epoch = fresh_number();

        let from_version = self.version;
        self.version += 1;
        let report = self.slots.commit(self.version, slot_plan);
        // The import slots that involve this plugin, in the same commit: before the old image
        // is released below, so that none still points into it then.
        let imports_cut = match (imports, &self.membership) {
            (Some(cut), _) => cut,
            (None, Some(member)) => member.hub().commit(&member.name, manifest, &image),
            (None, None) => Vec::new(),
        };
        if let Some(library) = &library {
            library.image().set_version(self.version);
        }
        // Release the old version: the state no longer refers to it (old values dropped, kept
        // ones moved to the new types), nor do the slots; the plan, catalog and library were
        // the last holders, unless a handle resolved against it is still held.
        drop(plan);
        drop(image);
        let old_catalog = core::mem::replace(&mut self.catalog, catalog);
        let old_library = core::mem::replace(&mut self.library, library);
        drop(old_catalog);
        drop(old_library);
        let migrate = started.elapsed();
        ReloadReport {
            from_version,
            to_version: self.version,
            build,
            load,
            migrate,
            fns_added: report.added,
            fns_removed: report.removed,
            fns_changed: report.changed,
            fns_updated: report.updated,
            alternatives_gone: report.alternatives_gone,
            imports_cut,
            together: Vec::new(),
            migration,
            kept: kept(),
            pinned: take_pinned(),
            drop_panics: take_drop_panics(),
        }
    }

    /// The values whose `Drop` panicked on this thread since the last report (a reload reports
    /// its own in [`ReloadReport::drop_panics`]): a resource replaced by a call, arguments of a
    /// call that never ran, a failed reload's partial values. Each was leaked, not dropped again.
    pub fn take_drop_panics(&mut self) -> Vec<DropPanic> {
        take_drop_panics()
    }

    /// The implementations of the hot function `name`: its own, then its alternatives
    /// (`#[hot_fn(alt_of = "name", name = "...")]`) by name, each saying whether its slot runs it.
    pub fn alternatives(&self, name: &str) -> Result<Vec<Alternative>, CallError> {
        self.slots.alternatives(name)
    }

    /// Makes the slot of the hot function `name` run its implementation `alternative` (its own
    /// is chosen by the function's name), live: every call through the slot, its handles and
    /// typed handles, runs it from now on (a new epoch: typed handles look the slot up again).
    /// The choice survives reloads while the new version has that implementation (see
    /// [`ReloadReport::alternatives_gone`]). Fails with
    /// [`CallErrorKind::NoAlternative`](crate::CallErrorKind::NoAlternative) (nothing changed).
    pub fn choose(&mut self, name: &str, alternative: &str) -> Result<(), CallError> {
        self.slots.choose(name, alternative)?;
        self.epoch = fresh_number();
        Ok(())
    }

    /// Resolves a function by name, once; call the handle as often as needed.
    pub fn resolve(&self, name: &str) -> Result<FnHandle, CallError> {
        self.slots.resolve(name)
    }

    /// Resolves a function by name with a Rust function type `F`, checked against the plugin's
    /// signature: `F` lists the arguments the caller passes (the resource parameters are bound
    /// by the call) and the return, as in `fn(u64, u64) -> u64`. See [`HotFn`].
    pub fn resolve_typed<F: HotSig>(&self, name: &str) -> Result<HotFn<F>, CallError> {
        let handle = self.slots.resolve(name)?;
        HotFn::resolve(handle.slot_arc(), name, self.id)
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
    /// [`CallErrorKind::Panicked`](crate::slots::CallErrorKind::Panicked); the host and its state stay usable. No allocation changes
    /// owner: `String` arguments are copied by the plugin, returned strings and panic messages
    /// by the host.
    pub fn call(&mut self, f: &FnHandle, args: &[Value]) -> Result<Value, CallError> {
        // A returned value replaces a resource.
        self.epoch = fresh_number();
        crate::slots::call::call(&mut self.state, f, args)
    }
}
