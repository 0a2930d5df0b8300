//! Two bundles, with Coo: the caller bundle's `tick` calls the callee bundle's `next` through
//! `coo_runtime::import!` (`examples/two-bundles-caller`, `examples/two-bundles-callee`), both
//! loaded in one [`Plugins`], each watched and reloaded on its own. Edit the callee while both
//! run: it alone is rebuilt and reloaded, and the caller's next call runs the new code, the
//! caller not reloaded (each line says which version of each bundle ran).
//!
//! Load order is free: the program starts with the caller alone, and builds the callee in the
//! background meanwhile. Until the callee is loaded, the caller's call returns
//! `ImportError::NotLoaded` (the caller says so and keeps its value; both run on); then the
//! callee appears and the same call runs it.
//!
//! ```text
//! cargo run -p two-bundles                # then edit examples/two-bundles-callee/src/lib.rs; q quits
//! cargo run -p two-bundles -- --headless  # commands on standard input, lines on standard output
//! ```
//!
//! Options: `--caller DIR`, `--callee DIR` (the bundles' crates, `examples/two-bundles-caller`
//! and `examples/two-bundles-callee` by default), `--every MS` (the tick, 1000 ms by default),
//! `--target-dir DIR` (where both are built, `target/two-bundles` by default), `--headless`.
//!
//! It prints `tick <n> caller v<a> callee v<b>: <what the caller's tick says>` (`callee -` while
//! the callee is not loaded), `loaded callee v<b>`, `reloaded <bundle> v<a> -> v<b>`, and
//! `reload failed: <bundle>: <error>` on one line. Headless, it reads one command a line: `tick`
//! (one tick), `load` (builds and loads the callee now), `wait-reload` (waits until the build of
//! a saved edit is reloaded, or failed), `quit`; the callee is loaded only by `load`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hot_host::{
    BuildError, BuildOutput, Builder, CooOptions, Host, Plugins, ReloadError, ReloadReport, Value,
};

/// How long `wait-reload` waits for a build at most.
const RELOAD_DEADLINE: Duration = Duration::from_secs(900);

struct Args {
    caller: PathBuf,
    callee: PathBuf,
    every: Duration,
    target_dir: PathBuf,
    headless: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the example is in `examples/`");
        let mut args = Args {
            caller: examples.join("two-bundles-caller"),
            callee: examples.join("two-bundles-callee"),
            every: Duration::from_millis(1000),
            target_dir: examples
                .parent()
                .expect("`examples/` is in the workspace")
                .join("target/two-bundles"),
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
                "--caller" => args.caller = value("--caller")?.into(),
                "--callee" => args.callee = value("--callee")?.into(),
                "--every" => {
                    let ms = value("--every")?;
                    let ms = ms.parse().map_err(|_| format!("not a number: {ms}"))?;
                    args.every = Duration::from_millis(ms);
                }
                "--target-dir" => args.target_dir = value("--target-dir")?.into(),
                "--headless" => args.headless = true,
                "-h" | "--help" => {
                    return Err("usage: two-bundles [--caller DIR] [--callee DIR] [--every MS] [--target-dir DIR] [--headless]".into());
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(args)
    }

    fn builder(&self, dir: &Path) -> Builder {
        Builder::new(dir).with_target_dir(&self.target_dir)
    }
}

/// The two bundles, named `caller` and `callee` (the name the caller's `import!` uses).
struct Demo {
    plugins: Plugins,
    ticks: u64,
}

impl Demo {
    /// Builds and loads the caller alone, and calls its `init`.
    fn start(args: &Args) -> Result<Demo, Box<dyn std::error::Error>> {
        let mut plugins = Plugins::new();
        eprintln!("building the caller ({}) ...", args.caller.display());
        plugins.add(
            "caller",
            Host::with_builder(args.builder(&args.caller)),
            CooOptions::default(),
        )?;
        plugins.call_by_name("caller::init", &[])?;
        Ok(Demo { plugins, ticks: 0 })
    }

    /// Loads the callee (built now, fresh if built before) and prints `loaded callee v1`.
    fn load_callee(&mut self, args: &Args) {
        let host = Host::with_builder(args.builder(&args.callee));
        match self.plugins.add("callee", host, CooOptions::default()) {
            Ok(report) => println!("loaded callee v{}", report.to_version),
            Err(e) => println!("{}", one_line(&format!("load failed: callee: {e}"))),
        }
    }

    fn version(&self, bundle: &str) -> String {
        self.plugins
            .host(bundle)
            .map_or_else(|| "-".into(), |host| format!("v{}", host.version()))
    }

    /// One tick: the caller's `tick`, printed with the versions that ran.
    fn tick(&mut self) {
        self.ticks += 1;
        let said = match self.plugins.call_by_name("caller::tick", &[]) {
            Ok(Value::String(text)) => text,
            Ok(other) => format!("`caller::tick` returned {other}, not a `String`"),
            Err(e) => e.to_string(),
        };
        println!(
            "tick {} caller {} callee {}: {}",
            self.ticks,
            self.version("caller"),
            self.version("callee"),
            one_line(&said)
        );
    }

    /// The safe point: each bundle's finished build is reloaded here, and printed. How many
    /// reloads were tried.
    fn update(&mut self) -> usize {
        let outcomes = self.plugins.update();
        let names: Vec<String> = self.plugins.names().map(str::to_owned).collect();
        for name in names {
            if let Some(coo) = self.plugins.coo_mut(&name) {
                for _event in coo.events() {} // cargo's progress: not shown here
            }
        }
        for (bundle, outcome) in &outcomes {
            print_outcome(bundle, outcome);
        }
        outcomes.len()
    }
}

fn print_outcome(bundle: &str, outcome: &Result<ReloadReport, ReloadError>) {
    match outcome {
        Ok(report) => println!(
            "reloaded {bundle} v{} -> v{}",
            report.from_version, report.to_version
        ),
        Err(e) => println!("{}", one_line(&format!("reload failed: {bundle}: {e}"))),
    }
}

fn one_line(text: &str) -> String {
    text.replace('\n', " / ")
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
            headless(&mut demo, &args)
        } else {
            interactive(&mut demo, &args)
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

/// A tick every `--every`; the callee built in the background and loaded when it is built;
/// `q` and Enter quits.
fn interactive(demo: &mut Demo, args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    eprintln!(
        "the caller runs; building the callee ({}) in the background. Edit {} while both run; q and Enter quits",
        args.callee.display(),
        args.callee.join("src/lib.rs").display()
    );
    let (built, callee_build) = mpsc::channel::<Result<BuildOutput, BuildError>>();
    let builder = args.builder(&args.callee);
    std::thread::spawn(move || built.send(builder.build()));
    let (send, commands) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut next_tick = Instant::now() + args.every;
    loop {
        demo.update();
        match callee_build.try_recv() {
            // Built: loading it now builds it again, which cargo finds fresh.
            Ok(Ok(_)) => demo.load_callee(args),
            Ok(Err(e)) => println!(
                "{}",
                one_line(&format!(
                    "the callee failed to build (fix it and start again): {e}"
                ))
            ),
            Err(_) => {}
        }
        if Instant::now() >= next_tick {
            demo.tick();
            next_tick += args.every;
        }
        let wait = next_tick
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        match commands.recv_timeout(wait) {
            Ok(line) if matches!(line.trim(), "q" | "quit") => return Ok(()),
            Ok(line) => println!("unknown command `{}`: q quits", line.trim()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Standard input closed: tick on until interrupted.
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
        }
    }
}

/// Commands on standard input, results on standard output (see the module docs).
fn headless(demo: &mut Demo, args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        match line.trim() {
            "tick" => {
                demo.update();
                demo.tick();
            }
            "load" => demo.load_callee(args),
            "wait-reload" => {
                let started = Instant::now();
                while demo.update() == 0 {
                    if started.elapsed() > RELOAD_DEADLINE {
                        println!("no reload within {RELOAD_DEADLINE:?}");
                        break;
                    }
                    // The build runs in the background; look again shortly.
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            "quit" => return Ok(()),
            "" => {}
            _ => println!("unknown command `{line}`: tick, load, wait-reload, quit"),
        }
    }
    Ok(())
}
