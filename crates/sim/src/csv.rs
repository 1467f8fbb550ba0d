//! The per-day CSV: `day,run,entity,<columns>`, one row per day x run x entity.
//!
//! Rows are ordered by day, then run, then the order in which the scenario emitted them, so
//! the file does not depend on which thread finished first. Numbers use Rust's shortest
//! round-trip formatting (deterministic); a missing value (NaN, e.g. "mean time to close" before
//! anything closed) is an empty field.

use std::fmt::Write as _;

use crate::scenario::RunOutput;

/// Renders the CSV of all runs (`outputs[i]` is run `i`).
pub fn render(columns: &[String], outputs: &[RunOutput]) -> String {
    let mut out = String::from("day,run,entity");
    for c in columns {
        out.push(',');
        out.push_str(&field(c));
    }
    out.push('\n');
    let mut rows: Vec<(u32, usize, usize)> = Vec::new();
    for (run, o) in outputs.iter().enumerate() {
        rows.extend(o.rows.iter().enumerate().map(|(i, r)| (r.day, run, i)));
    }
    // Stable: equal (day, run) keep the scenario's emission order.
    rows.sort_by_key(|&(day, run, _)| (day, run));
    for (day, run, i) in rows {
        let Some(row) = outputs.get(run).and_then(|o| o.rows.get(i)) else { continue };
        let _ = write!(out, "{day},{run},{}", field(&row.entity));
        for v in &row.values {
            out.push(',');
            out.push_str(&number(*v));
        }
        out.push('\n');
    }
    out
}

/// A number as CSV text: shortest round-trip form, empty for NaN.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v == 0.0 {
        // -0 and 0 print alike.
        "0".to_owned()
    } else {
        format!("{v}")
    }
}

/// Quotes a text field when it contains a comma, a quote or a line break (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Row;

    fn row(day: u32, entity: &str, values: &[f64]) -> Row {
        Row { day, entity: entity.into(), values: values.to_vec() }
    }

    #[test]
    fn header_and_rows_are_ordered_by_day_then_run() {
        let cols = vec!["balance".to_owned(), "rate".to_owned()];
        let run0 =
            RunOutput { rows: vec![row(0, "a", &[1.0, 0.5]), row(1, "a", &[2.0, f64::NAN])], ..Default::default() };
        let run1 = RunOutput { rows: vec![row(0, "a", &[3.0, 0.25]), row(1, "a", &[4.0, -0.0])], ..Default::default() };
        let csv = render(&cols, &[run0, run1]);
        assert_eq!(csv, "day,run,entity,balance,rate\n0,0,a,1,0.5\n0,1,a,3,0.25\n1,0,a,2,\n1,1,a,4,0\n");
    }

    #[test]
    fn entities_keep_emission_order_within_a_day() {
        let run0 = RunOutput { rows: vec![row(0, "zeta", &[1.0]), row(0, "alpha", &[2.0])], ..Default::default() };
        let csv = render(&["x".to_owned()], &[run0]);
        assert_eq!(csv, "day,run,entity,x\n0,0,zeta,1\n0,0,alpha,2\n");
    }

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn numbers_use_the_shortest_round_trip_form() {
        assert_eq!(number(1000.0), "1000");
        assert_eq!(number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(f64::NAN), "");
    }
}
