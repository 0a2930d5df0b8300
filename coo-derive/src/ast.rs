//! The derive's view of its input: a small IR that borrows the `syn` nodes it came from, so
//! that later passes can put errors on the exact tokens.

use proc_macro2::{Ident, Span};
use syn::ext::IdentExt as _;
use syn::{DeriveInput, Expr, Generics, Index, Member, Type};

use crate::attr::{FieldAttrs, Repr, TypeAttrs, VariantAttrs};
use crate::errors::Errors;

/// The type that derives `CooType`.
pub(crate) struct Container<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: TypeAttrs,
    /// The `#[repr(...)]` of the type (an enum's descriptor records it; a struct's records
    /// every field's offset instead).
    pub repr: Repr,
    pub data: Data<'a>,
}

pub(crate) enum Data<'a> {
    Struct(Style, Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

/// How a struct or a variant spells its fields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Named,
    Tuple,
    Unit,
}

pub(crate) struct Variant<'a> {
    pub ident: &'a Ident,
    pub attrs: VariantAttrs,
    /// The explicit discriminant, `= EXPR`.
    pub discriminant: Option<&'a Expr>,
    pub style: Style,
    pub fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    /// How code names the field: `x` or `0`.
    pub member: Member,
    /// The descriptor's name of the field: `"x"` (without `r#`) or `"0"`.
    pub name: String,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
}

impl<'a> Container<'a> {
    /// Reads the input, parsing every `#[coo(...)]` attribute. `None` for a union, which has no
    /// IR (the error is recorded).
    pub(crate) fn from_ast(errors: &mut Errors, input: &'a DeriveInput) -> Option<Container<'a>> {
        let attrs = TypeAttrs::parse(errors, &input.attrs);
        let is_enum = matches!(input.data, syn::Data::Enum(_));
        let repr = Repr::parse(errors, &input.attrs, is_enum);
        let data = match &input.data {
            syn::Data::Struct(data) => {
                let (style, fields) = fields_from_ast(errors, &data.fields);
                Data::Struct(style, fields)
            }
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        let (style, fields) = fields_from_ast(errors, &variant.fields);
                        Variant {
                            ident: &variant.ident,
                            attrs: VariantAttrs::parse(errors, &variant.attrs),
                            discriminant: variant.discriminant.as_ref().map(|(_, expr)| expr),
                            style,
                            fields,
                        }
                    })
                    .collect(),
            ),
            syn::Data::Union(data) => {
                errors.spanned(
                    data.union_token,
                    "`CooType` cannot be derived for a union: Coo cannot tell which field holds the value; use a struct, or an enum with one variant per field",
                );
                return None;
            }
        };
        Some(Container {
            ident: &input.ident,
            generics: &input.generics,
            attrs,
            repr,
            data,
        })
    }

    /// The stable name: `#[coo(name = "...")]`, or the identifier.
    pub(crate) fn name(&self) -> String {
        match &self.attrs.name {
            Some(name) => name.value(),
            None => self.ident.unraw().to_string(),
        }
    }

    /// Every field of the type, of every variant for an enum.
    pub(crate) fn all_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        let (struct_fields, variants): (&[Field<'a>], &[Variant<'a>]) = match &self.data {
            Data::Struct(_, fields) => (fields, &[]),
            Data::Enum(variants) => (&[], variants),
        };
        struct_fields
            .iter()
            .chain(variants.iter().flat_map(|variant| &variant.fields))
    }
}

impl Variant<'_> {
    /// The descriptor's name of the variant (without `r#`).
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }
}

fn fields_from_ast<'a>(errors: &mut Errors, fields: &'a syn::Fields) -> (Style, Vec<Field<'a>>) {
    let style = match fields {
        syn::Fields::Named(_) => Style::Named,
        syn::Fields::Unnamed(_) => Style::Tuple,
        syn::Fields::Unit => Style::Unit,
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let (member, name) = match &field.ident {
                Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
                None => (
                    Member::Unnamed(Index {
                        index: u32::try_from(index).expect("fewer than 2^32 fields"),
                        span: Span::call_site(),
                    }),
                    index.to_string(),
                ),
            };
            Field {
                member,
                name,
                ty: &field.ty,
                attrs: FieldAttrs::parse(errors, &field.attrs),
            }
        })
        .collect();
    (style, fields)
}
