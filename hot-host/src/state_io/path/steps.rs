//! The steps of a walk along a path that are not a struct's: a field looked up by name, an
//! element by index, a map's entry or a set's element by key, and the error of a step that
//! the value has no place for; the object a `Box<dyn Trait>` holds.

use coo_runtime::FieldView;
use coo_runtime::descriptors::layout::{DynDesc, FieldDesc, Shape, ShapeKind, shape_text};
use coo_runtime::migration::execute::{Seg, ValuePath};

use super::{PathError, parse_value};
use crate::state_io::json::JsonValue;
use crate::state_io::show;

pub(super) fn find_field<'f>(
    ty: &str,
    fields: &'f [FieldDesc],
    name: &str,
    prefix: &ValuePath,
) -> Result<&'f FieldDesc, PathError> {
    fields
        .iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| PathError::NoField {
            prefix: prefix.clone(),
            ty: ty.to_owned(),
            field: name.to_owned(),
            fields: fields.iter().map(|f| f.name().to_owned()).collect(),
        })
}

/// The entry of a collection that `step` names: element `i` of a `VecDeque`; the value of a
/// map, or the element of a set, whose key is written `[key]` as JSON (`["bolt"]`, `[3]`). A set's elements (and a map's keys) are the order and
/// hashing of their collection, so they are never reached to be written.
pub(super) fn entry<'d>(
    shape: &'d Shape,
    ptr: *const u8,
    step: &Seg,
    mutable: bool,
    prefix: &ValuePath,
) -> Result<(*const u8, &'d Shape), PathError> {
    let ShapeKind::Coll {
        kind,
        key,
        value,
        glue,
    } = &shape.kind()
    else {
        unreachable!("called for collections")
    };
    let mut addrs: Vec<*mut u8> = Vec::new();
    if mutable {
        if kind.is_keyed() && !kind.is_map() {
            return Err(cannot(
                prefix,
                &shape_text(shape),
                step,
                "is a set, whose elements cannot be changed in place (set the whole set)",
            ));
        }
        unsafe fn push(ctx: *mut (), key: *const u8, value: *mut u8) {
            // SAFETY: `ctx` is `addrs` below, borrowed for the call.
            let out = unsafe { &mut *ctx.cast::<Vec<*mut u8>>() };
            out.push(key.cast_mut());
            out.push(value);
        }
        // SAFETY: `ptr` is a valid collection, borrowed uniquely (the caller's `mutable`);
        // `push` takes `addrs` as its context and does not unwind.
        unsafe { glue.for_each_mut(ptr.cast_mut(), (&raw mut addrs).cast(), push) };
    } else {
        // SAFETY: `ptr` is a valid collection, borrowed for the walk.
        unsafe { coo_runtime::migration::execute::push_entries(glue, ptr, &mut addrs) };
    }
    let n = addrs.len() / 2;
    if !kind.is_keyed() {
        let Seg::Index(i) = step else {
            return Err(cannot(
                prefix,
                &shape_text(shape),
                step,
                "has elements, not keys (use `[i]`)",
            ));
        };
        if *i >= n {
            return Err(PathError::OutOfRange {
                prefix: prefix.clone(),
                index: *i,
                len: n,
            });
        }
        // A `VecDeque`'s element, writable through the value's address when `mutable`.
        let at = if mutable {
            addrs[2 * i + 1]
        } else {
            addrs[2 * i]
        };
        return Ok((at.cast_const(), key.get()));
    }
    let written = match step {
        Seg::Index(i) => i.to_string(),
        Seg::Key(k) => k.clone(),
        Seg::Name(_) => unreachable!("called for `[..]` steps"),
    };
    let wanted = parse_value(&written).map_err(|e| PathError::Syntax {
        path: format!("{prefix}[{written}]"),
        message: format!("the key is not JSON: {e}"),
    })?;
    for e in addrs.chunks(2) {
        // SAFETY: the key is a valid key of the collection, borrowed for the walk.
        let text = show::value_json(unsafe { FieldView::new(key.get(), e[0]) });
        if JsonValue::parse(&text).is_ok_and(|k| k == wanted) {
            return Ok(match value {
                Some(v) => (e[1].cast_const(), v.get()),
                None => (e[0].cast_const(), key.get()),
            });
        }
    }
    Err(PathError::NoKey {
        prefix: prefix.clone(),
        key: written,
        len: n,
    })
}

/// The address of element `i` of `len` elements of `elem` from `base`.
pub(super) fn element(
    base: *const u8,
    elem: &Shape,
    i: usize,
    len: usize,
    prefix: &ValuePath,
) -> Result<*const u8, PathError> {
    if i >= len {
        return Err(PathError::OutOfRange {
            prefix: prefix.clone(),
            index: i,
            len,
        });
    }
    // SAFETY: element `i < len` lies at `i * size` from the start of the elements.
    Ok(unsafe { base.add(i * elem.size()) })
}

pub(super) fn cannot(prefix: &ValuePath, ty: &str, step: &Seg, has: &str) -> PathError {
    PathError::Cannot {
        prefix: prefix.clone(),
        ty: ty.to_owned(),
        step: match step {
            Seg::Name(n) => format!(".{n}"),
            Seg::Index(i) => format!("[{i}]"),
            Seg::Key(k) => format!("[{k}]"),
        },
        has: has.to_owned(),
    }
}

/// The object in the `Box<dyn Trait>` at `ptr` (of the trait `d`): its address (taken through
/// the `_mut` glue when `mutable`) and its concrete type's shape.
pub(super) fn object<'d>(
    d: &'d DynDesc,
    ptr: *const u8,
    mutable: bool,
    prefix: &ValuePath,
) -> Result<(*const u8, &'d Shape), PathError> {
    let unknown = |reason: String| PathError::UnknownObject {
        prefix: prefix.clone(),
        trait_name: d.trait_name().to_owned(),
        reason,
    };
    // SAFETY: `ptr` is a valid `Box<dyn Trait>` of the shape's image (the caller reached it
    // through descriptors).
    let name = unsafe { d.concrete_name(ptr) }
        .map_err(|m| unknown(format!("asking its type panicked: {m}")))?;
    let imp = d.impl_named(name).ok_or_else(|| {
        unknown(format!(
            "its type `{name}` has no `#[coo_impl]` in the plugin"
        ))
    })?;
    // SAFETY: as above, borrowed uniquely when `mutable`.
    let inner = unsafe {
        if mutable {
            d.glue().get_mut(ptr.cast_mut()).cast_const()
        } else {
            d.glue().get(ptr)
        }
    };
    Ok((inner, imp.shape()))
}
