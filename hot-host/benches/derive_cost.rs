//! What Coo's macros cost the compiler, against the same source without them (issue 13), and
//! what loading a large plugin image costs the host.
//!
//! Generates plugin crates under `target/coo-bench/derive-cost/`, each in two forms with the
//! same structs and functions: **coo** (`#[derive(CooType)]` on every struct, `#[hot_fn]` on every
//! function) and **plain** (the derives and attributes removed, the functions exported with
//! `#[unsafe(no_mangle)]` so that the compiler still generates their code). Both depend on
//! `regex` and `serde_json`, as a real plugin does, and build as `cdylib` + `rlib`. Two families:
//!
//! - **types**: `n` structs of four fields (`u32`, `f32`, `u64`, `String`) and one `Big`
//!   resource holding one of each, two functions;
//! - **fns**: ten such structs and `n` functions, each taking `&mut Big`.
//!
//! For each, after an untimed first build, `REPS` rounds of: change a tenth of the structs
//! (their `u32` field becomes `u64`, and back in the next round) and time `cargo check`, then
//! `cargo build`; then change a constant in one function body and time `cargo build`. Medians,
//! coo and plain of one size one after the other, so that both see the same machine.
//!
//! Then the largest coo image is loaded by [`hot_host::load::Loader`] as a fresh build is (a file
//! no mapping of this process shows: a hard link) and as the same build again (a copy), beside a
//! plain `std::fs::copy` of it.
//!
//! Run with `cargo bench -p hot-host --bench derive_cost` (about 15 minutes on two cores), or
//! `-- 10 100` for other sizes. Prints a markdown table. With `--write` it only writes the
//! crates (for `-Ztime-passes` or `-Zunpretty=expanded` runs by hand) and exits.
//!
//! With `-- --live 300` (sizes as above, default 300) it measures what a user waits for instead,
//! on the coo **types** plugin of each size: a reload without cargo from an already built image
//! (load, header check, plan, migrate, swap: the same code again, and a tenth of the structs
//! widened), and edit-to-live (a body edit saved to disk, seen by the watcher, built by cargo,
//! reloaded, and the new code's first call), split into cargo and Coo's own share.

mod support;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{median, ms, workspace};

const REPS: usize = 5;

#[derive(Clone, Copy, PartialEq)]
enum Family {
    Types,
    Fns,
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Coo,
    Plain,
}

/// One generated crate.
struct Plugin {
    dir: PathBuf,
    name: String,
    family: Family,
    form: Form,
    n: usize,
}

impl Plugin {
    fn new(root: &Path, family: Family, form: Form, n: usize) -> Plugin {
        let name = format!(
            "cost-{}-{}-{n}",
            match family {
                Family::Types => "types",
                Family::Fns => "fns",
            },
            match form {
                Form::Coo => "coo",
                Form::Plain => "plain",
            }
        );
        let plugin = Plugin {
            dir: root.join(&name),
            name,
            family,
            form,
            n,
        };
        fs::create_dir_all(plugin.dir.join("src")).unwrap();
        let runtime = workspace().join("coo-runtime");
        let coo_dep = match form {
            Form::Coo => format!(
                "coo-runtime = {{ path = {:?} }}\n",
                runtime.display().to_string()
            ),
            Form::Plain => String::new(),
        };
        fs::write(
            plugin.dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n[dependencies]\n{coo_dep}\
                 regex = \"1\"\nserde_json = \"1\"\n\n[workspace]\n",
                plugin.name
            ),
        )
        .unwrap();
        // The workspace's lock file pins the versions the workspace builds already (regex and
        // serde_json are dependencies of its own crates), so no resolution differs between runs.
        fs::copy(
            workspace().join("Cargo.lock"),
            plugin.dir.join("Cargo.lock"),
        )
        .unwrap();
        plugin.write(false, 1);
        plugin
    }

    fn structs(&self) -> usize {
        match self.family {
            Family::Types => self.n,
            Family::Fns => 10,
        }
    }

    fn fns(&self) -> usize {
        match self.family {
            Family::Types => 2,
            Family::Fns => self.n,
        }
    }

    /// Writes `src/lib.rs`: with `widened`, the first tenth of the structs hold a `u64` where
    /// they held a `u32`; `step` is the constant in the first function's body.
    fn write(&self, widened: bool, step: u32) {
        let coo = self.form == Form::Coo;
        let derive = if coo {
            "#[derive(CooType, Debug, Default)]"
        } else {
            "#[derive(Debug, Default)]"
        };
        let attr = if coo {
            "#[hot_fn]"
        } else {
            "#[unsafe(no_mangle)]"
        };
        let structs = self.structs();
        let changed = structs.div_ceil(10);
        let mut s = String::new();
        if coo {
            s.push_str("use coo_runtime::{CooType, hot_fn};\n\n");
        }
        for i in 0..structs {
            let a = if widened && i < changed { "u64" } else { "u32" };
            writeln!(
                s,
                "{derive}\npub struct S{i} {{\n    pub a: {a},\n    pub b: f32,\n    pub c: u64,\n    pub d: String,\n}}\n"
            )
            .unwrap();
        }
        writeln!(s, "{derive}\npub struct Big {{").unwrap();
        for i in 0..structs {
            writeln!(s, "    pub s{i}: S{i},").unwrap();
        }
        s.push_str("}\n\n");
        writeln!(
            s,
            "{attr}\npub fn init() -> Big {{\n    Big::default()\n}}\n"
        )
        .unwrap();
        writeln!(
            s,
            "{attr}\npub fn tick(big: &mut Big) -> u64 {{\n    big.s0.c += {step};\n    big.s0.c + count(\"[1, 2, 3] 45 6\") as u64\n}}\n"
        )
        .unwrap();
        for f in 2..self.fns() {
            let i = f % structs;
            writeln!(
                s,
                "{attr}\npub fn f{f}(big: &mut Big) -> u64 {{\n    big.s{i}.c += {f};\n    big.s{i}.c\n}}\n"
            )
            .unwrap();
        }
        s.push_str(
            "/// Keeps `regex` and `serde_json` in the build, as a real plugin's code would.\n\
             pub fn count(text: &str) -> usize {\n    \
             let numbers = regex::Regex::new(r\"\\d+\").unwrap().find_iter(text).count();\n    \
             let json = serde_json::from_str::<serde_json::Value>(text.split(' ').next().unwrap_or(\"\"))\n        \
             .map_or(0, |v| v.as_array().map_or(0, Vec::len));\n    numbers + json\n}\n",
        );
        fs::write(self.dir.join("src/lib.rs"), s).unwrap();
    }

    fn cargo(&self, target: &Path, verb: &str) -> Duration {
        let start = Instant::now();
        let out = Command::new(env!("CARGO"))
            .arg(verb)
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .unwrap();
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "cargo {verb} of {} failed:\n{}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }

    fn dylib(&self, target: &Path) -> PathBuf {
        target.join("debug").join(format!(
            "{}{}{}",
            std::env::consts::DLL_PREFIX,
            self.name.replace('-', "_"),
            std::env::consts::DLL_SUFFIX
        ))
    }
}

/// Medians of one crate's rounds.
struct Times {
    check_layout: Duration,
    build_layout: Duration,
    build_body: Duration,
}

fn measure(plugin: &Plugin, target: &Path) -> Times {
    plugin.write(false, 1);
    plugin.cargo(target, "check");
    plugin.cargo(target, "build");
    let (mut check_layout, mut build_layout, mut build_body) = (vec![], vec![], vec![]);
    for rep in 0..REPS {
        let widened = rep % 2 == 0;
        plugin.write(widened, 1);
        check_layout.push(plugin.cargo(target, "check"));
        build_layout.push(plugin.cargo(target, "build"));
        plugin.write(widened, 2 + rep as u32);
        build_body.push(plugin.cargo(target, "build"));
    }
    Times {
        check_layout: median(check_layout),
        build_layout: median(build_layout),
        build_body: median(build_body),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ratio(coo: Duration, plain: Duration) -> String {
    format!("{:.2}×", coo.as_secs_f64() / plain.as_secs_f64())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks for names; this program has no named benches
    }
    if std::env::args().any(|a| a == "--live") {
        return live_main();
    }
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 300]
    } else {
        sizes
    };
    let root = workspace()
        .join("target")
        .join("coo-bench")
        .join("derive-cost");
    let target = root.join("target");
    if std::env::args().any(|a| a == "--write") {
        for family in [Family::Types, Family::Fns] {
            for &n in &sizes {
                for form in [Form::Coo, Form::Plain] {
                    println!("{}", Plugin::new(&root, family, form, n).dir.display());
                }
            }
        }
        return;
    }
    println!(
        "| family | n | `cargo check`, layout edit: coo / plain | `cargo build`, body edit | `cargo build`, layout edit |"
    );
    println!("|---|---|---|---|---|");
    let mut largest = None;
    for family in [Family::Types, Family::Fns] {
        for &n in &sizes {
            let coo = Plugin::new(&root, family, Form::Coo, n);
            let plain = Plugin::new(&root, family, Form::Plain, n);
            let c = measure(&coo, &target);
            let p = measure(&plain, &target);
            println!(
                "| {} | {n} | {} / {} (**{}**) | {} / {} (**{}**) | {} / {} (**{}**) |",
                if family == Family::Types {
                    "types"
                } else {
                    "fns"
                },
                secs(c.check_layout),
                secs(p.check_layout),
                ratio(c.check_layout, p.check_layout),
                secs(c.build_body),
                secs(p.build_body),
                ratio(c.build_body, p.build_body),
                secs(c.build_layout),
                secs(p.build_layout),
                ratio(c.build_layout, p.build_layout),
            );
            if family == Family::Types {
                largest = Some(coo);
            }
        }
    }
    if let Some(plugin) = largest {
        load_times(&plugin, &target);
    }
}

/// Loading the largest coo image: through a hard link (a fresh build) and through a copy (the
/// same build again, while the first load is mapped), beside `fs::copy`.
fn load_times(plugin: &Plugin, target: &Path) {
    plugin.cargo(target, "build");
    let built = plugin.dylib(target);
    let bytes = fs::metadata(&built).unwrap().len();
    let loader = hot_host::load::Loader::in_target_dir(target);
    let scratch = target.join("derive-cost-fresh");
    fs::create_dir_all(&scratch).unwrap();
    let (mut linked, mut copied, mut plain_copy) = (vec![], vec![], vec![]);
    for i in 0..REPS * 2 {
        // A file of its own (untimed), as a fresh cargo output is.
        let fresh = scratch.join(format!("fresh-{i}{}", std::env::consts::DLL_SUFFIX));
        let start = Instant::now();
        fs::copy(&built, &fresh).unwrap();
        plain_copy.push(start.elapsed());
        let start = Instant::now();
        let first = loader.load(&fresh).unwrap();
        linked.push(start.elapsed());
        let start = Instant::now();
        let second = loader.load(&fresh).unwrap();
        copied.push(start.elapsed());
        drop((first, second));
        fs::remove_file(&fresh).unwrap();
    }
    println!(
        "\n`Loader::load` of {} ({:.1} MB): fresh build (hard link) {}, the same build again (copy) {}; `fs::copy` alone {} (medians of {})",
        plugin.name,
        bytes as f64 / 1e6,
        ms(median(linked)),
        ms(median(copied)),
        ms(median(plain_copy)),
        REPS * 2
    );
}

/// `--live`: reload without cargo, and edit-to-live, for the coo types plugin of each size.
fn live_main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![300] } else { sizes };
    let root = workspace()
        .join("target")
        .join("coo-bench")
        .join("derive-cost");
    let target = root.join("target");
    for n in sizes {
        let plugin = Plugin::new(&root, Family::Types, Form::Coo, n);
        load_times(&plugin, &target);
        reload_times(&plugin, &target);
        if !std::env::args().any(|a| a == "--no-edit") {
            edit_to_live(&plugin, &target);
        }
    }
}

/// Builds the plugin as `write(widened, step)` leaves it, and keeps its library under a name of
/// its own (the next build replaces cargo's output).
fn stash(plugin: &Plugin, target: &Path, widened: bool, step: u32, name: &str) -> PathBuf {
    plugin.write(widened, step);
    plugin.cargo(target, "build");
    let kept = target.join(format!(
        "{}-{name}{}",
        plugin.name,
        std::env::consts::DLL_SUFFIX
    ));
    fs::copy(plugin.dylib(target), &kept).unwrap();
    kept
}

/// `Host::reload_from` an already built library, `REPS * 2` times each way.
fn reload_times(plugin: &Plugin, target: &Path) {
    let base = stash(plugin, target, false, 1, "base");
    let body = stash(plugin, target, false, 2, "body");
    let layout = stash(plugin, target, true, 1, "layout");
    let bytes = fs::metadata(&base).unwrap().len();
    let mut host =
        hot_host::Host::with_builder(hot_host::Builder::new(&plugin.dir).with_target_dir(target));
    host.reload_from(&base, None).expect("the plugin loads");
    host.call_by_name("init", &[]).expect("init runs");
    let (mut same, mut widened) = (vec![], vec![]);
    for _ in 0..REPS * 2 {
        // base -> body: the same layouts; body -> layout and layout -> base: a tenth of the
        // structs widened, then narrowed back.
        for (next, changed) in [(&body, false), (&layout, true), (&base, true)] {
            let start = Instant::now();
            host.reload_from(next, None)
                .expect("the reload is accepted");
            let took = start.elapsed();
            if changed { &mut widened } else { &mut same }.push(took);
        }
    }
    host.call_by_name("tick", &[])
        .expect("the last version runs");
    println!(
        "\nreload without cargo of {} ({:.1} MB image): layouts unchanged {}, a tenth of the structs changed {} (medians of {} and {})",
        plugin.name,
        bytes as f64 / 1e6,
        ms(median(same)),
        ms(median(widened)),
        REPS * 2,
        REPS * 4
    );
}

/// A body edit saved to disk, to the first call of the new code: `REPS * 2` times.
fn edit_to_live(plugin: &Plugin, target: &Path) {
    plugin.write(false, 1);
    let mut host =
        hot_host::Host::with_builder(hot_host::Builder::new(&plugin.dir).with_target_dir(target));
    host.reload().expect("the plugin builds and loads");
    host.call_by_name("init", &[]).expect("init runs");
    let tick = host.resolve("tick").unwrap();
    let watcher = hot_host::Watcher::new(
        hot_host::watched_paths(&plugin.dir).unwrap(),
        hot_host::embed::DEBOUNCE,
    )
    .unwrap();
    let (mut watch, mut cargo, mut reload, mut total) = (vec![], vec![], vec![], vec![]);
    for run in 0..REPS * 2 {
        let step = 10 + run as u32;
        let before = host.call(&tick, &[]).unwrap();
        let saved = Instant::now();
        plugin.write(false, step);
        watcher
            .recv_timeout(Duration::from_secs(60))
            .expect("the watcher sees the save");
        let seen = Instant::now();
        let built = host.builder().build().expect("the edit builds");
        host.reload_from(&built.dylib, Some(built.duration))
            .expect("the reload is accepted");
        let after = host.call(&tick, &[]).unwrap();
        let live = Instant::now();
        // The new body adds `step` where the old one added the previous step.
        assert_ne!(format!("{before:?}"), format!("{after:?}"));
        watch.push(seen - saved);
        cargo.push(built.duration);
        reload.push(live - seen - built.duration);
        total.push(live - saved);
        // Late duplicate events of this save are not the next edit's.
        while watcher.recv_timeout(Duration::from_millis(300)).is_some() {}
    }
    let (w, c, r, t) = (median(watch), median(cargo), median(reload), median(total));
    let own = t.saturating_sub(c);
    println!(
        "edit-to-live of {} (body edit, medians of {}): total {}; watcher {}, cargo {}, reload + first call {}; Coo's own share {} = {:.1}%",
        plugin.name,
        REPS * 2,
        ms(t),
        ms(w),
        ms(c),
        ms(r),
        ms(own),
        100.0 * own.as_secs_f64() / t.as_secs_f64()
    );
}
