//! What a migration did, type by type: the [`Report`] that [`State::migrate`](crate::State::migrate)
//! returns.

use std::fmt;

use crate::migration::diff::TypeDiff;

/// What a migration did, type by type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every changed type, with how many of its values were migrated.
    pub types: Vec<TypeReport>,
    /// Resources whose type did not change: kept in place, not copied.
    pub kept: Vec<String>,
    /// Resources that were rebuilt.
    pub migrated: Vec<String>,
    /// How many live `Box<dyn Trait>` objects were re-boxed by the new version's impls, by
    /// trait name: their methods are the new code's.
    pub rebound: std::collections::BTreeMap<String, u64>,
    /// The objects of [`rebound`](Report::rebound) by trait name and then concrete type's
    /// stable name: each was migrated as that type (re-boxed as its new version).
    pub reboxed: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeReport {
    pub diff: TypeDiff,
    pub values: u64,
}

impl Report {
    /// The report of the type with this (new) name.
    pub fn ty(&self, name: &str) -> Option<&TypeReport> {
        self.types.iter().find(|t| t.diff.new_name == name)
    }

    /// One line per concrete type of the `dyn trait_name` objects that were re-boxed:
    /// ``1 `Square` object re-boxed as the new `Square` ``.
    pub fn reboxed_lines(&self, trait_name: &str) -> Vec<String> {
        self.reboxed
            .get(trait_name)
            .into_iter()
            .flatten()
            .map(|(ty, n)| reboxed_line(ty, *n))
            .collect()
    }
}

/// How `n` live objects of the concrete type `ty` continue: ``2 `Square` objects re-boxed as
/// the new `Square` `` (the reload report's and `plan`'s words).
pub fn reboxed_line(ty: &str, n: u64) -> String {
    format!(
        "{n} `{ty}` object{} re-boxed as the new `{ty}`",
        if n == 1 { "" } else { "s" }
    )
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.types.is_empty() {
            writeln!(f, "no layout changes")?;
        }
        for t in &self.types {
            write!(f, "{}", t.diff)?;
            writeln!(
                f,
                "  {} value{} migrated",
                t.values,
                if t.values == 1 { "" } else { "s" }
            )?;
        }
        for (name, n) in &self.rebound {
            writeln!(
                f,
                "rebound {n} `dyn {name}` object{}",
                if *n == 1 { "" } else { "s" }
            )?;
            for line in self.reboxed_lines(name) {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}
