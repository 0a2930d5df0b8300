//! [`CooField`] for tuples of up to 12 elements and for the standard collections `VecDeque<T>`,
//! `HashMap<K, V>`, `HashSet<T>`, `BTreeMap<K, V>` and `BTreeSet<T>` (std hashers), with the
//! glue their [`Shape`]s carry (the descriptor types [`ShapeKind::Tuple`]'s `TupleElem` and
//! [`ShapeKind::Coll`]'s `CollKind` and `CollGlue` are in `layout`, built through its `const fn`
//! constructors; the collections' glue functions are in `collections/glue.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::Hash;

use crate::descriptors::layout::construct::{shape, shape_link, tuple_elem, tuple_elems};
use crate::descriptors::layout::{CollKind, CooField, Shape, ShapeKind};
use crate::descriptors::std_fields::drop_glue;

mod glue;

pub(crate) use glue::AbortOnUnwind;
use glue::coll_glue_of;

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
