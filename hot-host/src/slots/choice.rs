//! A/B implementations: the alternatives of a hot function (`#[hot_fn(alt_of = "change", name =
//! "plus10")]`) and which one its slot runs.
//!
//! Choosing rewrites the slot's pointers ([`Slot::update`]), exactly as a reload does: calls
//! through the slot, [`FnHandle`](super::FnHandle)s and typed handles ([`HotFn`](super::HotFn))
//! stay one atomic load and one indirect call, and nothing is counted on the call path. A choice
//! starts a new epoch of the host (`Host::choose`), so a typed handle's cached entry is looked up
//! again at its next call. Every implementation lives in the same image as the function (the
//! manifest of one build lists them; the loader checked that each has the function's signature,
//! `load/alternatives.rs`), and a [`Choice`] holds their guards, so the chosen code stays mapped
//! as the function's own does.
//!
//! A choice survives reloads while the new version still has an implementation of that name;
//! otherwise the function's own code runs, and the reload report says so
//! ([`AlternativeGone`]).

use std::collections::{BTreeMap, HashMap};

use coo_runtime::plugin::FnDesc;

use super::plan::live;
use super::{CallError, CallErrorKind, FnRef, Slot};

/// The implementations of one function and the one its slot runs.
#[derive(Debug)]
pub(crate) struct Choice {
    /// The function's own code first, then its alternatives, by name.
    impls: Vec<FnRef>,
    /// The index in `impls` of the one the slot runs.
    chosen: usize,
}

impl Choice {
    fn chosen_name(&self) -> &str {
        self.impls[self.chosen].alternative_name()
    }
}

/// One implementation of a function, as [`crate::Host::alternatives`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// The name it is chosen by (the function's own is the function's name).
    pub name: String,
    /// Whether the slot runs it now.
    pub chosen: bool,
}

/// A reload removed the implementation a function's slot ran; the function's own code runs
/// now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeGone {
    /// The function's stable name.
    pub function: String,
    /// The implementation that was chosen and is gone.
    pub gone: String,
    /// The one that runs now (the function's own).
    pub running: String,
}

impl std::fmt::Display for AlternativeGone {
    /// `change: the chosen implementation `plus10` is gone; `change` runs now`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the chosen implementation `{}` is gone; `{}` runs now",
            self.function, self.gone, self.running
        )
    }
}

/// The choices of every function that has alternatives, by the function's stable name.
#[derive(Debug, Default)]
pub(crate) struct Choices {
    choices: HashMap<String, Choice>,
}

impl Choices {
    /// After a commit re-pointed `slots`: the alternatives of the new version (`alternatives`,
    /// from its manifest, made `FnRef`s by `code`) become the choices, each keeping the name
    /// chosen before when the new version still has it, and its slot is pointed at it. Returns
    /// the choices that could not be kept.
    pub(crate) fn commit(
        &mut self,
        slots: &HashMap<String, std::sync::Arc<Slot>>,
        alternatives: Vec<(String, &'static FnDesc)>,
        code: impl Fn(&'static FnDesc) -> FnRef,
    ) -> Vec<AlternativeGone> {
        let old = std::mem::take(&mut self.choices);
        let mut groups: BTreeMap<String, Vec<FnRef>> = BTreeMap::new();
        for (of, desc) in alternatives {
            groups.entry(of).or_default().push(code(desc));
        }
        for (of, alternatives) in groups {
            // The loader refused a library with an alternative of no function of its own.
            let Some(slot) = slots.get(&of) else { continue };
            let mut impls = vec![live(slot)];
            impls.extend(alternatives);
            let chosen = old
                .get(&of)
                .and_then(|c| {
                    let name = c.chosen_name();
                    impls.iter().position(|i| i.alternative_name() == name)
                })
                .unwrap_or(0);
            if chosen != 0 {
                slot.update(impls[chosen].clone());
            }
            self.choices.insert(of, Choice { impls, chosen });
        }
        let mut gone: Vec<AlternativeGone> = old
            .into_iter()
            .filter(|(_, c)| c.chosen != 0)
            .filter_map(|(function, c)| {
                let now = self.choices.get(&function);
                let kept = now.is_some_and(|n| n.chosen_name() == c.chosen_name());
                let running = slots.get(&function)?.desc()?.alternative_name().to_owned();
                (!kept).then(|| AlternativeGone {
                    gone: c.chosen_name().to_owned(),
                    function,
                    running,
                })
            })
            .collect();
        gone.sort_by(|a, b| a.function.cmp(&b.function));
        gone
    }

    /// The implementations of the function `name` whose slot is `slot`, in order (its own
    /// first).
    pub(crate) fn list(&self, name: &str, slot: &Slot) -> Vec<Alternative> {
        match self.choices.get(name) {
            Some(choice) => choice
                .impls
                .iter()
                .enumerate()
                .map(|(i, f)| Alternative {
                    name: f.alternative_name().to_owned(),
                    chosen: i == choice.chosen,
                })
                .collect(),
            None => vec![Alternative {
                name: live(slot).alternative_name().to_owned(),
                chosen: true,
            }],
        }
    }

    /// Points the slot of the function `name` at its implementation `alternative`.
    pub(crate) fn choose(
        &mut self,
        name: &str,
        slot: &Slot,
        alternative: &str,
    ) -> Result<(), CallError> {
        let Some(choice) = self.choices.get_mut(name) else {
            let own = live(slot).alternative_name().to_owned();
            return if own == alternative {
                Ok(())
            } else {
                Err(no_alternative(name, alternative, vec![own]))
            };
        };
        match choice
            .impls
            .iter()
            .position(|f| f.alternative_name() == alternative)
        {
            Some(index) => {
                slot.update(choice.impls[index].clone());
                choice.chosen = index;
                Ok(())
            }
            None => {
                let known = choice
                    .impls
                    .iter()
                    .map(|f| f.alternative_name().to_owned())
                    .collect();
                Err(no_alternative(name, alternative, known))
            }
        }
    }
}

fn no_alternative(name: &str, alternative: &str, known: Vec<String>) -> CallError {
    CallError::of(
        name,
        CallErrorKind::NoAlternative {
            alternative: alternative.to_owned(),
            known,
        },
    )
}
