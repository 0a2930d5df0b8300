//! Fixture plugin crates for the end-to-end tests: real crates under `tests/fixtures`, copied to
//! a temporary directory, edited there and built by real cargo into one shared target dir.

#![allow(dead_code)] // each test binary uses part of it

use std::fs;
use std::path::{Path, PathBuf};

use hot_host::{Builder, Host};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is a workspace member")
        .to_path_buf()
}

/// The one target dir every fixture build shares (with hot-host's own tests), so `coo-runtime`
/// and its dependencies compile once; never the outer build's own target dir, whose lock the
/// running `cargo test` may hold.
pub fn fixtures_target_dir() -> PathBuf {
    workspace().join("target").join("coo-fixtures")
}

/// A plugin crate copied from `tests/fixtures/<fixture>` into a temporary directory.
#[derive(Debug)]
pub struct Plugin {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl Plugin {
    /// Copies the fixture under the package name `name` (unique per test: builds of every test
    /// share one target dir, where artifacts are named after the package).
    pub fn copy(fixture: &str, name: &str) -> Plugin {
        let src = workspace().join("tests").join("fixtures").join(fixture);
        let dir = tempfile::Builder::new()
            .prefix(name)
            .tempdir()
            .expect("temp dir");
        let runtime = workspace().join("coo-runtime");
        let manifest = fs::read_to_string(src.join("Cargo.toml"))
            .unwrap()
            .replace(
                &format!("name = \"{fixture}\""),
                &format!("name = \"{name}\""),
            )
            .replace(
                "path = \"../../../coo-runtime\"",
                &format!("path = {:?}", runtime.display().to_string()),
            )
            // A crate beside it that it depends on (`host-objects-shared`), where it is.
            .replace(
                "path = \"../",
                &format!("path = \"{}/", src.parent().unwrap().display()),
            );
        assert!(manifest.contains(&format!("name = \"{name}\"")));
        fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        let lock = fs::read_to_string(src.join("Cargo.lock")).unwrap().replace(
            &format!("name = \"{fixture}\""),
            &format!("name = \"{name}\""),
        );
        fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
        fs::create_dir(dir.path().join("src")).unwrap();
        fs::copy(src.join("src/lib.rs"), dir.path().join("src/lib.rs")).unwrap();
        Plugin {
            dir,
            name: name.to_owned(),
        }
    }

    /// Gives the plugin a copy of its own of the crate `tests/fixtures/<shared>` it depends on
    /// (in `<plugin>/<shared>`), to edit as a user edits a crate that the host and the plugin
    /// share; the host (the test binary) keeps the original's definitions.
    pub fn with_own_copy_of(self, shared: &str) -> Plugin {
        let src = workspace().join("tests").join("fixtures").join(shared);
        let dest = self.path().join(shared);
        fs::create_dir_all(dest.join("src")).unwrap();
        let runtime = workspace().join("coo-runtime");
        let manifest = fs::read_to_string(src.join("Cargo.toml")).unwrap().replace(
            "path = \"../../../coo-runtime\"",
            &format!("path = {:?}", runtime.display().to_string()),
        );
        fs::write(dest.join("Cargo.toml"), manifest).unwrap();
        fs::copy(src.join("src/lib.rs"), dest.join("src/lib.rs")).unwrap();
        let original = format!("path = \"{}\"", src.display());
        let text = fs::read_to_string(self.path().join("Cargo.toml")).unwrap();
        assert!(
            text.contains(&original),
            "the plugin does not depend on {shared}"
        );
        let text = text.replace(&original, &format!("path = \"{shared}\""));
        fs::write(self.path().join("Cargo.toml"), text).unwrap();
        self
    }

    /// Replaces each `(old, new)` in `<plugin>/<shared>/src/lib.rs` (see
    /// [`Plugin::with_own_copy_of`]); every `old` must occur.
    pub fn edit_shared(&self, shared: &str, replacements: &[(&str, &str)]) {
        let path = self.path().join(shared).join("src/lib.rs");
        let mut text = fs::read_to_string(&path).unwrap();
        for (old, new) in replacements {
            assert!(text.contains(old), "{shared} has no {old:?}");
            text = text.replacen(old, new, 1);
        }
        fs::write(path, text).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn source(&self) -> String {
        fs::read_to_string(self.path().join("src/lib.rs")).unwrap()
    }

    pub fn write_source(&self, text: &str) {
        fs::write(self.path().join("src/lib.rs"), text).unwrap();
    }

    /// Replaces each `(old, new)` in the source; every `old` must occur.
    pub fn edit(&self, replacements: &[(&str, &str)]) {
        let mut text = self.source();
        for (old, new) in replacements {
            assert!(text.contains(old), "the source has no {old:?}");
            text = text.replacen(old, new, 1);
        }
        self.write_source(&text);
    }

    pub fn builder(&self) -> Builder {
        Builder::new(self.path()).with_target_dir(fixtures_target_dir())
    }

    /// A host with the plugin loaded and `init` called.
    pub fn host(&self) -> Host {
        let mut host = Host::with_builder(self.builder());
        host.reload()
            .unwrap_or_else(|e| panic!("{} does not load: {e}", self.name));
        if host.resolve("init").is_ok() {
            host.call_by_name("init", &[]).expect("init runs");
        }
        host
    }
}
