//! Strings that cross between images: [`StrRef`] (C layout, read before anything else is
//! trusted) and [`ForeignString`] (an allocation freed by the image that made it).

/// A string with a C layout, readable before anything else is trusted.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct StrRef {
    pub ptr: *const u8,
    pub len: usize,
}

impl StrRef {
    pub const fn new(s: &'static str) -> StrRef {
        StrRef {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The string, lossily decoded.
    ///
    /// # Safety
    /// `ptr[..len]` is readable for `'a`.
    pub unsafe fn read<'a>(self) -> std::borrow::Cow<'a, str> {
        // SAFETY: the caller's contract.
        String::from_utf8_lossy(unsafe { core::slice::from_raw_parts(self.ptr, self.len) })
    }
}

/// A string handed from one image (the host or one plugin build) to another.
///
/// Every image has its own global allocator (a host may set `#[global_allocator]`), so memory
/// must be freed by the image that allocated it. A `ForeignString` keeps the allocation of the
/// image that made it together with that image's own function to free it: the receiver reads
/// it, copies it into its own memory ([`ForeignString::into_string`]) and the original is freed
/// by its owner when the `ForeignString` drops.
#[repr(C)]
#[derive(Debug)]
pub struct ForeignString {
    ptr: *mut u8,
    len: usize,
    cap: usize,
    free: unsafe extern "C" fn(ptr: *mut u8, len: usize, cap: usize),
}

/// Frees the parts of a `String` allocated by this image.
///
/// # Safety
/// `ptr`, `len` and `cap` are the parts of a `String` allocated by this image, not used again.
unsafe extern "C" fn free_string(ptr: *mut u8, len: usize, cap: usize) {
    // SAFETY: the caller's contract: the parts of a `String`'s bytes (a `Vec<u8>`) of this
    // image's allocator, which `ForeignString::new` took apart and nothing else owns.
    drop(unsafe { Vec::from_raw_parts(ptr, len, cap) })
}

impl ForeignString {
    /// Hands `s` over; it will be freed by this image, whichever image drops the result.
    pub fn new(s: String) -> ForeignString {
        // `Vec::as_mut_ptr`, not `str::as_mut_ptr` through `DerefMut`: a pointer valid for the
        // whole allocation, which `free_string` frees.
        let mut bytes = core::mem::ManuallyDrop::new(s.into_bytes());
        ForeignString {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
            // A non-generic function of this crate: the copy in the image running this code,
            // whose allocator allocated `s`.
            free: free_string,
        }
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: `ptr[..len]` are the bytes of the `String` taken apart in `new`, valid UTF-8,
        // owned by `self` and freed only when it drops.
        unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(self.ptr, self.len)) }
    }

    /// A copy in this image's memory; the original is freed by the image that allocated it.
    pub fn into_string(self) -> String {
        self.as_str().to_owned()
    }
}

impl Drop for ForeignString {
    fn drop(&mut self) {
        // SAFETY: the parts come from `new`, where `free` is the function of the image that
        // allocated them, and they are freed only here, once.
        unsafe { (self.free)(self.ptr, self.len, self.cap) }
    }
}

impl core::fmt::Display for ForeignString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
