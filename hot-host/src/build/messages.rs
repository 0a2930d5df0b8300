//! What a `cargo build` says while it runs: its JSON messages on stdout, read as typed
//! [`cargo_metadata::Message`]s, and its status lines on stderr.
//!
//! `Messages` collects from the JSON messages the plugin's `cdylib` (from its
//! `compiler-artifact`), whether the build succeeded (`build-finished`) and the compiler's
//! diagnostics as rustc rendered them (`compiler-message`, rendered with ANSI styles because the
//! build runs with `--message-format=json-diagnostic-rendered-ansi`; the styles are removed by
//! [`anstream`] unless the builder shows colours). From stderr it tells cargo's status lines
//! ([`BuildEvent::Status`], the progress a user sees while cargo works) from the rest (cargo's own
//! warnings and errors, a failing build script's output), which is kept for the error.

use std::path::{Path, PathBuf};

use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{Message, TargetKind};

/// What a build tells while it runs (see [`Builder::build_with`]).
///
/// [`Builder::build_with`]: super::Builder::build_with
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildEvent {
    /// One of cargo's status lines, as cargo wrote it: `   Compiling demo v0.1.0 (/path)`,
    /// `    Finished `dev` profile [...] target(s) in 0.84s`, `    Blocking waiting for file
    /// lock on build directory`. With [`Builder::color`] on, cargo's ANSI styles are kept.
    ///
    /// [`Builder::color`]: super::Builder::color
    Status(String),
}

impl std::fmt::Display for BuildEvent {
    /// The event as cargo shows it on its standard error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildEvent::Status(line) => f.write_str(line),
        }
    }
}

/// What the build's JSON messages and stderr said.
#[derive(Debug)]
pub(super) struct Messages<'a> {
    /// The plugin's manifest, canonical (as cargo reports it).
    manifest: &'a Path,
    /// Keep ANSI styles in what is collected.
    color: bool,
    /// The plugin's dylib and whether it was fresh.
    pub cdylib: Option<(PathBuf, bool)>,
    /// `build-finished.success`.
    pub finished: Option<bool>,
    /// Every diagnostic of the build as rustc rendered it, in order.
    pub diagnostics: Vec<String>,
    /// The rendered warnings among them.
    pub warnings: Vec<String>,
    /// Cargo's stderr but its status lines.
    pub stderr: String,
}

impl<'a> Messages<'a> {
    pub fn new(manifest: &'a Path, color: bool) -> Messages<'a> {
        Messages {
            manifest,
            color,
            cdylib: None,
            finished: None,
            diagnostics: Vec::new(),
            warnings: Vec::new(),
            stderr: String::new(),
        }
    }

    /// Reads one message of cargo's stdout.
    pub fn read_message(&mut self, message: Message) {
        match message {
            Message::CompilerArtifact(artifact)
                if artifact.target.is_kind(TargetKind::CDyLib)
                    && self.is_plugin(artifact.manifest_path.as_std_path()) =>
            {
                let dylib = artifact
                    .filenames
                    .into_iter()
                    .find(|f| f.as_str().ends_with(std::env::consts::DLL_SUFFIX));
                if let Some(dylib) = dylib {
                    self.cdylib = Some((dylib.into_std_path_buf(), artifact.fresh));
                }
            }
            Message::CompilerMessage(message) => {
                let Some(rendered) = message.message.rendered else {
                    return;
                };
                let rendered = self.styled(&rendered);
                if message.message.level == DiagnosticLevel::Warning {
                    self.warnings.push(rendered.clone());
                }
                self.diagnostics.push(rendered);
            }
            Message::BuildFinished(finished) => self.finished = Some(finished.success),
            // Build scripts' output is captured by cargo, not printed: anything else is not ours.
            _ => {}
        }
    }

    /// Reads one line of cargo's stderr (without its line break): a status line is progress,
    /// returned to be shown now; anything else is kept.
    pub fn read_stderr_line(&mut self, line: &str) -> Option<BuildEvent> {
        let line = self.styled(line);
        if is_status_line(&anstream::adapter::strip_str(&line).to_string()) {
            return Some(BuildEvent::Status(line));
        }
        self.stderr.push_str(&line);
        self.stderr.push('\n');
        None
    }

    /// The compiler's diagnostics of a failed build followed by what cargo said about it.
    pub fn rendered(&self) -> String {
        let mut rendered = self.diagnostics.concat();
        rendered.push_str(&self.stderr);
        rendered
    }

    /// `text` as shown: its ANSI styles kept with colours on, removed otherwise.
    fn styled(&self, text: &str) -> String {
        if self.color {
            text.to_owned()
        } else {
            anstream::adapter::strip_str(text).to_string()
        }
    }

    /// Whether `manifest_path` is the plugin's (a plugin's dependencies may build cdylibs of
    /// their own).
    fn is_plugin(&self, manifest_path: &Path) -> bool {
        manifest_path == self.manifest
            || manifest_path
                .canonicalize()
                .is_ok_and(|path| path == self.manifest)
    }
}

/// Whether a line of cargo's stderr (ANSI styles removed) is one of its status lines: cargo
/// writes them as one capitalized word right-aligned in twelve columns, a space and the message
/// (`   Compiling demo v0.1.0`, `    Blocking waiting for file lock`). Its warnings and errors
/// start at the margin (`warning: …`, `error: …`), and the lines that continue them are
/// indented by two or four spaces before a word that is not capitalized, or a marker (`---`).
pub(super) fn is_status_line(plain: &str) -> bool {
    let Some((verb, message)) = plain.split_at_checked(12) else {
        return false;
    };
    let word = verb.trim_start();
    let padding = &verb[..verb.len() - word.len()];
    !word.is_empty()
        && padding.chars().all(|c| c == ' ')
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphabetic())
        && message.starts_with(' ')
        && !message[1..].starts_with(' ')
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
            "target": {
                "kind": kinds, "crate_types": kinds, "name": "demo", "src_path": "/plugins/demo/src/lib.rs",
                "edition": "2024", "doc": true, "doctest": true, "test": true
            },
            "profile": {
                "opt_level": "0", "debuginfo": 2, "debug_assertions": true,
                "overflow_checks": true, "test": false
            },
            "features": [],
            "filenames": filenames,
            "executable": null,
            "fresh": fresh,
        })
        .to_string()
    }

    fn compiler_message(level: &str, rendered: &str) -> String {
        serde_json::json!({
            "reason": "compiler-message",
            "package_id": "path+file:///plugins/demo#0.1.0",
            "manifest_path": MANIFEST,
            "target": {
                "kind": ["cdylib"], "crate_types": ["cdylib"], "name": "demo",
                "src_path": "/plugins/demo/src/lib.rs", "edition": "2024",
                "doc": true, "doctest": true, "test": true
            },
            "message": {
                "$message_type": "diagnostic", "message": "m", "code": null, "level": level,
                "spans": [], "children": [], "rendered": rendered
            }
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

    /// The messages of `lines`, as cargo's stdout.
    fn read<'a>(m: &mut Messages<'a>, lines: &[String]) {
        let stdout = lines.join("\n");
        for message in Message::parse_stream(stdout.as_bytes()) {
            m.read_message(message.unwrap());
        }
    }

    #[test]
    fn finds_the_plugins_cdylib_among_other_artifacts() {
        let mut m = Messages::new(Path::new(MANIFEST), false);
        let ours = dylib("demo");
        let other = dylib("dep");
        read(
            &mut m,
            &[
                "not json, a build script's println".to_owned(),
                artifact("/deps/dep/Cargo.toml", &["cdylib"], &[&other], false),
                artifact(
                    MANIFEST,
                    &["cdylib", "rlib"],
                    &["/t/debug/libdemo.rlib", &ours],
                    true,
                ),
                r#"{"reason":"build-finished","success":true}"#.to_owned(),
            ],
        );
        assert_eq!(m.cdylib, Some((PathBuf::from(ours), true)));
        assert_eq!(m.finished, Some(true));
    }

    #[test]
    fn an_rlib_only_plugin_has_no_cdylib() {
        let mut m = Messages::new(Path::new(MANIFEST), false);
        read(
            &mut m,
            &[artifact(
                MANIFEST,
                &["lib"],
                &["/t/debug/libdemo.rlib"],
                false,
            )],
        );
        assert_eq!(m.cdylib, None);
    }

    #[test]
    fn diagnostics_are_kept_in_order_and_warnings_counted_without_ansi_unless_coloured() {
        let warning = "\x1b[1m\x1b[33mwarning\x1b[0m: unused variable\n";
        let error = "\x1b[1m\x1b[91merror[E0308]\x1b[0m: mismatched types\n";
        let lines = [
            compiler_message("warning", warning),
            compiler_message("error", error),
            compiler_message("failure-note", "For more information\n"),
        ];
        let mut plain = Messages::new(Path::new(MANIFEST), false);
        read(&mut plain, &lines);
        assert_eq!(plain.warnings, ["warning: unused variable\n"]);
        assert_eq!(
            plain.diagnostics,
            [
                "warning: unused variable\n",
                "error[E0308]: mismatched types\n",
                "For more information\n"
            ]
        );
        let mut coloured = Messages::new(Path::new(MANIFEST), true);
        read(&mut coloured, &lines);
        assert_eq!(coloured.warnings, [warning]);
    }

    #[test]
    fn status_lines_are_progress_and_the_rest_is_kept_for_the_error() {
        let mut m = Messages::new(Path::new(MANIFEST), false);
        let lines = [
            "    Blocking waiting for file lock on build directory",
            "\x1b[1m\x1b[32m   Compiling\x1b[0m demo v0.1.0 (/plugins/demo)",
            "error: failed to run custom build command for `demo v0.1.0 (/plugins/demo)`",
            "",
            "Caused by:",
            "  process didn't exit successfully: `/t/build-script-build` (exit status: 1)",
            "  --- stderr",
            "  Compiling is what this build script says",
            "error: could not compile `demo` (lib) due to 1 previous error",
        ];
        let events: Vec<_> = lines
            .iter()
            .filter_map(|line| m.read_stderr_line(line))
            .collect();
        assert_eq!(
            events,
            [
                BuildEvent::Status("    Blocking waiting for file lock on build directory".into()),
                BuildEvent::Status("   Compiling demo v0.1.0 (/plugins/demo)".into()),
            ]
        );
        assert_eq!(m.stderr, lines[2..].join("\n") + "\n");
        m.diagnostics
            .push("error[E0308]: mismatched types\n".into());
        assert_eq!(
            m.rendered(),
            "error[E0308]: mismatched types\n".to_owned() + &lines[2..].join("\n") + "\n"
        );
    }

    #[test]
    fn status_lines_are_a_capitalized_word_in_twelve_columns() {
        for line in [
            "   Compiling demo v0.1.0 (/x)",
            "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.84s",
            "    Blocking waiting for file lock on package cache",
            " Downloading crates ...",
            "  Downloaded serde v1.0.0",
            "     Locking 4 packages to latest compatible versions",
        ] {
            assert!(is_status_line(line), "{line}");
        }
        for line in [
            "",
            "warning: unused manifest key: package.foo",
            "error: could not compile `demo` (lib) due to 1 previous error",
            "  process didn't exit successfully",
            "  --- stderr",
            "  Compiling is what this build script says",
            "   Compiling",
            "   Compiling  two spaces",
            "Caused by:",
        ] {
            assert!(!is_status_line(line), "{line:?}");
        }
    }
}
