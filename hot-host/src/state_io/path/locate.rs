//! The walk of a path through a resource's value: [`locate`] follows each segment through
//! descriptors and glue to the place it names ([`Place`]).

use super::*;

/// Where a path ended.
pub(super) enum End<'d> {
    /// At the resource itself.
    Root,
    /// At a value of this shape.
    Shape(&'d Shape),
}

/// `'d`: the borrow of the resource whose descriptors the walk read.
pub(super) struct Place<'d> {
    pub(super) end: End<'d>,
    pub(super) ptr: *const u8,
    /// The variant the path ended with (`Game.phase.Running`), if it did.
    pub(super) variant: Option<String>,
    /// The place lies inside a field of a `#[repr(packed)]` struct, so `ptr` may be unaligned:
    /// it is read through [`FieldView`]s that know it and written as bytes (its value owns
    /// nothing: fields of packed structs have no drop glue).
    pub(super) unaligned: bool,
}

/// Where the walk is.
#[derive(Clone, Copy)]
enum At<'d> {
    /// At a value of a `CooType`; `shape` is `None` for the resource itself.
    Type {
        desc: &'d TypeDesc,
        shape: Option<&'d Shape>,
    },
    /// At a value of any other shape.
    Shape(&'d Shape),
}

/// Walks `path` from the resource's value at `ptr`, reading only through descriptors and glue.
/// With `mutable`, `ptr` comes from a unique borrow and every address is taken through the
/// glue's `_mut` functions, so the place it ends at may be written.
pub(super) fn locate<'d>(
    desc: &'d TypeDesc,
    ptr: *const u8,
    path: &ValuePath,
    mutable: bool,
) -> Result<Place<'d>, PathError> {
    let mut at = At::Type { desc, shape: None };
    let mut ptr = ptr;
    let mut prefix = ValuePath(vec![path.0[0].clone()]);
    let mut steps = path.0[1..].iter().peekable();
    let mut variant = None;
    // Inside a field of a packed struct: `ptr` may be unaligned (see `Place::unaligned`).
    let mut unaligned = false;
    while let Some(step) = steps.next() {
        // See through boxes and options before taking a step.
        while let At::Shape(shape) = at {
            match shape.kind() {
                ShapeKind::Box { elem, glue } => {
                    // SAFETY: `ptr` is a valid box (reached through descriptors), borrowed
                    // uniquely when `mutable`.
                    ptr = unsafe {
                        if mutable {
                            glue.get_mut(ptr.cast_mut()).cast_const()
                        } else {
                            glue.get(ptr)
                        }
                    };
                    at = at_shape(elem.get());
                }
                ShapeKind::Option { elem, glue } if unaligned => {
                    // Inside a field of a packed struct: the glue sees an aligned copy, and its
                    // payload (inline: such an option owns nothing) lies at the same offset here.
                    // SAFETY: `ptr` is a valid option (its bytes readable).
                    let copy = unsafe { Unaligned::read(shape, ptr) };
                    // SAFETY: the copy is an aligned valid option.
                    ptr = copy.translate(unsafe { glue.get(copy.as_ptr()) }, ptr);
                    if ptr.is_null() {
                        return Err(PathError::IsNone { prefix });
                    }
                    at = at_shape(elem.get());
                }
                ShapeKind::Option { elem, glue } => {
                    // SAFETY: `ptr` is a valid option, borrowed uniquely when `mutable`.
                    let inner = unsafe {
                        if mutable {
                            glue.get_mut(ptr.cast_mut()).cast_const()
                        } else {
                            glue.get(ptr)
                        }
                    };
                    if inner.is_null() {
                        return Err(PathError::IsNone { prefix });
                    }
                    ptr = inner;
                    at = at_shape(elem.get());
                }
                ShapeKind::Dyn(d) => {
                    let (inner, concrete) = object(d, ptr, mutable, &prefix)?;
                    ptr = inner;
                    at = at_shape(concrete);
                }
                _ => break,
            }
        }
        variant = None;
        match (at, step) {
            (At::Type { desc, .. }, Seg::Name(name)) => match desc.kind() {
                TypeKind::Struct(s) => {
                    let field = find_field(desc.name(), s.fields(), name, &prefix)?;
                    // SAFETY: the offset comes from `offset_of!` on this type.
                    ptr = unsafe { ptr.add(field.offset()) };
                    // A packed struct's field, and all inside it, may be unaligned.
                    unaligned |= s.packing().is_some();
                    at = at_shape(field.shape());
                }
                TypeKind::Enum(e) => {
                    let max = e
                        .variants()
                        .iter()
                        .map(|v| v.fields().len())
                        .max()
                        .unwrap_or(0);
                    let mut addrs = vec![core::ptr::null_mut::<u8>(); max];
                    // SAFETY: `ptr` is a valid value of this enum (borrowed uniquely when
                    // `mutable`) and `addrs` has room for the fields of its largest variant.
                    // Unaligned (in a packed struct's field), the glue reads an aligned copy,
                    // whose fields lie at the same offsets as the value's own.
                    let index = unsafe {
                        if unaligned {
                            let copy = Unaligned::read_type(desc, ptr);
                            let index = e.read(copy.as_ptr(), addrs.as_mut_ptr().cast());
                            for a in &mut addrs {
                                *a = copy.translate(*a, ptr).cast_mut();
                            }
                            index
                        } else if mutable {
                            e.read_mut(ptr.cast_mut(), addrs.as_mut_ptr())
                        } else {
                            e.read(ptr, addrs.as_mut_ptr().cast())
                        }
                    };
                    let current = &e.variants()[index];
                    if current.name() != name {
                        let variants: Vec<String> =
                            e.variants().iter().map(|v| v.name().to_owned()).collect();
                        return Err(if variants.contains(name) {
                            PathError::NotThatVariant {
                                prefix,
                                ty: desc.name().to_owned(),
                                wanted: name.clone(),
                                current: current.name().to_owned(),
                            }
                        } else {
                            PathError::NoVariant {
                                prefix,
                                ty: desc.name().to_owned(),
                                name: name.clone(),
                                current: current.name().to_owned(),
                                variants,
                            }
                        });
                    }
                    prefix.0.push(step.clone());
                    let Some(next) = steps.next() else {
                        variant = Some(name.clone());
                        break;
                    };
                    let Seg::Name(field_name) = next else {
                        return Err(cannot(
                            &prefix,
                            desc.name(),
                            next,
                            "is a variant with fields",
                        ));
                    };
                    let ty = format!("{}::{}", desc.name(), current.name());
                    let field = find_field(&ty, current.fields(), field_name, &prefix)?;
                    let i = current
                        .fields()
                        .iter()
                        .position(|f| core::ptr::eq(f, field))
                        .expect("found above");
                    ptr = addrs[i].cast_const();
                    at = at_shape(field.shape());
                    prefix.0.push(next.clone());
                    continue;
                }
            },
            (At::Type { desc, .. }, Seg::Index(_) | Seg::Key(_)) => {
                let has = match desc.kind() {
                    TypeKind::Struct(_) => "has fields, not elements (use `.field`)",
                    TypeKind::Enum(_) => "is an enum (use `.Variant.field`)",
                };
                return Err(cannot(&prefix, desc.name(), step, has));
            }
            (At::Shape(shape), Seg::Index(i)) => match shape.kind() {
                ShapeKind::Array { elem, len } => {
                    ptr = element(ptr, elem.get(), *i, *len, &prefix)?;
                    at = at_shape(elem.get());
                }
                ShapeKind::Vec { elem, glue } => {
                    // SAFETY: `ptr` is a valid vector, borrowed uniquely when `mutable`.
                    let (buf, len) = unsafe {
                        if mutable {
                            let (buf, len) = glue.parts_mut(ptr.cast_mut());
                            (buf.cast_const(), len)
                        } else {
                            glue.parts(ptr)
                        }
                    };
                    ptr = element(buf, elem.get(), *i, len, &prefix)?;
                    at = at_shape(elem.get());
                }
                ShapeKind::Pool { elem, glue } => {
                    // SAFETY: `ptr` is a valid pool.
                    let slots = unsafe { glue.slot_count(ptr) };
                    if *i >= slots {
                        return Err(PathError::NoSlot {
                            prefix,
                            index: *i,
                            slots,
                        });
                    }
                    // SAFETY: `i < slot_count`; the pool is borrowed uniquely when `mutable`.
                    let (generation, value) = unsafe {
                        if mutable {
                            let (generation, value) = glue.slot_mut(ptr.cast_mut(), *i);
                            (generation, value.cast_const())
                        } else {
                            glue.slot(ptr, *i)
                        }
                    };
                    if value.is_null() {
                        return Err(PathError::VacantSlot {
                            prefix,
                            index: *i,
                            generation,
                        });
                    }
                    ptr = value;
                    at = at_shape(elem.get());
                }
                ShapeKind::Coll { .. } => {
                    let (found, next) = entry(shape, ptr, step, mutable, &prefix)?;
                    ptr = found;
                    at = at_shape(next);
                }
                _ => return Err(cannot(&prefix, &shape_text(shape), step, "has no elements")),
            },
            (At::Shape(shape), Seg::Name(name)) if matches!(shape.kind(), ShapeKind::Tuple(_)) => {
                let ShapeKind::Tuple(elems) = &shape.kind() else {
                    unreachable!("matched above")
                };
                let Some(e) = name.parse::<usize>().ok().and_then(|i| elems.get().get(i)) else {
                    return Err(PathError::NoField {
                        prefix,
                        ty: shape_text(shape),
                        field: name.clone(),
                        fields: (0..elems.get().len()).map(|i| i.to_string()).collect(),
                    });
                };
                // SAFETY: the offset comes from `offset_of!` on this tuple.
                ptr = unsafe { ptr.add(e.offset()) };
                at = at_shape(e.shape());
            }
            (At::Shape(shape), Seg::Key(_)) if matches!(shape.kind(), ShapeKind::Coll { .. }) => {
                let (found, next) = entry(shape, ptr, step, mutable, &prefix)?;
                ptr = found;
                at = at_shape(next);
            }
            (At::Shape(shape), Seg::Key(_)) => {
                return Err(cannot(
                    &prefix,
                    &shape_text(shape),
                    step,
                    "has no keys (a map or set has)",
                ));
            }
            (At::Shape(shape), Seg::Name(_)) => {
                let has = match shape.kind() {
                    ShapeKind::Array { .. } | ShapeKind::Vec { .. } | ShapeKind::Pool { .. } => {
                        "has elements, not fields (use `[i]`)"
                    }
                    ShapeKind::Coll { kind, .. } if kind.is_keyed() => {
                        "has entries, not fields (use `[key]`: `[\"name\"]`, `[3]`)"
                    }
                    ShapeKind::Coll { .. } => "has elements, not fields (use `[i]`)",
                    _ => "has no fields",
                };
                return Err(cannot(&prefix, &shape_text(shape), step, has));
            }
        }
        prefix.0.push(step.clone());
    }
    Ok(Place {
        end: match at {
            At::Type { shape: None, .. } => End::Root,
            At::Type {
                shape: Some(shape), ..
            } => End::Shape(shape),
            At::Shape(shape) => End::Shape(shape),
        },
        ptr,
        variant,
        unaligned,
    })
}

fn at_shape<'d>(shape: &'d Shape) -> At<'d> {
    match shape.kind() {
        ShapeKind::Named(desc) => At::Type {
            desc: desc.get(),
            shape: Some(shape),
        },
        _ => At::Shape(shape),
    }
}
