//! Every kind of plan refusal, a property of `random_layouts`.

use super::*;

// ------------------------------------------------------------------------- every plan refusal
//
// A lossless case of `Rand` (as drawn for the first property) gets one defect no migration can
// carry out, each standing for one `ProblemKind` the planner reports: a new field that claims an
// old one kept under its own name (`Ambiguous`), two new types that both claim `Rand`
// (`Ambiguous`), `Rand` becoming an enum without or with a hook but no `Default` (`KindChanged`,
// `HookNeedsDefault`), `Rand` gone (`TypeRemoved`), a second live resource renamed onto `Rand`
// (`ResourcesMerged`) and an array of handles that grows (`NoElementDefault`). The plan must name
// exactly that problem (kind, type, field, old and new type) and nothing else, and nothing may be
// built, dropped or moved. (`Incompatible` and `NoDefault` are drawn by
// `random_impossible_layouts_are_refused_by_the_plan`; an enum variant's field that does not
// convert is `Incompatible` too, with the field written `Variant.field`.)

/// A second live resource, which the `Merged` defect renames onto `Rand`.
#[derive(CooType, Debug, PartialEq)]
#[coo(name = "Other")]
struct Other {
    x: u32,
}

/// Two new types that both say `rename_from = "Rand"`.
mod heirs {
    use super::*;

    #[derive(CooType, Debug)]
    #[coo(name = "Heir1", rename_from = "Rand")]
    pub struct Heir1 {
        pub u: u32,
    }

    #[derive(CooType, Debug)]
    #[coo(name = "Heir2", rename_from = "Rand")]
    pub struct Heir2 {
        pub u: u32,
    }
}

/// `Rand` as an enum, without a hook.
mod as_enum {
    use super::*;

    #[derive(CooType, Debug)]
    #[coo(name = "Rand")]
    pub enum Rand {
        A,
        B(u32),
    }
}

/// `Rand` as an enum with a hook, and no `Default` for the hook to start from.
mod as_hooked_enum {
    use super::*;

    #[derive(CooType, Debug)]
    #[coo(name = "Rand", migrate = rebuild)]
    pub enum Rand {
        A,
        B(u32),
    }

    fn rebuild(_old: &ValueView<'_>, _new: &mut Rand) -> Result<(), String> {
        HOOK_CALLS.with(|c| c.set(c.get() + 1));
        Ok(())
    }
}

/// The name of the field the `ArrayGrows` defect adds to both layouts.
const GROWS: &str = "grows";

/// The one thing that makes a case impossible.
#[derive(Debug, Clone)]
enum Defect {
    /// New field `other` says `rename_from` old field `name`, which a new field keeps by name.
    AmbiguousField { name: usize, other: usize },
    /// Two new types, and no `Rand`, say `rename_from = "Rand"`.
    AmbiguousType,
    /// `Rand` became an enum; with `hook`, one with a hook and no `Default`.
    BecameEnum { hook: bool },
    /// The new version has no `Rand`.
    Removed,
    /// A second live resource, `Other`, whose new type is `Rand` too (by `rename_from`).
    Merged,
    /// Both layouts end with a field `grows` of handles: `[_; 2]` holding these, then `[_; 3]`.
    ArrayGrows { handles: [(u32, u32); 2] },
}

/// A problem as the test expects it: kind, type, field, old and new type.
type Expected = (
    ProblemKind,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn text(ty: Ty) -> String {
    coo_runtime::descriptors::layout::shape_text((ty.shape_fn())())
}

/// Whether name `n` is in either layout or a rename.
fn used(case: &Case, n: usize) -> bool {
    case.old_field(n).is_some()
        || case.new.iter().any(|f| f.0 == n)
        || case.renamed.contains_key(&n)
        || case.renamed.values().any(|&o| o == n)
}

/// A name in neither layout nor any rename; made so by taking a name out of the case that no
/// rename involves, or (when every name is renamed) by starting from a one-field case.
fn free_name(case: &mut Case, pick: Index) -> usize {
    let free: Vec<usize> = (0..NAMES.len()).filter(|&n| !used(case, n)).collect();
    if !free.is_empty() {
        return free[pick.index(free.len())];
    }
    let plain: Vec<usize> = (0..NAMES.len())
        .filter(|n| !case.renamed.contains_key(n) && !case.renamed.values().any(|o| o == n))
        .collect();
    if plain.is_empty() {
        *case = one_field(Ty::U8, Val::U8(1), Ty::U8);
        return 1;
    }
    let name = plain[pick.index(plain.len())];
    case.old.retain(|f| f.0 != name);
    case.new.retain(|f| f.0 != name);
    case.defaults.remove(&name);
    name
}

fn refusal_case() -> impl Strategy<Value = (Case, Defect)> {
    (
        draws(),
        0..6u8,
        any::<Index>(),
        any::<Index>(),
        any::<bool>(),
        any::<[(u32, u32); 2]>(),
    )
        .prop_map(|(d, which, pick, pick2, hook, handles)| {
            let mut case = assemble(d, None);
            let defect = match which {
                0 => {
                    let mut other = free_name(&mut case, pick2);
                    // An old field kept under its name (made when there is none).
                    let kept: Vec<usize> = case
                        .new
                        .iter()
                        .map(|f| f.0)
                        .filter(|&n| case.old_field(n).is_some() && !case.renamed.contains_key(&n))
                        .collect();
                    let name = match kept.is_empty() {
                        false => kept[pick.index(kept.len())],
                        true => match (0..NAMES.len()).find(|&n| n != other && !used(&case, n)) {
                            Some(name) => {
                                case.old.push((name, Ty::U16, Val::U16(9)));
                                case.new.push((name, Ty::U16));
                                name
                            }
                            None => {
                                case = one_field(Ty::U8, Val::U8(1), Ty::U8);
                                other = 1;
                                0
                            }
                        },
                    };
                    let ty = case.new.iter().find(|f| f.0 == name).unwrap().1;
                    // The claimant has a type with a `Default`, so it is not also `NoDefault`.
                    let other_ty = if ty.has_default() { ty } else { Ty::U32 };
                    case.new.push((other, other_ty));
                    case.renamed.insert(other, name);
                    Defect::AmbiguousField { name, other }
                }
                1 => Defect::AmbiguousType,
                2 => Defect::BecameEnum { hook },
                3 => Defect::Removed,
                4 => {
                    // `Other` becomes a `Rand` too; the new fields' defaults are all it needs,
                    // so a handle field gets its own.
                    let handles: Vec<usize> = case
                        .new
                        .iter()
                        .filter(|f| f.1 == Ty::HandleTracked)
                        .map(|f| f.0)
                        .collect();
                    for name in handles {
                        case.defaults.entry(name).or_insert(FieldDefault::Value);
                    }
                    Defect::Merged
                }
                _ => Defect::ArrayGrows { handles },
            };
            (case, defect)
        })
}

impl Defect {
    /// The one problem the plan must report.
    fn expected(&self, case: &Case) -> Expected {
        let rand = "Rand".to_owned();
        match self {
            Defect::AmbiguousField { name, other } => {
                let old_ty = case.old_field(*name).unwrap().1;
                let new_ty = case.new.iter().find(|f| f.0 == *other).unwrap().1;
                (
                    ProblemKind::Ambiguous,
                    rand,
                    Some(NAMES[*other].to_owned()),
                    Some(text(old_ty)),
                    Some(text(new_ty)),
                )
            }
            Defect::AmbiguousType => (ProblemKind::Ambiguous, rand, None, None, None),
            Defect::BecameEnum { hook } => (
                if *hook {
                    ProblemKind::HookNeedsDefault
                } else {
                    ProblemKind::KindChanged
                },
                rand,
                None,
                Some("struct Rand".to_owned()),
                Some("enum Rand".to_owned()),
            ),
            Defect::Removed => (
                ProblemKind::TypeRemoved { live_values: 1 },
                rand.clone(),
                None,
                Some(rand),
                None,
            ),
            Defect::Merged => (
                ProblemKind::ResourcesMerged {
                    old_types: vec!["Other".to_owned(), "Rand".to_owned()],
                },
                rand,
                None,
                None,
                None,
            ),
            Defect::ArrayGrows { .. } => (
                ProblemKind::NoElementDefault,
                rand,
                Some(GROWS.to_owned()),
                Some("[Handle<Tracked>; 2]".to_owned()),
                Some("[Handle<Tracked>; 3]".to_owned()),
            ),
        }
    }
}

/// A field appended to a layout: its name and shape.
type ExtraField = (&'static str, fn() -> &'static Shape);

/// `desc` with another `rename_from` and one more field `(name, shape)` at its end (C-like),
/// which the drop glue of `slot` drops too; returns the new descriptor and the field's offset.
fn reshaped(
    slot: usize,
    desc: &'static TypeDesc,
    rename_from: &'static [&'static str],
    extra: Option<ExtraField>,
) -> (&'static TypeDesc, usize) {
    let TypeKind::Struct(s) = desc.kind() else {
        unreachable!("`Rand` is built as a struct")
    };
    let mut fields: Vec<FieldDesc> = s
        .fields()
        .iter()
        .map(coo_runtime::__private::field_desc_copy)
        .collect();
    let (mut size, mut align, mut needs_drop) = (desc.size(), desc.align(), desc.needs_drop());
    let mut at = size;
    if let Some((name, shape_fn)) = extra {
        let shape = shape_fn();
        at = s
            .fields()
            .iter()
            .map(|f| f.offset() + f.shape().size())
            .max()
            .unwrap_or(0)
            .next_multiple_of(shape.align());
        align = align.max(shape.align());
        size = (at + shape.size()).next_multiple_of(align);
        needs_drop |= shape.needs_drop();
        fields.push(coo_runtime::__private::field_desc(
            name,
            at,
            shape_fn,
            &[],
            None,
        ));
        lock(&LAYOUTS[slot]).push((at, shape));
    }
    let new: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
        desc.name(),
        desc.rust_name(),
        rename_from,
        size,
        align,
        needs_drop,
        TypeKind::Struct(coo_runtime::__private::struct_desc(
            s.style(),
            Box::leak(fields.into_boxed_slice()),
        )),
        desc.glue(),
    )));
    lock(&BUILT).push(new);
    (new, at)
}

type Handles2 = [Handle<Tracked>; 2];

/// As [`insert_old`], for the old layout reshaped with the field `grows` at `at`, holding
/// `handles`.
fn insert_old_with_handles(
    case: &Case,
    old: &Built,
    at: usize,
    handles: &[(u32, u32); 2],
) -> (State, BTreeMap<usize, usize>) {
    let words = old.desc.size().div_ceil(16).max(1);
    assert!(old.desc.align() <= align_of::<u128>());
    let mut buf: Vec<MaybeUninit<u128>> = Vec::with_capacity(words);
    let base = buf.as_mut_ptr().cast::<u8>();
    for (name, _, val) in &case.old {
        // SAFETY: as in `insert_old`: the buffer is `desc.size` bytes or more, aligned for
        // `u128` and so for every field, which lies at its offset in the C-like layout.
        unsafe { write_val(base.add(old.offsets[name]), val) };
    }
    let value: Handles2 = handles.map(|(i, g)| Handle::from_raw(i, g));
    // SAFETY: `grows` lies at `at`, inside the buffer (the reshaped size covers it) and aligned
    // for handles (`reshaped` rounded `at` up to their alignment; the buffer is `u128`-aligned).
    unsafe { base.add(at).cast::<Handles2>().write(value) };
    // SAFETY: every field of the reshaped layout was written above, so the buffer holds a valid
    // value of `desc`; it is moved into the resource and never used or dropped again.
    let resource = unsafe { Resource::from_raw(old.desc, base) };
    let mut state = State::new();
    state.insert_resource(resource);
    let heap = heap_addrs(&state, case.old_layout().iter().copied(), old);
    (state, heap)
}
type Handles3 = [Handle<Tracked>; 3];

/// The plan refuses the case naming exactly its defect's problem, and nothing is built, dropped
/// or moved; dropping the state then drops every old value once.
fn run_refusal_case(case: &Case, defect: &Defect) {
    let _serial = lock(&CASE);
    reset_counts();
    let mut old = build_layout(0, &case.old_layout());
    let new = build_new(case);
    let mut new_desc = new.desc;
    let mut grows_at = None;
    if let Defect::ArrayGrows { .. } = defect {
        let (d, at) = reshaped(
            0,
            old.desc,
            &[],
            Some((GROWS, <Handles2 as CooField>::shape)),
        );
        old.desc = d;
        grows_at = Some(at);
        new_desc = reshaped(
            1,
            new.desc,
            &[],
            Some((GROWS, <Handles3 as CooField>::shape)),
        )
        .0;
    }
    let (mut state, heap) = match (defect, grows_at) {
        (Defect::ArrayGrows { handles }, Some(at)) => {
            insert_old_with_handles(case, &old, at, handles)
        }
        _ => insert_old(case, &old),
    };
    if let Defect::Merged = defect {
        state.insert(Other { x: 17 });
    }
    let other_at = state.resource("Other").map(|r| r.as_ptr());
    let at = state.resource("Rand").unwrap().as_ptr();
    let catalog = match defect {
        Defect::AmbiguousField { .. } | Defect::ArrayGrows { .. } => {
            Catalog::from_descs([new_desc])
        }
        Defect::AmbiguousType => Catalog::from_descs([heirs::Heir1::DESC, heirs::Heir2::DESC]),
        Defect::BecameEnum { hook: false } => Catalog::from_descs([as_enum::Rand::DESC]),
        Defect::BecameEnum { hook: true } => Catalog::from_descs([as_hooked_enum::Rand::DESC]),
        Defect::Removed => Catalog::from_descs([Other::DESC]),
        Defect::Merged => Catalog::from_descs([reshaped(1, new_desc, &["Other"], None).0]),
    }
    .expect("no two types of one name");
    match state.migrate_to(&catalog) {
        Err(MigrationError::Plan(PlanError { problems })) => {
            let found: Vec<Expected> = problems
                .iter()
                .map(|p| {
                    (
                        p.kind.clone(),
                        p.ty.clone(),
                        p.field.clone(),
                        p.old_ty.clone(),
                        p.new_ty.clone(),
                    )
                })
                .collect();
            assert_eq!(found, [defect.expected(case)], "{problems:?}");
            assert!(!problems[0].fix.is_empty(), "says what to write");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => panic!("an impossible migration was accepted: {report}"),
    }
    assert_nothing_built_or_dropped();
    assert_eq!(state.resource("Rand").unwrap().as_ptr(), at, "not moved");
    assert_eq!(
        state.resource("Other").map(|r| r.as_ptr()),
        other_at,
        "not moved"
    );
    assert_old_unchanged(case, &state, &old, &heap);
    if let (Defect::ArrayGrows { handles }, Some(grows)) = (defect, grows_at) {
        let res = state.resource("Rand").unwrap();
        // SAFETY: the resource holds a valid value of the reshaped old layout (checked not
        // moved above), whose field `grows` is a `[Handle<Tracked>; 2]` at this offset; it is
        // copied out (handles are `Copy`).
        let value = unsafe { *res.as_ptr().add(grows).cast::<Handles2>() };
        assert_eq!(value.map(|h| (h.index(), h.generation())), *handles);
    }
    if let Defect::Merged = defect {
        assert_eq!(state.get::<Other>(), Some(&Other { x: 17 }));
    }
    drop(state);
    assert_eq!(
        drops(),
        old_ids(case, |_| true),
        "every Tracked dropped once"
    );
}

proptest! {
    #![proptest_config(config())]

    /// Every kind of layout change the plan cannot carry out is refused, naming exactly the
    /// problem, and changes nothing.
    #[test]
    fn random_layouts_are_refused_for_every_kind_of_plan_problem(
        (case, defect) in refusal_case()
    ) {
        run_refusal_case(&case, &defect);
    }
}
