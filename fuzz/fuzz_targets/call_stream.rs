//! A streamed chat completion body from a hostile server: the SSE parsing, the chunk peek (errors, usage),
//! `[DONE]`, the per-event bound, and the tool-call assembler over whatever events come out. Never panics,
//! never holds more than the bound per event, and every stream ends.
#![no_main]

use futures_util::{FutureExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use modelroute::call::{ChatStream, ToolCallAssembler};

fuzz_target!(|data: &[u8]| {
    let limit = 4096;
    let mut stream = ChatStream::from_body(data.to_vec(), limit);
    let mut tools = ToolCallAssembler::new().with_max_bytes(1 << 16);
    // Every item of an in-memory body is ready at once; the stream ends after at most one item per block.
    for _ in 0..=data.len() + 1 {
        match stream.next().now_or_never().expect("an in-memory body is never pending") {
            Some(Ok(event)) => {
                // The bound holds give or take one parsing piece (an eighth of the limit).
                assert!(event.data().len() <= limit + (limit / 8).max(1));
                let _ = tools.push(&event);
            }
            Some(Err(err)) => {
                let _ = (err.to_string(), err.is_before_first_event(), err.status());
            }
            None => return,
        }
    }
    panic!("the stream did not end");
});
