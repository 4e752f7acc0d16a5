//! YAML text to a JSON value, typed the way PyYAML's `yaml.safe_load` (YAML 1.1) types it, since LiteLLM
//! reads its config files with it and hashes what it loaded into deployment ids.
//!
//! The text is parsed into events by `granit-parser`, composed into a node tree (anchors shared, not copied),
//! then constructed into a [`Value`]:
//! - a plain (unquoted, untagged) scalar is resolved with PyYAML's implicit resolvers (`resolver.py`), picked
//!   by its first character in PyYAML's order: bool (`yes`/`No`/`on`/`OFF`..., not `y`/`n`), float (a dot is
//!   required, an exponent needs its sign, `1:30.5` is base 60), int (`0b101`, `017` octal, `0x1F`,
//!   `1_000`, `1:30` base 60; `0o17` is a string), null (`~`, `null`, `Null`, `NULL`, empty), timestamp,
//!   merge (`<<`); anything else is a string. Quoted and block scalars are strings.
//! - explicit tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp`, `!!seq`, `!!map` are
//!   honoured; other tags are refused (PyYAML's safe loader refuses unknown tags; `!!binary`, `!!set`,
//!   `!!omap`, `!!pairs` give Python types JSON has no value for).
//! - a date or timestamp becomes the string Python's `str()` gives it (`2024-01-31`,
//!   `2024-01-31 10:20:30+00:00`).
//! - `.inf`, `.nan` and floats too large for an `f64` are refused (JSON cannot hold them).
//! - integers beyond `i64`/`u64` become floats, as in the JSON loader.
//! - mapping keys that are not strings become Python's `str()` of the key (`True`, `None`, `1.5`);
//!   sequences and mappings as keys are refused (unhashable to Python).
//! - `<<` merges put the merged keys first (PyYAML's `flatten_mapping`); a duplicate key keeps its first
//!   position and takes the last value.
//! - one document only: a second document is an error, as with `safe_load`.
//! - limits: nesting (with aliases expanded) at most [`MAX_DEPTH`]; the value a document expands to (aliases
//!   expanded) at most [`MAX_VALUES`] values and [`MAX_SCALAR_BYTES`] bytes of scalars, checked before
//!   anything is expanded, so an alias bomb costs nothing.
//!
//! Errors give a line and a column (both 1-based), never an excerpt of the text.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use granit_parser::{Event, Options, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

use crate::deployment::py_float;

/// Deepest nesting of sequences and mappings, aliases expanded (serde_json's own limit is 128 too).
pub(crate) const MAX_DEPTH: usize = 128;
/// Most values a document may expand to, aliases expanded.
pub(crate) const MAX_VALUES: u64 = 1_000_000;
/// Most bytes of scalars (keys and values) a document may expand to, aliases expanded.
pub(crate) const MAX_SCALAR_BYTES: u64 = 64 << 20;

/// A YAML error: where, and what (never an excerpt of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
    /// The problem.
    pub(crate) message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// A position in the text (1-based line and column).
#[derive(Debug, Clone, Copy)]
struct Pos {
    line: usize,
    column: usize,
}

impl Pos {
    fn of(span: &Span) -> Self {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }

    fn error(self, message: impl Into<String>) -> YamlError {
        YamlError {
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }
}

/// What a scalar node is, as PyYAML's resolver (or an explicit tag) decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Timestamp,
    /// `<<`.
    Merge,
    /// `=` (`tag:yaml.org,2002:value`): a string as a key, an error as a value.
    ValueKey,
}

#[derive(Debug)]
enum Body {
    Scalar { text: String, kind: Kind },
    Seq(Vec<Rc<Node>>),
    Map(Vec<(Rc<Node>, Rc<Node>)>),
}

#[derive(Debug)]
struct Node {
    body: Body,
    pos: Pos,
}

/// Size of a node with aliases expanded (an upper bound for merged mappings): values, scalar bytes, depth.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    values: u64,
    bytes: u64,
    depth: usize,
}

impl Size {
    fn add(&mut self, child: Size) {
        self.values = self.values.saturating_add(child.values);
        self.bytes = self.bytes.saturating_add(child.bytes);
        self.depth = self.depth.max(child.depth);
    }
}

/// A collection being composed.
struct Frame {
    is_map: bool,
    anchor: usize,
    pos: Pos,
    children: Vec<Rc<Node>>,
    size: Size,
}

/// Reads YAML text like PyYAML's `safe_load` into a JSON value (`Null` for an empty stream).
pub(crate) fn from_str(text: &str) -> Result<Value, YamlError> {
    check_characters(text)?;
    let root = compose(text)?;
    match root {
        None => Ok(Value::Null),
        Some(node) => construct(&node),
    }
}

/// PyYAML's reader refuses these characters anywhere in the text (`NON_PRINTABLE` in `reader.py`).
fn check_characters(text: &str) -> Result<(), YamlError> {
    let (mut line, mut column) = (1, 1);
    for c in text.chars() {
        let printable = matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !printable {
            return Err(YamlError {
                line,
                column,
                message: format!(
                    "unacceptable character U+{:04X}: special characters are not allowed",
                    c as u32
                ),
            });
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Ok(())
}

/// Events to a node tree: anchors shared, sizes checked, one document.
fn compose(text: &str) -> Result<Option<Rc<Node>>, YamlError> {
    let mut options = Options::default();
    options.emit_anchor_events = true;
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut anchors: HashMap<usize, (Rc<Node>, Size)> = HashMap::new();
    let mut anchor_names: HashSet<String> = HashSet::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(Rc<Node>, Size)> = None;
    let mut documents = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info(),
        })?;
        let pos = Pos::of(&span);
        let done: Option<(Rc<Node>, Size, usize)> = match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(pos.error(
                        "expected a single document in the stream, but found another document",
                    ));
                }
                None
            }
            Event::Anchor(_, name) => {
                if !anchor_names.insert(name.into_owned()) {
                    return Err(pos.error("found a duplicate anchor"));
                }
                None
            }
            Event::Alias(id) => {
                let Some((node, size)) = anchors.get(&id) else {
                    return Err(pos.error("found an alias to an anchor that is not complete yet (recursive structures have no JSON value)"));
                };
                Some((node.clone(), *size, 0))
            }
            Event::Scalar(text, style, anchor, tag) => {
                let kind = scalar_kind(&text, style, tag.as_deref(), pos)?;
                let size = Size {
                    values: 1,
                    bytes: text.len() as u64,
                    depth: 0,
                };
                let node = Node {
                    body: Body::Scalar {
                        text: text.into_owned(),
                        kind,
                    },
                    pos,
                };
                Some((Rc::new(node), size, anchor))
            }
            Event::SequenceStart(_, anchor, tag) => {
                start(&mut stack, false, anchor, tag.as_deref(), pos)?;
                None
            }
            Event::MappingStart(_, anchor, tag) => {
                start(&mut stack, true, anchor, tag.as_deref(), pos)?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    return Err(pos.error("unbalanced collection end"));
                };
                let mut size = frame.size;
                size.values = size.values.saturating_add(1);
                size.depth += 1;
                let body = if frame.is_map {
                    let mut pairs = Vec::with_capacity(frame.children.len() / 2);
                    let mut children = frame.children.into_iter();
                    while let (Some(k), Some(v)) = (children.next(), children.next()) {
                        pairs.push((k, v));
                    }
                    Body::Map(pairs)
                } else {
                    Body::Seq(frame.children)
                };
                Some((
                    Rc::new(Node {
                        body,
                        pos: frame.pos,
                    }),
                    size,
                    frame.anchor,
                ))
            }
            _ => None,
        };
        if let Some((node, size, anchor)) = done {
            if size.depth > MAX_DEPTH {
                return Err(node.pos.error(format!(
                    "nesting deeper than {MAX_DEPTH} (aliases expanded)"
                )));
            }
            if size.values > MAX_VALUES || size.bytes > MAX_SCALAR_BYTES {
                return Err(node.pos.error(format!(
                    "the document expands to more than {MAX_VALUES} values or {} MiB of text (aliases expanded)",
                    MAX_SCALAR_BYTES >> 20
                )));
            }
            if anchor != 0 {
                anchors.insert(anchor, (node.clone(), size));
            }
            match stack.last_mut() {
                Some(parent) => {
                    parent.size.add(size);
                    parent.children.push(node);
                }
                None => root = Some((node, size)),
            }
        }
    }
    Ok(root.map(|(node, _)| node))
}

/// Opens a sequence or mapping: its tag must fit, and the nesting must stay within [`MAX_DEPTH`].
fn start(
    stack: &mut Vec<Frame>,
    is_map: bool,
    anchor: usize,
    tag: Option<&Tag>,
    pos: Pos,
) -> Result<(), YamlError> {
    if let Some(tag) = tag {
        let name = tag_name(tag);
        let fits = match name.as_str() {
            "!" => true,
            "tag:yaml.org,2002:seq" => !is_map,
            "tag:yaml.org,2002:map" => is_map,
            _ => false,
        };
        if !fits {
            return Err(pos.error(if is_map {
                "unsupported tag on a mapping (PyYAML's safe loader gives no JSON value for it)"
            } else {
                "unsupported tag on a sequence (PyYAML's safe loader gives no JSON value for it)"
            }));
        }
    }
    if stack.len() >= MAX_DEPTH {
        return Err(pos.error(format!("nesting deeper than {MAX_DEPTH}")));
    }
    stack.push(Frame {
        is_map,
        anchor,
        pos,
        children: Vec::new(),
        size: Size::default(),
    });
    Ok(())
}

/// The full tag: `tag:yaml.org,2002:str` for `!!str`, `!` for the non-specific tag.
fn tag_name(tag: &Tag) -> String {
    let (handle, suffix) = tag.parts();
    format!("{handle}{suffix}")
}

/// What a scalar is: its explicit tag, or PyYAML's implicit resolution for plain scalars (and for the
/// non-specific tag `!`, as PyYAML does); quoted and block scalars are strings.
fn scalar_kind(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    pos: Pos,
) -> Result<Kind, YamlError> {
    match tag.map(tag_name).as_deref() {
        None if style == ScalarStyle::Plain => Ok(resolve_plain(text)),
        None => Ok(Kind::Str),
        Some("!") => Ok(resolve_plain(text)),
        Some("tag:yaml.org,2002:str") => Ok(Kind::Str),
        Some("tag:yaml.org,2002:int") => Ok(Kind::Int),
        Some("tag:yaml.org,2002:float") => Ok(Kind::Float),
        Some("tag:yaml.org,2002:bool") => Ok(Kind::Bool),
        Some("tag:yaml.org,2002:null") => Ok(Kind::Null),
        Some("tag:yaml.org,2002:timestamp") => Ok(Kind::Timestamp),
        Some("tag:yaml.org,2002:merge") => Ok(Kind::Merge),
        Some("tag:yaml.org,2002:value") => Ok(Kind::ValueKey),
        Some(_) => Err(pos.error(
            "unsupported tag on a scalar (PyYAML's safe loader gives no JSON value for it)",
        )),
    }
}

/// PyYAML's implicit resolvers (`resolver.py`), chosen by the first character in registration order:
/// bool, float, int, merge, null, timestamp, value.
fn resolve_plain(v: &str) -> Kind {
    let Some(&first) = v.as_bytes().first() else {
        return Kind::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' => {
            if is_bool(v) {
                Kind::Bool
            } else if matches!(v, "null" | "Null" | "NULL") {
                Kind::Null
            } else {
                Kind::Str
            }
        }
        b'-' | b'+' | b'0'..=b'9' | b'.' => {
            if is_float(v.as_bytes()) {
                Kind::Float
            } else if first != b'.' && is_int(v.as_bytes()) {
                Kind::Int
            } else if first.is_ascii_digit() && is_timestamp(v.as_bytes()) {
                Kind::Timestamp
            } else {
                Kind::Str
            }
        }
        b'<' if v == "<<" => Kind::Merge,
        b'~' if v == "~" => Kind::Null,
        b'=' if v == "=" => Kind::ValueKey,
        _ => Kind::Str,
    }
}

/// `^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`
fn is_bool(v: &str) -> bool {
    matches!(
        v,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// Index after an optional `[-+]`.
fn skip_sign(s: &[u8], i: usize) -> usize {
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i + 1
    } else {
        i
    }
}

/// Index after `[class]*`.
fn skip_while(s: &[u8], mut i: usize, class: impl Fn(u8) -> bool) -> usize {
    while s.get(i).is_some_and(|&b| class(b)) {
        i += 1;
    }
    i
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// Index after `(?:[eE][-+][0-9]+)?` (the sign is required).
fn skip_exponent(s: &[u8], i: usize) -> usize {
    if matches!(s.get(i), Some(b'e' | b'E')) && matches!(s.get(i + 1), Some(b'-' | b'+')) {
        let end = skip_while(s, i + 2, |b| b.is_ascii_digit());
        if end > i + 2 {
            return end;
        }
    }
    i
}

/// Index after `(?::[0-5]?[0-9])+`, if at least one group is there.
fn skip_base60(s: &[u8], mut i: usize) -> Option<usize> {
    let mut groups = 0;
    while s.get(i) == Some(&b':') {
        // `[0-5]?[0-9]`: two digits when the first is 0-5 and a digit follows, else one digit.
        match (s.get(i + 1), s.get(i + 2)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 3,
            (Some(b'0'..=b'9'), _) => i += 2,
            _ => break,
        }
        groups += 1;
    }
    (groups > 0).then_some(i)
}

/// PyYAML's float resolver:
/// ```text
/// [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
/// |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
/// |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
/// |[-+]?\.(?:inf|Inf|INF)
/// |\.(?:nan|NaN|NAN)
/// ```
fn is_float(s: &[u8]) -> bool {
    let n = s.len();
    // [-+]?[0-9][0-9_]* then `\.[0-9_]*(exp)?` or `(:..)+\.[0-9_]*`
    let a = skip_sign(s, 0);
    if s.get(a).is_some_and(u8::is_ascii_digit) {
        let b = skip_while(s, a + 1, digit_or_underscore);
        if s.get(b) == Some(&b'.') {
            let c = skip_while(s, b + 1, digit_or_underscore);
            if skip_exponent(s, c) == n {
                return true;
            }
        }
        if let Some(c) = skip_base60(s, b)
            && s.get(c) == Some(&b'.')
            && skip_while(s, c + 1, digit_or_underscore) == n
        {
            return true;
        }
    }
    // \.[0-9][0-9_]*(exp)?
    if s.first() == Some(&b'.') && s.get(1).is_some_and(u8::is_ascii_digit) {
        let b = skip_while(s, 2, digit_or_underscore);
        if skip_exponent(s, b) == n {
            return true;
        }
    }
    matches!(&s[a..], b".inf" | b".Inf" | b".INF") || matches!(s, b".nan" | b".NaN" | b".NAN")
}

/// PyYAML's int resolver:
/// ```text
/// [-+]?0b[0-1_]+
/// |[-+]?0[0-7_]+
/// |[-+]?(?:0|[1-9][0-9_]*)
/// |[-+]?0x[0-9a-fA-F_]+
/// |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
/// ```
fn is_int(s: &[u8]) -> bool {
    let n = s.len();
    let a = skip_sign(s, 0);
    let rest = &s[a..];
    let all = |from: usize, class: fn(u8) -> bool| from < n && skip_while(s, from, class) == n;
    match rest {
        [b'0', b'b', ..] => all(a + 2, |b| matches!(b, b'0' | b'1' | b'_')),
        [b'0', b'x', ..] => all(a + 2, |b| b.is_ascii_hexdigit() || b == b'_'),
        [b'0'] => true,
        [b'0', ..] => all(a + 1, |b| matches!(b, b'0'..=b'7' | b'_')),
        [b'1'..=b'9', ..] => {
            let b = skip_while(s, a + 1, digit_or_underscore);
            b == n || skip_base60(s, b) == Some(n)
        }
        _ => false,
    }
}

/// PyYAML's timestamp resolver:
/// ```text
/// [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
/// |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
///  (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
///  (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?
/// ```
fn is_timestamp(s: &[u8]) -> bool {
    if s.len() == 10 && parse_timestamp(s).is_some_and(|t| t.time.is_none()) {
        // The date-only form needs two-digit month and day.
        return s[4] == b'-' && s[7] == b'-';
    }
    parse_timestamp(s).is_some_and(|t| t.time.is_some())
}

/// The parts of a timestamp (PyYAML's constructor regex, which also accepts a date with one-digit month
/// or day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    time: Option<Time>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Time {
    hour: u32,
    minute: u32,
    second: u32,
    /// Microseconds (the first 6 digits of the fraction).
    micros: u32,
    /// Offset in minutes: `None` for a naive time.
    offset: Option<i32>,
}

/// Reads 1..=max digits at `*i`.
fn digits(s: &[u8], i: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut value = 0u32;
    while *i - start < max && s.get(*i).is_some_and(u8::is_ascii_digit) {
        value = value * 10 + u32::from(s[*i] - b'0');
        *i += 1;
    }
    (*i - start >= min).then_some(value)
}

fn parse_timestamp(s: &[u8]) -> Option<Timestamp> {
    let mut i = 0;
    let year = digits(s, &mut i, 4, 4)?;
    (s.get(i) == Some(&b'-')).then_some(())?;
    i += 1;
    let month = digits(s, &mut i, 1, 2)?;
    (s.get(i) == Some(&b'-')).then_some(())?;
    i += 1;
    let day = digits(s, &mut i, 1, 2)?;
    if i == s.len() {
        return Some(Timestamp {
            year,
            month,
            day,
            time: None,
        });
    }
    match s.get(i) {
        Some(b'T' | b't') => i += 1,
        Some(b' ' | b'\t') => i = skip_while(s, i, |b| b == b' ' || b == b'\t'),
        _ => return None,
    }
    let hour = digits(s, &mut i, 1, 2)?;
    (s.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let minute = digits(s, &mut i, 2, 2)?;
    (s.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let second = digits(s, &mut i, 2, 2)?;
    let mut micros = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        i = skip_while(s, i, |b| b.is_ascii_digit());
        let mut fraction: Vec<u8> = s[start..i].iter().copied().take(6).collect();
        fraction.resize(6, b'0');
        micros = fraction
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
    }
    let mut offset = None;
    if i < s.len() {
        i = skip_while(s, i, |b| b == b' ' || b == b'\t');
        match s.get(i) {
            Some(b'Z') => {
                i += 1;
                offset = Some(0);
            }
            Some(&sign @ (b'-' | b'+')) => {
                i += 1;
                let hours = digits(s, &mut i, 1, 2)?;
                let mut minutes = 0;
                if s.get(i) == Some(&b':') {
                    i += 1;
                    minutes = digits(s, &mut i, 2, 2)?;
                }
                let total = (hours * 60 + minutes) as i32;
                offset = Some(if sign == b'-' { -total } else { total });
            }
            _ => return None,
        }
    }
    (i == s.len()).then_some(Timestamp {
        year,
        month,
        day,
        time: Some(Time {
            hour,
            minute,
            second,
            micros,
            offset,
        }),
    })
}

/// Python's `str()` of the `datetime.date` / `datetime.datetime` PyYAML builds, or `None` where Python's
/// `datetime` refuses the values (PyYAML then fails too).
fn timestamp_str(t: &Timestamp) -> Option<String> {
    let leap =
        (t.year.is_multiple_of(4) && !t.year.is_multiple_of(100)) || t.year.is_multiple_of(400);
    let days = match t.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if t.year == 0 || t.day == 0 || t.day > days {
        return None;
    }
    let mut out = format!("{:04}-{:02}-{:02}", t.year, t.month, t.day);
    let Some(time) = t.time else {
        return Some(out);
    };
    if time.hour > 23 || time.minute > 59 || time.second > 59 {
        return None;
    }
    out.push_str(&format!(
        " {:02}:{:02}:{:02}",
        time.hour, time.minute, time.second
    ));
    if time.micros != 0 {
        out.push_str(&format!(".{:06}", time.micros));
    }
    if let Some(offset) = time.offset {
        // datetime.timezone needs |offset| < 24 h; str() writes it as +HH:MM.
        if offset.abs() >= 24 * 60 {
            return None;
        }
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.abs();
        out.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
    }
    Some(out)
}

/// PyYAML's `construct_yaml_int`: `_` dropped, sign, `0b` / `0x` / leading `0` (octal) / base 60 /
/// decimal. Beyond `i64`/`u64` the value is a float, as in the JSON loader. `None` if it is no integer
/// (an explicitly tagged scalar).
fn construct_int(text: &str) -> Option<Number> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let (digits_of, radix): (Vec<&str>, u32) = if body == "0" {
        (vec!["0"], 10)
    } else if let Some(bin) = body.strip_prefix("0b") {
        (vec![bin], 2)
    } else if let Some(hex) = body.strip_prefix("0x") {
        (vec![hex], 16)
    } else if body.starts_with('0') {
        (vec![body], 8)
    } else if body.contains(':') {
        (body.split(':').collect(), 60)
    } else {
        (vec![body], 10)
    };
    // Exact while it fits in u128, then a float.
    let mut exact: Option<u128> = Some(0);
    let mut approx = 0f64;
    if radix == 60 {
        for part in &digits_of {
            let d = parse_radix(part, 10)?;
            exact = exact.and_then(|v| v.checked_mul(60)?.checked_add(d.0?));
            approx = approx * 60.0 + d.1;
        }
    } else {
        let d = parse_radix(digits_of[0], radix)?;
        exact = d.0;
        approx = d.1;
    }
    match exact {
        Some(v) if negative => match i64::try_from(v) {
            Ok(i) => Some(Number::from(-i)),
            Err(_) if v == 1u128 << 63 => Some(Number::from(i64::MIN)),
            Err(_) => Number::from_f64(-(v as f64)),
        },
        Some(v) => match u64::try_from(v) {
            Ok(u) => Some(Number::from(u)),
            Err(_) => Number::from_f64(v as f64),
        },
        None => Number::from_f64(if negative { -approx } else { approx }),
    }
}

/// Digits in `radix` (at least one; Python's `int(s, radix)` of ASCII digits): exact value if it fits,
/// and an approximation.
fn parse_radix(s: &str, radix: u32) -> Option<(Option<u128>, f64)> {
    if s.is_empty() {
        return None;
    }
    let mut exact = Some(0u128);
    let mut approx = 0f64;
    for c in s.chars() {
        let d = c.to_digit(radix)?;
        exact = exact.and_then(|v| v.checked_mul(u128::from(radix))?.checked_add(u128::from(d)));
        approx = approx * f64::from(radix) + f64::from(d);
    }
    Some((exact, approx))
}

/// PyYAML's `construct_yaml_float`: `_` dropped, lower-cased, sign, `.inf` / `.nan`, base 60, else
/// Python's `float()`. `None` if it is no float.
fn construct_float(text: &str) -> Option<f64> {
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, &cleaned[1..]),
        Some(b'+') => (1.0, &cleaned[1..]),
        _ => (1.0, cleaned.as_str()),
    };
    if body == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if body == ".nan" {
        return Some(f64::NAN);
    }
    if body.contains(':') {
        // Python: digits reversed, value += digit * base, base *= 60 (same order, same rounding).
        let mut parts = Vec::new();
        for part in body.split(':') {
            parts.push(python_float(part)?);
        }
        let (mut value, mut base) = (0f64, 1f64);
        for digit in parts.into_iter().rev() {
            value += digit * base;
            base *= 60.0;
        }
        return Some(sign * value);
    }
    Some(sign * python_float(body)?)
}

/// Python's `float()` of an ASCII decimal (digits, one dot, an exponent); words like `inf` are refused.
fn python_float(s: &str) -> Option<f64> {
    let ok = !s.is_empty()
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Builds the value of a node (sizes were checked while composing).
fn construct(node: &Node) -> Result<Value, YamlError> {
    match &node.body {
        Body::Scalar { text, kind } => scalar_value(text, *kind, node.pos),
        Body::Seq(items) => items
            .iter()
            .map(|item| construct(item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Body::Map(pairs) => {
            let mut flat = Vec::with_capacity(pairs.len());
            flatten(pairs, &mut flat)?;
            let mut map = Map::with_capacity(flat.len());
            for (key, value) in flat {
                let key = key_string(&key)?;
                let value = construct(&value)?;
                // First position, last value (a Python dict).
                map.insert(key, value);
            }
            Ok(Value::Object(map))
        }
    }
}

/// PyYAML's `flatten_mapping`: the pairs of `<<` merges (a mapping, or a list of mappings of which the
/// earlier win), then the mapping's own pairs.
fn flatten(
    pairs: &[(Rc<Node>, Rc<Node>)],
    out: &mut Vec<(Rc<Node>, Rc<Node>)>,
) -> Result<(), YamlError> {
    let mut merged = Vec::new();
    let mut own = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let is_merge = matches!(
            key.body,
            Body::Scalar {
                kind: Kind::Merge,
                ..
            }
        );
        if !is_merge {
            own.push((key.clone(), value.clone()));
            continue;
        }
        match &value.body {
            Body::Map(sub) => flatten(sub, &mut merged)?,
            Body::Seq(items) => {
                let mut subs = Vec::with_capacity(items.len());
                for item in items {
                    let Body::Map(sub) = &item.body else {
                        return Err(item.pos.error(
                            "while constructing a mapping: expected a mapping for merging",
                        ));
                    };
                    let mut flat = Vec::new();
                    flatten(sub, &mut flat)?;
                    subs.push(flat);
                }
                for sub in subs.into_iter().rev() {
                    merged.extend(sub);
                }
            }
            Body::Scalar { .. } => {
                return Err(value.pos.error(
                    "while constructing a mapping: expected a mapping or list of mappings for merging",
                ));
            }
        }
    }
    out.extend(merged);
    out.extend(own);
    Ok(())
}

/// A mapping key as a JSON key: a string as is, another scalar as Python's `str()` of it.
fn key_string(key: &Node) -> Result<String, YamlError> {
    let Body::Scalar { text, kind } = &key.body else {
        return Err(key
            .pos
            .error("a sequence or mapping as a mapping key (unhashable to PyYAML, no JSON key)"));
    };
    Ok(match kind {
        Kind::Str | Kind::ValueKey => text.clone(),
        Kind::Float => {
            let f = construct_float(text).ok_or_else(|| key.pos.error("invalid float"))?;
            let mut out = String::new();
            py_float(f, &mut out);
            out
        }
        _ => match scalar_value(text, *kind, key.pos)? {
            Value::Null => "None".to_string(),
            Value::Bool(true) => "True".to_string(),
            Value::Bool(false) => "False".to_string(),
            Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
                Some(f) => {
                    let mut out = String::new();
                    py_float(f, &mut out);
                    out
                }
                None => n.to_string(),
            },
            other => other.to_string(),
        },
    })
}

/// The value of a scalar of the given kind.
fn scalar_value(text: &str, kind: Kind, pos: Pos) -> Result<Value, YamlError> {
    match kind {
        Kind::Str => Ok(Value::String(text.to_string())),
        Kind::Null => Ok(Value::Null),
        Kind::Bool => match text.to_lowercase().as_str() {
            "yes" | "true" | "on" => Ok(Value::Bool(true)),
            "no" | "false" | "off" => Ok(Value::Bool(false)),
            _ => Err(pos.error("invalid boolean")),
        },
        Kind::Int => construct_int(text)
            .map(Value::Number)
            .ok_or_else(|| pos.error("invalid integer")),
        Kind::Float => {
            let f = construct_float(text).ok_or_else(|| pos.error("invalid float"))?;
            Number::from_f64(f).map(Value::Number).ok_or_else(|| {
                pos.error("an infinite or NaN float (.inf, .nan, or too large) has no JSON value")
            })
        }
        Kind::Timestamp => parse_timestamp(text.as_bytes())
            .and_then(|t| timestamp_str(&t))
            .map(Value::String)
            .ok_or_else(|| pos.error("invalid date or timestamp")),
        Kind::Merge => Err(pos.error("a merge key `<<` is not a value")),
        Kind::ValueKey => Err(pos.error(
            "a plain `=` is a value key (tag:yaml.org,2002:value), which PyYAML's safe loader cannot construct",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The value of `v: <scalar>`.
    fn v(scalar: &str) -> Value {
        let doc = from_str(&format!("v: {scalar}\n")).unwrap_or_else(|e| panic!("{scalar}: {e}"));
        doc["v"].clone()
    }

    fn err(text: &str) -> YamlError {
        from_str(text).expect_err(text)
    }

    #[test]
    fn booleans_are_yaml_1_1_but_not_y_or_n() {
        for t in [
            "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(v(t), json!(true), "{t}");
        }
        for f in [
            "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(v(f), json!(false), "{f}");
        }
        for s in ["y", "Y", "n", "N", "yEs", "oN", "tRUE"] {
            assert_eq!(v(s), json!(s), "{s}");
        }
    }

    #[test]
    fn integers_octal_hex_binary_base60_underscores() {
        let cases = [
            ("017", json!(15)),
            ("-017", json!(-15)),
            ("0x1F", json!(31)),
            ("0b101", json!(5)),
            ("1_000", json!(1000)),
            ("+7", json!(7)),
            ("0", json!(0)),
            ("-0", json!(0)),
            ("1:30", json!(90)),
            ("1__:3", json!(63)),
            ("-1:30:00", json!(-5400)),
            ("18446744073709551615", json!(u64::MAX)),
            ("-9223372036854775808", json!(i64::MIN)),
        ];
        for (text, want) in cases {
            assert_eq!(v(text), want, "{text}");
        }
        // Not integers to PyYAML: strings.
        for s in ["0o17", "08", "0x", "0b", "1:60", "0:30", "1:30:x"] {
            assert_eq!(v(s), json!(s), "{s}");
        }
        // Beyond u64: a float, as serde_json reads such JSON.
        assert_eq!(v("18446744073709551616"), json!(18446744073709551616.0));
    }

    #[test]
    fn floats_need_a_dot_and_a_signed_exponent() {
        let cases = [
            ("1.0e+5", 100000.0),
            ("1.0e-5", 1e-5),
            ("6.02e+23", 6.02e23),
            (".5", 0.5),
            ("1.", 1.0),
            ("1_0.25", 10.25),
            ("-0.0", -0.0),
            ("1:30.5", 90.5),
            ("-1:30.5", -90.5),
            (".5e+1", 5.0),
        ];
        for (text, want) in cases {
            let got = v(text).as_f64().unwrap_or_else(|| panic!("{text}"));
            assert_eq!(got.to_bits(), f64::to_bits(want), "{text}");
        }
        // Strings to PyYAML: no dot, unsigned exponent, sign before a bare `.5`.
        for s in [
            "1e5", "1E5", "1e-05", "1.0e5", "-.5", "+.5", "1e16", ".", "._5",
        ] {
            assert_eq!(v(s), json!(s), "{s}");
        }
    }

    #[test]
    fn inf_nan_and_overflowing_floats_are_refused_with_the_position() {
        for text in [".inf", "-.Inf", "+.INF", ".NaN", ".nan", "1.0e+999"] {
            let e = err(&format!("a: 1\nv: {text}\n"));
            assert_eq!((e.line, e.column), (2, 4), "{text}: {e}");
            assert!(e.message.contains("no JSON value"), "{e}");
        }
        // Not floats to PyYAML (no sign before `.nan`, no `.` in `inf`): strings.
        assert_eq!(v("-.nan"), json!("-.nan"));
        assert_eq!(v("inf"), json!("inf"));
    }

    #[test]
    fn nulls() {
        for text in ["~", "null", "Null", "NULL", ""] {
            assert_eq!(v(text), Value::Null, "{text:?}");
        }
        assert_eq!(v("nULL"), json!("nULL"));
        assert_eq!(from_str("").unwrap(), Value::Null);
        assert_eq!(from_str("# only a comment\n").unwrap(), Value::Null);
        assert_eq!(from_str("- \n-").unwrap(), json!([null, null]));
    }

    #[test]
    fn quoted_and_block_scalars_stay_strings() {
        for (text, want) in [
            ("\"10\"", "10"),
            ("'yes'", "yes"),
            ("\"1.0e-5\"", "1.0e-5"),
            ("'null'", "null"),
            ("''", ""),
            ("\"~\"", "~"),
            ("'2024-01-31'", "2024-01-31"),
            ("\"<<\"", "<<"),
            ("|\n  017\n", "017\n"),
            (">-\n  true\n", "true"),
        ] {
            assert_eq!(v(text), json!(want), "{text}");
        }
    }

    #[test]
    fn explicit_tags_are_honoured_and_unknown_tags_refused() {
        assert_eq!(v("!!str 017"), json!("017"));
        assert_eq!(v("!!str yes"), json!("yes"));
        assert_eq!(v("!!int \"017\""), json!(15));
        assert_eq!(v("!!float '1'"), json!(1.0));
        assert_eq!(v("!!bool 'yEs'"), json!(true));
        assert_eq!(v("!!null 'anything'"), Value::Null);
        assert_eq!(v("!!timestamp '2024-1-5'"), json!("2024-01-05"));
        assert_eq!(v("!!seq [1]"), json!([1]));
        assert_eq!(v("!!map {a: 1}"), json!({"a": 1}));
        // PyYAML resolves a scalar with the non-specific tag `!` like a plain one.
        assert_eq!(v("! 5"), json!(5));
        for bad in [
            "!!int abc",
            "!!bool maybe",
            "!custom x",
            "!!binary aGk=",
            "!!set {a}",
            "!!omap [a: 1]",
            "!!str [1]",
            "!!map [1]",
        ] {
            let e = err(&format!("v: {bad}\n"));
            assert_eq!(e.line, 1, "{bad}: {e}");
        }
    }

    #[test]
    fn dates_and_timestamps_are_python_str_of_them() {
        let cases = [
            ("2024-01-31", "2024-01-31"),
            ("2024-01-31 10:20:30", "2024-01-31 10:20:30"),
            ("2024-01-31T10:20:30.5Z", "2024-01-31 10:20:30.500000+00:00"),
            (
                "2024-01-31t10:20:30.1234567 -05:30",
                "2024-01-31 10:20:30.123456-05:30",
            ),
            ("2024-1-3 1:02:03 +1", "2024-01-03 01:02:03+01:00"),
            ("2024-02-29", "2024-02-29"),
        ];
        for (text, want) in cases {
            assert_eq!(v(text), json!(want), "{text}");
        }
        // Not timestamps to PyYAML (one-digit month without a time, missing seconds): strings.
        for s in ["2024-1-31", "2024-01-31 10:20", "2024-01-31 "] {
            assert_eq!(v(&format!("'{s}'")), json!(s));
        }
        assert_eq!(v("2024-1-31"), json!("2024-1-31"));
        assert_eq!(v("2024-01-31 10:20"), json!("2024-01-31 10:20"));
        // Python's datetime refuses these, so PyYAML fails: so do we.
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-31 24:00:00",
            "0000-01-01",
        ] {
            assert!(from_str(&format!("v: {bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_keys_go_first_like_pyyaml() {
        let doc = from_str(
            "base: &b {model: m, rpm: 10}\nother: &o {rpm: 20, tpm: 5, extra: 1}\n\
             one: {tpm: 1000, <<: *b}\n\
             many: {<<: [*b, *o], tpm: 7}\n\
             own_wins: {rpm: 1, <<: *b}\n",
        )
        .unwrap();
        let keys = |k: &str| {
            doc[k]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("one"), ["model", "rpm", "tpm"]);
        assert_eq!(doc["one"], json!({"model": "m", "rpm": 10, "tpm": 1000}));
        // [*b, *o]: the later mapping's keys come first, the earlier mapping's values win, own keys last.
        assert_eq!(keys("many"), ["rpm", "tpm", "extra", "model"]);
        assert_eq!(
            doc["many"],
            json!({"rpm": 10, "tpm": 7, "extra": 1, "model": "m"})
        );
        assert_eq!(keys("own_wins"), ["model", "rpm"]);
        assert_eq!(doc["own_wins"]["rpm"], json!(1));
        // A quoted `<<` is an ordinary key; merging a scalar is an error.
        assert_eq!(from_str("'<<': 1").unwrap(), json!({"<<": 1}));
        let e = err("a: 1\nb: {<<: 5}\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(from_str("a: {<<: [1]}").is_err());
    }

    #[test]
    fn duplicate_keys_keep_the_first_position_and_the_last_value() {
        let doc = from_str("model: m\nrpm: 1\ntpm: 5\nrpm: 2\n").unwrap();
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["model", "rpm", "tpm"]);
        assert_eq!(doc["rpm"], json!(2));
    }

    #[test]
    fn non_string_keys_are_python_str_and_collection_keys_refused() {
        let doc = from_str("{yes: 1, 017: 2, 1.5: 3, ~: 4, =: 5}").unwrap();
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["True", "15", "1.5", "None", "="]);
        assert!(from_str("? [1]\n: 2\n").is_err());
        assert!(from_str("v: =\n").is_err());
    }

    #[test]
    fn aliases_expand_and_recursion_is_refused() {
        let doc = from_str("a: &x [1, {b: 2}]\nc: *x\n").unwrap();
        assert_eq!(doc["c"], json!([1, {"b": 2}]));
        assert_eq!(doc["a"], doc["c"]);
        assert!(from_str("a: &x [1, *x]\n").is_err());
        assert!(from_str("a: *nope\n").is_err());
        // PyYAML refuses a second anchor of the same name.
        assert!(from_str("a: &x 1\nb: &x 2\nc: *x\n").is_err());
    }

    #[test]
    fn alias_bombs_are_refused_before_expanding() {
        let mut text = String::from("l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
        for i in 1..=9 {
            let refs = vec![format!("*l{}", i - 1); 10].join(", ");
            text.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let e = err(&text);
        assert!(e.message.contains("expands to more than"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // Deep nesting, directly or through aliases.
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(err(&deep).message.contains("nesting"));
        let mut chain = String::from("a0: &a0 [1]\n");
        for i in 1..=MAX_DEPTH {
            chain.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        assert!(err(&chain).message.contains("nesting"));
    }

    #[test]
    fn one_document_only_and_errors_have_positions_without_text() {
        let e = err("a: 1\n---\nb: 2\n");
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(from_str("--- \na: 1\n...\n").unwrap(), json!({"a": 1}));
        let e = err("a: {b: sk-secret-value\n");
        assert!(!e.to_string().contains("sk-secret"), "{e}");
        assert!(e.to_string().starts_with("line "), "{e}");
        let e = err("a: 1\nb: x\u{7}y\n");
        assert_eq!((e.line, e.column), (2, 5), "{e}");
    }
}
