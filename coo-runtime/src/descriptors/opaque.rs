//! Foreign field types that Coo cannot describe (`std::time::Duration`, a math crate's `Vec3`,
//! bitflags), marked `#[coo(opaque)]` on the field: described by their Rust type name
//! (`core::any::type_name`), size and alignment, with glue to drop them, show them (`Debug`),
//! write their `Default` (when they have one) and, with `#[coo(opaque, serde)]`, write and read
//! them as JSON (`Serialize` + `DeserializeOwned`, through `serde_json`; needs coo-runtime's
//! `serde` feature in the plugin).
//!
//! Migration moves an opaque value bitwise while its type name, size and alignment are all
//! unchanged ([`crate::migration::unchanged`]); any change is refused at plan
//! ([`crate::ProblemKind::OpaqueChanged`]) unless a migration hook on the owning type builds the
//! field (from its `Default`). Clone is not required: an opaque value is moved, never copied,
//! so under a hook (which reads the old value while the new one is built) only a value without
//! drop glue is copied; one with drop glue is rebuilt by the hook.

use core::fmt;

use crate::descriptors::layout::WriteFn;
use crate::plugin::ForeignString;

/// The glue of an opaque field type, compiled into the library that defined the field.
pub struct OpaqueGlue {
    pub(in crate::descriptors) debug: unsafe fn(*const u8) -> Result<ForeignString, ForeignString>,
    /// A function: whether the type has `Default` is found by autoref probing at the field.
    pub(in crate::descriptors) default: fn() -> Option<WriteFn>,
    pub(in crate::descriptors) json: Option<OpaqueJson>,
}

/// The JSON glue of `#[coo(opaque, serde)]`.
pub struct OpaqueJson {
    pub(in crate::descriptors) to_json:
        unsafe fn(*const u8) -> Result<ForeignString, ForeignString>,
    pub(in crate::descriptors) from_json:
        unsafe fn(dst: *mut u8, json: *const u8, len: usize) -> Result<(), ForeignString>,
}

impl OpaqueGlue {
    /// The value's `Debug` text; a panic in `Debug` is caught in the type's library and
    /// returned as `Err`.
    ///
    /// # Safety
    /// `p` points to a valid value of the type. (The code lives in the image of `self`.)
    pub unsafe fn debug(&self, p: *const u8) -> Result<String, String> {
        // SAFETY: the caller's contract.
        match unsafe { (self.debug)(p) } {
            Ok(text) => Ok(text.into_string()),
            Err(panic) => Err(panic.into_string()),
        }
    }

    /// The type's `Default` writer, if it has one.
    pub(crate) fn default_writer(&self) -> Option<WriteFn> {
        (self.default)()
    }

    /// Whether the type has `Default`.
    pub fn has_default(&self) -> bool {
        (self.default)().is_some()
    }

    /// The JSON glue, when the field is `#[coo(opaque, serde)]`.
    pub fn json(&self) -> Option<&OpaqueJson> {
        self.json.as_ref()
    }
}

impl OpaqueJson {
    /// The value as `serde_json` writes it; a panic or a serializer error is returned as `Err`.
    ///
    /// # Safety
    /// `p` points to a valid value of the type. (The code lives in the image of `self`.)
    pub unsafe fn to_json(&self, p: *const u8) -> Result<String, String> {
        // SAFETY: the caller's contract.
        match unsafe { (self.to_json)(p) } {
            Ok(text) => Ok(text.into_string()),
            Err(error) => Err(error.into_string()),
        }
    }

    /// Writes the value `json` describes to `dst`; a panic or a deserializer error is returned
    /// as `Err`, with nothing written.
    ///
    /// # Safety
    /// `dst` is valid for writes of the type and suitably aligned.
    pub unsafe fn from_json(&self, dst: *mut u8, json: &str) -> Result<(), String> {
        // SAFETY: the caller's contract; `json` is readable for its length.
        unsafe { (self.from_json)(dst, json.as_ptr(), json.len()) }
            .map_err(ForeignString::into_string)
    }
}

impl fmt::Debug for OpaqueGlue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpaqueGlue")
            .field("default", &self.has_default())
            .field("serde", &self.json.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OpaqueJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpaqueJson").finish_non_exhaustive()
    }
}

/// `Debug` glue of `F`, for [`OpaqueGlue`].
///
/// # Safety
/// `p` points to a valid `F`.
pub unsafe fn debug_glue<F: fmt::Debug>(p: *const u8) -> Result<ForeignString, ForeignString> {
    // SAFETY: the caller's contract.
    let value = unsafe { &*p.cast::<F>() };
    crate::__private::catch(|| format!("{value:?}"))
        .map(ForeignString::new)
        .map_err(ForeignString::new)
}

/// JSON glue of `F` (`#[coo(opaque, serde)]`).
#[cfg(feature = "serde")]
pub mod json {
    use crate::plugin::ForeignString;

    /// # Safety
    /// `p` points to a valid `F`.
    pub unsafe fn to_json<F: serde::Serialize>(
        p: *const u8,
    ) -> Result<ForeignString, ForeignString> {
        // SAFETY: the caller's contract.
        let value = unsafe { &*p.cast::<F>() };
        match crate::__private::catch(|| serde_json::to_string(value)) {
            Ok(Ok(text)) => Ok(ForeignString::new(text)),
            Ok(Err(error)) => Err(ForeignString::new(error.to_string())),
            Err(panic) => Err(ForeignString::new(panic)),
        }
    }

    /// # Safety
    /// `dst` is valid for writes of an `F`; `json[..len]` is readable UTF-8.
    pub unsafe fn from_json<F: serde::de::DeserializeOwned>(
        dst: *mut u8,
        json: *const u8,
        len: usize,
    ) -> Result<(), ForeignString> {
        // SAFETY: the caller's contract.
        let text =
            unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(json, len)) };
        match crate::__private::catch(|| serde_json::from_str::<F>(text)) {
            Ok(Ok(value)) => {
                // SAFETY: the caller's contract: `dst` is valid for writes of an `F`.
                unsafe { dst.cast::<F>().write(value) };
                Ok(())
            }
            Ok(Err(error)) => Err(ForeignString::new(error.to_string())),
            Err(panic) => Err(ForeignString::new(panic)),
        }
    }
}
