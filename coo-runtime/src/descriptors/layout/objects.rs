//! Trait objects' descriptors: a `Box<dyn Trait>` field's [`DynDesc`] (the trait, and the glue
//! of the image that owns it), each `#[coo_impl]` of it ([`ImplDesc`]: the concrete type and the
//! glue that boxes a value of it behind this image's vtable), and the conversions registered for
//! switching a live object from one impl to another ([`SwitchDesc`]).
//!
//! As every descriptor, they live in the image that defined them: accessors borrow them.

use core::fmt;

use crate::descriptors::layout::TypeDesc;
use crate::descriptors::layout::glue::{DynGlue, ImplGlue, SwitchGlue};
use crate::descriptors::layout::shape::{Shape, ShapeLink, TypeLink};

/// The trait of a `Box<dyn Trait>` field ([`crate::descriptors::layout::ShapeKind::Dyn`]).
pub struct DynDesc {
    /// The trait's stable name (its identifier): an impl of the new image continues an old one
    /// when both are of traits of this name.
    pub(in crate::descriptors::layout) trait_name: &'static str,
    pub(in crate::descriptors::layout) glue: DynGlue,
}

impl DynDesc {
    /// The trait's name: `Vehicle`.
    pub fn trait_name(&self) -> &str {
        self.trait_name
    }

    /// The glue of the image that owns the trait.
    pub fn glue(&self) -> &DynGlue {
        &self.glue
    }

    /// Every impl of the trait registered in the trait's image (`#[coo_impl]`), borrowed from
    /// the descriptor.
    pub fn impls(&self) -> Vec<&ImplDesc> {
        unsafe fn push(ctx: *mut (), imp: *const ImplDesc) {
            // SAFETY: `ctx` is the vector below, `imp` a descriptor of the same image.
            unsafe { (*ctx.cast::<Vec<*const ImplDesc>>()).push(imp) }
        }
        let mut out: Vec<*const ImplDesc> = Vec::new();
        // SAFETY: `push` does not unwind (pushing a pointer; an allocation failure aborts).
        unsafe { self.glue.impls((&raw mut out).cast(), push) };
        // SAFETY: the impls live in the image of `self`, which the returned borrows are bounded
        // by.
        out.into_iter().map(|p| unsafe { &*p }).collect()
    }

    /// The impl for the concrete type named `name`, if the image registered one.
    pub fn impl_named(&self, name: &str) -> Option<&ImplDesc> {
        self.impls().into_iter().find(|i| i.type_name() == name)
    }

    /// The stable name of the concrete type of the object in the box at `p` (asked of the
    /// image, a panic caught there).
    ///
    /// # Safety
    /// `p` points to a valid `Box<dyn Trait>` of this trait, of this image.
    pub unsafe fn concrete_name(&self, p: *const u8) -> Result<&str, String> {
        // SAFETY: the caller's contract.
        let (ptr, len) = unsafe { self.glue.concrete(p) }.map_err(|m| m.into_string())?;
        // SAFETY: the glue returns the bytes of a type's stable name (a `&'static str` of the
        // image: valid UTF-8), which live as long as the image `self` borrows.
        Ok(unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len)) })
    }
}

impl fmt::Debug for DynDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dyn {}", self.trait_name)
    }
}

/// One `#[coo_impl] impl Trait for Concrete`: the concrete type and how a value of it is boxed
/// behind the image's vtable.
pub struct ImplDesc {
    /// `core::any::type_name` of `dyn Trait`: which trait of the image this impl is of.
    pub(in crate::descriptors::layout) trait_path: fn() -> &'static str,
    pub(in crate::descriptors::layout) ty: TypeLink,
    pub(in crate::descriptors::layout) shape: ShapeLink,
    pub(in crate::descriptors::layout) glue: ImplGlue,
    pub(in crate::descriptors::layout) switches: &'static [SwitchDesc],
}

impl ImplDesc {
    /// The Rust path of the trait object type this impl is of (`dyn my_plugin::Vehicle`).
    pub fn trait_path(&self) -> &str {
        (self.trait_path)()
    }

    /// The concrete type.
    pub fn ty(&self) -> &TypeDesc {
        self.ty.get()
    }

    /// The concrete type's stable name.
    pub fn type_name(&self) -> &str {
        self.ty.get().name()
    }

    /// The concrete type's shape (a [`crate::descriptors::layout::ShapeKind::Named`]).
    pub fn shape(&self) -> &Shape {
        self.shape.get()
    }

    pub fn glue(&self) -> &ImplGlue {
        &self.glue
    }

    /// The conversions into this impl's type (`#[coo_impl(from(Source))]`).
    pub fn switches(&self) -> &[SwitchDesc] {
        self.switches
    }
}

impl fmt::Debug for ImplDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "impl {} for {}", self.trait_path(), self.type_name())
    }
}

/// A conversion into an impl's type from another impl's (`From<&Source>`).
pub struct SwitchDesc {
    pub(in crate::descriptors::layout) from: TypeLink,
    pub(in crate::descriptors::layout) glue: SwitchGlue,
}

impl SwitchDesc {
    /// The source type's stable name.
    pub fn from_name(&self) -> &str {
        self.from.get().name()
    }

    pub fn glue(&self) -> &SwitchGlue {
        &self.glue
    }
}

impl fmt::Debug for SwitchDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "from {}", self.from_name())
    }
}

/// Why a live object could not be switched to another impl ([`DynDesc::switch_into`]). Nothing
/// was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    #[error("asking the `dyn {trait_name}` object for its type panicked: {message}")]
    TypeUnknown { trait_name: String, message: String },
    #[error(
        "`{to}` has no `#[coo_impl]` of `{trait_name}`; the types that do are {}",
        crate::descriptors::layout::objects::names(.impls)
    )]
    NoImpl {
        trait_name: String,
        to: String,
        impls: Vec<String>,
    },
    #[error(
        "the object is a `{from}`, and `{to}` has no conversion from it; write \
         `impl From<&{from}> for {to}` and mark its `{trait_name}` impl \
         `#[coo_impl(from({from}))]`"
    )]
    NoConversion {
        trait_name: String,
        from: String,
        to: String,
    },
    #[error("converting the `{from}` into a `{to}` panicked: {message}")]
    Panicked {
        from: String,
        to: String,
        message: String,
    },
}

fn names(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl DynDesc {
    /// Writes to `dst` a new object of the impl of type `to`, converted from the object in the
    /// box at `src` by the `From` that impl registered (`#[coo_impl(from(..))]`), never by
    /// reinterpreting its bytes. The object at `src` is only read: the caller drops it once the
    /// new one is written. On error nothing was written.
    ///
    /// # Safety
    /// `src` points to a valid `Box<dyn Trait>` of this trait and image; `dst` is valid for
    /// writes of one and suitably aligned.
    pub unsafe fn switch_into(
        &self,
        src: *const u8,
        dst: *mut u8,
        to: &str,
    ) -> Result<(), SwitchError> {
        // SAFETY: the caller's contract.
        let from =
            unsafe { self.concrete_name(src) }.map_err(|message| SwitchError::TypeUnknown {
                trait_name: self.trait_name.to_owned(),
                message,
            })?;
        let impls = self.impls();
        let Some(target) = impls.iter().find(|i| i.type_name() == to) else {
            return Err(SwitchError::NoImpl {
                trait_name: self.trait_name.to_owned(),
                to: to.to_owned(),
                impls: {
                    let mut names: Vec<String> =
                        impls.iter().map(|i| i.type_name().to_owned()).collect();
                    names.sort();
                    names
                },
            });
        };
        let Some(switch) = target.switches().iter().find(|s| s.from_name() == from) else {
            return Err(SwitchError::NoConversion {
                trait_name: self.trait_name.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            });
        };
        // SAFETY: the object at `src` is of the switch's source type (asked above); `dst` is
        // the caller's.
        unsafe { switch.glue().convert(dst, src) }.map_err(|message| SwitchError::Panicked {
            from: from.to_owned(),
            to: to.to_owned(),
            message: message.into_string(),
        })
    }
}
