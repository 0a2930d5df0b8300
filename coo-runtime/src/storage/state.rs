//! The state Coo owns: one live value (resource) per root type.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ptr::NonNull;

use crate::descriptors::layout::{CooType, TypeDesc};
use crate::descriptors::registry::Catalog;
use crate::migration::execute::{Exec, ExecuteError, Report, TypeReport};
use crate::migration::plan::{Kept, Plan, PlanError, ResourcePlan, plan};
use crate::plugin::image::{ImageRef, distinct};
use crate::storage::raw;
use crate::storage::view::ValueView;

/// A heap allocation holding one value described by a [`TypeDesc`]. The allocation is the host's;
/// the value inside is dropped with the glue of the build that owns its type, whose image the
/// resource keeps mapped (its [`ImageRef`]) until that drop ran.
pub struct Resource {
    ptr: NonNull<u8>,
    /// `'static` in name only: valid while `image` lives (handed out borrowed from `self`).
    desc: &'static TypeDesc,
    /// Dropped after the value (fields drop after `Drop::drop`), so the glue is still mapped.
    image: ImageRef,
}

// SAFETY: a resource is an owned value like `Box<T>`; Coo's types are built from `Send` and
// `Sync` parts (primitives, strings, containers, pools of `CooType`s), and access is governed by
// `&`/`&mut` borrows of the owning `State`.
unsafe impl Send for Resource {}
// SAFETY: as above.
unsafe impl Sync for Resource {}

/// The new values [`State::build`] made from a state, by resource (`None` for a kept one),
/// with the executor that built them: swapped in by [`State::commit_built`] or taken apart by
/// [`State::unbuild`].
struct Built<'p> {
    exec: Exec<'p>,
    built: Vec<Option<(usize, Storage)>>,
}

/// Uninitialized storage for a value of `desc`; freed (not dropped) unless turned into a
/// [`Resource`].
struct Storage {
    ptr: NonNull<u8>,
    desc: &'static TypeDesc,
    image: ImageRef,
}

impl Storage {
    fn new(desc: &'static TypeDesc, image: ImageRef) -> Storage {
        let ptr = raw::alloc(raw::type_layout(desc));
        Storage { ptr, desc, image }
    }

    /// # Safety
    /// The storage holds a valid value of its type.
    unsafe fn assume_init(self) -> Resource {
        let this = core::mem::ManuallyDrop::new(self);
        Resource {
            ptr: this.ptr,
            desc: this.desc,
            // SAFETY: `this` is never dropped, so its guard moves out exactly once.
            image: unsafe { core::ptr::read(&this.image) },
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; it holds no value to drop.
        unsafe { raw::dealloc(self.ptr, raw::type_layout(self.desc)) }
    }
}

impl Resource {
    /// Moves a value of a type compiled into this binary into a new resource (for a loaded
    /// plugin's type, [`Resource::from_raw_in`]).
    ///
    /// # Safety
    /// `src` points to a valid value of `desc`, which the caller must not use or drop again;
    /// `desc` and its glue are never unloaded (compiled into this binary).
    pub unsafe fn from_raw(desc: &'static TypeDesc, src: *const u8) -> Resource {
        // SAFETY: the caller's contract; this binary's code needs no guard.
        unsafe { Resource::from_raw_in(desc, src, ImageRef::STATIC) }
    }

    /// Moves a value into a new resource that keeps `image` (the image `desc` lives in) mapped
    /// until the value was dropped.
    ///
    /// # Safety
    /// `src` points to a valid value of `desc`, which the caller must not use or drop again;
    /// `image` guards the image `desc` and its glue live in (or `desc` is compiled into this
    /// binary).
    pub unsafe fn from_raw_in(desc: &TypeDesc, src: *const u8, image: ImageRef) -> Resource {
        // SAFETY: `'static` in name only, as `Resource::desc` says: the caller's contract is
        // that `image` guards the image `desc` lives in (or that it is compiled into this
        // binary), and the resource keeps `image` for as long as it keeps `desc`.
        let desc: &'static TypeDesc = unsafe { &*core::ptr::from_ref(desc) };
        let storage = Storage::new(desc, image);
        // SAFETY: `src` holds `desc.size` bytes of a valid value; the storage has room for them
        // and does not overlap.
        unsafe { core::ptr::copy_nonoverlapping(src, storage.ptr.as_ptr(), desc.size()) };
        // SAFETY: the value was moved in above.
        unsafe { storage.assume_init() }
    }

    pub fn new<T: CooType>(value: T) -> Resource {
        let value = core::mem::ManuallyDrop::new(value);
        // SAFETY: `value` is a valid `T`, described by `T::DESC`, and is never dropped here.
        unsafe { Resource::from_raw(T::DESC, (&*value as *const T).cast()) }
    }

    /// The value's type, borrowed from the resource: it lives in the image [`Resource::image`]
    /// guards.
    pub fn desc(&self) -> &TypeDesc {
        self.desc
    }

    /// The guard of the image the value's type and glue live in.
    pub fn image(&self) -> &ImageRef {
        &self.image
    }

    /// Frees the storage without dropping the value (whose parts were given up or moved).
    fn free_without_drop(self) {
        let this = core::mem::ManuallyDrop::new(self);
        drop(Storage {
            ptr: this.ptr,
            desc: this.desc,
            // SAFETY: `this` is never dropped, so its guard moves out exactly once.
            image: unsafe { core::ptr::read(&this.image) },
        });
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// A read-only view of the value.
    pub fn view(&self) -> ValueView<'_> {
        // SAFETY: the value is valid and borrowed immutably for the view's lifetime.
        unsafe { ValueView::new(self.desc, self.ptr.as_ptr()) }
    }

    /// The value as a `T`, if it is one (the very descriptor of `T` in this build).
    pub fn downcast_ref<T: CooType>(&self) -> Option<&T> {
        // SAFETY: the descriptor is `T`'s own, so the value is a `T`.
        core::ptr::eq(self.desc, T::DESC).then(|| unsafe { &*self.ptr.as_ptr().cast::<T>() })
    }

    pub fn downcast_mut<T: CooType>(&mut self) -> Option<&mut T> {
        // SAFETY: as above, borrowed mutably through `&mut self`.
        core::ptr::eq(self.desc, T::DESC).then(|| unsafe { &mut *self.ptr.as_ptr().cast::<T>() })
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        // SAFETY: the value is valid and dropped once, by the glue of the build that owns its
        // type.
        unsafe { self.desc.glue().drop(self.ptr.as_ptr()) };
        drop(Storage {
            ptr: self.ptr,
            desc: self.desc,
            image: ImageRef::STATIC,
        });
        // `self.image` drops after this body: the glue above ran with its image mapped.
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("type", &self.desc.name())
            .finish_non_exhaustive()
    }
}

/// The live state: at most one resource per type, by the type's stable name.
#[derive(Debug, Default)]
pub struct State {
    resources: BTreeMap<&'static str, Resource>,
}

/// Why [`State::migrate_to`] did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Migrate(#[from] ExecuteError),
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Makes `value` the resource of its type, returning the one it replaces.
    pub fn insert<T: CooType>(&mut self, value: T) -> Option<Resource> {
        self.insert_resource(Resource::new(value))
    }

    pub fn insert_resource(&mut self, resource: Resource) -> Option<Resource> {
        self.resources.insert(resource.desc.name(), resource)
    }

    pub fn remove(&mut self, name: &str) -> Option<Resource> {
        self.resources.remove(name)
    }

    pub fn get<T: CooType>(&self) -> Option<&T> {
        self.resources.get(T::DESC.name())?.downcast_ref()
    }

    pub fn get_mut<T: CooType>(&mut self) -> Option<&mut T> {
        self.resources.get_mut(T::DESC.name())?.downcast_mut()
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.get(name)
    }

    pub fn resource_mut(&mut self, name: &str) -> Option<&mut Resource> {
        self.resources.get_mut(name)
    }

    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values()
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The descriptors of the live resources, in the order plans list them, borrowed from the
    /// state.
    pub fn descs(&self) -> Vec<&TypeDesc> {
        self.resources.values().map(|r| r.desc()).collect()
    }

    /// Plans the migration of every resource to the types of `new`. Mutates nothing.
    pub fn plan(&self, new: &Catalog) -> Result<Plan, PlanError> {
        // `'static` in name only: the plan takes the guards of these descriptors' images below.
        let roots: Vec<&'static TypeDesc> = self.resources.values().map(|r| r.desc).collect();
        let mut plan = plan(&roots, new)?;
        // The plan points into the images of the old types too.
        plan.old_images = distinct(self.resources.values().map(|r| &r.image));
        Ok(plan)
    }

    /// Plans and migrates; on any error the state is unchanged.
    pub fn migrate_to(&mut self, new: &Catalog) -> Result<Report, MigrationError> {
        let plan = self.plan(new)?;
        Ok(self.migrate(&plan)?)
    }

    /// Carries out a plan made by [`State::plan`] for this state. New values are built in new
    /// storage; only when every one succeeded are they swapped in and the old values dropped.
    /// On error, nothing changed.
    pub fn migrate(&mut self, plan: &Plan) -> Result<Report, ExecuteError> {
        let built = self.build(plan)?;
        // SAFETY: `built` was built from this state, unchanged since (borrowed until now).
        Ok(unsafe { self.commit_built(plan, built) })
    }

    /// [`State::migrate`] of several states at once, each with its plan (the states of plugins
    /// that reload in one transaction): the new values of every state are built first; only
    /// when all succeeded are they swapped in, and on the first error (the index of its state,
    /// and the error) every value built so far is taken apart again and no state changed.
    pub fn migrate_together(
        parts: &mut [(&mut State, &Plan)],
    ) -> Result<Vec<Report>, (usize, ExecuteError)> {
        let mut built = Vec::with_capacity(parts.len());
        for (index, (state, plan)) in parts.iter().enumerate() {
            match state.build(plan) {
                Ok(b) => built.push(b),
                Err(e) => {
                    for ((state, _), b) in parts.iter().zip(built).rev() {
                        // SAFETY: `b` was built from this state, unchanged since (`parts`
                        // is borrowed by this function).
                        unsafe { state.unbuild(b) };
                    }
                    return Err((index, e));
                }
            }
        }
        Ok(parts
            .iter_mut()
            .zip(built)
            .map(|((state, plan), b)| {
                // SAFETY: as above: built from this state, which nothing changed since.
                unsafe { state.commit_built(plan, b) }
            })
            .collect())
    }

    /// The build phase of [`State::migrate`]: checks that `plan` was made for this state and
    /// builds the new values in new storage, reading the old ones only. On error, what was
    /// built is taken apart again.
    fn build<'p>(&self, plan: &'p Plan) -> Result<Built<'p>, ExecuteError> {
        if plan.resources.len() != self.resources.len() {
            return Err(ExecuteError::stale_plan());
        }
        let mut new_names = BTreeSet::new();
        for (res, rp) in self.resources.values().zip(&plan.resources) {
            let (old, new) = match rp {
                ResourcePlan::Keep(k) => (k.old, k.new),
                ResourcePlan::Migrate { type_plan } => {
                    (plan.types[*type_plan].old, plan.types[*type_plan].new)
                }
            };
            if !core::ptr::eq(res.desc, old) {
                return Err(ExecuteError::stale_plan());
            }
            // Two resources continuing as one type would leave one of them nowhere to go:
            // `State::plan` refuses that (`ProblemKind::ResourcesMerged`), so a plan that does
            // it was not made by it for this state.
            if !new_names.insert(new.name()) {
                return Err(ExecuteError::stale_plan());
            }
        }
        let mut exec = Exec::new(plan);
        // New values in new storage. The old state is only read; parts whose layout did not
        // change are shared bitwise until the commit (`commit_built`) hands them over.
        let mut built: Vec<Option<(usize, Storage)>> = Vec::with_capacity(plan.resources.len());
        for (res, rp) in self.resources.values().zip(&plan.resources) {
            let ResourcePlan::Migrate { type_plan } = rp else {
                built.push(None);
                continue;
            };
            let storage = Storage::new(plan.types[*type_plan].new, plan.new_image.clone());
            // SAFETY: `res` holds a valid value of the plan's old type (checked above); the
            // storage is fresh and sized for the new type.
            match unsafe { exec.build_type(*type_plan, res.as_ptr(), storage.ptr.as_ptr()) } {
                Ok(()) => built.push(Some((*type_plan, storage))),
                Err(e) => {
                    // Rollback: take apart the new values built so far, giving up only what
                    // they own alone; their storage is freed when `built` drops.
                    for (res, done) in self.resources.values().zip(&built) {
                        if let Some((tp, storage)) = done {
                            // SAFETY: `storage` holds the complete build of `tp` from `res`,
                            // which is unchanged.
                            unsafe { exec.unbuild_type(*tp, res.as_ptr(), storage.ptr.as_ptr()) };
                        }
                    }
                    return Err(e.within_name(res.desc.name()));
                }
            }
        }
        Ok(Built { exec, built })
    }

    /// Takes apart the new values of `built`, giving up only what they own alone: the state
    /// stays as it was.
    ///
    /// # Safety
    /// `built` was built by [`State::build`] from this state, which has not changed since.
    unsafe fn unbuild(&self, built: Built<'_>) {
        let Built { exec, built } = built;
        for (res, done) in self.resources.values().zip(&built) {
            if let Some((tp, storage)) = done {
                // SAFETY: `storage` holds the complete build of `tp` from `res`, which is
                // unchanged (this function's contract).
                unsafe { exec.unbuild_type(*tp, res.as_ptr(), storage.ptr.as_ptr()) };
            }
        }
    }

    /// The commit of [`State::migrate`]: swaps the new values in and releases the old ones.
    /// Nothing here can fail.
    ///
    /// # Safety
    /// `built` was built by [`State::build`] from this state with `plan`, and the state has
    /// not changed since.
    unsafe fn commit_built(&mut self, plan: &Plan, built: Built<'_>) -> Report {
        let Built { mut exec, built } = built;
        // Commit: nothing below can fail. First the vectors the build deferred are converted
        // in place, while every old value is still whole.
        // SAFETY: every build of `exec` was kept; the old values were only read since (this
        // function's contract).
        unsafe { exec.convert_in_place() };
        let mut report = Report::default();
        let old = core::mem::take(&mut self.resources);
        for ((_, mut res), (rp, new)) in old.into_iter().zip(plan.resources.iter().zip(built)) {
            match (rp, new) {
                (ResourcePlan::Keep(Kept { new, .. }), _) => {
                    // Same layout: the value stays where it is and adopts the new glue.
                    res.desc = new;
                    res.image = plan.new_image.clone();
                    report.kept.push(new.name().to_owned());
                    self.resources.insert(new.name(), res);
                }
                (ResourcePlan::Migrate { .. }, Some((tp, storage))) => {
                    // SAFETY: the build of `tp` from this old value was kept (it is unchanged:
                    // this function's contract); the old value is not used again: what it
                    // still owns is given up, then its storage freed.
                    unsafe { exec.release_type(tp, res.as_mut_ptr()) };
                    res.free_without_drop();
                    // SAFETY: the build succeeded, so the storage holds a complete value.
                    let new = unsafe { storage.assume_init() };
                    report.migrated.push(new.desc.name().to_owned());
                    self.resources.insert(new.desc.name(), new);
                }
                (ResourcePlan::Migrate { .. }, None) => unreachable!("built above"),
            }
        }
        report.types = plan
            .types
            .iter()
            .zip(&exec.counts)
            .filter_map(|(tp, &values)| tp.diff.clone().map(|diff| TypeReport { diff, values }))
            .collect();
        for (&(trait_name, ty), &n) in &exec.rebound {
            *report.rebound.entry(trait_name.to_owned()).or_default() += n;
            report
                .reboxed
                .entry(trait_name.to_owned())
                .or_default()
                .insert(ty.to_owned(), n);
        }
        report
    }
}
