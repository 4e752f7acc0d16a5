//! The inner literals of a large bucket: patterns that share both their literal prefix and their literal
//! suffix (`pre/*-v1-*` … `pre/*-v9999-*`), indexed so that a lookup finds the ones whose inner literals
//! occur in the requested name without comparing the others.
//!
//! An inner literal is the text between two `*`s (`-v1-` above). Each distinct non-empty one is a key of an
//! [`AffixIndex`]. A lookup walks the middle of the name (between the bucket's prefix and suffix) and, at each
//! position where a literal may start, probes that index for the literals starting there, the way the
//! prefix index probes a name's prefixes. Positions are found with `memchr` when the literals start with at
//! most three distinct bytes (real ones start with a separator: `-`, `/`, `.`), so a long name without those
//! bytes is skipped at memory speed; otherwise every byte is tested against the set of first bytes. A
//! position is probed only if its first two bytes begin a literal (or its byte is a whole one), so a name
//! made of separators costs a bit test per byte, not a probe.
//!
//! Each pattern is filed under one of its literals: the one with the fewest patterns filed under it when
//! the pattern was added (so `pre/*/chat/*-v<i>-*` are filed under their `-v<i>-`, not under the shared
//! `/chat/`). A lookup examines only the patterns filed under a literal it found, in precedence order,
//! stopping at the first that matches (for the best match). A pattern with one inner literal matches as
//! soon as it is found; one with several is checked on the recorded occurrences: each literal at its first
//! occurrence after the previous one ends (placing each as early as possible finds a fit whenever one
//! exists). Patterns without a non-empty inner literal (`pre/*-*`, `pre/**-*`) match any middle and are
//! kept apart, as is a pattern without `*` (it matches only an empty middle).
//!
//! Writes add or remove one key and one filed entry: no rebuild, microseconds whatever the bucket's size.

use std::collections::HashMap;

use super::affix::{AffixIndex, Anchor};
use super::{EntryIdx, Pattern, Rank};

/// A literal's number, to group its occurrences in a name.
type LitId = u32;

/// A pattern filed under a literal (or with the patterns that have none).
#[derive(Debug)]
struct Filed {
    rank: Rank,
    idx: EntryIdx,
    /// Its non-empty inner literals, in order (repeats kept), with their lengths.
    lits: Box<[(LitId, usize)]>,
    /// A pattern without `*`: matches only an empty middle.
    exact: bool,
}

/// Patterns in precedence order; the usual single one inline, so that a lookup that finds a literal reads
/// its pattern from the index slot.
#[derive(Debug)]
enum FiledList {
    One(Filed),
    Many(Vec<Filed>),
}

impl FiledList {
    const EMPTY: FiledList = FiledList::Many(Vec::new());

    fn as_slice(&self) -> &[Filed] {
        match self {
            FiledList::One(f) => std::slice::from_ref(f),
            FiledList::Many(v) => v,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn insert(&mut self, filed: Filed) {
        match std::mem::replace(self, FiledList::EMPTY) {
            FiledList::Many(v) if v.is_empty() => *self = FiledList::One(filed),
            FiledList::One(first) => {
                *self = FiledList::Many(if first.rank < filed.rank {
                    vec![first, filed]
                } else {
                    vec![filed, first]
                });
            }
            FiledList::Many(mut v) => {
                let at = v.partition_point(|f| f.rank < filed.rank);
                v.insert(at, filed);
                *self = FiledList::Many(v);
            }
        }
    }

    fn remove(&mut self, idx: EntryIdx) {
        match self {
            FiledList::One(f) if f.idx == idx => *self = FiledList::EMPTY,
            FiledList::One(_) => {}
            FiledList::Many(v) => {
                v.retain(|f| f.idx != idx);
                if v.len() == 1
                    && let Some(only) = v.pop()
                {
                    *self = FiledList::One(only);
                }
            }
        }
    }
}

/// One distinct inner literal: the value of its key.
#[derive(Debug)]
struct Literal {
    id: LitId,
    /// Uses by the bucket's patterns (a pattern using it twice counts twice).
    uses: u32,
    /// The patterns filed under it.
    filed: FiledList,
}

/// Stands in for the unused slots of [`Occurrences`]' inline buffer.
static UNUSED: Literal = Literal {
    id: 0,
    uses: 0,
    filed: FiledList::EMPTY,
};

/// A set of small keys (bytes, byte pairs) with a count per key, so that removing one of several
/// literals with the same key keeps it; tested with one bit.
#[derive(Debug)]
struct CountedBits<const WORDS: usize> {
    counts: HashMap<u16, u32>,
    bits: Box<[u64; WORDS]>,
}

impl<const WORDS: usize> CountedBits<WORDS> {
    fn new() -> Self {
        CountedBits {
            counts: HashMap::new(),
            bits: Box::new([0; WORDS]),
        }
    }

    /// Adds `key`; returns whether it is new.
    fn add(&mut self, key: u16) -> bool {
        let count = self.counts.entry(key).or_insert(0);
        *count += 1;
        self.bits[usize::from(key >> 6)] |= 1 << (key & 63);
        *count == 1
    }

    /// Removes `key` once; returns whether it is gone.
    fn sub(&mut self, key: u16) -> bool {
        let Some(count) = self.counts.get_mut(&key) else {
            return false;
        };
        *count -= 1;
        if *count > 0 {
            return false;
        }
        self.counts.remove(&key);
        self.bits[usize::from(key >> 6)] &= !(1 << (key & 63));
        true
    }

    #[inline]
    fn has(&self, key: u16) -> bool {
        self.bits[usize::from(key >> 6)] & (1 << (key & 63)) != 0
    }
}

fn pair(a: u8, b: u8) -> u16 {
    u16::from(a) << 8 | u16::from(b)
}

/// Where a literal may start: its first byte, and its first two bytes (or the byte alone for a one-byte
/// literal). The first bytes are listed when there are at most three, for `memchr`.
#[derive(Debug)]
struct Starts {
    first: CountedBits<4>,
    /// One-byte literals.
    single: CountedBits<4>,
    /// The first two bytes of longer literals.
    pairs: CountedBits<1024>,
    few: Option<([u8; 3], usize)>,
}

impl Starts {
    fn new() -> Self {
        Starts {
            first: CountedBits::new(),
            single: CountedBits::new(),
            pairs: CountedBits::new(),
            few: Some(([0; 3], 0)),
        }
    }

    /// Adds a literal (not empty).
    fn add(&mut self, literal: &[u8]) {
        match literal {
            [b] => self.single.add(u16::from(*b)),
            [a, b, ..] => self.pairs.add(pair(*a, *b)),
            [] => return,
        };
        if self.first.add(u16::from(literal[0])) {
            self.refresh();
        }
    }

    /// Removes a literal added before.
    fn sub(&mut self, literal: &[u8]) {
        match literal {
            [b] => self.single.sub(u16::from(*b)),
            [a, b, ..] => self.pairs.sub(pair(*a, *b)),
            [] => return,
        };
        if self.first.sub(u16::from(literal[0])) {
            self.refresh();
        }
    }

    fn refresh(&mut self) {
        let mut few = [0u8; 3];
        let n = self.first.counts.len();
        for (slot, &key) in few.iter_mut().zip(self.first.counts.keys()) {
            *slot = key as u8;
        }
        self.few = (n <= few.len()).then_some((few, n));
    }

    /// Calls `f(i)` for every `i`, in order, where a literal may start in `hay`: `hay[i]` starts a literal
    /// and, unless it is a whole one, `hay[i + 1]` follows it in one.
    #[inline]
    fn each(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        let mut at = |i: usize| {
            let b = hay[i];
            if self.single.has(u16::from(b))
                || hay.get(i + 1).is_some_and(|&c| self.pairs.has(pair(b, c)))
            {
                f(i);
            }
        };
        match self.few {
            Some((_, 0)) => {}
            Some(([a, _, _], 1)) => memchr::memchr_iter(a, hay).for_each(at),
            Some(([a, b, _], 2)) => memchr::memchr2_iter(a, b, hay).for_each(at),
            Some(([a, b, c], _)) => memchr::memchr3_iter(a, b, c, hay).for_each(at),
            None => {
                for (i, &b) in hay.iter().enumerate() {
                    if self.first.has(u16::from(b)) {
                        at(i);
                    }
                }
            }
        }
    }
}

/// The literals found in one middle: (literal, start), sorted by literal then start once all are in. The
/// first few are kept inline (a name usually holds one or two).
struct Occurrences<'a> {
    inline: [(LitId, usize, &'a Literal); 8],
    len: usize,
    spill: Vec<(LitId, usize, &'a Literal)>,
}

impl<'a> Occurrences<'a> {
    fn new() -> Self {
        Occurrences {
            inline: [(0, 0, &UNUSED); 8],
            len: 0,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, found: (LitId, usize, &'a Literal)) {
        if self.spill.is_empty() && self.len < self.inline.len() {
            self.inline[self.len] = found;
            self.len += 1;
            return;
        }
        if self.spill.is_empty() {
            self.spill.extend_from_slice(&self.inline[..self.len]);
        }
        self.spill.push(found);
    }

    fn as_slice(&self) -> &[(LitId, usize, &'a Literal)] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    fn sort(&mut self) {
        let all = if self.spill.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.spill[..]
        };
        all.sort_unstable_by_key(|&(lit, start, _)| (lit, start));
    }

    /// The start of the first occurrence of `lit` at or after `from`.
    fn first_from(&self, lit: LitId, from: usize) -> Option<usize> {
        let all = self.as_slice();
        let at = all.partition_point(|&(l, s, _)| (l, s) < (lit, from));
        all.get(at).and_then(|&(l, s, _)| (l == lit).then_some(s))
    }

    /// Each literal found, once.
    fn distinct(&self) -> impl Iterator<Item = &'a Literal> + '_ {
        let all = self.as_slice();
        all.iter()
            .enumerate()
            .filter(|&(i, &(l, _, _))| i == 0 || all[i - 1].0 != l)
            .map(|(_, &(_, _, literal))| literal)
    }
}

/// The patterns of one bucket, indexed by their inner literals.
#[derive(Debug)]
pub(crate) struct Infix {
    keys: AffixIndex<Literal>,
    /// Literal numbers given back, and the next new one.
    free: Vec<LitId>,
    next_id: LitId,
    starts: Starts,
    /// Patterns without a non-empty inner literal, in precedence order.
    always: FiledList,
    /// Each pattern's position, among its inner literals, of the one it is filed under (`None`: in
    /// `always`).
    filed_under: HashMap<EntryIdx, Option<usize>>,
}

impl Infix {
    pub(crate) fn new() -> Self {
        Infix {
            keys: AffixIndex::new(Anchor::Start),
            free: Vec::new(),
            next_id: 0,
            starts: Starts::new(),
            always: FiledList::EMPTY,
            filed_under: HashMap::new(),
        }
    }

    /// Number of patterns.
    pub(crate) fn len(&self) -> usize {
        self.filed_under.len()
    }

    /// The patterns held, in no particular order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = EntryIdx> + '_ {
        self.filed_under.keys().copied()
    }

    fn literal_mut(&mut self, text: &[u8]) -> &mut Literal {
        self.keys.get_mut(text).expect("literal in use")
    }

    /// The number of `text`, added if new; counts one more use.
    fn use_literal(&mut self, text: &[u8]) -> LitId {
        if self.keys.get(text).is_none() {
            let id = self.free.pop().unwrap_or_else(|| {
                self.next_id += 1;
                self.next_id - 1
            });
            let literal = Literal {
                id,
                uses: 0,
                filed: FiledList::EMPTY,
            };
            self.keys.insert_new(text, literal);
            self.starts.add(text);
        }
        let literal = self.literal_mut(text);
        literal.uses += 1;
        literal.id
    }

    /// Counts one use less of `text`; forgets it after its last use.
    fn release_literal(&mut self, text: &[u8]) {
        let literal = self.literal_mut(text);
        literal.uses -= 1;
        if literal.uses == 0 {
            let id = literal.id;
            self.keys.remove(text);
            self.starts.sub(text);
            self.free.push(id);
        }
    }

    /// Adds the pattern `idx` (not present).
    pub(crate) fn add(&mut self, idx: EntryIdx, pattern: &Pattern, rank: Rank) {
        let lits: Box<[(LitId, usize)]> = pattern
            .inner_literals()
            .map(|l| (self.use_literal(l.as_bytes()), l.len()))
            .collect();
        // Filed under the literal with the fewest patterns filed under it, the longest of those.
        let anchor = pattern
            .inner_literals()
            .enumerate()
            .min_by_key(|&(_, l)| {
                let filed = self.keys.get(l.as_bytes()).map_or(0, |l| l.filed.len());
                (filed, std::cmp::Reverse(l.len()))
            })
            .map(|(at, l)| (at, l.as_bytes()));
        let filed = Filed {
            rank,
            idx,
            lits,
            exact: pattern.wildcards() == 0,
        };
        match anchor {
            Some((_, text)) => self.literal_mut(text).filed.insert(filed),
            None => self.always.insert(filed),
        }
        self.filed_under.insert(idx, anchor.map(|(at, _)| at));
    }

    /// Removes the pattern `idx`, which is `pattern`.
    pub(crate) fn remove(&mut self, idx: EntryIdx, pattern: &Pattern) {
        let Some(anchor) = self.filed_under.remove(&idx) else {
            return;
        };
        match anchor.and_then(|at| pattern.inner_literals().nth(at)) {
            Some(text) => self.literal_mut(text.as_bytes()).filed.remove(idx),
            None => self.always.remove(idx),
        }
        for l in pattern.inner_literals() {
            self.release_literal(l.as_bytes());
        }
    }

    /// Where the literals occur in `bytes[lo..hi]`.
    fn occurrences(&self, bytes: &[u8], lo: usize, hi: usize) -> Occurrences<'_> {
        let mut found = Occurrences::new();
        if !self.keys.is_empty() {
            let middle = &bytes[lo..hi];
            self.starts.each(middle, |at| {
                self.keys
                    .visit(&middle[at..], middle.len() - at, |_, literal| {
                        found.push((literal.id, lo + at, literal))
                    });
            });
        }
        found.sort();
        found
    }

    /// Whether `filed`'s literals fit in order in the middle starting at `lo` (its anchor was found).
    fn fits(filed: &Filed, occurrences: &Occurrences<'_>, lo: usize) -> bool {
        #[cfg(test)]
        super::work::pattern_checked();
        if filed.lits.len() == 1 {
            return true;
        }
        let mut at = lo;
        for &(id, len) in &filed.lits {
            match occurrences.first_from(id, at) {
                Some(start) => at = start + len,
                None => return false,
            }
        }
        true
    }

    /// The pattern of highest precedence that matches the middle `bytes[lo..hi]` and precedes `bound`.
    pub(crate) fn best(
        &self,
        bytes: &[u8],
        lo: usize,
        hi: usize,
        bound: Option<Rank>,
    ) -> Option<EntryIdx> {
        let beats = |best: Option<&Filed>, rank: Rank| {
            bound.is_none_or(|b| rank < b) && best.is_none_or(|b| rank < b.rank)
        };
        let mut best = self
            .always
            .as_slice()
            .iter()
            .take_while(|f| beats(None, f.rank))
            .find(|f| !f.exact || lo == hi);
        let occurrences = self.occurrences(bytes, lo, hi);
        for literal in occurrences.distinct() {
            for filed in literal.filed.as_slice() {
                if !beats(best, filed.rank) {
                    break;
                }
                if Self::fits(filed, &occurrences, lo) {
                    best = Some(filed);
                    break;
                }
            }
        }
        best.map(|f| f.idx)
    }

    /// Calls `visit` for every pattern that matches the middle `bytes[lo..hi]`.
    pub(crate) fn all(&self, bytes: &[u8], lo: usize, hi: usize, mut visit: impl FnMut(EntryIdx)) {
        for f in self.always.as_slice() {
            if !f.exact || lo == hi {
                visit(f.idx);
            }
        }
        let occurrences = self.occurrences(bytes, lo, hi);
        for literal in occurrences.distinct() {
            for filed in literal.filed.as_slice() {
                if Self::fits(filed, &occurrences, lo) {
                    visit(filed.idx);
                }
            }
        }
    }
}
