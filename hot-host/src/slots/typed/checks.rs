//! What a typed handle checks: at resolve, the plugin's signature against the Rust function
//! type (`resolve`); at the first call of an epoch, the host, the slot and the resources, which
//! fill the handle's cache (`renew`). Both run off the call path.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use coo_runtime::TypeDesc;
use coo_runtime::plugin::ValueKind;

use super::{Cache, HotFn, HotSig, MAX_PARAMS, Typed, TypedValue};
use crate::slots::{CallError, CallErrorKind, Slot};

/// A resource parameter: its type's stable name, and whether it is borrowed mutably.
#[derive(Debug)]
struct ResourceParam<'a> {
    ty: &'a str,
    mutable: bool,
}

/// How the host is borrowed for a call: exclusively (`call`) or shared (`call_shared`).
pub(super) enum Borrow<'h> {
    Exclusive(&'h mut crate::Host),
    Shared(&'h crate::Host),
}

impl Borrow<'_> {
    /// The address of the live resource named `ty`, and the address of its type's descriptor
    /// (to compare only: the descriptor is the state's, borrowed no longer than this call). The
    /// address of an exclusive borrow may be written through; a shared one only read.
    fn resource(&mut self, ty: &str) -> Option<(*mut u8, *const TypeDesc)> {
        match self {
            Borrow::Exclusive(host) => {
                let resource = host.state_for_calls().resource_mut(ty)?;
                Some((resource.as_mut_ptr(), resource.desc()))
            }
            Borrow::Shared(host) => {
                let resource = host.state().resource(ty)?;
                Some((resource.as_ptr().cast_mut(), resource.desc()))
            }
        }
    }
}

impl<F: HotSig> HotFn<F> {
    /// Checks the live `slot`'s function against `F`. `host` is the id of the host it belongs
    /// to.
    pub(crate) fn resolve(slot: Arc<Slot>, path: &str, host: u64) -> Result<HotFn<F>, CallError> {
        let resolved = slot.desc().ok_or_else(|| {
            CallError::of(
                path.to_owned(),
                CallErrorKind::NotFound { known: Vec::new() },
            )
        })?;
        let untyped = || {
            CallError::of(
                path.to_owned(),
                CallErrorKind::Untyped {
                    signature: resolved.signature(),
                },
            )
        };
        let mut indices = Vec::new();
        let mut resources = Vec::<ResourceParam>::new();
        let mut args = Vec::new();
        for (index, param) in resolved.params().iter().enumerate() {
            match param.kind() {
                ValueKind::Ref(ty) | ValueKind::RefMut(ty) => {
                    let mutable = matches!(param.kind(), ValueKind::RefMut(_));
                    let ty = ty.get().name();
                    if resources
                        .iter()
                        .any(|r| r.ty == ty && (r.mutable || mutable))
                    {
                        return Err(CallError::of(
                            path.to_owned(),
                            CallErrorKind::Aliased { ty: ty.to_owned() },
                        ));
                    }
                    indices.push(index);
                    resources.push(ResourceParam { ty, mutable });
                }
                ValueKind::Prim(_) | ValueKind::Host { .. } => args.push(param.kind()),
                ValueKind::Unit | ValueKind::String | ValueKind::Str | ValueKind::Value(_) => {
                    return Err(untyped());
                }
            }
        }
        if !matches!(resolved.ret(), ValueKind::Unit | ValueKind::Prim(_))
            || resolved.params().len() > MAX_PARAMS
        {
            return Err(untyped());
        }
        let passed: Vec<_> = resolved
            .params()
            .iter()
            .filter(|p| !matches!(p.kind(), ValueKind::Ref(_) | ValueKind::RefMut(_)))
            .collect();
        if let Some(err) = crate::slots::host_objects::mismatch(&passed, &F::params()) {
            return Err(CallError::of(path.to_owned(), err));
        }
        if !args.iter().copied().eq(F::params().iter())
            || *resolved.ret() != <F::Ret as TypedValue>::KIND
        {
            let typed: Vec<String> = args.iter().map(|kind| kind.text()).collect();
            let typed = match resolved.ret() {
                ValueKind::Unit => format!("fn({})", typed.join(", ")),
                ret => format!("fn({}) -> {}", typed.join(", "), ret.text()),
            };
            return Err(CallError::of(
                path.to_owned(),
                CallErrorKind::Mismatch {
                    expected: F::text(),
                    found: resolved.signature(),
                    typed,
                },
            ));
        }
        // Before the handle exists: a burial of the slot (later, in a reload) makes its raising
        // entry this handle's type of stub.
        slot.set_stub(F::buried_entry());
        let exclusive = resources.iter().find(|r| r.mutable).map(|r| r.ty.into());
        let not_sync = if resolved.refs_sync() {
            None
        } else {
            resources.iter().find(|r| !r.mutable).map(|r| r.ty.into())
        };
        Ok(HotFn {
            cache: Cache::empty(),
            slot,
            typed: Arc::new(Typed {
                resolved,
                path: path.into(),
                host,
                resources: indices.into(),
                exclusive,
                not_sync,
            }),
            _f: PhantomData,
        })
    }

    /// The first call in an epoch: checks the host, the slot and (for `call_shared`) the
    /// function, and fills the cache for that epoch.
    #[cold]
    #[inline(never)]
    pub(super) fn renew(&self, host: Borrow<'_>) -> Result<(), Box<CallError>> {
        self.renew_in(host).map_err(Box::new)
    }

    /// [`HotFn::renew`], its error not yet boxed.
    fn renew_in(&self, mut host: Borrow<'_>) -> Result<(), CallError> {
        let t = &*self.typed;
        let shared = matches!(host, Borrow::Shared(_));
        if shared {
            if let Some(ty) = &t.exclusive {
                return Err(self.error(CallErrorKind::Exclusive { ty: ty.to_string() }));
            }
            if let Some(ty) = &t.not_sync {
                return Err(self.error(CallErrorKind::NotSync { ty: ty.to_string() }));
            }
        }
        let (id, epoch) = match &host {
            Borrow::Exclusive(h) => (h.id(), h.epoch()),
            Borrow::Shared(h) => (h.id(), h.epoch()),
        };
        if id != t.host {
            // That host's borrow would not keep this one's code mapped.
            return Err(self.error(CallErrorKind::OtherHost));
        }
        if !self.slot.is_live() {
            // Buried: removed, or its signature changed.
            return Err(self.failure());
        }
        if !t.resources.is_empty() {
            let live = self.slot.desc().expect("a live slot has code");
            for (bound, &index) in self.cache.bound.iter().zip(&t.resources) {
                let param = &live.params()[index];
                let (ValueKind::Ref(ty) | ValueKind::RefMut(ty)) = param.kind() else {
                    unreachable!("a live slot keeps the signature it was resolved with")
                };
                let want = ty.get();
                let (ptr, desc) = host.resource(want.name()).ok_or_else(|| {
                    self.error(CallErrorKind::NoResource {
                        ty: want.name().to_owned(),
                    })
                })?;
                if !core::ptr::eq(desc, want) {
                    return Err(self.error(CallErrorKind::BadArg {
                        param: param.name().to_owned(),
                        message: format!(
                            "the live `{}` is not of this version of the type",
                            want.name()
                        ),
                    }));
                }
                bound.store(ptr, Ordering::Relaxed);
            }
        }
        let raising = self.slot.raising.load(Ordering::Acquire);
        let direct = self.slot.direct.load(Ordering::Acquire);
        self.cache.raising.store(raising, Ordering::Relaxed);
        self.cache.direct.store(direct, Ordering::Relaxed);
        // Shared calls only read the resources, and exclusive ones of a function that
        // `call_shared` accepts read them too: one look-up serves both kinds.
        let shareable = t.exclusive.is_none() && t.not_sync.is_none();
        if shareable || !shared {
            self.cache.epoch.store(epoch, Ordering::Release);
        }
        if shareable {
            self.cache.shared_epoch.store(epoch, Ordering::Release);
        }
        Ok(())
    }
}
