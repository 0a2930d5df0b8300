//! Plugin logs: records a plugin emits through the `log` facade reach the host's logger.
//!
//! A plugin library has its own copy of `log` (statically linked into its image, like its own
//! `std`), with no logger of its own: its records would go nowhere. A host installs, in every
//! library it loads, a *forwarding logger* ([`crate::plugin::Manifest::set_log_sink`]): this
//! copy of the runtime registers [`Forward`] as its image's logger, with the host's maximum
//! level at that moment, and `Forward` hands each record to the host's [`LogSink`], a function
//! of the host that logs it through the host's own `log` (with the plugin's module path as
//! target, as `log`'s macros set it).
//!
//! What crosses: only borrowed views. The message is formatted inside the plugin, into a
//! buffer of the plugin's allocator, which the plugin frees after the call; the sink gets
//! [`StrRef`]s valid for the call only, and builds the host's `log::Record` with non-`'static`
//! strings, so that no logger of the host can keep a pointer into the plugin's image past the
//! call (after which the image may be unmapped). A panic while formatting (a `Display` that
//! panics) is caught in the plugin and the record dropped; the host's sink catches panics of
//! the host's logger on its side: nothing unwinds across the boundary.
//!
//! The forwarding logger lives in the plugin's image and only the plugin's code calls it, so it
//! is never called once the image is unmapped; the host keeps no pointer to it.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicPtr, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::plugin::StrRef;

/// One record, as the plugin hands it to the host: every string borrowed for the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct LogRecord {
    /// `log::Level as usize`: 1 (error) to 5 (trace).
    pub level: usize,
    /// The record's target: the module path of the plugin's code, unless it set another.
    pub target: StrRef,
    /// The formatted message.
    pub message: StrRef,
    /// The module path, or empty.
    pub module_path: StrRef,
    /// The source file, or empty.
    pub file: StrRef,
    /// The line, or 0.
    pub line: u32,
}

/// A function of the host that logs one record through the host's logger.
pub type LogSink = extern "C" fn(record: &LogRecord);

/// The host's sink in this copy of the runtime (null: none installed).
static SINK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The logger a host installs in the libraries it loads.
#[derive(Debug)]
struct Forward;

static FORWARD: Forward = Forward;

/// Installs `sink` as where this copy of the runtime's image logs, and `max_level` (a
/// `LevelFilter as usize`) as its maximum level. What [`crate::plugin::Manifest`] exposes.
/// Does nothing in the image of `sink` itself (its records already reach its logger), and
/// leaves a logger the image set itself in place (only the level and the sink change).
pub fn set_log_sink(sink: LogSink, max_level: usize) {
    if sink as *const () == this_log_sink() as *const () {
        return;
    }
    SINK.store(sink as *mut (), Ordering::Release);
    let _ = log::set_logger(&FORWARD);
    log::set_max_level(level_filter(max_level));
}

/// The sink that logs through this copy of the runtime's `log`: what a host installs in the
/// libraries it loads, with `log::max_level() as usize`.
pub fn this_log_sink() -> LogSink {
    log_here
}

fn level_filter(n: usize) -> LevelFilter {
    match n {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

fn level(n: usize) -> Level {
    match n {
        0 | 1 => Level::Error,
        2 => Level::Warn,
        3 => Level::Info,
        4 => Level::Debug,
        _ => Level::Trace,
    }
}

fn view(s: &str) -> StrRef {
    StrRef {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

impl Log for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && !SINK.load(Ordering::Relaxed).is_null()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let sink = SINK.load(Ordering::Acquire);
        // SAFETY: only `set_log_sink` stores into `SINK`, and it stores a `LogSink`; not null
        // (checked by `enabled`, and never set back to null).
        let sink = unsafe { core::mem::transmute::<*mut (), LogSink>(sink) };
        // A `Display` of the arguments may panic: caught here, in the plugin's own `std`.
        let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match record.args().as_str() {
                Some(text) => std::borrow::Cow::Borrowed(text),
                None => {
                    let mut text = String::new();
                    let _ = write!(text, "{}", record.args());
                    std::borrow::Cow::Owned(text)
                }
            }
        }));
        let Ok(message) = message else { return };
        sink(&LogRecord {
            level: record.level() as usize,
            target: view(record.target()),
            message: view(&message),
            module_path: view(record.module_path().unwrap_or("")),
            file: view(record.file().unwrap_or("")),
            line: record.line().unwrap_or(0),
        });
        // `message` is freed here, by the plugin that allocated it.
    }

    fn flush(&self) {}
}

/// Logs a plugin's record through this image's logger.
extern "C" fn log_here(record: &LogRecord) {
    // A logger that panics must not unwind into the plugin (another copy of `std`).
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `LogSink`'s contract: every string is readable for the call.
        let (target, message, module_path, file) = unsafe {
            (
                record.target.read(),
                record.message.read(),
                record.module_path.read(),
                record.file.read(),
            )
        };
        let level = level(record.level);
        if level > log::max_level() {
            return;
        }
        let logger = log::logger();
        // Non-`'static` strings only: no logger can keep a pointer into the plugin's image.
        logger.log(
            &Record::builder()
                .level(level)
                .target(&target)
                .args(format_args!("{message}"))
                .module_path((!module_path.is_empty()).then_some(&*module_path))
                .file((!file.is_empty()).then_some(&*file))
                .line((record.line != 0).then_some(record.line))
                .build(),
        );
    });
}
