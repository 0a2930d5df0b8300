//! Coo embedded in a program of its own, the way a game embeds it: this binary owns the frame
//! loop and the terminal, and a hot-reloaded plugin (`examples/particles-plugin`) simulates
//! particles in a box and draws them into the host's [`Canvas`], passed to the plugin's
//! `draw(world: &World, #[host] canvas: &mut Canvas)` by a typed handle.
//!
//! ```text
//! cargo run -p particles                      # then edit examples/particles-plugin/src/lib.rs
//! cargo run -p particles -- --frames 20       # headless: frames as text on standard output
//! ```
//!
//! Options: `[PLUGIN_DIR]` (the plugin crate, `examples/particles-plugin` by default),
//! `--frames N` (headless: print N frames as text and exit), `--every MS` (the frame time, 50 ms
//! by default), `--target-dir DIR` (where the plugin is built).
//!
//! Headless output, one block per frame: `frame <n> v<version> tick <tick>`, the canvas's rows,
//! and `positions x,y x,y ...` (after the frame's tick). A reload applied at the start of a
//! frame prints `reloaded v<a> -> v<b>` and the positions right after it, before any tick: equal
//! to the previous frame's when the state carried over. A failed reload prints
//! `reload failed: <error>` and the old version runs on.

mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hot_host::{Builder, CallError, Coo, CooOptions, Host, HotFn};
use particles_canvas::Canvas;

/// The canvas: the plugin's 40 × 12 box and its walls.
const WIDTH: usize = 42;
const HEIGHT: usize = 14;

struct Args {
    plugin: PathBuf,
    frames: Option<u64>,
    every: Duration,
    target_dir: Option<PathBuf>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            plugin: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../particles-plugin"),
            frames: None,
            every: Duration::from_millis(50),
            target_dir: None,
        };
        let mut words = std::env::args().skip(1);
        while let Some(word) = words.next() {
            let mut value = |name: &str| {
                words
                    .next()
                    .ok_or_else(|| format!("`{name}` needs a value"))
            };
            match word.as_str() {
                "--frames" => {
                    let n = value("--frames")?;
                    args.frames = Some(n.parse().map_err(|_| format!("not a number: {n}"))?);
                }
                "--every" => {
                    let ms = value("--every")?;
                    let ms = ms.parse().map_err(|_| format!("not a number: {ms}"))?;
                    args.every = Duration::from_millis(ms);
                }
                "--target-dir" => args.target_dir = Some(value("--target-dir")?.into()),
                "-h" | "--help" => {
                    return Err(
                        "usage: particles [PLUGIN_DIR] [--frames N] [--every MS] [--target-dir DIR]"
                            .into(),
                    );
                }
                other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
                dir => args.plugin = dir.into(),
            }
        }
        Ok(args)
    }
}

/// The plugin's functions, resolved with their Rust types; resolved again after each reload
/// (a changed signature buries a handle).
struct Fns {
    tick: HotFn<fn()>,
    draw: HotFn<fn(&mut Canvas)>,
    positions: HotFn<fn(&mut Vec<[f32; 2]>)>,
    ticks: HotFn<fn() -> u64>,
}

impl Fns {
    fn resolve(host: &Host) -> Result<Fns, CallError> {
        Ok(Fns {
            tick: host.resolve_typed("tick")?,
            draw: host.resolve_typed("draw")?,
            positions: host.resolve_typed("positions")?,
            ticks: host.resolve_typed("ticks")?,
        })
    }
}

/// What a frame shows beside the canvas.
struct Frame<'a> {
    canvas: &'a Canvas,
    version: u64,
    tick: u64,
    positions: &'a [[f32; 2]],
    /// The last reload's outcome, or the last problem.
    status: &'a str,
}

fn positions_text(positions: &[[f32; 2]]) -> String {
    let all: Vec<String> = positions
        .iter()
        .map(|[x, y]| format!("{x:.3},{y:.3}"))
        .collect();
    format!("positions {}", all.join(" "))
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Builder::new(&args.plugin);
    if let Some(dir) = &args.target_dir {
        builder = builder.with_target_dir(dir);
    }
    eprintln!("building {} ...", args.plugin.display());
    let mut coo = Coo::start_with(Host::with_builder(builder), CooOptions::default())?;
    coo.host_mut().call_by_name("init", &[])?;
    let mut fns = Fns::resolve(coo.host())?;
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    let mut positions = Vec::new();
    let mut status = String::from("running");
    let mut screen = match args.frames {
        Some(_) => None,
        None => Some(terminal::Screen::enter()?),
    };
    let mut frame = 0;
    loop {
        if args.frames.is_some_and(|n| frame >= n) {
            return Ok(());
        }
        frame += 1;
        // The safe point: a finished build is loaded here and the state migrated.
        match coo.update() {
            Some(Ok(report)) => {
                status = format!(
                    "reloaded v{} -> v{}",
                    report.from_version, report.to_version
                );
                match Fns::resolve(coo.host()) {
                    Ok(resolved) => fns = resolved,
                    Err(e) => status = format!("{status}; {e}"),
                }
                if screen.is_none() {
                    println!("{status}");
                    fns.positions.call(coo.host_mut(), (&mut positions,))?;
                    println!("{}", positions_text(&positions));
                }
            }
            Some(Err(e)) => {
                status = format!("reload failed: {e}");
                if screen.is_none() {
                    println!("{}", status.replace('\n', " / "));
                }
            }
            None => {}
        }
        for _event in coo.events() {} // cargo's progress: not shown here
        let host = coo.host_mut();
        let ran = fns
            .tick
            .call(host, ())
            .and_then(|()| fns.draw.call(host, (&mut canvas,)))
            .and_then(|()| fns.positions.call(host, (&mut positions,)));
        if let Err(e) = ran {
            status = format!("{e}");
        }
        let shown = Frame {
            canvas: &canvas,
            version: host.version(),
            tick: fns.ticks.call(host, ()).unwrap_or(0),
            positions: &positions,
            status: &status,
        };
        match &mut screen {
            Some(screen) => {
                screen.show(&shown)?;
                if screen.quit_within(args.every)? {
                    return Ok(());
                }
            }
            None => {
                print_frame(frame, &shown);
                std::thread::sleep(args.every);
            }
        }
    }
}

/// A frame as text, for the headless mode.
fn print_frame(n: u64, frame: &Frame<'_>) {
    let mut text = format!("frame {n} v{} tick {}\n", frame.version, frame.tick);
    for y in 0..frame.canvas.height() {
        text.push_str(frame.canvas.row_text(y).trim_end());
        text.push('\n');
    }
    text.push_str(&positions_text(frame.positions));
    text.push('\n');
    print!("{text}");
}
