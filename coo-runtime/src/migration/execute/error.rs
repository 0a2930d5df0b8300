//! Why a planned migration failed on a live value, and where the value is: [`ValuePath`]s built
//! from [`Seg`]ments while an error travels out of the walk.

use std::fmt;

use crate::migration::casts::InexactCast;

/// One step of the path to a value: `World.particles[3].mass`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Name(String),
    Index(usize),
    /// An entry of a map or set, by its key as Rust would write it (`"bolt"`, `3`).
    Key(String),
}

/// Where a value lives in the state, from the resource down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValuePath(pub Vec<Seg>);

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Name(n) if i == 0 => f.write_str(n)?,
                Seg::Name(n) => write!(f, ".{n}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) => write!(f, "[{k}]")?,
            }
        }
        Ok(())
    }
}

/// Why carrying out a plan failed on a live value, and where the value lives. Nothing was
/// changed. (Why a plan could not be made at all is a [`PlanError`](crate::PlanError); either of
/// the two is a [`MigrationError`](crate::MigrationError).)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteError {
    /// The offending value, from the resource down (empty for [`ExecuteErrorKind::StalePlan`]).
    pub path: ValuePath,
    pub kind: ExecuteErrorKind,
}

/// What went wrong with the value at an [`ExecuteError`]'s path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecuteErrorKind {
    /// A checked narrowing of a number that the new type cannot hold exactly.
    CheckedCast(InexactCast),
    /// An array that shrinks over an element that does not hold the default.
    ArrayShrink {
        old_len: usize,
        new_len: usize,
        index: usize,
    },
    /// A value of an enum variant that the new version removed.
    VariantRemoved { ty: String, variant: String },
    /// A type's migration hook returned an error or panicked.
    Hook { ty: String, message: String },
    /// The default of a new field (or of elements an array gained) panicked.
    Default(DefaultPanicked),
    /// The plan was made for other live values.
    StalePlan,
    /// Two keys of a map or set (the old keys, as Rust would write them) would become equal
    /// keys of the new collection.
    KeysMerge { first: String, second: String },
    /// Inserting into the new collection panicked (its key's `Hash`, `Eq`, `Ord` or `Drop`).
    InsertPanicked { coll: String, message: String },
    /// A live `Box<dyn Trait>` object whose concrete type (or its `#[coo_impl]`) the new
    /// version removed.
    ImplRemoved { trait_name: String, ty: String },
    /// Asking a live `Box<dyn Trait>` object for its concrete type panicked in the plugin.
    ConcretePanicked { trait_name: String, message: String },
}

/// A default that panicked: a field's `#[coo(default = ...)]` expression or a type's `Default`
/// impl. One error for every builder of values (migration, snapshot loading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultPanicked {
    /// The panic's message.
    pub message: String,
}

impl DefaultPanicked {
    /// The message for the default of the value at `path`, with what to write to fix it.
    pub fn at<'a>(&'a self, path: &'a ValuePath) -> impl fmt::Display + 'a {
        DefaultAt {
            panicked: self,
            path,
        }
    }
}

struct DefaultAt<'a> {
    panicked: &'a DefaultPanicked,
    path: &'a ValuePath,
}

impl fmt::Display for DefaultAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the default of `{}` panicked: {}; make the `Default` impl or \
             `#[coo(default = ...)]` expression that makes it not panic, or give the field a \
             `#[coo(default = ...)]` that does not",
            self.path, self.panicked.message
        )
    }
}

impl fmt::Display for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match &self.kind {
            ExecuteErrorKind::CheckedCast(cast) => write!(f, "{}", cast.at(path)),
            ExecuteErrorKind::ArrayShrink {
                old_len,
                new_len,
                index,
            } => write!(
                f,
                "`{path}` shrinks from {old_len} to {new_len} elements, but element {index} does \
                 not hold the default; clear it first, or keep the length at {old_len}"
            ),
            ExecuteErrorKind::VariantRemoved { ty, variant } => write!(
                f,
                "`{path}` is `{ty}::{variant}`, a variant the new version removed; keep the \
                 variant, change the value first, or add `#[coo(migrate = ...)]` to `{ty}`"
            ),
            ExecuteErrorKind::Hook { ty, message } => {
                write!(
                    f,
                    "the migration hook of `{ty}` failed at `{path}`: {message}"
                )
            }
            ExecuteErrorKind::Default(panicked) => panicked.at(path).fmt(f),
            ExecuteErrorKind::StalePlan => {
                f.write_str("the plan was made for other live values; plan again")
            }
            ExecuteErrorKind::KeysMerge { first, second } => write!(
                f,
                "the keys {first} and {second} of `{path}` would become the same key in the new \
                 version, and one entry would be lost; remove one of them first, keep the key \
                 type, or add `#[coo(migrate = ...)]` to the type holding `{path}` and merge \
                 them there"
            ),
            ExecuteErrorKind::InsertPanicked { coll, message } => write!(
                f,
                "inserting into the new `{coll}` at `{path}` panicked: {message}; make its key's \
                 `Hash`, `Eq` or `Ord` not panic"
            ),
            ExecuteErrorKind::ImplRemoved { trait_name, ty } => write!(
                f,
                "`{path}` is a `dyn {trait_name}` object of type `{ty}`, whose `#[coo_impl] impl \
                 {trait_name} for {ty}` the new version removed; keep the type and its impl, or \
                 convert the object to another type first (`convert {path} <Type>`)"
            ),
            ExecuteErrorKind::ConcretePanicked {
                trait_name,
                message,
            } => write!(
                f,
                "asking the `dyn {trait_name}` object at `{path}` for its type panicked: \
                 {message}; its impl's hidden method is written by `#[coo_impl]`, do not \
                 override it"
            ),
        }
    }
}

impl std::error::Error for ExecuteError {}

impl ExecuteError {
    /// An error about the value the walk is at; the walk adds the path around it.
    pub(super) fn here(kind: ExecuteErrorKind) -> Self {
        ExecuteError {
            path: ValuePath::default(),
            kind,
        }
    }

    /// The plan was made for other live values.
    pub(crate) fn stale_plan() -> Self {
        ExecuteError::here(ExecuteErrorKind::StalePlan)
    }

    /// Adds a path segment around the path while the error travels up the walk (paths are built
    /// only on failure). Until the error leaves the walk the path is kept innermost segment
    /// first, and [`ExecuteError::within_name`] or [`ExecuteError::completed`] puts it in order:
    /// inserting each segment at the front would cost the square of the depth, and a value can
    /// be a million levels deep.
    pub(super) fn inside(mut self, seg: Seg) -> Self {
        self.path.0.push(seg);
        self
    }

    pub(super) fn inside_name(self, name: &str) -> Self {
        self.inside(Seg::Name(name.to_owned()))
    }

    /// Puts the path built by [`ExecuteError::inside`] in order, outermost segment first.
    pub(super) fn completed(mut self) -> Self {
        self.path.0.reverse();
        self
    }

    /// Adds the outermost segment (the resource's name) as the error leaves the walk, and puts
    /// the path in order.
    pub(crate) fn within_name(self, name: &str) -> Self {
        self.inside_name(name).completed()
    }
}
