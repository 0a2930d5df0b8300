use std::time::Duration;

use coo_runtime::CooType;

struct NoDebug(u8);

#[derive(CooType)]
#[coo(opaque)]
struct OnTheType {
    #[coo(serde)]
    alone: Duration,
    #[coo(opaque = true)]
    valued: Duration,
    #[coo(opaque, opaque)]
    twice: Duration,
}

#[derive(CooType)]
struct Generic<T> {
    #[coo(opaque)]
    wrapped: Option<T>,
    #[coo(opaque)]
    borrowed: &'static str,
}

#[derive(CooType)]
struct NotDebug {
    #[coo(opaque)]
    inner: NoDebug,
}

fn main() {}
