//! The shape of the live state as the line editor completes it: for each resource, a tree of
//! its values' field names, variants and element indices ([`Node`]), copied out of the state so
//! that the editor's thread never reads plugin memory.
//!
//! The tree is bounded: at most [`MAX_NODES`] nodes and [`MAX_DEPTH`] levels. Past the bound a
//! value is a [`Node::Leaf`]: its path still completes up to it, and nothing inside it does.

use coo_runtime::descriptors::layout::{Shape, ShapeKind, TypeKind, shape_text};
use coo_runtime::{FieldView, State, ValueView};

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
        .map(|r| (r.desc().name().to_owned(), object(r.view(), &mut budget, 0)))
        .collect()
}

fn object(value: ValueView<'_>, budget: &mut usize, depth: usize) -> Node {
    let ty = value.type_name().to_owned();
    if *budget == 0 || depth >= MAX_DEPTH {
        return Node::Leaf { ty };
    }
    *budget -= 1;
    let fields = value
        .fields()
        .into_iter()
        .map(|(f, view)| (f.name().to_owned(), node(view, budget, depth + 1)))
        .collect();
    match value.desc().kind() {
        TypeKind::Struct(_) => Node::Struct { ty, fields },
        TypeKind::Enum(e) => Node::Enum {
            ty,
            variants: e.variants().iter().map(|v| v.name().to_owned()).collect(),
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
    match view.shape().kind() {
        // A path sees into a trait object's value as into a nested type's.
        ShapeKind::Named(_) | ShapeKind::Dyn(_) => match view.value() {
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
        // Inside a field of a packed struct: views that know their elements may be unaligned.
        ShapeKind::Array { len, .. } if view.is_unaligned() => {
            *budget -= 1;
            let mut nodes = Vec::new();
            for (i, element) in view.elements().unwrap_or_default().into_iter().enumerate() {
                if *budget == 0 {
                    break;
                }
                nodes.push((i, node(element, budget, depth + 1)));
            }
            Node::Elements {
                ty,
                indices: Indices::Below(*len),
                nodes,
            }
        }
        ShapeKind::Array { elem, len } => elements(view.ptr(), elem.get(), *len, ty, budget, depth),
        ShapeKind::Vec { elem, glue } => {
            // SAFETY: the view is of a valid `Vec` (the contract of `FieldView`), which the
            // state's borrow keeps alive and unchanged while the tree is built. (Not
            // `FieldView::elements`: it would collect a view of every element of a long `Vec`
            // at every refresh, where only the first few fit in the tree.)
            let (buf, len) = unsafe { glue.parts(view.ptr()) };
            elements(buf, elem.get(), len, ty, budget, depth)
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
        // Tuples and collections complete as a whole (no steps into them yet).
        ShapeKind::Prim(_)
        | ShapeKind::String(_)
        | ShapeKind::Opaque(_)
        | ShapeKind::Handle { .. }
        | ShapeKind::Tuple(_)
        | ShapeKind::Coll { .. } => {
            *budget -= 1;
            Node::Leaf { ty }
        }
    }
}

/// The node of `len` elements of `elem` from `base`, the first as many as the budget allows.
fn elements(
    base: *const u8,
    elem: &Shape,
    len: usize,
    ty: String,
    budget: &mut usize,
    depth: usize,
) -> Node {
    *budget -= 1;
    let mut nodes = Vec::new();
    for i in 0..len {
        if *budget == 0 {
            break;
        }
        // SAFETY: `base` is the start of `len` valid elements of `elem` inside the borrowed
        // state (an array's own memory, or a `Vec`'s buffer), and element `i < len` lies at
        // `i * size` from it.
        let element = unsafe { FieldView::new(elem, base.add(i * elem.size())) };
        nodes.push((i, node(element, budget, depth + 1)));
    }
    Node::Elements {
        ty,
        indices: Indices::Below(len),
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coo_runtime::{CooType, Pool};

    #[derive(CooType, Debug)]
    #[coo(name = "completion::Unit")]
    pub struct Unit {
        pub hp: i32,
    }

    #[derive(CooType, Debug)]
    #[coo(name = "completion::Mode")]
    pub enum Mode {
        Idle,
        Moving { speed: u8 },
    }

    #[derive(CooType)]
    #[coo(name = "completion::Board")]
    pub struct Board {
        pub cells: Vec<u8>,
        pub target: Option<Box<Unit>>,
        pub nothing: Option<Unit>,
        pub mode: Mode,
        pub units: Pool<Unit>,
    }

    fn leaf(ty: &str) -> Node {
        Node::Leaf { ty: ty.into() }
    }

    fn unit(hp: &str) -> Node {
        Node::Struct {
            ty: "completion::Unit".into(),
            fields: vec![(hp.into(), leaf("i32"))],
        }
    }

    #[test]
    fn the_tree_names_fields_variants_and_the_indices_the_values_have_now() {
        let mut units = Pool::new();
        units.insert(Unit { hp: 1 });
        let gone = units.insert(Unit { hp: 2 });
        units.insert(Unit { hp: 3 });
        units.remove(gone).unwrap();
        let mut state = State::new();
        state.insert(Board {
            cells: vec![1, 2],
            target: Some(Box::new(Unit { hp: 4 })),
            nothing: None,
            mode: Mode::Moving { speed: 2 },
            units,
        });
        let cells = Node::Elements {
            ty: "Vec<u8>".into(),
            indices: Indices::Below(2),
            nodes: vec![(0, leaf("u8")), (1, leaf("u8"))],
        };
        assert_eq!(
            resources(&state),
            [(
                "completion::Board".to_owned(),
                Node::Struct {
                    ty: "completion::Board".into(),
                    fields: vec![
                        ("cells".into(), cells),
                        // Through the option and the box, into the value.
                        ("target".into(), unit("hp")),
                        ("nothing".into(), leaf("Option<completion::Unit>")),
                        (
                            "mode".into(),
                            Node::Enum {
                                ty: "completion::Mode".into(),
                                variants: vec!["Idle".into(), "Moving".into()],
                                current: "Moving".into(),
                                fields: vec![("speed".into(), leaf("u8"))],
                            }
                        ),
                        (
                            "units".into(),
                            Node::Elements {
                                ty: "Pool<completion::Unit>".into(),
                                indices: Indices::Slots(vec![0, 2]),
                                nodes: vec![(0, unit("hp")), (2, unit("hp"))],
                            }
                        ),
                    ],
                }
            )]
        );
    }

    #[test]
    fn a_long_vec_keeps_its_length_and_the_nodes_the_bound_has_room_for() {
        let mut state = State::new();
        state.insert(Board {
            cells: vec![0; MAX_NODES + 10],
            target: None,
            nothing: None,
            mode: Mode::Idle,
            units: Pool::new(),
        });
        let tree = resources(&state);
        let Some(Node::Elements { indices, nodes, .. }) = tree[0].1.field("cells") else {
            panic!("cells are elements: {:?}", tree[0].1.field("cells"))
        };
        assert_eq!(*indices, Indices::Below(MAX_NODES + 10));
        // The board and the vector took a node each.
        assert_eq!(nodes.len(), MAX_NODES - 2);
        assert_eq!(nodes.last().map(|(i, _)| *i), Some(MAX_NODES - 3));
        // Past the bound, a value is a leaf.
        assert_eq!(tree[0].1.field("mode"), Some(&leaf("completion::Mode")));
    }
}
