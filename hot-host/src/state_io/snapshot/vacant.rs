//! The `vacant_slots` part of a snapshot: the vacant slots of every pool in the state, found
//! by a walk with an explicit work stack, written as JSON and read back.

use super::types::{for_each_field_shape, nested_types};
use super::*;

pub(crate) fn vacant_json(out: &mut String, vacant: &VacantSlots) {
    out.push('{');
    for (i, (path, slots)) in vacant.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, path);
        out.push_str(":[");
        for (j, (index, generation)) in slots.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "[{index},{generation}]");
        }
        out.push(']');
    }
    out.push('}');
}

/// The vacant slots of every pool in the state, by the pool's path (see [`VacantSlots`]).
pub fn vacant_slots(state: &State) -> VacantSlots {
    let mut walk = VacantWalk {
        holds_pool: HashMap::new(),
        path: Vec::new(),
        out: VacantSlots::new(),
    };
    walk.find_types_holding_pools(state);
    for resource in state.resources() {
        walk.path.push(Seg::Name(resource.desc().name().to_owned()));
        if walk.type_holds_pool(resource.desc()) {
            walk.walk(Visit::Object(resource.view()));
        }
        walk.path.pop();
    }
    walk.out
}

/// Walks the state for pools, skipping values whose types cannot hold one.
struct VacantWalk {
    /// For each type the state reaches (by descriptor address), whether its values can hold a
    /// pool.
    holds_pool: HashMap<usize, bool>,
    path: Vec<Seg>,
    out: VacantSlots,
}

fn key(desc: &TypeDesc) -> usize {
    desc as *const TypeDesc as usize
}

impl VacantWalk {
    /// A fixed point over the reachable types, since types may contain themselves.
    fn find_types_holding_pools(&mut self, state: &State) {
        let mut descs: Vec<&TypeDesc> = Vec::new();
        let mut stack = state.descs();
        while let Some(desc) = stack.pop() {
            if self.holds_pool.insert(key(desc), false).is_none() {
                descs.push(desc);
                for_each_field_shape(desc, &mut |shape| nested_types(shape, &mut stack));
            }
        }
        loop {
            let mut changed = false;
            for desc in &descs {
                if self.holds_pool[&key(desc)] {
                    continue;
                }
                let mut holds = false;
                for_each_field_shape(desc, &mut |shape| holds |= self.shape_holds_pool(shape));
                if holds {
                    self.holds_pool.insert(key(desc), true);
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    fn type_holds_pool(&self, desc: &TypeDesc) -> bool {
        self.holds_pool.get(&key(desc)).copied().unwrap_or(true)
    }

    fn shape_holds_pool(&self, shape: &Shape) -> bool {
        match shape.kind() {
            ShapeKind::Prim(_)
            | ShapeKind::String(_)
            | ShapeKind::Handle { .. }
            | ShapeKind::Opaque(_) => false,
            ShapeKind::Pool { .. } => true,
            ShapeKind::Array { elem, .. }
            | ShapeKind::Vec { elem, .. }
            | ShapeKind::Box { elem, .. }
            | ShapeKind::Option { elem, .. } => self.shape_holds_pool(elem.get()),
            ShapeKind::Named(desc) => self.type_holds_pool(desc.get()),
            ShapeKind::Tuple(elems) => elems.get().iter().any(|e| self.shape_holds_pool(e.shape())),
            // Pools inside collections keep no vacant slots in a snapshot: their entries are
            // rebuilt by insertion, and a pool's vacant slots come back at generation 0. The
            // same holds inside trait objects, which are re-boxed.
            ShapeKind::Coll { .. } | ShapeKind::Dyn(_) => false,
        }
    }

    /// Walks a value of any depth: what is left to visit waits on an explicit work stack, in
    /// reverse order, with the steps into and out of each field or element around it.
    fn walk(&mut self, start: Visit<'_>) {
        const MATCHED: &str = "the view is asked for what its shape says it is";
        let mut stack = vec![start];
        while let Some(visit) = stack.pop() {
            let view = match visit {
                Visit::Enter(seg) => {
                    self.path.push(seg);
                    continue;
                }
                Visit::Leave => {
                    self.path.pop();
                    continue;
                }
                Visit::Object(value) => {
                    let variant = value.variant();
                    if variant.is_some() {
                        stack.push(Visit::Leave);
                    }
                    for (field, view) in value.fields().into_iter().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(view));
                        stack.push(Visit::Enter(Seg::Name(field.name().to_owned())));
                    }
                    if let Some(variant) = variant {
                        stack.push(Visit::Enter(Seg::Name(variant.to_owned())));
                    }
                    continue;
                }
                Visit::Value(view) => view,
            };
            let shape = view.shape();
            if !self.shape_holds_pool(shape) {
                continue;
            }
            match shape.kind() {
                ShapeKind::Prim(_)
                | ShapeKind::String(_)
                | ShapeKind::Handle { .. }
                | ShapeKind::Opaque(_) => {}
                ShapeKind::Array { .. } | ShapeKind::Vec { .. } => {
                    let elements = view.elements().expect(MATCHED);
                    for (i, element) in elements.into_iter().enumerate().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(element));
                        stack.push(Visit::Enter(Seg::Index(i)));
                    }
                }
                ShapeKind::Box { .. } => stack.push(Visit::Value(view.unboxed().expect(MATCHED))),
                ShapeKind::Option { .. } => {
                    if let Some(inner) = view.option().expect(MATCHED) {
                        stack.push(Visit::Value(inner));
                    }
                }
                ShapeKind::Pool { glue, .. } => {
                    // SAFETY: the view is a valid pool, borrowed from the state for the walk.
                    let slots = unsafe { glue.slot_count(view.ptr()) };
                    let vacant: Vec<(u32, u32)> = (0..slots)
                        .filter_map(|i| {
                            // SAFETY: `i < slot_count`.
                            let (generation, value) = unsafe { glue.slot(view.ptr(), i) };
                            value.is_null().then_some((i as u32, generation))
                        })
                        .collect();
                    if !vacant.is_empty() {
                        self.out
                            .insert(ValuePath(self.path.clone()).to_string(), vacant);
                    }
                    let entries = view.pool_entries().expect(MATCHED);
                    for (index, _, value) in entries.into_iter().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(value));
                        stack.push(Visit::Enter(Seg::Index(index as usize)));
                    }
                }
                ShapeKind::Named(_) => stack.push(Visit::Object(view.value().expect(MATCHED))),
                ShapeKind::Tuple(_) => {
                    let elements = view.tuple().expect(MATCHED);
                    for (i, element) in elements.into_iter().enumerate().rev() {
                        stack.push(Visit::Leave);
                        stack.push(Visit::Value(element));
                        stack.push(Visit::Enter(Seg::Name(i.to_string())));
                    }
                }
                ShapeKind::Coll { .. } | ShapeKind::Dyn(_) => {}
            }
        }
    }
}

/// What [`VacantWalk::walk`] has left to do: visit a value, or step into or out of a part.
enum Visit<'a> {
    Value(FieldView<'a>),
    Object(ValueView<'a>),
    Enter(Seg),
    Leave,
}

pub(crate) fn parse_vacant(json: Option<&JsonValue>) -> Result<VacantSlots, SnapshotError> {
    let bad = |what: String| SnapshotError::Format(format!("`vacant_slots` {what}"));
    let mut out = VacantSlots::new();
    let members = match json {
        None => return Ok(out),
        Some(JsonValue::Object(members)) => members,
        Some(other) => return Err(bad(format!("is {}, not an object", other.kind()))),
    };
    let number = |json: &JsonValue| match json {
        JsonValue::Number(n) => n.parse::<u32>().ok(),
        _ => None,
    };
    for (path, slots) in members {
        let JsonValue::Array(slots) = slots else {
            return Err(bad(format!("of `{path}` is not an array")));
        };
        let mut parsed = Vec::with_capacity(slots.len());
        for slot in slots {
            match slot {
                JsonValue::Array(pair) if pair.len() == 2 => {
                    match (number(&pair[0]), number(&pair[1])) {
                        (Some(index), Some(generation)) => parsed.push((index, generation)),
                        _ => {
                            return Err(bad(format!(
                                "of `{path}` holds a slot that is not two `u32`s"
                            )));
                        }
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "of `{path}` holds a slot that is not `[index, generation]`"
                    )));
                }
            }
        }
        out.insert(path.clone(), parsed);
    }
    Ok(out)
}
