//! What a reload changed, and how it is shown: [`ReloadReport`], its one-line
//! [`summary`](ReloadReport::summary) and its block ([`render`](ReloadReport::render)).

use std::fmt;
use std::time::Duration;

use anstyle::Style;
use coo_runtime::plugin::panics::DropPanic;

use crate::load::{Kept, Pinned};

/// The styles of a rendered report. Whether they are shown is the caller's choice (`color` in
/// [`ReloadReport::render`]).
pub mod styles {
    use anstyle::{AnsiColor, Style};

    /// The `version N -> M` head.
    pub const HEAD: Style = AnsiColor::Green.on_default().bold();
    /// What was added: functions, fields, types.
    pub const ADDED: Style = AnsiColor::Green.on_default();
    /// What was removed, and dropped values whose `Drop` panicked.
    pub const REMOVED: Style = AnsiColor::Red.on_default();
    /// What changed, and old versions that stay mapped.
    pub const CHANGED: Style = AnsiColor::Yellow.on_default();
    /// The name of a migrated type.
    pub const TYPE: Style = Style::new().bold();
}

/// What a reload changed.
#[derive(Debug, Clone)]
pub struct ReloadReport {
    pub from_version: u64,
    pub to_version: u64,
    /// Time spent in cargo, when the reload built.
    pub build: Option<Duration>,
    /// Copy, dlopen, header check and manifest.
    pub load: Duration,
    /// Diff, plan, migration and swap.
    pub migrate: Duration,
    pub fns_added: Vec<String>,
    pub fns_removed: Vec<String>,
    /// `(name, old signature, new signature)`.
    pub fns_changed: Vec<(String, String, String)>,
    /// Functions whose code was swapped with the same signature.
    pub fns_updated: usize,
    /// Functions whose chosen implementation (`Host::choose`) the new version no longer has:
    /// their own code runs now.
    pub alternatives_gone: Vec<crate::slots::AlternativeGone>,
    /// Import slots of other plugins that this reload cut: the function they call is gone, or
    /// its signature no longer matches their declaration (see [`crate::embed::Plugins`]).
    pub imports_cut: Vec<crate::reload::CutImport>,
    /// The other plugins that reloaded in the same transaction, sorted: they share a crate that
    /// changed (see [`crate::embed::Plugins`]). Empty when this plugin reloaded alone.
    pub together: Vec<String>,
    pub migration: coo_runtime::Report,
    /// Plugin images mapped after the reload: the current one, old ones still held (by a
    /// handle) or pinned, rejected ones.
    pub kept: Kept,
    /// Old versions this reload released but that stay mapped (see [`crate::load`]), with why.
    pub pinned: Vec<Pinned>,
    /// Values whose `Drop` panicked since the last report (during this reload: removed fields,
    /// replaced values): each was leaked, not dropped again.
    pub drop_panics: Vec<DropPanic>,
}

impl ReloadReport {
    /// Time Coo spent (everything but the build).
    pub fn reload_time(&self) -> Duration {
        self.load + self.migrate
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

impl ReloadReport {
    /// One line: `reloaded 2 -> 3 in 412.3 ms (build 409.1 ms, reload 3.2 ms): 1 type migrated, 1 fn changed`.
    pub fn summary(&self, latency: Option<Duration>) -> String {
        let mut parts = Vec::new();
        let types = self.migration.types.len();
        if types > 0 {
            parts.push(format!(
                "{types} type{} migrated",
                if types == 1 { "" } else { "s" }
            ));
        }
        for (n, what) in [
            (self.fns_added.len(), "added"),
            (self.fns_removed.len(), "removed"),
            (self.fns_changed.len(), "changed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} fn{} {what}", if n == 1 { "" } else { "s" }));
            }
        }
        for gone in &self.alternatives_gone {
            parts.push(format!("`{}` runs `{}`", gone.function, gone.running));
        }
        if parts.is_empty() {
            parts.push("code swapped".to_owned());
        }
        format!(
            "reloaded {} -> {}{} ({}): {}",
            self.from_version,
            self.to_version,
            latency.map_or(String::new(), |l| format!(" in {}", ms(l))),
            self.times(),
            parts.join(", ")
        )
    }

    fn times(&self) -> String {
        match self.build {
            Some(build) => format!("build {}, reload {}", ms(build), ms(self.reload_time())),
            None => format!("reload {}", ms(self.reload_time())),
        }
    }

    /// The report as a block, styled when `color` (for terminals; see [`styles`]); `latency` is the
    /// time from the save to the new code being live, when known.
    pub fn render(&self, color: bool, latency: Option<Duration>) -> String {
        let paint = |style: Style, text: &str| {
            if color {
                format!("{style}{text}{style:#}")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let head = format!("version {} -> {}", self.from_version, self.to_version);
        out.push_str(&paint(styles::HEAD, &head));
        out.push_str(&format!(
            " ({}{}: load {}, migrate {})\n",
            latency.map_or(String::new(), |l| format!(
                "live {} after the save; ",
                ms(l)
            )),
            self.times(),
            ms(self.load),
            ms(self.migrate)
        ));
        for name in &self.fns_added {
            out.push_str(&paint(styles::ADDED, &format!("  + fn {name}")));
            out.push('\n');
        }
        for name in &self.fns_removed {
            out.push_str(&paint(styles::REMOVED, &format!("  - fn {name}")));
            out.push('\n');
        }
        for (name, old, new) in &self.fns_changed {
            out.push_str(&paint(
                styles::CHANGED,
                &format!("  ~ fn {name}: {old} -> {new}"),
            ));
            out.push('\n');
        }
        for gone in &self.alternatives_gone {
            out.push_str(&paint(styles::CHANGED, &format!("  ~ fn {gone}")));
            out.push('\n');
        }
        if self.fns_updated > 0 {
            out.push_str(&format!(
                "  {} function{} swapped\n",
                self.fns_updated,
                if self.fns_updated == 1 { "" } else { "s" }
            ));
        }
        for t in &self.migration.types {
            for line in t.diff.to_string().lines() {
                let style = match line.trim_start().chars().next() {
                    Some('+') => styles::ADDED,
                    Some('-') => styles::REMOVED,
                    Some('~' | '>') => styles::CHANGED,
                    _ => styles::TYPE,
                };
                out.push_str(&paint(style, &format!("  {line}")));
                out.push('\n');
            }
            out.push_str(&format!(
                "    {} value{} migrated\n",
                t.values,
                if t.values == 1 { "" } else { "s" }
            ));
        }
        for (name, n) in &self.migration.rebound {
            out.push_str(&format!(
                "  rebound {n} `dyn {name}` object{} to the new code\n",
                if *n == 1 { "" } else { "s" }
            ));
            for line in self.migration.reboxed_lines(name) {
                out.push_str(&format!("    {line}\n"));
            }
        }
        for cut in &self.imports_cut {
            out.push_str(&paint(styles::REMOVED, &format!("  ! {cut}")));
            out.push('\n');
        }
        for panic in &self.drop_panics {
            out.push_str(&paint(styles::REMOVED, &format!("  ! {panic}")));
            out.push('\n');
        }
        for pinned in &self.pinned {
            out.push_str(&paint(styles::CHANGED, &format!("  ! {pinned}")));
            out.push('\n');
        }
        if !self.migration.kept.is_empty() {
            out.push_str(&format!(
                "  unchanged, kept in place: {}\n",
                self.migration.kept.join(", ")
            ));
        }
        out.push_str(&format!(
            "  {} librar{} mapped ({:.1} MiB)",
            self.kept.libraries,
            if self.kept.libraries == 1 { "y" } else { "ies" },
            self.kept.bytes as f64 / (1024.0 * 1024.0)
        ));
        out
    }
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false, None))
    }
}
