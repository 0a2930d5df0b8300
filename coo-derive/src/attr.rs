//! The one parser of `#[coo(...)]` attributes, for types, enum variants and fields, and of the
//! type's `#[repr(...)]` ([`Repr`]).
//!
//! Every attribute is parsed with `parse_nested_meta`, checked against the place it is written
//! in, and recorded; problems are collected into [`Errors`] and parsing goes on with the next
//! attribute, so that one build reports all of them.

use proc_macro2::{Group, Ident};
use quote::ToTokens as _;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, ExprPath, Lit, LitInt, LitStr, Meta, Path, Token, token};

use crate::errors::Errors;

/// `#[coo(...)]` on the type.
pub(crate) struct TypeAttrs {
    /// `name = "..."`: the stable name.
    pub name: Option<LitStr>,
    /// `rename_from = "..."`, in order.
    pub rename_from: Vec<LitStr>,
    /// `migrate = path`: the migration hook.
    pub migrate: Option<Path>,
}

/// The `#[repr(...)]` attributes of the type, combined: what an enum's descriptor records, and
/// a struct's `packed` (which its descriptor records).
#[derive(Default)]
pub(crate) struct Repr {
    /// `C`.
    pub c: bool,
    /// `transparent`.
    pub transparent: bool,
    /// The integer type of the discriminant: `u8`, `i32`, ….
    pub int: Option<Ident>,
    /// `align(N)`.
    pub align: Option<usize>,
    /// `packed(N)`: `Some(N)`, `Some(1)` for `packed`.
    pub packed: Option<usize>,
}

/// The integer types a `repr` can give an enum's discriminant.
const REPR_INTS: [&str; 12] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

impl Repr {
    /// Reads every `#[repr(...)]` of the type. On an enum (`is_enum`), a hint the descriptor
    /// cannot record is an error on the hint, since a `repr` that is not compared could change
    /// where the tag and the variant fields lie without Coo noticing; a struct's descriptor
    /// records every field's offset instead, so its other hints are left alone. Malformed
    /// `repr`s are the compiler's to report: what cannot be read is skipped.
    pub(crate) fn parse(errors: &mut Errors, attrs: &[Attribute], is_enum: bool) -> Repr {
        let mut repr = Repr::default();
        for attr in attrs.iter().filter(|attr| attr.path().is_ident("repr")) {
            let _ = attr.parse_nested_meta(|meta| {
                let Some(hint) = meta.path.get_ident() else {
                    return skip_value(&meta);
                };
                let text = hint.to_string();
                match text.as_str() {
                    "C" => repr.c = true,
                    "transparent" => repr.transparent = true,
                    "Rust" => {}
                    "packed" if meta.input.peek(token::Paren) => {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        let packing = content.parse::<LitInt>().and_then(|n| n.base10_parse());
                        if let Ok(packing) = packing {
                            repr.packed = Some(packing);
                        }
                    }
                    "packed" => repr.packed = Some(1),
                    "align" if meta.input.peek(token::Paren) => {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        let align = content.parse::<LitInt>().and_then(|n| n.base10_parse());
                        if let Ok(align) = align {
                            repr.align = Some(align);
                        }
                    }
                    // `align` without `(N)` is malformed: the compiler's to report.
                    "align" => {}
                    int if REPR_INTS.contains(&int) => repr.int = Some(hint.clone()),
                    other if is_enum => errors.at(
                        hint.span(),
                        format!(
                            "`CooType` cannot describe `#[repr({other})]` on an enum: Coo records `C`, `transparent`, `align(N)` and the integer types (`u8`, `i32`, …) to know where the tag and the variant fields lie; remove `{other}`"
                        ),
                    ),
                    _ => {}
                }
                skip_value(&meta)
            });
        }
        repr
    }
}

/// `#[coo(...)]` on an enum variant.
pub(crate) struct VariantAttrs {
    pub rename_from: Vec<LitStr>,
}

/// `#[coo(...)]` on a field (of a struct or of an enum variant).
pub(crate) struct FieldAttrs {
    pub default: Option<FieldDefault>,
    pub rename_from: Vec<LitStr>,
    /// `opaque`: a foreign type Coo describes by name, size and alignment only.
    pub opaque: Option<Ident>,
    /// `serde` (with `opaque`): snapshots hold the value as JSON.
    pub serde: Option<Ident>,
}

/// `default = EXPR` on a field.
pub(crate) struct FieldDefault {
    /// The `default` keyword, for errors about the attribute as a whole.
    pub key: Ident,
    pub expr: Expr,
}

impl TypeAttrs {
    pub(crate) fn parse(errors: &mut Errors, attrs: &[Attribute]) -> TypeAttrs {
        let parsed = parse(errors, attrs, Place::Type);
        TypeAttrs {
            name: parsed.name,
            rename_from: parsed.rename_from,
            migrate: parsed.migrate,
        }
    }
}

impl VariantAttrs {
    pub(crate) fn parse(errors: &mut Errors, attrs: &[Attribute]) -> VariantAttrs {
        let parsed = parse(errors, attrs, Place::Variant);
        VariantAttrs {
            rename_from: parsed.rename_from,
        }
    }
}

impl FieldAttrs {
    pub(crate) fn parse(errors: &mut Errors, attrs: &[Attribute]) -> FieldAttrs {
        let parsed = parse(errors, attrs, Place::Field);
        FieldAttrs {
            default: parsed.default,
            rename_from: parsed.rename_from,
            opaque: parsed.opaque,
            serde: parsed.serde,
        }
    }
}

/// Where an attribute is written; each place accepts its own keys.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Type,
    Variant,
    Field,
}

const NAME: &str = "name";
const RENAME_FROM: &str = "rename_from";
const MIGRATE: &str = "migrate";
const DEFAULT: &str = "default";
const OPAQUE: &str = "opaque";
const SERDE: &str = "serde";

impl Place {
    fn accepted(self) -> &'static [&'static str] {
        match self {
            Place::Type => &[NAME, RENAME_FROM, MIGRATE],
            Place::Variant => &[RENAME_FROM],
            Place::Field => &[DEFAULT, RENAME_FROM, OPAQUE, SERDE],
        }
    }

    /// A typical attribute of the place, for messages.
    fn example(self) -> &'static str {
        match self {
            Place::Type => "name = \"Player\"",
            Place::Variant => "rename_from = \"OldName\"",
            Place::Field => "rename_from = \"old_name\"",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Place::Type => "a type",
            Place::Variant => "an enum variant",
            Place::Field => "a field",
        }
    }
}

/// Every key of every place, as parsed; [`Place::accepted`] decides which ones may be set.
#[derive(Default)]
struct Parsed {
    name: Option<LitStr>,
    rename_from: Vec<LitStr>,
    migrate: Option<Path>,
    default: Option<FieldDefault>,
    opaque: Option<Ident>,
    serde: Option<Ident>,
}

fn parse(errors: &mut Errors, attrs: &[Attribute], place: Place) -> Parsed {
    let mut parsed = Parsed::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("coo")) {
        if !matches!(attr.meta, Meta::List(_)) {
            errors.spanned(
                attr,
                format!(
                    "expected a list of coo attributes, like `#[coo({})]`",
                    place.example()
                ),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| parse_entry(errors, place, &mut parsed, &meta));
        if let Err(error) = result {
            errors.push(error);
        }
    }
    parsed
}

/// Parses one `key = value` of a `#[coo(...)]` list. Problems with the entry are recorded and
/// the entry is skipped, so that parsing goes on; an `Err` means the list itself is malformed.
fn parse_entry(
    errors: &mut Errors,
    place: Place,
    parsed: &mut Parsed,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<()> {
    let Some(key) = meta.path.get_ident() else {
        let path = meta.path.to_token_stream().to_string().replace(' ', "");
        errors.spanned(
            &meta.path,
            format!("unknown coo attribute `{path}`, {}", expected_keys(place)),
        );
        return skip_value(meta);
    };
    let key_text = key.to_string();
    if !place.accepted().contains(&key_text.as_str()) {
        errors.at(key.span(), misplaced_or_unknown(place, &key_text));
        return skip_value(meta);
    }
    if key_text == OPAQUE || key_text == SERDE {
        // Flags: the key alone.
        if meta.input.peek(Token![=]) || meta.input.peek(token::Paren) {
            errors.at(
                key.span(),
                format!("`{key}` takes no value: write `#[coo(opaque)]`, or `#[coo(opaque, serde)]` for a type that implements `Serialize` and `Deserialize`"),
            );
            return skip_value(meta);
        }
        let slot = if key_text == OPAQUE {
            &mut parsed.opaque
        } else {
            &mut parsed.serde
        };
        set_once(errors, key, slot, key.clone());
        return Ok(());
    }
    let Some(value) = parse_value(errors, meta, key)? else {
        return Ok(());
    };
    match key_text.as_str() {
        NAME => {
            let Some(name) = string_value(errors, key, value) else {
                return Ok(());
            };
            if name.value().is_empty() {
                errors.spanned(
                    &name,
                    "the stable name of a type cannot be empty: write `name = \"Player\"`, or remove it to use the type's identifier",
                );
            }
            set_once(errors, key, &mut parsed.name, name);
        }
        RENAME_FROM => {
            let Some(old) = string_value(errors, key, value) else {
                return Ok(());
            };
            if old.value().is_empty() {
                errors.spanned(
                    &old,
                    format!(
                        "`rename_from` cannot be empty: write the earlier name of {}, like `rename_from = \"{}\"`",
                        place_item(place),
                        example_name(place),
                    ),
                );
            } else {
                parsed.rename_from.push(old);
            }
        }
        MIGRATE => {
            let Some(path) = path_value(errors, value) else {
                return Ok(());
            };
            set_once(errors, key, &mut parsed.migrate, path);
        }
        DEFAULT => {
            let default = FieldDefault {
                key: key.clone(),
                expr: value,
            };
            set_once(errors, key, &mut parsed.default, default);
        }
        _ => unreachable!("`Place::accepted` lists only keys handled here"),
    }
    Ok(())
}

/// Records `value` unless the key was already given (then the repeat is an error).
fn set_once<T>(errors: &mut Errors, key: &Ident, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        errors.at(
            key.span(),
            format!("duplicate coo attribute `{key}`: give it only once"),
        );
    } else {
        *slot = Some(value);
    }
}

/// Parses `= EXPR` after a key. Without `=`, records an error showing how to write the
/// attribute, skips whatever follows the key, and returns `None`.
fn parse_value(
    errors: &mut Errors,
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
) -> syn::Result<Option<Expr>> {
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?;
        return Ok(Some(meta.input.parse()?));
    }
    let usage = match key.to_string().as_str() {
        NAME => "`name = \"Player\"`",
        RENAME_FROM => "`rename_from = \"old_name\"`",
        MIGRATE => "`migrate = path::to::function`",
        _ => "`default = EXPR`, like `default = 100` or `default = Default::default()`",
    };
    errors.at(key.span(), format!("`{key}` needs a value: write {usage}"));
    skip_value(meta)?;
    Ok(None)
}

/// The string literal of `key = "..."`, or `None` after recording an error.
fn string_value(errors: &mut Errors, key: &Ident, value: Expr) -> Option<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        other => {
            // A bare identifier was probably meant as the name itself: suggest quoting it.
            let bare_ident = match &other {
                Expr::Path(ExprPath {
                    path, qself: None, ..
                }) => path.get_ident().map(Ident::to_string),
                _ => None,
            };
            let quoted = bare_ident.unwrap_or_else(|| {
                let example = if key == NAME { "Player" } else { "old_name" };
                example.to_owned()
            });
            let example = format!("{key} = \"{quoted}\"");
            errors.spanned(
                other,
                format!("expected a string literal: write `{example}`"),
            );
            None
        }
    }
}

/// The function path of `migrate = path`, or `None` after recording an error.
fn path_value(errors: &mut Errors, value: Expr) -> Option<Path> {
    match value {
        Expr::Path(ExprPath {
            path, qself: None, ..
        }) => Some(path),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => {
            let text = lit.value();
            let example = if syn::parse_str::<Path>(&text).is_ok() {
                text
            } else {
                "path::to::function".to_owned()
            };
            errors.spanned(
                lit,
                format!(
                    "expected a path to a function, not a string: write `migrate = {example}` without quotes"
                ),
            );
            None
        }
        other => {
            errors.spanned(
                other,
                "expected a path to a function: write `migrate = path::to::function`, and define the hook as a `fn` item",
            );
            None
        }
    }
}

/// Consumes the value of an entry that is being skipped: `= EXPR` or `(...)`.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?;
        meta.input.parse::<Expr>()?;
    } else if meta.input.peek(token::Paren) {
        meta.input.parse::<Group>()?;
    }
    Ok(())
}

/// The message for a key that `place` does not accept: it belongs elsewhere, or it is unknown.
fn misplaced_or_unknown(place: Place, key: &str) -> String {
    match (key, place) {
        (DEFAULT, Place::Type) => "`default` goes on a field, not on a type: write `#[coo(default = EXPR)]` above the fields that need it; the type's own default comes from its `Default` impl".to_owned(),
        (DEFAULT, Place::Variant) => "`default` goes on a struct field, not on an enum variant: `#[coo(default = EXPR)]` is not supported in enums".to_owned(),
        (MIGRATE, Place::Field) => "`migrate` goes on the type, not on a field: write `#[coo(migrate = path::to::function)]` above the type; the hook receives the whole old value".to_owned(),
        (MIGRATE, Place::Variant) => "`migrate` goes on the enum, not on a variant: write `#[coo(migrate = path::to::function)]` above the enum; the hook receives the whole old value".to_owned(),
        (NAME, Place::Field) => "`name` goes on a type, not on a field: the stable name of a field is its identifier; to rename a field, rename it and add `#[coo(rename_from = \"old_name\")]`".to_owned(),
        (OPAQUE | SERDE, Place::Type | Place::Variant) => format!("`{key}` goes on a field, not on {}: write `#[coo(opaque)]` above a field whose type Coo cannot describe", place.noun()),
        (NAME, Place::Variant) => "`name` goes on a type, not on an enum variant: the stable name of a variant is its identifier; to rename a variant, rename it and add `#[coo(rename_from = \"OldName\")]`".to_owned(),
        _ => {
            let accepted = place.accepted();
            let mut message = format!("unknown coo attribute `{key}`, {}", expected_keys(place));
            if let Some(close) = closest(key, accepted) {
                message.push_str(&format!("; did you mean `{close}`?"));
            }
            message
        }
    }
}

/// "expected one of `a`, `b`", or "expected `a`" for a place that accepts one key.
fn expected_keys(place: Place) -> String {
    let keys: Vec<String> = place.accepted().iter().map(|k| format!("`{k}`")).collect();
    match keys.as_slice() {
        [one] => format!("expected `{}` on {}", one.trim_matches('`'), place.noun()),
        _ => format!("expected one of {} on {}", keys.join(", "), place.noun()),
    }
}

/// "the field", "the type", "the variant"
fn place_item(place: Place) -> &'static str {
    match place {
        Place::Type => "the type",
        Place::Variant => "the variant",
        Place::Field => "the field",
    }
}

fn example_name(place: Place) -> &'static str {
    match place {
        Place::Type => "Hero",
        Place::Variant => "Walking",
        Place::Field => "hp",
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edit_distance(word, candidate), *candidate))
        .filter(|(distance, candidate)| {
            *distance <= (candidate.len() / 3).max(1)
                || (word.len() >= 3 && (candidate.starts_with(word) || word.starts_with(candidate)))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, counting a swap of two neighbours as one edit (`defualt`, `default`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("defualt", "default"), 1);
        assert_eq!(edit_distance("rename_form", "rename_from"), 1);
        assert_eq!(edit_distance("", "name"), 4);
        assert_eq!(edit_distance("name", "name"), 0);
    }

    #[test]
    fn closest_suggests_only_likely_typos() {
        let field = Place::Field.accepted();
        assert_eq!(closest("defualt", field), Some("default"));
        assert_eq!(closest("rename", field), Some("rename_from"));
        assert_eq!(closest("skip", field), None);
    }
}
