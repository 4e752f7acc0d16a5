//! A read-mostly lock whose readers do not contend: the routing state lives behind one `RwLock` per shard
//! (each on its own cache line), every shard holding the same `Arc`. A reader locks only its thread's
//! shard; a writer locks every shard, so no reader anywhere sees the state while it changes: readers see
//! the old state or the new one, never a mix. Writers are serialized by a mutex, so a writer may compute
//! under a read lock and then write, knowing nothing changed in between.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// One shard, alone on its cache line.
#[repr(align(128))]
struct Padded<T>(T);

type Slot<T> = RwLock<Option<Arc<T>>>;

pub(crate) struct Sharded<T> {
    shards: Box<[Padded<Slot<T>>]>,
    writer: Mutex<()>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Sharded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Sharded").field(&*self.read()).finish()
    }
}

/// This thread's shard number (assigned once per thread, round robin).
fn thread_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    INDEX.with(|i| *i)
}

impl<T> Sharded<T> {
    pub fn new(value: T) -> Self {
        let n = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(4, 64);
        let value = Arc::new(value);
        Sharded {
            shards: (0..n)
                .map(|_| Padded(RwLock::new(Some(value.clone()))))
                .collect(),
            writer: Mutex::new(()),
        }
    }

    /// Reads through this thread's shard.
    pub fn read(&self) -> ReadGuard<'_, T> {
        ReadGuard(self.shards[thread_index() % self.shards.len()].0.read())
    }

    /// Excludes other writers (not readers).
    pub fn writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock()
    }

    /// Locks every shard for writing; the caller holds the writer lock.
    pub fn write<'a>(&'a self, _writer: &MutexGuard<'a, ()>) -> WriteGuard<'a, T> {
        let mut guards: Vec<RwLockWriteGuard<'a, Option<Arc<T>>>> =
            self.shards.iter().map(|s| s.0.write()).collect();
        // Take every shard's Arc and keep one: with all shards locked, no reader holds the state, so the
        // one kept is the only reference.
        let mut value = None;
        for guard in &mut guards {
            let taken = guard.take();
            if value.is_none() {
                value = taken;
            }
        }
        WriteGuard { guards, value }
    }
}

pub(crate) struct ReadGuard<'a, T>(RwLockReadGuard<'a, Option<Arc<T>>>);

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // Every shard holds the state whenever it is not write-locked.
        self.0.as_deref().expect("shard holds the state")
    }
}

pub(crate) struct WriteGuard<'a, T> {
    guards: Vec<RwLockWriteGuard<'a, Option<Arc<T>>>>,
    value: Option<Arc<T>>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_deref().expect("write guard holds the state")
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_mut()
            .and_then(Arc::get_mut)
            .expect("the write guard holds the only reference")
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            for guard in &mut self.guards {
                **guard = Some(value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_seen_by_every_shard() {
        let s = Sharded::new(1u32);
        {
            let w = s.writer();
            let mut g = s.write(&w);
            *g += 41;
        }
        assert_eq!(*s.read(), 42);
        for shard in s.shards.iter() {
            assert_eq!(shard.0.read().as_deref(), Some(&42));
        }
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let s = &s;
                std::thread::scope(|sc| sc.spawn(move || *s.read()).join().unwrap())
            })
            .collect();
        assert!(handles.iter().all(|&v| v == 42));
    }
}
