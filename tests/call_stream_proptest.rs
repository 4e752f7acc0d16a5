//! Property test: whatever the events, line endings, comments and size limit, a stream body parses to exactly
//! the events written (a plain list, the reference model), ends at `[DONE]`, and an event over the limit (give
//! or take one parsing piece, an eighth of it) is an error, never a truncated or merged event.
#![cfg(feature = "openai")]

use futures_util::{FutureExt, StreamExt};
use modelroute::call::ChatStream;
use proptest::prelude::*;

fn event() -> impl Strategy<Value = String> {
    // A JSON chunk with arbitrary content (escaped by serde_json, so it stays on one line).
    ".{0,300}".prop_map(|content| {
        serde_json::json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}}]})
            .to_string()
    })
}

/// Reads a whole in-memory stream: the events' data, and the error that ended it, if any.
fn read(body: Vec<u8>, limit: usize) -> (Vec<String>, Option<modelroute::CallError>, bool) {
    let mut s = ChatStream::from_body(body, limit);
    let mut out = Vec::new();
    loop {
        match s
            .next()
            .now_or_never()
            .expect("in-memory streams are never pending")
        {
            Some(Ok(e)) => out.push(e.into_data()),
            Some(Err(e)) => return (out, Some(e), s.is_done()),
            None => return (out, None, s.is_done()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_stream_body_parses_to_the_events_written(
        events in proptest::collection::vec(event(), 0..40),
        crlf in proptest::collection::vec(any::<bool>(), 40),
        comments in proptest::collection::vec(any::<bool>(), 40),
        limit in 1usize..4096,
    ) {
        let mut body = String::new();
        // The bytes of each event's block (its comment included): what the parser must take in for it.
        let mut blocks = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let nl = if crlf[i] { "\r\n" } else { "\n" };
            let mut block = String::new();
            if comments[i] {
                block.push_str(&format!(": keep-alive{nl}{nl}"));
            }
            block.push_str(&format!("data: {e}{nl}{nl}"));
            blocks.push(block.len());
            body.push_str(&block);
        }
        body.push_str("data: [DONE]\n\n");
        let (got, err, done) = read(body.into_bytes(), limit);
        // Reference: the body is parsed in pieces of limit/8 bytes, and the count restarts at each event
        // (the piece that ends one event may already hold the start of the next): an event whose block fits
        // in the limit with one piece to spare always passes, one whose block exceeds the limit by more than a
        // piece never does, and nothing is ever cut or merged: what comes out is a prefix of what went in.
        let piece = (limit / 8).clamp(1, 64 * 1024);
        let passes = |i: usize| blocks[i] + piece <= limit;
        let fails = |i: usize| blocks[i] > limit + piece;
        prop_assert_eq!(&got[..], &events[..got.len()]);
        let first_unsure = (0..events.len()).find(|&i| !passes(i)).unwrap_or(events.len());
        prop_assert!(got.len() >= first_unsure, "{} events out, {} always pass", got.len(), first_unsure);
        match &err {
            None => {
                prop_assert_eq!(&got, &events);
                prop_assert!(done);
                prop_assert!((0..events.len()).all(|i| !fails(i)));
            }
            Some(e) => {
                prop_assert!(e.is_too_large(), "{}", e);
                prop_assert!(first_unsure < events.len());
            }
        }
        if let Some(big) = (0..events.len()).find(|&i| fails(i)) {
            prop_assert!(err.is_some() && got.len() <= big);
        }
    }
}
