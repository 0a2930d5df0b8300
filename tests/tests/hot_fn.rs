//! What `#[hot_fn]` registers, checked at run time: the descriptors in this build's manifest
//! (paths, signatures, parameter and return kinds), and the shims, called by hand the way the
//! host calls them: one pointer per parameter in `args`, a return slot, and a panic slot; and
//! the direct and raising entries that typed handles call.

use core::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::{AtomicUsize, Ordering};

use coo_runtime::plugin::{FnDesc, ForeignString, Manifest, StrRef, ValueKind};
use coo_runtime::{CooType, Prim, hot_fn};

#[derive(CooType, Debug, PartialEq)]
pub struct World {
    frame: u32,
    time: f32,
}

#[derive(CooType, Debug, PartialEq)]
pub struct Vec2 {
    x: f32,
    y: f32,
}

#[hot_fn]
fn tick(world: &mut World, dt: f32) -> u32 {
    world.frame += 1;
    world.time += dt;
    world.frame
}

#[hot_fn]
fn frame(world: &World) -> u32 {
    world.frame
}

#[hot_fn]
fn greet(name: &str, times: u32) -> String {
    format!("hello {name}").repeat(times as usize)
}

#[hot_fn]
fn make_vec(x: f32, y: f32) -> Vec2 {
    Vec2 { x, y }
}

#[hot_fn]
fn shout(mut text: String) -> String {
    text.make_ascii_uppercase();
    text
}

#[hot_fn]
fn explode(what: &str) -> u32 {
    panic!("{what} exploded")
}

#[hot_fn]
fn nothing() {}

/// Another name of `World`, which `#[hot_fn]` cannot see through.
type SameWorld = World;

/// Takes two resources of one type, one of them mutably: the shim refuses one value for both.
#[hot_fn]
fn merge(into: &mut World, from: &SameWorld) {
    into.frame += from.frame;
}

/// How many `Token`s were dropped.
static TOKENS_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A by-value argument whose drops are counted.
#[derive(CooType, Debug)]
pub struct Token {
    id: u32,
}

impl Drop for Token {
    fn drop(&mut self) {
        TOKENS_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

/// As `merge`, with a by-value argument: a refused call still drops it, once.
#[hot_fn]
fn merge_with(into: &mut World, from: &SameWorld, token: Token) -> u32 {
    into.frame += from.frame;
    token.id
}

/// Compiled out, so not registered (the registration carries the function's `cfg`).
#[hot_fn]
#[cfg(any())]
fn compiled_out() {}

mod sim {
    use coo_runtime::hot_fn;

    #[hot_fn]
    pub fn step(r#type: u8, _: bool) -> u8 {
        r#type + 1
    }

    /// An alternative implementation of `step`, chosen by the name `twice`.
    #[hot_fn(alt_of = "step", name = "twice")]
    pub fn step_twice(r#type: u8, _skip: bool) -> u8 {
        r#type + 2
    }

    /// An alternative chosen by its own name (`alt_of` written as a path).
    #[hot_fn(alt_of = step)]
    pub fn stay(r#type: u8, _: bool) -> u8 {
        r#type
    }
}

#[hot_fn]
impl World {
    #[hot_fn]
    fn new() -> World {
        World {
            frame: 0,
            time: 0.0,
        }
    }

    #[hot_fn]
    fn advance(&mut self, frames: u32) {
        self.frame += frames;
    }

    #[hot_fn]
    fn frame_of(&self) -> u32 {
        self.frame
    }

    #[hot_fn]
    fn into_time(self) -> f32 {
        self.time
    }

    #[hot_fn]
    #[cfg(any())]
    fn compiled_out(&self) {}

    /// Not marked, although `pub`: the block marks the functions it registers.
    pub fn reset(&mut self) {
        self.frame = 0;
    }
}

/// No function is marked: every `pub` one is registered.
#[hot_fn]
impl Vec2 {
    pub fn length(&self) -> f32 {
        (self.x * self.x + self.y * self.y).sqrt()
    }

    pub fn scaled(self, by: f32) -> Self {
        Vec2 {
            x: self.x * by,
            y: self.y * by,
        }
    }

    #[allow(dead_code)]
    fn private(&self) {}
}

fn find(path: &str) -> &'static FnDesc {
    Manifest::of_this_build()
        .fns()
        .iter()
        .find(|desc| desc.path() == path)
        .unwrap_or_else(|| panic!("`{path}` is not registered"))
}

/// Calls `desc`'s shim with `args` and reads the return slot as an `R`, or the panic slot.
///
/// # Safety
/// `args` holds one pointer per parameter of `desc`, each as its `ValueKind` requires (by-value
/// arguments are moved out: the caller must not drop them again), and `R` is what the return
/// slot receives (a `ForeignString` for `String`).
unsafe fn call<R>(desc: &FnDesc, args: &[*mut u8]) -> Result<R, String> {
    assert_eq!(args.len(), desc.params().len(), "{}", desc.signature());
    let mut ret = MaybeUninit::<R>::uninit();
    let mut panic = MaybeUninit::<ForeignString>::uninit();
    // SAFETY: the caller's contract covers `args`; `ret` has room for an `R`, what the return
    // slot receives, and `panic` for a `ForeignString`.
    let ok = unsafe { desc.shim()(args.as_ptr(), ret.as_mut_ptr().cast(), panic.as_mut_ptr()) };
    if ok {
        // SAFETY: the shim returned `true`, so it wrote the return value.
        Ok(unsafe { ret.assume_init() })
    } else {
        // SAFETY: the shim returned `false`, so it wrote the panic message.
        Err(unsafe { panic.assume_init() }.into_string())
    }
}

fn ptr<T>(value: &mut T) -> *mut u8 {
    (value as *mut T).cast()
}

#[test]
fn every_hot_fn_is_registered_once_by_its_path() {
    let paths: Vec<String> = Manifest::of_this_build()
        .fns()
        .iter()
        .map(|desc| desc.path())
        .collect();
    assert_eq!(
        paths,
        [
            "Vec2::length",
            "Vec2::scaled",
            "World::advance",
            "World::frame_of",
            "World::into_time",
            "World::new",
            "explode",
            "frame",
            "greet",
            "make_vec",
            "merge",
            "merge_with",
            "nothing",
            "shout",
            "sim::step",
            "tick",
        ]
    );
    let step = find("sim::step");
    assert_eq!(step.module(), "hot_fn::sim");
    assert_eq!(step.name(), "step");
    assert_eq!(find("World::new").name(), "World::new");
}

#[test]
fn signatures_describe_how_each_value_crosses() {
    let signature = |path: &str| find(path).signature();
    assert_eq!(signature("tick"), "fn(world: &mut World, dt: f32) -> u32");
    assert_eq!(signature("frame"), "fn(world: &World) -> u32");
    assert_eq!(signature("greet"), "fn(name: &str, times: u32) -> String");
    assert_eq!(signature("make_vec"), "fn(x: f32, y: f32) -> Vec2");
    assert_eq!(signature("shout"), "fn(text: String) -> String");
    assert_eq!(signature("nothing"), "fn()");
    assert_eq!(signature("sim::step"), "fn(type: u8, _: bool) -> u8");
    assert_eq!(signature("World::new"), "fn() -> World");
    assert_eq!(
        signature("World::advance"),
        "fn(self: &mut World, frames: u32)"
    );
    assert_eq!(signature("World::frame_of"), "fn(self: &World) -> u32");
    assert_eq!(signature("World::into_time"), "fn(self: World) -> f32");
    assert_eq!(signature("Vec2::length"), "fn(self: &Vec2) -> f32");
    assert_eq!(signature("Vec2::scaled"), "fn(self: Vec2, by: f32) -> Vec2");

    let tick = find("tick");
    assert_eq!(tick.params()[0].name(), "world");
    assert!(matches!(tick.params()[0].kind(), ValueKind::RefMut(d) if d.get().name() == "World"));
    assert!(matches!(
        tick.params()[1].kind(),
        ValueKind::Prim(Prim::F32)
    ));
    assert!(matches!(tick.ret(), ValueKind::Prim(Prim::U32)));
    assert!(
        matches!(find("frame").params()[0].kind(), ValueKind::Ref(d) if d.get().name() == "World")
    );
    assert!(matches!(find("greet").params()[0].kind(), ValueKind::Str));
    assert!(matches!(find("greet").ret(), ValueKind::String));
    assert!(matches!(find("make_vec").ret(), ValueKind::Value(d) if d.get().name() == "Vec2"));
    assert!(matches!(find("nothing").ret(), ValueKind::Unit));
    assert!(matches!(
        find("World::into_time").params()[0].kind(),
        ValueKind::Value(d) if d.get().name() == "World"
    ));
}

#[test]
fn a_mut_ref_fn_changes_the_resource() {
    let mut world = World {
        frame: 7,
        time: 1.0,
    };
    let mut dt = 0.5_f32;
    // SAFETY: `tick(&mut World, f32) -> u32`: the slots point to a `World` that nothing else
    // uses during the call and to an `f32` (which is `Copy`, so moving it out is harmless).
    let frame = unsafe { call::<u32>(find("tick"), &[ptr(&mut world), ptr(&mut dt)]) };
    assert_eq!(frame, Ok(8));
    assert_eq!(
        world,
        World {
            frame: 8,
            time: 1.5
        }
    );

    // SAFETY: `frame(&World) -> u32`, and the slot points to a `World`.
    let frame = unsafe { call::<u32>(find("frame"), &[ptr(&mut world)]) };
    assert_eq!(frame, Ok(8));

    let mut frames = 2_u32;
    // SAFETY: `World::advance(&mut self, u32)`, and the slots point to a `World` and a `u32`.
    let done = unsafe { call::<()>(find("World::advance"), &[ptr(&mut world), ptr(&mut frames)]) };
    assert_eq!(done, Ok(()));
    assert_eq!(world.frame, 10);
    // SAFETY: `World::frame_of(&self) -> u32`, and the slot points to a `World`.
    let frame = unsafe { call::<u32>(find("World::frame_of"), &[ptr(&mut world)]) };
    assert_eq!(frame, Ok(10));
}

#[test]
fn str_args_and_string_returns() {
    let name = "coo";
    let mut name = StrRef {
        ptr: name.as_ptr(),
        len: name.len(),
    };
    let mut times = 2_u32;
    // SAFETY: `greet(&str, u32) -> String`: the first slot points to a `StrRef` of UTF-8 bytes
    // that outlive the call, the second to a `u32`; a returned `String` is a `ForeignString`.
    let greeting =
        unsafe { call::<ForeignString>(find("greet"), &[ptr(&mut name), ptr(&mut times)]) };
    assert_eq!(
        greeting.map(ForeignString::into_string).as_deref(),
        Ok("hello coohello coo")
    );

    // A `String` argument is passed as a `StrRef` too: the shim copies it, the caller keeps its
    // own string (and frees it with its own allocator).
    let text = String::from("copied in");
    let mut text_ref = StrRef {
        ptr: text.as_ptr(),
        len: text.len(),
    };
    // SAFETY: `shout(String) -> String`: the slot points to a `StrRef` of UTF-8 bytes that
    // outlive the call.
    let shouted = unsafe { call::<ForeignString>(find("shout"), &[ptr(&mut text_ref)]) };
    assert_eq!(
        shouted.map(ForeignString::into_string).as_deref(),
        Ok("COPIED IN")
    );
    assert_eq!(text, "copied in");
}

#[test]
fn coo_type_values_cross_both_ways() {
    let (mut x, mut y) = (3.0_f32, 4.0_f32);
    // SAFETY: `make_vec(f32, f32) -> Vec2`, and the slots point to two `f32`s.
    let made = unsafe { call::<Vec2>(find("make_vec"), &[ptr(&mut x), ptr(&mut y)]) };
    let mut made = made.unwrap();
    assert_eq!(made, Vec2 { x: 3.0, y: 4.0 });

    // SAFETY: `Vec2::length(&self) -> f32`, and the slot points to a `Vec2`.
    let length = unsafe { call::<f32>(find("Vec2::length"), &[ptr(&mut made)]) };
    assert_eq!(length, Ok(5.0));

    let mut made = ManuallyDrop::new(made);
    let mut by = 2.0_f32;
    // SAFETY: `Vec2::scaled(self, f32) -> Vec2`: the slots point to a `Vec2` that the shim
    // moves out (`ManuallyDrop` keeps it from being dropped here) and to an `f32`.
    let scaled = unsafe { call::<Vec2>(find("Vec2::scaled"), &[ptr(&mut *made), ptr(&mut by)]) };
    assert_eq!(scaled, Ok(Vec2 { x: 6.0, y: 8.0 }));

    // SAFETY: `World::new() -> World` takes no arguments.
    let world = unsafe { call::<World>(find("World::new"), &[]) };
    assert_eq!(
        world,
        Ok(World {
            frame: 0,
            time: 0.0
        })
    );
    let mut world = ManuallyDrop::new(World {
        frame: 1,
        time: 2.5,
    });
    // SAFETY: `World::into_time(self) -> f32`: the slot points to a `World` that the shim
    // moves out; `ManuallyDrop` keeps it from being dropped here.
    let time = unsafe { call::<f32>(find("World::into_time"), &[ptr(&mut *world)]) };
    assert_eq!(time, Ok(2.5));
}

#[test]
fn a_panic_is_caught_and_reported_in_the_panic_slot() {
    let what = "the reactor";
    let mut what = StrRef {
        ptr: what.as_ptr(),
        len: what.len(),
    };
    // SAFETY: `explode(&str) -> u32`, and the slot points to a `StrRef` of UTF-8 bytes that
    // outlive the call.
    let result = unsafe { call::<u32>(find("explode"), &[ptr(&mut what)]) };
    assert_eq!(result, Err("the reactor exploded".to_owned()));

    // The process goes on, and the shims still work.
    // SAFETY: `nothing()` takes no arguments and returns `()`.
    let done = unsafe { call::<()>(find("nothing"), &[]) };
    assert_eq!(done, Ok(()));
}

#[test]
fn one_resource_is_not_passed_as_two_references() {
    let mut a = World {
        frame: 1,
        time: 0.0,
    };
    let mut b = World {
        frame: 2,
        time: 0.0,
    };
    // SAFETY: `merge(&mut World, &World)`, and the slots point to two distinct `World`s.
    let done = unsafe { call::<()>(find("merge"), &[ptr(&mut a), ptr(&mut b)]) };
    assert_eq!(done, Ok(()));
    assert_eq!(a.frame, 3);

    let same = ptr(&mut a);
    // SAFETY: the slots point to one `World` twice, which the shim detects before it creates
    // any reference.
    let refused = unsafe { call::<()>(find("merge"), &[same, same]) };
    assert_eq!(
        refused,
        Err("`merge` was called with one resource as both `into` and `from`, and one of them is `&mut`".to_owned())
    );
    assert_eq!(a.frame, 3);
}

#[test]
fn a_refused_call_drops_its_by_value_arguments_once() {
    let mut world = World {
        frame: 1,
        time: 0.0,
    };
    let same = ptr(&mut world);
    let mut token = ManuallyDrop::new(Token { id: 7 });
    let before = TOKENS_DROPPED.load(Ordering::SeqCst);
    // SAFETY: `merge_with(&mut World, &World, Token) -> u32`: the first two slots point to one
    // `World`, which the shim refuses before it creates any reference; the third to a `Token`
    // that the shim takes (`ManuallyDrop` keeps this frame from dropping it again).
    let refused = unsafe { call::<u32>(find("merge_with"), &[same, same, ptr(&mut *token)]) };
    assert_eq!(
        refused,
        Err("`merge_with` was called with one resource as both `into` and `from`, and one of them is `&mut`".to_owned())
    );
    assert_eq!(TOKENS_DROPPED.load(Ordering::SeqCst) - before, 1);
    assert_eq!(world.frame, 1);

    // A call that runs drops it once too (at the end of the function).
    let mut other = World {
        frame: 2,
        time: 0.0,
    };
    let mut token = ManuallyDrop::new(Token { id: 8 });
    let before = TOKENS_DROPPED.load(Ordering::SeqCst);
    // SAFETY: as above, with two distinct `World`s.
    let id = unsafe {
        call::<u32>(
            find("merge_with"),
            &[ptr(&mut world), ptr(&mut other), ptr(&mut *token)],
        )
    };
    assert_eq!(id, Ok(8));
    assert_eq!(TOKENS_DROPPED.load(Ordering::SeqCst) - before, 1);
    assert_eq!(world.frame, 3);
}

#[test]
fn hot_fns_stay_callable_directly() {
    let mut world = World::new();
    assert_eq!(tick(&mut world, 0.25), 1);
    world.advance(2);
    assert_eq!(world.frame_of(), 3);
    assert_eq!(frame(&world), 3);
    world.reset();
    assert_eq!(world.into_time(), 0.25);
    assert_eq!(greet("x", 1), "hello x");
    assert_eq!(shout("a".to_owned()), "A");
    assert_eq!(sim::step(1, false), 2);
    assert_eq!(make_vec(0.0, 2.0).scaled(0.5).length(), 1.0);
    nothing();
    let panic = std::panic::catch_unwind(|| explode("it")).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("it exploded")
    );
}

#[test]
fn alternatives_are_registered_apart_with_their_function_and_name() {
    let manifest = Manifest::of_this_build();
    let alternatives: Vec<(Option<String>, &str, String)> = manifest
        .alternatives()
        .iter()
        .map(|f| (f.alternative_of(), f.alternative_name(), f.signature()))
        .collect();
    assert_eq!(
        alternatives,
        [
            (
                Some("sim::step".to_owned()),
                "stay",
                "fn(type: u8, _: bool) -> u8".to_owned()
            ),
            (
                Some("sim::step".to_owned()),
                "twice",
                "fn(type: u8, _skip: bool) -> u8".to_owned()
            ),
        ]
    );
    // The function itself is no alternative, and is chosen by its name.
    let step = find("sim::step");
    assert_eq!(
        (step.alternative_of(), step.alternative_name()),
        (None, "step")
    );
    assert!(manifest.fns().iter().all(|f| f.alternative_of().is_none()));
    // An alternative's shim is its own code.
    let twice = manifest.alternatives()[1];
    let (mut ty, mut skip) = (5u8, false);
    // SAFETY: `step_twice(u8, bool) -> u8`: one pointer to a `u8`, one to a `bool`, both
    // primitives (nothing to drop), and a `u8` return.
    let stepped = unsafe { call::<u8>(twice, &[ptr(&mut ty), ptr(&mut skip)]) };
    assert_eq!(stepped, Ok(7));
}

/// The direct and raising entries, called by hand the way typed handles call them (the
/// values in registers, the resources behind one pointer each). In this statically linked
/// build no hook is installed, so the raising entry re-raises a caught panic with this copy of
/// `std`: the same unwind a host's hook starts (`coo_runtime::plugin::raise`).
#[test]
fn the_direct_and_raising_entries_take_values_and_report_panics_each_their_way() {
    use coo_runtime::plugin::ErasedFn;
    use coo_runtime::plugin::raise::PluginPanic;
    use std::sync::atomic::AtomicPtr;

    type Tick = unsafe fn(*const AtomicPtr<u8>, f32) -> u32;
    type TickDirect = unsafe fn(*const AtomicPtr<u8>, f32, *mut ForeignString) -> Option<u32>;
    type Explode = unsafe fn(*const AtomicPtr<u8>, &str) -> u32;
    type ExplodeDirect = unsafe fn(*const AtomicPtr<u8>, &str, *mut ForeignString) -> Option<u32>;

    let mut world = World {
        frame: 0,
        time: 0.0,
    };
    let resources = [AtomicPtr::new(ptr(&mut world))];
    let tick = find("tick");
    // SAFETY: only the types are erased: `tick(&mut World, f32) -> u32`'s entries have these
    // types (`ErasedFn`'s contract).
    let (raising, direct) = unsafe {
        (
            core::mem::transmute::<ErasedFn, Tick>(tick.raising()),
            core::mem::transmute::<ErasedFn, TickDirect>(tick.direct()),
        )
    };
    let mut panic = MaybeUninit::<ForeignString>::uninit();
    // SAFETY: `resources` holds the address of a `World` that nothing else uses meanwhile.
    unsafe {
        assert_eq!(raising(resources.as_ptr(), 0.5), 1);
        assert_eq!(direct(resources.as_ptr(), 0.5, panic.as_mut_ptr()), Some(2));
    }
    assert_eq!(world.frame, 2);

    let explode = find("explode");
    // SAFETY: as above, for `explode(&str) -> u32`, which takes no resource.
    let (raising, direct) = unsafe {
        (
            core::mem::transmute::<ErasedFn, Explode>(explode.raising()),
            core::mem::transmute::<ErasedFn, ExplodeDirect>(explode.direct()),
        )
    };
    // SAFETY: the entry reads no resources (dangling is fine); it panics, which it reports by
    // unwinding with a `PluginPanic`.
    let unwound = std::panic::catch_unwind(|| unsafe { raising(core::ptr::null(), "the core") });
    let payload = unwound.expect_err("the raising entry unwinds");
    assert_eq!(
        payload
            .downcast_ref::<PluginPanic>()
            .map(|p| p.message.as_str()),
        Some("the core exploded")
    );
    // SAFETY: as above; the direct entry writes the message to `panic` when it returns `None`.
    let flagged = unsafe { direct(core::ptr::null(), "the pump", panic.as_mut_ptr()) };
    assert_eq!(flagged, None);
    // SAFETY: it returned `None`, so it wrote the message.
    let message = unsafe { panic.assume_init() }.into_string();
    assert_eq!(message, "the pump exploded");
}
