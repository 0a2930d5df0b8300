//! Building a plugin crate with cargo.
//!
//! [`Builder::build`] runs `cargo build --lib --message-format=json-diagnostic-rendered-ansi` on
//! the plugin's manifest, as bacon does, and reads cargo's JSON messages from stdout as typed
//! [`cargo_metadata::Message`]s (in `messages.rs`): the `compiler-artifact` of the plugin
//! package's `cdylib` gives the library to load, `build-finished` says whether the build succeeded, and
//! each `compiler-message` carries a diagnostic as rustc rendered it, with its ANSI styles
//! (removed by [`anstream`] unless [`Builder::color`] asks for them). The diagnostics of a failed
//! build are handed back whole in [`BuildError::Compile`], the warnings of a successful one in
//! [`BuildOutput::warnings`]. Cargo's status lines on stderr (`Compiling …`, `Finished …`,
//! `Blocking waiting for file lock …`) are its progress: [`Builder::build_with`] passes each
//! to the caller as it comes, as a [`BuildEvent`].
//!
//! [`metadata`] runs `cargo metadata` on a plugin crate the same way.
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

mod messages;
pub mod metadata;

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use cargo_metadata::Message;

pub use messages::BuildEvent;
use messages::Messages;

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
///
/// Clones share the record of the [`last_warnings`](Builder::last_warnings): a dev loop builds
/// on a clone on a thread of its own, and its `warnings` command reads the host's builder.
#[derive(Debug, Clone)]
pub struct Builder {
    plugin_dir: PathBuf,
    target_dir: PathBuf,
    profile: Profile,
    cargo: PathBuf,
    color: bool,
    last_warnings: Arc<Mutex<Vec<String>>>,
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
    /// The compiler's warnings, each as rustc rendered it (see [`Builder::color`]), in the
    /// order they came; cargo replays those of crates it did not rebuild.
    pub warnings: Vec<String>,
}

/// A directory given as a plugin crate's has no `Cargo.toml`.
#[derive(Debug, thiserror::Error)]
#[error("`{}` is not a plugin crate: it has no `Cargo.toml`", dir.display())]
pub struct NotACrate {
    pub dir: PathBuf,
}

/// The `Cargo.toml` of the crate in `dir`, canonical when it can be (cargo reports manifests
/// canonical: compare like with like).
pub(crate) fn manifest_of(dir: &Path) -> Result<PathBuf, NotACrate> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(NotACrate {
            dir: dir.to_path_buf(),
        });
    }
    Ok(manifest.canonicalize().unwrap_or(manifest))
}

/// Why a plugin could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    NotACrate(#[from] NotACrate),
    #[error("could not run cargo (`{}`): {source}", cargo.display())]
    Spawn {
        cargo: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("could not read cargo's output: {0}")]
    Io(#[source] io::Error),
    /// The build ran and failed: `rendered` holds the compiler's diagnostics as rustc rendered
    /// them (with ANSI colors when [`Builder::color`] asked for them), then what cargo said.
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
    /// Driving the build panicked: a bug of hot-host (reading cargo's output, say), reported
    /// as this build's failure. The background builder goes on with the next save.
    #[error("building the plugin panicked (a bug in hot-host, please report it): {message}")]
    Panicked { message: String },
}

impl Builder {
    /// A dev-profile builder for the crate in `plugin_dir`, building into
    /// `<plugin_dir>/target/coo` (see the [module docs](self) for why not the host's target dir)
    /// with the cargo of `$CARGO` (the one running us, under `cargo run`/`cargo test`) or else
    /// `cargo` from `PATH`.
    pub fn new(plugin_dir: impl Into<PathBuf>) -> Builder {
        let plugin_dir = plugin_dir.into();
        let target_dir = plugin_dir.join("target").join("coo");
        Builder {
            plugin_dir,
            target_dir,
            profile: Profile::Dev,
            cargo: metadata::default_cargo(),
            color: false,
            last_warnings: Arc::default(),
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

    /// Keeps the ANSI colors of rustc's diagnostics and cargo's status lines (`--color always`),
    /// for showing them on a terminal. Off by default: `--color never`, and the diagnostics'
    /// styles removed, plain text.
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

    /// The warnings of the last successful build of this builder or of a clone of it, as
    /// [`BuildOutput::warnings`] (empty before the first).
    pub fn last_warnings(&self) -> Vec<String> {
        self.last_warnings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
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
            .arg("--message-format=json-diagnostic-rendered-ansi")
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

    /// Builds the plugin and finds its dynamic library; cargo's progress is not shown (see
    /// [`build_with`](Builder::build_with)).
    pub fn build(&self) -> Result<BuildOutput, BuildError> {
        self.build_with(&mut |_| {})
    }

    /// Builds the plugin and finds its dynamic library, passing cargo's progress to `progress`
    /// as it comes, on the calling thread.
    pub fn build_with(
        &self,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<BuildOutput, BuildError> {
        let manifest = manifest_of(&self.plugin_dir)?;

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
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));

        let mut messages = Messages::new(&manifest, self.color);
        let mut read_error = None;
        // Both pipes are read to their end, each on a thread of its own (a pipe left unread
        // fills up and blocks cargo), into one channel read here, so that progress is passed
        // on as it comes, on this thread.
        std::thread::scope(|scope| {
            let (sender, piped) = mpsc::channel();
            let stderr_sender = sender.clone();
            scope.spawn(move || read_stdout(stdout, &sender));
            scope.spawn(move || read_stderr(stderr, &stderr_sender));
            for piped in piped {
                match piped {
                    Piped::Message(message) => messages.read_message(*message),
                    Piped::StderrLine(line) => {
                        if let Some(event) = messages.read_stderr_line(&line) {
                            progress(event);
                        }
                    }
                    Piped::Failed(e) => {
                        read_error.get_or_insert(e);
                    }
                }
            }
        });
        let status = child.wait().map_err(BuildError::Io)?;
        if let Some(e) = read_error {
            return Err(BuildError::Io(e));
        }
        let duration = start.elapsed();

        match messages.finished {
            Some(true) if status.success() => {}
            // The build ran: its failure is the compiler's (or a build script's).
            Some(_) => {
                return Err(BuildError::Compile {
                    rendered: messages.rendered(),
                });
            }
            None if status.success() => {}
            None => {
                return Err(BuildError::Cargo {
                    status,
                    stderr: messages.stderr,
                });
            }
        }
        let Some((dylib, fresh)) = messages.cdylib else {
            return Err(BuildError::NoCdylib { manifest });
        };
        *self
            .last_warnings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = messages.warnings.clone();
        Ok(BuildOutput {
            dylib,
            duration,
            fresh,
            warnings: messages.warnings,
        })
    }
}

/// What the threads reading cargo's pipes send.
enum Piped {
    /// A message of cargo's stdout (boxed: most are far smaller than the largest).
    Message(Box<Message>),
    /// A line of cargo's stderr, without its line break.
    StderrLine(String),
    /// A pipe could not be read.
    Failed(io::Error),
}

/// Reads cargo's JSON messages (build scripts' output is captured by cargo and never printed
/// here; a line that is not a message comes as [`Message::TextLine`]).
fn read_stdout(mut stdout: impl BufRead, sender: &mpsc::Sender<Piped>) {
    for message in Message::parse_stream(&mut stdout) {
        let piped = match message {
            Ok(message) => Piped::Message(Box::new(message)),
            Err(e) => {
                let _ = sender.send(Piped::Failed(e));
                // Not UTF-8: read the rest all the same, for cargo not to block on a full pipe.
                let _ = io::copy(&mut stdout, &mut io::sink());
                return;
            }
        };
        if sender.send(piped).is_err() {
            return;
        }
    }
}

/// Reads cargo's stderr line by line (a build script's output within cargo's error may be any
/// bytes: they are read lossily).
fn read_stderr(mut stderr: impl BufRead, sender: &mpsc::Sender<Piped>) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match stderr.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                if sender.send(Piped::StderrLine(text.to_owned())).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = sender.send(Piped::Failed(e));
                let _ = io::copy(&mut stderr, &mut io::sink());
                return;
            }
        }
    }
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
                "--message-format=json-diagnostic-rendered-ansi",
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
