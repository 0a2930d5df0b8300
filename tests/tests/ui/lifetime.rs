use coo_runtime::CooType;

#[derive(CooType)]
struct Label<'a> {
    text: &'a str,
}

fn main() {}
