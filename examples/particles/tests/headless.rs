//! End to end: the particles example run headless (`--frames`) on a copy of its plugin, which
//! the test edits while it runs, as a user edits it in the interactive mode: the frames change
//! and the particles' positions carry over each reload (compared as printed, not by timing).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: a reload includes a build of the plugin on a busy machine.
const DEADLINE: Duration = Duration::from_secs(600);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The plugin crate copied into a temporary directory, as a workspace of its own.
fn copy_plugin(dir: &Path) {
    let ws = workspace().canonicalize().unwrap();
    let manifest = format!(
        r#"[package]
name = "particles-headless"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
coo-runtime = {{ path = {:?} }}
particles-canvas = {{ path = {:?} }}

[workspace]
"#,
        ws.join("coo-runtime").display().to_string(),
        ws.join("examples/particles-canvas").display().to_string(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's versions of every dependency.
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir(dir.join("src")).unwrap();
    std::fs::copy(
        ws.join("examples/particles-plugin/src/lib.rs"),
        dir.join("src/lib.rs"),
    )
    .unwrap();
}

fn edit(dir: &Path, replacements: &[(&str, &str)]) {
    let path = dir.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (old, new) in replacements {
        assert!(text.contains(old), "the plugin has no {old:?}");
        text = text.replacen(old, new, 1);
    }
    std::fs::write(path, text).unwrap();
}

/// One headless frame as printed.
#[derive(Debug, Clone)]
struct Frame {
    version: u64,
    tick: u64,
    rows: Vec<String>,
    positions: String,
}

/// What the program prints, a line at a time.
enum Out {
    Frame(Frame),
    /// `reloaded v<a> -> v<b>`, with the positions printed right after it.
    Reloaded {
        to: u64,
        positions: String,
    },
    Failed(String),
}

struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    started: Instant,
}

impl Run {
    fn line(&mut self) -> String {
        let left = DEADLINE.saturating_sub(self.started.elapsed());
        match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => panic!("the program printed nothing more within {DEADLINE:?}"),
        }
    }

    fn next(&mut self) -> Out {
        let line = self.line();
        if let Some(rest) = line.strip_prefix("frame ") {
            let words: Vec<&str> = rest.split(' ').collect();
            let version = words[1].trim_start_matches('v').parse().unwrap();
            let tick = words[3].parse().unwrap();
            let mut rows = Vec::new();
            loop {
                let line = self.line();
                if line.starts_with("positions") {
                    return Out::Frame(Frame {
                        version,
                        tick,
                        rows,
                        positions: line,
                    });
                }
                rows.push(line);
            }
        } else if let Some(rest) = line.strip_prefix("reloaded v") {
            let to = rest.split(" -> v").nth(1).unwrap().parse().unwrap();
            let positions = self.line();
            assert!(positions.starts_with("positions"), "{positions}");
            Out::Reloaded { to, positions }
        } else if line.starts_with("reload failed") {
            Out::Failed(line)
        } else {
            panic!("unexpected output: {line}")
        }
    }

    fn frame(&mut self) -> Frame {
        match self.next() {
            Out::Frame(frame) => frame,
            Out::Reloaded { to, .. } => panic!("an unexpected reload to v{to}"),
            Out::Failed(line) => panic!("{line}"),
        }
    }

    /// Frames until the reload to `version`: the last frame before it, and the positions
    /// printed right after it.
    fn until_reload(&mut self, version: u64, mut last: Frame) -> (Frame, String) {
        loop {
            match self.next() {
                Out::Frame(frame) => last = frame,
                Out::Reloaded { to, positions } => {
                    assert_eq!(to, version);
                    return (last, positions);
                }
                Out::Failed(line) => panic!("{line}"),
            }
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn glyphs(frame: &Frame, glyph: char) -> usize {
    frame
        .rows
        .iter()
        .map(|row| row.chars().filter(|&c| c == glyph).count())
        .sum()
}

#[test]
fn edits_change_the_frames_and_the_particles_keep_their_positions() {
    let dir = tempfile::Builder::new()
        .prefix("particles-headless")
        .tempdir()
        .unwrap();
    copy_plugin(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_particles"))
        .arg(dir.path())
        .args(["--frames", "1000000", "--every", "20", "--target-dir"])
        .arg(workspace().join("target").join("coo-fixtures"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut run = Run {
        child,
        lines,
        started: Instant::now(),
    };

    let first = run.frame();
    assert_eq!((first.version, first.tick), (1, 1));
    assert_eq!(first.rows.len(), 14);
    assert_eq!(first.rows[0], format!("+{}+", "-".repeat(40)));
    assert_eq!(glyphs(&first, 'o'), 8);

    // A body change: the glyph.
    edit(
        dir.path(),
        &[("const GLYPH: char = 'o';", "const GLYPH: char = '*';")],
    );
    let (before, after) = run.until_reload(2, first.clone());
    assert_eq!(after, before.positions, "the positions carried over");
    let frame = run.frame();
    assert_eq!((frame.version, frame.tick), (2, before.tick + 1));
    assert_eq!((glyphs(&frame, 'o'), glyphs(&frame, '*') > 0), (0, true));

    // A layout change: a new field of `Particle`, with its default for the live particles.
    edit(
        dir.path(),
        &[
            (
                "pub struct Particle {\n",
                "pub struct Particle {\n    #[coo(default = 1.0)]\n    pub mass: f32,\n",
            ),
            (
                "            .map(|i| Particle {\n",
                "            .map(|i| Particle {\n                mass: 1.0,\n",
            ),
            (
                "p.vel.y += world.gravity;",
                "p.vel.y += world.gravity * p.mass;",
            ),
        ],
    );
    let (before, after) = run.until_reload(3, frame);
    assert_eq!(after, before.positions, "the positions carried over");
    let frame = run.frame();
    assert_eq!((frame.version, frame.tick), (3, before.tick + 1));
    assert!(glyphs(&frame, '*') > 0);
}
