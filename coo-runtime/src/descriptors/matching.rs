//! Which new type, field or variant continues which old one: the one rule that the catalog, the
//! diff, the plan, snapshot loading and the JSON `set` command all ask, so that they agree, and
//! report a conflict the same way.
//!
//! It lives beside the descriptors rather than in `migration` because it decides from names
//! alone (an item's name and its `rename_from` names), and stages that migrate nothing (loading
//! a snapshot, `set`) ask it too.
//!
//! The rule, by names only (never by position or by type):
//!
//! 1. A new item continues the old item of its own name. Names are matched first, so a
//!    `rename_from` never takes an old item that some new item is named after.
//! 2. A new item that has no old item of its own name continues the first of its `rename_from`
//!    names (in the order written) that the old side has.
//! 3. When that old item is already continued (by the new item of its name, or by an earlier new
//!    item's `rename_from`), the claim is a [`Conflict`]: the new item continues nothing, and
//!    every stage refuses, naming both new items. A claim is never moved to another name.
//!
//! Where the old side is known only one name at a time (a live type during planning, a
//! snapshot's resource, an enum's tag in JSON), [`successor`] asks the same rule with that one
//! name as the whole old side.

use crate::descriptors::layout::{FieldDesc, TypeDesc, VariantDesc};

/// An item of a new version that may continue an item of an old one.
pub trait Continuing {
    /// The item's name in its version.
    fn name(&self) -> &str;
    /// The names it says it had before (`#[coo(rename_from = "...")]`), in the order written.
    fn rename_from(&self) -> &[&str];
}

impl Continuing for FieldDesc {
    fn name(&self) -> &str {
        self.name()
    }
    fn rename_from(&self) -> &[&str] {
        self.rename_from()
    }
}

impl Continuing for VariantDesc {
    fn name(&self) -> &str {
        self.name()
    }
    fn rename_from(&self) -> &[&str] {
        self.rename_from()
    }
}

impl Continuing for TypeDesc {
    fn name(&self) -> &str {
        self.name()
    }
    fn rename_from(&self) -> &[&str] {
        self.rename_from()
    }
}

impl<T: Continuing + ?Sized> Continuing for &T {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn rename_from(&self) -> &[&str] {
        (**self).rename_from()
    }
}

/// Whether `rename_from` names count (rule 2), or only exact names do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renames {
    /// As a reload matches: names, then `rename_from`.
    Follow,
    /// Names only (the JSON `set` command, which wants every field spelled by its current name).
    Ignore,
}

/// How one new item continues an old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The old item of the same name.
    Named(usize),
    /// The old item named in the new item's `rename_from`.
    Renamed(usize),
}

impl Source {
    /// The index of the old item.
    pub fn old(self) -> usize {
        match self {
            Source::Named(o) | Source::Renamed(o) => o,
        }
    }
}

/// A new item whose `rename_from` claims an old item that another new item already continues
/// (rule 3), as indices into the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// The old item claimed twice.
    pub old: usize,
    /// The new item that continues it.
    pub holder: Source,
    /// Its index among the new items.
    pub holder_index: usize,
    /// The new item whose `rename_from` claims it too; it continues nothing.
    pub claimant: usize,
}

/// Which old item each new item continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// For each new item, the old item it continues.
    pub sources: Vec<Option<Source>>,
    /// Old items no new item continues, in order.
    pub removed: Vec<usize>,
    /// Claims refused by rule 3, in the order of the claimants.
    pub conflicts: Vec<Conflict>,
}

impl Matching {
    /// The index of the old item new item `n` continues.
    pub fn source(&self, n: usize) -> Option<usize> {
        self.sources[n].map(Source::old)
    }
}

/// Matches the new items to the old ones, named `old`, by the rule of this module.
pub fn match_items<N: Continuing>(old: &[&str], new: &[N], renames: Renames) -> Matching {
    let find = |name: &str| old.iter().position(|o| *o == name);
    // For each old item, the new item that continues it and how.
    let mut held: Vec<Option<(usize, Source)>> = vec![None; old.len()];
    let mut sources: Vec<Option<Source>> = vec![None; new.len()];
    // Rule 1 for every new item before rule 2 for any.
    for (n, item) in new.iter().enumerate() {
        if let Some(o) = find(item.name()).filter(|&o| held[o].is_none()) {
            held[o] = Some((n, Source::Named(o)));
            sources[n] = Some(Source::Named(o));
        }
    }
    let mut conflicts = Vec::new();
    if renames == Renames::Follow {
        for (n, item) in new.iter().enumerate() {
            if sources[n].is_some() {
                continue;
            }
            let Some(o) = item.rename_from().iter().find_map(|r| find(r)) else {
                continue;
            };
            match held[o] {
                Some((holder_index, holder)) => conflicts.push(Conflict {
                    old: o,
                    holder,
                    holder_index,
                    claimant: n,
                }),
                None => {
                    held[o] = Some((n, Source::Renamed(o)));
                    sources[n] = Some(Source::Renamed(o));
                }
            }
        }
    }
    let removed = (0..old.len()).filter(|&o| held[o].is_none()).collect();
    Matching {
        sources,
        removed,
        conflicts,
    }
}

/// The names of `items`, for [`match_items`]'s old side.
pub fn names<N: Continuing>(items: &[N]) -> Vec<&str> {
    items.iter().map(|i| i.name()).collect()
}

/// The index of the new item that continues the old item `old_name`, asked one name at a time
/// (the same rule with `old_name` as the whole old side): `Ok(None)` when none does, an error
/// when two claim it.
pub fn successor<N: Continuing>(
    what: ItemKind,
    old_name: &str,
    new: &[N],
) -> Result<Option<usize>, MatchConflict> {
    let m = match_items(&[old_name], new, Renames::Follow);
    if let Some(c) = m.conflicts.first() {
        return Err(MatchConflict::new(what, &[old_name], new, c));
    }
    Ok(m.sources.iter().position(Option::is_some))
}

/// What kind of item a conflict is about, for its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Type,
    Field,
    Variant,
}

impl ItemKind {
    fn noun(self) -> &'static str {
        match self {
            ItemKind::Type => "type",
            ItemKind::Field => "field",
            ItemKind::Variant => "variant",
        }
    }
}

/// Two new items continue one old item: the error every stage reports for a [`Conflict`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the old {} `{}` is claimed twice: {}", .what.noun(), .old, self.fix())]
pub struct MatchConflict {
    pub what: ItemKind,
    /// The old item's name.
    pub old: String,
    /// The new item that continues it.
    pub holder: String,
    /// Whether `holder` continues it by its `rename_from` (else by its name).
    pub holder_renamed: bool,
    /// The new item whose `rename_from` claims it too.
    pub claimant: String,
}

impl MatchConflict {
    /// The error for conflict `c` of matching `new` to the items named `old`.
    pub fn new<N: Continuing>(what: ItemKind, old: &[&str], new: &[N], c: &Conflict) -> Self {
        MatchConflict {
            what,
            old: old[c.old].to_owned(),
            holder: new[c.holder_index].name().to_owned(),
            holder_renamed: matches!(c.holder, Source::Renamed(_)),
            claimant: new[c.claimant].name().to_owned(),
        }
    }

    /// What to write to resolve it.
    pub fn fix(&self) -> String {
        let noun = self.what.noun();
        let (old, holder, claimant) = (&self.old, &self.holder, &self.claimant);
        if self.holder_renamed {
            format!(
                "`{holder}` and `{claimant}` both say `rename_from = \"{old}\"`; \
                 keep it on only one of them"
            )
        } else {
            format!(
                "old {noun} `{old}` is already continued by the new {noun} of that name; \
                 remove `rename_from = \"{old}\"` from `{claimant}` or rename the other {noun}"
            )
        }
    }
}
