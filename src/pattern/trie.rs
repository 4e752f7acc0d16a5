//! A byte trie in one arena, with pruning on removal: the index under [`PatternRouter`](super::PatternRouter).

/// Index of a node in the arena.
type NodeIdx = u32;

#[derive(Debug, Clone)]
struct Node<T> {
    /// Children, sorted by byte.
    children: Vec<(u8, NodeIdx)>,
    value: Option<T>,
}

impl<T> Node<T> {
    fn empty() -> Self {
        Node {
            children: Vec::new(),
            value: None,
        }
    }

    fn child(&self, byte: u8) -> Option<NodeIdx> {
        // Fan-out is small in practice; a linear scan over a short sorted vector beats a binary search.
        if self.children.len() <= 8 {
            self.children
                .iter()
                .find(|(b, _)| *b == byte)
                .map(|(_, idx)| *idx)
        } else {
            self.children
                .binary_search_by_key(&byte, |(b, _)| *b)
                .ok()
                .map(|pos| self.children[pos].1)
        }
    }
}

/// A trie from byte strings to `T`. Node 0 is the root.
#[derive(Debug, Clone)]
pub(crate) struct Trie<T> {
    nodes: Vec<Node<T>>,
    free: Vec<NodeIdx>,
}

impl<T> Default for Trie<T> {
    fn default() -> Self {
        Trie {
            nodes: vec![Node::empty()],
            free: Vec::new(),
        }
    }
}

impl<T> Trie<T> {
    /// Whether the trie holds no value.
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.len() - self.free.len() == 1 && self.nodes[0].value.is_none()
    }

    /// The value slot at `key`, creating the path.
    pub(crate) fn entry(&mut self, key: impl Iterator<Item = u8>) -> &mut Option<T> {
        let mut at: NodeIdx = 0;
        for byte in key {
            at = match self.nodes[at as usize].child(byte) {
                Some(next) => next,
                None => {
                    let next = self.alloc();
                    let children = &mut self.nodes[at as usize].children;
                    let pos = children.partition_point(|(b, _)| *b < byte);
                    children.insert(pos, (byte, next));
                    next
                }
            };
        }
        &mut self.nodes[at as usize].value
    }

    /// The value at `key`, mutably, without creating anything.
    pub(crate) fn get_mut(&mut self, key: impl Iterator<Item = u8>) -> Option<&mut T> {
        let mut at: NodeIdx = 0;
        for byte in key {
            at = self.nodes[at as usize].child(byte)?;
        }
        self.nodes[at as usize].value.as_mut()
    }

    /// Removes and returns the value at `key`, pruning nodes left without value or children.
    pub(crate) fn remove(&mut self, key: impl Iterator<Item = u8>) -> Option<T> {
        let mut path: Vec<(NodeIdx, u8)> = Vec::new();
        let mut at: NodeIdx = 0;
        for byte in key {
            let next = self.nodes[at as usize].child(byte)?;
            path.push((at, byte));
            at = next;
        }
        let value = self.nodes[at as usize].value.take()?;
        // Prune upwards.
        let mut child = at;
        while let Some((parent, byte)) = path.pop() {
            let node = &self.nodes[child as usize];
            if node.value.is_some() || !node.children.is_empty() {
                break;
            }
            let children = &mut self.nodes[parent as usize].children;
            if let Ok(pos) = children.binary_search_by_key(&byte, |(b, _)| *b) {
                children.remove(pos);
            }
            self.free.push(child);
            child = parent;
        }
        Some(value)
    }

    /// Calls `visit(depth, value)` for every value on the path of `key`, root first (depth = bytes consumed).
    #[inline]
    pub(crate) fn walk<'a>(
        &'a self,
        key: impl Iterator<Item = u8>,
        mut visit: impl FnMut(usize, &'a T),
    ) {
        let mut node = &self.nodes[0];
        let mut depth = 0;
        let mut key = key;
        loop {
            if let Some(value) = &node.value {
                visit(depth, value);
            }
            let Some(byte) = key.next() else { return };
            let Some(next) = node.child(byte) else { return };
            node = &self.nodes[next as usize];
            depth += 1;
        }
    }

    /// Number of live nodes (root included).
    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    fn alloc(&mut self) -> NodeIdx {
        match self.free.pop() {
            Some(idx) => {
                self.nodes[idx as usize] = Node::empty();
                idx
            }
            None => {
                self.nodes.push(Node::empty());
                (self.nodes.len() - 1) as NodeIdx
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_walk_remove_prunes() {
        let mut t: Trie<u32> = Trie::default();
        *t.entry("ab".bytes()) = Some(1);
        *t.entry("abcd".bytes()) = Some(2);
        *t.entry("".bytes()) = Some(0);
        let mut seen = Vec::new();
        t.walk("abcdef".bytes(), |d, v| seen.push((d, *v)));
        assert_eq!(seen, vec![(0, 0), (2, 1), (4, 2)]);
        assert_eq!(t.remove("abcd".bytes()), Some(2));
        assert_eq!(t.node_count(), 3); // root, a, b
        assert_eq!(t.remove("ab".bytes()), Some(1));
        assert_eq!(t.remove("".bytes()), Some(0));
        assert!(t.is_empty());
        assert_eq!(t.node_count(), 1);
        assert_eq!(t.remove("zz".bytes()), None);
    }
}
