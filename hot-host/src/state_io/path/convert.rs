//! `convert`: a `Box<dyn Trait>` object changed to another impl's type through the conversion
//! that impl registered.

use coo_runtime::State;
use coo_runtime::descriptors::layout::{ShapeKind, shape_text};
use coo_runtime::storage::scratch::Scratch;

use super::{End, MoveIn, PathError, locate, parse, root};

/// Converts the `Box<dyn Trait>` object at `path` to the impl of type `to`, through the
/// conversion that impl registered (`#[coo_impl(from(..))]`: `From<&Old> for New`), never by
/// reinterpreting bytes: the new object is built completely first; only then is the old one
/// dropped and the new one moved into its place. On error nothing changed.
pub fn convert(state: &mut State, path: &str, to: &str) -> Result<(), PathError> {
    let path = parse(path)?;
    let name = root(state, &path)?.desc().name().to_owned();
    let resource = state.resource_mut(&name).expect("found by `root` above");
    let ptr = resource.as_mut_ptr();
    let place = locate(resource.desc(), ptr, &path, true)?;
    let shape = match place.end {
        // Inside a packed struct's field there are no objects (a `Box<dyn Trait>` has drop
        // glue), and no glue may see the unaligned place.
        End::Shape(shape) if place.variant.is_none() && !place.unaligned => shape,
        End::Shape(shape) => {
            return Err(PathError::NotAnObject {
                prefix: path,
                ty: shape_text(shape),
            });
        }
        End::Root => {
            return Err(PathError::NotAnObject {
                prefix: path,
                ty: resource.desc().name().to_owned(),
            });
        }
    };
    // A path that ends at an `Option` or `Box` around the object names the object.
    let (mut shape, mut dst) = (shape, place.ptr.cast_mut());
    loop {
        match shape.kind() {
            ShapeKind::Option { elem, glue } => {
                // SAFETY: `dst` is a valid option inside the resource, borrowed uniquely.
                let inner = unsafe { glue.get_mut(dst) };
                if inner.is_null() {
                    return Err(PathError::IsNone { prefix: path });
                }
                (shape, dst) = (elem.get(), inner);
            }
            ShapeKind::Box { elem, glue } => {
                // SAFETY: `dst` is a valid box inside the resource, borrowed uniquely.
                let inner = unsafe { glue.get_mut(dst) };
                (shape, dst) = (elem.get(), inner);
            }
            _ => break,
        }
    }
    let ShapeKind::Dyn(d) = shape.kind() else {
        return Err(PathError::NotAnObject {
            prefix: path,
            ty: shape_text(shape),
        });
    };
    let scratch = Scratch::for_shape(shape);
    // SAFETY: `dst` holds a valid `Box<dyn Trait>` of the shape (reached through descriptors
    // from the resource `state` borrows mutably); the scratch is fresh memory of its layout.
    unsafe { d.switch_into(dst, scratch.ptr(), to) }.map_err(|error| PathError::Convert {
        prefix: path,
        error,
    })?;
    // SAFETY: as for `set`: the old object is dropped in place and the new one, complete in
    // the scratch, moved in even if that drop panics.
    unsafe {
        let _move_in = MoveIn {
            src: scratch.ptr(),
            dst,
            size: shape.size(),
        };
        shape.drop(dst);
    }
    Ok(())
}
