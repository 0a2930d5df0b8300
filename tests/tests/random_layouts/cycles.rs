//! Mutually recursive layouts (see the section comment below), a property of
//! `random_layouts`.

use super::*;

// ------------------------------------------------------------------ mutually recursive layouts
//
// A cycle of 2 or 3 struct types `Cyc0 -> Cyc1 (-> Cyc2) -> Cyc0`, built at runtime like `Rand`:
// each holds a few fields from the menu and one field `next` leading to the next type of the
// cycle, a `Vec` of it or an `Option<Box<_>>` of it, at a random position (often first, so the
// cycle is entered before a changed field is seen). Some of the types change their own fields;
// then every type of the cycle changed (each reaches a changed one), and the nested values of
// each type, however deep in the tree below the root `Cyc0` resource, must be migrated.
//
// Every layout is padded to one size, `CELL`, so that a changed type keeps its size: a real
// Rust type (`Erased<SLOT>`, `CELL` bytes, whose shape names the descriptor in slot `SLOT`)
// stands for it inside `Vec` and `Box`, whose glue is monomorphized. Slots 0..3 hold the old
// layouts of `Cyc0..Cyc2`, slots 3..6 the new ones.

/// The size of every cycle type.
const CELL: usize = 320;

const CYC_NAMES: [&str; 3] = ["Cyc0", "Cyc1", "Cyc2"];

const CYC_RUST_NAMES: [&str; 6] = [
    "random_layouts::old::Cyc0",
    "random_layouts::old::Cyc1",
    "random_layouts::old::Cyc2",
    "random_layouts::new::Cyc0",
    "random_layouts::new::Cyc1",
    "random_layouts::new::Cyc2",
];

/// The descriptor in each slot, for the shapes of `Erased`.
static CYC_DESCS: [Mutex<Option<&'static TypeDesc>>; 6] = [const { Mutex::new(None) }; 6];

/// The field list (offset, shape) of the layout in each slot, for its drop glue.
static CYC_LAYOUTS: [Mutex<Vec<(usize, &'static Shape)>>; 6] =
    [const { Mutex::new(Vec::new()) }; 6];

static CYC_GLUES: [TypeGlue; 6] = [
    cyc_glue::<0>(),
    cyc_glue::<1>(),
    cyc_glue::<2>(),
    cyc_glue::<3>(),
    cyc_glue::<4>(),
    cyc_glue::<5>(),
];

const fn cyc_glue<const SLOT: usize>() -> TypeGlue {
    coo_runtime::__private::type_glue(drop_cyc::<SLOT>, no_default, None)
}

fn desc_of<const SLOT: usize>() -> &'static TypeDesc {
    lock(&CYC_DESCS[SLOT]).expect("the slot's layout was built for this case")
}

fn erased_name<const SLOT: usize>() -> &'static str {
    CYC_RUST_NAMES[SLOT]
}

/// Drop glue of the layout in slot `SLOT`: drops each field in declaration order.
///
/// # Safety
/// `p` points to a valid value of the layout currently registered in slot `SLOT`, which is not
/// used again.
unsafe fn drop_cyc<const SLOT: usize>(p: *mut u8) {
    // Copied out so that no lock is held while field drops (which recurse into other slots) run.
    let fields = lock(&CYC_LAYOUTS[SLOT]).clone();
    for (offset, shape) in fields {
        // SAFETY: the value at `p` has the layout of slot `SLOT`, whose field at `offset` is a
        // valid value of `shape`; each field is dropped once, by its own shape's glue.
        unsafe { shape.drop(p.add(offset)) }
    }
}

/// A value of the layout in slot `SLOT`, as a Rust type of the same size and alignment.
#[repr(C, align(16))]
struct Erased<const SLOT: usize>([MaybeUninit<u8>; CELL]);

impl<const SLOT: usize> Erased<SLOT> {
    /// A value whose bytes `write` initializes as a valid value of the slot's layout.
    ///
    /// # Safety
    /// `write` writes every field of the layout in slot `SLOT` to the pointer it gets.
    unsafe fn new(write: impl FnOnce(*mut u8)) -> Self {
        let mut cell = Erased([MaybeUninit::uninit(); CELL]);
        write(cell.0.as_mut_ptr().cast());
        cell
    }

    fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr().cast()
    }
}

impl<const SLOT: usize> Drop for Erased<SLOT> {
    fn drop(&mut self) {
        // SAFETY: an `Erased` always holds a valid value of its slot's layout (see `new`, and
        // migrations build values of the layouts their shapes name), dropped once, here.
        unsafe { drop_cyc::<SLOT>(self.0.as_mut_ptr().cast()) }
    }
}

// SAFETY: `Erased<SLOT>` is `CELL` bytes aligned to 16 with drop glue, exactly what the shape
// says, and holds a value of the descriptor the shape names (every cycle layout is `CELL` bytes,
// aligned to 16, and the slot is only used with the layout registered in it).
unsafe impl<const SLOT: usize> CooField for Erased<SLOT> {
    const SHAPE: &'static Shape = &coo_runtime::__private::shape(
        CELL,
        16,
        true,
        coo_runtime::descriptors::layout::drop_glue::<Erased<SLOT>>,
        erased_name::<SLOT>,
        ShapeKind::Named(coo_runtime::__private::type_link(desc_of::<SLOT>)),
    );
}

/// Runs `$body` with `$s` standing for the slot number `$slot` as a constant.
macro_rules! with_slot {
    ($slot:expr, $s:ident => $body:expr) => {
        match $slot {
            0 => {
                const $s: usize = 0;
                $body
            }
            1 => {
                const $s: usize = 1;
                $body
            }
            2 => {
                const $s: usize = 2;
                $body
            }
            3 => {
                const $s: usize = 3;
                $body
            }
            4 => {
                const $s: usize = 4;
                $body
            }
            5 => {
                const $s: usize = 5;
                $body
            }
            other => unreachable!("slot {other}"),
        }
    };
}

/// How a cycle type holds the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkKind {
    Vec,
    OptBox,
}

impl LinkKind {
    fn shape_fn(self, target_slot: usize) -> fn() -> &'static Shape {
        with_slot!(target_slot, S => match self {
            LinkKind::Vec => <Vec<Erased<S>> as CooField>::shape as fn() -> &'static Shape,
            LinkKind::OptBox => <Option<Box<Erased<S>>> as CooField>::shape,
        })
    }

    fn max_links(self) -> usize {
        match self {
            LinkKind::Vec => 2,
            LinkKind::OptBox => 1,
        }
    }
}

/// A field of a cycle type: from the menu (by name index), or the link to the next type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CycField {
    Plain(usize, Ty),
    Next,
}

#[derive(Debug, Clone)]
struct CycType {
    link: LinkKind,
    old: Vec<CycField>,
    new: Vec<CycField>,
}

impl CycType {
    fn old_plain(&self, name: usize) -> Option<Ty> {
        self.old.iter().find_map(|f| match *f {
            CycField::Plain(n, ty) if n == name => Some(ty),
            _ => None,
        })
    }

    fn in_new(&self, name: usize) -> bool {
        self.new
            .iter()
            .any(|f| matches!(*f, CycField::Plain(n, _) if n == name))
    }
}

/// One value of a cycle type: its menu fields' old values (by name index) and the values of the
/// next type it links to.
#[derive(Debug, Clone)]
struct CycNode {
    ty: usize,
    vals: BTreeMap<usize, Val>,
    next: Vec<CycNode>,
}

impl CycNode {
    fn visit<'n>(&'n self, f: &mut impl FnMut(&'n CycNode)) {
        f(self);
        for n in &self.next {
            n.visit(f);
        }
    }
}

#[derive(Debug, Clone)]
struct CycCase {
    types: Vec<CycType>,
    root: CycNode,
}

impl CycCase {
    fn changed(&self) -> bool {
        self.types.iter().any(|t| t.old != t.new)
    }

    fn next_of(&self, ty: usize) -> usize {
        (ty + 1) % self.types.len()
    }
}

/// The menu names a cycle type draws its fields from (a few, so every layout fits in `CELL`).
const CYC_FIELDS: usize = 4;

/// Everything one cycle type is drawn from: its link, what each menu name becomes, the old and
/// new orders with the link's position in each, whether its own fields stay the same, and
/// whether the link comes first in both layouts.
type CycTypeDraw = (
    LinkKind,
    Vec<NameDraw>,
    Vec<usize>,
    Vec<usize>,
    (Index, Index),
    bool,
    bool,
);

fn cyc_type_draw() -> impl Strategy<Value = CycTypeDraw> {
    let order = || Just((0..CYC_FIELDS).collect::<Vec<_>>()).prop_shuffle();
    (
        prop_oneof![Just(LinkKind::Vec), Just(LinkKind::OptBox)],
        proptest::collection::vec(name_draw(), CYC_FIELDS),
        order(),
        order(),
        (any::<Index>(), any::<Index>()),
        proptest::bool::weighted(0.4),
        proptest::bool::weighted(0.5),
    )
}

fn cyc_type(
    (link, names, old_order, new_order, (old_at, new_at), same, next_first): CycTypeDraw,
) -> CycType {
    let mut old: Vec<CycField> = old_order
        .iter()
        .filter_map(|&n| names[n].old.as_ref().map(|(ty, _)| CycField::Plain(n, *ty)))
        .collect();
    let at = if next_first {
        0
    } else {
        old_at.index(old.len() + 1)
    };
    old.insert(at, CycField::Next);
    if same {
        return CycType {
            link,
            new: old.clone(),
            old,
        };
    }
    let mut new = Vec::new();
    for &n in &new_order {
        let draw = &names[n];
        match &draw.old {
            Some((ty, _)) if draw.keep => {
                let targets = ty.targets();
                new.push(CycField::Plain(
                    n,
                    targets[draw.target.index(targets.len())],
                ));
            }
            Some(_) => {}
            None => new.extend(
                draw.added
                    .filter(|t| t.has_default())
                    .map(|ty| CycField::Plain(n, ty)),
            ),
        }
    }
    let at = if next_first {
        0
    } else {
        new_at.index(new.len() + 1)
    };
    new.insert(at, CycField::Next);
    CycType { link, old, new }
}

/// A value of cycle type `ty` with links `depth` levels deep at most.
fn synth_node(
    types: &[CycType],
    ty: usize,
    depth: usize,
    mix: &mut Mix,
    next_id: &mut u32,
) -> CycNode {
    let t = &types[ty];
    let vals = t
        .old
        .iter()
        .filter_map(|f| match *f {
            CycField::Plain(n, fty) => Some((n, synth_val(fty, mix, next_id))),
            CycField::Next => None,
        })
        .collect();
    let links = if depth == 0 {
        0
    } else {
        // Mostly full, so the cycle is walked around more than once.
        (mix.below(4) as usize).min(t.link.max_links())
    };
    let next = (0..links)
        .map(|_| synth_node(types, (ty + 1) % types.len(), depth - 1, mix, next_id))
        .collect();
    CycNode { ty, vals, next }
}

fn cyc_case() -> impl Strategy<Value = CycCase> {
    (2..=3usize)
        .prop_flat_map(|k| {
            (
                proptest::collection::vec(cyc_type_draw(), k),
                any::<u64>(),
                proptest::bool::weighted(0.1),
            )
        })
        .prop_map(|(draws, seed, all_same)| {
            let mut types: Vec<CycType> = draws.into_iter().map(cyc_type).collect();
            if all_same {
                for t in &mut types {
                    t.new = t.old.clone();
                }
            }
            let mut mix = Mix(seed);
            let mut next_id = 1;
            let root = synth_node(&types, 0, 5, &mut mix, &mut next_id);
            CycCase { types, root }
        })
}

/// The layout of a cycle type built at runtime.
struct CycBuilt {
    desc: &'static TypeDesc,
    /// The offset of each menu field by name index, and of the link.
    offsets: BTreeMap<usize, usize>,
    next_at: usize,
}

/// Builds the descriptor of cycle type `ty` with `fields` in this order, C-like, padded to
/// `CELL`, into `slot`; its link leads to the type in `target_slot`.
fn build_cyc(
    slot: usize,
    ty: usize,
    fields: &[CycField],
    link: LinkKind,
    target_slot: usize,
) -> CycBuilt {
    let mut end = 0usize;
    let mut descs = Vec::with_capacity(fields.len());
    let mut table = Vec::with_capacity(fields.len());
    let mut offsets = BTreeMap::new();
    let mut next_at = usize::MAX;
    for field in fields {
        let (name, shape_fn) = match *field {
            CycField::Plain(n, t) => (NAMES[n], t.shape_fn()),
            CycField::Next => ("next", link.shape_fn(target_slot)),
        };
        let shape = shape_fn();
        let offset = end.next_multiple_of(shape.align());
        end = offset + shape.size();
        assert!(shape.align() <= 16);
        descs.push(coo_runtime::__private::field_desc(
            name,
            offset,
            shape_fn,
            &[],
            None,
        ));
        table.push((offset, shape));
        match *field {
            CycField::Plain(n, _) => {
                offsets.insert(n, offset);
            }
            CycField::Next => next_at = offset,
        }
    }
    assert!(end <= CELL, "{fields:?} fits in a cell");
    *lock(&CYC_LAYOUTS[slot]) = table;
    let desc: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
        CYC_NAMES[ty],
        CYC_RUST_NAMES[slot],
        &[],
        CELL,
        16,
        true,
        TypeKind::Struct(coo_runtime::__private::struct_desc(
            FieldsStyle::Named,
            Box::leak(descs.into_boxed_slice()),
        )),
        &CYC_GLUES[slot],
    )));
    *lock(&CYC_DESCS[slot]) = Some(desc);
    lock(&BUILT).push(desc);
    CycBuilt {
        desc,
        offsets,
        next_at,
    }
}

/// The old (`new = false`) or new layouts of every type of the case, by type.
fn build_cycle(case: &CycCase, new: bool) -> Vec<CycBuilt> {
    let k = case.types.len();
    let base = if new { 3 } else { 0 };
    (0..k)
        .map(|ty| {
            let t = &case.types[ty];
            let fields = if new { &t.new } else { &t.old };
            build_cyc(base + ty, ty, fields, t.link, base + case.next_of(ty))
        })
        .collect()
}

/// Writes the old value of `node` to `dst`.
///
/// # Safety
/// `dst` is valid for writes of `CELL` bytes and aligned to 16; `old` are the case's old layouts.
unsafe fn write_node(case: &CycCase, old: &[CycBuilt], node: &CycNode, dst: *mut u8) {
    let layout = &old[node.ty];
    for (name, val) in &node.vals {
        // SAFETY: the field lies at its offset within the cell, aligned for its type (C-like
        // layout from a 16-aligned base).
        unsafe { write_val(dst.add(layout.offsets[name]), val) };
    }
    let next_ty = case.next_of(node.ty);
    let kind = case.types[node.ty].link;
    let link = dst.wrapping_add(layout.next_at);
    with_slot!(next_ty, S => {
        let mut values = node.next.iter().map(|n| {
            // SAFETY: `write_node` writes every field of the old layout of `n.ty`, which is
            // registered in slot `next_ty` (old slots are the type numbers).
            unsafe { Erased::<S>::new(|p| write_node(case, old, n, p)) }
        });
        // SAFETY: the link field lies at `next_at` within the cell, aligned for its type, and
        // has exactly this Rust type (`LinkKind::shape_fn` of this slot).
        unsafe {
            match kind {
                LinkKind::Vec => link.cast::<Vec<Erased<S>>>().write(values.collect()),
                LinkKind::OptBox => link
                    .cast::<Option<Box<Erased<S>>>>()
                    .write(values.next().map(Box::new)),
            }
        }
    })
}

/// Reads the value of cycle type `ty` at `src` in the layouts `built` (slots from `base`):
/// its menu fields by name index, and its links.
///
/// # Safety
/// `src` points to a valid value of `built[ty]`, which lives during the call.
unsafe fn read_node(
    case: &CycCase,
    built: &[CycBuilt],
    base: usize,
    new: bool,
    ty: usize,
    src: *const u8,
) -> (BTreeMap<usize, Val>, Vec<(usize, *const u8)>) {
    let t = &case.types[ty];
    let fields = if new { &t.new } else { &t.old };
    let layout = &built[ty];
    let vals = fields
        .iter()
        .filter_map(|f| match *f {
            CycField::Plain(n, fty) => {
                // SAFETY: the value (valid, by the caller's contract) has a field of type `fty`
                // at this offset, borrowed during the call.
                let val = unsafe { read_val(src.add(layout.offsets[&n]), fty) };
                Some((n, val))
            }
            CycField::Next => None,
        })
        .collect();
    let next_ty = case.next_of(ty);
    // SAFETY: the link field at `next_at` has exactly this Rust type, and lives as long as the
    // value; the pointers returned are only used while it does.
    let next: Vec<*const u8> = with_slot!(base + next_ty, S => unsafe {
        let link = src.add(layout.next_at);
        match t.link {
            LinkKind::Vec => (*link.cast::<Vec<Erased<S>>>()).iter().map(Erased::as_ptr).collect(),
            LinkKind::OptBox => (*link.cast::<Option<Box<Erased<S>>>>())
                .as_deref()
                .map(Erased::as_ptr)
                .into_iter()
                .collect(),
        }
    });
    (vals, next.into_iter().map(|p| (next_ty, p)).collect())
}

/// Checks that the value at `src` (of type `node.ty` in the layouts `built`) is `node` after
/// the migration (`new`) or unchanged (`!new`), at the tree position `path`.
///
/// # Safety
/// As for [`read_node`].
unsafe fn check_node(
    case: &CycCase,
    built: &[CycBuilt],
    new: bool,
    node: &CycNode,
    src: *const u8,
    path: &str,
) {
    let base = if new { 3 } else { 0 };
    // SAFETY: the caller's contract.
    let (vals, next) = unsafe { read_node(case, built, base, new, node.ty, src) };
    let t = &case.types[node.ty];
    for (name, actual) in &vals {
        let expected = match node.vals.get(name) {
            Some(old) if new => old.convert(actual.ty()),
            Some(old) => old.clone(),
            None => actual.ty().default_value(),
        };
        let any_nan = new && t.old_plain(*name) != Some(actual.ty());
        assert!(
            same_value(&expected, actual, any_nan),
            "{path}.{}: expected {expected:?}, found {actual:?}",
            NAMES[*name]
        );
    }
    assert_eq!(
        next.len(),
        node.next.len(),
        "{path}.next holds as many values"
    );
    for (i, ((ty, p), n)) in next.into_iter().zip(&node.next).enumerate() {
        assert_eq!(ty, n.ty);
        // SAFETY: `p` points to a live value of the next type, in the same layouts.
        unsafe { check_node(case, built, new, n, p, &format!("{path}.next[{i}]")) };
    }
}

fn run_cyc_case(case: &CycCase) {
    let _serial = lock(&CASE);
    reset_counts();
    let k = case.types.len();
    let old = build_cycle(case, false);
    let new = build_cycle(case, true);
    // SAFETY: `write_node` writes every field of the old layout of `Cyc0`, in slot 0.
    let cell = unsafe { Erased::<0>::new(|p| write_node(case, &old, &case.root, p)) };
    let cell = core::mem::ManuallyDrop::new(cell);
    // SAFETY: the cell holds a valid value of the old `Cyc0` (`CELL` bytes), moved into the
    // resource and never dropped here (`ManuallyDrop`).
    let root = unsafe { Resource::from_raw(old[0].desc, cell.as_ptr()) };
    let mut state = State::new();
    state.insert_resource(root);
    let at = state.resource("Cyc0").unwrap().as_ptr();
    // SAFETY: the resource holds a valid old `Cyc0`, borrowed during the call.
    unsafe { check_node(case, &old, false, &case.root, at, "Cyc0") };

    let mut counts = [0u64; 3];
    case.root.visit(&mut |n| counts[n.ty] += 1);
    let catalog = Catalog::from_descs([new[0].desc]).expect("one type per name");
    let plan = match state.plan(&catalog) {
        Ok(plan) => plan,
        Err(e) => panic!("the migration was refused: {e}"),
    };
    // The verdicts first: moving a changed type's values bitwise would be silent corruption.
    for (ty, name) in CYC_NAMES.iter().enumerate().take(k) {
        let planned = plan.types().iter().find(|t| t.new_type().name() == *name);
        if case.changed() {
            assert!(
                planned.is_some_and(|t| !t.unchanged),
                "`{name}` reaches a changed type, so it must be migrated, not moved: {:?}",
                plan.types()
                    .iter()
                    .map(|t| (t.new_type().name(), t.unchanged))
                    .collect::<Vec<_>>()
            );
        } else {
            assert!(planned.is_none(), "`{name}` is unchanged (type {ty})");
        }
    }

    let report = match state.migrate(&plan) {
        Ok(report) => report,
        Err(e) => panic!("the migration failed: {e}"),
    };
    let mut removed = BTreeMap::new();
    let mut defaulted = 0;
    case.root.visit(&mut |n| {
        let t = &case.types[n.ty];
        for (name, val) in &n.vals {
            if !t.in_new(*name) {
                removed.extend(val.tracked_ids().into_iter().map(|id| (id, 1)));
            }
        }
        defaulted += t
            .new
            .iter()
            .filter(|f| match **f {
                CycField::Plain(
                    name,
                    Ty::Tracked | Ty::BoxTracked | Ty::TupU16Tracked | Ty::TupU32Tracked,
                ) => t.old_plain(name).is_none(),
                _ => false,
            })
            .count();
    });
    if case.changed() {
        assert_eq!(report.migrated, ["Cyc0"]);
        for (ty, name) in CYC_NAMES.iter().enumerate().take(k) {
            assert_eq!(
                report.ty(name).map(|t| t.values),
                Some(counts[ty]),
                "every `{name}` value is migrated: {report}"
            );
        }
        assert_eq!(drops(), removed, "drops at commit (removed fields only)");
        assert_eq!(defaults(), defaulted, "one default per new Tracked field");
    } else {
        assert_eq!(report.kept, ["Cyc0"]);
        assert!(report.types.is_empty(), "{report}");
        assert_eq!(
            state.resource("Cyc0").unwrap().as_ptr(),
            at,
            "kept in place"
        );
        assert_eq!(drops(), BTreeMap::new());
    }
    let res = state.resource("Cyc0").unwrap();
    assert!(core::ptr::eq(res.desc(), new[0].desc));
    // SAFETY: the resource holds a valid new `Cyc0`, borrowed during the call.
    unsafe { check_node(case, &new, true, &case.root, res.as_ptr(), "Cyc0") };

    drop(state);
    let mut expected = BTreeMap::new();
    case.root.visit(&mut |n| {
        for val in n.vals.values() {
            expected.extend(val.tracked_ids().into_iter().map(|id| (id, 1)));
        }
    });
    if defaulted > 0 {
        expected.insert(0, defaulted);
    }
    assert_eq!(drops(), expected, "every Tracked dropped exactly once");
}

proptest! {
    #![proptest_config(config())]

    /// Types that reach themselves through each other: when any of them changed, every value
    /// of every type of the cycle is migrated, at any depth, with the same guarantees as above.
    #[test]
    fn random_mutually_recursive_layouts_migrate_every_nested_value(case in cyc_case()) {
        run_cyc_case(&case);
    }
}
