//! Generated nested struct types, a property of `random_layouts`.

use super::*;

// ------------------------------------------------------------------------ nested struct types
//
// A chain of 2 to 4 struct types `Nest0 { .., child: Nest1, .. }`, `Nest1 { .., child: Nest2 }`,
// …, each holding the next one by value (at a random position among a few menu fields), built
// at runtime like `Rand`. Each type independently keeps its layout or changes it (a field
// removed, added, widened, or two fields swapped), so a changed type sits inside unchanged ones
// and unchanged ones inside changed ones, at any depth. A type must be migrated exactly when it
// or a type below it changed (its own fields unchanged or not: the child's layout is part of
// its own), and kept (moved bitwise, no plan of its own) otherwise; the resource `Nest0` is kept
// in place when nothing changed. The values are checked at every depth (converted, defaults in
// new fields, heap allocations of kept fields moved, not copied), and every `Tracked` is dropped
// exactly once: removed ones at commit, the rest with the state.
//
// With hooks: some of the types that must be migrated get a hook, which runs once, reads the
// old value's view and sets the new value's `u32` fields; from the topmost hooked type down,
// values are built as independent copies (the old ones dropped whole at commit, the copies with
// the state). When the topmost hook fails instead, the migration is refused with `Hook` naming
// the path and type, the hooks below it ran on the copy, which is dropped whole, and nothing of
// the old value changed; with the hook fixed, the same reload goes through.

/// The most types in a chain.
const DEPTH: usize = 4;

const NEST_NAMES: [&str; DEPTH] = ["Nest0", "Nest1", "Nest2", "Nest3"];

const NEST_RUST_NAMES: [&str; 2 * DEPTH] = [
    "random_layouts::old::Nest0",
    "random_layouts::old::Nest1",
    "random_layouts::old::Nest2",
    "random_layouts::old::Nest3",
    "random_layouts::new::Nest0",
    "random_layouts::new::Nest1",
    "random_layouts::new::Nest2",
    "random_layouts::new::Nest3",
];

/// The descriptor in each slot: old `Nest{i}` in slot `i`, new in slot `DEPTH + i`.
static NEST_DESCS: [Mutex<Option<&'static TypeDesc>>; 2 * DEPTH] =
    [const { Mutex::new(None) }; 2 * DEPTH];

/// The shape of the type in each slot (held by value in the type above it).
static NEST_SHAPES: [Mutex<Option<&'static Shape>>; 2 * DEPTH] =
    [const { Mutex::new(None) }; 2 * DEPTH];

/// Every shape built so far (leaked, like the descriptors; kept reachable for Miri).
static NEST_BUILT_SHAPES: Mutex<Vec<&'static Shape>> = Mutex::new(Vec::new());

/// The field list (offset, shape) of the layout in each slot, for its drop glue.
static NEST_LAYOUTS: [Mutex<Vec<(usize, &'static Shape)>>; 2 * DEPTH] =
    [const { Mutex::new(Vec::new()) }; 2 * DEPTH];

static NEST_GLUES: [TypeGlue; 2 * DEPTH] = [
    nest_glue::<0>(),
    nest_glue::<1>(),
    nest_glue::<2>(),
    nest_glue::<3>(),
    nest_glue::<4>(),
    nest_glue::<5>(),
    nest_glue::<6>(),
    nest_glue::<7>(),
];

/// The glue of the new layout of `Nest{i}` with a hook that writes ([`nest_hook_writes`]).
static NEST_HOOK_GLUES: [TypeGlue; DEPTH] = [
    nest_hook_glue::<0>(),
    nest_hook_glue::<1>(),
    nest_hook_glue::<2>(),
    nest_hook_glue::<3>(),
];

/// The glue of the new layout of `Nest{i}` with a hook that fails ([`hook_fails`]).
static NEST_FAILING_GLUES: [TypeGlue; DEPTH] = [
    nest_failing_glue::<0>(),
    nest_failing_glue::<1>(),
    nest_failing_glue::<2>(),
    nest_failing_glue::<3>(),
];

/// The offsets of the `u32` fields of the new layout of `Nest{i}`, which its hook sets.
static NEST_HOOK_U32: [Mutex<Vec<usize>>; DEPTH] = [const { Mutex::new(Vec::new()) }; DEPTH];

thread_local! {
    /// How often the hook of each `Nest{i}` ran.
    static NEST_HOOK_CALLS: RefCell<[usize; DEPTH]> = const { RefCell::new([0; DEPTH]) };
}

const fn nest_hook_glue<const I: usize>() -> TypeGlue {
    coo_runtime::__private::type_glue(drop_nest_new::<I>, no_default, Some(nest_hook_writes::<I>))
}

const fn nest_failing_glue<const I: usize>() -> TypeGlue {
    coo_runtime::__private::type_glue(drop_nest_new::<I>, no_default, Some(hook_fails))
}

/// The drop glue of the new layout of `Nest{I}` (slot `DEPTH + I`).
///
/// # Safety
/// As for [`drop_nest`] of that slot.
unsafe fn drop_nest_new<const I: usize>(p: *mut u8) {
    // SAFETY: the caller's contract, for the new layout of `Nest{I}`, which is in this slot.
    unsafe { slot_fns(DEPTH + I).2(p) }
}

/// A migration hook of `Nest{I}` that sets every `u32` field of the new value to the number of
/// fields of the old one (which it reads through the view), and counts its calls.
///
/// # Safety
/// `new` points to a complete value of the new layout of `Nest{I}`, borrowed mutably.
unsafe fn nest_hook_writes<const I: usize>(
    old: &ValueView<'_>,
    new: *mut u8,
) -> Result<(), ForeignString> {
    NEST_HOOK_CALLS.with(|c| c.borrow_mut()[I] += 1);
    let count = u32::try_from(old.fields().len()).unwrap();
    for offset in lock(&NEST_HOOK_U32[I]).iter() {
        // SAFETY: the new value has a `u32` field at each offset of `NEST_HOOK_U32[I]` (set
        // when the layout was built), which is plain data, overwritten in place.
        unsafe { new.add(*offset).cast::<u32>().write(count) };
    }
    Ok(())
}

fn nest_hook_calls() -> [usize; DEPTH] {
    NEST_HOOK_CALLS.with(|c| *c.borrow())
}

const fn nest_glue<const SLOT: usize>() -> TypeGlue {
    coo_runtime::__private::type_glue(drop_nest::<SLOT>, no_default, None)
}

fn nest_desc<const SLOT: usize>() -> &'static TypeDesc {
    lock(&NEST_DESCS[SLOT]).expect("the slot's layout was built for this case")
}

fn nest_shape<const SLOT: usize>() -> &'static Shape {
    lock(&NEST_SHAPES[SLOT]).expect("the slot's layout was built for this case")
}

fn nest_name<const SLOT: usize>() -> &'static str {
    NEST_RUST_NAMES[SLOT]
}

/// Drop glue of the layout in slot `SLOT`: drops each field in declaration order.
///
/// # Safety
/// `p` points to a valid value of the layout currently registered in slot `SLOT`, which is not
/// used again.
unsafe fn drop_nest<const SLOT: usize>(p: *mut u8) {
    // Copied out so that no lock is held while field drops (which recurse into the child) run.
    let fields = lock(&NEST_LAYOUTS[SLOT]).clone();
    for (offset, shape) in fields {
        // SAFETY: the value at `p` has the layout of slot `SLOT`, whose field at `offset` is a
        // valid value of `shape`; each field is dropped once, by its own shape's glue.
        unsafe { shape.drop(p.add(offset)) }
    }
}

/// The descriptor, shape and drop glue functions of a slot.
type SlotFns = (
    fn() -> &'static TypeDesc,
    fn() -> &'static Shape,
    unsafe fn(*mut u8),
);

/// The functions of slot `slot` (its name's is [`slot_name`]).
fn slot_fns(slot: usize) -> SlotFns {
    macro_rules! fns {
        ($($s:literal)*) => {
            match slot {
                $($s => (nest_desc::<$s>, nest_shape::<$s>, drop_nest::<$s>),)*
                other => unreachable!("slot {other}"),
            }
        };
    }
    fns!(0 1 2 3 4 5 6 7)
}

fn slot_name(slot: usize) -> fn() -> &'static str {
    macro_rules! names {
        ($($s:literal)*) => {
            match slot {
                $($s => nest_name::<$s> as fn() -> &'static str,)*
                other => unreachable!("slot {other}"),
            }
        };
    }
    names!(0 1 2 3 4 5 6 7)
}

/// A field of a nested type: from the menu (by name index), or the next type of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NestField {
    Plain(usize, Ty),
    Child,
}

/// The name of the field holding the next type.
const CHILD: &str = "child";

#[derive(Debug, Clone)]
struct NestType {
    old: Vec<NestField>,
    new: Vec<NestField>,
    /// The value of each old menu field (one value per type: the chain holds one of each).
    vals: BTreeMap<usize, Val>,
    /// The new layout's migration hook (only drawn for types that must be migrated).
    hook: Hook,
}

impl NestType {
    fn old_plain(&self, name: usize) -> Option<Ty> {
        self.old.iter().find_map(|f| match *f {
            NestField::Plain(n, ty) if n == name => Some(ty),
            _ => None,
        })
    }

    fn new_plain(&self, name: usize) -> Option<Ty> {
        self.new.iter().find_map(|f| match *f {
            NestField::Plain(n, ty) if n == name => Some(ty),
            _ => None,
        })
    }

    fn own_changed(&self) -> bool {
        self.old != self.new
    }
}

#[derive(Debug, Clone)]
struct NestCase {
    types: Vec<NestType>,
}

impl NestCase {
    /// Whether `Nest{i}` must be migrated: it or a type below it changed.
    fn changed(&self, i: usize) -> bool {
        self.types[i..].iter().any(NestType::own_changed)
    }

    /// The topmost type with a hook: from it down, values are built as independent copies.
    fn copied_from(&self) -> usize {
        self.types
            .iter()
            .position(|t| t.hook != Hook::None)
            .unwrap_or(self.types.len())
    }

    /// The type whose hook fails.
    fn failing(&self) -> Option<usize> {
        self.types.iter().position(|t| t.hook == Hook::Fails)
    }
}

/// Draws one type of the chain from `mix`; the last one has no child. With `change`, its new
/// layout differs from the old one in one way.
fn nest_type(mix: &mut Mix, last: bool, change: bool, next_id: &mut u32) -> NestType {
    let mut names: Vec<usize> = (0..6).collect();
    let mut old = Vec::new();
    let mut vals = BTreeMap::new();
    for _ in 0..1 + mix.below(3) {
        let name = names.remove(mix.below(names.len() as u64) as usize);
        let ty = Ty::ALL[mix.below(Ty::ALL.len() as u64) as usize];
        vals.insert(name, synth_val(ty, mix, next_id));
        old.push(NestField::Plain(name, ty));
    }
    if !last {
        let at = mix.below(old.len() as u64 + 1) as usize;
        old.insert(at, NestField::Child);
    }
    let mut new = old.clone();
    if change {
        let plain: Vec<usize> = (0..new.len())
            .filter(|&i| matches!(new[i], NestField::Plain(..)))
            .collect();
        match mix.below(4) {
            // Remove a menu field (a type keeps at least one field).
            0 if new.len() > 1 => {
                new.remove(plain[mix.below(plain.len() as u64) as usize]);
            }
            // Widen a menu field.
            1 => {
                let i = plain[mix.below(plain.len() as u64) as usize];
                if let NestField::Plain(name, ty) = new[i] {
                    let targets = ty.targets();
                    let to = targets[mix.below(targets.len() as u64) as usize];
                    new[i] = NestField::Plain(name, to);
                }
            }
            // Swap two fields (the child too).
            2 if new.len() > 1 => {
                let a = mix.below(new.len() as u64) as usize;
                let b = (a + 1 + mix.below(new.len() as u64 - 1) as usize) % new.len();
                new.swap(a, b);
            }
            _ => {}
        }
        if new == old {
            // Add a field of a type with a `Default`.
            let name = names.remove(mix.below(names.len() as u64) as usize);
            let defaulted: Vec<Ty> = Ty::ALL.into_iter().filter(|t| t.has_default()).collect();
            let ty = defaulted[mix.below(defaulted.len() as u64) as usize];
            let at = mix.below(new.len() as u64 + 1) as usize;
            new.insert(at, NestField::Plain(name, ty));
        }
    }
    NestType {
        old,
        new,
        vals,
        hook: Hook::None,
    }
}

/// A chain; with `hooks`, some types that must be migrated get a hook that writes, and with
/// `failing` as well, the topmost of them one that fails instead.
fn nest_case(hooks: bool, failing: bool) -> impl Strategy<Value = NestCase> {
    (
        2..=DEPTH,
        any::<u64>(),
        proptest::collection::vec(any::<bool>(), DEPTH),
        proptest::collection::vec(any::<bool>(), DEPTH),
    )
        .prop_map(move |(depth, seed, changes, hooked)| {
            let mut mix = Mix(seed);
            let mut next_id = 1;
            let types = (0..depth)
                .map(|i| nest_type(&mut mix, i + 1 == depth, changes[i], &mut next_id))
                .collect();
            let mut case = NestCase { types };
            if hooks {
                let mut candidates: Vec<usize> = (0..depth)
                    .filter(|&i| case.changed(i) && hooked[i])
                    .collect();
                if candidates.is_empty() {
                    // Something must change for a hook to run: the deepest type gains a field.
                    let last = &mut case.types[depth - 1];
                    let name = (0..NAMES.len())
                        .find(|&n| last.old_plain(n).is_none() && last.new_plain(n).is_none())
                        .unwrap();
                    last.new.push(NestField::Plain(name, Ty::U32));
                    candidates.push(depth - 1);
                }
                for &i in &candidates {
                    case.types[i].hook = Hook::Writes;
                }
                if failing {
                    case.types[candidates[0]].hook = Hook::Fails;
                }
            }
            case
        })
}

/// The layout of a nested type built at runtime.
struct NestBuilt {
    desc: &'static TypeDesc,
    /// The offset of each menu field by name index.
    offsets: BTreeMap<usize, usize>,
    child_at: Option<usize>,
}

/// Builds the old (or new) layouts of the chain, deepest first, C-like, into their slots.
fn build_chain(case: &NestCase, new: bool) -> Vec<NestBuilt> {
    let mut built: Vec<NestBuilt> = Vec::new();
    for (i, t) in case.types.iter().enumerate().rev() {
        let slot = i + if new { DEPTH } else { 0 };
        let fields = if new { &t.new } else { &t.old };
        let (mut end, mut align, mut needs_drop) = (0usize, 1usize, false);
        let (mut descs, mut table, mut offsets, mut child_at) =
            (Vec::new(), Vec::new(), BTreeMap::new(), None);
        for f in fields {
            let (name, shape_fn) = match *f {
                NestField::Plain(name, ty) => (NAMES[name], ty.shape_fn()),
                NestField::Child => (CHILD, slot_fns(slot + 1).1),
            };
            let shape = shape_fn();
            let offset = end.next_multiple_of(shape.align());
            end = offset + shape.size();
            align = align.max(shape.align());
            needs_drop |= shape.needs_drop();
            descs.push(coo_runtime::__private::field_desc(
                name,
                offset,
                shape_fn,
                &[],
                None,
            ));
            table.push((offset, shape));
            match *f {
                NestField::Plain(name, _) => {
                    offsets.insert(name, offset);
                }
                NestField::Child => child_at = Some(offset),
            }
        }
        let size = end.next_multiple_of(align);
        *lock(&NEST_LAYOUTS[slot]) = table;
        let desc: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
            NEST_NAMES[i],
            NEST_RUST_NAMES[slot],
            &[],
            size,
            align,
            needs_drop,
            TypeKind::Struct(coo_runtime::__private::struct_desc(
                FieldsStyle::Named,
                Box::leak(descs.into_boxed_slice()),
            )),
            match (new, t.hook) {
                (false, _) | (true, Hook::None) => &NEST_GLUES[slot],
                (true, Hook::Writes) => {
                    *lock(&NEST_HOOK_U32[i]) = t
                        .new
                        .iter()
                        .filter_map(|f| match *f {
                            NestField::Plain(name, Ty::U32) => Some(offsets[&name]),
                            _ => None,
                        })
                        .collect();
                    &NEST_HOOK_GLUES[i]
                }
                (true, Hook::Fails) => &NEST_FAILING_GLUES[i],
            },
        )));
        lock(&BUILT).push(desc);
        *lock(&NEST_DESCS[slot]) = Some(desc);
        let (desc_fn, _, drop_fn) = slot_fns(slot);
        let shape: &'static Shape = Box::leak(Box::new(coo_runtime::__private::shape(
            size,
            align,
            needs_drop,
            drop_fn,
            slot_name(slot),
            ShapeKind::Named(coo_runtime::__private::type_link(desc_fn)),
        )));
        lock(&NEST_BUILT_SHAPES).push(shape);
        *lock(&NEST_SHAPES[slot]) = Some(shape);
        built.push(NestBuilt {
            desc,
            offsets,
            child_at,
        });
    }
    built.reverse();
    built
}

/// Writes the old value of `Nest{i}` (and of every type below it) to `p`.
///
/// # Safety
/// `p` is valid for writes of the old layout of `Nest{i}` and aligned for it.
unsafe fn write_nest(case: &NestCase, old: &[NestBuilt], i: usize, p: *mut u8) {
    for (name, val) in &case.types[i].vals {
        // SAFETY: the field lies at its offset inside the value, aligned (C-like layout of an
        // aligned value), of `val`'s type.
        unsafe { write_val(p.add(old[i].offsets[name]), val) };
    }
    if let Some(at) = old[i].child_at {
        // SAFETY: the child field of the old layout at `at` has the old layout of the next type.
        unsafe { write_nest(case, old, i + 1, p.add(at)) };
    }
}

/// The heap allocations of the menu fields of `Nest{i}` and below, by (type, name).
///
/// # Safety
/// `p` points to a valid value of the layout of `Nest{i}` in `built` (old or new).
unsafe fn nest_heap(
    case: &NestCase,
    built: &[NestBuilt],
    new: bool,
    i: usize,
    p: *const u8,
    out: &mut BTreeMap<(usize, usize), usize>,
) {
    let t = &case.types[i];
    for (&name, &at) in &built[i].offsets {
        let ty = if new {
            t.new_plain(name)
        } else {
            t.old_plain(name)
        }
        .unwrap();
        // SAFETY: the field `name` of type `ty` lies at `at` in the value (caller's contract).
        if let Some(addr) = unsafe { heap_addr(p.add(at), ty) } {
            out.insert((i, name), addr);
        }
    }
    if let Some(at) = built[i].child_at {
        // SAFETY: the child of the value is a valid value of the next type's layout.
        unsafe { nest_heap(case, built, new, i + 1, p.add(at), out) };
    }
}

/// Checks the value of `Nest{i}` (and below) at `p`: the old values (`new == false`), or the
/// migrated ones.
///
/// # Safety
/// `p` points to a valid value of the layout of `Nest{i}` in `built`, borrowed during the call.
unsafe fn check_nest(case: &NestCase, built: &[NestBuilt], new: bool, i: usize, p: *const u8) {
    let t = &case.types[i];
    for (&name, &at) in &built[i].offsets {
        let ty = if new {
            t.new_plain(name)
        } else {
            t.old_plain(name)
        }
        .unwrap();
        let expected = match t.vals.get(&name) {
            // The hook's writes.
            _ if new && t.hook == Hook::Writes && ty == Ty::U32 => {
                Val::U32(u32::try_from(t.old.len()).unwrap())
            }
            Some(val) if !new || t.old_plain(name).is_some() => val.convert(ty),
            _ => ty.default_value(),
        };
        // SAFETY: the field `name` of type `ty` lies at `at` in the value (caller's contract).
        let actual = unsafe { read_val(p.add(at), ty) };
        assert!(
            same_value(&expected, &actual, false),
            "{}.{}: expected {expected:?}, found {actual:?}",
            NEST_NAMES[i],
            NAMES[name]
        );
    }
    if let Some(at) = built[i].child_at {
        // SAFETY: the child of the value is a valid value of the next type's layout.
        unsafe { check_nest(case, built, new, i + 1, p.add(at)) };
    }
}

/// The ids of the old `Tracked` values of types `from..` that the new value keeps (copied,
/// under a hook).
fn nest_copied_ids(case: &NestCase, from: usize) -> Vec<u32> {
    case.types[from..]
        .iter()
        .flat_map(|t| {
            t.vals
                .iter()
                .filter(|(name, _)| t.new_plain(**name).is_some())
                .flat_map(|(_, val)| val.tracked_ids())
        })
        .collect()
}

fn run_nest_case(case: &NestCase) {
    let _serial = lock(&CASE);
    reset_counts();
    NEST_HOOK_CALLS.with(|c| *c.borrow_mut() = [0; DEPTH]);
    let old = build_chain(case, false);
    let root = old[0].desc;
    assert!(root.align() <= align_of::<u128>());
    let mut buf: Vec<MaybeUninit<u128>> = Vec::with_capacity(root.size().div_ceil(16).max(1));
    let base = buf.as_mut_ptr().cast::<u8>();
    // SAFETY: the buffer has room for the old `Nest0`, aligned for `u128` and so for it.
    unsafe { write_nest(case, &old, 0, base) };
    // SAFETY: `write_nest` wrote every field of the old `Nest0`, at every depth; the value is
    // moved into the resource and never used or dropped again (`MaybeUninit` drops nothing).
    let resource = unsafe { Resource::from_raw(root, base) };
    let mut state = State::new();
    state.insert_resource(resource);
    let at = state.resource("Nest0").unwrap().as_ptr();
    let mut old_heap = BTreeMap::new();
    // SAFETY: the resource holds a valid old `Nest0`, borrowed during the calls.
    unsafe {
        check_nest(case, &old, false, 0, at);
        nest_heap(case, &old, false, 0, at, &mut old_heap);
    }
    let Some(f) = case.failing() else {
        return migrate_and_check_nest(case, state, at, &old_heap);
    };

    // The hook of `Nest{f}` fails: nothing changes; the copy built from `Nest{f}` down (the
    // hooks below it ran on it) is dropped whole, with the defaults built.
    let new = build_chain(case, true);
    let catalog = Catalog::from_descs([new[0].desc]).expect("one type per name");
    match state.migrate_to(&catalog) {
        Err(MigrationError::Migrate(ExecuteError {
            path,
            kind: ExecuteErrorKind::Hook { ty, message },
        })) => {
            let expected_path = std::iter::once("Nest0")
                .chain(std::iter::repeat_n(CHILD, f))
                .collect::<Vec<_>>()
                .join(".");
            assert_eq!(path.to_string(), expected_path);
            assert_eq!((ty.as_str(), message.as_str()), (NEST_NAMES[f], HOOK_FAILS));
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => panic!("a failing hook was accepted: {report}"),
    }
    assert_eq!(hook_calls(), 1, "the failing hook ran once");
    let mut calls = [0; DEPTH];
    for (i, t) in case.types.iter().enumerate().skip(f + 1) {
        calls[i] = usize::from(t.hook == Hook::Writes);
    }
    assert_eq!(
        nest_hook_calls(),
        calls,
        "the hooks below ran, those above did not"
    );
    let mut expected: BTreeMap<u32, usize> = BTreeMap::new();
    for id in nest_copied_ids(case, f) {
        *expected.entry(id).or_default() += 1;
    }
    if defaults() > 0 {
        expected.insert(0, defaults());
    }
    assert_eq!(drops(), expected, "the refused copy is dropped whole, once");
    assert_eq!(state.resource("Nest0").unwrap().as_ptr(), at, "not moved");
    let mut heap = BTreeMap::new();
    // SAFETY: the resource still holds the valid old `Nest0`, borrowed during the calls.
    unsafe {
        check_nest(case, &old, false, 0, at);
        nest_heap(case, &old, false, 0, at, &mut heap);
    }
    assert_eq!(
        heap, old_heap,
        "the old value still owns the same allocations"
    );

    // The user fixes the hook; the same reload goes through.
    reset_counts();
    NEST_HOOK_CALLS.with(|c| *c.borrow_mut() = [0; DEPTH]);
    let mut fixed = case.clone();
    fixed.types[f].hook = Hook::Writes;
    migrate_and_check_nest(&fixed, state, at, &old_heap);
}

/// Migrates `state` (holding the case's old `Nest0` at `at`, whose heap allocations are
/// `old_heap`) and checks every property, up to
/// and including dropping the state.
fn migrate_and_check_nest(
    case: &NestCase,
    mut state: State,
    at: *const u8,
    old_heap: &BTreeMap<(usize, usize), usize>,
) {
    let depth = case.types.len();
    let copied = case.copied_from();
    let new = build_chain(case, true);
    let catalog = Catalog::from_descs([new[0].desc]).expect("one type per name");
    let plan = match state.plan(&catalog) {
        Ok(plan) => plan,
        Err(e) => panic!("the migration was refused: {e}"),
    };
    // The verdicts first, type by type: moving a changed type's value bitwise would be silent
    // corruption, copying an unchanged one needless.
    let verdicts: Vec<(&str, bool)> = plan
        .types()
        .iter()
        .map(|t| (t.new_type().name(), t.unchanged))
        .collect();
    for (i, name) in NEST_NAMES.iter().enumerate().take(depth) {
        let migrated = plan
            .types()
            .iter()
            .any(|t| t.new_type().name() == *name && !t.unchanged);
        assert_eq!(
            migrated,
            case.changed(i),
            "`{name}` must be {}: {verdicts:?}",
            if case.changed(i) { "migrated" } else { "kept" }
        );
    }

    let report = match state.migrate(&plan) {
        Ok(report) => report,
        Err(e) => panic!("the migration failed: {e}"),
    };
    drop(plan);
    let mut calls = [0; DEPTH];
    for (i, name) in NEST_NAMES.iter().enumerate().take(depth) {
        assert_eq!(
            report.ty(name).map(|t| t.values),
            case.changed(i).then_some(1),
            "`{name}`: {report}"
        );
        calls[i] = usize::from(case.types[i].hook == Hook::Writes);
    }
    assert_eq!(nest_hook_calls(), calls, "each hook ran once");
    // At commit: removed fields above the copies; from the first hook down the old value
    // whole.
    let mut removed = BTreeMap::new();
    let mut defaulted = 0;
    for (i, t) in case.types.iter().enumerate() {
        for (&name, val) in &t.vals {
            if i >= copied || t.new_plain(name).is_none() {
                removed.extend(val.tracked_ids().into_iter().map(|id| (id, 1)));
            }
        }
        defaulted += t
            .new
            .iter()
            .filter(|f| match **f {
                NestField::Plain(
                    name,
                    Ty::Tracked | Ty::BoxTracked | Ty::TupU16Tracked | Ty::TupU32Tracked,
                ) => t.old_plain(name).is_none(),
                _ => false,
            })
            .count();
    }
    assert_eq!(drops(), removed, "drops at commit");
    assert_eq!(defaults(), defaulted, "one default per new Tracked field");
    let res = state.resource("Nest0").unwrap();
    assert!(core::ptr::eq(res.desc(), new[0].desc));
    if case.changed(0) {
        assert_eq!(report.migrated, ["Nest0"]);
    } else {
        assert_eq!(report.kept, ["Nest0"]);
        assert_eq!(res.as_ptr(), at, "kept in place");
    }
    let mut new_heap = BTreeMap::new();
    // SAFETY: the resource holds a valid new `Nest0`, borrowed during the calls.
    unsafe {
        check_nest(case, &new, true, 0, res.as_ptr());
        nest_heap(case, &new, true, 0, res.as_ptr(), &mut new_heap);
    }
    // A kept field of the same type above the copies keeps its allocation (moved, not copied).
    for ((i, name), addr) in old_heap {
        let t = &case.types[*i];
        if *i < copied && t.new_plain(*name) == t.old_plain(*name) {
            assert_eq!(
                new_heap.get(&(*i, *name)),
                Some(addr),
                "{}.{} moved",
                NEST_NAMES[*i],
                NAMES[*name]
            );
        }
    }

    drop(state);
    let mut expected: BTreeMap<u32, usize> = case
        .types
        .iter()
        .flat_map(|t| t.vals.values().flat_map(Val::tracked_ids))
        .map(|id| (id, 1))
        .collect();
    for id in nest_copied_ids(case, copied) {
        *expected.get_mut(&id).unwrap() += 1;
    }
    if defaulted > 0 {
        expected.insert(0, defaulted);
    }
    assert_eq!(
        drops(),
        expected,
        "every Tracked dropped exactly once, copies once more"
    );
}

proptest! {
    #![proptest_config(config())]

    /// A changed type inside unchanged ones and the reverse, at any depth: exactly the types
    /// that are or reach a changed one are migrated, with every guarantee of the first property.
    #[test]
    fn random_nested_types_migrate_exactly_what_changed(case in nest_case(false, false)) {
        run_nest_case(&case);
    }

    /// As above, with hooks on some of the types that are migrated: each runs once, sees the
    /// old value and its writes are kept; from the topmost one down values are copied.
    #[test]
    fn random_nested_types_with_hooks_migrate(case in nest_case(true, false)) {
        run_nest_case(&case);
    }

    /// A failing hook on a nested type refuses the migration, changing nothing; fixed, it goes
    /// through.
    #[test]
    fn random_nested_types_with_a_failing_hook_roll_back(case in nest_case(true, true)) {
        run_nest_case(&case);
    }
}
