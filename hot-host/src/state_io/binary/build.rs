//! Values built straight from a binary snapshot's bytes into the live layout, when the layouts
//! it was saved from are the current build's, type for type: the inverse of the capture's
//! encoder. Plain structs are copied back run by run (a `Vec` of structs without padding in one
//! copy); everything else is written through the current build's glue.
//!
//! The bytes were checked against the layouts first ([`super::check`]), and no plugin code runs
//! here (no defaults, no hooks: nothing is migrated), so building cannot fail halfway: no
//! frame needs to drop what it built. What is left waits on a work stack, so a value nested a
//! million levels deep builds on a small stack.

use coo_runtime::storage::raw::Unaligned;
use std::collections::{BTreeMap, HashMap};

use coo_runtime::descriptors::layout::{
    BoxGlue, EnumDesc, OptionGlue, Prim, Shape, ShapeKind, TypeDesc, TypeKind, VecGlue,
};
use coo_runtime::descriptors::schema::{LayoutKind, Schema, TyLayout, TypeLayout};
use coo_runtime::storage::scratch::{Scratch, variant_layout};
use coo_runtime::{Catalog, Resource, State};

use crate::state_io::capture::{PlainRuns, Run};
use crate::state_io::from_json::TypeValueReport;
use crate::state_io::snapshot::LoadReport;

/// Whether a layout's field type is, or holds, a pool (or a tuple or collection): what is not
/// built directly.
fn has_pool(ty: &TyLayout) -> bool {
    match ty {
        TyLayout::Pool(_) => true,
        TyLayout::Array(elem, _)
        | TyLayout::Vec(elem)
        | TyLayout::Box(elem)
        | TyLayout::Option(elem) => has_pool(elem),
        TyLayout::Prim(_) | TyLayout::String | TyLayout::Handle(_) | TyLayout::Named(_) => false,
        // Tuples, collections and trait objects are built by the JSON format's builder
        // (through the collections' `insert`, the impls' boxing): never directly; nor opaque
        // values (through their serde).
        TyLayout::Tuple(_) | TyLayout::Coll(..) | TyLayout::Opaque { .. } | TyLayout::Dyn(_) => {
            true
        }
    }
}

fn layout_has_pool(layout: &TypeLayout) -> bool {
    match &layout.kind {
        LayoutKind::Struct { fields, .. } => fields.iter().any(|f| has_pool(&f.ty)),
        LayoutKind::Enum { variants, .. } => variants
            .iter()
            .flat_map(|v| &v.fields)
            .any(|f| has_pool(&f.ty)),
    }
}

/// Whether `schema` holds the layouts of the current build, type for type, and no pool: what
/// [`direct`] builds.
pub(crate) fn layouts_are_current(schema: &Schema, catalog: &Catalog) -> bool {
    schema.types.iter().all(|(name, saved)| {
        catalog
            .get(name)
            .is_some_and(|desc| TypeLayout::from_desc(desc) == *saved && !layout_has_pool(saved))
    })
}

/// Builds the state from `values` (checked against `schema`, see [`super::check`]) when the
/// layouts saved are the current build's (and hold no pool); `None` when they are not, for the
/// caller to migrate.
pub(crate) fn direct(
    schema: &Schema,
    resources: &[String],
    values: &[u8],
    catalog: &Catalog,
) -> Option<(State, LoadReport)> {
    if !layouts_are_current(schema, catalog) {
        return None;
    }
    let mut descs = Vec::with_capacity(resources.len());
    for name in resources {
        match catalog.successor(name) {
            Ok(Some(desc)) if desc.name() == name => descs.push(desc),
            _ => return None,
        }
    }
    let mut builder = Builder {
        bytes: values,
        pos: 0,
        plain: PlainRuns::default(),
        counts: HashMap::new(),
        values: HashMap::new(),
    };
    let mut state = State::new();
    for desc in descs {
        let scratch = Scratch::for_type(desc);
        // SAFETY: the scratch is fresh memory with `desc`'s layout; the bytes were checked
        // against the saved layouts, which are those of the current types.
        unsafe { builder.value(Job::Named(desc, scratch.ptr())) };
        // SAFETY: the scratch holds a complete value of `desc`, which the resource takes over
        // (the scratch is then only freed); the catalog's image guard holds `desc`'s image.
        let resource =
            unsafe { Resource::from_raw_in(desc, scratch.ptr(), catalog.image().clone()) };
        state.insert_resource(resource);
    }
    debug_assert_eq!(builder.pos, builder.bytes.len(), "every byte read");
    let mut types = BTreeMap::new();
    for (_, (name, values)) in builder.values {
        if values > 0 {
            let report: &mut TypeValueReport = types.entry(name.to_owned()).or_default();
            report.values += values;
        }
    }
    Some((
        state,
        LoadReport {
            resources: resources
                .iter()
                .map(|name| (name.clone(), name.clone()))
                .collect(),
            types,
            elements_filled: 0,
            saved: schema.clone(),
        },
    ))
}

fn key(desc: &TypeDesc) -> usize {
    desc as *const TypeDesc as usize
}

/// How a built content goes into its container: the glue of a `Box` or an `Option`.
#[derive(Clone, Copy)]
enum MoveIn<'d> {
    Box(&'d BoxGlue),
    Some(&'d OptionGlue),
}

/// What is left to build, on the builder's work stack.
enum Job<'d> {
    Shape(&'d Shape, *mut u8),
    Named(&'d TypeDesc, *mut u8),
    /// A `Vec`'s elements are built: its length is set.
    SetLen(&'d VecGlue, *mut u8, usize),
    /// A `Box`'s or `Some`'s content is built in `scratch`: `write` moves it in.
    Move {
        scratch: Scratch,
        dst: *mut u8,
        write: MoveIn<'d>,
    },
    /// A variant's fields are built at `addrs`: `write` moves them into the enum.
    Variant {
        write: &'d EnumDesc,
        dst: *mut u8,
        index: usize,
        addrs: Vec<*mut u8>,
        _scratch: Scratch,
    },
}

struct Builder<'b> {
    bytes: &'b [u8],
    pos: usize,
    plain: PlainRuns,
    /// For each plain type: how many values of each named type (itself and those nested in
    /// it) one of its values holds, for the report.
    counts: HashMap<usize, Vec<Count>>,
    /// Values built per type (by descriptor address): its name and the count.
    values: HashMap<usize, (String, u64)>,
}

impl Builder<'_> {
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

    fn count(&mut self, desc: &TypeDesc, n: u64) {
        let entry = self.values.entry(key(desc));
        entry.or_insert_with(|| (desc.name().to_owned(), 0)).1 += n;
    }

    /// Counts `n` values of the plain shape `shape` (a named type's, when `desc` is given) and
    /// of the named types nested in it.
    fn count_plain(&mut self, shape: Option<&Shape>, desc: Option<&TypeDesc>, n: u64) {
        let at = shape.map_or_else(|| desc.map_or(0, key), |s| s as *const Shape as usize);
        let counts = self.counts.entry(at).or_insert_with(|| {
            let mut counts = Vec::new();
            if let Some(desc) = desc {
                named_counts(desc, 1, &mut counts);
            }
            if let Some(shape) = shape {
                shape_counts(shape, 1, &mut counts);
            }
            counts
        });
        for count in counts.iter() {
            let entry = self.values.entry(count.ty);
            entry.or_insert_with(|| (count.name.clone(), 0)).1 += count.times * n;
        }
    }

    /// Copies one plain value's runs from the bytes to `dst`.
    ///
    /// # Safety
    /// `dst` is valid for writes of the plain type whose runs these are.
    unsafe fn copy_runs(&mut self, runs: &[Run], dst: *mut u8) {
        for run in runs {
            let src = &self.bytes[self.pos..self.pos + run.len];
            // SAFETY: each run is a primitive field (or adjacent ones) inside the value at
            // `dst`, whose encoding is its bytes in memory (`PlainRuns`).
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst.add(run.offset), run.len) };
            self.pos += run.len;
        }
    }

    /// Builds a value of any depth from the bytes.
    ///
    /// # Safety
    /// The job's destination is valid for writes of its type; the bytes from `pos` on hold a
    /// checked value of it.
    unsafe fn value(&mut self, start: Job<'_>) {
        let mut stack = vec![start];
        while let Some(job) = stack.pop() {
            match job {
                // SAFETY: as this function's contract says of the job.
                Job::Shape(shape, dst) => unsafe { self.shape(shape, dst, &mut stack) },
                Job::Named(desc, dst) => {
                    if let Some(runs) = self.plain.plain_runs(desc).map(<[Run]>::to_vec) {
                        // SAFETY: `dst` holds room for a value of this plain type.
                        unsafe { self.copy_runs(&runs, dst) };
                        self.count_plain(None, Some(desc), 1);
                        continue;
                    }
                    self.count(desc, 1);
                    match desc.kind() {
                        // A packed struct's fields may be unaligned: each is built now, in
                        // order, in an aligned temporary, and its bytes moved to its place (it
                        // owns nothing; the recursion is bounded by how packed structs nest in
                        // the types).
                        TypeKind::Struct(s) if s.packing().is_some() => {
                            for f in s.fields() {
                                let field = Unaligned::new(f.shape());
                                // SAFETY: the temporary is aligned room for the field, and the
                                // bytes from `pos` hold it next; then its bytes go to the
                                // field's place inside the value.
                                unsafe {
                                    self.value(Job::Shape(f.shape(), field.as_ptr()));
                                    field.write_to(dst.add(f.offset()));
                                }
                            }
                        }
                        TypeKind::Struct(s) => {
                            for f in s.fields().iter().rev() {
                                // SAFETY: the field's offset lies inside the value.
                                stack.push(Job::Shape(f.shape(), unsafe { dst.add(f.offset()) }));
                            }
                        }
                        TypeKind::Enum(e) => {
                            let index = u32::from_le_bytes(self.take()) as usize;
                            let fields = e.variants()[index].fields();
                            let (layout, offsets) = variant_layout(fields);
                            let scratch = Scratch::new(layout);
                            // SAFETY: the offsets lie inside the scratch layout.
                            let addrs: Vec<*mut u8> = offsets
                                .iter()
                                .map(|&o| unsafe { scratch.ptr().add(o) })
                                .collect();
                            let parts: Vec<Job<'_>> = fields
                                .iter()
                                .zip(&addrs)
                                .rev()
                                .map(|(f, &addr)| Job::Shape(f.shape(), addr))
                                .collect();
                            stack.push(Job::Variant {
                                write: e,
                                dst,
                                index,
                                addrs,
                                _scratch: scratch,
                            });
                            stack.extend(parts);
                        }
                    }
                }
                Job::SetLen(set_len, dst, len) => {
                    // SAFETY: all `len` elements, within the capacity, are built.
                    unsafe { set_len.set_len(dst, len) }
                }
                Job::Move {
                    scratch,
                    dst,
                    write,
                } => {
                    // SAFETY: the scratch holds the complete content, which `write` moves
                    // into the container at `dst`; the scratch is then only freed.
                    unsafe {
                        match write {
                            MoveIn::Box(glue) => glue.write_from(dst, scratch.ptr()),
                            MoveIn::Some(glue) => glue.write_some(dst, scratch.ptr()),
                        }
                    }
                }
                Job::Variant {
                    write,
                    dst,
                    index,
                    addrs,
                    ..
                } => {
                    // SAFETY: every field of the variant is built at `addrs`; `write` moves
                    // them into the enum at `dst`, and the scratch is then only freed.
                    unsafe { write.write(dst, index, addrs.as_ptr()) }
                }
            }
        }
    }

    /// Builds what a value of `shape` holds at once and pushes its parts.
    ///
    /// # Safety
    /// As for [`Builder::value`].
    unsafe fn shape<'d>(&mut self, shape: &'d Shape, dst: *mut u8, stack: &mut Vec<Job<'d>>) {
        match shape.kind() {
            ShapeKind::Tuple(_)
            | ShapeKind::Coll { .. }
            | ShapeKind::Opaque(_)
            | ShapeKind::Dyn(_) => {
                unreachable!(
                    "layouts with tuples, collections, opaque values or trait objects are not built \
                     directly (`has_pool`)"
                )
            }
            // SAFETY: `dst` is valid for writes of `prim`.
            ShapeKind::Prim(prim) => unsafe { self.prim(*prim, dst) },
            ShapeKind::String(glue) => {
                let len = self.len();
                let bytes = &self.bytes[self.pos..self.pos + len];
                // SAFETY: the bytes are UTF-8 (checked); `write_from` copies them into a new
                // `String` at `dst`.
                unsafe { glue.write_from(dst, bytes.as_ptr(), len) };
                self.pos += len;
            }
            // SAFETY: the array's elements lie at `dst`.
            ShapeKind::Array { elem, len } => unsafe {
                self.elements(elem.get(), dst, *len, stack)
            },
            ShapeKind::Vec { elem, glue } => {
                let len = self.len();
                // SAFETY: `dst` is valid for writes of the vector.
                let buf = unsafe { glue.write_with_capacity(dst, len) };
                stack.push(Job::SetLen(glue, dst, len));
                // SAFETY: the buffer has room for `len` elements.
                unsafe { self.elements(elem.get(), buf, len, stack) };
            }
            ShapeKind::Box { elem, glue } => {
                let scratch = Scratch::for_shape(elem.get());
                let content = scratch.ptr();
                stack.push(Job::Move {
                    scratch,
                    dst,
                    write: MoveIn::Box(glue),
                });
                stack.push(Job::Shape(elem.get(), content));
            }
            ShapeKind::Option { elem, glue } => {
                let [tag] = self.take();
                if tag == 0 {
                    // SAFETY: `dst` is valid for writes of the option.
                    unsafe { glue.write_none(dst) };
                } else {
                    let scratch = Scratch::for_shape(elem.get());
                    let content = scratch.ptr();
                    stack.push(Job::Move {
                        scratch,
                        dst,
                        write: MoveIn::Some(glue),
                    });
                    stack.push(Job::Shape(elem.get(), content));
                }
            }
            ShapeKind::Handle { .. } => {
                let parts = [
                    u32::from_le_bytes(self.take()),
                    u32::from_le_bytes(self.take()),
                ];
                // SAFETY: a handle is `repr(C)` `{ index: u32, generation: u32 }`.
                unsafe { dst.cast::<[u32; 2]>().write_unaligned(parts) };
            }
            ShapeKind::Pool { .. } => unreachable!("layouts with pools are migrated instead"),
            ShapeKind::Named(desc) => stack.push(Job::Named(desc.get(), dst)),
        }
    }

    /// `len` elements of `elem` at `base`: copied at once when plain, else pushed.
    ///
    /// # Safety
    /// `base` is valid for writes of `len` elements of `elem`.
    unsafe fn elements<'d>(
        &mut self,
        elem: &'d Shape,
        base: *mut u8,
        len: usize,
        stack: &mut Vec<Job<'d>>,
    ) {
        let mut runs = Vec::new();
        let plain = match elem.kind() {
            ShapeKind::Named(desc) => match self.plain.plain_runs(desc.get()) {
                Some(r) => {
                    runs.extend_from_slice(r);
                    self.count_plain(None, Some(desc.get()), len as u64);
                    true
                }
                None => false,
            },
            _ => {
                let plain = self.plain.shape_runs(elem, 0, &mut runs);
                if plain {
                    self.count_plain(Some(elem), None, len as u64);
                }
                plain
            }
        };
        if !plain {
            for i in (0..len).rev() {
                // SAFETY: element `i < len` lies at `i * size`.
                stack.push(Job::Shape(elem, unsafe { base.add(i * elem.size()) }));
            }
            return;
        }
        if let [
            Run {
                offset: 0,
                len: run,
            },
        ] = runs[..]
            && run == elem.size()
        {
            // No padding: the elements' bytes are their encoding, end to end.
            let total = len * elem.size();
            let src = &self.bytes[self.pos..self.pos + total];
            // SAFETY: `base` has room for `len` elements of `elem.size` bytes.
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), base, total) };
            self.pos += total;
            return;
        }
        for i in 0..len {
            // SAFETY: element `i < len` lies at `i * size`.
            unsafe { self.copy_runs(&runs, base.add(i * elem.size())) };
        }
    }

    /// # Safety
    /// `dst` is valid for writes of `prim`.
    unsafe fn prim(&mut self, prim: Prim, dst: *mut u8) {
        macro_rules! le {
            ($t:ty) => {{
                let v = <$t>::from_le_bytes(self.take());
                // SAFETY: (contract) `dst` is valid for writes of this type.
                unsafe { dst.cast::<$t>().write_unaligned(v) };
            }};
        }
        match prim {
            Prim::Bool => {
                let [b] = self.take();
                // SAFETY: (contract) `dst` is valid for writes of a `bool`.
                unsafe { dst.cast::<bool>().write(b != 0) };
            }
            Prim::Char => {
                let c = char::from_u32(u32::from_le_bytes(self.take())).expect("checked");
                // SAFETY: (contract) `dst` is valid for writes of a `char`.
                unsafe { dst.cast::<char>().write(c) };
            }
            Prim::I8 => le!(i8),
            Prim::I16 => le!(i16),
            Prim::I32 => le!(i32),
            Prim::I64 => le!(i64),
            Prim::I128 => le!(i128),
            Prim::Isize => {
                let v = i64::from_le_bytes(self.take()) as isize;
                // SAFETY: (contract) `dst` is valid for writes of an `isize`.
                unsafe { dst.cast::<isize>().write_unaligned(v) };
            }
            Prim::U8 => le!(u8),
            Prim::U16 => le!(u16),
            Prim::U32 => le!(u32),
            Prim::U64 => le!(u64),
            Prim::U128 => le!(u128),
            Prim::Usize => {
                let v = u64::from_le_bytes(self.take()) as usize;
                // SAFETY: (contract) `dst` is valid for writes of a `usize`.
                unsafe { dst.cast::<usize>().write_unaligned(v) };
            }
            Prim::F32 => le!(f32),
            Prim::F64 => le!(f64),
        }
    }
}

/// `times` values of the named type `ty` (by descriptor address).
struct Count {
    ty: usize,
    name: String,
    times: u64,
}

/// How many values of each named type one value of the plain type `desc`, times `times`, holds
/// (itself included).
fn named_counts(desc: &TypeDesc, times: u64, out: &mut Vec<Count>) {
    out.push(Count {
        ty: key(desc),
        name: desc.name().to_owned(),
        times,
    });
    if let TypeKind::Struct(s) = &desc.kind() {
        for field in s.fields() {
            shape_counts(field.shape(), times, out);
        }
    }
}

fn shape_counts(shape: &Shape, times: u64, out: &mut Vec<Count>) {
    match shape.kind() {
        ShapeKind::Array { elem, len } => shape_counts(elem.get(), times * *len as u64, out),
        ShapeKind::Named(desc) => named_counts(desc.get(), times, out),
        _ => {}
    }
}
