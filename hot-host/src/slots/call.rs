//! The call path of [`crate::Host::call`], step by step: the live code of the slot, the
//! arguments bound to what the shim reads (resources, primitives, strings, values moved in),
//! room for the return, the raw call, and the returned value read back.

use std::mem::MaybeUninit;

use coo_runtime::migration::execute::{Seg, ValuePath};
use coo_runtime::plugin::{ForeignString, ParamDesc, StrRef, ValueKind};
use coo_runtime::storage::scratch::Scratch;
use coo_runtime::{Resource, State, TypeDesc};

use super::value::{PrimBuf, Value, read_prim, write_prim};
use super::{CallError, CallErrorKind, FnHandle, FnRef};
use crate::state_io::from_json::{Mode, ValueBuilder};
use crate::state_io::json::JsonValue;

/// Calls `f` with `args`, binding `&T`/`&mut T` parameters to the resources of `state` and
/// putting a returned `CooType` value into it (see [`crate::Host::call`]).
pub(crate) fn call(state: &mut State, f: &FnHandle, args: &[Value]) -> Result<Value, CallError> {
    let desc = live_code(f)?;
    refuse_host_objects(f, &desc)?;
    check_arg_count(f, &desc, args)?;
    let mut bound = BoundArgs::bind(state, f, &desc, args)?;
    let ptrs = bound.ptrs();
    let mut ret = ReturnRoom::for_kind(desc.ret);
    // SAFETY: `ptrs` has one pointer per parameter as its kind requires: resources of the very
    // descriptor the function expects, bound at most once when mutable (checked by `bind`);
    // primitives in aligned buffers; `CooType` values (built with the parameter type's own
    // glue) moved in, which `bound` no longer drops once the call ran; `StrRef`s to UTF-8 that
    // outlives the call (for `&str` and `String` parameters). `ret` has room for what the return
    // kind receives (a `ForeignString` for `String`). All of it lives in `bound` and `ret`
    // until the call returned. The caller holds `&mut Host`, so no reload runs during the call.
    let result = unsafe { f.call_raw(ptrs.as_ptr(), ret.ptr()) };
    // The live shim took every moved argument, even when the function panicked (its unwinding
    // frames dropped them): they are no longer ours to drop.
    bound.moved.taken = true;
    result?;
    // SAFETY: the call succeeded, so the shim wrote a value of the return kind of `desc`, which
    // `ret` was made for.
    Ok(unsafe { ret.take(&desc, state) })
}

/// The code in `f`'s slot, when it is live: its current descriptor (whose types are the live
/// resources' types), with the guard that keeps its image mapped for the whole call. A buried
/// slot's error comes from its tombstone.
fn live_code(f: &FnHandle) -> Result<FnRef, CallError> {
    match f.slot().desc() {
        Some(desc) if f.slot().is_live() => Ok(desc),
        _ => {
            // SAFETY: a buried slot's shim is the tombstone, which reads no argument.
            Err(
                unsafe { f.call_raw(core::ptr::null(), core::ptr::null_mut()) }
                    .expect_err("a tombstone fails every call"),
            )
        }
    }
}

/// A function that takes a host object cannot be called with [`Value`]s: only a typed handle
/// passes the caller's objects.
fn refuse_host_objects(f: &FnHandle, desc: &FnRef) -> Result<(), CallError> {
    match desc
        .params
        .iter()
        .find(|p| matches!(p.kind, ValueKind::Host { .. }))
    {
        Some(param) => Err(CallError::of(
            f.path(),
            CallErrorKind::HostObject {
                param: param.name.to_owned(),
                ty: param.kind.text(),
            },
        )),
        None => Ok(()),
    }
}

/// `args` has one value per parameter that is not bound to a resource.
fn check_arg_count(f: &FnHandle, desc: &FnRef, args: &[Value]) -> Result<(), CallError> {
    let value_params = desc
        .params
        .iter()
        .filter(|p| !matches!(p.kind, ValueKind::Ref(_) | ValueKind::RefMut(_)))
        .count();
    if value_params == args.len() {
        Ok(())
    } else {
        Err(CallError::of(
            f.path(),
            CallErrorKind::ArgCount {
                signature: desc.signature(),
                expected: value_params,
                found: args.len(),
            },
        ))
    }
}

/// Where the pointer the shim reads for one parameter points.
enum ArgPlace {
    /// A live resource.
    Resource(*mut u8),
    /// `BoundArgs::prims[i]`.
    Prim(usize),
    /// `BoundArgs::strs[i]`.
    Str(usize),
    /// `BoundArgs::moved.values[i]`.
    Moved(usize),
}

/// The storage of a call's arguments, which lives until the call returned.
#[derive(Default)]
struct BoundArgs {
    prims: Vec<PrimBuf>,
    strs: Vec<StrRef>,
    moved: MovedArgs,
    /// The resource types bound so far, and whether mutably.
    resources: Vec<(&'static str, bool)>,
    places: Vec<ArgPlace>,
}

impl BoundArgs {
    /// Binds every parameter of `desc`, in order: references to the resources of `state`, the
    /// others to the next of `args` (as many as [`check_arg_count`] found).
    fn bind(
        state: &mut State,
        f: &FnHandle,
        desc: &FnRef,
        args: &[Value],
    ) -> Result<BoundArgs, CallError> {
        let mut bound = BoundArgs::default();
        let mut args = args.iter();
        for param in desc.params {
            let bad = |message: String| {
                CallError::of(
                    f.path(),
                    CallErrorKind::BadArg {
                        param: param.name.to_owned(),
                        message,
                    },
                )
            };
            let place = match param.kind {
                ValueKind::Ref(ty) | ValueKind::RefMut(ty) => {
                    let mutable = matches!(param.kind, ValueKind::RefMut(_));
                    bound.bind_resource(state, f, param, ty(), mutable)?
                }
                ValueKind::Value(ty) => bound.bind_moved(f, param, ty(), args.next())?,
                ValueKind::Unit => return Err(bad("`()` is not a parameter type".into())),
                ValueKind::Host { .. } => unreachable!("refused by `refuse_host_objects`"),
                ValueKind::Prim(p) => {
                    let mut buf = PrimBuf::new();
                    let arg = args.next().expect("counted by check_arg_count");
                    write_prim(p, arg, &mut buf).map_err(|e| bad(e.to_string()))?;
                    bound.prims.push(buf);
                    ArgPlace::Prim(bound.prims.len() - 1)
                }
                ValueKind::String | ValueKind::Str => {
                    let Some(Value::String(s)) = args.next() else {
                        return Err(bad("expected a string".into()));
                    };
                    // Both kinds pass the host's bytes: the plugin copies a `String` into its
                    // own memory (no image frees another's allocation).
                    bound.strs.push(StrRef {
                        ptr: s.as_ptr(),
                        len: s.len(),
                    });
                    ArgPlace::Str(bound.strs.len() - 1)
                }
            };
            bound.places.push(place);
        }
        Ok(bound)
    }

    /// Binds a `&ty`/`&mut ty` parameter to the live resource of `ty`, at most once when
    /// mutable.
    fn bind_resource(
        &mut self,
        state: &mut State,
        f: &FnHandle,
        param: &ParamDesc,
        ty: &'static TypeDesc,
        mutable: bool,
    ) -> Result<ArgPlace, CallError> {
        if self
            .resources
            .iter()
            .any(|&(t, m)| t == ty.name && (m || mutable))
        {
            return Err(CallError::of(
                f.path(),
                CallErrorKind::Aliased {
                    ty: ty.name.to_owned(),
                },
            ));
        }
        self.resources.push((ty.name, mutable));
        let resource = state.resource_mut(ty.name).ok_or_else(|| {
            CallError::of(
                f.path(),
                CallErrorKind::NoResource {
                    ty: ty.name.to_owned(),
                },
            )
        })?;
        if !core::ptr::eq(resource.desc(), ty) {
            return Err(CallError::of(
                f.path(),
                CallErrorKind::BadArg {
                    param: param.name.to_owned(),
                    message: format!("the live `{}` is not of this version of the type", ty.name),
                },
            ));
        }
        Ok(ArgPlace::Resource(resource.as_mut_ptr()))
    }

    /// Builds a `ty` taken by value from its JSON argument, in scratch memory the call moves it
    /// out of.
    fn bind_moved(
        &mut self,
        f: &FnHandle,
        param: &ParamDesc,
        ty: &'static TypeDesc,
        arg: Option<&Value>,
    ) -> Result<ArgPlace, CallError> {
        let Some(Value::Json(text)) = arg else {
            return Err(CallError::of(
                f.path(),
                CallErrorKind::ByValue {
                    ty: ty.name.to_owned(),
                },
            ));
        };
        let bad = |message: String| {
            CallError::of(
                f.path(),
                CallErrorKind::BadArg {
                    param: param.name.to_owned(),
                    message,
                },
            )
        };
        let json = JsonValue::parse(text).map_err(|e| bad(e.to_string()))?;
        let scratch = Scratch::for_type(ty);
        let mut builder = ValueBuilder::new(Mode::Exact);
        builder.at(ValuePath(vec![Seg::Name(param.name.to_owned())]));
        // SAFETY: the scratch is fresh memory with `ty`'s layout; on error nothing is left in
        // it.
        unsafe { builder.build_type(ty, &json, scratch.ptr()) }.map_err(|e| bad(e.to_string()))?;
        self.moved.values.push((scratch, ty));
        Ok(ArgPlace::Moved(self.moved.values.len() - 1))
    }

    /// One pointer per parameter, into this storage (valid while it lives and is not bound
    /// further).
    fn ptrs(&mut self) -> Vec<*mut u8> {
        self.places
            .iter()
            .map(|place| match *place {
                ArgPlace::Resource(p) => p,
                ArgPlace::Prim(i) => self.prims[i].0.as_mut_ptr(),
                ArgPlace::Str(i) => (&raw mut self.strs[i]).cast(),
                ArgPlace::Moved(i) => self.moved.values[i].0.ptr(),
            })
            .collect()
    }
}

/// Room for what a function returns, by its return kind.
struct ReturnRoom {
    kind: ValueKind,
    prim: PrimBuf,
    string: MaybeUninit<ForeignString>,
    value: Option<Scratch>,
}

impl ReturnRoom {
    fn for_kind(kind: ValueKind) -> ReturnRoom {
        ReturnRoom {
            kind,
            prim: PrimBuf::new(),
            string: MaybeUninit::uninit(),
            value: match kind {
                ValueKind::Value(ty) => Some(Scratch::for_type(ty())),
                _ => None,
            },
        }
    }

    /// Where the shim writes the return value: a `ForeignString` for `String`, the value's
    /// storage for a `CooType`, the primitive buffer otherwise (unused by `()`, `&str` and
    /// references).
    fn ptr(&mut self) -> *mut u8 {
        match (&self.kind, &self.value) {
            (ValueKind::String, _) => self.string.as_mut_ptr().cast(),
            (ValueKind::Value(_), Some(storage)) => storage.ptr(),
            _ => self.prim.0.as_mut_ptr(),
        }
    }

    /// The returned value; a `CooType` value becomes the resource of its type in `state`.
    ///
    /// # Safety
    /// The shim wrote a value of the return kind through [`ReturnRoom::ptr`]; `desc` is the
    /// function whose return kind this room was made for.
    unsafe fn take(self, desc: &FnRef, state: &mut State) -> Value {
        match self.kind {
            ValueKind::Unit => Value::Unit,
            // SAFETY: the caller's contract: a `p` is in the buffer.
            ValueKind::Prim(p) => unsafe { read_prim(p, &self.prim) },
            // SAFETY: as above, a `ForeignString`: copied into the host's memory, and the
            // plugin's string freed by the plugin.
            ValueKind::String => Value::String(unsafe { self.string.assume_init() }.into_string()),
            ValueKind::Value(ty) => {
                let storage = self.value.expect("allocated for value returns");
                // SAFETY: the caller's contract: the storage holds a valid value of `ty`, which
                // moves into the new resource (the storage is only freed). `ty` lives in the
                // function's image, which `desc.image()` guards.
                let resource =
                    unsafe { Resource::from_raw_in(ty(), storage.ptr(), desc.image().clone()) };
                let ty_name = resource.desc().name.to_owned();
                state.insert_resource(resource);
                Value::Resource(ty_name)
            }
            ValueKind::Str | ValueKind::Ref(_) | ValueKind::RefMut(_) | ValueKind::Host { .. } => {
                Value::Unit
            }
        }
    }
}

/// Arguments that a call moves into the function (`CooType` values): dropped here if the call
/// never happens, never after it did.
#[derive(Default)]
struct MovedArgs {
    values: Vec<(Scratch, &'static TypeDesc)>,
    taken: bool,
}

impl Drop for MovedArgs {
    fn drop(&mut self) {
        if self.taken {
            return;
        }
        for (scratch, desc) in &self.values {
            // SAFETY: the call did not happen: the scratch holds the complete value built for
            // it, dropped once with its own build's glue; the scratch then only frees memory.
            unsafe { (desc.glue.drop)(scratch.ptr()) };
        }
    }
}
