//! Reading a path's text into its resource name and steps (see the [parent module](super)).

use coo_runtime::migration::execute::{Seg, ValuePath};

use super::PathError;
use crate::state_io::json::JsonValue;

/// Parses a path (see the [module documentation](self)) into its resource name and steps.
pub fn parse(path: &str) -> Result<ValuePath, PathError> {
    let text = path.trim();
    let syntax = |message: String| PathError::Syntax {
        path: text.to_owned(),
        message,
    };
    let is_name_char = |c: char| !matches!(c, '.' | '[' | ']') && !c.is_whitespace();
    let mut segs = Vec::new();
    let mut rest = text;
    let root_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
    if root_len == 0 {
        return Err(syntax("it must start with a resource's type name".into()));
    }
    segs.push(Seg::Name(rest[..root_len].to_owned()));
    rest = &rest[root_len..];
    while let Some(c) = rest.chars().next() {
        let at = text.len() - rest.len();
        match c {
            '.' => {
                let name = &rest[1..];
                let len = name.find(|c: char| !is_name_char(c)).unwrap_or(name.len());
                if len == 0 {
                    return Err(syntax(format!(
                        "expected a field or variant name after `.` at {at}"
                    )));
                }
                segs.push(Seg::Name(name[..len].to_owned()));
                rest = &name[len..];
            }
            '[' => {
                // A quoted key may hold `]`: the bracket closes after the closing quote.
                let inner_start = rest[1..].len() - rest[1..].trim_start().len() + 1;
                let search_from = if rest[inner_start..].starts_with('"') {
                    closing_quote(&rest[inner_start..])
                        .map(|end| inner_start + end)
                        .ok_or_else(|| syntax(format!("the key's quote at {at} is not closed")))?
                } else {
                    1
                };
                let Some(close) = rest[search_from..].find(']').map(|c| c + search_from) else {
                    return Err(syntax(format!("`[` at {at} is not closed")));
                };
                let inner = rest[1..close].trim();
                if inner.is_empty() {
                    return Err(syntax(format!("`[]` at {at} has no index or key")));
                }
                segs.push(match inner.parse::<usize>() {
                    Ok(index) => Seg::Index(index),
                    Err(_) if JsonValue::parse(inner).is_ok() => Seg::Key(inner.to_owned()),
                    // A bare word is a string key (or a unit variant's name), as `set` reads a
                    // bare word: `items[bolt]` is `items["bolt"]`, which a shell-like command
                    // line (the REPL's) leaves of `items["bolt"]` typed unquoted.
                    Err(_) if is_bare_word(inner) => Seg::Key(format!("\"{inner}\"")),
                    Err(_) => {
                        return Err(syntax(format!(
                            "`[{inner}]` at {at} is not an index, nor a key written as JSON \
                             (`[\"name\"]`, `[-3]`) or as a bare word (`[name]`)"
                        )));
                    }
                });
                rest = &rest[close + 1..];
            }
            other => {
                return Err(syntax(format!(
                    "unexpected `{other}` at {at}; expected `.` or `[`"
                )));
            }
        }
    }
    Ok(ValuePath(segs))
}

/// Whether `text` is a word that stands for a string key: letters, digits, `_` and `-`, not
/// starting with a digit or `-` (which would be a number).
fn is_bare_word(text: &str) -> bool {
    text.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// The length of the JSON string at the start of `text` (up to and with its closing quote).
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}
