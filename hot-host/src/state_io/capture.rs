//! The live state copied out at a safe point into an owned form that no longer needs the plugin:
//! its values as compact little-endian bytes, with the layouts ([`Schema`]) and vacant pool slots
//! that say what they are. Taking a capture costs about a copy of the state (plain structs are
//! copied field run by field run, without a walk per value); turning it into a snapshot's text
//! ([`Capture::snapshot_json`]) needs neither the plugin nor the state, so the dev loop does
//! that on a background thread while the plugin keeps running.
//!
//! # Encoding
//!
//! The resources one after the other, each by its type, little-endian:
//! - `bool` one byte; `char` as a `u32`; integers and floats in their own width (floats as their
//!   bits, so NaN payloads and `-0.0` are kept); `isize`/`usize` as 8 bytes;
//! - `String`: its length as a `u64`, then its UTF-8 bytes;
//! - `[T; N]`: the `N` elements; `Vec<T>`: its length as a `u64`, then the elements;
//! - `Box<T>`: the `T`; `Option<T>`: a byte, 0 (`None`) or 1 followed by the `T`;
//! - `Pool<T>`: the number of occupied slots as a `u64`, then each as `u32` index, `u32`
//!   generation and the value (the vacant slots are in [`Capture::vacant`]);
//! - `Handle<T>`: `u32` index, `u32` generation;
//! - a tuple: its elements in order; a `VecDeque`, map or set: its number of entries as a
//!   `u64`, then each entry (key, then value for maps) in iteration order;
//! - a `Box<dyn Trait>` object: its concrete type's stable name as a `String` is, then the
//!   value of that type (an empty name and nothing else for an object whose type could not be
//!   learnt, which loading refuses);
//! - a struct: its fields in declaration order; an enum: the variant's index (in declaration
//!   order) as a `u32`, then the variant's fields;
//! - a `#[coo(opaque, serde)]` foreign value: the JSON text its serde writes, as a `String` is
//!   (its length as a `u64`, then its UTF-8 bytes). A state with an opaque field without `serde`
//!   cannot be captured: [`Capture::of`] refuses it, naming the field ([`CaptureError`]).

use std::collections::HashMap;

use coo_runtime::State;
use coo_runtime::descriptors::layout::{Prim, Shape, ShapeKind, TypeDesc, TypeKind};
use coo_runtime::descriptors::schema::Schema;
use coo_runtime::storage::raw::Unaligned;

use crate::state_io::from_json::VacantSlots;
use crate::state_io::snapshot::{schema_of, vacant_slots};

mod json;
mod parse;

/// The state copied out: see the [module documentation](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// The layouts of every type the values reach, by stable name.
    pub schema: Schema,
    /// The vacant slots of every pool, by the pool's path.
    pub vacant: VacantSlots,
    /// Each resource's type (stable name), in the state's order.
    pub resources: Vec<String>,
    /// The values, encoded as the [module documentation](self) says.
    pub bytes: Vec<u8>,
}

/// Why the state cannot be captured for a snapshot: the field at `path` (`World.cooldown`) is
/// of a foreign type Coo cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a snapshot cannot hold `{path}`: {kind}")]
pub struct CaptureError {
    pub path: String,
    pub kind: CaptureErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureErrorKind {
    /// An opaque field (`#[coo(opaque)]`) of foreign type `ty`, without `serde`.
    #[error(
        "it is an opaque `{ty}`, which Coo cannot write; mark the field `#[coo(opaque, serde)]` \
         (the type must implement `Serialize` and `Deserialize`, and the plugin's `coo-runtime` \
         dependency needs `features = [\"serde\"]`)"
    )]
    OpaqueWithoutSerde { ty: String },
    /// The serde of an opaque `#[coo(opaque, serde)]` value failed (or panicked).
    #[error("the serde of its opaque `{ty}` failed: {message}")]
    OpaqueSerde { ty: String, message: String },
}

impl Capture {
    /// Copies the state out. The state is only read, and only while this runs. Refused (before
    /// anything is copied) when a type the state holds has an opaque field without `serde`.
    pub fn of(state: &State) -> Result<Capture, CaptureError> {
        let opaque = opaque_fields(state)?;
        let mut encoder = Encoder {
            out: Vec::new(),
            plain: PlainRuns::default(),
            opaque,
            failed: None,
        };
        let mut resources = Vec::new();
        for resource in state.resources() {
            resources.push(resource.desc().name().to_owned());
            // SAFETY: the resource holds a valid value of its descriptor's type, borrowed from
            // `state` for as long as this runs; the caller's `&State` keeps anyone from
            // mutating it meanwhile.
            unsafe { encoder.value(Item::Named(resource.desc(), resource.as_ptr())) };
        }
        if let Some(error) = encoder.failed {
            return Err(error);
        }
        Ok(Capture {
            schema: schema_of(state),
            vacant: vacant_slots(state),
            resources,
            bytes: encoder.out,
        })
    }
}

/// The opaque fields of every type the state's resources reach, by foreign type name, each with
/// the first field path that holds it (for [`CaptureErrorKind::OpaqueSerde`]); the first one
/// without `serde` refuses the capture.
fn opaque_fields(state: &State) -> Result<HashMap<String, String>, CaptureError> {
    /// The opaque types in `shape` (name, path, whether it has serde) into `found`, the
    /// `CooType`s it names into `types`.
    fn in_shape<'d>(
        shape: &'d Shape,
        path: &str,
        found: &mut Vec<(String, String, bool)>,
        types: &mut Vec<&'d TypeDesc>,
    ) {
        match shape.kind() {
            ShapeKind::Opaque(glue) => found.push((
                shape.type_name().to_owned(),
                path.to_owned(),
                glue.json().is_some(),
            )),
            ShapeKind::Array { elem, .. }
            | ShapeKind::Vec { elem, .. }
            | ShapeKind::Box { elem, .. }
            | ShapeKind::Option { elem, .. }
            | ShapeKind::Pool { elem, .. } => in_shape(elem.get(), path, found, types),
            ShapeKind::Tuple(elems) => {
                for e in elems.get() {
                    in_shape(e.shape(), path, found, types);
                }
            }
            ShapeKind::Coll { key, value, .. } => {
                in_shape(key.get(), path, found, types);
                if let Some(value) = value {
                    in_shape(value.get(), path, found, types);
                }
            }
            ShapeKind::Named(desc) => types.push(desc.get()),
            ShapeKind::Handle { target } => types.push(target.get()),
            // A trait object may be of any of its impls' types.
            ShapeKind::Dyn(d) => types.extend(d.impls().into_iter().map(|i| i.ty())),
            ShapeKind::Prim(_) | ShapeKind::String(_) => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut types: Vec<&TypeDesc> = state.resources().map(|r| r.desc()).collect();
    let mut opaque = HashMap::new();
    while let Some(desc) = types.pop() {
        if !seen.insert(desc.name().to_owned()) {
            continue;
        }
        let fields: Vec<(String, &coo_runtime::FieldDesc)> = match desc.kind() {
            TypeKind::Struct(s) => s
                .fields()
                .iter()
                .map(|f| (format!("{}.{}", desc.name(), f.name()), f))
                .collect(),
            TypeKind::Enum(e) => e
                .variants()
                .iter()
                .flat_map(|v| {
                    v.fields()
                        .iter()
                        .map(move |f| (format!("{}.{}.{}", desc.name(), v.name(), f.name()), f))
                })
                .collect(),
        };
        for (path, field) in fields {
            let mut found = Vec::new();
            in_shape(field.shape(), &path, &mut found, &mut types);
            for (ty, path, serde) in found {
                if !serde {
                    return Err(CaptureError {
                        path,
                        kind: CaptureErrorKind::OpaqueWithoutSerde { ty },
                    });
                }
                opaque.entry(ty).or_insert(path);
            }
        }
    }
    Ok(opaque)
}

/// A part of a value still to encode, on the encoder's work stack.
#[derive(Clone, Copy)]
enum Item<'d> {
    Shape(&'d Shape, *const u8),
    Named(&'d TypeDesc, *const u8),
    /// A pool slot's index and generation, written before its value.
    Slot(u32, u32),
}

/// A run of bytes of a plain value: `len` bytes at `offset` from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) offset: usize,
    pub(crate) len: usize,
}

struct Encoder {
    out: Vec<u8>,
    plain: PlainRuns,
    /// The path of a field of each opaque type, for an error of its serde.
    opaque: HashMap<String, String>,
    /// The first serde error of an opaque value: the capture is refused.
    failed: Option<CaptureError>,
}

/// For each type seen (by descriptor address): its runs when it is plain (a struct whose
/// fields are, however nested, numbers, `bool`s, `char`s and arrays of them, in a
/// little-endian build where `usize` is 8 bytes), else `None`. The binary snapshot loader
/// copies the runs back with it.
#[derive(Default)]
pub(crate) struct PlainRuns {
    plain: HashMap<usize, Option<Vec<Run>>>,
}

/// Whether a primitive's bytes in memory are its encoding.
fn prim_is_plain(prim: Prim) -> bool {
    cfg!(target_endian = "little")
        && (!matches!(prim, Prim::Isize | Prim::Usize) || size_of::<usize>() == 8)
}

impl PlainRuns {
    /// The runs of a plain shape at `base`, appended to `runs`; `false` if it is not plain.
    pub(crate) fn shape_runs(&mut self, shape: &Shape, base: usize, runs: &mut Vec<Run>) -> bool {
        match shape.kind() {
            ShapeKind::Prim(prim) if prim_is_plain(*prim) => {
                push_run(
                    runs,
                    Run {
                        offset: base,
                        len: shape.size(),
                    },
                );
                true
            }
            ShapeKind::Array { elem, len } => {
                let elem = elem.get();
                (0..*len).all(|i| self.shape_runs(elem, base + i * elem.size(), runs))
            }
            ShapeKind::Named(desc) => match self.plain_runs(desc.get()) {
                Some(inner) => {
                    for run in inner.iter().copied() {
                        push_run(
                            runs,
                            Run {
                                offset: base + run.offset,
                                len: run.len,
                            },
                        );
                    }
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// The runs of a plain type, or `None`. Types are plain only through structs and arrays,
    /// which cannot contain themselves, so this ends.
    pub(crate) fn plain_runs(&mut self, desc: &TypeDesc) -> Option<&[Run]> {
        let key = desc as *const TypeDesc as usize;
        if !self.plain.contains_key(&key) {
            let runs = match desc.kind() {
                TypeKind::Struct(s) => {
                    let mut runs = Vec::new();
                    let plain = s
                        .fields()
                        .iter()
                        .all(|f| self.shape_runs(f.shape(), f.offset(), &mut runs));
                    plain.then_some(runs)
                }
                TypeKind::Enum(_) => None,
            };
            self.plain.insert(key, runs);
        }
        self.plain[&key].as_deref()
    }
}

impl Encoder {
    fn plain_runs(&mut self, desc: &TypeDesc) -> Option<&[Run]> {
        self.plain.plain_runs(desc)
    }

    fn shape_runs(&mut self, shape: &Shape, base: usize, runs: &mut Vec<Run>) -> bool {
        self.plain.shape_runs(shape, base, runs)
    }

    fn copy_runs(&mut self, runs: &[Run], ptr: *const u8) {
        for run in runs {
            // SAFETY: (caller) `ptr` is a valid value of the plain type whose runs these are;
            // each run is a primitive field (or fields adjacent in memory and in declaration
            // order) inside it, initialized, and read as bytes.
            let bytes = unsafe { core::slice::from_raw_parts(ptr.add(run.offset), run.len) };
            self.out.extend_from_slice(bytes);
        }
    }

    /// Encodes a value of any depth: what is left waits on an explicit work stack, so a value
    /// nested a million levels deep encodes with a constant native stack.
    ///
    /// # Safety
    /// The item's pointer is a valid value of its shape or type, not mutated while this runs.
    unsafe fn value(&mut self, start: Item<'_>) {
        let mut stack = vec![start];
        while let Some(item) = stack.pop() {
            match item {
                Item::Named(desc, ptr) => {
                    if let Some(runs) = self.plain_runs(desc) {
                        let runs = runs.to_vec();
                        self.copy_runs(&runs, ptr);
                        continue;
                    }
                    match desc.kind() {
                        // A packed struct's fields may be unaligned: each is encoded now, in
                        // order, from an aligned copy (it owns nothing, so its encoding is all
                        // in its bytes; the recursion is bounded by how packed structs nest in
                        // the types).
                        TypeKind::Struct(s) if s.packing().is_some() => {
                            for f in s.fields() {
                                // SAFETY: the offset is the field's, inside the value.
                                let copy =
                                    unsafe { Unaligned::read(f.shape(), ptr.add(f.offset())) };
                                // SAFETY: the copy is an aligned valid value of the field's
                                // shape, alive and unchanged during the call.
                                unsafe { self.value(Item::Shape(f.shape(), copy.as_ptr())) };
                            }
                        }
                        TypeKind::Struct(s) => {
                            for f in s.fields().iter().rev() {
                                // SAFETY: the offset is the field's, inside the value.
                                stack.push(Item::Shape(f.shape(), unsafe { ptr.add(f.offset()) }));
                            }
                        }
                        TypeKind::Enum(e) => {
                            let max = e.variants().iter().map(|v| v.fields().len()).max();
                            let mut addrs = vec![core::ptr::null::<u8>(); max.unwrap_or(0)];
                            // SAFETY: `ptr` is a valid value of this enum and `addrs` has room
                            // for the fields of its largest variant.
                            let index = unsafe { e.read(ptr, addrs.as_mut_ptr()) };
                            self.out.extend_from_slice(&(index as u32).to_le_bytes());
                            let fields = e.variants()[index].fields();
                            for (f, addr) in fields.iter().zip(addrs).rev() {
                                stack.push(Item::Shape(f.shape(), addr));
                            }
                        }
                    }
                }
                Item::Slot(index, generation) => {
                    self.out.extend_from_slice(&index.to_le_bytes());
                    self.out.extend_from_slice(&generation.to_le_bytes());
                }
                // SAFETY: as this function's contract says of `item`.
                Item::Shape(shape, ptr) => unsafe { self.shape(shape, ptr, &mut stack) },
            }
        }
    }

    /// Encodes what a value of `shape` holds at once and pushes its parts.
    ///
    /// # Safety
    /// As for [`Encoder::value`].
    unsafe fn shape<'d>(&mut self, shape: &'d Shape, ptr: *const u8, stack: &mut Vec<Item<'d>>) {
        let elements = |stack: &mut Vec<Item<'d>>,
                        this: &mut Encoder,
                        elem: &'d Shape,
                        base: *const u8,
                        len: usize| {
            let runs = match elem.kind() {
                ShapeKind::Named(desc) => this.plain_runs(desc.get()).map(<[Run]>::to_vec),
                _ => {
                    let mut runs = Vec::new();
                    this.shape_runs(elem, 0, &mut runs).then_some(runs)
                }
            };
            match runs {
                Some(runs) => {
                    this.out
                        .reserve(len * runs.iter().map(|r| r.len).sum::<usize>());
                    for i in 0..len {
                        // SAFETY: element `i < len` lies at `i * size` in the buffer.
                        this.copy_runs(&runs, unsafe { base.add(i * elem.size()) });
                    }
                }
                None => {
                    for i in (0..len).rev() {
                        // SAFETY: as above.
                        stack.push(Item::Shape(elem, unsafe { base.add(i * elem.size()) }));
                    }
                }
            }
        };
        match shape.kind() {
            ShapeKind::Prim(prim) => {
                // SAFETY: (contract) `ptr` is a valid value of `prim`.
                unsafe { self.prim(*prim, ptr) }
            }
            ShapeKind::String(glue) => {
                // SAFETY: `ptr` is a valid `String`; its bytes live as long as it does.
                let bytes = unsafe {
                    let (p, len) = glue.as_str(ptr);
                    core::slice::from_raw_parts(p, len)
                };
                self.out
                    .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                self.out.extend_from_slice(bytes);
            }
            ShapeKind::Array { elem, len } => elements(stack, self, elem.get(), ptr, *len),
            ShapeKind::Vec { elem, glue } => {
                // SAFETY: `ptr` is a valid `Vec`.
                let (base, len) = unsafe { glue.parts(ptr) };
                self.out.extend_from_slice(&(len as u64).to_le_bytes());
                elements(stack, self, elem.get(), base, len);
            }
            ShapeKind::Box { elem, glue } => {
                // SAFETY: `ptr` is a valid box; the value it holds lives as long as it does.
                stack.push(Item::Shape(elem.get(), unsafe { glue.get(ptr) }));
            }
            ShapeKind::Option { elem, glue } => {
                // SAFETY: `ptr` is a valid `Option`.
                let inner = unsafe { glue.get(ptr) };
                if inner.is_null() {
                    self.out.push(0);
                } else {
                    self.out.push(1);
                    stack.push(Item::Shape(elem.get(), inner));
                }
            }
            ShapeKind::Pool { elem, glue } => {
                // SAFETY: `ptr` is a valid pool.
                let slots = unsafe { glue.slot_count(ptr) };
                let occupied: Vec<(u32, u32, *const u8)> = (0..slots)
                    .filter_map(|i| {
                        // SAFETY: `i < slot_count`.
                        let (generation, value) = unsafe { glue.slot(ptr, i) };
                        (!value.is_null()).then_some((i as u32, generation, value))
                    })
                    .collect();
                self.out
                    .extend_from_slice(&(occupied.len() as u64).to_le_bytes());
                // Each slot's index and generation go before its value: the values are
                // encoded from the stack, so the slots are written one at a time through it.
                for &(index, generation, value) in occupied.iter().rev() {
                    stack.push(Item::Shape(elem.get(), value));
                    stack.push(Item::Slot(index, generation));
                }
            }
            ShapeKind::Handle { .. } => {
                // SAFETY: a handle is `repr(C)` `{ index: u32, generation: u32 }`.
                let parts = unsafe { ptr.cast::<[u32; 2]>().read_unaligned() };
                self.out.extend_from_slice(&parts[0].to_le_bytes());
                self.out.extend_from_slice(&parts[1].to_le_bytes());
            }
            ShapeKind::Named(desc) => stack.push(Item::Named(desc.get(), ptr)),
            ShapeKind::Opaque(glue) => {
                let ty = shape.type_name();
                // SAFETY: `ptr` is a valid value of the opaque type, whose glue this is.
                let json = glue.json().map(|json| unsafe { json.to_json(ptr) });
                let text = match json {
                    Some(Ok(text)) => text,
                    // `opaque_fields` refused types without serde; a failed serde refuses
                    // the capture (the text written meanwhile is never used).
                    failed => {
                        let message = match failed {
                            Some(Err(message)) => message,
                            _ => "it has no serde".to_owned(),
                        };
                        self.failed.get_or_insert_with(|| CaptureError {
                            path: self
                                .opaque
                                .get(ty)
                                .cloned()
                                .unwrap_or_else(|| ty.to_owned()),
                            kind: CaptureErrorKind::OpaqueSerde {
                                ty: ty.to_owned(),
                                message,
                            },
                        });
                        String::new()
                    }
                };
                self.out
                    .extend_from_slice(&(text.len() as u64).to_le_bytes());
                self.out.extend_from_slice(text.as_bytes());
            }
            ShapeKind::Tuple(elems) => {
                for e in elems.get().iter().rev() {
                    // SAFETY: the offset is the element's, inside the tuple.
                    stack.push(Item::Shape(e.shape(), unsafe { ptr.add(e.offset()) }));
                }
            }
            ShapeKind::Dyn(d) => {
                // SAFETY: `ptr` is a valid `Box<dyn Trait>` of the shape's image.
                let known = unsafe { d.concrete_name(ptr) }
                    .ok()
                    .and_then(|name| Some((name, d.impl_named(name)?)));
                let name = known.map_or("", |(name, _)| name);
                self.out
                    .extend_from_slice(&(name.len() as u64).to_le_bytes());
                self.out.extend_from_slice(name.as_bytes());
                if let Some((_, imp)) = known {
                    // SAFETY: the box holds a valid value of its concrete type, which lives as
                    // long as the box does.
                    stack.push(Item::Named(imp.ty(), unsafe { d.glue().get(ptr) }));
                }
            }
            ShapeKind::Coll {
                key, value, glue, ..
            } => {
                let mut addrs = Vec::new();
                // SAFETY: `ptr` is a valid collection, not mutated while this runs.
                unsafe { coo_runtime::migration::execute::push_entries(glue, ptr, &mut addrs) };
                self.out
                    .extend_from_slice(&((addrs.len() / 2) as u64).to_le_bytes());
                for e in addrs.chunks(2).rev() {
                    if let Some(value) = value {
                        stack.push(Item::Shape(value.get(), e[1]));
                    }
                    stack.push(Item::Shape(key.get(), e[0]));
                }
            }
        }
    }

    /// # Safety
    /// `ptr` is a valid value of `prim`.
    unsafe fn prim(&mut self, prim: Prim, ptr: *const u8) {
        macro_rules! le {
            ($t:ty) => {{
                // SAFETY: (contract) `ptr` is a valid, aligned value of this type.
                let v = unsafe { ptr.cast::<$t>().read() };
                self.out.extend_from_slice(&v.to_le_bytes());
            }};
        }
        match prim {
            Prim::Bool => le!(u8),
            Prim::Char => le!(u32),
            Prim::I8 => le!(i8),
            Prim::I16 => le!(i16),
            Prim::I32 => le!(i32),
            Prim::I64 => le!(i64),
            Prim::I128 => le!(i128),
            Prim::Isize => {
                // SAFETY: (contract) `ptr` is a valid `isize`.
                let v = unsafe { ptr.cast::<isize>().read() } as i64;
                self.out.extend_from_slice(&v.to_le_bytes());
            }
            Prim::U8 => le!(u8),
            Prim::U16 => le!(u16),
            Prim::U32 => le!(u32),
            Prim::U64 => le!(u64),
            Prim::U128 => le!(u128),
            Prim::Usize => {
                // SAFETY: (contract) `ptr` is a valid `usize`.
                let v = unsafe { ptr.cast::<usize>().read() } as u64;
                self.out.extend_from_slice(&v.to_le_bytes());
            }
            Prim::F32 => le!(u32),
            Prim::F64 => le!(u64),
        }
    }
}

fn push_run(runs: &mut Vec<Run>, run: Run) {
    match runs.last_mut() {
        Some(last) if last.offset + last.len == run.offset => last.len += run.len,
        _ => runs.push(run),
    }
}
