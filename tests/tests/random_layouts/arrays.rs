//! Arrays of drop-tracked values, a property of `random_layouts`.

use super::*;

// ------------------------------------------------------------------ arrays of tracked values
//
// `Rand { n: u32, a: [E; L] }` with `E` one of `Tracked`, `Box<Tracked>` and `Option<Tracked>`
// and `L` in 1..=4, becoming `Rand { n: u32 or u64, a: [E; L'] }`, maybe with a hook. Elements
// are drop-counted by id (id 0 is the default: `Tracked::default()`, `None` for the option).
// A growing array keeps its elements (moved, or copied under a hook) and fills the rest with
// defaults; a shrinking one drops its last elements at commit when they all hold the default
// (each checked against a default built and dropped again), and is refused with
// `ArrayShrink` naming the first one that does not, changing nothing. Every `Tracked` is
// dropped exactly once (copies once more), counted per id.

/// An element type of the array.
trait ArrElem: CooField + Sized {
    /// The element holding `Tracked` `id`, or the default for id 0 (`Tracked { id: 0 }` is made
    /// directly, so it is not counted as a default the migration made).
    fn make(id: u32) -> Self;
    /// The id of the `Tracked` the element holds (0 for `None`).
    fn id(&self) -> u32;
    /// The heap allocation the element owns.
    fn heap(&self) -> Option<usize>;
}

impl ArrElem for Tracked {
    fn make(id: u32) -> Self {
        Tracked { id }
    }
    fn id(&self) -> u32 {
        self.id
    }
    fn heap(&self) -> Option<usize> {
        None
    }
}

impl ArrElem for Box<Tracked> {
    fn make(id: u32) -> Self {
        Box::new(Tracked { id })
    }
    fn id(&self) -> u32 {
        self.id
    }
    fn heap(&self) -> Option<usize> {
        Some(&**self as *const Tracked as usize)
    }
}

impl ArrElem for Option<Tracked> {
    fn make(id: u32) -> Self {
        (id != 0).then(|| Tracked { id })
    }
    fn id(&self) -> u32 {
        self.as_ref().map_or(0, |t| t.id)
    }
    fn heap(&self) -> Option<usize> {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Tracked,
    Boxed,
    Opt,
}

impl Elem {
    /// Whether the element's default holds a `Tracked` (made by `Tracked::default()`).
    fn default_is_tracked(self) -> bool {
        self != Elem::Opt
    }
}

/// The functions of one array type.
struct ArrFns {
    shape: fn() -> &'static Shape,
    /// Writes the array of these ids.
    write: unsafe fn(*mut u8, &[u32]),
    /// The ids of the array's elements.
    read: unsafe fn(*const u8) -> Vec<u32>,
    /// The heap allocations of the array's elements.
    heap: unsafe fn(*const u8) -> Vec<Option<usize>>,
}

/// # Safety
/// `p` is valid for writes of `[E; LEN]` and aligned for it; `ids` has `LEN` entries.
unsafe fn write_arr<E: ArrElem, const LEN: usize>(p: *mut u8, ids: &[u32]) {
    assert_eq!(ids.len(), LEN);
    let value: [E; LEN] = std::array::from_fn(|i| E::make(ids[i]));
    // SAFETY: the caller's contract.
    unsafe { p.cast::<[E; LEN]>().write(value) }
}

/// # Safety
/// `p` points to a valid `[E; LEN]`, borrowed during the call.
unsafe fn read_arr<E: ArrElem, const LEN: usize>(p: *const u8) -> Vec<u32> {
    // SAFETY: the caller's contract.
    unsafe { (*p.cast::<[E; LEN]>()).iter().map(E::id).collect() }
}

/// # Safety
/// As for [`read_arr`].
unsafe fn heap_arr<E: ArrElem, const LEN: usize>(p: *const u8) -> Vec<Option<usize>> {
    // SAFETY: the caller's contract.
    unsafe { (*p.cast::<[E; LEN]>()).iter().map(E::heap).collect() }
}

fn fns_of<E: ArrElem, const LEN: usize>() -> ArrFns {
    ArrFns {
        shape: <[E; LEN] as CooField>::shape,
        write: write_arr::<E, LEN>,
        read: read_arr::<E, LEN>,
        heap: heap_arr::<E, LEN>,
    }
}

fn arr_fns(elem: Elem, len: usize) -> ArrFns {
    macro_rules! by_len {
        ($e:ty) => {
            match len {
                1 => fns_of::<$e, 1>(),
                2 => fns_of::<$e, 2>(),
                3 => fns_of::<$e, 3>(),
                4 => fns_of::<$e, 4>(),
                other => unreachable!("length {other}"),
            }
        };
    }
    match elem {
        Elem::Tracked => by_len!(Tracked),
        Elem::Boxed => by_len!(Box<Tracked>),
        Elem::Opt => by_len!(Option<Tracked>),
    }
}

#[derive(Debug, Clone)]
struct ArrCase {
    elem: Elem,
    /// The old elements' ids (0: the default), distinct otherwise.
    old: Vec<u32>,
    new_len: usize,
    /// Whether `n` becomes a `u64` (so the type changes even when the array does not).
    widen: bool,
    hook: bool,
}

impl ArrCase {
    /// The first element a shrinking array would lose that does not hold the default.
    fn lost(&self) -> Option<usize> {
        (self.new_len..self.old.len()).find(|&i| self.old[i] != 0)
    }

    fn changed(&self) -> bool {
        self.old.len() != self.new_len || self.widen
    }

    /// Defaults of the element built to compare the lost elements with (up to the first one
    /// that does not hold it), and to fill the new ones.
    fn checks(&self) -> usize {
        let lost = self.lost().map_or(self.old.len(), |i| i + 1);
        lost.saturating_sub(self.new_len)
    }

    fn fills(&self) -> usize {
        self.new_len.saturating_sub(self.old.len())
    }
}

fn arr_case() -> impl Strategy<Value = ArrCase> {
    (
        prop_oneof![Just(Elem::Tracked), Just(Elem::Boxed), Just(Elem::Opt)],
        proptest::collection::vec(any::<bool>(), 1..=4),
        1..=4usize,
        any::<bool>(),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(elem, defaults, new_len, widen, hook)| ArrCase {
            elem,
            old: defaults
                .iter()
                .enumerate()
                .map(|(i, &d)| if d { 0 } else { i as u32 + 1 })
                .collect(),
            new_len,
            widen,
            hook,
        })
}

/// A built layout of `Rand { n, a }`: its descriptor and the offset of `a` (`n` is at 0).
struct ArrBuilt {
    desc: &'static TypeDesc,
    a_at: usize,
}

/// Builds `Rand { n: u32 or u64, a: [elem; len] }` into `slot`, C-like; the new one (slot 1)
/// with the hook of `Rand` that writes, when asked.
fn build_arr(slot: usize, n_ty: Ty, elem: Elem, len: usize, hook: bool) -> ArrBuilt {
    let n_shape = (n_ty.shape_fn())();
    let fns = arr_fns(elem, len);
    let a_shape = (fns.shape)();
    let a_at = n_shape.size().next_multiple_of(a_shape.align());
    let align = n_shape.align().max(a_shape.align());
    let fields = vec![
        coo_runtime::__private::field_desc("n", 0, n_ty.shape_fn(), &[], None),
        coo_runtime::__private::field_desc("a", a_at, fns.shape, &[], None),
    ];
    *lock(&LAYOUTS[slot]) = vec![(0, n_shape), (a_at, a_shape)];
    let desc: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
        "Rand",
        RUST_NAMES[slot],
        &[],
        (a_at + a_shape.size()).next_multiple_of(align),
        align,
        true,
        TypeKind::Struct(coo_runtime::__private::struct_desc(
            FieldsStyle::Named,
            Box::leak(fields.into_boxed_slice()),
        )),
        if hook {
            assert_eq!(slot, 1);
            *lock(&HOOK_U32) = if n_ty == Ty::U32 { vec![0] } else { Vec::new() };
            &HOOK_GLUES[0]
        } else {
            &GLUES[slot]
        },
    )));
    lock(&BUILT).push(desc);
    ArrBuilt { desc, a_at }
}

/// The value of `n` in the old version.
const N_VALUE: u32 = 4_000_000_007;

fn run_arr_case(case: &ArrCase) {
    let _serial = lock(&CASE);
    reset_counts();
    let old_len = case.old.len();
    let old = build_arr(0, Ty::U32, case.elem, old_len, false);
    let n_ty = if case.widen { Ty::U64 } else { Ty::U32 };
    let new = build_arr(1, n_ty, case.elem, case.new_len, case.hook);
    let old_fns = arr_fns(case.elem, old_len);
    let new_fns = arr_fns(case.elem, case.new_len);

    let mut buf: Vec<MaybeUninit<u128>> = Vec::with_capacity(old.desc.size().div_ceil(16).max(1));
    let base = buf.as_mut_ptr().cast::<u8>();
    // SAFETY: the buffer has room for the old `Rand`, aligned for `u128` and so for its fields,
    // which lie at their offsets: `n` at 0, the array at `a_at`.
    unsafe {
        base.cast::<u32>().write(N_VALUE);
        (old_fns.write)(base.add(old.a_at), &case.old);
    }
    // SAFETY: both fields were written; the value is moved into the resource and never used or
    // dropped again (`MaybeUninit` drops nothing).
    let resource = unsafe { Resource::from_raw(old.desc, base) };
    let mut state = State::new();
    state.insert_resource(resource);
    let at = state.resource("Rand").unwrap().as_ptr();
    // SAFETY: the resource holds a valid old `Rand`, borrowed during the call.
    let old_heap = unsafe { (old_fns.heap)(at.add(old.a_at)) };

    let catalog = Catalog::from_descs([new.desc]).expect("one type named Rand");
    let result = state.migrate_to(&catalog);
    let elem_defaults = if case.elem.default_is_tracked() {
        case.checks()
    } else {
        0
    };
    if let Some(index) = case.lost() {
        match result {
            Err(MigrationError::Migrate(err)) => assert!(
                matches!(
                    &err,
                    ExecuteError { path, kind: ExecuteErrorKind::ArrayShrink { old_len: o, new_len: n, index: i } }
                        if path.to_string() == "Rand.a" && *o == old_len && *n == case.new_len
                            && *i == index
                ),
                "refused with: {err:?}"
            ),
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(report) => panic!("a non-default lost element was accepted: {report}"),
        }
        // The defaults built to compare with were dropped again; nothing else was.
        let expected: BTreeMap<u32, usize> = (elem_defaults > 0)
            .then_some((0, elem_defaults))
            .into_iter()
            .collect();
        assert_eq!(
            drops(),
            expected,
            "a refused migration drops only what it made"
        );
        assert_eq!(defaults(), elem_defaults);
        assert_eq!(hook_calls(), 0);
        let res = state.resource("Rand").unwrap();
        assert_eq!(res.as_ptr(), at, "not moved");
        // SAFETY: the resource still holds the valid old `Rand`, borrowed during the calls.
        unsafe {
            assert_eq!(*at.cast::<u32>(), N_VALUE);
            assert_eq!((old_fns.read)(at.add(old.a_at)), case.old);
            assert_eq!((old_fns.heap)(at.add(old.a_at)), old_heap);
        }
        reset_counts();
        drop(state);
        let mut expected: BTreeMap<u32, usize> = BTreeMap::new();
        for &id in &case.old {
            if id != 0 || case.elem.default_is_tracked() {
                *expected.entry(id).or_default() += 1;
            }
        }
        assert_eq!(drops(), expected, "every Tracked dropped once");
        return;
    }

    let report = match result {
        Ok(report) => report,
        Err(e) => panic!("the migration failed: {e}"),
    };
    let common = old_len.min(case.new_len);
    let copy = case.hook && case.changed();
    assert_eq!(
        hook_calls(),
        usize::from(copy),
        "the hook runs when the type changed"
    );
    if case.changed() {
        assert_eq!(report.migrated, ["Rand"]);
        assert_eq!(report.ty("Rand").map(|t| t.values), Some(1));
    } else {
        assert_eq!(report.kept, ["Rand"]);
        assert_eq!(
            state.resource("Rand").unwrap().as_ptr(),
            at,
            "kept in place"
        );
    }
    // At commit: the lost elements (all defaults) and the defaults built to compare them with;
    // under a hook the old value whole.
    let tracked = |id: u32| id != 0 || case.elem.default_is_tracked();
    let mut expected: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, &id) in case.old.iter().enumerate() {
        if (copy || i >= case.new_len) && tracked(id) {
            *expected.entry(id).or_default() += 1;
        }
    }
    if elem_defaults > 0 {
        *expected.entry(0).or_default() += elem_defaults;
    }
    assert_eq!(drops(), expected, "drops at commit");
    let fills = if case.elem.default_is_tracked() {
        case.fills()
    } else {
        0
    };
    assert_eq!(defaults(), elem_defaults + fills, "defaults built");

    let res = state.resource("Rand").unwrap();
    assert!(core::ptr::eq(res.desc(), new.desc));
    let p = res.as_ptr();
    // SAFETY: the resource holds a valid new `Rand`, borrowed during the calls.
    let (n, ids, heap) = unsafe {
        let n = match n_ty {
            Ty::U64 => *p.cast::<u64>(),
            _ => u64::from(*p.cast::<u32>()),
        };
        (
            n,
            (new_fns.read)(p.add(new.a_at)),
            (new_fns.heap)(p.add(new.a_at)),
        )
    };
    let hook_wrote = copy && n_ty == Ty::U32;
    assert_eq!(n, if hook_wrote { 2 } else { u64::from(N_VALUE) });
    let mut expected_ids = case.old[..common].to_vec();
    expected_ids.resize(case.new_len, 0);
    assert_eq!(ids, expected_ids, "kept elements, then defaults");
    if !copy {
        assert_eq!(heap[..common], old_heap[..common], "kept elements moved");
    }

    drop(state);
    let mut expected: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, &id) in case.old.iter().enumerate() {
        if tracked(id) {
            *expected.entry(id).or_default() += 1 + usize::from(copy && i < common);
        }
    }
    let made = elem_defaults + fills;
    if made > 0 {
        *expected.entry(0).or_default() += made;
    }
    assert_eq!(
        drops(),
        expected,
        "every Tracked dropped exactly once, copies once more"
    );
}

proptest! {
    #![proptest_config(config())]

    /// Arrays of drop-tracked values grow with defaults, shrink only over defaults (refused
    /// otherwise, changing nothing), keep their elements, and drop each value exactly once.
    #[test]
    fn random_arrays_of_tracked_values_migrate_or_refuse_a_lost_element(case in arr_case()) {
        run_arr_case(&case);
    }
}
