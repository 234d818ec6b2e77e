from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.evidence import Evidence
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.matched_face import MatchedFace


T = TypeVar("T", bound="WatchMatch")


@_attrs_define
class WatchMatch:
    """A photo matched for a watch after it was created.

    Attributes:
        photo_id (str):
        similarity (float): Calibrated similarity in [0, 1] of the evidence the match was decided on: 0.7 is the
            model's recommended operating point in a small session; in a large session the same
            cosine scores lower (the session's size raises what a match needs).
        confidence (float): Detector confidence of the matched face.
        cosine (float): Raw cosine between the selfie's and the matched face's embeddings (the best of
            several selfies).
        face (MatchedFace): The photo's best-matching face.
        evidence (Evidence): On what a match was returned.
        matched_at (datetime.datetime): When the photo was matched (indexed).
        person_id (str | Unset): The person the face belongs to (see `GET /index/{session_id}/people`); absent while
            the face is grouped with no other face.
    """

    photo_id: str
    similarity: float
    confidence: float
    cosine: float
    face: MatchedFace
    evidence: Evidence
    matched_at: datetime.datetime
    person_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        similarity = self.similarity

        confidence = self.confidence

        cosine = self.cosine

        face = self.face.to_dict()

        evidence = self.evidence.value

        matched_at = self.matched_at.isoformat()

        person_id = self.person_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "similarity": similarity,
                "confidence": confidence,
                "cosine": cosine,
                "face": face,
                "evidence": evidence,
                "matched_at": matched_at,
            }
        )
        if person_id is not UNSET:
            field_dict["person_id"] = person_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.matched_face import MatchedFace  # noqa: PLC0415

        d = dict(src_dict)
        photo_id = d.pop("photo_id")

        similarity = d.pop("similarity")

        confidence = d.pop("confidence")

        cosine = d.pop("cosine")

        face = MatchedFace.from_dict(d.pop("face"))

        evidence = Evidence(d.pop("evidence"))

        matched_at = datetime.datetime.fromisoformat(d.pop("matched_at"))

        person_id = d.pop("person_id", UNSET)

        watch_match = cls(
            photo_id=photo_id,
            similarity=similarity,
            confidence=confidence,
            cosine=cosine,
            face=face,
            evidence=evidence,
            matched_at=matched_at,
            person_id=person_id,
        )

        watch_match.additional_properties = d
        return watch_match

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
