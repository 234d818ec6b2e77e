from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.matched_face import MatchedFace


T = TypeVar("T", bound="PhotoMatch")


@_attrs_define
class PhotoMatch:
    """
    Attributes:
        photo_id (str):
        similarity (float): Calibrated similarity in [0, 1] (monotone in `cosine`, fixed per model; 0.7 is the
            model's recommended operating point).
        confidence (float): Detector confidence of the matched face.
        cosine (float): Raw cosine between the selfie's and the matched face's embeddings.
        face (MatchedFace): The photo's best-matching face.
    """

    photo_id: str
    similarity: float
    confidence: float
    cosine: float
    face: MatchedFace
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        similarity = self.similarity

        confidence = self.confidence

        cosine = self.cosine

        face = self.face.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "similarity": similarity,
                "confidence": confidence,
                "cosine": cosine,
                "face": face,
            }
        )

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

        photo_match = cls(
            photo_id=photo_id,
            similarity=similarity,
            confidence=confidence,
            cosine=cosine,
            face=face,
        )

        photo_match.additional_properties = d
        return photo_match

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
