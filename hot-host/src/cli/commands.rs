//! The table of the command language: every command with its arguments, what it does and an
//! example ([`COMMANDS`]), read by the parser (which words a command takes), by `help` (the text
//! it prints, [`help`] and [`help_of`]) and by the line editor (what to complete and hint for
//! each argument, [`Operand`]), so the three cannot drift apart; and how a line is split into
//! words ([`split_words`]).

use std::fmt::Write as _;

/// One command of the language: what the parser accepts and what `help` says about it.
#[derive(Debug)]
pub struct Command {
    /// The word that names it.
    pub name: &'static str,
    /// Another word for it (`exit` for `quit`).
    pub alias: Option<&'static str>,
    /// The words after the name, in order.
    pub args: &'static [Arg],
    /// One line on what it does.
    pub about: &'static str,
    /// A line that uses it.
    pub example: &'static str,
    pub(crate) action: Action,
}

/// What an argument is: how `help` names it (`<path>`) and what the line editor completes for
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// A hot function's name.
    Fn,
    /// An argument of the hot function named before it.
    FnArg,
    /// A path into the live state: `World.particles[0].pos`.
    Path,
    /// A JSON value for the path before it.
    Json,
    /// A file name.
    File,
    /// A command's name.
    Command,
    /// A type's name.
    Type,
    /// The name of one implementation of the hot function named before it (A/B alternatives).
    Alternative,
}

impl Operand {
    /// The name `help` shows between `<` and `>`.
    pub fn name(self) -> &'static str {
        match self {
            Operand::Fn => "fn",
            Operand::FnArg => "arg",
            Operand::Path => "path",
            Operand::Json => "json",
            Operand::File => "file",
            Operand::Command => "command",
            Operand::Type => "type",
            Operand::Alternative => "impl",
        }
    }
}

/// One argument of a [`Command`]: how `help` shows it and how many words the parser takes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// `<name>`: one word.
    Word(Operand),
    /// `[<name>]`: one word or none.
    OptionalWord(Operand),
    /// `[--flag]`: the flag or nothing.
    Flag(&'static str),
    /// `<name>`: one word or more, to the end of the line, joined by single spaces (JSON such as
    /// `[1.0, 2.0]` may be typed unquoted).
    Text(Operand),
    /// `[<name>...]`: any number of words.
    Words(Operand),
    /// Nothing is shown; words after the name are ignored.
    Ignored,
}

impl Arg {
    /// The least and the most words this argument takes (`None`: no limit).
    fn words(self) -> (usize, Option<usize>) {
        match self {
            Arg::Word(_) => (1, Some(1)),
            Arg::OptionalWord(_) | Arg::Flag(_) => (0, Some(1)),
            Arg::Text(_) => (1, None),
            Arg::Words(_) | Arg::Ignored => (0, None),
        }
    }

    /// How `help` shows it: `<path>`, `[--json]`; empty for [`Arg::Ignored`].
    pub fn usage(self) -> String {
        match self {
            Arg::Word(what) | Arg::Text(what) => format!("<{}>", what.name()),
            Arg::OptionalWord(what) => format!("[<{}>]", what.name()),
            Arg::Flag(flag) => format!("[{flag}]"),
            Arg::Words(what) => format!("[<{}>...]", what.name()),
            Arg::Ignored => String::new(),
        }
    }

    /// What the argument is, for the line editor (a flag is no operand).
    pub fn operand(self) -> Option<Operand> {
        match self {
            Arg::Word(what) | Arg::OptionalWord(what) | Arg::Text(what) | Arg::Words(what) => {
                Some(what)
            }
            Arg::Flag(_) | Arg::Ignored => None,
        }
    }
}

impl Command {
    /// `state [<path>] [--json]`: the name and the arguments, as `help` shows them.
    pub fn usage(&self) -> String {
        let mut usage = self.name.to_owned();
        for arg in self.args {
            let arg = arg.usage();
            if !arg.is_empty() {
                usage.push(' ');
                usage.push_str(&arg);
            }
        }
        usage
    }

    /// Whether `count` words after the name are what the arguments take.
    pub(crate) fn takes(&self, count: usize) -> bool {
        let (min, max) = self.args.iter().fold((0, Some(0)), |(min, max), arg| {
            let (least, most) = arg.words();
            (min + least, max.zip(most).map(|(a, b)| a + b))
        });
        count >= min && max.is_none_or(|max| count <= max)
    }

    /// The argument that word `index` after the name is (the last one, when it takes many
    /// words), or `None` past the arguments. A flag's word is the flag.
    pub fn arg_at(&self, index: usize) -> Option<Arg> {
        let mut at = 0;
        for arg in self.args {
            match arg.words() {
                (_, None) => return Some(*arg),
                (_, Some(most)) if index < at + most => return Some(*arg),
                (_, Some(most)) => at += most,
            }
        }
        None
    }
}

/// The command `word` names (by its name or its alias).
pub fn find(word: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.alias == Some(word))
}

/// What a command does; the parser maps a line to one of these through [`COMMANDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Call,
    State,
    Set,
    Convert,
    Watch,
    Unwatch,
    Watches,
    Save,
    Load,
    Reload,
    Plan,
    Warnings,
    Fns,
    Use,
    Types,
    Help,
    Quit,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "call",
        alias: None,
        args: &[Arg::Word(Operand::Fn), Arg::Words(Operand::FnArg)],
        about: "call a hot function: `&T`/`&mut T` parameters take the live resources, the others the arguments in order",
        example: "call spawn 5 9",
        action: Action::Call,
    },
    Command {
        name: "state",
        alias: None,
        args: &[Arg::OptionalWord(Operand::Path), Arg::Flag("--json")],
        about: "print the live state, or one value in it, readably or (`--json`) as one line of JSON",
        example: "state World.particles[0].pos",
        action: Action::State,
    },
    Command {
        name: "set",
        alias: None,
        args: &[Arg::Word(Operand::Path), Arg::Text(Operand::Json)],
        about: "replace one value with JSON (a bare word is a string or a unit variant)",
        example: "set World.gravity.y -2.5",
        action: Action::Set,
    },
    Command {
        name: "convert",
        alias: None,
        args: &[Arg::Word(Operand::Path), Arg::Word(Operand::Type)],
        about: "convert a `Box<dyn Trait>` object to another impl's type, through the `From` that impl registered (`#[coo_impl(from(Old))]`)",
        example: "convert World.vehicles[0] Motorcycle",
        action: Action::Convert,
    },
    Command {
        name: "watch",
        alias: None,
        args: &[Arg::Word(Operand::Path), Arg::Flag("--json")],
        about: "print a value now and whenever it changes (after every tick and command), as `<path> = <value>`",
        example: "watch World.tick --json",
        action: Action::Watch,
    },
    Command {
        name: "unwatch",
        alias: None,
        args: &[Arg::Word(Operand::Path)],
        about: "stop watching a value",
        example: "unwatch World.tick",
        action: Action::Unwatch,
    },
    Command {
        name: "watches",
        alias: None,
        args: &[],
        about: "list the values watched",
        example: "watches",
        action: Action::Watches,
    },
    Command {
        name: "save",
        alias: None,
        args: &[Arg::Word(Operand::File)],
        about: "save the state as JSON (the `state --json` shape, with its layouts and the plugin's package name), or in the compact binary format for a `.coo` file; says its size and time",
        example: "save snap.json",
        action: Action::Save,
    },
    Command {
        name: "load",
        alias: None,
        args: &[Arg::Word(Operand::File)],
        about: "load a saved state (JSON or `.coo`), migrated by field name if saved under older layouts; another plugin's is refused",
        example: "load snap.json",
        action: Action::Load,
    },
    Command {
        name: "reload",
        alias: None,
        args: &[],
        about: "rebuild the plugin and reload it, keeping the state",
        example: "reload",
        action: Action::Reload,
    },
    Command {
        name: "plan",
        alias: None,
        args: &[],
        about: "build the current source and show the migration it would need, without applying it",
        example: "plan",
        action: Action::Plan,
    },
    Command {
        name: "warnings",
        alias: None,
        args: &[],
        about: "print the warnings of the last successful build",
        example: "warnings",
        action: Action::Warnings,
    },
    Command {
        name: "fns",
        alias: None,
        args: &[],
        about: "list the hot functions and their signatures",
        example: "fns",
        action: Action::Fns,
    },
    Command {
        name: "use",
        alias: None,
        args: &[
            Arg::Word(Operand::Fn),
            Arg::OptionalWord(Operand::Alternative),
        ],
        about: "make a hot function run one of its implementations (`#[hot_fn(alt_of = ...)]`), live; without one, list them (`*` runs)",
        example: "use change plus10",
        action: Action::Use,
    },
    Command {
        name: "types",
        alias: None,
        args: &[Arg::OptionalWord(Operand::Type)],
        about: "list the plugin's types and their fields, or one type",
        example: "types Particle",
        action: Action::Types,
    },
    Command {
        name: "help",
        alias: None,
        args: &[Arg::Words(Operand::Command)],
        about: "this text, or each command named with an example",
        example: "help set",
        action: Action::Help,
    },
    Command {
        name: "quit",
        alias: Some("exit"),
        args: &[Arg::Ignored],
        about: "leave (end of input does too)",
        example: "quit",
        action: Action::Quit,
    },
];

/// The text of `help` (and of `hot-host run --help` after the options): every command of
/// [`COMMANDS`] with its arguments, what it does and an example, then how words are quoted.
pub fn help() -> String {
    let mut text = String::from("commands:\n");
    for command in COMMANDS {
        row(&mut text, command, false);
    }
    text.push_str(
        "words are split as in a shell: quote a word with spaces (\"a b\"); single quotes keep \
         JSON's double quotes: set World.gravity '{\"x\": 0, \"y\": -3}'",
    );
    text
}

/// A word of `help <command>...` names no command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no command `{0}`")]
pub struct UnknownCommand(pub String);

/// The text of `help <command>...`: the rows of `help` of the commands `words` name, each with
/// its example; or the first word that names no command.
pub fn help_of(words: &[&str]) -> Result<String, UnknownCommand> {
    let mut text = String::from("commands:");
    for word in words {
        let command = find(word).ok_or_else(|| UnknownCommand((*word).to_owned()))?;
        text.push('\n');
        row(&mut text, command, true);
        text.pop();
    }
    Ok(text)
}

/// Appends the row of `help` for `command`: its usage, what it does, its other name, and (when
/// `always`, or when it says more than the usage) an example.
fn row(text: &mut String, command: &Command, always: bool) {
    let width = COMMANDS.iter().map(|c| c.usage().len()).max().unwrap_or(0);
    let usage = command.usage();
    let _ = write!(text, "  {usage:width$}  {}", command.about);
    if let Some(alias) = command.alias {
        let _ = write!(text, "; also `{alias}`");
    }
    text.push('\n');
    if always || command.example != usage {
        let _ = writeln!(text, "  {:width$}  e.g. `{}`", "", command.example);
    }
}

/// The line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a quote is not closed, or the line ends in `\\`; close the quote (`'...'` or `\"...\"`)")]
pub struct SplitError;

/// Splits a command line into words as a POSIX shell does: double quotes group words (with
/// `\"` and `\\` escapes inside), single quotes group them literally (for JSON:
/// `'{"name": "orc"}'`), a backslash outside quotes escapes the next character, and a `#` at the
/// start of a word begins a comment.
pub fn split_words(line: &str) -> Result<Vec<String>, SplitError> {
    shlex::split(line).ok_or(SplitError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_key_typed_unquoted_in_a_path_reaches_the_same_value() {
        use crate::state_io::path::parse;
        let words = split_words(r#"state Stock.items["bolt"].qty"#).unwrap();
        assert_eq!(words, ["state", "Stock.items[bolt].qty"]);
        assert_eq!(
            parse(&words[1]).unwrap(),
            parse(r#"Stock.items["bolt"].qty"#).unwrap()
        );
    }

    #[test]
    fn every_example_of_the_table_is_a_line_its_command_takes() {
        for command in COMMANDS {
            let words = split_words(command.example).unwrap();
            assert_eq!(words[0], command.name, "{command:?}");
            assert!(command.takes(words.len() - 1), "{command:?}");
        }
    }

    #[test]
    fn the_table_says_how_many_words_each_command_takes() {
        let takes = |name: &str, count: usize| {
            COMMANDS
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .takes(count)
        };
        assert_eq!(
            (0..4).map(|n| takes("state", n)).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(
            (0..4).map(|n| takes("set", n)).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert_eq!(
            (0..3).map(|n| takes("save", n)).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert_eq!(
            (0..3).map(|n| takes("reload", n)).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert!(takes("call", 1) && takes("call", 9) && !takes("call", 0));
        assert!(takes("help", 0) && takes("help", 5) && takes("quit", 3));
    }

    #[test]
    fn help_shows_every_command_of_the_table_with_its_arguments() {
        let help = help();
        let lines: Vec<&str> = help.lines().collect();
        assert_eq!(lines[0], "commands:");
        assert_eq!(
            lines[1],
            "  call <fn> [<arg>...]     call a hot function: `&T`/`&mut T` parameters take the live \
             resources, the others the arguments in order"
        );
        assert_eq!(lines[2], "                           e.g. `call spawn 5 9`");
        assert!(lines.contains(&"  set <path> <json>        replace one value with JSON (a bare word is a string or a unit variant)"));
        assert!(
            lines
                .contains(&"  quit                     leave (end of input does too); also `exit`")
        );
        for command in COMMANDS {
            let usage = format!("  {} ", command.usage());
            assert!(help.contains(&usage), "{usage:?} in {help}");
        }
    }

    #[test]
    fn help_of_commands_shows_their_rows_of_help_each_with_an_example() {
        let expected = [
            "commands:",
            "  set <path> <json>        replace one value with JSON (a bare word is a string or a \
             unit variant)",
            "                           e.g. `set World.gravity.y -2.5`",
            "  quit                     leave (end of input does too); also `exit`",
            "                           e.g. `quit`",
        ];
        assert_eq!(help_of(&["set", "exit"]), Ok(expected.join("\n")));
        assert_eq!(
            help_of(&["set", "nope", "sett"]),
            Err(UnknownCommand("nope".into()))
        );
    }

    #[test]
    fn each_word_after_a_command_is_one_of_its_arguments() {
        let state = find("state").unwrap();
        assert_eq!(state.arg_at(0), Some(Arg::OptionalWord(Operand::Path)));
        assert_eq!(state.arg_at(1), Some(Arg::Flag("--json")));
        assert_eq!(state.arg_at(2), None);
        let call = find("call").unwrap();
        assert_eq!(call.arg_at(0), Some(Arg::Word(Operand::Fn)));
        assert_eq!(call.arg_at(7), Some(Arg::Words(Operand::FnArg)));
        let set = find("set").unwrap();
        assert_eq!(set.arg_at(3), Some(Arg::Text(Operand::Json)));
        assert_eq!(find("reload").unwrap().arg_at(0), None);
    }

    #[test]
    fn a_backslash_outside_quotes_escapes_as_in_a_shell() {
        assert_eq!(
            split_words(r"set Game.title dark\ elf").unwrap(),
            vec!["set", "Game.title", "dark elf"]
        );
        assert_eq!(
            split_words("call f '{'"),
            Ok(vec!["call".into(), "f".into(), "{".into()])
        );
        assert_eq!(split_words("call f '{"), Err(SplitError));
    }

    #[test]
    fn words_split_on_spaces_and_group_in_quotes() {
        assert_eq!(
            split_words(r#"call greet "Ada Lovelace" 3 "say \"hi\"""#).unwrap(),
            vec!["call", "greet", "Ada Lovelace", "3", r#"say "hi""#]
        );
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words(r#"call f """#).unwrap(), vec!["call", "f", ""]);
        assert_eq!(
            split_words(r#"call add '{"name": "orc", "hp": 3}' 2"#).unwrap(),
            vec!["call", "add", r#"{"name": "orc", "hp": 3}"#, "2"]
        );
        assert!(split_words("call f '{").is_err());
        assert!(split_words(r#"call "open"#).is_err());
    }
}
