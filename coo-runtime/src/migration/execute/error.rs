//! Why a planned migration failed on a live value, and where the value is: [`ValuePath`]s built
//! from [`Seg`]ments while an error travels out of the walk.

use std::fmt;

use crate::descriptors::layout::Prim;

/// One step of the path to a value: `World.particles[3].mass`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Name(String),
    Index(usize),
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
            }
        }
        Ok(())
    }
}

/// Why a planned migration failed on a live value. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "`{path}` holds {value}, which is not exactly representable as `{to}` (was `{from}`); \
         change the value so it fits, or keep the field as `{from}`"
    )]
    CheckedCast {
        path: ValuePath,
        from: Prim,
        to: Prim,
        value: String,
    },
    #[error(
        "`{path}` shrinks from {old_len} to {new_len} elements, but element {index} does not hold the default; \
         clear it first, or keep the length at {old_len}"
    )]
    ArrayShrink {
        path: ValuePath,
        old_len: usize,
        new_len: usize,
        index: usize,
    },
    #[error(
        "`{path}` is `{ty}::{variant}`, a variant the new version removed; \
         keep the variant, change the value first, or add `#[coo(migrate = ...)]` to `{ty}`"
    )]
    VariantRemoved {
        path: ValuePath,
        ty: String,
        variant: String,
    },
    #[error("the migration hook of `{ty}` failed at `{path}`: {message}")]
    Hook {
        path: ValuePath,
        ty: String,
        message: String,
    },
    #[error(
        "the default of `{path}` panicked: {message}; make the `Default` impl or \
         `#[coo(default = ...)]` expression that makes it not panic, or give the field a \
         `#[coo(default = ...)]` that does not"
    )]
    Default { path: ValuePath, message: String },
    #[error("the plan was made for other live values; plan again")]
    StalePlan,
}

impl MigrateError {
    fn path_mut(&mut self) -> Option<&mut ValuePath> {
        match self {
            MigrateError::CheckedCast { path, .. }
            | MigrateError::ArrayShrink { path, .. }
            | MigrateError::VariantRemoved { path, .. }
            | MigrateError::Hook { path, .. }
            | MigrateError::Default { path, .. } => Some(path),
            MigrateError::StalePlan => None,
        }
    }

    /// The path of the offending value, if the error is about one.
    pub fn path(&self) -> Option<&ValuePath> {
        match self {
            MigrateError::CheckedCast { path, .. }
            | MigrateError::ArrayShrink { path, .. }
            | MigrateError::VariantRemoved { path, .. }
            | MigrateError::Hook { path, .. }
            | MigrateError::Default { path, .. } => Some(path),
            MigrateError::StalePlan => None,
        }
    }

    /// Adds a path segment around the path while the error travels up the walk (paths are built
    /// only on failure). Until the error leaves the walk the path is kept innermost segment
    /// first, and [`MigrateError::within_name`] or [`write_default`] puts it in order: inserting
    /// each segment at the front would cost the square of the depth, and a value can be a
    /// million levels deep.
    pub(super) fn inside(mut self, seg: Seg) -> Self {
        if let Some(path) = self.path_mut() {
            path.0.push(seg);
        }
        self
    }

    pub(super) fn inside_name(self, name: &str) -> Self {
        self.inside(Seg::Name(name.to_owned()))
    }

    /// Puts the path built by [`MigrateError::inside`] in order, outermost segment first.
    pub(super) fn completed(mut self) -> Self {
        if let Some(path) = self.path_mut() {
            path.0.reverse();
        }
        self
    }

    /// Adds the outermost segment (the resource's name) as the error leaves the walk, and puts
    /// the path in order.
    pub(crate) fn within_name(self, name: &str) -> Self {
        self.inside_name(name).completed()
    }
}

pub(super) fn err_default(message: String) -> MigrateError {
    MigrateError::Default {
        path: ValuePath::default(),
        message,
    }
}
