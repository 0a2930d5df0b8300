//! Snapshots in either format, JSON or [binary](crate::state_io::binary): written in the format
//! of the file's extension, loaded by what the file's first bytes say, and their headers read
//! without reading their values (for `--restore` and `hot-host snapshots`).

use std::io::BufReader;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use super::*;
use crate::state_io::binary::{self, Format};

/// The state's capture as a snapshot's bytes in `format`, with `header`.
pub fn encode(capture: &Capture, header: &Header, format: Format) -> Vec<u8> {
    match format {
        Format::Json => capture.snapshot_json(header).into_bytes(),
        Format::Binary => binary::encode(capture, header),
    }
}

/// Loads a snapshot file's bytes, JSON or binary (told apart by the first bytes), into new
/// values of the types of `catalog`; with `plugin`, a snapshot of another plugin is refused
/// (see [`load_for`]).
pub fn load_bytes(
    bytes: &[u8],
    catalog: &Catalog,
    plugin: Option<&PluginId>,
) -> Result<(State, LoadReport), SnapshotError> {
    if binary::is_binary(bytes) {
        return binary::load(bytes, catalog, plugin);
    }
    let text = core::str::from_utf8(bytes).map_err(|e| {
        SnapshotError::Format(format!(
            "it is neither a binary snapshot nor UTF-8 text (byte {} is not UTF-8)",
            e.valid_up_to()
        ))
    })?;
    match plugin {
        Some(plugin) => load_for(text, catalog, plugin),
        None => load(text, catalog),
    }
}

/// How big a snapshot is and how long saving it took, for messages: `16.0 MB, 41 ms`.
pub fn size_and_time(bytes: u64, took: std::time::Duration) -> String {
    let size = match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.1} GB", bytes as f64 / 1e9),
    };
    format!("{size}, {} ms", took.as_millis())
}

/// What a snapshot file says of itself, read from its start only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHead {
    pub format: Format,
    pub header: Header,
    /// The resources' names: a binary snapshot's head holds them, a JSON one's does not.
    pub resources: Option<Vec<String>>,
}

/// The header of the snapshot `file` starts with, reading only as far as the header goes: a
/// binary snapshot's fixed start and head, a JSON snapshot's leading members (`coo_snapshot`,
/// `plugin`, `run`; reading stops at the first other member). The rest of the file is not
/// checked: loading it says what is wrong with it, if anything.
pub fn read_head(file: &Path) -> Result<FileHead, SnapshotError> {
    let opened = std::fs::File::open(file)
        .map_err(|e| SnapshotError::Format(format!("it could not be read: {e}")))?;
    let mut reader = BufReader::with_capacity(16 * 1024, opened);
    let first = std::io::BufRead::fill_buf(&mut reader)
        .map_err(|e| SnapshotError::Format(format!("it could not be read: {e}")))?
        .first()
        .copied();
    if first == Some(binary::MAGIC[0]) {
        let (header, resources) = binary::read_head(&mut reader)?;
        return Ok(FileHead {
            format: Format::Binary,
            header,
            resources: Some(resources),
        });
    }
    json_head(reader).map(|header| FileHead {
        format: Format::Json,
        header,
        resources: None,
    })
}

/// The header of a JSON snapshot, read from its leading members only (see [`read_head`]).
pub(super) fn json_head(reader: impl std::io::Read) -> Result<Header, SnapshotError> {
    let mut leading = Leading::default();
    let mut de = serde_json::Deserializer::from_reader(reader);
    let read = serde::Deserializer::deserialize_map(&mut de, LeadingVisitor(&mut leading, false));
    if !leading.stopped
        && let Err(e) = read
    {
        return Err(SnapshotError::Format(format!("its start is not JSON: {e}")));
    }
    leading.header()
}

/// The resources' names of a JSON snapshot: the keys of its `state`, whose values are skipped
/// without being built. `None` when the file is not a readable snapshot.
pub fn json_resources(file: &Path) -> Option<Vec<String>> {
    let reader = BufReader::new(std::fs::File::open(file).ok()?);
    let mut leading = Leading::default();
    let mut de = serde_json::Deserializer::from_reader(reader);
    serde::Deserializer::deserialize_map(&mut de, LeadingVisitor(&mut leading, true)).ok()?;
    leading.resources
}

/// The leading members of a JSON snapshot, as far as they were read.
#[derive(Default)]
struct Leading {
    version: Option<serde_json::Value>,
    plugin: Option<serde_json::Value>,
    run: Option<serde_json::Value>,
    resources: Option<Vec<String>>,
    /// Reading stopped at the first member past the header, on purpose.
    stopped: bool,
}

impl Leading {
    fn header(self) -> Result<Header, SnapshotError> {
        match &self.version {
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION.into()) => {}
            Some(serde_json::Value::Number(n)) => {
                return Err(SnapshotError::Version {
                    found: n.to_string(),
                });
            }
            Some(_) => {
                return Err(SnapshotError::Format(
                    "`coo_snapshot` is not a version number".to_owned(),
                ));
            }
            None => {
                return Err(SnapshotError::Format(
                    "it has no `coo_snapshot` member before its others".to_owned(),
                ));
            }
        }
        let member = |json: &serde_json::Value, key: &str, what: &str| {
            json.get(key)
                .cloned()
                .ok_or_else(|| SnapshotError::Format(format!("its `{what}` has no `{key}`")))
        };
        let plugin = match &self.plugin {
            None => None,
            Some(plugin) => {
                let text = |key: &str| match member(plugin, key, "plugin")? {
                    serde_json::Value::String(s) => Ok(s),
                    _ => Err(SnapshotError::Format(format!(
                        "its `plugin` has no string `{key}`"
                    ))),
                };
                Some(PluginId {
                    package: text("package")?,
                    manifest: text("manifest")?,
                })
            }
        };
        let run = match &self.run {
            None => None,
            Some(run) => {
                let flag = |key: &str| match member(run, key, "run")? {
                    serde_json::Value::Bool(b) => Ok(b),
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
}

/// Reads a JSON snapshot's members in order into a [`Leading`]: the header's, then (when
/// `.1`, for the resources) the keys of `state`, skipping every other value; else it stops at
/// the first member past the header.
struct LeadingVisitor<'l>(&'l mut Leading, bool);

const STOP: &str = "stopped after the header";

impl<'de> Visitor<'de> for LeadingVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Coo snapshot (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let LeadingVisitor(out, resources) = self;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "coo_snapshot" => out.version = Some(map.next_value()?),
                "plugin" => out.plugin = Some(map.next_value()?),
                "run" => out.run = Some(map.next_value()?),
                "state" if resources => {
                    let keys = map.next_value::<ResourceNames>()?;
                    out.resources = Some(keys.0);
                }
                _ if resources => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    out.stopped = true;
                    return Err(de::Error::custom(STOP));
                }
            }
        }
        Ok(())
    }
}

/// The keys of an object, its values skipped.
struct ResourceNames(Vec<String>);

impl<'de> serde::Deserialize<'de> for ResourceNames {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = ResourceNames;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the state (an object)")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResourceNames, A::Error> {
                let mut names = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    names.push(key);
                }
                Ok(ResourceNames(names))
            }
        }
        de.deserialize_map(Keys)
    }
}
