//! Glue: the functions of the build that defined a type which read, build and drop its values.
//!
//! Every glue function lives in the image of the build that defined the type, so the pointers
//! are private and called through `unsafe fn` methods on `&self`: their safety contract is the
//! function's own, and the image is alive because the caller borrows the glue (see
//! [`crate::descriptors::layout`]).

use core::fmt;

use crate::plugin::ForeignString;
use crate::storage::view::ValueView;

/// Writes a fresh value into uninitialized, suitably aligned memory. Runs user code (a
/// `#[coo(default = ...)]` expression or a `Default` impl); a panic in it is caught inside the
/// library that owns the code and returned as `Err(message)`, with nothing written. The message
/// is a [`ForeignString`]: memory of the library, which the caller copies and lets it free.
pub type WriteFn = unsafe fn(dst: *mut u8) -> Result<(), ForeignString>;

/// A migration hook: receives a read-only view of the old value and the new value, already built
/// by the automatic mapping. A panic is caught in the owning library and returned as `Err`, as
/// is the hook's own error (rendered there); the message is a [`ForeignString`], as for
/// [`WriteFn`].
pub type HookFn = unsafe fn(old: &ValueView<'_>, new: *mut u8) -> Result<(), ForeignString>;

/// Glue functions of a `CooType`, compiled into the library that defined it.
pub struct TypeGlue {
    pub(in crate::descriptors::layout) drop: unsafe fn(*mut u8),
    /// A function, because whether a type implements `Default` is found out by autoref probing,
    /// which constant evaluation cannot do.
    pub(in crate::descriptors::layout) default: fn() -> Option<WriteFn>,
    pub(in crate::descriptors::layout) hook: Option<HookFn>,
}

impl TypeGlue {
    /// Drops the value at `p` in place.
    ///
    /// # Safety
    /// `p` points to a valid, suitably aligned value of the type that is not used again.
    pub unsafe fn drop(&self, p: *mut u8) {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        unsafe { (self.drop)(p) }
    }

    /// Whether the type implements `Default`.
    pub fn has_default(&self) -> bool {
        (self.default)().is_some()
    }

    /// Writes the type's `Default` to `dst` (`None` when it has none); a panic is caught in the
    /// type's library and returned as `Err`.
    ///
    /// # Safety
    /// [`WriteFn`]'s contract: `dst` is valid for writes of the type and suitably aligned.
    pub unsafe fn write_default(&self, dst: *mut u8) -> Option<Result<(), ForeignString>> {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        (self.default)().map(|write| unsafe { write(dst) })
    }

    /// The raw `Default` writer, for the crate's plans, which keep it next to the guard of its
    /// image.
    pub(crate) fn default_writer(&self) -> Option<WriteFn> {
        (self.default)()
    }

    /// Whether the type has a migration hook `#[coo(migrate = f)]`.
    pub fn has_hook(&self) -> bool {
        self.hook.is_some()
    }

    /// Runs the migration hook `#[coo(migrate = f)]` (`None` when there is none): `old` is the
    /// old value, `new` the new one built by the automatic mapping.
    ///
    /// # Safety
    /// [`HookFn`]'s contract: `new` points to a valid value of the type that nothing else
    /// refers to meanwhile.
    pub unsafe fn run_hook(
        &self,
        old: &ValueView<'_>,
        new: *mut u8,
    ) -> Option<Result<(), ForeignString>> {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        self.hook.map(|hook| unsafe { hook(old, new) })
    }

    /// The raw hook, for the crate's plans, which keep it next to the guard of its image.
    pub(crate) fn hook_fn(&self) -> Option<HookFn> {
        self.hook
    }
}

impl fmt::Debug for TypeGlue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeGlue")
            .field("default", &self.has_default())
            .field("hook", &self.has_hook())
            .finish_non_exhaustive()
    }
}

/// Declares a glue struct whose private function pointers are called through `unsafe fn`
/// methods of the same names.
macro_rules! glue {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(
                $(#[$fmeta:meta])*
                fn $field:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(pub(in crate::descriptors::layout) $field: unsafe fn($($ty),*) $(-> $ret)?,)*
        }

        impl $name {
            $(
                $(#[$fmeta])*
                ///
                /// # Safety
                /// The documented contract above; the value pointers point to values of the
                /// type this glue belongs to. (The code is mapped: it lives in the image of
                /// `self`, which the caller borrows.)
                pub unsafe fn $field(&self, $($arg: $ty),*) $(-> $ret)? {
                    // SAFETY: the caller's contract; the code lives in the image of `self`.
                    unsafe { (self.$field)($($arg),*) }
                }
            )*
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

glue! {
    /// Glue of `String`.
    StringGlue {
        /// The string's bytes (valid UTF-8) of the valid `String` at `p`.
        fn as_str(p: *const u8) -> (*const u8, usize);
        /// Writes a new `String` holding a copy of the UTF-8 bytes `ptr[..len]` (readable) to
        /// `dst` (valid for writes of a `String`).
        fn write_from(dst: *mut u8, ptr: *const u8, len: usize);
    }
}

glue! {
    /// Glue of `Vec<T>`.
    VecGlue {
        /// Element pointer and length of the valid vector at `p`.
        fn parts(p: *const u8) -> (*const u8, usize);
        /// As `parts`, with an element pointer through which elements may be written or
        /// dropped (nothing else refers to the vector meanwhile).
        fn parts_mut(p: *mut u8) -> (*mut u8, usize);
        /// Writes an empty vector with room for `cap` elements to `dst` (valid for writes of a
        /// vector) and returns its buffer.
        fn write_with_capacity(dst: *mut u8, cap: usize) -> *mut u8;
        /// Sets the length of the vector at `dst` (`len` at most its capacity, elements up to
        /// it initialized).
        fn set_len(dst: *mut u8, len: usize);
        /// The capacity of the valid vector at `p`.
        fn capacity(p: *const u8) -> usize;
        /// Resizes the heap block `buf` of `old_bytes` bytes, allocated with the element type's
        /// alignment by the global allocator every image of the process shares (see the
        /// loader's allocator check), to `new_bytes` bytes (both non-zero), keeping its first
        /// `min(old_bytes, new_bytes)` bytes, and returns the block's new address (`buf` is no
        /// longer valid). Aborts when the allocator fails, as `Vec` does.
        fn realloc(buf: *mut u8, old_bytes: usize, new_bytes: usize) -> *mut u8;
        /// Writes to `dst` (valid for writes of a vector) a vector of length and capacity `len`
        /// whose buffer is `buf`: a block of `len` elements' bytes allocated with the element
        /// type's alignment by that shared allocator, holding `len` valid elements, which the
        /// vector now owns.
        fn write_raw(dst: *mut u8, buf: *mut u8, len: usize);
    }
}

glue! {
    /// Glue of `Box<T>`.
    BoxGlue {
        /// The address of the boxed value of the valid box at `p`.
        fn get(p: *const u8) -> *const u8;
        /// The address of the boxed value, for writing or dropping it (nothing else refers to
        /// the box meanwhile).
        fn get_mut(p: *mut u8) -> *mut u8;
        /// Writes a new box to `dst` (valid for writes of a box), moving the valid value out of
        /// `src` (which the caller gives up).
        fn write_from(dst: *mut u8, src: *mut u8);
        /// Frees the allocation of the valid box at `p` without dropping the value in it (which
        /// was moved out); the box is not used again.
        fn free(p: *mut u8);
    }
}

glue! {
    /// Glue of `Option<T>`.
    OptionGlue {
        /// The address of the payload of the valid option at `p`, or null for `None`.
        fn get(p: *const u8) -> *const u8;
        /// The address of the payload for writing or dropping it, or null for `None` (nothing
        /// else refers to the option meanwhile).
        fn get_mut(p: *mut u8) -> *mut u8;
        /// Writes `None` to `dst` (valid for writes of an option).
        fn write_none(dst: *mut u8);
        /// Writes `Some` to `dst` (valid for writes of an option), moving the valid payload out
        /// of `src` (which the caller gives up).
        fn write_some(dst: *mut u8, src: *mut u8);
    }
}

glue! {
    /// Glue of [`crate::Pool<T>`].
    PoolGlue {
        /// Number of slots, occupied or not, of the valid pool at `p`.
        fn slot_count(p: *const u8) -> usize;
        /// Generation of slot `i` (below `slot_count`) and the address of its value (null when
        /// the slot is vacant).
        fn slot(p: *const u8, i: usize) -> (u32, *const u8);
        /// As `slot`, with an address through which the value may be written or dropped
        /// (nothing else refers to the pool meanwhile).
        fn slot_mut(p: *mut u8, i: usize) -> (u32, *mut u8);
        /// Writes a pool of `n` vacant slots to `dst` (valid for writes of a pool).
        fn write_vacant(dst: *mut u8, n: usize);
        /// Sets slot `i` of the pool at `dst` to `generation`, moving the valid value out of
        /// `src` when it is not null (the slot stays vacant otherwise). Call once per slot, in
        /// order.
        fn set_slot(dst: *mut u8, i: usize, generation: u32, src: *mut u8);
        /// Frees the storage of the valid pool at `p` without dropping its values (which were
        /// moved out); the pool is not used again.
        fn free(p: *mut u8);
    }
}

/// Called by [`CollGlue::for_each`] with each entry: the element of a `VecDeque` or set, or the
/// key and the value of a map (`value` is null otherwise).
pub type EntryFn = unsafe fn(ctx: *mut (), key: *const u8, value: *const u8);

/// Called by [`CollGlue::for_each_mut`]: as [`EntryFn`], with an address of the value (or of a
/// `VecDeque`'s element, then also `key`) that may be written.
pub type EntryFnMut = unsafe fn(ctx: *mut (), key: *const u8, value: *mut u8);

/// Called by [`CollGlue::drain`] with each entry, which it owns for the call: it may give up
/// (drop) parts of the key and the value; whatever it leaves is forgotten afterwards, never
/// dropped.
pub type EntryFnOwned = unsafe fn(ctx: *mut (), key: *mut u8, value: *mut u8);

glue! {
    /// Glue of the standard collections ([`crate::descriptors::layout::ShapeKind::Coll`]),
    /// compiled into the image that owns the collection type: a collection is read, built and
    /// freed by its own image's code (and a map's keys are hashed and ordered by it).
    CollGlue {
        /// The number of entries of the collection at `coll`.
        fn len(coll: *const u8) -> usize;
        /// Calls `f(ctx, key, value)` with every entry, in iteration order. `f` must not unwind.
        fn for_each(coll: *const u8, ctx: *mut (), f: EntryFn);
        /// As `for_each`, on a collection borrowed uniquely: a map's values and a `VecDeque`'s
        /// elements may be written through the addresses given (never a key, nor a set's
        /// element: the collection's order and hashing rest on them).
        fn for_each_mut(coll: *mut u8, ctx: *mut (), f: EntryFnMut);
        /// Writes an empty collection with room for `cap` entries (where the kind has capacity).
        fn write_with_capacity(dst: *mut u8, cap: usize);
        /// Moves the entry at `key` (and `value`, for maps) into the collection at `dst` (at the
        /// end of a `VecDeque`) and returns `true`; for a map or set that already holds an equal
        /// key it drops the entry and returns `false`. Either way the entry at `key` and `value`
        /// was moved out. A panic (in `Hash`, `Eq`, `Ord` or `Drop`) is caught in the image and
        /// returned.
        fn insert(dst: *mut u8, key: *mut u8, value: *mut u8) -> Result<bool, ForeignString>;
        /// Moves the entry at `key` (and `value`, for maps) into the collection at `dst` (at
        /// the end of a `VecDeque`) and returns `true`, unless a map or set already holds an
        /// equal key: then it returns `false` and the entry was not touched (the caller still
        /// owns it). A panic in `Hash`, `Eq` or `Ord` is caught in the image and returned, the
        /// entry untouched. (The key is compared by reference before it is moved; should the
        /// same comparisons panic a moment later, while the entry is being moved in, the process
        /// aborts rather than drop an entry that may share parts with another value.)
        fn insert_moved(dst: *mut u8, key: *mut u8, value: *mut u8) -> Result<bool, ForeignString>;
        /// Consumes the collection at `coll`, which is not used again: calls `f(ctx, key,
        /// value)` (when given) with each entry, which `f` owns for the call, and frees the
        /// collection's storage without dropping what the entries still hold. `f` must not
        /// unwind.
        fn drain(coll: *mut u8, ctx: *mut (), f: Option<EntryFnOwned>);
        /// Builds a collection at `dst` (valid for writes of one) from the `n` valid entries in
        /// the caller's buffer at `entries` (entry `i`'s key at `i * stride`, its value at
        /// `i * stride + value_at`), in their order (a B-tree whose entries come in strictly
        /// ascending order is built in bulk, as `collect` builds it). `Ok(None)`: every entry
        /// was moved in. `Ok(Some(i))`: entry `i`'s key equals an earlier entry's; a panic in
        /// `Hash`, `Eq` or `Ord`: `Err`. In both, nothing is written at `dst` and every entry
        /// is still the caller's, untouched (the process aborts rather than drop one, as in
        /// `insert_moved`).
        fn build_from(
            dst: *mut u8,
            entries: *mut u8,
            n: usize,
            stride: usize,
            value_at: usize
        ) -> Result<Option<usize>, ForeignString>;
        /// The value of a map (the element of a set) whose key equals the one at `key`, or null.
        /// Null for a `VecDeque`.
        fn get(coll: *const u8, key: *const u8) -> *const u8;
        /// Whether two keys are equal as the collection compares them (`Eq` for hash
        /// collections, `Ord` for B-trees; always `false` for a `VecDeque`).
        fn key_eq(a: *const u8, b: *const u8) -> bool;
    }
}

/// Called by [`DynGlue::impls`] with each registered impl of the trait in the image.
pub type ImplFn = unsafe fn(ctx: *mut (), imp: *const crate::descriptors::layout::ImplDesc);

glue! {
    /// Glue of `Box<dyn Trait>` for a trait marked `#[coo_trait]`
    /// ([`crate::descriptors::layout::ShapeKind::Dyn`]), compiled into the image that owns the
    /// trait: it learns a live object's concrete type, reaches its value and frees its box.
    DynGlue {
        /// The stable name of the concrete type of the object in the valid box at `p` (its
        /// bytes, valid UTF-8, living in the image). The hidden method `#[coo_impl]` wrote is
        /// called inside the image, a panic caught there and returned.
        fn concrete(p: *const u8) -> Result<(*const u8, usize), ForeignString>;
        /// The address of the concrete value in the valid box at `p`.
        fn get(p: *const u8) -> *const u8;
        /// As `get`, for writing or dropping the value (nothing else refers to the box).
        fn get_mut(p: *mut u8) -> *mut u8;
        /// Frees the allocation of the valid box at `p` without dropping the value in it (which
        /// was moved out); the box is not used again.
        fn free(p: *mut u8);
        /// Calls `f(ctx, imp)` with every impl of the trait registered in the image
        /// (`#[coo_impl]`). `f` must not unwind.
        fn impls(ctx: *mut (), f: ImplFn);
    }
}

glue! {
    /// Glue of one impl of a `#[coo_trait]` trait for a concrete `CooType`
    /// ([`crate::descriptors::layout::ImplDesc`]), compiled into the image of the impl.
    ImplGlue {
        /// Writes a new `Box<dyn Trait>` to `dst` (valid for writes of one) holding the concrete
        /// value moved out of `src` (valid, which the caller gives up), with this image's
        /// vtable.
        fn write_box(dst: *mut u8, src: *mut u8);
    }
}

glue! {
    /// A conversion `From<&Source> for Concrete` that `#[coo_impl(from(Source))]` registered:
    /// switches a live object from one impl to another
    /// ([`crate::descriptors::layout::SwitchDesc`]).
    SwitchGlue {
        /// Reads the object of the valid `Box<dyn Trait>` at `src` (whose concrete type is the
        /// source), converts it by the user's `From` inside the image (a panic caught there and
        /// returned, nothing written), and writes a new box of the target type to `dst` (valid
        /// for writes of a box). `src` is unchanged either way.
        fn convert(dst: *mut u8, src: *const u8) -> Result<(), ForeignString>;
    }
}
