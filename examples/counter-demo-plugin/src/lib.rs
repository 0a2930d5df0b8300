//! The counter demo's plugin: one `Counter`, advanced by `change()` every tick. `change` has
//! four alternative implementations (A/B): the demo's keys 1–5 choose which one its slot runs,
//! live, while the count carries on. Edit a body and save: the demo reloads it, and the count
//! and the choice persist.

use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug, Default)]
pub struct Counter {
    pub count: i64,
}

#[hot_fn]
pub fn init() -> Counter {
    Counter::default()
}

/// Key 1: +1.
#[hot_fn]
pub fn change(counter: &mut Counter) {
    counter.count += 1;
}

/// Key 2: +10.
#[hot_fn(alt_of = "change", name = "plus10")]
pub fn plus_ten(counter: &mut Counter) {
    counter.count += 10;
}

/// Key 3: ×2.
#[hot_fn(alt_of = "change", name = "times2")]
pub fn times_two(counter: &mut Counter) {
    counter.count = counter.count.saturating_mul(2);
}

/// Key 4: −5.
#[hot_fn(alt_of = "change", name = "minus5")]
pub fn minus_five(counter: &mut Counter) {
    counter.count -= 5;
}

/// Key 5: back to zero.
#[hot_fn(alt_of = "change", name = "reset")]
pub fn reset(counter: &mut Counter) {
    counter.count = 0;
}

#[hot_fn]
pub fn count(counter: &Counter) -> i64 {
    counter.count
}
