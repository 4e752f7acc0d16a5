//! [`DeploymentId`], and LiteLLM's way of computing one when `model_info.id` is absent.
//!
//! LiteLLM (`litellm/router.py`, `Router._generate_model_id`) hashes
//! `model_name + Σ (key + value)` over `litellm_params` in the order written, where a string value is taken
//! as is, a dict as Python's `json.dumps` writes it, and anything else as Python's `str()` writes it
//! (`True`, `None`, `1.5`, `1e-05`, `['a', 'b']`). This module reproduces those formats exactly.

use std::borrow::Borrow;
use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use crate::secret::hex;

/// The identity of a deployment: `model_info.id`, or LiteLLM's hash of the deployment. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeploymentId(Arc<str>);

impl DeploymentId {
    /// An id as written in `model_info.id`.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        DeploymentId(id.into())
    }

    /// The id LiteLLM gives a deployment without `model_info.id`: hex SHA-256 of the model name and the
    /// `litellm_params` (with `os.environ/` references already resolved), in the order written.
    ///
    /// ```
    /// use modelroute::DeploymentId;
    /// let params = serde_json::json!({"model": "openai/gpt-4o", "rpm": 10});
    /// let id = DeploymentId::litellm("gpt-4o", params.as_object().unwrap());
    /// // sha256("gpt-4o" + "model" + "openai/gpt-4o" + "rpm" + "10")
    /// assert_eq!(id.as_str().len(), 64);
    /// ```
    pub fn litellm(model_name: &str, litellm_params: &Map<String, Value>) -> Self {
        let mut text = String::from(model_name);
        for (key, value) in litellm_params {
            text.push_str(key);
            match value {
                Value::String(s) => text.push_str(s),
                Value::Object(map) => json_dumps_object(map, &mut text),
                other => py_str(other, &mut text),
            }
        }
        DeploymentId(hex(&Sha256::digest(text.as_bytes())).into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for DeploymentId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for DeploymentId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for DeploymentId {
    fn from(id: &str) -> Self {
        DeploymentId::new(id)
    }
}

impl From<String> for DeploymentId {
    fn from(id: String) -> Self {
        DeploymentId::new(id)
    }
}

impl serde::Serialize for DeploymentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for DeploymentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as serde::Deserialize>::deserialize(d).map(DeploymentId::from)
    }
}

/// Python's `str(value)` for a JSON value that is not a string at the top level.
fn py_str(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => py_number(n, out),
        Value::String(s) => py_repr_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_str(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_repr_str(k, out);
                out.push_str(": ");
                py_str(v, out);
            }
            out.push('}');
        }
    }
}

fn py_number(n: &Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        py_float(f, out);
    }
}

/// Python's `repr(float)`: shortest round-trip digits; scientific notation when the exponent is < -4 or
/// >= 16; a fixed number always has a `.`.
pub(crate) fn py_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("nan");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr: "1.2345e17", "-1e-5".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// Python's `repr(str)`.
fn py_repr_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !py_printable(c) => {
                let cp = c as u32;
                let _ = if cp <= 0xff {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xffff {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one character: false for control, format, separator (but space),
/// surrogate and private-use characters. Unassigned code points (which Python also escapes) are not
/// known to this table and are treated as printable.
fn py_printable(c: char) -> bool {
    let cp = c as u32;
    !matches!(cp,
        0x00..=0x1f | 0x7f..=0xa0 | 0xad
        | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x1680 | 0x180e
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f
        | 0x3000 | 0xe000..=0xf8ff | 0xfeff | 0xfff9..=0xfffb
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..=0x10ffff)
}

/// Python's `json.dumps(dict)` with its defaults: `", "` and `": "` separators, `ensure_ascii=True`.
fn json_dumps_object(map: &Map<String, Value>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json_string(k, out);
        out.push_str(": ");
        json_dumps(v, out);
    }
    out.push('}');
}

fn json_dumps(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() => {
                if f.is_nan() {
                    out.push_str("NaN");
                } else if f.is_infinite() {
                    out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
                } else {
                    py_float(f, out);
                }
            }
            _ => py_number(n, out),
        },
        Value::String(s) => json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_dumps(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => json_dumps_object(map, out),
    }
}

/// A JSON string as Python's `json.dumps(ensure_ascii=True)` writes it.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(f: f64) -> String {
        let mut s = String::new();
        py_float(f, &mut s);
        s
    }

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (0.5, "0.5"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e300, "1.5e+300"),
            (123456789.123, "123456789.123"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (-2.5e-7, "-2.5e-07"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
        ];
        for (f, want) in cases {
            assert_eq!(float(f), want, "{f}");
        }
    }

    #[test]
    fn python_str_of_lists_and_dicts() {
        let v = serde_json::json!(["a", "it's", "say \"hi\"", "both ' \"", 1, 1.5, true, null, {"k": [false]}]);
        let mut s = String::new();
        py_str(&v, &mut s);
        assert_eq!(
            s,
            r#"['a', "it's", 'say "hi"', 'both \' "', 1, 1.5, True, None, {'k': [False]}]"#
        );
    }

    #[test]
    fn json_dumps_like_python() {
        let v = serde_json::json!({"a": 1, "b": [1, 2.0, "é日"], "c": {"d": null, "e": true}, "f": "x\"\n😀"});
        let mut s = String::new();
        json_dumps(&v, &mut s);
        assert_eq!(
            s,
            r#"{"a": 1, "b": [1, 2.0, "\u00e9\u65e5"], "c": {"d": null, "e": true}, "f": "x\"\n\ud83d\ude00"}"#
        );
    }
}
