//! Several plugin crates in one program: [`Plugins`], one [`Coo`] per crate (each watched,
//! built and reloaded on its own), their names, and the calls across them.
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
//! A crate that several plugins depend on (a shared types crate) is watched by each of them:
//! a save in it rebuilds and reloads each plugin on its own, one transaction each, in the order
//! their builds finish. Between two of those reloads the plugins run different versions of the
//! shared crate: types passed across as `&T`/`&mut T` are checked by name, size and alignment
//! when a slot is bound (one that changed cuts the slot until the other side reloads too).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::embed::{Coo, CooOptions};
use crate::reload::imports::Hub;
use crate::reload::{Host, Membership, PluginConflict, ReloadError, ReloadReport};
use crate::slots::{CallError, CallErrorKind, FnHandle, FnRef, HotFn, HotSig, Value};

/// Several plugin crates running together (see the [module docs](self)).
#[derive(Debug, Default)]
pub struct Plugins {
    /// In the order they were added.
    plugins: Vec<(String, Coo)>,
    hub: Arc<Mutex<Hub>>,
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
    /// reloaded plugin's new code).
    pub fn update(&mut self) -> Vec<(String, Result<ReloadReport, ReloadError>)> {
        // No code of these plugins runs now (`&mut self`): the provider code that import
        // slots left at earlier commits may go.
        self.hub
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .release_retired();
        let mut outcomes = Vec::new();
        for (name, coo) in &mut self.plugins {
            if let Some(outcome) = coo.update() {
                outcomes.push((name.clone(), outcome));
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
