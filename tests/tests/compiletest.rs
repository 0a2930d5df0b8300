//! Compile tests of `#[derive(CooType)]` and `#[hot_fn]` (`ui/hot_fn_*`, `ui-pass/hot_fn_*`): every
//! error they report (`ui/`, each with the expected `.stderr`) and inputs they must accept
//! (`ui-pass/`).
//!
//! The `.stderr` files are user-facing text and depend on the exact compiler (pinned in
//! `rust-toolchain.toml`). Refresh them with `TRYBUILD=overwrite cargo test -p coo-tests --test
//! compiletest`, then read every diff.

#[test]
#[cfg_attr(
    miri,
    ignore = "runs the compiler on the UI cases: process spawning, which Miri cannot run"
)]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}
