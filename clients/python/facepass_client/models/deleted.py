from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Deleted")


@_attrs_define
class Deleted:
    """Counts removed by a delete.

    Attributes:
        session_id (str):
        deleted_photos (int):
        deleted_faces (int):
        photo_id (str | Unset): Set when one photo was deleted.
    """

    session_id: str
    deleted_photos: int
    deleted_faces: int
    photo_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        deleted_photos = self.deleted_photos

        deleted_faces = self.deleted_faces

        photo_id = self.photo_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "deleted_photos": deleted_photos,
                "deleted_faces": deleted_faces,
            }
        )
        if photo_id is not UNSET:
            field_dict["photo_id"] = photo_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id")

        deleted_photos = d.pop("deleted_photos")

        deleted_faces = d.pop("deleted_faces")

        photo_id = d.pop("photo_id", UNSET)

        deleted = cls(
            session_id=session_id,
            deleted_photos=deleted_photos,
            deleted_faces=deleted_faces,
            photo_id=photo_id,
        )

        deleted.additional_properties = d
        return deleted

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
