//! Numbers (and the other primitives, `bool` and `char`) from JSON: the exact integer a number's
//! text denotes, and writing a primitive of the field's type from it, exactly or not at all.

use super::*;

/// The integer a JSON number's text denotes, computed exactly from its digits.
enum Integer {
    Value(Num),
    /// The number has a non-zero fraction.
    Fraction,
    /// The number is whole but beyond every integer type.
    TooLarge,
}

/// The exact integer value of a JSON number (`12`, `-3`, `1.5e1`, `1e3`, `2.0`).
fn integer_value(text: &str) -> Integer {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], &unsigned[i + 1..]),
        None => (unsigned, "0"),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = whole.chars().chain(fraction.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Integer::Value(Num::Int(0));
    }
    // value = digits * 10^scale. An exponent beyond `i64` is out of every type's range either way.
    let Ok(exponent) = exponent.trim_start_matches('+').parse::<i64>() else {
        return if exponent.starts_with('-') {
            Integer::Fraction
        } else {
            Integer::TooLarge
        };
    };
    let scale = exponent.saturating_sub(fraction.len() as i64);
    let digits: Cow<'_, str> = if scale < 0 {
        let cut = scale.unsigned_abs();
        let kept = (digits.len() as u64).checked_sub(cut);
        match kept {
            Some(kept) if digits[kept as usize..].bytes().all(|b| b == b'0') => {
                Cow::Borrowed(&digits[..kept as usize])
            }
            _ => return Integer::Fraction,
        }
    } else {
        // `u128::MAX` has 39 digits.
        if digits.len() as u64 + scale as u64 > 39 {
            return Integer::TooLarge;
        }
        Cow::Owned(format!("{digits}{}", "0".repeat(scale as usize)))
    };
    let digits = if digits.is_empty() { "0" } else { &digits };
    let Ok(magnitude) = digits.parse::<u128>() else {
        return Integer::TooLarge;
    };
    Integer::Value(match (negative, i128::try_from(magnitude)) {
        (false, Ok(v)) => Num::Int(v),
        (false, Err(_)) => Num::BigUint(magnitude),
        (true, Ok(v)) => Num::Int(-v),
        (true, Err(_)) if magnitude == i128::MIN.unsigned_abs() => Num::Int(i128::MIN),
        (true, Err(_)) => return Integer::TooLarge,
    })
}

/// Whether a JSON number is written as a float (with a fraction or an exponent).
fn is_float_text(text: &str) -> bool {
    text.contains(['.', 'e', 'E'])
}
impl<'v> ValueBuilder<'v> {
    /// # Safety
    /// `dst` is valid for writes of the primitive `prim`.
    /// `saved` is the primitive the value was saved as, when known.
    pub(super) unsafe fn build_prim(
        &self,
        prim: Prim,
        json: &JsonValue,
        dst: *mut u8,
        saved: Option<Prim>,
    ) -> Result<(), ValueError> {
        let number = |p: Prim| p.is_int() || p.is_float();
        let checked_cast = |from: Prim, text: &String| {
            ValueError::at(
                self.path(),
                ValueErrorKind::CheckedCast(InexactCast {
                    value: text.clone(),
                    from,
                    to: prim,
                }),
            )
        };
        match (prim, json) {
            (Prim::Bool, JsonValue::Bool(b)) => {
                // SAFETY: `dst` is valid for writes of a `bool`.
                unsafe { dst.cast::<bool>().write(*b) };
                Ok(())
            }
            (Prim::Char, JsonValue::String(s)) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        // SAFETY: `dst` is valid for writes of a `char`.
                        unsafe { dst.cast::<char>().write(c) };
                        Ok(())
                    }
                    _ => Err(ValueError::at(
                        self.path(),
                        ValueErrorKind::NotAChar {
                            value: format!("{s:?}"),
                        },
                    )),
                }
            }
            (Prim::F32 | Prim::F64, JsonValue::Null) => {
                // `state_json` prints NaN (and the infinities) as `null`.
                // SAFETY: `dst` is valid for writes of the float type `prim`.
                unsafe {
                    match prim {
                        Prim::F32 => dst.cast::<f32>().write(f32::NAN),
                        _ => dst.cast::<f64>().write(f64::NAN),
                    }
                }
                Ok(())
            }
            (p, JsonValue::Number(text))
                if is_float_text(text)
                    && let Some(from) = saved.filter(|&s| s.is_float() && s != p && number(p)) =>
            {
                // The value was saved as another float type: read it as that type, then cast
                // exactly as a reload would.
                let value = match from {
                    Prim::F32 => text.parse::<f32>().map(f64::from),
                    _ => text.parse::<f64>(),
                };
                let value = value.expect("valid JSON number syntax parses as a float");
                // SAFETY: `dst` is valid for writes of `p`, a number type.
                if unsafe { write_num(Num::Float(value), p, dst) } {
                    Ok(())
                } else {
                    Err(checked_cast(from, text))
                }
            }
            (p, JsonValue::Number(text)) if p.is_float() && is_float_text(text) => {
                let fits = match p {
                    Prim::F32 => text.parse::<f32>().ok().filter(|v| v.is_finite()).map(|v| {
                        // SAFETY: `dst` is valid for writes of an `f32`.
                        unsafe { dst.cast::<f32>().write(v) }
                    }),
                    _ => text.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| {
                        // SAFETY: `dst` is valid for writes of an `f64`.
                        unsafe { dst.cast::<f64>().write(v) }
                    }),
                };
                fits.ok_or_else(|| {
                    ValueError::at(
                        self.path(),
                        ValueErrorKind::DoesNotFit {
                            value: text.clone(),
                            ty: p,
                        },
                    )
                })
            }
            (p, JsonValue::Number(text)) if number(p) => {
                let saved_as = saved.filter(|&s| s != p && number(s));
                let n = match integer_value(text) {
                    Integer::Value(n) => n,
                    _ if saved_as.is_some() => {
                        return Err(checked_cast(saved_as.expect("checked"), text));
                    }
                    Integer::Fraction => {
                        return Err(ValueError::at(
                            self.path(),
                            ValueErrorKind::NotIntegral {
                                value: text.clone(),
                                ty: p,
                            },
                        ));
                    }
                    Integer::TooLarge => {
                        return Err(ValueError::at(
                            self.path(),
                            ValueErrorKind::DoesNotFit {
                                value: text.clone(),
                                ty: p,
                            },
                        ));
                    }
                };
                // SAFETY: `dst` is valid for writes of `p`, a number type.
                if unsafe { write_num(n, p, dst) } {
                    Ok(())
                } else if let Some(from) = saved_as {
                    Err(checked_cast(from, text))
                } else if p.is_float() {
                    Err(ValueError::at(
                        self.path(),
                        ValueErrorKind::NotExact {
                            value: text.clone(),
                            ty: p,
                        },
                    ))
                } else {
                    Err(ValueError::at(
                        self.path(),
                        ValueErrorKind::DoesNotFit {
                            value: text.clone(),
                            ty: p,
                        },
                    ))
                }
            }
            (p, other) => Err(self.expected_text(format!("`{p}`"), other)),
        }
    }
}
