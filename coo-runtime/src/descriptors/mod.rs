//! What a version's types are: the layout descriptors that `#[derive(CooType)]` emits
//! ([`layout`]), the set of them one build holds ([`registry`]), and owned copies that outlive
//! the code that defined them ([`schema`]).

pub mod layout;
pub mod registry;
pub mod schema;
