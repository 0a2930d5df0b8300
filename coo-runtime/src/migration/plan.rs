//! Migration plans: for every live value, an explicit, total list of actions that builds its new
//! version. Planning reads descriptors only and mutates nothing; what it cannot plan is reported
//! all at once, each problem naming the type, the field, both field types and the fix.

use std::alloc::Layout;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::descriptors::layout::{
    BoxGlue, EnumDesc, FieldDesc, HookFn, OptionGlue, PoolGlue, Prim, Shape, ShapeKind, StringGlue,
    TypeDesc, TypeKind, VecGlue, WriteFn, shape_text,
};
use crate::descriptors::matching::MatchConflict;
use crate::descriptors::registry::Catalog;
use crate::migration::casts::{CastKind, cast_kind};
use crate::migration::diff::{FieldsDiff, LayoutDiff, TypeDiff, VariantsDiff};
use crate::plugin::image::ImageRef;

/// How one value of an old shape becomes a value of the new shape.
///
/// Building reads the old value and never writes it. Parts whose layout did not change are
/// *moved* bitwise (`Move`): until commit, old and new value share them, and exactly one side
/// gives them up afterwards (the old side at commit, the new side on rollback). Under a type
/// with a migration hook everything is built as an independent copy instead, since the hook's
/// code may replace or drop any part of the new value.
#[derive(Debug, Clone)]
pub enum Conv {
    /// Plain data with the same bytes in both versions.
    Copy { size: usize },
    /// A value whose layout did not change and that owns resources (heap memory, `Drop`):
    /// its bytes are moved, its ownership passes to the new value at commit.
    Move { size: usize },
    /// A number converted to another type; `Checked` casts fail on values that do not convert
    /// exactly.
    Cast {
        from: Prim,
        to: Prim,
        kind: CastKind,
    },
    /// A `String`, copied through the old and new builds' glue.
    String {
        old: &'static StringGlue,
        new: &'static StringGlue,
        old_shape: &'static Shape,
        new_shape: &'static Shape,
    },
    Array {
        elem: Box<Conv>,
        old_elem: &'static Shape,
        new_elem: &'static Shape,
        old_len: usize,
        new_len: usize,
        /// How to fill the elements an array gained.
        fill: Option<DefaultPlan>,
        /// How to build the old element's default, to check that elements an array lost held it.
        old_default: Option<DefaultPlan>,
    },
    Vec {
        elem: Box<Conv>,
        old_elem: &'static Shape,
        new_elem: &'static Shape,
        old: &'static VecGlue,
        new: &'static VecGlue,
        /// The vectors' own shapes (their drop glue frees emptied vectors).
        old_vec: &'static Shape,
        new_vec: &'static Shape,
    },
    Box {
        elem: Box<Conv>,
        new_elem: &'static Shape,
        old: &'static BoxGlue,
        new: &'static BoxGlue,
    },
    Option {
        elem: Box<Conv>,
        new_elem: &'static Shape,
        old: &'static OptionGlue,
        new: &'static OptionGlue,
    },
    Pool {
        elem: Box<Conv>,
        new_elem: &'static Shape,
        old: &'static PoolGlue,
        new: &'static PoolGlue,
        /// The new pool's own shape (its drop glue frees a partly built pool).
        new_pool: &'static Shape,
    },
    /// A nested `CooType`: index into [`Plan::types`].
    Named(usize),
}

/// How to build a default value of a shape: the field type's `Default`, structurally.
#[derive(Debug, Clone)]
pub enum DefaultPlan {
    /// Primitives: their `Default` is all-zero bytes (`0`, `0.0`, `false`, `'\0'`).
    Zero {
        size: usize,
    },
    /// A `#[coo(default = ...)]` expression or a `CooType`'s `Default` impl.
    Write(WriteFn),
    String(&'static StringGlue),
    EmptyVec(&'static VecGlue),
    None(&'static OptionGlue),
    EmptyPool(&'static PoolGlue),
    Array {
        elem: Box<DefaultPlan>,
        elem_shape: &'static Shape,
        len: usize,
    },
    Box {
        elem: Box<DefaultPlan>,
        elem_shape: &'static Shape,
        glue: &'static BoxGlue,
    },
}

impl DefaultPlan {
    /// The structural default of a shape, or `None` when the type has no `Default`.
    pub fn for_shape(shape: &'static Shape) -> Option<DefaultPlan> {
        Some(match &shape.kind {
            ShapeKind::Prim(_) => DefaultPlan::Zero { size: shape.size },
            ShapeKind::String(glue) => DefaultPlan::String(glue),
            ShapeKind::Vec { glue, .. } => DefaultPlan::EmptyVec(glue),
            ShapeKind::Option { glue, .. } => DefaultPlan::None(glue),
            ShapeKind::Pool { glue, .. } => DefaultPlan::EmptyPool(glue),
            ShapeKind::Array { elem, len } => DefaultPlan::Array {
                elem: Box::new(DefaultPlan::for_shape(elem())?),
                elem_shape: elem(),
                len: *len,
            },
            ShapeKind::Box { elem, glue } => DefaultPlan::Box {
                elem: Box::new(DefaultPlan::for_shape(elem())?),
                elem_shape: elem(),
                glue,
            },
            ShapeKind::Handle { .. } => return None,
            ShapeKind::Named(desc) => DefaultPlan::Write((desc().glue.default)()?),
        })
    }
}

/// The plan for the values of one type.
#[derive(Debug, Clone)]
pub struct TypePlan {
    pub old: &'static TypeDesc,
    pub new: &'static TypeDesc,
    /// Built as an independent copy (under a migration hook): at commit the old value is
    /// dropped whole, on rollback the new one is.
    pub copy: bool,
    /// Whether the layout is unchanged (the values are then only copied where a changed type
    /// contains them, and kept in place otherwise).
    pub unchanged: bool,
    /// What changed, for changed types.
    pub diff: Option<TypeDiff>,
    pub body: TypeBody,
    pub hook: Option<HookFn>,
}

#[derive(Debug, Clone)]
pub enum TypeBody {
    Struct {
        steps: Vec<Step>,
        /// Old fields no new field continues: `(offset, shape)`, dropped at commit.
        removed: Vec<(usize, &'static Shape)>,
    },
    Enum(EnumPlan),
    /// No automatic mapping (struct became enum, …): the new value starts as the new type's
    /// `Default` and the hook builds it.
    HookOnly(DefaultPlan),
}

/// One action that writes part of a new struct.
#[derive(Debug, Clone)]
pub enum Step {
    /// Copy plain bytes (runs of adjacent unchanged plain-data fields are merged into one).
    Copy { src: usize, dst: usize, len: usize },
    /// Convert the old field at `src` into the new field at `dst`.
    Convert {
        field: &'static str,
        src: usize,
        dst: usize,
        conv: Conv,
        new_shape: &'static Shape,
    },
    /// Write the default of a field that is new (or that a hook will fill).
    Default {
        field: &'static str,
        dst: usize,
        plan: DefaultPlan,
        new_shape: &'static Shape,
    },
}

#[derive(Debug, Clone)]
pub struct EnumPlan {
    /// For each old variant, how it continues; `None` when it was removed.
    pub variants: Vec<Option<VariantPlan>>,
    pub old_max_fields: usize,
    /// With a hook, values of removed variants start as the new type's default.
    pub removed_default: Option<DefaultPlan>,
}

#[derive(Debug, Clone)]
pub struct VariantPlan {
    pub old_name: &'static str,
    pub new_index: usize,
    /// Old fields no new field continues, dropped at commit.
    pub removed: Vec<usize>,
    /// One step per field of the new variant, built in a scratch buffer at `offsets`.
    pub fields: Vec<VariantFieldStep>,
    pub offsets: Vec<usize>,
    pub scratch: Layout,
}

#[derive(Debug, Clone)]
pub enum VariantFieldStep {
    Convert {
        field: &'static str,
        old_index: usize,
        conv: Conv,
        new_shape: &'static Shape,
    },
    Default {
        field: &'static str,
        plan: DefaultPlan,
        new_shape: &'static Shape,
    },
}

/// What to do with one live resource.
#[derive(Debug, Clone)]
pub enum ResourcePlan {
    /// The layout is unchanged: keep the value where it is, adopt the new descriptor.
    Keep {
        old: &'static TypeDesc,
        new: &'static TypeDesc,
    },
    /// Build a new value with [`Plan::types`]`[type_plan]`.
    Migrate { type_plan: usize },
}

/// A complete migration plan for a state.
#[derive(Debug, Clone)]
pub struct Plan {
    pub types: Vec<TypePlan>,
    pub resources: Vec<ResourcePlan>,
    /// For each type plan, whether an old value still owns anything after its build was kept
    /// (removed fields, rebuilt containers, copies' originals). When it does not, commit skips
    /// it, so plain data costs nothing after it was built.
    pub releases: Vec<bool>,
    /// The guard of the new types' image (the catalog's): migrated and kept values take it.
    pub(crate) new_image: ImageRef,
    /// The guards of the old types' images, when the plan was made by [`crate::State::plan`]
    /// (the descriptors of [`plan`]'s `roots` are the caller's to keep alive).
    pub(crate) old_images: Vec<ImageRef>,
}

impl Plan {
    /// The diff of every changed type reachable from the state.
    pub fn diffs(&self) -> impl Iterator<Item = &TypeDiff> {
        self.types.iter().filter_map(|t| t.diff.as_ref())
    }

    /// Whether the plan changes nothing but descriptors.
    pub fn is_trivial(&self) -> bool {
        self.resources
            .iter()
            .all(|r| matches!(r, ResourcePlan::Keep { .. }))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.diffs().next().is_none() {
            return writeln!(f, "no layout changes");
        }
        for d in self.diffs() {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Why a problem stops the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The field's old type does not convert to its new type.
    Incompatible,
    /// A new field has no `#[coo(default)]` and its type has no `Default`.
    NoDefault,
    /// An array grew and its element type has no `Default`.
    NoElementDefault,
    /// Two new fields (or types) continue the same old one.
    Ambiguous,
    /// A struct became an enum or the reverse.
    KindChanged,
    /// A type with live values is gone from the new version.
    TypeRemoved { live_values: usize },
    /// A hook must build the value but the type has no `Default` to start from.
    HookNeedsDefault,
    /// Several live resources (of the old types named here, sorted) would all continue as
    /// values of this one new type, but the state holds one value per type.
    ResourcesMerged { old_types: Vec<String> },
}

/// One reason a migration cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The type (new name when it exists).
    pub ty: String,
    /// `field`, or `Variant.field` for enum variant fields.
    pub field: Option<String>,
    pub old_ty: Option<String>,
    pub new_ty: Option<String>,
    /// What to write to fix it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "`{}.{}`", self.ty, field)?,
            None => write!(f, "`{}`", self.ty)?,
        }
        let what = match &self.kind {
            ProblemKind::Incompatible => "cannot be converted".to_owned(),
            ProblemKind::NoDefault => "is new and has no default".to_owned(),
            ProblemKind::NoElementDefault => {
                "grew, and its element type has no default to fill with".to_owned()
            }
            ProblemKind::Ambiguous => "is continued by more than one new item".to_owned(),
            ProblemKind::KindChanged => "changed kind".to_owned(),
            ProblemKind::TypeRemoved { live_values } => format!(
                "was removed, but {live_values} live value{} of it remain{}",
                if *live_values == 1 { "" } else { "s" },
                if *live_values == 1 { "s" } else { "" }
            ),
            ProblemKind::HookNeedsDefault => {
                "has a migration hook but no `Default` to start the new value from".to_owned()
            }
            ProblemKind::ResourcesMerged { old_types } => format!(
                "would be the new type of {} live resources, {}, but the state holds one value per type",
                old_types.len(),
                and_list(old_types),
            ),
        };
        write!(f, " {what}")?;
        match (&self.old_ty, &self.new_ty) {
            (Some(o), Some(n)) => write!(f, " (old: `{o}`, new: `{n}`)")?,
            (Some(o), None) => write!(f, " (old: `{o}`)")?,
            (None, Some(n)) => write!(f, " (new: `{n}`)")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.fix)
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn and_list(names: &[String]) -> String {
    list(names, "and")
}

/// `` `a` or `b` ``, `` `a`, `b` or `c` ``.
fn or_list(names: &[String]) -> String {
    list(names, "or")
}

fn list(names: &[String], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// Every reason a migration cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlanError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "the new version cannot take over the live state ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// Plans the migration of values of the `roots` (the descriptors of the live resources' types)
/// to the types of `new`.
pub fn plan(roots: &[&'static TypeDesc], new: &Catalog) -> Result<Plan, PlanError> {
    let mut planner = Planner {
        new,
        types: Vec::new(),
        index: HashMap::new(),
        copy: false,
        problems: Vec::new(),
        unchanged: HashMap::new(),
        comparing: 0,
        tentative: Vec::new(),
        refuted: false,
    };
    let mut resources = Vec::with_capacity(roots.len());
    // The old types of the resources each new type continues: the state holds one value per
    // type, so two of them would leave one value nowhere to go.
    let mut continued: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for &old in roots {
        let Ok(successor) = planner.successor(old, None) else {
            continue;
        };
        let Some(new_desc) = successor else {
            planner.problems.push(Problem {
                kind: ProblemKind::TypeRemoved { live_values: 1 },
                ty: old.name.to_owned(),
                field: None,
                old_ty: Some(old.name.to_owned()),
                new_ty: None,
                fix: format!(
                    "keep a type named `{0}` in the new version (or one with `#[coo(rename_from = \"{0}\")]`), \
                     or remove the resource before reloading",
                    old.name
                ),
            });
            continue;
        };
        continued.entry(new_desc.name).or_default().push(old.name);
        if planner.is_unchanged(old, new_desc) {
            resources.push(ResourcePlan::Keep { old, new: new_desc });
        } else {
            let type_plan = planner.type_plan(old, new_desc);
            resources.push(ResourcePlan::Migrate { type_plan });
        }
    }
    for (new_name, mut olds) in continued {
        if olds.len() > 1 {
            olds.sort_unstable();
            planner.problems.push(merged_resources(new_name, &olds));
        }
    }
    // Every branch of planning that stops records its problem first, so a type left without a
    // plan comes with at least one problem.
    let types: Option<Vec<TypePlan>> = planner.types.into_iter().collect();
    match types {
        Some(types) if planner.problems.is_empty() => Ok(Plan {
            new_image: new.image().clone(),
            old_images: Vec::new(),
            releases: releases(&types),
            types,
            resources,
        }),
        _ => {
            debug_assert!(!planner.problems.is_empty(), "a stopped plan says why");
            Err(PlanError {
                problems: planner.problems,
            })
        }
    }
}

/// The problem of several live resources (of the types `olds`, sorted) continuing as the one
/// type `new`.
fn merged_resources(new: &str, olds: &[&str]) -> Problem {
    let old_types: Vec<String> = olds.iter().map(|&o| o.to_owned()).collect();
    let renamed: Vec<String> = olds
        .iter()
        .filter(|&&o| o != new)
        .map(|&o| o.to_owned())
        .collect();
    let alternative = if renamed.len() < olds.len() {
        // One resource continues by name; each renamed one must stop continuing it.
        format!(
            "drop {} from `{new}` and keep {} {} in the new version",
            renamed
                .iter()
                .map(|o| format!("`rename_from = \"{o}\"`"))
                .collect::<Vec<_>>()
                .join(" and "),
            if renamed.len() == 1 {
                "a type named"
            } else {
                "types named"
            },
            and_list(&renamed),
        )
    } else {
        format!(
            "keep `rename_from` on `{new}` for only one of {} and keep {} in the new version",
            or_list(&renamed),
            if renamed.len() == 2 {
                "a type named after the other"
            } else {
                "types named after the others"
            },
        )
    };
    Problem {
        kind: ProblemKind::ResourcesMerged { old_types },
        ty: new.to_owned(),
        field: None,
        old_ty: None,
        new_ty: None,
        fix: format!("remove all but one of these resources before reloading, or {alternative}"),
    }
}

struct Planner<'a> {
    new: &'a Catalog,
    /// The plan of each pair of types, `None` while it is being planned and when planning it
    /// stopped at a problem.
    types: Vec<Option<TypePlan>>,
    index: HashMap<(usize, usize, bool), usize>,
    /// Whether convs are being planned as copies (inside a type with a hook).
    copy: bool,
    problems: Vec<Problem>,
    /// Memo of layout equality; `true` while a pair is being compared (coinduction for
    /// recursive types). A `false` is always final. A `true` found while an outer comparison
    /// is still open may rest on that comparison's provisional `true`, so it is only kept once
    /// the outermost comparison ended without any pair found changed (see
    /// [`Planner::is_unchanged`]).
    unchanged: HashMap<(usize, usize), bool>,
    /// How many `is_unchanged` comparisons are in progress.
    comparing: usize,
    /// The pairs found unchanged during the current outermost comparison: provisional until it
    /// ends.
    tentative: Vec<(usize, usize)>,
    /// Whether any pair was found changed during the current outermost comparison.
    refuted: bool,
}

fn key(old: &TypeDesc, new: &TypeDesc) -> (usize, usize) {
    (
        old as *const TypeDesc as usize,
        new as *const TypeDesc as usize,
    )
}

/// Why a value has no conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoConv {
    /// The types do not convert. Under a hook the hook fills the value instead; otherwise
    /// [`Planner::conv`] records the problem.
    Incompatible,
    /// A problem was recorded: this branch of the plan stops.
    Stopped,
}

/// The context of a conversion, for problems.
#[derive(Clone, Copy)]
struct At<'s> {
    ty: &'s str,
    field: &'s str,
    hook: bool,
}

impl Planner<'_> {
    /// The new type that continues `old` (asked of [`Catalog::successor`]); a conflict is
    /// recorded as a problem and stops the branch.
    fn successor(
        &mut self,
        old: &'static TypeDesc,
        at: Option<At<'_>>,
    ) -> Result<Option<&'static TypeDesc>, NoConv> {
        self.new.successor(old.name).map_err(|conflict| {
            self.problems.push(Problem {
                kind: ProblemKind::Ambiguous,
                ty: old.name.to_owned(),
                field: at.map(|a| a.field.to_owned()),
                old_ty: None,
                new_ty: None,
                fix: conflict.fix(),
            });
            NoConv::Stopped
        })
    }

    /// Whether values of `old` can be used as values of `new` byte for byte.
    ///
    /// Recursive types are compared coinductively (the greatest fixpoint): a pair being compared
    /// is assumed unchanged, so a cycle back to it does not decide anything. Assuming more pairs
    /// unchanged can only turn more answers `true`, so a `false` found under assumptions holds
    /// without them and is final at once. A `true` may rest on an assumption that later fails
    /// (`Tree` holds `Vec<Link>` before a changed field, `Link` holds `Box<Tree>`: `Link` looks
    /// unchanged while `Tree` is assumed so), so every `true` of an outermost comparison stays
    /// provisional until it ends: if no pair was found changed in it, all its assumptions held
    /// and its `true`s are final; otherwise they are forgotten and recomputed when asked again.
    fn is_unchanged(&mut self, old: &'static TypeDesc, new: &'static TypeDesc) -> bool {
        let k = key(old, new);
        if let Some(&v) = self.unchanged.get(&k) {
            return v;
        }
        self.unchanged.insert(k, true);
        self.comparing += 1;
        let same = old.size == new.size
            && old.align == new.align
            && old.needs_drop == new.needs_drop
            && match (&old.kind, &new.kind) {
                (TypeKind::Struct(o), TypeKind::Struct(n)) => {
                    o.style == n.style && self.same_fields(o.fields, n.fields, true)
                }
                // Variant fields have no recorded offsets: the tag's and the fields' places
                // follow from the `repr`, the discriminants and the variants' field types in
                // order, so all of them must be equal. (For a `repr(Rust)` enum with fields
                // that is all rustc's layout depends on.)
                (TypeKind::Enum(o), TypeKind::Enum(n)) => {
                    o.repr == n.repr
                        && o.variants.len() == n.variants.len()
                        && o.variants.iter().zip(n.variants).all(|(ov, nv)| {
                            ov.name == nv.name
                                && ov.discriminant == nv.discriminant
                                && ov.style == nv.style
                                && self.same_fields(ov.fields, nv.fields, false)
                        })
                }
                _ => false,
            };
        self.comparing -= 1;
        self.settle(k, same);
        same
    }

    /// Records the verdict of `is_unchanged` on `k` (see there).
    fn settle(&mut self, k: (usize, usize), same: bool) {
        if same {
            // Recorded `true` on entry; provisional while an outer comparison is open.
            self.tentative.push(k);
        } else {
            self.unchanged.insert(k, false);
            self.refuted = true;
        }
        if self.comparing == 0 {
            let tentative = core::mem::take(&mut self.tentative);
            if core::mem::take(&mut self.refuted) {
                for t in tentative {
                    self.unchanged.remove(&t);
                }
            }
        }
    }

    fn same_fields(&mut self, old: &[FieldDesc], new: &[FieldDesc], offsets: bool) -> bool {
        old.len() == new.len()
            && old.iter().zip(new).all(|(o, n)| {
                o.name == n.name
                    && (!offsets || o.offset == n.offset)
                    && self.same_shape((o.shape)(), (n.shape)())
            })
    }

    fn same_shape(&mut self, old: &'static Shape, new: &'static Shape) -> bool {
        if old.size != new.size || old.align != new.align || old.needs_drop != new.needs_drop {
            return false;
        }
        match (&old.kind, &new.kind) {
            (ShapeKind::Prim(a), ShapeKind::Prim(b)) => a == b,
            (ShapeKind::String(_), ShapeKind::String(_)) => true,
            (ShapeKind::Array { elem: a, len: n }, ShapeKind::Array { elem: b, len: m }) => {
                n == m && self.same_shape(a(), b())
            }
            (ShapeKind::Vec { elem: a, .. }, ShapeKind::Vec { elem: b, .. })
            | (ShapeKind::Box { elem: a, .. }, ShapeKind::Box { elem: b, .. })
            | (ShapeKind::Option { elem: a, .. }, ShapeKind::Option { elem: b, .. })
            | (ShapeKind::Pool { elem: a, .. }, ShapeKind::Pool { elem: b, .. }) => {
                self.same_shape(a(), b())
            }
            (ShapeKind::Handle { target: a }, ShapeKind::Handle { target: b }) => {
                self.new_name_of(a()) == Some(b().name)
            }
            (ShapeKind::Named(a), ShapeKind::Named(b)) => {
                let (a, b) = (a(), b());
                self.new_name_of(a) == Some(b.name) && self.is_unchanged(a, b)
            }
            _ => false,
        }
    }

    /// The name the successor of `old` has in the new version.
    fn new_name_of(&self, old: &'static TypeDesc) -> Option<&'static str> {
        self.new.find_successor(old.name).map(|d| d.name)
    }

    /// The plan for values of `old` becoming values of `new`, planned once per pair.
    fn type_plan(&mut self, old: &'static TypeDesc, new: &'static TypeDesc) -> usize {
        let copy = self.copy || new.glue.hook.is_some();
        let (a, b) = key(old, new);
        let k = (a, b, copy);
        if let Some(&i) = self.index.get(&k) {
            return i;
        }
        let i = self.types.len();
        self.types.push(None);
        self.index.insert(k, i);
        let outer = core::mem::replace(&mut self.copy, copy);
        let unchanged = self.is_unchanged(old, new);
        let layout = LayoutDiff::new(old, new);
        let diff = (!unchanged).then(|| layout.report(old, new));
        let hook = new.glue.hook;
        let body = self.type_body(old, new, &layout, hook.is_some());
        self.copy = outer;
        // A body that stopped leaves the slot empty; its problems are recorded.
        self.types[i] = body.ok().map(|body| TypePlan {
            old,
            new,
            copy,
            unchanged,
            diff,
            body,
            hook,
        });
        i
    }

    fn type_body(
        &mut self,
        old: &'static TypeDesc,
        new: &'static TypeDesc,
        layout: &LayoutDiff,
        has_hook: bool,
    ) -> Result<TypeBody, NoConv> {
        match layout {
            LayoutDiff::Struct(fields) => Ok(TypeBody::Struct {
                steps: self.struct_steps(new.name, fields, has_hook)?,
                removed: fields
                    .removed()
                    .iter()
                    .map(|&r| (fields.old[r].offset, (fields.old[r].shape)()))
                    .collect(),
            }),
            LayoutDiff::Enum(variants) => {
                Ok(TypeBody::Enum(self.enum_plan(new, variants, has_hook)?))
            }
            LayoutDiff::KindChanged => {
                if let (true, Some(d)) = (has_hook, (new.glue.default)()) {
                    return Ok(TypeBody::HookOnly(DefaultPlan::Write(d)));
                }
                self.problems.push(Problem {
                    kind: if has_hook {
                        ProblemKind::HookNeedsDefault
                    } else {
                        ProblemKind::KindChanged
                    },
                    ty: new.name.to_owned(),
                    field: None,
                    old_ty: Some(kind_text(old)),
                    new_ty: Some(kind_text(new)),
                    fix: if has_hook {
                        format!("implement `Default` for `{}` so the hook has a value to fill", new.name)
                    } else {
                        format!(
                            "add `#[coo(migrate = your_fn)]` to `{}` with `fn your_fn(old: &OldValue, new: &mut {}) -> Result<(), String>` to build the new value",
                            new.name, new.name
                        )
                    },
                });
                Err(NoConv::Stopped)
            }
        }
    }

    /// The steps that build a new struct, or `Stopped` when any field has none (every such
    /// problem is recorded: all fields are planned before giving up).
    fn struct_steps(
        &mut self,
        ty: &str,
        fields: &FieldsDiff,
        hook: bool,
    ) -> Result<Vec<Step>, NoConv> {
        let mut stopped = self.conflicts(ty, fields, "");
        let (old, new) = (fields.old, fields.new);
        let mut steps: Vec<Step> = Vec::with_capacity(new.len());
        for (n, field) in new.iter().enumerate() {
            let new_shape = (field.shape)();
            let at = At {
                ty,
                field: field.name,
                hook,
            };
            let step = match fields.source(n) {
                Some(o) => match self.conv((old[o].shape)(), new_shape, at) {
                    Ok(Conv::Copy { size }) => Ok(Step::Copy {
                        src: old[o].offset,
                        dst: field.offset,
                        len: size,
                    }),
                    Ok(conv) => Ok(Step::Convert {
                        field: field.name,
                        src: old[o].offset,
                        dst: field.offset,
                        conv,
                        new_shape,
                    }),
                    // The hook fills the field, starting from its default.
                    Err(NoConv::Incompatible) => self.default_step(ty, field, Some(&old[o]), hook),
                    Err(NoConv::Stopped) => Err(NoConv::Stopped),
                },
                None => self.default_step(ty, field, None, hook),
            };
            let Ok(step) = step else {
                stopped = true;
                continue;
            };
            // Merge adjacent copies: one `memcpy` per run of unchanged plain-data fields.
            if let (
                Some(Step::Copy { src, dst, len }),
                Step::Copy {
                    src: s2,
                    dst: d2,
                    len: l2,
                },
            ) = (steps.last_mut(), &step)
                && *src + *len == *s2
                && *dst + *len == *d2
            {
                *len += l2;
                continue;
            }
            steps.push(step);
        }
        if stopped {
            return Err(NoConv::Stopped);
        }
        Ok(steps)
    }

    /// The step for a new field that is not converted from an old one: its `#[coo(default)]`,
    /// else its type's `Default`. `replaced` is the old field it could not be converted from
    /// (only reached when a hook will fill it).
    fn default_step(
        &mut self,
        ty: &str,
        field: &'static FieldDesc,
        replaced: Option<&FieldDesc>,
        hook: bool,
    ) -> Result<Step, NoConv> {
        let new_shape = (field.shape)();
        let plan = field
            .default
            .map(DefaultPlan::Write)
            .or_else(|| DefaultPlan::for_shape(new_shape));
        if let Some(plan) = plan {
            return Ok(Step::Default {
                field: field.name,
                dst: field.offset,
                plan,
                new_shape,
            });
        }
        let new_ty = shape_text(new_shape);
        self.problems.push(Problem {
            kind: ProblemKind::NoDefault,
            ty: ty.to_owned(),
            field: Some(field.name.to_owned()),
            old_ty: replaced.map(|o| shape_text((o.shape)())),
            new_ty: Some(new_ty.clone()),
            fix: if hook && replaced.is_some() {
                format!(
                    "the hook fills it, but it needs a starting value: add `#[coo(default = ...)]` to field `{}`",
                    field.name
                )
            } else {
                format!(
                    "add `#[coo(default = ...)]` to field `{}`, implement `Default` for `{new_ty}`, \
                     or `#[coo(rename_from = \"old_name\")]` if it continues an old field",
                    field.name
                )
            },
        });
        Err(NoConv::Stopped)
    }

    /// Records a problem for every field conflict of the matching; whether there was any.
    fn conflicts(&mut self, ty: &str, fields: &FieldsDiff, prefix: &str) -> bool {
        let mut any = false;
        for (c, conflict) in fields.conflicts() {
            let (old, new) = (&fields.old[c.old], &fields.new[c.claimant]);
            self.problems.push(Problem {
                kind: ProblemKind::Ambiguous,
                ty: ty.to_owned(),
                field: Some(format!("{prefix}{}", new.name)),
                old_ty: Some(shape_text((old.shape)())),
                new_ty: Some(shape_text((new.shape)())),
                fix: conflict.fix(),
            });
            any = true;
        }
        any
    }

    /// The problem of two new variants continuing one old variant.
    fn variant_conflict(&mut self, ty: &str, conflict: MatchConflict) {
        self.problems.push(Problem {
            kind: ProblemKind::Ambiguous,
            ty: ty.to_owned(),
            field: Some(conflict.claimant.clone()),
            old_ty: None,
            new_ty: None,
            fix: conflict.fix(),
        });
    }

    fn enum_plan(
        &mut self,
        new_desc: &'static TypeDesc,
        diff: &VariantsDiff,
        hook: bool,
    ) -> Result<EnumPlan, NoConv> {
        let ty = new_desc.name;
        let (old, new): (&EnumDesc, &EnumDesc) = (diff.old, diff.new);
        let removed_default = if hook {
            (new_desc.glue.default)().map(DefaultPlan::Write)
        } else {
            None
        };
        let mut stopped = false;
        for conflict in diff.conflicts() {
            self.variant_conflict(ty, conflict);
            stopped = true;
        }
        let mut variants = Vec::with_capacity(old.variants.len());
        for (ov, successor) in old.variants.iter().zip(&diff.successors) {
            let Some((new_index, fields)) = successor else {
                // Removal is decided per value: no live value may use the variant (checked
                // while migrating), unless a hook rebuilds those values from the default.
                if hook && removed_default.is_none() {
                    self.hook_needs_default(new_desc, ov.name);
                    stopped = true;
                }
                variants.push(None);
                continue;
            };
            let nv = &new.variants[*new_index];
            let prefix = format!("{}.", nv.name);
            stopped |= self.conflicts(ty, fields, &prefix);
            match self.variant_fields(ty, &prefix, fields, hook) {
                Ok((steps, incompatible)) => {
                    if incompatible && hook && removed_default.is_none() {
                        self.hook_needs_default(new_desc, ov.name);
                        stopped = true;
                    }
                    let (scratch, offsets) = crate::storage::scratch::variant_layout(nv.fields);
                    variants.push(Some(VariantPlan {
                        old_name: ov.name,
                        new_index: *new_index,
                        removed: fields.removed().to_vec(),
                        fields: steps,
                        offsets,
                        scratch,
                    }));
                }
                Err(NoConv::Stopped | NoConv::Incompatible) => stopped = true,
            }
        }
        if stopped {
            return Err(NoConv::Stopped);
        }
        Ok(EnumPlan {
            variants,
            old_max_fields: old
                .variants
                .iter()
                .map(|v| v.fields.len())
                .max()
                .unwrap_or(0),
            removed_default,
        })
    }

    /// The steps that build the fields of a kept variant, and whether any old field could not
    /// be converted (a hook then rebuilds the value: it starts from the field's default).
    fn variant_fields(
        &mut self,
        ty: &str,
        prefix: &str,
        fields: &FieldsDiff,
        hook: bool,
    ) -> Result<(Vec<VariantFieldStep>, bool), NoConv> {
        let mut steps = Vec::with_capacity(fields.new.len());
        let mut incompatible = false;
        let mut stopped = false;
        for (n, field) in fields.new.iter().enumerate() {
            let new_shape = (field.shape)();
            let name = format!("{prefix}{}", field.name);
            let at = At {
                ty,
                field: &name,
                hook,
            };
            if let Some(old_index) = fields.source(n) {
                match self.conv((fields.old[old_index].shape)(), new_shape, at) {
                    Ok(conv) => {
                        steps.push(VariantFieldStep::Convert {
                            field: field.name,
                            old_index,
                            conv,
                            new_shape,
                        });
                        continue;
                    }
                    Err(NoConv::Incompatible) => incompatible = true,
                    Err(NoConv::Stopped) => {
                        stopped = true;
                        continue;
                    }
                }
            }
            match DefaultPlan::for_shape(new_shape) {
                Some(plan) => steps.push(VariantFieldStep::Default {
                    field: field.name,
                    plan,
                    new_shape,
                }),
                None => {
                    self.problems.push(Problem {
                        kind: ProblemKind::NoDefault,
                        ty: ty.to_owned(),
                        field: Some(name.clone()),
                        old_ty: None,
                        new_ty: Some(shape_text(new_shape)),
                        fix: format!(
                            "implement `Default` for `{}`, or add `#[coo(migrate = ...)]` to `{ty}` and build the variant there",
                            shape_text(new_shape)
                        ),
                    });
                    stopped = true;
                }
            }
        }
        if stopped {
            return Err(NoConv::Stopped);
        }
        Ok((steps, incompatible))
    }

    fn hook_needs_default(&mut self, new: &TypeDesc, variant: &str) {
        self.problems.push(Problem {
            kind: ProblemKind::HookNeedsDefault,
            ty: new.name.to_owned(),
            field: Some(variant.to_owned()),
            old_ty: None,
            new_ty: None,
            fix: format!(
                "values of variant `{variant}` cannot be mapped automatically; implement `Default` for `{}` \
                 so the hook has a value to rebuild them from",
                new.name
            ),
        });
    }

    /// The conversion of a value of `old` into `new`. Without one, the problem is recorded
    /// (and `Stopped` returned) unless a hook will fill the value (`Incompatible`).
    fn conv(
        &mut self,
        old: &'static Shape,
        new: &'static Shape,
        at: At<'_>,
    ) -> Result<Conv, NoConv> {
        let conv = self.conv_inner(old, new, at);
        if matches!(conv, Err(NoConv::Incompatible)) && !at.hook {
            self.problems.push(Problem {
                kind: ProblemKind::Incompatible,
                ty: at.ty.to_owned(),
                field: Some(at.field.to_owned()),
                old_ty: Some(shape_text(old)),
                new_ty: Some(shape_text(new)),
                fix: format!(
                    "add `#[coo(migrate = your_fn)]` to `{}` and set the field from the old value there, \
                     or give the new field another name (with `#[coo(default = ...)]` if its type has no `Default`)",
                    at.ty
                ),
            });
            return Err(NoConv::Stopped);
        }
        conv
    }

    fn conv_inner(
        &mut self,
        old: &'static Shape,
        new: &'static Shape,
        at: At<'_>,
    ) -> Result<Conv, NoConv> {
        use NoConv::Incompatible;
        if self.same_shape(old, new) {
            if !old.needs_drop {
                return Ok(Conv::Copy { size: new.size });
            }
            if !self.copy {
                return Ok(Conv::Move { size: new.size });
            }
        }
        Ok(match (&old.kind, &new.kind) {
            (ShapeKind::Prim(a), ShapeKind::Prim(b)) => {
                match cast_kind(*a, *b).ok_or(Incompatible)? {
                    CastKind::Same => Conv::Copy { size: new.size },
                    kind => Conv::Cast {
                        from: *a,
                        to: *b,
                        kind,
                    },
                }
            }
            (ShapeKind::String(o), ShapeKind::String(n)) => Conv::String {
                old: o,
                new: n,
                old_shape: old,
                new_shape: new,
            },
            (
                ShapeKind::Array {
                    elem: oe,
                    len: old_len,
                },
                ShapeKind::Array {
                    elem: ne,
                    len: new_len,
                },
            ) => {
                let elem = Box::new(self.conv_inner(oe(), ne(), at)?);
                let fill = if new_len > old_len {
                    let Some(fill) = DefaultPlan::for_shape(ne()) else {
                        self.problems.push(Problem {
                            kind: ProblemKind::NoElementDefault,
                            ty: at.ty.to_owned(),
                            field: Some(at.field.to_owned()),
                            old_ty: Some(shape_text(old)),
                            new_ty: Some(shape_text(new)),
                            fix: format!(
                                "implement `Default` for `{}`, or keep the length at {old_len}",
                                shape_text(ne())
                            ),
                        });
                        return Err(NoConv::Stopped);
                    };
                    Some(fill)
                } else {
                    None
                };
                Conv::Array {
                    elem,
                    old_elem: oe(),
                    new_elem: ne(),
                    old_len: *old_len,
                    new_len: *new_len,
                    fill,
                    old_default: if new_len < old_len {
                        DefaultPlan::for_shape(oe())
                    } else {
                        None
                    },
                }
            }
            (ShapeKind::Vec { elem: oe, glue: o }, ShapeKind::Vec { elem: ne, glue: n }) => {
                Conv::Vec {
                    elem: Box::new(self.conv_inner(oe(), ne(), at)?),
                    old_elem: oe(),
                    new_elem: ne(),
                    old: o,
                    new: n,
                    old_vec: old,
                    new_vec: new,
                }
            }
            (ShapeKind::Box { elem: oe, glue: o }, ShapeKind::Box { elem: ne, glue: n }) => {
                Conv::Box {
                    elem: Box::new(self.conv_inner(oe(), ne(), at)?),
                    new_elem: ne(),
                    old: o,
                    new: n,
                }
            }
            (ShapeKind::Option { elem: oe, glue: o }, ShapeKind::Option { elem: ne, glue: n }) => {
                Conv::Option {
                    elem: Box::new(self.conv_inner(oe(), ne(), at)?),
                    new_elem: ne(),
                    old: o,
                    new: n,
                }
            }
            (ShapeKind::Pool { elem: oe, glue: o }, ShapeKind::Pool { elem: ne, glue: n }) => {
                Conv::Pool {
                    elem: Box::new(self.conv_inner(oe(), ne(), at)?),
                    new_elem: ne(),
                    old: o,
                    new: n,
                    new_pool: new,
                }
            }
            (ShapeKind::Handle { target: a }, ShapeKind::Handle { target: b })
                if self.new_name_of(a()) == Some(b().name) =>
            {
                Conv::Copy { size: new.size }
            }
            (ShapeKind::Named(a), ShapeKind::Named(b)) => {
                let (a, b) = (a(), b());
                if self.successor(a, Some(at))?.map(|d| d.name) != Some(b.name) {
                    return Err(Incompatible);
                }
                Conv::Named(self.type_plan(a, b))
            }
            _ => return Err(Incompatible),
        })
    }
}

fn kind_text(desc: &TypeDesc) -> String {
    match desc.kind {
        TypeKind::Struct(_) => format!("struct {}", desc.name),
        TypeKind::Enum(_) => format!("enum {}", desc.name),
    }
}

/// Which type plans leave anything in an old value to give up at commit (see
/// [`Plan::releases`]); a fixed point, since types may contain themselves.
fn releases(types: &[TypePlan]) -> Vec<bool> {
    let mut out = vec![false; types.len()];
    loop {
        let mut changed = false;
        for (i, tp) in types.iter().enumerate() {
            if out[i] {
                continue;
            }
            let needs = tp.copy
                || match &tp.body {
                    TypeBody::Struct { steps, removed } => {
                        removed.iter().any(|(_, shape)| shape.needs_drop)
                            || steps.iter().any(|s| match s {
                                Step::Convert { conv, .. } => conv_releases(conv, &out),
                                _ => false,
                            })
                    }
                    TypeBody::Enum(ep) => ep.variants.iter().any(|v| match v {
                        None => true,
                        Some(vp) => {
                            !vp.removed.is_empty()
                                || vp.fields.iter().any(|f| match f {
                                    VariantFieldStep::Convert { conv, .. } => {
                                        conv_releases(conv, &out)
                                    }
                                    VariantFieldStep::Default { .. } => false,
                                })
                        }
                    }),
                    TypeBody::HookOnly(_) => true,
                };
            if needs {
                out[i] = true;
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// Whether an old value converted by `conv` still owns anything after the build was kept.
pub fn conv_releases(conv: &Conv, releases: &[bool]) -> bool {
    match conv {
        Conv::Copy { .. } | Conv::Move { .. } | Conv::Cast { .. } => false,
        Conv::String { .. } | Conv::Vec { .. } | Conv::Box { .. } | Conv::Pool { .. } => true,
        Conv::Array {
            elem,
            old_elem,
            old_len,
            new_len,
            ..
        } => conv_releases(elem, releases) || (new_len < old_len && old_elem.needs_drop),
        Conv::Option { elem, .. } => conv_releases(elem, releases),
        Conv::Named(index) => releases[*index],
    }
}
