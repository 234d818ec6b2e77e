//! The sessions this process holds in memory ([`SessionIndex`]), within a byte budget: the
//! least recently used sessions are evicted first, and a session larger than the whole
//! budget is never held (its searches read it from the database each time, and its new
//! faces are not grouped).
//!
//! An entry is current when its generation is the session's (migration 0002): a reader
//! checks that with one statement and reads only the photos written since; a writer brings
//! it current inside its transaction, holding the session's lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::index::SessionIndex;

/// A session's entry: its index (or none yet) and when it was last used.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    pub index: RwLock<Option<SessionIndex>>,
    /// Held while the entry is brought current or written: concurrent searches of a cold
    /// session wait for one load instead of each loading the whole session, and no search
    /// reads an index a write is changing.
    pub refreshing: tokio::sync::Mutex<()>,
    last_used: AtomicU64,
    /// The session outgrew the whole budget once: it is not held from then on.
    oversized: AtomicBool,
}

impl Entry {
    pub fn is_oversized(&self) -> bool {
        self.oversized.load(Ordering::Relaxed)
    }

    pub fn mark_oversized(&self) {
        self.oversized.store(true, Ordering::Relaxed);
        self.clear();
    }

    /// Forgets the index (it is loaded again when next needed).
    pub fn clear(&self) {
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<SessionIndex>> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<SessionIndex>> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The per-session indexes, within a memory budget.
#[derive(Debug)]
pub(crate) struct SessionCache {
    budget_bytes: usize,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    clock: AtomicU64,
    pub from_memory: AtomicU64,
    pub loaded: AtomicU64,
}

/// How the store's searches were answered since it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Searches answered from a session held in memory (after reading what changed).
    pub from_memory: u64,
    /// Searches of sessions not held (over the budget): scored by the database, or read
    /// whole from it.
    pub loaded: u64,
    /// Bytes held across sessions.
    pub bytes: usize,
}

impl SessionCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            budget_bytes,
            entries: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            from_memory: AtomicU64::new(0),
            loaded: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        CacheStats {
            from_memory: self.from_memory.load(Ordering::Relaxed),
            loaded: self.loaded.load(Ordering::Relaxed),
            bytes: entries
                .values()
                .map(|e| e.read().as_ref().map_or(0, SessionIndex::bytes))
                .sum(),
        }
    }

    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }

    pub fn entry(&self, session: &str) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(session.to_owned()).or_default().clone();
        entry.last_used.store(
            self.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        entry
    }

    pub fn forget(&self, session: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(session);
    }

    /// Evicts the least recently used sessions until the cache fits its budget again.
    pub fn trim(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut sized: Vec<(u64, usize, String)> = entries
            .iter()
            .map(|(k, e)| {
                let bytes = e.read().as_ref().map_or(0, SessionIndex::bytes);
                (e.last_used.load(Ordering::Relaxed), bytes, k.clone())
            })
            .collect();
        let mut total: usize = sized.iter().map(|(_, b, _)| b).sum();
        sized.sort();
        for (_, bytes, key) in sized {
            if total <= self.budget_bytes {
                break;
            }
            entries.remove(&key);
            total -= bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::index::tests::face;

    #[test]
    fn the_least_recently_used_sessions_are_evicted_first() {
        let one = || {
            let mut idx = SessionIndex::new(1, 512);
            idx.set_photo("p", vec![face(1, None, vec![0.1; 512])]);
            idx
        };
        // Room for two sessions and a half.
        let cache = SessionCache::new(one().bytes() * 5 / 2);
        for name in ["a", "b", "c"] {
            *cache.entry(name).write() = Some(one());
        }
        cache.entry("a");
        cache.trim();
        let entries = cache.entries.lock().unwrap();
        assert!(entries.contains_key("a") && entries.contains_key("c"));
        assert!(!entries.contains_key("b"));
    }
}
