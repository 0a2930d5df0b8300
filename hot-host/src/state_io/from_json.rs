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
//!   layouts say it was saved as another number type ([`ValueBuilder::with_saved_types`]), it
//!   is read as that type and cast as a reload casts: an `f32` widens to an `f64` exactly, an
//!   `f64` `0.1` does not fit an `f32`. When nothing says (`set`), a float is rounded to the
//!   nearest value of the field's type. `null` in a float field is NaN (`state_json` prints NaN
//!   and the infinities as `null`, so an infinity comes back as NaN).
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
//! - a `#[coo(opaque, serde)]` field is read by its type's own serde, from the JSON text of its
//!   value; any other opaque field cannot be built from JSON (an error naming it and the
//!   attribute to add).
//! - a `Box<dyn Trait>` is `{"Type":value}`: the value of a type with a `#[coo_impl]` of the
//!   trait (found by name, then by the type's `rename_from`), boxed by that impl.
//!
//! Migration hooks (`#[coo(migrate = ...)]`) are not run: they take an old value, and there is
//! none, only JSON.
//!
//! Building is failure-safe: on any error everything built so far is dropped with the current
//! build's glue, exactly once, and nothing is left at the destination.
//!
//! Building does not recurse natively: each container being built (array, `Vec`, `Box`,
//! `Option`, pool, the fields of a struct or variant) waits as a frame on a work stack while its
//! parts are built (`ValueBuilder::run`), so a value nested a million levels deep builds on a
//! small thread's stack, and an error deep inside it unwinds through the frames, each dropping
//! what it built.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use coo_runtime::descriptors::layout::{
    EnumDesc, FieldDesc, FieldsStyle, PoolGlue, Prim, Shape, ShapeKind, TypeDesc, TypeKind,
    VecGlue, shape_text,
};
use coo_runtime::descriptors::matching::{
    self as matching, ItemKind, MatchConflict, Renames, Source, match_items,
};
use coo_runtime::descriptors::schema::{FieldLayout, LayoutKind, Schema, TyLayout, TypeLayout};
use coo_runtime::migration::casts::{InexactCast, Num, write_num};
use coo_runtime::migration::execute::{DefaultPanicked, Seg, ValuePath, write_default};
use coo_runtime::migration::plan::DefaultPlan;
use coo_runtime::storage::raw::drop_elements;
use coo_runtime::storage::scratch::Scratch;
use coo_runtime::{ImageRef, Resource, State};

use crate::state_io::json::JsonValue;

mod collections;
mod containers;
mod error;
mod fields;

use collections::{CollFrame, TupleFrame};
use containers::{ArrayFrame, MovedFrame, PoolFrame, VecFrame};
use fields::FieldsFrame;
mod number;
mod report;

pub(crate) use error::list;
pub use error::{ValueError, ValueErrorKind};
pub use report::{TypeValueReport, ValueReport};

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
        let shape = field.shape();
        if shape.needs_drop() {
            // SAFETY: the caller's contract: a valid value, dropped once.
            unsafe { shape.drop(dst) }
        }
    }
}

// --------------------------------------------------------------------------------------- builder

/// Builds values of the current types from [`JsonValue`]. One builder per load or `set`: it
/// keeps the path being built (for errors) and the [`ValueReport`].
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
    Vec<Option<DefaultPlan<'static>>>,
);

/// The saved layout of the value being built, when known: what a number's field type was.
type Saved<'v> = Option<&'v TyLayout>;

/// A value to build: its type, its JSON and where it goes.
struct Task<'j, 'v> {
    target: Target<'v>,
    json: &'j JsonValue,
    dst: *mut u8,
}

/// The type of a value to build, with its saved layout when known.
enum Target<'v> {
    Shape(&'static Shape, Saved<'v>),
    Type(&'static TypeDesc, Option<&'v TypeLayout>),
}

impl<'j, 'v> Task<'j, 'v> {
    fn of_shape(
        shape: &'static Shape,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Self {
        Task {
            target: Target::Shape(shape, saved),
            json,
            dst,
        }
    }

    fn of_type(
        desc: &'static TypeDesc,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Option<&'v TypeLayout>,
    ) -> Self {
        Task {
            target: Target::Type(desc, saved),
            json,
            dst,
        }
    }
}

/// What a frame asks of [`ValueBuilder::run`] when resumed (see [`ValueBuilder::resume`]): its
/// next part with the segment it adds to the path, or nothing more (its value is complete), or
/// an error after it dropped what it built.
type Resumed<'j, 'v> = Result<Option<(Task<'j, 'v>, Option<Seg>)>, ValueError>;

/// A container whose parts are being built: what [`ValueBuilder::run`] keeps on its work stack
/// instead of recursing. A frame holds raw addresses and no drop glue: what it built is dropped
/// only by [`ValueBuilder::resume`] on an error, or handed to the container when it completes.
enum Frame<'j, 'v> {
    Array(ArrayFrame<'j, 'v>),
    Vec(VecFrame<'j, 'v>),
    Moved(MovedFrame<'j, 'v>),
    Pool(Box<PoolFrame<'j, 'v>>),
    Fields(Box<FieldsFrame<'j, 'v>>),
    Tuple(TupleFrame<'j, 'v>),
    Coll(Box<CollFrame<'j, 'v>>),
}

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
    ///
    /// # Safety
    /// `image` guards the image `desc` lives in (or `desc` is compiled into this binary).
    pub unsafe fn build_resource(
        &mut self,
        desc: &TypeDesc,
        image: &ImageRef,
        json: &JsonValue,
    ) -> Result<Resource, ValueError> {
        // SAFETY: `'static` in name only: `desc` is borrowed for this call, the value is built
        // within it, and what outlives it (the resource) keeps `image`, which guards `desc`'s
        // image (the caller's contract).
        let desc: &'static TypeDesc = unsafe { &*core::ptr::from_ref(desc) };
        let saved = match (self.saved, self.path.first()) {
            (Some(schema), Some(Seg::Name(name))) => schema.get(name),
            _ => None,
        };
        let scratch = Scratch::for_type(desc);
        // SAFETY: the scratch is fresh memory with `desc`'s layout.
        unsafe { self.run(Task::of_type(desc, json, scratch.ptr(), saved))? };
        // SAFETY: the scratch holds a complete value of `desc`, which the resource takes over;
        // the scratch is only freed afterwards, never dropped. `image` guards `desc`'s image
        // (the caller's contract).
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
        unsafe { self.run(Task::of_type(desc, json, dst, None)) }
    }

    /// Builds a value of `shape` from `json` at `dst`. On error nothing is left at `dst`.
    ///
    /// # Safety
    /// `dst` is valid for writes of `shape`'s size and aligned to its alignment.
    pub unsafe fn build_shape(
        &mut self,
        shape: &Shape,
        json: &JsonValue,
        dst: *mut u8,
    ) -> Result<(), ValueError> {
        // SAFETY: `'static` in name only: `shape` is borrowed for this call, and the value is
        // built within it; the builder keeps nothing of it (its report holds owned text).
        let shape: &'static Shape = unsafe { &*core::ptr::from_ref(shape) };
        // SAFETY: forwarded contract.
        unsafe { self.run(Task::of_shape(shape, json, dst, None)) }
    }

    /// Builds the value `task` asks for, and every value nested in it, with a work stack instead
    /// of native recursion: a container being built waits on the stack as a [`Frame`] while its
    /// parts are built, so a value nested a million levels deep builds with a constant native
    /// stack. On error each waiting frame drops what it built, innermost first, and nothing is
    /// left at `task`'s destination.
    ///
    /// # Safety
    /// `task.dst` is valid for writes of the task's type and aligned to its alignment.
    unsafe fn run<'j>(&mut self, task: Task<'j, 'v>) -> Result<(), ValueError> {
        // Each frame, and whether it pushed a segment on the path for the part being built.
        let mut frames: Vec<(Frame<'j, 'v>, bool)> = Vec::new();
        let mut task = Some(task);
        loop {
            // Start the next value: a leaf is built at once, a container waits as a frame.
            let started = task.take().expect("a value to start");
            // SAFETY: every task's `dst` is valid for writes of its type: the caller's for the
            // first, and each frame's (see `Frame::resume`) for the parts it asks for.
            let mut last = match unsafe { self.start(started) } {
                Ok(Some(frame)) => {
                    frames.push((frame, false));
                    None
                }
                Ok(None) => Some(Ok(())),
                Err(e) => Some(Err(e)),
            };
            // Hand the result of the part just built to the frame that asked for it, which asks
            // for its next part or ends, handing its own result to the frame below.
            loop {
                let Some((frame, pushed)) = frames.last_mut() else {
                    return last.expect("a value was built or failed");
                };
                if core::mem::take(pushed) {
                    self.path.pop();
                }
                // SAFETY: the frame's destination and built parts are as it recorded them: a
                // frame is only resumed by this loop, with the result of the part it asked for.
                match unsafe { self.resume(frame, last.take()) } {
                    Ok(Some((next, seg))) => {
                        if let Some(seg) = seg {
                            self.path.push(seg);
                            *pushed = true;
                        }
                        task = Some(next);
                        break;
                    }
                    Ok(None) => {
                        frames.pop();
                        last = Some(Ok(()));
                    }
                    Err(e) => {
                        frames.pop();
                        last = Some(Err(e));
                    }
                }
            }
        }
    }

    /// Builds a leaf value of `task` (`Ok(None)`), or opens the frame of a container, which then
    /// asks for its parts.
    ///
    /// # Safety
    /// `task.dst` is valid for writes of the task's type.
    unsafe fn start<'j>(
        &mut self,
        task: Task<'j, 'v>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let Task { target, json, dst } = task;
        let (shape, saved) = match target {
            // SAFETY: forwarded contract.
            Target::Type(desc, saved) => return unsafe { self.open_type(desc, json, dst, saved) },
            Target::Shape(shape, saved) => (shape, saved),
        };
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
        match shape.kind() {
            ShapeKind::Prim(p) => {
                let saved = match saved {
                    Some(TyLayout::Prim(s)) => Some(*s),
                    _ => None,
                };
                // SAFETY: forwarded contract; `dst` has room for the primitive.
                unsafe { self.build_prim(*p, json, dst, saved)? };
                Ok(None)
            }
            ShapeKind::Opaque(glue) => {
                let error = |message: String| {
                    ValueError::at(
                        self.path(),
                        ValueErrorKind::Opaque {
                            ty: shape.type_name().to_owned(),
                            message,
                        },
                    )
                };
                let Some(serde) = glue.json() else {
                    return Err(error(
                        "Coo cannot build it from JSON; mark the field `#[coo(opaque, serde)]` \
                         (its type must implement `Serialize` and `Deserialize`)"
                            .to_owned(),
                    ));
                };
                // SAFETY: forwarded contract: `dst` is valid for writes of the shape's type.
                unsafe { serde.from_json(dst, &json.to_text()) }
                    .map_err(|e| error(format!("its serde refused the JSON: {e}")))?;
                Ok(None)
            }
            ShapeKind::String(glue) => match json {
                JsonValue::String(s) => {
                    // SAFETY: `s` is valid UTF-8 that lives through the call; `dst` is valid for
                    // writes of a `String`.
                    unsafe { glue.write_from(dst, s.as_ptr(), s.len()) };
                    Ok(None)
                }
                other => Err(self.expected(shape, other)),
            },
            ShapeKind::Array { elem, len } => {
                self.open_array(shape, elem.get(), *len, json, dst, saved_elem)
            }
            // SAFETY: forwarded contract.
            ShapeKind::Vec { elem, glue } => unsafe {
                self.open_vec(shape, elem.get(), glue, json, dst, saved_elem)
            },
            ShapeKind::Box { elem, glue } => Ok(Some(Frame::moved(
                elem.get(),
                json,
                saved_elem,
                dst,
                containers::MoveIn::Box(glue),
            ))),
            ShapeKind::Option { elem, glue } => {
                if *json == JsonValue::Null {
                    // SAFETY: `dst` is valid for writes of the option.
                    unsafe { glue.write_none(dst) };
                    Ok(None)
                } else {
                    Ok(Some(Frame::moved(
                        elem.get(),
                        json,
                        saved_elem,
                        dst,
                        containers::MoveIn::Some(glue),
                    )))
                }
            }
            ShapeKind::Pool { elem, glue } => {
                // SAFETY: forwarded contract.
                unsafe { self.open_pool(shape, elem.get(), glue, json, dst, saved_elem) }
            }
            ShapeKind::Handle { target } => {
                let (index, generation) = self.handle_parts(target.get(), json)?;
                // SAFETY: a `Handle<T>` is `repr(C)` `{ index: u32, generation: u32 }` (plus a
                // zero-sized marker), the layout of `[u32; 2]`; `dst` is valid for its writes.
                unsafe { dst.cast::<[u32; 2]>().write([index, generation]) };
                Ok(None)
            }
            ShapeKind::Tuple(elems) => self.open_tuple(shape, elems.get(), json, dst, saved),
            // SAFETY: forwarded contract.
            ShapeKind::Coll { .. } => unsafe { self.open_coll(shape, json, dst, saved) },
            ShapeKind::Named(desc) => {
                let saved = match (saved, self.saved) {
                    (Some(TyLayout::Named(name)), Some(schema)) => schema.get(name),
                    _ => None,
                };
                // SAFETY: forwarded contract.
                unsafe { self.open_type(desc.get(), json, dst, saved) }
            }
            ShapeKind::Dyn(d) => self.open_dyn(d, json, dst),
        }
    }

    /// Hands `frame` the result of the part it asked for last (`None` when it was just opened):
    /// on an error it drops what it built and returns the error; otherwise it asks for its next
    /// part, with the segment that part adds to the path (`Ok(Some(..))`), or completes its value
    /// (`Ok(None)`).
    ///
    /// # Safety
    /// `frame` was opened by [`ValueBuilder::start`] and is resumed once per part it asked for,
    /// with that part's result.
    unsafe fn resume<'j>(
        &mut self,
        frame: &mut Frame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        // SAFETY: forwarded contract, for each kind of frame.
        unsafe {
            match frame {
                Frame::Array(array) => self.resume_array(array, last),
                Frame::Vec(vec) => self.resume_vec(vec, last),
                Frame::Moved(moved) => Self::resume_moved(moved, last),
                Frame::Pool(pool) => self.resume_pool(pool, last),
                Frame::Fields(fields) => self.resume_fields(fields, last),
                Frame::Tuple(tuple) => self.resume_tuple(tuple, last),
                Frame::Coll(coll) => self.resume_coll(coll, last),
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
        ValueError::at(
            self.path(),
            ValueErrorKind::Expected {
                expected: expected.into(),
                found,
            },
        )
    }
    fn default_panicked(&self, panicked: DefaultPanicked) -> ValueError {
        ValueError::at(self.path(), ValueErrorKind::Default { panicked })
    }
}

/// Builds a whole state from `resources` (each resource's type and its JSON, with the name the
/// JSON gives it for paths), types of the image `image` guards (their catalog's). On error, the
/// resources built so far are dropped.
///
/// # Safety
/// `image` guards the image every type of `resources` lives in.
pub unsafe fn build_state<'d, 'j>(
    builder: &mut ValueBuilder<'_>,
    image: &ImageRef,
    resources: impl IntoIterator<Item = (&'d TypeDesc, &'j str, &'j JsonValue)>,
) -> Result<State, ValueError> {
    let mut built = Vec::new();
    for (desc, name, json) in resources {
        builder.at(ValuePath(vec![Seg::Name(name.to_owned())]));
        // On error, `built` drops its resources, each with its own type's glue.
        // SAFETY: `image` guards `desc`'s image (the caller's contract).
        built.push(unsafe { builder.build_resource(desc, image, json) }?);
    }
    let mut state = State::new();
    for resource in built {
        state.insert_resource(resource);
    }
    Ok(state)
}
