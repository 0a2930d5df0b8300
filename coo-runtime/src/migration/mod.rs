//! Carrying live values from one version of the types to the next, in three stages:
//! [`diff`] says what changed (typed data, no decisions), [`plan`] is a total list of actions
//! per value, which the [`planner`] makes from the diff or reports every [`problem`] that stops
//! it (reading descriptors only), and [`execute`] builds the new values in new storage without
//! touching the old ones. [`casts`] holds the rules for converting one primitive type into
//! another.

pub mod casts;
mod conversion;
pub mod diff;
pub mod execute;
pub mod plan;
pub mod planner;
pub mod problem;
mod unchanged;
