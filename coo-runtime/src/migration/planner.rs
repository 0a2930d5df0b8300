//! Making a migration plan: the walk from the live resources' types through every type they
//! reach, reading the typed [`crate::migration::diff`] of each pair (which field or variant
//! continues which, asked once of [`crate::descriptors::matching`]) and recording every problem.
//! A branch that meets a problem stops there (no placeholder steps); the walk goes on elsewhere,
//! so all problems are reported at once. How one value converts is planned in `conversion.rs`,
//! whether a layout is unchanged is decided in `unchanged.rs` (both beside this file).

use std::collections::{BTreeMap, HashMap};

use crate::descriptors::generics;
use crate::descriptors::layout::{EnumDesc, FieldDesc, TypeDesc, TypeKind, shape_text};
use crate::descriptors::matching::MatchConflict;
use crate::descriptors::registry::Catalog;
use crate::migration::diff::{FieldsDiff, LayoutDiff, VariantsDiff};
use crate::migration::plan::{
    Conv, DefaultPlan, EnumPlan, Kept, Plan, ResourcePlan, Step, TypeBody, TypePlan,
    VariantFieldStep, VariantPlan, releases,
};
use crate::migration::problem::{PlanError, Problem, ProblemKind, merged_resources};

/// Whether a value of `old` would be kept in place by a migration to the types of `new` (the
/// planner's own verdict, as [`crate::State::migrate`] would plan it): the new type it is kept
/// as, or `None` when it would be migrated, or cannot be.
pub fn kept_as<'c>(old: &TypeDesc, new: &'c Catalog) -> Option<&'c TypeDesc> {
    // SAFETY: re-lifted to `'static` for the planner only: the plan is dropped before this
    // function returns, while the caller's borrow of `old` keeps its image alive; the new type
    // returned is borrowed from `new` again.
    let old: &'static TypeDesc = unsafe { &*core::ptr::from_ref(old) };
    match plan(&[old], new).ok()?.resources() {
        [ResourcePlan::Keep(kept)] => new.get(kept.new_type().name()),
        _ => None,
    }
}

/// Plans the migration of values of the `roots` (the descriptors of the live resources' types)
/// to the types of `new`. The roots are `'static` in name only: the caller adds the guards of
/// their images to the plan ([`crate::State::migrate`] does) or drops the plan while it
/// borrows them ([`kept_as`]).
pub(crate) fn plan(roots: &[&'static TypeDesc], new: &Catalog) -> Result<Plan, PlanError> {
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
                ty: old.name().to_owned(),
                field: None,
                old_ty: Some(old.name().to_owned()),
                new_ty: None,
                fix: format!(
                    "keep a type named `{0}` in the new version (or one with `#[coo(rename_from = \"{0}\")]`), \
                     or remove the resource before reloading",
                    old.name()
                ),
            });
            continue;
        };
        continued
            .entry(new_desc.name())
            .or_default()
            .push(old.name());
        if planner.is_unchanged(old, new_desc) {
            resources.push(ResourcePlan::Keep(Kept { old, new: new_desc }));
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

pub(super) struct Planner<'a> {
    pub(super) new: &'a Catalog,
    /// The plan of each pair of types, `None` while it is being planned and when planning it
    /// stopped at a problem.
    pub(super) types: Vec<Option<TypePlan>>,
    pub(super) index: HashMap<(usize, usize, bool), usize>,
    /// Whether convs are being planned as copies (inside a type with a hook).
    pub(super) copy: bool,
    pub(super) problems: Vec<Problem>,
    /// Memo of layout equality; `true` while a pair is being compared (coinduction for
    /// recursive types). A `false` is always final. A `true` found while an outer comparison
    /// is still open may rest on that comparison's provisional `true`, so it is only kept once
    /// the outermost comparison ended without any pair found changed (see
    /// [`Planner::is_unchanged`]).
    pub(super) unchanged: HashMap<(usize, usize), bool>,
    /// How many `is_unchanged` comparisons are in progress.
    pub(super) comparing: usize,
    /// The pairs found unchanged during the current outermost comparison: provisional until it
    /// ends.
    pub(super) tentative: Vec<(usize, usize)>,
    /// Whether any pair was found changed during the current outermost comparison.
    pub(super) refuted: bool,
}

pub(super) fn key(old: &TypeDesc, new: &TypeDesc) -> (usize, usize) {
    (
        old as *const TypeDesc as usize,
        new as *const TypeDesc as usize,
    )
}

/// Why a value has no conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoConv {
    /// The types do not convert. Under a hook the hook fills the value instead; otherwise
    /// [`Planner::conv`] records the problem.
    Incompatible,
    /// A problem was recorded: this branch of the plan stops.
    Stopped,
}

/// The context of a conversion, for problems.
#[derive(Clone, Copy)]
pub(super) struct At<'s> {
    pub(super) ty: &'s str,
    pub(super) field: &'s str,
    pub(super) hook: bool,
}

impl Planner<'_> {
    /// The new type that continues `old` (asked of [`Catalog::successor`]); a conflict is
    /// recorded as a problem and stops the branch.
    pub(super) fn successor(
        &mut self,
        old: &'static TypeDesc,
        at: Option<At<'_>>,
    ) -> Result<Option<&'static TypeDesc>, NoConv> {
        self.new.successor_in_image(old.name()).map_err(|conflict| {
            // Where a field reaches the type, the problem is that field's; a live resource's
            // type is its own place.
            self.problems.push(Problem {
                kind: ProblemKind::Ambiguous,
                ty: at.map_or(old.name(), |a| a.ty).to_owned(),
                field: at.map(|a| a.field.to_owned()),
                old_ty: None,
                new_ty: None,
                fix: conflict.fix(),
            });
            NoConv::Stopped
        })
    }

    /// Whether values of `old`, reached through a field, continue as values of `new`: by the
    /// rule for generic instantiations ([`generics::continues_generic`]) when either is one,
    /// else when `new` is the successor of `old` in the new catalog (a conflict is recorded as a
    /// problem and stops the branch).
    pub(super) fn continues(
        &mut self,
        old: &'static TypeDesc,
        new: &'static TypeDesc,
        at: Option<At<'_>>,
    ) -> Result<bool, NoConv> {
        if let Some(verdict) = generics::continues_generic(old, new) {
            return Ok(verdict);
        }
        Ok(self.successor(old, at)?.map(|d| d.name()) == Some(new.name()))
    }

    /// [`Planner::continues`] without recording anything (a conflict counts as `false`): what
    /// the layout comparison asks.
    pub(super) fn continues_quietly(&self, old: &'static TypeDesc, new: &'static TypeDesc) -> bool {
        generics::continues_generic(old, new)
            .unwrap_or_else(|| self.new_name_of(old) == Some(new.name()))
    }

    /// The name the successor of `old` has in the new version.
    pub(super) fn new_name_of(&self, old: &'static TypeDesc) -> Option<&'static str> {
        self.new
            .find_successor_in_image(old.name())
            .map(|d| d.name())
    }

    /// The plan for values of `old` becoming values of `new`, planned once per pair.
    pub(super) fn type_plan(&mut self, old: &'static TypeDesc, new: &'static TypeDesc) -> usize {
        let copy = self.copy || new.glue().has_hook();
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
        let hook = new.glue().hook_fn();
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

    pub(super) fn type_body(
        &mut self,
        old: &'static TypeDesc,
        new: &'static TypeDesc,
        layout: &LayoutDiff<'static>,
        has_hook: bool,
    ) -> Result<TypeBody, NoConv> {
        match layout {
            LayoutDiff::Struct(fields) => Ok(TypeBody::Struct {
                steps: self.struct_steps(new.name(), fields, has_hook)?,
                removed: fields
                    .removed()
                    .iter()
                    .map(|&r| (fields.old[r].offset(), fields.old[r].shape()))
                    .collect(),
            }),
            LayoutDiff::Enum(variants) => {
                Ok(TypeBody::Enum(self.enum_plan(new, variants, has_hook)?))
            }
            LayoutDiff::KindChanged => {
                if let (true, Some(d)) = (has_hook, new.glue().default_writer()) {
                    return Ok(TypeBody::HookOnly(DefaultPlan::Write(d)));
                }
                self.problems.push(Problem {
                    kind: if has_hook {
                        ProblemKind::HookNeedsDefault
                    } else {
                        ProblemKind::KindChanged
                    },
                    ty: new.name().to_owned(),
                    field: None,
                    old_ty: Some(kind_text(old)),
                    new_ty: Some(kind_text(new)),
                    fix: if has_hook {
                        format!("implement `Default` for `{}` so the hook has a value to fill", new.name())
                    } else {
                        format!(
                            "add `#[coo(migrate = your_fn)]` to `{}` with `fn your_fn(old: &ValueView, new: &mut {}) -> Result<(), String>` to build the new value",
                            new.name(), new.name()
                        )
                    },
                });
                Err(NoConv::Stopped)
            }
        }
    }

    /// The steps that build a new struct, or `Stopped` when any field has none (every such
    /// problem is recorded: all fields are planned before giving up).
    pub(super) fn struct_steps(
        &mut self,
        ty: &str,
        fields: &FieldsDiff<'static>,
        hook: bool,
    ) -> Result<Vec<Step>, NoConv> {
        let mut stopped = self.conflicts(ty, fields, "");
        let (old, new) = (fields.old, fields.new);
        let mut steps: Vec<Step> = Vec::with_capacity(new.len());
        for (n, field) in new.iter().enumerate() {
            let new_shape = field.shape();
            let at = At {
                ty,
                field: field.name(),
                hook,
            };
            let step = match fields.source(n) {
                Some(o) => match self.conv(old[o].shape(), new_shape, at) {
                    Ok(Conv::Copy { size }) => Ok(Step::Copy {
                        src: old[o].offset(),
                        dst: field.offset(),
                        len: size,
                    }),
                    Ok(conv) => Ok(Step::Convert {
                        field: field.name(),
                        src: old[o].offset(),
                        dst: field.offset(),
                        conv,
                        old_shape: old[o].shape(),
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
    pub(super) fn default_step(
        &mut self,
        ty: &str,
        field: &'static FieldDesc,
        replaced: Option<&FieldDesc>,
        hook: bool,
    ) -> Result<Step, NoConv> {
        let new_shape = field.shape();
        let plan = DefaultPlan::for_field(field);
        if let Some(plan) = plan {
            return Ok(Step::Default {
                field: field.name(),
                dst: field.offset(),
                plan,
                new_shape,
            });
        }
        let new_ty = shape_text(new_shape);
        self.problems.push(Problem {
            kind: ProblemKind::NoDefault,
            ty: ty.to_owned(),
            field: Some(field.name().to_owned()),
            old_ty: replaced.map(|o| shape_text(o.shape())),
            new_ty: Some(new_ty.clone()),
            fix: if hook && replaced.is_some() {
                format!(
                    "the hook fills it, but it needs a starting value: add `#[coo(default = ...)]` to field `{}`",
                    field.name()
                )
            } else if new_shape.named().is_some_and(|d| d.generic_args().is_some()) {
                // The derive's `Default` probe cannot see through a type parameter.
                format!(
                    "add `#[coo(default = ...)]` to field `{}` (Coo does not use the `Default` of an \
                     instantiation of a generic type such as `{new_ty}`), \
                     or `#[coo(rename_from = \"old_name\")]` if it continues an old field",
                    field.name()
                )
            } else {
                format!(
                    "add `#[coo(default = ...)]` to field `{}`, implement `Default` for `{new_ty}`, \
                     or `#[coo(rename_from = \"old_name\")]` if it continues an old field",
                    field.name()
                )
            },
        });
        Err(NoConv::Stopped)
    }

    /// Records a problem for every field conflict of the matching; whether there was any.
    pub(super) fn conflicts(
        &mut self,
        ty: &str,
        fields: &FieldsDiff<'static>,
        prefix: &str,
    ) -> bool {
        let mut any = false;
        for (c, conflict) in fields.conflicts() {
            let (old, new) = (&fields.old[c.old], &fields.new[c.claimant]);
            self.problems.push(Problem {
                kind: ProblemKind::Ambiguous,
                ty: ty.to_owned(),
                field: Some(format!("{prefix}{}", new.name())),
                old_ty: Some(shape_text(old.shape())),
                new_ty: Some(shape_text(new.shape())),
                fix: conflict.fix(),
            });
            any = true;
        }
        any
    }

    /// The problem of two new variants continuing one old variant.
    pub(super) fn variant_conflict(&mut self, ty: &str, conflict: MatchConflict) {
        self.problems.push(Problem {
            kind: ProblemKind::Ambiguous,
            ty: ty.to_owned(),
            field: Some(conflict.claimant.clone()),
            old_ty: None,
            new_ty: None,
            fix: conflict.fix(),
        });
    }

    pub(super) fn enum_plan(
        &mut self,
        new_desc: &'static TypeDesc,
        diff: &VariantsDiff<'static>,
        hook: bool,
    ) -> Result<EnumPlan, NoConv> {
        let ty = new_desc.name();
        let (old, new): (&EnumDesc, &EnumDesc) = (diff.old, diff.new);
        let removed_default = if hook {
            new_desc.glue().default_writer().map(DefaultPlan::Write)
        } else {
            None
        };
        let mut stopped = false;
        for conflict in diff.conflicts() {
            self.variant_conflict(ty, conflict);
            stopped = true;
        }
        let mut variants = Vec::with_capacity(old.variants().len());
        for (ov, successor) in old.variants().iter().zip(&diff.successors) {
            let Some((new_index, fields)) = successor else {
                // Removal is decided per value: no live value may use the variant (checked
                // while migrating), unless a hook rebuilds those values from the default.
                if hook && removed_default.is_none() {
                    self.hook_needs_default(new_desc, ov.name());
                    stopped = true;
                }
                variants.push(None);
                continue;
            };
            let nv = &new.variants()[*new_index];
            let prefix = format!("{}.", nv.name());
            stopped |= self.conflicts(ty, fields, &prefix);
            match self.variant_fields(ty, &prefix, fields, hook) {
                Ok((steps, incompatible)) => {
                    if incompatible && hook && removed_default.is_none() {
                        self.hook_needs_default(new_desc, ov.name());
                        stopped = true;
                    }
                    let (scratch, offsets) = crate::storage::scratch::variant_layout(nv.fields());
                    variants.push(Some(VariantPlan {
                        old_name: ov.name(),
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
                .variants()
                .iter()
                .map(|v| v.fields().len())
                .max()
                .unwrap_or(0),
            removed_default,
        })
    }

    /// The steps that build the fields of a kept variant, and whether any old field could not
    /// be converted (a hook then rebuilds the value: it starts from the field's default).
    pub(super) fn variant_fields(
        &mut self,
        ty: &str,
        prefix: &str,
        fields: &FieldsDiff<'static>,
        hook: bool,
    ) -> Result<(Vec<VariantFieldStep>, bool), NoConv> {
        let mut steps = Vec::with_capacity(fields.new.len());
        let mut incompatible = false;
        let mut stopped = false;
        for (n, field) in fields.new.iter().enumerate() {
            let new_shape = field.shape();
            let name = format!("{prefix}{}", field.name());
            let at = At {
                ty,
                field: &name,
                hook,
            };
            if let Some(old_index) = fields.source(n) {
                match self.conv(fields.old[old_index].shape(), new_shape, at) {
                    Ok(conv) => {
                        steps.push(VariantFieldStep::Convert {
                            field: field.name(),
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
                    field: field.name(),
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

    pub(super) fn hook_needs_default(&mut self, new: &TypeDesc, variant: &str) {
        self.problems.push(Problem {
            kind: ProblemKind::HookNeedsDefault,
            ty: new.name().to_owned(),
            field: Some(variant.to_owned()),
            old_ty: None,
            new_ty: None,
            fix: format!(
                "values of variant `{variant}` cannot be mapped automatically; implement `Default` for `{}` \
                 so the hook has a value to rebuild them from",
                new.name()
            ),
        });
    }
}

fn kind_text(desc: &TypeDesc) -> String {
    match desc.kind() {
        TypeKind::Struct(_) => format!("struct {}", desc.name()),
        TypeKind::Enum(_) => format!("enum {}", desc.name()),
    }
}
