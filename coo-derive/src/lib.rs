//! Procedural macros of Coo. Use them through `coo_runtime`.
use proc_macro::TokenStream;

#[proc_macro_derive(CooType, attributes(coo))]
pub fn derive_coo_type(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
