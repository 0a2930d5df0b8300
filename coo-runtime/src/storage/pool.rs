//! Pools of values addressed by generation-checked handles.
//!
//! A [`Handle<T>`] is an index and a generation: plain data that stays meaningful across every
//! migration, because migrating a [`Pool<T>`] keeps each value in its slot and each slot's
//! generation. Removing a value bumps its slot's generation, so a handle to it becomes stale and
//! every lookup through it fails with [`StaleHandle`] instead of reaching another value. A slot
//! whose generation would wrap around is retired instead: it is never reused, so no handle, however
//! old, can reach a later value.

use core::fmt;
use core::marker::PhantomData;

use crate::descriptors::layout::construct::{pool_glue, shape, shape_link, type_link};
use crate::descriptors::layout::{CooField, CooType, Shape, ShapeKind, drop_glue};

/// A generation-checked reference to a value in a [`Pool<T>`].
#[repr(C)]
pub struct Handle<T> {
    index: u32,
    generation: u32,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    /// A handle from its raw parts (as printed by `state --json`).
    pub const fn from_raw(index: u32, generation: u32) -> Self {
        Handle {
            index,
            generation,
            _marker: PhantomData,
        }
    }

    pub const fn index(self) -> u32 {
        self.index
    }

    pub const fn generation(self) -> u32 {
        self.generation
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.generation == other.generation
    }
}
impl<T> Eq for Handle<T> {}
impl<T> core::hash::Hash for Handle<T> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        (self.index, self.generation).hash(state);
    }
}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({}v{})", self.index, self.generation)
    }
}

/// A lookup through a handle whose value was removed (or that belongs to another pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "stale handle: slot {index} is at generation {current}, the handle has generation {handle}"
)]
pub struct StaleHandle {
    pub index: u32,
    pub handle: u32,
    /// The slot's generation, or `u32::MAX` when the index is out of range.
    pub current: u32,
}

/// The generation of a retired slot: a slot whose value is removed at this generation is never
/// used again (a new generation would wrap around to one that old handles may still carry). A
/// vacant slot at this generation is retired; migrations and snapshots keep it so, since they
/// keep every slot's generation.
const RETIRED: u32 = u32::MAX;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Values of `T` addressed by [`Handle<T>`]s. A pool can be a field of any `CooType`; its values
/// are migrated in place, slot by slot, so every handle stays valid across reloads.
pub struct Pool<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T> Pool<T> {
    pub const fn new() -> Self {
        Pool {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Number of values in the pool.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a value and returns its handle.
    pub fn insert(&mut self, value: T) -> Handle<T> {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return Handle::from_raw(index, slot.generation);
        }
        let index = u32::try_from(self.slots.len()).expect("a pool holds at most u32::MAX slots");
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        Handle::from_raw(index, 0)
    }

    fn slot(&self, handle: Handle<T>) -> Result<&Slot<T>, StaleHandle> {
        match self.slots.get(handle.index as usize) {
            Some(slot) if slot.generation == handle.generation && slot.value.is_some() => Ok(slot),
            other => Err(StaleHandle {
                index: handle.index,
                handle: handle.generation,
                current: other.map_or(u32::MAX, |s| s.generation),
            }),
        }
    }

    /// The value behind `handle`.
    pub fn get(&self, handle: Handle<T>) -> Result<&T, StaleHandle> {
        self.slot(handle)
            .map(|s| s.value.as_ref().expect("checked by slot()"))
    }

    /// The value behind `handle`, mutably.
    pub fn get_mut(&mut self, handle: Handle<T>) -> Result<&mut T, StaleHandle> {
        self.slot(handle)?;
        let slot = &mut self.slots[handle.index as usize];
        Ok(slot.value.as_mut().expect("checked by slot()"))
    }

    pub fn contains(&self, handle: Handle<T>) -> bool {
        self.slot(handle).is_ok()
    }

    /// Testing only: adds a value in a new slot at `generation`, as if the slot had been used and
    /// emptied that many times (so tests reach the last generation without 2^32 removals).
    #[doc(hidden)]
    pub fn __insert_at_generation(&mut self, value: T, generation: u32) -> Handle<T> {
        let index = u32::try_from(self.slots.len()).expect("a pool holds at most u32::MAX slots");
        self.slots.push(Slot {
            generation,
            value: Some(value),
        });
        self.len += 1;
        Handle::from_raw(index, generation)
    }

    /// Removes the value behind `handle`; every copy of the handle becomes stale.
    pub fn remove(&mut self, handle: Handle<T>) -> Result<T, StaleHandle> {
        self.slot(handle)?;
        let slot = &mut self.slots[handle.index as usize];
        let value = slot.value.take().expect("checked by slot()");
        // A slot at its last generation is retired: bumping it would wrap to a generation that
        // old handles carry, so it stays vacant for good.
        if slot.generation != RETIRED {
            slot.generation += 1;
            self.free.push(handle.index);
        }
        self.len -= 1;
        Ok(value)
    }

    /// Every value with its handle, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.value
                .as_ref()
                .map(|v| (Handle::from_raw(i as u32, s.generation), v))
        })
    }

    /// Every value with its handle, mutably, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Handle<T>, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| {
            let generation = s.generation;
            s.value
                .as_mut()
                .map(|v| (Handle::from_raw(i as u32, generation), v))
        })
    }
}

impl<T> core::ops::Index<Handle<T>> for Pool<T> {
    type Output = T;
    fn index(&self, handle: Handle<T>) -> &T {
        match self.get(handle) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}

impl<T> core::ops::IndexMut<Handle<T>> for Pool<T> {
    fn index_mut(&mut self, handle: Handle<T>) -> &mut T {
        match self.get_mut(handle) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}

unsafe fn pool_slot_count<T>(p: *const u8) -> usize {
    // SAFETY: the caller passes a valid `Pool<T>`.
    unsafe { &*p.cast::<Pool<T>>() }.slots.len()
}

unsafe fn pool_slot<T>(p: *const u8, i: usize) -> (u32, *const u8) {
    // SAFETY: the caller passes a valid `Pool<T>` and `i < slot_count`.
    let slot = unsafe { &(&*p.cast::<Pool<T>>()).slots[i] };
    let value = slot
        .value
        .as_ref()
        .map_or(core::ptr::null(), |v| (v as *const T).cast());
    (slot.generation, value)
}

unsafe fn pool_slot_mut<T>(p: *mut u8, i: usize) -> (u32, *mut u8) {
    // SAFETY: the caller passes a valid `Pool<T>` that nothing else references, and
    // `i < slot_count`.
    let slot = unsafe { &mut (&mut *p.cast::<Pool<T>>()).slots[i] };
    let generation = slot.generation;
    let value = slot
        .value
        .as_mut()
        .map_or(core::ptr::null_mut(), |v| (v as *mut T).cast());
    (generation, value)
}

unsafe fn pool_write_vacant<T>(dst: *mut u8, n: usize) {
    let pool = Pool::<T> {
        slots: Vec::with_capacity(n),
        free: Vec::new(),
        len: 0,
    };
    // SAFETY: `dst` is valid for writes of a `Pool<T>` (caller's contract).
    unsafe { dst.cast::<Pool<T>>().write(pool) }
}

unsafe fn pool_set_slot<T>(dst: *mut u8, i: usize, generation: u32, src: *mut u8) {
    // SAFETY: the caller passes the valid `Pool<T>` written by `write_vacant`.
    let pool = unsafe { &mut *dst.cast::<Pool<T>>() };
    debug_assert_eq!(pool.slots.len(), i, "slots are set in order");
    let value = if src.is_null() {
        if generation != RETIRED {
            pool.free.push(i as u32);
        }
        None
    } else {
        pool.len += 1;
        // SAFETY: the caller hands over a valid `T` at `src` and will not drop it again.
        Some(unsafe { src.cast::<T>().read() })
    };
    pool.slots.push(Slot { generation, value });
}

unsafe fn pool_free<T>(p: *mut u8) {
    // SAFETY: the caller passes a valid `Pool<T>` whose values were moved out and are not used
    // again; each is forgotten, then the emptied pool is dropped, freeing its buffers.
    let mut pool = unsafe { p.cast::<Pool<T>>().read() };
    for slot in &mut pool.slots {
        core::mem::forget(slot.value.take());
    }
}

fn pool_type_name<T>() -> &'static str {
    core::any::type_name::<Pool<T>>()
}

fn handle_type_name<T>() -> &'static str {
    core::any::type_name::<Handle<T>>()
}

// SAFETY: the glue reads and builds `Pool<T>` as documented on `PoolGlue`.
unsafe impl<T: CooType> CooField for Pool<T> {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<Pool<T>>(),
        core::mem::align_of::<Pool<T>>(),
        true,
        drop_glue::<Pool<T>>,
        pool_type_name::<T>,
        ShapeKind::Pool {
            elem: shape_link(T::shape),
            glue: pool_glue(
                pool_slot_count::<T>,
                pool_slot::<T>,
                pool_slot_mut::<T>,
                pool_write_vacant::<T>,
                pool_set_slot::<T>,
                pool_free::<T>,
            ),
        },
    );
}

// SAFETY: a handle is two `u32`s (`repr(C)`), plain data with no drop glue.
unsafe impl<T: CooType> CooField for Handle<T> {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<Handle<T>>(),
        core::mem::align_of::<Handle<T>>(),
        false,
        drop_glue::<Handle<T>>,
        handle_type_name::<T>,
        ShapeKind::Handle {
            target: type_link(T::desc),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_at_its_last_generation_is_retired_not_wrapped() {
        let mut pool = Pool::new();
        let last = pool.__insert_at_generation("old", u32::MAX);
        // The first handle ever given for this slot, 2^32 removals ago.
        let first = Handle::<&str>::from_raw(last.index(), 0);
        assert_eq!(pool.remove(last), Ok("old"));
        let new = pool.insert("new");
        assert_ne!(new.index(), last.index(), "a retired slot is never reused");
        let stale = StaleHandle {
            index: last.index(),
            handle: 0,
            current: u32::MAX,
        };
        assert_eq!(pool.get(first), Err(stale));
        assert_eq!(
            pool.get(last),
            Err(StaleHandle {
                handle: u32::MAX,
                ..stale
            })
        );
        assert_eq!(pool.get(new), Ok(&"new"));
        assert_eq!(pool.len(), 1);
    }
}
