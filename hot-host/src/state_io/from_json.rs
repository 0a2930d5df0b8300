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
//!   layouts say it was saved as another number type ([`ValueBuilder::with_saved_types`]), it is read
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
use coo_runtime::migration::execute::{MigrateError, Seg, ValuePath, write_default};
use coo_runtime::migration::plan::DefaultPlan;
use coo_runtime::storage::scratch::Scratch;
use coo_runtime::{ImageRef, Resource, State};

use crate::state_io::json::JsonValue;

mod containers;
mod error;
mod fields;
mod number;
mod report;

pub use error::ValueError;
pub(crate) use error::list;
pub use report::{TypeValueReport, ValueReport};

/// How much stack a recursive builder step may need before it moves to a new stack segment, and
/// how large each new segment is (the values rustc uses).
const STACK_RED_ZONE: usize = 100 * 1024;
const STACK_SEGMENT: usize = 1024 * 1024;
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

/// Drops `n` elements of `shape` laid out from `base`.
///
/// # Safety
/// The elements are valid and are not used again.
unsafe fn drop_elements(shape: &Shape, base: *mut u8, n: usize) {
    if shape.needs_drop {
        for i in 0..n {
            // SAFETY: element `i < n` is valid and dropped once (caller's contract).
            unsafe { (shape.drop)(base.add(i * shape.size)) }
        }
    }
}

// --------------------------------------------------------------------------------------- builder

/// Builds values of the current types from [`JsonValue`]. One builder per load or `set`: it keeps the
/// path being built (for errors) and the [`ValueReport`].
#[derive(Debug)]
pub struct ValueBuilder<'v> {
    mode: Mode,
    vacant: Option<&'v VacantSlots>,
    saved: Option<&'v Schema>,
    path: Vec<Seg>,
    report: ValueReport,
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
/// plan of each field that takes none (see [`ValueBuilder::match_fields`]).
type Matched<'j> = (
    Vec<(Cow<'j, str>, &'j JsonValue)>,
    Vec<Option<usize>>,
    Vec<Option<DefaultPlan>>,
);

/// The saved layout of the value being built, when known: what a number's field type was.
type Saved<'v> = Option<&'v TyLayout>;

impl<'v> ValueBuilder<'v> {
    pub fn new(mode: Mode) -> Self {
        ValueBuilder {
            mode,
            vacant: None,
            saved: None,
            path: Vec::new(),
            report: ValueReport::default(),
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

    pub fn report(&self) -> &ValueReport {
        &self.report
    }

    pub fn into_report(self) -> ValueReport {
        self.report
    }

    /// Builds a value of `desc` from `json` as a new resource, which keeps `image` (the guard of
    /// the image `desc` lives in: its catalog's or its resource's) mapped.
    pub fn build_resource(
        &mut self,
        desc: &'static TypeDesc,
        image: &ImageRef,
        json: &JsonValue,
    ) -> Result<Resource, ValueError> {
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
        json: &JsonValue,
        dst: *mut u8,
    ) -> Result<(), ValueError> {
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
        json: &JsonValue,
        dst: *mut u8,
    ) -> Result<(), ValueError> {
        // SAFETY: forwarded contract.
        unsafe { self.shape_from(shape, json, dst, None) }
    }

    /// [`ValueBuilder::build_type`], from a value saved as `saved`.
    ///
    /// # Safety
    /// As for [`ValueBuilder::build_type`].
    unsafe fn type_from(
        &mut self,
        desc: &'static TypeDesc,
        json: &JsonValue,
        dst: *mut u8,
        saved: Option<&'v TypeLayout>,
    ) -> Result<(), ValueError> {
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

    /// [`ValueBuilder::build_shape`], from a value saved as `saved`.
    ///
    /// # Safety
    /// As for [`ValueBuilder::build_shape`].
    unsafe fn shape_from(
        &mut self,
        shape: &'static Shape,
        json: &JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
        // Every nested value is built through here, so the builder recurses as deep as the JSON
        // nests: when the stack runs low, the rest of the walk continues on a new segment
        // allocated on the heap (as rustc does for deep expressions), so a value of any depth
        // builds.
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            // SAFETY: forwarded contract.
            unsafe { self.shape_from_here(shape, json, dst, saved) }
        })
    }

    /// [`ValueBuilder::shape_from`] on the current stack.
    ///
    /// # Safety
    /// As for [`ValueBuilder::build_shape`].
    unsafe fn shape_from_here(
        &mut self,
        shape: &'static Shape,
        json: &JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
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
                JsonValue::String(s) => {
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

    fn expected(&self, shape: &Shape, found: &JsonValue) -> ValueError {
        self.expected_text(format!("`{}`", shape_text(shape)), found)
    }

    /// `expected` says what the value holds, code in backticks: "`u8`", "`Vec2` (an object of
    /// its fields)".
    fn expected_text(&self, expected: impl Into<String>, found: &JsonValue) -> ValueError {
        let found = match found {
            JsonValue::Number(n) => format!("the number {n}"),
            JsonValue::String(s) => format!("the string {s:?}"),
            JsonValue::Bool(b) => format!("`{b}`"),
            JsonValue::Null => "`null`".to_owned(),
            other => other.kind().to_owned(),
        };
        ValueError::Expected {
            path: self.path(),
            expected: expected.into(),
            found,
        }
    }
    fn default_panicked(&self, e: MigrateError) -> ValueError {
        let message = match e {
            MigrateError::Default { message, .. } => message,
            other => other.to_string(),
        };
        ValueError::Default {
            path: self.path(),
            message,
        }
    }
}

/// Builds a whole state from `resources` (each resource's type and its JSON, with the name the
/// JSON gives it for paths), types of the image `image` guards (their catalog's). On error, the
/// resources built so far are dropped.
pub fn build_state<'j>(
    builder: &mut ValueBuilder<'_>,
    image: &ImageRef,
    resources: impl IntoIterator<Item = (&'static TypeDesc, &'j str, &'j JsonValue)>,
) -> Result<State, ValueError> {
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
