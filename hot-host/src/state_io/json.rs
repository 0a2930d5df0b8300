//! JSON text read into [`JsonValue`] values that keep each number as written: what snapshots, the
//! `set` command and the value builder ([`crate::state_io::from_json`]) read.
//!
//! # Why not `serde_json::Value`
//!
//! Checked with serde_json 1.0.154 (and serde 1.0.229):
//!
//! - Numbers. serde_json parses an `i128`/`u128` exactly only when a `Deserialize` impl asks
//!   for one (`deserialize_i128`), which the snapshot's `types` part does (a discriminant is an
//!   `i128`; see coo-runtime's `descriptors::schema`). The values of a state are of types known
//!   only at run time, through their descriptors, so they need a self-describing tree, and
//!   `serde_json::Value` keeps an integer beyond 64 bits only as an `f64` (so do serde's own
//!   buffers behind `flatten` and untagged enums). Keeping them exact takes serde_json's
//!   `arbitrary_precision` feature, and features unify: enabling it in hot-host changes
//!   `serde_json::Number` for every crate of the same build, a plugin's included when it is
//!   built with the host. Floats too: `Value` reads every float as an `f64` first (rounding
//!   twice for an `f32`, and not always to the nearest without the `float_roundtrip` feature).
//!   [`JsonValue`] keeps each number as written, and each field type parses it for itself with
//!   the standard library's correctly rounded parsers.
//! - Depth. serde_json's deserializer recurses once per level of nesting (and refuses more than
//!   128 levels unless its limit is lifted, after which only `serde_stacker`'s heap-grown stack
//!   keeps a deep value from overflowing). A state may nest a million levels.
//!
//! The reader keeps the arrays and objects it is reading on a work stack, and [`JsonValue`]'s drop
//! takes nested values apart one at a time, so input nested a million levels deep reads and
//! drops with a constant native stack.

use std::collections::BTreeSet;

/// A JSON value with its numbers kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    /// A number's text, as it appears in the input (valid JSON number syntax).
    Number(String),
    String(String),
    Array(Vec<JsonValue>),
    /// Members in input order; keys are unique (a repeated key is a parse error).
    Object(Vec<(String, JsonValue)>),
}

/// Takes nested values apart one at a time: the drop glue of a value nested a million levels deep
/// would recurse as deep.
impl Drop for JsonValue {
    fn drop(&mut self) {
        fn take_nested(json: &mut JsonValue, into: &mut Vec<JsonValue>) {
            match json {
                JsonValue::Array(items) => into.append(items),
                JsonValue::Object(members) => {
                    into.extend(members.drain(..).map(|(_, value)| value))
                }
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

/// Why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl JsonValue {
    /// Parses one JSON value (RFC 8259), surrounded by optional whitespace.
    pub fn parse(text: &str) -> Result<JsonValue, JsonError> {
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

    /// Parses one JSON value starting at byte `pos` of `text` (after optional whitespace);
    /// the value and the byte after it.
    pub(crate) fn parse_at(text: &str, pos: usize) -> Result<(JsonValue, usize), JsonError> {
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            pos,
        };
        reader.whitespace();
        let value = reader.value()?;
        Ok((value, reader.pos))
    }

    /// What kind of value this is, with an article, for messages: `a string`, `an array`.
    pub fn kind(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }

    /// The value as JSON text (numbers as they were read), for glue that parses JSON itself
    /// (an opaque field's serde). Walks with a work stack, as reading does.
    pub fn to_text(&self) -> String {
        enum Step<'a> {
            Value(&'a JsonValue),
            Text(&'static str),
            Key(&'a str),
        }
        let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
        let mut out = String::new();
        let mut stack = vec![Step::Value(self)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Text(text) => out.push_str(text),
                Step::Key(key) => {
                    out.push_str(&quote(key));
                    out.push(':');
                }
                Step::Value(JsonValue::Null) => out.push_str("null"),
                Step::Value(JsonValue::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                Step::Value(JsonValue::Number(n)) => out.push_str(n),
                Step::Value(JsonValue::String(s)) => out.push_str(&quote(s)),
                Step::Value(JsonValue::Array(items)) => {
                    out.push('[');
                    stack.push(Step::Text("]"));
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push(Step::Value(item));
                        if i > 0 {
                            stack.push(Step::Text(","));
                        }
                    }
                }
                Step::Value(JsonValue::Object(members)) => {
                    out.push('{');
                    stack.push(Step::Text("}"));
                    for (i, (key, value)) in members.iter().enumerate().rev() {
                        stack.push(Step::Value(value));
                        stack.push(Step::Key(key));
                        if i > 0 {
                            stack.push(Step::Text(","));
                        }
                    }
                }
            }
        }
        out
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
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
    Array(Vec<JsonValue>),
    Object {
        members: Vec<(String, JsonValue)>,
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
    fn value(&mut self) -> Result<JsonValue, JsonError> {
        let mut open: Vec<Open> = Vec::new();
        loop {
            let mut value = match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.whitespace();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        JsonValue::Object(Vec::new())
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
                        JsonValue::Array(Vec::new())
                    } else {
                        open.push(Open::Array(Vec::new()));
                        continue;
                    }
                }
                Some(b'"') => JsonValue::String(self.string()?),
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal("true", JsonValue::Bool(true))?,
                Some(b'f') => self.literal("false", JsonValue::Bool(false))?,
                Some(b'n') => self.literal("null", JsonValue::Null)?,
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
                            Open::Array(items) => JsonValue::Array(items),
                            Open::Object { members, .. } => JsonValue::Object(members),
                        };
                    }
                    _ => return Err(self.error(closed)),
                }
            }
        }
    }

    fn literal(&mut self, word: &str, value: JsonValue) -> Result<JsonValue, JsonError> {
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

    fn number(&mut self) -> Result<JsonValue, JsonError> {
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
        Ok(JsonValue::Number(self.text[start..self.pos].to_owned()))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}
