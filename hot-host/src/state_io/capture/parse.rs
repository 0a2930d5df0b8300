//! A JSON snapshot read straight back into a [`Capture`], without a tree of JSON values: the
//! inverse of [`Capture::snapshot_json`], for the common case where a snapshot is loaded into
//! the build that saved it. The text is read by the saved layouts, token by token from the
//! input slice (numbers parsed in place, no `String` per number, no key sets), into the
//! capture's encoding, which the binary format's builder then writes into the live layout
//! ([`crate::state_io::binary`]).
//!
//! It takes only what [`crate::state_io::snapshot::load`]'s general path would build to the
//! very same values, and gives up (`None`) on anything else: layouts other than the current
//! build's, pools, members out of order or missing, numbers written otherwise than the saved
//! type writes them (an integer in a float field, a fraction in an integer field), escaped
//! strings, any syntax error. The caller then loads the text by the general path, which
//! migrates, or says what is wrong and where. So this is never the one to report an error, and
//! never accepts a text that the general path refuses.
//!
//! What is left to read waits on a work stack (no native recursion), as in the writer.

use coo_runtime::descriptors::layout::{FieldsStyle, Prim};
use coo_runtime::descriptors::schema::{LayoutKind, Schema, TyLayout};

use super::Capture;
use super::json::{Fields, Ty, TypeShape, Types};
use crate::state_io::from_json::VacantSlots;
use crate::state_io::json::JsonValue;
use crate::state_io::snapshot::FORMAT_VERSION;

impl Capture {
    /// The capture a JSON snapshot's text holds, when `accept` takes the layouts it was saved
    /// from (asked before its values are read); `None` when it does not, or the text is
    /// anything but what [`Capture::snapshot_json`] writes for such layouts (see the
    /// [module documentation](self)).
    pub(crate) fn from_snapshot_json(
        text: &str,
        accept: impl FnOnce(&Schema) -> bool,
    ) -> Option<Capture> {
        let mut r = Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        };
        let mut accept = Some(accept);
        let mut schema: Option<Schema> = None;
        let mut values: Option<(Vec<String>, Vec<u8>)> = None;
        let mut version = false;
        let mut seen: Vec<&str> = Vec::new();
        r.ws();
        r.byte(b'{')?;
        r.ws();
        if r.peek() == Some(b'}') {
            return None;
        }
        loop {
            r.ws();
            let key = r.string()?;
            if seen.contains(&key) {
                return None;
            }
            seen.push(key);
            r.ws();
            r.byte(b':')?;
            r.ws();
            if key == "state" {
                // Read by the layouts, which come first in what this host writes.
                let schema = schema.as_ref()?;
                values = Some(r.state(&Types::of(schema))?);
            } else {
                let start = r.pos;
                let (value, end) = JsonValue::parse_at(text, start).ok()?;
                r.pos = end;
                match key {
                    "coo_snapshot" => match &value {
                        JsonValue::Number(n) if *n == FORMAT_VERSION.to_string() => version = true,
                        _ => return None,
                    },
                    "types" => {
                        let saved: Schema = serde_json::from_str(&text[start..end]).ok()?;
                        if !resolvable(&saved) || !(accept.take()?)(&saved) {
                            return None;
                        }
                        schema = Some(saved);
                    }
                    // No pools (the builder does not place vacant slots): none listed.
                    "vacant_slots" => match &value {
                        JsonValue::Object(members) if members.is_empty() => {}
                        _ => return None,
                    },
                    _ => {}
                }
            }
            r.ws();
            match r.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
        r.ws();
        if r.pos != r.bytes.len() || !version {
            return None;
        }
        let (resources, bytes) = values?;
        Some(Capture {
            schema: schema?,
            vacant: VacantSlots::new(),
            resources,
            bytes,
        })
    }
}

/// Whether every type the layouts name is among them ([`Types::of`] needs it).
fn resolvable(schema: &Schema) -> bool {
    fn ok(ty: &TyLayout, schema: &Schema) -> bool {
        match ty {
            TyLayout::Prim(_) | TyLayout::String | TyLayout::Handle(_) => true,
            // Read back by the general path, through the field's own serde.
            TyLayout::Opaque { .. } => false,
            TyLayout::Array(elem, _)
            | TyLayout::Vec(elem)
            | TyLayout::Box(elem)
            | TyLayout::Option(elem)
            | TyLayout::Pool(elem) => ok(elem, schema),
            TyLayout::Named(name) => schema.types.contains_key(name),
            // Trait objects are left to the general path.
            TyLayout::Dyn(_) => false,
            TyLayout::Tuple(elems) => elems.iter().all(|e| ok(e, schema)),
            TyLayout::Coll(_, key, value) => {
                ok(key, schema) && value.as_deref().is_none_or(|v| ok(v, schema))
            }
        }
    }
    schema.types.values().all(|layout| match &layout.kind {
        LayoutKind::Struct { fields, .. } => fields.iter().all(|f| ok(&f.ty, schema)),
        LayoutKind::Enum { variants, .. } => variants
            .iter()
            .flat_map(|v| &v.fields)
            .all(|f| ok(&f.ty, schema)),
    })
}

/// What is left to read, on the reader's work stack.
enum Step<'t, 's> {
    Value(&'t Ty<'s>),
    /// Whitespace, then this byte.
    Close(u8),
    /// A named field: a comma unless it is the first, its name, a colon and its value.
    Field(&'s str, bool, &'t Ty<'s>),
    /// An element of an array or a tuple: a comma unless it is the first, and its value.
    Item(&'t Ty<'s>, bool),
    /// The elements left of a fixed-size array.
    Elements {
        elem: &'t Ty<'s>,
        left: usize,
    },
    /// The next element of a `Vec` or its end; its length is written at `len_at` then.
    VecNext {
        elem: &'t Ty<'s>,
        len_at: usize,
        count: u64,
    },
}

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn byte(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    fn literal(&mut self, word: &str) -> bool {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// A string without escapes (`None` for any other, which the general path reads).
    fn string(&mut self) -> Option<&'t str> {
        self.byte(b'"')?;
        let start = self.pos;
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                _ => {}
            }
        }
        // Both ends are at an ASCII `"`: char boundaries.
        Some(&self.text[start..self.pos - 1])
    }

    /// A number's text, checked against JSON's grammar, and whether it has a fraction or an
    /// exponent.
    fn number(&mut self) -> Option<(&'t str, bool)> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while matches!(r.peek(), Some(b'0'..=b'9')) {
                r.pos += 1;
            }
            r.pos > from
        };
        let mut float = false;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            float = true;
            self.pos += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        Some((&self.text[start..self.pos], float))
    }

    /// A named member's start: a comma unless it is the first, the name and a colon.
    fn member(&mut self, first: bool, name: &str) -> Option<()> {
        self.ws();
        if !first {
            self.byte(b',')?;
            self.ws();
        }
        // The name, compared in place: `"name"`.
        let end = self.pos + name.len() + 2;
        match self.bytes.get(self.pos..end) {
            Some([b'"', inner @ .., b'"']) if inner == name.as_bytes() => self.pos = end,
            _ => return None,
        }
        self.ws();
        self.byte(b':')?;
        self.ws();
        Some(())
    }

    fn prim(&mut self, prim: Prim, out: &mut Vec<u8>) -> Option<()> {
        macro_rules! int {
            ($t:ty, $as:ty) => {{
                let (text, float) = self.number()?;
                if float {
                    return None;
                }
                let v = text.parse::<$t>().ok()? as $as;
                out.extend_from_slice(&v.to_le_bytes());
            }};
        }
        macro_rules! float {
            ($t:ty) => {{
                let v = if self.literal("null") {
                    <$t>::NAN
                } else {
                    let (text, float) = self.number()?;
                    // An integer in a float field converts exactly or not at all: the general
                    // path's to decide.
                    if !float {
                        return None;
                    }
                    Some(text.parse::<$t>().ok()?).filter(|v| v.is_finite())?
                };
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }};
        }
        match prim {
            Prim::Bool => {
                let b = if self.literal("true") {
                    1
                } else if self.literal("false") {
                    0
                } else {
                    return None;
                };
                out.push(b);
            }
            Prim::Char => {
                let mut chars = self.string()?.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    return None;
                };
                out.extend_from_slice(&u32::from(c).to_le_bytes());
            }
            Prim::I8 => int!(i8, i8),
            Prim::I16 => int!(i16, i16),
            Prim::I32 => int!(i32, i32),
            Prim::I64 => int!(i64, i64),
            Prim::I128 => int!(i128, i128),
            Prim::Isize => int!(isize, i64),
            Prim::U8 => int!(u8, u8),
            Prim::U16 => int!(u16, u16),
            Prim::U32 => int!(u32, u32),
            Prim::U64 => int!(u64, u64),
            Prim::U128 => int!(u128, u128),
            Prim::Usize => int!(usize, u64),
            Prim::F32 => float!(f32),
            Prim::F64 => float!(f64),
        }
        Some(())
    }

    /// The `state` object: each resource by its type's name, in order.
    fn state(&mut self, types: &Types<'_>) -> Option<(Vec<String>, Vec<u8>)> {
        let mut out = Vec::with_capacity(self.bytes.len() / 2);
        let mut resources: Vec<String> = Vec::new();
        self.byte(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some((resources, out));
        }
        loop {
            self.ws();
            let name = self.string()?;
            if resources.iter().any(|r| r == name) {
                return None;
            }
            let index = types.names.binary_search(&name).ok()?;
            resources.push(name.to_owned());
            self.ws();
            self.byte(b':')?;
            self.value(types, &Ty::Named(index), &mut out)?;
            self.ws();
            match self.next()? {
                b',' => {}
                b'}' => return Some((resources, out)),
                _ => return None,
            }
        }
    }

    /// Reads one value of `ty` into `out`.
    fn value<'a, 's>(
        &mut self,
        types: &'a Types<'s>,
        ty: &'a Ty<'s>,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        let mut stack = vec![Step::Value(ty)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Value(ty) => self.node(types, ty, out, &mut stack)?,
                Step::Close(b) => {
                    self.ws();
                    self.byte(b)?;
                }
                Step::Field(name, first, ty) => {
                    self.member(first, name)?;
                    self.node(types, ty, out, &mut stack)?;
                }
                Step::Item(ty, first) => {
                    self.ws();
                    if !first {
                        self.byte(b',')?;
                    }
                    self.node(types, ty, out, &mut stack)?;
                }
                Step::Elements { elem, left } => {
                    if left > 1 {
                        stack.push(Step::Elements {
                            elem,
                            left: left - 1,
                        });
                    }
                    stack.push(Step::Item(elem, false));
                }
                Step::VecNext {
                    elem,
                    len_at,
                    count,
                } => {
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        out[len_at..len_at + 8].copy_from_slice(&count.to_le_bytes());
                        continue;
                    }
                    stack.push(Step::VecNext {
                        elem,
                        len_at,
                        count: count + 1,
                    });
                    stack.push(Step::Item(elem, count == 0));
                }
            }
        }
        Some(())
    }

    fn node<'a, 's>(
        &mut self,
        types: &'a Types<'s>,
        ty: &'a Ty<'s>,
        out: &mut Vec<u8>,
        stack: &mut Vec<Step<'a, 's>>,
    ) -> Option<()> {
        self.ws();
        match ty {
            // Left to the general path (see `resolvable`).
            Ty::Dyn => return None,
            Ty::Prim(p) => self.prim(*p, out)?,
            // `resolvable` gave up on layouts with opaque values.
            Ty::RawJson => return None,
            Ty::String => {
                let s = self.string()?;
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Ty::Array(elem, len) => {
                self.byte(b'[')?;
                stack.push(Step::Close(b']'));
                if *len > 1 {
                    stack.push(Step::Elements {
                        elem,
                        left: *len - 1,
                    });
                }
                if *len > 0 {
                    stack.push(Step::Item(elem, true));
                }
            }
            Ty::Vec(elem) => {
                self.byte(b'[')?;
                let len_at = out.len();
                out.extend_from_slice(&[0; 8]);
                stack.push(Step::VecNext {
                    elem,
                    len_at,
                    count: 0,
                });
            }
            Ty::Box(elem) => stack.push(Step::Value(elem)),
            Ty::Option(elem) => {
                if self.literal("null") {
                    out.push(0);
                } else {
                    out.push(1);
                    stack.push(Step::Value(elem));
                }
            }
            // Left to the general path (which builds them through the collections' `insert`).
            Ty::Pool(_) | Ty::Tuple(_) | Ty::Coll { .. } => return None,
            Ty::Handle(target) => {
                self.byte(b'{')?;
                self.member(true, "handle")?;
                if self.string()? != *target {
                    return None;
                }
                self.member(false, "index")?;
                self.prim(Prim::U32, out)?;
                self.member(false, "generation")?;
                self.prim(Prim::U32, out)?;
                self.ws();
                self.byte(b'}')?;
            }
            Ty::Named(i) => match &types.shapes[*i] {
                TypeShape::Struct(_, fields, Some(_)) => {
                    // Flat: named fields, all primitives, read here without the stack.
                    self.byte(b'{')?;
                    for (k, (name, ty)) in fields.iter().enumerate() {
                        let Ty::Prim(p) = ty else { return None };
                        self.member(k == 0, name)?;
                        self.prim(*p, out)?;
                    }
                    self.ws();
                    self.byte(b'}')?;
                }
                TypeShape::Struct(style, fields, None) => self.fields(*style, fields, stack)?,
                TypeShape::Enum(variants) => {
                    if self.peek() == Some(b'"') {
                        let name = self.string()?;
                        let index = variants.iter().position(|v| v.0 == name)?;
                        if variants[index].1 != FieldsStyle::Unit {
                            return None;
                        }
                        out.extend_from_slice(&(index as u32).to_le_bytes());
                    } else {
                        self.byte(b'{')?;
                        self.ws();
                        let name = self.string()?;
                        let index = variants.iter().position(|v| v.0 == name)?;
                        let (_, style, fields) = &variants[index];
                        if *style == FieldsStyle::Unit {
                            return None;
                        }
                        self.ws();
                        self.byte(b':')?;
                        out.extend_from_slice(&(index as u32).to_le_bytes());
                        stack.push(Step::Close(b'}'));
                        self.ws();
                        self.fields(*style, fields, stack)?;
                    }
                }
            },
        }
        Some(())
    }

    /// A struct's or variant's fields as the writer writes them for `style`.
    fn fields<'a, 's>(
        &mut self,
        style: FieldsStyle,
        fields: &'a Fields<'s>,
        stack: &mut Vec<Step<'a, 's>>,
    ) -> Option<()> {
        match (style, fields.as_slice()) {
            (FieldsStyle::Unit, _) => self.literal("null").then_some(())?,
            (FieldsStyle::Tuple, [(_, only)]) => stack.push(Step::Value(only)),
            (FieldsStyle::Tuple, _) => {
                self.byte(b'[')?;
                stack.push(Step::Close(b']'));
                for (i, (_, ty)) in fields.iter().enumerate().rev() {
                    stack.push(Step::Item(ty, i == 0));
                }
            }
            (FieldsStyle::Named, _) => {
                self.byte(b'{')?;
                stack.push(Step::Close(b'}'));
                for (i, (name, ty)) in fields.iter().enumerate().rev() {
                    stack.push(Step::Field(name, i == 0, ty));
                }
            }
        }
        Some(())
    }
}
