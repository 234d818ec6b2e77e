//! The search cache: per session, every face's embedding quantised to int8 in process memory,
//! kept current by session generations (migration 0002) and used only to *choose candidates*.
//!
//! A search scans the int8 codes (a quarter of the float32 bytes, integer SIMD), keeps every
//! face whose approximate cosine plus a proven error bound reaches the threshold, and has
//! Postgres score exactly those faces with the same SQL as a full scan. The bound covers the
//! quantisation of both vectors, so no face that the full scan would return is ever left out;
//! the answer is the full scan's answer, row for row. The rescoring statement also reads the
//! session's generation in the same snapshot, and the cache's answer is used only if it is
//! the generation the candidates were chosen at; otherwise the caller scans in SQL.
//!
//! Memory: `dim + 25` bytes per face plus per-photo bookkeeping (72.5 MB for 100,000 512-d
//! faces, 3 per photo, in `store_bench`), bounded by a budget across
//! sessions; the least recently searched sessions are evicted first, and a session larger than
//! the whole budget is never cached (its searches scan in SQL).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// One session's quantised faces at one generation.
#[derive(Debug, Default)]
pub(crate) struct SessionIndex {
    pub generation: i64,
    dim: usize,
    /// `dim` codes per slot.
    codes: Vec<i8>,
    /// Per slot: the dequantisation step (`max |v_i| / 127`); the face is `scale * codes`.
    scales: Vec<f32>,
    /// Per slot: `sum |codes_i|`, for the error bound.
    code_l1: Vec<f32>,
    face_ids: Vec<u128>,
    live: Vec<bool>,
    photos: HashMap<String, Vec<u32>>,
    dead: usize,
}

/// A query prepared for scanning: its own int8 codes and the terms of the error bound.
#[derive(Debug)]
pub(crate) struct PreparedQuery {
    codes: Vec<i16>,
    scale: f32,
    /// `sum |q_i|` of the float32 query.
    l1: f32,
}

/// Absolute slack on top of the quantisation bound: float32 rounding in the bound itself and
/// in pgvector's own inner product (at most ~dim * 2^-24 for unit vectors).
const SLACK: f32 = 1e-4;

fn quantise(v: &[f32], out: &mut Vec<i8>) -> (f32, f32) {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let mut l1 = 0.0f32;
    out.extend(v.iter().map(|x| {
        let c = (x / scale).round().clamp(-127.0, 127.0);
        l1 += c.abs();
        c as i8
    }));
    (scale, l1)
}

/// Integer dot product of the (pre-widened) query and one face's codes; inlined into the scan
/// loop, which [`simd`] compiles once more for AVX2.
#[inline(always)]
fn dot_i8(q: &[i16], c: &[i8]) -> i32 {
    q.iter()
        .zip(c)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

impl PreparedQuery {
    pub fn new(query: &[f32]) -> Self {
        let mut codes = Vec::with_capacity(query.len());
        let (scale, _) = quantise(query, &mut codes);
        Self {
            codes: codes.into_iter().map(i16::from).collect(),
            scale,
            l1: query.iter().map(|x| x.abs()).sum(),
        }
    }
}

impl SessionIndex {
    pub fn new(generation: i64, dim: usize) -> Self {
        Self {
            generation,
            dim,
            ..Self::default()
        }
    }

    #[cfg(test)]
    pub fn faces(&self) -> usize {
        self.live.len() - self.dead
    }

    pub fn bytes(&self) -> usize {
        self.codes.capacity() + self.live.capacity() * (4 + 4 + 16 + 1) + self.photos.len() * 64
    }

    /// Replaces a photo's faces (none: the photo is gone or has no face).
    pub fn set_photo(&mut self, photo: &str, faces: &[(u128, Vec<f32>)]) {
        if let Some(old) = self.photos.remove(photo) {
            for slot in old {
                self.live[slot as usize] = false;
                self.dead += 1;
            }
        }
        for (id, v) in faces {
            self.add(photo, *id, v);
        }
        if self.dead > 1024 && self.dead * 2 > self.live.len() {
            self.compact();
        }
    }

    /// Adds one face of a photo (while loading a session, photo by photo or row by row).
    pub fn add(&mut self, photo: &str, id: u128, v: &[f32]) {
        debug_assert_eq!(v.len(), self.dim);
        let slot = self.live.len() as u32;
        let (scale, l1) = quantise(v, &mut self.codes);
        self.scales.push(scale);
        self.code_l1.push(l1);
        self.face_ids.push(id);
        self.live.push(true);
        match self.photos.get_mut(photo) {
            Some(slots) => slots.push(slot),
            None => {
                self.photos.insert(photo.to_owned(), vec![slot]);
            }
        }
    }

    fn compact(&mut self) {
        let mut fresh = Self::new(self.generation, self.dim);
        let photos = std::mem::take(&mut self.photos);
        for (photo, slots) in photos {
            let mut new_slots = Vec::with_capacity(slots.len());
            for slot in slots {
                let s = slot as usize;
                new_slots.push(fresh.live.len() as u32);
                fresh
                    .codes
                    .extend_from_slice(&self.codes[s * self.dim..(s + 1) * self.dim]);
                fresh.scales.push(self.scales[s]);
                fresh.code_l1.push(self.code_l1[s]);
                fresh.face_ids.push(self.face_ids[s]);
                fresh.live.push(true);
            }
            fresh.photos.insert(photo, new_slots);
        }
        *self = fresh;
    }

    /// Every live face whose cosine with the query may reach `min_cosine`: a superset of the
    /// faces an exact scan keeps. Stops (returns `None`) past `max` candidates.
    pub fn candidates(&self, q: &PreparedQuery, min_cosine: f32, max: usize) -> Option<Vec<u128>> {
        simd::candidates(self, q, min_cosine, max)
    }

    #[inline(always)]
    fn scan(&self, q: &PreparedQuery, min_cosine: f32, max: usize) -> Option<Vec<u128>> {
        let mut out = Vec::new();
        let half_q_l1 = q.l1 * 0.5;
        let half_q_step = q.scale * 0.5;
        for (slot, codes) in self.codes.chunks_exact(self.dim).enumerate() {
            if !self.live[slot] {
                continue;
            }
            let s = self.scales[slot];
            // q.v - q^.v^ = q.(v - v^) + (q - q^).v^, with |v - v^|_inf <= s/2 and
            // |q - q^|_inf <= q.scale/2, so the error is at most s * (|q|_1 + q.scale * |c|_1) / 2.
            let approx = q.scale * s * dot_i8(&q.codes, codes) as f32;
            let bound = s * (half_q_l1 + half_q_step * self.code_l1[slot]) + SLACK;
            if approx + bound >= min_cosine {
                if out.len() == max {
                    return None;
                }
                out.push(self.face_ids[slot]);
            }
        }
        Some(out)
    }
}

/// The scan loop, compiled for the CPU it runs on. Without SSE4.1 the widening of i8 codes is
/// slow (16 ms per 100,000 512-d faces on the benchmark machine; 3 ms with AVX2).
#[allow(unsafe_code)]
mod simd {
    use super::{PreparedQuery, SessionIndex};

    /// [`SessionIndex::scan`] compiled with AVX2 where the CPU has it.
    pub fn candidates(
        index: &SessionIndex,
        q: &PreparedQuery,
        min_cosine: f32,
        max: usize,
    ) -> Option<Vec<u128>> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: `scan_avx2` requires only that the CPU supports AVX2, checked just above.
            return unsafe { scan_avx2(index, q, min_cosine, max) };
        }
        index.scan(q, min_cosine, max)
    }

    /// `scan` and `dot_i8` are `#[inline(always)]`: their code is generated here, with AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn scan_avx2(
        index: &SessionIndex,
        q: &PreparedQuery,
        min_cosine: f32,
        max: usize,
    ) -> Option<Vec<u128>> {
        index.scan(q, min_cosine, max)
    }
}

/// A session's entry: its index (or none yet) and when it was last searched.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    pub index: RwLock<Option<SessionIndex>>,
    /// Held while the entry is refreshed: concurrent searches of a cold session wait for one
    /// load instead of each loading the whole session.
    pub refreshing: tokio::sync::Mutex<()>,
    last_used: AtomicU64,
    /// The session outgrew the whole budget once: its searches scan in SQL from then on.
    oversized: AtomicBool,
}

impl Entry {
    pub fn is_oversized(&self) -> bool {
        self.oversized.load(Ordering::Relaxed)
    }

    pub fn mark_oversized(&self) {
        self.oversized.store(true, Ordering::Relaxed);
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The per-session indexes, within a memory budget.
#[derive(Debug)]
pub(crate) struct SearchCache {
    budget_bytes: usize,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    clock: AtomicU64,
    pub answered: AtomicU64,
    pub scanned: AtomicU64,
}

/// How searches were answered since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Searches answered through the cache (candidates rescored, or none possible).
    pub answered: u64,
    /// Searches the cache could not answer, scanned in SQL instead.
    pub scanned: u64,
    /// Faces held across sessions.
    pub bytes: usize,
}

impl SearchCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            budget_bytes,
            entries: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            scanned: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        CacheStats {
            answered: self.answered.load(Ordering::Relaxed),
            scanned: self.scanned.load(Ordering::Relaxed),
            bytes: entries
                .values()
                .map(|e| {
                    e.index
                        .read()
                        .map(|i| i.as_ref().map_or(0, SessionIndex::bytes))
                        .unwrap_or(0)
                })
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

    /// Evicts the least recently searched sessions until the cache fits its budget again.
    pub fn trim(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut sized: Vec<(u64, usize, String)> = entries
            .iter()
            .map(|(k, e)| {
                let bytes = e
                    .index
                    .read()
                    .map(|i| i.as_ref().map_or(0, SessionIndex::bytes))
                    .unwrap_or(0);
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

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        }
        fn unit(&mut self, dim: usize) -> Vec<f32> {
            let v: Vec<f32> = (0..dim).map(|_| self.next()).collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        }
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn candidates_are_a_superset_of_the_exact_matches_at_every_threshold() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for dim in [8, 192, 512] {
            let mut index = SessionIndex::new(1, dim);
            let mut faces = Vec::new();
            for i in 0..400u128 {
                // Some faces close to the first query, most random.
                let v = if i % 10 == 0 && !faces.is_empty() {
                    let (_, base): &(u128, Vec<f32>) = &faces[0];
                    let noise = rng.unit(dim);
                    let mixed: Vec<f32> =
                        base.iter().zip(&noise).map(|(b, n)| b + 0.6 * n).collect();
                    let n = mixed.iter().map(|x| x * x).sum::<f32>().sqrt();
                    mixed.into_iter().map(|x| x / n).collect()
                } else {
                    rng.unit(dim)
                };
                index.set_photo(&format!("p{i}"), &[(i, v.clone())]);
                faces.push((i, v));
            }
            for qi in 0..20 {
                let q = if qi == 0 {
                    faces[0].1.clone()
                } else {
                    rng.unit(dim)
                };
                let prepared = PreparedQuery::new(&q);
                for t in [-0.2f32, 0.0, 0.1, 0.3, 0.42, 0.6, 0.9] {
                    let got = index.candidates(&prepared, t, usize::MAX).unwrap();
                    for (id, v) in &faces {
                        if cosine(&q, v) >= t {
                            assert!(got.contains(id), "dim {dim} t {t}: face {id} left out");
                        }
                    }
                    if t >= 0.3 && dim >= 192 {
                        // The bound is tight enough to be useful on random faces.
                        assert!(got.len() < 60, "dim {dim} t {t}: {} candidates", got.len());
                    }
                }
            }
        }
    }

    #[test]
    fn replaced_and_removed_photos_leave_no_candidates_behind() {
        let mut rng = Rng(7);
        let mut index = SessionIndex::new(1, 16);
        let a = rng.unit(16);
        index.set_photo("p", &[(1, a.clone()), (2, rng.unit(16))]);
        let q = PreparedQuery::new(&a);
        assert_eq!(index.candidates(&q, 0.99, 10).unwrap(), vec![1]);
        index.set_photo("p", &[(3, a.clone())]);
        assert_eq!(index.candidates(&q, 0.99, 10).unwrap(), vec![3]);
        index.set_photo("p", &[]);
        assert!(index.candidates(&q, -1.0, 10).unwrap().is_empty());
        assert_eq!(index.faces(), 0);
        // Past the cap the caller is told to scan in SQL instead.
        for i in 0..5 {
            index.set_photo(&format!("x{i}"), &[(10 + i, rng.unit(16))]);
        }
        assert!(index.candidates(&q, -2.0, 3).is_none());
    }

    #[test]
    fn compaction_keeps_every_live_face() {
        let mut rng = Rng(99);
        let mut index = SessionIndex::new(1, 8);
        for round in 0..4u128 {
            for i in 0..1000u128 {
                index.set_photo(&format!("p{i}"), &[(round * 10_000 + i, rng.unit(8))]);
            }
        }
        assert_eq!(index.faces(), 1000);
        assert!(index.live.len() < 4000, "dead slots were compacted");
        let q = PreparedQuery::new(&rng.unit(8));
        let all = index.candidates(&q, -2.0, usize::MAX).unwrap();
        assert_eq!(all.len(), 1000);
        assert!(all.iter().all(|id| *id >= 30_000));
    }

    #[test]
    fn the_least_recently_searched_sessions_are_evicted_first() {
        let one = || {
            let mut idx = SessionIndex::new(1, 512);
            idx.set_photo("p", &[(1, vec![0.1; 512])]);
            idx
        };
        // Room for two sessions and a half.
        let cache = SearchCache::new(one().bytes() * 5 / 2);
        for name in ["a", "b", "c"] {
            *cache.entry(name).index.write().unwrap() = Some(one());
        }
        cache.entry("a");
        cache.trim();
        let entries = cache.entries.lock().unwrap();
        assert!(entries.contains_key("a") && entries.contains_key("c"));
        assert!(!entries.contains_key("b"));
    }
}
