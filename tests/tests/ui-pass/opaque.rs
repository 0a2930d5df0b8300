//! `#[coo(opaque)]` fields of foreign types, in structs, enum variants and generic types.
use std::time::Duration;

use coo_runtime::{CooType, ShapeKind};

#[derive(Debug, Default)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(CooType)]
struct Ship {
    #[coo(opaque)]
    pos: Vec3,
    #[coo(opaque, serde, default = Duration::from_secs(1))]
    cooldown: Duration,
}

#[derive(CooType)]
enum Order {
    Wait(#[coo(opaque)] Duration),
    Go {
        #[coo(opaque)]
        to: Vec3,
    },
}

#[derive(CooType)]
struct Tagged<T> {
    value: T,
    #[coo(opaque)]
    since: Duration,
}

fn main() {
    let fields = Ship::DESC.struct_fields().unwrap();
    assert!(matches!(fields[0].shape().kind(), ShapeKind::Opaque(_)));
    assert_eq!(fields[1].shape().type_name(), "core::time::Duration");
    let _ = Order::DESC;
    assert_eq!(<Tagged<u8> as CooType>::DESC.name(), "Tagged<u8>");
}
