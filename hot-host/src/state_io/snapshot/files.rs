//! The dev loop's snapshot files of one plugin: one file per run, written atomically, old ones
//! pruned, stale temp files removed.

use super::*;

/// The dev loop's snapshots of one plugin: one file per run of the host, named by the time the
/// run started (UTC) and its process id, `snapshot-20261129T142903.123Z-4242.json` (`.coo` in
/// the [binary format](crate::state_io::binary), [`SnapshotDir::format`]), so names sort by
/// age. A run writes only its own file (each save replaces its previous one), so a host
/// started again never overwrites the state of a run before it, even one that was killed.
/// `--restore` picks the [`restore_candidate`](SnapshotDir::restore_candidate). The newest
/// `keep` files are kept; older ones are removed, except the file being written and the one
/// the caller protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDir {
    pub dir: PathBuf,
    /// How many snapshot files to keep, this session's included (at least 1).
    pub keep: usize,
    /// The format of the files this run writes (JSON unless [`SnapshotDir::with_format`]
    /// says otherwise); files of both formats are listed and restored.
    pub format: Format,
}

impl SnapshotDir {
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> SnapshotDir {
        SnapshotDir {
            dir: dir.into(),
            keep: keep.max(1),
            format: Format::Json,
        }
    }

    /// The same directory, this run writing its files in `format`.
    pub fn with_format(mut self, format: Format) -> SnapshotDir {
        self.format = format;
        self
    }

    /// The file of the session that started at `started` in process `pid`.
    pub fn session_file(&self, started: SystemTime, pid: u32) -> PathBuf {
        self.dir.join(format!(
            "snapshot-{}-{pid}.{}",
            utc_stamp(started),
            self.format.extension()
        ))
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
            if name.starts_with("snapshot-") && (name.ends_with(".json") || name.ends_with(".coo"))
            {
                files.push(entry.path());
            }
        }
        // By name without the extension: the time the run started, then its pid.
        files.sort_by(|a, b| b.file_stem().cmp(&a.file_stem()));
        Ok(files)
    }

    /// The snapshot `--restore` restores by default, with its header: the newest that
    /// [supersedes](RunInfo::supersedes) the ones before it. A file without a `run` header, or
    /// whose header cannot be read, counts as superseding (restoring it then says what is
    /// wrong with it, rather than silently taking an older one). Only each file's header is
    /// read ([`read_head`]), not its values.
    pub fn restore_candidate(&self) -> io::Result<Option<(PathBuf, Option<Header>)>> {
        for file in self.list()? {
            let header = read_head(&file).ok().map(|head| head.header);
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

    /// Writes `contents` to `file` (a run's file in this directory): to a temp file first
    /// (`<file>.<pid>.tmp`) and renamed over it, so a crash mid-write never leaves a torn
    /// snapshot. Then removes the temp files that hosts killed mid-write left
    /// ([`remove_stale_temps`](SnapshotDir::remove_stale_temps)) and the oldest files beyond
    /// `keep`, never `file` nor `protect`.
    pub fn write(
        &self,
        file: &Path,
        contents: impl AsRef<[u8]>,
        protect: Option<&Path>,
    ) -> Result<(), SaveError> {
        let write = || {
            std::fs::create_dir_all(&self.dir)?;
            write_replacing(file, contents.as_ref())
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
/// `<name>.json.<pid>.tmp` (or `.coo`), or `snapshot-<time>-<pid>.json.tmp` (as hosts before
/// named them).
fn temp_pid(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".tmp")?;
    if let Some((file, pid)) = stem.rsplit_once('.')
        && (file.ends_with(".json") || file.ends_with(".coo"))
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
    /// The state holds a value a snapshot cannot hold; nothing was written.
    #[error(transparent)]
    Capture(#[from] crate::state_io::capture::CaptureError),
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

/// Writes `contents` to `file` through a temp file beside it (`<file>.<pid>.tmp`) renamed over it: a
/// crash or a full disk mid-write leaves the old file whole, never a torn one, and a reader that
/// has the old file open keeps reading the old snapshot.
pub fn write_replacing(file: &Path, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    if let Err(e) = std::fs::write(&tmp, contents) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, file)
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
}
