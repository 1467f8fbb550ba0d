//! Plain-text tables for people: one header line, columns padded to their widest cell. JSON
//! values are shown without quotes; missing ones as "-".

use serde_json::Value;

/// The text of one cell.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
        Some(other) => other.to_string(),
    }
}

/// Renders `rows` (JSON objects) as a table with `columns` = (header, key). A key may be a path
/// `a.b` into nested objects.
pub fn render(rows: &[Value], columns: &[(&str, &str)]) -> String {
    let get = |row: &Value, key: &str| {
        let mut v = Some(row);
        for part in key.split('.') {
            v = v.and_then(|x| x.get(part));
        }
        cell(v)
    };
    let mut grid: Vec<Vec<String>> = vec![columns.iter().map(|(h, _)| h.to_string()).collect()];
    for row in rows {
        grid.push(columns.iter().map(|(_, k)| get(row, k)).collect());
    }
    let widths: Vec<usize> =
        (0..columns.len()).map(|c| grid.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &grid {
        let line: Vec<String> = row.iter().zip(&widths).map(|(s, w)| format!("{s:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `key: value` lines for one object, in the given order.
pub fn pairs(obj: &Value, keys: &[(&str, &str)]) -> String {
    let width = keys.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    keys.iter().map(|(label, key)| format!("{label:<width$}  {}\n", cell(obj.get(*key)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pads_columns_and_marks_missing_cells() {
        let rows = vec![json!({"id": "o1", "price": "0.80", "n": {"x": 2}}), json!({"id": "o22", "aon": true})];
        let t = render(&rows, &[("ID", "id"), ("PRICE", "price"), ("AON", "aon"), ("X", "n.x")]);
        assert_eq!(t, "ID   PRICE  AON  X\no1   0.80   -    2\no22  -      yes  -\n");
        assert_eq!(render(&[], &[("A", "a")]), "A\n");
        assert_eq!(
            pairs(&json!({"name": "adam", "held": "1"}), &[("name", "name"), ("held", "held")]),
            "name  adam\nheld  1\n"
        );
    }
}
