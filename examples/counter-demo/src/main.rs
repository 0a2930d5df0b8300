//! The classic hot-reload counter, with Coo: a count advanced every second by the plugin's
//! `change()`, whose step the keys switch live between its A/B implementations (1: +1, 2: +10,
//! 3: ×2, 4: −5, 5: reset; `#[hot_fn(alt_of = "change", ...)]` in
//! `examples/counter-demo-plugin`), chosen from this program with [`Coo::choose`]. The count is
//! the plugin's state: it persists across choices and across reloads of edited code, and the
//! choice persists across reloads while the implementation exists.
//!
//! ```text
//! cargo run -p counter-demo                # then press 1-5, or edit examples/counter-demo-plugin/src/lib.rs
//! cargo run -p counter-demo -- --headless  # commands on standard input, lines on standard output
//! ```
//!
//! Options: `[PLUGIN_DIR]` (the plugin crate, `examples/counter-demo-plugin` by default),
//! `--every MS` (the tick, 1000 ms by default), `--target-dir DIR` (where the plugin is built),
//! `--headless`.
//!
//! Headless, it reads one command a line: `tick` (one tick), `key K` (the key K, 1–5),
//! `wait-reload` (waits until the build of a saved edit is reloaded, or failed), `quit`. It
//! prints `tick <n> v<version> <implementation> count <count>` after a tick, `chose <name>`,
//! `reloaded v<a> -> v<b>` (and one line per implementation the reload removed, as the report
//! says it), or `reload failed: <error>` on one line.

mod screen;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hot_host::{Builder, CallError, Coo, CooOptions, Host, HotFn, ReloadError, ReloadReport};

/// What each key chooses: the implementation of `change` by name, and what it does.
pub const KEYS: [(char, &str, &str); 5] = [
    ('1', "change", "+1"),
    ('2', "plus10", "+10"),
    ('3', "times2", "x2"),
    ('4', "minus5", "-5"),
    ('5', "reset", "reset"),
];

/// How long `wait-reload` waits for a build at most.
const RELOAD_DEADLINE: Duration = Duration::from_secs(900);

struct Args {
    plugin: PathBuf,
    every: Duration,
    target_dir: Option<PathBuf>,
    headless: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            plugin: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../counter-demo-plugin"),
            every: Duration::from_millis(1000),
            target_dir: None,
            headless: false,
        };
        let mut words = std::env::args().skip(1);
        while let Some(word) = words.next() {
            let mut value = |name: &str| {
                words
                    .next()
                    .ok_or_else(|| format!("`{name}` needs a value"))
            };
            match word.as_str() {
                "--every" => {
                    let ms = value("--every")?;
                    let ms = ms.parse().map_err(|_| format!("not a number: {ms}"))?;
                    args.every = Duration::from_millis(ms);
                }
                "--target-dir" => args.target_dir = Some(value("--target-dir")?.into()),
                "--headless" => args.headless = true,
                "-h" | "--help" => {
                    return Err("usage: counter-demo [PLUGIN_DIR] [--every MS] [--target-dir DIR] [--headless]".into());
                }
                other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
                dir => args.plugin = dir.into(),
            }
        }
        Ok(args)
    }
}

/// The plugin's functions, resolved with their Rust types (again after each reload, in case a
/// signature changed). The typed handle of `change` runs whichever implementation is chosen.
struct Fns {
    change: HotFn<fn()>,
    count: HotFn<fn() -> i64>,
}

impl Fns {
    fn resolve(host: &Host) -> Result<Fns, CallError> {
        Ok(Fns {
            change: host.resolve_typed("change")?,
            count: host.resolve_typed("count")?,
        })
    }
}

/// The demo: the embedded Coo, its functions, and what the screen shows.
struct Demo {
    coo: Coo,
    fns: Fns,
    ticks: u64,
    /// The last reload's outcome, a choice, or the last problem.
    pub status: String,
}

impl Demo {
    fn start(args: &Args) -> Result<Demo, Box<dyn std::error::Error>> {
        let mut builder = Builder::new(&args.plugin);
        if let Some(dir) = &args.target_dir {
            builder = builder.with_target_dir(dir);
        }
        eprintln!("building {} ...", args.plugin.display());
        let mut coo = Coo::start_with(Host::with_builder(builder), CooOptions::default())?;
        coo.host_mut().call_by_name("init", &[])?;
        let fns = Fns::resolve(coo.host())?;
        Ok(Demo {
            coo,
            fns,
            ticks: 0,
            status: "running".into(),
        })
    }

    /// One tick: `change()`, through its slot.
    fn tick(&mut self) {
        self.ticks += 1;
        if let Err(e) = self.fns.change.call(self.coo.host_mut(), ()) {
            self.status = e.to_string();
        }
    }

    /// The safe point: a finished build is reloaded here. `Some` when a reload was tried.
    fn update(&mut self) -> Option<Result<ReloadReport, ReloadError>> {
        let outcome = self.coo.update();
        for _event in self.coo.events() {} // cargo's progress: not shown here
        match &outcome {
            Some(Ok(report)) => {
                self.status = format!(
                    "reloaded v{} -> v{}",
                    report.from_version, report.to_version
                );
                for gone in &report.alternatives_gone {
                    self.status.push_str(&format!("; {gone}"));
                }
                match Fns::resolve(self.coo.host()) {
                    Ok(fns) => self.fns = fns,
                    Err(e) => self.status = format!("{}; {e}", self.status),
                }
            }
            Some(Err(e)) => self.status = format!("reload failed: {e}").replace('\n', " / "),
            None => {}
        }
        outcome
    }

    /// Chooses the implementation the key `key` stands for; whether it is one of the keys.
    fn key(&mut self, key: char) -> bool {
        let Some((_, name, what)) = KEYS.iter().find(|(k, _, _)| *k == key) else {
            return false;
        };
        self.status = match self.coo.choose("change", name) {
            Ok(()) => format!("chose {name} ({what})"),
            Err(e) => e.to_string(),
        };
        true
    }

    /// The implementation of `change` that runs.
    pub fn chosen(&self) -> String {
        self.coo
            .host()
            .alternatives("change")
            .ok()
            .and_then(|all| all.into_iter().find(|a| a.chosen))
            .map_or_else(|| "?".into(), |a| a.name)
    }

    pub fn count(&mut self) -> Result<i64, CallError> {
        self.fns.count.call(self.coo.host_mut(), ())
    }

    pub fn version(&self) -> u64 {
        self.coo.host().version()
    }

    pub fn ticks(&self) -> u64 {
        self.ticks
    }
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let run = Demo::start(&args).and_then(|mut demo| {
        if args.headless {
            headless(&mut demo)
        } else {
            interactive(&mut demo, args.every)
        }
    });
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The terminal UI: a tick every `every`, keys 1–5 choose, q quits.
fn interactive(demo: &mut Demo, every: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let mut screen = screen::Screen::enter()?;
    let mut next_tick = Instant::now() + every;
    loop {
        demo.update();
        if Instant::now() >= next_tick {
            demo.tick();
            next_tick += every;
        }
        screen.show(demo)?;
        let wait = next_tick.saturating_duration_since(Instant::now());
        match screen.key_within(wait.min(Duration::from_millis(100)))? {
            Some('q') => return Ok(()),
            Some(key) => {
                demo.key(key);
            }
            None => {}
        }
    }
}

/// Commands on standard input, results on standard output (see the module docs).
fn headless(demo: &mut Demo) -> Result<(), Box<dyn std::error::Error>> {
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["tick"] => {
                demo.update();
                demo.tick();
                let count = demo.count()?;
                println!(
                    "tick {} v{} {} count {count}",
                    demo.ticks(),
                    demo.version(),
                    demo.chosen()
                );
            }
            ["key", key] if key.chars().count() == 1 => {
                let key = key.chars().next().expect("one character");
                if demo.key(key) {
                    println!("chose {}", demo.chosen());
                } else {
                    println!("no key {key}: the keys are 1-5");
                }
            }
            ["wait-reload"] => {
                let started = Instant::now();
                loop {
                    match demo.update() {
                        Some(Ok(report)) => {
                            println!(
                                "reloaded v{} -> v{}",
                                report.from_version, report.to_version
                            );
                            for gone in &report.alternatives_gone {
                                println!("{gone}");
                            }
                            break;
                        }
                        Some(Err(_)) => {
                            println!("{}", demo.status);
                            break;
                        }
                        None if started.elapsed() > RELOAD_DEADLINE => {
                            println!("no reload within {RELOAD_DEADLINE:?}");
                            break;
                        }
                        // The build runs in the background; look again shortly.
                        None => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            }
            ["quit"] => return Ok(()),
            [] => {}
            _ => println!("unknown command `{line}`: tick, key K, wait-reload, quit"),
        }
    }
    Ok(())
}
