//! `Self` outside the item it belongs to. Both macros copy types (and, for enum discriminants,
//! expressions) from the input into generated items that live outside the type definition or
//! the impl block, where `Self` means nothing; [`replace_self`] writes the type's path in its
//! place. [`mentions_self`] asks the same visitor, so "mentions `Self`" and "has a `Self` that
//! would be replaced" cannot disagree.
//!
//! `Self` is found as the first segment of a path (`Self`, `Self::N`, `<Self as Trait>::Out`),
//! wherever syn's tree has a path, and as a token in what syn keeps as tokens: macro
//! invocations (`boxed!(Self)`) and verbatim types and expressions. Every replacement carries
//! the span of the `Self` it replaces ([`respan`]), so errors about the type still point at the
//! user's tokens and its names resolve where the user wrote `Self`.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::ToTokens as _;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Macro, Path, ReturnType, Type, TypeParamBound};

/// A node of the input that can hold `Self`.
pub(crate) trait SelfHolder: Clone {
    fn accept(&mut self, visitor: &mut SelfVisitor<'_>);
}

impl SelfHolder for Type {
    fn accept(&mut self, visitor: &mut SelfVisitor<'_>) {
        visitor.visit_type_mut(self);
    }
}

impl SelfHolder for Expr {
    fn accept(&mut self, visitor: &mut SelfVisitor<'_>) {
        visitor.visit_expr_mut(self);
    }
}

impl SelfHolder for ReturnType {
    fn accept(&mut self, visitor: &mut SelfVisitor<'_>) {
        visitor.visit_return_type_mut(self);
    }
}

/// `node` with every `Self` replaced by `owner`, the path of the type `Self` stands for.
pub(crate) fn replace_self<T: SelfHolder>(node: &T, owner: &Path) -> T {
    let mut node = node.clone();
    node.accept(&mut SelfVisitor {
        owner: Some(owner),
        found: false,
    });
    node
}

/// Whether `node` mentions `Self` anywhere [`replace_self`] would replace it.
pub(crate) fn mentions_self<T: SelfHolder>(node: &T) -> bool {
    let mut visitor = SelfVisitor {
        owner: None,
        found: false,
    };
    node.clone().accept(&mut visitor);
    visitor.found
}

/// Finds `Self` and, when it has an owner, replaces it.
pub(crate) struct SelfVisitor<'a> {
    /// The path to write for `Self`; `None` only looks for it.
    owner: Option<&'a Path>,
    /// Whether a `Self` was seen.
    found: bool,
}

impl SelfVisitor<'_> {
    /// `Self` among tokens that syn does not parse (a macro's input, a verbatim node): every
    /// `Self` identifier, at any depth.
    fn visit_tokens(&mut self, tokens: &mut TokenStream) {
        *tokens = core::mem::take(tokens)
            .into_iter()
            .flat_map(|token| -> TokenStream {
                match token {
                    TokenTree::Ident(ident) if ident == "Self" => {
                        self.found = true;
                        match self.owner {
                            Some(owner) => respan(owner.to_token_stream(), ident.span()),
                            None => TokenTree::Ident(ident).into(),
                        }
                    }
                    TokenTree::Group(group) => {
                        let mut stream = group.stream();
                        self.visit_tokens(&mut stream);
                        let mut replaced = Group::new(group.delimiter(), stream);
                        replaced.set_span(group.span());
                        TokenTree::Group(replaced).into()
                    }
                    other => other.into(),
                }
            })
            .collect();
    }
}

impl VisitMut for SelfVisitor<'_> {
    fn visit_path_mut(&mut self, path: &mut Path) {
        let starts_with_self = path.leading_colon.is_none()
            && path
                .segments
                .first()
                .is_some_and(|segment| segment.ident == "Self");
        if starts_with_self {
            self.found = true;
            if let Some(owner) = self.owner {
                let mut pairs = core::mem::take(&mut path.segments).into_pairs();
                let (self_segment, self_sep) = pairs
                    .next()
                    .expect("the path starts with `Self`")
                    .into_tuple();
                let span = self_segment.ident.span();
                let owner: Path = syn::parse2(respan(owner.to_token_stream(), span))
                    .expect("a path respanned is a path");
                path.leading_colon = owner.leading_colon;
                path.segments = owner.segments;
                // `Self`'s own arguments, if any, stay with the type that replaces it.
                if !self_segment.arguments.is_none()
                    && let Some(last) = path.segments.last_mut()
                {
                    last.arguments = self_segment.arguments;
                }
                // The rest of the path as written, from the `::` after `Self` on.
                if let Some(sep) = self_sep {
                    path.segments.push_punct(sep);
                    path.segments.extend(pairs);
                }
            }
        }
        visit_mut::visit_path_mut(self, path);
    }

    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        self.visit_tokens(&mut mac.tokens);
        visit_mut::visit_macro_mut(self, mac);
    }

    fn visit_type_mut(&mut self, ty: &mut Type) {
        match ty {
            Type::Verbatim(tokens) => self.visit_tokens(tokens),
            _ => visit_mut::visit_type_mut(self, ty),
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Verbatim(tokens) => self.visit_tokens(tokens),
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_type_param_bound_mut(&mut self, bound: &mut TypeParamBound) {
        match bound {
            TypeParamBound::Verbatim(tokens) => self.visit_tokens(tokens),
            _ => visit_mut::visit_type_param_bound_mut(self, bound),
        }
    }
}

/// `tokens` with every token in them, at any depth, given `span`.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut replaced = Group::new(group.delimiter(), respan(group.stream(), span));
                replaced.set_span(span);
                TokenTree::Group(replaced)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
