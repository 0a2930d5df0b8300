//! The README's programs are the ones the tests compile.

use std::path::Path;

#[test]
fn the_readme_shows_the_typed_calls_example_as_compiled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/typed_calls.rs")).unwrap();
    let (_, shown) = example.split_once("// README: begin\n").unwrap();
    let (shown, _) = shown.split_once("// README: end\n").unwrap();
    assert!(
        readme.contains(&format!("```rust\n{shown}```\n")),
        "README.md must show hot-host/examples/typed_calls.rs between its README markers, as it is"
    );
}

#[test]
fn the_readme_shows_the_release_switch_declaration_as_compiled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).unwrap();
    let example =
        std::fs::read_to_string(root.join("../examples/release-switch/src/main.rs")).unwrap();
    let (_, shown) = example.split_once("// README: begin\n").unwrap();
    let (shown, _) = shown.split_once("// README: end\n").unwrap();
    assert!(
        readme.contains(&format!("```rust\n{shown}```\n")),
        "README.md must show examples/release-switch/src/main.rs between its README markers, as it is"
    );
}
