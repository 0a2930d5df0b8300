//! Records what the plugin header carries about this build of `coo-runtime`:
//!
//! - the compiler version: host and plugin must be built by the same compiler for their
//!   Rust-layout descriptors to agree;
//! - the ABI fingerprint: a hash of the sources of this crate and of `coo-derive`, so that a
//!   host and a plugin built from different sources of the same version (coo-runtime edited
//!   while `hot-host run` watches a plugin, a patched copy, a git dependency at another commit)
//!   refuse each other instead of reading each other's descriptors with the wrong layout.
//!
//! The fingerprint is deliberately coarse: any change to any source file, even a comment,
//! changes it. A false "different" costs a rebuild; a false "same" would be silent corruption.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// FNV-1a, 128 bits: stable across compilers and platforms (unlike `DefaultHasher`), and plenty
/// against accidental collisions, which is all this guards against.
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A length-prefixed field, so that no two sequences of fields hash the same stream.
    fn field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }
}

/// Every `.rs` file under `dir`, as (path relative to `dir` with `/` separators, full path).
fn rust_files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let entry = entry.expect("a readable source directory");
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel = format!("{prefix}/{name}");
        if path.is_dir() {
            rust_files(&path, &rel, out);
        } else if name.ends_with(".rs") {
            out.push((rel, path));
        }
    }
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(&rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown rustc".to_owned());
    println!("cargo:rustc-env=COO_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");

    // The sources whose types and conventions cross the plugin boundary: this crate's (the
    // descriptors, the manifest, the header, the shim convention) and, when it sits next to
    // this crate as in the Coo workspace, `coo-derive`'s (the code it generates fills them in).
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    let runtime_src = manifest_dir.join("src");
    rust_files(&runtime_src, "coo-runtime/src", &mut files);
    println!("cargo:rerun-if-changed={}", runtime_src.display());
    let derive_src = manifest_dir.join("../coo-derive/src");
    if derive_src.is_dir() {
        rust_files(&derive_src, "coo-derive/src", &mut files);
        println!("cargo:rerun-if-changed={}", derive_src.display());
    }
    assert!(
        !files.is_empty(),
        "coo-runtime's build script found no sources"
    );
    files.sort();
    let mut hash = Fnv128(Fnv128::OFFSET);
    for (rel, path) in &files {
        hash.field(rel.as_bytes());
        hash.field(&fs::read(path).expect("a readable source file"));
    }
    let bytes = hash.0.to_be_bytes();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    fs::write(
        out.join("abi_fingerprint.rs"),
        format!("pub const ABI_FINGERPRINT: [u8; 16] = {bytes:?};\n"),
    )
    .expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");
}
