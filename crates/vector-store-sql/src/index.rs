//! One session's faces in process memory: every embedding as float32, each face's box and
//! person, and each person's sum of embeddings (so that a person's mean cosine to a query is
//! one dot product). Search scans it exactly ([`SessionIndex::scores`]); the grouping plans
//! its changes against it ([`crate::grouping`]). It is kept current by session generations
//! (see [`crate::cache`]).
//!
//! Memory: `4 * dim + 64` bytes per face, plus `4 * dim` per person of two faces or more
//! (about 2.1 MB per 1,000 512-d faces).

use std::collections::HashMap;

use facepass_domain::BoundingBox;

/// A face as loaded from the database.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadedFace {
    pub face_id: u128,
    pub bbox: BoundingBox,
    pub det_score: f32,
    pub person: Option<u128>,
    pub vector: Vec<f32>,
}

/// Where a face lives in the index.
pub(crate) type Slot = u32;

#[derive(Debug, Clone)]
pub(crate) struct FaceSlot {
    pub face_id: u128,
    pub photo: u32,
    pub bbox: BoundingBox,
    pub det_score: f32,
    pub person: Option<u128>,
    pub live: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub sum: Vec<f32>,
    pub members: Vec<Slot>,
}

/// One session's faces at one generation.
#[derive(Debug)]
pub(crate) struct SessionIndex {
    pub generation: i64,
    dim: usize,
    /// `dim` values per slot.
    vectors: Vec<f32>,
    slots: Vec<FaceSlot>,
    photo_names: Vec<String>,
    photo_ids: HashMap<String, u32>,
    /// Live slots of each photo (by photo number).
    photo_slots: HashMap<u32, Vec<Slot>>,
    persons: HashMap<u128, Person>,
    live: usize,
}

/// A face of the session scoring at least the floor against some query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub slot: Slot,
    pub cosines: Vec<f32>,
}

/// Dot product in float32 with sixteen running sums (the compiler keeps them in vector
/// registers); the rounding differs from a sequential sum by about 1e-7 for unit vectors.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let cut = a.len().min(b.len()) / 16 * 16;
    for (x, y) in a[..cut].chunks_exact(16).zip(b[..cut].chunks_exact(16)) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a[cut..].iter().zip(&b[cut..]).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

pub(crate) fn add_into(sum: &mut [f32], v: &[f32]) {
    for (s, x) in sum.iter_mut().zip(v) {
        *s += x;
    }
}

impl SessionIndex {
    pub fn new(generation: i64, dim: usize) -> Self {
        Self {
            generation,
            dim,
            vectors: Vec::new(),
            slots: Vec::new(),
            photo_names: Vec::new(),
            photo_ids: HashMap::new(),
            photo_slots: HashMap::new(),
            persons: HashMap::new(),
            live: 0,
        }
    }

    /// Live faces.
    pub fn faces(&self) -> u64 {
        self.live as u64
    }

    pub fn bytes(&self) -> usize {
        self.vectors.capacity() * 4
            + self.slots.capacity() * std::mem::size_of::<FaceSlot>()
            + self.persons.len() * (self.dim * 4 + 64)
            + self.photo_names.iter().map(|p| p.len() + 48).sum::<usize>()
    }

    pub fn vector(&self, slot: Slot) -> &[f32] {
        let s = slot as usize * self.dim;
        &self.vectors[s..s + self.dim]
    }

    pub fn slot(&self, slot: Slot) -> &FaceSlot {
        &self.slots[slot as usize]
    }

    pub fn photo_name(&self, slot: Slot) -> &str {
        &self.photo_names[self.slots[slot as usize].photo as usize]
    }

    pub fn persons(&self) -> &HashMap<u128, Person> {
        &self.persons
    }

    /// Every live slot, in insertion order.
    pub fn live_slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live)
            .map(|(i, _)| i as Slot)
    }

    /// The live slots of a photo.
    pub fn photo(&self, photo: &str) -> &[Slot] {
        self.photo_ids
            .get(photo)
            .and_then(|p| self.photo_slots.get(p))
            .map_or(&[], Vec::as_slice)
    }

    /// The slot of a live face.
    pub fn find(&self, face_id: u128) -> Option<Slot> {
        // Faces are found by id only when a write names them (a guest's erasure): a scan.
        self.slots
            .iter()
            .position(|s| s.live && s.face_id == face_id)
            .map(|i| i as Slot)
    }

    fn photo_number(&mut self, photo: &str) -> u32 {
        if let Some(&n) = self.photo_ids.get(photo) {
            return n;
        }
        let n = self.photo_names.len() as u32;
        self.photo_names.push(photo.to_owned());
        self.photo_ids.insert(photo.to_owned(), n);
        n
    }

    /// Replaces a photo's faces (none: the photo is gone or has no face).
    pub fn set_photo(&mut self, photo: &str, faces: Vec<LoadedFace>) {
        let number = self.photo_number(photo);
        for slot in self.photo_slots.remove(&number).unwrap_or_default() {
            self.kill(slot);
        }
        let mut slots = Vec::with_capacity(faces.len());
        for face in faces {
            slots.push(self.push(number, face));
        }
        if !slots.is_empty() {
            self.photo_slots.insert(number, slots);
        }
        if self.slots.len() > 1024 && self.live * 2 < self.slots.len() {
            self.compact();
        }
    }

    /// Adds one face to a photo (while loading a session row by row).
    pub fn add_face(&mut self, photo: &str, face: LoadedFace) {
        let number = self.photo_number(photo);
        let slot = self.push(number, face);
        self.photo_slots.entry(number).or_default().push(slot);
    }

    /// Removes single faces (a guest's erasure) from their photos.
    pub fn remove_faces(&mut self, slots: &[Slot]) {
        for &slot in slots {
            let photo = self.slots[slot as usize].photo;
            if let Some(list) = self.photo_slots.get_mut(&photo) {
                list.retain(|s| *s != slot);
            }
            self.kill(slot);
        }
    }

    /// Moves a live face to another person (or to none).
    pub fn set_person(&mut self, slot: Slot, person: Option<u128>) {
        if self.slots[slot as usize].person == person {
            return;
        }
        self.leave_person(slot);
        self.slots[slot as usize].person = person;
        self.join_person(slot);
    }

    fn push(&mut self, photo: u32, face: LoadedFace) -> Slot {
        debug_assert_eq!(face.vector.len(), self.dim);
        let slot = self.slots.len() as Slot;
        self.vectors.extend_from_slice(&face.vector);
        self.slots.push(FaceSlot {
            face_id: face.face_id,
            photo,
            bbox: face.bbox,
            det_score: face.det_score,
            person: face.person,
            live: true,
        });
        self.live += 1;
        self.join_person(slot);
        slot
    }

    fn kill(&mut self, slot: Slot) {
        if !self.slots[slot as usize].live {
            return;
        }
        self.leave_person(slot);
        self.slots[slot as usize].live = false;
        self.live -= 1;
    }

    fn join_person(&mut self, slot: Slot) {
        let Some(person) = self.slots[slot as usize].person else {
            return;
        };
        let dim = self.dim;
        let s = slot as usize * dim;
        let entry = self.persons.entry(person).or_insert_with(|| Person {
            sum: vec![0.0; dim],
            members: Vec::new(),
        });
        add_into(&mut entry.sum, &self.vectors[s..s + dim]);
        entry.members.push(slot);
    }

    fn leave_person(&mut self, slot: Slot) {
        let Some(person) = self.slots[slot as usize].person else {
            return;
        };
        let Some(entry) = self.persons.get_mut(&person) else {
            return;
        };
        entry.members.retain(|m| *m != slot);
        if entry.members.is_empty() {
            self.persons.remove(&person);
            return;
        }
        // Summed again rather than subtracted: no rounding drift however often it changes.
        let dim = self.dim;
        let mut sum = vec![0.0; dim];
        for &m in &entry.members {
            let s = m as usize * dim;
            add_into(&mut sum, &self.vectors[s..s + dim]);
        }
        entry.sum = sum;
    }

    fn compact(&mut self) {
        let mut fresh = Self::new(self.generation, self.dim);
        let mut photos: Vec<(u32, Vec<Slot>)> = self.photo_slots.drain().collect();
        photos.sort_unstable();
        for (photo, slots) in photos {
            let name = self.photo_names[photo as usize].clone();
            let faces = slots
                .into_iter()
                .map(|slot| {
                    let s = &self.slots[slot as usize];
                    LoadedFace {
                        face_id: s.face_id,
                        bbox: s.bbox,
                        det_score: s.det_score,
                        person: s.person,
                        vector: self.vector(slot).to_vec(),
                    }
                })
                .collect();
            fresh.set_photo(&name, faces);
        }
        *self = fresh;
    }

    /// Every live face whose cosine to some query is at least `floor`, with its cosine to
    /// each query, in slot order.
    pub fn scores(&self, queries: &[&[f32]], floor: f32) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut cosines = vec![0.0f32; queries.len()];
        for (slot, row) in self.vectors.chunks_exact(self.dim.max(1)).enumerate() {
            if !self.slots[slot].live {
                continue;
            }
            let mut best = f32::NEG_INFINITY;
            for (c, q) in cosines.iter_mut().zip(queries) {
                *c = dot(q, row);
                best = best.max(*c);
            }
            if best >= floor {
                out.push(Candidate {
                    slot: slot as Slot,
                    cosines: cosines.clone(),
                });
            }
        }
        out
    }

    /// Every live face of a photo with its cosine to each query (no floor).
    pub fn photo_candidates(&self, photo: &str, queries: &[&[f32]]) -> Vec<Candidate> {
        self.photo(photo)
            .iter()
            .map(|&slot| Candidate {
                slot,
                cosines: queries.iter().map(|q| dot(q, self.vector(slot))).collect(),
            })
            .collect()
    }

    /// A person's face count and mean cosine to each query over all its faces.
    pub fn person_links(&self, person: u128, queries: &[&[f32]]) -> Option<(u64, Vec<f32>)> {
        let p = self.persons.get(&person)?;
        let n = p.members.len() as f32;
        Some((
            p.members.len() as u64,
            queries.iter().map(|q| dot(q, &p.sum) / n).collect(),
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    pub struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        }
        pub fn unit(&mut self, dim: usize) -> Vec<f32> {
            let v: Vec<f32> = (0..dim).map(|_| self.next()).collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        }
    }

    pub fn face(id: u128, person: Option<u128>, vector: Vec<f32>) -> LoadedFace {
        LoadedFace {
            face_id: id,
            bbox: BoundingBox {
                x: 0.0,
                y: 0.0,
                width: 10.0,
                height: 10.0,
            },
            det_score: 0.9,
            person,
            vector,
        }
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_scan_returns_exactly_the_faces_at_or_above_the_floor() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for dim in [8, 17, 192, 512] {
            let mut index = SessionIndex::new(1, dim);
            let mut faces = Vec::new();
            for i in 0..300u128 {
                let v = rng.unit(dim);
                index.set_photo(&format!("p{i}"), vec![face(i, None, v.clone())]);
                faces.push((i, v));
            }
            let q = rng.unit(dim);
            for floor in [-0.2f32, 0.0, 0.1, 0.3] {
                let got: Vec<u128> = index
                    .scores(&[&q], floor)
                    .iter()
                    .map(|c| index.slot(c.slot).face_id)
                    .collect();
                let want: Vec<u128> = faces
                    .iter()
                    .filter(|(_, v)| cosine(&q, v) >= floor + 1e-5)
                    .map(|(i, _)| *i)
                    .collect();
                for id in &want {
                    assert!(
                        got.contains(id),
                        "dim {dim} floor {floor}: face {id} missed"
                    );
                }
                for c in index.scores(&[&q], floor) {
                    let exact = cosine(&q, index.vector(c.slot));
                    assert!((c.cosines[0] - exact).abs() < 1e-5);
                }
            }
        }
    }

    #[test]
    fn persons_keep_the_sum_of_their_faces_through_replacements_and_removals() {
        let mut rng = Rng(7);
        let mut index = SessionIndex::new(1, 16);
        let (a, b, c) = (rng.unit(16), rng.unit(16), rng.unit(16));
        index.set_photo("p1", vec![face(1, Some(100), a.clone())]);
        index.set_photo("p2", vec![face(2, Some(100), b.clone())]);
        index.set_photo("p3", vec![face(3, Some(100), c.clone())]);
        let (n, links) = index.person_links(100, &[&a]).unwrap();
        assert_eq!(n, 3);
        let want = (cosine(&a, &a) + cosine(&a, &b) + cosine(&a, &c)) / 3.0;
        assert!((links[0] - want).abs() < 1e-5);

        index.set_photo("p2", Vec::new());
        let (n, links) = index.person_links(100, &[&a]).unwrap();
        assert_eq!(n, 2);
        assert!((links[0] - (cosine(&a, &a) + cosine(&a, &c)) / 2.0).abs() < 1e-5);

        let slot = index.photo("p3")[0];
        index.set_person(slot, None);
        assert_eq!(index.person_links(100, &[&a]).unwrap().0, 1);
        index.remove_faces(&[index.photo("p1")[0]]);
        assert!(index.person_links(100, &[&a]).is_none());
        assert_eq!(index.faces(), 1);
    }

    #[test]
    fn compaction_keeps_every_live_face_and_person() {
        let mut rng = Rng(99);
        let mut index = SessionIndex::new(1, 8);
        for round in 0..4u128 {
            for i in 0..1000u128 {
                let person = (i % 10 == 0).then_some(7);
                index.set_photo(
                    &format!("p{i}"),
                    vec![face(round * 10_000 + i, person, rng.unit(8))],
                );
            }
        }
        assert_eq!(index.faces(), 1000);
        assert!(index.slots.len() < 4000, "dead slots were compacted");
        let all = index.scores(&[&rng.unit(8)], -2.0);
        assert_eq!(all.len(), 1000);
        assert!(all.iter().all(|c| index.slot(c.slot).face_id >= 30_000));
        assert_eq!(index.person_links(7, &[&rng.unit(8)]).unwrap().0, 100);
    }
}
