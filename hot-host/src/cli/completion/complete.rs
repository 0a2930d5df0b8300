//! Completing and hinting a command line from a [`CompletionIndex`]: pure functions of the
//! line, the cursor and the index, so they are tested without a terminal.
//!
//! What completes where follows the command table ([`crate::cli::commands`]): the first word is
//! a command; after it each word is completed as its argument's [`Operand`] says: a hot function,
//! a path into the state segment by segment (resources, then `.field`, `.Variant` and `[index]`
//! as the live value has them), a type, a command, a file (by the line editor itself), a flag;
//! and `set`'s value is completed with the variant names when the path leads to an enum.

use coo_runtime::migration::execute::Seg;

use crate::cli::commands::{self, Action, Arg, COMMANDS, Command, Operand, split_words};
use crate::cli::completion::CompletionIndex;
use crate::cli::completion::values::Node;
use crate::state_io::path;

/// How many index candidates (`[i]`) are offered at most: a `Vec` may be long.
const MAX_INDICES: usize = 1000;

/// One candidate: what a list of candidates shows, and what replaces the word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub display: String,
    pub replacement: String,
}

/// What to complete at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Replace the text from byte `start` to the cursor with one of `candidates` (their common
    /// prefix when several).
    Words {
        start: usize,
        candidates: Vec<Choice>,
    },
    /// A file name: the line editor completes it from the file system.
    FileName,
}

impl Completion {
    fn words(start: usize, candidates: Vec<Choice>) -> Completion {
        Completion::Words { start, candidates }
    }
}

/// The words before the word the cursor is in, and where that word starts; `None` inside an
/// open quote.
fn split_at_cursor(line: &str, pos: usize) -> Option<(Vec<String>, usize)> {
    let before = line.get(..pos)?;
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let words = split_words(&before[..start]).ok()?;
    Some((words, start))
}

fn pair(display: impl Into<String>, replacement: impl Into<String>) -> Choice {
    Choice {
        display: display.into(),
        replacement: replacement.into(),
    }
}

/// What completes the word at `pos` in `line`.
pub fn complete(index: &CompletionIndex, line: &str, pos: usize) -> Completion {
    let none = |start| Completion::words(start, Vec::new());
    let Some((words, start)) = split_at_cursor(line, pos) else {
        return none(pos);
    };
    let word = &line[start..pos];
    let Some((name, args)) = words.split_first() else {
        let candidates = COMMANDS
            .iter()
            .flat_map(|c| std::iter::once(c.name).chain(c.alias))
            .filter(|n| n.starts_with(word))
            .map(|n| pair(n, format!("{n} ")))
            .collect();
        return Completion::words(start, candidates);
    };
    let Some(command) = commands::find(name) else {
        return none(start);
    };
    let Some(arg) = command.arg_at(args.len()) else {
        return none(start);
    };
    // A word that starts with `-` where an optional word goes may be the flag after it.
    if let (Arg::OptionalWord(_), true) = (arg, word.starts_with('-'))
        && let Some(flag @ Arg::Flag(_)) = command.arg_at(args.len() + 1)
    {
        return Completion::words(start, flags(flag, word));
    }
    let Some(operand) = arg.operand() else {
        return Completion::words(start, flags(arg, word));
    };
    let named = |names: &mut dyn Iterator<Item = &str>| {
        names
            .filter(|n| n.starts_with(word))
            .map(|n| pair(n, n))
            .collect::<Vec<_>>()
    };
    match operand {
        Operand::Fn => Completion::words(
            start,
            index
                .fns
                .iter()
                .filter(|f| f.name.starts_with(word))
                .map(|f| {
                    pair(
                        format!("{}: {}", f.name, f.signature),
                        format!("{} ", f.name),
                    )
                })
                .collect(),
        ),
        Operand::FnArg | Operand::Alternative => none(start),
        Operand::Path if command.action == Action::Unwatch => {
            Completion::words(start, named(&mut index.watched.iter().map(String::as_str)))
        }
        Operand::Path => complete_path(index, word, start),
        Operand::Json => {
            let node = match args.first() {
                Some(path) if command.action == Action::Set => node_at(index, path),
                _ => None,
            };
            let candidates = match node {
                Some(Node::Enum { variants, .. }) => {
                    named(&mut variants.iter().map(String::as_str))
                }
                Some(Node::Leaf { ty }) if ty == "bool" => {
                    named(&mut ["false", "true"].into_iter())
                }
                _ => Vec::new(),
            };
            Completion::words(start, candidates)
        }
        Operand::File => Completion::FileName,
        Operand::Command => Completion::words(start, named(&mut COMMANDS.iter().map(|c| c.name))),
        Operand::Type => {
            Completion::words(start, named(&mut index.types.iter().map(String::as_str)))
        }
    }
}

fn flags(arg: Arg, word: &str) -> Vec<Choice> {
    match arg {
        Arg::Flag(flag) if flag.starts_with(word) => vec![pair(flag, flag)],
        _ => Vec::new(),
    }
}

/// Where a walk along a path is in the index.
#[derive(Clone, Copy)]
enum At<'a> {
    /// At a value.
    Value(&'a Node),
    /// Inside the current variant of an enum value (after `.Variant`): its fields come next.
    Variant(&'a Node),
}

/// Walks the complete path `text` through the index; `None` where the live state has no such
/// value (or the index's bound left it out).
fn walk<'a>(index: &'a CompletionIndex, text: &str) -> Option<At<'a>> {
    let parsed = path::parse(text).ok()?;
    let mut segs = parsed.0.iter();
    let Some(Seg::Name(root)) = segs.next() else {
        return None;
    };
    let mut at = At::Value(index.resource(root)?);
    for seg in segs {
        at = match (at, seg) {
            (At::Value(node @ Node::Enum { current, .. }), Seg::Name(name)) if current == name => {
                At::Variant(node)
            }
            (At::Value(node @ Node::Struct { .. }), Seg::Name(name))
            | (At::Variant(node), Seg::Name(name)) => At::Value(node.field(name)?),
            (At::Value(node), Seg::Index(i)) => At::Value(node.element(*i)?),
            _ => return None,
        };
    }
    Some(at)
}

/// The node of the value the complete path `text` leads to.
fn node_at<'a>(index: &'a CompletionIndex, text: &str) -> Option<&'a Node> {
    match walk(index, text)? {
        At::Value(node) => Some(node),
        At::Variant(_) => None,
    }
}

/// Completes the last segment of the path `word`, which starts at byte `start` of the line.
fn complete_path(index: &CompletionIndex, word: &str, start: usize) -> Completion {
    let Some(sep) = word.rfind(['.', '[']) else {
        let candidates = index
            .resources
            .iter()
            .filter(|(name, _)| name.starts_with(word))
            .map(|(name, _)| pair(name, name))
            .collect();
        return Completion::words(start, candidates);
    };
    let (prefix, partial) = (&word[..sep], &word[sep + 1..]);
    let at = start + sep + 1;
    let Some(place) = walk(index, prefix) else {
        return Completion::words(at, Vec::new());
    };
    let names = |names: &mut dyn Iterator<Item = &String>| {
        names
            .filter(|n| n.starts_with(partial))
            .map(|n| pair(n, n))
            .collect::<Vec<_>>()
    };
    let candidates = match (&word[sep..sep + 1], place) {
        (".", At::Value(Node::Struct { fields, .. }) | At::Variant(Node::Enum { fields, .. })) => {
            names(&mut fields.iter().map(|(n, _)| n))
        }
        (".", At::Value(Node::Enum { current, .. })) => names(&mut std::iter::once(current)),
        ("[", At::Value(Node::Elements { indices, .. })) => indices
            .iter()
            .map(|i| i.to_string())
            .filter(|i| i.starts_with(partial))
            .take(MAX_INDICES)
            .map(|i| pair(format!("[{i}]"), format!("{i}]")))
            .collect(),
        _ => Vec::new(),
    };
    Completion::words(at, candidates)
}

/// The hint shown after the cursor at the end of `line`: the arguments still to type, after a
/// command's name or a space (`set ` → `<path> <json>`; `call spawn ` → `<x: f32> <y: f32>`),
/// and a hot function's signature after its complete name. `None` while a word is typed, or
/// when the cursor is not at the end.
pub fn hint(index: &CompletionIndex, line: &str, pos: usize) -> Option<String> {
    if pos != line.len() {
        return None;
    }
    let (words, start) = split_at_cursor(line, pos)?;
    let word = &line[start..];
    match (words.split_first(), word.is_empty()) {
        // The command's name, typed whole: its arguments.
        (None, false) => {
            let command = commands::find(word)?;
            let rest = args_from(command, 0)?;
            Some(format!(" {rest}"))
        }
        (None, true) => None,
        // A hot function's name, typed whole: its arguments and signature.
        (Some((name, args)), false) => {
            let command = commands::find(name)?;
            if command.action != Action::Call || !args.is_empty() {
                return None;
            }
            let f = index.function(word)?;
            let mut hint: String = f.args.iter().map(|a| format!(" <{a}>")).collect();
            hint.push_str("  ");
            hint.push_str(&f.signature);
            Some(hint)
        }
        // A space after the words: what comes next.
        (Some((name, args)), true) => {
            let command = commands::find(name)?;
            if command.action == Action::Call
                && let Some(name) = args.first()
            {
                let f = index.function(name)?;
                let rest = f.args.get(args.len() - 1..)?;
                let usage: Vec<String> = rest.iter().map(|a| format!("<{a}>")).collect();
                return (!usage.is_empty()).then(|| usage.join(" "));
            }
            args_from(command, args.len())
        }
    }
}

/// The usage of `command`'s arguments from the one word `typed` (0-based) would fill; `None`
/// when there are none, or the words typed already went into one that takes many.
fn args_from(command: &Command, typed: usize) -> Option<String> {
    let mut words = typed;
    let mut rest = Vec::new();
    for arg in command.args {
        if words == 0 {
            let usage = arg.usage();
            if !usage.is_empty() {
                rest.push(usage);
            }
            continue;
        }
        match arg.operand().map(|_| arg) {
            Some(Arg::Words(_) | Arg::Text(_)) => return None,
            _ => words -= 1,
        }
    }
    (!rest.is_empty()).then(|| rest.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::completion::FnEntry;
    use crate::cli::completion::values::Indices;

    fn leaf(ty: &str) -> Node {
        Node::Leaf { ty: ty.into() }
    }

    /// `Game { score: i64, alive: bool, enemies: Vec<Enemy> (2), phase: Phase::Running { speed } }`
    /// and a pool `Pool<Enemy>` with slots 0 and 2 occupied.
    fn index() -> CompletionIndex {
        let enemy = |hp| Node::Struct {
            ty: "Enemy".into(),
            fields: vec![("hp".into(), leaf(hp)), ("stats".into(), leaf("Stats"))],
        };
        CompletionIndex {
            version: 3,
            fns: vec![
                FnEntry {
                    name: "spawn".into(),
                    signature: "fn(world: &mut World, x: f32, y: f32)".into(),
                    args: vec!["x: f32".into(), "y: f32".into()],
                },
                FnEntry {
                    name: "step".into(),
                    signature: "fn(game: &mut Game)".into(),
                    args: vec![],
                },
            ],
            types: vec!["Enemy".into(), "Game".into(), "Phase".into()],
            resources: vec![
                (
                    "Game".into(),
                    Node::Struct {
                        ty: "Game".into(),
                        fields: vec![
                            ("score".into(), leaf("i64")),
                            ("alive".into(), leaf("bool")),
                            (
                                "enemies".into(),
                                Node::Elements {
                                    ty: "Vec<Enemy>".into(),
                                    indices: Indices::Below(2),
                                    nodes: vec![(0, enemy("i32")), (1, enemy("i32"))],
                                },
                            ),
                            (
                                "phase".into(),
                                Node::Enum {
                                    ty: "Phase".into(),
                                    variants: vec!["Idle".into(), "Running".into()],
                                    current: "Running".into(),
                                    fields: vec![("speed".into(), leaf("u32"))],
                                },
                            ),
                        ],
                    },
                ),
                (
                    "Gallery".into(),
                    Node::Elements {
                        ty: "Pool<Enemy>".into(),
                        indices: Indices::Slots(vec![0, 2]),
                        nodes: vec![(0, enemy("i32")), (2, enemy("i64"))],
                    },
                ),
            ],
            watched: vec!["Game.score".into()],
        }
    }

    /// The completion of `line` with the cursor at its end: where it starts and the
    /// replacements.
    fn at_end(line: &str) -> (usize, Vec<String>) {
        match complete(&index(), line, line.len()) {
            Completion::Words { start, candidates } => (
                start,
                candidates.into_iter().map(|c| c.replacement).collect(),
            ),
            Completion::FileName => panic!("{line:?} completes a file name"),
        }
    }

    #[test]
    fn the_first_word_completes_to_commands() {
        assert_eq!(
            at_end("s"),
            (0, vec!["state ".into(), "set ".into(), "save ".into()])
        );
        assert_eq!(
            at_end("  wa"),
            (
                2,
                vec!["watch ".into(), "watches ".into(), "warnings ".into()]
            )
        );
        assert_eq!(at_end("ex"), (0, vec!["exit ".into()]));
        assert_eq!(at_end("nope"), (0, vec![]));
    }

    #[test]
    fn call_completes_hot_functions_shown_with_their_signatures() {
        assert_eq!(at_end("call s"), (5, vec!["spawn ".into(), "step ".into()]));
        let Completion::Words { candidates, .. } = complete(&index(), "call sp", 7) else {
            panic!("a function name is no file")
        };
        assert_eq!(
            candidates,
            [pair(
                "spawn: fn(world: &mut World, x: f32, y: f32)",
                "spawn "
            )]
        );
        assert_eq!(at_end("call spawn "), (11, vec![]));
    }

    #[test]
    fn paths_complete_segment_by_segment_from_the_live_values() {
        assert_eq!(
            at_end("state G"),
            (6, vec!["Game".into(), "Gallery".into()])
        );
        assert_eq!(
            at_end("state Game."),
            (
                11,
                vec![
                    "score".into(),
                    "alive".into(),
                    "enemies".into(),
                    "phase".into()
                ]
            )
        );
        assert_eq!(at_end("state Game.e"), (11, vec!["enemies".into()]));
        // Indices within the current length, and a pool's occupied slots.
        assert_eq!(
            at_end("state Game.enemies["),
            (19, vec!["0]".into(), "1]".into()])
        );
        assert_eq!(
            at_end("state Gallery["),
            (14, vec!["0]".into(), "2]".into()])
        );
        assert_eq!(at_end("set Game.enemies[1].h"), (20, vec!["hp".into()]));
        // An enum's current variant, then its fields.
        assert_eq!(at_end("state Game.phase."), (17, vec!["Running".into()]));
        assert_eq!(
            at_end("state Game.phase.Running."),
            (25, vec!["speed".into()])
        );
        // Nothing inside a value that is not there.
        assert_eq!(at_end("state Game.enemies[5]."), (22, vec![]));
        assert_eq!(at_end("state Nope."), (11, vec![]));
        assert_eq!(at_end("state Game.score."), (17, vec![]));
    }

    #[test]
    fn a_flag_completes_where_it_may_go() {
        assert_eq!(at_end("state --j"), (6, vec!["--json".into()]));
        assert_eq!(at_end("state Game.score --"), (17, vec!["--json".into()]));
        assert_eq!(at_end("watch Game.score -"), (17, vec!["--json".into()]));
    }

    #[test]
    fn set_completes_an_enums_variants_and_a_bools_values() {
        assert_eq!(
            at_end("set Game.phase "),
            (15, vec!["Idle".into(), "Running".into()])
        );
        assert_eq!(at_end("set Game.phase I"), (15, vec!["Idle".into()]));
        assert_eq!(at_end("set Game.alive t"), (15, vec!["true".into()]));
        assert_eq!(at_end("set Game.score "), (15, vec![]));
    }

    #[test]
    fn types_commands_and_watched_paths_complete_where_they_go() {
        assert_eq!(at_end("types P"), (6, vec!["Phase".into()]));
        assert_eq!(
            at_end("help wat"),
            (5, vec!["watch".into(), "watches".into()])
        );
        assert_eq!(at_end("unwatch G"), (8, vec!["Game.score".into()]));
        assert_eq!(complete(&index(), "save sn", 7), Completion::FileName);
        assert_eq!(complete(&index(), "load ", 5), Completion::FileName);
        // Past the arguments, and inside an open quote: nothing.
        assert_eq!(at_end("reload x"), (7, vec![]));
        assert_eq!(at_end("set Game.title 'a G"), (19, vec![]));
    }

    #[test]
    fn hints_show_the_arguments_still_to_type() {
        let hint = |line: &str| hint(&index(), line, line.len());
        assert_eq!(hint("set").as_deref(), Some(" <path> <json>"));
        assert_eq!(hint("set ").as_deref(), Some("<path> <json>"));
        assert_eq!(hint("set Game.score ").as_deref(), Some("<json>"));
        assert_eq!(hint("set Game.score 5 "), None);
        assert_eq!(hint("state ").as_deref(), Some("[<path>] [--json]"));
        assert_eq!(hint("state Game ").as_deref(), Some("[--json]"));
        assert_eq!(
            hint("call spawn").as_deref(),
            Some(" <x: f32> <y: f32>  fn(world: &mut World, x: f32, y: f32)")
        );
        assert_eq!(hint("call step").as_deref(), Some("  fn(game: &mut Game)"));
        assert_eq!(hint("call spawn ").as_deref(), Some("<x: f32> <y: f32>"));
        assert_eq!(hint("call spawn 1 ").as_deref(), Some("<y: f32>"));
        assert_eq!(hint("call spawn 1 2 "), None);
        // While a word is typed, on an empty line, and with the cursor inside the line: none.
        assert_eq!(hint("state Game.sc"), None);
        assert_eq!(hint(""), None);
        assert_eq!(hint("quit"), None);
        assert_eq!(super::hint(&index(), "set ", 2), None);
    }
}
