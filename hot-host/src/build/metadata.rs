//! `cargo metadata` of a plugin crate, run as its build runs (same cargo, same directory, same
//! cleaned environment) and read as typed [`cargo_metadata::Metadata`]: what the watcher watches
//! ([`crate::watch::watched_paths`]) and the plugin's identity for snapshots ([`plugin_id`]).

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand};

use super::{NotACrate, is_removed_env, manifest_of};
use crate::state_io::snapshot::PluginId;

/// Why `cargo metadata` of a crate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    NotACrate(#[from] NotACrate),
    #[error("`{} metadata` failed for {}: {source}", cargo.display(), manifest.display())]
    Cargo {
        cargo: PathBuf,
        manifest: PathBuf,
        #[source]
        source: cargo_metadata::Error,
    },
}

/// Why the plugin's identity could not be found.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("`cargo metadata` lists no package with the manifest {}; is it a virtual workspace manifest? run the host on the plugin crate's directory", manifest.display())]
    NoPackage { manifest: PathBuf },
}

/// Which packages `cargo metadata` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packages {
    /// The workspace's members only (`--no-deps`): no dependency is resolved.
    Members,
    /// Every package, with the resolved dependency graph.
    Resolved,
}

/// The cargo of `$CARGO` (the one running us, under `cargo run`/`cargo test`), else `cargo`
/// from `PATH`.
pub fn default_cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// `cargo metadata` of the crate in `plugin_dir`, run by `cargo` in `plugin_dir` (cargo reads
/// `.cargo/config.toml` from where it runs, as the build does) with the environment
/// [`Builder::command`](super::Builder::command) cleans (see [`is_removed_env`]). Also returns
/// the manifest it was run on, canonical when it can be, as cargo reports manifests.
pub fn cargo_metadata(
    cargo: &Path,
    plugin_dir: &Path,
    packages: Packages,
) -> Result<(Metadata, PathBuf), MetadataError> {
    let manifest = manifest_of(plugin_dir)?;
    let mut command = MetadataCommand::new();
    command
        .cargo_path(cargo)
        .manifest_path(&manifest)
        .current_dir(plugin_dir)
        .other_options(["--color".to_owned(), "never".to_owned()]);
    if packages == Packages::Members {
        command.no_deps();
    }
    for (name, _) in std::env::vars_os() {
        if is_removed_env(&name) {
            command.env_remove(name);
        }
    }
    let metadata = command.exec().map_err(|source| MetadataError::Cargo {
        cargo: cargo.to_path_buf(),
        manifest: manifest.clone(),
        source,
    })?;
    Ok((metadata, manifest))
}

/// The identity of the plugin crate in `plugin_dir` (its package name and manifest), as
/// `cargo metadata` (of [`default_cargo`]) says, for marking and checking snapshots.
pub fn plugin_id(plugin_dir: &Path) -> Result<PluginId, IdentityError> {
    let (metadata, manifest) = cargo_metadata(&default_cargo(), plugin_dir, Packages::Members)?;
    metadata
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == manifest)
        .map(|p| PluginId {
            package: p.name.to_string(),
            manifest: manifest.display().to_string(),
        })
        .ok_or(IdentityError::NoPackage { manifest })
}
