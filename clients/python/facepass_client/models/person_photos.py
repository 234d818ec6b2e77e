from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.person_face import PersonFace


T = TypeVar("T", bound="PersonPhotos")


@_attrs_define
class PersonPhotos:
    """
    Attributes:
        session_id (str):
        person_id (str):
        photos (list[PersonFace]): The person's faces with their photos, best first (highest detector confidence).
        next_cursor (str | Unset): Pass as `cursor` for the next page; absent on the last page.
    """

    session_id: str
    person_id: str
    photos: list[PersonFace]
    next_cursor: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        person_id = self.person_id

        photos = []
        for photos_item_data in self.photos:
            photos_item = photos_item_data.to_dict()
            photos.append(photos_item)

        next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "person_id": person_id,
                "photos": photos,
            }
        )
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.person_face import PersonFace  # noqa: PLC0415

        d = dict(src_dict)
        session_id = d.pop("session_id")

        person_id = d.pop("person_id")

        photos = []
        _photos = d.pop("photos")
        for photos_item_data in _photos:
            photos_item = PersonFace.from_dict(photos_item_data)

            photos.append(photos_item)

        next_cursor = d.pop("next_cursor", UNSET)

        person_photos = cls(
            session_id=session_id,
            person_id=person_id,
            photos=photos,
            next_cursor=next_cursor,
        )

        person_photos.additional_properties = d
        return person_photos

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
