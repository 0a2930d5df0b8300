use coo_runtime::CooType;

#[derive(CooType)]
enum Never {}

fn main() {}
