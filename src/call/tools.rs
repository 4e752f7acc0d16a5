//! [`ToolCallAssembler`]: streamed tool-call deltas joined into whole calls.
//!
//! A streamed answer sends a tool call in pieces: the first delta of a call carries its `index`, `id`, `type`
//! and `function.name`, the next ones more of `function.arguments`:
//!
//! ```text
//! data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}
//! data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}
//! data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}
//! ```
//!
//! The stream passes these deltas through untouched (a gateway forwards them as they come); the assembler is
//! for a caller that wants the calls themselves. It is bounded: at most [`ToolCallAssembler::MAX_CALLS`] calls
//! and `max_bytes` of names and arguments in all.

use serde::Deserialize;

use super::StreamEvent;

/// One tool call, assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolCall {
    /// The choice it belongs to (`choices[].index`).
    pub choice: u32,
    /// Its position among the choice's tool calls (`tool_calls[].index`).
    pub index: u32,
    /// `id`.
    pub id: Option<String>,
    /// `type` (`function`).
    pub kind: Option<String>,
    /// `function.name`.
    pub name: String,
    /// `function.arguments`: JSON text, joined from the deltas.
    pub arguments: String,
}

impl ToolCall {
    /// The arguments parsed as JSON.
    pub fn arguments_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.arguments)
    }
}

/// Why a delta could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolCallError {
    /// The event is not a JSON chunk.
    #[error("not a chat completion chunk: {reason}")]
    Malformed {
        /// The parser's message.
        reason: String,
    },
    /// More calls, or more bytes of names and arguments, than the assembler's bounds.
    #[error("tool calls exceed the limit of {limit}")]
    TooLarge {
        /// The limit that was exceeded (calls, or bytes).
        limit: usize,
    },
}

/// Joins streamed tool-call deltas into whole [`ToolCall`]s.
///
/// ```
/// use modelroute::call::ToolCallAssembler;
/// let mut tools = ToolCallAssembler::new();
/// for data in [
///     r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"#,
///     r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"#,
///     r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}"#,
/// ] {
///     tools.push_data(data)?;
/// }
/// let calls = tools.finish();
/// assert_eq!(calls[0].name, "get_weather");
/// assert_eq!(calls[0].arguments_json()?, serde_json::json!({"city": "Paris"}));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ToolCallAssembler {
    calls: Vec<ToolCall>,
    bytes: usize,
    max_bytes: usize,
}

impl Default for ToolCallAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl ToolCallAssembler {
    /// The most calls assembled.
    pub const MAX_CALLS: usize = 1024;
    /// The default bound on names and arguments, in bytes: 16 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

    /// An empty assembler.
    pub fn new() -> Self {
        ToolCallAssembler {
            calls: Vec::new(),
            bytes: 0,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }

    /// With another bound on names and arguments, in bytes.
    pub fn with_max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Adds the tool-call deltas of one event (events without any are fine).
    pub fn push(&mut self, event: &StreamEvent) -> Result<(), ToolCallError> {
        self.push_data(event.data())
    }

    /// Adds the tool-call deltas of one chunk's JSON text.
    pub fn push_data(&mut self, data: &str) -> Result<(), ToolCallError> {
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| ToolCallError::Malformed {
            reason: e.to_string(),
        })?;
        for choice in chunk.choices {
            let Some(deltas) = choice.delta.and_then(|d| d.tool_calls) else {
                continue;
            };
            for (position, delta) in deltas.into_iter().enumerate() {
                let index = delta
                    .index
                    .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
                self.add(choice.index, index, delta)?;
            }
        }
        Ok(())
    }

    fn add(&mut self, choice: u32, index: u32, delta: ToolCallDelta) -> Result<(), ToolCallError> {
        let (name, arguments) = delta
            .function
            .map(|f| (f.name, f.arguments))
            .unwrap_or_default();
        let added =
            name.as_ref().map_or(0, String::len) + arguments.as_ref().map_or(0, String::len);
        if self.bytes + added > self.max_bytes {
            return Err(ToolCallError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.bytes += added;
        let pos = match self
            .calls
            .iter()
            .position(|c| c.choice == choice && c.index == index)
        {
            Some(pos) => pos,
            None => {
                if self.calls.len() == Self::MAX_CALLS {
                    return Err(ToolCallError::TooLarge {
                        limit: Self::MAX_CALLS,
                    });
                }
                self.calls.push(ToolCall {
                    choice,
                    index,
                    id: None,
                    kind: None,
                    name: String::new(),
                    arguments: String::new(),
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[pos];
        if delta.id.is_some() {
            call.id = delta.id;
        }
        if delta.kind.is_some() {
            call.kind = delta.kind;
        }
        if let Some(name) = name {
            call.name.push_str(&name);
        }
        if let Some(arguments) = arguments {
            call.arguments.push_str(&arguments);
        }
        Ok(())
    }

    /// The calls so far, by choice then index.
    pub fn calls(&self) -> &[ToolCall] {
        &self.calls
    }

    /// The calls, by choice then index.
    pub fn finish(mut self) -> Vec<ToolCall> {
        self.calls.sort_by_key(|c| (c.choice, c.index));
        self.calls
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChoiceDelta>,
}

#[derive(Deserialize)]
struct ChoiceDelta {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_calls_of_several_choices_are_kept_apart_and_sorted() {
        let mut a = ToolCallAssembler::new();
        a.push_data(r#"{"choices":[{"index":1,"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"f2","arguments":"{}"}}]}}]}"#).unwrap();
        a.push_data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f1","arguments":"{\"x\""}},{"id":"c","function":{"name":"f3"}}]}}]}"#).unwrap();
        a.push_data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}"#).unwrap();
        a.push_data(r#"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#)
            .unwrap();
        a.push_data(r#"{"choices":[],"usage":{"prompt_tokens":1}}"#)
            .unwrap();
        let calls = a.finish();
        let view: Vec<_> = calls
            .iter()
            .map(|c| {
                (
                    c.choice,
                    c.index,
                    c.id.as_deref(),
                    c.name.as_str(),
                    c.arguments.as_str(),
                )
            })
            .collect();
        assert_eq!(
            view,
            [
                (0, 0, Some("a"), "f1", "{\"x\":1}"),
                (0, 1, Some("c"), "f3", ""),
                (1, 1, Some("b"), "f2", "{}")
            ]
        );
    }

    #[test]
    fn hostile_deltas_hit_the_bounds_instead_of_memory() {
        let mut a = ToolCallAssembler::new().with_max_bytes(10);
        let err = a
            .push_data(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"12345678901"}}]}}]}"#)
            .unwrap_err();
        assert_eq!(err, ToolCallError::TooLarge { limit: 10 });
        let mut a = ToolCallAssembler::new();
        let many: Vec<String> = (0..=ToolCallAssembler::MAX_CALLS)
            .map(|i| format!(r#"{{"index":{i}}}"#))
            .collect();
        let data = format!(
            r#"{{"choices":[{{"delta":{{"tool_calls":[{}]}}}}]}}"#,
            many.join(",")
        );
        assert!(matches!(
            a.push_data(&data),
            Err(ToolCallError::TooLarge { .. })
        ));
        assert!(a.push_data("not json").is_err());
    }
}
