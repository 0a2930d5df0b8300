//! Several plugins in one host process: what each loaded plugin provides and imports, kept by a
//! [`Hub`] that the [`Host`](super::Host)s of one [`Plugins`](crate::embed::Plugins) share, and
//! the import slots it fills (see [`coo_runtime::plugin::imports`]).
//!
//! A reload of one plugin asks the hub twice. Before its commit ([`Hub::check`]): a declaration
//! of the new version that disagrees with a loaded provider's function, or a resource type that
//! another plugin already owns, refuses the reload (nothing changes). At its commit
//! ([`Hub::commit`], right after its function slots are swapped, before its old image is
//! released): the plugin's exports and imports are replaced by the new version's, and every
//! import slot that names the plugin, in any plugin, and every import slot of the plugin itself,
//! is bound again: to the new code, or cut (removed, signature changed, provider not loaded).
//! Each binding holds the provider's image guard, so an old provider image is unmapped only once
//! no import slot points into it.
//!
//! # Who owns what
//! Each plugin owns the state of the types its hot functions bind (`&T`/`&mut T` parameters,
//! values returned): its own host binds them, and no other plugin can name them as resources.
//! Two plugins whose functions bind resources of the same type name are refused at the load of
//! the second ([`PluginConflict::ResourceOwned`]). Another plugin reaches that state through the
//! owner's hot functions, imported.

use std::collections::BTreeMap;
use std::fmt;

use coo_runtime::ImageRef;
use coo_runtime::plugin::imports::ImportDesc;
use coo_runtime::plugin::{FnDesc, Manifest, ValueKind};

use crate::slots::FnRef;

/// Why a plugin's reload was refused by what another loaded plugin has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginConflict {
    /// The caller's declaration does not match the provider's function.
    #[error(
        "`{caller}` imports `{provider}::{function}` as `{declared}`, but `{provider}` defines it as `{found}`; write `fn {function}{found_tail};` in `{caller}`'s `import! {{ from {provider} {{ .. }} }}`"
    )]
    Mismatch {
        caller: String,
        provider: String,
        function: String,
        declared: String,
        found: String,
        /// `found` without its leading `fn`, as the declaration writes it.
        found_tail: String,
    },
    /// The declaration reads like the provider's function, but a type of a shared crate that
    /// it passes by reference has another layout on each side.
    #[error(
        "`{caller}` imports `{provider}::{function}` taking `{ty}` of {declared}, but `{provider}` was built with `{ty}` of {found}: the two plugins were built against different versions of the crate that defines it; make both depend on the same copy of it, and save it to rebuild both"
    )]
    Layout {
        caller: String,
        provider: String,
        function: String,
        ty: String,
        /// The caller's layout of `ty`: `16 bytes, align 8`.
        declared: String,
        found: String,
    },
    /// A plugin of this name runs already.
    #[error(
        "a plugin named `{name}` runs already (from {first}), so {second} cannot be added under that name; give one of them another name"
    )]
    SameName {
        name: String,
        first: String,
        second: String,
    },
    /// Two plugins bind resources of one type name.
    #[error(
        "`{plugin}` binds the resource `{ty}`, which `{owner}` already owns (each plugin owns the state of its own types); rename the type in one of them, or reach `{owner}`'s through its hot functions (`import!`)"
    )]
    ResourceOwned {
        ty: String,
        plugin: String,
        owner: String,
    },
}

/// A type of a shared crate that two plugins see with different layouts (they were built
/// against different versions of the crate): its name, and its layout as each side sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeLayouts {
    /// `shared_types::Stats`.
    pub ty: String,
    /// The caller's: `16 bytes, align 8`.
    pub declared: String,
    /// The provider's.
    pub found: String,
}

/// A provider's change that cut an import slot of a caller: the caller keeps running, its calls
/// of the function fail until one side is changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutImport {
    pub caller: String,
    pub provider: String,
    pub function: String,
    pub declared: String,
    /// The provider's signature now; `None` when it removed the function.
    pub found: Option<String>,
    /// When the signatures read alike but a type of a shared crate has another layout on each
    /// side: that type and both layouts.
    pub layout: Option<TypeLayouts>,
}

impl fmt::Display for CutImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (caller, provider, function) = (&self.caller, &self.provider, &self.function);
        if let Some(TypeLayouts {
            ty,
            declared,
            found,
        }) = &self.layout
        {
            return write!(
                f,
                "`{caller}` imports `{provider}::{function}` taking `{ty}` of {declared}, but `{provider}` was built with `{ty}` of {found}: its calls fail until both are built against the same copy of the crate that defines it"
            );
        }
        match &self.found {
            None => write!(
                f,
                "`{caller}` imports `{provider}::{function}`, which `{provider}` no longer defines: its calls fail until it is defined again"
            ),
            Some(found) => write!(
                f,
                "`{caller}` imports `{provider}::{function}` as `{}`, and `{provider}` now defines it as `{found}`: its calls fail until `{caller}`'s declaration is updated",
                self.declared
            ),
        }
    }
}

/// One import slot in a caller's image, and the provider code it holds.
#[derive(Debug)]
struct Bound {
    /// Lives in the caller's image, which `caller_image` keeps mapped.
    desc: &'static ImportDesc,
    /// Held for `desc`, never read.
    _caller_image: ImageRef,
    /// The code the slot points into, with its image's guard.
    provider: Option<FnRef>,
}

impl Bound {
    fn desc(&self) -> &ImportDesc {
        self.desc
    }
}

/// What one loaded plugin provides and imports.
#[derive(Debug, Default)]
struct Entry {
    exports: BTreeMap<String, FnRef>,
    imports: Vec<Bound>,
    /// The types its functions bind as resources.
    resources: Vec<String>,
}

/// The loaded plugins of one process's [`Plugins`](crate::embed::Plugins), by name.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    plugins: BTreeMap<String, Entry>,
    /// Provider code that import slots pointed to before they were re-pointed: kept mapped
    /// until [`Hub::release_retired`], which `Plugins` calls where none of its plugins runs.
    /// A commit runs under `&mut` of one host only; a host taken out of its `Plugins`
    /// (`mem::swap` through `host_mut`) could commit while another plugin's call runs the old
    /// code through its slot.
    retired: Vec<FnRef>,
}

/// The types `fns` bind as resources, sorted, each once.
fn resources(fns: &[&FnDesc]) -> Vec<String> {
    let mut types: Vec<String> = fns
        .iter()
        .flat_map(|f| f.params().iter().map(|p| p.kind()).chain([f.ret()]))
        .filter_map(|kind| match kind {
            ValueKind::Ref(t) | ValueKind::RefMut(t) | ValueKind::Value(t) => {
                Some(t.get().name().to_owned())
            }
            _ => None,
        })
        .collect();
    types.sort();
    types.dedup();
    types
}

/// The first type passed by reference that `import` and `found` name alike with other layouts.
fn layouts(import: &ImportDesc, found: &FnDesc) -> Option<TypeLayouts> {
    if import.params().len() != found.params().len() {
        return None;
    }
    let text = |layout: Option<(usize, usize)>| match layout {
        Some((size, align)) => format!("{size} bytes, align {align}"),
        None => "a trait object".to_owned(),
    };
    import
        .params()
        .iter()
        .zip(found.params())
        .find_map(|(a, b)| match (a.kind(), b.kind()) {
            (ValueKind::Host { ty: a, .. }, ValueKind::Host { ty: b, .. })
                if a.get().name() == b.get().name() && a.get() != b.get() =>
            {
                Some(TypeLayouts {
                    ty: a.get().name().to_owned(),
                    declared: text(a.get().layout()),
                    found: text(b.get().layout()),
                })
            }
            _ => None,
        })
}

fn mismatch(caller: &str, import: &ImportDesc, found: &FnDesc) -> PluginConflict {
    if import.signature() == found.signature()
        && let Some(TypeLayouts {
            ty,
            declared,
            found,
        }) = layouts(import, found)
    {
        return PluginConflict::Layout {
            caller: caller.to_owned(),
            provider: import.from().to_owned(),
            function: import.name().to_owned(),
            ty,
            declared,
            found,
        };
    }
    let found = found.signature();
    PluginConflict::Mismatch {
        caller: caller.to_owned(),
        provider: import.from().to_owned(),
        function: import.name().to_owned(),
        declared: import.signature(),
        found_tail: found.strip_prefix("fn").unwrap_or(&found).to_owned(),
        found,
    }
}

impl Hub {
    /// Whether `plugin` may become the code of `manifest`: its declarations match the loaded
    /// providers' functions, and no other plugin owns a resource type it binds.
    pub(crate) fn check(
        &self,
        plugin: &str,
        manifest: &Manifest,
    ) -> Result<(), Box<PluginConflict>> {
        self.check_together(&[(plugin, manifest)])
            .map_err(|(_, conflict)| conflict)
    }

    /// Whether each of `members` may become the code of its manifest, all at once (one
    /// transaction): [`Hub::check`], where a member's imports from another member are checked
    /// against that member's new functions, and resource types against the members' new ones.
    /// The first conflict comes with the index of the member it refuses.
    pub(crate) fn check_together(
        &self,
        members: &[(&str, &Manifest)],
    ) -> Result<(), (usize, Box<PluginConflict>)> {
        let member = |name: &str| members.iter().find(|(n, _)| *n == name).map(|(_, m)| *m);
        for (index, &(plugin, manifest)) in members.iter().enumerate() {
            for import in manifest.imports() {
                if import.from() == plugin {
                    continue;
                }
                let found = match member(import.from()) {
                    Some(provider) => provider
                        .fns()
                        .iter()
                        .find(|f| f.path() == import.name())
                        .copied(),
                    None => self
                        .plugins
                        .get(import.from())
                        .and_then(|p| p.exports.get(import.name()))
                        .map(|f| &**f),
                };
                if let Some(found) = found
                    && !import.matches(found)
                {
                    return Err((index, Box::new(mismatch(plugin, import, found))));
                }
            }
            for ty in resources(manifest.fns()) {
                let in_member = members
                    .iter()
                    .find(|(n, m)| *n != plugin && resources(m.fns()).contains(&ty))
                    .map(|(n, _)| *n);
                let elsewhere = || {
                    self.plugins
                        .iter()
                        .find(|(name, e)| {
                            name.as_str() != plugin
                                && member(name).is_none()
                                && e.resources.contains(&ty)
                        })
                        .map(|(name, _)| name.as_str())
                };
                if let Some(owner) = in_member.or_else(elsewhere) {
                    let conflict = PluginConflict::ResourceOwned {
                        ty,
                        plugin: plugin.to_owned(),
                        owner: owner.to_owned(),
                    };
                    return Err((index, Box::new(conflict)));
                }
            }
        }
        Ok(())
    }

    /// Makes `manifest` (whose descriptors live in the image `image` guards) `plugin`'s code and
    /// binds every import slot that involves it again; returns the slots of other plugins it
    /// cut because the function is gone or changed. Called at the commit of `plugin`'s reload,
    /// when no plugin code runs.
    pub(crate) fn commit(
        &mut self,
        plugin: &str,
        manifest: &'static Manifest,
        image: &ImageRef,
    ) -> Vec<CutImport> {
        self.commit_together(&[(plugin, manifest, image)])
    }

    /// [`Hub::commit`] of several plugins at once (the commit of one transaction): every
    /// member's new code is entered first, then every import slot that involves a member is
    /// bound once, so that a slot between two members is checked against both new versions.
    pub(crate) fn commit_together(
        &mut self,
        members: &[(&str, &'static Manifest, &ImageRef)],
    ) -> Vec<CutImport> {
        for &(plugin, manifest, image) in members {
            self.enter(plugin, manifest, image);
        }
        self.rebind(|caller, provider| {
            members
                .iter()
                .any(|(m, _, _)| *m == caller || *m == provider)
        })
    }

    /// Makes `manifest` (whose descriptors live in the image `image` guards) `plugin`'s code in
    /// the table; its slots are bound by [`Hub::rebind`].
    fn enter(&mut self, plugin: &str, manifest: &'static Manifest, image: &ImageRef) {
        let exports = manifest
            .fns()
            .iter()
            // SAFETY: `desc` lives in the image `image` guards (this function's contract).
            .map(|desc| (desc.path(), unsafe { FnRef::new(desc, image.clone()) }))
            .collect();
        let imports = manifest
            .imports()
            .iter()
            .map(|desc| Bound {
                desc,
                _caller_image: image.clone(),
                provider: None,
            })
            .collect();
        let entry = Entry {
            exports,
            imports,
            resources: resources(manifest.fns()),
        };
        if let Some(old) = self.plugins.insert(plugin.to_owned(), entry) {
            // The old version's slots are no longer called (its hot functions' slots hold the
            // new code); cut them anyway, so that none points into another image.
            for bound in &old.imports {
                bound.desc().cut(None);
            }
        }
    }

    /// Binds again each import slot for which `involves(caller, provider)`.
    fn rebind(&mut self, involves: impl Fn(&str, &str) -> bool) -> Vec<CutImport> {
        let mut cut = Vec::new();
        let names: Vec<String> = self.plugins.keys().cloned().collect();
        for caller in &names {
            let mut imports = std::mem::take(&mut self.plugins.get_mut(caller).unwrap().imports);
            for bound in &mut imports {
                let desc = bound.desc;
                if !involves(caller, desc.from()) {
                    continue;
                }
                let found = self
                    .plugins
                    .get(desc.from())
                    .filter(|_| desc.from() != caller)
                    .map(|p| p.exports.get(desc.name()));
                let new = match found {
                    // The provider is not loaded.
                    None => {
                        desc.cut(None);
                        None
                    }
                    Some(None) => {
                        desc.cut(Some(false));
                        if bound.provider.is_some() {
                            cut.push(CutImport {
                                caller: caller.clone(),
                                provider: desc.from().to_owned(),
                                function: desc.name().to_owned(),
                                declared: desc.signature(),
                                found: None,
                                layout: None,
                            });
                        }
                        None
                    }
                    Some(Some(code)) if desc.matches(code) => {
                        // SAFETY: the provider's function matches the declaration, and the
                        // slot keeps its image's guard (`bound.provider`, below) until it is
                        // bound again or cut; no plugin code runs (a commit).
                        unsafe { desc.bind(code.direct()) };
                        Some(code.clone())
                    }
                    Some(Some(code)) => {
                        desc.cut(Some(true));
                        cut.push(CutImport {
                            caller: caller.clone(),
                            provider: desc.from().to_owned(),
                            function: desc.name().to_owned(),
                            declared: desc.signature(),
                            found: Some(code.signature()),
                            layout: layouts(desc, code)
                                .filter(|_| desc.signature() == code.signature()),
                        });
                        None
                    }
                };
                // The old provider code's guard is kept until no call can be running it.
                if let Some(old) = std::mem::replace(&mut bound.provider, new) {
                    self.retired.push(old);
                }
            }
            self.plugins.get_mut(caller).unwrap().imports = imports;
        }
        cut
    }

    /// Lets go of the provider code no import slot points to any more. Call only where no code
    /// of these plugins runs (under `&mut Plugins`).
    pub(crate) fn release_retired(&mut self) {
        self.retired.clear();
    }

    /// The import slots of `plugin`, as `(provider::function, bound)`.
    pub(crate) fn imports_of(&self, plugin: &str) -> Vec<(String, bool)> {
        self.plugins
            .get(plugin)
            .map(|e| {
                e.imports
                    .iter()
                    .map(|b| {
                        let d = b.desc();
                        (format!("{}::{}", d.from(), d.name()), b.provider.is_some())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
