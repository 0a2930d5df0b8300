//! The `{:#?}`-like rendering of values for people (see the [parent module](super)).

use core::fmt::Write as _;

use coo_runtime::FieldView;
use coo_runtime::descriptors::layout::FieldsStyle;

use super::{Node, Object, PRETTY_MAX_DEPTH, PRETTY_MAX_ELEMENTS, node};

/// Writes the `{:#?}`-like rendering.
#[derive(Default)]
pub(super) struct Pretty {
    pub(super) out: String,
}

impl Pretty {
    fn newline(&mut self, level: usize) {
        self.out.push('\n');
        for _ in 0..level {
            self.out.push_str("    ");
        }
    }

    /// Writes a value whose first line continues the current one and whose other lines are
    /// indented `level` times.
    pub(super) fn value(&mut self, view: FieldView<'_>, level: usize) {
        match node(view) {
            Node::Bool(v) => {
                let _ = write!(self.out, "{v}");
            }
            Node::Char(c) => {
                let _ = write!(self.out, "{c:?}");
            }
            Node::Int(v) => {
                let _ = write!(self.out, "{v}");
            }
            Node::U128(v) => {
                let _ = write!(self.out, "{v}");
            }
            Node::F32(v) => {
                let _ = write!(self.out, "{v:?}");
            }
            Node::F64(v) => {
                let _ = write!(self.out, "{v:?}");
            }
            Node::Str(s) => {
                let _ = write!(self.out, "{s:?}");
            }
            Node::Seq(elements) => {
                self.out.push('[');
                self.items(
                    elements,
                    PRETTY_MAX_ELEMENTS,
                    level,
                    |pretty, element, level| {
                        pretty.value(element, level);
                    },
                );
                self.out.push(']');
            }
            Node::Option(None) => self.out.push_str("None"),
            Node::Option(Some(inner)) => {
                self.out.push_str("Some(");
                self.items([inner], usize::MAX, level, |pretty, inner, level| {
                    pretty.value(inner, level);
                });
                self.out.push(')');
            }
            Node::Pool { elem, entries } => {
                let _ = write!(self.out, "Pool<{elem}> {{");
                self.items(
                    entries,
                    PRETTY_MAX_ELEMENTS,
                    level,
                    |pretty, (index, generation, value), level| {
                        let _ = write!(pretty.out, "{index}v{generation}: ");
                        pretty.value(value, level);
                    },
                );
                self.out.push('}');
            }
            Node::Handle {
                target,
                index,
                generation,
            } => {
                let _ = write!(self.out, "Handle<{target}>({index}v{generation})");
            }
            Node::Object(object) => self.object(&object, level),
            Node::Opaque(view) => self.out.push_str(&super::opaque_debug(view)),
            Node::Dyn(object) => {
                if object.variant.is_some() {
                    self.out.push_str(object.type_name);
                    self.out.push_str("::");
                }
                self.object(&object, level)
            }
            Node::Unreadable(why) => {
                self.out.push('<');
                self.out.push_str(&why);
                self.out.push('>');
            }
            Node::Tuple(elements) => {
                self.out.push('(');
                self.items(elements, usize::MAX, level, |pretty, element, level| {
                    pretty.value(element, level);
                });
                self.out.push(')');
            }
            Node::Set(elements) => {
                self.out.push('{');
                self.items(
                    elements,
                    PRETTY_MAX_ELEMENTS,
                    level,
                    |pretty, element, level| {
                        pretty.value(element, level);
                    },
                );
                self.out.push('}');
            }
            Node::Map(entries) => {
                self.out.push('{');
                self.items(
                    entries,
                    PRETTY_MAX_ELEMENTS,
                    level,
                    |pretty, (key, value), level| {
                        pretty.value(key, level);
                        pretty.out.push_str(": ");
                        pretty.value(value, level);
                    },
                );
                self.out.push('}');
            }
        }
    }

    /// `Name { a: .., }`, `Name(.., ..)` or `Name`, as derived `Debug` writes a struct or
    /// variant; a variant goes by its name alone.
    pub(super) fn object(&mut self, object: &Object<'_>, level: usize) {
        self.out
            .push_str(object.variant.unwrap_or(object.type_name));
        if object.fields.is_empty() {
            return;
        }
        match object.style {
            FieldsStyle::Named => {
                self.out.push_str(" {");
                self.items(
                    &object.fields,
                    usize::MAX,
                    level,
                    |pretty, (field, value), level| {
                        pretty.out.push_str(field.name());
                        pretty.out.push_str(": ");
                        pretty.value(*value, level);
                    },
                );
                self.out.push('}');
            }
            FieldsStyle::Tuple | FieldsStyle::Unit => {
                self.out.push('(');
                self.items(
                    &object.fields,
                    usize::MAX,
                    level,
                    |pretty, (_, value), level| {
                        pretty.value(*value, level);
                    },
                );
                self.out.push(')');
            }
        }
    }

    /// The items between an opening and a closing bracket: each on its own line one level
    /// deeper, followed by a comma; at most `limit` of them, then a line counting the others.
    /// Nothing at all when there are no items (`[]`).
    fn items<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        limit: usize,
        level: usize,
        mut write: impl FnMut(&mut Self, T, usize),
    ) {
        let mut items = items.into_iter().peekable();
        if level >= PRETTY_MAX_DEPTH && items.peek().is_some() {
            // Deeper levels are elided: the rendering of a long chain would grow with the square
            // of its length, and its walk would need a stack as deep as the chain.
            self.out.push_str("..");
            return;
        }
        let mut any = false;
        for item in items.by_ref().take(limit) {
            self.newline(level + 1);
            write(self, item, level + 1);
            self.out.push(',');
            any = true;
        }
        let more = items.count();
        if more > 0 {
            self.newline(level + 1);
            let _ = write!(self.out, "... ({more} more)");
            any = true;
        }
        if any {
            self.newline(level);
        }
    }
}
