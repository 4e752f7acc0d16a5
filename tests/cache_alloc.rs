//! A memory hit of the ModelCache allocates nothing: counted by a global allocator wrapper (this test crate's
//! only `unsafe`: the `GlobalAlloc` impl, which forwards to the system allocator).
#![allow(unsafe_code)]

mod cache_util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use cache_util::{HttpList, client, serve};
use futures_util::FutureExt;
use modelroute::{ListSource, ModelCache, ModelCacheOptions};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`; the counter is a const-initialized thread-local
// `Cell`, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_on_this_thread() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn a_memory_hit_allocates_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let ids: Vec<String> = (0..2_000).map(|i| format!("model-{i}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let (cache, provider, client, _server) = runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        serve(&server, &id_refs, std::time::Duration::ZERO).await;
        let cache = ModelCache::new(ModelCacheOptions::new());
        let provider = HttpList::new(&server.uri(), Some("sk-a"));
        let client = client();
        let first = cache.get(&provider, &client).await.unwrap();
        assert_eq!(first.len(), 2_000);
        (cache, provider, client, server)
    });

    // Warm up thread-locals and lazily initialized statics on this thread.
    let warm = cache
        .get(&provider, &client)
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!(warm.source(), ListSource::Memory);
    drop(warm);

    let before = allocations_on_this_thread();
    let mut hits = Vec::with_capacity(1_000);
    let reserved = allocations_on_this_thread();
    for _ in 0..1_000 {
        // A hit completes on its first poll, without a runtime.
        let list = cache
            .get(&provider, &client)
            .now_or_never()
            .unwrap()
            .unwrap();
        hits.push(list);
    }
    let after = allocations_on_this_thread();
    assert_eq!(reserved - before, 1, "the Vec of results itself");
    assert_eq!(
        after - reserved,
        0,
        "1,000 memory hits of a 2,000-model list must allocate nothing"
    );
    assert!(hits.iter().all(|l| l.source() == ListSource::Memory));
    assert!(
        hits.iter()
            .all(|l| Arc::ptr_eq(l.models(), hits[0].models()))
    );
}
