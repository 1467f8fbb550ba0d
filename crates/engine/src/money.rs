//! Money and prices as integers: no floating point ever touches a balance.
//!
//! * [`Amount`]: credits in micro-credits (1 credit = 1,000,000 micro). Signed, because ledger
//!   accounts such as the mint carry negative balances; user accounts never go below zero.
//! * [`Price`]: a contract price in [0, 1] with at most 4 decimals, stored in basis points
//!   (0..=10,000). `price x volume` is always an exact number of micro-credits.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::EngineError;

/// Minor units per credit.
pub const MICROS_PER_CREDIT: i64 = 1_000_000;
/// Decimal digits of the minor unit.
pub const AMOUNT_DECIMALS: u32 = 6;
/// Basis points per unit price (price 1.0).
pub const PRICE_SCALE: u32 = 10_000;
/// Decimal digits a price may carry.
pub const PRICE_DECIMALS: u32 = 4;
/// Micro-credits per basis point of price per unit.
const MICROS_PER_BP: i64 = MICROS_PER_CREDIT / PRICE_SCALE as i64;

/// An amount of credits in micro-credits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// Whole credits.
    pub const fn credits(c: i64) -> Amount {
        Amount(c * MICROS_PER_CREDIT)
    }
    pub const fn micros(self) -> i64 {
        self.0
    }
    pub fn checked_add(self, o: Amount) -> Option<Amount> {
        self.0.checked_add(o.0).map(Amount)
    }
    pub fn checked_sub(self, o: Amount) -> Option<Amount> {
        self.0.checked_sub(o.0).map(Amount)
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Parses a decimal string such as `"160"`, `"0.8"` or `"-2.5"`; at most 6 decimals.
    pub fn parse(s: &str) -> Result<Amount, EngineError> {
        parse_fixed(s, AMOUNT_DECIMALS).map(Amount).ok_or_else(|| {
            EngineError::InvalidAmount(format!("{s:?} is not a decimal amount with at most {AMOUNT_DECIMALS} decimals"))
        })
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_fixed(self.0, AMOUNT_DECIMALS))
    }
}

/// Decimal text in human-readable formats (JSON, TOML: the command language); the micro-credits
/// as an integer in binary ones (the server's snapshots).
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.serialize_i64(self.0);
        }
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if !d.is_human_readable() {
            return i64::deserialize(d).map(Amount);
        }
        let s = DecimalText::deserialize(d)?;
        Amount::parse(&s.0).map_err(serde::de::Error::custom)
    }
}

/// A price of one unit of a contract side, in basis points of a credit (0..=10,000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(u16);

impl Price {
    pub const ZERO: Price = Price(0);
    pub const ONE: Price = Price(PRICE_SCALE as u16);

    /// A price from basis points; `None` above 1.
    pub const fn from_bp(bp: u32) -> Option<Price> {
        if bp <= PRICE_SCALE {
            Some(Price(bp as u16))
        } else {
            None
        }
    }
    pub const fn bp(self) -> u32 {
        self.0 as u32
    }
    /// The price of the other side of the same unit: 1 - p.
    pub const fn complement(self) -> Price {
        Price(PRICE_SCALE as u16 - self.0)
    }
    /// Cost of `volume` units at this price. Exact; `None` only on overflow.
    pub fn cost(self, volume: u64) -> Option<Amount> {
        let v = i64::try_from(volume).ok()?;
        (self.0 as i64).checked_mul(MICROS_PER_BP)?.checked_mul(v).map(Amount)
    }

    /// Parses `"0.80"`: a decimal in [0, 1] with at most 4 decimals.
    pub fn parse(s: &str) -> Result<Price, EngineError> {
        let bp = parse_fixed(s, PRICE_DECIMALS).ok_or_else(|| {
            EngineError::InvalidPrice(format!("{s:?} is not a decimal with at most {PRICE_DECIMALS} decimals"))
        })?;
        if !(0..=PRICE_SCALE as i64).contains(&bp) {
            return Err(EngineError::InvalidPrice(format!("{s} is outside [0, 1]")));
        }
        Ok(Price(bp as u16))
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_fixed(self.0 as i64, PRICE_DECIMALS))
    }
}

/// Decimal text in human-readable formats; basis points (at most 10,000) in binary ones.
impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.serialize_u16(self.0);
        }
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if !d.is_human_readable() {
            let bp = u16::deserialize(d)?;
            return Price::from_bp(bp as u32)
                .ok_or_else(|| serde::de::Error::custom(format!("{bp} basis points is above 1")));
        }
        let s = DecimalText::deserialize(d)?;
        Price::parse(&s.0).map_err(serde::de::Error::custom)
    }
}

/// Accepts a decimal as a JSON string (the documented form) or a JSON number, keeping the
/// number's exact text so that `0.1` never passes through a float.
struct DecimalText(String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DecimalText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string such as \"0.80\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<DecimalText, E> {
                Err(E::custom("write fractional amounts and prices as strings, e.g. \"0.80\""))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a signed decimal with at most `decimals` fractional digits into an integer scaled by
/// 10^decimals. Rejects exponents, spaces, a lone point and overflow; either side of the point
/// may be empty (".5", "5.").
pub fn parse_fixed(s: &str, decimals: u32) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > decimals as usize {
        return None;
    }
    let scale = 10i64.checked_pow(decimals)?;
    let mut value: i64 = 0;
    for b in int_part.bytes() {
        value = value.checked_mul(10)?.checked_add((b - b'0') as i64)?;
    }
    value = value.checked_mul(scale)?;
    let mut frac: i64 = 0;
    for (i, b) in frac_trimmed.bytes().enumerate() {
        let place = 10i64.checked_pow(decimals - 1 - i as u32)?;
        frac = frac.checked_add(((b - b'0') as i64).checked_mul(place)?)?;
    }
    value = value.checked_add(frac)?;
    Some(if neg { -value } else { value })
}

/// Formats a scaled integer as a decimal, dropping trailing zeros ("160", "0.8", "-2.5").
pub fn format_fixed(v: i64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals);
    let neg = v < 0;
    let abs = v.unsigned_abs();
    let int = abs / scale;
    let frac = abs % scale;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&int.to_string());
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = decimals as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed<T: Serialize>(v: &T) -> Vec<u8> {
        rmp_serde::to_vec(v).unwrap()
    }

    #[test]
    fn binary_formats_carry_integers_and_json_keeps_decimal_text() {
        let a = Amount(-1_500_000);
        assert_eq!(packed(&a), packed(&-1_500_000i64));
        assert_eq!(rmp_serde::from_slice::<Amount>(&packed(&a)).unwrap(), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"-1.5\"");
        assert_eq!(serde_json::from_str::<Amount>("\"-1.5\"").unwrap(), a);
        // Any other JSON type is refused with a message that says what is expected.
        let err = serde_json::from_str::<Amount>("true").unwrap_err().to_string();
        assert!(err.contains("expected a decimal string such as \"0.80\""), "{err}");
        let p = Price::from_bp(8_000).unwrap();
        assert_eq!(packed(&p), packed(&8_000u16));
        assert_eq!(rmp_serde::from_slice::<Price>(&packed(&p)).unwrap(), p);
        assert_eq!(rmp_serde::from_slice::<Price>(&packed(&10_000u16)).unwrap(), Price::ONE);
        assert!(rmp_serde::from_slice::<Price>(&packed(&10_001u16)).is_err(), "above 1");
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        assert_eq!(serde_json::from_str::<Price>("\"0.8\"").unwrap(), p);
    }

    #[test]
    fn parses_and_formats_amounts_exactly() {
        assert_eq!(Amount::parse("160").unwrap(), Amount::credits(160));
        assert_eq!(Amount::parse("0.8").unwrap(), Amount(800_000));
        assert_eq!(Amount::parse("-2.50").unwrap(), Amount(-2_500_000));
        assert_eq!(Amount::parse("0.000001").unwrap(), Amount(1));
        assert_eq!(Amount::parse(".5").unwrap(), Amount(500_000));
        assert_eq!(Amount::parse("5.").unwrap(), Amount::credits(5));
        assert_eq!(Amount(800_000).to_string(), "0.8");
        assert_eq!(Amount(-2_500_000).to_string(), "-2.5");
        assert_eq!(Amount::credits(200).to_string(), "200");
        assert_eq!(Amount(1).to_string(), "0.000001");
    }

    #[test]
    fn rejects_malformed_amounts() {
        for bad in ["", ".", "1e3", "1.0000001", " 1", "1,5", "abc", "--1", "99999999999999999999"] {
            assert!(Amount::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn prices_are_basis_points_in_unit_interval() {
        assert_eq!(Price::parse("0.80").unwrap().bp(), 8000);
        assert_eq!(Price::parse("1").unwrap(), Price::ONE);
        assert_eq!(Price::parse("0.1234").unwrap().bp(), 1234);
        assert_eq!(Price::parse("0.80").unwrap().complement().bp(), 2000);
        for bad in ["1.0001", "-0.1", "0.12345", "2", "x"] {
            assert!(Price::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(Price::parse("0.80").unwrap().cost(200), Some(Amount::credits(160)));
        assert_eq!(Price::parse("0.8").unwrap().to_string(), "0.8");
    }

    #[test]
    fn json_numbers_are_read_from_their_text() {
        let a: Amount = serde_json::from_str("160").unwrap();
        assert_eq!(a, Amount::credits(160));
        assert!(serde_json::from_str::<Price>("0.5").is_err(), "floats are refused");
        let p: Price = serde_json::from_str("\"0.5\"").unwrap();
        assert_eq!(p.bp(), 5000);
    }
}
