//! The set of types of one build: collected by `inventory`, or listed explicitly.

use std::collections::BTreeMap;

use crate::descriptors::layout::{ShapeKind, TypeDesc, TypeKind};
use crate::descriptors::matching::{self, ItemKind, MatchConflict};
use crate::descriptors::schema::Schema;
use crate::plugin::image::ImageRef;

/// What `#[derive(CooType)]` submits to `inventory` for every type.
#[derive(Debug)]
pub struct TypeRegistration(pub fn() -> &'static TypeDesc);

inventory::collect!(TypeRegistration);

/// Two types of one build claim the same stable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "two types are both named `{name}`: `{first}` and `{second}`; give one of them `#[coo(name = \"...\")]`"
)]
pub struct DuplicateTypeName {
    pub name: String,
    pub first: String,
    pub second: String,
}

/// The types of one version of the code, by stable name, with every type they reach.
///
/// Descriptors live in the code of the build that defined them. A catalog of a loaded plugin
/// carries the [`ImageRef`] of its library, so the library stays mapped while the catalog (or a
/// plan or resource made from it) lives; see [`crate::plugin::image`]. [`Catalog::schema`] copies the
/// layouts out into owned data, for keeping past the code.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// `'static` in name only: valid while `image` lives, which every reader of these is bounded
    /// by (the public accessors borrow `self`).
    types: BTreeMap<&'static str, &'static TypeDesc>,
    image: ImageRef,
}

impl Catalog {
    /// Every `CooType` registered in this statically linked build (this binary, or the plugin
    /// library whose copy of `coo-runtime` runs this).
    pub fn linked() -> Result<Catalog, DuplicateTypeName> {
        Catalog::from_descs(
            inventory::iter::<TypeRegistration>
                .into_iter()
                .map(|r| (r.0)()),
        )
    }

    /// The given types and every type they reach through their fields, all compiled into this
    /// binary (a plugin's types come with the guard of their image: [`Catalog::from_image`]).
    pub fn from_descs(
        descs: impl IntoIterator<Item = &'static TypeDesc>,
    ) -> Result<Catalog, DuplicateTypeName> {
        // SAFETY: truly `'static` descriptors, which no image guard needs to keep alive.
        unsafe { Catalog::from_image(descs, ImageRef::STATIC) }
    }

    /// The given types of the image guarded by `image` and every type they reach: the catalog
    /// keeps the image mapped for as long as it (or anything made from it) lives.
    ///
    /// # Safety
    /// The descriptors are `'static` in name only: each of them lives in the image `image`
    /// guards (or is compiled into this binary), so that they stay valid for as long as `image`
    /// (which the catalog keeps) lives. A descriptor of another image would dangle once that one
    /// is unloaded.
    pub unsafe fn from_image(
        descs: impl IntoIterator<Item = &'static TypeDesc>,
        image: ImageRef,
    ) -> Result<Catalog, DuplicateTypeName> {
        let mut catalog = Catalog {
            types: BTreeMap::new(),
            image,
        };
        let mut stack: Vec<&'static TypeDesc> = descs.into_iter().collect();
        while let Some(desc) = stack.pop() {
            if let Some(existing) = catalog.types.get(desc.name()) {
                if core::ptr::eq(*existing, desc) || same_definition(existing, desc) {
                    continue;
                }
                return Err(DuplicateTypeName {
                    name: desc.name().to_owned(),
                    first: existing.rust_name().to_owned(),
                    second: desc.rust_name().to_owned(),
                });
            }
            catalog.types.insert(desc.name(), desc);
            for_each_nested(desc, &mut |d| stack.push(d));
        }
        Ok(catalog)
    }

    /// The type named `name`, borrowed from the catalog: it lives in the image the catalog keeps
    /// mapped (clone [`Catalog::image`] or the catalog to keep it longer).
    pub fn get(&self, name: &str) -> Option<&TypeDesc> {
        self.types.get(name).copied()
    }

    /// The type of this catalog that continues the type `old_name` of an earlier version (by
    /// [`crate::descriptors::matching`]): the one of that name, or the one renamed from it;
    /// an error when more than one claims it.
    pub fn successor(&self, old_name: &str) -> Result<Option<&TypeDesc>, MatchConflict> {
        self.successor_in_image(old_name)
    }

    /// As [`Catalog::successor`], with `None` also when more than one type claims `old_name`
    /// (the plan reports that conflict).
    pub fn find_successor(&self, old_name: &str) -> Option<&TypeDesc> {
        self.successor(old_name).ok().flatten()
    }

    /// [`Catalog::find_successor`] with the `'static`-in-name-only contract of
    /// [`Catalog::successor_in_image`].
    pub(crate) fn find_successor_in_image(&self, old_name: &str) -> Option<&'static TypeDesc> {
        self.successor_in_image(old_name).ok().flatten()
    }

    /// Every type, borrowed from the catalog.
    pub fn iter(&self) -> impl Iterator<Item = &TypeDesc> + '_ {
        self.types.values().map(|d| -> &TypeDesc { d })
    }

    /// [`Catalog::successor`] as the crate's own holders keep it: `'static` in name only, valid
    /// while a guard of [`Catalog::image`] lives. Only for code that stores the result next to
    /// a clone of that guard (a [`crate::Plan`] takes the catalog's).
    pub(crate) fn successor_in_image(
        &self,
        old_name: &str,
    ) -> Result<Option<&'static TypeDesc>, MatchConflict> {
        let types: Vec<&'static TypeDesc> = self.iter_in_image().collect();
        Ok(matching::successor(ItemKind::Type, old_name, &types)?.map(|i| types[i]))
    }

    /// [`Catalog::iter`] with the same `'static`-in-name-only contract as
    /// [`Catalog::successor_in_image`].
    pub(crate) fn iter_in_image(&self) -> impl Iterator<Item = &'static TypeDesc> + '_ {
        self.types.values().copied()
    }

    /// The guard of the image the types live in.
    pub fn image(&self) -> &ImageRef {
        &self.image
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The owned copy of every layout.
    pub fn schema(&self) -> Schema {
        Schema::from_catalog(self)
    }
}

/// A type's descriptor can be instantiated more than once (one per codegen unit); two copies
/// describe the same definition when their Rust path, size and alignment agree.
fn same_definition(a: &TypeDesc, b: &TypeDesc) -> bool {
    a.rust_name() == b.rust_name() && a.size() == b.size() && a.align() == b.align()
}

/// Calls `f` with every `CooType` named directly by a field of `desc`.
pub(crate) fn for_each_nested<'a>(desc: &'a TypeDesc, f: &mut dyn FnMut(&'a TypeDesc)) {
    let fields: Vec<_> = match desc.kind() {
        TypeKind::Struct(s) => s.fields().iter().collect(),
        TypeKind::Enum(e) => e
            .variants()
            .iter()
            .flat_map(|v| v.fields().iter())
            .collect(),
    };
    for field in fields {
        nested_in_shape(field.shape(), f);
    }
}

fn nested_in_shape<'a>(
    shape: &'a crate::descriptors::layout::Shape,
    f: &mut dyn FnMut(&'a TypeDesc),
) {
    match shape.kind() {
        ShapeKind::Prim(_) | ShapeKind::String(_) | ShapeKind::Opaque(_) => {}
        ShapeKind::Array { elem, .. }
        | ShapeKind::Vec { elem, .. }
        | ShapeKind::Box { elem, .. }
        | ShapeKind::Option { elem, .. }
        | ShapeKind::Pool { elem, .. } => nested_in_shape(elem.get(), f),
        ShapeKind::Handle { target } => f(target.get()),
        ShapeKind::Named(desc) => f(desc.get()),
        ShapeKind::Tuple(elems) => {
            for e in elems.get() {
                nested_in_shape(e.shape(), f);
            }
        }
        // The concrete types of the trait's impls in the image.
        ShapeKind::Dyn(d) => {
            for imp in d.impls() {
                f(imp.ty());
            }
        }
        ShapeKind::Coll { key, value, .. } => {
            nested_in_shape(key.get(), f);
            if let Some(value) = value {
                nested_in_shape(value.get(), f);
            }
        }
    }
}
