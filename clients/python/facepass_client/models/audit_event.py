from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.audit_action import AuditAction
from ..types import UNSET, Unset

T = TypeVar("T", bound="AuditEvent")


@_attrs_define
class AuditEvent:
    """
    Attributes:
        at (datetime.datetime):
        action (AuditAction): What was deleted, and how.
        session_id (str):
        deleted_photos (int):
        deleted_faces (int):
        photo_id (str | Unset): The photo of a `delete_photo`; absent otherwise.
        key_id (str | Unset): Which configured API key acted (`k-` and 12 hex digits of its SHA-256, never the
            key); absent for `expire`.
    """

    at: datetime.datetime
    action: AuditAction
    session_id: str
    deleted_photos: int
    deleted_faces: int
    photo_id: str | Unset = UNSET
    key_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        action = self.action.value

        session_id = self.session_id

        deleted_photos = self.deleted_photos

        deleted_faces = self.deleted_faces

        photo_id = self.photo_id

        key_id = self.key_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "action": action,
                "session_id": session_id,
                "deleted_photos": deleted_photos,
                "deleted_faces": deleted_faces,
            }
        )
        if photo_id is not UNSET:
            field_dict["photo_id"] = photo_id
        if key_id is not UNSET:
            field_dict["key_id"] = key_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        action = AuditAction(d.pop("action"))

        session_id = d.pop("session_id")

        deleted_photos = d.pop("deleted_photos")

        deleted_faces = d.pop("deleted_faces")

        photo_id = d.pop("photo_id", UNSET)

        key_id = d.pop("key_id", UNSET)

        audit_event = cls(
            at=at,
            action=action,
            session_id=session_id,
            deleted_photos=deleted_photos,
            deleted_faces=deleted_faces,
            photo_id=photo_id,
            key_id=key_id,
        )

        audit_event.additional_properties = d
        return audit_event

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
