//! Numbers and times for people: credits with a unit and 2-4 decimals, probabilities as
//! percentages, times relative to the server clock with the exact instant on hover.

use maud::{html, Markup};
use peerex_engine::{Amount, Price, Timestamp};

const MICROS: i64 = 1_000_000;

/// `1234.5` credits -> `1,234.50 cr`; at least 2 and at most 4 decimals (rounded half away
/// from zero at the 4th).
pub fn credits(a: Amount) -> String {
    format!("{} cr", credits_bare(a))
}

/// [`credits`] without the unit.
pub fn credits_bare(a: Amount) -> String {
    let m = a.micros();
    let neg = m < 0;
    let abs = m.unsigned_abs();
    // Round to 4 decimals (units of 100 micro).
    let tenk = (abs + 50) / 100;
    let whole = tenk / 10_000;
    let mut frac = format!("{:04}", tenk % 10_000);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    let sign = if neg && tenk > 0 { "-" } else { "" };
    format!("{sign}{}.{frac}", group(whole))
}

/// Signed credits for P&L: `+1.50 cr`, `-0.25 cr`.
pub fn signed_credits(a: Amount) -> String {
    if a.micros() > 0 {
        format!("+{}", credits(a))
    } else {
        credits(a)
    }
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whole units with thousands separators.
pub fn units(n: u64) -> String {
    group(n)
}

/// A price as the probability it implies: `0.62` -> `62%`, `0.625` -> `62.5%`.
pub fn pct(p: Price) -> String {
    let bp = p.bp();
    if bp.is_multiple_of(100) {
        format!("{}%", bp / 100)
    } else if bp.is_multiple_of(10) {
        format!("{}.{}%", bp / 100, (bp % 100) / 10)
    } else {
        format!("{}.{:02}%", bp / 100, bp % 100)
    }
}

/// A change in percentage points: `+3 pts`.
pub fn pts(delta_bp: i64) -> String {
    let sign = if delta_bp > 0 {
        "+"
    } else if delta_bp < 0 {
        "−"
    } else {
        "±"
    };
    let a = delta_bp.unsigned_abs();
    if a.is_multiple_of(100) {
        format!("{sign}{} pts", a / 100)
    } else {
        format!("{sign}{}.{} pts", a / 100, (a % 100) / 10)
    }
}

/// `2026-12-15 00:00 UTC`.
pub fn exact(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    // RFC 3339 from the engine: YYYY-MM-DDTHH:MM:SS(.sss)Z
    match (s.get(0..10), s.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => s,
    }
}

/// `2026-12-15`.
pub fn date(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    s.get(0..10).map(str::to_owned).unwrap_or(s)
}

/// `3 Dec 2026`.
pub fn day(t: Timestamp) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let d = date(t);
    let (y, m, dd) = (d.get(0..4), d.get(5..7).and_then(|m| m.parse::<usize>().ok()), d.get(8..10));
    match (y, m, dd) {
        (Some(y), Some(m), Some(dd)) if (1..=12).contains(&m) => {
            format!("{} {} {y}", dd.trim_start_matches('0'), MONTHS[m - 1])
        }
        _ => d,
    }
}

/// A deadline: `3 Dec 2026 (in 2 days)`, the exact instant on hover.
pub fn due(t: Timestamp, now: Timestamp) -> Markup {
    html! { time datetime=(t.to_rfc3339()) title=(exact(t)) { (day(t)) " (" (relative(t, now)) ")" } }
}

/// A price in credits per unit with 2-4 decimals: `0.60 cr`.
pub fn price_cr(p: Price) -> String {
    credits(p.cost(1).unwrap_or_default())
}

/// `in 3 days`, `5 minutes ago`, relative to `now`.
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let d = t.millis() - now.millis();
    let s = d.unsigned_abs() / 1000;
    let (n, unit) = if s < 45 {
        return if d >= 0 { "in a moment".into() } else { "just now".into() };
    } else if s < 90 * 60 {
        (s.div_ceil(60).max(1), "minute")
    } else if s < 36 * 3600 {
        ((s + 1800) / 3600, "hour")
    } else if s < 45 * 86_400 {
        ((s + 43_200) / 86_400, "day")
    } else if s < 540 * 86_400 {
        ((s + 15 * 86_400) / (30 * 86_400), "month")
    } else {
        ((s + 182 * 86_400) / (365 * 86_400), "year")
    };
    let plural = if n == 1 { "" } else { "s" };
    if d >= 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// A `<time>` element: relative text, exact instant on hover and in `datetime`.
pub fn time(t: Timestamp, now: Timestamp) -> Markup {
    html! { time datetime=(t.to_rfc3339()) title=(exact(t)) { (relative(t, now)) } }
}

/// Millis since the epoch to a timestamp.
pub fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// Micro-credits per credit, for callers that build amounts.
pub const fn micros_per_credit() -> i64 {
    MICROS
}

/// The text with its first letter in upper case.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// A time a person typed in a form: `2026-12-15` or an RFC 3339 instant.
pub fn parse_time(s: &str) -> Result<Timestamp, peerex_engine::EngineError> {
    let s = s.trim();
    if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') {
        Timestamp::parse(&format!("{s}T00:00:00Z"))
    } else if s.len() == 16 && s.as_bytes().get(10) == Some(&b'T') {
        Timestamp::parse(&format!("{s}:00Z"))
    } else {
        Timestamp::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_have_two_to_four_decimals_and_a_unit() {
        assert_eq!(credits(Amount::credits(1234)), "1,234.00 cr");
        assert_eq!(credits(Amount(1_500_000)), "1.50 cr");
        assert_eq!(credits(Amount(1_234_567)), "1.2346 cr");
        assert_eq!(credits(Amount(-250_000)), "-0.25 cr");
        assert_eq!(credits(Amount(10)), "0.00 cr");
        assert_eq!(signed_credits(Amount(2_000_000)), "+2.00 cr");
    }

    #[test]
    fn probabilities_are_percentages() {
        assert_eq!(pct(Price::parse("0.62").unwrap()), "62%");
        assert_eq!(pct(Price::parse("0.625").unwrap()), "62.5%");
        assert_eq!(pct(Price::parse("0.6255").unwrap()), "62.55%");
        assert_eq!(pct(Price::ONE), "100%");
        assert_eq!(pts(300), "+3 pts");
        assert_eq!(pts(-250), "−2.5 pts");
    }

    #[test]
    fn times_are_relative_with_the_exact_instant() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let later = Timestamp::parse("2026-12-04T00:00:00Z").unwrap();
        assert_eq!(relative(later, now), "in 3 days");
        assert_eq!(relative(now, later), "3 days ago");
        assert_eq!(relative(now.plus_millis(5 * 60_000), now), "in 5 minutes");
        assert_eq!(exact(later), "2026-12-04 00:00 UTC");
        assert_eq!(day(later), "4 Dec 2026");
        assert!(due(later, now).into_string().contains("4 Dec 2026 (in 3 days)"));
        assert_eq!(price_cr(Price::parse("0.6").unwrap()), "0.60 cr");
        let m = time(later, now).into_string();
        assert!(m.contains("title=\"2026-12-04 00:00 UTC\"") && m.contains("in 3 days"), "{m}");
    }
}
