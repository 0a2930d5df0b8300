//! Printing live state: one line of JSON for tools (`state --json`) and a `{:#?}`-like rendering
//! for people (`state`).
//!
//! Both printers walk values through their descriptors ([`ValueView`], [`FieldView`]), so they
//! print the state of any plugin version without its Rust types, and print a type by its stable
//! name (`TypeDesc::name`).
//!
//! # JSON
//!
//! A value is printed exactly as `serde_json` prints `#[derive(Serialize)]` of the same Rust type:
//! structs with named fields as objects (declaration order), tuple structs as arrays except a
//! newtype (one field), which is its field, unit structs as `null`; enums externally tagged
//! (`"Idle"`, `{"Named":"x"}`, `{"Moving":[1.0,2.0]}`, `{"Frozen":{"reason":"audit"}}`); arrays
//! and `Vec`s as arrays; `Option` as `null` or its value; `Box` as its value; strings and `char`s
//! as JSON strings; integers of every width in full; floats as `serde_json` writes them (the
//! shortest digits that read back as the same value, `1.0`, `0.1`, `1e+20`, `-0.0`; NaN and
//! infinities as `null`).
//!
//! Tuples are arrays, as are a `VecDeque` and a set (iteration order); a map whose keys are
//! strings, `char`s, integers or `bool`s is an object, its keys written as serde_json writes
//! them (`{"bolt":{..}}`, `{"3":[1.0,2.0]}`); a map with any other key type, which serde_json
//! refuses, is an array of `[key, value]` pairs (`[[{"a":1},7]]`). A hash map's or set's
//! entries come in its iteration order.
//!
//! A `#[coo(opaque)]` foreign value is written by its own serde (`#[coo(opaque, serde)]`), else as
//! the JSON string of its `Debug` text; the pretty rendering shows its `Debug` text.
//!
//! A `Box<dyn Trait>` object (of a `#[coo_trait]` trait) is written as an externally tagged
//! enum would be, its concrete type's stable name as the tag: `{"Bicycle":{"gear":3}}` (as
//! `typetag` writes trait objects); one whose type cannot be learnt, as a string saying why.
//!
//! Two shapes have no serde counterpart:
//! - a `Handle<T>` is an object naming its target type:
//!   `{"handle":"Enemy","index":3,"generation":1}`;
//! - a `Pool<T>` is the array of its occupied slots, in slot order:
//!   `[{"index":0,"generation":0,"value":{"hp":10}},{"index":2,"generation":1,"value":{"hp":7}}]`.
//!
//! # Pretty
//!
//! Like Rust's `{:#?}`: type and field names, 4-space indentation, strings and chars quoted and
//! escaped as `Debug` does, `None`/`Some(..)`, enums as `Variant`, `Variant(..)` or
//! `Variant { .. }`; a trait object as its concrete value (`Bicycle { gear: 3 }`); tuples `(1, "a")`, maps `{"bolt": Item {..}}` and sets `{1, 2}` as `Debug`
//! writes them; a handle is `Handle<Enemy>(3v1)` and a pool `Pool<Enemy> { 0v0: .., }`.
//! A resource whose type is an enum is prefixed with its type (`Mode::Idle`), since the variant
//! alone would not say which resource it is. An array, `Vec` or pool with more than
//! [`PRETTY_MAX_ELEMENTS`] elements shows the first [`PRETTY_MAX_ELEMENTS`] and then a line
//! `... (N more)`. A value nested more than [`PRETTY_MAX_DEPTH`] levels deep shows its items as
//! `..` (`Some(..)`). JSON always prints everything, however long or deep.
//!
//! Both printers walk values of any depth without native recursion growing with it: JSON keeps
//! its pending output on an explicit work stack, and the pretty rendering stops at its depth.

use core::fmt::Write as _;

use coo_runtime::descriptors::layout::{FieldDesc, FieldsStyle, Prim, ShapeKind, shape_text};
use coo_runtime::storage::raw::Unaligned;
use coo_runtime::storage::view::style_of;
use coo_runtime::{FieldView, Resource, State, ValueView};

mod pretty;

use pretty::Pretty;

/// How many elements of an array, `Vec` or pool the pretty rendering shows; the rest are
/// counted in a last line `... (N more)`.
pub const PRETTY_MAX_ELEMENTS: usize = 64;

/// How many levels of nesting the pretty rendering shows: the items of a value at this level
/// (fields, elements, an option's payload) are shown as `..` (`Node {..}`, `Some(..)`, `[..]`).
pub const PRETTY_MAX_DEPTH: usize = 32;

/// The whole state as one line of JSON: an object keyed by each resource's type name, in the
/// state's order. See the [module documentation](self) for how values are shaped.
pub fn state_json(state: &State) -> String {
    let mut json = JsonWriter::default();
    json.out.push('{');
    for (i, resource) in state.resources().enumerate() {
        if i > 0 {
            json.out.push(',');
        }
        json.string(resource.desc().name());
        json.out.push(':');
        json.resource(resource);
    }
    json.out.push('}');
    json.out
}

/// One resource's value as one line of JSON.
pub fn resource_json(resource: &Resource) -> String {
    let mut json = JsonWriter::default();
    json.resource(resource);
    json.out
}

/// One value (a field, an element, …) as one line of JSON.
pub fn value_json(view: FieldView<'_>) -> String {
    let mut json = JsonWriter::default();
    json.value(view);
    json.out
}

/// The whole state for people: each resource rendered like `{:#?}`, followed by a newline.
/// An empty state gives an empty string.
pub fn state_pretty(state: &State) -> String {
    let mut out = String::new();
    for resource in state.resources() {
        out.push_str(&resource_pretty(resource));
        out.push('\n');
    }
    out
}

/// One resource rendered like `{:#?}`; an enum's variant is prefixed with its type (`Mode::Idle`).
pub fn resource_pretty(resource: &Resource) -> String {
    let mut pretty = Pretty::default();
    let object = Object::of(resource.view());
    if object.variant.is_some() {
        pretty.out.push_str(object.type_name);
        pretty.out.push_str("::");
    }
    pretty.object(&object, 0);
    pretty.out
}

/// One value (a field, an element, …) rendered like `{:#?}`.
pub fn value_pretty(view: FieldView<'_>) -> String {
    let mut pretty = Pretty::default();
    pretty.value(view, 0);
    pretty.out
}

/// A value taken apart by its shape: what both printers walk. A `Box` is never a node: it is
/// seen through, as both serde and `Debug` do.
enum Node<'a> {
    Bool(bool),
    Char(char),
    /// Every integer but `u128`, widened.
    Int(i128),
    U128(u128),
    F32(f32),
    F64(f64),
    Str(&'a str),
    /// The elements of an array or `Vec`.
    Seq(Vec<FieldView<'a>>),
    Option(Option<FieldView<'a>>),
    Pool {
        /// The element type, by its stable name.
        elem: String,
        /// The occupied slots: `(index, generation, value)`.
        entries: Vec<(u32, u32, FieldView<'a>)>,
    },
    Handle {
        target: &'a str,
        index: u32,
        generation: u32,
    },
    Object(Object<'a>),
    /// A `#[coo(opaque)]` foreign value: shown through its `Debug` (and, in JSON, its own
    /// serde JSON with `#[coo(opaque, serde)]`).
    Opaque(FieldView<'a>),
    /// A `Box<dyn Trait>` object: its concrete type's value (JSON tags it with the type's name,
    /// as an externally tagged enum: `{"Bicycle":{"gear":3}}`).
    Dyn(Object<'a>),
    /// A `Box<dyn Trait>` object whose type could not be learnt: why.
    Unreadable(String),
    /// A tuple's elements.
    Tuple(Vec<FieldView<'a>>),
    /// A set's elements, in iteration order.
    Set(Vec<FieldView<'a>>),
    /// A map's entries, in iteration order.
    Map(Vec<(FieldView<'a>, FieldView<'a>)>),
}

/// The views below are asked only for what the shape says the value is.
const MATCHED: &str = "the view is asked for what its shape says it is";

fn node(view: FieldView<'_>) -> Node<'_> {
    match view.shape().kind() {
        ShapeKind::Prim(prim) => prim_node(view, *prim),
        ShapeKind::String(_) => Node::Str(view.str().expect(MATCHED)),
        ShapeKind::Array { .. } | ShapeKind::Vec { .. } => {
            Node::Seq(view.elements().expect(MATCHED))
        }
        ShapeKind::Box { .. } => node(view.unboxed().expect(MATCHED)),
        ShapeKind::Option { .. } => Node::Option(view.option().expect(MATCHED)),
        ShapeKind::Pool { elem, .. } => Node::Pool {
            elem: shape_text(elem.get()),
            entries: view.pool_entries().expect(MATCHED),
        },
        ShapeKind::Handle { target } => {
            let (index, generation) = view.handle().expect(MATCHED);
            Node::Handle {
                target: target.get().name(),
                index,
                generation,
            }
        }
        ShapeKind::Named(_) => Node::Object(Object::of(view.value().expect(MATCHED))),
        ShapeKind::Opaque(_) => Node::Opaque(view),
        ShapeKind::Dyn(_) => match view.object() {
            Ok((_, value)) => Node::Dyn(Object::of(value)),
            Err(e) => Node::Unreadable(e.to_string()),
        },
        ShapeKind::Tuple(_) => Node::Tuple(view.tuple().expect(MATCHED)),
        ShapeKind::Coll { kind, .. } => {
            let entries = view.entries().expect(MATCHED);
            if kind.is_map() {
                Node::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, v.expect("a map's entries have values")))
                        .collect(),
                )
            } else if kind.is_keyed() {
                Node::Set(entries.into_iter().map(|(k, _)| k).collect())
            } else {
                Node::Seq(entries.into_iter().map(|(k, _)| k).collect())
            }
        }
    }
}

/// An aligned copy of a value that may be unaligned (inside a field of a packed struct), for its
/// glue; `None` when the view's own address is aligned.
fn aligned(view: FieldView<'_>) -> Option<Unaligned> {
    // SAFETY: the view's value is readable; a copy of it owns nothing (see `Unaligned`).
    view.is_unaligned()
        .then(|| unsafe { Unaligned::read(view.shape(), view.ptr()) })
}

/// An opaque value's `Debug` text (a panic in `Debug` is shown in its place).
fn opaque_debug(view: FieldView<'_>) -> String {
    let ShapeKind::Opaque(glue) = view.shape().kind() else {
        unreachable!("{MATCHED}");
    };
    let copy = aligned(view);
    // SAFETY: the view (or its aligned copy) points to a valid value of its shape, whose glue
    // this is.
    match unsafe { glue.debug(copy.as_ref().map_or(view.ptr(), |c| c.as_ptr())) } {
        Ok(text) => text,
        Err(panic) => format!("<`Debug` panicked: {panic}>"),
    }
}

/// An opaque value in JSON: what its serde writes with `#[coo(opaque, serde)]`, else its
/// `Debug` text as a JSON string.
fn opaque_json(view: FieldView<'_>) -> Result<String, String> {
    let ShapeKind::Opaque(glue) = view.shape().kind() else {
        unreachable!("{MATCHED}");
    };
    let copy = aligned(view);
    match glue.json() {
        // SAFETY: the view (or its aligned copy) points to a valid value of its shape, whose
        // glue this is.
        Some(json) => unsafe { json.to_json(copy.as_ref().map_or(view.ptr(), |c| c.as_ptr())) },
        None => Err(opaque_debug(view)),
    }
}

/// How a map key is written as a JSON object's member name, as serde_json writes it: a string
/// or `char` as itself, an integer or `bool` as its digits or word. `None` for any other key
/// type (serde_json refuses those): such a map is written as an array of `[key, value]` pairs.
fn json_key(view: FieldView<'_>) -> Option<String> {
    Some(match node(view) {
        Node::Str(s) => s.to_owned(),
        Node::Char(c) => c.to_string(),
        Node::Int(v) => v.to_string(),
        Node::U128(v) => v.to_string(),
        Node::Bool(v) => v.to_string(),
        _ => return None,
    })
}

/// Whether a map with keys of this shape is written as a JSON object (see [`json_key`]).
fn keys_as_members(key: &coo_runtime::Shape) -> bool {
    match &key.kind() {
        ShapeKind::String(_) => true,
        ShapeKind::Prim(p) => !p.is_float(),
        // As a snapshot's writer decides from the saved layouts (`capture::json`).
        _ => false,
    }
}

fn prim_node(view: FieldView<'_>, prim: Prim) -> Node<'_> {
    match prim {
        Prim::Bool => Node::Bool(view.get().expect(MATCHED)),
        Prim::Char => Node::Char(view.get().expect(MATCHED)),
        Prim::F32 => Node::F32(view.get().expect(MATCHED)),
        Prim::F64 => Node::F64(view.get().expect(MATCHED)),
        Prim::U128 => Node::U128(view.get().expect(MATCHED)),
        Prim::I8
        | Prim::I16
        | Prim::I32
        | Prim::I64
        | Prim::I128
        | Prim::Isize
        | Prim::U8
        | Prim::U16
        | Prim::U32
        | Prim::U64
        | Prim::Usize => Node::Int(view.int().expect("every integer but `u128` fits `i128`")),
    }
}

/// A struct, or an enum in one of its variants.
struct Object<'a> {
    type_name: &'a str,
    /// The current variant, for an enum.
    variant: Option<&'a str>,
    /// How the struct or the variant spells its fields.
    style: FieldsStyle,
    fields: Vec<(&'a FieldDesc, FieldView<'a>)>,
}

impl<'a> Object<'a> {
    fn of(value: ValueView<'a>) -> Self {
        Object {
            type_name: value.type_name(),
            variant: value.variant(),
            style: style_of(&value),
            fields: value.fields(),
        }
    }
}

/// Writes JSON shaped like serde_json's output for `#[derive(Serialize)]`.
#[derive(Default)]
struct JsonWriter {
    out: String,
}

/// One piece of pending JSON output: what [`JsonWriter::value`] keeps on its work stack instead of
/// recursing, so that a value nested a million levels deep prints with a constant native stack.
enum Step<'a> {
    Value(FieldView<'a>),
    /// Text written as is: punctuation, a pool slot's `{"index":..,"generation":..,"value":`.
    Text(&'static str),
    Owned(String),
    /// A member name with its colon, after a comma unless it is the first.
    Key {
        name: &'a str,
        first: bool,
    },
}

impl JsonWriter {
    fn resource(&mut self, resource: &Resource) {
        let mut stack = Vec::new();
        self.object(Object::of(resource.view()), &mut stack);
        self.steps(stack);
    }

    /// Writes `view`, walking nested values with an explicit work stack: each step writes what
    /// it can at once and pushes what follows in reverse order, so it pops in order.
    fn value(&mut self, view: FieldView<'_>) {
        self.steps(vec![Step::Value(view)]);
    }

    /// Writes the steps on the stack, and those they push, until it is empty.
    fn steps(&mut self, mut stack: Vec<Step<'_>>) {
        while let Some(step) = stack.pop() {
            match step {
                Step::Value(view) => self.node(node(view), &mut stack),
                Step::Text(text) => self.out.push_str(text),
                Step::Owned(text) => self.out.push_str(&text),
                Step::Key { name, first } => {
                    if !first {
                        self.out.push(',');
                    }
                    self.string(name);
                    self.out.push(':');
                }
            }
        }
    }

    fn node<'a>(&mut self, node: Node<'a>, stack: &mut Vec<Step<'a>>) {
        match node {
            Node::Bool(v) => self.out.push_str(if v { "true" } else { "false" }),
            Node::Char(c) => self.string(c.encode_utf8(&mut [0; 4])),
            Node::Int(v) => {
                let _ = write!(self.out, "{v}");
            }
            Node::U128(v) => {
                let _ = write!(self.out, "{v}");
            }
            Node::F32(v) => self.float(serde_json::to_string(&v)),
            Node::F64(v) => self.float(serde_json::to_string(&v)),
            Node::Str(s) => self.string(s),
            Node::Seq(elements) => self.array(elements.into_iter().map(Step::Value), stack),
            Node::Option(None) => self.out.push_str("null"),
            Node::Option(Some(inner)) => stack.push(Step::Value(inner)),
            Node::Pool { entries, .. } => {
                self.out.push('[');
                stack.push(Step::Text("]"));
                for (i, (index, generation, value)) in entries.into_iter().enumerate().rev() {
                    stack.push(Step::Text("}"));
                    stack.push(Step::Value(value));
                    stack.push(Step::Owned(format!(
                        r#"{}{{"index":{index},"generation":{generation},"value":"#,
                        if i > 0 { "," } else { "" }
                    )));
                }
            }
            Node::Handle {
                target,
                index,
                generation,
            } => {
                self.out.push_str(r#"{"handle":"#);
                self.string(target);
                let _ = write!(self.out, r#","index":{index},"generation":{generation}}}"#);
            }
            Node::Opaque(view) => match opaque_json(view) {
                Ok(json) => self.out.push_str(&json),
                Err(text) => self.string(&text),
            },
            Node::Object(object) => self.object(object, stack),
            Node::Dyn(object) => {
                self.out.push('{');
                self.string(object.type_name);
                self.out.push(':');
                stack.push(Step::Text("}"));
                self.object(object, stack);
            }
            Node::Unreadable(why) => self.string(&format!("<{why}>")),
            Node::Tuple(elements) | Node::Set(elements) => {
                self.array(elements.into_iter().map(Step::Value), stack)
            }
            Node::Map(entries) => {
                let members = entries
                    .first()
                    .is_none_or(|(k, _)| keys_as_members(k.shape()));
                if members {
                    self.out.push('{');
                    stack.push(Step::Text("}"));
                    for (i, (key, value)) in entries.into_iter().enumerate().rev() {
                        stack.push(Step::Value(value));
                        let mut member = JsonWriter::default();
                        if i > 0 {
                            member.out.push(',');
                        }
                        member.string(&json_key(key).expect("checked by `keys_as_members`"));
                        member.out.push(':');
                        stack.push(Step::Owned(member.out));
                    }
                } else {
                    self.out.push('[');
                    stack.push(Step::Text("]"));
                    for (i, (key, value)) in entries.into_iter().enumerate().rev() {
                        stack.push(Step::Text("]"));
                        stack.push(Step::Value(value));
                        stack.push(Step::Text(","));
                        stack.push(Step::Value(key));
                        stack.push(Step::Text(if i > 0 { ",[" } else { "[" }));
                    }
                }
            }
        }
    }

    /// serde's externally tagged enums: a unit variant is its name, any other variant an object
    /// of one entry, from its name to its fields.
    fn object<'a>(&mut self, object: Object<'a>, stack: &mut Vec<Step<'a>>) {
        match object.variant {
            None => self.fields(object, stack),
            Some(variant) if object.style == FieldsStyle::Unit => self.string(variant),
            Some(variant) => {
                self.out.push('{');
                self.string(variant);
                self.out.push(':');
                stack.push(Step::Text("}"));
                self.fields(object, stack);
            }
        }
    }

    fn fields<'a>(&mut self, object: Object<'a>, stack: &mut Vec<Step<'a>>) {
        match (object.style, object.fields.as_slice()) {
            (FieldsStyle::Unit, _) => self.out.push_str("null"),
            // serde's newtype: the one field itself.
            (FieldsStyle::Tuple, [(_, only)]) => stack.push(Step::Value(*only)),
            (FieldsStyle::Tuple, _) => {
                self.array(
                    object.fields.into_iter().map(|(_, v)| Step::Value(v)),
                    stack,
                );
            }
            (FieldsStyle::Named, _) => {
                self.out.push('{');
                stack.push(Step::Text("}"));
                for (i, (field, value)) in object.fields.into_iter().enumerate().rev() {
                    stack.push(Step::Value(value));
                    stack.push(Step::Key {
                        name: field.name(),
                        first: i == 0,
                    });
                }
            }
        }
    }

    /// `[`, then the items separated by commas, then `]`: the items go on the work stack.
    fn array<'a>(
        &mut self,
        items: impl DoubleEndedIterator<Item = Step<'a>> + ExactSizeIterator,
        stack: &mut Vec<Step<'a>>,
    ) {
        self.out.push('[');
        stack.push(Step::Text("]"));
        for (i, item) in items.enumerate().rev() {
            stack.push(item);
            if i > 0 {
                stack.push(Step::Text(","));
            }
        }
    }

    /// A float written by serde_json's own formatter, so that it is the same text digit for digit:
    /// the shortest digits that read back as the same value (of the float's own type, so an `f32`
    /// `0.1` is `0.1`), in exponential notation outside `1e-5 <= |v| < 1e16` for `f64` and
    /// `1e-6 <= |v| < 1e13` for `f32`, and `null` for NaN and infinities. Rust's own shortest
    /// digits differ in the last place for some 17-digit values, and its `{:?}` switches
    /// notation elsewhere, so they would not do.
    fn float(&mut self, text: serde_json::Result<String>) {
        self.out
            .push_str(&text.expect("serde_json writes any float, `null` if not finite"));
    }

    /// A JSON string, escaped as serde_json does: `"` and `\`, the short escapes `\b \t \n \f \r`,
    /// other control characters as `\u00XX`; everything else as is.
    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\u{8}' => self.out.push_str("\\b"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\u{c}' => self.out.push_str("\\f"),
                '\r' => self.out.push_str("\\r"),
                '\0'..='\u{1f}' => {
                    let _ = write!(self.out, "\\u{:04x}", u32::from(c));
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}
