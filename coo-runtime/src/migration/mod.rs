//! Carrying live values from one version of the types to the next, in three stages:
//! [`diff`] says what changed (data, no decisions), [`plan`] turns that into a total list of
//! actions per value or reports every reason there is none (reads descriptors only), and
//! [`execute`] builds the new values in new storage without touching the old ones. [`casts`]
//! holds the rules for converting one primitive type into another.

pub mod casts;
pub mod diff;
pub mod execute;
pub mod plan;
