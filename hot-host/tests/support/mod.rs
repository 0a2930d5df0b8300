//! Fixture plugin crates for the builder and loader tests: real crates under
//! `<workspace>/tests/fixtures`, built by real cargo into one shared target dir.

#![allow(dead_code)] // each test binary uses part of it

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hot_host::{BuildOutput, Builder};

pub mod running;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("hot-host is a workspace member")
        .to_path_buf()
}

/// The one target dir every fixture build shares, so that `coo-runtime` and its dependencies
/// compile once. A directory of its own, never the outer build's: the nested cargo would wait
/// on the lock that the `cargo test` running us holds.
pub fn fixtures_target_dir() -> PathBuf {
    workspace().join("target").join("coo-fixtures")
}

/// A fixture plugin crate's directory.
pub fn fixture(name: &str) -> PathBuf {
    workspace().join("tests").join("fixtures").join(name)
}

pub fn builder(plugin_dir: &Path) -> Builder {
    Builder::new(plugin_dir).with_target_dir(fixtures_target_dir())
}

/// `minimal-plugin`, built once per test binary.
pub fn minimal_plugin() -> &'static BuildOutput {
    static BUILT: OnceLock<BuildOutput> = OnceLock::new();
    BUILT.get_or_init(|| {
        builder(&fixture("minimal-plugin"))
            .build()
            .unwrap_or_else(|e| panic!("minimal-plugin does not build: {e}"))
    })
}

/// A copy of `minimal-plugin` in a temporary directory, renamed `name`, its `coo-runtime`
/// dependency pointed back at the workspace's, and `edit` applied to its manifest text.
pub fn variant(name: &str, lib_rs: &str, edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let src = fixture("minimal-plugin");
    let dir = tempfile::Builder::new()
        .prefix(name)
        .tempdir()
        .expect("temp dir");
    let runtime = workspace().join("coo-runtime");
    let manifest = fs::read_to_string(src.join("Cargo.toml"))
        .unwrap()
        .replace("name = \"minimal-plugin\"", &format!("name = \"{name}\""))
        .replace(
            "path = \"../../../coo-runtime\"",
            &format!("path = {:?}", runtime.display().to_string()),
        );
    assert!(manifest.contains(&format!("name = \"{name}\"")));
    fs::write(dir.path().join("Cargo.toml"), edit(manifest)).unwrap();
    // The same lock file, so that dependencies resolve to what is already built.
    fs::copy(src.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    fs::create_dir(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), lib_rs).unwrap();
    dir
}

/// A crate in a temporary directory with no dependencies: `[lib] crate-type = ["cdylib"]` and
/// `lib_rs`. For libraries that forge or lack a Coo header.
pub fn bare_cdylib(name: &str, lib_rs: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(name)
        .tempdir()
        .expect("temp dir");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n"
    );
    fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    fs::create_dir(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), lib_rs).unwrap();
    dir
}

/// The source of a library exporting a hand-made `coo_plugin_header` with these fields (the
/// layout of `coo_runtime::plugin::PluginHeader`, ABI version 2, with this host's fingerprint and
/// panic strategy `unwind`) and a null manifest.
pub fn forged_header(magic: &[u8; 8], abi_version: u32, rustc: &str, runtime: &str) -> String {
    forged_header_with(
        magic,
        abi_version,
        coo_runtime::plugin::ABI_FINGERPRINT,
        rustc,
        runtime,
        "unwind",
    )
}

/// [`forged_header`] with every field chosen.
pub fn forged_header_with(
    magic: &[u8; 8],
    abi_version: u32,
    fingerprint: [u8; 16],
    rustc: &str,
    runtime: &str,
    panic: &str,
) -> String {
    format!(
        r#"
#[repr(C)]
pub struct StrRef {{ ptr: *const u8, len: usize }}

#[repr(C)]
pub struct Header {{
    magic: [u8; 8],
    abi_version: u32,
    fingerprint: [u8; 16],
    rustc_version: StrRef,
    runtime_version: StrRef,
    panic_strategy: StrRef,
    manifest: extern "C" fn() -> *const u8,
}}

unsafe impl Sync for Header {{}}

const RUSTC: &str = {rustc:?};
const RUNTIME: &str = {runtime:?};
const PANIC: &str = {panic:?};

static HEADER: Header = Header {{
    magic: {magic:?},
    abi_version: {abi_version},
    fingerprint: {fingerprint:?},
    rustc_version: StrRef {{ ptr: RUSTC.as_ptr(), len: RUSTC.len() }},
    runtime_version: StrRef {{ ptr: RUNTIME.as_ptr(), len: RUNTIME.len() }},
    panic_strategy: StrRef {{ ptr: PANIC.as_ptr(), len: PANIC.len() }},
    manifest: no_manifest,
}};

extern "C" fn no_manifest() -> *const u8 {{
    core::ptr::null()
}}

#[unsafe(no_mangle)]
pub extern "C" fn coo_plugin_header() -> *const Header {{
    &HEADER
}}
"#
    )
}

/// A copy of `tests/fixtures/<fixture>` in a temporary directory, as package `name` (unique per
/// test: every test's builds share one target dir, where artifacts are named after the package),
/// its `coo-runtime` dependency pointed back at the workspace's.
pub fn copy_fixture(fixture_name: &str, name: &str) -> tempfile::TempDir {
    let src = fixture(fixture_name);
    let dir = tempfile::Builder::new()
        .prefix(name)
        .tempdir()
        .expect("temp dir");
    let runtime = workspace().join("coo-runtime");
    let rename = |text: String| {
        text.replace(
            &format!("name = \"{fixture_name}\""),
            &format!("name = \"{name}\""),
        )
    };
    let manifest = rename(fs::read_to_string(src.join("Cargo.toml")).unwrap()).replace(
        "path = \"../../../coo-runtime\"",
        &format!("path = {:?}", runtime.display().to_string()),
    );
    fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    let lock = rename(fs::read_to_string(src.join("Cargo.lock")).unwrap());
    fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
    fs::create_dir(dir.path().join("src")).unwrap();
    fs::copy(src.join("src/lib.rs"), dir.path().join("src/lib.rs")).unwrap();
    dir
}

/// `hot-host run <plugin_dir> --target-dir <fixtures target dir> <args>` as a child process, its
/// standard output and error read line by line on threads of their own.
pub struct HostProcess {
    pub child: std::process::Child,
    pub stdin: std::process::ChildStdin,
    pub out: std::sync::mpsc::Receiver<String>,
    pub err: std::sync::mpsc::Receiver<String>,
}

pub fn run_host(plugin_dir: &Path, args: &[&std::ffi::OsStr]) -> HostProcess {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_hot-host"))
        .arg("run")
        .arg(plugin_dir)
        .arg("--target-dir")
        .arg(fixtures_target_dir())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hot-host starts");
    HostProcess {
        stdin: child.stdin.take().unwrap(),
        out: lines(child.stdout.take().unwrap()),
        err: lines(child.stderr.take().unwrap()),
        child,
    }
}

/// The lines of `stream`, as they come.
fn lines(stream: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
