//! A map with a limit: when it is full, a new key evicts the entry seen least
//! recently, and the eviction is counted (profiles report them, never silently).
//! Serialized oldest first, so that a checkpoint keeps the order.

use lru::LruCache;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::Hash;
use std::num::NonZeroUsize;

pub struct Bounded<K: Hash + Eq, V> {
    map: LruCache<K, V, foldhash::fast::RandomState>,
    pub evicted: u64,
}

impl<K: Hash + Eq, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Bounded<K, V> {
        let cap = NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN);
        Bounded { map: LruCache::with_hasher(cap, foldhash::fast::RandomState::default()), evicted: 0 }
    }

    /// The entry of `key`, made by `make` if there is none (evicting the least
    /// recently seen entry when full).
    pub fn entry(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if self.map.len() == self.map.cap().get() && !self.map.contains(&key) {
            // The cache reuses the evicted entry's node.
            self.evicted += 1;
        }
        self.map.get_or_insert_mut(key, make)
    }

    /// The entry of a key looked up by a borrowed form (the key is made only when
    /// the entry is new).
    pub fn entry_by<Q>(&mut self, key: &Q, make: impl FnOnce() -> (K, V)) -> &mut V
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.map.contains(key) {
            let (k, v) = make();
            if self.map.push(k, v).is_some() {
                self.evicted += 1;
            }
        }
        // Just found or put there.
        self.map.get_mut(key).unwrap_or_else(|| unreachable!("the entry was just made"))
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.map.is_empty() {
            return None;
        }
        self.map.pop(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Every entry, most recently seen first.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }

    /// Takes every entry out, oldest first.
    pub fn drain(&mut self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.map.len());
        while let Some(kv) = self.map.pop_lru() {
            out.push(kv);
        }
        out
    }
}

#[derive(Serialize, Deserialize)]
struct Saved<K, V> {
    cap: usize,
    evicted: u64,
    /// Oldest first.
    entries: Vec<(K, V)>,
}

impl<K: Hash + Eq + Serialize, V: Serialize> Serialize for Bounded<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries: Vec<(&K, &V)> = self.map.iter().rev().collect();
        Saved { cap: self.map.cap().get(), evicted: self.evicted, entries }.serialize(s)
    }
}

impl<'de, K: Hash + Eq + DeserializeOwned, V: DeserializeOwned> Deserialize<'de> for Bounded<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bounded<K, V>, D::Error> {
        let saved: Saved<K, V> = Saved::deserialize(d)?;
        let mut b = Bounded::new(saved.cap);
        b.evicted = saved.evicted;
        for (k, v) in saved.entries {
            b.map.push(k, v);
        }
        Ok(b)
    }
}

impl<K: Hash + Eq, V> Bounded<K, V> {
    /// The same map with another limit (the settings may change between runs): the
    /// oldest entries go first when it shrinks, and count as evicted.
    pub fn with_cap(mut self, cap: usize) -> Bounded<K, V> {
        let mut b = Bounded::new(cap);
        b.evicted = self.evicted;
        for (k, v) in self.drain() {
            if b.map.push(k, v).is_some() {
                b.evicted += 1;
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_seen_goes_first_and_is_counted() {
        let mut b: Bounded<u32, u32> = Bounded::new(2);
        *b.entry(1, || 0) += 1;
        *b.entry(2, || 0) += 1;
        *b.entry(1, || 0) += 1;
        *b.entry(3, || 0) += 1;
        assert_eq!(b.evicted, 1);
        assert!(b.get_mut(&2).is_none(), "2 was seen least recently");
        let text = serde_json::to_string(&b).unwrap();
        let mut back: Bounded<u32, u32> = serde_json::from_str(&text).unwrap();
        assert_eq!(back.drain(), b.drain());
    }
}
