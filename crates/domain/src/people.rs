//! People of a session: the rules by which faces are grouped into persons and by which a
//! selfie is matched against a session that knows its people.
//!
//! Every face of a session is one more chance of a false match: at a fixed cosine the
//! strangers in a guest's results grow with the session. Two things a single-pair threshold
//! ignores fix that:
//!
//! - **The session's size.** A face matches a single face at the cosine where a session of
//!   `n` faces is expected to show `stranger_budget` strangers per search, read off the
//!   recognizer's impostor tail ([`ImpostorTail`]): `t(n) = op + c * log10(n * FAR(op) /
//!   budget)`, never below the operating cosine `op` (small sessions keep today's threshold).
//! - **The session's people.** A guest is in many photos; their faces form a group, and a
//!   stranger who scores high against the selfie is usually much closer to their own
//!   person's faces. Two groups of `a` and `b` faces (a selfie is a group of one) are the same
//!   person when the mean cosine over their `a * b` pairs reaches
//!   `need(a, b) = base + (t(n) - base) / sqrt(a * b)`: a mean over many pairs is surer than
//!   one pair, so a face joins a large person below `t(n)`, down to `base`. `base` is
//!   [`PeoplePolicy::join_cosine`] when one side is a single face (or a guest's selfies) and
//!   [`PeoplePolicy::merge_cosine`] when both are groups of faces, so that two large groups
//!   of look-alikes do not merge. Each person is one more chance of a look-alike, as each
//!   face is: `base` rises with the number of persons `p` as `t` does with faces,
//!   `base(p) = base + c * log10(p * FAR(op) / budget)`, never below `base`.
//!
//! Faces of one photo are different people and are never grouped. The grouping itself
//! (which person each face belongs to, kept as photos come and go) is the store's; this module
//! decides with the numbers it reports ([`SessionScores`]), so that search, erasure and
//! grouping use one rule.

use crate::embedding::Cosine;
use crate::ids::{PersonId, PhotoId};
use crate::ports::StoredFace;

/// The recognizer's impostor tail near its operating point, measured on labelled faces
/// (`facepass-eval scale --tail`): the share of different-person pairs at or above the
/// operating cosine, and how much cosine divides that share by ten.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpostorTail {
    pub operating_cosine: f32,
    /// Different-person pairs at or above `operating_cosine`, as a share of all such pairs.
    pub false_match_rate: f64,
    /// Cosine added to the threshold for each tenfold fewer false matches.
    pub cosine_per_decade: f32,
}

/// How persons form and how a selfie matches them (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeoplePolicy {
    pub tail: ImpostorTail,
    /// Strangers per search the face threshold allows at the session's size.
    pub stranger_budget: f64,
    /// The mean cosine a single face (or a guest's selfies) needs to join a large person.
    pub join_cosine: f32,
    /// The mean cosine two large groups of faces need to become one person.
    pub merge_cosine: f32,
    /// A face returned on its person's evidence needs at least this cosine to the selfie
    /// itself: a face the grouping got wrong is not returned with the person.
    pub floor_cosine: f32,
}

impl PeoplePolicy {
    /// The cosine one face needs against one face in a session of `faces` faces.
    pub fn face_cosine(&self, faces: u64) -> f32 {
        self.tail.operating_cosine + self.shift(faces)
    }

    /// How far `units` comparisons (faces, or persons) raise a threshold: one
    /// `cosine_per_decade` for each tenfold more false matches than the budget allows.
    fn shift(&self, units: u64) -> f32 {
        let tail = &self.tail;
        let expected = units as f64 * tail.false_match_rate / self.stranger_budget;
        if expected > 1.0 {
            tail.cosine_per_decade * expected.log10() as f32
        } else {
            0.0
        }
    }

    /// The mean cosine over the pairs of two groups of `a` and `b` faces (a single face or a
    /// guest's selfies: `a = 1` with [`LinkBase::Join`]) that makes them one person, in a
    /// session of `scale.faces` faces and `scale.persons` persons.
    pub fn link_needed(&self, scale: Scale, a: usize, b: usize, base: LinkBase) -> f32 {
        let pairs = (a.max(1) * b.max(1)) as f32;
        let top = self.face_cosine(scale.faces);
        let base = match base {
            LinkBase::Join => self.join_cosine,
            LinkBase::Merge => self.merge_cosine,
        } + self.shift(scale.persons);
        let base = base.min(top);
        base + (top - base) / pairs.sqrt()
    }

    /// [`Self::link_needed`] for two groups of faces found in photos: `Join` when one side is
    /// a single face.
    pub fn group_link_needed(&self, scale: Scale, a: usize, b: usize) -> f32 {
        let base = if a.min(b) <= 1 {
            LinkBase::Join
        } else {
            LinkBase::Merge
        };
        self.link_needed(scale, a, b, base)
    }
}

/// How large a session is, for the rules: its faces, and its persons (two faces or more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scale {
    pub faces: u64,
    pub persons: u64,
}

/// Which floor a link falls to for large groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkBase {
    /// A single face, or a guest's selfies, joining a group.
    Join,
    /// Two groups of faces merging.
    Merge,
}

/// A face of the session that scored at least the floor asked for against some query.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredFace {
    pub photo_id: PhotoId,
    pub face: StoredFace,
    /// The person the face belongs to; `None` while it is grouped with no other face.
    pub person: Option<PersonId>,
    /// Cosine to each query, in query order.
    pub cosines: Vec<f32>,
}

impl ScoredFace {
    pub fn best_cosine(&self) -> f32 {
        self.cosines
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max)
    }
}

/// A person with at least one face among the candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPerson {
    pub person: PersonId,
    /// Faces of the person in the session (all of them, not only the candidates).
    pub faces: u64,
    /// Mean cosine of each query to all the person's faces, in query order.
    pub links: Vec<f32>,
}

/// What a store reports of a session for some queries: every face at or above a floor, the
/// persons of those faces, and how large the session is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionScores {
    /// Faces in the session.
    pub faces: u64,
    /// Persons in the session (groups of two faces or more).
    pub people: u64,
    pub candidates: Vec<ScoredFace>,
    pub persons: Vec<ScoredPerson>,
}

/// On what a match was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Evidence {
    /// The selfie matched this face.
    Face,
    /// The selfie matched the person this face belongs to.
    Person,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Face => "face",
            Evidence::Person => "person",
        }
    }
}

/// A candidate the rules accept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accepted {
    /// Index into [`SessionScores::candidates`].
    pub candidate: usize,
    pub evidence: Evidence,
    /// How far the evidence clears what the session's size needs, in cosine: the match's
    /// similarity is the calibration of `operating cosine + score`.
    pub score: f32,
}

/// The search's rules for one session: a face is accepted when its own cosine, or its
/// person's link, clears what the session needs by at least `margin` (the caller's
/// threshold as a cosine offset from the operating point; 0 at the default threshold).
#[derive(Debug, Clone, Copy)]
pub struct Matcher<'a> {
    pub policy: &'a PeoplePolicy,
    pub margin: f32,
}

impl Matcher<'_> {
    /// The lowest cosine a face can be accepted at: the floor a store scans from.
    pub fn scan_floor(&self) -> Cosine {
        Cosine::saturating(self.policy.floor_cosine + self.margin)
    }

    /// Every accepted candidate of `scores` for `queries` selfies of one guest, each with its
    /// strongest evidence. Each selfie counts alone, and two or more count together as one
    /// group (the mean over their pairs): several poor selfies add up.
    pub fn accept(&self, scores: &SessionScores, queries: usize) -> Vec<Accepted> {
        let policy = self.policy;
        let n = Scale {
            faces: scores.faces,
            persons: scores.people,
        };
        let face_need = policy.face_cosine(n.faces);
        let group_face_need = policy.link_needed(n, queries, 1, LinkBase::Join);
        let person_score = |person: &ScoredPerson| {
            let size = person.faces as usize;
            let alone = person
                .links
                .iter()
                .copied()
                .fold(f32::NEG_INFINITY, f32::max)
                - policy.link_needed(n, 1, size, LinkBase::Join);
            let together =
                mean(&person.links) - policy.link_needed(n, queries, size, LinkBase::Join);
            if queries > 1 {
                alone.max(together)
            } else {
                alone
            }
        };
        let persons: std::collections::HashMap<PersonId, f32> = scores
            .persons
            .iter()
            .filter(|p| p.faces >= 2)
            .map(|p| (p.person, person_score(p)))
            .collect();
        let floor = self.scan_floor().value();
        let mut accepted = Vec::new();
        for (i, face) in scores.candidates.iter().enumerate() {
            let best = face.best_cosine();
            let mut face_score = best - face_need;
            if queries > 1 {
                face_score = face_score.max(mean(&face.cosines) - group_face_need);
            }
            let person_score = face
                .person
                .and_then(|p| persons.get(&p).copied())
                .filter(|_| best >= floor);
            let (evidence, score) = match person_score {
                Some(p) if p > face_score => (Evidence::Person, p),
                _ => (Evidence::Face, face_score),
            };
            if score >= self.margin {
                accepted.push(Accepted {
                    candidate: i,
                    evidence,
                    score,
                });
            }
        }
        accepted
    }
}

fn mean(values: &[f32]) -> f32 {
    if values.is_empty() {
        return f32::NEG_INFINITY;
    }
    values.iter().sum::<f32>() / values.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::BoundingBox;
    use crate::ids::FaceId;

    /// The fixtures' recognizer as measured on LFW folds 1-5.
    pub(crate) fn policy() -> PeoplePolicy {
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

    fn candidate(photo: &str, person: Option<PersonId>, cosines: &[f32]) -> ScoredFace {
        ScoredFace {
            photo_id: PhotoId::parse(photo).unwrap(),
            face: StoredFace {
                face_id: FaceId::new(),
                bbox: BoundingBox {
                    x: 0.0,
                    y: 0.0,
                    width: 10.0,
                    height: 10.0,
                },
                det_score: 0.9,
            },
            person,
            cosines: cosines.to_vec(),
        }
    }

    #[test]
    fn small_sessions_keep_the_operating_cosine_and_large_ones_raise_it_by_the_tail() {
        let p = policy();
        assert_eq!(p.face_cosine(0), 0.42);
        assert_eq!(p.face_cosine(500), 0.42);
        // 5,000 faces at FAR 9.6e-5 expect 0.48 strangers: one decade over the budget of 0.05.
        let at_5k = p.face_cosine(5_000);
        assert!(
            (at_5k - (0.42 + 0.066 * (5_000.0 * 9.6e-5 / 0.05f64).log10() as f32)).abs() < 1e-6
        );
        assert!(p.face_cosine(50_000) - at_5k - 0.066 < 1e-5);
    }

    #[test]
    fn a_link_over_more_pairs_needs_less_down_to_its_base() {
        let p = policy();
        let n = Scale {
            faces: 7_500,
            persons: 100,
        };
        let top = p.face_cosine(n.faces);
        assert_eq!(p.group_link_needed(n, 1, 1), top);
        assert!((p.group_link_needed(n, 1, 4) - (0.40 + (top - 0.40) / 2.0)).abs() < 1e-6);
        assert!(p.group_link_needed(n, 1, 10_000) - 0.40 < 0.001);
        // Two groups merge on the stricter base.
        assert!(p.group_link_needed(n, 100, 100) > 0.45);
        assert!(p.group_link_needed(n, 2, 2) > p.group_link_needed(n, 1, 4));
        // More persons: more look-alikes, a higher base (5,000 persons: one decade over).
        let crowded = Scale {
            persons: 5_000,
            ..n
        };
        let base = p.group_link_needed(crowded, 1, 1_000_000);
        let want = 0.40 + 0.066 * (5_000.0 * 9.6e-5 / 0.05f64).log10() as f32;
        assert!((base - want).abs() < 0.001, "{base} vs {want}");
    }

    #[test]
    fn a_face_matches_on_its_own_cosine_or_on_its_persons_link() {
        let p = policy();
        let guest = PersonId::new();
        let stranger = PersonId::new();
        let scores = SessionScores {
            faces: 7_500,
            people: 500,
            candidates: vec![
                // Strong on its own.
                candidate("a", None, &[0.60]),
                // Weak alone, but its person (the guest) links to the selfie.
                candidate("b", Some(guest), &[0.36]),
                // Under the floor: not returned with its person.
                candidate("c", Some(guest), &[0.20]),
                // A stranger scoring 0.45 whose person does not link.
                candidate("d", Some(stranger), &[0.45]),
                // A lone face at 0.45: under the size-aware threshold of 7,500 faces.
                candidate("e", None, &[0.45]),
            ],
            persons: vec![
                ScoredPerson {
                    person: guest,
                    faces: 6,
                    links: vec![0.47],
                },
                ScoredPerson {
                    person: stranger,
                    faces: 6,
                    links: vec![0.15],
                },
            ],
        };
        let matcher = Matcher {
            policy: &p,
            margin: 0.0,
        };

        let accepted = matcher.accept(&scores, 1);

        let got: Vec<(&str, Evidence)> = accepted
            .iter()
            .map(|a| (scores.candidates[a.candidate].photo_id.as_str(), a.evidence))
            .collect();
        assert_eq!(got, [("a", Evidence::Face), ("b", Evidence::Person)]);
        assert!(accepted.iter().all(|a| a.score >= 0.0));

        // A stricter threshold (a positive margin) drops the person's weaker evidence.
        let strict = Matcher {
            policy: &p,
            margin: 0.08,
        };
        let got: Vec<usize> = strict
            .accept(&scores, 1)
            .iter()
            .map(|a| a.candidate)
            .collect();
        assert_eq!(got, [0]);
    }

    #[test]
    fn several_selfies_count_together_when_none_is_enough_alone() {
        let p = policy();
        let scores = SessionScores {
            faces: 100,
            people: 0,
            candidates: vec![candidate("a", None, &[0.415, 0.418])],
            persons: Vec::new(),
        };
        let matcher = Matcher {
            policy: &p,
            margin: 0.0,
        };
        // Each alone is under 0.42; over two selfies the mean needs 0.40 + 0.02 / sqrt(2).
        let mut alone = scores.clone();
        alone.candidates[0].cosines.truncate(1);
        assert!(matcher.accept(&alone, 1).is_empty());
        let accepted = matcher.accept(&scores, 2);
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].evidence, Evidence::Face);
    }
}
