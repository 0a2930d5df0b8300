//! Who keeps a plugin image mapped.
//!
//! Descriptors ([`crate::TypeDesc`], [`crate::plugin::FnDesc`]) and the glue and shims they point
//! to live in the image of the build that defined them. The types compiled into the host are
//! truly `'static`; a plugin's are valid only while its library stays mapped, and the host
//! unloads a library once nothing refers to it. An [`ImageRef`] is the keep-alive guard of one
//! image: every container of image pointers ([`crate::Catalog`], [`crate::Resource`],
//! [`crate::Plan`], the host's slots and handles) carries the guard of the images it points into,
//! so the image is unloaded exactly when the last of them is dropped.
//!
//! What these containers hand out is borrowed from them: [`crate::Catalog::get`],
//! [`crate::Resource::desc`], [`crate::State::descs`], the views' descriptors and shapes,
//! [`crate::plugin::Manifest::types`] and a [`crate::Plan`]'s types are bounded by the container
//! (or the view), so the compiler keeps them from outliving its guard. Inside the crates, a
//! container may store a raw `&'static` next to the [`ImageRef`] that keeps it valid (each such
//! field says so); `'static` is real only for the types compiled into the binary itself
//! ([`crate::plugin::Manifest::of_this_build`], [`crate::Catalog::from_descs`]).
//!
//! The descriptor types themselves have private fields and accessors bounded by `&self`
//! ([`crate::TypeDesc::name`], [`crate::FieldDesc::shape`], …; see
//! [`crate::descriptors::layout`]), and their glue is called through `unsafe fn` methods: nothing
//! read out of a borrowed descriptor outlives the borrow, so nothing outlives the guard. Clone
//! the container's [`ImageRef`] (or the container) to keep them longer, or copy them out
//! ([`crate::Schema`]). A catalog of a plugin's types is made with the `unsafe`
//! [`crate::Catalog::from_image`], whose caller vouches that the descriptors live in the image it
//! guards.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A shared guard of a loaded image (`None` for the code compiled into this binary, which is
/// never unloaded). Cloning it keeps the image mapped; dropping the last clone lets the owner
/// (the host's loader) unload it.
#[derive(Clone, Default)]
pub struct ImageRef(Option<Arc<dyn Any + Send + Sync>>);

impl ImageRef {
    /// The code of this binary: nothing to keep alive.
    pub const STATIC: ImageRef = ImageRef(None);

    /// A guard of a loaded image: whatever unloads the image when it is dropped (the host's
    /// `loader::Image`).
    pub fn new(image: Arc<dyn Any + Send + Sync>) -> ImageRef {
        ImageRef(Some(image))
    }

    /// Whether this guards a loaded image (not the code of this binary).
    pub fn is_loaded(&self) -> bool {
        self.0.is_some()
    }

    /// Whether both guard the same image (or both the code of this binary).
    pub fn same(&self, other: &ImageRef) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The guarded image, to downcast to the loader's own type.
    pub fn get(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.0.as_deref()
    }
}

impl fmt::Debug for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("ImageRef(static)"),
            Some(a) => write!(f, "ImageRef({:p})", Arc::as_ptr(a).cast::<()>()),
        }
    }
}

/// The distinct images of `refs`, in first-seen order (loaded ones only).
pub(crate) fn distinct<'a>(refs: impl IntoIterator<Item = &'a ImageRef>) -> Vec<ImageRef> {
    let mut out: Vec<ImageRef> = Vec::new();
    for r in refs {
        if r.is_loaded() && !out.iter().any(|o| o.same(r)) {
            out.push(r.clone());
        }
    }
    out
}
