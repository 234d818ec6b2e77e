from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ForgetReport")


@_attrs_define
class ForgetReport:
    """
    Attributes:
        session_id (str):
        deleted_faces (int): Faces of the guest deleted.
        photos_affected (int): Photos that lost a face; they stay indexed for the other people in them.
        watches_ended (int): The session's watches of the same guest, ended (audited as `watch_end`, reason
            `forgotten`).
    """

    session_id: str
    deleted_faces: int
    photos_affected: int
    watches_ended: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        deleted_faces = self.deleted_faces

        photos_affected = self.photos_affected

        watches_ended = self.watches_ended

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "deleted_faces": deleted_faces,
                "photos_affected": photos_affected,
                "watches_ended": watches_ended,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id")

        deleted_faces = d.pop("deleted_faces")

        photos_affected = d.pop("photos_affected")

        watches_ended = d.pop("watches_ended")

        forget_report = cls(
            session_id=session_id,
            deleted_faces=deleted_faces,
            photos_affected=photos_affected,
            watches_ended=watches_ended,
        )

        forget_report.additional_properties = d
        return forget_report

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
