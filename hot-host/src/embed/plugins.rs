//! Several plugin crates in one program: [`Plugins`], one [`Coo`] per crate (each watched,
//! built and reloaded on its own, or in one transaction with the others that share a crate
//! that changed), their names, and the calls across them.
//!
//! # Names
//! Each plugin is named by its crate name (`physics` for the library `libphysics.so`) or the
//! name given to [`Plugins::add`]. A function is reached as `physics::step` always, and as
//! `step` when only one plugin defines it ([`CallErrorKind::Ambiguous`] otherwise). When the
//! first segment of a name is a plugin's name, the name is that plugin's (a plugin's own
//! module named like another plugin is reached qualified: `game::physics::step`).
//!
//! # State
//! Each plugin owns the state of the types its hot functions bind (its own host holds it and
//! binds it): a plugin whose functions bind a resource type that another plugin already binds
//! is refused at load ([`PluginConflict::ResourceOwned`], naming both). Another plugin reaches
//! that state by calling the owner's hot functions, declared with
//! [`coo_runtime::import!`] (see [`coo_runtime::plugin::imports`]).
//!
//! # Calls across plugins
//! A caller's import slots are filled by the host when both plugins are loaded, in either order;
//! until then (and when the provider's reload removes the function or changes its signature)
//! the call returns [`coo_runtime::plugin::imports::ImportError`] to the caller's code, which
//! keeps running. A caller whose declaration disagrees with the loaded provider is refused at
//! load ([`PluginConflict::Mismatch`], naming both sides). A provider's reload that changes or
//! removes an imported function is not refused (that would leave no order in which to change a
//! signature used across plugins): it cuts the caller's slot and its report says so
//! ([`ReloadReport::imports_cut`]). Reloading the provider re-points the caller's slots in the
//! same commit, so the caller's next call runs the new code without reloading the caller.
//!
//! # Shared crates
//! A crate that several plugins depend on (a shared types crate, or one plugin's crate that
//! another depends on) is watched by each of them, and a save in it reloads all of them in
//! **one transaction**: all migrate and swap, or none does (see
//! [`crate::reload::together`]).
//!
//! Which plugins a change affects is read from the paths each build includes: every plugin's
//! watcher watches what `cargo metadata` says its library build reads (its own sources and those
//! of the path packages it depends on: [`Coo::watched`]), and reports the paths that changed;
//! a plugin's finished build is *shared* when one of its changed paths is watched by another
//! plugin too. [`Plugins::update`] applies a build that is not shared at once, as before (a
//! plugin's own source reloads it alone). A shared build is held, the old code running on, and
//! the build's plugins (every plugin that watches one of its paths) are grouped with those of
//! any other held build they overlap. A group is reloaded once every plugin of it has a held
//! build and none of them is still building: `update` returns nothing for them until then,
//! then one outcome per plugin of the group, in one call. A plugin's build that comes while
//! another held build waits for it joins that group, whatever its paths.
//!
//! If any plugin of the group fails (its build, its load, an import check, its migration),
//! none is reloaded: every plugin keeps its old code and state; the failed plugin's outcome is
//! its own error and every other one's is [`ReloadError::Together`], naming the failed one.
//! The successful builds stay held: the group is tried again when one of its plugins brings a
//! new build (after a fix in the shared crate, all of them do; after a fix in one plugin's own
//! source, that one does). A report of a group's reload lists the other plugins of the
//! transaction ([`ReloadReport::together`]).
//!
//! Not grouped: a plugin that does not watch its sources ([`CooOptions::watch`] off), and a
//! build whose watcher lost events (its paths are unknown; it reloads alone). A plugin whose
//! watcher never reports the shared change leaves its group waiting; saving again rebuilds it.
//!
//! Types of a shared crate passed across as `&T`/`&mut T` are checked by name, size and
//! alignment when an import slot is bound: within one transaction against the other plugins'
//! new versions; a caller built against another layout than its loaded provider's is refused
//! ([`PluginConflict::Layout`]), and a provider loaded or reloaded with another layout than its
//! caller's cuts the caller's slot ([`CutImport::layout`](crate::reload::CutImport)), naming
//! the type and both layouts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::build::{BuildError, BuildOutput};
use crate::embed::{Coo, CooOptions};
use crate::reload::imports::Hub;
use crate::reload::together::{Member, reload_together};
use crate::reload::{Host, Membership, PluginConflict, ReloadError, ReloadReport};
use crate::slots::{CallError, CallErrorKind, FnHandle, FnRef, HotFn, HotSig, Value};
use crate::watch::WatchSet;

/// Several plugin crates running together (see the [module docs](self)).
#[derive(Debug, Default)]
pub struct Plugins {
    /// In the order they were added.
    plugins: Vec<(String, Coo)>,
    hub: Arc<Mutex<Hub>>,
    /// Finished builds waiting for the other plugins of their transaction, by plugin (see
    /// the [module docs](self), "Shared crates").
    held: BTreeMap<String, Held>,
}

/// A finished build held for a transaction with other plugins.
#[derive(Debug)]
struct Held {
    result: Result<BuildOutput, BuildError>,
    /// The plugins it is to be reloaded with (itself included).
    group: BTreeSet<String>,
    /// Whether a transaction with it failed already (for another plugin): it is not tried
    /// again until one plugin of its group brings a new build.
    tried: bool,
}

/// Whether `set` watches `path`.
fn watches(set: &WatchSet, path: &Path) -> bool {
    set.dirs.iter().any(|dir| path.starts_with(dir)) || set.files.iter().any(|f| f == path)
}

/// The groups that overlapping `sets` make: each the union of the sets that share a member
/// with it, directly or not.
fn merge(sets: impl IntoIterator<Item = BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for mut set in sets {
        while let Some(i) = groups.iter().position(|g| !g.is_disjoint(&set)) {
            set.extend(groups.swap_remove(i));
        }
        groups.push(set);
    }
    groups
}

/// A function resolved by [`Plugins::resolve`]: its plugin and its handle.
#[derive(Debug, Clone)]
pub struct PluginFn {
    plugin: String,
    handle: FnHandle,
}

impl PluginFn {
    /// The plugin that defines it.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    pub fn handle(&self) -> &FnHandle {
        &self.handle
    }

    /// `physics::step`.
    pub fn qualified(&self) -> String {
        format!("{}::{}", self.plugin, self.handle.path())
    }
}

/// The crate name of a built plugin library: `libphysics.so` → `physics`.
fn crate_name(dylib: &std::path::Path) -> String {
    let stem = dylib
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.strip_prefix("lib") {
        Some(name) if !cfg!(windows) => name.to_owned(),
        _ => stem,
    }
}

impl Plugins {
    /// No plugins yet: add them with [`Plugins::add`] or [`Plugins::add_dir`].
    pub fn new() -> Plugins {
        Plugins::default()
    }

    /// Builds, loads and watches the plugin crate in each of `dirs` (into
    /// `<dir>/target/coo`), in order, each named by its crate name. The first failure is
    /// returned (the plugins loaded before it are dropped).
    pub fn start(
        dirs: impl IntoIterator<Item = impl Into<PathBuf>>,
    ) -> Result<Plugins, ReloadError> {
        let mut plugins = Plugins::new();
        for dir in dirs {
            plugins.add_dir(Host::new(dir), CooOptions::default())?;
        }
        Ok(plugins)
    }

    /// Adds the plugin crate of `host`, named by its crate name: watches its sources (as
    /// `options` say), builds it now and loads it. Returns the plugin's name and its first
    /// reload's report.
    pub fn add_dir(
        &mut self,
        host: Host,
        options: CooOptions,
    ) -> Result<(String, ReloadReport), ReloadError> {
        // The watch starts before the build, so a save during it is not missed.
        let mut coo = Coo::new(host, options);
        coo.supersede();
        let output = coo.host().builder().build()?;
        let name = crate_name(&output.dylib);
        self.join(&name, &mut coo)?;
        let report = coo
            .host_mut()
            .reload_from(&output.dylib, Some(output.duration))?;
        self.plugins.push((name.clone(), coo));
        Ok((name, report))
    }

    /// Adds the plugin crate of `host` under `name`: watches it (as `options` say), builds it
    /// now and loads it ([`Coo::start_with`]).
    pub fn add(
        &mut self,
        name: &str,
        host: Host,
        options: CooOptions,
    ) -> Result<ReloadReport, ReloadError> {
        let mut coo = Coo::new(host, options);
        self.join(name, &mut coo)?;
        let report = coo.reload_now()?;
        self.plugins.push((name.to_owned(), coo));
        Ok(report)
    }

    fn join(&self, name: &str, coo: &mut Coo) -> Result<(), ReloadError> {
        if let Some((_, first)) = self.plugins.iter().find(|(n, _)| n == name) {
            return Err(PluginConflict::SameName {
                name: name.to_owned(),
                first: first.host().builder().plugin_dir().display().to_string(),
                second: coo.host().builder().plugin_dir().display().to_string(),
            }
            .into());
        }
        coo.host_mut()
            .join(Membership {
                name: name.to_owned(),
                hub: self.hub.clone(),
            })
            .map_err(ReloadError::Import)?;
        Ok(())
    }

    /// Applies each plugin's finished build, if it has one (see [`Coo::update`]): the reports
    /// and errors, by plugin name, of the plugins that had one. A reload of one plugin leaves
    /// the others' state and code as they are (except their import slots, re-pointed to the
    /// reloaded plugin's new code). A build that includes a change to a crate other plugins
    /// watch too is held until all of them can reload in one transaction: then their outcomes
    /// come together, one per plugin (see the [module docs](self), "Shared crates").
    pub fn update(&mut self) -> Vec<(String, Result<ReloadReport, ReloadError>)> {
        // No code of these plugins runs now (`&mut self`): the provider code that import
        // slots left at earlier commits may go.
        self.hub
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .release_retired();
        let mut outcomes = Vec::new();
        for i in 0..self.plugins.len() {
            let Some(finished) = self.plugins[i].1.next_build() else {
                continue;
            };
            let name = self.plugins[i].0.clone();
            let mut group = self.touched(&finished.paths);
            group.insert(name.clone());
            let waited_for = self.held.values().any(|h| h.group.contains(&name));
            if group.len() == 1 && !waited_for {
                let coo = &mut self.plugins[i].1;
                let outcome = match finished.result {
                    Ok(output) => coo
                        .host_mut()
                        .reload_from(&output.dylib, Some(output.duration)),
                    Err(e) => Err(ReloadError::Build(e)),
                };
                outcomes.push((name, outcome));
                continue;
            }
            if let Some(old) = self.held.get(&name) {
                group.extend(old.group.iter().cloned());
            }
            let held = Held {
                result: finished.result,
                group,
                tried: false,
            };
            self.held.insert(name, held);
        }
        for group in merge(self.held.values().map(|h| h.group.clone())) {
            if self.ready(&group) {
                outcomes.extend(self.reload_group(&group));
            }
        }
        outcomes
    }

    /// The plugins that watch one of `paths`.
    fn touched(&self, paths: &[PathBuf]) -> BTreeSet<String> {
        self.plugins
            .iter()
            .filter(|(_, coo)| paths.iter().any(|p| watches(coo.watched(), p)))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether `group` can be reloaded now: each of its plugins has a held build, none is
    /// building, and one of the builds was not tried yet.
    fn ready(&self, group: &BTreeSet<String>) -> bool {
        group.iter().all(|name| {
            self.held.contains_key(name) && !self.coo(name).is_some_and(Coo::is_building)
        }) && group.iter().any(|name| !self.held[name].tried)
    }

    /// Reloads the plugins of `group` in one transaction, with their held builds; on failure,
    /// the successful builds stay held, tried.
    fn reload_group(
        &mut self,
        group: &BTreeSet<String>,
    ) -> Vec<(String, Result<ReloadReport, ReloadError>)> {
        let mut builds: BTreeMap<String, Held> = group
            .iter()
            .filter_map(|name| self.held.remove_entry(name))
            .collect();
        let kept: Vec<(String, BuildOutput)> = builds
            .iter()
            .filter_map(|(name, h)| h.result.as_ref().ok().map(|o| (name.clone(), o.clone())))
            .collect();
        let members: Vec<Member<'_>> = self
            .plugins
            .iter_mut()
            .filter_map(|(name, coo)| {
                let held = builds.remove(name)?;
                Some(Member {
                    name: name.clone(),
                    host: coo.host_mut(),
                    build: held.result,
                })
            })
            .collect();
        let outcomes = reload_together(members, &self.hub);
        if outcomes.iter().any(|(_, o)| o.is_err()) {
            for (name, output) in kept {
                let held = Held {
                    result: Ok(output),
                    group: group.clone(),
                    tried: true,
                };
                self.held.insert(name, held);
            }
        }
        outcomes
    }

    /// The plugins' names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.plugins.iter().map(|(name, _)| name.as_str())
    }

    pub fn coo(&self, plugin: &str) -> Option<&Coo> {
        self.plugins
            .iter()
            .find(|(n, _)| n == plugin)
            .map(|(_, c)| c)
    }

    /// The plugin's [`Coo`] (its events, a reload now); its reloads re-point the import slots
    /// of the others too.
    pub fn coo_mut(&mut self, plugin: &str) -> Option<&mut Coo> {
        self.plugins
            .iter_mut()
            .find(|(n, _)| n == plugin)
            .map(|(_, c)| c)
    }

    pub fn host(&self, plugin: &str) -> Option<&Host> {
        self.coo(plugin).map(Coo::host)
    }

    pub fn host_mut(&mut self, plugin: &str) -> Option<&mut Host> {
        self.coo_mut(plugin).map(Coo::host_mut)
    }

    /// Every plugin's functions, by qualified name (`physics::step`), sorted.
    pub fn fns(&self) -> Vec<(String, FnRef)> {
        let mut fns: Vec<(String, FnRef)> = self
            .plugins
            .iter()
            .flat_map(|(plugin, coo)| {
                coo.host()
                    .fns()
                    .into_iter()
                    .map(move |(name, f)| (format!("{plugin}::{name}"), f))
            })
            .collect();
        fns.sort_by(|a, b| a.0.cmp(&b.0));
        fns
    }

    /// Resolves `name`: `physics::step`, or `step` when one plugin alone defines it (see the
    /// [module docs](self)).
    pub fn resolve(&self, name: &str) -> Result<PluginFn, CallError> {
        let plugin_fn = |plugin: &str, handle| PluginFn {
            plugin: plugin.to_owned(),
            handle,
        };
        if let Some((plugin, rest)) = name.split_once("::")
            && let Some(host) = self.host(plugin)
        {
            return host.resolve(rest).map(|h| plugin_fn(plugin, h));
        }
        let mut found: Vec<PluginFn> = self
            .plugins
            .iter()
            .filter_map(|(plugin, coo)| coo.host().resolve(name).ok().map(|h| plugin_fn(plugin, h)))
            .collect();
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(CallError::of(
                name,
                CallErrorKind::NotFound {
                    known: self.fns().into_iter().map(|(n, _)| n).collect(),
                },
            )),
            _ => Err(CallError::of(
                name,
                CallErrorKind::Ambiguous {
                    candidates: found.iter().map(PluginFn::qualified).collect(),
                },
            )),
        }
    }

    /// Resolves and calls `name` (see [`Plugins::resolve`] and [`Host::call`]).
    pub fn call_by_name(&mut self, name: &str, args: &[Value]) -> Result<Value, CallError> {
        let f = self.resolve(name)?;
        self.call(&f, args)
    }

    /// Calls `f` with its plugin's host (see [`Host::call`]); an error names the function
    /// qualified (`game::advance`).
    pub fn call(&mut self, f: &PluginFn, args: &[Value]) -> Result<Value, CallError> {
        let host = self
            .host_mut(&f.plugin)
            .expect("a resolved function's plugin stays in its `Plugins`");
        host.call(&f.handle, args).map_err(|mut e| {
            e.name = f.qualified();
            e
        })
    }

    /// Resolves `name` (as [`Plugins::resolve`] does) with a Rust function type `F` (see
    /// [`Host::resolve_typed`]); call it with [`Plugins::call_typed`], or with its plugin's
    /// host.
    pub fn resolve_typed<F: HotSig>(&self, name: &str) -> Result<HotFn<F>, CallError> {
        let f = self.resolve(name)?;
        self.host(&f.plugin)
            .expect("a resolved function's plugin stays in its `Plugins`")
            .resolve_typed(f.handle.path())
    }

    /// Calls the typed handle `f` with the host of the plugin that resolved it
    /// ([`CallErrorKind::OtherHost`] if none of these plugins did).
    pub fn call_typed<F: HotSig>(
        &mut self,
        f: &HotFn<F>,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        match self
            .plugins
            .iter_mut()
            .find(|(_, coo)| coo.host().id() == f.host_id())
        {
            Some((_, coo)) => f.call(coo.host_mut(), args),
            None => Err(CallError::of(f.path(), CallErrorKind::OtherHost)),
        }
    }

    /// The import slots of `plugin`: `(provider::function, whether it is bound now)`.
    pub fn imports(&self, plugin: &str) -> Vec<(String, bool)> {
        self.hub
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .imports_of(plugin)
    }
}
