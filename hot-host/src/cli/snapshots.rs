//! The snapshots seen from the command line: where `hot-host run` keeps them by default, which
//! one `--restore` restores and restoring it into the host, and the listing of
//! `hot-host snapshots`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::cli::devloop::SessionSnapshots;
use crate::reload::Host;
use crate::state_io::snapshot::{self, PluginId, SnapshotDir};

/// `TARGET_DIR/coo-state/PACKAGE`: of this plugin only, even in a target dir shared by several.
pub fn default_state_dir(target_dir: &Path, plugin: &PluginId) -> PathBuf {
    target_dir.join("coo-state").join(&plugin.package)
}

/// Which snapshot `--restore` restores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    /// `--restore`: the one the snapshot directory says (see [`SnapshotDir::restore_candidate`]).
    Default,
    /// `--restore=FILE`: a name as `hot-host snapshots` lists it, or a path.
    File(PathBuf),
}

/// The file `--restore=FILE` means: `file` in `dir` when `file` is a bare name that is no file
/// of the working directory but is one of `dir`; else `file` itself.
pub fn named_file(dir: &SnapshotDir, file: &Path) -> PathBuf {
    let listed = dir.dir.join(file);
    if !file.exists() && file.components().count() == 1 && listed.exists() {
        listed
    } else {
        file.to_path_buf()
    }
}

/// Loads a snapshot into the host, as `restore` says; whether it did. The snapshot file is left
/// as it is: this run saves into a file of its own. What happened is written to `out` and `err`.
pub fn restore(
    host: &mut Host,
    snapshots: &mut SessionSnapshots,
    restore: &Restore,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let path = match restore {
        Restore::File(file) => named_file(&snapshots.dir, file),
        Restore::Default => match snapshots.dir.restore_candidate() {
            Ok(Some((file, _))) => file,
            Ok(None) => {
                writeln!(
                    err,
                    "warning: no snapshot to restore in {}; starting with `init`",
                    snapshots.dir.dir.display()
                )?;
                return Ok(false);
            }
            Err(e) => {
                writeln!(
                    err,
                    "error: could not list the snapshots in {} ({e}); starting with `init`",
                    snapshots.dir.dir.display()
                )?;
                return Ok(false);
            }
        },
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            writeln!(
                err,
                "error: could not read the snapshot {} ({e}); starting with `init`",
                path.display()
            )?;
            return Ok(false);
        }
    };
    match snapshot::load_bytes(&bytes, host.catalog(), Some(&snapshots.plugin)) {
        Ok((state, report)) => {
            *host.state_mut() = state;
            snapshots.restored();
            writeln!(out, "restored the state from {}", path.display())?;
            let report = report.to_string();
            if !report.trim().is_empty() {
                writeln!(out, "{report}")?;
            }
            Ok(true)
        }
        Err(e) => {
            if path.parent() == Some(snapshots.dir.dir.as_path()) {
                snapshots.restore_failed(&path);
            }
            writeln!(
                err,
                "error: could not restore {}: {e}; starting with `init`",
                path.display()
            )?;
            Ok(false)
        }
    }
}

/// Why `hot-host snapshots` could not list the snapshots.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("could not list {}: {source}", dir.display())]
    Read {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("could not write the list: {0}")]
    Write(#[from] io::Error),
}

/// `hot-host snapshots`: the snapshots in `dir`, newest first, the one `--restore` would restore
/// marked `*`, each with the resources it holds or why it cannot be restored. Each file's
/// header is read, not its values (a JSON file's `state` is skipped through for its keys).
pub fn list(dir: &SnapshotDir, plugin: &PluginId, out: &mut dyn Write) -> Result<(), ListError> {
    let files = dir.list().map_err(|source| ListError::Read {
        dir: dir.dir.clone(),
        source,
    })?;
    if files.is_empty() {
        writeln!(out, "no snapshots in {}", dir.dir.display())?;
        return Ok(());
    }
    let default = dir.restore_candidate().ok().flatten().map(|(file, _)| file);
    writeln!(
        out,
        "snapshots in {}, newest first (`--restore` restores the one marked *, `--restore=NAME` another):",
        dir.dir.display()
    )?;
    for file in files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let about = match snapshot::read_head(&file) {
            Err(e) => format!("not loadable: {e}"),
            Ok(head) => {
                let resources = || {
                    let names = head
                        .resources
                        .clone()
                        .or_else(|| snapshot::json_resources(&file))
                        .unwrap_or_default();
                    if names.is_empty() {
                        "no resources".to_owned()
                    } else {
                        names.join(", ")
                    }
                };
                match (&head.header.plugin, head.header.run) {
                    (Some(saved), _) if saved.package != plugin.package => {
                        format!("of another plugin, `{}`", saved.package)
                    }
                    (_, Some(run)) if !run.ended => {
                        format!("{}; the run did not end", resources())
                    }
                    _ => resources(),
                }
            }
        };
        let mark = if Some(&file) == default.as_ref() {
            '*'
        } else {
            ' '
        };
        writeln!(out, "{mark} {name}  {about}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_takes_a_listed_name_from_the_snapshot_dir_and_anything_else_as_a_path() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SnapshotDir::new(tmp.path().join("state"), 10);
        std::fs::create_dir_all(&dir.dir).unwrap();
        std::fs::write(dir.dir.join("snapshot-1-2.json"), "{}").unwrap();
        let name = Path::new("snapshot-1-2.json");
        assert_eq!(named_file(&dir, name), dir.dir.join(name));
        // Not in the directory: the name is a path of the working directory, as typed.
        let other = Path::new("snapshot-9-9.json");
        assert_eq!(named_file(&dir, other), other);
        // A path with a directory is a path, even if the dir has a file of its last name.
        let nested = Path::new("somewhere/snapshot-1-2.json");
        assert_eq!(named_file(&dir, nested), nested);
        // An existing file is that file.
        let here = tmp.path().join("snapshot-1-2.json");
        std::fs::write(&here, "{}").unwrap();
        assert_eq!(named_file(&dir, &here), here);
    }

    #[test]
    fn the_state_dir_is_the_plugins_own_in_the_target_dir() {
        let plugin = PluginId {
            package: "demo-plugin".into(),
            manifest: "/p/Cargo.toml".into(),
        };
        assert_eq!(
            default_state_dir(Path::new("/t/coo"), &plugin),
            Path::new("/t/coo/coo-state/demo-plugin")
        );
    }
}
