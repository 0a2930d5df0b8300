//! End to end: the particles example run headless (`--frames`) on a copy of its plugin, which
//! the test edits while it runs, as a user edits it in the interactive mode: the frames change
//! and the particles' positions carry over each reload (compared as printed, not by timing).

use std::process::Command;
use std::time::Duration;

use headless_support::{Run, copy_plugin, edit, fixtures_target};

/// Generous: a reload includes a build of the plugin on a busy machine.
const DEADLINE: Duration = Duration::from_secs(600);

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

/// The program, its output read frame by frame.
struct Frames(Run);

impl Frames {
    fn line(&mut self) -> String {
        self.0.line()
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
    copy_plugin(
        dir.path(),
        "particles-headless",
        "examples/particles-plugin",
        &[("particles-canvas", "examples/particles-canvas")],
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_particles"));
    command
        .arg(dir.path())
        .args(["--frames", "1000000", "--every", "20", "--target-dir"])
        .arg(fixtures_target());
    let mut run = Frames(Run::spawn(command, DEADLINE));

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
