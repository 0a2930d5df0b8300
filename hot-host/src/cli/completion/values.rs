//! The shape of the live state as the line editor completes it: for each resource, a tree of
//! its values' field names, variants and element indices ([`Node`]), copied out of the state so
//! that the editor's thread never reads plugin memory.
//!
//! The tree is bounded: at most [`MAX_NODES`] nodes and [`MAX_DEPTH`] levels. Past the bound a
//! value is a [`Node::Leaf`]: its path still completes up to it, and nothing inside it does.

use coo_runtime::descriptors::layout::{ShapeKind, TypeKind, shape_text};
use coo_runtime::{FieldView, OldValue, State};

/// How many nodes the tree of the whole state holds at most.
pub const MAX_NODES: usize = 20_000;

/// How deep the tree goes at most, counted from a resource.
pub const MAX_DEPTH: usize = 32;

/// One value of the state, as far as completing paths into it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A value with nothing inside to name (a number, a string, a handle, `None`), or one past
    /// the tree's bound. `ty` is its type's text (`u32`, `Option<Vec2>`).
    Leaf { ty: String },
    /// A struct: its fields in declaration order.
    Struct {
        ty: String,
        fields: Vec<(String, Node)>,
    },
    /// An enum: every variant's name, the one the value is in, and that variant's fields.
    Enum {
        ty: String,
        variants: Vec<String>,
        current: String,
        fields: Vec<(String, Node)>,
    },
    /// An array, a `Vec` or a pool: the indices a path may take (`0..len`, or a pool's occupied
    /// slots) and the node of each of them, as long as the bound left room.
    Elements {
        ty: String,
        indices: Indices,
        nodes: Vec<(usize, Node)>,
    },
}

/// The indices of an [`Node::Elements`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indices {
    /// `0..len`.
    Below(usize),
    /// These occupied slots of a pool, ascending.
    Slots(Vec<usize>),
}

impl Indices {
    pub fn contains(&self, index: usize) -> bool {
        match self {
            Indices::Below(len) => index < *len,
            Indices::Slots(slots) => slots.binary_search(&index).is_ok(),
        }
    }

    /// The indices in order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Indices::Below(len) => Box::new(0..*len),
            Indices::Slots(slots) => Box::new(slots.iter().copied()),
        }
    }
}

impl Node {
    /// The value's type, as text.
    pub fn ty(&self) -> &str {
        match self {
            Node::Leaf { ty }
            | Node::Struct { ty, .. }
            | Node::Enum { ty, .. }
            | Node::Elements { ty, .. } => ty,
        }
    }

    /// The node of the field `name` of a struct or of an enum's current variant.
    pub fn field(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Struct { fields, .. } | Node::Enum { fields, .. } => {
                fields.iter().find(|(n, _)| n == name).map(|(_, node)| node)
            }
            _ => None,
        }
    }

    /// The node of element `index`.
    pub fn element(&self, index: usize) -> Option<&Node> {
        match self {
            Node::Elements { nodes, .. } => nodes.iter().find(|(i, _)| *i == index).map(|(_, n)| n),
            _ => None,
        }
    }
}

/// The resources of `state` by their type's name, each with the tree of its value.
pub fn resources(state: &State) -> Vec<(String, Node)> {
    let mut budget = MAX_NODES;
    state
        .resources()
        .map(|r| (r.desc().name.to_owned(), object(r.view(), &mut budget, 0)))
        .collect()
}

fn object(value: OldValue<'_>, budget: &mut usize, depth: usize) -> Node {
    let ty = value.type_name().to_owned();
    if *budget == 0 || depth >= MAX_DEPTH {
        return Node::Leaf { ty };
    }
    *budget -= 1;
    let fields = value
        .fields()
        .into_iter()
        .map(|(f, view)| (f.name.to_owned(), node(view, budget, depth + 1)))
        .collect();
    match &value.desc().kind {
        TypeKind::Struct(_) => Node::Struct { ty, fields },
        TypeKind::Enum(e) => Node::Enum {
            ty,
            variants: e.variants.iter().map(|v| v.name.to_owned()).collect(),
            current: value.variant().unwrap_or_default().to_owned(),
            fields,
        },
    }
}

fn node(view: FieldView<'_>, budget: &mut usize, depth: usize) -> Node {
    let ty = shape_text(view.shape());
    if *budget == 0 || depth >= MAX_DEPTH {
        return Node::Leaf { ty };
    }
    match view.shape().kind {
        ShapeKind::Named(_) => match view.value() {
            Ok(value) => object(value, budget, depth),
            Err(_) => Node::Leaf { ty },
        },
        // A path sees through a box and into an option's payload.
        ShapeKind::Box { .. } => match view.unboxed() {
            Ok(inner) => node(inner, budget, depth),
            Err(_) => Node::Leaf { ty },
        },
        ShapeKind::Option { .. } => match view.option() {
            Ok(Some(inner)) => node(inner, budget, depth),
            _ => Node::Leaf { ty },
        },
        ShapeKind::Array { .. } | ShapeKind::Vec { .. } => {
            let elements = view.elements().unwrap_or_default();
            *budget -= 1;
            let indices = Indices::Below(elements.len());
            let mut nodes = Vec::new();
            for (i, element) in elements.into_iter().enumerate() {
                if *budget == 0 {
                    break;
                }
                nodes.push((i, node(element, budget, depth + 1)));
            }
            Node::Elements { ty, indices, nodes }
        }
        ShapeKind::Pool { .. } => {
            let entries = view.pool_entries().unwrap_or_default();
            *budget -= 1;
            let indices = Indices::Slots(entries.iter().map(|(i, _, _)| *i as usize).collect());
            let mut nodes = Vec::new();
            for (i, _, element) in entries {
                if *budget == 0 {
                    break;
                }
                nodes.push((i as usize, node(element, budget, depth + 1)));
            }
            Node::Elements { ty, indices, nodes }
        }
        ShapeKind::Prim(_) | ShapeKind::String(_) | ShapeKind::Handle { .. } => {
            *budget -= 1;
            Node::Leaf { ty }
        }
    }
}
