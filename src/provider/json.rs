//! JSON helpers shared by the parsers: strict where the API's structure is at stake (the list, the ids),
//! lenient for optional metadata (a context length sent as `"8192"` or `8192.0` is still read; a value
//! of an unexpected type is treated as "not said" rather than failing the whole list).

use serde::Deserialize;
use serde_json::Value;

use crate::error::ParseError;
use crate::redact;

/// Parses `bytes` as `T` (which may borrow from them), reporting the path of the first bad field and what was
/// expected there, never the value found (it may be a credential the server echoed).
pub(crate) fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(to_parse_error)?;
    de.end()
        .map_err(|e| ParseError::new(".", redact::parse_reason(&e)))?;
    Ok(value)
}

/// Deserializes `value` (found at `at` in the body) as `T`, reporting the full path of the first bad field.
pub(crate) fn from_value<'de, T: Deserialize<'de>>(
    value: &'de Value,
    at: &str,
) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = to_parse_error(e);
        ParseError::new(join_path(at, &inner.path), inner.reason)
    })
}

fn to_parse_error(e: serde_path_to_error::Error<serde_json::Error>) -> ParseError {
    let path = e.path().to_string();
    ParseError::new(path, redact::parse_reason(e.inner()))
}

/// `prefix` followed by `inner` (`.` meaning "here").
pub(crate) fn join_path(prefix: &str, inner: &str) -> String {
    match (prefix, inner) {
        (".", i) => i.to_string(),
        (p, ".") => p.to_string(),
        (p, i) if i.starts_with('[') => format!("{p}{i}"),
        (p, i) => format!("{p}.{i}"),
    }
}

/// Deserializes a list that servers sometimes send as `null` (Ollama's `/v1/models` with no model):
/// `null` is the empty list. The field stays required: a missing field is still an error.
pub(crate) fn nullable_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A non-negative integer: a JSON integer, a float with no fractional part, or a decimal string.
pub(crate) fn u64_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64)
                .then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A finite number (or a decimal string).
pub(crate) fn f64_of(v: Option<&Value>) -> Option<f64> {
    let f = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

/// A boolean (or the strings `true` / `false`).
pub(crate) fn bool_of(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A string.
pub(crate) fn str_of(v: Option<&Value>) -> Option<&str> {
    v?.as_str()
}

/// Removes the `null` members of every object in `value` (array elements stay, so positions keep their
/// meaning), rebuilding each object at its new size: a `null` member says nothing (`value["x"]` is `null`
/// either way), and LiteLLM's `model_info` has ~165 of them in ~190 fields. The depth is bounded by the JSON
/// parser's (128).
pub(crate) fn drop_null_members(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.values().any(Value::is_null) {
                let kept: Vec<(String, Value)> = std::mem::take(map)
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .collect();
                *map = kept.into_iter().collect();
            }
            map.values_mut().for_each(drop_null_members);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_members),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        #[serde(deserialize_with = "nullable_list")]
        data: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: String,
    }

    #[test]
    fn paths_point_at_the_bad_field() {
        let e = from_slice::<Body>(br#"{"data":[{"id":"a"},{"id":3}]}"#).unwrap_err();
        assert_eq!(e.path, "data[1].id");
        let e = from_slice::<Body>(br#"{"other":1}"#).unwrap_err();
        assert_eq!(e.path, ".");
        assert!(e.reason.contains("data"), "{e}");
        let e = from_slice::<Body>(b"<html>").unwrap_err();
        assert_eq!(e.path, ".");
        let e = from_slice::<Body>(br#"{"data":[]} trailing"#).unwrap_err();
        assert!(e.reason.contains("trailing"), "{e}");
        let v = json!({"id": null});
        let e = from_value::<Item>(&v, "data[7]").unwrap_err();
        assert_eq!(e.path, "data[7].id");
    }

    #[test]
    fn null_list_is_empty_but_missing_list_is_not() {
        assert!(
            from_slice::<Body>(br#"{"data":null}"#)
                .unwrap()
                .data
                .is_empty()
        );
        assert!(from_slice::<Body>(br#"{}"#).is_err());
    }

    #[test]
    fn null_members_are_dropped_at_any_depth_and_array_positions_kept() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1, "e": [null, {"f": null, "g": "x"}]}, "h": []});
        drop_null_members(&mut v);
        assert_eq!(v, json!({"b": {"d": 1, "e": [null, {"g": "x"}]}, "h": []}));
        let keys: Vec<&String> = v["b"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["d", "e"], "order kept");
    }

    #[test]
    fn lenient_numbers() {
        assert_eq!(u64_of(Some(&json!(8192))), Some(8192));
        assert_eq!(u64_of(Some(&json!(8192.0))), Some(8192));
        assert_eq!(u64_of(Some(&json!("8192"))), Some(8192));
        assert_eq!(u64_of(Some(&json!(-1))), None);
        assert_eq!(u64_of(Some(&json!(1.5))), None);
        assert_eq!(u64_of(Some(&json!(1e300))), None);
        assert_eq!(u64_of(Some(&json!(null))), None);
        assert_eq!(u64_of(None), None);
        assert_eq!(f64_of(Some(&json!(2.5e-6))), Some(2.5e-6));
        assert_eq!(f64_of(Some(&json!("x"))), None);
        assert_eq!(bool_of(Some(&json!("True"))), Some(true));
        assert_eq!(bool_of(Some(&json!(1))), None);
        assert_eq!(join_path("a", "[1].b"), "a[1].b");
        assert_eq!(join_path("a", "b"), "a.b");
        assert_eq!(join_path(".", "b"), "b");
        assert_eq!(join_path("a", "."), "a");
    }
}
