//! End to end: records a plugin emits through the `log` facade reach the host's logger, with the
//! plugin's module path as target, up to the host's level, across reloads; a record whose
//! formatting panics is dropped inside the plugin. A test binary of its own: it installs the
//! process's logger.

mod support;

use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};
use support::Plugin;

/// What the test's logger received: level, target, message, module path.
type Seen = (Level, String, String, Option<String>);

static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        SEEN.lock().unwrap().push((
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
            record.module_path().map(str::to_owned),
        ));
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

/// The records the plugin logged (the host's own, such as cargo's, are not of its crate).
fn take(krate: &str) -> Vec<Seen> {
    let mut seen = SEEN.lock().unwrap();
    let all = std::mem::take(&mut *seen);
    all.into_iter().filter(|r| r.1.starts_with(krate)).collect()
}

fn seen(level: Level, target: &str, message: &str) -> Seen {
    (level, target.into(), message.into(), Some(target.into()))
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds plugin crates with cargo and dlopens them: process spawning and FFI, which Miri cannot run"
)]
fn plugin_records_reach_the_hosts_logger_with_their_module_path() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(LevelFilter::Debug);
    let plugin = Plugin::copy("log-plugin", "log_plugin_e2e");
    let mut host = plugin.host();
    let shout = host.resolve_typed::<fn(u32) -> u32>("shout").unwrap();
    assert_eq!(shout.call(&mut host, (3,)), Ok(3));
    assert_eq!(
        take("log_plugin_e2e"),
        [
            seen(Level::Info, "log_plugin_e2e", "shouting 3"),
            // `trace!` is above the host's level: not even formatted.
            seen(Level::Debug, "log_plugin_e2e::quiet", "whispering 6"),
        ]
    );

    // A `Display` that panics: caught in the plugin, the record dropped, the call unharmed.
    let explode = host.resolve_typed::<fn() -> u32>("explode").unwrap();
    assert_eq!(explode.call(&mut host, ()), Ok(7));
    assert_eq!(take("log_plugin_e2e"), []);

    // The next version logs to the host too, at the host's level then.
    log::set_max_level(LevelFilter::Info);
    plugin.edit(&[("shouting {n}", "yelling {n}")]);
    host.reload()
        .unwrap_or_else(|e| panic!("reload failed: {e}"));
    assert_eq!(shout.call(&mut host, (4,)), Ok(4));
    assert_eq!(
        take("log_plugin_e2e"),
        [seen(Level::Info, "log_plugin_e2e", "yelling 4")]
    );
}
