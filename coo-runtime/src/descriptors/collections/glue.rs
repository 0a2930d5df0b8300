//! The glue functions of the standard collections ([`CollGlue`]), generic over the collection
//! type (the `Coll` trait of `collections.rs`): each monomorphized copy lives in the image that uses
//! the collection type, so a collection is read, built, hashed, ordered and freed by its own
//! image's code. Entries are moved in (`insert_moved`, `build_from`) and out (`drain`) without
//! dropping what may be shared with another value.

use crate::descriptors::layout::construct::coll_glue;
use crate::descriptors::layout::{CollGlue, EntryFn, EntryFnMut, EntryFnOwned};
use crate::plugin::ForeignString;

use super::{Coll, mut_ptr};

unsafe fn coll_len<C: Coll>(p: *const u8) -> usize {
    // SAFETY: the caller passes a valid `C`.
    unsafe { &*p.cast::<C>() }.len()
}

unsafe fn coll_for_each<C: Coll>(p: *const u8, ctx: *mut (), f: EntryFn) {
    // SAFETY: the caller passes a valid `C`, and an `f` that accepts `ctx` and entries of `C`
    // and does not unwind.
    unsafe { &*p.cast::<C>() }.for_each(|k, v| unsafe { f(ctx, k, v) });
}

unsafe fn coll_for_each_mut<C: Coll>(p: *mut u8, ctx: *mut (), f: EntryFnMut) {
    // SAFETY: the caller passes a valid `C` that nothing else references, and an `f` that
    // accepts `ctx` and entries of `C` and does not unwind.
    unsafe { &mut *p.cast::<C>() }.for_each_mut(|k, v| unsafe { f(ctx, k, v) });
}

unsafe fn coll_write_with_capacity<C: Coll>(dst: *mut u8, cap: usize) {
    // SAFETY: `dst` is valid for writes of a `C` (caller's contract).
    unsafe { dst.cast::<C>().write(C::with_capacity(cap)) }
}

unsafe fn coll_insert<C: Coll>(
    dst: *mut u8,
    key: *mut u8,
    value: *mut u8,
) -> Result<bool, ForeignString> {
    // SAFETY: the caller passes a valid `C` at `dst` that nothing else references, and a valid
    // key (and value, for maps; `()` is zero-sized and read from any non-null pointer) that it
    // will not use again.
    let (coll, key, value) = unsafe {
        let value = if core::mem::size_of::<C::Value>() == 0 {
            core::ptr::NonNull::<C::Value>::dangling().as_ptr().read()
        } else {
            value.cast::<C::Value>().read()
        };
        (&mut *dst.cast::<C>(), key.cast::<C::Key>().read(), value)
    };
    // A panicking `Hash`, `Eq`, `Ord` or `Drop` is caught here, in the image that owns the code;
    // what the panic left of the entry is dropped by the unwinding.
    crate::__private::catch(move || coll.try_insert(key, value)).map_err(ForeignString::new)
}

/// Aborts the process if dropped, which it is only while unwinding (it is forgotten
/// otherwise): held where unwinding would drop an entry that may share parts with another value,
/// or unwind through code that must not unwind. Says why.
pub(crate) struct AbortOnUnwind(pub(crate) &'static str);

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!("coo: {}; aborting", self.0);
        std::process::abort();
    }
}

const MOVING_IN: &str = "a key's `Hash`, `Eq` or `Ord` panicked while the key was moved into a \
     collection, after the same comparisons had just succeeded, rather than drop an entry that \
     may share memory with the old state";

unsafe fn coll_insert_moved<C: Coll>(
    dst: *mut u8,
    key: *mut u8,
    value: *mut u8,
) -> Result<bool, ForeignString> {
    // SAFETY: the caller passes a valid `C` at `dst` that nothing else references, and a valid
    // key (and value, for maps) that stay the caller's unless they are moved in below.
    let coll = unsafe { &mut *dst.cast::<C>() };
    let value = if core::mem::size_of::<C::Value>() == 0 {
        core::ptr::NonNull::<C::Value>::dangling().as_ptr()
    } else {
        value.cast()
    };
    // SAFETY: as above; `()` is zero-sized and read from a dangling pointer.
    unsafe { insert_moved(coll, key.cast(), value) }.map_err(ForeignString::new)
}

/// [`CollGlue::insert_moved`] on a typed collection (the message of a caught panic as `Err`).
///
/// # Safety
/// `key` and `value` are a valid entry of `C`, the caller's unless this returns `Ok(true)`.
unsafe fn insert_moved<C: Coll>(
    coll: &mut C,
    key: *mut C::Key,
    value: *mut C::Value,
) -> Result<bool, String> {
    if !core::mem::needs_drop::<C::Key>() {
        // A key whose drop does nothing is moved in at once: a copy of it is dropped harmlessly
        // when a panic or an equal key stops the insertion, and the value is read only once
        // the key's place is found.
        // SAFETY: the caller's contract; the value is read once, when it is moved in.
        let key = unsafe { key.read() };
        return crate::__private::catch(|| {
            // SAFETY: the caller's contract; read once, when the entry is moved in.
            coll.insert_with(key, || unsafe { value.read() })
        });
    }
    // SAFETY: the caller's contract.
    let key_ref = unsafe { &*key.cast_const() };
    // Compared by reference: a panic here is caught and leaves the entry where it is.
    if crate::__private::catch(|| coll.contains(key_ref))? {
        return Ok(false);
    }
    let guard = AbortOnUnwind(MOVING_IN);
    // SAFETY: the caller's contract; the entry is moved out once, and the caller gives it up on
    // `Ok(true)`.
    unsafe { coll.insert_new(key.read(), value.read()) };
    core::mem::forget(guard);
    Ok(true)
}

unsafe fn coll_build_from<C: Coll>(
    dst: *mut u8,
    entries: *mut u8,
    n: usize,
    stride: usize,
    value_at: usize,
) -> Result<Option<usize>, ForeignString> {
    let key = |i: usize| -> *mut C::Key {
        // SAFETY: entry `i < n` of the caller's buffer.
        unsafe { entries.add(i * stride) }.cast()
    };
    let value = |i: usize| -> *mut C::Value {
        // SAFETY: as above.
        unsafe { entries.add(i * stride + value_at) }.cast()
    };
    // SAFETY: entry `i < n` is valid and the caller's until it is moved out below.
    let key_ref = |i: usize| unsafe { &*key(i).cast_const() };
    // SAFETY: as above, and each entry is moved out once (`()` is zero-sized and read from any
    // non-null pointer).
    let read = |i: usize| unsafe { (key(i).read(), value(i).read()) };
    if C::SORTED {
        // Compared by reference: a panic is caught and leaves every entry where it is.
        let ascending = crate::__private::catch(|| {
            (1..n).all(|i| C::strictly_before(key_ref(i - 1), key_ref(i)))
        })
        .map_err(ForeignString::new)?;
        if ascending {
            // Bulk-built as `collect` builds it: its sort and de-duplication compare the same
            // neighbours again, which just succeeded and differ.
            let guard = AbortOnUnwind(MOVING_IN);
            let coll = C::from_ascending((0..n).map(read));
            core::mem::forget(guard);
            // SAFETY: `dst` is valid for writes of a `C` (caller's contract).
            unsafe { dst.cast::<C>().write(coll) };
            return Ok(None);
        }
    }
    let mut coll = C::with_capacity(n);
    for i in 0..n {
        // SAFETY: entry `i` is the caller's (entries are moved in once, in order).
        match unsafe { insert_moved(&mut coll, key(i), value(i)) } {
            Ok(true) => {}
            stopped => {
                // The entries moved in so far are still the caller's in the buffer: the new
                // collection only frees its storage.
                coll.into_entries().for_each(core::mem::forget);
                return stopped.map(|_| Some(i)).map_err(ForeignString::new);
            }
        }
    }
    // SAFETY: `dst` is valid for writes of a `C` (caller's contract).
    unsafe { dst.cast::<C>().write(coll) };
    Ok(None)
}

unsafe fn coll_drain<C: Coll>(coll: *mut u8, ctx: *mut (), f: Option<EntryFnOwned>) {
    // SAFETY: the caller hands over a valid `C` that it does not use again.
    let coll = unsafe { coll.cast::<C>().read() };
    match f {
        None if !core::mem::needs_drop::<(C::Key, C::Value)>() => drop(coll),
        None => coll.into_entries().for_each(core::mem::forget),
        Some(f) => {
            for (key, value) in coll.into_entries() {
                let mut entry = core::mem::ManuallyDrop::new((key, value));
                let (k, v) = (mut_ptr(&mut entry.0), mut_ptr(&mut entry.1));
                // SAFETY: `f` owns the entry for the call (the caller's contract on `f`); what
                // it leaves is forgotten with `entry`. It does not unwind.
                unsafe { f(ctx, k, v) };
            }
        }
    }
}

unsafe fn coll_get<C: Coll>(p: *const u8, key: *const u8) -> *const u8 {
    // SAFETY: the caller passes a valid `C` and a valid key of it.
    let (coll, key) = unsafe { (&*p.cast::<C>(), &*key.cast::<C::Key>()) };
    crate::__private::catch(|| coll.get(key))
        .ok()
        .flatten()
        .unwrap_or(core::ptr::null())
}

unsafe fn coll_key_eq<C: Coll>(a: *const u8, b: *const u8) -> bool {
    // SAFETY: the caller passes two valid keys of `C`.
    let (a, b) = unsafe { (&*a.cast::<C::Key>(), &*b.cast::<C::Key>()) };
    crate::__private::catch(|| C::key_eq(a, b)).unwrap_or(false)
}

/// The glue of the collection `C`, compiled into the image that instantiates it.
pub(super) const fn coll_glue_of<C: Coll>() -> CollGlue {
    coll_glue(
        coll_len::<C>,
        coll_for_each::<C>,
        coll_for_each_mut::<C>,
        coll_write_with_capacity::<C>,
        coll_insert::<C>,
        coll_insert_moved::<C>,
        coll_drain::<C>,
        coll_build_from::<C>,
        coll_get::<C>,
        coll_key_eq::<C>,
    )
}
