//! Tokens both macros share: the one path through which generated code names Coo, and a type
//! written back the way a user writes it, for messages.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::Type;

/// `use ::coo_runtime::__private as __coo;`: the first item of every generated block, through
/// which it names everything of Coo's (and `core`, `inventory`), so that the user's own
/// modules named `core`, `std` or `inventory` cannot shadow them.
pub(crate) fn private_import() -> TokenStream {
    quote!(
        use ::coo_runtime::__private as __coo;
    )
}

/// A type as a user would write it: `Vec<Option<Enemy>>`, `&'a str`, `[u8; 4]`.
pub(crate) fn type_text(ty: &Type) -> String {
    let mut out = String::new();
    write_tokens(&mut out, ty.to_token_stream());
    out
}

fn write_tokens(out: &mut String, tokens: TokenStream) {
    // Whether the last token was an identifier or a literal: two in a row need a space.
    let mut after_word = false;
    for token in tokens {
        match token {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if after_word {
                    out.push(' ');
                }
                out.push_str(&token.to_string());
                after_word = true;
            }
            TokenTree::Punct(punct) => {
                match punct.as_char() {
                    c @ (',' | ';') => {
                        out.push(c);
                        out.push(' ');
                    }
                    '+' => out.push_str(" + "),
                    // `Iterator<Item = u32>`
                    '=' => out.push_str(" = "),
                    // `fn(u32) -> u32`
                    '>' if out.ends_with('-') => {
                        out.pop();
                        out.push_str(" -> ");
                    }
                    c => out.push(c),
                }
                after_word = false;
            }
            TokenTree::Group(group) => {
                // `&mut [u8]`, `*const [u8; 4]`
                if after_word && group.delimiter() == Delimiter::Bracket {
                    out.push(' ');
                }
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                write_tokens(out, group.stream());
                out.push_str(close);
                after_word = false;
            }
        }
    }
}
