from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.person_face import PersonFace


T = TypeVar("T", bound="Person")


@_attrs_define
class Person:
    """One person of a session, with its cover (the person's most confident face).

    Attributes:
        person_id (str): Stable while the person exists; when two persons merge, the older id stays.
        photo_count (int):
        face_count (int):
        cover (PersonFace): A face of a person, with its photo.
    """

    person_id: str
    photo_count: int
    face_count: int
    cover: PersonFace
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        person_id = self.person_id

        photo_count = self.photo_count

        face_count = self.face_count

        cover = self.cover.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "person_id": person_id,
                "photo_count": photo_count,
                "face_count": face_count,
                "cover": cover,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.person_face import PersonFace  # noqa: PLC0415

        d = dict(src_dict)
        person_id = d.pop("person_id")

        photo_count = d.pop("photo_count")

        face_count = d.pop("face_count")

        cover = PersonFace.from_dict(d.pop("cover"))

        person = cls(
            person_id=person_id,
            photo_count=photo_count,
            face_count=face_count,
            cover=cover,
        )

        person.additional_properties = d
        return person

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
