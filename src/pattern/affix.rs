//! The index under [`PatternRouter`](super::PatternRouter): literal prefixes (or suffixes) to values,
//! probed for every prefix (suffix) of a requested name in one pass.
//!
//! A rolling FNV-1a hash over the name yields the hash of each of its prefixes at no extra cost; the index
//! keeps the sorted set of distinct key lengths, so a lookup makes one table probe per distinct length, and
//! those probes do not depend on each other (the CPU overlaps their memory accesses). Nothing here grows
//! with the number of keys: cost grows with the number of distinct key lengths, bounded by the name's length.

use hashbrown::HashTable;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn step(h: u64, byte: u8) -> u64 {
    (h ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
}

/// Final mix, so that both ends of the hash (hashbrown uses the low bits to place, the top 7 to tag) are
/// spread. The length is mixed in so that keys of different lengths differ.
#[inline]
fn finish(h: u64, len: usize) -> u64 {
    let x = (h ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// Byte-string equality without a `memcmp` call for the short keys patterns have.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && (a.len() > 32 || a.iter().zip(b).all(|(x, y)| x == y))
        && (a.len() <= 32 || a == b)
}

/// A key, stored in the table slot itself when short (most pattern prefixes are), so that confirming a
/// probe reads no other memory.
#[derive(Debug)]
enum Key {
    Inline { len: u8, bytes: [u8; Key::INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    const INLINE: usize = 22;

    fn new(key: &[u8]) -> Self {
        if key.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..key.len()].copy_from_slice(key);
            Key::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            Key::Heap(key.into())
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(b) => b,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

#[derive(Debug)]
struct Slot<V> {
    hash: u64,
    key: Key,
    value: V,
}

/// Which end of the text keys are anchored at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// Keys are prefixes.
    Start,
    /// Keys are suffixes.
    End,
}

/// Keys of one length: how many, and which bytes they have at their inner edge (the last byte of a
/// prefix, the first of a suffix). A lookup probes the table for this length only if the text has one of
/// those bytes there: real keys end in `/` or `-`, so most lengths are skipped without hashing.
#[derive(Debug)]
struct Length {
    len: usize,
    count: usize,
    edge_counts: Box<[u32; 256]>,
    edge_bits: [u64; 4],
}

impl Length {
    fn new(len: usize) -> Self {
        Length {
            len,
            count: 0,
            edge_counts: Box::new([0; 256]),
            edge_bits: [0; 4],
        }
    }

    fn add(&mut self, edge: Option<u8>) {
        self.count += 1;
        if let Some(b) = edge {
            self.edge_counts[usize::from(b)] += 1;
            self.edge_bits[usize::from(b >> 6)] |= 1 << (b & 63);
        }
    }

    fn sub(&mut self, edge: Option<u8>) {
        self.count -= 1;
        if let Some(b) = edge {
            let c = &mut self.edge_counts[usize::from(b)];
            *c -= 1;
            if *c == 0 {
                self.edge_bits[usize::from(b >> 6)] &= !(1 << (b & 63));
            }
        }
    }

    #[inline]
    fn may_have(&self, edge: u8) -> bool {
        self.edge_bits[usize::from(edge >> 6)] & (1 << (edge & 63)) != 0
    }
}

/// Byte strings anchored at one end of a text, to values.
#[derive(Debug)]
pub(crate) struct AffixIndex<V> {
    anchor: Anchor,
    /// Distinct key lengths, ascending.
    lens: Vec<Length>,
    table: HashTable<Slot<V>>,
}

impl<V> AffixIndex<V> {
    pub(crate) fn new(anchor: Anchor) -> Self {
        AffixIndex {
            anchor,
            lens: Vec::new(),
            table: HashTable::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The key's byte at its inner edge (`None` for the empty key).
    fn edge(&self, key: &[u8]) -> Option<u8> {
        (!key.is_empty()).then(|| self.byte(key, key.len() - 1))
    }

    #[inline]
    fn byte(&self, key: &[u8], i: usize) -> u8 {
        match self.anchor {
            Anchor::Start => key[i],
            Anchor::End => key[key.len() - 1 - i],
        }
    }

    fn hash_key(&self, key: &[u8]) -> u64 {
        let mut h = FNV_OFFSET;
        for i in 0..key.len() {
            h = step(h, self.byte(key, i));
        }
        finish(h, key.len())
    }

    /// The value under `key`, inserted with `make` if absent.
    pub(crate) fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &mut V {
        let hash = self.hash_key(key);
        let found = self
            .table
            .find(hash, |s| s.hash == hash && same_bytes(&s.key, key))
            .is_some();
        if !found {
            let pos = match self.lens.binary_search_by_key(&key.len(), |l| l.len) {
                Ok(pos) => pos,
                Err(pos) => {
                    self.lens.insert(pos, Length::new(key.len()));
                    pos
                }
            };
            let edge = self.edge(key);
            self.lens[pos].add(edge);
            self.table.insert_unique(
                hash,
                Slot {
                    hash,
                    key: Key::new(key),
                    value: make(),
                },
                |s| s.hash,
            );
        }
        &mut self
            .table
            .find_mut(hash, |s| s.hash == hash && same_bytes(&s.key, key))
            .expect("present")
            .value
    }

    /// Inserts `value` under `key`, which must be absent.
    pub(crate) fn insert_new(&mut self, key: &[u8], value: V) {
        let mut value = Some(value);
        self.get_or_insert_with(key, || value.take().expect("absent key"));
    }

    /// The key and value when exactly one is held.
    pub(crate) fn only(&self) -> Option<(&[u8], &V)> {
        if self.table.len() != 1 {
            return None;
        }
        self.table.iter().next().map(|s| (&*s.key, &s.value))
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&V> {
        let hash = self.hash_key(key);
        self.table
            .find(hash, |s| s.hash == hash && same_bytes(&s.key, key))
            .map(|s| &s.value)
    }

    pub(crate) fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let hash = self.hash_key(key);
        self.table
            .find_mut(hash, |s| s.hash == hash && same_bytes(&s.key, key))
            .map(|s| &mut s.value)
    }

    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<V> {
        let hash = self.hash_key(key);
        let entry = self
            .table
            .find_entry(hash, |s| s.hash == hash && same_bytes(&s.key, key))
            .ok()?;
        let (slot, _) = entry.remove();
        if let Ok(pos) = self.lens.binary_search_by_key(&key.len(), |l| l.len) {
            let edge = self.edge(key);
            self.lens[pos].sub(edge);
            if self.lens[pos].count == 0 {
                self.lens.remove(pos);
            }
        }
        Some(slot.value)
    }

    #[inline]
    fn window<'t>(&self, text: &'t [u8], len: usize) -> &'t [u8] {
        match self.anchor {
            Anchor::Start => &text[..len],
            Anchor::End => &text[text.len() - len..],
        }
    }

    /// Calls `visit(len, value)` for every key that is a prefix (or suffix, per the anchor) of `text` no
    /// longer than `max_len`, shortest first.
    #[inline]
    pub(crate) fn visit<'a>(
        &'a self,
        text: &[u8],
        max_len: usize,
        mut visit: impl FnMut(usize, &'a V),
    ) {
        let max_len = max_len.min(text.len());
        if self.table.len() == 1 {
            // One key (the common case under a prefix): compare it, no hashing.
            if let Some(slot) = self.table.iter().next() {
                let len = slot.key.len();
                if len <= max_len && same_bytes(&slot.key, self.window(text, len)) {
                    visit(len, &slot.value);
                }
            }
            return;
        }
        let mut h = FNV_OFFSET;
        let mut pos = 0;
        for length in &self.lens {
            let len = length.len;
            if len > max_len {
                break;
            }
            if len > 0 && !length.may_have(self.byte(text, len - 1)) {
                continue;
            }
            while pos < len {
                h = step(h, self.byte(text, pos));
                pos += 1;
            }
            let hash = finish(h, len);
            let window = match self.anchor {
                Anchor::Start => &text[..len],
                Anchor::End => &text[text.len() - len..],
            };
            if let Some(slot) = self
                .table
                .find(hash, |s| s.hash == hash && same_bytes(&s.key, window))
            {
                visit(len, &slot.value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_suffixes() {
        let mut p: AffixIndex<u32> = AffixIndex::new(Anchor::Start);
        *p.get_or_insert_with(b"ab", || 0) = 1;
        *p.get_or_insert_with(b"abcd", || 0) = 2;
        *p.get_or_insert_with(b"", || 0) = 3;
        *p.get_or_insert_with(b"x", || 0) = 4;
        let mut seen = Vec::new();
        p.visit(b"abcdef", usize::MAX, |l, v| seen.push((l, *v)));
        assert_eq!(seen, vec![(0, 3), (2, 1), (4, 2)]);
        seen.clear();
        p.visit(b"abcdef", 3, |l, v| seen.push((l, *v)));
        assert_eq!(seen, vec![(0, 3), (2, 1)]);
        assert_eq!(p.remove(b"ab"), Some(1));
        assert_eq!(p.remove(b"ab"), None);
        let lens: Vec<(usize, usize)> = p.lens.iter().map(|l| (l.len, l.count)).collect();
        assert_eq!(lens, vec![(0, 1), (1, 1), (4, 1)]);

        let mut s: AffixIndex<u32> = AffixIndex::new(Anchor::End);
        *s.get_or_insert_with(b"-mini", || 0) = 1;
        *s.get_or_insert_with(b"i", || 0) = 2;
        let mut seen = Vec::new();
        s.visit(b"gpt-4o-mini", usize::MAX, |l, v| seen.push((l, *v)));
        assert_eq!(seen, vec![(1, 2), (5, 1)]);
        for k in [&b"-mini"[..], b"i"] {
            s.remove(k);
        }
        assert!(s.is_empty() && s.lens.is_empty());
    }

    #[test]
    fn edge_filter_forgets_removed_keys_only() {
        let mut p: AffixIndex<u32> = AffixIndex::new(Anchor::Start);
        *p.get_or_insert_with(b"a/", || 0) = 1;
        *p.get_or_insert_with(b"b/", || 0) = 2;
        *p.get_or_insert_with(b"c-", || 0) = 3;
        p.remove(b"a/");
        let mut seen = Vec::new();
        p.visit(b"b/x", usize::MAX, |_, v| seen.push(*v));
        p.visit(b"c-x", usize::MAX, |_, v| seen.push(*v));
        assert_eq!(seen, vec![2, 3]);
        assert!(p.lens[0].may_have(b'/'));
        p.remove(b"b/");
        assert!(!p.lens[0].may_have(b'/'));
        assert!(p.lens[0].may_have(b'-'));
    }
}
