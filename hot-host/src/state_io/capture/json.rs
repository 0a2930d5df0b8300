//! A [`Capture`] written as a JSON snapshot (the format of [`crate::state_io::snapshot`]), from
//! the capture alone: its bytes read by its [`Schema`], no plugin code and no live state. The
//! values come out exactly as [`crate::state_io::show::state_json`] prints them (floats by the
//! same shortest round-trip formatter `serde_json` uses, integers in full).

use coo_runtime::descriptors::layout::{FieldsStyle, Prim};
use coo_runtime::descriptors::schema::{LayoutKind, Schema, TyLayout};

use super::Capture;
use crate::state_io::snapshot::{FORMAT_VERSION, Header, json_string, vacant_json};

impl Capture {
    /// The snapshot's text: the [`Header`]'s members, the layouts, the vacant slots and the
    /// values.
    pub fn snapshot_json(&self, header: &Header) -> String {
        let mut out = String::with_capacity(self.bytes.len() * 5 / 2 + 4096);
        out.push_str("{\"coo_snapshot\":");
        out.push_str(itoa::Buffer::new().format(FORMAT_VERSION));
        out.push(',');
        if let Some(plugin) = &header.plugin {
            out.push_str("\"plugin\":");
            plugin.json(&mut out);
            out.push(',');
            if let Some(run) = header.run {
                out.push_str("\"run\":{\"supersedes\":");
                out.push_str(if run.supersedes { "true" } else { "false" });
                out.push_str(",\"ended\":");
                out.push_str(if run.ended { "true" } else { "false" });
                out.push_str("},");
            }
        }
        out.push_str("\"types\":");
        out.push_str(&serde_json::to_string(&self.schema).expect("a schema always serializes"));
        out.push_str(",\"vacant_slots\":");
        vacant_json(&mut out, &self.vacant);
        out.push_str(",\"state\":");
        self.state_json(&mut out);
        out.push('}');
        out
    }

    /// The values as [`crate::state_io::show::state_json`] prints them.
    fn state_json(&self, out: &mut String) {
        let types = Types::of(&self.schema);
        let mut writer = Writer {
            bytes: &self.bytes,
            pos: 0,
            out,
        };
        writer.out.push('{');
        for (i, name) in self.resources.iter().enumerate() {
            if i > 0 {
                writer.out.push(',');
            }
            json_string(writer.out, name);
            writer.out.push(':');
            let ty = Ty::Named(types.index(name));
            writer.value(&types, &ty);
        }
        writer.out.push('}');
        debug_assert_eq!(writer.pos, self.bytes.len(), "every byte read");
    }
}

/// A field type with its named types resolved to their index in [`Types`].
pub(super) enum Ty<'s> {
    Prim(Prim),
    String,
    Array(Box<Ty<'s>>, usize),
    Vec(Box<Ty<'s>>),
    Box(Box<Ty<'s>>),
    Option(Box<Ty<'s>>),
    Pool(Box<Ty<'s>>),
    Handle(&'s str),
    Named(usize),
    /// A `Box<dyn Trait>` object: its concrete type's name, then its value.
    Dyn,
    Tuple(Vec<Ty<'s>>),
    /// A `#[coo(opaque, serde)]` value: the JSON text its serde wrote, written as is.
    RawJson,
    /// A `VecDeque` or set (`value` is `None`) or a map; `members`: a map written as an object
    /// (its keys are strings, `char`s, integers or `bool`s), else as `[key, value]` pairs.
    Coll {
        key: Box<Ty<'s>>,
        value: Option<Box<Ty<'s>>>,
        members: bool,
    },
}

/// Fields in declaration order: name and type.
pub(super) type Fields<'s> = Vec<(&'s str, Ty<'s>)>;

pub(super) enum TypeShape<'s> {
    /// A struct; with its members' text when it is flat (named fields, all primitives), so that
    /// the many values of such a type are written without the work stack.
    Struct(FieldsStyle, Fields<'s>, Option<Flat>),
    Enum(Vec<(&'s str, FieldsStyle, Fields<'s>)>),
}

/// A flat struct's members: each one's name as written before its value (`"x":`, then `,"y":`)
/// and its primitive type.
pub(super) type Flat = Vec<(String, Prim)>;

fn flat(style: FieldsStyle, fields: &Fields<'_>) -> Option<Flat> {
    if style != FieldsStyle::Named || fields.is_empty() {
        return None;
    }
    fields
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| match ty {
            Ty::Prim(p) => {
                let mut key = String::from(if i > 0 { "," } else { "" });
                json_string(&mut key, name);
                key.push(':');
                Some((key, *p))
            }
            _ => None,
        })
        .collect()
}

/// The schema's types, by index.
pub(super) struct Types<'s> {
    pub(super) names: Vec<&'s str>,
    pub(super) shapes: Vec<TypeShape<'s>>,
    /// `Ty::Named(i)` for every index `i`: the type a trait object's value is read as.
    pub(super) named: Vec<Ty<'s>>,
}

impl<'s> Types<'s> {
    pub(super) fn of(schema: &'s Schema) -> Types<'s> {
        let names: Vec<&str> = schema.types.keys().map(String::as_str).collect();
        let index = |name: &str| {
            names
                .binary_search(&name)
                .expect("a capture's schema has every type its values reach")
        };
        let fields = |fields: &'s [coo_runtime::descriptors::schema::FieldLayout]| {
            fields
                .iter()
                .map(|f| (f.name.as_str(), ty(&f.ty, &index)))
                .collect()
        };
        let shapes = schema
            .types
            .values()
            .map(|layout| match &layout.kind {
                LayoutKind::Struct { style, fields: f } => {
                    let fields = fields(f);
                    let flat = flat(*style, &fields);
                    TypeShape::Struct(*style, fields, flat)
                }
                LayoutKind::Enum { variants, .. } => TypeShape::Enum(
                    variants
                        .iter()
                        .map(|v| (v.name.as_str(), v.style, fields(&v.fields)))
                        .collect(),
                ),
            })
            .collect();
        let named = (0..names.len()).map(Ty::Named).collect();
        Types {
            names,
            shapes,
            named,
        }
    }

    fn index(&self, name: &str) -> usize {
        self.names
            .binary_search(&name)
            .expect("a capture's schema has every resource's type")
    }
}

fn ty<'s>(layout: &'s TyLayout, index: &dyn Fn(&str) -> usize) -> Ty<'s> {
    let inner = |elem: &'s TyLayout| Box::new(ty(elem, index));
    match layout {
        TyLayout::Prim(p) => Ty::Prim(*p),
        TyLayout::String => Ty::String,
        TyLayout::Opaque { .. } => Ty::RawJson,
        TyLayout::Array(elem, len) => Ty::Array(inner(elem), *len),
        TyLayout::Vec(elem) => Ty::Vec(inner(elem)),
        TyLayout::Box(elem) => Ty::Box(inner(elem)),
        TyLayout::Option(elem) => Ty::Option(inner(elem)),
        TyLayout::Pool(elem) => Ty::Pool(inner(elem)),
        TyLayout::Handle(target) => Ty::Handle(target),
        TyLayout::Named(name) => Ty::Named(index(name)),
        TyLayout::Dyn(_) => Ty::Dyn,
        TyLayout::Tuple(elems) => Ty::Tuple(elems.iter().map(|e| ty(e, index)).collect()),
        TyLayout::Coll(_, key, value) => Ty::Coll {
            members: matches!(&**key, TyLayout::String)
                || matches!(&**key, TyLayout::Prim(p) if !p.is_float()),
            key: inner(key),
            value: value.as_deref().map(inner),
        },
    }
}

/// Pending output, on the writer's work stack instead of native recursion, so a value nested a
/// million levels deep is written with a constant native stack.
enum Step<'t, 's> {
    Value(&'t Ty<'s>),
    Text(&'static str),
    /// A member: a comma unless it is the first, its name, a colon and its value.
    Field(&'s str, bool, &'t Ty<'s>),
    /// The elements left of an array or `Vec`, after the first unless `first`.
    Elements {
        elem: &'t Ty<'s>,
        left: usize,
        first: bool,
    },
    /// The entries left of a map.
    Entries {
        key: &'t Ty<'s>,
        value: &'t Ty<'s>,
        members: bool,
        left: usize,
        first: bool,
    },
    /// The occupied slots left of a pool.
    Slots {
        elem: &'t Ty<'s>,
        left: usize,
        first: bool,
    },
}

struct Writer<'b, 'o> {
    bytes: &'b [u8],
    pos: usize,
    out: &'o mut String,
}

impl Writer<'_, '_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let bytes = self.bytes[self.pos..self.pos + N]
            .try_into()
            .expect("N bytes");
        self.pos += N;
        bytes
    }

    fn len(&mut self) -> usize {
        u64::from_le_bytes(self.take()) as usize
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    fn int(&mut self, v: impl itoa::Integer) {
        self.out.push_str(itoa::Buffer::new().format(v));
    }

    /// A float as `serde_json` writes it: the shortest digits that read back as the same value,
    /// `null` when not finite.
    fn float<F: zmij::Float>(&mut self, v: F, finite: bool) {
        if finite {
            self.out.push_str(zmij::Buffer::new().format_finite(v));
        } else {
            self.out.push_str("null");
        }
    }

    fn prim(&mut self, prim: Prim) {
        match prim {
            Prim::Bool => {
                let [b] = self.take();
                self.out.push_str(if b != 0 { "true" } else { "false" });
            }
            Prim::Char => {
                let c = char::from_u32(self.u32()).expect("a captured `char` is one");
                json_string(self.out, c.encode_utf8(&mut [0; 4]));
            }
            Prim::I8 => {
                let v = i8::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::I16 => {
                let v = i16::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::I32 => {
                let v = i32::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::I64 | Prim::Isize => {
                let v = i64::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::I128 => {
                let v = i128::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::U8 => {
                let v = u8::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::U16 => {
                let v = u16::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::U32 => {
                let v = self.u32();
                self.int(v);
            }
            Prim::U64 | Prim::Usize => {
                let v = u64::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::U128 => {
                let v = u128::from_le_bytes(self.take());
                self.int(v);
            }
            Prim::F32 => {
                let v = f32::from_bits(self.u32());
                self.float(v, v.is_finite());
            }
            Prim::F64 => {
                let v = f64::from_bits(u64::from_le_bytes(self.take()));
                self.float(v, v.is_finite());
            }
        }
    }

    /// Writes one value of type `ty`: what it holds at once, its parts through the work stack.
    fn value<'t, 's>(&mut self, types: &'t Types<'s>, ty: &'t Ty<'s>) {
        let mut stack = vec![Step::Value(ty)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Value(ty) => self.node(types, ty, &mut stack),
                Step::Text(text) => self.out.push_str(text),
                Step::Field(name, first, ty) => {
                    if !first {
                        self.out.push(',');
                    }
                    json_string(self.out, name);
                    self.out.push(':');
                    self.node(types, ty, &mut stack);
                }
                Step::Elements { elem, left, first } => {
                    if !first {
                        self.out.push(',');
                    }
                    if left > 1 {
                        stack.push(Step::Elements {
                            elem,
                            left: left - 1,
                            first: false,
                        });
                    }
                    self.node(types, elem, &mut stack);
                }
                Step::Entries {
                    key,
                    value,
                    members,
                    left,
                    first,
                } => {
                    if !first {
                        self.out.push(',');
                    }
                    if left > 1 {
                        stack.push(Step::Entries {
                            key,
                            value,
                            members,
                            left: left - 1,
                            first: false,
                        });
                    }
                    if members {
                        // The key is a string, `char`, integer or `bool`, written at once; the
                        // ones that are not JSON strings are quoted, as serde_json does.
                        let quoted = matches!(key, Ty::Prim(p) if *p != Prim::Char);
                        if quoted {
                            self.out.push('"');
                        }
                        self.node(types, key, &mut stack);
                        if quoted {
                            self.out.push('"');
                        }
                        self.out.push(':');
                        stack.push(Step::Value(value));
                    } else {
                        self.out.push('[');
                        stack.push(Step::Text("]"));
                        stack.push(Step::Value(value));
                        stack.push(Step::Text(","));
                        stack.push(Step::Value(key));
                    }
                }
                Step::Slots { elem, left, first } => {
                    if !first {
                        self.out.push(',');
                    }
                    if left > 1 {
                        stack.push(Step::Slots {
                            elem,
                            left: left - 1,
                            first: false,
                        });
                    }
                    self.out.push_str("{\"index\":");
                    let index = self.u32();
                    self.int(index);
                    self.out.push_str(",\"generation\":");
                    let generation = self.u32();
                    self.int(generation);
                    self.out.push_str(",\"value\":");
                    stack.push(Step::Text("}"));
                    stack.push(Step::Value(elem));
                }
            }
        }
    }

    fn node<'t, 's>(
        &mut self,
        types: &'t Types<'s>,
        ty: &'t Ty<'s>,
        stack: &mut Vec<Step<'t, 's>>,
    ) {
        match ty {
            Ty::Prim(p) => self.prim(*p),
            Ty::String => {
                let len = self.len();
                let bytes = &self.bytes[self.pos..self.pos + len];
                self.pos += len;
                let s = core::str::from_utf8(bytes).expect("a captured `String` is UTF-8");
                json_string(self.out, s);
            }
            Ty::RawJson => {
                let len = self.len();
                let bytes = &self.bytes[self.pos..self.pos + len];
                self.pos += len;
                let s = core::str::from_utf8(bytes).expect("an opaque value's JSON is UTF-8");
                self.out.push_str(s);
            }
            Ty::Array(elem, len) => self.elements(elem, *len, stack),
            Ty::Vec(elem) => {
                let len = self.len();
                self.elements(elem, len, stack);
            }
            Ty::Box(elem) => stack.push(Step::Value(elem)),
            Ty::Option(elem) => {
                let [tag] = self.take();
                if tag == 0 {
                    self.out.push_str("null");
                } else {
                    stack.push(Step::Value(elem));
                }
            }
            Ty::Pool(elem) => {
                let left = self.len();
                self.out.push('[');
                stack.push(Step::Text("]"));
                if left > 0 {
                    stack.push(Step::Slots {
                        elem,
                        left,
                        first: true,
                    });
                }
            }
            Ty::Handle(target) => {
                self.out.push_str("{\"handle\":");
                json_string(self.out, target);
                self.out.push_str(",\"index\":");
                let index = self.u32();
                self.int(index);
                self.out.push_str(",\"generation\":");
                let generation = self.u32();
                self.int(generation);
                self.out.push('}');
            }
            Ty::Dyn => {
                let len = self.len();
                let bytes = &self.bytes[self.pos..self.pos + len];
                self.pos += len;
                let name = core::str::from_utf8(bytes).expect("a captured type name is UTF-8");
                if name.is_empty() {
                    // An object whose type could not be learnt: loading refuses it.
                    self.out.push_str("null");
                } else {
                    self.out.push('{');
                    json_string(self.out, name);
                    self.out.push(':');
                    stack.push(Step::Text("}"));
                    stack.push(Step::Value(&types.named[types.index(name)]));
                }
            }
            Ty::Tuple(elems) => {
                self.out.push('[');
                stack.push(Step::Text("]"));
                for (i, ty) in elems.iter().enumerate().rev() {
                    stack.push(Step::Value(ty));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
            Ty::Coll {
                key, value: None, ..
            } => {
                let len = self.len();
                self.elements(key, len, stack);
            }
            Ty::Coll {
                key,
                value: Some(value),
                members,
            } => {
                let left = self.len();
                let (open, close) = if *members { ('{', "}") } else { ('[', "]") };
                self.out.push(open);
                stack.push(Step::Text(close));
                if left > 0 {
                    stack.push(Step::Entries {
                        key,
                        value,
                        members: *members,
                        left,
                        first: true,
                    });
                }
            }
            Ty::Named(i) => match &types.shapes[*i] {
                TypeShape::Struct(_, _, Some(flat)) => {
                    self.out.push('{');
                    for (key, prim) in flat {
                        self.out.push_str(key);
                        self.prim(*prim);
                    }
                    self.out.push('}');
                }
                TypeShape::Struct(style, fields, None) => self.fields(*style, fields, stack),
                TypeShape::Enum(variants) => {
                    let (name, style, fields) = &variants[self.u32() as usize];
                    // serde's externally tagged enums: a unit variant is its name, any other
                    // an object of one member, from its name to its fields.
                    if *style == FieldsStyle::Unit {
                        json_string(self.out, name);
                    } else {
                        self.out.push('{');
                        json_string(self.out, name);
                        self.out.push(':');
                        stack.push(Step::Text("}"));
                        self.fields(*style, fields, stack);
                    }
                }
            },
        }
    }

    fn elements<'t, 's>(&mut self, elem: &'t Ty<'s>, len: usize, stack: &mut Vec<Step<'t, 's>>) {
        self.out.push('[');
        stack.push(Step::Text("]"));
        if len > 0 {
            stack.push(Step::Elements {
                elem,
                left: len,
                first: true,
            });
        }
    }

    fn fields<'t, 's>(
        &mut self,
        style: FieldsStyle,
        fields: &'t Fields<'s>,
        stack: &mut Vec<Step<'t, 's>>,
    ) {
        match (style, fields.as_slice()) {
            (FieldsStyle::Unit, _) => self.out.push_str("null"),
            // serde's newtype: the one field itself.
            (FieldsStyle::Tuple, [(_, only)]) => stack.push(Step::Value(only)),
            (FieldsStyle::Tuple, _) => {
                self.out.push('[');
                stack.push(Step::Text("]"));
                for (i, (_, ty)) in fields.iter().enumerate().rev() {
                    stack.push(Step::Value(ty));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
            (FieldsStyle::Named, _) => {
                self.out.push('{');
                stack.push(Step::Text("}"));
                for (i, (name, ty)) in fields.iter().enumerate().rev() {
                    stack.push(Step::Field(name, i == 0, ty));
                }
            }
        }
    }
}
