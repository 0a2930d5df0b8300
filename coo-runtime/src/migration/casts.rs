//! Conversions between primitive types: which are lossless, which are checked per value.

use core::fmt;

use crate::descriptors::layout::Prim;
use crate::migration::execute::ValuePath;

/// How a primitive of one type becomes a primitive of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastKind {
    /// Same type: the bytes are copied.
    Same,
    /// Every value of the old type is exactly representable in the new one.
    Widen,
    /// Some values are not: each live value is checked and the migration is refused at the
    /// first one that does not convert exactly.
    Checked,
}

/// How `from` converts to `to`, or `None` when it does not (`bool`, `char` and numbers do not mix).
pub fn cast_kind(from: Prim, to: Prim) -> Option<CastKind> {
    if from == to {
        return Some(CastKind::Same);
    }
    let numeric = |p: Prim| p.is_int() || p.is_float();
    if !numeric(from) || !numeric(to) {
        return None;
    }
    Some(if lossless(from, to) {
        CastKind::Widen
    } else {
        CastKind::Checked
    })
}

/// Exact number of value bits a float type represents integers with.
fn mantissa_bits(p: Prim) -> u32 {
    match p {
        Prim::F32 => 24,
        _ => 53,
    }
}

fn int_bits(p: Prim) -> u32 {
    (p.size() * 8) as u32
}

fn lossless(from: Prim, to: Prim) -> bool {
    match (from.is_float(), to.is_float()) {
        (true, true) => from == Prim::F32 && to == Prim::F64,
        (true, false) => false,
        // An integer fits a float exactly when its magnitude bits fit the mantissa.
        (false, true) => {
            let magnitude = int_bits(from) - u32::from(from.is_signed());
            magnitude <= mantissa_bits(to)
        }
        (false, false) => match (from.is_signed(), to.is_signed()) {
            (false, false) | (true, true) => int_bits(from) <= int_bits(to),
            (false, true) => int_bits(from) < int_bits(to),
            (true, false) => false,
        },
    }
}

/// A number read from memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i128),
    /// Unsigned values above `i128::MAX`.
    BigUint(u128),
    Float(f64),
}

impl core::fmt::Display for Num {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Num::Int(v) => write!(f, "{v}"),
            Num::BigUint(v) => write!(f, "{v}"),
            Num::Float(v) => write!(f, "{v:?}"),
        }
    }
}

/// Reads the number of type `p` at `src`.
///
/// # Safety
/// `src` points to a valid value of type `p`, which is an integer or float. It need not be
/// aligned: numbers are read and written unaligned, so a field of a `#[repr(packed)]` struct is
/// converted in place.
pub unsafe fn read_num(p: Prim, src: *const u8) -> Num {
    // SAFETY: each arm reads exactly the type `p` names (caller's contract).
    unsafe {
        match p {
            Prim::I8 => Num::Int(src.cast::<i8>().read_unaligned().into()),
            Prim::I16 => Num::Int(src.cast::<i16>().read_unaligned().into()),
            Prim::I32 => Num::Int(src.cast::<i32>().read_unaligned().into()),
            Prim::I64 => Num::Int(src.cast::<i64>().read_unaligned().into()),
            Prim::I128 => Num::Int(src.cast::<i128>().read_unaligned()),
            Prim::Isize => Num::Int(src.cast::<isize>().read_unaligned() as i128),
            Prim::U8 => Num::Int(src.cast::<u8>().read_unaligned().into()),
            Prim::U16 => Num::Int(src.cast::<u16>().read_unaligned().into()),
            Prim::U32 => Num::Int(src.cast::<u32>().read_unaligned().into()),
            Prim::U64 => Num::Int(src.cast::<u64>().read_unaligned().into()),
            Prim::Usize => Num::Int(src.cast::<usize>().read_unaligned() as i128),
            Prim::U128 => {
                let v = src.cast::<u128>().read_unaligned();
                i128::try_from(v).map_or(Num::BigUint(v), Num::Int)
            }
            Prim::F32 => Num::Float(src.cast::<f32>().read_unaligned().into()),
            Prim::F64 => Num::Float(src.cast::<f64>().read_unaligned()),
            Prim::Bool | Prim::Char => unreachable!("not a number: {p}"),
        }
    }
}

/// Reads an integer as `i128`, or `None` for a `u128` above `i128::MAX`.
///
/// # Safety
/// As for [`read_num`], with an integer type.
pub unsafe fn read_int(p: Prim, src: *const u8) -> Option<i128> {
    // SAFETY: the caller's contract.
    match unsafe { read_num(p, src) } {
        Num::Int(v) => Some(v),
        _ => None,
    }
}

/// Writes `n` to `dst` as type `to` if it converts exactly; returns `false` (writing nothing)
/// otherwise.
///
/// # Safety
/// `dst` is valid for writes of type `to`, which is an integer or float (aligned or not).
pub unsafe fn write_num(n: Num, to: Prim, dst: *mut u8) -> bool {
    macro_rules! int {
        ($t:ty) => {{
            let v: Option<$t> = match n {
                Num::Int(v) => <$t>::try_from(v).ok(),
                Num::BigUint(v) => <$t>::try_from(v).ok(),
                Num::Float(f) => float_to_int(f).and_then(|v| <$t>::try_from(v).ok()),
            };
            match v {
                // SAFETY: `dst` is valid for writes of `$t` (caller's contract).
                Some(v) => unsafe { dst.cast::<$t>().write_unaligned(v) },
                None => return false,
            }
        }};
    }
    match to {
        Prim::I8 => int!(i8),
        Prim::I16 => int!(i16),
        Prim::I32 => int!(i32),
        Prim::I64 => int!(i64),
        Prim::I128 => int!(i128),
        Prim::Isize => int!(isize),
        Prim::U8 => int!(u8),
        Prim::U16 => int!(u16),
        Prim::U32 => int!(u32),
        Prim::U64 => int!(u64),
        Prim::U128 => int!(u128),
        Prim::Usize => int!(usize),
        Prim::F64 => {
            let Some(v) = to_f64_exact(n) else {
                return false;
            };
            // SAFETY: `dst` is valid for writes of `f64`.
            unsafe { dst.cast::<f64>().write_unaligned(v) }
        }
        Prim::F32 => {
            let v = match n {
                Num::Float(f) => {
                    let g = f as f32;
                    (f64::from(g) == f || f.is_nan()).then_some(g)
                }
                _ => to_f64_exact(n).and_then(|f| {
                    let g = f as f32;
                    (f64::from(g) == f).then_some(g)
                }),
            };
            let Some(v) = v else { return false };
            // SAFETY: `dst` is valid for writes of `f32`.
            unsafe { dst.cast::<f32>().write_unaligned(v) }
        }
        Prim::Bool | Prim::Char => unreachable!("not a number: {to}"),
    }
    true
}

/// `2^127` and `2^128`, exactly (written out: `powi` need not be exact, and is not under Miri).
const TWO_POW_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;

/// The integer a float holds exactly, if it holds one that fits `i128`/`u128`.
enum ExactInt {
    Signed(i128),
    Unsigned(u128),
}

fn float_to_int(f: f64) -> Option<ExactIntAny> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if f < 0.0 {
        let v = f as i128;
        (v as f64 == f).then_some(ExactIntAny(ExactInt::Signed(v)))
    } else {
        // `f as u128` saturates, and `u128::MAX` rounds back up to `2^128`.
        let v = f as u128;
        (f < TWO_POW_128 && v as f64 == f).then_some(ExactIntAny(ExactInt::Unsigned(v)))
    }
}

/// Helper so `<$t>::try_from(ExactIntAny)` works for every integer type in [`write_num`].
struct ExactIntAny(ExactInt);

macro_rules! exact_try_from {
    ($($t:ty),*) => {$(
        impl TryFrom<ExactIntAny> for $t {
            type Error = ();
            fn try_from(v: ExactIntAny) -> Result<$t, ()> {
                match v.0 {
                    ExactInt::Signed(v) => <$t>::try_from(v).map_err(|_| ()),
                    ExactInt::Unsigned(v) => <$t>::try_from(v).map_err(|_| ()),
                }
            }
        }
    )*};
}
exact_try_from!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

fn to_f64_exact(n: Num) -> Option<f64> {
    match n {
        Num::Float(f) => Some(f),
        Num::Int(v) => {
            let f = v as f64;
            // `f as i128` saturates, so a value rounded up to `2^127` would compare equal to
            // `i128::MAX`; `-2^127` is `i128::MIN` exactly.
            (f as i128 == v && f < TWO_POW_127).then_some(f)
        }
        Num::BigUint(v) => {
            let f = v as f64;
            (f as u128 == v && f < TWO_POW_128).then_some(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::layout::ALL_PRIMS;

    #[test]
    fn the_widening_table_of_the_issue_is_lossless() {
        use Prim::*;
        for (a, b) in [
            (I8, I16),
            (I16, I32),
            (I32, I64),
            (I64, I128),
            (U8, U16),
            (U16, U32),
            (U32, U64),
            (U64, U128),
            (U8, I16),
            (U16, I32),
            (U32, I64),
            (U64, I128),
            (F32, F64),
            (I8, F64),
            (I16, F64),
            (I32, F64),
            (U8, F64),
            (U16, F64),
            (U32, F64),
        ] {
            assert_eq!(cast_kind(a, b), Some(CastKind::Widen), "{a} -> {b}");
        }
        for (a, b) in [
            (I64, I32),
            (U32, I32),
            (F64, F32),
            (I64, F64),
            (I8, U8),
            (F32, I32),
        ] {
            assert_eq!(cast_kind(a, b), Some(CastKind::Checked), "{a} -> {b}");
        }
        assert_eq!(cast_kind(Bool, U8), None);
        assert_eq!(cast_kind(Char, U32), None);
    }

    fn convert<T: Copy, U: Copy + Default>(from: Prim, to: Prim, v: T) -> Option<U> {
        let mut out = U::default();
        // SAFETY: `v` and `out` have the types `from` and `to` name.
        let n = unsafe { read_num(from, (&v as *const T).cast()) };
        // SAFETY: as above.
        unsafe { write_num(n, to, (&mut out as *mut U).cast()) }.then_some(out)
    }

    #[test]
    fn checked_casts_accept_exact_values_only() {
        assert_eq!(convert::<i64, i32>(Prim::I64, Prim::I32, 7), Some(7));
        assert_eq!(convert::<i64, i32>(Prim::I64, Prim::I32, 1 << 40), None);
        assert_eq!(convert::<u32, i32>(Prim::U32, Prim::I32, u32::MAX), None);
        assert_eq!(convert::<i32, u8>(Prim::I32, Prim::U8, -1), None);
        assert_eq!(convert::<f64, f32>(Prim::F64, Prim::F32, 0.5), Some(0.5));
        assert_eq!(convert::<f64, f32>(Prim::F64, Prim::F32, 0.1), None);
        assert_eq!(convert::<f64, i32>(Prim::F64, Prim::I32, 3.0), Some(3));
        assert_eq!(convert::<f64, i32>(Prim::F64, Prim::I32, 3.5), None);
        assert_eq!(
            convert::<i64, f64>(Prim::I64, Prim::F64, (1 << 53) + 1),
            None
        );
        assert_eq!(convert::<u128, u8>(Prim::U128, Prim::U8, u128::MAX), None);
        assert_eq!(
            convert::<u128, f64>(Prim::U128, Prim::F64, u128::MAX),
            None,
            "rounds up past u128::MAX"
        );
    }

    #[test]
    fn widening_never_fails_on_extremes() {
        assert_eq!(
            convert::<i64, i128>(Prim::I64, Prim::I128, i64::MIN),
            Some(i64::MIN as i128)
        );
        assert_eq!(
            convert::<u64, i128>(Prim::U64, Prim::I128, u64::MAX),
            Some(u64::MAX as i128)
        );
        assert_eq!(
            convert::<i32, f64>(Prim::I32, Prim::F64, i32::MIN),
            Some(i32::MIN as f64)
        );
        assert_eq!(
            convert::<u16, f32>(Prim::U16, Prim::F32, u16::MAX),
            Some(65535.0)
        );
    }

    #[test]
    fn every_numeric_pair_has_a_kind() {
        for a in ALL_PRIMS {
            for b in ALL_PRIMS {
                let numeric = |p: Prim| p.is_int() || p.is_float();
                assert_eq!(
                    cast_kind(a, b).is_some(),
                    a == b || (numeric(a) && numeric(b)),
                    "{a} -> {b}"
                );
            }
        }
    }
}

/// A checked narrowing that the value does not survive: `value` (of type `from`) is not exactly
/// representable as `to`. One error for every builder of values (migration, snapshot loading,
/// `set`), which adds where the value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InexactCast {
    pub from: Prim,
    pub to: Prim,
    /// The value, as Coo prints numbers.
    pub value: String,
}

impl InexactCast {
    /// The message for the value at `path`, with what to write to fix it.
    pub fn at<'a>(&'a self, path: &'a ValuePath) -> impl fmt::Display + 'a {
        InexactAt { cast: self, path }
    }
}

struct InexactAt<'a> {
    cast: &'a InexactCast,
    path: &'a ValuePath,
}

impl fmt::Display for InexactAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InexactCast { from, to, value } = self.cast;
        write!(
            f,
            "`{}` holds {value}, which is not exactly representable as `{to}` (was `{from}`); \
             change the value so it fits, or keep the field as `{from}`",
            self.path
        )
    }
}
