//! What building values from JSON did, type by type.
//!
//! Not to be confused with coo-runtime's [`coo_runtime::Report`], what a reload's migration did
//! (each changed type's diff and how many values it migrated): a [`ValueReport`] says how JSON
//! met the current types (fields defaulted because the JSON lacked them, members dropped,
//! names taken through `rename_from`), for a snapshot load
//! ([`crate::state_io::snapshot::LoadReport`]) or a `set`.

use super::*;

/// What building did, type by type (by current stable name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueReport {
    pub types: BTreeMap<String, TypeValueReport>,
    /// Elements of fixed-size arrays that the JSON lacked, filled with their default.
    pub elements_filled: u64,
}

/// What building did with the values of one type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeValueReport {
    /// How many values of the type were built.
    pub values: u64,
    /// Fields the JSON lacked somewhere, filled with their default (`Variant.field` for a
    /// variant's fields).
    pub added: BTreeSet<String>,
    /// JSON members no field took: their values were dropped (`Variant.member` in variants).
    pub dropped: BTreeSet<String>,
    /// JSON members and variants taken through a `rename_from`: `(JSON name, current name)`.
    pub renamed: BTreeSet<(String, String)>,
}

impl ValueReport {
    /// The report of the type with this (current) stable name.
    pub fn ty(&self, name: &str) -> Option<&TypeValueReport> {
        self.types.get(name)
    }

    pub(super) fn entry(&mut self, ty: &str) -> &mut TypeValueReport {
        if !self.types.contains_key(ty) {
            self.types.insert(ty.to_owned(), TypeValueReport::default());
        }
        self.types.get_mut(ty).expect("inserted above")
    }
}

impl fmt::Display for ValueReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, t) in &self.types {
            let s = if t.values == 1 { "" } else { "s" };
            writeln!(f, "{name}: {} value{s}", t.values)?;
            for (from, to) in &t.renamed {
                writeln!(f, "  > {from} -> {to} (renamed)")?;
            }
            for field in &t.added {
                writeln!(f, "  + {field} (default)")?;
            }
            for field in &t.dropped {
                writeln!(f, "  - {field} (dropped)")?;
            }
        }
        if self.elements_filled > 0 {
            writeln!(
                f,
                "{} array element{} filled with defaults",
                self.elements_filled,
                if self.elements_filled == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}
