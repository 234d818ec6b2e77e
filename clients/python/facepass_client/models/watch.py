from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Watch")


@_attrs_define
class Watch:
    """
    Attributes:
        watch_id (str):
        session_id (str):
        guest_ref (str):
        threshold (float):
        created_at (datetime.datetime):
        expires_at (datetime.datetime):
    """

    watch_id: str
    session_id: str
    guest_ref: str
    threshold: float
    created_at: datetime.datetime
    expires_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        watch_id = self.watch_id

        session_id = self.session_id

        guest_ref = self.guest_ref

        threshold = self.threshold

        created_at = self.created_at.isoformat()

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "watch_id": watch_id,
                "session_id": session_id,
                "guest_ref": guest_ref,
                "threshold": threshold,
                "created_at": created_at,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        watch_id = d.pop("watch_id")

        session_id = d.pop("session_id")

        guest_ref = d.pop("guest_ref")

        threshold = d.pop("threshold")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        watch = cls(
            watch_id=watch_id,
            session_id=session_id,
            guest_ref=guest_ref,
            threshold=threshold,
            created_at=created_at,
            expires_at=expires_at,
        )

        watch.additional_properties = d
        return watch

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
