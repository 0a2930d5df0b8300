// The derive in unusual places: a function body, a `macro_rules!` macro, raw identifiers, field
// names that collide with names the expansion uses, and a crate with its own `core` and
// `inventory` modules. Only `coo_runtime::CooType` is imported.
#![no_implicit_prelude]

mod core {}
mod inventory {}
mod std {}

use ::coo_runtime::CooType;

#[derive(CooType)]
struct Glue {
    r#type: u32,
    dst: ::std::string::String,
    __coo_value: u8,
    __coo_dst: u8,
}

#[derive(CooType)]
enum Clash {
    Out {
        __coo_out: u8,
        __coo_value: u8,
        __coo_f0: u8,
    },
    r#Match(u8),
}

macro_rules! described {
    ($name:ident { $($field:ident: $ty:ty),* }) => {
        #[derive(CooType)]
        struct $name {
            $($field: $ty),*
        }
    };
}

described!(FromMacro { a: u32, b: ::std::vec::Vec<u8> });

fn main() {
    #[derive(CooType)]
    struct Local {
        value: u32,
    }
    let _ = Local { value: 1 }.value;
}
