from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="IndexRequest")


@_attrs_define
class IndexRequest:
    """
    Attributes:
        photo_id (str): The platform's photo id: 1-128 characters of `[A-Za-z0-9_.:-]`, unique in the session.
        session_id (str): The session (event) the photo belongs to; same alphabet.
        s3_key (str): Object key of the photo in the configured bucket (1-1024 bytes, no `..` segment, no
            leading `/`).
        force (bool | Unset): Recompute even if the photo is already indexed (its faces are replaced atomically).
            Default: False.
        expires_at (datetime.datetime | Unset): When FacePass deletes the whole session (RFC 3339), as `PUT
            /index/{session_id}/expiry`
            sets it; absent: unchanged (a new session gets `retention.default_days`).
    """

    photo_id: str
    session_id: str
    s3_key: str
    force: bool | Unset = False
    expires_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        session_id = self.session_id

        s3_key = self.s3_key

        force = self.force

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "session_id": session_id,
                "s3_key": s3_key,
            }
        )
        if force is not UNSET:
            field_dict["force"] = force
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        photo_id = d.pop("photo_id")

        session_id = d.pop("session_id")

        s3_key = d.pop("s3_key")

        force = d.pop("force", UNSET)

        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        index_request = cls(
            photo_id=photo_id,
            session_id=session_id,
            s3_key=s3_key,
            force=force,
            expires_at=expires_at,
        )

        index_request.additional_properties = d
        return index_request

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
