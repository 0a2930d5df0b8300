//! Why a migration cannot be planned: each [`Problem`] names its place (type and field) once,
//! apart from its [`ProblemKind`], with both field types and what to write; a [`PlanError`]
//! holds every problem of one plan.

use std::fmt;

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
    /// A `#[coo(opaque)]` field's foreign type changed its Rust type name, size or alignment
    /// (`old_ty` and `new_ty` say which): Coo cannot convert what it cannot see.
    OpaqueChanged,
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
            ProblemKind::OpaqueChanged => {
                "is an opaque foreign type whose name, size or alignment changed".to_owned()
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

/// The problem of several live resources (of the types `olds`, sorted) continuing as the one
/// type `new`.
pub(crate) fn merged_resources(new: &str, olds: &[&str]) -> Problem {
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
