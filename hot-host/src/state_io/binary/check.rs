//! The values of a binary snapshot checked against its layouts before anything is built from
//! them: every length within the file, every `bool` 0 or 1, every `char` a scalar value, every
//! `String` UTF-8, every variant index one of its enum's, every `Option` tag 0 or 1, and the
//! values ending exactly where the section does. After this, building from the bytes (directly,
//! or through the JSON format) cannot fail nor read out of bounds.
//!
//! The walk keeps what is left on a work stack (no native recursion: a value nested a million
//! levels deep is checked on a small stack). A layout whose values cannot end (a struct that
//! holds itself without an `Option`, `Vec`, pool or enum between) is refused up front, so every
//! step of the walk either reads a byte or is one of boundedly many steps per byte.

use coo_runtime::descriptors::layout::Prim;
use coo_runtime::descriptors::schema::{LayoutKind, Schema, TyLayout};

use super::{BinaryError, BinaryErrorKind};

/// A layout's field type, its named types resolved to their index.
pub(super) enum Ty {
    Prim(Prim),
    String,
    Array(Box<Ty>, u64),
    Vec(Box<Ty>),
    Box(Box<Ty>),
    Option(Box<Ty>),
    Pool(Box<Ty>),
    Handle,
    Named(usize),
    /// A tuple's elements.
    Tuple(Vec<Ty>),
    /// A `VecDeque`, set or map: its length, then its entries (a map's as a `(key, value)`
    /// tuple).
    Coll(Box<Ty>),
    /// A `Box<dyn Trait>` object: its concrete type's name as a `String`, then its value.
    Dyn,
}

/// A type of the layouts: a struct's fields, or each variant's.
enum TypeShape {
    Struct(Vec<Ty>),
    Enum(Vec<Vec<Ty>>),
}

/// What [`Types::blob`] knows of a type: its values are `n` bytes of which any are valid, or
/// they are not (they have lengths, tags, `bool`s…), or not yet known.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blob {
    Bytes(u64),
    No,
    Unknown,
}

/// The layouts, resolved.
struct Types<'s> {
    names: Vec<&'s str>,
    shapes: Vec<TypeShape>,
    blob: Vec<Blob>,
    /// `Ty::Named(i)` for every index `i`: what a trait object's value is checked as.
    named: Vec<Ty>,
}

fn prim_size(prim: Prim) -> u64 {
    match prim {
        Prim::Bool | Prim::I8 | Prim::U8 => 1,
        Prim::I16 | Prim::U16 => 2,
        Prim::Char | Prim::I32 | Prim::U32 | Prim::F32 => 4,
        Prim::I64 | Prim::U64 | Prim::Isize | Prim::Usize | Prim::F64 => 8,
        Prim::I128 | Prim::U128 => 16,
    }
}

impl<'s> Types<'s> {
    fn of(schema: &'s Schema) -> Result<Types<'s>, String> {
        let names: Vec<&str> = schema.types.keys().map(String::as_str).collect();
        let resolve = |fields: &[coo_runtime::descriptors::schema::FieldLayout]| {
            fields
                .iter()
                .map(|f| ty(&f.ty, &names))
                .collect::<Result<Vec<_>, _>>()
        };
        let mut shapes = Vec::with_capacity(names.len());
        for layout in schema.types.values() {
            shapes.push(match &layout.kind {
                LayoutKind::Struct { fields, .. } => TypeShape::Struct(resolve(fields)?),
                LayoutKind::Enum { variants, .. } => TypeShape::Enum(
                    variants
                        .iter()
                        .map(|v| resolve(&v.fields))
                        .collect::<Result<_, _>>()?,
                ),
            });
        }
        let mut types = Types {
            blob: vec![Blob::Unknown; names.len()],
            named: (0..names.len()).map(Ty::Named).collect(),
            names,
            shapes,
        };
        types.find_blobs()?;
        Ok(types)
    }

    /// A fixed point over the types: each round settles the types whose fields are settled.
    /// A type left unsettled holds itself with nothing between that ends it.
    fn find_blobs(&mut self) -> Result<(), String> {
        loop {
            let mut changed = false;
            for i in 0..self.shapes.len() {
                if self.blob[i] != Blob::Unknown {
                    continue;
                }
                let blob = match &self.shapes[i] {
                    TypeShape::Enum(_) => Blob::No,
                    TypeShape::Struct(fields) => {
                        let mut sum = Blob::Bytes(0);
                        for field in fields {
                            sum = match (sum, self.ty_blob(field)) {
                                (_, Blob::No) | (Blob::No, _) => Blob::No,
                                (Blob::Bytes(a), Blob::Bytes(b)) => {
                                    a.checked_add(b).map_or(Blob::No, Blob::Bytes)
                                }
                                _ => Blob::Unknown,
                            };
                        }
                        sum
                    }
                };
                if blob != Blob::Unknown {
                    self.blob[i] = blob;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        match self.blob.iter().position(|b| *b == Blob::Unknown) {
            Some(i) => Err(format!(
                "`{}` holds itself with no `Option`, `Vec`, pool or enum between, so no value of it ends",
                self.names[i]
            )),
            None => Ok(()),
        }
    }

    fn ty_blob(&self, ty: &Ty) -> Blob {
        match ty {
            Ty::Prim(Prim::Bool | Prim::Char) => Blob::No,
            Ty::Prim(p) => Blob::Bytes(prim_size(*p)),
            Ty::Handle => Blob::Bytes(8),
            Ty::String | Ty::Vec(_) | Ty::Option(_) | Ty::Pool(_) => Blob::No,
            Ty::Tuple(_) | Ty::Coll(_) | Ty::Dyn => Blob::No,
            Ty::Box(elem) => self.ty_blob(elem),
            Ty::Array(elem, len) => match self.ty_blob(elem) {
                Blob::Bytes(n) => n.checked_mul(*len).map_or(Blob::No, Blob::Bytes),
                // An empty array of anything holds no bytes.
                _ if *len == 0 => Blob::Bytes(0),
                other => other,
            },
            Ty::Named(i) => self.blob[*i],
        }
    }
}

fn ty(layout: &TyLayout, names: &[&str]) -> Result<Ty, String> {
    let inner = |elem: &TyLayout| ty(elem, names).map(Box::new);
    Ok(match layout {
        TyLayout::Prim(p) => Ty::Prim(*p),
        // The JSON text its serde wrote, stored as a `String` is.
        TyLayout::String | TyLayout::Opaque { .. } => Ty::String,
        TyLayout::Array(elem, len) => Ty::Array(inner(elem)?, *len as u64),
        TyLayout::Vec(elem) => Ty::Vec(inner(elem)?),
        TyLayout::Box(elem) => Ty::Box(inner(elem)?),
        TyLayout::Option(elem) => Ty::Option(inner(elem)?),
        TyLayout::Pool(elem) => Ty::Pool(inner(elem)?),
        TyLayout::Handle(_) => Ty::Handle,
        TyLayout::Named(name) => Ty::Named(index(names, name)?),
        TyLayout::Tuple(elems) => Ty::Tuple(
            elems
                .iter()
                .map(|e| ty(e, names))
                .collect::<Result<_, _>>()?,
        ),
        TyLayout::Coll(_, key, value) => Ty::Coll(Box::new(match value {
            Some(value) => Ty::Tuple(vec![ty(key, names)?, ty(value, names)?]),
            None => ty(key, names)?,
        })),
        TyLayout::Dyn(_) => Ty::Dyn,
    })
}

fn index(names: &[&str], name: &str) -> Result<usize, String> {
    names
        .binary_search(&name)
        .map_err(|_| format!("they use the type `{name}`, which they do not describe"))
}

/// What is left to check, on the walk's work stack.
enum Step<'t> {
    Value(&'t Ty),
    /// `left` more elements (or pool slots, each with its index and generation first).
    Elements {
        elem: &'t Ty,
        left: u64,
        slots: bool,
    },
}

struct Walk<'b> {
    bytes: &'b [u8],
    pos: usize,
    /// Where `bytes` start in the file.
    base: usize,
}

impl Walk<'_> {
    fn error(&self, message: String) -> BinaryError {
        BinaryError::at(self.base + self.pos, BinaryErrorKind::Value { message })
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&[u8], BinaryError> {
        let left = (self.bytes.len() - self.pos) as u64;
        if n > left {
            return Err(self.error(format!("{what} needs {n} bytes, but only {left} are left")));
        }
        let part = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(part)
    }

    fn u64(&mut self, what: &str) -> Result<u64, BinaryError> {
        let bytes = self.take(8, what)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    fn prim(&mut self, prim: Prim) -> Result<(), BinaryError> {
        let at = self.pos;
        let bytes = self.take(prim_size(prim), "a number")?;
        match prim {
            Prim::Bool if bytes[0] > 1 => {
                let b = bytes[0];
                self.pos = at;
                Err(self.error(format!("a `bool` is {b}, not 0 or 1")))
            }
            Prim::Char => {
                let c = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
                if char::from_u32(c).is_none() {
                    self.pos = at;
                    return Err(
                        self.error(format!("a `char` is {c:#x}, not a Unicode scalar value"))
                    );
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// `len` values of `elem` follow: checked at once when any bytes are valid, else pushed.
    fn elements<'t>(
        &mut self,
        types: &Types<'_>,
        elem: &'t Ty,
        len: u64,
        slots: bool,
        stack: &mut Vec<Step<'t>>,
    ) -> Result<(), BinaryError> {
        match types.ty_blob(elem) {
            Blob::Bytes(n) => {
                let each = n.checked_add(if slots { 8 } else { 0 });
                let total = each.and_then(|each| each.checked_mul(len)).ok_or_else(|| {
                    self.error(format!("a length of {len} is more than any file holds"))
                })?;
                self.take(total, "the elements")?;
            }
            _ => {
                // Each element reads at least a byte: a length beyond what is left is damage.
                let left = (self.bytes.len() - self.pos) as u64;
                if len > left {
                    return Err(
                        self.error(format!("a length of {len}, but only {left} bytes are left"))
                    );
                }
                if len > 0 {
                    stack.push(Step::Elements {
                        elem,
                        left: len,
                        slots,
                    });
                }
            }
        }
        Ok(())
    }

    fn value<'t>(&mut self, types: &'t Types<'_>, start: &'t Ty) -> Result<(), BinaryError> {
        let mut stack = vec![Step::Value(start)];
        while let Some(step) = stack.pop() {
            let ty = match step {
                Step::Value(ty) => ty,
                Step::Elements { elem, left, slots } => {
                    if left > 1 {
                        stack.push(Step::Elements {
                            elem,
                            left: left - 1,
                            slots,
                        });
                    }
                    if slots {
                        self.take(8, "a pool slot's index and generation")?;
                    }
                    elem
                }
            };
            if let Blob::Bytes(n) = types.ty_blob(ty) {
                self.take(n, "a value")?;
                continue;
            }
            match ty {
                Ty::Prim(p) => self.prim(*p)?,
                Ty::Handle => {
                    self.take(8, "a handle")?;
                }
                Ty::String => {
                    let len = self.u64("a `String`'s length")?;
                    let at = self.pos;
                    let bytes = self.take(len, "a `String`")?;
                    if let Err(e) = core::str::from_utf8(bytes) {
                        self.pos = at + e.valid_up_to();
                        return Err(self.error("a `String` is not UTF-8".to_owned()));
                    }
                }
                Ty::Array(elem, len) => self.elements(types, elem, *len, false, &mut stack)?,
                Ty::Vec(elem) => {
                    let len = self.u64("a `Vec`'s length")?;
                    self.elements(types, elem, len, false, &mut stack)?;
                }
                Ty::Pool(elem) => {
                    let len = self.u64("a pool's slot count")?;
                    self.elements(types, elem, len, true, &mut stack)?;
                }
                Ty::Box(elem) => stack.push(Step::Value(elem)),
                Ty::Tuple(elems) => stack.extend(elems.iter().rev().map(Step::Value)),
                Ty::Coll(entry) => {
                    let len = self.u64("a collection's length")?;
                    self.elements(types, entry, len, false, &mut stack)?;
                }
                Ty::Option(elem) => match self.take(1, "an `Option`'s tag")?[0] {
                    0 => {}
                    1 => stack.push(Step::Value(elem)),
                    tag => {
                        self.pos -= 1;
                        return Err(self.error(format!("an `Option`'s tag is {tag}, not 0 or 1")));
                    }
                },
                Ty::Dyn => {
                    let len = self.u64("a trait object's type name length")?;
                    let at = self.pos;
                    let bytes = self.take(len, "a trait object's type name")?;
                    let name = core::str::from_utf8(bytes).ok();
                    let Some(i) = name.and_then(|n| types.names.binary_search(&n).ok()) else {
                        self.pos = at;
                        return Err(self.error(
                            "a trait object is of a type the layouts do not describe".to_owned(),
                        ));
                    };
                    stack.push(Step::Value(&types.named[i]));
                }
                Ty::Named(i) => match &types.shapes[*i] {
                    TypeShape::Struct(fields) => {
                        stack.extend(fields.iter().rev().map(Step::Value));
                    }
                    TypeShape::Enum(variants) => {
                        let at = self.pos;
                        let bytes = self.take(4, "a variant index")?;
                        let index = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
                        let Some(fields) = variants.get(index as usize) else {
                            self.pos = at;
                            return Err(self.error(format!(
                                "`{}` has {} variants, and a value is variant {index}",
                                types.names[*i],
                                variants.len()
                            )));
                        };
                        stack.extend(fields.iter().rev().map(Step::Value));
                    }
                },
            }
        }
        Ok(())
    }
}

/// Checks `values` (at offset `base` of the file) against `schema`: the values of
/// `resources`, one after the other, and nothing after them.
pub(super) fn values(
    schema: &Schema,
    resources: &[String],
    values: &[u8],
    base: usize,
) -> Result<(), BinaryError> {
    let types = Types::of(schema).map_err(|message| {
        BinaryError::at(
            base,
            BinaryErrorKind::Section {
                section: "layouts",
                message,
            },
        )
    })?;
    let mut walk = Walk {
        bytes: values,
        pos: 0,
        base,
    };
    for name in resources {
        let ty = Ty::Named(index(&types.names, name).map_err(|message| walk.error(message))?);
        walk.value(&types, &ty)?;
    }
    if walk.pos != values.len() {
        return Err(BinaryError::at(
            base + walk.pos,
            BinaryErrorKind::Trailing {
                extra: (values.len() - walk.pos) as u64,
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layouts of one struct `S` with `fields` (`(name, type)`).
    fn schema(fields: &[(&str, &str)]) -> Schema {
        let fields: Vec<String> = fields
            .iter()
            .map(|(name, ty)| {
                format!(
                    r#"{{"name":"{name}","type":"{ty}","offset":0,"rename_from":[],"has_default":false}}"#
                )
            })
            .collect();
        let text = format!(
            r#"{{"S":{{"name":"S","rust_name":"t::S","rename_from":[],"kind":"struct","style":"named","size":8,"align":8,"has_default":false,"has_hook":false,"fields":[{}]}}}}"#,
            fields.join(",")
        );
        serde_json::from_str(&text).unwrap()
    }

    fn check(fields: &[(&str, &str)], values: &[u8]) -> Result<(), BinaryError> {
        values_of(&schema(fields), values)
    }

    fn values_of(schema: &Schema, values: &[u8]) -> Result<(), BinaryError> {
        super::values(schema, &["S".to_owned()], values, 100)
    }

    fn value_error(offset: u64, message: &str) -> BinaryError {
        BinaryError {
            offset,
            kind: BinaryErrorKind::Value {
                message: message.to_owned(),
            },
        }
    }

    #[test]
    fn values_that_break_their_layouts_are_refused_at_their_offset() {
        let ok = [1, 0, 0, 0, 1];
        assert_eq!(check(&[("a", "u32"), ("b", "bool")], &ok), Ok(()));
        assert_eq!(
            check(&[("a", "u32"), ("b", "bool")], &[1, 0, 0, 0, 2]),
            Err(value_error(104, "a `bool` is 2, not 0 or 1"))
        );
        assert_eq!(
            check(&[("c", "char")], &0xd800u32.to_le_bytes()),
            Err(value_error(
                100,
                "a `char` is 0xd800, not a Unicode scalar value"
            ))
        );
        let mut not_utf8 = 2u64.to_le_bytes().to_vec();
        not_utf8.extend([b'a', 0xff]);
        assert_eq!(
            check(&[("s", "String")], &not_utf8),
            Err(value_error(109, "a `String` is not UTF-8"))
        );
        assert_eq!(
            check(&[("o", "Option<u8>")], &[2, 0]),
            Err(value_error(100, "an `Option`'s tag is 2, not 0 or 1"))
        );
        assert_eq!(
            check(&[("a", "u32")], &[1, 0, 0, 0, 9]),
            Err(BinaryError {
                offset: 104,
                kind: BinaryErrorKind::Trailing { extra: 1 }
            })
        );
    }

    #[test]
    fn lengths_beyond_the_file_are_refused_without_allocating_or_overflowing() {
        let huge = (1u64 << 60).to_le_bytes();
        assert_eq!(
            check(&[("v", "Vec<String>")], &huge),
            Err(value_error(
                108,
                "a length of 1152921504606846976, but only 0 bytes are left"
            ))
        );
        assert_eq!(
            check(&[("v", "Vec<u64>")], &huge),
            Err(value_error(
                108,
                "the elements needs 9223372036854775808 bytes, but only 0 are left"
            ))
        );
        // An array so long that its size overflows, in a pool (whose slots add 8 bytes each).
        let array = format!("Pool<[u8; {}]>", u64::MAX - 3);
        assert_eq!(
            check(&[("p", &array)], &1u64.to_le_bytes()),
            Err(value_error(
                108,
                "a length of 1 is more than any file holds"
            ))
        );
    }

    #[test]
    fn a_struct_that_holds_itself_with_nothing_between_is_refused() {
        let err = check(&[("s", "Box<S>")], &[]).unwrap_err();
        assert_eq!(
            err,
            BinaryError {
                offset: 100,
                kind: BinaryErrorKind::Section {
                    section: "layouts",
                    message: "`S` holds itself with no `Option`, `Vec`, pool or enum between, so no value of it ends".to_owned(),
                }
            }
        );
        // Through an `Option` it ends.
        assert_eq!(check(&[("s", "Option<Box<S>>")], &[1, 0]), Ok(()));
    }
}
