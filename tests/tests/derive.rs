//! What `#[derive(CooType)]` generates, checked at run time: names, offsets, sizes, shapes,
//! styles, earlier names, default writers, the hook wrapper, enum glue and registration.
#![allow(missing_debug_implementations, dead_code)]

use core::mem::{ManuallyDrop, MaybeUninit, align_of, offset_of, size_of};

use coo_runtime::__private::{EnumDesc, FieldsStyle, StructDesc};
use coo_runtime::descriptors::layout::{EnumRepr, shape_text};
use coo_runtime::plugin::ForeignString;
use coo_runtime::{
    Catalog, CooField, CooType, FieldDesc, Handle, Pool, Prim, TypeDesc, TypeKind, ValueView,
};

#[derive(CooType, Debug, PartialEq)]
pub struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(CooType)]
pub struct Enemy {
    hp: u32,
}

#[derive(CooType)]
#[coo(rename_from = "Dot", rename_from = "Mote", migrate = keep_old_mass)]
pub struct Particle {
    pos: Vec2,
    #[coo(default = 1.0)]
    mass: f32,
    #[coo(rename_from = "label", rename_from = "title")]
    name: String,
    kids: Vec<Particle>,
}

/// Copies `mass` from the old value, or fails when it is negative (to test the error path).
fn keep_old_mass(old: &ValueView<'_>, new: &mut Particle) -> Result<(), String> {
    let mass = old.get::<f32>("mass").map_err(|e| e.to_string())?;
    if mass < 0.0 {
        return Err(format!("negative mass {mass}"));
    }
    new.mass = mass;
    Ok(())
}

#[derive(CooType, Default, Debug, PartialEq)]
pub enum Mode {
    #[default]
    Idle,
    #[coo(rename_from = "Walking")]
    Moving(f32, f32),
    Frozen {
        #[coo(rename_from = "why")]
        reason: String,
    },
}

#[derive(CooType)]
#[coo(name = "game::Zoo")]
pub struct Zoo {
    crowd: Vec<Option<Box<Enemy>>>,
    targets: [Handle<Enemy>; 3],
    pool: Pool<Enemy>,
    grid: [[u8; 2]; 3],
    wide: u128,
    r#type: i128,
    id: usize,
    flag: bool,
    letter: char,
    ratio: f64,
    mode: Mode,
}

#[derive(CooType)]
pub struct Pair(u8, #[coo(default = String::from("second"))] String);

#[derive(CooType)]
pub struct Marker;

#[derive(CooType)]
#[coo(migrate = panicking_hook)]
pub struct Fragile {
    #[coo(default = panic!("no default for `value`"))]
    value: u32,
}

fn panicking_hook(_old: &ValueView<'_>, _new: &mut Fragile) -> Result<(), String> {
    panic!("hook exploded")
}

fn struct_desc(desc: &TypeDesc) -> &StructDesc {
    match desc.kind() {
        TypeKind::Struct(s) => s,
        TypeKind::Enum(_) => panic!("`{}` is an enum", desc.name()),
    }
}

fn enum_desc(desc: &TypeDesc) -> &EnumDesc {
    match desc.kind() {
        TypeKind::Enum(e) => e,
        TypeKind::Struct(_) => panic!("`{}` is a struct", desc.name()),
    }
}

fn names(fields: &[FieldDesc]) -> Vec<&str> {
    fields.iter().map(|f| f.name()).collect()
}

fn shapes(fields: &[FieldDesc]) -> Vec<String> {
    fields.iter().map(|f| shape_text(f.shape())).collect()
}

#[test]
fn struct_descriptor_matches_the_type() {
    let desc = Particle::DESC;
    assert_eq!(desc.name(), "Particle");
    assert_eq!(desc.rust_name(), concat!(module_path!(), "::Particle"));
    assert_eq!(desc.rename_from(), ["Dot", "Mote"]);
    assert_eq!(desc.size(), size_of::<Particle>());
    assert_eq!(desc.align(), align_of::<Particle>());
    assert!(desc.needs_drop());

    let s = struct_desc(desc);
    assert_eq!(s.style(), FieldsStyle::Named);
    assert_eq!(names(s.fields()), ["pos", "mass", "name", "kids"]);
    let offsets: Vec<usize> = s.fields().iter().map(|f| f.offset()).collect();
    assert_eq!(
        offsets,
        [
            offset_of!(Particle, pos),
            offset_of!(Particle, mass),
            offset_of!(Particle, name),
            offset_of!(Particle, kids),
        ]
    );
    assert_eq!(
        shapes(s.fields()),
        ["Vec2", "f32", "String", "Vec<Particle>"]
    );
    assert_eq!(s.fields()[2].rename_from(), ["label", "title"]);
    assert!(
        s.fields()
            .iter()
            .all(|f| f.name() == "name" || f.rename_from().is_empty())
    );
    assert!(s.fields()[1].has_default());
    assert!(
        s.fields()
            .iter()
            .all(|f| f.name() == "mass" || !f.has_default())
    );

    let vec2 = Vec2::DESC;
    assert!(!vec2.needs_drop());
    assert_eq!(struct_desc(vec2).fields()[1].offset(), offset_of!(Vec2, y));
}

#[test]
fn field_shapes_cover_every_field_type() {
    let desc = Zoo::DESC;
    assert_eq!(desc.name(), "game::Zoo");
    assert_eq!(desc.rust_name(), concat!(module_path!(), "::Zoo"));
    let s = struct_desc(desc);
    assert_eq!(
        names(s.fields()),
        [
            "crowd", "targets", "pool", "grid", "wide", "type", "id", "flag", "letter", "ratio",
            "mode"
        ]
    );
    assert_eq!(
        shapes(s.fields()),
        [
            "Vec<Option<Box<Enemy>>>",
            "[Handle<Enemy>; 3]",
            "Pool<Enemy>",
            "[[u8; 2]; 3]",
            "u128",
            "i128",
            "usize",
            "bool",
            "char",
            "f64",
            "Mode",
        ]
    );
    assert_eq!(s.fields()[5].offset(), offset_of!(Zoo, r#type));
    assert_eq!(s.fields()[10].offset(), offset_of!(Zoo, mode));
    assert_eq!(desc.size(), size_of::<Zoo>());
}

#[test]
fn tuple_and_unit_structs() {
    let pair = struct_desc(Pair::DESC);
    assert_eq!(pair.style(), FieldsStyle::Tuple);
    assert_eq!(names(pair.fields()), ["0", "1"]);
    assert_eq!(pair.fields()[0].offset(), offset_of!(Pair, 0));
    assert_eq!(pair.fields()[1].offset(), offset_of!(Pair, 1));
    assert_eq!(shapes(pair.fields()), ["u8", "String"]);

    let marker = struct_desc(Marker::DESC);
    assert_eq!(marker.style(), FieldsStyle::Unit);
    assert!(marker.fields().is_empty());
    assert_eq!(Marker::DESC.size(), 0);
}

#[test]
fn shape_of_a_derived_type_points_to_its_descriptor() {
    let shape = <Particle as CooField>::SHAPE;
    assert_eq!(shape.type_name(), "Particle");
    assert_eq!(shape.size(), size_of::<Particle>());
    assert!(core::ptr::eq(shape.named().unwrap(), Particle::DESC));
}

#[test]
fn field_default_writes_its_value() {
    let mass = &struct_desc(Particle::DESC).fields()[1];
    let mut slot = MaybeUninit::<f32>::uninit();
    // SAFETY: `slot` is valid for writes of the field's type, `f32`.
    let result = unsafe { mass.write_default(slot.as_mut_ptr().cast()).unwrap() }
        .map_err(ForeignString::into_string);
    assert_eq!(result, Ok(()));
    // SAFETY: the writer returned `Ok`, so it wrote an `f32`.
    assert_eq!(unsafe { slot.assume_init() }, 1.0);

    let second = &struct_desc(Pair::DESC).fields()[1];
    let mut slot = MaybeUninit::<String>::uninit();
    // SAFETY: `slot` is valid for writes of a `String`.
    let result = unsafe { second.write_default(slot.as_mut_ptr().cast()).unwrap() }
        .map_err(ForeignString::into_string);
    assert_eq!(result, Ok(()));
    // SAFETY: the writer returned `Ok`, so it wrote a `String`.
    assert_eq!(unsafe { slot.assume_init() }, "second");
}

#[test]
fn a_panicking_field_default_is_an_error() {
    let value = &struct_desc(Fragile::DESC).fields()[0];
    let mut slot = MaybeUninit::<u32>::uninit();
    // SAFETY: `slot` is valid for writes of a `u32`.
    let result = unsafe { value.write_default(slot.as_mut_ptr().cast()).unwrap() }
        .map_err(ForeignString::into_string);
    assert_eq!(result, Err("no default for `value`".to_owned()));
}

#[test]
fn type_default_exists_exactly_for_default_types() {
    assert!(!Vec2::DESC.glue().has_default());
    assert!(!Particle::DESC.glue().has_default());
    assert!(Mode::DESC.glue().has_default());
    let mut slot = MaybeUninit::<Mode>::uninit();
    // SAFETY: `slot` is valid for writes of a `Mode`.
    let written = unsafe { Mode::DESC.glue().write_default(slot.as_mut_ptr().cast()) }
        .expect("`Mode` implements `Default`");
    assert_eq!(written.map_err(ForeignString::into_string), Ok(()));
    // SAFETY: the writer returned `Ok`, so it wrote a `Mode`.
    assert_eq!(unsafe { slot.assume_init() }, Mode::Idle);
}

fn particle(mass: f32) -> Particle {
    Particle {
        pos: Vec2 { x: 1.0, y: 2.0 },
        mass,
        name: "p".to_owned(),
        kids: Vec::new(),
    }
}

/// Runs the type's hook on `old` and `new`, as migration does.
fn run_hook<T: CooType>(old: &T, new: &mut T) -> Result<(), String> {
    // SAFETY: `old` is a valid `T`, described by `T::DESC`, borrowed for the view's lifetime.
    let view = unsafe { ValueView::new(T::DESC, (old as *const T).cast()) };
    // SAFETY: `new` is a valid, exclusively borrowed `T`.
    unsafe { T::DESC.glue().run_hook(&view, (new as *mut T).cast()) }
        .expect("the type has a hook")
        .map_err(ForeignString::into_string)
}

#[test]
fn hook_wrapper_calls_the_user_function() {
    assert!(!Vec2::DESC.glue().has_hook());
    let old = particle(7.5);
    let mut new = particle(1.0);
    assert_eq!(run_hook(&old, &mut new), Ok(()));
    assert_eq!(new.mass, 7.5);

    let old = particle(-1.0);
    assert_eq!(run_hook(&old, &mut new), Err("negative mass -1".to_owned()));
}

#[test]
fn a_panicking_hook_is_an_error() {
    let old = Fragile { value: 1 };
    let mut new = Fragile { value: 2 };
    assert_eq!(
        run_hook(&old, &mut new),
        Err("the hook panicked: hook exploded".to_owned())
    );
}

#[test]
fn enum_descriptor_lists_variants() {
    let desc = Mode::DESC;
    assert_eq!(desc.size(), size_of::<Mode>());
    assert_eq!(desc.align(), align_of::<Mode>());
    let e = enum_desc(desc);
    let variants: Vec<_> = e.variants().iter().map(|v| (v.name(), v.style())).collect();
    assert_eq!(
        variants,
        [
            ("Idle", FieldsStyle::Unit),
            ("Moving", FieldsStyle::Tuple),
            ("Frozen", FieldsStyle::Named),
        ]
    );
    assert_eq!(e.variants()[1].rename_from(), ["Walking"]);
    assert_eq!(names(e.variants()[1].fields()), ["0", "1"]);
    assert_eq!(shapes(e.variants()[1].fields()), ["f32", "f32"]);
    let reason = &e.variants()[2].fields()[0];
    assert_eq!(reason.name(), "reason");
    assert_eq!(reason.rename_from(), ["why"]);
    assert_eq!(reason.offset(), FieldDesc::NO_OFFSET);
    assert!(!reason.has_default());
}

const OFFSET: i16 = 50;

/// `repr`s combined from two attributes, and explicit discriminants of an enum with fields:
/// negative, implicit after an explicit one, and a constant expression.
#[derive(CooType)]
#[repr(C, i16)]
#[repr(align(8))]
pub enum Signal {
    Low = -2,
    Zero,
    High(u8) = OFFSET * 2,
    Higher { x: u8 },
}

#[derive(CooType, Clone, Copy)]
#[repr(u128)]
pub enum Huge {
    Big = u128::MAX - 1,
    Bigger,
}

#[derive(CooType)]
#[repr(transparent)]
pub enum Wrapper {
    Only(u32),
}

#[derive(CooType, Clone, Copy)]
pub enum Sparse {
    A = 7,
    B,
    C = 1,
}

fn discriminants(desc: &TypeDesc) -> Vec<i128> {
    enum_desc(desc)
        .variants()
        .iter()
        .map(|v| v.discriminant())
        .collect()
}

#[test]
fn enum_descriptor_records_repr_and_discriminants() {
    assert_eq!(enum_desc(Mode::DESC).repr(), EnumRepr::RUST);
    assert_eq!(discriminants(Mode::DESC), [0, 1, 2]);

    assert_eq!(
        enum_desc(Signal::DESC).repr(),
        EnumRepr {
            c: true,
            transparent: false,
            int: Some(Prim::I16),
            align: Some(8),
        }
    );
    assert_eq!(discriminants(Signal::DESC), [-2, -1, 100, 101]);
    // `repr(C, i16)` puts the `i16` tag first: the recorded value is the one in memory.
    let higher = Signal::Higher { x: 1 };
    // SAFETY: a `repr(C, i16)` enum is a `repr(C)` struct of an `i16` tag and a union of the
    // variants' fields (RFC 2195), so its first two bytes are the tag, and `higher` is aligned
    // to 8.
    let tag = unsafe { *(&raw const higher).cast::<i16>() };
    assert_eq!(tag, 101);

    assert_eq!(
        enum_desc(Huge::DESC).repr(),
        EnumRepr {
            int: Some(Prim::U128),
            ..EnumRepr::RUST
        }
    );
    // Above `i128::MAX`: held wrapped, bit for bit.
    assert_eq!(discriminants(Huge::DESC), [-2, -1]);
    assert_eq!(Huge::Bigger as u128, u128::MAX);

    assert_eq!(
        enum_desc(Wrapper::DESC).repr(),
        EnumRepr {
            transparent: true,
            ..EnumRepr::RUST
        }
    );
    assert_eq!(discriminants(Wrapper::DESC), [0]);

    assert_eq!(enum_desc(Sparse::DESC).repr(), EnumRepr::RUST);
    assert_eq!(discriminants(Sparse::DESC), [7, 8, 1]);
    assert_eq!(Sparse::B as i128, 8);

    assert_eq!(
        enum_desc(Signal::DESC).repr().to_string(),
        "#[repr(C, i16, align(8))]"
    );
    assert_eq!(EnumRepr::RUST.to_string(), "#[repr(Rust)]");
}

/// Reads `value` through the enum glue: its variant index and its fields' addresses.
fn read(value: &Mode) -> (usize, Vec<*const u8>) {
    let mut fields = vec![core::ptr::null(); 2];
    // SAFETY: `value` is a valid `Mode`, and `fields` has room for its largest variant.
    let index =
        unsafe { enum_desc(Mode::DESC).read((value as *const Mode).cast(), fields.as_mut_ptr()) };
    (index, fields)
}

#[test]
fn enum_read_finds_variant_and_fields() {
    assert_eq!(read(&Mode::Idle).0, 0);

    let moving = Mode::Moving(1.5, -2.5);
    let (index, fields) = read(&moving);
    assert_eq!(index, 1);
    let Mode::Moving(a, b) = &moving else {
        unreachable!()
    };
    assert_eq!(
        fields,
        [(a as *const f32).cast(), (b as *const f32).cast::<u8>()]
    );

    let frozen = Mode::Frozen {
        reason: "ice".to_owned(),
    };
    let (index, fields) = read(&frozen);
    assert_eq!(index, 2);
    // SAFETY: the glue wrote the address of the variant's `String` field.
    assert_eq!(unsafe { &*fields[0].cast::<String>() }, "ice");
}

#[test]
fn enum_write_moves_fields_in() {
    let e = enum_desc(Mode::DESC);

    let mut reason = ManuallyDrop::new(String::from("ice"));
    let fields = [(&mut *reason as *mut String).cast::<u8>()];
    let mut slot = MaybeUninit::<Mode>::uninit();
    // SAFETY: `slot` is valid for writes of a `Mode`; variant 2 (`Frozen`) has one `String`
    // field, moved out of `reason`, which is never dropped.
    unsafe { e.write(slot.as_mut_ptr().cast(), 2, fields.as_ptr()) };
    // SAFETY: `write` initialized the slot.
    let frozen = unsafe { slot.assume_init() };
    assert_eq!(
        frozen,
        Mode::Frozen {
            reason: "ice".to_owned()
        }
    );

    // Round trip: read a value's fields and write them into a new value of the same variant.
    let moving = ManuallyDrop::new(Mode::Moving(3.0, 4.0));
    let (index, fields) = read(&moving);
    let fields: Vec<*mut u8> = fields.into_iter().map(|f| f.cast_mut()).collect();
    let mut slot = MaybeUninit::<Mode>::uninit();
    // SAFETY: the fields come from `moving`, a valid `Moving` that is never dropped.
    unsafe { e.write(slot.as_mut_ptr().cast(), index, fields.as_ptr()) };
    // SAFETY: `write` initialized the slot.
    assert_eq!(unsafe { slot.assume_init() }, Mode::Moving(3.0, 4.0));

    let mut slot = MaybeUninit::<Mode>::uninit();
    // SAFETY: `Idle` has no fields.
    unsafe { e.write(slot.as_mut_ptr().cast(), 0, core::ptr::null()) };
    // SAFETY: `write` initialized the slot.
    assert_eq!(unsafe { slot.assume_init() }, Mode::Idle);
}

std::thread_local! {
    /// The ids of the `Dropped` values dropped on this test thread, in order.
    static DROPPED: core::cell::RefCell<Vec<u32>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Records its id when dropped.
#[derive(CooType)]
pub struct Dropped {
    id: u32,
}

impl Drop for Dropped {
    fn drop(&mut self) {
        DROPPED.with(|d| d.borrow_mut().push(self.id));
    }
}

/// `Dropped` values in every kind of container, and a nested value of its own type.
#[derive(CooType)]
pub struct Nest {
    first: Dropped,
    boxed: Box<Dropped>,
    list: Vec<Dropped>,
    maybe: Option<Dropped>,
    none: Option<Dropped>,
    pair: [Dropped; 2],
    kids: Vec<Nest>,
}

fn nest(ids: [u32; 6], kids: Vec<Nest>) -> Nest {
    let d = |id| Dropped { id };
    Nest {
        first: d(ids[0]),
        boxed: Box::new(d(ids[1])),
        list: vec![d(ids[2])],
        maybe: Some(d(ids[3])),
        none: None,
        pair: [d(ids[4]), d(ids[5])],
        kids,
    }
}

#[test]
fn drop_glue_drops_the_value() {
    let kid = nest([7, 8, 9, 10, 11, 12], Vec::new());
    let mut value = ManuallyDrop::new(nest([1, 2, 3, 4, 5, 6], vec![kid]));
    DROPPED.with(|d| d.borrow_mut().clear());
    // SAFETY: `value` is a valid `Nest`, never used or dropped again (`ManuallyDrop`).
    unsafe { Nest::DESC.glue().drop((&mut *value as *mut Nest).cast()) };
    let mut dropped = DROPPED.with(|d| d.take());
    dropped.sort_unstable();
    assert_eq!(dropped, (1..=12).collect::<Vec<u32>>(), "each value once");
}

#[test]
fn linked_catalog_finds_every_derived_type() {
    let catalog = Catalog::linked().expect("stable names are unique");
    for name in [
        "Vec2",
        "Enemy",
        "Particle",
        "Mode",
        "game::Zoo",
        "Pair",
        "Marker",
        "Fragile",
    ] {
        let desc = catalog
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` is registered"));
        assert_eq!(desc.name(), name);
    }
    assert!(catalog.get("Zoo").is_none());
    assert_eq!(
        catalog.find_successor("Mote").map(|d| d.name()),
        Some("Particle")
    );
    assert!(core::ptr::eq(catalog.get("Mode").unwrap(), Mode::DESC));
}

mod literal_defaults {
    use coo_runtime::CooType;
    use coo_runtime::migration::plan::DefaultPlan;

    fn answer() -> u16 {
        42
    }

    #[derive(CooType)]
    pub struct Defaults {
        #[coo(default = 1.0)]
        mass: f32,
        #[coo(default = -2.5)]
        drag: f64,
        #[coo(default = -3)]
        bias: i8,
        #[coo(default = 7u64)]
        count: u64,
        #[coo(default = true)]
        alive: bool,
        #[coo(default = 'x')]
        glyph: char,
        #[coo(default = answer())]
        computed: u16,
        #[coo(default = 2 + 3)]
        summed: u32,
        #[coo(default = "name".to_owned())]
        name: String,
    }

    fn plan(field: &str) -> DefaultPlan<'static> {
        let fields = Defaults::DESC.struct_fields().unwrap();
        let field = fields.iter().find(|f| f.name() == field).unwrap();
        DefaultPlan::for_field(field).unwrap()
    }

    fn bytes(field: &str) -> Vec<u8> {
        match plan(field) {
            DefaultPlan::Bytes(bytes) => bytes.to_vec(),
            other => panic!("`{field}` is not planned as bytes: {other:?}"),
        }
    }

    #[test]
    fn a_literal_default_of_a_primitive_field_is_planned_as_its_bytes() {
        assert_eq!(bytes("mass"), 1.0f32.to_ne_bytes());
        assert_eq!(bytes("drag"), (-2.5f64).to_ne_bytes());
        assert_eq!(bytes("bias"), (-3i8).to_ne_bytes());
        assert_eq!(bytes("count"), 7u64.to_ne_bytes());
        assert_eq!(bytes("alive"), [1]);
        assert_eq!(bytes("glyph"), ('x' as u32).to_ne_bytes());
    }

    #[test]
    fn any_other_default_keeps_its_writer() {
        for field in ["computed", "summed", "name"] {
            assert!(
                matches!(plan(field), DefaultPlan::Write(_)),
                "`{field}`: {:?}",
                plan(field)
            );
        }
    }
}

#[derive(CooType)]
#[repr(C, packed)]
pub struct PackedC {
    tag: u8,
    len: u32,
    limit: Option<u16>,
}

#[derive(CooType)]
#[repr(C, packed(2))]
pub struct Packed2 {
    tag: u8,
    len: u64,
    inner: PackedC,
}

#[test]
fn packed_descriptors_record_the_packing_and_the_compilers_offsets() {
    assert_eq!(PackedC::DESC.packing(), Some(1));
    assert_eq!(struct_desc(PackedC::DESC).packing(), Some(1));
    assert_eq!(Packed2::DESC.packing(), Some(2));
    assert_eq!(Vec2::DESC.packing(), None);
    assert_eq!(PackedC::DESC.size(), size_of::<PackedC>());
    assert_eq!(PackedC::DESC.align(), 1);
    assert_eq!(Packed2::DESC.align(), 2);
    assert!(!PackedC::DESC.needs_drop());
    let offsets = |desc: &TypeDesc| -> Vec<usize> {
        struct_desc(desc)
            .fields()
            .iter()
            .map(FieldDesc::offset)
            .collect()
    };
    assert_eq!(
        offsets(PackedC::DESC),
        [
            offset_of!(PackedC, tag),
            offset_of!(PackedC, len),
            offset_of!(PackedC, limit)
        ]
    );
    assert_eq!(offsets(PackedC::DESC), [0, 1, 5]);
    assert_eq!(
        offsets(Packed2::DESC),
        [
            offset_of!(Packed2, tag),
            offset_of!(Packed2, len),
            offset_of!(Packed2, inner)
        ]
    );
    assert_eq!(offsets(Packed2::DESC), [0, 2, 10]);
}

#[derive(CooType)]
#[repr(C, packed(2))]
pub struct PackedPair<T> {
    tag: u8,
    value: T,
}

#[test]
fn a_generic_packed_struct_records_its_packing() {
    assert_eq!(PackedPair::<u32>::DESC.packing(), Some(2));
    assert_eq!(
        struct_desc(PackedPair::<u64>::DESC).fields()[1].offset(),
        offset_of!(PackedPair<u64>, value)
    );
}
