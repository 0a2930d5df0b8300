//! The `types` part of a snapshot: the layouts of every type the state reaches, written as
//! JSON and read back.

use super::*;

/// The layouts of every type the state's resources reach, by stable name.
pub fn schema_of(state: &State) -> Schema {
    let mut descs: BTreeMap<&'static str, &'static TypeDesc> = BTreeMap::new();
    let mut stack = state.descs();
    while let Some(desc) = stack.pop() {
        if descs.insert(desc.name, desc).is_some() {
            continue;
        }
        for_each_field_shape(desc, &mut |shape| nested_types(shape, &mut stack));
    }
    Schema {
        types: descs
            .into_iter()
            .map(|(name, desc)| (name.to_owned(), TypeLayout::from_desc(desc)))
            .collect(),
    }
}

pub(super) fn for_each_field_shape(desc: &TypeDesc, f: &mut dyn FnMut(&'static Shape)) {
    match &desc.kind {
        TypeKind::Struct(s) => s.fields.iter().for_each(|field| f((field.shape)())),
        TypeKind::Enum(e) => e
            .variants
            .iter()
            .flat_map(|v| v.fields)
            .for_each(|field| f((field.shape)())),
    }
}

pub(super) fn nested_types(shape: &'static Shape, out: &mut Vec<&'static TypeDesc>) {
    match &shape.kind {
        ShapeKind::Prim(_) | ShapeKind::String(_) => {}
        ShapeKind::Array { elem, .. }
        | ShapeKind::Vec { elem, .. }
        | ShapeKind::Box { elem, .. }
        | ShapeKind::Option { elem, .. }
        | ShapeKind::Pool { elem, .. } => nested_types(elem(), out),
        ShapeKind::Handle { target } => out.push(target()),
        ShapeKind::Named(desc) => out.push(desc()),
    }
}

fn json_strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, item);
    }
    out.push(']');
}

fn style_name(style: FieldsStyle) -> &'static str {
    match style {
        FieldsStyle::Named => "named",
        FieldsStyle::Tuple => "tuple",
        FieldsStyle::Unit => "unit",
    }
}

/// The `types` object of a snapshot.
pub(super) fn types_json(out: &mut String, schema: &Schema) {
    out.push('{');
    for (i, (name, t)) in schema.types.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, name);
        out.push(':');
        type_json(out, t);
    }
    out.push('}');
}

fn type_json(out: &mut String, t: &TypeLayout) {
    out.push_str(r#"{"name":"#);
    json_string(out, &t.name);
    out.push_str(r#","rust_name":"#);
    json_string(out, &t.rust_name);
    out.push_str(r#","rename_from":"#);
    json_strings(out, &t.rename_from);
    match &t.kind {
        LayoutKind::Struct { style, fields } => {
            let _ = write!(out, r#","kind":"struct","style":"{}""#, style_name(*style));
            type_sizes(out, t);
            out.push_str(r#","fields":"#);
            fields_json(out, fields);
        }
        LayoutKind::Enum { repr, variants } => {
            out.push_str(r#","kind":"enum""#);
            type_sizes(out, t);
            repr_json(out, repr);
            out.push_str(r#","variants":["#);
            for (i, v) in variants.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"name":"#);
                json_string(out, &v.name);
                let _ = write!(
                    out,
                    r#","discriminant":{},"style":"{}","rename_from":"#,
                    v.discriminant,
                    style_name(v.style)
                );
                json_strings(out, &v.rename_from);
                out.push_str(r#","fields":"#);
                fields_json(out, &v.fields);
                out.push('}');
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// `,"repr":{"c":false,"transparent":false,"int":"u8","align":null}`
fn repr_json(out: &mut String, repr: &EnumRepr) {
    let _ = write!(
        out,
        r#","repr":{{"c":{},"transparent":{},"int":"#,
        repr.c, repr.transparent
    );
    match repr.int {
        Some(int) => json_string(out, int.name()),
        None => out.push_str("null"),
    }
    match repr.align {
        Some(align) => {
            let _ = write!(out, r#","align":{align}}}"#);
        }
        None => out.push_str(r#","align":null}"#),
    }
}

fn type_sizes(out: &mut String, t: &TypeLayout) {
    let _ = write!(
        out,
        r#","size":{},"align":{},"has_default":{},"has_hook":{}"#,
        t.size, t.align, t.has_default, t.has_hook
    );
}

fn fields_json(out: &mut String, fields: &[FieldLayout]) {
    out.push('[');
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        json_string(out, &f.name);
        out.push_str(r#","type":"#);
        json_string(out, &f.ty.to_string());
        if let Some(offset) = f.offset {
            let _ = write!(out, r#","offset":{offset}"#);
        }
        out.push_str(r#","rename_from":"#);
        json_strings(out, &f.rename_from);
        let _ = write!(out, r#","has_default":{}}}"#, f.has_default);
    }
    out.push(']');
}

/// The `types` of a snapshot, back as layouts.
pub(super) fn parse_types(json: &JsonValue) -> Result<Schema, SnapshotError> {
    let JsonValue::Object(types) = json else {
        return Err(SnapshotError::Format(format!(
            "`types` is {}, not an object",
            json.kind()
        )));
    };
    let mut schema = Schema::default();
    for (name, t) in types {
        let layout = parse_type(t)
            .ok_or_else(|| SnapshotError::Format(format!("`types.{name}` is not a type layout")))?;
        schema.types.insert(name.clone(), layout);
    }
    Ok(schema)
}

fn parse_type(json: &JsonValue) -> Option<TypeLayout> {
    let kind = match text(json.get("kind")?)? {
        "struct" => LayoutKind::Struct {
            style: parse_style(json.get("style")?)?,
            fields: parse_fields(json.get("fields")?)?,
        },
        "enum" => {
            let JsonValue::Array(variants) = json.get("variants")? else {
                return None;
            };
            LayoutKind::Enum {
                // Snapshots written before the representation was recorded have neither
                // `repr` nor `discriminant`: they read as no `repr` and the implicit
                // discriminants. The saved layouts serve messages and number conversion only;
                // values are loaded by variant name whatever the representation.
                repr: match json.get("repr") {
                    Some(repr) => parse_repr(repr)?,
                    None => EnumRepr::RUST,
                },
                variants: variants
                    .iter()
                    .enumerate()
                    .map(|(index, v)| {
                        Some(VariantLayout {
                            name: text(v.get("name")?)?.to_owned(),
                            discriminant: match v.get("discriminant") {
                                Some(JsonValue::Number(n)) => n.parse().ok()?,
                                Some(_) => return None,
                                None => i128::try_from(index).ok()?,
                            },
                            style: parse_style(v.get("style")?)?,
                            fields: parse_fields(v.get("fields")?)?,
                            rename_from: strings(v.get("rename_from")?)?,
                        })
                    })
                    .collect::<Option<_>>()?,
            }
        }
        _ => return None,
    };
    Some(TypeLayout {
        name: text(json.get("name")?)?.to_owned(),
        rust_name: text(json.get("rust_name")?)?.to_owned(),
        rename_from: strings(json.get("rename_from")?)?,
        size: uint(json.get("size")?)?,
        align: uint(json.get("align")?)?,
        kind,
        has_default: boolean(json.get("has_default")?)?,
        has_hook: boolean(json.get("has_hook")?)?,
    })
}

fn parse_repr(json: &JsonValue) -> Option<EnumRepr> {
    Some(EnumRepr {
        c: boolean(json.get("c")?)?,
        transparent: boolean(json.get("transparent")?)?,
        int: match json.get("int")? {
            JsonValue::Null => None,
            int => Some(Prim::from_name(text(int)?).filter(|p| p.is_int())?),
        },
        align: match json.get("align")? {
            JsonValue::Null => None,
            align => Some(uint(align)?),
        },
    })
}

fn parse_fields(json: &JsonValue) -> Option<Vec<FieldLayout>> {
    let JsonValue::Array(fields) = json else {
        return None;
    };
    fields
        .iter()
        .map(|f| {
            Some(FieldLayout {
                name: text(f.get("name")?)?.to_owned(),
                offset: match f.get("offset") {
                    Some(offset) => Some(uint(offset)?),
                    None => None,
                },
                ty: parse_ty(text(f.get("type")?)?)?,
                rename_from: strings(f.get("rename_from")?)?,
                has_default: boolean(f.get("has_default")?)?,
            })
        })
        .collect()
}

fn parse_style(json: &JsonValue) -> Option<FieldsStyle> {
    match text(json)? {
        "named" => Some(FieldsStyle::Named),
        "tuple" => Some(FieldsStyle::Tuple),
        "unit" => Some(FieldsStyle::Unit),
        _ => None,
    }
}

fn text(json: &JsonValue) -> Option<&str> {
    match json {
        JsonValue::String(s) => Some(s),
        _ => None,
    }
}

fn uint(json: &JsonValue) -> Option<usize> {
    match json {
        JsonValue::Number(n) => n.parse().ok(),
        _ => None,
    }
}

fn boolean(json: &JsonValue) -> Option<bool> {
    match json {
        JsonValue::Bool(b) => Some(*b),
        _ => None,
    }
}

fn strings(json: &JsonValue) -> Option<Vec<String>> {
    match json {
        JsonValue::Array(items) => items.iter().map(|i| text(i).map(str::to_owned)).collect(),
        _ => None,
    }
}

/// A field type back from its text ([`TyLayout`]'s `Display`): `Vec<Option<Box<Enemy>>>`,
/// `[u8; 4]`, `Handle<Enemy>`.
fn parse_ty(text: &str) -> Option<TyLayout> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let (elem, len) = inner.rsplit_once(';')?;
        return Some(TyLayout::Array(
            Box::new(parse_ty(elem)?),
            len.trim().parse().ok()?,
        ));
    }
    if let Some((head, rest)) = text.split_once('<')
        && let Some(inner) = rest.strip_suffix('>')
    {
        let elem = || parse_ty(inner).map(Box::new);
        return match head {
            "Vec" => Some(TyLayout::Vec(elem()?)),
            "Box" => Some(TyLayout::Box(elem()?)),
            "Option" => Some(TyLayout::Option(elem()?)),
            "Pool" => Some(TyLayout::Pool(elem()?)),
            "Handle" => Some(TyLayout::Handle(inner.to_owned())),
            _ => None,
        };
    }
    Some(match text {
        "String" => TyLayout::String,
        _ => match Prim::from_name(text) {
            Some(p) => TyLayout::Prim(p),
            None => TyLayout::Named(text.to_owned()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_texts_parse_back() {
        for text in [
            "u8",
            "String",
            "[u8; 4]",
            "[[f32; 2]; 3]",
            "Vec<Option<Box<Enemy>>>",
            "Pool<game::Unit>",
            "Handle<Enemy>",
            "World",
        ] {
            let ty = parse_ty(text).unwrap_or_else(|| panic!("{text} parses"));
            assert_eq!(ty.to_string(), text);
        }
    }
}
