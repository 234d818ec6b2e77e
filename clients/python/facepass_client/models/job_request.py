from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_photo import BatchPhoto


T = TypeVar("T", bound="JobRequest")


@_attrs_define
class JobRequest:
    """
    Attributes:
        session_id (str):
        photos (list[BatchPhoto]): 1 to 100,000 photos (`jobs.max_photos`); a repeated `photo_id` is indexed once.
        force (bool | Unset): Recompute photos that are already indexed. Default: False.
        expires_at (datetime.datetime | Unset): When FacePass deletes the whole session (RFC 3339), set when the job is
            accepted;
            absent: unchanged (a new session gets `retention.default_days`).
        callback_url (str | Unset): An `https://` (or `http://`) URL told when the job is done; absent: `webhooks.url`.
    """

    session_id: str
    photos: list[BatchPhoto]
    force: bool | Unset = False
    expires_at: datetime.datetime | Unset = UNSET
    callback_url: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        photos = []
        for photos_item_data in self.photos:
            photos_item = photos_item_data.to_dict()
            photos.append(photos_item)

        force = self.force

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        callback_url = self.callback_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "photos": photos,
            }
        )
        if force is not UNSET:
            field_dict["force"] = force
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_photo import BatchPhoto  # noqa: PLC0415

        d = dict(src_dict)
        session_id = d.pop("session_id")

        photos = []
        _photos = d.pop("photos")
        for photos_item_data in _photos:
            photos_item = BatchPhoto.from_dict(photos_item_data)

            photos.append(photos_item)

        force = d.pop("force", UNSET)

        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        callback_url = d.pop("callback_url", UNSET)

        job_request = cls(
            session_id=session_id,
            photos=photos,
            force=force,
            expires_at=expires_at,
            callback_url=callback_url,
        )

        job_request.additional_properties = d
        return job_request

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
