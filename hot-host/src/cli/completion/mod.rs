//! What the line editor knows of the living program, to complete and hint what is typed.
//!
//! The editor runs on its own thread while the host lives on the dev loop's, so the editor never
//! reads the host: it reads a [`CompletionIndex`], a copy of the names it completes (the
//! running version, the hot functions with their signatures, the types, the watched paths, and
//! the shape of the live state, [`values`]), which the loop refreshes through a [`SharedIndex`]
//! after every command, every reload and, at most every few hundred milliseconds, after ticks
//! (see [`crate::cli::repl::Repl::observe`]). A renamed field completes under its new name as
//! soon as the reload that renamed it is reported.
//!
//! | module | what it holds |
//! |---|---|
//! | [`values`] | the tree of the state's field names, variants and indices |
//! | [`complete`] | completing and hinting a line from an index |

pub mod complete;
pub mod values;

use std::sync::{Arc, PoisonError, RwLock};

use coo_runtime::plugin::ValueKind;

use crate::cli::watches::Watches;
use crate::reload::Host;
use values::Node;

/// What the line editor completes from: a copy, taken on the loop's thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletionIndex {
    /// The running version (0 before the first load).
    pub version: u64,
    /// The hot functions, by name.
    pub fns: Vec<FnEntry>,
    /// The plugin's types, by name.
    pub types: Vec<String>,
    /// The resources by their type's name, with the tree of their values.
    pub resources: Vec<(String, Node)>,
    /// The watched paths.
    pub watched: Vec<String>,
}

/// A hot function as the line editor shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnEntry {
    pub name: String,
    /// `fn(world: &mut World, x: f32) -> u32`.
    pub signature: String,
    /// The parameters `call` takes words for (all but the `&T`/`&mut T` resources), as
    /// `x: f32`.
    pub args: Vec<String>,
}

impl CompletionIndex {
    /// A copy of what `host` runs now, and the paths `watches` watches.
    pub fn of(host: &Host, watches: &Watches) -> CompletionIndex {
        CompletionIndex {
            version: host.version(),
            fns: host
                .fns()
                .into_iter()
                .map(|(name, f)| {
                    let desc: &coo_runtime::plugin::FnDesc = &f;
                    FnEntry {
                        name,
                        signature: desc.signature(),
                        args: desc
                            .params()
                            .iter()
                            .filter(|p| {
                                !matches!(p.kind(), ValueKind::Ref(_) | ValueKind::RefMut(_))
                            })
                            .map(|p| format!("{}: {}", p.name(), p.kind().text()))
                            .collect(),
                    }
                })
                .collect(),
            types: host.catalog().iter().map(|d| d.name().to_owned()).collect(),
            resources: values::resources(host.state()),
            watched: watches.paths().map(str::to_owned).collect(),
        }
    }

    /// The node of the resource `name`.
    pub fn resource(&self, name: &str) -> Option<&Node> {
        self.resources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, node)| node)
    }

    /// The hot function `name`.
    pub fn function(&self, name: &str) -> Option<&FnEntry> {
        self.fns.iter().find(|f| f.name == name)
    }
}

/// The index shared between the loop, which refreshes it, and the line editor, which reads it.
#[derive(Debug, Clone, Default)]
pub struct SharedIndex(Arc<RwLock<CompletionIndex>>);

impl SharedIndex {
    /// Replaces the index with a copy of what `host` runs now.
    pub fn refresh(&self, host: &Host, watches: &Watches) {
        let index = CompletionIndex::of(host, watches);
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = index;
    }

    /// Replaces the index (for tests of the editor).
    pub fn set(&self, index: CompletionIndex) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = index;
    }

    /// The version the index was taken of.
    pub fn version(&self) -> u64 {
        self.read(|index| index.version)
    }

    /// Runs `f` on the index.
    pub fn read<R>(&self, f: impl FnOnce(&CompletionIndex) -> R) -> R {
        f(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}
