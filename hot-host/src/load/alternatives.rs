//! The check of a manifest's alternative implementations (`#[hot_fn(alt_of = "change", name =
//! "plus10")]`) at load: each is an alternative of a hot function of the library, with that
//! function's signature, and no two implementations of one function share a name. A slot may
//! then run any of them: one that fails the check is refused with the library, before anything
//! of it runs.

use std::collections::BTreeMap;

use coo_runtime::plugin::{FnDesc, Manifest};

use super::error::{ExpectedFound, LoadErrorKind};

/// The first problem of `manifest`'s alternatives, if any.
pub(crate) fn check(manifest: &Manifest) -> Result<(), LoadErrorKind> {
    let fns: BTreeMap<String, &FnDesc> = manifest.fns().iter().map(|f| (f.path(), *f)).collect();
    // (function, name) -> full path of the implementation chosen by it.
    let mut names: BTreeMap<(String, String), String> = fns
        .iter()
        .map(|(path, f)| {
            (
                (path.clone(), f.alternative_name().to_owned()),
                full_path(f),
            )
        })
        .collect();
    for alternative in manifest.alternatives() {
        let of = alternative
            .alternative_of()
            .expect("the manifest's alternatives are alternatives of a function");
        let Some(primary) = fns.get(&of) else {
            return Err(LoadErrorKind::AlternativeOfNothing {
                alternative: full_path(alternative),
                of,
            });
        };
        if !alternative.same_signature(primary) {
            return Err(LoadErrorKind::AlternativeSignature {
                alternative: full_path(alternative),
                of,
                mismatch: Box::new(ExpectedFound {
                    expected: primary.signature(),
                    found: alternative.signature(),
                }),
            });
        }
        let name = alternative.alternative_name().to_owned();
        let full = full_path(alternative);
        if let Some(other) = names.insert((of.clone(), name.clone()), full.clone()) {
            let paths = if other <= full {
                [other, full]
            } else {
                [full, other]
            };
            return Err(LoadErrorKind::DuplicateAlternative {
                of,
                name,
                paths: Box::new(paths),
            });
        }
    }
    Ok(())
}

/// `crate::module::name`.
fn full_path(f: &FnDesc) -> String {
    format!("{}::{}", f.module(), f.name())
}
