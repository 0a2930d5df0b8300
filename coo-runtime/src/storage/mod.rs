//! The live values Coo owns: one resource per root type ([`state`]), pools addressed by
//! generation-checked handles ([`pool`]), read-only views through descriptors ([`view`]),
//! aligned scratch memory for values under construction ([`scratch`]), and the raw allocation
//! and element dropping every builder of values shares ([`raw`]).

pub mod pool;
pub mod raw;
pub mod scratch;
pub mod state;
pub mod view;
