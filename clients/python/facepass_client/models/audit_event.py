from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.audit_action import AuditAction
from ..models.watch_end_reason import WatchEndReason
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
        watch_id (str | Unset): The watch of a `watch_end`; absent otherwise.
        reason (WatchEndReason | Unset): Why a guest watch ended.
    """

    at: datetime.datetime
    action: AuditAction
    session_id: str
    deleted_photos: int
    deleted_faces: int
    photo_id: str | Unset = UNSET
    key_id: str | Unset = UNSET
    watch_id: str | Unset = UNSET
    reason: WatchEndReason | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        action = self.action.value

        session_id = self.session_id

        deleted_photos = self.deleted_photos

        deleted_faces = self.deleted_faces

        photo_id = self.photo_id

        key_id = self.key_id

        watch_id = self.watch_id

        reason: str | Unset = UNSET
        if not isinstance(self.reason, Unset):
            reason = self.reason.value

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
        if watch_id is not UNSET:
            field_dict["watch_id"] = watch_id
        if reason is not UNSET:
            field_dict["reason"] = reason

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

        watch_id = d.pop("watch_id", UNSET)

        _reason = d.pop("reason", UNSET)
        reason: WatchEndReason | Unset
        if isinstance(_reason, Unset):
            reason = UNSET
        else:
            reason = WatchEndReason(_reason)

        audit_event = cls(
            at=at,
            action=action,
            session_id=session_id,
            deleted_photos=deleted_photos,
            deleted_faces=deleted_faces,
            photo_id=photo_id,
            key_id=key_id,
            watch_id=watch_id,
            reason=reason,
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
