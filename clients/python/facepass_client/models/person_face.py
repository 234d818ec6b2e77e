from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.bounding_box import BoundingBox


T = TypeVar("T", bound="PersonFace")


@_attrs_define
class PersonFace:
    """A face of a person, with its photo.

    Attributes:
        photo_id (str):
        face_id (str):
        bbox (BoundingBox): A face box in pixels of the original, orientation-corrected image.
    """

    photo_id: str
    face_id: str
    bbox: BoundingBox
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        face_id = self.face_id

        bbox = self.bbox.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "face_id": face_id,
                "bbox": bbox,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bounding_box import BoundingBox  # noqa: PLC0415

        d = dict(src_dict)
        photo_id = d.pop("photo_id")

        face_id = d.pop("face_id")

        bbox = BoundingBox.from_dict(d.pop("bbox"))

        person_face = cls(
            photo_id=photo_id,
            face_id=face_id,
            bbox=bbox,
        )

        person_face.additional_properties = d
        return person_face

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
