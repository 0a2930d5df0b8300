//! The greeting demo's plugin: `greet()` returns the greeting and counts how often it was
//! shown. The demo (`examples/greeting`) rewrites the `GREETING` line below when another
//! greeting is chosen, and hot reloads this crate: the greeting changes, the count persists.

use coo_runtime::{CooType, hot_fn};

/// The line the demo rewrites.
pub const GREETING: &str = "Hello, world!";

#[derive(CooType, Debug, Default)]
pub struct Greeter {
    /// How many greetings were shown, by every version.
    pub shown: u64,
}

#[hot_fn]
pub fn init() -> Greeter {
    Greeter::default()
}

#[hot_fn]
pub fn greet(greeter: &mut Greeter) -> String {
    greeter.shown += 1;
    format!("{GREETING} (greeting #{})", greeter.shown)
}
