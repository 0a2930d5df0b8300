//! A program that edits its own bundle: it prints the plugin's greeting every few seconds, and
//! when another greeting is chosen it rewrites the plugin's source (the `GREETING` line of
//! `src/lib.rs`) on disk; Coo's watch rebuilds it and the program hot reloads it at its next
//! safe point. The greeting changes; the plugin's count of greetings (its state) persists.
//!
//! ```text
//! cargo run -p greeting        # then type 1-4 and Enter to choose a greeting; q quits
//! ```
//!
//! By default the program works on a copy of `examples/greeting-plugin` that it makes in
//! `target/greeting-bundle` (fresh at every start), so the repository's files stay as they are;
//! `PLUGIN_DIR` makes it rewrite that crate instead (the end-to-end test passes a copy in a
//! temporary directory).
//!
//! Options: `[PLUGIN_DIR]`, `--every MS` (a greeting every MS, 3000 by default; 0: only on
//! `greet`), `--target-dir DIR` (where the plugin is built).
//!
//! Commands, one a line on standard input: `1`–`4` (choose a greeting: rewrites the source),
//! `greet` (print the greeting now), `wait-reload` (wait until the reload after the last
//! rewrite is done, or failed; at once if it is), `q` or `quit`. Lines printed: `v<version> <greeting>`, `rewrote <file>: <greeting>`,
//! `reloaded v<a> -> v<b>`, `reload failed: <error>` (on one line).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hot_host::{Builder, Coo, CooOptions, FnHandle, Host, ReloadError, ReloadReport, Value};

/// The greetings to choose from.
const GREETINGS: [&str; 4] = [
    "Hello, world!",
    "Bonjour, le monde !",
    "Hallo, Welt!",
    "Hola, mundo!",
];

/// What the rewritten line starts with.
const GREETING_LINE: &str = "pub const GREETING: &str = ";

/// How long `wait-reload` waits for a build at most.
const RELOAD_DEADLINE: Duration = Duration::from_secs(900);

struct Args {
    /// The crate to rewrite; `None`: a fresh copy of the example in `target/greeting-bundle`.
    plugin: Option<PathBuf>,
    every: Duration,
    target_dir: Option<PathBuf>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            plugin: None,
            every: Duration::from_millis(3000),
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
                "--every" => {
                    let ms = value("--every")?;
                    let ms = ms.parse().map_err(|_| format!("not a number: {ms}"))?;
                    args.every = Duration::from_millis(ms);
                }
                "--target-dir" => args.target_dir = Some(value("--target-dir")?.into()),
                "-h" | "--help" => {
                    return Err(
                        "usage: greeting [PLUGIN_DIR] [--every MS] [--target-dir DIR]".into(),
                    );
                }
                other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
                dir => args.plugin = Some(dir.into()),
            }
        }
        Ok(args)
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
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A fresh copy of `examples/greeting-plugin` in `target/greeting-bundle`, a workspace of its
/// own that builds with the workspace's versions of its dependencies.
fn bundle_copy() -> std::io::Result<PathBuf> {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()?;
    let dir = ws.join("target/greeting-bundle");
    std::fs::create_dir_all(dir.join("src"))?;
    let manifest = format!(
        "[package]\nname = \"greeting-bundle\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n[dependencies]\ncoo-runtime = {{ path = {:?} }}\n\n[workspace]\n",
        ws.join("coo-runtime").display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    std::fs::copy(
        ws.join("examples/greeting-plugin/src/lib.rs"),
        dir.join("src/lib.rs"),
    )?;
    Ok(dir)
}

/// Rewrites the `GREETING` line of `lib_rs` to `greeting`.
fn rewrite(lib_rs: &Path, greeting: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(lib_rs)
        .map_err(|e| format!("could not read {}: {e}", lib_rs.display()))?;
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if !found && line.starts_with(GREETING_LINE) {
                found = true;
                format!("{GREETING_LINE}{greeting:?};")
            } else {
                line.to_owned()
            }
        })
        .collect();
    if !found {
        return Err(format!(
            "{} has no line starting with `{GREETING_LINE}`; put the greeting on such a line",
            lib_rs.display()
        ));
    }
    std::fs::write(lib_rs, lines.join("\n") + "\n")
        .map_err(|e| format!("could not write {}: {e}", lib_rs.display()))
}

/// The reload `coo.update()` did, if any, printed; `greet` resolved again after it.
fn reloaded(
    outcome: Option<Result<ReloadReport, ReloadError>>,
    coo: &Coo,
    greet: &mut FnHandle,
) -> bool {
    match outcome {
        Some(Ok(report)) => {
            println!(
                "reloaded v{} -> v{}",
                report.from_version, report.to_version
            );
            match coo.host().resolve("greet") {
                Ok(resolved) => *greet = resolved,
                Err(e) => println!("{e}"),
            }
            true
        }
        Some(Err(e)) => {
            println!("{}", format!("reload failed: {e}").replace('\n', " / "));
            true
        }
        None => false,
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let plugin = match &args.plugin {
        Some(dir) => dir.clone(),
        None => {
            let dir = bundle_copy()?;
            eprintln!(
                "copied examples/greeting-plugin to {} (this program rewrites that copy)",
                dir.display()
            );
            dir
        }
    };
    let lib_rs = plugin.join("src/lib.rs");
    let mut builder = Builder::new(&plugin);
    if let Some(dir) = &args.target_dir {
        builder = builder.with_target_dir(dir);
    }
    eprintln!("building {} ...", plugin.display());
    let mut coo = Coo::start_with(Host::with_builder(builder), CooOptions::default())?;
    coo.host_mut().call_by_name("init", &[])?;
    // `greet` returns a `String`: called through `Host::call` (typed handles pass primitives).
    let mut greet = coo.host().resolve("greet")?;
    let choices: Vec<String> = GREETINGS
        .iter()
        .enumerate()
        .map(|(i, g)| format!("{}: {g}", i + 1))
        .collect();
    eprintln!(
        "type a number and Enter to choose a greeting ({}), q to quit",
        choices.join(", ")
    );

    // Commands from standard input, on a thread of their own so that greetings go on.
    let (send, commands) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut next = Instant::now() + args.every;
    // Reloads done (or failed) so far, and how many there were at the last rewrite: what
    // `wait-reload` waits past.
    let mut outcomes = 0u64;
    let mut rewritten_at = 0u64;
    loop {
        // The safe point: a finished build is reloaded here.
        if reloaded(coo.update(), &coo, &mut greet) {
            outcomes += 1;
        }
        for _event in coo.events() {} // cargo's progress: not shown here
        let mut say = !args.every.is_zero() && Instant::now() >= next;
        let wait = if args.every.is_zero() {
            Duration::from_millis(50)
        } else {
            next.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50))
        };
        match commands.recv_timeout(wait) {
            Ok(line) => match line.trim() {
                "q" | "quit" => return Ok(()),
                "greet" => say = true,
                "wait-reload" => {
                    let started = Instant::now();
                    while outcomes <= rewritten_at {
                        if reloaded(coo.update(), &coo, &mut greet) {
                            outcomes += 1;
                            break;
                        }
                        if started.elapsed() > RELOAD_DEADLINE {
                            println!("no reload within {RELOAD_DEADLINE:?}");
                            break;
                        }
                        for _event in coo.events() {}
                        // The build runs in the background; look again shortly.
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                word => match word.parse::<usize>().ok().and_then(|n| {
                    let greeting = GREETINGS.get(n.checked_sub(1)?)?;
                    Some(greeting)
                }) {
                    Some(greeting) => match rewrite(&lib_rs, greeting) {
                        Ok(()) => {
                            rewritten_at = outcomes;
                            println!("rewrote {}: {greeting}", lib_rs.display())
                        }
                        Err(e) => println!("{e}"),
                    },
                    None => println!(
                        "unknown command `{word}`: 1-{}, greet, wait-reload, quit",
                        GREETINGS.len()
                    ),
                },
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Standard input closed: greet on until interrupted, unless there is nothing more
            // to do.
            Err(mpsc::RecvTimeoutError::Disconnected) if args.every.is_zero() => return Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
        }
        if say {
            next = Instant::now() + args.every;
            match coo.host_mut().call(&greet, &[]) {
                Ok(Value::String(text)) => println!("v{} {text}", coo.host().version()),
                Ok(other) => println!("`greet` returned {other}, not a `String`"),
                Err(e) => println!("{e}"),
            }
        }
    }
}
