//! Host objects: the identity of a host type a hot function takes as `#[host] x: &T` or
//! `&mut T` ([`HostType`]), the types that may be one ([`HostObject`]) and
//! [`host_trait!`](crate::host_trait) for trait objects.

/// The identity of a host object's type as the build that names it sees it: its name
/// (`core::any::type_name`) and, for a sized type, its size and alignment. Host and plugin each
/// compute their own; a typed handle is resolved only when they are equal, and a reload whose
/// plugin sees a type the host knows with another layout is refused. A trait object's identity
/// is the trait's name (`dyn shared::Shape`).
///
/// What it cannot see: a change that keeps the name, the size and the alignment (two fields of
/// one size swapped, a trait's methods changed). The crate that defines host object types is
/// compiled into the host binary once: edit it only with the host stopped.
///
/// The name is text of the build that computed it: `HostType<'static>` in that build, and
/// bounded by a borrow of a [`HostTypeLink`] wherever another build's descriptors hand it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostType<'a> {
    name: &'a str,
    /// `(size, align)`; `None` for a trait object.
    layout: Option<(usize, usize)>,
}

impl HostType<'static> {
    /// The identity of the sized type `T`.
    pub fn of<T>() -> HostType<'static> {
        HostType {
            name: core::any::type_name::<T>(),
            layout: Some((core::mem::size_of::<T>(), core::mem::align_of::<T>())),
        }
    }

    /// The identity of the trait object type `T` (`dyn Trait`): its name.
    pub fn object<T: ?Sized>() -> HostType<'static> {
        HostType {
            name: core::any::type_name::<T>(),
            layout: None,
        }
    }
}

impl<'a> HostType<'a> {
    /// The type's name: `shared::Canvas`, `alloc::vec::Vec<alloc::string::String>`,
    /// `dyn shared::Shape`.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// `(size, align)` of a sized type; `None` for a trait object.
    pub fn layout(&self) -> Option<(usize, usize)> {
        self.layout
    }
}

impl core::fmt::Display for HostType<'_> {
    /// `` `shared::Canvas` (24 bytes, align 8) ``, `` `dyn shared::Shape` (a trait object) ``.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.layout {
            Some((size, align)) => write!(f, "`{}` ({size} bytes, align {align})", self.name),
            None => write!(f, "`{}` (a trait object)", self.name),
        }
    }
}

/// How a hot function's descriptor names a host object type: a function of the build that
/// defined the hot function, called through [`HostTypeLink::get`], which borrows the link, so
/// the name it returns cannot outlive the descriptor (and the image it lives in).
pub struct HostTypeLink(fn() -> HostType<'static>);

impl HostTypeLink {
    /// For generated code (`coo_runtime::__private::host_type_link`).
    #[doc(hidden)]
    pub const fn new(ty: fn() -> HostType<'static>) -> HostTypeLink {
        HostTypeLink(ty)
    }

    /// The type's identity, its name bounded by the borrow of this link.
    pub fn get(&self) -> HostType<'_> {
        (self.0)()
    }
}

impl core::fmt::Debug for HostTypeLink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.get(), f)
    }
}

/// The types a hot function can take as a host object (`#[host] x: &T`, `#[host] x: &mut T`):
/// every sized type, and the trait objects named with [`host_trait!`](crate::host_trait) in the
/// crate that defines the trait (a few of `std`'s are named here).
///
/// Such a type must be defined in a crate that the host and the plugin both depend on (or in
/// `std`): the plugin's copy of it must be the host's. See [`HostType`] for what is checked.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a host object type",
    label = "a hot function cannot take this as a host object",
    note = "for a trait object, write `coo_runtime::host_trait!({Self});` in the crate that defines the trait"
)]
pub trait HostObject: 'static {
    /// The type's identity in this build.
    fn host_type() -> HostType<'static>;
}

impl<T: 'static> HostObject for T {
    fn host_type() -> HostType<'static> {
        HostType::of::<T>()
    }
}

/// Makes a trait object type a host object type, so that hot functions can take it as
/// `#[host] x: &dyn Trait` or `&mut dyn Trait`, and typed handles pass it:
/// `coo_runtime::host_trait!(dyn Shape);`, in the crate that defines `Shape`.
#[macro_export]
macro_rules! host_trait {
    ($($object:tt)+) => {
        impl $crate::plugin::HostObject for $($object)+ {
            fn host_type() -> $crate::plugin::HostType<'static> {
                $crate::plugin::HostType::object::<$($object)+>()
            }
        }
    };
}

host_trait!(dyn core::fmt::Write);
host_trait!(dyn std::io::Write);
host_trait!(dyn core::any::Any);
