//! Reading scenario options (`--opt key=value`) with defaults and clear errors.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

/// The value of `key` parsed as `T`, or `default` when the option is absent.
pub fn get<T>(options: &BTreeMap<String, String>, key: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    match options.get(key) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|e| anyhow::anyhow!("option {key}={text:?}: {e}")),
    }
}

/// Splits `key=value` (for the command line's `--opt`).
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
        _ => Err(format!("expected key=value, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parses_and_reports_bad_values() {
        let opts: BTreeMap<String, String> = [("workers".to_owned(), "12".to_owned())].into_iter().collect();
        assert_eq!(get(&opts, "workers", 10u32).unwrap(), 12);
        assert_eq!(get(&opts, "absent", 0.4f64).unwrap(), 0.4);
        let bad: BTreeMap<String, String> = [("workers".to_owned(), "many".to_owned())].into_iter().collect();
        let err = get(&bad, "workers", 10u32).unwrap_err().to_string();
        assert!(err.contains("workers=\"many\""), "{err}");
        assert_eq!(parse_pair("a = b=c").unwrap(), ("a".to_owned(), "b=c".to_owned()));
        assert!(parse_pair("novalue").is_err());
        assert!(parse_pair("=x").is_err());
    }
}
