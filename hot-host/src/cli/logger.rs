//! The logger of `hot-host run`: the plugin's `log` records (forwarded to the host at every load,
//! see [`coo_runtime::plugin::logs`]) printed on standard error as `[LEVEL target] message`,
//! filtered by `RUST_LOG` as `env_logger` reads it in its simple form: comma-separated
//! directives, each a level (`debug`) or a target prefix and its level (`my_plugin::ai=trace`);
//! the longest matching prefix wins. Without `RUST_LOG`, `info` and above are printed.

use log::{LevelFilter, Log, Metadata, Record};

/// `RUST_LOG`'s directives, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    /// The level of records no directive names the target of.
    default: LevelFilter,
    /// Target prefixes and their levels.
    targets: Vec<(String, LevelFilter)>,
}

impl LogFilter {
    /// Parses directives such as `warn,my_plugin=debug`; a directive that is not one is ignored.
    pub fn parse(text: &str) -> LogFilter {
        let mut filter = LogFilter {
            default: LevelFilter::Info,
            targets: Vec::new(),
        };
        for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match directive.split_once('=') {
                Some((target, level)) => {
                    if let Ok(level) = level.trim().parse() {
                        filter.targets.push((target.trim().to_owned(), level));
                    }
                }
                None => match directive.parse() {
                    Ok(level) => filter.default = level,
                    // A bare target: everything of it.
                    Err(_) => filter
                        .targets
                        .push((directive.to_owned(), LevelFilter::Trace)),
                },
            }
        }
        filter
    }

    /// The level up to which records of `target` are printed.
    pub fn level(&self, target: &str) -> LevelFilter {
        self.targets
            .iter()
            .filter(|(prefix, _)| {
                target == prefix
                    || target
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            })
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(self.default, |(_, level)| *level)
    }

    /// The most verbose level any target is printed at.
    pub fn max(&self) -> LevelFilter {
        self.targets
            .iter()
            .map(|(_, level)| *level)
            .fold(self.default, Ord::max)
    }
}

/// Prints records on standard error, filtered by a [`LogFilter`].
#[derive(Debug)]
pub struct StderrLogger {
    filter: LogFilter,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.filter.level(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger, filtered by `RUST_LOG`, as the process's, before any plugin is loaded
/// (a library's records are forwarded up to the level in force when it loads). Does nothing if
/// the process has a logger already.
pub fn install() {
    static LOGGER: std::sync::OnceLock<StderrLogger> = std::sync::OnceLock::new();
    let logger = LOGGER.get_or_init(|| StderrLogger {
        filter: LogFilter::parse(&std::env::var("RUST_LOG").unwrap_or_default()),
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(logger.filter.max());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_directives_info_and_above_are_printed() {
        let filter = LogFilter::parse("");
        assert_eq!(filter.level("my_plugin"), LevelFilter::Info);
        assert_eq!(filter.max(), LevelFilter::Info);
    }

    #[test]
    fn the_longest_matching_target_prefix_wins() {
        let filter = LogFilter::parse("warn, my_plugin=debug,my_plugin::ai=trace,other=off,bogus=");
        assert_eq!(filter.level("my_plugin"), LevelFilter::Debug);
        assert_eq!(filter.level("my_plugin::sim"), LevelFilter::Debug);
        assert_eq!(filter.level("my_plugin::ai"), LevelFilter::Trace);
        assert_eq!(filter.level("my_plugin::ai::path"), LevelFilter::Trace);
        // A prefix of the name, not of the path: not a match.
        assert_eq!(filter.level("my_plugin_two"), LevelFilter::Warn);
        assert_eq!(filter.level("other"), LevelFilter::Off);
        assert_eq!(filter.level("elsewhere"), LevelFilter::Warn);
        assert_eq!(filter.max(), LevelFilter::Trace);
    }

    #[test]
    fn a_bare_level_sets_the_default_and_a_bare_target_prints_all_of_it() {
        let filter = LogFilter::parse("off,my_plugin");
        assert_eq!(filter.level("my_plugin::x"), LevelFilter::Trace);
        assert_eq!(filter.level("cargo"), LevelFilter::Off);
    }
}
