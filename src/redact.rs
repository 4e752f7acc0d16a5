//! Keeping credentials out of what the crate prints: `Debug` of configs and routes, and error messages
//! that quote a server.
//!
//! A credential is recognised by **what a value is**, not only by the name of its key, because configs put
//! them everywhere (an `api_base` with `user:password@`, an `?api-key=` in a URL, an `Authorization` value
//! in `extra_headers`, a token inside `litellm_params.model`):
//!
//! - [`text`] masks, inside any string: URL userinfo (`https://***@host`), the value of a credential-looking
//!   parameter (`?api-key=***`, `&sig=***`, `Password=***;`), the token after `Bearer` / `Basic`, the value
//!   of a header line or a quoted pair whose name is sensitive (`Cookie: ***`, `'api_key': '***'`), and tokens
//!   with a well-known key prefix (`sk-...`, `AIza...`, `ghp_...`, `hf_...`). What is not a credential stays
//!   readable: host, path, `api-version=2024-02-01`.
//! - [`is_secret_name`] says whether a key or header name holds a credential (`Authorization`, `Cookie`,
//!   `Set-Cookie`, `api-key`, `x-api-key`, `x-goog-api-key`, `Ocp-Apim-Subscription-Key`, `*_secret`,
//!   `*password*`, `*_token`, `*credential*`, ...): [`json`] prints a JSON value with the values of such
//!   keys as `***` at any depth and every string passed through [`text`].
//! - [`KeyScrubber`] removes one known key from text a server sent back: the key itself, any run of 8 or
//!   more of its characters (the key cut short, or shown with its last characters starred), its base64 (the
//!   `Authorization` header echoed as base64, at any alignment inside a longer blob, standard or URL-safe
//!   alphabet) and its percent-encoded forms. [`excerpt`] combines it with [`text`] and cuts the result to a
//!   bounded, single-line excerpt: what error messages quote of a server.
//!
//! Serialization never goes through here: a [`Deployment`](crate::Deployment) writes back exactly what it
//! read. Masking is for what is shown, not what is stored. Every function is linear in its input.
//!
//! ```
//! use modelroute::redact;
//! use modelroute::Secret;
//!
//! assert_eq!(redact::text("https://bob:hunter2@db.example.com/v1?api-version=1&api-key=k1"),
//!            "https://***@db.example.com/v1?api-version=1&api-key=***");
//!
//! let key = Secret::new("sk-live-7Hq2Xr9Lm4Tz8Vb1Nc6K");
//! let echoed = "Incorrect API key provided: sk-live-7Hq2Xr9Lm4Tz8****. Try again.";
//! assert_eq!(redact::excerpt(echoed, Some(&key), 256), "Incorrect API key provided: ***. Try again.");
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// What replaces a masked value.
const MASK: &str = "***";

/// Whether a key, header or parameter name holds a credential, so its value is never shown.
///
/// Case-insensitive. True for names containing `key`, `secret`, `password`, `passwd`, `credential`,
/// `authorization`, `cookie` or `signature`; names ending in `token`; and names with a part (split at
/// non-alphanumerics) equal to `auth`, `sig`, `pwd`, `pass`, `jwt`, `sas` or `bearer`.
///
/// ```
/// use modelroute::redact::is_secret_name;
/// for name in ["Authorization", "Set-Cookie", "x-api-key", "Ocp-Apim-Subscription-Key", "client_secret",
///              "X-Amz-Security-Token", "sig", "x-auth", "vertex_credentials"] {
///     assert!(is_secret_name(name), "{name}");
/// }
/// for name in ["model", "api_base", "max_tokens", "api-version", "author", "rpm"] {
///     assert!(!is_secret_name(name), "{name}");
/// }
/// ```
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const CONTAINS: [&str; 8] = [
        "key",
        "secret",
        "password",
        "passwd",
        "credential",
        "authorization",
        "cookie",
        "signature",
    ];
    const PARTS: [&str; 7] = ["auth", "sig", "pwd", "pass", "jwt", "sas", "bearer"];
    CONTAINS.iter().any(|c| n.contains(c))
        || n.ends_with("token")
        || n.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| PARTS.contains(&part))
}

/// `s` with every credential recognisable by its form masked as `***` (see the [module docs](self)).
/// Borrows `s` when nothing is masked.
///
/// ```
/// use modelroute::redact::text;
/// assert_eq!(text("hosted_vllm/https://u:pw@h/v1/*"), "hosted_vllm/https://***@h/v1/*");
/// assert_eq!(text("https://acct.blob.example/c?sv=2021&sig=abc%3D&se=2030"),
///            "https://acct.blob.example/c?sv=2021&sig=***&se=2030");
/// assert_eq!(text("Bearer sk-abc"), "Bearer ***");
/// assert_eq!(text("X-Trace: 1\nCookie: sid=abc"), "X-Trace: 1\nCookie: ***");
/// assert_eq!(text("openai/gpt-4o"), "openai/gpt-4o");
/// ```
pub fn text(s: &str) -> Cow<'_, str> {
    let mut spans = Vec::new();
    form_spans(s, &mut spans);
    if spans.is_empty() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(mask(s, spans))
    }
}

/// Prints `value` for `Debug` with credentials masked at every depth: the value of a key for which
/// [`is_secret_name`] holds is `***` (whatever its type), and every string goes through [`text`].
///
/// ```
/// use modelroute::redact;
/// use serde_json::json;
/// let v = json!({"extra_headers": {"Cookie": "sid=1", "X-Team": "a"}, "api_base": "https://u:p@h"});
/// assert_eq!(format!("{:?}", redact::json(&v)),
///            r#"{"extra_headers": {"Cookie": ***, "X-Team": "a"}, "api_base": "https://***@h"}"#);
/// ```
pub fn json(value: &Value) -> RedactedJson<'_> {
    RedactedJson(value)
}

/// A JSON value whose `Debug` masks credentials; see [`json`].
#[derive(Clone, Copy)]
pub struct RedactedJson<'a>(&'a Value);

impl fmt::Debug for RedactedJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Object(map) => fmt::Debug::fmt(&RedactedMap(map), f),
            Value::Array(items) => f.debug_list().entries(items.iter().map(json)).finish(),
            Value::String(s) => fmt::Debug::fmt(&*text(s), f),
            other => write!(f, "{other}"),
        }
    }
}

/// A JSON object whose `Debug` masks credentials (as [`json`] does).
pub(crate) struct RedactedMap<'a>(pub(crate) &'a Map<String, Value>);

impl fmt::Debug for RedactedMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.0 {
            entry(&mut m, k, v, false);
        }
        m.finish()
    }
}

/// Adds `k: v` to a debug map: `***` when `masked` or when `k` names a credential, else `v` redacted.
pub(crate) fn entry(m: &mut fmt::DebugMap<'_, '_>, k: &str, v: &Value, masked: bool) {
    let key = text(k);
    if masked || is_secret_name(k) {
        m.entry(&&*key, &format_args!("{MASK}"));
    } else {
        m.entry(&&*key, &json(v));
    }
}

/// Removes one key from text that may echo it: the key, every run of [`KeyScrubber::MIN_RUN`] or more of
/// its bytes, and the same in its base64 (standard and URL-safe, at the three alignments a key takes
/// inside a longer base64 blob, so also base64 of `Bearer <key>` or of a whole header) and its
/// percent-encoded forms (any case, any set of escaped characters). The token holding a match is masked
/// whole. Linear in the text.
///
/// `Debug` shows nothing of the key.
///
/// ```
/// use modelroute::redact::KeyScrubber;
/// use modelroute::Secret;
/// let s = KeyScrubber::new(&Secret::new("sk-proj-Q3xT9vLw2Zr8Kp"));
/// assert_eq!(s.scrub("bad key sk-proj-Q3xT9vLw****"), "bad key ***");
/// // base64 of "Bearer sk-proj-Q3xT9vLw2Zr8Kp"
/// assert_eq!(s.scrub("token QmVhcmVyIHNrLXByb2otUTN4VDl2THcyWnI4S3A= refused"), "token *** refused");
/// assert_eq!(s.scrub("key=sk%2Dproj%2DQ3xT9vLw2Zr8Kp&x=1"), "***&x=1");
/// assert_eq!(s.scrub("model not found"), "model not found");
/// ```
#[derive(Clone)]
pub struct KeyScrubber {
    key: Secret,
    /// Every [`Self::MIN_RUN`]-byte window of the key and of its base64 cores.
    grams: HashSet<u64>,
}

impl fmt::Debug for KeyScrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyScrubber").finish_non_exhaustive()
    }
}

impl KeyScrubber {
    /// The shortest run of a key's characters that is masked (a key shorter than this is masked only
    /// whole).
    pub const MIN_RUN: usize = 8;

    /// A scrubber for `key`.
    pub fn new(key: &Secret) -> Self {
        let bytes = key.expose().as_bytes();
        let mut grams = HashSet::new();
        add_grams(bytes, &mut grams);
        // base64 of the key after 0, 1 or 2 other bytes: the characters that depend only on the key.
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            for offset in 0..3 {
                let mut buf = vec![0u8; offset];
                buf.extend_from_slice(bytes);
                let encoded = engine.encode(&buf);
                let start = (8 * offset).div_ceil(6);
                let end = (8 * buf.len()) / 6;
                if end > start {
                    add_grams(&encoded.as_bytes()[start..end], &mut grams);
                }
            }
        }
        KeyScrubber {
            key: key.clone(),
            grams,
        }
    }

    /// `text` with the key, its long runs and its encodings masked as `***`. Borrows `text` when nothing
    /// is found.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut spans = Vec::new();
        self.key_spans(text, &mut spans);
        if spans.is_empty() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(mask(text, widen_to_tokens(text, spans)))
        }
    }

    fn key_spans(&self, text: &str, spans: &mut Vec<(usize, usize)>) {
        let key = self.key.expose();
        if key.is_empty() {
            return;
        }
        spans.extend(text.match_indices(key).map(|(i, k)| (i, i + k.len())));
        let b = text.as_bytes();
        if !self.grams.is_empty() {
            for (i, w) in b.windows(Self::MIN_RUN).enumerate() {
                if self.grams.contains(&gram(w)) {
                    spans.push((i, i + Self::MIN_RUN));
                }
            }
        }
        // The same over the percent-decoded text, mapped back to the original bytes.
        if b.contains(&b'%') {
            let (decoded, origin) = percent_decoded(b);
            // (A key of at least `MIN_RUN` bytes is found by its runs.)
            if key.len() < Self::MIN_RUN
                && let Some(found) = find_bytes(&decoded, key.as_bytes())
            {
                for i in found {
                    spans.push((origin[i].0, origin[i + key.len() - 1].1));
                }
            }
            if !self.grams.is_empty() {
                for (i, w) in decoded.windows(Self::MIN_RUN).enumerate() {
                    if self.grams.contains(&gram(w)) {
                        spans.push((origin[i].0, origin[i + Self::MIN_RUN - 1].1));
                    }
                }
            }
        }
    }
}

/// A server's text made fit to quote in an error message: `key` (if any) scrubbed as [`KeyScrubber`] does,
/// other credentials masked as [`text`] does, control characters and runs of whitespace turned into one
/// space, and cut to at most `max_chars` characters (on a character boundary, `…` marking the cut).
///
/// ```
/// use modelroute::redact::excerpt;
/// assert_eq!(excerpt("  model\n\n missing  ", None, 100), "model missing");
/// assert_eq!(excerpt("abcdef", None, 3), "abc…");
/// ```
pub fn excerpt(raw: &str, key: Option<&Secret>, max_chars: usize) -> String {
    let scrubbed = match key {
        Some(k) => KeyScrubber::new(k).scrub(raw),
        None => Cow::Borrowed(raw),
    };
    let masked = text(&scrubbed);
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true; // drops leading blanks
    for c in masked.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == max_chars {
            if out.ends_with(' ') {
                out.pop();
            }
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The reason of a JSON parse error without the value found: `invalid type: string "Bearer sk-..."`
/// becomes `invalid type: found a string`; unknown variants and fields are not quoted either. Syntax errors
/// (which name a position, never a value) are kept.
pub(crate) fn parse_reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let (msg, position) = match e.line() {
        0 => (full.as_str(), String::new()),
        line => {
            let suffix = format!(" at line {line} column {}", e.column());
            match full.strip_suffix(&suffix) {
                Some(msg) => (msg, suffix),
                None => (full.as_str(), String::new()),
            }
        }
    };
    if !e.is_data() {
        return full;
    }
    format!("{}{position}", data_reason(msg))
}

/// A serde data error's message without the value it quotes.
fn data_reason(msg: &str) -> Cow<'_, str> {
    let expected = |rest: &str| {
        rest.rfind(", expected ")
            .map(|i| rest[i + 2..].to_string())
            .unwrap_or_default()
    };
    for (prefix, what) in [
        ("invalid type: ", "invalid type"),
        ("invalid value: ", "invalid value"),
    ] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let found = found_kind(rest);
            return match expected(rest) {
                e if e.is_empty() => Cow::Owned(format!("{what}: found {found}")),
                e => Cow::Owned(format!("{what}: found {found}, {e}")),
            };
        }
    }
    for (prefix, what) in [
        ("unknown variant ", "unknown variant"),
        ("unknown field ", "unknown field"),
    ] {
        if msg.starts_with(prefix) {
            return match expected(msg) {
                e if e.is_empty() => Cow::Borrowed(what),
                e => Cow::Owned(format!("{what}, {e}")),
            };
        }
    }
    if msg.starts_with("missing field `")
        || msg.starts_with("duplicate field `")
        || msg.starts_with("invalid length ")
    {
        return Cow::Borrowed(msg); // names from the type, a count
    }
    // A message of one of the crate's own `Deserialize` impls (they name fields and types, not values);
    // masked and bounded all the same.
    Cow::Owned(excerpt(msg, None, 200))
}

/// The kind of value a serde `Unexpected` names (`string "x"` → `a string`), without the value.
fn found_kind(unexpected: &str) -> &'static str {
    const KINDS: [(&str, &str); 17] = [
        ("string", "a string"),
        ("integer", "an integer"),
        ("floating point", "a floating-point number"),
        ("boolean", "a boolean"),
        ("char", "a character"),
        ("null", "null"),
        ("unit value", "null"),
        ("map", "a map"),
        ("sequence", "a sequence"),
        ("byte array", "a byte array"),
        ("Option value", "an optional value"),
        ("newtype struct", "a newtype struct"),
        ("enum", "an enum"),
        ("unit variant", "a unit variant"),
        ("newtype variant", "a newtype variant"),
        ("tuple variant", "a tuple variant"),
        ("struct variant", "a struct variant"),
    ];
    KINDS
        .iter()
        .find(|(name, _)| {
            unexpected.starts_with(name)
                && unexpected[name.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| matches!(c, ' ' | ','))
        })
        .map_or("another value", |(_, kind)| kind)
}

// ---------------------------------------------------------------------------------------------------
// Recognising credentials by form.

/// Spans of `s` (byte ranges on character boundaries) that hold a credential recognisable by its form.
fn form_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    userinfo_spans(s, spans);
    param_spans(s, spans);
    auth_scheme_spans(s, spans);
    header_line_spans(s, spans);
    quoted_pair_spans(s, spans);
    key_prefix_spans(s, spans);
}

/// Ends a URL's authority, a parameter value or a token.
fn is_stop(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\' | b',' | b')' | b']' | b'}'
        )
}

/// `scheme://userinfo@host`: the userinfo.
fn userinfo_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    let b = s.as_bytes();
    for (i, _) in s.match_indices("://") {
        let start = i + 3;
        let end = b[start..]
            .iter()
            .position(|&c| is_stop(c) || matches!(c, b'/' | b'?' | b'#'))
            .map_or(b.len(), |p| start + p);
        if let Some(at) = s[start..end].rfind('@')
            && at > 0
        {
            spans.push((start, start + at));
        }
    }
}

/// A byte of a parameter name.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'%' | b'~')
}

/// `name=value` with a credential name (percent-decoded): the value, up to `&`, `#`, `;` or a stop.
fn param_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    let b = s.as_bytes();
    let mut masked_until = 0;
    for (eq, _) in s.match_indices('=') {
        if eq < masked_until {
            continue;
        }
        let name_start = b[..eq]
            .iter()
            .rposition(|&c| !is_name_byte(c))
            .map_or(0, |p| p + 1);
        if name_start == eq || !is_secret_name(&decoded_name(&s[name_start..eq])) {
            continue;
        }
        let start = eq + 1;
        let end = value_end(b, start, |c| matches!(c, b'&' | b'#' | b';'));
        if end > start {
            spans.push((start, end));
            masked_until = end;
        }
    }
}

/// `name` percent-decoded (as a query parameter name).
fn decoded_name(name: &str) -> Cow<'_, str> {
    if !name.contains('%') {
        return Cow::Borrowed(name);
    }
    url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map_or(Cow::Borrowed(name), |(k, _)| Cow::Owned(k.into_owned()))
}

/// The end of a value starting at `start`: the first stop byte or `extra_stop` byte.
fn value_end(b: &[u8], start: usize, extra_stop: impl Fn(u8) -> bool) -> usize {
    b[start..]
        .iter()
        .position(|&c| is_stop(c) || extra_stop(c))
        .map_or(b.len(), |p| start + p)
}

/// `Bearer <token>` and `Basic <base64>` (any case): the token.
fn auth_scheme_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let scheme = [&b"bearer"[..], &b"basic"[..]]
            .into_iter()
            .find(|w| b.len() >= i + w.len() && b[i..i + w.len()].eq_ignore_ascii_case(w));
        let Some(scheme) = scheme else {
            i += 1;
            continue;
        };
        let after = i + scheme.len();
        let starts_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let spaces = b[after..]
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t'))
            .count();
        i = after;
        if !starts_word || spaces == 0 {
            continue;
        }
        let start = after + spaces;
        let end = value_end(b, start, |c| c == b';');
        let token = &b[start..end];
        // `Basic` is also a word: its token must look like base64 (RFC 7617: padded, so 4n characters,
        // with a digit, a symbol or an upper-case letter past the first character).
        let basic = scheme.len() == 5;
        let looks_like_token = !basic
            || (token.len() >= 4
                && token.len().is_multiple_of(4)
                && token
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
                && token[1..].iter().any(|c| !c.is_ascii_lowercase()));
        if end > start && looks_like_token {
            spans.push((start, end));
            i = end;
        }
    }
}

/// A line `Name: value` whose name is sensitive: the value, to the end of the line.
fn header_line_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    let b = s.as_bytes();
    let mut line_start = 0;
    while line_start < b.len() {
        let line_end = b[line_start..]
            .iter()
            .position(|&c| matches!(c, b'\n' | b'\r'))
            .map_or(b.len(), |p| line_start + p);
        let line = &b[line_start..line_end];
        let lead = line
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t'))
            .count();
        let name_len = line[lead..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
            .count();
        let after_name = lead + name_len;
        if name_len > 0
            && line.get(after_name) == Some(&b':')
            && is_secret_name(&s[line_start + lead..line_start + after_name])
        {
            let rest = &line[after_name + 1..];
            let spaces = rest
                .iter()
                .take_while(|c| matches!(c, b' ' | b'\t'))
                .count();
            let start = line_start + after_name + 1 + spaces;
            if start < line_end {
                spans.push((start, line_end));
            }
        }
        line_start = line_end + 1;
    }
}

/// `"name": "value"` or `'name': 'value'` (JSON, or a Python dict in a server's message) whose name is
/// sensitive: the value.
fn quoted_pair_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    const MAX_NAME: usize = 64;
    let b = s.as_bytes();
    let mut masked_until = 0;
    for (colon, _) in s.match_indices(':') {
        if colon < masked_until {
            continue;
        }
        // Back over blanks to the closing quote of the name.
        let before = b[..colon]
            .iter()
            .rposition(|c| !matches!(c, b' ' | b'\t'))
            .map(|p| (p, b[p]));
        let Some((close, q @ (b'"' | b'\''))) = before else {
            continue;
        };
        let from = close.saturating_sub(MAX_NAME + 1);
        let Some(open) = b[from..close]
            .iter()
            .rposition(|&c| c == q)
            .map(|p| from + p)
        else {
            continue;
        };
        let name = &s[open + 1..close];
        if name.is_empty() || !is_secret_name(name) {
            continue;
        }
        let after = colon
            + 1
            + b[colon + 1..]
                .iter()
                .take_while(|c| matches!(c, b' ' | b'\t'))
                .count();
        let Some(&vq @ (b'"' | b'\'')) = b.get(after) else {
            continue;
        };
        let start = after + 1;
        let mut end = start;
        while end < b.len() && b[end] != vq {
            end += if b[end] == b'\\' { 2 } else { 1 };
        }
        let end = end.min(b.len());
        if end > start {
            spans.push((start, end));
            masked_until = end;
        }
    }
}

/// Prefixes of well-known API key formats.
const KEY_PREFIXES: [&str; 16] = [
    "sk-",
    "sk_",
    "rk_",
    "AIza",
    "hf_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "gsk_",
    "xai-",
    "pplx-",
    "nvapi-",
];

/// A byte of an API key token.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

/// A token of at least 20 key characters starting with a well-known key prefix: the token.
fn key_prefix_spans(s: &str, spans: &mut Vec<(usize, usize)>) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_token_byte(b[i]) {
            i += 1;
            continue;
        }
        let end = b[i..]
            .iter()
            .position(|&c| !is_token_byte(c))
            .map_or(b.len(), |p| i + p);
        let token = &s[i..end];
        if token.len() >= 20 && KEY_PREFIXES.iter().any(|p| token.starts_with(p)) {
            spans.push((i, end));
        }
        i = end;
    }
}

// ---------------------------------------------------------------------------------------------------
// Masking.

/// `s` with each of `spans` (merged when they overlap or touch) replaced by `***`.
fn mask(s: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    let mut iter = spans.into_iter().peekable();
    while let Some((start, mut end)) = iter.next() {
        while let Some(&(next_start, next_end)) = iter.peek() {
            if next_start > end {
                break;
            }
            end = end.max(next_end);
            iter.next();
        }
        let start = start.max(at);
        if end <= start {
            continue;
        }
        out.push_str(&s[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

/// A byte of a token holding a key or an encoding of it (base64 of both alphabets, percent-encoding).
fn is_key_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=' | b'%' | b'~' | b'*')
}

/// Each span widened to the whole token around it, and to character boundaries. Linear: a span inside
/// a token already widened is absorbed without scanning again.
fn widen_to_tokens(s: &str, mut spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    // Whether the span grows over byte `i` (backwards: the byte before `start`; forwards: `end`).
    let back = |start: usize| is_key_token_byte(b[start - 1]) || !s.is_char_boundary(start);
    let forward = |end: usize| is_key_token_byte(b[end]) || !s.is_char_boundary(end);
    spans.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (mut start, mut end) in spans {
        let floor = match out.last_mut() {
            Some(last) if start <= last.1 => {
                if end > last.1 {
                    while end < b.len() && forward(end) {
                        end += 1;
                    }
                    last.1 = end;
                }
                continue;
            }
            Some(last) => last.1,
            None => 0,
        };
        while start > floor && back(start) {
            start -= 1;
        }
        while end < b.len() && forward(end) {
            end += 1;
        }
        out.push((start, end));
    }
    out
}

/// A window of [`KeyScrubber::MIN_RUN`] bytes as a number.
fn gram(w: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(w);
    u64::from_le_bytes(a)
}

fn add_grams(bytes: &[u8], grams: &mut HashSet<u64>) {
    grams.extend(bytes.windows(KeyScrubber::MIN_RUN).map(gram));
}

/// `b` with `%XX` escapes decoded, and for each decoded byte the range of `b` it came from.
fn percent_decoded(b: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut origin = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2))
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push(h * 16 + l);
            origin.push((i, i + 3));
            i += 3;
            continue;
        }
        out.push(b[i]);
        origin.push((i, i + 1));
        i += 1;
    }
    (out, origin)
}

/// Start offsets of the non-overlapping occurrences of `needle` in `hay`.
fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<Vec<usize>> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    // Over bytes that may not be UTF-8 (a decoded escape): a plain scan, for needles shorter than
    // `MIN_RUN` (so linear).
    let mut found = Vec::new();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if hay[i..].starts_with(needle) {
            found.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_credential_parameters_are_masked_but_the_rest_of_the_url_is_kept() {
        assert_eq!(
            text("https://alice:pw@proxy.example.com:8443/v1"),
            "https://***@proxy.example.com:8443/v1"
        );
        assert_eq!(text("redis://tok@cache:6379/0"), "redis://***@cache:6379/0");
        // An `@` in the path (Cloudflare model names) is not userinfo.
        assert_eq!(
            text("https://api.example.com/ai/run/@cf/meta/llama"),
            "https://api.example.com/ai/run/@cf/meta/llama"
        );
        assert_eq!(
            text("https://h/p?api-version=2024-02-01&api-key=abc&x=1#access_token=t"),
            "https://h/p?api-version=2024-02-01&api-key=***&x=1#access_token=***"
        );
        assert_eq!(
            text("https://h/p?api%2Dkey=abc"),
            "https://h/p?api%2Dkey=***"
        );
        assert_eq!(
            text(
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9v+YmFy==;EndpointSuffix=x"
            ),
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;EndpointSuffix=x"
        );
        assert_eq!(text("key=key=key=v"), "key=***");
    }

    #[test]
    fn authorization_values_header_lines_quoted_pairs_and_key_prefixes_are_masked() {
        assert_eq!(text("bearer abc.def"), "bearer ***");
        assert_eq!(text("Basic dTpw"), "Basic ***");
        assert_eq!(text("Basic plan"), "Basic plan");
        assert_eq!(text("a basic model"), "a basic model");
        assert_eq!(
            text("X-Trace: 1\r\n  x-api-key: abc def\nAccept: */*"),
            "X-Trace: 1\r\n  x-api-key: ***\nAccept: */*"
        );
        assert_eq!(
            text(r#"sent {'api_key': 'sk-1', "model": "m", "password" : "p\"q"}"#),
            r#"sent {'api_key': '***', "model": "m", "password" : "***"}"#
        );
        assert_eq!(
            text("key sk-proj-abcdefghijklmnopqrstuv rejected"),
            "key *** rejected"
        );
        assert_eq!(text("sk-short"), "sk-short");
        assert_eq!(text("openai/gpt-4o-mini"), "openai/gpt-4o-mini");
    }

    #[test]
    fn a_scrubber_masks_runs_of_the_key_and_its_encodings_at_every_alignment() {
        let key = "sk-live-7Hq2+Xr9/Lm4=Tz8Vb1Nc6Kd3Wf5Yg0Pj";
        let s = KeyScrubber::new(&Secret::new(key));
        for prefix_len in KeyScrubber::MIN_RUN..key.len() {
            let shown = s.scrub(&key[..prefix_len]);
            assert_eq!(shown, "***", "prefix {prefix_len}");
        }
        for lead in ["", "x", "xy", "Bearer ", "Authorization: Bearer "] {
            let plain = format!("{lead}{key}");
            for encoded in [
                base64::engine::general_purpose::STANDARD.encode(&plain),
                URL_SAFE_NO_PAD.encode(&plain),
            ] {
                let shown = s.scrub(&format!("got {encoded} here")).into_owned();
                assert_eq!(shown, "got *** here", "{lead:?}");
            }
        }
        let encoded: String = key.bytes().map(|c| format!("%{c:02X}")).collect();
        assert_eq!(s.scrub(&format!("k={encoded}")), "***");
        assert_eq!(s.scrub("nothing to see"), "nothing to see");
        assert!(!format!("{s:?}").contains("sk-"));
        // Short keys: only the whole key.
        let short = KeyScrubber::new(&Secret::new("sk-1234"));
        assert_eq!(short.scrub("got sk-1234."), "got ***.");
        assert_eq!(short.scrub("got sk-12"), "got sk-12");
        assert_eq!(KeyScrubber::new(&Secret::new("")).scrub("x"), "x");
    }

    proptest::proptest! {
        /// Whatever the text, nothing of the key survives a scrub: not the key, not a run of `MIN_RUN` of
        /// its bytes, not in base64 or percent-encoded (the fuzz target `redact` checks the first two on
        /// arbitrary input).
        #[test]
        fn nothing_of_the_key_survives_a_scrub(
            key in "[A-Za-z0-9+/=_.-]{1,40}",
            noise in proptest::collection::vec("[ -~]{0,12}", 1..6),
            cut in 0usize..40,
            lead in "[ -~]{0,4}",
        ) {
            use base64::engine::general_purpose::STANDARD;
            let cut_key = &key[..key.len().saturating_sub(cut).max(key.len().min(KeyScrubber::MIN_RUN))];
            let planted = [
                key.clone(),
                cut_key.to_string(),
                STANDARD.encode(format!("{lead}{key}")),
                URL_SAFE_NO_PAD.encode(format!("{lead}{key}")),
                key.bytes().map(|b| format!("%{b:02x}")).collect(),
            ];
            let mut text = noise[0].clone();
            for (i, p) in planted.iter().enumerate() {
                text.push_str(p);
                text.push_str(&noise[(i + 1) % noise.len()]);
            }
            let scrubbed = KeyScrubber::new(&Secret::new(key.clone())).scrub(&text).into_owned();
            proptest::prop_assert!(!scrubbed.contains(&key), "{} in {}", key, scrubbed);
            for run in key.as_bytes().windows(KeyScrubber::MIN_RUN) {
                let run = std::str::from_utf8(run).unwrap();
                proptest::prop_assert!(!scrubbed.contains(run), "{} in {}", run, scrubbed);
            }
            // The key's base64 core: any 8 of its characters that depend on the key alone.
            if key.len() >= 9 {
                let inner = STANDARD.encode(&key.as_bytes()[..9]);
                proptest::prop_assert!(!scrubbed.contains(&inner[..8]), "{} in {}", &inner[..8], scrubbed);
            }
        }
    }

    proptest::proptest! {
        /// Any text, any key (multi-byte characters, escapes, delimiters): no panic, a bounded excerpt.
        #[test]
        fn any_text_is_redacted_without_panic(
            text in r"(\PC|[%:=@/?&#;'\x22\n ]|Bearer |://|api-key=|sk-){0,40}",
            key in r"(\PC|[%+/=]){0,12}",
        ) {
            let _ = super::text(&text);
            let e = excerpt(&text, Some(&Secret::new(key.clone())), 16);
            proptest::prop_assert!(e.chars().count() <= 17);
            if !key.is_empty() && !key.contains('*') {
                let scrubbed = KeyScrubber::new(&Secret::new(key.clone())).scrub(&text).into_owned();
                proptest::prop_assert!(!scrubbed.contains(&key));
            }
        }
    }

    #[test]
    fn parse_reasons_name_what_was_expected_and_never_the_value() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            data: Vec<u8>,
            kind: Option<Kind>,
        }
        #[derive(serde::Deserialize, Debug)]
        enum Kind {
            A,
        }
        let reason = |body: &str| parse_reason(&serde_json::from_str::<T>(body).unwrap_err());
        assert_eq!(
            reason(r#"{"data": "Bearer sk-1"}"#),
            "invalid type: found a string, expected a sequence at line 1 column 22"
        );
        assert_eq!(
            reason(r#"{"data": [300]}"#),
            "invalid value: found an integer, expected u8 at line 1 column 13"
        );
        assert_eq!(
            reason(r#"{"data": [], "kind": "sk-secret, expected "}"#),
            "unknown variant, expected `A` at line 1 column 43"
        );
        assert_eq!(
            reason(r#"{"kind": null}"#),
            "missing field `data` at line 1 column 14"
        );
        assert!(reason("{").starts_with("EOF while parsing"));
    }
}
