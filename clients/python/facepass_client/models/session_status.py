from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SessionStatus")


@_attrs_define
class SessionStatus:
    """
    Attributes:
        session_id (str):
        indexed (bool): True once at least one photo of the session is indexed.
        photos_indexed (int):
        faces_indexed (int):
        photos_without_faces (int):
        small_faces (int): Faces indexed that are shorter than the recognition model's reliable size (48 px for
            the default model): found, but a guest's selfie may not match them.
        watches_live (int): Guest watches of the session that are live (see `POST /index/{session_id}/watches`).
        last_indexed_at (datetime.datetime | Unset): When a photo of the session was last indexed (UTC); absent when
            none is.
        model (str | Unset): The recognition model of the session's vectors; absent when nothing is indexed.
        expires_at (datetime.datetime | Unset): When the session is deleted by the retention purge (`PUT .../expiry`,
            `retention.default_days`); absent: kept until deleted.
    """

    session_id: str
    indexed: bool
    photos_indexed: int
    faces_indexed: int
    photos_without_faces: int
    small_faces: int
    watches_live: int
    last_indexed_at: datetime.datetime | Unset = UNSET
    model: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        indexed = self.indexed

        photos_indexed = self.photos_indexed

        faces_indexed = self.faces_indexed

        photos_without_faces = self.photos_without_faces

        small_faces = self.small_faces

        watches_live = self.watches_live

        last_indexed_at: str | Unset = UNSET
        if not isinstance(self.last_indexed_at, Unset):
            last_indexed_at = self.last_indexed_at.isoformat()

        model = self.model

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "indexed": indexed,
                "photos_indexed": photos_indexed,
                "faces_indexed": faces_indexed,
                "photos_without_faces": photos_without_faces,
                "small_faces": small_faces,
                "watches_live": watches_live,
            }
        )
        if last_indexed_at is not UNSET:
            field_dict["last_indexed_at"] = last_indexed_at
        if model is not UNSET:
            field_dict["model"] = model
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id")

        indexed = d.pop("indexed")

        photos_indexed = d.pop("photos_indexed")

        faces_indexed = d.pop("faces_indexed")

        photos_without_faces = d.pop("photos_without_faces")

        small_faces = d.pop("small_faces")

        watches_live = d.pop("watches_live")

        _last_indexed_at = d.pop("last_indexed_at", UNSET)
        last_indexed_at: datetime.datetime | Unset
        if isinstance(_last_indexed_at, Unset):
            last_indexed_at = UNSET
        else:
            last_indexed_at = datetime.datetime.fromisoformat(_last_indexed_at)

        model = d.pop("model", UNSET)

        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        session_status = cls(
            session_id=session_id,
            indexed=indexed,
            photos_indexed=photos_indexed,
            faces_indexed=faces_indexed,
            photos_without_faces=photos_without_faces,
            small_faces=small_faces,
            watches_live=watches_live,
            last_indexed_at=last_indexed_at,
            model=model,
            expires_at=expires_at,
        )

        session_status.additional_properties = d
        return session_status

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
