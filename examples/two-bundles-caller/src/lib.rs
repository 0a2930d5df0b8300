//! The caller bundle of the two-bundles demo (`examples/two-bundles`): a value that `tick`
//! advances by calling the callee bundle's `next` through an import slot. The value is this
//! bundle's state. Until the callee is loaded the call returns `ImportError::NotLoaded`: the
//! value stays and this bundle runs on; once the callee is loaded, and after every reload of it,
//! the next call runs the callee's current code, without this bundle reloading.

use coo_runtime::plugin::imports::ImportError;
use coo_runtime::{CooType, hot_fn};

coo_runtime::import! {
    from callee {
        fn next(x: i64) -> i64;
    }
}

#[derive(CooType, Debug, Default)]
pub struct Ticker {
    /// The value the callee's `next` advances.
    pub value: i64,
}

#[hot_fn]
pub fn init() -> Ticker {
    Ticker::default()
}

/// One tick: asks the callee for the next value, and says what happened (the demo prints it).
#[hot_fn]
pub fn tick(ticker: &mut Ticker) -> String {
    let before = ticker.value;
    match callee::next(before) {
        Ok(value) => {
            ticker.value = value;
            format!("callee::next({before}) = {value}")
        }
        Err(e @ ImportError::NotLoaded { .. }) => {
            format!("NotLoaded: value stays {before} ({e})")
        }
        Err(e) => format!("value stays {before} ({e})"),
    }
}
