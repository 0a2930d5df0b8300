//! Binary snapshots (`.coo` files): a [`Capture`] written as it is, for states too large for
//! JSON to be quick. JSON stays the format for people and tools; the file's extension picks
//! ([`Format::of_path`]), and loading tells the two apart by their first bytes.
//!
//! # Format
//!
//! Little-endian throughout:
//!
//! ```text
//! offset 0   magic           8 bytes  89 'C' 'O' 'O' 0D 0A 1A 0A   (as PNG's: a text-mode copy breaks it)
//!        8   format version  u32      1 (the JSON format's `coo_snapshot`)
//!       12   head length     u32      n
//!       16   head            n bytes  JSON: {"plugin":{…},"run":{…},"resources":["World"]}
//!            types           u64 length, then JSON: the layouts, as the JSON format's `types`
//!            vacant slots    u64 length, then JSON: as the JSON format's `vacant_slots`
//!            values          u64 length, then the capture's bytes (see [`crate::state_io::capture`])
//!  end - 8   checksum        u64      of every byte before it
//! ```
//!
//! The head holds what listing snapshots needs (`plugin` and `run` as in the JSON format, both
//! optional, and the resources' names), so [`read_head`] reads 16 bytes and the head, never the
//! values. The layouts ([`Schema`], the types the JSON format stores) are kept beside the values
//! so a snapshot still says what it was saved from after that code is gone.
//!
//! Hand-written rather than a serialization crate: the values already are the capture's bytes
//! (numbers little-endian, plain structs as runs of their fields), so what is left is four
//! length-prefixed sections, and the small parts reuse the JSON format's serde code.
//!
//! # Loading
//!
//! Every length is checked against the file before it is used, and the checksum (a word-wise
//! multiply-rotate hash: any change of one 8-byte word changes it) before anything is
//! interpreted, so a truncated or damaged file is an error naming the offset
//! ([`BinaryError`]), never a panic nor a wrong state. The values are then checked against
//! the layouts in one walk ([`check`]: lengths, `bool`s, `char`s, UTF-8, variant indices), so
//! building from them cannot fail halfway.
//!
//! When the layouts saved are those of the current build, type for type, the values are built
//! straight from the bytes into the live layout ([`build`]; floats bit for bit, NaN payloads
//! included). Otherwise, or when the state holds a pool (whose vacant slots the direct builder
//! does not place yet), the capture is turned into the JSON format's text and loaded by
//! [`crate::state_io::snapshot::load`]: one set of migration rules for both formats.

use std::io::{self, Read};
use std::path::Path;

use coo_runtime::descriptors::schema::Schema;
use coo_runtime::{Catalog, State};

use crate::state_io::capture::Capture;
use crate::state_io::json::JsonValue;
use crate::state_io::snapshot::{
    FORMAT_VERSION, Header, LoadReport, PluginId, RunInfo, SnapshotError, vacant_json,
};

mod build;
mod check;

pub(crate) use build::{direct, layouts_are_current};

/// The first bytes of a binary snapshot.
pub const MAGIC: [u8; 8] = *b"\x89COO\r\n\x1a\n";

/// A snapshot's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON text of [`crate::state_io::snapshot`]: for people and tools.
    Json,
    /// This module's format: for large states.
    Binary,
}

impl Format {
    /// `.coo` is binary; any other file JSON.
    pub fn of_path(path: &Path) -> Format {
        match path.extension() {
            Some(ext) if ext == "coo" => Format::Binary,
            _ => Format::Json,
        }
    }

    /// The extension of its files, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Binary => "coo",
        }
    }
}

/// Why a binary snapshot cannot be read: where in the file, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the binary snapshot is damaged at byte {offset}: {kind}")]
pub struct BinaryError {
    pub offset: u64,
    pub kind: BinaryErrorKind,
}

/// What is wrong at a [`BinaryError`]'s offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryErrorKind {
    #[error("the file ends there, but its {section} needs {needed} more bytes (truncated?)")]
    Truncated { section: &'static str, needed: u64 },
    #[error(
        "the checksum there does not match the bytes before it (the file was changed or damaged); \
         restore another snapshot"
    )]
    Checksum,
    #[error("its {section} is not what this host writes: {message}")]
    Section {
        section: &'static str,
        message: String,
    },
    #[error("its values do not match its layouts: {message}")]
    Value { message: String },
    #[error("{extra} bytes follow the values that the layouts do not account for")]
    Trailing { extra: u64 },
}

impl BinaryError {
    fn at(offset: usize, kind: BinaryErrorKind) -> BinaryError {
        BinaryError {
            offset: offset as u64,
            kind,
        }
    }
}

/// The head of a binary snapshot, as JSON.
#[derive(serde::Serialize, serde::Deserialize)]
struct HeadJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plugin: Option<PluginJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<RunJson>,
    resources: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PluginJson {
    package: String,
    manifest: String,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Copy)]
struct RunJson {
    supersedes: bool,
    ended: bool,
}

impl HeadJson {
    fn header(&self) -> Header {
        Header {
            plugin: self.plugin.as_ref().map(|p| PluginId {
                package: p.package.clone(),
                manifest: p.manifest.clone(),
            }),
            run: self.run.map(|r| RunInfo {
                supersedes: r.supersedes,
                ended: r.ended,
            }),
        }
    }
}

/// The capture as a binary snapshot with `header` (see the [module documentation](self)).
pub fn encode(capture: &Capture, header: &Header) -> Vec<u8> {
    let head = HeadJson {
        // As the JSON format: `run` only with `plugin`.
        plugin: header.plugin.as_ref().map(|p| PluginJson {
            package: p.package.clone(),
            manifest: p.manifest.clone(),
        }),
        run: header.plugin.as_ref().and(header.run).map(|r| RunJson {
            supersedes: r.supersedes,
            ended: r.ended,
        }),
        resources: capture.resources.clone(),
    };
    let head = serde_json::to_vec(&head).expect("a head always serializes");
    let types = serde_json::to_vec(&capture.schema).expect("a schema always serializes");
    let mut vacant = String::new();
    vacant_json(&mut vacant, &capture.vacant);
    let mut out =
        Vec::with_capacity(16 + head.len() + types.len() + vacant.len() + capture.bytes.len() + 32);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    for section in [&types[..], vacant.as_bytes(), &capture.bytes] {
        out.extend_from_slice(&(section.len() as u64).to_le_bytes());
        out.extend_from_slice(section);
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Whether `bytes` start as a binary snapshot does.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// A hash of `bytes`, 8 bytes at a time: each step `h = rotl((h ^ word) * K, 29)` is a
/// bijection of `h` for a given word, so changing any one word (any bit flip) changes the
/// result. About 1 ns per 8 bytes.
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let mut h = step(0x636f_6f5f_736e_6170, bytes.len() as u64);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        h = step(h, u64::from_le_bytes(word.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    h = step(h, u64::from_le_bytes(last));
    h ^ (h >> 32)
}

/// A binary snapshot taken apart and checked: its header, layouts and vacant slots, and its
/// values, not yet built.
struct Parts<'b> {
    header: Header,
    resources: Vec<String>,
    schema: Schema,
    vacant: crate::state_io::from_json::VacantSlots,
    values: &'b [u8],
}

/// Reads the fixed start (magic, version, head length); the head's length.
fn read_start(start: &[u8]) -> Result<usize, SnapshotError> {
    if start.len() < 8 || start[..8] != MAGIC {
        return Err(SnapshotError::Format(
            "it does not start as a binary Coo snapshot does".to_owned(),
        ));
    }
    if start.len() < 16 {
        return Err(BinaryError::at(
            start.len(),
            BinaryErrorKind::Truncated {
                section: "start",
                needed: (16 - start.len()) as u64,
            },
        )
        .into());
    }
    let version = u32::from_le_bytes(start[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(SnapshotError::Version {
            found: version.to_string(),
        });
    }
    Ok(u32::from_le_bytes(start[12..16].try_into().expect("4 bytes")) as usize)
}

fn parse_head(head: &[u8]) -> Result<HeadJson, SnapshotError> {
    serde_json::from_slice(head).map_err(|e| {
        BinaryError::at(
            16,
            BinaryErrorKind::Section {
                section: "head",
                message: e.to_string(),
            },
        )
        .into()
    })
}

/// The header and resources of the binary snapshot `file` starts with, reading only its start
/// and head (not the layouts nor the values, which are not checked).
pub fn read_head(file: &mut dyn Read) -> Result<(Header, Vec<String>), SnapshotError> {
    let mut start = Vec::with_capacity(16);
    file.take(16)
        .read_to_end(&mut start)
        .map_err(|e| read_error(&e))?;
    let len = read_start(&start)?;
    let mut head = Vec::with_capacity(len.min(1 << 20));
    file.take(len as u64)
        .read_to_end(&mut head)
        .map_err(|e| read_error(&e))?;
    if head.len() < len {
        return Err(BinaryError::at(
            16 + head.len(),
            BinaryErrorKind::Truncated {
                section: "head",
                needed: (len - head.len()) as u64,
            },
        )
        .into());
    }
    let head = parse_head(&head)?;
    Ok((head.header(), head.resources))
}

fn read_error(e: &io::Error) -> SnapshotError {
    SnapshotError::Format(format!("it could not be read: {e}"))
}

/// Takes a binary snapshot apart, checking every length, the checksum, and the values against
/// the layouts.
fn parts(bytes: &[u8]) -> Result<Parts<'_>, SnapshotError> {
    let head_len = read_start(bytes)?;
    let mut pos = 16;
    let take = |pos: &mut usize, len: usize, section: &'static str| {
        let left = bytes.len() - *pos;
        if len > left {
            return Err(BinaryError::at(
                bytes.len(),
                BinaryErrorKind::Truncated {
                    section,
                    needed: (len - left) as u64,
                },
            ));
        }
        let part = &bytes[*pos..*pos + len];
        *pos += len;
        Ok(part)
    };
    let head = take(&mut pos, head_len, "head")?;
    let mut section = |section: &'static str| {
        let len = take(&mut pos, 8, section)?;
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        let at = pos;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        take(&mut pos, len, section).map(|part| (part, at))
    };
    let (types, types_at) = section("layouts")?;
    let (vacant, vacant_at) = section("vacant slots")?;
    let (values, values_at) = section("values")?;
    let sum = take(&mut pos, 8, "checksum")?;
    if pos != bytes.len() {
        return Err(BinaryError::at(
            pos,
            BinaryErrorKind::Trailing {
                extra: (bytes.len() - pos) as u64,
            },
        )
        .into());
    }
    if u64::from_le_bytes(sum.try_into().expect("8 bytes")) != checksum(&bytes[..pos - 8]) {
        return Err(BinaryError::at(pos - 8, BinaryErrorKind::Checksum).into());
    }
    let head = parse_head(head)?;
    let bad = |at: usize, section: &'static str, message: String| {
        SnapshotError::from(BinaryError::at(
            at,
            BinaryErrorKind::Section { section, message },
        ))
    };
    let schema: Schema =
        serde_json::from_slice(types).map_err(|e| bad(types_at, "layouts", e.to_string()))?;
    let vacant = core::str::from_utf8(vacant)
        .map_err(|e| bad(vacant_at, "vacant slots", e.to_string()))
        .and_then(|text| {
            JsonValue::parse(text).map_err(|e| bad(vacant_at, "vacant slots", e.to_string()))
        })?;
    let vacant = crate::state_io::snapshot::parse_vacant(Some(&vacant))?;
    check::values(&schema, &head.resources, values, values_at)?;
    Ok(Parts {
        header: head.header(),
        resources: head.resources,
        schema,
        vacant,
        values,
    })
}

/// The header of a binary snapshot, after checking the whole of it.
pub fn header_of(bytes: &[u8]) -> Result<Header, SnapshotError> {
    Ok(parts(bytes)?.header)
}

/// Loads a binary snapshot into new values of the types of `catalog`, by the rules of
/// [`crate::state_io::snapshot::load`]; `plugin`, when given, must be the one it was saved
/// from (as [`crate::state_io::snapshot::load_for`] checks).
pub fn load(
    bytes: &[u8],
    catalog: &Catalog,
    plugin: Option<&PluginId>,
) -> Result<(State, LoadReport), SnapshotError> {
    let parts = parts(bytes)?;
    if let (Some(plugin), Some(saved)) = (plugin, &parts.header.plugin)
        && saved.package != plugin.package
    {
        return Err(SnapshotError::OtherPlugin {
            saved: saved.package.clone(),
            saved_manifest: saved.manifest.clone(),
            current: plugin.package.clone(),
        });
    }
    if let Some(loaded) = build::direct(&parts.schema, &parts.resources, parts.values, catalog) {
        return Ok(loaded);
    }
    // The layouts changed (or a pool is in the state): the JSON format's rules migrate it.
    let capture = Capture {
        schema: parts.schema,
        vacant: parts.vacant,
        resources: parts.resources,
        bytes: parts.values.to_vec(),
    };
    let text = capture.snapshot_json(&parts.header);
    drop(capture);
    crate::state_io::snapshot::load(&text, catalog)
}
