//! A table of per-5-tuple state that ends after a time without packets, bounded in
//! entries: what DNS transactions and TCP streams both keep. Deadlines are kept
//! lazily in the order entries were last pushed; one whose entry moved on is pushed
//! again when it comes up, so a packet costs one hash lookup and no reordering.

use super::flow::Key;
use std::collections::{HashMap, VecDeque};

struct Entry<V> {
    serial: u64,
    last_ns: i64,
    value: V,
}

pub(super) struct IdleTable<V> {
    map: HashMap<Key, Entry<V>, foldhash::fast::RandomState>,
    /// (deadline, key, serial of the entry it was pushed for).
    due: VecDeque<(i64, Key, u64)>,
    serial: u64,
    idle_ns: i64,
}

impl<V> IdleTable<V> {
    pub fn new(idle_ns: i64) -> IdleTable<V> {
        IdleTable { map: HashMap::default(), due: VecDeque::new(), serial: 0, idle_ns }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    #[cfg(test)]
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|e| &e.value)
    }

    pub fn contains(&self, key: &Key) -> bool {
        self.map.contains_key(key)
    }

    /// A new entry, seen at `now_ns`.
    pub fn insert(&mut self, key: Key, now_ns: i64, value: V) {
        self.serial += 1;
        self.map.insert(key, Entry { serial: self.serial, last_ns: now_ns, value });
        self.due.push_back((now_ns.saturating_add(self.idle_ns), key, self.serial));
    }

    /// The entry of `key`, seen again at `now_ns`.
    pub fn touch(&mut self, key: &Key, now_ns: i64) -> Option<&mut V> {
        let e = self.map.get_mut(key)?;
        e.last_ns = e.last_ns.max(now_ns);
        Some(&mut e.value)
    }

    pub fn remove(&mut self, key: &Key) -> Option<V> {
        self.map.remove(key).map(|e| e.value)
    }

    /// The entries idle for the timeout at `now_ns`, with the time each was last seen.
    pub fn expire(&mut self, now_ns: i64, mut close: impl FnMut(V, i64)) {
        while let Some(&(deadline, key, serial)) = self.due.front() {
            if deadline > now_ns {
                break;
            }
            self.due.pop_front();
            let Some(e) = self.map.get(&key).filter(|e| e.serial == serial) else { continue };
            let next = e.last_ns.saturating_add(self.idle_ns);
            if next > now_ns {
                self.due.push_back((next, key, serial));
                continue;
            }
            if let Some(e) = self.map.remove(&key) {
                close(e.value, e.last_ns);
            }
        }
    }

    /// The entry idle longest (to make room), with the time it was last seen.
    pub fn pop_oldest(&mut self) -> Option<(V, i64)> {
        while let Some((_, key, serial)) = self.due.pop_front() {
            if self.map.get(&key).is_some_and(|e| e.serial == serial) {
                return self.map.remove(&key).map(|e| (e.value, e.last_ns));
            }
        }
        None
    }

    /// Every entry, in the order they were first seen, with the time each was last seen.
    pub fn drain(&mut self) -> Vec<(V, i64)> {
        let mut all: Vec<Entry<V>> = self.map.drain().map(|(_, e)| e).collect();
        all.sort_unstable_by_key(|e| e.serial);
        self.due.clear();
        all.into_iter().map(|e| (e.value, e.last_ns)).collect()
    }
}
