//! Compile tests of `#[derive(CooType)]`: every error it reports (`ui/`, each with the expected
//! `.stderr`) and inputs it must accept (`ui-pass/`).
//!
//! The `.stderr` files are user-facing text and depend on the exact compiler (pinned in
//! `rust-toolchain.toml`). Refresh them with `TRYBUILD=overwrite cargo test -p coo-tests --test
//! compiletest`, then read every diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}
