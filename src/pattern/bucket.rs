//! What the prefix index holds for one literal prefix: the patterns' literal suffixes and, under each, the
//! ids of the patterns with exactly that prefix and suffix (a bucket). The usual case (one suffix, one
//! pattern) is stored inline, so a lookup that finds the prefix reaches its pattern without further
//! indirection. A bucket of a few patterns is a list, compared one by one; a larger one indexes its
//! patterns' inner literals ([`Infix`]), so that a lookup's cost does not grow with the bucket's size.

use super::affix::{AffixIndex, Anchor, same_bytes};
use super::infix::Infix;
use super::{Entry, EntryIdx, Pattern};

/// A bucket with more patterns than this indexes their inner literals ([`Infix`]); one that shrinks to half
/// as many compares them one by one again. Below it, comparing costs less than the index (and takes no
/// memory): a few patterns, each compared in time linear in the name's length.
const INDEX_ABOVE: usize = 8;

/// The patterns with one prefix and one suffix; never empty while stored.
#[derive(Debug)]
pub(crate) enum Ids {
    One(EntryIdx),
    /// At most [`INDEX_ABOVE`], compared one by one.
    Many(Vec<EntryIdx>),
    /// More, indexed by their inner literals.
    Indexed(Box<Infix>),
}

fn entry(entries: &[Option<Entry>], idx: EntryIdx) -> &Entry {
    entries[idx as usize].as_ref().expect("live entry")
}

impl Ids {
    /// Adds `idx`, already in `entries`.
    fn push(&mut self, idx: EntryIdx, entries: &[Option<Entry>]) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, idx]),
            Ids::Many(v) if v.len() < INDEX_ABOVE => v.push(idx),
            Ids::Many(v) => {
                let mut infix = Infix::new();
                for &i in v.iter().chain([&idx]) {
                    let e = entry(entries, i);
                    infix.add(i, &e.pattern, e.rank);
                }
                *self = Ids::Indexed(Box::new(infix));
            }
            Ids::Indexed(infix) => {
                let e = entry(entries, idx);
                infix.add(idx, &e.pattern, e.rank);
            }
        }
    }

    /// Removes `idx`, which is `pattern`; returns whether none is left.
    fn remove(&mut self, idx: EntryIdx, pattern: &Pattern) -> bool {
        match self {
            Ids::One(only) => *only == idx,
            Ids::Many(v) => {
                v.retain(|&i| i != idx);
                match v[..] {
                    [] => true,
                    [only] => {
                        *self = Ids::One(only);
                        false
                    }
                    _ => false,
                }
            }
            Ids::Indexed(infix) => {
                infix.remove(idx, pattern);
                if infix.len() <= INDEX_ABOVE / 2 {
                    *self = Ids::Many(infix.ids().collect());
                }
                false
            }
        }
    }
}

/// The suffixes under one prefix.
#[derive(Debug)]
pub(crate) enum Suffixes {
    One { suffix: Box<[u8]>, ids: Ids },
    Many(AffixIndex<Ids>),
}

impl Suffixes {
    pub(crate) fn new(suffix: &[u8], idx: EntryIdx) -> Self {
        Suffixes::One {
            suffix: suffix.into(),
            ids: Ids::One(idx),
        }
    }

    /// Adds `idx` (already in `entries`) under `suffix`.
    pub(crate) fn add(&mut self, suffix: &[u8], idx: EntryIdx, entries: &[Option<Entry>]) {
        match self {
            Suffixes::One { suffix: s, ids } if **s == *suffix => ids.push(idx, entries),
            Suffixes::One { .. } => {
                let Suffixes::One { suffix: s, ids } =
                    std::mem::replace(self, Suffixes::Many(AffixIndex::new(Anchor::End)))
                else {
                    unreachable!()
                };
                if let Suffixes::Many(index) = self {
                    index.insert_new(&s, ids);
                    index.insert_new(suffix, Ids::One(idx));
                }
            }
            Suffixes::Many(index) => match index.get_mut(suffix) {
                Some(ids) => ids.push(idx, entries),
                None => index.insert_new(suffix, Ids::One(idx)),
            },
        }
    }

    /// Removes `idx`, which is `pattern`, filed under `suffix`; returns whether nothing is left.
    pub(crate) fn remove(&mut self, suffix: &[u8], idx: EntryIdx, pattern: &Pattern) -> bool {
        match self {
            Suffixes::One { suffix: s, ids } => **s == *suffix && ids.remove(idx, pattern),
            Suffixes::Many(index) => {
                if index
                    .get_mut(suffix)
                    .is_some_and(|ids| ids.remove(idx, pattern))
                {
                    index.remove(suffix);
                }
                if let Some((s, _)) = index.only() {
                    let s: Box<[u8]> = s.into();
                    if let Some(ids) = index.remove(&s) {
                        *self = Suffixes::One { suffix: s, ids };
                    }
                }
                matches!(self, Suffixes::Many(index) if index.is_empty())
            }
        }
    }

    /// Calls `visit(suffix_len, ids)` for every suffix of `text` no longer than `max_len` held here.
    #[inline]
    pub(crate) fn visit<'a>(
        &'a self,
        text: &[u8],
        max_len: usize,
        mut visit: impl FnMut(usize, &'a Ids),
    ) {
        match self {
            Suffixes::One { suffix, ids } => {
                let len = suffix.len();
                if len <= max_len
                    && len <= text.len()
                    && same_bytes(&text[text.len() - len..], suffix)
                {
                    visit(len, ids);
                }
            }
            Suffixes::Many(index) => index.visit(text, max_len, visit),
        }
    }
}
