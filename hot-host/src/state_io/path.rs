//! Paths into the live state, to print or change one value: `World.particles[2].pos.x`.
//!
//! # Syntax
//!
//! A path starts with a resource, by its type's stable name (`World`, `game::Score`), and goes on
//! with steps:
//!
//! - `.field`: a struct's field; tuple fields are `.0`, `.1`, … (a newtype's one field too:
//!   `Meters.0`);
//! - `.Variant`: an enum's variant, only while the value is in it (an error names the variant it
//!   is in otherwise), followed by `.field` for the variant's fields:
//!   `Game.phase.Running.speed`, `Game.mode.Moving.0`;
//! - `[i]`: element `i` of an array, `Vec` or `VecDeque`, or slot `i` of a pool (an error says
//!   when the slot is vacant);
//! - `[key]`: the value of a map's entry, or a set's element, by its key written as JSON
//!   (`Stock.items["bolt"].qty`, `Stock.spots[3]`).
//!   A set's elements and a map's keys cannot be `set` in place (the collection's order and
//!   hashing rest on them): set the whole map or set;
//! - tuple elements are `.0`, `.1`, …;
//! - `Option` and `Box` are transparent: a path that goes on past an `Option` goes into its
//!   payload (`World.target.x` when `target: Option<Vec2>` is `Some`; an error when it is
//!   `None`), and past a `Box` into the boxed value. A path that ends at an `Option` names the
//!   option itself, so `set World.target null` clears it and `set World.target {"x":1,"y":2}`
//!   fills it. (There is no `.Some` step: JSON has none either, an option being `null` or its
//!   value.)
//! - a `Box<dyn Trait>` object is transparent too: `World.vehicles[0].gear` is the field of the
//!   object's concrete type; a path that ends at the object names the box, so
//!   `set World.vehicles[0] {"Car":{"plate":"X"}}` replaces the object (of any `#[coo_impl]`
//!   type, built by its impl).
//!
//! # Setting
//!
//! [`set`] parses the value as JSON; a bare word that is not JSON (`Paused`, `ada`: it starts
//! with a letter or `_` and has no whitespace or JSON punctuation) is taken as a JSON string,
//! so `set Game.phase Paused` and `set Player.name ada` work unquoted. The value is built in
//! the shape [`crate::state_io::show::value_json`] prints, by the builder of [`crate::state_io::from_json`] in its
//! [`Mode::Exact`] mode: every field of a struct must be given by its current name, no other
//! members, arrays at full length; numbers must fit exactly (a float written with a fraction is
//! rounded to the field's float type). The new value is built completely in separate memory
//! first; only then is the old value dropped in place, with its type's drop glue, and the new
//! one moved in. A failure leaves the old value untouched.

use coo_runtime::descriptors::layout::{Shape, ShapeKind, TypeDesc, TypeKind, shape_text};
use coo_runtime::migration::execute::{Seg, ValuePath};
use coo_runtime::{FieldView, Resource, State};

use coo_runtime::storage::raw::Unaligned;
use coo_runtime::storage::scratch::Scratch;

use crate::state_io::from_json::{Mode, ValueBuilder, ValueError, list};
use crate::state_io::json::{JsonError, JsonValue};
use crate::state_io::show;

mod convert;
mod locate;
mod parse;
mod steps;

use locate::{End, locate};

pub use convert::convert;
pub use parse::parse;
use steps::{cannot, element, entry, find_field, object};

/// Why a path does not lead to a value, or a value could not be set there. Each message names
/// the prefix of the path that failed and what is there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("`{path}` is not a path: {message}")]
    Syntax { path: String, message: String },
    #[error("there is no resource `{name}`; the state has {}", list(.resources))]
    NoResource {
        name: String,
        resources: Vec<String>,
    },
    #[error(
        "`{prefix}` has no key {key} (it has {len} entries); keys are written as JSON: \
         `[\"name\"]` (or `[name]`), `[3]`"
    )]
    NoKey {
        prefix: ValuePath,
        key: String,
        len: usize,
    },
    #[error("`{prefix}` is a `{ty}`, which has no field `{field}`; its fields are {}", list(.fields))]
    NoField {
        prefix: ValuePath,
        ty: String,
        field: String,
        fields: Vec<String>,
    },
    #[error(
        "`{prefix}` is a `{ty}` in variant `{current}`, not `{wanted}`; \
         its fields are reached as `{prefix}.{current}.<field>`"
    )]
    NotThatVariant {
        prefix: ValuePath,
        ty: String,
        wanted: String,
        current: String,
    },
    #[error(
        "`{prefix}` is a `{ty}` in variant `{current}`; `{name}` is none of its variants ({}), \
         and a variant's fields are reached as `{prefix}.{current}.<field>`",
        list(.variants)
    )]
    NoVariant {
        prefix: ValuePath,
        ty: String,
        name: String,
        current: String,
        variants: Vec<String>,
    },
    #[error("`{prefix}` has {len} elements; index {index} is out of range")]
    OutOfRange {
        prefix: ValuePath,
        index: usize,
        len: usize,
    },
    #[error("`{prefix}` is a pool of {slots} slots; slot {index} is out of range")]
    NoSlot {
        prefix: ValuePath,
        index: usize,
        slots: usize,
    },
    #[error("slot {index} of the pool `{prefix}` is vacant (generation {generation})")]
    VacantSlot {
        prefix: ValuePath,
        index: usize,
        generation: u32,
    },
    #[error(
        "`{prefix}` is `None`, so there is nothing inside it; set the option itself with `{prefix}`"
    )]
    IsNone { prefix: ValuePath },
    /// A `Box<dyn Trait>` object could not be converted to another impl.
    #[error("`{prefix}` cannot be converted: {error}")]
    Convert {
        prefix: ValuePath,
        error: coo_runtime::descriptors::layout::SwitchError,
    },
    #[error(
        "`{prefix}` is a `{ty}`, not a `Box<dyn Trait>` object; `convert` changes an object's type"
    )]
    NotAnObject { prefix: ValuePath, ty: String },
    /// A `Box<dyn Trait>` object whose concrete type could not be learnt.
    #[error("the `dyn {trait_name}` object at `{prefix}` cannot be read: {reason}")]
    UnknownObject {
        prefix: ValuePath,
        trait_name: String,
        reason: String,
    },
    #[error("`{prefix}` is a `{ty}`, which {has}; `{step}` does not apply")]
    Cannot {
        prefix: ValuePath,
        ty: String,
        step: String,
        has: String,
    },
    #[error("the value is not JSON (quote a string with spaces or punctuation): {0}")]
    Json(#[from] JsonError),
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// The value a path leads to: a whole resource, or a value inside one. Print it with
/// [`Found::json`] or [`Found::pretty`].
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    Resource(&'a Resource),
    Value(FieldView<'a>),
}

impl Found<'_> {
    /// One line of JSON ([`show::resource_json`], [`show::value_json`]).
    pub fn json(&self) -> String {
        match self {
            Found::Resource(r) => show::resource_json(r),
            Found::Value(v) => show::value_json(*v),
        }
    }

    /// The `{:#?}`-like rendering ([`show::resource_pretty`], [`show::value_pretty`]).
    pub fn pretty(&self) -> String {
        match self {
            Found::Resource(r) => show::resource_pretty(r),
            Found::Value(v) => show::value_pretty(*v),
        }
    }

    /// The value's type: `World`, `Vec<Particle>`, `f32`.
    pub fn type_text(&self) -> String {
        match self {
            Found::Resource(r) => r.desc().name().to_owned(),
            Found::Value(v) => shape_text(v.shape()),
        }
    }
}

/// The value at `path` in `state`.
pub fn get<'a>(state: &'a State, path: &str) -> Result<Found<'a>, PathError> {
    let path = parse(path)?;
    let resource = root(state, &path)?;
    let place = locate(resource.desc(), resource.as_ptr(), &path, false)?;
    Ok(match place.end {
        End::Root => Found::Resource(resource),
        End::Shape(shape) => {
            // SAFETY: `place` was reached from the resource through its descriptors, so it is a
            // valid value of `shape` inside the state, which is borrowed for `'a`; `unaligned`
            // is set when it lies inside a field of a packed struct.
            Found::Value(unsafe { FieldView::new_in(shape, place.ptr, place.unaligned) })
        }
    })
}

/// Parses `value` as JSON, taking a bare word (`Paused`, `ada`) that is not JSON as a string.
pub fn parse_value(value: &str) -> Result<JsonValue, JsonError> {
    let text = value.trim();
    JsonValue::parse(text).or_else(|e| {
        let mut chars = text.chars();
        let bare = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| !c.is_whitespace() && !"\"{}[],:".contains(c));
        if bare {
            Ok(JsonValue::String(text.to_owned()))
        } else {
            Err(e)
        }
    })
}

/// Sets the value at `path` to `value` (JSON, see the [module documentation](self)). On error
/// the state is unchanged.
pub fn set(state: &mut State, path: &str, value: &str) -> Result<(), PathError> {
    let path = parse(path)?;
    let json = parse_value(value)?;
    let name = root(state, &path)?.desc().name().to_owned();
    let resource = state.resource_mut(&name).expect("found by `root` above");
    // Walked from the mutable pointer, so the place found can be written.
    let ptr = resource.as_mut_ptr();
    let desc = resource.desc();
    let place = locate(desc, ptr, &path, true)?;
    // A path that ends at a variant (`Game.phase.Running`) sets the enum to that variant with
    // the given fields.
    let wrapped;
    let json = match &place.variant {
        Some(name) => {
            wrapped = JsonValue::Object(vec![(name.clone(), json)]);
            &wrapped
        }
        None => &json,
    };
    let mut builder = ValueBuilder::new(Mode::Exact);
    let mut at = path.clone();
    if place.variant.is_some() {
        // The wrapped JSON names the variant itself.
        at.0.pop();
    }
    builder.at(at);
    match place.end {
        End::Root => {
            let image = resource.image().clone();
            // SAFETY: `image` is the guard of the resource `desc` was read from.
            let new = unsafe { builder.build_resource(desc, &image, json) }?;
            // The old resource is dropped here, with its type's glue; the new one is in place
            // even if that drop panics.
            drop(state.insert_resource(new));
        }
        End::Shape(shape) => {
            let scratch = Scratch::for_shape(shape);
            // SAFETY: the scratch is fresh memory with the shape's layout.
            unsafe { builder.build_shape(shape, json, scratch.ptr())? };
            let dst = place.ptr.cast_mut();
            if place.unaligned {
                assert!(!shape.needs_drop(), "fields of packed structs own nothing");
                // SAFETY: `dst` holds a value of `shape` inside a field of a packed struct in
                // the resource, which `state` borrows mutably: the old value owns nothing, so
                // the new one's bytes replace it (copied bytewise, unaligned).
                unsafe { core::ptr::copy_nonoverlapping(scratch.ptr(), dst, shape.size()) };
                return Ok(());
            }
            // SAFETY: `dst` holds a valid value of `shape` inside the resource, which `state`
            // borrows mutably, and nothing else refers to it (the view pointers that reached it
            // are gone). As the migration's commit does, it is written through the pointer the
            // glue gave, which addresses the value's own memory. The guard moves the new value
            // in once the old one is dropped, also if its drop panics, so the place always holds
            // exactly one valid value.
            unsafe {
                let _move_in = MoveIn {
                    src: scratch.ptr(),
                    dst,
                    size: shape.size(),
                };
                shape.drop(dst);
            }
        }
    }
    Ok(())
}

/// Moves `size` bytes from `src` to `dst` when dropped.
struct MoveIn {
    src: *const u8,
    dst: *mut u8,
    size: usize,
}

impl Drop for MoveIn {
    fn drop(&mut self) {
        // SAFETY: built by `set` with a complete new value at `src` and the place it goes to at
        // `dst`, whose old value was just dropped; they do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(self.src, self.dst, self.size) }
    }
}

fn root<'s>(state: &'s State, path: &ValuePath) -> Result<&'s Resource, PathError> {
    let Some(Seg::Name(name)) = path.0.first() else {
        unreachable!("`parse` always gives a resource name first")
    };
    state.resource(name).ok_or_else(|| PathError::NoResource {
        name: name.clone(),
        resources: state
            .resources()
            .map(|r| r.desc().name().to_owned())
            .collect(),
    })
}
