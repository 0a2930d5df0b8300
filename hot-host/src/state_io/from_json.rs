//! Building live values of the current types from JSON: what loading a snapshot and the `set`
//! command do.
//!
//! The JSON is read in the shape [`crate::state_io::show::state_json`] writes (serde's shape for
//! `#[derive(Serialize)]`, plus handles and pools), and every value is built through the
//! descriptors and glue of the current build, so it is owned by the code that will use and drop
//! it. Building follows the migration rules of a reload ([`Mode::Migrate`]), or asks for the
//! value spelled out exactly ([`Mode::Exact`], for `set`):
//!
//! - struct fields are matched by name, then (`Migrate`) by the field's `rename_from`; a field the
//!   JSON lacks takes its `#[coo(default)]` or its type's `Default` and is reported as added, or
//!   is an error naming the type, the field and what to add; members no field takes are dropped
//!   and reported. Tuple fields are named `0`, `1`, …; a newtype is its one field.
//! - enums are externally tagged (`"Idle"`, `{"Moving":[1.0,2.0]}`); the variant is found by
//!   name, then (`Migrate`) by the variant's `rename_from`; an unknown variant is an error that
//!   lists the variants.
//! - numbers convert exactly, as checked casts do: an integer must fit its field's type; a number
//!   written with a fraction or an exponent goes into an integer field only when it is a whole
//!   number; a number written as an integer goes into a float field only when that float holds
//!   it exactly. A float goes into a field of the float type it was saved as exactly (`state_json`
//!   writes the shortest digits that read back as the same value of that type). When the saved
//!   layouts say it was saved as another number type ([`Builder::with_saved_types`]), it is read
//!   as that type and cast as a reload casts: an `f32` widens to an `f64` exactly, an `f64` `0.1`
//!   does not fit an `f32`. When nothing says (`set`), a float is rounded to the nearest value of
//!   the field's type. `null` in a float field is NaN (`state_json` prints NaN and the
//!   infinities as `null`, so an infinity comes back as NaN).
//! - an `Option` is `null` or its value (so, as with serde, `Some(None)` of an
//!   `Option<Option<T>>` reads back as `None`); a `Box` is its value.
//! - a fixed-size array given fewer elements fills the rest with the element type's default
//!   (`Migrate`); more elements than it holds is an error naming both lengths.
//! - a pool is the array of its occupied slots, `{"index","generation","value"}`, in increasing
//!   slot order; indices and generations are kept, so handles into it stay valid. Vacant slots
//!   take the generations given in [`VacantSlots`] (a snapshot records them, since
//!   `state_json` does not print vacant slots), or generation 0.
//! - a handle is `{"handle":"Type","index":i,"generation":g}`; the type must be the handle's
//!   target (or a name it was renamed from).
//!
//! Migration hooks (`#[coo(migrate = ...)]`) are not run: they take an old value, and there is
//! none, only JSON.
//!
//! Numbers are why the JSON is read by [`Json::parse`] rather than into a `serde_json::Value`:
//! a `Value` keeps integers beyond 64 bits only as `f64`, and reads every float as an `f64`
//! first (rounding twice for an `f32`, and not always to the nearest without serde_json's
//! `float_roundtrip` feature), so `u128`s and some floats would not read back exactly. [`Json`]
//! keeps each number as written, and each field type parses it for itself with the standard
//! library's correctly rounded parsers.
//!
//! Building is failure-safe: on any error everything built so far is dropped with the current
//! build's glue, exactly once, and nothing is left at the destination.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use coo_runtime::descriptors::layout::{
    EnumDesc, FieldDesc, FieldsStyle, OptionGlue, PoolGlue, Prim, Shape, ShapeKind, TypeDesc,
    TypeKind, VecGlue, shape_text,
};
use coo_runtime::descriptors::schema::{FieldLayout, LayoutKind, Schema, TyLayout, TypeLayout};
use coo_runtime::migration::casts::{Num, write_num};
use coo_runtime::migration::execute::{DefaultPanicked, Seg, ValuePath, write_default};
use coo_runtime::migration::plan::DefaultPlan;
use coo_runtime::storage::raw::drop_elements;
use coo_runtime::storage::scratch::Scratch;
use coo_runtime::{ImageRef, Resource, State};

// ------------------------------------------------------------------------------------------ JSON

/// A JSON value with its numbers kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number's text, as it appears in the input (valid JSON number syntax).
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in input order; keys are unique (a repeated key is a parse error).
    Object(Vec<(String, Json)>),
}

/// Takes nested values apart one at a time: the drop glue of a value nested a million levels deep
/// would recurse as deep.
impl Drop for Json {
    fn drop(&mut self) {
        fn take_nested(json: &mut Json, into: &mut Vec<Json>) {
            match json {
                Json::Array(items) => into.append(items),
                Json::Object(members) => into.extend(members.drain(..).map(|(_, value)| value)),
                _ => {}
            }
        }
        let mut nested = Vec::new();
        take_nested(self, &mut nested);
        while let Some(mut json) = nested.pop() {
            take_nested(&mut json, &mut nested);
        }
    }
}

/// How much stack a recursive builder step may need before it moves to a new stack segment, and
/// how large each new segment is (the values rustc uses).
const STACK_RED_ZONE: usize = 100 * 1024;
const STACK_SEGMENT: usize = 1024 * 1024;

/// Why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Json {
    /// Parses one JSON value (RFC 8259), surrounded by optional whitespace.
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        };
        reader.whitespace();
        let value = reader.value()?;
        reader.whitespace();
        if reader.pos != reader.bytes.len() {
            return Err(reader.error("unexpected characters after the value"));
        }
        Ok(value)
    }

    /// What kind of value this is, with an article, for messages: `a string`, `an array`.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

/// An array or object being read: what [`Reader::value`] keeps on its work stack instead of
/// recursing, so that input nested a million levels deep reads with a constant native stack.
enum Open {
    Array(Vec<Json>),
    Object {
        members: Vec<(String, Json)>,
        keys: BTreeSet<String>,
        /// The key of the member whose value is being read.
        key: String,
    },
}

impl Reader<'_> {
    fn error(&self, message: impl Into<String>) -> JsonError {
        let before = &self.text[..self.pos.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        JsonError {
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{}`", byte as char)))
        }
    }

    /// Reads a value of any depth: containers being read wait on a work stack, and each value
    /// read is added to the innermost one, closing those that end after it.
    fn value(&mut self) -> Result<Json, JsonError> {
        let mut open: Vec<Open> = Vec::new();
        loop {
            let mut value = match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.whitespace();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Json::Object(Vec::new())
                    } else {
                        let mut keys = BTreeSet::new();
                        let key = self.key(&mut keys)?;
                        open.push(Open::Object {
                            members: Vec::new(),
                            keys,
                            key,
                        });
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.whitespace();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        Json::Array(Vec::new())
                    } else {
                        open.push(Open::Array(Vec::new()));
                        continue;
                    }
                }
                Some(b'"') => Json::String(self.string()?),
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal("true", Json::Bool(true))?,
                Some(b'f') => self.literal("false", Json::Bool(false))?,
                Some(b'n') => self.literal("null", Json::Null)?,
                Some(_) => return Err(self.error("expected a value")),
                None => return Err(self.error("unexpected end of input, expected a value")),
            };
            // Add the value to the innermost open container; while that one ends, it is the
            // value to add to the next.
            loop {
                let Some(top) = open.last_mut() else {
                    return Ok(value);
                };
                self.whitespace();
                let (close, closed) = match top {
                    Open::Array(items) => {
                        items.push(value);
                        (b']', "expected `,` or `]`")
                    }
                    Open::Object { members, key, .. } => {
                        members.push((core::mem::take(key), value));
                        (b'}', "expected `,` or `}`")
                    }
                };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.whitespace();
                        if let Open::Object { keys, key, .. } = top {
                            *key = self.key(keys)?;
                        }
                        break;
                    }
                    Some(b) if b == close => {
                        self.pos += 1;
                        value = match open.pop().expect("the innermost container") {
                            Open::Array(items) => Json::Array(items),
                            Open::Object { members, .. } => Json::Object(members),
                        };
                    }
                    _ => return Err(self.error(closed)),
                }
            }
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error(format!("expected `{word}`")))
        }
    }

    /// An object's key and its colon, with the whitespace around; a key given before is an error.
    fn key(&mut self, keys: &mut BTreeSet<String>) -> Result<String, JsonError> {
        self.whitespace();
        let at = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string key"));
        }
        let key = self.string()?;
        if !keys.insert(key.clone()) {
            self.pos = at;
            return Err(self.error(format!("duplicate key {key:?}")));
        }
        self.whitespace();
        self.expect(b':')?;
        self.whitespace();
        Ok(key)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek()
                && b != b'"'
                && b != b'\\'
                && b >= 0x20
            {
                self.pos += 1;
            }
            // Runs end at ASCII bytes (or the end), so they are whole UTF-8 sequences.
            out.push_str(&self.text[start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.error("control character in a string; escape it")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn escape(&mut self) -> Result<char, JsonError> {
        let Some(b) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(self.error("unpaired surrogate in a `\\u` escape"));
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("unpaired surrogate in a `\\u` escape"));
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code).expect("a surrogate pair encodes a scalar value")
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error("unpaired surrogate in a `\\u` escape"));
                    }
                    code => char::from_u32(code).expect("not a surrogate"),
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("unknown escape"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after `\\u`"))?;
        self.pos += 4;
        Ok(u32::from_str_radix(digits, 16).expect("checked hex digits"))
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit after `.`"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(Json::Number(self.text[start..self.pos].to_owned()))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}

// --------------------------------------------------------------------------------------- numbers

/// The integer a JSON number's text denotes, computed exactly from its digits.
enum Integer {
    Value(Num),
    /// The number has a non-zero fraction.
    Fraction,
    /// The number is whole but beyond every integer type.
    TooLarge,
}

/// The exact integer value of a JSON number (`12`, `-3`, `1.5e1`, `1e3`, `2.0`).
fn integer_value(text: &str) -> Integer {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], &unsigned[i + 1..]),
        None => (unsigned, "0"),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = whole.chars().chain(fraction.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Integer::Value(Num::Int(0));
    }
    // value = digits * 10^scale. An exponent beyond `i64` is out of every type's range either way.
    let Ok(exponent) = exponent.trim_start_matches('+').parse::<i64>() else {
        return if exponent.starts_with('-') {
            Integer::Fraction
        } else {
            Integer::TooLarge
        };
    };
    let scale = exponent.saturating_sub(fraction.len() as i64);
    let digits: Cow<'_, str> = if scale < 0 {
        let cut = scale.unsigned_abs();
        let kept = (digits.len() as u64).checked_sub(cut);
        match kept {
            Some(kept) if digits[kept as usize..].bytes().all(|b| b == b'0') => {
                Cow::Borrowed(&digits[..kept as usize])
            }
            _ => return Integer::Fraction,
        }
    } else {
        // `u128::MAX` has 39 digits.
        if digits.len() as u64 + scale as u64 > 39 {
            return Integer::TooLarge;
        }
        Cow::Owned(format!("{digits}{}", "0".repeat(scale as usize)))
    };
    let digits = if digits.is_empty() { "0" } else { &digits };
    let Ok(magnitude) = digits.parse::<u128>() else {
        return Integer::TooLarge;
    };
    Integer::Value(match (negative, i128::try_from(magnitude)) {
        (false, Ok(v)) => Num::Int(v),
        (false, Err(_)) => Num::BigUint(magnitude),
        (true, Ok(v)) => Num::Int(-v),
        (true, Err(_)) if magnitude == i128::MIN.unsigned_abs() => Num::Int(i128::MIN),
        (true, Err(_)) => return Integer::TooLarge,
    })
}

/// Whether a JSON number is written as a float (with a fraction or an exponent).
fn is_float_text(text: &str) -> bool {
    text.contains(['.', 'e', 'E'])
}

// ---------------------------------------------------------------------------------------- errors

/// How strictly the JSON must match the current types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As a reload migrates: fields matched by name then `rename_from`, missing fields defaulted,
    /// unknown members dropped, short arrays filled; all of it reported. For snapshots.
    Migrate,
    /// The JSON spells the value exactly: every field by its current name, no other members,
    /// arrays at their full length, variants by their current names. For `set`, where a typo
    /// should be an error rather than a silently defaulted field.
    Exact,
}

/// Why a value could not be built. Nothing was built: whatever was, was dropped again.
///
/// Paths are in the JSON's own names (a field the JSON spells by an old name is named so), from
/// the resource down: `World.units[3].hp`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("`{path}` holds {expected}, so it cannot be {found}")]
    Expected {
        path: ValuePath,
        expected: String,
        found: String,
    },
    #[error("`{path}` is {value}, which does not fit `{ty}`")]
    DoesNotFit {
        path: ValuePath,
        value: String,
        ty: Prim,
    },
    #[error("`{path}` is {value}, which is not a whole number, but `{ty}` is an integer type")]
    NotIntegral {
        path: ValuePath,
        value: String,
        ty: Prim,
    },
    #[error(
        "`{path}` is {value}, which `{ty}` does not hold exactly; \
         write it with a fraction (`{value}.0`) to round it to the nearest `{ty}`"
    )]
    NotExact {
        path: ValuePath,
        value: String,
        ty: Prim,
    },
    #[error(
        "`{path}` holds {value}, which is not exactly representable as `{to}` (was `{from}`); \
         change the value so it fits, or keep the field as `{from}`"
    )]
    CheckedCast {
        path: ValuePath,
        value: String,
        from: Prim,
        to: Prim,
    },
    #[error("`{path}` is a `char`, so it must be a string of exactly one character, not {value}")]
    NotAChar { path: ValuePath, value: String },
    #[error(
        "`{path}` has no value for field `{field}` of `{ty}` (`{field_ty}`), and the field has no default; {fix}"
    )]
    MissingField {
        path: ValuePath,
        ty: String,
        field: String,
        field_ty: String,
        fix: String,
    },
    #[error("`{path}` has no value for field `{field}` of `{ty}`; give every field: {}", list(.fields))]
    FieldNotGiven {
        path: ValuePath,
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    #[error("`{path}`: `{ty}` has no field `{field}`; its fields are {}", list(.fields))]
    UnknownField {
        path: ValuePath,
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    #[error("`{path}`: `{ty}` has no variant `{variant}`; its variants are {}", list(.variants))]
    UnknownVariant {
        path: ValuePath,
        ty: String,
        variant: String,
        variants: Vec<String>,
    },
    #[error("`{path}` is a `{ty}`, but the JSON has {found} elements")]
    ArrayTooLong {
        path: ValuePath,
        ty: String,
        len: usize,
        found: usize,
    },
    #[error("`{path}` is a `{ty}`, but the JSON has {found} elements; {why}")]
    ArrayTooShort {
        path: ValuePath,
        ty: String,
        len: usize,
        found: usize,
        why: String,
    },
    #[error("`{path}` is a `Handle<{expected}>`, but the JSON's handle is to `{found}`")]
    HandleTarget {
        path: ValuePath,
        expected: String,
        found: String,
    },
    #[error("`{path}` is a pool, but {message}")]
    Pool { path: ValuePath, message: String },
    #[error("{}", .panicked.at(.path))]
    Default {
        path: ValuePath,
        panicked: DefaultPanicked,
    },
}

/// `` `a`, `b` `` (or `none`), for messages.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl BuildError {
    /// Where the offending value is.
    pub fn path(&self) -> &ValuePath {
        match self {
            BuildError::Expected { path, .. }
            | BuildError::DoesNotFit { path, .. }
            | BuildError::NotIntegral { path, .. }
            | BuildError::NotExact { path, .. }
            | BuildError::CheckedCast { path, .. }
            | BuildError::NotAChar { path, .. }
            | BuildError::MissingField { path, .. }
            | BuildError::FieldNotGiven { path, .. }
            | BuildError::UnknownField { path, .. }
            | BuildError::UnknownVariant { path, .. }
            | BuildError::ArrayTooLong { path, .. }
            | BuildError::ArrayTooShort { path, .. }
            | BuildError::HandleTarget { path, .. }
            | BuildError::Pool { path, .. }
            | BuildError::Default { path, .. } => path,
        }
    }
}

// ---------------------------------------------------------------------------------------- report

/// What building did, type by type (by current stable name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub types: BTreeMap<String, TypeReport>,
    /// Elements of fixed-size arrays that the JSON lacked, filled with their default.
    pub elements_filled: u64,
}

/// What building did with the values of one type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeReport {
    /// How many values of the type were built.
    pub values: u64,
    /// Fields the JSON lacked somewhere, filled with their default (`Variant.field` for a
    /// variant's fields).
    pub added: BTreeSet<String>,
    /// JSON members no field took: their values were dropped (`Variant.member` in variants).
    pub dropped: BTreeSet<String>,
    /// JSON members and variants taken through a `rename_from`: `(JSON name, current name)`.
    pub renamed: BTreeSet<(String, String)>,
}

impl Report {
    /// The report of the type with this (current) stable name.
    pub fn ty(&self, name: &str) -> Option<&TypeReport> {
        self.types.get(name)
    }

    fn entry(&mut self, ty: &str) -> &mut TypeReport {
        if !self.types.contains_key(ty) {
            self.types.insert(ty.to_owned(), TypeReport::default());
        }
        self.types.get_mut(ty).expect("inserted above")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, t) in &self.types {
            let s = if t.values == 1 { "" } else { "s" };
            writeln!(f, "{name}: {} value{s}", t.values)?;
            for (from, to) in &t.renamed {
                writeln!(f, "  > {from} -> {to} (renamed)")?;
            }
            for field in &t.added {
                writeln!(f, "  + {field} (default)")?;
            }
            for field in &t.dropped {
                writeln!(f, "  - {field} (dropped)")?;
            }
        }
        if self.elements_filled > 0 {
            writeln!(
                f,
                "{} array element{} filled with defaults",
                self.elements_filled,
                if self.elements_filled == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// The vacant slots of pools, which `state_json` does not print: for each pool, by its path
/// (`World.units`, in the JSON's names, [`ValuePath`]'s text), its vacant slots as
/// `(index, generation)`.
pub type VacantSlots = BTreeMap<String, Vec<(u32, u32)>>;

/// How many vacant slots a pool may have beyond those [`VacantSlots`] lists, when the indices of
/// its occupied slots leave gaps: a bound against allocating billions of slots for one typo.
pub const MAX_UNLISTED_VACANT_SLOTS: usize = 1 << 20;

// -------------------------------------------------------------------------------------- scratch

/// Drops the values of `fields` at `dsts` (one address per field).
///
/// # Safety
/// Each address holds a valid value of its field, not used again.
unsafe fn drop_fields(fields: &[FieldDesc], dsts: &[*mut u8]) {
    for (field, &dst) in fields.iter().zip(dsts) {
        let shape = (field.shape)();
        if shape.needs_drop {
            // SAFETY: the caller's contract: a valid value, dropped once.
            unsafe { (shape.drop)(dst) }
        }
    }
}

// --------------------------------------------------------------------------------------- builder

/// Builds values of the current types from [`Json`]. One builder per load or `set`: it keeps the
/// path being built (for errors) and the [`Report`].
#[derive(Debug)]
pub struct Builder<'v> {
    mode: Mode,
    vacant: Option<&'v VacantSlots>,
    saved: Option<&'v Schema>,
    path: Vec<Seg>,
    report: Report,
}

/// The fields of a struct, or of one variant of an enum, to build.
struct FieldsOf<'v> {
    desc: &'static TypeDesc,
    variant: Option<&'static str>,
    style: FieldsStyle,
    fields: &'static [FieldDesc],
    /// The fields as saved, when known.
    saved: Option<&'v [FieldLayout]>,
}

/// The members of the JSON of a struct or variant, the member each field takes, and the default
/// plan of each field that takes none (see [`Builder::match_fields`]).
type Matched<'j> = (
    Vec<(Cow<'j, str>, &'j Json)>,
    Vec<Option<usize>>,
    Vec<Option<DefaultPlan>>,
);

/// The saved layout of the value being built, when known: what a number's field type was.
type Saved<'v> = Option<&'v TyLayout>;

impl<'v> Builder<'v> {
    pub fn new(mode: Mode) -> Self {
        Builder {
            mode,
            vacant: None,
            saved: None,
            path: Vec::new(),
            report: Report::default(),
        }
    }

    /// The vacant slots of the pools to build (a snapshot's `vacant_slots`).
    pub fn with_vacant_slots(mut self, vacant: &'v VacantSlots) -> Self {
        self.vacant = Some(vacant);
        self
    }

    /// The layouts the JSON was saved from (a snapshot's `types`). With them, a number converts
    /// from the type it was saved as, exactly as a reload casts it: an `f32` field's `0.1` goes
    /// into an `f64` field as `0.1f32` widened, an `f64` field's `0.1` into an `f32` field is
    /// refused. Without them, a float's text is rounded to the field's type.
    pub fn with_saved_types(mut self, saved: &'v Schema) -> Self {
        self.saved = Some(saved);
        self
    }

    /// Where the value being built lives, for errors (`World.pos`): set before each build. A
    /// resource's path is its name in the JSON, which also finds its saved layout.
    pub fn at(&mut self, path: ValuePath) -> &mut Self {
        self.path = path.0;
        self
    }

    pub fn report(&self) -> &Report {
        &self.report
    }

    pub fn into_report(self) -> Report {
        self.report
    }

    /// Builds a value of `desc` from `json` as a new resource, which keeps `image` (the guard of
    /// the image `desc` lives in: its catalog's or its resource's) mapped.
    pub fn build_resource(
        &mut self,
        desc: &'static TypeDesc,
        image: &ImageRef,
        json: &Json,
    ) -> Result<Resource, BuildError> {
        let saved = match (self.saved, self.path.first()) {
            (Some(schema), Some(Seg::Name(name))) => schema.get(name),
            _ => None,
        };
        let scratch = Scratch::for_type(desc);
        // SAFETY: the scratch is fresh memory with `desc`'s layout.
        unsafe { self.type_from(desc, json, scratch.ptr(), saved)? };
        // SAFETY: the scratch holds a complete value of `desc`, which the resource takes over;
        // the scratch is only freed afterwards, never dropped. `image` guards `desc`'s image
        // (this function's contract with its callers, who take both from one catalog or
        // resource).
        Ok(unsafe { Resource::from_raw_in(desc, scratch.ptr(), image.clone()) })
    }

    /// Builds a value of `desc` from `json` at `dst`. On error nothing is left at `dst`.
    ///
    /// # Safety
    /// `dst` is valid for writes of `desc`'s size and aligned to its alignment.
    pub unsafe fn build_type(
        &mut self,
        desc: &'static TypeDesc,
        json: &Json,
        dst: *mut u8,
    ) -> Result<(), BuildError> {
        // SAFETY: forwarded contract.
        unsafe { self.type_from(desc, json, dst, None) }
    }

    /// Builds a value of `shape` from `json` at `dst`. On error nothing is left at `dst`.
    ///
    /// # Safety
    /// `dst` is valid for writes of `shape`'s size and aligned to its alignment.
    pub unsafe fn build_shape(
        &mut self,
        shape: &'static Shape,
        json: &Json,
        dst: *mut u8,
    ) -> Result<(), BuildError> {
        // SAFETY: forwarded contract.
        unsafe { self.shape_from(shape, json, dst, None) }
    }

    /// [`Builder::build_type`], from a value saved as `saved`.
    ///
    /// # Safety
    /// As for [`Builder::build_type`].
    unsafe fn type_from(
        &mut self,
        desc: &'static TypeDesc,
        json: &Json,
        dst: *mut u8,
        saved: Option<&'v TypeLayout>,
    ) -> Result<(), BuildError> {
        match &desc.kind {
            TypeKind::Struct(s) => {
                let dsts: Vec<*mut u8> = s
                    .fields
                    .iter()
                    // SAFETY: the offsets come from `offset_of!` on this type, so each field
                    // lies inside the value at `dst`.
                    .map(|f| unsafe { dst.add(f.offset) })
                    .collect();
                let saved = match saved.map(|t| &t.kind) {
                    Some(LayoutKind::Struct { fields, .. }) => Some(fields.as_slice()),
                    _ => None,
                };
                let of = FieldsOf {
                    desc,
                    variant: None,
                    style: s.style,
                    fields: s.fields,
                    saved,
                };
                // SAFETY: one address per field, each valid for writes of its field.
                unsafe { self.build_fields(&of, Some(json), &dsts)? };
            }
            // SAFETY: forwarded contract.
            TypeKind::Enum(e) => unsafe { self.build_enum(desc, e, json, dst, saved)? },
        }
        self.report.entry(desc.name).values += 1;
        Ok(())
    }

    /// [`Builder::build_shape`], from a value saved as `saved`.
    ///
    /// # Safety
    /// As for [`Builder::build_shape`].
    unsafe fn shape_from(
        &mut self,
        shape: &'static Shape,
        json: &Json,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), BuildError> {
        // Every nested value is built through here, so the builder recurses as deep as the JSON
        // nests: when the stack runs low, the rest of the walk continues on a new segment
        // allocated on the heap (as rustc does for deep expressions), so a value of any depth
        // builds.
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            // SAFETY: forwarded contract.
            unsafe { self.shape_from_here(shape, json, dst, saved) }
        })
    }

    /// [`Builder::shape_from`] on the current stack.
    ///
    /// # Safety
    /// As for [`Builder::build_shape`].
    unsafe fn shape_from_here(
        &mut self,
        shape: &'static Shape,
        json: &Json,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), BuildError> {
        // The saved element type of a container.
        let saved_elem = match saved {
            Some(
                TyLayout::Array(elem, _)
                | TyLayout::Vec(elem)
                | TyLayout::Box(elem)
                | TyLayout::Option(elem)
                | TyLayout::Pool(elem),
            ) => Some(&**elem),
            _ => None,
        };
        match &shape.kind {
            ShapeKind::Prim(p) => {
                let saved = match saved {
                    Some(TyLayout::Prim(s)) => Some(*s),
                    _ => None,
                };
                // SAFETY: forwarded contract; `dst` has room for the primitive.
                unsafe { self.build_prim(*p, json, dst, saved) }
            }
            ShapeKind::String(glue) => match json {
                Json::String(s) => {
                    // SAFETY: `s` is valid UTF-8 that lives through the call; `dst` is valid for
                    // writes of a `String`.
                    unsafe { (glue.write_from)(dst, s.as_ptr(), s.len()) };
                    Ok(())
                }
                other => Err(self.expected(shape, other)),
            },
            ShapeKind::Array { elem, len } => {
                // SAFETY: forwarded contract.
                unsafe { self.build_array(shape, elem(), *len, json, dst, saved_elem) }
            }
            // SAFETY: forwarded contract.
            ShapeKind::Vec { elem, glue } => unsafe {
                self.build_vec(shape, elem(), glue, json, dst, saved_elem)
            },
            ShapeKind::Box { elem, glue } => {
                let scratch = Scratch::for_shape(elem());
                // SAFETY: the scratch has the boxed value's layout.
                unsafe { self.shape_from(elem(), json, scratch.ptr(), saved_elem)? };
                // SAFETY: the scratch holds a complete value, which `write_from` moves into the
                // new box at `dst`; the scratch is then only freed.
                unsafe { (glue.write_from)(dst, scratch.ptr()) };
                Ok(())
            }
            // SAFETY: forwarded contract.
            ShapeKind::Option { elem, glue } => unsafe {
                self.build_option(elem(), glue, json, dst, saved_elem)
            },
            ShapeKind::Pool { elem, glue } => {
                // SAFETY: forwarded contract.
                unsafe { self.build_pool(shape, elem(), glue, json, dst, saved_elem) }
            }
            ShapeKind::Handle { target } => {
                let (index, generation) = self.handle_parts(target(), json)?;
                // SAFETY: a `Handle<T>` is `repr(C)` `{ index: u32, generation: u32 }` (plus a
                // zero-sized marker), the layout of `[u32; 2]`; `dst` is valid for its writes.
                unsafe { dst.cast::<[u32; 2]>().write([index, generation]) };
                Ok(())
            }
            ShapeKind::Named(desc) => {
                let saved = match (saved, self.saved) {
                    (Some(TyLayout::Named(name)), Some(schema)) => schema.get(name),
                    _ => None,
                };
                // SAFETY: forwarded contract.
                unsafe { self.type_from(desc(), json, dst, saved) }
            }
        }
    }

    fn path(&self) -> ValuePath {
        ValuePath(self.path.clone())
    }

    /// Runs `f` with `seg` appended to the path.
    fn within<R>(&mut self, seg: Seg, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(seg);
        let result = f(self);
        self.path.pop();
        result
    }

    fn expected(&self, shape: &Shape, found: &Json) -> BuildError {
        self.expected_text(format!("`{}`", shape_text(shape)), found)
    }

    /// `expected` says what the value holds, code in backticks: "`u8`", "`Vec2` (an object of
    /// its fields)".
    fn expected_text(&self, expected: impl Into<String>, found: &Json) -> BuildError {
        let found = match found {
            Json::Number(n) => format!("the number {n}"),
            Json::String(s) => format!("the string {s:?}"),
            Json::Bool(b) => format!("`{b}`"),
            Json::Null => "`null`".to_owned(),
            other => other.kind().to_owned(),
        };
        BuildError::Expected {
            path: self.path(),
            expected: expected.into(),
            found,
        }
    }

    /// # Safety
    /// `dst` is valid for writes of the primitive `prim`.
    /// `saved` is the primitive the value was saved as, when known.
    unsafe fn build_prim(
        &self,
        prim: Prim,
        json: &Json,
        dst: *mut u8,
        saved: Option<Prim>,
    ) -> Result<(), BuildError> {
        let number = |p: Prim| p.is_int() || p.is_float();
        let checked_cast = |from: Prim, text: &String| BuildError::CheckedCast {
            path: self.path(),
            value: text.clone(),
            from,
            to: prim,
        };
        match (prim, json) {
            (Prim::Bool, Json::Bool(b)) => {
                // SAFETY: `dst` is valid for writes of a `bool`.
                unsafe { dst.cast::<bool>().write(*b) };
                Ok(())
            }
            (Prim::Char, Json::String(s)) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        // SAFETY: `dst` is valid for writes of a `char`.
                        unsafe { dst.cast::<char>().write(c) };
                        Ok(())
                    }
                    _ => Err(BuildError::NotAChar {
                        path: self.path(),
                        value: format!("{s:?}"),
                    }),
                }
            }
            (Prim::F32 | Prim::F64, Json::Null) => {
                // `state_json` prints NaN (and the infinities) as `null`.
                // SAFETY: `dst` is valid for writes of the float type `prim`.
                unsafe {
                    match prim {
                        Prim::F32 => dst.cast::<f32>().write(f32::NAN),
                        _ => dst.cast::<f64>().write(f64::NAN),
                    }
                }
                Ok(())
            }
            (p, Json::Number(text))
                if is_float_text(text)
                    && let Some(from) = saved.filter(|&s| s.is_float() && s != p && number(p)) =>
            {
                // The value was saved as another float type: read it as that type, then cast
                // exactly as a reload would.
                let value = match from {
                    Prim::F32 => text.parse::<f32>().map(f64::from),
                    _ => text.parse::<f64>(),
                };
                let value = value.expect("valid JSON number syntax parses as a float");
                // SAFETY: `dst` is valid for writes of `p`, a number type.
                if unsafe { write_num(Num::Float(value), p, dst) } {
                    Ok(())
                } else {
                    Err(checked_cast(from, text))
                }
            }
            (p, Json::Number(text)) if p.is_float() && is_float_text(text) => {
                let fits = match p {
                    Prim::F32 => text.parse::<f32>().ok().filter(|v| v.is_finite()).map(|v| {
                        // SAFETY: `dst` is valid for writes of an `f32`.
                        unsafe { dst.cast::<f32>().write(v) }
                    }),
                    _ => text.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| {
                        // SAFETY: `dst` is valid for writes of an `f64`.
                        unsafe { dst.cast::<f64>().write(v) }
                    }),
                };
                fits.ok_or_else(|| BuildError::DoesNotFit {
                    path: self.path(),
                    value: text.clone(),
                    ty: p,
                })
            }
            (p, Json::Number(text)) if number(p) => {
                let saved_as = saved.filter(|&s| s != p && number(s));
                let n = match integer_value(text) {
                    Integer::Value(n) => n,
                    _ if saved_as.is_some() => {
                        return Err(checked_cast(saved_as.expect("checked"), text));
                    }
                    Integer::Fraction => {
                        return Err(BuildError::NotIntegral {
                            path: self.path(),
                            value: text.clone(),
                            ty: p,
                        });
                    }
                    Integer::TooLarge => {
                        return Err(BuildError::DoesNotFit {
                            path: self.path(),
                            value: text.clone(),
                            ty: p,
                        });
                    }
                };
                // SAFETY: `dst` is valid for writes of `p`, a number type.
                if unsafe { write_num(n, p, dst) } {
                    Ok(())
                } else if let Some(from) = saved_as {
                    Err(checked_cast(from, text))
                } else if p.is_float() {
                    Err(BuildError::NotExact {
                        path: self.path(),
                        value: text.clone(),
                        ty: p,
                    })
                } else {
                    Err(BuildError::DoesNotFit {
                        path: self.path(),
                        value: text.clone(),
                        ty: p,
                    })
                }
            }
            (p, other) => Err(self.expected_text(format!("`{p}`"), other)),
        }
    }

    /// # Safety
    /// `dst` is valid for writes of `shape`, an array of `len` elements of `elem`.
    unsafe fn build_array(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        len: usize,
        json: &Json,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), BuildError> {
        let Json::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        let too_short = |why: String| BuildError::ArrayTooShort {
            path: ValuePath(self.path.clone()),
            ty: shape_text(shape),
            len,
            found: items.len(),
            why,
        };
        if items.len() > len {
            return Err(BuildError::ArrayTooLong {
                path: self.path(),
                ty: shape_text(shape),
                len,
                found: items.len(),
            });
        }
        let fill = if items.len() < len {
            if self.mode == Mode::Exact {
                return Err(too_short(format!("give all {len}")));
            }
            match DefaultPlan::for_shape(elem) {
                Some(plan) => Some(plan),
                None => {
                    return Err(too_short(format!(
                        "`{}` has no default to fill the rest with; implement `Default` for it or give all {len}",
                        shape_text(elem)
                    )));
                }
            }
        } else {
            None
        };
        for (i, item) in items.iter().enumerate() {
            // SAFETY: element `i < len` of the array at `dst`.
            let at = unsafe { dst.add(i * elem.size) };
            // SAFETY: `at` is valid for writes of an element.
            let built = self.within(Seg::Index(i), |b| unsafe {
                b.shape_from(elem, item, at, saved)
            });
            if let Err(e) = built {
                // SAFETY: elements `..i` were built above and are dropped once.
                unsafe { drop_elements(elem, dst, i) };
                return Err(e);
            }
        }
        if let Some(fill) = fill {
            for i in items.len()..len {
                // SAFETY: element `i < len` of the array at `dst`.
                if let Err(e) = unsafe { write_default(&fill, dst.add(i * elem.size)) } {
                    // SAFETY: elements `..i` were built or filled above and are dropped once.
                    unsafe { drop_elements(elem, dst, i) };
                    return Err(self.within(Seg::Index(i), |b| b.default_panicked(e)));
                }
            }
            self.report.elements_filled += (len - items.len()) as u64;
        }
        Ok(())
    }

    /// # Safety
    /// `dst` is valid for writes of `shape`, a `Vec` of `elem`.
    unsafe fn build_vec(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        glue: &VecGlue,
        json: &Json,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), BuildError> {
        let Json::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        // SAFETY: `dst` is valid for writes of the vector.
        let buf = unsafe { (glue.write_with_capacity)(dst, items.len()) };
        for (i, item) in items.iter().enumerate() {
            // SAFETY: the buffer has room for `items.len()` elements.
            let at = unsafe { buf.add(i * elem.size) };
            // SAFETY: `at` is valid for writes of an element.
            let built = self.within(Seg::Index(i), |b| unsafe {
                b.shape_from(elem, item, at, saved)
            });
            if let Err(e) = built {
                // SAFETY: the first `i` elements are built: the vector takes them over and its
                // drop glue drops them, once, and frees the buffer.
                unsafe {
                    (glue.set_len)(dst, i);
                    (shape.drop)(dst);
                }
                return Err(e);
            }
        }
        // SAFETY: all `items.len()` elements are built, within the capacity.
        unsafe { (glue.set_len)(dst, items.len()) };
        Ok(())
    }

    /// # Safety
    /// `dst` is valid for writes of an `Option` of `elem`.
    unsafe fn build_option(
        &mut self,
        elem: &'static Shape,
        glue: &OptionGlue,
        json: &Json,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), BuildError> {
        if *json == Json::Null {
            // SAFETY: `dst` is valid for writes of the option.
            unsafe { (glue.write_none)(dst) };
            return Ok(());
        }
        let scratch = Scratch::for_shape(elem);
        // SAFETY: the scratch has the payload's layout.
        unsafe { self.shape_from(elem, json, scratch.ptr(), saved)? };
        // SAFETY: the scratch holds a complete payload, which `write_some` moves into the option;
        // the scratch is then only freed.
        unsafe { (glue.write_some)(dst, scratch.ptr()) };
        Ok(())
    }

    /// # Safety
    /// `dst` is valid for writes of `shape`, a pool of `elem`.
    unsafe fn build_pool(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        glue: &PoolGlue,
        json: &Json,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), BuildError> {
        let Json::Array(items) = json else {
            return Err(self.expected_text(
                format!(
                    "`{}` (an array of `{{\"index\",\"generation\",\"value\"}}` slots)",
                    shape_text(shape)
                ),
                json,
            ));
        };
        let pool_error = |b: &Self, message: String| BuildError::Pool {
            path: b.path(),
            message,
        };
        // The occupied slots, in order.
        let mut occupied: Vec<(usize, u32, &Json)> = Vec::with_capacity(items.len());
        for (k, item) in items.iter().enumerate() {
            let slot = self.within(Seg::Index(k), |b| b.pool_entry(item))?;
            if let Some(&(previous, _, _)) = occupied.last()
                && slot.0 <= previous
            {
                return Err(pool_error(
                    self,
                    format!(
                        "its slots must be in increasing index order, and slot {} comes after slot {previous}",
                        slot.0
                    ),
                ));
            }
            occupied.push(slot);
        }
        let listed: &[(u32, u32)] = match self.vacant {
            Some(vacant) => vacant
                .get(&self.path().to_string())
                .map_or(&[], Vec::as_slice),
            None => &[],
        };
        let mut vacant: BTreeMap<usize, u32> = BTreeMap::new();
        for &(index, generation) in listed {
            let index = index as usize;
            if vacant.insert(index, generation).is_some()
                || occupied.binary_search_by_key(&index, |o| o.0).is_ok()
            {
                return Err(pool_error(
                    self,
                    format!("slot {index} is listed both as occupied and as vacant"),
                ));
            }
        }
        let slots = occupied
            .last()
            .map(|o| o.0 + 1)
            .max(vacant.last_key_value().map(|(&i, _)| i + 1))
            .unwrap_or(0);
        if slots - occupied.len() - vacant.len() > MAX_UNLISTED_VACANT_SLOTS {
            return Err(pool_error(
                self,
                format!(
                    "its slot indices go up to {} with only {} slots given",
                    slots - 1,
                    occupied.len()
                ),
            ));
        }
        // SAFETY: `dst` is valid for writes of the pool.
        unsafe { (glue.write_vacant)(dst, slots) };
        let scratch = Scratch::for_shape(elem);
        let mut next = occupied.iter().peekable();
        for i in 0..slots {
            match next.next_if(|o| o.0 == i) {
                Some(&(_, generation, value)) => {
                    // SAFETY: the scratch has the element's layout.
                    let built = self.within(Seg::Index(i), |b| unsafe {
                        b.shape_from(elem, value, scratch.ptr(), saved)
                    });
                    if let Err(e) = built {
                        // SAFETY: the pool holds slots `..i`, set in order: a valid pool, which
                        // its drop glue drops with the values in it, once.
                        unsafe { (shape.drop)(dst) };
                        return Err(e);
                    }
                    // SAFETY: slots are set in order; the scratch holds a complete value, which
                    // `set_slot` moves into the pool; the scratch is then only freed.
                    unsafe { (glue.set_slot)(dst, i, generation, scratch.ptr()) };
                }
                None => {
                    let generation = vacant.get(&i).copied().unwrap_or(0);
                    // SAFETY: slots are set in order; a null source leaves the slot vacant.
                    unsafe { (glue.set_slot)(dst, i, generation, core::ptr::null_mut()) };
                }
            }
        }
        Ok(())
    }

    /// One occupied slot of a pool: `{"index":i,"generation":g,"value":v}`.
    fn pool_entry<'j>(&mut self, item: &'j Json) -> Result<(usize, u32, &'j Json), BuildError> {
        let shape_error = || BuildError::Pool {
            path: self.path(),
            message: format!(
                "its slots are objects `{{\"index\":i,\"generation\":g,\"value\":v}}`, not {}",
                item.kind()
            ),
        };
        let Json::Object(members) = item else {
            return Err(shape_error());
        };
        if members.len() != 3 {
            return Err(shape_error());
        }
        let (Some(index), Some(generation), Some(value)) =
            (item.get("index"), item.get("generation"), item.get("value"))
        else {
            return Err(shape_error());
        };
        let index = self.within(Seg::Name("index".into()), |b| b.u32_of(index))?;
        let generation = self.within(Seg::Name("generation".into()), |b| b.u32_of(generation))?;
        Ok((index as usize, generation, value))
    }

    fn u32_of(&self, json: &Json) -> Result<u32, BuildError> {
        let mut out = 0u32;
        // SAFETY: `out` is a `u32`, valid for writes.
        unsafe { self.build_prim(Prim::U32, json, (&mut out as *mut u32).cast(), None)? };
        Ok(out)
    }

    /// The index and generation of a handle to `target`: `{"handle":"T","index":i,"generation":g}`.
    fn handle_parts(&mut self, target: &TypeDesc, json: &Json) -> Result<(u32, u32), BuildError> {
        let expected = format!(
            "`Handle<{0}>` (`{{\"handle\":\"{0}\",\"index\":i,\"generation\":g}}`)",
            target.name
        );
        let (Json::Object(members), Some(Json::String(name)), Some(index), Some(generation)) = (
            json,
            json.get("handle"),
            json.get("index"),
            json.get("generation"),
        ) else {
            return Err(self.expected_text(expected, json));
        };
        if members.len() != 3 {
            return Err(self.expected_text(expected, json));
        }
        if !target.answers_to(name) {
            return Err(BuildError::HandleTarget {
                path: self.path(),
                expected: target.name.to_owned(),
                found: name.clone(),
            });
        }
        let index = self.within(Seg::Name("index".into()), |b| b.u32_of(index))?;
        let generation = self.within(Seg::Name("generation".into()), |b| b.u32_of(generation))?;
        Ok((index, generation))
    }

    fn default_panicked(&self, panicked: DefaultPanicked) -> BuildError {
        BuildError::Default {
            path: self.path(),
            panicked,
        }
    }

    /// # Safety
    /// `dst` is valid for writes of the enum `desc`.
    unsafe fn build_enum(
        &mut self,
        desc: &'static TypeDesc,
        e: &'static EnumDesc,
        json: &Json,
        dst: *mut u8,
        saved: Option<&'v TypeLayout>,
    ) -> Result<(), BuildError> {
        let (tag, content) = match json {
            Json::String(tag) => (tag, None),
            Json::Object(members) if members.len() == 1 => (&members[0].0, Some(&members[0].1)),
            other => {
                return Err(self.expected_text(
                    format!(
                        "`{}` (a variant's name, or an object of one member from a variant's name to its fields; \
                         its variants are {})",
                        desc.name,
                        list(&variant_names(e))
                    ),
                    other,
                ));
            }
        };
        let index = e.variants.iter().position(|v| v.name == tag).or_else(|| {
            (self.mode == Mode::Migrate)
                .then(|| {
                    e.variants
                        .iter()
                        .position(|v| v.rename_from.contains(&tag.as_str()))
                })
                .flatten()
        });
        let Some(index) = index else {
            return Err(BuildError::UnknownVariant {
                path: self.path(),
                ty: desc.name.to_owned(),
                variant: tag.clone(),
                variants: variant_names(e),
            });
        };
        let variant = &e.variants[index];
        if variant.name != tag {
            self.report
                .entry(desc.name)
                .renamed
                .insert((tag.clone(), variant.name.to_owned()));
        }
        let saved = match saved.map(|t| &t.kind) {
            Some(LayoutKind::Enum { variants, .. }) => variants
                .iter()
                .find(|v| v.name == *tag)
                .map(|v| v.fields.as_slice()),
            _ => None,
        };
        let (layout, offsets) = coo_runtime::storage::scratch::variant_layout(variant.fields);
        let scratch = Scratch::new(layout);
        let dsts: Vec<*mut u8> = offsets
            .iter()
            // SAFETY: the offsets lie inside the scratch layout.
            .map(|&o| unsafe { scratch.ptr().add(o) })
            .collect();
        self.within(Seg::Name(tag.clone()), |b| {
            // SAFETY: one address per field of the variant, each valid for writes of its field.
            unsafe {
                let of = FieldsOf {
                    desc,
                    variant: Some(variant.name),
                    style: variant.style,
                    fields: variant.fields,
                    saved,
                };
                b.build_fields(&of, content, &dsts)
            }
        })?;
        // SAFETY: every field of the variant is built at `dsts`; `write` moves them into the enum
        // at `dst`, and the scratch is then only freed.
        unsafe { (e.write)(dst, index, dsts.as_ptr()) };
        Ok(())
    }

    /// Builds the fields of a struct or variant from the members of `json` (`None`: a variant
    /// written as its bare name, which has no members). On error, nothing is left at `dsts`.
    ///
    /// # Safety
    /// `dsts` has one address per field, each valid for writes of that field.
    unsafe fn build_fields(
        &mut self,
        of: &FieldsOf<'v>,
        json: Option<&Json>,
        dsts: &[*mut u8],
    ) -> Result<(), BuildError> {
        // Matching members to fields and checking them is out of line, so that the frames of
        // this function, which a deep value nests once per level, stay small.
        let (members, sources, defaults) = self.match_fields(of, json)?;
        let FieldsOf {
            desc,
            variant,
            fields,
            saved,
            ..
        } = *of;
        let report_name = |name: &str| match variant {
            Some(v) => format!("{v}.{name}"),
            None => name.to_owned(),
        };
        for (i, field) in fields.iter().enumerate() {
            let result = match (sources[i], &defaults[i]) {
                (Some(m), _) => {
                    let (key, value) = &members[m];
                    let shape = (field.shape)();
                    let saved = saved
                        .and_then(|fields| fields.iter().find(|f| f.name == *key))
                        .map(|f| &f.ty);
                    // SAFETY: `dsts[i]` is valid for writes of the field (caller's contract).
                    self.within(Seg::Name(key.to_string()), |b| unsafe {
                        b.shape_from(shape, value, dsts[i], saved)
                    })
                }
                (None, Some(plan)) => {
                    // SAFETY: as above.
                    let written = unsafe { write_default(plan, dsts[i]) };
                    match written {
                        Ok(()) => {
                            self.report
                                .entry(desc.name)
                                .added
                                .insert(report_name(field.name));
                            Ok(())
                        }
                        Err(e) => Err(self
                            .within(Seg::Name(field.name.to_owned()), |b| b.default_panicked(e))),
                    }
                }
                (None, None) => unreachable!("every field has a source or a default plan"),
            };
            if let Err(e) = result {
                // SAFETY: the fields `..i` were built above and are dropped once.
                unsafe { drop_fields(&fields[..i], &dsts[..i]) };
                return Err(e);
            }
        }
        Ok(())
    }

    /// Which member of the JSON each field of [`Builder::build_fields`] takes, or the default
    /// plan of a field that takes none; an error when the JSON has a member too much or lacks a
    /// field (`Exact`), or a field it lacks has no default.
    #[inline(never)]
    fn match_fields<'j>(
        &mut self,
        of: &FieldsOf<'v>,
        json: Option<&'j Json>,
    ) -> Result<Matched<'j>, BuildError> {
        let FieldsOf {
            desc,
            variant,
            style,
            fields,
            ..
        } = *of;
        let ty_text = match variant {
            Some(v) => format!("{}::{v}", desc.name),
            None => desc.name.to_owned(),
        };
        let report_name = |name: &str| match variant {
            Some(v) => format!("{v}.{name}"),
            None => name.to_owned(),
        };
        let members = match json {
            None => Vec::new(),
            Some(json) => self.members(style, fields.len(), json, &ty_text)?,
        };
        let field_names = || fields.iter().map(|f| f.name.to_owned()).collect::<Vec<_>>();
        // Which member each field takes: its own name first, so a `rename_from` never steals a
        // member a field is named after; then (migrating) its `rename_from` names in order.
        let mut taken = vec![false; members.len()];
        let mut sources: Vec<Option<usize>> = fields
            .iter()
            .map(|f| {
                let source = members.iter().position(|(k, _)| k == f.name);
                if let Some(m) = source {
                    taken[m] = true;
                }
                source
            })
            .collect();
        if self.mode == Mode::Migrate {
            for (field, source) in fields.iter().zip(&mut sources) {
                if source.is_some() {
                    continue;
                }
                *source = field.rename_from.iter().find_map(|r| {
                    members
                        .iter()
                        .enumerate()
                        .position(|(m, (k, _))| k == r && !taken[m])
                });
                if let Some(m) = *source {
                    taken[m] = true;
                    self.report
                        .entry(desc.name)
                        .renamed
                        .insert((report_name(&members[m].0), report_name(field.name)));
                }
            }
        }
        // Check before building anything: what the JSON has too much, and fields it lacks.
        for (m, (key, _)) in members.iter().enumerate() {
            if taken[m] {
                continue;
            }
            match self.mode {
                Mode::Migrate => {
                    self.report
                        .entry(desc.name)
                        .dropped
                        .insert(report_name(key));
                }
                Mode::Exact => {
                    return Err(BuildError::UnknownField {
                        path: self.path(),
                        ty: ty_text,
                        field: key.to_string(),
                        fields: field_names(),
                    });
                }
            }
        }
        let mut defaults: Vec<Option<DefaultPlan>> = Vec::with_capacity(fields.len());
        for (field, source) in fields.iter().zip(&sources) {
            if source.is_some() {
                defaults.push(None);
                continue;
            }
            if self.mode == Mode::Exact {
                return Err(BuildError::FieldNotGiven {
                    path: self.path(),
                    ty: ty_text,
                    field: field.name.to_owned(),
                    fields: field_names(),
                });
            }
            let shape = (field.shape)();
            let plan = field
                .default
                .map(DefaultPlan::Write)
                .or_else(|| DefaultPlan::for_shape(shape));
            let Some(plan) = plan else {
                let field_ty = shape_text(shape);
                let spare: Vec<String> = members
                    .iter()
                    .enumerate()
                    .filter(|&(m, _)| !taken[m])
                    .map(|(_, (k, _))| k.to_string())
                    .collect();
                let rename = if spare.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or `#[coo(rename_from = \"...\")]` if it continues one of {}",
                        list(&spare)
                    )
                };
                return Err(BuildError::MissingField {
                    path: self.path(),
                    ty: ty_text,
                    field: field.name.to_owned(),
                    field_ty: field_ty.clone(),
                    fix: format!(
                        "add `#[coo(default = ...)]` to field `{}`, implement `Default` for `{field_ty}`{rename}",
                        field.name
                    ),
                });
            };
            defaults.push(Some(plan));
        }
        Ok((members, sources, defaults))
    }

    /// The members of the JSON of a struct or variant, named as its fields are: by key for
    /// named fields, `0`, `1`, … for tuple fields, `0` for a newtype's one field.
    fn members<'j>(
        &self,
        style: FieldsStyle,
        field_count: usize,
        json: &'j Json,
        ty_text: &str,
    ) -> Result<Vec<(Cow<'j, str>, &'j Json)>, BuildError> {
        let object = |members: &'j [(String, Json)]| {
            members
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), v))
                .collect::<Vec<_>>()
        };
        let array = |items: &'j [Json]| {
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Cow::Owned(i.to_string()), v))
                .collect::<Vec<_>>()
        };
        Ok(match (style, json) {
            (FieldsStyle::Named, Json::Object(members)) => object(members),
            (FieldsStyle::Named, other) => {
                return Err(
                    self.expected_text(format!("`{ty_text}` (an object of its fields)"), other)
                );
            }
            (FieldsStyle::Tuple, only) if field_count == 1 => vec![(Cow::Borrowed("0"), only)],
            (FieldsStyle::Tuple, Json::Array(items)) => array(items),
            (FieldsStyle::Tuple, other) => {
                return Err(self.expected_text(
                    format!("`{ty_text}` (an array of its {field_count} fields)"),
                    other,
                ));
            }
            (FieldsStyle::Unit, Json::Null) => Vec::new(),
            (FieldsStyle::Unit, Json::Object(members)) if self.mode == Mode::Migrate => {
                object(members)
            }
            (FieldsStyle::Unit, Json::Array(items)) if self.mode == Mode::Migrate => array(items),
            (FieldsStyle::Unit, other) => {
                return Err(self.expected_text(format!("`{ty_text}` (`null`)"), other));
            }
        })
    }
}

fn variant_names(e: &EnumDesc) -> Vec<String> {
    e.variants.iter().map(|v| v.name.to_owned()).collect()
}

/// Builds a whole state from `resources` (each resource's type and its JSON, with the name the
/// JSON gives it for paths), types of the image `image` guards (their catalog's). On error, the
/// resources built so far are dropped.
pub fn build_state<'j>(
    builder: &mut Builder<'_>,
    image: &ImageRef,
    resources: impl IntoIterator<Item = (&'static TypeDesc, &'j str, &'j Json)>,
) -> Result<State, BuildError> {
    let mut built = Vec::new();
    for (desc, name, json) in resources {
        builder.at(ValuePath(vec![Seg::Name(name.to_owned())]));
        // On error, `built` drops its resources, each with its own type's glue.
        built.push(builder.build_resource(desc, image, json)?);
    }
    let mut state = State::new();
    for resource in built {
        state.insert_resource(resource);
    }
    Ok(state)
}
