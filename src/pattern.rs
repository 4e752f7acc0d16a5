//! Wildcard model names: [`Pattern`] and the [`PatternRouter`] that maps requested names to the wildcard
//! deployments that serve them.
//!
//! # Semantics
//! - `*` matches any run of characters, `/` included, possibly empty; every other character is literal and
//!   case-sensitive (`.`, `+`, `?`, `(` … are not regex syntax here).
//! - A pattern matches the **whole** requested name. LiteLLM matches a prefix, so its `gpt-*-mini` also
//!   takes `gpt-4o-mini-2024-07-18` and silently drops `-2024-07-18` (LiteLLM #42090); here it does not.
//! - Captures are greedy left to right, like regex `^(.*)…(.*)$`: `*/*` on `a/b/c` captures `a/b` and `c`.
//! - When several patterns match, the most specific wins: more literal characters, then fewer `*`, then the
//!   pattern inserted first.
//! - The deployment's `litellm_params.model` receives the captures in place of its `*`s, in order, literally;
//!   a target without `*` is used as is. A target whose `*` count is neither 0 nor the pattern's is refused
//!   at insert.
//! - Entries are keyed by deployment id: after [`PatternRouter::upsert`] exactly one entry has that id,
//!   wherever its old pattern or team was, and no pattern is left without deployments (LiteLLM #29064).
//!
//! ```
//! use modelroute::{Deployment, PatternRouter};
//!
//! let mut router = PatternRouter::new();
//! router.insert(Deployment::new("openai/*", "openai/*")?.with_id("oa")?)?;
//! router.insert(Deployment::new("llmengine/*", "openai/*")?.with_id("le")?)?;
//!
//! let m = router.lookup("llmengine/gpt-4o").expect("matches");
//! assert_eq!(m.pattern().as_str(), "llmengine/*");
//! assert_eq!(m.first().model(), "openai/gpt-4o");
//! assert!(router.lookup("gpt-4o").is_none());
//!
//! // Move "le" to another pattern: nothing of the old one remains.
//! router.upsert(Deployment::new("engine2/*", "openai/*")?.with_id("le")?)?;
//! assert!(router.lookup("llmengine/gpt-4o").is_none());
//! assert_eq!(router.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Cost
//! Patterns are indexed by their literal prefix (the text before the first `*`), then by their literal
//! suffix (after the last `*`). A lookup hashes the requested name once: a rolling hash yields the hash of
//! every prefix, and the index probes one hash table per distinct prefix length, skipping the lengths whose
//! boundary byte no pattern has (prefixes end in `/` or `-`, so most are skipped). For each prefix found, the
//! suffixes are probed the same way from the name's end. Patterns sharing both the prefix and the suffix (a
//! bucket) are compared one by one when there are at most 8 of them; a larger bucket indexes their inner
//! literals (the text between two `*`s), finds those in the name in one pass and checks only the patterns
//! whose literals it found. The cost grows with the name's length, not with the number of patterns
//! ([`PatternRouter::lookup`] states the worst case; `benches/wildcard.rs`: within a few times a `HashMap`
//! exact lookup at 100,000 patterns, and at 10,000 patterns sharing one prefix and suffix). Writes change
//! one slot of each table: microseconds, whatever the size.
//! `PatternRouter` is a plain data structure (`&self` reads, `&mut self` writes, `Send + Sync`); share it
//! behind a lock such as `parking_lot::RwLock`: writes hold it only for those microseconds.

mod affix;
mod bucket;
mod infix;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use self::affix::{AffixIndex, Anchor};
use self::bucket::{Ids, Suffixes};
use crate::deployment::{Deployment, DeploymentId};
use crate::error::PatternError;

/// A parsed wildcard pattern such as `openai/*` or `gpt-*-mini`. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pattern(Arc<PatternInner>);

#[derive(PartialEq, Eq, Hash)]
struct PatternInner {
    text: Box<str>,
    /// Byte offsets of the literal segments around the `*`s: `segments.len() == stars + 1`.
    segments: Box<[(u32, u32)]>,
    literal_chars: u32,
}

impl Pattern {
    /// Parses a pattern. Refuses an empty one.
    ///
    /// ```
    /// let p = modelroute::Pattern::parse("gpt-*-mini")?;
    /// assert_eq!(p.wildcards(), 1);
    /// assert_eq!(p.captures("gpt-4o-mini"), Some(vec!["4o"]));
    /// assert_eq!(p.captures("gpt-4o-mini-2024-07-18"), None); // whole-name match
    /// # Ok::<(), modelroute::PatternError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::EmptyPattern);
        }
        if text.len() > u32::MAX as usize {
            return Err(PatternError::TooLong);
        }
        let mut segments = Vec::new();
        let mut start = 0usize;
        for (i, _) in text.match_indices('*') {
            segments.push((start as u32, i as u32));
            start = i + 1;
        }
        segments.push((start as u32, text.len() as u32));
        let literal_chars = text.chars().filter(|c| *c != '*').count() as u32;
        Ok(Pattern(Arc::new(PatternInner {
            text: text.into(),
            segments: segments.into_boxed_slice(),
            literal_chars,
        })))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// Number of `*`.
    pub fn wildcards(&self) -> usize {
        self.0.segments.len() - 1
    }

    /// Number of literal (non-`*`) characters.
    pub fn literal_chars(&self) -> usize {
        self.0.literal_chars as usize
    }

    /// The captures if the pattern matches the whole of `name`, `None` otherwise.
    pub fn captures<'n>(&self, name: &'n str) -> Option<Vec<&'n str>> {
        let mut caps = Captures::default();
        self.match_into(name, &mut caps)
            .then(|| caps.iter().map(|(s, e)| &name[s..e]).collect())
    }

    /// Whether the pattern matches the whole of `name`.
    pub fn matches(&self, name: &str) -> bool {
        self.match_into(name, &mut Captures::default())
    }

    fn segment(&self, i: usize) -> &str {
        let (s, e) = self.0.segments[i];
        &self.0.text[s as usize..e as usize]
    }

    fn prefix(&self) -> &str {
        self.segment(0)
    }

    fn suffix(&self) -> &str {
        self.segment(self.0.segments.len() - 1)
    }

    /// The literal suffix the index files the pattern under: empty for a pattern without `*` (its whole
    /// text is the prefix).
    fn index_suffix(&self) -> &str {
        if self.0.segments.len() == 1 {
            ""
        } else {
            self.suffix()
        }
    }

    /// The non-empty literal segments between two `*`s, in order.
    fn inner_literals(&self) -> impl Iterator<Item = &str> {
        let n = self.0.segments.len();
        (1..n.saturating_sub(1))
            .map(|i| self.segment(i))
            .filter(|s| !s.is_empty())
    }

    /// Ordering key: more literal characters first, then fewer `*`.
    fn specificity(&self) -> (std::cmp::Reverse<u32>, usize) {
        (
            std::cmp::Reverse(self.0.literal_chars),
            self.0.segments.len(),
        )
    }

    /// Full match with greedy left-to-right captures, written to `caps` (byte ranges into `name`).
    fn match_into(&self, name: &str, caps: &mut Captures) -> bool {
        caps.clear();
        let n = self.0.segments.len();
        if n == 1 {
            return name == self.as_str();
        }
        let prefix = self.prefix();
        let suffix = self.suffix();
        if name.len() < prefix.len() + suffix.len()
            || !name.starts_with(prefix)
            || !name.ends_with(suffix)
        {
            return false;
        }
        self.match_middle(name, prefix.len(), name.len() - suffix.len(), caps)
    }

    /// Whether the middle segments fit, in order, in `name[lo..hi]` (prefix and suffix already matched).
    fn middle_fits(&self, name: &str, lo: usize, hi: usize) -> bool {
        #[cfg(test)]
        work::pattern_checked();
        let n = self.0.segments.len();
        let bytes = name.as_bytes();
        let mut end = hi;
        for i in (1..n - 1).rev() {
            match rfind(&bytes[lo..end], self.segment(i).as_bytes()) {
                Some(pos) => end = lo + pos,
                None => return false,
            }
        }
        true
    }

    /// Places the middle segments in `name[lo..hi]` (prefix and suffix already matched) and records the
    /// captures. Greedy left to right = each middle segment at its rightmost feasible position, found right
    /// to left.
    fn match_middle(&self, name: &str, lo: usize, hi: usize, caps: &mut Captures) -> bool {
        let n = self.0.segments.len();
        caps.clear();
        if n == 2 {
            caps.push(lo, hi);
            return true;
        }
        // starts[i] = start of middle segment i (1..n-1), placed right to left.
        let mut starts = [0usize; 8];
        let mut heap_starts: Vec<usize>;
        let starts: &mut [usize] = if n <= starts.len() {
            &mut starts[..n]
        } else {
            heap_starts = vec![0; n];
            &mut heap_starts
        };
        let mut end = hi;
        for i in (1..n - 1).rev() {
            let seg = self.segment(i);
            match rfind(&name.as_bytes()[lo..end], seg.as_bytes()) {
                Some(pos) => {
                    starts[i] = lo + pos;
                    end = lo + pos;
                }
                None => return false,
            }
        }
        let mut cursor = lo;
        for (i, start) in starts.iter().enumerate().take(n - 1).skip(1) {
            caps.push(cursor, *start);
            cursor = start + self.segment(i).len();
        }
        caps.push(cursor, hi);
        true
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.as_str())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The start of the last occurrence of `needle` in `hay`. Both are whole UTF-8 strings, so a byte match
/// starts and ends on character boundaries.
///
/// The last few places where `needle`'s first byte occurs are tried first (`memrchr` skips the bytes in
/// between at memory speed: a long name rarely has a literal's first byte); after 16 false starts the rest
/// is left to `memchr`'s reverse substring searcher, linear in `hay`'s length whatever the bytes.
fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(hay.len());
    };
    // Places where an occurrence may start: `..end`.
    let mut end = (hay.len() + 1).checked_sub(needle.len())?;
    for _ in 0..16 {
        let at = memchr::memrchr(first, &hay[..end])?;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        end = at;
    }
    memchr::memmem::rfind(&hay[..end + rest.len()], needle)
}

/// Capture ranges, inline for up to four captures.
#[derive(Clone, Default)]
struct Captures {
    len: usize,
    inline: [(usize, usize); 4],
    spill: Vec<(usize, usize)>,
}

impl Captures {
    fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }
    fn push(&mut self, start: usize, end: usize) {
        if self.len < self.inline.len() {
            self.inline[self.len] = (start, end);
        } else {
            self.spill.push((start, end));
        }
        self.len += 1;
    }
    fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.inline[..self.len.min(4)]
            .iter()
            .chain(self.spill.iter())
            .copied()
    }
}

/// `litellm_params.model` split at its `*`s.
#[derive(Debug)]
struct Target {
    /// Literal pieces; `pieces.len() == stars + 1`; a single piece = no `*`.
    pieces: Box<[Box<str>]>,
}

impl Target {
    fn parse(model: &str) -> Self {
        Target {
            pieces: model.split('*').map(Into::into).collect(),
        }
    }
    fn wildcards(&self) -> usize {
        self.pieces.len() - 1
    }
}

/// A deployment under a pattern, with its parsed target.
#[derive(Debug)]
struct Member {
    deployment: Arc<Deployment>,
    target: Target,
}

/// One pattern and its deployments, in insertion order.
#[derive(Debug)]
struct Entry {
    pattern: Pattern,
    /// Precedence, lower first.
    rank: Rank,
    /// Number of `*` (kept here so a lookup need not read the pattern).
    wildcards: usize,
    members: Vec<Member>,
}

pub(crate) type EntryIdx = u32;

/// Precedence of a pattern, lower first: (fewer literal characters is worse, more `*` is worse, later is
/// worse). Unique per pattern of a scope.
pub(crate) type Rank = (std::cmp::Reverse<u32>, usize, u64);

/// The patterns of one scope (global, or one team).
#[derive(Debug)]
struct PatternIndex {
    entries: Vec<Option<Entry>>,
    free: Vec<EntryIdx>,
    by_text: HashMap<Box<str>, EntryIdx>,
    /// Literal prefix -> literal suffix -> entries with exactly that prefix and suffix.
    tree: AffixIndex<Suffixes>,
    next_seq: u64,
}

impl Default for PatternIndex {
    fn default() -> Self {
        PatternIndex {
            entries: Vec::new(),
            free: Vec::new(),
            by_text: HashMap::new(),
            tree: AffixIndex::new(Anchor::Start),
            next_seq: 0,
        }
    }
}

impl PatternIndex {
    fn len(&self) -> usize {
        self.by_text.len()
    }

    fn add_member(&mut self, pattern: &Pattern, member: Member) {
        if let Some(&idx) = self.by_text.get(pattern.as_str()) {
            let entry = self.entries[idx as usize].as_mut().expect("live entry");
            entry.members.push(member);
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let (literal, stars) = pattern.specificity();
        let entry = Entry {
            pattern: pattern.clone(),
            rank: (literal, stars, seq),
            wildcards: pattern.wildcards(),
            members: vec![member],
        };
        let idx = match self.free.pop() {
            Some(idx) => {
                self.entries[idx as usize] = Some(entry);
                idx
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as EntryIdx
            }
        };
        self.by_text.insert(pattern.as_str().into(), idx);
        let (prefix, suffix) = (
            pattern.prefix().as_bytes(),
            pattern.index_suffix().as_bytes(),
        );
        match self.tree.get_mut(prefix) {
            Some(suffixes) => suffixes.add(suffix, idx, &self.entries),
            None => self.tree.insert_new(prefix, Suffixes::new(suffix, idx)),
        }
    }

    /// Replaces the member with `id` in place (same pattern). Returns false if absent.
    fn replace_member(&mut self, pattern: &str, id: &DeploymentId, member: Member) -> bool {
        let Some(&idx) = self.by_text.get(pattern) else {
            return false;
        };
        let entry = self.entries[idx as usize].as_mut().expect("live entry");
        let Some(pos) = entry.members.iter().position(|m| m.deployment.id() == id) else {
            return false;
        };
        entry.members[pos] = member;
        true
    }

    /// Removes the member with `id` from `pattern`; drops the pattern when it has no member left.
    fn remove_member(&mut self, pattern: &str, id: &DeploymentId) -> Option<Arc<Deployment>> {
        let idx = *self.by_text.get(pattern)?;
        let entry = self.entries[idx as usize].as_mut().expect("live entry");
        let pos = entry.members.iter().position(|m| m.deployment.id() == id)?;
        let removed = entry.members[pos].deployment.clone();
        if entry.members.len() > 1 {
            entry.members.remove(pos);
            return Some(removed);
        }
        // Last member: the pattern goes, with its index entries.
        let entry = self.entries[idx as usize].take().expect("live entry");
        self.free.push(idx);
        self.by_text.remove(pattern);
        let prefix = entry.pattern.prefix().as_bytes();
        let suffix = entry.pattern.index_suffix().as_bytes();
        if self
            .tree
            .get_mut(prefix)
            .is_some_and(|suffixes| suffixes.remove(suffix, idx, &entry.pattern))
        {
            self.tree.remove(prefix);
        }
        Some(removed)
    }

    fn entry(&self, idx: EntryIdx) -> &Entry {
        self.entries[idx as usize].as_ref().expect("live entry")
    }

    /// Calls `visit(lo, hi, bucket)` for every bucket whose literal prefix and suffix the name has, with the
    /// byte range `lo..hi` between them (the middle, where the bucket's patterns place their `*`s).
    #[inline]
    fn for_each_bucket<'a>(&'a self, name: &str, mut visit: impl FnMut(usize, usize, &'a Ids)) {
        let bytes = name.as_bytes();
        self.tree.visit(bytes, bytes.len(), |prefix_len, suffixes| {
            let room = bytes.len() - prefix_len;
            suffixes.visit(bytes, room, |suffix_len, ids| {
                visit(prefix_len, bytes.len() - suffix_len, ids);
            });
        });
    }

    /// Whether `entry` (filed under the prefix and suffix around `lo..hi`) matches `name`.
    #[inline]
    fn fits(entry: &Entry, name: &str, lo: usize, hi: usize) -> bool {
        match entry.wildcards {
            0 => lo == name.len(),
            1 => true,
            _ => entry.pattern.middle_fits(name, lo, hi),
        }
    }

    fn captures(entry: &Entry, name: &str, lo: usize, hi: usize) -> Captures {
        let mut caps = Captures::default();
        if entry.pattern.wildcards() > 0 {
            entry.pattern.match_middle(name, lo, hi, &mut caps);
        }
        caps
    }

    fn best<'a>(&'a self, name: &str) -> Option<(&'a Entry, Captures)> {
        let mut best: Option<(&Entry, usize, usize)> = None;
        self.for_each_bucket(name, |lo, hi, ids| {
            let beats = |best: Option<(&Entry, usize, usize)>, entry: &Entry| {
                best.is_none_or(|(b, _, _)| entry.rank < b.rank)
            };
            match ids {
                Ids::One(idx) => {
                    let entry = self.entry(*idx);
                    if beats(best, entry) && Self::fits(entry, name, lo, hi) {
                        best = Some((entry, lo, hi));
                    }
                }
                Ids::Many(idxs) => {
                    for &idx in idxs {
                        let entry = self.entry(idx);
                        if beats(best, entry) && Self::fits(entry, name, lo, hi) {
                            best = Some((entry, lo, hi));
                        }
                    }
                }
                Ids::Indexed(infix) => {
                    let bound = best.map(|(b, _, _)| b.rank);
                    if let Some(idx) = infix.best(name.as_bytes(), lo, hi, bound) {
                        best = Some((self.entry(idx), lo, hi));
                    }
                }
            }
        });
        best.map(|(entry, lo, hi)| (entry, Self::captures(entry, name, lo, hi)))
    }

    fn all<'a>(&'a self, name: &str) -> Vec<(&'a Entry, Captures)> {
        let mut found = Vec::new();
        self.for_each_bucket(name, |lo, hi, ids| {
            let mut keep = |entry: &'a Entry| {
                found.push((entry, Self::captures(entry, name, lo, hi)));
            };
            match ids {
                Ids::One(idx) => {
                    let entry = self.entry(*idx);
                    if Self::fits(entry, name, lo, hi) {
                        keep(entry);
                    }
                }
                Ids::Many(idxs) => {
                    for &idx in idxs {
                        let entry = self.entry(idx);
                        if Self::fits(entry, name, lo, hi) {
                            keep(entry);
                        }
                    }
                }
                Ids::Indexed(infix) => {
                    infix.all(name.as_bytes(), lo, hi, |idx| keep(self.entry(idx)));
                }
            }
        });
        found.sort_by_key(|(e, _)| e.rank);
        found
    }
}

/// Where a deployment lives: the global scope or a team's.
#[derive(Debug, Clone)]
struct Placement {
    team: Option<Box<str>>,
    pattern: Box<str>,
    deployment: Arc<Deployment>,
}

/// Maps requested model names to wildcard deployments. See the [module docs](self).
///
/// A deployment with `model_info.team_id` and `model_info.team_public_model_name` lives in its team's scope
/// under the public name, and is seen only by [`PatternRouter::lookup_team`] for that team; every other
/// deployment lives in the global scope under its `model_name`.
#[derive(Debug, Default)]
pub struct PatternRouter {
    global: PatternIndex,
    teams: HashMap<Box<str>, PatternIndex>,
    by_id: HashMap<DeploymentId, Placement>,
}

impl PatternRouter {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of deployments.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there is no deployment.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Number of distinct patterns, all scopes together.
    pub fn pattern_count(&self) -> usize {
        self.global.len() + self.teams.values().map(PatternIndex::len).sum::<usize>()
    }

    /// Whether a deployment with `id` is present.
    pub fn contains(&self, id: &DeploymentId) -> bool {
        self.by_id.contains_key(id)
    }

    /// The deployment with `id`.
    pub fn get(&self, id: &DeploymentId) -> Option<&Arc<Deployment>> {
        self.by_id.get(id).map(|p| &p.deployment)
    }

    /// Every deployment, in no particular order.
    pub fn deployments(&self) -> impl Iterator<Item = &Arc<Deployment>> {
        self.by_id.values().map(|p| &p.deployment)
    }

    /// Adds a deployment. Fails if its id is already present (use [`PatternRouter::upsert`] to replace), if
    /// its id is empty, or if its target's `*` count is neither 0 nor its pattern's.
    pub fn insert(&mut self, deployment: impl Into<Arc<Deployment>>) -> Result<(), PatternError> {
        let deployment = deployment.into();
        let (pattern, member) = Self::prepare(&deployment)?;
        if self.by_id.contains_key(deployment.id()) {
            return Err(PatternError::DuplicateId {
                id: deployment.id().clone(),
            });
        }
        self.place(pattern, member);
        Ok(())
    }

    /// Adds a deployment or replaces the one with the same id, wherever it is (another pattern, another
    /// team). Afterwards exactly one entry has this id. Upserting an identical deployment changes nothing;
    /// replacing one under the same pattern keeps its position among that pattern's deployments.
    ///
    /// Returns the deployment that was replaced, if any.
    pub fn upsert(
        &mut self,
        deployment: impl Into<Arc<Deployment>>,
    ) -> Result<Option<Arc<Deployment>>, PatternError> {
        let deployment = deployment.into();
        let (pattern, member) = Self::prepare(&deployment)?;
        let id = deployment.id().clone();
        let Some(old) = self.by_id.get(&id) else {
            self.place(pattern, member);
            return Ok(None);
        };
        if *old.deployment == *deployment {
            return Ok(None);
        }
        let team = deployment.team().map(|(t, _)| t);
        if old.team.as_deref() == team && *old.pattern == *pattern.as_str() {
            let index = self.scope_mut(team);
            index.replace_member(pattern.as_str(), &id, member);
            let placement = self.by_id.get_mut(&id).expect("present");
            return Ok(Some(std::mem::replace(
                &mut placement.deployment,
                deployment,
            )));
        }
        let old = self.remove(&id);
        self.place(pattern, member);
        Ok(old)
    }

    /// Removes the deployment with `id`; its pattern goes too if it has no deployment left.
    pub fn remove(&mut self, id: &DeploymentId) -> Option<Arc<Deployment>> {
        let placement = self.by_id.remove(id)?;
        let team = placement.team.as_deref();
        let removed = self.scope_mut(team).remove_member(&placement.pattern, id);
        if let Some(team) = team
            && self.teams.get(team).is_some_and(|t| t.len() == 0)
        {
            self.teams.remove(team);
        }
        removed
    }

    /// The most specific global pattern matching the whole of `name`, with its deployments.
    ///
    /// # Cost
    /// Linear in `name`'s length, whatever the number of patterns. The name usually comes from a client:
    /// the [`Router`](crate::Router) refuses names over 1 KiB
    /// ([`RouterSettings::max_model_name_len`](crate::router::RouterSettings::max_model_name_len)) before
    /// calling this. In the worst case, for a name of `n` bytes:
    /// - one rolling hash of the name, one table probe per distinct literal-prefix length (at most `n`),
    ///   then one per distinct literal-suffix length under each prefix found;
    /// - for each prefix and suffix found that at most 8 patterns share: each pattern compared, in `O(n)`;
    /// - for each that more share: the bytes of the middle (between prefix and suffix) where one of their
    ///   inner literals may start are visited (found with `memchr` when the literals start with at most
    ///   three distinct bytes, else by testing each byte), with at most one probe per distinct
    ///   inner-literal length at each, hashing no more than the longest inner literal. The occurrences
    ///   found are sorted, then the patterns filed under each literal found are checked in precedence
    ///   order until one matches: a pattern with one inner literal at once, one with `j` inner literals
    ///   with `j` binary searches over the occurrences. Each pattern is filed under one of its literals,
    ///   so when each pattern has its own literal this is one pattern per literal found. Only patterns that
    ///   combine literals many others also use (`*a1*b1*` … `*a100*b100*`) let a name holding many of
    ///   those literals, in the wrong order, check each of the patterns filed under them once;
    /// - the captures of the pattern that wins: `O(n)`.
    ///
    /// ```
    /// use modelroute::{Deployment, PatternRouter};
    /// let mut router = PatternRouter::new();
    /// for i in 0..1000 {
    ///     router.insert(Deployment::new(format!("pre/*-v{i}-*"), "openai/*-*")?.with_id(format!("d{i}"))?)?;
    /// }
    /// // One pass over the name, not 1,000 comparisons.
    /// let name = format!("pre/{}-v999-{}", "x".repeat(5000), "y".repeat(5000));
    /// assert_eq!(router.lookup(&name).unwrap().pattern().as_str(), "pre/*-v999-*");
    /// assert!(router.lookup(&format!("pre/{}", "x".repeat(10_000))).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup<'r>(&'r self, name: &'r str) -> Option<PatternMatch<'r>> {
        Self::best_in(&self.global, name)
    }

    /// The most specific pattern of team `team` matching `name` (team scope only; fall back to
    /// [`PatternRouter::lookup`] yourself if the team has none).
    pub fn lookup_team<'r>(&'r self, team: &str, name: &'r str) -> Option<PatternMatch<'r>> {
        Self::best_in(self.teams.get(team)?, name)
    }

    /// Every global pattern matching `name`, most specific first. Costs what [`PatternRouter::lookup`]
    /// costs, except that every pattern filed under a literal found is checked, plus the captures of each
    /// match (`O(n)` each).
    pub fn lookup_all<'r>(&'r self, name: &'r str) -> Vec<PatternMatch<'r>> {
        Self::all_in(&self.global, name)
    }

    /// Every pattern of team `team` matching `name`, most specific first.
    pub fn lookup_all_team<'r>(&'r self, team: &str, name: &'r str) -> Vec<PatternMatch<'r>> {
        self.teams
            .get(team)
            .map(|index| Self::all_in(index, name))
            .unwrap_or_default()
    }

    fn best_in<'r>(index: &'r PatternIndex, name: &'r str) -> Option<PatternMatch<'r>> {
        let (entry, caps) = index.best(name)?;
        Some(PatternMatch::new(name, entry, caps))
    }

    fn all_in<'r>(index: &'r PatternIndex, name: &'r str) -> Vec<PatternMatch<'r>> {
        index
            .all(name)
            .into_iter()
            .map(|(entry, caps)| PatternMatch::new(name, entry, caps))
            .collect()
    }

    /// Whether [`PatternRouter::insert`] would accept `deployment` (ignoring ids already present): its id
    /// is not empty, its pattern parses, and its target's `*` count is 0 or the pattern's. Nothing is
    /// inserted.
    ///
    /// ```
    /// use modelroute::{Deployment, PatternRouter};
    /// assert!(PatternRouter::check(&Deployment::new("a/*", "b/*")?).is_ok());
    /// assert!(PatternRouter::check(&Deployment::new("a/*", "b/*/*")?).is_err());
    /// # Ok::<(), modelroute::DeploymentError>(())
    /// ```
    pub fn check(deployment: &Deployment) -> Result<(), PatternError> {
        Self::parse_parts(deployment).map(|_| ())
    }

    /// The pattern and target of `deployment`, validated.
    fn parse_parts(deployment: &Deployment) -> Result<(Pattern, Target), PatternError> {
        if deployment.id().as_str().is_empty() {
            return Err(PatternError::EmptyId {
                model_name: deployment.model_name().to_string(),
            });
        }
        let pattern = Pattern::parse(deployment.routing_name())?;
        let target = Target::parse(deployment.litellm_params().model());
        if target.wildcards() != 0 && target.wildcards() != pattern.wildcards() {
            return Err(PatternError::WildcardCountMismatch {
                id: deployment.id().clone(),
                pattern: pattern.as_str().to_string(),
                target: crate::redact::text(deployment.litellm_params().model()).into_owned(),
                pattern_wildcards: pattern.wildcards(),
                target_wildcards: target.wildcards(),
            });
        }
        Ok((pattern, target))
    }

    fn prepare(deployment: &Arc<Deployment>) -> Result<(Pattern, Member), PatternError> {
        let (pattern, target) = Self::parse_parts(deployment)?;
        let member = Member {
            deployment: deployment.clone(),
            target,
        };
        Ok((pattern, member))
    }

    fn place(&mut self, pattern: Pattern, member: Member) {
        let deployment = member.deployment.clone();
        let team = deployment.team().map(|(t, _)| t);
        self.scope_mut(team).add_member(&pattern, member);
        self.by_id.insert(
            deployment.id().clone(),
            Placement {
                team: team.map(Into::into),
                pattern: pattern.as_str().into(),
                deployment,
            },
        );
    }

    fn scope_mut(&mut self, team: Option<&str>) -> &mut PatternIndex {
        match team {
            None => &mut self.global,
            Some(team) => self.teams.entry(team.into()).or_default(),
        }
    }
}

/// A pattern that matched a requested name, with its deployments in insertion order.
///
/// Borrows the router and the requested name: a lookup copies nothing. Clone the
/// [`MatchedDeployment::deployment`] `Arc` to keep a deployment beyond the borrow.
pub struct PatternMatch<'r> {
    name: &'r str,
    pattern: &'r Pattern,
    captures: Captures,
    members: &'r [Member],
}

impl<'r> PatternMatch<'r> {
    fn new(name: &'r str, entry: &'r Entry, captures: Captures) -> Self {
        PatternMatch {
            name,
            pattern: &entry.pattern,
            captures,
            members: &entry.members,
        }
    }

    /// The pattern that matched.
    pub fn pattern(&self) -> &'r Pattern {
        self.pattern
    }

    /// The requested name.
    pub fn name(&self) -> &'r str {
        self.name
    }

    /// What each `*` captured, in order.
    pub fn captures(&self) -> impl Iterator<Item = &'r str> + '_ {
        let name = self.name;
        self.captures.iter().map(move |(s, e)| &name[s..e])
    }

    /// Number of deployments (at least one).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a pattern without deployments does not exist.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The deployment at `index` with its concrete model name.
    pub fn get(&self, index: usize) -> Option<MatchedDeployment<'r>> {
        let member: &'r Member = self.members.get(index)?;
        Some(MatchedDeployment {
            deployment: &member.deployment,
            model: self.substitute(&member.target),
        })
    }

    /// The first deployment (insertion order) with its concrete model name.
    pub fn first(&self) -> MatchedDeployment<'r> {
        self.get(0).expect("a pattern always has a deployment")
    }

    /// The deployments, in insertion order, with their concrete model names.
    pub fn iter(&self) -> impl Iterator<Item = MatchedDeployment<'r>> + '_ {
        (0..self.members.len()).filter_map(|i| self.get(i))
    }

    /// `target` with this match's captures in place of its `*`s, in order and literally (a `*` inside a
    /// capture is not substituted again); a target without `*` is returned as is. This is how
    /// [`MatchedDeployment::model`] is made from `litellm_params.model`.
    ///
    /// ```
    /// use modelroute::{Deployment, PatternRouter};
    /// let mut router = PatternRouter::new();
    /// router.insert(Deployment::new("*/*", "x/*/*")?.with_id("d")?)?;
    /// let m = router.lookup("a/b/c").unwrap();
    /// assert_eq!(m.fill("vertex/*@*"), "vertex/a/b@c");
    /// assert_eq!(m.fill("fixed"), "fixed");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill<'t>(&self, target: &'t str) -> Cow<'t, str> {
        if !target.contains('*') {
            return Cow::Borrowed(target);
        }
        Cow::Owned(self.fill_pieces(target.split('*'), target.len()))
    }

    fn substitute(&self, target: &'r Target) -> Cow<'r, str> {
        if target.pieces.len() == 1 {
            return Cow::Borrowed(&target.pieces[0]);
        }
        let len = target.pieces.iter().map(|p| p.len()).sum::<usize>();
        Cow::Owned(self.fill_pieces(target.pieces.iter().map(|p| &**p), len))
    }

    /// The pieces of a target (split at its `*`s) joined by the captures.
    fn fill_pieces<'p>(&self, pieces: impl Iterator<Item = &'p str>, len: usize) -> String {
        let mut out = String::with_capacity(self.name.len() + len);
        let mut captures = self.captures();
        for (i, piece) in pieces.enumerate() {
            if i > 0 {
                out.push_str(captures.next().unwrap_or_default());
            }
            out.push_str(piece);
        }
        out
    }
}

impl fmt::Debug for PatternMatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternMatch")
            .field("name", &self.name)
            .field("pattern", &self.pattern)
            .field("captures", &self.captures().collect::<Vec<_>>())
            .field(
                "deployments",
                &self
                    .iter()
                    .map(|m| (m.id().clone(), m.model().to_string()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A deployment matched through a pattern, with the concrete model name to call.
#[derive(Debug, Clone)]
pub struct MatchedDeployment<'m> {
    deployment: &'m Arc<Deployment>,
    model: Cow<'m, str>,
}

impl<'m> MatchedDeployment<'m> {
    /// The deployment.
    pub fn deployment(&self) -> &'m Arc<Deployment> {
        self.deployment
    }

    /// The deployment's id.
    pub fn id(&self) -> &'m DeploymentId {
        self.deployment.id()
    }

    /// The concrete model name: `litellm_params.model` with the captures in place of its `*`s.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The concrete model name, owned.
    pub fn into_model(self) -> String {
        self.model.into_owned()
    }
}

/// What a lookup did, counted in tests: how its cost depends on the name and the patterns is asserted on
/// these counts, not on time.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::Cell;

    thread_local! {
        static PATTERNS_CHECKED: Cell<usize> = const { Cell::new(0) };
    }

    /// One pattern's inner literals were compared against a requested name.
    pub(crate) fn pattern_checked() {
        PATTERNS_CHECKED.with(|c| c.set(c.get() + 1));
    }

    /// The patterns checked on this thread since the last call.
    pub(crate) fn take_patterns_checked() -> usize {
        PATTERNS_CHECKED.with(|c| c.replace(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` deployments `pre/*-v<i>-*` → `openai/*-*`: one prefix, one suffix, one bucket.
    fn shared_affix_router(count: usize) -> PatternRouter {
        let mut router = PatternRouter::new();
        for i in 0..count {
            let d = Deployment::new(format!("pre/*-v{i}-*"), "openai/*-*")
                .and_then(|d| d.with_id(format!("d{i}")))
                .expect("valid deployment");
            router.insert(d).expect("insert");
        }
        router
    }

    #[test]
    fn a_long_name_against_ten_thousand_patterns_sharing_prefix_and_suffix_checks_a_few_of_them() {
        let router = shared_affix_router(10_000);
        let filler = "x".repeat(50_000);

        work::take_patterns_checked();
        assert!(router.lookup(&format!("pre/{filler}{filler}")).is_none());
        let missed = work::take_patterns_checked();

        let name = format!("pre/{filler}-v7777-{filler}");
        let m = router.lookup(&name).expect("matches pre/*-v7777-*");
        let hit = work::take_patterns_checked();
        assert_eq!(m.pattern().as_str(), "pre/*-v7777-*");
        assert_eq!(m.first().model(), format!("openai/{filler}-{filler}"));

        assert!(
            missed <= 2 && hit <= 2,
            "checked {missed} patterns for a name that matches none, {hit} for one that matches one"
        );
    }

    #[test]
    fn patterns_sharing_one_of_their_inner_literals_are_checked_only_when_their_own_one_is_found() {
        let mut router = PatternRouter::new();
        for i in 0..10_000 {
            let d = Deployment::new(format!("pre/*/chat/*-v{i}-*"), "openai/*/*-*")
                .and_then(|d| d.with_id(format!("d{i}")))
                .expect("valid deployment");
            router.insert(d).expect("insert");
        }
        let filler = "-x".repeat(20_000);

        work::take_patterns_checked();
        let shared_only = format!("pre/{filler}/chat/{filler}");
        assert!(router.lookup(&shared_only).is_none());
        let missed = work::take_patterns_checked();

        // The right literals in the wrong order, then in the right one.
        let wrong_order = format!("pre/{filler}-v42-/chat/{filler}");
        assert!(router.lookup(&wrong_order).is_none());
        let wrong = work::take_patterns_checked();
        let name = format!("pre/{filler}/chat/x-v42-{filler}");
        let m = router.lookup(&name).expect("matches pre/*/chat/*-v42-*");
        let hit = work::take_patterns_checked();
        assert_eq!(m.pattern().as_str(), "pre/*/chat/*-v42-*");
        assert!(m.captures().eq([&filler[..], "x", &filler[..]]));

        assert!(
            missed <= 2 && wrong <= 2 && hit <= 2,
            "checked {missed}, {wrong} and {hit} patterns"
        );
    }
}
