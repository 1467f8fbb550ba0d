//! Checks of the values typed on the command line, used as clap value parsers: a bad value is
//! refused before anything is sent, with one line naming the argument (clap adds the name),
//! the allowed range, and the stable code the server would have answered (`invalid_price`, ...).

use peerex_engine::exchange::MAX_VOLUME;
use peerex_engine::{Amount, Price, Timestamp};

/// The error text of a refused value: the allowed range, then the stable code.
fn refuse(range: &str, code: &str) -> String {
    format!("{range} ({code})")
}

/// A price of one side of a unit: a decimal in [0, 1] with at most 4 decimals.
pub fn price(s: &str) -> Result<String, String> {
    Price::parse(s)
        .map(|_| s.to_owned())
        .map_err(|_| refuse("must be a decimal in [0, 1] with at most 4 decimals", "invalid_price"))
}

/// A volume of units: a whole number in [1, MAX_VOLUME].
pub fn volume(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|v| (1..=MAX_VOLUME).contains(v))
        .ok_or_else(|| refuse(&format!("must be a whole number in [1, {MAX_VOLUME}]"), "invalid_volume"))
}

/// A positive amount of credits (6 decimals at most).
pub fn amount(s: &str) -> Result<String, String> {
    match Amount::parse(s) {
        Ok(a) if a.0 > 0 => Ok(s.to_owned()),
        _ => Err(refuse("must be a positive decimal with at most 6 decimals", "invalid_amount")),
    }
}

/// A non-zero signed number of shares (negative sells).
pub fn shares(s: &str) -> Result<String, String> {
    match Amount::parse(s) {
        Ok(a) if a.0 != 0 => Ok(s.to_owned()),
        _ => Err(refuse("must be a non-zero decimal with at most 6 decimals (negative sells)", "invalid_amount")),
    }
}

/// A decimal that may be negative (a bound on the cost of a sale).
pub fn signed_amount(s: &str) -> Result<String, String> {
    Amount::parse(s)
        .map(|_| s.to_owned())
        .map_err(|_| refuse("must be a decimal with at most 6 decimals", "invalid_amount"))
}

/// A fraction in [0, 1] (an online fraction, a fixed-side payout).
pub fn fraction(s: &str) -> Result<String, String> {
    match Amount::parse(s) {
        Ok(a) if (0..=1_000_000).contains(&a.0) => Ok(s.to_owned()),
        _ => Err(refuse("must be a decimal in [0, 1]", "invalid_argument")),
    }
}

/// A fee rate in [0, 1).
pub fn fee(s: &str) -> Result<String, String> {
    match Amount::parse(s) {
        Ok(a) if (0..1_000_000).contains(&a.0) => Ok(s.to_owned()),
        _ => Err(refuse("must be a decimal in [0, 1)", "invalid_argument")),
    }
}

/// A non-negative size in GB (or GB per day).
pub fn gigabytes(s: &str) -> Result<String, String> {
    match Amount::parse(s) {
        Ok(a) if a.0 >= 0 => Ok(s.to_owned()),
        _ => Err(refuse("must be a decimal >= 0 with at most 6 decimals", "invalid_argument")),
    }
}

/// A non-negative amount (a position cap).
pub fn non_negative(s: &str) -> Result<String, String> {
    match Amount::parse(s) {
        Ok(a) if a.0 >= 0 => Ok(s.to_owned()),
        _ => Err(refuse("must be a decimal >= 0 with at most 6 decimals", "invalid_argument")),
    }
}

fn whole<T: std::str::FromStr + PartialOrd + std::fmt::Display>(s: &str, lo: T, hi: T) -> Result<T, String> {
    let range = format!("must be a whole number in [{lo}, {hi}]");
    s.parse::<T>().ok().filter(|v| *v >= lo && *v <= hi).ok_or_else(|| refuse(&range, "invalid_argument"))
}

/// An arbiter's report: 0 or 1.
pub fn bit(s: &str) -> Result<u8, String> {
    whole(s, 0, 1)
}

/// Reports needed to decide (2..10000).
pub fn min_reports(s: &str) -> Result<u32, String> {
    whole(s, 2, 10_000)
}

/// Days of a report window (1..365).
pub fn report_days(s: &str) -> Result<i64, String> {
    whole(s, 1, peerex_engine::arbitrated::MAX_REPORT_DAYS)
}

/// Hours of the dispute window (0..2160).
pub fn dispute_hours(s: &str) -> Result<i64, String> {
    whole(s, 0, peerex_engine::arbitrated::MAX_DISPUTE_HOURS)
}

/// Price levels a market maker quotes per side (1..50).
pub fn levels(s: &str) -> Result<u32, String> {
    whole(s, 1, peerex_engine::exchange::maker::MAX_LEVELS)
}

/// An RFC 3339 UTC time.
pub fn time(s: &str) -> Result<String, String> {
    Timestamp::parse(s)
        .map(|_| s.to_owned())
        .map_err(|_| refuse("must be an RFC 3339 time such as 2026-12-15T00:00:00Z", "invalid_time"))
}

/// A reliability target: a probability in (0, 1), e.g. 0.99999.
pub fn target(s: &str) -> Result<String, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 && Amount::parse(s).is_ok() => Ok(s.to_owned()),
        _ => Err(refuse("must be a decimal in (0, 1) with at most 6 decimals, e.g. 0.99999", "invalid_argument")),
    }
}

/// A duration: a whole number with a unit, `90s`, `15m`, `6h`, `1d`, `2w`; in seconds.
pub fn duration(s: &str) -> Result<u64, String> {
    let bad =
        || refuse("must be a whole number with a unit s, m, h, d or w, e.g. 1d, at most 100 years", "invalid_argument");
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(per).filter(|v| *v > 0 && *v <= 100 * 366 * 86_400).ok_or_else(bad)
}

/// A file size in bytes: a whole number with an optional unit (`500MB`, `2GB`, `1.5GB`).
pub fn size(s: &str) -> Result<u64, String> {
    let bad =
        || refuse("must be a size such as 4096, 500MB or 2GB (decimal units), at most 1000GB", "invalid_argument");
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale: i64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    // Exact: the number as micro-units, times the scale.
    let micros = Amount::parse(num).map_err(|_| bad())?.0;
    let bytes = (micros as i128) * (scale as i128) / 1_000_000;
    u64::try_from(bytes).ok().filter(|b| *b > 0 && *b <= 1_000_000_000_000).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_with_their_code() {
        assert_eq!(price("0.80").unwrap(), "0.80");
        assert!(price("1.5").unwrap_err().ends_with("(invalid_price)"));
        assert!(price("0.12345").is_err());
        assert_eq!(volume("10").unwrap(), 10);
        assert!(volume("-5").unwrap_err().contains("invalid_volume"));
        assert!(volume("0").is_err());
        assert!(amount("-1").unwrap_err().contains("invalid_amount"));
        assert_eq!(shares("-5").unwrap(), "-5");
        assert!(shares("0").is_err());
        assert!(fraction("1.1").is_err());
        assert!(time("tomorrow").unwrap_err().contains("invalid_time"));
        assert_eq!(duration("1d").unwrap(), 86_400);
        assert_eq!(duration("90s").unwrap(), 90);
        assert!(duration("1y").is_err());
        assert!(duration("d").is_err());
        assert_eq!(size("2GB").unwrap(), 2_000_000_000);
        assert_eq!(size("1.5gb").unwrap(), 1_500_000_000);
        assert_eq!(size("4096").unwrap(), 4096);
        assert!(size("0").is_err());
        assert!(size("5PB").is_err());
        assert!(target("0.99999").is_ok());
        assert!(target("1").is_err());
    }

    #[test]
    fn the_mechanisms_values_are_bounded() {
        assert_eq!(bit("1").unwrap(), 1);
        assert!(bit("2").unwrap_err().ends_with("must be a whole number in [0, 1] (invalid_argument)"));
        assert!(bit("-1").is_err());
        assert_eq!(min_reports("3").unwrap(), 3);
        assert!(min_reports("1").is_err());
        assert!(report_days("0").is_err());
        assert!(report_days("366").is_err());
        assert_eq!(dispute_hours("0").unwrap(), 0);
        assert!(dispute_hours("2161").is_err());
        assert!(dispute_hours("99999999999999999999").is_err());
        assert_eq!(levels("50").unwrap(), 50);
        assert!(levels("51").is_err());
        assert_eq!(non_negative("0").unwrap(), "0");
        assert!(non_negative("-0.5").unwrap_err().contains("invalid_argument"));
    }
}
