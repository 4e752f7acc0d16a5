//! What the prefix index holds for one literal prefix: the patterns' literal suffixes and, under each, the
//! ids of the patterns with exactly that prefix and suffix. The usual case (one suffix, one pattern) is
//! stored inline, so a lookup that finds the prefix reaches its pattern without further indirection.

use super::EntryIdx;
use super::affix::{AffixIndex, Anchor, same_bytes};

/// Pattern ids; never empty while stored.
#[derive(Debug)]
pub(crate) enum Ids {
    One(EntryIdx),
    Many(Vec<EntryIdx>),
}

impl Ids {
    fn push(&mut self, idx: EntryIdx) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, idx]),
            Ids::Many(v) => v.push(idx),
        }
    }

    /// Removes `idx`; returns whether none is left.
    fn remove(&mut self, idx: EntryIdx) -> bool {
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
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[EntryIdx] {
        match self {
            Ids::One(idx) => std::slice::from_ref(idx),
            Ids::Many(v) => v,
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

    pub(crate) fn add(&mut self, suffix: &[u8], idx: EntryIdx) {
        match self {
            Suffixes::One { suffix: s, ids } if **s == *suffix => ids.push(idx),
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
                Some(ids) => ids.push(idx),
                None => index.insert_new(suffix, Ids::One(idx)),
            },
        }
    }

    /// Removes `idx` filed under `suffix`; returns whether nothing is left.
    pub(crate) fn remove(&mut self, suffix: &[u8], idx: EntryIdx) -> bool {
        match self {
            Suffixes::One { suffix: s, ids } => **s == *suffix && ids.remove(idx),
            Suffixes::Many(index) => {
                if index.get_mut(suffix).is_some_and(|ids| ids.remove(idx)) {
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
