//! [`CooField`] for tuples of up to 12 elements and for the standard collections `VecDeque<T>`,
//! `HashMap<K, V>`, `HashSet<T>`, `BTreeMap<K, V>` and `BTreeSet<T>` (std hashers), with the
//! glue their [`Shape`]s carry (the descriptor types [`ShapeKind::Tuple`]'s `TupleElem` and
//! [`ShapeKind::Coll`]'s `CollKind` and `CollGlue` are in `layout`, built through its `const fn`
//! constructors).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::Hash;

use crate::descriptors::layout::construct::{
    coll_glue, shape, shape_link, tuple_elem, tuple_elems,
};
use crate::descriptors::layout::{
    CollGlue, CollKind, CooField, EntryFn, EntryFnMut, EntryFnOwned, Shape, ShapeKind,
};
use crate::descriptors::std_fields::drop_glue;
use crate::plugin::ForeignString;

fn type_name_of<T>() -> &'static str {
    core::any::type_name::<T>()
}

macro_rules! tuple_fields {
    ($($tup:ty => ($($t:ident $i:tt),+);)*) => {$(
        // SAFETY: each element lies at its `offset_of!` and has its own shape; size, alignment
        // and drop glue are the tuple's own.
        unsafe impl<$($t: CooField),+> CooField for $tup {
            const SHAPE: &'static Shape = &shape(
                core::mem::size_of::<$tup>(),
                core::mem::align_of::<$tup>(),
                core::mem::needs_drop::<$tup>(),
                drop_glue::<$tup>,
                type_name_of::<$tup>,
                ShapeKind::Tuple(tuple_elems(&[$(
                    tuple_elem(core::mem::offset_of!($tup, $i), $t::shape)
                ),+])),
            );
        }
    )*};
}

tuple_fields! {
    (A,) => (A 0);
    (A, B) => (A 0, B 1);
    (A, B, C) => (A 0, B 1, C 2);
    (A, B, C, D) => (A 0, B 1, C 2, D 3);
    (A, B, C, D, E) => (A 0, B 1, C 2, D 3, E 4);
    (A, B, C, D, E, F) => (A 0, B 1, C 2, D 3, E 4, F 5);
    (A, B, C, D, E, F, G) => (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    (A, B, C, D, E, F, G, H) => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    (A, B, C, D, E, F, G, H, I) => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    (A, B, C, D, E, F, G, H, I, J) => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    (A, B, C, D, E, F, G, H, I, J, K) =>
        (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    (A, B, C, D, E, F, G, H, I, J, K, L) =>
        (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
}

/// What a collection type needs for its glue: how to iterate, build and compare keys.
trait Coll: Sized + 'static {
    const KIND: CollKind;
    type Key;
    type Value;
    fn len(&self) -> usize;
    fn for_each(&self, f: impl FnMut(*const u8, *const u8));
    /// As `for_each`, with writable values (a `VecDeque`'s elements as key and value).
    fn for_each_mut(&mut self, f: impl FnMut(*const u8, *mut u8));
    fn with_capacity(cap: usize) -> Self;
    /// Inserts the entry unless an equal key is there (then drops it) and returns whether it
    /// did.
    fn try_insert(&mut self, key: Self::Key, value: Self::Value) -> bool;
    fn key_eq(a: &Self::Key, b: &Self::Key) -> bool;
    /// The value (the element of a set) stored under a key equal to `key`.
    fn get(&self, key: &Self::Key) -> Option<*const u8>;
    /// Whether an equal key is there (always `false` for a `VecDeque`).
    fn contains(&self, key: &Self::Key) -> bool;
    /// Inserts an entry whose key [`Coll::contains`] just said is not there.
    fn insert_new(&mut self, key: Self::Key, value: Self::Value);
    /// Inserts `key` with `value()` unless an equal key is there (then `key` is dropped and
    /// `value` never called) and returns whether it did: one lookup, for keys whose drop does
    /// nothing.
    fn insert_with(&mut self, key: Self::Key, value: impl FnOnce() -> Self::Value) -> bool;
    /// The entries by value, in iteration order (the storage is freed as the iterator ends).
    fn into_entries(self) -> impl Iterator<Item = (Self::Key, Self::Value)>;
    /// Whether the collection keeps its keys sorted (B-trees): then [`Coll::from_ascending`]
    /// builds it in bulk.
    const SORTED: bool = false;
    /// Whether `a` orders strictly before `b` and differs from it by `PartialEq` as well (the
    /// bulk build drops neighbours that `==` calls equal).
    fn strictly_before(_: &Self::Key, _: &Self::Key) -> bool {
        false
    }
    /// Builds a sorted collection from entries in strictly ascending key order.
    fn from_ascending(entries: impl Iterator<Item = (Self::Key, Self::Value)>) -> Self {
        let mut coll = Self::with_capacity(entries.size_hint().0);
        entries.for_each(|(k, v)| {
            coll.try_insert(k, v);
        });
        coll
    }
}

fn ptr<T>(r: &T) -> *const u8 {
    (r as *const T).cast()
}

fn mut_ptr<T>(r: &mut T) -> *mut u8 {
    (r as *mut T).cast()
}

impl<T: 'static> Coll for VecDeque<T> {
    const KIND: CollKind = CollKind::VecDeque;
    type Key = T;
    type Value = ();
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(*const u8, *const u8)) {
        self.iter().for_each(|e| f(ptr(e), core::ptr::null()));
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(*const u8, *mut u8)) {
        self.iter_mut().for_each(|e| {
            let p = mut_ptr(e);
            f(p.cast_const(), p)
        });
    }
    fn with_capacity(cap: usize) -> Self {
        VecDeque::with_capacity(cap)
    }
    fn try_insert(&mut self, key: T, _: ()) -> bool {
        self.push_back(key);
        true
    }
    fn key_eq(_: &T, _: &T) -> bool {
        false
    }
    fn get(&self, _: &T) -> Option<*const u8> {
        None
    }
    fn contains(&self, _: &T) -> bool {
        false
    }
    fn insert_new(&mut self, key: T, _: ()) {
        self.push_back(key);
    }
    fn into_entries(self) -> impl Iterator<Item = (T, ())> {
        self.into_iter().map(|e| (e, ()))
    }
    fn insert_with(&mut self, key: T, _: impl FnOnce()) -> bool {
        self.push_back(key);
        true
    }
}

impl<K: Eq + Hash + 'static, V: 'static> Coll for HashMap<K, V> {
    const KIND: CollKind = CollKind::HashMap;
    type Key = K;
    type Value = V;
    fn len(&self) -> usize {
        HashMap::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(*const u8, *const u8)) {
        self.iter().for_each(|(k, v)| f(ptr(k), ptr(v)));
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(*const u8, *mut u8)) {
        self.iter_mut().for_each(|(k, v)| f(ptr(k), mut_ptr(v)));
    }
    fn with_capacity(cap: usize) -> Self {
        HashMap::with_capacity(cap)
    }
    fn try_insert(&mut self, key: K, value: V) -> bool {
        match self.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(value);
                true
            }
        }
    }
    fn key_eq(a: &K, b: &K) -> bool {
        a == b
    }
    fn get(&self, key: &K) -> Option<*const u8> {
        HashMap::get(self, key).map(ptr)
    }
    fn contains(&self, key: &K) -> bool {
        self.contains_key(key)
    }
    fn insert_new(&mut self, key: K, value: V) {
        self.insert(key, value);
    }
    fn into_entries(self) -> impl Iterator<Item = (K, V)> {
        self.into_iter()
    }
    fn insert_with(&mut self, key: K, value: impl FnOnce() -> V) -> bool {
        match self.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(value());
                true
            }
        }
    }
}

impl<T: Eq + Hash + 'static> Coll for HashSet<T> {
    const KIND: CollKind = CollKind::HashSet;
    type Key = T;
    type Value = ();
    fn len(&self) -> usize {
        HashSet::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(*const u8, *const u8)) {
        self.iter().for_each(|e| f(ptr(e), core::ptr::null()));
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(*const u8, *mut u8)) {
        self.iter().for_each(|e| f(ptr(e), core::ptr::null_mut()));
    }
    fn with_capacity(cap: usize) -> Self {
        HashSet::with_capacity(cap)
    }
    fn try_insert(&mut self, key: T, _: ()) -> bool {
        self.insert(key)
    }
    fn key_eq(a: &T, b: &T) -> bool {
        a == b
    }
    fn get(&self, key: &T) -> Option<*const u8> {
        HashSet::get(self, key).map(ptr)
    }
    fn contains(&self, key: &T) -> bool {
        HashSet::contains(self, key)
    }
    fn insert_new(&mut self, key: T, _: ()) {
        self.insert(key);
    }
    fn into_entries(self) -> impl Iterator<Item = (T, ())> {
        self.into_iter().map(|e| (e, ()))
    }
    fn insert_with(&mut self, key: T, _: impl FnOnce()) -> bool {
        self.insert(key)
    }
}

impl<K: Ord + 'static, V: 'static> Coll for BTreeMap<K, V> {
    const KIND: CollKind = CollKind::BTreeMap;
    type Key = K;
    type Value = V;
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(*const u8, *const u8)) {
        self.iter().for_each(|(k, v)| f(ptr(k), ptr(v)));
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(*const u8, *mut u8)) {
        self.iter_mut().for_each(|(k, v)| f(ptr(k), mut_ptr(v)));
    }
    fn with_capacity(_: usize) -> Self {
        BTreeMap::new()
    }
    fn try_insert(&mut self, key: K, value: V) -> bool {
        match self.entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(value);
                true
            }
        }
    }
    fn key_eq(a: &K, b: &K) -> bool {
        a.cmp(b).is_eq()
    }
    fn get(&self, key: &K) -> Option<*const u8> {
        BTreeMap::get(self, key).map(ptr)
    }
    fn contains(&self, key: &K) -> bool {
        self.contains_key(key)
    }
    fn insert_new(&mut self, key: K, value: V) {
        self.insert(key, value);
    }
    fn into_entries(self) -> impl Iterator<Item = (K, V)> {
        self.into_iter()
    }
    const SORTED: bool = true;
    fn strictly_before(a: &K, b: &K) -> bool {
        a < b && a != b
    }
    fn from_ascending(entries: impl Iterator<Item = (K, V)>) -> Self {
        entries.collect()
    }
    fn insert_with(&mut self, key: K, value: impl FnOnce() -> V) -> bool {
        match self.entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(value());
                true
            }
        }
    }
}

impl<T: Ord + 'static> Coll for BTreeSet<T> {
    const KIND: CollKind = CollKind::BTreeSet;
    type Key = T;
    type Value = ();
    fn len(&self) -> usize {
        BTreeSet::len(self)
    }
    fn for_each(&self, mut f: impl FnMut(*const u8, *const u8)) {
        self.iter().for_each(|e| f(ptr(e), core::ptr::null()));
    }
    fn for_each_mut(&mut self, mut f: impl FnMut(*const u8, *mut u8)) {
        self.iter().for_each(|e| f(ptr(e), core::ptr::null_mut()));
    }
    fn with_capacity(_: usize) -> Self {
        BTreeSet::new()
    }
    fn try_insert(&mut self, key: T, _: ()) -> bool {
        self.insert(key)
    }
    fn key_eq(a: &T, b: &T) -> bool {
        a.cmp(b).is_eq()
    }
    fn get(&self, key: &T) -> Option<*const u8> {
        BTreeSet::get(self, key).map(ptr)
    }
    fn contains(&self, key: &T) -> bool {
        BTreeSet::contains(self, key)
    }
    fn insert_new(&mut self, key: T, _: ()) {
        self.insert(key);
    }
    fn into_entries(self) -> impl Iterator<Item = (T, ())> {
        self.into_iter().map(|e| (e, ()))
    }
    const SORTED: bool = true;
    fn strictly_before(a: &T, b: &T) -> bool {
        a < b && a != b
    }
    fn from_ascending(entries: impl Iterator<Item = (T, ())>) -> Self {
        entries.map(|(e, ())| e).collect()
    }
    fn insert_with(&mut self, key: T, _: impl FnOnce()) -> bool {
        self.insert(key)
    }
}

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

/// The [`Shape`] of the collection `C` with element or key `K` and map value `V`.
const fn coll_shape<C: Coll>(
    key: fn() -> &'static Shape,
    value: Option<fn() -> &'static Shape>,
) -> Shape {
    shape(
        core::mem::size_of::<C>(),
        core::mem::align_of::<C>(),
        true,
        drop_glue::<C>,
        type_name_of::<C>,
        ShapeKind::Coll {
            kind: C::KIND,
            key: shape_link(key),
            value: match value {
                Some(value) => Some(shape_link(value)),
                None => None,
            },
            glue: coll_glue_of::<C>(),
        },
    )
}

const fn coll_glue_of<C: Coll>() -> CollGlue {
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

// SAFETY: the glue reads and builds `VecDeque<T>` as documented on `CollGlue`.
unsafe impl<T: CooField> CooField for VecDeque<T> {
    const SHAPE: &'static Shape = &coll_shape::<VecDeque<T>>(T::shape, None);
}

// SAFETY: the glue reads and builds `HashMap<K, V>` as documented on `CollGlue`.
unsafe impl<K: CooField + Eq + Hash, V: CooField> CooField for HashMap<K, V> {
    const SHAPE: &'static Shape = &coll_shape::<HashMap<K, V>>(K::shape, Some(V::shape));
}

// SAFETY: the glue reads and builds `HashSet<T>` as documented on `CollGlue`.
unsafe impl<T: CooField + Eq + Hash> CooField for HashSet<T> {
    const SHAPE: &'static Shape = &coll_shape::<HashSet<T>>(T::shape, None);
}

// SAFETY: the glue reads and builds `BTreeMap<K, V>` as documented on `CollGlue`.
unsafe impl<K: CooField + Ord, V: CooField> CooField for BTreeMap<K, V> {
    const SHAPE: &'static Shape = &coll_shape::<BTreeMap<K, V>>(K::shape, Some(V::shape));
}

// SAFETY: the glue reads and builds `BTreeSet<T>` as documented on `CollGlue`.
unsafe impl<T: CooField + Ord> CooField for BTreeSet<T> {
    const SHAPE: &'static Shape = &coll_shape::<BTreeSet<T>>(T::shape, None);
}
