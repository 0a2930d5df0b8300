//! The line editor of `hot-host run` on a terminal: rustyline with a [`Helper`] that completes
//! and hints from the living program ([`crate::cli::completion`]), a prompt that shows the
//! running version ([`VersionPrompt`], `v3> `), and a history kept across runs in a file per
//! plugin (the state directory's `history`), with rustyline's usual keys (↑/↓, Ctrl-R).
//!
//! Completion lists every candidate when there are several (as bash does), after completing
//! their common prefix. Hints are dimmed when the terminal takes colour (not with `NO_COLOR`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::config::{CompletionType, Config};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Prompt};

use crate::cli::completion::SharedIndex;
use crate::cli::completion::complete::{self, Completion};

/// What the line editor is given: the index it completes from and the history file.
#[derive(Debug, Clone, Default)]
pub struct Editing {
    pub index: SharedIndex,
    /// Where the history is kept across runs; `None`: for this run only.
    pub history: Option<PathBuf>,
}

/// The file the history of a plugin whose state directory is `state_dir` is kept in.
pub fn history_file(state_dir: &Path) -> PathBuf {
    state_dir.join("history")
}

/// Completes, hints and dims hints for the line editor, from the index the loop refreshes.
pub struct Helper {
    index: SharedIndex,
    files: FilenameCompleter,
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helper")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Helper {
    pub fn new(index: SharedIndex) -> Helper {
        Helper {
            index,
            files: FilenameCompleter::new(),
        }
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        match self
            .index
            .read(|index| complete::complete(index, line, pos))
        {
            Completion::Words { start, candidates } => Ok((
                start,
                candidates
                    .into_iter()
                    .map(|c| Pair {
                        display: c.display,
                        replacement: c.replacement,
                    })
                    .collect(),
            )),
            Completion::FileName => self.files.complete_path(line, pos),
        }
    }
}

/// A hint that only shows: the arrow key does not insert it (it names arguments, it is not
/// text to type).
#[derive(Debug)]
pub struct ArgsHint(String);

impl Hint for ArgsHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Hinter for Helper {
    type Hint = ArgsHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<ArgsHint> {
        self.index
            .read(|index| complete::hint(index, line, pos))
            .map(ArgsHint)
    }
}

impl Highlighter for Helper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        let dim = anstyle::Style::new().dimmed();
        Cow::Owned(format!("{dim}{hint}{dim:#}"))
    }
}

impl Validator for Helper {}

impl rustyline::Helper for Helper {}

/// The prompt `v3> `: the version running when it is drawn, also when the line is drawn again
/// below a reload's report while it is typed. It keeps the width it had when the line was begun
/// (the editor places the cursor by it): `v10>` for a line begun as `v9> `.
#[derive(Debug)]
pub struct VersionPrompt {
    index: SharedIndex,
    width: usize,
}

impl VersionPrompt {
    pub fn new(index: SharedIndex) -> VersionPrompt {
        let width = prompt_text(index.version(), None).len();
        VersionPrompt { index, width }
    }
}

impl Prompt for VersionPrompt {
    fn raw(&self) -> &str {
        prompt_text(self.index.version(), Some(self.width))
    }
}

/// `v3> `, or fitted to `width` columns when it can be (a space less or more). Each text is made
/// once and kept for the run (a few bytes for each version that ran), so the editor may hold
/// it while it draws.
fn prompt_text(version: u64, width: Option<usize>) -> &'static str {
    static TEXTS: Mutex<BTreeMap<(u64, Option<usize>), &'static str>> = Mutex::new(BTreeMap::new());
    let mut texts = TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    texts.entry((version, width)).or_insert_with(|| {
        let text = format!("v{version}>");
        let text = match width {
            Some(width) if width > text.len() => format!("{text:width$}"),
            _ if width == Some(text.len()) => text,
            _ => format!("{text} "),
        };
        Box::leak(text.into_boxed_str())
    })
}

/// A line editor with the helper over `editing.index` and the history of `editing.history`
/// loaded (a missing file is an empty history).
pub fn editor(editing: &Editing) -> rustyline::Result<Editor<Helper, FileHistory>> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .max_history_size(1000)?
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(Helper::new(editing.index.clone())));
    if let Some(file) = &editing.history
        && file.exists()
    {
        editor.load_history(file)?;
    }
    Ok(editor)
}

/// Adds `line` to the history, and appends it to the history file.
pub fn remember(editor: &mut Editor<Helper, FileHistory>, editing: &Editing, line: &str) {
    if !matches!(editor.add_history_entry(line), Ok(true)) {
        return;
    }
    if let Some(file) = &editing.history {
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // The history is a convenience: a file that cannot be written costs only the recall.
        let _ = editor.append_history(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::completion::CompletionIndex;

    #[test]
    fn the_prompt_shows_the_running_version_in_the_width_it_began_with() {
        let index = SharedIndex::default();
        index.set(CompletionIndex {
            version: 9,
            ..CompletionIndex::default()
        });
        let prompt = VersionPrompt::new(index.clone());
        assert_eq!(prompt.raw(), "v9> ");
        index.set(CompletionIndex {
            version: 10,
            ..CompletionIndex::default()
        });
        assert_eq!(prompt.raw(), "v10>");
        assert_eq!(VersionPrompt::new(index.clone()).raw(), "v10> ");
        let wide = VersionPrompt::new(index.clone());
        index.set(CompletionIndex {
            version: 2,
            ..CompletionIndex::default()
        });
        assert_eq!(wide.raw(), "v2>  ");
    }
}
