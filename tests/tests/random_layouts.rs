//! Property tests over random layouts built from descriptors at runtime.
//!
//! Every case draws an old and a new layout of one struct (stable name `Rand`): fields named from
//! a fixed pool, typed from a menu of primitives (every integer width, `i128`/`u128`,
//! `isize`/`usize`, both floats, `bool`, `char`), arrays of numbers (`[u16; 2..=4]`,
//! `[u32; 3]`), strings, containers, a drop-counting `CooType`, a `Pool` of it (slots at
//! drawn generations), a `Handle` to it (which has no `Default`, so a new one always gets a
//! default of its own), tuples (`(u16, Tracked)`, `(u8, String)`), maps (`BTreeMap<u16,
//! String>`, `HashMap<u16, u8>`, `HashMap<u16, Tracked>`) and a `VecDeque<u32>`, each tuple or
//! map with a wider counterpart it converts to (`(u32, Tracked)`, `BTreeMap<u32, String>`, …:
//! rebuilt element by element or entry by entry, a map's `Tracked` values moved, never copied). The new layout keeps some old fields (same type, a lossless widening, or a checked
//! narrowing with a value that fits, often the edge of a type), drops the others, adds new ones
//! and shuffles the order; a kept field may take a new name with `rename_from`, an added one
//! may have a default of its own (`FieldDesc::default`). Both `TypeDesc`s are built by hand with C-like offsets; their drop
//! glue is one of two monomorphized functions that look up the field list of their "layout
//! slot" (0 = old, 1 = new) in a global table, so cases are serialized. Which conversions are
//! lossless or checked, and which values convert exactly, the test works out by itself (from
//! ranges and mantissa widths, `N` and `lossless` below) and checks against the runtime.
//!
//! The properties: the migration succeeds (an identical layout is kept in place), common fields
//! keep their (converted) values and their heap allocations (moved, not copied), new fields hold
//! their types' defaults, removed `Tracked` values are dropped at commit exactly once, moved ones
//! are not, and after the state is dropped every `Tracked` was dropped exactly once. With a forced
//! failure (any checked conversion between menu types of a value that does not convert: past an
//! edge, a fraction, an infinity, NaN; an array element that does not, or a non-default element
//! of a shrinking array), the migration is refused with `CheckedCast` naming the field (and
//! element), both types and the value, or `ArrayShrink` naming the field, lengths and element, the old value is untouched, nothing of it is dropped (the
//! defaults built for new fields before the failure are dropped again, once each), and once the
//! value is fixed the same reload goes through with all of the above. The same holds when a
//! field's own default fails (`Default` naming the field and the message), until it is given
//! one that works, and when the new layout's migration hook fails (`Hook`; the new value, an
//! independent copy under a hook, is dropped whole), until the hook works. A fifth of the
//! lossless cases have a hook that writes the new value's `u32` fields from the old value's
//! view; then the old value is dropped whole at commit and its `Tracked` values copied.
//!
//! Layouts no migration can carry out (a kept field changed to a type its old one does not
//! convert to, a new handle without a default) are refused by the plan with exactly that
//! problem, and nothing is built, dropped or moved.
//!
//! A third property (module `cycles`) draws mutually recursive layouts:
//! a cycle of types reaching each other through `Vec` or `Option<Box<_>>`, some of which change;
//! every nested value of every type reaching a changed one is migrated, none is moved bitwise.
//!
//! A fourth property (module `enums`) draws enums with hand-written tagged layouts and glue:
//! variants and their fields added, removed, reordered and widened, explicit discriminants and
//! `repr`s changed, inside a struct that changes only through them.
//!
//! A fifth property (module `refusals`) gives a drawn case one defect for each other kind of
//! plan problem (`Ambiguous` field and type, `KindChanged`, `HookNeedsDefault`, `TypeRemoved`,
//! `ResourcesMerged`, `NoElementDefault`): the plan names exactly it, nothing else changes.
//!
//! A sixth property (module `nested`) draws chains of 2 to 4 struct types holding each other by
//! value, each kept or changed on its own: exactly the types that are or reach a changed one
//! are migrated, checked type by type, with values, moved allocations and drops as above;
//! also with hooks on nested types that succeed, or fail and roll back.
//!
//! A seventh property (module `arrays`) draws arrays of `Tracked`, `Box<Tracked>` and
//! `Option<Tracked>` that grow (defaults fill them), shrink over defaults (dropped at commit) or
//! would lose a value (refused with `ArrayShrink`, nothing changed), with or without a hook.
//!
//! An eighth property (module `generic_dyn`) draws a generic struct's argument types, old and
//! new, and `Box<dyn Trait>` objects whose concrete types' layouts and method bodies change (or
//! whose impl is gone: refused at the first live one, nothing dropped); every `Tracked` inside
//! is moved and dropped exactly once, the objects answer with the new bodies.
//!
//! Failing cases are saved to `tests/proptest-regressions/random_layouts.txt` and replayed
//! first on every run (commit that file when it exists).

use coo_runtime::migration::casts::InexactCast;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::mem::{MaybeUninit, align_of, needs_drop, size_of};
use std::sync::{Mutex, MutexGuard, PoisonError};

use coo_runtime::descriptors::layout::{FieldsStyle, TypeGlue, WriteFn};
use coo_runtime::migration::casts::{CastKind, cast_kind};
use coo_runtime::plugin::ForeignString;
use coo_runtime::storage::view::ValueView;
use coo_runtime::{
    Catalog, CooField, CooType, DefaultPanicked, ExecuteError, ExecuteErrorKind, FieldDesc, Handle,
    MigrationError, PlanError, Pool, Prim, ProblemKind, Resource, Shape, ShapeKind, State,
    TypeDesc, TypeKind,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{FileFailurePersistence, RngAlgorithm};

#[path = "random_layouts/arrays.rs"]
mod arrays;
#[path = "random_layouts/cycles.rs"]
mod cycles;
#[path = "random_layouts/enums.rs"]
mod enums;
#[path = "random_layouts/generic_dyn.rs"]
mod generic_dyn;
#[path = "random_layouts/nested.rs"]
mod nested;
#[path = "random_layouts/refusals.rs"]
mod refusals;

// ------------------------------------------------------------------------------ drop counting

thread_local! {
    /// How often the `Tracked` of each id was dropped (per test thread).
    static DROPS: RefCell<BTreeMap<u32, usize>> = const { RefCell::new(BTreeMap::new()) };
    /// How many `Tracked` values `Default` made (per test thread).
    static DEFAULTS: Cell<usize> = const { Cell::new(0) };
    /// How many `Tracked` values fields' own defaults made (per test thread).
    static CUSTOM_MADE: Cell<usize> = const { Cell::new(0) };
    /// How often a migration hook of `Rand` ran (per test thread).
    static HOOK_CALLS: Cell<usize> = const { Cell::new(0) };
}

fn drops() -> BTreeMap<u32, usize> {
    DROPS.with(|d| d.borrow().clone())
}

fn defaults() -> usize {
    DEFAULTS.with(Cell::get)
}

fn custom_made() -> usize {
    CUSTOM_MADE.with(Cell::get)
}

/// After a refused plan: no value was dropped, no default or custom value made, no hook run.
fn assert_nothing_built_or_dropped() {
    assert_eq!(drops(), BTreeMap::new(), "nothing dropped");
    assert_eq!(
        (defaults(), custom_made(), hook_calls()),
        (0, 0, 0),
        "nothing built"
    );
}

fn reset_counts() {
    DROPS.with(|d| d.borrow_mut().clear());
    DEFAULTS.with(|d| d.set(0));
    CUSTOM_MADE.with(|d| d.set(0));
    HOOK_CALLS.with(|d| d.set(0));
}

fn hook_calls() -> usize {
    HOOK_CALLS.with(Cell::get)
}

/// A value whose drops are counted by id. Values the test writes have ids from 1; id 0 is the
/// `Default` a migration writes into a new field, whose creations are counted too.
#[derive(CooType, Debug)]
#[coo(name = "Tracked")]
struct Tracked {
    id: u32,
}

impl Default for Tracked {
    fn default() -> Self {
        DEFAULTS.with(|d| d.set(d.get() + 1));
        Tracked { id: 0 }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.with(|d| *d.borrow_mut().entry(self.id).or_default() += 1);
    }
}

// ------------------------------------------------------------------------------ the type menu

const NAMES: [&str; 12] = [
    "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    U8,
    U16,
    U32,
    U64,
    I32,
    I64,
    F32,
    F64,
    Bool,
    Str,
    Tracked,
    VecU32,
    OptTracked,
    BoxU64,
    VecTracked,
    BoxTracked,
    I8,
    I16,
    I128,
    U128,
    Isize,
    Usize,
    Char,
    ArrU16x2,
    ArrU16x3,
    ArrU16x4,
    ArrU32x3,
    PoolTracked,
    HandleTracked,
    TupU16Tracked,
    TupU32Tracked,
    TupU8Str,
    TupU16Str,
    MapU16Str,
    MapU32Str,
    HMapU16U8,
    HMapU32U16,
    DequeU32,
    HMapU16Tracked,
    HMapU32Tracked,
}

/// Runs `$body` with `$t` standing for the Rust type of the menu entry `$ty`.
macro_rules! with_rust_type {
    ($ty:expr, $t:ident => $body:expr) => {
        match $ty {
            Ty::U8 => {
                type $t = u8;
                $body
            }
            Ty::U16 => {
                type $t = u16;
                $body
            }
            Ty::U32 => {
                type $t = u32;
                $body
            }
            Ty::U64 => {
                type $t = u64;
                $body
            }
            Ty::I32 => {
                type $t = i32;
                $body
            }
            Ty::I64 => {
                type $t = i64;
                $body
            }
            Ty::F32 => {
                type $t = f32;
                $body
            }
            Ty::F64 => {
                type $t = f64;
                $body
            }
            Ty::Bool => {
                type $t = bool;
                $body
            }
            Ty::Str => {
                type $t = String;
                $body
            }
            Ty::Tracked => {
                type $t = Tracked;
                $body
            }
            Ty::VecU32 => {
                type $t = Vec<u32>;
                $body
            }
            Ty::OptTracked => {
                type $t = Option<Tracked>;
                $body
            }
            Ty::BoxU64 => {
                type $t = Box<u64>;
                $body
            }
            Ty::VecTracked => {
                type $t = Vec<Tracked>;
                $body
            }
            Ty::BoxTracked => {
                type $t = Box<Tracked>;
                $body
            }
            Ty::I8 => {
                type $t = i8;
                $body
            }
            Ty::I16 => {
                type $t = i16;
                $body
            }
            Ty::I128 => {
                type $t = i128;
                $body
            }
            Ty::U128 => {
                type $t = u128;
                $body
            }
            Ty::Isize => {
                type $t = isize;
                $body
            }
            Ty::Usize => {
                type $t = usize;
                $body
            }
            Ty::Char => {
                type $t = char;
                $body
            }
            Ty::ArrU16x2 => {
                type $t = [u16; 2];
                $body
            }
            Ty::ArrU16x3 => {
                type $t = [u16; 3];
                $body
            }
            Ty::ArrU16x4 => {
                type $t = [u16; 4];
                $body
            }
            Ty::ArrU32x3 => {
                type $t = [u32; 3];
                $body
            }
            Ty::PoolTracked => {
                type $t = Pool<Tracked>;
                $body
            }
            Ty::HandleTracked => {
                type $t = Handle<Tracked>;
                $body
            }
            Ty::TupU16Tracked => {
                type $t = (u16, Tracked);
                $body
            }
            Ty::TupU32Tracked => {
                type $t = (u32, Tracked);
                $body
            }
            Ty::TupU8Str => {
                type $t = (u8, String);
                $body
            }
            Ty::TupU16Str => {
                type $t = (u16, String);
                $body
            }
            Ty::MapU16Str => {
                type $t = BTreeMap<u16, String>;
                $body
            }
            Ty::MapU32Str => {
                type $t = BTreeMap<u32, String>;
                $body
            }
            Ty::HMapU16U8 => {
                type $t = HashMap<u16, u8>;
                $body
            }
            Ty::HMapU32U16 => {
                type $t = HashMap<u32, u16>;
                $body
            }
            Ty::DequeU32 => {
                type $t = VecDeque<u32>;
                $body
            }
            Ty::HMapU16Tracked => {
                type $t = HashMap<u16, Tracked>;
                $body
            }
            Ty::HMapU32Tracked => {
                type $t = HashMap<u32, Tracked>;
                $body
            }
        }
    };
}

impl Ty {
    const ALL: [Ty; 40] = [
        Ty::U8,
        Ty::U16,
        Ty::U32,
        Ty::U64,
        Ty::I32,
        Ty::I64,
        Ty::F32,
        Ty::F64,
        Ty::Bool,
        Ty::Str,
        Ty::Tracked,
        Ty::VecU32,
        Ty::OptTracked,
        Ty::BoxU64,
        Ty::VecTracked,
        Ty::BoxTracked,
        Ty::I8,
        Ty::I16,
        Ty::I128,
        Ty::U128,
        Ty::Isize,
        Ty::Usize,
        Ty::Char,
        Ty::ArrU16x2,
        Ty::ArrU16x3,
        Ty::ArrU16x4,
        Ty::ArrU32x3,
        Ty::PoolTracked,
        Ty::HandleTracked,
        Ty::TupU16Tracked,
        Ty::TupU32Tracked,
        Ty::TupU8Str,
        Ty::TupU16Str,
        Ty::MapU16Str,
        Ty::MapU32Str,
        Ty::HMapU16U8,
        Ty::HMapU32U16,
        Ty::DequeU32,
        Ty::HMapU16Tracked,
        Ty::HMapU32Tracked,
    ];

    /// The widening of a tuple or collection type on the menu (its elements, keys and values
    /// widen losslessly), if it has one.
    fn wider(self) -> Option<Ty> {
        match self {
            Ty::TupU16Tracked => Some(Ty::TupU32Tracked),
            Ty::TupU8Str => Some(Ty::TupU16Str),
            Ty::MapU16Str => Some(Ty::MapU32Str),
            Ty::HMapU16U8 => Some(Ty::HMapU32U16),
            Ty::HMapU16Tracked => Some(Ty::HMapU32Tracked),
            _ => None,
        }
    }

    /// Whether the type is a tuple or a collection (they convert only by [`Ty::wider`]; the
    /// narrowings back are checked element by element, which this test leaves to the tests
    /// of collections).
    fn is_composite(self) -> bool {
        matches!(
            self,
            Ty::TupU16Tracked
                | Ty::TupU32Tracked
                | Ty::TupU8Str
                | Ty::TupU16Str
                | Ty::MapU16Str
                | Ty::MapU32Str
                | Ty::HMapU16U8
                | Ty::HMapU32U16
                | Ty::DequeU32
                | Ty::HMapU16Tracked
                | Ty::HMapU32Tracked
        )
    }

    /// The element type and length of an array type.
    fn array(self) -> Option<(Ty, usize)> {
        match self {
            Ty::ArrU16x2 => Some((Ty::U16, 2)),
            Ty::ArrU16x3 => Some((Ty::U16, 3)),
            Ty::ArrU16x4 => Some((Ty::U16, 4)),
            Ty::ArrU32x3 => Some((Ty::U32, 3)),
            _ => None,
        }
    }

    /// The array type of `len` elements of `elem` on the menu.
    fn array_of(elem: Ty, len: usize) -> Ty {
        Ty::ALL
            .into_iter()
            .find(|t| t.array() == Some((elem, len)))
            .unwrap_or_else(|| panic!("no [{elem:?}; {len}] on the menu"))
    }

    /// Whether the type implements `Default` (a `Handle` does not: a new one needs a default
    /// of the field's own, or the plan is refused).
    fn has_default(self) -> bool {
        self != Ty::HandleTracked
    }

    /// The position of the type in `Ty::ALL`.
    fn index(self) -> usize {
        Ty::ALL.iter().position(|&t| t == self).unwrap()
    }

    fn shape_fn(self) -> fn() -> &'static Shape {
        with_rust_type!(self, T => <T as CooField>::shape as fn() -> &'static Shape)
    }

    /// Size, alignment and `needs_drop` of the Rust type, to check the shape against.
    fn rust_layout(self) -> (usize, usize, bool) {
        with_rust_type!(self, T => (size_of::<T>(), align_of::<T>(), needs_drop::<T>()))
    }

    /// The types a kept field of this type may take in the new layout: itself, then every
    /// lossless widening on the menu (by the test's own reckoning, see [`lossless`]).
    fn targets(self) -> Vec<Ty> {
        let mut targets = vec![self];
        targets.extend(
            Ty::ALL
                .into_iter()
                .filter(|&to| to != self && lossless(self, to)),
        );
        targets
    }

    /// The numeric types this one converts to with a check of each value: every other
    /// numeric type that not all of its values fit.
    fn checked_targets(self) -> Vec<Ty> {
        if self.is_composite() {
            return Vec::new();
        }
        Ty::ALL
            .into_iter()
            .filter(|&to| to != self && convertible(self, to) && !lossless(self, to))
            .collect()
    }

    fn is_numeric(self) -> bool {
        self.range().is_some() || matches!(self, Ty::F32 | Ty::F64)
    }

    /// The least and greatest value of an integer type.
    fn range(self) -> Option<(N, N)> {
        let r = |min: i128, max: i128| Some((N::I(min), N::I(max)));
        match self {
            Ty::U8 => r(0, u8::MAX.into()),
            Ty::U16 => r(0, u16::MAX.into()),
            Ty::U32 => r(0, u32::MAX.into()),
            Ty::U64 => r(0, u64::MAX.into()),
            Ty::Usize => r(0, usize::MAX as i128),
            Ty::U128 => Some((N::I(0), N::U(u128::MAX))),
            Ty::I8 => r(i8::MIN.into(), i8::MAX.into()),
            Ty::I16 => r(i16::MIN.into(), i16::MAX.into()),
            Ty::I32 => r(i32::MIN.into(), i32::MAX.into()),
            Ty::I64 => r(i64::MIN.into(), i64::MAX.into()),
            Ty::Isize => r(isize::MIN as i128, isize::MAX as i128),
            Ty::I128 => r(i128::MIN, i128::MAX),
            _ => None,
        }
    }

    /// Values at the edges of the type: an integer type's least and greatest, a float type's
    /// greatest exact integers, greatest finite and least positive values.
    fn edges(self) -> Vec<N> {
        match self {
            Ty::F32 => vec![
                N::I(1 << 24),
                N::I(-(1 << 24)),
                N::F(f64::from(f32::MAX)),
                N::F(f64::from(f32::MIN_POSITIVE)),
            ],
            Ty::F64 => vec![
                N::I(1 << 53),
                N::I(-(1 << 53)),
                N::F(f64::MAX),
                N::F(f64::MIN_POSITIVE),
            ],
            _ => self
                .range()
                .map_or_else(Vec::new, |(min, max)| vec![min, max]),
        }
    }

    fn prim(self) -> Option<Prim> {
        match (self.shape_fn())().kind() {
            ShapeKind::Prim(p) => Some(*p),
            _ => None,
        }
    }

    /// The value of the type's `Default`.
    fn default_value(self) -> Val {
        match self {
            Ty::U8 => Val::U8(0),
            Ty::U16 => Val::U16(0),
            Ty::U32 => Val::U32(0),
            Ty::U64 => Val::U64(0),
            Ty::I32 => Val::I32(0),
            Ty::I64 => Val::I64(0),
            Ty::F32 => Val::F32(0.0),
            Ty::F64 => Val::F64(0.0),
            Ty::Bool => Val::Bool(false),
            Ty::Str => Val::Str(String::new()),
            // `Tracked::default()` has id 0.
            Ty::Tracked => Val::Tracked(0),
            Ty::VecU32 => Val::VecU32(Vec::new()),
            Ty::OptTracked => Val::OptTracked(None),
            Ty::VecTracked => Val::VecTracked(Vec::new()),
            Ty::TupU16Tracked => Val::TupTracked(0, 0, false),
            Ty::TupU32Tracked => Val::TupTracked(0, 0, true),
            Ty::TupU8Str => Val::TupStr(0, String::new(), false),
            Ty::TupU16Str => Val::TupStr(0, String::new(), true),
            Ty::MapU16Str => Val::MapStr(Vec::new(), false),
            Ty::MapU32Str => Val::MapStr(Vec::new(), true),
            Ty::HMapU16U8 => Val::HMap(Vec::new(), false),
            Ty::HMapU32U16 => Val::HMap(Vec::new(), true),
            Ty::DequeU32 => Val::Deque(Vec::new()),
            Ty::HMapU16Tracked => Val::HMapTracked(Vec::new(), false),
            Ty::HMapU32Tracked => Val::HMapTracked(Vec::new(), true),
            Ty::BoxTracked => Val::BoxTracked(0),
            Ty::BoxU64 => Val::BoxU64(0),
            Ty::I8 => Val::I8(0),
            Ty::I16 => Val::I16(0),
            Ty::I128 => Val::I128(0),
            Ty::U128 => Val::U128(0),
            Ty::Isize => Val::Isize(0),
            Ty::Usize => Val::Usize(0),
            Ty::Char => Val::Char('\0'),
            Ty::ArrU16x2 | Ty::ArrU16x3 | Ty::ArrU16x4 | Ty::ArrU32x3 => {
                let (elem, len) = self.array().unwrap();
                Val::from_elems(elem, vec![elem.default_value(); len])
            }
            Ty::PoolTracked => Val::Pool(Vec::new()),
            Ty::HandleTracked => unreachable!("a handle has no default"),
        }
    }
}

/// Whether every value of the numeric type `from` is exactly a value of `to`: an integer
/// type's range lies in the other's, an integer fits a float's mantissa (24 or 53 bits) with
/// its magnitude, and `f32` widens to `f64`. Worked out from ranges, independently of the
/// runtime's own table (`cast_kind`), which a test checks against it.
fn lossless(from: Ty, to: Ty) -> bool {
    if from.is_composite() || to.is_composite() {
        return from.wider() == Some(to);
    }
    if let (Some((fe, fl)), Some((te, tl))) = (from.array(), to.array()) {
        // Every element converts, and no element is dropped.
        return (fe == te || lossless(fe, te)) && fl <= tl;
    }
    let mantissa = |t: Ty| match t {
        Ty::F32 => Some(24),
        Ty::F64 => Some(53),
        _ => None,
    };
    match (from.range(), to.range(), mantissa(from), mantissa(to)) {
        (Some((lo, hi)), Some((to_lo, to_hi)), _, _) => to_lo.le(lo) && hi.le(to_hi),
        (Some((lo, hi)), None, _, Some(bits)) => {
            let limit = 1u128 << bits;
            lo.magnitude() <= limit && hi.magnitude() <= limit
        }
        (None, None, Some(a), Some(b)) => a <= b,
        _ => false,
    }
}

/// `2^127` and `2^128`, exactly (written out: `powi` need not be exact, and is not under Miri).
const TWO_POW_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;

/// Whether some values of `from` convert to `to` (numbers to numbers, arrays of convertible
/// elements to arrays of any length).
fn convertible(from: Ty, to: Ty) -> bool {
    if from.is_composite() || to.is_composite() {
        return from == to || from.wider() == Some(to) || to.wider() == Some(from);
    }
    match (from.array(), to.array()) {
        (Some((fe, _)), Some((te, _))) => fe == te || convertible(fe, te),
        (None, None) => from == to || (from.is_numeric() && to.is_numeric()),
        _ => false,
    }
}

/// A number: an integer (`U` only above `i128::MAX`) or a float.
#[derive(Debug, Clone, Copy)]
enum N {
    I(i128),
    U(u128),
    F(f64),
}

impl N {
    /// `self <= other`, for integers.
    fn le(self, other: N) -> bool {
        match (self, other) {
            (N::I(a), N::I(b)) => a <= b,
            (N::I(_), N::U(_)) => true,
            (N::U(_), N::I(_)) => false,
            (N::U(a), N::U(b)) => a <= b,
            _ => unreachable!("integers only"),
        }
    }

    /// The magnitude of an integer (the largest magnitude for the widest range limits, as
    /// `i128::MIN`'s is `2^127`).
    fn magnitude(self) -> u128 {
        match self {
            N::I(v) => v.unsigned_abs(),
            N::U(v) => v,
            N::F(_) => unreachable!("integers only"),
        }
    }

    /// The integer value of a finite float with no fraction.
    fn integral(f: f64) -> Option<N> {
        if !f.is_finite() || f.fract() != 0.0 {
            return None;
        }
        // `f` is an integer, so these casts are exact when the checks around them hold.
        if (0.0..TWO_POW_128).contains(&f) {
            let v = f as u128;
            Some(i128::try_from(v).map_or(N::U(v), N::I))
        } else if (-TWO_POW_127..0.0).contains(&f) {
            Some(N::I(f as i128))
        } else {
            None
        }
    }

    /// Whether the integer is exactly a float with a `bits`-bit mantissa: its magnitude
    /// without trailing zero bits fits.
    fn fits_mantissa(m: u128, bits: u32) -> bool {
        m == 0 || (m >> m.trailing_zeros()) < (1u128 << bits)
    }

    /// The number as a value of `to`, if it is exactly one.
    fn to_val(self, to: Ty) -> Option<Val> {
        macro_rules! int {
            ($t:ty, $v:path) => {
                match self {
                    N::I(v) => <$t>::try_from(v).ok().map($v),
                    N::U(v) => <$t>::try_from(v).ok().map($v),
                    N::F(f) => N::integral(f).and_then(|n| n.to_val(to)),
                }
            };
        }
        match to {
            Ty::U8 => int!(u8, Val::U8),
            Ty::U16 => int!(u16, Val::U16),
            Ty::U32 => int!(u32, Val::U32),
            Ty::U64 => int!(u64, Val::U64),
            Ty::U128 => int!(u128, Val::U128),
            Ty::Usize => int!(usize, Val::Usize),
            Ty::I8 => int!(i8, Val::I8),
            Ty::I16 => int!(i16, Val::I16),
            Ty::I32 => int!(i32, Val::I32),
            Ty::I64 => int!(i64, Val::I64),
            Ty::I128 => int!(i128, Val::I128),
            Ty::Isize => int!(isize, Val::Isize),
            Ty::F32 => match self {
                N::I(v) => N::fits_mantissa(v.unsigned_abs(), 24).then_some(Val::F32(v as f32)),
                N::U(v) => N::fits_mantissa(v, 24).then_some(Val::F32(v as f32)),
                // A NaN stays a NaN (its payload may change).
                N::F(f) => {
                    let g = f as f32;
                    (f64::from(g) == f || f.is_nan()).then_some(Val::F32(g))
                }
            },
            Ty::F64 => match self {
                N::I(v) => N::fits_mantissa(v.unsigned_abs(), 53).then_some(Val::F64(v as f64)),
                N::U(v) => N::fits_mantissa(v, 53).then_some(Val::F64(v as f64)),
                N::F(f) => Some(Val::F64(f)),
            },
            _ => None,
        }
    }
}

/// A value of `from` that converts exactly to `to` (a checked conversion, so not every value
/// does): one of [`fitting_values`], by `pick`.
fn fitting(from: Ty, to: Ty, pick: Index) -> Val {
    let fit = fitting_values(from, to);
    fit[pick.index(fit.len())].clone()
}

/// The values of `from` that convert exactly to `to` among a few plain numbers and the edges
/// of both types.
fn fitting_values(from: Ty, to: Ty) -> Vec<Val> {
    if let (Some((fe, fl)), Some((te, tl))) = (from.array(), to.array()) {
        // Arrays of elements that fit, rotated, and defaults where elements are dropped.
        let elems: Vec<Val> = if fe == te {
            [N::I(0), N::I(1)]
                .into_iter()
                .chain(fe.edges())
                .filter_map(|n| n.to_val(fe))
                .collect()
        } else {
            fitting_values(fe, te)
        };
        return (0..elems.len())
            .map(|k| {
                let array = (0..fl)
                    .map(|i| match i < tl {
                        true => elems[(i + k) % elems.len()].clone(),
                        false => fe.default_value(),
                    })
                    .collect();
                Val::from_elems(fe, array)
            })
            .collect();
    }
    let mut candidates = vec![
        N::I(0),
        N::I(1),
        N::I(-1),
        N::I(100),
        N::I(-100),
        N::F(0.5),
        N::F(-2.5),
    ];
    candidates.extend(to.edges());
    candidates.extend(from.edges());
    candidates
        .into_iter()
        .filter_map(|n| n.to_val(from))
        .filter(|v| v.convert_checked(to).is_some())
        .collect()
}

/// The values of `from` that do not convert exactly to `to` among the edges of both types, the
/// numbers just past them, fractions, infinities and NaN.
fn unfitting_values(from: Ty, to: Ty) -> Vec<Val> {
    if let (Some((fe, fl)), Some((te, tl))) = (from.array(), to.array()) {
        let mut out = Vec::new();
        let one = N::I(1).to_val(fe).unwrap();
        // A dropped element that is not the default, alone or after elements that do not fit.
        for k in tl..fl {
            let mut array = vec![fe.default_value(); fl];
            array[k] = one.clone();
            out.push(Val::from_elems(fe, array.clone()));
            if let Some(bad) = unfitting_values(fe, te).first().filter(|_| fe != te) {
                array[0] = bad.clone();
                out.push(Val::from_elems(fe, array));
            }
        }
        // An element that does not fit, at each kept position in turn.
        if fe != te {
            for (i, bad) in unfitting_values(fe, te).into_iter().enumerate() {
                let mut array = vec![one.clone(); fl];
                for e in array.iter_mut().skip(tl) {
                    *e = fe.default_value();
                }
                array[i % tl.min(fl)] = bad;
                out.push(Val::from_elems(fe, array));
            }
        }
        return out;
    }
    let mut candidates = vec![
        N::I(-1),
        N::F(0.5),
        N::F(-2.5),
        N::F(f64::INFINITY),
        N::F(f64::NEG_INFINITY),
        N::F(f64::NAN),
        N::F(0.1),
        N::F(TWO_POW_127),
        N::F(TWO_POW_128),
        N::F(-TWO_POW_127),
        N::F(-TWO_POW_128),
    ];
    for t in [from, to] {
        candidates.extend(t.edges());
        if let Some((min, max)) = t.range() {
            // Just past the edges, as integers where they are ones, and as floats.
            if let N::I(min) = min {
                candidates.extend(min.checked_sub(1).map(N::I));
                candidates.push(N::F(min as f64 - 1.0));
            }
            match max {
                N::I(max) => {
                    candidates.push(max.checked_add(1).map_or(N::U(1 << 127), N::I));
                    candidates.push(N::F(max as f64 + 1.0));
                }
                N::U(max) => candidates.push(N::F(max as f64)),
                N::F(_) => {}
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|n| n.to_val(from))
        .filter(|v| v.convert_checked(to).is_none())
        .collect()
}

/// A field's value as plain data (a `Tracked` by its id), so that cases can be cloned, printed
/// and shrunk without creating or dropping counted values.
#[derive(Debug, Clone)]
enum Val {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    Tracked(u32),
    VecU32(Vec<u32>),
    OptTracked(Option<u32>),
    VecTracked(Vec<u32>),
    BoxTracked(u32),
    BoxU64(u64),
    I8(i8),
    I16(i16),
    I128(i128),
    U128(u128),
    Isize(isize),
    Usize(usize),
    Char(char),
    ArrU16(Vec<u16>),
    ArrU32(Vec<u32>),
    /// A pool's values in slot order (slot `i` holds entry `i`): generation and `Tracked` id.
    Pool(Vec<(u32, u32)>),
    /// A handle's index and generation.
    Handle(u32, u32),
    /// `(u16, Tracked)` (or `(u32, Tracked)` when wide): the number and the `Tracked` id.
    TupTracked(u32, u32, bool),
    /// `(u8, String)` (or `(u16, String)` when wide).
    TupStr(u16, String, bool),
    /// A `BTreeMap<u16, String>` (or `<u32, String>` when wide), its entries in key order.
    MapStr(Vec<(u32, String)>, bool),
    /// A `HashMap<u16, u8>` (or `<u32, u16>` when wide), its entries sorted by key.
    HMap(Vec<(u32, u16)>, bool),
    /// A `VecDeque<u32>`, front to back.
    Deque(Vec<u32>),
    /// A `HashMap<u16, Tracked>` (or `<u32, Tracked>` when wide): keys and `Tracked` ids,
    /// sorted by key.
    HMapTracked(Vec<(u32, u32)>, bool),
}

impl Val {
    fn ty(&self) -> Ty {
        match self {
            Val::U8(_) => Ty::U8,
            Val::U16(_) => Ty::U16,
            Val::U32(_) => Ty::U32,
            Val::U64(_) => Ty::U64,
            Val::I32(_) => Ty::I32,
            Val::I64(_) => Ty::I64,
            Val::F32(_) => Ty::F32,
            Val::F64(_) => Ty::F64,
            Val::Bool(_) => Ty::Bool,
            Val::Str(_) => Ty::Str,
            Val::Tracked(_) => Ty::Tracked,
            Val::VecU32(_) => Ty::VecU32,
            Val::OptTracked(_) => Ty::OptTracked,
            Val::VecTracked(_) => Ty::VecTracked,
            Val::BoxTracked(_) => Ty::BoxTracked,
            Val::BoxU64(_) => Ty::BoxU64,
            Val::I8(_) => Ty::I8,
            Val::I16(_) => Ty::I16,
            Val::I128(_) => Ty::I128,
            Val::U128(_) => Ty::U128,
            Val::Isize(_) => Ty::Isize,
            Val::Usize(_) => Ty::Usize,
            Val::Char(_) => Ty::Char,
            Val::ArrU16(v) => Ty::array_of(Ty::U16, v.len()),
            Val::ArrU32(v) => Ty::array_of(Ty::U32, v.len()),
            Val::Pool(_) => Ty::PoolTracked,
            Val::Handle(..) => Ty::HandleTracked,
            Val::TupTracked(_, _, wide) => {
                [Ty::TupU16Tracked, Ty::TupU32Tracked][usize::from(*wide)]
            }
            Val::TupStr(_, _, wide) => [Ty::TupU8Str, Ty::TupU16Str][usize::from(*wide)],
            Val::MapStr(_, wide) => [Ty::MapU16Str, Ty::MapU32Str][usize::from(*wide)],
            Val::HMap(_, wide) => [Ty::HMapU16U8, Ty::HMapU32U16][usize::from(*wide)],
            Val::Deque(_) => Ty::DequeU32,
            Val::HMapTracked(_, wide) => {
                [Ty::HMapU16Tracked, Ty::HMapU32Tracked][usize::from(*wide)]
            }
        }
    }

    /// The ids of the `Tracked` values this value holds.
    fn tracked_ids(&self) -> Vec<u32> {
        match self {
            Val::Tracked(id)
            | Val::OptTracked(Some(id))
            | Val::BoxTracked(id)
            | Val::TupTracked(_, id, _) => vec![*id],
            Val::VecTracked(ids) => ids.clone(),
            Val::Pool(entries) | Val::HMapTracked(entries, _) => {
                entries.iter().map(|&(_, id)| id).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The ids of the `Tracked` values this value holds, to be given out.
    fn tracked_ids_mut(&mut self) -> Vec<&mut u32> {
        match self {
            Val::Tracked(id)
            | Val::OptTracked(Some(id))
            | Val::BoxTracked(id)
            | Val::TupTracked(_, id, _) => vec![id],
            Val::VecTracked(ids) => ids.iter_mut().collect(),
            Val::Pool(entries) | Val::HMapTracked(entries, _) => {
                entries.iter_mut().map(|(_, id)| id).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The value converted exactly to `to` (one of `self.ty().targets()`, or a type of its
    /// `checked_targets()` the value fits): what the migration must produce.
    fn convert(&self, to: Ty) -> Val {
        self.convert_checked(to)
            .unwrap_or_else(|| panic!("{self:?} does not convert exactly to {to:?}"))
    }

    /// The value converted exactly to `to`, if it converts.
    fn convert_checked(&self, to: Ty) -> Option<Val> {
        if self.ty() == to {
            return Some(self.clone());
        }
        if self.ty().wider() == Some(to) {
            // Each element, key and value widens exactly.
            return Some(match self.clone() {
                Val::TupTracked(n, id, _) => Val::TupTracked(n, id, true),
                Val::TupStr(n, s, _) => Val::TupStr(n, s, true),
                Val::MapStr(entries, _) => Val::MapStr(entries, true),
                Val::HMap(entries, _) => Val::HMap(entries, true),
                Val::HMapTracked(entries, _) => Val::HMapTracked(entries, true),
                other => unreachable!("{other:?} has no wider type"),
            });
        }
        if self.ty().is_composite() || to.is_composite() {
            return None;
        }
        if let (Some(elems), Some((elem, len))) = (self.elems(), to.array()) {
            // Dropped elements must hold the default; kept ones convert; new ones default.
            if elems.iter().skip(len).any(|e| !e.is_default()) {
                return None;
            }
            let mut out = elems
                .iter()
                .take(len)
                .map(|e| e.convert_checked(elem))
                .collect::<Option<Vec<_>>>()?;
            out.resize(len, elem.default_value());
            return Some(Val::from_elems(elem, out));
        }
        self.num()?.to_val(to)
    }

    /// The elements of an array.
    fn elems(&self) -> Option<Vec<Val>> {
        match self {
            Val::ArrU16(v) => Some(v.iter().map(|&e| Val::U16(e)).collect()),
            Val::ArrU32(v) => Some(v.iter().map(|&e| Val::U32(e)).collect()),
            _ => None,
        }
    }

    /// The array of `elems`, all of type `elem`.
    fn from_elems(elem: Ty, elems: Vec<Val>) -> Val {
        match elem {
            Ty::U16 => Val::ArrU16(
                elems
                    .into_iter()
                    .map(|e| match e {
                        Val::U16(v) => v,
                        other => unreachable!("{other:?} in a [u16]"),
                    })
                    .collect(),
            ),
            Ty::U32 => Val::ArrU32(
                elems
                    .into_iter()
                    .map(|e| match e {
                        Val::U32(v) => v,
                        other => unreachable!("{other:?} in a [u32]"),
                    })
                    .collect(),
            ),
            other => unreachable!("no arrays of {other:?}"),
        }
    }

    /// Whether the value is its type's default.
    fn is_default(&self) -> bool {
        same_value(self, &self.ty().default_value(), false)
    }

    /// The value as a number, if it is one.
    fn num(&self) -> Option<N> {
        let int = |v: i128| Some(N::I(v));
        match *self {
            Val::U8(v) => int(v.into()),
            Val::U16(v) => int(v.into()),
            Val::U32(v) => int(v.into()),
            Val::U64(v) => int(v.into()),
            Val::Usize(v) => int(v as i128),
            Val::U128(v) => Some(i128::try_from(v).map_or(N::U(v), N::I)),
            Val::I8(v) => int(v.into()),
            Val::I16(v) => int(v.into()),
            Val::I32(v) => int(v.into()),
            Val::I64(v) => int(v.into()),
            Val::Isize(v) => int(v as i128),
            Val::I128(v) => int(v),
            Val::F32(v) => Some(N::F(v.into())),
            Val::F64(v) => Some(N::F(v)),
            _ => None,
        }
    }
}

/// Whether `actual` is `expected`: floats by their bits, except that with `any_nan` every NaN
/// matches a NaN (a float conversion may change a NaN's payload; a copy may not).
fn same_value(expected: &Val, actual: &Val, any_nan: bool) -> bool {
    match (expected, actual) {
        (Val::F32(a), Val::F32(b)) => a.to_bits() == b.to_bits(),
        (Val::F64(a), Val::F64(b)) => {
            a.to_bits() == b.to_bits() || (any_nan && a.is_nan() && b.is_nan())
        }
        (Val::U8(a), Val::U8(b)) => a == b,
        (Val::U16(a), Val::U16(b)) => a == b,
        (Val::U32(a), Val::U32(b)) => a == b,
        (Val::U64(a), Val::U64(b)) => a == b,
        (Val::I32(a), Val::I32(b)) => a == b,
        (Val::I64(a), Val::I64(b)) => a == b,
        (Val::Bool(a), Val::Bool(b)) => a == b,
        (Val::Str(a), Val::Str(b)) => a == b,
        (Val::Tracked(a), Val::Tracked(b)) => a == b,
        (Val::VecU32(a), Val::VecU32(b)) => a == b,
        (Val::OptTracked(a), Val::OptTracked(b)) => a == b,
        (Val::VecTracked(a), Val::VecTracked(b)) => a == b,
        (Val::BoxTracked(a), Val::BoxTracked(b)) => a == b,
        (Val::BoxU64(a), Val::BoxU64(b)) => a == b,
        (Val::I8(a), Val::I8(b)) => a == b,
        (Val::I16(a), Val::I16(b)) => a == b,
        (Val::I128(a), Val::I128(b)) => a == b,
        (Val::U128(a), Val::U128(b)) => a == b,
        (Val::Isize(a), Val::Isize(b)) => a == b,
        (Val::Usize(a), Val::Usize(b)) => a == b,
        (Val::Char(a), Val::Char(b)) => a == b,
        (Val::ArrU16(a), Val::ArrU16(b)) => a == b,
        (Val::ArrU32(a), Val::ArrU32(b)) => a == b,
        (Val::Pool(a), Val::Pool(b)) => a == b,
        (Val::Handle(a, b), Val::Handle(c, d)) => (a, b) == (c, d),
        (Val::TupTracked(a, b, c), Val::TupTracked(d, e, f)) => (a, b, c) == (d, e, f),
        (Val::TupStr(a, b, c), Val::TupStr(d, e, f)) => (a, b, c) == (d, e, f),
        (Val::MapStr(a, b), Val::MapStr(c, d)) => (a, b) == (c, d),
        (Val::HMap(a, b), Val::HMap(c, d)) => (a, b) == (c, d),
        (Val::Deque(a), Val::Deque(b)) => a == b,
        (Val::HMapTracked(a, b), Val::HMapTracked(c, d)) => (a, b) == (c, d),
        _ => false,
    }
}

/// Moves a real Rust value of `val`'s type into `dst`.
///
/// # Safety
/// `dst` is valid for writes of that type and suitably aligned.
unsafe fn write_val(dst: *mut u8, val: &Val) {
    // SAFETY: each arm writes exactly the Rust type that `val`'s menu entry names, which the
    // caller guarantees `dst` has room and alignment for.
    unsafe {
        match val {
            Val::U8(v) => dst.cast::<u8>().write(*v),
            Val::U16(v) => dst.cast::<u16>().write(*v),
            Val::U32(v) => dst.cast::<u32>().write(*v),
            Val::U64(v) => dst.cast::<u64>().write(*v),
            Val::I32(v) => dst.cast::<i32>().write(*v),
            Val::I64(v) => dst.cast::<i64>().write(*v),
            Val::F32(v) => dst.cast::<f32>().write(*v),
            Val::F64(v) => dst.cast::<f64>().write(*v),
            Val::Bool(v) => dst.cast::<bool>().write(*v),
            Val::Str(v) => dst.cast::<String>().write(v.clone()),
            Val::Tracked(id) => dst.cast::<Tracked>().write(Tracked { id: *id }),
            Val::VecU32(v) => dst.cast::<Vec<u32>>().write(v.clone()),
            Val::OptTracked(v) => dst
                .cast::<Option<Tracked>>()
                .write(v.map(|id| Tracked { id })),
            Val::BoxU64(v) => dst.cast::<Box<u64>>().write(Box::new(*v)),
            Val::VecTracked(ids) => dst
                .cast::<Vec<Tracked>>()
                .write(ids.iter().map(|&id| Tracked { id }).collect()),
            Val::BoxTracked(id) => dst
                .cast::<Box<Tracked>>()
                .write(Box::new(Tracked { id: *id })),
            Val::I8(v) => dst.cast::<i8>().write(*v),
            Val::I16(v) => dst.cast::<i16>().write(*v),
            Val::I128(v) => dst.cast::<i128>().write(*v),
            Val::U128(v) => dst.cast::<u128>().write(*v),
            Val::Isize(v) => dst.cast::<isize>().write(*v),
            Val::Usize(v) => dst.cast::<usize>().write(*v),
            Val::Char(v) => dst.cast::<char>().write(*v),
            Val::ArrU16(v) => {
                for (i, e) in v.iter().enumerate() {
                    dst.cast::<u16>().add(i).write(*e);
                }
            }
            Val::ArrU32(v) => {
                for (i, e) in v.iter().enumerate() {
                    dst.cast::<u32>().add(i).write(*e);
                }
            }
            Val::Pool(entries) => {
                let mut pool = Pool::new();
                for &(generation, id) in entries {
                    pool.__insert_at_generation(Tracked { id }, generation);
                }
                dst.cast::<Pool<Tracked>>().write(pool);
            }
            Val::Handle(index, generation) => dst
                .cast::<Handle<Tracked>>()
                .write(Handle::from_raw(*index, *generation)),
            Val::TupTracked(n, id, false) => dst
                .cast::<(u16, Tracked)>()
                .write((u16::try_from(*n).unwrap(), Tracked { id: *id })),
            Val::TupTracked(n, id, true) => dst
                .cast::<(u32, Tracked)>()
                .write((*n, Tracked { id: *id })),
            Val::TupStr(n, s, false) => dst
                .cast::<(u8, String)>()
                .write((u8::try_from(*n).unwrap(), s.clone())),
            Val::TupStr(n, s, true) => dst.cast::<(u16, String)>().write((*n, s.clone())),
            Val::MapStr(entries, false) => dst.cast::<BTreeMap<u16, String>>().write(
                entries
                    .iter()
                    .map(|(k, v)| (u16::try_from(*k).unwrap(), v.clone()))
                    .collect(),
            ),
            Val::MapStr(entries, true) => dst
                .cast::<BTreeMap<u32, String>>()
                .write(entries.iter().cloned().collect()),
            Val::HMap(entries, false) => dst.cast::<HashMap<u16, u8>>().write(
                entries
                    .iter()
                    .map(|&(k, v)| (u16::try_from(k).unwrap(), u8::try_from(v).unwrap()))
                    .collect(),
            ),
            Val::HMap(entries, true) => dst
                .cast::<HashMap<u32, u16>>()
                .write(entries.iter().copied().collect()),
            Val::Deque(v) => dst
                .cast::<VecDeque<u32>>()
                .write(v.iter().copied().collect()),
            Val::HMapTracked(entries, false) => dst.cast::<HashMap<u16, Tracked>>().write(
                entries
                    .iter()
                    .map(|&(k, id)| (u16::try_from(k).unwrap(), Tracked { id }))
                    .collect(),
            ),
            Val::HMapTracked(entries, true) => dst
                .cast::<HashMap<u32, Tracked>>()
                .write(entries.iter().map(|&(k, id)| (k, Tracked { id })).collect()),
        }
    }
}

/// Reads the value of type `ty` at `src` (borrowing, never moving it).
///
/// # Safety
/// `src` points to a valid, aligned value of `ty`'s Rust type that lives during the call.
unsafe fn read_val(src: *const u8, ty: Ty) -> Val {
    // SAFETY: each arm borrows `src` as exactly the Rust type `ty` names (caller's contract) and
    // only copies out of it.
    unsafe {
        match ty {
            Ty::U8 => Val::U8(*src.cast::<u8>()),
            Ty::U16 => Val::U16(*src.cast::<u16>()),
            Ty::U32 => Val::U32(*src.cast::<u32>()),
            Ty::U64 => Val::U64(*src.cast::<u64>()),
            Ty::I32 => Val::I32(*src.cast::<i32>()),
            Ty::I64 => Val::I64(*src.cast::<i64>()),
            Ty::F32 => Val::F32(*src.cast::<f32>()),
            Ty::F64 => Val::F64(*src.cast::<f64>()),
            Ty::Bool => Val::Bool(*src.cast::<bool>()),
            Ty::Str => Val::Str((*src.cast::<String>()).clone()),
            Ty::Tracked => Val::Tracked((*src.cast::<Tracked>()).id),
            Ty::VecU32 => Val::VecU32((*src.cast::<Vec<u32>>()).clone()),
            Ty::OptTracked => {
                Val::OptTracked((*src.cast::<Option<Tracked>>()).as_ref().map(|t| t.id))
            }
            Ty::BoxU64 => Val::BoxU64(**src.cast::<Box<u64>>()),
            Ty::VecTracked => {
                Val::VecTracked((*src.cast::<Vec<Tracked>>()).iter().map(|t| t.id).collect())
            }
            Ty::BoxTracked => Val::BoxTracked((*src.cast::<Box<Tracked>>()).id),
            Ty::I8 => Val::I8(*src.cast::<i8>()),
            Ty::I16 => Val::I16(*src.cast::<i16>()),
            Ty::I128 => Val::I128(*src.cast::<i128>()),
            Ty::U128 => Val::U128(*src.cast::<u128>()),
            Ty::Isize => Val::Isize(*src.cast::<isize>()),
            Ty::Usize => Val::Usize(*src.cast::<usize>()),
            Ty::Char => Val::Char(*src.cast::<char>()),
            Ty::ArrU16x2 => Val::ArrU16((*src.cast::<[u16; 2]>()).to_vec()),
            Ty::ArrU16x3 => Val::ArrU16((*src.cast::<[u16; 3]>()).to_vec()),
            Ty::ArrU16x4 => Val::ArrU16((*src.cast::<[u16; 4]>()).to_vec()),
            Ty::ArrU32x3 => Val::ArrU32((*src.cast::<[u32; 3]>()).to_vec()),
            Ty::PoolTracked => Val::Pool(
                (*src.cast::<Pool<Tracked>>())
                    .iter()
                    .enumerate()
                    .map(|(i, (h, t))| {
                        assert_eq!(h.index() as usize, i, "slot {i} holds a value");
                        (h.generation(), t.id)
                    })
                    .collect(),
            ),
            Ty::HandleTracked => {
                let h = *src.cast::<Handle<Tracked>>();
                Val::Handle(h.index(), h.generation())
            }
            Ty::TupU16Tracked => {
                let t = &*src.cast::<(u16, Tracked)>();
                Val::TupTracked(t.0.into(), t.1.id, false)
            }
            Ty::TupU32Tracked => {
                let t = &*src.cast::<(u32, Tracked)>();
                Val::TupTracked(t.0, t.1.id, true)
            }
            Ty::TupU8Str => {
                let t = &*src.cast::<(u8, String)>();
                Val::TupStr(t.0.into(), t.1.clone(), false)
            }
            Ty::TupU16Str => {
                let t = &*src.cast::<(u16, String)>();
                Val::TupStr(t.0, t.1.clone(), true)
            }
            Ty::MapU16Str => Val::MapStr(
                (*src.cast::<BTreeMap<u16, String>>())
                    .iter()
                    .map(|(k, v)| (u32::from(*k), v.clone()))
                    .collect(),
                false,
            ),
            Ty::MapU32Str => Val::MapStr(
                (*src.cast::<BTreeMap<u32, String>>())
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect(),
                true,
            ),
            Ty::HMapU16U8 => {
                let mut entries: Vec<(u32, u16)> = (*src.cast::<HashMap<u16, u8>>())
                    .iter()
                    .map(|(k, v)| (u32::from(*k), u16::from(*v)))
                    .collect();
                entries.sort_unstable();
                Val::HMap(entries, false)
            }
            Ty::HMapU32U16 => {
                let mut entries: Vec<(u32, u16)> = (*src.cast::<HashMap<u32, u16>>())
                    .iter()
                    .map(|(k, v)| (*k, *v))
                    .collect();
                entries.sort_unstable();
                Val::HMap(entries, true)
            }
            Ty::DequeU32 => Val::Deque((*src.cast::<VecDeque<u32>>()).iter().copied().collect()),
            Ty::HMapU16Tracked => {
                let mut entries: Vec<(u32, u32)> = (*src.cast::<HashMap<u16, Tracked>>())
                    .iter()
                    .map(|(k, v)| (u32::from(*k), v.id))
                    .collect();
                entries.sort_unstable();
                Val::HMapTracked(entries, false)
            }
            Ty::HMapU32Tracked => {
                let mut entries: Vec<(u32, u32)> = (*src.cast::<HashMap<u32, Tracked>>())
                    .iter()
                    .map(|(k, v)| (*k, v.id))
                    .collect();
                entries.sort_unstable();
                Val::HMapTracked(entries, true)
            }
        }
    }
}

/// The address of the heap allocation a value of `ty` at `src` owns, if it owns one.
///
/// # Safety
/// As for [`read_val`].
unsafe fn heap_addr(src: *const u8, ty: Ty) -> Option<usize> {
    // SAFETY: each arm borrows `src` as the Rust type `ty` names (caller's contract).
    unsafe {
        match ty {
            Ty::Str => Some((*src.cast::<String>()).as_ptr() as usize),
            Ty::VecU32 => Some((*src.cast::<Vec<u32>>()).as_ptr() as usize),
            Ty::BoxU64 => Some(&**src.cast::<Box<u64>>() as *const u64 as usize),
            Ty::VecTracked => Some((*src.cast::<Vec<Tracked>>()).as_ptr() as usize),
            // A tuple's `String` is moved with its tuple (as a field would be).
            Ty::TupU8Str => Some((*src.cast::<(u8, String)>()).1.as_ptr() as usize),
            Ty::TupU16Str => Some((*src.cast::<(u16, String)>()).1.as_ptr() as usize),
            Ty::BoxTracked => Some(&**src.cast::<Box<Tracked>>() as *const Tracked as usize),
            Ty::PoolTracked => (*src.cast::<Pool<Tracked>>())
                .iter()
                .next()
                .map(|(_, t)| t as *const Tracked as usize),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------ descriptors built at runtime

/// The field list (offset, shape) of the layout currently in each slot: 0 = old, 1 = new.
static LAYOUTS: [Mutex<Vec<(usize, &'static Shape)>>; 2] =
    [Mutex::new(Vec::new()), Mutex::new(Vec::new())];

/// Serializes cases: the slots of `LAYOUTS` belong to the case holding this lock.
static CASE: Mutex<()> = Mutex::new(());

/// Every descriptor built so far. They are leaked (descriptors are `&'static` by contract); this
/// keeps them reachable so Miri does not report them as leaks.
static BUILT: Mutex<Vec<&'static TypeDesc>> = Mutex::new(Vec::new());

static GLUES: [TypeGlue; 2] = [
    coo_runtime::__private::type_glue(drop_slot::<0>, no_default, None),
    coo_runtime::__private::type_glue(drop_slot::<1>, no_default, None),
];

/// The glue of the new layout of `Rand` with a hook that writes ([`hook_writes`]) or fails.
static HOOK_GLUES: [TypeGlue; 2] = [
    coo_runtime::__private::type_glue(drop_slot::<1>, no_default, Some(hook_writes)),
    coo_runtime::__private::type_glue(drop_slot::<1>, no_default, Some(hook_fails)),
];

/// The offsets of the `u32` fields of the new layout, which [`hook_writes`] sets.
static HOOK_U32: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// What [`hook_fails`] reports.
const HOOK_FAILS: &str = "hook says no";

/// A migration hook of `Rand` that sets every `u32` field of the new value to the number of
/// fields of the old one (which it reads through the view).
///
/// # Safety
/// `new` points to a complete value of the new layout (slot 1), borrowed mutably.
unsafe fn hook_writes(old: &ValueView<'_>, new: *mut u8) -> Result<(), ForeignString> {
    HOOK_CALLS.with(|c| c.set(c.get() + 1));
    let count = u32::try_from(old.fields().len()).unwrap();
    for offset in lock(&HOOK_U32).iter() {
        // SAFETY: the new value has a `u32` field at each offset of `HOOK_U32` (set when the
        // layout was built), which is plain data, overwritten in place.
        unsafe { new.add(*offset).cast::<u32>().write(count) };
    }
    Ok(())
}

/// A migration hook of `Rand` that fails.
///
/// # Safety
/// None needed: it touches nothing.
unsafe fn hook_fails(_old: &ValueView<'_>, _new: *mut u8) -> Result<(), ForeignString> {
    HOOK_CALLS.with(|c| c.set(c.get() + 1));
    Err(ForeignString::new(HOOK_FAILS.to_owned()))
}

const RUST_NAMES: [&str; 2] = ["random_layouts::old::Rand", "random_layouts::new::Rand"];

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A failing case panics while holding the locks; the data stays usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn no_default() -> Option<WriteFn> {
    None
}

/// Drop glue of the layout in slot `SLOT`: drops each field in declaration order.
///
/// # Safety
/// `p` points to a valid value of the layout currently registered in slot `SLOT`, which is not
/// used again.
unsafe fn drop_slot<const SLOT: usize>(p: *mut u8) {
    // Copied out so that no lock is held while field drops run.
    let fields = lock(&LAYOUTS[SLOT]).clone();
    for (offset, shape) in fields {
        // SAFETY: the value at `p` has the layout of slot `SLOT`, whose field at `offset` is a
        // valid value of `shape`; each field is dropped once, by its own shape's glue.
        unsafe { shape.drop(p.add(offset)) }
    }
}

/// A struct layout built at runtime.
struct Built {
    desc: &'static TypeDesc,
    /// The offset of each field, by name index.
    offsets: BTreeMap<usize, usize>,
}

/// Builds the descriptor of a struct with `fields` (name index, type) in this order, C-like, and
/// registers its drop glue's field list in `slot`.
fn build_layout(slot: usize, fields: &[(usize, Ty)]) -> Built {
    build_layout_with(slot, fields, &BTreeMap::new(), &BTreeMap::new(), Hook::None)
}

/// The new layout of `case`.
fn build_new(case: &Case) -> Built {
    build_layout_with(1, &case.new, &case.renamed, &case.defaults, case.hook)
}

/// As [`build_layout`], with `rename_from`, field defaults and a migration hook (which only the
/// new layout, slot 1, may have).
fn build_layout_with(
    slot: usize,
    fields: &[(usize, Ty)],
    renamed: &BTreeMap<usize, usize>,
    field_defaults: &BTreeMap<usize, FieldDefault>,
    hook: Hook,
) -> Built {
    let mut end = 0usize;
    let mut align = 1;
    let mut needs_drop = false;
    let mut descs = Vec::with_capacity(fields.len());
    let mut table = Vec::with_capacity(fields.len());
    let mut offsets = BTreeMap::new();
    for &(name, ty) in fields {
        let shape = (ty.shape_fn())();
        assert_eq!(
            (shape.size(), shape.align(), shape.needs_drop()),
            ty.rust_layout(),
            "the shape of {ty:?} describes its Rust type"
        );
        let offset = end.next_multiple_of(shape.align());
        end = offset + shape.size();
        align = align.max(shape.align());
        needs_drop |= shape.needs_drop();
        descs.push(coo_runtime::__private::field_desc(
            NAMES[name],
            offset,
            ty.shape_fn(),
            match renamed.get(&name) {
                Some(&old) => Box::leak(Box::new([NAMES[old]])),
                None => &[],
            },
            match field_defaults.get(&name) {
                Some(FieldDefault::Value) => Some(CUSTOM_DEFAULTS[ty.index()]),
                Some(FieldDefault::Fails) => Some(failing_default),
                None => None,
            },
        ));
        table.push((offset, shape));
        offsets.insert(name, offset);
    }
    *lock(&LAYOUTS[slot]) = table;
    let desc: &'static TypeDesc = Box::leak(Box::new(coo_runtime::__private::type_desc(
        "Rand",
        RUST_NAMES[slot],
        &[],
        end.next_multiple_of(align),
        align,
        needs_drop,
        TypeKind::Struct(coo_runtime::__private::struct_desc(
            FieldsStyle::Named,
            Box::leak(descs.into_boxed_slice()),
        )),
        match hook {
            Hook::None => &GLUES[slot],
            Hook::Writes => {
                assert_eq!(slot, 1);
                *lock(&HOOK_U32) = fields
                    .iter()
                    .filter(|f| f.1 == Ty::U32)
                    .map(|f| offsets[&f.0])
                    .collect();
                &HOOK_GLUES[0]
            }
            Hook::Fails => {
                assert_eq!(slot, 1);
                &HOOK_GLUES[1]
            }
        },
    )));
    lock(&BUILT).push(desc);
    Built { desc, offsets }
}

/// The id of the `Tracked` values field defaults make.
const CUSTOM_ID: u32 = 1_000_000;

/// The value of a field's own default: not its type's `Default`.
fn custom_value(ty: Ty) -> Val {
    match ty {
        Ty::U8 => Val::U8(42),
        Ty::U16 => Val::U16(4242),
        Ty::U32 => Val::U32(424_242),
        Ty::U64 => Val::U64(u64::MAX - 42),
        Ty::I32 => Val::I32(-42),
        Ty::I64 => Val::I64(i64::MIN + 42),
        Ty::F32 => Val::F32(4.25),
        Ty::F64 => Val::F64(-42.5),
        Ty::Bool => Val::Bool(true),
        Ty::Str => Val::Str("dflt ✓".to_owned()),
        Ty::Tracked => Val::Tracked(CUSTOM_ID),
        Ty::VecU32 => Val::VecU32(vec![4, 2]),
        Ty::OptTracked => Val::OptTracked(Some(CUSTOM_ID)),
        Ty::BoxU64 => Val::BoxU64(4_200_000_000_000),
        Ty::VecTracked => Val::VecTracked(vec![CUSTOM_ID, CUSTOM_ID]),
        Ty::BoxTracked => Val::BoxTracked(CUSTOM_ID),
        Ty::I8 => Val::I8(-42),
        Ty::I16 => Val::I16(-4242),
        Ty::I128 => Val::I128(i128::MIN + 42),
        Ty::U128 => Val::U128(u128::MAX - 42),
        Ty::Isize => Val::Isize(-424_242),
        Ty::Usize => Val::Usize(424_242),
        Ty::Char => Val::Char('ß'),
        Ty::ArrU16x2 => Val::ArrU16(vec![4, 2]),
        Ty::ArrU16x3 => Val::ArrU16(vec![4, 2, 42]),
        Ty::ArrU16x4 => Val::ArrU16(vec![4, 2, 4, 2]),
        Ty::ArrU32x3 => Val::ArrU32(vec![4, 2, 424_242]),
        Ty::PoolTracked => Val::Pool(vec![(2, CUSTOM_ID)]),
        Ty::HandleTracked => Val::Handle(7, 3),
        Ty::TupU16Tracked => Val::TupTracked(42, CUSTOM_ID, false),
        Ty::TupU32Tracked => Val::TupTracked(424_242, CUSTOM_ID, true),
        Ty::TupU8Str => Val::TupStr(42, "dflt".to_owned(), false),
        Ty::TupU16Str => Val::TupStr(4242, "dflt".to_owned(), true),
        Ty::MapU16Str => Val::MapStr(vec![(2, "b".to_owned()), (4, "a".to_owned())], false),
        Ty::MapU32Str => Val::MapStr(vec![(424_242, "c".to_owned())], true),
        Ty::HMapU16U8 => Val::HMap(vec![(4, 2)], false),
        Ty::HMapU32U16 => Val::HMap(vec![(4, 4242), (424_242, 2)], true),
        Ty::DequeU32 => Val::Deque(vec![4, 2]),
        Ty::HMapU16Tracked => Val::HMapTracked(vec![(4, CUSTOM_ID)], false),
        Ty::HMapU32Tracked => Val::HMapTracked(vec![(424_242, CUSTOM_ID)], true),
    }
}

/// `FieldDesc::default` writing [`custom_value`] of `Ty::ALL[T]`.
///
/// # Safety
/// `dst` is valid for writes of that type and aligned for it.
unsafe fn write_custom<const T: usize>(dst: *mut u8) -> Result<(), ForeignString> {
    let val = custom_value(Ty::ALL[T]);
    CUSTOM_MADE.with(|c| c.set(c.get() + val.tracked_ids().len()));
    // SAFETY: the caller's contract; the value is of the type `Ty::ALL[T]` names.
    unsafe { write_val(dst, &val) };
    Ok(())
}

/// The field default of each menu type, by its index in `Ty::ALL`.
const CUSTOM_DEFAULTS: [WriteFn; 40] = [
    write_custom::<0>,
    write_custom::<1>,
    write_custom::<2>,
    write_custom::<3>,
    write_custom::<4>,
    write_custom::<5>,
    write_custom::<6>,
    write_custom::<7>,
    write_custom::<8>,
    write_custom::<9>,
    write_custom::<10>,
    write_custom::<11>,
    write_custom::<12>,
    write_custom::<13>,
    write_custom::<14>,
    write_custom::<15>,
    write_custom::<16>,
    write_custom::<17>,
    write_custom::<18>,
    write_custom::<19>,
    write_custom::<20>,
    write_custom::<21>,
    write_custom::<22>,
    write_custom::<23>,
    write_custom::<24>,
    write_custom::<25>,
    write_custom::<26>,
    write_custom::<27>,
    write_custom::<28>,
    write_custom::<29>,
    write_custom::<30>,
    write_custom::<31>,
    write_custom::<32>,
    write_custom::<33>,
    write_custom::<34>,
    write_custom::<35>,
    write_custom::<36>,
    write_custom::<37>,
    write_custom::<38>,
    write_custom::<39>,
];

/// What [`failing_default`] reports.
const DEFAULT_FAILS: &str = "no default today";

/// `FieldDesc::default` that fails, writing nothing.
///
/// # Safety
/// None needed: writes nothing.
unsafe fn failing_default(_dst: *mut u8) -> Result<(), ForeignString> {
    Err(ForeignString::new(DEFAULT_FAILS.to_owned()))
}

// ---------------------------------------------------------------------------------- test cases

/// One old and one new layout of `Rand`, with the old value.
#[derive(Debug, Clone)]
struct Case {
    /// Old fields in declaration order: name index, type, value.
    old: Vec<(usize, Ty, Val)>,
    /// New fields in declaration order: name index, type.
    new: Vec<(usize, Ty)>,
    /// New fields that say `rename_from` an old field: new name -> old name.
    renamed: BTreeMap<usize, usize>,
    /// New fields with a `#[coo(default = ...)]`.
    defaults: BTreeMap<usize, FieldDefault>,
    /// The new layout's migration hook.
    hook: Hook,
}

/// A migration hook of the new `Rand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    None,
    /// [`hook_writes`].
    Writes,
    /// [`hook_fails`].
    Fails,
}

/// A field's own default (`#[coo(default = ...)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldDefault {
    /// Writes [`custom_value`] of the field's type.
    Value,
    /// Fails (as a panicking default expression does, caught in the library that owns it).
    Fails,
}

impl Case {
    fn old_field(&self, name: usize) -> Option<&(usize, Ty, Val)> {
        self.old.iter().find(|f| f.0 == name)
    }

    /// The old field the new field `name` takes its value from: the one it is renamed from, or
    /// the one of its name.
    fn source(&self, name: usize) -> Option<&(usize, Ty, Val)> {
        match self.renamed.get(&name) {
            Some(&old) => self.old_field(old),
            None => self.old_field(name),
        }
    }

    /// Whether the old field `name` lives on in the new layout (under its name or another).
    fn in_new(&self, name: usize) -> bool {
        self.new
            .iter()
            .any(|f| f.0 == name && !self.renamed.contains_key(&name))
            || self.renamed.values().any(|&old| old == name)
    }

    /// The value a new field without a source holds: its own default, or its type's.
    fn default_of(&self, name: usize, ty: Ty) -> Val {
        match self.defaults.get(&name) {
            Some(FieldDefault::Value) => custom_value(ty),
            _ => ty.default_value(),
        }
    }

    fn old_layout(&self) -> Vec<(usize, Ty)> {
        self.old.iter().map(|&(n, ty, _)| (n, ty)).collect()
    }
}

/// What one name of the pool becomes in a case.
#[derive(Debug, Clone)]
struct NameDraw {
    /// Its type and value in the old layout, if it is in it.
    old: Option<(Ty, Val)>,
    /// For an old field: whether the new layout keeps it.
    keep: bool,
    /// For a kept field: which of its type's targets it takes.
    target: Index,
    /// For a kept numeric field: a narrowing instead (which of its type's checked targets,
    /// and which value that fits it), if drawn.
    narrow: Option<(Index, Index)>,
    /// For a name not in the old layout: its type in the new layout, if it is added.
    added: Option<Ty>,
    /// For a kept field: the new name it takes (by `rename_from`), among the names free in
    /// both layouts, if drawn.
    rename: Option<Index>,
    /// For an added field: whether it has a default of its own.
    own_default: bool,
}

fn ty_strategy() -> impl Strategy<Value = Ty> {
    proptest::sample::select(Ty::ALL.to_vec())
}

fn val_strategy(ty: Ty) -> BoxedStrategy<Val> {
    use proptest::collection::vec;
    match ty {
        Ty::U8 => any::<u8>().prop_map(Val::U8).boxed(),
        Ty::U16 => any::<u16>().prop_map(Val::U16).boxed(),
        Ty::U32 => any::<u32>().prop_map(Val::U32).boxed(),
        Ty::U64 => any::<u64>().prop_map(Val::U64).boxed(),
        Ty::I32 => any::<i32>().prop_map(Val::I32).boxed(),
        Ty::I64 => any::<i64>().prop_map(Val::I64).boxed(),
        Ty::F32 => any::<f32>().prop_map(Val::F32).boxed(),
        Ty::F64 => any::<f64>().prop_map(Val::F64).boxed(),
        Ty::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        Ty::Str => vec(any::<char>(), 0..8)
            .prop_map(|cs| Val::Str(cs.into_iter().collect()))
            .boxed(),
        // Ids are given out when the case is assembled, so that each is unique.
        Ty::Tracked => Just(Val::Tracked(0)).boxed(),
        Ty::VecU32 => vec(any::<u32>(), 0..6).prop_map(Val::VecU32).boxed(),
        Ty::OptTracked => any::<bool>()
            .prop_map(|some| Val::OptTracked(some.then_some(0)))
            .boxed(),
        Ty::BoxU64 => any::<u64>().prop_map(Val::BoxU64).boxed(),
        Ty::VecTracked => (0..4usize)
            .prop_map(|n| Val::VecTracked(vec![0; n]))
            .boxed(),
        Ty::BoxTracked => Just(Val::BoxTracked(0)).boxed(),
        Ty::I8 => any::<i8>().prop_map(Val::I8).boxed(),
        Ty::I16 => any::<i16>().prop_map(Val::I16).boxed(),
        Ty::I128 => any::<i128>().prop_map(Val::I128).boxed(),
        Ty::U128 => any::<u128>().prop_map(Val::U128).boxed(),
        Ty::Isize => any::<isize>().prop_map(Val::Isize).boxed(),
        Ty::Usize => any::<usize>().prop_map(Val::Usize).boxed(),
        Ty::Char => any::<char>().prop_map(Val::Char).boxed(),
        Ty::ArrU16x2 | Ty::ArrU16x3 | Ty::ArrU16x4 | Ty::ArrU32x3 => {
            let (elem, len) = ty.array().unwrap();
            vec(val_strategy(elem), len)
                .prop_map(move |elems| Val::from_elems(elem, elems))
                .boxed()
        }
        // Ids are given out when the case is assembled.
        Ty::PoolTracked => vec(0..3u32, 0..4)
            .prop_map(|gens| Val::Pool(gens.into_iter().map(|g| (g, 0)).collect()))
            .boxed(),
        Ty::HandleTracked => any::<(u32, u32)>()
            .prop_map(|(i, g)| Val::Handle(i, g))
            .boxed(),
        Ty::TupU16Tracked => any::<u16>()
            .prop_map(|n| Val::TupTracked(n.into(), 0, false))
            .boxed(),
        Ty::TupU32Tracked => any::<u32>()
            .prop_map(|n| Val::TupTracked(n, 0, true))
            .boxed(),
        Ty::TupU8Str => (any::<u8>(), "[a-z]{0,4}")
            .prop_map(|(n, s)| Val::TupStr(n.into(), s, false))
            .boxed(),
        Ty::TupU16Str => (any::<u16>(), "[a-z]{0,4}")
            .prop_map(|(n, s)| Val::TupStr(n, s, true))
            .boxed(),
        Ty::MapU16Str => proptest::collection::btree_map(any::<u16>(), "[a-z]{0,3}", 0..5)
            .prop_map(|m| Val::MapStr(m.into_iter().map(|(k, v)| (k.into(), v)).collect(), false))
            .boxed(),
        Ty::MapU32Str => proptest::collection::btree_map(any::<u32>(), "[a-z]{0,3}", 0..5)
            .prop_map(|m| Val::MapStr(m.into_iter().collect(), true))
            .boxed(),
        Ty::HMapU16U8 => proptest::collection::btree_map(any::<u16>(), any::<u8>(), 0..6)
            .prop_map(|m| {
                Val::HMap(
                    m.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
                    false,
                )
            })
            .boxed(),
        Ty::HMapU32U16 => proptest::collection::btree_map(any::<u32>(), any::<u16>(), 0..6)
            .prop_map(|m| Val::HMap(m.into_iter().collect(), true))
            .boxed(),
        Ty::DequeU32 => vec(any::<u32>(), 0..6).prop_map(Val::Deque).boxed(),
        // Ids are given out when the case is assembled.
        Ty::HMapU16Tracked => proptest::collection::btree_set(any::<u16>(), 0..5)
            .prop_map(|keys| {
                Val::HMapTracked(keys.into_iter().map(|k| (k.into(), 0)).collect(), false)
            })
            .boxed(),
        Ty::HMapU32Tracked => proptest::collection::btree_set(any::<u32>(), 0..5)
            .prop_map(|keys| Val::HMapTracked(keys.into_iter().map(|k| (k, 0)).collect(), true))
            .boxed(),
    }
}

fn name_draw() -> impl Strategy<Value = NameDraw> {
    let old = ty_strategy().prop_flat_map(|ty| (Just(ty), val_strategy(ty)));
    (
        proptest::option::weighted(0.6, old),
        any::<bool>(),
        any::<Index>(),
        proptest::option::weighted(0.5, ty_strategy()),
        proptest::option::weighted(0.3, any::<(Index, Index)>()),
        proptest::option::weighted(0.25, any::<Index>()),
        proptest::bool::weighted(0.4),
    )
        .prop_map(
            |(old, keep, target, added, narrow, rename, own_default)| NameDraw {
                old,
                keep,
                target,
                narrow,
                added,
                rename,
                own_default,
            },
        )
}

/// A permutation of the name pool: the declaration order of a layout.
fn order() -> impl Strategy<Value = Vec<usize>> {
    Just((0..NAMES.len()).collect::<Vec<_>>()).prop_shuffle()
}

/// The draws, the old and the new order of the names, and whether the new layout is the old one
/// (which random draws would almost never produce): everything a case is made of.
type Draws = (Vec<NameDraw>, Vec<usize>, Vec<usize>, bool);

fn draws() -> impl Strategy<Value = Draws> {
    (
        proptest::collection::vec(name_draw(), NAMES.len()),
        order(),
        order(),
        proptest::bool::weighted(0.1),
    )
}

impl NameDraw {
    /// For a kept numeric field drawn to be narrowed: its new type and the old value (which
    /// fits the new type).
    fn narrowing(&self) -> Option<(Ty, Val)> {
        let (ty, _) = self.old.as_ref()?;
        let (target, value) = self.narrow?;
        let checked = ty.checked_targets();
        if !self.keep || checked.is_empty() {
            return None;
        }
        let to = checked[target.index(checked.len())];
        Some((to, fitting(*ty, to, value)))
    }
}

/// The field a failing case narrows with a checked conversion, holding a value that does not
/// convert, and the value the user fixes it to.
#[derive(Debug, Clone)]
struct Bad {
    name: usize,
    from: Ty,
    to: Ty,
    value: Val,
    fixed: Val,
}

/// Assembles a case. With `bad`, that field is of type `bad.from` holding `bad.value` in the old
/// layout and of type `bad.to` in the new one, whatever was drawn for it.
fn assemble((names, old_order, new_order, same): Draws, bad: Option<&Bad>) -> Case {
    let mut next_id = 1;
    let mut old = Vec::new();
    for &n in &old_order {
        let field = match bad {
            Some(b) if b.name == n => Some((b.from, b.value.clone())),
            _ => match (names[n].narrowing(), &names[n].old) {
                (Some((_, val)), Some((ty, _))) if !same => Some((*ty, val)),
                _ => names[n].old.clone(),
            },
        };
        if let Some((ty, mut val)) = field {
            for id in val.tracked_ids_mut() {
                *id = next_id;
                next_id += 1;
            }
            old.push((n, ty, val));
        }
    }
    let mut new = Vec::new();
    if same {
        for &(n, ty, _) in &old {
            new.push(match bad {
                Some(b) if b.name == n => (n, b.to),
                _ => (n, ty),
            });
        }
        return Case {
            old,
            new,
            renamed: BTreeMap::new(),
            defaults: BTreeMap::new(),
            hook: Hook::None,
        };
    }
    for &n in &new_order {
        let draw = &names[n];
        match (bad, &draw.old) {
            (Some(b), _) if b.name == n => new.push((n, b.to)),
            (_, Some(_)) if draw.narrowing().is_some() => {
                new.extend(draw.narrowing().map(|(to, _)| (n, to)));
            }
            (_, Some((ty, _))) if draw.keep => {
                let targets = ty.targets();
                new.push((n, targets[draw.target.index(targets.len())]));
            }
            (_, Some(_)) => {}
            (_, None) => new.extend(draw.added.map(|ty| (n, ty))),
        }
    }
    // Renames: a kept field takes a name free in both layouts and says `rename_from` its old
    // one. (A new field of the old name would be a conflict, which this does not draw.)
    let mut renamed = BTreeMap::new();
    for field in &mut new {
        let n = field.0;
        let Some(pick) = names[n].rename else {
            continue;
        };
        if bad.is_some_and(|b| b.name == n) || names[n].old.is_none() {
            continue;
        }
        let free: Vec<usize> = (0..NAMES.len())
            .filter(|&m| names[m].old.is_none() && !renamed.contains_key(&m))
            .filter(|&m| m != n && !new_names_before(&new_order, &names, m, bad))
            .collect();
        if free.is_empty() {
            continue;
        }
        let to = free[pick.index(free.len())];
        renamed.insert(to, n);
        field.0 = to;
    }
    // Own defaults for added fields.
    let defaults = new
        .iter()
        .filter(|&&(n, _)| names[n].old.is_none() && !renamed.contains_key(&n))
        .filter(|&&(n, ty)| names[n].own_default || !ty.has_default())
        .map(|&(n, _)| (n, FieldDefault::Value))
        .collect();
    Case {
        old,
        new,
        renamed,
        defaults,
        hook: Hook::None,
    }
}

/// Whether name `m` is in the new layout as drawn (before renames): added there.
fn new_names_before(new_order: &[usize], names: &[NameDraw], m: usize, bad: Option<&Bad>) -> bool {
    new_order.contains(&m) && (names[m].added.is_some() || bad.is_some_and(|b| b.name == m))
}

fn case() -> impl Strategy<Value = Case> {
    (draws(), proptest::bool::weighted(0.2)).prop_map(|(d, hook)| {
        let mut case = assemble(d, None);
        if hook {
            case.hook = Hook::Writes;
        }
        case
    })
}

/// A case whose new layout has a hook that fails.
fn failing_hook_case() -> impl Strategy<Value = Case> {
    draws().prop_map(|d| Case {
        hook: Hook::Fails,
        ..assemble(d, None)
    })
}

/// Every checked conversion between menu types, as (from, to).
fn checked_pairs() -> Vec<(Ty, Ty)> {
    Ty::ALL
        .into_iter()
        .flat_map(|from| from.checked_targets().into_iter().map(move |to| (from, to)))
        .collect()
}

/// A case in which one field is narrowed with a checked conversion while holding a value that
/// does not convert (one of [`unfitting_values`]); returns the case and that field.
fn failing_case() -> impl Strategy<Value = (Case, Bad)> {
    (
        draws(),
        any::<Index>(),
        proptest::sample::select(checked_pairs()),
        any::<(Index, Index)>(),
    )
        .prop_map(|(d, name, (from, to), (value, fixed))| {
            let unfit = unfitting_values(from, to);
            let bad = Bad {
                name: name.index(NAMES.len()),
                from,
                to,
                value: unfit[value.index(unfit.len())].clone(),
                fixed: fitting(from, to, fixed),
            };
            (assemble(d, Some(&bad)), bad)
        })
}

// ---------------------------------------------------------------------------------- the checks

/// The state after inserting the case's old value, with the heap address of every old field that
/// owns an allocation.
fn insert_old(case: &Case, old: &Built) -> (State, BTreeMap<usize, usize>) {
    let words = old.desc.size().div_ceil(16).max(1);
    assert!(old.desc.align() <= align_of::<u128>());
    let mut buf: Vec<MaybeUninit<u128>> = Vec::with_capacity(words);
    let base = buf.as_mut_ptr().cast::<u8>();
    for (name, _, val) in &case.old {
        // SAFETY: the buffer is `desc.size` bytes or more, aligned for `u128` and so for every
        // field (checked above); the field lies at its offset in the layout built for these
        // fields, which C-like layout aligns for its type.
        unsafe { write_val(base.add(old.offsets[name]), val) };
    }
    // SAFETY: every field of the layout was written above, so the buffer holds a valid value of
    // `desc`; it is moved into the resource and never used or dropped again (`MaybeUninit`
    // drops nothing when `buf` goes away).
    let resource = unsafe { Resource::from_raw(old.desc, base) };
    let mut state = State::new();
    state.insert_resource(resource);
    let heap = heap_addrs(&state, case.old_layout().iter().copied(), old);
    (state, heap)
}

/// The heap addresses of the fields of `Rand` that own an allocation, by name index.
fn heap_addrs(
    state: &State,
    fields: impl Iterator<Item = (usize, Ty)>,
    layout: &Built,
) -> BTreeMap<usize, usize> {
    let res = state.resource("Rand").expect("a Rand");
    assert!(core::ptr::eq(res.desc(), layout.desc));
    fields
        .filter_map(|(name, ty)| {
            // SAFETY: the resource holds a valid value of `layout` (checked above), whose field
            // `name` has type `ty` at this offset; it is only borrowed during the call.
            unsafe { heap_addr(res.as_ptr().add(layout.offsets[&name]), ty) }.map(|a| (name, a))
        })
        .collect()
}

/// Reads field `name` of type `ty` of the resource `Rand`, which must have `layout`.
fn read_field(state: &State, layout: &Built, name: usize, ty: Ty) -> Val {
    let res = state.resource("Rand").expect("a Rand");
    assert!(core::ptr::eq(res.desc(), layout.desc));
    // SAFETY: the resource holds a valid value of `layout` (checked above), whose field `name`
    // has type `ty` at this offset; it is only borrowed during the call.
    unsafe { read_val(res.as_ptr().add(layout.offsets[&name]), ty) }
}

/// Every `Tracked` id of the old value, with how many times each must be dropped (once).
fn old_ids(case: &Case, filter: impl Fn(usize) -> bool) -> BTreeMap<u32, usize> {
    case.old
        .iter()
        .filter(|f| filter(f.0))
        .flat_map(|(_, _, v)| v.tracked_ids())
        .map(|id| (id, 1))
        .collect()
}

/// The old value in `state` is exactly the case's.
fn assert_old_unchanged(case: &Case, state: &State, old: &Built, heap: &BTreeMap<usize, usize>) {
    for (name, ty, val) in &case.old {
        let actual = read_field(state, old, *name, *ty);
        assert!(
            same_value(val, &actual, false),
            "old field {}: {val:?} became {actual:?}",
            NAMES[*name]
        );
    }
    assert_eq!(
        &heap_addrs(state, case.old_layout().into_iter(), old),
        heap,
        "the old value still owns the same allocations"
    );
}

/// Migrates `state` (holding the case's old value) to the new layout and checks every property
/// of a successful migration, up to and including dropping the state.
fn migrate_and_check(
    case: &Case,
    mut state: State,
    new: &Built,
    old_heap: &BTreeMap<usize, usize>,
) {
    let catalog = Catalog::from_descs([new.desc]).expect("one type named Rand");
    let report = match state.migrate_to(&catalog) {
        Ok(report) => report,
        Err(e) => panic!("the migration was refused: {e}"),
    };
    let kept = case.old_layout() == case.new && case.renamed.is_empty();
    if kept {
        assert_eq!(report.kept, ["Rand"], "same layout: kept in place");
    } else {
        assert_eq!(report.migrated, ["Rand"]);
        assert_eq!(report.ty("Rand").map(|t| t.values), Some(1), "{report}");
    }
    // Under a hook the new value is built as an independent copy, and the old one is dropped
    // whole at commit. (An unchanged layout is kept in place: no hook runs.)
    let hooked = case.hook != Hook::None && !kept;
    assert_eq!(hook_calls(), usize::from(hooked), "the hook ran once");

    // At commit exactly the Tracked of removed fields (of all fields, under a hook) were
    // dropped, once each; a default was made for each new Tracked field.
    let removed = old_ids(case, |name| hooked || !case.in_new(name));
    assert_eq!(drops(), removed, "drops at commit (removed fields only)");
    let defaulted = case
        .new
        .iter()
        .filter(|&&(name, ty)| {
            matches!(
                ty,
                Ty::Tracked | Ty::BoxTracked | Ty::TupU16Tracked | Ty::TupU32Tracked
            ) && case.source(name).is_none()
                && !case.defaults.contains_key(&name)
        })
        .count();
    assert_eq!(defaults(), defaulted, "one default per new Tracked field");
    // The `Tracked` values made by fields' own defaults.
    let custom: usize = case
        .new
        .iter()
        .filter(|&&(name, _)| case.source(name).is_none())
        .map(|&(name, ty)| match case.defaults.get(&name) {
            Some(_) => custom_value(ty).tracked_ids().len(),
            None => 0,
        })
        .sum();
    assert_eq!(
        custom_made(),
        custom,
        "one own default per new field that has one"
    );

    let new_heap = heap_addrs(&state, case.new.iter().copied(), new);
    for &(name, ty) in &case.new {
        let actual = read_field(&state, new, name, ty);
        if hooked && case.hook == Hook::Writes && ty == Ty::U32 {
            let expected = Val::U32(u32::try_from(case.old.len()).unwrap());
            assert!(
                same_value(&expected, &actual, false),
                "field {} written by the hook: {actual:?}, expected {expected:?}",
                NAMES[name]
            );
            continue;
        }
        match case.source(name) {
            Some(&(old_name, old_ty, ref val)) => {
                let expected = val.convert(ty);
                let any_nan = old_ty != ty;
                assert!(
                    same_value(&expected, &actual, any_nan),
                    "kept field {}: {val:?} ({old_ty:?} -> {ty:?}) became {actual:?}, expected {expected:?}",
                    NAMES[name]
                );
                match old_heap.get(&old_name) {
                    Some(addr) if !hooked => assert_eq!(
                        new_heap.get(&name),
                        Some(addr),
                        "field {} was moved, not copied",
                        NAMES[name]
                    ),
                    _ => {}
                }
            }
            None => {
                let expected = case.default_of(name, ty);
                assert!(
                    same_value(&expected, &actual, false),
                    "new field {}: {ty:?} holds {actual:?}, expected its default {expected:?}",
                    NAMES[name]
                );
            }
        }
    }

    drop(state);
    // Each old `Tracked` once; under a hook, the copies in the new value once more.
    let mut expected = old_ids(case, |_| true);
    if hooked {
        for id in copied_ids(case) {
            *expected.entry(id).or_default() += 1;
        }
    }
    if defaulted > 0 {
        expected.insert(0, defaulted);
    }
    if custom > 0 {
        expected.insert(CUSTOM_ID, custom);
    }
    assert_eq!(drops(), expected, "every Tracked dropped exactly once");
}

/// The ids of the old `Tracked` values that new fields take over (copied, under a hook).
fn copied_ids(case: &Case) -> Vec<u32> {
    case.new
        .iter()
        .filter_map(|&(name, _)| case.source(name))
        .flat_map(|(_, _, val)| val.tracked_ids())
        .collect()
}

fn run_case(case: &Case) {
    let _serial = lock(&CASE);
    reset_counts();
    let old = build_layout(0, &case.old_layout());
    let new = build_new(case);
    let (state, heap) = insert_old(case, &old);
    assert_old_unchanged(case, &state, &old, &heap);
    migrate_and_check(case, state, &new, &heap);
}

/// After a refused migration: nothing of the old value was dropped, the defaults built for
/// new fields before the failure were taken apart again (each dropped once), and the old
/// value is where and what it was.
fn assert_rolled_back(
    case: &Case,
    state: &State,
    old: &Built,
    heap: &BTreeMap<usize, usize>,
    at: *const u8,
) {
    let mut expected = BTreeMap::new();
    if defaults() > 0 {
        expected.insert(0, defaults());
    }
    if custom_made() > 0 {
        expected.insert(CUSTOM_ID, custom_made());
    }
    assert_eq!(
        drops(),
        expected,
        "a refused migration drops only what it made"
    );
    assert_eq!(state.resource("Rand").unwrap().as_ptr(), at, "not moved");
    assert_old_unchanged(case, state, old, heap);
}

/// The refusal a failing case must meet.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Cast {
        path: String,
        from: Prim,
        to: Prim,
        value: String,
    },
    Shrink {
        path: String,
        old_len: usize,
        new_len: usize,
        index: usize,
    },
}

impl Refusal {
    /// What the runtime must say about `bad`: for an array, the first dropped element that is
    /// not the default (checked before anything is built), else the first element that does
    /// not convert; else the value itself.
    fn of(bad: &Bad) -> Refusal {
        let path = format!("Rand.{}", NAMES[bad.name]);
        if let (Some(elems), Some((fe, fl)), Some((te, tl))) =
            (bad.value.elems(), bad.from.array(), bad.to.array())
        {
            if let Some(index) = (tl..fl).find(|&i| !elems[i].is_default()) {
                return Refusal::Shrink {
                    path,
                    old_len: fl,
                    new_len: tl,
                    index,
                };
            }
            let k = elems
                .iter()
                .take(tl)
                .position(|e| e.convert_checked(te).is_none())
                .expect("an element that does not convert");
            return Refusal::Cast {
                path: format!("{path}[{k}]"),
                from: fe.prim().unwrap(),
                to: te.prim().unwrap(),
                value: shown(&elems[k]),
            };
        }
        Refusal::Cast {
            path,
            from: bad.from.prim().unwrap(),
            to: bad.to.prim().unwrap(),
            value: shown(&bad.value),
        }
    }

    /// The refusal `err` is, if it is one of these.
    fn from_error(err: &ExecuteError) -> Option<Refusal> {
        match err {
            ExecuteError {
                path,
                kind: ExecuteErrorKind::CheckedCast(InexactCast { from, to, value }),
            } => Some(Refusal::Cast {
                path: path.to_string(),
                from: *from,
                to: *to,
                value: value.clone(),
            }),
            ExecuteError {
                path,
                kind:
                    ExecuteErrorKind::ArrayShrink {
                        old_len,
                        new_len,
                        index,
                    },
            } => Some(Refusal::Shrink {
                path: path.to_string(),
                old_len: *old_len,
                new_len: *new_len,
                index: *index,
            }),
            _ => None,
        }
    }
}

/// How the runtime shows a number in a `CheckedCast` error.
fn shown(val: &Val) -> String {
    match val.num().expect("a number") {
        N::I(v) => v.to_string(),
        N::U(v) => v.to_string(),
        N::F(f) => format!("{f:?}"),
    }
}

fn run_failing_case(case: &Case, bad: &Bad) {
    let _serial = lock(&CASE);
    reset_counts();
    let old = build_layout(0, &case.old_layout());
    let new = build_new(case);
    let (mut state, heap) = insert_old(case, &old);
    let at = state.resource("Rand").unwrap().as_ptr();
    let catalog = Catalog::from_descs([new.desc]).expect("one type named Rand");

    match state.migrate_to(&catalog) {
        Err(MigrationError::Migrate(err)) => {
            assert_eq!(
                Refusal::from_error(&err),
                Some(Refusal::of(bad)),
                "refused with: {err}"
            );
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => panic!(
            "{:?} -> {:?} of {:?} was accepted: {report}",
            bad.from, bad.to, bad.value
        ),
    }
    assert_rolled_back(case, &state, &old, &heap, at);

    // The user fixes the value; the same reload now goes through.
    let res = state.resource_mut("Rand").unwrap();
    // SAFETY: the resource holds a valid value of the old layout (unchanged, checked above),
    // whose field `bad.name` is a number of type `bad.from` (no drop glue) at this offset;
    // nothing else borrows it, and `bad.fixed` is of that type.
    unsafe { write_val(res.as_mut_ptr().add(old.offsets[&bad.name]), &bad.fixed) };
    reset_counts();
    let mut fixed_case = case.clone();
    for field in &mut fixed_case.old {
        if field.0 == bad.name {
            field.2 = bad.fixed.clone();
        }
    }
    migrate_and_check(&fixed_case, state, &new, &heap);
}

/// A case whose new layout has a field (added, or made so) whose own default fails.
fn failing_default_case() -> impl Strategy<Value = (Case, usize)> {
    (draws(), any::<Index>(), ty_strategy()).prop_map(|(d, pick, ty)| {
        let mut case = assemble(d, None);
        let free: Vec<usize> = (0..NAMES.len())
            .filter(|&n| case.old_field(n).is_none() && !case.renamed.contains_key(&n))
            .filter(|&n| !case.renamed.values().any(|&o| o == n))
            .collect();
        let name = if free.is_empty() {
            // Every name is an old field: one of them is removed and added back with another
            // meaning (no source, so its default runs).
            let name = case.old[pick.index(case.old.len())].0;
            case.old.retain(|f| f.0 != name);
            name
        } else {
            free[pick.index(free.len())]
        };
        if !case.new.iter().any(|f| f.0 == name) {
            case.new.push((name, ty));
        }
        case.defaults.insert(name, FieldDefault::Fails);
        (case, name)
    })
}

/// A migration whose field default fails is refused with `Default` naming the field and the
/// message; nothing changed; with a default that works, the same reload goes through.
fn run_failing_default_case(case: &Case, name: usize) {
    let _serial = lock(&CASE);
    reset_counts();
    let old = build_layout(0, &case.old_layout());
    let new = build_new(case);
    let (mut state, heap) = insert_old(case, &old);
    let at = state.resource("Rand").unwrap().as_ptr();
    let catalog = Catalog::from_descs([new.desc]).expect("one type named Rand");
    match state.migrate_to(&catalog) {
        Err(MigrationError::Migrate(ExecuteError {
            path,
            kind: ExecuteErrorKind::Default(DefaultPanicked { message }),
        })) => {
            assert_eq!(path.to_string(), format!("Rand.{}", NAMES[name]));
            assert_eq!(message, DEFAULT_FAILS);
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => panic!("a failing default was accepted: {report}"),
    }
    assert_rolled_back(case, &state, &old, &heap, at);

    // The user gives the field a default that works.
    reset_counts();
    let mut fixed = case.clone();
    fixed.defaults.insert(name, FieldDefault::Value);
    let new = build_new(&fixed);
    migrate_and_check(&fixed, state, &new, &heap);
}

/// A migration whose hook fails is refused with `Hook` naming the type and the message, and
/// changes nothing: the new value, an independent copy, is dropped whole (its copies of old
/// `Tracked` values once each). With a hook that works, the same reload goes through.
fn run_failing_hook_case(case: &Case) {
    let _serial = lock(&CASE);
    reset_counts();
    let old = build_layout(0, &case.old_layout());
    let new = build_new(case);
    let (mut state, heap) = insert_old(case, &old);
    let at = state.resource("Rand").unwrap().as_ptr();
    let catalog = Catalog::from_descs([new.desc]).expect("one type named Rand");
    let kept = case.old_layout() == case.new && case.renamed.is_empty();
    match state.migrate_to(&catalog) {
        Err(MigrationError::Migrate(ExecuteError {
            path,
            kind: ExecuteErrorKind::Hook { ty, message },
        })) => {
            assert!(!kept, "an unchanged layout runs no hook");
            assert_eq!(path.to_string(), "Rand");
            assert_eq!((ty.as_str(), message.as_str()), ("Rand", HOOK_FAILS));
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => {
            assert!(kept, "a failing hook was accepted: {report}");
            assert_eq!(report.kept, ["Rand"]);
            assert_eq!(hook_calls(), 0);
            return;
        }
    }
    assert_eq!(hook_calls(), 1);
    let mut expected: BTreeMap<u32, usize> = BTreeMap::new();
    for id in copied_ids(case) {
        *expected.entry(id).or_default() += 1;
    }
    if defaults() > 0 {
        expected.insert(0, defaults());
    }
    if custom_made() > 0 {
        expected.insert(CUSTOM_ID, custom_made());
    }
    assert_eq!(drops(), expected, "the refused copy is dropped whole, once");
    assert_eq!(state.resource("Rand").unwrap().as_ptr(), at, "not moved");
    assert_old_unchanged(case, &state, &old, &heap);

    // The user fixes the hook.
    reset_counts();
    let fixed = Case {
        hook: Hook::Writes,
        ..case.clone()
    };
    let new = build_new(&fixed);
    migrate_and_check(&fixed, state, &new, &heap);
}

/// A case the plan must refuse, with the one problem it must name: a kept field changed to a
/// type its old one does not convert to (`Incompatible`), or a new handle without a default
/// (`NoDefault`).
fn plan_refusal_case() -> impl Strategy<Value = (Case, ProblemKind, usize)> {
    (draws(), any::<bool>(), any::<Index>(), any::<Index>()).prop_map(
        |(d, incompatible, pick, to)| {
            let mut case = assemble(d, None);
            let renamed_from: Vec<usize> = case.renamed.values().copied().collect();
            if incompatible {
                // An old field, not renamed (so it keeps its name), of a type it cannot become.
                let names: Vec<usize> = case
                    .old
                    .iter()
                    .map(|f| f.0)
                    .filter(|n| !renamed_from.contains(n))
                    .collect();
                let name = match names.is_empty() {
                    false => names[pick.index(names.len())],
                    true => {
                        let name = (0..NAMES.len())
                            .find(|&n| !case.new.iter().any(|f| f.0 == n))
                            .unwrap_or(0);
                        case.new.retain(|f| f.0 != name);
                        case.defaults.remove(&name);
                        case.old.push((name, Ty::U8, Val::U8(1)));
                        name
                    }
                };
                let old_ty = case.old_field(name).unwrap().1;
                let targets: Vec<Ty> = Ty::ALL
                    .into_iter()
                    .filter(|&t| t != old_ty && !convertible(old_ty, t))
                    .collect();
                let new_ty = targets[to.index(targets.len())];
                match case.new.iter_mut().find(|f| f.0 == name) {
                    Some(field) => field.1 = new_ty,
                    None => case.new.push((name, new_ty)),
                }
                (case, ProblemKind::Incompatible, name)
            } else {
                // A new handle without a default, under a name free in both layouts.
                let free: Vec<usize> = (0..NAMES.len())
                    .filter(|&n| case.old_field(n).is_none() && !renamed_from.contains(&n))
                    .filter(|&n| !case.renamed.contains_key(&n))
                    .collect();
                let name = match free.is_empty() {
                    false => free[pick.index(free.len())],
                    true => {
                        let name = case.old[pick.index(case.old.len())].0;
                        case.old.retain(|f| f.0 != name);
                        name
                    }
                };
                case.new.retain(|f| f.0 != name);
                case.new.push((name, Ty::HandleTracked));
                case.defaults.remove(&name);
                (case, ProblemKind::NoDefault, name)
            }
        },
    )
}

/// The plan is refused naming exactly the problem made, and nothing is built, dropped or moved.
fn run_plan_refusal_case(case: &Case, kind: &ProblemKind, name: usize) {
    let _serial = lock(&CASE);
    reset_counts();
    let old = build_layout(0, &case.old_layout());
    let new = build_new(case);
    let (mut state, heap) = insert_old(case, &old);
    let at = state.resource("Rand").unwrap().as_ptr();
    let catalog = Catalog::from_descs([new.desc]).expect("one type named Rand");
    match state.migrate_to(&catalog) {
        Err(MigrationError::Plan(PlanError { problems })) => {
            let found: Vec<_> = problems
                .iter()
                .map(|p| (&p.kind, p.ty.as_str(), p.field.as_deref()))
                .collect();
            assert_eq!(found, [(kind, "Rand", Some(NAMES[name]))], "{problems:?}");
            assert!(!problems[0].fix.is_empty(), "says what to write");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(report) => panic!("an impossible migration was accepted: {report}"),
    }
    assert_nothing_built_or_dropped();
    assert_eq!(state.resource("Rand").unwrap().as_ptr(), at, "not moved");
    assert_old_unchanged(case, &state, &old, &heap);
    drop(state);
    assert_eq!(
        drops(),
        old_ids(case, |_| true),
        "every Tracked dropped once"
    );
}

/// A case of one field converted from `from` to `to`, holding `val`.
fn one_field(from: Ty, val: Val, to: Ty) -> Case {
    Case {
        old: vec![(0, from, val)],
        new: vec![(0, to)],
        renamed: BTreeMap::new(),
        defaults: BTreeMap::new(),
        hook: Hook::None,
    }
}

/// Regression: `i128::MIN` is `-2^127`, which every float holds exactly, and a `u128` just
/// below `2^128` with few significant bits fits `f64` exactly; the runtime refused both (it
/// compared magnitudes against the decimal bounds 1.7e38 and 3.4e38).
#[test]
fn integers_at_the_float_edges_convert_exactly() {
    run_case(&one_field(Ty::I128, Val::I128(i128::MIN), Ty::F64));
    run_case(&one_field(Ty::I128, Val::I128(i128::MIN), Ty::F32));
    run_case(&one_field(Ty::U128, Val::U128(u128::MAX << 75), Ty::F64));
    run_case(&one_field(Ty::U128, Val::U128(u128::MAX << 104), Ty::F32));
}

/// Every checked conversion between menu types, with every value of [`fitting_values`] (which
/// converts exactly) and of [`unfitting_values`] (refused, then fixed): the random cases draw
/// one pair each, so a pair's own mistake could hide for many runs. Under Miri, every 29th.
#[test]
fn every_checked_cast_converts_what_fits_and_refuses_the_rest() {
    let step = if cfg!(miri) { 29 } else { 1 };
    let mut n = 0;
    for (from, to) in checked_pairs() {
        for value in fitting_values(from, to) {
            if n % step == 0 {
                run_case(&one_field(from, value, to));
            }
            n += 1;
        }
        let fixed = fitting_values(from, to)[0].clone();
        for value in unfitting_values(from, to) {
            if n % step == 0 {
                let bad = Bad {
                    name: 0,
                    from,
                    to,
                    value: value.clone(),
                    fixed: fixed.clone(),
                };
                run_failing_case(&one_field(from, value, to), &bad);
            }
            n += 1;
        }
    }
}

/// Regression: `2^128` as a float is one past `u128::MAX`; the runtime's saturating cast turned
/// it into `u128::MAX` (which rounds back to `2^128`) instead of refusing it.
#[test]
fn a_float_past_u128_max_is_refused() {
    for from in [Ty::F64, Ty::F32] {
        let Some(value) = N::F(TWO_POW_128).to_val(from) else {
            // `f32` has no `2^128` (its greatest finite value is below it).
            assert_eq!(from, Ty::F32);
            continue;
        };
        let bad = Bad {
            name: 0,
            from,
            to: Ty::U128,
            value: value.clone(),
            fixed: N::I(7).to_val(from).unwrap(),
        };
        run_failing_case(&one_field(from, value, Ty::U128), &bad);
    }
}

/// Where failing cases are saved and replayed from. An absolute path: proptest's default
/// (`SourceParallel`) looks for a `lib.rs` or `main.rs` above this file, finds none for an
/// integration test, and would fall back to a file beside it with an odd extension.
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/random_layouts.txt"
);

/// 256 cases natively; 4 under Miri, with the cheaper XorShift generator (ChaCha makes drawing a
/// case take several seconds there) and no failure files (no file I/O).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: if cfg!(miri) {
            None
        } else {
            Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS)))
        },
        rng_algorithm: if cfg!(miri) {
            RngAlgorithm::XorShift
        } else {
            RngAlgorithm::ChaCha
        },
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// A lossless reshaping keeps every common value, defaults new fields and drops each value
    /// exactly once.
    #[test]
    fn random_layouts_migrate_losslessly(case in case()) {
        run_case(&case);
    }

    /// A refused migration changes nothing and drops nothing; fixed, it goes through.
    #[test]
    fn random_layouts_with_an_out_of_range_narrowing_roll_back(
        (case, bad) in failing_case()
    ) {
        run_failing_case(&case, &bad);
    }

    /// A layout change no migration can carry out is refused by the plan, naming the field,
    /// and changes nothing.
    #[test]
    fn random_impossible_layouts_are_refused_by_the_plan(
        (case, kind, name) in plan_refusal_case()
    ) {
        run_plan_refusal_case(&case, &kind, name);
    }

    /// A failing migration hook refuses the migration, changing nothing; fixed, it goes
    /// through.
    #[test]
    fn random_layouts_with_a_failing_hook_roll_back(case in failing_hook_case()) {
        run_failing_hook_case(&case);
    }

    /// A failing field default refuses the migration, changing nothing; fixed, it goes
    /// through.
    #[test]
    fn random_layouts_with_a_failing_default_roll_back((case, name) in failing_default_case()) {
        run_failing_default_case(&case, name);
    }
}

/// The test's own reckoning of conversions is the runtime's: each target is lossless (or the
/// type itself), every lossless conversion between menu types is a target, and the checked
/// targets are exactly the runtime's checked casts.
#[test]
fn widening_targets_are_exactly_the_lossless_casts() {
    for from in Ty::ALL {
        for to in Ty::ALL {
            let listed = from.targets().contains(&to);
            // The runtime's verdicts: by `cast_kind`, element-wise for arrays, which lose
            // nothing when they do not shrink.
            let (elems, grows) = match (from.array(), to.array()) {
                (Some((fe, fl)), Some((te, tl))) => ((fe.prim(), te.prim()), fl <= tl),
                _ => ((from.prim(), to.prim()), true),
            };
            let (lossless, checked) = match elems {
                // Tuples and collections convert element by element, entry by entry: to the
                // wider counterpart by the elements' widening casts (which the migrations of
                // `random_layouts_migrate_losslessly` carry out).
                _ if from.is_composite() || to.is_composite() => {
                    (from == to || from.wider() == Some(to), false)
                }
                (Some(a), Some(b)) => {
                    let kind = cast_kind(a, b);
                    let lossless = matches!(kind, Some(CastKind::Same | CastKind::Widen)) && grows;
                    (lossless, kind.is_some() && !lossless)
                }
                _ => (from == to, false),
            };
            assert_eq!(listed, lossless, "{from:?} -> {to:?}");
            assert_eq!(
                from.checked_targets().contains(&to),
                checked,
                "{from:?} -> {to:?} checked"
            );
        }
        assert_eq!(from.targets()[0], from);
    }
}

/// Every checked conversion has values that fit, among them the edges of both types where
/// they fit, and those convert exactly back; and it has values that do not fit.
#[test]
fn fitting_values_convert_exactly() {
    for from in Ty::ALL {
        for to in from.checked_targets() {
            let unfit = unfitting_values(from, to);
            assert!(!unfit.is_empty(), "{from:?} -> {to:?} has values to refuse");
            let values = fitting_values(from, to);
            assert!(values.len() >= 3, "{from:?} -> {to:?}: {values:?}");
            for val in values {
                assert_eq!(val.ty(), from);
                let there = val.convert(to);
                let back = there.convert(from);
                assert!(
                    same_value(&val, &back, false),
                    "{val:?} -> {there:?} -> {back:?}"
                );
            }
        }
    }
}

// ------------------------------------------------------------------ values drawn from a seed

/// splitmix64: the values and the shape of a case's tree, from one drawn seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A value of `ty`; `Tracked` ids are given out from `next_id`. Floats are small integers, so
/// every widening keeps them exactly.
fn synth_val(ty: Ty, mix: &mut Mix, next_id: &mut u32) -> Val {
    let r = mix.next();
    let mut val = match ty {
        Ty::U8 => Val::U8(r as u8),
        Ty::U16 => Val::U16(r as u16),
        Ty::U32 => Val::U32(r as u32),
        Ty::U64 => Val::U64(r),
        Ty::I32 => Val::I32(r as i32),
        Ty::I64 => Val::I64(r as i64),
        Ty::F32 => Val::F32(f32::from(r as i16)),
        Ty::F64 => Val::F64(f64::from(r as i32)),
        Ty::Bool => Val::Bool(r & 1 == 1),
        Ty::Str => Val::Str(format!("s{}", r % 1000)),
        Ty::Tracked => Val::Tracked(0),
        Ty::VecU32 => Val::VecU32((0..r % 3).map(|i| (r >> (8 * i)) as u32).collect()),
        Ty::OptTracked => Val::OptTracked((r & 1 == 1).then_some(0)),
        Ty::BoxU64 => Val::BoxU64(r >> 3),
        Ty::VecTracked => Val::VecTracked(vec![0; (r % 3) as usize]),
        Ty::BoxTracked => Val::BoxTracked(0),
        Ty::I8 => Val::I8(r as i8),
        Ty::I16 => Val::I16(r as i16),
        Ty::I128 => Val::I128(i128::from(r as i64) << 63),
        Ty::U128 => Val::U128(u128::from(r) << 64 | u128::from(r)),
        Ty::Isize => Val::Isize(r as isize),
        Ty::Usize => Val::Usize(r as usize),
        Ty::Char => Val::Char(char::from_u32((r % 0x11_0000) as u32).unwrap_or('\u{fffd}')),
        Ty::ArrU16x2 | Ty::ArrU16x3 | Ty::ArrU16x4 | Ty::ArrU32x3 => {
            let (elem, len) = ty.array().unwrap();
            let elems = (0..len).map(|_| synth_val(elem, mix, next_id)).collect();
            Val::from_elems(elem, elems)
        }
        Ty::PoolTracked => Val::Pool((0..r % 3).map(|i| ((r >> (4 * i)) as u32 % 3, 0)).collect()),
        Ty::HandleTracked => Val::Handle(r as u32, (r >> 32) as u32),
        Ty::TupU16Tracked => Val::TupTracked((r as u16).into(), 0, false),
        Ty::TupU32Tracked => Val::TupTracked(r as u32, 0, true),
        Ty::TupU8Str => Val::TupStr((r as u8).into(), format!("t{}", r % 100), false),
        Ty::TupU16Str => Val::TupStr(r as u16, format!("t{}", r % 100), true),
        Ty::MapU16Str | Ty::MapU32Str => {
            let keys: BTreeMap<u32, String> = (0..r % 4)
                .map(|i| (u32::from((r >> (16 * i)) as u16), format!("m{i}")))
                .collect();
            Val::MapStr(keys.into_iter().collect(), ty == Ty::MapU32Str)
        }
        Ty::HMapU16U8 | Ty::HMapU32U16 => {
            let keys: BTreeMap<u32, u16> = (0..r % 4)
                .map(|i| {
                    (
                        u32::from((r >> (16 * i)) as u16),
                        u16::from((r >> (8 * i)) as u8),
                    )
                })
                .collect();
            Val::HMap(keys.into_iter().collect(), ty == Ty::HMapU32U16)
        }
        Ty::DequeU32 => Val::Deque((0..r % 4).map(|i| (r >> (8 * i)) as u32).collect()),
        Ty::HMapU16Tracked | Ty::HMapU32Tracked => {
            let keys: BTreeSet<u32> = (0..r % 4)
                .map(|i| u32::from((r >> (16 * i)) as u16))
                .collect();
            Val::HMapTracked(
                keys.into_iter().map(|k| (k, 0)).collect(),
                ty == Ty::HMapU32Tracked,
            )
        }
    };
    for id in val.tracked_ids_mut() {
        *id = *next_id;
        *next_id += 1;
    }
    val
}
