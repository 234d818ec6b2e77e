//! The grouping of a session's faces into persons, by the rules of
//! [`facepass_domain::people`], planned inside the transaction that writes a photo (or
//! removes faces) against the session's [`SessionIndex`], which it leaves untouched: the plan
//! is applied to the index only once the transaction has committed.
//!
//! Each face to group starts as a group of one and absorbs, one at a time, the group it
//! links to best (the mean cosine over their pairs minus what groups of those sizes need),
//! while any clears the bar: that is how a new face joins a person (or a lone face, making a
//! person of two), and how two persons that come to link merge. Groups that share a photo
//! never merge. When faces are removed, the rest of each person they belonged to is grouped
//! again among itself; its largest part keeps the person's id.

use std::collections::{HashMap, HashSet};

use facepass_domain::PersonId;
use facepass_domain::people::{PeoplePolicy, Scale};

use crate::index::{SessionIndex, Slot, add_into, dot};

/// A face to group that is not in the index yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewFace<'a> {
    pub photo: &'a str,
    pub vector: &'a [f32],
}

/// What a write does to the session's people.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Plan {
    /// The person of each new face, in order.
    pub added: Vec<Option<u128>>,
    /// Faces already stored whose person changes.
    pub moved: Vec<(Slot, Option<u128>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Member {
    Slot(Slot),
    New(usize),
}

#[derive(Debug, Clone)]
struct Group {
    /// The person id it keeps (the oldest of the persons it absorbed); `None`: a new person.
    id: Option<u128>,
    sum: Vec<f32>,
    members: Vec<Member>,
    photos: HashSet<String>,
}

/// A candidate to absorb.
#[derive(Debug, Clone, Copy)]
enum Other {
    Base(u128),
    Lone(Slot),
    Planned(usize),
}

struct Planner<'a> {
    index: &'a SessionIndex,
    policy: &'a PeoplePolicy,
    new_faces: &'a [NewFace<'a>],
    /// The session's size once the write is done (the rules depend on it); persons as before.
    scale: Scale,
    groups: Vec<Group>,
    /// Base persons copied into `groups`.
    touched: HashMap<u128, usize>,
    /// Members of `groups`.
    assigned: HashMap<Member, usize>,
    /// Stored faces that take no part: removed by this write, or pending and not yet grouped.
    hidden: HashSet<Slot>,
}

/// Plans a write: `removed` faces leave the session, `pending` stored faces (never grouped,
/// as after the migration that introduced persons) are grouped in order, then `added` faces.
pub(crate) fn plan(
    index: &SessionIndex,
    policy: &PeoplePolicy,
    removed: &[Slot],
    pending: &[Slot],
    added: &[NewFace<'_>],
) -> Plan {
    let scale = Scale {
        faces: (index.faces() + added.len() as u64).saturating_sub(removed.len() as u64),
        persons: index.persons().len() as u64,
    };
    let mut planner = Planner {
        index,
        policy,
        new_faces: added,
        scale,
        groups: Vec::new(),
        touched: HashMap::new(),
        assigned: HashMap::new(),
        hidden: removed.iter().chain(pending).copied().collect(),
    };
    let mut affected: Vec<u128> = removed
        .iter()
        .filter_map(|&s| index.slot(s).person)
        .collect();
    affected.sort_unstable();
    affected.dedup();
    for person in affected {
        planner.regroup(person, removed);
    }
    for &slot in pending {
        planner.hidden.remove(&slot);
        planner.absorb_from(Member::Slot(slot));
    }
    for i in 0..added.len() {
        planner.absorb_from(Member::New(i));
    }
    planner.finish()
}

impl Planner<'_> {
    fn vector(&self, member: Member) -> &[f32] {
        match member {
            Member::Slot(s) => self.index.vector(s),
            Member::New(i) => self.new_faces[i].vector,
        }
    }

    fn photo(&self, member: Member) -> &str {
        match member {
            Member::Slot(s) => self.index.photo_name(s),
            Member::New(i) => self.new_faces[i].photo,
        }
    }

    fn single(&self, member: Member, id: Option<u128>) -> Group {
        Group {
            id,
            sum: self.vector(member).to_vec(),
            members: vec![member],
            photos: HashSet::from([self.photo(member).to_owned()]),
        }
    }

    fn add_group(&mut self, group: Group) -> usize {
        let g = self.groups.len();
        for &m in &group.members {
            self.assigned.insert(m, g);
        }
        self.groups.push(group);
        g
    }

    /// The rest of `person` after `removed` left it, grouped again among itself.
    fn regroup(&mut self, person: u128, removed: &[Slot]) {
        let Some(base) = self.index.persons().get(&person) else {
            return;
        };
        let removed: HashSet<Slot> = removed.iter().copied().collect();
        let mut rest: Vec<Slot> = base
            .members
            .iter()
            .copied()
            .filter(|s| !removed.contains(s))
            .collect();
        rest.sort_unstable();
        // Each remaining face absorbs the best of the parts formed so far, as a new face does.
        let mut parts: Vec<Group> = Vec::new();
        for &slot in &rest {
            let mut part = self.single(Member::Slot(slot), None);
            loop {
                let best = parts
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !p.members.is_empty() && p.photos.is_disjoint(&part.photos))
                    .map(|(i, p)| {
                        (
                            self.margin(&part.sum, part.members.len(), &p.sum, p.members.len()),
                            i,
                        )
                    })
                    .filter(|(m, _)| *m >= 0.0)
                    .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
                let Some((_, i)) = best else { break };
                let other = std::mem::replace(
                    &mut parts[i],
                    Group {
                        id: None,
                        sum: Vec::new(),
                        members: Vec::new(),
                        photos: HashSet::new(),
                    },
                );
                merge_into(&mut part, other);
            }
            parts.push(part);
        }
        parts.retain(|p| !p.members.is_empty());
        // The largest part keeps the id (ties: the part holding the oldest face).
        let keeper = parts
            .iter()
            .enumerate()
            .max_by(|a, b| {
                a.1.members
                    .len()
                    .cmp(&b.1.members.len())
                    .then(b.1.members.iter().min().cmp(&a.1.members.iter().min()))
            })
            .map(|(i, _)| i);
        for (i, mut part) in parts.into_iter().enumerate() {
            part.id = (Some(i) == keeper).then_some(person);
            let g = self.add_group(part);
            if Some(i) == keeper {
                self.touched.insert(person, g);
            }
        }
        self.touched.entry(person).or_insert(usize::MAX);
    }

    /// `link - need` for two groups of `a` and `b` faces with these sums.
    fn margin(&self, sum_a: &[f32], a: usize, sum_b: &[f32], b: usize) -> f32 {
        let link = dot(sum_a, sum_b) / (a * b) as f32;
        link - self.policy.group_link_needed(self.scale, a, b)
    }

    /// Makes `member` a group of its own, then lets it absorb what it links to best while
    /// anything clears the bar.
    fn absorb_from(&mut self, member: Member) {
        let g = self.add_group(self.single(member, None));
        while let Some(other) = self.best_other(g) {
            let other = match other {
                Other::Planned(o) => o,
                Other::Base(person) => self.touch(person),
                Other::Lone(slot) => self.add_group(self.single(Member::Slot(slot), None)),
            };
            let taken = std::mem::replace(
                &mut self.groups[other],
                Group {
                    id: None,
                    sum: Vec::new(),
                    members: Vec::new(),
                    photos: HashSet::new(),
                },
            );
            for &m in &taken.members {
                self.assigned.insert(m, g);
            }
            merge_into(&mut self.groups[g], taken);
        }
    }

    /// A base person copied into the plan's groups.
    fn touch(&mut self, person: u128) -> usize {
        if let Some(&g) = self.touched.get(&person) {
            return g;
        }
        let base = &self.index.persons()[&person];
        let group = Group {
            id: Some(person),
            sum: base.sum.clone(),
            members: base.members.iter().map(|&s| Member::Slot(s)).collect(),
            photos: base
                .members
                .iter()
                .map(|&s| self.index.photo_name(s).to_owned())
                .collect(),
        };
        let g = self.add_group(group);
        self.touched.insert(person, g);
        g
    }

    /// The group `g` should absorb next: the best margin at or above zero among groups that
    /// share no photo with it.
    fn best_other(&self, g: usize) -> Option<Other> {
        let group = &self.groups[g];
        let n = group.members.len();
        let mut scored: Vec<(f32, Other)> = Vec::new();
        for (&person, base) in self.index.persons() {
            if self.touched.contains_key(&person) {
                continue;
            }
            let m = self.margin(&group.sum, n, &base.sum, base.members.len());
            if m >= 0.0 {
                scored.push((m, Other::Base(person)));
            }
        }
        for slot in self.index.live_slots() {
            if self.index.slot(slot).person.is_some()
                || self.hidden.contains(&slot)
                || self.assigned.contains_key(&Member::Slot(slot))
            {
                continue;
            }
            let m = self.margin(&group.sum, n, self.index.vector(slot), 1);
            if m >= 0.0 {
                scored.push((m, Other::Lone(slot)));
            }
        }
        for (o, other) in self.groups.iter().enumerate() {
            if o == g || other.members.is_empty() {
                continue;
            }
            let m = self.margin(&group.sum, n, &other.sum, other.members.len());
            if m >= 0.0 {
                scored.push((m, Other::Planned(o)));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .map(|(_, o)| o)
            .find(|o| self.photos_disjoint(&group.photos, *o))
    }

    fn photos_disjoint(&self, photos: &HashSet<String>, other: Other) -> bool {
        match other {
            Other::Base(person) => self.index.persons()[&person]
                .members
                .iter()
                .all(|&s| !photos.contains(self.index.photo_name(s))),
            Other::Lone(slot) => !photos.contains(self.index.photo_name(slot)),
            Other::Planned(o) => photos.is_disjoint(&self.groups[o].photos),
        }
    }

    fn finish(self) -> Plan {
        let final_ids: Vec<Option<u128>> = self
            .groups
            .iter()
            .map(|g| match g.members.len() {
                0 | 1 => None,
                _ => Some(g.id.unwrap_or_else(|| PersonId::new().as_uuid().as_u128())),
            })
            .collect();
        let mut plan = Plan {
            added: vec![None; self.new_faces.len()],
            moved: Vec::new(),
        };
        let mut moved: Vec<(Slot, Option<u128>)> = Vec::new();
        for (&member, &g) in &self.assigned {
            let person = final_ids[g];
            match member {
                Member::New(i) => plan.added[i] = person,
                Member::Slot(s) => {
                    if self.index.slot(s).person != person {
                        moved.push((s, person));
                    }
                }
            }
        }
        moved.sort_unstable();
        plan.moved = moved;
        plan
    }
}

fn merge_into(into: &mut Group, from: Group) {
    add_into(&mut into.sum, &from.sum);
    into.members.extend(from.members);
    into.photos.extend(from.photos);
    into.id = match (into.id, from.id) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::index::tests::{Rng, face};
    use facepass_domain::people::ImpostorTail;

    fn policy() -> PeoplePolicy {
        PeoplePolicy {
            tail: ImpostorTail {
                operating_cosine: 0.42,
                false_match_rate: 9.6e-5,
                cosine_per_decade: 0.066,
            },
            stranger_budget: 0.05,
            join_cosine: 0.40,
            merge_cosine: 0.45,
            floor_cosine: 0.30,
        }
    }

    /// A unit vector at cosine `c` to `base` (mixed with noise orthogonalised against it).
    fn near(base: &[f32], c: f32, rng: &mut Rng) -> Vec<f32> {
        let noise = rng.unit(base.len());
        let along: f32 = noise.iter().zip(base).map(|(x, y)| x * y).sum();
        let mut ortho: Vec<f32> = noise.iter().zip(base).map(|(n, b)| n - along * b).collect();
        let norm = ortho.iter().map(|x| x * x).sum::<f32>().sqrt();
        ortho.iter_mut().for_each(|x| *x /= norm);
        let s = (1.0 - c * c).sqrt();
        base.iter()
            .zip(&ortho)
            .map(|(b, o)| c * b + s * o)
            .collect()
    }

    /// Applies a plan the way the store does after its commit.
    fn apply(index: &mut SessionIndex, photo: &str, first_id: u128, new: &[Vec<f32>], plan: &Plan) {
        for &(slot, person) in &plan.moved {
            index.set_person(slot, person);
        }
        let faces = new
            .iter()
            .zip(&plan.added)
            .enumerate()
            .map(|(i, (v, p))| face(first_id + i as u128, *p, v.clone()))
            .collect();
        index.set_photo(photo, faces);
    }

    fn add_photo(index: &mut SessionIndex, photo: &str, id: u128, vectors: Vec<Vec<f32>>) -> Plan {
        let new: Vec<NewFace> = vectors
            .iter()
            .map(|v| NewFace { photo, vector: v })
            .collect();
        let plan = plan(index, &policy(), &[], &[], &new);
        apply(index, photo, id, &vectors, &plan);
        plan
    }

    fn person_of(index: &SessionIndex, id: u128) -> Option<u128> {
        index
            .live_slots()
            .find(|&s| index.slot(s).face_id == id)
            .and_then(|s| index.slot(s).person)
    }

    #[test]
    fn faces_of_one_person_group_and_a_stranger_stays_alone() {
        let mut rng = Rng(11);
        let dim = 64;
        let mut index = SessionIndex::new(1, dim);
        let guest = rng.unit(dim);
        for i in 0..5u128 {
            add_photo(
                &mut index,
                &format!("g{i}"),
                i,
                vec![near(&guest, 0.75, &mut rng)],
            );
        }
        add_photo(&mut index, "s", 99, vec![rng.unit(dim)]);

        let person = person_of(&index, 0).expect("the guest is a person");
        for i in 1..5 {
            assert_eq!(person_of(&index, i), Some(person));
        }
        assert_eq!(person_of(&index, 99), None);
        assert_eq!(index.persons().len(), 1);
    }

    #[test]
    fn faces_of_one_photo_are_never_one_person() {
        let mut rng = Rng(12);
        let dim = 32;
        let mut index = SessionIndex::new(1, dim);
        let twin = rng.unit(dim);
        // Two identical faces in one photo (a mirror, a poster): different people.
        let plan = add_photo(&mut index, "p", 1, vec![twin.clone(), twin.clone()]);
        assert_eq!(plan.added, vec![None, None]);
        // A third photo of them joins one of the two, not both.
        add_photo(&mut index, "q", 10, vec![twin.clone()]);
        let persons: Vec<_> = index.persons().values().collect();
        assert_eq!(persons.len(), 1);
        assert_eq!(persons[0].members.len(), 2);
    }

    #[test]
    fn two_persons_that_come_to_link_merge_and_the_older_id_stays() {
        let mut rng = Rng(13);
        let dim = 64;
        let mut index = SessionIndex::new(1, dim);
        let xa = rng.unit(dim);
        let xb = near(&xa, 0.35, &mut rng);
        // Two persons whose link (0.35) is under what two pairs need (0.42 in a small session).
        index.set_photo("a1", vec![face(1, Some(100), xa.clone())]);
        index.set_photo("a2", vec![face(2, Some(100), xa.clone())]);
        index.set_photo("b1", vec![face(3, Some(200), xb.clone())]);
        index.set_photo("b2", vec![face(4, Some(200), xb.clone())]);
        let between: Vec<f32> = {
            let m: Vec<f32> = xa.iter().zip(&xb).map(|(a, b)| a + b).collect();
            let n = m.iter().map(|v| v * v).sum::<f32>().sqrt();
            m.into_iter().map(|v| v / n).collect()
        };

        // A face between them joins one, and the two then link: (2 * 2 * 0.35 + 2 * 0.82) / 6.
        let plan = add_photo(&mut index, "m", 5, vec![between]);

        assert_eq!(plan.added, vec![Some(100)]);
        for id in 1..=5 {
            assert_eq!(person_of(&index, id), Some(100), "face {id}");
        }
        assert_eq!(index.persons().len(), 1);
    }

    #[test]
    fn removing_a_bridging_face_splits_what_no_longer_links_and_the_larger_part_keeps_the_id() {
        let mut rng = Rng(14);
        let dim = 64;
        let mut index = SessionIndex::new(1, dim);
        let x = rng.unit(dim);
        let y = near(&x, 0.2, &mut rng);
        let mid: Vec<f32> = {
            let m: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
            let n = m.iter().map(|v| v * v).sum::<f32>().sqrt();
            m.into_iter().map(|v| v / n).collect()
        };
        // Built by hand: one person of x, x', the bridge and y (as grouping in another order
        // could have made it).
        let p = 500u128;
        index.set_photo("x1", vec![face(1, Some(p), x.clone())]);
        index.set_photo("x2", vec![face(2, Some(p), near(&x, 0.95, &mut rng))]);
        index.set_photo("bridge", vec![face(3, Some(p), mid)]);
        index.set_photo("y1", vec![face(4, Some(p), y)]);
        let bridge = index.photo("bridge")[0];

        let plan = plan(&index, &policy(), &[bridge], &[], &[]);
        for &(slot, person) in &plan.moved {
            index.set_person(slot, person);
        }
        index.set_photo("bridge", Vec::new());

        assert_eq!(person_of(&index, 1), Some(p));
        assert_eq!(person_of(&index, 2), Some(p));
        assert_eq!(person_of(&index, 4), None, "y no longer links: a lone face");
    }

    #[test]
    fn pending_faces_are_grouped_in_order_as_if_indexed_anew() {
        let mut rng = Rng(15);
        let dim = 64;
        let mut index = SessionIndex::new(1, dim);
        let guest = rng.unit(dim);
        for i in 0..4u128 {
            index.set_photo(
                &format!("g{i}"),
                vec![face(i, None, near(&guest, 0.8, &mut rng))],
            );
        }
        index.set_photo("s", vec![face(9, None, rng.unit(dim))]);
        let pending: Vec<Slot> = index.live_slots().collect();

        let plan = plan(&index, &policy(), &[], &pending, &[]);

        // The guest's four faces become one person; the stranger stays a lone face.
        assert_eq!(plan.moved.len(), 4, "{plan:?}");
        let persons: HashSet<Option<u128>> = plan.moved.iter().map(|(_, p)| *p).collect();
        assert_eq!(persons.len(), 1);
        assert!(!persons.contains(&None));
    }
}
