//! The `types` part of a snapshot: the layouts of every type the state reaches, written and
//! read by serde (coo-runtime's `serde` feature on [`Schema`]).

use super::*;

/// The layouts of every type the state's resources reach, by stable name.
pub fn schema_of(state: &State) -> Schema {
    let mut descs: BTreeMap<&str, &TypeDesc> = BTreeMap::new();
    let mut stack = state.descs();
    while let Some(desc) = stack.pop() {
        if descs.insert(desc.name(), desc).is_some() {
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

pub(super) fn for_each_field_shape<'d>(desc: &'d TypeDesc, f: &mut dyn FnMut(&'d Shape)) {
    match desc.kind() {
        TypeKind::Struct(s) => s.fields().iter().for_each(|field| f(field.shape())),
        TypeKind::Enum(e) => e
            .variants()
            .iter()
            .flat_map(|v| v.fields())
            .for_each(|field| f(field.shape())),
    }
}

pub(super) fn nested_types<'d>(shape: &'d Shape, out: &mut Vec<&'d TypeDesc>) {
    match shape.kind() {
        ShapeKind::Prim(_) | ShapeKind::String(_) | ShapeKind::Opaque(_) => {}
        ShapeKind::Array { elem, .. }
        | ShapeKind::Vec { elem, .. }
        | ShapeKind::Box { elem, .. }
        | ShapeKind::Option { elem, .. }
        | ShapeKind::Pool { elem, .. } => nested_types(elem.get(), out),
        ShapeKind::Handle { target } => out.push(target.get()),
        ShapeKind::Named(desc) => out.push(desc.get()),
        ShapeKind::Tuple(elems) => elems
            .get()
            .iter()
            .for_each(|e| nested_types(e.shape(), out)),
        // Every impl's concrete type: the layouts a saved object may be of.
        ShapeKind::Dyn(d) => d.impls().into_iter().for_each(|i| out.push(i.ty())),
        ShapeKind::Coll { key, value, .. } => {
            nested_types(key.get(), out);
            if let Some(value) = value {
                nested_types(value.get(), out);
            }
        }
    }
}

/// The `types` of a snapshot (an empty schema when it has none). The snapshot is read a second
/// time, by `serde_json`, for this part only: it skips the other members without recursing, so
/// a deep `state` costs no stack here.
pub(super) fn saved_types(text: &str) -> Result<Schema, SnapshotError> {
    #[derive(serde::Deserialize)]
    struct Types {
        #[serde(default)]
        types: Schema,
    }
    serde_json::from_str::<Types>(text)
        .map(|t| t.types)
        .map_err(|e| SnapshotError::Format(format!("its `types` are not type layouts: {e}")))
}
