//! Building a plugin crate with cargo.
//!
//! [`Builder::build`] runs `cargo build --lib --message-format=json-render-diagnostics` on the
//! plugin's manifest and reads cargo's JSON messages from stdout: the `compiler-artifact` of the
//! plugin package's `cdylib` gives the library to load, and `build-finished` says whether the
//! build succeeded. With `json-render-diagnostics` cargo renders the compiler's diagnostics
//! itself, as a terminal would show them, on stderr; they are captured and handed back whole in
//! [`BuildError::Compile`].
//!
//! # Where the plugin is built
//!
//! By default in `<plugin_dir>/target/coo`, never in the host's own target directory. Cargo
//! locks a target directory for the whole of a build, so a nested cargo sharing it waits for
//! every other build there: an editor's `cargo check` on save (rust-analyzer uses the same
//! directory unless told otherwise), a `cargo watch` rebuilding the host, and, with no end, the
//! outer build itself when the builder runs inside it (from a build script, say). A reload must
//! never wait on the host's build. (`cargo test` releases the lock before it runs the test
//! binaries, as was checked, so a test run is not what this guards against.) A directory
//! of its own also keeps the plugin's artifacts from replacing the host's in `target/debug`.
//! [`Builder::with_target_dir`] overrides it; tests share one directory between fixtures so
//! that their common dependencies compile once.
//!
//! # The nested cargo's environment
//!
//! A host is often itself run by cargo (`cargo run`, `cargo test`), and cargo leaves variables
//! behind that describe *that* build. [`Builder::build`] removes those that would make the
//! nested build read the outer one's settings instead of its own; see [`REMOVED_ENV`] and
//! [`REMOVED_ENV_PREFIXES`] for each with the reason. It sets `CARGO_BUILD_BUILD_DIR` to the
//! target dir, so that no outer setting sends intermediate artifacts to the host's. It keeps what the user chose for every
//! build (`RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`, `RUSTC`, `RUSTC_WRAPPER` such as sccache,
//! `CARGO_HOME`, `RUSTUP_TOOLCHAIN`, `CARGO_BUILD_JOBS`, …): those apply to the plugin as they
//! did to the host, and the toolchain must stay the host's for the plugin's header to match.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Variables removed from the nested cargo's environment, each with why.
pub const REMOVED_ENV: &[(&str, &str)] = &[
    (
        "CARGO_TARGET_DIR",
        "the outer build's target dir: building there would wait on its lock",
    ),
    (
        "CARGO_BUILD_TARGET_DIR",
        "the same setting through cargo's config variables",
    ),
    (
        "CARGO_MANIFEST_DIR",
        "describes the outer package; build scripts and proc macros of the plugin could read it",
    ),
    ("CARGO_MANIFEST_PATH", "describes the outer package"),
    ("CARGO_PRIMARY_PACKAGE", "describes the outer package"),
    ("CARGO_CRATE_NAME", "describes the outer crate"),
    ("CARGO_BIN_NAME", "describes the outer binary"),
    ("CARGO_TARGET_TMPDIR", "a directory of the outer build"),
    ("OUT_DIR", "the outer build script's output dir"),
    (
        "CARGO_MAKEFLAGS",
        "the outer cargo's jobserver, whose file descriptors the nested cargo may not have",
    ),
    (
        "MAKEFLAGS",
        "a make jobserver the nested cargo may not reach",
    ),
    ("MFLAGS", "a make jobserver the nested cargo may not reach"),
];

/// Prefixes of variables removed from the nested cargo's environment, each with why.
pub const REMOVED_ENV_PREFIXES: &[(&str, &str)] = &[
    (
        "CARGO_PKG_",
        "describe the outer package; those cargo does not set again would leak into the plugin",
    ),
    (
        "CARGO_FEATURE_",
        "the outer build script's features: a plugin's build script would think them enabled",
    ),
    (
        "CARGO_CFG_",
        "the outer build script's target cfg, read by a plugin's build script",
    ),
];

/// Whether `name` is removed from the nested cargo's environment.
pub fn is_removed_env(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    REMOVED_ENV.iter().any(|(removed, _)| *removed == name)
        || REMOVED_ENV_PREFIXES
            .iter()
            .any(|(prefix, _)| name.starts_with(prefix))
}

/// The cargo profile a plugin is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// `dev`: what `cargo build` builds; the fast edit-build-reload loop.
    #[default]
    Dev,
    /// `release`: `cargo build --release`.
    Release,
}

/// Builds one plugin crate with cargo.
#[derive(Debug, Clone)]
pub struct Builder {
    plugin_dir: PathBuf,
    target_dir: PathBuf,
    profile: Profile,
    cargo: PathBuf,
    color: bool,
}

/// A successful build.
#[derive(Debug, Clone)]
pub struct BuildOutput {
    /// The plugin's dynamic library, in the target dir (load a copy of it, see `loader`).
    pub dylib: PathBuf,
    /// Wall-clock time of the cargo run.
    pub duration: Duration,
    /// Whether cargo found the library up to date and did not rebuild it.
    pub fresh: bool,
}

/// Why a plugin could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("`{}` is not a plugin crate: it has no `Cargo.toml`", dir.display())]
    NoManifest { dir: PathBuf },
    #[error("could not run cargo (`{}`): {source}", cargo.display())]
    Spawn {
        cargo: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("could not read cargo's output: {0}")]
    Io(#[source] io::Error),
    /// The build ran and failed: `rendered` holds the compiler's diagnostics as cargo rendered
    /// them (with ANSI colors when [`Builder::color`] asked for them).
    #[error("the plugin failed to compile:\n{rendered}")]
    Compile { rendered: String },
    /// Cargo stopped before building (a bad manifest, a dependency that does not resolve, …).
    #[error("cargo failed ({status}):\n{stderr}")]
    Cargo { status: ExitStatus, stderr: String },
    #[error(
        "cargo built no cdylib for `{}`: add `crate-type = [\"cdylib\", \"rlib\"]` to the [lib] section of its Cargo.toml",
        manifest.display()
    )]
    NoCdylib { manifest: PathBuf },
}

impl Builder {
    /// A dev-profile builder for the crate in `plugin_dir`, building into
    /// `<plugin_dir>/target/coo` (see the [module docs](self) for why not the host's target dir)
    /// with the cargo of `$CARGO` (the one running us, under `cargo run`/`cargo test`) or else
    /// `cargo` from `PATH`.
    pub fn new(plugin_dir: impl Into<PathBuf>) -> Builder {
        let plugin_dir = plugin_dir.into();
        let target_dir = plugin_dir.join("target").join("coo");
        let cargo = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("cargo"));
        Builder {
            plugin_dir,
            target_dir,
            profile: Profile::Dev,
            cargo,
            color: false,
        }
    }

    /// Builds into `target_dir` instead. Never pass the host's own target dir: the nested cargo
    /// would wait on the outer build's lock.
    pub fn with_target_dir(mut self, target_dir: impl Into<PathBuf>) -> Builder {
        self.target_dir = target_dir.into();
        self
    }

    /// Builds with `profile`.
    pub fn profile(mut self, profile: Profile) -> Builder {
        self.profile = profile;
        self
    }

    /// Runs this cargo binary.
    pub fn with_cargo(mut self, cargo: impl Into<PathBuf>) -> Builder {
        self.cargo = cargo.into();
        self
    }

    /// Renders diagnostics with ANSI colors (`--color always`), for showing them on a terminal.
    /// Off by default: `--color never`, plain text.
    pub fn color(mut self, color: bool) -> Builder {
        self.color = color;
        self
    }

    pub fn plugin_dir(&self) -> &Path {
        &self.plugin_dir
    }

    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// The plugin's `Cargo.toml`.
    pub fn manifest_path(&self) -> PathBuf {
        self.plugin_dir.join("Cargo.toml")
    }

    /// The cargo command [`build`](Builder::build) runs, environment cleaned. It runs in the
    /// plugin's directory, as `cd <plugin_dir> && cargo build` would: cargo reads
    /// `.cargo/config.toml` from the directory it runs in, not from the manifest's.
    pub fn command(&self) -> Command {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let target_dir = absolute(&self.target_dir);
        let mut cmd = Command::new(&self.cargo);
        cmd.current_dir(&self.plugin_dir)
            .arg("build")
            .arg("--manifest-path")
            .arg(absolute(&self.manifest_path()))
            .arg("--lib")
            .arg("--message-format=json-render-diagnostics")
            .arg("--target-dir")
            .arg(&target_dir)
            .arg("--color")
            .arg(if self.color { "always" } else { "never" });
        if self.profile == Profile::Release {
            cmd.arg("--release");
        }
        for (name, _) in std::env::vars_os() {
            if is_removed_env(&name) {
                cmd.env_remove(name);
            }
        }
        // Intermediate artifacts go to the target dir too (cargo's default), whatever an outer
        // `CARGO_BUILD_BUILD_DIR` or a `build.build-dir` in a `.cargo/config.toml` above the
        // plugin says: they would share the host's build dir, and its lock.
        cmd.env("CARGO_BUILD_BUILD_DIR", &target_dir);
        cmd
    }

    /// Builds the plugin and finds its dynamic library.
    pub fn build(&self) -> Result<BuildOutput, BuildError> {
        let manifest = self.manifest_path();
        if !manifest.is_file() {
            return Err(BuildError::NoManifest {
                dir: self.plugin_dir.clone(),
            });
        }
        // Cargo reports `manifest_path` canonical; compare like with like.
        let manifest = manifest.canonicalize().unwrap_or(manifest);

        let start = Instant::now();
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| BuildError::Spawn {
                cargo: self.cargo.clone(),
                source,
            })?;

        // Read stderr on its own thread: a pipe left unread fills up and blocks cargo.
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            stderr_pipe.read_to_end(&mut bytes).map(|_| bytes)
        });

        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut messages = Messages::default();
        let mut read_error = None;
        for line in stdout.lines() {
            match line {
                Ok(line) => messages.read_line(&line, &manifest),
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        let status = child.wait().map_err(BuildError::Io)?;
        let stderr = stderr_reader
            .join()
            .expect("the stderr reader does not panic")
            .map_err(BuildError::Io)?;
        if let Some(e) = read_error {
            return Err(BuildError::Io(e));
        }
        let duration = start.elapsed();
        let stderr = String::from_utf8_lossy(&stderr).into_owned();

        match messages.finished {
            Some(true) if status.success() => {}
            // The build ran: its failure is the compiler's (or a build script's).
            Some(_) => {
                return Err(BuildError::Compile {
                    rendered: diagnostics(&stderr),
                });
            }
            None if status.success() => {}
            None => return Err(BuildError::Cargo { status, stderr }),
        }
        match messages.cdylib {
            Some((dylib, fresh)) => Ok(BuildOutput {
                dylib,
                duration,
                fresh,
            }),
            None => Err(BuildError::NoCdylib { manifest }),
        }
    }
}

/// What the build's JSON messages said.
#[derive(Debug, Default)]
struct Messages {
    /// The plugin's dylib and whether it was fresh.
    cdylib: Option<(PathBuf, bool)>,
    /// `build-finished.success`.
    finished: Option<bool>,
}

impl Messages {
    fn read_line(&mut self, line: &str, manifest: &Path) {
        // Build scripts may print to stdout too: anything not JSON is not a message.
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            return;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") if is_plugin_cdylib(&message, manifest) => {
                let dylib = message["filenames"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .find(|f| f.ends_with(std::env::consts::DLL_SUFFIX));
                if let Some(dylib) = dylib {
                    let fresh = message["fresh"].as_bool().unwrap_or(false);
                    self.cdylib = Some((PathBuf::from(dylib), fresh));
                }
            }
            Some("build-finished") => self.finished = message["success"].as_bool(),
            _ => {}
        }
    }
}

/// Whether a `compiler-artifact` message is the `cdylib` of the package whose manifest is
/// `manifest` (a plugin's dependencies may build cdylibs of their own).
fn is_plugin_cdylib(message: &Value, manifest: &Path) -> bool {
    let is_cdylib = message["target"]["kind"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
    if !is_cdylib {
        return false;
    }
    if let Some(path) = message["manifest_path"].as_str() {
        let path = Path::new(path);
        return path == manifest || path.canonicalize().is_ok_and(|p| p == manifest);
    }
    // Cargo before `manifest_path` was reported: a path package's id names its directory,
    // `path+file:///dir#0.1.0` (or the older `name 0.1.0 (path+file:///dir)`).
    let (Some(id), Some(dir)) = (message["package_id"].as_str(), manifest.parent()) else {
        return false;
    };
    let dir = format!("path+file://{}", dir.display());
    id.split(['(', ')', ' '])
        .any(|part| part == dir || part.starts_with(&format!("{dir}#")))
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Dev => "dev",
            Profile::Release => "release",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "/plugins/demo/Cargo.toml";

    fn artifact(manifest: &str, kinds: &[&str], filenames: &[&str], fresh: bool) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": format!("path+file://{}#0.1.0", Path::new(manifest).parent().unwrap().display()),
            "manifest_path": manifest,
            "target": { "kind": kinds, "crate_types": kinds, "name": "demo" },
            "filenames": filenames,
            "fresh": fresh,
        })
        .to_string()
    }

    fn dylib(name: &str) -> String {
        format!(
            "/t/debug/{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    }

    #[test]
    fn finds_the_plugins_cdylib_among_other_artifacts() {
        let mut m = Messages::default();
        let ours = dylib("demo");
        let other = dylib("dep");
        for line in [
            "not json, a build script's println".to_owned(),
            artifact("/deps/dep/Cargo.toml", &["cdylib"], &[&other], false),
            artifact(
                MANIFEST,
                &["cdylib", "rlib"],
                &["/t/debug/libdemo.rlib", &ours],
                true,
            ),
            r#"{"reason":"build-finished","success":true}"#.to_owned(),
        ] {
            m.read_line(&line, Path::new(MANIFEST));
        }
        assert_eq!(m.cdylib, Some((PathBuf::from(ours), true)));
        assert_eq!(m.finished, Some(true));
    }

    #[test]
    fn an_rlib_only_plugin_has_no_cdylib() {
        let mut m = Messages::default();
        m.read_line(
            &artifact(MANIFEST, &["lib"], &["/t/debug/libdemo.rlib"], false),
            Path::new(MANIFEST),
        );
        assert_eq!(m.cdylib, None);
    }

    #[test]
    fn old_style_package_ids_match_by_directory() {
        let mut message: Value =
            serde_json::from_str(&artifact(MANIFEST, &["cdylib"], &[], false)).unwrap();
        message.as_object_mut().unwrap().remove("manifest_path");
        assert!(is_plugin_cdylib(&message, Path::new(MANIFEST)));
        message["package_id"] = "demo 0.1.0 (path+file:///plugins/demo)".into();
        assert!(is_plugin_cdylib(&message, Path::new(MANIFEST)));
        message["package_id"] = "path+file:///plugins/demo-two#0.1.0".into();
        assert!(!is_plugin_cdylib(&message, Path::new(MANIFEST)));
    }

    #[test]
    fn leaked_outer_build_variables_are_removed() {
        for name in [
            "CARGO_TARGET_DIR",
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_FEATURE_STD",
            "CARGO_MAKEFLAGS",
        ] {
            assert!(is_removed_env(OsStr::new(name)), "{name}");
        }
        for name in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTC_WRAPPER",
            "CARGO_HOME",
            "RUSTUP_TOOLCHAIN",
            "PATH",
        ] {
            assert!(!is_removed_env(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    #[cfg(unix)] // Unix paths
    fn the_command_builds_the_plugin_lib_into_the_target_dir() {
        let b = Builder::new("/plugins/demo")
            .with_target_dir("/t")
            .profile(Profile::Release);
        let cmd = b.command();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "build",
                "--manifest-path",
                "/plugins/demo/Cargo.toml",
                "--lib",
                "--message-format=json-render-diagnostics",
                "--target-dir",
                "/t",
                "--color",
                "never",
                "--release",
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/plugins/demo")));
        let build_dir = cmd
            .get_envs()
            .find(|(k, _)| *k == "CARGO_BUILD_BUILD_DIR")
            .and_then(|(_, v)| v);
        assert_eq!(build_dir, Some(OsStr::new("/t")));
    }

    #[test]
    fn the_default_target_dir_is_inside_the_plugin() {
        let b = Builder::new("/plugins/demo");
        assert_eq!(b.target_dir(), Path::new("/plugins/demo/target/coo"));
        let b = b.with_target_dir("/elsewhere");
        assert_eq!(b.target_dir(), Path::new("/elsewhere"));
    }
}

/// Cargo's stderr without its progress chatter ("Blocking waiting for file lock", "Compiling
/// x"): what remains is the compiler's rendered diagnostics and cargo's own error lines.
fn diagnostics(stderr: &str) -> String {
    let chatter = |line: &str| {
        let plain = strip_ansi(line);
        let word = plain.trim_start().split(' ').next().unwrap_or("");
        plain.starts_with(' ')
            && matches!(
                word,
                "Blocking"
                    | "Compiling"
                    | "Checking"
                    | "Fresh"
                    | "Building"
                    | "Updating"
                    | "Locking"
            )
    };
    let mut out: String = stderr
        .lines()
        .filter(|l| !chatter(l))
        .collect::<Vec<_>>()
        .join("\n");
    if stderr.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI sequences: ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod diagnostics_tests {
    use super::diagnostics;

    #[test]
    fn progress_chatter_is_dropped_and_diagnostics_kept() {
        let stderr = "    Blocking waiting for file lock on package cache\n   Compiling p v0.1.0 (/x)\n\
                      error[E0308]: mismatched types\n  --> src/lib.rs:1:1\n\x1b[1m\x1b[32m   Compiling\x1b[0m q\n";
        assert_eq!(
            diagnostics(stderr),
            "error[E0308]: mismatched types\n  --> src/lib.rs:1:1\n"
        );
    }
}
