//! Migration plans: for every live value, an explicit, total list of actions that builds its new
//! version. Planning reads descriptors only and mutates nothing; what it cannot plan is reported
//! all at once, each problem naming the type, the field, both field types and the fix.
//!
//! This file holds what a plan *is*; [`crate::migration::planner`] makes one (by the typed
//! [`crate::migration::diff`]), and [`crate::migration::problem`] says why there is none.

use std::alloc::Layout;
use std::fmt;

use crate::descriptors::layout::{
    BoxGlue, CollGlue, DynDesc, FieldDesc, HookFn, ImplDesc, OptionGlue, PoolGlue, Prim, Shape,
    ShapeKind, StringGlue, TypeDesc, VecGlue, WriteFn,
};
use crate::migration::casts::CastKind;
use crate::migration::diff::TypeDiff;
use crate::plugin::image::ImageRef;

pub use crate::migration::planner::kept_as;
pub(crate) use crate::migration::planner::plan;
pub use crate::migration::problem::{PlanError, Problem, ProblemKind};

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
        fill: Option<DefaultPlan<'static>>,
        /// How to build the old element's default, to check that elements an array lost held it.
        old_default: Option<DefaultPlan<'static>>,
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
    /// A tuple, element by element at the same position; elements it gained at the end start
    /// as their default. Built in place, like a struct's fields.
    Tuple { elems: Vec<TupleStep> },
    /// A `VecDeque`, map or set, rebuilt entry by entry through the new image's `insert_moved`.
    /// Its keys and values are converted as a vector's elements are (unchanged parts moved), so
    /// the new entries share parts with the old ones until commit, where the old collection
    /// gives up what its entries still own and frees its storage (entries are never dropped
    /// whole), or rollback, where the new one gives up what its entries own alone (see
    /// `execute/teardown.rs`: the new entries are no longer paired with the old ones).
    Coll {
        key: Box<Conv>,
        /// The conversion of a map's values (`None` for a `VecDeque` or a set).
        value: Option<Box<Conv>>,
        old_key: &'static Shape,
        new_key: &'static Shape,
        old_value: Option<&'static Shape>,
        new_value: Option<&'static Shape>,
        old: &'static CollGlue,
        new: &'static CollGlue,
        /// The collections' own shapes (their drop glue drops them whole).
        old_coll: &'static Shape,
        new_coll: &'static Shape,
    },
    /// A `Box<dyn Trait>`: the object's value is built as its concrete type's new version (as
    /// the value inside a `Box`) and boxed by the new image's impl, so its vtable is the new
    /// code's. Never a copy of the old box: the vtable always changes.
    Dyn {
        /// One entry per impl of the trait in the old image.
        impls: Vec<DynImplConv>,
        old: &'static DynDesc,
        new: &'static DynDesc,
    },
}

/// How a live object of one old impl of a trait ([`Conv::Dyn`]) continues.
#[derive(Debug, Clone)]
pub struct DynImplConv {
    /// The old concrete type's stable name.
    pub name: &'static str,
    /// `None` when the new version has no impl for the type (or no such type): a live object of
    /// it is refused ([`crate::ExecuteErrorKind::ImplRemoved`]).
    pub to: Option<DynImplTo>,
}

/// The new impl a live object continues as.
#[derive(Debug, Clone)]
pub struct DynImplTo {
    /// From the old concrete value to the new one (built in scratch memory).
    pub conv: Conv,
    pub new_elem: &'static Shape,
    pub imp: &'static ImplDesc,
}

impl Conv {
    /// For a [`Conv::Dyn`], the entry of the old concrete type named `name`.
    pub(crate) fn dyn_impl(&self, name: &str) -> Option<(usize, &DynImplConv)> {
        match self {
            Conv::Dyn { impls, .. } => impls.iter().enumerate().find(|(_, c)| c.name == name),
            _ => None,
        }
    }
}

/// How one element of a new tuple is built.
#[derive(Debug, Clone)]
pub enum TupleStep {
    /// From the old element at the same position.
    Convert {
        src: usize,
        dst: usize,
        conv: Conv,
        new_shape: &'static Shape,
    },
    /// An element the tuple gained at the end: its default.
    Default {
        dst: usize,
        plan: DefaultPlan<'static>,
        new_shape: &'static Shape,
    },
}

/// How to build a default value of a shape: the field type's `Default`, structurally.
#[derive(Debug, Clone)]
pub enum DefaultPlan<'a> {
    /// Primitives: their `Default` is all-zero bytes (`0`, `0.0`, `false`, `'\0'`).
    Zero {
        size: usize,
    },
    /// A `#[coo(default = ...)]` expression or a `CooType`'s `Default` impl. (An `unsafe fn`
    /// into the image of the shape the plan was made from: call it while that is borrowed.)
    Write(WriteFn),
    /// A literal `#[coo(default = ...)]` of a primitive field: its bytes, written without
    /// calling into the image (the field descriptor's `default_bytes`).
    Bytes(&'a [u8]),
    String(&'a StringGlue),
    EmptyVec(&'a VecGlue),
    None(&'a OptionGlue),
    EmptyPool(&'a PoolGlue),
    Array {
        elem: Box<DefaultPlan<'a>>,
        elem_shape: &'a Shape,
        len: usize,
    },
    Box {
        elem: Box<DefaultPlan<'a>>,
        elem_shape: &'a Shape,
        glue: &'a BoxGlue,
    },
    /// An empty `VecDeque`, map or set.
    EmptyColl(&'a CollGlue),
    /// Each element's default at its offset.
    Tuple(Vec<(usize, DefaultPlan<'a>, &'a Shape)>),
}

impl<'a> DefaultPlan<'a> {
    /// What a field that is new gets: its `#[coo(default = ...)]`, else the structural default
    /// of its shape (`None` when its type has no `Default`).
    pub fn for_field(field: &'a FieldDesc) -> Option<DefaultPlan<'a>> {
        match field.default_bytes() {
            Some(bytes) if bytes.len() == field.shape().size() => Some(DefaultPlan::Bytes(bytes)),
            _ => field
                .default_writer()
                .map(DefaultPlan::Write)
                .or_else(|| DefaultPlan::for_shape(field.shape())),
        }
    }

    /// The structural default of a shape, or `None` when the type has no `Default`.
    pub fn for_shape(shape: &'a Shape) -> Option<DefaultPlan<'a>> {
        Some(match shape.kind() {
            ShapeKind::Prim(_) => DefaultPlan::Zero { size: shape.size() },
            ShapeKind::String(glue) => DefaultPlan::String(glue),
            ShapeKind::Vec { glue, .. } => DefaultPlan::EmptyVec(glue),
            ShapeKind::Option { glue, .. } => DefaultPlan::None(glue),
            ShapeKind::Pool { glue, .. } => DefaultPlan::EmptyPool(glue),
            ShapeKind::Array { elem, len } => DefaultPlan::Array {
                elem: Box::new(DefaultPlan::for_shape(elem.get())?),
                elem_shape: elem.get(),
                len: *len,
            },
            ShapeKind::Box { elem, glue } => DefaultPlan::Box {
                elem: Box::new(DefaultPlan::for_shape(elem.get())?),
                elem_shape: elem.get(),
                glue,
            },
            // A trait object has no default: which impl would it be?
            ShapeKind::Handle { .. } | ShapeKind::Dyn(_) => return None,
            ShapeKind::Named(desc) => DefaultPlan::Write(desc.get().glue().default_writer()?),
            ShapeKind::Opaque(glue) => DefaultPlan::Write(glue.default_writer()?),
            ShapeKind::Coll { glue, .. } => DefaultPlan::EmptyColl(glue),
            ShapeKind::Tuple(elems) => DefaultPlan::Tuple(
                elems
                    .get()
                    .iter()
                    .map(|e| Some((e.offset(), DefaultPlan::for_shape(e.shape())?, e.shape())))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}

/// The plan for the values of one type.
///
/// Its descriptors, shapes, glue and hook live in the images the [`Plan`] keeps mapped: `old`,
/// `new`, `body` and `hook` are the crate's (`'static` in name only), read through accessors that
/// borrow the plan.
#[derive(Debug, Clone)]
pub struct TypePlan {
    pub(crate) old: &'static TypeDesc,
    pub(crate) new: &'static TypeDesc,
    /// Built as an independent copy (under a migration hook): at commit the old value is
    /// dropped whole, on rollback the new one is.
    pub copy: bool,
    /// Whether the layout is unchanged (the values are then only copied where a changed type
    /// contains them, and kept in place otherwise).
    pub unchanged: bool,
    /// What changed, for changed types.
    pub diff: Option<TypeDiff>,
    pub(crate) body: TypeBody,
    pub(crate) hook: Option<HookFn>,
}

impl TypePlan {
    /// The old type, borrowed from the plan.
    pub fn old_type(&self) -> &TypeDesc {
        self.old
    }

    /// The new type, borrowed from the plan.
    pub fn new_type(&self) -> &TypeDesc {
        self.new
    }

    /// Whether a migration hook builds the new values.
    pub fn has_hook(&self) -> bool {
        self.hook.is_some()
    }
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
    HookOnly(DefaultPlan<'static>),
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
        old_shape: &'static Shape,
        new_shape: &'static Shape,
    },
    /// Write the default of a field that is new (or that a hook will fill).
    Default {
        field: &'static str,
        dst: usize,
        plan: DefaultPlan<'static>,
        new_shape: &'static Shape,
    },
}

#[derive(Debug, Clone)]
pub struct EnumPlan {
    /// For each old variant, how it continues; `None` when it was removed.
    pub variants: Vec<Option<VariantPlan>>,
    pub old_max_fields: usize,
    /// With a hook, values of removed variants start as the new type's default.
    pub removed_default: Option<DefaultPlan<'static>>,
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
        plan: DefaultPlan<'static>,
        new_shape: &'static Shape,
    },
}

/// What to do with one live resource.
#[derive(Debug, Clone)]
pub enum ResourcePlan {
    /// The layout is unchanged: keep the value where it is, adopt the new descriptor.
    Keep(Kept),
    /// Build a new value with [`Plan::types`]`()[type_plan]`.
    Migrate { type_plan: usize },
}

/// A resource whose layout is unchanged: its old and new descriptor, read through accessors
/// that borrow the plan (they live in the images it keeps mapped).
#[derive(Debug, Clone)]
pub struct Kept {
    /// `'static` in name only: valid while the plan's guards live.
    pub(crate) old: &'static TypeDesc,
    pub(crate) new: &'static TypeDesc,
}

impl Kept {
    /// A kept resource of types compiled into this binary (a plan made by
    /// [`crate::State::plan`] brings its own, of any image).
    pub fn between(old: &'static TypeDesc, new: &'static TypeDesc) -> Kept {
        Kept { old, new }
    }

    /// The old type, borrowed from the plan.
    pub fn old_type(&self) -> &TypeDesc {
        self.old
    }

    /// The new type, borrowed from the plan.
    pub fn new_type(&self) -> &TypeDesc {
        self.new
    }
}

/// A complete migration plan for a state.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) types: Vec<TypePlan>,
    pub(crate) resources: Vec<ResourcePlan>,
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
    /// The plan of every type reachable from the state.
    pub fn types(&self) -> &[TypePlan] {
        &self.types
    }

    /// What to do with each live resource, in the state's order.
    pub fn resources(&self) -> &[ResourcePlan] {
        &self.resources
    }

    /// [`Plan::resources`] to edit by hand: for tests that a plan not made for a state is
    /// refused by [`crate::State::migrate`].
    ///
    /// # Safety
    /// Every descriptor put in lives in an image this plan guards, or is compiled into this
    /// binary ([`Kept::between`]): one taken from another plan may point into an image this
    /// one does not keep mapped.
    #[doc(hidden)]
    pub unsafe fn resources_mut(&mut self) -> &mut [ResourcePlan] {
        &mut self.resources
    }

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

/// Which type plans leave anything in an old value to give up at commit (see
/// [`Plan::releases`]); a fixed point, since types may contain themselves.
pub(crate) fn releases(types: &[TypePlan]) -> Vec<bool> {
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
                        removed.iter().any(|(_, shape)| shape.needs_drop())
                            || steps.iter().any(|s| match s {
                                // A field without drop glue owns nothing (and may lie
                                // unaligned in a packed struct, where no glue may see it).
                                Step::Convert {
                                    conv, old_shape, ..
                                } => old_shape.needs_drop() && conv_releases(conv, &out),
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
        Conv::String { .. }
        | Conv::Vec { .. }
        | Conv::Box { .. }
        | Conv::Pool { .. }
        | Conv::Coll { .. }
        | Conv::Dyn { .. } => true,
        Conv::Tuple { elems } => elems.iter().any(|e| match e {
            TupleStep::Convert { conv, .. } => conv_releases(conv, releases),
            TupleStep::Default { .. } => false,
        }),
        Conv::Array {
            elem,
            old_elem,
            old_len,
            new_len,
            ..
        } => conv_releases(elem, releases) || (new_len < old_len && old_elem.needs_drop()),
        Conv::Option { elem, .. } => conv_releases(elem, releases),
        Conv::Named(index) => releases[*index],
    }
}
