//! [`hot_fns!`](crate::hot_fns): the declaration of the plugin functions a program calls, which
//! expands to `Fns` (typed handles, or the linked functions with the `static` feature), its
//! methods, and its scopes of calls (see the [parent module](super)).

/// Declares the plugin functions a program calls, so that the same call sites call them through
/// typed handles while you develop and directly, statically linked, with your crate's `static`
/// feature: see [`hot_host::slots::release`](crate::slots::release).
///
/// ```ignore
/// hot_host::hot_fns! {
///     /// The plugin's functions this program calls.
///     pub struct Fns = typed_plugin {
///         fn add(a: u64, b: u64) -> u64;
///         /// `&mut Counter` is bound to the live resource: the method takes no argument.
///         fn bump(counter: &mut Counter);
///     }
/// }
/// ```
///
/// generates `struct Fns` (`Debug`, `Clone`) with `Fns::new(&coo_or_host)` and one method per
/// function: `fns.add(&mut coo, 2, 3)`, `fns.bump(&mut coo)`, returning
/// `Result<_, CallError>`; and `fns.calls(&mut coo)?`, a scope of calls that borrows the host
/// until it is dropped, with the same methods without the host argument (`calls.bump()`): see
/// [the module docs](crate::slots::release#scopes-of-calls).
///
/// `hot_fns!(@hot ...)` and `hot_fns!(@linked ...)` expand one mode only, whatever the
/// features: for a benchmark or a test that compares both in one binary.
#[macro_export]
macro_rules! hot_fns {
    // Both modes, chosen by the `static` feature of the crate that invokes the macro.
    ($(#[$attr:meta])* $vis:vis struct $name:ident = $krate:ident { $($fns:tt)* }) => {
        $crate::hot_fns!(@parse [[cfg(not(feature = "static"))] [cfg(feature = "static")]]
            [$(#[$attr])* $vis struct $name = $krate] [] $($fns)*);
    };
    (@hot $(#[$attr:meta])* $vis:vis struct $name:ident = $krate:ident { $($fns:tt)* }) => {
        $crate::hot_fns!(@parse [[cfg(all())] [cfg(any())]]
            [$(#[$attr])* $vis struct $name = $krate] [] $($fns)*);
    };
    (@linked $(#[$attr:meta])* $vis:vis struct $name:ident = $krate:ident { $($fns:tt)* }) => {
        $crate::hot_fns!(@parse [[cfg(any())] [cfg(all())]]
            [$(#[$attr])* $vis struct $name = $krate] [] $($fns)*);
    };

    // One function at a time: its parameters are sorted into arguments and resources.
    (@parse $modes:tt $head:tt [$($done:tt)*]) => {
        $crate::hot_fns!(@emit $modes $head $($done)*);
    };
    (@parse $modes:tt $head:tt $done:tt
        $(#[$fattr:meta])* fn $f:ident ( $($params:tt)* ) -> $ret:ty ; $($rest:tt)*) => {
        $crate::hot_fns!(@params $modes $head $done [$(#[$fattr])* $f $ret] [] [] []
            { $($params)* } $($rest)*);
    };
    (@parse $modes:tt $head:tt $done:tt
        $(#[$fattr:meta])* fn $f:ident ( $($params:tt)* ) ; $($rest:tt)*) => {
        $crate::hot_fns!(@params $modes $head $done [$(#[$fattr])* $f ()] [] [] []
            { $($params)* } $($rest)*);
    };

    (@params $modes:tt $head:tt [$($done:tt)*] $fun:tt $args:tt $res:tt $all:tt {} $($rest:tt)*) => {
        $crate::hot_fns!(@parse $modes $head [$($done)* { $fun $args $res $all }] $($rest)*);
    };
    (@params $modes:tt $head:tt $done:tt $fun:tt $args:tt [$($res:tt)*] [$($all:tt)*]
        { $p:ident : &mut $($rp:ident)::+ $(, $($more:tt)*)? } $($rest:tt)*) => {
        $crate::hot_fns!(@params $modes $head $done $fun $args [$($res)* ($p Mut $($rp)::+)]
            [$($all)* $p] { $($($more)*)? } $($rest)*);
    };
    (@params $modes:tt $head:tt $done:tt $fun:tt $args:tt [$($res:tt)*] [$($all:tt)*]
        { $p:ident : & $($rp:ident)::+ $(, $($more:tt)*)? } $($rest:tt)*) => {
        $crate::hot_fns!(@params $modes $head $done $fun $args [$($res)* ($p Ref $($rp)::+)]
            [$($all)* $p] { $($($more)*)? } $($rest)*);
    };
    (@params $modes:tt $head:tt $done:tt $fun:tt [$($args:tt)*] $res:tt [$($all:tt)*]
        { $p:ident : $t:ty $(, $($more:tt)*)? } $($rest:tt)*) => {
        $crate::hot_fns!(@params $modes $head $done $fun [$($args)* ($p : $t)] $res
            [$($all)* $p] { $($($more)*)? } $($rest)*);
    };

    (@emit [[$hot:meta] [$linked:meta]]
        [$(#[$attr:meta])* $vis:vis struct $name:ident = $krate:ident]
        $({
            [$(#[$fattr:meta])* $f:ident $ret:ty]
            [$(($a:ident : $aty:ty))*]
            [$(($r:ident $rk:ident $($rp:ident)::+))*]
            [$($all:ident)*]
        })*
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone)]
        $vis struct $name {
            $(
                #[$hot]
                $f: $crate::HotFn<fn($($aty),*) -> $ret>,
                #[$linked]
                $f: $crate::slots::release::LinkedFn<(
                    $($crate::slots::release::$rk<$krate::$($rp)::+>,)*
                )>,
            )*
        }

        #[$hot]
        impl $name {
            /// Resolves every function in the plugin `host` loaded, checking each against its
            /// signature.
            #[allow(dead_code)]
            $vis fn new(
                host: &impl ::core::convert::AsRef<$crate::Host>,
            ) -> ::core::result::Result<Self, $crate::CallError> {
                let host = host.as_ref();
                ::core::result::Result::Ok($name {
                    $($f: $crate::slots::release::resolve_hot(host, ::core::stringify!($f))?,)*
                })
            }

            $(
                $(#[$fattr])*
                #[inline]
                #[allow(dead_code)]
                $vis fn $f(
                    &self,
                    host: &mut impl ::core::convert::AsMut<$crate::Host>,
                    $($a: $aty),*
                ) -> ::core::result::Result<$ret, $crate::CallError> {
                    self.$f.call(host.as_mut(), ($($a,)*))
                }
            )*
        }

        #[$linked]
        impl $name {
            /// The functions of the plugin linked into this binary, their resources to be
            /// bound in `host`'s state.
            #[allow(dead_code)]
            $vis fn new(
                host: &impl ::core::convert::AsRef<$crate::Host>,
            ) -> ::core::result::Result<Self, $crate::CallError> {
                let host = host.as_ref();
                ::core::result::Result::Ok($name {
                    $($f: $crate::slots::release::LinkedFn::new(host, ::core::stringify!($f))?,)*
                })
            }

            $(
                $(#[$fattr])*
                #[inline]
                #[allow(dead_code)]
                $vis fn $f(
                    &self,
                    host: &mut impl ::core::convert::AsMut<$crate::Host>,
                    $($a: $aty),*
                ) -> ::core::result::Result<$ret, $crate::CallError> {
                    let ($($r,)*) = self.$f.bind(host.as_mut())?;
                    ::core::result::Result::Ok($krate::$f($($all),*))
                }
            )*
        }

        // The scope of calls: a type of its own per invocation, named only here.
        const _: () = {
            /// Calls of the functions while one host stays borrowed (from `calls`).
            #[allow(dead_code)]
            $vis struct Calls<'h> {
                #[$hot]
                __coo_host: &'h mut $crate::Host,
                #[$hot]
                __coo_fns: &'h $name,
                $(
                    /// Whether the function's handle was readied for this scope.
                    #[$hot]
                    $f: bool,
                )*
                $(
                    #[$linked]
                    $f: $crate::slots::release::Bound,
                )*
                #[$linked]
                __coo_host: ::core::marker::PhantomData<&'h mut $crate::Host>,
            }

            #[$hot]
            impl $name {
                /// A scope of calls that borrows `host` until it is dropped: its methods are
                /// this type's, without the host argument.
                #[allow(dead_code)]
                $vis fn calls<'h>(
                    &'h self,
                    host: &'h mut impl ::core::convert::AsMut<$crate::Host>,
                ) -> ::core::result::Result<Calls<'h>, $crate::CallError> {
                    let host = host.as_mut();
                    ::core::result::Result::Ok(Calls {
                        $($f: self.$f.ready_for_scope(host),)*
                        __coo_host: host,
                        __coo_fns: self,
                    })
                }
            }

            #[$hot]
            impl<'h> Calls<'h> {
                $(
                    $(#[$fattr])*
                    #[inline]
                    #[allow(dead_code)]
                    $vis fn $f(
                        &mut self,
                        $($a: $aty),*
                    ) -> ::core::result::Result<$ret, $crate::CallError> {
                        if self.$f {
                            // SAFETY: `calls` readied the handle for the host this scope has
                            // borrowed mutably since; the scope's calls are typed calls, which
                            // change neither the host's state nor its code.
                            unsafe { self.__coo_fns.$f.call_in_scope(($($a,)*)) }
                        } else {
                            self.__coo_fns.$f.call(self.__coo_host, ($($a,)*))
                        }
                    }
                )*
            }

            #[$linked]
            impl $name {
                /// A scope of calls that borrows `host` until it is dropped, with every
                /// function's resources bound once, here: its methods are this type's, without
                /// the host argument, and each is the direct call.
                #[allow(dead_code)]
                $vis fn calls<'h>(
                    &'h self,
                    host: &'h mut impl ::core::convert::AsMut<$crate::Host>,
                ) -> ::core::result::Result<Calls<'h>, $crate::CallError> {
                    let host = host.as_mut();
                    ::core::result::Result::Ok(Calls {
                        $($f: self.$f.bind_scope(host)?,)*
                        __coo_host: ::core::marker::PhantomData,
                    })
                }
            }

            #[$linked]
            impl<'h> Calls<'h> {
                $(
                    $(#[$fattr])*
                    #[inline]
                    #[allow(dead_code)]
                    $vis fn $f(
                        &mut self,
                        $($a: $aty),*
                    ) -> ::core::result::Result<$ret, $crate::CallError> {
                        // SAFETY: `calls` bound the addresses in the host's state as it was
                        // then (`bind_scope`: the live resources of these types, checked), and
                        // the scope borrows that host mutably since: nothing else used or
                        // changed its state, and the calls of a scope cannot (a linked function
                        // gets only its resources and values, and returns a primitive), so no
                        // resource moved. The references live for this call only, each
                        // method takes `&mut self` so no two calls overlap, and no mutable one
                        // aliases another parameter (checked by `LinkedFn::new`).
                        let ($($r,)*) = unsafe {
                            <($($crate::slots::release::$rk<$krate::$($rp)::+>,)*)
                                as $crate::slots::release::LinkedResources>::make_bound(&self.$f)
                        };
                        ::core::result::Result::Ok($krate::$f($($all),*))
                    }
                )*
            }
        };
    };
}
